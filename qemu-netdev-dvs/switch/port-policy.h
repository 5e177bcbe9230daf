/* A port's policy as operators write it — blocking, port security, traffic
 * shaping, mirroring — parsed from and rendered to the control protocol's
 * JSON (docs/control-protocol.md, "Policy"). */
#pragma once

#include <json-glib/json-glib.h>
#include "classes/filter-class.h"

G_BEGIN_DECLS

typedef struct {
  gboolean blocked;
  struct dvs_security_config security;   /* .enabled */
  struct dvs_shaper_config shaping;      /* average_kbps 0: direction off */
  gchar *mirror_to;                      /* port name, NULL: none */
  enum dvs_mirror_dir mirror_dir;
} DvsPortPolicy;

void dvs_port_policy_clear (DvsPortPolicy *p);
void dvs_port_policy_copy (DvsPortPolicy *dst, const DvsPortPolicy *src);

/* Applies @node (a JSON object) on top of @p: members present replace their
 * section, absent ones leave it; null removes a section.  On error @p is
 * unchanged and @error (INVALID_PARAMS) names the member. */
gboolean dvs_port_policy_update_from_json (DvsPortPolicy *p, JsonNode *node,
                                           GError **error);
JsonNode *dvs_port_policy_to_json (const DvsPortPolicy *p);

gboolean dvs_shaper_dir_active (const struct dvs_shaper_dir_config *d);
/* "52:54:00:12:34:56" (exactly that form). */
gboolean dvs_parse_mac (const gchar *s, guint8 mac[6]);

G_END_DECLS
