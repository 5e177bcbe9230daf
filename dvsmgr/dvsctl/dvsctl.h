/* dvsctl: the operator's command line for dvsmgr over D-Bus
 * (docs/dvsctl.md; the API is dvsmgr/dbus/net.dvsqemu.Manager1.xml).
 *
 * dvsctl.c parses the command line and dispatches; dvsctl-bus.c talks to
 * the bus and turns errors into exit statuses; dvsctl-model.c loads the
 * manager's objects and resolves the names operators type; the command
 * files (dvsctl-switch.c, dvsctl-port.c, dvsctl-host.c) each serve one kind
 * of object, dvsctl-snapshot.c the configuration snapshots of switches
 * (docs/snapshots.md), dvsctl-vm.c connects libvirt domains to DVports
 * (docs/libvirt.md); dvsctl-output.c prints tables and JSON. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit status, documented in docs/dvsctl.md. */
typedef enum {
  CTL_EXIT_OK = 0,
  CTL_EXIT_FAILED = 1,          /* the manager refused or failed */
  CTL_EXIT_USAGE = 2,           /* bad command line */
  CTL_EXIT_UNREACHABLE = 3,     /* no bus, manager not on it, no answer */
  CTL_EXIT_NOT_AUTHORIZED = 4,  /* polkit or the bus policy said no */
} CtlExit;

/* Errors dvsctl raises itself; remote errors keep their D-Bus names and
 * are classified in ctl_error_report(). */
#define CTL_ERROR (ctl_error_quark ())
GQuark ctl_error_quark (void);

typedef enum {
  CTL_ERROR_USAGE,      /* exit 2 */
  CTL_ERROR_NOT_FOUND,  /* no object of that name: exit 1 */
  CTL_ERROR_AMBIGUOUS,  /* a name more than one object has: exit 1 */
  CTL_ERROR_BAD_REPLY,  /* the manager answered something unexpected: 1 */
  CTL_ERROR_NO_BUS,     /* could not connect to the bus: exit 3 */
  CTL_ERROR_FILE,       /* an output file exists or cannot be written: 1 */
  CTL_ERROR_DOMAIN,     /* libvirt refused, or the domain's XML does not
                           allow the change: exit 1 */
  CTL_ERROR_NO_LIBVIRT, /* could not connect to libvirt: exit 3 */
  CTL_ERROR_REFUSED,    /* a placement refused, a migration failed: exit 1 */
} CtlErrorCode;

#define CTL_BUS_NAME "net.dvsqemu.Manager1"
#define CTL_MANAGER_PATH "/net/dvsqemu/Manager1"
#define CTL_IFACE_MANAGER "net.dvsqemu.Manager1"
#define CTL_IFACE_SWITCH "net.dvsqemu.Switch1"
#define CTL_IFACE_PORT_GROUP "net.dvsqemu.PortGroup1"
#define CTL_IFACE_PORT "net.dvsqemu.Port1"
#define CTL_IFACE_HOST "net.dvsqemu.Host1"
#define CTL_IFACE_NETWORK "net.dvsqemu.Network1"

/* The kinds of object the manager exports, one interface each. */
typedef enum {
  CTL_KIND_MANAGER,
  CTL_KIND_SWITCH,
  CTL_KIND_PORT_GROUP,
  CTL_KIND_PORT,
  CTL_KIND_HOST,
  CTL_KIND_NETWORK,
  CTL_KIND_LAST
} CtlKind;

/* One exported object: its path and the properties of its net.dvsqemu
 * interface, each checked against the type the XML gives it (a property of
 * another type is dropped, so the getters below can trust what is left). */
typedef struct {
  gchar *path;
  CtlKind kind;
  GVariant *props;     /* a{sv} */
  gchar *sort_key;     /* by switch name, then name or key */
} CtlObject;

typedef struct _CtlModel CtlModel;

/* What a run needs: the bus, the output mode and, once loaded, the
 * manager's objects. */
typedef struct {
  gchar *bus;                 /* "system", "session" or an address */
  gboolean json;
  gint timeout_ms;
  GDBusConnection *connection; /* opened by the first call */
  CtlModel *model;            /* loaded by the first lookup */
} Ctl;

/* Every command option; a command accepts a subset (the table in
 * dvsctl.c).  Unset strings are NULL; numbers stay text until the command
 * parses them with ctl_parse_uint(). */
typedef struct {
  gchar *name;
  gchar *mtu;
  gchar *transport_zone;
  gchar *forwarding_class;
  gchar *vlan;
  gchar *config;
  gchar *ports;
  gchar *switch_ref;
  gchar *portgroup;
  gchar *host;
  gchar *vm;
  gchar *mac;
  gchar *interface_id;
  gchar *libvirt_uri;
  gchar *type;
  gchar *segment;
  gchar *output;        /* -o FILE */
  gchar *comment;
  gchar *mode;
  gchar *target;
  gchar *history_auto;  /* --auto on|off */
  gchar *history_keep;  /* --keep N */
  gchar *port;          /* vm attach --port KEY */
  gchar *socket;        /* vm attach --socket PATH */
  gchar *control_socket;
  gboolean force;
  gboolean no_connections;
  gboolean tcg_workaround;
  gboolean svg;         /* topology --svg */
  gboolean wait;        /* sync --wait */
} CtlOptions;

/* A command: @args are its positional arguments, already counted against
 * its synopsis.  It prints its result on stdout; on failure it returns
 * FALSE with the error (ctl_error_report() prints it). */
typedef gboolean (*CtlCommandFunc) (Ctl *ctl, const CtlOptions *opts,
                                    gchar **args, GError **error);

/* dvsctl-bus.c */

/* Calls @method of @iface on @path of the manager (@params floating, may
 * be NULL) and checks the reply against @reply_type.  @mutating calls
 * allow interactive polkit authorization. */
GVariant *ctl_call (Ctl *ctl, const gchar *path, const gchar *iface,
                    const gchar *method, GVariant *params,
                    const GVariantType *reply_type, gboolean mutating,
                    GError **error);
/* A mutating call whose reply is empty. */
gboolean ctl_call_void (Ctl *ctl, const gchar *path, const gchar *iface,
                        const gchar *method, GVariant *params, GError **error);
/* Prints @error on stderr (as JSON with --json) and returns the exit
 * status it means. */
int ctl_error_report (Ctl *ctl, const GError *error);
/* Fails with CTL_ERROR_USAGE; always returns FALSE. */
gboolean ctl_usage_error (GError **error, const gchar *format, ...)
    G_GNUC_PRINTF (2, 3);
/* Parses @text as an unsigned number in [min, max]; @what names the option
 * in the usage error ("--mtu"). */
gboolean ctl_parse_uint (const gchar *text, const gchar *what, guint64 min,
                         guint64 max, guint64 *out, GError **error);
/* A JSON object given inline, or as @FILE (@- reads standard input);
 * anything else is a usage error naming @what. */
JsonObject *ctl_parse_json_object (const gchar *text, const gchar *what,
                                   GError **error);
/* The contents of @file (- reads standard input), NUL-terminated, as
 * UTF-8 text without NUL bytes (a D-Bus string can carry it); anything
 * else is a usage error naming @what. */
gchar *ctl_read_text_file (const gchar *file, const gchar *what,
                           GError **error);
/* @obj as compact JSON text, for a method argument. */
gchar *ctl_json_text (JsonObject *obj);
/* Prints a JSON object of string members given as NULL-terminated
 * name/value pairs ({"path": ..., "uuid": ...}). */
void ctl_print_json_strings (const gchar *first_name, ...) G_GNUC_NULL_TERMINATED;
/* Prints what a creating call returned, (o s): the id, or with --json
 * {"path": ..., ID_NAME: ...}.  Returns TRUE. */
gboolean ctl_print_created (Ctl *ctl, GVariant *reply, const gchar *id_name);
/* Prints a call's single string result, or with --json {NAME: ...}. */
gboolean ctl_print_string_result (Ctl *ctl, GVariant *reply, const gchar *name);

/* -o FILE (dvsctl-snapshot.c): checks the option before any call (a name,
 * no such file unless --force); then writes @text to standard output (no
 * -o, or -o -) or whole to FILE (mode 0600, a temporary file renamed). */
gboolean ctl_output_check (const CtlOptions *opts, GError **error);
gboolean ctl_output_text (const CtlOptions *opts, const gchar *text,
                          GError **error);

/* dvsctl-model.c */

/* The objects of @kind, sorted (switch name, then name or key); borrowed
 * from the model, which is loaded (GetManagedObjects) on first use. */
GPtrArray *ctl_objects (Ctl *ctl, CtlKind kind, GError **error);
/* The object at @path if the model has it. */
CtlObject *ctl_object_at (Ctl *ctl, const gchar *path);
/* Finds the object an operator means by @ref: switches, port groups and
 * networks by UUID or name, ports by key, hosts by name.  A name several
 * objects have is an error listing their UUIDs. */
CtlObject *ctl_resolve (Ctl *ctl, CtlKind kind, const gchar *ref,
                        GError **error);
/* The manager object's own properties (Version, OutOfSyncCount). */
CtlObject *ctl_manager (Ctl *ctl, GError **error);
void ctl_model_free (CtlModel *model);

/* Property getters: the value, or ""/0/FALSE/empty when absent. */
const gchar *ctl_prop_string (const CtlObject *obj, const gchar *name);
guint32 ctl_prop_uint (const CtlObject *obj, const gchar *name);
guint64 ctl_prop_uint64 (const CtlObject *obj, const gchar *name);
gint64 ctl_prop_int64 (const CtlObject *obj, const gchar *name);
gboolean ctl_prop_bool (const CtlObject *obj, const gchar *name);
/* Whether the object has the property (a manager as new as dvsctl). */
gboolean ctl_prop_has (const CtlObject *obj, const gchar *name);
/* "as" and "ao" properties; never NULL. */
gchar **ctl_prop_strv (const CtlObject *obj, const gchar *name);
/* A *Json property parsed; NULL when empty or not JSON. */
JsonNode *ctl_prop_json (const CtlObject *obj, const gchar *name);

/* How an object is called in messages and tables: a switch, port group or
 * network by name, a port by key, a host by name; the path when the model
 * does not know it. */
const gchar *ctl_object_label (Ctl *ctl, const gchar *path);
/* The object as a JSON object: its path, then its properties in the XML's
 * order with snake_case names ("ForwardingClass" -> "forwarding_class");
 * *Json properties parsed ("ConfigJson" -> "config", "" -> null); object
 * paths as the
 * UUID (or key) of the object they name. */
JsonNode *ctl_object_to_json (Ctl *ctl, const CtlObject *obj);
/* Prints @objects as a JSON array of ctl_object_to_json(). */
void ctl_print_objects_json (Ctl *ctl, GPtrArray *objects);
/* The switch with the UUID @uuid, if the model has it. */
CtlObject *ctl_switch_by_uuid (Ctl *ctl, const gchar *uuid);

/* dvsctl-switch.c */

/* The switch's global config as SetConfig takes it, from its properties:
 * name, forwarding class, MTU, transport zone and, when the manager has
 * them, the history policy.  SetConfig replaces the whole config, so a
 * command changes members of this and sends it all. */
JsonObject *ctl_switch_current_config (const CtlObject *sw);

/* The commands (dvsctl-switch.c, dvsctl-port.c, dvsctl-host.c,
 * dvsctl-snapshot.c). */
#define CTL_DECLARE_COMMAND(fn) \
  gboolean fn (Ctl *ctl, const CtlOptions *opts, gchar **args, GError **error)

CTL_DECLARE_COMMAND (ctl_cmd_switch_list);
CTL_DECLARE_COMMAND (ctl_cmd_switch_show);
CTL_DECLARE_COMMAND (ctl_cmd_switch_create);
CTL_DECLARE_COMMAND (ctl_cmd_switch_set);
CTL_DECLARE_COMMAND (ctl_cmd_switch_delete);
CTL_DECLARE_COMMAND (ctl_cmd_switch_join);
CTL_DECLARE_COMMAND (ctl_cmd_switch_leave);
CTL_DECLARE_COMMAND (ctl_cmd_switch_export);
CTL_DECLARE_COMMAND (ctl_cmd_switch_save);
CTL_DECLARE_COMMAND (ctl_cmd_switch_versions);
CTL_DECLARE_COMMAND (ctl_cmd_switch_show_version);
CTL_DECLARE_COMMAND (ctl_cmd_switch_diff);
CTL_DECLARE_COMMAND (ctl_cmd_switch_import);
CTL_DECLARE_COMMAND (ctl_cmd_switch_rollback);
CTL_DECLARE_COMMAND (ctl_cmd_switch_history);
CTL_DECLARE_COMMAND (ctl_cmd_diff);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_list);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_show);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_create);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_set);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_add_ports);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_allocate);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_delete);
CTL_DECLARE_COMMAND (ctl_cmd_port_list);
CTL_DECLARE_COMMAND (ctl_cmd_port_show);
CTL_DECLARE_COMMAND (ctl_cmd_port_connect);
CTL_DECLARE_COMMAND (ctl_cmd_port_disconnect);
CTL_DECLARE_COMMAND (ctl_cmd_port_revoke);
CTL_DECLARE_COMMAND (ctl_cmd_port_move);
CTL_DECLARE_COMMAND (ctl_cmd_port_set);
CTL_DECLARE_COMMAND (ctl_cmd_port_stats);
CTL_DECLARE_COMMAND (ctl_cmd_host_list);
CTL_DECLARE_COMMAND (ctl_cmd_host_show);
CTL_DECLARE_COMMAND (ctl_cmd_host_register);
CTL_DECLARE_COMMAND (ctl_cmd_host_unregister);
CTL_DECLARE_COMMAND (ctl_cmd_host_resync);
CTL_DECLARE_COMMAND (ctl_cmd_network_list);
CTL_DECLARE_COMMAND (ctl_cmd_network_create);
CTL_DECLARE_COMMAND (ctl_cmd_network_delete);
CTL_DECLARE_COMMAND (ctl_cmd_sync);

/* Follows the push under way until every host holds its final state (the
 * queues empty), showing progress on stderr; fails when only hosts that
 * are not connected are left or --timeout passes.  Returns the last
 * GetOutOfSync entries (an empty array), or NULL with @error. */
JsonNode *ctl_wait_in_sync (Ctl *ctl, GError **error);
CTL_DECLARE_COMMAND (ctl_cmd_show);
/* dvsctl-topology.c */
CTL_DECLARE_COMMAND (ctl_cmd_topology);
CTL_DECLARE_COMMAND (ctl_cmd_vm_attach);
CTL_DECLARE_COMMAND (ctl_cmd_vm_detach);
/* dvsctl-placement.c */
CTL_DECLARE_COMMAND (ctl_cmd_vm_check);
CTL_DECLARE_COMMAND (ctl_cmd_vm_place);
CTL_DECLARE_COMMAND (ctl_cmd_vm_migrate);
CTL_DECLARE_COMMAND (ctl_cmd_host_hide_network);
CTL_DECLARE_COMMAND (ctl_cmd_host_unhide_network);
CTL_DECLARE_COMMAND (ctl_cmd_host_set_migration_uri);
CTL_DECLARE_COMMAND (ctl_cmd_portgroup_set_network);

G_END_DECLS
