#!/usr/bin/env python3
"""A DVport's runtime state follows its VM to another host (Port1.Move):
dvsmgr on a real dbus-daemon with polkit (dbusmock), two real dvs-switchd
hosts, a dpdk-testpmd vNIC standing in for the VM.

The vNIC sends on host h1, stops (link down: h1 checkpoints the port and
reports its state to the manager), the port is moved to h2 with its
connection ID, and the vNIC starts again on h2: the counters continue from
h1's values exactly, the learned MAC is there before any new frame, and h1
holds nothing of the port.  A move while the link is up is refused, and a
port-group change that keeps the VLAN keeps the learned MAC.
Run as root: python3 tests/integration/test_port_move.py
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
from mgrtest import DBusError, held_switch  # noqa: E402

VM = "6f1c0000-0000-4000-8000-00000000d0a1"
MAC = "02:d6:00:00:04:0a"
PEER = "02:d6:00:00:04:99"


class PortMove(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        cls.tmp = dvstest.tempdir()
        cls.bus, cls.polkit, _, cls.mgr, cls.hosts = mgrtest.setup_manager(cls.tmp, hosts=["h1", "h2"])
        cls.sw_path, cls.sw = cls.mgr.create_switch("move", {"transport_zone": "tz1"})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "web", {"vlan": 10}, 2)
        for h in cls.hosts:
            cls.mgr.join(cls.sw_path, h)
        cls.key = cls.mgr.ports_of(cls.pg)[0]
        cls.conn = cls.mgr.connect(cls.key, "h1", VM, MAC, "net0")
        cls.mgr.wait_in_sync(list(cls.hosts))

    def vnic(self, host, label):
        """A testpmd vNIC for the port on HOST, sending to PEER; returns it
        linked up."""
        sock = os.path.join(self.tmp, "%s.sock" % label)
        pmd = dvstest.TestPmd(self.tmp, label, [(sock, MAC)], fwd="txonly",
                              lcores="0@0,1@0").start(wait=False)
        self.hosts[host].call("dvport.attach", {"switch": self.sw, "port": self.key,
                                                "connection": self.conn, "socket": sock})
        pmd.wait_ready()
        pmd.cmd("set eth-peer 0 " + PEER)
        wait_until(lambda: self.show(host)["link"] == "up", 20, "link up on %s" % host)
        return pmd

    def show(self, host):
        return self.hosts[host].call("dvport.show", {"switch": self.sw, "port": self.key})

    def send(self, pmd, seconds=0.5):
        """Sends for SECONDS; returns how many frames testpmd sent."""
        pmd.cmd("clear port stats all")
        pmd.cmd("start")
        time.sleep(seconds)
        pmd.cmd("stop")
        return pmd.stats()[0]["tx_packets"]

    def macs(self, host):
        return [e for e in self.hosts[host].call("mac.dump", {"port": self.key})["entries"]
                if e["mac"] == MAC]

    def test_move_carries_state(self):
        pmd = self.vnic("h1", "vnic-h1")
        try:
            sent1 = self.send(pmd)
            self.assertGreater(sent1, 0)
            wait_until(lambda: self.show("h1")["stats"]["rx"]["packets"] == sent1, 10,
                       "h1 counting every frame sent")
            self.assertTrue(self.macs("h1"), "h1 learned the vNIC's MAC")
            # Refused while the vNIC runs on h1.
            with self.assertRaises(DBusError) as cm:
                self.mgr.call(self.mgr.port_path(self.key), "Port1", "Move", "h2")
            self.assertEqual(cm.exception.name, "net.dvsqemu.Error.Busy")
            self.assertIn("stop the VM first", cm.exception.message)
        finally:
            pmd.interrupt()          # the VM powers off on h1: link down, checkpoint
        wait_until(lambda: self.mgr.port(self.key)["Link"] == "down", 20, "the manager sees link down")
        reported = json.loads(self.mgr.port(self.key)["StatsJson"])
        self.assertEqual(reported["rx"]["packets"], sent1)

        self.mgr.call(self.mgr.port_path(self.key), "Port1", "Move", "h2")
        self.assertEqual(self.mgr.port(self.key)["Host"], "h2")
        self.assertEqual(self.mgr.port(self.key)["ConnectionId"], self.conn, "the VM keeps its ID")
        self.mgr.wait_in_sync(["h1", "h2"])
        self.assertEqual([p["key"] for p in held_switch(self.hosts["h1"], self.sw)["ports"]], [],
                         "h1 holds nothing of the port")
        with self.assertRaises(dvstest.RpcError):
            self.show("h1")
        # Before the vNIC is back, h2 already has the port's state.
        before = self.show("h2")
        self.assertEqual(before["state_source"], "checkpoint")
        self.assertEqual(before["stats"]["rx"]["packets"], sent1)

        pmd = self.vnic("h2", "vnic-h2")
        try:
            self.assertTrue(self.macs("h2"), "the learned MAC came along: present before any frame")
            up = self.show("h2")
            self.assertEqual(up["stats"]["rx"]["packets"], sent1, "counters continue, none reset")
            sent2 = self.send(pmd)
            wait_until(lambda: self.show("h2")["stats"]["rx"]["packets"] == sent1 + sent2, 10,
                       "h2 counting on from h1's value")
            # The new owner reported: the document no longer carries the state.
            wait_until(lambda: "state" not in held_switch(self.hosts["h2"], self.sw)["ports"][0],
                       20, "the handover finished")
            self.assertEqual(self.mgr.out_of_sync(), [])
            # A port-group change that keeps the VLAN keeps what was learned.
            self.mgr.pg_set_config(self.pg_path, {"vlan": 10, "policy": {"blocked": False}})
            self.mgr.wait_in_sync(["h1", "h2"])
            self.assertTrue(self.macs("h2"), "a change that keeps the VLAN flushed the MACs")
        finally:
            pmd.interrupt()
        wait_until(lambda: json.loads(self.mgr.port(self.key)["StatsJson"])["rx"]["packets"]
                   == sent1 + sent2, 20, "the manager holding the counters of both hosts")


if __name__ == "__main__":
    dvstest.main()
