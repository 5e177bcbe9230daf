/* Output helpers for dvs-switchctl. */
#include "switchctl-format.h"

#include <stdio.h>
#include <string.h>

struct _CtlTable {
  guint n_columns;
  GPtrArray *rows;        /* of gchar ** (n_columns cells) */
  gboolean *align_right;  /* n_columns flags */
};

CtlTable *
ctl_table_new (guint n_columns, const gchar *const *headers)
{
  CtlTable *table = g_new0 (CtlTable, 1);

  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  table->align_right = g_new0 (gboolean, n_columns);
  if (headers != NULL && headers[0] != NULL)
    ctl_table_add_row (table, headers);
  return table;
}

void
ctl_table_free (CtlTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table->align_right);
  g_free (table);
}

void
ctl_table_align_right (CtlTable *table, guint column)
{
  g_return_if_fail (column < table->n_columns);
  table->align_right[column] = TRUE;
}

void
ctl_table_add_row (CtlTable *table, const gchar *const *cells)
{
  gchar **row = g_new0 (gchar *, table->n_columns + 1);

  for (guint i = 0; i < table->n_columns; i++)
    row[i] = g_strdup (cells[i] != NULL ? cells[i] : "-");
  g_ptr_array_add (table->rows, row);
}

static gsize
cell_width (const gchar *cell)
{
  return (gsize) g_utf8_strlen (cell, -1);
}

void
ctl_table_print (CtlTable *table)
{
  g_autofree gsize *widths = g_new0 (gsize, table->n_columns);

  for (guint r = 0; r < table->rows->len; r++)
    {
      gchar **row = table->rows->pdata[r];

      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], cell_width (row[c]));
    }
  for (guint r = 0; r < table->rows->len; r++)
    {
      gchar **row = table->rows->pdata[r];
      g_autoptr(GString) line = g_string_new (NULL);

      for (guint c = 0; c < table->n_columns; c++)
        {
          gsize pad = widths[c] - cell_width (row[c]);
          gboolean last = c + 1 == table->n_columns;

          if (c > 0)
            g_string_append (line, "  ");
          if (table->align_right[c])
            {
              for (gsize i = 0; i < pad; i++)
                g_string_append_c (line, ' ');
              g_string_append (line, row[c]);
            }
          else
            {
              g_string_append (line, row[c]);
              for (gsize i = 0; !last && i < pad; i++)
                g_string_append_c (line, ' ');
            }
        }
      /* A right-aligned last column is the only source of padding; strip
       * what an empty left-aligned cell may leave. */
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      printf ("%s\n", line->str);
    }
}

const gchar *
ctl_get_string (JsonObject *obj, const gchar *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gboolean
ctl_get_int (JsonObject *obj, const gchar *member, gint64 *out)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

JsonObject *
ctl_get_object (JsonObject *obj, const gchar *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
             ? json_node_get_object (node) : NULL;
}

JsonArray *
ctl_get_array (JsonObject *obj, const gchar *member)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node)
             ? json_node_get_array (node) : NULL;
}

static gchar *
scalar_text (JsonNode *node)
{
  GType type = json_node_get_value_type (node);

  if (type == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (type == G_TYPE_INT64)
    return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  if (type == G_TYPE_DOUBLE)
    {
      gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

      return g_strdup (g_ascii_formatd (buf, sizeof buf, "%.6g",
                                        json_node_get_double (node)));
    }
  if (type == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (node) ? "yes" : "no");
  return json_to_string (node, FALSE);
}

static gchar *
node_text (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("-");
  if (JSON_NODE_HOLDS_VALUE (node))
    return scalar_text (node);
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      g_autoptr(GString) out = g_string_new (NULL);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          g_autofree gchar *text = NULL;

          if (!JSON_NODE_HOLDS_VALUE (element))
            return json_to_string (node, FALSE);
          text = scalar_text (element);
          g_string_append_printf (out, "%s%s", i > 0 ? "," : "", text);
        }
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  return json_to_string (node, FALSE);
}

gchar *
ctl_member_text (JsonObject *obj, const gchar *member)
{
  return node_text (obj != NULL ? json_object_get_member (obj, member) : NULL);
}

static gboolean
all_ints (JsonArray *array)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (element)
          || json_node_get_value_type (element) != G_TYPE_INT64)
        return FALSE;
    }
  return TRUE;
}

/* "10,11,12,20" → "10-12,20": long trunk lists stay readable. */
static gchar *
vid_list_text (JsonArray *vids)
{
  g_autoptr(GString) out = g_string_new (NULL);
  guint n = json_array_get_length (vids);

  for (guint i = 0; i < n;)
    {
      gint64 first = json_array_get_int_element (vids, i);
      guint j = i;

      while (j + 1 < n && json_array_get_int_element (vids, j + 1)
                              == json_array_get_int_element (vids, j) + 1)
        j++;
      if (out->len > 0)
        g_string_append_c (out, ',');
      if (j - i >= 2)
        g_string_append_printf (out, "%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT,
                                first, json_array_get_int_element (vids, j));
      else
        {
          g_string_append_printf (out, "%" G_GINT64_FORMAT, first);
          if (j > i)
            g_string_append_printf (out, ",%" G_GINT64_FORMAT,
                                    json_array_get_int_element (vids, j));
        }
      i = j + 1;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gchar *
ctl_vlan_text (JsonNode *vlan, gboolean short_form)
{
  JsonObject *obj;
  const gchar *mode;
  JsonArray *trunks;
  g_autofree gchar *list = NULL;
  gint64 native = 0;

  if (vlan == NULL || JSON_NODE_HOLDS_NULL (vlan))
    return g_strdup ("-");
  /* A bare integer N means {"mode":"access","tag":N}. */
  if (JSON_NODE_HOLDS_VALUE (vlan)
      && json_node_get_value_type (vlan) == G_TYPE_INT64)
    return g_strdup_printf ("%s%" G_GINT64_FORMAT, short_form ? "" : "access ",
                            json_node_get_int (vlan));
  if (!JSON_NODE_HOLDS_OBJECT (vlan))
    return node_text (vlan);

  obj = json_node_get_object (vlan);
  mode = ctl_get_string (obj, "mode");
  if (g_strcmp0 (mode, "access") == 0)
    {
      g_autofree gchar *tag = ctl_member_text (obj, "tag");

      return g_strdup_printf ("%s%s", short_form ? "" : "access ", tag);
    }
  trunks = ctl_get_array (obj, "trunks");
  if (g_strcmp0 (mode, "trunk") != 0 || trunks == NULL || !all_ints (trunks))
    return node_text (vlan);

  list = json_array_get_length (trunks) > 0 ? vid_list_text (trunks)
                                            : g_strdup ("none");
  ctl_get_int (obj, "native", &native);
  if (short_form && native == 0)
    return g_strdup_printf ("trunk %s", list);
  return g_strdup_printf ("trunk %s native %" G_GINT64_FORMAT, list, native);
}

static gchar *
label_of (const gchar *member, guint depth)
{
  g_autofree gchar *indent = g_strnfill (depth * 2, ' ');
  g_autofree gchar *words = g_strdelimit (g_strdup (member), "_", ' ');

  return g_strdup_printf ("%s%s:", indent, words);
}

static void
add_fields (CtlTable *table, JsonObject *obj, guint depth)
{
  g_autoptr(GList) members = json_object_get_members (obj);

  for (GList *l = members; l != NULL; l = l->next)
    {
      const gchar *member = l->data;
      JsonNode *node = json_object_get_member (obj, member);
      g_autofree gchar *label = label_of (member, depth);

      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          const gchar *cells[] = { label, "" };

          ctl_table_add_row (table, cells);
          add_fields (table, json_node_get_object (node), depth + 1);
        }
      else
        {
          g_autofree gchar *value = node_text (node);
          const gchar *cells[] = { label, value };

          ctl_table_add_row (table, cells);
        }
    }
}

void
ctl_print_fields (JsonObject *obj)
{
  g_autoptr(CtlTable) table = ctl_table_new (2, NULL);

  add_fields (table, obj, 0);
  ctl_table_print (table);
}

void
ctl_print_json (JsonNode *node)
{
  g_autofree gchar *text = NULL;

  if (node == NULL)
    {
      printf ("null\n");
      return;
    }
  text = json_to_string (node, TRUE);
  printf ("%s\n", text);
}
