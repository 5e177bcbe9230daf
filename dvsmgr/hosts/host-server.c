/* The manager's end of the host channel (docs/host-channel.md): listeners on
 * a unix socket and on TCP with mutual TLS, one DvsRpcPeer per connection,
 * authentication at host.hello, heartbeats, and the host's reports.
 *
 * Who a host is: over TLS, the CN of the client certificate the CA signed
 * (hello must name the same host); over the unix socket, whoever local root
 * (or the manager's own user) says it is — the socket is 0600 and the peer's
 * uid is checked.  Either way the host must be registered.  Before its hello
 * a connection can do nothing else, and is dropped after 10 s. */
#define G_LOG_DOMAIN "dvsmgr-hosts"

#include "core/mgr.h"
#include "core/mgr-json.h"
#include "placement/placement.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include "dvs-log.h"
#include "dvs-tls.h"

#define HOST_CHANNEL_MAX_LINE (16 * 1024 * 1024)
#define HELLO_TIMEOUT_MS 10000

struct _MgrHosts {
  DvsMgr *mgr;
  GSocketService *unix_service, *tls_service;
  gchar *unix_path;
  GTlsCertificate *identity;
  GTlsDatabase *ca;
  guint heartbeat_ms;
  GHashTable *conns;       /* HostConn set (owned) */
};

typedef struct {
  MgrHosts *hosts;
  DvsRpcPeer *peer;
  gchar *transport;        /* "unix", "tls" */
  gchar *address;
  gchar *cert_cn;          /* TLS only */
  MgrHost *host;           /* after hello */
  gint64 last_seen;        /* monotonic */
  guint watchdog_id;
} HostConn;

static gboolean
not_authenticated (GError **error, const gchar *why)
{
  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NOT_AUTHENTICATED, "%s", why);
  return FALSE;
}

static gboolean
close_peer (gpointer peer)
{
  dvs_rpc_peer_close (peer);
  return G_SOURCE_REMOVE;
}

static void
conn_close_later (HostConn *c)
{
  /* Let the error reply go out first. */
  g_timeout_add_full (G_PRIORITY_LOW, 100, close_peer, dvs_rpc_peer_ref (c->peer),
                      (GDestroyNotify) dvs_rpc_peer_unref);
}

static gboolean
strv_param (JsonObject *params, const gchar *name, GPtrArray **out, GError **error)
{
  JsonNode *n = json_object_get_member (params, name);
  GPtrArray *a;

  *out = NULL;
  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (json_node_get_array (n)) > 256)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "%s must be an array of at most 256 strings", name);
      return FALSE;
    }
  a = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (n), i);
      if (json_node_get_value_type (e) != G_TYPE_STRING || strlen (json_node_get_string (e)) > 64)
        {
          g_ptr_array_unref (a);
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                       "%s[%u] must be a string of at most 64 characters", name, i);
          return FALSE;
        }
      g_ptr_array_add (a, g_strdup (json_node_get_string (e)));
    }
  *out = a;
  return TRUE;
}

static JsonNode *
on_hello (DvsRpcPeer *peer, JsonObject *params, gpointer data, GError **error)
{
  static const gchar *const allowed[] = { "host", "version", "uplinks", "transport_zones",
                                          "switches", "ports", NULL };
  HostConn *c = data;
  DvsMgr *mgr = c->hosts->mgr;
  const gchar *name = NULL, *version = NULL;
  g_autoptr (GPtrArray) uplinks = NULL, tzs = NULL;
  JsonNode *switches, *ports;
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (JsonNode) rec = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *desc = NULL;
  MgrHost *h;

  if (c->host)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_REQUEST,
                   "host.hello was said already on this connection");
      return NULL;
    }
  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "host", &name, error)
      || !dvs_jsonrpc_param_string_opt (params, "version", &version, error)
      || !strv_param (params, "uplinks", &uplinks, error)
      || !strv_param (params, "transport_zones", &tzs, error))
    return NULL;
  switches = json_object_get_member (params, "switches");
  ports = json_object_get_member (params, "ports");
  if ((switches && !JSON_NODE_HOLDS_OBJECT (switches)) || (ports && !JSON_NODE_HOLDS_ARRAY (ports)))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "switches must be an object {id: digest} and ports an array");
      return NULL;
    }
  if (c->cert_cn && g_strcmp0 (c->cert_cn, name) != 0)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "HOST", name, "PEER", c->address,
                        "MESSAGE", "refused hello as host '%.64s' from %s: its certificate is for '%s'",
                        name, c->address, c->cert_cn);
      conn_close_later (c);
      not_authenticated (error, "the host name does not match the certificate's CN");
      return NULL;
    }
  h = g_hash_table_lookup (mgr->hosts, name);
  if (h == NULL)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "HOST", name, "PEER", c->address,
                        "MESSAGE", "refused hello from unregistered host '%.64s' (%s); "
                        "register it with: dvsctl host register NAME", name, c->address);
      conn_close_later (c);
      not_authenticated (error, "this host is not registered with the manager");
      return NULL;
    }
  if (h->peer)
    {
      /* The same host again: its old connection is dead or dying (a
       * restart).  The newest authenticated connection wins. */
      DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", name, "host reconnected; closing its previous connection");
      dvs_rpc_peer_close (h->peer);
    }
  c->host = h;
  h->peer = dvs_rpc_peer_ref (peer);
  g_free (h->transport);
  h->transport = g_strdup (c->transport);
  g_free (h->address);
  h->address = g_strdup (c->address);
  if (uplinks)
    {
      g_ptr_array_unref (h->uplinks);
      h->uplinks = g_steal_pointer (&uplinks);
    }
  if (tzs)
    {
      g_ptr_array_unref (h->transport_zones);
      h->transport_zones = g_steal_pointer (&tzs);
    }
  h->last_seen = g_get_real_time ();
  rec = dvs_mgr_host_to_store (h);
  dvs_mgr_txn_put (txn, "host", h->name, rec);
  if (!dvs_mgr_store_commit (mgr->store, txn, error))
    g_warning ("host %s: cannot record its hello: %s", h->name, (*error)->message);
  g_clear_error (error);
  desc = g_strdup_printf ("host %s (%s %s)", h->name, c->transport, c->address);
  dvs_rpc_peer_set_description (peer, desc);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "HOST", h->name, "PEER", c->address,
                    "MESSAGE", "host %s connected over %s (dvs-switchd %s)", h->name, c->transport,
                    version ? version : "?");
  for (guint i = 0; ports && i < json_array_get_length (json_node_get_array (ports)); i++)
    {
      JsonNode *s = json_array_get_element (json_node_get_array (ports), i);
      g_autoptr (GError) local = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (s)
          || !dvs_mgr_port_report_state (mgr, h->name, json_node_get_object (s), &local))
        DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", h->name, "hello: port state %u ignored: %s", i,
                    local ? local->message : "not an object");
    }
  mgr_push_host_connected (mgr->push, h, switches ? json_node_get_object (switches) : NULL);
  dvs_mgr_dbus_host (mgr, h);
  json_builder_begin_object (b);
  mgr_json_str (b, "manager", mgr->manager_uuid);
  mgr_json_int (b, "heartbeat_ms", c->hosts->heartbeat_ms);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
require_hello (HostConn *c, GError **error)
{
  if (c->host)
    {
      c->last_seen = g_get_monotonic_time ();
      c->host->last_seen = g_get_real_time ();
      return TRUE;
    }
  return not_authenticated (error, "say host.hello first");
}

static JsonNode *
on_heartbeat (DvsRpcPeer *peer, JsonObject *params, gpointer data, GError **error)
{
  HostConn *c = data;
  JsonNode *status = params ? json_object_get_member (params, "status") : NULL;
  g_autoptr (GError) local = NULL;

  if (!require_hello (c, error))
    return NULL;
  /* The host's status (placement/placement-health.c validates it). */
  if (status && !dvs_mgr_placement_host_status (c->hosts->mgr, c->host, status, &local))
    DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", c->host->name, "heartbeat status ignored: %s",
                local->message);
  return dvs_mgr_empty_object ();
}

static JsonNode *
on_port_state (DvsRpcPeer *peer, JsonObject *params, gpointer data, GError **error)
{
  HostConn *c = data;
  g_autoptr (GError) local = NULL;

  if (!require_hello (c, error))
    return NULL;
  if (!dvs_mgr_port_report_state (c->hosts->mgr, c->host->name, params, &local))
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "HOST", c->host->name, "MESSAGE",
                        "port.state from host %s refused: %s", c->host->name, local->message);
      g_set_error (error, DVS_JSONRPC_ERROR,
                   g_error_matches (local, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_AUTHORIZED)
                   ? DVS_JSONRPC_CONNECTION_REFUSED : DVS_JSONRPC_INVALID_PARAMS,
                   "%s", local->message);
      return NULL;
    }
  return dvs_mgr_empty_object ();
}

/* The destination's hook asks for a live migration (docs/migration.md). */
static JsonNode *
on_port_migrate (DvsRpcPeer *peer, JsonObject *params, gpointer data, GError **error)
{
  HostConn *c = data;

  if (!require_hello (c, error))
    return NULL;
  return dvs_mgr_migrate_prepare (c->hosts->mgr, c->host->name, params, error);
}

static const DvsRpcPeerMethod host_methods[] = {
  { "host.hello", on_hello },
  { "host.heartbeat", on_heartbeat },
  { "port.state", on_port_state },
  { "port.migrate", on_port_migrate },
  { NULL, NULL },
};

static gboolean
watchdog (gpointer data)
{
  HostConn *c = data;
  gint64 idle_ms = (g_get_monotonic_time () - c->last_seen) / 1000;

  if (c->host == NULL && idle_ms > HELLO_TIMEOUT_MS)
    {
      g_info ("closing %s: no host.hello within %d s", c->address, HELLO_TIMEOUT_MS / 1000);
      dvs_rpc_peer_close (c->peer);
    }
  else if (c->host && idle_ms > 3 * (gint64) c->hosts->heartbeat_ms)
    {
      DVS_LOG_KV (G_LOG_LEVEL_WARNING, "HOST", c->host->name,
                  "host %s missed 3 heartbeats; closing its connection", c->host->name);
      dvs_rpc_peer_close (c->peer);
    }
  return G_SOURCE_CONTINUE;
}

static void
conn_free (HostConn *c)
{
  g_clear_handle_id (&c->watchdog_id, g_source_remove);
  dvs_rpc_peer_unref (c->peer);
  g_free (c->transport);
  g_free (c->address);
  g_free (c->cert_cn);
  g_free (c);
}

static void
on_closed (DvsRpcPeer *peer, const GError *reason, gpointer data)
{
  HostConn *c = data;
  MgrHosts *hosts = c->hosts;
  MgrHost *h = c->host;

  if (h && h->peer == peer)
    {
      g_clear_pointer (&h->peer, dvs_rpc_peer_unref);
      g_clear_pointer (&h->transport, g_free);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "HOST", h->name, "MESSAGE",
                        "host %s disconnected%s%s", h->name, reason ? ": " : "",
                        reason ? reason->message : "");
      mgr_push_host_disconnected (hosts->mgr->push, h);
      dvs_mgr_dbus_host (hosts->mgr, h);
    }
  g_hash_table_remove (hosts->conns, c);
}

static void
conn_start (MgrHosts *hosts, GIOStream *stream, const gchar *transport, const gchar *address,
            const gchar *cert_cn)
{
  HostConn *c = g_new0 (HostConn, 1);
  g_autofree gchar *desc = g_strdup_printf ("host channel %s %s", transport, address);

  c->hosts = hosts;
  c->transport = g_strdup (transport);
  c->address = g_strdup (address);
  c->cert_cn = g_strdup (cert_cn);
  c->last_seen = g_get_monotonic_time ();
  c->peer = dvs_rpc_peer_new (stream, desc, host_methods, c, HOST_CHANNEL_MAX_LINE);
  dvs_rpc_peer_set_closed_func (c->peer, on_closed, c);
  g_hash_table_add (hosts->conns, c);
  c->watchdog_id = g_timeout_add (MIN (hosts->heartbeat_ms, 1000), watchdog, c);
  dvs_rpc_peer_start (c->peer);
}

static gchar *
describe_remote (GSocketConnection *conn)
{
  g_autoptr (GSocketAddress) addr = g_socket_connection_get_remote_address (conn, NULL);

  if (addr && G_IS_INET_SOCKET_ADDRESS (addr))
    {
      g_autofree gchar *ip = g_inet_address_to_string (
        g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (addr)));
      return g_strdup_printf ("%s:%u", ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr)));
    }
  return g_strdup ("unix");
}

static gboolean
on_unix_incoming (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  MgrHosts *hosts = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCredentials) cred = g_socket_get_credentials (g_socket_connection_get_socket (conn), &error);
  uid_t uid = cred ? g_credentials_get_unix_user (cred, NULL) : (uid_t) -1;

  if (uid != 0 && uid != getuid ())
    {
      g_warning ("host channel: refused a unix connection from uid %d (only root or uid %d)",
                 (gint) uid, (gint) getuid ());
      g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
      return TRUE;
    }
  conn_start (hosts, G_IO_STREAM (conn), "unix", "unix", NULL);
  return TRUE;
}

typedef struct {
  MgrHosts *hosts;
  gchar *address;
} TlsAccept;

static void
tls_done (GObject *source, GAsyncResult *res, gpointer data)
{
  TlsAccept *a = data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *cn = NULL;
  g_autoptr (GIOStream) tls = dvs_tls_server_handshake_finish (res, &cn, &error);

  if (tls == NULL || cn == NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "PEER", a->address, "MESSAGE",
                      "host channel: TLS refused for %s: %s", a->address,
                      error ? error->message : "the certificate has no CN");
  else
    conn_start (a->hosts, tls, "tls", a->address, cn);
  g_free (a->address);
  g_free (a);
}

static gboolean
on_tls_incoming (GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
  MgrHosts *hosts = data;
  TlsAccept *a = g_new0 (TlsAccept, 1);

  a->hosts = hosts;
  a->address = describe_remote (conn);
  dvs_tls_server_handshake_async (G_IO_STREAM (conn), hosts->identity, hosts->ca, NULL, tls_done, a);
  return TRUE;
}

static gboolean
listen_unix (MgrHosts *hosts, const gchar *path, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autoptr (GSocketAddress) addr = NULL;

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot create %s: %s", dir,
                   g_strerror (errno));
      return FALSE;
    }
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot remove stale %s: %s",
                   path, g_strerror (errno));
      return FALSE;
    }
  addr = g_unix_socket_address_new (path);
  hosts->unix_service = g_socket_service_new ();
  /* After a manager restart every host reconnects at once: GLib's default
   * backlog of 10 would refuse most of them. */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (hosts->unix_service), 1024);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (hosts->unix_service), addr,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, error))
    return FALSE;
  if (g_chmod (path, 0600) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot chmod %s: %s", path,
                   g_strerror (errno));
      return FALSE;
    }
  hosts->unix_path = g_strdup (path);
  g_signal_connect (hosts->unix_service, "incoming", G_CALLBACK (on_unix_incoming), hosts);
  g_socket_service_start (hosts->unix_service);
  g_info ("host channel listening on unix:%s", path);
  return TRUE;
}

static gboolean
listen_tls (MgrHosts *hosts, const MgrHostsConfig *config, GError **error)
{
  g_autoptr (GSocketConnectable) where = NULL;
  g_autoptr (GSocketAddressEnumerator) e = NULL;
  g_autoptr (GSocketAddress) addr = NULL;

  if (!config->tls_cert || !config->tls_key || !config->tls_ca)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "--host-listen needs --tls-cert, --tls-key and --tls-ca");
      return FALSE;
    }
  if (!(hosts->identity = dvs_tls_load_identity (config->tls_cert, config->tls_key, error))
      || !(hosts->ca = dvs_tls_load_ca (config->tls_ca, error)))
    return FALSE;
  where = g_network_address_parse (config->tls_listen, 6524, error);
  if (where == NULL)
    return FALSE;
  e = g_socket_connectable_enumerate (where);
  addr = g_socket_address_enumerator_next (e, NULL, error);
  if (addr == NULL)
    {
      if (error && !*error)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot resolve %s", config->tls_listen);
      return FALSE;
    }
  hosts->tls_service = g_socket_service_new ();
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (hosts->tls_service), 1024);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (hosts->tls_service), addr,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, NULL, error))
    return FALSE;
  g_signal_connect (hosts->tls_service, "incoming", G_CALLBACK (on_tls_incoming), hosts);
  g_socket_service_start (hosts->tls_service);
  g_info ("host channel listening on tls:%s", config->tls_listen);
  return TRUE;
}

MgrHosts *
mgr_hosts_new (DvsMgr *mgr, const MgrHostsConfig *config, GError **error)
{
  MgrHosts *hosts = g_new0 (MgrHosts, 1);

  hosts->mgr = mgr;
  hosts->heartbeat_ms = config->heartbeat_ms ? config->heartbeat_ms : 2000;
  hosts->conns = g_hash_table_new_full (g_direct_hash, g_direct_equal, (GDestroyNotify) conn_free, NULL);
  if ((config->unix_path && !listen_unix (hosts, config->unix_path, error))
      || (config->tls_listen && !listen_tls (hosts, config, error)))
    {
      mgr_hosts_free (hosts);
      return NULL;
    }
  return hosts;
}

void
mgr_hosts_free (MgrHosts *hosts)
{
  GHashTableIter it;
  gpointer c;

  if (hosts == NULL)
    return;
  if (hosts->unix_service)
    {
      g_socket_service_stop (hosts->unix_service);
      g_socket_listener_close (G_SOCKET_LISTENER (hosts->unix_service));
      g_object_unref (hosts->unix_service);
    }
  if (hosts->tls_service)
    {
      g_socket_service_stop (hosts->tls_service);
      g_socket_listener_close (G_SOCKET_LISTENER (hosts->tls_service));
      g_object_unref (hosts->tls_service);
    }
  if (hosts->unix_path)
    g_unlink (hosts->unix_path);
  /* Closing runs on_closed, which removes from the set: steal first. */
  {
    g_autoptr (GPtrArray) all = g_ptr_array_new ();
    g_hash_table_iter_init (&it, hosts->conns);
    while (g_hash_table_iter_next (&it, &c, NULL))
      g_ptr_array_add (all, c);
    for (guint i = 0; i < all->len; i++)
      {
        HostConn *hc = all->pdata[i];
        dvs_rpc_peer_set_closed_func (hc->peer, NULL, NULL);
        if (hc->host && hc->host->peer == hc->peer)
          g_clear_pointer (&hc->host->peer, dvs_rpc_peer_unref);
        dvs_rpc_peer_close (hc->peer);
      }
  }
  g_hash_table_unref (hosts->conns);
  g_clear_object (&hosts->identity);
  g_clear_object (&hosts->ca);
  g_free (hosts->unix_path);
  g_free (hosts);
}

void
mgr_hosts_disconnect (MgrHosts *hosts, MgrHost *h)
{
  if (h->peer)
    dvs_rpc_peer_close (h->peer);
}
