/* dvsctl: the bus connection, method calls, and what their errors mean
 * for the operator (exit status, message). */
#include "dvsctl.h"
#include "dvsctl-output.h"
#include "dvs-json-write.h"

#include <gio/gunixinputstream.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (dvsctl-error-quark, ctl_error)

/* D-Bus names for the errors dvsctl raises itself, as --json shows them.
 * Not-found reuses the manager's name: a script sees one name whether the
 * manager or dvsctl found nothing. */
static const gchar *const ctl_error_names[] = {
  [CTL_ERROR_USAGE] = "net.dvsqemu.Ctl.Error.Usage",
  [CTL_ERROR_NOT_FOUND] = "net.dvsqemu.Error.NotFound",
  [CTL_ERROR_AMBIGUOUS] = "net.dvsqemu.Ctl.Error.Ambiguous",
  [CTL_ERROR_BAD_REPLY] = "net.dvsqemu.Ctl.Error.BadReply",
  [CTL_ERROR_NO_BUS] = "org.freedesktop.DBus.Error.NoServer",
  [CTL_ERROR_FILE] = "net.dvsqemu.Ctl.Error.File",
  [CTL_ERROR_DOMAIN] = "net.dvsqemu.Ctl.Error.Domain",
  [CTL_ERROR_NO_LIBVIRT] = "net.dvsqemu.Ctl.Error.NoLibvirt",
  [CTL_ERROR_REFUSED] = "net.dvsqemu.Ctl.Error.Refused",
};

/* "the system bus", "the session bus", "the bus at ADDRESS". */
static gchar *
bus_description (Ctl *ctl)
{
  if (g_str_equal (ctl->bus, "system"))
    return g_strdup ("the system bus");
  if (g_str_equal (ctl->bus, "session"))
    return g_strdup ("the session bus");
  return g_strdup_printf ("the bus at %s", ctl->bus);
}

static GDBusConnection *
ctl_connection (Ctl *ctl, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  if (ctl->connection != NULL)
    return ctl->connection;

  if (g_str_equal (ctl->bus, "system"))
    ctl->connection = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &local_error);
  else if (g_str_equal (ctl->bus, "session"))
    ctl->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &local_error);
  else
    ctl->connection = g_dbus_connection_new_for_address_sync (
        ctl->bus,
        G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
            | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
        NULL, NULL, &local_error);
  if (ctl->connection == NULL)
    {
      g_autofree gchar *where = bus_description (ctl);

      g_dbus_error_strip_remote_error (local_error);
      g_set_error (error, CTL_ERROR, CTL_ERROR_NO_BUS,
                   "cannot connect to %s: %s", where, local_error->message);
      return NULL;
    }
  /* The manager's answers are read in full before dvsctl exits. */
  g_dbus_connection_set_exit_on_close (ctl->connection, FALSE);
  return ctl->connection;
}

GVariant *
ctl_call (Ctl *ctl, const gchar *path, const gchar *iface,
          const gchar *method, GVariant *params,
          const GVariantType *reply_type, gboolean mutating, GError **error)
{
  GDBusConnection *connection = ctl_connection (ctl, error);
  GDBusCallFlags flags = mutating
                             ? G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION
                             : G_DBUS_CALL_FLAGS_NONE;
  g_autoptr(GError) local_error = NULL;
  GVariant *reply;

  if (connection == NULL)
    {
      if (params != NULL)
        g_variant_unref (g_variant_ref_sink (params));
      return NULL;
    }
  reply = g_dbus_connection_call_sync (connection, CTL_BUS_NAME, path, iface,
                                       method, params, NULL, flags,
                                       ctl->timeout_ms, NULL, &local_error);
  if (reply == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (reply_type != NULL && !g_variant_is_of_type (reply, reply_type))
    {
      g_set_error (error, CTL_ERROR, CTL_ERROR_BAD_REPLY,
                   "dvsmgr answered %s.%s on %s with %s instead of %s; "
                   "is dvsctl as new as dvsmgr?", iface, method, path,
                   g_variant_get_type_string (reply),
                   g_variant_type_peek_string (reply_type));
      g_variant_unref (reply);
      return NULL;
    }
  return reply;
}

gboolean
ctl_call_void (Ctl *ctl, const gchar *path, const gchar *iface,
               const gchar *method, GVariant *params, GError **error)
{
  g_autoptr(GVariant) reply = ctl_call (ctl, path, iface, method, params,
                                        G_VARIANT_TYPE_UNIT, TRUE, error);

  return reply != NULL;
}

gboolean
ctl_usage_error (GError **error, const gchar *format, ...)
{
  va_list ap;

  va_start (ap, format);
  g_propagate_error (error, g_error_new_valist (CTL_ERROR, CTL_ERROR_USAGE,
                                                format, ap));
  va_end (ap);
  return FALSE;
}

gboolean
ctl_parse_uint (const gchar *text, const gchar *what, guint64 min,
                guint64 max, guint64 *out, GError **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, min, max, out, &local_error))
    return ctl_usage_error (error, "%s needs a number from %" G_GUINT64_FORMAT
                            " to %" G_GUINT64_FORMAT ", not \"%s\".", what,
                            min, max, text);
  return TRUE;
}

/* All of standard input, NUL-terminated; *length excludes the NUL. */
static gchar *
read_stdin (gsize *length, GError **error)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  gssize size;

  size = g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                 NULL, error);
  if (size < 0)
    return NULL;
  *length = (gsize) size;
  /* The stream is closed: append the NUL to what it holds. */
  return g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)),
                    *length);
}

gchar *
ctl_read_text_file (const gchar *file, const gchar *what, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree gchar *contents = NULL;
  gsize length = 0;

  if (g_str_equal (file, "-"))
    contents = read_stdin (&length, &local_error);
  else if (!g_file_get_contents (file, &contents, &length, &local_error))
    g_clear_pointer (&contents, g_free);
  if (contents == NULL)
    {
      if (g_str_equal (file, "-"))
        ctl_usage_error (error, "%s: cannot read standard input: %s", what,
                         local_error->message);
      else
        ctl_usage_error (error, "%s: %s", what, local_error->message);
      return NULL;
    }
  /* With an explicit length, a NUL byte is invalid too. */
  if (!g_utf8_validate (contents, (gssize) length, NULL))
    {
      ctl_usage_error (error, "%s: %s is not UTF-8 text", what,
                       g_str_equal (file, "-") ? "standard input" : file);
      return NULL;
    }
  return g_steal_pointer (&contents);
}

JsonObject *
ctl_parse_json_object (const gchar *text, const gchar *what, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  g_autofree gchar *contents = NULL;
  const gchar *json = text;
  JsonNode *root;

  if (text[0] == '@')
    {
      contents = ctl_read_text_file (text + 1, what, error);
      if (contents == NULL)
        return NULL;
      json = contents;
    }
  if (!json_parser_load_from_data (parser, json, -1, &local_error))
    {
      ctl_usage_error (error, "%s is not valid JSON: %s", what,
                       local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      ctl_usage_error (error, "%s must be a JSON object, e.g. '{\"vlan\": 10}'.",
                       what);
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

gchar *
ctl_json_text (JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);

  return dvs_json_write (node, FALSE);
}

void
ctl_print_json_strings (const gchar *first_name, ...)
{
  g_autoptr(JsonObject) obj = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  va_list ap;

  va_start (ap, first_name);
  for (const gchar *name = first_name; name != NULL;
       name = va_arg (ap, const gchar *))
    json_object_set_string_member (obj, name, va_arg (ap, const gchar *));
  va_end (ap);
  node = json_node_init_object (json_node_alloc (), obj);
  dvs_json_print (node);
}

gboolean
ctl_print_created (Ctl *ctl, GVariant *reply, const gchar *id_name)
{
  const gchar *path, *id;

  g_variant_get (reply, "(&o&s)", &path, &id);
  if (ctl->json)
    ctl_print_json_strings ("path", path, id_name, id, NULL);
  else
    printf ("%s\n", id);
  return TRUE;
}

gboolean
ctl_print_string_result (Ctl *ctl, GVariant *reply, const gchar *name)
{
  const gchar *value;

  g_variant_get (reply, "(&s)", &value);
  if (ctl->json)
    ctl_print_json_strings (name, value, NULL);
  else
    printf ("%s\n", value);
  return TRUE;
}

/* What an error means for the operator. */
typedef struct {
  int status;
  gchar *name;
  gchar *message;
} CtlFailure;

static gboolean
name_is (const gchar *name, const gchar *const *names)
{
  return name != NULL && g_strv_contains (names, name);
}

static void
classify (Ctl *ctl, const GError *error, CtlFailure *out)
{
  static const gchar *const absent[] = {
    "org.freedesktop.DBus.Error.ServiceUnknown",
    "org.freedesktop.DBus.Error.NameHasNoOwner",
    NULL
  };
  static const gchar *const silent[] = {
    "org.freedesktop.DBus.Error.NoReply",
    "org.freedesktop.DBus.Error.Timeout",
    "org.freedesktop.DBus.Error.TimedOut",
    "org.freedesktop.DBus.Error.Disconnected",
    NULL
  };
  static const gchar *const refused[] = {
    "net.dvsqemu.Error.NotAuthorized",
    "org.freedesktop.DBus.Error.AccessDenied",
    "org.freedesktop.DBus.Error.AuthFailed",
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
    NULL
  };
  g_autoptr(GError) copy = g_error_copy (error);
  g_autofree gchar *remote = NULL;

  if (error->domain == CTL_ERROR)
    {
      out->name = g_strdup (ctl_error_names[error->code]);
      out->message = g_strdup (error->message);
      switch ((CtlErrorCode) error->code)
        {
        case CTL_ERROR_USAGE:
          out->status = CTL_EXIT_USAGE;
          break;
        case CTL_ERROR_NO_BUS:
        case CTL_ERROR_NO_LIBVIRT:
          out->status = CTL_EXIT_UNREACHABLE;
          break;
        case CTL_ERROR_NOT_FOUND:
        case CTL_ERROR_AMBIGUOUS:
        case CTL_ERROR_BAD_REPLY:
        case CTL_ERROR_FILE:
        case CTL_ERROR_DOMAIN:
        default:
          out->status = CTL_EXIT_FAILED;
          break;
        }
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      out->status = CTL_EXIT_UNREACHABLE;
      out->name = g_strdup ("org.freedesktop.DBus.Error.Timeout");
      out->message = g_strdup_printf (
          "dvsmgr did not answer within %g s; it may be stuck or busy "
          "(try a longer --timeout)", ctl->timeout_ms / 1000.0);
      return;
    }
  if (!g_dbus_error_is_remote_error (copy))
    {
      /* The connection broke, or something local. */
      out->status = error->domain == G_IO_ERROR ? CTL_EXIT_UNREACHABLE
                                                : CTL_EXIT_FAILED;
      out->name = g_dbus_error_encode_gerror (error);
      out->message = g_strdup (error->message);
      return;
    }

  remote = g_dbus_error_get_remote_error (copy);
  g_dbus_error_strip_remote_error (copy);
  out->name = g_strdup (remote);
  if (name_is (remote, absent)
      || g_str_has_prefix (remote, "org.freedesktop.DBus.Error.Spawn."))
    {
      g_autofree gchar *where = bus_description (ctl);

      out->status = CTL_EXIT_UNREACHABLE;
      out->message = g_strdup_printf (
          "dvsmgr is not running: no one owns %s on %s. %s",
          CTL_BUS_NAME, where,
          g_str_equal (ctl->bus, "system")
              ? "Start it with 'systemctl start dvsmgr'."
              : "Start dvsmgr on that bus, or choose another bus with --bus "
                "or DVS_BUS.");
    }
  else if (name_is (remote, silent))
    {
      out->status = CTL_EXIT_UNREACHABLE;
      out->message = g_strdup_printf ("dvsmgr did not answer: %s",
                                      copy->message);
    }
  else if (name_is (remote, refused))
    {
      out->status = CTL_EXIT_NOT_AUTHORIZED;
      out->message = g_strdup_printf ("not authorized: %s", copy->message);
    }
  else
    {
      out->status = CTL_EXIT_FAILED;
      out->message = g_strdup (copy->message);
    }
}

int
ctl_error_report (Ctl *ctl, const GError *error)
{
  CtlFailure failure = { 0 };

  classify (ctl, error, &failure);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree gchar *text = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, failure.name);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, failure.message);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      text = dvs_json_write (root, FALSE);
      fprintf (stderr, "%s\n", text);
    }
  else
    fprintf (stderr, "dvsctl: %s\n", failure.message);
  g_free (failure.name);
  g_free (failure.message);
  return failure.status;
}
