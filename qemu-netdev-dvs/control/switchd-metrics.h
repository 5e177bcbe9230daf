/* dvs-switchd's Prometheus metrics (docs/metrics.md): per-port counters
 * and link state, the datapath's load, the MAC table.  Collected on the
 * main thread from the switch's control-plane snapshots. */
#pragma once

#include "dvs-metrics.h"
#include "switch/dvs-switch.h"

G_BEGIN_DECLS

/* A DvsMetricsCollectFunc; @user_data is the DvsSwitch. */
void dvs_switchd_metrics_collect (DvsMetrics *m, gpointer user_data);

G_END_DECLS
