/* The /metrics endpoint (dvs-metrics.h): GSocketService on the main
 * context, one request per connection, HTTP/1.0-style replies with
 * Connection: close. */
#define G_LOG_DOMAIN "dvs-metrics"
#include "dvs-metrics.h"

#include <string.h>

#define REQUEST_MAX 8192
#define REQUEST_TIMEOUT_S 5
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct _DvsMetricsServer {
  GSocketService *service;
  guint16 port;
  DvsMetricsCollectFunc collect;
  gpointer user_data;
};

/* One client connection, from accept to close. */
typedef struct {
  DvsMetricsServer *server;
  GSocketConnection *conn;
  GCancellable *cancel;
  guint timeout_id;
  gchar buf[REQUEST_MAX];
  gsize len;
  gchar *reply;
} Client;

static void
client_free (Client *c)
{
  if (c->timeout_id)
    g_source_remove (c->timeout_id);
  g_io_stream_close (G_IO_STREAM (c->conn), NULL, NULL);
  g_object_unref (c->conn);
  g_object_unref (c->cancel);
  g_free (c->reply);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static gboolean
on_client_timeout (gpointer data)
{
  Client *c = data;

  c->timeout_id = 0;
  g_cancellable_cancel (c->cancel);
  return G_SOURCE_REMOVE;
}

static void
on_reply_written (GObject *source, GAsyncResult *res, gpointer data)
{
  g_autoptr (Client) c = data;
  g_autoptr (GError) error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL, &error))
    g_debug ("metrics: reply not sent: %s", error->message);
}

static void
send_reply (Client *c, const gchar *status, const gchar *content_type,
            const gchar *body, gboolean head_only)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (c->conn));
  gsize body_len = strlen (body);

  c->reply = g_strdup_printf ("HTTP/1.1 %s\r\nContent-Type: %s\r\n"
                              "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                              "Connection: close\r\n\r\n%s",
                              status, content_type, body_len, head_only ? "" : body);
  g_output_stream_write_all_async (out, c->reply, strlen (c->reply), G_PRIORITY_DEFAULT,
                                   c->cancel, on_reply_written, c);
}

/* @line: the request line, "GET /metrics HTTP/1.1". */
static void
answer (Client *c, const gchar *line)
{
  g_auto (GStrv) parts = g_strsplit (line, " ", 0);
  const gchar *path;
  gboolean head;

  if (g_strv_length (parts) != 3 || !g_str_has_prefix (parts[2], "HTTP/1."))
    {
      send_reply (c, "400 Bad Request", "text/plain", "bad request\n", FALSE);
      return;
    }
  head = g_str_equal (parts[0], "HEAD");
  if (!head && !g_str_equal (parts[0], "GET"))
    {
      send_reply (c, "405 Method Not Allowed", "text/plain", "only GET /metrics\n", FALSE);
      return;
    }
  path = parts[1];
  if (!g_str_equal (path, "/metrics") && !g_str_has_prefix (path, "/metrics?"))
    {
      send_reply (c, "404 Not Found", "text/plain", "only GET /metrics\n", head);
      return;
    }
  g_autofree gchar *body = dvs_metrics_render (c->server->collect, c->server->user_data);
  send_reply (c, "200 OK", CONTENT_TYPE, body, head);
}

static void read_more (Client *c);

static void
on_read (GObject *source, GAsyncResult *res, gpointer data)
{
  Client *c = data;
  g_autoptr (GError) error = NULL;
  gssize n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);
  gchar *end;

  if (n <= 0)
    {
      if (n < 0)
        g_debug ("metrics: request not read: %s", error->message);
      client_free (c);
      return;
    }
  c->len += (gsize) n;
  c->buf[c->len] = '\0';
  end = strstr (c->buf, "\r\n\r\n");
  if (end == NULL)
    end = strstr (c->buf, "\n\n");
  if (end == NULL)
    {
      if (c->len >= sizeof c->buf - 1)
        send_reply (c, "431 Request Header Fields Too Large", "text/plain",
                    "request too large\n", FALSE);
      else
        read_more (c);
      return;
    }
  g_clear_handle_id (&c->timeout_id, g_source_remove);
  c->buf[strcspn (c->buf, "\r\n")] = '\0';
  answer (c, c->buf);
}

static void
read_more (Client *c)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (c->conn));

  g_input_stream_read_async (in, c->buf + c->len, sizeof c->buf - 1 - c->len,
                             G_PRIORITY_DEFAULT, c->cancel, on_read, c);
}

static gboolean
on_incoming (GSocketService *service, GSocketConnection *conn, GObject *source,
             gpointer data)
{
  Client *c = g_new0 (Client, 1);

  c->server = data;
  c->conn = g_object_ref (conn);
  c->cancel = g_cancellable_new ();
  c->timeout_id = g_timeout_add_seconds (REQUEST_TIMEOUT_S, on_client_timeout, c);
  read_more (c);
  return TRUE;
}

DvsMetricsServer *
dvs_metrics_server_new (const gchar *address, DvsMetricsCollectFunc collect,
                        gpointer user_data, GError **error)
{
  g_autoptr (GSocketConnectable) parsed = NULL;
  g_autoptr (GInetAddress) ip = NULL;
  g_autoptr (GSocketAddress) want = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (DvsMetricsServer) s = g_new0 (DvsMetricsServer, 1);
  const gchar *host;

  parsed = g_network_address_parse (address, 0, error);
  if (parsed == NULL)
    {
      g_prefix_error (error, "metrics address '%s': ", address);
      return NULL;
    }
  host = g_network_address_get_hostname (G_NETWORK_ADDRESS (parsed));
  ip = g_inet_address_new_from_string (host);
  if (ip == NULL || strchr (address, ':') == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "metrics address '%s' must be IP:PORT, e.g. 127.0.0.1:9464 or [::1]:9464",
                   address);
      return NULL;
    }
  want = g_inet_socket_address_new (ip, g_network_address_get_port (G_NETWORK_ADDRESS (parsed)));
  s->collect = collect;
  s->user_data = user_data;
  s->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (s->service), want,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &bound, error))
    {
      g_prefix_error (error, "metrics address '%s': ", address);
      return NULL;
    }
  s->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (s->service, "incoming", G_CALLBACK (on_incoming), s);
  g_socket_service_start (s->service);
  return g_steal_pointer (&s);
}

guint16
dvs_metrics_server_port (DvsMetricsServer *server)
{
  return server->port;
}

void
dvs_metrics_server_free (DvsMetricsServer *server)
{
  if (server == NULL)
    return;
  if (server->service != NULL)
    {
      g_socket_service_stop (server->service);
      g_socket_listener_close (G_SOCKET_LISTENER (server->service));
      g_signal_handlers_disconnect_by_data (server->service, server);
      g_object_unref (server->service);
    }
  g_free (server);
}
