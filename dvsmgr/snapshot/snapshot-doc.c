/* The snapshot document (docs/snapshots.md): canonical form and checksum,
 * export from the model, and a parser that checks everything it can
 * without the manager's state and lists every problem it finds.
 *
 * The parser takes arbitrary bytes (the fuzz target feeds it): it never
 * trusts a member's presence or type, bounds every size, and checks each
 * config with the host's own document parser. */
#define G_LOG_DOMAIN "dvsmgr-snapshot"

#include "snapshot/snapshot.h"
#include "core/mgr-json.h"

#include <string.h>
#include "dvport/dvport-spec.h"
#include "dvs-jsonrpc.h"
#include "switch/port-policy.h"
#include "dvs-json-write.h"

#define MAX_PORTS 1000000
#define MAX_GROUPS 100000
#define MAX_HOSTS 100000

/* ---- canonical form --------------------------------------------------- */

static void canonical_append (GString *out, JsonNode *node);

static gint
compare_members (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

static void
append_string (GString *out, const gchar *s)
{
  g_autoptr (JsonNode) n = json_node_init_string (json_node_alloc (), s);
  g_autofree gchar *quoted = dvs_json_write (n, FALSE);

  g_string_append (out, quoted);
}

static void
canonical_append (GString *out, JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    g_string_append (out, "null");
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      g_autoptr (GList) members = json_object_get_members (o);
      g_autoptr (GPtrArray) names = g_ptr_array_new ();

      for (GList *l = members; l; l = l->next)
        g_ptr_array_add (names, l->data);
      g_ptr_array_sort (names, compare_members);
      g_string_append_c (out, '{');
      for (guint i = 0; i < names->len; i++)
        {
          if (i)
            g_string_append_c (out, ',');
          append_string (out, names->pdata[i]);
          g_string_append_c (out, ':');
          canonical_append (out, json_object_get_member (o, names->pdata[i]));
        }
      g_string_append_c (out, '}');
    }
  else if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *a = json_node_get_array (node);

      g_string_append_c (out, '[');
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          if (i)
            g_string_append_c (out, ',');
          canonical_append (out, json_array_get_element (a, i));
        }
      g_string_append_c (out, ']');
    }
  else
    {
      g_autofree gchar *v = dvs_json_write (node, FALSE);
      g_string_append (out, v);
    }
}

gchar *
dvs_snapshot_canonical (JsonNode *node)
{
  GString *out = g_string_new (NULL);

  canonical_append (out, node);
  return g_string_free (out, FALSE);
}

gchar *
dvs_snapshot_checksum (JsonNode *doc)
{
  g_autoptr (JsonNode) copy = json_node_copy (doc);
  g_autofree gchar *text = NULL, *hex = NULL;

  if (JSON_NODE_HOLDS_OBJECT (copy))
    json_object_remove_member (json_node_get_object (copy), "checksum");
  text = dvs_snapshot_canonical (copy);
  hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  return g_strconcat ("sha256:", hex, NULL);
}

/* ---- export ----------------------------------------------------------- */

static gchar *
now_rfc3339 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree gchar *base = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");

  return g_strdup_printf ("%s.%03dZ", base, g_date_time_get_microsecond (now) / 1000);
}

JsonNode *
dvs_snapshot_export (DvsMgr *mgr, MgrSwitch *sw, gboolean connections, const gchar *author,
                     const gchar *comment)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  g_autoptr (GPtrArray) groups = dvs_mgr_sorted_values (sw->port_groups, FALSE);
  g_autoptr (GPtrArray) ports = dvs_mgr_sorted_values (sw->ports, TRUE);
  g_autofree gchar *created = now_rfc3339 ();
  g_autofree gchar *checksum = NULL;
  GHashTableIter it;
  gpointer k, v;
  JsonNode *doc;

  json_builder_begin_object (b);
  mgr_json_str (b, "format", DVS_SNAPSHOT_FORMAT);
  mgr_json_int (b, "format_version", DVS_SNAPSHOT_FORMAT_VERSION);
  mgr_json_str (b, "created", created);
  mgr_json_str (b, "author", author ? author : "");
  mgr_json_str (b, "comment", comment ? comment : "");
  mgr_json_str (b, "manager", mgr->manager_uuid);
  mgr_json_int (b, "generation", (gint64) sw->generation);
  mgr_json_bool (b, "connections", connections);

  json_builder_set_member_name (b, "switch");
  json_builder_begin_object (b);
  mgr_json_str (b, "uuid", sw->uuid);
  mgr_json_str (b, "name", sw->name);
  mgr_json_str (b, "forwarding_class", sw->forwarding_class);
  mgr_json_int (b, "mtu", sw->mtu);
  mgr_json_str (b, "transport_zone", sw->transport_zone);
  json_builder_set_member_name (b, "uplink");
  json_builder_add_null_value (b);

  json_builder_set_member_name (b, "hosts");
  json_builder_begin_array (b);
  for (guint i = 0; i < sw->hosts->len; i++)
    g_ptr_array_add (keys, sw->hosts->pdata[i]);
  g_ptr_array_sort (keys, compare_members);
  for (guint i = 0; i < keys->len; i++)
    {
      MgrHost *h = g_hash_table_lookup (mgr->hosts, keys->pdata[i]);
      json_builder_begin_object (b);
      mgr_json_str (b, "name", keys->pdata[i]);
      mgr_json_str (b, "libvirt_uri", h ? h->libvirt_uri : NULL);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "networks");
  json_builder_begin_array (b);
  g_ptr_array_set_size (keys, 0);
  g_hash_table_iter_init (&it, mgr->networks);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (*sw->transport_zone && g_str_equal (((MgrNetwork *) v)->transport_zone, sw->transport_zone))
      g_ptr_array_add (keys, k);
  g_ptr_array_sort (keys, compare_members);
  for (guint i = 0; i < keys->len; i++)
    {
      MgrNetwork *n = g_hash_table_lookup (mgr->networks, keys->pdata[i]);
      json_builder_begin_object (b);
      mgr_json_str (b, "uuid", n->uuid);
      mgr_json_str (b, "name", n->name);
      mgr_json_str (b, "type", n->type);
      mgr_json_int (b, "segment", n->segment);
      mgr_json_str (b, "transport_zone", n->transport_zone);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "history");
  json_builder_begin_object (b);
  mgr_json_bool (b, "auto", sw->history_auto);
  mgr_json_int (b, "keep", sw->history_keep);
  json_builder_end_object (b);
  mgr_json_int (b, "next_port", (gint64) sw->next_port);

  dvs_mgr_json_port_groups (b, groups, "uuid");

  json_builder_set_member_name (b, "ports");
  json_builder_begin_array (b);
  for (guint i = 0; i < ports->len; i++)
    {
      MgrPort *p = ports->pdata[i];
      dvs_mgr_json_port_begin (b, p);
      if (connections)
        {
          json_builder_set_member_name (b, "connection");
          if (p->connection)
            {
              json_builder_begin_object (b);
              mgr_json_str (b, "id", p->connection);
              mgr_json_str (b, "host", p->host);
              mgr_json_str (b, "vm", p->vm);
              mgr_json_str (b, "mac", p->mac);
              mgr_json_str (b, "interface", p->iface);
              json_builder_end_object (b);
            }
          else
            json_builder_add_null_value (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);   /* switch */
  json_builder_end_object (b);
  doc = json_builder_get_root (b);
  checksum = dvs_snapshot_checksum (doc);
  json_object_set_string_member (json_node_get_object (doc), "checksum", checksum);
  return doc;
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct {
  GPtrArray *problems;
  guint limit_hit;
} Check;

static void
problem (Check *c, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);

/* At most 100 problems are listed: enough to fix a document by, bounded
 * for a hostile one. */
static void
problem (Check *c, const gchar *fmt, ...)
{
  va_list ap;

  if (c->problems->len >= 100)
    {
      c->limit_hit++;
      return;
    }
  va_start (ap, fmt);
  g_ptr_array_add (c->problems, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

static JsonObject *
obj_member (Check *c, JsonObject *o, const gchar *what, const gchar *name, gboolean required)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || (JSON_NODE_HOLDS_NULL (n) && !required))
    {
      if (required)
        problem (c, "%s.%s is missing", what, name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    {
      problem (c, "%s.%s must be an object", what, name);
      return NULL;
    }
  return json_node_get_object (n);
}

static JsonArray *
array_member (Check *c, JsonObject *o, const gchar *what, const gchar *name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL)
    {
      problem (c, "%s.%s is missing", what, name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_ARRAY (n))
    {
      problem (c, "%s.%s must be an array", what, name);
      return NULL;
    }
  return json_node_get_array (n);
}

/* A string member: NULL when absent/null (and not required) or wrong. */
static const gchar *
str_member (Check *c, JsonObject *o, const gchar *what, const gchar *name, gboolean required,
            gsize max_len)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  const gchar *s;

  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (required)
        problem (c, "%s.%s is missing", what, name);
      return NULL;
    }
  if (json_node_get_value_type (n) != G_TYPE_STRING)
    {
      problem (c, "%s.%s must be a string", what, name);
      return NULL;
    }
  s = json_node_get_string (n);
  if (strlen (s) > max_len)
    {
      problem (c, "%s.%s is longer than %zu characters", what, name, max_len);
      return NULL;
    }
  if (!g_utf8_validate (s, -1, NULL))
    {
      problem (c, "%s.%s is not valid UTF-8", what, name);
      return NULL;
    }
  return s;
}

static gboolean
int_member (Check *c, JsonObject *o, const gchar *what, const gchar *name, gint64 min, gint64 max,
            gint64 *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < min || json_node_get_int (n) > max)
    {
      problem (c, "%s.%s must be an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
               what, name, min, max);
      return FALSE;
    }
  *out = json_node_get_int (n);
  return TRUE;
}

static void
group_free (DvsSnapGroup *g)
{
  g_free (g->uuid);
  g_free (g->name);
  if (g->config)
    json_node_unref (g->config);
  g_free (g);
}

static void
port_free (DvsSnapPort *p)
{
  g_free (p->key);
  g_free (p->group);
  if (p->config)
    json_node_unref (p->config);
  g_free (p->conn_id);
  g_free (p->host);
  g_free (p->vm);
  g_free (p->mac);
  g_free (p->iface);
  g_free (p);
}

static void
host_free (DvsSnapHost *h)
{
  g_free (h->name);
  g_free (h->libvirt_uri);
  g_free (h);
}

void
dvs_snapshot_free (DvsSnapshot *s)
{
  if (s == NULL)
    return;
  if (s->doc)
    json_node_unref (s->doc);
  g_free (s->created);
  g_free (s->author);
  g_free (s->comment);
  g_free (s->manager);
  g_free (s->checksum);
  g_free (s->uuid);
  g_free (s->name);
  g_free (s->forwarding_class);
  g_free (s->transport_zone);
  g_ptr_array_unref (s->hosts);
  g_ptr_array_unref (s->networks);
  g_ptr_array_unref (s->groups);
  g_ptr_array_unref (s->ports);
  g_free (s);
}

static void
parse_hosts (Check *c, DvsSnapshot *s, JsonArray *a)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; a && i < json_array_get_length (a) && i < MAX_HOSTS; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      g_autofree gchar *what = g_strdup_printf ("switch.hosts[%u]", i);
      const gchar *name, *uri;
      DvsSnapHost *h;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          problem (c, "%s must be an object {\"name\", \"libvirt_uri\"}", what);
          continue;
        }
      name = str_member (c, json_node_get_object (n), what, "name", TRUE, 64);
      uri = str_member (c, json_node_get_object (n), what, "libvirt_uri", FALSE, 1024);
      if (name == NULL)
        continue;
      if (!dvs_mgr_host_name_valid (name))
        {
          problem (c, "%s.name '%s' is not a host name (letters, digits, '.', '-', '_')", what, name);
          continue;
        }
      if (g_hash_table_contains (seen, name))
        {
          problem (c, "host '%s' appears twice in switch.hosts", name);
          continue;
        }
      h = g_new0 (DvsSnapHost, 1);
      h->name = g_strdup (name);
      h->libvirt_uri = g_strdup (uri);
      g_ptr_array_add (s->hosts, h);
      g_hash_table_add (seen, h->name);
    }
  if (a && json_array_get_length (a) > MAX_HOSTS)
    problem (c, "switch.hosts has more than %d entries", MAX_HOSTS);
}

static void
parse_networks (Check *c, DvsSnapshot *s, JsonArray *a)
{
  for (guint i = 0; a && i < json_array_get_length (a) && i < MAX_GROUPS; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      g_autofree gchar *what = g_strdup_printf ("switch.networks[%u]", i);
      const gchar *uuid;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          problem (c, "%s must be an object", what);
          continue;
        }
      uuid = str_member (c, json_node_get_object (n), what, "uuid", TRUE, 64);
      if (uuid && !g_uuid_string_is_valid (uuid))
        problem (c, "%s.uuid '%s' is not a UUID", what, uuid);
      g_ptr_array_add (s->networks, json_node_copy (n));
    }
}

/* A config, checked with the host's own parser (via the manager's check). */
static JsonNode *
config_member (Check *c, JsonObject *o, const gchar *what, gboolean required)
{
  JsonObject *conf = obj_member (c, o, what, "config", required);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *cwhat = g_strdup_printf ("%s.config", what);

  if (conf == NULL)
    return NULL;
  node = json_node_init_object (json_node_alloc (), conf);
  if (!dvs_mgr_check_port_config (node, cwhat, &error))
    {
      problem (c, "%s", error->message);
      return NULL;
    }
  return g_steal_pointer (&node);
}

static void
parse_groups (Check *c, DvsSnapshot *s, JsonArray *a, GHashTable *groups)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  if (a && json_array_get_length (a) > MAX_GROUPS)
    {
      problem (c, "switch.port_groups has more than %d entries", MAX_GROUPS);
      return;
    }
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      g_autofree gchar *what = g_strdup_printf ("switch.port_groups[%u]", i);
      const gchar *uuid, *name;
      JsonNode *config;
      DvsSnapGroup *g;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          problem (c, "%s must be an object", what);
          continue;
        }
      uuid = str_member (c, json_node_get_object (n), what, "uuid", TRUE, 64);
      name = str_member (c, json_node_get_object (n), what, "name", TRUE, 64);
      config = config_member (c, json_node_get_object (n), what, TRUE);
      if (uuid && !g_uuid_string_is_valid (uuid))
        problem (c, "%s.uuid '%s' is not a UUID", what, uuid);
      else if (uuid && g_hash_table_contains (groups, uuid))
        problem (c, "port group UUID %s appears twice", uuid);
      else if (name && (*name == '\0' || g_hash_table_contains (names, name)))
        problem (c, *name ? "port group name '%s' appears twice" : "%s.name is empty",
                 *name ? name : what);
      else if (uuid && name && config)
        {
          g = g_new0 (DvsSnapGroup, 1);
          g->uuid = g_strdup (uuid);
          g->name = g_strdup (name);
          g->config = g_steal_pointer (&config);
          g_ptr_array_add (s->groups, g);
          g_hash_table_insert (groups, g->uuid, g);
          g_hash_table_add (names, g->name);
        }
      if (config)
        json_node_unref (config);
    }
}

/* "PREFIX-N" with N a decimal without leading zeros: the key's number. */
static gboolean
port_key_number (const gchar *key, const gchar *uuid, guint64 *n)
{
  const gchar *dash = strrchr (key, '-');
  gchar *end = NULL;

  if (dash == NULL || dash == key || (gsize) (dash - key) != 8 || strncmp (key, uuid, 8) != 0
      || dash[1] == '\0' || (dash[1] == '0' && dash[2] != '\0')
      || strspn (dash + 1, "0123456789") != strlen (dash + 1) || strlen (dash + 1) > 18)
    return FALSE;
  *n = g_ascii_strtoull (dash + 1, &end, 10);
  return end && *end == '\0';
}

static void
parse_ports (Check *c, DvsSnapshot *s, JsonArray *a, GHashTable *groups, GHashTable *hosts)
{
  g_autoptr (GHashTable) keys = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) conns = g_hash_table_new (g_str_hash, g_str_equal);

  if (a && json_array_get_length (a) > MAX_PORTS)
    {
      problem (c, "switch.ports has more than %d entries", MAX_PORTS);
      return;
    }
  for (guint i = 0; a && i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      g_autofree gchar *what = g_strdup_printf ("switch.ports[%u]", i);
      const gchar *key, *group;
      JsonObject *o, *conn = NULL;
      JsonNode *config = NULL;
      guint64 number = 0;
      gboolean ok = TRUE;
      DvsSnapPort *p;

      if (!JSON_NODE_HOLDS_OBJECT (n))
        {
          problem (c, "%s must be an object", what);
          continue;
        }
      o = json_node_get_object (n);
      key = str_member (c, o, what, "key", TRUE, 32);
      group = str_member (c, o, what, "port_group", TRUE, 64);
      if (key)
        {
          g_free (what);
          what = g_strdup_printf ("switch.ports[%u] (key %s)", i, key);
        }
      if (json_object_has_member (o, "config"))
        {
          config = config_member (c, o, what, FALSE);
          ok = config != NULL || JSON_NODE_HOLDS_NULL (json_object_get_member (o, "config"));
        }
      if (key && s->uuid && !port_key_number (key, s->uuid, &number))
        {
          problem (c, "%s: a port key is the switch UUID's first 8 characters, '-' and a number",
                   what);
          ok = FALSE;
        }
      else if (key && g_hash_table_contains (keys, key))
        {
          problem (c, "port key %s appears twice", key);
          ok = FALSE;
        }
      else if (key && number >= s->next_port)
        {
          problem (c, "%s: the key's number is not below switch.next_port (%" G_GUINT64_FORMAT ")",
                   what, s->next_port);
          ok = FALSE;
        }
      if (group && !g_hash_table_contains (groups, group))
        {
          problem (c, "%s names port group %s, which is not in the document", what, group);
          ok = FALSE;
        }
      if (s->connections)
        {
          JsonNode *cn = json_object_get_member (o, "connection");
          if (cn == NULL)
            {
              problem (c, "%s.connection is missing (the document has \"connections\": true)", what);
              ok = FALSE;
            }
          else if (!JSON_NODE_HOLDS_NULL (cn))
            conn = obj_member (c, o, what, "connection", FALSE);
          if (cn && !JSON_NODE_HOLDS_NULL (cn) && conn == NULL)
            ok = FALSE;
        }
      else if (json_object_has_member (o, "connection")
               && !JSON_NODE_HOLDS_NULL (json_object_get_member (o, "connection")))
        {
          problem (c, "%s has a connection but the document says \"connections\": false", what);
          ok = FALSE;
        }
      p = g_new0 (DvsSnapPort, 1);
      if (conn)
        {
          g_autofree gchar *cwhat = g_strconcat (what, ".connection", NULL);
          const gchar *id = str_member (c, conn, cwhat, "id", TRUE, 128);
          const gchar *host = str_member (c, conn, cwhat, "host", TRUE, 64);
          const gchar *vm = str_member (c, conn, cwhat, "vm", TRUE, 64);
          const gchar *mac = str_member (c, conn, cwhat, "mac", TRUE, 32);
          const gchar *iface = str_member (c, conn, cwhat, "interface", FALSE, 64);
          guint8 m[6];

          if (!id || !host || !vm || !mac)
            ok = FALSE;
          if (id && (*id == '\0' || g_hash_table_contains (conns, id)))
            {
              problem (c, *id ? "connection ID %s appears twice" : "%s.id is empty",
                       *id ? id : cwhat);
              ok = FALSE;
            }
          if (host && !g_hash_table_contains (hosts, host))
            {
              problem (c, "%s.host '%s' is not a member host in switch.hosts", cwhat, host);
              ok = FALSE;
            }
          if (vm && !g_uuid_string_is_valid (vm))
            {
              problem (c, "%s.vm '%s' is not a UUID", cwhat, vm);
              ok = FALSE;
            }
          if (mac && (!dvs_parse_mac (mac, m) || (m[0] & 1)))
            {
              problem (c, "%s.mac '%s' is not a unicast MAC", cwhat, mac);
              ok = FALSE;
            }
          if (ok)
            {
              p->conn_id = g_strdup (id);
              p->host = g_strdup (host);
              p->vm = g_strdup (vm);
              p->mac = g_strdup (mac);
              p->iface = g_strdup (iface);
              g_hash_table_add (conns, p->conn_id);
            }
        }
      if (!ok || !key || !group)
        {
          port_free (p);
          if (config)
            json_node_unref (config);
          continue;
        }
      p->key = g_strdup (key);
      p->group = g_strdup (group);
      p->config = config;
      g_ptr_array_add (s->ports, p);
      g_hash_table_add (keys, p->key);
    }
}

DvsSnapshot *
dvs_snapshot_parse (const gchar *text, gssize len, GPtrArray *problems)
{
  static const gchar *const top_allowed[] = { "format", "format_version", "created", "author",
                                              "comment", "manager", "generation", "connections",
                                              "switch", "checksum", NULL };
  static const gchar *const sw_allowed[] = { "uuid", "name", "forwarding_class", "mtu",
                                             "transport_zone", "uplink", "hosts", "networks",
                                             "history", "next_port", "port_groups", "ports", NULL };
  Check c = { problems, 0 };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (DvsSnapshot) s = NULL;
  g_autoptr (GHashTable) groups = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) hosts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree gchar *expected = NULL;
  JsonObject *top, *sw, *hist;
  JsonNode *conn_flag, *fv;
  const gchar *format, *str;
  gint64 v;
  guint before = problems->len;

  if (text == NULL)
    {
      problem (&c, "no document");
      return NULL;
    }
  if (len < 0)
    len = (gssize) strlen (text);
  if ((gsize) len > DVS_SNAPSHOT_MAX_SIZE)
    {
      problem (&c, "the document is larger than %d MiB", DVS_SNAPSHOT_MAX_SIZE / (1024 * 1024));
      return NULL;
    }
  if (memchr (text, '\0', (gsize) len) != NULL)
    {
      problem (&c, "the document contains a NUL byte: it is not JSON text");
      return NULL;
    }
  if (!dvs_jsonrpc_check_text (text, (gsize) len, "document", &error))
    {
      problem (&c, "%s", error->message);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, text, len, &error))
    {
      problem (&c, "the document is not valid JSON: %s", error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      problem (&c, "the document must be a JSON object");
      return NULL;
    }
  s = g_new0 (DvsSnapshot, 1);
  s->hosts = g_ptr_array_new_with_free_func ((GDestroyNotify) host_free);
  s->networks = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  s->groups = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  s->ports = g_ptr_array_new_with_free_func ((GDestroyNotify) port_free);
  s->doc = json_node_copy (json_parser_get_root (parser));
  top = json_node_get_object (s->doc);

  /* Format first: a future version is reported alone, its other members
   * may mean something this dvsmgr does not know. */
  format = str_member (&c, top, "document", "format", TRUE, 64);
  if (format && !g_str_equal (format, DVS_SNAPSHOT_FORMAT))
    problem (&c, "format is '%s', not '%s': this is not a DVswitch snapshot", format,
             DVS_SNAPSHOT_FORMAT);
  fv = json_object_get_member (top, "format_version");
  if (fv == NULL || json_node_get_value_type (fv) != G_TYPE_INT64 || json_node_get_int (fv) < 1)
    problem (&c, "format_version must be a positive integer");
  else if (json_node_get_int (fv) > DVS_SNAPSHOT_FORMAT_VERSION)
    problem (&c, "format_version %" G_GINT64_FORMAT " is newer than this dvsmgr reads (%d): "
             "import it with a newer dvsmgr", json_node_get_int (fv), DVS_SNAPSHOT_FORMAT_VERSION);
  else
    s->format_version = (gint) json_node_get_int (fv);
  if (problems->len > before)
    return NULL;

  s->checksum = g_strdup (str_member (&c, top, "document", "checksum", TRUE, 128));
  expected = dvs_snapshot_checksum (s->doc);
  if (s->checksum && !g_str_equal (s->checksum, expected))
    problem (&c, "checksum mismatch: the document was changed after it was exported "
             "(it says %s, its content is %s); export it again", s->checksum, expected);
  {
    g_autoptr (GList) members = json_object_get_members (top);
    for (GList *l = members; l; l = l->next)
      if (!g_strv_contains (top_allowed, l->data))
        problem (&c, "unknown member '%.64s' in the document", (const gchar *) l->data);
  }
  s->created = g_strdup (str_member (&c, top, "document", "created", TRUE, 64));
  s->author = g_strdup (str_member (&c, top, "document", "author", FALSE, 256));
  s->comment = g_strdup (str_member (&c, top, "document", "comment", FALSE, 4096));
  s->manager = g_strdup (str_member (&c, top, "document", "manager", FALSE, 64));
  conn_flag = json_object_get_member (top, "connections");
  if (conn_flag == NULL || json_node_get_value_type (conn_flag) != G_TYPE_BOOLEAN)
    problem (&c, "document.connections must be true or false");
  else
    s->connections = json_node_get_boolean (conn_flag);

  sw = obj_member (&c, top, "document", "switch", TRUE);
  if (sw == NULL)
    return NULL;
  {
    g_autoptr (GList) members = json_object_get_members (sw);
    for (GList *l = members; l; l = l->next)
      if (!g_strv_contains (sw_allowed, l->data))
        problem (&c, "unknown member '%.64s' in switch", (const gchar *) l->data);
  }
  str = str_member (&c, sw, "switch", "uuid", TRUE, 64);
  if (str && !g_uuid_string_is_valid (str))
    problem (&c, "switch.uuid '%s' is not a UUID", str);
  else
    s->uuid = g_strdup (str);
  str = str_member (&c, sw, "switch", "name", TRUE, 64);
  if (str && *str == '\0')
    problem (&c, "switch.name is empty");
  s->name = g_strdup (str);
  str = str_member (&c, sw, "switch", "forwarding_class", TRUE, 64);
  if (str && !g_str_equal (str, "l2-learning"))
    problem (&c, "switch.forwarding_class '%s' is not known (known: l2-learning)", str);
  s->forwarding_class = g_strdup (str);
  if (int_member (&c, sw, "switch", "mtu", 68, 9000, &v))
    s->mtu = (guint) v;
  str = str_member (&c, sw, "switch", "transport_zone", FALSE, 64);
  s->transport_zone = g_strdup (str ? str : "");
  if (json_object_has_member (sw, "uplink") && !JSON_NODE_HOLDS_NULL (json_object_get_member (sw, "uplink")))
    problem (&c, "switch.uplink must be null: uplinks and teaming are not part of format version 1");
  if (int_member (&c, sw, "switch", "next_port", 0, G_MAXINT64 / 2, &v))
    s->next_port = (guint64) v;
  hist = obj_member (&c, sw, "switch", "history", FALSE);
  if (hist)
    {
      JsonNode *a = json_object_get_member (hist, "auto");
      if (a == NULL || json_node_get_value_type (a) != G_TYPE_BOOLEAN)
        problem (&c, "switch.history.auto must be true or false");
      else
        s->history_auto = json_node_get_boolean (a);
      if (int_member (&c, hist, "switch.history", "keep", 0, 100000, &v))
        s->history_keep = (guint) v;
    }
  parse_hosts (&c, s, array_member (&c, sw, "switch", "hosts"));
  for (guint i = 0; i < s->hosts->len; i++)
    g_hash_table_add (hosts, ((DvsSnapHost *) s->hosts->pdata[i])->name);
  parse_networks (&c, s, json_object_has_member (sw, "networks")
                         ? array_member (&c, sw, "switch", "networks") : NULL);
  parse_groups (&c, s, array_member (&c, sw, "switch", "port_groups"), groups);
  if (s->uuid)
    parse_ports (&c, s, array_member (&c, sw, "switch", "ports"), groups, hosts);
  if (c.limit_hit)
    g_ptr_array_add (problems, g_strdup_printf ("... and %u more problems", c.limit_hit));
  if (problems->len > before)
    return NULL;
  return g_steal_pointer (&s);
}
