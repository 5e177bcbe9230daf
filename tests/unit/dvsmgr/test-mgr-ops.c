/* dvsmgr's model and operations (core/mgr.h) without D-Bus: mgr->objects
 * stays NULL, so the dvs_mgr_dbus_* calls do nothing.  Each test has a real
 * SQLite store in a temporary directory and reloads it (close, reopen,
 * dvs_mgr_new) to check what was written: names refused, everything
 * surviving a restart, connect/disconnect/revoke/allocate, port group
 * configs checked with the host's rules, the host documents and their
 * digests, the refusals of leave and delete, port state reports, a commit
 * that fails on a full disk changing nothing, and the push engine with a
 * member host that is not connected.
 *
 * The tests under /dvsmgr/ops/bug/ run in a child process of their own:
 * each expects the correct behaviour of something the code under test got
 * wrong when they were written, so a crash or a leak report fails that
 * test alone. */
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "mgr.h"
#include <sys/socket.h>
#include "dvs-jsonrpc.h"
#include "dvport/dvport-spec.h"
#include "test-util.h"
#include "dvs-json-write.h"

#define VM1 "6f1c1a52-8d0e-4c43-9a44-1b2f3c4d5e6f"
#define VM2 "0b7e2c9a-3f4d-4e5f-8a9b-0c1d2e3f4a5b"
#define MAC1 "52:54:00:12:34:56"
#define MAC2 "52:54:00:ab:cd:ef"

typedef struct {
  gchar *root;
  gchar *path;          /* ROOT/dvsmgr.db */
  DvsMgrStore *store;
  DvsMgr *mgr;
} Fixture;

/* ---- warnings the code under test is expected to log ------------------- */

/* Structured warnings (g_log_structured) are not seen by
 * g_test_expect_message; a test lists the ones it causes here and the
 * writer swallows and counts them.  Any other warning stays fatal. */
typedef struct {
  const gchar *domain;
  const gchar *needle;
  guint seen;
} Allowed;

static Allowed allowed[4];
static guint n_allowed;

static void
allow_warning (const gchar *domain, const gchar *needle)
{
  g_assert_cmpuint (n_allowed, <, G_N_ELEMENTS (allowed));
  allowed[n_allowed++] = (Allowed) { domain, needle, 0 };
}

static guint
allowed_seen (const gchar *needle)
{
  for (guint i = 0; i < n_allowed; i++)
    if (g_str_equal (allowed[i].needle, needle))
      return allowed[i].seen;
  g_assert_not_reached ();
}

static gchar *
field_text (const GLogField *field)
{
  return g_strndup (field->value, field->length < 0 ? strlen (field->value)
                                                    : (gsize) field->length);
}

static GLogWriterOutput
test_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
             gpointer user_data)
{
  g_autofree gchar *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = field_text (&fields[i]);
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = field_text (&fields[i]);
    }
  if ((level & G_LOG_LEVEL_WARNING) && domain && message)
    for (guint i = 0; i < n_allowed; i++)
      if (g_str_equal (domain, allowed[i].domain)
          && strstr (message, allowed[i].needle) != NULL)
        {
          allowed[i].seen++;
          g_test_message ("expected warning: %s: %s", domain, message);
          return G_LOG_WRITER_HANDLED;
        }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

/* ---- fixture ------------------------------------------------------------ */

static void
mgr_open (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->store = dvs_mgr_store_open (f->path, &error);
  g_assert_no_error (error);
  f->mgr = dvs_mgr_new (f->store, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->mgr);
}

static void
mgr_close (Fixture *f)
{
  if (f->mgr != NULL)
    g_clear_pointer (&f->mgr->push, mgr_push_free);
  g_clear_pointer (&f->mgr, dvs_mgr_free);
  g_clear_pointer (&f->store, dvs_mgr_store_close);
}

/* What a restarted manager would see.  Every pointer into the old model
 * is stale afterwards. */
static void
reload (Fixture *f)
{
  mgr_close (f);
  mgr_open (f);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  n_allowed = 0;
  f->root = dvs_test_make_tmp_dir ("dvsmgr-ops-XXXXXX");
  f->path = g_build_filename (f->root, "dvsmgr.db", NULL);
  mgr_open (f);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  mgr_close (f);
  dvs_test_remove_tree (f->root);
  g_free (f->path);
  g_free (f->root);
}

/* ---- the model as text, to compare before and after a reload ------------ */

static const gchar *
or_dash (const gchar *s)
{
  return s ? s : "-";
}

static gchar *
node_text (JsonNode *node)
{
  return node ? dvs_json_write (node, FALSE) : g_strdup ("-");
}

static gchar *
strv_text (GPtrArray *a)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < a->len; i++)
    g_string_append_printf (s, "%s%s", i ? "," : "", (const gchar *) a->pdata[i]);
  return g_string_free (s, FALSE);
}

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

/* Everything the store keeps, one sorted line per object.  A host's
 * last_seen and transport_zones are left out: tests set them in memory to
 * stand for a host that reported, which the store does not see. */
static gchar *
model_text (DvsMgr *mgr)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter it, hi;
  gpointer k, v;

  g_hash_table_iter_init (&it, mgr->switches);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrSwitch *sw = v;
      g_autofree gchar *hosts = strv_text (sw->hosts);
      g_autoptr (GPtrArray) by_host = g_ptr_array_new_with_free_func (g_free);
      g_autofree gchar *by_host_text = NULL;

      g_hash_table_iter_init (&hi, sw->by_host);
      while (g_hash_table_iter_next (&hi, &k, &v))
        g_ptr_array_add (by_host, g_strdup_printf ("%s:%u", (const gchar *) k,
                                                   g_hash_table_size (v)));
      g_ptr_array_sort (by_host, compare_lines);
      by_host_text = strv_text (by_host);
      g_ptr_array_add (lines, g_strdup_printf (
        "switch %s name=%s fwd=%s mtu=%u tz=%s hosts=%s gen=%" G_GUINT64_FORMAT
        " next=%" G_GUINT64_FORMAT " groups=%u ports=%u by_host=%s",
        sw->uuid, sw->name, sw->forwarding_class, sw->mtu, sw->transport_zone, hosts,
        sw->generation, sw->next_port, g_hash_table_size (sw->port_groups),
        g_hash_table_size (sw->ports), by_host_text));
    }
  g_hash_table_iter_init (&it, mgr->port_groups);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrPortGroup *pg = v;
      g_autofree gchar *config = node_text (pg->config);

      g_ptr_array_add (lines, g_strdup_printf ("group %s switch=%s name=%s config=%s ports=%u",
                                               pg->uuid, pg->switch_uuid, pg->name, config,
                                               g_hash_table_size (pg->ports)));
    }
  g_hash_table_iter_init (&it, mgr->ports);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrPort *p = v;
      g_autofree gchar *config = node_text (p->config);
      g_autofree gchar *stats = node_text (p->stats);

      g_ptr_array_add (lines, g_strdup_printf (
        "port %s switch=%s group=%s config=%s host=%s conn=%s vm=%s mac=%s iface=%s "
        "link=%s stats=%s time=%" G_GINT64_FORMAT,
        p->key, p->switch_uuid, p->pg_uuid, config, or_dash (p->host),
        or_dash (p->connection), or_dash (p->vm), or_dash (p->mac), or_dash (p->iface),
        or_dash (p->link), stats, p->stats_time));
    }
  g_hash_table_iter_init (&it, mgr->hosts);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrHost *h = v;

      g_ptr_array_add (lines, g_strdup_printf ("host %s uri=%s", h->name,
                                               or_dash (h->libvirt_uri)));
    }
  g_hash_table_iter_init (&it, mgr->networks);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MgrNetwork *n = v;

      g_ptr_array_add (lines, g_strdup_printf ("network %s name=%s type=%s segment=%u tz=%s",
                                               n->uuid, n->name, n->type, n->segment,
                                               n->transport_zone));
    }
  g_ptr_array_sort (lines, compare_lines);
  g_ptr_array_add (lines, NULL);
  return g_strjoinv ("\n", (gchar **) lines->pdata);
}

static gchar *
counts_text (DvsMgr *mgr)
{
  return g_strdup_printf ("switches=%u groups=%u ports=%u hosts=%u networks=%u",
                          g_hash_table_size (mgr->switches),
                          g_hash_table_size (mgr->port_groups),
                          g_hash_table_size (mgr->ports),
                          g_hash_table_size (mgr->hosts),
                          g_hash_table_size (mgr->networks));
}

static void
assert_counts (DvsMgr *mgr, const gchar *expected)
{
  g_autofree gchar *got = counts_text (mgr);

  g_assert_cmpstr (got, ==, expected);
}

/* Reloads and checks that the store held exactly what memory held. */
static void
assert_survives_reload (Fixture *f)
{
  g_autofree gchar *before = model_text (f->mgr);
  g_autofree gchar *after = NULL;

  reload (f);
  after = model_text (f->mgr);
  g_assert_cmpstr (after, ==, before);
}

/* ---- helpers ------------------------------------------------------------- */

/* Checks @error's domain, code and that its message names @needle; clears. */
static void
assert_error (GError **error, DvsMgrErrorCode code, const gchar *needle)
{
  g_autofree gchar *shown = NULL;

  g_assert_nonnull (*error);
  /* escaped: the TAP stream must stay valid UTF-8 */
  shown = g_strescape ((*error)->message, NULL);
  g_test_message ("refused as expected: %s", shown);
  g_assert_error (*error, DVS_MGR_ERROR, (gint) code);
  if (needle != NULL && strstr ((*error)->message, needle) == NULL)
    g_error ("\"%s\" not in \"%s\"", needle, (*error)->message);
  g_clear_error (error);
}

static MgrSwitch *
switch_ok (Fixture *f, const gchar *name, const gchar *config)
{
  g_autoptr (GError) error = NULL;
  MgrSwitch *sw = dvs_mgr_create_switch (f->mgr, name, config, &error);

  g_assert_no_error (error);
  g_assert_nonnull (sw);
  return sw;
}

static MgrPortGroup *
group_ok (Fixture *f, MgrSwitch *sw, const gchar *name, const gchar *config, guint n)
{
  g_autoptr (GError) error = NULL;
  MgrPortGroup *pg = dvs_mgr_add_port_group (f->mgr, sw, name, config, n, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pg);
  g_assert_cmpuint (g_hash_table_size (pg->ports), ==, n);
  return pg;
}

/* A registered host that has reported once (what a hello does), serving
 * transport zone @tz (NULL: none). */
static MgrHost *
host_seen (Fixture *f, const gchar *name, const gchar *tz)
{
  g_autoptr (GError) error = NULL;
  MgrHost *h = dvs_mgr_register_host (f->mgr, name, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (h);
  h->last_seen = 1;
  if (tz != NULL)
    g_ptr_array_add (h->transport_zones, g_strdup (tz));
  return h;
}

static void
join_ok (Fixture *f, MgrSwitch *sw, const gchar *host)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (dvs_mgr_join_host (f->mgr, sw, host, &error));
  g_assert_no_error (error);
}

/* The port of @sw numbered @n: keys are "UUID8-N". */
static MgrPort *
port_n (Fixture *f, MgrSwitch *sw, guint n)
{
  g_autofree gchar *key = g_strdup_printf ("%.8s-%u", sw->uuid, n);
  MgrPort *p = g_hash_table_lookup (f->mgr->ports, key);

  g_assert_nonnull (p);
  g_assert_true (g_hash_table_lookup (sw->ports, key) == p);
  return p;
}

static gchar *
connect_ok (Fixture *f, MgrPort *p, const gchar *host, const gchar *vm, const gchar *mac)
{
  g_autoptr (GError) error = NULL;
  gchar *conn = dvs_mgr_port_connect (f->mgr, p, host, vm, mac, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (conn);
  return conn;
}

static void
disconnect_ok (Fixture *f, MgrPort *p)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (dvs_mgr_port_disconnect (f->mgr, p, &error));
  g_assert_no_error (error);
}

static gboolean
delegated (MgrSwitch *sw, const gchar *host, const gchar *key)
{
  GHashTable *set = g_hash_table_lookup (sw->by_host, host);

  return set != NULL && g_hash_table_contains (set, key);
}

static JsonNode *
parse_json (const gchar *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

/* ---- names --------------------------------------------------------------- */

/* Bad names and configs are refused with the right code, and nothing of
 * them reaches the store. */
static void
test_names (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *n64 = g_strnfill (64, 'n');
  g_autofree gchar *n65 = g_strnfill (65, 'n');
  g_autofree gchar *tz65 = g_strdup_printf ("{\"transport_zone\":\"%s\"}", n65);
  g_autofree gchar *rename = g_strdup_printf ("{\"name\":\"%s\"}", n64);
  g_autofree gchar *before = NULL;
  const gchar *bad_names[] = { "", n65, "tab\there", "new\nline", "del\x7f", "esc\x1b[0m",
                               "\xff\xfe", NULL };
  const gchar *bad_hosts[] = { "", n65, "two words", "tab\t", "h/1", "h:1", "h\xc3\xa9", NULL };
  const struct {
    const gchar *config;
    const gchar *needle;
  } bad_configs[] = {
    { "{", "not valid JSON" },
    { "[1]", "must be a JSON object" },
    { "{\"mtu\":67}", "mtu" },
    { "{\"mtu\":\"big\"}", "mtu" },
    { "{\"forwarding_class\":\"ovs\"}", "forwarding_class 'ovs'" },
    { "{\"forwarding_class\":7}", "forwarding_class" },
    { tz65, "transport_zone" },
  };
  MgrSwitch *sw, *other;
  MgrPortGroup *pg;
  guint64 gen;

  sw = switch_ok (f, "prod", NULL);
  other = switch_ok (f, n64, "{\"mtu\":9000}");
  g_assert_cmpuint (other->mtu, ==, 9000);
  g_assert_cmpstr (sw->forwarding_class, ==, "l2-learning");
  g_assert_cmpuint (sw->mtu, ==, 1500);
  g_assert_cmpuint (sw->generation, ==, 1);

  for (guint i = 0; bad_names[i]; i++)
    {
      g_assert_null (dvs_mgr_create_switch (f->mgr, bad_names[i], NULL, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "the switch name");
    }
  g_assert_null (dvs_mgr_create_switch (f->mgr, NULL, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "the switch name");
  g_assert_null (dvs_mgr_create_switch (f->mgr, "tab\there", NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "control characters");
  /* U+001F and C1 controls too: the rule dvs-switchd applies (dvs-names.h). */
  g_assert_null (dvs_mgr_create_switch (f->mgr, "a\x1f" "b", NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "control characters");
  g_assert_null (dvs_mgr_create_switch (f->mgr, "a\xc2\x9b" "2J", NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "control characters");
  g_assert_null (dvs_mgr_create_switch (f->mgr, "prod", NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_EXISTS, "'prod'");
  for (guint i = 0; i < G_N_ELEMENTS (bad_configs); i++)
    {
      g_assert_null (dvs_mgr_create_switch (f->mgr, "fresh", bad_configs[i].config, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, bad_configs[i].needle);
    }

  /* Renaming onto another switch's name. */
  gen = sw->generation;
  g_assert_false (dvs_mgr_switch_set_config (f->mgr, sw, rename, &error));
  assert_error (&error, DVS_MGR_ERROR_EXISTS, "exists");
  g_assert_false (dvs_mgr_switch_set_config (f->mgr, sw, "{\"name\":\"\"}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "the switch name");
  g_assert_cmpstr (sw->name, ==, "prod");
  g_assert_cmpuint (sw->generation, ==, gen);

  /* Port groups: names are unique within a switch, not across switches. */
  pg = group_ok (f, sw, "web", NULL, 2);
  group_ok (f, other, "web", NULL, 1);
  for (guint i = 0; bad_names[i]; i++)
    {
      g_assert_null (dvs_mgr_add_port_group (f->mgr, sw, bad_names[i], NULL, 1, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "the port group name");
    }
  g_assert_null (dvs_mgr_add_port_group (f->mgr, sw, "web", NULL, 1, &error));
  assert_error (&error, DVS_MGR_ERROR_EXISTS, "'web'");
  g_assert_null (dvs_mgr_add_port_group (f->mgr, sw, "big", NULL, 4097, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "4096");
  g_assert_null (dvs_mgr_port_group_add_ports (f->mgr, pg, 0, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "count");

  /* Hosts: a host name names files and is a certificate's CN. */
  g_assert_nonnull (dvs_mgr_register_host (f->mgr, "h1.example-net_2", "{\"libvirt_uri\":\"qemu:///system\"}", &error));
  g_assert_no_error (error);
  for (guint i = 0; bad_hosts[i]; i++)
    {
      g_assert_null (dvs_mgr_register_host (f->mgr, bad_hosts[i], NULL, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "host name");
    }
  g_assert_null (dvs_mgr_register_host (f->mgr, NULL, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "host name");
  g_assert_null (dvs_mgr_register_host (f->mgr, "h1.example-net_2", NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_EXISTS, "registered already");
  g_assert_null (dvs_mgr_register_host (f->mgr, "h2", "{\"libvirt_uri\":5}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "libvirt_uri");
  g_assert_null (dvs_mgr_register_host (f->mgr, "h2", "[]", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "JSON object");

  /* Networks. */
  g_assert_nonnull (dvs_mgr_create_network (f->mgr, "v10", "vlan", 10, "", &error));
  g_assert_no_error (error);
  g_assert_null (dvs_mgr_create_network (f->mgr, "v10", "vxlan", 10, "", &error));
  assert_error (&error, DVS_MGR_ERROR_EXISTS, "'v10'");
  g_assert_null (dvs_mgr_create_network (f->mgr, "", "vlan", 10, "", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "the network name");
  g_assert_null (dvs_mgr_create_network (f->mgr, "v0", "vlan", 4095, "", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "segment");
  g_assert_null (dvs_mgr_create_network (f->mgr, "g0", "geneve", 1, "", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "type");

  /* None of the refused ones reached the store. */
  before = counts_text (f->mgr);
  g_assert_cmpstr (before, ==, "switches=2 groups=2 ports=3 hosts=1 networks=1");
  assert_survives_reload (f);
  assert_counts (f->mgr, before);
}

/* ---- reload -------------------------------------------------------------- */

static void
test_reload (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) old_keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (JsonNode) state = NULL;
  g_autofree gchar *uuid = NULL, *pg_uuid = NULL, *manager = NULL;
  g_autofree gchar *conn = NULL, *key3 = NULL, *state_text = NULL;
  MgrSwitch *sw;
  MgrPortGroup *pg;
  MgrHost *h;
  MgrPort *p;
  guint64 gen;
  GHashTableIter it;
  gpointer k;

  sw = switch_ok (f, "prod", "{\"mtu\":9000,\"transport_zone\":\"tz-a\"}");
  h = dvs_mgr_register_host (f->mgr, "h1", "{\"libvirt_uri\":\"qemu+ssh://h1/system\"}", &error);
  g_assert_no_error (error);
  h->last_seen = 1;
  g_ptr_array_add (h->transport_zones, g_strdup ("tz-a"));
  join_ok (f, sw, "h1");
  host_seen (f, "h2", "tz-a");
  join_ok (f, sw, "h2");
  pg = group_ok (f, sw, "web", "{\"vlan\":10}", 12);
  group_ok (f, sw, "db", "{\"policy\":{\"shaping\":{\"ingress\":{\"average_kbps\":1000}}}}", 1);
  p = port_n (f, sw, 3);
  conn = dvs_mgr_port_connect (f->mgr, p, "h1", VM1, MAC1, "eth0", &error);
  g_assert_no_error (error);
  g_clear_pointer (&conn, g_free);
  conn = dvs_mgr_port_revoke (f->mgr, p, &error);
  g_assert_no_error (error);
  g_assert_true (dvs_mgr_port_set_config (f->mgr, p, "{\"vlan\":20}", &error));
  g_assert_no_error (error);
  g_free (connect_ok (f, port_n (f, sw, 11), "h2", VM2, MAC2));
  state_text = g_strdup_printf ("{\"switch\":\"%s\",\"port\":\"%s\",\"connection\":\"%s\","
                                "\"link\":\"up\",\"stats\":{\"rx_packets\":7},\"time\":42}",
                                sw->uuid, p->key, conn);
  state = parse_json (state_text);
  g_assert_true (dvs_mgr_port_report_state (f->mgr, "h1", json_node_get_object (state), &error));
  g_assert_no_error (error);
  g_assert_nonnull (dvs_mgr_create_network (f->mgr, "v10", "vlan", 10, "tz-a", &error));
  g_assert_no_error (error);

  uuid = g_strdup (sw->uuid);
  pg_uuid = g_strdup (pg->uuid);
  key3 = g_strdup (p->key);
  manager = g_strdup (f->mgr->manager_uuid);
  gen = sw->generation;
  g_assert_cmpuint (sw->next_port, ==, 13);
  g_hash_table_iter_init (&it, f->mgr->ports);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_hash_table_add (old_keys, g_strdup (k));

  assert_survives_reload (f);
  assert_counts (f->mgr, "switches=1 groups=2 ports=13 hosts=2 networks=1");

  /* The same objects, field by field where model_text() is not enough. */
  g_assert_cmpstr (f->mgr->manager_uuid, ==, manager);
  sw = dvs_mgr_switch_lookup (f->mgr, uuid, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sw->name, ==, "prod");
  g_assert_cmpuint (sw->mtu, ==, 9000);
  g_assert_cmpstr (sw->transport_zone, ==, "tz-a");
  g_assert_cmpuint (sw->hosts->len, ==, 2);
  g_assert_true (dvs_mgr_switch_has_host (sw, "h1"));
  g_assert_true (dvs_mgr_switch_has_host (sw, "h2"));
  g_assert_cmpuint (sw->generation, ==, gen);
  g_assert_cmpuint (sw->next_port, ==, 13);
  p = dvs_mgr_port_lookup (f->mgr, key3, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->connection, ==, conn);
  g_assert_cmpstr (p->vm, ==, VM1);
  g_assert_cmpstr (p->mac, ==, MAC1);
  g_assert_cmpstr (p->iface, ==, "eth0");
  g_assert_cmpstr (p->host, ==, "h1");
  g_assert_true (delegated (sw, "h1", key3));
  g_assert_true (delegated (sw, "h2", port_n (f, sw, 11)->key));
  g_assert_cmpuint (g_hash_table_size (g_hash_table_lookup (sw->by_host, "h1")), ==, 1);
  g_assert_cmpstr (p->link, ==, "up");
  g_assert_cmpint (p->stats_time, ==, 42);
  {
    g_autofree gchar *stats = dvs_json_write (p->stats, FALSE);
    g_assert_cmpstr (stats, ==, "{\"rx_packets\":7}");
  }
  g_assert_cmpstr (dvs_mgr_host_lookup (f->mgr, "h1", NULL)->libvirt_uri, ==, "qemu+ssh://h1/system");
  pg = dvs_mgr_port_group_lookup (f->mgr, pg_uuid, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (pg->ports), ==, 12);

  /* New keys continue the counter: none is reused. */
  keys = dvs_mgr_port_group_add_ports (f->mgr, pg, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (keys->len, ==, 2);
  for (guint i = 0; i < keys->len; i++)
    {
      g_autofree gchar *expected = g_strdup_printf ("%.8s-%u", uuid, 13 + i);

      g_assert_false (g_hash_table_contains (old_keys, keys->pdata[i]));
      g_assert_cmpstr (keys->pdata[i], ==, expected);
    }
  g_assert_cmpuint (sw->next_port, ==, 15);
  assert_survives_reload (f);
  for (guint i = 0; i < keys->len; i++)
    g_assert_nonnull (dvs_mgr_port_lookup (f->mgr, keys->pdata[i], NULL));
  sw = dvs_mgr_switch_lookup (f->mgr, uuid, NULL);
  g_assert_cmpuint (sw->next_port, ==, 15);
}

/* ---- connect, disconnect, revoke, allocate, join ------------------------- */

static void
test_connect (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *conn = NULL, *conn2 = NULL, *long_iface = g_strnfill (65, 'i');
  g_autofree gchar *before = NULL, *key4 = NULL;
  const gchar *bad_vms[] = { "", "not-a-uuid", VM1 "0", "6f1c1a52-8d0e-4c43-9a44-1b2f3c4d5e6g", NULL };
  const gchar *bad_macs[] = { "", "52:54:00:12:34", "52:54:00:12:34:5g", "zz",
                              "01:00:5e:00:00:01", "ff:ff:ff:ff:ff:ff", NULL };
  MgrSwitch *sw;
  MgrPortGroup *pg;
  MgrHost *h1;
  MgrPort *p, *q;
  guint64 gen;

  sw = switch_ok (f, "prod", "{\"transport_zone\":\"tz-a\"}");
  pg = group_ok (f, sw, "web", NULL, 12);

  /* Join needs a host that reported, with the switch's transport zone. */
  g_assert_false (dvs_mgr_join_host (f->mgr, sw, "nope", &error));
  assert_error (&error, DVS_MGR_ERROR_NOT_FOUND, "nope");
  h1 = dvs_mgr_register_host (f->mgr, "h1", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (dvs_mgr_join_host (f->mgr, sw, "h1", &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "never connected");
  h1->last_seen = 1;
  g_ptr_array_add (h1->transport_zones, g_strdup ("tz-b"));
  g_assert_false (dvs_mgr_join_host (f->mgr, sw, "h1", &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "tz-a");
  g_assert_cmpuint (sw->hosts->len, ==, 0);
  g_ptr_array_add (h1->transport_zones, g_strdup ("tz-a"));
  join_ok (f, sw, "h1");
  join_ok (f, sw, "h1");   /* idempotent */
  g_assert_cmpuint (sw->hosts->len, ==, 1);
  host_seen (f, "h2", "tz-a");

  /* Refusals, none of which changes anything. */
  p = port_n (f, sw, 0);
  gen = sw->generation;
  before = model_text (f->mgr);
  g_assert_null (dvs_mgr_port_connect (f->mgr, p, "nope", VM1, MAC1, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_NOT_FOUND, "nope");
  g_assert_null (dvs_mgr_port_connect (f->mgr, p, NULL, VM1, MAC1, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_NOT_FOUND, NULL);
  g_assert_null (dvs_mgr_port_connect (f->mgr, p, "h2", VM1, MAC1, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "not a member");
  for (guint i = 0; bad_vms[i]; i++)
    {
      g_assert_null (dvs_mgr_port_connect (f->mgr, p, "h1", bad_vms[i], MAC1, NULL, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "vm");
    }
  g_assert_null (dvs_mgr_port_connect (f->mgr, p, "h1", NULL, MAC1, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "vm");
  for (guint i = 0; bad_macs[i]; i++)
    {
      g_assert_null (dvs_mgr_port_connect (f->mgr, p, "h1", VM1, bad_macs[i], NULL, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "mac");
    }
  g_assert_null (dvs_mgr_port_connect (f->mgr, p, "h1", VM1, NULL, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "mac");
  g_assert_null (dvs_mgr_port_connect (f->mgr, p, "h1", VM1, MAC1, long_iface, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "interface_id");
  g_assert_false (dvs_mgr_port_disconnect (f->mgr, p, &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "not connected");
  g_assert_null (dvs_mgr_port_revoke (f->mgr, p, &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "not connected");
  g_assert_cmpuint (sw->generation, ==, gen);
  {
    g_autofree gchar *after = model_text (f->mgr);
    g_assert_cmpstr (after, ==, before);
  }

  /* Allocate gives the lowest free key. */
  g_assert_true (dvs_mgr_port_group_allocate (f->mgr, pg, &error) == p);
  g_assert_no_error (error);

  /* Connect: an ID is issued, the port is delegated to the host. */
  conn = dvs_mgr_port_connect (f->mgr, p, "h1", VM1, MAC1, "", &error);
  g_assert_no_error (error);
  g_assert_true (g_uuid_string_is_valid (conn));
  g_assert_cmpstr (p->connection, ==, conn);
  g_assert_cmpstr (p->vm, ==, VM1);
  g_assert_cmpstr (p->mac, ==, MAC1);
  g_assert_null (p->iface);
  g_assert_cmpstr (p->host, ==, "h1");
  g_assert_true (delegated (sw, "h1", p->key));
  g_assert_cmpuint (sw->generation, ==, gen + 1);
  g_assert_null (dvs_mgr_port_connect (f->mgr, p, "h1", VM2, MAC2, NULL, &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, p->key);
  g_assert_cmpstr (p->vm, ==, VM1);
  g_assert_true (dvs_mgr_port_group_allocate (f->mgr, pg, &error) == port_n (f, sw, 1));

  /* Keys order by number: with 0, 1 and 3-9 taken the lowest free is 2,
   * not 10 (which sorts first as a string). */
  for (guint n = 1; n <= 9; n++)
    if (n != 2)
      g_free (connect_ok (f, port_n (f, sw, n), "h1", VM2, MAC2));
  g_assert_true (dvs_mgr_port_group_allocate (f->mgr, pg, &error) == port_n (f, sw, 2));
  g_free (connect_ok (f, port_n (f, sw, 2), "h1", VM2, MAC2));
  g_assert_true (dvs_mgr_port_group_allocate (f->mgr, pg, &error) == port_n (f, sw, 10));
  g_free (connect_ok (f, port_n (f, sw, 10), "h1", VM2, MAC2));
  g_free (connect_ok (f, port_n (f, sw, 11), "h1", VM2, MAC2));
  g_assert_null (dvs_mgr_port_group_allocate (f->mgr, pg, &error));
  assert_error (&error, DVS_MGR_ERROR_NOT_FOUND, "no free DVport");
  g_assert_cmpuint (g_hash_table_size (g_hash_table_lookup (sw->by_host, "h1")), ==, 12);

  /* Revoke: a new ID, the rest unchanged. */
  gen = sw->generation;
  conn2 = dvs_mgr_port_revoke (f->mgr, p, &error);
  g_assert_no_error (error);
  g_assert_true (g_uuid_string_is_valid (conn2));
  g_assert_cmpstr (conn2, !=, conn);
  g_assert_cmpstr (p->connection, ==, conn2);
  g_assert_cmpstr (p->vm, ==, VM1);
  g_assert_cmpstr (p->host, ==, "h1");
  g_assert_cmpuint (sw->generation, ==, gen + 1);

  /* Disconnect clears it all, and frees the key for allocation. */
  disconnect_ok (f, p);
  g_assert_null (p->connection);
  g_assert_null (p->vm);
  g_assert_null (p->mac);
  g_assert_null (p->iface);
  g_assert_null (p->host);
  g_assert_false (delegated (sw, "h1", p->key));
  g_assert_cmpuint (sw->generation, ==, gen + 2);
  g_assert_true (dvs_mgr_port_group_allocate (f->mgr, pg, &error) == p);

  /* The last port of a host leaves no empty set behind. */
  for (guint n = 1; n <= 11; n++)
    disconnect_ok (f, port_n (f, sw, n));
  g_assert_null (g_hash_table_lookup (sw->by_host, "h1"));

  /* A connected port again, then a restart. */
  q = port_n (f, sw, 4);
  g_clear_pointer (&conn, g_free);
  conn = dvs_mgr_port_connect (f->mgr, q, "h1", VM2, MAC2, "vnet7", &error);
  g_assert_no_error (error);
  key4 = g_strdup (q->key);
  assert_survives_reload (f);
  q = dvs_mgr_port_lookup (f->mgr, key4, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (q->connection, ==, conn);
  g_assert_cmpstr (q->iface, ==, "vnet7");
  g_assert_cmpstr (q->host, ==, "h1");
}

/* ---- port group configs -------------------------------------------------- */

static void
test_port_config (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const struct {
    const gchar *config;
    const gchar *needle;
  } bad[] = {
    { "{\"vlan\":5000}", "5000" },
    { "{\"vlan\":-1}", "vlan" },
    { "{\"vlan\":\"ten\"}", "vlan" },
    { "{\"vlan\":{\"mode\":\"trunk\"}}", "vlan.trunks" },
    { "{\"vlan\":{\"mode\":\"access\",\"trunks\":[1]}}", "trunk" },
    { "{\"colour\":1}", "colour" },
    { "{\"policy\":{\"shaping\":{\"ingress\":{\"average_kbps\":-1}}}}", "average_kbps" },
    { "{\"policy\":{\"shaping\":{\"ingress\":{\"average_kbps\":0}}}}", "average_kbps" },
    { "{\"policy\":{\"shaping\":{\"sideways\":{}}}}", "sideways" },
    { "{\"policy\":7}", "policy" },
    { "{\"vlan\":", "not valid JSON" },
    { "[]", "JSON object" },
  };
  const gchar *good[] = {
    "",
    "{}",
    "{\"vlan\":0}",
    "{\"vlan\":4094}",
    "{\"vlan\":{\"mode\":\"access\",\"tag\":100}}",
    "{\"vlan\":{\"mode\":\"trunk\",\"trunks\":[10,20],\"native\":10}}",
    "{\"policy\":{\"shaping\":{\"ingress\":{\"average_kbps\":1000,\"peak_kbps\":2000},"
      "\"egress\":null}}}",
  };
  MgrSwitch *sw = switch_ok (f, "prod", NULL);
  MgrPortGroup *pg = group_ok (f, sw, "web", "{\"vlan\":10}", 2);
  MgrPort *p = port_n (f, sw, 0);
  g_autofree gchar *before = model_text (f->mgr);
  guint64 gen = sw->generation;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (dvs_mgr_port_group_set_config (f->mgr, pg, bad[i].config, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, bad[i].needle);
      g_assert_null (dvs_mgr_add_port_group (f->mgr, sw, "new", bad[i].config, 1, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, bad[i].needle);
      g_assert_false (dvs_mgr_port_set_config (f->mgr, p, bad[i].config, &error));
      assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, bad[i].needle);
    }
  g_assert_cmpuint (sw->generation, ==, gen);
  {
    g_autofree gchar *after = model_text (f->mgr);
    g_assert_cmpstr (after, ==, before);
  }

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autofree gchar *name = g_strdup_printf ("good%u", i);
      g_autofree gchar *text = NULL;
      g_autoptr (JsonNode) expected = dvs_mgr_parse_object (good[i], "test", NULL);

      g_assert_true (dvs_mgr_port_group_set_config (f->mgr, pg, good[i], &error));
      g_assert_no_error (error);
      g_assert_true (json_node_equal (pg->config, expected));
      g_assert_nonnull (dvs_mgr_add_port_group (f->mgr, sw, name, good[i], 1, &error));
      g_assert_no_error (error);
      g_assert_true (dvs_mgr_port_set_config (f->mgr, p, good[i], &error));
      g_assert_no_error (error);
      /* An empty override is no override. */
      if (json_object_get_size (json_node_get_object (expected)) == 0)
        g_assert_null (p->config);
      else
        g_assert_true (json_node_equal (p->config, expected));
    }
  g_assert_cmpuint (sw->generation, ==, gen + 3 * G_N_ELEMENTS (good));
  assert_survives_reload (f);
}

/* ---- host documents ------------------------------------------------------ */

static const gchar *
member_str (JsonObject *o, const gchar *name)
{
  g_assert_true (json_object_has_member (o, name));
  return json_object_get_string_member (o, name);
}

static void
assert_digest (JsonNode *doc, const gchar *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *digest = dvs_mgr_document_digest (doc, &error);
  g_autoptr (DvsDvswitchSpec) spec = dvs_dvswitch_spec_parse (doc, &error);
  g_autofree gchar *host_digest = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (spec);
  host_digest = dvs_dvswitch_spec_digest (spec);
  g_assert_cmpuint (strlen (digest), ==, 64);
  g_assert_cmpstr (digest, ==, host_digest);
  if (expected)
    g_assert_cmpstr (digest, ==, expected);
}

static gchar *
digest_of (JsonNode *doc)
{
  g_autoptr (GError) error = NULL;
  gchar *digest = dvs_mgr_document_digest (doc, &error);

  g_assert_no_error (error);
  return digest;
}

static void
test_document (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) doc1 = NULL, doc1b = NULL, doc2 = NULL, doc3 = NULL, none = NULL;
  g_autofree gchar *d1 = NULL, *d2 = NULL, *d3 = NULL, *dnone = NULL, *d1_revoked = NULL;
  g_autofree gchar *conn10 = NULL;
  MgrSwitch *sw = switch_ok (f, "prod", "{\"mtu\":9000}");
  MgrPortGroup *pg;
  JsonObject *o;
  JsonArray *groups, *ports;
  guint order[] = { 1, 2, 10 };

  pg = group_ok (f, sw, "web", "{\"vlan\":10}", 12);
  group_ok (f, sw, "db", "{\"vlan\":20}", 1);
  group_ok (f, sw, "mgmt", NULL, 1);
  host_seen (f, "h1", NULL);
  host_seen (f, "h2", NULL);
  host_seen (f, "h3", NULL);
  join_ok (f, sw, "h1");
  join_ok (f, sw, "h2");
  join_ok (f, sw, "h3");
  /* Connected out of order, with "x-10" that sorts before "x-2" as text. */
  conn10 = connect_ok (f, port_n (f, sw, 10), "h1", VM1, MAC1);
  g_free (connect_ok (f, port_n (f, sw, 2), "h1", VM1, MAC2));
  g_free (connect_ok (f, port_n (f, sw, 1), "h1", VM2, MAC1));
  g_free (connect_ok (f, port_n (f, sw, 3), "h2", VM2, MAC2));
  g_assert_true (dvs_mgr_port_set_config (f->mgr, port_n (f, sw, 2), "{\"vlan\":30}", &error));
  g_assert_no_error (error);

  doc1 = dvs_mgr_host_document (f->mgr, sw, "h1");
  o = json_node_get_object (doc1);
  g_assert_cmpstr (member_str (o, "id"), ==, sw->uuid);
  g_assert_cmpstr (member_str (o, "name"), ==, "prod");
  g_assert_cmpstr (member_str (o, "forwarding_class"), ==, "l2-learning");
  g_assert_cmpint (json_object_get_int_member (o, "mtu"), ==, 9000);

  /* Every port group, sorted by key. */
  groups = json_object_get_array_member (o, "port_groups");
  g_assert_cmpuint (json_array_get_length (groups), ==, 3);
  for (guint i = 0; i < json_array_get_length (groups); i++)
    {
      JsonObject *g = json_array_get_object_element (groups, i);
      MgrPortGroup *known = g_hash_table_lookup (sw->port_groups, member_str (g, "key"));

      g_assert_nonnull (known);
      g_assert_cmpstr (member_str (g, "name"), ==, known->name);
      g_assert_true (json_node_equal (json_object_get_member (g, "config"), known->config));
      if (i > 0)
        g_assert_cmpint (strcmp (member_str (json_array_get_object_element (groups, i - 1), "key"),
                                 member_str (g, "key")), <, 0);
    }

  /* Only h1's ports, by number. */
  ports = json_object_get_array_member (o, "ports");
  g_assert_cmpuint (json_array_get_length (ports), ==, G_N_ELEMENTS (order));
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      JsonObject *po = json_array_get_object_element (ports, i);
      MgrPort *p = port_n (f, sw, order[i]);
      JsonObject *c = json_object_get_object_member (po, "connection");

      g_assert_cmpstr (member_str (po, "key"), ==, p->key);
      g_assert_cmpstr (member_str (po, "port_group"), ==, pg->uuid);
      g_assert_cmpstr (member_str (c, "id"), ==, p->connection);
      g_assert_cmpstr (member_str (c, "vm"), ==, p->vm);
      g_assert_cmpstr (member_str (c, "mac"), ==, p->mac);
      g_assert_cmpuint (json_object_get_size (c), ==, 3);
      if (order[i] == 2)
        g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (po, "config"), "vlan"), ==, 30);
      else
        g_assert_false (json_object_has_member (po, "config"));
    }

  /* The digest is stable and the host's own. */
  d1 = digest_of (doc1);
  assert_digest (doc1, d1);
  doc1b = dvs_mgr_host_document (f->mgr, sw, "h1");
  assert_digest (doc1b, d1);
  g_assert_true (json_node_equal (doc1, doc1b));

  doc2 = dvs_mgr_host_document (f->mgr, sw, "h2");
  ports = json_object_get_array_member (json_node_get_object (doc2), "ports");
  g_assert_cmpuint (json_array_get_length (ports), ==, 1);
  g_assert_cmpstr (member_str (json_array_get_object_element (ports, 0), "key"), ==,
                   port_n (f, sw, 3)->key);
  d2 = digest_of (doc2);
  assert_digest (doc2, d2);
  g_assert_cmpstr (d2, !=, d1);

  /* A member without ports gets the switch and its groups, no ports. */
  doc3 = dvs_mgr_host_document (f->mgr, sw, "h3");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (doc3), "ports")), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (json_node_get_object (doc3), "port_groups")), ==, 3);
  d3 = digest_of (doc3);
  assert_digest (doc3, NULL);
  none = dvs_mgr_host_document (f->mgr, sw, NULL);
  dnone = digest_of (none);
  g_assert_cmpstr (dnone, ==, d3);

  /* Survives a reload unchanged; a revocation changes it. */
  reload (f);
  sw = g_hash_table_lookup (f->mgr->switches, member_str (o, "id"));
  g_assert_nonnull (sw);
  {
    g_autoptr (JsonNode) again = dvs_mgr_host_document (f->mgr, sw, "h1");

    assert_digest (again, d1);
  }
  g_free (dvs_mgr_port_revoke (f->mgr, port_n (f, sw, 10), &error));
  g_assert_no_error (error);
  {
    g_autoptr (JsonNode) revoked = dvs_mgr_host_document (f->mgr, sw, "h1");
    g_autoptr (JsonNode) other = dvs_mgr_host_document (f->mgr, sw, "h2");

    d1_revoked = digest_of (revoked);
    g_assert_cmpstr (d1_revoked, !=, d1);
    assert_digest (other, d2);
  }
}

/* ---- leave, delete ------------------------------------------------------- */

static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *uuid = NULL, *key = NULL;
  MgrSwitch *sw = switch_ok (f, "prod", NULL);
  MgrPortGroup *pg = group_ok (f, sw, "web", NULL, 3);
  MgrPort *p;
  guint64 gen;

  group_ok (f, sw, "db", NULL, 2);
  host_seen (f, "h1", NULL);
  host_seen (f, "h2", NULL);
  join_ok (f, sw, "h1");
  join_ok (f, sw, "h2");
  p = port_n (f, sw, 1);
  key = g_strdup (p->key);
  uuid = g_strdup (sw->uuid);
  g_free (connect_ok (f, p, "h1", VM1, MAC1));

  /* Leave while a port is delegated. */
  g_assert_false (dvs_mgr_leave_host (f->mgr, sw, "h1", &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, key);
  g_assert_true (dvs_mgr_switch_has_host (sw, "h1"));
  g_assert_false (dvs_mgr_leave_host (f->mgr, sw, "h9", &error));
  assert_error (&error, DVS_MGR_ERROR_NOT_FOUND, "h9");

  /* Delete while hosts are members; unregister while a member. */
  g_assert_false (dvs_mgr_delete_switch (f->mgr, sw, &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "member hosts");
  g_assert_false (dvs_mgr_unregister_host (f->mgr, dvs_mgr_host_lookup (f->mgr, "h2", NULL), &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "prod");

  /* A port group with a connected port stays. */
  gen = sw->generation;
  g_assert_false (dvs_mgr_port_group_delete (f->mgr, pg, &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, key);
  g_assert_cmpuint (sw->generation, ==, gen);
  assert_counts (f->mgr, "switches=1 groups=2 ports=5 hosts=2 networks=0");
  assert_survives_reload (f);

  /* Once free, it all goes. */
  sw = dvs_mgr_switch_lookup (f->mgr, uuid, NULL);
  p = dvs_mgr_port_lookup (f->mgr, key, NULL);
  disconnect_ok (f, p);
  pg = dvs_mgr_port_group_lookup (f->mgr, p->pg_uuid, NULL);
  g_assert_true (dvs_mgr_port_group_delete (f->mgr, pg, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (sw->generation, ==, gen + 2);
  g_assert_null (dvs_mgr_port_lookup (f->mgr, key, NULL));
  g_assert_cmpuint (g_hash_table_size (sw->ports), ==, 2);
  g_assert_cmpuint (g_hash_table_size (sw->port_groups), ==, 1);
  assert_counts (f->mgr, "switches=1 groups=1 ports=2 hosts=2 networks=0");
  assert_survives_reload (f);
  sw = dvs_mgr_switch_lookup (f->mgr, uuid, NULL);
  g_assert_true (dvs_mgr_leave_host (f->mgr, sw, "h1", &error));
  g_assert_no_error (error);
  g_assert_false (dvs_mgr_switch_has_host (sw, "h1"));
  g_assert_false (dvs_mgr_delete_switch (f->mgr, sw, &error));
  assert_error (&error, DVS_MGR_ERROR_BUSY, "member hosts");
  g_assert_true (dvs_mgr_leave_host (f->mgr, sw, "h2", &error));
  g_assert_no_error (error);
  g_assert_true (dvs_mgr_unregister_host (f->mgr, dvs_mgr_host_lookup (f->mgr, "h2", NULL), &error));
  g_assert_no_error (error);
  g_assert_true (dvs_mgr_delete_switch (f->mgr, sw, &error));
  g_assert_no_error (error);
  assert_counts (f->mgr, "switches=0 groups=0 ports=0 hosts=1 networks=0");
  assert_survives_reload (f);
  assert_counts (f->mgr, "switches=0 groups=0 ports=0 hosts=1 networks=0");
}

/* ---- port state reports -------------------------------------------------- */

static gboolean
report (Fixture *f, const gchar *host, const gchar *json, GError **error)
{
  g_autoptr (JsonNode) node = parse_json (json);

  return dvs_mgr_port_report_state (f->mgr, host, json_node_get_object (node), error);
}

static gchar *
state_json (const gchar *sw, const gchar *port, const gchar *conn, const gchar *rest)
{
  return g_strdup_printf ("{\"switch\":\"%s\",\"port\":\"%s\",\"connection\":\"%s\"%s%s}",
                          sw, port, conn, *rest ? "," : "", rest);
}

static void
test_report_state (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *conn = NULL, *conn2 = NULL, *uuid = NULL, *key = NULL;
  MgrSwitch *sw = switch_ok (f, "prod", NULL);
  MgrSwitch *other = switch_ok (f, "other", NULL);
  MgrPort *p;

  group_ok (f, sw, "web", NULL, 2);
  host_seen (f, "h1", NULL);
  host_seen (f, "h2", NULL);
  join_ok (f, sw, "h1");
  join_ok (f, sw, "h2");
  p = port_n (f, sw, 0);
  conn = connect_ok (f, p, "h1", VM1, MAC1);
  uuid = g_strdup (sw->uuid);
  key = g_strdup (p->key);
  g_assert_cmpstr (p->link, ==, "unknown");
  g_assert_null (p->stats);

  /* Only the owning host, with the current ID, for that switch's port. */
  {
    const struct {
      const gchar *host, *sw, *port, *conn;
    } refused[] = {
      { "h2", uuid, key, conn },
      { "h9", uuid, key, conn },
      { "h1", uuid, key, VM2 },
      { "h1", other->uuid, key, conn },
      { "h1", uuid, port_n (f, sw, 1)->key, conn },
      { "h1", uuid, "nope-1", conn },
    };

    for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
      {
        g_autofree gchar *json = state_json (refused[i].sw, refused[i].port, refused[i].conn,
                                             "\"link\":\"up\",\"time\":10");

        g_assert_false (report (f, refused[i].host, json, &error));
        assert_error (&error, DVS_MGR_ERROR_NOT_AUTHORIZED, refused[i].host);
      }
  }
  {
    g_autofree gchar *json = g_strdup_printf ("{\"switch\":\"%s\",\"port\":\"%s\","
                                              "\"link\":\"up\",\"time\":10}", uuid, key);
    g_assert_false (report (f, "h1", json, &error));
    assert_error (&error, DVS_MGR_ERROR_NOT_AUTHORIZED, NULL);
  }

  /* Malformed members. */
  {
    const gchar *malformed[] = {
      "\"link\":\"sideways\",\"time\":10",
      "\"time\":10",
      "\"link\":\"up\"",
      "\"link\":\"up\",\"time\":-1",
      "\"link\":\"up\",\"time\":\"10\"",
      "\"link\":\"up\",\"time\":1.5",
      "\"link\":\"up\",\"time\":10,\"stats\":\"many\"",
      "\"link\":\"up\",\"time\":10,\"stats\":[1]",
      "\"link\":7,\"time\":10",
    };

    for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
      {
        g_autofree gchar *json = state_json (uuid, key, conn, malformed[i]);

        g_assert_false (report (f, "h1", json, &error));
        assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, NULL);
      }
    g_assert_false (report (f, "h1", "{\"port\":5,\"link\":\"up\",\"time\":10}", &error));
    assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "port");
    g_assert_false (report (f, "h1", "{\"link\":\"up\",\"time\":10}", &error));
    assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "switch");
  }
  g_assert_cmpstr (p->link, ==, "unknown");
  g_assert_cmpint (p->stats_time, ==, 0);

  /* Newer kept, older and equal ignored. */
  {
    g_autofree gchar *up = state_json (uuid, key, conn, "\"link\":\"up\",\"time\":1000,"
                                       "\"stats\":{\"rx_packets\":5}");
    g_autofree gchar *older = state_json (uuid, key, conn, "\"link\":\"down\",\"time\":500,"
                                          "\"stats\":{\"rx_packets\":1}");
    g_autofree gchar *same = state_json (uuid, key, conn, "\"link\":\"down\",\"time\":1000");
    g_autofree gchar *down = state_json (uuid, key, conn, "\"link\":\"down\",\"time\":2000,"
                                         "\"stats\":null");

    g_assert_true (report (f, "h1", up, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (p->link, ==, "up");
    g_assert_cmpint (p->stats_time, ==, 1000);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (p->stats), "rx_packets"), ==, 5);
    g_assert_true (report (f, "h1", older, &error));
    g_assert_no_error (error);
    g_assert_true (report (f, "h1", same, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (p->link, ==, "up");
    g_assert_cmpint (p->stats_time, ==, 1000);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (p->stats), "rx_packets"), ==, 5);
    /* Without stats, the last counters stay. */
    g_assert_true (report (f, "h1", down, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (p->link, ==, "down");
    g_assert_cmpint (p->stats_time, ==, 2000);
    g_assert_cmpint (json_object_get_int_member (json_node_get_object (p->stats), "rx_packets"), ==, 5);
  }

  /* Persisted. */
  assert_survives_reload (f);
  sw = dvs_mgr_switch_lookup (f->mgr, uuid, NULL);
  p = dvs_mgr_port_lookup (f->mgr, key, NULL);
  g_assert_cmpstr (p->link, ==, "down");
  g_assert_cmpint (p->stats_time, ==, 2000);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (p->stats), "rx_packets"), ==, 5);

  /* A revoked ID is no longer good; the new one is. */
  conn2 = dvs_mgr_port_revoke (f->mgr, p, &error);
  g_assert_no_error (error);
  {
    g_autofree gchar *old = state_json (uuid, key, conn, "\"link\":\"up\",\"time\":3000");
    g_autofree gchar *cur = state_json (uuid, key, conn2, "\"link\":\"up\",\"time\":3000,"
                                        "\"stats\":{\"rx_packets\":9}");

    g_assert_false (report (f, "h1", old, &error));
    assert_error (&error, DVS_MGR_ERROR_NOT_AUTHORIZED, NULL);
    g_assert_cmpstr (p->link, ==, "down");
    g_assert_true (report (f, "h1", cur, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (p->link, ==, "up");
    disconnect_ok (f, p);
    g_assert_false (report (f, "h1", cur, &error));
    assert_error (&error, DVS_MGR_ERROR_NOT_AUTHORIZED, NULL);
  }
  assert_survives_reload (f);
  p = dvs_mgr_port_lookup (f->mgr, key, NULL);
  g_assert_cmpint (p->stats_time, ==, 3000);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (p->stats), "rx_packets"), ==, 9);
}

/* ---- a failing commit ---------------------------------------------------- */

static goffset
file_size (const gchar *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (goffset) st.st_size : 0;
}

/* RLIMIT_FSIZE belongs to the process: the test runs in a child. */
static void
test_failed_commit (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *wal = NULL, *before = NULL, *after = NULL, *uuid = NULL, *pg_uuid = NULL;
  struct rlimit saved;
  MgrSwitch *sw;
  MgrPortGroup *pg;
  guint64 gen, next;
  goffset limit;

  if (!dvs_test_in_child ())
    return;

  sw = switch_ok (f, "prod", NULL);
  pg = group_ok (f, sw, "web", NULL, 4);
  host_seen (f, "h1", NULL);
  join_ok (f, sw, "h1");
  g_free (connect_ok (f, port_n (f, sw, 0), "h1", VM1, MAC1));
  uuid = g_strdup (sw->uuid);
  pg_uuid = g_strdup (pg->uuid);
  gen = sw->generation;
  next = sw->next_port;
  before = model_text (f->mgr);

  /* 4096 ports are some 1 MB of rows: far above what the files may grow. */
  wal = g_strconcat (f->path, "-wal", NULL);
  limit = MAX (file_size (f->path), file_size (wal)) + 128 * 1024;
  dvs_test_limit_file_size ((rlim_t) limit, &saved);
  allow_warning ("dvsmgr-store", "failed too");

  g_test_expect_message ("dvsmgr", G_LOG_LEVEL_WARNING, "store commit failed*");
  g_assert_null (dvs_mgr_add_port_group (f->mgr, sw, "big", NULL, 4096, &error));
  g_test_assert_expected_messages ();
  assert_error (&error, DVS_MGR_ERROR_FAILED, "nothing was changed");
  g_assert_cmpuint (sw->generation, ==, gen);
  g_assert_cmpuint (sw->next_port, ==, next);
  g_assert_cmpuint (g_hash_table_size (sw->port_groups), ==, 1);
  g_assert_cmpuint (g_hash_table_size (sw->ports), ==, 4);
  after = model_text (f->mgr);
  g_assert_cmpstr (after, ==, before);
  g_clear_pointer (&after, g_free);

  g_test_expect_message ("dvsmgr", G_LOG_LEVEL_WARNING, "store commit failed*");
  g_assert_null (dvs_mgr_port_group_add_ports (f->mgr, pg, 4096, &error));
  g_test_assert_expected_messages ();
  assert_error (&error, DVS_MGR_ERROR_FAILED, "nothing was changed");
  g_assert_cmpuint (sw->generation, ==, gen);
  g_assert_cmpuint (sw->next_port, ==, next);
  g_assert_cmpuint (g_hash_table_size (pg->ports), ==, 4);
  after = model_text (f->mgr);
  g_assert_cmpstr (after, ==, before);
  g_clear_pointer (&after, g_free);

  /* Room again: the store still works and the counter was not spent. */
  dvs_test_restore_file_size (&saved);
  pg = group_ok (f, sw, "big", NULL, 4096);
  g_assert_cmpuint (sw->generation, ==, gen + 1);
  g_assert_cmpuint (sw->next_port, ==, next + 4096);
  g_assert_nonnull (port_n (f, sw, (guint) next));
  assert_survives_reload (f);
  assert_counts (f->mgr, "switches=1 groups=2 ports=4100 hosts=1 networks=0");
  sw = dvs_mgr_switch_lookup (f->mgr, uuid, NULL);
  g_assert_cmpuint (sw->generation, ==, gen + 1);
}

/* ---- the push engine, no host connected ---------------------------------- */

static JsonObject *
queue_entry (MgrPush *push, guint i)
{
  JsonNode *list = mgr_push_out_of_sync (push);
  JsonArray *a = json_node_get_array (list);
  JsonObject *o;

  g_assert_cmpuint (json_array_get_length (a), >, i);
  o = json_object_ref (json_array_get_object_element (a, i));
  json_node_unref (list);
  return o;
}

static guint
queue_length (MgrPush *push)
{
  g_autoptr (JsonNode) list = mgr_push_out_of_sync (push);

  return json_array_get_length (json_node_get_array (list));
}

static void
run_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_push_not_connected (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) entry = NULL;
  MgrSwitch *sw = switch_ok (f, "prod", NULL);
  MgrPush *push;
  MgrPort *p;

  group_ok (f, sw, "web", NULL, 2);
  host_seen (f, "h1", NULL);
  host_seen (f, "h2", NULL);
  join_ok (f, sw, "h1");
  g_assert_null (dvs_mgr_host_lookup (f->mgr, "h1", NULL)->peer);
  allow_warning ("dvsmgr-push", "push to host h1 failed");

  push = f->mgr->push = mgr_push_new (f->mgr, 0, 0, 0);
  mgr_push_mark (push, sw, NULL);
  mgr_push_mark (push, sw, "h1");
  g_assert_cmpuint (queue_length (push), ==, 0);
  g_assert_false (mgr_push_idle (push));
  run_main_context ();

  /* Marks coalesce: one attempt, on the re-push queue. */
  g_assert_cmpuint (allowed_seen ("push to host h1 failed"), ==, 1);
  g_assert_true (mgr_push_idle (push));
  g_assert_cmpuint (mgr_push_out_of_sync_count (push), ==, 1);
  g_assert_cmpuint (queue_length (push), ==, 1);
  entry = queue_entry (push, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "host"), ==, "h1");
  g_assert_cmpstr (json_object_get_string_member (entry, "queue"), ==, "repush");
  g_assert_cmpstr (json_object_get_string_member (entry, "switch"), ==, sw->uuid);
  g_assert_cmpstr (json_object_get_string_member (entry, "reason"), ==, "host not connected");
  g_assert_cmpint (json_object_get_int_member (entry, "attempts"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (entry, "since"), >, 0);
  g_assert_false (mgr_push_host_in_sync (push, "h1"));
  g_assert_true (mgr_push_host_in_sync (push, "h2"));   /* a member of nothing */

  /* A change marks it again: a second attempt, still one entry. */
  p = port_n (f, sw, 0);
  g_free (connect_ok (f, p, "h1", VM1, MAC1));
  run_main_context ();
  g_assert_cmpuint (allowed_seen ("push to host h1 failed"), ==, 2);
  g_clear_pointer (&entry, json_object_unref);
  entry = queue_entry (push, 0);
  g_assert_cmpint (json_object_get_int_member (entry, "attempts"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (entry, "queue"), ==, "repush");
  g_assert_cmpuint (mgr_push_out_of_sync_count (push), ==, 1);

  /* Taking a port away from it, and then the switch, is a rip. */
  disconnect_ok (f, p);
  run_main_context ();
  g_clear_pointer (&entry, json_object_unref);
  entry = queue_entry (push, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "queue"), ==, "rip");
  g_assert_true (dvs_mgr_leave_host (f->mgr, sw, "h1", &error));
  g_assert_no_error (error);
  run_main_context ();
  g_clear_pointer (&entry, json_object_unref);
  entry = queue_entry (push, 0);
  g_assert_cmpstr (json_object_get_string_member (entry, "queue"), ==, "rip");
  g_assert_cmpstr (json_object_get_string_member (entry, "reason"), ==, "host not connected");
  g_assert_cmpuint (mgr_push_out_of_sync_count (push), ==, 1);
  g_assert_false (mgr_push_host_in_sync (push, "h1"));
  g_assert_true (mgr_push_idle (push));
}

/* ---- bugs ---------------------------------------------------------------- */

/* An unknown member is refused, naming it, and the list of the allowed
 * ones is not leaked (LeakSanitizer checks the child at exit). */
static void
test_bug_unknown_member (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *conn = NULL, *json = NULL;
  MgrSwitch *sw;

  if (!dvs_test_in_child ())
    return;
  g_assert_null (dvs_mgr_create_switch (f->mgr, "prod", "{\"name\":\"x\"}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "'name'");
  g_assert_null (dvs_mgr_create_switch (f->mgr, "prod", "{\"colour\":\"red\"}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "'colour'");
  g_assert_null (dvs_mgr_register_host (f->mgr, "h1", "{\"uri\":\"x\"}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "'uri'");
  sw = switch_ok (f, "prod", NULL);
  g_assert_false (dvs_mgr_switch_set_config (f->mgr, sw, "{\"colour\":1}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "'colour'");
  group_ok (f, sw, "web", NULL, 1);
  host_seen (f, "h1", NULL);
  join_ok (f, sw, "h1");
  conn = connect_ok (f, port_n (f, sw, 0), "h1", VM1, MAC1);
  json = state_json (sw->uuid, port_n (f, sw, 0)->key, conn,
                     "\"link\":\"up\",\"time\":10,\"colour\":1");
  g_assert_false (report (f, "h1", json, &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "'colour'");
  assert_counts (f->mgr, "switches=1 groups=1 ports=1 hosts=1 networks=0");
}

/* Two members of the wrong type: one error, not a second one set over
 * the first (GLib warns, and warnings are fatal here). */
static void
test_bug_two_bad_members (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  MgrSwitch *sw;

  if (!dvs_test_in_child ())
    return;
  g_assert_null (dvs_mgr_create_switch (f->mgr, "prod",
                                        "{\"forwarding_class\":1,\"transport_zone\":2}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "forwarding_class");
  sw = switch_ok (f, "prod", NULL);
  g_assert_false (dvs_mgr_switch_set_config (f->mgr, sw, "{\"name\":1,\"transport_zone\":2}", &error));
  assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "name");
  assert_counts (f->mgr, "switches=1 groups=0 ports=0 hosts=0 networks=0");
}

/* Every MTU the manager accepts gives a document the host accepts. */
static void
test_bug_mtu (Fixture *f, gconstpointer data)
{
  const gint64 mtus[] = { 68, 1500, 9000, 9001, 9216 };

  if (!dvs_test_in_child ())
    return;
  for (guint i = 0; i < G_N_ELEMENTS (mtus); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree gchar *name = g_strdup_printf ("s%u", i);
      g_autofree gchar *config = g_strdup_printf ("{\"mtu\":%" G_GINT64_FORMAT "}", mtus[i]);
      MgrSwitch *sw = dvs_mgr_create_switch (f->mgr, name, config, &error);
      g_autoptr (JsonNode) doc = NULL;
      g_autofree gchar *digest = NULL;

      if (sw == NULL)
        {
          g_assert_cmpint (mtus[i], >, 1500);
          assert_error (&error, DVS_MGR_ERROR_INVALID_ARGS, "mtu");
          continue;
        }
      doc = dvs_mgr_host_document (f->mgr, sw, NULL);
      digest = dvs_mgr_document_digest (doc, &error);
      g_assert_no_error (error);
      g_assert_nonnull (digest);
    }
}

/* Port keys are unique in a manager even when two switches' UUIDs share
 * their first 8 characters (1 in 2^32 for a pair of random UUIDs). */
static void
test_bug_key_prefix (Fixture *f, gconstpointer data)
{
  static const gchar *const uuids[] = { "aaaaaaaa-0000-4000-8000-000000000001",
                                        "aaaaaaaa-0000-4000-8000-000000000002" };
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsMgrTxn) txn = dvs_mgr_txn_new ();
  MgrSwitch *sw[2];

  if (!dvs_test_in_child ())
    return;
  for (guint i = 0; i < 2; i++)
    {
      g_autofree gchar *json = g_strdup_printf (
        "{\"name\":\"s%u\",\"forwarding_class\":\"l2-learning\",\"mtu\":1500,"
        "\"transport_zone\":\"\",\"hosts\":[],\"generation\":1,\"next_port\":0}", i);
      g_autoptr (JsonNode) node = parse_json (json);

      dvs_mgr_txn_put (txn, "switch", uuids[i], node);
    }
  g_assert_true (dvs_mgr_store_commit (f->store, txn, &error));
  g_assert_no_error (error);
  reload (f);
  for (guint i = 0; i < 2; i++)
    {
      sw[i] = dvs_mgr_switch_lookup (f->mgr, uuids[i], &error);
      g_assert_no_error (error);
      group_ok (f, sw[i], "web", NULL, 2);
    }
  assert_counts (f->mgr, "switches=2 groups=2 ports=4 hosts=0 networks=0");
  for (guint i = 0; i < 2; i++)
    {
      GHashTableIter it;
      gpointer k, v;

      g_hash_table_iter_init (&it, sw[i]->ports);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          g_assert_true (g_hash_table_lookup (f->mgr->ports, k) == v);
          g_assert_cmpstr (((MgrPort *) v)->switch_uuid, ==, uuids[i]);
        }
    }
  assert_survives_reload (f);
  assert_counts (f->mgr, "switches=2 groups=2 ports=4 hosts=0 networks=0");
}

/* ---- live migration (mgr-migrate.c) ---------------------------------- */

/* A host that counts as connected: a peer on one end of a socket pair. */
static void
host_connect (MgrHost *h, GSocketConnection **keep)
{
  int fds[2];
  g_autoptr (GSocket) a = NULL;

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  a = g_socket_new_from_fd (fds[0], NULL);
  close (fds[1]);
  *keep = g_socket_connection_factory_create_connection (a);
  h->peer = dvs_rpc_peer_new (G_IO_STREAM (*keep), h->name, NULL, NULL, 4096);
  h->last_seen = g_get_real_time ();   /* a fresh heartbeat */
}

static void
host_disconnect (MgrHost *h, GSocketConnection **keep)
{
  dvs_rpc_peer_close (h->peer);
  g_clear_pointer (&h->peer, dvs_rpc_peer_unref);
  g_clear_object (keep);
}

static JsonNode *
prepare (Fixture *f, const gchar *host, const gchar *sw, const gchar *port, const gchar *conn,
         GError **error)
{
  g_autofree gchar *json = state_json (sw, port, conn, "");
  g_autoptr (JsonNode) node = parse_json (json);

  return dvs_mgr_migrate_prepare (f->mgr, host, json_node_get_object (node), error);
}

/* The port object for @key in @doc ({"switch": DOC} or DOC), or NULL. */
static JsonObject *
doc_port (JsonNode *doc, const gchar *key)
{
  JsonObject *o = json_node_get_object (doc);
  JsonArray *ports;

  if (json_object_has_member (o, "switch"))
    o = json_object_get_object_member (o, "switch");
  ports = json_object_get_array_member (o, "ports");
  for (guint i = 0; i < json_array_get_length (ports); i++)
    {
      JsonObject *po = json_array_get_object_element (ports, i);
      if (g_str_equal (json_object_get_string_member (po, "key"), key))
        return po;
    }
  return NULL;
}

static void
test_migrate (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketConnection) c1 = NULL, c2 = NULL;
  g_autofree gchar *conn = NULL, *uuid = NULL, *key = NULL;
  g_autoptr (JsonNode) answer = NULL, doc2 = NULL, doc1 = NULL;
  MgrSwitch *sw = switch_ok (f, "prod", NULL);
  MgrHost *h1, *h2;
  MgrPort *p;
  JsonObject *po;

  group_ok (f, sw, "web", NULL, 2);
  h1 = host_seen (f, "h1", NULL);
  h2 = host_seen (f, "h2", NULL);
  host_seen (f, "h3", NULL);
  join_ok (f, sw, "h1");
  join_ok (f, sw, "h2");
  p = port_n (f, sw, 0);
  conn = connect_ok (f, p, "h1", VM1, MAC1);
  uuid = g_strdup (sw->uuid);
  key = g_strdup (p->key);

  /* Refused, each reason named; nothing changes. */
  g_assert_null (prepare (f, "h3", uuid, key, conn, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_REFUSED);
  g_assert_nonnull (strstr (error->message, "host h3 is not connected"));
  g_assert_nonnull (strstr (error->message, "not a member of switch prod"));
  g_clear_error (&error);
  g_assert_null (prepare (f, "h2", uuid, key, conn, &error));
  g_assert_nonnull (strstr (error->message, "host h2 is not connected"));
  g_clear_error (&error);
  host_connect (h2, &c2);
  g_assert_null (prepare (f, "h2", uuid, key, "stale", &error));
  g_assert_nonnull (strstr (error->message, "stale or wrong"));
  g_clear_error (&error);
  g_assert_null (prepare (f, "h2", uuid, "nope-1", conn, &error));
  g_assert_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_REFUSED);
  g_clear_error (&error);
  g_assert_null (p->incoming);

  /* Accepted: h2's document has the port, incoming from h1, no state yet. */
  answer = prepare (f, "h2", uuid, key, conn, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->incoming, ==, "h2");
  g_assert_cmpstr (p->host, ==, "h1");
  po = doc_port (answer, key);
  g_assert_nonnull (po);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (po, "migration"),
                                                  "from"), ==, "h1");
  g_assert_false (json_object_has_member (po, "state"));
  doc1 = dvs_mgr_host_document (f->mgr, sw, "h1");
  g_assert_false (json_object_has_member (doc_port (doc1, key), "migration"));
  g_clear_pointer (&doc1, json_node_unref);
  /* The host's own parser takes it. */
  g_clear_pointer (&doc2, json_node_unref);
  {
    g_autofree gchar *digest = dvs_mgr_document_digest (
        json_object_get_member (json_node_get_object (answer), "switch"), &error);
    g_assert_no_error (error);
    g_assert_nonnull (digest);
  }
  /* A link up of the owner before it stopped changes nothing. */
  {
    g_autofree gchar *json = state_json (uuid, key, conn, "\"link\":\"up\",\"time\":5");
    g_assert_true (report (f, "h1", json, &error));
    g_assert_cmpstr (p->incoming, ==, "h2");
  }

  /* The owner stops (switch-over): its state goes into h2's document. */
  {
    g_autofree gchar *json = state_json (uuid, key, conn,
                                         "\"link\":\"down\",\"time\":10,"
                                         "\"stats\":{\"rx_packets\":7},"
                                         "\"checkpoint\":{\"switch\":\"s\",\"port\":\"k\","
                                         "\"rx\":7}");
    g_assert_true (report (f, "h1", json, &error));
    g_assert_no_error (error);
  }
  doc2 = dvs_mgr_host_document (f->mgr, sw, "h2");
  po = doc_port (doc2, key);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (po, "state"), "rx"),
                   ==, 7);

  /* h2's link up commits: h2 owns it, persisted; h1's document lost it. */
  {
    g_autofree gchar *json = state_json (uuid, key, conn,
                                         "\"link\":\"up\",\"time\":20,"
                                         "\"stats\":{\"rx_packets\":8}");
    g_assert_true (report (f, "h2", json, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpstr (p->host, ==, "h2");
  g_assert_null (p->incoming);
  g_assert_cmpstr (p->link, ==, "up");
  doc1 = dvs_mgr_host_document (f->mgr, sw, "h1");
  g_assert_null (doc_port (doc1, key));
  g_clear_pointer (&doc1, json_node_unref);
  g_clear_pointer (&doc2, json_node_unref);
  doc2 = dvs_mgr_host_document (f->mgr, sw, "h2");
  po = doc_port (doc2, key);
  g_assert_false (json_object_has_member (po, "migration"));
  g_assert_false (json_object_has_member (po, "state"));
  g_clear_pointer (&doc2, json_node_unref);

  /* Back to h1, which fails after the switch-over began: h2 runs it again,
   * the state sent is withdrawn; h1 lets its vNIC go, which ends it. */
  host_connect (h1, &c1);
  g_clear_pointer (&answer, json_node_unref);
  answer = prepare (f, "h1", uuid, key, conn, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->incoming, ==, "h1");
  {
    g_autofree gchar *down = state_json (uuid, key, conn,
                                         "\"link\":\"down\",\"time\":30,"
                                         "\"checkpoint\":{\"switch\":\"s\",\"port\":\"k\"}");
    g_autofree gchar *up = state_json (uuid, key, conn, "\"link\":\"up\",\"time\":40");
    g_assert_true (report (f, "h2", down, &error));
    g_assert_nonnull (p->incoming_state);
    g_assert_true (report (f, "h2", up, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpstr (p->incoming, ==, "h1");
  g_assert_null (p->incoming_state);
  doc1 = dvs_mgr_host_document (f->mgr, sw, "h1");
  g_assert_nonnull (json_object_get_member (doc_port (doc1, key), "migration"));
  g_assert_false (json_object_has_member (doc_port (doc1, key), "state"));
  g_clear_pointer (&doc1, json_node_unref);
  {
    g_autofree gchar *down = state_json (uuid, key, conn, "\"link\":\"down\",\"time\":45");
    g_assert_true (report (f, "h1", down, &error));
    g_assert_no_error (error);
  }
  g_assert_null (p->incoming);
  g_assert_cmpstr (p->host, ==, "h2");
  doc1 = dvs_mgr_host_document (f->mgr, sw, "h1");
  g_assert_null (doc_port (doc1, key));
  g_clear_pointer (&doc1, json_node_unref);

  /* The destination lets its vNIC go before it ran: over, nothing moved. */
  g_clear_pointer (&answer, json_node_unref);
  answer = prepare (f, "h1", uuid, key, conn, &error);
  g_assert_no_error (error);
  {
    g_autofree gchar *down = state_json (uuid, key, conn, "\"link\":\"down\",\"time\":50");
    g_assert_true (report (f, "h1", down, &error));
    g_assert_no_error (error);
  }
  g_assert_null (p->incoming);
  g_assert_cmpstr (p->host, ==, "h2");

  /* To h1 and, before h1's link-up report, back to h2: the first
   * migration is taken as done (h1 runs the VM, it leaves from there). */
  g_clear_pointer (&answer, json_node_unref);
  answer = prepare (f, "h1", uuid, key, conn, &error);
  g_assert_no_error (error);
  {
    g_autofree gchar *down = state_json (uuid, key, conn,
                                         "\"link\":\"down\",\"time\":60,"
                                         "\"checkpoint\":{\"switch\":\"s\",\"port\":\"k\"}");
    g_assert_true (report (f, "h2", down, &error));
  }
  g_clear_pointer (&answer, json_node_unref);
  answer = prepare (f, "h2", uuid, key, conn, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->host, ==, "h1");
  g_assert_cmpstr (p->incoming, ==, "h2");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (doc_port (answer, key), "migration"),
                       "from"), ==, "h1");
  dvs_mgr_migrate_cancel (f->mgr, p, "test");
  g_assert_null (p->incoming);

  /* A restart keeps the committed owner and no migration. */
  host_disconnect (h1, &c1);
  host_disconnect (h2, &c2);
  reload (f);
  p = dvs_mgr_port_lookup (f->mgr, key, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p->host, ==, "h1");
  g_assert_null (p->incoming);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (test_writer, NULL, NULL);

#define ADD(name, func) \
  g_test_add ("/dvsmgr/ops/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("names", test_names);
  ADD ("reload", test_reload);
  ADD ("connect", test_connect);
  ADD ("port-config", test_port_config);
  ADD ("document", test_document);
  ADD ("refusals", test_refusals);
  ADD ("report-state", test_report_state);
  ADD ("failed-commit", test_failed_commit);
  ADD ("migrate", test_migrate);
  ADD ("push-not-connected", test_push_not_connected);
  ADD ("bug/unknown-member", test_bug_unknown_member);
  ADD ("bug/two-bad-members", test_bug_two_bad_members);
  ADD ("bug/mtu", test_bug_mtu);
  ADD ("bug/key-prefix", test_bug_key_prefix);
#undef ADD

  return g_test_run ();
}
