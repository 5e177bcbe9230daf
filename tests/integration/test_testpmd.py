#!/usr/bin/env python3
"""dvs-switchd against DPDK virtio-user peers (dpdk-testpmd).

One dvs-switchd with three client-mode ports:
    a  VLAN 10   <- sender testpmd (txonly), port 0
    b  VLAN 10   <- receiver testpmd (rxonly), port 0
    c  VLAN 20   <- receiver testpmd (rxonly), port 1
Every count the switch reports (port.show) is checked against what testpmd
itself sent and received.  Run as root: python3 tests/integration/test_testpmd.py
"""

import json
import os
import re
import subprocess
import signal
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import RpcClient, wait_until  # noqa: E402

MAC_A = "02:d5:00:00:00:0a"
MAC_B = "02:d5:00:00:00:0b"
MAC_C = "02:d5:00:00:00:0c"
UNKNOWN = "02:d5:00:00:ff:01"   # never sent from: always flooded
PORTS = ("a", "b", "c")
FRAME = 64                      # testpmd txonly frame size


def delta(after, before):
    if isinstance(after, dict):
        return {k: delta(after[k], before[k]) for k in after}
    return after - before


def total(drops):
    return sum(drops.values())


class TestpmdPeers(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        cls.tmp = dvstest.tempdir()
        cls.sock = {p: os.path.join(cls.tmp, p + ".sock") for p in PORTS}
        cls.sw = dvstest.Switch(cls.tmp).start()
        cls.added = {
            "a": cls.sw.call("port.add", {"name": "a", "socket": cls.sock["a"],
                                          "vlan": {"mode": "access", "tag": 10}}),
            "b": cls.sw.call("port.add", {"name": "b", "socket": cls.sock["b"],
                                          "mode": "client", "vlan": 10}),
            "c": cls.sw.call("port.add", {"name": "c", "socket": cls.sock["c"], "vlan": 20}),
        }
        cls.tx = cls.new_sender(wait=False)
        cls.rx = dvstest.TestPmd(cls.tmp, "rx", [(cls.sock["b"], MAC_B), (cls.sock["c"], MAC_C)],
                                 fwd="rxonly", lcores="0@1,1@1").start(wait=False)
        cls.tx.wait_ready()
        cls.rx.wait_ready()
        for p in PORTS:
            cls.sw.wait_link(p, "up")

    @classmethod
    def new_sender(cls, wait=True):
        return dvstest.TestPmd(cls.tmp, "tx", [(cls.sock["a"], MAC_A)],
                               fwd="txonly", lcores="0@0,1@0").start(wait=wait)

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
            if os.path.exists(cls.sw.control):
                raise AssertionError("control socket %s left after shutdown" % cls.sw.control)

    def setUp(self):
        self.assertTrue(self.sw.alive(), "dvs-switchd is not running")
        if self.tx is None or not self.tx.alive():     # an earlier test lost it
            if self.tx is not None:
                self.tx.stop()
            self.__class__.tx = self.new_sender()
            self.sw.wait_link("a", "up")

    def tearDown(self):
        self.assertTrue(self.sw.alive(), "dvs-switchd died during the test")

    # -- helpers ----------------------------------------------------------

    def stats(self):
        return {p: self.sw.port_show(p)["stats"] for p in PORTS}

    def set_vlan(self, port, tag):
        res = self.sw.call("port.set-vlan", {"name": port, "vlan": {"mode": "access", "tag": tag}})
        self.assertEqual(res["vlan"], {"mode": "access", "tag": tag})

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
        """Let both testpmds empty their receive rings (frames left from an
        earlier step), then zero their counters."""
        self.rx.cmd("start")
        self.tx.cmd("set fwd rxonly")
        self.tx.cmd("start")
        time.sleep(0.2)
        self.tx.cmd("stop")
        self.tx.cmd("set fwd txonly")
        self.rx.cmd("stop")
        self.tx.cmd("clear port stats all")
        self.rx.cmd("clear port stats all")

    def blast(self, seconds=1.0, dst=UNKNOWN):
        """Sender floods DST at full rate for SECONDS.  Returns
        (switch counter deltas per port, sender stats, receiver stats)."""
        self.tx.cmd("set eth-peer 0 " + dst)
        self.drain()
        before = self.settle()
        self.rx.cmd("start")
        self.tx.cmd("start")
        time.sleep(seconds)
        self.tx.cmd("stop")
        after = self.settle()
        # The receiver has taken every frame the switch put in its rings.
        self.rx.wait_rx({i: after[p]["tx"]["packets"] - before[p]["tx"]["packets"]
                         for i, p in enumerate(("b", "c"))})
        self.rx.cmd("stop")
        d = {p: delta(after[p], before[p]) for p in PORTS}
        return d, self.tx.stats()[0], self.rx.stats()

    def check_ingress(self, d, txs):
        """Everything the sender put on its ring was received on port a."""
        n = txs["tx_packets"]
        self.assertGreater(n, 1000, "the sender sent almost nothing")
        self.assertEqual(txs["tx_bytes"], n * FRAME)
        self.assertEqual(d["a"]["rx"]["packets"], n, "port a rx.packets vs testpmd TX-packets")
        self.assertEqual(d["a"]["rx"]["bytes"], txs["tx_bytes"], "port a rx.bytes vs testpmd TX-bytes")
        self.assertEqual(d["a"]["rx"]["unicast_packets"], n)
        self.assertEqual(d["a"]["rx"]["multicast_packets"], 0)
        self.assertEqual(d["a"]["rx"]["broadcast_packets"], 0)
        self.assertEqual(total(d["a"]["drops"]), 0, "drops on port a: %r" % d["a"]["drops"])
        self.assertEqual(d["a"]["tx"]["packets"], 0, "frames were sent back to the sender's port")
        self.assertEqual(txs["rx_packets"], 0, "the sender received frames")
        return n

    def check_delivered(self, d, port, rxs, n):
        """Port PORT got each of the N frames once: delivered or dropped."""
        self.assertEqual(d[port]["tx"]["packets"], rxs["rx_packets"],
                         "port %s tx.packets vs testpmd RX-packets" % port)
        self.assertEqual(d[port]["tx"]["bytes"], rxs["rx_bytes"],
                         "port %s tx.bytes vs testpmd RX-bytes" % port)
        self.assertEqual(d[port]["tx"]["bytes"], d[port]["tx"]["packets"] * FRAME)
        self.assertGreater(rxs["rx_packets"], 0, "port %s received nothing" % port)
        self.assertEqual(d[port]["drops"]["vlan_filtered"], 0)
        self.assertEqual(d[port]["tx"]["packets"] + total(d[port]["drops"]), n,
                         "port %s: tx %d + drops %r != %d frames received on a"
                         % (port, d[port]["tx"]["packets"], d[port]["drops"], n))
        self.assertEqual(d[port]["rx"]["packets"], 0)

    def check_untouched(self, d, port, rxs):
        self.assertEqual(rxs["rx_packets"], 0, "testpmd received frames on port %s" % port)
        zero = delta(d[port], d[port])
        self.assertEqual(d[port], zero, "counters of port %s moved" % port)

    # -- tests ------------------------------------------------------------

    def test_a_port_add_result(self):
        a = self.added["a"]
        self.assertEqual(a["name"], "a")
        self.assertEqual(a["socket"], self.sock["a"])
        self.assertEqual(a["mode"], "client")
        self.assertIn(a["link"], ("up", "down"))
        self.assertEqual(a["vlan"], {"mode": "access", "tag": 10})
        self.assertEqual(self.added["b"]["vlan"], {"mode": "access", "tag": 10})
        self.assertEqual(self.added["c"]["vlan"], {"mode": "access", "tag": 20})
        ports = {p["name"]: p for p in self.sw.call("port.list")["ports"]}
        self.assertEqual(sorted(ports), ["a", "b", "c"])
        for p in PORTS:
            self.assertEqual(ports[p]["link"], "up")
            self.assertNotIn("stats", ports[p])
        show = self.sw.call("switch.show")
        self.assertEqual(show["pid"], self.sw.pid)
        self.assertEqual(show["name"], self.sw.name)
        self.assertEqual(show["ports"], 3)

    def test_b_flood_stays_in_vlan(self):
        self.set_vlan("c", 20)
        self.sw.call("mac.flush")
        d, txs, rxs = self.blast(1.0)
        n = self.check_ingress(d, txs)
        self.check_delivered(d, "b", rxs[0], n)
        self.check_untouched(d, "c", rxs[1])

    def test_c_learning_then_unicast(self):
        self.set_vlan("c", 20)
        flushed = self.sw.call("mac.flush")
        self.assertIsInstance(flushed["flushed"], int)
        self.assertEqual(self.sw.call("mac.dump")["entries"], [])
        # One burst of frames from b (and c) makes the switch learn them.
        self.rx.cmd("set eth-peer 0 " + MAC_A)
        self.rx.cmd("set eth-peer 1 " + MAC_A)
        self.rx.cmd("start tx_first")
        time.sleep(0.3)
        self.rx.cmd("stop")

        def learned():
            return {(e["mac"].lower(), e["vlan"], e["port"])
                    for e in self.sw.call("mac.dump")["entries"]}
        wait_until(lambda: (MAC_B, 10, "b") in learned(), 5, "MAC of b learned on b in VLAN 10")
        self.assertIn((MAC_C, 20, "c"), learned())
        only_b = self.sw.call("mac.dump", {"port": "b"})["entries"]
        self.assertEqual([(e["mac"].lower(), e["vlan"], e["port"]) for e in only_b],
                         [(MAC_B, 10, "b")])
        self.assertTrue(all(e["vlan"] == 20 for e in
                            self.sw.call("mac.dump", {"vlan": 20})["entries"]))
        cli = self.sw.switchctl_json("mac", "dump", "--port", "b")
        self.assertEqual([e["mac"].lower() for e in cli["entries"]], [MAC_B])
        self.assertIsInstance(cli["entries"][0]["age"], int)

        # c joins VLAN 10: a unicast to b must still reach only b.
        self.set_vlan("c", 10)
        try:
            d, txs, rxs = self.blast(1.0, dst=MAC_B)
        finally:
            self.set_vlan("c", 20)
        n = self.check_ingress(d, txs)
        self.check_delivered(d, "b", rxs[0], n)
        self.check_untouched(d, "c", rxs[1])
        self.assertIn((MAC_A, 10, "a"), learned())

    def test_d_malformed_requests(self):
        pid = self.sw.pid
        ctl = self.sw.control

        def ask(line):
            with RpcClient(ctl) as c:
                self.assertTrue(c.send_raw(line), "connection closed before the request was sent")
                return c.read_response()

        def check_error(resp, code, id_="any", names=None):
            self.assertIsNotNone(resp, "no answer (connection closed)")
            self.assertEqual(resp.get("jsonrpc"), "2.0", resp)
            self.assertNotIn("result", resp)
            self.assertIn("error", resp, resp)
            self.assertEqual(resp["error"].get("code"), code, resp)
            msg = resp["error"].get("message")
            self.assertTrue(isinstance(msg, str) and msg.strip(), resp)
            self.assertIn("id", resp)
            if id_ != "any":
                self.assertEqual(resp["id"], id_, resp)
            if names:
                self.assertTrue(any(n in msg for n in names),
                                "message %r names none of %r" % (msg, names))

        def req(method, params=None, id_=1):
            o = {"jsonrpc": "2.0", "id": id_, "method": method}
            if params is not None:
                o["params"] = params
            return (json.dumps(o) + "\n").encode()

        parse_errors = [b"this is not json\n", b"{\"jsonrpc\": \"2.0\", \"id\": 1,\n",
                        b"\xff\xfe\xfd\n", b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"switch.show\"}}\n"]
        for line in parse_errors:
            with self.subTest(parse_error=line):
                check_error(ask(line), -32700, id_=None)

        invalid = [b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}\n",
                   b"{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"switch.show\"}\n",
                   b"{\"id\":1,\"method\":\"switch.show\"}\n",
                   b"{\"jsonrpc\":\"2.0\",\"id\":1}\n",
                   b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"switch.show\"}]\n",
                   b"[]\n", b"42\n", b"\"switch.show\"\n"]
        for line in invalid:
            with self.subTest(invalid_request=line):
                check_error(ask(line), -32600)

        with self.subTest("unknown method"):
            check_error(ask(req("port.frobnicate", {"name": "a"}, id_=7)), -32601, id_=7)
            check_error(ask(req("no.such.method", id_="x1")), -32601, id_="x1")

        bad_params = [
            ("port.show", {"name": 5}, ["name"]),
            ("port.show", {}, ["name"]),
            ("port.show", {"name": ["a"]}, ["name"]),
            ("port.add", {"name": "bad name!", "socket": "/tmp/x.sock"}, ["name"]),
            ("port.add", {"name": "x" * 33, "socket": "/tmp/x.sock"}, ["name"]),
            ("port.add", {"name": "x1", "socket": "relative.sock"}, ["socket"]),
            ("port.add", {"name": "x1", "socket": "/" + "s" * 120}, ["socket"]),
            ("port.add", {"name": "x1", "socket": 17}, ["socket"]),
            ("port.add", {"name": "x1", "socket": "/tmp/x1.sock", "mode": "sideways"}, ["mode"]),
            ("port.add", {"name": "x1", "socket": "/tmp/x1.sock", "vlan": 4095}, ["vlan", "tag"]),
            ("port.set-vlan", {"name": "a", "vlan": 4095}, ["vlan", "tag"]),
            ("port.set-vlan", {"name": "a", "vlan": -1}, ["vlan", "tag"]),
            ("port.set-vlan", {"name": "a", "vlan": "ten"}, ["vlan"]),
            ("port.set-vlan", {"name": "a", "vlan": {"mode": "bogus", "tag": 1}}, ["mode"]),
            ("port.set-vlan", {"name": "a", "vlan": {"mode": "trunk", "trunks": [10, "x"]}},
             ["trunks"]),
            ("port.set-vlan", {"name": "a"}, ["vlan"]),
            ("mac.dump", {"vlan": "ten"}, ["vlan"]),
            ("mac.flush", {"port": 3}, ["port"]),
        ]
        for method, params, names in bad_params:
            with self.subTest(method=method, params=params):
                check_error(ask(req(method, params, id_=3)), -32602, id_=3, names=names)

        for method, params in (("port.show", {"name": "nope"}),
                               ("port.remove", {"name": "nope"}),
                               ("port.set-vlan", {"name": "nope", "vlan": 1}),
                               ("mac.dump", {"port": "nope"})):
            with self.subTest(no_such_port=method):
                check_error(ask(req(method, params, id_=4)), -32000, id_=4, names=["nope"])

        with self.subTest("port exists"):
            check_error(ask(req("port.add", {"name": "a", "socket": "/tmp/dvs-other.sock"})), -32001)
            check_error(ask(req("port.add", {"name": "other", "socket": self.sock["a"]})), -32001)

        with self.subTest("one connection: errors and answers in order, notifications silent"):
            with RpcClient(ctl) as c:
                c.send_raw(b"not json\n"
                           + req("no.such", id_=10)
                           + b"{\"jsonrpc\":\"2.0\",\"method\":\"switch.show\"}\n"
                           + b"{\"jsonrpc\":\"2.0\",\"method\":\"no.such\"}\n"
                           + req("switch.show", id_=11)
                           + req("port.show", {"name": "nope"}, id_=12)
                           + req("port.show", {"name": "a"}, id_=13))
                check_error(c.read_response(), -32700, id_=None)
                check_error(c.read_response(), -32601, id_=10)
                r = c.read_response()
                self.assertEqual((r["id"], r["result"]["pid"]), (11, pid))
                check_error(c.read_response(), -32000, id_=12)
                r = c.read_response()
                self.assertEqual((r["id"], r["result"]["name"]), (13, "a"))

        with self.subTest("line over 1 MiB: parse error, connection closed"):
            big = (b"{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"switch.show\",\"params\":{\"pad\":\""
                   + b"x" * ((1 << 20) + 4096) + b"\"}}\n")
            with RpcClient(ctl, timeout=20) as c:
                c.send_raw(big)     # may fail half-way: the daemon closes
                check_error(c.read_response(), -32700)
                self.assertIsNone(c.read_response(), "connection still open after a 1 MiB line")

        # Still there, still answering, nothing changed.
        self.assertTrue(self.sw.alive())
        with RpcClient(ctl) as c:
            self.assertEqual(c.call("switch.show")["pid"], pid)
            ports = {p["name"]: p["vlan"] for p in c.call("port.list")["ports"]}
        self.assertEqual(sorted(ports), ["a", "b", "c"], "a refused request changed the ports")
        self.assertEqual(ports["a"], {"mode": "access", "tag": 10})

    def test_e_peer_killed_and_restarted(self):
        self.set_vlan("c", 20)
        self.tx.cmd("set eth-peer 0 " + UNKNOWN)
        self.rx.cmd("start")
        self.tx.cmd("start")
        time.sleep(0.5)
        rx_before = self.sw.port_show("a")["stats"]["rx"]["packets"]
        self.tx.kill(signal.SIGKILL)
        self.__class__.tx = None
        self.sw.wait_link("a", "down", timeout=10)
        self.rx.cmd("stop")
        self.assertTrue(self.sw.alive(), "dvs-switchd died when its peer was killed")
        self.assertEqual(self.sw.call("switch.show")["pid"], self.sw.pid)
        for p in ("b", "c"):
            self.assertEqual(self.sw.link(p), "up")
        sock = re.escape(self.sock["a"])
        down = re.compile(r"^.*(link[ _-]?(is )?down|disconnect|closed).*$", re.I | re.M)

        def logged():
            return [ln for ln in (m.group(0) for m in down.finditer(self.sw.log()))
                    if re.search(sock + r"|\bport[=: ]+\"?a\b", ln)]
        wait_until(logged, 5, "a log line saying port a's peer went away")

        # The same socket path comes back: the switch reconnects by itself.
        self.__class__.tx = self.new_sender(wait=False)
        self.tx.wait_ready(timeout=30)
        self.sw.wait_link("a", "up", timeout=15)
        self.assertEqual(self.sw.call("switch.show")["pid"], self.sw.pid)
        self.assertGreaterEqual(self.sw.port_show("a")["stats"]["rx"]["packets"], rx_before,
                                "port a's counters went backwards after the reconnect")
        d, txs, rxs = self.blast(0.5)
        n = self.check_ingress(d, txs)
        self.check_delivered(d, "b", rxs[0], n)
        self.check_untouched(d, "c", rxs[1])

    def test_f_set_vlan_at_run_time(self):
        self.set_vlan("c", 20)
        self.sw.switchctl("port", "set-vlan", "c", "--vlan", "10")
        c = self.sw.switchctl_json("port", "show", "c")
        self.assertEqual(c["vlan"], {"mode": "access", "tag": 10})
        self.assertIn("stats", c)
        try:
            d, txs, rxs = self.blast(1.0)
        finally:
            res = self.sw.call("port.set-vlan", {"name": "c", "vlan": 20})
            self.assertEqual(res["vlan"], {"mode": "access", "tag": 20})
        n = self.check_ingress(d, txs)
        self.check_delivered(d, "b", rxs[0], n)
        self.check_delivered(d, "c", rxs[1], n)

    def test_g_switchctl(self):
        show = self.sw.switchctl_json("show")
        self.assertEqual(show["pid"], self.sw.pid)
        self.assertEqual(show["name"], self.sw.name)
        lst = self.sw.switchctl_json("port", "list")
        self.assertEqual(sorted(p["name"] for p in lst["ports"]), ["a", "b", "c"])
        self.assertEqual({p["name"]: p["vlan"]["tag"] for p in lst["ports"]},
                         {"a": 10, "b": 10, "c": 20})
        table = self.sw.switchctl("port", "list").stdout
        self.assertRegex(table, r"NAME\s+LINK")
        self.assertRegex(table, r"(?m)^a\s+up\b")
        a = self.sw.switchctl_json("port", "show", "a")
        self.assertEqual(a["stats"], self.sw.port_show("a")["stats"])
        cp = self.sw.switchctl("port", "show", "nope", check=False)
        self.assertEqual(cp.returncode, 1, cp)
        self.assertTrue(cp.stderr.startswith("dvs-switchctl:"), cp.stderr)
        cp = subprocess.run([dvstest.SWITCHCTL, "--socket", os.path.join(self.tmp, "absent.sock"),
                             "show"], capture_output=True, text=True, timeout=20)
        self.assertEqual(cp.returncode, 3, cp)


if __name__ == "__main__":
    dvstest.main()
