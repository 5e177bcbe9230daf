/* Mutual TLS for the host channel (docs/host-channel.md): both ends present
 * a certificate signed by the deployment's CA and verify the other's.  The
 * manager takes a host's identity from its certificate's subject common
 * name (CN); the host checks the manager's certificate against the CA and
 * the name it dialled.  Needs a GIO TLS backend (Debian: glib-networking). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A certificate with its private key (PEM files).  Errors name the file.
 * Relative paths are taken from the working directory at the call (call
 * at start-up); each file must exist, be readable and parse. */
GTlsCertificate *dvs_tls_load_identity (const gchar *cert_path,
                                        const gchar *key_path, GError **error);
/* A database of the CA certificates in @ca_path (PEM; relative to the
 * working directory): fails when the file is missing, unreadable or holds
 * no certificate. */
GTlsDatabase *dvs_tls_load_ca (const gchar *ca_path, GError **error);

/* The subject CN of @cert ("h1"), or NULL. */
gchar *dvs_tls_certificate_cn (GTlsCertificate *cert);

/* Server side: wraps @base in a GTlsServerConnection presenting @identity,
 * requiring a client certificate that @ca verifies (any verification error
 * fails the handshake), and runs the handshake.  On success
 * _finish returns the TLS stream and the client's CN. */
void dvs_tls_server_handshake_async (GIOStream *base, GTlsCertificate *identity,
                                     GTlsDatabase *ca, GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GIOStream *dvs_tls_server_handshake_finish (GAsyncResult *result,
                                            gchar **peer_cn, GError **error);

/* Client side: presents @identity, verifies the server against @ca and
 * @server_name (the host name or address dialled). */
void dvs_tls_client_handshake_async (GIOStream *base, const gchar *server_name,
                                     GTlsCertificate *identity, GTlsDatabase *ca,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data);
GIOStream *dvs_tls_client_handshake_finish (GAsyncResult *result,
                                            GError **error);

G_END_DECLS
