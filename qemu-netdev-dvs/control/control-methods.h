/* The methods of dvs-switchd's local control socket
 * (docs/control-protocol.md), over a DvsSwitch passed as user data. */
#pragma once

#include "dvs-rpc-server.h"
#include "dvport/dvport-host.h"
#include "switch/dvs-switch.h"

G_BEGIN_DECLS

/* What the methods act on: the user data of dvs_control_methods. */
typedef struct {
  DvsSwitch *sw;
  DvsDvportHost *dvports;
  /* dvport.migrate-in: asks the manager to delegate DVport @port of
   * @switch_id here for a live migration, and applies what it answers;
   * completes @reply.  Set by the host agent; NULL without a manager. */
  void (*migrate_in) (gpointer data, const gchar *switch_id, const gchar *port,
                      const gchar *connection, DvsRpcReply *reply);
  gpointer migrate_in_data;
} DvsControl;

extern const DvsRpcMethod dvs_control_methods[];

/* DVport methods (dvport-methods.c). */
JsonNode *dvs_control_switch_apply (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_switch_remove (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_switch_get (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_switch_list (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_dvport_attach (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_dvport_detach (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_dvport_show (JsonObject *params, gpointer ctl, GError **error);
void dvs_control_dvport_migrate_in (JsonObject *params, gpointer ctl, DvsRpcReply *reply);

/* Migration support on switch ports (port-migration-methods.c). */
JsonNode *dvs_control_port_announce (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_port_set_hold (JsonObject *params, gpointer ctl, GError **error);
JsonNode *dvs_control_port_set_gate (JsonObject *params, gpointer ctl, GError **error);

G_END_DECLS
