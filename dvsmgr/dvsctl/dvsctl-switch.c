/* dvsctl: the DVswitch and port group commands. */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <stdio.h>

#define MTU_MIN 68
#define MTU_MAX 65535
#define VLAN_MAX 4094
#define PORTS_MAX 4096
#define DEFAULT_PORTS 8

/* Switches */

gboolean
ctl_cmd_switch_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  static const gchar *const headers[] = {
    "NAME", "UUID", "CLASS", "MTU", "TRANSPORT-ZONE", "HOSTS", "PORT-GROUPS",
    NULL
  };
  GPtrArray *switches = ctl_objects (ctl, CTL_KIND_SWITCH, error);
  g_autoptr(DvsTable) table = NULL;

  if (switches == NULL)
    return FALSE;
  if (ctl->json)
    {
      ctl_print_objects_json (ctl, switches);
      return TRUE;
    }
  if (switches->len == 0)
    {
      printf ("No switches; 'dvsctl switch create NAME' makes one.\n");
      return TRUE;
    }
  table = dvs_table_new (0, headers, DVS_TABLE_DASH_EMPTY);
  dvs_table_align_right (table, 3);
  dvs_table_align_right (table, 6);
  for (guint i = 0; i < switches->len; i++)
    {
      CtlObject *sw = switches->pdata[i];
      g_auto(GStrv) hosts = ctl_prop_strv (sw, "Hosts");
      g_auto(GStrv) groups = ctl_prop_strv (sw, "PortGroups");

      dvs_table_add_row_take (table, g_strdup (ctl_prop_string (sw, "Name")),
                              g_strdup (ctl_prop_string (sw, "Uuid")),
                              g_strdup (ctl_prop_string (sw, "ForwardingClass")),
                              g_strdup_printf ("%u", ctl_prop_uint (sw, "Mtu")),
                              g_strdup (ctl_prop_string (sw, "TransportZone")),
                              hosts[0] != NULL ? g_strjoinv (",", hosts) : NULL,
                              g_strdup_printf ("%u", g_strv_length (groups)));
    }
  dvs_table_print (table);
  return TRUE;
}

/* The port groups of @sw (or of every switch when NULL), in model order. */
static GPtrArray *
port_groups_of (Ctl *ctl, CtlObject *sw, GError **error)
{
  GPtrArray *all = ctl_objects (ctl, CTL_KIND_PORT_GROUP, error);
  GPtrArray *out;

  if (all == NULL)
    return NULL;
  out = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    if (sw == NULL
        || g_str_equal (ctl_prop_string (all->pdata[i], "Switch"), sw->path))
      g_ptr_array_add (out, all->pdata[i]);
  return out;
}

/* SWITCH NAME UUID VLAN PORTS FREE, without SWITCH when the switch is said
 * above the table. */
static void
print_port_group_table (Ctl *ctl, GPtrArray *groups, gboolean with_switch)
{
  static const gchar *const headers[] = {
    "SWITCH", "NAME", "UUID", "VLAN", "PORTS", "FREE", NULL
  };
  guint first = with_switch ? 0 : 1;
  g_autoptr(DvsTable) table = dvs_table_new (0, &headers[first],
                                             DVS_TABLE_DASH_EMPTY);

  dvs_table_align_right (table, 4 - first);
  dvs_table_align_right (table, 5 - first);
  for (guint i = 0; i < groups->len; i++)
    {
      CtlObject *pg = groups->pdata[i];
      g_autoptr(JsonNode) config = ctl_prop_json (pg, "ConfigJson");
      g_autofree gchar *vlan = ctl_config_vlan_text (config);
      g_autofree gchar *num = g_strdup_printf ("%u", ctl_prop_uint (pg, "NumPorts"));
      g_autofree gchar *free_ports = g_strdup_printf ("%u", ctl_prop_uint (pg, "FreePorts"));
      const gchar *cells[] = {
        ctl_object_label (ctl, ctl_prop_string (pg, "Switch")),
        ctl_prop_string (pg, "Name"), ctl_prop_string (pg, "Uuid"),
        vlan, num, free_ports,
      };

      dvs_table_add_row (table, &cells[first]);
    }
  dvs_table_print (table);
}

gboolean
ctl_cmd_switch_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  CtlObject *sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(DvsFields) fields = NULL;
  g_auto(GStrv) hosts = NULL;

  if (sw == NULL)
    return FALSE;
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = ctl_object_to_json (ctl, sw);

      dvs_json_print (node);
      return TRUE;
    }
  groups = port_groups_of (ctl, sw, error);
  if (groups == NULL)
    return FALSE;
  hosts = ctl_prop_strv (sw, "Hosts");
  fields = dvs_fields_new ();
  dvs_fields_add (fields, "name", ctl_prop_string (sw, "Name"));
  dvs_fields_add (fields, "uuid", ctl_prop_string (sw, "Uuid"));
  dvs_fields_add (fields, "forwarding class",
                  ctl_prop_string (sw, "ForwardingClass"));
  dvs_fields_add_printf (fields, "mtu", "%u", ctl_prop_uint (sw, "Mtu"));
  dvs_fields_add (fields, "transport zone", ctl_prop_string (sw, "TransportZone"));
  {
    g_autofree gchar *text = ctl_strv_text (hosts);

    dvs_fields_add (fields, "hosts", text);
  }
  dvs_fields_add_printf (fields, "generation", "%" G_GUINT64_FORMAT,
                         ctl_prop_uint64 (sw, "Generation"));
  dvs_table_print (fields);
  printf ("\n");
  if (groups->len == 0)
    printf ("No port groups; 'dvsctl portgroup create %s NAME' adds one.\n",
            ctl_prop_string (sw, "Name"));
  else
    print_port_group_table (ctl, groups, FALSE);
  return TRUE;
}

static gboolean
parse_mtu (const CtlOptions *opts, JsonObject *config, GError **error)
{
  guint64 mtu;

  if (opts->mtu == NULL)
    return TRUE;
  if (!ctl_parse_uint (opts->mtu, "--mtu", MTU_MIN, MTU_MAX, &mtu, error))
    return FALSE;
  json_object_set_int_member (config, "mtu", (gint64) mtu);
  return TRUE;
}

gboolean
ctl_cmd_switch_create (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(JsonObject) config = json_object_new ();
  g_autoptr(GVariant) reply = NULL;
  g_autofree gchar *config_text = NULL;

  if (!parse_mtu (opts, config, error))
    return FALSE;
  if (opts->forwarding_class != NULL)
    json_object_set_string_member (config, "forwarding_class",
                                   opts->forwarding_class);
  if (opts->transport_zone != NULL)
    json_object_set_string_member (config, "transport_zone",
                                   opts->transport_zone);
  config_text = json_object_get_size (config) > 0 ? ctl_json_text (config)
                                                  : g_strdup ("");
  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "CreateSwitch",
                    g_variant_new ("(ss)", args[0], config_text),
                    G_VARIANT_TYPE ("(os)"), TRUE, error);
  return reply != NULL && ctl_print_created (ctl, reply, "uuid");
}

JsonObject *
ctl_switch_current_config (const CtlObject *sw)
{
  JsonObject *config = json_object_new ();
  const gchar *value;

  json_object_set_string_member (config, "name", ctl_prop_string (sw, "Name"));
  value = ctl_prop_string (sw, "ForwardingClass");
  if (*value != '\0')
    json_object_set_string_member (config, "forwarding_class", value);
  json_object_set_int_member (config, "mtu", ctl_prop_uint (sw, "Mtu"));
  value = ctl_prop_string (sw, "TransportZone");
  if (*value != '\0')
    json_object_set_string_member (config, "transport_zone", value);
  if (ctl_prop_has (sw, "HistoryAuto") && ctl_prop_has (sw, "HistoryKeep"))
    {
      JsonObject *history = json_object_new ();

      json_object_set_boolean_member (history, "auto",
                                      ctl_prop_bool (sw, "HistoryAuto"));
      json_object_set_int_member (history, "keep",
                                  ctl_prop_uint (sw, "HistoryKeep"));
      json_object_set_object_member (config, "history", history);
    }
  return config;
}

gboolean
ctl_cmd_switch_set (Ctl *ctl, const CtlOptions *opts, gchar **args,
                    GError **error)
{
  g_autoptr(JsonObject) given = json_object_new ();
  g_autoptr(JsonObject) config = NULL;
  g_autofree gchar *config_text = NULL;
  CtlObject *sw;

  if (opts->name == NULL && opts->mtu == NULL && opts->transport_zone == NULL)
    return ctl_usage_error (error, "nothing to change: give --name, --mtu or "
                            "--transport-zone.");
  /* Usage errors before the manager is asked anything. */
  if (!parse_mtu (opts, given, error))
    return FALSE;
  /* SetConfig replaces the whole config: start from what the switch has. */
  sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  if (sw == NULL)
    return FALSE;
  config = ctl_switch_current_config (sw);
  if (opts->name != NULL)
    json_object_set_string_member (config, "name", opts->name);
  if (json_object_has_member (given, "mtu"))
    json_object_set_int_member (config, "mtu",
                                json_object_get_int_member (given, "mtu"));
  if (opts->transport_zone != NULL)
    json_object_set_string_member (config, "transport_zone",
                                   opts->transport_zone);
  config_text = ctl_json_text (config);
  return ctl_call_void (ctl, sw->path, CTL_IFACE_SWITCH, "SetConfig",
                        g_variant_new ("(s)", config_text), error);
}

gboolean
ctl_cmd_switch_delete (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  CtlObject *sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);

  return sw != NULL
         && ctl_call_void (ctl, sw->path, CTL_IFACE_SWITCH, "Delete", NULL, error);
}

gboolean
ctl_cmd_switch_join (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  CtlObject *sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);

  return sw != NULL
         && ctl_call_void (ctl, sw->path, CTL_IFACE_SWITCH, "JoinHost",
                           g_variant_new ("(s)", args[1]), error);
}

gboolean
ctl_cmd_switch_leave (Ctl *ctl, const CtlOptions *opts, gchar **args,
                      GError **error)
{
  CtlObject *sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);

  return sw != NULL
         && ctl_call_void (ctl, sw->path, CTL_IFACE_SWITCH, "LeaveHost",
                           g_variant_new ("(s)", args[1]), error);
}

/* Port groups */

gboolean
ctl_cmd_portgroup_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                        GError **error)
{
  CtlObject *sw = NULL;
  g_autoptr(GPtrArray) groups = NULL;

  if (args[0] != NULL && (sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error)) == NULL)
    return FALSE;
  groups = port_groups_of (ctl, sw, error);
  if (groups == NULL)
    return FALSE;
  if (ctl->json)
    ctl_print_objects_json (ctl, groups);
  else if (groups->len == 0)
    printf ("No port groups; 'dvsctl portgroup create SWITCH NAME' adds one.\n");
  else
    print_port_group_table (ctl, groups, TRUE);
  return TRUE;
}

/* The ports of the port group @pg. */
static GPtrArray *
ports_of_group (Ctl *ctl, CtlObject *pg, GError **error)
{
  GPtrArray *all = ctl_objects (ctl, CTL_KIND_PORT, error);
  GPtrArray *out;

  if (all == NULL)
    return NULL;
  out = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    if (g_str_equal (ctl_prop_string (all->pdata[i], "PortGroup"), pg->path))
      g_ptr_array_add (out, all->pdata[i]);
  return out;
}

gboolean
ctl_cmd_portgroup_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                        GError **error)
{
  static const gchar *const headers[] = {
    "KEY", "HOST", "CONNECTION", "VM", "MAC", "LINK", NULL
  };
  CtlObject *pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, args[0], error);
  g_autoptr(GPtrArray) ports = NULL;
  g_autoptr(DvsFields) fields = NULL;
  g_autoptr(DvsTable) table = NULL;
  g_autoptr(JsonNode) config = NULL;
  const gchar *switch_path;

  if (pg == NULL || (ports = ports_of_group (ctl, pg, error)) == NULL)
    return FALSE;
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = ctl_object_to_json (ctl, pg);
      JsonArray *keys = json_array_new ();

      for (guint i = 0; i < ports->len; i++)
        json_array_add_string_element (keys, ctl_prop_string (ports->pdata[i], "Key"));
      json_object_set_array_member (json_node_get_object (node), "ports", keys);
      dvs_json_print (node);
      return TRUE;
    }
  switch_path = ctl_prop_string (pg, "Switch");
  config = ctl_prop_json (pg, "ConfigJson");
  fields = dvs_fields_new ();
  dvs_fields_add (fields, "name", ctl_prop_string (pg, "Name"));
  dvs_fields_add (fields, "uuid", ctl_prop_string (pg, "Uuid"));
  dvs_fields_add (fields, "switch", ctl_object_label (ctl, switch_path));
  {
    g_autofree gchar *vlan = ctl_config_vlan_text (config);
    g_autofree gchar *text = ctl_json_compact (config);

    dvs_fields_add (fields, "vlan", vlan);
    dvs_fields_add (fields, "config", text);
  }
  dvs_fields_add_printf (fields, "ports", "%u (%u free)",
                         ctl_prop_uint (pg, "NumPorts"),
                         ctl_prop_uint (pg, "FreePorts"));
  dvs_table_print (fields);
  if (ports->len == 0)
    return TRUE;
  printf ("\n");
  table = dvs_table_new (0, headers, DVS_TABLE_DASH_EMPTY);
  for (guint i = 0; i < ports->len; i++)
    {
      CtlObject *port = ports->pdata[i];
      const gchar *cells[] = {
        ctl_prop_string (port, "Key"), ctl_prop_string (port, "Host"),
        ctl_prop_string (port, "ConnectionId"),
        ctl_prop_string (port, "ConnecteeVm"),
        ctl_prop_string (port, "ConnecteeMac"), ctl_prop_string (port, "Link"),
      };

      dvs_table_add_row (table, cells);
    }
  dvs_table_print (table);
  return TRUE;
}

/* The group config --vlan or --config give; exactly one of them is
 * required unless @optional.  NULL with no error when neither is given. */
static JsonObject *
group_config (const CtlOptions *opts, gboolean optional, GError **error)
{
  g_autoptr(JsonObject) config = NULL;
  guint64 vlan;

  if (opts->vlan != NULL && opts->config != NULL)
    {
      ctl_usage_error (error, "give --vlan or --config, not both.");
      return NULL;
    }
  if (opts->config != NULL)
    return ctl_parse_json_object (opts->config, "--config", error);
  if (opts->vlan == NULL)
    {
      if (!optional)
        ctl_usage_error (error, "give --vlan N or --config JSON.");
      return NULL;
    }
  if (!ctl_parse_uint (opts->vlan, "--vlan", 0, VLAN_MAX, &vlan, error))
    return NULL;
  config = json_object_new ();
  json_object_set_int_member (config, "vlan", (gint64) vlan);
  return g_steal_pointer (&config);
}

gboolean
ctl_cmd_portgroup_create (Ctl *ctl, const CtlOptions *opts, gchar **args,
                          GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonObject) config = group_config (opts, TRUE, &local_error);
  g_autoptr(GVariant) reply = NULL;
  g_autofree gchar *config_text = NULL;
  guint64 num_ports = DEFAULT_PORTS;
  CtlObject *sw;

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (opts->ports != NULL
      && !ctl_parse_uint (opts->ports, "--ports", 0, PORTS_MAX, &num_ports, error))
    return FALSE;
  sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  if (sw == NULL)
    return FALSE;
  config_text = config != NULL ? ctl_json_text (config) : g_strdup ("{}");
  reply = ctl_call (ctl, sw->path, CTL_IFACE_SWITCH, "AddPortGroup",
                    g_variant_new ("(ssu)", args[1], config_text,
                                   (guint32) num_ports),
                    G_VARIANT_TYPE ("(os)"), TRUE, error);
  return reply != NULL && ctl_print_created (ctl, reply, "uuid");
}

gboolean
ctl_cmd_portgroup_set (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(JsonObject) given = group_config (opts, FALSE, error);
  g_autoptr(JsonObject) config = NULL;
  g_autofree gchar *config_text = NULL;
  CtlObject *pg;

  if (given == NULL)
    return FALSE;
  pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, args[0], error);
  if (pg == NULL)
    return FALSE;
  if (opts->vlan != NULL)
    {
      /* --vlan changes the VLAN only: the rest of the config stays. */
      g_autoptr(JsonNode) current = ctl_prop_json (pg, "ConfigJson");

      config = current != NULL && JSON_NODE_HOLDS_OBJECT (current)
                   ? json_object_ref (json_node_get_object (current))
                   : json_object_new ();
      json_object_set_member (config, "vlan",
                              json_node_copy (json_object_get_member (given, "vlan")));
    }
  else
    config = json_object_ref (given);
  config_text = ctl_json_text (config);
  return ctl_call_void (ctl, pg->path, CTL_IFACE_PORT_GROUP, "SetConfig",
                        g_variant_new ("(s)", config_text), error);
}

gboolean
ctl_cmd_portgroup_add_ports (Ctl *ctl, const CtlOptions *opts, gchar **args,
                             GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree const gchar **keys = NULL;
  guint64 count;
  CtlObject *pg;

  if (!ctl_parse_uint (args[1], "N", 1, PORTS_MAX, &count, error))
    return FALSE;
  pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, args[0], error);
  if (pg == NULL)
    return FALSE;
  reply = ctl_call (ctl, pg->path, CTL_IFACE_PORT_GROUP, "AddPorts",
                    g_variant_new ("(u)", (guint32) count),
                    G_VARIANT_TYPE ("(as)"), TRUE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(^a&s)", &keys);
  if (ctl->json)
    {
      g_autoptr(JsonObject) obj = json_object_new ();
      g_autoptr(JsonNode) node = NULL;
      JsonArray *array = json_array_new ();

      for (guint i = 0; keys[i] != NULL; i++)
        json_array_add_string_element (array, keys[i]);
      json_object_set_array_member (obj, "keys", array);
      node = json_node_init_object (json_node_alloc (), obj);
      dvs_json_print (node);
      return TRUE;
    }
  for (guint i = 0; keys[i] != NULL; i++)
    printf ("%s\n", keys[i]);
  return TRUE;
}

gboolean
ctl_cmd_portgroup_allocate (Ctl *ctl, const CtlOptions *opts, gchar **args,
                            GError **error)
{
  CtlObject *pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, args[0], error);
  g_autoptr(GVariant) reply = NULL;

  if (pg == NULL)
    return FALSE;
  reply = ctl_call (ctl, pg->path, CTL_IFACE_PORT_GROUP, "AllocatePort", NULL,
                    G_VARIANT_TYPE ("(os)"), TRUE, error);
  return reply != NULL && ctl_print_created (ctl, reply, "key");
}

gboolean
ctl_cmd_portgroup_delete (Ctl *ctl, const CtlOptions *opts, gchar **args,
                          GError **error)
{
  CtlObject *pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, args[0], error);

  return pg != NULL
         && ctl_call_void (ctl, pg->path, CTL_IFACE_PORT_GROUP, "Delete", NULL,
                           error);
}
