/* Hold and announce for DvsSwitch ports by name (datapath.h has the
 * semantics; gates are in switch-events.c with the link events). */
#define G_LOG_DOMAIN "dvs-switch"
#include "switch/switch-private.h"

#include <stdio.h>
#include <string.h>

#include "dvs-jsonrpc.h"

gboolean
dvs_switch_port_set_hold (DvsSwitch *sw, const gchar *name, gboolean hold,
                          GError **error)
{
  int idx = switch_port_index (sw, name, TRUE, error), err;

  if (idx < 0)
    return FALSE;
  err = dvs_dp_port_set_hold (sw->dp, (guint16) idx, hold);
  if (err < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INTERNAL_ERROR,
                   "datapath refused to %s port '%s': %s", hold ? "hold" : "release",
                   name, g_strerror (-err));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "PORT", name, "MESSAGE",
                    "port %s: %s", name,
                    hold ? "held (frames for it are queued while its link is down)"
                         : "hold cleared");
  return TRUE;
}

static gboolean
parse_mac (const gchar *text, guint8 mac[6])
{
  guint v[6];
  gchar end;

  if (text == NULL || strlen (text) != 17
      || sscanf (text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
                 &v[4], &v[5], &end) != 6)
    return FALSE;
  for (int i = 0; i < 6; i++)
    mac[i] = (guint8) v[i];
  return TRUE;
}

gboolean
dvs_switch_port_announce (DvsSwitch *sw, const gchar *name, const gchar *mac,
                          GError **error)
{
  guint8 addr[6];
  int idx, err;

  if (!parse_mac (mac, addr) || (addr[0] & 1))
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_INVALID_PARAMS,
                   "invalid MAC address '%s': use a unicast address like 52:54:00:12:34:56",
                   mac ? mac : "");
      return FALSE;
    }
  idx = switch_port_index (sw, name, TRUE, error);
  if (idx < 0)
    return FALSE;
  err = dvs_dp_port_announce (sw->dp, (guint16) idx, addr);
  if (err < 0)
    {
      g_set_error (error, DVS_JSONRPC_ERROR, DVS_JSONRPC_RESOURCE,
                   "cannot announce %s on port '%s': %s", mac, name, g_strerror (-err));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "PORT", name, "MESSAGE",
                    "port %s: announced %s (RARP)", name, mac);
  return TRUE;
}
