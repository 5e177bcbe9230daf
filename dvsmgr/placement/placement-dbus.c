/* The D-Bus face of placement: Manager1's CheckPlacement, PlaceVM and
 * MigrateVM; Host1's HideNetwork/UnhideNetwork and its health properties;
 * PortGroup1's SetNetwork and Network.  Reads are open; changes go through
 * polkit (hosts, configure, migrate) like the rest of mgr-dbus.c. */
#define G_LOG_DOMAIN "dvsmgr-dbus"

#include "placement/placement-private.h"

#define ACTION_CONFIGURE "net.dvsqemu.configure"
#define ACTION_HOSTS "net.dvsqemu.hosts"
#define ACTION_MIGRATE "net.dvsqemu.migrate"

static void
finish (GDBusMethodInvocation *inv, GError *error, GVariant *value)
{
  if (error)
    {
      g_info ("%s.%s from %s refused: %s", g_dbus_method_invocation_get_interface_name (inv),
              g_dbus_method_invocation_get_method_name (inv),
              g_dbus_method_invocation_get_sender (inv) ?: "?", error->message);
      g_dbus_method_invocation_return_gerror (inv, error);
      g_error_free (error);
    }
  else
    g_dbus_method_invocation_return_value (inv, value);
}

/* NULL-terminated view of a GPtrArray of strings (appends NULL). */
static const gchar *const *
strv_view (GPtrArray *a)
{
  g_ptr_array_add (a, NULL);
  return (const gchar *const *) a->pdata;
}

/* ---- Manager1 --------------------------------------------------------- */

static gboolean
on_check_placement (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *vm,
                    const gchar *host, DvsMgr *mgr)
{
  g_autoptr (GPtrArray) ports = dvs_mgr_placement_vm_ports (mgr, vm);
  g_autoptr (GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  gboolean ok;

  if (ports->len == 0)
    {
      finish (inv, g_error_new (DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND,
                                "no connected DVport belongs to VM '%s'", vm), NULL);
      return TRUE;
    }
  ok = dvs_mgr_placement_check_vm (mgr, ports, host, reasons);
  dvs_manager1_complete_check_placement (i, inv, ok, strv_view (reasons));
  return TRUE;
}

static gboolean
on_place_vm (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *vm, DvsMgr *mgr)
{
  GError *error = NULL;
  guint score = 0;
  g_autofree gchar *host = dvs_mgr_placement_place_vm (mgr, vm, &score, &error);

  finish (inv, error, host ? g_variant_new ("(su)", host, score) : NULL);
  return TRUE;
}

static void
do_migrate_vm (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer unused)
{
  const gchar *vm, *host;
  GError *error = NULL;
  g_autofree gchar *path = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s&s)", &vm, &host);
  path = dvs_mgr_migrate_vm (mgr, vm, host, &error);
  finish (inv, error, path ? g_variant_new ("(o)", path) : NULL);
}

static gboolean
on_migrate_vm (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *vm, const gchar *host,
               DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_MIGRATE, do_migrate_vm, NULL);
  return TRUE;
}

void
dvs_mgr_placement_dbus_manager (DvsMgr *mgr, DvsManager1 *iface)
{
  g_signal_connect (iface, "handle-check-placement", G_CALLBACK (on_check_placement), mgr);
  g_signal_connect (iface, "handle-place-vm", G_CALLBACK (on_place_vm), mgr);
  g_signal_connect (iface, "handle-migrate-vm", G_CALLBACK (on_migrate_vm), mgr);
}

/* ---- Host1 ------------------------------------------------------------ */

static void
do_hide (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer name)
{
  const gchar *ref;
  GError *error = NULL;
  MgrHost *h = dvs_mgr_host_lookup (mgr, name, &error);
  MgrNetwork *n = NULL;
  gboolean hide = g_str_equal (g_dbus_method_invocation_get_method_name (inv), "HideNetwork");

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &ref);
  if (h && (n = dvs_mgr_network_resolve (mgr, ref, &error)))
    dvs_mgr_host_hide_network (mgr, h, n, hide, &error);
  finish (inv, error, error ? NULL : g_variant_new ("()"));
}

static gboolean
on_hide (DvsHost1 *i, GDBusMethodInvocation *inv, const gchar *network, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_HOSTS, do_hide, g_strdup (dvs_host1_get_name (i)));
  return TRUE;
}

static void
do_set_migration_uri (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer name)
{
  const gchar *uri;
  GError *error = NULL;
  MgrHost *h = dvs_mgr_host_lookup (mgr, name, &error);

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &uri);
  if (h)
    dvs_mgr_host_set_migration_uri (mgr, h, uri, &error);
  finish (inv, error, error ? NULL : g_variant_new ("()"));
}

static gboolean
on_set_migration_uri (DvsHost1 *i, GDBusMethodInvocation *inv, const gchar *uri, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_HOSTS, do_set_migration_uri,
                     g_strdup (dvs_host1_get_name (i)));
  return TRUE;
}

void
dvs_mgr_placement_dbus_host (DvsMgr *mgr, MgrHost *h, DvsHost1 *iface, gboolean connect)
{
  g_autoptr (GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) hidden = g_ptr_array_new ();
  g_autofree gchar *status = dvs_mgr_placement_status_json (mgr, h->name);
  guint free_ports = 0;

  if (connect)
    {
      g_signal_connect (iface, "handle-hide-network", G_CALLBACK (on_hide), mgr);
      g_signal_connect (iface, "handle-unhide-network", G_CALLBACK (on_hide), mgr);
      g_signal_connect (iface, "handle-set-migration-uri", G_CALLBACK (on_set_migration_uri), mgr);
    }
  dvs_host1_set_migration_uri (iface, h->migration_uri ? h->migration_uri : "");
  for (guint i = 0; h->hidden_networks && i < h->hidden_networks->len; i++)
    g_ptr_array_add (hidden, h->hidden_networks->pdata[i]);
  dvs_host1_set_hidden_networks (iface, strv_view (hidden));
  dvs_host1_set_health (iface, dvs_mgr_placement_health (mgr, h, reasons));
  dvs_host1_set_health_reasons (iface, strv_view (reasons));
  dvs_mgr_placement_free_ports (mgr, h->name, &free_ports);
  dvs_host1_set_free_ports (iface, free_ports);
  dvs_host1_set_status (iface, status);
}

/* ---- PortGroup1 ------------------------------------------------------- */

static void
do_set_network (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer uuid)
{
  const gchar *ref;
  GError *error = NULL;
  MgrPortGroup *pg = dvs_mgr_port_group_lookup (mgr, uuid, &error);
  MgrNetwork *n = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &ref);
  if (pg && (*ref == '\0' || (n = dvs_mgr_network_resolve (mgr, ref, &error))))
    dvs_mgr_port_group_set_network (mgr, pg, n, &error);
  finish (inv, error, error ? NULL : g_variant_new ("()"));
}

static gboolean
on_set_network (DvsPortGroup1 *i, GDBusMethodInvocation *inv, const gchar *network, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_set_network,
                     g_strdup (dvs_port_group1_get_uuid (i)));
  return TRUE;
}

void
dvs_mgr_placement_dbus_port_group (DvsMgr *mgr, MgrPortGroup *pg, DvsPortGroup1 *iface,
                                   gboolean connect)
{
  if (connect)
    g_signal_connect (iface, "handle-set-network", G_CALLBACK (on_set_network), mgr);
  dvs_port_group1_set_network (iface, pg->network ? pg->network : "");
}
