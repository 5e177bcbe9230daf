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

typedef struct {
  const gchar *name;
  DvsRpcHandler handler;
} DvsRpcMethod;

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
