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

/* Appends the number token at @p (@len bytes, outside strings) as valid
 * JSON.  json-glib 1.6 writes a double with "%.17g" and then appends ".0"
 * when it sees no '.': 1e308 becomes "1e+308.0" and infinity "inf.0",
 * neither of them JSON.  The first loses its ".0"; what is not a number
 * (inf, nan) becomes null, as JSON has no such values. */
static void
append_number (GString *out, const gchar *p, gsize len)
{
  if (memchr (p, 'i', len) != NULL || memchr (p, 'n', len) != NULL)
    g_string_append (out, "null");
  else if ((memchr (p, 'e', len) != NULL || memchr (p, 'E', len) != NULL)
           && len > 2 && p[len - 2] == '.' && p[len - 1] == '0')
    g_string_append_len (out, p, (gssize) len - 2);
  else
    g_string_append_len (out, p, (gssize) len);
}

/* Repairs what json-glib writes: inside strings every control character
 * becomes \u00XX; outside them numbers are made valid (append_number).
 * The structure, and newlines and spaces when pretty, stay. */
static gchar *
repair_text (gchar *text, gsize *length)
{
  const guchar *p = (const guchar *) text;
  gsize len = strlen (text);
  GString *out = g_string_sized_new (len + 16);
  gboolean in_string = FALSE, escaped = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      if (!in_string)
        {
          if (p[i] == '-' || g_ascii_isdigit (p[i]) || p[i] == 'i' || (p[i] == 'n' && p[i + 1] == 'a'))
            {
              gsize end = i;
              while (end < len && (g_ascii_isalnum (p[end]) || p[end] == '.' || p[end] == '+'
                                   || p[end] == '-'))
                end++;
              append_number (out, text + i, end - i);
              i = end - 1;
              continue;
            }
          in_string = p[i] == '"';
        }
      else if (escaped)
        escaped = FALSE;
      else if (p[i] == '\\')
        escaped = TRUE;
      else if (p[i] == '"')
        in_string = FALSE;
      else if (p[i] < 0x20 || is_c1 (p + i, len - i))
        {
          guint code = p[i] < 0x20 ? p[i] : p[i + 1];

          g_string_append_printf (out, "\\u%04x", code);
          if (p[i] >= 0x20)
            i++;                /* the C1's second byte */
          continue;
        }
      g_string_append_c (out, (gchar) p[i]);
    }
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
  gchar *text;
  gsize size;

  if (node == NULL)
    node = null_node = json_node_new (JSON_NODE_NULL);
  json_generator_set_pretty (generator, pretty);
  if (pretty)
    json_generator_set_indent (generator, indent > 0 ? indent : 2);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &size);
  /* json-glib reads a lone surrogate ("\ud800") into bytes that are not
   * UTF-8, and writes them back as they are: such a sequence becomes
   * U+FFFD, so that the text is always valid UTF-8 (JSON's encoding). */
  if (!g_utf8_validate_len (text, size, NULL))
    {
      gchar *valid = g_utf8_make_valid (text, (gssize) size);
      g_free (text);
      text = valid;
    }
  return repair_text (text, length);
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
  return g_utf8_validate_len (text, len, NULL);
}
