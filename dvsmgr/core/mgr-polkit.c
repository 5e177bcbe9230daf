/* Authorization of mutating D-Bus methods through polkit.
 *
 * The manager asks the polkit authority on its own bus
 * (org.freedesktop.PolicyKit1.Authority.CheckAuthorization) whether the
 * caller — the sender's unique bus name as a "system-bus-name" subject —
 * may perform the action, asynchronously so the main loop keeps serving
 * hosts meanwhile.  Interactive authentication is allowed when the caller
 * set ALLOW_INTERACTIVE_AUTHORIZATION on its message.  An authority that
 * cannot be reached means "no": a manager never fails open. */
#define G_LOG_DOMAIN "dvsmgr-auth"

#include "mgr.h"

typedef struct {
  DvsMgr *mgr;
  GDBusMethodInvocation *invocation;
  gchar *action;
  DvsMgrAuthorizedFunc func;
  gpointer data;
} AuthCall;

static void
auth_call_free (AuthCall *c)
{
  g_object_unref (c->invocation);
  g_free (c->action);
  g_free (c->data);
  g_free (c);
}

static void
refuse (AuthCall *c, const gchar *why)
{
  g_info ("%s.%s from %s refused by polkit (action %s): %s",
          g_dbus_method_invocation_get_interface_name (c->invocation),
          g_dbus_method_invocation_get_method_name (c->invocation),
          g_dbus_method_invocation_get_sender (c->invocation), c->action, why);
  g_dbus_method_invocation_return_error (c->invocation, DVS_MGR_ERROR, DVS_MGR_ERROR_NOT_AUTHORIZED,
                                         "not authorized for %s: %s", c->action, why);
}

static void
check_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AuthCall *c = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), res, &error);
  gboolean authorized = FALSE, challenge = FALSE;

  if (reply == NULL)
    {
      g_autofree gchar *why = g_strdup_printf ("the polkit authority could not be asked (%s)",
                                               error->message);
      refuse (c, why);
    }
  else
    {
      g_variant_get (reply, "((bb@a{ss}))", &authorized, &challenge, NULL);
      if (authorized)
        c->func (c->mgr, c->invocation, c->data);
      else
        refuse (c, challenge ? "authentication is required (run with an agent or use sudo)"
                             : "the polkit policy does not allow it");
    }
  auth_call_free (c);
}

void
dvs_mgr_authorize (DvsMgr *mgr, GDBusMethodInvocation *invocation, const gchar *action,
                   DvsMgrAuthorizedFunc func, gpointer data)
{
  AuthCall *c = g_new0 (AuthCall, 1);
  GVariantBuilder subject, details;
  guint32 flags = 0;

  c->mgr = mgr;
  c->invocation = g_object_ref (invocation);
  c->action = g_strdup (action);
  c->func = func;
  c->data = data;
  if (!mgr->polkit)
    {
      c->func (mgr, invocation, data);
      auth_call_free (c);
      return;
    }
  if (g_dbus_message_get_flags (g_dbus_method_invocation_get_message (invocation))
      & G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION)
    flags |= 1;   /* AllowUserInteraction */
  g_variant_builder_init (&subject, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&subject, "{sv}", "name",
                         g_variant_new_string (g_dbus_method_invocation_get_sender (invocation) ?: ""));
  g_variant_builder_init (&details, G_VARIANT_TYPE ("a{ss}"));
  g_dbus_connection_call (g_dbus_method_invocation_get_connection (invocation),
                          "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                          "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization",
                          g_variant_new ("((sa{sv})sa{ss}us)", "system-bus-name", &subject, action,
                                         &details, flags, ""),
                          G_VARIANT_TYPE ("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
                          flags ? 120000 : 25000, NULL, check_done, c);
}
