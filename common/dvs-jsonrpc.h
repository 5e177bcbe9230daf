/* JSON-RPC 2.0 for the project's sockets: request validation, response and
 * error building, newline framing.  Shared by dvs-switchd's control socket,
 * its CLI, and (later) the host channel.
 *
 * Validation happens here, once, before dispatch: a handler receives a
 * request whose "jsonrpc", "method", "id" and "params" members are known to be
 * well formed (STYLE.md habit 1). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Standard and project error codes (docs/control-protocol.md). */
typedef enum {
  DVS_JSONRPC_PARSE_ERROR = -32700,
  DVS_JSONRPC_INVALID_REQUEST = -32600,
  DVS_JSONRPC_METHOD_NOT_FOUND = -32601,
  DVS_JSONRPC_INVALID_PARAMS = -32602,
  DVS_JSONRPC_INTERNAL_ERROR = -32603,
  DVS_JSONRPC_NO_SUCH_PORT = -32000,
  DVS_JSONRPC_EXISTS = -32001,
  DVS_JSONRPC_RESOURCE = -32002,
  DVS_JSONRPC_CONNECTION_REFUSED = -32003,  /* wrong or stale connection ID */
  DVS_JSONRPC_NOT_AUTHENTICATED = -32004,   /* host channel: no valid hello yet */
  DVS_JSONRPC_REFUSED = -32005,             /* the manager refused (reasons in the message) */
  DVS_JSONRPC_UNAVAILABLE = -32006,         /* the manager is not reachable now */
} DvsJsonrpcCode;

/* GError domain whose codes are DvsJsonrpcCode values: a handler that fails
 * with this domain has its code sent to the peer as is; any other domain is
 * sent as DVS_JSONRPC_INTERNAL_ERROR with the error's message. */
#define DVS_JSONRPC_ERROR (dvs_jsonrpc_error_quark ())
GQuark dvs_jsonrpc_error_quark (void);

/* Longest line accepted by a reader (bytes, without the newline). */
#define DVS_JSONRPC_MAX_LINE_SIZE (1024 * 1024)

/* A validated request. */
typedef struct {
  gchar *method;
  JsonNode *id;      /* string, integer or null; NULL for a notification */
  JsonObject *params; /* never NULL: absent params become an empty object */
} DvsJsonrpcRequest;

void dvs_jsonrpc_request_free (DvsJsonrpcRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsJsonrpcRequest, dvs_jsonrpc_request_free)

/* Parses and validates one line.  On failure returns NULL, sets @error (domain
 * DVS_JSONRPC_ERROR, code PARSE_ERROR or INVALID_REQUEST) and, when the line
 * carried a usable id, stores a copy in @id_out so the error response can
 * name it (else *id_out is NULL; caller frees with json_node_unref).
 * Positional (array) params are refused: every method takes named params.
 * Also refused: more than one JSON value on the line (PARSE_ERROR) and
 * nesting deeper than 64 levels (INVALID_REQUEST; json-glib's recursive
 * parser would overflow the stack on a line of a million '['). */
DvsJsonrpcRequest *dvs_jsonrpc_parse_request (const gchar *line, gsize len,
                                              JsonNode **id_out,
                                              GError **error);

/* What json-glib does not check, before any JSON text is given to it:
 * nesting at most 64 deep (its recursive parser would overflow the stack)
 * and one JSON value only (json-glib keeps the last of `{} {}` and leaks
 * the others).  Errors (PARSE_ERROR, INVALID_REQUEST) name @what. */
gboolean dvs_jsonrpc_check_text (const gchar *text, gsize len, const gchar *what,
                                 GError **error);

/* Serialized response lines, without the trailing newline.  @id may be NULL
 * (sent as null).  @result is consumed (may be NULL for null). */
gchar *dvs_jsonrpc_build_result (JsonNode *id, JsonNode *result);
gchar *dvs_jsonrpc_build_error (JsonNode *id, gint code, const gchar *message);
/* A request line; @params consumed, may be NULL. */
gchar *dvs_jsonrpc_build_request (gint64 id, const gchar *method,
                                  JsonObject *params);

/* Parses a response line for request @id: returns the result node (owned by
 * the caller) or NULL with @error set — DVS_JSONRPC_ERROR and the peer's code
 * and message when the peer answered with an error (its id may be null, as
 * for a parse error), G_IO_ERROR_INVALID_DATA when the line is not a valid
 * response to @id. */
JsonNode *dvs_jsonrpc_parse_response (const gchar *line, gint64 id,
                                      GError **error);

/* Parameter accessors for handlers: each fails with INVALID_PARAMS naming
 * the member when it is missing (for the required form) or of the wrong
 * type.  The _opt forms return TRUE and leave *out untouched when absent. */
gboolean dvs_jsonrpc_param_string (JsonObject *params, const gchar *name,
                                   const gchar **out, GError **error);
gboolean dvs_jsonrpc_param_string_opt (JsonObject *params, const gchar *name,
                                       const gchar **out, GError **error);
gboolean dvs_jsonrpc_param_int_opt (JsonObject *params, const gchar *name,
                                    gint64 min, gint64 max, gint64 *out,
                                    GError **error);

/* Unknown members are an error too (a typo should not be ignored silently):
 * fails with INVALID_PARAMS naming the first member not in @allowed
 * (NULL-terminated). */
gboolean dvs_jsonrpc_params_only (JsonObject *params,
                                  const gchar *const *allowed,
                                  GError **error);

G_END_DECLS
