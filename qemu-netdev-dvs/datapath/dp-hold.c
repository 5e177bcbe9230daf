/* Migration support in the datapath: hold queues and announcements.
 *
 * A held port whose link is down queues copies of the known-unicast frames
 * forwarded to it (a migration destination between the source's stop and
 * its own link up), as they would leave the port (tagged per its VLAN), in
 * a ring of DVS_HOLD_MAX mbufs of the datapath's pool.  At link up the ring
 * is delivered in order through the port's egress filters, before any
 * other frame.  Runs on the datapath thread only. */
#include "dp-internal.h"

#include <errno.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

void
dp_hold_frame (struct dvs_datapath *dp, struct dp_port *p, struct rte_mbuf *m,
               uint16_t vlan)
{
  struct rte_mbuf *copy;

  if (p->hold_len >= DVS_HOLD_MAX)
    {
      DP_ADD (dp_rt (dp, p)->stats.hold_dropped, 1);
      return;
    }
  copy = rte_pktmbuf_copy (m, dp->pool, 0, UINT32_MAX);
  if (copy == NULL)
    {
      DP_ADD (dp_rt (dp, p)->stats.drop_no_buffer, 1);
      return;
    }
  if (dvs_vlan_egress_tagged (&p->vlan, vlan))
    {
      copy->vlan_tci = vlan;
      if (rte_vlan_insert (&copy) != 0)
        {
          rte_pktmbuf_free (copy);
          DP_ADD (dp_rt (dp, p)->stats.drop_no_buffer, 1);
          return;
        }
    }
  p->hold_q[(p->hold_head + p->hold_len) % DVS_HOLD_MAX] = copy;
  p->hold_len++;
  DP_ADD (dp_rt (dp, p)->stats.held, 1);
}

/* Takes up to @max frames off the front of the ring, in order. */
static uint16_t
hold_take (struct dp_port *p, struct rte_mbuf **out, uint16_t max)
{
  uint16_t n = 0;

  while (n < max && p->hold_len > 0)
    {
      out[n++] = p->hold_q[p->hold_head];
      p->hold_head = (uint16_t) ((p->hold_head + 1) % DVS_HOLD_MAX);
      p->hold_len--;
    }
  if (p->hold_len == 0)
    p->hold_head = 0;
  return n;
}

void
dp_hold_release (struct dvs_datapath *dp, struct dp_port *p)
{
  struct rte_mbuf *burst[DVS_BURST];
  uint16_t n;

  while ((n = hold_take (p, burst, DVS_BURST)) > 0)
    {
      struct rte_mbuf *out[DVS_BURST];
      uint16_t cnt = n, sent;

      memcpy (out, burst, n * sizeof *out);
      if (p->filters.active)
        {
          uint64_t pass = dp_filters_apply (dp, p, DVS_DIR_TO_GUEST, out, n);
          cnt = 0;
          for (uint16_t i = 0; i < n; i++)
            if (pass & (UINT64_C (1) << i))
              out[cnt++] = out[i];
        }
      uint16_t q = dp_txq (dp, p);
      sent = cnt ? p->io->tx (p->vid, q, out, cnt) : 0;
      for (uint16_t i = 0; i < sent; i++)
        {
          enum dvs_pkt_kind kind = dp_pkt_kind (rte_pktmbuf_mtod (out[i], uint8_t *));
          DP_ADD (p->rt->stats.tx_packets[kind], 1);
          DP_ADD (p->rt->stats.tx_bytes[kind], rte_pktmbuf_pkt_len (out[i]));
          DP_ADD (p->rt->stats.txq_packets[q], 1);
          DP_ADD (p->rt->stats.txq_bytes[q], rte_pktmbuf_pkt_len (out[i]));
        }
      if (sent < cnt)
        DP_ADD (p->rt->stats.drop_ring_full, cnt - sent);
      /* tx copied what it accepted: every held mbuf is still ours */
      rte_pktmbuf_free_bulk (burst, n);
    }
}

void
dp_hold_discard (struct dvs_datapath *dp, struct dp_port *p)
{
  struct rte_mbuf *burst[DVS_BURST];
  uint16_t n;

  (void) dp;
  while ((n = hold_take (p, burst, DVS_BURST)) > 0)
    {
      if (p->rt != NULL)
        DP_ADD (p->rt->stats.drop_link_down, n);
      rte_pktmbuf_free_bulk (burst, n);
    }
}

void
dvs_dp_rarp_frame (const uint8_t mac[6], uint8_t out[DVS_RARP_FRAME_LEN])
{
  memset (out, 0, DVS_RARP_FRAME_LEN);
  memset (out, 0xff, 6);                 /* broadcast */
  memcpy (out + 6, mac, 6);
  out[12] = 0x80; out[13] = 0x35;        /* RARP */
  out[14] = 0x00; out[15] = 0x01;        /* hardware: Ethernet */
  out[16] = 0x08; out[17] = 0x00;        /* protocol: IPv4 */
  out[18] = 6;                           /* hardware address length */
  out[19] = 4;                           /* protocol address length */
  out[20] = 0x00; out[21] = 0x03;        /* reverse request */
  memcpy (out + 22, mac, 6);             /* sender hardware address */
  memcpy (out + 32, mac, 6);             /* target hardware address */
  /* protocol addresses 0.0.0.0, padding to the 60-byte minimum: zero */
}

int
dp_announce (struct dvs_datapath *dp, uint16_t port, const uint8_t *mac)
{
  struct rte_mbuf *m;
  uint8_t *data;

  if (mac[0] & 1)
    return -EINVAL;                      /* a group address is not a VM's */
  m = rte_pktmbuf_alloc (dp->pool);
  if (m == NULL)
    return -ENOBUFS;
  data = (uint8_t *) rte_pktmbuf_append (m, DVS_RARP_FRAME_LEN);
  if (data == NULL)
    {
      rte_pktmbuf_free (m);
      return -ENOBUFS;
    }
  dvs_dp_rarp_frame (mac, data);
  dp_pipeline_burst (dp, port, &m, 1, true);   /* takes the frame */
  return 0;
}
