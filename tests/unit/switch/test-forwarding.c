/* The forwarding engine end to end, minus vhost: frames built in real mbufs
 * go through the datapath pipeline (VLAN edge, L2 learning class, staging,
 * counters) into a capturing port I/O. */
#include <glib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "datapath/datapath.h"
#include "switch/vlan-config.h"
#include "test-eal.h"

#define NPORTS 6
#define VID(port) (100 + (port))

static struct rte_mempool *pool;
static GPtrArray *captured[NPORTS];   /* GBytes per frame delivered to a port */
static guint tx_room[NPORTS];         /* frames each port accepts per call */

static uint16_t
cap_tx (int vid, uint16_t q, struct rte_mbuf **pkts, uint16_t n)
{
  int port = vid - 100;
  uint16_t take = MIN (n, tx_room[port]);

  g_assert_true (port >= 0 && port < NPORTS);
  for (uint16_t i = 0; i < take; i++)
    g_ptr_array_add (captured[port],
                     g_bytes_new (rte_pktmbuf_mtod (pkts[i], void *),
                                  rte_pktmbuf_data_len (pkts[i])));
  return take;
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
static const guint8 MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const guint8 MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const guint8 MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const guint8 MAC_C[6] = { 0x02, 0, 0, 0, 0, 0x0c };

/* A frame of @len bytes (untagged length), with an 802.1Q tag if @tag >= 0. */
static struct rte_mbuf *
frame (const guint8 *dst, const guint8 *src, int tag, guint len)
{
  struct rte_mbuf *m = rte_pktmbuf_alloc (pool);
  guint total = len + (tag >= 0 ? 4 : 0);
  guint8 *p = (guint8 *) rte_pktmbuf_append (m, (uint16_t) total);

  memset (p, 0x5a, total);
  memcpy (p, dst, 6);
  memcpy (p + 6, src, 6);
  if (tag >= 0)
    {
      p[12] = 0x81; p[13] = 0x00;
      p[14] = (guint8) (tag >> 8); p[15] = (guint8) tag;
      p += 4;
    }
  p[12] = 0x08; p[13] = 0x00;
  return m;
}

static void
send1 (Fixture *f, uint16_t port, struct rte_mbuf *m)
{
  dvs_dp_process_burst (f->dp, port, &m, 1);
}

static guint
n_captured (int port)
{
  return captured[port]->len;
}

static void
clear_captured (void)
{
  for (int i = 0; i < NPORTS; i++)
    g_ptr_array_set_size (captured[i], 0);
}

/* The tag a delivered frame carries, or -1 if untagged. */
static int
captured_tag (int port, guint i)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (captured[port]->pdata[i], &len);

  g_assert_cmpuint (len, >=, 14);
  if (d[12] == 0x81 && d[13] == 0x00)
    return ((d[14] & 0x0f) << 8) | d[15];
  return -1;
}

static uint16_t test_domain;   /* domain add_port puts ports in */

static void
add_port (Fixture *f, uint16_t port, const struct dvs_vlan_config *vlan)
{
  g_assert_cmpint (dvs_dp_port_add (f->dp, port, test_domain, vlan, NULL), ==, 0);
  g_assert_cmpint (dvs_dp_link_up (f->dp, port, VID (port)), ==, 0);
}

static void
add_access (Fixture *f, uint16_t port, guint16 tag)
{
  struct dvs_vlan_config v;
  dvs_vlan_config_init_access (&v, tag);
  add_port (f, port, &v);
}

static void
add_trunk (Fixture *f, uint16_t port, const gchar *list, guint16 native)
{
  struct dvs_vlan_config v;
  dvs_vlan_config_init_access (&v, 0);
  v.mode = DVS_VLAN_TRUNK;
  v.native = native;
  g_assert_true (dvs_vlan_parse_list (list, &v, NULL));
  add_port (f, port, &v);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  struct dvs_dp_config c = {
    .name = "unit", .cpu = -1, .mbufs = 0, .io = &capture_io,
    .fwd_class = &dvs_fwd_l2_learning,
    .fwd_params = { .table_size = 1024, .aging_seconds = 300 },
  };
  f->dp = dvs_dp_create (&c);
  g_assert_nonnull (f->dp);
  test_domain = 0;
  dvs_dp_set_now (f->dp, 1000);
  for (int i = 0; i < NPORTS; i++)
    tx_room[i] = 64;
  clear_captured ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  dvs_dp_destroy (f->dp);
  /* every mbuf went back: the pipeline frees what it takes */
  g_assert_cmpuint (rte_mempool_in_use_count (pool), ==, 0);
}

static struct dvs_port_stats
stats (Fixture *f, uint16_t port)
{
  struct dvs_port_stats s;
  dvs_dp_port_stats (f->dp, port, &s);
  return s;
}

static void
test_learn_then_unicast (Fixture *f, gconstpointer data)
{
  struct dvs_mac_entry e[8];

  add_access (f, 0, 0);
  add_access (f, 1, 0);
  add_access (f, 2, 0);
  /* A → B: B unknown, flooded to 1 and 2, never back to 0. */
  send1 (f, 0, frame (MAC_B, MAC_A, -1, 60));
  g_assert_cmpuint (n_captured (0), ==, 0);
  g_assert_cmpuint (n_captured (1), ==, 1);
  g_assert_cmpuint (n_captured (2), ==, 1);
  clear_captured ();
  /* B → A: A was learned on 0: unicast there only. */
  send1 (f, 1, frame (MAC_A, MAC_B, -1, 60));
  g_assert_cmpuint (n_captured (0), ==, 1);
  g_assert_cmpuint (n_captured (2), ==, 0);
  clear_captured ();
  /* A → B again: now unicast to 1. */
  send1 (f, 0, frame (MAC_B, MAC_A, -1, 60));
  g_assert_cmpuint (n_captured (1), ==, 1);
  g_assert_cmpuint (n_captured (2), ==, 0);

  g_assert_cmpint (dvs_dp_mac_dump (f->dp, e, 8), ==, 2);
  g_assert_cmpint (dvs_dp_mac_count (f->dp), ==, 2);
  for (int i = 0; i < 2; i++)
    g_assert_cmpuint (e[i].port, ==, memcmp (e[i].mac, MAC_A, 6) == 0 ? 0 : 1);
}

static void
test_no_reflection (Fixture *f, gconstpointer data)
{
  add_access (f, 0, 0);
  add_access (f, 1, 0);
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));     /* A learned on 0 */
  clear_captured ();
  /* A frame from 0 to A (behind 0 itself) goes nowhere. */
  send1 (f, 0, frame (MAC_A, MAC_C, -1, 60));
  for (int i = 0; i < NPORTS; i++)
    g_assert_cmpuint (n_captured (i), ==, 0);
}

static void
test_aging (Fixture *f, gconstpointer data)
{
  add_access (f, 0, 0);
  add_access (f, 1, 0);
  add_access (f, 2, 0);
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));
  clear_captured ();
  dvs_dp_set_now (f->dp, 1000 + 300);
  send1 (f, 1, frame (MAC_A, MAC_B, -1, 60));
  g_assert_cmpuint (n_captured (2), ==, 0);       /* still learned */
  clear_captured ();
  dvs_dp_set_now (f->dp, 1000 + 301);
  send1 (f, 1, frame (MAC_A, MAC_B, -1, 60));
  g_assert_cmpuint (n_captured (0), ==, 1);       /* aged out: flooded */
  g_assert_cmpuint (n_captured (2), ==, 1);
}

static void
test_flood_domains (Fixture *f, gconstpointer data)
{
  add_access (f, 0, 10);
  add_access (f, 1, 10);
  add_access (f, 2, 20);
  add_access (f, 3, 0);
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));
  send1 (f, 0, frame (MCAST, MAC_A, -1, 60));
  send1 (f, 0, frame (MAC_C, MAC_A, -1, 60));     /* unknown unicast */
  g_assert_cmpuint (n_captured (1), ==, 3);
  g_assert_cmpuint (n_captured (2), ==, 0);
  g_assert_cmpuint (n_captured (3), ==, 0);
  /* Same MAC learned per VLAN: a frame to A in VLAN 20 still floods VLAN 20. */
  add_access (f, 4, 20);
  clear_captured ();
  send1 (f, 2, frame (MAC_A, MAC_B, -1, 60));
  g_assert_cmpuint (n_captured (4), ==, 1);
  g_assert_cmpuint (n_captured (0), ==, 0);
}

static void
test_vlan_push_pop_filter (Fixture *f, gconstpointer data)
{
  add_access (f, 0, 10);
  add_access (f, 1, 20);
  add_trunk (f, 2, "10,20", 0);
  add_access (f, 3, 0);

  /* Access 10 → trunk: tag 10 pushed. */
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));
  g_assert_cmpuint (n_captured (2), ==, 1);
  g_assert_cmpint (captured_tag (2, 0), ==, 10);
  g_assert_cmpuint (g_bytes_get_size (captured[2]->pdata[0]), ==, 64);
  g_assert_cmpuint (n_captured (1), ==, 0);
  clear_captured ();

  /* Trunk, tagged 20 → access 20: tag popped. */
  send1 (f, 2, frame (BCAST, MAC_C, 20, 60));
  g_assert_cmpuint (n_captured (1), ==, 1);
  g_assert_cmpint (captured_tag (1, 0), ==, -1);
  g_assert_cmpuint (g_bytes_get_size (captured[1]->pdata[0]), ==, 60);
  g_assert_cmpuint (n_captured (0), ==, 0);
  clear_captured ();

  /* Trunk untagged → native VLAN 0 → port 3, untagged. */
  send1 (f, 2, frame (BCAST, MAC_C, -1, 60));
  g_assert_cmpuint (n_captured (3), ==, 1);
  g_assert_cmpint (captured_tag (3, 0), ==, -1);
  g_assert_cmpuint (n_captured (0) + n_captured (1), ==, 0);
  clear_captured ();

  /* A VID the trunk does not allow, and a tag on an access port: dropped. */
  send1 (f, 2, frame (BCAST, MAC_C, 30, 60));
  send1 (f, 0, frame (BCAST, MAC_A, 10, 60));
  for (int i = 0; i < NPORTS; i++)
    g_assert_cmpuint (n_captured (i), ==, 0);
  g_assert_cmpuint (stats (f, 2).drop_vlan_filtered, ==, 1);
  g_assert_cmpuint (stats (f, 0).drop_vlan_filtered, ==, 1);

  /* One flooded frame leaves untagged on one port and tagged on another. */
  add_access (f, 4, 10);
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));
  g_assert_cmpint (captured_tag (4, 0), ==, -1);
  g_assert_cmpint (captured_tag (2, 0), ==, 10);
}

static void
test_trunk_native_vlan (Fixture *f, gconstpointer data)
{
  add_trunk (f, 0, "10", 5);
  add_access (f, 1, 5);
  add_access (f, 2, 10);
  /* Untagged on the trunk belongs to native 5; VLAN 5 leaves the trunk untagged. */
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));
  g_assert_cmpuint (n_captured (1), ==, 1);
  g_assert_cmpuint (n_captured (2), ==, 0);
  send1 (f, 1, frame (BCAST, MAC_B, -1, 60));
  g_assert_cmpuint (n_captured (0), ==, 1);
  g_assert_cmpint (captured_tag (0, 0), ==, -1);
}

static void
test_counters (Fixture *f, gconstpointer data)
{
  struct dvs_port_stats s0, s1;

  add_access (f, 0, 0);
  add_access (f, 1, 0);
  send1 (f, 0, frame (BCAST, MAC_A, -1, 100));
  send1 (f, 0, frame (MCAST, MAC_A, -1, 200));
  send1 (f, 1, frame (MAC_A, MAC_B, -1, 300));
  send1 (f, 0, frame (MAC_B, MAC_A, -1, 400));
  s0 = stats (f, 0);
  s1 = stats (f, 1);
  g_assert_cmpuint (s0.rx_packets[DVS_PKT_BROADCAST], ==, 1);
  g_assert_cmpuint (s0.rx_bytes[DVS_PKT_BROADCAST], ==, 100);
  g_assert_cmpuint (s0.rx_packets[DVS_PKT_MULTICAST], ==, 1);
  g_assert_cmpuint (s0.rx_bytes[DVS_PKT_MULTICAST], ==, 200);
  g_assert_cmpuint (s0.rx_packets[DVS_PKT_UNICAST], ==, 1);
  g_assert_cmpuint (s0.rx_bytes[DVS_PKT_UNICAST], ==, 400);
  g_assert_cmpuint (s0.tx_packets[DVS_PKT_UNICAST], ==, 1);
  g_assert_cmpuint (s0.tx_bytes[DVS_PKT_UNICAST], ==, 300);
  g_assert_cmpuint (s1.tx_packets[DVS_PKT_BROADCAST], ==, 1);
  g_assert_cmpuint (s1.tx_packets[DVS_PKT_MULTICAST], ==, 1);
  g_assert_cmpuint (s1.tx_packets[DVS_PKT_UNICAST], ==, 1);
  g_assert_cmpuint (s1.tx_bytes[DVS_PKT_UNICAST], ==, 400);
  g_assert_cmpuint (s1.rx_packets[DVS_PKT_UNICAST], ==, 1);
}

static void
test_drops (Fixture *f, gconstpointer data)
{
  struct rte_mbuf *burst[8];

  add_access (f, 0, 0);
  add_access (f, 1, 0);
  send1 (f, 1, frame (BCAST, MAC_B, -1, 60));     /* B on 1 */
  /* Ring full: port 1 takes 3 of 8. */
  tx_room[1] = 3;
  for (int i = 0; i < 8; i++)
    burst[i] = frame (MAC_B, MAC_A, -1, 60);
  dvs_dp_process_burst (f->dp, 0, burst, 8);
  g_assert_cmpuint (stats (f, 1).tx_packets[DVS_PKT_UNICAST], ==, 3);
  g_assert_cmpuint (stats (f, 1).drop_ring_full, ==, 5);
  /* Link down: a frame for B is counted on B's port. */
  g_assert_cmpint (dvs_dp_link_down (f->dp, 1), ==, 0);
  send1 (f, 0, frame (MAC_B, MAC_A, -1, 60));
  g_assert_cmpuint (stats (f, 1).drop_link_down, ==, 1);
  /* A flooded frame the down port misses is counted there too. */
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));
  g_assert_cmpuint (stats (f, 1).drop_link_down, ==, 2);
  /* A runt frame. */
  {
    struct rte_mbuf *m = rte_pktmbuf_alloc (pool);
    rte_pktmbuf_append (m, 10);
    send1 (f, 0, m);
    g_assert_cmpuint (stats (f, 0).drop_malformed, ==, 1);
  }
  /* A group source address is never learned. */
  send1 (f, 0, frame (BCAST, MCAST, -1, 60));
  g_assert_cmpint (dvs_dp_mac_count (f->dp), ==, 2);
}

static void
test_port_remove_forgets (Fixture *f, gconstpointer data)
{
  add_access (f, 0, 0);
  add_access (f, 1, 0);
  add_access (f, 2, 0);
  send1 (f, 1, frame (BCAST, MAC_B, -1, 60));
  g_assert_cmpint (dvs_dp_port_remove (f->dp, 1), ==, 0);
  g_assert_cmpint (dvs_dp_mac_count (f->dp), ==, 0);
  g_assert_cmpint (dvs_dp_port_remove (f->dp, 1), ==, -ENOENT);
  clear_captured ();
  send1 (f, 0, frame (MAC_B, MAC_A, -1, 60));
  g_assert_cmpuint (n_captured (1), ==, 0);
  g_assert_cmpuint (n_captured (2), ==, 1);
  /* Changing a port's VLAN forgets what it learned there. */
  send1 (f, 2, frame (BCAST, MAC_C, -1, 60));
  {
    struct dvs_vlan_config v;
    dvs_vlan_config_init_access (&v, 7);
    g_assert_cmpint (dvs_dp_port_set_vlan (f->dp, 2, &v), ==, 0);
  }
  g_assert_cmpint (dvs_dp_mac_dump (f->dp, (struct dvs_mac_entry[4]) {}, 4), ==, 1);
}

/* Two DVswitches on one host: the same MACs and VLANs in two forwarding
 * domains, and frames never cross. */
static void
test_domains_isolated (Fixture *f, gconstpointer data)
{
  struct dvs_mac_entry e[8];

  add_access (f, 0, 0);
  add_access (f, 1, 0);
  g_assert_cmpint (dvs_dp_domain_add (f->dp, 3), ==, 0);
  g_assert_cmpint (dvs_dp_domain_add (f->dp, 3), ==, -EEXIST);
  test_domain = 3;
  add_access (f, 2, 0);
  add_access (f, 3, 0);
  g_assert_cmpint (dvs_dp_port_add (f->dp, 4, 9, &(struct dvs_vlan_config) { 0 }, NULL), ==, -ENXIO);

  /* A broadcast floods its own domain only. */
  send1 (f, 0, frame (BCAST, MAC_A, -1, 60));
  g_assert_cmpuint (n_captured (1), ==, 1);
  g_assert_cmpuint (n_captured (2) + n_captured (3), ==, 0);
  clear_captured ();
  send1 (f, 2, frame (BCAST, MAC_B, -1, 60));
  g_assert_cmpuint (n_captured (3), ==, 1);
  g_assert_cmpuint (n_captured (0) + n_captured (1), ==, 0);
  clear_captured ();
  /* MAC_A is known in domain 0 only: from domain 3 it is unknown (flooded
   * within domain 3), never delivered to port 0. */
  send1 (f, 3, frame (MAC_A, MAC_C, -1, 60));
  g_assert_cmpuint (n_captured (0), ==, 0);
  g_assert_cmpuint (n_captured (2), ==, 1);
  /* The same MAC learned in both domains is two entries. */
  send1 (f, 3, frame (BCAST, MAC_A, -1, 60));
  g_assert_cmpint (dvs_dp_mac_dump (f->dp, e, 8), ==, 4);
  g_assert_cmpint (dvs_dp_mac_count (f->dp), ==, 4);

  g_assert_cmpint (dvs_dp_domain_remove (f->dp, 3), ==, -EBUSY);
  g_assert_cmpint (dvs_dp_port_remove (f->dp, 2), ==, 0);
  g_assert_cmpint (dvs_dp_port_remove (f->dp, 3), ==, 0);
  g_assert_cmpint (dvs_dp_domain_remove (f->dp, 3), ==, 0);
  g_assert_cmpint (dvs_dp_mac_count (f->dp), ==, 1);   /* MAC_A in domain 0 */
  g_assert_cmpint (dvs_dp_domain_remove (f->dp, 0), ==, -ENOENT);
}

/* What a burst did to ports 1-3: frames delivered and counted on each, and
 * the down port's misses. */
typedef struct {
  guint delivered[3];
  guint64 tx[3], tx_bytes[3], link_down;
} Outcome;

static Outcome
outcome_since (Fixture *f, const Outcome *before)
{
  Outcome o = { { 0 } };

  for (int p = 1; p <= 3; p++)
    {
      struct dvs_port_stats s = stats (f, (uint16_t) p);
      guint64 tx = 0, bytes = 0;

      for (int k = 0; k < DVS_PKT_KIND_COUNT; k++)
        {
          tx += s.tx_packets[k];
          bytes += s.tx_bytes[k];
        }
      o.delivered[p - 1] = n_captured (p) - (before ? before->delivered[p - 1] : 0);
      o.tx[p - 1] = tx - (before ? before->tx[p - 1] : 0);
      o.tx_bytes[p - 1] = bytes - (before ? before->tx_bytes[p - 1] : 0);
      if (p == 3)
        o.link_down = s.drop_link_down - (before ? before->link_down : 0);
    }
  return o;
}

/* Sends, from port 0, @n frames to each destination of @dst (lengths
 * 60 + i), in one burst (@mixed) or one burst per destination. */
static void
send_frames (Fixture *f, const guint8 *const *dst, const guint *n, int kinds,
             gboolean mixed)
{
  struct rte_mbuf *burst[32];
  guint k = 0;

  for (int d = 0; d < kinds; d++)
    {
      for (guint i = 0; i < n[d]; i++)
        burst[k++] = frame (dst[d], MAC_A, -1, 60 + i);
      if (!mixed)
        {
          dvs_dp_process_burst (f->dp, 0, burst, (uint16_t) k);
          k = 0;
        }
    }
  if (k > 0)
    dvs_dp_process_burst (f->dp, 0, burst, (uint16_t) k);
}

/* A burst whose frames all go one way takes a shortcut through the
 * pipeline (handed over whole, counted once); a mixed burst goes frame by
 * frame.  Both must deliver and count exactly the same. */
static void
test_uniform_and_mixed_bursts_agree (Fixture *f, gconstpointer data)
{
  static const guint8 UNKNOWN[6] = { 0x02, 0, 0, 0, 0, 0x7f };
  const guint8 *const dst[] = { MAC_B, MAC_C, BCAST, UNKNOWN };
  const guint n[] = { 3, 2, 2, 1 };
  Outcome base, mixed, uniform;

  for (uint16_t p = 0; p < 4; p++)
    add_access (f, p, 0);
  send1 (f, 1, frame (BCAST, MAC_B, -1, 60));
  send1 (f, 2, frame (BCAST, MAC_C, -1, 60));
  g_assert_cmpint (dvs_dp_link_down (f->dp, 3), ==, 0);

  base = outcome_since (f, NULL);
  send_frames (f, dst, n, 4, TRUE);
  mixed = outcome_since (f, &base);
  base = outcome_since (f, NULL);
  send_frames (f, dst, n, 4, FALSE);
  uniform = outcome_since (f, &base);

  /* B gets its 3 and the 3 flooded, C its 2 and the 3 flooded; the down
   * port misses the 3 flooded. */
  g_assert_cmpuint (mixed.delivered[0], ==, 6);
  g_assert_cmpuint (mixed.delivered[1], ==, 5);
  g_assert_cmpuint (mixed.delivered[2], ==, 0);
  g_assert_cmpuint (mixed.link_down, ==, 3);
  for (int p = 0; p < 3; p++)
    {
      g_assert_cmpuint (mixed.delivered[p], ==, uniform.delivered[p]);
      g_assert_cmpuint (mixed.tx[p], ==, mixed.delivered[p]);
      g_assert_cmpuint (uniform.tx[p], ==, mixed.tx[p]);
      g_assert_cmpuint (uniform.tx_bytes[p], ==, mixed.tx_bytes[p]);
    }
  g_assert_cmpuint (uniform.link_down, ==, mixed.link_down);
  /* 3 frames of 60-62 bytes to B, 2 of 60-61 to C, the flood 60, 61, 60. */
  g_assert_cmpuint (mixed.tx_bytes[0], ==, 60 + 61 + 62 + 60 + 61 + 60);
  g_assert_cmpuint (mixed.tx_bytes[1], ==, 60 + 61 + 60 + 61 + 60);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_eal_init ();
  pool = rte_pktmbuf_pool_create ("unit_frames", 1023, 0, 0,
                                  RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  g_assert_nonnull (pool);
  for (int i = 0; i < NPORTS; i++)
    captured[i] = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

#define T(path, fn) g_test_add ("/forwarding/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  T ("learn-then-unicast", test_learn_then_unicast);
  T ("no-reflection", test_no_reflection);
  T ("aging", test_aging);
  T ("flood-domains", test_flood_domains);
  T ("vlan-push-pop-filter", test_vlan_push_pop_filter);
  T ("trunk-native-vlan", test_trunk_native_vlan);
  T ("counters", test_counters);
  T ("drops", test_drops);
  T ("port-remove-forgets", test_port_remove_forgets);
  T ("domains-isolated", test_domains_isolated);
  T ("uniform-and-mixed-bursts-agree", test_uniform_and_mixed_bursts_agree);
  return g_test_run ();
}
