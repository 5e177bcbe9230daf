#define G_LOG_DOMAIN "dvs-vhost"
#include "vhost-port.h"

#include <errno.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "dvs-jsonrpc.h"

static const DvsVhostListener *listener;
static gpointer listener_ctx;

void
dvs_vhost_set_listener (const DvsVhostListener *l, gpointer ctx)
{
  listener = l;
  listener_ctx = ctx;
}

static gboolean
path_of (int vid, char *buf, size_t size)
{
  return rte_vhost_get_ifname (vid, buf, size) == 0;
}

static int
on_new_device (int vid)
{
  char path[PATH_MAX];

  if (!path_of (vid, path, sizeof path) || listener == NULL)
    return -1;
  return listener->ready (listener_ctx, path, vid) ? 0 : -1;
}

static void
on_destroy_device (int vid)
{
  char path[PATH_MAX];

  if (path_of (vid, path, sizeof path) && listener != NULL)
    listener->gone (listener_ctx, path, vid);
}

static int
on_vring_state_changed (int vid, uint16_t queue_id, int enable)
{
  char path[PATH_MAX];

  if (path_of (vid, path, sizeof path) && listener != NULL)
    listener->vring_changed (listener_ctx, path, vid);
  return 0;
}

static int
on_new_connection (int vid)
{
  char path[PATH_MAX];

  if (path_of (vid, path, sizeof path))
    g_info ("vhost-user connection established on %s", path);
  return 0;
}

static void
on_destroy_connection (int vid)
{
  char path[PATH_MAX];

  if (path_of (vid, path, sizeof path))
    g_message ("vhost-user peer on %s disconnected", path);
}

static const struct rte_vhost_device_ops vhost_ops = {
  .new_device = on_new_device,
  .destroy_device = on_destroy_device,
  .vring_state_changed = on_vring_state_changed,
  .new_connection = on_new_connection,
  .destroy_connection = on_destroy_connection,
};

/* Offloads make Linux guests send multi-segment, partially checksummed
 * frames; a switch that forwards to other VMs and uplinks wants plain ones. */
#define DVS_DISABLED_FEATURES \
  ((1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) \
   | (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) \
   | (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) \
   | (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) \
   | (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO))

gboolean
dvs_vhost_register (const gchar *path, gboolean server, GError **error)
{
  uint64_t flags = server ? 0 : RTE_VHOST_USER_CLIENT;
  const char *step;

  if (server && unlink (path) < 0 && errno != ENOENT)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
                   "cannot replace existing file %s for a server socket: %s",
                   path, g_strerror (errno));
      return FALSE;
    }
  if (rte_vhost_driver_register (path, flags) != 0)
    step = "register";
  else if (rte_vhost_driver_disable_features (path, DVS_DISABLED_FEATURES) != 0)
    step = "configure features of";
  else if (rte_vhost_driver_callback_register (path, &vhost_ops) != 0)
    step = "set callbacks on";
  else if (rte_vhost_driver_start (path) != 0)
    step = server ? "listen on" : "start";
  else
    {
      g_info ("vhost-user socket %s registered (%s mode)", path,
              server ? "server" : "client");
      return TRUE;
    }
  if (strcmp (step, "register") != 0)
    rte_vhost_driver_unregister (path);
  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
               "rte_vhost could not %s vhost-user socket %s; check that the "
               "path is valid and its directory exists%s",
               step, path, server ? " and is writable" : "");
  return FALSE;
}

void
dvs_vhost_unregister (const gchar *path)
{
  if (rte_vhost_driver_unregister (path) != 0)
    g_warning ("rte_vhost could not unregister %s", path);
}
