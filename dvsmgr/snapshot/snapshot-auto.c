/* Automatic versions: a switch whose history.auto is set gets a version
 * saved after its configuration changes.  Changes made together (one
 * operator command, an import) are saved once, at the next idle; then the
 * oldest versions beyond history.keep are deleted.  A failed save is
 * logged and does not undo the change: the live store is the truth, the
 * history a convenience. */
#define G_LOG_DOMAIN "dvsmgr-snapshot"

#include "snapshot/snapshot.h"

#include "dvs-log.h"

static gboolean
autosave (gpointer data)
{
  DvsMgr *mgr = data;
  g_autoptr (GHashTable) pending = g_steal_pointer (&mgr->autosave);
  GHashTableIter it;
  gpointer k;

  mgr->autosave_id = 0;
  g_hash_table_iter_init (&it, pending);
  while (g_hash_table_iter_next (&it, &k, NULL))
    {
      MgrSwitch *sw = g_hash_table_lookup (mgr->switches, k);
      g_autoptr (JsonNode) doc = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree gchar *version = NULL, *path = NULL;

      if (sw == NULL || !sw->history_auto || mgr->history == NULL)
        continue;
      doc = dvs_snapshot_export (mgr, sw, TRUE, "dvsmgr (automatic)", "saved after a configuration change");
      if (!dvs_snapshot_history_save (mgr->history, doc, &version, &path, &error)
          || !dvs_snapshot_history_prune (mgr->history, sw->uuid, sw->history_keep, &error))
        {
          DVS_LOG_KV (G_LOG_LEVEL_WARNING, "SWITCH", sw->uuid,
                      "automatic version of DVswitch '%s' not saved: %s", sw->name, error->message);
          continue;
        }
      DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", sw->uuid, "saved version %s of DVswitch '%s' (%s)",
                  version, sw->name, path);
    }
  return G_SOURCE_REMOVE;
}

void
dvs_mgr_snapshot_changed (DvsMgr *mgr, MgrSwitch *sw)
{
  if (!sw->history_auto || mgr->history == NULL)
    return;
  if (mgr->autosave == NULL)
    mgr->autosave = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (mgr->autosave, g_strdup (sw->uuid));
  if (mgr->autosave_id == 0)
    mgr->autosave_id = g_idle_add (autosave, mgr);
}

void
dvs_mgr_snapshot_stop (DvsMgr *mgr)
{
  /* Save what is pending before stopping. */
  if (mgr->autosave_id)
    {
      g_source_remove (mgr->autosave_id);
      autosave (mgr);
    }
  g_clear_pointer (&mgr->autosave, g_hash_table_unref);
}
