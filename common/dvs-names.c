/* Name rules shared by the daemons (dvs-names.h). */
#include "dvs-names.h"

#include <string.h>

G_DEFINE_QUARK (dvs-name-error-quark, dvs_name_error)

gboolean
dvs_name_check_display (const gchar *name, const gchar *what,
                        guint max_chars, GError **error)
{
  glong n_chars;

  if (name == NULL || *name == '\0' || !g_utf8_validate (name, -1, NULL)
      || (n_chars = g_utf8_strlen (name, -1)) > (glong) max_chars)
    {
      g_set_error (error, DVS_NAME_ERROR, DVS_NAME_ERROR_INVALID,
                   "%s must be 1-%u characters of UTF-8", what, max_chars);
      return FALSE;
    }
  for (const gchar *c = name; *c != '\0'; c = g_utf8_next_char (c))
    if (g_unichar_iscntrl (g_utf8_get_char (c)))
      {
        g_set_error (error, DVS_NAME_ERROR, DVS_NAME_ERROR_INVALID,
                     "%s must not contain control characters", what);
        return FALSE;
      }
  return TRUE;
}

gboolean
dvs_name_check_token (const gchar *name, const gchar *what, gsize max_len,
                      GError **error)
{
  gsize len = name != NULL ? strnlen (name, max_len + 1) : 0;

  if (len == 0 || len > max_len)
    {
      g_set_error (error, DVS_NAME_ERROR, DVS_NAME_ERROR_INVALID,
                   "%s must be 1-%" G_GSIZE_FORMAT " characters", what, max_len);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if ((guchar) name[i] <= 0x20 || (guchar) name[i] >= 0x7f)
      {
        g_set_error (error, DVS_NAME_ERROR, DVS_NAME_ERROR_INVALID,
                     "%s must be printable ASCII without spaces (no control "
                     "characters)", what);
        return FALSE;
      }
  return TRUE;
}
