/* Internals of DvsSwitch shared by its files: dvs-switch.c (ports),
 * switch-events.c (rte_vhost link events, gates), switch-policy.c
 * (policies), switch-state.c (saving and restoring runtime state),
 * switch-uplink.c (uplinks), switch-migration.c (hold, announce). */
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
  /* Gate (switch-events.c): while gated, a ready device is accepted but its
   * link stays down.  Both under the lock; changed under link_lock too. */
  gboolean gated;
  int ready_vid;              /* the device rte_vhost reported ready, -1 */
} SwitchPort;

/* Uplinks use the top datapath ports, one per forwarding domain: switch
 * ports (and runtime-area slots used as datapath ports) stay below
 * SWITCH_PORT_LIMIT. */
#define SWITCH_UPLINK_INDEX(domain) (DVS_MAX_PORTS - (domain))
#define SWITCH_PORT_LIMIT (DVS_MAX_PORTS - DVS_MAX_DOMAINS + 1)

/* A configured uplink (switch-uplink.c); main thread only. */
typedef struct {
  gchar *dvswitch;            /* DVswitch name or id, as configured */
  gchar *iface;               /* kernel interface */
  gchar *name;                /* switch-port name: "uplink:IFACE" */
  guint16 domain;             /* attached to this domain; 0: not attached */
  guint16 eth_port;           /* DPDK ethdev port id while attached */
  gchar *vdev;                /* DPDK vdev name while attached */
  struct rte_mempool *pool;   /* its receive buffers while attached */
  gchar *error;               /* why it could not attach, or NULL */
} SwitchUplink;

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
  DvsLinkDownFunc link_up_func;     /* dvs_switch_set_link_up_func */
  gpointer link_up_data;
  /* Serializes link transitions of vhost ports: device ready, device gone
   * and ungating (each decides and acts on the datapath under it). */
  GMutex link_lock;
  GPtrArray *uplinks;         /* SwitchUplink, in configuration order */
};

/* Detaches the uplinks of @domain (0: all) from the datapath. */
void switch_uplinks_detach (DvsSwitch *sw, guint16 domain);
void switch_uplink_free (SwitchUplink *u);

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
