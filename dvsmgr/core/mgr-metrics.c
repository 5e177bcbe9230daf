/* dvsmgr's Prometheus metrics (docs/metrics.md): hosts connected and in
 * sync, the model's size, the push engine's outcomes, latency and queues. */
#define G_LOG_DOMAIN "dvsmgr"
#include "mgr-metrics.h"

static void
host_families (DvsMetrics *m, DvsMgr *mgr)
{
  g_autoptr (GList) names = g_hash_table_get_keys (mgr->hosts);
  guint connected = 0, in_sync = 0;

  names = g_list_sort (names, (GCompareFunc) g_strcmp0);
  dvs_metrics_family (m, "dvsmgr_host_connected", DVS_METRIC_GAUGE,
                      "1 while the registered host is connected on the host channel");
  for (GList *l = names; l != NULL; l = l->next)
    {
      MgrHost *h = g_hash_table_lookup (mgr->hosts, l->data);
      connected += h->peer != NULL;
      dvs_metrics_sample (m, h->peer != NULL, "host", h->name, NULL);
    }
  dvs_metrics_family (m, "dvsmgr_host_in_sync", DVS_METRIC_GAUGE,
                      "1 when the host holds the final state the manager pushed it");
  for (GList *l = names; l != NULL; l = l->next)
    {
      MgrHost *h = g_hash_table_lookup (mgr->hosts, l->data);
      gboolean sync = mgr->push != NULL && mgr_push_host_in_sync (mgr->push, h->name);
      in_sync += sync;
      dvs_metrics_sample (m, sync, "host", h->name, NULL);
    }
  dvs_metrics_single (m, "dvsmgr_hosts", DVS_METRIC_GAUGE, "Registered hosts",
                      g_hash_table_size (mgr->hosts));
  dvs_metrics_single (m, "dvsmgr_hosts_connected", DVS_METRIC_GAUGE,
                      "Registered hosts connected now", connected);
  dvs_metrics_single (m, "dvsmgr_hosts_in_sync", DVS_METRIC_GAUGE,
                      "Registered hosts in sync now", in_sync);
}

static void
push_families (DvsMetrics *m, MgrPush *push)
{
  MgrPushStats st;
  guint64 cumulative = 0;

  mgr_push_stats (push, &st);
  dvs_metrics_family (m, "dvsmgr_pushes_total", DVS_METRIC_COUNTER,
                      "Final-state pushes and removals answered, by result");
  dvs_metrics_sample (m, (gdouble) st.succeeded, "result", "ok", NULL);
  dvs_metrics_sample (m, (gdouble) st.failed, "result", "failed", NULL);
  dvs_metrics_sample (m, (gdouble) st.timed_out, "result", "timeout", NULL);

  /* A histogram by hand: _bucket (cumulative, le), _sum, _count. */
  g_autofree gchar *help = g_strdup ("Time from sending a push to its answer, failure or timeout");
  dvs_metrics_family (m, "dvsmgr_push_latency_seconds", DVS_METRIC_HISTOGRAM, help);
  for (guint i = 0; i < MGR_PUSH_LATENCY_BUCKETS; i++)
    {
      gchar le[G_ASCII_DTOSTR_BUF_SIZE];
      cumulative += st.latency_count[i];
      g_ascii_dtostr (le, sizeof le, mgr_push_latency_bounds[i]);
      dvs_metrics_sample_suffixed (m, "_bucket", (gdouble) cumulative, "le", le, NULL);
    }
  dvs_metrics_sample_suffixed (m, "_bucket", (gdouble) st.latency_total, "le", "+Inf", NULL);
  dvs_metrics_sample_suffixed (m, "_sum", st.latency_sum, NULL);
  dvs_metrics_sample_suffixed (m, "_count", (gdouble) st.latency_total, NULL);

  dvs_metrics_family (m, "dvsmgr_queue_entries", DVS_METRIC_GAUGE,
                      "Entries of the re-push and rip queues (hosts out of sync)");
  dvs_metrics_sample (m, st.repush_queue, "queue", "repush", NULL);
  dvs_metrics_sample (m, st.rip_queue, "queue", "rip", NULL);
  dvs_metrics_single (m, "dvsmgr_pushes_inflight", DVS_METRIC_GAUGE,
                      "Pushes sent and not answered yet", st.inflight);
  dvs_metrics_single (m, "dvsmgr_pushes_pending", DVS_METRIC_GAUGE,
                      "Pushes waiting for a free in-flight slot", st.pending);
}

void
dvs_mgr_metrics_collect (DvsMetrics *m, gpointer user_data)
{
  DvsMgr *mgr = user_data;

  dvs_metrics_family (m, "dvsmgr_info", DVS_METRIC_GAUGE,
                      "Always 1; the labels say which dvsmgr this is");
  dvs_metrics_sample (m, 1, "version", DVS_VERSION, "manager", mgr->manager_uuid, NULL);
  dvs_metrics_single (m, "dvsmgr_switches", DVS_METRIC_GAUGE, "DVswitches",
                      g_hash_table_size (mgr->switches));
  dvs_metrics_single (m, "dvsmgr_port_groups", DVS_METRIC_GAUGE, "Port groups",
                      g_hash_table_size (mgr->port_groups));
  dvs_metrics_single (m, "dvsmgr_ports", DVS_METRIC_GAUGE, "DVports",
                      g_hash_table_size (mgr->ports));
  host_families (m, mgr);
  if (mgr->push != NULL)
    push_families (m, mgr->push);
}
