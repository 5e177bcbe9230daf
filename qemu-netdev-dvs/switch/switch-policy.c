/* Port policies: blocking, security, shaping, mirroring pushed to the
 * datapath's filter classes; the filter classes' runtime states read back. */
#define G_LOG_DOMAIN "dvs-switch"
#include "switch/switch-private.h"

#include "dvs-jsonrpc.h"
#include "dvs-json-write.h"

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
  return switch_set_policy (sw, name, policy, FALSE, error);
}

gboolean
switch_set_policy (DvsSwitch *sw, const gchar *name, JsonNode *policy, gboolean keep_state,
            GError **error)
{
  DvsPortPolicy pol;
  int idx, mirror_idx = -1, err;

  g_mutex_lock (&sw->lock);
  idx = switch_find_by_name (sw, name);
  if (idx >= 0 && sw->ports[idx]->removing)
    idx = -1;
  if (idx >= 0)
    dvs_port_policy_copy (&pol, &sw->ports[idx]->policy);
  g_mutex_unlock (&sw->lock);
  if (idx < 0)
    return switch_no_such_port (name, error);
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
      mirror_idx = switch_find_by_name (sw, pol.mirror_to);
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
  g_autofree gchar *text = dvs_json_write (j, FALSE);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name,
                    "MESSAGE", "port %s: policy set to %s", name, text);
  return TRUE;
}

JsonNode *
dvs_switch_port_filter_state (DvsSwitch *sw, const gchar *name, GError **error)
{
  g_autoptr (DvsPortState) st = dvs_switch_port_save_state (sw, name, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (st == NULL)
    return NULL;
  json_builder_begin_object (b);
  for (int id = 0; id < DVS_FILTER_COUNT; id++)
    {
      g_autofree gchar *data = NULL;

      if (st->filter_state[id] == NULL)
        continue;   /* not active on this port, or stateless */
      data = g_base64_encode (g_bytes_get_data (st->filter_state[id], NULL),
                              g_bytes_get_size (st->filter_state[id]));
      json_builder_set_member_name (b, dvs_filter_classes[id]->name);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_int_value (b, st->filter_version[id]);
      json_builder_set_member_name (b, "data");
      json_builder_add_string_value (b, data);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
