#!/usr/bin/env python3
"""`virsh migrate --live` between two real libvirtd hosts (libvirt2.py on
twohost.py): dvsmgr, hosts h1 and h2 each with its own network, mount and
UTS namespace, dvs-switchd and libvirtd (own host UUID, the hook installed),
a domain with our vhost-user interface on a DVport.

  01  virsh start on h1: the hook attaches the DVport, its link comes up
  02  virsh migrate --live h1 -> h2 with the port group's network hidden on
      h2: refused by the destination's hook with the manager's reason on
      virsh's stderr; the guest keeps running on h1 with its port attached,
      up and counting, h2 has no such domain and holds nothing.  Network
      shown again: the guest runs on h2, its DVport attached and up there
      with its connection ID and counters continuing, h1 holds nothing of
      it, the manager names h2; then it migrates back.
  03  dvsctl vm migrate (the manager's MigrateVM through its libvirt
      connections) h1 -> h2: the same checks as 02
  04  virsh destroy: the hook detaches, the link goes down
Run as root: python3 tests/integration/test_virsh_migrate.py
"""

import json
import os
import re
import shutil
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import libvirt2  # noqa: E402
import twohost  # noqa: E402
from dvstest import register_log, wait_until  # noqa: E402

A = ("vma", "02:d9:00:00:0a:01", "10.0.0.1/24")


def counters(show):
    return {"rx": show["stats"]["rx"]["packets"], "tx": show["stats"]["tx"]["packets"]}


class VirshMigrate(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        twohost.require()
        for tool in ("libvirtd", "virsh"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("%s is not installed (Debian libvirt-daemon, "
                                        "libvirt-daemon-driver-qemu, libvirt-clients)" % tool)
        cls.t0 = time.monotonic()
        cls.libvirt = {}
        tmp = dvstest.tempdir()
        cls.w = twohost.World(host_binds=libvirt2.host_binds(tmp),
                              host_config=lambda h: {"libvirt_uri": libvirt2.uri_of(h)})
        for name, host in cls.w.hosts.items():
            cls.libvirt[name] = libvirt2.Libvirtd(host).start()
        cls.a = cls.w.new_guest(A[0], A[1], ip=A[2])
        cls.w.connect_port(cls.a, cls.w.hosts["h1"])
        cls.console = os.path.join(cls.w.tmp, "vma.console.log")
        register_log("guest vma console", cls.console)
        xml = os.path.join(cls.w.tmp, "vma.xml")
        with open(xml, "w") as f:
            f.write(libvirt2.domain_xml(cls.a, cls.console))
        cls.libvirt["h1"].virsh("define", xml)

    @classmethod
    def tearDownClass(cls):
        for lv in getattr(cls, "libvirt", {}).values():
            lv.stop()
        if hasattr(cls, "t0"):
            sys.stderr.write("\n[test_virsh_migrate: %.1f s]\n" % (time.monotonic() - cls.t0))

    def show(self, host):
        return self.w.show(host, self.a)

    def console_count(self, pattern):
        try:
            with open(self.console, errors="replace") as f:
                return len(re.findall(pattern, f.read()))
        except OSError:
            return 0

    def where(self):
        return [h for h, lv in self.libvirt.items() if lv.domstate(self.a.name) == "running"]

    def assert_running_on(self, host, before=None):
        self.assertEqual(self.where(), [host])
        show = self.show(host)
        self.assertTrue(show["attached"], show)
        self.assertEqual(show["link"], "up", show)
        self.assertEqual(show["connection"]["id"], self.a.conn)
        now = counters(show)
        if before:
            for k in now:
                self.assertGreaterEqual(now[k], before[k], "%r -> %r" % (before, now))
        return now

    def test_01_start(self):
        self.libvirt["h1"].virsh("start", self.a.name, timeout=180)
        wait_until(lambda: self.console_count(r"DVS-READY") >= 1, 180, "the guest's ready line",
                   interval=0.5)
        self.w.wait_link("h1", self.a, "up")
        self.assert_running_on("h1")
        wait_until(lambda: self.w.mgr.port(self.a.port)["Link"] == "up", 20, "manager: link up")

    def migrate(self, src, dst):
        before = counters(self.show(src))
        t0 = time.monotonic()
        cp = self.libvirt[src].virsh("migrate", "--live", self.a.name, self.libvirt[dst].uri,
                                     "--migrateuri", "tcp://%s" % self.w.hosts[dst].ip,
                                     check=False, timeout=180)
        return cp, before, time.monotonic() - t0

    def ctl(self, *args):
        rc, out, err = self.w.mgr.dvsctl(*args)
        self.assertEqual(rc, 0, "dvsctl %s: %s" % (" ".join(args), err))
        return out

    def test_02_migrate(self):
        w = self.w
        # The port group's network hidden on h2: the destination's hook is
        # refused by the manager's placement check, with the reason on the
        # user's terminal, before anything moves.
        self.ctl("network", "create", "web-net", "--type", "vlan", "--segment", "10",
                 "--transport-zone", "tz1")
        self.ctl("portgroup", "set-network", w.pg, "web-net")
        self.ctl("host", "hide-network", "h2", "web-net")
        cp, before, secs = self.migrate("h1", "h2")
        self.assertNotEqual(cp.returncode, 0, "refused")
        self.assertIn("Hook script execution failed", cp.stderr)
        self.assertIn("network web-net is hidden on host h2", cp.stderr)
        self.assertIn(self.a.port, cp.stderr)
        self.assertIn(self.a.mac, cp.stderr)
        self.assertIsNone(self.libvirt["h2"].domstate(self.a.name), "no domain on h2")
        after = self.assert_running_on("h1", before)
        self.assertEqual(w.mgr.port(self.a.port)["Host"], "h1")
        self.assertEqual(w.mgr.port(self.a.port)["MigratingTo"], "")
        self.assertIsNone(w.held("h2", self.a), "h2 holds nothing of the port")
        self.assertEqual(self.show("h1")["state_source"], "live")
        self.assertEqual(w.mgr.port(self.a.port)["Link"], "up")
        self.assertGreaterEqual(counters(self.show("h1"))["rx"], after["rx"])
        sys.stderr.write("\n[virsh migrate refused: %s]\n" % cp.stderr.strip().splitlines()[-1])
        self.ctl("host", "unhide-network", "h2", "web-net")

        cp, before, secs = self.migrate("h1", "h2")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        sys.stderr.write("\n[virsh migrate --live h1->h2: %.2f s]\n" % secs)
        w.wait_link("h2", self.a, "up", timeout=20)
        self.assert_running_on("h2", before)
        wait_until(lambda: w.held("h1", self.a) is None, 20, "h1 to hold nothing of the port")
        wait_until(lambda: w.mgr.port(self.a.port)["Host"] == "h2", 15, "manager: host h2")
        cp, before, secs = self.migrate("h2", "h1")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        sys.stderr.write("[virsh migrate --live h2->h1: %.2f s]\n" % secs)
        w.wait_link("h1", self.a, "up", timeout=20)
        self.assert_running_on("h1", before)
        wait_until(lambda: w.held("h2", self.a) is None, 20, "h2 to hold nothing of the port")

    def test_03_migrate_vm_through_the_manager(self):
        """dvsctl vm migrate (MigrateVM): the manager's libvirt connections
        drive the same live migration, with progress; the hooks move the
        DVport as for virsh."""
        w = self.w
        for h in w.hosts:
            self.ctl("host", "set-migration-uri", h, "tcp://%s" % w.hosts[h].ip)
        src = self.where()
        self.assertEqual(src, ["h1"])
        before = counters(self.show("h1"))
        out = self.ctl("--json", "vm", "migrate", self.a.name, "h2")
        job = json.loads(out)
        self.assertEqual(job.get("state"), "completed", out)
        w.wait_link("h2", self.a, "up", timeout=20)
        self.assert_running_on("h2", before)
        wait_until(lambda: w.held("h1", self.a) is None, 20, "h1 to hold nothing of the port")
        wait_until(lambda: w.mgr.port(self.a.port)["Host"] == "h2", 15, "manager: host h2")

    def test_04_destroy(self):
        host = self.where()
        self.assertEqual(len(host), 1, host)
        self.libvirt[host[0]].virsh("destroy", self.a.name)
        wait_until(lambda: not self.show(host[0])["attached"], 20, "the hook to detach")
        self.assertEqual(self.show(host[0])["link"], "down")


if __name__ == "__main__":
    twohost.main()
