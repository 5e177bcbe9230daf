/* The history of version files of each switch (snapshot.h, "history").
 *
 * Layout: DIR/SWITCH-UUID/vNNNNNN.json, six digits, numbered from 1.  DIR
 * and the per-switch directories are created 0700, the files 0600.  A
 * version is written as vNNNNNN.json.tmp in the same directory, fsynced,
 * closed, renamed into place, and the directory fsynced: a crash leaves
 * either the whole version or none (at worst a .tmp file, which is never
 * listed and is overwritten by the next save of that number).  The file
 * is the document pretty-printed; its checksum covers the canonical form,
 * so the layout of the bytes does not matter.
 *
 * Numbering: the directory is scanned and the next number is the highest
 * existing one + 1.  There is no marker file to keep in step: pruning
 * removes only the oldest versions and always keeps at least one (keep 0
 * keeps all), so the highest number survives and a number is never
 * reused.  Only someone deleting the newest files by hand could make a
 * number come back.
 *
 * Nothing from outside becomes a path unchecked: the switch UUID must be a
 * valid UUID (used in lower case), a version name must be vNNNNNN or
 * "latest", and only files named vNNNNNN.json are ever listed, read or
 * removed.  Errors are G_IO_ERROR, naming the file and what to do. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>

#include "snapshot.h"
#include "dvs-json.h"
#include "dvs-json-write.h"

#define VERSION_DIGITS 6
#define MAX_VERSION 999999

struct _DvsSnapshotHistory {
  gchar *dir;
};

DvsSnapshotHistory *
dvs_snapshot_history_new (const gchar *dir)
{
  DvsSnapshotHistory *h = g_new0 (DvsSnapshotHistory, 1);

  h->dir = g_strdup (dir);
  return h;
}

void
dvs_snapshot_history_free (DvsSnapshotHistory *h)
{
  if (h == NULL)
    return;
  g_free (h->dir);
  g_free (h);
}

const gchar *
dvs_snapshot_history_dir (DvsSnapshotHistory *h)
{
  return h->dir;
}

/* ---- names --------------------------------------------------------------- */

/* @uuid checked and in lower case, or NULL with an error. */
static gchar *
switch_dir_name (const gchar *uuid, GError **error)
{
  if (uuid == NULL || !g_uuid_string_is_valid (uuid))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Invalid switch UUID \"%s\": version files are kept per "
                   "switch UUID (like 2537be54-d3dc-45a9-ad56-3d065c9d5f51)",
                   uuid != NULL ? uuid : "(none)");
      return NULL;
    }
  return g_ascii_strdown (uuid, -1);
}

/* "vNNNNNN" followed by @suffix exactly → its number. */
static gboolean
parse_version (const gchar *name, const gchar *suffix, guint *number)
{
  guint n = 0;

  if (name[0] != 'v')
    return FALSE;
  for (guint i = 1; i <= VERSION_DIGITS; i++)
    {
      if (!g_ascii_isdigit (name[i]))
        return FALSE;
      n = n * 10 + (name[i] - '0');
    }
  if (strcmp (name + 1 + VERSION_DIGITS, suffix) != 0)
    return FALSE;
  *number = n;
  return TRUE;
}

static gchar *
version_name (guint number)
{
  return g_strdup_printf ("v%06u", number);
}

static gchar *
version_path (const gchar *sw_dir, guint number)
{
  g_autofree gchar *file = g_strdup_printf ("v%06u.json", number);

  return g_build_filename (sw_dir, file, NULL);
}

/* ---- errors -------------------------------------------------------------- */

static const gchar *
errno_hint (int errsv)
{
  switch (errsv)
    {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
    case EFBIG:
      return "the disk is full (or a size limit was reached): free space "
             "there or keep fewer versions, then try again";
    case EACCES:
    case EPERM:
    case EROFS:
      return "check that dvsmgr may write there";
    default:
      return "check the snapshot directory and try again";
    }
}

/* "WHAT PATH failed: ERRNO; HINT" */
static void
set_errno_error (GError **error, int errsv, const gchar *what,
                 const gchar *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               "%s %s failed: %s; %s", what, path, g_strerror (errsv),
               errno_hint (errsv));
}

/* ---- files and directories ----------------------------------------------- */

static int
fsync_dir (const gchar *path)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int errsv;

  if (fd < 0)
    return errno;
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      errsv = errno;
      close (fd);
      return errsv;
    }
  close (fd);
  return 0;
}

/* DIR and DIR/UUID, created 0700 when missing. */
static gboolean
ensure_dirs (const gchar *dir, const gchar *sw_dir, GError **error)
{
  struct stat st;
  int errsv;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      set_errno_error (error, errno, "Creating the snapshot directory", dir);
      return FALSE;
    }
  if (mkdir (sw_dir, 0700) == 0)
    {
      if ((errsv = fsync_dir (dir)) != 0)
        {
          set_errno_error (error, errsv, "Syncing the snapshot directory", dir);
          return FALSE;
        }
      return TRUE;
    }
  if (errno != EEXIST)
    {
      set_errno_error (error, errno, "Creating the directory", sw_dir);
      return FALSE;
    }
  if (stat (sw_dir, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                   "%s is not a directory: move it away so that versions "
                   "can be saved there", sw_dir);
      return FALSE;
    }
  return TRUE;
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/* The version numbers in @sw_dir, ascending; empty when it does not
 * exist. */
static GArray *
scan_versions (const gchar *sw_dir, GError **error)
{
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (guint));
  DIR *d = opendir (sw_dir);
  struct dirent *entry;

  if (d == NULL)
    {
      if (errno == ENOENT)
        return g_steal_pointer (&numbers);
      set_errno_error (error, errno, "Reading the directory", sw_dir);
      return NULL;
    }
  errno = 0;
  while ((entry = readdir (d)) != NULL)
    {
      guint n;

      if (parse_version (entry->d_name, ".json", &n))
        g_array_append_val (numbers, n);
      errno = 0;
    }
  if (errno != 0)
    {
      int errsv = errno;

      closedir (d);
      set_errno_error (error, errsv, "Reading the directory", sw_dir);
      return NULL;
    }
  closedir (d);
  g_array_sort (numbers, compare_uint);
  return g_steal_pointer (&numbers);
}

/* Reads a version file whole into @text (NUL-terminated), refusing more
 * than DVS_SNAPSHOT_MAX_SIZE bytes.  Returns 0 or an errno value (EFBIG:
 * too large, EISDIR: not a regular file); @size is set when known
 * (-1 otherwise). */
static int
read_version_file (const gchar *path, gchar **text, gint64 *size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  g_autofree gchar *buffer = NULL;
  struct stat st;
  gsize done = 0;
  int errsv;

  *size = -1;
  if (fd < 0)
    return errno;
  if (fstat (fd, &st) != 0)
    {
      errsv = errno;
      close (fd);
      return errsv;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      return EISDIR;
    }
  *size = st.st_size;
  if (st.st_size > DVS_SNAPSHOT_MAX_SIZE)
    {
      close (fd);
      return EFBIG;
    }
  buffer = g_malloc (st.st_size + 1);
  while (done < (gsize) st.st_size)
    {
      gssize n = read (fd, buffer + done, st.st_size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          errsv = errno;
          close (fd);
          return errsv;
        }
      if (n == 0)
        break;   /* shrank meanwhile */
      done += n;
    }
  close (fd);
  buffer[done] = '\0';
  *text = g_steal_pointer (&buffer);
  return 0;
}

static gboolean
write_all (int fd, const gchar *data, gsize size)
{
  while (size > 0)
    {
      gssize n = write (fd, data, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      data += n;
      size -= n;
    }
  return TRUE;
}

/* @text as @path, through PATH.tmp: nothing of it is left on failure. */
static gboolean
write_atomically (const gchar *sw_dir, const gchar *path, const gchar *text,
                  gsize size, GError **error)
{
  g_autofree gchar *tmp = g_strconcat (path, ".tmp", NULL);
  const gchar *what = "Writing";
  int fd, errsv;

  fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
             0600);
  if (fd < 0)
    {
      set_errno_error (error, errno, "Creating", tmp);
      return FALSE;
    }
  if (!write_all (fd, text, size))
    errsv = errno;
  else if (fsync (fd) != 0)
    {
      errsv = errno;
      what = "Syncing";
    }
  else
    errsv = 0;
  if (errsv != 0)
    {
      close (fd);
      unlink (tmp);
      set_errno_error (error, errsv, what, tmp);
      return FALSE;
    }
  if (close (fd) != 0)
    {
      errsv = errno;
      unlink (tmp);
      set_errno_error (error, errsv, "Closing", tmp);
      return FALSE;
    }
  if (rename (tmp, path) != 0)
    {
      errsv = errno;
      unlink (tmp);
      set_errno_error (error, errsv, "Renaming into place", tmp);
      return FALSE;
    }
  if ((errsv = fsync_dir (sw_dir)) != 0)
    {
      set_errno_error (error, errsv, "Syncing the directory", sw_dir);
      return FALSE;
    }
  return TRUE;
}

/* ---- the history ---------------------------------------------------------- */

gboolean
dvs_snapshot_history_save (DvsSnapshotHistory *h, JsonNode *doc,
                           gchar **version, gchar **path, GError **error)
{
  JsonObject *root = doc != NULL && JSON_NODE_HOLDS_OBJECT (doc)
                     ? json_node_get_object (doc) : NULL;
  JsonNode *sw = root != NULL ? json_object_get_member (root, "switch") : NULL;
  JsonNode *uuid = sw != NULL && JSON_NODE_HOLDS_OBJECT (sw)
                   ? json_object_get_member (json_node_get_object (sw), "uuid")
                   : NULL;
  g_autofree gchar *sw_name = NULL, *sw_dir = NULL, *name = NULL;
  g_autofree gchar *file = NULL, *text = NULL, *data = NULL;
  g_autoptr (GArray) numbers = NULL;
  g_autoptr (GError) local = NULL;
  guint next;
  gsize size;

  if (uuid == NULL || !JSON_NODE_HOLDS_VALUE (uuid)
      || json_node_get_value_type (uuid) != G_TYPE_STRING)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Cannot save a version: the document has no "
                           "switch.uuid");
      return FALSE;
    }
  sw_name = switch_dir_name (json_node_get_string (uuid), error);
  if (sw_name == NULL)
    return FALSE;
  sw_dir = g_build_filename (h->dir, sw_name, NULL);
  if (!ensure_dirs (h->dir, sw_dir, &local)
      || (numbers = scan_versions (sw_dir, &local)) == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "Cannot save a version of switch %s: ",
                                  sw_name);
      return FALSE;
    }
  next = numbers->len > 0 ? g_array_index (numbers, guint, numbers->len - 1) + 1
                          : 1;
  if (next > MAX_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "Cannot save a version of switch %s: version numbers are "
                   "used up (v%06u exists in %s); move the old versions "
                   "away", sw_name, MAX_VERSION, sw_dir);
      return FALSE;
    }
  name = version_name (next);
  file = version_path (sw_dir, next);

  data = dvs_json_write_full (doc, TRUE, 2, &size);
  text = g_strconcat (data, "\n", NULL);

  if (!write_atomically (sw_dir, file, text, size + 1, &local))
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "Cannot save version %s of switch %s: ",
                                  name, sw_name);
      return FALSE;
    }
  if (version != NULL)
    *version = g_steal_pointer (&name);
  if (path != NULL)
    *path = g_steal_pointer (&file);
  return TRUE;
}

static void
set_string_or_null (JsonObject *entry, const gchar *name, JsonObject *root)
{
  JsonNode *node = root != NULL ? json_object_get_member (root, name) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    json_object_set_string_member (entry, name, json_node_get_string (node));
  else
    json_object_set_null_member (entry, name);
}

/* The metadata of one version file; "error" when it cannot be read as a
 * JSON object. */
static JsonObject *
list_entry (const gchar *sw_dir, guint number)
{
  JsonObject *entry = json_object_new ();
  g_autofree gchar *name = version_name (number);
  g_autofree gchar *path = version_path (sw_dir, number);
  g_autofree gchar *text = NULL;
  g_autofree gchar *problem = NULL;
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (GError) local = NULL;
  JsonObject *root = NULL;
  JsonNode *generation;
  gint64 size;
  int errsv;

  json_object_set_string_member (entry, "version", name);
  json_object_set_string_member (entry, "path", path);

  errsv = read_version_file (path, &text, &size);
  if (errsv == EFBIG)
    problem = g_strdup_printf ("larger than %u bytes", DVS_SNAPSHOT_MAX_SIZE);
  else if (errsv == EISDIR)
    problem = g_strdup ("not a regular file");
  else if (errsv == ELOOP)
    problem = g_strdup ("a symbolic link, which is not followed");
  else if (errsv != 0)
    problem = g_strdup_printf ("cannot be read: %s", g_strerror (errsv));
  else if ((doc = json_from_string (text, &local)) == NULL)
    {
      /* The position only: json-glib's message may quote the file. */
      g_autofree gchar *where = dvs_json_error_position (local);
      problem = g_strdup_printf ("not valid JSON%s", local != NULL ? where : " (empty)");
    }
  else if (!JSON_NODE_HOLDS_OBJECT (doc))
    problem = g_strdup ("not a JSON object");
  else
    root = json_node_get_object (doc);

  set_string_or_null (entry, "created", root);
  set_string_or_null (entry, "author", root);
  set_string_or_null (entry, "comment", root);
  set_string_or_null (entry, "checksum", root);
  generation = root != NULL ? json_object_get_member (root, "generation") : NULL;
  if (generation != NULL && JSON_NODE_HOLDS_VALUE (generation)
      && json_node_get_value_type (generation) == G_TYPE_INT64)
    json_object_set_int_member (entry, "generation",
                                json_node_get_int (generation));
  else
    json_object_set_null_member (entry, "generation");
  if (size >= 0)
    json_object_set_int_member (entry, "size", size);
  else
    json_object_set_null_member (entry, "size");
  if (problem != NULL)
    json_object_set_string_member (entry, "error", problem);
  return entry;
}

JsonNode *
dvs_snapshot_history_list (DvsSnapshotHistory *h, const gchar *switch_uuid,
                           GError **error)
{
  g_autofree gchar *sw_name = switch_dir_name (switch_uuid, error);
  g_autofree gchar *sw_dir = NULL;
  g_autoptr (GArray) numbers = NULL;
  g_autoptr (JsonArray) versions = NULL;

  if (sw_name == NULL)
    return NULL;
  sw_dir = g_build_filename (h->dir, sw_name, NULL);
  numbers = scan_versions (sw_dir, error);
  if (numbers == NULL)
    return NULL;
  versions = json_array_sized_new (numbers->len);
  for (guint i = 0; i < numbers->len; i++)
    json_array_add_object_element (versions,
                                   list_entry (sw_dir,
                                               g_array_index (numbers, guint, i)));
  return json_node_init_array (json_node_alloc (), versions);
}

gchar *
dvs_snapshot_history_read (DvsSnapshotHistory *h, const gchar *switch_uuid,
                           const gchar *version, GError **error)
{
  g_autofree gchar *sw_name = switch_dir_name (switch_uuid, error);
  g_autofree gchar *sw_dir = NULL, *path = NULL, *name = NULL, *text = NULL;
  guint number;
  gint64 size;
  int errsv;

  if (sw_name == NULL)
    return NULL;
  sw_dir = g_build_filename (h->dir, sw_name, NULL);
  if (g_strcmp0 (version, "latest") == 0)
    {
      g_autoptr (GArray) numbers = scan_versions (sw_dir, error);

      if (numbers == NULL)
        return NULL;
      if (numbers->len == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "Switch %s has no saved versions (in %s): save one "
                       "first", sw_name, h->dir);
          return NULL;
        }
      number = g_array_index (numbers, guint, numbers->len - 1);
    }
  else if (version == NULL || !parse_version (version, "", &number))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Invalid version name \"%s\": use \"latest\" or a name "
                   "like v000003 as listed", version != NULL ? version : "");
      return NULL;
    }
  name = version_name (number);
  path = version_path (sw_dir, number);

  errsv = read_version_file (path, &text, &size);
  if (errsv == ENOENT)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 "Version %s of switch %s not found (in %s): list the "
                 "versions to see which exist", name, sw_name, h->dir);
  else if (errsv == EFBIG)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "Version %s of switch %s (%s) is larger than %u bytes: "
                 "it cannot be a snapshot", name, sw_name, path,
                 DVS_SNAPSHOT_MAX_SIZE);
  else if (errsv == EISDIR)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 "Version %s of switch %s (%s) is not a regular file",
                 name, sw_name, path);
  else if (errsv != 0)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                 "Cannot read version %s of switch %s (%s): %s; check the "
                 "file's permissions", name, sw_name, path,
                 g_strerror (errsv));
  return errsv == 0 ? g_steal_pointer (&text) : NULL;
}

gboolean
dvs_snapshot_history_prune (DvsSnapshotHistory *h, const gchar *switch_uuid,
                            guint keep, GError **error)
{
  g_autofree gchar *sw_name = switch_dir_name (switch_uuid, error);
  g_autofree gchar *sw_dir = NULL;
  g_autoptr (GArray) numbers = NULL;
  guint removed = 0;
  int errsv;

  if (sw_name == NULL)
    return FALSE;
  if (keep == 0)
    return TRUE;
  sw_dir = g_build_filename (h->dir, sw_name, NULL);
  numbers = scan_versions (sw_dir, error);
  if (numbers == NULL)
    return FALSE;
  for (guint i = 0; i + keep < numbers->len; i++)
    {
      g_autofree gchar *path = version_path (sw_dir,
                                             g_array_index (numbers, guint, i));

      if (unlink (path) != 0 && errno != ENOENT)
        {
          set_errno_error (error, errno, "Removing the old version", path);
          return FALSE;
        }
      removed++;
    }
  if (removed > 0 && (errsv = fsync_dir (sw_dir)) != 0)
    {
      set_errno_error (error, errsv, "Syncing the directory", sw_dir);
      return FALSE;
    }
  return TRUE;
}
