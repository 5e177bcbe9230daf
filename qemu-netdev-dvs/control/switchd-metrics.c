#include "switchd-metrics.h"

#include "switch/port-stats-json.h"

/* The per-kind counters of one direction ("rx" or "tx") of every port. */
static void
port_direction_family (DvsMetrics *m, GPtrArray *ports, JsonObject **stats,
                       const gchar *sw, const gchar *dir, const gchar *unit,
                       const gchar *help)
{
  static const gchar *const kinds[] = { "unicast", "multicast", "broadcast" };
  g_autofree gchar *name = g_strdup_printf ("dvs_port_%s_%s_total", dir, unit);

  dvs_metrics_family (m, name, DVS_METRIC_COUNTER, help);
  for (guint i = 0; i < ports->len; i++)
    {
      DvsPortInfo *p = ports->pdata[i];
      JsonObject *d = json_object_get_object_member (stats[i], dir);

      for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
        {
          g_autofree gchar *member = g_strdup_printf ("%s_%s", kinds[k], unit);
          dvs_metrics_sample (m, (gdouble) json_object_get_int_member (d, member),
                              "switch", sw, "port", p->name, "kind", kinds[k], NULL);
        }
    }
}

static void
port_families (DvsMetrics *m, DvsSwitch *swp)
{
  const gchar *sw = dvs_switch_name (swp);
  g_autoptr (GPtrArray) ports = dvs_switch_ports (swp);
  g_autofree JsonObject **stats = g_new0 (JsonObject *, ports->len + 1);
  g_autoptr (GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  /* The counters as the control protocol names them (port-stats-json.c):
   * the same names in both places. */
  for (guint i = 0; i < ports->len; i++)
    {
      DvsPortInfo *p = ports->pdata[i];
      JsonNode *n = dvs_port_stats_to_json (&p->stats);
      g_ptr_array_add (nodes, n);
      stats[i] = json_node_get_object (n);
    }

  dvs_metrics_family (m, "dvs_port_link_up", DVS_METRIC_GAUGE,
                      "1 while the port's vNIC link is up");
  for (guint i = 0; i < ports->len; i++)
    {
      DvsPortInfo *p = ports->pdata[i];
      dvs_metrics_sample (m, p->link_up ? 1 : 0, "switch", sw, "port", p->name, NULL);
    }
  port_direction_family (m, ports, stats, sw, "rx", "packets",
                         "Frames the switch received from the port's guest, by kind");
  port_direction_family (m, ports, stats, sw, "rx", "bytes",
                         "Bytes the switch received from the port's guest, by kind");
  port_direction_family (m, ports, stats, sw, "tx", "packets",
                         "Frames the switch delivered to the port's guest, by kind");
  port_direction_family (m, ports, stats, sw, "tx", "bytes",
                         "Bytes the switch delivered to the port's guest, by kind");

  dvs_metrics_family (m, "dvs_port_drops_total", DVS_METRIC_COUNTER,
                      "Frames of the port dropped, by reason");
  for (guint i = 0; i < ports->len; i++)
    {
      DvsPortInfo *p = ports->pdata[i];
      JsonObject *drops = json_object_get_object_member (stats[i], "drops");
      g_autoptr (GList) reasons = json_object_get_members (drops);

      for (GList *r = reasons; r != NULL; r = r->next)
        dvs_metrics_sample (m, (gdouble) json_object_get_int_member (drops, r->data),
                            "switch", sw, "port", p->name, "reason", (const gchar *) r->data,
                            NULL);
    }

  dvs_metrics_family (m, "dvs_port_mirrored_total", DVS_METRIC_COUNTER,
                      "Copies of the port's frames sent to its mirror target");
  for (guint i = 0; i < ports->len; i++)
    dvs_metrics_sample (m, (gdouble) json_object_get_int_member (stats[i], "mirrored"),
                        "switch", sw, "port", ((DvsPortInfo *) ports->pdata[i])->name, NULL);
  dvs_metrics_family (m, "dvs_port_held_total", DVS_METRIC_COUNTER,
                      "Frames queued for the port while it was held with its link down");
  for (guint i = 0; i < ports->len; i++)
    dvs_metrics_sample (m, (gdouble) json_object_get_int_member (stats[i], "held"),
                        "switch", sw, "port", ((DvsPortInfo *) ports->pdata[i])->name, NULL);
}

static void
datapath_families (DvsMetrics *m, DvsSwitch *swp)
{
  const gchar *sw = dvs_switch_name (swp);
  struct dvs_dp_stats st;
  uint64_t hz = dvs_dp_tsc_hz ();

  dvs_switch_dp_stats (swp, &st);
  dvs_metrics_family (m, "dvs_datapath_packets_total", DVS_METRIC_COUNTER,
                      "Frames the datapath received from all ports");
  dvs_metrics_sample (m, (gdouble) st.packets, "switch", sw, NULL);
  /* rate(dvs_datapath_busy_seconds_total[1m]): the share of a core the
   * datapath spends moving frames, its load. */
  dvs_metrics_family (m, "dvs_datapath_busy_seconds_total", DVS_METRIC_COUNTER,
                      "Time the datapath thread spent in iterations that moved frames");
  dvs_metrics_sample (m, hz ? (gdouble) st.busy_cycles / (gdouble) hz : 0, "switch", sw, NULL);
  dvs_metrics_family (m, "dvs_datapath_polls_total", DVS_METRIC_COUNTER,
                      "Iterations of the datapath loop");
  dvs_metrics_sample (m, (gdouble) st.polls, "switch", sw, NULL);
  dvs_metrics_family (m, "dvs_datapath_sleeps_total", DVS_METRIC_COUNTER,
                      "Times the datapath thread slept on the kick eventfds (adaptive polling)");
  dvs_metrics_sample (m, (gdouble) st.sleeps, "switch", sw, NULL);
  dvs_metrics_family (m, "dvs_datapath_wakeups_total", DVS_METRIC_COUNTER,
                      "Sleeps ended by a kick or a command");
  dvs_metrics_sample (m, (gdouble) st.wakeups, "switch", sw, NULL);
  dvs_metrics_family (m, "dvs_datapath_rx_stalls_total", DVS_METRIC_COUNTER,
                      "Idle spells that ended with frames waiting that dequeue did not return");
  dvs_metrics_sample (m, (gdouble) st.rx_stalls, "switch", sw, NULL);
  dvs_metrics_family (m, "dvs_datapath_busy_poll", DVS_METRIC_GAUGE,
                      "1 in busy polling mode, 0 in adaptive mode");
  dvs_metrics_sample (m, dvs_switch_busy_poll (swp) ? 1 : 0, "switch", sw, NULL);

  dvs_metrics_family (m, "dvs_ports", DVS_METRIC_GAUGE, "Ports of the switch");
  dvs_metrics_sample (m, dvs_switch_n_ports (swp), "switch", sw, NULL);
  dvs_metrics_family (m, "dvs_mac_table_entries", DVS_METRIC_GAUGE,
                      "Learned MAC addresses, not aged out");
  dvs_metrics_sample (m, (gdouble) dvs_switch_mac_count (swp), "switch", sw, NULL);
}

void
dvs_switchd_metrics_collect (DvsMetrics *m, gpointer user_data)
{
  DvsSwitch *sw = user_data;

  dvs_metrics_family (m, "dvs_switchd_info", DVS_METRIC_GAUGE,
                      "Always 1; the labels say which dvs-switchd this is");
  dvs_metrics_sample (m, 1, "switch", dvs_switch_name (sw), "version", DVS_VERSION, NULL);
  datapath_families (m, sw);
  port_families (m, sw);
}
