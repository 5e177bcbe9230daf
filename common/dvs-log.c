/* The log writer: journald, or logfmt/JSON lines on stderr. */
#include "dvs-log.h"
#include "dvs-json-write.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Set by dvs_log_init() before other threads log, read-only afterwards. */
static gchar *log_ident;
static DvsLogFormat log_format = DVS_LOG_FORMAT_TEXT;
static gboolean log_to_journald;

gboolean
dvs_log_format_parse (const gchar *s, DvsLogFormat *out, GError **error)
{
  if (g_strcmp0 (s, "text") == 0)
    *out = DVS_LOG_FORMAT_TEXT;
  else if (g_strcmp0 (s, "json") == 0)
    *out = DVS_LOG_FORMAT_JSON;
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Unknown log format \"%s\": use text or json.",
                   s != NULL ? s : "");
      return FALSE;
    }
  return TRUE;
}

static const gchar *
level_name (GLogLevelFlags level)
{
  if (level & G_LOG_LEVEL_ERROR)
    return "error";
  if (level & G_LOG_LEVEL_CRITICAL)
    return "critical";
  if (level & G_LOG_LEVEL_WARNING)
    return "warning";
  if (level & G_LOG_LEVEL_MESSAGE)
    return "notice";
  if (level & G_LOG_LEVEL_INFO)
    return "info";
  return "debug";
}

static const gchar *
program_name (void)
{
  if (log_ident != NULL)
    return log_ident;
  return g_get_prgname () != NULL ? g_get_prgname () : "unknown";
}

static gboolean
field_is (const GLogField *field, const gchar *key)
{
  return g_strcmp0 (field->key, key) == 0;
}

/* Fields the writer renders itself (MESSAGE, PRIORITY, GLIB_DOMAIN) or that
 * are GLib's bookkeeping. */
static gboolean
field_is_special (const GLogField *field)
{
  return field_is (field, "MESSAGE") || field_is (field, "PRIORITY")
         || field_is (field, "GLIB_DOMAIN") || field_is (field, "GLIB_OLD_LOG_API")
         || g_str_has_prefix (field->key, "CODE_");
}

/* A field's value as valid UTF-8; binary values are summarized. */
static gchar *
field_value (const GLogField *field)
{
  gsize size;

  if (field->value == NULL)
    return g_strdup ("");
  if (field->length < 0)
    return g_utf8_make_valid (field->value, -1);
  size = (gsize) field->length;
  if (memchr (field->value, '\0', size) != NULL
      || !g_utf8_validate (field->value, (gssize) size, NULL))
    return g_strdup_printf ("<%" G_GSIZE_FORMAT " bytes of binary data>", size);
  return g_strndup (field->value, size);
}

/* "PORT" → "port"; anything but [a-z0-9_] becomes '_' so logfmt stays
 * parseable. */
static gchar *
field_key (const gchar *key)
{
  gchar *out = g_ascii_strdown (key, -1);

  for (gchar *p = out; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      *p = '_';
  return out;
}

static gchar *
timestamp_now (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *base = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", base,
                          g_date_time_get_microsecond (now) / 1000);
}

static const GLogField *
find_field (const GLogField *fields, gsize n_fields, const gchar *key)
{
  for (gsize i = 0; i < n_fields; i++)
    if (field_is (&fields[i], key))
      return &fields[i];
  return NULL;
}

/* The domain is worth printing only when it says more than the program. */
static gchar *
domain_of (const GLogField *fields, gsize n_fields)
{
  const GLogField *field = find_field (fields, n_fields, "GLIB_DOMAIN");
  g_autofree gchar *domain = NULL;

  if (field == NULL)
    return NULL;
  domain = field_value (field);
  if (*domain == '\0' || g_strcmp0 (domain, program_name ()) == 0)
    return NULL;
  return g_steal_pointer (&domain);
}

static gboolean
logfmt_needs_quotes (const gchar *value)
{
  if (*value == '\0')
    return TRUE;
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static void
logfmt_append (GString *out, const gchar *key, const gchar *value,
               gboolean always_quote)
{
  if (out->len > 0)
    g_string_append_c (out, ' ');
  g_string_append_printf (out, "%s=", key);
  if (!always_quote && !logfmt_needs_quotes (value))
    {
      g_string_append (out, value);
      return;
    }
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (*p < ' ' || *p == 0x7f)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (gchar) *p);
          break;
        }
    }
  g_string_append_c (out, '"');
}

static gchar *
format_text (GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree gchar *ts = timestamp_now ();
  g_autofree gchar *domain = domain_of (fields, n_fields);
  const GLogField *message = find_field (fields, n_fields, "MESSAGE");
  g_autofree gchar *msg = message != NULL ? field_value (message) : g_strdup ("");

  logfmt_append (out, "ts", ts, FALSE);
  logfmt_append (out, "level", level_name (level), FALSE);
  logfmt_append (out, "prog", program_name (), FALSE);
  if (domain != NULL)
    logfmt_append (out, "domain", domain, FALSE);
  logfmt_append (out, "msg", msg, TRUE);
  for (gsize i = 0; i < n_fields; i++)
    {
      g_autofree gchar *key = NULL;
      g_autofree gchar *value = NULL;

      if (field_is_special (&fields[i]))
        continue;
      key = field_key (fields[i].key);
      value = field_value (&fields[i]);
      logfmt_append (out, key, value, FALSE);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gchar *
format_json (GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *ts = timestamp_now ();
  g_autofree gchar *domain = domain_of (fields, n_fields);
  const GLogField *message = find_field (fields, n_fields, "MESSAGE");
  g_autofree gchar *msg = message != NULL ? field_value (message) : g_strdup ("");

  json_object_set_string_member (obj, "ts", ts);
  json_object_set_string_member (obj, "level", level_name (level));
  json_object_set_string_member (obj, "prog", program_name ());
  if (domain != NULL)
    json_object_set_string_member (obj, "domain", domain);
  json_object_set_string_member (obj, "msg", msg);
  for (gsize i = 0; i < n_fields; i++)
    {
      g_autofree gchar *key = NULL;
      g_autofree gchar *value = NULL;

      if (field_is_special (&fields[i]))
        continue;
      key = field_key (fields[i].key);
      value = field_value (&fields[i]);
      json_object_set_string_member (obj, key, value);
    }
  root = json_node_init_object (json_node_alloc (), obj);
  return dvs_json_write (root, FALSE);
}

gchar *
dvs_log_format_record (DvsLogFormat format, GLogLevelFlags level,
                       const GLogField *fields, gsize n_fields)
{
  if (format == DVS_LOG_FORMAT_JSON)
    return format_json (level, fields, n_fields);
  return format_text (level, fields, n_fields);
}

/* journald shows SYSLOG_IDENTIFIER as the record's source; add it unless the
 * caller did. */
static GLogWriterOutput
write_journald (GLogLevelFlags level, const GLogField *fields, gsize n_fields)
{
  g_autofree GLogField *all = NULL;

  if (find_field (fields, n_fields, "SYSLOG_IDENTIFIER") != NULL)
    return g_log_writer_journald (level, fields, n_fields, NULL);
  all = g_new (GLogField, n_fields + 1);
  memcpy (all, fields, n_fields * sizeof (GLogField));
  all[n_fields] = (GLogField) { "SYSLOG_IDENTIFIER", program_name (), -1 };
  return g_log_writer_journald (level, all, n_fields + 1, NULL);
}

static GLogWriterOutput
dvs_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                gpointer user_data)
{
  const GLogField *domain = find_field (fields, n_fields, "GLIB_DOMAIN");
  g_autofree gchar *record = NULL;
  g_autofree gchar *line = NULL;

  /* Only debug records are filtered: info and above always matter. */
  if ((level & G_LOG_LEVEL_DEBUG)
      && g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG,
                                          domain != NULL && domain->length < 0
                                              ? domain->value : NULL))
    return G_LOG_WRITER_HANDLED;

  if (log_to_journald
      && write_journald (level, fields, n_fields) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;

  record = dvs_log_format_record (log_format, level, fields, n_fields);
  /* One fwrite per record keeps lines from different threads whole. */
  line = g_strconcat (record, "\n", NULL);
  fwrite (line, 1, strlen (line), stderr);
  fflush (stderr);
  return G_LOG_WRITER_HANDLED;
}

void
dvs_log_init (const gchar *ident, DvsLogFormat format, gboolean verbose)
{
  static gsize installed = 0;

  g_free (log_ident);
  log_ident = g_strdup (ident);
  log_format = format;
  log_to_journald = g_log_writer_is_journald (STDERR_FILENO);
  if (verbose)
    g_log_set_debug_enabled (TRUE);

  /* GLib refuses a second writer (it aborts), so install it once. */
  if (g_once_init_enter (&installed))
    {
      g_log_set_writer_func (dvs_log_writer, NULL, NULL);
      g_once_init_leave (&installed, 1);
    }
}
