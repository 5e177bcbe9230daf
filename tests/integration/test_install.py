#!/usr/bin/env python3
"""`meson install` of the system integration files (dvsmgr/data/).

Installs the build tree into a temporary DESTDIR and checks that the systemd
units, the D-Bus system bus policy and activation file and the polkit
actions land where systemd, dbus-daemon and polkitd look for them under the
configured prefix, and that those programs accept them:

* the units pass `systemd-analyze verify` (when systemd-analyze exists: it
  comes with the systemd package, which the tests do not install);
* a private dbus-daemon with system-bus defaults loads the policy and the
  activation file; root may own net.dvsqemu.Manager1, another user may not;
  another user may call every interface of dvsmgr/dbus/net.dvsqemu.Manager1.xml
  and the standard ones, and nothing else;
* the polkit file defines the three actions dvsmgr checks, admin-only;
* the manual pages land in mandir (man1, man8) with the version filled in.

Environment: DVS_BUILD_ROOT (the build tree; set by meson test), DVS_MESON
(default: meson on PATH).  Run: meson test -C build --suite integration install
"""

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import run  # noqa: E402

BUILD = os.environ.get("DVS_BUILD_ROOT") or os.path.join(dvstest.SRC_ROOT, "build")
MESON = os.environ.get("DVS_MESON") or shutil.which("meson") or "meson"
API_XML = os.path.join(dvstest.SRC_ROOT, "dvsmgr/dbus/net.dvsqemu.Manager1.xml")
BUS_NAME = "net.dvsqemu.Manager1"
STANDARD_INTERFACES = ("org.freedesktop.DBus.Introspectable",
                       "org.freedesktop.DBus.Properties",
                       "org.freedesktop.DBus.ObjectManager",
                       "org.freedesktop.DBus.Peer")
POLKIT_ACTIONS = ("net.dvsqemu.configure", "net.dvsqemu.connect", "net.dvsqemu.hosts",
                  "net.dvsqemu.migrate")
MAN_PAGES = ("man8/dvs-switchd.8", "man8/dvsmgr.8", "man1/dvsctl.1", "man1/dvs-switchctl.1")
UNITS = ("dvsmgr.service", "dvs-switchd@.service", "dvs.target")
NOBODY = 65534

# The default part of Debian's /usr/share/dbus-1/system.conf: method calls
# and name ownership denied unless a policy file allows them.
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{servicedir}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"""


def read_unit(path):
    """A unit or .service file as {section: {key: value}} (no repeated keys
    in ours, so configparser will do; it keeps the keys' case)."""
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str
    with open(path, encoding="utf-8") as f:
        cp.read_file(f)
    return {s: dict(cp[s]) for s in cp.sections()}


def api_interfaces():
    return sorted(i.get("name") for i in ET.parse(API_XML).getroot().iter("interface"))


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = dvstest.tempdir()
        cls.dest = os.path.join(cls.tmp, "dest")
        cp = run([MESON, "install", "-C", BUILD, "--destdir", cls.dest, "--no-rebuild"],
                 check=False, timeout=300)
        log = os.path.join(cls.tmp, "meson-install.log")
        with open(log, "w") as f:
            f.write(cp.stdout + cp.stderr)
        dvstest.register_log("meson install", log)
        if cp.returncode != 0:
            raise AssertionError("meson install failed (exit %d):\n%s"
                                 % (cp.returncode, dvstest.tail(log)))
        opts = {o["name"]: o["value"] for o in
                json.loads(run([MESON, "introspect", BUILD, "--buildoptions"]).stdout)}
        cls.installed = set(json.loads(
            run([MESON, "introspect", BUILD, "--installed"]).stdout).values())
        prefix = opts["prefix"]
        cls.sbindir = os.path.join(prefix, opts["sbindir"])
        datadir = os.path.join(prefix, opts["datadir"])
        cls.unitdir = os.path.join(prefix, "lib/systemd/system")
        cls.bus_policy = os.path.join(datadir, "dbus-1/system.d", BUS_NAME + ".conf")
        cls.bus_service = os.path.join(datadir, "dbus-1/system-services",
                                       BUS_NAME + ".service")
        cls.polkit = os.path.join(datadir, "polkit-1/actions/net.dvsqemu.policy")
        cls.mandir = os.path.join(prefix, opts["mandir"])

    def staged(self, path):
        """Where PATH of the installed system is in the DESTDIR."""
        return self.dest + path

    def expected_files(self):
        return [os.path.join(self.unitdir, u) for u in UNITS] + [
            self.bus_policy, self.bus_service, self.polkit] + [
            os.path.join(self.mandir, m) for m in MAN_PAGES]

    def test_files_land_where_expected(self):
        for path in self.expected_files():
            with self.subTest(path=path):
                self.assertIn(path, self.installed, "not in meson's install plan")
                self.assertTrue(os.path.isfile(self.staged(path)), "not installed")
                with open(self.staged(path), encoding="utf-8") as f:
                    text = f.read()
                self.assertIsNone(re.search(r"@[A-Za-z_]+@", text),
                                  "a configure_file placeholder is left")
        self.assertTrue(os.access(self.staged(os.path.join(self.sbindir, "dvs-switchd")),
                                  os.X_OK), "dvs-switchd not installed in sbindir")

    def test_units(self):
        mgr = read_unit(self.staged(os.path.join(self.unitdir, "dvsmgr.service")))
        svc = mgr["Service"]
        self.assertEqual(svc["Type"], "dbus")
        self.assertEqual(svc["BusName"], BUS_NAME)
        self.assertEqual(svc["ExecStart"],
                         os.path.join(self.sbindir, "dvsmgr") + " --bus system")
        self.assertEqual(svc["StateDirectory"], "dvsmgr")
        self.assertEqual(svc["RuntimeDirectory"], "dvs")
        self.assertEqual(svc["RuntimeDirectoryPreserve"], "yes")
        self.assertEqual(svc["ProtectSystem"], "strict")
        self.assertEqual(svc["Restart"], "on-failure")
        self.assertEqual(mgr["Install"]["WantedBy"], "dvs.target")

        sw = read_unit(self.staged(os.path.join(self.unitdir, "dvs-switchd@.service")))
        svc = sw["Service"]
        argv = svc["ExecStart"].split()
        self.assertEqual(argv[0], os.path.join(self.sbindir, "dvs-switchd"))
        self.assertIn("--name %i", svc["ExecStart"])
        self.assertIn("--config /etc/dvs/%i.conf", svc["ExecStart"])
        self.assertEqual(svc["Type"], "exec")       # dvs-switchd has no sd_notify
        self.assertEqual(svc["StateDirectory"], "dvs/%i")
        self.assertEqual(svc["RuntimeDirectory"], "dvs/%i")
        self.assertEqual(svc["RuntimeDirectoryPreserve"], "yes")
        self.assertEqual(svc["LimitMEMLOCK"], "infinity")
        self.assertEqual(svc["Restart"], "on-failure")
        for key in ("PrivateDevices", "DeviceAllow", "PrivateTmp", "ProtectClock"):
            self.assertNotIn(key, svc, "would cut DPDK or vhost-user sockets off")
        self.assertEqual(sw["Install"]["WantedBy"], "dvs.target")

        target = read_unit(self.staged(os.path.join(self.unitdir, "dvs.target")))
        self.assertEqual(target["Install"]["WantedBy"], "multi-user.target")

    def test_units_pass_systemd_analyze_verify(self):
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            # The tests do not install systemd; the checks above still ran.
            sys.stderr.write("note: no systemd-analyze (package systemd): "
                             "units not verified by systemd\n")
            return
        # Copies whose programs are the staged ones: verify insists that
        # ExecStart exists.  One not installed by this build (dvsmgr before
        # its target exists) is replaced by /bin/true, and said so.
        verify_dir = os.path.join(self.tmp, "verify")
        os.makedirs(verify_dir, exist_ok=True)
        for unit in UNITS:
            with open(self.staged(os.path.join(self.unitdir, unit)), encoding="utf-8") as f:
                text = f.read()
            for prog in sorted(set(re.findall(r"(?m)^ExecStart=(\S+)", text))):
                if prog in self.installed:
                    self.assertTrue(os.access(self.staged(prog), os.X_OK), prog)
                    text = text.replace(prog, self.staged(prog))
                else:
                    sys.stderr.write("note: %s: %s is not built yet; verified with "
                                     "/bin/true in its place\n" % (unit, prog))
                    text = text.replace(prog, "/bin/true")
            with open(os.path.join(verify_dir, unit), "w", encoding="utf-8") as f:
                f.write(text)
        cp = run([analyze, "verify", "--man=no"] + [os.path.join(verify_dir, u) for u in UNITS],
                 check=False)
        self.assertEqual(cp.returncode, 0, cp.stdout + cp.stderr)
        self.assertEqual(cp.stderr.strip(), "", "systemd-analyze verify warned")

    def test_dbus_files_parse(self):
        root = ET.parse(self.staged(self.bus_policy)).getroot()
        self.assertEqual(root.tag, "busconfig")
        owners = [(p.attrib, a.attrib) for p in root.iter("policy") for a in p
                  if a.tag == "allow" and "own" in a.attrib]
        self.assertEqual(owners, [({"user": "root"}, {"own": BUS_NAME})])
        allowed = set()
        for policy in root.iter("policy"):
            for rule in policy:
                self.assertNotEqual(rule.tag, "deny", "the policy only allows")
                if "send_destination" in rule.attrib:
                    self.assertEqual(policy.attrib, {"context": "default"})
                    self.assertEqual(rule.attrib["send_destination"], BUS_NAME)
                    allowed.add(rule.attrib.get("send_interface", "*"))
        self.assertEqual(allowed, set(api_interfaces()) | set(STANDARD_INTERFACES))

        act = read_unit(self.staged(self.bus_service))["D-BUS Service"]
        self.assertEqual(act, {"Name": BUS_NAME,
                               "Exec": os.path.join(self.sbindir, "dvsmgr") + " --bus system",
                               "User": "root",
                               "SystemdService": "dvsmgr.service"})

    def test_dbus_daemon_enforces_policy(self):
        dvstest.require_root()      # to call as another user
        busdir = os.path.join(self.tmp, "bus")
        servicedir = os.path.join(busdir, "services")
        os.makedirs(servicedir)
        os.chmod(self.tmp, 0o755)
        os.chmod(busdir, 0o755)
        socket_path = os.path.join(busdir, "socket")
        # The installed activation file with a program that fails at once:
        # an activation attempt (not AccessDenied) shows the call passed the
        # policy, and that dbus-daemon read the file.
        with open(self.staged(self.bus_service), encoding="utf-8") as f:
            activation = re.sub(r"(?m)^Exec=.*$", "Exec=/bin/false", f.read())
        with open(os.path.join(servicedir, BUS_NAME + ".service"), "w") as f:
            f.write(activation)
        config = os.path.join(busdir, "bus.conf")
        with open(config, "w") as f:
            f.write(BUS_CONFIG.format(socket=socket_path, servicedir=servicedir,
                                      policy=self.staged(self.bus_policy)))
        log = os.path.join(busdir, "dbus-daemon.log")
        dvstest.register_log("dbus-daemon", log)
        with open(log, "wb") as err:
            bus = dvstest.Proc("dbus-daemon", ["dbus-daemon", "--config-file", config,
                                               "--nofork", "--nopidfile", "--print-address=1"],
                               stdout=subprocess.PIPE, stderr=err)
        try:
            address = bus.popen.stdout.readline().decode().strip()
            self.assertTrue(address.startswith("unix:"),
                            "dbus-daemon refused the configuration:\n" + dvstest.tail(log))

            def send(uid, dest, path, member, *args):
                argv = ["dbus-send", "--bus=" + address, "--print-reply",
                        "--reply-timeout=10000", "--dest=" + dest, path, member] + list(args)
                if uid != 0:
                    argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
                            "--clear-groups", "--"] + argv
                cp = run(argv, check=False, timeout=30)
                return cp.stdout + cp.stderr

            def request_name(uid):
                return send(uid, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus.RequestName",
                            "string:" + BUS_NAME, "uint32:0")

            self.assertRegex(request_name(0), r"uint32 1\b")   # primary owner
            self.assertIn("AccessDenied", request_name(NOBODY))
            for iface in api_interfaces() + list(STANDARD_INTERFACES):
                with self.subTest(interface=iface):
                    out = send(NOBODY, BUS_NAME, "/net/dvsqemu/Manager1", iface + ".Probe")
                    self.assertNotIn("AccessDenied", out)
                    self.assertIn("org.freedesktop.DBus.Error.Spawn", out)
            out = send(NOBODY, BUS_NAME, "/net/dvsqemu/Manager1", "net.dvsqemu.Other1.Probe")
            self.assertIn("AccessDenied", out)
        finally:
            bus.stop()

    def test_man_pages(self):
        for page in MAN_PAGES:
            with self.subTest(page=page):
                with open(self.staged(os.path.join(self.mandir, page)), encoding="utf-8") as f:
                    head = f.readline()
                name, section = os.path.basename(page).rsplit(".", 1)
                self.assertRegex(head, r'^\.TH %s %s "[^"]*" "dvs \d+\.\d+\.\d+"'
                                 % (re.escape(name.upper().replace("-", "\\-")), section))

    def test_polkit_actions(self):
        root = ET.parse(self.staged(self.polkit)).getroot()
        self.assertEqual(root.tag, "policyconfig")
        actions = {a.get("id"): a for a in root.findall("action")}
        self.assertEqual(sorted(actions), sorted(POLKIT_ACTIONS))
        for action_id, action in actions.items():
            with self.subTest(action=action_id):
                for tag in ("description", "message"):
                    self.assertTrue((action.findtext(tag) or "").strip(), tag)
                defaults = action.find("defaults")
                self.assertEqual({d.tag: d.text for d in defaults},
                                 {"allow_any": "no", "allow_inactive": "no",
                                  "allow_active": "auth_admin_keep"})


if __name__ == "__main__":
    dvstest.main()
