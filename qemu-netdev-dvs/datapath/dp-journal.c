/* The burst journal: a crash in the middle of a burst leaves every counter
 * either as it was before the burst or as it is after it, and what the
 * guests saw of the burst is accounted for by the next process.
 *
 * During a journaled burst (dp-pipeline.c) a port whose runtime lives in the
 * runtime area is written only through dp_rt(): its first use in the burst
 * copies the runtime into a shadow in the journal, and the burst works on
 * the shadow.  Every hand-over of frames to a port is recorded before it
 * happens (where the port's receive ring stood) and marked done after it.
 * At the end the journal goes to COMMIT and the shadows are copied back;
 * the input ring is handed back to the guest; the journal goes IDLE.
 *
 * After a crash (dvs_journal_recover, before anything runs):
 *   IDLE    nothing to do;
 *   COMMIT  copy the shadows back again (idempotent);
 *   OPEN    the runtimes are as before the burst: count the frames taken as
 *           received, each hand-over that returned as delivered, and every
 *           frame delivered nowhere as drop_crash on its input port.
 *           A hand-over that had not returned is settled when its port
 *           links up again: its ring tells how many frames reached the
 *           guest (dp_journal_port_up).
 * In both cases the input ring is handed back up to where the burst had
 * read it, when the input port links up, unless QEMU already did (it takes
 * a ring over while its back-end is gone).
 *
 * And for every port (even with the journal IDLE: most crashes come
 * between bursts) the next process compares, at the port's first link up,
 * the ring's position with where the switch had taken it to: the frames
 * QEMU dropped from the ring while no switch ran are counted in
 * dropped_while_down.
 *
 * Plain C, datapath thread only (and the recovery, on the caller's thread
 * before the datapath uses the area). */
#include "dp-internal.h"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <string.h>

static inline void
set_state (struct dvs_journal *j, uint32_t state)
{
  __atomic_store_n (&j->state, state, __ATOMIC_RELEASE);
}

/* The area slot of runtime @rt, or -1 if it is not one of the area's. */
static inline int
slot_of (const struct dvs_journal_area *a, const struct dvs_port_runtime *rt)
{
  const uint8_t *p = (const uint8_t *) rt;

  if (a->journal == NULL || p < a->base || a->stride == 0)
    return -1;
  size_t off = (size_t) (p - a->base);
  if (off % a->stride != 0 || off / a->stride >= a->n_slots)
    return -1;
  return (int) (off / a->stride);
}

static inline struct dvs_port_runtime *
slot_rt (const struct dvs_journal_area *a, uint64_t slot)
{
  return (struct dvs_port_runtime *) (a->base + slot * a->stride);
}

void
dp_journal_open (struct dvs_datapath *dp, uint16_t in_port,
                 struct rte_mbuf **pkts, uint16_t n, bool injected)
{
  struct dvs_journal *j = dp->jarea.journal;
  struct dp_port *ip = &dp->ports[in_port];
  int slot;

  dp->burst_seq++;
  dp->journal_open = false;
  /* Frames the switch injects (announcements) were taken from no ring. */
  if (j == NULL || injected || (slot = slot_of (&dp->jarea, ip->rt)) < 0)
    return;
  j->in_slot = (uint16_t) slot;
  j->in_queue = (uint8_t) (dp->in_queue & (DVS_MAX_QUEUES - 1));
  j->n = n;
  j->has_pos = ip->io->rx_position != NULL;
  j->pos_after = j->has_pos ? ip->io->rx_position (ip->vid, j->in_queue) : 0;
  for (uint16_t i = 0; i < n; i++)
    {
      const struct rte_mbuf *m = pkts[i];
      j->len[i] = rte_pktmbuf_pkt_len (m);
      j->kind[i] = rte_pktmbuf_data_len (m) < 14
                     ? DVS_JOURNAL_KIND_RUNT
                     : (uint8_t) dp_pkt_kind (rte_pktmbuf_mtod (m, const uint8_t *));
    }
  j->n_shadow = 0;
  j->n_out = 0;
  j->seq++;
  set_state (j, DVS_JOURNAL_OPEN);
  dp->journal_open = true;
  DP_CRASH_POINT (dp, DP_CRASH_OPENED);
}

struct dvs_port_runtime *
dp_journal_shadow (struct dvs_datapath *dp, struct dp_port *p)
{
  struct dvs_journal *j = dp->jarea.journal;
  int slot;

  p->cur_seq = dp->burst_seq;
  p->cur = p->rt;
  if (dp->journal_open && (slot = slot_of (&dp->jarea, p->rt)) >= 0
      && j->n_shadow < DVS_MAX_PORTS)
    {
      struct dvs_journal_shadow *s = &j->shadow[j->n_shadow];
      s->slot = (uint64_t) slot;
      memcpy (&s->rt, p->rt, sizeof s->rt);
      dp->shadow_filters[j->n_shadow] = p->filters.active != 0;
      j->n_shadow++;
      p->cur = &s->rt;
    }
  return p->cur;
}

struct dvs_journal_out *
dp_journal_out_begin (struct dvs_datapath *dp, struct dp_port *p,
                      struct rte_mbuf **out, const uint8_t *frame, uint16_t n)
{
  struct dvs_journal *j = dp->jarea.journal;
  struct dvs_journal_out *o;
  int slot;

  if (!dp->journal_open || j->n_out >= DVS_JOURNAL_MAX_OUT)
    return NULL;
  slot = slot_of (&dp->jarea, p->rt);
  o = &j->out[j->n_out];
  o->slot = slot >= 0 ? (uint16_t) slot : DVS_JOURNAL_NO_SLOT;
  /* Only a port in the area can be settled later (it is found by slot). */
  o->has_ring = slot >= 0 && p->io->tx_position != NULL && p->io->tx_delivered != NULL;
  o->queue = (uint8_t) dp_txq (dp, p);
  o->ring_before = o->has_ring ? p->io->tx_position (p->vid, o->queue) : 0;
  o->n = (uint8_t) n;
  o->done = 0;
  o->sent = 0;
  for (uint16_t i = 0; i < n; i++)
    {
      o->frame[i] = frame[i];
      o->len[i] = rte_pktmbuf_pkt_len (out[i]);
    }
  /* The record is complete before it counts. */
  __atomic_store_n (&j->n_out, j->n_out + 1, __ATOMIC_RELEASE);
  return o;
}

void
dp_journal_out_end (struct dvs_datapath *dp, struct dvs_journal_out *o,
                    uint16_t sent)
{
  DP_CRASH_POINT (dp, DP_CRASH_HANDED_OVER);
  o->sent = (uint8_t) sent;
  __atomic_store_n (&o->done, 1, __ATOMIC_RELEASE);
}

const struct dvs_fwd_blob *
dvs_fwd_blob_current (const struct dvs_fwd_blob pair[2])
{
  uint64_t g0 = __atomic_load_n (&pair[0].gen, __ATOMIC_ACQUIRE);
  uint64_t g1 = __atomic_load_n (&pair[1].gen, __ATOMIC_ACQUIRE);
  const struct dvs_fwd_blob *b = g0 >= g1 ? &pair[0] : &pair[1];

  if (b->gen == 0 || b->len > DVS_FWD_BLOB_BYTES)
    return NULL;
  return b;
}

/* Writes port @port's blob now. */
static void
write_fwd_blob (struct dvs_datapath *dp, uint16_t port, uint64_t changes)
{
  const struct dvs_journal_area *a = &dp->jarea;
  const struct dvs_fwd_class *fc = dp->fwd_class;
  struct dp_port *ip = &dp->ports[port];
  int slot = slot_of (a, ip->rt);

  ip->fwd_saved = changes;
  ip->blob_tsc = rte_rdtsc ();
  if (slot < 0)
    return;
  struct dvs_fwd_blob *pair = (struct dvs_fwd_blob *) (a->blob_base + (size_t) slot * a->blob_stride);
  uint64_t g0 = pair[0].gen, g1 = pair[1].gen;
  struct dvs_fwd_blob *b = g0 <= g1 ? &pair[0] : &pair[1];   /* the older one */
  long n = fc->port_state_save (dp->fwd[ip->domain], port, dp->now, b->data,
                                sizeof b->data);

  if (n < 0)
    {
      /* Too much to keep here: the checkpoint timer keeps it (1 s). */
      __atomic_store_n (&pair[0].gen, 0, __ATOMIC_RELEASE);
      __atomic_store_n (&pair[1].gen, 0, __ATOMIC_RELEASE);
    }
  else
    {
      b->len = (uint32_t) n;
      b->version = fc->port_state_version;
      __atomic_store_n (&b->gen, (g0 > g1 ? g0 : g1) + 1, __ATOMIC_RELEASE);
    }
}

/* Saving walks the class's table: a port whose addresses keep moving (a
 * MAC flapping between two ports, a guest forging sources) would pay it
 * every burst.  So a port's blob is written at once when it has not been
 * for DP_BLOB_INTERVAL_US, else marked and written by dp_journal_flush_fwd
 * when the interval is over (or the datapath goes idle). */
#define DP_BLOB_INTERVAL_US 10000

void
dp_journal_save_fwd (struct dvs_datapath *dp, uint16_t in_port)
{
  const struct dvs_fwd_class *fc = dp->fwd_class;
  struct dp_port *ip = &dp->ports[in_port];
  uint64_t changes;

  if (dp->jarea.blob_base == NULL || fc->port_changes == NULL || fc->port_state_save == NULL)
    return;
  changes = fc->port_changes (dp->fwd[ip->domain], in_port);
  if (__builtin_expect (changes == ip->fwd_saved, 1) || ip->blob_dirty)
    return;
  if (rte_rdtsc () - ip->blob_tsc >= dp->tsc_hz / 1000000 * DP_BLOB_INTERVAL_US)
    {
      write_fwd_blob (dp, in_port, changes);
      return;
    }
  ip->blob_dirty = true;
  dp->blob_dirty[dp->n_blob_dirty++] = in_port;
}

void
dp_journal_flush_fwd (struct dvs_datapath *dp, bool all)
{
  const struct dvs_fwd_class *fc = dp->fwd_class;
  uint64_t now = rte_rdtsc (), interval = dp->tsc_hz / 1000000 * DP_BLOB_INTERVAL_US;
  uint16_t kept = 0;

  for (uint16_t i = 0; i < dp->n_blob_dirty; i++)
    {
      uint16_t port = dp->blob_dirty[i];
      struct dp_port *p = &dp->ports[port];
      if (!p->in_use)
        {
          p->blob_dirty = false;
          continue;
        }
      if (!all && now - p->blob_tsc < interval)
        {
          dp->blob_dirty[kept++] = port;
          continue;
        }
      p->blob_dirty = false;
      write_fwd_blob (dp, port, fc->port_changes (dp->fwd[p->domain], port));
    }
  dp->n_blob_dirty = kept;
}

void
dp_journal_commit (struct dvs_datapath *dp)
{
  struct dvs_journal *j = dp->jarea.journal;

  if (!dp->journal_open)
    return;
  DP_CRASH_POINT (dp, DP_CRASH_BEFORE_COMMIT);
  set_state (j, DVS_JOURNAL_COMMIT);
  /* A port without filters had only its counters changed: its shadow's
   * filter states are its runtime's (commands change them between bursts
   * only), so copying them back, as the recovery does, changes nothing. */
  for (uint32_t k = 0; k < j->n_shadow; k++)
    {
      struct dvs_port_runtime *rt = slot_rt (&dp->jarea, j->shadow[k].slot);
      dp_store_relaxed (&rt->stats, &j->shadow[k].rt.stats, sizeof rt->stats);
      if (dp->shadow_filters[k])
        dp_store_relaxed (rt->filter_state, j->shadow[k].rt.filter_state,
                          sizeof rt->filter_state);
      if (k == 0)
        DP_CRASH_POINT (dp, DP_CRASH_COMMITTING);
    }
  /* Shadows are done with: the next use of a port reads its runtime. */
  dp->burst_seq++;
}

void
dp_journal_close (struct dvs_datapath *dp)
{
  struct dvs_journal *j = dp->jarea.journal;

  if (!dp->journal_open)
    return;
  /* The burst is handed back: the ring is taken and accounted up to here. */
  if (j->has_pos)
    {
      j->ring_pos[j->in_slot][j->in_queue] = j->pos_after;
      j->ring_pos_valid[j->in_slot][j->in_queue] = 1;
    }
  set_state (j, DVS_JOURNAL_IDLE);
  dp->journal_open = false;
}

/* Counts frame @f of a settled burst as delivered through @o, on the
 * receiving port's runtime @rt (may be NULL: the port is gone). */
static void
count_delivered (struct dvs_port_runtime *rt, const uint8_t *kind,
                 const struct dvs_journal_out *o, uint16_t i)
{
  uint8_t k = kind[o->frame[i]];

  uint8_t q = o->queue & (DVS_MAX_QUEUES - 1);

  if (rt == NULL || k >= DVS_PKT_KIND_COUNT)
    return;
  __atomic_store_n (&rt->stats.tx_packets[k], rt->stats.tx_packets[k] + 1, __ATOMIC_RELAXED);
  __atomic_store_n (&rt->stats.tx_bytes[k], rt->stats.tx_bytes[k] + o->len[i], __ATOMIC_RELAXED);
  __atomic_store_n (&rt->stats.txq_packets[q], rt->stats.txq_packets[q] + 1, __ATOMIC_RELAXED);
  __atomic_store_n (&rt->stats.txq_bytes[q], rt->stats.txq_bytes[q] + o->len[i], __ATOMIC_RELAXED);
}

/* Frames of @o the record says reached the port's guest, for a hand-over
 * that returned; -1 when only the port's ring can tell. */
static int
known_delivered (const struct dvs_journal_out *o)
{
  if (__atomic_load_n (&o->done, __ATOMIC_ACQUIRE))
    return o->sent <= o->n ? o->sent : o->n;
  return o->has_ring ? -1 : 0;
}

/* Marks frames [0, d) of @o delivered; returns how many were not before. */
static unsigned
mark_delivered (struct dvs_journal_recovery *r, const struct dvs_journal_out *o,
                unsigned d)
{
  unsigned fresh = 0;

  for (unsigned i = 0; i < d; i++)
    {
      uint64_t bit = UINT64_C (1) << o->frame[i];
      if (!(r->delivered & bit))
        {
          r->delivered |= bit;
          fresh++;
        }
    }
  return fresh;
}

static void
add_counter (uint64_t *c, int64_t v)
{
  __atomic_store_n (c, (uint64_t) ((int64_t) *c + v), __ATOMIC_RELAXED);
}

int
dvs_journal_recover (const struct dvs_journal_area *a, struct dvs_journal_summary *sum)
{
  struct dvs_journal *j = a->journal;
  struct dvs_journal_recovery *r = a->recovery;
  uint32_t state = __atomic_load_n (&j->state, __ATOMIC_ACQUIRE);
  struct dvs_port_runtime *in;

  memset (sum, 0, sizeof *sum);
  sum->state = state;
  /* Whatever an earlier recovery left unsettled: its ports never came back.
   * Its frames stay counted as crash drops. */
  memset (r, 0, sizeof *r);
  /* Every port's ring is compared at its first link up with where the
   * switch had taken it to: what QEMU did with it meanwhile. */
  for (uint32_t s = 0; s < a->n_slots && s < DVS_MAX_PORTS; s++)
    for (uint32_t q = 0; q < DVS_MAX_QUEUES; q++)
      if (j->ring_pos_valid[s][q] && a->rt_of (a->ctx, (uint16_t) s) != NULL)
        {
          r->check_ring[s][q] = 1;
          r->ring_taken[s][q] = j->ring_pos[s][q];
          sum->rings++;
          r->active = 1;
        }
  if (state == DVS_JOURNAL_IDLE)
    return 0;
  if (state != DVS_JOURNAL_OPEN && state != DVS_JOURNAL_COMMIT)
    {
      set_state (j, DVS_JOURNAL_IDLE);
      return -1;
    }
  if (j->n > DVS_BURST || j->n_shadow > DVS_MAX_PORTS || j->n_out > DVS_JOURNAL_MAX_OUT
      || j->in_slot >= a->n_slots || j->in_queue >= DVS_MAX_QUEUES)
    {
      set_state (j, DVS_JOURNAL_IDLE);
      return -1;
    }
  sum->in_slot = j->in_slot;
  sum->in_queue = j->in_queue;
  sum->frames = j->n;
  r->in_slot = j->in_slot;
  r->in_queue = j->in_queue;
  memcpy (r->kind, j->kind, sizeof r->kind);
  /* The burst's frames are accounted for below: the ring was taken up to
   * its end. */
  if (j->has_pos && a->rt_of (a->ctx, j->in_slot) != NULL)
    {
      r->check_ring[j->in_slot][j->in_queue] = 1;
      r->ring_taken[j->in_slot][j->in_queue] = j->pos_after;
    }

  if (state == DVS_JOURNAL_COMMIT)
    {
      for (uint32_t k = 0; k < j->n_shadow; k++)
        {
          struct dvs_port_runtime *rt = j->shadow[k].slot < a->n_slots
                                          ? a->rt_of (a->ctx, (uint16_t) j->shadow[k].slot) : NULL;
          if (rt != NULL)
            dp_store_relaxed (rt, &j->shadow[k].rt, sizeof *rt);
        }
      sum->committed = true;
    }
  else
    {
      uint32_t n_out = __atomic_load_n (&j->n_out, __ATOMIC_ACQUIRE);

      in = a->rt_of (a->ctx, j->in_slot);
      for (uint16_t i = 0; i < j->n && in != NULL; i++)
        {
          uint8_t k = j->kind[i];
          if (k >= DVS_PKT_KIND_COUNT)
            add_counter (&in->stats.drop_malformed, 1);
          else
            {
              add_counter (&in->stats.rx_packets[k], 1);
              add_counter (&in->stats.rx_bytes[k], j->len[i]);
              add_counter (&in->stats.rxq_packets[j->in_queue], 1);
              add_counter (&in->stats.rxq_bytes[j->in_queue], j->len[i]);
            }
        }
      r->n_out = n_out;
      for (uint32_t k = 0; k < n_out; k++)
        {
          const struct dvs_journal_out *o = &j->out[k];
          int d = o->n <= DVS_BURST ? known_delivered (o) : 0;

          r->out[k] = *o;
          if (d < 0)
            {
              r->pending[k] = 1;
              sum->pending++;
              continue;
            }
          struct dvs_port_runtime *rt = o->slot < a->n_slots ? a->rt_of (a->ctx, o->slot) : NULL;
          for (int i = 0; i < d; i++)
            count_delivered (rt, j->kind, o, (uint16_t) i);
          mark_delivered (r, o, (unsigned) d);
        }
      for (uint16_t i = 0; i < j->n; i++)
        if (j->kind[i] < DVS_PKT_KIND_COUNT && !(r->delivered & (UINT64_C (1) << i)))
          sum->crash_drops++;
      if (in != NULL)
        add_counter (&in->stats.drop_crash, (int64_t) sum->crash_drops);
    }
  r->active = r->active || sum->pending > 0;
  set_state (j, DVS_JOURNAL_IDLE);
  return 1;
}

void
dp_journal_port_up (struct dvs_datapath *dp, struct dp_port *p)
{
  struct dvs_journal_recovery *r = dp->jarea.recovery;
  bool left = false;
  int slot;

  if (r == NULL || !r->active || (slot = slot_of (&dp->jarea, p->rt)) < 0)
    return;
  /* Each rx queue as it comes up (queue 0 at link up, the others when the
   * guest enables them). */
  for (uint8_t i = 0; i < p->n_rxq; i++)
    {
      uint8_t q = p->rxq[i];

      if (!r->check_ring[slot][q])
        continue;
      /* QEMU restarts the ring where the guest's used index is: behind
       * what we had taken if the crash left a burst not handed back (hand
       * it back unread: it is accounted for), ahead of it by what QEMU
       * dropped from the ring while no switch ran. */
      if (p->io->rx_position != NULL)
        {
          uint16_t base = p->io->rx_position (p->vid, q);
          uint16_t behind = (uint16_t) (r->ring_taken[slot][q] - base);
          uint16_t ahead = (uint16_t) (base - r->ring_taken[slot][q]);
          if (behind > 0 && behind <= DVS_BURST && p->io->rx_discard != NULL)
            p->io->rx_discard (p->vid, q, r->ring_taken[slot][q]);
          else if (ahead > 0 && ahead <= DVS_JOURNAL_MAX_RING)
            add_counter (&p->rt->stats.dropped_while_down, ahead);
        }
      r->check_ring[slot][q] = 0;
    }
  for (uint32_t k = 0; k < r->n_out && k < DVS_JOURNAL_MAX_OUT; k++)
    {
      const struct dvs_journal_out *o = &r->out[k];
      uint8_t q = o->queue & (DVS_MAX_QUEUES - 1);

      if (!r->pending[k])
        continue;
      /* Its ring is the port's tx queue @q: settled once that is up. */
      if (o->slot != slot || !(p->vrings & (1u << (2 * q))))
        {
          left = true;
          continue;
        }
      int d = p->io->tx_delivered != NULL
                ? p->io->tx_delivered (p->vid, q, o->ring_before, o->len, o->n) : 0;
      if (d > o->n)
        d = 0;
      for (int i = 0; i < d; i++)
        count_delivered (p->rt, r->kind, o, (uint16_t) i);
      unsigned fresh = mark_delivered (r, o, (unsigned) d);
      /* Those frames were counted as crash drops of their input port. */
      struct dvs_port_runtime *in = dp->jarea.rt_of (dp->jarea.ctx, r->in_slot);
      if (in != NULL && fresh > 0)
        add_counter (&in->stats.drop_crash, -(int64_t) fresh);
      r->pending[k] = 0;
    }
  for (uint32_t s = 0; s < DVS_MAX_PORTS && !left; s++)
    for (uint32_t q = 0; q < DVS_MAX_QUEUES && !left; q++)
      left = r->check_ring[s][q] != 0;
  if (!left)
    __atomic_store_n (&r->active, 0, __ATOMIC_RELEASE);
}
