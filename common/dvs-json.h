/* Reading JSON that a peer sent, tolerantly, and printing it: for the
 * command lines, which show whatever a daemon answered. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Typed member access: NULL or FALSE when @obj is NULL, or the member is
 * absent or of another type. */
const gchar *dvs_json_get_string (JsonObject *obj, const gchar *member);
gboolean dvs_json_get_int (JsonObject *obj, const gchar *member,
                           gint64 *out);
JsonObject *dvs_json_get_object (JsonObject *obj, const gchar *member);
JsonArray *dvs_json_get_array (JsonObject *obj, const gchar *member);

/* Where json-glib's @parse_error happened, as " (line L, column C)", or ""
 * when it does not say.  For messages about files: json-glib's own message
 * may quote the text, and a file may hold anything (a link to a secret put
 * there by someone else), so such messages never show content. */
gchar *dvs_json_error_position (const GError *parse_error);

/* Pretty JSON (indented by 2) on stdout, newline-terminated; NULL prints as
 * "null". */
void dvs_json_print (JsonNode *node);

G_END_DECLS
