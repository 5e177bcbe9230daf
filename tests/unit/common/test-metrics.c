/* The Prometheus exposition writer and the /metrics endpoint
 * (common/dvs-metrics.h), over loopback TCP on a free port. */
#include <string.h>

#include "dvs-metrics.h"

static void
collect_sample_kinds (DvsMetrics *m, gpointer data)
{
  dvs_metrics_family (m, "t_frames_total", DVS_METRIC_COUNTER, "Frames\nwith a \\ newline");
  dvs_metrics_sample (m, 3, "port", "a\"b\\c\nd", "kind", "unicast", NULL);
  dvs_metrics_sample (m, 12345678901.0, NULL);
  dvs_metrics_single (m, "t_load", DVS_METRIC_GAUGE, "Load", 0.25);
  dvs_metrics_family (m, "t_latency_seconds", DVS_METRIC_HISTOGRAM, "Latency");
  dvs_metrics_sample_suffixed (m, "_bucket", 1, "le", "0.1", NULL);
  dvs_metrics_sample_suffixed (m, "_bucket", 2, "le", "+Inf", NULL);
  dvs_metrics_sample_suffixed (m, "_sum", 0.5, NULL);
  dvs_metrics_sample_suffixed (m, "_count", 2, NULL);
}

static void
test_exposition_text (void)
{
  g_autofree gchar *text = dvs_metrics_render (collect_sample_kinds, NULL);

  g_assert_cmpstr (text, ==,
    "# HELP t_frames_total Frames\\nwith a \\\\ newline\n"
    "# TYPE t_frames_total counter\n"
    "t_frames_total{port=\"a\\\"b\\\\c\\nd\",kind=\"unicast\"} 3\n"
    "t_frames_total 12345678901\n"
    "# HELP t_load Load\n"
    "# TYPE t_load gauge\n"
    "t_load 0.25\n"
    "# HELP t_latency_seconds Latency\n"
    "# TYPE t_latency_seconds histogram\n"
    "t_latency_seconds_bucket{le=\"0.1\"} 1\n"
    "t_latency_seconds_bucket{le=\"+Inf\"} 2\n"
    "t_latency_seconds_sum 0.5\n"
    "t_latency_seconds_count 2\n");
}

static void
collect_bad_names (DvsMetrics *m, gpointer data)
{
  dvs_metrics_single (m, "1bad", DVS_METRIC_GAUGE, "x", 1);
  dvs_metrics_family (m, "good", DVS_METRIC_GAUGE, "y");
  dvs_metrics_sample (m, 1, "bad-label", "v", NULL);
  dvs_metrics_sample (m, 2, "ok", "v", NULL);
}

static void
test_bad_names_skipped (void)
{
  g_autofree gchar *text = NULL;

  g_test_expect_message ("dvs-metrics", G_LOG_LEVEL_CRITICAL, "*1bad*");
  g_test_expect_message ("dvs-metrics", G_LOG_LEVEL_CRITICAL, "*bad-label*");
  text = dvs_metrics_render (collect_bad_names, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpstr (text, ==, "# HELP good y\n# TYPE good gauge\ngood{ok=\"v\"} 2\n");
}

typedef struct {
  GMainLoop *loop;
  GSocketConnection *conn;
} Fetch;

static void
on_fetched (GObject *source, GAsyncResult *res, gpointer data)
{
  Fetch *f = data;
  g_autoptr (GError) error = NULL;

  f->conn = g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), res, &error);
  g_assert_no_error (error);
  g_main_loop_quit (f->loop);
}

static gboolean
on_timeout (gpointer data)
{
  g_error ("the metrics server did not answer in time");
  return G_SOURCE_REMOVE;
}

/* Sends @request to 127.0.0.1:@port and returns the whole reply. */
static gchar *
fetch (guint16 port, const gchar *request)
{
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GSocketConnection) conn = NULL;
  g_autoptr (GError) error = NULL;
  Fetch f = { loop, NULL };
  GString *reply = g_string_new (NULL);
  guint timeout = g_timeout_add_seconds (20, on_timeout, NULL);
  GInputStream *in;
  gchar buf[4096];
  gssize n;

  g_socket_client_connect_to_host_async (client, "127.0.0.1", port, NULL, on_fetched, &f);
  g_main_loop_run (loop);
  conn = g_steal_pointer (&f.conn);
  g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (conn)),
                                            request, strlen (request), NULL, NULL, &error));
  g_assert_no_error (error);
  /* The server runs on this thread's main context: read without blocking
   * it, iterating the context until the server closes. */
  in = g_io_stream_get_input_stream (G_IO_STREAM (conn));
  for (;;)
    {
      n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), buf,
                                                    sizeof buf, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_clear_error (&error);
          g_main_context_iteration (NULL, TRUE);
          continue;
        }
      g_assert_no_error (error);
      if (n == 0)
        break;
      g_string_append_len (reply, buf, n);
    }
  g_source_remove (timeout);
  return g_string_free (reply, FALSE);
}

static void
test_endpoint (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMetricsServer) s = dvs_metrics_server_new ("127.0.0.1:0", collect_sample_kinds,
                                                           NULL, &error);
  g_autofree gchar *ok = NULL, *head = NULL, *missing = NULL, *post = NULL, *bad = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (dvs_metrics_server_port (s), >, 0);
  ok = fetch (dvs_metrics_server_port (s), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  g_assert_true (g_str_has_prefix (ok, "HTTP/1.1 200 OK\r\n"));
  g_assert_nonnull (strstr (ok, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  g_assert_true (g_str_has_suffix (ok, "\r\n\r\n# HELP t_frames_total Frames\\nwith a \\\\ newline\n"
                                       "# TYPE t_frames_total counter\n"
                                       "t_frames_total{port=\"a\\\"b\\\\c\\nd\",kind=\"unicast\"} 3\n"
                                       "t_frames_total 12345678901\n"
                                       "# HELP t_load Load\n"
                                       "# TYPE t_load gauge\n"
                                       "t_load 0.25\n"
                                       "# HELP t_latency_seconds Latency\n"
                                       "# TYPE t_latency_seconds histogram\n"
                                       "t_latency_seconds_bucket{le=\"0.1\"} 1\n"
                                       "t_latency_seconds_bucket{le=\"+Inf\"} 2\n"
                                       "t_latency_seconds_sum 0.5\n"
                                       "t_latency_seconds_count 2\n"));
  head = fetch (dvs_metrics_server_port (s), "HEAD /metrics HTTP/1.0\r\n\r\n");
  g_assert_true (g_str_has_prefix (head, "HTTP/1.1 200 OK\r\n"));
  g_assert_true (g_str_has_suffix (head, "\r\n\r\n"));
  missing = fetch (dvs_metrics_server_port (s), "GET / HTTP/1.1\r\n\r\n");
  g_assert_true (g_str_has_prefix (missing, "HTTP/1.1 404 "));
  post = fetch (dvs_metrics_server_port (s), "POST /metrics HTTP/1.1\r\n\r\n");
  g_assert_true (g_str_has_prefix (post, "HTTP/1.1 405 "));
  bad = fetch (dvs_metrics_server_port (s), "nonsense\r\n\r\n");
  g_assert_true (g_str_has_prefix (bad, "HTTP/1.1 400 "));
}

static void
test_bad_addresses (void)
{
  const gchar *const bad[] = { "localhost:9464", "127.0.0.1", "1.2.3.4.5:1", "", NULL };

  for (const gchar *const *a = bad; *a; a++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DvsMetricsServer) s = dvs_metrics_server_new (*a, collect_sample_kinds,
                                                               NULL, &error);
      g_assert_null (s);
      g_assert_nonnull (error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/exposition-text", test_exposition_text);
  g_test_add_func ("/metrics/bad-names-skipped", test_bad_names_skipped);
  g_test_add_func ("/metrics/endpoint", test_endpoint);
  g_test_add_func ("/metrics/bad-addresses", test_bad_addresses);
  return g_test_run ();
}
