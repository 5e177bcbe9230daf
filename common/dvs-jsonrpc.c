/* JSON-RPC 2.0 request validation, response building and parsing. */
#include "dvs-jsonrpc.h"
#include "dvs-json-write.h"

#include <string.h>

G_DEFINE_QUARK (dvs-jsonrpc-error-quark, dvs_jsonrpc_error)

/* Deepest nesting accepted on a line: our methods need 4 levels at most, and
 * json-glib 1.6 parses recursively, so a line of a million '[' would
 * overflow the stack. */
#define MAX_DEPTH 64

void
dvs_jsonrpc_request_free (DvsJsonrpcRequest *req)
{
  if (req == NULL)
    return;
  g_free (req->method);
  if (req->id != NULL)
    json_node_unref (req->id);
  if (req->params != NULL)
    json_object_unref (req->params);
  g_free (req);
}

/* A NUL in a string: json-glib 1.6 keeps a string up to its first NUL, so
 * `"id\u0000":true` would be read as member "id", and "a\u0000b" as "a". */
static gboolean
refuse_nul (GError **error, const gchar *what, gsize at)
{
  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_REQUEST,
               "The %s holds a NUL character (\\u0000) in a string at byte %"
               G_GSIZE_FORMAT ": no name or value may hold one.", what, at + 1);
  return FALSE;
}

/* Checks what json-glib does not: nesting depth, a single JSON text on the
 * line (json-glib 1.6 silently keeps the last of `{...} {...}`, and leaks
 * the first), and no NUL, raw or escaped (see refuse_nul()). */
gboolean
dvs_jsonrpc_check_text (const gchar *text, gsize len, const gchar *what,
                        GError **error)
{
  guint depth = 0;
  gboolean in_string = FALSE;
  gboolean escaped = FALSE;
  gboolean in_scalar = FALSE;   /* a number, true, false or null at the top */
  gboolean closed = FALSE;      /* the top-level value is complete */

  for (gsize i = 0; i < len; i++)
    {
      gchar c = text[i];

      if (c == '\0')
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_PARSE_ERROR,
                       "The %s holds a NUL byte at byte %" G_GSIZE_FORMAT
                       ": it is not JSON text.", what, i + 1);
          return FALSE;
        }
      if (in_string)
        {
          if (escaped && c == 'u' && len - i > 4 && memcmp (text + i + 1, "0000", 4) == 0)
            return refuse_nul (error, what, i - 1);
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            {
              in_string = FALSE;
              closed = closed || depth == 0;
            }
          continue;
        }
      /* A top-level scalar followed by an object, array or string: two
       * values (json-glib's own error for other garbage is clearer). */
      if (depth == 0 && in_scalar && (c == '{' || c == '[' || c == '"'))
        closed = TRUE;
      if (closed && !g_ascii_isspace (c))
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_PARSE_ERROR,
                       "The %s holds more than one JSON value (extra data "
                       "at byte %" G_GSIZE_FORMAT "): it must be exactly one "
                       "JSON object.", what, i + 1);
          return FALSE;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '{':
        case '[':
          if (++depth > MAX_DEPTH)
            {
              g_set_error (error, DVS_JSONRPC_ERROR,
                           DVS_JSONRPC_INVALID_REQUEST,
                           "The %s nests objects and arrays more than %d "
                           "levels deep: flatten it.", what, MAX_DEPTH);
              return FALSE;
            }
          break;
        case '}':
        case ']':
          if (depth > 0 && --depth == 0)
            closed = TRUE;
          break;
        default:
          if (depth == 0 && !g_ascii_isspace (c))
            in_scalar = TRUE;
          break;
        }
    }
  return TRUE;
}

/* Parses @text into a root node (owned by the caller) after the checks
 * above; parse failures use DVS_JSONRPC_PARSE_ERROR. */
static JsonNode *
parse_json (const gchar *text, gsize len, const gchar *what, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (text == NULL)             /* an empty buffer may have no storage */
    text = "", len = 0;
  if (!dvs_jsonrpc_check_text (text, len, what, error))
    return NULL;
  if (len > G_MAXSSIZE
      || !json_parser_load_from_data (parser, text, (gssize) len,
                                      &local_error))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_PARSE_ERROR,
                   "The %s is not valid JSON (%s): send one JSON object per "
                   "line.", what,
                   local_error != NULL ? local_error->message : "too long");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_PARSE_ERROR,
                   "The %s is empty: send one JSON object per line.", what);
      return NULL;
    }
  return json_node_copy (root);
}

static gboolean
node_is_int (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_INT64;
}

static gboolean
node_is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
id_is_valid (JsonNode *id)
{
  return JSON_NODE_HOLDS_NULL (id) || node_is_int (id) || node_is_string (id);
}

static gboolean
invalid_request (GError **error, const gchar *message)
{
  g_set_error_literal (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_REQUEST,
                       message);
  return FALSE;
}

/* The checks on a parsed request object, in the order a person would fix
 * them. */
static gboolean
validate_request (JsonObject *obj, GError **error)
{
  JsonNode *version = json_object_get_member (obj, "jsonrpc");
  JsonNode *method = json_object_get_member (obj, "method");
  JsonNode *params = json_object_get_member (obj, "params");
  g_autoptr(GList) members = NULL;

  if (version == NULL || !node_is_string (version)
      || g_strcmp0 (json_node_get_string (version), "2.0") != 0)
    return invalid_request (error,
                            "The request must have \"jsonrpc\": \"2.0\": "
                            "only JSON-RPC 2.0 is spoken here.");
  if (method == NULL || !node_is_string (method))
    return invalid_request (error,
                            "The request must have a \"method\" member "
                            "holding the method name as a string.");
  if (*json_node_get_string (method) == '\0')
    return invalid_request (error,
                            "The request's \"method\" is empty: give the "
                            "name of the method to call.");
  if (params != NULL && JSON_NODE_HOLDS_ARRAY (params))
    return invalid_request (error,
                            "Positional (array) params are not supported: "
                            "every method takes named params, pass them as "
                            "an object such as {\"name\": \"vm1\"}.");
  if (params != NULL && !JSON_NODE_HOLDS_OBJECT (params))
    return invalid_request (error,
                            "The request's \"params\" must be an object of "
                            "named params, or be left out.");

  members = json_object_get_members (obj);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const gchar *name = l->data;

      if (g_strcmp0 (name, "jsonrpc") != 0 && g_strcmp0 (name, "id") != 0
          && g_strcmp0 (name, "method") != 0
          && g_strcmp0 (name, "params") != 0)
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_REQUEST,
                       "The request has an unknown member \"%s\": a "
                       "JSON-RPC 2.0 request has only jsonrpc, id, method "
                       "and params.", name);
          return FALSE;
        }
    }
  return TRUE;
}

DvsJsonrpcRequest *
dvs_jsonrpc_parse_request (const gchar *line, gsize len, JsonNode **id_out,
                           GError **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(DvsJsonrpcRequest) req = NULL;
  JsonObject *obj;
  JsonNode *id;
  JsonNode *params;

  if (id_out != NULL)
    *id_out = NULL;

  root = parse_json (line, len, "request", error);
  if (root == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY (root))
    {
      invalid_request (error,
                       "Batch requests (JSON arrays) are not supported: send "
                       "one request object per line.");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid_request (error,
                       "The request must be a JSON object with the members "
                       "jsonrpc, method, params and id.");
      return NULL;
    }
  obj = json_node_get_object (root);

  /* The id first, so that every later error is answered to it. */
  id = json_object_get_member (obj, "id");
  if (id != NULL && !id_is_valid (id))
    {
      invalid_request (error,
                       "The request's \"id\" must be a string, an integer or "
                       "null (leave it out for a notification).");
      return NULL;
    }
  if (id != NULL && id_out != NULL)
    *id_out = json_node_copy (id);

  if (!validate_request (obj, error))
    return NULL;

  req = g_new0 (DvsJsonrpcRequest, 1);
  req->method = g_strdup (json_object_get_string_member (obj, "method"));
  req->id = id != NULL ? json_node_copy (id) : NULL;
  params = json_object_get_member (obj, "params");
  req->params = params != NULL ? json_object_ref (json_node_get_object (params))
                               : json_object_new ();
  return g_steal_pointer (&req);
}

static gchar *
build_response (JsonNode *id, const gchar *member, JsonNode *value)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autoptr(JsonNode) root = NULL;

  json_object_set_string_member (obj, "jsonrpc", "2.0");
  json_object_set_member (obj, "id",
                          id != NULL ? json_node_copy (id)
                                     : json_node_new (JSON_NODE_NULL));
  json_object_set_member (obj, member,
                          value != NULL ? value
                                        : json_node_new (JSON_NODE_NULL));
  root = json_node_init_object (json_node_alloc (), obj);
  return dvs_json_write (root, FALSE);
}

gchar *
dvs_jsonrpc_build_result (JsonNode *id, JsonNode *result)
{
  return build_response (id, "result", result);
}

gchar *
dvs_jsonrpc_build_error (JsonNode *id, gint code, const gchar *message)
{
  JsonObject *err = json_object_new ();
  JsonNode *err_node = json_node_new (JSON_NODE_OBJECT);

  json_object_set_int_member (err, "code", code);
  json_object_set_string_member (err, "message",
                                 message != NULL ? message : "");
  json_node_take_object (err_node, err);
  return build_response (id, "error", err_node);
}

gchar *
dvs_jsonrpc_build_request (gint64 id, const gchar *method, JsonObject *params)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autoptr(JsonNode) root = NULL;

  json_object_set_string_member (obj, "jsonrpc", "2.0");
  json_object_set_int_member (obj, "id", id);
  json_object_set_string_member (obj, "method", method);
  if (params != NULL)
    json_object_set_object_member (obj, "params", params);
  root = json_node_init_object (json_node_alloc (), obj);
  return dvs_json_write (root, FALSE);
}

static gboolean
invalid_response (GError **error, const gchar *message)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               "The peer sent an invalid JSON-RPC response: %s", message);
  return FALSE;
}

/* Turns an "error" member into a GError; FALSE means it was malformed. */
static gboolean
set_peer_error (JsonNode *err_node, GError **error)
{
  JsonObject *err;
  JsonNode *code;
  JsonNode *message;

  if (!JSON_NODE_HOLDS_OBJECT (err_node))
    return invalid_response (error, "\"error\" is not an object.");
  err = json_node_get_object (err_node);
  code = json_object_get_member (err, "code");
  message = json_object_get_member (err, "message");
  if (code == NULL || !node_is_int (code)
      || json_node_get_int (code) < G_MININT
      || json_node_get_int (code) > G_MAXINT)
    return invalid_response (error, "\"error.code\" is not an integer.");
  if (message == NULL || !node_is_string (message))
    return invalid_response (error, "\"error.message\" is not a string.");
  g_set_error_literal (error, DVS_JSONRPC_ERROR, (gint) json_node_get_int (code),
                       json_node_get_string (message));
  return TRUE;
}

JsonNode *
dvs_jsonrpc_parse_response (const gchar *line, gint64 id, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *obj;
  JsonNode *version;
  JsonNode *resp_id;
  JsonNode *result;
  JsonNode *err;

  root = parse_json (line, strlen (line), "response", &local_error);
  if (root == NULL)
    {
      invalid_response (error, local_error->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      invalid_response (error, "it is not a JSON object.");
      return NULL;
    }
  obj = json_node_get_object (root);
  version = json_object_get_member (obj, "jsonrpc");
  resp_id = json_object_get_member (obj, "id");
  result = json_object_get_member (obj, "result");
  err = json_object_get_member (obj, "error");

  if (version == NULL || !node_is_string (version)
      || g_strcmp0 (json_node_get_string (version), "2.0") != 0)
    {
      invalid_response (error, "\"jsonrpc\" is not \"2.0\".");
      return NULL;
    }
  if ((result == NULL) == (err == NULL))
    {
      invalid_response (error, "it must hold exactly one of \"result\" and "
                               "\"error\".");
      return NULL;
    }
  /* An error about a line the peer could not parse carries a null id. */
  if (resp_id == NULL
      || !((node_is_int (resp_id) && json_node_get_int (resp_id) == id)
           || (err != NULL && JSON_NODE_HOLDS_NULL (resp_id))))
    {
      invalid_response (error, "its \"id\" does not match the request's.");
      return NULL;
    }
  if (err != NULL)
    {
      set_peer_error (err, error);
      return NULL;
    }
  return json_node_copy (result);
}

static gboolean
param_error (GError **error, const gchar *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
param_error (GError **error, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (DVS_JSONRPC_ERROR,
                                                DVS_JSONRPC_INVALID_PARAMS,
                                                format, args));
  va_end (args);
  return FALSE;
}

static JsonNode *
get_param (JsonObject *params, const gchar *name)
{
  return params != NULL ? json_object_get_member (params, name) : NULL;
}

gboolean
dvs_jsonrpc_param_string (JsonObject *params, const gchar *name,
                          const gchar **out, GError **error)
{
  if (get_param (params, name) == NULL)
    return param_error (error, "The parameter \"%s\" is missing: this method "
                               "needs it (a string).", name);
  return dvs_jsonrpc_param_string_opt (params, name, out, error);
}

gboolean
dvs_jsonrpc_param_string_opt (JsonObject *params, const gchar *name,
                              const gchar **out, GError **error)
{
  JsonNode *node = get_param (params, name);

  if (node == NULL)
    return TRUE;
  if (!node_is_string (node))
    return param_error (error, "The parameter \"%s\" must be a string.",
                        name);
  *out = json_node_get_string (node);
  return TRUE;
}

gboolean
dvs_jsonrpc_param_int_opt (JsonObject *params, const gchar *name, gint64 min,
                           gint64 max, gint64 *out, GError **error)
{
  JsonNode *node = get_param (params, name);
  gint64 value;

  if (node == NULL)
    return TRUE;
  if (!node_is_int (node))
    return param_error (error, "The parameter \"%s\" must be an integer "
                               "from %" G_GINT64_FORMAT " to %"
                               G_GINT64_FORMAT ".", name, min, max);
  value = json_node_get_int (node);
  if (value < min || value > max)
    return param_error (error, "The parameter \"%s\" is %" G_GINT64_FORMAT
                               ": it must be from %" G_GINT64_FORMAT " to %"
                               G_GINT64_FORMAT ".", name, value, min, max);
  *out = value;
  return TRUE;
}

gboolean
dvs_jsonrpc_params_only (JsonObject *params, const gchar *const *allowed,
                         GError **error)
{
  g_autoptr(GList) members = NULL;

  if (params == NULL)
    return TRUE;
  members = json_object_get_members (params);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const gchar *name = l->data;
      g_autofree gchar *list = NULL;

      if (allowed != NULL && g_strv_contains (allowed, name))
        continue;
      if (allowed == NULL || allowed[0] == NULL)
        return param_error (error, "Unknown parameter \"%s\": this method "
                                   "takes no parameters.", name);
      list = g_strjoinv (", ", (gchar **) allowed);
      return param_error (error, "Unknown parameter \"%s\": this method "
                                 "accepts only %s.", name, list);
    }
  return TRUE;
}
