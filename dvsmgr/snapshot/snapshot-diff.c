/* The difference between two snapshot documents (snapshot.h, "diff").
 *
 * Pure: it reads two JsonNodes and builds a new one.  The documents need
 * not have been validated: a member that is missing, null or of another
 * type than expected counts as absent, array elements that are not
 * objects or lack their identifier are skipped, and of two elements with
 * the same identifier the first one counts.  An absent member and a null
 * one are the same thing.
 *
 * Compared: the switch level (every member of "switch" but its
 * collections and the "next_port" counter, which only ever follows the
 * ports), hosts by name, networks and port groups by UUID, ports by key.
 * A changed object gives one change per setting that differs; objects on
 * both sides are compared member by member into dotted paths
 * ("config.policy.shaping.ingress.average_kbps"), anything else (numbers,
 * strings, arrays, a section on one side only) as one value.
 *
 * Port changes carry one member more than the header lists: "port_group",
 * the name of the port's group (its UUID when the document lacks it), so
 * that the readable form can say which group a port belongs to.
 *
 * The summary counts, per kind of object, the objects added, removed and
 * changed (an object with three changed settings counts once). */
#include <string.h>

#include "snapshot.h"
#include "dvs-json-write.h"

/* Beyond this depth two objects are compared as one value. */
#define MAX_DEPTH 32

typedef enum {
  KIND_SWITCH,
  KIND_HOST,
  KIND_NETWORK,
  KIND_PORT_GROUP,
  KIND_PORT,
  N_KINDS
} Kind;

static const gchar *const kind_names[N_KINDS] = {
  "switch", "host", "network", "port_group", "port",
};

typedef enum { ADDED, REMOVED, CHANGED, N_CHANGES } ChangeType;

static const gchar *const change_names[N_CHANGES] = {
  "added", "removed", "changed",
};

typedef struct {
  JsonArray *changes;
  guint counts[N_KINDS][N_CHANGES];
  /* uuid → port group object (borrowed from the documents) */
  GHashTable *from_groups, *to_groups;
  gboolean connections;   /* both documents carry connections */
  gboolean changed;       /* a setting of the current object differs */
} Diff;

/* The object a change is about. */
typedef struct {
  Kind kind;
  const gchar *id;
  const gchar *name;    /* NULL: none */
  const gchar *group;   /* ports: their group's name; else NULL */
} Target;

/* ---- reading documents that may be anything ---------------------------- */

static JsonNode *
member (JsonObject *obj, const gchar *name)
{
  return obj != NULL ? json_object_get_member (obj, name) : NULL;
}

static JsonObject *
member_object (JsonObject *obj, const gchar *name)
{
  JsonNode *node = member (obj, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
         ? json_node_get_object (node) : NULL;
}

static JsonArray *
member_array (JsonObject *obj, const gchar *name)
{
  JsonNode *node = member (obj, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node)
         ? json_node_get_array (node) : NULL;
}

static const gchar *
member_string (JsonObject *obj, const gchar *name)
{
  JsonNode *node = member (obj, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_STRING
         ? json_node_get_string (node) : NULL;
}

static gboolean
member_true (JsonObject *obj, const gchar *name)
{
  JsonNode *node = member (obj, name);

  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_BOOLEAN
         && json_node_get_boolean (node);
}

static JsonObject *
node_object (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_OBJECT (node)
         ? json_node_get_object (node) : NULL;
}

static gboolean
is_null (JsonNode *node)
{
  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

static gboolean
values_equal (JsonNode *a, JsonNode *b)
{
  if (is_null (a) || is_null (b))
    return is_null (a) && is_null (b);
  return json_node_equal (a, b);
}

static JsonNode *
value_copy (JsonNode *node)
{
  return node != NULL ? json_node_copy (node) : json_node_new (JSON_NODE_NULL);
}

/* id → element object of @array whose string member @id_member is the id;
 * the first of duplicates wins.  Borrowed pointers. */
static GHashTable *
index_array (JsonArray *array, const gchar *id_member)
{
  GHashTable *index = g_hash_table_new (g_str_hash, g_str_equal);
  guint length = array != NULL ? json_array_get_length (array) : 0;

  for (guint i = 0; i < length; i++)
    {
      JsonObject *obj = node_object (json_array_get_element (array, i));
      const gchar *id = member_string (obj, id_member);

      if (id != NULL && !g_hash_table_contains (index, id))
        g_hash_table_insert (index, (gpointer) id, obj);
    }
  return index;
}

/* ---- changes ------------------------------------------------------------ */

static JsonObject *
add_change (Diff *d, const Target *t, ChangeType type)
{
  JsonObject *change = json_object_new ();

  json_object_set_string_member (change, "object", kind_names[t->kind]);
  json_object_set_string_member (change, "id", t->id);
  if (t->name != NULL)
    json_object_set_string_member (change, "name", t->name);
  else
    json_object_set_null_member (change, "name");
  if (t->kind == KIND_PORT)
    {
      if (t->group != NULL)
        json_object_set_string_member (change, "port_group", t->group);
      else
        json_object_set_null_member (change, "port_group");
    }
  json_object_set_string_member (change, "change", change_names[type]);
  json_array_add_object_element (d->changes, change);   /* takes it */
  if (type != CHANGED)
    d->counts[t->kind][type]++;
  return change;
}

static void
add_setting (Diff *d, const Target *t, const gchar *path,
             JsonNode *from, JsonNode *to)
{
  JsonObject *change = add_change (d, t, CHANGED);

  d->changed = TRUE;
  json_object_set_string_member (change, "setting", path);
  json_object_set_member (change, "from", value_copy (from));
  json_object_set_member (change, "to", value_copy (to));
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar *const *) a, *(const gchar *const *) b);
}

static void compare_members (Diff *d, const Target *t, const gchar *prefix,
                             JsonObject *from, JsonObject *to,
                             const gchar *const *skip, guint depth);

/* One setting at @path: objects on both sides member by member, anything
 * else as one value. */
static void
compare_value (Diff *d, const Target *t, const gchar *path,
               JsonNode *from, JsonNode *to, guint depth)
{
  JsonObject *from_obj = node_object (from), *to_obj = node_object (to);

  if (from_obj != NULL && to_obj != NULL && depth < MAX_DEPTH)
    compare_members (d, t, path, from_obj, to_obj, NULL, depth + 1);
  else if (!values_equal (from, to))
    add_setting (d, t, path, from, to);
}

/* Every member of @from and @to but those in @skip (NULL-terminated, may
 * be NULL), in name order, as PREFIX.NAME. */
static void
compare_members (Diff *d, const Target *t, const gchar *prefix,
                 JsonObject *from, JsonObject *to,
                 const gchar *const *skip, guint depth)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  JsonObject *sides[2] = { from, to };

  for (guint s = 0; s < G_N_ELEMENTS (sides); s++)
    {
      g_autoptr (GList) list = sides[s] != NULL
                               ? json_object_get_members (sides[s]) : NULL;

      for (GList *l = list; l != NULL; l = l->next)
        if (skip == NULL || !g_strv_contains (skip, l->data))
          g_ptr_array_add (names, l->data);
    }
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      const gchar *name = names->pdata[i];
      g_autofree gchar *path = NULL;

      if (i > 0 && strcmp (name, names->pdata[i - 1]) == 0)
        continue;   /* on both sides */
      path = prefix != NULL ? g_strconcat (prefix, ".", name, NULL)
                            : g_strdup (name);
      compare_value (d, t, path, member (from, name), member (to, name),
                     depth);
    }
}

/* ---- collections -------------------------------------------------------- */

typedef struct {
  const gchar *id;
  JsonObject *from, *to;   /* NULL: not on that side */
  const gchar *name;       /* the display name: @to's, else @from's */
} Pair;

typedef void (*ComparePairFunc) (Diff *d, const Pair *pair);

/* Splits a port key "PREFIX-N" into the length of PREFIX and N without
 * its leading zeros; a key of another form is all prefix (@number NULL). */
static void
split_key (const gchar *key, gsize *prefix_len, const gchar **number)
{
  const gchar *dash = strrchr (key, '-');

  *prefix_len = strlen (key);
  *number = NULL;
  if (dash != NULL && dash[1] != '\0'
      && strspn (dash + 1, "0123456789") == strlen (dash + 1))
    {
      *prefix_len = dash - key;
      *number = dash + 1;
      while ((*number)[0] == '0' && (*number)[1] != '\0')
        (*number)++;
    }
}

/* Port keys by prefix, then by number ("x-2" before "x-10"), keys of
 * another form after those of the same prefix; ties byte-wise.  A total
 * order whatever the keys are. */
static gint
compare_keys (const gchar *a, const gchar *b)
{
  const gchar *na, *nb;
  gsize la, lb;
  gint c;

  split_key (a, &la, &na);
  split_key (b, &lb, &nb);
  c = memcmp (a, b, MIN (la, lb));
  if (c != 0)
    return c;
  if (la != lb)
    return la < lb ? -1 : 1;
  if ((na == NULL) != (nb == NULL))
    return na != NULL ? -1 : 1;
  if (na != NULL && strlen (na) != strlen (nb))
    return strlen (na) < strlen (nb) ? -1 : 1;
  if (na != NULL && (c = strcmp (na, nb)) != 0)
    return c;
  return strcmp (a, b);
}

static gint
compare_pairs_by_key (gconstpointer a, gconstpointer b)
{
  const Pair *pa = *(const Pair *const *) a, *pb = *(const Pair *const *) b;

  return compare_keys (pa->id, pb->id);
}

/* By display name (objects without one first), then id. */
static gint
compare_pairs_by_name (gconstpointer a, gconstpointer b)
{
  const Pair *pa = *(const Pair *const *) a, *pb = *(const Pair *const *) b;
  gint c = g_strcmp0 (pa->name, pb->name);

  return c != 0 ? c : strcmp (pa->id, pb->id);
}

/* Matches the elements of two arrays by @id_member and hands each pair to
 * @func, in the order of @sort; counts the changed objects of @kind. */
static void
compare_collection (Diff *d, Kind kind, JsonArray *from, JsonArray *to,
                    const gchar *id_member, GCompareFunc sort,
                    ComparePairFunc func)
{
  g_autoptr (GHashTable) from_index = index_array (from, id_member);
  g_autoptr (GHashTable) to_index = index_array (to, id_member);
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  GHashTable *indexes[2] = { from_index, to_index };

  for (guint s = 0; s < G_N_ELEMENTS (indexes); s++)
    {
      GHashTableIter iter;
      gpointer id, obj;

      g_hash_table_iter_init (&iter, indexes[s]);
      while (g_hash_table_iter_next (&iter, &id, &obj))
        {
          Pair *pair;

          if (s == 1 && g_hash_table_contains (from_index, id))
            continue;   /* already paired */
          pair = g_new0 (Pair, 1);
          pair->id = id;
          pair->from = g_hash_table_lookup (from_index, id);
          pair->to = g_hash_table_lookup (to_index, id);
          pair->name = member_string (pair->to, "name");
          if (pair->name == NULL)
            pair->name = member_string (pair->from, "name");
          g_ptr_array_add (pairs, pair);
        }
    }
  g_ptr_array_sort (pairs, sort);
  for (guint i = 0; i < pairs->len; i++)
    {
      d->changed = FALSE;
      func (d, pairs->pdata[i]);
      if (d->changed)
        d->counts[kind][CHANGED]++;
    }
}

/* Added, removed, or its members but @skip compared. */
static void
compare_object (Diff *d, const Target *t, const Pair *pair,
                const gchar *const *skip)
{
  if (pair->from == NULL)
    add_change (d, t, ADDED);
  else if (pair->to == NULL)
    add_change (d, t, REMOVED);
  else
    compare_members (d, t, NULL, pair->from, pair->to, skip, 0);
}

static void
compare_host (Diff *d, const Pair *pair)
{
  static const gchar *const skip[] = { "name", NULL };
  Target t = { KIND_HOST, pair->id, pair->id, NULL };

  compare_object (d, &t, pair, skip);
}

static void
compare_network (Diff *d, const Pair *pair)
{
  static const gchar *const skip[] = { "uuid", NULL };
  Target t = { KIND_NETWORK, pair->id, pair->name, NULL };

  compare_object (d, &t, pair, skip);
}

static void
compare_group (Diff *d, const Pair *pair)
{
  static const gchar *const skip[] = { "uuid", NULL };
  Target t = { KIND_PORT_GROUP, pair->id, pair->name, NULL };

  compare_object (d, &t, pair, skip);
}

/* The name of port group @uuid in @groups, NULL when it has none. */
static const gchar *
group_name (GHashTable *groups, const gchar *uuid)
{
  return uuid != NULL ? member_string (g_hash_table_lookup (groups, uuid),
                                       "name")
                      : NULL;
}

static void
compare_port (Diff *d, const Pair *pair)
{
  static const gchar *const skip[] = { "key", "port_group", "connection", NULL };
  const gchar *from_group = member_string (pair->from, "port_group");
  const gchar *to_group = member_string (pair->to, "port_group");
  const gchar *from_name = group_name (d->from_groups, from_group);
  const gchar *to_name = group_name (d->to_groups, to_group);
  Target t = { KIND_PORT, pair->id, NULL, NULL };

  if (pair->to != NULL)
    t.group = to_name != NULL ? to_name : to_group;
  else
    t.group = from_name != NULL ? from_name : from_group;

  if (pair->from == NULL)
    add_change (d, &t, ADDED);
  else if (pair->to == NULL)
    add_change (d, &t, REMOVED);
  else
    {
      JsonNode *from_node = member (pair->from, "port_group");
      JsonNode *to_node = member (pair->to, "port_group");

      if (!values_equal (from_node, to_node))
        {
          if (from_name != NULL && to_name != NULL)
            {
              g_autoptr (JsonNode) from_value = json_node_new (JSON_NODE_VALUE);
              g_autoptr (JsonNode) to_value = json_node_new (JSON_NODE_VALUE);

              json_node_set_string (from_value, from_name);
              json_node_set_string (to_value, to_name);
              add_setting (d, &t, "port_group", from_value, to_value);
            }
          else
            add_setting (d, &t, "port_group", from_node, to_node);
        }
      compare_members (d, &t, NULL, pair->from, pair->to, skip, 0);
      if (d->connections)
        compare_value (d, &t, "connection", member (pair->from, "connection"),
                       member (pair->to, "connection"), 0);
    }
}

static void
compare_switch (Diff *d, JsonObject *from, JsonObject *to)
{
  static const gchar *const skip[] = {
    "hosts", "networks", "port_groups", "ports", "next_port", NULL,
  };
  const gchar *id = member_string (to, "uuid");
  const gchar *name = member_string (to, "name");
  Target t;

  if (id == NULL)
    id = member_string (from, "uuid");
  if (name == NULL)
    name = member_string (from, "name");
  t = (Target) { KIND_SWITCH, id != NULL ? id : "", name, NULL };
  d->changed = FALSE;
  compare_members (d, &t, NULL, from, to, skip, 0);
  if (d->changed)
    d->counts[KIND_SWITCH][CHANGED]++;
}

JsonNode *
dvs_snapshot_diff (JsonNode *from, JsonNode *to)
{
  JsonObject *from_sw = member_object (node_object (from), "switch");
  JsonObject *to_sw = member_object (node_object (to), "switch");
  g_autoptr (JsonObject) result = json_object_new ();
  g_autoptr (JsonObject) summary = json_object_new ();
  Diff d = { 0 };

  d.changes = json_array_new ();
  d.connections = member_true (node_object (from), "connections")
                  && member_true (node_object (to), "connections");
  d.from_groups = index_array (member_array (from_sw, "port_groups"), "uuid");
  d.to_groups = index_array (member_array (to_sw, "port_groups"), "uuid");

  compare_switch (&d, from_sw, to_sw);
  compare_collection (&d, KIND_HOST, member_array (from_sw, "hosts"),
                      member_array (to_sw, "hosts"), "name",
                      compare_pairs_by_name, compare_host);
  compare_collection (&d, KIND_NETWORK, member_array (from_sw, "networks"),
                      member_array (to_sw, "networks"), "uuid",
                      compare_pairs_by_name, compare_network);
  compare_collection (&d, KIND_PORT_GROUP,
                      member_array (from_sw, "port_groups"),
                      member_array (to_sw, "port_groups"), "uuid",
                      compare_pairs_by_name, compare_group);
  compare_collection (&d, KIND_PORT, member_array (from_sw, "ports"),
                      member_array (to_sw, "ports"), "key",
                      compare_pairs_by_key, compare_port);

  for (guint k = 0; k < N_KINDS; k++)
    {
      JsonObject *counts = json_object_new ();

      for (guint c = 0; c < N_CHANGES; c++)
        json_object_set_int_member (counts, change_names[c], d.counts[k][c]);
      json_object_set_object_member (summary, kind_names[k], counts);
    }
  json_object_set_array_member (result, "changes", d.changes);
  json_object_set_object_member (result, "summary",
                                 g_steal_pointer (&summary));
  g_hash_table_unref (d.from_groups);
  g_hash_table_unref (d.to_groups);
  return json_node_init_object (json_node_alloc (), result);
}

/* ---- the readable form -------------------------------------------------- */

static void
append_value (GString *out, JsonNode *node)
{
  g_autofree gchar *text = node != NULL ? dvs_json_write (node, FALSE) : NULL;

  g_string_append (out, text != NULL ? text : "null");
}

static void
append_change (GString *out, JsonObject *change)
{
  const gchar *object = member_string (change, "object");
  const gchar *id = member_string (change, "id");
  const gchar *name = member_string (change, "name");
  const gchar *type = member_string (change, "change");
  const gchar *setting = member_string (change, "setting");
  g_autofree gchar *label = g_strdup (object != NULL ? object : "object");

  if (id == NULL || *id == '\0')
    id = "?";
  g_strdelimit (label, "_", ' ');
  if (g_strcmp0 (type, "added") == 0)
    g_string_append (out, "+ ");
  else if (g_strcmp0 (type, "removed") == 0)
    g_string_append (out, "- ");
  else
    g_string_append (out, "~ ");
  g_string_append_printf (out, "%s ", label);

  if (g_strcmp0 (object, "port") == 0)
    {
      const gchar *group = member_string (change, "port_group");

      g_string_append (out, id);
      if (group != NULL)
        g_string_append_printf (out, " (port group %s)", group);
    }
  else if (name != NULL && strcmp (name, id) != 0)
    g_string_append_printf (out, "%s (%.8s)", name, id);
  else
    g_string_append (out, id);

  if (setting != NULL)
    {
      g_string_append_printf (out, ": %s ", setting);
      append_value (out, member (change, "from"));
      g_string_append (out, " -> ");
      append_value (out, member (change, "to"));
    }
}

gchar *
dvs_snapshot_diff_text (JsonNode *diff)
{
  JsonArray *changes = member_array (node_object (diff), "changes");
  guint length = changes != NULL ? json_array_get_length (changes) : 0;
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < length; i++)
    {
      JsonObject *change = node_object (json_array_get_element (changes, i));

      if (change == NULL)
        continue;
      if (out->len > 0)
        g_string_append_c (out, '\n');
      append_change (out, change);
    }
  if (out->len == 0)
    g_string_append (out, "no changes");
  return g_string_free (out, FALSE);
}
