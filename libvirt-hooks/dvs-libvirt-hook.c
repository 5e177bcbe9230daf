/* dvs-libvirt-hook: libvirt's qemu hook for DVS (docs/libvirt.md).
 *
 * Installed as /etc/libvirt/hooks/qemu.d/dvs.  libvirtd runs it as
 *   dvs DOMAIN OPERATION SUB-OPERATION EXTRA
 * with the domain's XML on standard input.  The hook finds the domain's
 * vNICs that are connected to DVports (dvs-domain-xml.h), tells the local
 * dvs-switchd over its control socket to attach or detach them, and
 * returns.  It never calls back into libvirt (that deadlocks) and never
 * writes to standard output (for `migrate` and `restore`, libvirt would
 * take what it writes as the domain's new XML).
 *
 * Exit status: 0, or 1 to refuse the operation (libvirt shows the message
 * on standard error).  Operations that start a guest fail closed: without
 * its DVport the vNIC would have no network, and QEMU would wait forever
 * for the back-end.  Operations that end one fail open: the guest is gone
 * either way, a warning is enough. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixinputstream.h>

#include "dvs-domain-xml.h"
#include "dvs-rpc-client.h"

#ifndef DVS_HOOK_CONF
#define DVS_HOOK_CONF "/etc/dvs/libvirt-hook.conf"
#endif
#define DEFAULT_CONTROL_SOCKET "/run/dvs/dvs0/control.sock"
#define DEFAULT_TIMEOUT_MS 2000
#define MIN_TIMEOUT_MS 100
#define MAX_TIMEOUT_MS 30000
/* While a DVport is not on the switch yet (the manager's push is on its
 * way), an attach is retried this often within the timeout. */
#define NOT_YET_RETRY_MS 100
/* migrate: the switch asks the manager, which answers within 4 s. */
#define MIGRATE_TIMEOUT_MS 6000

typedef enum {
  ACTION_NONE,
  ACTION_ATTACH,
  ACTION_DETACH,
  ACTION_MIGRATE_IN,
} HookAction;

/* What each libvirt operation means here.  Operations not listed
 * (started, attach, ...) need nothing. */
typedef struct {
  const gchar *operation;
  HookAction action;
  gboolean fail_closed;     /* a failure refuses the operation */
  gboolean make_socket_dir; /* QEMU is about to create the socket */
} HookOperation;

static const HookOperation operations[] = {
  { "prepare", ACTION_ATTACH, TRUE, TRUE },
  { "start", ACTION_ATTACH, TRUE, TRUE },
  { "restore", ACTION_ATTACH, TRUE, TRUE },
  { "reconnect", ACTION_ATTACH, FALSE, FALSE },
  { "stopped", ACTION_DETACH, FALSE, FALSE },
  { "release", ACTION_DETACH, FALSE, FALSE },
  { "migrate", ACTION_MIGRATE_IN, TRUE, FALSE },
};

typedef struct {
  gchar *control_socket;  /* from the config file; NULL: none there */
  guint timeout_ms;
} HookConfig;

typedef struct {
  const gchar *domain;
  const gchar *operation;   /* as libvirt named it */
  const HookOperation *op;
  HookConfig config;
} Hook;

static void
hook_clear (Hook *hook)
{
  g_clear_pointer (&hook->config.control_socket, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Hook, hook_clear)

/* One line to syslog and, for warnings and errors, to standard error
 * (where libvirt shows it). */
static void hook_log (const Hook *hook, int priority, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
hook_log (const Hook *hook, int priority, const gchar *format, ...)
{
  g_autofree gchar *text = NULL;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  syslog (priority, "domain %s, %s: %s", hook->domain, hook->operation,
          text);
  if (priority <= LOG_WARNING)
    fprintf (stderr, "dvs hook: domain %s, %s: %s%s\n", hook->domain,
             hook->operation, priority <= LOG_ERR ? "" : "warning: ",
             text);
}

/* The config file, if there is one.  DVS_LIBVIRT_HOOK_CONF names another
 * (tests, manual runs: libvirtd clears the environment of hooks). */
static gboolean
load_config (HookConfig *config, GError **error)
{
  const gchar *path = g_getenv ("DVS_LIBVIRT_HOOK_CONF");
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree gchar *socket = NULL;

  if (path == NULL || *path == '\0')
    path = DVS_HOOK_CONF;
  config->timeout_ms = DEFAULT_TIMEOUT_MS;
  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_set_error (error, local_error->domain, local_error->code,
                   "cannot read %s: %s", path, local_error->message);
      return FALSE;
    }
  socket = g_key_file_get_string (file, "hook", "control-socket", NULL);
  if (socket != NULL)
    {
      g_strstrip (socket);
      if (!g_path_is_absolute (socket))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: control-socket must be an absolute path, not "
                       "\"%s\"", path, socket);
          return FALSE;
        }
      config->control_socket = g_steal_pointer (&socket);
    }
  if (g_key_file_has_key (file, "hook", "timeout-ms", NULL))
    {
      gint64 ms = g_key_file_get_int64 (file, "hook", "timeout-ms",
                                        &local_error);

      if (local_error != NULL || ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: timeout-ms must be a number of milliseconds from "
                       "%d to %d", path, MIN_TIMEOUT_MS, MAX_TIMEOUT_MS);
          return FALSE;
        }
      config->timeout_ms = (guint) ms;
    }
  return TRUE;
}

/* The switch a vNIC's DVport lives on: the metadata's control-socket, else
 * the config file's, else $DVS_CONTROL_SOCKET, else dvs0's. */
static const gchar *
control_socket_of (const Hook *hook, const DvsDomainVnic *vnic)
{
  const gchar *env = g_getenv ("DVS_CONTROL_SOCKET");

  if (vnic->control_socket != NULL)
    return vnic->control_socket;
  if (hook->config.control_socket != NULL)
    return hook->config.control_socket;
  if (env != NULL && g_path_is_absolute (env))
    return env;
  return DEFAULT_CONTROL_SOCKET;
}

/* All of standard input, NUL-terminated (an empty input is "", never
 * NULL: a memory stream that was given no bytes has no buffer to steal). */
static gchar *
read_stdin (gsize *length, GError **error)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  gssize size = g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_NONE,
                                        NULL, error);

  if (size < 0
      || !g_output_stream_write_all (out, "", 1, NULL, NULL, error)
      || !g_output_stream_close (out, NULL, error))
    return NULL;
  *length = (gsize) size;
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
}

static JsonObject *
port_params (const DvsDomainVnic *vnic)
{
  JsonObject *params = json_object_new ();

  json_object_set_string_member (params, "switch", vnic->switch_id);
  json_object_set_string_member (params, "port", vnic->port);
  return params;
}

/* What a switch's refusal means for the operator. */
static const gchar *
refusal_hint (const GError *error)
{
  if (error->domain != DVS_JSONRPC_ERROR)
    return "";
  switch (error->code)
    {
    case DVS_JSONRPC_NO_SUCH_PORT:
      return " (the DVport is not delegated to this host: it is connected "
             "to another host, or the manager's push has not arrived; see "
             "'dvsctl port show KEY' and 'dvsctl sync')";
    case DVS_JSONRPC_CONNECTION_REFUSED:
      return " (the connection ID in the domain's metadata is no longer the "
             "DVport's: it was revoked or connected again; attach the domain "
             "again with 'dvsctl vm detach' and 'dvsctl vm attach')";
    case DVS_JSONRPC_EXISTS:
      return " (another vNIC is attached to this DVport)";
    default:
      return "";
    }
}

static gdouble
ms_since (gint64 start)
{
  return (gdouble) (g_get_monotonic_time () - start) / 1000.0;
}

static gboolean
attach (Hook *hook, const DvsDomainVnic *vnic, GError **error)
{
  const gchar *path = control_socket_of (hook, vnic);
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + (gint64) hook->config.timeout_ms * 1000;
  g_autoptr(DvsRpcClient) client = NULL;

  if (hook->op->make_socket_dir)
    {
      g_autofree gchar *dir = g_path_get_dirname (vnic->socket);

      if (g_mkdir_with_parents (dir, 0755) != 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "cannot create %s, the directory of the vhost-user "
                       "socket of vNIC %s: %s", dir, vnic->mac,
                       g_strerror (saved));
          return FALSE;
        }
    }
  client = dvs_rpc_client_new (path, hook->config.timeout_ms, error);
  if (client == NULL)
    {
      g_prefix_error (error, "cannot attach vNIC %s to DVport %s: ",
                      vnic->mac, vnic->port);
      return FALSE;
    }
  for (;;)
    {
      g_autoptr(JsonObject) params = port_params (vnic);
      g_autoptr(JsonNode) result = NULL;
      g_autoptr(GError) local_error = NULL;

      json_object_set_string_member (params, "connection", vnic->connection);
      json_object_set_string_member (params, "socket", vnic->socket);
      json_object_set_string_member (params, "mode", "client");
      result = dvs_rpc_client_call (client, "dvport.attach",
                                    g_steal_pointer (&params), &local_error);
      if (result != NULL)
        break;
      if (g_error_matches (local_error, DVS_JSONRPC_ERROR,
                           DVS_JSONRPC_NO_SUCH_PORT)
          && g_get_monotonic_time () + NOT_YET_RETRY_MS * 1000 < deadline)
        {
          g_usleep (NOT_YET_RETRY_MS * 1000);
          continue;
        }
      g_set_error (error, local_error->domain, local_error->code,
                   "cannot attach vNIC %s to DVport %s of switch %s on %s: "
                   "%s%s", vnic->mac, vnic->port, vnic->switch_id, path,
                   local_error->message, refusal_hint (local_error));
      return FALSE;
    }
  hook_log (hook, LOG_INFO, "vNIC %s attached to DVport %s (socket %s) in "
            "%.1f ms", vnic->mac, vnic->port, vnic->socket, ms_since (start));
  return TRUE;
}

/* dvport.show of the vNIC's DVport, or NULL. */
static JsonObject *
show (DvsRpcClient *client, const DvsDomainVnic *vnic, GError **error)
{
  g_autoptr(JsonNode) result = dvs_rpc_client_call (client, "dvport.show",
                                                    port_params (vnic), error);

  if (result == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (result))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "dvport.show answered something that is not an object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (result));
}

/* Detaches the vNIC if the switch has it attached with this domain's
 * socket: a DVport since given to another vNIC is left alone. */
static gboolean
detach (Hook *hook, const DvsDomainVnic *vnic, GError **error)
{
  const gchar *path = control_socket_of (hook, vnic);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(DvsRpcClient) client = dvs_rpc_client_new (
      path, hook->config.timeout_ms, error);
  g_autoptr(JsonObject) state = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) local_error = NULL;

  if (client == NULL)
    {
      g_prefix_error (error, "cannot detach vNIC %s from DVport %s: ",
                      vnic->mac, vnic->port);
      return FALSE;
    }
  state = show (client, vnic, &local_error);
  if (state == NULL
      && g_error_matches (local_error, DVS_JSONRPC_ERROR,
                          DVS_JSONRPC_NO_SUCH_PORT))
    {
      /* Gone from this host: it migrated away, or was moved or revoked. */
      hook_log (hook, LOG_INFO, "vNIC %s: DVport %s is no longer on this "
                "host, nothing to detach", vnic->mac, vnic->port);
      return TRUE;
    }
  if (state == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "cannot detach vNIC %s from DVport %s on "
                                  "%s: ", vnic->mac, vnic->port, path);
      return FALSE;
    }
  if (!json_object_get_boolean_member_with_default (state, "attached", FALSE)
      || g_strcmp0 (json_object_get_string_member_with_default (state,
                                                                "socket", NULL),
                    vnic->socket) != 0)
    {
      hook_log (hook, LOG_INFO, "vNIC %s: DVport %s is not attached to this "
                "domain's socket, nothing to detach", vnic->mac, vnic->port);
      return TRUE;
    }
  result = dvs_rpc_client_call (client, "dvport.detach", port_params (vnic),
                                error);
  if (result == NULL)
    {
      g_prefix_error (error, "cannot detach vNIC %s from DVport %s on %s: ",
                      vnic->mac, vnic->port, path);
      return FALSE;
    }
  hook_log (hook, LOG_INFO, "vNIC %s detached from DVport %s in %.1f ms",
            vnic->mac, vnic->port, ms_since (start));
  return TRUE;
}

/* The destination of a live migration (libvirt runs `migrate begin` on
 * it, before anything moves): asks the local switch to have the manager
 * delegate the DVport here (dvport.migrate-in).  The manager runs the
 * placement check — DVswitch and network present, switch healthy, a free
 * port, the connection ID current — and its refusal, with each reason,
 * ends the migration here with the message on the user's terminal. */
static gboolean
migrate_in (Hook *hook, const DvsDomainVnic *vnic, GError **error)
{
  const gchar *path = control_socket_of (hook, vnic);
  gint64 start = g_get_monotonic_time ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(DvsRpcClient) client = dvs_rpc_client_new (
      path, MAX (hook->config.timeout_ms, MIGRATE_TIMEOUT_MS), &local_error);
  g_autoptr(JsonNode) result = NULL;
  JsonObject *params;

  if (client != NULL)
    {
      params = port_params (vnic);
      json_object_set_string_member (params, "connection", vnic->connection);
      result = dvs_rpc_client_call (client, "dvport.migrate-in", params,
                                    &local_error);
    }
  if (result == NULL)
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "live migration refused for vNIC %s (DVport %s of switch "
                   "%s): %s", vnic->mac, vnic->port, vnic->switch_id,
                   local_error->message);
      return FALSE;
    }
  hook_log (hook, LOG_INFO, "vNIC %s: DVport %s delegated here for the "
            "migration in %.1f ms", vnic->mac, vnic->port, ms_since (start));
  return TRUE;
}

static gboolean
run_action (Hook *hook, const DvsDomainVnic *vnic, GError **error)
{
  switch (hook->op->action)
    {
    case ACTION_ATTACH:
      return attach (hook, vnic, error);
    case ACTION_DETACH:
      return detach (hook, vnic, error);
    case ACTION_MIGRATE_IN:
      return migrate_in (hook, vnic, error);
    case ACTION_NONE:
    default:
      return TRUE;
    }
}

static const HookOperation *
find_operation (const gchar *name)
{
  static const HookOperation none = { NULL, ACTION_NONE, FALSE, FALSE };

  for (gsize i = 0; i < G_N_ELEMENTS (operations); i++)
    if (g_str_equal (operations[i].operation, name))
      return &operations[i];
  return &none;
}

/* Reads the XML and runs the operation on every DVS vNIC.  A failure of a
 * fail-open operation is logged here and the others still run. */
static gboolean
run (Hook *hook, GError **error)
{
  g_autoptr(GError) config_error = NULL;
  g_autofree gchar *xml = NULL;
  g_autoptr(GPtrArray) vnics = NULL;
  xmlDocPtr doc;
  gsize length = 0;

  /* Read all of it even when there is nothing to do: libvirt writes it. */
  xml = read_stdin (&length, error);
  if (xml == NULL)
    {
      g_prefix_error (error, "cannot read the domain XML on standard input: ");
      return FALSE;
    }
  if (hook->op->action == ACTION_NONE
      || strstr (xml, DVS_DOMAIN_XML_NS) == NULL)
    return TRUE;

  doc = dvs_domain_xml_parse (xml, length, error);
  if (doc == NULL)
    return FALSE;
  vnics = dvs_domain_xml_vnics (doc, error);
  xmlFreeDoc (doc);
  if (vnics == NULL)
    return FALSE;
  if (!load_config (&hook->config, &config_error))
    {
      if (hook->op->fail_closed)
        {
          g_propagate_error (error, g_steal_pointer (&config_error));
          return FALSE;
        }
      hook_log (hook, LOG_WARNING, "%s; using the defaults",
                config_error->message);
      hook->config.timeout_ms = DEFAULT_TIMEOUT_MS;
    }

  for (guint i = 0; i < vnics->len; i++)
    {
      const DvsDomainVnic *vnic = vnics->pdata[i];
      g_autoptr(GError) local_error = NULL;

      if (!vnic->has_interface)
        local_error = g_error_new (DVS_DOMAIN_XML_ERROR,
                                   DVS_DOMAIN_XML_ERROR_INVALID,
                                   "the metadata connects vNIC %s to DVport "
                                   "%s, but the domain has no "
                                   "<interface type='vhostuser'> with that "
                                   "MAC", vnic->mac, vnic->port);
      else if (run_action (hook, vnic, &local_error))
        continue;
      if (hook->op->fail_closed)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      hook_log (hook, LOG_WARNING, "%s", local_error->message);
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_auto(Hook) hook = { 0 };
  g_autoptr(GError) error = NULL;

  setlocale (LC_ALL, "");
  openlog ("dvs-libvirt-hook", LOG_PID, LOG_DAEMON);
  if (argc < 3)
    {
      fprintf (stderr, "usage: %s DOMAIN OPERATION SUB-OPERATION [EXTRA] "
               "< DOMAIN-XML\n(libvirt's qemu hook; see docs/libvirt.md)\n",
               argv[0]);
      return 1;
    }
  hook.domain = argv[1];
  hook.operation = argv[2];
  hook.op = find_operation (argv[2]);
  if (!run (&hook, &error))
    {
      /* Every failure path sets @error; should one ever not, still say
       * something instead of reading a NULL error. */
      if (error == NULL)
        g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED,
                             "failed without a reason (a bug: please report it)");
      if (hook.op->action == ACTION_NONE || !hook.op->fail_closed)
        {
          hook_log (&hook, LOG_WARNING, "%s", error->message);
          return 0;
        }
      hook_log (&hook, LOG_ERR, "%s", error->message);
      return 1;
    }
  return 0;
}
