/* Start-up: the DVswitches, DVports, checkpoints and attachments from the
 * local store, damaged files reported and skipped. */
#define G_LOG_DOMAIN "dvs-dvport"
#include "dvport/dvport-private.h"

#include "dvport/port-state-json.h"

/* What the store holds for one DVswitch. */
typedef struct {
  JsonNode *global;              /* the switch file's payload, NULL: none */
  GPtrArray *ports;              /* JsonNode: port file payloads */
  GHashTable *checkpoints;       /* key → JsonNode */
} SwitchFiles;

static void
switch_files_free (SwitchFiles *f)
{
  g_clear_pointer (&f->global, json_node_unref);
  g_ptr_array_unref (f->ports);
  g_hash_table_unref (f->checkpoints);
  g_free (f);
}

static void
restore_visit (DvsStoreKind kind, const gchar *switch_id, const gchar *port_key,
               JsonNode *payload, const GError *damage, gpointer user_data)
{
  GHashTable *switches = user_data;
  SwitchFiles *f;

  if (payload == NULL)
    {
      g_warning ("local store: %s", damage ? damage->message : "unreadable file");
      return;
    }
  f = g_hash_table_lookup (switches, switch_id);
  if (f == NULL)
    {
      f = g_new0 (SwitchFiles, 1);
      f->ports = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
      f->checkpoints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify) json_node_unref);
      g_hash_table_insert (switches, g_strdup (switch_id), f);
    }
  if (kind == DVS_STORE_KIND_SWITCH)
    f->global = json_node_copy (payload);
  else if (kind == DVS_STORE_KIND_PORT)
    g_ptr_array_add (f->ports, json_node_copy (payload));
  else
    g_hash_table_insert (f->checkpoints, g_strdup (port_key), json_node_copy (payload));
}

static void
restore_switch (DvsDvportHost *h, const gchar *id, SwitchFiles *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (JsonNode) result = NULL;
  JsonArray *ports;
  DvportSwitch *sw;
  GHashTableIter it;
  gpointer key, value;

  if (f->global == NULL)
    {
      g_warning ("local store: DVswitch %s has no usable switch file; its ports are "
                 "not restored until the manager pushes it again", id);
      return;
    }
  /* The document as last applied: the switch file plus each port file. */
  doc = json_node_copy (f->global);
  ports = json_array_new ();
  for (guint i = 0; i < f->ports->len; i++)
    {
      JsonObject *po = json_node_get_object (f->ports->pdata[i]);
      if (json_object_has_member (po, "dvport"))
        json_array_add_element (ports, json_node_copy (json_object_get_member (po, "dvport")));
    }
  json_object_set_array_member (json_node_get_object (doc), "ports", ports);
  result = dvs_dvport_host_apply (h, doc, &error);
  if (result == NULL)
    {
      g_warning ("local store: DVswitch %s not restored: %s", id, error->message);
      return;
    }
  sw = g_hash_table_lookup (h->switches, id);

  /* Checkpoints, then the vNICs that were attached. */
  g_hash_table_iter_init (&it, f->checkpoints);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      g_autoptr (GError) local = NULL;
      DvsPortState *st;
      if (!g_hash_table_contains (sw->spec->by_key, key))
        continue;
      st = dvs_port_state_from_json (value, &local);
      if (st == NULL)
        {
          g_autofree gchar *path = dvs_local_store_path (h->store, DVS_STORE_KIND_CHECKPOINT,
                                                         id, key);
          g_warning ("checkpoint %s not used: %s", path, local->message);
          continue;
        }
      dvport_runtime_get (h, id, key)->checkpoint = st;
    }
  for (guint i = 0; i < f->ports->len; i++)
    {
      JsonObject *po = json_node_get_object (f->ports->pdata[i]);
      JsonNode *an = json_object_get_member (po, "attachment");
      JsonNode *dn = json_object_get_member (po, "dvport");
      g_autoptr (GError) local = NULL;
      JsonObject *a;
      const gchar *k;

      if (an == NULL || !JSON_NODE_HOLDS_OBJECT (an) || dn == NULL || !JSON_NODE_HOLDS_OBJECT (dn))
        continue;
      a = json_node_get_object (an);
      k = json_object_get_string_member_with_default (json_node_get_object (dn), "key", "");
      if (!dvs_dvport_host_attach (h, id, k,
                                   json_object_get_string_member_with_default (a, "connection", ""),
                                   json_object_get_string_member_with_default (a, "socket", ""),
                                   g_strcmp0 (json_object_get_string_member_with_default (a, "mode", ""),
                                              "server") == 0, &local))
        g_warning ("DVport %s: vNIC not re-attached after restart: %s", k, local->message);
    }
  g_message ("restored DVswitch %s from the local store: %u DVports, %u checkpoints",
             id, sw->spec->ports->len, g_hash_table_size (f->checkpoints));
}

/* How long a restart waits for re-attached vNICs before forwarding. */
#define RESTORE_LINK_WAIT_MS 500

/* Waits (at most @ms) until the vNIC of every attached, ungated DVport is
 * there: links come up on rte_vhost's thread, not this one. */
static void
wait_attached_up (DvsDvportHost *h, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;)
    {
      GHashTableIter it;
      gpointer value;
      guint missing = 0;

      g_hash_table_iter_init (&it, h->rt);
      while (g_hash_table_iter_next (&it, NULL, &value))
        {
          DvportRuntime *r = value;
          if (!r->attached || r->gated)
            continue;
          g_autoptr (DvsPortInfo) info = dvs_switch_port_info (h->sw, r->key, NULL);
          missing += info != NULL && !info->device_ready;
        }
      if (missing == 0)
        return;
      if (g_get_monotonic_time () >= deadline)
        {
          g_message ("%u re-attached vNIC(s) not back after %u ms; forwarding "
                     "starts without them", missing, ms);
          return;
        }
      g_usleep (2000);
    }
}

void
dvs_dvport_host_restore (DvsDvportHost *h)
{
  g_autoptr (GHashTable) switches = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GList) ids = NULL;

  if (h->store == NULL)
    return;
  switches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) switch_files_free);
  if (!dvs_local_store_load_all (h->store, restore_visit, switches, &error))
    {
      g_warning ("local store: %s", error->message);
      return;
    }
  /* Frames that waited in the guests' rings while no switch ran are read
   * once every DVport is back, not into a half-restored DVswitch (a frame
   * for a port not attached yet would flood to nobody). */
  dvs_switch_set_rx_paused (h->sw, TRUE);
  ids = g_list_sort (g_hash_table_get_keys (switches), (GCompareFunc) g_strcmp0);
  for (GList *l = ids; l != NULL; l = l->next)
    restore_switch (h, l->data, g_hash_table_lookup (switches, l->data));
  /* Slots of DVports nobody re-attached held state already checkpointed. */
  if (h->area != NULL)
    dvs_runtime_area_release_unclaimed (h->area);
  wait_attached_up (h, RESTORE_LINK_WAIT_MS);
  dvs_switch_set_rx_paused (h->sw, FALSE);
}
