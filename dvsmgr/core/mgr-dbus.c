/* The D-Bus face of the model (dbus/net.dvsqemu.Manager1.xml): one object
 * per DVswitch, port group, DVport, host and network under an object
 * manager, their properties kept in step with the model, and the methods.
 *
 * Every mutating method goes through dvs_mgr_authorize() (polkit) and then
 * an operation of mgr-ops.c; its arguments are read again from the
 * invocation once authorized, and the target object is looked up again by
 * its key (it may have gone while polkit was asked). */
#define G_LOG_DOMAIN "dvsmgr-dbus"

#include "mgr.h"
#include "placement/placement.h"
#include "dvs-json-write.h"

#include <string.h>

#define ACTION_CONFIGURE "net.dvsqemu.configure"
#define ACTION_CONNECT "net.dvsqemu.connect"
#define ACTION_HOSTS "net.dvsqemu.hosts"

/* UUIDs and port keys (hex digits and '-') read best with '-' as '_';
 * anything else (host names) is escaped the standard way. */
static gchar *
object_path (const gchar *kind, const gchar *id)
{
  g_autofree gchar *escaped = NULL;

  if (*id && strspn (id, "0123456789abcdef-") == strlen (id))
    escaped = g_strdelimit (g_strdup (id), "-", '_');
  else
    escaped = g_dbus_escape_object_path (id);
  return g_strdup_printf (DVS_MGR_OBJECT_PATH "/%s/%s", kind, escaped);
}

static void
return_error (GDBusMethodInvocation *inv, GError *error)
{
  g_dbus_method_invocation_return_gerror (inv, error);
  g_error_free (error);
}

static const gchar *
sender_of (GDBusMethodInvocation *inv)
{
  return g_dbus_method_invocation_get_sender (inv) ?: "?";
}

static void
log_refused (GDBusMethodInvocation *inv, const GError *error)
{
  g_info ("%s.%s from %s refused: %s", g_dbus_method_invocation_get_interface_name (inv),
          g_dbus_method_invocation_get_method_name (inv), sender_of (inv), error->message);
}

/* Ends @inv with @error (logged) or with @value. */
static void
finish (GDBusMethodInvocation *inv, GError *error, GVariant *value)
{
  if (error)
    {
      log_refused (inv, error);
      return_error (inv, error);
    }
  else
    g_dbus_method_invocation_return_value (inv, value);
}

/* ---- property refresh ------------------------------------------------- */

static void
export_object (DvsMgr *mgr, DvsObjectSkeleton *obj)
{
  g_dbus_object_manager_server_export (mgr->objects, G_DBUS_OBJECT_SKELETON (obj));
}

void
dvs_mgr_dbus_unexport (DvsMgr *mgr, DvsObjectSkeleton **object)
{
  if (*object == NULL)
    return;
  if (mgr->objects)
    g_dbus_object_manager_server_unexport (mgr->objects,
                                           g_dbus_object_get_object_path (G_DBUS_OBJECT (*object)));
  g_clear_object (object);
}

static gchar *
to_json (JsonNode *n)
{
  return n ? dvs_json_write (n, FALSE) : g_strdup ("{}");
}

static const gchar *const *
strv_of (GPtrArray *a, GPtrArray *holder)
{
  for (guint i = 0; a && i < a->len; i++)
    g_ptr_array_add (holder, a->pdata[i]);
  g_ptr_array_add (holder, NULL);
  return (const gchar *const *) holder->pdata;
}

static void on_object_methods (DvsMgr *mgr, DvsObjectSkeleton *obj);
/* snapshot/snapshot-dbus.c */
void dvs_mgr_dbus_snapshot_manager (DvsMgr *mgr, DvsManager1 *iface);
void dvs_mgr_dbus_snapshot_switch (DvsMgr *mgr, DvsSwitch1 *iface);

void
dvs_mgr_dbus_switch (DvsMgr *mgr, MgrSwitch *sw)
{
  DvsSwitch1 *iface;
  g_autoptr (GPtrArray) hosts = g_ptr_array_new ();
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it;
  gpointer v;
  gboolean fresh = FALSE;

  if (mgr->objects == NULL)
    return;
  if (sw->object == NULL)
    {
      g_autofree gchar *path = object_path ("switch", sw->uuid);
      sw->object = dvs_object_skeleton_new (path);
      iface = dvs_switch1_skeleton_new ();
      dvs_object_skeleton_set_switch1 (sw->object, iface);
      g_object_unref (iface);
      fresh = TRUE;
    }
  iface = dvs_object_peek_switch1 (DVS_OBJECT (sw->object));
  dvs_switch1_set_uuid (iface, sw->uuid);
  dvs_switch1_set_name (iface, sw->name);
  dvs_switch1_set_forwarding_class (iface, sw->forwarding_class);
  dvs_switch1_set_mtu (iface, sw->mtu);
  dvs_switch1_set_transport_zone (iface, sw->transport_zone);
  dvs_switch1_set_hosts (iface, strv_of (sw->hosts, hosts));
  g_hash_table_iter_init (&it, sw->port_groups);
  while (g_hash_table_iter_next (&it, NULL, &v))
    g_ptr_array_add (groups, object_path ("portgroup", ((MgrPortGroup *) v)->uuid));
  g_ptr_array_add (groups, NULL);
  dvs_switch1_set_port_groups (iface, (const gchar *const *) groups->pdata);
  dvs_switch1_set_generation (iface, sw->generation);
  dvs_switch1_set_history_auto (iface, sw->history_auto);
  dvs_switch1_set_history_keep (iface, sw->history_keep);
  if (fresh)
    {
      on_object_methods (mgr, sw->object);
      export_object (mgr, sw->object);
    }
}

void
dvs_mgr_dbus_port_group (DvsMgr *mgr, MgrPortGroup *pg)
{
  DvsPortGroup1 *iface;
  g_autofree gchar *config = NULL, *sw_path = NULL;
  GHashTableIter it;
  gpointer v;
  guint free_ports = 0;
  gboolean fresh = FALSE;

  if (mgr->objects == NULL || pg == NULL)
    return;
  if (pg->object == NULL)
    {
      g_autofree gchar *path = object_path ("portgroup", pg->uuid);
      pg->object = dvs_object_skeleton_new (path);
      iface = dvs_port_group1_skeleton_new ();
      dvs_object_skeleton_set_port_group1 (pg->object, iface);
      g_object_unref (iface);
      fresh = TRUE;
    }
  iface = dvs_object_peek_port_group1 (DVS_OBJECT (pg->object));
  config = to_json (pg->config);
  sw_path = object_path ("switch", pg->switch_uuid);
  g_hash_table_iter_init (&it, pg->ports);
  while (g_hash_table_iter_next (&it, NULL, &v))
    free_ports += ((MgrPort *) v)->connection == NULL;
  dvs_port_group1_set_uuid (iface, pg->uuid);
  dvs_port_group1_set_name (iface, pg->name);
  dvs_port_group1_set_switch (iface, sw_path);
  dvs_port_group1_set_config_json (iface, config);
  dvs_port_group1_set_num_ports (iface, g_hash_table_size (pg->ports));
  dvs_port_group1_set_free_ports (iface, free_ports);
  dvs_mgr_placement_dbus_port_group (mgr, pg, iface, fresh);
  if (fresh)
    {
      on_object_methods (mgr, pg->object);
      export_object (mgr, pg->object);
    }
}

void
dvs_mgr_dbus_port (DvsMgr *mgr, MgrPort *p)
{
  DvsPort1 *iface;
  g_autofree gchar *config = NULL, *stats = NULL, *sw_path = NULL, *pg_path = NULL;
  gboolean fresh = FALSE;

  if (mgr->objects == NULL)
    return;
  if (p->object == NULL)
    {
      g_autofree gchar *path = object_path ("port", p->key);
      p->object = dvs_object_skeleton_new (path);
      iface = dvs_port1_skeleton_new ();
      dvs_object_skeleton_set_port1 (p->object, iface);
      g_object_unref (iface);
      fresh = TRUE;
    }
  iface = dvs_object_peek_port1 (DVS_OBJECT (p->object));
  config = to_json (p->config);
  stats = to_json (p->stats);
  sw_path = object_path ("switch", p->switch_uuid);
  pg_path = object_path ("portgroup", p->pg_uuid);
  dvs_port1_set_key (iface, p->key);
  dvs_port1_set_switch (iface, sw_path);
  dvs_port1_set_port_group (iface, pg_path);
  dvs_port1_set_config_json (iface, config);
  dvs_port1_set_host (iface, p->host ?: "");
  dvs_port1_set_connection_id (iface, p->connection ?: "");
  dvs_port1_set_connectee_vm (iface, p->vm ?: "");
  dvs_port1_set_connectee_mac (iface, p->mac ?: "");
  dvs_port1_set_connectee_interface (iface, p->iface ?: "");
  dvs_port1_set_link (iface, p->link ?: "unknown");
  dvs_port1_set_stats_json (iface, stats);
  dvs_port1_set_stats_time (iface, p->stats_time);
  dvs_port1_set_migrating_to (iface, p->incoming ?: "");
  if (fresh)
    {
      on_object_methods (mgr, p->object);
      export_object (mgr, p->object);
    }
}

void
dvs_mgr_dbus_host (DvsMgr *mgr, MgrHost *h)
{
  DvsHost1 *iface;
  g_autoptr (GPtrArray) up = g_ptr_array_new (), tz = g_ptr_array_new ();
  g_autoptr (GPtrArray) sws = g_ptr_array_new ();
  GHashTableIter it;
  gpointer v;
  gboolean fresh = FALSE;

  if (mgr->objects == NULL)
    return;
  if (h->object == NULL)
    {
      g_autofree gchar *path = object_path ("host", h->name);
      h->object = dvs_object_skeleton_new (path);
      iface = dvs_host1_skeleton_new ();
      dvs_object_skeleton_set_host1 (h->object, iface);
      g_object_unref (iface);
      fresh = TRUE;
    }
  iface = dvs_object_peek_host1 (DVS_OBJECT (h->object));
  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (dvs_mgr_switch_has_host (v, h->name))
      g_ptr_array_add (sws, ((MgrSwitch *) v)->uuid);
  g_ptr_array_add (sws, NULL);
  dvs_host1_set_name (iface, h->name);
  dvs_host1_set_connected (iface, h->peer != NULL);
  dvs_host1_set_transport (iface, h->peer ? h->transport : "");
  dvs_host1_set_address (iface, h->peer && h->address ? h->address : "");
  dvs_host1_set_uplinks (iface, strv_of (h->uplinks, up));
  dvs_host1_set_transport_zones (iface, strv_of (h->transport_zones, tz));
  dvs_host1_set_switches (iface, (const gchar *const *) sws->pdata);
  dvs_host1_set_in_sync (iface, mgr->push ? mgr_push_host_in_sync (mgr->push, h->name) : FALSE);
  dvs_host1_set_libvirt_uri (iface, h->libvirt_uri ?: "");
  dvs_host1_set_last_seen (iface, h->last_seen);
  dvs_mgr_placement_dbus_host (mgr, h, iface, fresh);
  if (fresh)
    {
      on_object_methods (mgr, h->object);
      export_object (mgr, h->object);
    }
}

void
dvs_mgr_dbus_network (DvsMgr *mgr, MgrNetwork *n)
{
  DvsNetwork1 *iface;
  gboolean fresh = FALSE;

  if (mgr->objects == NULL)
    return;
  if (n->object == NULL)
    {
      g_autofree gchar *path = object_path ("network", n->uuid);
      n->object = dvs_object_skeleton_new (path);
      iface = dvs_network1_skeleton_new ();
      dvs_object_skeleton_set_network1 (n->object, iface);
      g_object_unref (iface);
      fresh = TRUE;
    }
  iface = dvs_object_peek_network1 (DVS_OBJECT (n->object));
  dvs_network1_set_uuid (iface, n->uuid);
  dvs_network1_set_name (iface, n->name);
  dvs_network1_set_type_ (iface, n->type);
  dvs_network1_set_segment (iface, n->segment);
  dvs_network1_set_transport_zone (iface, n->transport_zone);
  if (fresh)
    {
      on_object_methods (mgr, n->object);
      export_object (mgr, n->object);
    }
}

void
dvs_mgr_dbus_sync_count (DvsMgr *mgr)
{
  if (mgr->manager_iface && mgr->push)
    dvs_manager1_set_out_of_sync_count (mgr->manager_iface, mgr_push_out_of_sync_count (mgr->push));
}

/* ---- Manager1 --------------------------------------------------------- */

static void
do_create_switch (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *name, *config;
  GError *error = NULL;
  MgrSwitch *sw;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s&s)", &name, &config);
  sw = dvs_mgr_create_switch (mgr, name, config, &error);
  if (sw)
    {
      g_autofree gchar *path = object_path ("switch", sw->uuid);
      finish (inv, NULL, g_variant_new ("(os)", path, sw->uuid));
    }
  else
    finish (inv, error, NULL);
}

static void
do_register_host (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *name, *config;
  GError *error = NULL;
  MgrHost *h;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s&s)", &name, &config);
  h = dvs_mgr_register_host (mgr, name, config, &error);
  if (h)
    {
      g_autofree gchar *path = object_path ("host", h->name);
      finish (inv, NULL, g_variant_new ("(o)", path));
    }
  else
    finish (inv, error, NULL);
}

static void
do_create_network (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *name, *type, *tz;
  guint segment;
  GError *error = NULL;
  MgrNetwork *n;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s&su&s)", &name, &type, &segment, &tz);
  n = dvs_mgr_create_network (mgr, name, type, segment, tz, &error);
  if (n)
    {
      g_autofree gchar *path = object_path ("network", n->uuid);
      finish (inv, NULL, g_variant_new ("(os)", path, n->uuid));
    }
  else
    finish (inv, error, NULL);
}

static gboolean
on_create_switch (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *a, const gchar *b, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_create_switch, NULL);
  return TRUE;
}

static gboolean
on_register_host (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *a, const gchar *b, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_HOSTS, do_register_host, NULL);
  return TRUE;
}

static gboolean
on_create_network (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *a, const gchar *b,
                   guint c, const gchar *d, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_create_network, NULL);
  return TRUE;
}

static gboolean
on_get_out_of_sync (DvsManager1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  g_autoptr (JsonNode) entries = mgr_push_out_of_sync (mgr->push);
  g_autofree gchar *text = dvs_json_write (entries, FALSE);

  g_dbus_method_invocation_return_value (inv, g_variant_new ("(s)", text));
  return TRUE;
}

/* ---- Switch1 ---------------------------------------------------------- */

static void
do_switch_set_config (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *config;
  GError *error = NULL;
  MgrSwitch *sw = dvs_mgr_switch_lookup (mgr, key, &error);

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &config);
  if (sw)
    dvs_mgr_switch_set_config (mgr, sw, config, &error);
  finish (inv, error, NULL);
}

static void
do_add_port_group (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *name, *config;
  guint num;
  GError *error = NULL;
  MgrSwitch *sw = dvs_mgr_switch_lookup (mgr, key, &error);
  MgrPortGroup *pg = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s&su)", &name, &config, &num);
  if (sw)
    pg = dvs_mgr_add_port_group (mgr, sw, name, config, num, &error);
  if (pg)
    {
      g_autofree gchar *path = object_path ("portgroup", pg->uuid);
      finish (inv, NULL, g_variant_new ("(os)", path, pg->uuid));
    }
  else
    finish (inv, error, NULL);
}

static void
do_join_leave (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *host;
  GError *error = NULL;
  MgrSwitch *sw = dvs_mgr_switch_lookup (mgr, key, &error);
  gboolean join = g_str_equal (g_dbus_method_invocation_get_method_name (inv), "JoinHost");

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &host);
  if (sw)
    (join ? dvs_mgr_join_host : dvs_mgr_leave_host) (mgr, sw, host, &error);
  finish (inv, error, NULL);
}

static void
do_switch_delete (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  GError *error = NULL;
  MgrSwitch *sw = dvs_mgr_switch_lookup (mgr, key, &error);

  if (sw)
    dvs_mgr_delete_switch (mgr, sw, &error);
  finish (inv, error, NULL);
}

static gboolean
on_switch_set_config (DvsSwitch1 *i, GDBusMethodInvocation *inv, const gchar *a, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_switch_set_config, g_strdup (dvs_switch1_get_uuid (i)));
  return TRUE;
}

static gboolean
on_add_port_group (DvsSwitch1 *i, GDBusMethodInvocation *inv, const gchar *a, const gchar *b, guint c,
                   DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_add_port_group, g_strdup (dvs_switch1_get_uuid (i)));
  return TRUE;
}

static gboolean
on_join_leave (DvsSwitch1 *i, GDBusMethodInvocation *inv, const gchar *a, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_HOSTS, do_join_leave, g_strdup (dvs_switch1_get_uuid (i)));
  return TRUE;
}

static gboolean
on_switch_delete (DvsSwitch1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_switch_delete, g_strdup (dvs_switch1_get_uuid (i)));
  return TRUE;
}

/* ---- PortGroup1 ------------------------------------------------------- */

static void
do_pg_set_config (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *config;
  GError *error = NULL;
  MgrPortGroup *pg = dvs_mgr_port_group_lookup (mgr, key, &error);

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &config);
  if (pg)
    dvs_mgr_port_group_set_config (mgr, pg, config, &error);
  finish (inv, error, NULL);
}

static void
do_pg_add_ports (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  guint count;
  GError *error = NULL;
  MgrPortGroup *pg = dvs_mgr_port_group_lookup (mgr, key, &error);
  g_autoptr (GPtrArray) keys = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(u)", &count);
  if (pg)
    keys = dvs_mgr_port_group_add_ports (mgr, pg, count, &error);
  if (keys)
    {
      g_ptr_array_add (keys, NULL);
      finish (inv, NULL, g_variant_new ("(^as)", (gchar **) keys->pdata));
    }
  else
    finish (inv, error, NULL);
}

static void
do_pg_delete (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  GError *error = NULL;
  MgrPortGroup *pg = dvs_mgr_port_group_lookup (mgr, key, &error);

  if (pg)
    dvs_mgr_port_group_delete (mgr, pg, &error);
  finish (inv, error, NULL);
}

static gboolean
on_pg_set_config (DvsPortGroup1 *i, GDBusMethodInvocation *inv, const gchar *a, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_pg_set_config, g_strdup (dvs_port_group1_get_uuid (i)));
  return TRUE;
}

static gboolean
on_pg_add_ports (DvsPortGroup1 *i, GDBusMethodInvocation *inv, guint a, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_pg_add_ports, g_strdup (dvs_port_group1_get_uuid (i)));
  return TRUE;
}

static gboolean
on_pg_delete (DvsPortGroup1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_pg_delete, g_strdup (dvs_port_group1_get_uuid (i)));
  return TRUE;
}

/* AllocatePort changes nothing: no authorization needed. */
static gboolean
on_pg_allocate (DvsPortGroup1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  GError *error = NULL;
  MgrPortGroup *pg = dvs_mgr_port_group_lookup (mgr, dvs_port_group1_get_uuid (i), &error);
  MgrPort *p = pg ? dvs_mgr_port_group_allocate (mgr, pg, &error) : NULL;

  if (p)
    {
      g_autofree gchar *path = object_path ("port", p->key);
      finish (inv, NULL, g_variant_new ("(os)", path, p->key));
    }
  else
    finish (inv, error, NULL);
  return TRUE;
}

/* ---- Port1 ------------------------------------------------------------ */

static void
do_port_connect (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *host, *vm, *mac, *iface;
  GError *error = NULL;
  MgrPort *p = dvs_mgr_port_lookup (mgr, key, &error);
  g_autofree gchar *conn = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s&s&s&s)", &host, &vm, &mac, &iface);
  if (p)
    conn = dvs_mgr_port_connect (mgr, p, host, vm, mac, iface, &error);
  finish (inv, error, conn ? g_variant_new ("(s)", conn) : NULL);
}

static void
do_port_disconnect (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  GError *error = NULL;
  MgrPort *p = dvs_mgr_port_lookup (mgr, key, &error);

  if (p)
    dvs_mgr_port_disconnect (mgr, p, &error);
  finish (inv, error, NULL);
}

static void
do_port_revoke (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  GError *error = NULL;
  MgrPort *p = dvs_mgr_port_lookup (mgr, key, &error);
  g_autofree gchar *conn = NULL;

  if (p)
    conn = dvs_mgr_port_revoke (mgr, p, &error);
  finish (inv, error, conn ? g_variant_new ("(s)", conn) : NULL);
}

static void
do_port_move (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *host;
  GError *error = NULL;
  MgrPort *p = dvs_mgr_port_lookup (mgr, key, &error);

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &host);
  if (p)
    dvs_mgr_port_move (mgr, p, host, &error);
  finish (inv, error, NULL);
}

static gboolean
on_port_move (DvsPort1 *i, GDBusMethodInvocation *inv, const gchar *a, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONNECT, do_port_move, g_strdup (dvs_port1_get_key (i)));
  return TRUE;
}

static void
do_port_set_config (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *config;
  GError *error = NULL;
  MgrPort *p = dvs_mgr_port_lookup (mgr, key, &error);

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &config);
  if (p)
    dvs_mgr_port_set_config (mgr, p, config, &error);
  finish (inv, error, NULL);
}

static gboolean
on_port_connect (DvsPort1 *i, GDBusMethodInvocation *inv, const gchar *a, const gchar *b, const gchar *c,
                 const gchar *d, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONNECT, do_port_connect, g_strdup (dvs_port1_get_key (i)));
  return TRUE;
}

static gboolean
on_port_disconnect (DvsPort1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONNECT, do_port_disconnect, g_strdup (dvs_port1_get_key (i)));
  return TRUE;
}

static gboolean
on_port_revoke (DvsPort1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONNECT, do_port_revoke, g_strdup (dvs_port1_get_key (i)));
  return TRUE;
}

static gboolean
on_port_set_config (DvsPort1 *i, GDBusMethodInvocation *inv, const gchar *a, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_port_set_config, g_strdup (dvs_port1_get_key (i)));
  return TRUE;
}

static void
live_stats_done (DvsRpcPeer *peer, JsonNode *result, const GError *error, gpointer data)
{
  GDBusMethodInvocation *inv = data;

  if (error)
    g_dbus_method_invocation_return_error (inv, DVS_MGR_ERROR, DVS_MGR_ERROR_HOST_UNREACHABLE,
                                           "the owning host did not answer: %s", error->message);
  else
    {
      g_autofree gchar *text = dvs_json_write (result, FALSE);
      g_dbus_method_invocation_return_value (inv, g_variant_new ("(s)", text));
    }
}

/* GetLiveStats reads: open to everyone, answered by the owning host. */
static gboolean
on_port_live_stats (DvsPort1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  GError *error = NULL;
  MgrPort *p = dvs_mgr_port_lookup (mgr, dvs_port1_get_key (i), &error);
  MgrHost *h = p && p->host ? g_hash_table_lookup (mgr->hosts, p->host) : NULL;
  JsonObject *params;

  if (p && !p->host)
    g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_HOST_UNREACHABLE,
                 "DVport %s is not delegated to a host; its last reported counters are in StatsJson",
                 p->key);
  else if (p && (h == NULL || h->peer == NULL))
    g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_HOST_UNREACHABLE,
                 "host '%s' that owns DVport %s is not connected", p->host, p->key);
  if (error)
    {
      finish (inv, error, NULL);
      return TRUE;
    }
  params = json_object_new ();
  json_object_set_string_member (params, "switch", p->switch_uuid);
  json_object_set_string_member (params, "port", p->key);
  dvs_rpc_peer_call (h->peer, "dvport.show", params, 5000, live_stats_done, inv);
  return TRUE;
}

/* ---- Host1, Network1 -------------------------------------------------- */

static void
do_host_resync (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  GError *error = NULL;

  if (dvs_mgr_host_lookup (mgr, key, &error))
    mgr_push_resync_host (mgr->push, key);
  finish (inv, error, NULL);
}

static void
do_host_unregister (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  GError *error = NULL;
  MgrHost *h = dvs_mgr_host_lookup (mgr, key, &error);

  if (h)
    dvs_mgr_unregister_host (mgr, h, &error);
  finish (inv, error, NULL);
}

static void
do_network_delete (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  GError *error = NULL;
  MgrNetwork *n = g_hash_table_lookup (mgr->networks, key);

  if (n)
    dvs_mgr_delete_network (mgr, n, &error);
  else
    g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND, "no network '%s'", (gchar *) key);
  finish (inv, error, NULL);
}

static gboolean
on_host_resync (DvsHost1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_HOSTS, do_host_resync, g_strdup (dvs_host1_get_name (i)));
  return TRUE;
}

static gboolean
on_host_unregister (DvsHost1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_HOSTS, do_host_unregister, g_strdup (dvs_host1_get_name (i)));
  return TRUE;
}

static gboolean
on_network_delete (DvsNetwork1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_network_delete, g_strdup (dvs_network1_get_uuid (i)));
  return TRUE;
}

static void
on_object_methods (DvsMgr *mgr, DvsObjectSkeleton *obj)
{
  DvsObject *o = DVS_OBJECT (obj);
  gpointer i;

  if ((i = dvs_object_peek_switch1 (o)))
    {
      g_signal_connect (i, "handle-set-config", G_CALLBACK (on_switch_set_config), mgr);
      g_signal_connect (i, "handle-add-port-group", G_CALLBACK (on_add_port_group), mgr);
      g_signal_connect (i, "handle-join-host", G_CALLBACK (on_join_leave), mgr);
      g_signal_connect (i, "handle-leave-host", G_CALLBACK (on_join_leave), mgr);
      g_signal_connect (i, "handle-delete", G_CALLBACK (on_switch_delete), mgr);
      dvs_mgr_dbus_snapshot_switch (mgr, i);
    }
  if ((i = dvs_object_peek_port_group1 (o)))
    {
      g_signal_connect (i, "handle-set-config", G_CALLBACK (on_pg_set_config), mgr);
      g_signal_connect (i, "handle-add-ports", G_CALLBACK (on_pg_add_ports), mgr);
      g_signal_connect (i, "handle-allocate-port", G_CALLBACK (on_pg_allocate), mgr);
      g_signal_connect (i, "handle-delete", G_CALLBACK (on_pg_delete), mgr);
    }
  if ((i = dvs_object_peek_port1 (o)))
    {
      g_signal_connect (i, "handle-connect", G_CALLBACK (on_port_connect), mgr);
      g_signal_connect (i, "handle-disconnect", G_CALLBACK (on_port_disconnect), mgr);
      g_signal_connect (i, "handle-revoke", G_CALLBACK (on_port_revoke), mgr);
      g_signal_connect (i, "handle-move", G_CALLBACK (on_port_move), mgr);
      g_signal_connect (i, "handle-set-config", G_CALLBACK (on_port_set_config), mgr);
      g_signal_connect (i, "handle-get-live-stats", G_CALLBACK (on_port_live_stats), mgr);
    }
  if ((i = dvs_object_peek_host1 (o)))
    {
      g_signal_connect (i, "handle-resync", G_CALLBACK (on_host_resync), mgr);
      g_signal_connect (i, "handle-unregister", G_CALLBACK (on_host_unregister), mgr);
    }
  if ((i = dvs_object_peek_network1 (o)))
    g_signal_connect (i, "handle-delete", G_CALLBACK (on_network_delete), mgr);
}

void
dvs_mgr_dbus_export (DvsMgr *mgr, GDBusConnection *bus)
{
  GHashTableIter it;
  gpointer v;
  g_autoptr (GError) error = NULL;

  mgr->bus = g_object_ref (bus);
  mgr->objects = g_dbus_object_manager_server_new (DVS_MGR_OBJECT_PATH);
  mgr->manager_iface = dvs_manager1_skeleton_new ();
  dvs_manager1_set_version (mgr->manager_iface, DVS_VERSION);
  g_signal_connect (mgr->manager_iface, "handle-create-switch", G_CALLBACK (on_create_switch), mgr);
  g_signal_connect (mgr->manager_iface, "handle-register-host", G_CALLBACK (on_register_host), mgr);
  g_signal_connect (mgr->manager_iface, "handle-create-network", G_CALLBACK (on_create_network), mgr);
  g_signal_connect (mgr->manager_iface, "handle-get-out-of-sync", G_CALLBACK (on_get_out_of_sync), mgr);
  dvs_mgr_dbus_snapshot_manager (mgr, mgr->manager_iface);
  dvs_mgr_placement_dbus_manager (mgr, mgr->manager_iface);
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (mgr->manager_iface), bus,
                                         DVS_MGR_OBJECT_PATH, &error))
    g_warning ("cannot export %s: %s", DVS_MGR_OBJECT_PATH, error->message);
  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    dvs_mgr_dbus_switch (mgr, v);
  g_hash_table_iter_init (&it, mgr->port_groups);
  while (g_hash_table_iter_next (&it, NULL, &v))
    dvs_mgr_dbus_port_group (mgr, v);
  g_hash_table_iter_init (&it, mgr->ports);
  while (g_hash_table_iter_next (&it, NULL, &v))
    dvs_mgr_dbus_port (mgr, v);
  g_hash_table_iter_init (&it, mgr->hosts);
  while (g_hash_table_iter_next (&it, NULL, &v))
    dvs_mgr_dbus_host (mgr, v);
  g_hash_table_iter_init (&it, mgr->networks);
  while (g_hash_table_iter_next (&it, NULL, &v))
    dvs_mgr_dbus_network (mgr, v);
  dvs_mgr_dbus_sync_count (mgr);
  g_dbus_object_manager_server_set_connection (mgr->objects, bus);
}
