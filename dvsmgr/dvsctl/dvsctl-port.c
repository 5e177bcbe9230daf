/* dvsctl: the DVport commands. */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <stdio.h>

gboolean
ctl_cmd_port_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  static const gchar *const headers[] = {
    "KEY", "SWITCH", "PORTGROUP", "HOST", "CONNECTION", "VM", "MAC", "LINK",
    NULL
  };
  GPtrArray *all = ctl_objects (ctl, CTL_KIND_PORT, error);
  g_autoptr(GPtrArray) ports = NULL;
  g_autoptr(DvsTable) table = NULL;
  CtlObject *sw = NULL;
  CtlObject *pg = NULL;

  if (all == NULL)
    return FALSE;
  if (opts->switch_ref != NULL
      && (sw = ctl_resolve (ctl, CTL_KIND_SWITCH, opts->switch_ref, error)) == NULL)
    return FALSE;
  if (opts->portgroup != NULL
      && (pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, opts->portgroup, error)) == NULL)
    return FALSE;
  ports = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      CtlObject *port = all->pdata[i];

      if (sw != NULL && !g_str_equal (ctl_prop_string (port, "Switch"), sw->path))
        continue;
      if (pg != NULL && !g_str_equal (ctl_prop_string (port, "PortGroup"), pg->path))
        continue;
      g_ptr_array_add (ports, port);
    }
  if (ctl->json)
    {
      ctl_print_objects_json (ctl, ports);
      return TRUE;
    }
  if (ports->len == 0)
    {
      printf ("No ports.\n");
      return TRUE;
    }
  table = dvs_table_new (0, headers, DVS_TABLE_DASH_EMPTY);
  for (guint i = 0; i < ports->len; i++)
    {
      CtlObject *port = ports->pdata[i];
      const gchar *group = ctl_prop_string (port, "PortGroup");
      const gchar *cells[] = {
        ctl_prop_string (port, "Key"),
        ctl_object_label (ctl, ctl_prop_string (port, "Switch")),
        *group != '\0' && !g_str_equal (group, "/") ? ctl_object_label (ctl, group) : NULL,
        ctl_prop_string (port, "Host"),
        ctl_prop_string (port, "ConnectionId"),
        ctl_prop_string (port, "ConnecteeVm"),
        ctl_prop_string (port, "ConnecteeMac"),
        ctl_prop_string (port, "Link"),
      };

      dvs_table_add_row (table, cells);
    }
  dvs_table_print (table);
  return TRUE;
}

gboolean
ctl_cmd_port_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  CtlObject *port = ctl_resolve (ctl, CTL_KIND_PORT, args[0], error);
  g_autoptr(DvsFields) fields = NULL;
  g_autoptr(JsonNode) config = NULL;
  g_autoptr(JsonNode) stats = NULL;
  g_autofree gchar *config_text = NULL;
  const gchar *group;
  gint64 stats_time;

  if (port == NULL)
    return FALSE;
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = ctl_object_to_json (ctl, port);

      dvs_json_print (node);
      return TRUE;
    }
  group = ctl_prop_string (port, "PortGroup");
  config = ctl_prop_json (port, "ConfigJson");
  config_text = config != NULL ? ctl_json_compact (config) : NULL;
  fields = dvs_fields_new ();
  dvs_fields_add (fields, "key", ctl_prop_string (port, "Key"));
  dvs_fields_add (fields, "switch",
                  ctl_object_label (ctl, ctl_prop_string (port, "Switch")));
  dvs_fields_add (fields, "port group",
                  *group != '\0' && !g_str_equal (group, "/")
                      ? ctl_object_label (ctl, group) : NULL);
  dvs_fields_add (fields, "host", ctl_prop_string (port, "Host"));
  dvs_fields_add (fields, "connection", ctl_prop_string (port, "ConnectionId"));
  dvs_fields_add (fields, "vm", ctl_prop_string (port, "ConnecteeVm"));
  dvs_fields_add (fields, "mac", ctl_prop_string (port, "ConnecteeMac"));
  dvs_fields_add (fields, "interface",
                  ctl_prop_string (port, "ConnecteeInterface"));
  dvs_fields_add (fields, "link", ctl_prop_string (port, "Link"));
  dvs_fields_add (fields, "config overrides",
                  config_text != NULL && !g_str_equal (config_text, "{}")
                      ? config_text : NULL);
  dvs_table_print (fields);

  stats = ctl_prop_json (port, "StatsJson");
  stats_time = ctl_prop_int64 (port, "StatsTime");
  if (stats != NULL && JSON_NODE_HOLDS_OBJECT (stats)
      && json_object_get_size (json_node_get_object (stats)) > 0)
    {
      g_autofree gchar *when = ctl_time_text (stats_time);

      printf ("\nCounters as last reported by the host (%s):\n", when);
      ctl_print_port_stats (json_node_get_object (stats));
    }
  return TRUE;
}

gboolean
ctl_cmd_port_connect (Ctl *ctl, const CtlOptions *opts, gchar **args,
                      GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  CtlObject *port;

  if (opts->host == NULL || opts->vm == NULL || opts->mac == NULL)
    return ctl_usage_error (error, "--host, --vm and --mac are required.");
  port = ctl_resolve (ctl, CTL_KIND_PORT, args[0], error);
  if (port == NULL)
    return FALSE;
  reply = ctl_call (ctl, port->path, CTL_IFACE_PORT, "Connect",
                    g_variant_new ("(ssss)", opts->host, opts->vm, opts->mac,
                                   opts->interface_id != NULL ? opts->interface_id : ""),
                    G_VARIANT_TYPE ("(s)"), TRUE, error);
  return reply != NULL && ctl_print_string_result (ctl, reply, "connection_id");
}

gboolean
ctl_cmd_port_disconnect (Ctl *ctl, const CtlOptions *opts, gchar **args,
                         GError **error)
{
  CtlObject *port = ctl_resolve (ctl, CTL_KIND_PORT, args[0], error);

  return port != NULL
         && ctl_call_void (ctl, port->path, CTL_IFACE_PORT, "Disconnect", NULL,
                           error);
}

gboolean
ctl_cmd_port_revoke (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  CtlObject *port = ctl_resolve (ctl, CTL_KIND_PORT, args[0], error);
  g_autoptr(GVariant) reply = NULL;

  if (port == NULL)
    return FALSE;
  reply = ctl_call (ctl, port->path, CTL_IFACE_PORT, "Revoke", NULL,
                    G_VARIANT_TYPE ("(s)"), TRUE, error);
  return reply != NULL && ctl_print_string_result (ctl, reply, "connection_id");
}

gboolean
ctl_cmd_port_move (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  CtlObject *port;

  if (opts->host == NULL)
    return ctl_usage_error (error, "--host is required.");
  port = ctl_resolve (ctl, CTL_KIND_PORT, args[0], error);
  return port != NULL
         && ctl_call_void (ctl, port->path, CTL_IFACE_PORT, "Move",
                           g_variant_new ("(s)", opts->host), error);
}

gboolean
ctl_cmd_port_set (Ctl *ctl, const CtlOptions *opts, gchar **args,
                  GError **error)
{
  g_autoptr(JsonObject) config = NULL;
  g_autofree gchar *config_text = NULL;
  CtlObject *port;

  if (opts->config == NULL)
    return ctl_usage_error (error, "--config is required ('{}' removes the "
                            "overrides).");
  config = ctl_parse_json_object (opts->config, "--config", error);
  if (config == NULL)
    return FALSE;
  port = ctl_resolve (ctl, CTL_KIND_PORT, args[0], error);
  if (port == NULL)
    return FALSE;
  config_text = ctl_json_text (config);
  return ctl_call_void (ctl, port->path, CTL_IFACE_PORT, "SetConfig",
                        g_variant_new ("(s)", config_text), error);
}

gboolean
ctl_cmd_port_stats (Ctl *ctl, const CtlOptions *opts, gchar **args,
                    GError **error)
{
  CtlObject *port = ctl_resolve (ctl, CTL_KIND_PORT, args[0], error);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(JsonNode) state = NULL;
  g_autoptr(DvsFields) fields = NULL;
  JsonObject *obj;
  JsonNode *stats;
  const gchar *text;

  if (port == NULL)
    return FALSE;
  reply = ctl_call (ctl, port->path, CTL_IFACE_PORT, "GetLiveStats", NULL,
                    G_VARIANT_TYPE ("(s)"), FALSE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&s)", &text);
  if (ctl->json)
    {
      printf ("%s\n", text);
      return TRUE;
    }
  state = json_from_string (text, NULL);
  if (state == NULL || !JSON_NODE_HOLDS_OBJECT (state))
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_BAD_REPLY,
                   "the host's answer for port %s is not a JSON object; "
                   "--json shows it as it is", ctl_prop_string (port, "Key"));
      return FALSE;
    }
  obj = json_node_get_object (state);
  fields = dvs_fields_new ();
  dvs_fields_add (fields, "port", ctl_prop_string (port, "Key"));
  dvs_fields_add (fields, "host", ctl_prop_string (port, "Host"));
  {
    static const gchar *const members[] = {
      "connection", "attached", "link", "state_source", NULL
    };

    for (guint i = 0; members[i] != NULL; i++)
      {
        g_autofree gchar *label = g_strdelimit (g_strdup (members[i]), "_", ' ');
        g_autofree gchar *value = NULL;
        JsonNode *member = json_object_get_member (obj, members[i]);

        if (member == NULL)
          continue;
        if (JSON_NODE_HOLDS_VALUE (member)
            && json_node_get_value_type (member) == G_TYPE_BOOLEAN)
          value = g_strdup (ctl_yes_no (json_node_get_boolean (member)));
        else
          value = ctl_json_compact (member);
        dvs_fields_add (fields, label, value);
      }
  }
  dvs_table_print (fields);
  stats = json_object_get_member (obj, "stats");
  if (stats != NULL && JSON_NODE_HOLDS_OBJECT (stats))
    {
      printf ("\n");
      ctl_print_port_stats (json_node_get_object (stats));
    }
  else
    printf ("\nNo counters: the port is not attached on its host.\n");
  return TRUE;
}
