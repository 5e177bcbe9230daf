/* The one JSON writer of the project.  Every JSON text the daemons and
 * tools write — replies, requests, store files, logs, D-Bus strings, CLI
 * output — goes through it, so that it is valid JSON whatever the data
 * holds.
 *
 * json-glib 1.6 does not escape U+001F (its escaper stops at 0x1e), so a
 * member name or value holding it made a reply that strict parsers
 * (Python's json.loads) refuse.  This writer lets json-glib generate the
 * text and then escapes, inside strings, every C0 control character
 * (U+0000-U+001F) and every C1 one (U+0080-U+009F, which some terminals
 * obey as escape sequences) as \u00XX, and replaces bytes that are not
 * UTF-8 (json-glib turns a lone surrogate "\ud800" into such bytes) by
 * U+FFFD.  It also repairs json-glib's doubles: 1e308 is written
 * "1e+308.0" and infinity "inf.0", which no parser accepts; they become
 * "1e+308" and null.  Everything else is byte for byte
 * what json-glib writes, so digests over canonical text are unchanged for
 * data without control characters. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* @node as JSON text: compact, or @pretty (indented by 2).  NULL is
 * written as "null". */
gchar *dvs_json_write (JsonNode *node, gboolean pretty);

/* The same with json-glib's pretty indent of @indent spaces (0 with
 * @pretty: json-glib's default of 2), and the length in @length (may be
 * NULL). */
gchar *dvs_json_write_full (JsonNode *node, gboolean pretty, guint indent,
                            gsize *length);

/* Whether @text (@len bytes) is safe as one line of this project's
 * protocols: valid UTF-8, no raw byte below 0x20 and no raw C1 control.  True
 * of every compact text the writer makes (tests and fuzz targets check
 * replies with it). */
gboolean dvs_json_text_is_clean (const gchar *text, gsize len);

G_END_DECLS
