/* The project's JSON writer (dvs-json-write.h): valid JSON whatever the
 * strings hold, and json-glib's text unchanged otherwise. */
#include <glib.h>
#include <string.h>

#include "dvs-json-write.h"
#include "dvs-jsonrpc.h"

/* Every C0 control, DEL and two C1 controls (U+0085 NEL, U+009B CSI). */
static gchar *
nasty_string (void)
{
  GString *s = g_string_new ("a");

  for (gint c = 1; c < 0x20; c++)
    g_string_append_c (s, (gchar) c);
  g_string_append (s, "\x7f\xc2\x85\xc2\x9b[31m\"\\/z\xc3\xa9");
  return g_string_free (s, FALSE);
}

static JsonNode *
doc_with (const gchar *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, s);
  json_builder_add_string_value (b, s);
  json_builder_set_member_name (b, "list");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, s);
  json_builder_add_int_value (b, 7);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* The text parses back to the same strings. */
static void
assert_round_trip (const gchar *text, const gchar *s)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  JsonObject *o;

  g_assert_true (json_parser_load_from_data (p, text, -1, NULL));
  o = json_node_get_object (json_parser_get_root (p));
  g_assert_true (json_object_has_member (o, s));
  g_assert_cmpstr (json_object_get_string_member (o, s), ==, s);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (o, "list"), 0), ==, s);
}

static void
test_controls_escaped (void)
{
  g_autofree gchar *s = nasty_string ();
  g_autoptr (JsonNode) doc = doc_with (s);
  g_autofree gchar *compact = dvs_json_write (doc, FALSE);
  g_autofree gchar *pretty = NULL;
  gsize len = 0;

  /* json-glib 1.6.6 itself leaves U+001F raw: the reason for this writer. */
  g_assert_nonnull (strstr (compact, "\\u001f"));
  g_assert_nonnull (strstr (compact, "\\u009b"));
  g_assert_true (dvs_json_text_is_clean (compact, strlen (compact)));
  assert_round_trip (compact, s);

  pretty = dvs_json_write_full (doc, TRUE, 2, &len);
  g_assert_cmpuint (len, ==, strlen (pretty));
  g_assert_null (strchr (pretty, '\x1f'));
  g_assert_nonnull (strstr (pretty, "\n  \""));
  assert_round_trip (pretty, s);
}

/* Without control characters the text is json-glib's, byte for byte (the
 * DVswitch digest is over it). */
static void
test_plain_unchanged (void)
{
  g_autoptr (JsonNode) doc = doc_with ("web \"tier\" \\ caf\xc3\xa9 \xe2\x82\xac");
  g_autofree gchar *ours = dvs_json_write (doc, FALSE);
  g_autofree gchar *theirs = json_to_string (doc, FALSE);
  g_autofree gchar *ours_pretty = dvs_json_write (doc, TRUE);
  g_autofree gchar *theirs_pretty = json_to_string (doc, TRUE);
  g_autofree gchar *null_text = dvs_json_write (NULL, FALSE);

  g_assert_cmpstr (ours, ==, theirs);
  g_assert_cmpstr (ours_pretty, ==, theirs_pretty);
  g_assert_cmpstr (null_text, ==, "null");
}

/* json-glib writes 1e308 as "1e+308.0" and infinity as "inf.0", and a
 * lone surrogate it parsed as bytes that are not UTF-8: all repaired. */
static void
test_numbers_and_surrogates (void)
{
  g_autoptr (JsonNode) doc = json_from_string ("[1e308,1e400,-1e400,1.5,0.1,1E5,7,-3,\"\\ud800x\"]", NULL);
  g_autofree gchar *text = NULL, *pretty = NULL;
  g_autoptr (JsonNode) back = NULL;

  g_assert_nonnull (doc);
  text = dvs_json_write (doc, FALSE);
  g_assert_true (dvs_json_text_is_clean (text, strlen (text)));
  g_assert_true (g_str_has_prefix (text, "[1e+308,null,null,1.5,0.10000000000000001,100000.0,7,-3,\""));
  back = json_from_string (text, NULL);
  g_assert_nonnull (back);
  g_assert_cmpfloat (json_array_get_double_element (json_node_get_array (back), 0), ==, 1e308);
  pretty = dvs_json_write (doc, TRUE);
  g_assert_nonnull (strstr (pretty, "1e+308,\n"));
  g_assert_true (g_utf8_validate (pretty, -1, NULL));
}

/* An error reply echoing a member name with U+001F (a buggy or hostile
 * peer) is still one clean line of valid JSON. */
static void
test_error_reply_clean (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) id = NULL;
  g_autoptr (DvsJsonrpcRequest) req = NULL;
  g_autoptr (JsonObject) params = json_object_new ();
  const gchar *line = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"m\",\"x\\u001fy\":1}";
  g_autofree gchar *reply = NULL;
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autofree gchar *built = NULL;

  req = dvs_jsonrpc_parse_request (line, strlen (line), &id, &error);
  g_assert_null (req);
  g_assert_nonnull (strstr (error->message, "x\x1fy"));
  reply = dvs_jsonrpc_build_error (id, error->code, error->message);
  g_assert_true (dvs_json_text_is_clean (reply, strlen (reply)));
  g_assert_nonnull (strstr (reply, "x\\u001fy"));
  g_assert_true (json_parser_load_from_data (p, reply, -1, NULL));

  json_object_set_string_member (params, "name\x1f", "v\x1b[2J");
  built = dvs_jsonrpc_build_request (1, "m\x1f", g_steal_pointer (&params));
  g_assert_true (dvs_json_text_is_clean (built, strlen (built)));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json-write/controls-escaped", test_controls_escaped);
  g_test_add_func ("/json-write/plain-unchanged", test_plain_unchanged);
  g_test_add_func ("/json-write/error-reply-clean", test_error_reply_clean);
  g_test_add_func ("/json-write/numbers-and-surrogates", test_numbers_and_surrogates);
  return g_test_run ();
}
