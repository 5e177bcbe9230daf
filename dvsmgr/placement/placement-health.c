/* Each host's last status (sent with host.heartbeat) and its health score.
 *
 * The score starts at 100 and loses points for each thing wrong, each
 * named in a reason (docs/placement.md has the table):
 *   not connected                       → 0 (nothing else counts)
 *   heartbeat older than 15 s           −50
 *   final state not in sync (push)      −60
 *   no status reported yet              −10
 *   drops rose since the last report    −20
 *   datapath load ≥ 90 % / ≥ 75 %       −30 / −10
 *   per member DVswitch: no uplink −10, uplinks all down −40 (in all at
 *   most −40)
 * floored at 0.  A host takes VMs at DVS_MGR_HEALTH_THRESHOLD or above. */
#define G_LOG_DOMAIN "dvsmgr-placement"

#include "placement/placement-private.h"
#include "dvs-json-write.h"

#include <string.h>

static void
host_status_free (HostStatus *st)
{
  if (st->json)
    json_node_unref (st->json);
  g_free (st);
}

MgrPlacement *
dvs_mgr_placement_get (DvsMgr *mgr)
{
  MgrPlacement *pl = mgr->placement;

  if (pl)
    return pl;
  pl = g_new0 (MgrPlacement, 1);
  pl->mgr = mgr;
  pl->status = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) host_status_free);
  pl->lv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  pl->jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  pl->lv_waiters = g_ptr_array_new ();
  mgr->placement = pl;
  return pl;
}

void
dvs_mgr_placement_free (MgrPlacement *pl)
{
  if (pl == NULL)
    return;
  g_clear_handle_id (&pl->health_timer, g_source_remove);
  mgr_migrate_free_all (pl);
  mgr_lv_free_all (pl);
  g_hash_table_unref (pl->status);
  g_hash_table_unref (pl->lv);
  g_hash_table_unref (pl->jobs);
  g_ptr_array_unref (pl->lv_waiters);
  pl->mgr->placement = NULL;
  g_free (pl);
}

/* Only the placement properties: the others (LastSeen) change on their
 * own schedule, and an unchanged value emits no PropertiesChanged. */
static void
refresh_host (DvsMgr *mgr, MgrHost *h)
{
  if (h->object && dvs_object_peek_host1 (DVS_OBJECT (h->object)))
    dvs_mgr_placement_dbus_host (mgr, h, dvs_object_peek_host1 (DVS_OBJECT (h->object)), FALSE);
}

static gboolean
refresh_health (gpointer data)
{
  DvsMgr *mgr = data;
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, mgr->hosts);
  while (g_hash_table_iter_next (&it, NULL, &v))
    refresh_host (mgr, v);
  return G_SOURCE_CONTINUE;
}

void
dvs_mgr_placement_start (DvsMgr *mgr, guint period_ms)
{
  MgrPlacement *pl = dvs_mgr_placement_get (mgr);

  g_clear_handle_id (&pl->health_timer, g_source_remove);
  pl->health_timer = g_timeout_add (period_ms, refresh_health, mgr);
}

/* ---- the status a host reports --------------------------------------- */

static gboolean
bad (GError **error, const gchar *what)
{
  g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS, "status: %s", what);
  return FALSE;
}

static gboolean
uint_member (JsonObject *o, const gchar *name, gboolean required, guint64 max, guint64 *out,
             GError **error)
{
  JsonNode *n = json_object_get_member (o, name);

  *out = 0;
  if (n == NULL)
    return !required || bad (error, name);
  if (json_node_get_value_type (n) != G_TYPE_INT64 || json_node_get_int (n) < 0
      || (guint64) json_node_get_int (n) > max)
    {
      g_autofree gchar *why = g_strdup_printf ("%s must be an integer from 0 to %" G_GUINT64_FORMAT,
                                               name, max);
      return bad (error, why);
    }
  *out = (guint64) json_node_get_int (n);
  return TRUE;
}

static gboolean
short_string (JsonNode *n)
{
  return n && json_node_get_value_type (n) == G_TYPE_STRING
         && strlen (json_node_get_string (n)) <= 64;
}

/* switches: [{"id", "ports", "uplinks": [{"name", "link"}]}] */
static gboolean
check_switches (JsonNode *n, GError **error)
{
  JsonArray *a;

  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (a = json_node_get_array (n)) > 256)
    return bad (error, "switches must be an array of at most 256 objects");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *e = json_array_get_element (a, i), *up;
      guint64 dummy;
      if (!JSON_NODE_HOLDS_OBJECT (e) || !short_string (json_object_get_member (json_node_get_object (e), "id"))
          || !uint_member (json_node_get_object (e), "ports", FALSE, 65535, &dummy, error))
        return (error && *error) ? FALSE : bad (error, "each switch needs an id (a string)");
      up = json_object_get_member (json_node_get_object (e), "uplinks");
      if (up == NULL)
        continue;
      if (!JSON_NODE_HOLDS_ARRAY (up) || json_array_get_length (json_node_get_array (up)) > 64)
        return bad (error, "a switch's uplinks must be an array of at most 64 objects");
      for (guint j = 0; j < json_array_get_length (json_node_get_array (up)); j++)
        {
          JsonNode *u = json_array_get_element (json_node_get_array (up), j);
          JsonObject *uo = JSON_NODE_HOLDS_OBJECT (u) ? json_node_get_object (u) : NULL;
          if (uo == NULL || !short_string (json_object_get_member (uo, "name"))
              || !short_string (json_object_get_member (uo, "link")))
            return bad (error, "each uplink needs a name and a link (strings)");
        }
    }
  return TRUE;
}

gboolean
dvs_mgr_placement_host_status (DvsMgr *mgr, MgrHost *h, JsonNode *status, GError **error)
{
  MgrPlacement *pl = dvs_mgr_placement_get (mgr);
  HostStatus *old = g_hash_table_lookup (pl->status, h->name);
  g_autofree HostStatus *st = g_new0 (HostStatus, 1);
  JsonObject *o;
  guint64 free_ports, host_time;

  if (status == NULL || !JSON_NODE_HOLDS_OBJECT (status))
    return bad (error, "must be an object");
  o = json_node_get_object (status);
  if (!uint_member (o, "free_ports", TRUE, 65535, &free_ports, error)
      || !uint_member (o, "drops", FALSE, G_MAXINT64, &st->drops, error)
      || !uint_member (o, "busy_cycles", FALSE, G_MAXINT64, &st->busy_cycles, error)
      || !uint_member (o, "tsc_hz", FALSE, G_MAXINT64, &st->tsc_hz, error)
      || !uint_member (o, "time", FALSE, G_MAXINT64, &host_time, error)
      || !check_switches (json_object_get_member (o, "switches"), error))
    return FALSE;
  st->free_ports = (guint) free_ports;
  st->host_time = (gint64) host_time;
  st->time = g_get_real_time ();
  st->load = -1;
  if (old)
    {
      st->drops_rise = st->drops > old->drops ? st->drops - old->drops : 0;
      if (st->tsc_hz && old->host_time && st->host_time > old->host_time
          && st->busy_cycles >= old->busy_cycles)
        {
          gdouble secs = (st->host_time - old->host_time) / (gdouble) G_USEC_PER_SEC;
          st->load = CLAMP ((st->busy_cycles - old->busy_cycles) / ((gdouble) st->tsc_hz * secs),
                            0.0, 1.0);
        }
    }
  st->json = json_node_copy (status);
  g_hash_table_replace (pl->status, g_strdup (h->name), g_steal_pointer (&st));
  refresh_host (mgr, h);
  return TRUE;
}

gboolean
dvs_mgr_placement_free_ports (DvsMgr *mgr, const gchar *host, guint *free_ports)
{
  HostStatus *st = g_hash_table_lookup (dvs_mgr_placement_get (mgr)->status, host);

  if (st == NULL)
    return FALSE;
  *free_ports = st->free_ports;
  return TRUE;
}

/* The status as the manager sees it: what the host said without its
 * ever-changing clock and cycle counter, plus what changed since the
 * report before — so the property changes only when something does. */
gchar *
dvs_mgr_placement_status_json (DvsMgr *mgr, const gchar *host)
{
  HostStatus *st = g_hash_table_lookup (dvs_mgr_placement_get (mgr)->status, host);
  g_autoptr (JsonNode) view = NULL;
  JsonObject *o;

  if (st == NULL)
    return g_strdup ("{}");
  view = json_node_copy (st->json);
  o = json_node_get_object (view);
  json_object_remove_member (o, "time");
  json_object_remove_member (o, "busy_cycles");
  json_object_remove_member (o, "tsc_hz");
  json_object_set_int_member (o, "drops_rise", (gint64) st->drops_rise);
  if (st->load >= 0)
    json_object_set_int_member (o, "load_percent", (gint64) (st->load * 100 + 0.5));
  else
    json_object_set_null_member (o, "load_percent");
  return dvs_json_write (view, FALSE);
}

/* ---- the score -------------------------------------------------------- */

static void
deduct (gint *score, gint points, GPtrArray *reasons, gchar *reason)
{
  *score -= points;
  if (reasons)
    g_ptr_array_add (reasons, reason);
  else
    g_free (reason);
}

/* The switch @uuid's entry in the status, or NULL. */
static JsonObject *
status_switch (HostStatus *st, const gchar *uuid)
{
  JsonNode *n = json_object_get_member (json_node_get_object (st->json), "switches");

  for (guint i = 0; n && i < json_array_get_length (json_node_get_array (n)); i++)
    {
      JsonObject *o = json_array_get_object_element (json_node_get_array (n), i);
      if (g_strcmp0 (json_object_get_string_member (o, "id"), uuid) == 0)
        return o;
    }
  return NULL;
}

/* Points lost for the uplinks of the switches @h is a member of. */
static gint
uplink_deduction (DvsMgr *mgr, MgrHost *h, HostStatus *st, GPtrArray *reasons)
{
  g_autoptr (GPtrArray) sws = dvs_mgr_sorted_values (mgr->switches, FALSE);
  gint lost = 0;

  for (guint i = 0; i < sws->len; i++)
    {
      MgrSwitch *sw = sws->pdata[i];
      JsonObject *o;
      JsonNode *up;
      guint n_up = 0, n = 0;

      if (!dvs_mgr_switch_has_host (sw, h->name) || (o = status_switch (st, sw->uuid)) == NULL)
        continue;   /* not there yet: the sync check counts that */
      up = json_object_get_member (o, "uplinks");
      n = up ? json_array_get_length (json_node_get_array (up)) : 0;
      for (guint j = 0; j < n; j++)
        n_up += g_strcmp0 (json_object_get_string_member (
                  json_array_get_object_element (json_node_get_array (up), j), "link"), "up") == 0;
      if (n == 0)
        {
          lost += 10;
          if (reasons)
            g_ptr_array_add (reasons, g_strdup_printf ("no uplink on switch %s", sw->name));
        }
      else if (n_up == 0)
        {
          lost += 40;
          if (reasons)
            g_ptr_array_add (reasons, g_strdup_printf ("the uplink%s of switch %s %s down",
                                                       n > 1 ? "s" : "", sw->name,
                                                       n > 1 ? "are all" : "is"));
        }
    }
  return MIN (lost, 40);
}

guint
dvs_mgr_placement_health (DvsMgr *mgr, MgrHost *h, GPtrArray *reasons)
{
  HostStatus *st = g_hash_table_lookup (dvs_mgr_placement_get (mgr)->status, h->name);
  gint score = 100;
  gint64 age = g_get_real_time () - h->last_seen;

  if (h->peer == NULL)
    {
      if (reasons)
        g_ptr_array_add (reasons, g_strdup ("not connected"));
      return 0;
    }
  if (age > DVS_MGR_HEARTBEAT_STALE_US)
    deduct (&score, 50, reasons, g_strdup_printf ("heartbeat stale (%" G_GINT64_FORMAT " s old)",
                                                  age / G_USEC_PER_SEC));
  if (mgr->push && !mgr_push_host_in_sync (mgr->push, h->name))
    deduct (&score, 60, reasons, g_strdup ("final state not in sync"));
  if (st == NULL)
    deduct (&score, 10, reasons, g_strdup ("no status reported"));
  else
    {
      if (st->drops_rise > 0)
        deduct (&score, 20, reasons, g_strdup_printf ("drops rising (+%" G_GUINT64_FORMAT
                                                      " since the last report)", st->drops_rise));
      if (st->load >= 0.9)
        deduct (&score, 30, reasons, g_strdup_printf ("datapath load %.0f%%", st->load * 100));
      else if (st->load >= 0.75)
        deduct (&score, 10, reasons, g_strdup_printf ("datapath load %.0f%%", st->load * 100));
      score -= uplink_deduction (mgr, h, st, reasons);
    }
  return (guint) MAX (score, 0);
}
