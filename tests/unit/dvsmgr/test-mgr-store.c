/* The manager's store (mgr-store.h) with its SQLite backend, on real files
 * in a temporary directory: URIs, round trips, transactions applied in
 * order, a commit that fails on a full disk, kill -9 in the middle of
 * commits, the v1 → v2 upgrade, stores refused for being newer, damaged,
 * not stores at all or already in use. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "mgr-store.h"
#include "test-util.h"
#include "dvs-json-write.h"

#define ROWS_PER_TXN 50

typedef struct {
  gchar *root;
  gchar *path;   /* ROOT/state/dvsmgr.db: the directory does not exist yet */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->root = dvs_test_make_tmp_dir ("dvsmgr-store-XXXXXX");
  f->path = g_build_filename (f->root, "state", "dvsmgr.db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  dvs_test_remove_tree (f->root);
  g_free (f->path);
  g_free (f->root);
}

/* Log records with a FROM_VERSION field, as "FROM->TO: MESSAGE". */
static GPtrArray *upgrade_logs;

static gchar *
field_string (const GLogField *field)
{
  return g_strndup (field->value,
                    field->length < 0 ? strlen (field->value)
                                      : (gsize) field->length);
}

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields,
                gsize n_fields, gpointer user_data)
{
  g_autofree gchar *from = NULL, *to = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "FROM_VERSION"))
        from = field_string (&fields[i]);
      else if (g_str_equal (fields[i].key, "TO_VERSION"))
        to = field_string (&fields[i]);
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = field_string (&fields[i]);
    }
  if (from != NULL && upgrade_logs != NULL)
    g_ptr_array_add (upgrade_logs,
                     g_strdup_printf ("%s->%s: %s", from, to, message));
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static JsonNode *
parse (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

static DvsMgrStore *
open_ok (const gchar *uri)
{
  g_autoptr (GError) error = NULL;
  DvsMgrStore *store = dvs_mgr_store_open (uri, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

static void
put_text (DvsMgrTxn *txn, const gchar *kind, const gchar *key,
          const gchar *json)
{
  g_autoptr (JsonNode) node = parse (json);

  dvs_mgr_txn_put (txn, kind, key, node);
}

static void
commit_ok (DvsMgrStore *store, DvsMgrTxn *txn)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (dvs_mgr_store_commit (store, txn, &error));
  g_assert_no_error (error);
}

static void
collect_row (const gchar *kind, const gchar *key, JsonNode *value,
             gpointer user_data)
{
  GString *out = user_data;
  g_autofree gchar *text = dvs_json_write (value, FALSE);

  g_string_append_printf (out, "%s%s=%s", out->len > 0 ? " " : "", key, text);
}

/* Every object of @kind as "key=json key=json ...", in load order. */
static gchar *
load_text (DvsMgrStore *store, const gchar *kind)
{
  g_autoptr (GError) error = NULL;
  GString *out = g_string_new (NULL);

  g_assert_true (dvs_mgr_store_load (store, kind, collect_row, out, &error));
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

static void
assert_store_error (const GError *error, gint code, const gchar *needle)
{
  g_assert_error (error, DVS_MGR_STORE_ERROR, code);
  if (strstr (error->message, needle) == NULL)
    g_error ("\"%s\" not in \"%s\"", needle, error->message);
}

/* Raw SQLite access, as an older dvsmgr or an operator would have. */
static void
raw_exec (const gchar *path, const gchar *sql)
{
  sqlite3 *db = NULL;
  gchar *message = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

/* The first column of the first row of @sql, as text. */
static gchar *
raw_query (const gchar *path, const gchar *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gchar *result = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==,
                   SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    result = g_strdup ((const gchar *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  return result;
}

static void
assert_raw (const gchar *path, const gchar *sql, const gchar *expected)
{
  g_autofree gchar *got = raw_query (path, sql);

  g_assert_cmpstr (got, ==, expected);
}

static void
test_uris (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *uri = g_strconcat ("sqlite:", f->path, NULL);
  g_autofree gchar *dir = g_path_get_dirname (f->path);
  g_autoptr (DvsMgrStore) store = NULL;
  GStatBuf st;

  store = open_ok (uri);
  g_assert_true (store->backend == &dvs_mgr_store_sqlite);
  g_assert_cmpstr (store->location, ==, f->path);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_clear_pointer (&store, dvs_mgr_store_close);

  store = open_ok (f->path);   /* a plain path is SQLite */
  g_assert_cmpstr (store->location, ==, f->path);
  g_clear_pointer (&store, dvs_mgr_store_close);
  assert_raw (f->path, "PRAGMA user_version", "2");
  assert_raw (f->path, "PRAGMA journal_mode", "wal");

  store = dvs_mgr_store_open ("etcd://10.0.0.1:2379/dvsmgr", &error);
  g_assert_null (store);
  assert_store_error (error, DVS_MGR_STORE_ERROR_OPEN, "\"etcd\"");
  g_clear_error (&error);

  store = dvs_mgr_store_open ("sqlite:", &error);
  g_assert_null (store);
  assert_store_error (error, DVS_MGR_STORE_ERROR_OPEN, "no location");
  g_clear_error (&error);

  dvs_mgr_store_close (NULL);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (DvsMgrStore) store = open_ok (f->path);
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *ports = NULL, *switches = NULL, *empty = NULL;
  g_autofree gchar *updated = NULL;
  gint64 before = g_get_real_time ();

  put_text (txn, "port", "vm2-net0", "{\"vlan\":20,\"name\":\"b\"}");
  put_text (txn, "port", "vm1-net0", "{\"vlan\":10,\"tags\":[1,2]}");
  put_text (txn, "switch", "sw-1", "{\"mtu\":9000}");
  put_text (txn, "meta", "schema", "\"x\"");
  g_assert_cmpuint (dvs_mgr_txn_length (txn), ==, 4);
  commit_ok (store, txn);
  /* A transaction is not consumed: committing it again changes nothing. */
  commit_ok (store, txn);

  ports = load_text (store, "port");
  g_assert_cmpstr (ports, ==,
                   "vm1-net0={\"vlan\":10,\"tags\":[1,2]} "
                   "vm2-net0={\"vlan\":20,\"name\":\"b\"}");
  switches = load_text (store, "switch");
  g_assert_cmpstr (switches, ==, "sw-1={\"mtu\":9000}");
  empty = load_text (store, "host");
  g_assert_cmpstr (empty, ==, "");

  /* The value is stored as compact JSON, with the commit's time. */
  assert_raw (f->path, "SELECT value FROM objects WHERE key = 'vm1-net0'",
              "{\"vlan\":10,\"tags\":[1,2]}");
  updated = raw_query (f->path,
                       "SELECT min(updated_us) FROM objects");
  g_assert_cmpint (g_ascii_strtoll (updated, NULL, 10), >=, before);
  g_assert_cmpint (g_ascii_strtoll (updated, NULL, 10), <=,
                   g_get_real_time ());

  g_clear_pointer (&txn, dvs_mgr_txn_free);
  txn = dvs_mgr_txn_new ();
  dvs_mgr_txn_delete (txn, "port", "vm2-net0");
  dvs_mgr_txn_delete (txn, "port", "never-there");
  commit_ok (store, txn);

  /* What was committed survives closing and reopening. */
  g_clear_pointer (&store, dvs_mgr_store_close);
  store = open_ok (f->path);
  g_clear_pointer (&ports, g_free);
  ports = load_text (store, "port");
  g_assert_cmpstr (ports, ==, "vm1-net0={\"vlan\":10,\"tags\":[1,2]}");
  g_clear_pointer (&switches, g_free);
  switches = load_text (store, "meta");
  g_assert_cmpstr (switches, ==, "schema=\"x\"");
}

static void
collect_op (const gchar *kind, const gchar *key, JsonNode *value,
            gpointer user_data)
{
  GString *out = user_data;
  g_autofree gchar *text = value != NULL ? dvs_json_write (value, FALSE)
                                         : NULL;

  if (out->len > 0)
    g_string_append_c (out, ' ');
  if (text != NULL)
    g_string_append_printf (out, "put:%s/%s=%s", kind, key, text);
  else
    g_string_append_printf (out, "delete:%s/%s", kind, key);
}

/* Puts and deletes of the same keys in one transaction: the last one wins,
 * and the transaction holds its own reference on each value. */
static void
test_txn_order (Fixture *f, gconstpointer data)
{
  g_autoptr (DvsMgrStore) store = open_ok (f->path);
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (GString) ops = g_string_new (NULL);
  g_autofree gchar *ports = NULL;
  JsonNode *node;

  put_text (txn, "port", "c", "{\"v\":0}");
  commit_ok (store, txn);
  g_clear_pointer (&txn, dvs_mgr_txn_free);

  txn = dvs_mgr_txn_new ();
  put_text (txn, "port", "a", "{\"v\":1}");
  put_text (txn, "port", "b", "{\"v\":1}");
  dvs_mgr_txn_delete (txn, "port", "a");
  put_text (txn, "port", "b", "{\"v\":2}");
  node = parse ("{\"v\":3}");
  dvs_mgr_txn_put (txn, "port", "a", node);
  json_node_unref (node);   /* the transaction keeps its own */
  dvs_mgr_txn_delete (txn, "port", "c");
  put_text (txn, "port_state", "a", "{\"rx\":5}");
  g_assert_cmpuint (dvs_mgr_txn_length (txn), ==, 7);

  dvs_mgr_txn_foreach (txn, collect_op, ops);
  g_assert_cmpstr (ops->str, ==,
                   "put:port/a={\"v\":1} put:port/b={\"v\":1} delete:port/a "
                   "put:port/b={\"v\":2} put:port/a={\"v\":3} delete:port/c "
                   "put:port_state/a={\"rx\":5}");

  commit_ok (store, txn);
  ports = load_text (store, "port");
  g_assert_cmpstr (ports, ==, "a={\"v\":3} b={\"v\":2}");
  g_clear_pointer (&ports, g_free);
  ports = load_text (store, "port_state");
  g_assert_cmpstr (ports, ==, "a={\"rx\":5}");

  /* An empty transaction commits trivially. */
  g_clear_pointer (&txn, dvs_mgr_txn_free);
  txn = dvs_mgr_txn_new ();
  commit_ok (store, txn);
}

/* A commit that fails for lack of space: the file-size limit stands in for
 * a full disk (SQLite's write of the WAL fails with EFBIG).  The limit
 * belongs to the process, so the test runs in a child of its own. */
static void
test_full_disk (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrStore) store = NULL;
  g_autoptr (DvsMgrTxn) small = dvs_mgr_txn_new ();
  g_autoptr (DvsMgrTxn) large = dvs_mgr_txn_new ();
  g_autofree gchar *filler = g_strnfill (4000, 'x');
  g_autofree gchar *ports = NULL;
  struct rlimit saved;

  if (!dvs_test_in_child ())
    return;

  store = open_ok (f->path);
  put_text (small, "port", "a", "{\"generation\":1}");
  commit_ok (store, small);

  dvs_mgr_txn_delete (large, "port", "a");
  for (guint i = 0; i < 100; i++)
    {
      g_autofree gchar *key = g_strdup_printf ("p%03u", i);
      g_autoptr (JsonObject) obj = json_object_new ();
      g_autoptr (JsonNode) node = NULL;

      json_object_set_int_member (obj, "generation", 2);
      json_object_set_string_member (obj, "filler", filler);
      node = json_node_init_object (json_node_alloc (), obj);
      dvs_mgr_txn_put (large, "port", key, node);
    }

  dvs_test_limit_file_size (64 * 1024, &saved);
  g_assert_false (dvs_mgr_store_commit (store, large, &error));
  dvs_test_restore_file_size (&saved);
  g_test_message ("%s", error->message);
  assert_store_error (error, DVS_MGR_STORE_ERROR_IO, f->path);
  assert_store_error (error, DVS_MGR_STORE_ERROR_IO, "nothing was changed");
  assert_store_error (error, DVS_MGR_STORE_ERROR_IO, "101 changes");
  if (strstr (error->message, g_strerror (EFBIG)) == NULL)
    assert_store_error (error, DVS_MGR_STORE_ERROR_IO, "Disk full");
  g_clear_error (&error);

  /* Nothing of it was applied, and the store still works. */
  ports = load_text (store, "port");
  g_assert_cmpstr (ports, ==, "a={\"generation\":1}");
  commit_ok (store, large);
  g_clear_pointer (&ports, g_free);
  ports = load_text (store, "port");
  g_assert_null (strstr (ports, "a={"));
  g_assert_nonnull (strstr (ports, "p099={\"generation\":2,"));

  g_clear_pointer (&store, dvs_mgr_store_close);
  assert_raw (f->path, "PRAGMA integrity_check", "ok");
  assert_raw (f->path, "SELECT count(*) FROM objects", "100");
}

/* The child of test_kill: commits transactions of ROWS_PER_TXN rows, all
 * rows of one transaction carrying the same generation, and reports each
 * committed generation on @report_fd.  Never returns. */
static void G_GNUC_NORETURN
commit_forever (const gchar *path, gint64 generation, int report_fd)
{
  g_autoptr (GError) error = NULL;
  DvsMgrStore *store = dvs_mgr_store_open (path, &error);

  if (store == NULL)
    {
      g_printerr ("child: %s\n", error->message);
      _exit (2);
    }
  for (;;)
    {
      g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();

      generation++;
      for (guint i = 0; i < ROWS_PER_TXN; i++)
        {
          g_autofree gchar *key = g_strdup_printf ("vm%02u", i);
          g_autoptr (JsonObject) obj = json_object_new ();
          g_autoptr (JsonNode) node = NULL;

          json_object_set_int_member (obj, "generation", generation);
          json_object_set_int_member (obj, "index", i);
          node = json_node_init_object (json_node_alloc (), obj);
          dvs_mgr_txn_put (txn, "port", key, node);
        }
      if (!dvs_mgr_store_commit (store, txn, &error))
        {
          g_printerr ("child: %s\n", error->message);
          _exit (3);
        }
      /* Non-blocking: a full pipe only makes the last report older. */
      if (write (report_fd, &generation, sizeof generation) < 0
          && errno != EAGAIN)
        _exit (4);
    }
}

typedef struct {
  guint rows;
  gint64 generation;   /* -1 once two rows differ */
} GenerationCheck;

static void
check_generation (const gchar *kind, const gchar *key, JsonNode *value,
                  gpointer user_data)
{
  GenerationCheck *check = user_data;
  gint64 generation = json_object_get_int_member (json_node_get_object (value),
                                                  "generation");

  if (check->rows++ == 0)
    check->generation = generation;
  else if (generation != check->generation)
    check->generation = -1;
}

/* SIGKILL at a random moment of a stream of commits, several times over the
 * same file: every reopen finds a sound database whose rows all come from
 * one transaction, and no older than the last commit the child saw
 * succeed. */
static void
test_kill (Fixture *f, gconstpointer data)
{
  for (guint round = 0; round < 5; round++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DvsMgrStore) store = NULL;
      gint64 first = (gint64) (round + 1) * 1000000, reported = 0, got;
      GenerationCheck check = { 0, 0 };
      int fds[2], status;
      guint delay_us;
      pid_t pid;

      g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          close (fds[0]);
          fcntl (fds[1], F_SETFL, O_NONBLOCK);
          commit_forever (f->path, first, fds[1]);
        }
      close (fds[1]);

      /* Wait for the first commit, then let it run for a while. */
      g_assert_cmpint (read (fds[0], &reported, sizeof reported), ==,
                       sizeof reported);
      delay_us = g_test_rand_int_range (0, 150000);
      g_usleep (delay_us);
      g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFSIGNALED (status));
      g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
      while (read (fds[0], &got, sizeof got) == sizeof got)
        reported = got;
      close (fds[0]);

      store = dvs_mgr_store_open (f->path, &error);
      g_assert_no_error (error);
      g_assert_true (dvs_mgr_store_load (store, "port", check_generation,
                                         &check, &error));
      g_assert_no_error (error);
      g_test_message ("round %u: killed after %u us at generation %"
                      G_GINT64_FORMAT " (last reported %" G_GINT64_FORMAT
                      ")", round, delay_us, check.generation, reported);
      g_assert_cmpuint (check.rows, ==, ROWS_PER_TXN);
      g_assert_cmpint (check.generation, !=, -1);
      g_assert_cmpint (check.generation, >=, reported);
      assert_raw (f->path, "PRAGMA integrity_check", "ok");
    }
}

/* A file as dvsmgr with schema version 1 wrote it. */
static void
write_v1_store (const gchar *path)
{
  g_autofree gchar *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  raw_exec (path,
            "PRAGMA journal_mode = WAL;"
            "CREATE TABLE objects (kind TEXT, key TEXT, value TEXT NOT NULL,"
            "  PRIMARY KEY (kind, key)) WITHOUT ROWID;"
            "INSERT INTO objects VALUES ('switch', 'sw-1', '{\"mtu\":1500}');"
            "INSERT INTO objects VALUES ('port', 'vm1', '{\"vlan\":10}');"
            "INSERT INTO objects VALUES ('port', 'vm2', '{\"vlan\":20}');"
            "PRAGMA user_version = 1;");
}

static void
test_upgrade_v1 (Fixture *f, gconstpointer data)
{
  g_autoptr (DvsMgrStore) store = NULL;
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *ports = NULL, *switches = NULL;
  gint64 before = g_get_real_time ();

  write_v1_store (f->path);
  upgrade_logs = g_ptr_array_new_with_free_func (g_free);
  store = open_ok (f->path);
  g_assert_cmpuint (upgrade_logs->len, ==, 1);
  g_assert_true (g_str_has_prefix (upgrade_logs->pdata[0], "1->2: "));
  g_assert_nonnull (strstr (upgrade_logs->pdata[0], f->path));
  g_clear_pointer (&upgrade_logs, g_ptr_array_unref);

  ports = load_text (store, "port");
  g_assert_cmpstr (ports, ==, "vm1={\"vlan\":10} vm2={\"vlan\":20}");
  switches = load_text (store, "switch");
  g_assert_cmpstr (switches, ==, "sw-1={\"mtu\":1500}");
  put_text (txn, "port", "vm3", "{\"vlan\":30}");
  commit_ok (store, txn);

  assert_raw (f->path, "PRAGMA user_version", "2");
  assert_raw (f->path, "SELECT count(*) FROM objects "
              "WHERE updated_us IS NULL", "0");
  assert_raw (f->path, "SELECT count(*) FROM pragma_table_info('objects') "
              "WHERE name = 'updated_us' AND \"notnull\" = 1", "1");
  {
    g_autofree gchar *oldest = raw_query (f->path,
                                          "SELECT min(updated_us) FROM objects");

    g_assert_cmpint (g_ascii_strtoll (oldest, NULL, 10), >=, before);
  }
  g_clear_pointer (&store, dvs_mgr_store_close);

  /* A second open finds version 2 and upgrades nothing. */
  upgrade_logs = g_ptr_array_new_with_free_func (g_free);
  store = open_ok (f->path);
  g_assert_cmpuint (upgrade_logs->len, ==, 0);
  g_clear_pointer (&upgrade_logs, g_ptr_array_unref);
  g_clear_pointer (&ports, g_free);
  ports = load_text (store, "port");
  g_assert_cmpstr (ports, ==,
                   "vm1={\"vlan\":10} vm2={\"vlan\":20} vm3={\"vlan\":30}");
}

static void
test_newer_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrStore) store = NULL;
  g_autofree gchar *dir = g_path_get_dirname (f->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  raw_exec (f->path,
            "CREATE TABLE objects (kind TEXT, key TEXT, value TEXT NOT NULL,"
            "  updated_us INTEGER NOT NULL, generation INTEGER,"
            "  PRIMARY KEY (kind, key)) WITHOUT ROWID;"
            "PRAGMA user_version = 3;");

  store = dvs_mgr_store_open (f->path, &error);
  g_assert_null (store);
  g_test_message ("%s", error->message);
  assert_store_error (error, DVS_MGR_STORE_ERROR_VERSION, f->path);
  assert_store_error (error, DVS_MGR_STORE_ERROR_VERSION, "version 3");
  assert_store_error (error, DVS_MGR_STORE_ERROR_VERSION, "versions 1 to 2");
  assert_store_error (error, DVS_MGR_STORE_ERROR_VERSION, "newer dvsmgr");

  /* Left as it was: not even switched to WAL. */
  assert_raw (f->path, "PRAGMA user_version", "3");
  assert_raw (f->path, "PRAGMA journal_mode", "delete");
}

static void
test_garbage_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrStore) store = NULL;
  g_autofree gchar *dir = g_path_get_dirname (f->path);
  g_autofree gchar *garbage = g_strnfill (8192, 'z');

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (f->path, garbage, -1, NULL));

  store = dvs_mgr_store_open (f->path, &error);
  g_assert_null (store);
  g_test_message ("%s", error->message);
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT, f->path);
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT, "backup");
}

/* A real store with a page overwritten: the integrity check catches it. */
static void
test_damaged_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrStore) store = open_ok (f->path);
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *filler = g_strnfill (1000, 'y');
  g_autofree gchar *damage = g_strnfill (4096, '\xa5');
  int fd;

  for (guint i = 0; i < 200; i++)
    {
      g_autofree gchar *key = g_strdup_printf ("vm%03u", i);
      g_autofree gchar *json = g_strdup_printf ("{\"f\":\"%s\"}", filler);

      put_text (txn, "port", key, json);
    }
  commit_ok (store, txn);
  g_clear_pointer (&store, dvs_mgr_store_close);   /* checkpoints the WAL */

  fd = g_open (f->path, O_WRONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, damage, 4096, 3 * 4096), ==, 4096);
  g_assert_cmpint (close (fd), ==, 0);

  store = dvs_mgr_store_open (f->path, &error);
  g_assert_null (store);
  g_test_message ("%s", error->message);
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT, f->path);
}

static void
count_row (const gchar *kind, const gchar *key, JsonNode *value,
           gpointer user_data)
{
  (*(guint *) user_data)++;
}

static void
test_bad_json (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrStore) store = open_ok (f->path);
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *switches = NULL;
  guint rows = 0;

  put_text (txn, "port", "vm1", "{\"vlan\":10}");
  put_text (txn, "switch", "sw-1", "{}");
  commit_ok (store, txn);
  raw_exec (f->path, "INSERT INTO objects VALUES "
            "('port', 'vm2', '{\"vlan\":', 0),"
            "('port', 'vm3', '', 0)");

  g_assert_false (dvs_mgr_store_load (store, "port", count_row, &rows,
                                      &error));
  g_test_message ("%s", error->message);
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT, "port/vm2");
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT, f->path);
  g_assert_cmpuint (rows, ==, 0);   /* nothing delivered from a failed load */
  g_clear_error (&error);

  raw_exec (f->path, "DELETE FROM objects WHERE key = 'vm2'");
  g_assert_false (dvs_mgr_store_load (store, "port", count_row, &rows,
                                      &error));
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT, "port/vm3");
  g_assert_cmpuint (rows, ==, 0);
  g_clear_error (&error);

  /* Other kinds still load. */
  switches = load_text (store, "switch");
  g_assert_cmpstr (switches, ==, "sw-1={}");
}

static void
test_in_use (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrStore) first = open_ok (f->path);
  g_autoptr (DvsMgrStore) second = NULL;
  g_autofree gchar *pid = g_strdup_printf ("process %ld ", (long) getpid ());
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();

  second = dvs_mgr_store_open (f->path, &error);
  g_assert_null (second);
  g_test_message ("%s", error->message);
  assert_store_error (error, DVS_MGR_STORE_ERROR_OPEN, f->path);
  assert_store_error (error, DVS_MGR_STORE_ERROR_OPEN, "in use by another");
  assert_store_error (error, DVS_MGR_STORE_ERROR_OPEN, pid);
  g_clear_error (&error);

  /* The refused open disturbed nothing: the first one still writes. */
  put_text (txn, "host", "h1", "{}");
  commit_ok (first, txn);

  /* A reader (a backup) is not shut out while the store is open. */
  assert_raw (f->path, "SELECT key FROM objects", "h1");

  g_clear_pointer (&first, dvs_mgr_store_close);
  second = open_ok (f->path);
}

static void
test_not_a_store (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrStore) store = NULL;
  g_autofree gchar *dir = g_path_get_dirname (f->path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  raw_exec (f->path, "CREATE TABLE accounts (name TEXT)");

  store = dvs_mgr_store_open (f->path, &error);
  g_assert_null (store);
  assert_store_error (error, DVS_MGR_STORE_ERROR_OPEN, "not a dvsmgr store");
  assert_raw (f->path, "SELECT count(*) FROM sqlite_schema", "1");
  assert_raw (f->path, "PRAGMA journal_mode", "delete");   /* untouched */
  g_clear_error (&error);

  /* Claims version 1 but lacks its table: the upgrade fails as a whole
   * and leaves the file as it was. */
  raw_exec (f->path, "CREATE TABLE things (x TEXT);"
            "PRAGMA user_version = 1");
  store = dvs_mgr_store_open (f->path, &error);
  g_assert_null (store);
  g_test_message ("%s", error->message);
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT,
                      "from version 1 to 2 failed");
  assert_store_error (error, DVS_MGR_STORE_ERROR_CORRUPT, f->path);
  assert_raw (f->path, "PRAGMA user_version", "1");
  assert_raw (f->path, "SELECT group_concat(name) FROM sqlite_schema",
              "accounts,things");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (capture_writer, NULL, NULL);

#define ADD(name, func) \
  g_test_add ("/dvsmgr/store/" name, Fixture, NULL, fixture_setup, func, \
              fixture_teardown)
  ADD ("uris", test_uris);
  ADD ("round-trip", test_round_trip);
  ADD ("txn-order", test_txn_order);
  ADD ("full-disk", test_full_disk);
  ADD ("kill", test_kill);
  ADD ("upgrade-v1", test_upgrade_v1);
  ADD ("newer-refused", test_newer_refused);
  ADD ("garbage-refused", test_garbage_refused);
  ADD ("damaged-refused", test_damaged_refused);
  ADD ("bad-json", test_bad_json);
  ADD ("in-use", test_in_use);
  ADD ("not-a-store", test_not_a_store);
#undef ADD

  return g_test_run ();
}
