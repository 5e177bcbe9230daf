/* dvs-rpc-server and dvs-rpc-client: a real server on a temporary unix
 * socket, driven by a GMainContext of the test's main thread; peers run in
 * threads (blocking I/O) while the main thread iterates the context. */
#include "dvs-rpc-client.h"
#include "dvs-rpc-server.h"
#include "dvs-json-write.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* --- Log capture: silences the server's logs and lets tests assert them. */

typedef struct {
  GLogLevelFlags level;
  gchar *message;
  gchar *peer;
} Record;

static GMutex records_lock;
static GPtrArray *records;

static void
record_free (Record *r)
{
  g_free (r->message);
  g_free (r->peer);
  g_free (r);
}

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                gpointer user_data)
{
  Record *r = g_new0 (Record, 1);

  r->level = level & G_LOG_LEVEL_MASK;
  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        r->message = g_strdup (fields[i].value);
      else if (g_strcmp0 (fields[i].key, "PEER") == 0)
        r->peer = g_strdup (fields[i].value);
    }
  g_mutex_lock (&records_lock);
  g_ptr_array_add (records, r);
  g_mutex_unlock (&records_lock);
  return G_LOG_WRITER_HANDLED;
}

/* Whether a record of @level containing @part was logged; records about a
 * connection must name the peer. */
static gboolean
logged (GLogLevelFlags level, const gchar *part, gboolean about_peer)
{
  gboolean found = FALSE;

  g_mutex_lock (&records_lock);
  for (guint i = 0; i < records->len && !found; i++)
    {
      Record *r = records->pdata[i];

      found = r->level == level && r->message != NULL
              && strstr (r->message, part) != NULL
              && (!about_peer
                  || (r->peer != NULL && g_str_has_prefix (r->peer, "pid ")));
    }
  g_mutex_unlock (&records_lock);
  return found;
}

/* --- Fixture: a server with a tiny method table. */

typedef struct {
  GMainContext *context;
  gchar *dir;
  gchar *path;
  DvsRpcServer *server;
  gint notified;
} Fixture;

static JsonNode *
method_echo (JsonObject *params, gpointer user_data, GError **error)
{
  return json_node_init_object (json_node_alloc (), params);
}

static JsonNode *
method_fail (JsonObject *params, gpointer user_data, GError **error)
{
  g_set_error_literal (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NO_SUCH_PORT,
                       "No port named vm9.");
  return NULL;
}

static JsonNode *
method_crash (JsonObject *params, gpointer user_data, GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Disk on fire.");
  return NULL;
}

static JsonNode *
method_buggy (JsonObject *params, gpointer user_data, GError **error)
{
  return NULL;
}

static JsonNode *
method_notify (JsonObject *params, gpointer user_data, GError **error)
{
  Fixture *f = user_data;

  f->notified++;
  return json_node_new (JSON_NODE_NULL);
}

/* Larger than any socket buffer, so writing it takes many rounds. */
static JsonNode *
method_big (JsonObject *params, gpointer user_data, GError **error)
{
  g_autofree gchar *s = g_malloc (8 * 1024 * 1024 + 1);

  memset (s, 'b', 8 * 1024 * 1024);
  s[8 * 1024 * 1024] = '\0';
  return json_node_init_string (json_node_alloc (), s);
}

/* Answers from an idle callback, later: the "n" param back, or an error
 * when "fail" is set.  "now" answers at once, inside the handler. */
typedef struct {
  DvsRpcReply *reply;
  gint64 n;
  gboolean fail;
} Later;

static gboolean
later_answer (gpointer data)
{
  Later *later = data;
  g_autoptr(GError) error = NULL;
  JsonNode *result = NULL;

  if (later->fail)
    g_set_error (&error, DVS_JSONRPC_ERROR, DVS_JSONRPC_REFUSED, "Refused later.");
  else
    result = json_node_init_int (json_node_alloc (), later->n);
  dvs_rpc_reply_return (later->reply, result, error);
  g_free (later);
  return G_SOURCE_REMOVE;
}

static void
method_later (JsonObject *params, gpointer user_data, DvsRpcReply *reply)
{
  Later *later = g_new0 (Later, 1);

  g_assert_cmpstr (dvs_rpc_reply_method (reply), ==, "later");
  later->reply = reply;
  later->n = json_object_get_int_member_with_default (params, "n", 0);
  later->fail = json_object_get_boolean_member_with_default (params, "fail", FALSE);
  if (json_object_get_boolean_member_with_default (params, "now", FALSE))
    later_answer (later);
  else
    {
      /* On the server's context, where the test iterates. */
      g_autoptr(GSource) timer = g_timeout_source_new (20);

      g_source_set_callback (timer, later_answer, later, NULL);
      g_source_attach (timer, g_main_context_get_thread_default ());
    }
}

static const DvsRpcMethod methods[] = {
  { "later", NULL, method_later },
  { "echo", method_echo },
  { "fail", method_fail },
  { "crash", method_crash },
  { "buggy", method_buggy },
  { "notify", method_notify },
  { "big", method_big },
  { NULL, NULL },
};

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  f->dir = g_dir_make_tmp ("dvs-rpc-XXXXXX", &error);
  g_assert_no_error (error);
  /* A directory that does not exist yet: the server creates it. */
  f->path = g_build_filename (f->dir, "run", "control.sock", NULL);
  f->server = dvs_rpc_server_new (f->path, methods, f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->server);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autofree gchar *run = g_build_filename (f->dir, "run", NULL);

  g_clear_pointer (&f->server, dvs_rpc_server_free);
  /* Let cancelled operations finish so that nothing leaks. */
  while (g_main_context_iteration (f->context, FALSE))
    ;
  g_main_context_pop_thread_default (f->context);
  g_main_context_unref (f->context);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_rmdir (run), ==, 0);
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->path);
  g_free (f->dir);
}

/* Runs @func in a thread while the main thread serves; returns its result. */
typedef struct {
  GThreadFunc func;
  gpointer data;
  GMainContext *context;
  gint done;
} Job;

static gpointer
job_main (gpointer user_data)
{
  Job *job = user_data;
  gpointer result = job->func (job->data);

  g_atomic_int_set (&job->done, 1);
  g_main_context_wakeup (job->context);
  return result;
}

static gpointer
run_peer (Fixture *f, GThreadFunc func, gpointer data)
{
  Job job = { func, data, f->context, 0 };
  GThread *thread = g_thread_new ("peer", job_main, &job);

  while (!g_atomic_int_get (&job.done))
    g_main_context_iteration (f->context, TRUE);
  return g_thread_join (thread);
}

/* Serves until @level/@part is logged (the test's 30 s timeout bounds it). */
static void
serve_until_logged (Fixture *f, GLogLevelFlags level, const gchar *part)
{
  while (!logged (level, part, TRUE))
    g_main_context_iteration (f->context, TRUE);
}

/* --- A raw peer: exact bytes out, lines in. */

typedef struct {
  GSocketConnection *conn;
  GDataInputStream *in;
} RawPeer;

static RawPeer *
raw_connect (const gchar *path)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GError) error = NULL;
  RawPeer *peer = g_new0 (RawPeer, 1);

  peer->conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address),
                                        NULL, &error);
  g_assert_no_error (error);
  peer->in = g_data_input_stream_new (
      g_io_stream_get_input_stream (G_IO_STREAM (peer->conn)));
  return peer;
}

static void
raw_free (RawPeer *peer)
{
  g_object_unref (peer->in);
  g_io_stream_close (G_IO_STREAM (peer->conn), NULL, NULL);
  g_object_unref (peer->conn);
  g_free (peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RawPeer, raw_free)

static gboolean
raw_send (RawPeer *peer, const gchar *data, gsize size)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (peer->conn));

  return g_output_stream_write_all (out, data, size, NULL, NULL, NULL);
}

/* The next line, or NULL at the end of the stream. */
static gchar *
raw_read_line (RawPeer *peer)
{
  return g_data_input_stream_read_line (peer->in, NULL, NULL, NULL);
}

static JsonObject *
parse_object (const gchar *line)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (line);
  node = json_from_string (line, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static void
assert_error_response (const gchar *line, const gchar *id_json, gint code)
{
  g_autoptr(JsonObject) obj = parse_object (line);
  g_autofree gchar *id = dvs_json_write (json_object_get_member (obj, "id"),
                                         FALSE);
  JsonObject *err = json_object_get_object_member (obj, "error");

  g_assert_cmpstr (id, ==, id_json);
  g_assert_nonnull (err);
  g_assert_cmpint (json_object_get_int_member (err, "code"), ==, code);
}

/* --- Tests. */

static gpointer
peer_round_trip (gpointer data)
{
  const gchar *path = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(DvsRpcClient) client = dvs_rpc_client_new (path, 5000, &error);
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) echoed = NULL;
  g_autoptr(JsonNode) failed = NULL;

  g_assert_no_error (error);
  json_object_set_string_member (params, "name", "vm1");
  json_object_set_int_member (params, "vlan", 10);
  echoed = dvs_rpc_client_call (client, "echo", json_object_ref (params),
                                &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (echoed),
                                                  "name"), ==, "vm1");
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (echoed),
                                               "vlan"), ==, 10);

  failed = dvs_rpc_client_call (client, "fail", NULL, &error);
  g_assert_null (failed);
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NO_SUCH_PORT);
  g_assert_cmpstr (error->message, ==, "No port named vm9.");
  g_clear_error (&error);

  /* A handler's non-JSON-RPC error becomes an internal error. */
  g_assert_null (dvs_rpc_client_call (client, "crash", NULL, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR);
  g_assert_cmpstr (error->message, ==, "Disk on fire.");
  g_clear_error (&error);

  g_assert_null (dvs_rpc_client_call (client, "buggy", NULL, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR);
  g_clear_error (&error);

  g_assert_null (dvs_rpc_client_call (client, "port.nope", NULL, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_METHOD_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "\"port.nope\""));
  g_assert_nonnull (strstr (error->message, "echo, fail"));
  g_clear_error (&error);

  /* The connection is still good after errors. */
  g_clear_pointer (&echoed, json_node_unref);
  echoed = dvs_rpc_client_call (client, "echo", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (echoed));
  return NULL;
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  run_peer (f, peer_round_trip, f->path);
  g_assert_true (logged (G_LOG_LEVEL_WARNING, "neither a result nor an error",
                         FALSE));
}

static gpointer
peer_malformed (gpointer data)
{
  const gchar *path = data;
  g_autoptr(RawPeer) peer = raw_connect (path);
  g_autofree gchar *line1 = NULL;
  g_autofree gchar *line2 = NULL;
  g_autofree gchar *line3 = NULL;
  g_autoptr(JsonObject) ok = NULL;
  static const gchar batch[] =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"n\":1}}\r\n"
      "\n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"notify\"}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":{\"n\":2}}\n";

  g_assert_true (raw_send (peer, "this is not json\n", 17));
  line1 = raw_read_line (peer);
  assert_error_response (line1, "null", DVS_JSONRPC_PARSE_ERROR);

  g_assert_true (raw_send (peer, "[1,2]\n", 6));
  line2 = raw_read_line (peer);
  assert_error_response (line2, "null", DVS_JSONRPC_INVALID_REQUEST);

  /* Several requests in one write are answered in order; the blank line and
   * the notification get no response. */
  g_assert_true (raw_send (peer, batch, strlen (batch)));
  line3 = raw_read_line (peer);
  ok = parse_object (line3);
  g_assert_cmpint (json_object_get_int_member (ok, "id"), ==, 1);
  g_clear_pointer (&line3, g_free);
  g_clear_pointer (&ok, json_object_unref);
  line3 = raw_read_line (peer);
  ok = parse_object (line3);
  g_assert_cmpint (json_object_get_int_member (ok, "id"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (
                       json_object_get_object_member (ok, "result"), "n"),
                   ==, 2);
  return NULL;
}

/* Deferred answers keep the order of the requests, also mixed with
 * immediate ones, notifications and errors. */
static gpointer
peer_async (gpointer data)
{
  const gchar *path = data;
  g_autoptr(RawPeer) peer = raw_connect (path);
  static const gchar batch[] =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"later\",\"params\":{\"n\":11}}\n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"params\":{\"n\":0,\"now\":true}}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"echo\",\"params\":{\"n\":2}}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"later\",\"params\":{\"fail\":true}}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"later\",\"params\":{\"n\":4,\"now\":true}}\n"
      "{\"jsonrpc\":\"2.0\",\"method\":\"later\",\"params\":{\"n\":5}}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"later\",\"params\":{\"n\":6}}\n";
  gint64 want[] = { 1, 2, 3, 4, 6 };

  g_assert_true (raw_send (peer, batch, strlen (batch)));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    {
      g_autofree gchar *line = raw_read_line (peer);
      g_autoptr(JsonObject) o = parse_object (line);

      g_assert_cmpint (json_object_get_int_member (o, "id"), ==, want[i]);
      if (want[i] == 3)
        assert_error_response (line, "3", DVS_JSONRPC_REFUSED);
      else if (want[i] != 2)
        g_assert_cmpint (json_object_get_int_member (o, "result"), ==, want[i] == 1 ? 11 : want[i]);
    }
  return NULL;
}

static void
test_async (Fixture *f, gconstpointer data)
{
  g_autofree gchar *direct = NULL;

  run_peer (f, peer_async, f->path);
  {
  /* Without a connection an async method cannot answer: said so. */
  static const gchar line[] = "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"later\"}";

  direct = dvs_rpc_dispatch_line (methods, f, line, strlen (line));
  assert_error_response (direct, "9", DVS_JSONRPC_INTERNAL_ERROR);
  }
}

/* The server is freed while a call waits: the late answer frees the
 * connection instead of writing to it. */
static gpointer
peer_async_abandoned (gpointer data)
{
  const gchar *path = data;
  g_autoptr(RawPeer) peer = raw_connect (path);
  static const gchar req[] =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"later\",\"params\":{\"n\":1}}\n";
  g_autofree gchar *line = NULL;

  g_assert_true (raw_send (peer, req, strlen (req)));
  line = raw_read_line (peer);
  g_assert_null (line);
  return NULL;
}

static gboolean
free_server (gpointer data)
{
  Fixture *f = data;

  g_clear_pointer (&f->server, dvs_rpc_server_free);
  return G_SOURCE_REMOVE;
}

static void
test_async_abandoned (Fixture *f, gconstpointer data)
{
  g_autoptr(GSource) timer = g_timeout_source_new (5);

  /* Before the 20 ms answer. */
  g_source_set_callback (timer, free_server, f, NULL);
  g_source_attach (timer, f->context);
  run_peer (f, peer_async_abandoned, f->path);
  /* The pending answer still runs, and frees the connection. */
  for (int i = 0; i < 10; i++)
    {
      g_usleep (5000);
      while (g_main_context_iteration (f->context, FALSE))
        ;
    }
}

static void
test_malformed_then_usable (Fixture *f, gconstpointer data)
{
  run_peer (f, peer_malformed, f->path);
  g_assert_cmpint (f->notified, ==, 1);
}

static gpointer
peer_oversized (gpointer data)
{
  const gchar *path = data;
  g_autoptr(GError) error = NULL;
  /* Connected before the oversized line, used after it. */
  g_autoptr(DvsRpcClient) other = dvs_rpc_client_new (path, 5000, &error);
  g_autoptr(RawPeer) peer = raw_connect (path);
  gsize size = DVS_JSONRPC_MAX_LINE_SIZE + 10;
  g_autofree gchar *big = g_malloc (size + 1);
  g_autofree gchar *line = NULL;
  g_autofree gchar *after = NULL;
  g_autoptr(JsonObject) response = NULL;
  g_autoptr(JsonNode) echoed = NULL;

  g_assert_no_error (error);
  memset (big, 'x', size);
  big[size] = '\n';
  /* The server may close before reading it all: the send can fail. */
  raw_send (peer, big, size + 1);
  line = raw_read_line (peer);
  assert_error_response (line, "null", DVS_JSONRPC_PARSE_ERROR);
  response = parse_object (line);
  g_assert_nonnull (strstr (json_object_get_string_member (
                                json_object_get_object_member (response,
                                                               "error"),
                                "message"),
                            "1 MiB"));
  /* Then the server closed this connection. */
  after = raw_read_line (peer);
  g_assert_null (after);

  echoed = dvs_rpc_client_call (other, "echo", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (echoed);
  return NULL;
}

static void
test_oversized_line (Fixture *f, gconstpointer data)
{
  run_peer (f, peer_oversized, f->path);
  g_assert_true (logged (G_LOG_LEVEL_WARNING, "longer than", TRUE));
}

static gpointer
peer_hang_up_mid_line (gpointer data)
{
  g_autoptr(RawPeer) peer = raw_connect (data);

  g_assert_true (raw_send (peer, "{\"jsonrpc\":\"2.0\",\"id\":", 22));
  return NULL;
}

static gpointer
peer_call_echo (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DvsRpcClient) client = dvs_rpc_client_new (data, 5000, &error);
  g_autoptr(JsonNode) echoed = NULL;

  g_assert_no_error (error);
  echoed = dvs_rpc_client_call (client, "echo", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (echoed);
  return NULL;
}

static void
test_hang_up_mid_line (Fixture *f, gconstpointer data)
{
  run_peer (f, peer_hang_up_mid_line, f->path);
  serve_until_logged (f, G_LOG_LEVEL_INFO, "middle of a request line");
  run_peer (f, peer_call_echo, f->path);
}

static gpointer
peer_hang_up_mid_write (gpointer data)
{
  g_autoptr(RawPeer) peer = raw_connect (data);
  static const gchar request[] =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"big\"}\n";

  g_assert_true (raw_send (peer, request, strlen (request)));
  return NULL;
}

static void
test_hang_up_mid_write (Fixture *f, gconstpointer data)
{
  run_peer (f, peer_hang_up_mid_write, f->path);
  serve_until_logged (f, G_LOG_LEVEL_WARNING, "the peer went away");
  run_peer (f, peer_call_echo, f->path);
}

static gpointer
peer_connect_and_call (gpointer data)
{
  RawPeer *peer = raw_connect (data);
  static const gchar request[] =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\"}\n";
  g_autofree gchar *line = NULL;

  g_assert_true (raw_send (peer, request, strlen (request)));
  line = raw_read_line (peer);
  g_assert_nonnull (line);
  return peer;
}

static void
test_free_closes (Fixture *f, gconstpointer data)
{
  g_autoptr(RawPeer) peer = run_peer (f, peer_connect_and_call, f->path);
  g_autofree gchar *line = NULL;

  g_clear_pointer (&f->server, dvs_rpc_server_free);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  /* The peer sees the end at once, before the context runs again. */
  line = raw_read_line (peer);
  g_assert_null (line);
}

static void
test_socket_file (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *stale = g_build_filename (f->dir, "stale.sock", NULL);
  g_autofree gchar *plain = g_build_filename (f->dir, "plain.sock", NULL);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (stale);
  g_autoptr(GSocket) dead = NULL;
  g_autoptr(DvsRpcServer) replaced = NULL;
  g_autoptr(DvsRpcServer) twin = NULL;
  g_autoptr(DvsRpcServer) on_file = NULL;

  /* A socket file whose listener is gone is replaced. */
  dead = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                       G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (dead, address, FALSE, &error));
  g_assert_true (g_socket_close (dead, &error));
  g_assert_true (g_file_test (stale, G_FILE_TEST_EXISTS));
  replaced = dvs_rpc_server_new (stale, methods, f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (replaced);
  g_clear_pointer (&replaced, dvs_rpc_server_free);
  g_assert_false (g_file_test (stale, G_FILE_TEST_EXISTS));

  /* A live server's socket is not stolen. */
  twin = dvs_rpc_server_new (f->path, methods, f, &error);
  g_assert_null (twin);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_assert_nonnull (strstr (error->message, f->path));
  g_clear_error (&error);
  g_assert_true (g_file_test (f->path, G_FILE_TEST_EXISTS));

  /* Nor is a file that is not a socket. */
  g_assert_true (g_file_set_contents (plain, "data", -1, &error));
  on_file = dvs_rpc_server_new (plain, methods, f, &error);
  g_assert_null (on_file);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_assert_cmpint (g_unlink (plain), ==, 0);
}

static void
test_connect_error (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DvsRpcClient) client = NULL;

  client = dvs_rpc_client_new ("/nonexistent/dvs/control.sock", 1000, &error);
  g_assert_null (client);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/dvs/control.sock"));
  g_assert_nonnull (strstr (error->message, "not running"));
}

static gpointer
peer_times_out (gpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DvsRpcClient) client = dvs_rpc_client_new (data, 200, &error);
  g_autoptr(JsonNode) result = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_no_error (error);
  result = dvs_rpc_client_call (client, "echo", NULL, &error);
  g_assert_null (result);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 200 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  return NULL;
}

/* A listener that never answers: the call gives up after its timeout. */
static void
test_client_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("dvs-rpc-XXXXXX", &error);
  g_autofree gchar *path = g_build_filename (dir, "mute.sock", NULL);
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GSocket) mute = g_socket_new (G_SOCKET_FAMILY_UNIX,
                                          G_SOCKET_TYPE_STREAM,
                                          G_SOCKET_PROTOCOL_DEFAULT, &error);
  GThread *thread;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (mute, address, FALSE, &error));
  g_assert_true (g_socket_listen (mute, &error));
  thread = g_thread_new ("peer", peer_times_out, path);
  g_thread_join (thread);
  g_socket_close (mute, NULL);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_dispatch_line (Fixture *f, gconstpointer data)
{
  static const gchar call[] =
      "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"echo\",\"params\":{\"x\":1}}";
  static const gchar notify[] = "{\"jsonrpc\":\"2.0\",\"method\":\"notify\"}";
  static const gchar unknown[] = "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}";
  static const gchar failing[] = "{\"jsonrpc\":\"2.0\",\"method\":\"fail\"}";
  static const gchar no_method[] = "{\"jsonrpc\":\"2.0\"}";
  g_autofree gchar *answer = NULL;
  g_autofree gchar *invalid = NULL;

  answer = dvs_rpc_dispatch_line (methods, f, call, strlen (call));
  g_assert_cmpstr (answer, ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{\"x\":1}}");

  /* Notifications run but are never answered, even when they fail. */
  g_assert_null (dvs_rpc_dispatch_line (methods, f, notify, strlen (notify)));
  g_assert_cmpint (f->notified, ==, 1);
  g_assert_null (dvs_rpc_dispatch_line (methods, f, unknown, strlen (unknown)));
  g_assert_null (dvs_rpc_dispatch_line (methods, f, failing, strlen (failing)));

  /* An invalid request without an id is answered, to null. */
  invalid = dvs_rpc_dispatch_line (methods, f, no_method, strlen (no_method));
  assert_error_response (invalid, "null", DVS_JSONRPC_INVALID_REQUEST);
}

/* Many VMs starting at once run many hooks: 200 clients connect before the
 * server accepts any (GLib's default backlog of 10 refused all but about
 * 10 with EAGAIN), then each gets its answer. */
#define BURST 200

static void
test_connect_burst (Fixture *f, gconstpointer data)
{
  struct sockaddr_un sa = { .sun_family = AF_UNIX };
  int fds[BURST];
  GString *got[BURST];
  guint answered = 0;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  g_strlcpy (sa.sun_path, f->path, sizeof sa.sun_path);
  for (guint i = 0; i < BURST; i++)
    {
      fds[i] = socket (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      g_assert_cmpint (fds[i], >=, 0);
      if (connect (fds[i], (struct sockaddr *) &sa, sizeof sa) != 0)
        g_error ("connect %u of %d failed before the server accepted any: %s",
                 i + 1, BURST, g_strerror (errno));
      got[i] = g_string_new (NULL);
    }
  for (guint i = 0; i < BURST; i++)
    {
      g_autofree gchar *line = g_strdup_printf (
          "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"echo\",\"params\":{\"n\":%u}}\n", i, i);
      g_assert_cmpint (write (fds[i], line, strlen (line)), ==, (gssize) strlen (line));
    }
  while (answered < BURST)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (f->context, FALSE);
      answered = 0;
      for (guint i = 0; i < BURST; i++)
        {
          gchar buf[512];
          gssize n;

          while ((n = read (fds[i], buf, sizeof buf)) > 0)
            g_string_append_len (got[i], buf, n);
          answered += strchr (got[i]->str, '\n') != NULL;
        }
    }
  for (guint i = 0; i < BURST; i++)
    {
      g_autofree gchar *id = g_strdup_printf ("\"id\":%u,", i);

      g_assert_nonnull (strstr (got[i]->str, "\"result\""));
      g_assert_nonnull (strstr (got[i]->str, id));
      g_string_free (got[i], TRUE);
      close (fds[i]);
    }
}

int
main (int argc, char **argv)
{
  records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/rpc-server/round-trip", test_round_trip);
  ADD ("/rpc-server/malformed-then-usable", test_malformed_then_usable);
  ADD ("/rpc-server/oversized-line", test_oversized_line);
  ADD ("/rpc-server/hang-up-mid-line", test_hang_up_mid_line);
  ADD ("/rpc-server/hang-up-mid-write", test_hang_up_mid_write);
  ADD ("/rpc-server/free-closes", test_free_closes);
  ADD ("/rpc-server/socket-file", test_socket_file);
  ADD ("/rpc-server/dispatch-line", test_dispatch_line);
  ADD ("/rpc-server/async", test_async);
  ADD ("/rpc-server/async-abandoned", test_async_abandoned);
  ADD ("/rpc-server/connect-burst", test_connect_burst);
#undef ADD
  g_test_add_func ("/rpc-client/connect-error", test_connect_error);
  g_test_add_func ("/rpc-client/timeout", test_client_timeout);

  return g_test_run ();
}
