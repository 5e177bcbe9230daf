/* Aligned text tables for the command lines (dvs-table.h). */
#include "dvs-table.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct _DvsTable {
  guint n_columns;
  DvsTableFlags flags;
  GPtrArray *rows;        /* of gchar ** with n_columns cells */
  gboolean *align_right;  /* per column */
};

DvsTable *
dvs_table_new (guint n_columns, const gchar *const *headers,
               DvsTableFlags flags)
{
  DvsTable *table = g_new0 (DvsTable, 1);

  if (headers != NULL)
    n_columns = g_strv_length ((gchar **) headers);
  table->n_columns = n_columns;
  table->flags = flags;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  table->align_right = g_new0 (gboolean, n_columns);
  if (headers != NULL)
    dvs_table_add_row (table, headers);
  return table;
}

void
dvs_table_free (DvsTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table->align_right);
  g_free (table);
}

void
dvs_table_align_right (DvsTable *table, guint column)
{
  g_return_if_fail (column < table->n_columns);
  table->align_right[column] = TRUE;
}

static gboolean
prints_as_dash (DvsTable *table, const gchar *cell)
{
  return cell == NULL
         || ((table->flags & DVS_TABLE_DASH_EMPTY) != 0 && *cell == '\0');
}

/* @cell with its control characters shown as escapes: a cell holds what a
 * daemon answered, and a raw ESC or CSI would reach the operator's
 * terminal as a command (escape injection). */
static gchar *
printable_cell (const gchar *cell)
{
  const guchar *p = (const guchar *) cell;
  GString *out = g_string_sized_new (strlen (cell));

  for (; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == 0x7f)
        g_string_append_printf (out, "\\x%02x", *p);
      else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
        g_string_append_printf (out, "\\u%04x", *++p);
      else
        g_string_append_c (out, (gchar) *p);
    }
  return g_string_free (out, FALSE);
}

void
dvs_table_add_row (DvsTable *table, const gchar *const *cells)
{
  gchar **row = g_new0 (gchar *, table->n_columns + 1);

  for (guint i = 0; i < table->n_columns; i++)
    row[i] = prints_as_dash (table, cells[i]) ? g_strdup ("-") : printable_cell (cells[i]);
  g_ptr_array_add (table->rows, row);
}

void
dvs_table_add_row_take (DvsTable *table, ...)
{
  g_autofree gchar **cells = g_new0 (gchar *, table->n_columns + 1);
  va_list ap;

  va_start (ap, table);
  for (guint i = 0; i < table->n_columns; i++)
    cells[i] = va_arg (ap, gchar *);
  va_end (ap);
  dvs_table_add_row (table, (const gchar *const *) cells);
  for (guint i = 0; i < table->n_columns; i++)
    g_free (cells[i]);
}

guint
dvs_table_n_rows (DvsTable *table)
{
  return table->rows->len;
}

void
dvs_table_print (DvsTable *table)
{
  g_autofree glong *widths = g_new0 (glong, table->n_columns);

  for (guint r = 0; r < table->rows->len; r++)
    {
      gchar **row = table->rows->pdata[r];

      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], g_utf8_strlen (row[c], -1));
    }
  for (guint r = 0; r < table->rows->len; r++)
    {
      gchar **row = table->rows->pdata[r];
      g_autoptr(GString) line = g_string_new (NULL);

      for (guint c = 0; c < table->n_columns; c++)
        {
          glong pad = widths[c] - g_utf8_strlen (row[c], -1);

          if (c > 0)
            g_string_append (line, "  ");
          if (table->align_right[c])
            {
              for (glong i = 0; i < pad; i++)
                g_string_append_c (line, ' ');
              g_string_append (line, row[c]);
            }
          else
            {
              g_string_append (line, row[c]);
              for (glong i = 0; i < pad; i++)
                g_string_append_c (line, ' ');
            }
        }
      /* The padding of a left-aligned last column, or after an empty
       * cell, is not kept. */
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      printf ("%s\n", line->str);
    }
}

DvsFields *
dvs_fields_new (void)
{
  return dvs_table_new (2, NULL, DVS_TABLE_DASH_EMPTY);
}

void
dvs_fields_add (DvsFields *fields, const gchar *label, const gchar *value)
{
  g_autofree gchar *with_colon = g_strconcat (label, ":", NULL);
  const gchar *cells[] = { with_colon, value };

  dvs_table_add_row (fields, cells);
}

void
dvs_fields_add_printf (DvsFields *fields, const gchar *label,
                       const gchar *format, ...)
{
  g_autofree gchar *value = NULL;
  va_list ap;

  va_start (ap, format);
  value = g_strdup_vprintf (format, ap);
  va_end (ap);
  dvs_fields_add (fields, label, value);
}
