/* Port I/O through DPDK rte_vhost (the production dvs_port_io). */
#include "datapath.h"

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

const struct dvs_port_io dvs_port_io_vhost = {
  .rx = vhost_rx,
  .tx = vhost_tx,
  .pending = vhost_pending,
  .kickfd = vhost_kickfd,
  .notify = vhost_notify,
};
