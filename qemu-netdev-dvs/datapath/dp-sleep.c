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

void
dp_sleep_forget_port (struct dvs_datapath *dp, struct dp_port *p)
{
  if (p->kick_fd >= 0)
    {
      epoll_ctl (dp->epoll_fd, EPOLL_CTL_DEL, p->kick_fd, NULL);
      close (p->kick_fd);
    }
  p->kick_fd = p->kick_src = -1;
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

/* Makes sure the port's current kick fd is watched. */
static void
watch_kick (struct dvs_datapath *dp, uint16_t port)
{
  struct dp_port *p = &dp->ports[port];
  int src = p->io->kickfd (p->vid);
  bool dirty = atomic_exchange (&p->kick_dirty, false);

  if (!dirty && src == p->kick_src && p->kick_fd >= 0)
    return;
  dp_sleep_forget_port (dp, p);
  if (src < 0)
    return;
  int fd = fcntl (src, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return;
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = port };
  if (!is_eventfd (fd) || epoll_ctl (dp->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
    {
      close (fd);
      return;
    }
  p->kick_fd = fd;
  p->kick_src = src;
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
      watch_kick (dp, dp->polled[i]);
      p->io->notify (p->vid, true);
      if (p->kick_fd < 0 && timeout_ms > (int) dp->config.poll_ms)
        timeout_ms = (int) dp->config.poll_ms;
    }
  /* A frame queued before notifications were enabled kicks nobody: look.
   * Frames waiting after a whole idle spell of empty dequeues is a stall
   * worth counting (switch.show: rx_stalls). */
  for (uint16_t i = 0; i < dp->n_polled && !pending; i++)
    pending = dp->ports[dp->polled[i]].io->pending (dp->ports[dp->polled[i]].vid) > 0;
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
          uint32_t who = evs[i].data.u32;
          if (who == UINT32_MAX)
            drain (dp->wake_fd);
          else if (who < DVS_MAX_PORTS && dp->ports[who].kick_fd >= 0)
            drain (dp->ports[who].kick_fd);
        }
    }
  for (uint16_t i = 0; i < dp->n_polled; i++)
    dp->ports[dp->polled[i]].io->notify (dp->ports[dp->polled[i]].vid, false);
}
