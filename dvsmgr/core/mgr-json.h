/* Short forms for building dvsmgr's JSON objects with a JsonBuilder: one
 * call per member.  NULL strings and nodes become null. */
#pragma once

#include <json-glib/json-glib.h>

static inline void
mgr_json_str (JsonBuilder *b, const gchar *name, const gchar *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static inline void
mgr_json_int (JsonBuilder *b, const gchar *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static inline void
mgr_json_bool (JsonBuilder *b, const gchar *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

/* A copy of @node (NULL: null). */
static inline void
mgr_json_copy (JsonBuilder *b, const gchar *name, JsonNode *node)
{
  json_builder_set_member_name (b, name);
  if (node)
    json_builder_add_value (b, json_node_copy (node));
  else
    json_builder_add_null_value (b);
}

static inline void
mgr_json_strv (JsonBuilder *b, const gchar *name, GPtrArray *strings)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; strings && i < strings->len; i++)
    json_builder_add_string_value (b, strings->pdata[i]);
  json_builder_end_array (b);
}
