/* The host agent: dvs-switchd's end of the host channel to dvsmgr
 * (docs/host-channel.md).  It keeps one connection to the manager —
 * reconnecting with back-off (0.2 s doubling to 5 s) — says host.hello with
 * what this host holds, sends host.heartbeat every heartbeat_ms the manager
 * asked for, serves the manager's switch.apply, switch.remove and
 * dvport.show with the control socket's handlers (no other method), and
 * sends port.state on every link change of a DVport.
 *
 * While disconnected nothing changes on the host: it keeps forwarding from
 * its local store.  Runs on the main context; no threads, no blocking I/O. */
#pragma once

#include "control/control-methods.h"

G_BEGIN_DECLS

typedef struct {
  const gchar *address;                 /* "unix:PATH" or "tls:HOST[:PORT]" */
  const gchar *host_name;               /* named in host.hello */
  const gchar *const *uplinks;          /* may be NULL */
  const gchar *const *transport_zones;  /* may be NULL */
  const gchar *tls_cert;                /* PEM files; needed with tls: */
  const gchar *tls_key;
  const gchar *tls_ca;
} DvsHostAgentOptions;

/* The TCP port of a tls: address without one. */
#define DVS_HOST_AGENT_DEFAULT_PORT 6524

typedef struct _DvsHostAgent DvsHostAgent;

/* Checks @opts (the address, the TLS files load) and starts connecting.
 * @control (its DVport host in particular) must outlive the agent; the
 * agent is the DVport host's link listener until freed. */
DvsHostAgent *dvs_host_agent_new (const DvsHostAgentOptions *opts,
                                  DvsControl *control, GError **error);
/* Closes the connection (no goodbye: the manager sees it end).  NULL ok. */
void dvs_host_agent_free (DvsHostAgent *agent);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsHostAgent, dvs_host_agent_free)

/* Whether the manager accepted this host's hello and the connection is up. */
gboolean dvs_host_agent_is_connected (DvsHostAgent *agent);

G_END_DECLS
