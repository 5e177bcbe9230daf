/* Port I/O through a DPDK ethdev, queue 0 (uplinks: net_af_packet on a
 * kernel interface).  The handle is the ethdev port id.
 *
 * rx: the ethdev fills mbufs of the pool given at its queue setup.  A PMD
 * that reports a stripped VLAN tag gets it put back into the frame: the
 * pipeline classifies VLANs from the frame's header.
 * tx: the datapath keeps its frames (datapath.h) and may push a tag into
 * the same mbuf after this call, so the device gets copies.
 * No kick fd: while an uplink is up the datapath's idle sleep is bounded
 * (dvs_dp_config.poll_ms). */
#include "datapath.h"

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

static uint16_t
ethdev_rx (int vid, uint16_t q, struct rte_mempool *pool, struct rte_mbuf **pkts,
           uint16_t n)
{
  uint16_t got = rte_eth_rx_burst ((uint16_t) vid, 0, pkts, n);

  (void) pool;
  (void) q;           /* no queues member: always 0 */
  for (uint16_t i = 0; i < got; i++)
    if (unlikely (pkts[i]->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED)
        && rte_vlan_insert (&pkts[i]) != 0)
      pkts[i]->ol_flags &= ~RTE_MBUF_F_RX_VLAN_STRIPPED;   /* goes as untagged */
  return got;
}

static uint16_t
ethdev_tx (int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
  struct rte_mbuf *copies[DVS_BURST];
  uint16_t made = 0, sent = 0;

  (void) q;

  while (sent < n)
    {
      uint16_t chunk = n - sent < DVS_BURST ? n - sent : DVS_BURST, done;

      for (made = 0; made < chunk; made++)
        {
          struct rte_mbuf *m = pkts[sent + made];
          copies[made] = rte_pktmbuf_copy (m, m->pool, 0, UINT32_MAX);
          if (copies[made] == NULL)
            break;
        }
      done = made ? rte_eth_tx_burst ((uint16_t) vid, 0, copies, made) : 0;
      if (done < made)
        rte_pktmbuf_free_bulk (copies + done, made - done);
      sent += done;
      if (done < chunk)
        break;             /* ring full or no buffers: the rest is not taken */
    }
  return sent;
}

static uint32_t
ethdev_pending (int vid, uint16_t q)
{
  (void) vid;
  (void) q;
  return 0;
}

static int
ethdev_kickfd (int vid, uint16_t q)
{
  (void) vid;
  (void) q;
  return -1;
}

static void
ethdev_notify (int vid, uint16_t q, bool enable)
{
  (void) vid;
  (void) q;
  (void) enable;
}

const struct dvs_port_io dvs_port_io_ethdev = {
  .rx = ethdev_rx,
  .tx = ethdev_tx,
  .pending = ethdev_pending,
  .kickfd = ethdev_kickfd,
  .notify = ethdev_notify,
};
