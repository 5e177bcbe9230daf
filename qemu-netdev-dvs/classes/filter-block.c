/* Port blocking as a filter class (contract in filter-class.h): while
 * enabled, no frame enters or leaves the port.  Stateless. */
#include "filter-class.h"

static void
block_filter (const void *config, void *state, enum dvs_filter_dir dir,
              struct rte_mbuf **pkts, uint16_t n, uint64_t *pass,
              uint64_t now, uint64_t hz)
{
  const struct dvs_block_config *c = config;

  if (c->enabled)
    *pass &= n >= 64 ? 0 : ~((UINT64_C (1) << n) - 1);
}

const struct dvs_filter_class dvs_filter_block = {
  .name = "block",
  .state_version = 0,
  .state_size = 0,
  .filter = block_filter,
};
