/* Output helpers for dvs-switchctl. */
#include "switchctl-format.h"
#include "dvs-json-write.h"

#include <stdio.h>
#include <string.h>

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
  return dvs_json_write (node, FALSE);
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
            return dvs_json_write (node, FALSE);
          text = scalar_text (element);
          g_string_append_printf (out, "%s%s", i > 0 ? "," : "", text);
        }
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  return dvs_json_write (node, FALSE);
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
  mode = dvs_json_get_string (obj, "mode");
  if (g_strcmp0 (mode, "access") == 0)
    {
      g_autofree gchar *tag = ctl_member_text (obj, "tag");

      return g_strdup_printf ("%s%s", short_form ? "" : "access ", tag);
    }
  trunks = dvs_json_get_array (obj, "trunks");
  if (g_strcmp0 (mode, "trunk") != 0 || trunks == NULL || !all_ints (trunks))
    return node_text (vlan);

  list = json_array_get_length (trunks) > 0 ? vid_list_text (trunks)
                                            : g_strdup ("none");
  dvs_json_get_int (obj, "native", &native);
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
add_fields (DvsTable *table, JsonObject *obj, guint depth)
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

          dvs_table_add_row (table, cells);
          add_fields (table, json_node_get_object (node), depth + 1);
        }
      else
        {
          g_autofree gchar *value = node_text (node);
          const gchar *cells[] = { label, value };

          dvs_table_add_row (table, cells);
        }
    }
}

void
ctl_print_fields (JsonObject *obj)
{
  g_autoptr(DvsTable) table = dvs_table_new (2, NULL, DVS_TABLE_NONE);

  add_fields (table, obj, 0);
  dvs_table_print (table);
}

/* --- Port policies. */

static gboolean
is_false_or_null (JsonNode *node)
{
  return node == NULL || JSON_NODE_HOLDS_NULL (node)
         || (JSON_NODE_HOLDS_VALUE (node)
             && json_node_get_value_type (node) == G_TYPE_BOOLEAN
             && !json_node_get_boolean (node));
}

/* vSphere's words for the two security switches: true accepts. */
static const gchar *
accept_text (JsonObject *obj, const gchar *member)
{
  JsonNode *node = json_object_get_member (obj, member);

  if (node == NULL)
    return "-";
  return is_false_or_null (node) ? "reject" : "accept";
}

/* "on; allowed MACs 52:54:00:12:34:56; forged transmits reject, MAC changes
 * reject". */
static gchar *
security_text (JsonNode *node)
{
  JsonObject *obj;
  g_autofree gchar *macs = NULL;

  if (is_false_or_null (node))
    return g_strdup ("off");
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return node_text (node);
  obj = json_node_get_object (node);
  if (json_object_has_member (obj, "enabled")
      && is_false_or_null (json_object_get_member (obj, "enabled")))
    return g_strdup ("off");
  macs = ctl_member_text (obj, "allowed_macs");
  return g_strdup_printf ("on; allowed MACs %s; forged transmits %s, "
                          "MAC changes %s", *macs != '\0' ? macs : "none",
                          accept_text (obj, "forged_transmits"),
                          accept_text (obj, "mac_changes"));
}

/* "ingress 10000 kbit/s (peak 20000 kbit/s, burst 64 KB)"; a peak or burst
 * of 0 is the class's default and left out. */
static void
append_shaping_dir (GString *out, JsonObject *shaping, const gchar *dir)
{
  JsonNode *node = json_object_get_member (shaping, dir);
  JsonObject *obj;
  gint64 average = 0, peak = 0, burst = 0;

  if (is_false_or_null (node))
    return;
  if (out->len > 0)
    g_string_append (out, "; ");
  obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  if (obj == NULL || !dvs_json_get_int (obj, "average_kbps", &average))
    {
      g_autofree gchar *text = node_text (node);

      g_string_append_printf (out, "%s %s", dir, text);
      return;
    }
  g_string_append_printf (out, "%s %" G_GINT64_FORMAT " kbit/s", dir,
                          average);
  dvs_json_get_int (obj, "peak_kbps", &peak);
  dvs_json_get_int (obj, "burst_kbytes", &burst);
  if (peak > 0 && burst > 0)
    g_string_append_printf (out, " (peak %" G_GINT64_FORMAT " kbit/s, "
                            "burst %" G_GINT64_FORMAT " KB)", peak, burst);
  else if (peak > 0)
    g_string_append_printf (out, " (peak %" G_GINT64_FORMAT " kbit/s)", peak);
  else if (burst > 0)
    g_string_append_printf (out, " (burst %" G_GINT64_FORMAT " KB)", burst);
}

static gchar *
shaping_text (JsonNode *node)
{
  g_autoptr(GString) out = g_string_new (NULL);

  if (is_false_or_null (node))
    return g_strdup ("off");
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return node_text (node);
  append_shaping_dir (out, json_node_get_object (node), "ingress");
  append_shaping_dir (out, json_node_get_object (node), "egress");
  if (out->len == 0)
    return g_strdup ("off");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* "to monitor, both". */
static gchar *
mirror_text (JsonNode *node)
{
  JsonObject *obj;
  const gchar *to;
  const gchar *direction;

  if (is_false_or_null (node))
    return g_strdup ("off");
  obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  to = dvs_json_get_string (obj, "to");
  if (to == NULL)
    return node_text (node);
  direction = dvs_json_get_string (obj, "direction");
  return g_strdup_printf ("to %s, %s", to,
                          direction != NULL ? direction : "both");
}

static const struct {
  const gchar *member;
  gchar *(*text) (JsonNode *node);
} policy_sections[] = {
  { "blocked", node_text },
  { "security", security_text },
  { "shaping", shaping_text },
  { "mirror", mirror_text },
};

static gboolean
is_policy_section (const gchar *member)
{
  for (gsize i = 0; i < G_N_ELEMENTS (policy_sections); i++)
    if (g_str_equal (policy_sections[i].member, member))
      return TRUE;
  return FALSE;
}

void
ctl_policy_add_rows (DvsTable *table, JsonNode *policy, const gchar *indent)
{
  JsonObject *obj;
  g_autoptr(GList) members = NULL;

  if (policy == NULL || !JSON_NODE_HOLDS_OBJECT (policy))
    {
      g_autofree gchar *label = g_strconcat (indent, "policy:", NULL);
      g_autofree gchar *value = node_text (policy);

      dvs_table_add_row (table, (const gchar *[]) { label, value });
      return;
    }
  obj = json_node_get_object (policy);
  for (gsize i = 0; i < G_N_ELEMENTS (policy_sections); i++)
    {
      JsonNode *node = json_object_get_member (obj, policy_sections[i].member);
      g_autofree gchar *label = NULL;
      g_autofree gchar *value = NULL;

      if (node == NULL)
        continue;
      label = g_strconcat (indent, policy_sections[i].member, ":", NULL);
      value = policy_sections[i].text (node);
      dvs_table_add_row (table, (const gchar *[]) { label, value });
    }
  /* Sections a newer daemon may add. */
  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autofree gchar *label = NULL;
      g_autofree gchar *value = NULL;

      if (is_policy_section (l->data))
        continue;
      label = g_strconcat (indent, l->data, ":", NULL);
      value = ctl_member_text (obj, l->data);
      dvs_table_add_row (table, (const gchar *[]) { label, value });
    }
}

gchar *
ctl_policy_brief (JsonNode *policy)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GList) members = NULL;
  JsonObject *obj;

  if (policy == NULL || !JSON_NODE_HOLDS_OBJECT (policy))
    return node_text (policy);
  obj = json_node_get_object (policy);
  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (obj, l->data);

      if (is_false_or_null (node))
        continue;
      if (out->len > 0)
        g_string_append_c (out, ',');
      g_string_append (out, l->data);
    }
  if (out->len == 0)
    return g_strdup ("-");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* --- Port counters. */

/* "rx" and its per-kind lines: "unicast" from unicast_packets/_bytes. */
static void
add_direction_rows (DvsTable *table, JsonObject *dir, const gchar *label)
{
  g_autoptr(GList) members = json_object_get_members (dir);
  g_autofree gchar *packets = ctl_member_text (dir, "packets");
  g_autofree gchar *bytes = ctl_member_text (dir, "bytes");

  dvs_table_add_row (table, (const gchar *[]) { label, packets, bytes });
  for (GList *l = members; l != NULL; l = l->next)
    {
      const gchar *member = l->data;
      g_autofree gchar *kind = NULL;
      g_autofree gchar *kind_label = NULL;
      g_autofree gchar *bytes_member = NULL;
      g_autofree gchar *kind_packets = NULL;
      g_autofree gchar *kind_bytes = NULL;

      if (!g_str_has_suffix (member, "_packets"))
        continue;
      kind = g_strndup (member, strlen (member) - strlen ("_packets"));
      kind_label = g_strconcat ("  ", kind, NULL);
      bytes_member = g_strconcat (kind, "_bytes", NULL);
      kind_packets = ctl_member_text (dir, member);
      kind_bytes = ctl_member_text (dir, bytes_member);
      dvs_table_add_row (table, (const gchar *[]) { kind_label, kind_packets,
                                                    kind_bytes });
    }
}

/* "drops" and a line per counter in it: "  vlan filtered". */
static void
add_counter_group_rows (DvsTable *table, JsonObject *group, const gchar *label)
{
  g_autoptr(GList) members = json_object_get_members (group);

  dvs_table_add_row (table, (const gchar *[]) { label, "", "" });
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autofree gchar *row_label = g_strconcat ("  ", l->data, NULL);
      g_autofree gchar *value = ctl_member_text (group, l->data);

      g_strdelimit (row_label, "_", ' ');
      dvs_table_add_row (table, (const gchar *[]) { row_label, value, "" });
    }
}

/* "queue 0 rx", "queue 0 tx", ... from "queues": {"0": {rx_packets, ...}}. */
static void
add_queue_rows (DvsTable *table, JsonObject *queues)
{
  g_autoptr(GList) members = json_object_get_members (queues);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *q = dvs_json_get_object (queues, l->data);
      static const gchar *const dirs[] = { "rx", "tx" };

      if (q == NULL)
        continue;
      for (gsize d = 0; d < G_N_ELEMENTS (dirs); d++)
        {
          g_autofree gchar *label = g_strdup_printf ("queue %s %s", (const gchar *) l->data,
                                                     dirs[d]);
          g_autofree gchar *pm = g_strconcat (dirs[d], "_packets", NULL);
          g_autofree gchar *bm = g_strconcat (dirs[d], "_bytes", NULL);
          g_autofree gchar *packets = ctl_member_text (q, pm);
          g_autofree gchar *bytes = ctl_member_text (q, bm);

          dvs_table_add_row (table, (const gchar *[]) { label, packets, bytes });
        }
    }
}

void
ctl_print_port_stats (JsonObject *stats)
{
  static const gchar *const known[] = { "rx", "tx", "drops", "queues", NULL };
  g_autoptr(DvsTable) table = dvs_table_new (
      0, (const gchar *const[]) { "", "packets", "bytes", NULL },
      DVS_TABLE_NONE);
  g_autoptr(GList) members = json_object_get_members (stats);
  JsonObject *rx = dvs_json_get_object (stats, "rx");
  JsonObject *tx = dvs_json_get_object (stats, "tx");
  JsonObject *drops = dvs_json_get_object (stats, "drops");
  JsonObject *queues = dvs_json_get_object (stats, "queues");

  dvs_table_align_right (table, 1);
  dvs_table_align_right (table, 2);
  if (rx != NULL)
    add_direction_rows (table, rx, "rx (from guest)");
  if (tx != NULL)
    add_direction_rows (table, tx, "tx (to guest)");
  if (drops != NULL)
    add_counter_group_rows (table, drops, "drops");
  if (queues != NULL)
    add_queue_rows (table, queues);
  /* "mirrored", and counters a newer daemon may add. */
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autofree gchar *label = NULL;
      g_autofree gchar *value = NULL;
      JsonObject *group;

      if (g_strv_contains (known, l->data))
        continue;
      label = g_strdelimit (g_strdup (l->data), "_", ' ');
      group = dvs_json_get_object (stats, l->data);
      if (group != NULL)
        {
          add_counter_group_rows (table, group, label);
          continue;
        }
      value = ctl_member_text (stats, l->data);
      dvs_table_add_row (table, (const gchar *[]) { label, value, "" });
    }
  printf ("\n");
  dvs_table_print (table);
}

void
ctl_add_other_members (DvsTable *table, JsonObject *obj,
                             const gchar *const *known)
{
  g_autoptr(GList) members = json_object_get_members (obj);

  for (GList *l = members; l != NULL; l = l->next)
    {
      g_autofree gchar *label = NULL;
      g_autofree gchar *value = NULL;

      if (g_strv_contains (known, l->data))
        continue;
      label = g_strdelimit (g_strconcat (l->data, ":", NULL), "_", ' ');
      value = ctl_member_text (obj, l->data);
      dvs_table_add_row (table, (const gchar *[]) { label, value });
    }
}
