/* Live migration of a connected DVport from its owner host to another
 * (docs/migration.md), with the manager as the arbiter of ownership:
 *
 *   prepare   the destination's hook (`migrate begin`) asks, through its
 *             host channel (port.migrate); the manager checks the move and
 *             delegates the port there as *incoming* — in that host's
 *             document, marked "migration": {"from": OWNER} — so the
 *             destination's hooks can attach the vNIC.  The owner keeps it.
 *   ship      the owner's link down (QEMU stopped the rings at switch-over)
 *             reports the port's state; it goes into the destination's
 *             document, which loads it and lets the port link up.
 *   commit    the destination reports the link up: it becomes the owner
 *             (one transaction), the old owner's document loses the port.
 *   withdraw  the owner's link comes up again (the switch-over failed and
 *             the source resumed, or the guest reset its NIC during the
 *             copy): the state sent is withdrawn from the destination's
 *             document, which gates the port again.
 *   cancel    the destination lets the vNIC go before it ran there (its
 *             hooks' stopped/release): the destination's document loses
 *             the port; the owner never stopped owning it.
 *
 * Only the commit is persisted: a migration in progress lives in memory,
 * and a manager restart ends it (the destination then loses the port). */
#define G_LOG_DOMAIN "dvsmgr"
#include "mgr.h"

#include "dvs-jsonrpc.h"
#include "dvs-log.h"
#include "placement/placement.h"

static void
migrate_error (GError **error, gint code, const gchar *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
migrate_error (GError **error, gint code, const gchar *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  if (error != NULL && *error == NULL)
    *error = g_error_new_valist (DVS_JSONRPC_ERROR, code, fmt, ap);
  va_end (ap);
}

static void
index_incoming (MgrSwitch *sw, MgrPort *p, const gchar *host)
{
  if (p->incoming != NULL)
    g_hash_table_remove (sw->incoming, p->key);
  g_free (p->incoming);
  p->incoming = g_strdup (host);
  g_clear_pointer (&p->incoming_state, json_node_unref);
  p->incoming_state_at = 0;
  p->incoming_since = host ? g_get_monotonic_time () : 0;
  if (host != NULL)
    g_hash_table_insert (sw->incoming, p->key, p);
}

void
dvs_mgr_migrate_cancel (DvsMgr *mgr, MgrPort *p, const gchar *why)
{
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  g_autofree gchar *dest = g_strdup (p->incoming);

  if (dest == NULL || sw == NULL)
    return;
  index_incoming (sw, p, NULL);
  DVS_LOG_KV (G_LOG_LEVEL_MESSAGE, "PORT", p->key,
              "live migration of DVport %s to host %s ended without moving it (%s); "
              "host %s still owns it", p->key, dest, why, p->host ? p->host : "-");
  dvs_mgr_dbus_port (mgr, p);
  if (mgr->push)
    mgr_push_mark_removal (mgr->push, sw, dest);
}

/* The answer to port.migrate: {"switch": @host's document}. */
static JsonNode *
answer (DvsMgr *mgr, MgrSwitch *sw, const gchar *host)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "switch");
  json_builder_add_value (b, dvs_mgr_host_document (mgr, sw, host));
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean commit_move (DvsMgr *mgr, MgrPort *p, MgrSwitch *sw, JsonNode *stats,
                             gint64 t, gboolean push_old, GError **error);

JsonNode *
dvs_mgr_migrate_prepare (DvsMgr *mgr, const gchar *host, JsonObject *params, GError **error)
{
  static const gchar *const allowed[] = { "switch", "port", "connection", NULL };
  g_autoptr (GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  const gchar *sw_id, *key, *conn;
  gboolean committed_back = FALSE;
  MgrSwitch *sw;
  MgrPort *p;

  if (!dvs_jsonrpc_params_only (params, allowed, error)
      || !dvs_jsonrpc_param_string (params, "switch", &sw_id, error)
      || !dvs_jsonrpc_param_string (params, "port", &key, error)
      || !dvs_jsonrpc_param_string (params, "connection", &conn, error))
    return NULL;
  p = g_hash_table_lookup (mgr->ports, key);
  sw = p ? g_hash_table_lookup (mgr->switches, p->switch_uuid) : NULL;
  if (p == NULL || sw == NULL || !g_str_equal (p->switch_uuid, sw_id))
    {
      migrate_error (error, DVS_JSONRPC_REFUSED, "DVswitch %.64s has no DVport %.32s", sw_id, key);
      return NULL;
    }
  if (p->connection == NULL || !g_str_equal (p->connection, conn))
    {
      migrate_error (error, DVS_JSONRPC_REFUSED,
                     "connection ID %.128s is not DVport %s's current connection (stale or "
                     "wrong): the VM's port was disconnected or revoked", conn, key);
      return NULL;
    }
  if (p->host == NULL)
    {
      migrate_error (error, DVS_JSONRPC_REFUSED, "DVport %s is delegated to no host", key);
      return NULL;
    }
  if (g_str_equal (p->host, host) && p->incoming != NULL && p->incoming_state != NULL)
    {
      /* Coming back before the last migration committed: the VM stopped
       * here and now runs on the destination (it is leaving from there),
       * whose link-up report is late.  That migration is done.  This
       * host's new document goes with the answer below. */
      g_autoptr (GError) local = NULL;
      MgrHost *dh = g_hash_table_lookup (mgr->hosts, p->incoming);
      if (dh == NULL || dh->peer == NULL
          || !commit_move (mgr, p, sw, NULL, g_get_real_time (), FALSE, &local))
        {
          migrate_error (error, DVS_JSONRPC_REFUSED,
                         "DVport %s is still moving to host %s: try again when that "
                         "migration is over%s%s", key, p->incoming, local ? ": " : "",
                         local ? local->message : "");
          return NULL;
        }
      committed_back = TRUE;
    }
  if (g_str_equal (p->host, host))
    {
      /* Already here: a hook run again after the commit. */
      return answer (mgr, sw, host);
    }
  /* The same check as CheckPlacement (docs/placement.md). */
  if (!dvs_mgr_placement_check_port (mgr, p, host, reasons))
    {
      g_autofree gchar *why = NULL;

      g_ptr_array_add (reasons, NULL);
      why = g_strjoinv ("; ", (gchar **) reasons->pdata);
      migrate_error (error, DVS_JSONRPC_REFUSED, "DVport %s cannot run on host %s: %s", key, host,
                     why);
      DVS_LOG_KV (G_LOG_LEVEL_MESSAGE, "PORT", key, "live migration of DVport %s to host %s "
                  "refused: %s", key, host, (*error)->message);
      if (committed_back && mgr->push)
        mgr_push_mark_removal (mgr->push, sw, host);
      return NULL;
    }
  if (p->incoming != NULL && !g_str_equal (p->incoming, host))
    dvs_mgr_migrate_cancel (mgr, p, "another migration of it began");
  if (p->incoming == NULL)
    index_incoming (sw, p, host);
  DVS_LOG_KV (G_LOG_LEVEL_MESSAGE, "PORT", key, "live migration of DVport %s from host %s to "
              "host %s accepted; the port is delegated to both until the switch-over",
              key, p->host, host);
  dvs_mgr_dbus_port (mgr, p);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, host);   /* the document the answer carries */
  return answer (mgr, sw, host);
}

void
dvs_mgr_migrate_owner_report (DvsMgr *mgr, MgrPort *p, const gchar *link, JsonNode *cp)
{
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);

  if (p->incoming == NULL || sw == NULL)
    return;
  if (g_str_equal (link, "up"))
    {
      /* The source runs the vNIC again: the migration failed at the
       * switch-over, or the guest only reset its NIC during the copy.  The
       * state sent is stale either way: withdrawn, so the destination
       * waits for the next stop.  If the migration failed, the
       * destination's hooks let its vNIC go and that ends it. */
      if (p->incoming_state != NULL)
        {
          g_clear_pointer (&p->incoming_state, json_node_unref);
          p->incoming_state_at = 0;
          DVS_LOG_KV (G_LOG_LEVEL_MESSAGE, "PORT", p->key, "DVport %s runs again on host %s: "
                      "the state sent to host %s is withdrawn", p->key, p->host, p->incoming);
          if (mgr->push)
            mgr_push_mark (mgr->push, sw, p->incoming);
        }
      return;
    }
  if (cp == NULL)
    return;
  if (p->incoming_state)
    json_node_unref (p->incoming_state);
  p->incoming_state = json_node_copy (cp);
  p->incoming_state_at = g_get_monotonic_time ();
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "PORT", p->key, "DVport %s stopped on host %s: its state goes "
              "to host %s", p->key, p->host, p->incoming);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, p->incoming);
}

/* @push_old: push the old owner its document without the port (FALSE:
 * the caller sends it that host another way). */
static gboolean
commit_move (DvsMgr *mgr, MgrPort *p, MgrSwitch *sw, JsonNode *stats, gint64 t,
             gboolean push_old, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (GError) local = NULL;
  g_autofree gchar *from = g_strdup (p->host);
  g_autofree gchar *to = g_strdup (p->incoming);
  gint64 now = g_get_monotonic_time ();
  MgrPort tmp = *p;
  JsonNode *value;

  tmp.host = to;
  tmp.handover = FALSE;
  tmp.link = (gchar *) "up";
  tmp.stats = stats ? stats : p->stats;
  tmp.stats_time = t;
  tmp.checkpoint = p->incoming_state ? p->incoming_state : p->checkpoint;
  sw->generation++;
  value = dvs_mgr_port_to_store (&tmp);
  dvs_mgr_txn_put (txn, "port", p->key, value);
  json_node_unref (value);
  value = dvs_mgr_port_state_to_store (&tmp);
  dvs_mgr_txn_put (txn, "port_state", p->key, value);
  json_node_unref (value);
  value = dvs_mgr_switch_to_store (sw);
  dvs_mgr_txn_put (txn, "switch", sw->uuid, value);
  json_node_unref (value);
  if (!dvs_mgr_store_commit (mgr->store, txn, &local))
    {
      sw->generation--;
      migrate_error (error, DVS_JSONRPC_INTERNAL_ERROR,
                     "the manager's store refused the ownership change: %s", local->message);
      return FALSE;
    }
  if (p->incoming_state)
    {
      if (p->checkpoint)
        json_node_unref (p->checkpoint);
      p->checkpoint = json_node_ref (p->incoming_state);
    }
  index_incoming (sw, p, NULL);
  p->handover = FALSE;
  dvs_mgr_port_set_host (mgr, p, to);
  g_free (p->link);
  p->link = g_strdup ("up");
  if (stats)
    {
      if (p->stats)
        json_node_unref (p->stats);
      p->stats = json_node_copy (stats);
    }
  p->stats_time = t;
  DVS_LOG_KV (G_LOG_LEVEL_MESSAGE, "PORT", p->key,
              "DVport %s live-migrated from host %s to host %s (%.1f ms from the source's "
              "stop report to the destination's link-up report)", p->key, from, to,
              tmp.incoming_state_at ? (now - tmp.incoming_state_at) / 1000.0 : -1.0);
  dvs_mgr_dbus_port (mgr, p);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push)
    {
      if (push_old)
        mgr_push_mark_removal (mgr->push, sw, from);
      mgr_push_mark (mgr->push, sw, to);
    }
  return TRUE;
}

gboolean
dvs_mgr_migrate_incoming_report (DvsMgr *mgr, MgrPort *p, const gchar *link, JsonNode *stats,
                                 gint64 t, GError **error)
{
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);

  if (!g_str_equal (link, "up"))
    {
      dvs_mgr_migrate_cancel (mgr, p, "the destination let its vNIC go before it ran there");
      return TRUE;
    }
  return commit_move (mgr, p, sw, stats && JSON_NODE_HOLDS_OBJECT (stats) ? stats : NULL, t,
                      TRUE, error);
}
