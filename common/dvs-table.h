/* Aligned text tables for the command lines (dvs-switchctl, dvsctl): each
 * column as wide as its widest cell, two blanks between columns, no trailing
 * blanks on a line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DVS_TABLE_NONE = 0,
  /* An empty cell ("") prints as "-", as a NULL one always does. */
  DVS_TABLE_DASH_EMPTY = 1 << 0,
} DvsTableFlags;

typedef struct _DvsTable DvsTable;

/* @headers: NULL-terminated, the first row; its length is the column count.
 * A table without a header line passes NULL and its @n_columns (ignored
 * when @headers is given). */
DvsTable *dvs_table_new (guint n_columns, const gchar *const *headers,
                         DvsTableFlags flags);
/* Accepts NULL. */
void dvs_table_free (DvsTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsTable, dvs_table_free)

/* Right-aligns @column (numbers). */
void dvs_table_align_right (DvsTable *table, guint column);
/* Adds a row of n_columns cells, copied; NULL prints as "-". */
void dvs_table_add_row (DvsTable *table, const gchar *const *cells);
/* Adds a row from n_columns gchar * arguments, taking ownership of each
 * (for g_strdup_printf results). */
void dvs_table_add_row_take (DvsTable *table, ...);
/* Rows added so far, the header line included. */
guint dvs_table_n_rows (DvsTable *table);
void dvs_table_print (DvsTable *table);

/* "label: value" lines, the values aligned: a two-column table without a
 * header line whose NULL or "" values print as "-". */
typedef struct _DvsTable DvsFields;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsFields, dvs_table_free)

DvsFields *dvs_fields_new (void);
/* Adds "@label: @value". */
void dvs_fields_add (DvsFields *fields, const gchar *label,
                     const gchar *value);
void dvs_fields_add_printf (DvsFields *fields, const gchar *label,
                            const gchar *format, ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
