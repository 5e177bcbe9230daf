#include "vlan-config.h"

#include <string.h>
#include "dvs-jsonrpc.h"

void
dvs_vlan_config_init_access (struct dvs_vlan_config *c, guint16 tag)
{
  memset (c, 0, sizeof *c);
  c->mode = DVS_VLAN_ACCESS;
  c->tag = tag;
}

/* Sets an invalid-params error and evaluates to FALSE. */
#define invalid(error, ...) \
  ({ g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS, __VA_ARGS__); FALSE; })

static gboolean
vid_from_node (JsonNode *n, const gchar *what, guint16 *out, GError **error)
{
  gint64 v;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64)
    return invalid (error, "%s must be an integer VLAN ID (0-%d)", what, DVS_VLAN_MAX);
  v = json_node_get_int (n);
  if (v < 0 || v > DVS_VLAN_MAX)
    return invalid (error, "%s %" G_GINT64_FORMAT " is out of range: VLAN IDs are 0-%d",
                    what, v, DVS_VLAN_MAX);
  *out = (guint16) v;
  return TRUE;
}

gboolean
dvs_vlan_config_from_json (JsonNode *node, struct dvs_vlan_config *c,
                           GError **error)
{
  JsonObject *o;
  const gchar *mode;
  guint16 vid;

  if (JSON_NODE_HOLDS_VALUE (node))
    {
      if (!vid_from_node (node, "vlan", &vid, error))
        return FALSE;
      dvs_vlan_config_init_access (c, vid);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "vlan must be an integer or an object such as "
                    "{\"mode\":\"trunk\",\"trunks\":[10,20]}");
  o = json_node_get_object (node);
  g_autoptr (GList) members = json_object_get_members (o);
  for (GList *l = members; l; l = l->next)
    if (!g_str_equal (l->data, "mode") && !g_str_equal (l->data, "tag")
        && !g_str_equal (l->data, "trunks") && !g_str_equal (l->data, "native"))
      return invalid (error, "vlan has an unknown member \"%s\" (expected mode, "
                      "tag, trunks, native)", (const gchar *) l->data);
  mode = json_object_has_member (o, "mode")
           ? json_node_get_string (json_object_get_member (o, "mode")) : NULL;
  if (g_strcmp0 (mode, "access") == 0)
    {
      if (json_object_has_member (o, "trunks") || json_object_has_member (o, "native"))
        return invalid (error, "vlan.trunks and vlan.native apply to trunk ports only");
      vid = 0;
      if (json_object_has_member (o, "tag")
          && !vid_from_node (json_object_get_member (o, "tag"), "vlan.tag", &vid, error))
        return FALSE;
      dvs_vlan_config_init_access (c, vid);
      return TRUE;
    }
  if (g_strcmp0 (mode, "trunk") == 0)
    {
      JsonNode *t = json_object_get_member (o, "trunks");
      if (json_object_has_member (o, "tag"))
        return invalid (error, "vlan.tag applies to access ports only; a trunk has trunks and native");
      memset (c, 0, sizeof *c);
      c->mode = DVS_VLAN_TRUNK;
      if (t == NULL || !JSON_NODE_HOLDS_ARRAY (t))
        return invalid (error, "vlan.trunks must be an array of VLAN IDs");
      JsonArray *a = json_node_get_array (t);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          if (!vid_from_node (json_array_get_element (a, i), "vlan.trunks[]", &vid, error))
            return FALSE;
          if (vid != 0)
            dvs_vlan_trunk_allow (c, vid);
        }
      if (json_object_has_member (o, "native")
          && !vid_from_node (json_object_get_member (o, "native"), "vlan.native",
                             &c->native, error))
        return FALSE;
      return TRUE;
    }
  return invalid (error, "vlan.mode must be \"access\" or \"trunk\"");
}

JsonNode *
dvs_vlan_config_to_json (const struct dvs_vlan_config *c)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  if (c->mode == DVS_VLAN_ACCESS)
    {
      json_builder_set_member_name (b, "mode");
      json_builder_add_string_value (b, "access");
      json_builder_set_member_name (b, "tag");
      json_builder_add_int_value (b, c->tag);
    }
  else
    {
      json_builder_set_member_name (b, "mode");
      json_builder_add_string_value (b, "trunk");
      json_builder_set_member_name (b, "trunks");
      json_builder_begin_array (b);
      for (guint v = 1; v <= DVS_VLAN_MAX; v++)
        if (dvs_vlan_trunk_allows (c, (guint16) v))
          json_builder_add_int_value (b, v);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "native");
      json_builder_add_int_value (b, c->native);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
dvs_vlan_parse_id (const gchar *s, guint16 *out, GError **error)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (s, 10, 0, DVS_VLAN_MAX, &v, NULL))
    return invalid (error, "'%s' is not a VLAN ID (0-%d)", s, DVS_VLAN_MAX);
  *out = (guint16) v;
  return TRUE;
}

gboolean
dvs_vlan_parse_list (const gchar *list, struct dvs_vlan_config *c,
                     GError **error)
{
  g_auto (GStrv) items = g_strsplit (list, ",", -1);

  if (items[0] == NULL)
    return invalid (error, "empty VLAN list: give IDs and ranges like 10,20-30");
  for (gchar **it = items; *it; it++)
    {
      g_auto (GStrv) range = g_strsplit (g_strstrip (*it), "-", 3);
      guint16 lo, hi;

      if (range[0] == NULL || !dvs_vlan_parse_id (range[0], &lo, error))
        return FALSE;
      hi = lo;
      if (range[1] != NULL && (range[2] != NULL || !dvs_vlan_parse_id (range[1], &hi, error)))
        return error && *error ? FALSE : invalid (error, "bad VLAN range '%s'", *it);
      if (hi < lo)
        return invalid (error, "VLAN range '%s' is reversed", *it);
      for (guint v = lo; v <= hi; v++)
        if (v != 0)
          dvs_vlan_trunk_allow (c, (guint16) v);
    }
  return TRUE;
}

gchar *
dvs_vlan_config_describe (const struct dvs_vlan_config *c)
{
  GString *s;

  if (c->mode == DVS_VLAN_ACCESS)
    return g_strdup_printf ("access %u", c->tag);
  s = g_string_new ("trunk ");
  for (guint v = 1; v <= DVS_VLAN_MAX; v++)
    {
      guint end = v;
      if (!dvs_vlan_trunk_allows (c, (guint16) v))
        continue;
      while (end + 1 <= DVS_VLAN_MAX && dvs_vlan_trunk_allows (c, (guint16) (end + 1)))
        end++;
      if (s->str[s->len - 1] != ' ')
        g_string_append_c (s, ',');
      if (end > v)
        g_string_append_printf (s, "%u-%u", v, end);
      else
        g_string_append_printf (s, "%u", v);
      v = end;
    }
  g_string_append_printf (s, " native %u", c->native);
  return g_string_free (s, FALSE);
}
