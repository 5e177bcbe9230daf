#define G_LOG_DOMAIN "dvs-switch"
#include "dvs-switch.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <sys/un.h>

#include "dvs-jsonrpc.h"
#include "vhost/vhost-port.h"
#include "switch/vlan-config.h"

typedef struct {
  gchar *name;
  gchar *socket;
  gboolean server;
  gboolean removing;          /* being torn down: refuse new devices */
  guint64 seq;                /* order of addition */
  struct dvs_vlan_config vlan;
  DvsPortPolicy policy;
} SwitchPort;

struct _DvsSwitch {
  gchar *name;
  gboolean busy_poll;
  guint mac_aging;
  struct dvs_datapath *dp;
  /* Guards ports[]: changed on the main thread, looked up by rte_vhost's. */
  GMutex lock;
  SwitchPort *ports[DVS_MAX_PORTS];
  guint64 next_seq;
  GMainContext *context;      /* where link-down notifications run */
  DvsLinkDownFunc link_down_func;
  gpointer link_down_data;
};

static void
switch_port_free (SwitchPort *p)
{
  if (p == NULL)
    return;
  g_free (p->name);
  g_free (p->socket);
  dvs_port_policy_clear (&p->policy);
  g_free (p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SwitchPort, switch_port_free)

void
dvs_port_state_free (DvsPortState *state)
{
  if (state == NULL)
    return;
  g_clear_pointer (&state->fwd_state, g_bytes_unref);
  for (int i = 0; i < DVS_FILTER_COUNT; i++)
    g_clear_pointer (&state->filter_state[i], g_bytes_unref);
  g_free (state);
}

void
dvs_port_info_free (DvsPortInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->socket);
  dvs_port_policy_clear (&info->policy);
  g_free (info);
}

/* Index of the port on @path, or -1.  Lock held. */
static int
find_by_socket (DvsSwitch *sw, const gchar *path)
{
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    if (sw->ports[i] != NULL && g_str_equal (sw->ports[i]->socket, path))
      return i;
  return -1;
}

static int
find_by_name (DvsSwitch *sw, const gchar *name)
{
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    if (sw->ports[i] != NULL && g_str_equal (sw->ports[i]->name, name))
      return i;
  return -1;
}

static gboolean
on_device_ready (gpointer ctx, const gchar *path, int vid)
{
  DvsSwitch *sw = ctx;
  g_autofree gchar *name = NULL;
  int idx, err;

  g_mutex_lock (&sw->lock);
  idx = find_by_socket (sw, path);
  if (idx >= 0 && !sw->ports[idx]->removing)
    name = g_strdup (sw->ports[idx]->name);
  g_mutex_unlock (&sw->lock);
  if (name == NULL)
    {
      g_warning ("refusing vhost-user device on %s: no port uses this socket", path);
      return FALSE;
    }
  err = dvs_dp_link_up (sw->dp, (guint16) idx, vid);
  if (err < 0)
    {
      g_warning ("port %s: cannot bring link up: %s", name, g_strerror (-err));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "SOCKET", path, "MESSAGE", "port %s: link up", name);
  return TRUE;
}

typedef struct {
  DvsSwitch *sw;
  gchar *port;
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
  if (call->sw->link_down_func != NULL)
    call->sw->link_down_func (call->sw, call->port, call->sw->link_down_data);
  return G_SOURCE_REMOVE;
}

guint64
dvs_switch_port_fwd_changes (DvsSwitch *sw, const gchar *name)
{
  int idx;

  g_mutex_lock (&sw->lock);
  idx = find_by_name (sw, name);
  g_mutex_unlock (&sw->lock);
  return idx < 0 ? 0 : dvs_dp_port_fwd_changes (sw->dp, (guint16) idx);
}

void
dvs_switch_set_link_down_func (DvsSwitch *sw, DvsLinkDownFunc func, gpointer user_data)
{
  sw->link_down_func = func;
  sw->link_down_data = user_data;
}

static void
on_device_gone (gpointer ctx, const gchar *path, int vid)
{
  DvsSwitch *sw = ctx;
  g_autofree gchar *name = NULL;
  int idx;

  g_mutex_lock (&sw->lock);
  idx = find_by_socket (sw, path);
  if (idx >= 0)
    name = g_strdup (sw->ports[idx]->name);
  g_mutex_unlock (&sw->lock);
  if (name == NULL)
    return;
  /* Synchronous: once this returns the datapath no longer uses @vid. */
  dvs_dp_link_down (sw->dp, (guint16) idx);
  if (sw->link_down_func != NULL)
    {
      /* Saving state means file I/O: not on rte_vhost's thread. */
      LinkDownCall *call = g_new0 (LinkDownCall, 1);
      call->sw = sw;
      call->port = g_strdup (name);
      g_main_context_invoke_full (sw->context, G_PRIORITY_DEFAULT, link_down_dispatch,
                                  call, link_down_call_free);
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
  idx = find_by_socket (sw, path);
  g_mutex_unlock (&sw->lock);
  if (idx >= 0)
    dvs_dp_kick (sw->dp, (guint16) idx);
}

static const DvsVhostListener switch_listener = {
  .ready = on_device_ready,
  .gone = on_device_gone,
  .vring_changed = on_vring_changed,
};

DvsSwitch *
dvs_switch_new (const DvsSwitchOptions *opts, GError **error)
{
  g_autofree DvsSwitch *sw = g_new0 (DvsSwitch, 1);
  struct dvs_dp_config dc = {
    .name = opts->name,
    .cpu = opts->cpu,
    .busy_poll = opts->busy_poll,
    .mbufs = opts->mbufs,
    .fwd_class = &dvs_fwd_l2_learning,
    .fwd_params = { .table_size = 8192, .aging_seconds = opts->mac_aging },
  };
  int err;

  sw->dp = dvs_dp_create (&dc);
  if (sw->dp == NULL)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "cannot create the datapath (%s): is --memory large enough "
                   "for %u packet buffers?", g_strerror (errno),
                   opts->mbufs ? opts->mbufs : 16383);
      return NULL;
    }
  err = dvs_dp_start (sw->dp);
  if (err < 0)
    {
      dvs_dp_destroy (sw->dp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-err),
                   "cannot start the datapath thread: %s", g_strerror (-err));
      return NULL;
    }
  sw->name = g_strdup (opts->name);
  sw->busy_poll = opts->busy_poll;
  sw->mac_aging = opts->mac_aging;
  g_mutex_init (&sw->lock);
  sw->context = g_main_context_ref_thread_default ();
  dvs_vhost_set_listener (&switch_listener, sw);
  g_info ("datapath started: forwarding class %s, %s polling, MAC aging %u s",
          dvs_dp_fwd_class_name (sw->dp), opts->busy_poll ? "busy" : "adaptive",
          opts->mac_aging);
  return g_steal_pointer (&sw);
}

void
dvs_switch_free (DvsSwitch *sw)
{
  if (sw == NULL)
    return;
  sw->link_down_func = NULL;    /* shutting down: nobody to tell */
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    if (sw->ports[i] != NULL)
      {
        g_autofree gchar *name = g_strdup (sw->ports[i]->name);
        dvs_switch_port_remove (sw, name, NULL);
      }
  dvs_vhost_set_listener (NULL, NULL);
  dvs_dp_destroy (sw->dp);
  g_main_context_unref (sw->context);
  g_mutex_clear (&sw->lock);
  g_free (sw->name);
  g_free (sw);
}

gboolean
dvs_port_name_valid (const gchar *name, GError **error)
{
  gsize len = strlen (name);

  if (len == 0 || len > 32 || strspn (name, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "invalid port name '%s': use 1-32 letters, digits, '_', '.' or '-'",
                   name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
socket_path_valid (const gchar *path, GError **error)
{
  if (!g_path_is_absolute (path) || strlen (path) >= sizeof ((struct sockaddr_un *) 0)->sun_path)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "invalid socket path '%s': it must be absolute and shorter than %zu bytes",
                   path, sizeof ((struct sockaddr_un *) 0)->sun_path);
      return FALSE;
    }
  return TRUE;
}

static gboolean restore_state (DvsSwitch *sw, int idx, const gchar *name,
                               const DvsPortState *st, gboolean fwd_only,
                               GError **error);
static gboolean set_policy (DvsSwitch *sw, const gchar *name, JsonNode *policy,
                            gboolean keep_state, GError **error);
static gboolean no_such_port (const gchar *name, GError **error);

gboolean
dvs_switch_port_add (DvsSwitch *sw, const gchar *name, const gchar *socket,
                     gboolean server, const struct dvs_vlan_config *vlan,
                     GError **error)
{
  return dvs_switch_port_add_full (sw, name, socket, server, vlan, NULL, NULL, NULL, error);
}

gboolean
dvs_switch_port_add_full (DvsSwitch *sw, const gchar *name, const gchar *socket,
                          gboolean server, const struct dvs_vlan_config *vlan,
                          JsonNode *policy, const DvsPortState *restore,
                          const DvsPortPlacement *placement, GError **error)
{
  gboolean adopt = placement != NULL && placement->adopt;
  g_autoptr (SwitchPort) p = NULL;
  int idx = -1, err;

  if (!dvs_port_name_valid (name, error) || !socket_path_valid (socket, error))
    return FALSE;
  g_mutex_lock (&sw->lock);
  if (find_by_name (sw, name) >= 0 || find_by_socket (sw, socket) >= 0)
    {
      gboolean same_name = find_by_name (sw, name) >= 0;
      g_mutex_unlock (&sw->lock);
      if (same_name)
        g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_EXISTS,
                     "a port named '%s' already exists; remove it first or choose another name",
                     name);
      else
        g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_EXISTS,
                     "socket %s is already used by another port", socket);
      return FALSE;
    }
  if (placement != NULL && placement->index >= 0)
    idx = placement->index < DVS_MAX_PORTS && sw->ports[placement->index] == NULL
            ? placement->index : -1;
  else
    for (int i = 0; i < DVS_MAX_PORTS && idx < 0; i++)
      if (sw->ports[i] == NULL)
        idx = i;
  if (idx < 0 && placement != NULL && placement->index >= 0)
    {
      g_mutex_unlock (&sw->lock);
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
                   "cannot add port '%s' at datapath slot %d: the slot is taken",
                   name, placement->index);
      return FALSE;
    }
  if (idx < 0)
    {
      g_mutex_unlock (&sw->lock);
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
                   "cannot add port '%s': the switch has its maximum of %d ports",
                   name, DVS_MAX_PORTS);
      return FALSE;
    }
  p = g_new0 (SwitchPort, 1);
  p->name = g_strdup (name);
  p->socket = g_strdup (socket);
  p->server = server;
  p->vlan = *vlan;
  p->seq = sw->next_seq++;
  sw->ports[idx] = p;
  g_mutex_unlock (&sw->lock);

  err = dvs_dp_port_add (sw->dp, (guint16) idx, vlan, placement ? placement->rt : NULL);
  if (err < 0)
    g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                 "datapath refused port '%s': %s", name, g_strerror (-err));
  /* Policy and saved state go in before the socket: the link comes up with
   * them in place. */
  if (err < 0
      || (policy != NULL && !set_policy (sw, name, policy, adopt, error))
      || (restore != NULL && !restore_state (sw, idx, name, restore, adopt, error))
      || !dvs_vhost_register (socket, server, error))
    {
      if (err >= 0)
        dvs_dp_port_remove (sw->dp, (guint16) idx);
      g_mutex_lock (&sw->lock);
      sw->ports[idx] = NULL;
      g_mutex_unlock (&sw->lock);
      return FALSE;   /* p is freed on return */
    }
  g_steal_pointer (&p);
  g_autofree gchar *v = dvs_vlan_config_describe (vlan);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "SOCKET", socket, "MESSAGE", "port %s added on %s (%s mode, vlan %s)",
                    name, socket, server ? "server" : "client", v);
  return TRUE;
}

static gboolean
restore_state (DvsSwitch *sw, int idx, const gchar *name, const DvsPortState *st,
               gboolean fwd_only, GError **error)
{
  int err = fwd_only ? 0 : dvs_dp_port_load_stats (sw->dp, (guint16) idx, &st->stats);

  if (err == 0 && st->fwd_state != NULL)
    err = dvs_dp_port_load_fwd_state (sw->dp, (guint16) idx, st->fwd_version,
                                      g_bytes_get_data (st->fwd_state, NULL),
                                      g_bytes_get_size (st->fwd_state));
  if (err < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "port '%s': saved forwarding state (version %u) could not be "
                   "restored: %s", name, st->fwd_version, g_strerror (-err));
      return FALSE;
    }
  for (int id = 0; id < DVS_FILTER_COUNT && !fwd_only; id++)
    {
      if (st->filter_state[id] == NULL)
        continue;
      err = dvs_dp_port_load_filter_state (sw->dp, (guint16) idx, id, st->filter_version[id],
                                           g_bytes_get_data (st->filter_state[id], NULL),
                                           g_bytes_get_size (st->filter_state[id]));
      /* A filter the port no longer has, or a state the class cannot read,
       * starts fresh: the port still comes up. */
      if (err < 0)
        g_warning ("port %s: saved %s state (version %u) not restored (%s); "
                   "it starts fresh", name, dvs_filter_classes[id]->name,
                   st->filter_version[id], err == -ENOENT ? "filter not configured"
                                                          : g_strerror (-err));
    }
  return TRUE;
}

DvsPortState *
dvs_switch_port_save_state (DvsSwitch *sw, const gchar *name, GError **error)
{
  g_autoptr (DvsPortState) st = g_new0 (DvsPortState, 1);
  gsize cap = 4 + 12 * (dvs_switch_mac_count (sw) + 256);
  g_autofree guint8 *buf = g_malloc (cap);
  long n;
  int idx;

  g_mutex_lock (&sw->lock);
  idx = find_by_name (sw, name);
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    {
      no_such_port (name, error);
      return NULL;
    }
  dvs_dp_port_stats (sw->dp, (guint16) idx, &st->stats);
  n = dvs_dp_port_save_fwd_state (sw->dp, (guint16) idx, buf, cap);
  if (n < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                   "port '%s': the forwarding class could not save its state: %s",
                   name, g_strerror ((int) -n));
      return NULL;
    }
  st->fwd_version = dvs_dp_fwd_state_version (sw->dp);
  st->fwd_state = g_bytes_new (buf, (gsize) n);
  for (int id = 0; id < DVS_FILTER_COUNT; id++)
    {
      n = dvs_dp_port_save_filter_state (sw->dp, (guint16) idx, id, buf, cap);
      if (n == -ENOENT)
        continue;
      if (n < 0)
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                       "port '%s': filter %s could not save its state: %s", name,
                       dvs_filter_classes[id]->name, g_strerror ((int) -n));
          return NULL;
        }
      st->filter_version[id] = dvs_filter_classes[id]->state_version;
      st->filter_state[id] = g_bytes_new (buf, (gsize) n);
    }
  return g_steal_pointer (&st);
}

static gboolean
no_such_port (const gchar *name, GError **error)
{
  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_NO_SUCH_PORT,
               "no port named '%s' on this switch; 'dvs-switchctl port list' shows the ports",
               name);
  return FALSE;
}

gboolean
dvs_switch_port_remove (DvsSwitch *sw, const gchar *name, GError **error)
{
  return dvs_switch_port_detach (sw, name, NULL, error);
}

gboolean
dvs_switch_port_detach (DvsSwitch *sw, const gchar *name,
                        DvsPortState **final_state, GError **error)
{
  g_autoptr (SwitchPort) p = NULL;
  int idx;

  g_mutex_lock (&sw->lock);
  idx = find_by_name (sw, name);
  if (idx >= 0 && sw->ports[idx]->removing)
    idx = -1;
  if (idx >= 0)
    sw->ports[idx]->removing = TRUE;
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    return no_such_port (name, error);

  /* Datapath first (it stops using the device), then rte_vhost, with no
   * lock held: unregistering may call destroy_device → on_device_gone. */
  if (final_state != NULL)
    {
      dvs_dp_link_down (sw->dp, (guint16) idx);
      *final_state = dvs_switch_port_save_state (sw, name, NULL);
    }
  dvs_dp_port_remove (sw->dp, (guint16) idx);
  dvs_vhost_unregister (sw->ports[idx]->socket);
  g_mutex_lock (&sw->lock);
  p = g_steal_pointer (&sw->ports[idx]);
  /* The datapath stopped mirroring to it; so does the recorded policy. */
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    if (sw->ports[i] != NULL && g_strcmp0 (sw->ports[i]->policy.mirror_to, name) == 0)
      {
        g_clear_pointer (&sw->ports[i]->policy.mirror_to, g_free);
        sw->ports[i]->policy.mirror_dir = DVS_MIRROR_NONE;
        g_message ("port %s: mirroring to removed port %s stopped", sw->ports[i]->name, name);
      }
  g_mutex_unlock (&sw->lock);
  if (p->server)
    (void) g_unlink (p->socket);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "MESSAGE", "port %s removed", name);
  return TRUE;
}

gboolean
dvs_switch_port_set_vlan (DvsSwitch *sw, const gchar *name,
                          const struct dvs_vlan_config *vlan, GError **error)
{
  int idx, err;
  g_autofree gchar *v = NULL;

  g_mutex_lock (&sw->lock);
  idx = find_by_name (sw, name);
  if (idx >= 0 && sw->ports[idx]->removing)
    idx = -1;
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    return no_such_port (name, error);
  err = dvs_dp_port_set_vlan (sw->dp, (guint16) idx, vlan);
  if (err < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                   "datapath refused the VLAN change on port '%s': %s", name,
                   g_strerror (-err));
      return FALSE;
    }
  g_mutex_lock (&sw->lock);
  sw->ports[idx]->vlan = *vlan;
  g_mutex_unlock (&sw->lock);
  v = dvs_vlan_config_describe (vlan);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "MESSAGE", "port %s: vlan set to %s", name, v);
  return TRUE;
}

/* Lock held. */
static DvsPortInfo *
info_of (DvsSwitch *sw, int idx)
{
  SwitchPort *p = sw->ports[idx];
  DvsPortInfo *info = g_new0 (DvsPortInfo, 1);

  info->name = g_strdup (p->name);
  info->socket = g_strdup (p->socket);
  info->server = p->server;
  info->vlan = p->vlan;
  dvs_port_policy_copy (&info->policy, &p->policy);
  info->link_up = dvs_dp_link_is_up (sw->dp, (guint16) idx);
  dvs_dp_port_stats (sw->dp, (guint16) idx, &info->stats);
  return info;
}

DvsPortInfo *
dvs_switch_port_info (DvsSwitch *sw, const gchar *name, GError **error)
{
  DvsPortInfo *info = NULL;
  int idx;

  g_mutex_lock (&sw->lock);
  idx = find_by_name (sw, name);
  if (idx >= 0)
    info = info_of (sw, idx);
  g_mutex_unlock (&sw->lock);
  if (info == NULL)
    no_such_port (name, error);
  return info;
}

GPtrArray *
dvs_switch_ports (DvsSwitch *sw)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) dvs_port_info_free);
  int order[DVS_MAX_PORTS], n = 0;

  g_mutex_lock (&sw->lock);
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    if (sw->ports[i] != NULL)
      {
        /* insertion sort by the order of addition */
        int j = n++;
        while (j > 0 && sw->ports[order[j - 1]]->seq > sw->ports[i]->seq)
          {
            order[j] = order[j - 1];
            j--;
          }
        order[j] = i;
      }
  for (int i = 0; i < n; i++)
    g_ptr_array_add (out, info_of (sw, order[i]));
  g_mutex_unlock (&sw->lock);
  return out;
}

GArray *
dvs_switch_mac_dump (DvsSwitch *sw)
{
  long count = dvs_dp_mac_count (sw->dp);
  /* Room for entries learned between the count and the dump. */
  gsize cap = (gsize) MAX (count, 0) + 256;
  GArray *out = g_array_sized_new (FALSE, TRUE, sizeof (struct dvs_mac_entry), (guint) cap);
  long n;

  g_array_set_size (out, (guint) cap);
  n = dvs_dp_mac_dump (sw->dp, (struct dvs_mac_entry *) (void *) out->data, cap);
  g_array_set_size (out, (guint) MAX (n, 0));
  return out;
}

gchar *
dvs_switch_port_name (DvsSwitch *sw, guint16 index)
{
  gchar *name = NULL;

  g_mutex_lock (&sw->lock);
  if (index < DVS_MAX_PORTS && sw->ports[index] != NULL)
    name = g_strdup (sw->ports[index]->name);
  g_mutex_unlock (&sw->lock);
  return name;
}

gboolean
dvs_switch_mac_flush (DvsSwitch *sw, const gchar *name, gsize *flushed,
                      GError **error)
{
  int idx = -1;
  long n;

  if (name != NULL)
    {
      g_mutex_lock (&sw->lock);
      idx = find_by_name (sw, name);
      g_mutex_unlock (&sw->lock);
      if (idx < 0)
        return no_such_port (name, error);
    }
  n = dvs_dp_mac_flush (sw->dp, idx);
  *flushed = (gsize) MAX (n, 0);
  return TRUE;
}

const gchar *
dvs_switch_name (DvsSwitch *sw)
{
  return sw->name;
}

gboolean
dvs_switch_busy_poll (DvsSwitch *sw)
{
  return sw->busy_poll;
}

guint
dvs_switch_mac_aging (DvsSwitch *sw)
{
  return sw->mac_aging;
}

guint
dvs_switch_n_ports (DvsSwitch *sw)
{
  guint n = 0;

  g_mutex_lock (&sw->lock);
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    n += sw->ports[i] != NULL;
  g_mutex_unlock (&sw->lock);
  return n;
}

gsize
dvs_switch_mac_count (DvsSwitch *sw)
{
  long n = dvs_dp_mac_count (sw->dp);
  return (gsize) MAX (n, 0);
}

void
dvs_switch_dp_stats (DvsSwitch *sw, struct dvs_dp_stats *out)
{
  dvs_dp_stats (sw->dp, out);
}

/* Pushes @pol to the datapath's port @idx. */
static int
apply_policy (DvsSwitch *sw, int idx, const DvsPortPolicy *pol, int mirror_idx,
              gboolean keep)
{
  static const struct dvs_block_config blocked = { .enabled = 1 };
  gboolean shaping = dvs_shaper_dir_active (&pol->shaping.dir[0])
                     || dvs_shaper_dir_active (&pol->shaping.dir[1]);
  int err;

  if ((err = dvs_dp_port_set_filter (sw->dp, (guint16) idx, DVS_FILTER_BLOCK,
                                     pol->blocked ? &blocked : NULL, keep)) < 0
      || (err = dvs_dp_port_set_filter (sw->dp, (guint16) idx, DVS_FILTER_SECURITY,
                                        pol->security.enabled ? &pol->security : NULL, keep)) < 0
      || (err = dvs_dp_port_set_filter (sw->dp, (guint16) idx, DVS_FILTER_SHAPER,
                                        shaping ? &pol->shaping : NULL, keep)) < 0)
    return err;
  return dvs_dp_port_set_mirror (sw->dp, (guint16) idx, mirror_idx,
                                 mirror_idx >= 0 ? pol->mirror_dir : DVS_MIRROR_NONE);
}

gboolean
dvs_switch_port_set_policy (DvsSwitch *sw, const gchar *name, JsonNode *policy,
                            GError **error)
{
  return set_policy (sw, name, policy, FALSE, error);
}

/* @keep_state: filters becoming active keep the state found in the port's
 * runtime memory (adopted after a restart) instead of starting fresh. */
static gboolean
set_policy (DvsSwitch *sw, const gchar *name, JsonNode *policy, gboolean keep_state,
            GError **error)
{
  DvsPortPolicy pol;
  int idx, mirror_idx = -1, err;

  g_mutex_lock (&sw->lock);
  idx = find_by_name (sw, name);
  if (idx >= 0 && sw->ports[idx]->removing)
    idx = -1;
  if (idx >= 0)
    dvs_port_policy_copy (&pol, &sw->ports[idx]->policy);
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    return no_such_port (name, error);
  if (!dvs_port_policy_update_from_json (&pol, policy, error))
    {
      dvs_port_policy_clear (&pol);
      return FALSE;
    }
  if (pol.security.enabled && pol.security.n_macs == 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "policy.security needs allowed_macs: the vNIC's own MAC address at least");
      dvs_port_policy_clear (&pol);
      return FALSE;
    }
  if (pol.mirror_to != NULL)
    {
      g_mutex_lock (&sw->lock);
      mirror_idx = find_by_name (sw, pol.mirror_to);
      g_mutex_unlock (&sw->lock);
      if (mirror_idx < 0 || mirror_idx == idx)
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                       mirror_idx < 0 ? "policy.mirror.to names no port of this switch ('%s')"
                                      : "policy.mirror.to: port '%s' cannot mirror to itself",
                       pol.mirror_to);
          dvs_port_policy_clear (&pol);
          return FALSE;
        }
    }
  err = apply_policy (sw, idx, &pol, mirror_idx, keep_state);
  if (err < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                   "datapath refused the policy of port '%s': %s", name, g_strerror (-err));
      dvs_port_policy_clear (&pol);
      return FALSE;
    }
  g_mutex_lock (&sw->lock);
  dvs_port_policy_clear (&sw->ports[idx]->policy);
  sw->ports[idx]->policy = pol;
  g_mutex_unlock (&sw->lock);
  g_autoptr (JsonNode) j = dvs_port_policy_to_json (&pol);
  g_autofree gchar *text = json_to_string (j, FALSE);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "MESSAGE", "port %s: policy set to %s", name, text);
  return TRUE;
}

JsonNode *
dvs_switch_port_filter_state (DvsSwitch *sw, const gchar *name, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  int idx;

  g_mutex_lock (&sw->lock);
  idx = find_by_name (sw, name);
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    {
      no_such_port (name, error);
      return NULL;
    }
  json_builder_begin_object (b);
  for (int id = 0; id < DVS_FILTER_COUNT; id++)
    {
      guint8 buf[256];
      long n = dvs_dp_port_save_filter_state (sw->dp, (guint16) idx, id, buf, sizeof buf);
      g_autofree gchar *data = NULL;

      if (n == -ENOENT)
        continue;       /* not active on this port */
      if (n < 0)
        {
          g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                       "filter %s of port '%s' could not save its state: %s",
                       dvs_filter_classes[id]->name, name, g_strerror ((int) -n));
          return NULL;
        }
      data = g_base64_encode (buf, (gsize) n);
      json_builder_set_member_name (b, dvs_filter_classes[id]->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_int_value (b, dvs_filter_classes[id]->state_version);
      json_builder_set_member_name (b, "data");
      json_builder_add_string_value (b, data);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
