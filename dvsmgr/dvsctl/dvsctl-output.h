/* Output helpers for dvsctl: JSON and the readable forms of the manager's
 * values, for the aligned tables and "label: value" blocks of dvs-table.h. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "dvs-json.h"
#include "dvs-table.h"

G_BEGIN_DECLS

/* Pretty JSON (indented by 2), without a final newline. */
gchar *ctl_json_pretty (JsonNode *node);
/* A compact rendering of @node for a table cell; "-" for NULL or null. */
gchar *ctl_json_compact (JsonNode *node);

/* Unix microseconds as local "YYYY-MM-DD HH:MM:SS"; 0 is "never". */
gchar *ctl_time_text (gint64 usec);
/* "yes" / "no". */
const gchar *ctl_yes_no (gboolean value);
/* The VLAN of a port config ({"vlan": 10} or a VLAN object): "10",
 * "trunk 10,20", "-" when it has none. */
gchar *ctl_config_vlan_text (JsonNode *config);
/* strv joined with ", ", "-" when empty. */
gchar *ctl_strv_text (gchar **strv);

/* Prints a dvport.show "stats" object: rx and tx side by side, the drop
 * counters, then other counters as "label: value". */
void ctl_print_port_stats (JsonObject *stats);

G_END_DECLS
