/* dvs-log: record rendering (logfmt and JSON, quoting, field selection) and
 * the installed writer, run in subprocesses so its stderr can be checked. */
#include "dvs-log.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define TS_PATTERN "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

static const GLogField sample[] = {
  { "GLIB_DOMAIN", "dvs-port", -1 },
  { "PRIORITY", "4", -1 },
  { "MESSAGE", "peer \"vm1\" disconnected", -1 },
  { "PORT", "vm1", -1 },
  { "REASON", "said bye = done\\now", -1 },
  { "GLIB_OLD_LOG_API", "1", -1 },
  { "CODE_FILE", "port.c", -1 },
  { "CODE_LINE", "12", -1 },
  { "EMPTY", "", -1 },
  { "My-Key", "x", -1 },
  { "BLOB", "\0\1", 2 },
  { "SIZED", "abcdef", 3 },
  { "MULTI", "a\nb\tc\001", -1 },
};

/* Returns the record with its "ts=...Z " prefix checked and removed. */
static gchar *
strip_text_ts (const gchar *record)
{
  g_assert_true (g_regex_match_simple ("^ts=" TS_PATTERN " ", record, 0, 0));
  return g_strdup (strchr (record, ' ') + 1);
}

static void
test_text (void)
{
  g_autofree gchar *record = NULL;
  g_autofree gchar *rest = NULL;

  record = dvs_log_format_record (DVS_LOG_FORMAT_TEXT, G_LOG_LEVEL_WARNING,
                                  sample, G_N_ELEMENTS (sample));
  rest = strip_text_ts (record);
  g_assert_cmpstr (rest, ==,
                   "level=warning prog=dvs-switchd domain=dvs-port "
                   "msg=\"peer \\\"vm1\\\" disconnected\" port=vm1 "
                   "reason=\"said bye = done\\\\now\" empty=\"\" my_key=x "
                   "blob=\"<2 bytes of binary data>\" sized=abc "
                   "multi=\"a\\nb\\tc\\u0001\"");
  g_assert_null (strchr (record, '\n'));
}

static void
test_text_minimal (void)
{
  /* The domain is left out when it only repeats the program name. */
  static const GLogField fields[] = {
    { "MESSAGE", "ready", -1 },
    { "GLIB_DOMAIN", "dvs-switchd", -1 },
  };
  static const struct {
    GLogLevelFlags level;
    const gchar *name;
  } levels[] = {
    { G_LOG_LEVEL_ERROR, "error" },
    { G_LOG_LEVEL_CRITICAL, "critical" },
    { G_LOG_LEVEL_WARNING, "warning" },
    { G_LOG_LEVEL_MESSAGE, "notice" },
    { G_LOG_LEVEL_INFO, "info" },
    { G_LOG_LEVEL_DEBUG, "debug" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (levels); i++)
    {
      g_autofree gchar *record = NULL;
      g_autofree gchar *rest = NULL;
      g_autofree gchar *expected = NULL;

      record = dvs_log_format_record (DVS_LOG_FORMAT_TEXT, levels[i].level,
                                      fields, G_N_ELEMENTS (fields));
      rest = strip_text_ts (record);
      expected = g_strdup_printf ("level=%s prog=dvs-switchd msg=\"ready\"",
                                  levels[i].name);
      g_assert_cmpstr (rest, ==, expected);
    }
}

static void
test_json (void)
{
  g_autofree gchar *record = NULL;
  g_autofree gchar *expected = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  const gchar *ts;

  record = dvs_log_format_record (DVS_LOG_FORMAT_JSON, G_LOG_LEVEL_INFO,
                                  sample, G_N_ELEMENTS (sample));
  g_assert_null (strchr (record, '\n'));
  root = json_from_string (record, &error);
  g_assert_no_error (error);
  ts = json_object_get_string_member (json_node_get_object (root), "ts");
  g_assert_true (g_regex_match_simple ("^" TS_PATTERN "$", ts, 0, 0));

  expected = g_strdup_printf (
      "{\"ts\":\"%s\",\"level\":\"info\",\"prog\":\"dvs-switchd\","
      "\"domain\":\"dvs-port\",\"msg\":\"peer \\\"vm1\\\" disconnected\","
      "\"port\":\"vm1\",\"reason\":\"said bye = done\\\\now\","
      "\"empty\":\"\",\"my_key\":\"x\","
      "\"blob\":\"<2 bytes of binary data>\",\"sized\":\"abc\","
      "\"multi\":\"a\\nb\\tc\\u0001\"}", ts);
  g_assert_cmpstr (record, ==, expected);
}

static void
test_format_parse (void)
{
  g_autoptr(GError) error = NULL;
  DvsLogFormat format = DVS_LOG_FORMAT_JSON;

  g_assert_true (dvs_log_format_parse ("text", &format, &error));
  g_assert_cmpint (format, ==, DVS_LOG_FORMAT_TEXT);
  g_assert_true (dvs_log_format_parse ("json", &format, &error));
  g_assert_cmpint (format, ==, DVS_LOG_FORMAT_JSON);
  g_assert_false (dvs_log_format_parse ("xml", &format, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "Unknown log format \"xml\": use text or json.");
  g_assert_cmpint (format, ==, DVS_LOG_FORMAT_JSON);
}

/* The body of the writer tests, run in a child process. */
static void
log_some_records (void)
{
  DVS_LOG_KV (G_LOG_LEVEL_WARNING, "PORT", "vm1", "peer %s", "gone");
  g_log_structured ("dvs-test", G_LOG_LEVEL_MESSAGE, "MESSAGE", "hello %d",
                    42);
  g_info ("an info record");
  g_debug ("a debug record");
}

static void
test_writer_text (void)
{
  if (g_test_subprocess ())
    {
      dvs_log_init ("dvs-test", DVS_LOG_FORMAT_TEXT, FALSE);
      log_some_records ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("ts=*Z level=warning prog=dvs-test "
                             "msg=\"peer gone\" port=vm1\n"
                             "ts=*Z level=notice prog=dvs-test "
                             "msg=\"hello 42\"\n"
                             "ts=*Z level=info prog=dvs-test "
                             "msg=\"an info record\"\n");
  g_test_trap_assert_stderr_unmatched ("*debug*");
}

static void
test_writer_json_verbose (void)
{
  if (g_test_subprocess ())
    {
      dvs_log_init ("dvs-test", DVS_LOG_FORMAT_JSON, TRUE);
      log_some_records ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("{\"ts\":\"*Z\",\"level\":\"warning\","
                             "\"prog\":\"dvs-test\",\"msg\":\"peer gone\","
                             "\"port\":\"vm1\"}\n*"
                             "\"level\":\"debug\",\"prog\":\"dvs-test\","
                             "\"msg\":\"a debug record\"}\n");
}

int
main (int argc, char **argv)
{
  /* The writer tests expect debug records to be dropped by default. */
  g_unsetenv ("G_MESSAGES_DEBUG");
  g_test_init (&argc, &argv, NULL);
  if (!g_test_subprocess ())
    dvs_log_init ("dvs-switchd", DVS_LOG_FORMAT_TEXT, FALSE);

  g_test_add_func ("/log/text", test_text);
  g_test_add_func ("/log/text/levels", test_text_minimal);
  g_test_add_func ("/log/json", test_json);
  g_test_add_func ("/log/format-parse", test_format_parse);
  g_test_add_func ("/log/writer/text", test_writer_text);
  g_test_add_func ("/log/writer/json-verbose", test_writer_json_verbose);

  return g_test_run ();
}
