/* A port's counters as JSON (docs/control-protocol.md, "stats"), both ways:
 * the control socket shows them, checkpoints store and restore them. */
#pragma once

#include <json-glib/json-glib.h>
#include "datapath/dp-types.h"

G_BEGIN_DECLS

JsonNode *dvs_port_stats_to_json (const struct dvs_port_stats *s);
/* Reads what dvs_port_stats_to_json wrote; the totals ("packets", "bytes")
 * are derived and ignored.  A missing counter is an error naming it,
 * except "held", "hold_dropped", "dropped_while_down", drops "crash" and
 * "queues" (newer: 0 when absent). */
gboolean dvs_port_stats_from_json (JsonNode *node, struct dvs_port_stats *s,
                                   GError **error);

G_END_DECLS
