/* rte_vhost's device events for DvsSwitch: a device is ready (link up), gone
 * (link down), or changed a vring.  They run on rte_vhost's thread and only
 * look up the port and tell the datapath; link-down work that needs I/O is
 * passed to the main context.
 *
 * Gates: a gated port accepts its device (QEMU must not be refused: on a
 * migration destination it waits for the back-end) but defers the link
 * up until dvs_switch_port_set_gate() opens the gate.  Ready, gone and
 * ungate each decide and act under sw->link_lock, so an ungate never
 * brings up a device that rte_vhost has just destroyed. */
#define G_LOG_DOMAIN "dvs-switch"
#include "switch/switch-private.h"

#include "dvs-jsonrpc.h"

typedef struct {
  DvsSwitch *sw;
  gchar *port;
  gboolean up;
  GSource *source;
} LinkDownCall;

static void
link_down_call_free (gpointer data)
{
  LinkDownCall *call = data;
  g_free (call->port);
  g_free (call);
}

static gboolean
link_down_dispatch (gpointer data)
{
  LinkDownCall *call = data;
  DvsSwitch *sw = call->sw;

  g_mutex_lock (&sw->lock);
  g_ptr_array_remove_fast (sw->pending, call->source);
  g_mutex_unlock (&sw->lock);
  if (call->up && sw->link_up_func != NULL)
    sw->link_up_func (sw, call->port, sw->link_up_data);
  else if (!call->up && sw->link_down_func != NULL)
    sw->link_down_func (sw, call->port, sw->link_down_data);
  return G_SOURCE_REMOVE;
}

/* Tells the main context's listener of a link change of @name, from an
 * idle source (never at once: see on_device_gone). */
static void
queue_link_call (DvsSwitch *sw, const gchar *name, gboolean up)
{
  LinkDownCall *call = g_new0 (LinkDownCall, 1);

  call->sw = sw;
  call->port = g_strdup (name);
  call->up = up;
  call->source = g_idle_source_new ();
  g_source_set_priority (call->source, G_PRIORITY_DEFAULT);
  g_source_set_callback (call->source, link_down_dispatch, call, link_down_call_free);
  g_mutex_lock (&sw->lock);
  g_ptr_array_add (sw->pending, call->source);   /* the array holds the ref */
  g_source_attach (call->source, sw->context);
  g_mutex_unlock (&sw->lock);
}

void
dvs_switch_set_link_up_func (DvsSwitch *sw, DvsLinkDownFunc func, gpointer user_data)
{
  sw->link_up_func = func;
  sw->link_up_data = user_data;
}

guint64
dvs_switch_port_fwd_changes (DvsSwitch *sw, const gchar *name)
{
  int idx = switch_port_index (sw, name, FALSE, NULL);

  return idx < 0 ? 0 : dvs_dp_port_fwd_changes (sw->dp, (guint16) idx);
}

void
dvs_switch_set_link_down_func (DvsSwitch *sw, DvsLinkDownFunc func, gpointer user_data)
{
  sw->link_down_func = func;
  sw->link_down_data = user_data;
}

/* Records @vid as the port's ready device (-1: none); returns the port's
 * index, or -1.  *gated: whether its gate is closed. */
static int
set_ready_vid (DvsSwitch *sw, const gchar *path, int vid, gboolean live_only,
               gchar **name, gboolean *gated)
{
  int idx;

  g_mutex_lock (&sw->lock);
  idx = switch_find_by_socket (sw, path);
  if (idx >= 0 && live_only && sw->ports[idx]->removing)
    idx = -1;
  if (idx >= 0)
    {
      sw->ports[idx]->ready_vid = vid;
      *gated = sw->ports[idx]->gated;
      *name = g_strdup (sw->ports[idx]->name);
    }
  g_mutex_unlock (&sw->lock);
  return idx;
}

static gboolean
on_device_ready (gpointer ctx, const gchar *path, int vid)
{
  DvsSwitch *sw = ctx;
  g_autofree gchar *name = NULL;
  gboolean gated = FALSE;
  int idx, err;

  g_mutex_lock (&sw->link_lock);
  idx = set_ready_vid (sw, path, vid, TRUE, &name, &gated);
  if (idx < 0)
    {
      g_mutex_unlock (&sw->link_lock);
      g_warning ("refusing vhost-user device on %s: no port uses this socket", path);
      return FALSE;
    }
  if (gated)
    {
      g_mutex_unlock (&sw->link_lock);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                        "SOCKET", path, "MESSAGE",
                        "port %s: device ready; link up deferred (the port is gated)", name);
      return TRUE;
    }
  err = dvs_dp_link_up (sw->dp, (guint16) idx, vid);
  if (err < 0)
    {
      g_autofree gchar *again = NULL;
      set_ready_vid (sw, path, -1, FALSE, &again, &gated);
    }
  g_mutex_unlock (&sw->link_lock);
  if (err < 0)
    {
      g_warning ("port %s: cannot bring link up: %s", name, g_strerror (-err));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "SOCKET", path, "MESSAGE", "port %s: link up", name);
  if (sw->link_up_func != NULL)
    queue_link_call (sw, name, TRUE);
  return TRUE;
}

gboolean
dvs_switch_port_set_gate (DvsSwitch *sw, const gchar *name, gboolean gated,
                          GError **error)
{
  int idx, vid = -1;
  gboolean up;

  g_mutex_lock (&sw->link_lock);
  g_mutex_lock (&sw->lock);
  idx = switch_find_by_name (sw, name);
  if (idx >= 0 && sw->ports[idx]->removing)
    idx = -1;
  if (idx >= 0)
    {
      sw->ports[idx]->gated = gated;
      vid = sw->ports[idx]->ready_vid;
    }
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    {
      g_mutex_unlock (&sw->link_lock);
      return switch_no_such_port (name, error);
    }
  up = dvs_dp_link_is_up (sw->dp, (guint16) idx);
  if (!gated && vid >= 0 && !up)
    {
      int err = dvs_dp_link_up (sw->dp, (guint16) idx, vid);
      g_mutex_unlock (&sw->link_lock);
      if (err < 0)
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                       "port %s: cannot bring link up at ungate: %s", name, g_strerror (-err));
          return FALSE;
        }
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name, "MESSAGE",
                        "port %s: gate opened, link up", name);
      if (sw->link_up_func != NULL)
        queue_link_call (sw, name, TRUE);
      return TRUE;
    }
  g_mutex_unlock (&sw->link_lock);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name, "MESSAGE",
                    "port %s: %s%s", name, gated ? "gated" : "gate opened",
                    gated && up ? " (its link stays up until the device goes)"
                    : !gated && vid < 0 ? " (no device yet)" : "");
  return TRUE;
}

static void
on_device_gone (gpointer ctx, const gchar *path, int vid)
{
  DvsSwitch *sw = ctx;
  g_autofree gchar *name = NULL;
  gboolean gated = FALSE, was_up;
  int idx;

  g_mutex_lock (&sw->link_lock);
  idx = set_ready_vid (sw, path, -1, FALSE, &name, &gated);
  if (idx < 0)
    {
      g_mutex_unlock (&sw->link_lock);
      return;
    }
  was_up = dvs_dp_link_is_up (sw->dp, (guint16) idx);
  /* Synchronous: once this returns the datapath no longer uses @vid. */
  dvs_dp_link_down (sw->dp, (guint16) idx);
  g_mutex_unlock (&sw->link_lock);
  if (gated && !was_up)
    {
      /* Its link never came up: nothing changed in the datapath. */
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name, "SOCKET", path,
                        "MESSAGE", "port %s: gated device gone before its link came up",
                        name);
      return;
    }
  if (sw->link_down_func != NULL)
    {
      /* Saving state means file I/O: not on rte_vhost's thread. */
      /* Always from an idle source, never at once: when the main thread
       * itself removes a port, rte_vhost calls us from inside that removal,
       * and the listener must hear of it after the removal is over. */
      queue_link_call (sw, name, FALSE);
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "SOCKET", path, "MESSAGE",
                    "port %s: link down (the vhost-user peer stopped or disconnected)",
                    name);
}

static void
on_vring_changed (gpointer ctx, const gchar *path, int vid)
{
  DvsSwitch *sw = ctx;
  int idx;

  /* Runs with the vring lock held: only look up and nudge the datapath. */
  g_mutex_lock (&sw->lock);
  idx = switch_find_by_socket (sw, path);
  g_mutex_unlock (&sw->lock);
  if (idx >= 0)
    dvs_dp_kick (sw->dp, (guint16) idx);
}

const DvsVhostListener dvs_switch_vhost_listener = {
  .ready = on_device_ready,
  .gone = on_device_gone,
  .vring_changed = on_vring_changed,
};

