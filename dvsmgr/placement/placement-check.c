/* The placement check: may a DVport (and so its VM) run on a host — and
 * PlaceVM's choice among the hosts that pass.  Reads the model, the hosts'
 * last statuses and the libvirt caches; never blocks. */
#define G_LOG_DOMAIN "dvsmgr-placement"

#include "placement/placement-private.h"

#include <string.h>
#include "datapath/dp-types.h"   /* DVS_MAX_VNIC_PORTS */

static void
add_reason (GPtrArray *reasons, gchar *reason)
{
  for (guint i = 0; i < reasons->len; i++)
    if (g_str_equal (reasons->pdata[i], reason))
      {
        g_free (reason);
        return;
      }
  g_ptr_array_add (reasons, reason);
}

static gboolean
strv_has (GPtrArray *a, const gchar *s)
{
  for (guint i = 0; a && i < a->len; i++)
    if (g_strcmp0 (a->pdata[i], s) == 0)
      return TRUE;
  return FALSE;
}

/* CPU and memory: only when both the VM's needs (on its current host's
 * libvirt) and the destination's node are known. */
static void
check_resources (DvsMgr *mgr, MgrPort *p, MgrHost *h, GPtrArray *reasons)
{
  MgrNodeInfo node;
  MgrDomainInfo dom, here;

  if (h->libvirt_uri == NULL || p->vm == NULL || !dvs_mgr_libvirt_node_info (mgr, h->name, &node))
    return;
  if (!(p->host && dvs_mgr_libvirt_domain (mgr, p->host, p->vm, &dom))
      && !dvs_mgr_libvirt_find_domain (mgr, p->vm, &dom, NULL))
    return;
  if (dvs_mgr_libvirt_domain (mgr, h->name, dom.uuid, &here) && here.active)
    return;   /* it runs there already: nothing more is needed */
  if (dom.vcpus > node.cpus)
    add_reason (reasons, g_strdup_printf ("host %s has %u CPUs, VM %s needs %u", h->name,
                                          node.cpus, dom.name, dom.vcpus));
  if (dom.memory_kib > node.free_kib)
    add_reason (reasons, g_strdup_printf ("host %s has %" G_GUINT64_FORMAT " MiB of free memory, "
                                          "VM %s needs %" G_GUINT64_FORMAT " MiB", h->name,
                                          node.free_kib / 1024, dom.name, dom.memory_kib / 1024));
}

gboolean
dvs_mgr_placement_check_port (DvsMgr *mgr, MgrPort *p, const gchar *host, GPtrArray *reasons)
{
  MgrHost *h = g_hash_table_lookup (mgr->hosts, host ? host : "");
  MgrSwitch *sw = g_hash_table_lookup (mgr->switches, p->switch_uuid);
  MgrPortGroup *pg = g_hash_table_lookup (mgr->port_groups, p->pg_uuid);
  guint before = reasons->len, free_ports;

  if (h == NULL)
    {
      add_reason (reasons, g_strdup_printf ("host %s is not registered", host ? host : ""));
      return FALSE;
    }
  if (p->connection == NULL)
    add_reason (reasons, g_strdup_printf ("DVport %s is not connected", p->key));
  if (h->peer == NULL)
    add_reason (reasons, g_strdup_printf ("host %s is not connected", h->name));
  if (!dvs_mgr_switch_has_host (sw, h->name))
    add_reason (reasons, g_strdup_printf ("host %s is not a member of switch %s", h->name, sw->name));
  else if (*sw->transport_zone && !strv_has (h->transport_zones, sw->transport_zone))
    add_reason (reasons, g_strdup_printf ("host %s is not in switch %s's transport zone %s",
                                          h->name, sw->name, sw->transport_zone));
  if (pg && pg->network)
    {
      MgrNetwork *n = g_hash_table_lookup (mgr->networks, pg->network);
      gchar *why = NULL;
      if (n == NULL)
        add_reason (reasons, g_strdup_printf ("port group %s's network %s no longer exists",
                                              pg->name, pg->network));
      else if (!dvs_mgr_network_visible (h, n, &why))
        add_reason (reasons, why);
    }
  if (h->peer)
    {
      g_autoptr (GPtrArray) why = g_ptr_array_new_with_free_func (g_free);
      guint health = dvs_mgr_placement_health (mgr, h, why);
      if (health < DVS_MGR_HEALTH_THRESHOLD)
        {
          g_autofree gchar *all = NULL;
          g_ptr_array_add (why, NULL);
          all = g_strjoinv (", ", (gchar **) why->pdata);
          add_reason (reasons, g_strdup_printf ("host %s's switch is not healthy (health %u: %s)",
                                                h->name, health, all));
        }
    }
  if (g_strcmp0 (p->host, h->name) != 0 && dvs_mgr_placement_free_ports (mgr, h->name, &free_ports)
      && free_ports == 0)
    add_reason (reasons, g_strdup_printf ("host %s has no free DVport slot", h->name));
  check_resources (mgr, p, h, reasons);
  return reasons->len == before;
}

static gint
port_key_cmp (gconstpointer a, gconstpointer b)
{
  const MgrPort *pa = *(MgrPort *const *) a, *pb = *(MgrPort *const *) b;
  gsize la = strlen (pa->key), lb = strlen (pb->key);

  return la != lb ? (la < lb ? -1 : 1) : strcmp (pa->key, pb->key);
}

GPtrArray *
dvs_mgr_placement_vm_ports (DvsMgr *mgr, const gchar *vm)
{
  GPtrArray *out = g_ptr_array_new ();
  MgrDomainInfo dom;
  gboolean known = vm && dvs_mgr_libvirt_find_domain (mgr, vm, &dom, NULL);
  GHashTableIter it;
  gpointer v;

  if (vm == NULL || *vm == '\0')
    return out;
  g_hash_table_iter_init (&it, mgr->ports);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrPort *p = v;
      if (p->connection == NULL || p->vm == NULL)
        continue;
      if (g_ascii_strcasecmp (p->vm, vm) == 0
          || (known && (g_ascii_strcasecmp (p->vm, dom.uuid) == 0 || g_str_equal (p->vm, dom.name))))
        g_ptr_array_add (out, p);
    }
  g_ptr_array_sort (out, port_key_cmp);
  return out;
}

const gchar *
dvs_mgr_placement_vm_host (DvsMgr *mgr, GPtrArray *ports, const gchar *vm)
{
  MgrPort *p = ports->pdata[0];
  MgrDomainInfo dom;
  const gchar *running = NULL;

  /* A port whose link is up runs where its owner is: the hosts report it
   * at once, while libvirt's view is refreshed only every few seconds. */
  for (guint i = 0; i < ports->len; i++)
    {
      MgrPort *q = ports->pdata[i];
      if (q->host != NULL && g_strcmp0 (q->link, "up") == 0 && q->incoming == NULL)
        return q->host;
    }
  if ((dvs_mgr_libvirt_find_domain (mgr, vm, &dom, &running)
       || dvs_mgr_libvirt_find_domain (mgr, p->vm, &dom, &running))
      && dom.active)
    return running;
  return p->host;
}

gboolean
dvs_mgr_placement_check_vm (DvsMgr *mgr, GPtrArray *ports, const gchar *host, GPtrArray *reasons)
{
  guint before = reasons->len, need = 0, free_ports;

  for (guint i = 0; i < ports->len; i++)
    {
      MgrPort *p = ports->pdata[i];
      dvs_mgr_placement_check_port (mgr, p, host, reasons);
      need += g_strcmp0 (p->host, host) != 0;
    }
  /* Each port checked for one slot; the VM needs one per port it moves. */
  if (need > 1 && dvs_mgr_placement_free_ports (mgr, host, &free_ports) && free_ports > 0
      && free_ports < need)
    add_reason (reasons, g_strdup_printf ("host %s has %u free DVport slots, the VM needs %u",
                                          host, free_ports, need));
  return reasons->len == before;
}

/* 0–100: 60 % health, 20 % free DVport slots, 20 % free memory (half marks
 * when unknown). */
static guint
host_score (DvsMgr *mgr, MgrHost *h)
{
  MgrNodeInfo node;
  guint free_ports;
  gdouble ports = 0.5, memory = 0.5;

  if (dvs_mgr_placement_free_ports (mgr, h->name, &free_ports))
    ports = MIN (free_ports, DVS_MAX_VNIC_PORTS) / (gdouble) DVS_MAX_VNIC_PORTS;
  if (dvs_mgr_libvirt_node_info (mgr, h->name, &node) && node.memory_kib > 0)
    memory = MIN ((gdouble) node.free_kib / node.memory_kib, 1.0);
  return (guint) (0.6 * dvs_mgr_placement_health (mgr, h, NULL) + 20 * ports + 20 * memory + 0.5);
}

gchar *
dvs_mgr_placement_place_vm (DvsMgr *mgr, const gchar *vm, guint *score, GError **error)
{
  g_autoptr (GPtrArray) ports = dvs_mgr_placement_vm_ports (mgr, vm);
  g_autoptr (GPtrArray) hosts = dvs_mgr_sorted_values (mgr->hosts, FALSE);
  g_autoptr (GString) refused = g_string_new (NULL);
  const gchar *current = NULL;
  MgrHost *best = NULL;
  guint best_score = 0;

  if (ports->len == 0)
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_FOUND,
                   "no connected DVport belongs to VM '%s'", vm);
      return NULL;
    }
  current = dvs_mgr_placement_vm_host (mgr, ports, vm);
  for (guint i = 0; i < hosts->len; i++)
    {
      MgrHost *h = hosts->pdata[i];
      g_autoptr (GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
      guint s;

      if (g_strcmp0 (h->name, current) == 0)
        continue;
      if (!dvs_mgr_placement_check_vm (mgr, ports, h->name, reasons))
        {
          g_autofree gchar *all = NULL;
          g_ptr_array_add (reasons, NULL);
          all = g_strjoinv ("; ", (gchar **) reasons->pdata);
          g_string_append_printf (refused, "%s%s", refused->len ? "; " : "", all);
          continue;
        }
      s = host_score (mgr, h);
      if (best == NULL || s > best_score)
        best = h, best_score = s;
    }
  if (best == NULL)
    {
      g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_FAILED, "no host can take VM %s%s%s", vm,
                   refused->len ? ": " : " (no other host is registered)", refused->str);
      return NULL;
    }
  if (score)
    *score = best_score;
  return g_strdup (best->name);
}
