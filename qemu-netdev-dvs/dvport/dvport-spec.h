/* The DVswitch and DVports a host is told to hold — the document of
 * `switch.apply` (docs/dvport.md) — parsed and validated in one place before
 * anything acts on it (STYLE.md habit 1). */
#pragma once

#include <json-glib/json-glib.h>
#include "datapath/dp-types.h"

G_BEGIN_DECLS

typedef struct {
  gchar *key;
  gchar *port_group;          /* NULL: none */
  JsonNode *config;           /* as given (object), NULL: none */
  gchar *connection;          /* NULL: DVPORT_NO_CONNECTION */
  gchar *connectee_vm;        /* may be NULL */
  gchar *connectee_mac;       /* may be NULL; "52:54:00:..." */
  /* effective config: port group's, overridden by the port's */
  struct dvs_vlan_config vlan;
  JsonNode *policy;           /* object, never NULL */
  gchar *canonical;           /* the port's spec as JSON text, for diffs */
  /* A checkpoint the DVport brings from the host it was on (a move): the
   * host installs it when it has no state of its own for the port.
   * Object, NULL: none. */
  JsonNode *state;
  /* Live migration in progress to this host (docs/migration.md): the host
   * the DVport comes from; the port may be attached here, but it does not
   * forward until @state (the source's state at its link down) is here.
   * NULL: not incoming. */
  gchar *incoming_from;
} DvsDvportSpec;

typedef struct {
  gchar *id;
  gchar *name;
  gchar *forwarding_class;
  guint mtu;
  JsonNode *port_groups;      /* as given: array */
  GPtrArray *ports;           /* DvsDvportSpec, in document order */
  GHashTable *by_key;         /* key → DvsDvportSpec (borrowed) */
  gchar *canonical_global;    /* id, name, class, mtu, groups as JSON text */
} DvsDvswitchSpec;

void dvs_dvport_spec_free (DvsDvportSpec *p);
void dvs_dvswitch_spec_free (DvsDvswitchSpec *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DvsDvswitchSpec, dvs_dvswitch_spec_free)

/* Parses the "switch" object of switch.apply.  Every problem is an
 * INVALID_PARAMS error naming the member (port keys included). */
DvsDvswitchSpec *dvs_dvswitch_spec_parse (JsonNode *node, GError **error);
/* The document again (what the store keeps and switch.get shows). */
JsonNode *dvs_dvswitch_spec_to_json (const DvsDvswitchSpec *s);
JsonNode *dvs_dvport_spec_to_json (const DvsDvportSpec *p);
/* SHA-256 (hex) of the document as dvs_dvswitch_spec_to_json() renders it,
 * without whitespace: the digest a host reports in host.hello and the
 * manager compares with what it would push (docs/host-channel.md). */
gchar *dvs_dvswitch_spec_digest (const DvsDvswitchSpec *s);

G_END_DECLS
