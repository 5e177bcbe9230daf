/* dvs-jsonrpc: request validation, response round trips, param accessors. */
#include "dvs-jsonrpc.h"
#include "dvs-json-write.h"

#include <string.h>

static DvsJsonrpcRequest *
parse (const gchar *line, JsonNode **id_out, GError **error)
{
  return dvs_jsonrpc_parse_request (line, strlen (line), id_out, error);
}

static JsonObject *
object_from (const gchar *json)
{
  g_autoptr(JsonNode) node = json_from_string (json, NULL);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static void
test_valid_request (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) id_out = NULL;
  g_autoptr(DvsJsonrpcRequest) req = NULL;

  req = parse ("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"port.show\","
               "\"params\":{\"name\":\"vm1\"}}", &id_out, &error);
  g_assert_no_error (error);
  g_assert_nonnull (req);
  g_assert_cmpstr (req->method, ==, "port.show");
  g_assert_nonnull (req->id);
  g_assert_cmpint (json_node_get_int (req->id), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (req->params, "name"), ==,
                   "vm1");
  g_assert_nonnull (id_out);
  g_assert_cmpint (json_node_get_int (id_out), ==, 7);
}

static void
test_valid_ids (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DvsJsonrpcRequest) by_string = NULL;
  g_autoptr(DvsJsonrpcRequest) by_null = NULL;

  /* A string id, and absent params become an empty object. */
  by_string = parse ("{\"jsonrpc\":\"2.0\",\"id\":\"abc\",\"method\":\"m\"}",
                     NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (by_string->id), ==, "abc");
  g_assert_nonnull (by_string->params);
  g_assert_cmpuint (json_object_get_size (by_string->params), ==, 0);

  /* A null id is a call (answered with null), not a notification. */
  by_null = parse ("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"m\","
                   "\"params\":{}}", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (by_null->id);
  g_assert_true (JSON_NODE_HOLDS_NULL (by_null->id));
}

static void
test_notification (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) id_out = NULL;
  g_autoptr(DvsJsonrpcRequest) req = NULL;

  req = parse ("  {\"jsonrpc\":\"2.0\",\"method\":\"mac.flush\"}  ", &id_out,
               &error);
  g_assert_no_error (error);
  g_assert_cmpstr (req->method, ==, "mac.flush");
  g_assert_null (req->id);
  g_assert_null (id_out);
}

typedef struct {
  const gchar *line;
  gint code;
  const gchar *id;      /* the id kept for the response, as JSON; NULL: none */
  const gchar *message; /* a part of the message */
} Malformed;

static const Malformed malformed[] = {
  { "this is not json", DVS_JSONRPC_PARSE_ERROR, NULL, "not valid JSON" },
  { "", DVS_JSONRPC_PARSE_ERROR, NULL, "empty" },
  { "{\"jsonrpc\":\"2.0\",", DVS_JSONRPC_PARSE_ERROR, NULL, "not valid JSON" },
  { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"} {\"jsonrpc\":\"2.0\"}",
    DVS_JSONRPC_PARSE_ERROR, NULL, "more than one JSON value" },
  { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"} x",
    DVS_JSONRPC_PARSE_ERROR, NULL, "more than one JSON value" },
  /* A scalar then an object: json-glib would keep the object and leak. */
  { "1 {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}",
    DVS_JSONRPC_PARSE_ERROR, NULL, "more than one JSON value" },
  { "null{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}",
    DVS_JSONRPC_PARSE_ERROR, NULL, "more than one JSON value" },
  { "\"x\" [1]", DVS_JSONRPC_PARSE_ERROR, NULL, "more than one JSON value" },
  { "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
    DVS_JSONRPC_PARSE_ERROR, NULL, "not valid JSON" },
  { "42", DVS_JSONRPC_INVALID_REQUEST, NULL, "must be a JSON object" },
  { "\"port.list\"", DVS_JSONRPC_INVALID_REQUEST, NULL,
    "must be a JSON object" },
  { "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\"}]",
    DVS_JSONRPC_INVALID_REQUEST, NULL, "Batch requests" },
  { "[]", DVS_JSONRPC_INVALID_REQUEST, NULL, "Batch requests" },
  { "{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"a\"}",
    DVS_JSONRPC_INVALID_REQUEST, "3", "\"jsonrpc\": \"2.0\"" },
  { "{\"jsonrpc\":2.0,\"id\":3,\"method\":\"a\"}",
    DVS_JSONRPC_INVALID_REQUEST, "3", "\"jsonrpc\": \"2.0\"" },
  { "{\"id\":\"x\",\"method\":\"a\"}", DVS_JSONRPC_INVALID_REQUEST, "\"x\"",
    "\"jsonrpc\": \"2.0\"" },
  { "{\"jsonrpc\":\"2.0\",\"id\":4}", DVS_JSONRPC_INVALID_REQUEST, "4",
    "\"method\" member" },
  { "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":7}",
    DVS_JSONRPC_INVALID_REQUEST, "4", "\"method\" member" },
  { "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"\"}",
    DVS_JSONRPC_INVALID_REQUEST, "4", "\"method\" is empty" },
  { "{\"jsonrpc\":\"2.0\",\"method\":\"\"}", DVS_JSONRPC_INVALID_REQUEST,
    NULL, "\"method\" is empty" },
  { "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"a\"}",
    DVS_JSONRPC_INVALID_REQUEST, NULL, "\"id\" must be" },
  { "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"a\"}",
    DVS_JSONRPC_INVALID_REQUEST, NULL, "\"id\" must be" },
  { "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"a\"}",
    DVS_JSONRPC_INVALID_REQUEST, NULL, "\"id\" must be" },
  { "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"a\"}",
    DVS_JSONRPC_INVALID_REQUEST, NULL, "\"id\" must be" },
  { "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"a\",\"params\":[\"vm1\"]}",
    DVS_JSONRPC_INVALID_REQUEST, "5", "named params" },
  { "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"a\",\"params\":\"vm1\"}",
    DVS_JSONRPC_INVALID_REQUEST, "5", "\"params\" must be an object" },
  { "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"a\",\"params\":null}",
    DVS_JSONRPC_INVALID_REQUEST, "5", "\"params\" must be an object" },
  { "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"a\",\"param\":{}}",
    DVS_JSONRPC_INVALID_REQUEST, "6", "unknown member \"param\"" },
  { "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"a\",\"result\":1}",
    DVS_JSONRPC_INVALID_REQUEST, "6", "unknown member \"result\"" },
};

static void
test_malformed (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      const Malformed *m = &malformed[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) id_out = NULL;
      g_autoptr(DvsJsonrpcRequest) req = NULL;
      g_autofree gchar *shown = g_strescape (m->line, NULL);

      /* escaped: the TAP stream must stay valid UTF-8 */
      g_test_message ("line: %s", shown);
      req = parse (m->line, &id_out, &error);
      g_assert_null (req);
      g_assert_error (error, DVS_JSONRPC_ERROR, m->code);
      g_assert_nonnull (strstr (error->message, m->message));
      /* Messages are sentences: capitalized, with a full stop. */
      g_assert_true (g_ascii_isupper (error->message[0]));
      g_assert_true (g_str_has_suffix (error->message, "."));
      if (m->id == NULL)
        {
          g_assert_null (id_out);
        }
      else
        {
          g_autofree gchar *id_json = NULL;

          g_assert_nonnull (id_out);
          id_json = dvs_json_write (id_out, FALSE);
          g_assert_cmpstr (id_json, ==, m->id);
        }
    }
}

/* json-glib keeps a string up to its first NUL: "id\u0000" would be read
 * as "id".  A NUL, escaped or raw, is refused before json-glib sees it. */
static void
test_nul (void)
{
  static const gchar *const escaped[] = {
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"id\\u0000\":true}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"name\":\"a\\u0000b\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\\u0000\"}",
  };
  const gchar *ok = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"x\":\"\\\\u0000\"}}";
  const gchar raw[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\",\"params\":{\"x\0\":1}}";
  g_autoptr(GError) raw_error = NULL;
  g_autoptr(DvsJsonrpcRequest) ok_req = NULL;
  g_autoptr(DvsJsonrpcRequest) raw_req = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (escaped); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(DvsJsonrpcRequest) req = NULL;

      g_test_message ("line: %s", escaped[i]);
      req = dvs_jsonrpc_parse_request (escaped[i], strlen (escaped[i]), NULL, &error);
      g_assert_null (req);
      g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_REQUEST);
      g_assert_nonnull (strstr (error->message, "NUL character"));
    }
  /* An escaped backslash followed by "u0000" is text, not a NUL. */
  ok_req = dvs_jsonrpc_parse_request (ok, strlen (ok), NULL, NULL);
  g_assert_nonnull (ok_req);
  g_assert_cmpstr (json_object_get_string_member (ok_req->params, "x"), ==, "\\u0000");
  raw_req = dvs_jsonrpc_parse_request (raw, sizeof raw - 1, NULL, &raw_error);
  g_assert_null (raw_req);
  g_assert_error (raw_error, DVS_JSONRPC_ERROR, DVS_JSONRPC_PARSE_ERROR);
  g_assert_nonnull (strstr (raw_error->message, "NUL byte"));
}

/* json-glib parses recursively: deep nesting must be refused before it. */
static void
test_deep_nesting (void)
{
  gsize depth = 200000;
  g_autofree gchar *line = g_malloc (depth * 2 + 64);
  g_autoptr(GError) error = NULL;
  g_autoptr(DvsJsonrpcRequest) req = NULL;
  gsize len;

  len = (gsize) g_snprintf (line, 64,
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"a\","
                            "\"params\":{\"x\":");
  memset (line + len, '[', depth);
  memset (line + len + depth, ']', depth);
  len += depth * 2;
  line[len++] = '}';
  line[len++] = '}';
  req = dvs_jsonrpc_parse_request (line, len, NULL, &error);
  g_assert_null (req);
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_REQUEST);
  g_assert_nonnull (strstr (error->message, "levels deep"));

  /* Brackets inside strings do not count. */
  g_clear_error (&error);
  {
    g_autoptr(GString) s = g_string_new ("{\"jsonrpc\":\"2.0\",\"id\":1,"
                                         "\"method\":\"a\",\"params\":{\"x\":\"");
    g_autoptr(DvsJsonrpcRequest) ok = NULL;

    for (gint i = 0; i < 100; i++)
      g_string_append (s, "[{\\\"");
    g_string_append (s, "\"}}");
    ok = dvs_jsonrpc_parse_request (s->str, s->len, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (ok);
  }
}

static void
test_build_error (void)
{
  g_autofree gchar *null_id = NULL;
  g_autofree gchar *with_id = NULL;
  g_autoptr(JsonNode) id = json_from_string ("\"req-1\"", NULL);

  null_id = dvs_jsonrpc_build_error (NULL, DVS_JSONRPC_PARSE_ERROR,
                                     "Bad \"line\".");
  g_assert_cmpstr (null_id, ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":"
                   "{\"code\":-32700,\"message\":\"Bad \\\"line\\\".\"}}");
  with_id = dvs_jsonrpc_build_error (id, DVS_JSONRPC_NO_SUCH_PORT,
                                     "No port\nnamed vm9.");
  g_assert_cmpstr (with_id, ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"error\":"
                   "{\"code\":-32000,\"message\":\"No port\\nnamed vm9.\"}}");
}

static void
test_request_round_trip (void)
{
  g_autoptr(JsonObject) params = object_from ("{\"name\":\"vm1\","
                                              "\"vlan\":{\"mode\":\"trunk\","
                                              "\"trunks\":[10,20]}}");
  g_autoptr(JsonNode) expected = json_node_init_object (json_node_alloc (),
                                                        params);
  g_autoptr(JsonNode) got = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DvsJsonrpcRequest) req = NULL;
  g_autoptr(DvsJsonrpcRequest) bare = NULL;
  g_autofree gchar *line = NULL;
  g_autofree gchar *bare_line = NULL;

  line = dvs_jsonrpc_build_request (42, "port.add", json_object_ref (params));
  g_assert_null (strchr (line, '\n'));
  req = parse (line, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (req->method, ==, "port.add");
  g_assert_cmpint (json_node_get_int (req->id), ==, 42);
  got = json_node_init_object (json_node_alloc (), req->params);
  g_assert_true (json_node_equal (got, expected));

  bare_line = dvs_jsonrpc_build_request (1, "port.list", NULL);
  g_assert_cmpstr (bare_line, ==,
                   "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"port.list\"}");
  bare = parse (bare_line, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_get_size (bare->params), ==, 0);
}

static void
test_response_round_trip (void)
{
  g_autoptr(JsonNode) id = json_from_string ("9", NULL);
  g_autoptr(JsonNode) result = json_from_string ("{\"ports\":[{\"name\":\"a\"}]}",
                                                 NULL);
  g_autoptr(JsonNode) got = NULL;
  g_autoptr(JsonNode) got_null = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *line = NULL;
  g_autofree gchar *null_line = NULL;

  line = dvs_jsonrpc_build_result (id, json_node_copy (result));
  got = dvs_jsonrpc_parse_response (line, 9, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (got, result));

  /* A NULL result is sent and read back as null. */
  null_line = dvs_jsonrpc_build_result (id, NULL);
  g_assert_cmpstr (null_line, ==, "{\"jsonrpc\":\"2.0\",\"id\":9,\"result\":null}");
  got_null = dvs_jsonrpc_parse_response (null_line, 9, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_NULL (got_null));
}

static void
test_response_errors (void)
{
  g_autoptr(JsonNode) id = json_from_string ("3", NULL);
  g_autofree gchar *refused = dvs_jsonrpc_build_error (id, DVS_JSONRPC_EXISTS,
                                                       "Port vm1 exists.");
  g_autofree gchar *parse_error = dvs_jsonrpc_build_error (
      NULL, DVS_JSONRPC_PARSE_ERROR, "Not JSON.");
  static const gchar *const invalid[] = {
    "not json",
    "[1]",
    "{\"jsonrpc\":\"1.0\",\"id\":3,\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":4,\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":null,\"result\":1}",
    "{\"jsonrpc\":\"2.0\",\"id\":3}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":1,\"error\":{}}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":\"bad\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":1.5,\"message\":\"m\"}}",
    "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":1}}",
  };

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = dvs_jsonrpc_parse_response (refused, 3, &error);

    g_assert_null (node);
    g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_EXISTS);
    g_assert_cmpstr (error->message, ==, "Port vm1 exists.");
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = dvs_jsonrpc_parse_response (parse_error, 3,
                                                           &error);

    g_assert_null (node);
    g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_PARSE_ERROR);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = NULL;

      g_test_message ("response: %s", invalid[i]);
      node = dvs_jsonrpc_parse_response (invalid[i], 3, &error);
      g_assert_null (node);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

static void
test_param_string (void)
{
  g_autoptr(JsonObject) params = object_from ("{\"name\":\"vm1\",\"n\":1}");
  g_autoptr(GError) error = NULL;
  const gchar *out = NULL;

  g_assert_true (dvs_jsonrpc_param_string (params, "name", &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "vm1");

  g_assert_false (dvs_jsonrpc_param_string (params, "socket", &out, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
  g_assert_nonnull (strstr (error->message, "\"socket\" is missing"));
  g_clear_error (&error);

  g_assert_false (dvs_jsonrpc_param_string (params, "n", &out, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
  g_assert_nonnull (strstr (error->message, "\"n\" must be a string"));
  g_clear_error (&error);

  out = "untouched";
  g_assert_true (dvs_jsonrpc_param_string_opt (params, "mode", &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, "untouched");
  g_assert_false (dvs_jsonrpc_param_string_opt (params, "n", &out, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
}

static void
test_param_int (void)
{
  g_autoptr(JsonObject) params = object_from ("{\"vlan\":10,\"big\":5000,"
                                              "\"f\":1.0,\"s\":\"10\"}");
  g_autoptr(GError) error = NULL;
  gint64 out = -1;

  g_assert_true (dvs_jsonrpc_param_int_opt (params, "vlan", 0, 4094, &out,
                                            &error));
  g_assert_no_error (error);
  g_assert_cmpint (out, ==, 10);

  out = -1;
  g_assert_true (dvs_jsonrpc_param_int_opt (params, "absent", 0, 4094, &out,
                                            &error));
  g_assert_cmpint (out, ==, -1);

  g_assert_false (dvs_jsonrpc_param_int_opt (params, "big", 0, 4094, &out,
                                             &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
  g_assert_cmpstr (error->message, ==,
                   "The parameter \"big\" is 5000: it must be from 0 to 4094.");
  g_assert_cmpint (out, ==, -1);
  g_clear_error (&error);

  g_assert_false (dvs_jsonrpc_param_int_opt (params, "f", 0, 4094, &out,
                                             &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
  g_assert_nonnull (strstr (error->message, "must be an integer"));
  g_clear_error (&error);

  g_assert_false (dvs_jsonrpc_param_int_opt (params, "s", 0, 4094, &out,
                                             &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
}

static void
test_params_only (void)
{
  static const gchar *const port_add[] = { "name", "socket", "mode", "vlan",
                                           NULL };
  static const gchar *const none[] = { NULL };
  g_autoptr(JsonObject) good = object_from ("{\"name\":\"a\",\"socket\":\"/s\"}");
  g_autoptr(JsonObject) typo = object_from ("{\"name\":\"a\",\"vlna\":3}");
  g_autoptr(JsonObject) empty = object_from ("{}");
  g_autoptr(GError) error = NULL;

  g_assert_true (dvs_jsonrpc_params_only (good, port_add, &error));
  g_assert_no_error (error);
  g_assert_true (dvs_jsonrpc_params_only (empty, none, &error));
  g_assert_no_error (error);

  g_assert_false (dvs_jsonrpc_params_only (typo, port_add, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
  g_assert_cmpstr (error->message, ==,
                   "Unknown parameter \"vlna\": this method accepts only "
                   "name, socket, mode, vlan.");
  g_clear_error (&error);

  g_assert_false (dvs_jsonrpc_params_only (good, none, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
  g_assert_nonnull (strstr (error->message, "takes no parameters"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/jsonrpc/request/valid", test_valid_request);
  g_test_add_func ("/jsonrpc/request/ids", test_valid_ids);
  g_test_add_func ("/jsonrpc/request/notification", test_notification);
  g_test_add_func ("/jsonrpc/request/malformed", test_malformed);
  g_test_add_func ("/jsonrpc/request/deep-nesting", test_deep_nesting);
  g_test_add_func ("/jsonrpc/request/nul", test_nul);
  g_test_add_func ("/jsonrpc/request/round-trip", test_request_round_trip);
  g_test_add_func ("/jsonrpc/response/build-error", test_build_error);
  g_test_add_func ("/jsonrpc/response/round-trip", test_response_round_trip);
  g_test_add_func ("/jsonrpc/response/errors", test_response_errors);
  g_test_add_func ("/jsonrpc/params/string", test_param_string);
  g_test_add_func ("/jsonrpc/params/int", test_param_int);
  g_test_add_func ("/jsonrpc/params/only", test_params_only);

  return g_test_run ();
}
