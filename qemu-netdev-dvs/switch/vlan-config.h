/* VLAN configuration as people and programs write it: JSON objects on the
 * control socket (docs/control-protocol.md) and text in the config file and
 * on the command line ("10", "trunk=10,20-30", native=N). */
#pragma once

#include <json-glib/json-glib.h>
#include "datapath/dp-types.h"

G_BEGIN_DECLS

void dvs_vlan_config_init_access (struct dvs_vlan_config *c, guint16 tag);

/* An integer (access VLAN) or {"mode":"access","tag":N} or
 * {"mode":"trunk","trunks":[...],"native":N}.  Errors are INVALID_PARAMS of
 * DVS_JSONRPC_ERROR, naming the member at fault. */
gboolean dvs_vlan_config_from_json (JsonNode *node, struct dvs_vlan_config *c,
                                    GError **error);
JsonNode *dvs_vlan_config_to_json (const struct dvs_vlan_config *c);

/* "10,20,30-35" → trunk bitmap (added to @c). */
gboolean dvs_vlan_parse_list (const gchar *list, struct dvs_vlan_config *c,
                              GError **error);
gboolean dvs_vlan_parse_id (const gchar *s, guint16 *out, GError **error);
/* "access 10" / "trunk 10,20-30 native 0", for logs and tables. */
gchar *dvs_vlan_config_describe (const struct dvs_vlan_config *c);

G_END_DECLS
