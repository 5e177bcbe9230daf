#!/usr/bin/env python3
"""DVports of dvs-switchd (docs/dvport.md) with dpdk-testpmd virtio-user peers.

One dvs-switchd holds DVswitch "dvs-it" with two port groups and three
DVports, each attached in client mode to a testpmd virtio-user server:
    p1  pg-a   (VLAN 10)  <- sender testpmd "tx" (txonly), MAC_A
    p2  pg-a   (VLAN 10)  <- receiver testpmd "rx" port 0 (rxonly), MAC_B
    p3  pg-mon (VLAN 20)  <- receiver testpmd "rx" port 1 (rxonly), MAC_C
p3 is alone in its VLAN: it receives only mirror copies.  Policies are set
with switch.apply (final state: every test applies the whole document);
every count the switch reports (dvport.show) is checked against testpmd's
own.  Run as root: python3 tests/integration/test_dvport.py
"""

import base64
import json
import os
import re
import struct
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import RpcError, wait_until  # noqa: E402

SW = "dvs-it"
MAC_A = "02:d6:00:00:00:0a"
MAC_B = "02:d6:00:00:00:0b"
MAC_C = "02:d6:00:00:00:0c"
MAC_X = "02:d6:00:00:00:99"     # a MAC port security does not allow
PORTS = ("p1", "p2", "p3")
MAC = {"p1": MAC_A, "p2": MAC_B, "p3": MAC_C}
GROUP = {"p1": "pg-a", "p2": "pg-a", "p3": "pg-mon"}
VM = {"p1": "6f1c0000-0000-4000-8000-0000000000a1",
      "p2": "6f1c0000-0000-4000-8000-0000000000b2",
      "p3": "6f1c0000-0000-4000-8000-0000000000c3"}
FRAME = 64                      # testpmd txonly default frame size
CONN_REFUSED = -32003


def delta(after, before):
    if isinstance(after, dict):
        return {k: delta(after[k], before[k]) for k in after}
    return after - before


def total(drops):
    return sum(drops.values())


def shaper_levels(classes):
    """(committed, peak) bucket levels in bits per direction from the
    shaper's serialized state, version 1 (classes/filter-shaper.c)."""
    data = base64.b64decode(shaper_entry(classes)["data"])
    if len(data) != 48:
        raise AssertionError("shaper state is %d bytes, version 1 has 48" % len(data))
    v = struct.unpack("<6Q", data)
    return ((v[0], v[1]), (v[3], v[4]))


def shaper_entry(classes):
    found = [c for c in classes or [] if c.get("class") == "shaper"]
    if len(found) != 1:
        raise AssertionError("expected one shaper class entry, got %r" % classes)
    return found[0]


class DVports(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        cls.tmp = dvstest.tempdir()
        cls.sock = {p: os.path.join(cls.tmp, p + ".sock") for p in PORTS}
        cls.conn = {p: "c-%s-1" % p for p in PORTS}
        cls.tx = cls.rx = None
        cls.sw = dvstest.Switch(cls.tmp).start()
        cls.first_apply = cls.sw.call("switch.apply", {"switch": cls.document()})
        for p in PORTS:
            cls.attach(p)
        cls.tx = cls.new_sender(wait=False)
        cls.rx = cls.new_receiver(wait=False)
        cls.tx.wait_ready()
        cls.rx.wait_ready()
        for p in PORTS:
            cls.wait_link(p, "up")

    @classmethod
    def tearDownClass(cls):
        for pmd in ("tx", "rx"):
            if getattr(cls, pmd, None) is not None:
                getattr(cls, pmd).stop()
        if getattr(cls, "sw", None) is not None:
            pid = cls.sw.pid
            rc = cls.sw.stop()
            if rc != 0:
                raise AssertionError("dvs-switchd (pid %d) did not exit 0 on SIGTERM: %r"
                                     % (pid, rc))

    # -- the document and the DVport methods --------------------------------

    @classmethod
    def document(cls, config=None):
        """The whole DVswitch, with CONFIG {port key: port config} overrides."""
        config = config or {}
        ports = []
        for p in PORTS:
            port = {"key": p, "port_group": GROUP[p],
                    "connection": {"id": cls.conn[p], "vm": VM[p], "mac": MAC[p]}}
            if p in config:
                port["config"] = config[p]
            ports.append(port)
        return {"id": SW, "name": "integration", "forwarding_class": "l2-learning",
                "mtu": 1500,
                "port_groups": [{"key": "pg-a", "name": "a", "config": {"vlan": 10}},
                                {"key": "pg-mon", "name": "monitor", "config": {"vlan": 20}}],
                "ports": ports}

    def apply(self, config=None):
        return self.sw.call("switch.apply", {"switch": self.document(config)})

    @classmethod
    def attach(cls, port, connection=None):
        return cls.sw.call("dvport.attach", {
            "switch": SW, "port": port, "socket": cls.sock[port],
            "connection": connection or cls.conn[port]})

    @classmethod
    def show(cls, port):
        return cls.sw.call("dvport.show", {"switch": SW, "port": port})

    @classmethod
    def wait_link(cls, port, state="up", timeout=15):
        return wait_until(lambda: cls.show(port)["link"] == state, timeout,
                          "link of DVport %s to be %s" % (port, state))

    def macs(self):
        return {(e["mac"].lower(), e["vlan"], e["port"])
                for e in self.sw.call("mac.dump")["entries"]}

    # -- testpmd peers -------------------------------------------------------

    @classmethod
    def new_sender(cls, wait=True, mac=MAC_A):
        return dvstest.TestPmd(cls.tmp, "tx", [(cls.sock["p1"], mac)],
                               fwd="txonly", lcores="0@0,1@0").start(wait=wait)

    @classmethod
    def new_receiver(cls, wait=True):
        return dvstest.TestPmd(cls.tmp, "rx", [(cls.sock["p2"], MAC_B), (cls.sock["p3"], MAC_C)],
                               fwd="rxonly", lcores="0@1,1@1").start(wait=wait)

    def replace_sender(self, mac=MAC_A):
        """A new sender testpmd on p1's socket (after the old one quits)."""
        if self.tx is not None:
            self.tx.stop()
        self.__class__.tx = None
        self.__class__.tx = self.new_sender(mac=mac)
        self.wait_link("p1", "up")

    def setUp(self):
        self.assertTrue(self.sw.alive(), "dvs-switchd is not running")
        # The baseline: no policy, every DVport attached, both peers there.
        self.apply()
        for p in PORTS:
            if not self.show(p)["attached"]:
                self.attach(p)
        if self.tx is None or not self.tx.alive():
            if self.tx is not None:
                self.tx.stop()
            self.__class__.tx = self.new_sender()
        if self.rx is None or not self.rx.alive():
            if self.rx is not None:
                self.rx.stop()
            self.__class__.rx = self.new_receiver()
        for p in PORTS:
            self.wait_link(p, "up")

    def tearDown(self):
        self.assertTrue(self.sw.alive(), "dvs-switchd died during the test")

    # -- traffic and counters ------------------------------------------------

    def stats(self):
        return {p: self.show(p)["stats"] for p in PORTS}

    def settle(self, timeout=15):
        """Wait until the switch's counters stop moving; returns them."""
        last = [None]

        def stable():
            now = self.stats()
            same = now == last[0]
            last[0] = now
            return same
        wait_until(stable, timeout, "the switch's counters to settle", interval=0.3)
        return last[0]

    def drain(self):
        """Let the receiver empty its rings (frames left from an earlier
        step), then zero both testpmds' counters."""
        self.rx.cmd("start")
        time.sleep(0.2)
        self.rx.cmd("stop")
        if self.tx is not None:
            self.tx.cmd("clear port stats all")
        self.rx.cmd("clear port stats all")

    def blast(self, seconds=0.5, dst=MAC_B):
        """The sender sends to DST at full rate for SECONDS.  Returns
        (switch counter deltas per DVport, sender stats, receiver stats)."""
        self.tx.cmd("set eth-peer 0 " + dst)
        self.settle()
        self.drain()
        before = self.settle()
        self.rx.cmd("start")
        self.tx.cmd("start")
        time.sleep(seconds)
        self.tx.cmd("stop")
        after = self.settle()
        self.receiver_caught_up(after, before)
        self.rx.cmd("stop")
        d = {p: delta(after[p], before[p]) for p in PORTS}
        return d, self.tx.stats()[0], self.rx.stats()

    def receiver_caught_up(self, after, before):
        """The receiver has taken every frame the switch put in its rings
        between the counter samples BEFORE and AFTER."""
        self.rx.wait_rx({i: after[p]["tx"]["packets"] - before[p]["tx"]["packets"]
                         for i, p in enumerate(("p2", "p3"))})

    def bursts(self, n, dst=MAC_B):
        """The sender sends exactly N bursts of 32 frames (testpmd's
        `start tx_first N`, then receives only).  Same return as blast."""
        self.tx.cmd("set eth-peer 0 " + dst)
        self.settle()
        self.drain()
        before = self.settle()
        self.rx.cmd("start")
        self.tx.cmd("set fwd rxonly")
        try:
            self.tx.cmd("start tx_first %d" % n)
            time.sleep(0.3)
            self.tx.cmd("stop")
        finally:
            self.tx.cmd("set fwd txonly")
        after = self.settle()
        self.receiver_caught_up(after, before)
        self.rx.cmd("stop")
        d = {p: delta(after[p], before[p]) for p in PORTS}
        return d, self.tx.stats()[0], self.rx.stats()

    def check_sent(self, d, txs, frame=FRAME):
        """p1 received every frame the sender put on its ring; returns N."""
        n = txs["tx_packets"]
        self.assertGreater(n, 0, "the sender sent nothing")
        self.assertEqual(txs["tx_bytes"], n * frame)
        self.assertEqual(d["p1"]["rx"]["packets"], n, "p1 rx.packets vs testpmd TX-packets")
        self.assertEqual(d["p1"]["rx"]["bytes"], txs["tx_bytes"], "p1 rx.bytes vs testpmd TX-bytes")
        return n

    def check_delivered(self, d, port, rxs, n):
        """PORT got each of the N frames once: delivered (and counted by
        testpmd) or dropped because the receiver's ring was full."""
        self.assertEqual(d[port]["tx"]["packets"], rxs["rx_packets"],
                         "%s tx.packets vs testpmd RX-packets" % port)
        self.assertEqual(d[port]["tx"]["bytes"], rxs["rx_bytes"],
                         "%s tx.bytes vs testpmd RX-bytes" % port)
        self.assertGreater(rxs["rx_packets"], 0, "%s received nothing" % port)
        self.assertEqual(total(d[port]["drops"]), d[port]["drops"]["ring_full"],
                         "%s: drops other than ring_full: %r" % (port, d[port]["drops"]))
        self.assertEqual(d[port]["tx"]["packets"] + d[port]["drops"]["ring_full"], n,
                         "%s: tx %d + ring_full %d != %d frames sent"
                         % (port, d[port]["tx"]["packets"], d[port]["drops"]["ring_full"], n))

    def check_nothing_delivered(self, d, port, rxs):
        self.assertEqual(rxs["rx_packets"], 0, "testpmd received frames on %s" % port)
        self.assertEqual(d[port]["tx"]["packets"], 0, "the switch delivered frames to %s" % port)

    # -- tests ---------------------------------------------------------------

    def test_01_apply_adds_group_ports_then_same_document_changes_nothing(self):
        self.assertEqual(self.first_apply, {"id": SW, "added": list(PORTS), "updated": [],
                                            "removed": [], "revoked": []})
        doc = self.document()
        for _ in range(2):
            res = self.sw.call("switch.apply", {"switch": doc})
            self.assertEqual(res, {"id": SW, "added": [], "updated": [], "removed": [],
                                   "revoked": []}, "the same document applied again changed things")
        got = self.sw.call("switch.get")
        self.assertEqual(got["id"], SW)
        self.assertEqual(got["forwarding_class"], "l2-learning")
        self.assertEqual(sorted(g["key"] for g in got["port_groups"]), ["pg-a", "pg-mon"])
        ports = {p["key"]: p for p in got["ports"]}
        self.assertEqual(sorted(ports), list(PORTS))
        for p in PORTS:
            self.assertEqual(ports[p]["port_group"], GROUP[p])
            self.assertEqual(ports[p]["connection"]["id"], self.conn[p])
            self.assertTrue(ports[p]["attached"], p)
            self.assertEqual(ports[p]["link"], "up", p)
        self.assertEqual(self.show("p1")["vlan"], {"mode": "access", "tag": 10})
        self.assertEqual(self.show("p3")["vlan"], {"mode": "access", "tag": 20})
        # The idempotent re-apply did not disturb the attached vNICs.
        for p in PORTS:
            self.assertEqual(self.show(p)["link"], "up")

    def test_02_connection_id_gates_attach_and_new_id_revokes_attached_vnic(self):
        d, txs, rxs = self.bursts(2)
        self.check_delivered(d, "p2", rxs[0], self.check_sent(d, txs))
        before = self.settle()["p1"]
        det = self.sw.call("dvport.detach", {"switch": SW, "port": "p1"})
        self.assertFalse(det["attached"])
        self.assertEqual(det["state_source"], "checkpoint")
        self.assertEqual(det["stats"], before, "p1's counters not checkpointed at detach")
        for bad in ("c-wrong", "c-p1-0"):
            with self.assertRaises(RpcError) as cm:
                self.attach("p1", connection=bad)
            self.assertEqual(cm.exception.code, CONN_REFUSED, cm.exception.error)
            wait_until(lambda: re.search(r"(?m)^.*refus.*\bp1\b.*%s.*$|^.*\bp1\b.*refus.*%s.*$"
                                         % (re.escape(bad), re.escape(bad)), self.sw.log()),
                       5, "a log line saying the attach of p1 with %s was refused" % bad)
        self.assertFalse(self.show("p1")["attached"], "a refused attach attached the vNIC")
        res = self.attach("p1")
        self.assertTrue(res["attached"])
        self.assertEqual(res["connection"], {"id": self.conn["p1"], "vm": VM["p1"], "mac": MAC_A})
        self.assertEqual(res["stats"], before, "p1's counters not restored at attach")
        self.wait_link("p1", "up")

        # The manager gives p1 a new connection: the attached vNIC is cut off.
        old = self.conn["p1"]
        self.conn["p1"] = "c-p1-2"
        res = self.apply()
        self.assertEqual(res["revoked"], ["p1"], res)
        self.assertEqual(res["updated"], ["p1"], res)
        self.assertEqual(res["added"] + res["removed"], [], res)
        p1 = self.show("p1")
        self.assertFalse(p1["attached"], "the vNIC with the revoked connection is still attached")
        self.assertEqual(p1["link"], "down")
        self.assertEqual(p1["connection"], {"id": "c-p1-2", "vm": VM["p1"], "mac": MAC_A})
        self.assertEqual(p1["state_source"], "checkpoint")
        self.assertEqual(p1["stats"], before, "p1's counters not checkpointed at the revoke")
        self.assertEqual(self.show("p2")["link"], "up", "revoking p1 touched p2")
        with self.assertRaises(RpcError) as cm:
            self.attach("p1", connection=old)
        self.assertEqual(cm.exception.code, CONN_REFUSED, cm.exception.error)
        self.assertFalse(self.show("p1")["attached"])
        res = self.attach("p1", connection="c-p1-2")
        self.assertTrue(res["attached"])
        self.assertEqual(res["stats"], before, "p1's counters did not continue under the new ID")
        self.wait_link("p1", "up")
        d, txs, rxs = self.blast(0.3)
        n = self.check_sent(d, txs)
        self.check_delivered(d, "p2", rxs[0], n)

    def test_03_counters_add_up_exactly_across_five_link_down_up_cycles(self):
        self.tx.stop()
        self.__class__.tx = None
        self.wait_link("p1", "down")
        self.settle()
        self.drain()
        before = self.settle()
        log_start = len(self.sw.log())
        self.rx.cmd("start")
        sent = {"tx_packets": 0, "tx_bytes": 0}
        downs = 0
        for cycle in range(5):
            with self.subTest(cycle=cycle):
                tx = self.new_sender()
                self.__class__.tx = tx
                self.wait_link("p1", "up")
                tx.cmd("set eth-peer 0 " + MAC_B)
                tx.cmd("start")
                time.sleep(0.2)
                tx.cmd("stop")
                s = tx.stats()[0]
                self.assertGreater(s["tx_packets"], 0, "cycle %d: the sender sent nothing" % cycle)
                sent["tx_packets"] += s["tx_packets"]
                sent["tx_bytes"] += s["tx_bytes"]
                self.settle()           # the switch emptied p1's ring
                rc = tx.interrupt()
                self.__class__.tx = None
                self.assertEqual(rc, 0, "testpmd did not exit 0 on SIGINT")
                self.wait_link("p1", "down")
                downs += 1
        after = self.settle()
        self.receiver_caught_up(after, before)
        self.rx.cmd("stop")
        rxs = self.rx.stats()
        d = {p: delta(after[p], before[p]) for p in PORTS}
        n = sent["tx_packets"]
        self.assertEqual(d["p1"]["rx"]["packets"], n, "p1 rx.packets vs the 5 senders' TX-packets")
        self.assertEqual(d["p1"]["rx"]["bytes"], sent["tx_bytes"], "p1 rx.bytes vs TX-bytes")
        self.assertEqual(total(d["p1"]["drops"]), 0, d["p1"]["drops"])
        self.check_delivered(d, "p2", rxs[0], n)
        self.check_nothing_delivered(d, "p3", rxs[1])
        # Every link down was checkpointed (the log line of dvport-host.c).
        self.assertGreaterEqual(len(re.findall(r"DVport p1: link down\b.*checkpointed",
                                               self.sw.log()[log_start:])), downs)

    def test_04_learned_mac_is_back_at_reattach_and_link_up_without_relearning(self):
        self.rx.cmd("set eth-peer 0 " + MAC_A)
        self.rx.cmd("set eth-peer 1 " + MAC_A)
        self.rx.cmd("start tx_first")
        time.sleep(0.3)
        self.rx.cmd("stop")
        wait_until(lambda: (MAC_B, 10, "p2") in self.macs(), 5, "MAC_B learned on p2")
        rx_before = self.settle()["p2"]["rx"]

        with self.subTest("detach, attach"):
            self.sw.call("dvport.detach", {"switch": SW, "port": "p2"})
            self.assertNotIn((MAC_B, 10, "p2"), self.macs(),
                             "the detached port's MAC is still in the live MAC table")
            # dvs-switchctl decodes the saved l2-learning state.
            out = self.sw.switchctl("dvport", "show", "p2", "--switch", SW).stdout
            self.assertRegex(out, r"(?m)^l2-learning +1 +16 +1 learned MAC$", out)
            section = out.split("l2-learning state (ages when saved):", 1)
            self.assertEqual(len(section), 2, "no decoded l2-learning state:\n" + out)
            self.assertRegex(section[1], r"(?m)^%s +10 +\d+s$" % re.escape(MAC_B.lower()),
                             "MAC_B not in the decoded state:\n" + out)
            res = self.attach("p2")
            self.assertEqual(res["stats"]["rx"], rx_before, "p2's rx counters did not continue")
            self.assertIn((MAC_B, 10, "p2"), self.macs(),
                          "p2's MAC is not in the MAC table right after the attach")
            self.wait_link("p2", "up")
            self.assertIn((MAC_B, 10, "p2"), self.macs(), "p2's MAC is gone after link up")
            self.assertEqual(self.show("p2")["stats"]["rx"], rx_before,
                             "p2 sent frames: the MAC may have been relearned")

        with self.subTest("receiver testpmd restarted: link down, link up"):
            self.rx.stop()
            self.__class__.rx = None
            self.wait_link("p2", "down")
            self.assertIn((MAC_B, 10, "p2"), self.macs(), "p2's MAC is gone at link down")
            self.__class__.rx = self.new_receiver()
            self.wait_link("p2", "up")
            self.assertIn((MAC_B, 10, "p2"), self.macs(), "p2's MAC is gone after link up")
            self.assertEqual(self.show("p2")["stats"]["rx"], rx_before,
                             "p2 sent frames: the MAC may have been relearned")

        # And p1's frames to MAC_B still reach p2.
        d, txs, rxs = self.bursts(8, dst=MAC_B)
        n = self.check_sent(d, txs)
        self.check_delivered(d, "p2", rxs[0], n)

    def test_05_restart_restores_dvswitch_reattaches_vnics_and_continues_counters(self):
        d, txs, rxs = self.blast(0.3)
        self.check_delivered(d, "p2", rxs[0], self.check_sent(d, txs))
        self.rx.cmd("set eth-peer 0 " + MAC_A)
        self.rx.cmd("start tx_first")
        time.sleep(0.2)
        self.rx.cmd("stop")
        wait_until(lambda: (MAC_B, 10, "p2") in self.macs(), 5, "MAC_B learned on p2")
        before = self.settle()
        doc = self.sw.call("switch.get")
        old_pid = self.sw.pid

        rc = self.sw.stop()
        self.assertEqual(rc, 0, "dvs-switchd did not exit 0 on SIGTERM")
        for p in PORTS:
            path = os.path.join(self.sw.state_dir, "switches", SW, "checkpoints", p + ".dvs")
            self.assertTrue(os.path.exists(path), "no checkpoint %s after SIGTERM" % path)
        self.assertTrue(self.tx.alive() and self.rx.alive(), "testpmd died with the switch")
        t0 = time.monotonic()
        self.sw.start()
        self.assertNotEqual(self.sw.pid, old_pid)
        got = self.sw.call("switch.get")
        self.assertIsNotNone(got, "the restarted switch holds no DVswitch")

        def plain(d):
            d = dict(d)
            d["ports"] = [{k: v for k, v in p.items() if k not in ("attached", "link")}
                          for p in d["ports"]]
            return d
        self.assertEqual(plain(got), plain(doc), "the DVswitch was not restored as applied")
        for p in PORTS:
            self.assertTrue(self.show(p)["attached"], "%s not re-attached after restart" % p)
        for p in PORTS:
            self.wait_link(p, "up", timeout=10)
        if int(os.environ.get("DVS_TEST_VERBOSE", "1")) >= 2:
            sys.stderr.write("[links up %.1f s after the restart] " % (time.monotonic() - t0))
        now = self.stats()
        for p in PORTS:
            self.assertEqual(now[p], before[p], "%s's counters did not continue after restart" % p)
        self.assertIn((MAC_B, 10, "p2"), self.macs(), "learned MAC not restored at restart")

        d, txs, rxs = self.blast(0.3)
        n = self.check_sent(d, txs)
        self.check_delivered(d, "p2", rxs[0], n)
        self.check_nothing_delivered(d, "p3", rxs[1])

    def test_06_port_security_passes_allowed_mac_and_drops_every_forged_frame(self):
        security = {"policy": {"security": {"enabled": True, "allowed_macs": [MAC_A],
                                            "forged_transmits": False, "mac_changes": False}}}
        self.apply({"p1": security})
        pol = self.show("p1")["policy"]["security"]
        self.assertTrue(pol["enabled"], pol)
        self.assertEqual([m.lower() for m in pol["allowed_macs"]], [MAC_A])

        with self.subTest("allowed source MAC"):
            d, txs, rxs = self.blast(0.3)
            n = self.check_sent(d, txs)
            self.assertEqual(d["p1"]["drops"]["security"], 0, d["p1"]["drops"])
            self.check_delivered(d, "p2", rxs[0], n)

        try:
            self.replace_sender(mac=MAC_X)
            with self.subTest("forged source MAC"):
                d, txs, rxs = self.blast(0.3)
                n = self.check_sent(d, txs)
                self.assertEqual(d["p1"]["drops"]["security"], n,
                                 "not every forged frame was counted in drops.security: %r"
                                 % d["p1"]["drops"])
                self.assertEqual(total(d["p1"]["drops"]), n, d["p1"]["drops"])
                for i, p in ((0, "p2"), (1, "p3")):
                    self.check_nothing_delivered(d, p, rxs[i])
                    self.assertEqual(total(d[p]["drops"]), 0, d[p]["drops"])
                self.assertNotIn(MAC_X, {m for m, _, _ in self.macs()},
                                 "the forged MAC was learned")
        finally:
            self.replace_sender(mac=MAC_A)

    def test_07_blocked_port_passes_nothing_either_way_until_unblocked(self):
        self.apply({"p1": {"policy": {"blocked": True}}})
        self.assertTrue(self.show("p1")["policy"]["blocked"])
        with self.subTest("out of p1"):
            d, txs, rxs = self.blast(0.3)
            n = self.check_sent(d, txs)
            self.assertEqual(d["p1"]["drops"]["blocked"], n, d["p1"]["drops"])
            self.check_nothing_delivered(d, "p2", rxs[0])
            self.check_nothing_delivered(d, "p3", rxs[1])
        with self.subTest("into p1"):
            before = self.settle()
            self.rx.cmd("clear port stats all")
            self.rx.cmd("set eth-peer 0 " + MAC_A)
            self.rx.cmd("start tx_first 4")
            time.sleep(0.2)
            self.rx.cmd("stop")
            sent = self.rx.stats()[0]["tx_packets"]
            self.assertGreater(sent, 0)
            d = {p: delta(v, before[p]) for p, v in self.settle().items()}
            self.assertEqual(d["p2"]["rx"]["packets"], sent)
            self.assertEqual(d["p1"]["tx"]["packets"], 0, "a frame was delivered to blocked p1")
            self.assertEqual(d["p1"]["drops"]["blocked"], sent, d["p1"]["drops"])

        self.apply()
        self.assertFalse(self.show("p1")["policy"]["blocked"])
        with self.subTest("unblocked: out of p1"):
            d, txs, rxs = self.blast(0.3)
            n = self.check_sent(d, txs)
            self.assertEqual(d["p1"]["drops"]["blocked"], 0, d["p1"]["drops"])
            self.check_delivered(d, "p2", rxs[0], n)
        with self.subTest("unblocked: into p1"):
            # The sender (txonly) never reads its receive ring: empty it.
            self.tx.cmd("set fwd rxonly")
            self.tx.cmd("start")
            time.sleep(0.2)
            self.tx.cmd("stop")
            self.tx.cmd("set fwd txonly")
            before = self.settle()
            self.rx.cmd("clear port stats all")
            self.rx.cmd("start tx_first 4")
            time.sleep(0.2)
            self.rx.cmd("stop")
            sent = self.rx.stats()[0]["tx_packets"]
            d = {p: delta(v, before[p]) for p, v in self.settle().items()}
            self.assertEqual(d["p1"]["tx"]["packets"] + d["p1"]["drops"]["ring_full"], sent)
            self.assertGreater(d["p1"]["tx"]["packets"], 0, "nothing reached p1 after unblock")
            self.assertEqual(d["p1"]["drops"]["blocked"], 0)

    def test_08_ingress_mirror_gives_monitor_one_copy_of_each_frame(self):
        self.apply({"p1": {"policy": {"mirror": {"to": "p3", "direction": "ingress"}}}})
        self.assertEqual(self.show("p1")["policy"]["mirror"], {"to": "p3", "direction": "ingress"})
        d, txs, rxs = self.bursts(4, dst=MAC_B)
        n = self.check_sent(d, txs)
        self.assertEqual(d["p1"]["mirrored"], n, "p1 stats.mirrored vs frames p1 sent")
        self.assertEqual(rxs[1]["rx_packets"], n,
                         "the monitor p3 did not receive exactly one copy of each frame "
                         "(switch: p3 tx %d, drops %r)" % (d["p3"]["tx"]["packets"], d["p3"]["drops"]))
        self.assertEqual(rxs[1]["rx_bytes"], txs["tx_bytes"])
        self.assertEqual(d["p3"]["tx"]["packets"], n)
        self.check_delivered(d, "p2", rxs[0], n)
        self.assertEqual(d["p2"]["mirrored"] + d["p3"]["mirrored"], 0)

        # Mirror off: p3 gets nothing.
        self.apply()
        d, txs, rxs = self.bursts(4, dst=MAC_B)
        self.check_sent(d, txs)
        self.assertEqual(d["p1"]["mirrored"], 0)
        self.check_nothing_delivered(d, "p3", rxs[1])

    def shaped_rate(self, shaping, frame=1500, seconds=2.0):
        """Applies SHAPING to p1's ingress, lets the sender saturate it with
        FRAME-byte frames, and measures, from p2's tx.bytes over the
        interval between two dvport.show calls (timed around the call),
        what the switch delivered to p2.  Returns (Mbit/s, p1 counter
        deltas, p2 counter deltas, interval)."""
        self.apply({"p1": {"policy": {"shaping": {"ingress": shaping}}}})
        self.tx.cmd("set txpkts %d" % frame)
        try:
            self.tx.cmd("set eth-peer 0 " + MAC_B)
            self.settle()
            self.drain()
            self.rx.cmd("start")
            self.tx.cmd("start")
            # The initial burst is spent: a full committed bucket drains
            # at peak - average.
            spare_kbps = shaping["peak_kbps"] - shaping["average_kbps"]
            time.sleep(0.5 + (shaping["burst_kbytes"] * 8.192 / spare_kbps if spare_kbps else 0))

            def sample():
                t0 = time.monotonic()
                p2 = self.show("p2")["stats"]
                t1 = time.monotonic()
                return (t0 + t1) / 2, p2, self.show("p1")["stats"]
            ta, a2, a1 = sample()
            time.sleep(seconds)
            tb, b2, b1 = sample()
            self.tx.cmd("stop")
            self.settle()
            time.sleep(0.3)
            self.rx.cmd("stop")
        finally:
            self.tx.cmd("set txpkts %d" % FRAME)
        d1, d2 = delta(b1, a1), delta(b2, a2)
        # What the shaper let through is what the switch handed to p2's
        # ring: delivered (tx) plus what the receiver's full ring refused.
        # The receiver is a busy-polling testpmd sharing 2 cores with the
        # sender and the switch: whether it is descheduled long enough to
        # let its ring fill is the scheduler's doing, not the shaper's, so
        # the rate is taken from the switch's own counters, not from what
        # the receiver happened to drain.
        out = d2["tx"]["packets"] + d2["drops"]["ring_full"]
        mbps = out * frame * 8 / (tb - ta) / 1e6
        if int(os.environ.get("DVS_TEST_VERBOSE", "1")) >= 2:
            sys.stderr.write("[%r: %.2f Mbit/s out of the shaper over %.2f s, ring_full %d] "
                             % (shaping, mbps, tb - ta, d2["drops"]["ring_full"]))
        self.assertGreater(d1["drops"]["shaped"], 2 * out,
                           "the sender did not saturate the shaper: %r" % d1)
        self.assertEqual(total(d2["drops"]), d2["drops"]["ring_full"],
                         "p2 dropped frames for reasons other than a full ring: %r" % d2["drops"])
        self.assertEqual(d2["tx"]["bytes"], d2["tx"]["packets"] * frame)
        return mbps, d1, d2, tb - ta

    def test_09_ingress_shaper_delivers_the_average_rate_to_a_saturating_sender(self):
        # A token bucket refills only up to its burst: a datapath thread
        # descheduled for longer than burst/rate loses credit, which is the
        # scheduler's doing, not the shaper's.  At 2 Mbit/s a 32 KB burst
        # holds 131 ms, far beyond the gaps of 2 shared, loaded cores (at
        # 50 Mbit/s it held 5 ms: that failed on a busy machine).  Rates
        # from 64 kbit/s to 25 Gbit/s are checked on a synthetic clock by
        # the filters unit test.
        n_kbps = 2000
        n = n_kbps / 1000
        # peak = average is vSphere's default relation (and what "shaped to
        # N" means with no peak); peak = 2N with a 128 KB burst lets the
        # port spend after a pause the credit it earned.
        for peak, burst in ((n_kbps, 32), (2 * n_kbps, 128)):
            shaping = {"average_kbps": n_kbps, "peak_kbps": peak, "burst_kbytes": burst}
            with self.subTest(peak_kbps=peak, burst_kbytes=burst):
                mbps, d1, d2, secs = self.shaped_rate(shaping)
                if abs(mbps - n) > 0.10 * n:
                    self.fail("SWITCH BUG: p1 ingress shaped to %g Mbit/s (peak %g Mbit/s, "
                              "burst %d KB), a saturating sender of 1500-byte frames got "
                              "%.2f Mbit/s delivered to p2 over %.2f s (%+.0f %%; p1 drops.shaped "
                              "%d, p2 tx %d frames): the long-term rate must be the average "
                              "+-10 %%" % (n, peak / 1000, burst, mbps, secs,
                                           100 * (mbps - n) / n, d1["drops"]["shaped"],
                                           d2["tx"]["packets"]))

    def test_10_shaper_buckets_survive_detach_and_attach(self):
        n_kbps = 50000
        self.shaped_rate({"average_kbps": n_kbps, "peak_kbps": 2 * n_kbps, "burst_kbytes": 128},
                         seconds=0.5)
        live = self.show("p1")
        entry = shaper_entry(live["classes"])
        levels = shaper_levels(live["classes"])
        self.assertLess(levels[0][0], 128 * 8192,
                        "the ingress bucket is full after saturation: nothing to carry over")
        det = self.sw.call("dvport.detach", {"switch": SW, "port": "p1"})
        self.assertEqual(det["state_source"], "checkpoint")
        saved = shaper_entry(det["classes"])
        self.assertEqual(saved["version"], entry["version"])
        self.assertEqual(shaper_levels(det["classes"]), levels)
        # dvs-switchctl decodes the checkpointed bucket levels, in bytes.
        out = self.sw.switchctl("dvport", "show", "p1", "--switch", SW).stdout
        self.assertRegex(out, r"(?m)^shaper +1 +48 +bucket levels$", out)
        for direction, (committed, peak) in zip(("ingress", "egress"), levels):
            self.assertRegex(out, r"(?m)^%s +%d B +%d B +\d+\.\d{3} s ago$"
                             % (direction, committed // 8, peak // 8), out)
        res = self.attach("p1")
        self.assertEqual(res["state_source"], "live")
        restored = shaper_entry(res["classes"])
        self.assertEqual(restored["version"], saved["version"],
                         "shaper state version changed across detach/attach")
        self.assertEqual(shaper_levels(res["classes"]), levels,
                         "shaper bucket levels not restored at attach")
        self.wait_link("p1", "up")
        self.assertEqual(shaper_levels(self.show("p1")["classes"]), levels,
                         "shaper bucket levels not kept at link up")

    def test_11_damaged_checkpoint_is_logged_by_path_and_others_keep_forwarding(self):
        ckpt = {p: os.path.join(self.sw.state_dir, "switches", SW, "checkpoints", p + ".dvs")
                for p in PORTS}

        def truncate(path):
            with open(path, "rb") as f:
                data = f.read()
            with open(path, "wb") as f:
                f.write(data[:len(data) - max(1, (len(data) - data.index(b"\n")) // 2)])

        def flip(path):
            with open(path, "rb") as f:
                data = bytearray(f.read())
            i = data.index(b"\n") + 1 + (len(data) - data.index(b"\n")) // 2
            data[i] ^= 0x01
            with open(path, "wb") as f:
                f.write(bytes(data))

        for damaged, other, damage in (("p1", "p2", truncate), ("p2", "p1", flip)):
            with self.subTest(damaged=damaged, damage=damage.__name__):
                d, txs, rxs = self.blast(0.2)
                self.check_delivered(d, "p2", rxs[0], self.check_sent(d, txs))
                self.assertEqual(self.sw.stop(), 0)
                saved = {p: self.show_checkpoint_file(ckpt[p]) for p in PORTS}
                damage(ckpt[damaged])
                log_start = len(self.sw.log())
                self.sw.start()
                self.assertTrue(self.sw.alive())
                path_line = wait_until(
                    lambda: re.search(r"(?m)^.*%s.*$" % re.escape(ckpt[damaged]),
                                      self.sw.log()[log_start:]),
                    5, "a log line naming %s" % ckpt[damaged])
                self.assertRegex(path_line.group(0), r"level=(warning|error|critical)",
                                 "the damaged file is not reported as a warning")
                for p in PORTS:
                    self.wait_link(p, "up", timeout=10)
                other_stats = self.show(other)["stats"]
                self.assertEqual(other_stats, saved[other],
                                 "%s's counters did not continue from its intact checkpoint"
                                 % other)
                d, txs, rxs = self.blast(0.2)
                n = self.check_sent(d, txs)
                self.check_delivered(d, "p2", rxs[0], n)

    def show_checkpoint_file(self, path):
        """The counters in a checkpoint file (envelope: header line, payload)."""
        with open(path, "rb") as f:
            data = f.read()
        return json.loads(data[data.index(b"\n") + 1:])["counters"]


if __name__ == "__main__":
    dvstest.main()
