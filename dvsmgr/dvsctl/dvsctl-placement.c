/* dvsctl: placement — vm check, vm place, vm migrate (with a progress bar
 * on a terminal), host hide-network / unhide-network and portgroup
 * set-network (docs/placement.md). */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <stdio.h>
#include <unistd.h>

#define CTL_IFACE_MIGRATION "net.dvsqemu.Migration1"
#define MIGRATE_POLL_US (200 * 1000)
#define MIGRATE_MAX_S G_GINT64_CONSTANT (3600)

gboolean
ctl_cmd_vm_check (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree const gchar **reasons = NULL;
  gboolean ok;

  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "CheckPlacement",
                    g_variant_new ("(ss)", args[0], args[1]), G_VARIANT_TYPE ("(bas)"),
                    FALSE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(b^a&s)", &ok, &reasons);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, ok);
      json_builder_set_member_name (b, "reasons");
      json_builder_begin_array (b);
      for (guint i = 0; reasons[i]; i++)
        json_builder_add_string_value (b, reasons[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      dvs_json_print (root);
    }
  else if (ok)
    printf ("VM %s may run on host %s.\n", args[0], args[1]);
  else
    {
      printf ("VM %s may not run on host %s:\n", args[0], args[1]);
      for (guint i = 0; reasons[i]; i++)
        printf ("  - %s\n", reasons[i]);
    }
  if (!ok)
    g_set_error (error, CTL_ERROR, CTL_ERROR_REFUSED, "placement of VM %s on host %s refused",
                 args[0], args[1]);
  return ok;
}

gboolean
ctl_cmd_vm_place (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  const gchar *host;
  guint32 score;

  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "PlaceVM",
                    g_variant_new ("(s)", args[0]), G_VARIANT_TYPE ("(su)"), FALSE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&su)", &host, &score);
  if (ctl->json)
    {
      g_autofree gchar *s = g_strdup_printf ("%u", score);
      g_autoptr(JsonObject) o = json_object_new ();
      g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);

      json_object_set_string_member (o, "host", host);
      json_object_set_int_member (o, "score", score);
      json_node_set_object (root, o);
      dvs_json_print (root);
    }
  else
    printf ("%s (score %u)\n", host, score);
  return TRUE;
}

static void
progress_bar (const gchar *vm, const gchar *dest, gdouble progress)
{
  gint filled = (gint) (progress * 30 + 0.5);

  printf ("\rmigrating %s to %s [%.*s%*s] %3.0f%%", vm, dest, filled,
          "##############################", 30 - filled, "", progress * 100);
  fflush (stdout);
}

gboolean
ctl_cmd_vm_migrate (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autofree gchar *job = NULL, *state = NULL, *failure = NULL, *dest = NULL;
  gboolean tty = !ctl->json && isatty (STDOUT_FILENO);
  gint64 deadline = g_get_monotonic_time () + MIGRATE_MAX_S * G_USEC_PER_SEC;
  gdouble progress = 0;

  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "MigrateVM",
                    g_variant_new ("(ss)", args[0], args[1] ? args[1] : ""),
                    G_VARIANT_TYPE ("(o)"), TRUE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(o)", &job);
  for (;;)
    {
      g_autoptr(GVariant) props = NULL, all = NULL;

      props = ctl_call (ctl, job, "org.freedesktop.DBus.Properties", "GetAll",
                        g_variant_new ("(s)", CTL_IFACE_MIGRATION),
                        G_VARIANT_TYPE ("(a{sv})"), FALSE, error);
      if (props == NULL)
        return FALSE;
      all = g_variant_get_child_value (props, 0);
      g_clear_pointer (&state, g_free);
      g_clear_pointer (&failure, g_free);
      g_clear_pointer (&dest, g_free);
      g_variant_lookup (all, "State", "s", &state);
      g_variant_lookup (all, "Error", "s", &failure);
      g_variant_lookup (all, "Destination", "s", &dest);
      g_variant_lookup (all, "Progress", "d", &progress);
      if (tty)
        progress_bar (args[0], dest ? dest : "?", progress);
      if (g_strcmp0 (state, "running") != 0)
        break;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, CTL_ERROR, CTL_ERROR_REFUSED,
                       "the migration (%s) is still running after %" G_GINT64_FORMAT " s; stopped waiting", job,
                       MIGRATE_MAX_S);
          return FALSE;
        }
      g_usleep (MIGRATE_POLL_US);
    }
  if (tty)
    printf ("\n");
  if (ctl->json)
    ctl_print_json_strings ("job", job, "state", state ? state : "", "destination",
                            dest ? dest : "", "error", failure ? failure : "", NULL);
  else if (g_strcmp0 (state, "completed") == 0)
    printf ("VM %s migrated to host %s.\n", args[0], dest);
  if (g_strcmp0 (state, "completed") != 0)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_REFUSED, "the migration of VM %s failed: %s",
                   args[0], failure && *failure ? failure : state ? state : "?");
      return FALSE;
    }
  return TRUE;
}

static gboolean
hide (Ctl *ctl, gchar **args, const gchar *method, GError **error)
{
  CtlObject *host = ctl_resolve (ctl, CTL_KIND_HOST, args[0], error);

  return host != NULL
         && ctl_call_void (ctl, host->path, CTL_IFACE_HOST, method,
                           g_variant_new ("(s)", args[1]), error);
}

gboolean
ctl_cmd_host_hide_network (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  return hide (ctl, args, "HideNetwork", error);
}

gboolean
ctl_cmd_host_unhide_network (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  return hide (ctl, args, "UnhideNetwork", error);
}

gboolean
ctl_cmd_portgroup_set_network (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  CtlObject *pg = ctl_resolve (ctl, CTL_KIND_PORT_GROUP, args[0], error);

  return pg != NULL
         && ctl_call_void (ctl, pg->path, CTL_IFACE_PORT_GROUP, "SetNetwork",
                           g_variant_new ("(s)", args[1] ? args[1] : ""), error);
}

gboolean
ctl_cmd_host_set_migration_uri (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  CtlObject *host = ctl_resolve (ctl, CTL_KIND_HOST, args[0], error);

  return host != NULL
         && ctl_call_void (ctl, host->path, CTL_IFACE_HOST, "SetMigrationUri",
                           g_variant_new ("(s)", args[1] ? args[1] : ""), error);
}
