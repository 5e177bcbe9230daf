/* Traffic shaping as a filter class (contract in filter-class.h): a
 * two-rate policer per direction, with vSphere's settings.
 *
 * Units, as vSphere's: average_kbps and peak_kbps are in kbit/s with
 * kbit = 1000 bits; burst_kbytes is in KB with KB = 1024 bytes, so the
 * committed depth is burst_kbytes * 8192 bits.  A frame counts its full
 * length, rte_pktmbuf_pkt_len () * 8 bits (no preamble, gap or FCS).
 *
 * Buckets, per direction:
 *   committed  fills at average_kbps up to the burst size, but at least one
 *              max-size frame (9216 bytes): a smaller burst would starve
 *              larger frames forever.
 *   peak       fills at peak_kbps (peak_kbps below average_kbps, 0
 *              included, means peak = average) up to one max-size frame or
 *              10 ms at the peak rate, whichever is more: the peak rate holds
 *              over any window of 10 ms or longer.  One frame alone (tbf's
 *              "mtu") is too shallow for this datapath, which takes up to 32
 *              frames at one TSC reading: it would cap a port at 9216 bytes
 *              per poll (7.4 Gbit/s when polled every 10 µs), whatever the
 *              config says.  10 ms is tbf's rule (burst >= rate / HZ) at
 *              HZ=100, and what a datapath sharing its CPU needs: a port not
 *              polled for a few milliseconds (another process ran) must not
 *              lose the tokens it earned meanwhile — with a 1 ms bucket a
 *              saturating sender on a busy 2-core host got a third less than
 *              the average rate.  As deep as the burst, the peak bucket would
 *              never bind: it would start as full as the committed one and
 *              fill faster.  (A port polled less often than every 10 ms
 *              finds the bucket full and loses what did not fit.)
 * A frame passes when both buckets hold its length, and is then taken from
 * both; otherwise it is dropped and takes nothing (policing: nothing is
 * queued).  So after an idle spell up to the burst size passes above the
 * average rate, at up to the peak rate.  With no peak (peak = average) the
 * burst buys nothing, as in vSphere, where the burst bonus is spent at peak.
 *
 * Time: one last-refill TSC per direction serves both buckets.  The bits a
 * bucket earns from TSC a to b are floor (b·rate/hz) − floor (a·rate/hz) in
 * 128-bit arithmetic: the floors telescope, so refilling every microsecond
 * at a low rate loses no fractions of a bit, and no product overflows
 * (both factors are below 2^64) however long the port idled.  Rates and
 * depths saturate at UINT64_MAX.
 *
 * average_kbps = 0: the direction is not shaped; its buckets are left alone.
 * state_init fills the buckets of both directions (a fresh port may burst;
 * a direction shaped later by a reconfiguration starts full too).  A bucket
 * deeper than a new config allows is clamped at its next refill.
 *
 * Serialized state, version 1: 48 bytes, for DVS_DIR_FROM_GUEST then
 * DVS_DIR_TO_GUEST, each little-endian:
 *   u64  committed bucket level, bits
 *   u64  peak bucket level, bits
 *   u64  time since the last refill, ns (saturated)
 * state_load clamps the levels to the current config's depths and dates the
 * last refill that long before `now`: time between the save and the load
 * earns nothing. */
#include "filter-class.h"

#include <errno.h>
#include <rte_mbuf.h>

#define MAX_FRAME_BITS (9216 * 8)
#define PEAK_WINDOW_PER_SEC 100      /* the peak bucket holds 10 ms of peak */
#define STATE_V1_SIZE (2 * 3 * 8)
#define NSEC_PER_SEC UINT64_C (1000000000)

/* A direction's config in bits and bits per second. */
struct shaper_params {
  uint64_t rate, peak_rate;
  uint64_t depth, peak_depth;
};

static inline uint64_t
sat_u64 (unsigned __int128 v)
{
  return v > UINT64_MAX ? UINT64_MAX : (uint64_t) v;
}

static inline uint64_t
mul_div (uint64_t a, uint64_t b, uint64_t c)
{
  return sat_u64 ((unsigned __int128) a * b / c);
}

static void
shaper_params (const struct dvs_shaper_dir_config *c, struct shaper_params *p)
{
  uint64_t burst = sat_u64 ((unsigned __int128) c->burst_kbytes * 8192);

  p->rate = sat_u64 ((unsigned __int128) c->average_kbps * 1000);
  p->peak_rate = c->peak_kbps < c->average_kbps
                 ? p->rate : sat_u64 ((unsigned __int128) c->peak_kbps * 1000);
  p->depth = burst > MAX_FRAME_BITS ? burst : MAX_FRAME_BITS;
  p->peak_depth = p->peak_rate / PEAK_WINDOW_PER_SEC > MAX_FRAME_BITS
                  ? p->peak_rate / PEAK_WINDOW_PER_SEC : MAX_FRAME_BITS;
}

/* Bits earned at @rate from TSC @from to @to (from <= to). */
static inline uint64_t
earned (uint64_t from, uint64_t to, uint64_t rate, uint64_t hz)
{
  return sat_u64 ((unsigned __int128) to * rate / hz
                  - (unsigned __int128) from * rate / hz);
}

static inline uint64_t
fill (uint64_t level, uint64_t add, uint64_t depth)
{
  return level >= depth || add >= depth - level ? depth : level + add;
}

static void
refill (struct dvs_shaper_bucket *b, const struct shaper_params *p,
        uint64_t now, uint64_t hz)
{
  uint64_t add = 0, peak_add = 0;

  if (now > b->last_tsc && hz != 0)
    {
      add = earned (b->last_tsc, now, p->rate, hz);
      peak_add = earned (b->last_tsc, now, p->peak_rate, hz);
      b->last_tsc = now;
    }
  b->tokens_bits = fill (b->tokens_bits, add, p->depth);
  b->peak_tokens_bits = fill (b->peak_tokens_bits, peak_add, p->peak_depth);
}

static void
shaper_state_init (const void *config, void *state, uint64_t now, uint64_t hz)
{
  const struct dvs_shaper_config *c = config;
  struct dvs_shaper_state *s = state;

  for (int d = 0; d < 2; d++)
    {
      struct shaper_params p;

      shaper_params (&c->dir[d], &p);
      s->dir[d].tokens_bits = p.depth;
      s->dir[d].peak_tokens_bits = p.peak_depth;
      s->dir[d].last_tsc = now;
    }
}

static void
shaper_filter (const void *config, void *state, enum dvs_filter_dir dir,
               struct rte_mbuf **pkts, uint16_t n, uint64_t *pass,
               uint64_t now, uint64_t hz)
{
  const struct dvs_shaper_config *c = config;
  struct dvs_shaper_state *s = state;
  struct dvs_shaper_bucket *b;
  struct shaper_params p;
  uint64_t todo = *pass;

  if ((unsigned) dir > DVS_DIR_TO_GUEST || c->dir[dir].average_kbps == 0)
    return;
  b = &s->dir[dir];
  shaper_params (&c->dir[dir], &p);
  refill (b, &p, now, hz);
  if (n < 64)
    todo &= (UINT64_C (1) << n) - 1;

  while (todo)
    {
      unsigned i = (unsigned) __builtin_ctzll (todo);
      uint64_t bits = (uint64_t) rte_pktmbuf_pkt_len (pkts[i]) * 8;

      todo &= todo - 1;
      if (b->tokens_bits >= bits && b->peak_tokens_bits >= bits)
        {
          b->tokens_bits -= bits;
          b->peak_tokens_bits -= bits;
        }
      else
        *pass &= ~(UINT64_C (1) << i);
    }
}

static inline void
put_le64 (uint8_t *p, uint64_t v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t) (v >> (8 * i));
}

static inline uint64_t
get_le64 (const uint8_t *p)
{
  uint64_t v = 0;

  for (int i = 0; i < 8; i++)
    v |= (uint64_t) p[i] << (8 * i);
  return v;
}

static ssize_t
shaper_state_save (const void *config, const void *state, uint8_t *buf,
                   size_t cap, uint64_t now, uint64_t hz)
{
  const struct dvs_shaper_state *s = state;

  if (cap < STATE_V1_SIZE)
    return -ENOSPC;
  for (int d = 0; d < 2; d++)
    {
      const struct dvs_shaper_bucket *b = &s->dir[d];
      uint64_t since = now > b->last_tsc ? now - b->last_tsc : 0;

      put_le64 (buf + 24 * d, b->tokens_bits);
      put_le64 (buf + 24 * d + 8, b->peak_tokens_bits);
      put_le64 (buf + 24 * d + 16, hz != 0 ? mul_div (since, NSEC_PER_SEC, hz) : 0);
    }
  return STATE_V1_SIZE;
}

static int
shaper_state_load (const void *config, void *state, uint16_t version,
                   const uint8_t *buf, size_t len, uint64_t now, uint64_t hz)
{
  const struct dvs_shaper_config *c = config;
  struct dvs_shaper_state *s = state;

  if (version != 1 || len != STATE_V1_SIZE || buf == NULL)
    {
      shaper_state_init (config, state, now, hz);
      return -EINVAL;
    }
  for (int d = 0; d < 2; d++)
    {
      struct dvs_shaper_bucket *b = &s->dir[d];
      struct shaper_params p;
      uint64_t tokens = get_le64 (buf + 24 * d);
      uint64_t peak_tokens = get_le64 (buf + 24 * d + 8);
      uint64_t since = mul_div (get_le64 (buf + 24 * d + 16), hz, NSEC_PER_SEC);

      shaper_params (&c->dir[d], &p);
      b->tokens_bits = tokens < p.depth ? tokens : p.depth;
      b->peak_tokens_bits = peak_tokens < p.peak_depth ? peak_tokens : p.peak_depth;
      b->last_tsc = now - (since < now ? since : now);
    }
  return 0;
}

const struct dvs_filter_class dvs_filter_shaper = {
  .name = "shaper",
  .state_version = 1,
  .state_size = sizeof (struct dvs_shaper_state),
  .state_init = shaper_state_init,
  .filter = shaper_filter,
  .state_save = shaper_state_save,
  .state_load = shaper_state_load,
};
