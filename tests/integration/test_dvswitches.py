#!/usr/bin/env python3
"""One host, two DVswitches, with real testpmd peers: each DVswitch is a
forwarding domain of its own (frames never cross, even on the same VLAN);
DVport keys are unique on the host; switch.list and switch.get name them;
a restart restores both; removing one leaves the other forwarding.

Run as root: python3 tests/integration/test_dvswitches.py
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402

# DVswitch id: {DVport key: MAC of its testpmd port}
SWITCHES = {
    "dvs-a": {"a1": "02:00:00:0a:00:01", "a2": "02:00:00:0a:00:02"},
    "dvs-b": {"b1": "02:00:00:0b:00:01", "b2": "02:00:00:0b:00:02"},
}
UNKNOWN = "02:00:00:ff:ff:01"        # a destination nobody has: flooded


def document(sw_id, keys=None):
    keys = keys or SWITCHES[sw_id]
    return {"id": sw_id, "name": sw_id,
            "ports": [{"key": k, "connection": {"id": "c-" + k}} for k in keys]}


class DVswitches(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        cls.tmp = dvstest.tempdir()
        cls.sock = {k: os.path.join(cls.tmp, k + ".sock")
                    for ports in SWITCHES.values() for k in ports}
        cls.tx = cls.rx = None
        cls.sw = dvstest.Switch(cls.tmp).start()
        for sw_id in SWITCHES:
            cls.sw.call("switch.apply", {"switch": document(sw_id)})
            for k in SWITCHES[sw_id]:
                cls.sw.call("dvport.attach", {"switch": sw_id, "port": k,
                                              "connection": "c-" + k, "socket": cls.sock[k]})
        # the sender on a1; one receiver testpmd on a2, b1, b2
        cls.tx = dvstest.TestPmd(cls.tmp, "tx", [(cls.sock["a1"], SWITCHES["dvs-a"]["a1"])],
                                 fwd="txonly", lcores="0@0,1@0").start(wait=False)
        cls.rx = dvstest.TestPmd(cls.tmp, "rx",
                                 [(cls.sock[k], m) for k, m in (("a2", SWITCHES["dvs-a"]["a2"]),
                                                                ("b1", SWITCHES["dvs-b"]["b1"]),
                                                                ("b2", SWITCHES["dvs-b"]["b2"]))],
                                 fwd="rxonly", lcores="0@1,1@1").start(wait=False)
        cls.tx.wait_ready()
        cls.rx.wait_ready()
        for sw_id, ports in SWITCHES.items():
            for k in ports:
                cls.wait_link(sw_id, k)

    @classmethod
    def tearDownClass(cls):
        for pmd in ("tx", "rx"):
            if getattr(cls, pmd, None) is not None:
                getattr(cls, pmd).stop()
        if getattr(cls, "sw", None) is not None and cls.sw.alive():
            rc = cls.sw.stop()
            if rc != 0:
                raise AssertionError("dvs-switchd did not exit 0 on SIGTERM: %r" % rc)

    @classmethod
    def show(cls, sw_id, key):
        return cls.sw.call("dvport.show", {"switch": sw_id, "port": key})

    @classmethod
    def wait_link(cls, sw_id, key, state="up", timeout=20):
        dvstest.wait_until(lambda: cls.show(sw_id, key)["link"] == state, timeout,
                           "link of DVport %s/%s to be %s" % (sw_id, key, state))

    def flood(self, seconds=0.5):
        """Frames from a1 to an unknown destination; returns the receiver's
        per-port counts {a2, b1, b2} and the sender's."""
        self.rx.cmd("clear port stats all")
        self.tx.cmd("clear port stats all")
        self.tx.cmd("set eth-peer 0 " + UNKNOWN)
        self.rx.cmd("start")
        self.tx.cmd("start")
        time.sleep(seconds)
        self.tx.cmd("stop")
        time.sleep(0.3)
        self.rx.cmd("stop")
        rx = self.rx.stats()
        return ({"a2": rx[0]["rx_packets"], "b1": rx[1]["rx_packets"],
                 "b2": rx[2]["rx_packets"]}, self.tx.stats()[0]["tx_packets"])

    def test_1_floods_stay_in_their_dvswitch(self):
        got, sent = self.flood()
        self.assertGreater(sent, 0)
        self.assertGreater(got["a2"], 0, got)
        self.assertEqual((got["b1"], got["b2"]), (0, 0),
                         "frames crossed from DVswitch dvs-a into dvs-b: %r" % got)
        for k in ("b1", "b2"):
            self.assertEqual(self.show("dvs-b", k)["stats"]["tx"]["packets"], 0)
        # learned in dvs-a only
        learned = {e["port"] for e in self.sw.call("mac.dump")["entries"]}
        self.assertIn("a1", learned)
        self.assertFalse(learned & {"b1", "b2"}, learned)

    def test_2_listing_and_naming(self):
        listed = self.sw.call("switch.list")["switches"]
        self.assertEqual([(s["id"], s["ports"], s["attached"]) for s in listed],
                         [("dvs-a", 2, 2), ("dvs-b", 2, 2)])
        err = self.sw.rpc().request("switch.get", {})
        self.assertEqual(err["error"]["code"], -32602, err)
        self.assertIn("give \"id\"", err["error"]["message"])
        doc = self.sw.call("switch.get", {"id": "dvs-b"})
        self.assertEqual([p["key"] for p in doc["ports"]], ["b1", "b2"])
        out = self.sw.switchctl("switch", "list").stdout
        self.assertIn("dvs-a", out)
        self.assertIn("dvs-b", out)

    def test_3_keys_are_unique_on_a_host(self):
        clash = document("dvs-c", ["a1"])
        err = self.sw.rpc().request("switch.apply", {"switch": clash})
        self.assertEqual(err["error"]["code"], -32001, err)
        self.assertIn("a1", err["error"]["message"])
        self.assertIn("dvs-a", err["error"]["message"])
        self.assertEqual(len(self.sw.call("switch.list")["switches"]), 2)

    def test_4_restart_restores_both(self):
        before = {k: self.show(s, k)["stats"]["tx"]["packets"]
                  for s, ports in SWITCHES.items() for k in ports}
        self.assertEqual(self.sw.stop(), 0)
        self.__class__.sw = dvstest.Switch(self.tmp, name=self.sw.name).start()
        self.assertEqual([s["id"] for s in self.sw.call("switch.list")["switches"]],
                         ["dvs-a", "dvs-b"])
        for s, ports in SWITCHES.items():
            for k in ports:
                self.wait_link(s, k)
                self.assertEqual(self.show(s, k)["stats"]["tx"]["packets"], before[k])
        got, _ = self.flood()
        self.assertGreater(got["a2"], 0, got)
        self.assertEqual((got["b1"], got["b2"]), (0, 0), got)

    def test_5_removing_one_leaves_the_other(self):
        self.sw.call("switch.remove", {"id": "dvs-b"})
        self.assertEqual([s["id"] for s in self.sw.call("switch.list")["switches"]], ["dvs-a"])
        got, _ = self.flood()
        self.assertGreater(got["a2"], 0, got)
        # the only DVswitch now: switch.get needs no id again
        self.assertEqual(self.sw.call("switch.get")["id"], "dvs-a")


if __name__ == "__main__":
    dvstest.main()
