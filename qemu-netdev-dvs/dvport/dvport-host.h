/* The DVports of one host (docs/design.md, "The switch"; docs/dvport.md):
 * the DVswitch the manager delegated here, its DVports with their connection
 * IDs, which vNIC socket each is attached to, and each port's runtime state
 * across link down/up, detach/attach and restarts — kept in the local store.
 *
 * A DVport borrows a switch port (named by its key) while a vNIC is
 * attached: attach restores the last checkpoint into it before the socket is
 * registered; every link down and every detach checkpoints it again.
 *
 * A host may be a member of several DVswitches (up to 15), each its own
 * forwarding domain in the datapath.  DVport keys name switch ports, so they
 * must be unique on a host.  Methods run on the main thread; errors use
 * DVS_JSONRPC_ERROR codes (docs/control-protocol.md). */
#pragma once

#include <json-glib/json-glib.h>
#include "store/local-store.h"
#include "store/runtime-area.h"
#include "switch/dvs-switch.h"

G_BEGIN_DECLS

typedef struct _DvsDvportHost DvsDvportHost;

/* @store may be NULL (nothing persisted); @area may be NULL (counters
 * between checkpoints die with the process).  All must outlive the host. */
DvsDvportHost *dvs_dvport_host_new (DvsSwitch *sw, DvsLocalStore *store,
                                    DvsRuntimeArea *area);
void dvs_dvport_host_free (DvsDvportHost *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsDvportHost, dvs_dvport_host_free)

/* Start-up: the DVswitch, DVports, checkpoints and attachments from the
 * store; vNICs attached before the restart are attached again.  Damaged
 * files are reported with their path and skipped. */
void dvs_dvport_host_restore (DvsDvportHost *h);

/* Final-state apply: makes this host hold exactly @doc (the "switch" object
 * of switch.apply).  Idempotent.  Returns {"id","added","updated","removed",
 * "revoked"} (arrays of port keys). */
JsonNode *dvs_dvport_host_apply (DvsDvportHost *h, JsonNode *doc, GError **error);
gboolean dvs_dvport_host_remove_switch (DvsDvportHost *h, const gchar *id,
                                        GError **error);
/* DVswitch @id's document as applied plus, per port, "attached" and
 * "link".  @id NULL: the only DVswitch held (null if none; an error if
 * several). */
JsonNode *dvs_dvport_host_describe (DvsDvportHost *h, const gchar *id,
                                    GError **error);
/* {"switches": [{"id","name","ports","attached"}]} */
JsonNode *dvs_dvport_host_list (DvsDvportHost *h);

gboolean dvs_dvport_host_attach (DvsDvportHost *h, const gchar *switch_id,
                                 const gchar *key, const gchar *connection,
                                 const gchar *socket, gboolean server,
                                 GError **error);
gboolean dvs_dvport_host_detach (DvsDvportHost *h, const gchar *switch_id,
                                 const gchar *key, GError **error);
/* Is switch port @name a DVport's (attached)?  Such ports are managed by
 * dvport.attach/detach and switch.apply, not by port.* methods. */
gboolean dvs_dvport_host_owns (DvsDvportHost *h, const gchar *name);
/* Is @name the key of a DVport of the DVswitch held here (attached or not)? */
gboolean dvs_dvport_host_has_key (DvsDvportHost *h, const gchar *name);

/* SHA-256 (hex) of DVswitch @id's document as held here
 * (dvs_dvswitch_spec_digest), or NULL with NO_SUCH_PORT. */
gchar *dvs_dvport_host_switch_digest (DvsDvportHost *h, const gchar *id,
                                      GError **error);

/* Called on the main context when an attached DVport's link changes: down
 * after its state is checkpointed (link down or detach with the link up;
 * dvport.show then reports the final counters), up once the vNIC's rings
 * are running (seen within LINK_POLL_MS: the switch reports only link
 * downs to the main context). */
typedef void (*DvsDvportLinkFunc) (DvsDvportHost *h, const gchar *switch_id,
                                   const gchar *key, gboolean up,
                                   gpointer user_data);
/* One listener; @func NULL removes it. */
void dvs_dvport_host_set_link_func (DvsDvportHost *h, DvsDvportLinkFunc func,
                                    gpointer user_data);

/* The DVport's last checkpoint as the local store keeps it (counters and
 * every class state), or NULL when it has none: what a move to another
 * host carries (docs/host-channel.md). */
JsonNode *dvs_dvport_host_checkpoint (DvsDvportHost *h, const gchar *switch_id,
                                      const gchar *key);

/* Config, connection, attachment, link, counters, learned MACs, class
 * states: now if attached, else as last checkpointed. */
JsonNode *dvs_dvport_host_show (DvsDvportHost *h, const gchar *switch_id,
                                const gchar *key, GError **error);

G_END_DECLS
