/* DVport pieces that need no datapath thread: the switch.apply document
 * (validation, effective config), the checkpoint JSON round trip, and the
 * L2 class's per-port state serializer against a golden file. */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "classes/fwd-class.h"
#include "dvport/dvport-spec.h"
#include "dvport/port-state-json.h"
#include "dvs-jsonrpc.h"
#include "dvs-json-write.h"

static JsonNode *
parse (const gchar *text)
{
  g_autoptr (JsonParser) p = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (p, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (p));
}

static void
test_spec_effective_config (void)
{
  g_autoptr (JsonNode) doc = parse (
    "{\"id\":\"dvs0\",\"name\":\"prod\",\"port_groups\":["
    " {\"key\":\"web\",\"config\":{\"vlan\":10,\"policy\":{\"blocked\":false,"
    "   \"shaping\":{\"ingress\":{\"average_kbps\":1000}}}}}],"
    " \"ports\":["
    "  {\"key\":\"p1\",\"port_group\":\"web\"},"
    "  {\"key\":\"p2\",\"port_group\":\"web\",\"connection\":{\"id\":\"c2\",\"mac\":\"52:54:00:00:00:02\"},"
    "   \"config\":{\"vlan\":{\"mode\":\"trunk\",\"trunks\":[20]},\"policy\":{\"security\":{\"enabled\":true}}}}]}");
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsDvswitchSpec) s = dvs_dvswitch_spec_parse (doc, &error);
  DvsDvportSpec *p1, *p2;
  JsonObject *pol;

  g_assert_no_error (error);
  g_assert_cmpuint (s->ports->len, ==, 2);
  g_assert_cmpuint (s->mtu, ==, 1500);
  p1 = g_hash_table_lookup (s->by_key, "p1");
  p2 = g_hash_table_lookup (s->by_key, "p2");
  /* p1 inherits the group: access VLAN 10, shaping on, no connection. */
  g_assert_cmpint (p1->vlan.mode, ==, DVS_VLAN_ACCESS);
  g_assert_cmpuint (p1->vlan.tag, ==, 10);
  g_assert_null (p1->connection);
  pol = json_node_get_object (p1->policy);
  g_assert_false (json_node_is_null (json_object_get_member (pol, "shaping")));
  g_assert_true (json_node_is_null (json_object_get_member (pol, "security")));
  /* p2 overrides the VLAN wholesale and adds security, which defaults to
   * the connectee's MAC; it keeps the group's shaping. */
  g_assert_cmpint (p2->vlan.mode, ==, DVS_VLAN_TRUNK);
  g_assert_true (dvs_vlan_trunk_allows (&p2->vlan, 20));
  g_assert_cmpstr (p2->connection, ==, "c2");
  pol = json_node_get_object (p2->policy);
  g_assert_false (json_node_is_null (json_object_get_member (pol, "shaping")));
  g_assert_cmpstr (json_array_get_string_element (
                     json_object_get_array_member (json_object_get_object_member (pol, "security"),
                                                   "allowed_macs"), 0), ==, "52:54:00:00:00:02");
}

static void
test_spec_errors (void)
{
  static const struct { const gchar *doc; const gchar *mentions; } cases[] = {
    { "[]", "switch must be an object" },
    { "{\"name\":\"x\"}", "switch.id" },
    { "{\"id\":\"../evil\",\"name\":\"x\"}", "switch id" },
    { "{\"id\":\"d\",\"name\":\"x\",\"colour\":1}", "colour" },
    { "{\"id\":\"d\",\"name\":\"x\",\"forwarding_class\":\"hub\"}", "hub" },
    { "{\"id\":\"d\",\"name\":\"x\",\"mtu\":20}", "mtu" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"port_group\":\"nope\"}]}", "nope" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\"},{\"key\":\"p\"}]}", "twice" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"a/b\"}]}", "port key" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"connection\":{\"vm\":\"v\"}}]}", "connection.id" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"connection\":{\"id\":\"c\",\"mac\":\"zz\"}}]}", "mac" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"config\":{\"vlan\":5000}}]}", "VLAN" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"config\":{\"policy\":{\"shaping\":{\"ingress\":{\"peak_kbps\":5}}}}}]}", "average_kbps" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"config\":{\"qos\":1}}]}", "qos" },
    /* Control characters, refused as dvsmgr refuses them (dvs-names.h):
     * they would be stored raw and reach replies and terminals. */
    { "{\"id\":\"d\",\"name\":\"x\\u001fy\"}", "switch.name must not contain control characters" },
    { "{\"id\":\"d\",\"name\":\"\\u001b[2J\"}", "control characters" },
    { "{\"id\":\"d\",\"name\":\"a\\u009bb\"}", "control characters" },
    { "{\"id\":\"d\",\"name\":\"x\",\"port_groups\":[{\"key\":\"g\",\"name\":\"w\\u0007\"}]}",
      "port_groups[0].name must not contain control characters" },
    { "{\"id\":\"d\",\"name\":\"x\",\"port_groups\":[{\"key\":\"g\\u001f\"}]}", "port group key" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"connection\":{\"id\":\"c\\u001f\"}}]}",
      "connection.id must be printable ASCII" },
    { "{\"id\":\"d\",\"name\":\"x\",\"ports\":[{\"key\":\"p\",\"connection\":{\"id\":\"c\",\"vm\":\"v\\n\"}}]}",
      "connection.vm must not contain control characters" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (JsonNode) doc = parse (cases[i].doc);
      g_autoptr (GError) error = NULL;
      g_autoptr (DvsDvswitchSpec) s = dvs_dvswitch_spec_parse (doc, &error);

      g_test_message ("%s", cases[i].doc);
      g_assert_null (s);
      g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS);
      if (strstr (error->message, cases[i].mentions) == NULL)
        g_error ("'%s' does not mention '%s'", error->message, cases[i].mentions);
    }
}

/* The digest hosts report in host.hello (and the manager compares) is the
 * SHA-256 of the serialized document; it is built from the canonical
 * pieces without re-parsing them: check it against the slow way. */
static void
test_spec_digest (void)
{
  static const gchar *const docs[] = {
    "{\"id\":\"d\",\"name\":\"n\",\"port_groups\":[],\"ports\":[]}",
    "{\"id\":\"2537be54-d3dc-45a9-ad56-3d065c9d5f51\",\"name\":\"pr\\\"od \\u00e9\",\"mtu\":9000,"
    " \"port_groups\":[{\"key\":\"g\",\"name\":\"web\",\"config\":{\"vlan\":10,\"policy\":"
    "  {\"shaping\":{\"ingress\":{\"average_kbps\":1000}}}}}],"
    " \"ports\":[{\"key\":\"2537be54-1\",\"port_group\":\"g\",\"connection\":{\"id\":\"c\",\"vm\":\"v\","
    "  \"mac\":\"52:54:00:00:00:02\"}},{\"key\":\"2537be54-10\",\"port_group\":\"g\","
    "  \"config\":{\"vlan\":{\"mode\":\"trunk\",\"trunks\":[20,30],\"native\":20}}}]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr (JsonNode) doc = parse (docs[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (DvsDvswitchSpec) s = dvs_dvswitch_spec_parse (doc, &error);
      g_autoptr (JsonNode) again = NULL;
      g_autofree gchar *text = NULL, *slow = NULL, *fast = NULL;

      g_assert_no_error (error);
      again = dvs_dvswitch_spec_to_json (s);
      text = dvs_json_write (again, FALSE);
      slow = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
      fast = dvs_dvswitch_spec_digest (s);
      g_assert_cmpstr (fast, ==, slow);
    }
}

static void
test_checkpoint_round_trip (void)
{
  g_autoptr (DvsPortState) st = g_new0 (DvsPortState, 1);
  g_autoptr (DvsPortState) back = NULL;
  g_autoptr (JsonNode) j = NULL;
  g_autoptr (GError) error = NULL;
  guint64 *words = (guint64 *) &st->stats;

  for (gsize i = 0; i < sizeof st->stats / sizeof (guint64); i++)
    words[i] = 1000 + i;        /* every counter distinct */
  st->fwd_version = 1;
  st->fwd_state = g_bytes_new ("\001\000\000\000abcdefghijkl", 16);
  st->filter_version[DVS_FILTER_SHAPER] = 1;
  st->filter_state[DVS_FILTER_SHAPER] = g_bytes_new ("shaper-bytes", 12);

  j = dvs_port_state_to_json (st, "dvs0", "p1", "c1");
  back = dvs_port_state_from_json (j, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (&back->stats, sizeof back->stats, &st->stats, sizeof st->stats);
  g_assert_cmpuint (back->fwd_version, ==, 1);
  g_assert_true (g_bytes_equal (back->fwd_state, st->fwd_state));
  g_assert_true (g_bytes_equal (back->filter_state[DVS_FILTER_SHAPER],
                                st->filter_state[DVS_FILTER_SHAPER]));
  g_assert_null (back->filter_state[DVS_FILTER_SECURITY]);

  /* A missing counter is named, not read as zero. */
  json_object_remove_member (json_object_get_object_member (
    json_object_get_object_member (json_node_get_object (j), "counters"), "drops"), "shaped");
  g_clear_pointer (&back, dvs_port_state_free);
  back = dvs_port_state_from_json (j, &error);
  g_assert_null (back);
  g_assert_nonnull (strstr (error->message, "shaped"));
}

/* The L2 class's per-port state: golden bytes, round trip into another
 * table, and refusal of what it cannot read. */
static void
test_l2_port_state_golden (void)
{
  const struct dvs_fwd_class *c = &dvs_fwd_l2_learning;
  struct dvs_fwd_params params = { .table_size = 64, .aging_seconds = 300 };
  void *a = c->create (&params), *b = c->create (&params);
  static const guint8 m1[6] = { 0x52, 0x54, 0, 0, 0, 1 }, m2[6] = { 0x52, 0x54, 0, 0, 0, 2 };
  static const guint8 other[6] = { 0x52, 0x54, 0, 0, 0, 9 }, bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
  struct dvs_fwd_meta meta[2] = {
    { .dst = bcast, .src = m1, .vlan = 10, .kind = DVS_PKT_BROADCAST },
    { .dst = bcast, .src = m2, .vlan = 20, .kind = DVS_PKT_BROADCAST },
  };
  struct dvs_fwd_meta on_other = { .dst = bcast, .src = other, .vlan = 10, .kind = DVS_PKT_BROADCAST };
  guint16 out[2];
  guint8 buf[256];
  long n;
  g_autofree gchar *path = g_test_build_filename (G_TEST_DIST, "fixtures", "l2-port-state-v1.bin", NULL);
  g_autofree gchar *golden = NULL;
  gsize golden_len;

  /* Port 3 learns m1 (VLAN 10) at t=1000 and m2 (VLAN 20) at t=1005;
   * port 4 learns another address that must not be in port 3's state. */
  c->classify (a, 3, &meta[0], 1, 1000, out);
  c->classify (a, 3, &meta[1], 1, 1005, out);
  c->classify (a, 4, &on_other, 1, 1005, out);
  g_assert_cmpuint (c->port_changes (a, 3), ==, 2);
  g_assert_cmpuint (c->port_changes (a, 4), ==, 1);
  c->classify (a, 3, &meta[0], 1, 1008, out);          /* a refresh is no news */
  g_assert_cmpuint (c->port_changes (a, 3), ==, 2);
  n = c->port_state_save (a, 3, 1010, buf, sizeof buf);
  g_assert_cmpint (n, ==, 4 + 2 * 12);
  g_assert_cmpint (c->port_state_save (a, 3, 1010, buf, 10), ==, -ENOSPC);
  n = c->port_state_save (a, 3, 1010, buf, sizeof buf);

  /* Entries come out in table order, which depends on the hash: sort them
   * so the golden file pins the format, not the layout. */
  if (memcmp (buf + 4, buf + 16, 6) > 0)
    {
      guint8 tmp[12];
      memcpy (tmp, buf + 4, 12);
      memmove (buf + 4, buf + 16, 12);
      memcpy (buf + 16, tmp, 12);
    }
  if (g_getenv ("DVS_REGENERATE_FIXTURES"))
    g_assert_true (g_file_set_contents (path, (const gchar *) buf, n, NULL));
  g_assert_true (g_file_get_contents (path, &golden, &golden_len, NULL));
  g_assert_cmpmem (buf, (gsize) n, golden, golden_len);

  /* Loaded into another table (a restarted switch) at t=5000: the ages
   * carried over (10 s and 5 s), on port 7 this time. */
  g_assert_cmpint (c->port_state_load (b, 7, 5000, 1, (guint8 *) golden, golden_len), ==, 0);
  {
    struct dvs_mac_entry e[4];
    size_t k = c->dump (b, 5000, e, 4);
    g_assert_cmpuint (k, ==, 2);
    for (size_t i = 0; i < k; i++)
      {
        g_assert_cmpuint (e[i].port, ==, 7);
        g_assert_cmpuint (e[i].age, ==, e[i].vlan == 10 ? 2 : 5);
      }
  }
  /* Unknown version, truncation, garbage length: refused, table untouched. */
  g_assert_cmpint (c->port_state_load (b, 8, 5000, 2, (guint8 *) golden, golden_len), ==, -EINVAL);
  g_assert_cmpint (c->port_state_load (b, 8, 5000, 1, (guint8 *) golden, golden_len - 1), ==, -EINVAL);
  g_assert_cmpint (c->port_state_load (b, 8, 5000, 1, (guint8 *) golden, 2), ==, -EINVAL);
  g_assert_cmpuint (c->count (b, 5000), ==, 2);
  c->destroy (a);
  c->destroy (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dvport/spec-effective-config", test_spec_effective_config);
  g_test_add_func ("/dvport/spec-errors", test_spec_errors);
  g_test_add_func ("/dvport/spec-digest", test_spec_digest);
  g_test_add_func ("/dvport/checkpoint-round-trip", test_checkpoint_round_trip);
  g_test_add_func ("/dvport/l2-port-state-golden", test_l2_port_state_golden);
  return g_test_run ();
}
