/* Port I/O through DPDK rte_vhost (the production dvs_port_io).
 *
 * To the guest (its receive queue): rte_vhost_enqueue_burst.  From the
 * guest (its transmit queue): the switch reads the split ring itself
 * (dp-vring.c) and hands the descriptors back in rx_done, once the datapath
 * has delivered and counted the burst, never before: nothing the guest sees
 * taken escapes the burst journal (docs/datapath.md, "Reading the guests'
 * transmit rings").
 *
 * The ring, the guest memory map and the features belong to rte_vhost's
 * message thread, which changes them while handling vhost-user messages.
 * It pauses us first (vhost-port.c, pre_msg_handle -> dvs_vhost_io_pause):
 * the datapath works on a transmit ring only inside a window (busy) opened
 * while not paused, and re-reads everything (stale) after each message.
 * Inside a window of device X the datapath never calls an rte_vhost
 * function that takes X's vring lock (rte_vhost_rx_queue_count,
 * rte_vhost_enable_guest_notification, rte_vhost_vring_call): the message
 * thread may hold it while waiting for the window to close.
 *
 * Multi-queue: a device has up to DVS_MAX_QUEUES queue pairs; queue q is
 * vring 2q (the guest's receive queue, our tx) and 2q + 1 (its transmit
 * queue, our rx).  The pause handshake is per device (the datapath is in at
 * most one of its rings at a time, and a message may change any of them);
 * each transmit ring has its own reader, re-read after each message. */
#include "datapath.h"
#include "dp-vring.h"

#include <linux/vhost_types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <inttypes.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_vhost.h>

/* vring indexes of queue pair @q from the back-end's point of view: the
 * guest's receive queue 2q, its transmit queue 2q + 1. */
#define GUEST_RXQ(q) ((uint16_t) (2 * (q)))
#define GUEST_TXQ(q) ((uint16_t) (2 * (q) + 1))

/* Seconds between two log lines about a guest's malformed chains. */
#define MALFORMED_LOG_INTERVAL 10

struct vdev;

/* One guest transmit queue of a vhost device. */
struct txq {
  /* Datapath thread only (reset by the message thread while the datapath
   * does not use the device: before link up, after link down). */
  struct vdev *dev;
  uint16_t queue;                     /* queue pair: vring GUEST_TXQ (queue) */
  unsigned gen;                       /* dev->gen when last re-read */
  bool ready;                         /* vr describes the current ring */
  bool notify;                        /* kicks wanted (last notify()) */
  bool discard_pending;
  uint16_t discard_upto;
  bool rxq_quiet;                     /* the device's receive queue (not
                                       * this one) asked not to kick */
  int vid;
  int callfd;
  struct rte_vhost_memory *mem;
  uint64_t malformed_logged;
  uint64_t malformed_log_tsc;
  struct dvs_vring vr;
} __rte_cache_aligned;

/* One vhost device. */
struct vdev {
  /* Shared with rte_vhost's message thread; sequentially consistent (the
   * datapath sets busy then reads paused, the message thread sets paused
   * then reads busy: one of them sees the other). */
  atomic_bool busy;                   /* datapath inside a window */
  atomic_bool paused;                 /* a message is being handled */
  atomic_uint gen;                    /* bumped after each message: the
                                       * rings, memory, features to re-read */
  atomic_uint enabled;                /* bit per vring, from the
                                       * vring_state_changed callbacks */
  struct txq txq[DVS_MAX_QUEUES];
} __rte_cache_aligned;

static struct vdev vdevs[RTE_MAX_VHOST_DEVICE];

static inline struct vdev *
dev_of (int vid)
{
  return (unsigned) vid < RTE_MAX_VHOST_DEVICE ? &vdevs[vid] : NULL;
}

/* NULL before the device's first reset (new_device). */
static inline struct txq *
txq_of (int vid, uint16_t q)
{
  struct txq *t;

  if ((unsigned) vid >= RTE_MAX_VHOST_DEVICE || q >= DVS_MAX_QUEUES)
    return NULL;
  t = &vdevs[vid].txq[q];
  return likely (t->dev != NULL) ? t : NULL;
}

/* The guest memory region holding @gpa (the ring reader keeps the last
 * one and asks only on a miss). */
static bool
region_of (void *ctx, uint64_t gpa, struct dvs_vring_region *out)
{
  const struct txq *q = ctx;

  for (uint32_t i = 0; i < q->mem->nregions; i++)
    {
      const struct rte_vhost_mem_region *r = &q->mem->regions[i];
      if (gpa - r->guest_phys_addr < r->size)
        {
          *out = (struct dvs_vring_region) {
            .gpa = r->guest_phys_addr, .size = r->size,
            .host = (uint8_t *) (uintptr_t) r->host_user_addr,
          };
          return true;
        }
    }
  return false;
}

static void
log_used (void *ctx, uint64_t offset, uint64_t len)
{
  struct txq *q = ctx;

  rte_vhost_log_used_vring (q->vid, GUEST_TXQ (q->queue), offset, len);
}

/* Re-reads what rte_vhost knows of the device (inside a window).  rte_vhost
 * keeps the ring positions we set after each publish; after a reconnect it
 * has reset them to the guest's used index. */
static void
refresh (struct txq *q, int vid)
{
  struct rte_vhost_vring vring;
  uint64_t features, malformed = q->vr.malformed;
  uint16_t last_avail, last_used, hdr_len;

  q->ready = false;
  free (q->mem);
  q->mem = NULL;
  if (rte_vhost_get_vhost_vring (vid, GUEST_TXQ (q->queue), &vring) != 0
      || vring.desc == NULL || vring.avail == NULL || vring.used == NULL
      || rte_vhost_get_negotiated_features (vid, &features) != 0
      || rte_vhost_get_vring_base (vid, GUEST_TXQ (q->queue), &last_avail, &last_used) != 0
      || rte_vhost_get_mem_table (vid, &q->mem) != 0)
    {
      q->mem = NULL;                  /* not usable yet: the next window retries */
      return;
    }
  hdr_len = (features & ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF)))
            ? sizeof (struct virtio_net_hdr_mrg_rxbuf) : sizeof (struct virtio_net_hdr);
  if (dvs_vring_init (&q->vr, vring.desc, vring.avail, vring.used, vring.size,
                      last_avail, last_used, hdr_len,
                      (features & (1ULL << VIRTIO_RING_F_EVENT_IDX)) != 0,
                      region_of, q) != 0)
    return;
  q->vr.malformed = malformed;
  q->vr.log = (features & (1ULL << VHOST_F_LOG_ALL)) ? log_used : NULL;
  q->vid = vid;
  q->callfd = vring.callfd;
  q->ready = true;
  dvs_vring_set_notify (&q->vr, q->notify);
}

/* Opens a window on the ring: false (window closed) if the message thread
 * paused the device or the ring is not usable. */
static inline bool
ring_enter (struct txq *q, int vid)
{
  struct vdev *d = q->dev;
  unsigned gen;

  atomic_store (&d->busy, true);
  if (unlikely (atomic_load (&d->paused)))
    {
      atomic_store_explicit (&d->busy, false, memory_order_release);
      return false;
    }
  gen = atomic_load_explicit (&d->gen, memory_order_relaxed);
  if (unlikely (gen != q->gen))
    {
      q->gen = gen;
      refresh (q, vid);
    }
  else if (unlikely (!q->ready))
    refresh (q, vid);                 /* never set up, or failed: retry */
  if (unlikely (!q->ready))
    {
      atomic_store_explicit (&d->busy, false, memory_order_release);
      return false;
    }
  return true;
}

static inline void
ring_leave (struct txq *q)
{
  atomic_store_explicit (&q->dev->busy, false, memory_order_release);
}

static void
log_malformed (struct txq *q)
{
  uint64_t now = rte_rdtsc ();
  char name[256];

  if (q->malformed_log_tsc != 0
      && now - q->malformed_log_tsc < MALFORMED_LOG_INTERVAL * rte_get_tsc_hz ())
    return;
  if (rte_vhost_get_ifname (q->vid, name, sizeof name) != 0)
    snprintf (name, sizeof name, "vhost device %d", q->vid);
  fprintf (stderr, "dvs datapath: %s: %" PRIu64 " malformed transmit descriptor "
           "chain(s) from the guest dropped (handed back unread); a guest "
           "driver bug or a hostile guest\n", name, q->vr.malformed - q->malformed_logged);
  q->malformed_logged = q->vr.malformed;
  q->malformed_log_tsc = now;
}

/* Hands the consumed chains back (inside a window), tells rte_vhost the new
 * positions (what QEMU's GET_VRING_BASE reports at stop and migration) and
 * signals the guest if it asked for it. */
static void
publish (struct txq *q)
{
  if (dvs_vring_publish (&q->vr) && q->callfd >= 0)
    eventfd_write (q->callfd, 1);
  rte_vhost_set_vring_base (q->vid, GUEST_TXQ (q->queue), q->vr.last_avail, q->vr.last_used);
  if (unlikely (q->vr.malformed != q->malformed_logged))
    log_malformed (q);
}

static void
apply_discard (struct txq *q)
{
  q->discard_pending = false;
  if (dvs_vring_discard (&q->vr, q->discard_upto) > 0)
    publish (q);
}

static uint16_t
vhost_rx (int vid, uint16_t qid, struct rte_mempool *pool, struct rte_mbuf **pkts,
          uint16_t n)
{
  struct txq *q = txq_of (vid, qid);
  uint16_t got;

  if (q == NULL || !ring_enter (q, vid))
    return 0;
  if (unlikely (q->discard_pending))
    apply_discard (q);
  got = dvs_vring_peek (&q->vr, pool, pkts, n);
  /* Nothing to hand back: rx_done has nothing to do, close the window. */
  if (dvs_vring_unpublished (&q->vr) == 0)
    ring_leave (q);
  return got;
}

static void
vhost_rx_done (int vid, uint16_t qid)
{
  struct txq *q = txq_of (vid, qid);

  /* Chains consumed: rx left the window open. */
  if (q == NULL || dvs_vring_unpublished (&q->vr) == 0)
    return;
  publish (q);
  ring_leave (q);
}

static uint16_t
vhost_rx_position (int vid, uint16_t qid)
{
  struct txq *q = txq_of (vid, qid);
  uint16_t last_avail = 0, last_used;

  if (q == NULL)
    return 0;
  if (dvs_vring_unpublished (&q->vr) > 0)
    return q->vr.last_avail;          /* between rx and rx_done */
  if (ring_enter (q, vid))
    {
      last_avail = q->vr.last_avail;
      ring_leave (q);
      return last_avail;
    }
  rte_vhost_get_vring_base (vid, GUEST_TXQ (qid), &last_avail, &last_used);
  return last_avail;
}

static void
vhost_rx_discard (int vid, uint16_t qid, uint16_t upto)
{
  struct txq *q = txq_of (vid, qid);

  if (q == NULL)
    return;
  q->discard_upto = upto;
  q->discard_pending = true;
  /* Not usable now (paused, not set up): the next rx does it first. */
  if (dvs_vring_unpublished (&q->vr) == 0 && ring_enter (q, vid))
    {
      apply_discard (q);
      ring_leave (q);
    }
}

static uint16_t
vhost_tx (int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
  struct txq *t = txq_of (vid, q);

  /* The guest kicks its receive queue after adding buffers unless told
   * not to: a system call (virtio-user) or a VM exit (a guest) per refill,
   * for nothing, since the switch never waits for receive buffers (a full
   * ring drops).  rte_vhost keeps the setting across SET_VRING_KICK; a new
   * device (reset) asks again.  This takes the receive queue's lock, as the
   * enqueue below does: never the lock of the transmit ring whose window
   * may be open (another device's, the input port's).  The flag lives with
   * queue pair q's transmit-ring reader. */
  if (unlikely (t != NULL && !t->rxq_quiet))
    t->rxq_quiet = rte_vhost_enable_guest_notification (vid, GUEST_RXQ (q), 0) == 0;
  return rte_vhost_enqueue_burst (vid, GUEST_RXQ (q), pkts, n);
}

static uint32_t
vhost_pending (int vid, uint16_t qid)
{
  struct txq *q = txq_of (vid, qid);
  uint32_t n;

  if (q == NULL)
    return 0;
  if (dvs_vring_unpublished (&q->vr) > 0)
    return dvs_vring_pending (&q->vr);
  if (!ring_enter (q, vid))
    /* Paused: unknown, look again soon.  Unusable: nothing to read. */
    return atomic_load (&q->dev->paused) ? 1 : 0;
  n = dvs_vring_pending (&q->vr);
  ring_leave (q);
  return n;
}

static int
vhost_kickfd (int vid, uint16_t q)
{
  struct rte_vhost_vring vring;

  if (rte_vhost_get_vhost_vring (vid, GUEST_TXQ (q), &vring) != 0)
    return -1;
  return vring.kickfd;
}

static void
vhost_notify (int vid, uint16_t qid, bool enable)
{
  struct txq *q = txq_of (vid, qid);

  if (q == NULL)
    return;
  /* Not usable now: refresh() applies it. */
  q->notify = enable;
  if (dvs_vring_unpublished (&q->vr) > 0)
    dvs_vring_set_notify (&q->vr, enable);
  else if (ring_enter (q, vid))
    {
      dvs_vring_set_notify (&q->vr, enable);
      ring_leave (q);
    }
}

/* The guest's receive ring: its used index is where frames land. */
static uint16_t
vhost_tx_position (int vid, uint16_t q)
{
  uint16_t avail, used;

  if (rte_vhost_get_vring_base (vid, GUEST_RXQ (q), &avail, &used) != 0)
    return 0;
  return used;
}

/* After a reconnect the ring's base is what the guest's memory says (QEMU
 * restores it from the used index, and writes nothing into a receive ring
 * while its back-end is gone).  Each frame took one used entry, or with
 * mergeable buffers as many as its length (header included) needed: the
 * entries' lengths tell. */
static int
vhost_tx_delivered (int vid, uint16_t q, uint16_t before, const uint32_t *len,
                    uint16_t n)
{
  struct rte_vhost_vring vring;
  uint64_t features;
  uint16_t avail, used, entries;

  if (rte_vhost_get_vring_base (vid, GUEST_RXQ (q), &avail, &used) != 0
      || rte_vhost_get_negotiated_features (vid, &features) != 0)
    return 0;
  entries = (uint16_t) (used - before);
  if (entries == 0)
    return 0;
  if (!(features & (1ULL << VIRTIO_NET_F_MRG_RXBUF)))
    return entries <= n ? entries : 0;
  if (rte_vhost_get_vhost_vring (vid, GUEST_RXQ (q), &vring) != 0 || vring.used == NULL
      || vring.size == 0 || entries > vring.size)
    return 0;
  uint16_t frames = 0;
  uint64_t acc = 0;
  for (uint16_t i = 0; i < entries; i++)
    {
      acc += vring.used->ring[(uint16_t) (before + i) & (vring.size - 1)].len;
      if (frames >= n)
        return 0;
      uint64_t want = (uint64_t) len[frames] + sizeof (struct virtio_net_hdr_mrg_rxbuf);
      if (acc == want)
        {
          frames++;
          acc = 0;
        }
      else if (acc > want)
        return 0;               /* not what we handed over */
    }
  return acc == 0 ? frames : 0;
}

/* Queue pair 0 is always there: rte_vhost reports a device (new_device)
 * only once it is ready. */
static uint32_t
vhost_queues (int vid)
{
  struct vdev *d = dev_of (vid);

  return d != NULL ? atomic_load_explicit (&d->enabled, memory_order_relaxed) | 3u : 3u;
}

const struct dvs_port_io dvs_port_io_vhost = {
  .rx = vhost_rx,
  .tx = vhost_tx,
  .pending = vhost_pending,
  .kickfd = vhost_kickfd,
  .notify = vhost_notify,
  .rx_done = vhost_rx_done,
  .rx_position = vhost_rx_position,
  .rx_discard = vhost_rx_discard,
  .tx_position = vhost_tx_position,
  .tx_delivered = vhost_tx_delivered,
  .queues = vhost_queues,
};

void
dvs_vhost_io_vring_state (int vid, uint16_t vring, bool enabled)
{
  struct vdev *d = dev_of (vid);

  /* Vrings beyond DVS_MAX_QUEUES pairs are not served (vhost-port.c
   * declares that many to the front-end). */
  if (d == NULL || vring >= 2 * DVS_MAX_QUEUES)
    return;
  if (enabled)
    atomic_fetch_or (&d->enabled, 1u << vring);
  else
    atomic_fetch_and (&d->enabled, ~(1u << vring));
}

void
dvs_vhost_io_connection (int vid)
{
  struct vdev *d = dev_of (vid);

  if (d != NULL)
    atomic_store (&d->enabled, 0);
}

/* What vring_state_changed said stays: rte_vhost tells it before
 * new_device, and again whenever a vring's readiness changes. */
void
dvs_vhost_io_reset (int vid)
{
  struct vdev *d = dev_of (vid);

  if (d == NULL)
    return;
  for (uint16_t i = 0; i < DVS_MAX_QUEUES; i++)
    {
      struct txq *q = &d->txq[i];

      free (q->mem);
      q->mem = NULL;
      q->ready = false;
      q->notify = true;
      q->discard_pending = false;
      q->rxq_quiet = false;
      q->dev = d;
      q->queue = i;
      q->vid = vid;
      q->callfd = -1;
      q->malformed_logged = 0;
      q->malformed_log_tsc = 0;
      memset (&q->vr, 0, sizeof q->vr);
      q->gen = atomic_load (&d->gen) - 1;   /* re-read at first use */
    }
  atomic_store (&d->busy, false);
  atomic_store (&d->paused, false);
}

static uint64_t
monotonic_us (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

bool
dvs_vhost_io_pause (int vid, uint32_t timeout_us)
{
  struct vdev *d = dev_of (vid);
  uint64_t start;

  if (d == NULL)
    return true;
  atomic_store (&d->paused, true);
  if (!atomic_load (&d->busy))
    return true;
  start = monotonic_us ();
  for (unsigned spins = 0; atomic_load (&d->busy); spins++)
    {
      if (monotonic_us () - start >= timeout_us)
        return false;
      if (spins < 1000)
        sched_yield ();
      else
        usleep (50);
    }
  return true;
}

void
dvs_vhost_io_resume (int vid)
{
  struct vdev *d = dev_of (vid);

  if (d == NULL)
    return;
  atomic_fetch_add (&d->gen, 1);
  atomic_store (&d->paused, false);
}
