/* Internals of DvsDvportHost shared by its files: dvport-host.c (apply,
 * attach, detach, checkpoints), dvport-views.c (switch.get, dvport.show),
 * dvport-restore.c (start-up from the local store). */
#pragma once

#include "dvport/dvport-host.h"
#include "dvport/dvport-spec.h"

G_BEGIN_DECLS

/* What this host knows about one DVport beyond its spec. */
typedef struct {
  gchar *key;
  gboolean attached;
  gchar *socket;
  gboolean server;
  gchar *attached_connection;
  gint slot;                     /* runtime-area slot while attached, -1 */
  guint64 fwd_changes;           /* forwarding-class changes at the last checkpoint */
  DvsPortState *checkpoint;      /* last saved runtime state, NULL: none */
} DvportRuntime;

struct _DvsDvportHost {
  DvsSwitch *sw;
  DvsLocalStore *store;
  DvsRuntimeArea *area;
  DvsDvswitchSpec *spec;         /* NULL: no DVswitch here */
  GHashTable *rt;                /* key → DvportRuntime */
  guint checkpoint_timer;
};

/* The runtime record of DVport @key, created if missing. */
DvportRuntime *dvport_runtime_get (DvsDvportHost *h, const gchar *key);
/* The spec of DVport @key of switch @switch_id, or NULL with NO_SUCH_PORT. */
DvsDvportSpec *dvport_find_port (DvsDvportHost *h, const gchar *switch_id,
                                 const gchar *key, GError **error);
gboolean dvport_check_switch (DvsDvportHost *h, const gchar *id, GError **error);

G_END_DECLS
