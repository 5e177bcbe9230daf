/* The placement state shared by the files of placement/ (not for others:
 * they use placement.h). */
#pragma once

#include "placement/placement.h"

G_BEGIN_DECLS

/* What a host's last status said, and what changed since the one before. */
typedef struct {
  JsonNode *json;               /* the status object as received */
  gint64 time;                  /* real time it arrived */
  guint free_ports;
  guint64 drops;
  guint64 drops_rise;           /* drops minus the previous report's */
  gdouble load;                 /* datapath busy fraction, < 0: unknown */
  guint64 busy_cycles, tsc_hz;
  gint64 host_time;             /* the host's clock in the report (µs) */
} HostStatus;

typedef struct _LvHost LvHost;         /* placement-libvirt.c */
typedef struct _MigJob MigJob;         /* placement-migrate.c */

struct _MgrPlacement {
  DvsMgr *mgr;
  GHashTable *status;           /* host name → HostStatus (owned) */
  guint health_timer;
  /* libvirt: host name → LvHost (a reference) */
  GHashTable *lv;
  guint lv_timer;
  guint lv_pending;             /* refreshes in flight */
  GPtrArray *lv_waiters;        /* GSource closures (LvWaiter) */
  /* migration jobs: object path → MigJob (a reference) */
  GHashTable *jobs;
  guint next_job;
};

/* placement-libvirt.c */
void mgr_lv_free_all (MgrPlacement *pl);
/* A new reference to @host's libvirt connection (virConnectPtr as
 * gpointer), NULL when not connected.  Any thread. */
gpointer mgr_lv_conn_ref (DvsMgr *mgr, const gchar *host);
/* A reference to @host's libvirt connection holder (LvHost), NULL when the
 * host has no libvirt URI.  Main loop; unref from any thread. */
gpointer mgr_lv_host_ref (DvsMgr *mgr, const gchar *host);
void mgr_lv_host_unref (gpointer lv);
/* A live connection of @lv (virConnectPtr, a reference for the caller),
 * opened if needed, up to @attempts tries with backoff between them; NULL
 * with *@error set when none worked.  Blocks: worker threads only. */
gpointer mgr_lv_host_connect (gpointer lv, guint attempts, gchar **error);

/* placement-migrate.c */
void mgr_migrate_free_all (MgrPlacement *pl);

G_END_DECLS
