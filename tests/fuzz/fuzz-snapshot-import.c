/* A fuzz target for the snapshot importer (dvsmgr/snapshot/): arbitrary
 * bytes go through dvs_snapshot_parse(); anything that is a JSON object is
 * also resealed (its checksum recomputed, so mutations get past the
 * checksum) and, when it then parses, imported in the mode its length
 * picks, into a real manager model on a real SQLite store.
 *
 * LLVMFuzzerTestOneInput() is the libFuzzer entry point (clang
 * -fsanitize=fuzzer).  Without libFuzzer, main() runs the shared
 * mutational driver (fuzz-driver.h) on seeds that are documents exported
 * from a model built with the manager's own operations.  CI runs it under
 * ASan+UBSan:
 *   fuzz-snapshot-import --seconds 20 [--seed N] [FILE...]
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>
#include "snapshot/snapshot.h"
#include "dvs-jsonrpc.h"
#include "fuzz-driver.h"
#include "dvs-json-write.h"

static DvsMgr *mgr;
static guint64 n_valid, n_resealed, n_imported;   /* how deep inputs got */
static DvsMgrStore *store;
static gchar *workdir;

static void
setup_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;

  if (mgr)
    return;
  workdir = g_dir_make_tmp ("dvs-fuzz-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (workdir, "mgr.db", NULL);
  store = dvs_mgr_store_open (path, &error);
  g_assert_no_error (error);
  mgr = dvs_mgr_new (store, &error);
  g_assert_no_error (error);
}

/* Resets the model when it grew: imports add switches. */
static void
maybe_reset (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;

  if (g_hash_table_size (mgr->switches) < 64)
    return;
  dvs_mgr_free (mgr);
  dvs_mgr_store_close (store);
  path = g_build_filename (workdir, "mgr.db", NULL);
  g_unlink (path);
  for (const gchar *const *s = (const gchar *const[]) { "-wal", "-shm", ".lock", NULL }; *s; s++)
    {
      g_autofree gchar *p = g_strconcat (path, *s, NULL);
      g_unlink (p);
    }
  store = dvs_mgr_store_open (path, &error);
  g_assert_no_error (error);
  mgr = dvs_mgr_new (store, &error);
  g_assert_no_error (error);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (DvsSnapshot) snap = NULL, resealed = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonNode) doc = NULL;
  g_autofree gchar *checksum = NULL, *text = NULL;
  static const gchar *const names[] = { "fuzzed", "prod", "", NULL };
  DvsImportMode mode = (DvsImportMode) (size % 3);

  setup_model ();
  snap = dvs_snapshot_parse ((const gchar *) data, (gssize) size, problems);
  n_valid += snap != NULL;
  /* Past the checksum: reseal whatever is a JSON object. */
  if (size > 0 && size < 4 * 1024 * 1024 && memchr (data, '\0', size) == NULL
      && dvs_jsonrpc_check_text ((const gchar *) data, size, "input", NULL)
      && json_parser_load_from_data (parser, (const gchar *) data, (gssize) size, NULL)
      && json_parser_get_root (parser) && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      doc = json_node_copy (json_parser_get_root (parser));
      checksum = dvs_snapshot_checksum (doc);
      json_object_set_string_member (json_node_get_object (doc), "checksum", checksum);
      text = dvs_json_write (doc, FALSE);
      g_ptr_array_set_size (problems, 0);
      resealed = dvs_snapshot_parse (text, -1, problems);
    }
  if (resealed)
    {
      n_resealed++;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) report = NULL;
      g_autoptr (JsonNode) live = NULL, diff = NULL;
      g_autofree gchar *diff_text = NULL;
      MgrSwitch *sw = dvs_snapshot_import (mgr, resealed, mode, names[(size / 3) % 3], NULL, &report, &error);

      if (sw)
        {
          n_imported++;
          /* Whatever was imported exports and diffs cleanly. */
          live = dvs_snapshot_export (mgr, sw, TRUE, "fuzz", "");
          diff = dvs_snapshot_diff (resealed->doc, live);
          diff_text = dvs_snapshot_diff_text (diff);
        }
      maybe_reset ();
    }
  return 0;
}

#ifndef DVS_LIBFUZZER

/* A seed: a model built with the manager's own operations, exported. */
static GPtrArray *
make_seeds (void)
{
  GPtrArray *seeds = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  MgrSwitch *sw;
  MgrPortGroup *pg, *pg2;
  MgrHost *h;
  g_autoptr (GPtrArray) keys = NULL;
  g_autofree gchar *conn = NULL;

  setup_model ();
  sw = dvs_mgr_create_switch (mgr, "seed", "{\"transport_zone\":\"tz1\",\"mtu\":9000}", &error);
  g_assert_no_error (error);
  pg = dvs_mgr_add_port_group (mgr, sw, "web", "{\"vlan\":10,\"policy\":{\"security\":{\"enabled\":true}}}", 3, &error);
  g_assert_no_error (error);
  pg2 = dvs_mgr_add_port_group (mgr, sw, "trunk",
                                "{\"vlan\":{\"mode\":\"trunk\",\"trunks\":[10,20],\"native\":0},"
                                "\"policy\":{\"shaping\":{\"ingress\":{\"average_kbps\":1000}}}}", 2, &error);
  g_assert_no_error (error);
  (void) pg2;
  h = dvs_mgr_register_host (mgr, "h1", "{\"libvirt_uri\":\"qemu:///system\"}", &error);
  g_assert_no_error (error);
  h->last_seen = 1;
  g_ptr_array_add (h->transport_zones, g_strdup ("tz1"));
  dvs_mgr_join_host (mgr, sw, "h1", &error);
  g_assert_no_error (error);
  keys = dvs_mgr_port_group_add_ports (mgr, pg, 1, &error);
  g_assert_no_error (error);
  conn = dvs_mgr_port_connect (mgr, g_hash_table_lookup (mgr->ports, keys->pdata[0]), "h1",
                               "6f1c0000-0000-4000-8000-0000000000a1", "52:54:00:00:00:01", "net0", &error);
  g_assert_no_error (error);
  for (gint c = 0; c < 2; c++)
    {
      g_autoptr (JsonNode) doc = dvs_snapshot_export (mgr, sw, c, "seed", "a seed");
      g_ptr_array_add (seeds, dvs_json_write (doc, c));
    }
  g_ptr_array_add (seeds, g_strdup (""));
  g_ptr_array_add (seeds, g_strdup ("{}"));
  return seeds;
}

static gchar *
report (void)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT " valid as they were, %" G_GUINT64_FORMAT
                          " valid once resealed, %" G_GUINT64_FORMAT " imported",
                          n_valid, n_resealed, n_imported);
}

static void
finish (void)
{
  g_autoptr (GDir) dir = NULL;
  const gchar *name;

  dvs_mgr_free (mgr);
  dvs_mgr_store_close (store);
  dir = g_dir_open (workdir, 0, NULL);
  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree gchar *p = g_build_filename (workdir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (workdir);
  g_free (workdir);
}

int
main (int argc, char **argv)
{
  static const DvsFuzzTarget target = {
    "fuzz-snapshot-import", make_seeds, LLVMFuzzerTestOneInput, report, finish,
  };

  return dvs_fuzz_main (&target, argc, argv);
}

#endif
