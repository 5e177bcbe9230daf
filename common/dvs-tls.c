/* Mutual TLS for the host channel, on GIO's TLS API (glib-networking). */
#define G_LOG_DOMAIN "dvs-tls"

#include "dvs-tls.h"

#include <string.h>

/* @path made absolute against the working directory: glib-networking
 * ignores a relative CA file (with only a warning on stderr), so a
 * manager given `--tls-ca ca.pem` started and then refused every host.
 * Resolved once, at start-up, and the files are checked there: each
 * exists, is readable and holds what it should, or start-up fails naming
 * the file. */
static gchar *
absolute_path (const gchar *path)
{
  return g_canonicalize_filename (path, NULL);
}

/* Reads @path whole (proves it exists and is readable); the error names
 * @what and the file (GLib's message quotes the path too). */
static gboolean
check_readable (const gchar *what, const gchar *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree gchar *contents = NULL;

  if (g_file_get_contents (path, &contents, NULL, &local))
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot read %s %s: %s",
               what, path, local->message);
  return FALSE;
}

GTlsCertificate *
dvs_tls_load_identity (const gchar *cert_path, const gchar *key_path,
                       GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree gchar *cert_abs = absolute_path (cert_path);
  g_autofree gchar *key_abs = absolute_path (key_path);
  GTlsCertificate *cert;

  if (!check_readable ("the TLS certificate", cert_abs, error)
      || !check_readable ("the TLS private key", key_abs, error))
    return NULL;
  cert = g_tls_certificate_new_from_files (cert_abs, key_abs, &local);
  if (cert == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot load the TLS certificate %s with its key %s: %s",
                   cert_abs, key_abs, local->message);
      return NULL;
    }
  return cert;
}

GTlsDatabase *
dvs_tls_load_ca (const gchar *ca_path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autofree gchar *ca_abs = absolute_path (ca_path);
  GList *certs;
  GTlsDatabase *db;

  if (!check_readable ("the CA certificates", ca_abs, error))
    return NULL;
  /* The database would load an empty or garbled file without a word, and
   * then verify nothing. */
  certs = g_tls_certificate_list_new_from_file (ca_abs, &local);
  if (certs == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot load the CA certificates %s: %s", ca_abs,
                   local != NULL ? local->message
                                 : "it holds no PEM certificate");
      return NULL;
    }
  g_list_free_full (certs, g_object_unref);
  db = g_tls_file_database_new (ca_abs, &local);
  if (db == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Cannot load the CA certificates %s: %s", ca_abs,
                   local->message);
      return NULL;
    }
  return db;
}

/* The value of attribute CN in an RFC 4514 distinguished name
 * ("CN=h1,O=DVS"), escapes undone; NULL if there is none. */
static gchar *
dn_common_name (const gchar *dn)
{
  const gchar *p = dn;

  while (*p != '\0')
    {
      g_autoptr(GString) value = NULL;
      gboolean is_cn;

      while (*p == ' ' || *p == ',' || *p == '+')
        p++;
      is_cn = g_ascii_strncasecmp (p, "CN=", 3) == 0;
      if (is_cn)
        p += 3;
      value = g_string_new (NULL);
      /* Up to the next unescaped separator. */
      for (; *p != '\0' && *p != ',' && *p != '+'; p++)
        {
          if (*p == '\\' && p[1] != '\0')
            {
              if (g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]))
                {
                  g_string_append_c (value, (gchar) ((g_ascii_xdigit_value (p[1]) << 4)
                                                     | g_ascii_xdigit_value (p[2])));
                  p += 2;
                }
              else
                g_string_append_c (value, *++p);
              continue;
            }
          g_string_append_c (value, *p);
        }
      if (is_cn && value->len > 0)
        return g_string_free (g_steal_pointer (&value), FALSE);
    }
  return NULL;
}

gchar *
dvs_tls_certificate_cn (GTlsCertificate *cert)
{
  g_autofree gchar *dn = NULL;

  if (cert == NULL)
    return NULL;
  dn = g_tls_certificate_get_subject_name (cert);
  return dn != NULL ? dn_common_name (dn) : NULL;
}

/* ---- handshakes ---- */

typedef struct {
  GTlsConnection *conn;
  GTlsCertificateFlags refused;  /* what the peer's certificate failed */
} Handshake;

static void
handshake_free (Handshake *hs)
{
  g_clear_object (&hs->conn);
  g_free (hs);
}

/* The verdict on the peer's certificate.  A client connection asks only
 * when verification failed; a server connection (glib-networking) asks
 * every time, and refuses unless told to accept: accept exactly the
 * certificates the CA verified, and note why the others failed. */
static gboolean
on_accept_certificate (GTlsConnection *conn, GTlsCertificate *peer_cert,
                       GTlsCertificateFlags errors, gpointer user_data)
{
  Handshake *hs = user_data;

  hs->refused = errors;
  return errors == 0;
}

static gchar *
describe_flags (GTlsCertificateFlags flags)
{
  static const struct {
    GTlsCertificateFlags flag;
    const gchar *text;
  } names[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, "not signed by the trusted CA" },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, "issued for another name" },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not valid yet" },
    { G_TLS_CERTIFICATE_EXPIRED, "expired" },
    { G_TLS_CERTIFICATE_REVOKED, "revoked" },
    { G_TLS_CERTIFICATE_INSECURE, "insecure" },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, "invalid" },
  };
  g_autoptr(GString) s = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag)
      g_string_append_printf (s, "%s%s", s->len > 0 ? ", " : "",
                              names[i].text);
  if (s->len == 0)
    g_string_append (s, "refused");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* The handshake error, saying why the peer's certificate was refused when
 * that is what failed. */
static void
return_handshake_error (GTask *task, Handshake *hs, GError *error,
                        const gchar *peer_what)
{
  if (hs->refused != 0)
    {
      g_autofree gchar *why = describe_flags (hs->refused);

      g_task_return_new_error (task, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                               "TLS handshake failed: the %s certificate is "
                               "%s (%s)", peer_what, why, error->message);
      g_error_free (error);
      return;
    }
  g_prefix_error (&error, "TLS handshake failed: ");
  g_task_return_error (task, error);
}

static void
on_server_handshake (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Handshake *hs = g_task_get_task_data (task);
  GError *error = NULL;
  GTlsCertificate *peer_cert;
  gchar *cn;

  if (!g_tls_connection_handshake_finish (hs->conn, res, &error))
    {
      return_handshake_error (task, hs, error, "client's");
      return;
    }
  peer_cert = g_tls_connection_get_peer_certificate (hs->conn);
  if (peer_cert == NULL
      || g_tls_connection_get_peer_certificate_errors (hs->conn) != 0)
    {
      g_task_return_new_error (task, G_TLS_ERROR,
                               G_TLS_ERROR_CERTIFICATE_REQUIRED,
                               "The client presented no valid certificate: "
                               "a host needs one signed by the CA");
      return;
    }
  cn = dvs_tls_certificate_cn (peer_cert);
  if (cn == NULL)
    {
      g_task_return_new_error (task, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                               "The client's certificate has no subject CN: "
                               "it must name the host (CN=HOST)");
      return;
    }
  g_task_return_pointer (task, cn, g_free);
}

void
dvs_tls_server_handshake_async (GIOStream *base, GTlsCertificate *identity,
                                GTlsDatabase *ca, GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  Handshake *hs = g_new0 (Handshake, 1);
  GError *error = NULL;
  GIOStream *conn;

  g_task_set_source_tag (task, dvs_tls_server_handshake_async);
  g_task_set_task_data (task, hs, (GDestroyNotify) handshake_free);
  conn = g_tls_server_connection_new (base, identity, &error);
  if (conn == NULL)
    {
      g_prefix_error (&error, "Cannot start TLS: ");
      g_task_return_error (task, error);
      return;
    }
  hs->conn = G_TLS_CONNECTION (conn);
  g_object_set (conn, "authentication-mode", G_TLS_AUTHENTICATION_REQUIRED,
                NULL);
  g_tls_connection_set_database (hs->conn, ca);
  g_signal_connect (conn, "accept-certificate",
                    G_CALLBACK (on_accept_certificate), hs);
  g_tls_connection_handshake_async (hs->conn, G_PRIORITY_DEFAULT, cancellable,
                                    on_server_handshake,
                                    g_steal_pointer (&task));
}

GIOStream *
dvs_tls_server_handshake_finish (GAsyncResult *result, gchar **peer_cn,
                                 GError **error)
{
  GTask *task = G_TASK (result);
  Handshake *hs = g_task_get_task_data (task);
  gchar *cn;

  g_return_val_if_fail (g_task_get_source_tag (task)
                        == dvs_tls_server_handshake_async, NULL);
  cn = g_task_propagate_pointer (task, error);
  if (cn == NULL)
    return NULL;
  if (peer_cn != NULL)
    *peer_cn = cn;
  else
    g_free (cn);
  g_signal_handlers_disconnect_by_func (hs->conn, on_accept_certificate, hs);
  return G_IO_STREAM (g_object_ref (hs->conn));
}

static void
on_client_handshake (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Handshake *hs = g_task_get_task_data (task);
  GError *error = NULL;

  if (!g_tls_connection_handshake_finish (hs->conn, res, &error))
    {
      return_handshake_error (task, hs, error, "manager's");
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
dvs_tls_client_handshake_async (GIOStream *base, const gchar *server_name,
                                GTlsCertificate *identity, GTlsDatabase *ca,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(GSocketConnectable) server = g_network_address_new (server_name, 0);
  Handshake *hs = g_new0 (Handshake, 1);
  GError *error = NULL;
  GIOStream *conn;

  g_task_set_source_tag (task, dvs_tls_client_handshake_async);
  g_task_set_task_data (task, hs, (GDestroyNotify) handshake_free);
  conn = g_tls_client_connection_new (base, server, &error);
  if (conn == NULL)
    {
      g_prefix_error (&error, "Cannot start TLS: ");
      g_task_return_error (task, error);
      return;
    }
  hs->conn = G_TLS_CONNECTION (conn);
  /* The default validation checks everything: the CA, the name dialled,
   * the validity period. */
  if (identity != NULL)
    g_tls_connection_set_certificate (hs->conn, identity);
  g_tls_connection_set_database (hs->conn, ca);
  g_signal_connect (conn, "accept-certificate",
                    G_CALLBACK (on_accept_certificate), hs);
  g_tls_connection_handshake_async (hs->conn, G_PRIORITY_DEFAULT, cancellable,
                                    on_client_handshake,
                                    g_steal_pointer (&task));
}

GIOStream *
dvs_tls_client_handshake_finish (GAsyncResult *result, GError **error)
{
  GTask *task = G_TASK (result);
  Handshake *hs = g_task_get_task_data (task);

  g_return_val_if_fail (g_task_get_source_tag (task)
                        == dvs_tls_client_handshake_async, NULL);
  if (!g_task_propagate_boolean (task, error))
    return NULL;
  g_signal_handlers_disconnect_by_func (hs->conn, on_accept_certificate, hs);
  return G_IO_STREAM (g_object_ref (hs->conn));
}
