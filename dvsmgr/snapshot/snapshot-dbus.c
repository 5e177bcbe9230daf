/* The snapshot methods of the D-Bus API (dbus/net.dvsqemu.Manager1.xml):
 * Manager1.ImportSwitch and DiffDocuments; Switch1.Export, SaveVersion,
 * ListVersions, GetVersion, Diff and Rollback.  Changes go through polkit
 * (net.dvsqemu.configure); reads are open. */
#define G_LOG_DOMAIN "dvsmgr-snapshot"

#include "snapshot/snapshot.h"
#include "dvs-json-write.h"

#include <string.h>

#define ACTION_CONFIGURE "net.dvsqemu.configure"

static void
finish (GDBusMethodInvocation *inv, GError *error, GVariant *value)
{
  if (error)
    {
      g_info ("%s.%s from %s refused: %s", g_dbus_method_invocation_get_interface_name (inv),
              g_dbus_method_invocation_get_method_name (inv),
              g_dbus_method_invocation_get_sender (inv), error->message);
      g_dbus_method_invocation_return_gerror (inv, error);
      g_error_free (error);
    }
  else
    g_dbus_method_invocation_return_value (inv, value);
}

/* "uid 0 (:1.42)": who asked, for the document's author. */
static gchar *
author_of (GDBusMethodInvocation *inv)
{
  const gchar *sender = g_dbus_method_invocation_get_sender (inv);
  g_autoptr (GVariant) r = NULL;
  guint32 uid;

  if (sender == NULL)
    return g_strdup ("unknown");
  r = g_dbus_connection_call_sync (g_dbus_method_invocation_get_connection (inv),
                                   "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "GetConnectionUnixUser",
                                   g_variant_new ("(s)", sender), G_VARIANT_TYPE ("(u)"),
                                   G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
  if (r == NULL)
    return g_strdup (sender);
  g_variant_get (r, "(u)", &uid);
  return g_strdup_printf ("uid %u (%s)", uid, sender);
}

/* Parses a document; every problem listed in one INVALID_ARGS error. */
static DvsSnapshot *
parse_or_error (const gchar *text, const gchar *what, GError **error)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  DvsSnapshot *snap = dvs_snapshot_parse (text, -1, problems);
  g_autoptr (GString) msg = NULL;

  if (snap)
    return snap;
  msg = g_string_new (NULL);
  g_string_printf (msg, "%s is not a valid snapshot document", what);
  for (guint i = 0; i < problems->len; i++)
    g_string_append_printf (msg, "%s%s", i ? "\n- " : ":\n- ", (gchar *) problems->pdata[i]);
  g_set_error_literal (error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS, msg->str);
  return NULL;
}

static gchar *
to_text (JsonNode *n, gboolean pretty)
{
  return dvs_json_write (n, pretty);
}

/* ---- Manager1 ---------------------------------------------------------- */

static void
do_import (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer data)
{
  const gchar *doc, *mode_s, *options;
  GError *error = NULL;
  g_autoptr (DvsSnapshot) snap = NULL;
  g_autoptr (JsonNode) opts = NULL, report = NULL;
  const gchar *name = NULL, *target = NULL;
  DvsImportMode mode;
  MgrSwitch *sw = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s&s&s)", &doc, &mode_s, &options);
  if (!dvs_import_mode_parse (mode_s, &mode))
    g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS,
                 "mode '%.32s' is not recreate, new or apply", mode_s);
  else if ((opts = dvs_mgr_parse_object (options, "options_json", &error)))
    {
      JsonObject *o = json_node_get_object (opts);
      g_autoptr (GList) members = json_object_get_members (o);
      for (GList *l = members; l && !error; l = l->next)
        {
          JsonNode *v = json_object_get_member (o, l->data);
          if ((!g_str_equal (l->data, "name") && !g_str_equal (l->data, "target"))
              || json_node_get_value_type (v) != G_TYPE_STRING)
            g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS,
                         "options_json: '%.32s' is not an option (name and target are strings)",
                         (const gchar *) l->data);
        }
      if (!error)
        {
          name = json_object_get_string_member_with_default (o, "name", NULL);
          target = json_object_get_string_member_with_default (o, "target", NULL);
          if ((snap = parse_or_error (doc, "document_json", &error)))
            sw = dvs_snapshot_import (mgr, snap, mode, name, target, &report, &error);
        }
    }
  if (sw)
    {
      g_autofree gchar *escaped = g_strdelimit (g_strdup (sw->uuid), "-", '_');
      g_autofree gchar *path = g_strdup_printf (DVS_MGR_OBJECT_PATH "/switch/%s", escaped);
      g_autofree gchar *text = to_text (report, FALSE);
      finish (inv, NULL, g_variant_new ("(oss)", path, sw->uuid, text));
    }
  else
    finish (inv, error, NULL);
}

static gboolean
on_import (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *a, const gchar *b, const gchar *c,
           DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_import, NULL);
  return TRUE;
}

static void
finish_diff (GDBusMethodInvocation *inv, JsonNode *from, JsonNode *to)
{
  g_autoptr (JsonNode) diff = dvs_snapshot_diff (from, to);
  g_autofree gchar *json = to_text (diff, FALSE);
  g_autofree gchar *text = dvs_snapshot_diff_text (diff);

  finish (inv, NULL, g_variant_new ("(ss)", json, text));
}

static gboolean
on_diff_documents (DvsManager1 *i, GDBusMethodInvocation *inv, const gchar *a, const gchar *b,
                   DvsMgr *mgr)
{
  GError *error = NULL;
  g_autoptr (DvsSnapshot) from = parse_or_error (a, "from_json", &error);
  g_autoptr (DvsSnapshot) to = from ? parse_or_error (b, "to_json", &error) : NULL;

  if (to)
    finish_diff (inv, from->doc, to->doc);
  else
    finish (inv, error, NULL);
  return TRUE;
}

void dvs_mgr_dbus_snapshot_manager (DvsMgr *mgr, DvsManager1 *iface);

void
dvs_mgr_dbus_snapshot_manager (DvsMgr *mgr, DvsManager1 *iface)
{
  g_signal_connect (iface, "handle-import-switch", G_CALLBACK (on_import), mgr);
  g_signal_connect (iface, "handle-diff-documents", G_CALLBACK (on_diff_documents), mgr);
}

/* ---- Switch1 ---------------------------------------------------------- */

static MgrSwitch *
switch_of (DvsMgr *mgr, DvsSwitch1 *iface, GError **error)
{
  return dvs_mgr_switch_lookup (mgr, dvs_switch1_get_uuid (iface), error);
}

static gboolean
need_history (DvsMgr *mgr, GError **error)
{
  if (mgr->history)
    return TRUE;
  g_set_error (error, DVS_MGR_ERROR, DVS_MGR_ERROR_FAILED,
               "this dvsmgr keeps no version history (started with --snapshot-dir none)");
  return FALSE;
}

static gboolean
on_export (DvsSwitch1 *i, GDBusMethodInvocation *inv, gboolean connections, const gchar *comment,
           DvsMgr *mgr)
{
  GError *error = NULL;
  MgrSwitch *sw = switch_of (mgr, i, &error);

  if (sw && strlen (comment) > 4096)
    g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS, "comment is longer than 4096 bytes");
  if (error == NULL)
    {
      g_autofree gchar *author = author_of (inv);
      g_autoptr (JsonNode) doc = dvs_snapshot_export (mgr, sw, connections, author, comment);
      g_autofree gchar *text = to_text (doc, TRUE);
      finish (inv, NULL, g_variant_new ("(s)", text));
    }
  else
    finish (inv, error, NULL);
  return TRUE;
}

static void
do_save_version (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *comment;
  gboolean connections;
  GError *error = NULL;
  MgrSwitch *sw = dvs_mgr_switch_lookup (mgr, key, &error);
  g_autofree gchar *version = NULL, *path = NULL, *author = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&sb)", &comment, &connections);
  if (sw && strlen (comment) > 4096)
    g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_INVALID_ARGS, "comment is longer than 4096 bytes");
  if (error == NULL && need_history (mgr, &error))
    {
      g_autoptr (JsonNode) doc = NULL;
      g_autoptr (GError) local = NULL;
      author = author_of (inv);
      doc = dvs_snapshot_export (mgr, sw, connections, author, comment);
      if (!dvs_snapshot_history_save (mgr->history, doc, &version, &path, &local))
        g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_FAILED, "%s", local->message);
      else
        g_info ("saved version %s of DVswitch '%s' (%s)", version, sw->name, path);
    }
  finish (inv, error, error ? NULL : g_variant_new ("(ss)", version, path));
}

static gboolean
on_save_version (DvsSwitch1 *i, GDBusMethodInvocation *inv, const gchar *a, gboolean b, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_save_version, g_strdup (dvs_switch1_get_uuid (i)));
  return TRUE;
}

static gboolean
on_list_versions (DvsSwitch1 *i, GDBusMethodInvocation *inv, DvsMgr *mgr)
{
  GError *error = NULL;
  MgrSwitch *sw = switch_of (mgr, i, &error);
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (GError) local = NULL;

  if (sw && need_history (mgr, &error))
    {
      list = dvs_snapshot_history_list (mgr->history, sw->uuid, &local);
      if (list == NULL)
        g_set_error (&error, DVS_MGR_ERROR, DVS_MGR_ERROR_FAILED, "%s", local->message);
    }
  if (list)
    {
      g_autofree gchar *text = to_text (list, FALSE);
      finish (inv, NULL, g_variant_new ("(s)", text));
    }
  else
    finish (inv, error, NULL);
  return TRUE;
}

/* A saved version's text, or NULL with NOT_FOUND / FAILED. */
static gchar *
read_version (DvsMgr *mgr, MgrSwitch *sw, const gchar *version, GError **error)
{
  g_autoptr (GError) local = NULL;
  gchar *text;

  if (!need_history (mgr, error))
    return NULL;
  text = dvs_snapshot_history_read (mgr->history, sw->uuid, version, &local);
  if (text == NULL)
    g_set_error (error, DVS_MGR_ERROR,
                 g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? DVS_MGR_ERROR_NOT_FOUND
                 : g_error_matches (local, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT)
                 ? DVS_MGR_ERROR_INVALID_ARGS : DVS_MGR_ERROR_FAILED, "%s", local->message);
  return text;
}

static gboolean
on_get_version (DvsSwitch1 *i, GDBusMethodInvocation *inv, const gchar *version, DvsMgr *mgr)
{
  GError *error = NULL;
  MgrSwitch *sw = switch_of (mgr, i, &error);
  g_autofree gchar *text = sw ? read_version (mgr, sw, version, &error) : NULL;

  finish (inv, error, text ? g_variant_new ("(s)", text) : NULL);
  return TRUE;
}

/* "live", a version name, or a document. */
static DvsSnapshot *
resolve (DvsMgr *mgr, MgrSwitch *sw, const gchar *spec, const gchar *what, GError **error)
{
  g_autofree gchar *text = NULL;

  if (g_str_equal (spec, "live"))
    {
      g_autoptr (JsonNode) doc = dvs_snapshot_export (mgr, sw, TRUE, "dvsmgr", "live");
      text = dvs_json_write (doc, FALSE);
    }
  else if (spec[strspn (spec, " \t\r\n")] == '{')
    text = g_strdup (spec);
  else if (!(text = read_version (mgr, sw, spec, error)))
    return NULL;
  return parse_or_error (text, what, error);
}

static gboolean
on_diff (DvsSwitch1 *i, GDBusMethodInvocation *inv, const gchar *from_s, const gchar *to_s, DvsMgr *mgr)
{
  GError *error = NULL;
  MgrSwitch *sw = switch_of (mgr, i, &error);
  g_autoptr (DvsSnapshot) from = sw ? resolve (mgr, sw, from_s, "from", &error) : NULL;
  g_autoptr (DvsSnapshot) to = from ? resolve (mgr, sw, to_s, "to", &error) : NULL;

  if (to)
    finish_diff (inv, from->doc, to->doc);
  else
    finish (inv, error, NULL);
  return TRUE;
}

static void
do_rollback (DvsMgr *mgr, GDBusMethodInvocation *inv, gpointer key)
{
  const gchar *version;
  GError *error = NULL;
  MgrSwitch *sw = dvs_mgr_switch_lookup (mgr, key, &error);
  g_autofree gchar *text = NULL;
  g_autoptr (DvsSnapshot) snap = NULL;
  g_autoptr (JsonNode) report = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (inv), "(&s)", &version);
  if (sw && (text = read_version (mgr, sw, version, &error))
      && (snap = parse_or_error (text, version, &error))
      && dvs_snapshot_import (mgr, snap, DVS_IMPORT_APPLY, NULL, sw->uuid, &report, &error))
    {
      g_autofree gchar *r = to_text (report, FALSE);
      finish (inv, NULL, g_variant_new ("(s)", r));
      return;
    }
  finish (inv, error, NULL);
}

static gboolean
on_rollback (DvsSwitch1 *i, GDBusMethodInvocation *inv, const gchar *a, DvsMgr *mgr)
{
  dvs_mgr_authorize (mgr, inv, ACTION_CONFIGURE, do_rollback, g_strdup (dvs_switch1_get_uuid (i)));
  return TRUE;
}

void dvs_mgr_dbus_snapshot_switch (DvsMgr *mgr, DvsSwitch1 *iface);

void
dvs_mgr_dbus_snapshot_switch (DvsMgr *mgr, DvsSwitch1 *iface)
{
  g_signal_connect (iface, "handle-export", G_CALLBACK (on_export), mgr);
  g_signal_connect (iface, "handle-save-version", G_CALLBACK (on_save_version), mgr);
  g_signal_connect (iface, "handle-list-versions", G_CALLBACK (on_list_versions), mgr);
  g_signal_connect (iface, "handle-get-version", G_CALLBACK (on_get_version), mgr);
  g_signal_connect (iface, "handle-diff", G_CALLBACK (on_diff), mgr);
  g_signal_connect (iface, "handle-rollback", G_CALLBACK (on_rollback), mgr);
}
