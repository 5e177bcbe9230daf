/* Network-aware placement (docs/placement.md): each host's last reported
 * status and the health score computed from it, logical networks bound to
 * port groups and hidden on hosts, the placement check, and — through a
 * libvirt connection per host — CPU and memory, PlaceVM and MigrateVM.
 *
 * Everything here runs on the main loop and never blocks: libvirt calls run
 * on worker threads (placement-libvirt.c) and the check reads only what
 * those threads cached.  The state lives in mgr->placement, created on
 * first use; dvs_mgr_free() frees it. */
#pragma once

#include "core/mgr.h"

G_BEGIN_DECLS

/* A host is healthy enough to take a VM at this score or above. */
#define DVS_MGR_HEALTH_THRESHOLD 50
/* A heartbeat older than this (µs) is stale. */
#define DVS_MGR_HEARTBEAT_STALE_US (15 * G_USEC_PER_SEC)

/* ---- the check (placement-check.c) ---------------------------------- */

/* TRUE when DVport @p (connected) may run on @host; else FALSE with one
 * human-readable gchar * per failed criterion appended to @reasons (the
 * caller owns the array; its element free func is g_free).  Criteria:
 * host registered and connected; member of the port's DVswitch and in the
 * switch's transport zone if it has one; the port group's network (if
 * bound) visible on the host; health at least DVS_MGR_HEALTH_THRESHOLD; a
 * free DVport slot when the port is not on @host already; CPU and memory
 * when @host has a libvirt URI and the VM's needs are cached.  Never
 * blocks: reads the model and the caches only. */
gboolean dvs_mgr_placement_check_port (DvsMgr *mgr, MgrPort *p, const gchar *host,
                                       GPtrArray *reasons);

/* The connected DVports of VM @vm (its UUID as the ports record it, or its
 * name or UUID as a libvirt host reports it), sorted by key; borrowed.
 * Empty when none: the caller says NOT_FOUND. */
GPtrArray *dvs_mgr_placement_vm_ports (DvsMgr *mgr, const gchar *vm);
/* The host VM @vm (with connected DVports @ports, not empty) runs on: the
 * owner of a port whose link is up (reported at once), else the one whose
 * libvirt runs it (refreshed every few seconds), else its DVports' owner.
 * Borrowed. */
const gchar *dvs_mgr_placement_vm_host (DvsMgr *mgr, GPtrArray *ports, const gchar *vm);
/* Every port of @ports on @host, reasons de-duplicated. */
gboolean dvs_mgr_placement_check_vm (DvsMgr *mgr, GPtrArray *ports, const gchar *host,
                                     GPtrArray *reasons);
/* The best host that passes for @vm other than the one it runs on, with
 * its score 0–100; NULL with NOT_FOUND (no such VM) or FAILED naming each
 * host's reasons. */
gchar *dvs_mgr_placement_place_vm (DvsMgr *mgr, const gchar *vm, guint *score, GError **error);

/* ---- host status and health (placement-health.c) -------------------- */

/* The status a host sent with host.heartbeat (docs/host-channel.md):
 * validated here; kept with what it says compared with the report before.
 * FALSE with INVALID_ARGS when malformed (nothing kept). */
gboolean dvs_mgr_placement_host_status (DvsMgr *mgr, MgrHost *h, JsonNode *status,
                                        GError **error);
/* @h's health 0–100 now; @reasons (may be NULL) gets one gchar * per
 * deduction ("final state not in sync"). */
guint dvs_mgr_placement_health (DvsMgr *mgr, MgrHost *h, GPtrArray *reasons);
/* Free DVport slots the host last reported; FALSE: none reported. */
gboolean dvs_mgr_placement_free_ports (DvsMgr *mgr, const gchar *host, guint *free_ports);
/* The last status as JSON text ("{}": none). */
gchar *dvs_mgr_placement_status_json (DvsMgr *mgr, const gchar *host);

/* ---- networks on hosts (placement-networks.c) ----------------------- */

/* A network by UUID or name, or NULL with NOT_FOUND. */
MgrNetwork *dvs_mgr_network_resolve (DvsMgr *mgr, const gchar *ref, GError **error);
/* Whether @h sees @n: its transport zone is among @h's and it is not
 * hidden there.  @why (may be NULL) says why not. */
gboolean dvs_mgr_network_visible (MgrHost *h, MgrNetwork *n, gchar **why);
/* Hide or unhide network @n on @h: one transaction on the host's record. */
gboolean dvs_mgr_host_hide_network (DvsMgr *mgr, MgrHost *h, MgrNetwork *n, gboolean hide,
                                    GError **error);
/* Bind port group @pg to @n (NULL: unbind).  A VLAN network gives the
 * group its segment as "vlan" when the group's config has none; the config
 * and the binding commit in one transaction. */
gboolean dvs_mgr_port_group_set_network (DvsMgr *mgr, MgrPortGroup *pg, MgrNetwork *n,
                                         GError **error);

/* ---- libvirt (placement-libvirt.c) ---------------------------------- */

/* What a host's libvirt last said (copies; FALSE: nothing cached). */
typedef struct {
  guint cpus;                   /* virNodeInfo.cpus */
  guint64 memory_kib;           /* virNodeInfo.memory */
  guint64 free_kib;             /* virNodeGetFreeMemory / 1024 */
  gint64 time;                  /* real time of the refresh */
} MgrNodeInfo;
gboolean dvs_mgr_libvirt_node_info (DvsMgr *mgr, const gchar *host, MgrNodeInfo *out);
/* A domain a host's libvirt runs (name or UUID): its UUID, name, vCPUs and
 * memory (KiB).  FALSE: not seen on that host. */
typedef struct {
  gchar uuid[40], name[256];
  guint vcpus;
  guint64 memory_kib;
  gboolean active;
} MgrDomainInfo;
gboolean dvs_mgr_libvirt_domain (DvsMgr *mgr, const gchar *host, const gchar *vm,
                                 MgrDomainInfo *out);
/* Any host's domain named @vm (name or UUID); its host in @host_out (may be
 * NULL, borrowed). */
gboolean dvs_mgr_libvirt_find_domain (DvsMgr *mgr, const gchar *vm, MgrDomainInfo *out,
                                      const gchar **host_out);
/* The last libvirt error of @host ("" none, NULL no URI). */
const gchar *dvs_mgr_libvirt_error (DvsMgr *mgr, const gchar *host);
/* Refreshes every host's cache now (asynchronously) and then every
 * @period_ms; also connects hosts registered later. */
void dvs_mgr_libvirt_start (DvsMgr *mgr, guint period_ms);
/* Calls @func on the main loop once every host's refresh started now has
 * finished (tests, and MigrateVM before it decides). */
void dvs_mgr_libvirt_refresh (DvsMgr *mgr, GSourceFunc func, gpointer data);

/* ---- migration jobs (placement-migrate.c) --------------------------- */

/* Starts a live migration of @vm to @host ("": PlaceVM's choice) after the
 * check passed; returns the job's object path.  The migration runs on a
 * worker thread through the source host's libvirt connection. */
gchar *dvs_mgr_migrate_vm (DvsMgr *mgr, const gchar *vm, const gchar *host, GError **error);
/* Where QEMU sends @h's incoming migration streams: "tcp://ADDR[:PORT]",
 * "rdma://..." or "unix://..." (at most 256 characters); NULL or "" goes
 * back to the derived default.  One transaction on the host's record. */
gboolean dvs_mgr_host_set_migration_uri (DvsMgr *mgr, MgrHost *h, const gchar *uri,
                                         GError **error);
/* The job at @path (borrowed; NULL: none, or forgotten 10 min after it
 * ended). */
DvsMigration1 *dvs_mgr_migration_get (DvsMgr *mgr, const gchar *path);

/* ---- D-Bus (placement-dbus.c) --------------------------------------- */

/* Manager1's CheckPlacement, PlaceVM and MigrateVM. */
void dvs_mgr_placement_dbus_manager (DvsMgr *mgr, DvsManager1 *iface);
/* Host1's and PortGroup1's placement methods and properties: connects the
 * methods once (@connect) and refreshes the properties. */
void dvs_mgr_placement_dbus_host (DvsMgr *mgr, MgrHost *h, DvsHost1 *iface, gboolean connect);
void dvs_mgr_placement_dbus_port_group (DvsMgr *mgr, MgrPortGroup *pg, DvsPortGroup1 *iface,
                                        gboolean connect);

/* ---- life cycle (placement-health.c) -------------------------------- */

typedef struct _MgrPlacement MgrPlacement;
MgrPlacement *dvs_mgr_placement_get (DvsMgr *mgr);   /* creates on first use */
/* Refreshes the hosts' Health properties every @period_ms. */
void dvs_mgr_placement_start (DvsMgr *mgr, guint period_ms);
void dvs_mgr_placement_free (MgrPlacement *pl);     /* NULL ok */

G_END_DECLS
