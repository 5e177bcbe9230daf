#!/usr/bin/env python3
"""Configuration snapshots (docs/snapshots.md) end to end: dvsmgr on a real
dbus-daemon with polkit (dbusmock), SQLite, two real dvs-switchd hosts and a
dpdk-testpmd vNIC sending all along on a connected DVport.

  01  export v1; change a VLAN and shaping; export v2; diff v1 v2 names
      exactly those changes
  02  roll back to v1: the hosts converge to v1, the connected port keeps
      its connection and its counters go on
  03  create-new from v2: a second switch with new UUIDs and v2's settings
  04  refused imports — a tampered document, a future format version, a
      dangling reference, a UUID clash in recreate mode — each naming the
      problem, the live configuration unchanged
  05  the manager's store deleted, a fresh manager, re-create original from
      v2: the same UUIDs, hosts rejoin and converge, the connected port
      forwarding throughout
Run as root: python3 tests/integration/test_snapshots.py
"""

import json
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import wait_until  # noqa: E402
from mgrtest import DBusError, group_vlan, held_switch  # noqa: E402

VM = "6f1c0000-0000-4000-8000-00000000c0a1"
MAC = "02:d6:00:00:03:0a"
PEER = "02:d6:00:00:03:99"     # nobody: frames are flooded in the VLAN
SHAPING = {"shaping": {"ingress": {"average_kbps": 500000}}}


def canonical(doc):
    """The checksum's canonical form (docs/snapshots.md)."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def reseal(doc):
    """Recompute a document's checksum after editing it."""
    import hashlib
    d = dict(doc)
    d.pop("checksum", None)
    doc["checksum"] = "sha256:" + hashlib.sha256(canonical(d).encode()).hexdigest()
    return doc


class Snapshots(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        cls.tmp = dvstest.tempdir()
        cls.snapdir = os.path.join(cls.tmp, "snapshots")
        cls.bus, cls.polkit, _, cls.mgr, cls.hosts = mgrtest.setup_manager(
            cls.tmp, hosts=["h1", "h2"], extra_args=["--snapshot-dir", cls.snapdir])
        cls.sw_path, cls.sw = cls.mgr.create_switch("prod", {"transport_zone": "tz1"})
        cls.web_path, cls.web = cls.mgr.add_port_group(cls.sw_path, "web", {"vlan": 10}, 2)
        cls.db_path, cls.db = cls.mgr.add_port_group(cls.sw_path, "db",
                                                      {"vlan": 20, "policy": {"blocked": False}}, 2)
        for h in cls.hosts:
            cls.mgr.join(cls.sw_path, h)
        cls.key = cls.mgr.ports_of(cls.web)[0]
        cls.conn = cls.mgr.connect(cls.key, "h1", VM, MAC, "net0")
        cls.mgr.wait_in_sync(list(cls.hosts))
        cls.sock = os.path.join(cls.tmp, "snap-vnic.sock")
        cls.pmd = dvstest.TestPmd(cls.tmp, "vnic", [(cls.sock, MAC)], fwd="txonly",
                                  lcores="0@0,1@0").start(wait=False)
        cls.hosts["h1"].call("dvport.attach", {"switch": cls.sw, "port": cls.key,
                                               "connection": cls.conn, "socket": cls.sock})
        cls.pmd.wait_ready()
        cls.pmd.cmd("set eth-peer 0 " + PEER)
        cls.pmd.cmd("start")
        cls.versions = {}

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "pmd", None):
            cls.pmd.stop()

    # -- helpers -------------------------------------------------------------
    def sw_call(self, method, *args):
        return self.mgr.call(self.sw_path, "Switch1", method, *args)

    def rx(self):
        show = self.hosts["h1"].call("dvport.show", {"switch": self.sw, "port": self.key})
        self.assertTrue(show["attached"])
        self.assertEqual(show["connection"]["id"], self.conn)
        return show["stats"]["rx"]["packets"]

    def assert_forwarding(self):
        before = self.rx()
        wait_until(lambda: self.rx() > before, 10, "the vNIC's frames counted on h1")

    def live(self):
        doc = json.loads(str(self.sw_call("Export", True, "")))
        for k in ("created", "checksum", "author"):
            doc.pop(k)
        return doc

    def version_text(self, v):
        return str(self.sw_call("GetVersion", v))

    def import_doc(self, text, mode, options=None):
        return self.mgr.call(mgrtest.ROOT, "Manager1", "ImportSwitch", text, mode,
                             json.dumps(options or {}))

    # -- tests ---------------------------------------------------------------
    def test_01_export_change_export_diff(self):
        v1, path1 = self.sw_call("SaveVersion", "before", True)
        self.assertEqual(str(v1), "v000001")
        self.assertTrue(os.path.exists(str(path1)))
        self.mgr.pg_set_config(self.web_path, {"vlan": 11})
        self.mgr.pg_set_config(self.db_path, {"vlan": 20, "policy": {"blocked": False, **SHAPING}})
        v2, _ = self.sw_call("SaveVersion", "after", True)
        self.assertEqual(str(v2), "v000002")
        listed = json.loads(str(self.sw_call("ListVersions")))
        self.assertEqual([v["version"] for v in listed], ["v000001", "v000002"])
        self.assertEqual([v["comment"] for v in listed], ["before", "after"])
        diff_json, diff_text = self.sw_call("Diff", "v000001", "v000002")
        changes = json.loads(str(diff_json))["changes"]
        got = sorted((c["object"], c["id"], c["change"], c.get("setting")) for c in changes)
        self.assertEqual(got, sorted([("port_group", self.web, "changed", "config.vlan"),
                                      ("port_group", self.db, "changed", "config.policy.shaping")]),
                         "the diff names exactly the two changes:\n" + str(diff_text))
        vlan = [c for c in changes if c.get("setting") == "config.vlan"][0]
        self.assertEqual((vlan["from"], vlan["to"]), (10, 11))
        self.assertIn("config.vlan", str(diff_text))
        # v2 against the live switch: nothing differs.
        _, text = self.sw_call("Diff", "v000002", "live")
        self.assertEqual(str(text).strip(), "no changes")
        self.mgr.wait_in_sync(list(self.hosts))
        for h in self.hosts:
            self.assertEqual(group_vlan(held_switch(self.hosts[h], self.sw), self.web), 11)

    def test_02_rollback_to_v1(self):
        counted = self.rx()
        report = json.loads(str(self.sw_call("Rollback", "v000001")))
        self.assertEqual(sorted(report["port_groups"]["updated"]), ["db", "web"])
        self.assertEqual(report["ports"]["removed"], [])
        self.mgr.wait_in_sync(list(self.hosts))
        for h in self.hosts:
            doc = held_switch(self.hosts[h], self.sw)
            self.assertEqual(group_vlan(doc, self.web), 10, "host %s back on v1's VLAN" % h)
            db = [g for g in doc["port_groups"] if g["key"] == self.db][0]
            self.assertNotIn("shaping", db["config"].get("policy", {}))
        _, text = self.sw_call("Diff", "v000001", "live")
        self.assertEqual(str(text).strip(), "no changes")
        # The connected port kept its connection; its counters go on.
        self.assertEqual(self.mgr.port(self.key)["ConnectionId"], self.conn)
        self.assertGreaterEqual(self.rx(), counted)
        self.assert_forwarding()
        show = self.hosts["h1"].call("dvport.show", {"switch": self.sw, "port": self.key})
        self.assertEqual(show["vlan"], {"mode": "access", "tag": 10})

    def test_02b_rollback_with_dvsctl_wait(self):
        # dvsctl switch rollback --wait returns once every host holds the
        # version: no wait of the test's own before looking at the hosts.
        rc, out, err = self.mgr.dvsctl("switch", "rollback", "prod", "v000002", "--wait",
                                       "--timeout", "30")
        self.assertEqual(rc, 0, err)
        self.assertIn("port groups:", out)
        self.assertIn("all hosts in sync after", err)
        for h in self.hosts:
            self.assertEqual(group_vlan(held_switch(self.hosts[h], self.sw), self.web), 11,
                             "host %s holds v2 when dvsctl returns" % h)
        # And back to v1, with --json: the report on stdout, no progress.
        rc, out, err = self.mgr.dvsctl("--json", "switch", "rollback", "prod", "v000001", "--wait")
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(json.loads(out)["port_groups"]["updated"]), ["db", "web"])
        self.assertEqual(err, "")
        for h in self.hosts:
            self.assertEqual(group_vlan(held_switch(self.hosts[h], self.sw), self.web), 10)
        self.assert_forwarding()

    def test_03_create_new_from_v2(self):
        path, uuid, report = self.import_doc(self.version_text("v000002"), "new", {"name": "prod-copy"})
        uuid = str(uuid)
        self.assertNotEqual(uuid, self.sw)
        props = self.mgr.props(str(path), "Switch1")
        self.assertEqual(props["Name"], "prod-copy")
        self.assertEqual(props["Hosts"], [], "a template brings no hosts")
        objs = self.mgr.objects()
        groups = {p[mgrtest.IFACE + "PortGroup1"]["Name"]: p[mgrtest.IFACE + "PortGroup1"]
                  for p in objs.values() if mgrtest.IFACE + "PortGroup1" in p
                  and p[mgrtest.IFACE + "PortGroup1"]["Switch"] == str(path)}
        self.assertEqual(sorted(groups), ["db", "web"])
        self.assertNotIn(groups["web"]["Uuid"], (self.web, self.db), "new port group UUIDs")
        self.assertEqual(json.loads(groups["web"]["ConfigJson"]), {"vlan": 11})
        self.assertEqual(json.loads(groups["db"]["ConfigJson"])["policy"]["shaping"], SHAPING["shaping"])
        ports = [p[mgrtest.IFACE + "Port1"] for p in objs.values() if mgrtest.IFACE + "Port1" in p
                 and p[mgrtest.IFACE + "Port1"]["Switch"] == str(path)]
        self.assertEqual(len(ports), 4)
        self.assertTrue(all(p["Key"].startswith(uuid[:8]) and p["ConnectionId"] == "" for p in ports))
        self.assertEqual(json.loads(str(report))["mode"], "new")

    def test_04_refused_imports_change_nothing(self):
        before = self.live()
        objects_before = len(self.mgr.objects())
        v2 = json.loads(self.version_text("v000002"))
        cases = []
        tampered = json.loads(json.dumps(v2))
        tampered["switch"]["port_groups"][0]["config"]["vlan"] = 99
        cases.append(("tampered", tampered, "apply", "checksum mismatch"))
        future = json.loads(json.dumps(v2))
        future["format_version"] = 2
        cases.append(("future", reseal(future), "apply", "format_version 2 is newer"))
        dangling = json.loads(json.dumps(v2))
        dangling["switch"]["ports"][0]["port_group"] = "00000000-0000-4000-8000-000000000000"
        cases.append(("dangling", reseal(dangling), "apply", "not in the document"))
        cases.append(("clash", v2, "recreate", "UUID %s exists" % self.sw))
        for label, doc, mode, text in cases:
            with self.subTest(label):
                with self.assertRaises(DBusError) as cm:
                    self.import_doc(json.dumps(doc), mode)
                self.assertIn(text, cm.exception.message)
        # Every problem at once.
        many = json.loads(json.dumps(v2))
        many["switch"]["mtu"] = 5
        many["switch"]["ports"][0]["port_group"] = "nope"
        many["switch"]["port_groups"][0]["config"]["vlan"] = 5000
        with self.assertRaises(DBusError) as cm:
            self.import_doc(json.dumps(reseal(many)), "apply")
        for text in ("mtu", "nope", "vlan"):
            self.assertIn(text, cm.exception.message)
        self.assertEqual(self.live(), before, "the live configuration is unchanged")
        self.assertEqual(len(self.mgr.objects()), objects_before)

    def test_05_recreate_after_losing_the_store(self):
        v2 = self.version_text("v000002")
        self.mgr.proc.stop()
        for suffix in ("", "-wal", "-shm", ".lock"):
            try:
                os.unlink(self.mgr.store + suffix)
            except FileNotFoundError:
                pass
        self.mgr.start()
        self.assertEqual(self.mgr.props(mgrtest.ROOT, "Manager1")["Version"] != "", True)
        self.assertEqual([p for p in self.mgr.objects() if "/switch/" in p], [], "a fresh store")
        self.assert_forwarding()   # the hosts run on from their local stores
        path, uuid, report = self.import_doc(v2, "recreate")
        self.assertEqual(str(uuid), self.sw)
        report = json.loads(str(report))
        self.assertEqual(sorted(report["hosts_registered"]), ["h1", "h2"])
        for h in self.hosts:
            self.mgr.wait_connected(h, timeout=30)
        self.mgr.wait_in_sync(list(self.hosts), timeout=30)
        self.assertEqual(self.mgr.props(self.web_path, "PortGroup1")["Uuid"], self.web)
        self.assertEqual(self.mgr.port(self.key)["ConnectionId"], self.conn)
        self.assertEqual(self.mgr.port(self.key)["Host"], "h1")
        for h in self.hosts:
            self.assertEqual(group_vlan(held_switch(self.hosts[h], self.sw), self.web), 11)
        self.assert_forwarding()
        self.assertEqual(self.mgr.out_of_sync(), [])


if __name__ == "__main__":
    dvstest.main()
