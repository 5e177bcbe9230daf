/* dvsctl: the command line, help and dispatch (docs/dvsctl.md).
 *
 * The command line is read in two rounds: the global options wherever
 * they are, then, once the command words are known, the command's own
 * options (`dvsctl switch create prod --mtu 9000 --json`).  Every command is a row of
 * the table below: its words, positional arguments, options and help. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "dvsctl.h"

#define DEFAULT_TIMEOUT_S 30.0
#define MAX_TIMEOUT_S 3600.0

typedef enum {
  OPT_NAME = 1 << 0,
  OPT_MTU = 1 << 1,
  OPT_TRANSPORT_ZONE = 1 << 2,
  OPT_FORWARDING_CLASS = 1 << 3,
  OPT_VLAN = 1 << 4,
  OPT_CONFIG = 1 << 5,
  OPT_PORTS = 1 << 6,
  OPT_SWITCH = 1 << 7,
  OPT_PORTGROUP = 1 << 8,
  OPT_HOST = 1 << 9,
  OPT_VM = 1 << 10,
  OPT_MAC = 1 << 11,
  OPT_INTERFACE = 1 << 12,
  OPT_LIBVIRT_URI = 1 << 13,
  OPT_TYPE = 1 << 14,
  OPT_SEGMENT = 1 << 15,
  OPT_OUTPUT = 1 << 16,
  OPT_FORCE = 1 << 17,
  OPT_NO_CONNECTIONS = 1 << 18,
  OPT_COMMENT = 1 << 19,
  OPT_MODE = 1 << 20,
  OPT_TARGET = 1 << 21,
  OPT_AUTO = 1 << 22,
  OPT_KEEP = 1 << 23,
  OPT_PORT = 1 << 24,
  OPT_SOCKET = 1 << 25,
  OPT_CONTROL_SOCKET = 1 << 26,
  OPT_TCG_WORKAROUND = 1 << 27,
  OPT_SVG = 1 << 28,
  OPT_WAIT = 1 << 29,
} CtlOptionFlags;

typedef struct {
  const gchar *name;     /* one or two words: "show", "switch create" */
  const gchar *args;     /* positional arguments, optional ones last */
  guint min_args;
  const gchar *synopsis; /* what follows the name in a usage line */
  CtlOptionFlags options;
  CtlCommandFunc func;
  const gchar *summary;
  const gchar *help;     /* description and options */
} CtlCommand;

#define CONFIG_HELP \
  "      --config=JSON         the whole config as a JSON object, inline or\n" \
  "                            @FILE (@- reads standard input), e.g.\n" \
  "                            '{\"vlan\": 10, \"policy\": {\"security\": " \
  "{\"enabled\": true}}}'\n"

static const CtlCommand commands[] = {
  { "show", "", 0, "", 0, ctl_cmd_show,
    "Overview: switches, hosts, out-of-sync entries",
    "Shows the manager's version, its switches (members, port groups, ports\n"
    "and connected ports), its hosts (connected, in sync) and how many\n"
    "entries the re-push and rip queues hold.\n" },
  { "topology", "SWITCH", 0, "[SWITCH] [--svg [-o FILE [--force]]]",
    OPT_SVG | OPT_OUTPUT | OPT_FORCE, ctl_cmd_topology,
    "Draw switches, port groups, DVports, VMs and hosts",
    "Shows every DVswitch (or only SWITCH, a name or UUID) as a tree: its\n"
    "port groups with their VLAN, each group's DVports with the VM, MAC,\n"
    "host and link of the vNIC connected to it, then the hosts (connected,\n"
    "in sync, member of).  --json prints the same tree as JSON; --svg draws\n"
    "it as an SVG picture: switches, port groups, DVports and hosts in four\n"
    "columns, a line from each connected DVport to its host, dashed while\n"
    "its link is not up.  What is shown is the manager's view (the link and\n"
    "host as last reported), not a live query of the hosts.\n"
    "\n"
    "Options:\n"
    "      --svg                 print an SVG drawing instead of the tree\n"
    "  -o, --output=FILE         write the drawing to FILE (mode 0600,\n"
    "                            written whole or not at all); - is standard\n"
    "                            output\n"
    "      --force               overwrite FILE if it exists\n" },
  { "sync", "", 0, "[--wait]", OPT_WAIT, ctl_cmd_sync,
    "Show the hosts that are out of sync, or wait for them",
    "Lists the entries of the re-push and rip queues (GetOutOfSync) as\n"
    "HOST QUEUE SWITCH SINCE ATTEMPTS REASON: a host on the re-push queue\n"
    "has not acknowledged its final state (it failed, timed out or is not\n"
    "connected); a host on the rip queue still holds a switch it left.\n"
    "The manager retries both every few seconds and on the host's next\n"
    "hello; 'dvsctl host resync HOST' retries now.  Prints \"all hosts in\n"
    "sync\" when both queues are empty.\n"
    "\n"
    "With --wait it follows a push to the end: it asks again every 0.2 s,\n"
    "shows on stderr which hosts are still converging, and returns once\n"
    "every host holds its final state (exit 0).  It fails (exit 1, the\n"
    "hosts named) when only hosts that are not connected are left — they\n"
    "converge when they reconnect — or when --timeout passes first.\n"
    "\n"
    "Options:\n"
    "      --wait                wait until every host is in sync, showing\n"
    "                            progress (as long as --timeout)\n" },

  { "diff", "FILE1 FILE2", 2, "FILE1 FILE2", 0, ctl_cmd_diff,
    "Compare two snapshot files",
    "Shows what changes from the snapshot document FILE1 to FILE2\n"
    "(DiffDocuments), one line per change; --json prints the diff as JSON.\n"
    "No switch is needed: dvsmgr only compares the two documents, and both\n"
    "must be valid (format, checksum).  - reads one of them from standard\n"
    "input.\n" },

  { "switch list", "", 0, "", 0, ctl_cmd_switch_list,
    "List the DVswitches",
    "Lists the DVswitches as NAME UUID CLASS MTU TRANSPORT-ZONE HOSTS\n"
    "PORT-GROUPS.\n" },
  { "switch show", "SWITCH", 1, "SWITCH", 0, ctl_cmd_switch_show,
    "Show a DVswitch and its port groups",
    "Shows the DVswitch SWITCH (a name or UUID): its config, member hosts\n"
    "and generation, then its port groups.\n" },
  { "switch create", "NAME", 1,
    "NAME [--mtu N] [--transport-zone TZ] [--forwarding-class CLASS]",
    OPT_MTU | OPT_TRANSPORT_ZONE | OPT_FORWARDING_CLASS, ctl_cmd_switch_create,
    "Create a DVswitch",
    "Creates the DVswitch NAME (1-64 characters, unique among switches) and\n"
    "prints its UUID.  It has no member hosts yet: add them with 'dvsctl\n"
    "switch join'.\n"
    "\n"
    "Options:\n"
    "      --mtu=N               the MTU (68-65535; the manager's default\n"
    "                            when not given)\n"
    "      --transport-zone=TZ   only hosts that report TZ may join\n"
    "      --forwarding-class=CLASS  the forwarding class (l2-learning)\n" },
  { "switch set", "SWITCH", 1,
    "SWITCH [--name NAME] [--mtu N] [--transport-zone TZ]",
    OPT_NAME | OPT_MTU | OPT_TRANSPORT_ZONE, ctl_cmd_switch_set,
    "Rename a DVswitch or change its config",
    "Changes the DVswitch SWITCH: what is given replaces its value, the rest\n"
    "stays.  The manager pushes the new config to every member host.\n"
    "\n"
    "Options:\n"
    "      --name=NAME           the new name\n"
    "      --mtu=N               the new MTU (68-65535)\n"
    "      --transport-zone=TZ   the new transport zone\n" },
  { "switch delete", "SWITCH", 1, "SWITCH", 0, ctl_cmd_switch_delete,
    "Delete a DVswitch",
    "Deletes the DVswitch SWITCH with its port groups and ports.  Refused\n"
    "while it has member hosts: 'dvsctl switch leave' each first.\n" },
  { "switch join", "SWITCH HOST", 2, "SWITCH HOST", 0, ctl_cmd_switch_join,
    "Make a host a member of a DVswitch",
    "Makes the registered host HOST a member of SWITCH and pushes the\n"
    "switch to it.  Refused unless HOST is connected and reports the\n"
    "switch's transport zone.\n" },
  { "switch leave", "SWITCH HOST", 2, "SWITCH HOST", 0, ctl_cmd_switch_leave,
    "Remove a host from a DVswitch",
    "Removes HOST from SWITCH; the host deletes the switch from its store\n"
    "(if that fails, the entry waits on the rip queue: 'dvsctl sync').\n"
    "Refused while ports of SWITCH are delegated to HOST.\n" },
  { "switch export", "SWITCH", 1,
    "SWITCH [-o FILE [--force]] [--no-connections] [--comment TEXT]",
    OPT_OUTPUT | OPT_FORCE | OPT_NO_CONNECTIONS | OPT_COMMENT,
    ctl_cmd_switch_export,
    "Write a DVswitch's configuration as a snapshot",
    "Exports SWITCH as a snapshot document (docs/snapshots.md): its\n"
    "settings, member hosts, port groups and ports with their connections,\n"
    "checksummed.  Prints it as JSON, or writes it to FILE, which must not\n"
    "exist unless --force is given.\n"
    "\n"
    "Options:\n"
    "  -o, --output=FILE         write the document to FILE (mode 0600,\n"
    "                            written whole or not at all); - is standard\n"
    "                            output\n"
    "      --force               overwrite FILE if it exists\n"
    "      --no-connections      leave the ports' connections out\n"
    "      --comment=TEXT        a comment stored in the document\n" },
  { "switch save", "SWITCH", 1, "SWITCH [--comment TEXT] [--no-connections]",
    OPT_COMMENT | OPT_NO_CONNECTIONS, ctl_cmd_switch_save,
    "Save a version of a DVswitch's configuration",
    "Saves SWITCH's configuration now as the next version of its history\n"
    "on the manager (SaveVersion) and prints the version and its file.\n"
    "\n"
    "Options:\n"
    "      --comment=TEXT        a comment stored in the version\n"
    "      --no-connections      leave the ports' connections out\n" },
  { "switch versions", "SWITCH", 1, "SWITCH", 0, ctl_cmd_switch_versions,
    "List the saved versions of a DVswitch",
    "Lists the versions saved of SWITCH, oldest first, as VERSION CREATED\n"
    "AUTHOR GENERATION COMMENT.  A damaged version file is listed with what\n"
    "is wrong with it.\n" },
  { "switch show-version", "SWITCH VERSION", 2,
    "SWITCH VERSION [-o FILE [--force]]", OPT_OUTPUT | OPT_FORCE,
    ctl_cmd_switch_show_version,
    "Print a saved version of a DVswitch",
    "Prints the saved version VERSION (v000003, or latest) of SWITCH as\n"
    "JSON, or writes it to FILE, which must not exist unless --force is\n"
    "given.\n"
    "\n"
    "Options:\n"
    "  -o, --output=FILE         write the document to FILE (mode 0600,\n"
    "                            written whole or not at all); - is standard\n"
    "                            output\n"
    "      --force               overwrite FILE if it exists\n" },
  { "switch diff", "SWITCH FROM TO", 2, "SWITCH FROM [TO]", 0,
    ctl_cmd_switch_diff,
    "Show what changed in a DVswitch's configuration",
    "Shows what changes from FROM to TO, one line per change; --json prints\n"
    "the diff as JSON.  FROM and TO are each live (SWITCH now), a saved\n"
    "version (v000003, latest) or a snapshot file (- reads standard input;\n"
    "write ./latest for a file of that name).  TO defaults to live.\n" },
  { "switch import", "FILE", 1,
    "FILE --mode recreate|new|apply [--name NAME] [--target SWITCH] [--wait]",
    OPT_MODE | OPT_NAME | OPT_TARGET | OPT_WAIT, ctl_cmd_switch_import,
    "Create or update a DVswitch from a snapshot",
    "Imports the snapshot document FILE (- reads standard input)\n"
    "(ImportSwitch), prints the switch's UUID and what was added, updated\n"
    "and removed; --json prints the report.  The whole document is checked\n"
    "first and every problem listed; nothing changes unless all is well.\n"
    "\n"
    "Options:\n"
    "      --mode=MODE           (required) recreate: the switch as it was,\n"
    "                            same UUIDs, port keys, member hosts and\n"
    "                            connections (hosts not registered are\n"
    "                            registered); new: a new switch NAME from the\n"
    "                            document as a template, with new UUIDs and\n"
    "                            keys, no hosts or connections; apply: roll an\n"
    "                            existing switch's port groups, ports and\n"
    "                            settings to the document, keeping its\n"
    "                            connections and member hosts\n"
    "      --name=NAME           the new switch's name (required with new)\n"
    "      --target=SWITCH       the switch to apply to (apply; default the\n"
    "                            document's UUID)\n"
    "      --wait                then follow the push until every host holds\n"
    "                            the result, as 'sync --wait' does\n" },
  { "switch rollback", "SWITCH VERSION", 2, "SWITCH VERSION [--wait]", OPT_WAIT,
    ctl_cmd_switch_rollback,
    "Roll a DVswitch back to a saved version",
    "Applies the saved version VERSION (v000003, or latest) to SWITCH\n"
    "(Rollback, an import in mode apply): port groups, ports and settings\n"
    "return to the version's; connections and member hosts stay.  Prints\n"
    "what was added, updated and removed; --json prints the report.\n"
    "\n"
    "Options:\n"
    "      --wait                then follow the push until every host holds\n"
    "                            the result, as 'sync --wait' does\n" },
  { "switch history", "SWITCH", 1, "SWITCH [--auto on|off] [--keep N]",
    OPT_AUTO | OPT_KEEP, ctl_cmd_switch_history,
    "Show or set a DVswitch's version-history policy",
    "Without options, shows whether a version of SWITCH is saved after every\n"
    "change and how many are kept.  With options, changes that policy\n"
    "(SetConfig); what is not given stays.\n"
    "\n"
    "Options:\n"
    "      --auto=on|off         save a version after every change\n"
    "      --keep=N              keep the newest N versions (0: all)\n" },

  { "portgroup list", "SWITCH", 0, "[SWITCH]", 0, ctl_cmd_portgroup_list,
    "List the port groups",
    "Lists the port groups, of every switch or of SWITCH only, as SWITCH\n"
    "NAME UUID VLAN PORTS FREE.  FREE counts the ports without a\n"
    "connection.\n" },
  { "portgroup show", "PG", 1, "PG", 0, ctl_cmd_portgroup_show,
    "Show a port group and its ports",
    "Shows the port group PG (a name or UUID): its switch, config and port\n"
    "counts, then its ports.\n" },
  { "portgroup create", "SWITCH NAME", 2,
    "SWITCH NAME [--vlan N | --config JSON] [--ports N]",
    OPT_VLAN | OPT_CONFIG | OPT_PORTS, ctl_cmd_portgroup_create,
    "Create a port group",
    "Adds the port group NAME to SWITCH with its ports and prints its UUID.\n"
    "\n"
    "Options:\n"
    "      --vlan=N              its ports are in VLAN N (0-4094; 0 untagged)\n"
    CONFIG_HELP
    "      --ports=N             how many ports it has (0-4096, default 8)\n" },
  { "portgroup set", "PG", 1, "PG (--vlan N | --config JSON)",
    OPT_VLAN | OPT_CONFIG, ctl_cmd_portgroup_set,
    "Change a port group's config",
    "Changes the config of the port group PG; the manager pushes it to every\n"
    "member host.  --vlan changes the VLAN only; --config replaces the whole\n"
    "config.\n"
    "\n"
    "Options:\n"
    "      --vlan=N              the group's VLAN (0-4094; 0 untagged)\n"
    CONFIG_HELP },
  { "portgroup add-ports", "PG N", 2, "PG N", 0, ctl_cmd_portgroup_add_ports,
    "Add ports to a port group",
    "Adds N (1-4096) ports to the port group PG and prints their keys.\n" },
  { "portgroup allocate", "PG", 1, "PG", 0, ctl_cmd_portgroup_allocate,
    "Pick a free port of a port group",
    "Prints the key of a free port of PG (the lowest), for 'dvsctl port\n"
    "connect'.  Nothing changes: the port stays free until connected.  Fails\n"
    "when every port of PG is connected.\n" },
  { "portgroup set-network", "PG NET", 1, "PG [NET]", 0, ctl_cmd_portgroup_set_network,
    "Bind a port group to a logical network",
    "Binds port group PG to the logical network NET (a name or UUID);\n"
    "without NET unbinds it.  A VLAN network gives a group without a\n"
    "\"vlan\" its segment.  Its VMs then run only where NET is visible.\n" },
  { "portgroup delete", "PG", 1, "PG", 0, ctl_cmd_portgroup_delete,
    "Delete a port group and its ports",
    "Deletes the port group PG and its ports.  Refused while one of its\n"
    "ports is connected.\n" },

  { "port list", "", 0, "[--switch SWITCH] [--portgroup PG]",
    OPT_SWITCH | OPT_PORTGROUP, ctl_cmd_port_list,
    "List the DVports",
    "Lists the DVports as KEY SWITCH PORTGROUP HOST CONNECTION VM MAC LINK:\n"
    "HOST is the host the port is delegated to, CONNECTION its connection\n"
    "ID (\"-\" when free), LINK as last reported by that host.\n"
    "\n"
    "Options:\n"
    "      --switch=SWITCH       only the ports of SWITCH\n"
    "      --portgroup=PG        only the ports of the port group PG\n" },
  { "port show", "PORT", 1, "PORT", 0, ctl_cmd_port_show,
    "Show a DVport",
    "Shows the DVport PORT (its key, or SWITCH/KEY): switch, port group,\n"
    "connection and connectee, delegation, link, config overrides and the\n"
    "counters the host last reported.  'dvsctl port stats' asks the host\n"
    "for live ones.\n" },
  { "port connect", "PORT", 1,
    "PORT --host HOST --vm UUID --mac MAC [--interface ID]",
    OPT_HOST | OPT_VM | OPT_MAC | OPT_INTERFACE, ctl_cmd_port_connect,
    "Connect a vNIC to a DVport",
    "Connects a VM's vNIC to PORT: the manager issues a new connection ID,\n"
    "delegates the port to HOST and pushes it there.  Prints the connection\n"
    "ID.  Refused while the port has a connection.\n"
    "\n"
    "Options:\n"
    "      --host=HOST           the member host the VM runs on (required)\n"
    "      --vm=UUID             the VM's UUID (required)\n"
    "      --mac=MAC             the vNIC's MAC address (required)\n"
    "      --interface=ID        the vNIC's interface ID (libvirt alias)\n" },
  { "port disconnect", "PORT", 1, "PORT", 0, ctl_cmd_port_disconnect,
    "Disconnect the vNIC from a DVport",
    "Clears the connection of PORT and its delegation; the host drops the\n"
    "port, the manager keeps its runtime state.\n" },
  { "port revoke", "PORT", 1, "PORT", 0, ctl_cmd_port_revoke,
    "Issue a new connection ID for a DVport",
    "Issues a new connection ID for the same connectee of PORT and prints\n"
    "it; the host refuses the old ID from the next push on.\n" },
  { "port move", "PORT", 1, "PORT --host HOST", OPT_HOST, ctl_cmd_port_move,
    "Move a connected DVport to another host",
    "Delegates PORT to HOST, keeping its connection: the VM is started\n"
    "there.  The state the old host reported when the vNIC stopped\n"
    "(counters, learned MACs, filter states) goes with it, and the old host\n"
    "drops the port.  Refused while the port's link is up.\n"
    "\n"
    "Options:\n"
    "      --host=HOST           the member host to move it to (required)\n" },
  { "port set", "PORT", 1, "PORT --config JSON", OPT_CONFIG, ctl_cmd_port_set,
    "Change a DVport's config overrides",
    "Replaces the overrides PORT applies over its port group's config;\n"
    "'{}' removes them.\n"
    "\n"
    "Options:\n"
    "      --config=JSON         the overrides as a JSON object, inline or\n"
    "                            @FILE (@- reads standard input) (required)\n" },
  { "port stats", "PORT", 1, "PORT", 0, ctl_cmd_port_stats,
    "Show a DVport's live counters",
    "Asks the host PORT is delegated to for its state now (GetLiveStats) and\n"
    "shows its rx and tx counters and drops; rx counts what the switch\n"
    "received from the guest, tx what it delivered to it.  --json prints\n"
    "the host's answer as it is.  Fails when the host is not connected.\n" },

  { "vm attach", "DOMAIN", 1,
    "DOMAIN (--port PORT | --portgroup PG) [--host HOST] [--mac MAC]\n"
    "       [--socket PATH] [--control-socket PATH] [--tcg-workaround]\n"
    "       [--libvirt-uri URI]",
    OPT_PORT | OPT_PORTGROUP | OPT_HOST | OPT_MAC | OPT_SOCKET
        | OPT_CONTROL_SOCKET | OPT_TCG_WORKAROUND | OPT_LIBVIRT_URI,
    ctl_cmd_vm_attach,
    "Give a libvirt domain a vNIC on a DVport",
    "Connects the DVport PORT (or a free port of PG, allocated now) to a new\n"
    "vNIC of the libvirt domain DOMAIN (a name or UUID) on HOST (Connect),\n"
    "then adds the vNIC to the domain's persistent definition: a\n"
    "vhost-user <interface> whose socket QEMU serves, shared memfd memory\n"
    "when the domain has no memory backing, and an entry in the domain's\n"
    "DVS metadata that the libvirt hook reads to attach the vNIC when the\n"
    "domain starts (docs/libvirt.md).  A running domain gets the vNIC at\n"
    "its next start.  Prints the connection ID.\n"
    "\n"
    "Options:\n"
    "      --port=PORT           the DVport, by key\n"
    "      --portgroup=PG        allocate a free port of this port group\n"
    "      --host=HOST           the manager's name for the domain's host\n"
    "                            (default: the host whose libvirt URI is\n"
    "                            --libvirt-uri, else the one named like the\n"
    "                            libvirt host)\n"
    "      --mac=MAC             the vNIC's MAC (default: random 52:54:00:...)\n"
    "      --socket=PATH         the vhost-user socket (default\n"
    "                            /run/dvs/vhost/DOMAIN-ALIAS.sock)\n"
    "      --control-socket=PATH the switch's control socket on the host, for\n"
    "                            the hook (default: its configuration)\n"
    "      --tcg-workaround      give the NIC vectors=0 (QEMU 7.2 under TCG\n"
    "                            crashes starting a vhost-user NIC with MSI-X)\n"
    "      --libvirt-uri=URI     libvirt connection (default: libvirt's)\n" },
  { "vm detach", "DOMAIN", 1, "DOMAIN [--mac MAC] [--libvirt-uri URI]",
    OPT_MAC | OPT_LIBVIRT_URI, ctl_cmd_vm_detach,
    "Remove a domain's DVS vNICs and disconnect their ports",
    "Removes the domain's vNIC with MAC (without --mac: every vNIC on a\n"
    "DVport) from its persistent definition, with its metadata entry and\n"
    "its vectors=0 override, then disconnects its DVport (Disconnect) if\n"
    "the port still has the connection the domain was given.  A running\n"
    "domain keeps the device until it stops, without network.\n"
    "\n"
    "Options:\n"
    "      --mac=MAC             only the vNIC with this MAC\n"
    "      --libvirt-uri=URI     libvirt connection (default: libvirt's)\n" },

  { "vm check", "VM HOST", 2, "VM HOST", 0, ctl_cmd_vm_check,
    "May a VM run on a host?",
    "Asks the manager whether VM (a name or UUID) may run on HOST: the\n"
    "host connected, a member of each of its DVports' switches and in\n"
    "their transport zones, the port groups' networks visible there, its\n"
    "health at least 50, a free DVport slot, and CPU and memory when\n"
    "libvirt says (docs/placement.md).  Prints each failed criterion;\n"
    "exits 1 when refused.\n" },
  { "vm place", "VM", 1, "VM", 0, ctl_cmd_vm_place,
    "Choose the best host for a VM",
    "Prints the host, other than its own, that passes the check for VM\n"
    "with the best score (health, free slots, free memory) and the score.\n" },
  { "vm migrate", "VM HOST", 1, "VM [HOST]", 0, ctl_cmd_vm_migrate,
    "Live-migrate a VM through libvirt",
    "Live-migrates VM to HOST (default: 'dvsctl vm place' choice) from\n"
    "the manager's libvirt connections to both hosts, after the check.\n"
    "Shows a progress bar on a terminal and waits until it ends (at most\n"
    "an hour); exits 1 when it fails, the VM staying on its host.\n" },

  { "host list", "", 0, "", 0, ctl_cmd_host_list,
    "List the hosts",
    "Lists the registered hosts as NAME CONNECTED TRANSPORT IN-SYNC HEALTH\n"
    "SWITCHES LAST-SEEN.\n" },
  { "host show", "HOST", 1, "HOST", 0, ctl_cmd_host_show,
    "Show a host",
    "Shows the host HOST: its connection, uplinks, transport zones,\n"
    "switches, sync state and libvirt URI.\n" },
  { "host register", "NAME", 1, "NAME [--libvirt-uri URI]", OPT_LIBVIRT_URI,
    ctl_cmd_host_register,
    "Allow a host on the host channel",
    "Registers the host NAME: only a registered host may say hello, and\n"
    "over TLS its certificate's CN must be NAME.\n"
    "\n"
    "Options:\n"
    "      --libvirt-uri=URI     how to reach the host's libvirtd, e.g.\n"
    "                            qemu+tls://NAME/system\n" },
  { "host unregister", "HOST", 1, "HOST", 0, ctl_cmd_host_unregister,
    "Forget a host",
    "Unregisters HOST.  Refused while it is a member of a switch.\n" },
  { "host resync", "HOST", 1, "HOST", 0, ctl_cmd_host_resync,
    "Push a host's final state now",
    "Pushes HOST its final state now and retries its queue entries.\n" },

  { "host hide-network", "HOST NET", 2, "HOST NET", 0, ctl_cmd_host_hide_network,
    "Hide a logical network on a host",
    "Hides the logical network NET (a name or UUID) on HOST: no VM whose\n"
    "port group is bound to NET may be placed or migrated there.\n" },
  { "host unhide-network", "HOST NET", 2, "HOST NET", 0, ctl_cmd_host_unhide_network,
    "Offer a hidden network on a host again",
    "Undoes 'dvsctl host hide-network HOST NET'.\n" },
  { "host set-migration-uri", "HOST URI", 1, "HOST [URI]", 0, ctl_cmd_host_set_migration_uri,
    "Say where migration streams to a host go",
    "Sets where QEMU sends live-migration streams to HOST,\n"
    "tcp://ADDRESS[:PORT] (or rdma://, unix://), for 'dvsctl vm migrate';\n"
    "without URI goes back to the default (docs/placement.md).\n" },

  { "network list", "", 0, "", 0, ctl_cmd_network_list,
    "List the logical networks",
    "Lists the logical networks as NAME UUID TYPE SEGMENT TRANSPORT-ZONE.\n" },
  { "network create", "NAME", 1,
    "NAME --type vlan|vxlan --segment N --transport-zone TZ",
    OPT_TYPE | OPT_SEGMENT | OPT_TRANSPORT_ZONE, ctl_cmd_network_create,
    "Create a logical network",
    "Creates the logical network NAME and prints its UUID.\n"
    "\n"
    "Options:\n"
    "      --type=vlan|vxlan     its type (required)\n"
    "      --segment=N           the VLAN ID (1-4094) or VNI (1-16777215)\n"
    "                            (required)\n"
    "      --transport-zone=TZ   the transport zone it lives in (required)\n" },
  { "network delete", "NET", 1, "NET", 0, ctl_cmd_network_delete,
    "Delete a logical network",
    "Deletes the logical network NET (a name or UUID).\n" },
};

static const gchar global_help[] =
  "Options (before or after the command):\n"
  "      --bus=BUS             system, session or a D-Bus address (default:\n"
  "                            $DVS_BUS, else system)\n"
  "      --timeout=SECONDS     give up on dvsmgr after SECONDS (default 30)\n"
  "      --json                print results, and errors on stderr, as JSON\n"
  "  -h, --help                show help; after a command, its help\n"
  "      --version             show the version\n";

static const gchar exit_help[] =
  "Exit status: 0 done, 1 dvsmgr refused or failed, 2 usage error,\n"
  "3 dvsmgr unreachable (no bus, not running, no answer), 4 not authorized.\n";

/* The options of one parsing round.  Strings the second round sets do not
 * overwrite the first's (GOption would leak them): they are merged. */
typedef struct {
  gchar *bus;
  gchar *timeout;
  gboolean json;
  gboolean help;
  gboolean version;
} GlobalOptions;

static void
global_options_clear (GlobalOptions *g)
{
  g_free (g->bus);
  g_free (g->timeout);
}

static void
ctl_options_clear (CtlOptions *o)
{
  gchar **fields[] = {
    &o->name, &o->mtu, &o->transport_zone, &o->forwarding_class, &o->vlan,
    &o->config, &o->ports, &o->switch_ref, &o->portgroup, &o->host, &o->vm,
    &o->mac, &o->interface_id, &o->libvirt_uri, &o->type, &o->segment,
    &o->output, &o->comment, &o->mode, &o->target, &o->history_auto,
    &o->history_keep, &o->port, &o->socket, &o->control_socket,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    g_clear_pointer (fields[i], g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GlobalOptions, global_options_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CtlOptions, ctl_options_clear)

/* A command's words and positional arguments, the optional ones in
 * brackets ("switch diff SWITCH FROM [TO]"); options are in each help. */
static gchar *
command_words (const CtlCommand *cmd)
{
  g_auto(GStrv) names = g_strsplit (cmd->args, " ", -1);
  GString *words = g_string_new (cmd->name);

  for (guint i = 0; *cmd->args != '\0' && names[i] != NULL; i++)
    g_string_append_printf (words, i < cmd->min_args ? " %s" : " [%s]",
                            names[i]);
  return g_string_free (words, FALSE);
}

static void
print_command_list (FILE *out)
{
  int width = 30;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree gchar *words = command_words (&commands[i]);

      width = MAX (width, (int) strlen (words));
    }
  fprintf (out, "Commands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const CtlCommand *cmd = &commands[i];
      g_autofree gchar *words = command_words (cmd);

      if (i > 0 && strchr (cmd->name, ' ') != NULL
          && strncmp (cmd->name, commands[i - 1].name,
                      (gsize) (strchr (cmd->name, ' ') - cmd->name + 1)) != 0)
        fprintf (out, "\n");
      fprintf (out, "  %-*s %s\n", width, words, cmd->summary);
    }
  fprintf (out, "\n  %-*s %s\n", width, "help [COMMAND]",
           "Show help, for a command too");
}

static void
print_main_help (void)
{
  printf ("Usage: dvsctl [OPTION...] COMMAND [ARG...]\n\n"
          "Manages DVswitches, port groups, DVports, hosts and logical networks\n"
          "through dvsmgr, the DVS manager, over D-Bus.  Switches, port groups\n"
          "and networks are named by name or UUID, ports by key, hosts by\n"
          "name.\n\n");
  print_command_list (stdout);
  printf ("\n%s\n%s\nRun 'dvsctl COMMAND --help' for a command's arguments "
          "and options.\n", global_help, exit_help);
}

static void
print_command_usage (FILE *out, const CtlCommand *cmd)
{
  fprintf (out, "Usage: dvsctl [OPTION...] %s%s%s\n", cmd->name,
           *cmd->synopsis != '\0' ? " " : "", cmd->synopsis);
}

static void
print_command_help (const CtlCommand *cmd)
{
  print_command_usage (stdout, cmd);
  printf ("\n%s\nGlobal options (see dvsctl --help): --bus BUS, "
          "--timeout SECONDS, --json\n", cmd->help);
}

static gboolean
in_group (const CtlCommand *cmd, const gchar *group)
{
  gsize len = strlen (group);

  return strncmp (cmd->name, group, len) == 0 && cmd->name[len] == ' ';
}

static void
print_group (FILE *out, const gchar *group)
{
  fprintf (out, "Usage: dvsctl [OPTION...] %s SUBCOMMAND [ARG...]\n\n"
                "Subcommands:\n", group);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (in_group (&commands[i], group))
      fprintf (out, "  %-30s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'dvsctl %s SUBCOMMAND --help' for more.\n", group);
}

static gboolean
is_group (const gchar *word)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (in_group (&commands[i], word))
      return TRUE;
  return FALSE;
}

/* The command named by the first one or two of @words; *n_words says how
 * many it took. */
static const CtlCommand *
find_command (gchar **words, guint *n_words)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto(GStrv) parts = g_strsplit (commands[i].name, " ", 2);
      guint len = g_strv_length (parts);

      if (g_strcmp0 (parts[0], words[0]) != 0)
        continue;
      if (len == 1 || (words[1] != NULL && g_str_equal (parts[1], words[1])))
        {
          *n_words = len;
          return &commands[i];
        }
    }
  return NULL;
}

/* Reports a usage error: the message, then what would have been right;
 * with --json only the error object. */
static int
usage_failure (Ctl *ctl, const CtlCommand *cmd, const gchar *group,
               const gchar *message)
{
  g_autoptr(GError) error = g_error_new_literal (CTL_ERROR, CTL_ERROR_USAGE,
                                                 message);

  ctl_error_report (ctl, error);
  if (ctl->json)
    return CTL_EXIT_USAGE;
  if (cmd != NULL)
    {
      print_command_usage (stderr, cmd);
      fprintf (stderr, "Run 'dvsctl %s --help' for more.\n", cmd->name);
    }
  else if (group != NULL)
    print_group (stderr, group);
  else
    fprintf (stderr, "Run 'dvsctl --help' for the commands.\n");
  return CTL_EXIT_USAGE;
}

static GOptionEntry *
build_entries (GlobalOptions *g, CtlOptions *o, CtlOptionFlags flags)
{
  const GOptionEntry global[] = {
    { "bus", 0, 0, G_OPTION_ARG_STRING, &g->bus, NULL, NULL },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &g->timeout, NULL, NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &g->json, NULL, NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &g->help, NULL, NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &g->version, NULL, NULL },
  };
  /* Options take a value unless they are flags (G_OPTION_ARG_NONE). */
  const struct {
    CtlOptionFlags flag;
    const gchar *name;
    gchar short_name;
    GOptionArg arg;
    gpointer value;
  } own[] = {
    { OPT_NAME, "name", 0, G_OPTION_ARG_STRING, &o->name },
    { OPT_MTU, "mtu", 0, G_OPTION_ARG_STRING, &o->mtu },
    { OPT_TRANSPORT_ZONE, "transport-zone", 0, G_OPTION_ARG_STRING, &o->transport_zone },
    { OPT_FORWARDING_CLASS, "forwarding-class", 0, G_OPTION_ARG_STRING, &o->forwarding_class },
    { OPT_VLAN, "vlan", 0, G_OPTION_ARG_STRING, &o->vlan },
    { OPT_CONFIG, "config", 0, G_OPTION_ARG_STRING, &o->config },
    { OPT_PORTS, "ports", 0, G_OPTION_ARG_STRING, &o->ports },
    { OPT_SWITCH, "switch", 0, G_OPTION_ARG_STRING, &o->switch_ref },
    { OPT_PORTGROUP, "portgroup", 0, G_OPTION_ARG_STRING, &o->portgroup },
    { OPT_HOST, "host", 0, G_OPTION_ARG_STRING, &o->host },
    { OPT_VM, "vm", 0, G_OPTION_ARG_STRING, &o->vm },
    { OPT_MAC, "mac", 0, G_OPTION_ARG_STRING, &o->mac },
    { OPT_INTERFACE, "interface", 0, G_OPTION_ARG_STRING, &o->interface_id },
    { OPT_LIBVIRT_URI, "libvirt-uri", 0, G_OPTION_ARG_STRING, &o->libvirt_uri },
    { OPT_TYPE, "type", 0, G_OPTION_ARG_STRING, &o->type },
    { OPT_SEGMENT, "segment", 0, G_OPTION_ARG_STRING, &o->segment },
    { OPT_OUTPUT, "output", 'o', G_OPTION_ARG_STRING, &o->output },
    { OPT_FORCE, "force", 0, G_OPTION_ARG_NONE, &o->force },
    { OPT_NO_CONNECTIONS, "no-connections", 0, G_OPTION_ARG_NONE, &o->no_connections },
    { OPT_COMMENT, "comment", 0, G_OPTION_ARG_STRING, &o->comment },
    { OPT_MODE, "mode", 0, G_OPTION_ARG_STRING, &o->mode },
    { OPT_TARGET, "target", 0, G_OPTION_ARG_STRING, &o->target },
    { OPT_AUTO, "auto", 0, G_OPTION_ARG_STRING, &o->history_auto },
    { OPT_KEEP, "keep", 0, G_OPTION_ARG_STRING, &o->history_keep },
    { OPT_PORT, "port", 0, G_OPTION_ARG_STRING, &o->port },
    { OPT_SOCKET, "socket", 0, G_OPTION_ARG_STRING, &o->socket },
    { OPT_CONTROL_SOCKET, "control-socket", 0, G_OPTION_ARG_STRING, &o->control_socket },
    { OPT_TCG_WORKAROUND, "tcg-workaround", 0, G_OPTION_ARG_NONE, &o->tcg_workaround },
    { OPT_SVG, "svg", 0, G_OPTION_ARG_NONE, &o->svg },
    { OPT_WAIT, "wait", 0, G_OPTION_ARG_NONE, &o->wait },
  };
  GArray *entries = g_array_new (TRUE, TRUE, sizeof (GOptionEntry));

  g_array_append_vals (entries, global, G_N_ELEMENTS (global));
  for (gsize i = 0; i < G_N_ELEMENTS (own); i++)
    if (flags & own[i].flag)
      {
        GOptionEntry entry = { own[i].name, own[i].short_name, 0,
                               own[i].arg, own[i].value, NULL, NULL };

        g_array_append_val (entries, entry);
      }
  return (GOptionEntry *) (gpointer) g_array_free (entries, FALSE);
}

/* Parses the options in @argv (argv[0] is the program), leaving the rest;
 * with @global_only, the global options wherever they are, leaving the
 * others for the command's round. */
static gboolean
parse_options (GlobalOptions *g, CtlOptions *o, CtlOptionFlags flags,
               gboolean global_only, gchar ***argv, GError **error)
{
  g_autofree GOptionEntry *entries = build_entries (g, o, flags);
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_set_ignore_unknown_options (context, global_only);
  g_option_context_add_main_entries (context, entries, NULL);
  return g_option_context_parse_strv (context, argv, error);
}

/* Checks the number of positional arguments against the command's. */
static gchar *
check_args (const CtlCommand *cmd, gchar **args)
{
  g_auto(GStrv) names = g_strsplit (cmd->args, " ", -1);
  guint max = *cmd->args != '\0' ? g_strv_length (names) : 0;
  guint n = g_strv_length (args);

  if (n < cmd->min_args)
    return g_strdup_printf ("%s: missing %s.", cmd->name, names[n]);
  if (n > max)
    return g_strdup_printf ("%s: unexpected argument \"%s\".", cmd->name,
                            args[max]);
  return NULL;
}

/* --json anywhere before "--": usage errors are then reported as JSON
 * even when the command line does not parse. */
static gboolean
json_requested (char **argv)
{
  for (int i = 1; argv[i] != NULL; i++)
    {
      if (g_str_equal (argv[i], "--"))
        break;
      if (g_str_equal (argv[i], "--json"))
        return TRUE;
    }
  return FALSE;
}

/* --bus, --timeout and DVS_BUS into @ctl. */
static gchar *
setup_connection_options (Ctl *ctl, const GlobalOptions *first,
                          const GlobalOptions *second)
{
  const gchar *bus = second->bus != NULL ? second->bus : first->bus;
  const gchar *timeout = second->timeout != NULL ? second->timeout
                                                 : first->timeout;
  gdouble seconds = DEFAULT_TIMEOUT_S;

  if (bus == NULL)
    {
      bus = g_getenv ("DVS_BUS");
      if (bus == NULL || *bus == '\0')
        bus = "system";
    }
  if (!g_str_equal (bus, "system") && !g_str_equal (bus, "session")
      && !g_dbus_is_address (bus))
    return g_strdup_printf ("--bus needs system, session or a D-Bus address "
                            "(unix:path=/run/dbus/system_bus_socket), not "
                            "\"%s\".", bus);
  ctl->bus = g_strdup (bus);

  if (timeout != NULL)
    {
      gchar *end = NULL;

      seconds = g_ascii_strtod (timeout, &end);
      if (end == timeout || *end != '\0'
          || !(seconds > 0 && seconds <= MAX_TIMEOUT_S))
        return g_strdup_printf ("--timeout needs a number of seconds above 0 "
                                "and at most 3600, not \"%s\".", timeout);
    }
  ctl->timeout_ms = (gint) (seconds * 1000.0 + 0.5);
  if (ctl->timeout_ms < 1)
    ctl->timeout_ms = 1;
  return NULL;
}

static void
ctl_clear (Ctl *ctl)
{
  g_clear_pointer (&ctl->model, ctl_model_free);
  g_clear_object (&ctl->connection);
  g_clear_pointer (&ctl->bus, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Ctl, ctl_clear)

static int
run (Ctl *ctl, char **argv)
{
  g_auto(GlobalOptions) first = { 0 };
  g_auto(GlobalOptions) second = { 0 };
  g_auto(CtlOptions) opts = { 0 };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) words = g_strdupv (argv);
  g_auto(GStrv) sub = NULL;
  g_autofree gchar *message = NULL;
  const CtlCommand *cmd;
  guint n_words = 0;

  if (!parse_options (&first, &opts, 0, TRUE, &words, &error))
    {
      message = g_strdup_printf ("%s.", error->message);
      return usage_failure (ctl, NULL, NULL, message);
    }
  if (first.version)
    {
      printf ("dvsctl %s\n", DVS_VERSION);
      return CTL_EXIT_OK;
    }
  /* words[0] is the program; the command starts at words[1]. */
  if (words[1] != NULL && g_str_equal (words[1], "help"))
    {
      first.help = TRUE;
      g_free (words[1]);
      memmove (&words[1], &words[2],
               sizeof (gchar *) * (g_strv_length (&words[2]) + 1));
    }
  if (words[1] != NULL && words[1][0] == '-')
    {
      message = g_strdup_printf ("unknown option %s (a command's options go "
                                 "after it).", words[1]);
      return usage_failure (ctl, NULL, NULL, message);
    }
  if (words[1] == NULL)
    {
      if (first.help)
        {
          print_main_help ();
          return CTL_EXIT_OK;
        }
      return usage_failure (ctl, NULL, NULL, "missing command.");
    }

  cmd = find_command (&words[1], &n_words);
  if (cmd == NULL)
    {
      const gchar *group = is_group (words[1]) ? words[1] : NULL;
      const gchar *next = group != NULL ? words[2] : NULL;

      if (group != NULL
          && (first.help || g_strcmp0 (next, "--help") == 0
              || g_strcmp0 (next, "-h") == 0))
        {
          print_group (stdout, group);
          return CTL_EXIT_OK;
        }
      if (group != NULL && (next == NULL || next[0] == '-'))
        message = g_strdup_printf ("%s: missing subcommand.", group);
      else if (group != NULL)
        message = g_strdup_printf ("%s: unknown subcommand \"%s\".", group,
                                   next);
      else
        message = g_strdup_printf ("unknown command \"%s\".", words[1]);
      return usage_failure (ctl, NULL, group, message);
    }

  /* The command's own options; the global ones are welcome here too. */
  sub = g_new0 (gchar *, g_strv_length (words) + 1);
  sub[0] = g_strdup_printf ("dvsctl %s", cmd->name);
  for (guint i = 1 + n_words, j = 1; words[i] != NULL; i++, j++)
    sub[j] = g_strdup (words[i]);
  if (!parse_options (&second, &opts, cmd->options, FALSE, &sub, &error))
    {
      message = g_strdup_printf ("%s: %s.", cmd->name, error->message);
      return usage_failure (ctl, cmd, NULL, message);
    }
  if (first.help || second.help)
    {
      print_command_help (cmd);
      return CTL_EXIT_OK;
    }
  if (second.version)
    {
      printf ("dvsctl %s\n", DVS_VERSION);
      return CTL_EXIT_OK;
    }
  message = setup_connection_options (ctl, &first, &second);
  if (message == NULL)
    message = check_args (cmd, &sub[1]);
  if (message != NULL)
    return usage_failure (ctl, cmd, NULL, message);

  if (!cmd->func (ctl, &opts, &sub[1], &error))
    {
      if (g_error_matches (error, CTL_ERROR, CTL_ERROR_USAGE))
        {
          g_autofree gchar *text = g_strdup_printf ("%s: %s", cmd->name,
                                                    error->message);

          return usage_failure (ctl, cmd, NULL, text);
        }
      return ctl_error_report (ctl, error);
    }
  return CTL_EXIT_OK;
}

int
main (int argc, char **argv)
{
  g_auto(Ctl) ctl = { 0 };
  int status;

  setlocale (LC_ALL, "");
  g_set_prgname ("dvsctl");

  ctl.json = json_requested (argv);
  status = run (&ctl, argv);
  if (fflush (stdout) != 0 && status == CTL_EXIT_OK)
    {
      fprintf (stderr, "dvsctl: cannot write the output: %s\n",
               g_strerror (errno));
      status = CTL_EXIT_FAILED;
    }
  return status;
}
