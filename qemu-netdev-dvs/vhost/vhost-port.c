#define G_LOG_DOMAIN "dvs-vhost"
#include "vhost-port.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <unistd.h>

#include <rte_vhost.h>

#include "datapath/datapath.h"
#include "dvs-jsonrpc.h"
#include "vhost-flap.h"

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

  /* A fresh start for the datapath's reader of the guest's TX ring. */
  dvs_vhost_io_reset (vid);
  if (!path_of (vid, path, sizeof path) || listener == NULL)
    return -1;
  dvs_vhost_flap_started (path);
  return listener->ready (listener_ctx, path, vid) ? 0 : -1;
}

static void
on_destroy_device (int vid)
{
  char path[PATH_MAX];

  if (path_of (vid, path, sizeof path) && listener != NULL)
    listener->gone (listener_ctx, path, vid);
  /* The datapath no longer uses @vid. */
  dvs_vhost_io_reset (vid);
}

/* DPDK 22.11 has no call to ask whether a vring is enabled: the datapath's
 * io keeps what this callback says (it runs with the vring's lock held:
 * only record and signal). */
static int
on_vring_state_changed (int vid, uint16_t queue_id, int enable)
{
  char path[PATH_MAX];

  dvs_vhost_io_vring_state (vid, queue_id, enable != 0);
  if (path_of (vid, path, sizeof path) && listener != NULL)
    listener->vring_changed (listener_ctx, path, vid);
  return 0;
}

/* The pause handshake (docs/datapath.md, "Reading the guests' transmit
 * rings").  The datapath reads each guest's transmit ring itself, through
 * pointers into guest memory that a vhost-user message may unmap or move
 * (SET_MEM_TABLE, SET_VRING_ADDR, ...), with features and a dirty log that
 * messages change.  Before rte_vhost handles any message of a device (with,
 * for most, all its vring locks held) the datapath is kept out of that
 * device's ring; after it, the datapath re-reads all it knows.  Messages
 * are rare: every one pauses, except those that change nothing the reader
 * uses.  GET_VRING_BASE and RESET_OWNER stop the device: rte_vhost calls
 * destroy_device first, whose link down returns once the datapath has left
 * the port, so the frames still in the ring are read until then (as
 * rte_vhost itself does: it takes no vring lock for them).  rte_vhost
 * skips post_msg_handle when a handler fails: the next message,
 * new_device or destroy_device resume. */
#define DVS_PAUSE_TIMEOUT_US 1000000

/* vhost-user request codes (the vhost-user protocol). */
enum {
  VU_GET_FEATURES = 1,
  VU_RESET_OWNER = 4,
  VU_GET_VRING_BASE = 11,
  VU_GET_PROTOCOL_FEATURES = 15,
  VU_GET_QUEUE_NUM = 17,
  VU_GET_CONFIG = 24,
};

static gboolean
request_pauses (uint32_t request)
{
  switch (request)
    {
    case VU_GET_FEATURES:
    case VU_RESET_OWNER:
    case VU_GET_VRING_BASE:
    case VU_GET_PROTOCOL_FEATURES:
    case VU_GET_QUEUE_NUM:
    case VU_GET_CONFIG:
      return FALSE;
    default:
      return TRUE;
    }
}

/* The header of a vhost-user message (the protocol's wire format, as
 * rte_vhost hands it to pre_msg_handle): request, flags, payload size, then
 * the payload. */
#define VU_HDR_SIZE 12

/* Multi-queue: the front-end asks how many queue pairs the back-end serves
 * (GET_QUEUE_NUM, with VHOST_USER_PROTOCOL_F_MQ).  rte_vhost 22.11 answers
 * 128 and has no call to lower it (rte_vhost_driver_set_max_queue_num came
 * in 23.07); the datapath serves DVS_MAX_QUEUES, so answer that: QEMU then
 * refuses the back-end for queues=N beyond it, with a clear error ("you
 * are asking more queues than supported"), instead of running a guest
 * whose frames on the higher queues nobody reads. */
static enum rte_vhost_msg_result
reply_queue_num (void *msg)
{
  uint32_t size = sizeof (uint64_t);
  uint64_t queues = DVS_MAX_QUEUES;

  memcpy ((uint8_t *) msg + 8, &size, sizeof size);
  memcpy ((uint8_t *) msg + VU_HDR_SIZE, &queues, sizeof queues);
  return RTE_VHOST_MSG_RESULT_REPLY;
}

static enum rte_vhost_msg_result
on_pre_msg (int vid, void *msg)
{
  uint32_t request;

  memcpy (&request, msg, sizeof request);   /* the first field */
  if (request == VU_GET_QUEUE_NUM)
    return reply_queue_num (msg);
  if (request_pauses (request) && !dvs_vhost_io_pause (vid, DVS_PAUSE_TIMEOUT_US))
    {
      char path[PATH_MAX];

      if (!path_of (vid, path, sizeof path))
        g_strlcpy (path, "(unknown socket)", sizeof path);
      g_warning ("vhost-user %s: the datapath did not leave the guest's "
                 "transmit ring within %d ms; handling message %u anyway",
                 path, DVS_PAUSE_TIMEOUT_US / 1000, request);
    }
  return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static enum rte_vhost_msg_result
on_post_msg (int vid, void *msg)
{
  dvs_vhost_io_resume (vid);
  return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

static const struct rte_vhost_user_extern_ops vhost_extern_ops = {
  .pre_msg_handle = on_pre_msg,
  .post_msg_handle = on_post_msg,
};

static int
on_new_connection (int vid)
{
  char path[PATH_MAX];

  if (!path_of (vid, path, sizeof path))
    g_strlcpy (path, "(unknown socket)", sizeof path);
  g_info ("vhost-user connection established on %s", path);
  dvs_vhost_flap_connected (path);
  dvs_vhost_io_connection (vid);
  if (rte_vhost_extern_callback_register (vid, &vhost_extern_ops, NULL) != 0)
    {
      g_warning ("vhost-user %s: rte_vhost refused the message callbacks; "
                 "refusing the connection", path);
      return -1;
    }
  return 0;
}

static void
on_destroy_connection (int vid)
{
  char path[PATH_MAX];

  if (path_of (vid, path, sizeof path))
    {
      g_message ("vhost-user peer on %s disconnected", path);
      dvs_vhost_flap_closed (path);
    }
}

static const struct rte_vhost_device_ops vhost_ops = {
  .new_device = on_new_device,
  .destroy_device = on_destroy_device,
  .vring_state_changed = on_vring_state_changed,
  .new_connection = on_new_connection,
  .destroy_connection = on_destroy_connection,
};

/* Offloads make Linux guests send multi-segment, partially checksummed
 * frames; a switch that forwards to other VMs and uplinks wants plain ones.
 * The datapath reads guests' transmit rings itself, split rings only, with
 * guest-physical addresses: no packed rings, no IOMMU (rte_vhost offers
 * IOMMU_PLATFORM only with RTE_VHOST_USER_IOMMU_SUPPORT, which we don't
 * ask for; disabled here as well). */
#define DVS_DISABLED_FEATURES \
  ((1ULL << VIRTIO_F_RING_PACKED) | (1ULL << VIRTIO_F_IOMMU_PLATFORM) \
   | (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) \
   | (1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_HOST_UFO) \
   | (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) \
   | (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO6) \
   | (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_UFO))

static gboolean
register_socket (const gchar *path, gboolean server, GError **error)
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

static gboolean
register_client_again (const gchar *path, GError **error)
{
  return register_socket (path, FALSE, error);
}

gboolean
dvs_vhost_register (const gchar *path, gboolean server, GError **error)
{
  if (!register_socket (path, server, error))
    return FALSE;
  if (!server)
    dvs_vhost_flap_track (path, register_client_again);
  return TRUE;
}

void
dvs_vhost_unregister (const gchar *path)
{
  if (dvs_vhost_flap_forget (path))
    return;                      /* cooling down: not registered now */
  if (rte_vhost_driver_unregister (path) != 0)
    g_warning ("rte_vhost could not unregister %s", path);
}
