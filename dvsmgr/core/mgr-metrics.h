/* dvsmgr's Prometheus metrics (docs/metrics.md), served by
 * --metrics-listen (dvs-metrics.h). */
#pragma once

#include "dvs-metrics.h"
#include "mgr.h"

G_BEGIN_DECLS

/* A DvsMetricsCollectFunc; @user_data is the DvsMgr. */
void dvs_mgr_metrics_collect (DvsMetrics *m, gpointer user_data);

G_END_DECLS
