/* A fuzz target for the host channel's line handling (dvs-rpc-peer: the
 * JSON-RPC 2.0 connection between dvsmgr and dvs-switchd, where either
 * side sends requests, notifications and responses): arbitrary bytes are
 * one line sent to a real peer over a socketpair.  The peer has methods
 * (one echoes its params, one fails echoing them in its message) and a
 * call of its own in flight, so fuzzed lines reach request dispatch,
 * error replies and response matching.
 *
 * The oracle besides the sanitizers: every line the peer writes is clean
 * JSON (dvs_json_text_is_clean) that json-glib parses.  After each input
 * a sentinel request shows that the peer still answers, or that it closed
 * the connection (a protocol violation: a reply to a call never made);
 * then a fresh peer is made.
 *   fuzz-host-channel --seconds 10 [--seed N] [FILE...]
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dvs-json-write.h"
#include "dvs-rpc-peer.h"
#include "fuzz-driver.h"

#define SENTINEL "{\"jsonrpc\":\"2.0\",\"id\":\"sentinel\",\"method\":\"echo\"}\n"

static DvsRpcPeer *peer;
static int remote = -1;             /* our end of the socketpair */
static GString *received;            /* bytes from the peer, not yet checked */
static guint64 n_inputs, n_closed, n_replies;

static JsonNode *
method_echo (DvsRpcPeer *p, JsonObject *params, gpointer user_data, GError **error)
{
  return json_node_init_object (json_node_alloc (), params);
}

static JsonNode *
method_fail (DvsRpcPeer *p, JsonObject *params, gpointer user_data, GError **error)
{
  g_autoptr (JsonNode) n = json_node_init_object (json_node_alloc (), params);
  g_autofree gchar *text = dvs_json_write (n, FALSE);

  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS, "refused %s", text);
  return NULL;
}

static const DvsRpcPeerMethod methods[] = {
  { "echo", method_echo },
  { "fail", method_fail },
  { NULL, NULL },
};

static void
on_reply (DvsRpcPeer *p, JsonNode *result, const GError *error, gpointer user_data)
{
}

static void
new_peer (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketConnection) conn = NULL;
  int fds[2];

  g_clear_pointer (&peer, dvs_rpc_peer_unref);
  if (remote >= 0)
    close (remote);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  conn = g_socket_connection_factory_create_connection (socket);
  peer = dvs_rpc_peer_new (G_IO_STREAM (conn), "fuzzed peer", methods, NULL, 64 * 1024);
  dvs_rpc_peer_start (peer);
  remote = fds[1];
  g_unix_set_fd_nonblocking (remote, TRUE, NULL);
  g_string_truncate (received, 0);
  /* Calls in flight: ids 1 and 2 are answerable. */
  dvs_rpc_peer_call (peer, "host.status", NULL, 600000, on_reply, NULL);
  dvs_rpc_peer_call (peer, "switch.apply", json_object_new (), 600000, on_reply, NULL);
}

static void
send_all (const gchar *data, gsize len)
{
  while (len > 0)
    {
      gssize n = write (remote, data, len);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          g_main_context_iteration (NULL, FALSE);
          continue;
        }
      if (n < 0)
        return;             /* the peer closed: the sentinel finds out */
      data += n;
      len -= (gsize) n;
    }
}

/* Checks every complete line received; TRUE once the sentinel's answer is
 * among them. */
static gboolean
check_lines (void)
{
  gboolean sentinel = FALSE;
  gchar *nl;

  while ((nl = memchr (received->str, '\n', received->len)) != NULL)
    {
      gsize len = (gsize) (nl - received->str);
      g_autoptr (JsonParser) p = json_parser_new ();
      g_autofree gchar *line = g_strndup (received->str, len);

      if (!dvs_json_text_is_clean (line, len) || !json_parser_load_from_data (p, line, -1, NULL))
        {
          g_printerr ("the peer wrote a line that is not clean JSON:\n%s\n", line);
          abort ();
        }
      n_replies++;
      sentinel = sentinel || strstr (line, "\"id\":\"sentinel\"") != NULL;
      g_string_erase (received, 0, (gssize) len + 1);
    }
  return sentinel;
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  gint64 deadline;

  if (received == NULL)
    received = g_string_new (NULL);
  if (peer == NULL || dvs_rpc_peer_is_closed (peer))
    new_peer ();
  n_inputs++;
  /* One line: a newline inside the input would make it several. */
  for (size_t i = 0; i < size; i++)
    if (data[i] == '\n')
      {
        size = i;
        break;
      }
  send_all ((const gchar *) data, size);
  send_all ("\n" SENTINEL, strlen (SENTINEL) + 1);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  for (;;)
    {
      gchar buf[65536];
      gssize n;

      g_main_context_iteration (NULL, FALSE);
      while ((n = read (remote, buf, sizeof buf)) > 0)
        g_string_append_len (received, buf, n);
      if (check_lines ())
        break;
      if (n == 0 || dvs_rpc_peer_is_closed (peer))
        {
          n_closed++;
          new_peer ();
          break;
        }
      if (g_get_monotonic_time () > deadline)
        {
          g_printerr ("the peer neither answered the sentinel nor closed within 5 s\n");
          abort ();
        }
    }
  return 0;
}

#ifndef DVS_LIBFUZZER

static GPtrArray *
make_seeds (void)
{
  static const gchar *const lines[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"echo\",\"params\":{\"host\":\"h1\",\"n\":[1,2]}}",
    "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"fail\",\"params\":{\"name\":\"web\"}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"echo\",\"params\":{}}",
    "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"host.hello\",\"params\":{\"host\":\"h1\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"ok\":true}}",
    "{\"jsonrpc\":\"2.0\",\"id\":2,\"error\":{\"code\":-32005,\"message\":\"refused\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"bad\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":99,\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"fail\",\"params\":{\"x\\u001fy\":\"\\u009b\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"echo\",\"x\\u001f\":1}",
    "[1,2]",
    "",
  };
  GPtrArray *seeds = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; i < G_N_ELEMENTS (lines); i++)
    g_ptr_array_add (seeds, g_strdup (lines[i]));
  return seeds;
}

static gchar *
report (void)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT " lines written back, all clean JSON; the peer "
                          "closed on %" G_GUINT64_FORMAT " protocol violations",
                          n_replies, n_closed);
}

static void
finish (void)
{
  g_clear_pointer (&peer, dvs_rpc_peer_unref);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (remote >= 0)
    close (remote);
  g_string_free (received, TRUE);
}

int
main (int argc, char **argv)
{
  static const DvsFuzzTarget target = {
    "fuzz-host-channel", make_seeds, LLVMFuzzerTestOneInput, report, finish,
  };

  return dvs_fuzz_main (&target, argc, argv);
}

#endif
