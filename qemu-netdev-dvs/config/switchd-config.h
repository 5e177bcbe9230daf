/* dvs-switchd configuration: defaults, the key file (docs/configuration.md)
 * and the command line, in that order of precedence (last wins). */
#pragma once

#include <glib.h>
#include "datapath/dp-types.h"
#include "dvs-log.h"

G_BEGIN_DECLS

typedef struct {
  gchar *name;
  gchar *socket;
  gboolean server;
  struct dvs_vlan_config vlan;
} DvsPortSpec;

void dvs_port_spec_free (DvsPortSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsPortSpec, dvs_port_spec_free)

typedef struct {
  gchar *config_file;         /* the file read, if any */
  gchar *name;
  gchar *control_socket;
  gchar *metrics_listen;       /* IP:PORT of /metrics; NULL: off */
  gchar *state_dir;           /* local store; "" or "none": no store */
  gint cpu;                   /* -1: datapath not pinned */
  gboolean busy_poll;
  guint poll_ms;              /* idle sleep bound while an uplink is up */
  gboolean hugepages;
  guint memory_mb;
  gchar **eal_args;           /* replaces the generated EAL arguments */
  guint mac_aging;
  guint mbufs;
  DvsLogFormat log_format;
  gboolean verbose;
  GPtrArray *ports;           /* DvsPortSpec */
  /* The manager (docs/host-channel.md); NULL: standalone. */
  gchar *manager;             /* "unix:PATH" or "tls:HOST[:PORT]" */
  gchar *host_name;           /* named in host.hello; default the host name */
  gchar **uplinks;            /* reported in host.hello, never NULL: the
                               * interfaces of uplink_specs, and names
                               * given without '=' (report only) */
  gchar **uplink_specs;       /* "DVSWITCH=IFACE": uplinks to attach
                               * (dvs-switch.h), never NULL */
  gchar **transport_zones;    /* reported in host.hello, never NULL */
  gchar *tls_cert;            /* this host's certificate, its key, and the */
  gchar *tls_key;             /* CA that signs the manager's (PEM files): */
  gchar *tls_ca;              /* needed with a tls: manager */
} DvsSwitchdConfig;

void dvs_switchd_config_free (DvsSwitchdConfig *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsSwitchdConfig, dvs_switchd_config_free)

/* NAME=SOCKET[,server][,client][,vlan=N][,trunks=LIST][,native=N] */
DvsPortSpec *dvs_port_spec_parse (const gchar *spec, GError **error);

/* Builds the configuration from argv (GOption; handles --help, which prints
 * and returns NULL with @error unset: the caller exits 0). */
DvsSwitchdConfig *dvs_switchd_config_from_args (int argc, char **argv,
                                                GError **error);

/* Applies a key file's contents on top of @c (exposed for tests). */
gboolean dvs_switchd_config_apply_keyfile (DvsSwitchdConfig *c, GKeyFile *kf,
                                           const gchar *origin, GError **error);

DvsSwitchdConfig *dvs_switchd_config_new_defaults (void);

G_END_DECLS
