/* The MAC learning table: (MAC, VLAN) → port, with aging.  Plain C, owned by
 * one thread (the datapath), no locks.  Buckets of four entries, one cache
 * line each; when a bucket is full the stalest entry is replaced. */
#pragma once

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "datapath/dp-types.h"

#define MAC_TABLE_WAYS 4

struct mac_table_entry {
  uint64_t key;          /* mac_table_key(); 0 = empty */
  uint32_t last_seen;    /* seconds */
  uint16_t port;
  uint16_t flags;        /* MAC_ENTRY_* */
};

/* The entry's port is inactive (link down): the entry is kept — saved in
 * checkpoints, moved by learning, aged — but lookups miss it. */
#define MAC_ENTRY_INACTIVE 1

struct mac_table {
  struct mac_table_entry *buckets;   /* n_buckets * MAC_TABLE_WAYS */
  uint32_t n_buckets;                /* power of two */
  uint32_t shift;                    /* 64 - log2(n_buckets) */
  uint32_t aging;                    /* seconds; entries older are dead */
};

/* The MAC's six bytes in bits 0..47 (in memory order, little-endian), the
 * VLAN in 48..59, bit 63 set so that no key is 0.  Two loads, no loop: this
 * runs twice per frame. */
static inline uint64_t
mac_table_key (const uint8_t *mac, uint16_t vlan)
{
  uint32_t lo;
  uint16_t hi;

  memcpy (&lo, mac, sizeof lo);
  memcpy (&hi, mac + 4, sizeof hi);
  return (uint64_t) lo | ((uint64_t) hi << 32)
         | ((uint64_t) (vlan & 0xfff) << 48) | (UINT64_C (1) << 63);
}

static inline void
mac_table_key_mac (uint64_t key, uint8_t *mac)
{
  for (int i = 0; i < 6; i++)
    mac[i] = (uint8_t) (key >> (8 * i));
}

int mac_table_init (struct mac_table *t, uint32_t entries, uint32_t aging);
void mac_table_fini (struct mac_table *t);

static inline uint32_t
mac_table_bucket (const struct mac_table *t, uint64_t key)
{
  return (uint32_t) ((key * UINT64_C (0x9E3779B97F4A7C15)) >> t->shift)
         & (t->n_buckets - 1);
}

/* Port of @key if learned, active and not aged out, else -1. */
static inline int
mac_table_lookup (const struct mac_table *t, uint64_t key, uint32_t now)
{
  const struct mac_table_entry *b =
    &t->buckets[mac_table_bucket (t, key) * MAC_TABLE_WAYS];
  for (int i = 0; i < MAC_TABLE_WAYS; i++)
    if (b[i].key == key)
      return now - b[i].last_seen <= t->aging && !(b[i].flags & MAC_ENTRY_INACTIVE)
               ? b[i].port : -1;
  return -1;
}

/* Records that @key was seen on @port at @now (insert, refresh or move),
 * active or not.  Returns true when that was news (insert or move), false
 * for a refresh. */
bool mac_table_learn_flags (struct mac_table *t, uint64_t key, uint16_t port,
                            uint32_t now, uint16_t flags);
static inline bool
mac_table_learn (struct mac_table *t, uint64_t key, uint16_t port, uint32_t now)
{
  return mac_table_learn_flags (t, key, port, now, 0);
}
/* Sets or clears MAC_ENTRY_INACTIVE on every entry of @port; returns how
 * many entries it changed. */
size_t mac_table_set_port_active (struct mac_table *t, uint16_t port, bool active);
/* Removes aged-out entries; returns how many. */
size_t mac_table_expire (struct mac_table *t, uint32_t now);
/* Removes entries of @port, or all when @port < 0; returns how many. */
size_t mac_table_flush (struct mac_table *t, int port);
/* count and dump see every live entry, inactive ones included (flagged). */
size_t mac_table_count (const struct mac_table *t, uint32_t now);
size_t mac_table_dump (const struct mac_table *t, uint32_t now,
                       struct dvs_mac_entry *out, size_t cap);
