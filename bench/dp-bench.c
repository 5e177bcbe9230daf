/* dp-bench: the datapath's own cost per frame, without guests, rte_vhost or
 * a traffic generator, so that it can be measured repeatably on a loaded
 * machine (cycles) or under valgrind (instructions).
 *
 * The real datapath thread (busy polling) forwards between two ports whose
 * transmit rings are synthetic split virtqueues in plain memory, read by the
 * switch's own ring reader (datapath/dp-vring.c) as for a vhost-user port:
 * every descriptor holds a virtio-net header and one frame, and the "guest"
 * offers every descriptor again as soon as it is handed back.  Delivery
 * copies each frame into a receive buffer, as rte_vhost_enqueue_burst would
 * into the guest's (its ring handling is not modelled: it is the same for
 * every vhost-user switch).  Traffic as in bench/v2v-compare.sh: both ports
 * send from one source MAC to a destination never seen as a source, so
 * every frame is flooded and the source moves every burst; --unicast gives
 * each port its own source, so frames are unicast to the learned port.
 * --dvport puts the ports' runtimes in a runtime area (a file in /dev/shm)
 * and journals every burst, as DVports are.
 *
 * Usage: dp-bench [--frames N] [--size BYTES] [--unicast] [--dvport] [--cpu N]
 * Prints frames, Mpps and the datapath's processing cycles per frame (its
 * busy cycles over the frames they moved, as dvs-switchctl show reports).
 * For instructions: valgrind --tool=callgrind --toggle-collect=dp_thread. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "datapath/datapath.h"
#include "datapath/dp-vring.h"
#include "store/runtime-area.h"
#include "switch/vlan-config.h"

#define RING 256
#define HDR 12
#define SLOT 2048                   /* bytes of guest memory per descriptor */

struct guest {
  struct vring_desc desc[RING];
  struct {
    struct vring_avail hdr;
    uint16_t ring[RING + 1];
  } avail __attribute__ ((aligned (64)));
  struct {
    struct vring_used hdr;
    struct vring_used_elem ring[RING];
    uint16_t avail_event;
  } used __attribute__ ((aligned (64)));
  struct dvs_vring vr;
  uint8_t *mem;                     /* "guest physical" 0.. RING * SLOT */
  uint8_t rxbuf[RING][SLOT];        /* where delivered frames land */
  uint16_t rx_used;                 /* receive ring position */
};

static struct guest *guests[2];
static volatile uint64_t delivered;

static bool
region (void *ctx, uint64_t gpa, struct dvs_vring_region *out)
{
  struct guest *g = ctx;

  *out = (struct dvs_vring_region) { .gpa = 0, .size = RING * SLOT, .host = g->mem };
  return gpa < RING * SLOT;
}

static struct guest *
guest_new (const uint8_t *src, const uint8_t *dst, unsigned size)
{
  struct guest *g = g_malloc0 (sizeof *g);

  g->mem = g_malloc0 (RING * SLOT);
  for (unsigned i = 0; i < RING; i++)
    {
      uint8_t *f = g->mem + (size_t) i * SLOT + HDR;
      memcpy (f, dst, 6);
      memcpy (f + 6, src, 6);
      f[12] = 0x08;                 /* IPv4 */
      f[13] = 0x00;
      for (unsigned b = 14; b < size; b++)
        f[b] = (uint8_t) (i + b);
      g->desc[i] = (struct vring_desc) { .addr = (uint64_t) i * SLOT, .len = HDR + size };
      g->avail.ring[i] = (uint16_t) i;
    }
  g->avail.hdr.flags = VRING_AVAIL_F_NO_INTERRUPT;
  g->avail.hdr.idx = RING;
  if (dvs_vring_init (&g->vr, g->desc, &g->avail.hdr, &g->used.hdr, RING, 0, 0,
                      HDR, false, region, g) != 0)
    g_error ("dvs_vring_init failed");
  return g;
}

static uint16_t
io_rx (int vid, uint16_t q, struct rte_mempool *pool, struct rte_mbuf **pkts, uint16_t n)
{
  struct guest *g = guests[vid];

  /* The guest offers again everything handed back (in order: head i is
   * always at ring position i mod RING). */
  __atomic_store_n (&g->avail.hdr.idx, (uint16_t) (g->used.hdr.idx + RING), __ATOMIC_RELEASE);
  return dvs_vring_peek (&g->vr, pool, pkts, n);
}

static void
io_rx_done (int vid, uint16_t q)
{
  dvs_vring_publish (&guests[vid]->vr);
}

static uint16_t
io_tx (int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
  struct guest *g = guests[vid];

  for (uint16_t i = 0; i < n; i++)
    {
      uint8_t *dst = g->rxbuf[g->rx_used++ % RING];
      memcpy (dst, rte_pktmbuf_mtod (pkts[i], void *), rte_pktmbuf_data_len (pkts[i]));
    }
  delivered += n;
  return n;
}

static uint32_t io_pending (int vid, uint16_t q) { return dvs_vring_pending (&guests[vid]->vr); }
static int io_kickfd (int vid, uint16_t q) { return -1; }
static void io_notify (int vid, uint16_t q, bool enable) { }
static uint16_t io_rx_position (int vid, uint16_t q) { return guests[vid]->vr.last_avail; }
static void io_rx_discard (int vid, uint16_t q, uint16_t upto) { }
static uint16_t io_tx_position (int vid, uint16_t q) { return guests[vid]->rx_used; }
static int io_tx_delivered (int vid, uint16_t q, uint16_t before, const uint32_t *len, uint16_t n) { return 0; }

static const struct dvs_port_io bench_io = {
  .rx = io_rx, .tx = io_tx, .pending = io_pending, .kickfd = io_kickfd,
  .notify = io_notify, .rx_done = io_rx_done, .rx_position = io_rx_position,
  .rx_discard = io_rx_discard, .tx_position = io_tx_position,
  .tx_delivered = io_tx_delivered,
};

int
main (int argc, char **argv)
{
  gint64 frames = 20000000;
  gint size = 64, cpu = -1;
  gboolean unicast = FALSE, dvport = FALSE;
  GOptionEntry entries[] = {
    { "frames", 0, 0, G_OPTION_ARG_INT64, &frames, "frames to forward", "N" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "frame size (bytes)", "BYTES" },
    { "unicast", 0, 0, G_OPTION_ARG_NONE, &unicast, "a source MAC per port: unicast", NULL },
    { "dvport", 0, 0, G_OPTION_ARG_NONE, &dvport, "runtime area and burst journal", NULL },
    { "cpu", 0, 0, G_OPTION_ARG_INT, &cpu, "pin the datapath thread", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- the datapath's cost per frame");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *prefix = g_strdup_printf ("--file-prefix=dp-bench-%d", (int) getpid ());
  char *eal[] = { "dp-bench", "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
                  "--no-telemetry", "--log-level=*:error", "-l", "0", prefix, NULL };
  static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 1 }, mac_b[6] = { 2, 0, 0, 0, 0, 2 };
  static const uint8_t mac_s[6] = { 0, 1, 2, 3, 4, 5 };   /* testpmd flowgen's source */
  g_autoptr (DvsRuntimeArea) area = NULL;
  g_autofree gchar *area_path = NULL;
  struct dvs_port_runtime *rt[2] = { NULL, NULL };
  cpu_set_t saved;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "dp-bench: %s\n", error->message);
      return 2;
    }
  if (size < 60 || size > SLOT - HDR)
    {
      fprintf (stderr, "dp-bench: --size must be 60..%d\n", SLOT - HDR);
      return 2;
    }
  sched_getaffinity (0, sizeof saved, &saved);
  if (rte_eal_init (G_N_ELEMENTS (eal) - 1, eal) < 0)
    g_error ("rte_eal_init failed");
  sched_setaffinity (0, sizeof saved, &saved);

  guests[0] = guest_new (unicast ? mac_a : mac_s, mac_b, (unsigned) size);
  guests[1] = guest_new (unicast ? mac_b : mac_s, mac_a, (unsigned) size);

  struct dvs_dp_config cfg = { .name = "bench", .cpu = cpu, .busy_poll = true,
                               .io = &bench_io };
  struct dvs_datapath *dp = dvs_dp_create (&cfg);
  struct dvs_vlan_config vlan;
  if (dp == NULL)
    g_error ("dvs_dp_create failed");
  dvs_vlan_config_init_access (&vlan, 0);
  if (dvport)
    {
      struct dvs_journal_area ja;
      area_path = g_strdup_printf ("/dev/shm/dp-bench-%d.area", (int) getpid ());
      area = dvs_runtime_area_open (area_path, &error);
      if (area == NULL)
        g_error ("%s", error->message);
      for (int i = 0; i < 2; i++)
        {
          gboolean adopted;
          gint slot = dvs_runtime_area_claim (area, "bench", i ? "b" : "a", &adopted);
          rt[i] = dvs_runtime_area_slot (area, slot);
        }
      dvs_runtime_area_journal (area, &ja);
      if (dvs_dp_set_journal (dp, &ja) != 0)
        g_error ("dvs_dp_set_journal failed");
      dvs_dp_domain_add (dp, 1);
    }
  for (uint16_t p = 0; p < 2; p++)
    if (dvs_dp_port_add (dp, p, dvport ? 1 : 0, &vlan, rt[p]) != 0
        || dvs_dp_link_up (dp, p, p) != 0)
      g_error ("port set-up failed");

  gint64 t0 = g_get_monotonic_time ();
  dvs_dp_start (dp);
  while (delivered < (uint64_t) frames)
    g_usleep (1000);
  dvs_dp_stop (dp);
  gint64 t1 = g_get_monotonic_time ();

  struct dvs_dp_stats st;
  dvs_dp_stats (dp, &st);
  printf ("frames %" G_GUINT64_FORMAT "  %.2f Mpps  %.1f cycles/frame%s%s\n",
          st.packets, st.packets / (double) (t1 - t0),
          st.packets ? (double) st.busy_cycles / st.packets : 0.0,
          unicast ? "  unicast" : "  flood", dvport ? "  dvport" : "");
  dvs_dp_destroy (dp);
  if (area_path != NULL)
    g_unlink (area_path);
  rte_eal_cleanup ();
  return 0;
}
