/* A guard against a vhost-user front-end that accepts the switch's
 * connection and drops it again before its device ever starts.
 *
 * In client mode rte_vhost reconnects at once when the peer closes the
 * connection, so a front-end that refuses the back-end on every connection
 * (QEMU with queues=N beyond what the switch serves, a vNIC whose features
 * do not match) makes the two spin: thousands of connections and log lines
 * a second, a core each.  After FLAP_LIMIT such connections in a row the
 * guard takes the socket out of rte_vhost for a while (1 s, doubling to
 * 30 s), says so once, and registers it again; a device that starts resets
 * it.  Only client-mode sockets are tracked: in server mode the peer is the
 * one that reconnects.
 *
 * Threads: track, forget and the cool-down itself run on the thread that
 * registers sockets (the switch's main context, captured by track);
 * connected, started and closed run on rte_vhost's event thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Registers @path with rte_vhost again after a cool-down; FALSE with
 * @error set if that failed (the guard tries again later). */
typedef gboolean (*DvsVhostFlapRestart) (const gchar *path, GError **error);

/* Start tracking a client-mode socket that was just registered. */
void dvs_vhost_flap_track (const gchar *path, DvsVhostFlapRestart restart);
/* Stop tracking @path.  TRUE if it is cooling down, i.e. not registered
 * with rte_vhost now: the caller must not unregister it. */
gboolean dvs_vhost_flap_forget (const gchar *path);

/* rte_vhost's events on @path (event thread). */
void dvs_vhost_flap_connected (const gchar *path);
void dvs_vhost_flap_started (const gchar *path);
void dvs_vhost_flap_closed (const gchar *path);

G_END_DECLS
