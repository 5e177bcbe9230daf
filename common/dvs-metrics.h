/* Prometheus text exposition, format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), and a
 * minimal read-only HTTP endpoint serving it: GET /metrics.
 *
 * A collector fills a DvsMetrics at each scrape: a family (name, type,
 * help) is declared once, then its samples follow, each with its labels
 * as NULL-terminated name/value pairs.  Label values are escaped (\\, ",
 * newline); names must match [a-zA-Z_:][a-zA-Z0-9_:]* (checked: a bad name
 * is a programming error, reported with g_critical and skipped).
 *
 * The endpoint has no authentication and no TLS: bind it to loopback (or a
 * management network) only.  It answers one request per connection, reads
 * at most 8 KiB of request and gives a client 5 s to send it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _DvsMetrics DvsMetrics;

typedef enum {
  DVS_METRIC_COUNTER,
  DVS_METRIC_GAUGE,
  DVS_METRIC_HISTOGRAM,       /* samples through dvs_metrics_sample_suffixed */
} DvsMetricType;

/* Starts family @name; samples added until the next family belong to it. */
void dvs_metrics_family (DvsMetrics *m, const gchar *name, DvsMetricType type,
                         const gchar *help);
/* A sample of the current family: labels as name, value, ..., NULL. */
void dvs_metrics_sample (DvsMetrics *m, gdouble value, ...) G_GNUC_NULL_TERMINATED;
/* A sample named the family's name + @suffix ("_bucket", "_sum",
 * "_count" of a histogram). */
void dvs_metrics_sample_suffixed (DvsMetrics *m, const gchar *suffix, gdouble value,
                                  ...) G_GNUC_NULL_TERMINATED;
/* A family with one sample without labels. */
void dvs_metrics_single (DvsMetrics *m, const gchar *name, DvsMetricType type,
                         const gchar *help, gdouble value);

/* Fills @m with the daemon's metrics: called on the main context at each
 * scrape. */
typedef void (*DvsMetricsCollectFunc) (DvsMetrics *m, gpointer user_data);

/* For tests and servers: runs @collect into a new exposition text. */
gchar *dvs_metrics_render (DvsMetricsCollectFunc collect, gpointer user_data);

typedef struct _DvsMetricsServer DvsMetricsServer;

/* Listens on @address, "HOST:PORT" ("127.0.0.1:9464", "[::1]:9464"; port 0
 * picks a free one) and serves GET /metrics. */
DvsMetricsServer *dvs_metrics_server_new (const gchar *address,
                                          DvsMetricsCollectFunc collect,
                                          gpointer user_data, GError **error);
/* The port listened on (the chosen one after port 0). */
guint16 dvs_metrics_server_port (DvsMetricsServer *server);
void dvs_metrics_server_free (DvsMetricsServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsMetricsServer, dvs_metrics_server_free)

G_END_DECLS
