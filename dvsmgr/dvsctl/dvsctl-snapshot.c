/* dvsctl: configuration snapshots of DVswitches (docs/snapshots.md):
 * export, the version history dvsmgr keeps, diff, import and rollback.
 *
 * Documents travel as JSON text.  dvsctl reads the files it is given whole
 * and checks only that they are JSON objects (dvsmgr validates documents,
 * once, and lists every problem); the documents it receives it prints or
 * writes pretty-printed, to a file atomically. */
#include "dvsctl.h"
#include "dvsctl-output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

/* What the manager sent */

/* @text, which @method returned, parsed; a BadReply error when it is not
 * JSON. */
static JsonNode *
reply_json (const gchar *text, const gchar *method, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, text, -1, &local_error)
      || (root = json_parser_steal_root (parser)) == NULL)
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_BAD_REPLY,
                   "dvsmgr answered %s with text that is not JSON%s%s%s; is "
                   "dvsctl as new as dvsmgr?", method,
                   local_error != NULL ? " (" : "",
                   local_error != NULL ? local_error->message : "",
                   local_error != NULL ? ")" : "");
      return NULL;
    }
  return root;
}

/* The same, when it must be a JSON object. */
static JsonNode *
reply_json_object (const gchar *text, const gchar *method, GError **error)
{
  g_autoptr(JsonNode) node = reply_json (text, method, error);

  if (node != NULL && !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_BAD_REPLY,
                   "dvsmgr answered %s with JSON that is not an object; is "
                   "dvsctl as new as dvsmgr?", method);
      return NULL;
    }
  return g_steal_pointer (&node);
}

/* The length of an array member; 0 when absent or of another type. */
static guint
member_array_length (JsonObject *obj, const gchar *name)
{
  JsonNode *node = obj != NULL ? json_object_get_member (obj, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node)
             ? json_array_get_length (json_node_get_array (node)) : 0;
}

/* Output files */

static gboolean
is_stdout (const gchar *output)
{
  return output == NULL || g_str_equal (output, "-");
}

static gboolean
file_error (GError **error, int errsv, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

static gboolean
file_error (GError **error, int errsv, const gchar *format, ...)
{
  g_autofree gchar *what = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, CTL_ERROR, CTL_ERROR_FILE, "%s: %s", what,
               g_strerror (errsv));
  return FALSE;
}

static gboolean
refuse_existing (const gchar *path, GError **error)
{
  g_set_error (error, CTL_ERROR, CTL_ERROR_FILE,
               "%s exists; give --force to overwrite it", path);
  return FALSE;
}

/* -o FILE: a name, and no file of that name unless --force.  Checked
 * before the manager is asked; put_in_place() checks again, race-free. */
static gboolean
check_output (const CtlOptions *opts, GError **error)
{
  GStatBuf st;

  if (opts->output == NULL)
    return TRUE;
  if (*opts->output == '\0')
    return ctl_usage_error (error, "-o needs a file name (- is standard "
                            "output).");
  if (is_stdout (opts->output) || opts->force)
    return TRUE;
  if (g_lstat (opts->output, &st) == 0)
    return refuse_existing (opts->output, error);
  return TRUE;
}

/* Moves the written temporary file @tmp to @path: rename() replaces what
 * is there (--force); link() refuses it, atomically.  Where the file
 * system has no hard links, a check and rename() do. */
static gboolean
put_in_place (const gchar *tmp, const gchar *path, gboolean force,
              GError **error)
{
  GStatBuf st;

  if (!force)
    {
      if (link (tmp, path) == 0)
        {
          (void) g_unlink (tmp);
          return TRUE;
        }
      if (errno == EEXIST)
        return refuse_existing (path, error);
      if (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK)
        return file_error (error, errno, "cannot create %s", path);
      if (g_lstat (path, &st) == 0)
        return refuse_existing (path, error);
    }
  if (g_rename (tmp, path) != 0)
    return file_error (error, errno, "cannot replace %s", path);
  return TRUE;
}

/* Writes @text to @path as a whole or not at all: a temporary file beside
 * it (mode 0600), fsync, close, moved in place, the directory synced. */
static gboolean
write_file_atomically (const gchar *path, const gchar *text, gboolean force,
                       GError **error)
{
  g_autofree gchar *dir = g_path_get_dirname (path);
  g_autofree gchar *base = g_path_get_basename (path);
  g_autofree gchar *tmp = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  g_autoptr(GError) close_error = NULL;
  gsize length = strlen (text);
  gsize done = 0;
  int fd;
  int dir_fd;

  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return file_error (error, errno, "cannot create a file in %s", dir);
  while (done < length)
    {
      gssize n = write (fd, text + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;

          (void) close (fd);
          (void) g_unlink (tmp);
          return file_error (error, errsv, "cannot write %s", tmp);
        }
      done += (gsize) n;
    }
  if (fsync (fd) != 0)
    {
      int errsv = errno;

      (void) close (fd);
      (void) g_unlink (tmp);
      return file_error (error, errsv, "cannot write %s", tmp);
    }
  if (!g_close (fd, &close_error))
    {
      (void) g_unlink (tmp);
      g_set_error (error, CTL_ERROR, CTL_ERROR_FILE, "cannot write %s: %s",
                   tmp, close_error->message);
      return FALSE;
    }
  if (!put_in_place (tmp, path, force, error))
    {
      (void) g_unlink (tmp);
      return FALSE;
    }
  /* The new name is durable once the directory is. */
  dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || (fsync (dir_fd) != 0 && errno != EINVAL))
    {
      int errsv = errno;

      if (dir_fd >= 0)
        (void) close (dir_fd);
      return file_error (error, errsv, "cannot sync %s", dir);
    }
  (void) close (dir_fd);
  return TRUE;
}

gboolean
ctl_output_check (const CtlOptions *opts, GError **error)
{
  return check_output (opts, error);
}

gboolean
ctl_output_text (const CtlOptions *opts, const gchar *text, GError **error)
{
  if (is_stdout (opts->output))
    {
      fputs (text, stdout);
      return TRUE;
    }
  return write_file_atomically (opts->output, text, opts->force, error);
}

/* Prints the document @text that @method returned, pretty, or writes it
 * to -o FILE. */
static gboolean
output_document (const CtlOptions *opts, const gchar *text,
                 const gchar *method, GError **error)
{
  g_autoptr(JsonNode) doc = reply_json_object (text, method, error);
  g_autofree gchar *pretty = NULL;
  g_autofree gchar *contents = NULL;

  if (doc == NULL)
    return FALSE;
  pretty = ctl_json_pretty (doc);
  if (is_stdout (opts->output))
    {
      printf ("%s\n", pretty);
      return TRUE;
    }
  contents = g_strconcat (pretty, "\n", NULL);
  return write_file_atomically (opts->output, contents, opts->force, error);
}

/* Input documents */

/* The document in @file (- for standard input) as the manager takes it:
 * the text as it is, once it is known to be a JSON object.  Problems are
 * usage errors naming @what. */
static gchar *
read_document (const gchar *file, const gchar *what, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree gchar *text = ctl_read_text_file (file, what, error);
  const gchar *name = g_str_equal (file, "-") ? "standard input" : file;
  JsonNode *root;

  if (text == NULL)
    return NULL;
  if (!json_parser_load_from_data (parser, text, -1, &local_error))
    {
      ctl_usage_error (error, "%s: %s is not valid JSON: %s", what, name,
                       local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      ctl_usage_error (error, "%s: %s is not a snapshot document (a JSON "
                       "object, docs/snapshots.md).", what, name);
      return NULL;
    }
  return g_steal_pointer (&text);
}

/* "live", "latest" or "vNNNNNN": what Switch1.Diff names itself. */
static gboolean
is_version_name (const gchar *ref)
{
  if (g_str_equal (ref, "live") || g_str_equal (ref, "latest"))
    return TRUE;
  if (ref[0] != 'v' || ref[1] == '\0')
    return FALSE;
  for (const gchar *p = ref + 1; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p))
      return FALSE;
  return TRUE;
}

static gboolean
check_one_stdin (const gchar *a, const gchar *b, const gchar *names,
                 GError **error)
{
  if (g_str_equal (a, "-") && g_str_equal (b, "-"))
    return ctl_usage_error (error, "only one of %s can be - (standard "
                            "input).", names);
  return TRUE;
}

/* Reports */

/* "2 added, 1 updated, 0 removed" of a report member. */
static gchar *
changes_text (JsonObject *report, const gchar *member)
{
  JsonNode *node = json_object_get_member (report, member);
  JsonObject *changes = node != NULL && JSON_NODE_HOLDS_OBJECT (node)
                            ? json_node_get_object (node) : NULL;

  return g_strdup_printf ("%u added, %u updated, %u removed",
                          member_array_length (changes, "added"),
                          member_array_length (changes, "updated"),
                          member_array_length (changes, "removed"));
}

/* The summary of an ImportSwitch or Rollback report. */
static void
print_report_summary (JsonObject *report)
{
  g_autoptr(DvsFields) fields = dvs_fields_new ();
  g_autofree gchar *groups = changes_text (report, "port_groups");
  g_autofree gchar *ports = changes_text (report, "ports");
  guint n_hosts = member_array_length (report, "hosts_registered");

  dvs_fields_add (fields, "port groups", groups);
  dvs_fields_add (fields, "ports", ports);
  if (n_hosts > 0)
    {
      JsonArray *hosts = json_object_get_array_member (report,
                                                       "hosts_registered");
      g_autoptr(GString) names = g_string_new (NULL);

      for (guint i = 0; i < n_hosts; i++)
        {
          g_autofree gchar *name = ctl_json_compact (
              json_array_get_element (hosts, i));

          g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", name);
        }
      dvs_fields_add (fields, "hosts registered", names->str);
    }
  dvs_table_print (fields);
}

/* Prints the report @text of @method: as it is with --json, else its
 * summary, after the switch's UUID when @uuid. */
static gboolean
print_report (Ctl *ctl, const gchar *text, const gchar *uuid,
              const gchar *method, GError **error)
{
  g_autoptr(JsonNode) report = reply_json_object (text, method, error);

  if (report == NULL)
    return FALSE;
  if (ctl->json)
    {
      dvs_json_print (report);
      return TRUE;
    }
  if (uuid != NULL)
    printf ("%s\n", uuid);
  print_report_summary (json_node_get_object (report));
  return TRUE;
}

/* --wait after an import or a rollback: the change is made; follow its push
 * to the hosts.  A failure says the change itself stands. */
static gboolean
follow_push (Ctl *ctl, const CtlOptions *opts, const gchar *what, GError **error)
{
  g_autoptr(JsonNode) entries = NULL;

  if (!opts->wait)
    return TRUE;
  entries = ctl_wait_in_sync (ctl, error);
  if (entries == NULL)
    {
      g_prefix_error (error, "the %s is done in the manager, but its push is not: ", what);
      return FALSE;
    }
  return TRUE;
}

/* Prints the (diff_json, diff_text) of Diff or DiffDocuments. */
static gboolean
print_diff (Ctl *ctl, GVariant *reply, const gchar *method, GError **error)
{
  const gchar *diff_json;
  const gchar *diff_text;

  g_variant_get (reply, "(&s&s)", &diff_json, &diff_text);
  if (ctl->json)
    {
      g_autoptr(JsonNode) diff = reply_json_object (diff_json, method, error);

      if (diff == NULL)
        return FALSE;
      dvs_json_print (diff);
      return TRUE;
    }
  printf ("%s%s", diff_text,
          *diff_text == '\0' || g_str_has_suffix (diff_text, "\n") ? "" : "\n");
  return TRUE;
}

/* Commands */

/* Asks switch NAME for a document (METHOD with ARGS, floating: consumed)
 * and writes it where the options say. */
static gboolean
fetch_document (Ctl *ctl, const CtlOptions *opts, const gchar *name, const gchar *method,
                GVariant *args, GError **error)
{
  g_autoptr(GVariant) reply = NULL;
  const gchar *document;
  CtlObject *sw = NULL;

  if (!check_output (opts, error)
      || (sw = ctl_resolve (ctl, CTL_KIND_SWITCH, name, error)) == NULL)
    {
      g_variant_unref (g_variant_ref_sink (args));   /* never sent */
      return FALSE;
    }
  reply = ctl_call (ctl, sw->path, CTL_IFACE_SWITCH, method, args,
                    G_VARIANT_TYPE ("(s)"), FALSE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&s)", &document);
  return output_document (opts, document, method, error);
}

gboolean
ctl_cmd_switch_export (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  return fetch_document (ctl, opts, args[0], "Export",
                         g_variant_new ("(bs)", !opts->no_connections,
                                        opts->comment != NULL ? opts->comment : ""),
                         error);
}

gboolean
ctl_cmd_switch_save (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  CtlObject *sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  g_autoptr(GVariant) reply = NULL;
  const gchar *version;
  const gchar *path;

  if (sw == NULL)
    return FALSE;
  reply = ctl_call (ctl, sw->path, CTL_IFACE_SWITCH, "SaveVersion",
                    g_variant_new ("(sb)",
                                   opts->comment != NULL ? opts->comment : "",
                                   !opts->no_connections),
                    G_VARIANT_TYPE ("(ss)"), TRUE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&s&s)", &version, &path);
  if (ctl->json)
    ctl_print_json_strings ("version", version, "path", path, NULL);
  else
    printf ("%s %s\n", version, path);
  return TRUE;
}

/* A table cell of free text on one line. */
static gchar *
one_line (const gchar *text)
{
  return text != NULL ? g_strdelimit (g_strdup (text), "\t\n\r", ' ') : NULL;
}

/* An RFC 3339 time as local "YYYY-MM-DD HH:MM:SS"; as given when it does
 * not parse. */
static gchar *
created_text (const gchar *created)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (created == NULL)
    return NULL;
  utc = g_date_time_new_from_iso8601 (created, NULL);
  if (utc == NULL)
    return one_line (created);
  local = g_date_time_to_local (utc);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

gboolean
ctl_cmd_switch_versions (Ctl *ctl, const CtlOptions *opts, gchar **args,
                         GError **error)
{
  static const gchar *const headers[] = {
    "VERSION", "CREATED", "AUTHOR", "GENERATION", "COMMENT", NULL
  };
  CtlObject *sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(JsonNode) versions = NULL;
  g_autoptr(DvsTable) table = NULL;
  const gchar *text;
  JsonArray *array;

  if (sw == NULL)
    return FALSE;
  reply = ctl_call (ctl, sw->path, CTL_IFACE_SWITCH, "ListVersions", NULL,
                    G_VARIANT_TYPE ("(s)"), FALSE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&s)", &text);
  versions = reply_json (text, "ListVersions", error);
  if (versions == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (versions))
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_BAD_REPLY,
                   "dvsmgr answered ListVersions with JSON that is not an "
                   "array; is dvsctl as new as dvsmgr?");
      return FALSE;
    }
  if (ctl->json)
    {
      dvs_json_print (versions);
      return TRUE;
    }
  array = json_node_get_array (versions);
  if (json_array_get_length (array) == 0)
    {
      printf ("No saved versions; 'dvsctl switch save %s' saves one.\n",
              ctl_prop_string (sw, "Name"));
      return TRUE;
    }
  table = dvs_table_new (0, headers, DVS_TABLE_DASH_EMPTY);
  dvs_table_align_right (table, 3);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *entry;
      const gchar *damage;
      gchar *comment;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      entry = json_node_get_object (node);
      damage = dvs_json_get_string (entry, "error");
      /* A damaged file says what is wrong where its comment would be. */
      comment = damage != NULL
                    ? g_strdup_printf ("damaged: %s", damage)
                    : one_line (dvs_json_get_string (entry, "comment"));
      dvs_table_add_row_take (
          table, one_line (dvs_json_get_string (entry, "version")),
          created_text (dvs_json_get_string (entry, "created")),
          one_line (dvs_json_get_string (entry, "author")),
          json_object_has_member (entry, "generation")
              ? ctl_json_compact (json_object_get_member (entry, "generation"))
              : NULL,
          one_line (comment));
      g_free (comment);
    }
  dvs_table_print (table);
  return TRUE;
}

gboolean
ctl_cmd_switch_show_version (Ctl *ctl, const CtlOptions *opts, gchar **args,
                             GError **error)
{
  return fetch_document (ctl, opts, args[0], "GetVersion", g_variant_new ("(s)", args[1]),
                         error);
}

/* FROM or TO as Switch1.Diff takes it: a version name as it is, else the
 * text of the file it names. */
static gchar *
diff_operand (const gchar *ref, const gchar *what, GError **error)
{
  if (is_version_name (ref))
    return g_strdup (ref);
  return read_document (ref, what, error);
}

gboolean
ctl_cmd_switch_diff (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  const gchar *to_ref = args[2] != NULL ? args[2] : "live";
  g_autofree gchar *from = NULL;
  g_autofree gchar *to = NULL;
  g_autoptr(GVariant) reply = NULL;
  CtlObject *sw;

  if (!check_one_stdin (args[1], to_ref, "FROM and TO", error))
    return FALSE;
  from = diff_operand (args[1], "FROM", error);
  if (from == NULL)
    return FALSE;
  to = diff_operand (to_ref, "TO", error);
  if (to == NULL)
    return FALSE;
  sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  if (sw == NULL)
    return FALSE;
  reply = ctl_call (ctl, sw->path, CTL_IFACE_SWITCH, "Diff",
                    g_variant_new ("(ss)", from, to), G_VARIANT_TYPE ("(ss)"),
                    FALSE, error);
  return reply != NULL && print_diff (ctl, reply, "Diff", error);
}

gboolean
ctl_cmd_diff (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  g_autofree gchar *from = NULL;
  g_autofree gchar *to = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (!check_one_stdin (args[0], args[1], "FILE1 and FILE2", error))
    return FALSE;
  from = read_document (args[0], "FILE1", error);
  if (from == NULL)
    return FALSE;
  to = read_document (args[1], "FILE2", error);
  if (to == NULL)
    return FALSE;
  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "DiffDocuments",
                    g_variant_new ("(ss)", from, to), G_VARIANT_TYPE ("(ss)"),
                    FALSE, error);
  return reply != NULL && print_diff (ctl, reply, "DiffDocuments", error);
}

/* --mode and the options that go with it, checked before anything is
 * read or asked. */
static gboolean
check_import_options (const CtlOptions *opts, GError **error)
{
  static const gchar *const modes[] = { "recreate", "new", "apply", NULL };

  if (opts->mode == NULL)
    return ctl_usage_error (error, "--mode is required: recreate, new or "
                            "apply.");
  if (!g_strv_contains (modes, opts->mode))
    return ctl_usage_error (error, "--mode is recreate, new or apply, not "
                            "\"%s\".", opts->mode);
  if (g_str_equal (opts->mode, "new") && opts->name == NULL)
    return ctl_usage_error (error, "--mode new needs --name NAME, the new "
                            "switch's name.");
  if (opts->name != NULL && !g_str_equal (opts->mode, "new"))
    return ctl_usage_error (error, "--name goes with --mode new only.");
  if (opts->target != NULL && !g_str_equal (opts->mode, "apply"))
    return ctl_usage_error (error, "--target goes with --mode apply only.");
  return TRUE;
}

gboolean
ctl_cmd_switch_import (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(JsonObject) options = json_object_new ();
  g_autoptr(GVariant) reply = NULL;
  g_autofree gchar *document = NULL;
  g_autofree gchar *options_text = NULL;
  const gchar *path;
  const gchar *uuid;
  const gchar *report;

  if (!check_import_options (opts, error))
    return FALSE;
  document = read_document (args[0], "FILE", error);
  if (document == NULL)
    return FALSE;
  if (opts->name != NULL)
    json_object_set_string_member (options, "name", opts->name);
  if (opts->target != NULL)
    {
      CtlObject *target = ctl_resolve (ctl, CTL_KIND_SWITCH, opts->target,
                                       error);

      if (target == NULL)
        return FALSE;
      json_object_set_string_member (options, "target",
                                     ctl_prop_string (target, "Uuid"));
    }
  options_text = json_object_get_size (options) > 0 ? ctl_json_text (options)
                                                    : g_strdup ("");
  /* A refused import lists every problem, one per line of the message. */
  reply = ctl_call (ctl, CTL_MANAGER_PATH, CTL_IFACE_MANAGER, "ImportSwitch",
                    g_variant_new ("(sss)", document, opts->mode, options_text),
                    G_VARIANT_TYPE ("(oss)"), TRUE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&o&s&s)", &path, &uuid, &report);
  return print_report (ctl, report, uuid, "ImportSwitch", error)
         && follow_push (ctl, opts, "import", error);
}

gboolean
ctl_cmd_switch_rollback (Ctl *ctl, const CtlOptions *opts, gchar **args,
                         GError **error)
{
  CtlObject *sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  g_autoptr(GVariant) reply = NULL;
  const gchar *report;

  if (sw == NULL)
    return FALSE;
  reply = ctl_call (ctl, sw->path, CTL_IFACE_SWITCH, "Rollback",
                    g_variant_new ("(s)", args[1]), G_VARIANT_TYPE ("(s)"),
                    TRUE, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&s)", &report);
  return print_report (ctl, report, NULL, "Rollback", error)
         && follow_push (ctl, opts, "rollback", error);
}

static void
print_history (Ctl *ctl, const CtlObject *sw)
{
  gboolean history_auto = ctl_prop_bool (sw, "HistoryAuto");
  guint32 keep = ctl_prop_uint (sw, "HistoryKeep");
  g_autoptr(DvsFields) fields = NULL;

  if (ctl->json)
    {
      g_autoptr(JsonObject) obj = json_object_new ();
      g_autoptr(JsonNode) node = NULL;

      json_object_set_boolean_member (obj, "auto", history_auto);
      json_object_set_int_member (obj, "keep", keep);
      node = json_node_init_object (json_node_alloc (), obj);
      dvs_json_print (node);
      return;
    }
  fields = dvs_fields_new ();
  dvs_fields_add (fields, "auto", history_auto ? "on" : "off");
  if (keep == 0)
    dvs_fields_add (fields, "keep", "all");
  else
    dvs_fields_add_printf (fields, "keep", "%u", keep);
  dvs_table_print (fields);
}

gboolean
ctl_cmd_switch_history (Ctl *ctl, const CtlOptions *opts, gchar **args,
                        GError **error)
{
  g_autoptr(JsonObject) config = NULL;
  g_autofree gchar *config_text = NULL;
  JsonObject *history;
  gboolean history_auto = FALSE;
  guint64 keep = 0;
  CtlObject *sw;

  if (opts->history_auto != NULL)
    {
      if (g_str_equal (opts->history_auto, "on"))
        history_auto = TRUE;
      else if (!g_str_equal (opts->history_auto, "off"))
        return ctl_usage_error (error, "--auto is on or off, not \"%s\".",
                                opts->history_auto);
    }
  if (opts->history_keep != NULL
      && !ctl_parse_uint (opts->history_keep, "--keep", 0, G_MAXUINT32, &keep,
                          error))
    return FALSE;
  sw = ctl_resolve (ctl, CTL_KIND_SWITCH, args[0], error);
  if (sw == NULL)
    return FALSE;
  if (opts->history_auto == NULL && opts->history_keep == NULL)
    {
      print_history (ctl, sw);
      return TRUE;
    }
  /* SetConfig replaces the whole config: the switch's, with the policy's
   * members given changed and the other as it is. */
  config = ctl_switch_current_config (sw);
  history = json_object_new ();
  json_object_set_boolean_member (history, "auto",
                                  opts->history_auto != NULL
                                      ? history_auto
                                      : ctl_prop_bool (sw, "HistoryAuto"));
  json_object_set_int_member (history, "keep",
                              opts->history_keep != NULL
                                  ? (gint64) keep
                                  : ctl_prop_uint (sw, "HistoryKeep"));
  json_object_set_object_member (config, "history", history);
  config_text = ctl_json_text (config);
  return ctl_call_void (ctl, sw->path, CTL_IFACE_SWITCH, "SetConfig",
                        g_variant_new ("(s)", config_text), error);
}
