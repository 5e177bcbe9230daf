/* What a name may hold, checked the same way by dvsmgr (D-Bus arguments)
 * and dvs-switchd (switch.apply, the control socket): names end up in
 * store files, logs, JSON replies and operators' terminals, so control
 * characters are refused wherever a name enters the system. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DVS_NAME_ERROR (dvs_name_error_quark ())
GQuark dvs_name_error_quark (void);

typedef enum {
  DVS_NAME_ERROR_INVALID,
} DvsNameError;

/* A name shown to operators (a switch, a port group, a network, a VM):
 * 1 to @max_chars characters of valid UTF-8 with no control character —
 * C0 (U+0000-U+001F), DEL (U+007F) or C1 (U+0080-U+009F).  The error
 * names @what ("the switch name") and never quotes @name. */
gboolean dvs_name_check_display (const gchar *name, const gchar *what,
                                 guint max_chars, GError **error);

/* An identifier passed between programs (a connection ID): 1 to @max_len
 * printable ASCII characters other than space (0x21-0x7e). */
gboolean dvs_name_check_token (const gchar *name, const gchar *what,
                               gsize max_len, GError **error);

G_END_DECLS
