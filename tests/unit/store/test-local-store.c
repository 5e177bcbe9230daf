/* The local store on real files in a temporary directory: round trips,
 * atomic replacement, listing and removal, names refused before the disk is
 * touched, every kind of damaged file, leftovers of interrupted writes, a
 * full disk, the checkpoint upgrade and the golden files.
 *
 * DVS_REGENERATE_FIXTURES=1 rewrites fixtures/{switch,port,checkpoint}.dvs
 * from the code's output instead of comparing (review the diff). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "store/local-store.h"
#include "store/store-file.h"

/* 2026-11-22T01:02:03Z, the "written" time of the golden files. */
#define FIXED_TIME_US (G_GINT64_CONSTANT (1795309323) * G_USEC_PER_SEC)

typedef struct {
  gchar *root;
  DvsLocalStore *store;
} Fixture;

static gint64
fixed_clock (void)
{
  return FIXED_TIME_US;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->root = g_dir_make_tmp ("dvs-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = dvs_local_store_open (f->root, &error);
  g_assert_no_error (error);
  dvs_local_store_set_clock (f->store, fixed_clock);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  dvs_local_store_free (f->store);
  g_assert_true (dvs_store_tree_remove (f->root));
  g_free (f->root);
}

static JsonNode *
parse (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

static gchar *
fixture_path (const gchar *name)
{
  return g_test_build_filename (G_TEST_DIST, "fixtures", name, NULL);
}

static JsonNode *
fixture_json (const gchar *name)
{
  g_autofree gchar *path = fixture_path (name);
  g_autofree gchar *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return parse (text);
}

static gchar *
read_file (const gchar *path, gsize *size)
{
  g_autoptr (GError) error = NULL;
  gchar *text = NULL;

  g_file_get_contents (path, &text, size, &error);
  g_assert_no_error (error);
  return text;
}

static void
write_file (const gchar *path, const gchar *data, gssize size)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, data, size, &error);
  g_assert_no_error (error);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Entries of @dir, sorted, joined with spaces. */
static gchar *
dir_entries (const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  const gchar *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, (gpointer) name);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (gchar **) names->pdata);
}

static gchar *
store_dir (Fixture *f, const gchar *switch_id, const gchar *sub)
{
  return g_build_filename (f->root, "switches", switch_id, sub, NULL);
}

static void
put_ok (Fixture *f, DvsStoreKind kind, const gchar *sw, const gchar *key,
        const gchar *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = parse (json);

  g_assert_true (dvs_local_store_put (f->store, kind, sw, key, node, &error));
  g_assert_no_error (error);
}

/* The error has @code and names @path. */
static void
assert_store_error (const GError *error, DvsStoreError code, const gchar *path)
{
  g_assert_error (error, DVS_STORE_ERROR, (gint) code);
  if (path != NULL && strstr (error->message, path) == NULL)
    g_error ("message does not name %s: %s", path, error->message);
}

static void
test_kinds (void)
{
  g_assert_cmpstr (dvs_store_kind_to_string (DVS_STORE_KIND_SWITCH), ==, "switch");
  g_assert_cmpstr (dvs_store_kind_to_string (DVS_STORE_KIND_PORT), ==, "port");
  g_assert_cmpstr (dvs_store_kind_to_string (DVS_STORE_KIND_CHECKPOINT), ==, "checkpoint");
  g_assert_cmpuint (dvs_store_kind_version (DVS_STORE_KIND_SWITCH), ==, 1);
  g_assert_cmpuint (dvs_store_kind_version (DVS_STORE_KIND_PORT), ==, 1);
  g_assert_cmpuint (dvs_store_kind_version (DVS_STORE_KIND_CHECKPOINT), ==, 2);
  g_assert_true (dvs_store_is_tmp_name ("vm1.dvs.tmp.Ab3dE9"));
  g_assert_false (dvs_store_is_tmp_name ("vm1.dvs"));
  g_assert_false (dvs_store_is_tmp_name ("x.tmp.Ab3dE9.dvs"));
  g_assert_false (dvs_store_is_tmp_name (".tmp.Ab3dE9"));
  g_assert_false (dvs_store_is_tmp_name ("vm1.dvs.tmp.Ab3-E9"));
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  static const gchar *const payloads[DVS_STORE_KIND_LAST] = {
    "{\"name\":\"dvs-prod\",\"config\":{\"mtu\":1500,\"ratio\":0.1},\"hosts\":[\"a\",\"b\"]}",
    "{\"key\":\"vm1\",\"connection_id\":\"c-1\",\"note\":\"caf\\u00e9 \\\"q\\\" \\n\"}",
    "{\"port_key\":\"vm1\",\"counters\":{\"rx\":{\"packets\":9007199254740993}},\"classes\":[]}",
  };
  static const gchar *const files[DVS_STORE_KIND_LAST] = {
    "switches/sw-1/switch.dvs", "switches/sw-1/ports/vm1.dvs",
    "switches/sw-1/checkpoints/vm1.dvs",
  };

  for (guint kind = 0; kind < DVS_STORE_KIND_LAST; kind++)
    {
      const gchar *key = kind == DVS_STORE_KIND_SWITCH ? NULL : "vm1";
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) in = parse (payloads[kind]);
      g_autoptr (JsonNode) out = NULL;
      g_autofree gchar *path = dvs_local_store_path (f->store, kind, "sw-1", key);
      g_autofree gchar *want = g_build_filename (f->root, files[kind], NULL);
      struct stat st;

      g_test_message ("%s", dvs_store_kind_to_string (kind));
      g_assert_cmpstr (path, ==, want);
      g_assert_true (dvs_local_store_put (f->store, kind, "sw-1", key, in, &error));
      g_assert_no_error (error);
      out = dvs_local_store_get (f->store, kind, "sw-1", key, &error);
      g_assert_no_error (error);
      g_assert_true (json_node_equal (in, out));
      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 07777, ==, 0600);
    }
  /* Directories are private. */
  {
    static const gchar *const dirs[] = { "switches", "switches/sw-1",
      "switches/sw-1/ports", "switches/sw-1/checkpoints" };
    for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
      {
        g_autofree gchar *dir = g_build_filename (f->root, dirs[i], NULL);
        struct stat st;
        g_assert_cmpint (g_stat (dir, &st), ==, 0);
        g_assert_cmpint (st.st_mode & 07777, ==, 0700);
      }
  }
  /* What is not there is NOT_FOUND, and the message says where it looked. */
  {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *path = dvs_local_store_path (f->store, DVS_STORE_KIND_PORT, "sw-1", "vm2");
    g_assert_null (dvs_local_store_get (f->store, DVS_STORE_KIND_PORT, "sw-1", "vm2", &error));
    assert_store_error (error, DVS_STORE_ERROR_NOT_FOUND, path);
  }
}

static void
test_overwrite (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) out = NULL;
  g_autofree gchar *ports = store_dir (f, "sw-1", "ports");
  g_autofree gchar *sw = store_dir (f, "sw-1", NULL);
  g_autofree gchar *entries = NULL, *sw_entries = NULL;

  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "vm1", "{\"generation\":1}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "vm1", "{\"generation\":2,\"more\":[1,2,3]}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "vm1", "{\"generation\":3}");
  entries = dir_entries (ports);
  g_assert_cmpstr (entries, ==, "vm1.dvs");
  sw_entries = dir_entries (sw);
  g_assert_cmpstr (sw_entries, ==, "ports");
  out = dvs_local_store_get (f->store, DVS_STORE_KIND_PORT, "sw-1", "vm1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (out), "generation"), ==, 3);
}

static void
test_list (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) none = dvs_local_store_list_switches (f->store, &error);
  g_auto (GStrv) switches = NULL, ports = NULL, cps = NULL, missing = NULL;
  g_autofree gchar *switches_dir = g_build_filename (f->root, "switches", NULL);
  g_autofree gchar *ports_dir = store_dir (f, "sw-1", "ports");
  static const gchar *const strays[] = {
    "vm9.dvs.bak", "README", "bad name.dvs", ".dvs", "a.dvs.tmp.AbC123",
  };

  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "c", "{}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "a", "{}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "b:1", "{}");
  put_ok (f, DVS_STORE_KIND_CHECKPOINT, "sw-1", "b:1", "{}");
  put_ok (f, DVS_STORE_KIND_SWITCH, "sw-0", NULL, "{}");
  /* Things that are not store entries are not listed. */
  for (gsize i = 0; i < G_N_ELEMENTS (strays); i++)
    {
      g_autofree gchar *p = g_build_filename (ports_dir, strays[i], NULL);
      write_file (p, "x", -1);
    }
  {
    g_autofree gchar *bad_dir = g_build_filename (switches_dir, "bad id", NULL);
    g_autofree gchar *file = g_build_filename (switches_dir, "a-file", NULL);
    g_assert_cmpint (g_mkdir (bad_dir, 0700), ==, 0);
    write_file (file, "x", -1);
  }

  switches = dvs_local_store_list_switches (f->store, &error);
  g_assert_no_error (error);
  ports = dvs_local_store_list_ports (f->store, DVS_STORE_KIND_PORT, "sw-1", &error);
  g_assert_no_error (error);
  cps = dvs_local_store_list_ports (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", &error);
  g_assert_no_error (error);
  missing = dvs_local_store_list_ports (f->store, DVS_STORE_KIND_PORT, "sw-9", &error);
  g_assert_no_error (error);

  g_assert_cmpstrv (switches, ((const gchar *const[]) { "sw-0", "sw-1", NULL }));
  g_assert_cmpstrv (ports, ((const gchar *const[]) { "a", "b:1", "c", NULL }));
  g_assert_cmpstrv (cps, ((const gchar *const[]) { "b:1", NULL }));
  g_assert_cmpuint (g_strv_length (missing), ==, 0);
}

static void
test_remove (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ports = NULL;
  g_autoptr (JsonNode) gone = NULL, kept = NULL;

  put_ok (f, DVS_STORE_KIND_SWITCH, "sw-1", NULL, "{}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "a", "{}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "b", "{}");
  put_ok (f, DVS_STORE_KIND_CHECKPOINT, "sw-1", "a", "{}");

  g_assert_true (dvs_local_store_remove (f->store, DVS_STORE_KIND_PORT, "sw-1", "a", &error));
  g_assert_no_error (error);
  ports = dvs_local_store_list_ports (f->store, DVS_STORE_KIND_PORT, "sw-1", &error);
  g_assert_cmpstrv (ports, ((const gchar *const[]) { "b", NULL }));
  /* Its checkpoint is a file of its own. */
  kept = dvs_local_store_get (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "a", &error);
  g_assert_no_error (error);
  /* Removing what is not there is fine. */
  g_assert_true (dvs_local_store_remove (f->store, DVS_STORE_KIND_PORT, "sw-1", "a", &error));
  g_assert_true (dvs_local_store_remove (f->store, DVS_STORE_KIND_PORT, "sw-9", "a", &error));
  g_assert_true (dvs_local_store_remove (f->store, DVS_STORE_KIND_SWITCH, "sw-9", NULL, &error));
  g_assert_no_error (error);

  g_assert_true (dvs_local_store_remove (f->store, DVS_STORE_KIND_SWITCH, "sw-1", NULL, &error));
  gone = dvs_local_store_get (f->store, DVS_STORE_KIND_SWITCH, "sw-1", NULL, &error);
  g_assert_null (gone);
  g_assert_error (error, DVS_STORE_ERROR, DVS_STORE_ERROR_NOT_FOUND);
}

static void
test_remove_switch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *switches_dir = g_build_filename (f->root, "switches", NULL);
  g_autofree gchar *stray = store_dir (f, "sw-1", "ports/notes.txt");
  g_autofree gchar *entries = NULL;
  g_autoptr (JsonNode) kept = NULL;

  put_ok (f, DVS_STORE_KIND_SWITCH, "sw-1", NULL, "{}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "a", "{}");
  put_ok (f, DVS_STORE_KIND_CHECKPOINT, "sw-1", "a", "{}");
  put_ok (f, DVS_STORE_KIND_SWITCH, "sw-2", NULL, "{\"kept\":true}");
  write_file (stray, "x", -1);

  g_assert_true (dvs_local_store_remove_switch (f->store, "sw-1", &error));
  g_assert_no_error (error);
  entries = dir_entries (switches_dir);
  g_assert_cmpstr (entries, ==, "sw-2");    /* nothing of sw-1 left, not even its trash */
  g_assert_true (dvs_local_store_remove_switch (f->store, "sw-1", &error));
  g_assert_no_error (error);
  kept = dvs_local_store_get (f->store, DVS_STORE_KIND_SWITCH, "sw-2", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (kept), "kept"));
}

static void
test_invalid_names (Fixture *f, gconstpointer data)
{
  g_autofree gchar *long_name = g_strnfill (65, 'a');
  g_autofree gchar *longest = g_strnfill (64, 'a');
  g_autofree gchar *huge = g_strnfill (100000, 'a');
  const gchar *bad[] = {
    "../x", "a/b", "", long_name, ".", "..", "a b", "caf\xc3\xa9", "x\n", "/abs",
    "x\\y", "*", huge,
  };
  const gchar *good[] = { longest, "a.b:c-d_E9", "...", ".hidden", "0" };
  g_autofree gchar *root_entries = NULL, *switches_entries = NULL;
  g_autofree gchar *switches_dir = g_build_filename (f->root, "switches", NULL);
  g_autoptr (JsonNode) node = parse ("{}");

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;
      g_autoptr (GError) e6 = NULL, e7 = NULL;
      g_auto (GStrv) list = NULL;
      g_autoptr (JsonNode) got = NULL;

      g_assert_false (dvs_local_store_put (f->store, DVS_STORE_KIND_SWITCH, bad[i], NULL, node, &e1));
      g_assert_error (e1, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
      g_assert_false (dvs_local_store_put (f->store, DVS_STORE_KIND_PORT, "sw-1", bad[i], node, &e2));
      g_assert_error (e2, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
      got = dvs_local_store_get (f->store, DVS_STORE_KIND_CHECKPOINT, bad[i], "vm1", &e3);
      g_assert_error (e3, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
      g_assert_false (dvs_local_store_remove (f->store, DVS_STORE_KIND_PORT, "sw-1", bad[i], &e4));
      g_assert_error (e4, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
      g_assert_false (dvs_local_store_remove_switch (f->store, bad[i], &e5));
      g_assert_error (e5, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
      list = dvs_local_store_list_ports (f->store, DVS_STORE_KIND_PORT, bad[i], &e6);
      g_assert_null (list);
      g_assert_error (e6, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
      g_assert_null (dvs_local_store_path (f->store, DVS_STORE_KIND_PORT, "sw-1", bad[i]));
      g_assert_false (dvs_store_name_valid (bad[i], "port key", &e7));
      g_assert_error (e7, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
      /* The message says what is wrong, shows the name escaped and short. */
      g_assert_nonnull (strstr (e7->message, "invalid port key"));
      g_assert_cmpuint (strlen (e7->message), <, 400);
      g_assert_true (g_utf8_validate (e7->message, -1, NULL));
    }
  /* A missing switch id is an invalid name too (a missing port key is a
   * programming error: a critical). */
  {
    g_autoptr (GError) e1 = NULL, e2 = NULL;
    g_assert_false (dvs_local_store_put (f->store, DVS_STORE_KIND_SWITCH, NULL, NULL, node, &e1));
    g_assert_error (e1, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
    g_assert_false (dvs_store_name_valid (NULL, "switch id", &e2));
    g_assert_error (e2, DVS_STORE_ERROR, DVS_STORE_ERROR_INVALID_NAME);
  }
  /* Nothing was created anywhere. */
  root_entries = dir_entries (f->root);
  g_assert_cmpstr (root_entries, ==, "switches");
  switches_entries = dir_entries (switches_dir);
  g_assert_cmpstr (switches_entries, ==, "");

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_test_message ("%s", good[i]);
      g_assert_true (dvs_local_store_put (f->store, DVS_STORE_KIND_PORT, good[i], good[i], node, &error));
      g_assert_no_error (error);
    }
}

/* A whole file around @payload, as a writer of @version would make it. */
static gchar *
craft (const gchar *kind, guint version, const gchar *payload)
{
  g_autofree gchar *sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, payload, -1);

  return g_strdup_printf ("{\"format\":\"dvs-store\",\"version\":%u,\"kind\":\"%s\","
                          "\"written\":\"2030-01-01T00:00:00Z\",\"size\":%zu,"
                          "\"sha256\":\"%s\"}\n%s", version, kind, strlen (payload),
                          sha, payload);
}

typedef struct {
  GString *log;
} Visits;

static void
record_visit (DvsStoreKind kind, const gchar *switch_id, const gchar *port_key,
              JsonNode *payload, const GError *damage, gpointer user_data)
{
  Visits *v = user_data;

  g_assert_true ((payload == NULL) != (damage == NULL));
  g_string_append_printf (v->log, "%s/%s/%s=%s ", dvs_store_kind_to_string (kind),
                          switch_id, port_key ? port_key : "-",
                          payload != NULL ? "ok" : "damaged");
  if (damage != NULL)
    g_string_append_printf (v->log, "(%d) ", damage->code);
}

static void
test_damaged (Fixture *f, gconstpointer data)
{
  g_autofree gchar *good = NULL, *ports_dir = store_dir (f, "sw-1", "ports");
  g_autofree gchar *good_path = NULL, *cp_path = NULL, *cp = NULL;
  gsize good_size, cp_size;
  Visits v = { g_string_new ("") };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *expected = NULL;
  static const struct {
    const gchar *key;
    DvsStoreError code;
    const gchar *says;
  } cases[] = {
    { "b", DVS_STORE_ERROR_TRUNCATED, "truncated" },           /* payload cut */
    { "c", DVS_STORE_ERROR_CORRUPT, "SHA-256" },              /* a flipped bit */
    { "d", DVS_STORE_ERROR_CORRUPT, "not a JSON header" },    /* header broken */
    { "e", DVS_STORE_ERROR_WRONG_KIND, "holds another kind of data, not a port" },
    { "f", DVS_STORE_ERROR_FUTURE_VERSION, "newer dvs-switchd" },
    { "g", DVS_STORE_ERROR_TRUNCATED, "empty" },
    { "h", DVS_STORE_ERROR_CORRUPT, "follow its payload" },   /* bytes added */
    { "i", DVS_STORE_ERROR_CORRUPT, "payload is not JSON" },
    { "j", DVS_STORE_ERROR_CORRUPT, "not a JSON object" },
    { "k", DVS_STORE_ERROR_TRUNCATED, "inside its header" },
    { "l", DVS_STORE_ERROR_CORRUPT, "not a dvs-store file" }, /* some other file */
    { "m", DVS_STORE_ERROR_CORRUPT, "not a regular file" },
    /* Not followed, and no content quoted (a link to a secret, say). */
    { "n", DVS_STORE_ERROR_CORRUPT, "symbolic link" },
    { "o", DVS_STORE_ERROR_WRONG_KIND, "another kind" },        /* the kind is content */
    { "p", DVS_STORE_ERROR_CORRUPT, "payload is not JSON (line 1" },
    { "q", DVS_STORE_ERROR_CORRUPT, "not a JSON header (line 1" },
  };
  /* What no message may show: content of the files. */
  static const gchar secret[] = "SECRET-TOKEN";
  g_autofree gchar *secret_path = g_build_filename (f->root, "..", "secret-not-in-store", NULL);

  put_ok (f, DVS_STORE_KIND_SWITCH, "sw-1", NULL, "{}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "a", "{\"key\":\"a\",\"config\":{\"vlan\":10}}");
  put_ok (f, DVS_STORE_KIND_CHECKPOINT, "sw-1", "z", "{\"classes\":[]}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-2", "y", "{}");    /* no switch.dvs: not visited */
  put_ok (f, DVS_STORE_KIND_SWITCH, "sw-3", NULL, "{}");
  {
    /* A directory that cannot be listed is reported too. */
    g_autofree gchar *not_a_dir = store_dir (f, "sw-3", "checkpoints");
    write_file (not_a_dir, "x", -1);
  }
  good_path = dvs_local_store_path (f->store, DVS_STORE_KIND_PORT, "sw-1", "a");
  good = read_file (good_path, &good_size);
  cp_path = dvs_local_store_path (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "z");
  cp = read_file (cp_path, &cp_size);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *path = dvs_local_store_path (f->store, DVS_STORE_KIND_PORT, "sw-1", cases[i].key);
      g_autofree gchar *bytes = g_memdup2 (good, good_size);
      g_autofree gchar *crafted = NULL, *longer = NULL;

      switch (cases[i].key[0])
        {
        case 'b': write_file (path, bytes, (gssize) good_size - 5); break;
        case 'c': bytes[good_size - 4] ^= 0x01; write_file (path, bytes, (gssize) good_size); break;
        case 'd': memcpy (bytes, "{\"format\" \"dvs", 14); write_file (path, bytes, (gssize) good_size); break;
        case 'e': write_file (path, cp, (gssize) cp_size); break;
        case 'f': crafted = craft ("port", 99, "{\"v99\":true}\n"); write_file (path, crafted, -1); break;
        case 'g': write_file (path, "", 0); break;
        case 'h': longer = g_strconcat (good, "{}\n", NULL); write_file (path, longer, -1); break;
        case 'i': crafted = craft ("port", 1, "not json\n"); write_file (path, crafted, -1); break;
        case 'j': crafted = craft ("port", 1, "[1, 2]\n"); write_file (path, crafted, -1); break;
        case 'k': write_file (path, good, 40); break;
        case 'l': write_file (path, "{\"name\":\"other\"}\n{}\n", -1); break;
        case 'm': g_assert_cmpint (g_mkdir (path, 0700), ==, 0); break;
        case 'n':
          write_file (secret_path, good, (gssize) good_size);
          g_assert_cmpint (symlink (secret_path, path), ==, 0);
          break;
        case 'o': crafted = craft (secret, 1, "{}\n"); write_file (path, crafted, -1); break;
        case 'p': crafted = craft ("port", 1, "{\"a\": SECRET-TOKEN}\n"); write_file (path, crafted, -1); break;
        case 'q': write_file (path, "{\"format\": SECRET-TOKEN}\n{}\n", -1); break;
        default: g_assert_not_reached ();
        }
    }
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree gchar *path = dvs_local_store_path (f->store, DVS_STORE_KIND_PORT, "sw-1", cases[i].key);
      g_autoptr (GError) e = NULL;
      g_autoptr (JsonNode) node = dvs_local_store_get (f->store, DVS_STORE_KIND_PORT, "sw-1", cases[i].key, &e);

      g_test_message ("%s: %s", cases[i].key, e ? e->message : "no error");
      g_assert_null (node);
      assert_store_error (e, cases[i].code, path);
      g_assert_nonnull (strstr (e->message, cases[i].says));
      g_assert_null (strstr (e->message, secret));
      /* Each message says what to do. */
      g_assert_true (strstr (e->message, "aside") != NULL
                     || strstr (e->message, "out of the way") != NULL);
    }

  /* Every file is either loaded or reported; none stops the others. */
  g_assert_true (dvs_local_store_load_all (f->store, record_visit, &v, &error));
  g_assert_no_error (error);
  expected = g_strdup_printf (
    "switch/sw-1/-=ok port/sw-1/a=ok "
    "port/sw-1/b=damaged (%d) port/sw-1/c=damaged (%d) port/sw-1/d=damaged (%d) "
    "port/sw-1/e=damaged (%d) port/sw-1/f=damaged (%d) port/sw-1/g=damaged (%d) "
    "port/sw-1/h=damaged (%d) port/sw-1/i=damaged (%d) port/sw-1/j=damaged (%d) "
    "port/sw-1/k=damaged (%d) port/sw-1/l=damaged (%d) port/sw-1/m=damaged (%d) "
    "port/sw-1/n=damaged (%d) port/sw-1/o=damaged (%d) port/sw-1/p=damaged (%d) "
    "port/sw-1/q=damaged (%d) "
    "checkpoint/sw-1/z=ok port/sw-2/y=ok switch/sw-3/-=ok checkpoint/sw-3/-=damaged (%d) ",
    cases[0].code, cases[1].code, cases[2].code, cases[3].code, cases[4].code,
    cases[5].code, cases[6].code, cases[7].code, cases[8].code, cases[9].code,
    cases[10].code, cases[11].code, cases[12].code, cases[13].code, cases[14].code,
    cases[15].code, DVS_STORE_ERROR_IO);
  g_assert_cmpstr (v.log->str, ==, expected);
  g_string_free (v.log, TRUE);

  g_unlink (secret_path);

  /* A push replaces a damaged file. */
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "c", "{\"fresh\":true}");
  {
    g_autoptr (JsonNode) fresh = dvs_local_store_get (f->store, DVS_STORE_KIND_PORT, "sw-1", "c", &error);
    g_assert_no_error (error);
  }
}

static void
on_log (const gchar *domain, GLogLevelFlags level, const gchar *message,
        gpointer user_data)
{
  guint *n = user_data;

  g_assert_cmpint (level & G_LOG_LEVEL_MASK, ==, G_LOG_LEVEL_INFO);
  g_assert_nonnull (strstr (message, "interrupted"));
  (*n)++;
}

static void
test_tmp_swept (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *sw = store_dir (f, "sw-1", NULL);
  g_autofree gchar *ports = store_dir (f, "sw-1", "ports");
  g_autofree gchar *cps = store_dir (f, "sw-1", "checkpoints");
  g_autofree gchar *switches = g_build_filename (f->root, "switches", NULL);
  g_autofree gchar *tmp1 = g_build_filename (ports, "a.dvs.tmp.AbC123", NULL);
  g_autofree gchar *tmp2 = g_build_filename (cps, "z.dvs.tmp.Qw3rty", NULL);
  g_autofree gchar *tmp3 = g_build_filename (sw, "switch.dvs.tmp.x1Y2z3", NULL);
  g_autofree gchar *trash = g_build_filename (switches, "sw-9~deleted.AbCdEf", "ports", "x.dvs", NULL);
  g_autofree gchar *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
  g_auto (GStrv) listed = NULL, listed_sw = NULL;
  guint infos = 0, handler;

  put_ok (f, DVS_STORE_KIND_SWITCH, "sw-1", NULL, "{}");
  put_ok (f, DVS_STORE_KIND_PORT, "sw-1", "a", "{}");
  write_file (tmp1, "{\"format\":\"dvs-st", -1);     /* a crash mid-write */
  write_file (tmp2, "", 0);
  write_file (tmp3, "x", -1);
  write_file (trash, "x", -1);                       /* a crash mid-removal */

  /* Readers do not see them. */
  listed = dvs_local_store_list_ports (f->store, DVS_STORE_KIND_PORT, "sw-1", &error);
  g_assert_cmpstrv (listed, ((const gchar *const[]) { "a", NULL }));
  listed_sw = dvs_local_store_list_switches (f->store, &error);
  g_assert_cmpstrv (listed_sw, ((const gchar *const[]) { "sw-1", NULL }));

  /* The next open removes them, each logged at info level. */
  dvs_local_store_free (f->store);
  handler = g_log_set_handler ("dvs-store", G_LOG_LEVEL_MASK, on_log, &infos);
  f->store = dvs_local_store_open (f->root, &error);
  g_log_remove_handler ("dvs-store", handler);
  g_assert_no_error (error);
  g_assert_cmpuint (infos, ==, 4);
  e1 = dir_entries (ports);
  g_assert_cmpstr (e1, ==, "a.dvs");
  e2 = dir_entries (cps);
  g_assert_cmpstr (e2, ==, "");
  e3 = dir_entries (sw);
  g_assert_cmpstr (e3, ==, "checkpoints ports switch.dvs");
  e4 = dir_entries (switches);
  g_assert_cmpstr (e4, ==, "sw-1");
}

static void
test_locked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsLocalStore) second = dvs_local_store_open (f->root, &error);
  g_autoptr (DvsLocalStore) third = NULL;

  g_assert_null (second);
  assert_store_error (error, DVS_STORE_ERROR_LOCKED, f->root);
  g_clear_error (&error);
  g_clear_pointer (&f->store, dvs_local_store_free);
  third = dvs_local_store_open (f->root, &error);
  g_assert_no_error (error);
  f->store = g_steal_pointer (&third);
}

static void
test_open_creates_root (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *base = g_dir_make_tmp ("dvs-store-XXXXXX", &error);
  g_autofree gchar *root = g_build_filename (base, "var", "lib", "dvs", "host1", NULL);
  g_autoptr (DvsLocalStore) store = dvs_local_store_open (root, &error);
  struct stat st;

  g_assert_no_error (error);
  g_assert_cmpstr (dvs_local_store_root (store), ==, root);
  g_assert_cmpint (g_stat (root, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_clear_pointer (&store, dvs_local_store_free);
  g_assert_true (dvs_store_tree_remove (base));
}

/* A write that fails half-way: the file-size limit stands in for a full
 * disk (write() fails with EFBIG after a short write, as with ENOSPC).  The
 * limit belongs to the process, so the test runs in a child of its own. */
static void
test_full_disk (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = dvs_local_store_path (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1");
  g_autofree gchar *cps = store_dir (f, "sw-1", "checkpoints");
  g_autofree gchar *before = NULL, *after = NULL, *entries = NULL;
  g_autofree gchar *filler = g_strnfill (256 * 1024, 'x');
  g_autoptr (JsonNode) large = NULL, kept = NULL;
  g_autoptr (JsonObject) obj = json_object_new ();
  struct rlimit saved, rl;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  put_ok (f, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1", "{\"generation\":1}");
  before = read_file (path, NULL);
  json_object_set_int_member (obj, "generation", 2);
  json_object_set_string_member (obj, "filler", filler);
  large = json_node_init_object (json_node_alloc (), obj);

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  rl = saved;
  rl.rlim_cur = 64 * 1024;
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &rl), ==, 0);
  signal (SIGXFSZ, SIG_IGN);
  g_assert_false (dvs_local_store_put (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1", large, &error));
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  assert_store_error (error, DVS_STORE_ERROR_IO, path);
  g_assert_nonnull (strstr (error->message, g_strerror (EFBIG)));
  g_clear_error (&error);

  after = read_file (path, NULL);
  g_assert_cmpstr (after, ==, before);
  entries = dir_entries (cps);
  g_assert_cmpstr (entries, ==, "vm1.dvs");          /* no temporary file */
  kept = dvs_local_store_get (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (kept), "generation"), ==, 1);

  /* Without the limit the same write goes through. */
  g_assert_true (dvs_local_store_put (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1", large, &error));
  g_assert_no_error (error);
}

/* A version-1 checkpoint, as dvs-switchd 0.1 wrote it, read through the
 * upgrade to the current version. */
static void
test_upgrade_v1 (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = dvs_local_store_path (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1-net0");
  g_autofree gchar *v1_path = fixture_path ("checkpoint-v1.dvs");
  g_autofree gchar *v1 = read_file (v1_path, NULL);
  g_autofree gchar *on_disk = NULL, *rewritten = NULL;
  g_autoptr (JsonNode) want = fixture_json ("checkpoint-v1-upgraded.json");
  g_autoptr (JsonNode) got = NULL;

  g_assert_nonnull (strstr (v1, "\"version\":1,"));
  write_file (path, v1, -1);
  got = dvs_local_store_get (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1-net0", &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (got, want));
  /* Reading does not rewrite; the next write stores the current version. */
  on_disk = read_file (path, NULL);
  g_assert_cmpstr (on_disk, ==, v1);
  g_assert_true (dvs_local_store_put (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1-net0", got, &error));
  rewritten = read_file (path, NULL);
  g_assert_true (g_str_has_prefix (rewritten, "{\"format\":\"dvs-store\",\"version\":2,\"kind\":\"checkpoint\""));

  /* A version-1 file the upgrade cannot make sense of is reported. */
  {
    g_autofree gchar *odd = craft ("checkpoint", 1, "{\"stats\":{},\"counters\":{}}\n");
    g_autoptr (GError) e = NULL;
    g_autoptr (JsonNode) none = NULL;
    write_file (path, odd, -1);
    none = dvs_local_store_get (f->store, DVS_STORE_KIND_CHECKPOINT, "sw-1", "vm1-net0", &e);
    g_assert_null (none);
    assert_store_error (e, DVS_STORE_ERROR_CORRUPT, path);
    g_assert_nonnull (strstr (e->message, "cannot be upgraded from checkpoint version 1 to 2"));
  }
}

/* Files written by this code, byte for byte: fixtures/KIND.dvs. */
static void
test_golden (Fixture *f, gconstpointer data)
{
  static const gchar *const names[DVS_STORE_KIND_LAST] = { "switch", "port", "checkpoint" };
  gboolean regenerate = g_strcmp0 (g_getenv ("DVS_REGENERATE_FIXTURES"), "1") == 0;

  for (guint kind = 0; kind < DVS_STORE_KIND_LAST; kind++)
    {
      const gchar *key = kind == DVS_STORE_KIND_SWITCH ? NULL : "vm1-net0";
      g_autofree gchar *input = g_strconcat (names[kind], ".json", NULL);
      g_autofree gchar *golden = g_strconcat (names[kind], ".dvs", NULL);
      g_autofree gchar *golden_path = fixture_path (golden);
      g_autoptr (JsonNode) payload = fixture_json (input);
      g_autofree gchar *path = dvs_local_store_path (f->store, kind, "sw-1", key);
      g_autofree gchar *written = NULL, *want = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) back = NULL;
      gsize size;

      g_test_message ("%s", golden);
      g_assert_true (dvs_local_store_put (f->store, kind, "sw-1", key, payload, &error));
      g_assert_no_error (error);
      written = read_file (path, &size);
      if (regenerate)
        {
          g_file_set_contents (golden_path, written, (gssize) size, &error);
          g_assert_no_error (error);
          g_test_message ("regenerated %s", golden_path);
          continue;
        }
      want = read_file (golden_path, NULL);
      g_assert_cmpstr (written, ==, want);
      /* And the golden file reads back as its payload. */
      write_file (path, want, -1);
      back = dvs_local_store_get (f->store, kind, "sw-1", key, &error);
      g_assert_no_error (error);
      g_assert_true (json_node_equal (back, payload));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add ("/local-store/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  g_test_add_func ("/local-store/kinds", test_kinds);
  g_test_add_func ("/local-store/open-creates-root", test_open_creates_root);
  ADD ("round-trip", test_round_trip);
  ADD ("overwrite", test_overwrite);
  ADD ("list", test_list);
  ADD ("remove", test_remove);
  ADD ("remove-switch", test_remove_switch);
  ADD ("invalid-names", test_invalid_names);
  ADD ("damaged", test_damaged);
  ADD ("tmp-swept", test_tmp_swept);
  ADD ("locked", test_locked);
  ADD ("full-disk", test_full_disk);
  ADD ("upgrade-v1", test_upgrade_v1);
  ADD ("golden", test_golden);
#undef ADD
  return g_test_run ();
}
