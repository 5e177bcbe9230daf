/* The load balancer's connection table (classes/lb-conntable.h) and
 * packet rewriting (classes/lb-rewrite.h): lookups both ways agree with a
 * reference model through thousands of random inserts and removals; flow
 * states, per-member counts and expiry follow the documented rules; the
 * serialized table comes back with every flow, its idle time and its
 * counts, and every damaged form of it is refused with the table empty;
 * rewritten frames carry checksums equal to ones computed from scratch. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "classes/lb-conntable.h"
#include "classes/lb-rewrite.h"
#include "xorshift.h"


struct table {
  struct dvs_lb_ct ct;
  void *storage;
};

static void
table_new (struct table *t, uint32_t capacity)
{
  size_t size = dvs_lb_ct_storage_size (capacity);

  g_assert_cmpuint (size, >, 0);
  t->storage = g_malloc (size);
  g_assert_cmpint (dvs_lb_ct_init (&t->ct, t->storage, capacity), ==, 0);
}

static void
table_free (struct table *t)
{
  g_free (t->storage);
}

static struct dvs_lb_ct_key
key_of (uint32_t client, uint16_t cport, uint8_t proto)
{
  return (struct dvs_lb_ct_key) { .client_ip = client, .vip = 0x0a000064, .client_port = cport,
                                  .vip_port = 80, .proto = proto };
}

static void
test_basic (void)
{
  struct table t;
  struct dvs_lb_ct_key k = key_of (0x0a000001, 40000, DVS_LB_PROTO_TCP);
  struct dvs_lb_ct_key k2 = key_of (0x0a000001, 40001, DVS_LB_PROTO_TCP);
  struct dvs_lb_ct_key bad = key_of (0x0a000001, 40002, 1);
  struct dvs_lb_ct_entry *e = NULL;

  g_assert_cmpuint (dvs_lb_ct_storage_size (1000), ==, 0);
  g_assert_cmpuint (dvs_lb_ct_storage_size (8), ==, 0);
  table_new (&t, 16);
  g_assert_null (dvs_lb_ct_lookup (&t.ct, &k));
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &k, 2, 0x0a000002, 8080, 100, &e), ==, 0);
  g_assert_true (dvs_lb_ct_lookup (&t.ct, &k) == e);
  g_assert_true (dvs_lb_ct_lookup_reply (&t.ct, 0x0a000002, 8080, 0x0a000001, 40000,
                                         DVS_LB_PROTO_TCP) == e);
  g_assert_null (dvs_lb_ct_lookup_reply (&t.ct, 0x0a000002, 8080, 0x0a000001, 40000,
                                         DVS_LB_PROTO_UDP));
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &k, 1, 0x0a000003, 80, 100, NULL), ==, -EEXIST);
  /* another client flow that would answer as the same reply */
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &(struct dvs_lb_ct_key) { .client_ip = 0x0a000001,
                                       .vip = 0x0a000065, .client_port = 40000, .vip_port = 80,
                                       .proto = DVS_LB_PROTO_TCP },
                                     2, 0x0a000002, 8080, 100, NULL), ==, -EEXIST);
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &bad, 1, 0x0a000003, 80, 100, NULL), ==, -EINVAL);
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &k2, DVS_LB_CT_MAX_MEMBERS, 0x0a000003, 80, 100,
                                     NULL), ==, -EINVAL);
  for (uint16_t i = 1; i < 16; i++)
    {
      struct dvs_lb_ct_key ki = key_of (0x0a000001, (uint16_t) (40000 + i), DVS_LB_PROTO_UDP);
      g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &ki, 0, 0x0a000002, 53, 100, NULL), ==, 0);
    }
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &k2, 0, 0x0a000009, 80, 100, NULL), ==, -ENOSPC);
  dvs_lb_ct_remove (&t.ct, dvs_lb_ct_lookup (&t.ct, &k));
  g_assert_null (dvs_lb_ct_lookup (&t.ct, &k));
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &k2, 0, 0x0a000009, 80, 100, NULL), ==, 0);
  table_free (&t);
}

/* Random inserts and removals against a model: every key's presence and
 * member, both ways, after each step; counts per member. */
static void
test_against_model (void)
{
  enum { CAP = 1024, KEYS = 3000, STEPS = 40000 };
  struct table t;
  static int8_t model[KEYS];           /* member, or -1 */
  uint32_t seed = 12345;
  uint32_t inserts = 0, removes = 0;

  table_new (&t, CAP);
  memset (model, -1, sizeof model);
  for (int step = 0; step < STEPS; step++)
    {
      uint32_t i = xorshift32 (&seed) % KEYS;
      struct dvs_lb_ct_key k = key_of (0x0b000000 + i, (uint16_t) (1000 + i % 7),
                                       i % 3 ? DVS_LB_PROTO_TCP : DVS_LB_PROTO_UDP);
      struct dvs_lb_ct_entry *e = dvs_lb_ct_lookup (&t.ct, &k);

      g_assert_true ((e != NULL) == (model[i] >= 0));
      if (e)
        {
          g_assert_cmpint (e->member, ==, model[i]);
          g_assert_true (dvs_lb_ct_lookup_reply (&t.ct, 0x0c000000 + i, 8000, k.client_ip,
                                                 k.client_port, k.proto) == e);
          dvs_lb_ct_remove (&t.ct, e);
          model[i] = -1;
          removes++;
        }
      else
        {
          uint8_t member = (uint8_t) (xorshift32 (&seed) % 5);
          int rc = dvs_lb_ct_insert (&t.ct, &k, member, 0x0c000000 + i, 8000, 0, NULL);

          if (t.ct.count == CAP && rc == -ENOSPC)
            continue;
          g_assert_cmpint (rc, ==, 0);
          model[i] = (int8_t) member;
          inserts++;
        }
      if (step % 997 == 0)
        {
          uint32_t n = 0, per[5] = { 0 };

          for (uint32_t j = 0; j < KEYS; j++)
            {
              struct dvs_lb_ct_key kj = key_of (0x0b000000 + j, (uint16_t) (1000 + j % 7),
                                                j % 3 ? DVS_LB_PROTO_TCP : DVS_LB_PROTO_UDP);
              struct dvs_lb_ct_entry *ej = dvs_lb_ct_lookup (&t.ct, &kj);

              g_assert_true ((ej != NULL) == (model[j] >= 0));
              if (ej)
                {
                  n++;
                  per[ej->member]++;
                }
            }
          g_assert_cmpuint (n, ==, t.ct.count);
          for (int m = 0; m < 5; m++)
            g_assert_cmpuint (t.ct.active[m] + t.ct.inactive[m], ==, per[m]);
        }
    }
  g_assert_cmpuint (inserts, >, 5000);
  g_assert_cmpuint (removes, >, 5000);
  table_free (&t);
}

static void
test_states_and_expiry (void)
{
  struct table t;
  struct dvs_lb_ct_entry *a, *b, *c, *u;
  struct dvs_lb_ct_key ka = key_of (1, 1, DVS_LB_PROTO_TCP), kb = key_of (2, 2, DVS_LB_PROTO_TCP);
  struct dvs_lb_ct_key kc = key_of (3, 3, DVS_LB_PROTO_TCP), ku = key_of (4, 4, DVS_LB_PROTO_UDP);

  table_new (&t, 16);
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &ka, 0, 10, 80, 1000, &a), ==, 0);
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &kb, 0, 11, 80, 1000, &b), ==, 0);
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &kc, 1, 12, 80, 1000, &c), ==, 0);
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &ku, 1, 13, 53, 1000, &u), ==, 0);
  /* opening: inactive */
  g_assert_cmpuint (t.ct.active[0], ==, 0);
  g_assert_cmpuint (t.ct.inactive[0], ==, 2);
  dvs_lb_ct_seen (&t.ct, a, false, DVS_LB_TCP_SYN | DVS_LB_TCP_ACK, 1001);
  dvs_lb_ct_seen (&t.ct, b, false, DVS_LB_TCP_SYN | DVS_LB_TCP_ACK, 1001);
  dvs_lb_ct_seen (&t.ct, u, false, 0, 1001);
  g_assert_cmpuint (t.ct.active[0], ==, 2);
  g_assert_cmpuint (t.ct.inactive[0], ==, 0);
  g_assert_cmpuint (t.ct.active[1], ==, 0);            /* UDP counts inactive, as in IPVS */
  g_assert_cmpuint (t.ct.inactive[1], ==, 2);
  /* a: FIN from the client, then from the member: closed */
  dvs_lb_ct_seen (&t.ct, a, true, DVS_LB_TCP_FIN | DVS_LB_TCP_ACK, 1002);
  g_assert_cmpuint (t.ct.active[0], ==, 1);
  g_assert_false (dvs_lb_ct_expired (a, 1002 + DVS_LB_CT_TCP_CLOSED_S));  /* half closed: open timeout */
  dvs_lb_ct_seen (&t.ct, a, false, DVS_LB_TCP_FIN | DVS_LB_TCP_ACK, 1002);
  g_assert_false (dvs_lb_ct_expired (a, 1002 + DVS_LB_CT_TCP_CLOSED_S - 1));
  g_assert_true (dvs_lb_ct_expired (a, 1002 + DVS_LB_CT_TCP_CLOSED_S));
  /* b: RST closes */
  dvs_lb_ct_seen (&t.ct, b, true, DVS_LB_TCP_RST, 1003);
  g_assert_cmpuint (t.ct.active[0], ==, 0);
  g_assert_cmpuint (t.ct.inactive[0], ==, 2);
  /* c: never answered */
  g_assert_false (dvs_lb_ct_expired (c, 1000 + DVS_LB_CT_TCP_OPENING_S - 1));
  g_assert_true (dvs_lb_ct_expired (c, 1000 + DVS_LB_CT_TCP_OPENING_S));
  /* a clock that went back is not an expiry */
  g_assert_false (dvs_lb_ct_expired (c, 999));

  /* sweep: at 1013 a and b (closed) go; at 1061 c (opening) and u (UDP
   * idle since 1001) go */
  g_assert_cmpuint (dvs_lb_ct_expire (&t.ct, 1013, 16), ==, 2);
  g_assert_null (dvs_lb_ct_lookup (&t.ct, &ka));
  g_assert_null (dvs_lb_ct_lookup (&t.ct, &kb));
  g_assert_cmpuint (dvs_lb_ct_expire (&t.ct, 1061, 16), ==, 2);
  g_assert_cmpuint (t.ct.count, ==, 0);
  g_assert_cmpuint (t.ct.inactive[0] + t.ct.inactive[1] + t.ct.active[0] + t.ct.active[1], ==, 0);

  /* an established flow lives 300 s idle; the sweep's budget is kept */
  g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &ka, 0, 10, 80, 2000, &a), ==, 0);
  dvs_lb_ct_seen (&t.ct, a, false, DVS_LB_TCP_ACK, 2000);
  g_assert_cmpuint (dvs_lb_ct_expire (&t.ct, 2000 + DVS_LB_CT_TCP_OPEN_S - 1, 16), ==, 0);
  {
    uint32_t removed = 0;
    for (int i = 0; i < 16; i++)
      removed += dvs_lb_ct_expire (&t.ct, 2000 + DVS_LB_CT_TCP_OPEN_S, 1);
    g_assert_cmpuint (removed, ==, 1);
  }
  table_free (&t);
}

static void
test_drop_member (void)
{
  struct table t;

  table_new (&t, 64);
  for (uint16_t i = 0; i < 40; i++)
    {
      struct dvs_lb_ct_key k = key_of (100 + i, i, DVS_LB_PROTO_TCP);
      g_assert_cmpint (dvs_lb_ct_insert (&t.ct, &k, (uint8_t) (i % 4), 200 + i, 80, 0, NULL), ==, 0);
    }
  g_assert_cmpuint (dvs_lb_ct_drop_member (&t.ct, 2), ==, 10);
  g_assert_cmpuint (t.ct.count, ==, 30);
  g_assert_cmpuint (t.ct.inactive[2], ==, 0);
  for (uint16_t i = 0; i < 40; i++)
    {
      struct dvs_lb_ct_key k = key_of (100 + i, i, DVS_LB_PROTO_TCP);
      g_assert_true ((dvs_lb_ct_lookup (&t.ct, &k) != NULL) == (i % 4 != 2));
    }
  table_free (&t);
}

static void
fill_mixed (struct table *t, uint32_t now)
{
  for (uint16_t i = 0; i < 50; i++)
    {
      struct dvs_lb_ct_key k = key_of (0x0d000000 + i, (uint16_t) (30000 + i),
                                       i % 5 ? DVS_LB_PROTO_TCP : DVS_LB_PROTO_UDP);
      struct dvs_lb_ct_entry *e;

      g_assert_cmpint (dvs_lb_ct_insert (&t->ct, &k, (uint8_t) (i % 3), 0x0e000000 + i % 3,
                                         (uint16_t) (8000 + i), now - i, &e), ==, 0);
      if (i % 2)
        dvs_lb_ct_seen (&t->ct, e, false, DVS_LB_TCP_ACK, now - i);
      if (i % 7 == 0)
        dvs_lb_ct_seen (&t->ct, e, true, DVS_LB_TCP_FIN, now - i);
    }
}

static void
test_serialize (void)
{
  struct table a, b;
  size_t need, len;
  uint8_t *buf;

  table_new (&a, 64);
  table_new (&b, 64);
  fill_mixed (&a, 5000);
  need = dvs_lb_ct_serialize (&a.ct, 5000, NULL, 0);
  g_assert_cmpuint (need, ==, 12 + 50 * 26);
  buf = g_malloc (need);
  g_assert_cmpuint (dvs_lb_ct_serialize (&a.ct, 5000, buf, need), ==, need);

  /* restored on a host whose clock reads 90000: the same flows, members,
   * states and idle times, the same counts */
  g_assert_cmpint (dvs_lb_ct_restore (&b.ct, buf, need, 90000, 3), ==, 0);
  g_assert_cmpuint (b.ct.count, ==, 50);
  for (uint16_t i = 0; i < 50; i++)
    {
      struct dvs_lb_ct_key k = key_of (0x0d000000 + i, (uint16_t) (30000 + i),
                                       i % 5 ? DVS_LB_PROTO_TCP : DVS_LB_PROTO_UDP);
      struct dvs_lb_ct_entry *ea = dvs_lb_ct_lookup (&a.ct, &k), *eb = dvs_lb_ct_lookup (&b.ct, &k);

      g_assert_nonnull (eb);
      g_assert_cmpint (eb->member, ==, ea->member);
      g_assert_cmpint (eb->flags, ==, ea->flags);
      g_assert_cmpuint (eb->member_ip, ==, ea->member_ip);
      g_assert_cmpuint (eb->member_port, ==, ea->member_port);
      g_assert_cmpuint (90000 - eb->last_used, ==, 5000 - ea->last_used);
      g_assert_true (dvs_lb_ct_lookup_reply (&b.ct, eb->member_ip, eb->member_port,
                                             k.client_ip, k.client_port, k.proto) == eb);
    }
  g_assert_cmpmem (a.ct.active, sizeof a.ct.active, b.ct.active, sizeof b.ct.active);
  g_assert_cmpmem (a.ct.inactive, sizeof a.ct.inactive, b.ct.inactive, sizeof b.ct.inactive);
  /* serializing the restored table gives the same bytes (pool order may
   * differ: compare as sets of records) */
  {
    uint8_t *again = g_malloc (need);
    g_assert_cmpuint (dvs_lb_ct_serialize (&b.ct, 90000, again, need), ==, need);
    g_assert_cmpmem (again, 12, buf, 12);
    for (size_t r = 0; r < 50; r++)
      {
        gboolean found = FALSE;
        for (size_t s = 0; s < 50 && !found; s++)
          found = memcmp (buf + 12 + r * 26, again + 12 + s * 26, 26) == 0;
        g_assert_true (found);
      }
    g_free (again);
  }

  /* every truncation and every damaged field: refused, the table empty */
  for (len = 0; len < need; len++)
    {
      g_assert_cmpint (dvs_lb_ct_restore (&b.ct, buf, len, 90000, 3), ==, -EINVAL);
      g_assert_cmpuint (b.ct.count, ==, 0);
    }
  {
    struct { size_t off; uint8_t value; } damage[] = {
      { 0, 'X' },                      /* magic */
      { 4, 2 },                        /* version */
      { 6, 1 },                        /* reserved */
      { 8, 49 },                       /* count */
      { 12 + 18, 1 },                  /* protocol */
      { 12 + 19, 3 },                  /* member index for 3 members */
      { 12 + 20, 0x10 },               /* unknown flag */
      { 12 + 21, 1 },                  /* reserved */
      { 12 + 25, 0x80 },               /* idle time beyond any clock */
    };
    for (size_t d = 0; d < G_N_ELEMENTS (damage); d++)
      {
        uint8_t saved = buf[damage[d].off];
        buf[damage[d].off] = damage[d].value;
        g_assert_cmpint (dvs_lb_ct_restore (&b.ct, buf, need, 90000, 3), ==, -EINVAL);
        g_assert_cmpuint (b.ct.count, ==, 0);
        g_assert_cmpuint (b.ct.inactive[0] + b.ct.active[0], ==, 0);
        buf[damage[d].off] = saved;
      }
    /* a record twice */
    memcpy (buf + 12 + 26, buf + 12, 26);
    g_assert_cmpint (dvs_lb_ct_restore (&b.ct, buf, need, 90000, 3), ==, -EINVAL);
    g_assert_cmpuint (b.ct.count, ==, 0);
  }
  /* more flows than the capacity */
  {
    struct table small;
    table_new (&small, 16);
    g_assert_cmpuint (dvs_lb_ct_serialize (&a.ct, 5000, buf, need), ==, need);
    g_assert_cmpint (dvs_lb_ct_restore (&small.ct, buf, need, 5000, 3), ==, -ENOSPC);
    table_free (&small);
  }
  g_free (buf);
  table_free (&a);
  table_free (&b);
}

/* --- rewriting -------------------------------------------------------- */

static uint32_t
sum16 (const uint8_t *p, size_t len, uint32_t sum)
{
  for (size_t i = 0; i + 1 < len; i += 2)
    sum += (uint32_t) (p[i] << 8 | p[i + 1]);
  if (len & 1)
    sum += (uint32_t) p[len - 1] << 8;
  return sum;
}

static uint16_t
fold (uint32_t sum)
{
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t) sum;
}

static uint32_t
pseudo (const uint8_t *ip, uint8_t proto, uint16_t l4len)
{
  return sum16 (ip + 12, 8, 0) + proto + l4len;
}

/* An Ethernet frame with IPv4 (IHL words) and a TCP or UDP header and
 * PAYLOAD bytes, checksums correct; returns its length. */
static size_t
make_frame (uint8_t *f, bool vlan, uint8_t ihl, uint8_t proto, size_t payload, bool udp_nocsum)
{
  size_t l3 = vlan ? 18 : 14, l4len = (proto == 6 ? 20 : 8) + payload;
  uint8_t *ip = f + l3, *l4 = ip + ihl * 4;
  uint16_t total = (uint16_t) (ihl * 4 + l4len);

  memset (f, 0, l3 + total);
  memcpy (f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
  if (vlan)
    memcpy (f + 12, "\x81\x00\x00\x0a\x08\x00", 6);
  else
    memcpy (f + 12, "\x08\x00", 2);
  ip[0] = (uint8_t) (0x40 | ihl);
  ip[2] = (uint8_t) (total >> 8);
  ip[3] = (uint8_t) total;
  ip[8] = 64;
  ip[9] = proto;
  memcpy (ip + 12, "\x0a\x00\x00\x07\x0a\x00\x00\x64", 8);   /* 10.0.0.7 -> 10.0.0.100 */
  for (int i = 20; i < ihl * 4; i++)
    ip[i] = 1;                          /* NOP options */
  memcpy (l4, "\x9c\x40\x00\x50", 4);   /* 40000 -> 80 */
  for (size_t i = 0; i < payload; i++)
    l4[(proto == 6 ? 20 : 8) + i] = (uint8_t) (i * 7 + 3);
  if (proto == 6)
    {
      l4[12] = 0x50;
      l4[13] = DVS_LB_TCP_SYN;
    }
  else
    {
      l4[4] = (uint8_t) (l4len >> 8);
      l4[5] = (uint8_t) l4len;
    }
  {
    uint16_t ic = (uint16_t) ~fold (sum16 (ip, ihl * 4u, 0));
    ip[10] = (uint8_t) (ic >> 8);
    ip[11] = (uint8_t) ic;
  }
  if (!(proto == 17 && udp_nocsum))
    {
      uint16_t lc = (uint16_t) ~fold (sum16 (l4, l4len, pseudo (ip, proto, (uint16_t) l4len)));
      size_t off = proto == 6 ? 16 : 6;
      if (proto == 17 && lc == 0)
        lc = 0xffff;
      l4[off] = (uint8_t) (lc >> 8);
      l4[off + 1] = (uint8_t) lc;
    }
  return l3 + total;
}

/* Both checksums verify from scratch. */
static void
assert_checksums (const uint8_t *f, const struct dvs_lb_l4 *l4, size_t len)
{
  const uint8_t *ip = f + l4->l3_off;
  size_t ihl = (ip[0] & 0x0f) * 4u;
  uint16_t total = (uint16_t) (ip[2] << 8 | ip[3]);
  uint16_t l4len = (uint16_t) (total - ihl);
  const uint8_t *l4p = ip + ihl;

  g_assert_cmpuint (l4->l3_off + total, <=, len);
  g_assert_cmphex (fold (sum16 (ip, ihl, 0)), ==, 0xffff);
  if (l4->proto == 17 && l4p[6] == 0 && l4p[7] == 0)
    return;                            /* UDP without a checksum */
  g_assert_cmphex (fold (sum16 (l4p, l4len, pseudo (ip, l4->proto, l4len))), ==, 0xffff);
}

static void
test_rewrite (void)
{
  static const uint8_t member_mac[6] = { 0x52, 0x54, 0, 0, 0, 2 };
  uint8_t vip_mac[6];
  uint32_t seed = 99;

  dvs_lb_vip_mac (0x0a000064, vip_mac);
  g_assert_cmpmem (vip_mac, 6, "\x02\x00\x5e\x00\x00\x64", 6);
  for (int round = 0; round < 400; round++)
    {
      uint8_t f[1600];
      bool vlan = round & 1;
      uint8_t ihl = (uint8_t) (5 + (round >> 1) % 3);
      uint8_t proto = (round >> 2) % 2 ? 17 : 6;
      bool nocsum = proto == 17 && (round >> 3) % 2;
      size_t len = make_frame (f, vlan, ihl, proto, xorshift32 (&seed) % 1200, nocsum);
      uint32_t new_ip = xorshift32 (&seed);
      uint16_t new_port = (uint16_t) (xorshift32 (&seed) | 1);
      struct dvs_lb_l4 l4;

      g_assert_cmpint (dvs_lb_parse (f, len, &l4), ==, 0);
      g_assert_cmpuint (l4.src_ip, ==, 0x0a000007);
      g_assert_cmpuint (l4.dst_ip, ==, 0x0a000064);
      g_assert_cmpuint (l4.src_port, ==, 40000);
      g_assert_cmpuint (l4.dst_port, ==, 80);
      g_assert_cmpuint (l4.tcp_flags, ==, proto == 6 ? DVS_LB_TCP_SYN : 0);
      assert_checksums (f, &l4, len);

      /* nat towards a member */
      dvs_lb_rewrite_dst (f, &l4, member_mac, new_ip, new_port, false);
      g_assert_cmpint (dvs_lb_parse (f, len, &l4), ==, 0);
      g_assert_cmpmem (f, 6, member_mac, 6);
      g_assert_cmpuint (l4.dst_ip, ==, new_ip);
      g_assert_cmpuint (l4.dst_port, ==, new_port);
      g_assert_cmpuint (l4.src_ip, ==, 0x0a000007);
      assert_checksums (f, &l4, len);
      if (nocsum)
        g_assert_cmpuint (f[l4.l4_off + 6] | f[l4.l4_off + 7], ==, 0);

      /* the member's reply back as the VIP */
      dvs_lb_rewrite_src (f, &l4, vip_mac, 0x0a000064, 80, false);
      g_assert_cmpint (dvs_lb_parse (f, len, &l4), ==, 0);
      g_assert_cmpmem (f + 6, 6, vip_mac, 6);
      g_assert_cmpuint (l4.src_ip, ==, 0x0a000064);
      g_assert_cmpuint (l4.src_port, ==, 80);
      assert_checksums (f, &l4, len);

      /* dsr: the MAC only */
      {
        uint8_t before[1600];
        memcpy (before, f, len);
        dvs_lb_rewrite_dst (f, &l4, vip_mac, 0, 0, false);
        g_assert_cmpmem (f, 6, vip_mac, 6);
        g_assert_cmpmem (f + 6, len - 6, before + 6, len - 6);
      }

      /* checksum offload: the field holds the pseudo-header sum */
      if (!nocsum)
        {
          uint8_t *ip = f + l4.l3_off;
          uint16_t l4len = (uint16_t) ((ip[2] << 8 | ip[3]) - (ip[0] & 0x0f) * 4);
          size_t off = l4.l4_off + (proto == 6 ? 16 : 6);
          uint16_t ps = fold (pseudo (ip, proto, l4len));

          f[off] = (uint8_t) (ps >> 8);
          f[off + 1] = (uint8_t) ps;
          dvs_lb_rewrite_dst (f, &l4, member_mac, new_ip, new_port, true);
          ps = fold (pseudo (ip, proto, l4len));
          g_assert_cmphex ((uint16_t) (f[off] << 8 | f[off + 1]), ==, ps);
          g_assert_cmphex (fold (sum16 (ip, (ip[0] & 0x0f) * 4u, 0)), ==, 0xffff);
        }
    }
}

static void
test_parse_refuses (void)
{
  uint8_t f[200];
  struct dvs_lb_l4 l4;
  size_t len = make_frame (f, true, 6, 6, 20, false);

  /* every truncation is malformed or not ours, never read past the end */
  for (size_t n = 0; n < len; n++)
    {
      uint8_t *copy = g_memdup2 (f, n);
      int rc = dvs_lb_parse (copy, n, &l4);
      g_assert_true (rc == -EINVAL || rc == -ENOENT);
      g_free (copy);
    }
  g_assert_cmpint (dvs_lb_parse (f, len, &l4), ==, 0);
  /* ARP, ICMP, IPv6: not ours */
  {
    uint8_t g[64];
    len = make_frame (g, false, 5, 6, 0, false);
    g[12] = 0x08; g[13] = 0x06;
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, -ENOENT);
    g[13] = 0x00; g[14 + 9] = 1;
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, -ENOENT);
    g[14 + 9] = 6; g[14] = 0x65;                      /* version 6 in an IPv4 ethertype */
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, -EINVAL);
    g[14] = 0x44;                                     /* IHL 16 bytes */
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, -EINVAL);
    g[14] = 0x45; g[14 + 2] = 0x0f;                   /* total length beyond the frame */
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, -EINVAL);
    g[14 + 2] = 0; g[14 + 20 + 12] = 0x40;            /* TCP data offset 16 bytes */
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, -EINVAL);
  }
  /* fragments: the first has ports, later ones none */
  {
    uint8_t g[64];
    len = make_frame (g, false, 5, 17, 10, false);
    g[14 + 6] = 0x20;                                 /* MF */
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, 0);
    g_assert_true (l4.fragment);
    g_assert_cmpuint (l4.dst_port, ==, 80);
    g[14 + 6] = 0x00; g[14 + 7] = 0x10;               /* offset 128 */
    g_assert_cmpint (dvs_lb_parse (g, len, &l4), ==, 0);
    g_assert_true (l4.fragment);
    g_assert_cmpuint (l4.l4_off, ==, 0);
    g_assert_cmpuint (l4.dst_port, ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lb-conntable/basic", test_basic);
  g_test_add_func ("/lb-conntable/against-model", test_against_model);
  g_test_add_func ("/lb-conntable/states-and-expiry", test_states_and_expiry);
  g_test_add_func ("/lb-conntable/drop-member", test_drop_member);
  g_test_add_func ("/lb-conntable/serialize", test_serialize);
  g_test_add_func ("/lb-rewrite/checksums", test_rewrite);
  g_test_add_func ("/lb-rewrite/parse-refuses", test_parse_refuses);
  return g_test_run ();
}
