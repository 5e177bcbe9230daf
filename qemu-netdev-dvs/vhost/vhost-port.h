/* vhost-user sockets through DPDK rte_vhost.  Registration and the
 * rte_vhost device callbacks; the callbacks only translate the event and hand
 * it to the switch (STYLE.md habit 3).  rte_vhost calls them on its own
 * thread; they have no user data, so the listener is per process (as EAL). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  /* A device on @path is ready (new_device).  Return FALSE to refuse it. */
  gboolean (*ready) (gpointer ctx, const gchar *path, int vid);
  /* The device stopped (destroy_device): when this returns, the datapath
   * must no longer use @vid. */
  void (*gone) (gpointer ctx, const gchar *path, int vid);
  /* A vring was enabled/disabled or its kick fd replaced.  Runs with the
   * vring's lock held: must not block or call into rte_vhost. */
  void (*vring_changed) (gpointer ctx, const gchar *path, int vid);
} DvsVhostListener;

void dvs_vhost_set_listener (const DvsVhostListener *listener, gpointer ctx);

/* Client mode (@server FALSE): connects to the peer's socket, retrying every
 * second until it exists, and reconnects when the peer goes away.  Server
 * mode: creates the socket (a stale file is replaced). */
gboolean dvs_vhost_register (const gchar *path, gboolean server,
                             GError **error);
/* Never call with a lock that the listener takes: may call gone(). */
void dvs_vhost_unregister (const gchar *path);

G_END_DECLS
