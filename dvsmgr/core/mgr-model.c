/* The manager's objects: their store form, loading them at start-up, and
 * the final-state document each host is pushed. */
#define G_LOG_DOMAIN "dvsmgr-model"

#include "mgr.h"
#include "core/mgr-json.h"
#include "placement/placement.h"

#include <string.h>
#include "dvport/dvport-spec.h"
#include "dvs-jsonrpc.h"

G_DEFINE_QUARK (dvs-mgr-error-quark, dvs_mgr_error)

static const GDBusErrorEntry error_entries[] = {
  { DVS_MGR_ERROR_INVALID_ARGS, "net.dvsqemu.Error.InvalidArgs" },
  { DVS_MGR_ERROR_NOT_FOUND, "net.dvsqemu.Error.NotFound" },
  { DVS_MGR_ERROR_EXISTS, "net.dvsqemu.Error.Exists" },
  { DVS_MGR_ERROR_BUSY, "net.dvsqemu.Error.Busy" },
  { DVS_MGR_ERROR_NOT_AUTHORIZED, "net.dvsqemu.Error.NotAuthorized" },
  { DVS_MGR_ERROR_HOST_UNREACHABLE, "net.dvsqemu.Error.HostUnreachable" },
  { DVS_MGR_ERROR_FAILED, "net.dvsqemu.Error.Failed" },
};

static void
register_errors (void)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      for (guint i = 0; i < G_N_ELEMENTS (error_entries); i++)
        g_dbus_error_register_error (DVS_MGR_ERROR, error_entries[i].error_code,
                                     error_entries[i].dbus_error_name);
      g_once_init_leave (&once, 1);
    }
}

/* ---- freeing ---------------------------------------------------------- */

void
dvs_mgr_switch_free (MgrSwitch *sw)
{
  g_free (sw->uuid);
  g_free (sw->name);
  g_free (sw->forwarding_class);
  g_free (sw->transport_zone);
  g_ptr_array_unref (sw->hosts);
  g_hash_table_unref (sw->port_groups);
  g_hash_table_unref (sw->ports);
  g_hash_table_unref (sw->by_host);
  g_hash_table_unref (sw->incoming);
  g_clear_object (&sw->object);
  g_free (sw);
}

void
dvs_mgr_port_group_free (MgrPortGroup *pg)
{
  g_free (pg->uuid);
  g_free (pg->name);
  g_free (pg->switch_uuid);
  if (pg->config)
    json_node_unref (pg->config);
  g_hash_table_unref (pg->ports);
  g_clear_object (&pg->object);
  g_free (pg->network);
  g_free (pg);
}

void
dvs_mgr_port_free (MgrPort *p)
{
  g_free (p->key);
  g_free (p->switch_uuid);
  g_free (p->pg_uuid);
  if (p->config)
    json_node_unref (p->config);
  g_free (p->host);
  g_free (p->connection);
  g_free (p->vm);
  g_free (p->mac);
  g_free (p->iface);
  g_free (p->link);
  if (p->stats)
    json_node_unref (p->stats);
  if (p->checkpoint)
    json_node_unref (p->checkpoint);
  g_free (p->incoming);
  if (p->incoming_state)
    json_node_unref (p->incoming_state);
  g_clear_object (&p->object);
  g_free (p);
}

void
dvs_mgr_host_free (MgrHost *h)
{
  g_free (h->name);
  g_free (h->libvirt_uri);
  g_ptr_array_unref (h->uplinks);
  g_ptr_array_unref (h->transport_zones);
  g_clear_pointer (&h->peer, dvs_rpc_peer_unref);
  g_free (h->transport);
  g_free (h->address);
  g_clear_object (&h->object);
  g_clear_pointer (&h->hidden_networks, g_ptr_array_unref);
  g_free (h->migration_uri);
  g_free (h);
}

void
dvs_mgr_network_free (MgrNetwork *n)
{
  g_free (n->uuid);
  g_free (n->name);
  g_free (n->type);
  g_free (n->transport_zone);
  g_clear_object (&n->object);
  g_free (n);
}

/* ---- lookups ---------------------------------------------------------- */

static gpointer
lookup (GHashTable *t, const gchar *key, const gchar *what, GError **error)
{
  gpointer v = key ? g_hash_table_lookup (t, key) : NULL;

  if (v == NULL)
    g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND, "no %s '%s'", what,
                 key ? key : "");
  return v;
}

MgrSwitch *
dvs_mgr_switch_lookup (DvsMgr *mgr, const gchar *uuid, GError **error)
{
  return lookup (mgr->switches, uuid, "DVswitch", error);
}

MgrPortGroup *
dvs_mgr_port_group_lookup (DvsMgr *mgr, const gchar *uuid, GError **error)
{
  return lookup (mgr->port_groups, uuid, "port group", error);
}

MgrPort *
dvs_mgr_port_lookup (DvsMgr *mgr, const gchar *key, GError **error)
{
  return lookup (mgr->ports, key, "DVport", error);
}

MgrHost *
dvs_mgr_host_lookup (DvsMgr *mgr, const gchar *name, GError **error)
{
  MgrHost *h = g_hash_table_lookup (mgr->hosts, name ? name : "");

  if (h == NULL)
    g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND,
                 "no host '%s' is registered (dvsctl host register NAME)", name ? name : "");
  return h;
}

gboolean
dvs_mgr_host_name_valid (const gchar *name)
{
  gsize len = strlen (name);

  return len >= 1 && len <= 64
    && strspn (name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_") == len;
}

MgrSwitch *
dvs_mgr_switch_by_name (DvsMgr *mgr, const gchar *name)
{
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (g_str_equal (((MgrSwitch *) v)->name, name))
      return v;
  return NULL;
}

gboolean
dvs_mgr_switch_has_host (MgrSwitch *sw, const gchar *host)
{
  for (guint i = 0; i < sw->hosts->len; i++)
    if (g_str_equal (sw->hosts->pdata[i], host))
      return TRUE;
  return FALSE;
}

/* ---- store form ------------------------------------------------------- */

JsonNode *
dvs_mgr_switch_to_store (MgrSwitch *sw)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  mgr_json_str (b, "name", sw->name);
  mgr_json_str (b, "forwarding_class", sw->forwarding_class);
  mgr_json_int (b, "mtu", sw->mtu);
  mgr_json_str (b, "transport_zone", sw->transport_zone);
  mgr_json_strv (b, "hosts", sw->hosts);
  mgr_json_int (b, "generation", (gint64) sw->generation);
  mgr_json_int (b, "next_port", (gint64) sw->next_port);
  json_builder_set_member_name (b, "history");
  json_builder_begin_object (b);
  mgr_json_bool (b, "auto", sw->history_auto);
  mgr_json_int (b, "keep", sw->history_keep);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
dvs_mgr_port_group_to_store (MgrPortGroup *pg)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  mgr_json_str (b, "switch", pg->switch_uuid);
  mgr_json_str (b, "name", pg->name);
  mgr_json_copy (b, "config", pg->config);
  if (pg->network)
    mgr_json_str (b, "network", pg->network);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
dvs_mgr_port_to_store (MgrPort *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  mgr_json_str (b, "switch", p->switch_uuid);
  mgr_json_str (b, "port_group", p->pg_uuid);
  mgr_json_copy (b, "config", p->config);
  mgr_json_str (b, "host", p->host);
  mgr_json_str (b, "connection", p->connection);
  mgr_json_str (b, "vm", p->vm);
  mgr_json_str (b, "mac", p->mac);
  mgr_json_str (b, "interface", p->iface);
  mgr_json_bool (b, "handover", p->handover);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
dvs_mgr_port_state_to_store (MgrPort *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  mgr_json_str (b, "link", p->link);
  mgr_json_copy (b, "stats", p->stats);
  mgr_json_int (b, "time", p->stats_time);
  mgr_json_copy (b, "checkpoint", p->checkpoint);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
dvs_mgr_host_to_store (MgrHost *h)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  mgr_json_str (b, "libvirt_uri", h->libvirt_uri);
  mgr_json_strv (b, "uplinks", h->uplinks);
  mgr_json_strv (b, "transport_zones", h->transport_zones);
  mgr_json_int (b, "last_seen", h->last_seen);
  if (h->hidden_networks && h->hidden_networks->len)
    mgr_json_strv (b, "hidden_networks", h->hidden_networks);
  if (h->migration_uri)
    mgr_json_str (b, "migration_uri", h->migration_uri);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
dvs_mgr_network_to_store (MgrNetwork *n)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  mgr_json_str (b, "name", n->name);
  mgr_json_str (b, "type", n->type);
  mgr_json_int (b, "segment", n->segment);
  mgr_json_str (b, "transport_zone", n->transport_zone);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- loading ---------------------------------------------------------- */

/* json_node_init_object() takes its own reference. */
JsonNode *
dvs_mgr_empty_object (void)
{
  g_autoptr (JsonObject) o = json_object_new ();

  return json_node_init_object (json_node_alloc (), o);
}

static const gchar *
str_member (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && json_node_get_value_type (n) == G_TYPE_STRING ? json_node_get_string (n) : NULL;
}

static gint64
int_member (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);

  return n && json_node_get_value_type (n) == G_TYPE_INT64 ? json_node_get_int (n) : 0;
}

static GPtrArray *
strv_member (JsonObject *o, const gchar *name)
{
  GPtrArray *a = g_ptr_array_new_with_free_func (g_free);
  JsonNode *n = json_object_get_member (o, name);

  if (n && JSON_NODE_HOLDS_ARRAY (n))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (n)); i++)
      {
        JsonNode *e = json_array_get_element (json_node_get_array (n), i);
        if (json_node_get_value_type (e) == G_TYPE_STRING)
          g_ptr_array_add (a, g_strdup (json_node_get_string (e)));
      }
  return a;
}

MgrSwitch *
dvs_mgr_switch_alloc (const gchar *uuid)
{
  MgrSwitch *sw = g_new0 (MgrSwitch, 1);

  sw->uuid = g_strdup (uuid);
  sw->hosts = g_ptr_array_new_with_free_func (g_free);
  sw->port_groups = g_hash_table_new (g_str_hash, g_str_equal);
  sw->ports = g_hash_table_new (g_str_hash, g_str_equal);
  sw->by_host = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_hash_table_unref);
  sw->incoming = g_hash_table_new (g_str_hash, g_str_equal);
  return sw;
}

typedef struct {
  DvsMgr *mgr;
  GError *error;
} LoadCtx;

static void
load_switch (const gchar *kind, const gchar *key, JsonNode *value, gpointer data)
{
  LoadCtx *ctx = data;
  JsonObject *o = json_node_get_object (value);
  MgrSwitch *sw = dvs_mgr_switch_alloc (key);

  sw->name = g_strdup (str_member (o, "name") ?: key);
  sw->forwarding_class = g_strdup (str_member (o, "forwarding_class") ?: "l2-learning");
  sw->mtu = (guint) int_member (o, "mtu");
  sw->transport_zone = g_strdup (str_member (o, "transport_zone") ?: "");
  g_ptr_array_unref (sw->hosts);
  sw->hosts = strv_member (o, "hosts");
  sw->generation = (guint64) int_member (o, "generation");
  sw->next_port = (guint64) int_member (o, "next_port");
  if (json_object_has_member (o, "history") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "history")))
    {
      JsonObject *hist = json_object_get_object_member (o, "history");
      JsonNode *a = json_object_get_member (hist, "auto");
      sw->history_auto = a && json_node_get_value_type (a) == G_TYPE_BOOLEAN && json_node_get_boolean (a);
      sw->history_keep = (guint) CLAMP (int_member (hist, "keep"), 0, G_MAXUINT);
    }
  g_hash_table_insert (ctx->mgr->switches, sw->uuid, sw);
}

static void
load_port_group (const gchar *kind, const gchar *key, JsonNode *value, gpointer data)
{
  LoadCtx *ctx = data;
  JsonObject *o = json_node_get_object (value);
  MgrSwitch *sw = g_hash_table_lookup (ctx->mgr->switches, str_member (o, "switch") ?: "");
  MgrPortGroup *pg;

  if (sw == NULL)
    {
      g_warning ("store: port group %s names a DVswitch that does not exist; ignored", key);
      return;
    }
  pg = g_new0 (MgrPortGroup, 1);
  pg->uuid = g_strdup (key);
  pg->name = g_strdup (str_member (o, "name") ?: key);
  pg->switch_uuid = g_strdup (sw->uuid);
  pg->config = json_object_has_member (o, "config") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "config"))
    ? json_node_copy (json_object_get_member (o, "config"))
    : dvs_mgr_empty_object ();
  pg->ports = g_hash_table_new (g_str_hash, g_str_equal);
  pg->network = g_strdup (str_member (o, "network"));
  g_hash_table_insert (ctx->mgr->port_groups, pg->uuid, pg);
  g_hash_table_insert (sw->port_groups, pg->uuid, pg);
}

static gchar *
dup_member (JsonObject *o, const gchar *name)
{
  return g_strdup (str_member (o, name));
}

static void
load_port (const gchar *kind, const gchar *key, JsonNode *value, gpointer data)
{
  LoadCtx *ctx = data;
  JsonObject *o = json_node_get_object (value);
  MgrSwitch *sw = g_hash_table_lookup (ctx->mgr->switches, str_member (o, "switch") ?: "");
  MgrPortGroup *pg = g_hash_table_lookup (ctx->mgr->port_groups, str_member (o, "port_group") ?: "");
  MgrPort *p;
  JsonNode *c = json_object_get_member (o, "config");
  g_autofree gchar *host = dup_member (o, "host");

  if (sw == NULL || pg == NULL)
    {
      g_warning ("store: DVport %s names a DVswitch or port group that does not exist; ignored", key);
      return;
    }
  p = g_new0 (MgrPort, 1);
  p->key = g_strdup (key);
  p->switch_uuid = g_strdup (sw->uuid);
  p->pg_uuid = g_strdup (pg->uuid);
  p->config = c && JSON_NODE_HOLDS_OBJECT (c) ? json_node_copy (c) : NULL;
  p->connection = dup_member (o, "connection");
  p->vm = dup_member (o, "vm");
  p->mac = dup_member (o, "mac");
  p->iface = dup_member (o, "interface");
  p->handover = json_object_get_boolean_member_with_default (o, "handover", FALSE);
  p->link = g_strdup ("unknown");
  g_hash_table_insert (ctx->mgr->ports, p->key, p);
  g_hash_table_insert (sw->ports, p->key, p);
  g_hash_table_insert (pg->ports, p->key, p);
  dvs_mgr_port_set_host (ctx->mgr, p, host);
}

static void
load_port_state (const gchar *kind, const gchar *key, JsonNode *value, gpointer data)
{
  LoadCtx *ctx = data;
  JsonObject *o = json_node_get_object (value);
  MgrPort *p = g_hash_table_lookup (ctx->mgr->ports, key);
  JsonNode *s = json_object_get_member (o, "stats");

  if (p == NULL)
    return;
  g_free (p->link);
  p->link = g_strdup (str_member (o, "link") ?: "unknown");
  if (s && JSON_NODE_HOLDS_OBJECT (s))
    p->stats = json_node_copy (s);
  p->stats_time = int_member (o, "time");
  s = json_object_get_member (o, "checkpoint");
  if (s && JSON_NODE_HOLDS_OBJECT (s))
    p->checkpoint = json_node_copy (s);
}

MgrHost *
dvs_mgr_host_alloc (const gchar *name)
{
  MgrHost *h = g_new0 (MgrHost, 1);

  h->name = g_strdup (name);
  h->uplinks = g_ptr_array_new_with_free_func (g_free);
  h->transport_zones = g_ptr_array_new_with_free_func (g_free);
  return h;
}

static void
load_host (const gchar *kind, const gchar *key, JsonNode *value, gpointer data)
{
  LoadCtx *ctx = data;
  JsonObject *o = json_node_get_object (value);
  MgrHost *h = dvs_mgr_host_alloc (key);

  h->libvirt_uri = dup_member (o, "libvirt_uri");
  g_ptr_array_unref (h->uplinks);
  h->uplinks = strv_member (o, "uplinks");
  g_ptr_array_unref (h->transport_zones);
  h->transport_zones = strv_member (o, "transport_zones");
  h->last_seen = int_member (o, "last_seen");
  /* Older records have no hidden_networks: none hidden. */
  h->hidden_networks = strv_member (o, "hidden_networks");
  h->migration_uri = dup_member (o, "migration_uri");
  g_hash_table_insert (ctx->mgr->hosts, h->name, h);
}

static void
load_network (const gchar *kind, const gchar *key, JsonNode *value, gpointer data)
{
  LoadCtx *ctx = data;
  JsonObject *o = json_node_get_object (value);
  MgrNetwork *n = g_new0 (MgrNetwork, 1);

  n->uuid = g_strdup (key);
  n->name = g_strdup (str_member (o, "name") ?: key);
  n->type = g_strdup (str_member (o, "type") ?: "vlan");
  n->segment = (guint) int_member (o, "segment");
  n->transport_zone = g_strdup (str_member (o, "transport_zone") ?: "");
  g_hash_table_insert (ctx->mgr->networks, n->uuid, n);
}

static void
load_meta (const gchar *kind, const gchar *key, JsonNode *value, gpointer data)
{
  LoadCtx *ctx = data;

  if (g_str_equal (key, "manager"))
    {
      const gchar *u = str_member (json_node_get_object (value), "uuid");
      if (u)
        {
          g_free (ctx->mgr->manager_uuid);
          ctx->mgr->manager_uuid = g_strdup (u);
        }
    }
}

DvsMgr *
dvs_mgr_new (DvsMgrStore *store, GError **error)
{
  static const struct {
    const gchar *kind;
    DvsMgrStoreRowFunc func;
  } kinds[] = {
    { "meta", load_meta },
    { "switch", load_switch },
    { "portgroup", load_port_group },
    { "port", load_port },
    { "port_state", load_port_state },
    { "host", load_host },
    { "network", load_network },
  };
  DvsMgr *mgr = g_new0 (DvsMgr, 1);
  LoadCtx ctx = { mgr, NULL };

  register_errors ();
  mgr->store = store;
  mgr->switches = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dvs_mgr_switch_free);
  mgr->port_groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dvs_mgr_port_group_free);
  mgr->ports = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dvs_mgr_port_free);
  mgr->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dvs_mgr_host_free);
  mgr->networks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) dvs_mgr_network_free);
  mgr->polkit = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (!dvs_mgr_store_load (store, kinds[i].kind, kinds[i].func, &ctx, error))
      {
        dvs_mgr_free (mgr);
        return NULL;
      }
  if (mgr->manager_uuid == NULL)
    {
      g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) meta = NULL;

      mgr->manager_uuid = g_uuid_string_random ();
      json_builder_begin_object (b);
      mgr_json_str (b, "uuid", mgr->manager_uuid);
      json_builder_end_object (b);
      meta = json_builder_get_root (b);
      dvs_mgr_txn_put (txn, "meta", "manager", meta);
      if (!dvs_mgr_store_commit (store, txn, error))
        {
          dvs_mgr_free (mgr);
          return NULL;
        }
    }
  g_info ("store loaded: %u DVswitches, %u port groups, %u DVports, %u hosts, %u networks",
          g_hash_table_size (mgr->switches), g_hash_table_size (mgr->port_groups),
          g_hash_table_size (mgr->ports), g_hash_table_size (mgr->hosts),
          g_hash_table_size (mgr->networks));
  return mgr;
}

void
dvs_mgr_free (DvsMgr *mgr)
{
  if (mgr == NULL)
    return;
  /* Ports before groups before switches: the indexes hold borrowed pointers. */
  g_hash_table_unref (mgr->ports);
  g_hash_table_unref (mgr->port_groups);
  g_hash_table_unref (mgr->switches);
  g_hash_table_unref (mgr->hosts);
  g_hash_table_unref (mgr->networks);
  dvs_mgr_placement_free (mgr->placement);
  g_clear_object (&mgr->manager_iface);
  g_clear_object (&mgr->objects);
  g_clear_object (&mgr->bus);
  g_free (mgr->manager_uuid);
  g_free (mgr);
}

void
dvs_mgr_port_set_host (DvsMgr *mgr, MgrPort *p, const gchar *host)
{
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  GHashTable *set;

  if (g_strcmp0 (p->host, host) == 0)
    return;
  if (p->host && (set = g_hash_table_lookup (sw->by_host, p->host)))
    {
      g_hash_table_remove (set, p->key);
      if (g_hash_table_size (set) == 0)
        g_hash_table_remove (sw->by_host, p->host);
    }
  g_free (p->host);
  p->host = g_strdup (host);
  if (host)
    {
      set = g_hash_table_lookup (sw->by_host, host);
      if (set == NULL)
        {
          set = g_hash_table_new (g_str_hash, g_str_equal);
          g_hash_table_insert (sw->by_host, g_strdup (host), set);
        }
      g_hash_table_insert (set, p->key, p);
    }
}

/* ---- documents -------------------------------------------------------- */

static gint
compare_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Port keys sort by their number within a switch, so "x-9" < "x-10". */
static gint
compare_port_key (gconstpointer a, gconstpointer b)
{
  const gchar *ka = *(const gchar *const *) a, *kb = *(const gchar *const *) b;
  gsize la = strlen (ka), lb = strlen (kb);

  return la != lb ? (la < lb ? -1 : 1) : strcmp (ka, kb);
}

GPtrArray *
dvs_mgr_sorted_values (GHashTable *table, gboolean port_keys)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  GPtrArray *values = g_ptr_array_new ();
  GHashTableIter it;
  gpointer k;

  if (table)
    {
      g_hash_table_iter_init (&it, table);
      while (g_hash_table_iter_next (&it, &k, NULL))
        g_ptr_array_add (keys, k);
    }
  g_ptr_array_sort (keys, port_keys ? compare_port_key : compare_str);
  for (guint i = 0; i < keys->len; i++)
    g_ptr_array_add (values, g_hash_table_lookup (table, keys->pdata[i]));
  return values;
}

void
dvs_mgr_json_port_groups (JsonBuilder *b, GPtrArray *groups, const gchar *id_member)
{
  json_builder_set_member_name (b, "port_groups");
  json_builder_begin_array (b);
  for (guint i = 0; i < groups->len; i++)
    {
      MgrPortGroup *pg = groups->pdata[i];
      json_builder_begin_object (b);
      mgr_json_str (b, id_member, pg->uuid);
      mgr_json_str (b, "name", pg->name);
      mgr_json_copy (b, "config", pg->config);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

void
dvs_mgr_json_port_begin (JsonBuilder *b, MgrPort *p)
{
  json_builder_begin_object (b);
  mgr_json_str (b, "key", p->key);
  mgr_json_str (b, "port_group", p->pg_uuid);
  if (p->config)
    mgr_json_copy (b, "config", p->config);
}

JsonNode *
dvs_mgr_host_document (DvsMgr *mgr, MgrSwitch *sw, const gchar *host)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GHashTable *set = host ? g_hash_table_lookup (sw->by_host, host) : NULL;
  g_autoptr (GPtrArray) groups = dvs_mgr_sorted_values (sw->port_groups, FALSE);
  g_autoptr (GPtrArray) ports = NULL;
  g_autoptr (GHashTable) with_incoming = NULL;
  GHashTableIter it;
  gpointer v;

  /* Ports migrating live to @host are in its document too, marked. */
  g_hash_table_iter_init (&it, sw->incoming);
  while (host && g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrPort *p = v;
      if (g_strcmp0 (p->incoming, host) != 0)
        continue;
      if (with_incoming == NULL)
        {
          with_incoming = g_hash_table_new (g_str_hash, g_str_equal);
          if (set != NULL)
            {
              GHashTableIter own;
              gpointer k, ov;
              g_hash_table_iter_init (&own, set);
              while (g_hash_table_iter_next (&own, &k, &ov))
                g_hash_table_insert (with_incoming, k, ov);
            }
        }
      g_hash_table_insert (with_incoming, p->key, p);
    }
  ports = dvs_mgr_sorted_values (with_incoming ? with_incoming : set, TRUE);

  json_builder_begin_object (b);
  mgr_json_str (b, "id", sw->uuid);
  mgr_json_str (b, "name", sw->name);
  mgr_json_str (b, "forwarding_class", sw->forwarding_class);
  mgr_json_int (b, "mtu", sw->mtu);
  dvs_mgr_json_port_groups (b, groups, "key");
  json_builder_set_member_name (b, "ports");
  json_builder_begin_array (b);
  for (guint i = 0; i < ports->len; i++)
    {
      MgrPort *p = ports->pdata[i];
      dvs_mgr_json_port_begin (b, p);
      json_builder_set_member_name (b, "connection");
      if (p->connection)
        {
          json_builder_begin_object (b);
          mgr_json_str (b, "id", p->connection);
          if (p->vm)
            mgr_json_str (b, "vm", p->vm);
          if (p->mac)
            mgr_json_str (b, "mac", p->mac);
          json_builder_end_object (b);
          /* Moved here: its state comes along until this host has it. */
          if (p->handover && p->checkpoint && g_strcmp0 (p->host, host) == 0)
            mgr_json_copy (b, "state", p->checkpoint);
          /* Migrating here live: the owner's state once it stopped. */
          if (p->incoming && g_strcmp0 (p->incoming, host) == 0)
            {
              if (p->incoming_state)
                mgr_json_copy (b, "state", p->incoming_state);
              json_builder_set_member_name (b, "migration");
              json_builder_begin_object (b);
              mgr_json_str (b, "from", p->host);
              json_builder_end_object (b);
            }
        }
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gchar *
dvs_mgr_document_digest (JsonNode *doc, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (DvsDvswitchSpec) spec = dvs_dvswitch_spec_parse (doc, &local);

  if (spec == NULL)
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS,
                   "the host would refuse this configuration: %s", local->message);
      return NULL;
    }
  return dvs_dvswitch_spec_digest (spec);
}

gchar *
dvs_mgr_new_port_key (MgrSwitch *sw)
{
  return g_strdup_printf ("%.8s-%" G_GUINT64_FORMAT, sw->uuid, sw->next_port++);
}

JsonNode *
dvs_mgr_parse_object (const gchar *text, const gchar *what, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;

  if (text == NULL || *text == '\0')
    return dvs_mgr_empty_object ();
  if (strlen (text) > 1024 * 1024)
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS,
                   "%s is longer than 1 MiB", what);
      return NULL;
    }
  if (!dvs_jsonrpc_check_text (text, strlen (text), what, &local)
      || !json_parser_load_from_data (parser, text, -1, &local))
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS,
                   "%s is not valid JSON: %s", what, local->message);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS,
                   "%s must be a JSON object", what);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

gboolean
dvs_mgr_check_port_config (JsonNode *config, const gchar *what, GError **error)
{
  /* A throw-away document with one port group and one port: the host's own
   * parser checks vlan and policy exactly as the host will. */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) doc = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (DvsDvswitchSpec) spec = NULL;

  json_builder_begin_object (b);
  mgr_json_str (b, "id", "check");
  mgr_json_str (b, "name", "check");
  json_builder_set_member_name (b, "port_groups");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  mgr_json_str (b, "key", "g");
  mgr_json_copy (b, "config", config);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "ports");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  mgr_json_str (b, "key", "p");
  mgr_json_str (b, "port_group", "g");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  doc = json_builder_get_root (b);
  spec = dvs_dvswitch_spec_parse (doc, &local);
  if (spec == NULL)
    {
      g_autofree gchar *msg = NULL;
      /* The host's messages name its document's members; say whose config. */
      msg = g_strdup (local->message);
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS, "%s: %s", what, msg);
      return FALSE;
    }
  return TRUE;
}
