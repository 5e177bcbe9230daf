/* dvs-switchctl's commands: build the params, call dvs-switchd, print the
 * result for a person (or as JSON with --json). */
#include "switchctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "switchctl-class-state.h"
#include "switchctl-format.h"

G_DEFINE_QUARK (dvs-switchctl-error-quark, ctl_error)

#define MAX_VID 4094

/* --- Talking to dvs-switchd. */

/* Says what a failed connect means for a person. */
static void
set_connect_error (Ctl *ctl, GError *cause, GError **error)
{
  const gchar *path = ctl->socket_path;

  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNREACHABLE,
                 "Cannot connect to %s: no such socket. dvs-switchd is not "
                 "running, or it listens elsewhere (see --socket and "
                 "DVS_SWITCHD_SOCKET).", path);
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNREACHABLE,
                 "Cannot connect to %s: connection refused. dvs-switchd is "
                 "not running (the socket file is left from an earlier run).",
                 path);
  else if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNREACHABLE,
                 "Cannot connect to %s: permission denied. dvs-switchd may be "
                 "running, but only its owner may use the socket: run "
                 "dvs-switchctl as that user (usually root).", path);
  else
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNREACHABLE,
                 "Cannot connect to dvs-switchd at %s: %s", path,
                 cause->message);
}

/* Calls @method (@params consumed, may be NULL).  A refusal by the switch
 * becomes CTL_EXIT_REFUSED with its message; anything else on the way is
 * CTL_EXIT_UNREACHABLE. */
JsonNode *
ctl_call (Ctl *ctl, const gchar *method, JsonObject *params, GError **error)
{
  g_autoptr(JsonObject) owned = params;
  g_autoptr(GError) local_error = NULL;
  JsonNode *result;

  if (ctl->client == NULL)
    {
      ctl->client = dvs_rpc_client_new (ctl->socket_path, ctl->timeout_ms,
                                        &local_error);
      if (ctl->client == NULL)
        {
          set_connect_error (ctl, local_error, error);
          return NULL;
        }
    }
  result = dvs_rpc_client_call (ctl->client, method,
                                g_steal_pointer (&owned), &local_error);
  if (result != NULL)
    return result;

  if (local_error->domain == DVS_JSONRPC_ERROR)
    g_set_error_literal (error, CTL_ERROR, CTL_EXIT_REFUSED,
                         local_error->message);
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNREACHABLE,
                 "dvs-switchd at %s did not answer within %.3g s: it is "
                 "running but stuck or very busy (see --timeout).",
                 ctl->socket_path, ctl->timeout_ms / 1000.0);
  else
    g_set_error (error, CTL_ERROR, CTL_EXIT_UNREACHABLE,
                 "Lost the connection to dvs-switchd at %s: %s",
                 ctl->socket_path, local_error->message);
  return NULL;
}

gboolean
ctl_usage_error (GError **error, const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (CTL_ERROR, CTL_EXIT_USAGE,
                                                format, args));
  va_end (args);
  return FALSE;
}

JsonObject *
ctl_result_object (JsonNode *result)
{
  return result != NULL && JSON_NODE_HOLDS_OBJECT (result)
             ? json_node_get_object (result) : NULL;
}

/* --- VLAN options. */

static gboolean
parse_vid (const gchar *text, const gchar *option, gint64 *out,
           GError **error)
{
  guint64 vid;

  if (!g_ascii_string_to_unsigned (text, 10, 0, MAX_VID, &vid, NULL))
    return ctl_usage_error (error, "%s needs a VLAN ID from 0 to %d, not "
                                   "\"%s\".", option, MAX_VID, text);
  *out = (gint64) vid;
  return TRUE;
}

/* "10,20,30-39" → [10, 20, 30, ..., 39]. */
static gboolean
parse_trunks (const gchar *text, JsonArray *out, GError **error)
{
  g_auto(GStrv) items = g_strsplit (text, ",", -1);

  for (gchar **item = items; *item != NULL; item++)
    {
      g_auto(GStrv) range = g_strsplit (*item, "-", 2);
      gint64 first = 0;
      gint64 last;

      if (!parse_vid (range[0], "--trunk", &first, error))
        return FALSE;
      last = first;
      if (range[1] != NULL && !parse_vid (range[1], "--trunk", &last, error))
        return FALSE;
      if (last < first)
        return ctl_usage_error (error, "--trunk: the range \"%s\" ends before "
                                       "it starts.", *item);
      for (gint64 vid = first; vid <= last; vid++)
        json_array_add_int_element (out, vid);
    }
  return TRUE;
}

/* The "vlan" param from --vlan/--trunk/--native; *out stays NULL when none
 * was given and @required is FALSE. */
static gboolean
vlan_from_options (const CtlOptions *opts, gboolean required,
                   JsonNode **out, GError **error)
{
  g_autoptr(JsonObject) vlan = json_object_new ();
  gint64 vid = 0;

  if (opts->vlan != NULL && opts->trunk != NULL)
    return ctl_usage_error (error, "--vlan and --trunk exclude each other: a "
                                   "port is either an access port or a trunk.");
  if (opts->native != NULL && opts->trunk == NULL)
    return ctl_usage_error (error, "--native applies to trunk ports only: add "
                                   "--trunk LIST.");
  if (opts->vlan != NULL)
    {
      if (!parse_vid (opts->vlan, "--vlan", &vid, error))
        return FALSE;
      json_object_set_string_member (vlan, "mode", "access");
      json_object_set_int_member (vlan, "tag", vid);
    }
  else if (opts->trunk != NULL)
    {
      g_autoptr(JsonArray) trunks = json_array_new ();

      if (!parse_trunks (opts->trunk, trunks, error))
        return FALSE;
      json_object_set_string_member (vlan, "mode", "trunk");
      json_object_set_array_member (vlan, "trunks",
                                    json_array_ref (trunks));
      if (opts->native != NULL)
        {
          if (!parse_vid (opts->native, "--native", &vid, error))
            return FALSE;
          json_object_set_int_member (vlan, "native", vid);
        }
    }
  else if (required)
    return ctl_usage_error (error, "Give the VLAN config: --vlan N, or --trunk "
                                   "LIST [--native N].");
  else
    return TRUE;

  *out = json_node_init_object (json_node_alloc (), vlan);
  return TRUE;
}

/* --- JSON arguments. */

static gboolean
read_stdin (const gchar *what, gchar **contents, GError **error)
{
  g_autoptr(GString) data = g_string_new (NULL);
  gchar buf[16384];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
    g_string_append_len (data, buf, (gssize) n);
  if (ferror (stdin))
    return ctl_usage_error (error, "%s cannot be read from standard input: "
                                   "%s.", what, g_strerror (errno));
  *contents = g_string_free (g_steal_pointer (&data), FALSE);
  return TRUE;
}

/* Reads the text of @source into *contents; *origin names it in messages
 * (NULL for an inline argument). */
static gboolean
read_json_text (const gchar *source, gboolean inline_ok, const gchar *what,
                gchar **contents, gchar **origin, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  const gchar *file = source;

  if (inline_ok)
    file = source[0] == '@' ? source + 1 : NULL;
  if (file == NULL)
    {
      *contents = g_strdup (source);
      return TRUE;
    }
  if (g_str_equal (file, "-"))
    {
      *origin = g_strdup ("standard input");
      return read_stdin (what, contents, error);
    }
  if (*file == '\0')
    return ctl_usage_error (error, "'@' needs a file name after it (@- "
                                   "reads standard input).");
  *origin = g_strdup (file);
  if (!g_file_get_contents (file, contents, NULL, &local_error))
    return ctl_usage_error (error, "%s cannot be read: %s.", what,
                            local_error->message);
  return TRUE;
}

JsonObject *
ctl_read_json_object (const gchar *source, gboolean inline_ok,
                      const gchar *what, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree gchar *contents = NULL;
  g_autofree gchar *origin = NULL;
  JsonNode *root;

  if (!read_json_text (source, inline_ok, what, &contents, &origin, error))
    return NULL;
  if (!json_parser_load_from_data (parser, contents, -1, &local_error))
    {
      /* "<data>:2:5: Parse error: ..." → "doc.json:2:5: Parse error: ..." */
      const gchar *message = local_error->message;

      if (g_str_has_prefix (message, "<data>:"))
        message += strlen ("<data>:");
      ctl_usage_error (error, "%s is not valid JSON: %s%s%s.", what,
                       origin != NULL ? origin : "",
                       origin != NULL ? ":" : "", message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      ctl_usage_error (error, "%s is empty%s%s.", what,
                       origin != NULL ? ": nothing in " : "",
                       origin != NULL ? origin : "");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      ctl_usage_error (error, "%s must be a JSON object {...}, not %s.", what,
                       JSON_NODE_HOLDS_ARRAY (root) ? "an array"
                       : JSON_NODE_HOLDS_NULL (root) ? "null"
                       : "a single value");
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

/* --- Commands. */

/* Prints @result as JSON when asked; TRUE when that was all to do. */
gboolean
ctl_printed_as_json (Ctl *ctl, JsonNode *result)
{
  if (!ctl->json)
    return FALSE;
  dvs_json_print (result);
  return TRUE;
}

gboolean
ctl_cmd_show (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  g_autoptr(JsonNode) result = ctl_call (ctl, "switch.show", NULL, error);

  if (result == NULL)
    return FALSE;
  if (ctl->json || ctl_result_object (result) == NULL)
    dvs_json_print (result);
  else
    ctl_print_fields (ctl_result_object (result));
  return TRUE;
}

gboolean
ctl_cmd_port_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  static const gchar *const headers[] = { "NAME", "LINK", "MODE", "VLAN",
                                          "SOCKET", NULL };
  g_autoptr(JsonNode) result = ctl_call (ctl, "port.list", NULL, error);
  g_autoptr(DvsTable) table = NULL;
  JsonArray *ports;

  if (result == NULL)
    return FALSE;
  if (ctl_printed_as_json (ctl, result))
    return TRUE;
  table = dvs_table_new (0, headers, DVS_TABLE_NONE);
  ports = dvs_json_get_array (ctl_result_object (result), "ports");
  for (guint i = 0; ports != NULL && i < json_array_get_length (ports); i++)
    {
      JsonNode *node = json_array_get_element (ports, i);
      JsonObject *port = JSON_NODE_HOLDS_OBJECT (node)
                             ? json_node_get_object (node) : NULL;
      g_autofree gchar *vlan = ctl_vlan_text (
          port != NULL ? json_object_get_member (port, "vlan") : NULL, TRUE);
      const gchar *row[] = {
        dvs_json_get_string (port, "name"),
        dvs_json_get_string (port, "link"),
        dvs_json_get_string (port, "mode"),
        vlan,
        dvs_json_get_string (port, "socket"),
      };

      dvs_table_add_row (table, row);
    }
  dvs_table_print (table);
  return TRUE;
}

gboolean
ctl_cmd_port_add (Ctl *ctl, const CtlOptions *opts, gchar **args,
                  GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  JsonNode *vlan = NULL;
  /* The daemon has its own working directory: send an absolute path. */
  g_autofree gchar *socket = g_canonicalize_filename (args[1], NULL);

  if (!vlan_from_options (opts, FALSE, &vlan, error))
    return FALSE;
  json_object_set_string_member (params, "name", args[0]);
  json_object_set_string_member (params, "socket", socket);
  if (opts->server)
    json_object_set_string_member (params, "mode", "server");
  if (vlan != NULL)
    json_object_set_member (params, "vlan", vlan);

  result = ctl_call (ctl, "port.add", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  ctl_printed_as_json (ctl, result);
  return TRUE;
}

gboolean
ctl_cmd_port_remove (Ctl *ctl, const CtlOptions *opts, gchar **args,
                     GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;

  json_object_set_string_member (params, "name", args[0]);
  result = ctl_call (ctl, "port.remove", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  ctl_printed_as_json (ctl, result);
  return TRUE;
}

static void
print_port_config (JsonObject *port)
{
  static const gchar *const known[] = { "name", "socket", "mode", "link",
                                        "vlan", "policy", "stats", NULL };
  g_autoptr(DvsTable) table = dvs_table_new (2, NULL, DVS_TABLE_NONE);

  for (guint i = 0; i < 4; i++)
    {
      g_autofree gchar *label = g_strconcat (known[i], ":", NULL);
      g_autofree gchar *value = ctl_member_text (port, known[i]);
      const gchar *row[] = { label, value };

      dvs_table_add_row (table, row);
    }
  {
    g_autofree gchar *value = ctl_vlan_text (
        json_object_get_member (port, "vlan"), FALSE);
    const gchar *row[] = { "vlan:", value };

    dvs_table_add_row (table, row);
  }
  if (json_object_has_member (port, "policy"))
    {
      dvs_table_add_row (table, (const gchar *[]) { "policy:", "" });
      ctl_policy_add_rows (table, json_object_get_member (port, "policy"),
                           "  ");
    }
  /* Members a newer daemon may add. */
  ctl_add_other_members (table, port, known);
  dvs_table_print (table);
}

gboolean
ctl_cmd_port_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  JsonObject *port;
  JsonObject *stats;

  json_object_set_string_member (params, "name", args[0]);
  result = ctl_call (ctl, "port.show", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  port = ctl_result_object (result);
  if (ctl->json || port == NULL)
    {
      dvs_json_print (result);
      return TRUE;
    }
  print_port_config (port);
  stats = dvs_json_get_object (port, "stats");
  if (stats != NULL)
    ctl_print_port_stats (stats);
  return TRUE;
}

gboolean
ctl_cmd_port_set_vlan (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  JsonNode *vlan = NULL;

  if (!vlan_from_options (opts, TRUE, &vlan, error))
    return FALSE;
  json_object_set_string_member (params, "name", args[0]);
  json_object_set_member (params, "vlan", vlan);
  result = ctl_call (ctl, "port.set-vlan", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  ctl_printed_as_json (ctl, result);
  return TRUE;
}

gboolean
ctl_cmd_port_set_policy (Ctl *ctl, const CtlOptions *opts, gchar **args,
                         GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonObject) policy = NULL;
  g_autoptr(JsonNode) result = NULL;

  policy = ctl_read_json_object (args[1], TRUE, "The policy", error);
  if (policy == NULL)
    return FALSE;
  json_object_set_string_member (params, "name", args[0]);
  json_object_set_object_member (params, "policy",
                                 g_steal_pointer (&policy));
  result = ctl_call (ctl, "port.set-policy", g_steal_pointer (&params),
                     error);
  if (result == NULL)
    return FALSE;
  ctl_printed_as_json (ctl, result);
  return TRUE;
}

gboolean
ctl_cmd_port_filter_state (Ctl *ctl, const CtlOptions *opts, gchar **args,
                           GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(JsonArray) list = NULL;
  g_autoptr(GList) classes = NULL;
  JsonObject *states;

  json_object_set_string_member (params, "name", args[0]);
  result = ctl_call (ctl, "port.filter-state", g_steal_pointer (&params),
                     error);
  if (result == NULL)
    return FALSE;
  states = ctl_result_object (result);
  if (ctl->json || states == NULL)
    {
      dvs_json_print (result);
      return TRUE;
    }

  /* {"CLASS": {"version", "data"}} as dvport.show's [{"class", ...}] */
  list = json_array_new ();
  classes = json_object_get_members (states);
  for (GList *l = classes; l != NULL; l = l->next)
    {
      JsonObject *state = dvs_json_get_object (states, l->data);
      JsonObject *entry = json_object_new ();

      json_object_set_string_member (entry, "class", l->data);
      if (state != NULL && json_object_has_member (state, "version"))
        json_object_set_member (entry, "version",
                                json_node_copy (json_object_get_member (state, "version")));
      if (state != NULL && dvs_json_get_string (state, "data") != NULL)
        json_object_set_string_member (entry, "data",
                                       dvs_json_get_string (state, "data"));
      json_array_add_object_element (list, entry);
    }
  ctl_print_class_states (list);
  return TRUE;
}

gboolean
ctl_cmd_mac_dump (Ctl *ctl, const CtlOptions *opts, gchar **args,
                  GError **error)
{
  static const gchar *const headers[] = { "MAC", "VLAN", "PORT", "AGE", NULL };
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(DvsTable) table = NULL;
  JsonArray *entries;
  gint64 vid = 0;

  if (opts->port != NULL)
    json_object_set_string_member (params, "port", opts->port);
  if (opts->vlan != NULL)
    {
      if (!parse_vid (opts->vlan, "--vlan", &vid, error))
        return FALSE;
      json_object_set_int_member (params, "vlan", vid);
    }
  result = ctl_call (ctl, "mac.dump", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  if (ctl_printed_as_json (ctl, result))
    return TRUE;

  table = dvs_table_new (0, headers, DVS_TABLE_NONE);
  dvs_table_align_right (table, 1);
  dvs_table_align_right (table, 3);
  entries = dvs_json_get_array (ctl_result_object (result), "entries");
  for (guint i = 0; entries != NULL && i < json_array_get_length (entries); i++)
    {
      JsonNode *node = json_array_get_element (entries, i);
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node)
                              ? json_node_get_object (node) : NULL;
      g_autofree gchar *vlan = ctl_member_text (entry, "vlan");
      g_autofree gchar *age = ctl_member_text (entry, "age");

      dvs_table_add_row (table, (const gchar *[]) {
                                    dvs_json_get_string (entry, "mac"), vlan,
                                    dvs_json_get_string (entry, "port"),
                                    age });
    }
  dvs_table_print (table);
  return TRUE;
}

gboolean
ctl_cmd_mac_flush (Ctl *ctl, const CtlOptions *opts, gchar **args,
                   GError **error)
{
  g_autoptr(JsonObject) params = json_object_new ();
  g_autoptr(JsonNode) result = NULL;
  gint64 flushed = 0;

  if (opts->port != NULL)
    json_object_set_string_member (params, "port", opts->port);
  result = ctl_call (ctl, "mac.flush", g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  if (ctl_printed_as_json (ctl, result))
    return TRUE;
  if (dvs_json_get_int (ctl_result_object (result), "flushed", &flushed))
    printf ("Flushed %" G_GINT64_FORMAT " MAC %s.\n", flushed,
            flushed == 1 ? "entry" : "entries");
  else
    dvs_json_print (result);
  return TRUE;
}

gboolean
ctl_cmd_call (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)
{
  g_autoptr(JsonObject) params = NULL;
  g_autoptr(JsonNode) result = NULL;

  if (args[1] != NULL)
    {
      g_autoptr(GError) parse_error = NULL;
      g_autoptr(JsonNode) node = json_from_string (args[1], &parse_error);

      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        return ctl_usage_error (
            error, "JSON-PARAMS must be a JSON object such as "
                   "'{\"name\": \"vm1\"}'%s%s",
            parse_error != NULL ? ": " : ".",
            parse_error != NULL ? parse_error->message : "");
      params = json_object_ref (json_node_get_object (node));
    }
  result = ctl_call (ctl, args[0], g_steal_pointer (&params), error);
  if (result == NULL)
    return FALSE;
  dvs_json_print (result);
  return TRUE;
}
