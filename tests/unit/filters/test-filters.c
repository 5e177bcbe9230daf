/* The filter classes on real mbufs: port blocking, port security and the
 * shaper, the shaper driven by a synthetic TSC (no sleeping), and the
 * shaper's serialized state against golden files in fixtures/.
 * DVS_REGENERATE_FIXTURES=1 rewrites those; a change in them is a change of
 * format, which must bump the class's state_version. */
#include <glib.h>
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "classes/filter-class.h"
#include "../switch/test-eal.h"

#define HZ UINT64_C (2394000000)          /* an odd TSC rate: rounding shows */
#define NS_PER_SEC UINT64_C (1000000000)
#define US UINT64_C (1000)                 /* in ns */
#define MS UINT64_C (1000000)
#define SEC NS_PER_SEC
#define TSC_BASE UINT64_C (987654321987)   /* TSC when a test's clock starts */
#define MAX_FRAME_BITS (9216 * 8)
#define ALL(n) ((n) >= 64 ? ~UINT64_C (0) : (UINT64_C (1) << (n)) - 1)
#define BIT(i) (UINT64_C (1) << (i))
#define SHAPER_V1_SIZE 48

static struct rte_mempool *pool;
static GPtrArray *frames;   /* every mbuf a test made: freed in teardown */

static const guint8 BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const guint8 MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const guint8 MCAST6[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
static const guint8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const guint8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const guint8 MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const guint8 MAC_D[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* ---- frames and runs ---------------------------------------------------- */

/* A frame of @len bytes from @src to @dst (as much of them as fits). */
static struct rte_mbuf *
frame (const guint8 *dst, const guint8 *src, guint len)
{
  struct rte_mbuf *m = rte_pktmbuf_alloc (pool);
  guint8 *p;

  g_assert_nonnull (m);
  p = (guint8 *) rte_pktmbuf_append (m, (uint16_t) len);
  g_assert_nonnull (p);
  memset (p, 0x5a, len);
  memcpy (p, dst, MIN (len, 6));
  if (len > 6)
    memcpy (p + 6, src, MIN (len - 6, 6));
  if (len >= 14)
    {
      p[12] = 0x08;
      p[13] = 0x00;
    }
  g_ptr_array_add (frames, m);
  return m;
}

/* @n frames of @len bytes, unicast B → A. */
static void
burst_of (struct rte_mbuf **pkts, guint n, guint len)
{
  for (guint i = 0; i < n; i++)
    pkts[i] = frame (MAC_A, MAC_B, len);
}

/* @cls's verdict on pkts[0..n) when all of them still pass. */
static uint64_t
run (const struct dvs_filter_class *cls, const void *config, void *state,
     enum dvs_filter_dir dir, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
  uint64_t pass = ALL (n);

  cls->filter (config, state, dir, pkts, n, &pass, now, HZ);
  g_assert_cmphex (pass & ~ALL (n), ==, 0);
  return pass;
}

static void
fixture_setup (gpointer f, gconstpointer data)
{
}

static void
fixture_teardown (gpointer f, gconstpointer data)
{
  g_ptr_array_set_size (frames, 0);
  g_assert_cmpuint (rte_mempool_in_use_count (pool), ==, 0);
}

/* ---- the class table and the contract ----------------------------------- */

static void
test_class_table (gpointer f, gconstpointer data)
{
  static const char *const names[DVS_FILTER_COUNT] = {
    [DVS_FILTER_BLOCK] = "block",
    [DVS_FILTER_SECURITY] = "port-security",
    [DVS_FILTER_SHAPER] = "shaper",
  };

  g_assert_true (dvs_filter_classes[DVS_FILTER_BLOCK] == &dvs_filter_block);
  g_assert_true (dvs_filter_classes[DVS_FILTER_SECURITY] == &dvs_filter_security);
  g_assert_true (dvs_filter_classes[DVS_FILTER_SHAPER] == &dvs_filter_shaper);
  for (int id = 0; id < DVS_FILTER_COUNT; id++)
    {
      const struct dvs_filter_class *c = dvs_filter_classes[id];

      g_assert_cmpstr (c->name, ==, names[id]);
      g_assert_nonnull (c->filter);
      /* stateless ⇔ nothing to save or load */
      g_assert_cmpint (c->state_size == 0, ==, c->state_save == NULL);
      g_assert_cmpint (c->state_size == 0, ==, c->state_load == NULL);
      if (c->state_size != 0)
        g_assert_cmpuint (c->state_version, >=, 1);
    }
  g_assert_cmpuint (dvs_filter_shaper.state_size, ==, sizeof (struct dvs_shaper_state));
}

/* Whatever they decide, filters only clear bits of frames they were given,
 * and leave the frames as they were. */
static void
test_contract (gpointer f, gconstpointer data)
{
  const struct dvs_block_config block = { .enabled = 1 };
  const struct dvs_security_config security = { .enabled = 1, .n_macs = 1,
                                                 .macs = { { 0x02, 0, 0, 0, 0, 0x0a } } };
  const struct dvs_shaper_config shaper = {
    .dir = { { .average_kbps = 1000, .burst_kbytes = 9 },
             { .average_kbps = 1000, .burst_kbytes = 9 } },
  };
  const void *configs[DVS_FILTER_COUNT] = { &block, &security, &shaper };
  struct rte_mbuf *pkts[20];
  gpointer copies[20];
  const uint16_t n = G_N_ELEMENTS (pkts);

  for (uint16_t i = 0; i < n; i++)
    {
      const guint8 *dst = (const guint8 *[]) { BCAST, MAC_A, MAC_C }[i % 3];

      pkts[i] = frame (dst, i % 2 ? MAC_A : MAC_C, 100 + 100 * i);
      copies[i] = g_memdup2 (rte_pktmbuf_mtod (pkts[i], void *), rte_pktmbuf_data_len (pkts[i]));
    }
  for (int id = 0; id < DVS_FILTER_COUNT; id++)
    for (int dir = 0; dir < 2; dir++)
      {
        const struct dvs_filter_class *c = dvs_filter_classes[id];
        uint64_t state[8] = { 0 };
        uint64_t before = UINT64_C (0xdeadbeefcafef00d), pass = before;

        g_assert_cmpuint (c->state_size, <=, sizeof state);
        if (c->state_init)
          c->state_init (configs[id], state, TSC_BASE, HZ);
        c->filter (configs[id], state, dir, pkts, n, &pass, TSC_BASE, HZ);
        g_assert_cmphex (pass & ~before, ==, 0);                /* never sets a bit */
        g_assert_cmphex (pass & ~ALL (n), ==, before & ~ALL (n)); /* nor touches others */
        g_assert_cmphex (pass, !=, before);                     /* (each config drops some) */
        for (uint16_t i = 0; i < n; i++)
          {
            g_assert_cmpuint (rte_mbuf_refcnt_read (pkts[i]), ==, 1);
            g_assert_cmpmem (rte_pktmbuf_mtod (pkts[i], void *), rte_pktmbuf_data_len (pkts[i]),
                             copies[i], 100 + 100 * i);
          }
      }
  for (uint16_t i = 0; i < n; i++)
    g_free (copies[i]);
}

/* ---- block -------------------------------------------------------------- */

static void
test_block (gpointer f, gconstpointer data)
{
  struct dvs_block_config on = { .enabled = 1 }, off = { .enabled = 0 };
  struct rte_mbuf *pkts[32];
  uint64_t pass;

  burst_of (pkts, 32, 60);
  for (int dir = 0; dir < 2; dir++)
    {
      for (uint16_t n = 0; n <= 32; n++)
        {
          g_assert_cmphex (run (&dvs_filter_block, &on, NULL, dir, pkts, n, 0), ==, 0);
          g_assert_cmphex (run (&dvs_filter_block, &off, NULL, dir, pkts, n, 0), ==, ALL (n));
        }
      /* Bits already clear stay clear; bits beyond n are not the filter's. */
      pass = 0xb;
      dvs_filter_block.filter (&off, NULL, dir, pkts, 4, &pass, 0, HZ);
      g_assert_cmphex (pass, ==, 0xb);
      pass = ~UINT64_C (0);
      dvs_filter_block.filter (&on, NULL, dir, pkts, 5, &pass, 0, HZ);
      g_assert_cmphex (pass, ==, ~ALL (5));
    }
}

/* ---- port security ------------------------------------------------------ */

static struct dvs_security_config
security (guint8 forged_transmits, guint8 mac_changes, guint n_macs, ...)
{
  struct dvs_security_config c = { .enabled = 1, .forged_transmits = forged_transmits,
                                   .mac_changes = mac_changes, .n_macs = (uint8_t) n_macs };
  va_list ap;

  va_start (ap, n_macs);
  for (guint i = 0; i < n_macs; i++)
    memcpy (c.macs[i], va_arg (ap, const guint8 *), 6);
  va_end (ap);
  return c;
}

static void
test_security_from_guest (gpointer f, gconstpointer data)
{
  struct dvs_security_config c = security (0, 0, 1, MAC_A);
  struct rte_mbuf *pkts[] = {
    frame (MAC_B, MAC_A, 60),       /* own MAC */
    frame (MAC_B, MAC_C, 60),       /* spoofed */
    frame (BCAST, MAC_A, 60),       /* own MAC, broadcast */
    frame (BCAST, MAC_C, 60),       /* spoofed, broadcast: still spoofed */
    frame (MAC_C, MAC_A, 60),       /* to anywhere: the destination is not checked */
    frame (MAC_A, MAC_D, 60),       /* spoofed, to the own MAC */
    frame (MAC_B, MCAST, 60),       /* a group source is never allowed */
    frame (MAC_B, MAC_A, 10),       /* too short to check */
  };
  const uint16_t n = G_N_ELEMENTS (pkts);
  uint64_t pass;

  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, pkts, n, 0),
                   ==, BIT (0) | BIT (2) | BIT (4));
  /* Only the first n_macs entries count. */
  memcpy (c.macs[1], MAC_C, 6);
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, pkts, n, 0),
                   ==, BIT (0) | BIT (2) | BIT (4));
  /* Bits already clear stay clear. */
  pass = BIT (1) | BIT (4) | BIT (5);
  dvs_filter_security.filter (&c, NULL, DVS_DIR_FROM_GUEST, pkts, n, &pass, 0, HZ);
  g_assert_cmphex (pass, ==, BIT (4));

  c = security (1, 0, 1, MAC_A);      /* forged transmits allowed */
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, pkts, n, 0), ==, ALL (n));
  c = security (0, 0, 1, MAC_A);
  c.enabled = 0;
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, pkts, n, 0), ==, ALL (n));
  /* No allowed MAC: nothing leaves. */
  c = security (0, 1, 0);
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, pkts, n, 0), ==, 0);
}

static void
test_security_to_guest (gpointer f, gconstpointer data)
{
  struct dvs_security_config c = security (0, 0, 1, MAC_A);
  struct rte_mbuf *pkts[] = {
    frame (MAC_A, MAC_B, 60),       /* to the own MAC */
    frame (MAC_C, MAC_B, 60),       /* to a MAC the guest took: dropped */
    frame (BCAST, MAC_B, 60),
    frame (MCAST, MAC_B, 60),
    frame (MCAST6, MAC_B, 60),
    frame (MAC_A, MAC_C, 60),       /* the source is not checked */
    frame (MAC_A, MAC_B, 5),        /* too short to check */
  };
  const uint16_t n = G_N_ELEMENTS (pkts);

  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_TO_GUEST, pkts, n, 0),
                   ==, BIT (0) | BIT (2) | BIT (3) | BIT (4) | BIT (5));
  c = security (1, 0, 1, MAC_A);      /* forged transmits do not matter here */
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_TO_GUEST, pkts, n, 0),
                   ==, BIT (0) | BIT (2) | BIT (3) | BIT (4) | BIT (5));
  c = security (0, 1, 1, MAC_A);      /* MAC changes allowed */
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_TO_GUEST, pkts, n, 0), ==, ALL (n));
  c = security (0, 0, 1, MAC_A);
  c.enabled = 0;
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_TO_GUEST, pkts, n, 0), ==, ALL (n));
  /* No allowed MAC: only broadcast and multicast arrive. */
  c = security (1, 0, 0);
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_TO_GUEST, pkts, n, 0),
                   ==, BIT (2) | BIT (3) | BIT (4));
}

static void
test_security_several_macs (gpointer f, gconstpointer data)
{
  const guint8 *macs[DVS_SECURITY_MAX_MACS + 1];
  guint8 storage[DVS_SECURITY_MAX_MACS + 1][6];
  struct dvs_security_config c = security (0, 0, 3, MAC_A, MAC_B, MAC_D);
  struct rte_mbuf *from[32], *to[32];
  uint64_t want = 0;

  /* A burst of 32 cycling over A, B, C, D. */
  for (guint i = 0; i < 32; i++)
    {
      const guint8 *mac = (const guint8 *[]) { MAC_A, MAC_B, MAC_C, MAC_D }[i % 4];
      from[i] = frame (BCAST, mac, 64);
      to[i] = frame (mac, MAC_C, 64);
      if (i % 4 != 2)
        want |= BIT (i);
    }
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, from, 32, 0), ==, want);
  g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_TO_GUEST, to, 32, 0), ==, want);

  /* All eight slots in use, the last one matching. */
  for (guint i = 0; i < G_N_ELEMENTS (storage); i++)
    {
      memcpy (storage[i], MAC_D, 6);
      storage[i][5] = (guint8) (0x80 + i);
      macs[i] = storage[i];
    }
  c.n_macs = DVS_SECURITY_MAX_MACS;
  for (guint i = 0; i < DVS_SECURITY_MAX_MACS; i++)
    memcpy (c.macs[i], macs[i], 6);
  {
    struct rte_mbuf *pkts[] = {
      frame (BCAST, macs[0], 60),
      frame (BCAST, macs[DVS_SECURITY_MAX_MACS - 1], 60),
      frame (BCAST, macs[DVS_SECURITY_MAX_MACS], 60),   /* a ninth: not allowed */
    };
    g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, pkts, 3, 0), ==, 0x3);
    /* A count beyond the array is read as the array. */
    c.n_macs = 200;
    g_assert_cmphex (run (&dvs_filter_security, &c, NULL, DVS_DIR_FROM_GUEST, pkts, 3, 0), ==, 0x3);
  }
}

/* ---- the shaper --------------------------------------------------------- */

/* The synthetic clock: TSC after @ns nanoseconds. */
static uint64_t
tsc (uint64_t ns)
{
  return TSC_BASE + (uint64_t) ((unsigned __int128) ns * HZ / NS_PER_SEC);
}

static struct dvs_shaper_dir_config
rate (uint64_t average_kbps, uint64_t peak_kbps, uint64_t burst_kbytes)
{
  return (struct dvs_shaper_dir_config) { average_kbps, peak_kbps, burst_kbytes };
}

typedef struct {
  uint64_t bits, frames, dropped;
  uint64_t bits_before_drop;        /* passed before the first drop */
} Tally;

/* Offers pkts[0..n) in @dir every @step ns, from *@now_ns for @duration
 * ns; adds what passed to @t (may be NULL). */
static void
offer (const struct dvs_shaper_config *c, struct dvs_shaper_state *s,
       enum dvs_filter_dir dir, struct rte_mbuf **pkts, uint16_t n,
       uint64_t step, uint64_t duration, uint64_t *now_ns, Tally *t)
{
  for (uint64_t end = *now_ns + duration; *now_ns < end; *now_ns += step)
    {
      uint64_t pass = run (&dvs_filter_shaper, c, s, dir, pkts, n, tsc (*now_ns));

      if (t == NULL)
        continue;
      for (uint16_t i = 0; i < n; i++)
        if (pass & BIT (i))
          {
            uint64_t bits = (uint64_t) rte_pktmbuf_pkt_len (pkts[i]) * 8;
            t->bits += bits;
            t->frames++;
            if (t->dropped == 0)
              t->bits_before_drop += bits;
          }
        else
          t->dropped++;
    }
}

static void
assert_within_1pct (uint64_t got, uint64_t want)
{
  g_assert_cmpfloat ((double) got, >=, want * 0.99);
  g_assert_cmpfloat ((double) got, <=, want * 1.01);
}

/* Depths, in the units filter-shaper.c documents: kbit = 1000 bits,
 * KB = 1024 bytes, at least one 9216-byte frame, peak 10 ms of peak rate. */
static void
test_shaper_depths (gpointer f, gconstpointer data)
{
  struct dvs_shaper_config c = { .dir = { rate (1000, 0, 100), rate (1000, 1000000, 1) } };
  struct dvs_shaper_state s;
  struct rte_mbuf *jumbo = frame (MAC_A, MAC_B, 9216);

  dvs_filter_shaper.state_init (&c, &s, 42, HZ);
  g_assert_cmpuint (s.dir[0].tokens_bits, ==, 100 * 1024 * 8);
  g_assert_cmpuint (s.dir[0].peak_tokens_bits, ==, MAX_FRAME_BITS);
  g_assert_cmpuint (s.dir[0].last_tsc, ==, 42);
  g_assert_cmpuint (s.dir[1].tokens_bits, ==, MAX_FRAME_BITS);   /* 1 KB: one frame */
  g_assert_cmpuint (s.dir[1].peak_tokens_bits, ==, 10000000);    /* 10 ms at 1 Gbit/s */
  g_assert_cmpuint (s.dir[1].last_tsc, ==, 42);
  /* A burst below one frame still lets a max-size frame through. */
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_TO_GUEST, &jumbo, 1, 42), ==, 1);
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_TO_GUEST, &jumbo, 1, 42), ==, 0);
}

/* A saturating sender gets the average rate, ±1 %, over 10 s. */
static void
test_shaper_average (gpointer f, gconstpointer data)
{
  static const struct {
    uint64_t kbps, burst_kbytes;
    guint len, per_call;
    uint64_t step;
  } cases[] = {
    { 64, 9, 64, 1, 3 * US },        /* refilled every 0.19 bit: no fraction lost */
    { 10000, 64, 1500, 32, 100 * US },
    { 1000000, 64, 1500, 32, 20 * US },
    { 10000000, 64, 1500, 32, 10 * US },
    { 25000000, 1024, 9000, 32, 50 * US },
  };

  for (guint k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      struct dvs_shaper_config c = {
        .dir = { rate (cases[k].kbps, 2 * cases[k].kbps, cases[k].burst_kbytes) },
      };
      struct dvs_shaper_state s;
      struct rte_mbuf *pkts[32];
      uint64_t now = 0;
      Tally t = { 0 };

      burst_of (pkts, cases[k].per_call, cases[k].len);
      dvs_filter_shaper.state_init (&c, &s, tsc (0), HZ);
      /* drain the burst, then measure */
      offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, cases[k].per_call, cases[k].step, 2 * SEC, &now, NULL);
      offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, cases[k].per_call, cases[k].step, 10 * SEC, &now, &t);
      g_test_message ("%" G_GUINT64_FORMAT " kbit/s: %" G_GUINT64_FORMAT " bits in 10 s",
                      cases[k].kbps, t.bits);
      assert_within_1pct (t.bits, cases[k].kbps * 1000 * 10);
      g_assert_cmpuint (t.dropped, >, 0);
      g_ptr_array_set_size (frames, 0);
    }
}

/* After an idle spell, up to the burst size passes above the average. */
static void
test_shaper_burst_after_idle (gpointer f, gconstpointer data)
{
  struct dvs_shaper_config c = { .dir = { rate (10000, 1000000, 100) } };
  const uint64_t burst_bits = 100 * 1024 * 8;
  struct dvs_shaper_state s;
  struct rte_mbuf *pkts[32], *one;
  uint64_t now = 0;
  Tally t = { 0 };

  burst_of (pkts, 32, 1500);
  dvs_filter_shaper.state_init (&c, &s, tsc (0), HZ);
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 1 * SEC, &now, NULL);
  now += 10 * SEC;
  /* With a peak of 1 Gbit/s (1 Mbit deep) the whole burst passes at once:
   * three bursts of 32 at one TSC reading. */
  for (int i = 0; i < 3; i++)
    {
      uint64_t at = now;
      offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1, 1, &at, &t);
    }
  g_assert_cmpuint (t.frames, ==, burst_bits / 12000);
  g_assert_cmpuint (t.bits_before_drop, ==, t.bits);

  /* With a peak of 20 Mbit/s, a sender at 19 Mbit/s gets the whole burst
   * through before it meets a drop, then the average. */
  c.dir[0] = rate (10000, 20000, 100);
  one = pkts[0];
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 1 * SEC, &now, NULL);
  now += 10 * SEC;
  memset (&t, 0, sizeof t);
  offer (&c, &s, DVS_DIR_FROM_GUEST, &one, 1, 12000 * NS_PER_SEC / 19000000, 1 * SEC, &now, &t);
  g_assert_cmpuint (t.bits_before_drop, >=, burst_bits);
  /* burst + average over the time it lasted: B · r / (r − A) */
  g_assert_cmpuint (t.bits_before_drop, <=, burst_bits * 19 / 9 + 12000);
}

/* The peak rate holds while the burst lasts; then the average. */
static void
test_shaper_peak (gpointer f, gconstpointer data)
{
  struct dvs_shaper_config c = { .dir = { rate (1000, 10000, 1024) } };
  struct dvs_shaper_state s;
  struct rte_mbuf *pkts[32];
  uint64_t now = 0;
  Tally t = { 0 };

  burst_of (pkts, 32, 1500);
  dvs_filter_shaper.state_init (&c, &s, tsc (0), HZ);
  /* At one instant: one peak bucket, 10 ms at 10 Mbit/s = 12500 bytes,
   * of 1500-byte frames. */
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_FROM_GUEST, pkts, 32, tsc (0)), ==, ALL (8));
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 50 * MS, &now, NULL);
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 500 * MS, &now, &t);
  assert_within_1pct (t.bits, 10000 * 1000 / 2);
  /* The burst (8 Mbit) is spent after about a second at 9 Mbit/s above average. */
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 2 * SEC, &now, NULL);
  memset (&t, 0, sizeof t);
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 10 * SEC, &now, &t);
  assert_within_1pct (t.bits, 1000 * 1000 * 10);
}

/* Each direction has its own buckets and rates; an unshaped one is free. */
static void
test_shaper_directions (gpointer f, gconstpointer data)
{
  struct dvs_shaper_config c = { .dir = { rate (1000, 0, 16), rate (100000, 0, 16) } };
  struct dvs_shaper_state s;
  struct dvs_shaper_bucket to_before;
  struct rte_mbuf *pkts[32];
  uint64_t now = 0;
  Tally from = { 0 }, to = { 0 };

  burst_of (pkts, 32, 1500);
  dvs_filter_shaper.state_init (&c, &s, tsc (0), HZ);
  to_before = s.dir[DVS_DIR_TO_GUEST];
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 2 * SEC, &now, NULL);
  g_assert_cmpmem (&s.dir[DVS_DIR_TO_GUEST], sizeof to_before, &to_before, sizeof to_before);

  /* Both saturated at once, each gets its own rate. */
  for (uint64_t end = now + 10 * SEC; now < end;)
    {
      uint64_t t0 = now;
      offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 100 * US, 100 * US, &now, &from);
      now = t0;
      offer (&c, &s, DVS_DIR_TO_GUEST, pkts, 32, 100 * US, 100 * US, &now, &to);
    }
  assert_within_1pct (from.bits, 1000 * 1000 * 10);
  assert_within_1pct (to.bits, 100000 * 1000 * 10);

  /* average 0: that direction is not shaped, and its state not touched. */
  c.dir[DVS_DIR_TO_GUEST] = rate (0, 1000, 1);
  to_before = s.dir[DVS_DIR_TO_GUEST];
  for (int i = 0; i < 1000; i++)
    g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_TO_GUEST, pkts, 32, tsc (now)), ==, ALL (32));
  g_assert_cmpmem (&s.dir[DVS_DIR_TO_GUEST], sizeof to_before, &to_before, sizeof to_before);
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_FROM_GUEST, pkts, 32, tsc (now)), !=, ALL (32));
}

/* Frames already dropped by an earlier filter take no tokens. */
static void
test_shaper_respects_pass (gpointer f, gconstpointer data)
{
  struct dvs_shaper_config c = { .dir = { rate (1000, 0, 9), rate (1000, 0, 9) } };
  struct dvs_shaper_state s;
  struct rte_mbuf *pkts[32];
  uint64_t pass = 0;

  burst_of (pkts, 32, 1500);
  dvs_filter_shaper.state_init (&c, &s, tsc (0), HZ);
  dvs_filter_shaper.filter (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, &pass, tsc (0), HZ);
  g_assert_cmphex (pass, ==, 0);
  g_assert_cmpuint (s.dir[0].tokens_bits, ==, MAX_FRAME_BITS);
  pass = BIT (7) | BIT (31);
  dvs_filter_shaper.filter (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, &pass, tsc (0), HZ);
  g_assert_cmphex (pass, ==, BIT (7) | BIT (31));
  g_assert_cmpuint (s.dir[0].tokens_bits, ==, MAX_FRAME_BITS - 2 * 12000);
  g_assert_cmpuint (s.dir[0].peak_tokens_bits, ==, MAX_FRAME_BITS - 2 * 12000);
  /* A smaller frame may pass where a larger one did not. */
  {
    struct rte_mbuf *mixed[] = { frame (MAC_A, MAC_B, 9000), frame (MAC_A, MAC_B, 64) };
    g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_FROM_GUEST, mixed, 2, tsc (0)), ==, BIT (1));
  }
}

/* No overflow after years of idling, at any rate; a clock going backwards
 * earns nothing. */
static void
test_shaper_long_idle (gpointer f, gconstpointer data)
{
  struct dvs_shaper_config c = { .dir = { rate (1000000, 2000000, 1024) } };
  const uint64_t ten_years = UINT64_C (10) * 365 * 86400 * SEC;
  struct dvs_shaper_state s;
  struct rte_mbuf *pkts[32];
  uint64_t now = 0;

  burst_of (pkts, 32, 1500);
  dvs_filter_shaper.state_init (&c, &s, tsc (0), HZ);
  offer (&c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 10 * US, 100 * MS, &now, NULL);
  g_assert_cmpuint (s.dir[0].tokens_bits, <, 1024 * 8192);
  now += ten_years;
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_FROM_GUEST, pkts, 32, tsc (now)), ==, ALL (32));
  g_assert_cmpuint (s.dir[0].tokens_bits, ==, 1024 * 8192 - 32 * 12000);
  g_assert_cmpuint (s.dir[0].peak_tokens_bits, ==, 20000000 - 32 * 12000);
  g_assert_cmpuint (s.dir[0].last_tsc, ==, tsc (now));

  /* The largest settings, over the whole TSC range. */
  c.dir[0] = rate (UINT64_MAX, UINT64_MAX, UINT64_MAX);
  dvs_filter_shaper.state_init (&c, &s, 0, HZ);
  g_assert_cmpuint (s.dir[0].tokens_bits, ==, UINT64_MAX);
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_FROM_GUEST, pkts, 32, UINT64_MAX), ==, ALL (32));
  g_assert_cmpuint (s.dir[0].tokens_bits, ==, UINT64_MAX - 32 * 12000);
  g_assert_cmpuint (s.dir[0].last_tsc, ==, UINT64_MAX);

  /* A slow rate idle across the same range: full, not wrapped. */
  c.dir[0] = rate (1, 0, 1);
  dvs_filter_shaper.state_init (&c, &s, 0, HZ);
  s.dir[0].tokens_bits = 0;
  s.dir[0].peak_tokens_bits = 0;
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_FROM_GUEST, pkts, 32, UINT64_MAX), ==, ALL (6));
  /* back in time: nothing earned, nothing broken */
  g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, DVS_DIR_FROM_GUEST, pkts, 32, 5), ==, 0);
  g_assert_cmpuint (s.dir[0].last_tsc, ==, UINT64_MAX);
}

/* average 0: no shaping, whatever else is set. */
static void
test_shaper_zero_average (gpointer f, gconstpointer data)
{
  struct dvs_shaper_config c = { .dir = { rate (0, 1, 1), rate (0, 0, 0) } };
  struct dvs_shaper_state s, before;
  struct rte_mbuf *pkts[32];

  burst_of (pkts, 32, 9000);
  dvs_filter_shaper.state_init (&c, &s, tsc (0), HZ);
  before = s;
  for (int dir = 0; dir < 2; dir++)
    for (uint64_t i = 0; i < 1000; i++)
      g_assert_cmphex (run (&dvs_filter_shaper, &c, &s, dir, pkts, 32, tsc (i)), ==, ALL (32));
  g_assert_cmpmem (&s, sizeof s, &before, sizeof before);
}

/* ---- the shaper's serialized state -------------------------------------- */

static const struct dvs_shaper_config traffic_config = {
  .dir = { { 10000, 20000, 64 }, { 50000, 0, 32 } },
};

/* A state after some traffic both ways, as of 503.7 ms. */
static void
traffic_state (struct dvs_shaper_state *s, uint64_t *save_ns)
{
  struct rte_mbuf *pkts[32];
  uint64_t now = 0;

  burst_of (pkts, 32, 1500);
  dvs_filter_shaper.state_init (&traffic_config, s, tsc (0), HZ);
  offer (&traffic_config, s, DVS_DIR_FROM_GUEST, pkts, 32, 1 * MS, 500 * MS, &now, NULL);
  now = 250 * MS;
  offer (&traffic_config, s, DVS_DIR_TO_GUEST, pkts, 32, 1 * MS, 1 * MS, &now, NULL);
  *save_ns = 503 * MS + 700 * US;
}

static void
test_state_round_trip (gpointer f, gconstpointer data)
{
  struct dvs_shaper_state s, s2;
  struct rte_mbuf *pkts[32];
  uint8_t buf[SHAPER_V1_SIZE];
  uint64_t save_ns, t_save, t_load = tsc (3600 * SEC);

  traffic_state (&s, &save_ns);
  t_save = tsc (save_ns);
  for (int d = 0; d < 2; d++)
    {
      g_assert_cmpuint (s.dir[d].tokens_bits, <, 32 * 8192);   /* not full: refills would show */
      g_assert_cmpuint (s.dir[d].last_tsc, <, t_save);
    }
  g_assert_cmpint (dvs_filter_shaper.state_save (&traffic_config, &s, buf, sizeof buf, t_save, HZ),
                   ==, SHAPER_V1_SIZE);
  /* An hour later, in a state the datapath gave zeroed (say, garbage). */
  memset (&s2, 0xa5, sizeof s2);
  g_assert_cmpint (dvs_filter_shaper.state_load (&traffic_config, &s2, 1, buf, sizeof buf, t_load, HZ),
                   ==, 0);
  for (int d = 0; d < 2; d++)
    {
      int64_t since = (int64_t) (t_save - s.dir[d].last_tsc);
      int64_t since2 = (int64_t) (t_load - s2.dir[d].last_tsc);

      /* the levels as saved: the hour outside earned nothing */
      g_assert_cmpuint (s2.dir[d].tokens_bits, ==, s.dir[d].tokens_bits);
      g_assert_cmpuint (s2.dir[d].peak_tokens_bits, ==, s.dir[d].peak_tokens_bits);
      /* the time since the last refill, within the rounding through ns */
      g_assert_cmpint (ABS (since2 - since), <=, (int64_t) (HZ / NS_PER_SEC) + 1);
    }
  /* From then on both states behave alike: 1 ms after the save or the load. */
  burst_of (pkts, 32, 1500);
  for (int d = 0; d < 2; d++)
    {
      uint64_t a = run (&dvs_filter_shaper, &traffic_config, &s, d, pkts, 32, tsc (save_ns + 1 * MS));
      uint64_t b = run (&dvs_filter_shaper, &traffic_config, &s2, d, pkts, 32, t_load + tsc (1 * MS) - TSC_BASE);

      g_assert_cmphex (a, ==, b);
      g_assert_cmphex (a, !=, ALL (32));
      g_assert_cmpint (ABS ((int64_t) (s.dir[d].tokens_bits - s2.dir[d].tokens_bits)), <=, 4);
    }
}

static void
test_state_bad_input (gpointer f, gconstpointer data)
{
  static const uint16_t bad_versions[] = { 0, 2, 0xffff };
  static const size_t bad_lengths[] = { 0, 1, 47, 49 };
  struct dvs_shaper_state s, fresh;
  uint8_t buf[SHAPER_V1_SIZE + 1] = { 0 };
  const uint64_t now = tsc (7 * SEC);
  uint64_t save_ns;

  traffic_state (&s, &save_ns);
  g_assert_cmpint (dvs_filter_shaper.state_save (&traffic_config, &s, buf, sizeof buf, tsc (save_ns), HZ),
                   ==, SHAPER_V1_SIZE);
  dvs_filter_shaper.state_init (&traffic_config, &fresh, now, HZ);

  for (guint i = 0; i < G_N_ELEMENTS (bad_versions); i++)
    {
      memset (&s, 0xa5, sizeof s);
      g_assert_cmpint (dvs_filter_shaper.state_load (&traffic_config, &s, bad_versions[i], buf,
                                                     SHAPER_V1_SIZE, now, HZ), ==, -EINVAL);
      g_assert_cmpmem (&s, sizeof s, &fresh, sizeof fresh);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_lengths); i++)
    {
      memset (&s, 0xa5, sizeof s);
      g_assert_cmpint (dvs_filter_shaper.state_load (&traffic_config, &s, 1, buf,
                                                     bad_lengths[i], now, HZ), ==, -EINVAL);
      g_assert_cmpmem (&s, sizeof s, &fresh, sizeof fresh);
    }
  memset (&s, 0xa5, sizeof s);
  g_assert_cmpint (dvs_filter_shaper.state_load (&traffic_config, &s, 1, NULL, 0, now, HZ), ==, -EINVAL);
  g_assert_cmpmem (&s, sizeof s, &fresh, sizeof fresh);

  /* Levels beyond what the config allows now (it changed since the save):
   * clamped; a duration longer than the TSC has run: dated at 0. */
  memset (buf, 0xff, sizeof buf);
  g_assert_cmpint (dvs_filter_shaper.state_load (&traffic_config, &s, 1, buf, SHAPER_V1_SIZE, now, HZ),
                   ==, 0);
  g_assert_cmpmem (&s, sizeof s,
                   /* peak depths: 10 ms of 20 and of 50 Mbit/s */
                   (&(struct dvs_shaper_state) { { { 64 * 8192, 200000, 0 },
                                                   { 32 * 8192, 500000, 0 } } }),
                   sizeof s);
}

static void
test_state_nospace (gpointer f, gconstpointer data)
{
  static const size_t small[] = { 0, 1, SHAPER_V1_SIZE - 1 };
  struct dvs_shaper_state s;
  uint8_t buf[SHAPER_V1_SIZE + 16], untouched[sizeof buf];

  dvs_filter_shaper.state_init (&traffic_config, &s, tsc (0), HZ);
  memset (untouched, 0xee, sizeof untouched);
  for (guint i = 0; i < G_N_ELEMENTS (small); i++)
    {
      memset (buf, 0xee, sizeof buf);
      g_assert_cmpint (dvs_filter_shaper.state_save (&traffic_config, &s, buf, small[i], tsc (0), HZ),
                       ==, -ENOSPC);
      g_assert_cmpmem (buf, sizeof buf, untouched, sizeof untouched);
    }
  memset (buf, 0xee, sizeof buf);
  g_assert_cmpint (dvs_filter_shaper.state_save (&traffic_config, &s, buf, SHAPER_V1_SIZE, tsc (0), HZ),
                   ==, SHAPER_V1_SIZE);
  g_assert_cmpint (dvs_filter_shaper.state_save (&traffic_config, &s, buf, sizeof buf, tsc (0), HZ),
                   ==, SHAPER_V1_SIZE);
  g_assert_cmpmem (buf + SHAPER_V1_SIZE, 16, untouched, 16);
}

/* ---- golden files ------------------------------------------------------- */

static gboolean
regenerating (void)
{
  return g_strcmp0 (g_getenv ("DVS_REGENERATE_FIXTURES"), "1") == 0;
}

static gchar *
fixture_path (const gchar *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
}

/* Compares @bytes with fixtures/@name, or rewrites it when regenerating. */
static void
check_fixture (const gchar *name, const uint8_t *bytes, gsize len)
{
  g_autofree gchar *path = fixture_path (name);
  g_autofree gchar *expected = NULL;
  g_autoptr (GError) error = NULL;
  gsize expected_len;

  if (regenerating ())
    {
      g_assert_true (g_file_set_contents (path, (const gchar *) bytes, (gssize) len, &error));
      g_assert_no_error (error);
      g_test_message ("rewrote %s", path);
      return;
    }
  if (!g_file_get_contents (path, &expected, &expected_len, &error))
    {
      g_test_fail_printf ("%s (DVS_REGENERATE_FIXTURES=1 writes it)", error->message);
      return;
    }
  /* A difference is a change of format: bump state_version, keep loading
   * the old one, and regenerate. */
  g_assert_cmpmem (bytes, len, expected, expected_len);
}

/* A state whose every field shows its byte order; TSC = ns (hz = 1e9). */
#define HANDMADE_NOW UINT64_C (0x4000000000000000)
static const struct dvs_shaper_state handmade = { {
  { UINT64_C (0x0807060504030201), UINT64_C (0x0017161514131211),
    HANDMADE_NOW - UINT64_C (0x0000282726252423) },
  { UINT64_C (0x3837363534333231), UINT64_C (0x0037464544434241),
    HANDMADE_NOW - UINT64_C (0x0000585756555453) },
} };
/* a config under which none of it is clamped */
static const struct dvs_shaper_config handmade_config = {
  .dir = { { UINT64_MAX, UINT64_MAX, UINT64_MAX }, { UINT64_MAX, UINT64_MAX, UINT64_MAX } },
};

static void
save_fixture (const gchar *what, const struct dvs_shaper_config *c,
              const struct dvs_shaper_state *s, uint64_t now, uint64_t hz)
{
  g_autofree gchar *name = g_strdup_printf ("shaper-v%u-%s.bin", dvs_filter_shaper.state_version, what);
  uint8_t buf[256];
  ssize_t len = dvs_filter_shaper.state_save (c, s, buf, sizeof buf, now, hz);

  g_assert_cmpint (len, >, 0);
  check_fixture (name, buf, (gsize) len);
}

static void
test_golden_save (gpointer f, gconstpointer data)
{
  struct dvs_shaper_state s;
  uint64_t save_ns;

  save_fixture ("handmade", &handmade_config, &handmade, HANDMADE_NOW, NS_PER_SEC);
  traffic_state (&s, &save_ns);
  save_fixture ("traffic", &traffic_config, &s, tsc (save_ns), HZ);
  /* Edges: a refill later than the save counts as none; a duration beyond
   * 2^64 ns saturates. */
  s = handmade;
  s.dir[0].last_tsc = UINT64_MAX;
  s.dir[1].last_tsc = 0;
  save_fixture ("edges", &handmade_config, &s, UINT64_MAX / 2, 1000);
}

/* Version 1 files load, whatever version this code writes. */
static void
test_golden_load_v1 (gpointer f, gconstpointer data)
{
  g_autofree gchar *path = fixture_path ("shaper-v1-handmade.bin");
  g_autofree gchar *bytes = NULL;
  g_autoptr (GError) error = NULL;
  const uint64_t now = UINT64_C (0x5000000000000000);
  struct dvs_shaper_state s, want = handmade;
  gsize len;

  g_assert_true (g_file_get_contents (path, &bytes, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (dvs_filter_shaper.state_load (&handmade_config, &s, 1, (const uint8_t *) bytes,
                                                 len, now, NS_PER_SEC), ==, 0);
  for (int d = 0; d < 2; d++)
    want.dir[d].last_tsc += now - HANDMADE_NOW;
  g_assert_cmpmem (&s, sizeof s, &want, sizeof want);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_eal_init ();
  /* room for one 9216-byte frame per mbuf */
  pool = rte_pktmbuf_pool_create ("unit_filters", 511, 0, 0,
                                  RTE_PKTMBUF_HEADROOM + 9216, SOCKET_ID_ANY);
  g_assert_nonnull (pool);
  frames = g_ptr_array_new_with_free_func ((GDestroyNotify) rte_pktmbuf_free);

#define T(path, fn) g_test_add ("/filters/" path, void, NULL, fixture_setup, fn, fixture_teardown)
  T ("class-table", test_class_table);
  T ("contract", test_contract);
  T ("block", test_block);
  T ("security/from-guest", test_security_from_guest);
  T ("security/to-guest", test_security_to_guest);
  T ("security/several-macs", test_security_several_macs);
  T ("shaper/depths", test_shaper_depths);
  T ("shaper/average", test_shaper_average);
  T ("shaper/burst-after-idle", test_shaper_burst_after_idle);
  T ("shaper/peak", test_shaper_peak);
  T ("shaper/directions", test_shaper_directions);
  T ("shaper/respects-pass", test_shaper_respects_pass);
  T ("shaper/long-idle", test_shaper_long_idle);
  T ("shaper/zero-average", test_shaper_zero_average);
  T ("state/round-trip", test_state_round_trip);
  T ("state/bad-input", test_state_bad_input);
  T ("state/nospace", test_state_nospace);
  T ("state/golden-save", test_golden_save);
  T ("state/golden-load-v1", test_golden_load_v1);
  return g_test_run ();
}
