/* The datapath's and the switch's migration support, with real mbufs and a
 * capturing port I/O (as test-forwarding.c): hold queues, RARP
 * announcements, what a down port's MACs do, and gates (driven through the
 * switch's own rte_vhost listener, with the test io in place of rte_vhost). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "datapath/datapath.h"
#include "switch/switch-private.h"
#include "switch/vlan-config.h"
#include "test-eal.h"

#define NPORTS 6
#define VID(port) (100 + (port))

static struct rte_mempool *pool;
static GPtrArray *captured[NPORTS];   /* GBytes per frame delivered to a port */

static uint16_t
cap_tx (int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
  int port = vid - 100;

  if (port < 0 || port >= NPORTS)
    return 0;                 /* a gate test's device: nobody listens */
  for (uint16_t i = 0; i < n; i++)
    g_ptr_array_add (captured[port],
                     g_bytes_new (rte_pktmbuf_mtod (pkts[i], void *),
                                  rte_pktmbuf_data_len (pkts[i])));
  return n;
}

static uint16_t cap_rx (int vid, uint16_t q, struct rte_mempool *p, struct rte_mbuf **pkts, uint16_t n) { return 0; }
static uint32_t cap_pending (int vid, uint16_t q) { return 0; }
static int cap_kickfd (int vid, uint16_t q) { return -1; }
static void cap_notify (int vid, uint16_t q, bool enable) { }

static const struct dvs_port_io capture_io = {
  .rx = cap_rx, .tx = cap_tx, .pending = cap_pending,
  .kickfd = cap_kickfd, .notify = cap_notify,
};

typedef struct {
  struct dvs_datapath *dp;
} Fixture;

static const guint8 BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const guint8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const guint8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const guint8 MAC_V[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };

/* Room for @len more bytes in @m (out of line: GCC's bounds analysis of
 * rte_pktmbuf_append with a constant length is wrong). */
static G_GNUC_NO_INLINE guint8 *
append (struct rte_mbuf *m, guint len)
{
  guint8 *p = (guint8 *) rte_pktmbuf_append (m, (uint16_t) len);

  g_assert_nonnull (p);
  return p;
}

/* A 60-byte untagged frame whose byte 20 carries @seq. */
static struct rte_mbuf *
frame (const guint8 *dst, const guint8 *src, guint8 seq)
{
  struct rte_mbuf *m = rte_pktmbuf_alloc (pool);
  guint8 *p = append (m, 60);

  memset (p, 0x5a, 60);
  memcpy (p, dst, 6);
  memcpy (p + 6, src, 6);
  p[12] = 0x08; p[13] = 0x00;
  p[20] = seq;
  return m;
}

static void
send1 (Fixture *f, uint16_t port, struct rte_mbuf *m)
{
  dvs_dp_process_burst (f->dp, port, &m, 1);
}

static const guint8 *
cap (int port, guint i, gsize *len)
{
  g_assert_cmpuint (i, <, captured[port]->len);
  return g_bytes_get_data (captured[port]->pdata[i], len);
}

static void
clear_captured (void)
{
  for (int i = 0; i < NPORTS; i++)
    g_ptr_array_set_size (captured[i], 0);
}

static struct dvs_port_stats
stats (Fixture *f, uint16_t port)
{
  struct dvs_port_stats s;
  dvs_dp_port_stats (f->dp, port, &s);
  return s;
}

static void
add_access (Fixture *f, uint16_t port, guint16 tag, gboolean up)
{
  struct dvs_vlan_config v;

  dvs_vlan_config_init_access (&v, tag);
  g_assert_cmpint (dvs_dp_port_add (f->dp, port, 0, &v, NULL), ==, 0);
  if (up)
    g_assert_cmpint (dvs_dp_link_up (f->dp, port, VID (port)), ==, 0);
}

/* A trunk of every VLAN, native 0: what an uplink is. */
static void
add_uplink_like (Fixture *f, uint16_t port)
{
  struct dvs_vlan_config v;

  memset (&v, 0, sizeof v);
  v.mode = DVS_VLAN_TRUNK;
  for (guint16 i = 1; i <= DVS_VLAN_MAX; i++)
    dvs_vlan_trunk_allow (&v, i);
  g_assert_cmpint (dvs_dp_port_add (f->dp, port, 0, &v, NULL), ==, 0);
  g_assert_cmpint (dvs_dp_link_up (f->dp, port, VID (port)), ==, 0);
}

/* The entry for @mac, or NULL. */
static gboolean
find_mac (Fixture *f, const guint8 *mac, struct dvs_mac_entry *out)
{
  struct dvs_mac_entry e[16];
  long n = dvs_dp_mac_dump (f->dp, e, G_N_ELEMENTS (e));

  for (long i = 0; i < n; i++)
    if (memcmp (e[i].mac, mac, 6) == 0)
      {
        *out = e[i];
        return TRUE;
      }
  return FALSE;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  struct dvs_dp_config c = {
    .name = "unitmig", .cpu = -1, .io = &capture_io,
    .fwd_class = &dvs_fwd_l2_learning,
    .fwd_params = { .table_size = 1024, .aging_seconds = 300 },
  };
  f->dp = dvs_dp_create (&c);
  g_assert_nonnull (f->dp);
  dvs_dp_set_now (f->dp, 1000);
  clear_captured ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  dvs_dp_destroy (f->dp);
  g_assert_cmpuint (rte_mempool_in_use_count (pool), ==, 0);
}

/* Held frames: bounded, counted, delivered first and in order at link up,
 * tagged as the port wants them. */
static void
test_hold_bounded_ordered (Fixture *f, gconstpointer data)
{
  struct dvs_vlan_config trunk;

  add_access (f, 0, 0, TRUE);
  add_access (f, 1, 0, TRUE);
  send1 (f, 1, frame (BCAST, MAC_B, 0));              /* B learned on 1 */
  g_assert_cmpint (dvs_dp_link_down (f->dp, 1), ==, 0);
  g_assert_cmpint (dvs_dp_port_set_hold (f->dp, 1, true), ==, 0);
  g_assert_true (dvs_dp_port_hold (f->dp, 1));
  clear_captured ();

  for (guint i = 0; i < DVS_HOLD_MAX + 44; i++)
    send1 (f, 0, frame (MAC_B, MAC_A, (guint8) i));
  g_assert_cmpuint (stats (f, 1).held, ==, DVS_HOLD_MAX);
  g_assert_cmpuint (stats (f, 1).hold_dropped, ==, 44);
  g_assert_cmpuint (stats (f, 1).drop_link_down, ==, 0);
  g_assert_cmpuint (captured[1]->len, ==, 0);
  g_assert_cmpuint (captured[0]->len, ==, 0);          /* held, not flooded */

  /* Link up: the queue comes out first, in order, then new frames. */
  g_assert_cmpint (dvs_dp_link_up (f->dp, 1, VID (1)), ==, 0);
  send1 (f, 0, frame (MAC_B, MAC_A, 0xee));
  g_assert_cmpuint (captured[1]->len, ==, DVS_HOLD_MAX + 1);
  for (guint i = 0; i < DVS_HOLD_MAX; i++)
    {
      gsize len;
      const guint8 *d = cap (1, i, &len);
      g_assert_cmpuint (len, ==, 60);
      g_assert_cmpuint (d[20], ==, (guint8) i);
    }
  {
    gsize len;
    g_assert_cmpuint (cap (1, DVS_HOLD_MAX, &len)[20], ==, 0xee);
  }
  g_assert_cmpuint (stats (f, 1).tx_packets[DVS_PKT_UNICAST], ==, DVS_HOLD_MAX + 1);

  /* A trunk port holds frames tagged as they will leave it. */
  dvs_vlan_config_init_access (&trunk, 0);
  trunk.mode = DVS_VLAN_TRUNK;
  trunk.native = 1;
  dvs_vlan_trunk_allow (&trunk, 9);
  g_assert_cmpint (dvs_dp_port_add (f->dp, 3, 0, &trunk, NULL), ==, 0);
  g_assert_cmpint (dvs_dp_link_up (f->dp, 3, VID (3)), ==, 0);
  add_access (f, 4, 9, TRUE);
  {
    /* A learned on 3 in VLAN 9 (tagged frame in) */
    struct rte_mbuf *m = rte_pktmbuf_alloc (pool);
    guint8 *p = append (m, 64);
    memset (p, 0, 64);
    memcpy (p, BCAST, 6);
    memcpy (p + 6, MAC_A, 6);
    p[12] = 0x81; p[13] = 0x00; p[14] = 0; p[15] = 9; p[16] = 0x08; p[17] = 0;
    send1 (f, 3, m);
  }
  g_assert_cmpint (dvs_dp_link_down (f->dp, 3), ==, 0);
  g_assert_cmpint (dvs_dp_port_set_hold (f->dp, 3, true), ==, 0);
  clear_captured ();
  send1 (f, 4, frame (MAC_A, MAC_V, 1));
  g_assert_cmpuint (stats (f, 3).held, ==, 1);
  g_assert_cmpint (dvs_dp_link_up (f->dp, 3, VID (3)), ==, 0);
  g_assert_cmpuint (captured[3]->len, ==, 1);
  {
    gsize len;
    const guint8 *d = cap (3, 0, &len);
    g_assert_cmpuint (len, ==, 64);
    g_assert_cmpuint (d[12], ==, 0x81);
    g_assert_cmpuint (d[15], ==, 9);
  }
}

/* Clearing hold while the link is down frees the queue (counted as
 * dropped); a later link up delivers nothing old.  Floods are never held. */
static void
test_hold_cleared (Fixture *f, gconstpointer data)
{
  add_access (f, 0, 0, TRUE);
  add_access (f, 1, 0, TRUE);
  send1 (f, 1, frame (BCAST, MAC_B, 0));
  g_assert_cmpint (dvs_dp_link_down (f->dp, 1), ==, 0);
  g_assert_cmpint (dvs_dp_port_set_hold (f->dp, 1, true), ==, 0);
  for (guint i = 0; i < 5; i++)
    send1 (f, 0, frame (MAC_B, MAC_A, (guint8) i));
  send1 (f, 0, frame (BCAST, MAC_A, 9));               /* flood: missed */
  g_assert_cmpuint (stats (f, 1).held, ==, 5);
  g_assert_cmpuint (stats (f, 1).drop_link_down, ==, 1);
  g_assert_cmpint (dvs_dp_port_set_hold (f->dp, 1, false), ==, 0);
  g_assert_cmpuint (stats (f, 1).drop_link_down, ==, 6);
  /* Without hold the down port's MACs no longer attract frames: flood. */
  clear_captured ();
  send1 (f, 0, frame (MAC_B, MAC_A, 7));
  g_assert_cmpuint (stats (f, 1).held, ==, 5);
  g_assert_cmpuint (stats (f, 1).drop_link_down, ==, 7);
  g_assert_cmpint (dvs_dp_link_up (f->dp, 1, VID (1)), ==, 0);
  g_assert_cmpuint (captured[1]->len, ==, 0);
  /* Port removal with a queue frees it (the teardown checks the pool). */
  g_assert_cmpint (dvs_dp_link_down (f->dp, 1), ==, 0);
  g_assert_cmpint (dvs_dp_port_set_hold (f->dp, 1, true), ==, 0);
  send1 (f, 0, frame (MAC_B, MAC_A, 8));
  g_assert_cmpuint (stats (f, 1).held, ==, 6);
  g_assert_cmpint (dvs_dp_port_remove (f->dp, 1), ==, 0);
}

/* The announcement: QEMU's RARP bytes, learned on the port, flooded to the
 * members of its VLAN (tagged on a trunk), not counted as received. */
static void
test_announce (Fixture *f, gconstpointer data)
{
  static const guint8 expect[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03,
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0, 0, 0,
    0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0, 0, 0, 0,
  };
  guint8 built[DVS_RARP_FRAME_LEN];
  struct dvs_mac_entry e;
  gsize len;
  const guint8 *d;

  dvs_dp_rarp_frame (MAC_V, built);
  g_assert_cmpmem (built, sizeof built, expect, sizeof expect);

  add_access (f, 0, 5, FALSE);        /* the VM's port: VLAN 5, link down */
  add_access (f, 1, 5, TRUE);         /* another VM of VLAN 5 */
  add_access (f, 2, 6, TRUE);         /* VLAN 6: must not see it */
  add_uplink_like (f, 3);
  g_assert_cmpint (dvs_dp_port_announce (f->dp, 0, MAC_V), ==, 0);
  g_assert_cmpuint (captured[1]->len, ==, 1);
  g_assert_cmpuint (captured[2]->len, ==, 0);
  g_assert_cmpuint (captured[3]->len, ==, 1);
  d = cap (1, 0, &len);
  g_assert_cmpmem (d, len, expect, sizeof expect);
  d = cap (3, 0, &len);
  g_assert_cmpuint (len, ==, 64);
  g_assert_cmpmem (d, 12, expect, 12);
  g_assert_cmpuint (d[12], ==, 0x81);
  g_assert_cmpuint (((d[14] & 0x0f) << 8) | d[15], ==, 5);
  g_assert_cmpmem (d + 16, 44, expect + 12, 44);
  g_assert_true (find_mac (f, MAC_V, &e));
  g_assert_cmpuint (e.port, ==, 0);
  g_assert_cmpuint (e.vlan, ==, 5);
  g_assert_cmpuint (stats (f, 0).rx_packets[DVS_PKT_BROADCAST], ==, 0);
  g_assert_cmpuint (stats (f, 1).tx_packets[DVS_PKT_BROADCAST], ==, 1);
  g_assert_cmpint (dvs_dp_port_announce (f->dp, 9, MAC_V), ==, -ENOENT);
  g_assert_cmpint (dvs_dp_port_announce (f->dp, 0, BCAST), ==, -EINVAL);

  /* The other end: an announcement arriving on an uplink teaches its
   * switch that the MAC is behind the uplink. */
  clear_captured ();
  {
    struct rte_mbuf *m = rte_pktmbuf_alloc (pool);
    guint8 *p = append (m, 64);
    memcpy (p, BCAST, 6);
    memcpy (p + 6, MAC_A, 6);
    p[12] = 0x81; p[13] = 0x00; p[14] = 0; p[15] = 5;
    memcpy (p + 16, expect + 12, 48);
    send1 (f, 3, m);
  }
  g_assert_true (find_mac (f, MAC_A, &e));
  g_assert_cmpuint (e.port, ==, 3);
  g_assert_cmpuint (e.vlan, ==, 5);
  g_assert_cmpuint (captured[1]->len, ==, 1);
}

/* A port whose link goes down keeps its MACs (saved in its state, shown
 * inactive) but they stop attracting frames: those flood, and reach the
 * uplink.  At link up they attract again.  Loaded into a down, held port,
 * they attract frames into its hold queue. */
static void
test_link_down_macs (Fixture *f, gconstpointer data)
{
  struct dvs_mac_entry e;
  guint8 state[256];
  long n;

  add_access (f, 0, 0, TRUE);
  add_access (f, 1, 0, TRUE);
  add_uplink_like (f, 2);
  send1 (f, 1, frame (BCAST, MAC_B, 0));
  clear_captured ();
  send1 (f, 0, frame (MAC_B, MAC_A, 1));
  g_assert_cmpuint (captured[1]->len, ==, 1);
  g_assert_cmpuint (captured[2]->len, ==, 0);          /* unicast, not flooded */

  g_assert_cmpint (dvs_dp_link_down (f->dp, 1), ==, 0);
  g_assert_true (find_mac (f, MAC_B, &e));
  g_assert_cmpuint (e.port, ==, 1);
  g_assert_true (e.inactive);
  n = dvs_dp_port_save_fwd_state (f->dp, 1, state, sizeof state);
  g_assert_cmpint (n, ==, 4 + 12);                     /* B is in the checkpoint */
  g_assert_cmpmem (state + 4, 6, MAC_B, 6);
  clear_captured ();
  send1 (f, 0, frame (MAC_B, MAC_A, 2));
  g_assert_cmpuint (captured[2]->len, ==, 1);          /* flooded to the uplink */
  g_assert_cmpuint (stats (f, 1).drop_link_down, ==, 1);

  /* Back up: unicast to it again. */
  g_assert_cmpint (dvs_dp_link_up (f->dp, 1, VID (1)), ==, 0);
  g_assert_true (find_mac (f, MAC_B, &e));
  g_assert_false (e.inactive);
  clear_captured ();
  send1 (f, 0, frame (MAC_B, MAC_A, 3));
  g_assert_cmpuint (captured[1]->len, ==, 1);
  g_assert_cmpuint (captured[2]->len, ==, 0);

  /* Learned elsewhere while down: it moves and is active there. */
  g_assert_cmpint (dvs_dp_link_down (f->dp, 1), ==, 0);
  send1 (f, 2, frame (BCAST, MAC_B, 4));
  g_assert_true (find_mac (f, MAC_B, &e));
  g_assert_cmpuint (e.port, ==, 2);
  g_assert_false (e.inactive);

  /* The destination side: port 3 down and held, B's state loaded into it:
   * frames for B are held for port 3, not flooded. */
  add_access (f, 3, 0, FALSE);
  g_assert_cmpint (dvs_dp_port_set_hold (f->dp, 3, true), ==, 0);
  g_assert_cmpint (dvs_dp_port_load_fwd_state (f->dp, 3, 1, state, (size_t) n), ==, 0);
  g_assert_true (find_mac (f, MAC_B, &e));
  g_assert_cmpuint (e.port, ==, 3);
  g_assert_false (e.inactive);
  clear_captured ();
  send1 (f, 0, frame (MAC_B, MAC_A, 5));
  g_assert_cmpuint (stats (f, 3).held, ==, 1);
  g_assert_cmpuint (captured[2]->len, ==, 0);
  /* Loaded into a down port without hold: kept, inactive. */
  add_access (f, 4, 0, FALSE);
  g_assert_cmpint (dvs_dp_port_load_fwd_state (f->dp, 4, 1, state, (size_t) n), ==, 0);
  g_assert_true (find_mac (f, MAC_B, &e));
  g_assert_cmpuint (e.port, ==, 4);
  g_assert_true (e.inactive);
}

/* Gates, through the switch's rte_vhost listener with the test io. */
static void
test_gate (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("dvs-gate-XXXXXX", NULL);
  g_autofree gchar *sock = g_build_filename (dir, "p.sock", NULL);
  DvsSwitchOptions opts = { .name = "gate", .cpu = -1, .mac_aging = 300,
                            .mbufs = 2047, .io = &capture_io };
  g_autoptr (DvsSwitch) sw = dvs_switch_new (&opts, &error);
  struct dvs_vlan_config v;
  g_autoptr (DvsPortInfo) info = NULL;

  g_assert_no_error (error);
  dvs_vlan_config_init_access (&v, 0);
  g_assert_true (dvs_switch_port_add (sw, "p", sock, TRUE, &v, &error));
  g_assert_true (dvs_switch_port_set_gate (sw, "p", TRUE, &error));
  g_assert_false (dvs_switch_port_set_gate (sw, "nope", TRUE, NULL));

  /* A device that becomes ready is accepted; the link stays down. */
  g_assert_true (dvs_switch_vhost_listener.ready (sw, sock, 7));
  info = dvs_switch_port_info (sw, "p", &error);
  g_assert_true (info->gated);
  g_assert_false (info->link_up);
  g_clear_pointer (&info, dvs_port_info_free);
  /* Ungating brings it up at once. */
  g_assert_true (dvs_switch_port_set_gate (sw, "p", FALSE, &error));
  info = dvs_switch_port_info (sw, "p", &error);
  g_assert_false (info->gated);
  g_assert_true (info->link_up);
  g_clear_pointer (&info, dvs_port_info_free);

  /* Gated again while up: stays up; the device goes, a new one comes:
   * deferred; it goes before the ungate: the ungate finds nothing. */
  g_assert_true (dvs_switch_port_set_gate (sw, "p", TRUE, &error));
  info = dvs_switch_port_info (sw, "p", &error);
  g_assert_true (info->link_up);
  g_clear_pointer (&info, dvs_port_info_free);
  dvs_switch_vhost_listener.gone (sw, sock, 7);
  g_assert_true (dvs_switch_vhost_listener.ready (sw, sock, 8));
  info = dvs_switch_port_info (sw, "p", &error);
  g_assert_false (info->link_up);
  g_clear_pointer (&info, dvs_port_info_free);
  dvs_switch_vhost_listener.gone (sw, sock, 8);
  g_assert_true (dvs_switch_port_set_gate (sw, "p", FALSE, &error));
  info = dvs_switch_port_info (sw, "p", &error);
  g_assert_false (info->link_up);
  g_clear_pointer (&info, dvs_port_info_free);
  /* Not gated: a ready device links up at once. */
  g_assert_true (dvs_switch_vhost_listener.ready (sw, sock, 9));
  info = dvs_switch_port_info (sw, "p", &error);
  g_assert_true (info->link_up);
  g_clear_pointer (&info, dvs_port_info_free);
  dvs_switch_vhost_listener.gone (sw, sock, 9);

  /* Hold and announce by name. */
  g_assert_true (dvs_switch_port_set_hold (sw, "p", TRUE, &error));
  info = dvs_switch_port_info (sw, "p", &error);
  g_assert_true (info->hold);
  g_clear_pointer (&info, dvs_port_info_free);
  g_assert_true (dvs_switch_port_announce (sw, "p", "52:54:00:12:34:56", &error));
  g_assert_false (dvs_switch_port_announce (sw, "p", "ff:ff:ff:ff:ff:ff", NULL));
  g_assert_false (dvs_switch_port_announce (sw, "p", "52:54:00:12:34", NULL));
  g_assert_cmpuint (dvs_switch_mac_count (sw), ==, 1);

  g_assert_true (dvs_switch_port_remove (sw, "p", &error));
  g_clear_pointer (&sw, dvs_switch_free);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_eal_init ();
  pool = rte_pktmbuf_pool_create ("unit_mig", 1023, 0, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  g_assert_nonnull (pool);
  for (int i = 0; i < NPORTS; i++)
    captured[i] = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

#define T(path, fn) g_test_add ("/migration/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  T ("hold-bounded-ordered", test_hold_bounded_ordered);
  T ("hold-cleared", test_hold_cleared);
  T ("announce", test_announce);
  T ("link-down-macs", test_link_down_macs);
  g_test_add_func ("/migration/gate", test_gate);
  return g_test_run ();
}
