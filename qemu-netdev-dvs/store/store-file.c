/* The local store's envelope and durable file operations. */
#define G_LOG_DOMAIN "dvs-store"
#include "store/store-file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/local-store.h"
#include "dvs-json.h"
#include "dvs-json-write.h"

#define FORMAT_NAME "dvs-store"
#define SHA256_HEX_LENGTH 64

/* Sets a DVS_STORE_ERROR and evaluates to FALSE. */
#define fail(error, code, ...) \
  ({ g_set_error (error, DVS_STORE_ERROR, DVS_STORE_ERROR_##code, __VA_ARGS__); FALSE; })

GBytes *
dvs_store_envelope_build (const gchar *kind, guint version, gint64 written_us,
                          const gchar *payload, gsize payload_size)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (written_us / G_USEC_PER_SEC);
  g_autofree gchar *written = NULL;
  g_autofree gchar *sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                       (const guchar *) payload,
                                                       payload_size);
  g_autofree gchar *header = NULL;
  gsize header_size;
  GByteArray *out;

  written = dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ")
                       : g_strdup ("1970-01-01T00:00:00Z");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, FORMAT_NAME);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, version);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind);
  json_builder_set_member_name (b, "written");
  json_builder_add_string_value (b, written);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) payload_size);
  json_builder_set_member_name (b, "sha256");
  json_builder_add_string_value (b, sha);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  header = dvs_json_write_full (root, FALSE, 0, &header_size);

  out = g_byte_array_sized_new (header_size + 1 + payload_size);
  g_byte_array_append (out, (const guint8 *) header, header_size);
  g_byte_array_append (out, (const guint8 *) "\n", 1);
  g_byte_array_append (out, (const guint8 *) payload, payload_size);
  return g_byte_array_free_to_bytes (out);
}

static const gchar *
member_string (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
member_int (JsonObject *o, const gchar *name, gint64 *out)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

static gboolean
is_sha256_hex (const gchar *s)
{
  if (s == NULL || strlen (s) != SHA256_HEX_LENGTH)
    return FALSE;
  for (const gchar *p = s; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

/* Parses the header line; returns its object (owned by @parser). */
static JsonObject *
parse_header (JsonParser *parser, const gchar *path, const gchar *data,
              gsize size, const gchar *remedy, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, data, (gssize) size, &local))
    {
      g_autofree gchar *where = dvs_json_error_position (local);
      fail (error, CORRUPT, "%s is corrupt or not a dvs-store file: its first "
            "line is not a JSON header%s; %s", path, where, remedy);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || g_strcmp0 (member_string (json_node_get_object (root), "format"), FORMAT_NAME) != 0)
    {
      fail (error, CORRUPT, "%s is not a dvs-store file: its first line has no "
            "\"format\":\"" FORMAT_NAME "\"; %s", path, remedy);
      return NULL;
    }
  return json_node_get_object (root);
}

JsonNode *
dvs_store_envelope_parse (const gchar *path, const gchar *data, gsize size,
                          const gchar *kind, guint max_version, guint *version,
                          const gchar *remedy, GError **error)
{
  g_autoptr (JsonParser) header_parser = json_parser_new ();
  g_autoptr (JsonParser) payload_parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  g_autofree gchar *sha = NULL;
  const gchar *newline, *payload, *file_kind, *want_sha;
  gsize payload_size;
  gint64 v, announced;
  JsonObject *h;
  JsonNode *root;

  if (size == 0)
    {
      fail (error, TRUNCATED, "%s is empty: its content never reached the disk "
            "(a crash right after it was written?); %s", path, remedy);
      return NULL;
    }
  newline = memchr (data, '\n', MIN (size, DVS_STORE_MAX_HEADER_SIZE + 1));
  if (newline == NULL)
    {
      if (data[0] == '{' && size <= DVS_STORE_MAX_HEADER_SIZE)
        fail (error, TRUNCATED, "%s is truncated inside its header line; %s", path, remedy);
      else
        fail (error, CORRUPT, "%s is not a dvs-store file: it does not start "
              "with a header line; %s", path, remedy);
      return NULL;
    }
  h = parse_header (header_parser, path, data, newline - data, remedy, error);
  if (h == NULL)
    return NULL;

  file_kind = member_string (h, "kind");
  if (file_kind == NULL)
    {
      fail (error, CORRUPT, "%s is corrupt: its header has no kind; %s", path, remedy);
      return NULL;
    }
  if (!g_str_equal (file_kind, kind))
    {
      fail (error, WRONG_KIND, "%s holds another kind of data, not a %s (was it "
            "copied here by hand?); %s", path, kind, remedy);
      return NULL;
    }
  /* The version before the rest: a newer version may have changed it.  The
   * format and kind members never change. */
  if (!member_int (h, "version", &v) || v < 1)
    {
      fail (error, CORRUPT, "%s is corrupt: its header has no valid version; %s", path, remedy);
      return NULL;
    }
  if (v > max_version)
    {
      fail (error, FUTURE_VERSION, "%s was written by a newer dvs-switchd (%s format "
            "version %" G_GINT64_FORMAT "; this one reads up to version %u): run "
            "that version again, or move the file aside to start without it",
            path, kind, v, max_version);
      return NULL;
    }
  want_sha = member_string (h, "sha256");
  if (!member_int (h, "size", &announced) || announced < 0 || !is_sha256_hex (want_sha))
    {
      fail (error, CORRUPT, "%s is corrupt: its header has no valid size and sha256; %s",
            path, remedy);
      return NULL;
    }

  payload = newline + 1;
  payload_size = size - (gsize) (payload - data);
  if ((guint64) announced > payload_size)
    {
      fail (error, TRUNCATED, "%s is truncated: its header announces %" G_GINT64_FORMAT
            " payload bytes, the file holds %" G_GSIZE_FORMAT " (a write cut short); %s",
            path, announced, payload_size, remedy);
      return NULL;
    }
  if ((guint64) announced < payload_size)
    {
      fail (error, CORRUPT, "%s is corrupt: %" G_GSIZE_FORMAT " bytes follow its "
            "payload of %" G_GINT64_FORMAT " bytes; %s", path,
            payload_size - (gsize) announced, announced, remedy);
      return NULL;
    }
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) payload, payload_size);
  if (g_ascii_strcasecmp (sha, want_sha) != 0)
    {
      fail (error, CORRUPT, "%s is corrupt: the SHA-256 of its payload does not "
            "match its header (the data changed on disk); %s", path, remedy);
      return NULL;
    }
  if (!json_parser_load_from_data (payload_parser, payload, (gssize) payload_size, &local))
    {
      g_autofree gchar *where = dvs_json_error_position (local);
      fail (error, CORRUPT, "%s is corrupt: its payload is not JSON%s; %s",
            path, where, remedy);
      return NULL;
    }
  root = json_parser_get_root (payload_parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (error, CORRUPT, "%s is corrupt: its payload is not a JSON object; %s",
            path, remedy);
      return NULL;
    }
  *version = (guint) v;
  return json_parser_steal_root (payload_parser);
}

gchar *
dvs_store_file_read (const gchar *path, gsize max_size, gsize *size,
                     GError **error)
{
  /* O_NONBLOCK: a FIFO put here by mistake must not hang the reader.
   * O_NOFOLLOW: a symbolic link is not followed (to /etc/shadow, say): the
   * store reads only the regular files it wrote. */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  g_autofree gchar *buf = NULL;
  struct stat st;
  gsize done = 0;
  int e = 0;

  if (fd < 0)
    {
      e = errno;
      if (e == ENOENT)
        fail (error, NOT_FOUND, "%s does not exist", path);
      else if (e == ELOOP)
        fail (error, CORRUPT, "%s is a symbolic link, which the store does not follow; "
              "move it out of the way", path);
      else
        fail (error, IO, "cannot open %s: %s", path, g_strerror (e));
      return NULL;
    }
  if (fstat (fd, &st) < 0)
    e = errno;
  else if (!S_ISREG (st.st_mode) || (guint64) st.st_size > max_size)
    {
      close (fd);
      if (!S_ISREG (st.st_mode))
        fail (error, CORRUPT, "%s is not a regular file; move it out of the way", path);
      else
        fail (error, CORRUPT, "%s is corrupt: it has %" G_GINT64_FORMAT " bytes, "
              "more than a store file can hold (%" G_GSIZE_FORMAT "); move it out "
              "of the way", path, (gint64) st.st_size, max_size);
      return NULL;
    }
  else
    {
      buf = g_malloc ((gsize) st.st_size + 1);
      while (done < (gsize) st.st_size)
        {
          ssize_t n = read (fd, buf + done, (gsize) st.st_size - done);
          if (n < 0 && errno == EINTR)
            continue;
          if (n < 0)
            {
              e = errno;
              break;
            }
          if (n == 0)             /* shrank while we read: report what is there */
            break;
          done += (gsize) n;
        }
    }
  close (fd);
  if (e != 0)
    {
      fail (error, IO, "cannot read %s: %s", path, g_strerror (e));
      return NULL;
    }
  buf[done] = '\0';
  *size = done;
  return g_steal_pointer (&buf);
}

static int
write_all (int fd, const gchar *data, gsize size)
{
  while (size > 0)
    {
      ssize_t n = write (fd, data, size);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -errno;
      if (n == 0)
        return -EIO;
      data += n;
      size -= (gsize) n;
    }
  return 0;
}

gboolean
dvs_store_file_replace (const gchar *path, const gchar *data, gsize size,
                        GError **error)
{
  g_autofree gchar *tmp = g_strconcat (path, ".tmp.XXXXXX", NULL);
  g_autofree gchar *dir = g_path_get_dirname (path);
  int fd, err;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail (error, IO, "cannot write %s: cannot create a temporary file "
                 "beside it: %s", path, g_strerror (errno));
  err = write_all (fd, data, size);
  if (err == 0 && fsync (fd) < 0)
    err = -errno;
  /* Linux always releases the descriptor, even when close fails; EINTR
   * comes after the data were handed over, so it is not a failure. */
  if (close (fd) < 0 && err == 0 && errno != EINTR)
    err = -errno;
  if (err == 0 && rename (tmp, path) < 0)
    err = -errno;
  if (err != 0)
    {
      unlink (tmp);
      return fail (error, IO, "cannot write %s: %s; its previous content, if any, "
                   "is kept", path, g_strerror (-err));
    }
  return dvs_store_dir_sync (dir, error);
}

gboolean
dvs_store_file_remove (const gchar *path, GError **error)
{
  g_autofree gchar *dir = NULL;

  if (unlink (path) < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return fail (error, IO, "cannot remove %s: %s", path, g_strerror (errno));
    }
  dir = g_path_get_dirname (path);
  return dvs_store_dir_sync (dir, error);
}

gboolean
dvs_store_dir_sync (const gchar *dir, GError **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e = 0;

  if (fd < 0)
    e = errno;
  else
    {
      /* Some file systems cannot sync a directory (EINVAL): nothing to do. */
      if (fsync (fd) < 0 && errno != EINVAL)
        e = errno;
      close (fd);
    }
  if (e != 0)
    return fail (error, IO, "cannot sync directory %s: %s", dir, g_strerror (e));
  return TRUE;
}

gboolean
dvs_store_dir_ensure (const gchar *dir, GError **error)
{
  g_autofree gchar *parent = NULL;
  struct stat st;

  if (stat (dir, &st) == 0)
    {
      if (S_ISDIR (st.st_mode))
        return TRUE;
      return fail (error, IO, "%s is not a directory; move it out of the way", dir);
    }
  if (errno != ENOENT)
    return fail (error, IO, "cannot use directory %s: %s", dir, g_strerror (errno));
  parent = g_path_get_dirname (dir);
  if (!g_str_equal (parent, dir) && !dvs_store_dir_ensure (parent, error))
    return FALSE;
  if (mkdir (dir, 0700) < 0 && errno != EEXIST)
    return fail (error, IO, "cannot create directory %s: %s", dir, g_strerror (errno));
  return dvs_store_dir_sync (parent, error);
}

static gboolean
tree_remove_at (int parent, const gchar *name)
{
  int fd = openat (parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct dirent *e;
  gboolean ok = TRUE;
  int saved;
  DIR *d;

  if (fd < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      if (errno != ENOTDIR && errno != ELOOP)
        return FALSE;
      /* Not a directory (or a symbolic link to one): remove the entry. */
      return unlinkat (parent, name, 0) == 0 || errno == ENOENT;
    }
  d = fdopendir (fd);
  if (d == NULL)
    {
      saved = errno;
      close (fd);
      errno = saved;
      return FALSE;
    }
  for (;;)
    {
      errno = 0;
      e = readdir (d);
      if (e == NULL)
        {
          ok = errno == 0;
          break;
        }
      if (g_str_equal (e->d_name, ".") || g_str_equal (e->d_name, ".."))
        continue;
      if (!tree_remove_at (dirfd (d), e->d_name))
        {
          ok = FALSE;
          break;
        }
    }
  saved = errno;
  closedir (d);
  errno = saved;
  if (!ok)
    return FALSE;
  return unlinkat (parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT;
}

gboolean
dvs_store_tree_remove (const gchar *path)
{
  return tree_remove_at (AT_FDCWD, path);
}

gboolean
dvs_store_is_tmp_name (const gchar *name)
{
  static const gsize tail = sizeof (".tmp.XXXXXX") - 1;
  gsize len = strlen (name);
  const gchar *s;

  if (len <= tail)
    return FALSE;
  s = name + len - tail;
  if (!g_str_has_prefix (s, ".tmp."))
    return FALSE;
  for (s += 5; *s; s++)
    if (!g_ascii_isalnum (*s))
      return FALSE;
  return TRUE;
}
