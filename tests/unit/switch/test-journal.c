/* The burst journal (datapath/dp-journal.c) against real crashes: a child
 * process forwards a burst and is SIGKILLed at each of the datapath's crash
 * points (DVS_TEST_CRASH_AT); the ports' runtimes, the journal and a
 * simulated receive ring live in shared memory, as the runtime area and the
 * guests' rings do.  The parent then settles the journal as a restarted
 * dvs-switchd does, links the ports up again, and checks that every frame
 * is counted once: received on the input, delivered on the output exactly
 * as often as the "guest" got it, the rest in drop_crash. */
#include <glib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>

#include "datapath/datapath.h"
#include "switch/vlan-config.h"
#include "test-eal.h"

#define VID(port) (100 + (port))
#define BURST 8

/* What outlives the child: the area and the guests' rings. */
typedef struct {
  struct dvs_journal journal;
  struct dvs_journal_recovery recovery;
  struct dvs_port_runtime rt[2];
  /* per port and queue pair */
  uint16_t ring[2][2];          /* receive ring used index */
  uint32_t got[2][2];           /* frames the port's "guest" received */
  uint16_t rx_pos[2][2];        /* transmit ring read position */
  uint16_t discarded_to[2][2];  /* rx_discard's @upto, 0: not called */
  uint32_t queues[2];           /* io queues(): enabled vrings (0: pair 0) */
  struct dvs_fwd_blob blobs[2][2];
} Shared;

static Shared *sh;
static struct rte_mempool *pool;

static uint16_t
io_tx (int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
  int port = vid - 100;
  (void) pkts;
  sh->ring[port][q] = (uint16_t) (sh->ring[port][q] + n);
  sh->got[port][q] += n;
  return n;
}

static uint16_t io_rx (int vid, uint16_t q, struct rte_mempool *p, struct rte_mbuf **pkts, uint16_t n) { return 0; }
static uint32_t io_pending (int vid, uint16_t q) { return 0; }
static int io_kickfd (int vid, uint16_t q) { return -1; }
static void io_notify (int vid, uint16_t q, bool enable) { }
static uint16_t io_rx_position (int vid, uint16_t q) { return sh->rx_pos[vid - 100][q]; }
static void io_rx_discard (int vid, uint16_t q, uint16_t upto) { sh->discarded_to[vid - 100][q] = upto; }
static uint16_t io_tx_position (int vid, uint16_t q) { return sh->ring[vid - 100][q]; }
static uint32_t io_queues (int vid) { return sh->queues[vid - 100]; }

static int
io_tx_delivered (int vid, uint16_t q, uint16_t before, const uint32_t *len, uint16_t n)
{
  uint16_t d = (uint16_t) (sh->ring[vid - 100][q] - before);
  (void) len;
  return d <= n ? d : 0;
}

static const struct dvs_port_io ring_io = {
  .rx = io_rx, .tx = io_tx, .pending = io_pending, .kickfd = io_kickfd,
  .notify = io_notify, .rx_position = io_rx_position, .rx_discard = io_rx_discard,
  .tx_position = io_tx_position, .tx_delivered = io_tx_delivered,
  .queues = io_queues,
};

static struct dvs_port_runtime *
rt_of (void *ctx, uint16_t slot)
{
  return slot < 2 ? &((Shared *) ctx)->rt[slot] : NULL;
}

/* The "area": two slots.  The datapath ports are 5 (A) and 3 (B): a
 * restarted process need not number them as the slots are. */
static struct dvs_journal_area area;
#define PORT_A 5
#define PORT_B 3

static void
set_area (void)
{
  area = (struct dvs_journal_area) {
    .journal = &sh->journal, .recovery = &sh->recovery,
    .base = (uint8_t *) &sh->rt[0], .stride = sizeof sh->rt[0], .n_slots = 2,
    .rt_of = rt_of, .ctx = sh,
    .blob_base = (uint8_t *) sh->blobs, .blob_stride = sizeof sh->blobs[0],
  };
}

static const guint8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const guint8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const guint8 MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };
static const guint8 BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct rte_mbuf *
frame (const guint8 *dst, const guint8 *src, guint len)
{
  struct rte_mbuf *m = rte_pktmbuf_alloc (pool);
  guint8 buf[256];

  g_assert_true (m != NULL && len <= sizeof buf);
  memset (buf, 0x5a, len);
  memcpy (buf, dst, 6);
  memcpy (buf + 6, src, 6);
  buf[12] = 0x08;
  buf[13] = 0x00;
  g_assert_nonnull (rte_pktmbuf_append (m, (uint16_t) len));
  rte_memcpy (rte_pktmbuf_mtod (m, void *), buf, len);
  return m;
}

static uint64_t
sum3 (const uint64_t *v)
{
  return v[0] + v[1] + v[2];
}

/* A datapath with ports 0 (A) and 1 (B) on the shared runtimes, B's MAC
 * learned (one flooded frame B -> A, before anything crashes). */
static struct dvs_datapath *
make_dp (void)
{
  struct dvs_dp_config cfg = { .name = "journal", .cpu = -1, .mbufs = 1023, .io = &ring_io };
  struct dvs_vlan_config vlan;
  struct dvs_datapath *dp = dvs_dp_create (&cfg);

  g_assert_nonnull (dp);
  dvs_vlan_config_init_access (&vlan, 0);
  set_area ();
  g_assert_cmpint (dvs_dp_set_journal (dp, &area), ==, 0);
  for (uint16_t s = 0; s < 2; s++)
    {
      uint16_t port = s == 0 ? PORT_A : PORT_B;
      g_assert_cmpint (dvs_dp_port_add (dp, port, 0, &vlan, &sh->rt[s]), ==, 0);
      g_assert_cmpint (dvs_dp_link_up (dp, port, VID (s)), ==, 0);
    }
  struct rte_mbuf *m = frame (BCAST, MAC_B, 60);
  dvs_dp_process_burst (dp, PORT_B, &m, 1);
  return dp;
}

/* Forwards BURST frames A -> B in a child; returns its wait status. */
static int
burst_in_child (struct dvs_datapath *dp)
{
  pid_t pid = fork ();
  int status = 0;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rte_mbuf *pkts[BURST];
      /* The first frame comes from a new address, C, behind port A. */
      for (int i = 0; i < BURST; i++)
        pkts[i] = frame (MAC_B, i == 0 ? MAC_C : MAC_A, 60 + (guint) i);
      sh->rx_pos[0][0] = (uint16_t) (sh->rx_pos[0][0] + BURST);
      dvs_dp_process_burst (dp, PORT_A, pkts, BURST);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return status;
}

typedef struct {
  const char *point;          /* NULL: no crash */
  uint32_t state;             /* what the journal shows after the crash */
  guint pending;              /* hand-overs only the ring can settle */
} Case;

static void
test_crash_point (gconstpointer data)
{
  const Case *c = data;
  struct dvs_journal_summary sum;
  struct dvs_datapath *dp;
  uint64_t rx0, tx0, bytes0;
  int status;

  memset (sh, 0, sizeof *sh);
  sh->rx_pos[0][0] = 1000;
  if (c->point != NULL)
    {
      /* #1 is the learning burst, #2 the child's. */
      g_autofree gchar *v = g_strdup_printf ("%s:2", c->point);
      g_setenv ("DVS_TEST_CRASH_AT", v, TRUE);
    }
  dp = make_dp ();
  g_unsetenv ("DVS_TEST_CRASH_AT");
  rx0 = sum3 (sh->rt[0].stats.rx_packets);
  tx0 = sum3 (sh->rt[1].stats.tx_packets);
  bytes0 = sum3 (sh->rt[1].stats.tx_bytes);
  g_assert_cmpuint (sh->journal.state, ==, DVS_JOURNAL_IDLE);

  status = burst_in_child (dp);
  if (c->point == NULL)
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  else
    g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  g_assert_cmpuint (sh->journal.state, ==, c->state);

  /* QEMU restarts A's ring at the guest's used index: where the last
   * burst handed back, before the crashed burst. */
  if (c->point != NULL)
    sh->rx_pos[0][0] = 1000;
  /* The restarted process: settle, then the ports link up again. */
  int r = dvs_journal_recover (&area, &sum);
  g_assert_cmpint (r, ==, c->state == DVS_JOURNAL_IDLE ? 0 : 1);
  g_assert_cmpuint (sum.pending, ==, c->pending);
  g_assert_cmpuint (sh->journal.state, ==, DVS_JOURNAL_IDLE);
  for (uint16_t s = 0; s < 2; s++)
    {
      uint16_t port = s == 0 ? PORT_A : PORT_B;
      g_assert_cmpint (dvs_dp_link_down (dp, port), ==, 0);
      g_assert_cmpint (dvs_dp_link_up (dp, port, VID (s)), ==, 0);
    }
  g_assert_cmpuint (sh->recovery.active, ==, 0);
  g_assert_cmpuint (sh->rt[0].stats.dropped_while_down, ==, 0);

  /* Every frame received once; delivered as often as B's guest got it;
   * the others dropped at the crash. */
  uint32_t got = sh->got[1][0];
  uint64_t delivered = sum3 (sh->rt[1].stats.tx_packets) - tx0;
  g_assert_cmpuint (sum3 (sh->rt[0].stats.rx_packets) - rx0, ==, BURST);
  g_assert_cmpuint (delivered, ==, got);
  g_assert_cmpuint (sh->rt[0].stats.drop_crash, ==, BURST - got);
  if (got == BURST)
    g_assert_cmpuint (sum3 (sh->rt[1].stats.tx_bytes) - bytes0, ==,
                      BURST * 60 + BURST * (BURST - 1) / 2);
  /* What was learned before any frame reached a guest is in A's blob: a
   * fresh datapath loading it forwards to C and A through port A. */
  const struct dvs_fwd_blob *blob = dvs_fwd_blob_current (sh->blobs[0]);
  if (c->point == NULL || g_strcmp0 (c->point, "opened") != 0)
    {
      static int round;
      g_autofree gchar *name = g_strdup_printf ("journal-load%d", round++);
      struct dvs_dp_config cfg = { .name = name, .cpu = -1, .mbufs = 1023, .io = &ring_io };
      struct dvs_datapath *dp2 = dvs_dp_create (&cfg);
      struct dvs_vlan_config vlan;
      struct dvs_mac_entry e[8];

      g_assert_nonnull (dp2);
      g_assert_nonnull (blob);
      dvs_vlan_config_init_access (&vlan, 0);
      g_assert_cmpint (dvs_dp_port_add (dp2, 7, 0, &vlan, NULL), ==, 0);
      g_assert_cmpint (dvs_dp_port_load_fwd_state (dp2, 7, blob->version, blob->data, blob->len), ==, 0);
      long n = dvs_dp_mac_dump (dp2, e, G_N_ELEMENTS (e));
      g_assert_cmpint (n, ==, 2);
      for (long i = 0; i < n; i++)
        {
          g_assert_cmpuint (e[i].port, ==, 7);
          g_assert_true (memcmp (e[i].mac, MAC_A, 6) == 0 || memcmp (e[i].mac, MAC_C, 6) == 0);
        }
      dvs_dp_destroy (dp2);
    }
  else
    g_assert_null (blob);   /* killed before the class saw the burst */
  /* B's address, learned by the first burst, is in B's blob. */
  g_assert_nonnull (dvs_fwd_blob_current (sh->blobs[1]));

  /* The input ring is handed back where the burst had read it, if the
   * crash left it unpublished. */
  if (c->state != DVS_JOURNAL_IDLE)
    g_assert_cmpuint (sh->discarded_to[0][0], ==, 1000 + BURST);
  else
    g_assert_cmpuint (sh->discarded_to[0][0], ==, 0);
  dvs_dp_destroy (dp);
}

/* While no switch ran, QEMU dropped what A's ring held (the crashed burst
 * and 3 frames after it): the next switch counts those 3 in
 * dropped_while_down, hands nothing back, and the burst is settled as
 * usual. */
static void
test_drained (void)
{
  struct dvs_journal_summary sum;
  struct dvs_datapath *dp;

  memset (sh, 0, sizeof *sh);
  sh->rx_pos[0][0] = 1000;
  g_setenv ("DVS_TEST_CRASH_AT", "before-commit:2", TRUE);
  dp = make_dp ();
  g_unsetenv ("DVS_TEST_CRASH_AT");
  int status = burst_in_child (dp);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  sh->rx_pos[0][0] = 1000 + BURST + 3;
  g_assert_cmpint (dvs_journal_recover (&area, &sum), ==, 1);
  for (uint16_t s = 0; s < 2; s++)
    {
      uint16_t port = s == 0 ? PORT_A : PORT_B;
      g_assert_cmpint (dvs_dp_link_down (dp, port), ==, 0);
      g_assert_cmpint (dvs_dp_link_up (dp, port, VID (s)), ==, 0);
    }
  g_assert_cmpuint (sh->rt[0].stats.dropped_while_down, ==, 3);
  g_assert_cmpuint (sh->rt[1].stats.dropped_while_down, ==, 0);
  g_assert_cmpuint (sh->discarded_to[0][0], ==, 0);
  g_assert_cmpuint (sum3 (sh->rt[1].stats.tx_packets), ==, BURST);
  g_assert_cmpuint (sh->rt[0].stats.drop_crash, ==, 0);
  g_assert_cmpuint (sh->recovery.active, ==, 0);
  /* A burst from A handed back, then a crash between bursts (journal
   * idle) while A's guest had 2 more frames in the ring: the rings are
   * checked all the same. */
  struct rte_mbuf *m = frame (MAC_B, MAC_A, 60);
  dvs_dp_process_burst (dp, PORT_A, &m, 1);
  sh->rx_pos[0][0] += 2;
  g_assert_cmpint (dvs_journal_recover (&area, &sum), ==, 0);
  g_assert_cmpuint (sum.rings, ==, 2);
  g_assert_cmpint (dvs_dp_link_down (dp, PORT_A), ==, 0);
  g_assert_cmpint (dvs_dp_link_up (dp, PORT_A, VID (0)), ==, 0);
  g_assert_cmpuint (sh->rt[0].stats.dropped_while_down, ==, 3 + 2);
  dvs_dp_destroy (dp);
}

static uint64_t
sum_q (const uint64_t *v)
{
  uint64_t t = 0;
  for (int q = 0; q < DVS_MAX_QUEUES; q++)
    t += v[q];
  return t;
}

static void
relink (struct dvs_datapath *dp, uint32_t queues)
{
  for (uint16_t s = 0; s < 2; s++)
    {
      uint16_t port = s == 0 ? PORT_A : PORT_B;
      sh->queues[s] = queues;
      g_assert_cmpint (dvs_dp_link_down (dp, port), ==, 0);
      g_assert_cmpint (dvs_dp_link_up (dp, port, VID (s)), ==, 0);
    }
}

/* Multi-queue: a burst from A's queue 1 goes to B's queue 1 and the process
 * is killed before the hand-over returned.  The ports come back with only
 * pair 0 enabled: queue 1's hand-over and A's queue 1 ring wait; once the
 * guests enable pair 1 again they are settled from the queue 1 rings, and
 * per-queue counters add up to the totals. */
static void
test_multiqueue (void)
{
  struct dvs_journal_summary sum;
  struct dvs_datapath *dp;
  uint64_t tx0;
  pid_t pid;
  int status = 0;

  memset (sh, 0, sizeof *sh);
  sh->queues[0] = sh->queues[1] = 0xf;
  sh->rx_pos[0][1] = 500;
  g_setenv ("DVS_TEST_CRASH_AT", "handed-over:2", TRUE);
  dp = make_dp ();
  g_unsetenv ("DVS_TEST_CRASH_AT");
  tx0 = sum3 (sh->rt[1].stats.tx_packets);
  g_assert_cmpuint (sh->rt[1].stats.rxq_packets[0], ==, 1);   /* the learning frame */
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      struct rte_mbuf *pkts[BURST];
      for (int i = 0; i < BURST; i++)
        pkts[i] = frame (MAC_B, MAC_A, 60);
      sh->rx_pos[0][1] = (uint16_t) (sh->rx_pos[0][1] + BURST);
      dvs_dp_process_burst_queue (dp, PORT_A, 1, pkts, BURST);
      _exit (0);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  g_assert_cmpuint (sh->journal.in_queue, ==, 1);
  g_assert_cmpuint (sh->journal.out[0].queue, ==, 1);
  g_assert_cmpuint (sh->got[1][1], ==, BURST);
  g_assert_cmpuint (sh->got[1][0], ==, 0);

  sh->rx_pos[0][1] = 500;             /* QEMU restarts at the used index */
  g_assert_cmpint (dvs_journal_recover (&area, &sum), ==, 1);
  g_assert_cmpuint (sum.pending, ==, 1);
  g_assert_cmpuint (sh->rt[0].stats.drop_crash, ==, BURST);
  g_assert_cmpuint (sh->rt[0].stats.rxq_packets[1], ==, BURST);

  relink (dp, 0x3);
  g_assert_cmpuint (sh->recovery.active, ==, 1);
  g_assert_cmpuint (sh->discarded_to[0][1], ==, 0);
  g_assert_cmpuint (sh->rt[0].stats.drop_crash, ==, BURST);

  relink (dp, 0xf);
  g_assert_cmpuint (sh->recovery.active, ==, 0);
  g_assert_cmpuint (sh->discarded_to[0][1], ==, 500 + BURST);
  g_assert_cmpuint (sh->rt[0].stats.drop_crash, ==, 0);
  g_assert_cmpuint (sh->rt[0].stats.dropped_while_down, ==, 0);
  g_assert_cmpuint (sum3 (sh->rt[1].stats.tx_packets) - tx0, ==, BURST);
  g_assert_cmpuint (sh->rt[1].stats.txq_packets[1], ==, BURST);
  for (int s = 0; s < 2; s++)
    {
      const struct dvs_port_stats *st = &sh->rt[s].stats;
      g_assert_cmpuint (sum_q (st->rxq_packets), ==, sum3 (st->rx_packets));
      g_assert_cmpuint (sum_q (st->rxq_bytes), ==, sum3 (st->rx_bytes));
      g_assert_cmpuint (sum_q (st->txq_packets), ==, sum3 (st->tx_packets));
      g_assert_cmpuint (sum_q (st->txq_bytes), ==, sum3 (st->tx_bytes));
    }
  /* A single-queue receiver: frames from A's queue 1 land on its queue 0.
   * (A fresh datapath, as in a restarted process: the crashed child's
   * staging is in the EAL memory it shared with us.) */
  dvs_dp_destroy (dp);
  sh->queues[1] = 0x3;
  dp = make_dp ();
  struct rte_mbuf *m = frame (MAC_B, MAC_A, 60);
  dvs_dp_process_burst_queue (dp, PORT_A, 1, &m, 1);
  g_assert_cmpuint (sh->got[1][0], ==, 1);
  g_assert_cmpuint (sh->got[1][1], ==, BURST);
  g_assert_cmpuint (sh->rt[1].stats.txq_packets[0], ==, 1);
  g_assert_cmpuint (sh->rt[0].stats.rxq_packets[1], ==, BURST + 1);
  dvs_dp_destroy (dp);
}

static void
test_damaged (void)
{
  struct dvs_journal_summary sum;

  memset (sh, 0, sizeof *sh);
  set_area ();
  sh->journal.state = 7;
  g_assert_cmpint (dvs_journal_recover (&area, &sum), ==, -1);
  g_assert_cmpuint (sh->journal.state, ==, DVS_JOURNAL_IDLE);
  sh->journal.state = DVS_JOURNAL_OPEN;
  sh->journal.n = 200;
  g_assert_cmpint (dvs_journal_recover (&area, &sum), ==, -1);
  g_assert_cmpuint (sh->journal.state, ==, DVS_JOURNAL_IDLE);
  g_assert_cmpuint (sh->rt[0].stats.rx_packets[0], ==, 0);
}

int
main (int argc, char **argv)
{
  static const Case cases[] = {
    { NULL, DVS_JOURNAL_IDLE, 0 },
    { "opened", DVS_JOURNAL_OPEN, 0 },
    { "handed-over", DVS_JOURNAL_OPEN, 1 },
    { "before-commit", DVS_JOURNAL_OPEN, 0 },
    { "committing", DVS_JOURNAL_COMMIT, 0 },
  };

  g_test_init (&argc, &argv, NULL);
  test_eal_init ();
  sh = mmap (NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  g_assert_true (sh != MAP_FAILED);
  pool = rte_pktmbuf_pool_create ("journal-test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  g_assert_nonnull (pool);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("/journal/crash/%s",
                                                cases[i].point ? cases[i].point : "none");
      g_test_add_data_func (name, &cases[i], test_crash_point);
    }
  g_test_add_func ("/journal/damaged", test_damaged);
  g_test_add_func ("/journal/drained", test_drained);
  g_test_add_func ("/journal/multiqueue", test_multiqueue);
  return g_test_run ();
}
