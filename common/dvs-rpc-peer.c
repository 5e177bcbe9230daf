/* A bidirectional JSON-RPC 2.0 connection over a GIOStream: line framing,
 * dispatch of incoming requests, outgoing calls with timeouts, a queue of
 * asynchronous writes.  Everything runs on the creator's main context; no
 * threads, no blocking I/O, so one loop can hold thousands of peers. */
#define G_LOG_DOMAIN "dvs-rpc"

#include "dvs-rpc-peer.h"
#include "dvs-json-write.h"

#include <string.h>

/* Bytes asked for per read. */
#define READ_CHUNK_SIZE (64 * 1024)

/* Lines are limited to 16 MiB on the host channel (docs/host-channel.md):
 * the limit when the creator gives none. */
#define DEFAULT_MAX_LINE (16 * 1024 * 1024)

/* Default per-call timeout. */
#define DEFAULT_TIMEOUT_MS 30000

typedef struct {
  DvsRpcPeer *peer;        /* borrowed: a call never outlives its table */
  gint64 id;
  gchar *method;
  DvsRpcPeerReplyFunc func;
  gpointer user_data;
  GSource *timeout;
} PendingCall;

struct _DvsRpcPeer {
  gint ref_count;           /* the owners' references */
  guint busy;               /* reads, writes and callbacks in progress: the
                             * peer is freed when both reach 0 */
  GIOStream *stream;
  GMainContext *context;
  GCancellable *cancellable;
  gchar *description;
  const DvsRpcPeerMethod *methods;
  gpointer user_data;
  gsize max_line;
  DvsRpcPeerClosedFunc closed_func;
  gpointer closed_data;

  gboolean started;
  gboolean closed;
  gboolean stream_closed;   /* g_io_stream_close_async() issued */

  /* Reading: one read in flight while started and open. */
  gboolean reading;
  GByteArray *buf;          /* received bytes; lines start at buf_start */
  gsize buf_start;
  gsize scan_from;          /* no newline in [buf_start, scan_from) */
  guint8 *chunk;

  /* Writing: GBytes lines, the head is being written. */
  GQueue out;
  gboolean writing;
  gsize queued_bytes;

  gint64 next_id;
  GHashTable *calls;        /* &id → PendingCall */
};

static void peer_read (DvsRpcPeer *peer);
static void peer_free (DvsRpcPeer *peer);
static void peer_write_next (DvsRpcPeer *peer);
static void peer_close_with (DvsRpcPeer *peer, GError *reason);

static void
peer_log (DvsRpcPeer *peer, GLogLevelFlags level, const gchar *format, ...)
  G_GNUC_PRINTF (3, 4);

static void
peer_log (DvsRpcPeer *peer, GLogLevelFlags level, const gchar *format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_log_structured (G_LOG_DOMAIN, level, "PEER", peer->description,
                    "MESSAGE", "%s: %s", peer->description, message);
}

static void
pending_call_free (PendingCall *call)
{
  if (call->timeout != NULL)
    {
      g_source_destroy (call->timeout);
      g_source_unref (call->timeout);
    }
  g_free (call->method);
  g_free (call);
}

DvsRpcPeer *
dvs_rpc_peer_new (GIOStream *stream, const gchar *description,
                  const DvsRpcPeerMethod *methods, gpointer user_data,
                  gsize max_line)
{
  DvsRpcPeer *peer;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);
  peer = g_new0 (DvsRpcPeer, 1);
  peer->ref_count = 1;
  peer->stream = g_object_ref (stream);
  peer->context = g_main_context_ref_thread_default ();
  peer->cancellable = g_cancellable_new ();
  peer->description = g_strdup (description != NULL ? description : "peer");
  peer->methods = methods;
  peer->user_data = user_data;
  peer->max_line = max_line > 0 ? max_line : DEFAULT_MAX_LINE;
  peer->buf = g_byte_array_new ();
  peer->chunk = g_malloc (READ_CHUNK_SIZE);
  g_queue_init (&peer->out);
  peer->next_id = 1;
  peer->calls = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                       (GDestroyNotify) pending_call_free);
  return peer;
}

/* Keeps the peer alive across an operation or a callback that may drop the
 * owners' last reference. */
static void
peer_hold (DvsRpcPeer *peer)
{
  peer->busy++;
}

static void
peer_release (DvsRpcPeer *peer)
{
  if (--peer->busy == 0 && peer->ref_count == 0)
    peer_free (peer);
}

DvsRpcPeer *
dvs_rpc_peer_ref (DvsRpcPeer *peer)
{
  g_return_val_if_fail (peer != NULL, NULL);
  peer->ref_count++;
  return peer;
}

static void
on_stream_closed (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (source), res, NULL);
}

/* Closes the stream once no read or write is in flight (GIO refuses to
 * close a stream with an operation pending). */
static void
peer_maybe_close_stream (DvsRpcPeer *peer)
{
  if (!peer->closed || peer->stream_closed || peer->reading || peer->writing)
    return;
  peer->stream_closed = TRUE;
  g_main_context_push_thread_default (peer->context);
  g_io_stream_close_async (peer->stream, G_PRIORITY_DEFAULT, NULL,
                           on_stream_closed, NULL);
  g_main_context_pop_thread_default (peer->context);
}

static void
peer_free (DvsRpcPeer *peer)
{
  peer_maybe_close_stream (peer);
  g_hash_table_unref (peer->calls);
  g_queue_clear_full (&peer->out, (GDestroyNotify) g_bytes_unref);
  g_object_unref (peer->stream);
  g_object_unref (peer->cancellable);
  g_main_context_unref (peer->context);
  g_byte_array_unref (peer->buf);
  g_free (peer->chunk);
  g_free (peer->description);
  g_free (peer);
}

/* The last owner's reference closes the connection (pending calls fail
 * with G_IO_ERROR_CLOSED); the memory goes once the read or write in
 * flight has finished. */
void
dvs_rpc_peer_unref (DvsRpcPeer *peer)
{
  if (peer == NULL)
    return;
  g_return_if_fail (peer->ref_count > 0);
  if (--peer->ref_count > 0)
    return;
  peer_hold (peer);
  dvs_rpc_peer_close (peer);
  peer_release (peer);
}

void
dvs_rpc_peer_set_closed_func (DvsRpcPeer *peer, DvsRpcPeerClosedFunc func,
                              gpointer user_data)
{
  peer->closed_func = func;
  peer->closed_data = user_data;
}

void
dvs_rpc_peer_set_user_data (DvsRpcPeer *peer, gpointer user_data)
{
  peer->user_data = user_data;
}

gpointer
dvs_rpc_peer_get_user_data (DvsRpcPeer *peer)
{
  return peer->user_data;
}

const gchar *
dvs_rpc_peer_get_description (DvsRpcPeer *peer)
{
  return peer->description;
}

void
dvs_rpc_peer_set_description (DvsRpcPeer *peer, const gchar *description)
{
  g_free (peer->description);
  peer->description = g_strdup (description != NULL ? description : "peer");
}

gboolean
dvs_rpc_peer_is_closed (DvsRpcPeer *peer)
{
  return peer->closed;
}

gsize
dvs_rpc_peer_get_queued_bytes (DvsRpcPeer *peer)
{
  return peer->queued_bytes;
}

/* ---- writing ---- */

static void
on_written (GObject *source, GAsyncResult *res, gpointer user_data)
{
  DvsRpcPeer *peer = user_data;   /* held by the write */
  g_autoptr(GError) error = NULL;
  GBytes *line;
  gboolean ok;

  ok = g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL,
                                         &error);
  peer->writing = FALSE;
  line = g_queue_pop_head (&peer->out);
  if (line != NULL)
    {
      peer->queued_bytes -= g_bytes_get_size (line);
      g_bytes_unref (line);
    }
  if (!ok && !peer->closed)
    {
      peer_log (peer, G_LOG_LEVEL_DEBUG, "sending failed: %s", error->message);
      g_prefix_error (&error, "Sending to the peer failed: ");
      peer_close_with (peer, g_steal_pointer (&error));
    }
  if (peer->closed)
    peer_maybe_close_stream (peer);
  else
    peer_write_next (peer);
  peer_release (peer);
}

static void
peer_write_next (DvsRpcPeer *peer)
{
  GOutputStream *out = g_io_stream_get_output_stream (peer->stream);
  GBytes *line = g_queue_peek_head (&peer->out);
  gsize size;
  gconstpointer data;

  if (peer->writing || peer->closed || line == NULL)
    return;
  data = g_bytes_get_data (line, &size);
  peer->writing = TRUE;
  peer_hold (peer);
  g_main_context_push_thread_default (peer->context);
  g_output_stream_write_all_async (out, data, size, G_PRIORITY_DEFAULT,
                                   peer->cancellable, on_written, peer);
  g_main_context_pop_thread_default (peer->context);
}

/* Queues @text (consumed) and a newline. */
static void
peer_send (DvsRpcPeer *peer, gchar *text)
{
  gsize len = strlen (text);
  GBytes *line;

  if (peer->closed)
    {
      g_free (text);
      return;
    }
  text = g_realloc (text, len + 2);
  text[len] = '\n';
  text[len + 1] = '\0';
  line = g_bytes_new_take (text, len + 1);
  peer->queued_bytes += len + 1;
  g_queue_push_tail (&peer->out, line);
  peer_write_next (peer);
}

/* ---- calls ---- */

typedef struct {
  DvsRpcPeer *peer;
  DvsRpcPeerReplyFunc func;
  gpointer user_data;
} ClosedReply;

static gboolean
closed_reply_dispatch (gpointer data)
{
  ClosedReply *r = data;
  g_autoptr(GError) error =
    g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED,
                 "The connection to %s is closed", r->peer->description);

  r->func (r->peer, NULL, error, r->user_data);
  return G_SOURCE_REMOVE;
}

static void
closed_reply_free (gpointer data)
{
  ClosedReply *r = data;

  dvs_rpc_peer_unref (r->peer);
  g_free (r);
}

static gboolean
on_call_timeout (gpointer data)
{
  PendingCall *call = data;
  DvsRpcPeer *peer = call->peer;
  g_autoptr(GError) error = NULL;
  DvsRpcPeerReplyFunc func = call->func;
  gpointer user_data = call->user_data;

  g_set_error (&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "%s did not answer %s in time", peer->description,
               call->method);
  peer_log (peer, G_LOG_LEVEL_INFO, "call %s (id %" G_GINT64_FORMAT ") "
            "timed out", call->method, call->id);
  g_source_unref (call->timeout);
  call->timeout = NULL;
  peer_hold (peer);
  g_hash_table_remove (peer->calls, &call->id);
  if (func != NULL)
    func (peer, NULL, error, user_data);
  peer_release (peer);
  return G_SOURCE_REMOVE;
}

void
dvs_rpc_peer_call (DvsRpcPeer *peer, const gchar *method, JsonObject *params,
                   guint timeout_ms, DvsRpcPeerReplyFunc func,
                   gpointer user_data)
{
  PendingCall *call;

  if (peer->closed)
    {
      if (params != NULL)
        json_object_unref (params);
      if (func != NULL)
        {
          ClosedReply *r = g_new0 (ClosedReply, 1);
          GSource *idle = g_idle_source_new ();

          r->peer = dvs_rpc_peer_ref (peer);
          r->func = func;
          r->user_data = user_data;
          g_source_set_callback (idle, closed_reply_dispatch, r,
                                 closed_reply_free);
          g_source_attach (idle, peer->context);
          g_source_unref (idle);
        }
      return;
    }
  call = g_new0 (PendingCall, 1);
  call->peer = peer;
  call->id = peer->next_id++;
  call->method = g_strdup (method);
  call->func = func;
  call->user_data = user_data;
  call->timeout = g_timeout_source_new (timeout_ms > 0 ? timeout_ms
                                                       : DEFAULT_TIMEOUT_MS);
  g_source_set_callback (call->timeout, on_call_timeout, call, NULL);
  g_source_attach (call->timeout, peer->context);
  g_hash_table_insert (peer->calls, &call->id, call);
  peer_send (peer, dvs_jsonrpc_build_request (call->id, method, params));
}

void
dvs_rpc_peer_notify (DvsRpcPeer *peer, const gchar *method, JsonObject *params)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autoptr(JsonNode) root = NULL;

  if (peer->closed)
    {
      if (params != NULL)
        json_object_unref (params);
      return;
    }
  json_object_set_string_member (obj, "jsonrpc", "2.0");
  json_object_set_string_member (obj, "method", method);
  if (params != NULL)
    json_object_set_object_member (obj, "params", params);
  root = json_node_init_object (json_node_alloc (), obj);
  peer_send (peer, dvs_json_write (root, FALSE));
}

static gint
compare_calls (gconstpointer a, gconstpointer b)
{
  const PendingCall *ca = a, *cb = b;

  return ca->id < cb->id ? -1 : ca->id > cb->id;
}

/* Ends the connection: fails every pending call, tells the owner.
 * @reason (consumed) is NULL for a local close. */
static void
peer_close_with (DvsRpcPeer *peer, GError *reason)
{
  g_autoptr(GError) owned_reason = reason;
  g_autoptr(GList) calls = NULL;
  g_autoptr(GHashTable) table = NULL;

  if (peer->closed)
    return;
  peer->closed = TRUE;
  peer_hold (peer);
  g_cancellable_cancel (peer->cancellable);
  /* The queue is dropped; the line being written (if any) finishes with
   * G_IO_ERROR_CANCELLED. */
  while (g_queue_get_length (&peer->out) > (peer->writing ? 1u : 0u))
    {
      GBytes *line = g_queue_pop_tail (&peer->out);
      peer->queued_bytes -= g_bytes_get_size (line);
      g_bytes_unref (line);
    }
  peer_maybe_close_stream (peer);

  /* Callbacks may call back into the peer: work on a table of its own. */
  table = peer->calls;
  peer->calls = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                       (GDestroyNotify) pending_call_free);
  calls = g_hash_table_get_values (table);
  calls = g_list_sort (calls, compare_calls);
  for (GList *l = calls; l != NULL; l = l->next)
    {
      PendingCall *call = l->data;
      g_autoptr(GError) error = NULL;

      if (call->func == NULL)
        continue;
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED,
                           "The connection to %s closed before it answered "
                           "%s%s%s", peer->description, call->method,
                           reason != NULL ? ": " : "",
                           reason != NULL ? reason->message : "");
      call->func (peer, NULL, error, call->user_data);
    }
  if (peer->closed_func != NULL)
    peer->closed_func (peer, reason, peer->closed_data);
  peer_release (peer);
}

void
dvs_rpc_peer_close (DvsRpcPeer *peer)
{
  peer_close_with (peer, NULL);
}

/* A protocol violation or transport failure: logged, connection closed. */
static void
peer_fail (DvsRpcPeer *peer, GLogLevelFlags level, gint code,
           const gchar *format, ...) G_GNUC_PRINTF (4, 5);

static void
peer_fail (DvsRpcPeer *peer, GLogLevelFlags level, gint code,
           const gchar *format, ...)
{
  g_autofree gchar *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  peer_log (peer, level, "%s; closing the connection", message);
  peer_close_with (peer, g_error_new_literal (G_IO_ERROR, code, message));
}

/* ---- incoming lines ---- */

static const DvsRpcPeerMethod *
find_method (const DvsRpcPeerMethod *methods, const gchar *name)
{
  for (const DvsRpcPeerMethod *m = methods; m != NULL && m->name != NULL; m++)
    if (g_strcmp0 (m->name, name) == 0)
      return m;
  return NULL;
}

static gchar *
method_not_found (const DvsRpcPeerMethod *methods, const gchar *name)
{
  g_autoptr(GString) known = g_string_new (NULL);

  for (const DvsRpcPeerMethod *m = methods; m != NULL && m->name != NULL; m++)
    g_string_append_printf (known, "%s%s", known->len > 0 ? ", " : "",
                            m->name);
  return g_strdup_printf ("Unknown method \"%s\": the methods here are %s.",
                          name, known->len > 0 ? known->str : "(none)");
}

static void
handle_request (DvsRpcPeer *peer, DvsJsonrpcRequest *req)
{
  const DvsRpcPeerMethod *method = find_method (peer->methods, req->method);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = NULL;
  gint code;

  if (method == NULL)
    {
      g_autofree gchar *message = method_not_found (peer->methods, req->method);

      peer_log (peer, G_LOG_LEVEL_INFO, "refused unknown method %s",
                req->method);
      if (req->id != NULL)
        peer_send (peer, dvs_jsonrpc_build_error (req->id,
                                                  DVS_JSONRPC_METHOD_NOT_FOUND,
                                                  message));
      return;
    }
  result = method->handler (peer, req->params, peer->user_data, &error);
  if (result == NULL && error == NULL)
    g_set_error (&error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                 "The method %s failed without saying why: this is a bug, "
                 "please report it.", req->method);
  if (error != NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "PEER",
                      peer->description, "METHOD", req->method, "MESSAGE",
                      "%s: %s failed: %s", peer->description, req->method,
                      error->message);
  if (req->id == NULL || peer->closed)
    return;
  if (result != NULL)
    {
      peer_send (peer, dvs_jsonrpc_build_result (req->id,
                                                 g_steal_pointer (&result)));
      return;
    }
  code = error->domain == DVS_JSONRPC_ERROR ? error->code
                                            : DVS_JSONRPC_INTERNAL_ERROR;
  peer_send (peer, dvs_jsonrpc_build_error (req->id, code, error->message));
}

/* Whether @line (valid JSON, an object: parse_request got that far) is a
 * response rather than a request. */
static gboolean
looks_like_response (const gchar *line, gsize len)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  if (!json_parser_load_from_data (parser, line, (gssize) len, NULL)
      || json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;
  obj = json_node_get_object (json_parser_get_root (parser));
  return !json_object_has_member (obj, "method")
         && (json_object_has_member (obj, "result")
             || json_object_has_member (obj, "error"));
}

/* A response line with id @id_node (an id parse_request found valid). */
static void
handle_response (DvsRpcPeer *peer, const gchar *line, JsonNode *id_node)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = NULL;
  PendingCall *call;
  gint64 id;

  if (JSON_NODE_HOLDS_NULL (id_node))
    {
      /* An error about a line the peer could not parse: nothing to match
       * it to; our lines are well formed, so it is worth a warning. */
      result = dvs_jsonrpc_parse_response (line, 0, &error);
      peer_log (peer, G_LOG_LEVEL_WARNING, "the peer reported an error "
                "without an id: %s", error != NULL ? error->message : line);
      return;
    }
  if (json_node_get_value_type (id_node) != G_TYPE_INT64)
    {
      peer_fail (peer, G_LOG_LEVEL_WARNING, G_IO_ERROR_INVALID_DATA,
                 "the peer sent a response to id \"%s\", a request never "
                 "made", json_node_get_string (id_node));
      return;
    }
  id = json_node_get_int (id_node);
  call = g_hash_table_lookup (peer->calls, &id);
  if (call == NULL)
    {
      if (id > 0 && id < peer->next_id)
        {
          /* Made, but timed out already: a late answer. */
          peer_log (peer, G_LOG_LEVEL_INFO, "late response to call %"
                    G_GINT64_FORMAT " ignored (it timed out)", id);
          return;
        }
      peer_fail (peer, G_LOG_LEVEL_WARNING, G_IO_ERROR_INVALID_DATA,
                 "the peer sent a response to id %" G_GINT64_FORMAT
                 ", a request never made", id);
      return;
    }
  result = dvs_jsonrpc_parse_response (line, id, &error);
  if (error != NULL && error->domain != DVS_JSONRPC_ERROR)
    peer_log (peer, G_LOG_LEVEL_WARNING, "bad response to %s: %s",
              call->method, error->message);
  g_hash_table_steal (peer->calls, &call->id);
  if (call->func != NULL)
    call->func (peer, result, error, call->user_data);
  pending_call_free (call);
}

static void
handle_line (DvsRpcPeer *peer, const gchar *line, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) bad_id = NULL;
  g_autoptr(DvsJsonrpcRequest) req = NULL;

  req = dvs_jsonrpc_parse_request (line, len, &bad_id, &error);
  if (req != NULL)
    {
      handle_request (peer, req);
      return;
    }
  if (bad_id != NULL && error->code == DVS_JSONRPC_INVALID_REQUEST
      && looks_like_response (line, len))
    {
      handle_response (peer, line, bad_id);
      return;
    }
  peer_log (peer, G_LOG_LEVEL_WARNING, "refused a line: %s", error->message);
  peer_send (peer, dvs_jsonrpc_build_error (bad_id, error->code,
                                            error->message));
}

/* Handles every complete line buffered, then reads more. */
static void
peer_process (DvsRpcPeer *peer)
{
  while (!peer->closed)
    {
      guint8 *data = peer->buf->data + peer->buf_start;
      gsize avail = peer->buf->len - peer->buf_start;
      gsize skip = peer->scan_from - peer->buf_start;
      guint8 *nl = avail > skip ? memchr (data + skip, '\n', avail - skip)
                                : NULL;
      gsize line_size;

      if (nl == NULL)
        {
          peer->scan_from = peer->buf->len;
          if (avail > peer->max_line)
            {
              peer_fail (peer, G_LOG_LEVEL_WARNING, G_IO_ERROR_MESSAGE_TOO_LARGE,
                         "the peer sent a line longer than %" G_GSIZE_FORMAT
                         " bytes", peer->max_line);
              return;
            }
          break;
        }
      line_size = (gsize) (nl - data);
      peer->buf_start += line_size + 1;
      peer->scan_from = peer->buf_start;
      if (line_size > peer->max_line)
        {
          peer_fail (peer, G_LOG_LEVEL_WARNING, G_IO_ERROR_MESSAGE_TOO_LARGE,
                     "the peer sent a line longer than %" G_GSIZE_FORMAT
                     " bytes", peer->max_line);
          return;
        }
      /* NUL-terminated in place: the response parser wants a string. */
      *nl = '\0';
      if (line_size > 0 && data[line_size - 1] == '\r')
        data[--line_size] = '\0';
      if (line_size == 0)
        continue;
      handle_line (peer, (const gchar *) data, line_size);
    }
  if (peer->buf_start > 0)
    {
      g_byte_array_remove_range (peer->buf, 0, (guint) peer->buf_start);
      peer->scan_from -= peer->buf_start;
      peer->buf_start = 0;
    }
  if (!peer->closed)
    peer_read (peer);
}

/* @error (consumed) is set when @n < 0. */
static void
peer_read_done (DvsRpcPeer *peer, gssize n, GError *error)
{
  g_autoptr(GError) owned_error = error;

  if (peer->closed)
    {
      peer_maybe_close_stream (peer);
      return;
    }
  if (n < 0)
    {
      /* The owner hears of it from the closed func, with the reason. */
      peer_log (peer, G_LOG_LEVEL_DEBUG, "reading failed: %s", error->message);
      g_prefix_error (&owned_error, "Reading from the peer failed: ");
      peer_close_with (peer, g_steal_pointer (&owned_error));
      return;
    }
  if (n == 0)
    {
      if (peer->buf->len > 0)
        peer_log (peer, G_LOG_LEVEL_INFO, "the peer closed the connection "
                  "in the middle of a line (%u bytes discarded)",
                  peer->buf->len);
      else
        peer_log (peer, G_LOG_LEVEL_DEBUG, "the peer closed the connection");
      peer_close_with (peer, g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                          "%s closed the connection",
                                          peer->description));
      return;
    }
  g_byte_array_append (peer->buf, peer->chunk, (guint) n);
  peer_process (peer);
}

static void
on_read (GObject *source, GAsyncResult *res, gpointer user_data)
{
  DvsRpcPeer *peer = user_data;   /* held by the read */
  GError *error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), res, &error);
  peer->reading = FALSE;
  peer_read_done (peer, n, error);
  peer_release (peer);
}

static void
peer_read (DvsRpcPeer *peer)
{
  GInputStream *in = g_io_stream_get_input_stream (peer->stream);

  if (peer->reading || peer->closed)
    return;
  peer->reading = TRUE;
  peer_hold (peer);
  g_main_context_push_thread_default (peer->context);
  g_input_stream_read_async (in, peer->chunk, READ_CHUNK_SIZE,
                             G_PRIORITY_DEFAULT, peer->cancellable, on_read,
                             peer);
  g_main_context_pop_thread_default (peer->context);
}

void
dvs_rpc_peer_start (DvsRpcPeer *peer)
{
  if (peer->started || peer->closed)
    return;
  peer->started = TRUE;
  peer_read (peer);
}
