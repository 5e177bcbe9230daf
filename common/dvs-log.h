/* Structured logging for the project's daemons and tools.
 *
 * Everything logs through GLib's structured API (g_log_structured, or the
 * g_message/g_warning macros, which carry MESSAGE and GLIB_DOMAIN); this
 * module installs the writer:
 *   - journald when stderr is connected to the journal;
 *   - otherwise one line per record on stderr, either logfmt
 *     (`ts=... level=info prog=dvs-switchd msg="..." port=vm1`) or JSON
 *     (`{"ts":"...","level":"info",...}`), every extra field included
 *     (GLIB_DOMAIN as `domain` when it differs from the program name; GLib's
 *     internal and CODE_* fields left out).
 * Levels are named error, critical, warning, notice (g_message), info and
 * debug.  Debug records are dropped unless verbose is set (or
 * G_MESSAGES_DEBUG names their domain); info and above are always written. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DVS_LOG_FORMAT_TEXT,
  DVS_LOG_FORMAT_JSON,
} DvsLogFormat;

/* Parses "text" or "json". */
gboolean dvs_log_format_parse (const gchar *s, DvsLogFormat *out,
                               GError **error);

/* Installs the writer.  @ident names the program in every record.  Call it
 * early, before other threads log; a second call only changes the settings. */
void dvs_log_init (const gchar *ident, DvsLogFormat format, gboolean verbose);

/* Renders one record as the writer would (no trailing newline); for tests. */
gchar *dvs_log_format_record (DvsLogFormat format, GLogLevelFlags level,
                              const GLogField *fields, gsize n_fields);

/* Log with one extra key/value string field, e.g.
 *   DVS_LOG_KV (G_LOG_LEVEL_WARNING, "PORT", name, "peer disconnected: %s",
 *               why);
 * Wraps g_log_structured so call sites stay short.  The key is upper case
 * (journald's convention); the text writers print it in lower case. */
#define DVS_LOG_KV(level, key, value, ...) \
  g_log_structured (G_LOG_DOMAIN, level, key, value, "MESSAGE", __VA_ARGS__)

G_END_DECLS
