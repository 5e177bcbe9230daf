/* Logical networks on hosts: which hosts see a network (its transport zone
 * among the host's, not hidden there), hiding and unhiding it on a host,
 * and binding a port group to a network. */
#define G_LOG_DOMAIN "dvsmgr-placement"

#include "placement/placement-private.h"

#include "dvs-log.h"

MgrNetwork *
dvs_mgr_network_resolve (DvsMgr *mgr, const gchar *ref, GError **error)
{
  MgrNetwork *n = g_hash_table_lookup (mgr->networks, ref ? ref : "");
  GHashTableIter it;
  gpointer v;

  if (n)
    return n;
  g_hash_table_iter_init (&it, mgr->networks);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (g_strcmp0 (((MgrNetwork *) v)->name, ref) == 0)
      return v;
  g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND, "no network '%s'", ref ? ref : "");
  return NULL;
}

/* Commits @txn; a failure is FAILED (the store's message kept). */
static gboolean
commit (DvsMgr *mgr, DvsMgrTxn *txn, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (dvs_mgr_store_commit (mgr->store, txn, &local))
    return TRUE;
  g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_FAILED, "cannot record it: %s", local->message);
  return FALSE;
}

static gboolean
strv_has (GPtrArray *a, const gchar *s)
{
  for (guint i = 0; a && i < a->len; i++)
    if (g_strcmp0 (a->pdata[i], s) == 0)
      return TRUE;
  return FALSE;
}

gboolean
dvs_mgr_network_visible (MgrHost *h, MgrNetwork *n, gchar **why)
{
  if (why)
    *why = NULL;
  if (strv_has (h->hidden_networks, n->uuid))
    {
      if (why)
        *why = g_strdup_printf ("network %s is hidden on host %s", n->name, h->name);
      return FALSE;
    }
  if (*n->transport_zone && !strv_has (h->transport_zones, n->transport_zone))
    {
      if (why)
        *why = g_strdup_printf ("network %s is not on host %s (transport zone %s is not among "
                                "the host's)", n->name, h->name, n->transport_zone);
      return FALSE;
    }
  return TRUE;
}

gboolean
dvs_mgr_host_hide_network (DvsMgr *mgr, MgrHost *h, MgrNetwork *n, gboolean hide,
                           GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (JsonNode) rec = NULL;
  GPtrArray *old = h->hidden_networks;
  g_autoptr (GPtrArray) next = g_ptr_array_new_with_free_func (g_free);

  if (strv_has (old, n->uuid) == hide)
    return TRUE;   /* already so */
  for (guint i = 0; old && i < old->len; i++)
    if (!g_str_equal (old->pdata[i], n->uuid))
      g_ptr_array_add (next, g_strdup (old->pdata[i]));
  if (hide)
    g_ptr_array_add (next, g_strdup (n->uuid));
  /* The record as it will be; memory changes once it is committed. */
  h->hidden_networks = next;
  rec = dvs_mgr_host_to_store (h);
  h->hidden_networks = old;
  dvs_mgr_txn_put (txn, "host", h->name, rec);
  if (!commit (mgr, txn, error))
    return FALSE;
  g_clear_pointer (&h->hidden_networks, g_ptr_array_unref);
  h->hidden_networks = g_steal_pointer (&next);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", h->name, "network %s %s on host %s", n->name,
              hide ? "hidden" : "unhidden", h->name);
  dvs_mgr_dbus_host (mgr, h);
  return TRUE;
}

gboolean
dvs_mgr_port_group_set_network (DvsMgr *mgr, MgrPortGroup *pg, MgrNetwork *n, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, pg->switch_uuid);
  g_autoptr (JsonNode) config = json_node_copy (pg->config);
  g_autoptr (JsonNode) pg_rec = NULL, sw_rec = NULL;
  JsonNode *old_config = pg->config;
  gchar *old_network = pg->network;
  gboolean config_changed = FALSE;

  if (n && g_str_equal (n->type, "vlan")
      && !json_object_has_member (json_node_get_object (config), "vlan"))
    {
      json_object_set_int_member (json_node_get_object (config), "vlan", n->segment);
      if (!dvs_mgr_check_port_config (config, "config_json", error))
        return FALSE;
      config_changed = TRUE;
    }
  pg->config = config;
  pg->network = n ? n->uuid : NULL;
  if (config_changed)
    sw->generation++;
  pg_rec = dvs_mgr_port_group_to_store (pg);
  dvs_mgr_txn_put (txn, "portgroup", pg->uuid, pg_rec);
  if (config_changed)
    {
      sw_rec = dvs_mgr_switch_to_store (sw);
      dvs_mgr_txn_put (txn, "switch", sw->uuid, sw_rec);
    }
  pg->config = old_config;
  pg->network = old_network;
  if (!commit (mgr, txn, error))
    {
      if (config_changed)
        sw->generation--;
      return FALSE;
    }
  pg->network = g_strdup (n ? n->uuid : NULL);
  g_free (old_network);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", sw->uuid, "port group '%s' %s%s", pg->name,
              n ? "bound to network " : "unbound from its network", n ? n->name : "");
  if (config_changed)
    {
      json_node_unref (pg->config);
      pg->config = g_steal_pointer (&config);
      dvs_mgr_dbus_switch (mgr, sw);
      dvs_mgr_snapshot_changed (mgr, sw);
      if (mgr->push)
        mgr_push_mark (mgr->push, sw, NULL);
    }
  dvs_mgr_dbus_port_group (mgr, pg);
  return TRUE;
}
