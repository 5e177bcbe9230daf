/* Internals of DvsDvportHost shared by its files: dvport-host.c (apply,
 * attach, detach, checkpoints), dvport-views.c (switch.get, dvport.show),
 * dvport-restore.c (start-up from the local store). */
#pragma once

#include "dvport/dvport-host.h"
#include "dvport/dvport-spec.h"

G_BEGIN_DECLS

/* One DVswitch this host is a member of. */
typedef struct {
  DvsDvswitchSpec *spec;         /* as last applied */
  guint16 domain;                /* its forwarding domain in the datapath */
} DvportSwitch;

/* What this host knows about one DVport beyond its spec.  DVport keys are
 * unique on a host (across its DVswitches): they name its switch port. */
typedef struct {
  gchar *key;
  gchar *switch_id;
  gboolean attached;
  gchar *socket;
  gboolean server;
  gchar *attached_connection;
  gint slot;                     /* runtime-area slot while attached, -1 */
  guint64 fwd_changes;           /* forwarding-class changes at the last checkpoint */
  DvsPortState *checkpoint;      /* last saved runtime state, NULL: none */
  gboolean link_up;              /* as last told to the link func */
  /* Live migration to this host (dvport-migration.c) */
  gboolean gated;                /* attached, waiting for the source's state */
  gboolean incoming_loaded;      /* the source's state is in the port */
  gint64 gated_ready_since;      /* monotonic µs the vNIC was ready while
                                  * gated, 0: not ready */
} DvportRuntime;

struct _DvsDvportHost {
  DvsSwitch *sw;
  DvsLocalStore *store;
  DvsRuntimeArea *area;
  GHashTable *switches;          /* id → DvportSwitch */
  GHashTable *rt;                /* key → DvportRuntime */
  guint checkpoint_timer;
  DvsDvportLinkFunc link_func;   /* see dvs_dvport_host_set_link_func */
  gpointer link_data;
  guint link_timer;              /* polls for link ups while link_func is set */
};

/* The runtime record of DVport @key of switch @switch_id, created if missing. */
DvportRuntime *dvport_runtime_get (DvsDvportHost *h, const gchar *switch_id,
                                   const gchar *key);
/* The spec of DVport @key of switch @switch_id, or NULL with NO_SUCH_PORT. */
DvsDvportSpec *dvport_find_port (DvsDvportHost *h, const gchar *switch_id,
                                 const gchar *key, GError **error);
/* Writes @r's checkpoint to the local store. */
void dvport_save_checkpoint (DvsDvportHost *h, DvportRuntime *r);
/* Makes @st (consumed) @r's checkpoint and saves it. */
void dvport_set_checkpoint (DvsDvportHost *h, DvportRuntime *r, DvsPortState *st);
/* The state @p's document brings ("state": a checkpoint from @from, for
 * logs), checked to be @p's and parsed; NULL (warned) when it is not. */
DvsPortState *dvport_spec_state (const gchar *switch_id, const DvsDvportSpec *p,
                                 const gchar *from);

/* dvport-migration.c: a DVport arriving by live migration. */
/* After attach: an incoming port without the source's state yet forwards
 * nothing — its link up is gated and frames for it are held. */
void dvport_incoming_attached (DvsDvportHost *h, DvportRuntime *r,
                               const DvsDvportSpec *p);
/* At apply, for each port (@op: its previous spec, NULL if new): loads the
 * source's state when it arrives and ends the gate; clears what the
 * migration set up once it is over.  TRUE when @p's state was taken care
 * of (the generic adoption of a moved port's state must not run). */
gboolean dvport_incoming_apply (DvsDvportHost *h, const gchar *switch_id,
                                const DvsDvportSpec *p, const DvsDvportSpec *op);
/* From the link poll: a gated port whose vNIC has run for too long without
 * the source's state starts with what it has. */
void dvport_incoming_poll (DvsDvportHost *h, DvportRuntime *r);

/* DVswitch @id, or NULL with NO_SUCH_PORT. */
DvportSwitch *dvport_switch_get (DvsDvportHost *h, const gchar *id, GError **error);

G_END_DECLS
