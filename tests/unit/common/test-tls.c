/* dvs-tls: mutual TLS handshakes over a socketpair in one GMainContext,
 * with certificates made by the openssl CLI into a temporary directory:
 *   ca     the deployment's CA;   other-ca  a CA nobody trusts
 *   server CN=localhost (DNS:localhost, IP:127.0.0.1), signed by ca
 *   h1     CN=h1, client, signed by ca
 *   h2     O=DVS, CN=h2, client, signed by ca
 *   rogue  CN=h1, client, signed by other-ca
 * Skipped when openssl or a GIO TLS backend is missing. */
#include "dvs-rpc-peer.h"
#include "dvs-tls.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#define WAIT_MS 20000

static gchar *dir;
static gboolean have_certs;

static gchar *
path (const gchar *name)
{
  return g_build_filename (dir, name, NULL);
}

static gboolean
openssl (const gchar *const *args, GError **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree gchar *err = NULL;
  gint status;

  g_ptr_array_add (argv, (gpointer) "openssl");
  for (const gchar *const *a = args; *a != NULL; a++)
    g_ptr_array_add (argv, (gpointer) *a);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (dir, (gchar **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH
                     | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                     &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, error))
    {
      g_prefix_error (error, "openssl %s (%s): ", args[0], err);
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_ca (const gchar *name, GError **error)
{
  g_autofree gchar *key = g_strconcat (name, ".key", NULL);
  g_autofree gchar *pem = g_strconcat (name, ".pem", NULL);
  g_autofree gchar *subj = g_strconcat ("/CN=DVS test ", name, NULL);
  const gchar *args[] = { "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                          key, "-out", pem, "-days", "2", "-subj", subj, NULL };

  return openssl (args, error);
}

/* A certificate for @name signed by CA @ca, with the extensions @ext. */
static gboolean
make_cert (const gchar *name, const gchar *subj, const gchar *ca,
           const gchar *ext, GError **error)
{
  g_autofree gchar *key = g_strconcat (name, ".key", NULL);
  g_autofree gchar *csr = g_strconcat (name, ".csr", NULL);
  g_autofree gchar *pem = g_strconcat (name, ".pem", NULL);
  g_autofree gchar *ext_file = g_strconcat (name, ".ext", NULL);
  g_autofree gchar *ext_path = path (ext_file);
  g_autofree gchar *ca_pem = g_strconcat (ca, ".pem", NULL);
  g_autofree gchar *ca_key = g_strconcat (ca, ".key", NULL);
  const gchar *req[] = { "req", "-new", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                         key, "-out", csr, "-subj", subj, NULL };
  const gchar *sign[] = { "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey",
                          ca_key, "-CAcreateserial", "-out", pem, "-days", "2",
                          "-extfile", ext_file, NULL };

  return g_file_set_contents (ext_path, ext, -1, error)
         && openssl (req, error) && openssl (sign, error);
}

static void
make_certs (void)
{
  g_autoptr(GError) error = NULL;
  const gchar *client_ext = "basicConstraints=CA:FALSE\n"
                            "extendedKeyUsage=clientAuth\n";

  if (!make_ca ("ca", &error) || !make_ca ("other-ca", &error)
      || !make_cert ("server", "/CN=localhost", "ca",
                     "basicConstraints=CA:FALSE\n"
                     "extendedKeyUsage=serverAuth\n"
                     "subjectAltName=DNS:localhost,IP:127.0.0.1\n", &error)
      || !make_cert ("h1", "/CN=h1", "ca", client_ext, &error)
      || !make_cert ("h2", "/O=DVS/CN=h2", "ca", client_ext, &error)
      || !make_cert ("rogue", "/CN=h1", "other-ca", client_ext, &error))
    {
      g_test_message ("cannot make test certificates: %s", error->message);
      return;
    }
  have_certs = TRUE;
}

static gboolean
skip_without_tls (void)
{
  if (!have_certs)
    {
      g_test_skip ("openssl could not make certificates");
      return TRUE;
    }
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("no GIO TLS backend (install glib-networking)");
      return TRUE;
    }
  return FALSE;
}

static GTlsCertificate *
identity (const gchar *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *pem_name = g_strconcat (name, ".pem", NULL);
  g_autofree gchar *key_name = g_strconcat (name, ".key", NULL);
  g_autofree gchar *pem = path (pem_name);
  g_autofree gchar *key = path (key_name);
  GTlsCertificate *cert = dvs_tls_load_identity (pem, key, &error);

  g_assert_no_error (error);
  return cert;
}

static GTlsDatabase *
ca_db (const gchar *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree gchar *pem_name = g_strconcat (name, ".pem", NULL);
  g_autofree gchar *pem = path (pem_name);
  GTlsDatabase *db = dvs_tls_load_ca (pem, &error);

  g_assert_no_error (error);
  return db;
}

/* --- One handshake: server and client ends of a socketpair. */

typedef struct {
  GMainContext *context;
  GIOStream *server_base;
  GIOStream *client_base;
  gint server_done;
  gint client_done;
  GIOStream *server_tls;
  GIOStream *client_tls;
  gchar *cn;
  GError *server_error;
  GError *client_error;
} Handshake;

static GIOStream *
stream_from_fd (int fd)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new_from_fd (fd, &error);

  g_assert_no_error (error);
  return G_IO_STREAM (g_socket_connection_factory_create_connection (socket));
}

static void
on_server (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Handshake *hs = user_data;

  hs->server_tls = dvs_tls_server_handshake_finish (res, &hs->cn,
                                                    &hs->server_error);
  /* A refused client is cut off: its handshake (or first read) fails. */
  if (hs->server_tls == NULL)
    g_io_stream_close (hs->server_base, NULL, NULL);
  hs->server_done = 1;
}

static void
on_client (GObject *source, GAsyncResult *res, gpointer user_data)
{
  Handshake *hs = user_data;

  hs->client_tls = dvs_tls_client_handshake_finish (res, &hs->client_error);
  if (hs->client_tls == NULL)
    g_io_stream_close (hs->client_base, NULL, NULL);
  hs->client_done = 1;
}

static void
wait_for (Handshake *hs, gint *flag)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * 1000;

  while (*flag == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (hs->context, FALSE);
      g_usleep (500);
    }
}

/* Runs both handshakes: the client presents @client_id (NULL: none) and
 * trusts @client_ca, dialling @server_name. */
static void
handshake (Handshake *hs, const gchar *client_id, const gchar *client_ca,
           const gchar *server_name)
{
  g_autoptr(GTlsCertificate) server_cert = identity ("server");
  g_autoptr(GTlsDatabase) server_ca = ca_db ("ca");
  g_autoptr(GTlsCertificate) client_cert = client_id ? identity (client_id) : NULL;
  g_autoptr(GTlsDatabase) cca = ca_db (client_ca);
  int fds[2];

  memset (hs, 0, sizeof *hs);
  hs->context = g_main_context_new ();
  g_main_context_push_thread_default (hs->context);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  hs->server_base = stream_from_fd (fds[0]);
  hs->client_base = stream_from_fd (fds[1]);
  dvs_tls_server_handshake_async (hs->server_base, server_cert, server_ca, NULL,
                                  on_server, hs);
  dvs_tls_client_handshake_async (hs->client_base, server_name, client_cert, cca,
                                  NULL, on_client, hs);
  wait_for (hs, &hs->server_done);
  wait_for (hs, &hs->client_done);
}

static void
handshake_clear (Handshake *hs)
{
  if (hs->server_tls != NULL)
    g_io_stream_close (hs->server_tls, NULL, NULL);
  if (hs->client_tls != NULL)
    g_io_stream_close (hs->client_tls, NULL, NULL);
  g_clear_object (&hs->server_tls);
  g_clear_object (&hs->client_tls);
  g_clear_object (&hs->server_base);
  g_clear_object (&hs->client_base);
  g_clear_error (&hs->server_error);
  g_clear_error (&hs->client_error);
  g_clear_pointer (&hs->cn, g_free);
  for (int i = 0; i < 50; i++)
    {
      while (g_main_context_iteration (hs->context, FALSE))
        ;
      g_usleep (1000);
    }
  g_main_context_pop_thread_default (hs->context);
  g_main_context_unref (hs->context);
}

/* The client of a refused handshake fails, either in its own handshake or
 * (TLS 1.3: the server checks the client's certificate after the client's
 * handshake is over) on its first read. */
static void
assert_client_cut_off (Handshake *hs)
{
  g_autoptr(GError) error = NULL;
  gchar byte;
  gssize n;

  if (hs->client_tls == NULL)
    return;
  n = g_input_stream_read (g_io_stream_get_input_stream (hs->client_tls), &byte, 1,
                           NULL, &error);
  g_assert_cmpint (n, <=, 0);
}

/* --- Tests */

typedef struct {
  gint done;
  JsonNode *result;
  GError *error;
} Reply;

static JsonNode *
method_whoami (DvsRpcPeer *peer, JsonObject *params, gpointer user_data,
               GError **error)
{
  return json_node_init_string (json_node_alloc (), user_data);
}

static const DvsRpcPeerMethod methods[] = {
  { "whoami", method_whoami },
  { NULL, NULL },
};

static void
on_reply (DvsRpcPeer *peer, JsonNode *result, const GError *error,
          gpointer user_data)
{
  Reply *r = user_data;

  r->done = 1;
  if (result != NULL)
    r->result = json_node_ref (result);
  if (error != NULL)
    r->error = g_error_copy (error);
}

/* A good host: the handshake succeeds both ways, the server learns the
 * CN, and JSON-RPC flows over the TLS streams. */
static void
test_mutual_ok (void)
{
  Handshake hs;
  g_autoptr(DvsRpcPeer) manager = NULL;
  g_autoptr(DvsRpcPeer) host = NULL;
  Reply r = { 0 };

  if (skip_without_tls ())
    return;
  handshake (&hs, "h1", "ca", "localhost");
  g_assert_no_error (hs.server_error);
  g_assert_no_error (hs.client_error);
  g_assert_cmpstr (hs.cn, ==, "h1");

  manager = dvs_rpc_peer_new (hs.server_tls, "host h1 (tls)", methods,
                              (gpointer) "manager", 0);
  host = dvs_rpc_peer_new (hs.client_tls, "manager (tls)", NULL, NULL, 0);
  dvs_rpc_peer_start (manager);
  dvs_rpc_peer_start (host);
  dvs_rpc_peer_call (host, "whoami", NULL, 0, on_reply, &r);
  wait_for (&hs, &r.done);
  g_assert_no_error (r.error);
  g_assert_cmpstr (json_node_get_string (r.result), ==, "manager");
  json_node_unref (r.result);
  dvs_rpc_peer_close (host);
  dvs_rpc_peer_close (manager);
  g_clear_pointer (&host, dvs_rpc_peer_unref);
  g_clear_pointer (&manager, dvs_rpc_peer_unref);
  handshake_clear (&hs);
}

static void
test_cn_after_other_attributes (void)
{
  Handshake hs;

  if (skip_without_tls ())
    return;
  handshake (&hs, "h2", "ca", "127.0.0.1");
  g_assert_no_error (hs.server_error);
  g_assert_no_error (hs.client_error);
  g_assert_cmpstr (hs.cn, ==, "h2");
  handshake_clear (&hs);
}

static void
test_client_of_other_ca_refused (void)
{
  Handshake hs;

  if (skip_without_tls ())
    return;
  handshake (&hs, "rogue", "ca", "localhost");
  g_assert_nonnull (hs.server_error);
  g_assert_null (hs.server_tls);
  g_assert_null (hs.cn);
  g_test_message ("server: %s", hs.server_error->message);
  assert_client_cut_off (&hs);
  handshake_clear (&hs);
}

static void
test_client_without_cert_refused (void)
{
  Handshake hs;

  if (skip_without_tls ())
    return;
  handshake (&hs, NULL, "ca", "localhost");
  g_assert_nonnull (hs.server_error);
  g_assert_null (hs.server_tls);
  assert_client_cut_off (&hs);
  handshake_clear (&hs);
}

/* The host does not trust a manager its CA did not sign. */
static void
test_server_of_other_ca_refused (void)
{
  Handshake hs;

  if (skip_without_tls ())
    return;
  handshake (&hs, "h1", "other-ca", "localhost");
  g_assert_error (hs.client_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (hs.client_error->message, "not signed by the trusted CA"));
  g_assert_null (hs.client_tls);
  g_assert_nonnull (hs.server_error);
  handshake_clear (&hs);
}

/* Nor one whose certificate names another host than the one dialled. */
static void
test_server_name_mismatch_refused (void)
{
  Handshake hs;

  if (skip_without_tls ())
    return;
  handshake (&hs, "h1", "ca", "manager.example");
  g_assert_error (hs.client_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (hs.client_error->message, "issued for another name"));
  handshake_clear (&hs);
}

static void
test_certificate_cn (void)
{
  g_autoptr(GTlsCertificate) h1 = NULL;
  g_autoptr(GTlsCertificate) server = NULL;
  g_autofree gchar *cn1 = NULL;
  g_autofree gchar *cn2 = NULL;

  if (skip_without_tls ())
    return;
  h1 = identity ("h1");
  server = identity ("server");
  cn1 = dvs_tls_certificate_cn (h1);
  cn2 = dvs_tls_certificate_cn (server);
  g_assert_cmpstr (cn1, ==, "h1");
  g_assert_cmpstr (cn2, ==, "localhost");
  g_assert_null (dvs_tls_certificate_cn (NULL));
}

static void
test_load_errors_name_the_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GTlsDatabase) db = NULL;

  if (skip_without_tls ())
    return;
  cert = dvs_tls_load_identity ("/nonexistent/h1.pem", "/nonexistent/h1.key", &error);
  g_assert_null (cert);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/h1.pem"));
  g_clear_error (&error);
  db = dvs_tls_load_ca ("/nonexistent/ca.pem", &error);
  g_assert_null (db);
  g_assert_nonnull (strstr (error->message, "/nonexistent/ca.pem"));
}

/* Relative paths are resolved when loaded (glib-networking ignores a
 * relative CA file, so every peer was refused), and files that are
 * missing, empty, garbled or not files fail at load, naming the file. */
static void
test_relative_paths_and_bad_files (void)
{
  g_autofree gchar *cwd = g_get_current_dir ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) server = NULL;
  g_autoptr(GTlsCertificate) h1 = identity ("h1");
  g_autoptr(GTlsCertificate) rogue = identity ("rogue");
  g_autoptr(GTlsDatabase) db = NULL;
  static const struct { const gchar *name; const gchar *content; } bad[] = {
    { "empty.pem", "" },
    { "garbage.pem", "not a certificate\n" },
    { "half.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n" },
  };

  if (skip_without_tls ())
    return;
  g_assert_cmpint (chdir (dir), ==, 0);
  server = dvs_tls_load_identity ("server.pem", "./server.key", &error);
  g_assert_no_error (error);
  db = dvs_tls_load_ca ("ca.pem", &error);
  g_assert_no_error (error);
  /* The database does hold the CA: h1 verifies, a certificate of another
   * CA does not. */
  g_assert_cmpint (g_tls_database_verify_chain (db, h1, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_CLIENT,
                                                NULL, NULL, G_TLS_DATABASE_VERIFY_NONE, NULL,
                                                &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpint (g_tls_database_verify_chain (db, rogue, G_TLS_DATABASE_PURPOSE_AUTHENTICATE_CLIENT,
                                                NULL, NULL, G_TLS_DATABASE_VERIFY_NONE, NULL,
                                                NULL), !=, 0);
  g_clear_object (&db);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree gchar *abs = path (bad[i].name);

      g_assert_true (g_file_set_contents (bad[i].name, bad[i].content, -1, NULL));
      db = dvs_tls_load_ca (bad[i].name, &error);
      g_test_message ("%s: %s", bad[i].name, error ? error->message : "(loaded)");
      g_assert_null (db);
      g_assert_nonnull (error);
      g_assert_nonnull (strstr (error->message, abs));
      g_clear_error (&error);
      g_clear_object (&server);
      server = dvs_tls_load_identity (bad[i].name, "server.key", &error);
      g_assert_null (server);
      g_assert_nonnull (strstr (error->message, abs));
      g_clear_error (&error);
    }
  db = dvs_tls_load_ca (".", &error);
  g_assert_null (db);
  g_assert_nonnull (strstr (error->message, "Cannot read the CA certificates"));
  g_clear_error (&error);
  db = dvs_tls_load_ca ("missing.pem", &error);
  g_assert_null (db);
  g_assert_nonnull (strstr (error->message, "missing.pem"));
  g_clear_error (&error);
  g_clear_object (&server);
  server = dvs_tls_load_identity ("server.pem", "missing.key", &error);
  g_assert_null (server);
  g_assert_nonnull (strstr (error->message, "the TLS private key"));
  g_assert_cmpint (chdir (cwd), ==, 0);
}

static void
remove_dir (void)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree gchar *p = path (name);
      g_unlink (p);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  int rc;

  g_test_init (&argc, &argv, NULL);
  dir = g_dir_make_tmp ("dvs-tls-XXXXXX", &error);
  g_assert_no_error (error);
  make_certs ();

  g_test_add_func ("/tls/mutual-ok", test_mutual_ok);
  g_test_add_func ("/tls/cn-after-other-attributes", test_cn_after_other_attributes);
  g_test_add_func ("/tls/client-of-other-ca-refused", test_client_of_other_ca_refused);
  g_test_add_func ("/tls/client-without-cert-refused", test_client_without_cert_refused);
  g_test_add_func ("/tls/server-of-other-ca-refused", test_server_of_other_ca_refused);
  g_test_add_func ("/tls/server-name-mismatch-refused", test_server_name_mismatch_refused);
  g_test_add_func ("/tls/certificate-cn", test_certificate_cn);
  g_test_add_func ("/tls/load-errors-name-the-file", test_load_errors_name_the_file);
  g_test_add_func ("/tls/relative-paths-and-bad-files", test_relative_paths_and_bad_files);
  rc = g_test_run ();
  remove_dir ();
  g_free (dir);
  return rc;
}
