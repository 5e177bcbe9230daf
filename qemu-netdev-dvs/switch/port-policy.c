#include "port-policy.h"

#include <stdio.h>
#include <string.h>
#include "dvs-jsonrpc.h"

#define invalid(error, ...) \
  ({ g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS, __VA_ARGS__); FALSE; })

static const gchar *const dir_names[] = { "ingress", "egress" };

void
dvs_port_policy_clear (DvsPortPolicy *p)
{
  g_free (p->mirror_to);
  memset (p, 0, sizeof *p);
}

void
dvs_port_policy_copy (DvsPortPolicy *dst, const DvsPortPolicy *src)
{
  *dst = *src;
  dst->mirror_to = g_strdup (src->mirror_to);
}

gboolean
dvs_shaper_dir_active (const struct dvs_shaper_dir_config *d)
{
  return d->average_kbps != 0;
}

static gboolean
only_members (JsonObject *o, const gchar *what, const gchar *const *allowed,
              GError **error)
{
  g_autoptr (GList) members = json_object_get_members (o);

  for (GList *l = members; l; l = l->next)
    if (!g_strv_contains (allowed, l->data))
      {
        g_autofree gchar *list = g_strjoinv (", ", (gchar **) allowed);
        return invalid (error, "%s has an unknown member \"%s\" (expected %s)",
                        what, (const gchar *) l->data, list);
      }
  return TRUE;
}

static gboolean
get_bool (JsonObject *o, const gchar *what, const gchar *name, guint8 *out,
          GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return invalid (error, "%s.%s must be true or false", what, name);
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
get_u64 (JsonObject *o, const gchar *what, const gchar *name, guint64 max,
         guint64 *out, GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64
      || json_node_get_int (n) < 0 || (guint64) json_node_get_int (n) > max)
    return invalid (error, "%s.%s must be an integer from 0 to %" G_GUINT64_FORMAT,
                    what, name, max);
  *out = (guint64) json_node_get_int (n);
  return TRUE;
}

gboolean
dvs_parse_mac (const gchar *s, guint8 mac[6])
{
  guint v[6];
  gchar end;

  if (sscanf (s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6
      || strlen (s) != 17)
    return FALSE;
  for (int i = 0; i < 6; i++)
    mac[i] = (guint8) v[i];
  return TRUE;
}

static gboolean
parse_security (JsonNode *n, struct dvs_security_config *sec, GError **error)
{
  static const gchar *const allowed[] = { "enabled", "allowed_macs", "forged_transmits",
                                          "mac_changes", NULL };
  struct dvs_security_config s = { .enabled = 1 };
  JsonObject *o;
  JsonNode *macs;

  if (JSON_NODE_HOLDS_NULL (n))
    {
      memset (sec, 0, sizeof *sec);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return invalid (error, "policy.security must be an object or null");
  o = json_node_get_object (n);
  if (!only_members (o, "policy.security", allowed, error)
      || !get_bool (o, "policy.security", "enabled", &s.enabled, error)
      || !get_bool (o, "policy.security", "forged_transmits", &s.forged_transmits, error)
      || !get_bool (o, "policy.security", "mac_changes", &s.mac_changes, error))
    return FALSE;
  macs = json_object_get_member (o, "allowed_macs");
  if (macs != NULL)
    {
      JsonArray *a;
      if (!JSON_NODE_HOLDS_ARRAY (macs))
        return invalid (error, "policy.security.allowed_macs must be an array of MAC addresses");
      a = json_node_get_array (macs);
      if (json_array_get_length (a) > DVS_SECURITY_MAX_MACS)
        return invalid (error, "policy.security.allowed_macs has %u addresses; at most %d are allowed",
                        json_array_get_length (a), DVS_SECURITY_MAX_MACS);
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          JsonNode *e = json_array_get_element (a, i);
          const gchar *str = JSON_NODE_HOLDS_VALUE (e) ? json_node_get_string (e) : NULL;
          if (str == NULL || !dvs_parse_mac (str, s.macs[i]) || (s.macs[i][0] & 1))
            return invalid (error, "policy.security.allowed_macs[%u] is not a unicast MAC "
                            "address like 52:54:00:12:34:56", i);
        }
      s.n_macs = (guint8) json_array_get_length (a);
    }
  *sec = s;
  return TRUE;
}

static gboolean
parse_shaping (JsonNode *n, struct dvs_shaper_config *sh, GError **error)
{
  static const gchar *const allowed[] = { "ingress", "egress", NULL };
  static const gchar *const dir_allowed[] = { "average_kbps", "peak_kbps", "burst_kbytes", NULL };
  struct dvs_shaper_config s = *sh;
  JsonObject *o;

  if (JSON_NODE_HOLDS_NULL (n))
    {
      memset (sh, 0, sizeof *sh);
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return invalid (error, "policy.shaping must be an object with ingress and/or egress, or null");
  o = json_node_get_object (n);
  if (!only_members (o, "policy.shaping", allowed, error))
    return FALSE;
  for (int d = 0; d < 2; d++)
    {
      g_autofree gchar *what = g_strdup_printf ("policy.shaping.%s", dir_names[d]);
      JsonNode *dn = json_object_get_member (o, dir_names[d]);
      struct dvs_shaper_dir_config c = { 0 };
      JsonObject *dobj;

      if (dn == NULL)
        continue;
      if (JSON_NODE_HOLDS_NULL (dn))
        {
          memset (&s.dir[d], 0, sizeof s.dir[d]);
          continue;
        }
      if (!JSON_NODE_HOLDS_OBJECT (dn))
        return invalid (error, "%s must be an object or null", what);
      dobj = json_node_get_object (dn);
      if (!only_members (dobj, what, dir_allowed, error)
          || !get_u64 (dobj, what, "average_kbps", 100000000, &c.average_kbps, error)
          || !get_u64 (dobj, what, "peak_kbps", 100000000, &c.peak_kbps, error)
          || !get_u64 (dobj, what, "burst_kbytes", 10000000, &c.burst_kbytes, error))
        return FALSE;
      if (c.average_kbps == 0)
        return invalid (error, "%s.average_kbps must be given and above 0 "
                        "(use null to stop shaping)", what);
      if (c.peak_kbps != 0 && c.peak_kbps < c.average_kbps)
        return invalid (error, "%s.peak_kbps (%" G_GUINT64_FORMAT ") is below average_kbps (%"
                        G_GUINT64_FORMAT ")", what, c.peak_kbps, c.average_kbps);
      s.dir[d] = c;
    }
  *sh = s;
  return TRUE;
}

static gboolean
parse_mirror (JsonNode *n, gchar **to, enum dvs_mirror_dir *dir, GError **error)
{
  static const gchar *const allowed[] = { "to", "direction", NULL };
  JsonObject *o;
  const gchar *t, *d = "both";

  if (JSON_NODE_HOLDS_NULL (n))
    {
      g_clear_pointer (to, g_free);
      *dir = DVS_MIRROR_NONE;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_OBJECT (n))
    return invalid (error, "policy.mirror must be an object {\"to\":PORT,\"direction\":...} or null");
  o = json_node_get_object (n);
  if (!only_members (o, "policy.mirror", allowed, error)
      || !dvs_jsonrpc_param_string (o, "to", &t, error)
      || !dvs_jsonrpc_param_string_opt (o, "direction", &d, error))
    return FALSE;
  if (!g_str_equal (d, "ingress") && !g_str_equal (d, "egress") && !g_str_equal (d, "both"))
    return invalid (error, "policy.mirror.direction must be ingress, egress or both, not \"%s\"", d);
  g_free (*to);
  *to = g_strdup (t);
  *dir = g_str_equal (d, "ingress") ? DVS_MIRROR_INGRESS
       : g_str_equal (d, "egress") ? DVS_MIRROR_EGRESS : DVS_MIRROR_BOTH;
  return TRUE;
}

gboolean
dvs_port_policy_update_from_json (DvsPortPolicy *p, JsonNode *node, GError **error)
{
  static const gchar *const allowed[] = { "blocked", "security", "shaping", "mirror", NULL };
  DvsPortPolicy n;
  JsonObject *o;
  JsonNode *m;
  guint8 blocked;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "policy must be an object with blocked, security, shaping and/or mirror");
  o = json_node_get_object (node);
  if (!only_members (o, "policy", allowed, error))
    return FALSE;
  dvs_port_policy_copy (&n, p);
  blocked = (guint8) n.blocked;
  if (!get_bool (o, "policy", "blocked", &blocked, error)
      || ((m = json_object_get_member (o, "security")) && !parse_security (m, &n.security, error))
      || ((m = json_object_get_member (o, "shaping")) && !parse_shaping (m, &n.shaping, error))
      || ((m = json_object_get_member (o, "mirror")) && !parse_mirror (m, &n.mirror_to, &n.mirror_dir, error)))
    {
      dvs_port_policy_clear (&n);
      return FALSE;
    }
  n.blocked = blocked;
  dvs_port_policy_clear (p);
  *p = n;
  return TRUE;
}

JsonNode *
dvs_port_policy_to_json (const DvsPortPolicy *p)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "blocked");
  json_builder_add_boolean_value (b, p->blocked);

  json_builder_set_member_name (b, "security");
  if (!p->security.enabled)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "enabled");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_set_member_name (b, "allowed_macs");
      json_builder_begin_array (b);
      for (int i = 0; i < p->security.n_macs; i++)
        {
          const guint8 *m = p->security.macs[i];
          g_autofree gchar *s = g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x",
                                                 m[0], m[1], m[2], m[3], m[4], m[5]);
          json_builder_add_string_value (b, s);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "forged_transmits");
      json_builder_add_boolean_value (b, p->security.forged_transmits);
      json_builder_set_member_name (b, "mac_changes");
      json_builder_add_boolean_value (b, p->security.mac_changes);
      json_builder_end_object (b);
    }

  json_builder_set_member_name (b, "shaping");
  if (!dvs_shaper_dir_active (&p->shaping.dir[0]) && !dvs_shaper_dir_active (&p->shaping.dir[1]))
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      for (int d = 0; d < 2; d++)
        {
          const struct dvs_shaper_dir_config *c = &p->shaping.dir[d];
          json_builder_set_member_name (b, dir_names[d]);
          if (!dvs_shaper_dir_active (c))
            {
              json_builder_add_null_value (b);
              continue;
            }
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "average_kbps");
          json_builder_add_int_value (b, (gint64) c->average_kbps);
          json_builder_set_member_name (b, "peak_kbps");
          json_builder_add_int_value (b, (gint64) c->peak_kbps);
          json_builder_set_member_name (b, "burst_kbytes");
          json_builder_add_int_value (b, (gint64) c->burst_kbytes);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }

  json_builder_set_member_name (b, "mirror");
  if (p->mirror_to == NULL)
    json_builder_add_null_value (b);
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "to");
      json_builder_add_string_value (b, p->mirror_to);
      json_builder_set_member_name (b, "direction");
      json_builder_add_string_value (b, p->mirror_dir == DVS_MIRROR_INGRESS ? "ingress"
                                        : p->mirror_dir == DVS_MIRROR_EGRESS ? "egress" : "both");
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
