/* Datapath internals shared by datapath.c (thread, commands), dp-pipeline.c
 * (one burst), dp-sleep.c (adaptive polling) and dp-hold.c (hold queues,
 * announcements).  Not for the control
 * plane: it uses datapath.h. */
#pragma once

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <string.h>

#include "datapath.h"
#include "classes/filter-class.h"

struct rte_ring;

/* Per-port filter classes: configs as the control plane set them, and the
 * runtime states they own (classes/filter-class.h). */
struct dp_filters {
  uint32_t active;                    /* bit per enum dvs_filter_id */
  struct dvs_block_config block;
  struct dvs_security_config security;
  struct dvs_shaper_config shaper;
};

struct dp_port {
  bool in_use;
  uint16_t domain;                    /* its forwarding domain (DVswitch) */
  int vid;                            /* -1: link down */
  const struct dvs_port_io *io;       /* how to reach the peer (link up) */
  bool hold;                          /* queue frames while link is down */
  uint16_t hold_head, hold_len;       /* ring in hold_q */
  struct rte_mbuf *hold_q[DVS_HOLD_MAX];
  struct dvs_vlan_config vlan;
  struct dp_filters filters;
  int16_t mirror_to;                  /* port receiving copies, -1: none */
  uint8_t mirror_dir;                 /* enum dvs_mirror_dir */
  struct dvs_port_runtime *rt;        /* counters, filter states: &rt_local
                                       * or the caller's (shared) memory */
  struct dvs_port_runtime rt_local;
  /* staging for one burst: indexes into the burst */
  uint8_t n_plain, n_tagged;
  uint8_t plain[DVS_BURST];           /* leave untagged */
  uint8_t tagged[DVS_BURST];          /* leave with a tag */
  /* queues in use (link up): the io's queues() mask, the rx queues to
   * read, and for each input queue number the tx queue that frames from
   * it leave by (dp_txq) */
  uint32_t vrings;                    /* read by dvs_dp_port_queues */
  uint8_t n_rxq;
  uint8_t rxq[DVS_MAX_QUEUES];
  uint8_t txq_for[DVS_MAX_QUEUES];
  atomic_bool queues_dirty;           /* set by dvs_dp_kick(): re-read */
  /* adaptive polling: per rx queue, our dup of the kick eventfd, and the fd
   * it came from */
  int kick_fd[DVS_MAX_QUEUES];
  int kick_src[DVS_MAX_QUEUES];
  atomic_bool kick_dirty;             /* set by dvs_dp_kick() */
  /* the runtime a burst writes (dp_rt): rt, or its shadow in the journal */
  struct dvs_port_runtime *cur;
  uint64_t cur_seq;                   /* burst cur belongs to */
  uint64_t fwd_saved;                 /* class's port_changes at the last
                                       * blob write (dp_journal_save_fwd) */
  uint64_t blob_tsc;                  /* when the blob was last written */
  bool blob_dirty;                    /* queued in blob_dirty[] */
};

struct dvs_datapath {
  struct dvs_dp_config config;
  const struct dvs_port_io *io;
  const struct dvs_fwd_class *fwd_class;
  void *fwd[DVS_MAX_DOMAINS];         /* forwarding state per domain; NULL: none */
  struct rte_mempool *pool;
  struct rte_ring *cmds;
  int wake_fd;                        /* eventfd: commands, kicks */
  int epoll_fd;
  pthread_t thread;
  bool running;                       /* changed by the control thread only */
  atomic_bool stop;
  atomic_bool rx_paused;              /* dvs_dp_set_rx_paused */
  uint32_t now;                       /* seconds, for the forwarding class */
  uint64_t tsc_hz;

  struct dp_port ports[DVS_MAX_PORTS];
  uint16_t configured[DVS_MAX_PORTS]; /* ports in use, for flooding */
  uint16_t n_configured;
  uint16_t polled[DVS_MAX_PORTS];     /* ports with link up */
  uint16_t n_polled;
  uint16_t n_mirrors;                 /* ports with a mirror: enables dedup */
  uint16_t in_queue;                  /* rx queue of the burst in progress
                                       * (0: injected, tests) */

  struct dvs_dp_stats stats;

  /* the burst journal (dp-journal.c) */
  struct dvs_journal_area jarea;      /* jarea.journal NULL: none */
  bool journal_open;                  /* this burst is journaled */
  /* per journal shadow: its port has filters, whose states the burst may
   * change (without, only the counters are copied back) */
  bool shadow_filters[DVS_MAX_PORTS];
  uint64_t burst_seq;                 /* bursts processed (dp_rt) */
  uint16_t blob_dirty[DVS_MAX_PORTS]; /* ports whose blob waits (dp-journal.c) */
  uint16_t n_blob_dirty;
  int crash_at;                       /* enum dp_crash_point: tests only */
  long crash_countdown;
};

/* Test hook (DVS_TEST_CRASH_AT=POINT:N, read at dvs_dp_create): the process
 * kills itself with SIGKILL the N-th time the datapath reaches POINT. */
enum dp_crash_point {
  DP_CRASH_NONE,
  DP_CRASH_OPENED,          /* journal open, nothing counted */
  DP_CRASH_HANDED_OVER,     /* a port's ring has frames, the record not done */
  DP_CRASH_BEFORE_COMMIT,   /* every hand-over done, shadows not copied */
  DP_CRASH_COMMITTING,      /* shadows half copied back */
  DP_CRASH_BEFORE_PUBLISH,  /* committed, input ring not handed back */
};
void dp_crash (struct dvs_datapath *dp);
#define DP_CRASH_POINT(dp, point) \
  do { \
    if (__builtin_expect ((dp)->crash_at == (point), 0) \
        && --(dp)->crash_countdown == 0) \
      dp_crash (dp); \
  } while (0)

/* The journal (dp-journal.c). */
void dp_journal_open (struct dvs_datapath *dp, uint16_t in_port,
                      struct rte_mbuf **pkts, uint16_t n, bool injected);
struct dvs_port_runtime *dp_journal_shadow (struct dvs_datapath *dp,
                                            struct dp_port *p);
struct dvs_journal_out *dp_journal_out_begin (struct dvs_datapath *dp,
                                              struct dp_port *p,
                                              struct rte_mbuf **out,
                                              const uint8_t *frame, uint16_t n);
void dp_journal_out_end (struct dvs_datapath *dp, struct dvs_journal_out *o,
                         uint16_t sent);
void dp_journal_commit (struct dvs_datapath *dp);
/* Writes the input port's forwarding-class blob if the class learned news
 * (at most every 10 ms per port; later ones wait for flush). */
void dp_journal_save_fwd (struct dvs_datapath *dp, uint16_t in_port);
/* Writes the blobs that waited their interval out, or all of them. */
void dp_journal_flush_fwd (struct dvs_datapath *dp, bool all);
void dp_journal_close (struct dvs_datapath *dp);
/* Settles what a crash left for the port's queues that are up now (link
 * up, and each time more of its queues are enabled). */
void dp_journal_port_up (struct dvs_datapath *dp, struct dp_port *p);

/* Re-reads the port's enabled queues from its io (link up, dvs_dp_kick). */
void dp_port_queues_update (struct dvs_datapath *dp, struct dp_port *p);

/* The tx queue of @p that frames of the burst in progress go out by.
 * Queue selection: the input queue's number, folded onto the port's
 * enabled tx queues.  A flow that its sender keeps on one queue (Linux
 * does, by flow hash or CPU) stays on one queue, in order, on the other
 * side; no per-frame hashing in the burst. */
_Static_assert ((DVS_MAX_QUEUES & (DVS_MAX_QUEUES - 1)) == 0 && 2 * DVS_MAX_QUEUES <= 32,
                "queue numbers are masked, vrings are bits of a uint32_t");

static inline uint16_t
dp_txq (const struct dvs_datapath *dp, const struct dp_port *p)
{
  return p->txq_for[dp->in_queue & (DVS_MAX_QUEUES - 1)];
}

/* The runtime a burst writes for port @p: in a journaled burst, a shadow
 * of an area-backed port's runtime; otherwise the runtime itself. */
static inline struct dvs_port_runtime *
dp_rt (struct dvs_datapath *dp, struct dp_port *p)
{
  if (__builtin_expect (p->cur_seq == dp->burst_seq, 1))
    return p->cur;
  return dp_journal_shadow (dp, p);
}

/* Copies @bytes (a multiple of 8) of counters word by word with relaxed
 * atomic stores: readers on other threads never see a torn counter. */
static inline void
dp_store_relaxed (void *dst, const void *src, size_t bytes)
{
  const uint64_t *s = src;
  uint64_t *d = dst;

  for (size_t i = 0; i < bytes / sizeof (uint64_t); i++)
    __atomic_store_n (&d[i], s[i], __ATOMIC_RELAXED);
}

/* Relaxed single-writer counter update: the datapath is the only writer. */
#define DP_ADD(field, v) \
  __atomic_store_n (&(field), (field) + (v), __ATOMIC_RELAXED)

/* @injected: frames the switch sends on the port's behalf (announcements):
 * not counted as received, not filtered on ingress. */
void dp_pipeline_burst (struct dvs_datapath *dp, uint16_t in_port,
                        struct rte_mbuf **pkts, uint16_t n, bool injected);

/* Hold queues (dp-hold.c).  dp_hold_frame queues a copy of @m as it would
 * leave port @p for VLAN @vlan (counted: held, hold_dropped, no_buffer). */
void dp_hold_frame (struct dvs_datapath *dp, struct dp_port *p,
                    struct rte_mbuf *m, uint16_t vlan);
/* Delivers the queue through the port's egress filters and io (link up). */
void dp_hold_release (struct dvs_datapath *dp, struct dp_port *p);
/* Frees the queue, counting each frame in drop_link_down. */
void dp_hold_discard (struct dvs_datapath *dp, struct dp_port *p);
/* The announcement for @mac on @port, through the pipeline; -ENOBUFS. */
int dp_announce (struct dvs_datapath *dp, uint16_t port, const uint8_t *mac);
/* The kind of a frame with destination @dst. */
static inline enum dvs_pkt_kind
dp_pkt_kind (const uint8_t *dst)
{
  uint32_t lo;
  uint16_t hi;

  if (__builtin_expect (!(dst[0] & 1), 1))
    return DVS_PKT_UNICAST;
  memcpy (&lo, dst, sizeof lo);
  memcpy (&hi, dst + 4, sizeof hi);
  return lo == UINT32_MAX && hi == UINT16_MAX ? DVS_PKT_BROADCAST : DVS_PKT_MULTICAST;
}

/* Runs the port's active filters on pkts[0..n) in @dir; returns the mask of
 * frames that pass (bit i: frame i), having counted the drops. */
uint64_t dp_filters_apply (struct dvs_datapath *dp, struct dp_port *p,
                           enum dvs_filter_dir dir, struct rte_mbuf **pkts,
                           uint16_t n);
const void *dp_filter_config (const struct dp_filters *f, enum dvs_filter_id id);

/* Adaptive polling: sleep until a kick, a command or @timeout_ms. */
void dp_sleep (struct dvs_datapath *dp, int timeout_ms);
void dp_sleep_forget_port (struct dvs_datapath *dp, struct dp_port *p);
