#define G_LOG_DOMAIN "dvs-control"
#include "control-methods.h"

#include "dvport/dvport-host.h"
#include "dvs-names.h"

/* The DVport methods of the control socket (docs/control-protocol.md,
 * "DVports"); user data is the DvsControl. */

static JsonNode *
object_with (const gchar *name, const gchar *value)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* A connection ID as dvsmgr issues them (dvs-names.h): no control
 * characters reach the store or the replies. */
static gboolean
valid_connection (const gchar *conn, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (dvs_name_check_token (conn, "the parameter \"connection\"", 128, &local))
    return TRUE;
  g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS, "%s", local->message);
  return FALSE;
}

JsonNode *
dvs_control_switch_apply (JsonObject *params, gpointer ctl, GError **error)
{
  DvsDvportHost *h = ((DvsControl *) ctl)->dvports;
  static const gchar *const allowed[] = { "switch", NULL };

  if (!dvs_jsonrpc_params_only (params, allowed, error))
    return NULL;
  if (!json_object_has_member (params, "switch"))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "missing parameter \"switch\": the DVswitch this host should hold");
      return NULL;
    }
  return dvs_dvport_host_apply (h, json_object_get_member (params, "switch"), error);
}

JsonNode *
dvs_control_switch_remove (JsonObject *params, gpointer ctl, GError **error)
{
  DvsDvportHost *h = ((DvsControl *) ctl)->dvports;
  static const gchar *const allowed[] = { "id", NULL };
  const gchar *id;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "id", &id, error)
      || !dvs_dvport_host_remove_switch (h, id, error))
    return NULL;
  return object_with ("id", id);
}

JsonNode *
dvs_control_switch_get (JsonObject *params, gpointer ctl, GError **error)
{
  DvsDvportHost *h = ((DvsControl *) ctl)->dvports;
  static const gchar *const allowed[] = { "id", NULL };
  const gchar *id = NULL;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string_opt (params, "id", &id, error))
    return NULL;
  return dvs_dvport_host_describe (h, id, error);
}

JsonNode *
dvs_control_switch_list (JsonObject *params, gpointer ctl, GError **error)
{
  static const gchar *const none[] = { NULL };

  if (!dvs_jsonrpc_params_only (params, none, error))
    return NULL;
  return dvs_dvport_host_list (((DvsControl *) ctl)->dvports);
}

JsonNode *
dvs_control_dvport_attach (JsonObject *params, gpointer ctl, GError **error)
{
  DvsDvportHost *h = ((DvsControl *) ctl)->dvports;
  static const gchar *const allowed[] = { "switch", "port", "connection", "socket", "mode", NULL };
  const gchar *sw, *port, *conn, *socket, *mode = "client";

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "switch", &sw, error)
      || !dvs_jsonrpc_param_string (params, "port", &port, error)
      || !dvs_jsonrpc_param_string (params, "connection", &conn, error)
      || !valid_connection (conn, error)
      || !dvs_jsonrpc_param_string (params, "socket", &socket, error)
      || !dvs_jsonrpc_param_string_opt (params, "mode", &mode, error))
    return NULL;
  if (!g_str_equal (mode, "client") && !g_str_equal (mode, "server"))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "mode must be \"client\" or \"server\", not \"%s\"", mode);
      return NULL;
    }
  if (!dvs_dvport_host_attach (h, sw, port, conn, socket, g_str_equal (mode, "server"), error))
    return NULL;
  return dvs_dvport_host_show (h, sw, port, error);
}

JsonNode *
dvs_control_dvport_detach (JsonObject *params, gpointer ctl, GError **error)
{
  DvsDvportHost *h = ((DvsControl *) ctl)->dvports;
  static const gchar *const allowed[] = { "switch", "port", NULL };
  const gchar *sw, *port;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "switch", &sw, error)
      || !dvs_jsonrpc_param_string (params, "port", &port, error)
      || !dvs_dvport_host_detach (h, sw, port, error))
    return NULL;
  return dvs_dvport_host_show (h, sw, port, error);
}

JsonNode *
dvs_control_dvport_show (JsonObject *params, gpointer ctl, GError **error)
{
  DvsDvportHost *h = ((DvsControl *) ctl)->dvports;
  static const gchar *const allowed[] = { "switch", "port", NULL };
  const gchar *sw, *port;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "switch", &sw, error)
      || !dvs_jsonrpc_param_string (params, "port", &port, error))
    return NULL;
  return dvs_dvport_host_show (h, sw, port, error);
}

void
dvs_control_dvport_migrate_in (JsonObject *params, gpointer ctl, DvsRpcReply *reply)
{
  DvsControl *control = ctl;
  static const gchar *const allowed[] = { "switch", "port", "connection", NULL };
  g_autoptr (GError) error = NULL;
  const gchar *sw, *port, *conn;

  if (!dvs_jsonrpc_params_only (params, allowed, &error)
      || !dvs_jsonrpc_param_string (params, "switch", &sw, &error)
      || !dvs_jsonrpc_param_string (params, "port", &port, &error)
      || !dvs_jsonrpc_param_string (params, "connection", &conn, &error)
      || !valid_connection (conn, &error))
    {
      dvs_rpc_reply_return (reply, NULL, error);
      return;
    }
  if (control->migrate_in == NULL)
    {
      g_set_error (&error, DVS_JSONRPC_ERROR, DVS_JSONRPC_CONNECTION_REFUSED,
                   "this dvs-switchd runs without a manager (--manager): a live migration "
                   "needs dvsmgr to move DVport %s here", port);
      dvs_rpc_reply_return (reply, NULL, error);
      return;
    }
  control->migrate_in (control->migrate_in_data, sw, port, conn, reply);
}
