/* The switch as the control plane sees it: named ports bound to vhost-user
 * sockets, their VLAN config, and the datapath that moves their frames.
 * Methods run on the main thread; rte_vhost's thread reports link events
 * through the vhost listener.  Errors use DVS_JSONRPC_ERROR codes, so the
 * control socket can pass them on as they are. */
#pragma once

#include <glib.h>
#include "datapath/datapath.h"
#include "switch/port-policy.h"

G_BEGIN_DECLS

typedef struct {
  const gchar *name;
  int cpu;                      /* datapath CPU, -1 unpinned */
  gboolean busy_poll;
  guint poll_ms;                /* idle sleep bound while an uplink is up; 0: 1 */
  guint mac_aging;              /* seconds */
  guint mbufs;
  const struct dvs_port_io *io; /* vhost ports' io; NULL: rte_vhost (tests) */
} DvsSwitchOptions;

typedef struct {
  gchar *name;
  gchar *socket;
  gboolean server;
  gboolean link_up;
  gboolean gated;               /* dvs_switch_port_set_gate */
  gboolean device_ready;        /* a vhost-user device runs on the socket
                                 * (its link is up, or gated) */
  gboolean hold;                /* dvs_switch_port_set_hold */
  guint queues;                 /* queue pairs the guest enabled (link up) */
  struct dvs_vlan_config vlan;
  DvsPortPolicy policy;
  struct dvs_port_stats stats;
} DvsPortInfo;

void dvs_port_info_free (DvsPortInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsPortInfo, dvs_port_info_free)

/* A port's runtime state as the switch can save and restore it: counters,
 * the forwarding class's per-port state (learned MACs) and each active
 * filter class's state, every class state an opaque versioned blob. */
typedef struct {
  struct dvs_port_stats stats;
  guint16 fwd_version;
  GBytes *fwd_state;                          /* NULL: none */
  guint16 filter_version[DVS_FILTER_COUNT];
  GBytes *filter_state[DVS_FILTER_COUNT];     /* NULL: none */
} DvsPortState;

void dvs_port_state_free (DvsPortState *state);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsPortState, dvs_port_state_free)

typedef struct _DvsSwitch DvsSwitch;

/* Called on the main context after a port's link went down (the datapath no
 * longer uses it; its state is quiet and can be saved). */
typedef void (*DvsLinkDownFunc) (DvsSwitch *sw, const gchar *port, gpointer user_data);

/* EAL must be initialised.  Starts the datapath thread.  One per process. */
DvsSwitch *dvs_switch_new (const DvsSwitchOptions *opts, GError **error);
/* Removes every port (unregistering its socket), stops the datapath. */
void dvs_switch_free (DvsSwitch *sw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsSwitch, dvs_switch_free)

gboolean dvs_port_name_valid (const gchar *name, GError **error);

/* Forwarding domains (datapath.h): one per DVswitch, each with its own MAC
 * table; frames never cross them. */
gboolean dvs_switch_domain_add (DvsSwitch *sw, guint16 domain, GError **error);
gboolean dvs_switch_domain_remove (DvsSwitch *sw, guint16 domain, GError **error);

gboolean dvs_switch_port_add (DvsSwitch *sw, const gchar *name,
                              const gchar *socket, gboolean server,
                              const struct dvs_vlan_config *vlan,
                              GError **error);
/* Where a port's runtime memory lives (see store/runtime-area.h). */
typedef struct {
  guint16 domain;                  /* forwarding domain (0: plain ports) */
  gint index;                      /* datapath port to use; -1: any free */
  struct dvs_port_runtime *rt;     /* counters and filter states; NULL: the
                                    * datapath's own */
  gboolean adopt;                  /* @rt already holds the port's latest
                                    * counters and filter states */
  GBytes *fwd_state;               /* adopting: what the forwarding class
                                    * knew at the crash, loaded after the
                                    * checkpoint's (may be NULL) */
  guint16 fwd_version;
} DvsPortPlacement;

/* As dvs_switch_port_add, with a policy (JSON, may be NULL), a runtime
 * state to restore (may be NULL) and a placement (may be NULL), all in place
 * before the socket is registered so that the link comes up with them.
 * With an adopting placement only the forwarding state of @restore is used:
 * the adopted memory is newer than any checkpoint. */
gboolean dvs_switch_port_add_full (DvsSwitch *sw, const gchar *name,
                                   const gchar *socket, gboolean server,
                                   const struct dvs_vlan_config *vlan,
                                   JsonNode *policy,
                                   const DvsPortState *restore,
                                   const DvsPortPlacement *placement,
                                   GError **error);
/* Replaces the runtime state (counters, forwarding and filter states) of
 * port @name, whose link must be down: a live-migration destination loads
 * the state the source saved at its link down. */
gboolean dvs_switch_port_load_state (DvsSwitch *sw, const gchar *name,
                                     const DvsPortState *st, GError **error);
/* The port's runtime state now (exact once its link is down). */
DvsPortState *dvs_switch_port_save_state (DvsSwitch *sw, const gchar *name,
                                          GError **error);
/* Removes a port like dvs_switch_port_remove, handing back its final
 * runtime state, taken after the datapath stopped using it. */
gboolean dvs_switch_port_detach (DvsSwitch *sw, const gchar *name,
                                 DvsPortState **final_state, GError **error);
/* Grows when the forwarding class learned something new about the port
 * (a new or moved MAC): time for a checkpoint.  0 for unknown ports. */
guint64 dvs_switch_port_fwd_changes (DvsSwitch *sw, const gchar *name);
/* Called on the switch's main context soon after a port's link came up
 * (its device ran, or its gate opened).  NULL removes it. */
void dvs_switch_set_link_up_func (DvsSwitch *sw, DvsLinkDownFunc func,
                                  gpointer user_data);
void dvs_switch_set_link_down_func (DvsSwitch *sw, DvsLinkDownFunc func,
                                    gpointer user_data);
gboolean dvs_switch_port_remove (DvsSwitch *sw, const gchar *name,
                                 GError **error);
gboolean dvs_switch_port_set_vlan (DvsSwitch *sw, const gchar *name,
                                   const struct dvs_vlan_config *vlan,
                                   GError **error);
/* Updates the port's policy from the control protocol's JSON (members
 * present replace their section; see port-policy.h) and applies it to the
 * datapath.  All or nothing. */
gboolean dvs_switch_port_set_policy (DvsSwitch *sw, const gchar *name,
                                     JsonNode *policy, GError **error);
/* The runtime state of each active filter class of the port, serialized by
 * the class: a JSON object {class: {"version": N, "data": BASE64}}. */
JsonNode *dvs_switch_port_filter_state (DvsSwitch *sw, const gchar *name,
                                        GError **error);

/* A snapshot of one port, or NULL with NO_SUCH_PORT. */
DvsPortInfo *dvs_switch_port_info (DvsSwitch *sw, const gchar *name,
                                   GError **error);
/* Snapshots of all ports, in the order they were added. */
GPtrArray *dvs_switch_ports (DvsSwitch *sw);

/* Learned addresses; entries name ports by index: see dvs_switch_port_name. */
GArray *dvs_switch_mac_dump (DvsSwitch *sw);
gchar *dvs_switch_port_name (DvsSwitch *sw, guint16 index);
/* Flushes one port's entries (@name non-NULL) or all. */
gboolean dvs_switch_mac_flush (DvsSwitch *sw, const gchar *name, gsize *flushed,
                               GError **error);

/* Migration support (docs/datapath.md, "Hold, announce, gate").
 *
 * Gate: while a port is gated, a vhost-user device that becomes ready on
 * its socket is accepted but its link stays down; ungating brings the link
 * up at once if the device is still there.  Gating a port whose link is up
 * changes nothing until its next device.  Thread-safe against rte_vhost's
 * link events. */
gboolean dvs_switch_port_set_gate (DvsSwitch *sw, const gchar *name,
                                   gboolean gated, GError **error);
/* Hold (datapath.h, dvs_dp_port_set_hold) and announce (RARP for @mac,
 * "52:54:00:12:34:56", as if the port had sent it). */
gboolean dvs_switch_port_set_hold (DvsSwitch *sw, const gchar *name,
                                   gboolean hold, GError **error);
gboolean dvs_switch_port_announce (DvsSwitch *sw, const gchar *name,
                                   const gchar *mac, GError **error);

/* Uplinks (docs/dvs-switchd.md, "Uplinks").  An uplink is configured as
 * DVSWITCH=IFACE (the DVswitch's name or id as switch.apply pushes it; a
 * kernel interface).  When the DVswitch gets its forwarding domain
 * (dvs_switch_domain_bind) the uplink becomes a port of that domain: a DPDK
 * net_af_packet ethdev on IFACE, named "uplink:IFACE" (':' never appears in
 * port names or DVport keys), a trunk of every VLAN (VLAN 0 untagged).
 * dvs_switch_domain_remove removes it with the domain. */
gboolean dvs_switch_uplink_spec_parse (const gchar *spec, gchar **dvswitch,
                                       gchar **iface, GError **error);
/* Replaces the configured uplinks (none may be attached yet). */
gboolean dvs_switch_set_uplinks (DvsSwitch *sw, const gchar *const *specs,
                                 GError **error);
/* Tells the switch that forwarding domain @domain serves DVswitch @id named
 * @name: attaches its configured uplink, if any.  FALSE (with @error) if
 * one is configured and cannot be attached; it is retried at the next
 * bind of that domain. */
gboolean dvs_switch_domain_bind (DvsSwitch *sw, guint16 domain, const gchar *id,
                                 const gchar *name, GError **error);
/* The uplinks as JSON: an array of {name, dvswitch, iface, attached, link,
 * error?, stats}; @domain > 0: only that domain's. */
JsonNode *dvs_switch_uplinks_to_json (DvsSwitch *sw, gint domain);

const gchar *dvs_switch_name (DvsSwitch *sw);
gboolean dvs_switch_busy_poll (DvsSwitch *sw);
guint dvs_switch_mac_aging (DvsSwitch *sw);
guint dvs_switch_n_ports (DvsSwitch *sw);
gsize dvs_switch_mac_count (DvsSwitch *sw);
void dvs_switch_dp_stats (DvsSwitch *sw, struct dvs_dp_stats *out);
/* No frame is taken from any port while paused (datapath.h). */
void dvs_switch_set_rx_paused (DvsSwitch *sw, gboolean paused);
/* The datapath's burst journal (datapath.h, dvs_dp_set_journal). */
void dvs_switch_set_journal (DvsSwitch *sw, const struct dvs_journal_area *area);

G_END_DECLS
