"""dvsctl's command line without a manager (docs/dvsctl.md).

What can be checked before dvsmgr answers: the help of every command, usage
errors (exit 2), and a manager that is not on the bus (exit 3, a message
that says how to start it, the JSON error object with --json).  A private
dbus-daemon stands in for the bus; nothing owns net.dvsqemu.Manager1 on it.

Environment: DVS_DVSCTL, the dvsctl binary (default
build/dvsmgr/dvsctl/dvsctl).  Skipped (77) without dbus-daemon.
Standard library only; every wait has a timeout.
"""

import atexit
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

SRC_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DVSCTL = os.environ.get("DVS_DVSCTL") or os.path.join(
    SRC_ROOT, "build/dvsmgr/dvsctl/dvsctl")
RUN_TIMEOUT_S = 20
BUS_START_TIMEOUT_S = 10

# Files the snapshot commands read: a document dvsctl sends on (dvsctl
# checks only that it is a JSON object; dvsmgr validates it), and files it
# must refuse before asking anything.
FIXTURES = tempfile.mkdtemp(prefix="dvsctl-cli-")
atexit.register(shutil.rmtree, FIXTURES, True)


def fixture(name, data):
    path = os.path.join(FIXTURES, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


DOC = fixture("doc.json", b'{"format": "dvs-switch-config", "format_version": 1}\n')
ARRAY_DOC = fixture("array.json", b"[1, 2]\n")
BROKEN_DOC = fixture("broken.json", b'{"format": \n')
LATIN1_DOC = fixture("latin1.json", b'{"comment": "caf\xe9"}\n')
NUL_DOC = fixture("nul.json", b'{"comment": "a"}\x00\n')
MISSING = os.path.join(FIXTURES, "missing.json")

# Every command, its positional arguments for a well-formed call, and the
# options its help must list.
COMMANDS = {
    "show": ([], []),
    "sync": ([], ["--wait"]),
    "topology": ([], ["--svg", "-o", "--output", "--force"]),
    "switch list": ([], []),
    "switch show": (["sw"], []),
    "switch create": (["sw"], ["--mtu", "--transport-zone", "--forwarding-class"]),
    "switch set": (["sw"], ["--name", "--mtu", "--transport-zone"]),
    "switch delete": (["sw"], []),
    "switch join": (["sw", "h1"], []),
    "switch leave": (["sw", "h1"], []),
    "switch export": (["sw"], ["-o", "--output", "--force", "--no-connections",
                               "--comment"]),
    "switch save": (["sw"], ["--comment", "--no-connections"]),
    "switch versions": (["sw"], []),
    "switch show-version": (["sw", "v000001"], ["-o", "--output", "--force"]),
    "switch diff": (["sw", "v000001"], []),
    "switch import": ([DOC], ["--mode", "--name", "--target", "--wait"]),
    "switch rollback": (["sw", "latest"], ["--wait"]),
    "switch history": (["sw"], ["--auto", "--keep"]),
    "diff": ([DOC, DOC], []),
    "portgroup list": ([], []),
    "portgroup show": (["pg"], []),
    "portgroup create": (["sw", "pg"], ["--vlan", "--config", "--ports"]),
    "portgroup set": (["pg"], ["--vlan", "--config"]),
    "portgroup add-ports": (["pg", "4"], []),
    "portgroup allocate": (["pg"], []),
    "portgroup delete": (["pg"], []),
    "port list": ([], ["--switch", "--portgroup"]),
    "port show": (["p1"], []),
    "port connect": (["p1"], ["--host", "--vm", "--mac", "--interface"]),
    "port disconnect": (["p1"], []),
    "port revoke": (["p1"], []),
    "port set": (["p1"], ["--config"]),
    "port stats": (["p1"], []),
    "host list": ([], []),
    "host show": (["h1"], []),
    "host register": (["h1"], ["--libvirt-uri"]),
    "host unregister": (["h1"], []),
    "host resync": (["h1"], []),
    "network list": ([], []),
    "network create": (["net"], ["--type", "--segment", "--transport-zone"]),
    "network delete": (["net"], []),
}

# Extra options a well-formed call needs.
REQUIRED_OPTIONS = {
    "portgroup set": ["--vlan", "10"],
    "port connect": ["--host", "h1", "--vm", "6f1c2b9e-0000-4000-8000-000000000001",
                     "--mac", "52:54:00:12:34:56"],
    "port set": ["--config", "{}"],
    "network create": ["--type", "vlan", "--segment", "10", "--transport-zone", "tz"],
    "switch set": ["--mtu", "9000"],
    "switch import": ["--mode", "recreate"],
}

GROUPS = ["switch", "portgroup", "port", "host", "network"]


class Bus:
    """A private dbus-daemon, killed at the end whatever happens."""

    def __init__(self):
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--print-address", "--nofork"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True)
        atexit.register(self.stop)
        self.address = self._read_address()

    def _read_address(self):
        deadline = time.monotonic() + BUS_START_TIMEOUT_S
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("dbus-daemon did not print its address")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                line += chunk
        return line.decode().strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if not self.proc.stdout.closed:
            self.proc.stdout.close()


def run(args, env_bus=None, extra_env=None, stdin_text=None):
    env = dict(os.environ)
    env.pop("DVS_BUS", None)
    if env_bus is not None:
        env["DVS_BUS"] = env_bus
    if extra_env:
        env.update(extra_env)
    proc = subprocess.run([DVSCTL] + args, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S, env=env,
                          input=stdin_text if stdin_text is not None else "")
    return proc.returncode, proc.stdout, proc.stderr


def well_formed(name):
    positional, _ = COMMANDS[name]
    return name.split() + positional + REQUIRED_OPTIONS.get(name, [])


class HelpTest(unittest.TestCase):
    def test_main_help(self):
        for args in (["--help"], ["-h"], ["help"]):
            status, out, err = run(args)
            self.assertEqual(status, 0, args)
            self.assertEqual(err, "")
            self.assertIn("Usage: dvsctl [OPTION...] COMMAND [ARG...]", out)
            for name in COMMANDS:
                self.assertIn(name, out)
            for option in ("--bus", "--timeout", "--json", "--version"):
                self.assertIn(option, out)
            self.assertIn("Exit status", out)
            self.assertIn("4 not authorized", out)

    def test_version(self):
        status, out, _ = run(["--version"])
        self.assertEqual(status, 0)
        self.assertRegex(out, r"^dvsctl \d+\.\d+\.\d+\n$")

    def test_group_help(self):
        for group in GROUPS:
            for args in ([group, "--help"], [group, "-h"], ["help", group]):
                status, out, err = run(args)
                self.assertEqual(status, 0, args)
                self.assertIn(f"Usage: dvsctl [OPTION...] {group} SUBCOMMAND", out)
                for name in COMMANDS:
                    if name.startswith(group + " "):
                        self.assertIn(name, out, args)

    def test_command_help(self):
        for name, (_, options) in COMMANDS.items():
            words = name.split()
            for args in (words + ["--help"], words + ["-h"], ["help"] + words,
                         ["--help"] + words, well_formed(name) + ["--help"]):
                status, out, err = run(args)
                self.assertEqual(status, 0, args)
                self.assertEqual(err, "", args)
                self.assertIn(f"Usage: dvsctl [OPTION...] {name}", out, args)
                self.assertIn("Global options", out, args)
                for option in options:
                    self.assertIn(option, out, (args, option))

    def test_optional_arguments_in_brackets(self):
        status, out, _ = run(["--help"])
        self.assertEqual(status, 0)
        self.assertIn("switch diff SWITCH FROM [TO]", out)
        self.assertIn("diff FILE1 FILE2", out)
        self.assertIn("portgroup list [SWITCH]", out)

    def test_snapshot_help(self):
        # What each snapshot command's help must say beyond its options.
        expect = {
            "switch export": ["0600", "must not", "exist unless --force"],
            "switch show-version": ["latest", "must not"],
            "switch diff": ["live", "latest", "v000003", "TO defaults to live"],
            "switch import": ["recreate", "new", "apply", "every problem"],
            "switch rollback": ["connections and member hosts stay"],
            "switch history": ["on|off", "0: all"],
        }
        for name, texts in expect.items():
            status, out, _ = run(name.split() + ["--help"])
            self.assertEqual(status, 0, name)
            for text in texts:
                self.assertIn(text, out, (name, text))

    def test_help_needs_no_bus(self):
        # Help never touches the bus, even a broken one.
        status, out, _ = run(["switch", "create", "--help"],
                             env_bus="unix:path=/nonexistent/bus")
        self.assertEqual(status, 0)
        self.assertIn("switch create NAME", out)


class UsageTest(unittest.TestCase):
    CASES = [
        ([], "missing command"),
        (["frobnicate"], 'unknown command "frobnicate"'),
        (["switch"], "switch: missing subcommand"),
        (["switch", "frob"], 'switch: unknown subcommand "frob"'),
        (["switch", "create"], "switch create: missing NAME"),
        (["switch", "create", "a", "b"], 'unexpected argument "b"'),
        (["switch", "create", "a", "--mtu", "big"], "--mtu needs a number"),
        (["switch", "create", "a", "--mtu", "70000"], "--mtu needs a number"),
        (["switch", "create", "a", "--vlan", "3"], "Unknown option --vlan"),
        (["switch", "set", "a"], "nothing to change"),
        (["switch", "join", "a"], "switch join: missing HOST"),
        (["portgroup", "create", "sw"], "missing NAME"),
        (["portgroup", "create", "sw", "pg", "--vlan", "1", "--config", "{}"],
         "not both"),
        (["portgroup", "create", "sw", "pg", "--vlan", "4095"], "--vlan needs a number"),
        (["portgroup", "create", "sw", "pg", "--config", "[1]"], "must be a JSON object"),
        (["portgroup", "create", "sw", "pg", "--config", "{oops"], "not valid JSON"),
        (["portgroup", "create", "sw", "pg", "--config", "@/nonexistent/file.json"],
         "--config"),
        (["portgroup", "create", "sw", "pg", "--ports", "5000"], "--ports needs a number"),
        (["portgroup", "set", "pg"], "give --vlan N or --config JSON"),
        (["portgroup", "add-ports", "pg", "zero"], "N needs a number"),
        (["portgroup", "add-ports", "pg", "0"], "N needs a number"),
        (["port", "connect", "p1", "--host", "h1"], "--host, --vm and --mac are required"),
        (["port", "set", "p1"], "--config is required"),
        (["port", "list", "extra"], 'unexpected argument "extra"'),
        (["topology", "sw", "extra"], 'unexpected argument "extra"'),
        (["topology", "-o", "t.svg"], "-o writes the SVG drawing: give --svg too"),
        (["topology", "--svg", "-o", ""], "-o needs a file name"),
        (["network", "create", "n"], "are required"),
        (["network", "create", "n", "--type", "gre", "--segment", "1",
          "--transport-zone", "tz"], "--type is vlan or vxlan"),
        (["network", "create", "n", "--type", "vlan", "--segment", "4095",
          "--transport-zone", "tz"], "--segment (a VLAN ID) needs a number"),
        (["network", "create", "n", "--type", "vxlan", "--segment", "16777216",
          "--transport-zone", "tz"], "--segment (a VNI) needs a number"),
        (["--timeout", "0", "sync"], "--timeout needs a number"),
        (["sync", "--timeout", "soon"], "--timeout needs a number"),
        (["--bus", "nowhere", "sync"], "--bus needs system, session or a D-Bus address"),
        (["--frob", "sync"], "unknown option --frob"),
        (["--mtu", "9000", "switch", "create", "a"], "unknown option --mtu"),
        (["sync", "--frob"], "Unknown option --frob"),
        (["switch", "set", "a", "--mtu", "big"], "--mtu needs a number"),
        # Snapshots (docs/snapshots.md)
        (["switch", "export"], "switch export: missing SWITCH"),
        (["switch", "export", "sw", "extra"], 'unexpected argument "extra"'),
        (["switch", "export", "sw", "-o", ""], "-o needs a file name"),
        (["switch", "export", "sw", "--output="], "-o needs a file name"),
        (["switch", "export", "sw", "--mode", "new"], "Unknown option --mode"),
        (["switch", "save"], "switch save: missing SWITCH"),
        (["switch", "save", "sw", "--force"], "Unknown option --force"),
        (["switch", "save", "sw", "-o", "x.json"], "Unknown option -o"),
        (["switch", "versions"], "switch versions: missing SWITCH"),
        (["switch", "versions", "sw", "v1"], 'unexpected argument "v1"'),
        (["switch", "show-version", "sw"], "switch show-version: missing VERSION"),
        (["switch", "show-version", "sw", "v1", "-o", ""], "-o needs a file name"),
        (["switch", "diff", "sw"], "switch diff: missing FROM"),
        (["switch", "diff", "sw", "live", "latest", "v1"], 'unexpected argument "v1"'),
        (["switch", "diff", "sw", MISSING], "FROM: "),
        (["switch", "diff", "sw", "latest", MISSING], "TO: "),
        (["switch", "diff", "sw", BROKEN_DOC], "is not valid JSON"),
        (["switch", "diff", "sw", ARRAY_DOC, "live"], "is not a snapshot document"),
        (["switch", "diff", "sw", "-", "-"], "only one of FROM and TO can be -"),
        (["switch", "import"], "switch import: missing FILE"),
        (["switch", "import", DOC], "--mode is required"),
        (["switch", "import", DOC, "--mode", "merge"],
         '--mode is recreate, new or apply, not "merge"'),
        (["switch", "import", DOC, "--mode", "new"], "--mode new needs --name"),
        (["switch", "import", DOC, "--mode", "recreate", "--name", "x"],
         "--name goes with --mode new only"),
        (["switch", "import", DOC, "--mode", "new", "--name", "x", "--target", "sw"],
         "--target goes with --mode apply only"),
        (["switch", "import", MISSING, "--mode", "recreate"], "FILE: "),
        (["switch", "import", ARRAY_DOC, "--mode", "apply"], "is not a snapshot document"),
        (["switch", "import", BROKEN_DOC, "--mode", "apply"], "is not valid JSON"),
        (["switch", "import", LATIN1_DOC, "--mode", "apply"], "is not UTF-8 text"),
        (["switch", "import", NUL_DOC, "--mode", "apply"], "is not UTF-8 text"),
        (["switch", "import", DOC, DOC, "--mode", "apply"], "unexpected argument"),
        (["switch", "rollback", "sw"], "switch rollback: missing VERSION"),
        (["switch", "history"], "switch history: missing SWITCH"),
        (["switch", "history", "sw", "--auto", "yes"], '--auto is on or off, not "yes"'),
        (["switch", "history", "sw", "--keep", "-1"], "--keep needs a number"),
        (["switch", "history", "sw", "--keep", "many"], "--keep needs a number"),
        (["switch", "history", "sw", "--keep", "4294967296"], "--keep needs a number"),
        (["diff"], "diff: missing FILE1"),
        (["diff", DOC], "diff: missing FILE2"),
        (["diff", DOC, DOC, DOC], "unexpected argument"),
        (["diff", DOC, MISSING], "FILE2: "),
        (["diff", BROKEN_DOC, DOC], "FILE1: "),
        (["diff", "-", "-"], "only one of FILE1 and FILE2 can be -"),
    ]

    def test_usage_errors(self):
        for args, message in self.CASES:
            # A broken bus proves usage errors are found before any call.
            status, out, err = run(args, env_bus="unix:path=/nonexistent/bus")
            self.assertEqual(status, 2, (args, err))
            self.assertEqual(out, "", args)
            self.assertTrue(err.startswith("dvsctl: "), (args, err))
            self.assertIn(message, err, args)
            self.assertIn("dvsctl", err.splitlines()[-1], args)

    def test_topology_svg_and_json(self):
        status, out, err = run(["topology", "--svg", "--json"],
                               env_bus="unix:path=/nonexistent/bus")
        self.assertEqual((status, out), (2, ""), err)
        self.assertIn("--svg and --json are two outputs", json.loads(err)["message"])

    def test_usage_errors_as_json(self):
        for args, message in self.CASES:
            status, out, err = run(["--json"] + args,
                                   env_bus="unix:path=/nonexistent/bus")
            self.assertEqual(status, 2, (args, err))
            self.assertEqual(out, "", args)
            error = json.loads(err)
            self.assertEqual(error["error"], "net.dvsqemu.Ctl.Error.Usage", args)
            self.assertIn(message, error["message"], args)

    def test_standard_input(self):
        # - and @- read standard input before anything is asked.
        for args in (["switch", "import", "-", "--mode", "recreate"],
                     ["diff", "-", DOC], ["switch", "diff", "sw", "-"]):
            status, out, err = run(args, env_bus="unix:path=/nonexistent/bus",
                                   stdin_text="[1]")
            self.assertEqual(status, 2, (args, err))
            self.assertIn("standard input is not a snapshot document", err, args)
            status, out, err = run(args, env_bus="unix:path=/nonexistent/bus",
                                   stdin_text='{"format": "dvs-switch-config"}')
            self.assertEqual(status, 3, (args, err))
            self.assertIn("cannot connect", err, args)
        status, out, err = run(["port", "set", "p1", "--config", "@-"],
                               env_bus="unix:path=/nonexistent/bus",
                               stdin_text='{"vlan": 10}')
        self.assertEqual(status, 3, err)

    def test_bad_dvs_bus(self):
        status, _, err = run(["sync"], env_bus="not an address")
        self.assertEqual(status, 2)
        self.assertIn("--bus needs", err)


class OutputFileTest(unittest.TestCase):
    """-o FILE is refused, before anything is asked, when FILE exists."""

    def setUp(self):
        self.path = fixture("exists.json", b"keep me\n")

    def test_refused_without_force(self):
        for args in (["switch", "export", "sw", "-o", self.path],
                     ["switch", "export", "sw", "--output", self.path],
                     ["switch", "show-version", "sw", "latest", "-o", self.path]):
            status, out, err = run(args, env_bus="unix:path=/nonexistent/bus")
            self.assertEqual(status, 1, (args, err))
            self.assertEqual(out, "")
            self.assertIn("exists; give --force to overwrite it", err)
            status, out, err = run(["--json"] + args,
                                   env_bus="unix:path=/nonexistent/bus")
            self.assertEqual(status, 1, (args, err))
            self.assertEqual(json.loads(err)["error"], "net.dvsqemu.Ctl.Error.File")
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), b"keep me\n")

    def test_force_goes_on(self):
        # With --force the manager is asked (and is not there): the file
        # stays as it was.
        status, _, err = run(["switch", "export", "sw", "-o", self.path, "--force"],
                             env_bus="unix:path=/nonexistent/bus")
        self.assertEqual(status, 3, err)
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), b"keep me\n")
        # No temporary file left beside it.
        self.assertEqual([n for n in os.listdir(FIXTURES) if n.startswith(".")], [])


class ManagerAbsentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bus = Bus()

    @classmethod
    def tearDownClass(cls):
        cls.bus.stop()

    def assert_absent(self, status, out, err):
        self.assertEqual(status, 3, err)
        self.assertEqual(out, "")
        self.assertIn("dvsmgr is not running", err)
        self.assertIn("net.dvsqemu.Manager1", err)
        self.assertIn("Start dvsmgr on that bus", err)
        self.assertNotIn("GDBus.Error", err)

    def test_every_command(self):
        for name in COMMANDS:
            with self.subTest(command=name):
                status, out, err = run(["--bus", self.bus.address] + well_formed(name))
                self.assert_absent(status, out, err)
                self.assertTrue(err.startswith("dvsctl: "), err)

    def test_every_command_json(self):
        for name in COMMANDS:
            with self.subTest(command=name):
                status, out, err = run(well_formed(name) + ["--json"],
                                       env_bus=self.bus.address)
                self.assertEqual(status, 3, err)
                self.assertEqual(out, "")
                error = json.loads(err)
                self.assertEqual(set(error), {"error", "message"})
                self.assertEqual(error["error"],
                                 "org.freedesktop.DBus.Error.ServiceUnknown")
                self.assertIn("dvsmgr is not running", error["message"])

    def test_dvs_bus_and_option(self):
        # DVS_BUS is the default; --bus wins over it.
        status, out, err = run(["sync"], env_bus=self.bus.address)
        self.assert_absent(status, out, err)
        status, out, err = run(["--bus", self.bus.address, "sync"],
                               env_bus="unix:path=/nonexistent/bus")
        self.assert_absent(status, out, err)
        status, out, err = run(["sync", "--bus", self.bus.address],
                               env_bus="unix:path=/nonexistent/bus")
        self.assert_absent(status, out, err)

    def test_global_options_anywhere(self):
        for args in (["switch", "--json", "list"], ["--json", "switch", "list"],
                     ["switch", "list", "--json"],
                     ["switch", "--timeout", "3", "create", "--json", "a", "--mtu", "1500"]):
            status, out, err = run(["--bus", self.bus.address] + args)
            self.assertEqual(status, 3, (args, err))
            self.assertEqual(json.loads(err)["error"],
                             "org.freedesktop.DBus.Error.ServiceUnknown", args)

    def test_session_bus(self):
        status, out, err = run(["--bus", "session", "show"],
                               extra_env={"DBUS_SESSION_BUS_ADDRESS": self.bus.address})
        self.assertEqual(status, 3, err)
        self.assertIn("on the session bus", err)

    def test_no_bus(self):
        status, out, err = run(["show"], env_bus="unix:path=/nonexistent/bus")
        self.assertEqual(status, 3)
        self.assertEqual(out, "")
        self.assertIn("cannot connect to the bus at unix:path=/nonexistent/bus", err)
        status, out, err = run(["show", "--json"], env_bus="unix:path=/nonexistent/bus")
        self.assertEqual(status, 3)
        error = json.loads(err)
        self.assertEqual(error["error"], "org.freedesktop.DBus.Error.NoServer")
        self.assertIn("cannot connect", error["message"])

    def test_timeout_option_accepted(self):
        status, out, err = run(["--timeout", "2.5", "--bus", self.bus.address, "sync"])
        self.assert_absent(status, out, err)


def main():
    if shutil.which("dbus-daemon") is None:
        print("SKIP: dbus-daemon is not installed (package dbus)")
        sys.exit(77)
    if not os.access(DVSCTL, os.X_OK):
        print(f"SKIP: no dvsctl at {DVSCTL} (set DVS_DVSCTL)")
        sys.exit(77)
    # meson's timeout sends SIGTERM: leave through atexit, which stops the bus.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    verbosity = int(os.environ.get("DVS_TEST_VERBOSE", "1"))
    result = unittest.main(exit=False, verbosity=verbosity).result
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
