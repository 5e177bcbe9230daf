/* The local store's file layer (internal to store/): the envelope around a
 * payload, and durable file operations — atomic replacement, removal,
 * directory creation — each of which syncs what it changed.  Errors are
 * DVS_STORE_ERROR codes whose messages name the file.  docs/local-store.md
 * describes the format. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Longest header line, newline excluded. */
#define DVS_STORE_MAX_HEADER_SIZE 4096

/* Builds a whole file: the header line for @payload (its size and SHA-256
 * over exactly these bytes), a newline, then @payload. */
GBytes *dvs_store_envelope_build (const gchar *kind, guint version,
                                  gint64 written_us, const gchar *payload,
                                  gsize payload_size);

/* Verifies the file @data read from @path (named in messages, followed by
 * @remedy: what the operator should do) and returns its payload, a JSON
 * object, with the version it was written in (1..@max_version).  Checks, in
 * order: the header line parses, is a dvs-store header, its kind is @kind
 * (WRONG_KIND), its version is not newer than @max_version (FUTURE_VERSION),
 * the payload has the announced size (TRUNCATED when shorter, CORRUPT when
 * longer) and checksum (CORRUPT), and parses as a JSON object (CORRUPT). */
JsonNode *dvs_store_envelope_parse (const gchar *path, const gchar *data,
                                    gsize size, const gchar *kind,
                                    guint max_version, guint *version,
                                    const gchar *remedy, GError **error);

/* Reads a whole regular file of at most @max_size bytes (NOT_FOUND, IO,
 * CORRUPT when not a regular file or too large). */
gchar *dvs_store_file_read (const gchar *path, gsize max_size, gsize *size,
                            GError **error);

/* Replaces @path atomically and durably: writes PATH.tmp.XXXXXX (0600) in
 * the same directory, fsyncs and closes it, renames it over @path, fsyncs
 * the directory.  On failure the temporary file is removed and @path keeps
 * its previous content. */
gboolean dvs_store_file_replace (const gchar *path, const gchar *data,
                                 gsize size, GError **error);

/* Unlinks @path and syncs its directory; a missing file is not an error. */
gboolean dvs_store_file_remove (const gchar *path, GError **error);

/* Creates @dir (0700) and any missing parents, syncing each parent whose
 * entries changed. */
gboolean dvs_store_dir_ensure (const gchar *dir, GError **error);

/* fsync of a directory, so that renames and unlinks in it are durable. */
gboolean dvs_store_dir_sync (const gchar *dir, GError **error);

/* Removes the tree at @path without following symbolic links.  Sets errno
 * and returns FALSE on the first failure. */
gboolean dvs_store_tree_remove (const gchar *path);

/* Whether @name is a temporary file left by dvs_store_file_replace
 * ("*.tmp.XXXXXX", six letters or digits). */
gboolean dvs_store_is_tmp_name (const gchar *name);

G_END_DECLS
