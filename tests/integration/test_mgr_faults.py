#!/usr/bin/env python3
"""dvsmgr under faults, with real processes (dbus-daemon, polkitd mock,
SQLite, dvs-switchd hosts, dpdk-testpmd vNICs):

  1  a host killed in the middle of a push lands on the re-push queue and
     is reported; restarted, it converges without operator action and the
     queue empties;
  2  dvsmgr killed (SIGKILL) in the middle of a burst of changes: restarted
     on the same store, nothing is lost or half-written (every change whose
     D-Bus call returned is there; the store passes integrity_check), the
     hosts converge, and the hosts kept forwarding while it was down.
Run as root: python3 tests/integration/test_mgr_faults.py
"""

import json
import os
import signal
import sqlite3
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import wait_until  # noqa: E402
from mgrtest import group_vlan, held_switch  # noqa: E402

VM_A = "6f1c0000-0000-4000-8000-00000000f0a1"
VM_B = "6f1c0000-0000-4000-8000-00000000f0b2"
MAC_A = "02:d6:00:00:02:0a"
MAC_B = "02:d6:00:00:02:0b"


class ManagerFaults(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        cls.tmp = dvstest.tempdir()
        cls.bus, cls.polkit, _, cls.mgr, cls.hosts = mgrtest.setup_manager(
            cls.tmp, hosts=["h1", "h2"], push_timeout_ms=1000, retry_ms=300)
        cls.sw_path, cls.sw = cls.mgr.create_switch("faults", {"transport_zone": "tz1"})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "pg", {"vlan": 10}, 2)
        for h in cls.hosts:
            cls.mgr.join(cls.sw_path, h)
        cls.mgr.wait_in_sync(list(cls.hosts))

    def vlan_on(self, host):
        doc = held_switch(self.hosts[host], self.sw)
        return group_vlan(doc, self.pg) if doc else None

    def test_01_host_killed_mid_push(self):
        h2 = self.hosts["h2"]
        # Freeze h2 so that the push is in flight when it dies.
        h2.proc.send_signal(signal.SIGSTOP)
        try:
            self.mgr.pg_set_config(self.pg_path, {"vlan": 11})
            entries = wait_until(lambda: [e for e in self.mgr.out_of_sync() if e["host"] == "h2"],
                                 15, "h2 on the re-push queue")
            self.assertEqual(entries[0]["queue"], "repush")
            self.assertEqual(entries[0]["switch"], self.sw)
            self.assertTrue(entries[0]["reason"], "the entry says why")
            self.assertFalse(self.mgr.host("h2")["InSync"])
            self.assertGreaterEqual(self.mgr.props(mgrtest.ROOT, "Manager1")["OutOfSyncCount"], 1)
        finally:
            h2.proc.send_signal(signal.SIGKILL)
            h2.proc.send_signal(signal.SIGCONT)
        h2.proc.wait(10)
        self.mgr.wait_in_sync(["h1"])
        self.assertEqual(self.vlan_on("h1"), 11)
        # Still out of sync while it is down; a further change queues too.
        self.mgr.pg_set_config(self.pg_path, {"vlan": 12})
        wait_until(lambda: any(e["host"] == "h2" for e in self.mgr.out_of_sync()), 10,
                   "h2 still queued")
        # dvsctl sync --wait does not wait for a host that is not connected:
        # it says so at once (exit 1) instead of running into its timeout.
        wait_until(lambda: not self.mgr.host("h2")["Connected"], 10, "h2 seen disconnected")
        t0 = time.monotonic()
        rc, out, err = self.mgr.dvsctl("sync", "--wait", "--timeout", "20")
        self.assertEqual(rc, 1, err)
        self.assertIn("out of sync and not connected: h2", err)
        self.assertLess(time.monotonic() - t0, 15, "it did not wait for its timeout")
        h2.start()
        wait_until(lambda: self.mgr.host("h2")["Connected"], 20, "h2 connected again")
        # Now it follows the re-push to the end.
        rc, out, err = self.mgr.dvsctl("sync", "--wait", "--timeout", "30", timeout=40)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "all hosts in sync\n")
        self.assertRegex(err, r"all hosts in sync after \d+\.\d s")
        self.mgr.wait_in_sync(["h1", "h2"], timeout=30)
        self.assertEqual(self.mgr.out_of_sync(), [], "the queue empties by itself")
        self.assertEqual(self.vlan_on("h2"), 12)
        self.assertEqual(self.vlan_on("h1"), 12)

    def test_02_manager_killed_mid_push(self):
        keys = self.mgr.ports_of(self.pg)
        conn = {keys[0]: self.mgr.connect(keys[0], "h1", VM_A, MAC_A),
                keys[1]: self.mgr.connect(keys[1], "h1", VM_B, MAC_B)}
        self.mgr.wait_in_sync(["h1", "h2"])
        # Two vNICs on h1: a sender and a receiver, in the port group's VLAN.
        socks = {k: os.path.join(self.tmp, "f-%s.sock" % k) for k in keys}
        rx = dvstest.TestPmd(self.tmp, "rx", [(socks[keys[1]], MAC_B)], fwd="rxonly").start(wait=False)
        tx = dvstest.TestPmd(self.tmp, "tx", [(socks[keys[0]], MAC_A)], fwd="txonly").start(wait=False)
        try:
            for k in keys:
                self.hosts["h1"].call("dvport.attach", {"switch": self.sw, "port": k,
                                                        "connection": conn[k], "socket": socks[k]})
            rx.wait_ready()
            tx.wait_ready()
            # txonly sends to a fixed destination MAC; make it the receiver's.
            tx.cmd("set eth-peer 0 %s" % MAC_B)
            rx.cmd("start")
            tx.cmd("start")

            def received():
                return rx.stats()[0]["rx_packets"]
            wait_until(lambda: received() > 0, 20, "frames from the sender")
            # A burst of changes; the manager dies while pushing them, with
            # more calls on their way that it may or may not have taken.
            gen0 = self.mgr.props(self.sw_path, "Switch1")["Generation"]
            for vlan in range(20, 40):
                self.mgr.pg_set_config(self.pg_path, {"vlan": vlan})
            last_acked = 39
            pg_obj = self.bus.conn().get_object(mgrtest.BUS_NAME, self.pg_path, introspect=False)
            for vlan in range(40, 50):
                pg_obj.SetConfig(json.dumps({"vlan": vlan}), dbus_interface="net.dvsqemu.PortGroup1",
                                 ignore_reply=True)
            self.mgr.proc.send_signal(signal.SIGKILL)
            self.mgr.proc.wait(10)
            # The hosts go on forwarding without their manager.
            before = received()
            wait_until(lambda: received() > before, 10, "h1 forwarding while the manager is down")
            # The store: intact, and holding every acknowledged change.
            db = sqlite3.connect("file:%s?mode=ro" % self.mgr.store, uri=True)
            try:
                self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                row = db.execute("SELECT value FROM objects WHERE kind='portgroup' AND key=?",
                                 (self.pg,)).fetchone()
                sw_row = db.execute("SELECT value FROM objects WHERE kind='switch' AND key=?",
                                    (self.sw,)).fetchone()
            finally:
                db.close()
            stored = json.loads(row[0])["config"]["vlan"]
            self.assertGreaterEqual(stored, last_acked, "every acknowledged change is kept")
            # Each change wrote the group and the switch's generation in one
            # transaction: both or neither.
            self.assertEqual(json.loads(sw_row[0])["generation"], gen0 + 20 + (stored - last_acked))
            last_acked = stored
            # Restart: same store, same objects; hosts reconnect and converge.
            self.mgr.start()
            self.assertEqual(json.loads(self.mgr.props(self.pg_path, "PortGroup1")["ConfigJson"]),
                             {"vlan": last_acked})
            self.assertEqual(self.mgr.port(keys[0])["ConnectionId"], conn[keys[0]])
            for h in self.hosts:
                self.mgr.wait_connected(h)
            self.mgr.wait_in_sync(["h1", "h2"], timeout=30)
            for h in self.hosts:
                self.assertEqual(self.vlan_on(h), last_acked, "host %s converged" % h)
            # The vNICs were never disturbed: still attached, still forwarding.
            for k in keys:
                show = self.hosts["h1"].call("dvport.show", {"switch": self.sw, "port": k})
                self.assertTrue(show["attached"])
                self.assertEqual(show["link"], "up")
            before = received()
            wait_until(lambda: received() > before, 10, "forwarding after the manager is back")
            self.assertEqual(self.mgr.out_of_sync(), [])
        finally:
            tx.stop()
            rx.stop()


if __name__ == "__main__":
    dvstest.main()
