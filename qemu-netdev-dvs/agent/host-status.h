/* The status a host reports with each host.heartbeat (docs/host-channel.md):
 * free DVport slots, drops, the datapath's busy cycles, and per DVswitch
 * its ports and uplinks with their link.  The manager scores its health
 * from it (docs/placement.md). */
#pragma once

#include "control/control-methods.h"

G_BEGIN_DECLS

/* A new status object; @uplinks (NULL ok) are the host's uplink interface
 * names, reported for every switch with the kernel's operstate. */
JsonObject *dvs_host_status_build (DvsControl *control, gchar **uplinks);

G_END_DECLS
