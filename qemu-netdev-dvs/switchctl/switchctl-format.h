/* Output helpers for dvs-switchctl: aligned tables and readable renderings
 * of the control protocol's JSON values (docs/control-protocol.md). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A table whose columns are padded to their widest cell; the last column is
 * never padded, so lines carry no trailing blanks. */
typedef struct _CtlTable CtlTable;

/* @headers is NULL-terminated; a table without a header line passes only
 * NULL and @n_columns > 0. */
CtlTable *ctl_table_new (guint n_columns, const gchar *const *headers);
void ctl_table_free (CtlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlTable, ctl_table_free)

/* Numbers read best right-aligned. */
void ctl_table_align_right (CtlTable *table, guint column);
/* Adds a row of n_columns strings (copied; NULL prints as "-"). */
void ctl_table_add_row (CtlTable *table, const gchar *const *cells);
void ctl_table_print (CtlTable *table);

/* Typed member access that tolerates whatever the daemon sent: NULL or
 * FALSE when @obj is NULL, or the member is absent or of another type. */
const gchar *ctl_get_string (JsonObject *obj, const gchar *member);
gboolean ctl_get_int (JsonObject *obj, const gchar *member, gint64 *out);
JsonObject *ctl_get_object (JsonObject *obj, const gchar *member);
JsonArray *ctl_get_array (JsonObject *obj, const gchar *member);

/* A member as text: scalars as themselves, arrays of scalars joined by
 * commas, anything else as compact JSON; missing or null is "-". */
gchar *ctl_member_text (JsonObject *obj, const gchar *member);
/* Adds a "label: value" row for each member of @obj not in @known (members
 * a newer daemon may add), the label being the name with '_' as spaces. */
void ctl_table_add_other_members (CtlTable *table, JsonObject *obj,
                                  const gchar *const *known);

/* A VLAN config object: "access 10", "trunk 10,20-29 native 5" (native left
 * out when 0 and @short_form). */
gchar *ctl_vlan_text (JsonNode *vlan, gboolean short_form);

/* Adds a port policy (docs/control-protocol.md, "Port policy") to a
 * two-column table, a row per section present, labels after @indent:
 * "blocked: no", "security: on; allowed MACs ...", "shaping: ingress 10000
 * kbit/s (peak 20000 kbit/s, burst 64 KB)", "mirror: to monitor, both".
 * Sections it does not know come last, as JSON. */
void ctl_policy_add_rows (CtlTable *table, JsonNode *policy,
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

/* Pretty JSON on stdout, newline-terminated. */
void ctl_print_json (JsonNode *node);

G_END_DECLS
