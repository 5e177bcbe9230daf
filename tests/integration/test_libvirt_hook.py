#!/usr/bin/env python3
"""The libvirt hook and `dvsctl vm` end to end, with a real libvirtd.

Set-up: a private dbus-daemon, dvsmgr, one dvs-switchd host h1 on a DVswitch
with a port group, and a libvirtd of the test's own: it runs in a mount
namespace of its own (unshare --mount) where /etc/libvirt, /run/libvirt,
/var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt are bind mounts
of a temporary tree, so the machine's libvirt configuration and any
running system libvirtd are never touched (only empty mount points are
created if missing).  The hook under test is installed in that private
/etc/libvirt/hooks/qemu.d/dvs before libvirtd starts (it reads hooks at
start).  The guest is the TCG test guest (tests/guest/mkinitramfs.sh)
booted directly from its kernel and initramfs.

  1  dvsctl vm attach allocates a port of the group, connects it and edits
     the persistent definition (interface, memfd, vectors=0, metadata)
  2  virsh start: the hook attaches the DVport, its link comes up (switch
     and manager), the guest's console shows its NIC up; virsh destroy:
     link down, detached by the hook; virsh start again works
  3  the hook fails closed on prepare (virsh start refused with the hook's
     message) and open on stopped when the switch is down; migrate is
     refused by the manager with a clear message (a stale connection ID)
  4  hook timing (printed)
  5  dvsctl vm detach undoes the attach and disconnects the port
Run as root: python3 tests/integration/test_libvirt_hook.py
"""

import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import HarnessError, Proc, register_log, tail, wait_until  # noqa: E402

HOOK = os.environ.get("DVS_LIBVIRT_HOOK") or os.path.join(dvstest.SRC_ROOT,
                                                          "build/libvirt-hooks/dvs")
MAC = "52:54:00:d6:00:01"
PRIVATE_DIRS = ("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt",
                "/var/log/libvirt")


class Libvirtd:
    """libvirtd with private config and state dirs (see the module doc)."""

    def __init__(self, workdir):
        self.root = os.path.join(workdir, "libvirt-host")
        for d in PRIVATE_DIRS:
            os.makedirs(self.root + d, exist_ok=True)
        etc = self.root + "/etc/libvirt"
        with open(os.path.join(etc, "libvirtd.conf"), "w") as f:
            f.write('auth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                    'host_uuid = "%s"\n'
                    'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n' % uuid.uuid4())
        with open(os.path.join(etc, "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\nsecurity_driver = "none"\n'
                    'stdio_handler = "file"\nnamespaces = [ ]\ncgroup_controllers = [ ]\n')
        hooks = os.path.join(etc, "hooks", "qemu.d")
        os.makedirs(hooks)
        shutil.copy(HOOK, os.path.join(hooks, "dvs"))
        os.chmod(os.path.join(hooks, "dvs"), 0o755)
        # libvirtd resolves its built-in default user (Debian: libvirt-qemu,
        # made by libvirt-daemon-system) before it reads qemu.conf: give the
        # namespace its own passwd and group files that have it.
        self.accounts = []
        for name, line in (("passwd", "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin\n"),
                           ("group", "libvirt-qemu:x:64055:\nkvm:x:64056:\n")):
            with open("/etc/" + name) as f:
                text = f.read()
            if line.split(":")[0] + ":" not in text:
                path = os.path.join(self.root, name)
                with open(path, "w") as f:
                    f.write(text + ("" if text.endswith("\n") else "\n") + line)
                self.accounts.append((path, "/etc/" + name))
        self.sock = self.root + "/run/libvirt/libvirt-sock"
        self.uri = "qemu+unix:///system?socket=" + self.sock
        self.logpath = os.path.join(workdir, "libvirtd.stderr.log")
        self.proc = None

    def start(self, timeout=60):
        for d in PRIVATE_DIRS:
            os.makedirs(d, exist_ok=True)   # mount points only
        script = "set -e\n" + "".join(
            "mount --bind '%s' '%s'\n" % (self.root + d, d) for d in PRIVATE_DIRS) + "".join(
            "mount --bind '%s' '%s'\n" % pair for pair in self.accounts) + \
            "exec libvirtd -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid\n"
        log = open(self.logpath, "ab")
        register_log("libvirtd", self.logpath)
        register_log("libvirtd log", self.root + "/var/log/libvirt/libvirtd.log")
        self.proc = Proc("libvirtd", ["unshare", "--mount", "--propagation", "private",
                                      "sh", "-c", script],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()

        def ready():
            if not self.proc.alive():
                raise HarnessError("libvirtd exited:\n%s" % tail(self.logpath))
            return os.path.exists(self.sock) and self.virsh("version", check=False).returncode == 0
        wait_until(ready, timeout, "libvirtd on %s" % self.sock, interval=0.2)
        return self

    def virsh(self, *args, check=True, timeout=120):
        cp = subprocess.run(["virsh", "-c", self.uri] + list(args), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=timeout)
        if check and cp.returncode != 0:
            raise HarnessError("virsh %s: exit %d\n%s%s" % (" ".join(args), cp.returncode,
                                                           cp.stdout, cp.stderr))
        return cp

    def qemu_pids(self):
        d = self.root + "/run/libvirt/qemu"
        pids = []
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.endswith(".pid"):
                try:
                    with open(os.path.join(d, name)) as f:
                        pids.append(int(f.read().strip()))
                except (OSError, ValueError):
                    pass
        return pids

    def stop(self):
        if self.proc is None:
            return
        if self.proc.alive():
            cp = self.virsh("list", "--name", check=False, timeout=20)
            for name in cp.stdout.split():
                self.virsh("destroy", name, check=False, timeout=30)
        # Guests libvirtd could not end, and anything it left behind.
        for pid in self.qemu_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.stop(15)
        self.proc = None


def domain_xml(name, kernel, initrd, console, mac):
    return """<domain type='qemu'>
  <name>%(name)s</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <initrd>%(initrd)s</initrd>
    <cmdline>console=ttyS0 quiet loglevel=1 panic=-1 dvs.name=%(name)s dvs.mac=%(mac)s</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>%(qemu)s</emulator>
    <serial type='file'><source path='%(console)s'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
""" % {"name": name, "kernel": kernel, "initrd": initrd, "console": console, "mac": mac,
       "qemu": shutil.which(dvstest.QEMU)}


def run_hook(xml, op, sub="begin", env=None, domain="vm"):
    t0 = time.monotonic()
    cp = subprocess.run([HOOK, domain, op, sub, "-"], input=xml, capture_output=True,
                        text=True, timeout=30, env=env)
    return cp, (time.monotonic() - t0) * 1000.0


class LibvirtHook(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        for tool in ("libvirtd", "virsh", "unshare", "mount"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("%s is not installed (Debian libvirt-daemon, "
                                        "libvirt-clients)" % tool)
        if not os.access(HOOK, os.X_OK):
            raise HarnessError("the hook is not at %s (build it, or set DVS_LIBVIRT_HOOK)" % HOOK)
        cls.kernel, cls.initrd = dvstest.guest_images()
        cls.tmp = dvstest.tempdir()
        cls.libvirt = None
        cls.bus = mgrtest.Bus(cls.tmp)
        cls.mgr = mgrtest.Manager(cls.tmp, cls.bus, authorization="none").start()
        cls.libvirt = Libvirtd(cls.tmp).start()
        cls.mgr.register_host("h1", {"libvirt_uri": cls.libvirt.uri})
        cls.h1 = mgrtest.host_switch(cls.tmp, "h1", cls.mgr).start()
        cls.mgr.wait_connected("h1")
        cls.sw_path, cls.sw = cls.mgr.create_switch("prod", {"transport_zone": "tz1"})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "web", {"vlan": 10}, 4)
        cls.mgr.join(cls.sw_path, "h1")
        cls.mgr.wait_in_sync(["h1"])
        cls.dom = "dvsvm%d" % os.getpid()
        cls.console = os.path.join(cls.tmp, "console.log")
        register_log("guest console", cls.console)
        xml = os.path.join(cls.tmp, "dom.xml")
        with open(xml, "w") as f:
            f.write(domain_xml(cls.dom, cls.kernel, cls.initrd, cls.console, MAC))
        cls.libvirt.virsh("define", xml)
        cls.vnic_sock = os.path.join(cls.tmp, "vhost", cls.dom + ".sock")
        cls.key = cls.conn = None

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "libvirt", None):
            cls.libvirt.stop()

    # -- helpers ---------------------------------------------------------------
    def dvsctl(self, *args):
        return self.mgr.dvsctl(*args, timeout=60)

    def inactive_xml(self):
        return self.libvirt.virsh("dumpxml", "--inactive", self.dom).stdout

    def show(self):
        return self.h1.call("dvport.show", {"switch": self.sw, "port": self.key})

    def wait_console(self, timeout=180):
        """The guest's ready line (libvirt truncates the console file at
        each start)."""
        def ready():
            try:
                with open(self.console, errors="replace") as f:
                    return re.search(r"DVS-(READY|FAILED)[^\n]*\n", f.read())
            except OSError:
                return None
        m = wait_until(ready, timeout, "the guest's ready line on its console", interval=0.5)
        self.assertEqual(m.group(1), "READY", m.group(0))
        return m.group(0)

    def start_and_check_up(self):
        t0 = time.monotonic()
        self.libvirt.virsh("start", self.dom, timeout=180)
        started = time.monotonic() - t0
        wait_until(lambda: self.show()["link"] == "up", 60, "the DVport's link up on h1")
        show = self.show()
        self.assertTrue(show["attached"])
        self.assertEqual(show["socket"], self.vnic_sock)
        self.assertEqual(show["connection"]["id"], self.conn)
        wait_until(lambda: self.mgr.port(self.key)["Link"] == "up", 20,
                   "the manager to see the link up")
        line = self.wait_console()
        self.assertIn("mac=" + MAC, line)
        return started

    # -- the scenario ----------------------------------------------------------
    def test_01_vm_attach_edits_the_definition(self):
        rc, out, err = self.dvsctl("--json", "vm", "attach", self.dom, "--portgroup", "web",
                                   "--mac", MAC.upper(), "--socket", self.vnic_sock,
                                   "--control-socket", self.h1.control, "--tcg-workaround",
                                   "--libvirt-uri", self.libvirt.uri)
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        type(self).key, type(self).conn = res["port"], res["connection_id"]
        self.assertEqual(res["host"], "h1", "the host is found by its libvirt URI")
        self.assertEqual(res["switch"], self.sw)
        self.assertEqual(res["mac"], MAC)
        self.assertEqual(res["alias"], "ua-dvs0")
        port = self.mgr.port(self.key)
        self.assertEqual(port["ConnectionId"], self.conn)
        self.assertEqual(port["Host"], "h1")
        self.assertEqual(port["ConnecteeMac"], MAC)
        self.assertEqual(port["ConnecteeInterface"], "ua-dvs0")
        uuid_ = self.libvirt.virsh("domuuid", self.dom).stdout.strip()
        self.assertEqual(port["ConnecteeVm"], uuid_)
        xml = self.inactive_xml()
        self.assertRegex(xml, r"<interface type=.vhostuser.>")
        self.assertIn(self.vnic_sock, xml)
        self.assertRegex(xml, r"<source type=.memfd.")
        self.assertRegex(xml, r"<access mode=.shared.")
        self.assertRegex(xml, r"<qemu:device alias=.ua-dvs0.>")
        self.assertRegex(xml, r"name=.vectors. type=.unsigned. value=.0.")
        self.assertIn('xmlns:dvs="https://dvsqemu.net/xmlns/libvirt/1"', xml)
        self.assertIn('connection="%s"' % self.conn, xml)
        # The same MAC twice is refused, and nothing is connected for it.
        free_before = self.mgr.props(self.pg_path, "PortGroup1")["FreePorts"]
        rc, out, err = self.dvsctl("vm", "attach", self.dom, "--portgroup", "web", "--mac", MAC,
                                   "--libvirt-uri", self.libvirt.uri)
        self.assertEqual(rc, 1, err)
        self.assertIn("already has an interface with MAC", err)
        self.assertEqual(self.mgr.props(self.pg_path, "PortGroup1")["FreePorts"], free_before)
        # Usage and unknown domains.
        rc, _, err = self.dvsctl("vm", "attach", self.dom, "--libvirt-uri", self.libvirt.uri)
        self.assertEqual(rc, 2, err)
        rc, _, err = self.dvsctl("vm", "attach", "nosuchvm", "--port", self.key,
                                 "--libvirt-uri", self.libvirt.uri)
        self.assertEqual(rc, 1, err)
        self.assertIn('no domain named "nosuchvm"', err)
        rc, _, err = self.dvsctl("vm", "detach", self.dom, "--libvirt-uri",
                                 "qemu+unix:///system?socket=/nonexistent/sock")
        self.assertEqual(rc, 3, err)

    def test_02_start_destroy_start(self):
        self.mgr.wait_in_sync(["h1"])
        first = self.start_and_check_up()
        self.libvirt.virsh("destroy", self.dom)
        wait_until(lambda: not self.show()["attached"], 20, "the hook to detach the vNIC")
        self.assertEqual(self.show()["link"], "down")
        wait_until(lambda: self.mgr.port(self.key)["Link"] == "down", 20,
                   "the manager to see the link down")
        second = self.start_and_check_up()
        sys.stderr.write("\n[virsh start with the hook: %.2f s, again %.2f s]\n" % (first, second))
        self.libvirt.virsh("destroy", self.dom)
        wait_until(lambda: not self.show()["attached"], 20, "the hook to detach the vNIC")

    def test_03_failure_modes(self):
        xml = self.inactive_xml()
        dead = xml.replace('control-socket="%s"' % self.h1.control,
                           'control-socket="%s"' % os.path.join(self.tmp, "no-switch.sock"))
        self.assertNotEqual(dead, xml)
        cp, _ = run_hook(dead, "prepare")
        self.assertEqual(cp.returncode, 1, "prepare fails closed")
        self.assertIn("cannot attach vNIC %s to DVport %s" % (MAC, self.key), cp.stderr)
        self.assertIn("no such socket", cp.stderr)
        self.assertEqual(cp.stdout, "", "a hook never writes on stdout")
        cp, _ = run_hook(dead, "stopped", "end")
        self.assertEqual(cp.returncode, 0, "stopped fails open")
        self.assertIn("warning: cannot detach", cp.stderr)
        cp, _ = run_hook(dead, "reconnect")
        self.assertEqual(cp.returncode, 0, "reconnect fails open")
        # Migration to a host that does not hold the port with this ID.
        stale = xml.replace('connection="%s"' % self.conn, 'connection="stale-id"')
        cp, _ = run_hook(stale, "migrate")
        self.assertEqual(cp.returncode, 1)
        self.assertIn("live migration refused for vNIC %s" % MAC, cp.stderr)
        self.assertIn("the manager refused the migration", cp.stderr)
        self.assertIn("stale or wrong", cp.stderr)
        cp, _ = run_hook(xml, "migrate")
        self.assertEqual(cp.returncode, 0, "the port is delegated here: " + cp.stderr)
        # A stale connection ID is refused by the switch, with the hint.
        cp, _ = run_hook(stale, "prepare")
        self.assertEqual(cp.returncode, 1)
        self.assertIn("connection ID", cp.stderr)
        # Malformed metadata is refused at prepare, with the entry named.
        bad = xml.replace('port="%s"' % self.key, 'port="bad key!"')
        cp, _ = run_hook(bad, "prepare")
        self.assertEqual(cp.returncode, 1)
        self.assertIn("<dvs:port> entry 1", cp.stderr)
        # Without metadata the hook does nothing, whatever the operation.
        cp, _ = run_hook("<domain><name>x</name></domain>", "prepare")
        self.assertEqual((cp.returncode, cp.stderr), (0, ""))
        # The control socket from $DVS_CONTROL_SOCKET and from the config file.
        plain = xml.replace(' control-socket="%s"' % self.h1.control, "")
        self.assertNotIn("control-socket", plain)
        env = dict(os.environ, DVS_CONTROL_SOCKET=self.h1.control,
                   DVS_LIBVIRT_HOOK_CONF=os.path.join(self.tmp, "none.conf"))
        cp, _ = run_hook(plain, "migrate", env=env)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        conf = os.path.join(self.tmp, "hook.conf")
        with open(conf, "w") as f:
            f.write("[hook]\ncontrol-socket=%s\ntimeout-ms=500\n" % self.h1.control)
        env = dict(os.environ, DVS_LIBVIRT_HOOK_CONF=conf)
        env.pop("DVS_CONTROL_SOCKET", None)
        cp, _ = run_hook(plain, "migrate", env=env)
        self.assertEqual(cp.returncode, 0, cp.stderr)

        # Through libvirt: the switch down, virsh start is refused with the
        # hook's message; with the guest running, destroy still works.
        self.h1.stop()
        try:
            cp = self.libvirt.virsh("start", self.dom, check=False, timeout=120)
            self.assertNotEqual(cp.returncode, 0)
            self.assertIn("cannot attach vNIC %s" % MAC, cp.stderr)
            self.assertEqual(self.libvirt.virsh("domstate", self.dom).stdout.strip(), "shut off")
        finally:
            self.h1.start()
        self.mgr.wait_connected("h1")
        self.libvirt.virsh("start", self.dom, timeout=180)
        wait_until(lambda: self.show()["link"] == "up", 60, "link up")
        self.h1.stop()
        try:
            cp = self.libvirt.virsh("destroy", self.dom, check=False, timeout=60)
            self.assertEqual(cp.returncode, 0, "stopped/release fail open: " + cp.stderr)
        finally:
            self.h1.start()
        self.mgr.wait_connected("h1")
        # The switch restarts with the attachment it had recorded; the
        # next start of the domain finds it attached (the hook's attach is
        # idempotent) and the link comes up.
        self.start_and_check_up()
        self.libvirt.virsh("destroy", self.dom)
        wait_until(lambda: not self.show()["attached"], 20, "detached")

    def test_04_hook_timing(self):
        xml = self.inactive_xml()
        times = {"prepare": [], "start": [], "stopped": [], "started": []}
        for _ in range(15):
            for op in ("prepare", "start", "started", "stopped"):
                cp, ms = run_hook(xml, op)
                self.assertEqual(cp.returncode, 0, cp.stderr)
                times[op].append(ms)
        self.assertFalse(self.show()["attached"])
        summary = ", ".join("%s median %.1f ms max %.1f ms" % (op, statistics.median(v), max(v))
                            for op, v in times.items())
        sys.stderr.write("\n[hook timing (process start to exit): %s]\n" % summary)
        # Speed is a figure (printed above, docs/libvirt.md), not an
        # assertion: on 2 loaded cores a process start can take 100 ms.
        # What must hold is the hook's bound: no call may outlast its
        # timeout (timeout-ms, 2 s), or libvirt would wait on it.
        for op, v in times.items():
            self.assertLess(max(v), 2000.0 + 1000.0, "%s outlasted the hook's timeout: %s"
                            % (op, summary))

    def test_05_vm_detach(self):
        rc, out, err = self.dvsctl("--json", "vm", "detach", self.dom, "--libvirt-uri",
                                   self.libvirt.uri)
        self.assertEqual(rc, 0, err)
        res = json.loads(out)
        self.assertEqual(res["detached"], [{"mac": MAC, "port": self.key, "switch": self.sw,
                                            "disconnected": True}])
        xml = self.inactive_xml()
        self.assertNotIn("vhostuser", xml)
        self.assertNotIn("dvsqemu.net", xml)
        self.assertNotIn("qemu:override", xml)
        self.assertEqual(self.mgr.port(self.key)["ConnectionId"], "")
        rc, _, err = self.dvsctl("vm", "detach", self.dom, "--libvirt-uri", self.libvirt.uri)
        self.assertEqual(rc, 1)
        self.assertIn("has no vNIC on a DVport", err)
        # The domain still starts, without the vNIC: the hook has nothing
        # to do (the test guest then reports it has no eth0).
        self.libvirt.virsh("start", self.dom, timeout=180)
        self.assertEqual(self.libvirt.virsh("domstate", self.dom).stdout.strip(), "running")
        self.libvirt.virsh("destroy", self.dom)
        # The port is free again: the manager took it away from h1.
        self.mgr.wait_in_sync(["h1"])
        self.assertEqual(mgrtest.held_switch(self.h1, self.sw)["ports"], [])


if __name__ == "__main__":
    dvstest.main()
