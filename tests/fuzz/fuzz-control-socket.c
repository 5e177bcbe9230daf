/* A fuzz target for dvs-switchd's control socket: arbitrary bytes are one
 * request line, dispatched as the socket dispatches it
 * (dvs_rpc_dispatch_line: JSON-RPC validation, then the control methods:
 * switch.apply and its DVswitch document, port.*, dvport.*, mac.*) on a
 * real switch (EAL without hugepages, no datapath peers) with a local
 * store in a temporary directory.
 *
 * The oracle besides the sanitizers: every reply is one clean line of
 * valid JSON (no raw control character: dvs_json_text_is_clean) that
 * json-glib parses, and switch.get stays so whatever was applied.
 *
 * Methods that create files at a path the input names (port.add,
 * dvport.attach) are left out of the table: a fuzzer must not write
 * sockets anywhere on the machine.  Two ports made at start-up, with
 * sockets in the temporary directory, give port.* something to act on.
 *   fuzz-control-socket --seconds 10 [--seed N] [FILE...]
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/control-methods.h"
#include "dvs-json-write.h"
#include "fuzz-driver.h"
#include "store/local-store.h"
#include "switch/dvs-switch.h"
#include "../unit/switch/test-eal.h"

static DvsSwitch *sw;
static DvsLocalStore *store;
static DvsControl ctl;
static gchar *workdir;
static DvsRpcMethod *methods;
static guint64 n_results, n_errors, n_inputs;

static void
check_reply (const gchar *what, const gchar *reply)
{
  g_autoptr (JsonParser) p = json_parser_new ();

  if (!dvs_json_text_is_clean (reply, strlen (reply))
      || !json_parser_load_from_data (p, reply, -1, NULL))
    {
      g_printerr ("%s: a reply that is not one clean line of JSON:\n%s\n", what, reply);
      abort ();
    }
}

static gchar *
call (const gchar *line)
{
  return dvs_rpc_dispatch_line (methods, &ctl, line, strlen (line));
}

static void
add_port (const gchar *name)
{
  g_autofree gchar *line = g_strdup_printf (
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.add\",\"params\":{\"name\":\"%s\","
    "\"socket\":\"%s/%s.sock\"}}", name, workdir, name);
  g_autofree gchar *reply = dvs_rpc_dispatch_line (dvs_control_methods, &ctl, line, strlen (line));
}

static void
setup (void)
{
  DvsSwitchOptions opts = { .name = "fuzz", .cpu = -1, .mac_aging = 300, .mbufs = 2047 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *state = NULL;
  guint n = 0;

  if (sw != NULL)
    return;
  test_eal_init ();
  workdir = g_dir_make_tmp ("dvs-fuzz-ctl-XXXXXX", &error);
  g_assert_no_error (error);
  state = g_build_filename (workdir, "state", NULL);
  store = dvs_local_store_open (state, &error);
  g_assert_no_error (error);
  sw = dvs_switch_new (&opts, &error);
  g_assert_no_error (error);
  ctl.sw = sw;
  ctl.dvports = dvs_dvport_host_new (sw, store, NULL);
  methods = g_new0 (DvsRpcMethod, 64);
  for (const DvsRpcMethod *m = dvs_control_methods; m->name != NULL; m++)
    if (!g_str_equal (m->name, "port.add") && !g_str_equal (m->name, "dvport.attach")
        && m->handler != NULL && n < 63)
      methods[n++] = *m;
  add_port ("vm1");
  add_port ("vm2");
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree gchar *reply = NULL, *get = NULL;

  setup ();
  n_inputs++;
  reply = dvs_rpc_dispatch_line (methods, &ctl, (const gchar *) data, size);
  if (reply != NULL)
    {
      check_reply ("the fuzzed request", reply);
      n_results += strstr (reply, "\"result\"") != NULL;
      n_errors += strstr (reply, "\"error\"") != NULL;
    }
  /* What an input stored reads back as valid JSON. */
  get = call ("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"switch.get\"}");
  check_reply ("switch.get after it", get);
  if (n_inputs % 512 == 0)
    {
      g_autofree gchar *list = call ("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"port.list\"}");
      check_reply ("port.list", list);
      if (strstr (list, "\"vm1\"") == NULL)
        add_port ("vm1");
      if (strstr (list, "\"vm2\"") == NULL)
        add_port ("vm2");
    }
  return 0;
}

#ifndef DVS_LIBFUZZER

static GPtrArray *
make_seeds (void)
{
  static const gchar *const lines[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"switch.show\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"port.list\",\"params\":{}}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"port.show\",\"params\":{\"name\":\"vm1\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"port.set-vlan\",\"params\":{\"name\":\"vm2\","
    "\"vlan\":{\"mode\":\"trunk\",\"trunks\":[10,20],\"native\":3}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"port.set-policy\",\"params\":{\"name\":\"vm1\","
    "\"policy\":{\"security\":{\"enabled\":true,\"allowed_macs\":[\"52:54:00:00:00:01\"]},"
    "\"shaping\":{\"ingress\":{\"average_kbps\":1000,\"burst_kb\":64}},\"blocked\":false}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"switch.apply\",\"params\":{\"switch\":{"
    "\"id\":\"dvs0\",\"name\":\"prod\",\"mtu\":9000,\"port_groups\":[{\"key\":\"web\",\"name\":\"Web\","
    "\"config\":{\"vlan\":10,\"policy\":{\"shaping\":{\"egress\":{\"average_kbps\":500}}}}}],"
    "\"ports\":[{\"key\":\"p1\",\"port_group\":\"web\",\"connection\":{\"id\":\"c1\",\"vm\":\"vm-a\","
    "\"mac\":\"52:54:00:00:00:01\"}},{\"key\":\"p2\",\"config\":{\"vlan\":{\"mode\":\"access\",\"tag\":5}}}]}}}",
    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"switch.get\",\"params\":{\"id\":\"dvs0\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"dvport.show\",\"params\":{\"switch\":\"dvs0\",\"port\":\"p1\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"dvport.detach\",\"params\":{\"switch\":\"dvs0\",\"port\":\"p1\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"switch.remove\",\"params\":{\"id\":\"dvs0\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"mac.dump\",\"params\":{}}",
    "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"port.set-gate\",\"params\":{\"port\":\"vm1\",\"open\":true}}",
    "{\"jsonrpc\":\"2.0\",\"method\":\"switch.list\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"switch.show\",\"x\\u001fy\":1}",
    "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"switch.show\"}]",
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
  return g_strdup_printf ("%" G_GUINT64_FORMAT " results, %" G_GUINT64_FORMAT " errors, every reply clean JSON",
                          n_results, n_errors);
}

static void
finish (void)
{
  dvs_dvport_host_free (ctl.dvports);
  dvs_switch_free (sw);
  dvs_local_store_free (store);
  g_free (methods);
  /* The store and the sockets: a tree of our own, made by mkdtemp. */
  g_spawn_sync (NULL, (gchar *[]) { "rm", "-rf", "--", workdir, NULL }, NULL, G_SPAWN_SEARCH_PATH,
                NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (workdir);
}

int
main (int argc, char **argv)
{
  static const DvsFuzzTarget target = {
    "fuzz-control-socket", make_seeds, LLVMFuzzerTestOneInput, report, finish,
  };

  return dvs_fuzz_main (&target, argc, argv);
}

#endif
