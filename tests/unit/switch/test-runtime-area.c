/* The runtime area: slots claimed, adopted by a later "process" (a second
 * mapping of the same file, as a restarted dvs-switchd makes), released,
 * reset when the file comes from another boot or layout. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "store/runtime-area.h"

static gchar *
area_path (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *dir = g_dir_make_tmp ("dvs-area-XXXXXX", &error);

  g_assert_no_error (error);
  return g_build_filename (dir, "runtime.area", NULL);
}

static void
remove_area (const gchar *path)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
}

/* A process killed mid-burst left the journal open: the next open settles
 * it on the slot's runtime (the journal's own logic is tested in
 * test-journal.c). */
static void
test_journal_settled_at_open (void)
{
  g_autofree gchar *path = area_path ();
  g_autoptr (GError) error = NULL;
  DvsRuntimeArea *a = dvs_runtime_area_open (path, &error);
  struct dvs_journal_area ja;
  gboolean adopted;
  gint s1;

  g_assert_no_error (error);
  s1 = dvs_runtime_area_claim (a, "dvs0", "p1", &adopted);
  dvs_runtime_area_journal (a, &ja);
  g_assert_true ((guint8 *) dvs_runtime_area_slot (a, s1) == ja.base + (gsize) s1 * ja.stride);
  ja.journal->in_slot = (guint16) s1;
  ja.journal->n = 2;
  ja.journal->kind[0] = DVS_PKT_UNICAST;
  ja.journal->len[0] = 100;
  ja.journal->kind[1] = DVS_PKT_BROADCAST;
  ja.journal->len[1] = 60;
  ja.journal->state = DVS_JOURNAL_OPEN;

  DvsRuntimeArea *b = dvs_runtime_area_open (path, &error);
  g_assert_no_error (error);
  struct dvs_port_runtime *rt = dvs_runtime_area_slot (b, s1);
  g_assert_cmpuint (rt->stats.rx_packets[DVS_PKT_UNICAST], ==, 1);
  g_assert_cmpuint (rt->stats.rx_bytes[DVS_PKT_UNICAST], ==, 100);
  g_assert_cmpuint (rt->stats.rx_packets[DVS_PKT_BROADCAST], ==, 1);
  g_assert_cmpuint (rt->stats.drop_crash, ==, 2);
  g_assert_cmpuint (ja.journal->state, ==, DVS_JOURNAL_IDLE);
  dvs_runtime_area_free (a);
  dvs_runtime_area_free (b);
  remove_area (path);
}

/* A slot's forwarding-class blob: the newer of its pair is current, a
 * fresh claim empties it. */
static void
test_fwd_blob (void)
{
  g_autofree gchar *path = area_path ();
  g_autoptr (GError) error = NULL;
  DvsRuntimeArea *a = dvs_runtime_area_open (path, &error);
  struct dvs_journal_area ja;
  struct dvs_fwd_blob *pair;
  gboolean adopted;
  guint16 version = 0;
  gint s1;

  g_assert_no_error (error);
  s1 = dvs_runtime_area_claim (a, "dvs0", "p1", &adopted);
  g_assert_null (dvs_runtime_area_fwd_state (a, s1, &version));
  dvs_runtime_area_journal (a, &ja);
  pair = (struct dvs_fwd_blob *) (ja.blob_base + (gsize) s1 * ja.blob_stride);
  memcpy (pair[0].data, "old", 3);
  pair[0].len = 3;
  pair[0].version = 1;
  pair[0].gen = 1;
  memcpy (pair[1].data, "newer", 5);
  pair[1].len = 5;
  pair[1].version = 2;
  pair[1].gen = 2;
  g_autoptr (GBytes) cur = dvs_runtime_area_fwd_state (a, s1, &version);
  g_assert_nonnull (cur);
  g_assert_cmpuint (g_bytes_get_size (cur), ==, 5);
  g_assert_cmpuint (version, ==, 2);
  /* A length beyond the buffer is not trusted. */
  pair[1].len = DVS_FWD_BLOB_BYTES + 1;
  g_assert_null (dvs_runtime_area_fwd_state (a, s1, &version));
  dvs_runtime_area_release (a, s1);
  s1 = dvs_runtime_area_claim (a, "dvs0", "p9", &adopted);
  g_assert_null (dvs_runtime_area_fwd_state (a, s1, &version));
  dvs_runtime_area_free (a);
  remove_area (path);
}

static void
test_claim_adopt_release (void)
{
  g_autofree gchar *path = area_path ();
  g_autoptr (GError) error = NULL;
  DvsRuntimeArea *a = dvs_runtime_area_open (path, &error);
  DvsRuntimeArea *b;
  gboolean adopted;
  gint s1, s2, again;

  g_assert_no_error (error);
  s1 = dvs_runtime_area_claim (a, "dvs0", "p1", &adopted);
  g_assert_cmpint (s1, >=, 0);
  g_assert_false (adopted);
  s2 = dvs_runtime_area_claim (a, "dvs0", "p2", &adopted);
  g_assert_cmpint (s2, !=, s1);
  /* The same port claimed again by the same process: same slot, not adopted. */
  again = dvs_runtime_area_claim (a, "dvs0", "p1", &adopted);
  g_assert_cmpint (again, ==, s1);
  g_assert_false (adopted);
  dvs_runtime_area_slot (a, s1)->stats.rx_packets[DVS_PKT_UNICAST] = 12345;
  dvs_runtime_area_slot (a, s1)->filter_state[DVS_FILTER_SHAPER][0] = 777;

  /* "kill -9": no release, no unmap in order; a new process maps the file. */
  b = dvs_runtime_area_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (dvs_runtime_area_claim (b, "dvs0", "p1", &adopted), ==, s1);
  g_assert_true (adopted);
  g_assert_cmpuint (dvs_runtime_area_slot (b, s1)->stats.rx_packets[DVS_PKT_UNICAST], ==, 12345);
  g_assert_cmpuint (dvs_runtime_area_slot (b, s1)->filter_state[DVS_FILTER_SHAPER][0], ==, 777);
  /* Writes through one mapping are seen through the other: it is one file. */
  dvs_runtime_area_slot (b, s1)->stats.rx_packets[DVS_PKT_UNICAST]++;
  g_assert_cmpuint (dvs_runtime_area_slot (a, s1)->stats.rx_packets[DVS_PKT_UNICAST], ==, 12346);
  /* p2 was not re-attached: its slot is freed; a new port gets a clean slot. */
  g_assert_cmpuint (dvs_runtime_area_release_unclaimed (b), ==, 1);
  gint s3 = dvs_runtime_area_claim (b, "dvs0", "p3", &adopted);
  g_assert_false (adopted);
  g_assert_cmpuint (dvs_runtime_area_slot (b, s3)->stats.rx_packets[DVS_PKT_UNICAST], ==, 0);
  dvs_runtime_area_release (b, s1);
  g_assert_cmpint (dvs_runtime_area_claim (b, "dvs0", "p1", &adopted), >=, 0);
  g_assert_false (adopted);   /* released: its state went to a checkpoint */

  dvs_runtime_area_free (a);
  dvs_runtime_area_free (b);
  remove_area (path);
}

static void
test_full (void)
{
  g_autofree gchar *path = area_path ();
  DvsRuntimeArea *a = dvs_runtime_area_open (path, NULL);
  gboolean adopted;

  for (int i = 0; i < DVS_MAX_PORTS; i++)
    {
      g_autofree gchar *key = g_strdup_printf ("p%d", i);
      g_assert_cmpint (dvs_runtime_area_claim (a, "dvs0", key, &adopted), ==, i);
    }
  g_assert_cmpint (dvs_runtime_area_claim (a, "dvs0", "one-too-many", &adopted), ==, -1);
  dvs_runtime_area_free (a);
  remove_area (path);
}

static void
test_other_boot_resets (void)
{
  g_autofree gchar *path = area_path ();
  DvsRuntimeArea *a = dvs_runtime_area_open (path, NULL);
  gboolean adopted;
  gchar *contents;
  gsize len;

  dvs_runtime_area_claim (a, "dvs0", "p1", &adopted);
  dvs_runtime_area_free (a);
  /* Pretend the file was written in another boot: its counters are stale
   * and the checkpoints are the truth. */
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  memset (contents + 32, 'x', 36);   /* the boot id */
  g_assert_true (g_file_set_contents (path, contents, (gssize) len, NULL));
  g_free (contents);
  a = dvs_runtime_area_open (path, NULL);
  g_assert_nonnull (a);
  dvs_runtime_area_claim (a, "dvs0", "p1", &adopted);
  g_assert_false (adopted);
  dvs_runtime_area_free (a);

  /* A file of the wrong size (another layout) is reset too. */
  g_assert_true (g_file_set_contents (path, "garbage", -1, NULL));
  a = dvs_runtime_area_open (path, NULL);
  g_assert_nonnull (a);
  g_assert_cmpint (dvs_runtime_area_claim (a, "dvs0", "p1", &adopted), ==, 0);
  g_assert_false (adopted);
  dvs_runtime_area_free (a);
  remove_area (path);
}

static void
test_unwritable (void)
{
  g_autoptr (GError) error = NULL;
  DvsRuntimeArea *a = dvs_runtime_area_open ("/nonexistent-dir/runtime.area", &error);

  g_assert_null (a);
  g_assert_nonnull (strstr (error->message, "/nonexistent-dir/runtime.area"));
}

/* A symbolic link in the area's place is not followed: the switch would map
 * and reset whatever it points to. */
static void
test_symlink_refused (void)
{
  g_autofree gchar *path = area_path ();
  g_autofree gchar *target = g_strconcat (path, ".target", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *after = NULL;
  DvsRuntimeArea *a;

  g_assert_true (g_file_set_contents (target, "keep me", -1, NULL));
  g_assert_cmpint (symlink (target, path), ==, 0);
  a = dvs_runtime_area_open (path, &error);
  g_assert_null (a);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_true (g_file_get_contents (target, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, "keep me");
  g_unlink (target);
  remove_area (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/runtime-area/claim-adopt-release", test_claim_adopt_release);
  g_test_add_func ("/runtime-area/journal-settled-at-open", test_journal_settled_at_open);
  g_test_add_func ("/runtime-area/fwd-blob", test_fwd_blob);
  g_test_add_func ("/runtime-area/full", test_full);
  g_test_add_func ("/runtime-area/other-boot-resets", test_other_boot_resets);
  g_test_add_func ("/runtime-area/unwritable", test_unwritable);
  g_test_add_func ("/runtime-area/symlink-refused", test_symlink_refused);
  return g_test_run ();
}
