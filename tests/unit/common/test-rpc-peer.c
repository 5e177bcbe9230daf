/* dvs-rpc-peer: two peers over a socketpair in one GMainContext (calls both
 * ways, notifications, errors), and a peer facing a raw socket end that the
 * test drives byte by byte (garbage, oversized lines, stray replies,
 * silence, hang-ups). */
#include "dvs-rpc-peer.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 5000

/* --- Log capture: the peer logs protocol violations; keep them quiet and
 * let tests assert them. */

static GPtrArray *records;

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                gpointer user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
      g_ptr_array_add (records, g_strdup (fields[i].value));
  return G_LOG_WRITER_HANDLED;
}

static gboolean
logged (const gchar *part)
{
  for (guint i = 0; i < records->len; i++)
    if (strstr (records->pdata[i], part) != NULL)
      return TRUE;
  return FALSE;
}

/* --- Fixture: peer a (methods) ⇄ peer b (methods), or peer a ⇄ raw fd. */

typedef struct {
  GMainContext *context;
  DvsRpcPeer *a;
  DvsRpcPeer *b;
  int raw;                 /* the other end of a, when b is NULL */
  gint a_closed;
  gint b_closed;
  GError *a_reason;
  gint notified;
  gchar *last_note;
} Fixture;

static JsonNode *
method_add (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
            GError **error)
{
  gint64 x = 0, y = 0;

  if (!dvs_jsonrpc_param_int_opt (params, "x", G_MININT32, G_MAXINT32, &x, error)
      || !dvs_jsonrpc_param_int_opt (params, "y", G_MININT32, G_MAXINT32, &y, error))
    return NULL;
  return json_node_init_int (json_node_alloc (), x + y);
}

static JsonNode *
method_echo (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
             GError **error)
{
  return json_node_init_object (json_node_alloc (), params);
}

static JsonNode *
method_fail (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
             GError **error)
{
  g_set_error_literal (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NO_SUCH_PORT,
                       "No DVport p9 here.");
  return NULL;
}

static JsonNode *
method_crash (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
              GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Disk on fire.");
  return NULL;
}

static JsonNode *
method_note (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
             GError **error)
{
  Fixture *f = user_data;
  const gchar *text = NULL;

  f->notified++;
  g_free (f->last_note);
  dvs_jsonrpc_param_string_opt (params, "text", &text, NULL);
  f->last_note = g_strdup (text);
  return json_node_new (JSON_NODE_NULL);
}

/* Closes its own connection while handling a request. */
static JsonNode *
method_hang_up (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
                GError **error)
{
  dvs_rpc_peer_close (peer);
  return json_node_new (JSON_NODE_NULL);
}

static const DvsRpcPeerMethod methods[] = {
  { "add", method_add },
  { "echo", method_echo },
  { "fail", method_fail },
  { "crash", method_crash },
  { "note", method_note },
  { "hang-up", method_hang_up },
  { NULL, NULL },
};

static void
on_a_closed (DvsRpcPeer *peer, const GError *reason, gpointer user_data)
{
  Fixture *f = user_data;

  f->a_closed++;
  g_clear_error (&f->a_reason);
  if (reason != NULL)
    f->a_reason = g_error_copy (reason);
}

static void
on_b_closed (DvsRpcPeer *peer, const GError *reason, gpointer user_data)
{
  ((Fixture *) user_data)->b_closed++;
}

static GIOStream *
stream_from_fd (int fd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, &error);

  g_assert_no_error (error);
  return G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
}

static void
setup_common (Fixture *f, gboolean raw, gsize max_line)
{
  int fds[2];
  g_autoptr(GIOStream) sa = NULL;

  records = g_ptr_array_new_with_free_func (g_free);
  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  sa = stream_from_fd (fds[0]);
  f->a = dvs_rpc_peer_new (sa, "peer a", methods, f, max_line);
  dvs_rpc_peer_set_closed_func (f->a, on_a_closed, f);
  f->raw = -1;
  if (raw)
    {
      f->raw = fds[1];
      g_assert_cmpint (fcntl (f->raw, F_SETFL, O_NONBLOCK), ==, 0);
    }
  else
    {
      g_autoptr(GIOStream) sb = stream_from_fd (fds[1]);

      f->b = dvs_rpc_peer_new (sb, "peer b", methods, f, 0);
      dvs_rpc_peer_set_closed_func (f->b, on_b_closed, f);
      dvs_rpc_peer_start (f->b);
    }
  dvs_rpc_peer_start (f->a);
}

static void
setup_pair (Fixture *f, gconstpointer data)
{
  setup_common (f, FALSE, 0);
}

static void
setup_raw (Fixture *f, gconstpointer data)
{
  setup_common (f, TRUE, 1024);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->a, dvs_rpc_peer_unref);
  g_clear_pointer (&f->b, dvs_rpc_peer_unref);
  if (f->raw >= 0)
    close (f->raw);
  /* Let cancelled operations and stream closes finish: nothing leaks. */
  for (int i = 0; i < 100; i++)
    {
      while (g_main_context_iteration (f->context, FALSE))
        ;
      g_usleep (1000);
    }
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
  g_clear_error (&f->a_reason);
  g_free (f->last_note);
  g_clear_pointer (&records, g_ptr_array_unref);
}

/* Iterates the context until *@flag is non-zero; fails after WAIT_MS. */
static void
wait_for (Fixture *f, gint *flag)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (*flag == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (f->context, FALSE);
      g_usleep (200);
    }
}

/* Iterates for @ms. */
static void
spin (Fixture *f, guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (f->context, FALSE);
      g_usleep (200);
    }
}

/* --- Replies */

typedef struct {
  gint done;
  JsonNode *result;
  GError *error;
} Reply;

static void
reply_clear (Reply *r)
{
  g_clear_pointer (&r->result, json_node_unref);
  g_clear_error (&r->error);
  r->done = 0;
}

static void
on_reply (DvsRpcPeer *peer, JsonNode *result, const GError *error,
          gpointer user_data)
{
  Reply *r = user_data;

  g_assert_cmpint (r->done, ==, 0);
  r->done = 1;
  if (result != NULL)
    r->result = json_node_ref (result);
  if (error != NULL)
    r->error = g_error_copy (error);
}

static JsonObject *
xy (gint x, gint y)
{
  JsonObject *o = json_object_new ();

  json_object_set_int_member (o, "x", x);
  json_object_set_int_member (o, "y", y);
  return o;
}

/* --- Raw end helpers */

static void
raw_send (Fixture *f, const gchar *text)
{
  gsize len = strlen (text);

  g_assert_cmpint (write (f->raw, text, len), ==, (gssize) len);
}

/* The next line the peer wrote, or NULL at EOF; iterates meanwhile. */
static gchar *
raw_read_line (Fixture *f)
{
  g_autoptr(GString) line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  for (;;)
    {
      gchar c;
      gssize n = read (f->raw, &c, 1);

      if (n == 1 && c == '\n')
        return g_string_free (g_steal_pointer (&line), FALSE);
      if (n == 1)
        {
          g_string_append_c (line, c);
          continue;
        }
      if (n == 0)
        return NULL;
      g_assert_cmpint (errno, ==, EAGAIN);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (f->context, FALSE);
      g_usleep (200);
    }
}

static JsonObject *
raw_read_object (Fixture *f)
{
  g_autofree gchar *line = raw_read_line (f);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (line);
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static gint64
error_code (JsonObject *response)
{
  return json_object_get_int_member (json_object_get_object_member (response, "error"),
                                     "code");
}

/* --- Tests: two peers */

static void
test_calls_both_ways (Fixture *f, gconstpointer data)
{
  Reply ra = { 0 }, rb = { 0 };

  dvs_rpc_peer_call (f->a, "add", xy (2, 3), 0, on_reply, &ra);
  dvs_rpc_peer_call (f->b, "add", xy (40, 2), 0, on_reply, &rb);
  g_assert_cmpuint (dvs_rpc_peer_get_queued_bytes (f->a), >, 0);
  wait_for (f, &ra.done);
  wait_for (f, &rb.done);
  g_assert_no_error (ra.error);
  g_assert_no_error (rb.error);
  g_assert_cmpint (json_node_get_int (ra.result), ==, 5);
  g_assert_cmpint (json_node_get_int (rb.result), ==, 42);
  g_assert_cmpuint (dvs_rpc_peer_get_queued_bytes (f->a), ==, 0);
  reply_clear (&ra);
  reply_clear (&rb);
  g_assert_false (dvs_rpc_peer_is_closed (f->a));
  g_assert_cmpstr (dvs_rpc_peer_get_description (f->a), ==, "peer a");
  dvs_rpc_peer_set_description (f->a, "host h1");
  g_assert_cmpstr (dvs_rpc_peer_get_description (f->a), ==, "host h1");
  g_assert_true (dvs_rpc_peer_get_user_data (f->a) == f);
}

static void
test_many_calls_in_flight (Fixture *f, gconstpointer data)
{
  Reply replies[200] = { { 0 } };

  for (guint i = 0; i < G_N_ELEMENTS (replies); i++)
    dvs_rpc_peer_call (f->a, "add", xy ((gint) i, 1), 0, on_reply, &replies[i]);
  for (guint i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      wait_for (f, &replies[i].done);
      g_assert_no_error (replies[i].error);
      g_assert_cmpint (json_node_get_int (replies[i].result), ==, i + 1);
      reply_clear (&replies[i]);
    }
}

/* Several MiB each way: many reads and writes per line. */
static void
test_big_messages (Fixture *f, gconstpointer data)
{
  gsize size = 4 * 1024 * 1024;
  g_autofree gchar *big = g_malloc (size + 1);
  JsonObject *params = json_object_new ();
  Reply r = { 0 };

  memset (big, 'x', size);
  big[size] = '\0';
  json_object_set_string_member (params, "blob", big);
  dvs_rpc_peer_call (f->a, "echo", params, 0, on_reply, &r);
  wait_for (f, &r.done);
  g_assert_no_error (r.error);
  g_assert_cmpuint (strlen (json_object_get_string_member (json_node_get_object (r.result),
                                                           "blob")), ==, size);
  reply_clear (&r);
}

static void
test_notifications (Fixture *f, gconstpointer data)
{
  JsonObject *params = json_object_new ();
  Reply r = { 0 };

  json_object_set_string_member (params, "text", "link down");
  dvs_rpc_peer_notify (f->a, "note", params);
  /* Unknown notifications get no answer, not even an error. */
  dvs_rpc_peer_notify (f->a, "no-such-method", NULL);
  /* A call behind them shows they were handled, in order. */
  dvs_rpc_peer_call (f->a, "add", xy (1, 1), 0, on_reply, &r);
  wait_for (f, &r.done);
  g_assert_no_error (r.error);
  g_assert_cmpint (f->notified, ==, 1);
  g_assert_cmpstr (f->last_note, ==, "link down");
  reply_clear (&r);
}

static void
test_handler_errors (Fixture *f, gconstpointer data)
{
  Reply r = { 0 };

  dvs_rpc_peer_call (f->a, "fail", NULL, 0, on_reply, &r);
  wait_for (f, &r.done);
  g_assert_error (r.error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NO_SUCH_PORT);
  g_assert_cmpstr (r.error->message, ==, "No DVport p9 here.");
  reply_clear (&r);

  dvs_rpc_peer_call (f->a, "crash", NULL, 0, on_reply, &r);
  wait_for (f, &r.done);
  g_assert_error (r.error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR);
  reply_clear (&r);

  dvs_rpc_peer_call (f->a, "port.add", NULL, 0, on_reply, &r);
  wait_for (f, &r.done);
  g_assert_error (r.error, DVS_JSONRPC_ERROR, DVS_JSONRPC_METHOD_NOT_FOUND);
  g_assert_nonnull (strstr (r.error->message, "port.add"));
  reply_clear (&r);

  g_assert_cmpint (f->a_closed + f->b_closed, ==, 0);
}

/* The peer ends a connection from inside a handler: the caller's call ends
 * with CLOSED, both sides' closed funcs run once. */
static void
test_close_in_handler (Fixture *f, gconstpointer data)
{
  Reply r = { 0 };

  dvs_rpc_peer_call (f->a, "hang-up", NULL, 0, on_reply, &r);
  wait_for (f, &r.done);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  wait_for (f, &f->a_closed);
  g_assert_cmpint (f->b_closed, ==, 1);
  g_assert_error (f->a_reason, G_IO_ERROR, G_IO_ERROR_CLOSED);
  reply_clear (&r);
}

/* A local close: pending calls fail with CLOSED, the closed func gets no
 * reason, later calls fail from an idle callback, not at once. */
static void
test_local_close (Fixture *f, gconstpointer data)
{
  Reply r1 = { 0 }, r2 = { 0 };

  dvs_rpc_peer_call (f->a, "add", xy (1, 2), 0, on_reply, &r1);
  dvs_rpc_peer_close (f->a);
  g_assert_cmpint (r1.done, ==, 1);
  g_assert_error (r1.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_cmpint (f->a_closed, ==, 1);
  g_assert_null (f->a_reason);
  g_assert_true (dvs_rpc_peer_is_closed (f->a));
  dvs_rpc_peer_close (f->a);
  g_assert_cmpint (f->a_closed, ==, 1);

  dvs_rpc_peer_call (f->a, "add", xy (1, 2), 0, on_reply, &r2);
  dvs_rpc_peer_notify (f->a, "note", NULL);
  g_assert_cmpint (r2.done, ==, 0);
  wait_for (f, &r2.done);
  g_assert_error (r2.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  /* The other side sees the end of the stream. */
  wait_for (f, &f->b_closed);
  reply_clear (&r1);
  reply_clear (&r2);
}

/* The owner drops its last reference with a call pending: the call ends
 * with CLOSED and nothing leaks (ASan). */
static void
test_unref_with_pending_call (Fixture *f, gconstpointer data)
{
  Reply r = { 0 };

  dvs_rpc_peer_call (f->a, "add", xy (1, 2), 0, on_reply, &r);
  g_clear_pointer (&f->a, dvs_rpc_peer_unref);
  g_assert_cmpint (r.done, ==, 1);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  wait_for (f, &f->b_closed);
  reply_clear (&r);
}

/* --- Tests: a peer facing raw bytes */

static void
test_timeout (Fixture *f, gconstpointer data)
{
  Reply r = { 0 };
  g_autoptr(JsonObject) req = NULL;
  g_autofree gchar *late = NULL;

  dvs_rpc_peer_call (f->a, "host.heartbeat", NULL, 100, on_reply, &r);
  req = raw_read_object (f);
  g_assert_cmpstr (json_object_get_string_member (req, "method"), ==, "host.heartbeat");
  wait_for (f, &r.done);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* A late answer to it is ignored; the connection stays. */
  late = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%" G_GINT64_FORMAT ",\"result\":{}}\n",
                          json_object_get_int_member (req, "id"));
  raw_send (f, late);
  spin (f, 50);
  g_assert_cmpint (f->a_closed, ==, 0);
  g_assert_true (logged ("late response"));
  reply_clear (&r);
}

static void
test_peer_closes_mid_call (Fixture *f, gconstpointer data)
{
  Reply r1 = { 0 }, r2 = { 0 };
  g_autoptr(JsonObject) req = NULL;

  dvs_rpc_peer_call (f->a, "switch.apply", NULL, 0, on_reply, &r1);
  dvs_rpc_peer_call (f->a, "dvport.show", NULL, 0, on_reply, &r2);
  req = raw_read_object (f);
  raw_send (f, "{\"jsonrpc\":\"2.0\",");   /* half a line, then gone */
  close (f->raw);
  f->raw = -1;
  wait_for (f, &r1.done);
  wait_for (f, &r2.done);
  g_assert_error (r1.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_error (r2.error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_cmpint (f->a_closed, ==, 1);
  g_assert_error (f->a_reason, G_IO_ERROR, G_IO_ERROR_CLOSED);
  reply_clear (&r1);
  reply_clear (&r2);
}

static void
test_oversized_line_closes (Fixture *f, gconstpointer data)
{
  gchar big[2000];
  g_autofree gchar *eof = NULL;

  memset (big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  raw_send (f, big);
  wait_for (f, &f->a_closed);
  g_assert_error (f->a_reason, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  eof = raw_read_line (f);
  g_assert_null (eof);
  g_assert_true (logged ("longer than 1024 bytes"));
}

/* Garbage is answered and logged; the connection stays and serves. */
static void
test_garbage_answered (Fixture *f, gconstpointer data)
{
  g_autoptr(JsonObject) r1 = NULL, r2 = NULL, r3 = NULL, r4 = NULL;

  raw_send (f, "this is not json\n");
  r1 = raw_read_object (f);
  g_assert_cmpint (error_code (r1), ==, DVS_JSONRPC_PARSE_ERROR);
  g_assert_true (json_object_get_null_member (r1, "id"));

  raw_send (f, "\r\n\n{\"jsonrpc\":\"1.0\",\"id\":7,\"method\":\"add\"}\r\n");
  r2 = raw_read_object (f);
  g_assert_cmpint (error_code (r2), ==, DVS_JSONRPC_INVALID_REQUEST);
  g_assert_cmpint (json_object_get_int_member (r2, "id"), ==, 7);

  raw_send (f, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"add\",\"params\":[1,2]}\n");
  r3 = raw_read_object (f);
  g_assert_cmpint (error_code (r3), ==, DVS_JSONRPC_INVALID_REQUEST);

  raw_send (f, "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"add\",\"params\":{\"x\":1,\"y\":2}}\n");
  r4 = raw_read_object (f);
  g_assert_cmpstr (json_object_get_string_member (r4, "id"), ==, "x");
  g_assert_cmpint (json_object_get_int_member (r4, "result"), ==, 3);
  g_assert_cmpint (f->a_closed, ==, 0);
  g_assert_true (logged ("refused a line"));
}

static void
test_reply_to_unknown_id_closes (Fixture *f, gconstpointer data)
{
  g_autofree gchar *eof = NULL;

  raw_send (f, "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":{}}\n");
  wait_for (f, &f->a_closed);
  g_assert_error (f->a_reason, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  eof = raw_read_line (f);
  g_assert_null (eof);
  g_assert_true (logged ("a request never made"));
}

/* The peer's error answer reaches the caller with its code. */
static void
test_error_reply (Fixture *f, gconstpointer data)
{
  Reply r = { 0 };
  g_autoptr(JsonObject) req = NULL;
  g_autofree gchar *answer = NULL;

  dvs_rpc_peer_call (f->a, "host.hello", NULL, 0, on_reply, &r);
  req = raw_read_object (f);
  answer = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":%" G_GINT64_FORMAT ","
                            "\"error\":{\"code\":-32004,\"message\":\"not registered\"}}\n",
                            json_object_get_int_member (req, "id"));
  raw_send (f, answer);
  wait_for (f, &r.done);
  g_assert_error (r.error, DVS_JSONRPC_ERROR, -32004);
  g_assert_cmpstr (r.error->message, ==, "not registered");
  reply_clear (&r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);

#define ADD_PAIR(path, func) \
  g_test_add (path, Fixture, NULL, setup_pair, func, teardown)
#define ADD_RAW(path, func) \
  g_test_add (path, Fixture, NULL, setup_raw, func, teardown)

  ADD_PAIR ("/rpc-peer/calls-both-ways", test_calls_both_ways);
  ADD_PAIR ("/rpc-peer/many-calls-in-flight", test_many_calls_in_flight);
  ADD_PAIR ("/rpc-peer/big-messages", test_big_messages);
  ADD_PAIR ("/rpc-peer/notifications", test_notifications);
  ADD_PAIR ("/rpc-peer/handler-errors", test_handler_errors);
  ADD_PAIR ("/rpc-peer/close-in-handler", test_close_in_handler);
  ADD_PAIR ("/rpc-peer/local-close", test_local_close);
  ADD_PAIR ("/rpc-peer/unref-with-pending-call", test_unref_with_pending_call);
  ADD_RAW ("/rpc-peer/timeout", test_timeout);
  ADD_RAW ("/rpc-peer/peer-closes-mid-call", test_peer_closes_mid_call);
  ADD_RAW ("/rpc-peer/oversized-line-closes", test_oversized_line_closes);
  ADD_RAW ("/rpc-peer/garbage-answered", test_garbage_answered);
  ADD_RAW ("/rpc-peer/reply-to-unknown-id-closes", test_reply_to_unknown_id_closes);
  ADD_RAW ("/rpc-peer/error-reply", test_error_reply);
  return g_test_run ();
}
