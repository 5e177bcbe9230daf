/* Output helpers for dvsctl (dvsctl-output.h). */
#include "dvsctl-output.h"
#include "dvs-json-write.h"

#include <stdio.h>
#include <string.h>

gchar *
ctl_json_pretty (JsonNode *node)
{
  return dvs_json_write (node, TRUE);
}

gchar *
ctl_json_compact (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("-");
  if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return dvs_json_write (node, FALSE);
}

gchar *
ctl_time_text (gint64 usec)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (usec <= 0)
    return g_strdup ("never");
  utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  if (utc == NULL)
    return g_strdup_printf ("%" G_GINT64_FORMAT, usec);
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

const gchar *
ctl_yes_no (gboolean value)
{
  return value ? "yes" : "no";
}

static gchar *
ints_text (JsonArray *array)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      g_autofree gchar *item = ctl_json_compact (json_array_get_element (array, i));

      g_string_append_printf (out, "%s%s", i > 0 ? "," : "", item);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A VLAN config: a bare tag, or {"mode": "access", "tag": N} or
 * {"mode": "trunk", "trunks": [...], "native": N}. */
static gchar *
vlan_text (JsonNode *vlan)
{
  JsonObject *obj;
  JsonNode *member;

  if (JSON_NODE_HOLDS_VALUE (vlan))
    return ctl_json_compact (vlan);
  if (!JSON_NODE_HOLDS_OBJECT (vlan))
    return ctl_json_compact (vlan);
  obj = json_node_get_object (vlan);
  if (g_strcmp0 (json_object_get_string_member_with_default (obj, "mode", ""),
                 "trunk") == 0)
    {
      JsonNode *member_trunks = json_object_get_member (obj, "trunks");
      JsonArray *trunks = member_trunks != NULL && JSON_NODE_HOLDS_ARRAY (member_trunks)
                              ? json_node_get_array (member_trunks) : NULL;
      g_autofree gchar *list = trunks != NULL ? ints_text (trunks) : g_strdup ("");
      gint64 native = json_object_get_int_member_with_default (obj, "native", 0);

      if (native != 0)
        return g_strdup_printf ("trunk %s native %" G_GINT64_FORMAT, list, native);
      return g_strdup_printf ("trunk %s", list);
    }
  member = json_object_get_member (obj, "tag");
  if (member != NULL)
    return ctl_json_compact (member);
  return dvs_json_write (vlan, FALSE);
}

gchar *
ctl_config_vlan_text (JsonNode *config)
{
  JsonNode *vlan;

  if (config == NULL || !JSON_NODE_HOLDS_OBJECT (config))
    return g_strdup ("-");
  vlan = json_object_get_member (json_node_get_object (config), "vlan");
  if (vlan == NULL || JSON_NODE_HOLDS_NULL (vlan))
    return g_strdup ("-");
  return vlan_text (vlan);
}

gchar *
ctl_strv_text (gchar **strv)
{
  if (strv == NULL || strv[0] == NULL)
    return g_strdup ("-");
  return g_strjoinv (", ", strv);
}

/* "unicast_packets" -> "unicast packets". */
static gchar *
label_of (const gchar *member)
{
  gchar *label = g_strdup (member);

  g_strdelimit (label, "_", ' ');
  return label;
}

static gchar *
counter_text (JsonObject *obj, const gchar *member)
{
  if (obj == NULL || !json_object_has_member (obj, member))
    return g_strdup ("-");
  return ctl_json_compact (json_object_get_member (obj, member));
}

void
ctl_print_port_stats (JsonObject *stats)
{
  static const gchar *const counter_headers[] = { "COUNTER", "RX", "TX", NULL };
  static const gchar *const drop_headers[] = { "DROP", "COUNT", NULL };
  JsonObject *rx = dvs_json_get_object (stats, "rx");
  JsonObject *tx = dvs_json_get_object (stats, "tx");
  JsonObject *drops = dvs_json_get_object (stats, "drops");
  g_autoptr(DvsTable) counters = dvs_table_new (0, counter_headers,
                                                DVS_TABLE_DASH_EMPTY);
  g_autoptr(GList) names = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(DvsFields) others = dvs_fields_new ();

  dvs_table_align_right (counters, 1);
  dvs_table_align_right (counters, 2);
  /* rx's counters in its order, then any only tx has. */
  if (rx != NULL)
    names = json_object_get_members (rx);
  if (tx != NULL)
    names = g_list_concat (names, json_object_get_members (tx));
  for (GList *l = names; l != NULL; l = l->next)
    {
      if (!g_hash_table_add (seen, l->data))
        continue;
      dvs_table_add_row_take (counters, label_of (l->data),
                              counter_text (rx, l->data),
                              counter_text (tx, l->data));
    }
  if (dvs_table_n_rows (counters) > 1)
    dvs_table_print (counters);

  if (drops != NULL)
    {
      g_autoptr(DvsTable) table = dvs_table_new (0, drop_headers,
                                                 DVS_TABLE_DASH_EMPTY);
      g_autoptr(GList) members = json_object_get_members (drops);

      dvs_table_align_right (table, 1);
      for (GList *l = members; l != NULL; l = l->next)
        dvs_table_add_row_take (table, label_of (l->data),
                                counter_text (drops, l->data));
      printf ("\n");
      dvs_table_print (table);
    }

  {
    g_autoptr(GList) members = json_object_get_members (stats);

    for (GList *l = members; l != NULL; l = l->next)
      {
        const gchar *name = l->data;
        g_autofree gchar *label = NULL;
        g_autofree gchar *value = NULL;

        if (g_str_equal (name, "rx") || g_str_equal (name, "tx")
            || g_str_equal (name, "drops"))
          continue;
        label = label_of (name);
        value = ctl_json_compact (json_object_get_member (stats, name));
        dvs_fields_add (others, label, value);
      }
    if (dvs_table_n_rows (others) > 0)
      {
        printf ("\n");
        dvs_table_print (others);
      }
  }
}
