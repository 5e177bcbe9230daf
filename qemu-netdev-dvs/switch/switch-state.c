/* A port's runtime state, saved (checkpoints) and restored (attach). */
#define G_LOG_DOMAIN "dvs-switch"
#include "switch/switch-private.h"

#include <errno.h>

#include "dvs-jsonrpc.h"

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

gboolean
switch_restore_state (DvsSwitch *sw, int idx, const gchar *name, const DvsPortState *st,
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

gboolean
dvs_switch_port_load_state (DvsSwitch *sw, const gchar *name, const DvsPortState *st,
                            GError **error)
{
  int idx = switch_port_index (sw, name, TRUE, error);

  if (idx < 0)
    return FALSE;
  if (dvs_dp_link_is_up (sw->dp, (guint16) idx))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "port '%s' is up: its state can be replaced only while its link is down",
                   name);
      return FALSE;
    }
  return switch_restore_state (sw, idx, name, st, FALSE, error);
}

DvsPortState *
dvs_switch_port_save_state (DvsSwitch *sw, const gchar *name, GError **error)
{
  g_autoptr (DvsPortState) st = g_new0 (DvsPortState, 1);
  gsize cap = 4 + 12 * (dvs_switch_mac_count (sw) + 256);
  g_autofree guint8 *buf = g_malloc (cap);
  long n;
  int idx;

  idx = switch_port_index (sw, name, FALSE, error);
  if (idx < 0)
    return NULL;
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
      if (dvs_filter_classes[id]->state_size == 0)
        continue;   /* stateless: nothing to carry */
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

