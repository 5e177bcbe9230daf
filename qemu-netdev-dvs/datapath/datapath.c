/* The datapath thread and the commands that change its state (see
 * datapath.h for the threading contract). */
#include "dp-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#define DP_TICK_MS 1000          /* housekeeping period: aging, clock */
#define DP_DEFAULT_IDLE_US 200
#define DP_DEFAULT_POLL_MS 1

enum dp_cmd_type {
  DP_CMD_PORT_ADD,
  DP_CMD_PORT_REMOVE,
  DP_CMD_PORT_SET_VLAN,
  DP_CMD_LINK_UP,
  DP_CMD_LINK_DOWN,
  DP_CMD_MAC_DUMP,
  DP_CMD_MAC_FLUSH,
  DP_CMD_MAC_COUNT,
  DP_CMD_SET_FILTER,
  DP_CMD_SET_MIRROR,
  DP_CMD_SAVE_FILTER,
  DP_CMD_LOAD_FILTER,
  DP_CMD_FWD_SAVE,
  DP_CMD_FWD_LOAD,
  DP_CMD_LOAD_STATS,
  DP_CMD_DOMAIN_ADD,
  DP_CMD_DOMAIN_REMOVE,
  DP_CMD_SET_HOLD,
  DP_CMD_ANNOUNCE,
  DP_CMD_SET_JOURNAL,
};

struct dp_cmd {
  enum dp_cmd_type type;
  uint16_t port;
  int arg;                            /* vid; flush port */
  const struct dvs_vlan_config *vlan;
  struct dvs_mac_entry *entries;
  size_t cap;
  int filter;                         /* enum dvs_filter_id */
  const void *config;
  uint8_t *buf;
  const uint8_t *data;
  size_t len;
  uint16_t version;
  long result;
  sem_t done;
};

static void dp_crash_from_env (struct dvs_datapath *dp);

static void
port_list_remove (uint16_t *list, uint16_t *n, uint16_t port)
{
  for (uint16_t i = 0; i < *n; i++)
    if (list[i] == port)
      {
        list[i] = list[--*n];
        return;
      }
}

/* Whether what was learned on the port attracts frames: while its link is
 * up, or while it is held (frames for it are queued). */
static void
update_active (struct dvs_datapath *dp, struct dp_port *p, uint16_t port)
{
  if (dp->fwd_class->port_set_active)
    dp->fwd_class->port_set_active (dp->fwd[p->domain], port, p->vid >= 0 || p->hold);
}

static long
do_link_down (struct dvs_datapath *dp, struct dp_port *p, uint16_t port)
{
  if (p->vid < 0)
    return 0;
  dp_sleep_forget_port (dp, p);
  __atomic_store_n (&p->vid, -1, __ATOMIC_RELAXED);
  __atomic_store_n (&p->vrings, 0, __ATOMIC_RELAXED);
  p->n_rxq = 0;
  port_list_remove (dp->polled, &dp->n_polled, port);
  update_active (dp, p, port);
  return 0;
}

void
dp_port_queues_update (struct dvs_datapath *dp, struct dp_port *p)
{
  uint32_t was = p->vrings;
  uint32_t m = (p->io->queues != NULL ? p->io->queues (p->vid) : 0) | 3u;
  uint8_t tx[DVS_MAX_QUEUES], n_tx = 0;

  p->n_rxq = 0;
  for (uint8_t q = 0; q < DVS_MAX_QUEUES; q++)
    {
      if (m & (1u << (2 * q)))
        tx[n_tx++] = q;
      if (m & (2u << (2 * q)))
        {
          p->rxq[p->n_rxq++] = q;
          /* Busy-polling: the guest need not kick us on a new queue. */
          if (!(was & (2u << (2 * q))))
            p->io->notify (p->vid, q, false);
        }
    }
  for (uint8_t i = 0; i < DVS_MAX_QUEUES; i++)
    p->txq_for[i] = tx[i % n_tx];
  __atomic_store_n (&p->vrings, m, __ATOMIC_RELAXED);
  if (m & ~was)
    dp_journal_port_up (dp, p);
}

static void
set_mirror (struct dvs_datapath *dp, struct dp_port *p, int target,
            enum dvs_mirror_dir dir)
{
  bool had = p->mirror_dir != DVS_MIRROR_NONE;
  bool has = target >= 0 && dir != DVS_MIRROR_NONE;

  p->mirror_to = (int16_t) (has ? target : -1);
  p->mirror_dir = (uint8_t) (has ? dir : DVS_MIRROR_NONE);
  dp->n_mirrors = (uint16_t) (dp->n_mirrors + has - had);
}

static size_t
filter_config_size (enum dvs_filter_id id)
{
  switch (id)
    {
    case DVS_FILTER_BLOCK:
      return sizeof (struct dvs_block_config);
    case DVS_FILTER_SECURITY:
      return sizeof (struct dvs_security_config);
    case DVS_FILTER_SHAPER:
      return sizeof (struct dvs_shaper_config);
    case DVS_FILTER_COUNT:
      break;
    }
  return 0;
}

static long
set_filter (struct dvs_datapath *dp, struct dp_port *p, int id, const void *config,
            bool keep_state)
{
  const struct dvs_filter_class *fc;
  uint32_t bit = 1u << id;

  if (id < 0 || id >= DVS_FILTER_COUNT)
    return -EINVAL;
  fc = dvs_filter_classes[id];
  if (config == NULL)
    {
      p->filters.active &= ~bit;
      return 0;
    }
  memcpy ((void *) dp_filter_config (&p->filters, id), config, filter_config_size (id));
  if (!(p->filters.active & bit) && !keep_state)
    {
      memset (p->rt->filter_state[id], 0, sizeof p->rt->filter_state[id]);
      if (fc->state_init)
        fc->state_init (config, p->rt->filter_state[id], rte_rdtsc (), dp->tsc_hz);
    }
  p->filters.active |= bit;
  return 0;
}

/* The class of active filter @id of @p, or NULL with *err set. */
static const struct dvs_filter_class *
active_filter (const struct dp_port *p, int id, long *err)
{
  if (id < 0 || id >= DVS_FILTER_COUNT)
    *err = -EINVAL;
  else if (!(p->filters.active & (1u << id)))
    *err = -ENOENT;
  else
    return dvs_filter_classes[id];
  return NULL;
}

static long
save_filter (struct dvs_datapath *dp, struct dp_port *p, int id, uint8_t *buf,
             size_t cap)
{
  long err = 0;
  const struct dvs_filter_class *fc = active_filter (p, id, &err);

  if (fc == NULL)
    return err;
  if (fc->state_save == NULL)
    return 0;
  return fc->state_save (dp_filter_config (&p->filters, id), p->rt->filter_state[id],
                         buf, cap, rte_rdtsc (), dp->tsc_hz);
}

static long
load_filter (struct dvs_datapath *dp, struct dp_port *p, int id,
             uint16_t version, const uint8_t *data, size_t len)
{
  long err = 0;
  const struct dvs_filter_class *fc = active_filter (p, id, &err);

  if (fc == NULL)
    return err;
  if (fc->state_load == NULL)
    return len == 0 ? 0 : -EINVAL;
  return fc->state_load (dp_filter_config (&p->filters, id), p->rt->filter_state[id],
                         version, data, len, rte_rdtsc (), dp->tsc_hz);
}

/* Runs on the datapath thread (or the caller's when it is not running). */
static long
dp_cmd_execute (struct dvs_datapath *dp, struct dp_cmd *c)
{
  struct dp_port *p = c->port < DVS_MAX_PORTS ? &dp->ports[c->port] : NULL;

  switch (c->type)
    {
    case DP_CMD_PORT_ADD:
      if (p == NULL || p->in_use)
        return -EEXIST;
      /* Caller-provided runtime memory is used as it is (a restarted
       * process adopting its counters); our own starts from zero. */
      memset (&p->rt_local, 0, sizeof p->rt_local);
      p->rt = c->config ? (struct dvs_port_runtime *) c->config : &p->rt_local;
      memset (&p->filters, 0, sizeof p->filters);
      p->mirror_to = -1;
      p->mirror_dir = DVS_MIRROR_NONE;
      if (c->version >= DVS_MAX_DOMAINS || dp->fwd[c->version] == NULL)
        return -ENXIO;
      p->domain = c->version;
      p->vlan = *c->vlan;
      p->vid = -1;
      p->io = dp->io;
      __atomic_store_n (&p->hold, false, __ATOMIC_RELAXED);
      p->hold_head = p->hold_len = 0;
      p->fwd_saved = dp->fwd_class->port_changes
                       ? dp->fwd_class->port_changes (dp->fwd[p->domain], c->port) : 0;
      p->in_use = true;
      dp->configured[dp->n_configured++] = c->port;
      update_active (dp, p, c->port);
      return 0;
    case DP_CMD_PORT_REMOVE:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      do_link_down (dp, p, c->port);
      dp_hold_discard (dp, p);
      __atomic_store_n (&p->hold, false, __ATOMIC_RELAXED);
      set_mirror (dp, p, -1, DVS_MIRROR_NONE);
      for (int i = 0; i < DVS_MAX_PORTS; i++)
        if (dp->ports[i].in_use && dp->ports[i].mirror_to == c->port)
          set_mirror (dp, &dp->ports[i], -1, DVS_MIRROR_NONE);
      p->in_use = false;
      port_list_remove (dp->configured, &dp->n_configured, c->port);
      if (dp->fwd_class->port_removed)
        dp->fwd_class->port_removed (dp->fwd[p->domain], c->port);
      return 0;
    case DP_CMD_PORT_SET_VLAN:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      p->vlan = *c->vlan;
      if (dp->fwd_class->port_removed)
        dp->fwd_class->port_removed (dp->fwd[p->domain], c->port);
      return 0;
    case DP_CMD_LINK_UP:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      if (p->vid >= 0)
        do_link_down (dp, p, c->port);
      p->io = c->config ? (const struct dvs_port_io *) c->config : dp->io;
      __atomic_store_n (&p->vid, c->arg, __ATOMIC_RELAXED);
      atomic_store (&p->kick_dirty, true);
      atomic_store (&p->queues_dirty, false);
      /* Its queues; busy-polling, so the guest need not kick us on them;
       * and what a crashed process's half-done burst left, settled from
       * the rings. */
      dp_port_queues_update (dp, p);
      /* What was held for the port goes first, in order. */
      dp_hold_release (dp, p);
      dp->polled[dp->n_polled++] = c->port;
      update_active (dp, p, c->port);
      return 0;
    case DP_CMD_LINK_DOWN:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      return do_link_down (dp, p, c->port);
    case DP_CMD_SET_JOURNAL:
      dp->jarea = *(const struct dvs_journal_area *) c->config;
      return 0;
    case DP_CMD_MAC_DUMP:
      {
        size_t n = 0;
        for (int d = 0; d < DVS_MAX_DOMAINS && dp->fwd_class->dump; d++)
          if (dp->fwd[d] != NULL)
            n += dp->fwd_class->dump (dp->fwd[d], dp->now, c->entries + n, c->cap - n);
        return (long) n;
      }
    case DP_CMD_MAC_FLUSH:
      if (c->arg >= 0)
        return dp->fwd_class->flush && c->arg < DVS_MAX_PORTS
                 ? (long) dp->fwd_class->flush (dp->fwd[dp->ports[c->arg].domain], c->arg)
                 : 0;
      {
        size_t n = 0;
        for (int d = 0; d < DVS_MAX_DOMAINS && dp->fwd_class->flush; d++)
          if (dp->fwd[d] != NULL)
            n += dp->fwd_class->flush (dp->fwd[d], -1);
        return (long) n;
      }
    case DP_CMD_MAC_COUNT:
      {
        size_t n = 0;
        for (int d = 0; d < DVS_MAX_DOMAINS && dp->fwd_class->count; d++)
          if (dp->fwd[d] != NULL)
            n += dp->fwd_class->count (dp->fwd[d], dp->now);
        return (long) n;
      }
    case DP_CMD_DOMAIN_ADD:
      if (c->version >= DVS_MAX_DOMAINS || dp->fwd[c->version] != NULL)
        return -EEXIST;
      dp->fwd[c->version] = (void *) c->config;
      return 0;
    case DP_CMD_DOMAIN_REMOVE:
      if (c->version == 0 || c->version >= DVS_MAX_DOMAINS || dp->fwd[c->version] == NULL)
        return -ENOENT;
      for (int i = 0; i < DVS_MAX_PORTS; i++)
        if (dp->ports[i].in_use && dp->ports[i].domain == c->version)
          return -EBUSY;
      dp->fwd[c->version] = NULL;
      return 0;
    case DP_CMD_SET_FILTER:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      return set_filter (dp, p, c->filter, c->config, c->arg != 0);
    case DP_CMD_SET_MIRROR:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      if (c->arg >= 0 && (c->arg >= DVS_MAX_PORTS || c->arg == c->port
                          || !dp->ports[c->arg].in_use))
        return -EINVAL;
      set_mirror (dp, p, c->arg, (enum dvs_mirror_dir) c->version);
      return 0;
    case DP_CMD_SAVE_FILTER:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      return save_filter (dp, p, c->filter, c->buf, c->cap);
    case DP_CMD_LOAD_FILTER:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      return load_filter (dp, p, c->filter, c->version, c->data, c->len);
    case DP_CMD_FWD_SAVE:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      return dp->fwd_class->port_state_save
               ? dp->fwd_class->port_state_save (dp->fwd[p->domain], c->port, dp->now,
                                                 c->buf, c->cap)
               : 0;
    case DP_CMD_FWD_LOAD:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      return dp->fwd_class->port_state_load
               ? dp->fwd_class->port_state_load (dp->fwd[p->domain], c->port, dp->now, c->version,
                                                 c->data, c->len)
               : (c->len == 0 ? 0 : -EINVAL);
    case DP_CMD_LOAD_STATS:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      dp_store_relaxed (&p->rt->stats, c->config, sizeof p->rt->stats);
      return 0;
    case DP_CMD_SET_HOLD:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      __atomic_store_n (&p->hold, c->arg != 0, __ATOMIC_RELAXED);
      if (!p->hold)
        dp_hold_discard (dp, p);    /* empty unless the link is down */
      update_active (dp, p, c->port);
      return 0;
    case DP_CMD_ANNOUNCE:
      if (p == NULL || !p->in_use)
        return -ENOENT;
      return dp_announce (dp, c->port, c->data);
    }
  return -EINVAL;
}

static void
dp_wake (struct dvs_datapath *dp)
{
  uint64_t one = 1;
  /* EAGAIN means the counter is already non-zero: the thread will wake. */
  if (write (dp->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
    fprintf (stderr, "dvs datapath %s: cannot wake thread: %s\n",
             dp->config.name, strerror (errno));
}

static long
dp_cmd_run (struct dvs_datapath *dp, struct dp_cmd *c)
{
  if (!dp->running)
    return dp_cmd_execute (dp, c);
  sem_init (&c->done, 0, 0);
  while (rte_ring_mp_enqueue (dp->cmds, c) != 0)
    sched_yield ();           /* the ring holds 64 commands: never full for long */
  dp_wake (dp);
  while (sem_wait (&c->done) != 0 && errno == EINTR)
    ;
  sem_destroy (&c->done);
  return c->result;
}

static void
dp_run_commands (struct dvs_datapath *dp)
{
  void *objs[8];
  unsigned n;

  while ((n = rte_ring_sc_dequeue_burst (dp->cmds, objs, 8, NULL)) > 0)
    for (unsigned i = 0; i < n; i++)
      {
        struct dp_cmd *c = objs[i];
        c->result = dp_cmd_execute (dp, c);
        sem_post (&c->done);     /* c may be gone after this */
      }
}

static void
dp_tick (struct dvs_datapath *dp, uint64_t tsc, uint64_t tsc0)
{
  dp->now = (uint32_t) ((tsc - tsc0) / dp->tsc_hz);
  for (int d = 0; d < DVS_MAX_DOMAINS && dp->fwd_class->run; d++)
    if (dp->fwd[d] != NULL)
      dp->fwd_class->run (dp->fwd[d], dp->now);
}

static void *
dp_thread (void *arg)
{
  struct dvs_datapath *dp = arg;
  const uint64_t idle_cycles = dp->tsc_hz / 1000000 * dp->config.idle_us;
  const uint64_t tsc0 = rte_rdtsc () - (uint64_t) dp->now * dp->tsc_hz;
  uint64_t idle_since = 0, next_tick = rte_rdtsc () + dp->tsc_hz;

  /* An lcore id gives this thread a mempool cache. */
  if (rte_thread_register () != 0)
    fprintf (stderr, "dvs datapath %s: no lcore id, running without mempool cache\n",
             dp->config.name);
  if (dp->config.cpu >= 0)
    {
      cpu_set_t set;
      CPU_ZERO (&set);
      CPU_SET (dp->config.cpu, &set);
      pthread_setaffinity_np (pthread_self (), sizeof set, &set);
    }

  while (!atomic_load_explicit (&dp->stop, memory_order_relaxed))
    {
      uint64_t start, end;
      uint32_t got = 0;

      dp_run_commands (dp);
      if (unlikely (atomic_load_explicit (&dp->rx_paused, memory_order_relaxed)))
        {
          usleep (1000);   /* bounded by the caller (a restart: < 1 s) */
          continue;
        }
      start = rte_rdtsc ();
      for (uint16_t i = 0; i < dp->n_polled; i++)
        {
          uint16_t port = dp->polled[i];
          struct dp_port *p = &dp->ports[port];

          if (unlikely (atomic_load_explicit (&p->queues_dirty, memory_order_relaxed))
              && atomic_exchange (&p->queues_dirty, false))
            dp_port_queues_update (dp, p);
          for (uint8_t qi = 0; qi < p->n_rxq; qi++)
            {
              struct rte_mbuf *pkts[DVS_BURST];
              uint16_t q = p->rxq[qi];
              uint16_t n = p->io->rx (p->vid, q, dp->pool, pkts, DVS_BURST);
              if (n)
                {
                  dp->in_queue = q;
                  dp_pipeline_burst (dp, port, pkts, n, false);
                  dp->in_queue = 0;
                  got += n;
                  DP_CRASH_POINT (dp, DP_CRASH_BEFORE_PUBLISH);
                }
              /* The frames are delivered and counted: the guest may have
               * its descriptors back. */
              if (p->io->rx_done != NULL)
                p->io->rx_done (p->vid, q);
              if (n)
                dp_journal_close (dp);
            }
        }
      end = rte_rdtsc ();
      if (unlikely (dp->n_blob_dirty))
        dp_journal_flush_fwd (dp, got == 0);
      DP_ADD (dp->stats.polls, 1);
      if (got)
        {
          DP_ADD (dp->stats.packets, got);
          DP_ADD (dp->stats.busy_cycles, end - start);
          idle_since = 0;
        }
      else if (!dp->config.busy_poll)
        {
          if (idle_since == 0)
            idle_since = end;
          else if (end - idle_since >= idle_cycles)
            {
              uint64_t left = next_tick > end ? next_tick - end : 0;
              dp_sleep (dp, (int) (left * 1000 / dp->tsc_hz) + 1);
              end = rte_rdtsc ();
              /* Still idle: a wake-up that finds nothing (a bounded sleep's
               * timeout, a command) sleeps again at once, without another
               * idle spell of polling. */
              idle_since = end > idle_cycles ? end - idle_cycles : 1;
            }
        }
      if (end >= next_tick)
        {
          dp_tick (dp, end, tsc0);
          next_tick = end + dp->tsc_hz;
        }
    }
  dp_run_commands (dp);
  rte_thread_unregister ();
  return NULL;
}

struct dvs_datapath *
dvs_dp_create (const struct dvs_dp_config *config)
{
  struct dvs_datapath *dp;
  char name[RTE_MEMPOOL_NAMESIZE];
  int err;

  dp = rte_zmalloc ("dvs_datapath", sizeof *dp, RTE_CACHE_LINE_SIZE);
  if (dp == NULL)
    {
      errno = ENOMEM;
      return NULL;
    }
  dp->config = *config;
  if (dp->config.idle_us == 0)
    dp->config.idle_us = DP_DEFAULT_IDLE_US;
  if (dp->config.poll_ms == 0)
    dp->config.poll_ms = DP_DEFAULT_POLL_MS;
  dp->io = config->io ? config->io : &dvs_port_io_vhost;
  dp->fwd_class = config->fwd_class ? config->fwd_class : &dvs_fwd_l2_learning;
  dp->tsc_hz = rte_get_tsc_hz ();
  /* The forwarding class's clock counts seconds of system uptime, so that
   * ages restored from a checkpoint mean the same in a new process. */
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  dp->now = (uint32_t) ts.tv_sec;
  dp->burst_seq = 1;
  dp_crash_from_env (dp);
  dp->wake_fd = dp->epoll_fd = -1;
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    {
      dp->ports[i].vid = -1;
      dp->ports[i].io = dp->io;
      for (int q = 0; q < DVS_MAX_QUEUES; q++)
        dp->ports[i].kick_fd[q] = dp->ports[i].kick_src[q] = -1;
    }

  snprintf (name, sizeof name, "dvs_mb_%s", config->name);
  dp->pool = rte_pktmbuf_pool_create (name, config->mbufs ? config->mbufs : 16383,
                                      256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                      SOCKET_ID_ANY);
  snprintf (name, sizeof name, "dvs_cmd_%s", config->name);
  dp->cmds = rte_ring_create (name, 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
  dp->fwd[0] = dp->fwd_class->create (&config->fwd_params);
  dp->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  dp->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (dp->pool == NULL || dp->cmds == NULL || dp->fwd[0] == NULL
      || dp->wake_fd < 0 || dp->epoll_fd < 0)
    goto fail;
  struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };
  if (epoll_ctl (dp->epoll_fd, EPOLL_CTL_ADD, dp->wake_fd, &ev) < 0)
    goto fail;
  return dp;

fail:
  err = rte_errno ? rte_errno : errno ? errno : ENOMEM;
  dvs_dp_destroy (dp);
  errno = err;
  return NULL;
}

int
dvs_dp_start (struct dvs_datapath *dp)
{
  int err;

  if (dp->running)
    return -EALREADY;
  atomic_store (&dp->stop, false);
  err = pthread_create (&dp->thread, NULL, dp_thread, dp);
  if (err != 0)
    return -err;
  pthread_setname_np (dp->thread, "dvs-datapath");
  dp->running = true;
  return 0;
}

void
dvs_dp_stop (struct dvs_datapath *dp)
{
  if (!dp->running)
    return;
  atomic_store (&dp->stop, true);
  dp_wake (dp);
  pthread_join (dp->thread, NULL);
  dp->running = false;
}

void
dvs_dp_destroy (struct dvs_datapath *dp)
{
  if (dp == NULL)
    return;
  dvs_dp_stop (dp);
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    {
      dp_sleep_forget_port (dp, &dp->ports[i]);
      dp_hold_discard (dp, &dp->ports[i]);
    }
  for (int d = 0; d < DVS_MAX_DOMAINS; d++)
    if (dp->fwd[d] != NULL)
      dp->fwd_class->destroy (dp->fwd[d]);
  rte_ring_free (dp->cmds);
  rte_mempool_free (dp->pool);
  if (dp->wake_fd >= 0)
    close (dp->wake_fd);
  if (dp->epoll_fd >= 0)
    close (dp->epoll_fd);
  rte_free (dp);
}

#define DP_CMD(...) (&(struct dp_cmd) { __VA_ARGS__ })

int
dvs_dp_port_add (struct dvs_datapath *dp, uint16_t port, uint16_t domain,
                 const struct dvs_vlan_config *vlan, struct dvs_port_runtime *rt)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_PORT_ADD, .port = port, .vlan = vlan,
                                       .config = rt, .version = domain));
}

int
dvs_dp_domain_add (struct dvs_datapath *dp, uint16_t domain)
{
  void *fwd;
  int err;

  if (domain == 0 || domain >= DVS_MAX_DOMAINS)
    return -EINVAL;
  fwd = dp->fwd_class->create (&dp->config.fwd_params);
  if (fwd == NULL)
    return -ENOMEM;
  err = (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_DOMAIN_ADD, .version = domain,
                                      .config = fwd));
  if (err < 0)
    dp->fwd_class->destroy (fwd);
  return err;
}

int
dvs_dp_domain_remove (struct dvs_datapath *dp, uint16_t domain)
{
  void *fwd = domain < DVS_MAX_DOMAINS ? dp->fwd[domain] : NULL;
  int err = (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_DOMAIN_REMOVE, .version = domain));

  /* The datapath no longer sees it: free it here, off the datapath. */
  if (err == 0)
    dp->fwd_class->destroy (fwd);
  return err;
}

int
dvs_dp_port_remove (struct dvs_datapath *dp, uint16_t port)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_PORT_REMOVE, .port = port));
}

int
dvs_dp_port_set_vlan (struct dvs_datapath *dp, uint16_t port,
                      const struct dvs_vlan_config *vlan)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_PORT_SET_VLAN, .port = port, .vlan = vlan));
}

int
dvs_dp_link_up (struct dvs_datapath *dp, uint16_t port, int vid)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_LINK_UP, .port = port, .arg = vid));
}

int
dvs_dp_link_up_io (struct dvs_datapath *dp, uint16_t port,
                   const struct dvs_port_io *io, int vid)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_LINK_UP, .port = port, .arg = vid,
                                       .config = io));
}

void
dvs_dp_set_rx_paused (struct dvs_datapath *dp, bool paused)
{
  atomic_store (&dp->rx_paused, paused);
}

int
dvs_dp_set_journal (struct dvs_datapath *dp, const struct dvs_journal_area *area)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_SET_JOURNAL, .config = area));
}

/* The test hook of dp-internal.h. */
static void
dp_crash_from_env (struct dvs_datapath *dp)
{
  static const char *const names[] = {
    [DP_CRASH_OPENED] = "opened",
    [DP_CRASH_HANDED_OVER] = "handed-over",
    [DP_CRASH_BEFORE_COMMIT] = "before-commit",
    [DP_CRASH_COMMITTING] = "committing",
    [DP_CRASH_BEFORE_PUBLISH] = "before-publish",
  };
  const char *v = getenv ("DVS_TEST_CRASH_AT");
  const char *colon = v ? strchr (v, ':') : NULL;

  if (colon == NULL)
    return;
  for (int i = 1; i < (int) (sizeof names / sizeof names[0]); i++)
    if (strlen (names[i]) == (size_t) (colon - v) && strncmp (v, names[i], (size_t) (colon - v)) == 0)
      {
        dp->crash_at = i;
        dp->crash_countdown = strtol (colon + 1, NULL, 10);
        if (dp->crash_countdown < 1)
          dp->crash_countdown = 1;
        fprintf (stderr, "dvs datapath %s: test hook: SIGKILL at %s #%ld\n",
                 dp->config.name, names[i], dp->crash_countdown);
      }
}

void
dp_crash (struct dvs_datapath *dp)
{
  (void) dp;
  raise (SIGKILL);
}

int
dvs_dp_port_set_hold (struct dvs_datapath *dp, uint16_t port, bool hold)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_SET_HOLD, .port = port, .arg = hold));
}

bool
dvs_dp_port_hold (const struct dvs_datapath *dp, uint16_t port)
{
  return port < DVS_MAX_PORTS && __atomic_load_n (&dp->ports[port].hold, __ATOMIC_RELAXED);
}

int
dvs_dp_port_announce (struct dvs_datapath *dp, uint16_t port, const uint8_t mac[6])
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_ANNOUNCE, .port = port, .data = mac));
}

int
dvs_dp_link_down (struct dvs_datapath *dp, uint16_t port)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_LINK_DOWN, .port = port));
}

int
dvs_dp_port_set_filter (struct dvs_datapath *dp, uint16_t port,
                        enum dvs_filter_id id, const void *config,
                        bool keep_state)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_SET_FILTER, .port = port,
                                       .filter = id, .config = config,
                                       .arg = keep_state));
}

int
dvs_dp_port_set_mirror (struct dvs_datapath *dp, uint16_t port, int target,
                        enum dvs_mirror_dir dir)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_SET_MIRROR, .port = port,
                                       .arg = target, .version = (uint16_t) dir));
}

long
dvs_dp_port_save_filter_state (struct dvs_datapath *dp, uint16_t port,
                               enum dvs_filter_id id, uint8_t *buf, size_t cap)
{
  return dp_cmd_run (dp, DP_CMD (.type = DP_CMD_SAVE_FILTER, .port = port,
                                 .filter = id, .buf = buf, .cap = cap));
}

int
dvs_dp_port_load_filter_state (struct dvs_datapath *dp, uint16_t port,
                               enum dvs_filter_id id, uint16_t version,
                               const uint8_t *buf, size_t len)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_LOAD_FILTER, .port = port,
                                       .filter = id, .version = version,
                                       .data = buf, .len = len));
}

long
dvs_dp_port_save_fwd_state (struct dvs_datapath *dp, uint16_t port,
                            uint8_t *buf, size_t cap)
{
  return dp_cmd_run (dp, DP_CMD (.type = DP_CMD_FWD_SAVE, .port = port,
                                 .buf = buf, .cap = cap));
}

int
dvs_dp_port_load_fwd_state (struct dvs_datapath *dp, uint16_t port,
                            uint16_t version, const uint8_t *buf, size_t len)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_FWD_LOAD, .port = port,
                                       .version = version, .data = buf, .len = len));
}

int
dvs_dp_port_load_stats (struct dvs_datapath *dp, uint16_t port,
                        const struct dvs_port_stats *stats)
{
  return (int) dp_cmd_run (dp, DP_CMD (.type = DP_CMD_LOAD_STATS, .port = port,
                                       .config = stats));
}

uint64_t
dvs_dp_port_fwd_changes (const struct dvs_datapath *dp, uint16_t port)
{
  uint16_t d = __atomic_load_n (&dp->ports[port].domain, __ATOMIC_RELAXED);
  void *fwd = d < DVS_MAX_DOMAINS ? __atomic_load_n (&dp->fwd[d], __ATOMIC_ACQUIRE) : NULL;

  return dp->fwd_class->port_changes && fwd ? dp->fwd_class->port_changes (fwd, port) : 0;
}

uint16_t
dvs_dp_fwd_state_version (const struct dvs_datapath *dp)
{
  return dp->fwd_class->port_state_version;
}

void
dvs_dp_kick (struct dvs_datapath *dp, uint16_t port)
{
  if (port < DVS_MAX_PORTS)
    {
      atomic_store (&dp->ports[port].queues_dirty, true);
      atomic_store (&dp->ports[port].kick_dirty, true);
    }
  if (dp->running)
    dp_wake (dp);
}

long
dvs_dp_mac_dump (struct dvs_datapath *dp, struct dvs_mac_entry *out, size_t cap)
{
  return dp_cmd_run (dp, DP_CMD (.type = DP_CMD_MAC_DUMP, .entries = out, .cap = cap));
}

long
dvs_dp_mac_flush (struct dvs_datapath *dp, int port)
{
  return dp_cmd_run (dp, DP_CMD (.type = DP_CMD_MAC_FLUSH, .arg = port));
}

long
dvs_dp_mac_count (struct dvs_datapath *dp)
{
  return dp_cmd_run (dp, DP_CMD (.type = DP_CMD_MAC_COUNT));
}

static void
copy_relaxed (uint64_t *dst, const uint64_t *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = __atomic_load_n (&src[i], __ATOMIC_RELAXED);
}

void
dvs_dp_port_stats (const struct dvs_datapath *dp, uint16_t port,
                   struct dvs_port_stats *out)
{
  copy_relaxed ((uint64_t *) out, (const uint64_t *) &dp->ports[port].rt->stats,
                sizeof *out / sizeof (uint64_t));
}

uint32_t
dvs_dp_port_queues (const struct dvs_datapath *dp, uint16_t port)
{
  return port < DVS_MAX_PORTS ? __atomic_load_n (&dp->ports[port].vrings, __ATOMIC_RELAXED) : 0;
}

bool
dvs_dp_link_is_up (const struct dvs_datapath *dp, uint16_t port)
{
  return __atomic_load_n (&dp->ports[port].vid, __ATOMIC_RELAXED) >= 0;
}

void
dvs_dp_stats (const struct dvs_datapath *dp, struct dvs_dp_stats *out)
{
  copy_relaxed ((uint64_t *) out, (const uint64_t *) &dp->stats,
                sizeof *out / sizeof (uint64_t));
}

uint64_t
dvs_dp_tsc_hz (void)
{
  return rte_get_tsc_hz ();
}

const char *
dvs_dp_fwd_class_name (const struct dvs_datapath *dp)
{
  return dp->fwd_class->name;
}

void
dvs_dp_process_burst_queue (struct dvs_datapath *dp, uint16_t in_port,
                            uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
  dp->in_queue = q;
  dp_pipeline_burst (dp, in_port, pkts, n, false);
  dp->in_queue = 0;
  dp_journal_close (dp);
}

void
dvs_dp_process_burst (struct dvs_datapath *dp, uint16_t in_port,
                      struct rte_mbuf **pkts, uint16_t n)
{
  dvs_dp_process_burst_queue (dp, in_port, 0, pkts, n);
}

void
dvs_dp_set_now (struct dvs_datapath *dp, uint32_t now)
{
  dp->now = now;
  for (int d = 0; d < DVS_MAX_DOMAINS && dp->fwd_class->run; d++)
    if (dp->fwd[d] != NULL)
      dp->fwd_class->run (dp->fwd[d], now);
}
