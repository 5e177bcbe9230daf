/* Placement without D-Bus (placement/placement.h): the health score and
 * its reasons from reported statuses, the placement check's criteria one
 * by one, hidden networks and port group bindings surviving a reload (and
 * an old host record without hidden_networks loading), and — through
 * libvirt's own test driver (test:///default and a node file), a real
 * libvirt connection on the worker threads — node info, the CPU and
 * memory criterion, and a MigrateVM job that fails cleanly because that
 * driver cannot migrate.
 *
 * "Connected" hosts get a DvsRpcPeer over one end of a socketpair that is
 * never started: the model only looks at whether h->peer is set. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "placement/placement.h"
#include "test-util.h"
#include "dvs-json-write.h"

#define VM1 "6f1c1a52-8d0e-4c43-9a44-1b2f3c4d5e6f"
#define MAC1 "52:54:00:12:34:56"

typedef struct {
  gchar *root, *path;
  DvsMgrStore *store;
  DvsMgr *mgr;
  GPtrArray *far_ends;          /* GSocket of the fake peers */
  MgrSwitch *sw;
  MgrPortGroup *pg;
  MgrPort *port;
} Fixture;

static void
mgr_open (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->store = dvs_mgr_store_open (f->path, &error);
  g_assert_no_error (error);
  f->mgr = dvs_mgr_new (f->store, &error);
  g_assert_no_error (error);
}

static void
mgr_close (Fixture *f)
{
  if (f->mgr)
    g_clear_pointer (&f->mgr->push, mgr_push_free);
  g_clear_pointer (&f->mgr, dvs_mgr_free);
  g_clear_pointer (&f->store, dvs_mgr_store_close);
}

static void
reload (Fixture *f)
{
  mgr_close (f);
  mgr_open (f);
}

static void
connect_host (Fixture *f, MgrHost *h)
{
  gint fds[2];
  g_autoptr (GSocket) mine = NULL;
  g_autoptr (GSocketConnection) conn = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  mine = g_socket_new_from_fd (fds[0], NULL);
  g_ptr_array_add (f->far_ends, g_socket_new_from_fd (fds[1], NULL));
  conn = g_socket_connection_factory_create_connection (mine);
  h->peer = dvs_rpc_peer_new (G_IO_STREAM (conn), "fake host", NULL, NULL, 4096);
  h->last_seen = g_get_real_time ();
}

static MgrHost *
host_up (Fixture *f, const gchar *name, const gchar *tz, const gchar *uri)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *config = uri ? g_strdup_printf ("{\"libvirt_uri\":\"%s\"}", uri) : NULL;
  MgrHost *h = dvs_mgr_register_host (f->mgr, name, config, &error);

  g_assert_no_error (error);
  if (tz)
    g_ptr_array_add (h->transport_zones, g_strdup (tz));
  connect_host (f, h);
  return h;
}

/* A status as the agent sends it, for switch @sw_uuid with one uplink. */
static void
report (Fixture *f, MgrHost *h, guint free_ports, guint64 drops, guint64 busy, gint64 time,
        const gchar *uplink_link)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = g_strdup_printf (
    "{\"free_ports\":%u,\"drops\":%" G_GUINT64_FORMAT ",\"busy_cycles\":%" G_GUINT64_FORMAT ","
    "\"tsc_hz\":1000000000,\"time\":%" G_GINT64_FORMAT ",\"switches\":[{\"id\":\"%s\",\"ports\":1,"
    "\"uplinks\":[{\"name\":\"eth0\",\"link\":\"%s\"}]}]}",
    free_ports, drops, busy, time, f->sw->uuid, uplink_link);
  g_autoptr (JsonNode) n = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_true (dvs_mgr_placement_host_status (f->mgr, h, n, &error));
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *conn = NULL;
  GPtrArray *ports;

  f->root = dvs_test_make_tmp_dir ("dvsmgr-placement-XXXXXX");
  f->path = g_build_filename (f->root, "dvsmgr.db", NULL);
  f->far_ends = g_ptr_array_new_with_free_func (g_object_unref);
  mgr_open (f);
  f->sw = dvs_mgr_create_switch (f->mgr, "sw", "{\"transport_zone\":\"tz-a\"}", &error);
  g_assert_no_error (error);
  f->pg = dvs_mgr_add_port_group (f->mgr, f->sw, "web", NULL, 2, &error);
  g_assert_no_error (error);
  host_up (f, "h1", "tz-a", NULL);
  host_up (f, "h2", "tz-a", NULL);
  g_assert_true (dvs_mgr_join_host (f->mgr, f->sw, "h1", &error));
  g_assert_true (dvs_mgr_join_host (f->mgr, f->sw, "h2", &error));
  ports = dvs_mgr_sorted_values (f->pg->ports, TRUE);
  f->port = ports->pdata[0];
  g_ptr_array_unref (ports);
  conn = dvs_mgr_port_connect (f->mgr, f->port, "h1", VM1, MAC1, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  mgr_close (f);
  g_ptr_array_unref (f->far_ends);
  dvs_test_remove_tree (f->root);
  g_free (f->path);
  g_free (f->root);
}

static gchar *
joined (GPtrArray *a)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < a->len; i++)
    g_string_append_printf (s, "%s%s", i ? "|" : "", (const gchar *) a->pdata[i]);
  return g_string_free (s, FALSE);
}

static guint
health (Fixture *f, const gchar *host, gchar **reasons_out)
{
  g_autoptr (GPtrArray) r = g_ptr_array_new_with_free_func (g_free);
  guint score = dvs_mgr_placement_health (f->mgr, g_hash_table_lookup (f->mgr->hosts, host), r);

  *reasons_out = joined (r);
  return score;
}

static gboolean
check (Fixture *f, const gchar *host, gchar **reasons_out)
{
  g_autoptr (GPtrArray) r = g_ptr_array_new_with_free_func (g_free);
  gboolean ok = dvs_mgr_placement_check_port (f->mgr, f->port, host, r);

  *reasons_out = joined (r);
  g_assert_true (ok == (r->len == 0));
  return ok;
}

static void
config_is (MgrPortGroup *pg, const gchar *expected)
{
  g_autofree gchar *text = dvs_json_write (pg->config, FALSE);

  g_assert_cmpstr (text, ==, expected);
}

/* ---- health ------------------------------------------------------------- */

static void
test_health (Fixture *f, gconstpointer data)
{
  MgrHost *h2 = g_hash_table_lookup (f->mgr->hosts, "h2");
  g_autofree gchar *r0 = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL, *r5 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) bad = json_from_string ("{\"free_ports\":-1}", NULL);
  gint64 t = 1000000;

  g_assert_cmpuint (health (f, "h2", &r0), ==, 90);
  g_assert_cmpstr (r0, ==, "no status reported");
  report (f, h2, 1000, 5, 0, t, "up");
  g_assert_cmpuint (health (f, "h2", &r1), ==, 100);
  g_assert_cmpstr (r1, ==, "");
  /* 7 more drops and 95 % busy over one second, the uplink down. */
  report (f, h2, 1000, 12, 950000000, t + G_USEC_PER_SEC, "down");
  g_assert_cmpuint (health (f, "h2", &r2), ==, 10);
  g_assert_cmpstr (r2, ==, "drops rising (+7 since the last report)|datapath load 95%"
                           "|the uplink of switch sw is down");
  /* Quiet again, uplink back. */
  report (f, h2, 1000, 12, 950000000, t + 2 * G_USEC_PER_SEC, "up");
  g_assert_cmpuint (health (f, "h2", &r3), ==, 100);
  /* A malformed status is refused and changes nothing. */
  g_assert_false (dvs_mgr_placement_host_status (f->mgr, h2, bad, &error));
  g_assert_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS);
  g_assert_cmpuint (health (f, "h2", &r4), ==, 100);
  /* The push engine has not brought the host its final state. */
  f->mgr->push = mgr_push_new (f->mgr, 100000, 100000, 1);
  mgr_push_mark (f->mgr->push, f->sw, "h2");
  g_assert_cmpuint (health (f, "h2", &r5), ==, 40);
  g_assert_cmpstr (r5, ==, "final state not in sync");
  g_clear_pointer (&f->mgr->push, mgr_push_free);
  g_clear_pointer (&h2->peer, dvs_rpc_peer_unref);
  g_free (r5);
  g_assert_cmpuint (health (f, "h2", &r5), ==, 0);
  g_assert_cmpstr (r5, ==, "not connected");
}

/* ---- the check ---------------------------------------------------------- */

static void
test_check (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MgrHost *h2 = g_hash_table_lookup (f->mgr->hosts, "h2");
  MgrNetwork *net;
  gchar *r = NULL;

  report (f, h2, 1000, 0, 0, 1, "up");
  g_assert_true (check (f, "h2", &r));
  g_clear_pointer (&r, g_free);
  g_assert_false (check (f, "nowhere", &r));
  g_assert_cmpstr (r, ==, "host nowhere is not registered");
  g_clear_pointer (&r, g_free);

  /* Not a member. */
  host_up (f, "h3", "tz-a", NULL);
  g_assert_false (check (f, "h3", &r));
  g_assert_cmpstr (r, ==, "host h3 is not a member of switch sw");
  g_clear_pointer (&r, g_free);

  /* The port group's network hidden on h2, then out of h2's zones. */
  net = dvs_mgr_create_network (f->mgr, "web-net", "vlan", 10, "tz-web", &error);
  g_assert_no_error (error);
  g_assert_true (dvs_mgr_port_group_set_network (f->mgr, f->pg, net, &error));
  config_is (f->pg, "{\"vlan\":10}");
  g_assert_false (check (f, "h2", &r));
  g_assert_cmpstr (r, ==, "network web-net is not on host h2 (transport zone tz-web is not among "
                          "the host's)");
  g_clear_pointer (&r, g_free);
  g_ptr_array_add (h2->transport_zones, g_strdup ("tz-web"));
  g_assert_true (check (f, "h2", &r));
  g_clear_pointer (&r, g_free);
  g_assert_true (dvs_mgr_host_hide_network (f->mgr, h2, net, TRUE, &error));
  g_assert_false (check (f, "h2", &r));
  g_assert_cmpstr (r, ==, "network web-net is hidden on host h2");
  g_clear_pointer (&r, g_free);
  g_assert_true (dvs_mgr_host_hide_network (f->mgr, h2, net, FALSE, &error));
  g_assert_true (check (f, "h2", &r));
  g_clear_pointer (&r, g_free);

  /* No free slot; the port's own host needs none. */
  report (f, h2, 0, 0, 0, 2, "up");
  g_assert_false (check (f, "h2", &r));
  g_assert_cmpstr (r, ==, "host h2 has no free DVport slot");
  g_clear_pointer (&r, g_free);

  /* Unhealthy and not connected. */
  report (f, h2, 10, 0, 0, 3, "down");
  g_assert_true (check (f, "h2", &r));   /* 60: still healthy enough */
  g_clear_pointer (&r, g_free);
  report (f, h2, 10, 50, 0, 4, "down");
  g_assert_false (check (f, "h2", &r));
  g_assert_cmpstr (r, ==, "host h2's switch is not healthy (health 40: drops rising (+50 since the "
                          "last report), the uplink of switch sw is down)");
  g_clear_pointer (&r, g_free);
  g_clear_pointer (&h2->peer, dvs_rpc_peer_unref);
  g_assert_false (check (f, "h2", &r));
  g_assert_cmpstr (r, ==, "host h2 is not connected");
  g_clear_pointer (&r, g_free);
}

/* ---- persistence -------------------------------------------------------- */

static void
test_persist (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (JsonNode) old = json_from_string ("{\"libvirt_uri\":null,\"uplinks\":[],"
                                               "\"transport_zones\":[],\"last_seen\":0}", NULL);
  g_autofree gchar *pg_uuid = g_strdup (f->pg->uuid), *net_uuid = NULL;
  MgrNetwork *net = dvs_mgr_create_network (f->mgr, "db-net", "vxlan", 5000, "tz-a", &error);
  MgrHost *h;

  g_assert_no_error (error);
  net_uuid = g_strdup (net->uuid);
  g_assert_true (dvs_mgr_host_hide_network (f->mgr, g_hash_table_lookup (f->mgr->hosts, "h2"),
                                            net, TRUE, &error));
  g_assert_true (dvs_mgr_port_group_set_network (f->mgr, f->pg, net, &error));
  /* VXLAN: no vlan given to the group. */
  config_is (f->pg, "{}");
  /* A migration URI: checked, stored. */
  g_assert_false (dvs_mgr_host_set_migration_uri (f->mgr, g_hash_table_lookup (f->mgr->hosts, "h2"),
                                                  "http://x", &error));
  g_assert_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS);
  g_clear_error (&error);
  g_assert_true (dvs_mgr_host_set_migration_uri (f->mgr, g_hash_table_lookup (f->mgr->hosts, "h2"),
                                                 "tcp://192.0.2.2:49152", &error));
  /* A record written before hidden networks existed. */
  dvs_mgr_txn_put (txn, "host", "h-old", old);
  g_assert_true (dvs_mgr_store_commit (f->store, txn, &error));
  reload (f);
  h = g_hash_table_lookup (f->mgr->hosts, "h2");
  g_assert_cmpuint (h->hidden_networks->len, ==, 1);
  g_assert_cmpstr (h->hidden_networks->pdata[0], ==, net_uuid);
  g_assert_cmpstr (h->migration_uri, ==, "tcp://192.0.2.2:49152");
  g_assert_true (dvs_mgr_host_set_migration_uri (f->mgr, h, "", &error));
  g_assert_null (h->migration_uri);
  h = g_hash_table_lookup (f->mgr->hosts, "h-old");
  g_assert_nonnull (h);
  g_assert_cmpuint (h->hidden_networks->len, ==, 0);
  g_assert_null (h->migration_uri);
  g_assert_cmpstr (((MgrPortGroup *) g_hash_table_lookup (f->mgr->port_groups, pg_uuid))->network,
                   ==, net_uuid);
  /* Unbinding persists too. */
  g_assert_true (dvs_mgr_port_group_set_network (f->mgr, g_hash_table_lookup (f->mgr->port_groups,
                                                                              pg_uuid), NULL, &error));
  reload (f);
  g_assert_null (((MgrPortGroup *) g_hash_table_lookup (f->mgr->port_groups, pg_uuid))->network);
}

/* ---- libvirt ------------------------------------------------------------ */

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gboolean
timed_out (gpointer data)
{
  g_error ("timed out waiting for libvirt");
  return G_SOURCE_REMOVE;
}

static void
refresh (Fixture *f)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint t = g_timeout_add_seconds (30, timed_out, NULL);

  dvs_mgr_libvirt_refresh (f->mgr, quit_loop, loop);
  g_main_loop_run (loop);
  g_source_remove (t);
}

/* A test-driver node with 2 CPUs and 256 MiB, no domains. */
static const gchar small_node[] =
  "<node><cpu><mhz>2000</mhz><model>dvs</model><active>2</active><max>2</max><nodes>1</nodes>"
  "<sockets>1</sockets><cores>2</cores><threads>1</threads></cpu>"
  "<memory>262144</memory></node>";

/* 64 CPUs and 64 GiB, no domains. */
static const gchar big_node[] =
  "<node><cpu><mhz>2000</mhz><model>dvs</model><active>64</active><max>64</max><nodes>1</nodes>"
  "<sockets>1</sockets><cores>64</cores><threads>1</threads></cpu>"
  "<memory>67108864</memory></node>";

static void
on_finished (DvsMigration1 *iface, gboolean ok, const gchar *error, gpointer loop)
{
  g_main_loop_quit (loop);
}

static void
test_libvirt (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *node_path = g_build_filename (f->root, "small.xml", NULL);
  g_autofree gchar *small_uri = g_strdup_printf ("test://%s", node_path);
  MgrHost *h1 = g_hash_table_lookup (f->mgr->hosts, "h1"), *hs;
  MgrNodeInfo node;
  MgrDomainInfo dom;
  g_autoptr (GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *r = NULL, *path = NULL;
  const gchar *where = NULL;

  g_assert_true (g_file_set_contents (node_path, small_node, -1, NULL));
  /* h1 runs the default test node and its domain "test". */
  h1->libvirt_uri = g_strdup ("test:///default");
  hs = host_up (f, "small", "tz-a", small_uri);
  g_assert_true (dvs_mgr_join_host (f->mgr, f->sw, "small", &error));
  report (f, hs, 1000, 0, 0, 1, "up");
  refresh (f);
  g_assert_cmpstr (dvs_mgr_libvirt_error (f->mgr, "h1"), ==, "");
  g_assert_true (dvs_mgr_libvirt_node_info (f->mgr, "h1", &node));
  g_assert_cmpuint (node.cpus, >, 2);
  g_assert_true (dvs_mgr_libvirt_node_info (f->mgr, "small", &node));
  g_assert_cmpuint (node.cpus, ==, 2);
  g_assert_cmpuint (node.memory_kib, ==, 262144);
  g_assert_true (dvs_mgr_libvirt_find_domain (f->mgr, "test", &dom, &where));
  g_assert_cmpstr (where, ==, "h1");
  g_assert_nonnull (dvs_mgr_libvirt_error (f->mgr, "h1"));
  g_assert_null (dvs_mgr_libvirt_error (f->mgr, "h2"));

  /* The port's VM is the test domain: the small node cannot take it. */
  g_free (f->port->vm);
  f->port->vm = g_strdup (dom.uuid);
  g_assert_false (check (f, "small", &r));
  g_assert_true (strstr (r, "MiB of free memory, VM test needs") != NULL);
  g_clear_pointer (&r, g_free);
  /* Found by name too. */
  g_autoptr (GPtrArray) ports = dvs_mgr_placement_vm_ports (f->mgr, "test");
  g_assert_cmpuint (ports->len, ==, 1);
  /* h2 has no libvirt: the criterion does not apply; PlaceVM picks it. */
  report (f, g_hash_table_lookup (f->mgr->hosts, "h2"), 1000, 0, 0, 1, "up");
  g_autofree gchar *best = dvs_mgr_placement_place_vm (f->mgr, "test", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (best, ==, "h2");

  /* MigrateVM: h2 has no libvirt URI; the small node fails the check. */
  g_assert_null (dvs_mgr_migrate_vm (f->mgr, "test", "h2", &error));
  g_assert_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_HOST_UNREACHABLE);
  g_clear_error (&error);
  g_assert_null (dvs_mgr_migrate_vm (f->mgr, "test", "small", &error));
  g_assert_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_BUSY);
  g_clear_error (&error);

  /* A destination that passes: a big node without domains.  The test
   * driver cannot migrate: the job runs and fails cleanly. */
  {
    g_autofree gchar *big_path = g_build_filename (f->root, "big.xml", NULL);
    g_autofree gchar *big_uri = g_strdup_printf ("test://%s", big_path);
    MgrHost *big;
    g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
    DvsMigration1 *iface;
    guint t;

    g_assert_true (g_file_set_contents (big_path, big_node, -1, NULL));
    big = host_up (f, "big", "tz-a", big_uri);
    g_assert_true (dvs_mgr_join_host (f->mgr, f->sw, "big", &error));
    report (f, big, 1000, 0, 0, 1, "up");
    refresh (f);
    path = dvs_mgr_migrate_vm (f->mgr, "test", "big", &error);
    g_assert_no_error (error);
    g_assert_true (g_str_has_prefix (path, DVS_MGR_OBJECT_PATH "/migration/"));
    iface = dvs_mgr_migration_get (f->mgr, path);
    g_assert_nonnull (iface);
    g_signal_connect (iface, "finished", G_CALLBACK (on_finished), loop);
    t = g_timeout_add_seconds (60, timed_out, NULL);
    g_main_loop_run (loop);
    g_source_remove (t);
    g_assert_cmpstr (dvs_migration1_get_state (iface), ==, "failed");
    g_assert_true (strstr (dvs_migration1_get_error (iface), "libvirt") != NULL);
    g_assert_cmpstr (dvs_migration1_get_source (iface), ==, "h1");
    g_assert_cmpstr (dvs_migration1_get_destination (iface), ==, "big");
  }
}

/* The failed test migration's warning is expected; any other stays fatal. */
static GLogWriterOutput
test_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if ((level & G_LOG_LEVEL_WARNING) && g_str_equal (fields[i].key, "GLIB_DOMAIN")
        && fields[i].length < 0 && g_str_equal (fields[i].value, "dvsmgr-migrate"))
      {
        g_test_message ("expected warning from dvsmgr-migrate");
        return G_LOG_WRITER_HANDLED;
      }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (test_writer, NULL, NULL);
  g_test_add ("/dvsmgr/placement/health", Fixture, NULL, fixture_setup, test_health, fixture_teardown);
  g_test_add ("/dvsmgr/placement/check", Fixture, NULL, fixture_setup, test_check, fixture_teardown);
  g_test_add ("/dvsmgr/placement/persist", Fixture, NULL, fixture_setup, test_persist, fixture_teardown);
  g_test_add ("/dvsmgr/placement/libvirt", Fixture, NULL, fixture_setup, test_libvirt, fixture_teardown);
  return g_test_run ();
}
