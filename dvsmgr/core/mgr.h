/* dvsmgr's working model and the functions its parts call on one another.
 *
 * The model lives in memory and is written through to the store
 * (store/mgr-store.h) one transaction per operation: an operation validates
 * everything, builds one DvsMgrTxn, commits it, and only then changes the
 * in-memory objects, updates their D-Bus objects and marks the hosts whose
 * final state changed for a push.  A failed commit changes nothing.
 *
 * Ownership: every object is owned by its table in DvsMgr; the per-switch
 * indexes hold borrowed pointers.  Everything runs on the main loop. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include "dvs-dbus-generated.h"
#include "dvs-rpc-peer.h"
#include "mgr-store.h"

G_BEGIN_DECLS

#define DVS_MGR_BUS_NAME "net.dvsqemu.Manager1"
#define DVS_MGR_OBJECT_PATH "/net/dvsqemu/Manager1"

/* Errors of operations; each maps to a D-Bus error net.dvsqemu.Error.* */
#define DVS_MGR_ERROR (dvs_mgr_error_quark ())
GQuark dvs_mgr_error_quark (void);
typedef enum {
  DVS_MGR_ERROR_INVALID_ARGS,
  DVS_MGR_ERROR_NOT_FOUND,
  DVS_MGR_ERROR_EXISTS,
  DVS_MGR_ERROR_BUSY,
  DVS_MGR_ERROR_NOT_AUTHORIZED,
  DVS_MGR_ERROR_HOST_UNREACHABLE,
  DVS_MGR_ERROR_FAILED,
} DvsMgrErrorCode;

typedef struct _DvsMgr DvsMgr;
typedef struct _MgrPush MgrPush;
typedef struct _MgrHosts MgrHosts;

typedef struct {
  gchar *uuid;
  gchar *name;
  gchar *forwarding_class;
  guint mtu;
  gchar *transport_zone;        /* "" : none required */
  GPtrArray *hosts;             /* member host names (gchar *) */
  guint64 generation;
  guint64 next_port;            /* port key counter */
  gboolean history_auto;        /* save a version after every change */
  guint history_keep;           /* versions kept (0: all) */
  GHashTable *port_groups;      /* uuid → MgrPortGroup (borrowed) */
  GHashTable *ports;            /* key → MgrPort (borrowed) */
  GHashTable *by_host;          /* host → GHashTable key → MgrPort (borrowed) */
  GHashTable *incoming;         /* key → MgrPort migrating live (borrowed) */
  DvsObjectSkeleton *object;
} MgrSwitch;

typedef struct {
  gchar *uuid;
  gchar *name;
  gchar *switch_uuid;
  JsonNode *config;             /* object */
  GHashTable *ports;            /* key → MgrPort (borrowed) */
  DvsObjectSkeleton *object;
  gchar *network;               /* bound logical network's UUID, NULL: none
                                 * (placement/, docs/placement.md) */
} MgrPortGroup;

typedef struct {
  gchar *key;
  gchar *switch_uuid;
  gchar *pg_uuid;
  JsonNode *config;             /* overrides: object or NULL */
  gchar *host;                  /* delegated to, NULL: none */
  gchar *connection;            /* NULL: DVPORT_NO_CONNECTION */
  gchar *vm, *mac, *iface;      /* the connectee, NULL when free */
  /* runtime state reported by the owning host (kind "port_state") */
  gchar *link;                  /* "up", "down", "unknown" */
  JsonNode *stats;              /* object, NULL: never reported */
  gint64 stats_time;
  JsonNode *checkpoint;         /* the host's last full state (counters and
                                 * class states), NULL: none reported */
  gboolean handover;            /* moved: the new host's document carries
                                 * the checkpoint until that host reports */
  /* A live migration in progress (mgr-migrate.c); memory only */
  gchar *incoming;              /* the destination host, NULL: none */
  JsonNode *incoming_state;     /* the owner's state at its link down since
                                 * the migration began, NULL: not yet */
  gint64 incoming_since;        /* monotonic µs: accepted */
  gint64 incoming_state_at;     /* monotonic µs: the state arrived */
  DvsObjectSkeleton *object;
} MgrPort;

typedef struct {
  gchar *name;
  gchar *libvirt_uri;
  GPtrArray *uplinks, *transport_zones;   /* as last reported (gchar *) */
  gint64 last_seen;
  /* while connected */
  DvsRpcPeer *peer;                       /* NULL: not connected */
  gchar *transport, *address;
  DvsObjectSkeleton *object;
  GPtrArray *hidden_networks;             /* network UUIDs hidden on this
                                           * host (gchar *), NULL: none */
  gchar *migration_uri;                   /* where QEMU's migration stream
                                           * goes (tcp://ADDR), NULL: derived
                                           * (placement/placement-migrate.c) */
} MgrHost;

typedef struct {
  gchar *uuid, *name, *type, *transport_zone;
  guint segment;
  DvsObjectSkeleton *object;
} MgrNetwork;

struct _DvsMgr {
  DvsMgrStore *store;
  gchar *manager_uuid;
  GHashTable *switches;         /* uuid → MgrSwitch (owned) */
  GHashTable *port_groups;      /* uuid → MgrPortGroup (owned) */
  GHashTable *ports;            /* key → MgrPort (owned) */
  GHashTable *hosts;            /* name → MgrHost (owned) */
  GHashTable *networks;         /* uuid → MgrNetwork (owned) */
  /* D-Bus: NULL until exported (and in unit tests) */
  GDBusConnection *bus;
  GDBusObjectManagerServer *objects;
  DvsManager1 *manager_iface;
  gboolean polkit;              /* FALSE: --authorization=none */
  MgrPush *push;
  MgrHosts *host_server;
  /* snapshots: the version history (NULL: none) and automatic saves */
  struct _DvsSnapshotHistory *history;
  GHashTable *autosave;         /* switch uuid set, saved at the next idle */
  guint autosave_id;
  /* placement/: host status and health, libvirt connections, migration
   * jobs (placement/placement.h); NULL until first used */
  struct _MgrPlacement *placement;
};

/* mgr-model.c: objects, their store form, loading, host documents. */
DvsMgr *dvs_mgr_new (DvsMgrStore *store, GError **error);   /* loads it all */
void dvs_mgr_free (DvsMgr *mgr);
/* Empty objects (tables and arrays created) and their destructors, for
 * code that builds objects before they are inserted in the tables. */
MgrSwitch *dvs_mgr_switch_alloc (const gchar *uuid);
MgrHost *dvs_mgr_host_alloc (const gchar *name);
void dvs_mgr_switch_free (MgrSwitch *sw);
void dvs_mgr_port_group_free (MgrPortGroup *pg);
void dvs_mgr_port_free (MgrPort *p);
void dvs_mgr_host_free (MgrHost *h);
void dvs_mgr_network_free (MgrNetwork *n);
MgrSwitch *dvs_mgr_switch_lookup (DvsMgr *mgr, const gchar *uuid, GError **error);
MgrPortGroup *dvs_mgr_port_group_lookup (DvsMgr *mgr, const gchar *uuid, GError **error);
MgrPort *dvs_mgr_port_lookup (DvsMgr *mgr, const gchar *key, GError **error);
MgrHost *dvs_mgr_host_lookup (DvsMgr *mgr, const gchar *name, GError **error);
gboolean dvs_mgr_switch_has_host (MgrSwitch *sw, const gchar *host);
/* The values of @table (NULL: none) in the order of their keys: by
 * number for port keys ("x-9" before "x-10"), else strcmp.  Borrowed. */
GPtrArray *dvs_mgr_sorted_values (GHashTable *table, gboolean port_keys);
/* A host name names files on the host and is a certificate's CN: 1-64
 * letters, digits, '.', '-' or '_'. */
gboolean dvs_mgr_host_name_valid (const gchar *name);
/* The switch named @name, or NULL. */
MgrSwitch *dvs_mgr_switch_by_name (DvsMgr *mgr, const gchar *name);
JsonNode *dvs_mgr_switch_to_store (MgrSwitch *sw);
JsonNode *dvs_mgr_port_group_to_store (MgrPortGroup *pg);
JsonNode *dvs_mgr_port_to_store (MgrPort *p);
JsonNode *dvs_mgr_port_state_to_store (MgrPort *p);
JsonNode *dvs_mgr_host_to_store (MgrHost *h);
JsonNode *dvs_mgr_network_to_store (MgrNetwork *n);
/* Indexes a port's delegation (host may be NULL). */
void dvs_mgr_port_set_host (DvsMgr *mgr, MgrPort *p, const gchar *host);
/* The final state @host must hold of @sw: the switch.apply document
 * (docs/host-channel.md), ports sorted by key. */
JsonNode *dvs_mgr_host_document (DvsMgr *mgr, MgrSwitch *sw, const gchar *host);
/* Members shared by the host document and the snapshot: a "port_groups"
 * array (each group's UUID under @id_member, name, config) and the start
 * of a port object (key, port_group, config when set; the caller ends it). */
void dvs_mgr_json_port_groups (JsonBuilder *b, GPtrArray *groups, const gchar *id_member);
void dvs_mgr_json_port_begin (JsonBuilder *b, MgrPort *p);
/* Validates @doc with the host's own parser and returns its digest. */
gchar *dvs_mgr_document_digest (JsonNode *doc, GError **error);
/* "3f2a9c1e-17": the switch's UUID prefix and a counter, unique in a
 * manager, at most 32 characters (the host's limit for port keys). */
gchar *dvs_mgr_new_port_key (MgrSwitch *sw);
/* A node holding a new empty object. */
JsonNode *dvs_mgr_empty_object (void);
/* Parses a JSON object text ("" → {}); INVALID_ARGS naming @what. */
JsonNode *dvs_mgr_parse_object (const gchar *text, const gchar *what, GError **error);
/* A port group or port config: only "vlan" and "policy", checked with the
 * host's own rules. */
gboolean dvs_mgr_check_port_config (JsonNode *config, const gchar *what, GError **error);

/* mgr-ops.c: the operations.  Each validates, commits one transaction,
 * updates memory and D-Bus, and schedules pushes. */
MgrSwitch *dvs_mgr_create_switch (DvsMgr *mgr, const gchar *name, const gchar *config_json, GError **error);
gboolean dvs_mgr_switch_set_config (DvsMgr *mgr, MgrSwitch *sw, const gchar *config_json, GError **error);
MgrPortGroup *dvs_mgr_add_port_group (DvsMgr *mgr, MgrSwitch *sw, const gchar *name, const gchar *config_json, guint num_ports, GError **error);
gboolean dvs_mgr_delete_switch (DvsMgr *mgr, MgrSwitch *sw, GError **error);
gboolean dvs_mgr_join_host (DvsMgr *mgr, MgrSwitch *sw, const gchar *host, GError **error);
gboolean dvs_mgr_leave_host (DvsMgr *mgr, MgrSwitch *sw, const gchar *host, GError **error);
gboolean dvs_mgr_port_group_set_config (DvsMgr *mgr, MgrPortGroup *pg, const gchar *config_json, GError **error);
GPtrArray *dvs_mgr_port_group_add_ports (DvsMgr *mgr, MgrPortGroup *pg, guint count, GError **error);
MgrPort *dvs_mgr_port_group_allocate (DvsMgr *mgr, MgrPortGroup *pg, GError **error);
gboolean dvs_mgr_port_group_delete (DvsMgr *mgr, MgrPortGroup *pg, GError **error);
gchar *dvs_mgr_port_connect (DvsMgr *mgr, MgrPort *p, const gchar *host, const gchar *vm, const gchar *mac, const gchar *iface, GError **error);
gboolean dvs_mgr_port_disconnect (DvsMgr *mgr, MgrPort *p, GError **error);
gchar *dvs_mgr_port_revoke (DvsMgr *mgr, MgrPort *p, GError **error);
/* Delegates a connected DVport to another member host, keeping its
 * connection; its last checkpoint goes along.  Refused while its link is
 * up (the vNIC runs on the old host). */
gboolean dvs_mgr_port_move (DvsMgr *mgr, MgrPort *p, const gchar *host, GError **error);
gboolean dvs_mgr_port_set_config (DvsMgr *mgr, MgrPort *p, const gchar *config_json, GError **error);
MgrHost *dvs_mgr_register_host (DvsMgr *mgr, const gchar *name, const gchar *config_json, GError **error);
gboolean dvs_mgr_unregister_host (DvsMgr *mgr, MgrHost *h, GError **error);
MgrNetwork *dvs_mgr_create_network (DvsMgr *mgr, const gchar *name, const gchar *type, guint segment, const gchar *tz, GError **error);
gboolean dvs_mgr_delete_network (DvsMgr *mgr, MgrNetwork *n, GError **error);
/* DVports delegated to @host, all switches together. */
guint dvs_mgr_host_port_count (DvsMgr *mgr, const gchar *host);
/* Runtime state from the owning host: kept when newer; persisted. */
gboolean dvs_mgr_port_report_state (DvsMgr *mgr, const gchar *host, JsonObject *state, GError **error);

/* mgr-migrate.c: live migration of a DVport (docs/migration.md). */
/* port.migrate from @host (the destination): checks the move, delegates
 * the port there as incoming and returns @host's document (the answer). */
JsonNode *dvs_mgr_migrate_prepare (DvsMgr *mgr, const gchar *host, JsonObject *params,
                                   GError **error);
/* A port.state (checked: @link "up" or "down", @stats an object, null or
 * NULL, @t its time) of migrating port @p from its destination: link up
 * commits the migration, down ends it. */
gboolean dvs_mgr_migrate_incoming_report (DvsMgr *mgr, MgrPort *p, const gchar *link,
                                          JsonNode *stats, gint64 t, GError **error);
/* After the owner's port.state was taken: its link down ships the state to
 * the destination; a link up again (the source resumed) cancels. */
void dvs_mgr_migrate_owner_report (DvsMgr *mgr, MgrPort *p, const gchar *link, JsonNode *cp);
/* Ends @p's migration, if any, without moving it (@why for the log). */
void dvs_mgr_migrate_cancel (DvsMgr *mgr, MgrPort *p, const gchar *why);

/* snapshot/snapshot-auto.c: a configuration change of @sw; saves a version
 * at the next idle when the switch's history.auto is set. */
void dvs_mgr_snapshot_changed (DvsMgr *mgr, MgrSwitch *sw);
void dvs_mgr_snapshot_stop (DvsMgr *mgr);

/* mgr-dbus.c: D-Bus objects.  All no-ops while mgr->objects is NULL. */
void dvs_mgr_dbus_export (DvsMgr *mgr, GDBusConnection *bus);
void dvs_mgr_dbus_switch (DvsMgr *mgr, MgrSwitch *sw);        /* add or refresh */
void dvs_mgr_dbus_port_group (DvsMgr *mgr, MgrPortGroup *pg);
void dvs_mgr_dbus_port (DvsMgr *mgr, MgrPort *p);
void dvs_mgr_dbus_host (DvsMgr *mgr, MgrHost *h);
void dvs_mgr_dbus_network (DvsMgr *mgr, MgrNetwork *n);
void dvs_mgr_dbus_unexport (DvsMgr *mgr, DvsObjectSkeleton **object);
void dvs_mgr_dbus_sync_count (DvsMgr *mgr);

/* mgr-polkit.c: runs @func(mgr, invocation, data) once polkit allows
 * @action for the invocation's sender; else returns NotAuthorized. */
typedef void (*DvsMgrAuthorizedFunc) (DvsMgr *mgr, GDBusMethodInvocation *invocation, gpointer data);
void dvs_mgr_authorize (DvsMgr *mgr, GDBusMethodInvocation *invocation,
                        const gchar *action, DvsMgrAuthorizedFunc func,
                        gpointer data);

/* push/push-engine.c: the final-state push with re-push and rip queues. */
MgrPush *mgr_push_new (DvsMgr *mgr, guint retry_ms, guint timeout_ms, guint max_inflight);
void mgr_push_free (MgrPush *push);
/* Marks (@host, @sw) for a final-state push; NULL @host: every member. */
void mgr_push_mark (MgrPush *push, MgrSwitch *sw, const gchar *host);
/* The port set of (@host, @sw) lost ports: a failure goes on the rip queue. */
void mgr_push_mark_removal (MgrPush *push, MgrSwitch *sw, const gchar *host);
/* @host must drop switch @uuid (it left, or the switch is gone). */
void mgr_push_rip_switch (MgrPush *push, const gchar *host, const gchar *uuid);
/* Host events from the host server. */
void mgr_push_host_connected (MgrPush *push, MgrHost *h, JsonObject *digests);
void mgr_push_host_disconnected (MgrPush *push, MgrHost *h);
/* Forget (@host, @uuid) entirely (switch deleted / host left). */
void mgr_push_forget (MgrPush *push, const gchar *host, const gchar *uuid);
/* The queues as a JSON array (GetOutOfSync). */
JsonNode *mgr_push_out_of_sync (MgrPush *push);
guint mgr_push_out_of_sync_count (MgrPush *push);
gboolean mgr_push_host_in_sync (MgrPush *push, const gchar *host);
void mgr_push_resync_host (MgrPush *push, const gchar *host);
/* TRUE when nothing is pending or in flight (for the benchmark's clock). */
gboolean mgr_push_idle (MgrPush *push);

/* What the push engine has done since start, for the metrics
 * (core/mgr-metrics.c).  Latency: from sending a call to its answer or
 * failure, pushes that never went out (host not connected) left out. */
#define MGR_PUSH_LATENCY_BUCKETS 10
extern const gdouble mgr_push_latency_bounds[MGR_PUSH_LATENCY_BUCKETS]; /* seconds */
typedef struct {
  guint64 succeeded, failed, timed_out;   /* answered calls by outcome */
  guint64 latency_count[MGR_PUSH_LATENCY_BUCKETS];  /* <= bound, not cumulative */
  guint64 latency_total;                  /* all of them, +Inf included */
  gdouble latency_sum;                    /* seconds */
  guint repush_queue, rip_queue;          /* entries now */
  guint inflight, pending;
} MgrPushStats;
void mgr_push_stats (MgrPush *push, MgrPushStats *out);

/* hosts/host-server.c: the host channel's server end. */
typedef struct {
  const gchar *unix_path;       /* NULL: no unix listener */
  const gchar *tls_listen;      /* "ADDR:PORT", NULL: no TLS listener */
  const gchar *tls_cert, *tls_key, *tls_ca;
  guint heartbeat_ms;
} MgrHostsConfig;
MgrHosts *mgr_hosts_new (DvsMgr *mgr, const MgrHostsConfig *config, GError **error);
void mgr_hosts_free (MgrHosts *hosts);
/* Closes @h's connection (unregistered, or a protocol breach). */
void mgr_hosts_disconnect (MgrHosts *hosts, MgrHost *h);

G_END_DECLS
