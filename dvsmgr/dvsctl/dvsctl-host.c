/* dvsctl: hosts, logical networks, the out-of-sync queues and the
 * overview. */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define VLAN_ID_MAX 4094
#define VNI_MAX 16777215

/* Switch UUIDs as switch names where the model knows them. */
static gchar *
switch_names_text (Ctl *ctl, gchar **uuids, const gchar *separator)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  for (guint i = 0; uuids[i] != NULL; i++)
    {
      CtlObject *sw = ctl_switch_by_uuid (ctl, uuids[i]);

      g_ptr_array_add (names, sw != NULL ? (gpointer) ctl_prop_string (sw, "Name")
                                         : uuids[i]);
    }
  if (names->len == 0)
    return g_strdup ("-");
  g_ptr_array_add (names, NULL);
  return g_strjoinv (separator, (gchar **) names->pdata);
}

/* Hosts */

gboolean
ctl_cmd_host_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  static const gchar *const headers[] = {
    "NAME", "CONNECTED", "TRANSPORT", "IN-SYNC", "HEALTH", "SWITCHES", "LAST-SEEN", NULL
  };
  GPtrArray *hosts = ctl_objects (ctl, CTL_KIND_HOST, error);
  g_autoptr(DvsTable) table = NULL;

  if (hosts == NULL)
    return FALSE;
  if (ctl->json)
    {
      ctl_print_objects_json (ctl, hosts);
      return TRUE;
    }
  if (hosts->len == 0)
    {
      printf ("No hosts; 'dvsctl host register NAME' registers one.\n");
      return TRUE;
    }
  table = dvs_table_new (0, headers, DVS_TABLE_DASH_EMPTY);
  for (guint i = 0; i < hosts->len; i++)
    {
      CtlObject *host = hosts->pdata[i];
      g_auto(GStrv) switches = ctl_prop_strv (host, "Switches");

      dvs_table_add_row_take (table, g_strdup (ctl_prop_string (host, "Name")),
                              g_strdup (ctl_yes_no (ctl_prop_bool (host, "Connected"))),
                              g_strdup (ctl_prop_string (host, "Transport")),
                              g_strdup (ctl_yes_no (ctl_prop_bool (host, "InSync"))),
                              ctl_prop_has (host, "Health")
                              ? g_strdup_printf ("%u", ctl_prop_uint (host, "Health"))
                              : g_strdup ("-"),
                              switch_names_text (ctl, switches, ","),
                              ctl_time_text (ctl_prop_int64 (host, "LastSeen")));
    }
  dvs_table_print (table);
  return TRUE;
}

static guint
count_delegated_ports (Ctl *ctl, const gchar *host_name)
{
  GPtrArray *ports = ctl_objects (ctl, CTL_KIND_PORT, NULL);
  guint n = 0;

  for (guint i = 0; ports != NULL && i < ports->len; i++)
    if (g_str_equal (ctl_prop_string (ports->pdata[i], "Host"), host_name))
      n++;
  return n;
}

gboolean
ctl_cmd_host_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  CtlObject *host = ctl_resolve (ctl, CTL_KIND_HOST, args[0], error);
  g_autoptr(DvsFields) fields = NULL;
  g_auto(GStrv) uplinks = NULL;
  g_auto(GStrv) zones = NULL;
  g_auto(GStrv) switches = NULL;
  g_autofree gchar *uplinks_text = NULL;
  g_autofree gchar *zones_text = NULL;
  g_autofree gchar *switches_text = NULL;
  g_autofree gchar *last_seen = NULL;

  if (host == NULL)
    return FALSE;
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = ctl_object_to_json (ctl, host);

      dvs_json_print (node);
      return TRUE;
    }
  uplinks = ctl_prop_strv (host, "Uplinks");
  zones = ctl_prop_strv (host, "TransportZones");
  switches = ctl_prop_strv (host, "Switches");
  uplinks_text = ctl_strv_text (uplinks);
  zones_text = ctl_strv_text (zones);
  switches_text = switch_names_text (ctl, switches, ", ");
  last_seen = ctl_time_text (ctl_prop_int64 (host, "LastSeen"));
  fields = dvs_fields_new ();
  dvs_fields_add (fields, "name", ctl_prop_string (host, "Name"));
  dvs_fields_add (fields, "connected", ctl_yes_no (ctl_prop_bool (host, "Connected")));
  dvs_fields_add (fields, "transport", ctl_prop_string (host, "Transport"));
  dvs_fields_add (fields, "address", ctl_prop_string (host, "Address"));
  dvs_fields_add (fields, "in sync", ctl_yes_no (ctl_prop_bool (host, "InSync")));
  dvs_fields_add (fields, "switches", switches_text);
  dvs_fields_add_printf (fields, "delegated ports", "%u",
                         count_delegated_ports (ctl, ctl_prop_string (host, "Name")));
  dvs_fields_add (fields, "uplinks", uplinks_text);
  dvs_fields_add (fields, "transport zones", zones_text);
  dvs_fields_add (fields, "libvirt uri", ctl_prop_string (host, "LibvirtUri"));
  if (ctl_prop_has (host, "Health"))
    {
      g_auto(GStrv) reasons = ctl_prop_strv (host, "HealthReasons");
      g_auto(GStrv) hidden = ctl_prop_strv (host, "HiddenNetworks");
      g_autofree gchar *reasons_text = g_strjoinv ("; ", reasons);
      g_autoptr(GPtrArray) names = g_ptr_array_new ();
      g_autofree gchar *hidden_text = NULL;

      dvs_fields_add_printf (fields, "health", "%u%s%s%s", ctl_prop_uint (host, "Health"),
                             *reasons_text ? " (" : "", reasons_text, *reasons_text ? ")" : "");
      dvs_fields_add_printf (fields, "free port slots", "%u", ctl_prop_uint (host, "FreePorts"));
      for (guint i = 0; hidden[i]; i++)
        {
          g_autofree gchar *path = g_strdup_printf (CTL_MANAGER_PATH "/network/%s", hidden[i]);
          g_strdelimit (path + strlen (CTL_MANAGER_PATH), "-", '_');
          g_ptr_array_add (names, (gpointer) ctl_object_label (ctl, path));
        }
      g_ptr_array_add (names, NULL);
      hidden_text = names->len > 1 ? g_strjoinv (", ", (gchar **) names->pdata) : g_strdup ("-");
      dvs_fields_add (fields, "hidden networks", hidden_text);
      dvs_fields_add (fields, "migration uri", ctl_prop_string (host, "MigrationUri"));
    }
  dvs_fields_add (fields, "last seen", last_seen);
  dvs_table_print (fields);
  return TRUE;
}

gboolean
ctl_cmd_host_register (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree gchar *config_text = NULL;
  const gchar *path;

  if (opts->libvirt_uri != NULL)
    {
      g_autoptr(JsonObject) config = json_object_new ();

      json_object_set_string_member (config, "libvirt_uri", opts->libvirt_uri);
      config_text = ctl_json_text (config);
    }
  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "RegisterHost",
                    g_variant_new ("(ss)", args[0],
                                   config_text != NULL ? config_text : ""),
                    G_VARIANT_TYPE ("(o)"), TRUE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&o)", &path);
  if (ctl->json)
    ctl_print_json_strings ("path", path, "name", args[0], NULL);
  return TRUE;
}

gboolean
ctl_cmd_host_unregister (Ctl *ctl, const CtlOptions *opts, gchar **args,
                         GError **error)
{
  CtlObject *host = ctl_resolve (ctl, CTL_KIND_HOST, args[0], error);

  return host != NULL
         && ctl_call_void (ctl, host->path, CTL_IFACE_HOST, "Unregister", NULL,
                           error);
}

gboolean
ctl_cmd_host_resync (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  CtlObject *host = ctl_resolve (ctl, CTL_KIND_HOST, args[0], error);

  return host != NULL
         && ctl_call_void (ctl, host->path, CTL_IFACE_HOST, "Resync", NULL, error);
}

/* Logical networks */

gboolean
ctl_cmd_network_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                      GError **error)
{
  static const gchar *const headers[] = {
    "NAME", "UUID", "TYPE", "SEGMENT", "TRANSPORT-ZONE", NULL
  };
  GPtrArray *networks = ctl_objects (ctl, CTL_KIND_NETWORK, error);
  g_autoptr(DvsTable) table = NULL;

  if (networks == NULL)
    return FALSE;
  if (ctl->json)
    {
      ctl_print_objects_json (ctl, networks);
      return TRUE;
    }
  if (networks->len == 0)
    {
      printf ("No logical networks.\n");
      return TRUE;
    }
  table = dvs_table_new (0, headers, DVS_TABLE_DASH_EMPTY);
  dvs_table_align_right (table, 3);
  for (guint i = 0; i < networks->len; i++)
    {
      CtlObject *net = networks->pdata[i];

      dvs_table_add_row_take (table, g_strdup (ctl_prop_string (net, "Name")),
                              g_strdup (ctl_prop_string (net, "Uuid")),
                              g_strdup (ctl_prop_string (net, "Type")),
                              g_strdup_printf ("%u", ctl_prop_uint (net, "Segment")),
                              g_strdup (ctl_prop_string (net, "TransportZone")));
    }
  dvs_table_print (table);
  return TRUE;
}

gboolean
ctl_cmd_network_create (Ctl *ctl, const CtlOptions *opts, gchar **args,
                        GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  guint64 segment;
  gboolean vxlan;

  if (opts->type == NULL || opts->segment == NULL || opts->transport_zone == NULL)
    return ctl_usage_error (error, "--type, --segment and --transport-zone "
                            "are required.");
  if (!g_str_equal (opts->type, "vlan") && !g_str_equal (opts->type, "vxlan"))
    return ctl_usage_error (error, "--type is vlan or vxlan, not \"%s\".",
                            opts->type);
  vxlan = g_str_equal (opts->type, "vxlan");
  if (!ctl_parse_uint (opts->segment, vxlan ? "--segment (a VNI)"
                                            : "--segment (a VLAN ID)",
                       1, vxlan ? VNI_MAX : VLAN_ID_MAX, &segment, error))
    return FALSE;
  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "CreateNetwork",
                    g_variant_new ("(ssus)", args[0], opts->type,
                                   (guint32) segment, opts->transport_zone),
                    G_VARIANT_TYPE ("(os)"), TRUE, error);
  return reply != NULL && ctl_print_created (ctl, reply, "uuid");
}

gboolean
ctl_cmd_network_delete (Ctl *ctl, const CtlOptions *opts, gchar **args,
                        GError **error)
{
  CtlObject *net = ctl_resolve (ctl, CTL_KIND_NETWORK, args[0], error);

  return net != NULL
         && ctl_call_void (ctl, net->path, CTL_IFACE_NETWORK, "Delete", NULL,
                           error);
}

/* The out-of-sync queues */

static gchar *
member_text (JsonObject *entry, const gchar *member)
{
  JsonNode *node = json_object_get_member (entry, member);

  return node != NULL ? ctl_json_compact (node) : g_strdup ("-");
}

/* GetOutOfSync's entries, checked to be a JSON array. */
static JsonNode *
out_of_sync_entries (Ctl *ctl, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  JsonNode *entries;
  const gchar *text;

  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "GetOutOfSync",
                    NULL, G_VARIANT_TYPE ("(s)"), FALSE, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(&s)", &text);
  entries = json_from_string (text, NULL);
  if (entries == NULL || !JSON_NODE_HOLDS_ARRAY (entries))
    {
      g_clear_pointer (&entries, json_node_unref);
      g_set_error (error, CTL_ERROR, CTL_ERROR_BAD_REPLY,
                   "GetOutOfSync did not answer a JSON array");
    }
  return entries;
}

/* The hosts named by @entries, each once, in order: "h2, h3". */
static gchar *
entry_hosts_text (JsonArray *array)
{
  g_autoptr(GPtrArray) seen = g_ptr_array_new ();
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      const gchar *host = JSON_NODE_HOLDS_OBJECT (node)
          ? json_object_get_string_member_with_default (json_node_get_object (node),
                                                        "host", "?")
          : "?";
      gboolean dup = FALSE;

      for (guint j = 0; j < seen->len && !dup; j++)
        dup = g_str_equal (seen->pdata[j], host);
      if (dup)
        continue;
      g_ptr_array_add (seen, (gpointer) host);
      g_string_append_printf (text, "%s%s", text->len ? ", " : "", host);
    }
  return g_string_free (text, FALSE);
}

/* Whether the host @name is connected now (a fresh read, not the model's
 * copy); unknown hosts count as connected (waited for). */
static gboolean
host_connected_now (Ctl *ctl, const gchar *name)
{
  CtlObject *host = ctl_resolve (ctl, CTL_KIND_HOST, name, NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) value = NULL;

  if (host == NULL)
    return TRUE;
  reply = ctl_call (ctl, host->path, "org.freedesktop.DBus.Properties", "Get",
                    g_variant_new ("(ss)", CTL_IFACE_HOST, "Connected"),
                    G_VARIANT_TYPE ("(v)"), FALSE, NULL);
  if (reply == NULL)
    return TRUE;
  g_variant_get (reply, "(v)", &value);
  return !g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN)
         || g_variant_get_boolean (value);
}

/* Whether every entry is of a host that is not connected: nothing to wait
 * for, those converge when they reconnect. */
static gboolean
only_disconnected (Ctl *ctl, JsonArray *array)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_OBJECT (node)
          || host_connected_now (ctl, json_object_get_string_member_with_default (
                                          json_node_get_object (node), "host", "")))
        return FALSE;
    }
  return TRUE;
}

#define WAIT_POLL_MS 200

/* sync --wait (and switch import/rollback --wait): polls GetOutOfSync
 * until it is empty (every host holds its final state), every host left
 * on it is disconnected, or --timeout passes.  Progress on stderr: a line rewritten in place on a terminal, a
 * line per change of the waited-for hosts otherwise; none with --json.
 * Returns the last entries, or NULL with @error. */
JsonNode *
ctl_wait_in_sync (Ctl *ctl, GError **error)
{
  const gint64 start = g_get_monotonic_time ();
  const gint64 deadline = start + (gint64) ctl->timeout_ms * 1000;
  const gboolean tty = !ctl->json && isatty (STDERR_FILENO);
  g_autofree gchar *shown = NULL;

  for (;;)
    {
      g_autoptr(JsonNode) entries = out_of_sync_entries (ctl, error);
      JsonArray *array;
      g_autofree gchar *hosts = NULL;
      gdouble secs = (g_get_monotonic_time () - start) / 1e6;

      if (entries == NULL)
        {
          if (tty && shown != NULL)
            fprintf (stderr, "\n");
          return NULL;
        }
      array = json_node_get_array (entries);
      if (json_array_get_length (array) == 0)
        {
          if (tty && shown != NULL)
            fprintf (stderr, "\r\033[K");
          if (!ctl->json)
            fprintf (stderr, "all hosts in sync after %.1f s\n", secs);
          return g_steal_pointer (&entries);
        }
      hosts = entry_hosts_text (array);
      if (only_disconnected (ctl, array))
        {
          if (tty && shown != NULL)
            fprintf (stderr, "\n");
          g_set_error (error, CTL_ERROR, CTL_ERROR_REFUSED,
                       "out of sync and not connected: %s; they get their final "
                       "state when they reconnect ('dvsctl sync' lists the "
                       "entries)", hosts);
          return NULL;
        }
      if (g_get_monotonic_time () >= deadline)
        {
          if (tty && shown != NULL)
            fprintf (stderr, "\n");
          g_set_error (error, CTL_ERROR, CTL_ERROR_REFUSED,
                       "still out of sync after %.0f s: %s ('dvsctl sync' says "
                       "why; --timeout waits longer)", secs, hosts);
          return NULL;
        }
      if (tty)
        fprintf (stderr, "\r\033[Kwaiting for %s to hold their final state (%u "
                 "entr%s, %.1f s)", hosts, json_array_get_length (array),
                 json_array_get_length (array) == 1 ? "y" : "ies", secs);
      else if (!ctl->json && g_strcmp0 (shown, hosts) != 0)
        fprintf (stderr, "waiting for %s to hold their final state\n", hosts);
      g_free (shown);
      shown = g_steal_pointer (&hosts);
      g_usleep (WAIT_POLL_MS * 1000);
    }
}

gboolean
ctl_cmd_sync (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  static const gchar *const headers[] = {
    "HOST", "QUEUE", "SWITCH", "SINCE", "ATTEMPTS", "REASON", NULL
  };
  g_autoptr(JsonNode) entries = NULL;
  g_autoptr(DvsTable) table = NULL;
  JsonArray *array;

  entries = opts->wait ? ctl_wait_in_sync (ctl, error) : out_of_sync_entries (ctl, error);
  if (entries == NULL)
    return FALSE;
  if (ctl->json)
    {
      dvs_json_print (entries);
      return TRUE;
    }
  array = json_node_get_array (entries);
  if (json_array_get_length (array) == 0)
    {
      printf ("all hosts in sync\n");
      return TRUE;
    }
  /* Switch names for the UUIDs; without them the UUIDs do. */
  ctl_objects (ctl, CTL_KIND_SWITCH, NULL);
  table = dvs_table_new (0, headers, DVS_TABLE_DASH_EMPTY);
  dvs_table_align_right (table, 4);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node)
                              ? json_node_get_object (node) : NULL;
      const gchar *switch_id;
      CtlObject *sw;

      if (entry == NULL)
        continue;
      switch_id = json_object_get_string_member_with_default (entry, "switch", "");
      sw = ctl_switch_by_uuid (ctl, switch_id);
      dvs_table_add_row_take (table, member_text (entry, "host"),
                              member_text (entry, "queue"),
                              sw != NULL ? g_strdup (ctl_prop_string (sw, "Name"))
                                         : member_text (entry, "switch"),
                              ctl_time_text (json_object_get_int_member_with_default (
                                  entry, "since", 0)),
                              member_text (entry, "attempts"),
                              member_text (entry, "reason"));
    }
  dvs_table_print (table);
  return TRUE;
}

/* The overview */

static void
count_ports (Ctl *ctl, CtlObject *sw, guint *ports, guint *connected)
{
  GPtrArray *all = ctl_objects (ctl, CTL_KIND_PORT, NULL);

  *ports = *connected = 0;
  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      CtlObject *port = all->pdata[i];

      if (!g_str_equal (ctl_prop_string (port, "Switch"), sw->path))
        continue;
      (*ports)++;
      if (*ctl_prop_string (port, "ConnectionId") != '\0')
        (*connected)++;
    }
}

static void
show_json (Ctl *ctl, CtlObject *manager, GPtrArray *switches, GPtrArray *hosts)
{
  g_autoptr(JsonNode) root = ctl_object_to_json (ctl, manager);
  JsonObject *obj = json_node_get_object (root);
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < switches->len; i++)
    {
      JsonNode *node = ctl_object_to_json (ctl, switches->pdata[i]);
      guint ports;
      guint connected;

      count_ports (ctl, switches->pdata[i], &ports, &connected);
      json_object_set_int_member (json_node_get_object (node), "num_ports", ports);
      json_object_set_int_member (json_node_get_object (node), "connected_ports",
                                  connected);
      json_array_add_element (array, node);
    }
  json_object_set_array_member (obj, "switches", array);
  array = json_array_new ();
  for (guint i = 0; i < hosts->len; i++)
    json_array_add_element (array, ctl_object_to_json (ctl, hosts->pdata[i]));
  json_object_set_array_member (obj, "hosts", array);
  dvs_json_print (root);
}

gboolean
ctl_cmd_show (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  static const gchar *const switch_headers[] = {
    "SWITCH", "UUID", "MTU", "HOSTS", "PORT-GROUPS", "PORTS", "CONNECTED", NULL
  };
  static const gchar *const host_headers[] = {
    "HOST", "CONNECTED", "IN-SYNC", "SWITCHES", NULL
  };
  GPtrArray *switches = ctl_objects (ctl, CTL_KIND_SWITCH, error);
  GPtrArray *hosts = switches != NULL ? ctl_objects (ctl, CTL_KIND_HOST, error)
                                      : NULL;
  CtlObject *manager = hosts != NULL ? ctl_manager (ctl, error) : NULL;
  guint out_of_sync;

  if (manager == NULL)
    return FALSE;
  if (ctl->json)
    {
      show_json (ctl, manager, switches, hosts);
      return TRUE;
    }
  out_of_sync = ctl_prop_uint (manager, "OutOfSyncCount");
  printf ("dvsmgr %s on %s\n", ctl_prop_string (manager, "Version"), ctl->bus);
  if (out_of_sync == 0)
    printf ("all hosts in sync\n");
  else
    printf ("%u out-of-sync entr%s: 'dvsctl sync' lists them\n", out_of_sync,
            out_of_sync == 1 ? "y" : "ies");

  printf ("\n");
  if (switches->len == 0)
    printf ("No switches.\n");
  else
    {
      g_autoptr(DvsTable) table = dvs_table_new (0, switch_headers,
                                                 DVS_TABLE_DASH_EMPTY);

      for (guint c = 2; c <= 6; c++)
        dvs_table_align_right (table, c);
      for (guint i = 0; i < switches->len; i++)
        {
          CtlObject *sw = switches->pdata[i];
          g_auto(GStrv) members = ctl_prop_strv (sw, "Hosts");
          g_auto(GStrv) groups = ctl_prop_strv (sw, "PortGroups");
          guint ports;
          guint connected;

          count_ports (ctl, sw, &ports, &connected);
          dvs_table_add_row_take (table, g_strdup (ctl_prop_string (sw, "Name")),
                                  g_strdup (ctl_prop_string (sw, "Uuid")),
                                  g_strdup_printf ("%u", ctl_prop_uint (sw, "Mtu")),
                                  g_strdup_printf ("%u", g_strv_length (members)),
                                  g_strdup_printf ("%u", g_strv_length (groups)),
                                  g_strdup_printf ("%u", ports),
                                  g_strdup_printf ("%u", connected));
        }
      dvs_table_print (table);
    }

  printf ("\n");
  if (hosts->len == 0)
    printf ("No hosts.\n");
  else
    {
      g_autoptr(DvsTable) table = dvs_table_new (0, host_headers,
                                                 DVS_TABLE_DASH_EMPTY);

      for (guint i = 0; i < hosts->len; i++)
        {
          CtlObject *host = hosts->pdata[i];
          g_auto(GStrv) member_of = ctl_prop_strv (host, "Switches");

          dvs_table_add_row_take (table, g_strdup (ctl_prop_string (host, "Name")),
                                  g_strdup (ctl_yes_no (ctl_prop_bool (host, "Connected"))),
                                  g_strdup (ctl_yes_no (ctl_prop_bool (host, "InSync"))),
                                  switch_names_text (ctl, member_of, ","));
        }
      dvs_table_print (table);
    }
  return TRUE;
}
