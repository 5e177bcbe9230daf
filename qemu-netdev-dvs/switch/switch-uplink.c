/* Uplinks: a DVswitch's port to the physical network, so that its VMs on
 * different hosts share L2.  Each is a DPDK net_af_packet ethdev on a
 * kernel interface, attached as datapath port SWITCH_UPLINK_INDEX(domain)
 * of the DVswitch's forwarding domain through dvs_port_io_ethdev, a trunk
 * of every VLAN (VLAN 0 leaves untagged).  Main thread only. */
#define G_LOG_DOMAIN "dvs-switch"
#include "switch/switch-private.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dvs-jsonrpc.h"
#include "switch/port-stats-json.h"

#define UPLINK_MBUFS 4095
#define UPLINK_RING 512

void
switch_uplink_free (SwitchUplink *u)
{
  if (u == NULL)
    return;
  g_free (u->dvswitch);
  g_free (u->iface);
  g_free (u->name);
  g_free (u->vdev);
  g_free (u->error);
  g_free (u);
}

gboolean
dvs_switch_uplink_spec_parse (const gchar *spec, gchar **dvswitch, gchar **iface,
                              GError **error)
{
  const gchar *eq = strchr (spec, '=');
  g_autofree gchar *sw = eq ? g_strstrip (g_strndup (spec, (gsize) (eq - spec))) : NULL;
  g_autofree gchar *ifc = eq ? g_strstrip (g_strdup (eq + 1)) : NULL;
  gsize n;

  if (sw == NULL || *sw == '\0' || strlen (sw) > 64
      || strspn (sw, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")
           != strlen (sw))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "uplink '%s' must be DVSWITCH=IFACE (DVSWITCH: the DVswitch's name or "
                   "id, 1-64 letters, digits, '_', '.', ':' or '-')", spec);
      return FALSE;
    }
  n = strlen (ifc);
  if (n == 0 || n >= IF_NAMESIZE || strspn (ifc, "/:,= \t") != 0 || strpbrk (ifc, "/:,= \t"))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "uplink '%s': '%s' is not a network interface name (1-%d characters, "
                   "no '/', ':', ',', '=' or spaces)", spec, ifc, IF_NAMESIZE - 1);
      return FALSE;
    }
  *dvswitch = g_steal_pointer (&sw);
  *iface = g_steal_pointer (&ifc);
  return TRUE;
}

gboolean
dvs_switch_set_uplinks (DvsSwitch *sw, const gchar *const *specs, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) switch_uplink_free);

  for (guint i = 0; i < sw->uplinks->len; i++)
    if (((SwitchUplink *) sw->uplinks->pdata[i])->domain != 0)
      {
        g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_EXISTS,
                     "uplinks are attached already: they are configured at start only");
        return FALSE;
      }
  for (const gchar *const *s = specs; s != NULL && *s != NULL; s++)
    {
      SwitchUplink *u = g_new0 (SwitchUplink, 1);
      g_ptr_array_add (list, u);
      if (!dvs_switch_uplink_spec_parse (*s, &u->dvswitch, &u->iface, error))
        return FALSE;
      for (guint j = 0; j + 1 < list->len; j++)
        {
          SwitchUplink *o = list->pdata[j];
          if (g_str_equal (o->dvswitch, u->dvswitch) || g_str_equal (o->iface, u->iface))
            {
              g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                           "uplinks %s=%s and %s=%s: a DVswitch has one uplink and an "
                           "interface serves one DVswitch", o->dvswitch, o->iface,
                           u->dvswitch, u->iface);
              return FALSE;
            }
        }
      u->name = g_strdup_printf ("uplink:%s", u->iface);
    }
  g_ptr_array_unref (sw->uplinks);
  sw->uplinks = g_steal_pointer (&list);
  return TRUE;
}

/* Undoes what attach did, in reverse; safe on a half-attached uplink. */
static void
uplink_teardown (SwitchUplink *u, gboolean started)
{
  if (u->vdev != NULL)
    {
      uint16_t port;
      /* Removing the vdev closes and releases its ethdev. */
      if (started && rte_eth_dev_get_port_by_name (u->vdev, &port) == 0)
        rte_eth_dev_stop (port);
      rte_eal_hotplug_remove ("vdev", u->vdev);
      g_clear_pointer (&u->vdev, g_free);
    }
  if (u->pool != NULL)
    {
      rte_mempool_free (u->pool);
      u->pool = NULL;
    }
}

static gboolean
uplink_fail (SwitchUplink *u, int err, const gchar *what, GError **error)
{
  g_free (u->error);
  u->error = g_strdup_printf ("cannot attach uplink %s for DVswitch %s: %s: %s",
                              u->iface, u->dvswitch, what, g_strerror (err < 0 ? -err : err));
  g_set_error_literal (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE, u->error);
  return FALSE;
}

static gboolean
uplink_attach (DvsSwitch *sw, SwitchUplink *u, guint16 domain, GError **error)
{
  g_autofree gchar *vdev = g_strdup_printf ("net_af_packet_dvs%u", domain);
  g_autofree gchar *args = g_strdup_printf ("iface=%s,qpairs=1", u->iface);
  g_autofree gchar *pool_name = g_strdup_printf ("dvs_up%u", domain);
  struct rte_eth_conf conf;
  struct dvs_vlan_config trunk;
  uint16_t port;
  guint16 idx = (guint16) SWITCH_UPLINK_INDEX (domain);
  int err;

  if (if_nametoindex (u->iface) == 0)
    return uplink_fail (u, errno, "no such network interface", error);
  u->pool = rte_pktmbuf_pool_create (pool_name, UPLINK_MBUFS, 256, 0,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (u->pool == NULL)
    return uplink_fail (u, rte_errno, "no memory for its buffers (--memory)", error);
  err = rte_eal_hotplug_add ("vdev", vdev, args);
  if (err < 0)
    {
      uplink_teardown (u, FALSE);
      return uplink_fail (u, err, "DPDK net_af_packet device not created "
                          "(is librte-net-af-packet installed?)", error);
    }
  u->vdev = g_steal_pointer (&vdev);
  memset (&conf, 0, sizeof conf);
  if ((err = rte_eth_dev_get_port_by_name (u->vdev, &port)) < 0
      || (err = rte_eth_dev_configure (port, 1, 1, &conf)) < 0
      || (err = rte_eth_rx_queue_setup (port, 0, UPLINK_RING, (unsigned) rte_eth_dev_socket_id (port),
                                        NULL, u->pool)) < 0
      || (err = rte_eth_tx_queue_setup (port, 0, UPLINK_RING, (unsigned) rte_eth_dev_socket_id (port),
                                        NULL)) < 0
      || (err = rte_eth_dev_start (port)) < 0)
    {
      uplink_teardown (u, FALSE);
      return uplink_fail (u, err, "ethdev set-up failed", error);
    }
  /* Frames for the VMs behind this host carry their MACs, not ours. */
  if ((err = rte_eth_promiscuous_enable (port)) < 0)
    g_warning ("uplink %s: promiscuous mode not enabled (%s): frames for the VMs "
               "may not be received", u->iface, g_strerror (-err));
  memset (&trunk, 0, sizeof trunk);
  trunk.mode = DVS_VLAN_TRUNK;
  trunk.native = 0;
  for (guint16 v = 1; v <= DVS_VLAN_MAX; v++)
    dvs_vlan_trunk_allow (&trunk, v);
  if ((err = dvs_dp_port_add (sw->dp, idx, domain, &trunk, NULL)) < 0)
    {
      uplink_teardown (u, TRUE);
      return uplink_fail (u, err, "datapath refused the port", error);
    }
  if ((err = dvs_dp_link_up_io (sw->dp, idx, &dvs_port_io_ethdev, port)) < 0)
    {
      dvs_dp_port_remove (sw->dp, idx);
      uplink_teardown (u, TRUE);
      return uplink_fail (u, err, "datapath link up failed", error);
    }
  u->eth_port = port;
  u->domain = domain;
  g_clear_pointer (&u->error, g_free);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", u->name, "MESSAGE",
                    "uplink %s attached to DVswitch %s (net_af_packet on %s, all VLANs)",
                    u->name, u->dvswitch, u->iface);
  return TRUE;
}

gboolean
dvs_switch_domain_bind (DvsSwitch *sw, guint16 domain, const gchar *id,
                        const gchar *name, GError **error)
{
  for (guint i = 0; i < sw->uplinks->len; i++)
    {
      SwitchUplink *u = sw->uplinks->pdata[i];
      if (u->domain == domain && domain != 0)
        return TRUE;                      /* bound already */
      if (u->domain != 0 || domain == 0 || domain >= DVS_MAX_DOMAINS
          || !(g_strcmp0 (u->dvswitch, id) == 0 || g_strcmp0 (u->dvswitch, name) == 0))
        continue;
      return uplink_attach (sw, u, domain, error);
    }
  return TRUE;
}

void
switch_uplinks_detach (DvsSwitch *sw, guint16 domain)
{
  for (guint i = 0; i < sw->uplinks->len; i++)
    {
      SwitchUplink *u = sw->uplinks->pdata[i];
      if (u->domain == 0 || (domain != 0 && u->domain != domain))
        continue;
      /* The datapath first: it stops polling the ethdev. */
      dvs_dp_port_remove (sw->dp, (guint16) SWITCH_UPLINK_INDEX (u->domain));
      uplink_teardown (u, TRUE);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", u->name, "MESSAGE",
                        "uplink %s detached from DVswitch %s", u->name, u->dvswitch);
      u->domain = 0;
    }
}

JsonNode *
dvs_switch_uplinks_to_json (DvsSwitch *sw, gint domain)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < sw->uplinks->len; i++)
    {
      SwitchUplink *u = sw->uplinks->pdata[i];
      struct dvs_port_stats st;

      if (domain > 0 && u->domain != domain)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, u->name);
      json_builder_set_member_name (b, "dvswitch");
      json_builder_add_string_value (b, u->dvswitch);
      json_builder_set_member_name (b, "iface");
      json_builder_add_string_value (b, u->iface);
      json_builder_set_member_name (b, "attached");
      json_builder_add_boolean_value (b, u->domain != 0);
      json_builder_set_member_name (b, "link");
      if (u->domain != 0)
        {
          struct rte_eth_link link;
          memset (&link, 0, sizeof link);
          if (rte_eth_link_get_nowait (u->eth_port, &link) == 0)
            json_builder_add_string_value (b, link.link_status ? "up" : "down");
          else
            json_builder_add_string_value (b, "unknown");
          json_builder_set_member_name (b, "stats");
          dvs_dp_port_stats (sw->dp, (guint16) SWITCH_UPLINK_INDEX (u->domain), &st);
          json_builder_add_value (b, dvs_port_stats_to_json (&st));
        }
      else
        json_builder_add_null_value (b);
      if (u->error != NULL)
        {
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, u->error);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}
