/* The history of version files (snapshot.h, dvs_snapshot_history_*), on
 * real files in a temporary directory: numbering and permissions, the
 * listed metadata, reading "latest" and a missing version, pruning that
 * never brings a number back, damaged files listed with their problem,
 * version names and switch UUIDs that would escape the directory, and a
 * save that fails on a full disk leaving nothing behind. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "snapshot/snapshot.h"
#include "test-util.h"
#include "dvs-json-write.h"

#define SW "2537be54-d3dc-45a9-ad56-3d065c9d5f51"
#define SW2 "0b7e2c9a-3f4d-4e5f-8a9b-0c1d2e3f4a5b"

typedef struct {
  gchar *root;
  gchar *dir;      /* ROOT/snapshots: does not exist yet */
  gchar *sw_dir;   /* DIR/SW */
  DvsSnapshotHistory *history;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->root = dvs_test_make_tmp_dir ("dvsmgr-history-XXXXXX");
  f->dir = g_build_filename (f->root, "snapshots", NULL);
  f->sw_dir = g_build_filename (f->dir, SW, NULL);
  f->history = dvs_snapshot_history_new (f->dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  dvs_snapshot_history_free (f->history);
  dvs_test_remove_tree (f->root);
  g_free (f->sw_dir);
  g_free (f->dir);
  g_free (f->root);
}

/* A small document of switch @uuid (its checksum is not checked here). */
static JsonNode *
make_doc (const gchar *uuid, gint64 generation, const gchar *comment)
{
  g_autoptr (JsonObject) root = json_object_new ();
  JsonObject *sw = json_object_new ();

  json_object_set_string_member (root, "format", DVS_SNAPSHOT_FORMAT);
  json_object_set_int_member (root, "format_version", 1);
  json_object_set_string_member (root, "created", "2026-11-22T03:10:00.123Z");
  json_object_set_string_member (root, "author", "uid 0 (:1.42)");
  json_object_set_string_member (root, "comment", comment);
  json_object_set_int_member (root, "generation", generation);
  json_object_set_string_member (sw, "uuid", uuid);
  json_object_set_string_member (sw, "name", "prod");
  json_object_set_int_member (sw, "mtu", 1500);
  json_object_set_object_member (root, "switch", sw);
  json_object_set_string_member (root, "checksum", "sha256:5d1f");
  return json_node_init_object (json_node_alloc (), root);
}

/* Saves and returns the version name; checks the path it gives. */
static gchar *
save_ok (Fixture *f, JsonNode *doc)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL, *file = NULL, *expected = NULL;
  gchar *version = NULL;

  g_assert_true (dvs_snapshot_history_save (f->history, doc, &version, &path,
                                            &error));
  g_assert_no_error (error);
  file = g_strconcat (version, ".json", NULL);
  expected = g_build_filename (f->sw_dir, file, NULL);
  g_assert_cmpstr (path, ==, expected);
  return version;
}

static void
save_generation (Fixture *f, gint64 generation, const gchar *expected)
{
  g_autoptr (JsonNode) doc = make_doc (SW, generation, "c");
  g_autofree gchar *version = save_ok (f, doc);

  g_assert_cmpstr (version, ==, expected);
}

static JsonArray *
list_ok (Fixture *f, const gchar *uuid, JsonNode **holder)
{
  g_autoptr (GError) error = NULL;

  *holder = dvs_snapshot_history_list (f->history, uuid, &error);
  g_assert_no_error (error);
  g_assert_nonnull (*holder);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (*holder));
  return json_node_get_array (*holder);
}

/* The versions of SW as "v000001 v000003". */
static gchar *
versions_text (Fixture *f)
{
  g_autoptr (JsonNode) list = NULL;
  JsonArray *array = list_ok (f, SW, &list);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    g_string_append_printf (out, "%s%s", i > 0 ? " " : "",
                            json_object_get_string_member (
                              json_array_get_object_element (array, i),
                              "version"));
  return g_string_free (out, FALSE);
}

static void
assert_versions (Fixture *f, const gchar *expected)
{
  g_autofree gchar *got = versions_text (f);

  g_assert_cmpstr (got, ==, expected);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* The names in @path, sorted, as "a b c". */
static gchar *
dir_text (const gchar *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *name;

  if (dir == NULL)
    return g_strdup ("(none)");
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (gchar **) names->pdata);
}

static void
assert_dir (const gchar *path, const gchar *expected)
{
  g_autofree gchar *got = dir_text (path);

  g_assert_cmpstr (got, ==, expected);
}

static void
assert_message (const GError *error, const gchar *needle)
{
  g_assert_nonnull (error);
  if (strstr (error->message, needle) == NULL)
    g_error ("\"%s\" not in \"%s\"", needle, error->message);
}

static void
test_save (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) doc = make_doc (SW, 1, "first");
  g_autoptr (JsonNode) upper = NULL, other = NULL, back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *v1 = NULL, *v2 = NULL, *text = NULL;
  g_autofree gchar *upper_uuid = g_ascii_strup (SW, -1);
  g_autofree gchar *file = g_build_filename (f->sw_dir, "v000001.json", NULL);
  GStatBuf st;

  g_assert_cmpstr (dvs_snapshot_history_dir (f->history), ==, f->dir);
  v1 = save_ok (f, doc);
  g_assert_cmpstr (v1, ==, "v000001");
  g_assert_cmpint (g_stat (f->dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_cmpint (g_stat (f->sw_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_cmpint (g_stat (file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);

  /* The file is the document, pretty-printed. */
  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "\n  \"comment\" : \"first\""));
  back = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (back, doc));

  /* The same switch with its UUID in capitals: the same directory. */
  upper = make_doc (upper_uuid, 2, "second");
  v2 = save_ok (f, upper);
  g_assert_cmpstr (v2, ==, "v000002");

  /* Another switch numbers from 1 in a directory of its own. */
  other = make_doc (SW2, 1, "other");
  {
    gchar *version = NULL, *path = NULL;

    g_assert_true (dvs_snapshot_history_save (f->history, other, &version,
                                              &path, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (version, ==, "v000001");
    g_assert_true (g_str_has_suffix (path, SW2 "/v000001.json"));
    g_free (version);
    g_free (path);
  }
  /* version and path may be NULL. */
  g_assert_true (dvs_snapshot_history_save (f->history, doc, NULL, NULL,
                                            &error));
  g_assert_no_error (error);

  assert_dir (f->sw_dir, "v000001.json v000002.json v000003.json");
  assert_dir (f->dir, SW2 " " SW);
}

static void
test_list (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) list = NULL, empty = NULL;
  JsonArray *array;
  JsonObject *entry;
  GStatBuf st;

  /* No versions yet: an empty list, and nothing created. */
  array = list_ok (f, SW, &empty);
  g_assert_cmpuint (json_array_get_length (array), ==, 0);
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));

  save_generation (f, 7, "v000001");
  save_generation (f, 8, "v000002");
  array = list_ok (f, SW, &list);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  entry = json_array_get_object_element (array, 1);
  g_assert_cmpstr (json_object_get_string_member (entry, "version"), ==,
                   "v000002");
  g_assert_true (g_str_has_suffix (json_object_get_string_member (entry, "path"),
                                   SW "/v000002.json"));
  g_assert_cmpstr (json_object_get_string_member (entry, "created"), ==,
                   "2026-11-22T03:10:00.123Z");
  g_assert_cmpstr (json_object_get_string_member (entry, "author"), ==,
                   "uid 0 (:1.42)");
  g_assert_cmpstr (json_object_get_string_member (entry, "comment"), ==, "c");
  g_assert_cmpstr (json_object_get_string_member (entry, "checksum"), ==,
                   "sha256:5d1f");
  g_assert_cmpint (json_object_get_int_member (entry, "generation"), ==, 8);
  g_assert_cmpint (g_stat (json_object_get_string_member (entry, "path"), &st),
                   ==, 0);
  g_assert_cmpint (json_object_get_int_member (entry, "size"), ==, st.st_size);
  g_assert_false (json_object_has_member (entry, "error"));
  entry = json_array_get_object_element (array, 0);
  g_assert_cmpint (json_object_get_int_member (entry, "generation"), ==, 7);
}

static void
test_read (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *latest = NULL, *first = NULL, *missing = NULL;
  g_autofree gchar *none = NULL;
  g_autoptr (JsonNode) doc = NULL;

  none = dvs_snapshot_history_read (f->history, SW, "latest", &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_message (error, SW);
  g_clear_error (&error);

  save_generation (f, 1, "v000001");
  save_generation (f, 2, "v000002");
  save_generation (f, 3, "v000003");

  latest = dvs_snapshot_history_read (f->history, SW, "latest", &error);
  g_assert_no_error (error);
  doc = json_from_string (latest, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (doc),
                                               "generation"), ==, 3);
  g_clear_pointer (&doc, json_node_unref);

  first = dvs_snapshot_history_read (f->history, SW, "v000001", &error);
  g_assert_no_error (error);
  doc = json_from_string (first, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (doc),
                                               "generation"), ==, 1);

  missing = dvs_snapshot_history_read (f->history, SW, "v000009", &error);
  g_assert_null (missing);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  assert_message (error, "v000009");
  assert_message (error, SW);
  g_clear_error (&error);

  /* An unknown switch has no versions. */
  missing = dvs_snapshot_history_read (f->history, SW2, "v000001", &error);
  g_assert_null (missing);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  assert_message (error, SW2);
}

static void
test_prune (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  /* Nothing to prune: fine, and nothing created. */
  g_assert_true (dvs_snapshot_history_prune (f->history, SW, 2, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));

  save_generation (f, 1, "v000001");
  save_generation (f, 2, "v000002");
  save_generation (f, 3, "v000003");
  save_generation (f, 4, "v000004");

  g_assert_true (dvs_snapshot_history_prune (f->history, SW, 0, &error));
  g_assert_no_error (error);
  assert_versions (f, "v000001 v000002 v000003 v000004");

  g_assert_true (dvs_snapshot_history_prune (f->history, SW, 2, &error));
  g_assert_no_error (error);
  assert_versions (f, "v000003 v000004");
  g_assert_true (dvs_snapshot_history_prune (f->history, SW, 2, &error));
  g_assert_no_error (error);
  assert_versions (f, "v000003 v000004");

  /* Numbers are not reused. */
  save_generation (f, 5, "v000005");
  g_assert_true (dvs_snapshot_history_prune (f->history, SW, 1, &error));
  g_assert_no_error (error);
  assert_versions (f, "v000005");
  save_generation (f, 6, "v000006");
  assert_dir (f->sw_dir, "v000005.json v000006.json");
}

static void
write_file (const gchar *dir, const gchar *name, const gchar *text)
{
  g_autofree gchar *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, text, -1, &error));
  g_assert_no_error (error);
}

static void
test_damaged (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autofree gchar *text = NULL, *subdir = NULL;
  JsonArray *array;
  JsonObject *entry;

  save_generation (f, 1, "v000001");
  write_file (f->sw_dir, "v000002.json", "{\"format\": \"dvs-swi");
  write_file (f->sw_dir, "v000003.json", "[1, 2]");
  save_generation (f, 4, "v000004");
  /* Not versions: never listed. */
  write_file (f->sw_dir, "v1.json", "{}");
  write_file (f->sw_dir, "v0000005.json", "{}");
  write_file (f->sw_dir, "v000005.json.tmp", "{}");
  write_file (f->sw_dir, "notes.txt", "x");
  subdir = g_build_filename (f->sw_dir, "v000009.json", NULL);
  g_assert_cmpint (g_mkdir (subdir, 0700), ==, 0);
  array = list_ok (f, SW, &list);
  g_assert_cmpuint (json_array_get_length (array), ==, 5);
  entry = json_array_get_object_element (array, 1);
  g_assert_cmpstr (json_object_get_string_member (entry, "version"), ==,
                   "v000002");
  g_test_message ("%s", json_object_get_string_member (entry, "error"));
  g_assert_nonnull (strstr (json_object_get_string_member (entry, "error"),
                            "not valid JSON"));
  g_assert_true (json_object_get_null_member (entry, "created"));
  g_assert_true (json_object_get_null_member (entry, "generation"));
  g_assert_cmpint (json_object_get_int_member (entry, "size"), ==, 19);
  entry = json_array_get_object_element (array, 2);
  g_assert_cmpstr (json_object_get_string_member (entry, "error"), ==,
                   "not a JSON object");
  entry = json_array_get_object_element (array, 4);
  g_assert_cmpstr (json_object_get_string_member (entry, "version"), ==,
                   "v000009");
  g_assert_cmpstr (json_object_get_string_member (entry, "error"), ==,
                   "not a regular file");
  g_assert_false (json_object_has_member (json_array_get_object_element (array, 0),
                                          "error"));
  g_assert_false (json_object_has_member (json_array_get_object_element (array, 3),
                                          "error"));

  /* Read gives the text as it is: parsing is the caller's business. */
  text = dvs_snapshot_history_read (f->history, SW, "v000002", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "{\"format\": \"dvs-swi");
  g_clear_pointer (&text, g_free);
  text = dvs_snapshot_history_read (f->history, SW, "latest", &error);
  g_assert_null (text);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* The next number follows the highest, damaged or not. */
  save_generation (f, 10, "v000010");
}

/* A version file's content is never quoted in its listing (json-glib's
 * parse message may quote it), and symbolic links are not followed. */
static void
test_not_followed (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) list = NULL;
  JsonArray *array;
  JsonObject *entry;

  save_generation (f, 1, "v000001");
  /* Content is never quoted, links are not followed. */
  write_file (f->sw_dir, "v000010.json", "{\"a\": SECRET-TOKEN}");
  write_file (f->sw_dir, "secret.txt", "SECRET-TOKEN");
  {
    g_autofree gchar *target = g_build_filename (f->sw_dir, "secret.txt", NULL);
    g_autofree gchar *link = g_build_filename (f->sw_dir, "v000011.json", NULL);
    g_assert_cmpint (symlink (target, link), ==, 0);
  }

  array = list_ok (f, SW, &list);
  g_assert_cmpuint (json_array_get_length (array), ==, 3);
  entry = json_array_get_object_element (array, 1);
  g_assert_cmpstr (json_object_get_string_member (entry, "version"), ==, "v000010");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (entry, "error"),
                                   "not valid JSON (line 1"));
  entry = json_array_get_object_element (array, 2);
  g_assert_cmpstr (json_object_get_string_member (entry, "version"), ==, "v000011");
  g_assert_cmpstr (json_object_get_string_member (entry, "error"), ==,
                   "a symbolic link, which is not followed");
  {
    g_autofree gchar *listed = dvs_json_write (list, FALSE);
    g_assert_null (strstr (listed, "SECRET"));
  }
}

/* Names that would lead out of DIR/SWITCH are refused before any file is
 * touched. */
static void
test_bad_names (Fixture *f, gconstpointer data)
{
  static const gchar *const bad_versions[] = {
    "", "v", "v00001", "v0000001", "v00000a", "V000001", "v000001.json",
    "../secret", "v000001/../../../secret", "latest/..", "/etc/passwd",
    "v000001\n", " latest",
  };
  static const gchar *const bad_uuids[] = {
    "", "..", "../" SW, SW "/..", "2537be54-d3dc-45a9-ad56-3d065c9d5f5",
    "2537be54-d3dc-45a9-ad56-3d065c9d5f51/../x", "/tmp",
    "2537be54d3dc45a9ad563d065c9d5f51",
  };
  g_autoptr (GError) error = NULL;

  write_file (f->root, "secret.json", "{\"secret\": true}");
  save_generation (f, 1, "v000001");

  for (guint i = 0; i < G_N_ELEMENTS (bad_versions); i++)
    {
      g_autofree gchar *text = dvs_snapshot_history_read (f->history, SW,
                                                          bad_versions[i],
                                                          &error);

      g_assert_null (text);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      assert_message (error, "version name");
      g_clear_error (&error);
    }
  {
    g_autofree gchar *text = dvs_snapshot_history_read (f->history, SW, NULL,
                                                        &error);

    g_assert_null (text);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  for (guint i = 0; i < G_N_ELEMENTS (bad_uuids); i++)
    {
      g_autoptr (JsonNode) doc = make_doc (bad_uuids[i], 1, "evil");
      g_autoptr (JsonNode) list = NULL;
      g_autofree gchar *text = NULL;

      g_assert_false (dvs_snapshot_history_save (f->history, doc, NULL, NULL,
                                                 &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      assert_message (error, "switch UUID");
      g_clear_error (&error);

      list = dvs_snapshot_history_list (f->history, bad_uuids[i], &error);
      g_assert_null (list);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      text = dvs_snapshot_history_read (f->history, bad_uuids[i], "latest",
                                        &error);
      g_assert_null (text);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);

      g_assert_false (dvs_snapshot_history_prune (f->history, bad_uuids[i], 1,
                                                  &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }

  /* A document without a switch UUID at all. */
  {
    g_autoptr (JsonNode) no_switch = json_from_string ("{\"switch\": {}}", NULL);
    g_autoptr (JsonNode) not_object = json_from_string ("[1]", NULL);

    g_assert_false (dvs_snapshot_history_save (f->history, no_switch, NULL,
                                               NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (dvs_snapshot_history_save (f->history, not_object, NULL,
                                               NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }

  /* Nothing was created or removed anywhere. */
  assert_dir (f->root, "secret.json snapshots");
  assert_dir (f->dir, SW);
  assert_dir (f->sw_dir, "v000001.json");
}

/* A save that fails for lack of space: the file-size limit stands in for
 * a full disk (write fails with EFBIG).  The limit belongs to the process,
 * so the test runs in a child of its own. */
static void
test_full_disk (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *filler = g_strnfill (64 * 1024, 'x');
  g_autoptr (JsonNode) large = NULL;
  g_autofree gchar *version = NULL, *path = NULL;
  struct rlimit saved;

  if (!dvs_test_in_child ())
    return;

  save_generation (f, 1, "v000001");
  large = make_doc (SW, 2, filler);

  dvs_test_limit_file_size (16 * 1024, &saved);
  g_assert_false (dvs_snapshot_history_save (f->history, large, &version,
                                             &path, &error));
  dvs_test_restore_file_size (&saved);
  g_assert_null (version);
  g_assert_null (path);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  assert_message (error, "v000002");
  assert_message (error, SW);
  assert_message (error, g_strerror (EFBIG));
  assert_message (error, "free space");
  g_clear_error (&error);

  /* No partial file, and the history still works. */
  assert_dir (f->sw_dir, "v000001.json");
  assert_versions (f, "v000001");
  version = save_ok (f, large);
  g_assert_cmpstr (version, ==, "v000002");
  assert_dir (f->sw_dir, "v000001.json v000002.json");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/dvsmgr/snapshot-history/" name, Fixture, NULL, \
              fixture_setup, func, fixture_teardown)
  ADD ("save", test_save);
  ADD ("list", test_list);
  ADD ("read", test_read);
  ADD ("prune", test_prune);
  ADD ("damaged", test_damaged);
  ADD ("not-followed", test_not_followed);
  ADD ("bad-names", test_bad_names);
  ADD ("full-disk", test_full_disk);
#undef ADD

  return g_test_run ();
}
