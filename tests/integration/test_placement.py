#!/usr/bin/env python3
"""Network-aware placement end to end (docs/placement.md): a real
dbus-daemon, polkit (dbusmock's polkitd template), SQLite, three real
dvs-switchd hosts and a fourth registered host that never starts, and
libvirt's own test driver (test:///FILE, a real libvirt connection opened
on dvsmgr's worker threads) as each host's libvirt:

  h1  tz1 + tz-web, member of "prod", libvirt node 4 CPUs / 4 GiB running
      VM vm1 (2 vCPUs, 512 MiB) whose DVport is on h1
  h2  tz1 + tz-web, member, 4 CPUs / 4 GiB, nothing running
  h3  tz1 only, member, a small node (1 CPU, 256 MiB)
  h4  registered, never connected, not a member

Port group "web" is bound to network web-net (VLAN 10, transport zone
tz-web).  The tests run in order on one set-up:
  1  health: every host reports a status; Health 100 with an uplink up
  2  CheckPlacement / PlaceVM reasons: not a member, not connected, network
     not in the host's zones, CPU and memory; h2 passes and is PlaceVM's
  3  HideNetwork on h2: refused placement; polkit refusal changes nothing;
     hidden across a dvsmgr restart; UnhideNetwork
  4  a host that goes down is refused with "not connected"
  5  MigrateVM: a job object that fails cleanly (the test driver cannot
     migrate; its Finished signal is checked by the unit test); the VM's
     port stays on h1
  6  dvsctl: vm check / place / migrate, host hide-network, host show
Run as root: python3 tests/integration/test_placement.py
"""

import json
import os
import sys
import time
import unittest

import dbus

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import wait_until  # noqa: E402
from mgrtest import DBusError, ROOT  # noqa: E402

VM_UUID = "6f1c0000-0000-4000-8000-0000000000b1"
MAC = "02:d6:00:00:02:0a"
ACTIONS = mgrtest.ACTIONS + ["net.dvsqemu.migrate"]

NODE = """<node>
  <cpu><mhz>2000</mhz><model>dvs</model><active>{cpus}</active><max>{cpus}</max>
       <nodes>1</nodes><sockets>1</sockets><cores>{cpus}</cores><threads>1</threads></cpu>
  <memory>{kib}</memory>
  {domains}
</node>
"""
VM1 = """<domain type='test'><name>vm1</name><uuid>%s</uuid>
  <memory unit='MiB'>512</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>""" % VM_UUID


def node_file(tmp, name, cpus, kib, domains=""):
    path = os.path.join(tmp, name + ".xml")
    with open(path, "w") as f:
        f.write(NODE.format(cpus=cpus, kib=kib, domains=domains))
    return "test://" + path


class Placement(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        cls.tmp = dvstest.tempdir()
        cls.bus = mgrtest.Bus(cls.tmp)
        cls.polkit = mgrtest.Polkit(cls.bus, cls.tmp)
        cls.polkit.allow(ACTIONS)
        cls.mgr = mgrtest.Manager(cls.tmp, cls.bus,
                                  extra_args=["--libvirt-refresh-ms", "300"]).start()
        uris = {"h1": node_file(cls.tmp, "h1", 4, 4194304, VM1),
                "h2": node_file(cls.tmp, "h2", 4, 4194304),
                "h3": node_file(cls.tmp, "h3", 1, 262144),
                "h4": node_file(cls.tmp, "h4", 4, 4194304)}
        for h, uri in uris.items():
            cls.mgr.register_host(h, {"libvirt_uri": uri})
        zones = {"h1": "tz1,tz-web", "h2": "tz1,tz-web", "h3": "tz1"}
        cls.hosts = {}
        for h, tz in zones.items():
            cls.hosts[h] = dvstest.Switch(
                cls.tmp, name="%s-%d" % (h, os.getpid()),
                extra_args=["--host-name", h, "--transport-zone", tz, "--uplink", "lo",
                            "--manager", "unix:" + cls.mgr.host_socket]).start()
        for h in zones:
            cls.mgr.wait_connected(h)
        cls.sw_path, cls.sw = cls.mgr.create_switch("prod", {"transport_zone": "tz1"})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "web", {}, 4)
        cls.net_path, cls.net = cls.mgr.call(ROOT, "Manager1", "CreateNetwork", "web-net",
                                             "vlan", dbus.UInt32(10), "tz-web")
        cls.net = str(cls.net)
        cls.mgr.call(cls.pg_path, "PortGroup1", "SetNetwork", "web-net")
        for h in zones:
            cls.mgr.join(cls.sw_path, h)
        cls.key = cls.mgr.ports_of(cls.pg)[0]
        cls.mgr.connect(cls.key, "h1", VM_UUID, MAC, "net0")
        cls.mgr.wait_in_sync(list(zones))

    def check(self, vm, host):
        ok, reasons = self.mgr.call(ROOT, "Manager1", "CheckPlacement", vm, host)
        return bool(ok), [str(r) for r in reasons]

    def wait_health(self, host, value):
        wait_until(lambda: self.mgr.host(host)["Health"] == value, 20,
                   "host %s health %d (now %s)" % (host, value, self.mgr.host(host)))

    def test_01_health_and_status(self):
        pg = self.mgr.props(self.pg_path, "PortGroup1")
        self.assertEqual(pg["Network"], self.net)
        self.assertEqual(json.loads(pg["ConfigJson"]), {"vlan": 10},
                         "a VLAN network gives the group its segment")
        for h in ("h1", "h2", "h3"):
            wait_until(lambda: json.loads(self.mgr.host(h)["Status"]).get("switches"), 20,
                       "host %s reports the switch in its status" % h)
            self.wait_health(h, 100)
            host = self.mgr.host(h)
            self.assertEqual(host["HealthReasons"], [])
            status = json.loads(host["Status"])
            self.assertEqual(status["switches"][0]["id"], self.sw)
            self.assertEqual(status["switches"][0]["uplinks"], [{"name": "lo", "link": "up"}])
            self.assertEqual(host["FreePorts"], status["free_ports"])
            self.assertGreater(host["FreePorts"], 1000)
        h4 = self.mgr.host("h4")
        self.assertEqual((h4["Health"], h4["HealthReasons"]), (0, ["not connected"]))

    def test_02_check_and_place(self):
        # The libvirt caches know vm1 by name too.
        wait_until(lambda: self.check("vm1", "h2")[0], 20, "vm1 may run on h2")
        self.assertEqual(self.check(VM_UUID, "h2"), (True, []))
        ok, reasons = self.check("vm1", "h3")
        self.assertFalse(ok)
        self.assertEqual(reasons, [
            "network web-net is not on host h3 (transport zone tz-web is not among the host's)",
            "host h3 has 1 CPUs, VM vm1 needs 2",
            "host h3 has 256 MiB of free memory, VM vm1 needs 512 MiB"])
        ok, reasons = self.check("vm1", "h4")
        self.assertFalse(ok)
        self.assertEqual(reasons, ["host h4 is not connected", "host h4 is not a member of switch prod",
                                   "network web-net is not on host h4 (transport zone tz-web is "
                                   "not among the host's)"])
        self.assertEqual(self.check("vm1", "nowhere"), (False, ["host nowhere is not registered"]))
        with self.assertRaises(DBusError) as cm:
            self.check("no-such-vm", "h2")
        self.assertEqual(cm.exception.name, "net.dvsqemu.Error.NotFound")
        host, score = self.mgr.call(ROOT, "Manager1", "PlaceVM", "vm1")
        self.assertEqual(str(host), "h2")
        self.assertGreater(int(score), 60)

    def test_03_hide_network(self):
        h2 = self.mgr.host_path("h2")
        # polkit says no: nothing changes.
        self.polkit.allow([a for a in ACTIONS if a != "net.dvsqemu.hosts"])
        try:
            with self.assertRaises(DBusError) as cm:
                self.mgr.call(h2, "Host1", "HideNetwork", "web-net")
            self.assertEqual(cm.exception.name, "net.dvsqemu.Error.NotAuthorized")
        finally:
            self.polkit.allow(ACTIONS)
        self.assertEqual(self.mgr.host("h2")["HiddenNetworks"], [])
        with self.assertRaises(DBusError) as cm:
            self.mgr.call(h2, "Host1", "HideNetwork", "no-such-net")
        self.assertEqual(cm.exception.name, "net.dvsqemu.Error.NotFound")
        self.mgr.call(h2, "Host1", "HideNetwork", "web-net")
        self.assertEqual(self.mgr.host("h2")["HiddenNetworks"], [self.net])
        self.assertEqual(self.check("vm1", "h2"), (False, ["network web-net is hidden on host h2"]))
        with self.assertRaises(DBusError) as cm:
            self.mgr.call(ROOT, "Manager1", "PlaceVM", "vm1")
        self.assertEqual(cm.exception.name, "net.dvsqemu.Error.Failed")
        self.assertIn("network web-net is hidden on host h2", cm.exception.message)
        # A restart keeps it hidden.
        self.mgr.proc.stop()
        self.mgr.start()
        self.assertEqual(self.mgr.host("h2")["HiddenNetworks"], [self.net])
        for h in ("h1", "h2", "h3"):
            self.mgr.wait_connected(h)
        self.mgr.wait_in_sync(["h1", "h2", "h3"])
        wait_until(lambda: self.mgr.host("h2")["Health"] == 100, 20, "h2 healthy again")
        self.assertEqual(self.check("vm1", "h2"), (False, ["network web-net is hidden on host h2"]))
        self.mgr.call(h2, "Host1", "UnhideNetwork", self.net)
        self.assertEqual(self.mgr.host("h2")["HiddenNetworks"], [])
        wait_until(lambda: self.check("vm1", "h2") == (True, []), 20, "vm1 may run on h2 again")

    def test_04_host_down(self):
        self.hosts["h2"].stop()
        try:
            self.wait_health("h2", 0)
            ok, reasons = self.check("vm1", "h2")
            self.assertFalse(ok)
            self.assertEqual(reasons, ["host h2 is not connected"])
        finally:
            self.hosts["h2"].start()
            self.mgr.wait_connected("h2")
            self.mgr.wait_in_sync(["h2"])
        self.wait_health("h2", 100)

    def test_05_migrate_vm_job(self):
        # Refused before anything starts: the check fails for h3.
        with self.assertRaises(DBusError) as cm:
            self.mgr.call(ROOT, "Manager1", "MigrateVM", "vm1", "h3")
        self.assertEqual(cm.exception.name, "net.dvsqemu.Error.Busy")
        self.assertIn("VM vm1 may not run on host h3", cm.exception.message)
        # polkit: the migrate action.
        self.polkit.allow(mgrtest.ACTIONS)
        try:
            with self.assertRaises(DBusError) as cm:
                self.mgr.call(ROOT, "Manager1", "MigrateVM", "vm1", "h2")
            self.assertEqual(cm.exception.name, "net.dvsqemu.Error.NotAuthorized")
        finally:
            self.polkit.allow(ACTIONS)
        job = str(self.mgr.call(ROOT, "Manager1", "MigrateVM", "vm1", ""))
        self.assertTrue(job.startswith(ROOT + "/migration/"))

        wait_until(lambda: self.mgr.props(job, "Migration1")["State"] != "running", 30,
                   "the migration job ends")
        props = self.mgr.props(job, "Migration1")
        self.assertEqual(props["State"], "failed")
        self.assertIn("virDomainMigrate3", props["Error"])
        self.assertEqual((props["Vm"], props["VmName"], props["Source"], props["Destination"]),
                         (VM_UUID, "vm1", "h1", "h2"))
        self.assertEqual(self.mgr.port(self.key)["Host"], "h1", "the port stays on its host")

    def test_06_dvsctl(self):
        rc, out, err = self.mgr.dvsctl("vm", "check", "vm1", "h2")
        self.assertEqual((rc, out), (0, "VM vm1 may run on host h2.\n"), err)
        rc, out, err = self.mgr.dvsctl("vm", "check", "vm1", "h3")
        self.assertEqual(rc, 1, err)
        self.assertIn("  - host h3 has 1 CPUs, VM vm1 needs 2\n", out)
        rc, out, err = self.mgr.dvsctl("--json", "vm", "check", "vm1", "h4")
        self.assertEqual(rc, 1)
        self.assertIn("host h4 is not connected", json.loads(out)["reasons"])
        rc, out, err = self.mgr.dvsctl("vm", "place", "vm1")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("h2 (score "), out)
        rc, out, err = self.mgr.dvsctl("host", "hide-network", "h2", "web-net")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.mgr.dvsctl("host", "show", "h2")
        self.assertIn("hidden networks", out)
        self.assertIn("web-net", out)
        self.assertIn("health", out)
        rc, out, err = self.mgr.dvsctl("vm", "place", "vm1")
        self.assertEqual(rc, 1)
        self.assertIn("no host can take VM vm1", err)
        rc, out, err = self.mgr.dvsctl("host", "unhide-network", "h2", "web-net")
        self.assertEqual(rc, 0, err)
        rc, out, err = self.mgr.dvsctl("host", "set-migration-uri", "h2", "tcp://192.0.2.2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.mgr.host("h2")["MigrationUri"], "tcp://192.0.2.2")
        rc, out, err = self.mgr.dvsctl("host", "set-migration-uri", "h2", "ftp://x")
        self.assertEqual(rc, 1)
        self.assertIn("migration URI must be", err)
        rc, out, err = self.mgr.dvsctl("host", "set-migration-uri", "h2")
        self.assertEqual((rc, self.mgr.host("h2")["MigrationUri"]), (0, ""), err)
        rc, out, err = self.mgr.dvsctl("host", "list")
        self.assertIn("HEALTH", out.splitlines()[0])
        rc, out, err = self.mgr.dvsctl("--json", "vm", "migrate", "vm1", "h2", timeout=60)
        self.assertEqual(rc, 1)
        self.assertEqual(json.loads(out)["state"], "failed")
        self.assertIn("virDomainMigrate3", err)


if __name__ == "__main__":
    dvstest.main()
