/* A JSON-RPC 2.0 server on a unix stream socket, driven by the thread-default
 * GMainContext of the caller of dvs_rpc_server_new().  Newline framing
 * (docs/control-protocol.md): each line is validated by dvs-jsonrpc, then
 * dispatched to the method table; handlers run on the main context, one
 * request at a time per connection, responses in request order.
 *
 * Misbehaving peers never take the server down: bad JSON, oversized lines,
 * unknown methods and peers that vanish mid-line are answered (when possible)
 * and logged with the peer's description, then the server carries on. */
#pragma once

#include <gio/gio.h>
#include "dvs-jsonrpc.h"

G_BEGIN_DECLS

/* A method handler.  @params was validated as an object (possibly empty).
 * Returns the result node (ownership passes to the server), or NULL with
 * @error set (see DVS_JSONRPC_ERROR for how codes reach the peer). */
typedef JsonNode *(*DvsRpcHandler) (JsonObject *params, gpointer user_data,
                                    GError **error);

/* A call answered later (it waits on another peer): the handler keeps
 * @reply and completes it exactly once with dvs_rpc_reply_return(), on the
 * server's context.  Until then the connection reads nothing more (answers
 * stay in request order).  Every deferred call must be completed, also on
 * error paths and timeouts: a handler that waits needs its own timeout.
 * @params is valid only during the handler's call: copy what it keeps. */
typedef struct _DvsRpcReply DvsRpcReply;
typedef void (*DvsRpcAsyncHandler) (JsonObject *params, gpointer user_data,
                                    DvsRpcReply *reply);

/* Exactly one of @handler and @async_handler is set.  An async method can be
 * called only through a server (dvs_rpc_dispatch_line refuses it). */
typedef struct {
  const gchar *name;
  DvsRpcHandler handler;
  DvsRpcAsyncHandler async_handler;
} DvsRpcMethod;

/* Completes a deferred call with @result (ownership passes) or, when
 * @result is NULL, @error (codes as for DvsRpcHandler).  Frees @reply. */
void dvs_rpc_reply_return (DvsRpcReply *reply, JsonNode *result,
                           const GError *error);
/* The method's name, for logs. */
const gchar *dvs_rpc_reply_method (DvsRpcReply *reply);

typedef struct _DvsRpcServer DvsRpcServer;

/* Listens on @path (a stale socket file is replaced; parent directory created
 * 0755; the socket made 0600).  @methods is terminated by {NULL, NULL} and
 * must outlive the server. */
DvsRpcServer *dvs_rpc_server_new (const gchar *path,
                                  const DvsRpcMethod *methods,
                                  gpointer user_data, GError **error);
/* Closes the listener and every connection, unlinks the socket file. NULL ok. */
void dvs_rpc_server_free (DvsRpcServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsRpcServer, dvs_rpc_server_free)

/* Handles one request line and returns the response line (no newline), or
 * NULL for a notification.  The socket path uses exactly this; exposed so the
 * protocol can be unit-tested without a socket. */
gchar *dvs_rpc_dispatch_line (const DvsRpcMethod *methods, gpointer user_data,
                              const gchar *line, gsize len);

G_END_DECLS
