#include "dvport-spec.h"

#include <string.h>

#include "dvs-jsonrpc.h"
#include "store/local-store.h"
#include "switch/port-policy.h"
#include "switch/vlan-config.h"
#include "dvs-json-write.h"
#include "dvs-names.h"

#define invalid(error, ...) \
  ({ g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS, __VA_ARGS__); FALSE; })

void
dvs_dvport_spec_free (DvsDvportSpec *p)
{
  if (p == NULL)
    return;
  g_free (p->key);
  g_free (p->port_group);
  g_clear_pointer (&p->config, json_node_unref);
  g_free (p->connection);
  g_free (p->connectee_vm);
  g_free (p->connectee_mac);
  g_free (p->incoming_from);
  g_clear_pointer (&p->policy, json_node_unref);
  g_free (p->canonical);
  if (p->state)
    json_node_unref (p->state);
  g_free (p);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsDvportSpec, dvs_dvport_spec_free)

void
dvs_dvswitch_spec_free (DvsDvswitchSpec *s)
{
  if (s == NULL)
    return;
  g_free (s->id);
  g_free (s->name);
  g_free (s->forwarding_class);
  g_clear_pointer (&s->port_groups, json_node_unref);
  g_clear_pointer (&s->by_key, g_hash_table_unref);
  g_clear_pointer (&s->ports, g_ptr_array_unref);
  g_free (s->canonical_global);
  g_free (s);
}

static gboolean
only_members (JsonObject *o, const gchar *what, const gchar *const *allowed, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);

  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      return invalid (error, "%s has an unknown member \"%s\"", what, (const gchar *) l->data);
  return TRUE;
}

static gboolean
get_string (JsonObject *o, const gchar *what, const gchar *name, gboolean required,
            const gchar **out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || (!required && JSON_NODE_HOLDS_NULL (n)))
    return required ? invalid (error, "%s.%s is required", what, name) : TRUE;
  if (json_node_get_value_type (n) != G_TYPE_STRING || *json_node_get_string (n) == '\0')
    return invalid (error, "%s.%s must be a non-empty string", what, name);
  *out = json_node_get_string (n);
  return TRUE;
}

/* A key or id that will name files (the store's rules, up to 64 characters:
 * a manager's switch ids are UUIDs) and, for port keys, switch ports (up to
 * 32 characters). */
static gboolean
valid_name (const gchar *name, const gchar *what, gsize max_len, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!dvs_store_name_valid (name, what, &local))
    return invalid (error, "%s", local->message);
  if (strlen (name) > max_len)
    return invalid (error, "%s '%s' is longer than %zu characters", what, name, max_len);
  return TRUE;
}

/* A name shown to operators and a token passed between programs: the rules
 * dvsmgr applies too (dvs-names.h), so that nothing a peer pushes puts
 * control characters into the store, the replies or a terminal. */
static gboolean
valid_display (const gchar *name, const gchar *what, guint max_chars, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!dvs_name_check_display (name, what, max_chars, &local))
    return invalid (error, "%s", local->message);
  return TRUE;
}

static gboolean
valid_token (const gchar *name, const gchar *what, gsize max_len, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!dvs_name_check_token (name, what, max_len, &local))
    return invalid (error, "%s", local->message);
  return TRUE;
}

/* The effective config: @group's members, overridden by @port's.  vlan is
 * replaced wholesale; policy section by section. */
static gboolean
effective_config (DvsDvportSpec *p, JsonObject *group, JsonObject *port, GError **error)
{
  static const gchar *const allowed[] = { "vlan", "policy", NULL };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *what = g_strdup_printf ("ports[%s].config", p->key);
  JsonNode *vlan = NULL;
  JsonObject *layers[2] = { group, port };
  DvsPortPolicy pol = { 0 };

  if ((group && !only_members (group, "port_groups[].config", allowed, error))
      || (port && !only_members (port, what, allowed, error)))
    return FALSE;
  dvs_vlan_config_init_access (&p->vlan, 0);
  for (int i = 0; i < 2; i++)
    if (layers[i] && json_object_has_member (layers[i], "vlan"))
      vlan = json_object_get_member (layers[i], "vlan");
  if (vlan && !dvs_vlan_config_from_json (vlan, &p->vlan, error))
    return FALSE;
  /* Validate the merged policy by parsing it; keep it as JSON. */
  for (int i = 0; i < 2; i++)
    if (layers[i] && json_object_has_member (layers[i], "policy")
        && !dvs_port_policy_update_from_json (&pol, json_object_get_member (layers[i], "policy"), error))
      {
        dvs_port_policy_clear (&pol);
        return FALSE;
      }
  /* Port security defaults to the vNIC's own MAC. */
  if (pol.security.enabled && pol.security.n_macs == 0 && p->connectee_mac)
    pol.security.n_macs = dvs_parse_mac (p->connectee_mac, pol.security.macs[0]) ? 1 : 0;
  p->policy = dvs_port_policy_to_json (&pol);
  dvs_port_policy_clear (&pol);
  return TRUE;
}

static DvsDvportSpec *
parse_port (JsonNode *n, guint i, GHashTable *groups, GError **error)
{
  static const gchar *const allowed[] = { "key", "port_group", "config", "connection", "state",
                                          "migration", NULL };
  static const gchar *const conn_allowed[] = { "id", "vm", "mac", NULL };
  g_autoptr (DvsDvportSpec) p = g_new0 (DvsDvportSpec, 1);
  g_autofree gchar *what = g_strdup_printf ("ports[%u]", i);
  const gchar *key = NULL, *group = NULL;
  JsonObject *o, *conf = NULL, *gconf = NULL;
  JsonNode *c;

  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      invalid (error, "%s must be an object", what);
      return NULL;
    }
  o = json_node_get_object (n);
  if (!only_members (o, what, allowed, error)
      || !get_string (o, what, "key", TRUE, &key, error)
      || !valid_name (key, "port key", 32, error)
      || !get_string (o, what, "port_group", FALSE, &group, error))
    return NULL;
  p->key = g_strdup (key);
  if (group != NULL)
    {
      JsonNode *g = g_hash_table_lookup (groups, group);
      if (g == NULL)
        {
          invalid (error, "port %s names port group '%s', which the document does not define",
                   key, group);
          return NULL;
        }
      p->port_group = g_strdup (group);
      if (json_object_has_member (json_node_get_object (g), "config"))
        gconf = json_object_get_object_member (json_node_get_object (g), "config");
    }
  c = json_object_get_member (o, "connection");
  if (c != NULL && !JSON_NODE_HOLDS_NULL (c))
    {
      const gchar *id = NULL, *vm = NULL, *mac = NULL;
      guint8 m[6];
      g_autofree gchar *cwhat = g_strdup_printf ("ports[%s].connection", key);
      if (!JSON_NODE_HOLDS_OBJECT (c))
        {
          invalid (error, "%s must be an object {\"id\",\"vm\",\"mac\"} or null", cwhat);
          return NULL;
        }
      if (!only_members (json_node_get_object (c), cwhat, conn_allowed, error)
          || !get_string (json_node_get_object (c), cwhat, "id", TRUE, &id, error)
          || !get_string (json_node_get_object (c), cwhat, "vm", FALSE, &vm, error)
          || !get_string (json_node_get_object (c), cwhat, "mac", FALSE, &mac, error))
        return NULL;
      g_autofree gchar *id_what = g_strdup_printf ("%s.id", cwhat);
      g_autofree gchar *vm_what = g_strdup_printf ("%s.vm", cwhat);
      if (!valid_token (id, id_what, 128, error)
          || (vm != NULL && !valid_display (vm, vm_what, 128, error)))
        return NULL;
      if (mac != NULL && !dvs_parse_mac (mac, m))
        {
          invalid (error, "%s.mac '%s' is not a MAC address like 52:54:00:12:34:56", cwhat, mac);
          return NULL;
        }
      p->connection = g_strdup (id);
      p->connectee_vm = g_strdup (vm);
      p->connectee_mac = g_strdup (mac);
    }
  if (json_object_has_member (o, "config"))
    {
      JsonNode *cn = json_object_get_member (o, "config");
      if (!JSON_NODE_HOLDS_OBJECT (cn))
        {
          invalid (error, "ports[%s].config must be an object", key);
          return NULL;
        }
      conf = json_node_get_object (cn);
      p->config = json_node_copy (cn);
    }
  if (json_object_has_member (o, "state"))
    {
      JsonNode *sn = json_object_get_member (o, "state");
      if (!JSON_NODE_HOLDS_OBJECT (sn))
        {
          invalid (error, "ports[%s].state must be an object (a checkpoint)", key);
          return NULL;
        }
      if (p->connection == NULL)
        {
          invalid (error, "ports[%s].state goes with a connection: it is the state a "
                   "connected DVport brings from another host", key);
          return NULL;
        }
      p->state = json_node_copy (sn);
    }
  if (json_object_has_member (o, "migration"))
    {
      JsonNode *mn = json_object_get_member (o, "migration");
      static const gchar *const mig_allowed[] = { "from", NULL };
      g_autofree gchar *mwhat = g_strdup_printf ("ports[%s].migration", key);
      const gchar *from = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (mn))
        {
          invalid (error, "%s must be an object {\"from\": HOST}", mwhat);
          return NULL;
        }
      if (!only_members (json_node_get_object (mn), mwhat, mig_allowed, error)
          || !get_string (json_node_get_object (mn), mwhat, "from", TRUE, &from, error)
          || !valid_name (from, "host name", 64, error))
        return NULL;
      if (p->connection == NULL)
        {
          invalid (error, "%s goes with a connection: only a connected DVport migrates", mwhat);
          return NULL;
        }
      p->incoming_from = g_strdup (from);
    }
  if (!effective_config (p, gconf, conf, error))
    return NULL;
  p->canonical = dvs_json_write (n, FALSE);
  return g_steal_pointer (&p);
}

DvsDvswitchSpec *
dvs_dvswitch_spec_parse (JsonNode *node, GError **error)
{
  static const gchar *const allowed[] = { "id", "name", "forwarding_class", "mtu",
                                          "port_groups", "ports", NULL };
  g_autoptr (DvsDvswitchSpec) s = g_new0 (DvsDvswitchSpec, 1);
  g_autoptr (GHashTable) groups = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (JsonBuilder) gb = json_builder_new ();
  const gchar *id = NULL, *name = NULL, *fc = "l2-learning";
  JsonObject *o;
  JsonNode *n;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      invalid (error, "switch must be an object with id, name, port_groups and ports");
      return NULL;
    }
  o = json_node_get_object (node);
  if (!only_members (o, "switch", allowed, error)
      || !get_string (o, "switch", "id", TRUE, &id, error)
      || !valid_name (id, "switch id", 64, error)
      || !get_string (o, "switch", "name", TRUE, &name, error)
      || !valid_display (name, "switch.name", 64, error)
      || !get_string (o, "switch", "forwarding_class", FALSE, &fc, error))
    return NULL;
  if (!g_str_equal (fc, "l2-learning"))
    {
      invalid (error, "switch.forwarding_class '%s' is not available here (this "
               "dvs-switchd has: l2-learning)", fc);
      return NULL;
    }
  s->id = g_strdup (id);
  s->name = g_strdup (name);
  s->forwarding_class = g_strdup (fc);
  s->mtu = 1500;
  if ((n = json_object_get_member (o, "mtu")) != NULL)
    {
      if (json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < 68
          || json_node_get_int (n) > 9000)
        {
          invalid (error, "switch.mtu must be an integer from 68 to 9000");
          return NULL;
        }
      s->mtu = (guint) json_node_get_int (n);
    }
  n = json_object_get_member (o, "port_groups");
  if (n != NULL)
    s->port_groups = json_node_copy (n);
  else
    {
      s->port_groups = json_node_new (JSON_NODE_ARRAY);
      json_node_take_array (s->port_groups, json_array_new ());
    }
  if (!JSON_NODE_HOLDS_ARRAY (s->port_groups))
    {
      invalid (error, "switch.port_groups must be an array");
      return NULL;
    }
  JsonArray *ga = json_node_get_array (s->port_groups);
  for (guint i = 0; i < json_array_get_length (ga); i++)
    {
      static const gchar *const gallowed[] = { "key", "name", "config", NULL };
      JsonNode *g = json_array_get_element (ga, i);
      g_autofree gchar *what = g_strdup_printf ("port_groups[%u]", i);
      const gchar *key = NULL, *gname = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (g))
        {
          invalid (error, "%s must be an object", what);
          return NULL;
        }
      if (!only_members (json_node_get_object (g), what, gallowed, error)
          || !get_string (json_node_get_object (g), what, "key", TRUE, &key, error)
          || !valid_name (key, "port group key", 64, error)
          || !get_string (json_node_get_object (g), what, "name", FALSE, &gname, error))
        return NULL;
      if (gname != NULL)
        {
          g_autofree gchar *name_what = g_strdup_printf ("%s.name", what);
          if (!valid_display (gname, name_what, 64, error))
            return NULL;
        }
      if (json_object_has_member (json_node_get_object (g), "config")
          && !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (g), "config")))
        {
          invalid (error, "%s.config must be an object", what);
          return NULL;
        }
      if (g_hash_table_contains (groups, key))
        {
          invalid (error, "port group key '%s' appears twice", key);
          return NULL;
        }
      g_hash_table_insert (groups, (gpointer) key, g);
    }
  s->ports = g_ptr_array_new_with_free_func ((GDestroyNotify) dvs_dvport_spec_free);
  s->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  n = json_object_get_member (o, "ports");
  if (n != NULL && !JSON_NODE_HOLDS_ARRAY (n))
    {
      invalid (error, "switch.ports must be an array");
      return NULL;
    }
  for (guint i = 0; n != NULL && i < json_array_get_length (json_node_get_array (n)); i++)
    {
      DvsDvportSpec *p = parse_port (json_array_get_element (json_node_get_array (n), i),
                                     i, groups, error);
      if (p == NULL)
        return NULL;
      if (g_hash_table_contains (s->by_key, p->key))
        {
          invalid (error, "port key '%s' appears twice", p->key);
          dvs_dvport_spec_free (p);
          return NULL;
        }
      g_ptr_array_add (s->ports, p);
      g_hash_table_insert (s->by_key, p->key, p);
    }
  if (s->ports->len > DVS_MAX_PORTS)
    {
      invalid (error, "switch has %u ports; one host holds at most %d", s->ports->len, DVS_MAX_PORTS);
      return NULL;
    }
  json_builder_begin_object (gb);
  json_builder_set_member_name (gb, "id");
  json_builder_add_string_value (gb, s->id);
  json_builder_set_member_name (gb, "name");
  json_builder_add_string_value (gb, s->name);
  json_builder_set_member_name (gb, "forwarding_class");
  json_builder_add_string_value (gb, s->forwarding_class);
  json_builder_set_member_name (gb, "mtu");
  json_builder_add_int_value (gb, s->mtu);
  json_builder_set_member_name (gb, "port_groups");
  json_builder_add_value (gb, json_node_copy (s->port_groups));
  json_builder_end_object (gb);
  g_autoptr (JsonNode) global = json_builder_get_root (gb);
  s->canonical_global = dvs_json_write (global, FALSE);
  return g_steal_pointer (&s);
}

JsonNode *
dvs_dvport_spec_to_json (const DvsDvportSpec *p)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (!json_parser_load_from_data (parser, p->canonical, -1, NULL))
    return json_node_init_null (json_node_alloc ());
  return json_node_copy (json_parser_get_root (parser));
}

JsonNode *
dvs_dvswitch_spec_to_json (const DvsDvswitchSpec *s)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonArray *ports = json_array_new ();

  json_parser_load_from_data (parser, s->canonical_global, -1, NULL);
  root = json_node_copy (json_parser_get_root (parser));
  for (guint i = 0; i < s->ports->len; i++)
    json_array_add_element (ports, dvs_dvport_spec_to_json (s->ports->pdata[i]));
  json_object_set_array_member (json_node_get_object (root), "ports", ports);
  return root;
}

/* The digest covers the text dvs_json_write() makes of
 * dvs_dvswitch_spec_to_json (s).  Both canonical pieces were written by
 * dvs_json_write() already, so that text is built by joining them instead
 * of parsing and writing every port again: a manager digests the document
 * of every host it pushes to.  (tests/unit/switch/test-dvport.c checks the
 * two ways agree.) */
gchar *
dvs_dvswitch_spec_digest (const DvsDvswitchSpec *s)
{
  gsize glen = strlen (s->canonical_global);
  g_autoptr (GString) text = g_string_sized_new (glen + 256 * s->ports->len);

  g_return_val_if_fail (glen >= 2 && s->canonical_global[glen - 1] == '}', NULL);
  g_string_append_len (text, s->canonical_global, glen - 1);
  g_string_append (text, glen > 2 ? ",\"ports\":[" : "\"ports\":[");
  for (guint i = 0; i < s->ports->len; i++)
    {
      if (i)
        g_string_append_c (text, ',');
      g_string_append (text, ((DvsDvportSpec *) s->ports->pdata[i])->canonical);
    }
  g_string_append (text, "]}");
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text->str, text->len);
}
