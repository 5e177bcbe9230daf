/* One JSON-RPC 2.0 connection used in both directions — the host channel
 * between dvsmgr and dvs-switchd (docs/host-channel.md) — over any GIOStream
 * (a unix socket connection, or a GTlsConnection over TCP).
 *
 * Framing is the control socket's: one JSON value per line.  Either side may
 * send requests, notifications and responses at any time.  Incoming requests
 * are validated by dvs-jsonrpc and dispatched to the method table on the
 * thread-default GMainContext of the creator; outgoing calls are
 * asynchronous, each ending in exactly one callback: a result, the peer's
 * error, a timeout (G_IO_ERROR_TIMED_OUT) or the connection closing
 * (G_IO_ERROR_CLOSED).  Writes are queued and written asynchronously, so a
 * slow or stalled peer never blocks the caller.
 *
 * A peer that sends garbage is answered (parse error / invalid request) and
 * logged; a line longer than @max_line, or a reply to a request never made,
 * is a protocol violation: logged, and the connection is closed.
 *
 * Threading: not thread-safe; use from the creator's main context only. */
#pragma once

#include <gio/gio.h>
#include "dvs-jsonrpc.h"

G_BEGIN_DECLS

typedef struct _DvsRpcPeer DvsRpcPeer;

/* A request handler.  @params was validated as an object (possibly empty).
 * Returns the result (ownership passes to the peer) or NULL with @error set
 * (DVS_JSONRPC_ERROR codes reach the other side as they are).  For a
 * notification the result is discarded. */
typedef JsonNode *(*DvsRpcPeerHandler) (DvsRpcPeer *peer, JsonObject *params,
                                        gpointer user_data, GError **error);

typedef struct {
  const gchar *name;
  DvsRpcPeerHandler handler;
} DvsRpcPeerMethod;

/* Called once per call: @result (owned by the peer, valid during the call;
 * json_node_ref() to keep it) or @error. */
typedef void (*DvsRpcPeerReplyFunc) (DvsRpcPeer *peer, JsonNode *result,
                                     const GError *error, gpointer user_data);

/* Called once when the connection ends, whichever side ended it; @reason is
 * NULL for a local dvs_rpc_peer_close(). */
typedef void (*DvsRpcPeerClosedFunc) (DvsRpcPeer *peer, const GError *reason,
                                      gpointer user_data);

/* Takes a reference on @stream.  @description names the peer in logs
 * ("host h1 (tls 10.0.0.5:41234)").  @methods is terminated by {NULL, NULL}
 * and must outlive the peer; @methods may be NULL (calls only).  Reading
 * starts with dvs_rpc_peer_start(). */
DvsRpcPeer *dvs_rpc_peer_new (GIOStream *stream, const gchar *description,
                              const DvsRpcPeerMethod *methods,
                              gpointer user_data, gsize max_line);
DvsRpcPeer *dvs_rpc_peer_ref (DvsRpcPeer *peer);
void dvs_rpc_peer_unref (DvsRpcPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsRpcPeer, dvs_rpc_peer_unref)

void dvs_rpc_peer_set_closed_func (DvsRpcPeer *peer, DvsRpcPeerClosedFunc func,
                                   gpointer user_data);
void dvs_rpc_peer_start (DvsRpcPeer *peer);

/* Replaces the user data handed to handlers (e.g. once a host has said
 * hello). */
void dvs_rpc_peer_set_user_data (DvsRpcPeer *peer, gpointer user_data);
gpointer dvs_rpc_peer_get_user_data (DvsRpcPeer *peer);
const gchar *dvs_rpc_peer_get_description (DvsRpcPeer *peer);
void dvs_rpc_peer_set_description (DvsRpcPeer *peer, const gchar *description);
gboolean dvs_rpc_peer_is_closed (DvsRpcPeer *peer);

/* Sends a request (@params consumed, may be NULL).  @timeout_ms 0: 30 s.
 * @func may be NULL.  On a closed peer @func runs from an idle callback
 * with G_IO_ERROR_CLOSED. */
void dvs_rpc_peer_call (DvsRpcPeer *peer, const gchar *method,
                        JsonObject *params, guint timeout_ms,
                        DvsRpcPeerReplyFunc func, gpointer user_data);
/* Sends a notification (@params consumed, may be NULL). */
void dvs_rpc_peer_notify (DvsRpcPeer *peer, const gchar *method,
                          JsonObject *params);
/* Closes the stream; every pending call's callback runs with
 * G_IO_ERROR_CLOSED; the closed func runs with reason NULL.  Idempotent. */
void dvs_rpc_peer_close (DvsRpcPeer *peer);

/* Bytes queued but not yet written (back-pressure for batching senders). */
gsize dvs_rpc_peer_get_queued_bytes (DvsRpcPeer *peer);

G_END_DECLS
