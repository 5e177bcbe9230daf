/* dvs-switchctl: the command line for dvs-switchd's control socket
 * (docs/dvs-switchctl.md, docs/control-protocol.md).
 *
 * Parsing happens in two rounds: the global options up to the command
 * words, then the command's own options (the global ones are accepted there
 * too, so `dvs-switchctl port list --json` works). */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "switchctl.h"

#define DEFAULT_TIMEOUT_S 10.0
#define MAX_TIMEOUT_S 3600.0

typedef enum {
  OPT_SERVER = 1 << 0,
  OPT_VLAN = 1 << 1,
  OPT_TRUNK = 1 << 2,
  OPT_NATIVE = 1 << 3,
  OPT_PORT = 1 << 4,
  OPT_SWITCH = 1 << 5,
} CtlOptionFlags;

typedef struct {
  const gchar *name;     /* one or two words: "show", "port add" */
  const gchar *args;     /* positional arguments, optional ones last */
  guint min_args;
  const gchar *synopsis; /* everything after the name */
  CtlOptionFlags options;
  CtlCommandFunc func;
  const gchar *summary;
  const gchar *help;     /* description and options, for --help */
} CtlCommand;

#define VLAN_OPTIONS_HELP \
  "      --vlan=N        an access port in VLAN N (0-4094; 0 is untagged)\n" \
  "      --trunk=LIST    a trunk carrying the VLANs in LIST, e.g. 10,20,30-39\n" \
  "      --native=N      with --trunk: untagged frames belong to VLAN N\n" \
  "                      (default 0)\n"

#define SWITCH_OPTION_HELP \
  "      --switch=ID     the DVswitch (default: the only one dvs-switchd holds)\n"

static const CtlCommand commands[] = {
  { "show", "", 0, "", 0, ctl_cmd_show,
    "Show the switch summary",
    "Shows the switch's name, version, ports, MAC table size and datapath\n"
    "counters (method switch.show).\n" },
  { "port list", "", 0, "", 0, ctl_cmd_port_list,
    "List the ports",
    "Lists the ports as a table: NAME LINK MODE VLAN SOCKET (method\n"
    "port.list).  VLAN is the access VLAN, or \"trunk LIST\" for a trunk.\n" },
  { "port add", "NAME SOCKET", 2,
    "NAME SOCKET [--server] [--vlan N | --trunk LIST [--native N]]",
    OPT_SERVER | OPT_VLAN | OPT_TRUNK | OPT_NATIVE, ctl_cmd_port_add,
    "Add a vhost-user port",
    "Adds the port NAME ([A-Za-z0-9_.-], up to 32 characters) on the\n"
    "vhost-user socket SOCKET (method port.add).  By default QEMU is the\n"
    "server: it creates SOCKET and dvs-switchd connects to it, retrying every\n"
    "second until it appears.  A relative SOCKET is made absolute.  The port\n"
    "is an access port in VLAN 0 (untagged) unless told otherwise.\n"
    "\n"
    "Options:\n"
    "      --server        dvs-switchd creates SOCKET and QEMU connects to it\n"
    VLAN_OPTIONS_HELP },
  { "port remove", "NAME", 1, "NAME", 0, ctl_cmd_port_remove,
    "Remove a port",
    "Removes the port NAME (method port.remove).\n" },
  { "port show", "NAME", 1, "NAME", 0, ctl_cmd_port_show,
    "Show a port's config, link and counters",
    "Shows the port NAME: its socket, mode, link state, VLAN config and\n"
    "policy, then its counters (method port.show).  rx counts the frames the\n"
    "switch received from the port's guest, tx the frames it delivered to\n"
    "it; \"mirrored\" the copies of its frames sent to a mirror port.\n" },
  { "port set-vlan", "NAME", 1, "NAME (--vlan N | --trunk LIST [--native N])",
    OPT_VLAN | OPT_TRUNK | OPT_NATIVE, ctl_cmd_port_set_vlan,
    "Change a port's VLAN config",
    "Makes the port NAME an access port (--vlan) or a trunk (--trunk)\n"
    "(method port.set-vlan).\n"
    "\n"
    "Options:\n"
    VLAN_OPTIONS_HELP },
  { "port set-policy", "NAME POLICY-JSON", 2, "NAME POLICY-JSON", 0,
    ctl_cmd_port_set_policy,
    "Change a port's policy",
    "Changes the policy of the port NAME (method port.set-policy).\n"
    "POLICY-JSON is a JSON object, given inline or as @FILE (@- reads\n"
    "standard input), with any of the sections blocked, security, shaping\n"
    "and mirror: each section given replaces the port's, null removes it,\n"
    "the others stay.  Ports of DVports are changed through switch apply.\n"
    "\n"
    "Examples:\n"
    "  '{\"shaping\": {\"ingress\": {\"average_kbps\": 10000}}}'\n"
    "  '{\"security\": {\"allowed_macs\": [\"52:54:00:12:34:56\"]}}'\n"
    "  '{\"blocked\": true}'   '{\"mirror\": {\"to\": \"monitor\"}}'\n" },
  { "port filter-state", "NAME", 1, "NAME", 0, ctl_cmd_port_filter_state,
    "Show the runtime state of a port's filters",
    "Lists the filter classes of the port NAME that hold runtime state\n"
    "as CLASS VERSION BYTES STATE: the class, the version of its state's\n"
    "format, the state's size and what it holds (method port.filter-state),\n"
    "then the states this dvs-switchctl can decode: the shaper's bucket\n"
    "levels per direction.  The opaque state, in base64, is in --json.\n" },
  { "mac dump", "", 0, "[--port NAME] [--vlan N]", OPT_PORT | OPT_VLAN,
    ctl_cmd_mac_dump,
    "List the learned MAC addresses",
    "Lists the MAC table as MAC VLAN PORT AGE, AGE in seconds since the\n"
    "address was last seen (method mac.dump).\n"
    "\n"
    "Options:\n"
    "      --port=NAME     only the addresses learned on port NAME\n"
    "      --vlan=N        only the addresses in VLAN N\n" },
  { "mac flush", "", 0, "[--port NAME]", OPT_PORT, ctl_cmd_mac_flush,
    "Forget learned MAC addresses",
    "Empties the MAC table, or only the entries of one port, and says how\n"
    "many entries went (method mac.flush).\n"
    "\n"
    "Options:\n"
    "      --port=NAME     only the addresses learned on port NAME\n" },
  { "switch apply", "FILE", 1, "FILE|-", 0, ctl_cmd_switch_apply,
    "Make this host hold a DVswitch document",
    "Makes dvs-switchd hold exactly the DVswitch described in FILE (- for\n"
    "standard input): its port groups and DVports, each with its config and\n"
    "connection (method switch.apply).  Prints the keys of the DVports it\n"
    "added, updated and removed, and those whose vNIC it detached because\n"
    "their connection changed (revoked).  Applying the same document again\n"
    "changes nothing.  The format is in docs/dvport.md; the \"attached\" and\n"
    "\"link\" members of switch get --json are left out, so its output can be\n"
    "edited and applied.\n" },
  { "switch list", "", 0, "", 0, ctl_cmd_switch_list,
    "List the DVswitches this host is a member of",
    "Lists the DVswitches dvs-switchd holds as ID NAME PORTS ATTACHED\n"
    "(method switch.list).\n" },
  { "switch get", "", 0, "[--switch ID]", OPT_SWITCH, ctl_cmd_switch_get,
    "Show a DVswitch this host holds",
    "Shows a DVswitch dvs-switchd holds (--switch ID, or the only one): its\n"
    "id, name, forwarding class and MTU, its port groups, then its DVports\n"
    "as KEY PORT-GROUP CONNECTION ATTACHED LINK (method switch.get).  With\n"
    "--json, the document as applied, each port with \"attached\" and\n"
    "\"link\"; null if none.\n"
    "\n"
    "Options:\n"
    SWITCH_OPTION_HELP },
  { "switch remove", "ID", 1, "ID", 0, ctl_cmd_switch_remove,
    "Remove the DVswitch from this host",
    "Detaches every DVport of the DVswitch ID and deletes it, its DVports\n"
    "and their saved state from this host (method switch.remove).\n" },
  { "dvport list", "", 0, "[--switch ID]", OPT_SWITCH, ctl_cmd_dvport_list,
    "List the DVports",
    "Lists the DVports of a DVswitch dvs-switchd holds (--switch ID, or the\n"
    "only one) as KEY PORT-GROUP CONNECTION VM ATTACHED LINK (method\n"
    "switch.get): CONNECTION is the connection ID of the vNIC the port is\n"
    "for, VM its virtual machine.\n"
    "\n"
    "Options:\n"
    SWITCH_OPTION_HELP },
  { "dvport show", "KEY", 1, "KEY [--switch ID]", OPT_SWITCH,
    ctl_cmd_dvport_show,
    "Show a DVport's config, state and counters",
    "Shows the DVport KEY (method dvport.show): its VLAN and policy, its\n"
    "connection, its attachment (socket, link), where its state comes from\n"
    "(live, checkpoint or none), its counters, the MAC addresses learned on\n"
    "it while attached (method mac.dump), and each class's state as\n"
    "CLASS VERSION BYTES STATE, then decoded: the learned MACs saved with\n"
    "their ages, the shaper's bucket levels.  With --json, the dvport.show\n"
    "object (the states in base64).\n"
    "\n"
    "Options:\n"
    SWITCH_OPTION_HELP },
  { "dvport attach", "KEY CONNECTION SOCKET", 3,
    "KEY CONNECTION SOCKET [--server] [--switch ID]", OPT_SERVER | OPT_SWITCH,
    ctl_cmd_dvport_attach,
    "Attach a vNIC's socket to a DVport",
    "Attaches the vhost-user socket SOCKET to the DVport KEY (method\n"
    "dvport.attach).  CONNECTION must be the DVport's current connection ID:\n"
    "a vNIC attaches only to the DVport its connection names.  The DVport\n"
    "continues from its last saved state.  By default QEMU is the server\n"
    "and dvs-switchd connects to SOCKET, retrying every second.  A relative\n"
    "SOCKET is made absolute.\n"
    "\n"
    "Options:\n"
    "      --server        dvs-switchd creates SOCKET and QEMU connects to it\n"
    SWITCH_OPTION_HELP },
  { "dvport detach", "KEY", 1, "KEY [--switch ID]", OPT_SWITCH,
    ctl_cmd_dvport_detach,
    "Detach the vNIC from a DVport",
    "Detaches the vNIC from the DVport KEY, saving the port's state for its\n"
    "next attachment (method dvport.detach).  Detaching a DVport that is\n"
    "not attached does nothing.\n"
    "\n"
    "Options:\n"
    SWITCH_OPTION_HELP },
  { "call", "METHOD JSON-PARAMS", 1, "METHOD [JSON-PARAMS]", 0, ctl_cmd_call,
    "Call a control method, print the result",
    "Calls METHOD with JSON-PARAMS (a JSON object, default {}) and prints\n"
    "the result as JSON.  The methods are in docs/control-protocol.md.\n"
    "Example: dvs-switchctl call port.show '{\"name\": \"vm1\"}'\n" },
};

static const gchar global_help[] =
  "Options:\n"
  "  -s, --socket=PATH     dvs-switchd's control socket (default:\n"
  "                        $DVS_SWITCHD_SOCKET, else\n"
  "                        /run/dvs/HOSTNAME/control.sock, else the\n"
  "                        only /run/dvs/*/control.sock)\n"
  "      --json            print the result as JSON, for scripts\n"
  "      --timeout=SECONDS give up on dvs-switchd after SECONDS (default 10)\n"
  "  -h, --help            show help, for a command too: COMMAND --help\n"
  "      --version         show the version\n";

static const gchar exit_help[] =
  "Exit status: 0 done, 1 dvs-switchd refused, 2 usage error,\n"
  "3 dvs-switchd unreachable (not running, no permission, no answer).\n";

typedef struct {
  gchar *socket_path;
  gboolean json;
  gdouble timeout_s;
  gboolean help;
  gboolean version;
  CtlOptions cmd;
} ParsedArgs;

static void
parsed_args_clear (ParsedArgs *p)
{
  g_free (p->socket_path);
  g_free (p->cmd.vlan);
  g_free (p->cmd.trunk);
  g_free (p->cmd.native);
  g_free (p->cmd.port);
  g_free (p->cmd.switch_id);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ParsedArgs, parsed_args_clear)

static void
print_command_list (FILE *out)
{
  fprintf (out, "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree gchar *usage = g_strjoin (" ", commands[i].name,
                                           commands[i].synopsis, NULL);

      g_strchomp (usage);
      if (strlen (usage) <= 34)
        fprintf (out, "  %-34s %s\n", usage, commands[i].summary);
      else
        fprintf (out, "  %s\n  %-34s %s\n", usage, "", commands[i].summary);
    }
  fprintf (out, "  %-34s %s\n", "help [COMMAND]", "Show help, for a command too");
}

static void
print_main_help (FILE *out)
{
  fprintf (out, "Usage: dvs-switchctl [OPTION...] COMMAND [ARG...]\n\n"
                "Controls a running dvs-switchd through its control socket.\n\n");
  print_command_list (out);
  fprintf (out, "\n%s\n%s\nRun 'dvs-switchctl COMMAND --help' for a command's "
                "arguments and options.\n", global_help, exit_help);
}

static void
print_command_usage (FILE *out, const CtlCommand *cmd)
{
  fprintf (out, "Usage: dvs-switchctl [OPTION...] %s%s%s\n", cmd->name,
           *cmd->synopsis != '\0' ? " " : "", cmd->synopsis);
}

static void
print_command_help (const CtlCommand *cmd)
{
  print_command_usage (stdout, cmd);
  printf ("\n%s\nGlobal options (see dvs-switchctl --help): -s PATH, --json, "
          "--timeout SECONDS\n", cmd->help);
}

/* The commands of a group ("port") for help and errors. */
static void
print_group (FILE *out, const gchar *group)
{
  fprintf (out, "Usage: dvs-switchctl [OPTION...] %s SUBCOMMAND [ARG...]\n\n"
                "Subcommands:\n", group);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const gchar *name = commands[i].name;

      if (g_str_has_prefix (name, group) && name[strlen (group)] == ' ')
        fprintf (out, "  %-34s %s\n", name, commands[i].summary);
    }
  fprintf (out, "\nRun 'dvs-switchctl %s SUBCOMMAND --help' for more.\n",
           group);
}

static gboolean
is_group (const gchar *word)
{
  g_autofree gchar *prefix = g_strconcat (word, " ", NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_has_prefix (commands[i].name, prefix))
      return TRUE;
  return FALSE;
}

/* Finds the command named by the first one or two @words; *n_words says
 * how many it used. */
static const CtlCommand *
find_command (gchar **words, guint *n_words)
{
  guint n = g_strv_length (words);

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto(GStrv) parts = g_strsplit (commands[i].name, " ", 2);
      guint len = g_strv_length (parts);

      if (len <= n && g_strcmp0 (parts[0], words[0]) == 0
          && (len == 1 || g_strcmp0 (parts[1], words[1]) == 0))
        {
          *n_words = len;
          return &commands[i];
        }
    }
  return NULL;
}

static int
usage_failure (const CtlCommand *cmd, const gchar *group, const gchar *message)
{
  fprintf (stderr, "dvs-switchctl: %s\n", message);
  if (cmd != NULL)
    {
      print_command_usage (stderr, cmd);
      fprintf (stderr, "Run 'dvs-switchctl %s --help' for more.\n", cmd->name);
    }
  else if (group != NULL)
    print_group (stderr, group);
  else
    {
      fprintf (stderr, "Usage: dvs-switchctl [OPTION...] COMMAND [ARG...]\n\n");
      print_command_list (stderr);
      fprintf (stderr, "Run 'dvs-switchctl --help' for more.\n");
    }
  return CTL_EXIT_USAGE;
}

static GOptionEntry *
build_entries (ParsedArgs *p, CtlOptionFlags flags)
{
  const GOptionEntry all[] = {
    { "socket", 's', 0, G_OPTION_ARG_FILENAME, &p->socket_path, NULL, NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &p->json, NULL, NULL },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &p->timeout_s, NULL, NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &p->help, NULL, NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &p->version, NULL, NULL },
  };
  const struct {
    CtlOptionFlags flag;
    GOptionEntry entry;
  } per_command[] = {
    { OPT_SERVER, { "server", 0, 0, G_OPTION_ARG_NONE, &p->cmd.server, NULL, NULL } },
    { OPT_VLAN, { "vlan", 0, 0, G_OPTION_ARG_STRING, &p->cmd.vlan, NULL, NULL } },
    { OPT_TRUNK, { "trunk", 0, 0, G_OPTION_ARG_STRING, &p->cmd.trunk, NULL, NULL } },
    { OPT_NATIVE, { "native", 0, 0, G_OPTION_ARG_STRING, &p->cmd.native, NULL, NULL } },
    { OPT_PORT, { "port", 0, 0, G_OPTION_ARG_STRING, &p->cmd.port, NULL, NULL } },
    { OPT_SWITCH, { "switch", 0, 0, G_OPTION_ARG_STRING, &p->cmd.switch_id, NULL, NULL } },
  };
  GArray *entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));

  g_array_append_vals (entries, all, G_N_ELEMENTS (all));
  for (gsize i = 0; i < G_N_ELEMENTS (per_command); i++)
    if (flags & per_command[i].flag)
      g_array_append_val (entries, per_command[i].entry);
  return (GOptionEntry *) g_array_free (entries, FALSE);
}

/* Parses the options in @argv (argv[0] is skipped), leaving the rest. */
static gboolean
parse_options (ParsedArgs *p, CtlOptionFlags flags, gboolean stop_at_word,
               gchar ***argv, GError **error)
{
  g_autofree GOptionEntry *entries = build_entries (p, flags);
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_strict_posix (context, stop_at_word);
  g_option_context_add_main_entries (context, entries, NULL);
  return g_option_context_parse_strv (context, argv, error);
}

/* The socket of the one dvs-switchd running here under another name than
 * the host's (a unit dvs-switchd@dvs0, the libvirt hook's default), or NULL
 * when there is none or more than one: then the caller must choose. */
static gchar *
only_running_socket (void)
{
  GDir *dir = g_dir_open ("/run/dvs", 0, NULL);
  gchar *found = NULL;
  guint n = 0;
  const gchar *entry;

  if (dir == NULL)
    return NULL;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      gchar *path = g_build_filename ("/run/dvs", entry, "control.sock", NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS) && n++ == 0)
        found = g_steal_pointer (&path);
      g_free (path);
    }
  g_dir_close (dir);
  if (n != 1)
    g_clear_pointer (&found, g_free);
  return found;
}

static gchar *
default_socket_path (void)
{
  const gchar *env = g_getenv ("DVS_SWITCHD_SOCKET");
  gchar *by_host, *only;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  by_host = g_build_filename ("/run/dvs", g_get_host_name (), "control.sock",
                              NULL);
  if (g_file_test (by_host, G_FILE_TEST_EXISTS))
    return by_host;
  only = only_running_socket ();
  if (only == NULL)
    return by_host;
  g_free (by_host);
  return only;
}

static int
run_command (const CtlCommand *cmd, ParsedArgs *p, gchar **args)
{
  g_autoptr(GError) error = NULL;
  Ctl ctl = { 0 };
  int status = CTL_EXIT_OK;

  ctl.socket_path = p->socket_path != NULL ? g_strdup (p->socket_path)
                                           : default_socket_path ();
  ctl.json = p->json;
  ctl.timeout_ms = (guint) (p->timeout_s * 1000.0 + 0.5);

  if (!cmd->func (&ctl, &p->cmd, args, &error))
    {
      status = error->domain == CTL_ERROR ? error->code
                                          : CTL_EXIT_UNREACHABLE;
      if (status == CTL_EXIT_USAGE)
        usage_failure (cmd, NULL, error->message);
      else
        fprintf (stderr, "dvs-switchctl: %s\n", error->message);
    }
  g_clear_pointer (&ctl.client, dvs_rpc_client_free);
  g_free (ctl.socket_path);
  return status;
}

/* Checks the count of positional arguments against the synopsis. */
static gboolean
check_args (const CtlCommand *cmd, gchar **args, gchar **message)
{
  g_auto(GStrv) names = g_strsplit (cmd->args, " ", -1);
  guint max = *cmd->args != '\0' ? g_strv_length (names) : 0;
  guint n = g_strv_length (args);

  if (n < cmd->min_args)
    *message = g_strdup_printf ("%s: missing %s.", cmd->name, names[n]);
  else if (n > max)
    *message = g_strdup_printf ("%s: unexpected argument \"%s\".", cmd->name,
                                args[max]);
  return *message == NULL;
}

int
main (int argc, char **argv)
{
  g_auto(ParsedArgs) p = { .timeout_s = DEFAULT_TIMEOUT_S };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) words = NULL;
  g_auto(GStrv) sub = NULL;
  g_autofree gchar *message = NULL;
  g_autofree gchar *global_socket = NULL;
  const CtlCommand *cmd;
  guint n_words = 0;

  setlocale (LC_ALL, "");
  g_set_prgname ("dvs-switchctl");

  words = g_strdupv (argv);
  if (!parse_options (&p, 0, TRUE, &words, &error))
    {
      message = g_strdup_printf ("%s.", error->message);
      return usage_failure (NULL, NULL, message);
    }
  if (p.version)
    {
      printf ("dvs-switchctl %s\n", DVS_VERSION);
      return CTL_EXIT_OK;
    }
  /* words[0] is the program; the command starts at words[1]. */
  if (words[1] != NULL && g_strcmp0 (words[1], "help") == 0)
    {
      p.help = TRUE;
      g_free (words[1]);
      memmove (&words[1], &words[2], sizeof (gchar *) * g_strv_length (&words[1]));
    }
  if (words[1] == NULL)
    {
      if (p.help)
        {
          print_main_help (stdout);
          return CTL_EXIT_OK;
        }
      return usage_failure (NULL, NULL, "Missing command.");
    }

  cmd = find_command (&words[1], &n_words);
  if (cmd == NULL)
    {
      const gchar *group = is_group (words[1]) ? words[1] : NULL;

      if (group != NULL
          && (p.help || g_strcmp0 (words[2], "--help") == 0
              || g_strcmp0 (words[2], "-h") == 0))
        {
          print_group (stdout, group);
          return CTL_EXIT_OK;
        }
      if (group != NULL && words[2] == NULL)
        message = g_strdup_printf ("%s: missing subcommand.", group);
      else if (group != NULL)
        message = g_strdup_printf ("%s: unknown subcommand \"%s\".", group,
                                   words[2]);
      else
        message = g_strdup_printf ("Unknown command \"%s\".", words[1]);
      return usage_failure (NULL, group, message);
    }

  /* The command's own options; the global ones are welcome here too.
   * GOption does not free a string it overwrites: hand the first round's
   * socket over instead. */
  global_socket = g_steal_pointer (&p.socket_path);
  sub = g_new0 (gchar *, g_strv_length (words) + 1);
  sub[0] = g_strdup_printf ("dvs-switchctl %s", cmd->name);
  for (guint i = 1 + n_words, j = 1; words[i] != NULL; i++, j++)
    sub[j] = g_strdup (words[i]);
  if (!parse_options (&p, cmd->options, FALSE, &sub, &error))
    {
      message = g_strdup_printf ("%s: %s.", cmd->name, error->message);
      return usage_failure (cmd, NULL, message);
    }
  if (p.socket_path == NULL)
    p.socket_path = g_steal_pointer (&global_socket);
  if (p.help)
    {
      print_command_help (cmd);
      return CTL_EXIT_OK;
    }
  if (!(p.timeout_s > 0 && p.timeout_s <= MAX_TIMEOUT_S))
    return usage_failure (cmd, NULL,
                          "--timeout needs a number of seconds above 0 and "
                          "at most 3600.");
  if (!check_args (cmd, &sub[1], &message))
    return usage_failure (cmd, NULL, message);

  return run_command (cmd, &p, &sub[1]);
}
