/* A DVport checkpoint: the port's runtime state (DvsPortState) as the JSON
 * payload the local store keeps (docs/dvport.md, "Checkpoints").  Class
 * states stay opaque: base64 of what each class serialized, with its name and
 * version. */
#pragma once

#include <json-glib/json-glib.h>
#include "switch/dvs-switch.h"

G_BEGIN_DECLS

#define DVS_CHECKPOINT_FWD_CLASS "l2-learning"

JsonNode *dvs_port_state_to_json (const DvsPortState *st, const gchar *switch_id,
                                  const gchar *port_key, const gchar *connection);
/* Unknown class names are skipped with a warning (a class this build does
 * not have); bad structure is an error naming the member. */
DvsPortState *dvs_port_state_from_json (JsonNode *node, GError **error);

G_END_DECLS
