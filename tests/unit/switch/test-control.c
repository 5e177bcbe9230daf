/* The control socket's methods over a real switch (EAL, datapath thread,
 * rte_vhost client ports whose peers do not exist), driven line by line
 * through the same dispatcher the socket uses: results and every error. */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "control/control-methods.h"
#include "switch/dvs-switch.h"
#include "test-eal.h"

static DvsSwitch *sw;
static DvsControl ctl;
static gchar *tmpdir;

/* Sends @line, returns the parsed response object (result or error). */
static JsonObject *
call (const gchar *line)
{
  g_autofree gchar *resp = dvs_rpc_dispatch_line (dvs_control_methods, &ctl, line, strlen (line));
  g_autoptr (JsonParser) p = json_parser_new ();

  g_assert_nonnull (resp);
  g_assert_true (json_parser_load_from_data (p, resp, -1, NULL));
  return json_object_ref (json_node_get_object (json_parser_get_root (p)));
}

static JsonObject *
callf (const gchar *fmt, ...) G_GNUC_PRINTF (1, 2);

static JsonObject *
callf (const gchar *fmt, ...)
{
  va_list ap;
  g_autofree gchar *line = NULL;

  va_start (ap, fmt);
  line = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return call (line);
}

static gint64
error_code (JsonObject *resp)
{
  g_assert_true (json_object_has_member (resp, "error"));
  return json_object_get_int_member (json_object_get_object_member (resp, "error"), "code");
}

static JsonObject *
result (JsonObject *resp)
{
  if (json_object_has_member (resp, "error"))
    g_error ("unexpected error: %s",
             json_object_get_string_member (json_object_get_object_member (resp, "error"), "message"));
  return json_object_get_object_member (resp, "result");
}

static void
add_port (const gchar *name, const gchar *extra)
{
  g_autoptr (JsonObject) r = callf ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\","
                                    "\"params\":{\"name\":\"%s\",\"socket\":\"%s/%s.sock\"%s}}",
                                    name, tmpdir, name, extra);
  JsonObject *port = result (r);
  g_assert_cmpstr (json_object_get_string_member (port, "name"), ==, name);
  g_assert_cmpstr (json_object_get_string_member (port, "link"), ==, "down");
}

static void
test_show (void)
{
  g_autoptr (JsonObject) r = call ("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"switch.show\"}");
  JsonObject *res = result (r);

  g_assert_cmpint (json_object_get_int_member (r, "id"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (res, "name"), ==, "unit");
  g_assert_cmpstr (json_object_get_string_member (res, "poll_mode"), ==, "adaptive");
  g_assert_true (json_object_has_member (json_object_get_object_member (res, "datapath"),
                                         "cycles_per_packet"));
}

static void
test_port_lifecycle (void)
{
  g_autoptr (JsonObject) list = NULL, show = NULL, vlan = NULL, rm = NULL, again = NULL;
  JsonArray *ports;
  JsonObject *v;
  g_autofree gchar *vm3_sock = g_build_filename (tmpdir, "vm3.sock", NULL);

  add_port ("vm1", "");
  add_port ("vm2", ",\"vlan\":10");
  add_port ("vm3", ",\"mode\":\"server\",\"vlan\":{\"mode\":\"trunk\",\"trunks\":[10,20],\"native\":3}");
  g_assert_true (g_file_test (vm3_sock, G_FILE_TEST_EXISTS));

  list = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.list\"}");
  ports = json_object_get_array_member (result (list), "ports");
  g_assert_cmpuint (json_array_get_length (ports), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (ports, 0), "name"), ==, "vm1");
  v = json_object_get_object_member (json_array_get_object_element (ports, 2), "vlan");
  g_assert_cmpstr (json_object_get_string_member (v, "mode"), ==, "trunk");
  g_assert_cmpint (json_object_get_int_member (v, "native"), ==, 3);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (v, "trunks")), ==, 2);

  show = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.show\",\"params\":{\"name\":\"vm2\"}}");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (result (show), "vlan"), "tag"), ==, 10);
  g_assert_cmpint (json_object_get_int_member (
                     json_object_get_object_member (json_object_get_object_member (result (show), "stats"), "rx"),
                     "packets"), ==, 0);
  g_assert_true (json_object_has_member (
                   json_object_get_object_member (json_object_get_object_member (result (show), "stats"), "drops"),
                   "ring_full"));

  vlan = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.set-vlan\","
               "\"params\":{\"name\":\"vm1\",\"vlan\":{\"mode\":\"access\",\"tag\":42}}}");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (result (vlan), "vlan"), "tag"), ==, 42);

  rm = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.remove\",\"params\":{\"name\":\"vm3\"}}");
  g_assert_cmpstr (json_object_get_string_member (result (rm), "name"), ==, "vm3");
  g_assert_false (g_file_test (vm3_sock, G_FILE_TEST_EXISTS));
  again = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.remove\",\"params\":{\"name\":\"vm3\"}}");
  g_assert_cmpint (error_code (again), ==, -32000);
}

static void
test_mac_methods (void)
{
  g_autoptr (JsonObject) dump = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"mac.dump\"}");
  g_autoptr (JsonObject) flush = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"mac.flush\"}");
  g_autoptr (JsonObject) bad = call ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"mac.dump\",\"params\":{\"port\":\"nope\"}}");

  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (result (dump), "entries")), ==, 0);
  g_assert_cmpint (json_object_get_int_member (result (flush), "flushed"), ==, 0);
  g_assert_cmpint (error_code (bad), ==, -32000);
}

/* Every malformed request is answered with the documented code. */
static void
test_errors (void)
{
  static const struct { const gchar *line; gint code; } cases[] = {
    { "this is not json", -32700 },
    { "[1,2]", -32600 },
    { "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"port.list\"}", -32600 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.frobnicate\"}", -32601 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.show\"}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.show\",\"params\":{\"name\":5}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.show\",\"params\":{\"name\":\"ghost\"}}", -32000 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.list\",\"params\":{\"verbose\":true}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\",\"params\":{\"name\":\"bad name\",\"socket\":\"/tmp/x.sock\"}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\",\"params\":{\"name\":\"rel\",\"socket\":\"x.sock\"}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\",\"params\":{\"name\":\"m\",\"socket\":\"/tmp/m.sock\",\"mode\":\"both\"}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\",\"params\":{\"name\":\"v\",\"socket\":\"/tmp/v.sock\",\"vlan\":5000}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\",\"params\":{\"name\":\"v\",\"socket\":\"/tmp/v.sock\",\"vlan\":{\"mode\":\"trunk\",\"trunks\":\"10\"}}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.set-vlan\",\"params\":{\"name\":\"vm1\"}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.set-vlan\",\"params\":{\"name\":\"vm1\",\"vlan\":{\"mode\":\"hybrid\"}}}", -32602 },
    { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"mac.dump\",\"params\":{\"vlan\":-1}}", -32602 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonObject) r = call (cases[i].line);
      g_test_message ("%s", cases[i].line);
      g_assert_cmpint (error_code (r), ==, cases[i].code);
      g_assert_cmpuint (strlen (json_object_get_string_member (
                          json_object_get_object_member (r, "error"), "message")), >, 10);
    }
  /* A duplicate name or socket. */
  {
    g_autoptr (JsonObject) r = callf ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\","
                                      "\"params\":{\"name\":\"vm1\",\"socket\":\"%s/other.sock\"}}", tmpdir);
    g_autoptr (JsonObject) r2 = callf ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\","
                                       "\"params\":{\"name\":\"fresh\",\"socket\":\"%s/vm1.sock\"}}", tmpdir);
    g_assert_cmpint (error_code (r), ==, -32001);
    g_assert_cmpint (error_code (r2), ==, -32001);
  }
  /* A notification gets no answer. */
  {
    const gchar *n = "{\"jsonrpc\":\"2.0\",\"method\":\"port.list\"}";
    g_assert_null (dvs_rpc_dispatch_line (dvs_control_methods, &ctl, n, strlen (n)));
  }
}

int
main (int argc, char **argv)
{
  DvsSwitchOptions opts = { .name = "unit", .cpu = -1, .mac_aging = 300, .mbufs = 2047 };
  g_autoptr (GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  test_eal_init ();
  tmpdir = g_dir_make_tmp ("dvs-control-XXXXXX", &error);
  g_assert_no_error (error);
  sw = dvs_switch_new (&opts, &error);
  g_assert_no_error (error);
  ctl.sw = sw;
  ctl.dvports = dvs_dvport_host_new (sw, NULL, NULL);

  g_test_add_func ("/control/show", test_show);
  g_test_add_func ("/control/port-lifecycle", test_port_lifecycle);
  g_test_add_func ("/control/mac", test_mac_methods);
  g_test_add_func ("/control/errors", test_errors);
  rc = g_test_run ();
  dvs_dvport_host_free (ctl.dvports);
  dvs_switch_free (sw);
  g_rmdir (tmpdir);
  return rc;
}
