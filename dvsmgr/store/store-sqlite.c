/* The SQLite backend of the manager's store (docs/dvsmgr-store.md).
 *
 * One database file with one table:
 *
 *   objects (kind TEXT, key TEXT, value TEXT NOT NULL,
 *            updated_us INTEGER NOT NULL, PRIMARY KEY (kind, key))
 *            WITHOUT ROWID
 *
 * value is the object as compact JSON; updated_us the wall-clock time
 * (µs since the epoch) of the commit that last wrote the row.  The schema
 * version is PRAGMA user_version: 1 lacked updated_us, 2 is current.
 *
 * Durability: WAL journal with synchronous=FULL, so a commit that returned
 * is on disk and a crash at any moment leaves whole transactions only.
 *
 * Exclusion: an flock(2) on PATH.lock, taken before the database is opened
 * and held until it is closed.  It is not PRAGMA locking_mode=EXCLUSIVE
 * because that would also shut out readers — `sqlite3 PATH .backup` while
 * dvsmgr runs, or an operator's read-only look — and it would make a second
 * dvsmgr wait for the busy timeout and then fail with "database is locked"
 * instead of failing at once with a message naming the holder.  The kernel
 * drops the lock when the process dies, so a crash leaves nothing stale. */
#define G_LOG_DOMAIN "dvsmgr-store"

#include "mgr-store.h"
#include "dvs-json-write.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* How long a statement waits for a lock another connection holds (a backup
 * being taken, a checkpoint) before it fails with SQLITE_BUSY. */
#define BUSY_TIMEOUT_MS 5000

typedef enum {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_PUT,
  STMT_DELETE,
  STMT_LOAD,
  N_STMTS
} StmtId;

/* Prepared once at open, kept for the life of the connection. */
static const gchar *const stmt_sql[N_STMTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_PUT] = "INSERT INTO objects (kind, key, value, updated_us) "
               "VALUES (?1, ?2, ?3, ?4) "
               "ON CONFLICT (kind, key) DO UPDATE "
               "SET value = excluded.value, updated_us = excluded.updated_us",
  [STMT_DELETE] = "DELETE FROM objects WHERE kind = ?1 AND key = ?2",
  [STMT_LOAD] = "SELECT key, value FROM objects WHERE kind = ?1 ORDER BY key",
};

#define SCHEMA_V2_TABLE(name) \
  "CREATE TABLE " name " (kind TEXT, key TEXT, value TEXT NOT NULL, " \
  "updated_us INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID"

typedef struct {
  DvsMgrStore parent;
  sqlite3 *db;
  int lock_fd;
  gchar *lock_path;
  sqlite3_stmt *stmts[N_STMTS];
  int failed_errno;   /* errno of the last failed step, before its reset */
} SqliteStore;

static void sqlite_close (DvsMgrStore *store);

static void
sqlite_store_free (SqliteStore *self)
{
  sqlite_close (&self->parent);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SqliteStore, sqlite_store_free)

/* Remembers the errno of a failed step before anything else runs: SQLite
 * records it (sqlite3_system_errno) for some failures only — not for those
 * of COMMIT — so the errno the step left behind is the fallback. */
static void
note_failure (SqliteStore *self, int rc, int errno_after)
{
  int primary = rc & 0xff;

  self->failed_errno = sqlite3_system_errno (self->db);
  if (self->failed_errno == 0
      && (primary == SQLITE_IOERR || primary == SQLITE_FULL
          || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY))
    self->failed_errno = errno_after;
}

/* The operation an extended I/O error code names. */
static const gchar *
io_operation (int rc)
{
  switch (rc)
    {
    case SQLITE_IOERR_READ: return "read";
    case SQLITE_IOERR_SHORT_READ: return "short read";
    case SQLITE_IOERR_WRITE: return "write";
    case SQLITE_IOERR_FSYNC: return "fsync";
    case SQLITE_IOERR_DIR_FSYNC: return "fsync of the directory";
    case SQLITE_IOERR_TRUNCATE: return "truncate";
    case SQLITE_IOERR_FSTAT: return "fstat";
    case SQLITE_IOERR_SHMOPEN: return "open of the -shm file";
    case SQLITE_IOERR_SHMSIZE: return "growing the -shm file";
    case SQLITE_IOERR_SHMMAP: return "mapping the -shm file";
    case SQLITE_IOERR_LOCK: return "lock";
    case SQLITE_IOERR_DELETE: return "delete";
    default: return NULL;
    }
}

/* Reports the failure of a statement: @doing says what was being done
 * ("committing 3 changes to"), the path follows it.  Inside a write
 * transaction (@in_txn) the caller rolls back, so the message can promise
 * that nothing was changed.  Call before anything else touches the
 * connection: SQLite's message is that of the last call. */
static void
set_sqlite_error (GError **error, SqliteStore *self, int rc,
                  const gchar *doing, gboolean in_txn)
{
  const gchar *path = self->parent.location;
  const gchar *nothing = in_txn ? "; nothing was changed" : "";
  const gchar *operation = io_operation (rc);
  int sys_errno = self->failed_errno != 0 ? self->failed_errno
                                          : sqlite3_system_errno (self->db);
  g_autoptr (GString) detail = g_string_new (NULL);

  self->failed_errno = 0;
  if (operation != NULL)
    g_string_append_printf (detail, "%s failed", operation);
  else
    g_string_append (detail, sqlite3_errmsg (self->db));
  if (sys_errno != 0)
    g_string_append_printf (detail, ": %s", g_strerror (sys_errno));

  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_IO,
                   "Disk full %s %s (%s): free space and retry%s.",
                   doing, path, detail->str, nothing);
      break;
    case SQLITE_IOERR:
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_IO,
                   "I/O error %s %s (%s): check the disk, the file system "
                   "and the kernel log, then retry%s.",
                   doing, path, detail->str, nothing);
      break;
    case SQLITE_READONLY:
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_IO,
                   "Read-only store: %s %s failed (%s): make the file, its "
                   "-wal and -shm files and its directory writable by "
                   "dvsmgr, then retry%s.",
                   doing, path, detail->str, nothing);
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_IO,
                   "Store locked by another connection for %d ms: %s %s "
                   "failed (%s): end whatever else writes to it (an "
                   "sqlite3 shell?), then retry%s.",
                   BUSY_TIMEOUT_MS, doing, path, detail->str, nothing);
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_CORRUPT,
                   "Damaged store, or not a SQLite database: %s %s failed "
                   "(%s): restore it from a backup, or move it away to "
                   "start with an empty store.",
                   doing, path, detail->str);
      break;
    case SQLITE_ERROR:
      /* Our statements are fixed: a plain SQL error means the tables are
       * not those of the version the file claims. */
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_CORRUPT,
                   "The tables of the store do not match its schema "
                   "version: %s %s failed (%s): restore it from a backup.",
                   doing, path, detail->str);
      break;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                   "Cannot open the store: %s %s failed (%s): check the "
                   "path and its permissions.", doing, path, detail->str);
      break;
    default:
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_IO,
                   "Failed %s %s (%s)%s.", doing, path, detail->str, nothing);
      break;
    }
}

/* Steps a cached statement that returns no rows and resets it. */
static int
stmt_run (SqliteStore *self, StmtId id)
{
  sqlite3_stmt *stmt = self->stmts[id];
  int rc;

  errno = 0;
  rc = sqlite3_step (stmt);
  /* Before the reset, which may make system calls of its own. */
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    note_failure (self, rc, errno);
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Rolls back the open transaction, if SQLite has not already done so (it
 * does after some I/O errors). */
static void
rollback (SqliteStore *self)
{
  int rc;

  if (sqlite3_get_autocommit (self->db))
    return;
  rc = self->stmts[STMT_ROLLBACK] != NULL
         ? stmt_run (self, STMT_ROLLBACK)
         : sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                      "STORE", self->parent.location,
                      "MESSAGE", "Rolling back a failed transaction on %s "
                      "failed too: %s", self->parent.location,
                      sqlite3_errmsg (self->db));
  self->failed_errno = 0;
}

/* Runs a one-row, one-column PRAGMA or query and returns its integer. */
static gboolean
query_int (SqliteStore *self, const gchar *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  if (rc != SQLITE_OK)
    set_sqlite_error (error, self, rc, "reading the schema of", FALSE);
  sqlite3_finalize (stmt);
  return rc == SQLITE_OK;
}

/* PRAGMA quick_check: "ok", or up to a few lines of what is wrong.  A file
 * that is not a database fails here first (SQLITE_NOTADB). */
static gboolean
check_integrity (SqliteStore *self, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autoptr (GString) problems = g_string_new (NULL);
  int rc = sqlite3_prepare_v2 (self->db, "PRAGMA quick_check(3)", -1, &stmt,
                               NULL);

  if (rc == SQLITE_OK)
    {
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          const gchar *line = (const gchar *) sqlite3_column_text (stmt, 0);

          if (g_strcmp0 (line, "ok") == 0)
            continue;
          if (problems->len > 0)
            g_string_append (problems, "; ");
          g_string_append (problems, line != NULL ? line : "(null)");
        }
      if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    }
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self, rc, "checking the integrity of",
                        FALSE);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  if (problems->len > 0)
    {
      g_strdelimit (problems->str, "\n", ' ');
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_CORRUPT,
                   "The store %s failed its integrity check (%s): restore "
                   "it from a backup, or move it away to start with an "
                   "empty store.", self->parent.location, problems->str);
      return FALSE;
    }
  return TRUE;
}

/* Runs @sql (several statements) in one write transaction. */
static gboolean
exec_in_txn (SqliteStore *self, const gchar *sql, const gchar *doing,
             GError **error)
{
  int rc;

  errno = 0;
  rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      note_failure (self, rc, errno);
      set_sqlite_error (error, self, rc, doing, TRUE);
      rollback (self);
      return FALSE;
    }
  return TRUE;
}

/* The SQL that takes a store from version @from to @from + 1. */
static gchar *
upgrade_sql (gint64 from)
{
  switch (from)
    {
    case 1:
      /* Rebuild rather than ALTER TABLE ADD COLUMN, which cannot add a NOT
       * NULL column without a default.  Old rows get the upgrade's time. */
      return g_strdup_printf (
        SCHEMA_V2_TABLE ("objects_v2") ";"
        "INSERT INTO objects_v2 (kind, key, value, updated_us) "
        "  SELECT kind, key, value, %" G_GINT64_FORMAT " FROM objects;"
        "DROP TABLE objects;"
        "ALTER TABLE objects_v2 RENAME TO objects;",
        g_get_real_time ());
    default:
      g_return_val_if_reached (NULL);
    }
}

/* One record with the versions as fields of their own (journal: STORE,
 * FROM_VERSION, TO_VERSION). */
static void
log_upgrade (const gchar *path, gint64 from_version, gint64 to_version)
{
  g_autofree gchar *from = g_strdup_printf ("%" G_GINT64_FORMAT,
                                            from_version);
  g_autofree gchar *to = g_strdup_printf ("%" G_GINT64_FORMAT, to_version);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "STORE", path,
                    "FROM_VERSION", from, "TO_VERSION", to,
                    "MESSAGE", "Upgraded the store %s from schema version %s "
                    "to %s", path, from, to);
}

/* Brings the schema to DVS_MGR_STORE_SCHEMA_VERSION: creates it in an empty
 * file (version 0, no tables: checked by the caller), upgrades an older one,
 * all in one transaction. */
static gboolean
ensure_schema (SqliteStore *self, gint64 version, GError **error)
{
  const gchar *path = self->parent.location;
  g_autoptr (GString) sql = g_string_new (NULL);

  if (version == DVS_MGR_STORE_SCHEMA_VERSION)
    return TRUE;

  if (version == 0)
    {
      g_string_append (sql, SCHEMA_V2_TABLE ("objects") ";");
      g_string_append_printf (sql, "PRAGMA user_version = %d;",
                              DVS_MGR_STORE_SCHEMA_VERSION);
      if (!exec_in_txn (self, sql->str, "creating", error))
        return FALSE;
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "STORE", path,
                        "MESSAGE", "Created the store %s (schema version %d)",
                        path, DVS_MGR_STORE_SCHEMA_VERSION);
      return TRUE;
    }

  for (gint64 v = version; v < DVS_MGR_STORE_SCHEMA_VERSION; v++)
    {
      g_autofree gchar *step = upgrade_sql (v);

      g_string_append (sql, step);
    }
  g_string_append_printf (sql, "PRAGMA user_version = %d;",
                          DVS_MGR_STORE_SCHEMA_VERSION);
  if (!exec_in_txn (self, sql->str, "upgrading", error))
    {
      g_prefix_error (error, "Upgrading the store schema from version %"
                      G_GINT64_FORMAT " to %d failed: ", version,
                      DVS_MGR_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  log_upgrade (path, version, DVS_MGR_STORE_SCHEMA_VERSION);
  return TRUE;
}

/* Takes the side lock PATH.lock, or says who holds it. */
static gboolean
take_lock (SqliteStore *self, GError **error)
{
  const gchar *path = self->parent.location;
  g_autofree gchar *pid = NULL;

  self->lock_path = g_strconcat (path, ".lock", NULL);
  /* O_NOFOLLOW: a symbolic link here is not ours to lock, write or quote. */
  self->lock_fd = g_open (self->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
                          0600);
  if (self->lock_fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                   "Cannot open the lock file %s of the store: %s.",
                   self->lock_path, g_strerror (saved_errno));
      return FALSE;
    }
  if (flock (self->lock_fd, LOCK_EX | LOCK_NB) < 0)
    {
      int saved_errno = errno;

      if (saved_errno != EWOULDBLOCK)
        {
          g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                       "Cannot lock %s: %s.", self->lock_path,
                       g_strerror (saved_errno));
          return FALSE;
        }
      /* The holder's pid, from the file we opened, shown only if it is
       * one: the message never quotes other content. */
      {
        gchar buf[24] = "";
        gssize n = pread (self->lock_fd, buf, sizeof buf - 1, 0);

        if (n > 0)
          {
            buf[n] = '\0';
            g_strstrip (buf);
            if (*buf != '\0' && strspn (buf, "0123456789") == strlen (buf))
              pid = g_strdup (buf);
          }
      }
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                   "The store %s is in use by another dvsmgr (process %s "
                   "holds %s): stop that one first, or give this one "
                   "another store.", path,
                   pid != NULL && *pid != '\0' ? pid : "unknown",
                   self->lock_path);
      return FALSE;
    }

  /* Informational: who holds the lock, for the message above. */
  pid = g_strdup_printf ("%ld\n", (long) getpid ());
  if (ftruncate (self->lock_fd, 0) < 0
      || pwrite (self->lock_fd, pid, strlen (pid), 0) < 0)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                      "STORE", path, "MESSAGE",
                      "Cannot write the pid into %s: %s", self->lock_path,
                      g_strerror (errno));
  return TRUE;
}

/* The directory (0700) and the file (0600), so that SQLite's own files,
 * which take the database file's mode, are private too. */
static gboolean
create_file (const gchar *path, GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                   "Cannot create the directory %s for the store: %s.",
                   dir, g_strerror (saved_errno));
      return FALSE;
    }
  fd = g_open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0)
    return g_close (fd, error);
  if (errno != EEXIST)
    {
      int saved_errno = errno;

      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                   "Cannot create the store %s: %s.", path,
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static DvsMgrStore *
sqlite_open (const gchar *location, GError **error)
{
  g_autoptr (SqliteStore) self = g_new0 (SqliteStore, 1);
  g_autofree gchar *mode = NULL;
  gint64 version = 0;
  int rc;

  self->parent.backend = &dvs_mgr_store_sqlite;
  self->parent.location = g_strdup (location);
  self->lock_fd = -1;

  if (!create_file (location, error) || !take_lock (self, error))
    return NULL;

  rc = sqlite3_open_v2 (location, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      if (self->db == NULL)
        g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                     "Cannot open the store %s: %s.", location,
                     sqlite3_errstr (rc));
      else
        set_sqlite_error (error, self, rc, "opening", FALSE);
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  /* Read-only checks first, so that a file we refuse stays as it was. */
  if (!check_integrity (self, error)
      || !query_int (self, "PRAGMA user_version", &version, error))
    return NULL;
  if (version > DVS_MGR_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_VERSION,
                   "The store %s has schema version %" G_GINT64_FORMAT
                   ", written by a newer dvsmgr; this one (" DVS_VERSION
                   ") reads versions 1 to %d: run a newer dvsmgr, or "
                   "restore a backup taken before the upgrade.",
                   location, version, DVS_MGR_STORE_SCHEMA_VERSION);
      return NULL;
    }
  if (version < 0)
    {
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_CORRUPT,
                   "The store %s has an invalid schema version %"
                   G_GINT64_FORMAT ": restore it from a backup.",
                   location, version);
      return NULL;
    }
  if (version == 0)
    {
      gint64 n_tables = 0;

      if (!query_int (self, "SELECT count(*) FROM sqlite_schema", &n_tables,
                      error))
        return NULL;
      if (n_tables > 0)
        {
          g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                       "%s is a SQLite database but not a dvsmgr store (it "
                       "has tables but no schema version): give dvsmgr "
                       "another path, or move this file away.", location);
          return NULL;
        }
    }

  rc = sqlite3_exec (self->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_stmt *stmt = NULL;

      rc = sqlite3_prepare_v2 (self->db, "PRAGMA journal_mode = WAL", -1,
                               &stmt, NULL);
      if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          mode = g_strdup ((const gchar *) sqlite3_column_text (stmt, 0));
          rc = SQLITE_OK;
        }
      sqlite3_finalize (stmt);
    }
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self, rc, "setting up", FALSE);
      return NULL;
    }
  if (g_ascii_strcasecmp (mode != NULL ? mode : "", "wal") != 0)
    {
      g_set_error (error, DVS_MGR_STORE_ERROR, DVS_MGR_STORE_ERROR_OPEN,
                   "Cannot put the store %s in WAL mode (journal mode is "
                   "%s): keep it on a local file system.", location,
                   mode != NULL ? mode : "unknown");
      return NULL;
    }

  if (!ensure_schema (self, version, error))
    return NULL;

  for (guint i = 0; i < N_STMTS; i++)
    {
      rc = sqlite3_prepare_v3 (self->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &self->stmts[i],
                               NULL);
      if (rc != SQLITE_OK)
        {
          g_set_error (error, DVS_MGR_STORE_ERROR,
                       DVS_MGR_STORE_ERROR_CORRUPT,
                       "The store %s does not have the tables of schema "
                       "version %d (%s): restore it from a backup.",
                       location, DVS_MGR_STORE_SCHEMA_VERSION,
                       sqlite3_errmsg (self->db));
          return NULL;
        }
    }

  return (DvsMgrStore *) g_steal_pointer (&self);
}

typedef struct {
  gchar *key;
  JsonNode *value;
} LoadedRow;

static void
loaded_row_clear (gpointer data)
{
  LoadedRow *row = data;

  g_free (row->key);
  json_node_unref (row->value);
}

/* Parses every row of @kind first and calls @func only when all parsed, so
 * that a failed load has delivered nothing and @func may use the store. */
static gboolean
sqlite_load (DvsMgrStore *store, const gchar *kind, DvsMgrStoreRowFunc func,
             gpointer user_data, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  sqlite3_stmt *stmt = self->stmts[STMT_LOAD];
  g_autoptr (GArray) rows = g_array_new (FALSE, TRUE, sizeof (LoadedRow));
  g_autoptr (JsonParser) parser = json_parser_new ();
  gboolean ok = TRUE;
  int rc = SQLITE_OK;

  g_array_set_clear_func (rows, loaded_row_clear);
  sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
  while (ok && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const gchar *key = (const gchar *) sqlite3_column_text (stmt, 0);
      const gchar *text = (const gchar *) sqlite3_column_text (stmt, 1);
      g_autoptr (GError) parse_error = NULL;
      JsonNode *root = NULL;
      LoadedRow row;

      if (text != NULL
          && json_parser_load_from_data (parser, text, -1, &parse_error))
        root = json_parser_get_root (parser);
      if (key == NULL || root == NULL)
        {
          g_set_error (error, DVS_MGR_STORE_ERROR,
                       DVS_MGR_STORE_ERROR_CORRUPT,
                       "The store %s holds an object %s/%s that is not "
                       "valid JSON (%s): restore the store from a backup, "
                       "or delete that row.", store->location, kind,
                       key != NULL ? key : "(null)",
                       parse_error != NULL ? parse_error->message : "empty");
          ok = FALSE;
          break;
        }
      row.key = g_strdup (key);
      row.value = json_node_ref (root);
      g_array_append_val (rows, row);
    }
  if (ok && rc != SQLITE_DONE)
    {
      g_autofree gchar *doing = g_strdup_printf ("loading the %s objects of",
                                                 kind);

      set_sqlite_error (error, self, rc, doing, FALSE);
      ok = FALSE;
    }
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (!ok)
    return FALSE;

  for (guint i = 0; i < rows->len; i++)
    {
      LoadedRow *row = &g_array_index (rows, LoadedRow, i);

      func (kind, row->key, row->value, user_data);
    }
  return TRUE;
}

typedef struct {
  SqliteStore *self;
  gint64 now_us;
  int rc;   /* the first failure; later operations are skipped */
} CommitState;

static void
commit_op (const gchar *kind, const gchar *key, JsonNode *value,
           gpointer user_data)
{
  CommitState *state = user_data;
  SqliteStore *self = state->self;
  g_autofree gchar *text = NULL;
  sqlite3_stmt *stmt;

  if (state->rc != SQLITE_OK)
    return;

  if (value != NULL)
    {
      text = dvs_json_write (value, FALSE);
      stmt = self->stmts[STMT_PUT];
      sqlite3_bind_text (stmt, 3, text, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 4, state->now_us);
      sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
      state->rc = stmt_run (self, STMT_PUT);
    }
  else
    {
      stmt = self->stmts[STMT_DELETE];
      sqlite3_bind_text (stmt, 1, kind, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, key, -1, SQLITE_STATIC);
      state->rc = stmt_run (self, STMT_DELETE);
    }
}

static gboolean
sqlite_commit (DvsMgrStore *store, DvsMgrTxn *txn, GError **error)
{
  SqliteStore *self = (SqliteStore *) store;
  CommitState state = { self, g_get_real_time (), SQLITE_OK };
  g_autofree gchar *doing = NULL;

  state.rc = stmt_run (self, STMT_BEGIN);
  if (state.rc == SQLITE_OK)
    dvs_mgr_txn_foreach (txn, commit_op, &state);
  if (state.rc == SQLITE_OK)
    state.rc = stmt_run (self, STMT_COMMIT);
  if (state.rc == SQLITE_OK)
    return TRUE;

  doing = g_strdup_printf ("committing %u change%s to",
                           dvs_mgr_txn_length (txn),
                           dvs_mgr_txn_length (txn) == 1 ? "" : "s");
  set_sqlite_error (error, self, state.rc, doing, TRUE);
  rollback (self);
  return FALSE;
}

static void
sqlite_close (DvsMgrStore *store)
{
  SqliteStore *self = (SqliteStore *) store;

  for (guint i = 0; i < N_STMTS; i++)
    sqlite3_finalize (self->stmts[i]);
  /* The last connection checkpoints the WAL into the file and removes it. */
  if (self->db != NULL && sqlite3_close (self->db) != SQLITE_OK)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                      "STORE", store->location, "MESSAGE",
                      "Closing the store %s failed: %s", store->location,
                      sqlite3_errmsg (self->db));
  /* Unlock only once the database is closed. */
  if (self->lock_fd >= 0)
    close (self->lock_fd);
  g_free (self->lock_path);
  g_free (store->location);
  g_free (self);
}

const DvsMgrStoreBackend dvs_mgr_store_sqlite = {
  .name = "sqlite",
  .open = sqlite_open,
  .load = sqlite_load,
  .commit = sqlite_commit,
  .close = sqlite_close,
};
