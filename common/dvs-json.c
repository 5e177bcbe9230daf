/* Tolerant JSON member access and printing (dvs-json.h). */
#include "dvs-json.h"
#include "dvs-json-write.h"

#include <stdio.h>

static JsonNode *
member_of (JsonObject *obj, const gchar *member)
{
  return obj != NULL ? json_object_get_member (obj, member) : NULL;
}

static gboolean
holds_type (JsonNode *node, GType type)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == type;
}

const gchar *
dvs_json_get_string (JsonObject *obj, const gchar *member)
{
  JsonNode *node = member_of (obj, member);

  return holds_type (node, G_TYPE_STRING) ? json_node_get_string (node) : NULL;
}

gboolean
dvs_json_get_int (JsonObject *obj, const gchar *member, gint64 *out)
{
  JsonNode *node = member_of (obj, member);

  if (!holds_type (node, G_TYPE_INT64))
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

JsonObject *
dvs_json_get_object (JsonObject *obj, const gchar *member)
{
  JsonNode *node = member_of (obj, member);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
             ? json_node_get_object (node) : NULL;
}

JsonArray *
dvs_json_get_array (JsonObject *obj, const gchar *member)
{
  JsonNode *node = member_of (obj, member);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node)
             ? json_node_get_array (node) : NULL;
}

gchar *
dvs_json_error_position (const GError *parse_error)
{
  guint line, column;

  if (parse_error != NULL && parse_error->message != NULL
      && sscanf (parse_error->message, "<data>:%u:%u:", &line, &column) == 2)
    return g_strdup_printf (" (line %u, column %u)", line, column);
  return g_strdup ("");
}

void
dvs_json_print (JsonNode *node)
{
  g_autofree gchar *text = NULL;

  if (node == NULL)
    {
      printf ("null\n");
      return;
    }
  text = dvs_json_write (node, TRUE);
  printf ("%s\n", text);
}
