/* Output helpers for dvsctl: aligned tables, "label: value" blocks, JSON
 * and the readable forms of the manager's values. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A table whose columns are as wide as their widest cell.  Lines carry no
 * trailing blanks. */
typedef struct _CtlTable CtlTable;

/* @headers: NULL-terminated, the column count; NULL and @n_columns for a
 * table without a header line. */
CtlTable *ctl_table_new (guint n_columns, const gchar *const *headers);
void ctl_table_free (CtlTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlTable, ctl_table_free)

/* Right-aligns @column (numbers). */
void ctl_table_align_right (CtlTable *table, guint column);
/* Adds a row of n_columns cells, copied; NULL and "" print as "-". */
void ctl_table_add_row (CtlTable *table, const gchar *const *cells);
/* Adds a row from n_columns arguments, taking ownership of each (for
 * g_strdup_printf results). */
void ctl_table_add_row_take (CtlTable *table, ...);
guint ctl_table_n_rows (CtlTable *table);
void ctl_table_print (CtlTable *table);

/* "label: value" lines, values aligned. */
typedef struct _CtlTable CtlFields;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlFields, ctl_table_free)

CtlFields *ctl_fields_new (void);
/* Adds "label: value"; NULL or "" prints as "-". */
void ctl_fields_add (CtlFields *fields, const gchar *label, const gchar *value);
void ctl_fields_add_printf (CtlFields *fields, const gchar *label,
                            const gchar *format, ...) G_GNUC_PRINTF (3, 4);

/* Pretty JSON (indented by 2), without a final newline. */
gchar *ctl_json_pretty (JsonNode *node);
/* Pretty JSON on stdout, newline-terminated. */
void ctl_print_json (JsonNode *node);
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
