/* dvsctl topology: the manager's objects as one picture — DVswitches,
 * their port groups, their DVports with the VM and host each is connected
 * to, and the hosts — as an indented tree, JSON, or an SVG drawing
 * (docs/dvsctl.md, "topology").
 *
 * Everything comes from one GetManagedObjects call (dvsctl-model.c); the
 * picture is what the manager knows, not what the hosts report live. */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <stdio.h>
#include <string.h>

/* One port group with its ports, as drawn. */
typedef struct {
  CtlObject *group;                   /* NULL: ports without a group */
  GPtrArray *ports;                   /* CtlObject *, borrowed */
} TopoGroup;

/* One switch with its groups. */
typedef struct {
  CtlObject *sw;
  GArray *groups;                     /* TopoGroup */
} TopoSwitch;

static void
topo_group_clear (gpointer data)
{
  TopoGroup *g = data;

  g_clear_pointer (&g->ports, g_ptr_array_unref);
}

static void
topo_switch_clear (gpointer data)
{
  TopoSwitch *s = data;

  g_clear_pointer (&s->groups, g_array_unref);
}

/* The switches (all, or the one @only names) with their groups and ports,
 * in the model's order. */
static GArray *
collect (Ctl *ctl, CtlObject *only, GError **error)
{
  GPtrArray *switches = ctl_objects (ctl, CTL_KIND_SWITCH, error);
  GPtrArray *groups = switches ? ctl_objects (ctl, CTL_KIND_PORT_GROUP, error) : NULL;
  GPtrArray *ports = groups ? ctl_objects (ctl, CTL_KIND_PORT, error) : NULL;
  GArray *out;

  if (ports == NULL)
    return NULL;
  out = g_array_new (FALSE, TRUE, sizeof (TopoSwitch));
  g_array_set_clear_func (out, topo_switch_clear);
  for (guint i = 0; i < switches->len; i++)
    {
      CtlObject *sw = switches->pdata[i];
      TopoSwitch ts = { sw, g_array_new (FALSE, TRUE, sizeof (TopoGroup)) };
      TopoGroup loose = { NULL, g_ptr_array_new () };

      if (only != NULL && sw != only)
        {
          g_array_unref (ts.groups);
          g_ptr_array_unref (loose.ports);
          continue;
        }
      g_array_set_clear_func (ts.groups, topo_group_clear);
      for (guint j = 0; j < groups->len; j++)
        {
          CtlObject *pg = groups->pdata[j];
          TopoGroup tg = { pg, g_ptr_array_new () };

          if (!g_str_equal (ctl_prop_string (pg, "Switch"), sw->path))
            {
              g_ptr_array_unref (tg.ports);
              continue;
            }
          for (guint k = 0; k < ports->len; k++)
            if (g_str_equal (ctl_prop_string (ports->pdata[k], "PortGroup"), pg->path))
              g_ptr_array_add (tg.ports, ports->pdata[k]);
          g_array_append_val (ts.groups, tg);
        }
      /* Ports of the switch in no group the model has. */
      for (guint k = 0; k < ports->len; k++)
        {
          CtlObject *port = ports->pdata[k];
          CtlObject *pg = ctl_object_at (ctl, ctl_prop_string (port, "PortGroup"));

          if (g_str_equal (ctl_prop_string (port, "Switch"), sw->path)
              && (pg == NULL || pg->kind != CTL_KIND_PORT_GROUP))
            g_ptr_array_add (loose.ports, port);
        }
      if (loose.ports->len > 0)
        g_array_append_val (ts.groups, loose);
      else
        g_ptr_array_unref (loose.ports);
      g_array_append_val (out, ts);
    }
  return out;
}

static gboolean
port_connected (CtlObject *port)
{
  return *ctl_prop_string (port, "ConnectionId") != '\0';
}

static gchar *
group_vlan_text (TopoGroup *g)
{
  g_autoptr(JsonNode) config = NULL;

  if (g->group == NULL)
    return g_strdup ("-");
  config = ctl_prop_json (g->group, "ConfigJson");
  return ctl_config_vlan_text (config);
}

static const gchar *
group_name (TopoGroup *g)
{
  return g->group != NULL ? ctl_prop_string (g->group, "Name") : "(no port group)";
}

/* Text */

static void
print_text (Ctl *ctl, GArray *topo, GPtrArray *hosts)
{
  if (topo->len == 0)
    printf ("No switches.\n");
  for (guint i = 0; i < topo->len; i++)
    {
      TopoSwitch *ts = &g_array_index (topo, TopoSwitch, i);
      g_auto(GStrv) members = ctl_prop_strv (ts->sw, "Hosts");
      g_autofree gchar *member_text = ctl_strv_text (members);

      printf ("switch %s  %s  mtu %u  hosts %s\n", ctl_prop_string (ts->sw, "Name"),
              ctl_prop_string (ts->sw, "Uuid"), ctl_prop_uint (ts->sw, "Mtu"),
              member_text);
      if (ts->groups->len == 0)
        printf ("  (no port groups)\n");
      for (guint j = 0; j < ts->groups->len; j++)
        {
          TopoGroup *g = &g_array_index (ts->groups, TopoGroup, j);
          g_autofree gchar *vlan = group_vlan_text (g);
          guint connected = 0;

          for (guint k = 0; k < g->ports->len; k++)
            connected += port_connected (g->ports->pdata[k]);
          printf ("  portgroup %s  vlan %s  ports %u  connected %u\n",
                  group_name (g), vlan, g->ports->len, connected);
          for (guint k = 0; k < g->ports->len; k++)
            {
              CtlObject *port = g->ports->pdata[k];
              const gchar *host = ctl_prop_string (port, "Host");
              const gchar *to = ctl_prop_string (port, "MigratingTo");

              if (!port_connected (port))
                {
                  printf ("    port %s  free\n", ctl_prop_string (port, "Key"));
                  continue;
                }
              printf ("    port %s  vm %s  mac %s  host %s  link %s%s%s\n",
                      ctl_prop_string (port, "Key"),
                      ctl_prop_string (port, "ConnecteeVm"),
                      ctl_prop_string (port, "ConnecteeMac"),
                      *host ? host : "-", ctl_prop_string (port, "Link"),
                      *to ? "  migrating to " : "", to);
            }
        }
    }
  for (guint i = 0; i < hosts->len; i++)
    {
      CtlObject *host = hosts->pdata[i];
      g_auto(GStrv) member_of = ctl_prop_strv (host, "Switches");
      GString *names = g_string_new (NULL);

      for (guint j = 0; member_of[j] != NULL; j++)
        {
          CtlObject *sw = ctl_switch_by_uuid (ctl, member_of[j]);

          g_string_append_printf (names, "%s%s", j ? "," : "",
                                  sw ? ctl_prop_string (sw, "Name") : member_of[j]);
        }
      printf ("host %s  %s  %s  switches %s\n", ctl_prop_string (host, "Name"),
              ctl_prop_bool (host, "Connected") ? "connected" : "disconnected",
              ctl_prop_bool (host, "InSync") ? "in-sync" : "out-of-sync",
              names->len ? names->str : "-");
      g_string_free (names, TRUE);
    }
}

/* JSON */

static void
print_json (GArray *topo, GPtrArray *hosts)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree gchar *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "switches");
  json_builder_begin_array (b);
  for (guint i = 0; i < topo->len; i++)
    {
      TopoSwitch *ts = &g_array_index (topo, TopoSwitch, i);
      g_auto(GStrv) members = ctl_prop_strv (ts->sw, "Hosts");

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "uuid");
      json_builder_add_string_value (b, ctl_prop_string (ts->sw, "Uuid"));
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, ctl_prop_string (ts->sw, "Name"));
      json_builder_set_member_name (b, "mtu");
      json_builder_add_int_value (b, ctl_prop_uint (ts->sw, "Mtu"));
      json_builder_set_member_name (b, "hosts");
      json_builder_begin_array (b);
      for (guint j = 0; members[j] != NULL; j++)
        json_builder_add_string_value (b, members[j]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "port_groups");
      json_builder_begin_array (b);
      for (guint j = 0; j < ts->groups->len; j++)
        {
          TopoGroup *g = &g_array_index (ts->groups, TopoGroup, j);
          g_autofree gchar *vlan = group_vlan_text (g);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "uuid");
          if (g->group != NULL)
            json_builder_add_string_value (b, ctl_prop_string (g->group, "Uuid"));
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, group_name (g));
          json_builder_set_member_name (b, "vlan");
          json_builder_add_string_value (b, vlan);
          json_builder_set_member_name (b, "ports");
          json_builder_begin_array (b);
          for (guint k = 0; k < g->ports->len; k++)
            {
              CtlObject *port = g->ports->pdata[k];
              static const struct { const gchar *member, *prop; } fields[] = {
                { "vm", "ConnecteeVm" }, { "mac", "ConnecteeMac" },
                { "host", "Host" }, { "link", "Link" },
                { "migrating_to", "MigratingTo" },
              };

              json_builder_begin_object (b);
              json_builder_set_member_name (b, "key");
              json_builder_add_string_value (b, ctl_prop_string (port, "Key"));
              json_builder_set_member_name (b, "connected");
              json_builder_add_boolean_value (b, port_connected (port));
              for (gsize f = 0; f < G_N_ELEMENTS (fields); f++)
                {
                  const gchar *v = ctl_prop_string (port, fields[f].prop);

                  json_builder_set_member_name (b, fields[f].member);
                  if (*v)
                    json_builder_add_string_value (b, v);
                  else
                    json_builder_add_null_value (b);
                }
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "hosts");
  json_builder_begin_array (b);
  for (guint i = 0; i < hosts->len; i++)
    {
      CtlObject *host = hosts->pdata[i];
      g_auto(GStrv) member_of = ctl_prop_strv (host, "Switches");

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, ctl_prop_string (host, "Name"));
      json_builder_set_member_name (b, "connected");
      json_builder_add_boolean_value (b, ctl_prop_bool (host, "Connected"));
      json_builder_set_member_name (b, "in_sync");
      json_builder_add_boolean_value (b, ctl_prop_bool (host, "InSync"));
      json_builder_set_member_name (b, "switches");
      json_builder_begin_array (b);
      for (guint j = 0; member_of[j] != NULL; j++)
        json_builder_add_string_value (b, member_of[j]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = ctl_json_pretty (root);
  printf ("%s\n", text);
}

/* SVG: four columns — switches, port groups, DVports, hosts — and lines
 * from each switch to its groups, each group to its ports and each
 * connected port to its host (dashed while its link is not up). */

#define SVG_BOX_W 220
#define SVG_BOX_H 40
#define SVG_ROW 52                    /* a port's row */
#define SVG_COL(c) (20 + (c) * (SVG_BOX_W + 60))
#define SVG_TOP 60

/* A box with two lines of text, @title bold. */
static void
svg_box (GString *s, const gchar *cls, gdouble x, gdouble y, const gchar *title,
         const gchar *detail)
{
  g_autofree gchar *t = g_markup_escape_text (title, -1);
  g_autofree gchar *d = g_markup_escape_text (detail, -1);

  g_string_append_printf (s,
      "  <g class=\"%s\">\n"
      "    <rect x=\"%.0f\" y=\"%.0f\" width=\"%d\" height=\"%d\" rx=\"6\"/>\n"
      "    <text x=\"%.0f\" y=\"%.0f\" class=\"title\">%s</text>\n"
      "    <text x=\"%.0f\" y=\"%.0f\">%s</text>\n"
      "  </g>\n",
      cls, x, y, SVG_BOX_W, SVG_BOX_H, x + 8, y + 16, t, x + 8, y + 32, d);
}

static void
svg_line (GString *s, gdouble x1, gdouble y1, gdouble x2, gdouble y2,
          gboolean dashed)
{
  g_string_append_printf (s,
      "  <line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\"%s/>\n",
      x1, y1, x2, y2, dashed ? " class=\"down\"" : "");
}

/* Shortens a UUID to its first group, for a box. */
static gchar *
short_id (const gchar *id)
{
  const gchar *dash = strchr (id, '-');

  return *id == '\0' ? g_strdup ("-")
                     : g_strndup (id, dash != NULL ? (gsize) (dash - id) : strlen (id));
}

static gchar *
render_svg (Ctl *ctl, GArray *topo, GPtrArray *hosts)
{
  GString *body = g_string_new (NULL);
  g_autofree gdouble *host_y = g_new0 (gdouble, hosts->len + 1);
  gdouble y = SVG_TOP, height, width = SVG_COL (4);
  g_autofree gchar *manager_title = NULL;
  gchar *svg;

  /* Hosts first, evenly down their column, so that ports can point at
   * them. */
  for (guint i = 0; i < hosts->len; i++)
    {
      CtlObject *host = hosts->pdata[i];
      g_autofree gchar *detail = g_strdup_printf ("%s, %s",
          ctl_prop_bool (host, "Connected") ? "connected" : "disconnected",
          ctl_prop_bool (host, "InSync") ? "in sync" : "out of sync");

      host_y[i] = SVG_TOP + i * (SVG_BOX_H + 20);
      svg_box (body, ctl_prop_bool (host, "Connected") ? "host" : "host off",
               SVG_COL (3), host_y[i], ctl_prop_string (host, "Name"), detail);
    }

  for (guint i = 0; i < topo->len; i++)
    {
      TopoSwitch *ts = &g_array_index (topo, TopoSwitch, i);
      gdouble sw_top = y, sw_y;
      GArray *group_y = g_array_new (FALSE, FALSE, sizeof (gdouble));

      for (guint j = 0; j < ts->groups->len; j++)
        {
          TopoGroup *g = &g_array_index (ts->groups, TopoGroup, j);
          g_autofree gchar *vlan = group_vlan_text (g);
          g_autofree gchar *detail = g_strdup_printf ("VLAN %s, %u port%s", vlan,
              g->ports->len, g->ports->len == 1 ? "" : "s");
          guint rows = MAX (g->ports->len, 1);
          gdouble gy = y + (rows - 1) * SVG_ROW / 2.0;

          svg_box (body, "group", SVG_COL (1), gy, group_name (g), detail);
          g_array_append_val (group_y, gy);
          for (guint k = 0; k < g->ports->len; k++)
            {
              CtlObject *port = g->ports->pdata[k];
              gdouble py = y + k * SVG_ROW;
              g_autofree gchar *title = g_strdup_printf ("port %s",
                  ctl_prop_string (port, "Key"));
              g_autofree gchar *vm = short_id (ctl_prop_string (port, "ConnecteeVm"));
              g_autofree gchar *detail2 = port_connected (port)
                  ? g_strdup_printf ("VM %s, link %s", vm, ctl_prop_string (port, "Link"))
                  : g_strdup ("free");
              const gchar *host = ctl_prop_string (port, "Host");
              gboolean up = g_str_equal (ctl_prop_string (port, "Link"), "up");

              svg_box (body, !port_connected (port) ? "port free" : up ? "port" : "port down",
                       SVG_COL (2), py, title, detail2);
              svg_line (body, SVG_COL (1) + SVG_BOX_W, gy + SVG_BOX_H / 2.0,
                        SVG_COL (2), py + SVG_BOX_H / 2.0, FALSE);
              for (guint h = 0; *host && h < hosts->len; h++)
                if (g_str_equal (ctl_prop_string (hosts->pdata[h], "Name"), host))
                  svg_line (body, SVG_COL (2) + SVG_BOX_W, py + SVG_BOX_H / 2.0,
                            SVG_COL (3), host_y[h] + SVG_BOX_H / 2.0, !up);
            }
          y += rows * SVG_ROW;
        }
      if (ts->groups->len == 0)
        y += SVG_ROW;
      sw_y = sw_top + (y - sw_top - SVG_ROW) / 2.0;
      {
        g_auto(GStrv) members = ctl_prop_strv (ts->sw, "Hosts");
        guint n = g_strv_length (members);
        g_autofree gchar *detail = g_strdup_printf ("MTU %u, %u host%s",
            ctl_prop_uint (ts->sw, "Mtu"), n, n == 1 ? "" : "s");
        svg_box (body, "switch", SVG_COL (0), sw_y, ctl_prop_string (ts->sw, "Name"), detail);
      }
      for (guint j = 0; j < group_y->len; j++)
        svg_line (body, SVG_COL (0) + SVG_BOX_W, sw_y + SVG_BOX_H / 2.0,
                  SVG_COL (1), g_array_index (group_y, gdouble, j) + SVG_BOX_H / 2.0, FALSE);
      g_array_unref (group_y);
      y += SVG_ROW / 2.0;
    }
  height = MAX (y, SVG_TOP + hosts->len * (SVG_BOX_H + 20.0)) + 20;
  manager_title = g_markup_escape_text (ctl->bus, -1);
  svg = g_strdup_printf (
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
      "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "  <title>DVS topology (dvsmgr on %s)</title>\n"
      "  <style>\n"
      "    rect { fill: #f4f6f8; stroke: #44546a; }\n"
      "    .switch rect { fill: #dbe8f7; }\n"
      "    .group rect { fill: #e6f2e0; }\n"
      "    .port.free rect, .host.off rect { fill: #ffffff; stroke-dasharray: 4 3; }\n"
      "    .port.down rect { fill: #fbe9e7; }\n"
      "    .title { font-weight: bold; }\n"
      "    line { stroke: #7a8899; }\n"
      "    line.down { stroke-dasharray: 5 4; }\n"
      "  </style>\n"
      "  <text x=\"%d\" y=\"30\" class=\"title\">DVswitches</text>\n"
      "  <text x=\"%d\" y=\"30\" class=\"title\">Port groups</text>\n"
      "  <text x=\"%d\" y=\"30\" class=\"title\">DVports</text>\n"
      "  <text x=\"%d\" y=\"30\" class=\"title\">Hosts</text>\n"
      "%s"
      "</svg>\n",
      width, height, width, height, manager_title,
      SVG_COL (0), SVG_COL (1), SVG_COL (2), SVG_COL (3), body->str);
  g_string_free (body, TRUE);
  return svg;
}

gboolean
ctl_cmd_topology (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  CtlObject *only = NULL;
  g_autoptr(GArray) topo = NULL;
  GPtrArray *hosts;

  if (!ctl_output_check (opts, error))
    return FALSE;
  if (opts->output != NULL && !opts->svg)
    return ctl_usage_error (error, "-o writes the SVG drawing: give --svg too.");
  if (opts->svg && ctl->json)
    return ctl_usage_error (error, "--svg and --json are two outputs: give one.");
  if (args[0] != NULL && (only = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error)) == NULL)
    return FALSE;
  if ((topo = collect (ctl, only, error)) == NULL)
    return FALSE;
  if ((hosts = ctl_objects (ctl, CTL_KIND_HOST, error)) == NULL)
    return FALSE;
  if (opts->svg)
    {
      g_autofree gchar *svg = render_svg (ctl, topo, hosts);

      return ctl_output_text (opts, svg, error);
    }
  if (ctl->json)
    print_json (topo, hosts);
  else
    print_text (ctl, topo, hosts);
  return TRUE;
}
