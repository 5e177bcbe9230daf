/* host-sim: N simulated dvs-switchd hosts in one process, for the manager's
 * push benchmark (bench/mgr-push-scale.py).
 *
 * Each simulated host is its own unix-socket connection to dvsmgr's host
 * channel (docs/host-channel.md) driven by a DvsRpcPeer: it says host.hello,
 * sends host.heartbeat every heartbeat_ms, and serves switch.apply,
 * switch.remove and dvport.show with light work only (no datapath, no
 * store): an apply is counted, its DVports counted and the VLAN of its first
 * port group noted with the time it was first seen.
 *
 * Lines on stdout (times are CLOCK_MONOTONIC seconds, g_get_monotonic_time):
 *   hello-done N T        every host's hello was answered
 *   initial-sync N T      every host received its first document of each of
 *                         --switches DVswitches
 *   converged N T FIRST MEDIAN
 *                         every host received a document whose first port
 *                         group has "vlan": EXPECT (T when the last host got
 *                         it, FIRST the first, MEDIAN the median)
 *   status ...            answer to "status"
 * Commands on stdin: "expect VLAN", "status", "quit" (EOF quits too).
 * Problems go to stderr. */
#include <glib-unix.h>
#include <gio/gunixsocketaddress.h>
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dvs-rpc-peer.h"

#define MAX_LINE (16 * 1024 * 1024)
/* Hosts between connect() and hello's reply at once, like a fleet coming
 * back after a manager restart (dvsmgr's listen backlog is 1024; beyond a
 * full backlog a unix connect() fails with EAGAIN and is retried). */
#define CONNECT_WINDOW 256
#define RECONNECT_MS 200           /* doubling to 5 s, as dvs-switchd does */
#define RECONNECT_MAX_MS 5000
#define RETRY_CONNECT_MS 20
#define NO_VLAN G_MININT64

typedef struct _Sim Sim;

typedef struct {
  Sim *sim;
  guint index;
  gchar *name;
  DvsRpcPeer *peer;
  guint heartbeat_ms;
  guint heartbeat_id;
  guint retry_id;
  guint backoff_ms;
  gboolean hello_done;
  gboolean said_hello;         /* once, ever */
  gboolean synced;
  gboolean converged;
  GHashTable *switches_seen;   /* switch id (owned) → NULL */
  GHashTable *vlan_first;      /* vlan (gint64 *, owned) → gint64 * first seen (owned) */
  guint64 applies;
  guint ports;                 /* DVports in the last document */
} SimHost;

struct _Sim {
  GMainLoop *loop;
  gchar *socket_path;
  gchar *prefix;
  guint n_hosts;
  guint n_switches;
  SimHost *hosts;
  guint next_to_connect;
  guint connecting;
  guint n_hello, n_synced, n_converged;
  guint n_drops;               /* connections lost after hello */
  guint n_heartbeat_failures;
  gboolean expecting;
  gint64 expect_vlan;
  gint64 first_converged, last_converged;
  GDataInputStream *input;
  GCancellable *cancel;
};

static void
say (const gchar *format, ...) G_GNUC_PRINTF (1, 2);

static void
say (const gchar *format, ...)
{
  va_list ap;

  va_start (ap, format);
  vprintf (format, ap);
  va_end (ap);
  putchar ('\n');
  fflush (stdout);
}

static gdouble
seconds (gint64 us)
{
  return us / 1e6;
}

static void host_connect (SimHost *h);
static void pump_connects (Sim *sim);

/* ---- convergence ------------------------------------------------------ */

static int
compare_time (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static void
check_converged (SimHost *h)
{
  Sim *sim = h->sim;
  gint64 *first;

  if (!sim->expecting || h->converged)
    return;
  first = g_hash_table_lookup (h->vlan_first, &sim->expect_vlan);
  if (first == NULL)
    return;
  h->converged = TRUE;
  sim->n_converged++;
  if (sim->first_converged == 0 || *first < sim->first_converged)
    sim->first_converged = *first;
  sim->last_converged = MAX (sim->last_converged, *first);
  if (sim->n_converged == sim->n_hosts)
    {
      g_autofree gint64 *times = g_new (gint64, sim->n_hosts);

      for (guint i = 0; i < sim->n_hosts; i++)
        times[i] = *(gint64 *) g_hash_table_lookup (sim->hosts[i].vlan_first, &sim->expect_vlan);
      qsort (times, sim->n_hosts, sizeof *times, compare_time);
      say ("converged %u %.6f %.6f %.6f", sim->n_hosts, seconds (sim->last_converged),
           seconds (sim->first_converged), seconds (times[sim->n_hosts / 2]));
    }
}

static void
expect (Sim *sim, gint64 vlan)
{
  sim->expecting = TRUE;
  sim->expect_vlan = vlan;
  sim->n_converged = 0;
  sim->first_converged = sim->last_converged = 0;
  for (guint i = 0; i < sim->n_hosts; i++)
    {
      sim->hosts[i].converged = FALSE;
      check_converged (&sim->hosts[i]);
    }
}

/* ---- methods the manager calls ---------------------------------------- */

static gint64
first_group_vlan (JsonObject *doc)
{
  JsonNode *groups = json_object_get_member (doc, "port_groups");
  JsonObject *group, *config;
  JsonNode *vlan;

  if (groups == NULL || !JSON_NODE_HOLDS_ARRAY (groups)
      || json_array_get_length (json_node_get_array (groups)) == 0)
    return NO_VLAN;
  group = json_array_get_object_element (json_node_get_array (groups), 0);
  if (group == NULL || !json_object_has_member (group, "config"))
    return NO_VLAN;
  config = json_object_get_object_member (group, "config");
  vlan = config ? json_object_get_member (config, "vlan") : NULL;
  if (vlan == NULL || json_node_get_value_type (vlan) != G_TYPE_INT64)
    return NO_VLAN;
  return json_node_get_int (vlan);
}

static JsonNode *
on_apply (DvsRpcPeer *peer, JsonObject *params, gpointer data, GError **error)
{
  SimHost *h = data;
  Sim *sim = h->sim;
  gint64 now = g_get_monotonic_time ();
  JsonNode *doc = json_object_get_member (params, "switch");
  JsonObject *d, *result;
  JsonNode *ports;
  const gchar *id;
  gint64 vlan;

  if (doc == NULL || !JSON_NODE_HOLDS_OBJECT (doc)
      || (id = json_object_get_string_member_with_default (json_node_get_object (doc), "id", NULL)) == NULL)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "switch must be an object with an id");
      return NULL;
    }
  d = json_node_get_object (doc);
  ports = json_object_get_member (d, "ports");
  h->ports = ports && JSON_NODE_HOLDS_ARRAY (ports) ? json_array_get_length (json_node_get_array (ports)) : 0;
  h->applies++;
  vlan = first_group_vlan (d);
  if (vlan != NO_VLAN && !g_hash_table_contains (h->vlan_first, &vlan))
    g_hash_table_insert (h->vlan_first, g_memdup2 (&vlan, sizeof vlan), g_memdup2 (&now, sizeof now));
  if (!h->synced)
    {
      g_hash_table_add (h->switches_seen, g_strdup (id));
      if (g_hash_table_size (h->switches_seen) >= sim->n_switches)
        {
          h->synced = TRUE;
          if (++sim->n_synced == sim->n_hosts)
            say ("initial-sync %u %.6f", sim->n_hosts, seconds (now));
        }
    }
  check_converged (h);

  result = json_object_new ();
  json_object_set_string_member (result, "id", id);
  json_object_set_array_member (result, "added", json_array_new ());
  json_object_set_array_member (result, "updated", json_array_new ());
  json_object_set_array_member (result, "removed", json_array_new ());
  json_object_set_array_member (result, "revoked", json_array_new ());
  return json_node_init_object (json_node_alloc (), result);
}

static JsonNode *
on_remove (DvsRpcPeer *peer, JsonObject *params, gpointer data, GError **error)
{
  SimHost *h = data;
  const gchar *id = NULL;
  JsonObject *result;

  if (!dvs_jsonrpc_param_string (params, "id", &id, error))
    return NULL;
  g_hash_table_remove (h->switches_seen, id);
  result = json_object_new ();
  json_object_set_string_member (result, "id", id);
  return json_node_init_object (json_node_alloc (), result);
}

static JsonNode *
on_show (DvsRpcPeer *peer, JsonObject *params, gpointer data, GError **error)
{
  SimHost *h = data;
  const gchar *sw = NULL, *port = NULL;
  JsonObject *result, *stats;

  if (!dvs_jsonrpc_param_string (params, "switch", &sw, error)
      || !dvs_jsonrpc_param_string (params, "port", &port, error))
    return NULL;
  stats = json_object_new ();
  json_object_set_int_member (stats, "rx_packets", (gint64) h->applies);
  json_object_set_int_member (stats, "tx_packets", 0);
  json_object_set_int_member (stats, "rx_bytes", 0);
  json_object_set_int_member (stats, "tx_bytes", 0);
  result = json_object_new ();
  json_object_set_string_member (result, "switch", sw);
  json_object_set_string_member (result, "key", port);
  json_object_set_null_member (result, "port_group");
  json_object_set_null_member (result, "connection");
  json_object_set_boolean_member (result, "attached", FALSE);
  json_object_set_null_member (result, "socket");
  json_object_set_string_member (result, "link", "down");
  json_object_set_int_member (result, "vlan", 0);
  json_object_set_object_member (result, "policy", json_object_new ());
  json_object_set_string_member (result, "state_source", "none");
  json_object_set_object_member (result, "stats", stats);
  json_object_set_array_member (result, "classes", json_array_new ());
  return json_node_init_object (json_node_alloc (), result);
}

static const DvsRpcPeerMethod sim_methods[] = {
  { "switch.apply", on_apply },
  { "switch.remove", on_remove },
  { "dvport.show", on_show },
  { NULL, NULL },
};

/* ---- connection ------------------------------------------------------- */

static void
on_heartbeat_reply (DvsRpcPeer *peer, JsonNode *result, const GError *error, gpointer data)
{
  SimHost *h = data;

  /* A host whose heartbeat is not answered in time drops the connection. */
  if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED) && h->peer == peer)
    {
      h->sim->n_heartbeat_failures++;
      g_printerr ("host-sim: %s: heartbeat failed: %s; reconnecting\n", h->name, error->message);
      dvs_rpc_peer_close (peer);
    }
}

static gboolean
heartbeat (gpointer data)
{
  SimHost *h = data;

  if (h->peer)
    dvs_rpc_peer_call (h->peer, "host.heartbeat", json_object_new (), h->heartbeat_ms,
                       on_heartbeat_reply, h);
  return G_SOURCE_CONTINUE;
}

static gboolean
retry_connect (gpointer data)
{
  SimHost *h = data;

  h->retry_id = 0;
  host_connect (h);
  return G_SOURCE_REMOVE;
}

static void
schedule_reconnect (SimHost *h, guint ms)
{
  if (h->retry_id == 0)
    h->retry_id = g_timeout_add (ms, retry_connect, h);
}

static void
on_closed (DvsRpcPeer *peer, const GError *reason, gpointer data)
{
  SimHost *h = data;

  if (h->peer != peer)
    return;
  g_clear_handle_id (&h->heartbeat_id, g_source_remove);
  g_printerr ("host-sim: %s: connection closed%s%s; reconnecting in %u ms\n", h->name,
              reason ? ": " : "", reason ? reason->message : "", h->backoff_ms);
  if (h->hello_done)
    h->sim->n_drops++;
  else
    h->sim->connecting--;
  h->hello_done = FALSE;
  h->peer = NULL;
  dvs_rpc_peer_unref (peer);
  /* Like a real host: reconnect with exponential back-off. */
  schedule_reconnect (h, h->backoff_ms);
  h->backoff_ms = MIN (h->backoff_ms * 2, RECONNECT_MAX_MS);
  pump_connects (h->sim);
}

static void
on_hello_reply (DvsRpcPeer *peer, JsonNode *result, const GError *error, gpointer data)
{
  SimHost *h = data;
  Sim *sim = h->sim;
  gint64 ms;

  if (h->peer != peer)
    return;
  if (error)
    {
      g_printerr ("host-sim: %s: hello refused: %s\n", h->name, error->message);
      dvs_rpc_peer_close (peer);
      return;
    }
  ms = JSON_NODE_HOLDS_OBJECT (result)
         ? json_object_get_int_member_with_default (json_node_get_object (result), "heartbeat_ms", 2000)
         : 2000;
  h->heartbeat_ms = (guint) CLAMP (ms, 100, 600000);
  h->hello_done = TRUE;
  h->backoff_ms = RECONNECT_MS;
  h->heartbeat_id = g_timeout_add (h->heartbeat_ms, heartbeat, h);
  sim->connecting--;
  if (!h->said_hello && ++sim->n_hello == sim->n_hosts)
    say ("hello-done %u %.6f", sim->n_hosts, seconds (g_get_monotonic_time ()));
  h->said_hello = TRUE;
  pump_connects (sim);
}

static void
say_hello (SimHost *h)
{
  JsonObject *params = json_object_new ();

  json_object_set_string_member (params, "host", h->name);
  json_object_set_string_member (params, "version", "host-sim " DVS_VERSION);
  json_object_set_array_member (params, "uplinks", json_array_new ());
  json_object_set_array_member (params, "transport_zones", json_array_new ());
  json_array_add_string_element (json_object_get_array_member (params, "transport_zones"), "tz1");
  json_object_set_object_member (params, "switches", json_object_new ());
  json_object_set_array_member (params, "ports", json_array_new ());
  dvs_rpc_peer_call (h->peer, "host.hello", params, 0, on_hello_reply, h);
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer data)
{
  SimHost *h = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn =
    g_socket_client_connect_finish (G_SOCKET_CLIENT (source), res, &error);
  g_autofree gchar *desc = NULL;

  g_object_unref (source);
  if (conn == NULL)
    {
      /* The listener's backlog may be full for a moment: try again. */
      h->sim->connecting--;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_printerr ("host-sim: %s: cannot connect to %s: %s; retrying\n", h->name,
                      h->sim->socket_path, error->message);
          schedule_reconnect (h, RETRY_CONNECT_MS);
        }
      return;
    }
  desc = g_strdup_printf ("manager (as %s)", h->name);
  h->peer = dvs_rpc_peer_new (G_IO_STREAM (conn), desc, sim_methods, h, MAX_LINE);
  dvs_rpc_peer_set_closed_func (h->peer, on_closed, h);
  dvs_rpc_peer_start (h->peer);
  say_hello (h);
}

static void
host_connect (SimHost *h)
{
  GSocketClient *client = g_socket_client_new ();
  g_autoptr (GSocketAddress) addr = g_unix_socket_address_new (h->sim->socket_path);

  h->sim->connecting++;
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (addr), h->sim->cancel,
                                 on_connected, h);
}

/* Keeps at most CONNECT_WINDOW hosts between connect() and hello's reply. */
static void
pump_connects (Sim *sim)
{
  while (sim->connecting < CONNECT_WINDOW && sim->next_to_connect < sim->n_hosts)
    host_connect (&sim->hosts[sim->next_to_connect++]);
}

/* ---- control on stdin ------------------------------------------------- */

static void read_command (Sim *sim);

static void
on_command (GObject *source, GAsyncResult *res, gpointer data)
{
  Sim *sim = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                 res, NULL, &error);
  gint64 vlan;

  if (line == NULL)
    {
      if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_printerr ("host-sim: reading stdin: %s\n", error->message);
      g_main_loop_quit (sim->loop);
      return;
    }
  g_strstrip (line);
  if (g_str_has_prefix (line, "expect ")
      && g_ascii_string_to_signed (line + 7, 10, 0, 4095, &vlan, NULL))
    expect (sim, vlan);
  else if (g_str_equal (line, "status"))
    {
      g_autoptr (GString) missing = g_string_new (NULL);
      guint64 applies = 0, ports = 0;
      guint n_missing = 0;

      for (guint i = 0; i < sim->n_hosts; i++)
        {
          SimHost *h = &sim->hosts[i];
          applies += h->applies;
          ports += h->ports;
          if (sim->expecting && !h->converged && n_missing++ < 5)
            g_string_append_printf (missing, "%s%s(%s,%" G_GUINT64_FORMAT " applies)",
                                    missing->len ? "," : "", h->name,
                                    h->peer == NULL ? "down" : h->hello_done ? "up" : "hello",
                                    h->applies);
        }
      say ("status hosts=%u hello=%u synced=%u converged=%u applies=%" G_GUINT64_FORMAT
           " ports=%" G_GUINT64_FORMAT " drops=%u heartbeat_failures=%u missing=%u %s",
           sim->n_hosts, sim->n_hello, sim->n_synced, sim->n_converged, applies, ports,
           sim->n_drops, sim->n_heartbeat_failures, n_missing, missing->str);
    }
  else if (g_str_equal (line, "quit"))
    {
      g_main_loop_quit (sim->loop);
      return;
    }
  else if (*line)
    g_printerr ("host-sim: unknown command '%s' (expect VLAN, status, quit)\n", line);
  read_command (sim);
}

static void
read_command (Sim *sim)
{
  g_data_input_stream_read_line_async (sim->input, G_PRIORITY_DEFAULT, sim->cancel,
                                       on_command, sim);
}

static gboolean
on_signal (gpointer data)
{
  g_main_loop_quit (((Sim *) data)->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Sim sim = { 0 };
  gint n_hosts = 1, n_switches = 1;
  gchar *socket_path = NULL, *prefix = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) in = NULL;
  GOptionEntry entries[] = {
    { "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path, "The manager's host socket (--host-socket)", "PATH" },
    { "hosts", 0, 0, G_OPTION_ARG_INT, &n_hosts, "How many hosts to simulate (default 1)", "N" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &prefix, "Host names are PREFIX-0 … PREFIX-N-1 (default sim)", "PREFIX" },
    { "switches", 0, 0, G_OPTION_ARG_INT, &n_switches,
      "DVswitches each host is a member of: initial sync waits for one document of each (default 1)", "S" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- simulated dvs-switchd hosts for dvsmgr benchmarks");

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || socket_path == NULL
      || n_hosts < 1 || n_hosts > 100000 || n_switches < 1)
    {
      g_printerr ("host-sim: %s (see --help)\n",
                  error ? error->message : "--socket PATH is required; --hosts and --switches at least 1");
      return 2;
    }
  sim.socket_path = socket_path;
  sim.prefix = prefix ? prefix : g_strdup ("sim");
  sim.n_hosts = (guint) n_hosts;
  sim.n_switches = (guint) n_switches;
  sim.hosts = g_new0 (SimHost, sim.n_hosts);
  sim.cancel = g_cancellable_new ();
  for (guint i = 0; i < sim.n_hosts; i++)
    {
      SimHost *h = &sim.hosts[i];
      h->sim = &sim;
      h->index = i;
      h->name = g_strdup_printf ("%s-%u", sim.prefix, i);
      h->backoff_ms = RECONNECT_MS;
      h->switches_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      h->vlan_first = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
    }
  sim.loop = g_main_loop_new (NULL, FALSE);
  in = g_unix_input_stream_new (0, FALSE);
  sim.input = g_data_input_stream_new (in);
  g_unix_signal_add (SIGTERM, on_signal, &sim);
  g_unix_signal_add (SIGINT, on_signal, &sim);
  read_command (&sim);
  pump_connects (&sim);
  g_main_loop_run (sim.loop);

  g_cancellable_cancel (sim.cancel);
  for (guint i = 0; i < sim.n_hosts; i++)
    {
      SimHost *h = &sim.hosts[i];
      g_clear_handle_id (&h->heartbeat_id, g_source_remove);
      g_clear_handle_id (&h->retry_id, g_source_remove);
      if (h->peer)
        {
          DvsRpcPeer *peer = g_steal_pointer (&h->peer);
          dvs_rpc_peer_close (peer);
          dvs_rpc_peer_unref (peer);
        }
    }
  /* Let the cancelled reads and the closes run their callbacks. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  for (guint i = 0; i < sim.n_hosts; i++)
    {
      g_hash_table_unref (sim.hosts[i].switches_seen);
      g_hash_table_unref (sim.hosts[i].vlan_first);
      g_free (sim.hosts[i].name);
    }
  g_free (sim.hosts);
  g_object_unref (sim.input);
  g_object_unref (sim.cancel);
  g_main_loop_unref (sim.loop);
  g_free (sim.socket_path);
  g_free (sim.prefix);
  return 0;
}
