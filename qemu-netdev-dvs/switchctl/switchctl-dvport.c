/* dvs-switchctl's DVswitch and DVport commands (docs/dvport.md): the
 * DVswitch this host holds, its DVports, and vNICs attached to them. */
#include "switchctl.h"

#include <stdio.h>
#include <string.h>

#include "switchctl-class-state.h"
#include "switchctl-format.h"
#include "dvs-json-write.h"

/* dvs-switchd refuses a request line longer than 1 MiB; the document goes
 * in one, with a little JSON-RPC around it. */
#define MAX_REQUEST_SIZE (1024 * 1024)
#define REQUEST_OVERHEAD 128

/* The members switch.get adds to each port of the document it returns. */
static const gchar *const port_status_members[] = { "attached", "link", NULL };

/* --- The DVswitch dvs-switchd holds. */

/* switch.get's document, or NULL when dvs-switchd holds no DVswitch (its
 * answer is a JSON null). */
static JsonObject *
held_switch (JsonNode *doc)
{
  return ctl_result_object (doc);
}

static gchar *
held_switch_id (JsonNode *doc, GError **error)
{
  const gchar *id = dvs_json_get_string (held_switch (doc), "id");

  if (id == NULL)
    {
      g_set_error_literal (error, CTL_ERROR, CTL_EXIT_REFUSED,
                           "dvs-switchd holds no DVswitch: apply one first "
                           "(dvs-switchctl switch apply FILE).");
      return NULL;
    }
  return g_strdup (id);
}

/* The DVswitch a DVport command is about: --switch, else the one
 * dvs-switchd holds. */
static gchar *
target_switch (Ctl *ctl, const CtlOptions *opts, GError **error)
{
  g_autoptr(JsonNode) doc = NULL;

  if (opts->switch_id != NULL)
    return g_strdup (opts->switch_id);
  doc = ctl_call (ctl, "switch.get", NULL, error);
  return doc != NULL ? held_switch_id (doc, error) : NULL;
}

static JsonObject *
array_object (JsonArray *array, guint i)
{
  JsonNode *node = json_array_get_element (array, i);

  return JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* --- switch apply, get, remove. */

/* switch get --json prints each port with "attached" and "link"; take them
 * out so that output can be edited and applied again. */
static void
strip_port_status (JsonObject *doc)
{
  JsonArray *ports = dvs_json_get_array (doc, "ports");

  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonObject *port = array_object (ports, i);

      for (guint j = 0; port != NULL && port_status_members[j] != NULL; j++)
        json_object_remove_member (port, port_status_members[j]);
    }
}

/* "p1, p2" from an array of keys; "-" for none. */
static gchar *
key_list_text (JsonObject *obj, const gchar *member)
{
  JsonArray *keys = dvs_json_get_array (obj, member);
  g_autoptr(GString) out = g_string_new (NULL);

  if (keys == NULL)
    return ctl_member_text (obj, member);
  for (guint i = 0; i < json_array_get_length (keys); i++)
    {
      JsonNode *node = json_array_get_element (keys, i);
      g_autofree gchar *text = NULL;

      if (JSON_NODE_HOLDS_VALUE (node)
          && json_node_get_value_type (node) == G_TYPE_STRING)
        text = g_strdup (json_node_get_string (node));
      else
        text = dvs_json_write (node, FALSE);
      g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", text);
    }
  if (out->len == 0)
    return g_strdup ("-");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
ctl_cmd_switch_apply (Ctl *ctl, const CtlOptions *opts, gchar **args,
                      GError **error)
{
  static const gchar *const lists[] = { "added", "updated", "removed",
                                        "revoked", NULL };
  g_autoptr(JsonObject) doc = NULL;
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(JsonNode) doc_node = NULL;
  g_autoptr(DvsTable) table = NULL;
  g_autofree gchar *text = NULL;
  JsonObject *changes;

  doc = ctl_read_json_object (args[0], FALSE, "The DVswitch document",
                              error);
  if (doc == NULL)
    return FALSE;
  strip_port_status (doc);
  doc_node = json_node_init_object (json_node_alloc (), doc);
  text = dvs_json_write (doc_node, FALSE);
  if (strlen (text) + REQUEST_OVERHEAD > MAX_REQUEST_SIZE)
    return ctl_usage_error (error, "The DVswitch document is %" G_GSIZE_FORMAT
                                   " bytes as one line of JSON; dvs-switchd "
                                   "takes requests of up to 1 MiB.",
                            strlen (text));

  json_object_set_member (params, "switch", g_steal_pointer (&doc_node));
  result = ctl_call (ctl, "switch.apply", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  changes = ctl_result_object (result);
  if (ctl->json || changes == NULL)
    {
      dvs_json_print (result);
      return TRUE;
    }
  table = dvs_table_new (2, NULL, DVS_TABLE_NONE);
  for (guint i = 0; lists[i] != NULL; i++)
    {
      g_autofree gchar *label = g_strconcat (lists[i], ":", NULL);
      g_autofree gchar *keys = key_list_text (changes, lists[i]);

      dvs_table_add_row (table, (const gchar *[]) { label, keys });
    }
  dvs_table_print (table);
  return TRUE;
}

static void
print_switch_fields (JsonObject *sw)
{
  static const gchar *const known[] = { "id", "name", "forwarding_class",
                                        "mtu", "port_groups", "ports", NULL };
  g_autoptr(DvsTable) table = dvs_table_new (2, NULL, DVS_TABLE_NONE);

  /* Known members in this order, then what a newer daemon may add. */
  for (guint i = 0; i < 4; i++)
    {
      g_autofree gchar *label = g_strdelimit (
          g_strconcat (known[i], ":", NULL), "_", ' ');
      g_autofree gchar *value = ctl_member_text (sw, known[i]);

      dvs_table_add_row (table, (const gchar *[]) { label, value });
    }
  ctl_add_other_members (table, sw, known);
  dvs_table_print (table);
}

static void
print_port_groups (JsonArray *groups)
{
  static const gchar *const headers[] = { "PORT-GROUP", "NAME", "VLAN",
                                          "POLICY", NULL };
  g_autoptr(DvsTable) table = dvs_table_new (0, headers, DVS_TABLE_NONE);

  for (guint i = 0; groups != NULL && i < json_array_get_length (groups); i++)
    {
      JsonObject *group = array_object (groups, i);
      JsonObject *config = dvs_json_get_object (group, "config");
      g_autofree gchar *vlan = ctl_vlan_text (
          config != NULL ? json_object_get_member (config, "vlan") : NULL,
          TRUE);
      g_autofree gchar *policy = ctl_policy_brief (
          config != NULL ? json_object_get_member (config, "policy") : NULL);

      dvs_table_add_row (table, (const gchar *[]) {
                                    dvs_json_get_string (group, "key"),
                                    dvs_json_get_string (group, "name"), vlan,
                                    policy });
    }
  dvs_table_print (table);
}

/* The ports of switch.get's document as a table; @with_vm adds the
 * connectee VM's column. */
static void
print_ports (JsonArray *ports, gboolean with_vm)
{
  static const gchar *const headers[] = { "KEY", "PORT-GROUP", "CONNECTION",
                                          "VM", "ATTACHED", "LINK", NULL };
  static const gchar *const headers_no_vm[] = { "KEY", "PORT-GROUP",
                                                "CONNECTION", "ATTACHED",
                                                "LINK", NULL };
  g_autoptr(DvsTable) table = dvs_table_new (
      0, with_vm ? headers : headers_no_vm, DVS_TABLE_NONE);

  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonObject *port = array_object (ports, i);
      JsonObject *connection = dvs_json_get_object (port, "connection");
      g_autofree gchar *attached = ctl_member_text (port, "attached");
      const gchar *row[] = {
        dvs_json_get_string (port, "key"),
        dvs_json_get_string (port, "port_group"),
        dvs_json_get_string (connection, "id"),
        dvs_json_get_string (connection, "vm"),
        attached,
        dvs_json_get_string (port, "link"),
      };

      if (!with_vm)
        memmove (&row[3], &row[4], sizeof (row[0]) * 2);
      dvs_table_add_row (table, row);
    }
  dvs_table_print (table);
}

/* switch.get for --switch ID, or for the only DVswitch held. */
static JsonNode *
switch_get (Ctl *ctl, const CtlOptions *opts, GError **error)
{
  JsonObject *params = NULL;

  if (opts->switch_id != NULL)
    {
      params = json_object_new ();
      json_object_set_string_member (params, "id", opts->switch_id);
    }
  return ctl_call (ctl, "switch.get", params, error);
}

gboolean
ctl_cmd_switch_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  static const gchar *const headers[] = { "ID", "NAME", "PORTS", "ATTACHED", NULL };
  g_autoptr(JsonNode) result = ctl_call (ctl, "switch.list", NULL, error);
  g_autoptr(DvsTable) table = dvs_table_new (0, headers, DVS_TABLE_NONE);
  JsonArray *switches;

  if (result == NULL)
    return FALSE;
  if (ctl_printed_as_json (ctl, result))
    return TRUE;
  switches = dvs_json_get_array (ctl_result_object (result), "switches");
  for (guint i = 0; switches != NULL && i < json_array_get_length (switches); i++)
    {
      JsonObject *sw = array_object (switches, i);
      g_autofree gchar *ports = ctl_member_text (sw, "ports");
      g_autofree gchar *attached = ctl_member_text (sw, "attached");

      dvs_table_add_row (table, (const gchar *[]) {
                                    dvs_json_get_string (sw, "id"),
                                    dvs_json_get_string (sw, "name"),
                                    ports, attached });
    }
  dvs_table_print (table);
  return TRUE;
}

gboolean
ctl_cmd_switch_get (Ctl *ctl, const CtlOptions *opts, gchar **args,
                    GError **error)
{
  g_autoptr(JsonNode) result = switch_get (ctl, opts, error);
  JsonObject *sw;

  if (result == NULL)
    return FALSE;
  if (ctl_printed_as_json (ctl, result))
    return TRUE;
  if (JSON_NODE_HOLDS_NULL (result))
    {
      printf ("No DVswitch on this host.\n");
      return TRUE;
    }
  sw = held_switch (result);
  if (sw == NULL)
    {
      dvs_json_print (result);
      return TRUE;
    }
  print_switch_fields (sw);
  printf ("\n");
  print_port_groups (dvs_json_get_array (sw, "port_groups"));
  printf ("\n");
  print_ports (dvs_json_get_array (sw, "ports"), FALSE);
  return TRUE;
}

gboolean
ctl_cmd_switch_remove (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;

  json_object_set_string_member (params, "id", args[0]);
  result = ctl_call (ctl, "switch.remove", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  ctl_printed_as_json (ctl, result);
  return TRUE;
}

/* --- dvport list, show, attach, detach. */

gboolean
ctl_cmd_dvport_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  g_autoptr(JsonNode) result = switch_get (ctl, opts, error);
  JsonArray *ports;

  if (result == NULL)
    return FALSE;
  ports = dvs_json_get_array (held_switch (result), "ports");
  if (ctl->json)
    {
      /* Shaped like port list --json: {"ports": [...]}. */
      g_autoptr(JsonObject) out = json_object_new ();
      g_autoptr(JsonNode) node = NULL;

      json_object_set_array_member (out, "ports",
                                    ports != NULL ? json_array_ref (ports)
                                                  : json_array_new ());
      node = json_node_init_object (json_node_alloc (), out);
      dvs_json_print (node);
      return TRUE;
    }
  print_ports (ports, TRUE);
  return TRUE;
}

/* dvport.show's object as "label: value" lines: config, connection,
 * attachment, state source. */
static void
print_dvport_fields (JsonObject *show)
{
  static const gchar *const known[] = {
    "switch", "key", "port_group", "vlan", "policy", "connection", "attached",
    "socket", "link", "state_source", "stats", "classes", NULL
  };
  g_autoptr(DvsTable) table = dvs_table_new (2, NULL, DVS_TABLE_NONE);
  /* {"id","vm","mac"} or null, as in the switch document */
  JsonObject *connectee = dvs_json_get_object (show, "connection");
  g_autofree gchar *vlan = ctl_vlan_text (
      json_object_get_member (show, "vlan"), FALSE);
  const gchar *connection = connectee ? dvs_json_get_string (connectee, "id")
                                      : "-";
  g_autofree gchar *attached = ctl_member_text (show, "attached");
  g_autofree gchar *socket = ctl_member_text (show, "socket");
  g_autofree gchar *link = ctl_member_text (show, "link");
  g_autofree gchar *source = ctl_member_text (show, "state_source");
  g_autofree gchar *port_group = ctl_member_text (show, "port_group");

  dvs_table_add_row (table, (const gchar *[]) {
                                "switch:",
                                dvs_json_get_string (show, "switch") });
  dvs_table_add_row (table, (const gchar *[]) {
                                "key:", dvs_json_get_string (show, "key") });
  dvs_table_add_row (table, (const gchar *[]) { "port group:", port_group });
  dvs_table_add_row (table, (const gchar *[]) { "vlan:", vlan });
  if (json_object_has_member (show, "policy"))
    {
      dvs_table_add_row (table, (const gchar *[]) { "policy:", "" });
      ctl_policy_add_rows (table, json_object_get_member (show, "policy"),
                           "  ");
    }
  dvs_table_add_row (table, (const gchar *[]) { "connection:", connection });
  if (connectee != NULL)
    {
      const gchar *vm = dvs_json_get_string (connectee, "vm");
      const gchar *mac = dvs_json_get_string (connectee, "mac");

      dvs_table_add_row (table, (const gchar *[]) { "  vm:", vm });
      dvs_table_add_row (table, (const gchar *[]) { "  mac:", mac });
    }
  dvs_table_add_row (table, (const gchar *[]) { "attached:", attached });
  dvs_table_add_row (table, (const gchar *[]) { "  socket:", socket });
  dvs_table_add_row (table, (const gchar *[]) { "  link:", link });
  dvs_table_add_row (table, (const gchar *[]) { "state source:", source });
  /* Members a newer daemon may add. */
  ctl_add_other_members (table, show, known);
  dvs_table_print (table);
}

static void
print_learned_macs (JsonObject *dump)
{
  static const gchar *const headers[] = { "MAC", "VLAN", "AGE", NULL };
  g_autoptr(DvsTable) table = dvs_table_new (0, headers, DVS_TABLE_NONE);
  JsonArray *entries = dvs_json_get_array (dump, "entries");

  dvs_table_align_right (table, 1);
  dvs_table_align_right (table, 2);
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = array_object (entries, i);
      g_autofree gchar *vlan = ctl_member_text (entry, "vlan");
      g_autofree gchar *age = ctl_member_text (entry, "age");

      dvs_table_add_row (table, (const gchar *[]) {
                                    dvs_json_get_string (entry, "mac"), vlan,
                                    age });
    }
  printf ("\n");
  dvs_table_print (table);
}

static JsonObject *
dvport_params (const gchar *switch_id, const gchar *key)
{
  JsonObject *params = json_object_new ();

  json_object_set_string_member (params, "switch", switch_id);
  json_object_set_string_member (params, "port", key);
  return params;
}

gboolean
ctl_cmd_dvport_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(JsonNode) macs = NULL;
  g_autofree gchar *switch_id = NULL;
  JsonObject *show;
  JsonObject *stats;
  JsonArray *classes;
  JsonNode *node;

  switch_id = target_switch (ctl, opts, error);
  if (switch_id == NULL)
    return FALSE;
  result = ctl_call (ctl, "dvport.show", dvport_params (switch_id, args[0]),
                     error);
  if (result == NULL)
    return FALSE;
  show = ctl_result_object (result);
  if (ctl->json || show == NULL)
    {
      dvs_json_print (result);
      return TRUE;
    }

  /* The learned MACs are the switch port's, which exists while attached;
   * asked before printing, so a failure prints nothing. */
  node = json_object_get_member (show, "attached");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_BOOLEAN
      && json_node_get_boolean (node))
    {
      JsonObject *params = json_object_new ();

      json_object_set_string_member (params, "port", args[0]);
      macs = ctl_call (ctl, "mac.dump", params, error);
      if (macs == NULL)
        return FALSE;
    }

  print_dvport_fields (show);
  stats = dvs_json_get_object (show, "stats");
  if (stats != NULL)
    ctl_print_port_stats (stats);
  if (macs != NULL)
    print_learned_macs (ctl_result_object (macs));
  classes = dvs_json_get_array (show, "classes");
  if (classes != NULL)
    {
      printf ("\n");
      ctl_print_class_states (classes);
    }
  return TRUE;
}

gboolean
ctl_cmd_dvport_attach (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(JsonObject) params = NULL;
  g_autoptr(JsonNode) result = NULL;
  g_autofree gchar *switch_id = NULL;
  /* The daemon has its own working directory: send an absolute path. */
  g_autofree gchar *socket = g_canonicalize_filename (args[2], NULL);

  switch_id = target_switch (ctl, opts, error);
  if (switch_id == NULL)
    return FALSE;
  params = dvport_params (switch_id, args[0]);
  json_object_set_string_member (params, "connection", args[1]);
  json_object_set_string_member (params, "socket", socket);
  if (opts->server)
    json_object_set_string_member (params, "mode", "server");
  result = ctl_call (ctl, "dvport.attach", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  ctl_printed_as_json (ctl, result);
  return TRUE;
}

gboolean
ctl_cmd_dvport_detach (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(JsonNode) result = NULL;
  g_autofree gchar *switch_id = NULL;

  switch_id = target_switch (ctl, opts, error);
  if (switch_id == NULL)
    return FALSE;
  result = ctl_call (ctl, "dvport.detach", dvport_params (switch_id, args[0]),
                     error);
  if (result == NULL)
    return FALSE;
  ctl_printed_as_json (ctl, result);
  return TRUE;
}
