/* Importing a snapshot (docs/snapshots.md) in one of three modes.
 *
 * Each import runs in three steps: check the parsed document against the
 * manager's state and collect every problem (nothing is changed when there
 * is one); build the new objects and one store transaction beside the live
 * model; commit, and only then put the objects in place, refresh D-Bus and
 * mark the member hosts for a push.  A failed commit frees what was built
 * and changes nothing. */
#define G_LOG_DOMAIN "dvsmgr-snapshot"

#include "snapshot/snapshot.h"
#include "core/mgr-json.h"

#include <string.h>
#include "dvs-log.h"

gboolean
dvs_import_mode_parse (const gchar *s, DvsImportMode *mode)
{
  if (g_strcmp0 (s, "recreate") == 0)
    *mode = DVS_IMPORT_RECREATE;
  else if (g_strcmp0 (s, "new") == 0)
    *mode = DVS_IMPORT_NEW;
  else if (g_strcmp0 (s, "apply") == 0)
    *mode = DVS_IMPORT_APPLY;
  else
    return FALSE;
  return TRUE;
}

static const gchar *const mode_names[] = { "recreate", "new", "apply" };

typedef struct {
  DvsMgr *mgr;
  const DvsSnapshot *snap;
  DvsImportMode mode;
  GPtrArray *problems;            /* gchar * */
  DvsMgrErrorCode code;           /* of the first problem */
  DvsMgrTxn *txn;
  /* what will be */
  MgrSwitch *sw;                  /* new (recreate, new) or the live one (apply) */
  GPtrArray *new_groups;          /* MgrPortGroup, not yet in tables */
  GPtrArray *new_ports;           /* MgrPort, not yet in tables */
  GPtrArray *new_hosts;           /* MgrHost, not yet in tables */
  GPtrArray *new_networks;        /* MgrNetwork, not yet in tables */
  GHashTable *group_map;          /* document group uuid → new uuid (new mode) */
  GHashTable *key_map;            /* document port key → new key (new mode) */
  /* apply mode: changes to live objects, made after the commit */
  GPtrArray *group_updates;       /* MgrPortGroup * live, with index in doc */
  GPtrArray *port_updates;        /* MgrPort * live */
  GPtrArray *group_removals, *port_removals;
  JsonBuilder *report;
  GPtrArray *r_groups[3], *r_ports[3];   /* added, updated, removed (copies: removed
                                         * objects are freed before the report) */
  GPtrArray *r_hosts, *r_networks;
} Import;

static void
add_problem (Import *im, DvsMgrErrorCode code, const gchar *fmt, ...) G_GNUC_PRINTF (3, 4);

static void
add_problem (Import *im, DvsMgrErrorCode code, const gchar *fmt, ...)
{
  va_list ap;

  if (im->problems->len == 0)
    im->code = code;
  va_start (ap, fmt);
  g_ptr_array_add (im->problems, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

static void
put (Import *im, const gchar *kind, const gchar *key, JsonNode *value)
{
  dvs_mgr_txn_put (im->txn, kind, key, value);
  json_node_unref (value);
}

/* A config with policy.mirror.to renamed through @key_map (new mode: the
 * mirror target is a port key of the same switch). */
static JsonNode *
remap_config (JsonNode *config, GHashTable *key_map)
{
  JsonNode *copy;
  JsonObject *policy, *mirror;
  const gchar *to, *mapped;

  if (config == NULL)
    return NULL;
  copy = json_node_copy (config);
  if (key_map == NULL
      || !json_object_has_member (json_node_get_object (copy), "policy")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (copy), "policy")))
    return copy;
  policy = json_object_get_object_member (json_node_get_object (copy), "policy");
  if (!json_object_has_member (policy, "mirror")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (policy, "mirror")))
    return copy;
  mirror = json_object_get_object_member (policy, "mirror");
  if (json_object_has_member (mirror, "to")
      && json_node_get_value_type (json_object_get_member (mirror, "to")) == G_TYPE_STRING)
    {
      to = json_object_get_string_member (mirror, "to");
      if ((mapped = g_hash_table_lookup (key_map, to)))
        json_object_set_string_member (mirror, "to", mapped);
    }
  return copy;
}

static MgrPortGroup *
group_build (const gchar *uuid, const gchar *name, const gchar *switch_uuid, JsonNode *config)
{
  MgrPortGroup *pg = g_new0 (MgrPortGroup, 1);

  pg->uuid = g_strdup (uuid);
  pg->name = g_strdup (name);
  pg->switch_uuid = g_strdup (switch_uuid);
  pg->config = config;
  pg->ports = g_hash_table_new (g_str_hash, g_str_equal);
  return pg;
}

static MgrPort *
port_build (const gchar *key, const gchar *switch_uuid, const gchar *pg_uuid, JsonNode *config)
{
  MgrPort *p = g_new0 (MgrPort, 1);

  p->key = g_strdup (key);
  p->switch_uuid = g_strdup (switch_uuid);
  p->pg_uuid = g_strdup (pg_uuid);
  p->config = config;
  p->link = g_strdup ("unknown");
  return p;
}

/* ---- recreate and new: a whole new switch -------------------------------- */

static void
check_new_switch (Import *im, const gchar *name)
{
  DvsMgr *mgr = im->mgr;
  const DvsSnapshot *s = im->snap;
  MgrSwitch *other;

  if ((other = dvs_mgr_switch_by_name (mgr, name)))
    add_problem (im, DVS_MGR_ERROR_EXISTS, "a DVswitch named '%s' exists (UUID %s)", name, other->uuid);
  if (im->mode != DVS_IMPORT_RECREATE)
    return;
  if ((other = g_hash_table_lookup (mgr->switches, s->uuid)))
    add_problem (im, DVS_MGR_ERROR_EXISTS, "a DVswitch with UUID %s exists (named '%s'): roll it "
                 "back with mode apply, or import a copy with mode new", s->uuid, other->name);
  for (guint i = 0; i < s->groups->len; i++)
    {
      DvsSnapGroup *g = s->groups->pdata[i];
      if (g_hash_table_contains (mgr->port_groups, g->uuid))
        add_problem (im, DVS_MGR_ERROR_EXISTS, "port group UUID %s (%s) is in use in this manager",
                     g->uuid, g->name);
    }
  for (guint i = 0; i < s->ports->len; i++)
    {
      DvsSnapPort *p = s->ports->pdata[i];
      if (g_hash_table_contains (mgr->ports, p->key))
        add_problem (im, DVS_MGR_ERROR_EXISTS, "DVport key %s is in use in this manager", p->key);
    }
}

static void
build_new_switch (Import *im, const gchar *name)
{
  DvsMgr *mgr = im->mgr;
  const DvsSnapshot *s = im->snap;
  gboolean recreate = im->mode == DVS_IMPORT_RECREATE;
  g_autofree gchar *new_uuid = recreate ? g_strdup (s->uuid) : g_uuid_string_random ();
  MgrSwitch *sw = dvs_mgr_switch_alloc (new_uuid);

  sw->name = g_strdup (name);
  sw->forwarding_class = g_strdup (s->forwarding_class);
  sw->mtu = s->mtu;
  sw->transport_zone = g_strdup (s->transport_zone);
  sw->history_auto = s->history_auto;
  sw->history_keep = s->history_keep;
  sw->generation = 1;
  im->sw = sw;
  if (recreate)
    {
      sw->next_port = s->next_port;
      for (guint i = 0; i < s->hosts->len; i++)
        {
          DvsSnapHost *h = s->hosts->pdata[i];
          g_ptr_array_add (sw->hosts, g_strdup (h->name));
          if (!g_hash_table_contains (mgr->hosts, h->name))
            {
              MgrHost *nh = dvs_mgr_host_alloc (h->name);
              nh->libvirt_uri = g_strdup (h->libvirt_uri);
              g_ptr_array_add (im->new_hosts, nh);
              put (im, "host", nh->name, dvs_mgr_host_to_store (nh));
              g_ptr_array_add (im->r_hosts, g_strdup (nh->name));
            }
        }
      for (guint i = 0; i < s->networks->len; i++)
        {
          JsonObject *o = json_node_get_object (s->networks->pdata[i]);
          const gchar *uuid = json_object_get_string_member_with_default (o, "uuid", NULL);
          const gchar *nname = json_object_get_string_member_with_default (o, "name", NULL);
          const gchar *type = json_object_get_string_member_with_default (o, "type", "vlan");
          gint64 seg = json_object_get_int_member_with_default (o, "segment", 0);
          GHashTableIter it;
          gpointer v;
          gboolean clash = FALSE;
          MgrNetwork *n;

          if (!uuid || !nname || g_hash_table_contains (mgr->networks, uuid))
            continue;
          g_hash_table_iter_init (&it, mgr->networks);
          while (g_hash_table_iter_next (&it, NULL, &v))
            clash |= g_str_equal (((MgrNetwork *) v)->name, nname);
          if (clash || seg < 0 || seg > 16777215)
            continue;
          n = g_new0 (MgrNetwork, 1);
          n->uuid = g_strdup (uuid);
          n->name = g_strdup (nname);
          n->type = g_strdup (type);
          n->segment = (guint) seg;
          n->transport_zone = g_strdup (json_object_get_string_member_with_default (o, "transport_zone", ""));
          g_ptr_array_add (im->new_networks, n);
          put (im, "network", n->uuid, dvs_mgr_network_to_store (n));
          g_ptr_array_add (im->r_networks, g_strdup (n->name));
        }
    }
  /* New keys first (new mode), so mirror targets can be renamed. */
  for (guint i = 0; i < s->ports->len; i++)
    {
      DvsSnapPort *dp = s->ports->pdata[i];
      if (!recreate)
        g_hash_table_insert (im->key_map, dp->key, dvs_mgr_new_port_key (sw));
    }
  for (guint i = 0; i < s->groups->len; i++)
    {
      DvsSnapGroup *g = s->groups->pdata[i];
      g_autofree gchar *uuid = recreate ? g_strdup (g->uuid) : g_uuid_string_random ();
      MgrPortGroup *pg = group_build (uuid, g->name, sw->uuid,
                                      remap_config (g->config, recreate ? NULL : im->key_map));
      g_hash_table_insert (im->group_map, g->uuid, g_strdup (pg->uuid));
      g_ptr_array_add (im->new_groups, pg);
      put (im, "portgroup", pg->uuid, dvs_mgr_port_group_to_store (pg));
      g_ptr_array_add (im->r_groups[0], g_strdup (pg->name));
    }
  for (guint i = 0; i < s->ports->len; i++)
    {
      DvsSnapPort *dp = s->ports->pdata[i];
      const gchar *key = recreate ? dp->key : g_hash_table_lookup (im->key_map, dp->key);
      MgrPort *p = port_build (key, sw->uuid, g_hash_table_lookup (im->group_map, dp->group),
                               remap_config (dp->config, recreate ? NULL : im->key_map));
      if (recreate && dp->conn_id)
        {
          p->connection = g_strdup (dp->conn_id);
          p->vm = g_strdup (dp->vm);
          p->mac = g_strdup (dp->mac);
          p->iface = g_strdup (dp->iface);
          p->host = g_strdup (dp->host);   /* indexed when inserted */
        }
      g_ptr_array_add (im->new_ports, p);
      put (im, "port", p->key, dvs_mgr_port_to_store (p));
      g_ptr_array_add (im->r_ports[0], g_strdup (p->key));
    }
  put (im, "switch", sw->uuid, dvs_mgr_switch_to_store (sw));
}

/* ---- apply: roll a live switch to the document ----------------------------- */

static void
check_apply (Import *im, MgrSwitch *sw)
{
  DvsMgr *mgr = im->mgr;
  const DvsSnapshot *s = im->snap;
  g_autoptr (GHashTable) doc_ports = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) doc_groups = g_hash_table_new (g_str_hash, g_str_equal);
  MgrSwitch *other;
  GHashTableIter it;
  gpointer k, v;

  if (!g_str_equal (sw->uuid, s->uuid))
    {
      add_problem (im, DVS_MGR_ERROR_INVALID_ARGS, "mode apply rolls a switch to a document "
                   "exported from it (UUID %s), not DVswitch %s; to use the document as a "
                   "template for another switch, import it with mode new", s->uuid, sw->uuid);
      return;
    }
  if ((other = dvs_mgr_switch_by_name (mgr, s->name)) && other != sw)
    add_problem (im, DVS_MGR_ERROR_EXISTS, "another DVswitch is named '%s' (UUID %s)", s->name,
                 other->uuid);
  for (guint i = 0; i < s->groups->len; i++)
    {
      DvsSnapGroup *g = s->groups->pdata[i];
      MgrPortGroup *live = g_hash_table_lookup (mgr->port_groups, g->uuid);
      if (live && !g_str_equal (live->switch_uuid, sw->uuid))
        add_problem (im, DVS_MGR_ERROR_EXISTS, "port group UUID %s (%s) belongs to another DVswitch",
                     g->uuid, g->name);
      g_hash_table_insert (doc_groups, g->uuid, g);
    }
  for (guint i = 0; i < s->ports->len; i++)
    g_hash_table_insert (doc_ports, ((DvsSnapPort *) s->ports->pdata[i])->key, s->ports->pdata[i]);
  g_hash_table_iter_init (&it, sw->ports);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!g_hash_table_contains (doc_ports, k) && ((MgrPort *) v)->connection)
      add_problem (im, DVS_MGR_ERROR_BUSY, "DVport %s is connected (VM %s on host %s) but the "
                   "document does not have it: disconnect it first", (const gchar *) k,
                   ((MgrPort *) v)->vm ? ((MgrPort *) v)->vm : "?",
                   ((MgrPort *) v)->host ? ((MgrPort *) v)->host : "-");
}

static void
build_apply (Import *im, MgrSwitch *sw)
{
  DvsMgr *mgr = im->mgr;
  const DvsSnapshot *s = im->snap;
  g_autoptr (GHashTable) doc_groups = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) doc_ports = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter it;
  gpointer k, v;

  im->sw = sw;
  for (guint i = 0; i < s->groups->len; i++)
    {
      DvsSnapGroup *g = s->groups->pdata[i];
      MgrPortGroup *live = g_hash_table_lookup (sw->port_groups, g->uuid);
      g_hash_table_insert (doc_groups, g->uuid, g);
      g_hash_table_insert (im->group_map, g->uuid, g_strdup (g->uuid));
      if (live == NULL)
        {
          MgrPortGroup *pg = group_build (g->uuid, g->name, sw->uuid, json_node_copy (g->config));
          g_ptr_array_add (im->new_groups, pg);
          put (im, "portgroup", pg->uuid, dvs_mgr_port_group_to_store (pg));
          g_ptr_array_add (im->r_groups[0], g_strdup (pg->name));
        }
      else if (!g_str_equal (live->name, g->name) || !json_node_equal (live->config, g->config))
        {
          MgrPortGroup tmp = *live;
          tmp.name = g->name;
          tmp.config = g->config;
          g_ptr_array_add (im->group_updates, live);
          put (im, "portgroup", live->uuid, dvs_mgr_port_group_to_store (&tmp));
          g_ptr_array_add (im->r_groups[1], g_strdup (g->name));
        }
    }
  g_hash_table_iter_init (&it, sw->port_groups);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!g_hash_table_contains (doc_groups, k))
      {
        g_ptr_array_add (im->group_removals, v);
        dvs_mgr_txn_delete (im->txn, "portgroup", k);
        g_ptr_array_add (im->r_groups[2], g_strdup (((MgrPortGroup *) v)->name));
      }
  for (guint i = 0; i < s->ports->len; i++)
    {
      DvsSnapPort *dp = s->ports->pdata[i];
      MgrPort *live = g_hash_table_lookup (sw->ports, dp->key);
      g_hash_table_insert (doc_ports, dp->key, dp);
      if (live == NULL)
        {
          MgrPort *p = port_build (dp->key, sw->uuid, dp->group,
                                   dp->config ? json_node_copy (dp->config) : NULL);
          g_ptr_array_add (im->new_ports, p);
          put (im, "port", p->key, dvs_mgr_port_to_store (p));
          g_ptr_array_add (im->r_ports[0], g_strdup (p->key));
        }
      else if (!g_str_equal (live->pg_uuid, dp->group)
               || !((live->config == NULL && dp->config == NULL)
                    || (live->config && dp->config && json_node_equal (live->config, dp->config))))
        {
          MgrPort tmp = *live;
          tmp.pg_uuid = dp->group;
          tmp.config = dp->config;
          g_ptr_array_add (im->port_updates, live);
          put (im, "port", live->key, dvs_mgr_port_to_store (&tmp));
          g_ptr_array_add (im->r_ports[1], g_strdup (live->key));
        }
    }
  g_hash_table_iter_init (&it, sw->ports);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!g_hash_table_contains (doc_ports, k))
      {
        g_ptr_array_add (im->port_removals, v);
        dvs_mgr_txn_delete (im->txn, "port", k);
        dvs_mgr_txn_delete (im->txn, "port_state", k);
        g_ptr_array_add (im->r_ports[2], g_strdup (k));
      }
  {
    /* The switch level as it will be. */
    MgrSwitch tmp = *sw;
    tmp.name = s->name;
    tmp.mtu = s->mtu;
    tmp.transport_zone = s->transport_zone;
    /* The history policy stays: rolling back must not turn it off. */
    tmp.next_port = MAX (sw->next_port, s->next_port);
    tmp.generation = sw->generation + 1;
    put (im, "switch", sw->uuid, dvs_mgr_switch_to_store (&tmp));
  }
  (void) mgr;
}

/* The objects of @a now belong to the model's tables: empty @a without
 * freeing them. */
static void
disown (GPtrArray *a)
{
  g_ptr_array_set_free_func (a, NULL);
  g_ptr_array_set_size (a, 0);
}

/* After the commit: make the live model what the store now holds. */
static void
commit_apply (Import *im)
{
  DvsMgr *mgr = im->mgr;
  const DvsSnapshot *s = im->snap;
  MgrSwitch *sw = im->sw;
  g_autoptr (GHashTable) doc_groups = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) doc_ports = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < s->groups->len; i++)
    g_hash_table_insert (doc_groups, ((DvsSnapGroup *) s->groups->pdata[i])->uuid, s->groups->pdata[i]);
  for (guint i = 0; i < s->ports->len; i++)
    g_hash_table_insert (doc_ports, ((DvsSnapPort *) s->ports->pdata[i])->key, s->ports->pdata[i]);
  for (guint i = 0; i < im->port_removals->len; i++)
    {
      MgrPort *p = im->port_removals->pdata[i];
      MgrPortGroup *pg = g_hash_table_lookup (mgr->port_groups, p->pg_uuid);
      g_autofree gchar *key = g_strdup (p->key);
      dvs_mgr_port_set_host (mgr, p, NULL);
      dvs_mgr_dbus_unexport (mgr, &p->object);
      if (pg)
        g_hash_table_remove (pg->ports, key);
      g_hash_table_remove (sw->ports, key);
      g_hash_table_remove (mgr->ports, key);
    }
  for (guint i = 0; i < im->group_updates->len; i++)
    {
      MgrPortGroup *pg = im->group_updates->pdata[i];
      DvsSnapGroup *g = g_hash_table_lookup (doc_groups, pg->uuid);
      g_free (pg->name);
      pg->name = g_strdup (g->name);
      json_node_unref (pg->config);
      pg->config = json_node_copy (g->config);
    }
  for (guint i = 0; i < im->new_groups->len; i++)
    {
      MgrPortGroup *pg = im->new_groups->pdata[i];
      g_hash_table_insert (mgr->port_groups, pg->uuid, pg);
      g_hash_table_insert (sw->port_groups, pg->uuid, pg);
    }
  disown (im->new_groups);
  for (guint i = 0; i < im->port_updates->len; i++)
    {
      MgrPort *p = im->port_updates->pdata[i];
      DvsSnapPort *dp = g_hash_table_lookup (doc_ports, p->key);
      MgrPortGroup *from = g_hash_table_lookup (mgr->port_groups, p->pg_uuid);
      MgrPortGroup *to = g_hash_table_lookup (mgr->port_groups, dp->group);
      if (from)
        g_hash_table_remove (from->ports, p->key);
      g_free (p->pg_uuid);
      p->pg_uuid = g_strdup (dp->group);
      if (to)
        g_hash_table_insert (to->ports, p->key, p);
      if (p->config)
        json_node_unref (p->config);
      p->config = dp->config ? json_node_copy (dp->config) : NULL;
      dvs_mgr_dbus_port (mgr, p);
    }
  for (guint i = 0; i < im->group_removals->len; i++)
    {
      MgrPortGroup *pg = im->group_removals->pdata[i];
      g_autofree gchar *uuid = g_strdup (pg->uuid);
      dvs_mgr_dbus_unexport (mgr, &pg->object);
      g_hash_table_remove (sw->port_groups, uuid);
      g_hash_table_remove (mgr->port_groups, uuid);
    }
  g_free (sw->name);
  sw->name = g_strdup (s->name);
  sw->mtu = s->mtu;
  g_free (sw->transport_zone);
  sw->transport_zone = g_strdup (s->transport_zone);
  sw->next_port = MAX (sw->next_port, s->next_port);
  sw->generation++;
}

static void
insert_new (Import *im)
{
  DvsMgr *mgr = im->mgr;
  MgrSwitch *sw = im->sw;

  for (guint i = 0; i < im->new_hosts->len; i++)
    {
      MgrHost *h = im->new_hosts->pdata[i];
      g_hash_table_insert (mgr->hosts, h->name, h);
      dvs_mgr_dbus_host (mgr, h);
    }
  disown (im->new_hosts);
  for (guint i = 0; i < im->new_networks->len; i++)
    {
      MgrNetwork *n = im->new_networks->pdata[i];
      g_hash_table_insert (mgr->networks, n->uuid, n);
      dvs_mgr_dbus_network (mgr, n);
    }
  disown (im->new_networks);
  if (im->mode != DVS_IMPORT_APPLY)
    g_hash_table_insert (mgr->switches, sw->uuid, sw);
  for (guint i = 0; i < im->new_groups->len; i++)
    {
      MgrPortGroup *pg = im->new_groups->pdata[i];
      g_hash_table_insert (mgr->port_groups, pg->uuid, pg);
      g_hash_table_insert (sw->port_groups, pg->uuid, pg);
    }
  disown (im->new_groups);
  for (guint i = 0; i < im->new_ports->len; i++)
    {
      MgrPort *p = im->new_ports->pdata[i];
      MgrPortGroup *pg = g_hash_table_lookup (mgr->port_groups, p->pg_uuid);
      g_autofree gchar *host = g_steal_pointer (&p->host);
      g_hash_table_insert (mgr->ports, p->key, p);
      g_hash_table_insert (sw->ports, p->key, p);
      g_hash_table_insert (pg->ports, p->key, p);
      dvs_mgr_port_set_host (mgr, p, host);
      dvs_mgr_dbus_port (mgr, p);
    }
  disown (im->new_ports);
}

static JsonNode *
build_report (Import *im)
{
  static const gchar *const what[] = { "added", "updated", "removed" };
  JsonBuilder *b = im->report;

  json_builder_begin_object (b);
  mgr_json_str (b, "switch", im->sw->uuid);
  mgr_json_str (b, "name", im->sw->name);
  mgr_json_str (b, "mode", mode_names[im->mode]);
  for (guint kind = 0; kind < 2; kind++)
    {
      GPtrArray **lists = kind == 0 ? im->r_groups : im->r_ports;
      json_builder_set_member_name (b, kind == 0 ? "port_groups" : "ports");
      json_builder_begin_object (b);
      for (guint w = 0; w < 3; w++)
        {
          json_builder_set_member_name (b, what[w]);
          json_builder_begin_array (b);
          for (guint i = 0; i < lists[w]->len; i++)
            json_builder_add_string_value (b, lists[w]->pdata[i]);
          json_builder_end_array (b);
        }
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "hosts_registered");
  json_builder_begin_array (b);
  for (guint i = 0; i < im->r_hosts->len; i++)
    json_builder_add_string_value (b, im->r_hosts->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "networks_created");
  json_builder_begin_array (b);
  for (guint i = 0; i < im->r_networks->len; i++)
    json_builder_add_string_value (b, im->r_networks->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
import_clear (Import *im)
{
  g_ptr_array_unref (im->problems);
  dvs_mgr_txn_free (im->txn);
  if (im->sw && im->mode != DVS_IMPORT_APPLY && !g_hash_table_contains (im->mgr->switches, im->sw->uuid))
    dvs_mgr_switch_free (im->sw);
  g_ptr_array_unref (im->new_groups);
  g_ptr_array_unref (im->new_ports);
  g_ptr_array_unref (im->new_hosts);
  g_ptr_array_unref (im->new_networks);
  g_hash_table_unref (im->group_map);
  g_hash_table_unref (im->key_map);
  g_ptr_array_unref (im->group_updates);
  g_ptr_array_unref (im->port_updates);
  g_ptr_array_unref (im->group_removals);
  g_ptr_array_unref (im->port_removals);
  g_object_unref (im->report);
  for (guint i = 0; i < 3; i++)
    {
      g_ptr_array_unref (im->r_groups[i]);
      g_ptr_array_unref (im->r_ports[i]);
    }
  g_ptr_array_unref (im->r_hosts);
  g_ptr_array_unref (im->r_networks);
}

MgrSwitch *
dvs_snapshot_import (DvsMgr *mgr, const DvsSnapshot *snap, DvsImportMode mode, const gchar *name,
                     const gchar *target_uuid, JsonNode **report, GError **error)
{
  Import im = { 0 };
  MgrSwitch *target = NULL, *result = NULL;
  const gchar *new_name = mode == DVS_IMPORT_NEW ? name : snap->name;
  g_autoptr (GError) local = NULL;

  im.mgr = mgr;
  im.snap = snap;
  im.mode = mode;
  im.problems = g_ptr_array_new_with_free_func (g_free);
  im.txn = dvs_mgr_txn_new ();
  im.new_groups = g_ptr_array_new_with_free_func ((GDestroyNotify) dvs_mgr_port_group_free);
  im.new_ports = g_ptr_array_new_with_free_func ((GDestroyNotify) dvs_mgr_port_free);
  im.new_hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) dvs_mgr_host_free);
  im.new_networks = g_ptr_array_new_with_free_func ((GDestroyNotify) dvs_mgr_network_free);
  im.group_map = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  im.key_map = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  im.group_updates = g_ptr_array_new ();
  im.port_updates = g_ptr_array_new ();
  im.group_removals = g_ptr_array_new ();
  im.port_removals = g_ptr_array_new ();
  im.report = json_builder_new ();
  for (guint i = 0; i < 3; i++)
    {
      im.r_groups[i] = g_ptr_array_new_with_free_func (g_free);
      im.r_ports[i] = g_ptr_array_new_with_free_func (g_free);
    }
  im.r_hosts = g_ptr_array_new_with_free_func (g_free);
  im.r_networks = g_ptr_array_new_with_free_func (g_free);

  if (mode == DVS_IMPORT_NEW && (new_name == NULL || *new_name == '\0' || strlen (new_name) > 64))
    add_problem (&im, DVS_MGR_ERROR_INVALID_ARGS, "mode new needs a name for the new DVswitch "
                 "(option \"name\", 1-64 characters)");
  else if (mode == DVS_IMPORT_APPLY)
    {
      const gchar *t = target_uuid && *target_uuid ? target_uuid : snap->uuid;
      target = g_hash_table_lookup (mgr->switches, t);
      if (target == NULL)
        add_problem (&im, DVS_MGR_ERROR_NOT_FOUND, "no DVswitch with UUID %s to apply the document "
                     "to; to create it, import with mode recreate", t);
      else
        check_apply (&im, target);
    }
  else
    check_new_switch (&im, new_name);

  if (im.problems->len == 0)
    {
      if (mode == DVS_IMPORT_APPLY)
        build_apply (&im, target);
      else
        build_new_switch (&im, new_name);
      if (!dvs_mgr_store_commit (mgr->store, im.txn, &local))
        add_problem (&im, DVS_MGR_ERROR_FAILED, "the manager's store refused the import, nothing "
                     "was changed: %s", local->message);
    }
  if (im.problems->len > 0)
    {
      g_autoptr (GString) msg = g_string_new ("the document cannot be imported");
      for (guint i = 0; i < im.problems->len; i++)
        g_string_append_printf (msg, "%s%s", i ? "\n- " : ":\n- ", (gchar *) im.problems->pdata[i]);
      g_set_error_literal (error, DVS_MGR_ERROR, im.code, msg->str);
      g_info ("import (mode %s) refused: %u problem(s)", mode_names[mode], im.problems->len);
      import_clear (&im);
      return NULL;
    }
  if (mode == DVS_IMPORT_APPLY)
    commit_apply (&im);
  insert_new (&im);
  result = im.sw;
  if (report)
    *report = build_report (&im);
  DVS_LOG_KV (G_LOG_LEVEL_INFO, "SWITCH", result->uuid, "imported DVswitch '%s' (mode %s): "
              "%u port groups, %u ports added, %u/%u updated, %u/%u removed", result->name,
              mode_names[mode], im.r_groups[0]->len, im.r_ports[0]->len, im.r_groups[1]->len,
              im.r_ports[1]->len, im.r_groups[2]->len, im.r_ports[2]->len);
  dvs_mgr_dbus_switch (mgr, result);
  {
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init (&it, result->port_groups);
    while (g_hash_table_iter_next (&it, NULL, &v))
      dvs_mgr_dbus_port_group (mgr, v);
  }
  for (guint i = 0; i < result->hosts->len; i++)
    {
      MgrHost *h = g_hash_table_lookup (mgr->hosts, result->hosts->pdata[i]);
      if (h)
        dvs_mgr_dbus_host (mgr, h);
    }
  if (mgr->push)
    mgr_push_mark (mgr->push, result, NULL);
  dvs_mgr_snapshot_changed (mgr, result);
  import_clear (&im);
  return result;
}
