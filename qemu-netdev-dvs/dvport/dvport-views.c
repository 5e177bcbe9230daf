/* What this host's DVports look like: switch.get and dvport.show. */
#define G_LOG_DOMAIN "dvs-dvport"
#include "dvport/dvport-private.h"

#include "dvport/port-state-json.h"
#include "dvs-jsonrpc.h"
#include "switch/vlan-config.h"

static void
add_runtime (JsonBuilder *b, DvsDvportHost *h, const gchar *key)
{
  DvportRuntime *r = g_hash_table_lookup (h->rt, key);
  g_autoptr (DvsPortInfo) info = r && r->attached ? dvs_switch_port_info (h->sw, key, NULL) : NULL;

  json_builder_set_member_name (b, "attached");
  json_builder_add_boolean_value (b, r != NULL && r->attached);
  json_builder_set_member_name (b, "socket");
  if (r != NULL && r->attached)
    json_builder_add_string_value (b, r->socket);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "link");
  json_builder_add_string_value (b, info && info->link_up ? "up" : "down");
  json_builder_set_member_name (b, "queues");
  json_builder_add_int_value (b, info ? info->queues : 0);
}

JsonNode *
dvs_dvport_host_describe (DvsDvportHost *h, const gchar *id, GError **error)
{
  DvportSwitch *sw;
  JsonNode *doc;
  JsonArray *ports;

  if (id != NULL)
    sw = dvport_switch_get (h, id, error);
  else if (g_hash_table_size (h->switches) == 0)
    return json_node_init_null (json_node_alloc ());
  else if (g_hash_table_size (h->switches) == 1)
    {
      GHashTableIter it;
      gpointer value = NULL;
      g_hash_table_iter_init (&it, h->switches);
      g_hash_table_iter_next (&it, NULL, &value);
      sw = value;
    }
  else
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "this host is a member of %u DVswitches: give \"id\" (switch.list "
                   "names them)", g_hash_table_size (h->switches));
      return NULL;
    }
  if (sw == NULL)
    return NULL;
  doc = dvs_dvswitch_spec_to_json (sw->spec);
  ports = json_object_get_array_member (json_node_get_object (doc), "ports");
  for (guint i = 0; i < json_array_get_length (ports); i++)
    {
      JsonObject *po = json_array_get_object_element (ports, i);
      DvportRuntime *r = g_hash_table_lookup (h->rt, json_object_get_string_member (po, "key"));
      g_autoptr (DvsPortInfo) info = r && r->attached
        ? dvs_switch_port_info (h->sw, r->key, NULL) : NULL;
      json_object_set_boolean_member (po, "attached", r != NULL && r->attached);
      json_object_set_string_member (po, "link", info && info->link_up ? "up" : "down");
    }
  /* This host's uplink of the DVswitch (runtime, like "attached"). */
  json_object_set_member (json_node_get_object (doc), "uplinks",
                          dvs_switch_uplinks_to_json (h->sw, sw->domain));
  return doc;
}

JsonNode *
dvs_dvport_host_list (DvsDvportHost *h)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GList) ids = g_list_sort (g_hash_table_get_keys (h->switches),
                                       (GCompareFunc) g_strcmp0);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "switches");
  json_builder_begin_array (b);
  for (GList *l = ids; l != NULL; l = l->next)
    {
      DvportSwitch *sw = g_hash_table_lookup (h->switches, l->data);
      guint attached = 0;
      for (guint i = 0; i < sw->spec->ports->len; i++)
        attached += dvs_dvport_host_owns (h, ((DvsDvportSpec *) sw->spec->ports->pdata[i])->key);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, sw->spec->id);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, sw->spec->name);
      json_builder_set_member_name (b, "ports");
      json_builder_add_int_value (b, sw->spec->ports->len);
      json_builder_set_member_name (b, "attached");
      json_builder_add_int_value (b, attached);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
dvs_dvport_host_show (DvsDvportHost *h, const gchar *switch_id, const gchar *key,
                      GError **error)
{
  DvsDvportSpec *p = dvport_find_port (h, switch_id, key, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (DvsPortState) live = NULL;
  DvportRuntime *r;
  const DvsPortState *st;

  if (p == NULL)
    return NULL;
  r = g_hash_table_lookup (h->rt, key);
  if (r != NULL && r->attached)
    live = dvs_switch_port_save_state (h->sw, key, NULL);
  st = live ? live : r ? r->checkpoint : NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "switch");
  json_builder_add_string_value (b, switch_id);
  json_builder_set_member_name (b, "key");
  json_builder_add_string_value (b, key);
  json_builder_set_member_name (b, "port_group");
  if (p->port_group)
    json_builder_add_string_value (b, p->port_group);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "connection");
  if (p->connection == NULL)
    json_builder_add_null_value (b);
  else
    {
      /* the same shape as in switch.apply and switch.get */
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, p->connection);
      if (p->connectee_vm)
        {
          json_builder_set_member_name (b, "vm");
          json_builder_add_string_value (b, p->connectee_vm);
        }
      if (p->connectee_mac)
        {
          json_builder_set_member_name (b, "mac");
          json_builder_add_string_value (b, p->connectee_mac);
        }
      json_builder_end_object (b);
    }
  add_runtime (b, h, key);
  json_builder_set_member_name (b, "vlan");
  json_builder_add_value (b, dvs_vlan_config_to_json (&p->vlan));
  json_builder_set_member_name (b, "policy");
  json_builder_add_value (b, json_node_copy (p->policy));
  json_builder_set_member_name (b, "state_source");
  json_builder_add_string_value (b, live ? "live" : st ? "checkpoint" : "none");
  if (st != NULL)
    {
      g_autoptr (JsonNode) sj = dvs_port_state_to_json (st, switch_id, key, p->connection);
      JsonObject *so = json_node_get_object (sj);
      json_builder_set_member_name (b, "stats");
      json_builder_add_value (b, json_node_copy (json_object_get_member (so, "counters")));
      json_builder_set_member_name (b, "classes");
      json_builder_add_value (b, json_node_copy (json_object_get_member (so, "classes")));
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

