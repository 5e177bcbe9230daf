/* Control methods for the switch's migration support on a port
 * (docs/control-protocol.md): port.announce, port.set-hold, port.set-gate.
 * They act on switch ports by name (a DVport's switch port is named by its
 * key). */
#define G_LOG_DOMAIN "dvs-control"
#include "control-methods.h"

#include "dvs-jsonrpc.h"

static gboolean
bool_param (JsonObject *params, const gchar *name, gboolean *out, GError **error)
{
  JsonNode *n = json_object_get_member (params, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "%s must be true or false", name);
      return FALSE;
    }
  *out = json_node_get_boolean (n);
  return TRUE;
}

static JsonNode *
ok (void)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
dvs_control_port_announce (JsonObject *params, gpointer ctl, GError **error)
{
  static const gchar *const allowed[] = { "port", "mac", NULL };
  const gchar *port, *mac;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "port", &port, error)
      || !dvs_jsonrpc_param_string (params, "mac", &mac, error)
      || !dvs_switch_port_announce (((DvsControl *) ctl)->sw, port, mac, error))
    return NULL;
  return ok ();
}

JsonNode *
dvs_control_port_set_hold (JsonObject *params, gpointer ctl, GError **error)
{
  static const gchar *const allowed[] = { "port", "hold", NULL };
  const gchar *port;
  gboolean hold;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "port", &port, error)
      || !bool_param (params, "hold", &hold, error)
      || !dvs_switch_port_set_hold (((DvsControl *) ctl)->sw, port, hold, error))
    return NULL;
  return ok ();
}

JsonNode *
dvs_control_port_set_gate (JsonObject *params, gpointer ctl, GError **error)
{
  static const gchar *const allowed[] = { "port", "gated", NULL };
  const gchar *port;
  gboolean gated;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "port", &port, error)
      || !bool_param (params, "gated", &gated, error)
      || !dvs_switch_port_set_gate (((DvsControl *) ctl)->sw, port, gated, error))
    return NULL;
  return ok ();
}
