#include "switchctl-class-state.h"

#include <stdio.h>

#include "dvs-json.h"
#include "dvs-table.h"

/* l2-learning, version 1: u32 count, then count x { u8 mac[6]; u16 vlan;
 * u32 age_seconds }, little-endian. */
#define L2_ENTRY_SIZE 12
/* shaper, version 1: for ingress (from the guest) then egress (to the
 * guest), u64 committed level (bits), u64 peak level (bits), u64 ns since
 * the last refill, little-endian. */
#define SHAPER_V1_SIZE 48

static guint64
get_le (const guint8 *p, guint bytes)
{
  guint64 v = 0;

  for (guint i = bytes; i > 0; i--)
    v = (v << 8) | p[i - 1];
  return v;
}

/* TRUE if @data is a well-formed l2-learning v1 state; *@count entries. */
static gboolean
l2_state_valid (const guint8 *data, gsize len, guint32 *count)
{
  if (len < 4)
    return FALSE;
  *count = (guint32) get_le (data, 4);
  return len == 4 + (gsize) *count * L2_ENTRY_SIZE;
}

static gchar *
l2_state_summary (const guint8 *data, gsize len)
{
  guint32 count;

  if (!l2_state_valid (data, len, &count))
    return g_strdup ("malformed");
  return g_strdup_printf ("%u learned MAC%s", count, count == 1 ? "" : "s");
}

static void
print_l2_state (const guint8 *data, gsize len)
{
  static const gchar *const headers[] = { "MAC", "VLAN", "AGE", NULL };
  g_autoptr (DvsTable) table = dvs_table_new (0, headers, DVS_TABLE_NONE);
  guint32 count;

  if (!l2_state_valid (data, len, &count) || count == 0)
    return;
  dvs_table_align_right (table, 1);
  dvs_table_align_right (table, 2);
  for (guint32 i = 0; i < count; i++)
    {
      const guint8 *e = data + 4 + (gsize) i * L2_ENTRY_SIZE;

      dvs_table_add_row_take (table,
                              g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x",
                                               e[0], e[1], e[2], e[3], e[4], e[5]),
                              g_strdup_printf ("%u", (guint) get_le (e + 6, 2)),
                              g_strdup_printf ("%us", (guint) get_le (e + 8, 4)),
                              NULL);
    }
  printf ("\nl2-learning state (ages when saved):\n");
  dvs_table_print (table);
}

static gchar *
shaper_state_summary (const guint8 *data, gsize len)
{
  if (len != SHAPER_V1_SIZE)
    return g_strdup ("malformed");
  return g_strdup ("bucket levels");
}

/* Bits as bytes, "32768 B". */
static gchar *
bits_text (guint64 bits)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT " B", bits / 8);
}

static void
print_shaper_state (const guint8 *data, gsize len)
{
  static const gchar *const headers[] = { "DIRECTION", "COMMITTED", "PEAK",
                                          "REFILLED", NULL };
  static const gchar *const dirs[] = { "ingress", "egress" };
  g_autoptr (DvsTable) table = dvs_table_new (0, headers, DVS_TABLE_NONE);

  if (len != SHAPER_V1_SIZE)
    return;
  for (guint c = 1; c <= 3; c++)
    dvs_table_align_right (table, c);
  for (guint d = 0; d < 2; d++)
    {
      const guint8 *b = data + 24 * d;
      guint64 since_ns = get_le (b + 16, 8);

      dvs_table_add_row_take (table, g_strdup (dirs[d]),
                              bits_text (get_le (b, 8)),
                              bits_text (get_le (b + 8, 8)),
                              g_strdup_printf ("%.3f s ago", since_ns / 1e9),
                              NULL);
    }
  printf ("\nshaper state (bucket levels when read; unshaped directions stay full):\n");
  dvs_table_print (table);
}

typedef struct {
  const gchar *name;
  guint version;
  gchar *(*summary) (const guint8 *data, gsize len);
  void (*print) (const guint8 *data, gsize len);
} ClassDecoder;

static const ClassDecoder decoders[] = {
  { "l2-learning", 1, l2_state_summary, print_l2_state },
  { "shaper", 1, shaper_state_summary, print_shaper_state },
};

static const ClassDecoder *
find_decoder (const gchar *name, gint64 version)
{
  for (guint i = 0; i < G_N_ELEMENTS (decoders); i++)
    if (g_strcmp0 (decoders[i].name, name) == 0 && decoders[i].version == version)
      return &decoders[i];
  return NULL;
}

void
ctl_print_class_states (JsonArray *classes)
{
  static const gchar *const headers[] = { "CLASS", "VERSION", "BYTES", "STATE", NULL };
  g_autoptr (DvsTable) table = dvs_table_new (0, headers, DVS_TABLE_NONE);
  guint n = json_array_get_length (classes);
  g_autofree GBytes **states = g_new0 (GBytes *, n + 1);
  g_autofree const ClassDecoder **found = g_new0 (const ClassDecoder *, n + 1);

  dvs_table_align_right (table, 1);
  dvs_table_align_right (table, 2);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (classes, i);
      JsonObject *state = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const gchar *name = state ? dvs_json_get_string (state, "class") : NULL;
      const gchar *data = state ? dvs_json_get_string (state, "data") : NULL;
      JsonNode *vnode = state ? json_object_get_member (state, "version") : NULL;
      gint64 version = -1;
      gsize len = 0;
      guchar *bytes = NULL;

      if (vnode != NULL && JSON_NODE_HOLDS_VALUE (vnode)
          && json_node_get_value_type (vnode) == G_TYPE_INT64)
        version = json_node_get_int (vnode);
      if (data != NULL)
        bytes = g_base64_decode (data, &len);
      states[i] = g_bytes_new_take (bytes, len);
      found[i] = find_decoder (name, version);
      dvs_table_add_row_take (table, g_strdup (name ? name : "-"),
                              version >= 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, version)
                                           : g_strdup ("-"),
                              g_strdup_printf ("%" G_GSIZE_FORMAT, len),
                              found[i] ? found[i]->summary (bytes, len) : g_strdup ("opaque"),
                              NULL);
    }
  dvs_table_print (table);
  for (guint i = 0; i < n; i++)
    {
      gsize len;
      const guint8 *bytes = g_bytes_get_data (states[i], &len);

      if (found[i] != NULL)
        found[i]->print (bytes, len);
      g_bytes_unref (states[i]);
    }
}
