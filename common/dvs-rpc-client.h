/* A blocking JSON-RPC 2.0 client for a unix socket, for CLIs and tests. */
#pragma once

#include <gio/gio.h>
#include "dvs-jsonrpc.h"

G_BEGIN_DECLS

typedef struct _DvsRpcClient DvsRpcClient;

/* Connects to @path; fails with a message naming the path and suggesting the
 * daemon may not be running.  @timeout_ms bounds every later call (0: 10 s). */
DvsRpcClient *dvs_rpc_client_new (const gchar *path, guint timeout_ms,
                                  GError **error);
void dvs_rpc_client_free (DvsRpcClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsRpcClient, dvs_rpc_client_free)

/* Sends one request (@params consumed, may be NULL) and waits for its
 * response.  Returns the result (caller owns) or NULL with @error: the peer's
 * JSON-RPC error as DVS_JSONRPC_ERROR, or a G_IO_ERROR for transport
 * failures and timeouts. */
JsonNode *dvs_rpc_client_call (DvsRpcClient *client, const gchar *method,
                               JsonObject *params, GError **error);

G_END_DECLS
