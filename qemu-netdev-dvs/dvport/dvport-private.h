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
/* DVswitch @id, or NULL with NO_SUCH_PORT. */
DvportSwitch *dvport_switch_get (DvsDvportHost *h, const gchar *id, GError **error);

G_END_DECLS
