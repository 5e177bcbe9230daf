/* The project's JSON writer: json-glib's generator, then the escapes it
 * misses (dvs-json-write.h). */
#include "dvs-json-write.h"

#include <string.h>

/* A byte that starts a C1 control in UTF-8: U+0080-U+009F are C2 80-C2 9F. */
static gboolean
is_c1 (const guchar *p, gsize left)
{
  return left >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
}

/* Escapes control characters inside the strings of @text.  Outside strings
 * json-glib writes only structure and, when pretty, newlines and spaces:
 * those stay. */
static gchar *
escape_controls (gchar *text, gsize *length)
{
  const guchar *p = (const guchar *) text;
  gsize len = strlen (text);
  GString *out = NULL;
  gboolean in_string = FALSE, escaped = FALSE;
  gsize copied = 0;

  for (gsize i = 0; i < len; i++)
    {
      guint code;

      if (!in_string)
        {
          in_string = p[i] == '"';
          continue;
        }
      if (escaped)
        {
          escaped = FALSE;
          continue;
        }
      if (p[i] == '\\')
        {
          escaped = TRUE;
          continue;
        }
      if (p[i] == '"')
        {
          in_string = FALSE;
          continue;
        }
      if (p[i] >= 0x20 && !is_c1 (p + i, len - i))
        continue;
      if (out == NULL)
        out = g_string_sized_new (len + 16);
      g_string_append_len (out, text + copied, (gssize) (i - copied));
      code = p[i] < 0x20 ? p[i] : p[i + 1];
      g_string_append_printf (out, "\\u%04x", code);
      if (p[i] >= 0x20)
        i++;                    /* the C1's second byte */
      copied = i + 1;
    }
  if (out == NULL)
    {
      if (length != NULL)
        *length = len;
      return text;
    }
  g_string_append_len (out, text + copied, (gssize) (len - copied));
  g_free (text);
  if (length != NULL)
    *length = out->len;
  return g_string_free (out, FALSE);
}

gchar *
dvs_json_write_full (JsonNode *node, gboolean pretty, guint indent,
                     gsize *length)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) null_node = NULL;

  if (node == NULL)
    node = null_node = json_node_new (JSON_NODE_NULL);
  json_generator_set_pretty (generator, pretty);
  if (pretty)
    json_generator_set_indent (generator, indent > 0 ? indent : 2);
  json_generator_set_root (generator, node);
  return escape_controls (json_generator_to_data (generator, NULL), length);
}

gchar *
dvs_json_write (JsonNode *node, gboolean pretty)
{
  return dvs_json_write_full (node, pretty, 0, NULL);
}

gboolean
dvs_json_text_is_clean (const gchar *text, gsize len)
{
  const guchar *p = (const guchar *) text;

  for (gsize i = 0; i < len; i++)
    if (p[i] < 0x20 || is_c1 (p + i, len - i))
      return FALSE;
  return TRUE;
}
