/* The load balancer's member scheduler (classes/lb-sched.h): for every
 * algorithm, the members new flows go to follow its definition — exact
 * sequences where IPVS's definition gives one, shares within 5 % of the
 * weights where it gives a proportion, the brute-force best member at every
 * step for the least-load algorithms. */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "classes/lb-sched.h"
#include "xorshift.h"

static void
setup (struct dvs_lb_sched *s, enum dvs_lb_algo algo, const uint32_t *weights, uint16_t n)
{
  g_assert_cmpint (dvs_lb_sched_init (s, algo, n), ==, 0);
  for (uint16_t i = 0; i < n; i++)
    {
      s->members[i].weight = weights[i];
      s->members[i].usable = true;
    }
}

static void
assert_share (const unsigned *got, const uint32_t *weights, uint16_t n, unsigned total)
{
  uint64_t wsum = 0;

  for (uint16_t i = 0; i < n; i++)
    wsum += weights[i];
  for (uint16_t i = 0; i < n; i++)
    {
      double want = (double) total * weights[i] / (double) wsum;
      g_assert_cmpfloat (got[i], >=, want * 0.95);
      g_assert_cmpfloat (got[i], <=, want * 1.05);
    }
}

static void
test_names (void)
{
  struct dvs_lb_sched s;

  for (int a = 0; a < DVS_LB_ALGO_COUNT; a++)
    g_assert_cmpint (dvs_lb_algo_from_name (dvs_lb_algo_name ((enum dvs_lb_algo) a)), ==, a);
  g_assert_cmpint (dvs_lb_algo_from_name ("lrqd"), ==, DVS_LB_LRQD);
  g_assert_cmpint (dvs_lb_algo_from_name ("fastest"), ==, -1);
  g_assert_cmpint (dvs_lb_sched_init (&s, DVS_LB_ALGO_COUNT, 1), ==, -EINVAL);
  g_assert_cmpint (dvs_lb_sched_init (&s, DVS_LB_RR, DVS_LB_MAX_MEMBERS + 1), ==, -EINVAL);
  g_assert_cmpint (dvs_lb_sched_init (&s, DVS_LB_RR, 0), ==, 0);
  g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, DVS_LB_NO_MEMBER);
}

/* No usable member, whatever the algorithm: no member. */
static void
test_none_usable (void)
{
  static const uint32_t w[] = { 1, 0, 3 };

  for (int a = 0; a < DVS_LB_ALGO_COUNT; a++)
    {
      struct dvs_lb_sched s;

      setup (&s, (enum dvs_lb_algo) a, w, 3);
      s.members[0].usable = s.members[2].usable = false;
      for (uint32_t k = 0; k < 50; k++)
        g_assert_cmpint (dvs_lb_pick (&s, 10 + k, 20 + k, k), ==, DVS_LB_NO_MEMBER);
      /* ...and the weight-0 member never, when another is usable. */
      s.members[2].usable = true;
      for (uint32_t k = 0; k < 50; k++)
        g_assert_cmpint (dvs_lb_pick (&s, 10 + k, 20 + k, k), ==, 2);
    }
}

static void
test_rr (void)
{
  static const uint32_t w[] = { 1, 5, 1 };
  struct dvs_lb_sched s;

  setup (&s, DVS_LB_RR, w, 3);
  for (int k = 0; k < 9; k++)
    g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, k % 3);   /* weights ignored */
  s.members[1].usable = false;
  for (int k = 0; k < 4; k++)
    g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, k % 2 ? 2 : 0);
}

static void
test_wrr (void)
{
  /* IPVS's interleaving of weights 4, 3, 2: a a b a b c a b c. */
  static const uint32_t w[] = { 4, 3, 2 };
  static const int seq[] = { 0, 0, 1, 0, 1, 2, 0, 1, 2 };
  static const uint32_t w2[] = { 1, 2, 3 };
  struct dvs_lb_sched s;
  unsigned got[3] = { 0 };

  setup (&s, DVS_LB_WRR, w, 3);
  for (int round = 0; round < 3; round++)
    for (gsize k = 0; k < G_N_ELEMENTS (seq); k++)
      g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, seq[k]);
  /* Exact shares over whole cycles. */
  setup (&s, DVS_LB_WRR, w2, 3);
  for (int k = 0; k < 600; k++)
    got[dvs_lb_pick (&s, 1, 2, 0)]++;
  g_assert_cmpuint (got[0], ==, 100);
  g_assert_cmpuint (got[1], ==, 200);
  g_assert_cmpuint (got[2], ==, 300);
  /* A weight lowered mid-cycle is followed at once. */
  s.members[2].weight = 1;
  memset (got, 0, sizeof got);
  for (int k = 0; k < 400; k++)
    got[dvs_lb_pick (&s, 1, 2, 0)]++;
  g_assert_cmpuint (got[0], ==, 100);
  g_assert_cmpuint (got[1], ==, 200);
  g_assert_cmpuint (got[2], ==, 100);
}

/* The least-load algorithms: at every step the member given is one the
 * definition allows (the minimum of its cost), and a flow, once given,
 * adds to the member's active count. */
typedef bool (*BetterFn) (const struct dvs_lb_member *a, const struct dvs_lb_member *b);

static bool lc_better (const struct dvs_lb_member *a, const struct dvs_lb_member *b)
{
  return a->active * 256ull + a->inactive < b->active * 256ull + b->inactive;
}
static bool wlc_better (const struct dvs_lb_member *a, const struct dvs_lb_member *b)
{
  return (a->active * 256ull + a->inactive) * b->weight
         < (b->active * 256ull + b->inactive) * a->weight;
}
static bool sed_better (const struct dvs_lb_member *a, const struct dvs_lb_member *b)
{
  return (a->active + 1ull) * b->weight < (b->active + 1ull) * a->weight;
}

/* nq: any idle member will do; with none idle, as sed. */
static bool nq_better (const struct dvs_lb_member *a, const struct dvs_lb_member *b)
{
  if (b->active == 0)
    return false;
  return a->active == 0 || sed_better (a, b);
}

static void
check_least_load (enum dvs_lb_algo algo, BetterFn better, const uint32_t *w,
                  uint16_t n, unsigned flows)
{
  struct dvs_lb_sched s;
  unsigned got[8] = { 0 };

  setup (&s, algo, w, n);
  for (unsigned k = 0; k < flows; k++)
    {
      int m = dvs_lb_pick (&s, 1, 2, 0);
      g_assert_cmpint (m, >=, 0);
      for (uint16_t j = 0; j < n; j++)
        g_assert_false (better (&s.members[j], &s.members[m]));
      s.members[m].active++;
      got[m]++;
    }
  assert_share (got, w, n, flows);
}

static void
test_lc_wlc_sed_nq (void)
{
  static const uint32_t equal[] = { 1, 1, 1 };
  static const uint32_t w[] = { 1, 2, 3 };
  struct dvs_lb_sched s;

  check_least_load (DVS_LB_LC, lc_better, equal, 3, 300);
  check_least_load (DVS_LB_WLC, wlc_better, w, 3, 600);
  check_least_load (DVS_LB_SED, sed_better, w, 3, 600);
  check_least_load (DVS_LB_NQ, nq_better, w, 3, 600);

  /* lc ignores weights; inactive flows count 1/256 of an active one. */
  setup (&s, DVS_LB_LC, w, 3);
  s.members[0].active = 1;
  s.members[1].inactive = 255;
  s.members[2].inactive = 256;
  g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, 1);

  /* nq: an idle member first, whatever the weights; sed would not. */
  setup (&s, DVS_LB_NQ, w, 3);
  s.members[0].active = 0;
  s.members[1].active = 1;
  s.members[2].active = 0;
  s.members[0].weight = 1;
  s.members[2].weight = 100;
  g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, 0);
  s.algo = DVS_LB_SED;
  g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, 2);
}

static void
check_hashed (enum dvs_lb_algo algo, const uint32_t *w, uint16_t n)
{
  struct dvs_lb_sched s;
  unsigned got[4] = { 0 }, buckets[4] = { 0 };
  uint32_t rng = 12345;
  const unsigned flows = 60000;

  setup (&s, algo, w, n);
  for (unsigned k = 0; k < flows; k++)
    {
      uint32_t a = xorshift32 (&rng);
      uint32_t src = algo == DVS_LB_SH ? a : 7, dst = algo == DVS_LB_DH ? a : 7;
      int m = dvs_lb_pick (&s, src, dst, 0);
      g_assert_cmpint (m, >=, 0);
      /* The same address, the same member. */
      g_assert_cmpint (dvs_lb_pick (&s, src, dst, 0), ==, m);
      got[m]++;
    }
  for (unsigned b = 0; b < DVS_LB_BUCKETS; b++)
    buckets[s.buckets[b]]++;
  if (algo == DVS_LB_SH)
    {
      /* sh deals buckets in proportion to the weights; flows follow them. */
      assert_share (buckets, w, n, DVS_LB_BUCKETS);
      assert_share (got, w, n, flows);
    }
  else
    {
      static const uint32_t equal[] = { 1, 1, 1, 1 };
      assert_share (buckets, equal, n, DVS_LB_BUCKETS);
      assert_share (got, equal, n, flows);
    }

  /* A member that cannot take flows: its addresses go to the next bucket's
   * member; every other address keeps its member. */
  {
    uint32_t before[200];
    uint32_t r = 999;
    for (int k = 0; k < 200; k++)
      {
        uint32_t a = xorshift32 (&r);
        before[k] = (uint32_t) dvs_lb_pick (&s, a, a, 0);
      }
    s.members[1].usable = false;
    r = 999;
    for (int k = 0; k < 200; k++)
      {
        uint32_t a = xorshift32 (&r);
        int m = dvs_lb_pick (&s, a, a, 0);
        g_assert_cmpint (m, !=, 1);
        if (before[k] != 1)
          g_assert_cmpint (m, ==, (int) before[k]);
      }
  }
}

static void
test_dh_sh (void)
{
  static const uint32_t w[] = { 1, 2, 3 };

  check_hashed (DVS_LB_DH, w, 3);
  check_hashed (DVS_LB_SH, w, 3);
}

static void
test_lblc (void)
{
  static const uint32_t w[] = { 4, 4, 4 };
  struct dvs_lb_sched s;
  int m, other;

  setup (&s, DVS_LB_LBLC, w, 3);
  s.members[0].active = 3;               /* wlc prefers 1 */
  m = dvs_lb_pick (&s, 1, 0x0a000001, 100);
  g_assert_cmpint (m, ==, 1);
  /* The destination keeps its member while it is not overloaded, even
   * when another is less loaded. */
  s.members[1].active = 4;
  s.members[0].active = 0;
  for (int k = 0; k < 5; k++)
    g_assert_cmpint (dvs_lb_pick (&s, 1 + k, 0x0a000001, 101), ==, 1);
  /* Overloaded (5 > weight 4) while member 0 is below half load: moved. */
  s.members[1].active = 5;
  other = dvs_lb_pick (&s, 1, 0x0a000001, 102);
  g_assert_cmpint (other, ==, 0);
  g_assert_cmpint (dvs_lb_pick (&s, 1, 0x0a000001, 103), ==, 0);
  /* Overloaded but nobody at half load: it stays. */
  s.members[0].active = 9;
  s.members[1].active = 2;
  s.members[2].active = 2;
  g_assert_cmpint (dvs_lb_pick (&s, 1, 0x0a000001, 104), ==, 0);
  /* Idle past the expiry: the destination is scheduled afresh (wlc). */
  s.locality_expiry = 60;
  g_assert_cmpint (dvs_lb_pick (&s, 1, 0x0a000001, 104 + 61), ==, 1);
  /* Many destinations, each new one to the least loaded member as flows
   * open: every destination keeps the member it was given (no member is
   * ever below half load again, so none is moved). */
  {
    uint32_t rng = 7;
    int given[300];
    uint32_t dst[300];
    unsigned got[3] = { 0 };
    for (int k = 0; k < 300; k++)
      {
        dst[k] = xorshift32 (&rng) | 1;
        given[k] = dvs_lb_pick (&s, 1, dst[k], 200);
        g_assert_cmpint (given[k], >=, 0);
        s.members[given[k]].active++;
      }
    for (int k = 0; k < 300; k++)
      {
        g_assert_cmpint (dvs_lb_pick (&s, 1, dst[k], 201), ==, given[k]);
        got[given[k]]++;
      }
    /* wlc spread them: the members' loads ended within one flow. */
    g_assert_cmpuint (s.members[0].active + 1, >=, s.members[1].active);
    g_assert_cmpuint (s.members[1].active + 1, >=, s.members[2].active);
    g_assert_cmpuint (got[0] + got[1] + got[2], ==, 300);
  }
}

static void
test_lblcr (void)
{
  static const uint32_t w[] = { 4, 4, 4 };
  struct dvs_lb_sched s;
  const uint32_t dst = 0x0a000002;

  setup (&s, DVS_LB_LBLCR, w, 3);
  s.members[0].active = 1;
  s.members[2].active = 1;
  g_assert_cmpint (dvs_lb_pick (&s, 1, dst, 10), ==, 1);
  /* Member 1 overloaded, member 0 at half load: 0 joins the set. */
  s.members[1].active = 5;
  g_assert_cmpint (dvs_lb_pick (&s, 1, dst, 11), ==, 0);
  /* The set {0, 1}: its least loaded each time, even when member 2 is the
   * least loaded of all. */
  s.members[2].active = 0;
  s.members[0].active = 2;
  g_assert_cmpint (dvs_lb_pick (&s, 1, dst, 12), ==, 0);
  s.members[0].active = 6;
  s.members[1].active = 3;
  g_assert_cmpint (dvs_lb_pick (&s, 1, dst, 13), ==, 1);
  /* Unchanged past set_expiry: the most loaded member leaves the set. */
  s.set_expiry = 60;
  g_assert_cmpint (dvs_lb_pick (&s, 1, dst, 11 + 61), ==, 1);
  s.members[0].active = 0;               /* 0 is no longer in the set */
  s.members[1].active = 3;
  g_assert_cmpint (dvs_lb_pick (&s, 1, dst, 11 + 62), ==, 1);
}

static bool lrqd_better (const struct dvs_lb_member *a, const struct dvs_lb_member *b)
{
  uint64_t ca = (a->depth + 1ull) * 1000000 / (a->drain_pps + 1ull);
  uint64_t cb = (b->depth + 1ull) * 1000000 / (b->drain_pps + 1ull);
  return ca * b->weight < cb * a->weight;
}

static void
test_lrqd (void)
{
  static const uint32_t w[] = { 1, 1, 1 };
  static const uint32_t w2[] = { 1, 2, 3 };
  struct dvs_lb_sched s;
  unsigned got[3] = { 0 };

  setup (&s, DVS_LB_LRQD, w, 3);
  s.members[0].depth = 100; s.members[0].drain_pps = 100000;
  s.members[1].depth = 10;  s.members[1].drain_pps = 100000;
  s.members[2].depth = 10;  s.members[2].drain_pps = 1000;   /* slow guest */
  g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, 1);
  /* A guest that stopped draining gets nothing while another drains. */
  s.members[1].depth = 256; s.members[1].drain_pps = 0;
  g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, 0);
  /* Equal rings: fewer active flows wins. */
  s.members[1] = s.members[0];
  s.members[0].active = 3;
  s.members[1].active = 1;
  s.members[2] = s.members[0];
  g_assert_cmpint (dvs_lb_pick (&s, 1, 2, 0), ==, 1);

  /* Members draining at the same rate, each new flow adding to its
   * member's ring: the least expected drain time at every step, and the
   * shares follow the weights. */
  setup (&s, DVS_LB_LRQD, w2, 3);
  for (int i = 0; i < 3; i++)
    s.members[i].drain_pps = 50000;
  for (unsigned k = 0; k < 6000; k++)
    {
      int m = dvs_lb_pick (&s, 1, 2, 0);
      g_assert_cmpint (m, >=, 0);
      for (int j = 0; j < 3; j++)
        g_assert_false (lrqd_better (&s.members[j], &s.members[m]));
      s.members[m].depth++;
      got[m]++;
    }
  assert_share (got, w2, 3, 6000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lb-sched/names", test_names);
  g_test_add_func ("/lb-sched/none-usable", test_none_usable);
  g_test_add_func ("/lb-sched/rr", test_rr);
  g_test_add_func ("/lb-sched/wrr", test_wrr);
  g_test_add_func ("/lb-sched/lc-wlc-sed-nq", test_lc_wlc_sed_nq);
  g_test_add_func ("/lb-sched/dh-sh", test_dh_sh);
  g_test_add_func ("/lb-sched/lblc", test_lblc);
  g_test_add_func ("/lb-sched/lblcr", test_lblcr);
  g_test_add_func ("/lb-sched/lrqd", test_lrqd);
  return g_test_run ();
}
