#define G_LOG_DOMAIN "dvs-control"
#include "control-methods.h"

#include <unistd.h>

#include "switch/dvs-switch.h"
#include "switch/vlan-config.h"
#include "switch/port-stats-json.h"

static void
add_int (JsonBuilder *b, const gchar *name, gint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, v);
}

static void
add_str (JsonBuilder *b, const gchar *name, const gchar *v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, v);
}

static JsonNode *
port_to_json (const DvsPortInfo *info, gboolean with_stats)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_str (b, "name", info->name);
  add_str (b, "socket", info->socket);
  add_str (b, "mode", info->server ? "server" : "client");
  add_str (b, "link", info->link_up ? "up" : "down");
  json_builder_set_member_name (b, "queues");
  json_builder_add_int_value (b, info->queues);
  json_builder_set_member_name (b, "gated");
  json_builder_add_boolean_value (b, info->gated);
  json_builder_set_member_name (b, "hold");
  json_builder_add_boolean_value (b, info->hold);
  json_builder_set_member_name (b, "vlan");
  json_builder_add_value (b, dvs_vlan_config_to_json (&info->vlan));
  json_builder_set_member_name (b, "policy");
  json_builder_add_value (b, dvs_port_policy_to_json (&info->policy));
  if (with_stats)
    {
      json_builder_set_member_name (b, "stats");
      json_builder_add_value (b, dvs_port_stats_to_json (&info->stats));
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonNode *
switch_show (JsonObject *params, gpointer user_data, GError **error)
{
  DvsSwitch *sw = ((DvsControl *) user_data)->sw;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  struct dvs_dp_stats st;
  static const gchar *const none[] = { NULL };

  if (!dvs_jsonrpc_params_only (params, none, error))
    return NULL;
  dvs_switch_dp_stats (sw, &st);
  json_builder_begin_object (b);
  add_str (b, "name", dvs_switch_name (sw));
  add_str (b, "version", DVS_VERSION);
  add_int (b, "pid", getpid ());
  add_str (b, "poll_mode", dvs_switch_busy_poll (sw) ? "busy" : "adaptive");
  add_int (b, "ports", dvs_switch_n_ports (sw));
  add_int (b, "mac_entries", (gint64) dvs_switch_mac_count (sw));
  add_int (b, "mac_aging_seconds", dvs_switch_mac_aging (sw));
  json_builder_set_member_name (b, "datapath");
  json_builder_begin_object (b);
  add_int (b, "packets", (gint64) st.packets);
  add_int (b, "busy_cycles", (gint64) st.busy_cycles);
  json_builder_set_member_name (b, "cycles_per_packet");
  json_builder_add_double_value (b, st.packets ? (gdouble) st.busy_cycles / (gdouble) st.packets : 0.0);
  add_int (b, "polls", (gint64) st.polls);
  add_int (b, "sleeps", (gint64) st.sleeps);
  add_int (b, "wakeups", (gint64) st.wakeups);
  add_int (b, "rx_stalls", (gint64) st.rx_stalls);
  add_int (b, "tsc_hz", (gint64) dvs_dp_tsc_hz ());
  json_builder_end_object (b);
  json_builder_set_member_name (b, "uplinks");
  json_builder_add_value (b, dvs_switch_uplinks_to_json (sw, 0));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
vlan_param (JsonObject *params, struct dvs_vlan_config *vlan, GError **error)
{
  JsonNode *n = json_object_get_member (params, "vlan");
  return n == NULL || dvs_vlan_config_from_json (n, vlan, error);
}

static JsonNode *
port_json_by_name (DvsSwitch *sw, const gchar *name, gboolean with_stats,
                   GError **error)
{
  g_autoptr (DvsPortInfo) info = dvs_switch_port_info (sw, name, error);
  return info ? port_to_json (info, with_stats) : NULL;
}

static JsonNode *
port_add (JsonObject *params, gpointer user_data, GError **error)
{
  DvsSwitch *sw = ((DvsControl *) user_data)->sw;
  static const gchar *const allowed[] = { "name", "socket", "mode", "vlan", "policy", NULL };
  const gchar *name, *socket, *mode = "client";
  struct dvs_vlan_config vlan;

  dvs_vlan_config_init_access (&vlan, 0);
  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "name", &name, error)
      || !dvs_jsonrpc_param_string (params, "socket", &socket, error)
      || !dvs_jsonrpc_param_string_opt (params, "mode", &mode, error)
      || !vlan_param (params, &vlan, error))
    return NULL;
  if (!g_str_equal (mode, "client") && !g_str_equal (mode, "server"))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "mode must be \"client\" (QEMU is the vhost-user server, the "
                   "default) or \"server\", not \"%s\"", mode);
      return NULL;
    }
  if (dvs_dvport_host_has_key (((DvsControl *) user_data)->dvports, name))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_EXISTS,
                   "'%s' is the key of a DVport of this host's DVswitch: attach a vNIC "
                   "to it with dvport.attach, or choose another port name", name);
      return NULL;
    }
  if (!dvs_switch_port_add (sw, name, socket, g_str_equal (mode, "server"), &vlan, error))
    return NULL;
  /* The policy is validated before the port exists (a typo must not leave
   * a half-configured port), then applied. */
  if (json_object_has_member (params, "policy")
      && !dvs_switch_port_set_policy (sw, name, json_object_get_member (params, "policy"), error))
    {
      dvs_switch_port_remove (sw, name, NULL);
      return NULL;
    }
  return port_json_by_name (sw, name, FALSE, error);
}

/* Ports that belong to DVports change through the DVport methods only. */
static gboolean
not_a_dvport (gpointer user_data, const gchar *name, GError **error)
{
  if (!dvs_dvport_host_owns (((DvsControl *) user_data)->dvports, name))
    return TRUE;
  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
               "port '%s' is DVport %s's: change it with switch.apply or "
               "dvport.detach, not port.* methods", name, name);
  return FALSE;
}

static JsonNode *
port_remove (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const allowed[] = { "name", NULL };
  const gchar *name;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "name", &name, error)
      || !not_a_dvport (user_data, name, error)
      || !dvs_switch_port_remove (((DvsControl *) user_data)->sw, name, error))
    return NULL;
  json_builder_begin_object (b);
  add_str (b, "name", name);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonNode *
port_list (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const none[] = { NULL };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) ports = NULL;

  if (!dvs_jsonrpc_params_only (params, none, error))
    return NULL;
  ports = dvs_switch_ports (((DvsControl *) user_data)->sw);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "ports");
  json_builder_begin_array (b);
  for (guint i = 0; i < ports->len; i++)
    json_builder_add_value (b, port_to_json (ports->pdata[i], FALSE));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonNode *
port_show (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const allowed[] = { "name", NULL };
  const gchar *name;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "name", &name, error))
    return NULL;
  return port_json_by_name (((DvsControl *) user_data)->sw, name, TRUE, error);
}

static JsonNode *
port_set_vlan (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const allowed[] = { "name", "vlan", NULL };
  const gchar *name;
  struct dvs_vlan_config vlan;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "name", &name, error))
    return NULL;
  if (!json_object_has_member (params, "vlan"))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "missing parameter \"vlan\": give an access VLAN ID or a VLAN object");
      return NULL;
    }
  if (!vlan_param (params, &vlan, error)
      || !not_a_dvport (user_data, name, error)
      || !dvs_switch_port_set_vlan (((DvsControl *) user_data)->sw, name, &vlan, error))
    return NULL;
  return port_json_by_name (((DvsControl *) user_data)->sw, name, FALSE, error);
}

static JsonNode *
port_set_policy (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const allowed[] = { "name", "policy", NULL };
  const gchar *name;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "name", &name, error))
    return NULL;
  if (!json_object_has_member (params, "policy"))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "missing parameter \"policy\": give the sections to change "
                   "(blocked, security, shaping, mirror)");
      return NULL;
    }
  DvsSwitch *sw = ((DvsControl *) user_data)->sw;
  if (!not_a_dvport (user_data, name, error))
    return NULL;
  if (!dvs_switch_port_set_policy (sw, name, json_object_get_member (params, "policy"), error))
    return NULL;
  return port_json_by_name (sw, name, FALSE, error);
}

static JsonNode *
port_filter_state (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const allowed[] = { "name", NULL };
  const gchar *name;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "name", &name, error))
    return NULL;
  return dvs_switch_port_filter_state (((DvsControl *) user_data)->sw, name, error);
}

static JsonNode *
mac_dump (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const allowed[] = { "port", "vlan", NULL };
  DvsSwitch *sw = ((DvsControl *) user_data)->sw;
  const gchar *port = NULL;
  gint64 vlan = -1;
  g_autoptr (GArray) entries = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string_opt (params, "port", &port, error)
      || !dvs_jsonrpc_param_int_opt (params, "vlan", 0, DVS_VLAN_MAX, &vlan, error))
    return NULL;
  if (port != NULL)
    {
      g_autoptr (DvsPortInfo) info = dvs_switch_port_info (sw, port, error);
      if (info == NULL)
        return NULL;
    }
  entries = dvs_switch_mac_dump (sw);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "entries");
  json_builder_begin_array (b);
  for (guint i = 0; i < entries->len; i++)
    {
      const struct dvs_mac_entry *e = &g_array_index (entries, struct dvs_mac_entry, i);
      g_autofree gchar *pname = dvs_switch_port_name (sw, e->port);
      g_autofree gchar *mac = g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x",
                                               e->mac[0], e->mac[1], e->mac[2],
                                               e->mac[3], e->mac[4], e->mac[5]);
      if (pname == NULL || (port != NULL && !g_str_equal (port, pname))
          || (vlan >= 0 && e->vlan != vlan))
        continue;
      json_builder_begin_object (b);
      add_str (b, "mac", mac);
      add_int (b, "vlan", e->vlan);
      add_str (b, "port", pname);
      add_int (b, "age", e->age);
      json_builder_set_member_name (b, "active");
      json_builder_add_boolean_value (b, !e->inactive);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static JsonNode *
mac_flush (JsonObject *params, gpointer user_data, GError **error)
{
  static const gchar *const allowed[] = { "port", NULL };
  const gchar *port = NULL;
  gsize n;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string_opt (params, "port", &port, error)
      || !dvs_switch_mac_flush (((DvsControl *) user_data)->sw, port, &n, error))
    return NULL;
  json_builder_begin_object (b);
  add_int (b, "flushed", (gint64) n);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

const DvsRpcMethod dvs_control_methods[] = {
  { "switch.show", switch_show },
  { "port.add", port_add },
  { "port.remove", port_remove },
  { "port.list", port_list },
  { "port.show", port_show },
  { "port.set-vlan", port_set_vlan },
  { "port.set-policy", port_set_policy },
  { "port.filter-state", port_filter_state },
  { "mac.dump", mac_dump },
  { "switch.apply", dvs_control_switch_apply },
  { "switch.get", dvs_control_switch_get },
  { "switch.list", dvs_control_switch_list },
  { "switch.remove", dvs_control_switch_remove },
  { "dvport.attach", dvs_control_dvport_attach },
  { "dvport.detach", dvs_control_dvport_detach },
  { "dvport.show", dvs_control_dvport_show },
  { "dvport.migrate-in", NULL, dvs_control_dvport_migrate_in },
  { "mac.flush", mac_flush },
  { "port.announce", dvs_control_port_announce },
  { "port.set-hold", dvs_control_port_set_hold },
  { "port.set-gate", dvs_control_port_set_gate },
  { NULL, NULL },
};
