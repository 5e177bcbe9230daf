/* Internals of DvsSwitch shared by its files: dvs-switch.c (ports),
 * switch-events.c (rte_vhost link events), switch-policy.c (policies),
 * switch-state.c (saving and restoring runtime state). */
#pragma once

#include "switch/dvs-switch.h"
#include "vhost/vhost-port.h"

G_BEGIN_DECLS

typedef struct {
  gchar *name;
  gchar *socket;
  gboolean server;
  gboolean removing;          /* being torn down: refuse new devices */
  guint64 seq;                /* order of addition */
  struct dvs_vlan_config vlan;
  DvsPortPolicy policy;
} SwitchPort;

struct _DvsSwitch {
  gchar *name;
  gboolean busy_poll;
  guint mac_aging;
  struct dvs_datapath *dp;
  /* Guards ports[]: changed on the main thread, looked up by rte_vhost's. */
  GMutex lock;
  SwitchPort *ports[DVS_MAX_PORTS];
  guint64 next_seq;
  GMainContext *context;      /* where link-down notifications run */
  GPtrArray *pending;         /* GSource: link-down notifications queued */
  DvsLinkDownFunc link_down_func;
  gpointer link_down_data;
};

/* Index of the port named @name / on socket @path, or -1.  Lock held. */
int switch_find_by_name (DvsSwitch *sw, const gchar *name);
int switch_find_by_socket (DvsSwitch *sw, const gchar *path);
/* Sets NO_SUCH_PORT for @name; returns FALSE. */
gboolean switch_no_such_port (const gchar *name, GError **error);
/* Index of port @name (takes the lock), or -1 with NO_SUCH_PORT; with
 * @live_only a port being removed counts as gone. */
int switch_port_index (DvsSwitch *sw, const gchar *name, gboolean live_only,
                       GError **error);

/* @keep_state: filters becoming active keep the state found in the port's
 * runtime memory (adopted after a restart) instead of starting fresh. */
gboolean switch_set_policy (DvsSwitch *sw, const gchar *name, JsonNode *policy,
                            gboolean keep_state, GError **error);
/* Loads @st into datapath port @idx; @fwd_only: only the forwarding class's
 * state (counters and filter states were adopted). */
gboolean switch_restore_state (DvsSwitch *sw, int idx, const gchar *name,
                               const DvsPortState *st, gboolean fwd_only,
                               GError **error);

extern const DvsVhostListener dvs_switch_vhost_listener;

G_END_DECLS
