/* dvsmgr: the management plane (docs/dvsmgr.md).  Options, start-up order
 * (store → model → push engine → host channel → D-Bus objects → bus name),
 * and a clean stop on SIGTERM/SIGINT. */
#define G_LOG_DOMAIN "dvsmgr"

#include <glib-unix.h>
#include <stdlib.h>
#include "core/mgr.h"
#include "core/mgr-metrics.h"
#include "dvs-log.h"
#include "placement/placement.h"
#include "snapshot/snapshot.h"

typedef struct {
  gchar *bus;
  gchar *store;
  gchar *snapshot_dir;
  gchar *host_socket;
  gchar *host_listen;
  gchar *tls_cert, *tls_key, *tls_ca;
  gchar *authorization;
  gchar *log_format;
  gchar *metrics_listen;
  gint heartbeat_ms, push_timeout_ms, retry_ms, max_inflight;
  gint libvirt_refresh_ms;
  gboolean verbose, version;
} Options;

typedef struct {
  GMainLoop *loop;
  gint status;
} Run;

static gboolean
on_signal (gpointer data)
{
  Run *run = data;

  g_info ("stopping on signal");
  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_name_acquired (GDBusConnection *bus, const gchar *name, gpointer data)
{
  g_info ("ready: %s on the bus", name);
}

static void
on_name_lost (GDBusConnection *bus, const gchar *name, gpointer data)
{
  Run *run = data;

  g_critical ("cannot own (or lost) the bus name %s: another dvsmgr may be running, or the "
              "bus policy (net.dvsqemu.Manager1.conf) does not allow this user to own it", name);
  run->status = 1;
  g_main_loop_quit (run->loop);
}

static GDBusConnection *
connect_bus (const gchar *bus, GError **error)
{
  if (g_str_equal (bus, "system"))
    return g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  if (g_str_equal (bus, "session"))
    return g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  return g_dbus_connection_new_for_address_sync (bus,
           G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
           | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION, NULL, NULL, error);
}

static gboolean
parse_options (Options *o, int *argc, char ***argv, GError **error)
{
  GOptionEntry entries[] = {
    { "bus", 0, 0, G_OPTION_ARG_STRING, &o->bus,
      "The bus to serve on: system (default), session, or a D-Bus address", "BUS" },
    { "store", 0, 0, G_OPTION_ARG_STRING, &o->store,
      "The store: a SQLite file (default /var/lib/dvsmgr/dvsmgr.db)", "PATH" },
    { "snapshot-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->snapshot_dir,
      "Where saved versions of each switch go (default /var/lib/dvsmgr/snapshots; 'none': no history)",
      "DIR" },
    { "host-socket", 0, 0, G_OPTION_ARG_STRING, &o->host_socket,
      "Host channel unix socket (default /run/dvs/dvsmgr-hosts.sock; 'none': off)", "PATH" },
    { "host-listen", 0, 0, G_OPTION_ARG_STRING, &o->host_listen,
      "Host channel over TCP with mutual TLS on ADDRESS[:PORT] (port 6524 by default)", "ADDRESS" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_cert, "The manager's certificate (PEM)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_key, "Its private key (PEM)", "FILE" },
    { "tls-ca", 0, 0, G_OPTION_ARG_FILENAME, &o->tls_ca,
      "The CA that signs host certificates (PEM)", "FILE" },
    { "libvirt-refresh-ms", 0, 0, G_OPTION_ARG_INT, &o->libvirt_refresh_ms,
      "How often to read each host's libvirt node info and domains (default 5000)", "MS" },
    { "heartbeat-ms", 0, 0, G_OPTION_ARG_INT, &o->heartbeat_ms,
      "Host heartbeat interval; 3 missed close the connection (default 2000)", "MS" },
    { "push-timeout-ms", 0, 0, G_OPTION_ARG_INT, &o->push_timeout_ms,
      "How long a push may take before it counts as failed (default 10000)", "MS" },
    { "retry-interval-ms", 0, 0, G_OPTION_ARG_INT, &o->retry_ms,
      "How often the re-push and rip queues are retried (default 5000)", "MS" },
    { "max-inflight", 0, 0, G_OPTION_ARG_INT, &o->max_inflight,
      "Pushes in flight at once across all hosts (default 256)", "N" },
    { "authorization", 0, 0, G_OPTION_ARG_STRING, &o->authorization,
      "polkit (default), or none: anyone on the bus may change anything (tests, demos)", "MODE" },
    { "metrics-listen", 0, 0, G_OPTION_ARG_STRING, &o->metrics_listen,
      "Serve Prometheus metrics on GET /metrics at this address, read-only and without authentication: bind to loopback (default: off)",
      "IP:PORT" },
    { "log-format", 0, 0, G_OPTION_ARG_STRING, &o->log_format, "text (default) or json", "FORMAT" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &o->verbose, "Debug logs", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o->version, "Print the version and exit", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- the DVS management plane");

  g_option_context_set_summary (ctx,
    "dvsmgr holds the DVswitches, port groups, DVports, hosts and logical networks,\n"
    "serves them on D-Bus as net.dvsqemu.Manager1, and pushes to each dvs-switchd\n"
    "host the final state it must hold over the host channel.");
  g_option_context_set_description (ctx, "See docs/dvsmgr.md, docs/dbus-api.md and docs/host-channel.md.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument '%s'", (*argv)[1]);
      return FALSE;
    }
  if (o->authorization && !g_str_equal (o->authorization, "polkit") && !g_str_equal (o->authorization, "none"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--authorization must be polkit or none");
      return FALSE;
    }
  if ((o->tls_cert || o->tls_key || o->tls_ca) && !o->host_listen)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--tls-cert, --tls-key and --tls-ca go with --host-listen (the TLS host channel)");
      return FALSE;
    }
  if (o->heartbeat_ms < 0 || o->push_timeout_ms < 0 || o->retry_ms < 0 || o->max_inflight < 0
      || (o->heartbeat_ms && o->heartbeat_ms < 100))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "intervals must be positive (heartbeat at least 100 ms)");
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Options o = { 0 };
  g_autoptr (GError) error = NULL;
  DvsLogFormat format = DVS_LOG_FORMAT_TEXT;
  g_autoptr (DvsMgrStore) store = NULL;
  g_autoptr (GDBusConnection) bus = NULL;
  DvsMgr *mgr;
  MgrHostsConfig hc = { 0 };
  g_autoptr (DvsMetricsServer) metrics = NULL;
  Run run = { NULL, 0 };
  guint owner;

  if (!parse_options (&o, &argc, &argv, &error)
      || (o.log_format && !dvs_log_format_parse (o.log_format, &format, &error)))
    {
      g_printerr ("dvsmgr: %s (see --help)\n", error->message);
      return 2;
    }
  if (o.version)
    {
      g_print ("dvsmgr %s\n", DVS_VERSION);
      return 0;
    }
  dvs_log_init ("dvsmgr", format, o.verbose);
  store = dvs_mgr_store_open (o.store ? o.store : "/var/lib/dvsmgr/dvsmgr.db", &error);
  if (store == NULL)
    {
      g_critical ("cannot open the store: %s", error->message);
      return 1;
    }
  mgr = dvs_mgr_new (store, &error);
  if (mgr == NULL)
    {
      g_critical ("cannot load the store: %s", error->message);
      return 1;
    }
  mgr->polkit = !(o.authorization && g_str_equal (o.authorization, "none"));
  if (!(o.snapshot_dir && g_str_equal (o.snapshot_dir, "none")))
    mgr->history = dvs_snapshot_history_new (o.snapshot_dir ? o.snapshot_dir
                                             : "/var/lib/dvsmgr/snapshots");
  if (!mgr->polkit)
    g_warning ("--authorization=none: every caller on the bus may change everything");
  mgr->push = mgr_push_new (mgr, o.retry_ms, o.push_timeout_ms, o.max_inflight);
  hc.unix_path = o.host_socket && g_str_equal (o.host_socket, "none") ? NULL
               : o.host_socket ? o.host_socket : "/run/dvs/dvsmgr-hosts.sock";
  hc.tls_listen = o.host_listen;
  hc.tls_cert = o.tls_cert;
  hc.tls_key = o.tls_key;
  hc.tls_ca = o.tls_ca;
  hc.heartbeat_ms = (guint) o.heartbeat_ms;
  mgr->host_server = mgr_hosts_new (mgr, &hc, &error);
  if (mgr->host_server == NULL)
    {
      g_critical ("cannot start the host channel: %s", error->message);
      return 1;
    }
  if (o.metrics_listen != NULL && *o.metrics_listen != '\0')
    {
      metrics = dvs_metrics_server_new (o.metrics_listen, dvs_mgr_metrics_collect, mgr, &error);
      if (metrics == NULL)
        {
          g_critical ("cannot serve metrics: %s", error->message);
          return 1;
        }
      g_info ("metrics on http://%s/metrics (port %u)", o.metrics_listen,
              dvs_metrics_server_port (metrics));
    }
  bus = connect_bus (o.bus ? o.bus : "system", &error);
  if (bus == NULL)
    {
      g_critical ("cannot connect to the %s bus: %s", o.bus ? o.bus : "system", error->message);
      return 1;
    }
  dvs_mgr_dbus_export (mgr, bus);
  dvs_mgr_placement_start (mgr, 2000);
  dvs_mgr_libvirt_start (mgr, o.libvirt_refresh_ms > 0 ? (guint) o.libvirt_refresh_ms : 5000);
  run.loop = g_main_loop_new (NULL, FALSE);
  owner = g_bus_own_name_on_connection (bus, DVS_MGR_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
                                        on_name_acquired, on_name_lost, &run, NULL);
  g_unix_signal_add (SIGTERM, on_signal, &run);
  g_unix_signal_add (SIGINT, on_signal, &run);
  g_main_loop_run (run.loop);
  g_bus_unown_name (owner);
  g_clear_pointer (&metrics, dvs_metrics_server_free);
  dvs_mgr_snapshot_stop (mgr);
  g_clear_pointer (&mgr->history, dvs_snapshot_history_free);
  mgr_hosts_free (mgr->host_server);
  mgr->host_server = NULL;
  mgr_push_free (mgr->push);
  mgr->push = NULL;
  g_dbus_connection_flush_sync (bus, NULL, NULL);
  dvs_mgr_free (mgr);
  g_main_loop_unref (run.loop);
  return run.status;
}
