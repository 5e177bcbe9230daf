/* The L4 load balancer's member scheduler: which member of a virtual
 * service a new flow goes to (docs/load-balancer.md, "Datapath").
 *
 * The ten algorithms of Linux IPVS, as ipvsadm(8) defines them, and the
 * seed's least receive-queue depth:
 *
 *   rr     round robin over the usable members
 *   wrr    weighted round robin (IPVS's interleaved form: a member of
 *          weight w gets w of every sum-of-weights flows)
 *   lc     least connections: the least overhead, active * 256 + inactive
 *   wlc    weighted least connections: the least overhead / weight
 *   sed    shortest expected delay: the least (active + 1) / weight
 *   nq     never queue: a member with no active flow if there is one,
 *          else as sed
 *   dh     destination hashing: 256 buckets dealt to the members in turn,
 *          the bucket of the destination IP
 *   sh     source hashing: 256 buckets dealt in proportion to the weights,
 *          the bucket of the source IP
 *   lblc   locality-based least connections: a destination IP keeps the
 *          member it was given unless that member is overloaded (more
 *          active flows than its weight) while another is at half load;
 *          then, and for a new destination, as wlc
 *   lblcr  the same with a set of members per destination: the set's
 *          least loaded (wlc) unless overloaded, then a wlc choice added
 *          to the set; a set unchanged for set_expiry seconds loses its
 *          most loaded member
 *   lrqd   least receive-queue depth (the seed): the least expected time
 *          to drain the member vNIC's receive ring, (depth + 1) / (drain
 *          rate + 1), divided by the weight; ties to fewer active flows
 *
 * Members are given with their load; the caller keeps active/inactive up
 * to date as flows open and close, and depth/drain from the member
 * vNICs' rings.  Only usable members (usable set, weight > 0) get flows:
 * the caller clears usable for a member that is down, saturated or a
 * standby not in use.  Where IPVS's dh and sh give no member when the
 * bucket's member cannot take it, these go on to the next bucket whose
 * member can (IPVS's sh-fallback), so that a flow is refused only when no
 * member is usable.
 *
 * Plain C: no GLib, no locks, no allocation after init; one thread uses a
 * scheduler at a time. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define DVS_LB_MAX_MEMBERS 64
#define DVS_LB_BUCKETS 256            /* dh and sh */
#define DVS_LB_LOCALITY_SLOTS 1024    /* lblc and lblcr destinations */
#define DVS_LB_NO_MEMBER (-1)

enum dvs_lb_algo {
  DVS_LB_RR,
  DVS_LB_WRR,
  DVS_LB_LC,
  DVS_LB_WLC,
  DVS_LB_LBLC,
  DVS_LB_LBLCR,
  DVS_LB_DH,
  DVS_LB_SH,
  DVS_LB_SED,
  DVS_LB_NQ,
  DVS_LB_LRQD,
  DVS_LB_ALGO_COUNT
};

struct dvs_lb_member {
  uint32_t weight;                    /* 0: no new flows */
  bool usable;                        /* may take new flows now */
  uint32_t active;                    /* established flows */
  uint32_t inactive;                  /* flows in other states */
  uint32_t depth;                     /* lrqd: receive-ring entries waiting */
  uint32_t drain_pps;                 /* lrqd: frames the guest took, per s */
};

/* A destination's member(s), for lblc (one) and lblcr (a set). */
struct dvs_lb_locality {
  uint32_t dst;                       /* IPv4, host order; 0: slot free */
  uint32_t used;                      /* last flow given, seconds */
  uint32_t set_changed;               /* lblcr: when the set last changed */
  uint64_t set;                       /* member bits (lblc: one bit) */
};

struct dvs_lb_sched {
  enum dvs_lb_algo algo;
  uint16_t n;                         /* members[0..n) */
  struct dvs_lb_member members[DVS_LB_MAX_MEMBERS];
  uint32_t locality_expiry;           /* s an idle destination is kept */
  uint32_t set_expiry;                /* lblcr: s before a set shrinks */

  /* private */
  int rr_last;                        /* rr, wrr: last member given */
  int32_t wrr_cw;                     /* wrr: current weight */
  uint8_t buckets[DVS_LB_BUCKETS];    /* dh, sh: member per bucket */
  bool buckets_valid;
  struct dvs_lb_locality locality[DVS_LB_LOCALITY_SLOTS];
};

/* "rr" ... "lrqd" to the algorithm: -1 if unknown. */
int dvs_lb_algo_from_name (const char *name);
const char *dvs_lb_algo_name (enum dvs_lb_algo algo);

/* Sets @s up for @algo with @n members (at most DVS_LB_MAX_MEMBERS; their
 * fields are then filled in by the caller): -EINVAL otherwise.  Locality
 * entries expire after 24 h idle and lblcr sets shrink after 24 h
 * unchanged, as IPVS's defaults; change the fields to change that. */
int dvs_lb_sched_init (struct dvs_lb_sched *s, enum dvs_lb_algo algo, uint16_t n);

/* The members' weights or number changed: dh and sh deal their buckets
 * again, wrr starts a new cycle. */
void dvs_lb_sched_reset (struct dvs_lb_sched *s);

/* The member a new flow from @src_ip to @dst_ip (IPv4, host order) goes
 * to, at @now (seconds, for lblc and lblcr), or DVS_LB_NO_MEMBER when no
 * member is usable.  Does not count the flow: the caller adds it to the
 * member's active count when it opens. */
int dvs_lb_pick (struct dvs_lb_sched *s, uint32_t src_ip, uint32_t dst_ip,
                 uint32_t now);
