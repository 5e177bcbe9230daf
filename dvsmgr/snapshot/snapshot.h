/* Configuration snapshots of a DVswitch (docs/snapshots.md): the versioned
 * document, export, parsing with every problem listed, import in three
 * modes, diff, and the history of version files.
 *
 * The document is plain data: export builds it from the model, parse
 * validates it without touching the model, import changes the model in one
 * store transaction (all or nothing).  Everything runs on the manager's
 * main loop, except parse and diff, which are pure (the fuzz target calls
 * parse on arbitrary bytes). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "core/mgr.h"

G_BEGIN_DECLS

#define DVS_SNAPSHOT_FORMAT "dvs-switch-config"
#define DVS_SNAPSHOT_FORMAT_VERSION 1
/* Documents larger than this are refused unread. */
#define DVS_SNAPSHOT_MAX_SIZE (64 * 1024 * 1024)

/* ---- the document (snapshot-doc.c) ------------------------------------ */

/* Compact JSON with every object's members sorted by name: the form the
 * checksum covers, stable whatever order a file has. */
gchar *dvs_snapshot_canonical (JsonNode *node);
/* "sha256:HEX" of the canonical form of @doc without its "checksum". */
gchar *dvs_snapshot_checksum (JsonNode *doc);

/* The document of @sw now: switch level, port groups, ports (with their
 * connections when @connections), created now, with its checksum. */
JsonNode *dvs_snapshot_export (DvsMgr *mgr, MgrSwitch *sw, gboolean connections,
                               const gchar *author, const gchar *comment);

typedef struct {
  gchar *uuid, *name;
  JsonNode *config;            /* object */
} DvsSnapGroup;

typedef struct {
  gchar *key, *group;          /* group: a DvsSnapGroup uuid */
  JsonNode *config;            /* overrides: object or NULL */
  gchar *conn_id;              /* NULL: no connection (or not exported) */
  gchar *host, *vm, *mac, *iface;
} DvsSnapPort;

typedef struct {
  gchar *name, *libvirt_uri;   /* libvirt_uri may be NULL */
} DvsSnapHost;

typedef struct {
  JsonNode *doc;               /* the whole document as read */
  gint format_version;
  gchar *created, *author, *comment, *manager, *checksum;
  gboolean connections;        /* the ports carry their connections */
  /* switch level */
  gchar *uuid, *name, *forwarding_class, *transport_zone;
  guint mtu;
  guint64 next_port;
  gboolean history_auto;
  guint history_keep;
  GPtrArray *hosts;            /* DvsSnapHost */
  GPtrArray *networks;         /* JsonNode objects, as exported */
  GPtrArray *groups;           /* DvsSnapGroup, document order */
  GPtrArray *ports;            /* DvsSnapPort, document order */
} DvsSnapshot;

void dvs_snapshot_free (DvsSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsSnapshot, dvs_snapshot_free)

/* Parses and validates @len bytes of @text (not necessarily
 * NUL-terminated; -1: NUL-terminated).  Checks everything that does not
 * depend on the manager's state — JSON, format and its version, checksum,
 * every member's type and range, configs with the host's rules, unique
 * UUIDs and keys, references (a port's group, a connection's host) — and
 * appends one message per problem to @problems (gchar *, owned by the
 * array).  Returns NULL when there is any. */
DvsSnapshot *dvs_snapshot_parse (const gchar *text, gssize len, GPtrArray *problems);

/* ---- import (snapshot-import.c) ---------------------------------------- */

typedef enum {
  DVS_IMPORT_RECREATE,   /* same UUIDs, keys, hosts, connections */
  DVS_IMPORT_NEW,        /* a template: new UUIDs and keys, @name, no hosts or connections */
  DVS_IMPORT_APPLY,      /* roll @target (default: the document's UUID) to the document */
} DvsImportMode;

gboolean dvs_import_mode_parse (const gchar *s, DvsImportMode *mode);

/* Checks @snap against the manager's state for @mode (UUID, key and name
 * clashes, a target that exists, ports that would lose a connection...),
 * listing every problem in one INVALID_ARGS / EXISTS / BUSY error; then
 * commits the whole import in one transaction and updates the model,
 * D-Bus and pushes.  @report (may be NULL) gets {"switch","mode",
 * "port_groups":{"added","updated","removed"},"ports":{...},"hosts_registered"}. */
MgrSwitch *dvs_snapshot_import (DvsMgr *mgr, const DvsSnapshot *snap, DvsImportMode mode,
                                const gchar *name, const gchar *target_uuid,
                                JsonNode **report, GError **error);

/* ---- diff (snapshot-diff.c) --------------------------------------------- */

/* What changes from @from to @to (two documents, e.g. a version and the
 * live export): {"changes": [CHANGE...], "summary": {...}} with CHANGE =
 * {"object": "switch"|"port_group"|"port"|"host"|"network", "id": UUID/key/name,
 * "name": display name or null, "change": "added"|"removed"|"changed",
 * "setting": "config.vlan" (for changed; dotted path), "from": value,
 * "to": value}.  Metadata (created, author, comment, checksum, generation)
 * is not compared; connections only when both documents carry them.
 * Changes are listed switch first, then port groups, then ports, each in
 * a stable order. */
JsonNode *dvs_snapshot_diff (JsonNode *from, JsonNode *to);
/* The readable form: one line per change ("~ port group web: config.vlan
 * 10 -> 20"), "no changes" when empty. */
gchar *dvs_snapshot_diff_text (JsonNode *diff);

/* ---- history (snapshot-history.c) --------------------------------------- */

typedef struct _DvsSnapshotHistory DvsSnapshotHistory;

/* Version files under @dir (created 0700 on first save):
 * DIR/SWITCH-UUID/vNNNNNN.json, numbered from 1, written atomically. */
DvsSnapshotHistory *dvs_snapshot_history_new (const gchar *dir);
void dvs_snapshot_history_free (DvsSnapshotHistory *h);
const gchar *dvs_snapshot_history_dir (DvsSnapshotHistory *h);
/* Saves @doc as the next version of its switch; returns the version name
 * ("v000003") and path. */
gboolean dvs_snapshot_history_save (DvsSnapshotHistory *h, JsonNode *doc,
                                    gchar **version, gchar **path, GError **error);
/* [{"version","path","created","author","comment","checksum","generation","size"}],
 * oldest first; damaged files listed with "error". */
JsonNode *dvs_snapshot_history_list (DvsSnapshotHistory *h, const gchar *switch_uuid,
                                     GError **error);
/* The text of a version file ("v000003", or "latest"). */
gchar *dvs_snapshot_history_read (DvsSnapshotHistory *h, const gchar *switch_uuid,
                                  const gchar *version, GError **error);
/* Deletes the oldest versions beyond @keep (0: keep all). */
gboolean dvs_snapshot_history_prune (DvsSnapshotHistory *h, const gchar *switch_uuid,
                                     guint keep, GError **error);

G_END_DECLS
