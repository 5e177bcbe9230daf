/* One received burst, from ingress to egress:
 *   1. ingress: validate, classify the VLAN (pop a tag), count rx, run the
 *      port's filters (blocking, port security, shaping);
 *   2. the forwarding class decides each frame's destination;
 *   3. stage each frame on its output ports — untagged or tagged egress —
 *      plus the mirror targets of the ingress and output ports;
 *   4. deliver: each output port's filters, then the untagged copies; push
 *      tags; the tagged copies;
 *   5. free the burst (delivery copies into the guest, so one mbuf can go to
 *      any number of ports).
 * A known-unicast frame for a held port whose link is down is copied into
 * the port's hold queue at step 3 (dp-hold.c). 
 * No locks, no allocation, no system calls beyond what the port I/O does. */
#include "dp-internal.h"

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <string.h>

/* What one burst has staged where. */
struct burst {
  uint16_t in_port;
  uint16_t n_touched;
  uint16_t touched[DVS_MAX_PORTS];    /* ports with staged frames */
  bool needs_tag[DVS_BURST];
  bool tag_failed[DVS_BURST];
};

/* Ingress VLAN classification.  Returns the internal VLAN, or -1 to drop
 * (counted as vlan_filtered).  Pops the tag of accepted tagged frames. */
static inline int
ingress_vlan (struct dp_port *p, struct rte_mbuf *m)
{
  struct rte_ether_hdr *eth = rte_pktmbuf_mtod (m, struct rte_ether_hdr *);
  uint16_t vid;

  if (likely (eth->ether_type != RTE_BE16 (RTE_ETHER_TYPE_VLAN)))
    return p->vlan.mode == DVS_VLAN_ACCESS ? p->vlan.tag : p->vlan.native;
  if (p->vlan.mode == DVS_VLAN_ACCESS
      || rte_pktmbuf_data_len (m) < RTE_ETHER_HDR_LEN + sizeof (struct rte_vlan_hdr))
    return -1;
  vid = rte_be_to_cpu_16 (((struct rte_vlan_hdr *) (eth + 1))->vlan_tci) & 0xfff;
  if (vid == 0)                 /* priority tag only */
    vid = p->vlan.native;
  else if (!dvs_vlan_trunk_allows (&p->vlan, vid))
    return -1;
  if (rte_vlan_strip (m) != 0)
    return -1;
  return vid;
}

/* Adds a burst's per-kind sums to a port's counters (one store per kind
 * that saw frames). */
static inline void
add_by_kind (uint64_t *packets, uint64_t *bytes, const uint64_t *pk,
             const uint64_t *by)
{
  for (int k = 0; k < DVS_PKT_KIND_COUNT; k++)
    if (pk[k])
      {
        DP_ADD (packets[k], pk[k]);
        DP_ADD (bytes[k], by[k]);
      }
}

static inline void
stage_on (struct dvs_datapath *dp, struct burst *b, uint16_t out, uint8_t idx,
          uint16_t vlan)
{
  struct dp_port *p = &dp->ports[out];

  if (p->n_plain + p->n_tagged == 0)
    b->touched[b->n_touched++] = out;
  if (dvs_vlan_egress_tagged (&p->vlan, vlan))
    {
      p->tagged[p->n_tagged++] = idx;
      b->needs_tag[idx] = true;
    }
  else
    p->plain[p->n_plain++] = idx;
}

static bool
staged_on (const struct dp_port *p, uint8_t idx)
{
  for (uint8_t i = 0; i < p->n_plain; i++)
    if (p->plain[i] == idx)
      return true;
  for (uint8_t i = 0; i < p->n_tagged; i++)
    if (p->tagged[i] == idx)
      return true;
  return false;
}

/* A copy of frame @idx for @src's mirror target, at most one per frame. */
static void
stage_mirror (struct dvs_datapath *dp, struct burst *b, struct dp_port *src,
              uint8_t idx, uint16_t vlan)
{
  struct dp_port *m = &dp->ports[src->mirror_to];

  if (!m->in_use || m->vid < 0 || staged_on (m, idx))
    return;
  stage_on (dp, b, (uint16_t) src->mirror_to, idx, vlan);
  DP_ADD (dp_rt (dp, src)->stats.mirrored, 1);
}

/* Stages frame @idx on port @out and, if @out mirrors what it is sent, on
 * its mirror target. */
static inline void
stage (struct dvs_datapath *dp, struct burst *b, uint16_t out, uint8_t idx,
       uint16_t vlan)
{
  struct dp_port *p = &dp->ports[out];

  stage_on (dp, b, out, idx, vlan);
  if (unlikely (p->mirror_dir & DVS_MIRROR_EGRESS)
      && !(p->filters.active & (1u << DVS_FILTER_BLOCK)))
    stage_mirror (dp, b, p, idx, vlan);
}

/* Hands frames @out (frames @oi of the burst, for their kinds in @meta) to
 * port @p and counts what it took, and what its full ring did not. */
static void
hand_over (struct dvs_datapath *dp, struct dp_port *p, struct rte_mbuf **out,
           const struct dvs_fwd_meta *meta, const uint8_t *oi, uint16_t cnt)
{
  uint64_t pk[DVS_PKT_KIND_COUNT] = { 0 }, by[DVS_PKT_KIND_COUNT] = { 0 };
  /* Where the port's ring stands goes to the journal first: after a crash
   * it tells how much of this hand-over reached the guest. */
  uint16_t q = dp_txq (dp, p);
  struct dvs_journal_out *jo = dp_journal_out_begin (dp, p, out, oi, cnt);
  uint16_t sent = p->io->tx (p->vid, q, out, cnt);
  if (jo != NULL)
    dp_journal_out_end (dp, jo, sent);
  uint64_t qbytes = 0;
  for (uint16_t j = 0; j < sent; j++)
    {
      uint8_t kind = meta[oi[j]].kind;
      uint32_t len = rte_pktmbuf_pkt_len (out[j]);
      pk[kind]++;
      by[kind] += len;
      qbytes += len;
    }
  struct dvs_port_runtime *rt = dp_rt (dp, p);
  add_by_kind (rt->stats.tx_packets, rt->stats.tx_bytes, pk, by);
  if (sent > 0)
    {
      DP_ADD (rt->stats.txq_packets[q], sent);
      DP_ADD (rt->stats.txq_bytes[q], qbytes);
    }
  if (sent < cnt)
    DP_ADD (rt->stats.drop_ring_full, cnt - sent);
}

static void
deliver (struct dvs_datapath *dp, struct dp_port *p, struct burst *b,
         struct rte_mbuf **fwd, const struct dvs_fwd_meta *meta,
         const uint8_t *idx, uint8_t n, bool tagged)
{
  struct rte_mbuf *out[DVS_BURST];
  uint8_t oi[DVS_BURST];
  uint16_t cnt = 0;

  for (uint8_t i = 0; i < n; i++)
    {
      if (tagged && b->tag_failed[idx[i]])
        {
          DP_ADD (dp_rt (dp, p)->stats.drop_no_buffer, 1);
          continue;
        }
      oi[cnt] = idx[i];
      out[cnt++] = fwd[idx[i]];
    }
  if (unlikely (p->filters.active) && cnt > 0)
    {
      uint64_t pass = dp_filters_apply (dp, p, DVS_DIR_TO_GUEST, out, cnt);
      uint16_t kept = 0;
      for (uint16_t i = 0; i < cnt; i++)
        if (pass & (UINT64_C (1) << i))
          {
            oi[kept] = oi[i];
            out[kept++] = out[i];
          }
      cnt = kept;
    }
  if (cnt > 0)
    hand_over (dp, p, out, meta, oi, cnt);
}

/* Frame i of a burst is frame i: the journal's record of a whole burst. */
static const uint8_t identity[DVS_BURST] = {
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};
_Static_assert (DVS_BURST == 32, "identity[] covers a burst");

/* Whether output port @p takes frames of @vlan as they are: no filters to
 * run, no tag to push. */
static inline bool
takes_as_is (const struct dp_port *p, uint16_t vlan)
{
  return !p->filters.active && !dvs_vlan_egress_tagged (&p->vlan, vlan);
}

/* 3-4 at once for the common burst: every frame has the same decision and
 * VLAN (one flow, or the V2V benchmark's flood), no mirror anywhere, and
 * every port it goes to is up and takes the frames as they are.  The
 * burst is handed to each such port whole (no staging, no copies of the
 * frame array).  Returns false, having done
 * nothing, for any other burst: the general path then does everything. */
static bool
deliver_uniform (struct dvs_datapath *dp, struct dp_port *ip, uint16_t in_port,
                 struct rte_mbuf **fwd, const struct dvs_fwd_meta *meta,
                 const uint16_t *out, uint16_t k)
{
  const uint16_t d = out[0], vlan = meta[0].vlan;
  uint16_t to[DVS_MAX_PORTS], n_to = 0, n_down = 0;
  uint16_t down[DVS_MAX_PORTS];

  for (uint16_t i = 1; i < k; i++)
    if (out[i] != d || meta[i].vlan != vlan)
      return false;
  if (d == DVS_FWD_DROP)
    return true;                      /* as the general path: not counted */
  if (d != DVS_FWD_FLOOD)
    {
      struct dp_port *p;

      if (d >= DVS_MAX_PORTS || d == in_port)
        return false;
      p = &dp->ports[d];
      if (!p->in_use || p->domain != ip->domain || !dvs_vlan_member (&p->vlan, vlan)
          || p->vid < 0 || !takes_as_is (p, vlan))
        return false;
      to[n_to++] = d;
    }
  else
    for (uint16_t j = 0; j < dp->n_configured; j++)
      {
        uint16_t o = dp->configured[j];
        struct dp_port *p = &dp->ports[o];

        if (o == in_port || p->domain != ip->domain || !dvs_vlan_member (&p->vlan, vlan))
          continue;
        if (p->vid < 0)
          down[n_down++] = o;
        else if (takes_as_is (p, vlan))
          to[n_to++] = o;
        else
          return false;
      }

  for (uint16_t t = 0; t < n_to; t++)
    hand_over (dp, &dp->ports[to[t]], fwd, meta, identity, k);
  /* A member whose link is down misses the flood, counted there. */
  for (uint16_t j = 0; j < n_down; j++)
    DP_ADD (dp_rt (dp, &dp->ports[down[j]])->stats.drop_link_down, k);
  return true;
}

/* 1. Returns the number of frames left in fwd[]/meta[]. */
static uint16_t
ingress (struct dvs_datapath *dp, struct dp_port *ip, struct rte_mbuf **pkts,
         uint16_t n, struct rte_mbuf **fwd, struct dvs_fwd_meta *meta,
         bool injected)
{
  uint64_t pk[DVS_PKT_KIND_COUNT] = { 0 }, by[DVS_PKT_KIND_COUNT] = { 0 };
  struct dvs_port_runtime *rt = dp_rt (dp, ip);
  uint16_t k = 0;

  for (uint16_t i = 0; i < n; i++)
    {
      struct rte_mbuf *m = pkts[i];
      uint32_t len = rte_pktmbuf_pkt_len (m);
      int vlan;

      if (unlikely (rte_pktmbuf_data_len (m) < RTE_ETHER_HDR_LEN))
        {
          DP_ADD (rt->stats.drop_malformed, 1);
          continue;
        }
      vlan = ingress_vlan (ip, m);
      if (unlikely (vlan < 0))
        {
          DP_ADD (rt->stats.drop_vlan_filtered, 1);
          continue;
        }
      struct rte_ether_hdr *eth = rte_pktmbuf_mtod (m, struct rte_ether_hdr *);
      meta[k].dst = eth->dst_addr.addr_bytes;
      meta[k].src = eth->src_addr.addr_bytes;
      meta[k].vlan = (uint16_t) vlan;
      meta[k].kind = dp_pkt_kind (eth->dst_addr.addr_bytes);
      pk[meta[k].kind]++;
      by[meta[k].kind] += len;
      fwd[k++] = m;
    }
  if (unlikely (injected))
    return k;
  add_by_kind (rt->stats.rx_packets, rt->stats.rx_bytes, pk, by);
  if (k > 0)
    {
      uint16_t q = dp->in_queue & (DVS_MAX_QUEUES - 1);
      DP_ADD (rt->stats.rxq_packets[q], k);
      DP_ADD (rt->stats.rxq_bytes[q], by[DVS_PKT_UNICAST] + by[DVS_PKT_MULTICAST]
                                          + by[DVS_PKT_BROADCAST]);
    }
  if (unlikely (ip->filters.active) && k > 0)
    {
      uint64_t pass = dp_filters_apply (dp, ip, DVS_DIR_FROM_GUEST, fwd, k);
      uint16_t kept = 0;
      for (uint16_t i = 0; i < k; i++)
        if (pass & (UINT64_C (1) << i))
          {
            meta[kept] = meta[i];
            fwd[kept++] = fwd[i];
          }
      k = kept;
    }
  return k;
}

/* Frees a burst.  Nearly every frame is a plain single-segment mbuf of the
 * datapath's pool that nothing else references: those go back to the pool
 * in one bulk put (what rte_pktmbuf_free_bulk does for them, without its
 * per-mbuf calls); anything else (chained, indirect, shared, an uplink's
 * pool) through rte_pktmbuf_free. */
static inline void
free_burst (struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n)
{
  void *plain[DVS_BURST];
  unsigned k = 0;

  for (uint16_t i = 0; i < n; i++)
    {
      struct rte_mbuf *m = pkts[i];
      if (likely (m->pool == pool && m->next == NULL && RTE_MBUF_DIRECT (m)
                  && rte_mbuf_refcnt_read (m) == 1))
        plain[k++] = m;
      else
        rte_pktmbuf_free (m);
    }
  if (k > 0)
    rte_mempool_put_bulk (pool, plain, k);
}

void
dp_pipeline_burst (struct dvs_datapath *dp, uint16_t in_port,
                   struct rte_mbuf **pkts, uint16_t n, bool injected)
{
  struct dp_port *ip = &dp->ports[in_port];
  struct rte_mbuf *fwd[DVS_BURST];
  struct dvs_fwd_meta meta[DVS_BURST];
  uint16_t out[DVS_BURST];
  struct burst b;
  bool any_tag = false;
  uint16_t k;

  dp_journal_open (dp, in_port, pkts, n, injected);
  b.in_port = in_port;
  b.n_touched = 0;
  memset (b.needs_tag, 0, sizeof b.needs_tag);
  memset (b.tag_failed, 0, sizeof b.tag_failed);

  /* 1. ingress */
  k = ingress (dp, ip, pkts, n, fwd, meta, injected);

  /* 2. forwarding decision; what it learned is kept before any frame
   * reaches a guest (dp-journal.c) */
  if (k > 0)
    {
      dp->fwd_class->classify (dp->fwd[ip->domain], in_port, meta, k, dp->now, out);
      dp_journal_save_fwd (dp, in_port);
      if (likely (dp->n_mirrors == 0 && ip->mirror_dir == 0)
          && deliver_uniform (dp, ip, in_port, fwd, meta, out, k))
        goto done;
    }

  /* 3. staging.  Consecutive frames mostly share a destination: the
   * output port is checked once per run of frames, not once per frame. */
  uint16_t run_d = DVS_FWD_DROP, run_vlan = 0;
  uint64_t *run_drop = NULL;          /* counter to bump, or NULL to stage */
  int flood_vlan = -1;
  uint16_t n_flood = 0, n_flood_down = 0;
  uint16_t flood[DVS_MAX_PORTS], flood_down[DVS_MAX_PORTS];
  for (uint16_t i = 0; i < k; i++)
    {
      uint16_t d = out[i], vlan = meta[i].vlan;

      if (unlikely (ip->mirror_dir & DVS_MIRROR_INGRESS))
        stage_mirror (dp, &b, ip, (uint8_t) i, vlan);
      if (d == DVS_FWD_DROP)
        continue;
      if (likely (d != DVS_FWD_FLOOD))
        {
          if (d != run_d || vlan != run_vlan)
            {
              struct dp_port *p = d < DVS_MAX_PORTS ? &dp->ports[d] : NULL;
              static uint64_t discard;

              run_d = d;
              run_vlan = vlan;
              if (unlikely (p == NULL || d == in_port || !p->in_use
                            || p->domain != ip->domain))
                run_drop = &discard;
              else if (unlikely (!dvs_vlan_member (&p->vlan, vlan)))
                run_drop = &dp_rt (dp, p)->stats.drop_vlan_filtered;
              else if (unlikely (p->vid < 0))
                run_drop = &dp_rt (dp, p)->stats.drop_link_down;
              else
                run_drop = NULL;
            }
          if (unlikely (run_drop != NULL))
            {
              /* hold is only ever set on ports in use */
              if (d < DVS_MAX_PORTS && dp->ports[d].hold
                  && run_drop == &dp_rt (dp, &dp->ports[d])->stats.drop_link_down)
                dp_hold_frame (dp, &dp->ports[d], fwd[i], vlan);
              else
                DP_ADD (*run_drop, 1);
            }
          else if (unlikely (dp->n_mirrors) && staged_on (&dp->ports[d], (uint8_t) i))
            ;   /* already there as a mirror copy */
          else
            stage (dp, &b, d, (uint8_t) i, vlan);
          continue;
        }
      /* A flood goes to the ports of the frame's domain and VLAN: found
       * once per burst and VLAN (port states do not change in a burst). */
      if (vlan != flood_vlan)
        {
          flood_vlan = vlan;
          n_flood = n_flood_down = 0;
          for (uint16_t j = 0; j < dp->n_configured; j++)
            {
              uint16_t o = dp->configured[j];
              struct dp_port *p = &dp->ports[o];
              if (o == in_port || p->domain != ip->domain
                  || !dvs_vlan_member (&p->vlan, vlan))
                continue;
              if (unlikely (p->vid < 0))
                flood_down[n_flood_down++] = o;
              else
                flood[n_flood++] = o;
            }
        }
      for (uint16_t j = 0; j < n_flood; j++)
        if (!(unlikely (dp->n_mirrors) && staged_on (&dp->ports[flood[j]], (uint8_t) i)))
          stage (dp, &b, flood[j], (uint8_t) i, vlan);
      /* A member whose link is down misses the frame: count it there, as
       * for unicast, so that every frame received is accounted for. */
      for (uint16_t j = 0; j < n_flood_down; j++)
        DP_ADD (dp_rt (dp, &dp->ports[flood_down[j]])->stats.drop_link_down, 1);
    }

  /* 4. delivery: untagged first, then the same mbufs with their tag pushed */
  for (uint16_t t = 0; t < b.n_touched; t++)
    {
      struct dp_port *p = &dp->ports[b.touched[t]];
      if (p->n_plain)
        deliver (dp, p, &b, fwd, meta, p->plain, p->n_plain, false);
      any_tag |= p->n_tagged != 0;
    }
  if (any_tag)
    {
      for (uint16_t i = 0; i < k; i++)
        if (b.needs_tag[i])
          {
            fwd[i]->vlan_tci = meta[i].vlan;
            b.tag_failed[i] = rte_vlan_insert (&fwd[i]) != 0;
          }
      for (uint16_t t = 0; t < b.n_touched; t++)
        {
          struct dp_port *p = &dp->ports[b.touched[t]];
          if (p->n_tagged)
            deliver (dp, p, &b, fwd, meta, p->tagged, p->n_tagged, true);
        }
    }
  for (uint16_t t = 0; t < b.n_touched; t++)
    dp->ports[b.touched[t]].n_plain = dp->ports[b.touched[t]].n_tagged = 0;

done:
  /* 5. every counter of the burst goes back from the journal's shadows;
   * delivery copied the frames: they are all ours to free */
  dp_journal_commit (dp);
  free_burst (dp->pool, pkts, n);
}
