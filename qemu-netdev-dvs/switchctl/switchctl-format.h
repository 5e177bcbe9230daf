/* Output helpers for dvs-switchctl: readable renderings of the control
 * protocol's JSON values (docs/control-protocol.md) in aligned tables
 * (dvs-table.h). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "dvs-json.h"
#include "dvs-table.h"

G_BEGIN_DECLS

/* A member as text: scalars as themselves, arrays of scalars joined by
 * commas, anything else as compact JSON; missing or null is "-". */
gchar *ctl_member_text (JsonObject *obj, const gchar *member);
/* Adds a "label: value" row for each member of @obj not in @known (members
 * a newer daemon may add), the label being the name with '_' as spaces. */
void ctl_add_other_members (DvsTable *table, JsonObject *obj,
                                  const gchar *const *known);

/* A VLAN config object: "access 10", "trunk 10,20-29 native 5" (native left
 * out when 0 and @short_form). */
gchar *ctl_vlan_text (JsonNode *vlan, gboolean short_form);

/* Adds a port policy (docs/control-protocol.md, "Port policy") to a
 * two-column table, a row per section present, labels after @indent:
 * "blocked: no", "security: on; allowed MACs ...", "shaping: ingress 10000
 * kbit/s (peak 20000 kbit/s, burst 64 KB)", "mirror: to monitor, both".
 * Sections it does not know come last, as JSON. */
void ctl_policy_add_rows (DvsTable *table, JsonNode *policy,
                          const gchar *indent);

/* The sections a policy (or a port group's partial one) sets, for a table
 * cell: "security,shaping"; "-" for none. */
gchar *ctl_policy_brief (JsonNode *policy);

/* A port's "stats" object: rx and tx with a line per kind of frame, the
 * drop counters, then the other counters ("mirrored"), after a blank
 * line. */
void ctl_print_port_stats (JsonObject *stats);

/* Prints an object as aligned "label: value" lines, nested objects indented
 * below their label; "mac_aging_seconds" becomes "mac aging seconds". */
void ctl_print_fields (JsonObject *obj);

G_END_DECLS
