/* Start-up: the DVswitch, DVports, checkpoints and attachments from the
 * local store, damaged files reported and skipped. */
#define G_LOG_DOMAIN "dvs-dvport"
#include "dvport/dvport-private.h"

#include "dvport/port-state-json.h"

typedef struct {
  DvsDvportHost *h;
  JsonNode *global;              /* the switch file's payload */
  gchar *switch_id;
  GPtrArray *ports;              /* JsonNode: port file payloads */
  GHashTable *checkpoints;       /* key → JsonNode */
} RestoreCtx;

static void
restore_ctx_clear (RestoreCtx *c)
{
  g_clear_pointer (&c->global, json_node_unref);
  g_clear_pointer (&c->switch_id, g_free);
  g_clear_pointer (&c->ports, g_ptr_array_unref);
  g_clear_pointer (&c->checkpoints, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RestoreCtx, restore_ctx_clear)

static void
restore_visit (DvsStoreKind kind, const gchar *switch_id, const gchar *port_key,
               JsonNode *payload, const GError *damage, gpointer user_data)
{
  RestoreCtx *c = user_data;

  if (payload == NULL)
    {
      g_warning ("local store: %s", damage ? damage->message : "unreadable file");
      return;
    }
  if (c->switch_id != NULL && !g_str_equal (c->switch_id, switch_id))
    {
      g_warning ("local store holds a second DVswitch, %s; this dvs-switchd serves one "
                 "(%s) and ignores it", switch_id, c->switch_id);
      return;
    }
  if (kind == DVS_STORE_KIND_SWITCH)
    {
      c->switch_id = g_strdup (switch_id);
      c->global = json_node_copy (payload);
    }
  else if (kind == DVS_STORE_KIND_PORT)
    g_ptr_array_add (c->ports, json_node_copy (payload));
  else
    g_hash_table_insert (c->checkpoints, g_strdup (port_key), json_node_copy (payload));
}

void
dvs_dvport_host_restore (DvsDvportHost *h)
{
  g_auto (RestoreCtx) c = { .h = h };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (JsonNode) result = NULL;
  JsonArray *ports;

  if (h->store == NULL)
    return;
  c.ports = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  c.checkpoints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) json_node_unref);
  if (!dvs_local_store_load_all (h->store, restore_visit, &c, &error))
    {
      g_warning ("local store: %s", error->message);
      return;
    }
  if (c.global == NULL)
    return;

  /* The document as last applied: the switch file plus each port file. */
  doc = json_node_copy (c.global);
  ports = json_array_new ();
  for (guint i = 0; i < c.ports->len; i++)
    {
      JsonObject *po = json_node_get_object (c.ports->pdata[i]);
      if (json_object_has_member (po, "dvport"))
        json_array_add_element (ports, json_node_copy (json_object_get_member (po, "dvport")));
    }
  json_object_set_array_member (json_node_get_object (doc), "ports", ports);
  result = dvs_dvport_host_apply (h, doc, &error);
  if (result == NULL)
    {
      g_warning ("local store: DVswitch %s not restored: %s", c.switch_id, error->message);
      return;
    }

  /* Checkpoints, then the vNICs that were attached. */
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init (&it, c.checkpoints);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      g_autoptr (GError) local = NULL;
      DvsPortState *st;
      if (!g_hash_table_contains (h->spec->by_key, key))
        continue;
      st = dvs_port_state_from_json (value, &local);
      if (st == NULL)
        {
          g_autofree gchar *path = dvs_local_store_path (h->store, DVS_STORE_KIND_CHECKPOINT,
                                                         c.switch_id, key);
          g_warning ("checkpoint %s not used: %s", path, local->message);
          continue;
        }
      dvport_runtime_get (h, key)->checkpoint = st;
    }
  for (guint i = 0; i < c.ports->len; i++)
    {
      JsonObject *po = json_node_get_object (c.ports->pdata[i]);
      JsonNode *an = json_object_get_member (po, "attachment");
      JsonNode *dn = json_object_get_member (po, "dvport");
      g_autoptr (GError) local = NULL;
      JsonObject *a;
      const gchar *k;

      if (an == NULL || !JSON_NODE_HOLDS_OBJECT (an) || dn == NULL || !JSON_NODE_HOLDS_OBJECT (dn))
        continue;
      a = json_node_get_object (an);
      k = json_object_get_string_member_with_default (json_node_get_object (dn), "key", "");
      if (!dvs_dvport_host_attach (h, c.switch_id, k,
                                   json_object_get_string_member_with_default (a, "connection", ""),
                                   json_object_get_string_member_with_default (a, "socket", ""),
                                   g_strcmp0 (json_object_get_string_member_with_default (a, "mode", ""),
                                              "server") == 0, &local))
        g_warning ("DVport %s: vNIC not re-attached after restart: %s", k, local->message);
    }
  if (h->area != NULL)
    dvs_runtime_area_release_unclaimed (h->area);
  g_message ("restored DVswitch %s from the local store: %u DVports, %u checkpoints",
             c.switch_id, h->spec->ports->len, g_hash_table_size (c.checkpoints));
}
