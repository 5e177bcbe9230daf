#include "mac-table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
mac_table_init (struct mac_table *t, uint32_t entries, uint32_t aging)
{
  uint32_t n = 1, bits = 0;

  if (entries < MAC_TABLE_WAYS)
    entries = MAC_TABLE_WAYS;
  while (n * MAC_TABLE_WAYS < entries)
    {
      n <<= 1;
      bits++;
    }
  memset (t, 0, sizeof *t);
  t->buckets = calloc ((size_t) n * MAC_TABLE_WAYS, sizeof *t->buckets);
  if (t->buckets == NULL)
    return -ENOMEM;
  t->n_buckets = n;
  /* A shift of 64 is undefined: a one-bucket table shifts by 63 and masks. */
  t->shift = bits ? 64 - bits : 63;
  t->aging = aging;
  return 0;
}

void
mac_table_fini (struct mac_table *t)
{
  free (t->buckets);
  t->buckets = NULL;
}

static struct mac_table_entry *
bucket_of (struct mac_table *t, uint64_t key)
{
  return &t->buckets[mac_table_bucket (t, key) * MAC_TABLE_WAYS];
}

static int
is_live (const struct mac_table *t, const struct mac_table_entry *e,
         uint32_t now)
{
  return e->key != 0 && now - e->last_seen <= t->aging;
}

bool
mac_table_learn_flags (struct mac_table *t, uint64_t key, uint16_t port,
                       uint32_t now, uint16_t flags)
{
  struct mac_table_entry *b = bucket_of (t, key);
  struct mac_table_entry *victim = NULL;

  for (int i = 0; i < MAC_TABLE_WAYS; i++)
    {
      if (b[i].key == key)
        {
          /* Write only on change: the common case is a refresh within the
           * same second, which must not dirty the cache line. */
          bool moved = b[i].port != port;
          if (moved)
            b[i].port = port;
          if (b[i].last_seen != now)
            b[i].last_seen = now;
          if (b[i].flags != flags)
            b[i].flags = flags;
          return moved;
        }
      if (!is_live (t, &b[i], now))
        {
          if (victim == NULL || victim->key != 0)
            victim = &b[i];
        }
      else if (victim == NULL
               || (is_live (t, victim, now)
                   && now - b[i].last_seen > now - victim->last_seen))
        victim = &b[i];
    }
  victim->key = key;
  victim->port = port;
  victim->last_seen = now;
  victim->flags = flags;
  return true;
}

size_t
mac_table_expire (struct mac_table *t, uint32_t now)
{
  size_t n = 0, total = (size_t) t->n_buckets * MAC_TABLE_WAYS;

  for (size_t i = 0; i < total; i++)
    if (t->buckets[i].key != 0 && !is_live (t, &t->buckets[i], now))
      {
        t->buckets[i].key = 0;
        n++;
      }
  return n;
}

size_t
mac_table_flush (struct mac_table *t, int port)
{
  size_t n = 0, total = (size_t) t->n_buckets * MAC_TABLE_WAYS;

  for (size_t i = 0; i < total; i++)
    if (t->buckets[i].key != 0 && (port < 0 || t->buckets[i].port == port))
      {
        t->buckets[i].key = 0;
        n++;
      }
  return n;
}

size_t
mac_table_set_port_active (struct mac_table *t, uint16_t port, bool active)
{
  size_t n = 0, total = (size_t) t->n_buckets * MAC_TABLE_WAYS;
  uint16_t want = active ? 0 : MAC_ENTRY_INACTIVE;

  for (size_t i = 0; i < total; i++)
    {
      struct mac_table_entry *e = &t->buckets[i];
      if (e->key != 0 && e->port == port && (e->flags & MAC_ENTRY_INACTIVE) != want)
        {
          e->flags = (uint16_t) ((e->flags & ~MAC_ENTRY_INACTIVE) | want);
          n++;
        }
    }
  return n;
}

size_t
mac_table_count (const struct mac_table *t, uint32_t now)
{
  size_t n = 0, total = (size_t) t->n_buckets * MAC_TABLE_WAYS;

  for (size_t i = 0; i < total; i++)
    n += is_live (t, &t->buckets[i], now);
  return n;
}

size_t
mac_table_dump (const struct mac_table *t, uint32_t now,
                struct dvs_mac_entry *out, size_t cap)
{
  size_t n = 0, total = (size_t) t->n_buckets * MAC_TABLE_WAYS;

  for (size_t i = 0; i < total && n < cap; i++)
    {
      const struct mac_table_entry *e = &t->buckets[i];
      if (!is_live (t, e, now))
        continue;
      mac_table_key_mac (e->key, out[n].mac);
      out[n].vlan = (uint16_t) ((e->key >> 48) & 0xfff);
      out[n].port = e->port;
      out[n].age = now - e->last_seen;
      out[n].inactive = (e->flags & MAC_ENTRY_INACTIVE) != 0;
      n++;
    }
  return n;
}
