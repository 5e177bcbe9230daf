#define G_LOG_DOMAIN "dvs-metrics"
#include "dvs-metrics.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

struct _DvsMetrics {
  GString *out;
  gchar *family;              /* NULL: none, or the last one was refused */
};

static gboolean
name_valid (const gchar *name, gboolean label)
{
  if (name == NULL || *name == '\0' || g_ascii_isdigit (*name))
    return FALSE;
  for (const gchar *p = name; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '_' && (label || *p != ':'))
      return FALSE;
  return TRUE;
}

/* HELP text escapes \ and newline; label values " too. */
static void
append_escaped (GString *out, const gchar *s, gboolean quote)
{
  for (const gchar *p = s; *p; p++)
    {
      if (*p == '\\')
        g_string_append (out, "\\\\");
      else if (*p == '\n')
        g_string_append (out, "\\n");
      else if (quote && *p == '"')
        g_string_append (out, "\\\"");
      else
        g_string_append_c (out, *p);
    }
}

void
dvs_metrics_family (DvsMetrics *m, const gchar *name, DvsMetricType type,
                    const gchar *help)
{
  g_clear_pointer (&m->family, g_free);
  if (!name_valid (name, FALSE))
    {
      g_critical ("metric name '%s' is not valid: family skipped", name);
      return;
    }
  m->family = g_strdup (name);
  g_string_append_printf (m->out, "# HELP %s ", name);
  append_escaped (m->out, help, FALSE);
  g_string_append_printf (m->out, "\n# TYPE %s %s\n", name,
                          type == DVS_METRIC_COUNTER ? "counter"
                          : type == DVS_METRIC_HISTOGRAM ? "histogram" : "gauge");
}

static void
append_value (GString *out, gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (v))
    g_string_append (out, "NaN");
  else if (isinf (v))
    g_string_append (out, v > 0 ? "+Inf" : "-Inf");
  else if (v == floor (v) && fabs (v) < 1e15)
    g_string_append_printf (out, "%.0f", v);
  else
    g_string_append (out, g_ascii_dtostr (buf, sizeof buf, v));
}

static void
append_sample (DvsMetrics *m, const gchar *suffix, gdouble value, va_list ap)
{
  const gchar *label;
  gboolean first = TRUE;
  gsize start = m->out->len;

  if (m->family == NULL)
    return;
  g_string_append (m->out, m->family);
  g_string_append (m->out, suffix);
  while ((label = va_arg (ap, const gchar *)) != NULL)
    {
      const gchar *v = va_arg (ap, const gchar *);
      if (!name_valid (label, TRUE) || g_str_has_prefix (label, "__"))
        {
          g_critical ("label name '%s' of %s is not valid: sample skipped", label, m->family);
          g_string_truncate (m->out, start);
          return;
        }
      g_string_append (m->out, first ? "{" : ",");
      g_string_append_printf (m->out, "%s=\"", label);
      append_escaped (m->out, v ? v : "", TRUE);
      g_string_append_c (m->out, '"');
      first = FALSE;
    }
  if (!first)
    g_string_append_c (m->out, '}');
  g_string_append_c (m->out, ' ');
  append_value (m->out, value);
  g_string_append_c (m->out, '\n');
}

void
dvs_metrics_sample (DvsMetrics *m, gdouble value, ...)
{
  va_list ap;

  va_start (ap, value);
  append_sample (m, "", value, ap);
  va_end (ap);
}

void
dvs_metrics_sample_suffixed (DvsMetrics *m, const gchar *suffix, gdouble value, ...)
{
  va_list ap;

  va_start (ap, value);
  append_sample (m, suffix, value, ap);
  va_end (ap);
}

void
dvs_metrics_single (DvsMetrics *m, const gchar *name, DvsMetricType type,
                    const gchar *help, gdouble value)
{
  dvs_metrics_family (m, name, type, help);
  dvs_metrics_sample (m, value, NULL);
}

gchar *
dvs_metrics_render (DvsMetricsCollectFunc collect, gpointer user_data)
{
  DvsMetrics m = { .out = g_string_new (NULL) };

  collect (&m, user_data);
  g_free (m.family);
  return g_string_free (m.out, FALSE);
}
