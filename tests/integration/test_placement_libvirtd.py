#!/usr/bin/env python3
"""Placement with a real libvirtd: dvsmgr's libvirt connection per host
(worker threads, reconnect) reading node info, free memory and the domains
of a libvirtd of the test's own (the private-namespace libvirtd of
test_libvirt_hook.py), and the CPU and memory criteria on what it says.

Set-up: a private dbus-daemon, the polkitd mock, dvsmgr with
--libvirt-refresh-ms 300, two dvs-switchd hosts h1 and h2 on one DVswitch,
both registered with the same libvirtd's URI (one machine), two defined
(not started) domains: bigvm, with more vCPUs than the machine has CPUs
and twice its memory, and smallvm (1 vCPU, 64 MiB), each with a DVport
connected on h1.

  1  CheckPlacement(bigvm, h2) names the CPUs and free memory libvirtd
     reports; smallvm passes; PlaceVM picks h2 for smallvm
  2  libvirtd stops: the check still answers at once (the criterion is
     skipped, nothing blocks); libvirtd back: dvsmgr reconnects and the
     CPU/memory reasons return
  2  the refused connection is retried with backoff and logged so
  3  MigrateVM of smallvm right after libvirtd restarted: a job through
     the real libvirtd (connecting itself if the refresher has not yet)
     that fails cleanly (the domain is not running), the port on h1
  4  MigrateVM with libvirtd down: the job retries 5 times with backoff,
     then fails saying it cannot connect
Run as root: python3 tests/integration/test_placement_libvirtd.py
"""

import os
import re
import shutil
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
import test_libvirt_hook  # noqa: E402
from dvstest import HarnessError, wait_until  # noqa: E402
from mgrtest import ROOT  # noqa: E402

BIG = "6f1c0000-0000-4000-8000-0000000000c1"
SMALL = "6f1c0000-0000-4000-8000-0000000000c2"


def domain(name, uuid, vcpus, mib):
    return """<domain type='qemu'><name>%s</name><uuid>%s</uuid>
  <memory unit='MiB'>%d</memory><vcpu>%d</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>
""" % (name, uuid, mib, vcpus)


def mem_total_mib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise HarnessError("no MemTotal in /proc/meminfo")


class PlacementLibvirtd(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        for tool in ("libvirtd", "virsh", "unshare", "mount"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("%s is not installed" % tool)
        if not os.access(test_libvirt_hook.HOOK, os.X_OK):
            raise HarnessError("the hook is not at %s (build it, or set DVS_LIBVIRT_HOOK)"
                               % test_libvirt_hook.HOOK)
        cls.tmp = dvstest.tempdir()
        cls.libvirt = None
        cls.bus = mgrtest.Bus(cls.tmp)
        cls.polkit = mgrtest.Polkit(cls.bus, cls.tmp)
        cls.polkit.allow(mgrtest.ACTIONS + ["net.dvsqemu.migrate"])
        cls.mgr = mgrtest.Manager(cls.tmp, cls.bus,
                                  extra_args=["--libvirt-refresh-ms", "300"]).start()
        cls.libvirt = test_libvirt_hook.Libvirtd(cls.tmp).start()
        cls.cpus = os.cpu_count()
        cls.big_mib = 2 * mem_total_mib()
        for name, uuid, vcpus, mib in (("bigvm", BIG, cls.cpus + 2, cls.big_mib),
                                       ("smallvm", SMALL, 1, 64)):
            path = os.path.join(cls.tmp, name + ".xml")
            with open(path, "w") as f:
                f.write(domain(name, uuid, vcpus, mib))
            cls.libvirt.virsh("define", path)
        cls.hosts = {}
        for h in ("h1", "h2"):
            cls.mgr.register_host(h, {"libvirt_uri": cls.libvirt.uri})
            cls.hosts[h] = dvstest.Switch(
                cls.tmp, name="%s-%d" % (h, os.getpid()),
                extra_args=["--host-name", h, "--transport-zone", "tz1", "--uplink", "lo",
                            "--manager", "unix:" + cls.mgr.host_socket]).start()
            cls.mgr.wait_connected(h)
        cls.sw_path, cls.sw = cls.mgr.create_switch("prod", {"transport_zone": "tz1"})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "web", {"vlan": 10}, 4)
        for h in ("h1", "h2"):
            cls.mgr.join(cls.sw_path, h)
        keys = cls.mgr.ports_of(cls.pg)
        cls.mgr.connect(keys[0], "h1", BIG, "02:d6:00:00:03:01", "net0")
        cls.mgr.connect(keys[1], "h1", SMALL, "02:d6:00:00:03:02", "net0")
        cls.small_key = keys[1]
        cls.mgr.wait_in_sync(["h1", "h2"])
        for h in ("h1", "h2"):
            wait_until(lambda: cls.mgr.host(h)["Health"] == 100, 20, "host %s healthy" % h)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "libvirt", None):
            cls.libvirt.stop()

    def check(self, vm, host):
        ok, reasons = self.mgr.call(ROOT, "Manager1", "CheckPlacement", vm, host)
        return bool(ok), [str(r) for r in reasons]

    def resource_reasons(self):
        return [r for r in self.check("bigvm", "h2")[1] if "CPUs" in r or "memory" in r]

    def test_01_cpu_and_memory_from_libvirtd(self):
        wait_until(lambda: len(self.resource_reasons()) == 2, 30,
                   "the CPU and memory reasons from libvirtd")
        ok, reasons = self.check("bigvm", "h2")
        self.assertFalse(ok)
        self.assertEqual(reasons[0], "host h2 has %d CPUs, VM bigvm needs %d"
                         % (self.cpus, self.cpus + 2))
        self.assertTrue(reasons[1].startswith("host h2 has "), reasons[1])
        self.assertTrue(reasons[1].endswith(" MiB of free memory, VM bigvm needs %d MiB"
                                            % self.big_mib), reasons[1])
        free_mib = int(reasons[1].split()[3])
        self.assertGreater(free_mib, 0)
        self.assertLess(free_mib, mem_total_mib())
        self.assertEqual(self.check("smallvm", "h2"), (True, []))
        self.assertEqual(self.check(SMALL, "h2"), (True, []))
        host, score = self.mgr.call(ROOT, "Manager1", "PlaceVM", "smallvm")
        self.assertEqual(str(host), "h2")

    def test_02_libvirtd_down_and_back(self):
        self.libvirt.stop()
        try:
            time.sleep(1.5)   # several refreshes fail meanwhile
            t0 = time.monotonic()
            ok, reasons = self.check("smallvm", "h2")
            self.assertLess(time.monotonic() - t0, 2.0, "the check does not wait for libvirt")
            self.assertTrue(ok, reasons)
        finally:
            self.libvirt.start()
        wait_until(lambda: len(self.resource_reasons()) == 2, 30,
                   "dvsmgr reconnected to libvirtd")
        self.assertRegex(self.mgr.log(),
                         r"host h2: libvirt \S+: cannot connect: .*; retrying in [0-9.]+ s",
                         "the refused connection and its retry are logged")
        # (The reasons above may come from the last good node info, kept
        # while libvirtd was away: the reconnection is what the log says.)
        wait_until(lambda: re.search(r"host h2: libvirt \S+ connected again after \d+ failed "
                                     r"attempts", self.mgr.log()), 30,
                   "dvsmgr to log its reconnection to libvirtd")

    def migrate_smallvm(self):
        job = str(self.mgr.call(ROOT, "Manager1", "MigrateVM", "smallvm", "h2"))
        wait_until(lambda: self.mgr.props(job, "Migration1")["State"] != "running", 60,
                   "the migration job ends")
        props = self.mgr.props(job, "Migration1")
        self.assertEqual(props["State"], "failed")
        self.assertTrue(props["Error"].startswith("libvirt: "), props["Error"])
        self.assertEqual((props["Vm"], props["Source"], props["Destination"]), (SMALL, "h1", "h2"))
        self.assertEqual(self.mgr.port(self.small_key)["Host"], "h1")
        return props["Error"]

    def test_03_migrate_job_fails_cleanly(self):
        # Right after libvirtd restarts, before the refresher has (maybe)
        # reconnected: the job opens what it needs itself and reaches
        # libvirt, which refuses to migrate a domain that is not running.
        self.libvirt.stop()
        self.libvirt.start()
        error = self.migrate_smallvm()
        self.assertNotIn("cannot connect", error)

    def test_04_migrate_job_with_libvirtd_down_retries_then_fails(self):
        self.libvirt.stop()
        try:
            t0 = time.monotonic()
            error = self.migrate_smallvm()
            self.assertRegex(error, r"^libvirt: cannot connect to the (source|destination), "
                             r"host h[12]'s libvirt .*\(5 attempts\)$")
            self.assertGreater(time.monotonic() - t0, 3.0, "5 attempts with backoff take ~4 s")
            self.assertRegex(self.mgr.log(), r"attempt 5 of 5 in 2\.00 s")
        finally:
            self.libvirt.start()
        wait_until(lambda: len(self.resource_reasons()) == 2, 30,
                   "dvsmgr reconnected to libvirtd")


if __name__ == "__main__":
    dvstest.main()
