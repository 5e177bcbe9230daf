/* The L2 learning switch as a forwarding class (contract in fwd-class.h):
 * learn (source MAC, VLAN) → ingress port; unicast to the learned port;
 * flood broadcast, multicast and unknown unicast within the VLAN; never send
 * a frame back out of its ingress port. */
#include "fwd-class.h"
#include "mac-table.h"

#include <errno.h>
#include <stdlib.h>

struct l2_state {
  struct mac_table table;
  uint64_t changes[DVS_MAX_PORTS];   /* addresses learned or moved, per port */
  uint8_t inactive[DVS_MAX_PORTS];   /* port_set_active(false): learn its
                                      * addresses as MAC_ENTRY_INACTIVE */
};

static inline uint16_t
port_flags (const struct l2_state *s, uint16_t port)
{
  return port < DVS_MAX_PORTS && s->inactive[port] ? MAC_ENTRY_INACTIVE : 0;
}

static void *
l2_create (const struct dvs_fwd_params *params)
{
  struct l2_state *s = calloc (1, sizeof *s);

  if (s == NULL)
    return NULL;
  if (mac_table_init (&s->table, params->table_size ? params->table_size : 8192,
                      params->aging_seconds) < 0)
    {
      free (s);
      errno = ENOMEM;
      return NULL;
    }
  return s;
}

static void
l2_destroy (void *state)
{
  struct l2_state *s = state;

  if (s == NULL)
    return;
  mac_table_fini (&s->table);
  free (s);
}

static void
l2_classify (void *state, uint16_t in_port, const struct dvs_fwd_meta *meta,
             uint16_t n, uint32_t now, uint16_t *out)
{
  struct l2_state *s = state;
  /* Frames of a burst mostly share addresses: remember the last source
   * learned and the last destination looked up. */
  uint64_t last_src = 0, last_dst = 0;
  uint16_t last_out = DVS_FWD_FLOOD;

  for (uint16_t i = 0; i < n; i++)
    {
      const struct dvs_fwd_meta *m = &meta[i];

      /* A group address is never a source: don't learn it. */
      if (!(m->src[0] & 1))
        {
          uint64_t src = mac_table_key (m->src, m->vlan);
          if (src != last_src)
            {
              if (mac_table_learn_flags (&s->table, src, in_port, now,
                                         port_flags (s, in_port))
                  && in_port < DVS_MAX_PORTS)
                __atomic_store_n (&s->changes[in_port], s->changes[in_port] + 1,
                                  __ATOMIC_RELAXED);
              last_src = src;
              last_dst = 0;   /* the table changed: look up again */
            }
        }
      if (m->kind != DVS_PKT_UNICAST)
        {
          out[i] = DVS_FWD_FLOOD;
          continue;
        }
      uint64_t dst = mac_table_key (m->dst, m->vlan);
      if (dst != last_dst)
        {
          int port = mac_table_lookup (&s->table, dst, now);
          last_dst = dst;
          if (port < 0)
            last_out = DVS_FWD_FLOOD;
          else if (port == in_port)
            last_out = DVS_FWD_DROP;   /* the destination is behind the ingress port */
          else
            last_out = (uint16_t) port;
        }
      out[i] = last_out;
    }
}

static void
l2_port_removed (void *state, uint16_t port)
{
  struct l2_state *s = state;
  mac_table_flush (&s->table, port);
}

static void
l2_run (void *state, uint32_t now)
{
  struct l2_state *s = state;
  mac_table_expire (&s->table, now);
}

static size_t
l2_dump (void *state, uint32_t now, struct dvs_mac_entry *out, size_t cap)
{
  struct l2_state *s = state;
  return mac_table_dump (&s->table, now, out, cap);
}

static size_t
l2_flush (void *state, int port)
{
  struct l2_state *s = state;
  return mac_table_flush (&s->table, port);
}

static size_t
l2_count (void *state, uint32_t now)
{
  struct l2_state *s = state;
  return mac_table_count (&s->table, now);
}

/* Per-port state, version 1, little-endian:
 *   u32 count, then count × { u8 mac[6]; u16 vlan; u32 age_seconds }. */
#define L2_ENTRY_SIZE 12

static void
put_le (uint8_t *p, uint64_t v, int bytes)
{
  for (int i = 0; i < bytes; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_le (const uint8_t *p, int bytes)
{
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static long
l2_port_state_save (void *state, uint16_t port, uint32_t now, uint8_t *buf,
                    size_t cap)
{
  struct l2_state *s = state;
  const struct mac_table *t = &s->table;
  size_t total = (size_t) t->n_buckets * MAC_TABLE_WAYS, used = 4;
  uint32_t count = 0;

  if (cap < 4)
    return -ENOSPC;
  for (size_t i = 0; i < total; i++)
    {
      const struct mac_table_entry *e = &t->buckets[i];
      if (e->key == 0 || e->port != port || now - e->last_seen > t->aging)
        continue;
      if (used + L2_ENTRY_SIZE > cap)
        return -ENOSPC;
      mac_table_key_mac (e->key, buf + used);
      put_le (buf + used + 6, (e->key >> 48) & 0xfff, 2);
      put_le (buf + used + 8, now - e->last_seen, 4);
      used += L2_ENTRY_SIZE;
      count++;
    }
  put_le (buf, count, 4);
  return (long) used;
}

static int
l2_port_state_load (void *state, uint16_t port, uint32_t now, uint16_t version,
                    const uint8_t *buf, size_t len)
{
  struct l2_state *s = state;
  uint32_t count;

  if (version != 1 || len < 4)
    return -EINVAL;
  count = (uint32_t) get_le (buf, 4);
  if (len != 4 + (size_t) count * L2_ENTRY_SIZE)
    return -EINVAL;
  for (uint32_t i = 0; i < count; i++)
    {
      const uint8_t *e = buf + 4 + (size_t) i * L2_ENTRY_SIZE;
      uint16_t vlan = (uint16_t) get_le (e + 6, 2);
      uint32_t age = (uint32_t) get_le (e + 8, 4);
      if (vlan > DVS_VLAN_MAX || (e[0] & 1) || age > s->table.aging)
        continue;   /* stale or not a learnable address: skip, don't fail */
      /* An age larger than the clock (a fresh process) counts from 0. */
      mac_table_learn_flags (&s->table, mac_table_key (e, vlan), port,
                             now >= age ? now - age : 0, port_flags (s, port));
    }
  return 0;
}

static void
l2_port_set_active (void *state, uint16_t port, bool active)
{
  struct l2_state *s = state;

  if (port >= DVS_MAX_PORTS)
    return;
  s->inactive[port] = !active;
  mac_table_set_port_active (&s->table, port, active);
}

static uint64_t
l2_port_changes (void *state, uint16_t port)
{
  struct l2_state *s = state;
  return port < DVS_MAX_PORTS ? __atomic_load_n (&s->changes[port], __ATOMIC_RELAXED) : 0;
}

const struct dvs_fwd_class dvs_fwd_l2_learning = {
  .name = "l2-learning",
  .create = l2_create,
  .destroy = l2_destroy,
  .classify = l2_classify,
  .port_removed = l2_port_removed,
  .run = l2_run,
  .dump = l2_dump,
  .flush = l2_flush,
  .count = l2_count,
  .port_changes = l2_port_changes,
  .port_state_version = 1,
  .port_state_save = l2_port_state_save,
  .port_state_load = l2_port_state_load,
  .port_set_active = l2_port_set_active,
};
