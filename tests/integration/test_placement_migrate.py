#!/usr/bin/env python3
"""MigrateVM end to end through two real libvirtd "hosts": a live migration
of a running TCG guest that dvsmgr drives itself (virDomainMigrate3 from
its connection to the source libvirtd to its connection to the
destination's), with the Migration1 job's progress and end.

Each libvirtd is test_libvirt_hook.py's private-namespace libvirtd, here
also in a UTS namespace of its own with its own host name (libvirt refuses
a migration between two hosts of the same name or host UUID).  Both share
the machine's network namespace: the destination's QEMU listens on
127.0.0.1, which the manager is told with `dvsctl host set-migration-uri`.
The guest has no DVS vNIC (the DVport handover is the hooks' business and
is tested by the migration tests): its DVport is connected on the manager
only, which is how MigrateVM finds the VM and its source host.

  1  MigrateVM(vm, "h2"): the job completes, Progress reaches 1, the guest
     runs on B and no longer on A
  2  back to h1 with dvsctl vm migrate VM (PlaceVM's choice: h1, the source
     being where libvirt runs the VM though its DVport stayed on h1),
     which waits for the job and prints the result
Run as root: python3 tests/integration/test_placement_migrate.py
"""

import os
import re
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
import test_libvirt_hook  # noqa: E402
from dvstest import HarnessError, Proc, register_log, tail, wait_until  # noqa: E402
from mgrtest import ROOT  # noqa: E402

VM_UUID = "6f1c0000-0000-4000-8000-0000000000d1"


class NamedLibvirtd(test_libvirt_hook.Libvirtd):
    """A private libvirtd with a host name of its own."""

    def __init__(self, workdir, hostname):
        os.makedirs(workdir, exist_ok=True)
        test_libvirt_hook.Libvirtd.__init__(self, workdir)
        self.hostname = hostname
        self.logpath = os.path.join(workdir, "libvirtd.stderr.log")

    def start(self, timeout=60):
        for d in test_libvirt_hook.PRIVATE_DIRS:
            os.makedirs(d, exist_ok=True)   # mount points only
        script = "set -e\nhostname '%s'\n" % self.hostname + "".join(
            "mount --bind '%s' '%s'\n" % (self.root + d, d)
            for d in test_libvirt_hook.PRIVATE_DIRS) + "".join(
            "mount --bind '%s' '%s'\n" % pair for pair in self.accounts) + \
            "exec libvirtd -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid\n"
        log = open(self.logpath, "ab")
        register_log("libvirtd " + self.hostname, self.logpath)
        self.proc = Proc("libvirtd " + self.hostname,
                         ["unshare", "--mount", "--uts", "--propagation", "private",
                          "sh", "-c", script],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()

        def ready():
            if not self.proc.alive():
                raise HarnessError("libvirtd exited:\n%s" % tail(self.logpath))
            return os.path.exists(self.sock) and self.virsh("version", check=False).returncode == 0
        wait_until(ready, timeout, "libvirtd on %s" % self.sock, interval=0.2)
        return self

    def state(self, dom):
        cp = self.virsh("domstate", dom, check=False, timeout=30)
        return cp.stdout.strip() if cp.returncode == 0 else None


class PlacementMigrate(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        for tool in ("libvirtd", "virsh", "unshare", "mount"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("%s is not installed" % tool)
        if not os.access(test_libvirt_hook.HOOK, os.X_OK):
            raise HarnessError("the hook is not at %s (build it, or set DVS_LIBVIRT_HOOK)"
                               % test_libvirt_hook.HOOK)
        cls.kernel, cls.initrd = dvstest.guest_images()
        cls.tmp = dvstest.tempdir()
        cls.lv = {}
        cls.bus = mgrtest.Bus(cls.tmp)
        cls.polkit = mgrtest.Polkit(cls.bus, cls.tmp)
        cls.polkit.allow(mgrtest.ACTIONS + ["net.dvsqemu.migrate"])
        cls.mgr = mgrtest.Manager(cls.tmp, cls.bus,
                                  extra_args=["--libvirt-refresh-ms", "300"]).start()
        for h in ("h1", "h2"):
            cls.lv[h] = NamedLibvirtd(os.path.join(cls.tmp, h), "dvs-%s-%d" % (h, os.getpid())).start()
            cls.mgr.register_host(h, {"libvirt_uri": cls.lv[h].uri})
        cls.hosts = {}
        for h in ("h1", "h2"):
            cls.hosts[h] = dvstest.Switch(
                cls.tmp, name="%s-%d" % (h, os.getpid()),
                extra_args=["--host-name", h, "--transport-zone", "tz1", "--uplink", "lo",
                            "--manager", "unix:" + cls.mgr.host_socket]).start()
            cls.mgr.wait_connected(h)
        rc, out, err = cls.mgr.dvsctl("host", "set-migration-uri", "h1", "tcp://127.0.0.1")
        rc2, out, err2 = cls.mgr.dvsctl("host", "set-migration-uri", "h2", "tcp://127.0.0.1")
        if rc or rc2:
            raise HarnessError("set-migration-uri: %s%s" % (err, err2))
        cls.sw_path, cls.sw = cls.mgr.create_switch("prod", {"transport_zone": "tz1"})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "web", {"vlan": 10}, 2)
        for h in ("h1", "h2"):
            cls.mgr.join(cls.sw_path, h)
        cls.key = cls.mgr.ports_of(cls.pg)[0]
        cls.mgr.connect(cls.key, "h1", VM_UUID, "02:d6:00:00:04:01", "net0")
        cls.mgr.wait_in_sync(["h1", "h2"])
        cls.dom = "migvm%d" % os.getpid()
        console = os.path.join(cls.tmp, "console.log")
        xml = test_libvirt_hook.domain_xml(cls.dom, cls.kernel, cls.initrd, console,
                                           "52:54:00:d6:00:09")
        xml = xml.replace("<name>", "<uuid>%s</uuid>\n  <name>" % VM_UUID, 1)
        path = os.path.join(cls.tmp, "dom.xml")
        with open(path, "w") as f:
            f.write(xml)
        cls.lv["h1"].virsh("define", path)
        cls.lv["h1"].virsh("start", cls.dom, timeout=180)
        # Migrate a booted guest: a TCG guest migrated in its first seconds
        # of boot panicked on the destination here ("Kernel stack is
        # corrupted", QEMU 7.2), which is nothing the manager did.  This
        # guest has no NIC: its init says DVS-FAILED (no eth0, after 10 s)
        # and idles, which is booted enough.
        def booted():
            try:
                with open(console, errors="replace") as f:
                    return re.search(r"DVS-(READY|FAILED)", f.read())
            except OSError:
                return None
        wait_until(booted, 180, "the guest's init to report on its console", interval=0.5)
        for h in ("h1", "h2"):
            wait_until(lambda: cls.mgr.host(h)["Health"] == 100, 20, "host %s healthy" % h)

    @classmethod
    def tearDownClass(cls):
        for lv in getattr(cls, "lv", {}).values():
            lv.stop()

    def wait_job(self, job, timeout=120):
        seen = []

        def ended():
            p = self.mgr.props(job, "Migration1")
            seen.append(p["Progress"])
            return p["State"] != "running"
        wait_until(ended, timeout, "the migration job ends", interval=0.1)
        return self.mgr.props(job, "Migration1"), seen

    def test_01_migrate_to_h2(self):
        wait_until(lambda: self.mgr.call(ROOT, "Manager1", "CheckPlacement", self.dom, "h2")[0],
                   30, "the check passes for h2")
        job = str(self.mgr.call(ROOT, "Manager1", "MigrateVM", self.dom, "h2"))
        props, seen = self.wait_job(job)
        self.assertEqual(props["State"], "completed", props["Error"])
        self.assertEqual(props["Progress"], 1.0)
        self.assertEqual((props["Source"], props["Destination"], props["VmName"]),
                         ("h1", "h2", self.dom))
        wait_until(lambda: self.lv["h2"].state(self.dom) == "running", 30,
                   "h2's libvirtd to report the VM running")
        self.assertNotEqual(self.lv["h1"].state(self.dom), "running")
        print("progress seen: %s" % sorted(set(round(p, 2) for p in seen)), file=sys.stderr)

    def test_02_migrate_back_with_dvsctl(self):
        # The manager's caches must see the VM on h2 before it picks h1.
        # (The DVport stays delegated to h1: no hook moved it here.)
        wait_until(lambda: str(self.mgr.call(ROOT, "Manager1", "PlaceVM", self.dom)[0]) == "h1",
                   30, "PlaceVM to choose h1")
        rc, out, err = self.mgr.dvsctl("vm", "migrate", self.dom, timeout=180)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "VM %s migrated to host h1.\n" % self.dom)
        self.assertEqual(self.lv["h1"].state(self.dom), "running")


if __name__ == "__main__":
    dvstest.main()
