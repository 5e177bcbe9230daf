/* The diff of two snapshot documents (snapshot.h, dvs_snapshot_diff and
 * dvs_snapshot_diff_text): identical documents, settings changed deep in a
 * config, objects added and removed in their order, connections compared
 * only when both documents carry them, documents missing members or
 * holding members of the wrong type, and the readable form. */
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "snapshot/snapshot.h"
#include "dvs-json-write.h"

#define SW "2537be54-d3dc-45a9-ad56-3d065c9d5f51"
#define PG_WEB "87513f2f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define PG_DB "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
#define NET "4d5e6f70-8192-4a3b-9c4d-5e6f70819203"
#define CONN "3a7707ae-0b1c-4d2e-8f30-415263748596"

/* A document as export writes it (its checksum is not checked by diff). */
static const gchar base_doc[] =
  "{\"format\": \"dvs-switch-config\", \"format_version\": 1,"
  " \"created\": \"2026-11-22T03:10:00.123Z\", \"author\": \"uid 0 (:1.42)\","
  " \"comment\": \"before\", \"manager\": \"9b0c\", \"generation\": 12,"
  " \"connections\": true,"
  " \"switch\": {\"uuid\": \"" SW "\", \"name\": \"prod\","
  "  \"forwarding_class\": \"l2-learning\", \"mtu\": 1500,"
  "  \"transport_zone\": \"tz1\", \"uplink\": null,"
  "  \"hosts\": [{\"name\": \"h1\", \"libvirt_uri\": null},"
  "            {\"name\": \"h3\", \"libvirt_uri\": \"qemu+tls://h3/system\"}],"
  "  \"networks\": [{\"uuid\": \"" NET "\", \"name\": \"web\", \"type\": \"vlan\","
  "                \"segment\": 10, \"transport_zone\": \"tz1\"}],"
  "  \"history\": {\"auto\": false, \"keep\": 0},"
  "  \"next_port\": 11,"
  "  \"port_groups\": ["
  "   {\"uuid\": \"" PG_DB "\", \"name\": \"db\", \"config\": {\"vlan\": 30}},"
  "   {\"uuid\": \"" PG_WEB "\", \"name\": \"web\", \"config\": {\"vlan\": 10,"
  "     \"policy\": {\"shaping\": {\"ingress\": {\"enabled\": true,"
  "       \"average_kbps\": 1000}}}}}],"
  "  \"ports\": ["
  "   {\"key\": \"2537be54-0\", \"port_group\": \"" PG_WEB "\","
  "    \"config\": {\"policy\": {\"security\": {\"enabled\": true}}},"
  "    \"connection\": {\"id\": \"" CONN "\", \"host\": \"h1\", \"vm\": \"6f1c\","
  "                   \"mac\": \"52:54:00:00:00:01\", \"interface\": \"net0\"}},"
  "   {\"key\": \"2537be54-1\", \"port_group\": \"" PG_WEB "\", \"connection\": null},"
  "   {\"key\": \"2537be54-2\", \"port_group\": \"" PG_DB "\", \"connection\": null},"
  "   {\"key\": \"2537be54-10\", \"port_group\": \"" PG_DB "\", \"connection\": null}"
  "  ]},"
  " \"checksum\": \"sha256:5d1f\"}";

static JsonNode *
parse (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* The node at @path in @doc: dotted members, array elements by index
 * ("switch.port_groups.1.config"). */
static JsonNode *
node_at (JsonNode *doc, const gchar *path)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *node = doc;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (JSON_NODE_HOLDS_ARRAY (node))
        node = json_array_get_element (json_node_get_array (node),
                                       atoi (parts[i]));
      else
        node = json_object_get_member (json_node_get_object (node), parts[i]);
      g_assert_nonnull (node);
    }
  return node;
}

static JsonObject *
object_at (JsonNode *doc, const gchar *path)
{
  return json_node_get_object (node_at (doc, path));
}

static JsonArray *
array_at (JsonNode *doc, const gchar *path)
{
  return json_node_get_array (node_at (doc, path));
}

/* Sets member @name of the object at @path to the JSON @value. */
static void
set_at (JsonNode *doc, const gchar *path, const gchar *name,
        const gchar *value)
{
  json_object_set_member (object_at (doc, path), name, parse (value));
}

static gchar *
changes_text (JsonNode *diff)
{
  return dvs_json_write (node_at (diff, "changes"), FALSE);
}

static void
assert_changes (JsonNode *diff, const gchar *expected)
{
  g_autofree gchar *got = changes_text (diff);

  g_assert_cmpstr (got, ==, expected);
}

/* The summary as "kind:added/removed/changed ..." for the kinds with any. */
static gchar *
summary_text (JsonNode *diff)
{
  static const gchar *const kinds[] = {
    "switch", "host", "network", "port_group", "port",
  };
  JsonObject *summary = object_at (diff, "summary");
  GString *out = g_string_new (NULL);

  g_assert_cmpuint (json_object_get_size (summary), ==, G_N_ELEMENTS (kinds));
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      JsonObject *counts = json_object_get_object_member (summary, kinds[i]);
      gint64 added = json_object_get_int_member (counts, "added");
      gint64 removed = json_object_get_int_member (counts, "removed");
      gint64 changed = json_object_get_int_member (counts, "changed");

      if (added + removed + changed > 0)
        g_string_append_printf (out, "%s%s:%" G_GINT64_FORMAT "/%"
                                G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                out->len > 0 ? " " : "", kinds[i], added,
                                removed, changed);
    }
  return g_string_free (out, FALSE);
}

static void
assert_summary (JsonNode *diff, const gchar *expected)
{
  g_autofree gchar *got = summary_text (diff);

  g_assert_cmpstr (got, ==, expected);
}

static void
assert_text (JsonNode *diff, const gchar *expected)
{
  g_autofree gchar *got = dvs_snapshot_diff_text (diff);

  g_assert_cmpstr (got, ==, expected);
}

static void
test_identical (void)
{
  g_autoptr (JsonNode) from = parse (base_doc);
  g_autoptr (JsonNode) to = parse (base_doc);
  g_autoptr (JsonNode) diff = NULL, again = NULL;

  diff = dvs_snapshot_diff (from, to);
  assert_changes (diff, "[]");
  assert_summary (diff, "");
  assert_text (diff, "no changes");

  /* Metadata is not compared; nor are member order and the port counter. */
  set_at (to, "", "created", "\"2027-01-01T00:00:00.000Z\"");
  set_at (to, "", "author", "\"dvsmgr (automatic)\"");
  set_at (to, "", "comment", "\"after\"");
  set_at (to, "", "checksum", "\"sha256:0000\"");
  set_at (to, "", "generation", "99");
  set_at (to, "", "manager", "\"other\"");
  set_at (to, "switch", "next_port", "40");
  json_object_remove_member (object_at (to, "switch"), "uplink");  /* null */
  again = dvs_snapshot_diff (from, to);
  assert_changes (again, "[]");
  assert_text (again, "no changes");
  /* Both are the documents they were. */
  g_assert_cmpint (json_object_get_int_member (object_at (from, ""),
                                               "generation"), ==, 12);
}

static void
test_settings (void)
{
  g_autoptr (JsonNode) from = parse (base_doc);
  g_autoptr (JsonNode) to = parse (base_doc);
  g_autoptr (JsonNode) diff = NULL;

  set_at (to, "switch.port_groups.1.config", "vlan", "20");
  set_at (to, "switch.port_groups.1.config.policy.shaping.ingress",
          "average_kbps", "2000");
  set_at (to, "", "comment", "\"after the VLAN change\"");
  diff = dvs_snapshot_diff (from, to);
  assert_changes (diff,
                  "[{\"object\":\"port_group\",\"id\":\"" PG_WEB "\","
                  "\"name\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"config.policy.shaping.ingress.average_kbps\","
                  "\"from\":1000,\"to\":2000},"
                  "{\"object\":\"port_group\",\"id\":\"" PG_WEB "\","
                  "\"name\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"config.vlan\",\"from\":10,\"to\":20}]");
  assert_summary (diff, "port_group:0/0/1");
  assert_text (diff,
               "~ port group web (87513f2f): "
               "config.policy.shaping.ingress.average_kbps 1000 -> 2000\n"
               "~ port group web (87513f2f): config.vlan 10 -> 20");
}

/* The switch level, hosts and networks, with sections appearing and
 * disappearing whole. */
static void
test_switch_hosts_networks (void)
{
  g_autoptr (JsonNode) from = parse (base_doc);
  g_autoptr (JsonNode) to = parse (base_doc);
  g_autoptr (JsonNode) diff = NULL;

  set_at (to, "switch", "mtu", "9000");
  set_at (to, "switch.history", "keep", "5");
  set_at (to, "switch.hosts.1", "libvirt_uri", "null");
  json_array_remove_element (array_at (to, "switch.hosts"), 0);
  json_array_add_element (array_at (to, "switch.hosts"),
                          parse ("{\"name\": \"h2\", \"libvirt_uri\": null}"));
  set_at (to, "switch.networks.0", "segment", "11");
  set_at (to, "switch.port_groups.1.config.policy", "shaping", "null");
  set_at (to, "switch.port_groups.0.config", "policy",
          "{\"security\": {\"enabled\": true}}");
  diff = dvs_snapshot_diff (from, to);
  assert_changes (diff,
                  "[{\"object\":\"switch\",\"id\":\"" SW "\",\"name\":\"prod\","
                  "\"change\":\"changed\",\"setting\":\"history.keep\","
                  "\"from\":0,\"to\":5},"
                  "{\"object\":\"switch\",\"id\":\"" SW "\",\"name\":\"prod\","
                  "\"change\":\"changed\",\"setting\":\"mtu\","
                  "\"from\":1500,\"to\":9000},"
                  "{\"object\":\"host\",\"id\":\"h1\",\"name\":\"h1\","
                  "\"change\":\"removed\"},"
                  "{\"object\":\"host\",\"id\":\"h2\",\"name\":\"h2\","
                  "\"change\":\"added\"},"
                  "{\"object\":\"host\",\"id\":\"h3\",\"name\":\"h3\","
                  "\"change\":\"changed\",\"setting\":\"libvirt_uri\","
                  "\"from\":\"qemu+tls://h3/system\",\"to\":null},"
                  "{\"object\":\"network\",\"id\":\"" NET "\",\"name\":\"web\","
                  "\"change\":\"changed\",\"setting\":\"segment\","
                  "\"from\":10,\"to\":11},"
                  "{\"object\":\"port_group\",\"id\":\"" PG_DB "\","
                  "\"name\":\"db\",\"change\":\"changed\","
                  "\"setting\":\"config.policy\",\"from\":null,"
                  "\"to\":{\"security\":{\"enabled\":true}}},"
                  "{\"object\":\"port_group\",\"id\":\"" PG_WEB "\","
                  "\"name\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"config.policy.shaping\","
                  "\"from\":{\"ingress\":{\"enabled\":true,\"average_kbps\":1000}},"
                  "\"to\":null}]");
  assert_summary (diff, "switch:0/0/1 host:1/1/1 network:0/0/1 "
                  "port_group:0/0/2");
  assert_text (diff,
               "~ switch prod (2537be54): history.keep 0 -> 5\n"
               "~ switch prod (2537be54): mtu 1500 -> 9000\n"
               "- host h1\n"
               "+ host h2\n"
               "~ host h3: libvirt_uri \"qemu+tls://h3/system\" -> null\n"
               "~ network web (4d5e6f70): segment 10 -> 11\n"
               "~ port group db (1c2d3e4f): config.policy null -> "
               "{\"security\":{\"enabled\":true}}\n"
               "~ port group web (87513f2f): config.policy.shaping "
               "{\"ingress\":{\"enabled\":true,\"average_kbps\":1000}} -> null");
}

static void
test_added_removed (void)
{
  g_autoptr (JsonNode) from = parse (base_doc);
  g_autoptr (JsonNode) to = parse (base_doc);
  g_autoptr (JsonNode) diff = NULL;
  JsonArray *groups = array_at (to, "switch.port_groups");
  JsonArray *ports = array_at (to, "switch.ports");

  /* db goes with its ports 2 and 10; "app" comes with port 4; port 1
   * moves to app; port 3 appears in web. */
  json_array_remove_element (ports, 3);
  json_array_remove_element (ports, 2);
  json_array_remove_element (groups, 0);
  json_array_add_element (groups,
                          parse ("{\"uuid\": \"ffffffff-0000-4000-8000-000000000001\","
                                 " \"name\": \"app\", \"config\": {\"vlan\": 40}}"));
  json_array_add_element (ports,
                          parse ("{\"key\": \"2537be54-4\", \"port_group\":"
                                 " \"ffffffff-0000-4000-8000-000000000001\","
                                 " \"connection\": null}"));
  json_array_add_element (ports,
                          parse ("{\"key\": \"2537be54-3\", \"port_group\":"
                                 " \"" PG_WEB "\", \"config\": {\"vlan\": 5},"
                                 " \"connection\": null}"));
  set_at (to, "switch.ports.1", "port_group",
          "\"ffffffff-0000-4000-8000-000000000001\"");
  diff = dvs_snapshot_diff (from, to);
  assert_changes (diff,
                  "[{\"object\":\"port_group\","
                  "\"id\":\"ffffffff-0000-4000-8000-000000000001\","
                  "\"name\":\"app\",\"change\":\"added\"},"
                  "{\"object\":\"port_group\",\"id\":\"" PG_DB "\","
                  "\"name\":\"db\",\"change\":\"removed\"},"
                  "{\"object\":\"port\",\"id\":\"2537be54-1\",\"name\":null,"
                  "\"port_group\":\"app\",\"change\":\"changed\","
                  "\"setting\":\"port_group\",\"from\":\"web\",\"to\":\"app\"},"
                  "{\"object\":\"port\",\"id\":\"2537be54-2\",\"name\":null,"
                  "\"port_group\":\"db\",\"change\":\"removed\"},"
                  "{\"object\":\"port\",\"id\":\"2537be54-3\",\"name\":null,"
                  "\"port_group\":\"web\",\"change\":\"added\"},"
                  "{\"object\":\"port\",\"id\":\"2537be54-4\",\"name\":null,"
                  "\"port_group\":\"app\",\"change\":\"added\"},"
                  "{\"object\":\"port\",\"id\":\"2537be54-10\",\"name\":null,"
                  "\"port_group\":\"db\",\"change\":\"removed\"}]");
  assert_summary (diff, "port_group:1/1/0 port:2/2/1");
  assert_text (diff,
               "+ port group app (ffffffff)\n"
               "- port group db (1c2d3e4f)\n"
               "~ port 2537be54-1 (port group app): port_group \"web\" -> \"app\"\n"
               "- port 2537be54-2 (port group db)\n"
               "+ port 2537be54-3 (port group web)\n"
               "+ port 2537be54-4 (port group app)\n"
               "- port 2537be54-10 (port group db)");
}

/* A port's group that one document lacks is reported by UUID; config
 * overrides appear whole or by setting. */
static void
test_port_config (void)
{
  g_autoptr (JsonNode) from = parse (base_doc);
  g_autoptr (JsonNode) to = parse (base_doc);
  g_autoptr (JsonNode) diff = NULL;

  set_at (to, "switch.ports.0.config.policy.security", "enabled", "false");
  set_at (to, "switch.ports.1", "config", "{\"vlan\": 7}");
  set_at (to, "switch.ports.2", "port_group", "\"ffffffff-0000-4000-8000-00000000000f\"");
  diff = dvs_snapshot_diff (from, to);
  assert_changes (diff,
                  "[{\"object\":\"port\",\"id\":\"2537be54-0\",\"name\":null,"
                  "\"port_group\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"config.policy.security.enabled\","
                  "\"from\":true,\"to\":false},"
                  "{\"object\":\"port\",\"id\":\"2537be54-1\",\"name\":null,"
                  "\"port_group\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"config\",\"from\":null,\"to\":{\"vlan\":7}},"
                  "{\"object\":\"port\",\"id\":\"2537be54-2\",\"name\":null,"
                  "\"port_group\":\"ffffffff-0000-4000-8000-00000000000f\","
                  "\"change\":\"changed\",\"setting\":\"port_group\","
                  "\"from\":\"" PG_DB "\","
                  "\"to\":\"ffffffff-0000-4000-8000-00000000000f\"}]");
  assert_summary (diff, "port:0/0/3");
}

static void
test_connections (void)
{
  g_autoptr (JsonNode) from = parse (base_doc);
  g_autoptr (JsonNode) to = parse (base_doc);
  g_autoptr (JsonNode) diff = NULL, without = NULL, neither = NULL;

  set_at (to, "switch.ports.0.connection", "host", "\"h3\"");
  set_at (to, "switch.ports.0.connection", "id",
          "\"00000000-1111-4222-8333-444444444444\"");
  set_at (to, "switch.ports.1", "connection",
          "{\"id\": \"" CONN "\", \"host\": \"h1\", \"vm\": \"77\","
          " \"mac\": \"52:54:00:00:00:02\", \"interface\": \"net0\"}");
  diff = dvs_snapshot_diff (from, to);
  assert_changes (diff,
                  "[{\"object\":\"port\",\"id\":\"2537be54-0\",\"name\":null,"
                  "\"port_group\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"connection.host\",\"from\":\"h1\",\"to\":\"h3\"},"
                  "{\"object\":\"port\",\"id\":\"2537be54-0\",\"name\":null,"
                  "\"port_group\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"connection.id\",\"from\":\"" CONN "\","
                  "\"to\":\"00000000-1111-4222-8333-444444444444\"},"
                  "{\"object\":\"port\",\"id\":\"2537be54-1\",\"name\":null,"
                  "\"port_group\":\"web\",\"change\":\"changed\","
                  "\"setting\":\"connection\",\"from\":null,"
                  "\"to\":{\"id\":\"" CONN "\",\"host\":\"h1\",\"vm\":\"77\","
                  "\"mac\":\"52:54:00:00:00:02\",\"interface\":\"net0\"}}]");
  assert_summary (diff, "port:0/0/2");
  assert_text (diff,
               "~ port 2537be54-0 (port group web): connection.host \"h1\" -> \"h3\"\n"
               "~ port 2537be54-0 (port group web): connection.id \"" CONN
               "\" -> \"00000000-1111-4222-8333-444444444444\"\n"
               "~ port 2537be54-1 (port group web): connection null -> "
               "{\"id\":\"" CONN "\",\"host\":\"h1\",\"vm\":\"77\","
               "\"mac\":\"52:54:00:00:00:02\",\"interface\":\"net0\"}");

  /* One side without connections: they are not compared, in either
   * direction (here the connections are even still in the document). */
  set_at (from, "", "connections", "false");
  without = dvs_snapshot_diff (from, to);
  assert_changes (without, "[]");
  g_clear_pointer (&without, json_node_unref);
  without = dvs_snapshot_diff (to, from);
  assert_changes (without, "[]");

  /* Neither flag at all. */
  json_object_remove_member (object_at (from, ""), "connections");
  json_object_remove_member (object_at (to, ""), "connections");
  neither = dvs_snapshot_diff (from, to);
  assert_changes (neither, "[]");
}

/* Documents that were never validated: nothing crashes, absent things are
 * absent, garbage elements are skipped. */
static void
test_missing_members (void)
{
  g_autoptr (JsonNode) doc = parse (base_doc);
  g_autoptr (JsonNode) empty = parse ("{}");
  g_autoptr (JsonNode) array = parse ("[1, 2]");
  g_autoptr (JsonNode) wrong = parse ("{\"connections\": \"yes\", \"switch\": 5}");
  g_autoptr (JsonNode) garbage =
    parse ("{\"connections\": true, \"switch\": {\"uuid\": 7, \"name\": null,"
           " \"mtu\": \"big\", \"hosts\": {}, \"networks\": [1, null, [], {},"
           " {\"uuid\": 3}], \"port_groups\": [{\"uuid\": \"" PG_WEB "\"},"
           " {\"uuid\": \"" PG_WEB "\", \"name\": \"dup\"}, \"x\"],"
           " \"ports\": [{\"key\": \"2537be54-0\", \"port_group\": 9,"
           " \"config\": 3, \"connection\": \"x\"}, {\"key\": \"\"},"
           " {\"key\": \"a-b-\"}, {\"key\": \"a-007\"}, {\"key\": \"a-7\"},"
           " {\"key\": \"-5\"}, {\"key\": \"a-1x\"}]}}");
  JsonNode *docs[] = { NULL, empty, array, wrong, garbage, doc };

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (docs); j++)
      {
        g_autoptr (JsonNode) diff = dvs_snapshot_diff (docs[i], docs[j]);
        g_autofree gchar *text = dvs_snapshot_diff_text (diff);

        g_assert_nonnull (text);
        if (i == j)
          g_assert_cmpstr (text, ==, "no changes");
      }

  /* From nothing to a document: all of it is added. */
  {
    g_autoptr (JsonNode) diff = dvs_snapshot_diff (empty, doc);
    g_autofree gchar *text = dvs_snapshot_diff_text (diff);

    assert_summary (diff, "switch:0/0/1 host:2/0/0 network:1/0/0 "
                    "port_group:2/0/0 port:4/0/0");
    g_assert_true (g_str_has_prefix (text,
                                     "~ switch prod (2537be54): "
                                     "forwarding_class null -> \"l2-learning\"\n"));
    g_assert_nonnull (strstr (text, "\n+ port 2537be54-10 (port group db)"));
  }
  /* Garbage keys still sort: by prefix, numbered ones first (a-007 and
   * a-7 are the same number, the tie broken byte-wise); the duplicate
   * UUID counts once. */
  {
    g_autoptr (JsonNode) diff = dvs_snapshot_diff (empty, garbage);
    g_autofree gchar *text = dvs_snapshot_diff_text (diff);

    g_assert_cmpstr (text, ==,
                     "~ switch ?: mtu null -> \"big\"\n"
                     "~ switch ?: uuid null -> 7\n"
                     "+ port group 87513f2f-5a6b-4c7d-8e9f-0a1b2c3d4e5f\n"
                     "+ port -5\n"
                     "+ port ?\n"
                     "+ port 2537be54-0\n"
                     "+ port a-007\n"
                     "+ port a-7\n"
                     "+ port a-1x\n"
                     "+ port a-b-");
  }
  /* A diff that is not one still has a readable form. */
  {
    g_autoptr (JsonNode) odd = parse ("{\"changes\": [1, {}, {\"object\":"
                                      " \"port\", \"change\": \"changed\","
                                      " \"setting\": \"mtu\"}]}");
    g_autofree gchar *text = dvs_snapshot_diff_text (odd);
    g_autofree gchar *none = dvs_snapshot_diff_text (NULL);

    g_assert_cmpstr (text, ==, "~ object ?\n~ port ?: mtu null -> null");
    g_assert_cmpstr (none, ==, "no changes");
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dvsmgr/snapshot-diff/identical", test_identical);
  g_test_add_func ("/dvsmgr/snapshot-diff/settings", test_settings);
  g_test_add_func ("/dvsmgr/snapshot-diff/switch-hosts-networks",
                   test_switch_hosts_networks);
  g_test_add_func ("/dvsmgr/snapshot-diff/added-removed", test_added_removed);
  g_test_add_func ("/dvsmgr/snapshot-diff/port-config", test_port_config);
  g_test_add_func ("/dvsmgr/snapshot-diff/connections", test_connections);
  g_test_add_func ("/dvsmgr/snapshot-diff/missing-members",
                   test_missing_members);
  return g_test_run ();
}
