/* The L4 load balancer's member scheduler (lb-sched.h). */
#include "lb-sched.h"

#include <errno.h>
#include <string.h>

static const char *const algo_names[DVS_LB_ALGO_COUNT] = {
  [DVS_LB_RR] = "rr", [DVS_LB_WRR] = "wrr", [DVS_LB_LC] = "lc",
  [DVS_LB_WLC] = "wlc", [DVS_LB_LBLC] = "lblc", [DVS_LB_LBLCR] = "lblcr",
  [DVS_LB_DH] = "dh", [DVS_LB_SH] = "sh", [DVS_LB_SED] = "sed",
  [DVS_LB_NQ] = "nq", [DVS_LB_LRQD] = "lrqd",
};

#define DAY_S (24u * 60 * 60)

int
dvs_lb_algo_from_name (const char *name)
{
  for (int a = 0; a < DVS_LB_ALGO_COUNT; a++)
    if (strcmp (name, algo_names[a]) == 0)
      return a;
  return -1;
}

const char *
dvs_lb_algo_name (enum dvs_lb_algo algo)
{
  return (unsigned) algo < DVS_LB_ALGO_COUNT ? algo_names[algo] : "?";
}

int
dvs_lb_sched_init (struct dvs_lb_sched *s, enum dvs_lb_algo algo, uint16_t n)
{
  if ((unsigned) algo >= DVS_LB_ALGO_COUNT || n > DVS_LB_MAX_MEMBERS)
    return -EINVAL;
  memset (s, 0, sizeof *s);
  s->algo = algo;
  s->n = n;
  s->locality_expiry = DAY_S;
  s->set_expiry = DAY_S;
  dvs_lb_sched_reset (s);
  return 0;
}

void
dvs_lb_sched_reset (struct dvs_lb_sched *s)
{
  s->rr_last = -1;
  s->wrr_cw = 0;
  s->buckets_valid = false;
}

static inline bool
usable (const struct dvs_lb_member *m)
{
  return m->usable && m->weight > 0;
}

/* IPVS's connection overhead: an active flow costs 256 inactive ones. */
static inline uint64_t
overhead (const struct dvs_lb_member *m)
{
  return ((uint64_t) m->active << 8) + m->inactive;
}

/* Whether a/wa < b/wb, without dividing. */
static inline bool
less_per_weight (uint64_t a, uint32_t wa, uint64_t b, uint32_t wb)
{
  return (unsigned __int128) a * wb < (unsigned __int128) b * wa;
}

static int
pick_rr (struct dvs_lb_sched *s)
{
  for (uint16_t k = 1; k <= s->n; k++)
    {
      int i = (s->rr_last + k) % s->n;
      if (usable (&s->members[i]))
        return s->rr_last = i;
    }
  return DVS_LB_NO_MEMBER;
}

static uint32_t
gcd (uint32_t a, uint32_t b)
{
  while (b != 0)
    {
      uint32_t t = a % b;
      a = b;
      b = t;
    }
  return a;
}

/* IPVS's interleaved weighted round robin over the usable members: the
 * current weight steps down by the weights' gcd each time the walk wraps,
 * and a member is taken when its weight reaches it. */
static int
pick_wrr (struct dvs_lb_sched *s)
{
  uint32_t g = 0, max = 0;

  for (uint16_t i = 0; i < s->n; i++)
    if (usable (&s->members[i]))
      {
        g = gcd (s->members[i].weight, g);
        if (s->members[i].weight > max)
          max = s->members[i].weight;
      }
  if (max == 0)
    return DVS_LB_NO_MEMBER;
  if (s->wrr_cw > (int32_t) max)
    s->wrr_cw = (int32_t) max;        /* weights lowered since */
  /* At most n steps per weight level, max / g levels. */
  for (uint64_t steps = (uint64_t) s->n * (max / g + 1); steps > 0; steps--)
    {
      s->rr_last = (s->rr_last + 1) % s->n;
      if (s->rr_last == 0)
        {
          s->wrr_cw -= (int32_t) g;
          if (s->wrr_cw <= 0)
            s->wrr_cw = (int32_t) max;
        }
      const struct dvs_lb_member *m = &s->members[s->rr_last];
      if (usable (m) && m->weight >= (uint32_t) s->wrr_cw)
        return s->rr_last;
    }
  return DVS_LB_NO_MEMBER;
}

static int
pick_lc (const struct dvs_lb_sched *s)
{
  int best = DVS_LB_NO_MEMBER;

  for (uint16_t i = 0; i < s->n; i++)
    if (usable (&s->members[i])
        && (best < 0 || overhead (&s->members[i]) < overhead (&s->members[best])))
      best = i;
  return best;
}

static int
pick_wlc (const struct dvs_lb_sched *s)
{
  int best = DVS_LB_NO_MEMBER;

  for (uint16_t i = 0; i < s->n; i++)
    {
      const struct dvs_lb_member *m = &s->members[i];
      if (usable (m)
          && (best < 0 || less_per_weight (overhead (m), m->weight,
                                           overhead (&s->members[best]),
                                           s->members[best].weight)))
        best = i;
    }
  return best;
}

static int
pick_sed (const struct dvs_lb_sched *s)
{
  int best = DVS_LB_NO_MEMBER;

  for (uint16_t i = 0; i < s->n; i++)
    {
      const struct dvs_lb_member *m = &s->members[i];
      if (usable (m)
          && (best < 0 || less_per_weight ((uint64_t) m->active + 1, m->weight,
                                           (uint64_t) s->members[best].active + 1,
                                           s->members[best].weight)))
        best = i;
    }
  return best;
}

static int
pick_nq (const struct dvs_lb_sched *s)
{
  for (uint16_t i = 0; i < s->n; i++)
    if (usable (&s->members[i]) && s->members[i].active == 0)
      return i;
  return pick_sed (s);
}

/* Expected time to drain the member's receive ring, in µs (saturating). */
static inline uint64_t
drain_cost (const struct dvs_lb_member *m)
{
  return ((uint64_t) m->depth + 1) * 1000000u / ((uint64_t) m->drain_pps + 1);
}

static int
pick_lrqd (const struct dvs_lb_sched *s)
{
  int best = DVS_LB_NO_MEMBER;

  for (uint16_t i = 0; i < s->n; i++)
    {
      const struct dvs_lb_member *m = &s->members[i];
      if (!usable (m))
        continue;
      if (best < 0)
        {
          best = i;
          continue;
        }
      const struct dvs_lb_member *b = &s->members[best];
      uint64_t cm = drain_cost (m), cb = drain_cost (b);
      if (less_per_weight (cm, m->weight, cb, b->weight)
          || (!less_per_weight (cb, b->weight, cm, m->weight) && m->active < b->active))
        best = i;
    }
  return best;
}

/* IPVS's hash of an address into the buckets (a golden-ratio multiply). */
static inline uint8_t
bucket_of (uint32_t addr)
{
  return (uint8_t) ((addr * 2654435761u) >> 24);
}

/* dh deals the buckets to the members in turn; sh deals each member as
 * many in a row as its weight, in turns, so that its share follows the
 * weights.  Members of weight 0 get none. */
static void
deal_buckets (struct dvs_lb_sched *s)
{
  uint16_t i = 0, given = 0, dealt = 0;

  s->buckets_valid = true;
  for (uint16_t m = 0; m < s->n && dealt == 0; m++)
    dealt = s->members[m].weight > 0;
  if (dealt == 0)
    {
      memset (s->buckets, 0, sizeof s->buckets);
      return;
    }
  for (unsigned b = 0; b < DVS_LB_BUCKETS; b++)
    {
      while (s->members[i].weight == 0)
        i = (uint16_t) ((i + 1) % s->n);
      s->buckets[b] = (uint8_t) i;
      uint32_t run = s->algo == DVS_LB_SH ? s->members[i].weight : 1;
      if (++given >= run)
        {
          given = 0;
          i = (uint16_t) ((i + 1) % s->n);
        }
    }
}

static int
pick_hashed (struct dvs_lb_sched *s, uint32_t addr)
{
  if (!s->buckets_valid)
    deal_buckets (s);
  uint8_t b = bucket_of (addr);
  for (unsigned k = 0; k < DVS_LB_BUCKETS; k++)
    {
      uint8_t m = s->buckets[(uint8_t) (b + k)];
      if (m < s->n && usable (&s->members[m]))
        return m;
    }
  return DVS_LB_NO_MEMBER;
}

/* IPVS's test before moving a destination: the member has more active
 * flows than its weight while another usable one is below half of its. */
static bool
overloaded (const struct dvs_lb_sched *s, int i)
{
  if (s->members[i].active <= s->members[i].weight)
    return false;
  for (uint16_t j = 0; j < s->n; j++)
    if (usable (&s->members[j])
        && (uint64_t) s->members[j].active * 2 < s->members[j].weight)
      return true;
  return false;
}

static inline bool
locality_live (const struct dvs_lb_sched *s, const struct dvs_lb_locality *e,
               uint32_t now)
{
  return e->dst != 0 && now - e->used <= s->locality_expiry;
}

/* The slot of @dst: its own if it has a live one; else a free or expired
 * slot of its probe window, else the window's least recently used (its
 * destination forgotten).  A destination has at most one live slot. */
#define LOCALITY_PROBE 8

static struct dvs_lb_locality *
locality_slot (struct dvs_lb_sched *s, uint32_t dst, uint32_t now, bool *fresh)
{
  uint32_t h = (dst * 2654435761u) >> 22;  /* 10 bits: 1024 slots */
  struct dvs_lb_locality *victim = NULL;

  for (unsigned k = 0; k < LOCALITY_PROBE; k++)
    {
      struct dvs_lb_locality *e = &s->locality[(h + k) % DVS_LB_LOCALITY_SLOTS];

      if (locality_live (s, e, now) && e->dst == dst)
        {
          *fresh = false;
          return e;
        }
      if (victim == NULL
          || (locality_live (s, victim, now)
              && (!locality_live (s, e, now) || e->used < victim->used)))
        victim = e;
    }
  memset (victim, 0, sizeof *victim);
  victim->dst = dst;
  victim->set_changed = now;
  *fresh = true;
  return victim;
}

/* The set's usable member with the least overhead per weight (most: @max). */
static int
set_extreme (const struct dvs_lb_sched *s, uint64_t set, bool max)
{
  int best = DVS_LB_NO_MEMBER;

  for (uint16_t i = 0; i < s->n; i++)
    {
      const struct dvs_lb_member *m = &s->members[i];
      if (!(set & (UINT64_C (1) << i)) || !usable (m))
        continue;
      if (best < 0)
        best = i;
      else if (max ? less_per_weight (overhead (&s->members[best]), s->members[best].weight,
                                      overhead (m), m->weight)
                   : less_per_weight (overhead (m), m->weight,
                                      overhead (&s->members[best]), s->members[best].weight))
        best = i;
    }
  return best;
}

static int
pick_lblc (struct dvs_lb_sched *s, uint32_t dst, uint32_t now)
{
  bool fresh;
  struct dvs_lb_locality *e = locality_slot (s, dst, now, &fresh);
  int m = fresh ? DVS_LB_NO_MEMBER : set_extreme (s, e->set, false);

  if (m < 0 || overloaded (s, m))
    {
      m = pick_wlc (s);
      if (m < 0)
        return DVS_LB_NO_MEMBER;
      e->set = UINT64_C (1) << m;
    }
  e->used = now;
  return m;
}

static int
pick_lblcr (struct dvs_lb_sched *s, uint32_t dst, uint32_t now)
{
  bool fresh;
  struct dvs_lb_locality *e = locality_slot (s, dst, now, &fresh);
  int m = set_extreme (s, e->set, false);

  if (m < 0 || overloaded (s, m))
    {
      m = pick_wlc (s);
      if (m < 0)
        return DVS_LB_NO_MEMBER;
      e->set |= UINT64_C (1) << m;
      e->set_changed = now;
    }
  /* A set that has not grown for a while gives up its most loaded one. */
  if ((e->set & (e->set - 1)) != 0 && now - e->set_changed > s->set_expiry)
    {
      int worst = set_extreme (s, e->set, true);
      if (worst >= 0 && worst != m)
        {
          e->set &= ~(UINT64_C (1) << worst);
          e->set_changed = now;
        }
    }
  e->used = now;
  return m;
}

int
dvs_lb_pick (struct dvs_lb_sched *s, uint32_t src_ip, uint32_t dst_ip,
             uint32_t now)
{
  if (s->n == 0)
    return DVS_LB_NO_MEMBER;
  switch (s->algo)
    {
    case DVS_LB_RR: return pick_rr (s);
    case DVS_LB_WRR: return pick_wrr (s);
    case DVS_LB_LC: return pick_lc (s);
    case DVS_LB_WLC: return pick_wlc (s);
    case DVS_LB_LBLC: return pick_lblc (s, dst_ip, now);
    case DVS_LB_LBLCR: return pick_lblcr (s, dst_ip, now);
    case DVS_LB_DH: return pick_hashed (s, dst_ip);
    case DVS_LB_SH: return pick_hashed (s, src_ip);
    case DVS_LB_SED: return pick_sed (s);
    case DVS_LB_NQ: return pick_nq (s);
    case DVS_LB_LRQD: return pick_lrqd (s);
    case DVS_LB_ALGO_COUNT: break;
    }
  return DVS_LB_NO_MEMBER;
}
