/* A fuzz target for the snapshot importer (dvsmgr/snapshot/): arbitrary
 * bytes go through dvs_snapshot_parse(); anything that is a JSON object is
 * also resealed (its checksum recomputed, so mutations get past the
 * checksum) and, when it then parses, imported in the mode its length
 * picks, into a real manager model on a real SQLite store.
 *
 * LLVMFuzzerTestOneInput() is the libFuzzer entry point (clang
 * -fsanitize=fuzzer).  Without libFuzzer, main() below is a small
 * mutational driver: its seeds are documents exported from a model built
 * with the manager's own operations, mutated (byte flips, inserts,
 * deletions, splices, and token-aware replacements of strings and numbers
 * with boundary values) for a fixed time.  CI runs it under ASan+UBSan:
 *   fuzz-snapshot-import --seconds 20 [--seed N] [FILE...]
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <string.h>
#include "snapshot/snapshot.h"
#include "dvs-jsonrpc.h"
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

/* ---- the driver ---------------------------------------------------------- */

static const gchar *const interesting[] = {
  "\"\"", "null", "true", "0", "-1", "1", "4094", "4095", "9000", "9001", "65536",
  "9223372036854775807", "-9223372036854775808", "1e308", "[]", "{}", "[[[[[[[[]]]]]]]]",
  "\"00000000-0000-4000-8000-000000000000\"", "\"../../etc/passwd\"", "\"\\u0000\"",
  "\"52:54:00:12:34:56\"", "\"ff:ff:ff:ff:ff:ff\"", "\"h1\"", "\"l2-learning\"",
  "{\"vlan\":5000}", "{\"policy\":{\"shaping\":{\"ingress\":{\"average_kbps\":-1}}}}",
  "{\"mode\":\"trunk\",\"trunks\":[1,2,3],\"native\":0}",
};

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

static void
insert_bytes (GByteArray *buf, guint pos, const guint8 *data, guint n)
{
  guint old = buf->len;

  g_byte_array_set_size (buf, old + n);
  memmove (buf->data + pos + n, buf->data + pos, old - pos);
  memcpy (buf->data + pos, data, n);
}

/* One mutation of @buf. */
static void
mutate (GRand *rng, GByteArray *buf, GPtrArray *seeds)
{
  guint len = buf->len;
  guint pos = len ? g_rand_int_range (rng, 0, (gint) len) : 0;

  switch (g_rand_int_range (rng, 0, 7))
    {
    case 0:   /* flip a bit */
      if (len)
        buf->data[pos] ^= (guint8) (1u << g_rand_int_range (rng, 0, 8));
      break;
    case 1:   /* insert random bytes */
      {
        guint8 b[8];
        guint n = (guint) g_rand_int_range (rng, 1, 9);
        for (guint i = 0; i < n; i++)
          b[i] = (guint8) g_rand_int_range (rng, 0, 256);
        insert_bytes (buf, pos, b, n);
      }
      break;
    case 2:   /* delete a run */
      if (len)
        {
          guint n = (guint) g_rand_int_range (rng, 1, 64);   /* not inside MIN: evaluated twice */
          g_byte_array_remove_range (buf, pos, MIN (n, len - pos));
        }
      break;
    case 3:   /* splice in part of another seed */
      {
        const gchar *other = seeds->pdata[g_rand_int_range (rng, 0, (gint) seeds->len)];
        gsize olen = strlen (other);
        if (olen)
          {
            gsize from = (gsize) g_rand_int_range (rng, 0, (gint) olen);
            gsize want = (gsize) g_rand_int_range (rng, 1, 200);
            gsize n = MIN (want, olen - from);
            insert_bytes (buf, pos, (const guint8 *) other + from, (guint) n);
          }
      }
      break;
    default:  /* replace a JSON token (a string or a number) by a boundary value */
      {
        guint start = pos, end;
        const gchar *v = interesting[g_rand_int_range (rng, 0, G_N_ELEMENTS (interesting))];
        while (start < len && buf->data[start] != '"' && !g_ascii_isdigit (buf->data[start])
               && buf->data[start] != '-')
          start++;
        if (start >= len)
          break;
        end = start + 1;
        if (buf->data[start] == '"')
          {
            while (end < len && buf->data[end] != '"')
              end += buf->data[end] == '\\' ? 2 : 1;
            end = MIN (end + 1, len);
          }
        else
          while (end < len && (g_ascii_isdigit (buf->data[end]) || buf->data[end] == '.'
                               || buf->data[end] == 'e' || buf->data[end] == '-'))
            end++;
        g_byte_array_remove_range (buf, start, end - start);
        insert_bytes (buf, start, (const guint8 *) v, (guint) strlen (v));
      }
      break;
    }
}

int
main (int argc, char **argv)
{
  gdouble seconds = 10;
  gint64 seed = 1;
  g_auto (GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "seconds", 't', 0, G_OPTION_ARG_DOUBLE, &seconds, "How long to run (default 10)", "S" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "Random seed (default 1)", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "FILE..." },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[FILE...] - fuzz the snapshot importer");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) seeds = NULL;
  g_autoptr (GRand) rng = NULL;
  gint64 deadline;
  guint64 runs = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  /* The code under test logs every refusal: keep the run quiet. */
  g_setenv ("G_MESSAGES_DEBUG", "", TRUE);
  seeds = make_seeds ();
  for (guint i = 0; files && files[i]; i++)
    {
      gchar *text = NULL;
      if (g_file_get_contents (files[i], &text, NULL, NULL))
        g_ptr_array_add (seeds, text);
    }
  rng = g_rand_new_with_seed ((guint32) seed);
  deadline = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  /* Every seed once as it is, then mutants until the time is up. */
  for (guint i = 0; i < seeds->len; i++, runs++)
    LLVMFuzzerTestOneInput (seeds->pdata[i], strlen (seeds->pdata[i]));
  while (g_get_monotonic_time () < deadline)
    {
      const gchar *base = seeds->pdata[g_rand_int_range (rng, 0, (gint) seeds->len)];
      g_autoptr (GByteArray) buf = g_byte_array_new ();
      guint n = (guint) g_rand_int_range (rng, 1, 9);

      g_byte_array_append (buf, (const guint8 *) base, (guint) strlen (base));
      for (guint m = 0; m < n; m++)
        mutate (rng, buf, seeds);
      LLVMFuzzerTestOneInput (buf->data, buf->len);
      runs++;
    }
  g_print ("fuzz-snapshot-import: %" G_GUINT64_FORMAT " inputs in %.0f s (seed %" G_GINT64_FORMAT
           "): %" G_GUINT64_FORMAT " valid as they were, %" G_GUINT64_FORMAT " valid once resealed, %"
           G_GUINT64_FORMAT " imported; no crash\n", runs, seconds, seed, n_valid, n_resealed,
           n_imported);
  dvs_mgr_free (mgr);
  dvs_mgr_store_close (store);
  {
    g_autoptr (GDir) dir = g_dir_open (workdir, 0, NULL);
    const gchar *name;
    while (dir && (name = g_dir_read_name (dir)))
      {
        g_autofree gchar *p = g_build_filename (workdir, name, NULL);
        g_unlink (p);
      }
    g_rmdir (workdir);
    g_free (workdir);
  }
  return 0;
}

#endif
