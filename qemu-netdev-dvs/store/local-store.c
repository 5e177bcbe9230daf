/* The local store: layout, names, kinds and their versions, upgrades. */
#define G_LOG_DOMAIN "dvs-store"
#include "store/local-store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store-file.h"
#include "dvs-json-write.h"

G_DEFINE_QUARK (dvs-store-error-quark, dvs_store_error)

#define NAME_MAX_LENGTH 64
#define NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-"
#define FILE_SUFFIX ".dvs"
/* A switch directory being removed: SWITCH-ID~deleted.XXXXXX.  '~' is not a
 * name character, so no reader ever takes it for a switch. */
#define TRASH_MARK "~deleted."

/* Sets a DVS_STORE_ERROR and evaluates to FALSE. */
#define fail(error, code, ...) \
  ({ g_set_error (error, DVS_STORE_ERROR, DVS_STORE_ERROR_##code, __VA_ARGS__); FALSE; })

struct _DvsLocalStore {
  gchar *root;
  gchar *switches;            /* ROOT/switches */
  int lock_fd;                /* ROOT, flock()ed while the store is open */
  gint64 (*now) (void);
};

/* Upgrades a payload from version N of its kind to N+1, in place.  The
 * error's message says what is wrong with the payload. */
typedef gboolean (*UpgradeFunc) (JsonObject *payload, GError **error);

typedef struct {
  const gchar *name;          /* header "kind" */
  const gchar *dir;           /* ports/, checkpoints/; NULL for switch.dvs */
  guint version;              /* current */
  const UpgradeFunc *upgrades; /* [N - 1] upgrades version N, N < version */
  const gchar *remedy;        /* what to do about a damaged file */
} KindInfo;

/* Checkpoint version 1 (dvs-switchd 0.1) kept the port's counters as "stats"
 * and had no per-class state.  Version 2 calls them "counters" and adds
 * "classes": the serialized state of each class on the port (none was saved
 * in version 1). */
static gboolean
checkpoint_v1_to_v2 (JsonObject *cp, GError **error)
{
  if (json_object_has_member (cp, "stats"))
    {
      if (json_object_has_member (cp, "counters"))
        return fail (error, CORRUPT, "it has both \"stats\" and \"counters\"");
      json_object_set_member (cp, "counters", json_object_dup_member (cp, "stats"));
      json_object_remove_member (cp, "stats");
    }
  if (!json_object_has_member (cp, "classes"))
    json_object_set_array_member (cp, "classes", json_array_new ());
  return TRUE;
}

#define CHECKPOINT_VERSION 2
static const UpgradeFunc checkpoint_upgrades[] = {
  checkpoint_v1_to_v2,
};
G_STATIC_ASSERT (G_N_ELEMENTS (checkpoint_upgrades) == CHECKPOINT_VERSION - 1);

#define REMEDY_PUSHED \
  "the manager's next push replaces it (move it aside first to keep it)"

static const KindInfo kinds[DVS_STORE_KIND_LAST] = {
  [DVS_STORE_KIND_SWITCH] = { "switch", NULL, 1, NULL, REMEDY_PUSHED },
  [DVS_STORE_KIND_PORT] = { "port", "ports", 1, NULL, REMEDY_PUSHED },
  [DVS_STORE_KIND_CHECKPOINT] = {
    "checkpoint", "checkpoints", CHECKPOINT_VERSION, checkpoint_upgrades,
    "the port starts without its saved runtime state and its next link down "
    "replaces the file (move it aside first to keep it)" },
};

#define check_kind_args(kind, port_key, val) \
  G_STMT_START { \
    g_return_val_if_fail ((guint) (kind) < DVS_STORE_KIND_LAST, val); \
    g_return_val_if_fail (((kind) == DVS_STORE_KIND_SWITCH) == ((port_key) == NULL), val); \
  } G_STMT_END

const gchar *
dvs_store_kind_to_string (DvsStoreKind kind)
{
  g_return_val_if_fail ((guint) kind < DVS_STORE_KIND_LAST, NULL);
  return kinds[kind].name;
}

guint
dvs_store_kind_version (DvsStoreKind kind)
{
  g_return_val_if_fail ((guint) kind < DVS_STORE_KIND_LAST, 0);
  return kinds[kind].version;
}

gboolean
dvs_store_name_valid (const gchar *name, const gchar *what, GError **error)
{
  gsize len = name != NULL ? strnlen (name, NAME_MAX_LENGTH + 1) : 0;
  g_autofree gchar *head = NULL, *shown = NULL;

  if (len >= 1 && len <= NAME_MAX_LENGTH && strspn (name, NAME_CHARS) == len
      && !g_str_equal (name, ".") && !g_str_equal (name, ".."))
    return TRUE;
  if (error == NULL)
    return FALSE;
  /* The name may come from a peer: show it escaped, and not all of it. */
  head = g_strndup (name != NULL ? name : "", NAME_MAX_LENGTH);
  shown = g_strescape (head, NULL);
  return fail (error, INVALID_NAME, "invalid %s '%s%s': use 1-%d letters, digits, "
               "'_', '.', ':' or '-', other than '.' and '..'", what, shown,
               len > NAME_MAX_LENGTH ? "..." : "", NAME_MAX_LENGTH);
}

static gchar *
store_path (DvsLocalStore *store, DvsStoreKind kind, const gchar *switch_id,
            const gchar *port_key, GError **error)
{
  g_autofree gchar *file = NULL;

  if (!dvs_store_name_valid (switch_id, "switch id", error))
    return NULL;
  if (kind == DVS_STORE_KIND_SWITCH)
    return g_build_filename (store->switches, switch_id, "switch" FILE_SUFFIX, NULL);
  if (!dvs_store_name_valid (port_key, "port key", error))
    return NULL;
  file = g_strconcat (port_key, FILE_SUFFIX, NULL);
  return g_build_filename (store->switches, switch_id, kinds[kind].dir, file, NULL);
}

gchar *
dvs_local_store_path (DvsLocalStore *store, DvsStoreKind kind,
                      const gchar *switch_id, const gchar *port_key)
{
  check_kind_args (kind, port_key, NULL);
  return store_path (store, kind, switch_id, port_key, NULL);
}

/* Removes what an interrupted write left in @dir. */
static void
sweep_tmp_files (const gchar *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = NULL;

      if (!dvs_store_is_tmp_name (name))
        continue;
      path = g_build_filename (dir, name, NULL);
      if (unlink (path) == 0)
        g_info ("removed %s: an interrupted write left it behind (the file it "
                "was replacing is intact)", path);
      else
        g_warning ("cannot remove %s, left behind by an interrupted write: %s",
                   path, g_strerror (errno));
    }
}

/* Finishes interrupted removals of switches and removes temporary files. */
static void
sweep (DvsLocalStore *store)
{
  g_autoptr (GDir) d = g_dir_open (store->switches, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *path = g_build_filename (store->switches, name, NULL);

      if (strstr (name, TRASH_MARK) != NULL)
        {
          if (dvs_store_tree_remove (path))
            g_info ("removed %s: the removal of a switch was interrupted", path);
          else
            g_warning ("cannot remove %s, left by an interrupted switch removal: %s",
                       path, g_strerror (errno));
        }
      else if (dvs_store_name_valid (name, "switch id", NULL))
        {
          g_autofree gchar *ports = g_build_filename (path, kinds[DVS_STORE_KIND_PORT].dir, NULL);
          g_autofree gchar *cps = g_build_filename (path, kinds[DVS_STORE_KIND_CHECKPOINT].dir, NULL);
          sweep_tmp_files (path);
          sweep_tmp_files (ports);
          sweep_tmp_files (cps);
        }
    }
}

DvsLocalStore *
dvs_local_store_open (const gchar *root, GError **error)
{
  g_autoptr (DvsLocalStore) store = g_new0 (DvsLocalStore, 1);

  g_return_val_if_fail (root != NULL && *root != '\0', NULL);
  store->lock_fd = -1;
  store->root = g_strdup (root);
  store->switches = g_build_filename (root, "switches", NULL);
  store->now = g_get_real_time;
  if (!dvs_store_dir_ensure (root, error))
    return NULL;
  store->lock_fd = open (root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (store->lock_fd < 0)
    {
      fail (error, IO, "cannot open the store %s: %s", root, g_strerror (errno));
      return NULL;
    }
  if (flock (store->lock_fd, LOCK_EX | LOCK_NB) < 0)
    {
      if (errno == EWOULDBLOCK)
        fail (error, LOCKED, "the store %s is in use by another process: each "
              "dvs-switchd instance needs a store directory of its own", root);
      else
        fail (error, IO, "cannot lock the store %s: %s", root, g_strerror (errno));
      return NULL;
    }
  if (!dvs_store_dir_ensure (store->switches, error))
    return NULL;
  sweep (store);
  return g_steal_pointer (&store);
}

void
dvs_local_store_free (DvsLocalStore *store)
{
  if (store == NULL)
    return;
  if (store->lock_fd >= 0)
    close (store->lock_fd);
  g_free (store->root);
  g_free (store->switches);
  g_free (store);
}

const gchar *
dvs_local_store_root (DvsLocalStore *store)
{
  return store->root;
}

void
dvs_local_store_set_clock (DvsLocalStore *store, gint64 (*now) (void))
{
  store->now = now != NULL ? now : g_get_real_time;
}

gboolean
dvs_local_store_put (DvsLocalStore *store, DvsStoreKind kind,
                     const gchar *switch_id, const gchar *port_key,
                     JsonNode *payload, GError **error)
{
  g_autofree gchar *path = NULL, *dir = NULL, *text = NULL, *body = NULL;
  g_autoptr (GBytes) file = NULL;
  const KindInfo *k;
  gsize size;

  check_kind_args (kind, port_key, FALSE);
  g_return_val_if_fail (payload != NULL && JSON_NODE_HOLDS_OBJECT (payload), FALSE);
  path = store_path (store, kind, switch_id, port_key, error);
  if (path == NULL)
    return FALSE;
  k = &kinds[kind];

  /* Pretty, and ending in a newline: `tail -n +2 FILE` shows it readably. */
  text = dvs_json_write_full (payload, TRUE, 0, &size);
  body = g_strconcat (text, "\n", NULL);
  size++;
  if (size > DVS_STORE_MAX_PAYLOAD_SIZE)
    return fail (error, IO, "cannot write %s: the payload has %" G_GSIZE_FORMAT
                 " bytes, more than a store file holds (%d)", path, size,
                 DVS_STORE_MAX_PAYLOAD_SIZE);
  file = dvs_store_envelope_build (k->name, k->version, store->now (), body, size);

  dir = g_path_get_dirname (path);
  if (!dvs_store_dir_ensure (dir, error))
    {
      g_prefix_error (error, "cannot write %s: ", path);
      return FALSE;
    }
  return dvs_store_file_replace (path, g_bytes_get_data (file, NULL),
                                 g_bytes_get_size (file), error);
}

JsonNode *
dvs_local_store_get (DvsLocalStore *store, DvsStoreKind kind,
                     const gchar *switch_id, const gchar *port_key,
                     GError **error)
{
  g_autofree gchar *path = NULL, *data = NULL;
  g_autoptr (JsonNode) payload = NULL;
  const KindInfo *k;
  guint version;
  gsize size;

  check_kind_args (kind, port_key, NULL);
  path = store_path (store, kind, switch_id, port_key, error);
  if (path == NULL)
    return NULL;
  k = &kinds[kind];
  data = dvs_store_file_read (path, DVS_STORE_MAX_HEADER_SIZE + 1 + DVS_STORE_MAX_PAYLOAD_SIZE,
                              &size, error);
  if (data == NULL)
    return NULL;
  payload = dvs_store_envelope_parse (path, data, size, k->name, k->version,
                                      &version, k->remedy, error);
  if (payload == NULL)
    return NULL;
  for (; version < k->version; version++)
    {
      g_autoptr (GError) local = NULL;

      if (!k->upgrades[version - 1] (json_node_get_object (payload), &local))
        {
          fail (error, CORRUPT, "%s cannot be upgraded from %s version %u to %u: "
                "%s; %s", path, k->name, version, version + 1, local->message,
                k->remedy);
          return NULL;
        }
    }
  return g_steal_pointer (&payload);
}

gboolean
dvs_local_store_remove (DvsLocalStore *store, DvsStoreKind kind,
                        const gchar *switch_id, const gchar *port_key,
                        GError **error)
{
  g_autofree gchar *path = NULL;

  check_kind_args (kind, port_key, FALSE);
  path = store_path (store, kind, switch_id, port_key, error);
  return path != NULL && dvs_store_file_remove (path, error);
}

gboolean
dvs_local_store_remove_switch (DvsLocalStore *store, const gchar *switch_id,
                               GError **error)
{
  g_autofree gchar *dir = NULL, *trash = NULL;
  struct stat st;
  int e;

  if (!dvs_store_name_valid (switch_id, "switch id", error))
    return FALSE;
  dir = g_build_filename (store->switches, switch_id, NULL);
  if (lstat (dir, &st) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return fail (error, IO, "cannot remove %s: %s", dir, g_strerror (errno));
    }
  /* Rename the whole directory away first (over an empty directory made for
   * the purpose, which rename() replaces), so that a crash leaves the switch
   * either complete or gone; then delete at leisure. */
  trash = g_strconcat (dir, TRASH_MARK "XXXXXX", NULL);
  if (g_mkdtemp_full (trash, 0700) == NULL)
    return fail (error, IO, "cannot remove %s: cannot create %s: %s", dir, trash,
                 g_strerror (errno));
  if (rename (dir, trash) < 0)
    {
      e = errno;
      rmdir (trash);
      if (e == ENOENT)
        return TRUE;
      return fail (error, IO, "cannot remove %s: %s", dir, g_strerror (e));
    }
  if (!dvs_store_dir_sync (store->switches, error))
    return FALSE;
  if (!dvs_store_tree_remove (trash))
    g_warning ("switch %s is removed from the store, but deleting %s failed: %s "
               "(the next start retries)", switch_id, trash, g_strerror (errno));
  return TRUE;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Store entries of @dir, sorted: subdirectories with valid names when
 * @suffix is NULL, else regular entries NAME@suffix with NAME valid. */
static GStrv
list_names (const gchar *dir, const gchar *suffix, GError **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  DIR *d = opendir (dir);
  struct dirent *e;
  int saved;

  if (d == NULL)
    {
      if (errno != ENOENT)
        {
          fail (error, IO, "cannot list %s: %s", dir, g_strerror (errno));
          return NULL;
        }
    }
  else
    {
      for (;;)
        {
          g_autofree gchar *name = NULL;
          struct stat st;

          errno = 0;
          e = readdir (d);
          if (e == NULL)
            {
              saved = errno;
              break;
            }
          if (suffix != NULL && g_str_has_suffix (e->d_name, suffix))
            name = g_strndup (e->d_name, strlen (e->d_name) - strlen (suffix));
          else if (suffix == NULL
                   && fstatat (dirfd (d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                   && S_ISDIR (st.st_mode))
            name = g_strdup (e->d_name);
          if (name != NULL && dvs_store_name_valid (name, "name", NULL))
            g_ptr_array_add (names, g_steal_pointer (&name));
        }
      closedir (d);
      if (saved != 0)
        {
          fail (error, IO, "cannot list %s: %s", dir, g_strerror (saved));
          return NULL;
        }
    }
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&names), FALSE);
}

GStrv
dvs_local_store_list_switches (DvsLocalStore *store, GError **error)
{
  return list_names (store->switches, NULL, error);
}

GStrv
dvs_local_store_list_ports (DvsLocalStore *store, DvsStoreKind kind,
                            const gchar *switch_id, GError **error)
{
  g_autofree gchar *dir = NULL;

  g_return_val_if_fail (kind == DVS_STORE_KIND_PORT || kind == DVS_STORE_KIND_CHECKPOINT, NULL);
  if (!dvs_store_name_valid (switch_id, "switch id", error))
    return NULL;
  dir = g_build_filename (store->switches, switch_id, kinds[kind].dir, NULL);
  return list_names (dir, FILE_SUFFIX, error);
}

static void
visit_file (DvsLocalStore *store, DvsStoreKind kind, const gchar *switch_id,
            const gchar *port_key, DvsStoreVisitFunc visit, gpointer user_data)
{
  g_autoptr (GError) damage = NULL;
  g_autoptr (JsonNode) payload = dvs_local_store_get (store, kind, switch_id,
                                                      port_key, &damage);

  /* Gone since it was listed, or a switch with no switch.dvs (yet). */
  if (g_error_matches (damage, DVS_STORE_ERROR, DVS_STORE_ERROR_NOT_FOUND))
    return;
  visit (kind, switch_id, port_key, payload, damage, user_data);
}

gboolean
dvs_local_store_load_all (DvsLocalStore *store, DvsStoreVisitFunc visit,
                          gpointer user_data, GError **error)
{
  static const DvsStoreKind port_kinds[] = { DVS_STORE_KIND_PORT, DVS_STORE_KIND_CHECKPOINT };
  g_auto (GStrv) switches = dvs_local_store_list_switches (store, error);

  if (switches == NULL)
    return FALSE;
  for (gchar **sw = switches; *sw != NULL; sw++)
    {
      visit_file (store, DVS_STORE_KIND_SWITCH, *sw, NULL, visit, user_data);
      for (gsize i = 0; i < G_N_ELEMENTS (port_kinds); i++)
        {
          g_autoptr (GError) local = NULL;
          g_auto (GStrv) keys = dvs_local_store_list_ports (store, port_kinds[i], *sw, &local);

          if (keys == NULL)
            {
              visit (port_kinds[i], *sw, NULL, NULL, local, user_data);
              continue;
            }
          for (gchar **key = keys; *key != NULL; key++)
            visit_file (store, port_kinds[i], *sw, *key, visit, user_data);
        }
    }
  return TRUE;
}
