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
#include "switch/switch-private.h"


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
int
switch_find_by_socket (DvsSwitch *sw, const gchar *path)
{
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    if (sw->ports[i] != NULL && g_str_equal (sw->ports[i]->socket, path))
      return i;
  return -1;
}

int
switch_find_by_name (DvsSwitch *sw, const gchar *name)
{
  for (int i = 0; i < DVS_MAX_PORTS; i++)
    if (sw->ports[i] != NULL && g_str_equal (sw->ports[i]->name, name))
      return i;
  return -1;
}

DvsSwitch *
dvs_switch_new (const DvsSwitchOptions *opts, GError **error)
{
  g_autofree DvsSwitch *sw = g_new0 (DvsSwitch, 1);
  struct dvs_dp_config dc = {
    .name = opts->name,
    .cpu = opts->cpu,
    .busy_poll = opts->busy_poll,
    .poll_ms = opts->poll_ms,
    .mbufs = opts->mbufs,
    .io = opts->io,
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
  g_mutex_init (&sw->link_lock);
  sw->uplinks = g_ptr_array_new_with_free_func ((GDestroyNotify) switch_uplink_free);
  sw->context = g_main_context_ref_thread_default ();
  sw->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) g_source_unref);
  dvs_vhost_set_listener (&dvs_switch_vhost_listener, sw);
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
  switch_uplinks_detach (sw, 0);
  dvs_vhost_set_listener (NULL, NULL);
  dvs_dp_destroy (sw->dp);
  /* Notifications still queued would find the switch gone. */
  for (guint i = 0; i < sw->pending->len; i++)
    g_source_destroy (sw->pending->pdata[i]);
  g_ptr_array_unref (sw->pending);
  g_main_context_unref (sw->context);
  g_ptr_array_unref (sw->uplinks);
  g_mutex_clear (&sw->link_lock);
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


gboolean
dvs_switch_port_add (DvsSwitch *sw, const gchar *name, const gchar *socket,
                     gboolean server, const struct dvs_vlan_config *vlan,
                     GError **error)
{
  return dvs_switch_port_add_full (sw, name, socket, server, vlan, NULL, NULL, NULL, error);
}

/* The forwarding state the runtime area kept: newer than the checkpoint's,
 * merged over it. */
static gboolean
switch_restore_fwd_blob (DvsSwitch *sw, int idx, const gchar *name,
                         const DvsPortPlacement *placement, GError **error)
{
  DvsPortState st = {
    .fwd_version = placement->fwd_version,
    .fwd_state = placement->fwd_state,
  };
  return switch_restore_state (sw, idx, name, &st, TRUE, error);
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
  if (switch_find_by_name (sw, name) >= 0 || switch_find_by_socket (sw, socket) >= 0)
    {
      gboolean same_name = switch_find_by_name (sw, name) >= 0;
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
  /* Datapath ports from SWITCH_PORT_LIMIT up are the uplinks'. */
  if (placement != NULL && placement->index >= 0)
    idx = placement->index < SWITCH_PORT_LIMIT && sw->ports[placement->index] == NULL
            ? placement->index : -1;
  else
    for (int i = 0; i < SWITCH_PORT_LIMIT && idx < 0; i++)
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
                   name, SWITCH_PORT_LIMIT);
      return FALSE;
    }
  p = g_new0 (SwitchPort, 1);
  p->name = g_strdup (name);
  p->socket = g_strdup (socket);
  p->server = server;
  p->vlan = *vlan;
  p->seq = sw->next_seq++;
  p->ready_vid = -1;
  sw->ports[idx] = p;
  g_mutex_unlock (&sw->lock);

  err = dvs_dp_port_add (sw->dp, (guint16) idx, placement ? placement->domain : 0, vlan,
                         placement ? placement->rt : NULL);
  if (err < 0)
    g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                 "datapath refused port '%s': %s", name, g_strerror (-err));
  /* Policy and saved state go in before the socket: the link comes up with
   * them in place. */
  if (err < 0
      || (policy != NULL && !switch_set_policy (sw, name, policy, adopt, error))
      || (restore != NULL && !switch_restore_state (sw, idx, name, restore, adopt, error))
      || (adopt && placement->fwd_state != NULL
          && !switch_restore_fwd_blob (sw, idx, name, placement, error))
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

gboolean
dvs_switch_domain_add (DvsSwitch *sw, guint16 domain, GError **error)
{
  int err = dvs_dp_domain_add (sw->dp, domain);

  if (err < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
                   "cannot create forwarding domain %u: %s (a host serves at most %d "
                   "DVswitches)", domain, g_strerror (-err), DVS_MAX_DOMAINS - 1);
      return FALSE;
    }
  return TRUE;
}

gboolean
dvs_switch_domain_remove (DvsSwitch *sw, guint16 domain, GError **error)
{
  int err;

  /* The DVswitch's uplink goes with it (and would keep the domain busy). */
  if (domain != 0)
    switch_uplinks_detach (sw, domain);
  err = dvs_dp_domain_remove (sw->dp, domain);

  if (err < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                   "cannot remove forwarding domain %u: %s", domain, g_strerror (-err));
      return FALSE;
    }
  return TRUE;
}

int
switch_port_index (DvsSwitch *sw, const gchar *name, gboolean live_only,
                   GError **error)
{
  int idx;

  g_mutex_lock (&sw->lock);
  idx = switch_find_by_name (sw, name);
  if (idx >= 0 && live_only && sw->ports[idx]->removing)
    idx = -1;
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    switch_no_such_port (name, error);
  return idx;
}

gboolean
switch_no_such_port (const gchar *name, GError **error)
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
  idx = switch_find_by_name (sw, name);
  if (idx >= 0 && sw->ports[idx]->removing)
    idx = -1;
  if (idx >= 0)
    sw->ports[idx]->removing = TRUE;
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    return switch_no_such_port (name, error);

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

  idx = switch_port_index (sw, name, TRUE, error);
  if (idx < 0)
    return FALSE;
  /* The same VLAN again is no change: the datapath would forget the
   * port's learned MACs. */
  g_mutex_lock (&sw->lock);
  if (dvs_vlan_config_equal (&sw->ports[idx]->vlan, vlan))
    {
      g_mutex_unlock (&sw->lock);
      return TRUE;
    }
  g_mutex_unlock (&sw->lock);
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
  info->gated = p->gated;
  info->device_ready = p->ready_vid >= 0;
  info->hold = dvs_dp_port_hold (sw->dp, (guint16) idx);
  /* A pair counts once its transmit vring (our rx queue) is enabled. */
  info->queues = (guint) __builtin_popcount (dvs_dp_port_queues (sw->dp, (guint16) idx)
                                             & 0xaaaaaaaau);
  dvs_dp_port_stats (sw->dp, (guint16) idx, &info->stats);
  return info;
}

DvsPortInfo *
dvs_switch_port_info (DvsSwitch *sw, const gchar *name, GError **error)
{
  DvsPortInfo *info = NULL;
  int idx;

  g_mutex_lock (&sw->lock);
  idx = switch_find_by_name (sw, name);
  if (idx >= 0)
    info = info_of (sw, idx);
  g_mutex_unlock (&sw->lock);
  if (info == NULL)
    switch_no_such_port (name, error);
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
  /* Uplinks change on the main thread only, where this runs. */
  for (guint i = 0; name == NULL && i < sw->uplinks->len; i++)
    {
      SwitchUplink *u = sw->uplinks->pdata[i];
      if (u->domain != 0 && SWITCH_UPLINK_INDEX (u->domain) == index)
        name = g_strdup (u->name);
    }
  return name;
}

gboolean
dvs_switch_mac_flush (DvsSwitch *sw, const gchar *name, gsize *flushed,
                      GError **error)
{
  int idx = -1;
  long n;

  if (name != NULL && (idx = switch_port_index (sw, name, FALSE, error)) < 0)
    return FALSE;
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

void
dvs_switch_set_rx_paused (DvsSwitch *sw, gboolean paused)
{
  dvs_dp_set_rx_paused (sw->dp, paused);
}

void
dvs_switch_set_journal (DvsSwitch *sw, const struct dvs_journal_area *area)
{
  dvs_dp_set_journal (sw->dp, area);
}

