/* Port security (MAC-spoof guard) as a filter class (contract in
 * filter-class.h), with vDS semantics:
 *   from the guest: unless forged_transmits, a frame whose source MAC is not
 *     one of the allowed MACs is dropped;
 *   to the guest: unless mac_changes, a frame whose destination is a unicast
 *     MAC other than the allowed ones is dropped; broadcast and multicast
 *     always pass.
 * A frame too short to hold both addresses (12 bytes in its first segment)
 * cannot be checked and is dropped whenever a check applies.  Stateless: the
 * caller counts the drops. */
#include "filter-class.h"

#include <stdbool.h>
#include <string.h>
#include <rte_mbuf.h>

#define MAC_BYTES 6

/* A MAC as an integer, for cheap comparisons. */
static inline uint64_t
mac_key (const uint8_t *mac)
{
  uint64_t k = 0;

  memcpy (&k, mac, MAC_BYTES);
  return k;
}

static inline bool
mac_allowed (const uint64_t *allowed, unsigned n_allowed, uint64_t mac)
{
  for (unsigned j = 0; j < n_allowed; j++)
    if (allowed[j] == mac)
      return true;
  return false;
}

static void
security_filter (const void *config, void *state, enum dvs_filter_dir dir,
                 struct rte_mbuf **pkts, uint16_t n, uint64_t *pass,
                 uint64_t now, uint64_t hz)
{
  const struct dvs_security_config *c = config;
  bool from_guest = dir == DVS_DIR_FROM_GUEST;
  uint64_t allowed[DVS_SECURITY_MAX_MACS];
  unsigned n_allowed = c->n_macs < DVS_SECURITY_MAX_MACS ? c->n_macs : DVS_SECURITY_MAX_MACS;
  uint64_t todo = *pass;

  if (!c->enabled || (from_guest ? c->forged_transmits : c->mac_changes))
    return;
  for (unsigned j = 0; j < n_allowed; j++)
    allowed[j] = mac_key (c->macs[j]);
  if (n < 64)
    todo &= (UINT64_C (1) << n) - 1;

  while (todo)
    {
      unsigned i = (unsigned) __builtin_ctzll (todo);
      const struct rte_mbuf *m = pkts[i];
      const uint8_t *eth = rte_pktmbuf_mtod (m, const uint8_t *);
      bool ok;

      todo &= todo - 1;
      if (rte_pktmbuf_data_len (m) < 2 * MAC_BYTES)
        ok = false;
      else if (from_guest)
        ok = mac_allowed (allowed, n_allowed, mac_key (eth + MAC_BYTES));
      else
        ok = (eth[0] & 1) /* group address: broadcast or multicast */
             || mac_allowed (allowed, n_allowed, mac_key (eth));
      if (!ok)
        *pass &= ~(UINT64_C (1) << i);
    }
}

const struct dvs_filter_class dvs_filter_security = {
  .name = "port-security",
  .state_version = 0,
  .state_size = 0,
  .filter = security_filter,
};
