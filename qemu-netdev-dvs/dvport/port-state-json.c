#define G_LOG_DOMAIN "dvs-dvport"
#include "port-state-json.h"

#include "dvs-jsonrpc.h"
#include "switch/port-stats-json.h"

static void
add_class (JsonBuilder *b, const gchar *name, guint16 version, GBytes *data)
{
  g_autofree gchar *text = g_base64_encode (g_bytes_get_data (data, NULL),
                                            g_bytes_get_size (data));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "class");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, version);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, text);
  json_builder_end_object (b);
}

JsonNode *
dvs_port_state_to_json (const DvsPortState *st, const gchar *switch_id,
                        const gchar *port_key, const gchar *connection)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *saved = g_date_time_format_iso8601 (now);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "switch");
  json_builder_add_string_value (b, switch_id);
  json_builder_set_member_name (b, "port");
  json_builder_add_string_value (b, port_key);
  json_builder_set_member_name (b, "connection");
  if (connection)
    json_builder_add_string_value (b, connection);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "saved");
  json_builder_add_string_value (b, saved);
  json_builder_set_member_name (b, "counters");
  json_builder_add_value (b, dvs_port_stats_to_json (&st->stats));
  json_builder_set_member_name (b, "classes");
  json_builder_begin_array (b);
  if (st->fwd_state != NULL)
    add_class (b, DVS_CHECKPOINT_FWD_CLASS, st->fwd_version, st->fwd_state);
  for (int id = 0; id < DVS_FILTER_COUNT; id++)
    if (st->filter_state[id] != NULL)
      add_class (b, dvs_filter_classes[id]->name, st->filter_version[id],
                 st->filter_state[id]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
bad (GError **error, const gchar *what)
{
  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
               "checkpoint: %s", what);
  return FALSE;
}

static gboolean
read_class (JsonObject *c, DvsPortState *st, GError **error)
{
  JsonNode *name = json_object_get_member (c, "class");
  JsonNode *version = json_object_get_member (c, "version");
  JsonNode *data = json_object_get_member (c, "data");
  const gchar *cname;
  gint64 v;
  gsize len;
  g_autofree guchar *bytes = NULL;

  if (name == NULL || json_node_get_value_type (name) != G_TYPE_STRING
      || version == NULL || json_node_get_value_type (version) != G_TYPE_INT64
      || data == NULL || json_node_get_value_type (data) != G_TYPE_STRING)
    return bad (error, "each classes[] entry needs class (string), version (integer) and data (base64)");
  cname = json_node_get_string (name);
  v = json_node_get_int (version);
  if (v < 0 || v > G_MAXUINT16)
    return bad (error, "classes[].version out of range");
  bytes = g_base64_decode (json_node_get_string (data), &len);
  if (g_str_equal (cname, DVS_CHECKPOINT_FWD_CLASS))
    {
      st->fwd_version = (guint16) v;
      st->fwd_state = g_bytes_new (bytes, len);
      return TRUE;
    }
  for (int id = 0; id < DVS_FILTER_COUNT; id++)
    if (g_str_equal (cname, dvs_filter_classes[id]->name))
      {
        st->filter_version[id] = (guint16) v;
        st->filter_state[id] = g_bytes_new (bytes, len);
        return TRUE;
      }
  g_warning ("checkpoint holds state of class '%s', which this dvs-switchd does not "
             "have; it is ignored", cname);
  return TRUE;
}

DvsPortState *
dvs_port_state_from_json (JsonNode *node, GError **error)
{
  g_autoptr (DvsPortState) st = g_new0 (DvsPortState, 1);
  JsonObject *o;
  JsonNode *classes;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      bad (error, "not a JSON object");
      return NULL;
    }
  o = json_node_get_object (node);
  if (!dvs_port_stats_from_json (json_object_get_member (o, "counters"), &st->stats, error))
    return NULL;
  classes = json_object_get_member (o, "classes");
  if (classes == NULL || !JSON_NODE_HOLDS_ARRAY (classes))
    {
      bad (error, "classes must be an array");
      return NULL;
    }
  JsonArray *a = json_node_get_array (classes);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_OBJECT (e))
        {
          bad (error, "classes[] entries must be objects");
          return NULL;
        }
      if (!read_class (json_node_get_object (e), st, error))
        return NULL;
    }
  return g_steal_pointer (&st);
}
