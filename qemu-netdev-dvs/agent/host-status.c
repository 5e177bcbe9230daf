/* The host's status for host.heartbeat: read from the switch on the main
 * thread (port snapshots and the datapath's relaxed counters), no I/O but
 * one small sysfs read per uplink. */
#include "agent/host-status.h"

#include <string.h>
#include "datapath/datapath.h"

/* "up", "down" or "absent", from /sys/class/net/NAME/operstate (an
 * interface that reports "unknown" counts as up when it has carrier). */
static const gchar *
uplink_link (const gchar *name)
{
  g_autofree gchar *path = NULL, *state = NULL, *carrier = NULL;

  if (name == NULL || *name == '\0' || strchr (name, '/') || g_str_equal (name, "..")
      || g_str_equal (name, "."))
    return "absent";
  path = g_build_filename ("/sys/class/net", name, "operstate", NULL);
  if (!g_file_get_contents (path, &state, NULL, NULL))
    return "absent";
  g_strstrip (state);
  if (g_str_equal (state, "up"))
    return "up";
  if (g_str_equal (state, "unknown"))
    {
      g_free (path);
      path = g_build_filename ("/sys/class/net", name, "carrier", NULL);
      if (g_file_get_contents (path, &carrier, NULL, NULL) && carrier[0] == '1')
        return "up";
    }
  return "down";
}

static JsonArray *
uplinks_array (gchar **uplinks)
{
  JsonArray *a = json_array_new ();

  for (gchar **u = uplinks; u && *u; u++)
    {
      JsonObject *o = json_object_new ();
      json_object_set_string_member (o, "name", *u);
      json_object_set_string_member (o, "link", uplink_link (*u));
      json_array_add_object_element (a, o);
    }
  return a;
}

JsonObject *
dvs_host_status_build (DvsControl *control, gchar **uplinks)
{
  JsonObject *st = json_object_new ();
  g_autoptr (GPtrArray) ports = dvs_switch_ports (control->sw);
  g_autoptr (JsonNode) list = dvs_dvport_host_list (control->dvports);
  JsonArray *ids = json_object_get_array_member (json_node_get_object (list), "switches");
  JsonArray *switches = json_array_new ();
  struct dvs_dp_stats dp;
  guint used = dvs_switch_n_ports (control->sw);
  guint64 drops = 0;

  for (guint i = 0; i < ports->len; i++)
    {
      const struct dvs_port_stats *s = &((DvsPortInfo *) ports->pdata[i])->stats;
      drops += s->drop_no_buffer + s->drop_ring_full + s->drop_malformed;
    }
  dvs_switch_dp_stats (control->sw, &dp);
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      const gchar *id = json_object_get_string_member (json_array_get_object_element (ids, i), "id");
      g_autoptr (JsonNode) doc = dvs_dvport_host_describe (control->dvports, id, NULL);
      JsonObject *o = json_object_new ();

      json_object_set_string_member (o, "id", id);
      json_object_set_int_member (o, "ports", doc ? json_array_get_length (
        json_object_get_array_member (json_node_get_object (doc), "ports")) : 0);
      json_object_set_array_member (o, "uplinks", uplinks_array (uplinks));
      json_array_add_object_element (switches, o);
    }
  json_object_set_int_member (st, "free_ports", used < DVS_MAX_VNIC_PORTS ? DVS_MAX_VNIC_PORTS - used : 0);
  json_object_set_int_member (st, "drops", (gint64) drops);
  json_object_set_int_member (st, "busy_cycles", (gint64) dp.busy_cycles);
  json_object_set_int_member (st, "tsc_hz", (gint64) dvs_dp_tsc_hz ());
  json_object_set_int_member (st, "time", g_get_real_time ());
  json_object_set_array_member (st, "switches", switches);
  return st;
}
