/* The load balancer's connection table (lb-conntable.h). */
#include "classes/lb-conntable.h"

#include <errno.h>
#include <string.h>

#define EMPTY UINT32_MAX              /* index slot free; pool entry in use */
#define FREE_END (UINT32_MAX - 1)      /* end of the pool's free list */
#define HEADER_SIZE 12
#define RECORD_SIZE 26

static const uint8_t magic[4] = { 'L', 'B', 'C', 'T' };

static uint32_t
mix (uint64_t a, uint64_t b)
{
  /* splitmix64's finalizer over the two halves of the tuple */
  uint64_t x = a * 0x9e3779b97f4a7c15ull ^ b;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return (uint32_t) x;
}

static uint32_t
hash_fwd (const struct dvs_lb_ct_key *k)
{
  return mix ((uint64_t) k->client_ip << 32 | k->vip,
              (uint64_t) k->client_port << 24 | (uint64_t) k->vip_port << 8 | k->proto);
}

static uint32_t
hash_rev (uint32_t member_ip, uint16_t member_port, uint32_t client_ip, uint16_t client_port,
          uint8_t proto)
{
  return mix ((uint64_t) member_ip << 32 | client_ip,
              (uint64_t) member_port << 24 | (uint64_t) client_port << 8 | proto | 1ull << 40);
}

static uint32_t
entry_hash_rev (const struct dvs_lb_ct_entry *e)
{
  return hash_rev (e->member_ip, e->member_port, e->key.client_ip, e->key.client_port,
                   e->key.proto);
}

static bool
key_equal (const struct dvs_lb_ct_key *a, const struct dvs_lb_ct_key *b)
{
  return a->client_ip == b->client_ip && a->vip == b->vip && a->client_port == b->client_port
    && a->vip_port == b->vip_port && a->proto == b->proto;
}

size_t
dvs_lb_ct_storage_size (uint32_t capacity)
{
  if (capacity < DVS_LB_CT_MIN_CAPACITY || capacity > DVS_LB_CT_MAX_CAPACITY
      || (capacity & (capacity - 1)) != 0)
    return 0;
  return (size_t) capacity * sizeof (struct dvs_lb_ct_entry)
    + 2 * (size_t) (2 * capacity) * sizeof (uint32_t);
}

void
dvs_lb_ct_clear (struct dvs_lb_ct *ct)
{
  uint32_t index_size = ct->index_mask + 1;

  for (uint32_t i = 0; i < index_size; i++)
    ct->fwd[i] = ct->rev[i] = EMPTY;
  for (uint32_t i = 0; i < ct->capacity; i++)
    ct->pool[i].next_free = i + 1 < ct->capacity ? i + 1 : FREE_END;
  ct->free_head = 0;
  ct->count = 0;
  ct->sweep_pos = 0;
  memset (ct->active, 0, sizeof ct->active);
  memset (ct->inactive, 0, sizeof ct->inactive);
}

int
dvs_lb_ct_init (struct dvs_lb_ct *ct, void *storage, uint32_t capacity)
{
  if (dvs_lb_ct_storage_size (capacity) == 0 || storage == NULL)
    return -EINVAL;
  memset (ct, 0, sizeof *ct);
  ct->pool = storage;
  ct->fwd = (uint32_t *) (ct->pool + capacity);
  ct->rev = ct->fwd + 2 * capacity;
  ct->capacity = capacity;
  ct->index_mask = 2 * capacity - 1;
  dvs_lb_ct_clear (ct);
  return 0;
}

/* The free list ends in FREE_END, so next_free == EMPTY always means
 * "in use". */
static bool
in_use (const struct dvs_lb_ct_entry *e)
{
  return e->next_free == EMPTY;
}

static bool
is_active (const struct dvs_lb_ct_entry *e)
{
  return e->key.proto == DVS_LB_PROTO_TCP && (e->flags & DVS_LB_CT_REPLIED)
    && !(e->flags & (DVS_LB_CT_FIN_CLIENT | DVS_LB_CT_FIN_MEMBER | DVS_LB_CT_RST));
}

static void
count (struct dvs_lb_ct *ct, const struct dvs_lb_ct_entry *e, int delta)
{
  uint32_t *c = is_active (e) ? &ct->active[e->member] : &ct->inactive[e->member];
  *c += (uint32_t) delta;
}

/* E's flags become FLAGS, its member's counts following. */
static void
set_flags (struct dvs_lb_ct *ct, struct dvs_lb_ct_entry *e, uint8_t flags)
{
  if (flags == e->flags)
    return;
  count (ct, e, -1);
  e->flags = flags;
  count (ct, e, +1);
}

struct dvs_lb_ct_entry *
dvs_lb_ct_lookup (struct dvs_lb_ct *ct, const struct dvs_lb_ct_key *key)
{
  for (uint32_t i = hash_fwd (key) & ct->index_mask;; i = (i + 1) & ct->index_mask)
    {
      uint32_t slot = ct->fwd[i];

      if (slot == EMPTY)
        return NULL;
      if (key_equal (&ct->pool[slot].key, key))
        return &ct->pool[slot];
    }
}

struct dvs_lb_ct_entry *
dvs_lb_ct_lookup_reply (struct dvs_lb_ct *ct, uint32_t member_ip, uint16_t member_port,
                        uint32_t client_ip, uint16_t client_port, uint8_t proto)
{
  uint32_t h = hash_rev (member_ip, member_port, client_ip, client_port, proto);

  for (uint32_t i = h & ct->index_mask;; i = (i + 1) & ct->index_mask)
    {
      uint32_t slot = ct->rev[i];
      struct dvs_lb_ct_entry *e;

      if (slot == EMPTY)
        return NULL;
      e = &ct->pool[slot];
      if (e->member_ip == member_ip && e->member_port == member_port
          && e->key.client_ip == client_ip && e->key.client_port == client_port
          && e->key.proto == proto)
        return e;
    }
}

static void
index_add (uint32_t *index, uint32_t mask, uint32_t hash, uint32_t slot)
{
  uint32_t i = hash & mask;

  while (index[i] != EMPTY)
    i = (i + 1) & mask;
  index[i] = slot;
}

/* Linear probing's deletion by backward shift: every later entry of the
 * cluster that may move into the hole does, so lookups never need
 * tombstones. */
static void
index_del (struct dvs_lb_ct *ct, uint32_t *index, uint32_t hash, uint32_t slot, bool rev)
{
  uint32_t mask = ct->index_mask;
  uint32_t i = hash & mask;

  while (index[i] != slot)
    i = (i + 1) & mask;
  for (uint32_t j = (i + 1) & mask; index[j] != EMPTY; j = (j + 1) & mask)
    {
      const struct dvs_lb_ct_entry *e = &ct->pool[index[j]];
      uint32_t home = (rev ? entry_hash_rev (e) : hash_fwd (&e->key)) & mask;

      /* j's entry may fill hole i unless its home lies cyclically in (i, j] */
      if (((j - home) & mask) >= ((j - i) & mask))
        {
          index[i] = index[j];
          i = j;
        }
    }
  index[i] = EMPTY;
}

int
dvs_lb_ct_insert (struct dvs_lb_ct *ct, const struct dvs_lb_ct_key *key, uint8_t member,
                  uint32_t member_ip, uint16_t member_port, uint32_t now,
                  struct dvs_lb_ct_entry **out)
{
  struct dvs_lb_ct_entry *e;
  uint32_t slot;

  if (member >= DVS_LB_CT_MAX_MEMBERS
      || (key->proto != DVS_LB_PROTO_TCP && key->proto != DVS_LB_PROTO_UDP))
    return -EINVAL;
  if (dvs_lb_ct_lookup (ct, key)
      || dvs_lb_ct_lookup_reply (ct, member_ip, member_port, key->client_ip, key->client_port,
                                 key->proto))
    return -EEXIST;
  if (ct->count == ct->capacity)
    return -ENOSPC;
  slot = ct->free_head;
  e = &ct->pool[slot];
  ct->free_head = e->next_free;
  *e = (struct dvs_lb_ct_entry) {
    .key = *key, .member_ip = member_ip, .member_port = member_port, .member = member,
    .flags = 0, .last_used = now, .next_free = EMPTY,
  };
  index_add (ct->fwd, ct->index_mask, hash_fwd (key), slot);
  index_add (ct->rev, ct->index_mask, entry_hash_rev (e), slot);
  ct->count++;
  count (ct, e, +1);
  if (out)
    *out = e;
  return 0;
}

void
dvs_lb_ct_seen (struct dvs_lb_ct *ct, struct dvs_lb_ct_entry *e, bool from_client,
                uint8_t tcp_flags, uint32_t now)
{
  uint8_t flags = e->flags;

  e->last_used = now;
  if (!from_client)
    flags |= DVS_LB_CT_REPLIED;
  if (e->key.proto == DVS_LB_PROTO_TCP)
    {
      if (tcp_flags & DVS_LB_TCP_FIN)
        flags |= from_client ? DVS_LB_CT_FIN_CLIENT : DVS_LB_CT_FIN_MEMBER;
      if (tcp_flags & DVS_LB_TCP_RST)
        flags |= DVS_LB_CT_RST;
    }
  set_flags (ct, e, flags);
}

void
dvs_lb_ct_remove (struct dvs_lb_ct *ct, struct dvs_lb_ct_entry *e)
{
  uint32_t slot = (uint32_t) (e - ct->pool);

  count (ct, e, -1);
  index_del (ct, ct->fwd, hash_fwd (&e->key), slot, false);
  index_del (ct, ct->rev, entry_hash_rev (e), slot, true);
  e->next_free = ct->free_head;
  ct->free_head = slot;
  ct->count--;
}

bool
dvs_lb_ct_expired (const struct dvs_lb_ct_entry *e, uint32_t now)
{
  uint32_t idle = now - e->last_used;
  uint32_t limit;

  if (e->key.proto == DVS_LB_PROTO_UDP)
    limit = DVS_LB_CT_UDP_S;
  else if ((e->flags & DVS_LB_CT_RST)
           || (e->flags & (DVS_LB_CT_FIN_CLIENT | DVS_LB_CT_FIN_MEMBER))
              == (DVS_LB_CT_FIN_CLIENT | DVS_LB_CT_FIN_MEMBER))
    limit = DVS_LB_CT_TCP_CLOSED_S;
  else if (!(e->flags & DVS_LB_CT_REPLIED))
    limit = DVS_LB_CT_TCP_OPENING_S;
  else
    limit = DVS_LB_CT_TCP_OPEN_S;
  /* a clock that went backwards (idle wraps) is not an expiry */
  return idle < UINT32_MAX / 2 && idle >= limit;
}

uint32_t
dvs_lb_ct_expire (struct dvs_lb_ct *ct, uint32_t now, uint32_t budget)
{
  uint32_t removed = 0;

  /* Walk the pool, not an index: removing shifts index entries, the pool
   * stays put. */
  for (uint32_t n = 0; n < budget && n < ct->capacity; n++)
    {
      struct dvs_lb_ct_entry *e = &ct->pool[ct->sweep_pos];

      ct->sweep_pos = (ct->sweep_pos + 1) & (ct->capacity - 1);
      if (in_use (e) && dvs_lb_ct_expired (e, now))
        {
          dvs_lb_ct_remove (ct, e);
          removed++;
        }
    }
  return removed;
}

uint32_t
dvs_lb_ct_drop_member (struct dvs_lb_ct *ct, uint8_t member)
{
  uint32_t removed = 0;

  for (uint32_t i = 0; i < ct->capacity; i++)
    if (in_use (&ct->pool[i]) && ct->pool[i].member == member)
      {
        dvs_lb_ct_remove (ct, &ct->pool[i]);
        removed++;
      }
  return removed;
}

static void
put16 (uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
}

static void
put32 (uint8_t *p, uint32_t v)
{
  put16 (p, (uint16_t) v);
  put16 (p + 2, (uint16_t) (v >> 16));
}

static uint16_t
get16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
get32 (const uint8_t *p)
{
  return get16 (p) | (uint32_t) get16 (p + 2) << 16;
}

/* Record: client_ip vip member_ip (u32), client_port vip_port member_port
 * (u16), proto member flags reserved (u8), idle seconds (u32). */
size_t
dvs_lb_ct_serialize (const struct dvs_lb_ct *ct, uint32_t now, uint8_t *buf, size_t len)
{
  size_t need = HEADER_SIZE + (size_t) ct->count * RECORD_SIZE;
  uint8_t *p = buf;

  if (need > len)
    return need;
  memcpy (p, magic, sizeof magic);
  put16 (p + 4, DVS_LB_CT_VERSION);
  put16 (p + 6, 0);
  put32 (p + 8, ct->count);
  p += HEADER_SIZE;
  for (uint32_t i = 0; i < ct->capacity; i++)
    {
      const struct dvs_lb_ct_entry *e = &ct->pool[i];
      uint32_t idle = now - e->last_used;

      if (!in_use (e))
        continue;
      put32 (p, e->key.client_ip);
      put32 (p + 4, e->key.vip);
      put32 (p + 8, e->member_ip);
      put16 (p + 12, e->key.client_port);
      put16 (p + 14, e->key.vip_port);
      put16 (p + 16, e->member_port);
      p[18] = e->key.proto;
      p[19] = e->member;
      p[20] = e->flags;
      p[21] = 0;
      put32 (p + 22, idle < UINT32_MAX / 2 ? idle : 0);
      p += RECORD_SIZE;
    }
  return need;
}

int
dvs_lb_ct_restore (struct dvs_lb_ct *ct, const uint8_t *buf, size_t len, uint32_t now,
                   unsigned nmembers)
{
  uint32_t n;
  int rc = 0;

  dvs_lb_ct_clear (ct);
  if (len < HEADER_SIZE || memcmp (buf, magic, sizeof magic) != 0
      || get16 (buf + 4) != DVS_LB_CT_VERSION || get16 (buf + 6) != 0)
    return -EINVAL;
  n = get32 (buf + 8);
  if ((len - HEADER_SIZE) / RECORD_SIZE != n || (len - HEADER_SIZE) % RECORD_SIZE != 0)
    return -EINVAL;
  if (n > ct->capacity)
    return -ENOSPC;
  for (uint32_t i = 0; i < n && rc == 0; i++)
    {
      const uint8_t *p = buf + HEADER_SIZE + (size_t) i * RECORD_SIZE;
      struct dvs_lb_ct_key key = {
        .client_ip = get32 (p), .vip = get32 (p + 4),
        .client_port = get16 (p + 12), .vip_port = get16 (p + 14), .proto = p[18],
      };
      struct dvs_lb_ct_entry *e;
      uint32_t idle = get32 (p + 22);

      if (p[19] >= nmembers || (p[20] & ~DVS_LB_CT_FLAGS_KNOWN) || p[21] != 0
          || idle >= UINT32_MAX / 2)
        rc = -EINVAL;
      else if (dvs_lb_ct_insert (ct, &key, p[19], get32 (p + 8), get16 (p + 16), now - idle,
                                 &e) != 0)
        rc = -EINVAL;                  /* a key, or a reply key, twice; a bad protocol */
      else
        set_flags (ct, e, p[20]);      /* inserted as new; now as it was */
    }
  if (rc != 0)
    dvs_lb_ct_clear (ct);
  return rc;
}
