/* Blocking JSON-RPC 2.0 client on a unix stream socket. */
#include "dvs-rpc-client.h"

#include <gio/gunixsocketaddress.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000

/* Responses may be larger than requests (a big MAC table). */
#define MAX_RESPONSE_SIZE (64 * DVS_JSONRPC_MAX_LINE_SIZE)

struct _DvsRpcClient {
  gchar *path;
  GSocketConnection *stream;
  GSocket *socket; /* owned by @stream */
  guint timeout_ms;
  gint64 next_id;
  GByteArray *buf; /* bytes received past the last response line */
  gboolean broken; /* a failed call left the stream out of step */
};

void
dvs_rpc_client_free (DvsRpcClient *client)
{
  if (client == NULL)
    return;
  if (client->stream != NULL)
    {
      g_io_stream_close (G_IO_STREAM (client->stream), NULL, NULL);
      g_object_unref (client->stream);
    }
  g_byte_array_unref (client->buf);
  g_free (client->path);
  g_free (client);
}

/* Rewords a connect failure so that a person knows what to check. */
static void
set_connect_error (GError **error, const gchar *path, GError *cause)
{
  const gchar *hint;

  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    hint = "no such socket, the daemon is not running (or uses another "
           "socket path)";
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    hint = "connection refused, the daemon is not running (the socket file "
           "is stale)";
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    hint = "permission denied, the socket is private to its owner (run as "
           "root)";
  else
    hint = cause->message;
  g_set_error (error, cause->domain, cause->code, "Cannot connect to %s: %s",
               path, hint);
}

DvsRpcClient *
dvs_rpc_client_new (const gchar *path, guint timeout_ms, GError **error)
{
  g_autoptr(DvsRpcClient) client = g_new0 (DvsRpcClient, 1);
  g_autoptr(GSocketClient) connector = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GError) local_error = NULL;

  client->path = g_strdup (path);
  client->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS;
  client->next_id = 1;
  client->buf = g_byte_array_new ();

  /* Connecting to a unix socket does not wait for the peer to accept, so
   * the seconds-granular client timeout is enough here. */
  g_socket_client_set_timeout (connector, (client->timeout_ms + 999) / 1000);
  client->stream = g_socket_client_connect (connector,
                                            G_SOCKET_CONNECTABLE (address),
                                            NULL, &local_error);
  if (client->stream == NULL)
    {
      set_connect_error (error, path, local_error);
      return NULL;
    }
  client->socket = g_socket_connection_get_socket (client->stream);
  /* Calls bound their own waits below; the socket itself never times out. */
  g_socket_set_timeout (client->socket, 0);
  return g_steal_pointer (&client);
}

/* Waits for @condition until @deadline (monotonic µs). */
static gboolean
wait_until (DvsRpcClient *client, GIOCondition condition, gint64 deadline,
            GError **error)
{
  gint64 left;

  /* poll() counts in ms and may wake a little early: wait again then. */
  while ((left = deadline - g_get_monotonic_time ()) > 0)
    {
      g_autoptr(GError) local_error = NULL;

      if (g_socket_condition_timed_wait (client->socket, condition,
                                         left + 999, NULL, &local_error))
        return TRUE;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "Waiting for %s failed: ",
                                      client->path);
          return FALSE;
        }
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "No response from %s within %u ms: the daemon may be stuck.",
               client->path, client->timeout_ms);
  return FALSE;
}

static gboolean
send_all (DvsRpcClient *client, const gchar *data, gsize size,
          gint64 deadline, GError **error)
{
  while (size > 0)
    {
      gssize n;

      if (!wait_until (client, G_IO_OUT, deadline, error))
        return FALSE;
      n = g_socket_send (client->socket, data, size, NULL, error);
      if (n < 0)
        {
          g_prefix_error (error, "Cannot send a request to %s: ",
                          client->path);
          return FALSE;
        }
      data += n;
      size -= (gsize) n;
    }
  return TRUE;
}

/* Reads up to the next newline; returns the line without it. */
static gchar *
receive_line (DvsRpcClient *client, gint64 deadline, GError **error)
{
  guint8 chunk[16 * 1024];

  for (;;)
    {
      /* An empty GByteArray's data may be NULL, which memchr() rejects. */
      guint8 *nl = client->buf->len > 0
                       ? memchr (client->buf->data, '\n', client->buf->len)
                       : NULL;
      gssize n;

      if (nl != NULL)
        {
          gsize size = (gsize) (nl - client->buf->data);
          gchar *line = g_strndup ((const gchar *) client->buf->data, size);

          g_byte_array_remove_range (client->buf, 0, (guint) size + 1);
          return line;
        }
      if (client->buf->len > MAX_RESPONSE_SIZE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       "The response from %s is larger than %d bytes.",
                       client->path, MAX_RESPONSE_SIZE);
          return NULL;
        }
      if (!wait_until (client, G_IO_IN, deadline, error))
        return NULL;
      n = g_socket_receive (client->socket, (gchar *) chunk, sizeof chunk,
                            NULL, error);
      if (n < 0)
        {
          g_prefix_error (error, "Cannot read the response from %s: ",
                          client->path);
          return NULL;
        }
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                       "The daemon at %s closed the connection before "
                       "answering.",
                       client->path);
          return NULL;
        }
      g_byte_array_append (client->buf, chunk, (guint) n);
    }
}

JsonNode *
dvs_rpc_client_call (DvsRpcClient *client, const gchar *method,
                     JsonObject *params, GError **error)
{
  gint64 id = client->next_id++;
  g_autofree gchar *request = dvs_jsonrpc_build_request (id, method, params);
  g_autofree gchar *line = NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) client->timeout_ms * 1000;
  gsize size;

  if (client->broken)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                   "The connection to %s failed earlier: connect again.",
                   client->path);
      return NULL;
    }

  /* Send request and newline in one write so the peer sees a whole line. */
  size = strlen (request);
  request = g_realloc (request, size + 2);
  request[size] = '\n';
  request[size + 1] = '\0';

  client->broken = TRUE;
  if (!send_all (client, request, size + 1, deadline, error))
    return NULL;
  line = receive_line (client, deadline, error);
  if (line == NULL)
    return NULL;
  client->broken = FALSE;
  return dvs_jsonrpc_parse_response (line, id, error);
}
