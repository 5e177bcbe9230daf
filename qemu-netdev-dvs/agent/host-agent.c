/* The host end of the host channel: connection life cycle (connect, TLS,
 * hello, heartbeats, back-off), the manager's methods, port.state. */
#define G_LOG_DOMAIN "dvs-agent"
#include "agent/host-agent.h"
#include "agent/host-status.h"

#include <gio/gunixsocketaddress.h>

#include "dvs-rpc-peer.h"
#include "dvs-tls.h"

/* Reconnect back-off (docs/host-channel.md). */
#define BACKOFF_MIN_MS 200
#define BACKOFF_MAX_MS 5000
/* Connecting plus the TLS handshake, and the answer to hello. */
#define ATTEMPT_TIMEOUT_MS 10000
#define HELLO_TIMEOUT_MS 10000
/* The heartbeat period the manager may ask for. */
#define HEARTBEAT_MIN_MS 100
#define HEARTBEAT_MAX_MS 3600000
#define MAX_LINE_SIZE (16 * 1024 * 1024)

struct _DvsHostAgent {
  DvsControl *control;
  gchar *address;                 /* as configured, for logs */
  gchar *host_name;
  gchar **uplinks;
  gchar **transport_zones;
  GSocketConnectable *connectable;
  gchar *server_name;             /* tls: the name the manager's cert must have */
  GTlsCertificate *identity;      /* tls: NULL for unix */
  GTlsDatabase *ca;

  GCancellable *attempt;          /* connect + TLS in progress */
  guint attempt_timer;
  guint retry_timer;
  guint backoff_ms;               /* the next retry's delay */
  gchar *last_failure;            /* repeated failures are logged once */

  DvsRpcPeer *peer;               /* from connect until the session ends */
  gboolean connected;             /* hello accepted */
  guint heartbeat_ms;
  guint heartbeat_timer;
  gboolean heartbeat_pending;
};

static void agent_connect (DvsHostAgent *agent);

static void
agent_log (DvsHostAgent *agent, GLogLevelFlags level, const gchar *format, ...)
  G_GNUC_PRINTF (3, 4);

static void
agent_log (DvsHostAgent *agent, GLogLevelFlags level, const gchar *format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_log_structured (G_LOG_DOMAIN, level, "MANAGER", agent->address,
                    "MESSAGE", "%s", message);
}

/* ---- what this host holds ---- */

/* PORT_STATE of DVport @key, with its link as @link ("up"/"down"; NULL:
 * as dvport.show says). */
static JsonObject *
port_state (DvsHostAgent *agent, const gchar *switch_id, const gchar *key,
            const gchar *link)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) show = dvs_dvport_host_show (agent->control->dvports, switch_id,
                                                    key, &error);
  JsonObject *so, *st;
  JsonNode *conn, *stats;

  if (show == NULL)
    {
      agent_log (agent, G_LOG_LEVEL_WARNING, "DVport %s of %s: no state to report: %s",
                 key, switch_id, error->message);
      return NULL;
    }
  so = json_node_get_object (show);
  st = json_object_new ();
  json_object_set_string_member (st, "switch", switch_id);
  json_object_set_string_member (st, "port", key);
  conn = json_object_get_member (so, "connection");
  if (conn != NULL && JSON_NODE_HOLDS_OBJECT (conn))
    json_object_set_string_member (st, "connection",
                                   json_object_get_string_member (json_node_get_object (conn),
                                                                  "id"));
  else
    json_object_set_null_member (st, "connection");
  json_object_set_string_member (st, "link",
                                 link != NULL ? link
                                 : json_object_get_string_member_with_default (so, "link",
                                                                               "down"));
  stats = json_object_get_member (so, "stats");
  if (stats != NULL)
    json_object_set_member (st, "stats", json_node_copy (stats));
  else
    json_object_set_object_member (st, "stats", json_object_new ());
  json_object_set_int_member (st, "time", g_get_real_time ());
  /* Not while the link is up: the checkpoint is older than the counters. */
  if (g_strcmp0 (json_object_get_string_member (st, "link"), "up") != 0)
    {
      JsonNode *cp = dvs_dvport_host_checkpoint (agent->control->dvports, switch_id, key);
      if (cp != NULL)
        json_object_set_member (st, "checkpoint", cp);
    }
  return st;
}

static JsonArray *
strv_array (gchar **strv)
{
  JsonArray *a = json_array_new ();

  for (gchar **s = strv; s != NULL && *s != NULL; s++)
    json_array_add_string_element (a, *s);
  return a;
}

/* The params of host.hello: who this host is and what it holds. */
static JsonObject *
hello_params (DvsHostAgent *agent)
{
  DvsDvportHost *h = agent->control->dvports;
  g_autoptr (JsonNode) list = dvs_dvport_host_list (h);
  JsonArray *switches = json_object_get_array_member (json_node_get_object (list), "switches");
  JsonObject *params = json_object_new ();
  JsonObject *digests = json_object_new ();
  JsonArray *ports = json_array_new ();

  for (guint i = 0; i < json_array_get_length (switches); i++)
    {
      const gchar *id = json_object_get_string_member (json_array_get_object_element (switches, i),
                                                       "id");
      g_autofree gchar *digest = dvs_dvport_host_switch_digest (h, id, NULL);
      g_autoptr (JsonNode) doc = dvs_dvport_host_describe (h, id, NULL);
      JsonArray *keys;

      if (digest == NULL || doc == NULL)
        continue;
      json_object_set_string_member (digests, id, digest);
      keys = json_object_get_array_member (json_node_get_object (doc), "ports");
      for (guint j = 0; j < json_array_get_length (keys); j++)
        {
          const gchar *key = json_object_get_string_member (json_array_get_object_element (keys, j),
                                                            "key");
          JsonObject *st = port_state (agent, id, key, NULL);
          if (st != NULL)
            json_array_add_object_element (ports, st);
        }
    }
  json_object_set_string_member (params, "host", agent->host_name);
  json_object_set_string_member (params, "version", DVS_VERSION);
  json_object_set_array_member (params, "uplinks", strv_array (agent->uplinks));
  json_object_set_array_member (params, "transport_zones",
                                strv_array (agent->transport_zones));
  json_object_set_object_member (params, "switches", digests);
  json_object_set_array_member (params, "ports", ports);
  return params;
}

/* ---- the manager's methods: the control socket's handlers ---- */

static JsonNode *
method_switch_apply (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
                     GError **error)
{
  DvsHostAgent *agent = user_data;

  return dvs_control_switch_apply (params, agent->control, error);
}

static JsonNode *
method_switch_remove (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
                      GError **error)
{
  DvsHostAgent *agent = user_data;

  return dvs_control_switch_remove (params, agent->control, error);
}

static JsonNode *
method_dvport_show (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
                    GError **error)
{
  DvsHostAgent *agent = user_data;

  return dvs_control_dvport_show (params, agent->control, error);
}

/* Exactly these: docs/host-channel.md, "Manager → host". */
static const DvsRpcPeerMethod agent_methods[] = {
  { "switch.apply", method_switch_apply },
  { "switch.remove", method_switch_remove },
  { "dvport.show", method_dvport_show },
  { NULL, NULL },
};

/* ---- connection life cycle ---- */

static gboolean
on_retry (gpointer user_data)
{
  DvsHostAgent *agent = user_data;

  agent->retry_timer = 0;
  agent_connect (agent);
  return G_SOURCE_REMOVE;
}

static void
schedule_retry (DvsHostAgent *agent)
{
  guint delay = agent->backoff_ms;

  g_clear_handle_id (&agent->retry_timer, g_source_remove);
  agent->backoff_ms = MIN (agent->backoff_ms * 2, BACKOFF_MAX_MS);
  agent->retry_timer = g_timeout_add (delay, on_retry, agent);
}

/* A connection attempt failed: logged (once while it keeps failing the
 * same way), retried after the back-off. */
static void
attempt_failed (DvsHostAgent *agent, const gchar *message)
{
  gboolean repeated = g_strcmp0 (agent->last_failure, message) == 0;

  agent_log (agent, repeated ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_WARNING,
             "%s; retrying in %u ms%s", message, agent->backoff_ms,
             repeated ? "" : " (and on, quietly, while it fails the same way)");
  g_free (agent->last_failure);
  agent->last_failure = g_strdup (message);
  schedule_retry (agent);
}

static void
stop_attempt (DvsHostAgent *agent)
{
  g_clear_handle_id (&agent->attempt_timer, g_source_remove);
  if (agent->attempt != NULL)
    {
      /* The callbacks see CANCELLED and leave the agent alone. */
      g_cancellable_cancel (agent->attempt);
      g_clear_object (&agent->attempt);
    }
}

/* Ends the session (if any) without its closed func acting on it. */
static void
drop_session (DvsHostAgent *agent)
{
  g_autoptr (DvsRpcPeer) peer = g_steal_pointer (&agent->peer);

  agent->connected = FALSE;
  agent->heartbeat_pending = FALSE;
  g_clear_handle_id (&agent->heartbeat_timer, g_source_remove);
  if (peer != NULL)
    dvs_rpc_peer_close (peer);
}

/* Ends the session after a failure on it and reconnects. */
static void
session_failed (DvsHostAgent *agent, const gchar *message)
{
  gboolean was_connected = agent->connected;

  drop_session (agent);
  if (was_connected)
    {
      agent_log (agent, G_LOG_LEVEL_WARNING, "disconnected from the manager: %s; "
                 "reconnecting in %u ms (forwarding goes on from the local store)",
                 message, agent->backoff_ms);
      g_clear_pointer (&agent->last_failure, g_free);
      schedule_retry (agent);
      return;
    }
  attempt_failed (agent, message);
}

static void
on_peer_closed (DvsRpcPeer *peer, const GError *reason, gpointer user_data)
{
  DvsHostAgent *agent = user_data;
  g_autofree gchar *message = NULL;

  if (peer != agent->peer)
    return;
  message = g_strdup_printf ("the connection ended (%s)",
                             reason != NULL ? reason->message : "closed here");
  session_failed (agent, message);
}

static void
on_heartbeat_reply (DvsRpcPeer *peer, JsonNode *result, const GError *error,
                    gpointer user_data)
{
  DvsHostAgent *agent = user_data;
  g_autofree gchar *message = NULL;

  if (peer != agent->peer)
    return;
  agent->heartbeat_pending = FALSE;
  if (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    return;   /* answered; or closing, which the closed func reports */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    message = g_strdup_printf ("the manager did not answer a heartbeat within %u ms",
                               agent->heartbeat_ms);
  else
    message = g_strdup_printf ("the manager refused a heartbeat: %s", error->message);
  session_failed (agent, message);
}

static gboolean
on_heartbeat_timer (gpointer user_data)
{
  DvsHostAgent *agent = user_data;
  JsonObject *params;

  if (agent->peer == NULL || agent->heartbeat_pending)
    return G_SOURCE_CONTINUE;
  agent->heartbeat_pending = TRUE;
  params = json_object_new ();
  json_object_set_object_member (params, "status",
                                 dvs_host_status_build (agent->control, agent->uplinks));
  dvs_rpc_peer_call (agent->peer, "host.heartbeat", params, agent->heartbeat_ms,
                     on_heartbeat_reply, agent);
  return G_SOURCE_CONTINUE;
}

static void
on_hello_reply (DvsRpcPeer *peer, JsonNode *result, const GError *error,
                gpointer user_data)
{
  DvsHostAgent *agent = user_data;
  JsonObject *obj;
  JsonNode *hb;
  const gchar *manager;
  gint64 heartbeat_ms;
  g_autofree gchar *message = NULL;

  if (peer != agent->peer)
    return;
  if (error != NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
        return;   /* the closed func reports it */
      message = g_strdup_printf ("the manager refused host.hello from host %s: %s",
                                 agent->host_name, error->message);
      session_failed (agent, message);
      return;
    }
  obj = JSON_NODE_HOLDS_OBJECT (result) ? json_node_get_object (result) : NULL;
  hb = obj != NULL ? json_object_get_member (obj, "heartbeat_ms") : NULL;
  if (hb == NULL || !JSON_NODE_HOLDS_VALUE (hb)
      || json_node_get_value_type (hb) != G_TYPE_INT64
      || (heartbeat_ms = json_node_get_int (hb)) < HEARTBEAT_MIN_MS
      || heartbeat_ms > HEARTBEAT_MAX_MS)
    {
      message = g_strdup_printf ("the manager's answer to host.hello has no valid "
                                 "heartbeat_ms (an integer from %d to %d)",
                                 HEARTBEAT_MIN_MS, HEARTBEAT_MAX_MS);
      session_failed (agent, message);
      return;
    }
  manager = json_object_get_string_member_with_default (obj, "manager", "dvsmgr");
  agent->connected = TRUE;
  agent->heartbeat_ms = (guint) heartbeat_ms;
  agent->backoff_ms = BACKOFF_MIN_MS;
  g_clear_pointer (&agent->last_failure, g_free);
  agent->heartbeat_timer = g_timeout_add (agent->heartbeat_ms, on_heartbeat_timer, agent);
  agent_log (agent, G_LOG_LEVEL_MESSAGE,
             "connected to manager %s at %s as host %s (heartbeat every %u ms)",
             manager, agent->address, agent->host_name, agent->heartbeat_ms);
}

/* Connected (and through TLS): hello. */
static void
start_session (DvsHostAgent *agent, GIOStream *stream)
{
  g_autofree gchar *description = g_strdup_printf ("manager %s", agent->address);

  stop_attempt (agent);
  agent->peer = dvs_rpc_peer_new (stream, description, agent_methods, agent, MAX_LINE_SIZE);
  dvs_rpc_peer_set_closed_func (agent->peer, on_peer_closed, agent);
  dvs_rpc_peer_start (agent->peer);
  agent_log (agent, G_LOG_LEVEL_DEBUG, "connection open, saying hello as host %s",
             agent->host_name);
  dvs_rpc_peer_call (agent->peer, "host.hello", hello_params (agent), HELLO_TIMEOUT_MS,
                     on_hello_reply, agent);
}

static void
on_tls_handshake (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GIOStream) stream = dvs_tls_client_handshake_finish (res, &error);
  DvsHostAgent *agent;
  g_autofree gchar *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;   /* stopped by whoever cancelled: the agent may be gone */
  agent = user_data;
  if (stream == NULL)
    {
      stop_attempt (agent);
      message = g_strdup_printf ("refused by TLS: %s", error->message);
      attempt_failed (agent, message);
      return;
    }
  start_session (agent, stream);
}

static void
on_connected (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) conn =
    g_socket_client_connect_finish (G_SOCKET_CLIENT (source), res, &error);
  DvsHostAgent *agent;
  g_autofree gchar *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  agent = user_data;
  if (conn == NULL)
    {
      stop_attempt (agent);
      message = g_strdup_printf ("cannot connect to the manager: %s", error->message);
      attempt_failed (agent, message);
      return;
    }
  if (agent->identity == NULL)
    {
      start_session (agent, G_IO_STREAM (conn));
      return;
    }
  dvs_tls_client_handshake_async (G_IO_STREAM (conn), agent->server_name, agent->identity,
                                  agent->ca, agent->attempt, on_tls_handshake, agent);
}

static gboolean
on_attempt_timeout (gpointer user_data)
{
  DvsHostAgent *agent = user_data;
  g_autofree gchar *message = NULL;

  agent->attempt_timer = 0;
  stop_attempt (agent);
  message = g_strdup_printf ("connecting to the manager took longer than %d ms",
                             ATTEMPT_TIMEOUT_MS);
  attempt_failed (agent, message);
  return G_SOURCE_REMOVE;
}

static void
agent_connect (DvsHostAgent *agent)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();

  agent->attempt = g_cancellable_new ();
  agent->attempt_timer = g_timeout_add (ATTEMPT_TIMEOUT_MS, on_attempt_timeout, agent);
  g_socket_client_connect_async (client, agent->connectable, agent->attempt, on_connected,
                                 agent);
}

/* ---- DVport link changes ---- */

static void
on_link (DvsDvportHost *h, const gchar *switch_id, const gchar *key, gboolean up,
         gpointer user_data)
{
  DvsHostAgent *agent = user_data;
  JsonObject *st;

  /* While disconnected the next hello carries every DVport's state. */
  if (!agent->connected)
    return;
  st = port_state (agent, switch_id, key, up ? "up" : "down");
  if (st != NULL)
    dvs_rpc_peer_notify (agent->peer, "port.state", st);
}

/* ---- live migration: dvport.migrate-in (docs/migration.md) ---- */

/* The manager checks placement and answers from its main loop: a second
 * or two at most even when it is busy. */
#define MIGRATE_TIMEOUT_MS 5000

typedef struct {
  DvsHostAgent *agent;
  DvsRpcReply *reply;
  gchar *port;
  gint64 start;
} MigrateCall;

static void
on_migrate_reply (DvsRpcPeer *peer, JsonNode *result, const GError *error, gpointer user_data)
{
  MigrateCall *call = user_data;
  DvsHostAgent *agent = call->agent;
  g_autoptr (GError) local = NULL;
  JsonNode *doc = NULL;

  if (error != NULL)
    g_set_error (&local, DVS_JSONRPC_ERROR,
                 error->domain == DVS_JSONRPC_ERROR && error->code == DVS_JSONRPC_REFUSED
                 ? DVS_JSONRPC_REFUSED : DVS_JSONRPC_UNAVAILABLE,
                 "the manager %s: %s",
                 error->domain == DVS_JSONRPC_ERROR && error->code == DVS_JSONRPC_REFUSED
                 ? "refused the migration" : "did not answer", error->message);
  else if (!JSON_NODE_HOLDS_OBJECT (result)
           || (doc = json_object_get_member (json_node_get_object (result), "switch")) == NULL)
    g_set_error (&local, DVS_JSONRPC_ERROR, DVS_JSONRPC_UNAVAILABLE,
                 "the manager's answer to port.migrate has no \"switch\" document");
  else
    {
      g_autoptr (JsonObject) params = json_object_new ();
      g_autoptr (JsonNode) applied = NULL;

      json_object_set_member (params, "switch", json_node_copy (doc));
      applied = dvs_control_switch_apply (params, agent->control, &local);
    }
  if (local != NULL)
    {
      agent_log (agent, G_LOG_LEVEL_WARNING, "DVport %s: live migration to this host refused: %s",
                 call->port, local->message);
      dvs_rpc_reply_return (call->reply, NULL, local);
    }
  else
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "port");
      json_builder_add_string_value (b, call->port);
      json_builder_set_member_name (b, "ms");
      json_builder_add_double_value (b, (g_get_monotonic_time () - call->start) / 1000.0);
      json_builder_end_object (b);
      agent_log (agent, G_LOG_LEVEL_MESSAGE, "DVport %s: the manager delegated it here for "
                 "a live migration", call->port);
      dvs_rpc_reply_return (call->reply, json_builder_get_root (b), NULL);
    }
  g_free (call->port);
  g_free (call);
}

static void
agent_migrate_in (gpointer data, const gchar *switch_id, const gchar *port,
                  const gchar *connection, DvsRpcReply *reply)
{
  DvsHostAgent *agent = data;
  JsonObject *params;
  MigrateCall *call;

  if (!agent->connected)
    {
      g_autoptr (GError) error =
        g_error_new (DVS_JSONRPC_ERROR, DVS_JSONRPC_UNAVAILABLE,
                     "this host is not connected to the manager at %s: a live migration "
                     "needs it to move DVport %s here", agent->address, port);
      dvs_rpc_reply_return (reply, NULL, error);
      return;
    }
  params = json_object_new ();
  json_object_set_string_member (params, "switch", switch_id);
  json_object_set_string_member (params, "port", port);
  json_object_set_string_member (params, "connection", connection);
  call = g_new0 (MigrateCall, 1);
  call->agent = agent;
  call->reply = reply;
  call->port = g_strdup (port);
  call->start = g_get_monotonic_time ();
  dvs_rpc_peer_call (agent->peer, "port.migrate", params, MIGRATE_TIMEOUT_MS,
                     on_migrate_reply, call);
}

/* ---- construction ---- */

static gboolean
parse_address (DvsHostAgent *agent, const DvsHostAgentOptions *opts, GError **error)
{
  const gchar *a = opts->address;

  if (g_str_has_prefix (a, "unix:") && g_path_is_absolute (a + 5))
    {
      agent->connectable = G_SOCKET_CONNECTABLE (g_unix_socket_address_new (a + 5));
      return TRUE;
    }
  if (g_str_has_prefix (a, "tls:") && a[4] != '\0')
    {
      g_autoptr (GError) local = NULL;

      agent->connectable = g_network_address_parse (a + 4, DVS_HOST_AGENT_DEFAULT_PORT,
                                                    &local);
      if (agent->connectable == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "manager address %s: %s", a, local->message);
          return FALSE;
        }
      agent->server_name =
        g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (agent->connectable)));
      if (opts->tls_cert == NULL || opts->tls_key == NULL || opts->tls_ca == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "manager address %s needs a certificate, its key and the CA "
                       "(--tls-cert, --tls-key, --tls-ca)", a);
          return FALSE;
        }
      agent->identity = dvs_tls_load_identity (opts->tls_cert, opts->tls_key, error);
      if (agent->identity == NULL)
        return FALSE;
      agent->ca = dvs_tls_load_ca (opts->tls_ca, error);
      return agent->ca != NULL;
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "manager address '%s' must be unix:/ABSOLUTE/PATH or tls:HOST[:PORT]", a);
  return FALSE;
}

DvsHostAgent *
dvs_host_agent_new (const DvsHostAgentOptions *opts, DvsControl *control, GError **error)
{
  g_autoptr (DvsHostAgent) agent = g_new0 (DvsHostAgent, 1);

  agent->control = control;
  agent->address = g_strdup (opts->address);
  agent->host_name = g_strdup (opts->host_name != NULL ? opts->host_name : g_get_host_name ());
  agent->uplinks = g_strdupv ((gchar **) opts->uplinks);
  agent->transport_zones = g_strdupv ((gchar **) opts->transport_zones);
  agent->backoff_ms = BACKOFF_MIN_MS;
  if (!parse_address (agent, opts, error))
    return NULL;
  dvs_dvport_host_set_link_func (control->dvports, on_link, agent);
  control->migrate_in = agent_migrate_in;
  control->migrate_in_data = agent;
  agent_log (agent, G_LOG_LEVEL_INFO, "connecting to the manager at %s as host %s",
             agent->address, agent->host_name);
  agent_connect (agent);
  return g_steal_pointer (&agent);
}

void
dvs_host_agent_free (DvsHostAgent *agent)
{
  if (agent == NULL)
    return;
  if (agent->connectable != NULL)
    {
      dvs_dvport_host_set_link_func (agent->control->dvports, NULL, NULL);
      agent->control->migrate_in = NULL;
      agent->control->migrate_in_data = NULL;
    }
  stop_attempt (agent);
  g_clear_handle_id (&agent->retry_timer, g_source_remove);
  drop_session (agent);
  g_clear_object (&agent->connectable);
  g_clear_object (&agent->identity);
  g_clear_object (&agent->ca);
  g_free (agent->server_name);
  g_free (agent->last_failure);
  g_free (agent->address);
  g_free (agent->host_name);
  g_strfreev (agent->uplinks);
  g_strfreev (agent->transport_zones);
  g_free (agent);
}

gboolean
dvs_host_agent_is_connected (DvsHostAgent *agent)
{
  return agent != NULL && agent->connected;
}
