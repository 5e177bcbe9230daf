/* Port I/O through DPDK rte_vhost (the production dvs_port_io). */
#include "datapath.h"

#include <linux/virtio_net.h>
#include <rte_vhost.h>

/* Queue numbers from the back-end's point of view: the guest's receive
 * queue is 0, its transmit queue 1. */
#define GUEST_RXQ 0
#define GUEST_TXQ 1

static uint16_t
vhost_rx (int vid, struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n)
{
  return rte_vhost_dequeue_burst (vid, GUEST_TXQ, pool, pkts, n);
}

static uint16_t
vhost_tx (int vid, struct rte_mbuf **pkts, uint16_t n)
{
  return rte_vhost_enqueue_burst (vid, GUEST_RXQ, pkts, n);
}

static uint32_t
vhost_pending (int vid)
{
  return rte_vhost_rx_queue_count (vid, GUEST_TXQ);
}

static int
vhost_kickfd (int vid)
{
  struct rte_vhost_vring vring;

  if (rte_vhost_get_vhost_vring (vid, GUEST_TXQ, &vring) != 0)
    return -1;
  return vring.kickfd;
}

static void
vhost_notify (int vid, bool enable)
{
  rte_vhost_enable_guest_notification (vid, GUEST_TXQ, enable);
}

/* The guest's receive ring: its used index is where frames land. */
static uint16_t
vhost_tx_position (int vid)
{
  uint16_t avail, used;

  if (rte_vhost_get_vring_base (vid, GUEST_RXQ, &avail, &used) != 0)
    return 0;
  return used;
}

/* After a reconnect the ring's base is what the guest's memory says (QEMU
 * restores it from the used index, and writes nothing into a receive ring
 * while its back-end is gone).  Each frame took one used entry, or with
 * mergeable buffers as many as its length (header included) needed: the
 * entries' lengths tell. */
static int
vhost_tx_delivered (int vid, uint16_t before, const uint32_t *len, uint16_t n)
{
  struct rte_vhost_vring vring;
  uint64_t features;
  uint16_t avail, used, entries;

  if (rte_vhost_get_vring_base (vid, GUEST_RXQ, &avail, &used) != 0
      || rte_vhost_get_negotiated_features (vid, &features) != 0)
    return 0;
  entries = (uint16_t) (used - before);
  if (entries == 0)
    return 0;
  if (!(features & (1ULL << VIRTIO_NET_F_MRG_RXBUF)))
    return entries <= n ? entries : 0;
  if (rte_vhost_get_vhost_vring (vid, GUEST_RXQ, &vring) != 0 || vring.used == NULL
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

const struct dvs_port_io dvs_port_io_vhost = {
  .tx_position = vhost_tx_position,
  .tx_delivered = vhost_tx_delivered,
  .rx = vhost_rx,
  .tx = vhost_tx,
  .pending = vhost_pending,
  .kickfd = vhost_kickfd,
  .notify = vhost_notify,
};
