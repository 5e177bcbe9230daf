/* dvs-switchctl: shared state and the commands (switchctl-commands.c); the
 * argument parsing and help live in dvs-switchctl.c. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "dvs-rpc-client.h"

G_BEGIN_DECLS

/* Exit status, documented in docs/dvs-switchctl.md. */
typedef enum {
  CTL_EXIT_OK = 0,
  CTL_EXIT_REFUSED = 1,     /* dvs-switchd answered with an error */
  CTL_EXIT_USAGE = 2,       /* bad command line */
  CTL_EXIT_UNREACHABLE = 3, /* no connection, or it broke or timed out */
} CtlExit;

/* Error domain for CTL_EXIT_* codes: a command fails with the code that
 * becomes the exit status and a message for stderr. */
#define CTL_ERROR (ctl_error_quark ())
GQuark ctl_error_quark (void);

typedef struct {
  gchar *socket_path;
  gboolean json;      /* print results as JSON */
  guint timeout_ms;
  DvsRpcClient *client; /* connected on the first call */
} Ctl;

/* Every command option; each command accepts a subset (see the table in
 * dvs-switchctl.c).  Unset strings are NULL. */
typedef struct {
  gboolean server;
  gchar *vlan;
  gchar *trunk;
  gchar *native;
  gchar *port;
  gchar *switch_id;   /* --switch */
} CtlOptions;

/* Helpers the command files share (switchctl-commands.c). */

/* Calls @method (@params consumed, may be NULL); on failure the error says
 * what the exit status is (CTL_EXIT_REFUSED, CTL_EXIT_UNREACHABLE). */
JsonNode *ctl_call (Ctl *ctl, const gchar *method, JsonObject *params,
                    GError **error);
/* Fails with CTL_EXIT_USAGE and the message; always returns FALSE. */
gboolean ctl_usage_error (GError **error, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);
/* The result as an object, or NULL when it is something else. */
JsonObject *ctl_result_object (JsonNode *result);
/* Prints @result as JSON when --json was given; TRUE when that was all to
 * do. */
gboolean ctl_printed_as_json (Ctl *ctl, JsonNode *result);
/* Reads a JSON object from @source: a file name, "-" for standard input,
 * or with @inline_ok the JSON text itself unless it starts with '@', the
 * rest being the file name ("@-": standard input).  @what starts the
 * messages ("The policy").  An unreadable file or anything but a JSON
 * object is CTL_EXIT_USAGE. */
JsonObject *ctl_read_json_object (const gchar *source, gboolean inline_ok,
                                  const gchar *what, GError **error);

/* A command: @args are its positional arguments, already counted against
 * the command's synopsis.  Prints its output on stdout; on failure returns
 * FALSE with a CTL_ERROR. */
typedef gboolean (*CtlCommandFunc) (Ctl *ctl, const CtlOptions *opts,
                                    gchar **args, GError **error);

gboolean ctl_cmd_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error);
gboolean ctl_cmd_port_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                            GError **error);
gboolean ctl_cmd_port_add (Ctl *ctl, const CtlOptions *opts, gchar **args,
                           GError **error);
gboolean ctl_cmd_port_remove (Ctl *ctl, const CtlOptions *opts, gchar **args,
                              GError **error);
gboolean ctl_cmd_port_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                            GError **error);
gboolean ctl_cmd_port_set_vlan (Ctl *ctl, const CtlOptions *opts,
                                gchar **args, GError **error);
gboolean ctl_cmd_port_set_policy (Ctl *ctl, const CtlOptions *opts,
                                  gchar **args, GError **error);
gboolean ctl_cmd_port_filter_state (Ctl *ctl, const CtlOptions *opts,
                                    gchar **args, GError **error);
gboolean ctl_cmd_mac_dump (Ctl *ctl, const CtlOptions *opts, gchar **args,
                           GError **error);
gboolean ctl_cmd_mac_flush (Ctl *ctl, const CtlOptions *opts, gchar **args,
                            GError **error);
/* The DVswitch and its DVports (switchctl-dvport.c). */
gboolean ctl_cmd_switch_apply (Ctl *ctl, const CtlOptions *opts,
                               gchar **args, GError **error);
gboolean ctl_cmd_switch_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                              GError **error);
gboolean ctl_cmd_switch_get (Ctl *ctl, const CtlOptions *opts, gchar **args,
                             GError **error);
gboolean ctl_cmd_switch_remove (Ctl *ctl, const CtlOptions *opts,
                                gchar **args, GError **error);
gboolean ctl_cmd_dvport_list (Ctl *ctl, const CtlOptions *opts, gchar **args,
                              GError **error);
gboolean ctl_cmd_dvport_show (Ctl *ctl, const CtlOptions *opts, gchar **args,
                              GError **error);
gboolean ctl_cmd_dvport_attach (Ctl *ctl, const CtlOptions *opts,
                                gchar **args, GError **error);
gboolean ctl_cmd_dvport_detach (Ctl *ctl, const CtlOptions *opts,
                                gchar **args, GError **error);
gboolean ctl_cmd_call (Ctl *ctl, const CtlOptions *opts, gchar **args,
                       GError **error);

G_END_DECLS
