/* The local store of dvs-switchd: the DVswitch and DVport data the manager
 * pushed to this host and each port's runtime-state checkpoint, kept on
 * local disk so that the host keeps running when the manager is unreachable
 * and restores after a restart.  The format and its guarantees are in
 * docs/local-store.md.
 *
 *   ROOT/switches/SWITCH-ID/switch.dvs                 kind switch
 *   ROOT/switches/SWITCH-ID/ports/PORT-KEY.dvs         kind port
 *   ROOT/switches/SWITCH-ID/checkpoints/PORT-KEY.dvs   kind checkpoint
 *
 * Every file is an envelope (a one-line JSON header with a version, the
 * payload's size and SHA-256) around a JSON object the store does not look
 * into, except to upgrade a checkpoint written by an older version.  Writes
 * replace a file atomically; reads verify it and say precisely what is wrong.
 *
 * Names: a switch id or port key is 1-64 characters of [A-Za-z0-9_.:-], not
 * "." or "..".  Every function checks the names it is given before it
 * touches the disk (INVALID_NAME), so a name received from a peer never
 * becomes a path unchecked.
 *
 * Errors: gboolean/NULL + GError in the DVS_STORE_ERROR domain; each message
 * names the file and says what to do.  Nothing here aborts on bad input read
 * from disk.
 *
 * Threads: the store has no mutable state after open, so calls may come from
 * any thread.  Two writes of the same file leave one of them whole (the last
 * rename wins); a put into a switch racing with the removal of that switch
 * may leave the put's file behind: serialise those in the caller. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define DVS_STORE_ERROR (dvs_store_error_quark ())
GQuark dvs_store_error_quark (void);

typedef enum {
  DVS_STORE_ERROR_NOT_FOUND,      /* no such file */
  DVS_STORE_ERROR_INVALID_NAME,   /* a switch id or port key is not valid */
  DVS_STORE_ERROR_CORRUPT,        /* header unreadable, checksum mismatch,
                                   * payload not a JSON object, extra bytes */
  DVS_STORE_ERROR_TRUNCATED,      /* fewer payload bytes than announced */
  DVS_STORE_ERROR_WRONG_KIND,     /* e.g. a port file where a checkpoint
                                   * belongs */
  DVS_STORE_ERROR_FUTURE_VERSION, /* written by a newer dvs-switchd */
  DVS_STORE_ERROR_IO,             /* a system call failed (errno text in
                                   * the message): full disk, EIO, ... */
  DVS_STORE_ERROR_LOCKED,         /* another process has the store open */
} DvsStoreError;

typedef enum {
  DVS_STORE_KIND_SWITCH,          /* the pushed DVswitch: global config,
                                   * port groups */
  DVS_STORE_KIND_PORT,            /* a pushed DVport: config, connection ID */
  DVS_STORE_KIND_CHECKPOINT,      /* a port's runtime state at link down */
  DVS_STORE_KIND_LAST
} DvsStoreKind;

/* "switch", "port", "checkpoint": the "kind" of the header. */
const gchar *dvs_store_kind_to_string (DvsStoreKind kind);
/* The payload version this code writes for @kind (and the newest it reads). */
guint dvs_store_kind_version (DvsStoreKind kind);

/* Longest payload accepted by put and read by get, in bytes. */
#define DVS_STORE_MAX_PAYLOAD_SIZE (64 * 1024 * 1024)

/* Checks a switch id or port key; @what ("switch id", "port key") is used in
 * the message.  Exposed so that the host channel can refuse a bad name at
 * its boundary with the same rule. */
gboolean dvs_store_name_valid (const gchar *name, const gchar *what,
                               GError **error);

typedef struct _DvsLocalStore DvsLocalStore;

/* Opens the store at @root, creating it (mode 0700, parents too) if needed.
 * Takes an exclusive lock on the directory for the life of the store: a
 * second open of the same root, by this or another process, fails with
 * LOCKED.  Removes what interrupted writes left behind (temporary files,
 * half-removed switch directories), each logged at info level. */
DvsLocalStore *dvs_local_store_open (const gchar *root, GError **error);
/* Releases the lock.  Accepts NULL. */
void dvs_local_store_free (DvsLocalStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsLocalStore, dvs_local_store_free)

const gchar *dvs_local_store_root (DvsLocalStore *store);

/* The clock that dates the "written" field of new files, in microseconds
 * since the epoch (g_get_real_time, the default, when @now is NULL).  For
 * tests and golden files. */
void dvs_local_store_set_clock (DvsLocalStore *store, gint64 (*now) (void));

/* The file that holds (@kind, @switch_id, @port_key), or NULL if a name is
 * not valid.  @port_key is NULL for DVS_STORE_KIND_SWITCH and required for
 * the other kinds (as in every function below).  For messages and tests. */
gchar *dvs_local_store_path (DvsLocalStore *store, DvsStoreKind kind,
                             const gchar *switch_id, const gchar *port_key);

/* Writes @payload (a JSON object; not consumed) in the current version of
 * @kind, atomically replacing any previous file: after a crash, a full disk
 * or an I/O error the file holds either the previous content or the new one,
 * never a mix, and no temporary file remains (a crash may leave one; the next
 * open removes it).  Creates the switch's directories (0700) as needed.
 * When TRUE is returned the new content is on stable storage. */
gboolean dvs_local_store_put (DvsLocalStore *store, DvsStoreKind kind,
                              const gchar *switch_id, const gchar *port_key,
                              JsonNode *payload, GError **error);

/* Reads and verifies a file and returns its payload (a JSON object, owned by
 * the caller), upgraded to the current version if it was written by an
 * older one (the file itself is rewritten only by the next put).  NULL with
 * NOT_FOUND, CORRUPT, TRUNCATED, WRONG_KIND, FUTURE_VERSION, IO or
 * INVALID_NAME. */
JsonNode *dvs_local_store_get (DvsLocalStore *store, DvsStoreKind kind,
                               const gchar *switch_id, const gchar *port_key,
                               GError **error);

/* Removes one file; a file that does not exist is not an error. */
gboolean dvs_local_store_remove (DvsLocalStore *store, DvsStoreKind kind,
                                 const gchar *switch_id,
                                 const gchar *port_key, GError **error);

/* Removes a switch with all its ports and checkpoints.  Atomic: the
 * directory is first renamed out of the way, so a crash never leaves part of
 * a switch visible (the next open finishes the removal).  A switch that does
 * not exist is not an error. */
gboolean dvs_local_store_remove_switch (DvsLocalStore *store,
                                        const gchar *switch_id,
                                        GError **error);

/* Switch ids present in the store, sorted; NULL-terminated, never NULL on
 * success (empty when there are none).  A switch is listed when its
 * directory exists, whether or not it has a switch.dvs yet. */
GStrv dvs_local_store_list_switches (DvsLocalStore *store, GError **error);

/* Port keys that have a file of @kind (PORT or CHECKPOINT) in @switch_id,
 * sorted; empty when the switch does not exist.  Entries that are not store
 * files (temporary files, files moved aside as NAME.dvs.bak, invalid names)
 * are not listed. */
GStrv dvs_local_store_list_ports (DvsLocalStore *store, DvsStoreKind kind,
                                  const gchar *switch_id, GError **error);

/* Called by dvs_local_store_load_all for each file, in order: per switch
 * (sorted), its switch.dvs, then its ports, then its checkpoints (sorted).
 * Either @payload is set (borrowed: json_node_ref it to keep it) and @damage
 * is NULL, or @payload is NULL and @damage says why the file could not be
 * used.  When a directory cannot be listed, @port_key is NULL and @kind says
 * which one (PORT: ports/, CHECKPOINT: checkpoints/). */
typedef void (*DvsStoreVisitFunc) (DvsStoreKind kind, const gchar *switch_id,
                                   const gchar *port_key, JsonNode *payload,
                                   const GError *damage, gpointer user_data);

/* Loads everything for start-up: every file is either loaded or reported to
 * @visit, and a damaged file never stops the others from loading.  Fails
 * (IO) only when the switches directory itself cannot be listed. */
gboolean dvs_local_store_load_all (DvsLocalStore *store,
                                   DvsStoreVisitFunc visit,
                                   gpointer user_data, GError **error);

G_END_DECLS
