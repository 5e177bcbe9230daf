/* Adaptive polling: when the ports have been idle for a while the datapath
 * asks the guests to kick, and sleeps in epoll on the kick eventfds and its
 * own wake eventfd (commands) until a frame or a command arrives.
 *
 * Kick fds belong to rte_vhost, which closes and replaces them when the
 * front-end sends a new SET_VRING_KICK.  The datapath therefore watches its
 * own dup() of each, re-made whenever the vring changed state
 * (dvs_dp_kick()) or the fd number changed, and reads (drains) only fds that
 * it has checked are eventfds.
 *
 * A port without a kick fd (an uplink: a DPDK ethdev has no eventfd for
 * af_packet) cannot wake the thread: while one is up, the sleep lasts at
 * most config.poll_ms, and the thread polls it on each wake-up. */
#include "dp-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void
forget_queue (struct dvs_datapath *dp, struct dp_port *p, uint16_t q)
{
  if (p->kick_fd[q] >= 0)
    {
      epoll_ctl (dp->epoll_fd, EPOLL_CTL_DEL, p->kick_fd[q], NULL);
      close (p->kick_fd[q]);
    }
  p->kick_fd[q] = p->kick_src[q] = -1;
}

void
dp_sleep_forget_port (struct dvs_datapath *dp, struct dp_port *p)
{
  for (uint16_t q = 0; q < DVS_MAX_QUEUES; q++)
    forget_queue (dp, p, q);
}

static bool
is_eventfd (int fd)
{
  char path[64], target[64];
  ssize_t n;

  snprintf (path, sizeof path, "/proc/self/fd/%d", fd);
  n = readlink (path, target, sizeof target - 1);
  if (n < 0)
    return false;
  target[n] = '\0';
  return strcmp (target, "anon_inode:[eventfd]") == 0;
}

/* epoll data of a kick fd: port and rx queue. */
#define KICK_TAG(port, q) ((uint32_t) (port) | (uint32_t) (q) << 16)

/* Makes sure the current kick fd of the port's rx queue @q is watched. */
static void
watch_kick (struct dvs_datapath *dp, uint16_t port, uint16_t q, bool dirty)
{
  struct dp_port *p = &dp->ports[port];
  int src = p->io->kickfd (p->vid, q);

  if (!dirty && src == p->kick_src[q] && p->kick_fd[q] >= 0)
    return;
  forget_queue (dp, p, q);
  if (src < 0)
    return;
  int fd = fcntl (src, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return;
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = KICK_TAG (port, q) };
  if (!is_eventfd (fd) || epoll_ctl (dp->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      close (fd);
      return;
    }
  p->kick_fd[q] = fd;
  p->kick_src[q] = src;
}

/* Watches the kick fds of the port's rx queues in use, and only those. */
static void
watch_kicks (struct dvs_datapath *dp, uint16_t port)
{
  struct dp_port *p = &dp->ports[port];
  bool dirty = atomic_exchange (&p->kick_dirty, false);
  uint32_t used = 0;

  for (uint8_t i = 0; i < p->n_rxq; i++)
    {
      watch_kick (dp, port, p->rxq[i], dirty);
      used |= 1u << p->rxq[i];
    }
  for (uint16_t q = 0; q < DVS_MAX_QUEUES; q++)
    if (!(used & (1u << q)) && p->kick_fd[q] >= 0)
      forget_queue (dp, p, q);
}

static void
drain (int fd)
{
  uint64_t v;
  /* Readable per epoll, and we are the only reader: this does not block. */
  if (read (fd, &v, sizeof v) < 0 && errno != EAGAIN)
    return;
}

void
dp_sleep (struct dvs_datapath *dp, int timeout_ms)
{
  struct epoll_event evs[DVS_MAX_PORTS + 1];
  bool pending = false;
  int n;

  for (uint16_t i = 0; i < dp->n_polled; i++)
    {
      struct dp_port *p = &dp->ports[dp->polled[i]];
      watch_kicks (dp, dp->polled[i]);
      for (uint8_t k = 0; k < p->n_rxq; k++)
        {
          p->io->notify (p->vid, p->rxq[k], true);
          if (p->kick_fd[p->rxq[k]] < 0 && timeout_ms > (int) dp->config.poll_ms)
            timeout_ms = (int) dp->config.poll_ms;
        }
    }
  /* A frame queued before notifications were enabled kicks nobody: look.
   * Frames waiting after a whole idle spell of empty dequeues is a stall
   * worth counting (switch.show: rx_stalls). */
  for (uint16_t i = 0; i < dp->n_polled && !pending; i++)
    {
      struct dp_port *p = &dp->ports[dp->polled[i]];
      for (uint8_t k = 0; k < p->n_rxq && !pending; k++)
        pending = p->io->pending (p->vid, p->rxq[k]) > 0;
    }
  if (pending)
    DP_ADD (dp->stats.rx_stalls, 1);

  if (!pending)
    {
      DP_ADD (dp->stats.sleeps, 1);
      n = epoll_wait (dp->epoll_fd, evs, DVS_MAX_PORTS + 1, timeout_ms);
      if (n > 0)
        DP_ADD (dp->stats.wakeups, 1);
      for (int i = 0; i < n; i++)
        {
          uint32_t who = evs[i].data.u32, port = who & 0xffff, q = who >> 16;
          if (who == UINT32_MAX)
            drain (dp->wake_fd);
          else if (port < DVS_MAX_PORTS && q < DVS_MAX_QUEUES
                   && dp->ports[port].kick_fd[q] >= 0)
            drain (dp->ports[port].kick_fd[q]);
        }
    }
  for (uint16_t i = 0; i < dp->n_polled; i++)
    {
      struct dp_port *p = &dp->ports[dp->polled[i]];
      for (uint8_t k = 0; k < p->n_rxq; k++)
        p->io->notify (p->vid, p->rxq[k], false);
    }
}
