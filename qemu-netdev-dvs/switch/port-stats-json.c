#include "port-stats-json.h"

#include "dvs-jsonrpc.h"

static const gchar *const kinds[DVS_PKT_KIND_COUNT] = { "unicast", "multicast", "broadcast" };

/* The drop counters by name, in the order of struct dvs_port_stats. */
static const struct {
  const gchar *name;
  gsize offset;
  gboolean newer;        /* absent from older checkpoints: 0 */
} drops[] = {
  { "no_buffer", G_STRUCT_OFFSET (struct dvs_port_stats, drop_no_buffer) },
  { "vlan_filtered", G_STRUCT_OFFSET (struct dvs_port_stats, drop_vlan_filtered) },
  { "ring_full", G_STRUCT_OFFSET (struct dvs_port_stats, drop_ring_full) },
  { "link_down", G_STRUCT_OFFSET (struct dvs_port_stats, drop_link_down) },
  { "malformed", G_STRUCT_OFFSET (struct dvs_port_stats, drop_malformed) },
  { "blocked", G_STRUCT_OFFSET (struct dvs_port_stats, drop_filter[DVS_FILTER_BLOCK]) },
  { "security", G_STRUCT_OFFSET (struct dvs_port_stats, drop_filter[DVS_FILTER_SECURITY]) },
  { "shaped", G_STRUCT_OFFSET (struct dvs_port_stats, drop_filter[DVS_FILTER_SHAPER]) },
  { "crash", G_STRUCT_OFFSET (struct dvs_port_stats, drop_crash), TRUE },
};

static void
add_int (JsonBuilder *b, const gchar *name, guint64 v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, (gint64) v);
}

static void
add_direction (JsonBuilder *b, const gchar *name, const guint64 *packets,
               const guint64 *bytes)
{
  guint64 tp = 0, tb = 0;

  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  for (int k = 0; k < DVS_PKT_KIND_COUNT; k++)
    {
      tp += packets[k];
      tb += bytes[k];
    }
  add_int (b, "packets", tp);
  add_int (b, "bytes", tb);
  for (int k = 0; k < DVS_PKT_KIND_COUNT; k++)
    {
      g_autofree gchar *pn = g_strdup_printf ("%s_packets", kinds[k]);
      g_autofree gchar *bn = g_strdup_printf ("%s_bytes", kinds[k]);
      add_int (b, pn, packets[k]);
      add_int (b, bn, bytes[k]);
    }
  json_builder_end_object (b);
}

/* "queues": {"0": {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes"},
 * ...}, queue 0 up to the highest that counted anything. */
static void
add_queues (JsonBuilder *b, const struct dvs_port_stats *s)
{
  int last = 0;

  for (int q = 0; q < DVS_MAX_QUEUES; q++)
    if (s->rxq_packets[q] || s->rxq_bytes[q] || s->txq_packets[q] || s->txq_bytes[q])
      last = q;
  json_builder_set_member_name (b, "queues");
  json_builder_begin_object (b);
  for (int q = 0; q <= last; q++)
    {
      g_autofree gchar *name = g_strdup_printf ("%d", q);

      json_builder_set_member_name (b, name);
      json_builder_begin_object (b);
      add_int (b, "rx_packets", s->rxq_packets[q]);
      add_int (b, "rx_bytes", s->rxq_bytes[q]);
      add_int (b, "tx_packets", s->txq_packets[q]);
      add_int (b, "tx_bytes", s->txq_bytes[q]);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

JsonNode *
dvs_port_stats_to_json (const struct dvs_port_stats *s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_direction (b, "rx", s->rx_packets, s->rx_bytes);
  add_direction (b, "tx", s->tx_packets, s->tx_bytes);
  json_builder_set_member_name (b, "drops");
  json_builder_begin_object (b);
  for (gsize i = 0; i < G_N_ELEMENTS (drops); i++)
    add_int (b, drops[i].name, G_STRUCT_MEMBER (guint64, s, drops[i].offset));
  json_builder_end_object (b);
  add_int (b, "mirrored", s->mirrored);
  add_int (b, "held", s->held);
  add_int (b, "hold_dropped", s->hold_dropped);
  add_int (b, "dropped_while_down", s->dropped_while_down);
  add_queues (b, s);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static gboolean
get_counter (JsonObject *o, const gchar *what, const gchar *name, guint64 *out,
             GError **error)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "counters: %s.%s is missing or not a non-negative integer", what, name);
      return FALSE;
    }
  *out = (guint64) json_node_get_int (n);
  return TRUE;
}

static JsonObject *
member_object (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n != NULL && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

/* Newer: absent from checkpoints written before multi-queue (all 0). */
static gboolean
get_queues (JsonObject *o, struct dvs_port_stats *r, GError **error)
{
  JsonNode *n = json_object_get_member (o, "queues");
  JsonObject *qs;

  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "counters: queues must be an object");
      return FALSE;
    }
  qs = json_node_get_object (n);
  for (int q = 0; q < DVS_MAX_QUEUES; q++)
    {
      g_autofree gchar *name = g_strdup_printf ("%d", q);
      g_autofree gchar *what = g_strdup_printf ("queues.%d", q);
      JsonObject *qo;

      if (!json_object_has_member (qs, name))
        continue;
      qo = member_object (qs, name);
      if (!get_counter (qo, what, "rx_packets", &r->rxq_packets[q], error)
          || !get_counter (qo, what, "rx_bytes", &r->rxq_bytes[q], error)
          || !get_counter (qo, what, "tx_packets", &r->txq_packets[q], error)
          || !get_counter (qo, what, "tx_bytes", &r->txq_bytes[q], error))
        return FALSE;
    }
  return TRUE;
}

gboolean
dvs_port_stats_from_json (JsonNode *node, struct dvs_port_stats *s, GError **error)
{
  struct dvs_port_stats r = { 0 };
  JsonObject *o, *rx, *tx, *dr;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "counters must be an object");
      return FALSE;
    }
  o = json_node_get_object (node);
  rx = member_object (o, "rx");
  tx = member_object (o, "tx");
  dr = member_object (o, "drops");
  for (int k = 0; k < DVS_PKT_KIND_COUNT; k++)
    {
      g_autofree gchar *pn = g_strdup_printf ("%s_packets", kinds[k]);
      g_autofree gchar *bn = g_strdup_printf ("%s_bytes", kinds[k]);
      if (!get_counter (rx, "rx", pn, &r.rx_packets[k], error)
          || !get_counter (rx, "rx", bn, &r.rx_bytes[k], error)
          || !get_counter (tx, "tx", pn, &r.tx_packets[k], error)
          || !get_counter (tx, "tx", bn, &r.tx_bytes[k], error))
        return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (drops); i++)
    if ((!drops[i].newer || (dr != NULL && json_object_has_member (dr, drops[i].name)))
        && !get_counter (dr, "drops", drops[i].name,
                         &G_STRUCT_MEMBER (guint64, &r, drops[i].offset), error))
      return FALSE;
  if (!get_counter (o, "counters", "mirrored", &r.mirrored, error))
    return FALSE;
  /* Newer counters: absent from checkpoints written before them. */
  if ((json_object_has_member (o, "held")
       && !get_counter (o, "counters", "held", &r.held, error))
      || (json_object_has_member (o, "hold_dropped")
          && !get_counter (o, "counters", "hold_dropped", &r.hold_dropped, error))
      || (json_object_has_member (o, "dropped_while_down")
          && !get_counter (o, "counters", "dropped_while_down", &r.dropped_while_down, error))
      || !get_queues (o, &r, error))
    return FALSE;
  *s = r;
  return TRUE;
}
