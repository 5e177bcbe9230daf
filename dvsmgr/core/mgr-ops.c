/* The manager's operations (the DVswitch lifecycle; docs/design.md, "The
 * manager"): each one validates everything first, commits one store
 * transaction, and only then changes the in-memory model, its D-Bus objects,
 * and marks the hosts whose final state changed for a push.  A failed commit
 * leaves both the store and the model as they were.
 */
#define G_LOG_DOMAIN "dvsmgr"

#include "mgr.h"

#include <string.h>
#include "dvs-log.h"
#include "dvs-names.h"
#include "datapath/dp-types.h"   /* DVS_MAX_VNIC_PORTS: what one host serves */
#include "switch/port-policy.h"

static gboolean
fail (GError **error, DvsMgrErrorCode code, const gchar *fmt, ...) G_GNUC_PRINTF (3, 4);

static gboolean
fail (GError **error, DvsMgrErrorCode code, const gchar *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  g_set_error_literal (error, DVS_MGR_ERROR, code, "");
  if (error && *error)
    {
      g_free ((*error)->message);
      (*error)->message = g_strdup_vprintf (fmt, ap);
    }
  va_end (ap);
  return FALSE;
}

static gboolean
commit (DvsMgr *mgr, DvsMgrTxn *txn, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (dvs_mgr_store_commit (mgr->store, txn, &local))
    return TRUE;
  g_warning ("store commit failed, nothing changed: %s", local->message);
  return fail (error, DVS_MGR_ERROR_FAILED, "the manager's store refused the change, "
               "nothing was changed: %s", local->message);
}

static void
put (DvsMgrTxn *txn, const gchar *kind, const gchar *key, JsonNode *value)
{
  dvs_mgr_txn_put (txn, kind, key, value);
  json_node_unref (value);
}

/* A name shown to operators: 1-64 characters, no control character (the
 * rule dvs-switchd applies to what it is pushed: dvs-names.h). */
static gboolean
valid_display_name (const gchar *name, const gchar *what, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (!dvs_name_check_display (name, what, 64, &local))
    return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "%s", local->message);
  return TRUE;
}

static gboolean
valid_host_name (const gchar *name, GError **error)
{
  if (name == NULL || !dvs_mgr_host_name_valid (name))
    return fail (error, DVS_MGR_ERROR_INVALID_ARGS,
                 "host name '%.64s' must be 1-64 letters, digits, '.', '-' or '_'", name ? name : "");
  return TRUE;
}

static const gchar *
member_string (JsonObject *o, const gchar *name, const gchar *what, gboolean *ok, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    return NULL;
  if (json_node_get_value_type (n) != G_TYPE_STRING)
    {
      *ok = fail (error, DVS_MGR_ERROR_INVALID_ARGS, "%s.%s must be a string", what, name);
      return NULL;
    }
  return json_node_get_string (n);
}

static gboolean
only_members (JsonObject *o, const gchar *what, const gchar *const *allowed, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);

  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        g_autofree gchar *list = g_strjoinv (", ", (gchar **) allowed);
        return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "%s: unknown member '%s' (allowed: %s)",
                     what, (const gchar *) l->data, list);
      }
  return TRUE;
}

/* The global config of CreateSwitch / SetConfig applied onto @sw's fields. */
typedef struct {
  gchar *name, *fwd, *tz;
  guint mtu;
  gboolean history_auto;
  guint history_keep;
} SwitchConfig;

static void
switch_config_clear (SwitchConfig *c)
{
  g_free (c->name);
  g_free (c->fwd);
  g_free (c->tz);
}

static gboolean
parse_switch_config (const gchar *text, SwitchConfig *c, gboolean name_allowed, GError **error)
{
  static const gchar *const allowed[] = { "name", "forwarding_class", "mtu", "transport_zone",
                                          "history", NULL };
  g_autoptr (JsonNode) node = dvs_mgr_parse_object (text, "config_json", error);
  JsonObject *o;
  JsonNode *mtu;
  const gchar *s;
  gboolean ok = TRUE;

  if (node == NULL)
    return FALSE;
  o = json_node_get_object (node);
  if (!only_members (o, "config_json", allowed + (name_allowed ? 0 : 1), error))
    return FALSE;
  if ((s = member_string (o, "name", "config_json", &ok, error)))
    {
      if (!valid_display_name (s, "the switch name", error))
        return FALSE;
      g_free (c->name);
      c->name = g_strdup (s);
    }
  if (!ok)
    return FALSE;
  if ((s = member_string (o, "forwarding_class", "config_json", &ok, error)))
    {
      if (!g_str_equal (s, "l2-learning"))
        return fail (error, DVS_MGR_ERROR_INVALID_ARGS,
                     "forwarding_class '%s' is not known (known: l2-learning)", s);
      g_free (c->fwd);
      c->fwd = g_strdup (s);
    }
  if (!ok)
    return FALSE;
  if ((s = member_string (o, "transport_zone", "config_json", &ok, error)))
    {
      if (strlen (s) > 64)
        return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "transport_zone is longer than 64 characters");
      g_free (c->tz);
      c->tz = g_strdup (s);
    }
  if (!ok)
    return FALSE;
  if ((mtu = json_object_get_member (o, "mtu")))
    {
      if (json_node_get_value_type (mtu) != G_TYPE_INT64
          || json_node_get_int (mtu) < 68 || json_node_get_int (mtu) > 9000)
        return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "mtu must be an integer from 68 to 9000");
      c->mtu = (guint) json_node_get_int (mtu);
    }
  if (json_object_has_member (o, "history"))
    {
      static const gchar *const hallowed[] = { "auto", "keep", NULL };
      JsonNode *h = json_object_get_member (o, "history");
      JsonNode *a, *k;
      if (!JSON_NODE_HOLDS_OBJECT (h))
        return fail (error, DVS_MGR_ERROR_INVALID_ARGS,
                     "history must be an object {\"auto\": true|false, \"keep\": N}");
      if (!only_members (json_node_get_object (h), "config_json.history", hallowed, error))
        return FALSE;
      a = json_object_get_member (json_node_get_object (h), "auto");
      k = json_object_get_member (json_node_get_object (h), "keep");
      if (a && json_node_get_value_type (a) != G_TYPE_BOOLEAN)
        return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "history.auto must be true or false");
      if (k && (json_node_get_value_type (k) != G_TYPE_INT64 || json_node_get_int (k) < 0
                || json_node_get_int (k) > 100000))
        return fail (error, DVS_MGR_ERROR_INVALID_ARGS,
                     "history.keep must be an integer from 0 (keep all) to 100000");
      if (a)
        c->history_auto = json_node_get_boolean (a);
      if (k)
        c->history_keep = (guint) json_node_get_int (k);
    }
  return TRUE;
}

static gboolean
switch_prefix_used (DvsMgr *mgr, const gchar *uuid)
{
  GHashTableIter it;
  gpointer k;

  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (strncmp (k, uuid, 8) == 0)
      return TRUE;
  return FALSE;
}

MgrSwitch *
dvs_mgr_create_switch (DvsMgr *mgr, const gchar *name, const gchar *config_json, GError **error)
{
  SwitchConfig c = { g_strdup (name), g_strdup ("l2-learning"), g_strdup (""), 1500, FALSE, 0 };
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *uuid = NULL;
  MgrSwitch *sw;

  if (!valid_display_name (name, "the switch name", error)
      || !parse_switch_config (config_json, &c, FALSE, error))
    {
      switch_config_clear (&c);
      return NULL;
    }
  if (dvs_mgr_switch_by_name (mgr, name))
    {
      switch_config_clear (&c);
      fail (error, DVS_MGR_ERROR_EXISTS, "a DVswitch named '%s' exists", name);
      return NULL;
    }
  /* Port keys start with the UUID's first 8 characters: keep them unique. */
  do
    {
      g_free (uuid);
      uuid = g_uuid_string_random ();
    }
  while (switch_prefix_used (mgr, uuid));
  sw = dvs_mgr_switch_alloc (uuid);
  sw->name = c.name;
  sw->forwarding_class = c.fwd;
  sw->transport_zone = c.tz;
  sw->mtu = c.mtu;
  sw->history_auto = c.history_auto;
  sw->history_keep = c.history_keep;
  sw->generation = 1;
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  if (!commit (mgr, txn, error))
    {
      dvs_mgr_switch_free (sw);   /* not yet in any table */
      return NULL;
    }
  g_hash_table_insert (mgr->switches, sw->uuid, sw);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", sw->uuid, "DVswitch '%s' created", sw->name);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  return sw;
}

gboolean
dvs_mgr_switch_set_config (DvsMgr *mgr, MgrSwitch *sw, const gchar *config_json, GError **error)
{
  SwitchConfig c = { g_strdup (sw->name), g_strdup (sw->forwarding_class),
                     g_strdup (sw->transport_zone), sw->mtu, sw->history_auto, sw->history_keep };
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *other;
  gchar *old_name = sw->name, *old_tz = sw->transport_zone;
  guint old_mtu = sw->mtu, old_keep = sw->history_keep;
  gboolean old_auto = sw->history_auto;

  if (!parse_switch_config (config_json, &c, TRUE, error))
    {
      switch_config_clear (&c);
      return FALSE;
    }
  if ((other = dvs_mgr_switch_by_name (mgr, c.name)) && other != sw)
    {
      switch_config_clear (&c);
      return fail (error, DVS_MGR_ERROR_EXISTS, "a DVswitch named '%s' exists", c.name);
    }
  /* Write the would-be record, then swap the fields in on success. */
  sw->name = c.name;
  sw->transport_zone = c.tz;
  sw->mtu = c.mtu;
  sw->history_auto = c.history_auto;
  sw->history_keep = c.history_keep;
  sw->generation++;
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  if (!commit (mgr, txn, error))
    {
      sw->name = old_name;
      sw->transport_zone = old_tz;
      sw->mtu = old_mtu;
      sw->history_auto = old_auto;
      sw->history_keep = old_keep;
      sw->generation--;
      switch_config_clear (&c);
      return FALSE;
    }
  g_free (old_name);
  g_free (old_tz);
  g_free (c.fwd);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", sw->uuid, "DVswitch '%s' config changed", sw->name);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, NULL);
  return TRUE;
}

static MgrPort *
port_new (DvsMgr *mgr, MgrSwitch *sw, MgrPortGroup *pg)
{
  MgrPort *p = g_new0 (MgrPort, 1);

  /* Another switch's UUID may start with the same 8 characters. */
  do
    {
      g_free (p->key);
      p->key = dvs_mgr_new_port_key (sw);
    }
  while (g_hash_table_contains (mgr->ports, p->key));
  p->switch_uuid = g_strdup (sw->uuid);
  p->pg_uuid = g_strdup (pg->uuid);
  p->link = g_strdup ("unknown");
  return p;
}

static void
port_insert (DvsMgr *mgr, MgrSwitch *sw, MgrPortGroup *pg, MgrPort *p)
{
  g_hash_table_insert (mgr->ports, p->key, p);
  g_hash_table_insert (sw->ports, p->key, p);
  g_hash_table_insert (pg->ports, p->key, p);
  dvs_mgr_dbus_port (mgr, p);
}

/* @count new DVports of @pg into @ports, written into @txn with the
 * switch's record (generation bumped). */
static void
new_ports (DvsMgr *mgr, MgrSwitch *sw, MgrPortGroup *pg, guint count, DvsMgrTxn *txn,
           GPtrArray *ports)
{
  for (guint i = 0; i < count; i++)
    {
      MgrPort *p = port_new (mgr, sw, pg);
      g_ptr_array_add (ports, p);
      put (txn, "port", p->key, dvs_mgr_port_to_store (p));
    }
  sw->generation++;
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
}

/* Commits what new_ports() wrote; on failure puts the switch's counters
 * back and frees @ports. */
static gboolean
commit_new_ports (DvsMgr *mgr, MgrSwitch *sw, guint64 next_port, DvsMgrTxn *txn,
                  GPtrArray *ports, GError **error)
{
  if (commit (mgr, txn, error))
    return TRUE;
  sw->generation--;
  sw->next_port = next_port;
  for (guint i = 0; i < ports->len; i++)
    dvs_mgr_port_free (ports->pdata[i]);
  g_ptr_array_set_size (ports, 0);
  return FALSE;
}

static gboolean
check_port_count (MgrSwitch *sw, guint count, GError **error)
{
  if (count > 4096)
    return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "at most 4096 DVports at a time (asked for %u)", count);
  if (g_hash_table_size (sw->ports) + count > 1000000)
    return fail (error, DVS_MGR_ERROR_BUSY, "a DVswitch holds at most 1000000 DVports");
  return TRUE;
}

MgrPortGroup *
dvs_mgr_add_port_group (DvsMgr *mgr, MgrSwitch *sw, const gchar *name, const gchar *config_json,
                        guint num_ports, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (JsonNode) config = NULL;
  g_autoptr (GPtrArray) ports = g_ptr_array_new ();
  guint64 next_port = sw->next_port;
  GHashTableIter it;
  gpointer v;
  MgrPortGroup *pg;

  if (!valid_display_name (name, "the port group name", error)
      || !check_port_count (sw, num_ports, error)
      || !(config = dvs_mgr_parse_object (config_json, "config_json", error))
      || !dvs_mgr_check_port_config (config, "config_json", error))
    return NULL;
  g_hash_table_iter_init (&it, sw->port_groups);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (g_str_equal (((MgrPortGroup *) v)->name, name))
      {
        fail (error, DVS_MGR_ERROR_EXISTS, "DVswitch '%s' has a port group named '%s'", sw->name, name);
        return NULL;
      }
  pg = g_new0 (MgrPortGroup, 1);
  pg->uuid = g_uuid_string_random ();
  pg->name = g_strdup (name);
  pg->switch_uuid = g_strdup (sw->uuid);
  pg->config = g_steal_pointer (&config);
  pg->ports = g_hash_table_new (g_str_hash, g_str_equal);
  put (txn, "portgroup", pg->uuid, dvs_mgr_port_group_to_store (pg));
  new_ports (mgr, sw, pg, num_ports, txn, ports);
  if (!commit_new_ports (mgr, sw, next_port, txn, ports, error))
    {
      dvs_mgr_port_group_free (pg);
      return NULL;
    }
  g_hash_table_insert (mgr->port_groups, pg->uuid, pg);
  g_hash_table_insert (sw->port_groups, pg->uuid, pg);
  for (guint i = 0; i < ports->len; i++)
    port_insert (mgr, sw, pg, ports->pdata[i]);
  dvs_mgr_dbus_port_group (mgr, pg);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", sw->uuid, "port group '%s' added with %u DVports",
              name, num_ports);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, NULL);
  return pg;
}

gboolean
dvs_mgr_delete_switch (DvsMgr *mgr, MgrSwitch *sw, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *uuid = g_strdup (sw->uuid);
  GHashTableIter it;
  gpointer k, v;

  if (sw->hosts->len > 0)
    {
      return fail (error, DVS_MGR_ERROR_BUSY, "DVswitch '%s' still has member hosts; "
                   "make them leave first", sw->name);
    }
  g_hash_table_iter_init (&it, sw->ports);
  while (g_hash_table_iter_next (&it, &k, NULL))
    {
      dvs_mgr_txn_delete (txn, "port", k);
      dvs_mgr_txn_delete (txn, "port_state", k);
    }
  g_hash_table_iter_init (&it, sw->port_groups);
  while (g_hash_table_iter_next (&it, &k, NULL))
    dvs_mgr_txn_delete (txn, "portgroup", k);
  dvs_mgr_txn_delete (txn, "switch", sw->uuid);
  if (!commit (mgr, txn, error))
    return FALSE;
  g_hash_table_iter_init (&it, sw->ports);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      dvs_mgr_dbus_unexport (mgr, &((MgrPort *) v)->object);
      g_hash_table_remove (mgr->ports, k);
    }
  g_hash_table_iter_init (&it, sw->port_groups);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      dvs_mgr_dbus_unexport (mgr, &((MgrPortGroup *) v)->object);
      g_hash_table_remove (mgr->port_groups, k);
    }
  dvs_mgr_dbus_unexport (mgr, &sw->object);
  g_hash_table_remove (mgr->switches, uuid);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", uuid, "DVswitch deleted");
  return TRUE;
}

static gboolean
host_serves_switch (MgrHost *h, MgrSwitch *sw, GError **error)
{
  if (h->peer == NULL && h->last_seen == 0)
    return fail (error, DVS_MGR_ERROR_BUSY, "host '%s' has never connected; start its "
                 "dvs-switchd with --manager so that it reports what it can serve", h->name);
  if (*sw->transport_zone)
    {
      for (guint i = 0; i < h->transport_zones->len; i++)
        if (g_str_equal (h->transport_zones->pdata[i], sw->transport_zone))
          return TRUE;
      return fail (error, DVS_MGR_ERROR_BUSY, "host '%s' does not report transport zone '%s' "
                   "that DVswitch '%s' needs", h->name, sw->transport_zone, sw->name);
    }
  return TRUE;
}

gboolean
dvs_mgr_join_host (DvsMgr *mgr, MgrSwitch *sw, const gchar *host, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrHost *h = dvs_mgr_host_lookup (mgr, host, error);

  if (h == NULL || !host_serves_switch (h, sw, error))
    return FALSE;
  if (dvs_mgr_switch_has_host (sw, host))
    return TRUE;   /* already a member: idempotent */
  g_ptr_array_add (sw->hosts, g_strdup (host));
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  if (!commit (mgr, txn, error))
    {
      g_ptr_array_remove_index (sw->hosts, sw->hosts->len - 1);
      return FALSE;
    }
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", host, "host joined DVswitch '%s'", sw->name);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  dvs_mgr_dbus_host (mgr, h);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, host);
  return TRUE;
}

gboolean
dvs_mgr_leave_host (DvsMgr *mgr, MgrSwitch *sw, const gchar *host, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  GHashTable *delegated = g_hash_table_lookup (sw->by_host, host);
  g_autofree gchar *name = NULL;
  guint idx;

  for (idx = 0; idx < sw->hosts->len; idx++)
    if (g_str_equal (sw->hosts->pdata[idx], host))
      break;
  if (idx == sw->hosts->len)
    return fail (error, DVS_MGR_ERROR_NOT_FOUND, "host '%s' is not a member of DVswitch '%s'",
                 host, sw->name);
  if (delegated && g_hash_table_size (delegated) > 0)
    {
      g_autoptr (GString) keys = g_string_new (NULL);
      GHashTableIter it;
      gpointer k;
      guint n = 0;
      g_hash_table_iter_init (&it, delegated);
      while (g_hash_table_iter_next (&it, &k, NULL) && n++ < 10)
        g_string_append_printf (keys, "%s%s", keys->len ? ", " : "", (const gchar *) k);
      return fail (error, DVS_MGR_ERROR_BUSY, "host '%s' holds %u DVport(s) of DVswitch '%s' (%s%s); "
                   "disconnect or move them first", host, g_hash_table_size (delegated), sw->name,
                   keys->str, g_hash_table_size (delegated) > 10 ? ", ..." : "");
    }
  name = g_ptr_array_steal_index (sw->hosts, idx);
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  if (!commit (mgr, txn, error))
    {
      g_ptr_array_insert (sw->hosts, idx, g_steal_pointer (&name));
      return FALSE;
    }
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", host, "host left DVswitch '%s'", sw->name);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (g_hash_table_lookup (mgr->hosts, host))
    dvs_mgr_dbus_host (mgr, g_hash_table_lookup (mgr->hosts, host));
  if (mgr->push)
    mgr_push_rip_switch (mgr->push, host, sw->uuid);
  return TRUE;
}

gboolean
dvs_mgr_port_group_set_config (DvsMgr *mgr, MgrPortGroup *pg, const gchar *config_json, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (JsonNode) config = dvs_mgr_parse_object (config_json, "config_json", error);
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, pg->switch_uuid);
  JsonNode *old;

  if (config == NULL || !dvs_mgr_check_port_config (config, "config_json", error))
    return FALSE;
  old = pg->config;
  pg->config = config;
  sw->generation++;
  put (txn, "portgroup", pg->uuid, dvs_mgr_port_group_to_store (pg));
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  pg->config = old;
  if (!commit (mgr, txn, error))
    {
      sw->generation--;
      return FALSE;
    }
  json_node_unref (pg->config);
  pg->config = g_steal_pointer (&config);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", sw->uuid, "port group '%s' config changed", pg->name);
  dvs_mgr_dbus_port_group (mgr, pg);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, NULL);
  return TRUE;
}

GPtrArray *
dvs_mgr_port_group_add_ports (DvsMgr *mgr, MgrPortGroup *pg, guint count, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (GPtrArray) ports = g_ptr_array_new ();
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, pg->switch_uuid);
  guint64 next_port = sw->next_port;
  GPtrArray *keys;

  if (count == 0)
    {
      fail (error, DVS_MGR_ERROR_INVALID_ARGS, "count must be at least 1");
      return NULL;
    }
  if (!check_port_count (sw, count, error))
    return NULL;
  new_ports (mgr, sw, pg, count, txn, ports);
  if (!commit_new_ports (mgr, sw, next_port, txn, ports, error))
    return NULL;
  keys = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < ports->len; i++)
    {
      MgrPort *p = ports->pdata[i];
      port_insert (mgr, sw, pg, p);
      g_ptr_array_add (keys, g_strdup (p->key));
    }
  dvs_mgr_dbus_port_group (mgr, pg);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  return keys;
}

MgrPort *
dvs_mgr_port_group_allocate (DvsMgr *mgr, MgrPortGroup *pg, GError **error)
{
  GHashTableIter it;
  gpointer v;
  MgrPort *best = NULL;

  g_hash_table_iter_init (&it, pg->ports);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrPort *p = v;
      if (p->connection == NULL
          && (best == NULL || strlen (p->key) < strlen (best->key)
              || (strlen (p->key) == strlen (best->key) && strcmp (p->key, best->key) < 0)))
        best = p;
    }
  if (best == NULL)
    fail (error, DVS_MGR_ERROR_NOT_FOUND, "port group '%s' has no free DVport; add ports "
          "with AddPorts", pg->name);
  return best;
}

gboolean
dvs_mgr_port_group_delete (DvsMgr *mgr, MgrPortGroup *pg, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, pg->switch_uuid);
  g_autofree gchar *uuid = g_strdup (pg->uuid);
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, pg->ports);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      if (((MgrPort *) v)->connection)
        return fail (error, DVS_MGR_ERROR_BUSY, "DVport %s of port group '%s' is connected; "
                     "disconnect it first", (const gchar *) k, pg->name);
      dvs_mgr_txn_delete (txn, "port", k);
      dvs_mgr_txn_delete (txn, "port_state", k);
    }
  dvs_mgr_txn_delete (txn, "portgroup", pg->uuid);
  sw->generation++;
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  if (!commit (mgr, txn, error))
    {
      sw->generation--;
      return FALSE;
    }
  g_hash_table_iter_init (&it, pg->ports);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      MgrPort *p = v;
      dvs_mgr_port_set_host (mgr, p, NULL);
      dvs_mgr_dbus_unexport (mgr, &p->object);
      g_hash_table_remove (sw->ports, k);
      g_hash_table_remove (mgr->ports, k);
    }
  g_hash_table_remove_all (pg->ports);
  dvs_mgr_dbus_unexport (mgr, &pg->object);
  g_hash_table_remove (sw->port_groups, uuid);
  g_hash_table_remove (mgr->port_groups, uuid);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", sw->uuid, "port group %s deleted", uuid);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, NULL);
  return TRUE;
}

/* DVports delegated to @host, all switches together. */
guint
dvs_mgr_host_port_count (DvsMgr *mgr, const gchar *host)
{
  GHashTableIter it;
  gpointer v;
  guint n = 0;

  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      GHashTable *set = g_hash_table_lookup (((MgrSwitch *) v)->by_host, host);
      n += set ? g_hash_table_size (set) : 0;
    }
  return n;
}

gchar *
dvs_mgr_port_connect (DvsMgr *mgr, MgrPort *p, const gchar *host, const gchar *vm,
                      const gchar *mac, const gchar *iface, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  g_autofree gchar *conn = g_uuid_string_random ();
  guint8 m[6];
  MgrPort saved = *p;

  if (p->connection)
    {
      fail (error, DVS_MGR_ERROR_BUSY, "DVport %s is connected (VM %s, MAC %s); disconnect it first",
            p->key, p->vm ? p->vm : "?", p->mac ? p->mac : "?");
      return NULL;
    }
  if (!dvs_mgr_host_lookup (mgr, host, error))
    return NULL;
  if (!dvs_mgr_switch_has_host (sw, host))
    {
      fail (error, DVS_MGR_ERROR_BUSY, "host '%s' is not a member of DVswitch '%s'; join it first",
            host, sw->name);
      return NULL;
    }
  if (dvs_mgr_host_port_count (mgr, host) >= DVS_MAX_VNIC_PORTS)
    {
      fail (error, DVS_MGR_ERROR_BUSY, "host '%s' holds %d DVports, the most one dvs-switchd "
            "serves; connect the vNIC on another host", host, DVS_MAX_VNIC_PORTS);
      return NULL;
    }
  if (vm == NULL || !g_uuid_string_is_valid (vm))
    {
      fail (error, DVS_MGR_ERROR_INVALID_ARGS, "vm '%.64s' is not a UUID", vm ? vm : "");
      return NULL;
    }
  if (mac == NULL || !dvs_parse_mac (mac, m) || (m[0] & 1))
    {
      fail (error, DVS_MGR_ERROR_INVALID_ARGS, "mac '%.32s' is not a unicast MAC like 52:54:00:12:34:56",
            mac ? mac : "");
      return NULL;
    }
  if (iface && *iface && !valid_display_name (iface, "interface_id", error))
    return NULL;
  /* Build the record as it will be, write it, restore on failure. */
  p->connection = conn;
  p->vm = (gchar *) vm;
  p->mac = (gchar *) mac;
  p->iface = (gchar *) (iface && *iface ? iface : NULL);
  p->host = (gchar *) host;
  p->handover = FALSE;   /* a new connection starts afresh */
  sw->generation++;
  put (txn, "port", p->key, dvs_mgr_port_to_store (p));
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  p->handover = saved.handover;
  p->connection = saved.connection;
  p->vm = saved.vm;
  p->mac = saved.mac;
  p->iface = saved.iface;
  p->host = saved.host;
  if (!commit (mgr, txn, error))
    {
      sw->generation--;
      return NULL;
    }
  p->handover = FALSE;
  p->connection = g_strdup (conn);
  p->vm = g_strdup (vm);
  p->mac = g_strdup (mac);
  p->iface = g_strdup (iface && *iface ? iface : NULL);
  dvs_mgr_port_set_host (mgr, p, host);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "PORT", p->key, "connected VM %s MAC %s on host %s", vm, mac, host);
  dvs_mgr_dbus_port (mgr, p);
  dvs_mgr_dbus_port_group (mgr, g_hash_table_lookup (mgr->port_groups, p->pg_uuid));
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push)
    mgr_push_mark (mgr->push, sw, host);
  return g_steal_pointer (&conn);
}

gboolean
dvs_mgr_port_disconnect (DvsMgr *mgr, MgrPort *p, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  g_autofree gchar *host = g_strdup (p->host);
  MgrPort saved = *p;

  if (p->connection == NULL)
    return fail (error, DVS_MGR_ERROR_BUSY, "DVport %s is not connected", p->key);
  p->connection = p->vm = p->mac = p->iface = p->host = NULL;
  p->handover = FALSE;
  sw->generation++;
  put (txn, "port", p->key, dvs_mgr_port_to_store (p));
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  p->connection = saved.connection;
  p->vm = saved.vm;
  p->mac = saved.mac;
  p->iface = saved.iface;
  p->host = saved.host;
  p->handover = saved.handover;
  if (!commit (mgr, txn, error))
    {
      sw->generation--;
      return FALSE;
    }
  p->handover = FALSE;
  g_clear_pointer (&p->connection, g_free);
  g_clear_pointer (&p->vm, g_free);
  g_clear_pointer (&p->mac, g_free);
  g_clear_pointer (&p->iface, g_free);
  dvs_mgr_port_set_host (mgr, p, NULL);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "PORT", p->key, "disconnected (was on host %s)", host ? host : "-");
  dvs_mgr_dbus_port (mgr, p);
  dvs_mgr_dbus_port_group (mgr, g_hash_table_lookup (mgr->port_groups, p->pg_uuid));
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push && host)
    mgr_push_mark_removal (mgr->push, sw, host);
  return TRUE;
}

gchar *
dvs_mgr_port_revoke (DvsMgr *mgr, MgrPort *p, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  g_autofree gchar *conn = g_uuid_string_random ();
  gchar *old = p->connection;

  if (p->connection == NULL)
    {
      fail (error, DVS_MGR_ERROR_BUSY, "DVport %s is not connected: nothing to revoke", p->key);
      return NULL;
    }
  p->connection = conn;
  sw->generation++;
  put (txn, "port", p->key, dvs_mgr_port_to_store (p));
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  p->connection = old;
  if (!commit (mgr, txn, error))
    {
      sw->generation--;
      return NULL;
    }
  g_free (p->connection);
  p->connection = g_strdup (conn);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "PORT", p->key, "connection revoked; a new connection ID was issued");
  dvs_mgr_dbus_port (mgr, p);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push && p->host)
    mgr_push_mark (mgr->push, sw, p->host);
  return g_steal_pointer (&conn);
}

gboolean
dvs_mgr_port_move (DvsMgr *mgr, MgrPort *p, const gchar *host, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  g_autofree gchar *from = g_strdup (p->host);
  MgrPort tmp = *p;

  if (p->connection == NULL)
    return fail (error, DVS_MGR_ERROR_BUSY, "DVport %s is not connected: connect it on host "
                 "'%s' instead", p->key, host ? host : "");
  if (!dvs_mgr_host_lookup (mgr, host, error))
    return FALSE;
  if (g_strcmp0 (p->host, host) == 0)
    return TRUE;
  if (!dvs_mgr_switch_has_host (sw, host))
    return fail (error, DVS_MGR_ERROR_BUSY, "host '%s' is not a member of DVswitch '%s'; join "
                 "it first", host, sw->name);
  if (dvs_mgr_host_port_count (mgr, host) >= DVS_MAX_VNIC_PORTS)
    return fail (error, DVS_MGR_ERROR_BUSY, "host '%s' holds %d DVports, the most one "
                 "dvs-switchd serves", host, DVS_MAX_VNIC_PORTS);
  if (g_strcmp0 (p->link, "up") == 0)
    return fail (error, DVS_MGR_ERROR_BUSY, "DVport %s is up on host '%s' (its vNIC is running "
                 "there): stop the VM first, or migrate it live", p->key, from ? from : "?");
  tmp.host = (gchar *) host;
  tmp.handover = TRUE;
  sw->generation++;
  put (txn, "port", p->key, dvs_mgr_port_to_store (&tmp));
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  if (!commit (mgr, txn, error))
    {
      sw->generation--;
      return FALSE;
    }
  p->handover = TRUE;
  dvs_mgr_port_set_host (mgr, p, host);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "PORT", p->key, "DVport moved from host %s to host %s%s",
              from ? from : "-", host, p->checkpoint ? " with its state" : " (no state reported yet)");
  dvs_mgr_dbus_port (mgr, p);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push)
    {
      if (from)
        mgr_push_mark_removal (mgr->push, sw, from);
      mgr_push_mark (mgr->push, sw, host);
    }
  return TRUE;
}

gboolean
dvs_mgr_port_set_config (DvsMgr *mgr, MgrPort *p, const gchar *config_json, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (JsonNode) config = dvs_mgr_parse_object (config_json, "config_json", error);
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  JsonNode *old = p->config;

  if (config == NULL || !dvs_mgr_check_port_config (config, "config_json", error))
    return FALSE;
  if (json_object_get_size (json_node_get_object (config)) == 0)
    g_clear_pointer (&config, json_node_unref);
  p->config = config;
  sw->generation++;
  put (txn, "port", p->key, dvs_mgr_port_to_store (p));
  put (txn, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
  p->config = old;
  if (!commit (mgr, txn, error))
    {
      sw->generation--;
      return FALSE;
    }
  if (p->config)
    json_node_unref (p->config);
  p->config = g_steal_pointer (&config);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "PORT", p->key, "config overrides changed");
  dvs_mgr_dbus_port (mgr, p);
  dvs_mgr_dbus_switch (mgr, sw);
  dvs_mgr_snapshot_changed (mgr, sw);
  if (mgr->push && p->host)
    mgr_push_mark (mgr->push, sw, p->host);
  return TRUE;
}

MgrHost *
dvs_mgr_register_host (DvsMgr *mgr, const gchar *name, const gchar *config_json, GError **error)
{
  static const gchar *const allowed[] = { "libvirt_uri", NULL };
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autoptr (JsonNode) config = NULL;
  const gchar *uri = NULL;
  gboolean ok = TRUE;
  MgrHost *h;

  if (!valid_host_name (name, error)
      || !(config = dvs_mgr_parse_object (config_json, "config_json", error))
      || !only_members (json_node_get_object (config), "config_json", allowed, error))
    return NULL;
  uri = member_string (json_node_get_object (config), "libvirt_uri", "config_json", &ok, error);
  if (!ok)
    return NULL;
  if (g_hash_table_contains (mgr->hosts, name))
    {
      fail (error, DVS_MGR_ERROR_EXISTS, "host '%s' is registered already", name);
      return NULL;
    }
  h = g_new0 (MgrHost, 1);
  h->name = g_strdup (name);
  h->libvirt_uri = g_strdup (uri);
  h->uplinks = g_ptr_array_new_with_free_func (g_free);
  h->transport_zones = g_ptr_array_new_with_free_func (g_free);
  put (txn, "host", h->name, dvs_mgr_host_to_store (h));
  if (!commit (mgr, txn, error))
    {
      g_free (h->name); g_free (h->libvirt_uri);
      g_ptr_array_unref (h->uplinks); g_ptr_array_unref (h->transport_zones);
      g_free (h);
      return NULL;
    }
  g_hash_table_insert (mgr->hosts, h->name, h);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", name, "host registered");
  dvs_mgr_dbus_host (mgr, h);
  return h;
}

gboolean
dvs_mgr_unregister_host (DvsMgr *mgr, MgrHost *h, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *name = g_strdup (h->name);
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (dvs_mgr_switch_has_host (v, h->name))
      return fail (error, DVS_MGR_ERROR_BUSY, "host '%s' is a member of DVswitch '%s'; "
                   "make it leave first", h->name, ((MgrSwitch *) v)->name);
  dvs_mgr_txn_delete (txn, "host", h->name);
  if (!commit (mgr, txn, error))
    return FALSE;
  if (mgr->host_server)
    mgr_hosts_disconnect (mgr->host_server, h);
  dvs_mgr_dbus_unexport (mgr, &h->object);
  g_hash_table_remove (mgr->hosts, name);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "HOST", name, "host unregistered");
  return TRUE;
}

MgrNetwork *
dvs_mgr_create_network (DvsMgr *mgr, const gchar *name, const gchar *type, guint segment,
                        const gchar *tz, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrNetwork *n;
  GHashTableIter it;
  gpointer v;

  if (!valid_display_name (name, "the network name", error))
    return NULL;
  if (g_strcmp0 (type, "vlan") == 0 ? (segment < 1 || segment > 4094)
      : g_strcmp0 (type, "vxlan") == 0 ? (segment < 1 || segment > 16777215) : TRUE)
    {
      fail (error, DVS_MGR_ERROR_INVALID_ARGS, "type must be vlan (segment 1-4094) or vxlan "
            "(segment 1-16777215); got %.16s %u", type ? type : "", segment);
      return NULL;
    }
  if (tz == NULL || strlen (tz) > 64)
    {
      fail (error, DVS_MGR_ERROR_INVALID_ARGS, "transport_zone must be at most 64 characters");
      return NULL;
    }
  g_hash_table_iter_init (&it, mgr->networks);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (g_str_equal (((MgrNetwork *) v)->name, name))
      {
        fail (error, DVS_MGR_ERROR_EXISTS, "a network named '%s' exists", name);
        return NULL;
      }
  n = g_new0 (MgrNetwork, 1);
  n->uuid = g_uuid_string_random ();
  n->name = g_strdup (name);
  n->type = g_strdup (type);
  n->segment = segment;
  n->transport_zone = g_strdup (tz);
  put (txn, "network", n->uuid, dvs_mgr_network_to_store (n));
  if (!commit (mgr, txn, error))
    {
      g_free (n->uuid); g_free (n->name); g_free (n->type); g_free (n->transport_zone);
      g_free (n);
      return NULL;
    }
  g_hash_table_insert (mgr->networks, n->uuid, n);
  dvs_mgr_dbus_network (mgr, n);
  return n;
}

gboolean
dvs_mgr_delete_network (DvsMgr *mgr, MgrNetwork *n, GError **error)
{
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  g_autofree gchar *uuid = g_strdup (n->uuid);

  dvs_mgr_txn_delete (txn, "network", n->uuid);
  if (!commit (mgr, txn, error))
    return FALSE;
  dvs_mgr_dbus_unexport (mgr, &n->object);
  g_hash_table_remove (mgr->networks, uuid);
  return TRUE;
}

gboolean
dvs_mgr_port_report_state (DvsMgr *mgr, const gchar *host, JsonObject *state, GError **error)
{
  static const gchar *const allowed[] = { "switch", "port", "connection", "link", "stats", "time",
                                          "checkpoint", NULL };
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  const gchar *sw_id, *key, *conn, *link;
  gboolean ok = TRUE;
  JsonNode *stats = json_object_get_member (state, "stats");
  JsonNode *time = json_object_get_member (state, "time");
  JsonNode *cp = json_object_get_member (state, "checkpoint");
  MgrPort *p;
  gint64 t;

  if (!only_members (state, "port state", allowed, error))
    return FALSE;
  sw_id = member_string (state, "switch", "port state", &ok, error);
  key = ok ? member_string (state, "port", "port state", &ok, error) : NULL;
  conn = ok ? member_string (state, "connection", "port state", &ok, error) : NULL;
  link = ok ? member_string (state, "link", "port state", &ok, error) : NULL;
  if (!ok)
    return FALSE;
  if (!sw_id || !key || !link || (!g_str_equal (link, "up") && !g_str_equal (link, "down")))
    return fail (error, DVS_MGR_ERROR_INVALID_ARGS,
                 "port state needs switch, port, link (\"up\" or \"down\") and time");
  if (time == NULL || json_node_get_value_type (time) != G_TYPE_INT64 || json_node_get_int (time) < 0)
    return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "port state: time must be a non-negative integer");
  if (stats && !JSON_NODE_HOLDS_NULL (stats) && !JSON_NODE_HOLDS_OBJECT (stats))
    return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "port state: stats must be an object");
  if (cp && !JSON_NODE_HOLDS_NULL (cp) && !JSON_NODE_HOLDS_OBJECT (cp))
    return fail (error, DVS_MGR_ERROR_INVALID_ARGS, "port state: checkpoint must be an object");
  if (cp && JSON_NODE_HOLDS_NULL (cp))
    cp = NULL;
  t = json_node_get_int (time);
  p = g_hash_table_lookup (mgr->ports, key);
  /* The destination of a live migration reports its link: commit or end. */
  if (p != NULL && g_str_equal (p->switch_uuid, sw_id) && p->incoming != NULL
      && g_str_equal (p->incoming, host) && g_strcmp0 (p->connection, conn) == 0
      && g_strcmp0 (p->host, host) != 0)
    {
      g_autoptr (GError) local = NULL;
      if (!dvs_mgr_migrate_incoming_report (mgr, p, link, stats, t, &local))
        return fail (error, DVS_MGR_ERROR_FAILED, "%s", local->message);
      return TRUE;
    }
  /* A host acts only on what is delegated to it, with the current ID. */
  if (p == NULL || !g_str_equal (p->switch_uuid, sw_id) || g_strcmp0 (p->host, host) != 0
      || g_strcmp0 (p->connection, conn) != 0)
    return fail (error, DVS_MGR_ERROR_NOT_AUTHORIZED,
                 "DVport %.32s of DVswitch %.64s with that connection is not delegated to host %s",
                 key, sw_id, host);
  if (t <= p->stats_time)
    return TRUE;   /* older than what we have: the newer state wins */
  {
    MgrPort tmp = *p;
    tmp.link = (gchar *) link;
    tmp.stats = stats && JSON_NODE_HOLDS_OBJECT (stats) ? stats : p->stats;
    tmp.stats_time = t;
    tmp.checkpoint = cp ? cp : p->checkpoint;
    put (txn, "port_state", p->key, dvs_mgr_port_state_to_store (&tmp));
    /* The new owner of a moved port reports: it has the state now. */
    tmp.handover = FALSE;
    if (p->handover)
      put (txn, "port", p->key, dvs_mgr_port_to_store (&tmp));
  }
  if (!commit (mgr, txn, error))
    return FALSE;
  if (cp)
    {
      if (p->checkpoint)
        json_node_unref (p->checkpoint);
      p->checkpoint = json_node_copy (cp);
    }
  if (p->handover)
    {
      MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
      p->handover = FALSE;
      DVS_LOG_KV (G_LOG_LEVEL_INFO, "PORT", p->key, "host %s took over DVport %s with its state",
                  host, p->key);
      if (mgr->push && sw)
        mgr_push_mark (mgr->push, sw, host);   /* the document without the state */
    }
  g_free (p->link);
  p->link = g_strdup (link);
  if (stats && JSON_NODE_HOLDS_OBJECT (stats))
    {
      if (p->stats)
        json_node_unref (p->stats);
      p->stats = json_node_copy (stats);
    }
  p->stats_time = t;
  dvs_mgr_dbus_port (mgr, p);
  dvs_mgr_migrate_owner_report (mgr, p, link, cp);
  return TRUE;
}
