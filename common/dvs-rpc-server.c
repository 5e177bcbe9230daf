/* JSON-RPC 2.0 server on a unix stream socket: listening, per-connection
 * line framing, dispatch. */
#define G_LOG_DOMAIN "dvs-rpc"

#include "dvs-rpc-server.h"

#include <errno.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes asked for per read; a pending line may grow to the line limit plus
 * one chunk before it is refused. */
#define READ_CHUNK_SIZE (64 * 1024)

/* After a failed accept (EMFILE, say), wait this long before the next one
 * instead of spinning on a socket that stays readable. */
#define ACCEPT_RETRY_MS 1000

/* Connections the kernel queues before the server accepts them.  Many VMs
 * starting at once run many hooks at once; GLib's default of 10 refused
 * the rest with EAGAIN.  dvsmgr's host listener asks for the same; the
 * kernel caps it at net.core.somaxconn (4096 on Linux 6.1). */
#define LISTEN_BACKLOG 1024

struct _DvsRpcServer {
  gchar *path;
  const DvsRpcMethod *methods;
  gpointer user_data;
  GMainContext *context;
  GSocketListener *listener;
  GCancellable *cancellable; /* the pending accept */
  GSource *retry_source;     /* set while waiting to accept again */
  GList *conns;              /* DvsRpcConn, owned */
  gboolean bound;            /* the socket file at @path is ours */
};

/* One client connection.  While attached to a server it always has exactly
 * one read or write pending, whose callback owns the next step. */
typedef struct {
  DvsRpcServer *server; /* NULL once the server is gone: free on callback */
  GMainContext *context;
  GSocketConnection *stream;
  GCancellable *cancellable;
  gchar *peer;          /* "pid 1234 uid 0", for logs */
  gchar *socket_path;
  GByteArray *buf;      /* received, not yet handled */
  guint8 *chunk;        /* READ_CHUNK_SIZE bytes */
  gchar *out;           /* the response being written */
  gboolean close_after_write;
} DvsRpcConn;

struct _DvsRpcReply {
  DvsRpcConn *conn;
  JsonNode *id;         /* NULL: a notification */
  gchar *method;
};

static void conn_process (DvsRpcConn *conn);
static gchar *dispatch (const DvsRpcMethod *methods, gpointer user_data,
                        const gchar *line, gsize len, DvsRpcConn *conn,
                        gboolean *deferred);
static void server_accept (DvsRpcServer *server);

static void
conn_log (DvsRpcConn *conn, GLogLevelFlags level, const gchar *format, ...)
  G_GNUC_PRINTF (3, 4);

static void
conn_log (DvsRpcConn *conn, GLogLevelFlags level, const gchar *format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_log_structured (G_LOG_DOMAIN, level, "PEER", conn->peer,
                    "SOCKET", conn->socket_path, "MESSAGE", "%s", message);
}

static void
conn_free (DvsRpcConn *conn)
{
  if (conn == NULL)
    return;
  g_io_stream_close (G_IO_STREAM (conn->stream), NULL, NULL);
  g_object_unref (conn->stream);
  g_object_unref (conn->cancellable);
  g_main_context_unref (conn->context);
  g_byte_array_unref (conn->buf);
  g_free (conn->chunk);
  g_free (conn->out);
  g_free (conn->peer);
  g_free (conn->socket_path);
  g_free (conn);
}

/* Ends a connection that is still attached to its server. */
static void
conn_close (DvsRpcConn *conn)
{
  conn->server->conns = g_list_remove (conn->server->conns, conn);
  conn_free (conn);
}

static gchar *
describe_peer (GSocket *socket)
{
  g_autoptr(GCredentials) creds = g_socket_get_credentials (socket, NULL);
  pid_t pid;
  uid_t uid;

  if (creds == NULL)
    return g_strdup ("unknown peer");
  pid = g_credentials_get_unix_pid (creds, NULL);
  uid = g_credentials_get_unix_user (creds, NULL);
  return g_strdup_printf ("pid %ld uid %ld", (long) pid, (long) uid);
}

static void
on_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  DvsRpcConn *conn = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL,
                                         &error);
  g_clear_pointer (&conn->out, g_free);
  if (conn->server == NULL)
    {
      conn_free (conn);
      return;
    }
  if (!ok)
    {
      conn_log (conn, G_LOG_LEVEL_WARNING,
                "Could not send a response, the peer went away: %s",
                error->message);
      conn_close (conn);
      return;
    }
  if (conn->close_after_write)
    {
      conn_close (conn);
      return;
    }
  conn_process (conn);
}

/* Sends @response (consumed) followed by a newline. */
static void
conn_write (DvsRpcConn *conn, gchar *response)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (conn->stream));

  conn->out = g_strconcat (response, "\n", NULL);
  g_free (response);
  g_main_context_push_thread_default (conn->context);
  g_output_stream_write_all_async (out, conn->out, strlen (conn->out),
                                   G_PRIORITY_DEFAULT, conn->cancellable,
                                   on_written, conn);
  g_main_context_pop_thread_default (conn->context);
}

static void
on_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  DvsRpcConn *conn = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);
  if (conn->server == NULL)
    {
      conn_free (conn);
      return;
    }
  if (n < 0)
    {
      conn_log (conn, G_LOG_LEVEL_INFO, "Reading from the peer failed: %s",
                error->message);
      conn_close (conn);
      return;
    }
  if (n == 0)
    {
      if (conn->buf->len > 0)
        conn_log (conn, G_LOG_LEVEL_INFO,
                  "The peer closed the connection in the middle of a "
                  "request line (%u bytes discarded)", conn->buf->len);
      else
        conn_log (conn, G_LOG_LEVEL_DEBUG, "The peer disconnected");
      conn_close (conn);
      return;
    }
  g_byte_array_append (conn->buf, conn->chunk, (guint) n);
  conn_process (conn);
}

static void
conn_read (DvsRpcConn *conn)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (conn->stream));

  g_main_context_push_thread_default (conn->context);
  g_input_stream_read_async (in, conn->chunk, READ_CHUNK_SIZE,
                             G_PRIORITY_DEFAULT, conn->cancellable, on_read,
                             conn);
  g_main_context_pop_thread_default (conn->context);
}

static void
conn_refuse_oversized (DvsRpcConn *conn)
{
  conn_log (conn, G_LOG_LEVEL_WARNING,
            "Refused a request line longer than %d bytes; closing the "
            "connection", DVS_JSONRPC_MAX_LINE_SIZE);
  g_byte_array_set_size (conn->buf, 0);
  conn->close_after_write = TRUE;
  conn_write (conn,
              dvs_jsonrpc_build_error (NULL, DVS_JSONRPC_PARSE_ERROR,
                                       "The request line is longer than the "
                                       "limit of 1 MiB: send smaller "
                                       "requests. The connection is closed."));
}

/* Handles the complete lines buffered, one at a time: each response is
 * written before the next line is looked at.  Reads more when none is left. */
static void
conn_process (DvsRpcConn *conn)
{
  for (;;)
    {
      const guint8 *data = conn->buf->data;
      /* An empty GByteArray's data may be NULL, which memchr() rejects. */
      const guint8 *nl = conn->buf->len > 0
                             ? memchr (data, '\n', conn->buf->len)
                             : NULL;
      gsize line_size = nl != NULL ? (gsize) (nl - data) : conn->buf->len;
      gsize used = line_size + 1;
      gchar *response;

      if (line_size > DVS_JSONRPC_MAX_LINE_SIZE)
        {
          conn_refuse_oversized (conn);
          return;
        }
      if (nl == NULL)
        {
          conn_read (conn);
          return;
        }
      if (line_size > 0 && data[line_size - 1] == '\r')
        line_size--;
      /* Blank lines (a person typing into socat) are ignored. */
      if (line_size == 0)
        {
          g_byte_array_remove_range (conn->buf, 0, (guint) used);
          continue;
        }

      gboolean deferred = FALSE;
      /* Taken off the buffer first: an async handler may answer at once,
       * and its reply goes on processing this buffer. */
      g_autofree gchar *line = g_strndup ((const gchar *) data, line_size);

      g_byte_array_remove_range (conn->buf, 0, (guint) used);
      response = dispatch (conn->server->methods, conn->server->user_data,
                           line, line_size, conn, &deferred);
      /* Answered by dvs_rpc_reply_return(), which goes on from there. */
      if (deferred)
        return;
      /* The handler may have freed the server. */
      if (conn->server == NULL)
        {
          g_free (response);
          conn_free (conn);
          return;
        }
      if (response != NULL)
        {
          conn_write (conn, response);
          return;
        }
    }
}

static void
server_add_conn (DvsRpcServer *server, GSocketConnection *stream)
{
  DvsRpcConn *conn = g_new0 (DvsRpcConn, 1);

  conn->server = server;
  conn->context = g_main_context_ref (server->context);
  conn->stream = g_object_ref (stream);
  conn->cancellable = g_cancellable_new ();
  conn->peer = describe_peer (g_socket_connection_get_socket (stream));
  conn->socket_path = g_strdup (server->path);
  conn->buf = g_byte_array_new ();
  conn->chunk = g_malloc (READ_CHUNK_SIZE);
  server->conns = g_list_prepend (server->conns, conn);
  conn_log (conn, G_LOG_LEVEL_DEBUG, "Accepted a connection");
  conn_process (conn);
}

static gboolean
on_accept_retry (gpointer user_data)
{
  DvsRpcServer *server = user_data;

  g_clear_pointer (&server->retry_source, g_source_unref);
  server_accept (server);
  return G_SOURCE_REMOVE;
}

static void
on_accept (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) stream = NULL;
  DvsRpcServer *server;

  stream = g_socket_listener_accept_finish (G_SOCKET_LISTENER (source), res,
                                            NULL, &error);
  /* Cancelled only by dvs_rpc_server_free(): @user_data is gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  server = user_data;
  if (stream == NULL)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                        "SOCKET", server->path, "MESSAGE",
                        "Accepting a connection failed: %s; trying again in "
                        "%d ms", error->message, ACCEPT_RETRY_MS);
      server->retry_source = g_timeout_source_new (ACCEPT_RETRY_MS);
      g_source_set_callback (server->retry_source, on_accept_retry, server,
                             NULL);
      g_source_attach (server->retry_source, server->context);
      return;
    }
  server_accept (server);
  server_add_conn (server, stream);
}

static void
server_accept (DvsRpcServer *server)
{
  g_main_context_push_thread_default (server->context);
  g_socket_listener_accept_async (server->listener, server->cancellable,
                                  on_accept, server);
  g_main_context_pop_thread_default (server->context);
}

/* A socket file left by a dead daemon is removed; a live one is not stolen. */
static gboolean
remove_stale_socket (const gchar *path, GSocketAddress *address,
                     GError **error)
{
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GError) connect_error = NULL;
  GStatBuf st;

  if (g_lstat (path, &st) < 0)
    return TRUE;
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "%s exists and is not a socket: remove it or choose "
                   "another socket path.", path);
      return FALSE;
    }
  probe = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                        G_SOCKET_PROTOCOL_DEFAULT, error);
  if (probe == NULL)
    return FALSE;
  if (g_socket_connect (probe, address, NULL, &connect_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                   "Another process is listening on %s: stop it first or "
                   "choose another socket path.", path);
      return FALSE;
    }
  if (g_unlink (path) < 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot remove the stale socket %s: %s", path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* Creates the listening socket with mode 0600 before anyone can connect:
 * Linux gives the socket file the mode of the unbound socket (fchmod), and
 * the chmod after bind covers other kernels; listen() comes last. */
static GSocket *
listen_on (const gchar *path, GSocketAddress *address, GError **error)
{
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_DEFAULT, error);
  if (socket == NULL)
    return NULL;
  (void) fchmod (g_socket_get_fd (socket), 0600);
  if (!g_socket_bind (socket, address, FALSE, error))
    {
      g_prefix_error (error, "Cannot bind the control socket %s: ", path);
      return NULL;
    }
  if (g_chmod (path, 0600) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot make %s private (chmod 0600): %s", path,
                   g_strerror (saved_errno));
      g_unlink (path);
      return NULL;
    }
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_listen (socket, error))
    {
      g_prefix_error (error, "Cannot listen on %s: ", path);
      g_unlink (path);
      return NULL;
    }
  return g_steal_pointer (&socket);
}

DvsRpcServer *
dvs_rpc_server_new (const gchar *path, const DvsRpcMethod *methods,
                    gpointer user_data, GError **error)
{
  g_autoptr(DvsRpcServer) server = g_new0 (DvsRpcServer, 1);
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autofree gchar *dir = g_path_get_dirname (path);

  server->path = g_strdup (path);
  server->methods = methods;
  server->user_data = user_data;
  server->context = g_main_context_ref_thread_default ();
  server->cancellable = g_cancellable_new ();

  if (g_mkdir_with_parents (dir, 0755) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot create the directory %s for the control socket: "
                   "%s", dir, g_strerror (saved_errno));
      return NULL;
    }
  address = g_unix_socket_address_new (path);
  if (!remove_stale_socket (path, address, error))
    return NULL;
  socket = listen_on (path, address, error);
  if (socket == NULL)
    return NULL;
  server->bound = TRUE;

  server->listener = g_socket_listener_new ();
  if (!g_socket_listener_add_socket (server->listener, socket, NULL, error))
    return NULL;
  server_accept (server);
  return g_steal_pointer (&server);
}

void
dvs_rpc_server_free (DvsRpcServer *server)
{
  if (server == NULL)
    return;

  g_cancellable_cancel (server->cancellable);
  if (server->retry_source != NULL)
    {
      g_source_destroy (server->retry_source);
      g_source_unref (server->retry_source);
    }
  if (server->listener != NULL)
    {
      g_socket_listener_close (server->listener);
      g_object_unref (server->listener);
    }
  /* Each connection has an operation pending; cancelling it lets its
   * callback free the connection.  Shutting the socket down now tells the
   * peer at once, even if the context is not iterated again. */
  for (GList *l = server->conns; l != NULL; l = l->next)
    {
      DvsRpcConn *conn = l->data;

      conn->server = NULL;
      g_cancellable_cancel (conn->cancellable);
      g_socket_shutdown (g_socket_connection_get_socket (conn->stream), TRUE,
                         TRUE, NULL);
    }
  g_list_free (server->conns);
  if (server->bound)
    g_unlink (server->path);
  g_object_unref (server->cancellable);
  g_main_context_unref (server->context);
  g_free (server->path);
  g_free (server);
}

static const DvsRpcMethod *
find_method (const DvsRpcMethod *methods, const gchar *name)
{
  for (const DvsRpcMethod *m = methods; m != NULL && m->name != NULL; m++)
    if (g_strcmp0 (m->name, name) == 0)
      return m;
  return NULL;
}

static gchar *
method_not_found (const DvsRpcMethod *methods, const gchar *name)
{
  g_autoptr(GString) known = g_string_new (NULL);

  for (const DvsRpcMethod *m = methods; m != NULL && m->name != NULL; m++)
    g_string_append_printf (known, "%s%s", known->len > 0 ? ", " : "",
                            m->name);
  return g_strdup_printf ("Unknown method \"%s\": the methods are %s.", name,
                          known->len > 0 ? known->str : "(none)");
}

static gchar *
error_response (JsonNode *id, const gchar *method, const GError *error)
{
  gint code = error->domain == DVS_JSONRPC_ERROR ? error->code
                                                 : DVS_JSONRPC_INTERNAL_ERROR;

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "METHOD", method,
                    "MESSAGE", "Call failed: %s", error->message);
  return id != NULL ? dvs_jsonrpc_build_error (id, code, error->message) : NULL;
}

void
dvs_rpc_reply_return (DvsRpcReply *reply, JsonNode *result, const GError *error)
{
  DvsRpcConn *conn = reply->conn;
  gchar *response = NULL;
  g_autoptr(GError) missing = NULL;

  if (result == NULL && error == NULL)
    {
      g_set_error (&missing, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                   "The method %s failed without saying why: this is a bug, "
                   "please report it.", reply->method);
      error = missing;
    }
  if (result != NULL)
    response = reply->id != NULL ? dvs_jsonrpc_build_result (reply->id, result)
                                 : (json_node_unref (result), NULL);
  else
    response = error_response (reply->id, reply->method, error);
  if (reply->id != NULL)
    json_node_unref (reply->id);
  g_free (reply->method);
  g_free (reply);
  if (conn->server == NULL)
    {
      g_free (response);
      conn_free (conn);
      return;
    }
  if (response != NULL)
    conn_write (conn, response);
  else
    conn_process (conn);
}

const gchar *
dvs_rpc_reply_method (DvsRpcReply *reply)
{
  return reply->method;
}

gchar *
dvs_rpc_dispatch_line (const DvsRpcMethod *methods, gpointer user_data,
                       const gchar *line, gsize len)
{
  gboolean deferred = FALSE;

  return dispatch (methods, user_data, line, len, NULL, &deferred);
}

/* Handles one request line.  With @conn, an async method's call is
 * deferred (*@deferred set, NULL returned): its reply goes on with @conn. */
static gchar *
dispatch (const DvsRpcMethod *methods, gpointer user_data, const gchar *line,
          gsize len, DvsRpcConn *conn, gboolean *deferred)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) bad_id = NULL;
  g_autoptr(DvsJsonrpcRequest) req = NULL;
  g_autoptr(JsonNode) result = NULL;
  const DvsRpcMethod *method;
  gint code;

  req = dvs_jsonrpc_parse_request (line, len, &bad_id, &error);
  if (req == NULL)
    return dvs_jsonrpc_build_error (bad_id, error->code, error->message);

  method = find_method (methods, req->method);
  if (method == NULL)
    {
      g_autofree gchar *message = NULL;

      /* Notifications get no response, not even an error. */
      if (req->id == NULL)
        return NULL;
      message = method_not_found (methods, req->method);
      return dvs_jsonrpc_build_error (req->id, DVS_JSONRPC_METHOD_NOT_FOUND,
                                      message);
    }

  if (method->async_handler != NULL)
    {
      DvsRpcReply *reply;

      if (conn == NULL)
        {
          g_set_error (&error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                       "The method %s answers later and needs a connection",
                       req->method);
          return error_response (req->id, req->method, error);
        }
      reply = g_new0 (DvsRpcReply, 1);
      reply->conn = conn;
      reply->id = req->id ? json_node_copy (req->id) : NULL;
      reply->method = g_strdup (req->method);
      *deferred = TRUE;
      method->async_handler (req->params, user_data, reply);
      return NULL;
    }
  result = method->handler (req->params, user_data, &error);
  if (result == NULL && error == NULL)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                        "METHOD", req->method, "MESSAGE",
                        "The handler returned neither a result nor an error");
      g_set_error (&error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                   "The method %s failed without saying why: this is a bug, "
                   "please report it.", req->method);
    }
  if (error != NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "METHOD", req->method,
                      "MESSAGE", "Call failed: %s", error->message);
  if (req->id == NULL)
    return NULL;
  if (result != NULL)
    return dvs_jsonrpc_build_result (req->id, g_steal_pointer (&result));

  code = error->domain == DVS_JSONRPC_ERROR ? error->code
                                            : DVS_JSONRPC_INTERNAL_ERROR;
  return dvs_jsonrpc_build_error (req->id, code, error->message);
}
