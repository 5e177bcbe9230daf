#!/usr/bin/env python3
"""Multi-queue vNICs: dvs-switchd against DPDK virtio-user peers with two
queue pairs each (testpmd queues=2, --rxq=2 --txq=2).

    a  <- sender testpmd (txonly), sends on both of its queues
    b  <- receiver testpmd (rxonly), receives on both of its queues
    c  <- receiver testpmd (rxonly), one queue pair: frames from both of a's
          queues fold onto its only queue

The switch reads both of a's transmit vrings and delivers a frame taken from
queue q into queue q of b (docs/datapath.md, "Multi-queue").  Every count is
checked against testpmd's own per-queue counters (xstats), per queue and in
total.  Run as root: python3 tests/integration/test_multiqueue.py
"""

import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import wait_until  # noqa: E402
import test_crash  # noqa: E402

MAC_A = "02:d5:00:00:00:2a"
MAC_B = "02:d5:00:00:00:2b"
MAC_C = "02:d5:00:00:00:2c"
UNKNOWN = "02:d5:00:00:ff:02"   # never sent from: always flooded
PORTS = ("a", "b", "c")
FRAME = 64                      # testpmd txonly frame size
QUEUES = 2


def delta(after, before):
    if isinstance(after, dict):
        return {k: delta(after[k], before.get(k, 0) if isinstance(before, dict) else 0)
                for k in after}
    return after - (before if isinstance(before, int) else 0)


def queue(stats, q):
    """Per-queue counters of a port.show "stats" delta (zeros if absent)."""
    zero = {"rx_packets": 0, "rx_bytes": 0, "tx_packets": 0, "tx_bytes": 0}
    return stats.get("queues", {}).get(str(q), zero)


class MultiQueue(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        cls.tmp = dvstest.tempdir()
        cls.sock = {p: os.path.join(cls.tmp, p + ".sock") for p in PORTS}
        cls.sw = dvstest.Switch(cls.tmp).start()
        for p in PORTS:
            cls.sw.call("port.add", {"name": p, "socket": cls.sock[p]})
        cls.tx = dvstest.TestPmd(cls.tmp, "tx", [(cls.sock["a"], MAC_A)], fwd="txonly",
                                 lcores="0@0,1@0", queues=QUEUES).start(wait=False)
        cls.rx = dvstest.TestPmd(cls.tmp, "rx", [(cls.sock["b"], MAC_B)], fwd="rxonly",
                                 lcores="0@1,1@1", queues=QUEUES).start(wait=False)
        cls.rx1 = dvstest.TestPmd(cls.tmp, "rx1", [(cls.sock["c"], MAC_C)], fwd="rxonly",
                                  lcores="0@1,1@1").start(wait=False)
        for pmd in (cls.tx, cls.rx, cls.rx1):
            pmd.wait_ready()
        for p in PORTS:
            cls.sw.wait_link(p, "up")
        # virtio-user enables its second pair when its port starts.
        wait_until(lambda: all(cls.sw.port_show(p)["queues"] == QUEUES for p in ("a", "b")),
                   15, "ports a and b to use %d queue pairs" % QUEUES)

    @classmethod
    def tearDownClass(cls):
        for pmd in ("tx", "rx", "rx1"):
            if getattr(cls, pmd, None) is not None:
                getattr(cls, pmd).stop()
        if getattr(cls, "sw", None) is not None:
            rc = cls.sw.stop()
            if rc != 0:
                raise AssertionError("dvs-switchd did not exit 0 on SIGTERM: %r" % rc)

    def stats(self):
        return {p: self.sw.port_show(p)["stats"] for p in PORTS}

    def settle(self, timeout=15):
        last = [None]

        def stable():
            now = self.stats()
            same = now == last[0]
            last[0] = now
            return same
        wait_until(stable, timeout, "the switch's counters to settle", interval=0.3)
        return last[0]

    def pmd_queue(self, pmd, direction, q, what="packets"):
        return pmd.xstats(0)["%s_q%d_good_%s" % (direction, q, what)]

    def test_a_ports_show_their_queues(self):
        self.assertEqual(self.sw.port_show("a")["queues"], QUEUES)
        self.assertEqual(self.sw.port_show("b")["queues"], QUEUES)
        self.assertEqual(self.sw.port_show("c")["queues"], 1)
        out = self.sw.switchctl("port", "show", "a").stdout
        self.assertRegex(out, r"(?m)^queues:\s+2$")

    def test_b_flood_over_both_queues_counted_exactly(self):
        self.tx.cmd("set eth-peer 0 " + UNKNOWN)
        for pmd in (self.tx, self.rx, self.rx1):
            pmd.cmd("clear port xstats all")
            pmd.cmd("clear port stats all")
        before = self.settle()
        self.rx.cmd("start")
        self.rx1.cmd("start")
        self.tx.cmd("start")
        time.sleep(1.0)
        self.tx.cmd("stop")
        after = self.settle()
        time.sleep(0.3)                 # the receivers poll their rings dry
        self.rx.cmd("stop")
        self.rx1.cmd("stop")
        d = {p: delta(after[p], before[p]) for p in PORTS}
        txs = self.tx.stats()[0]
        n = txs["tx_packets"]
        self.assertGreater(n, 1000, "the sender sent almost nothing")

        # Port a: every frame the sender put on either queue, per queue.
        self.assertEqual(d["a"]["rx"]["packets"], n)
        self.assertEqual(d["a"]["rx"]["bytes"], n * FRAME)
        self.assertEqual(sum(d["a"]["drops"].values()), 0, d["a"]["drops"])
        for q in range(QUEUES):
            sent = self.pmd_queue(self.tx, "tx", q)
            self.assertGreater(sent, 0, "the sender sent nothing on its queue %d" % q)
            self.assertEqual(queue(d["a"], q)["rx_packets"], sent,
                             "port a queue %d rx vs testpmd tx_q%d" % (q, q))
            self.assertEqual(queue(d["a"], q)["rx_bytes"], sent * FRAME)
        self.assertEqual(sum(queue(d["a"], q)["rx_packets"] for q in range(QUEUES)), n)

        # Port b: what its guest got on each queue, and the same queue as
        # the frames came in on a; delivered + dropped = every frame.
        rxs = self.rx.stats()[0]
        self.assertEqual(d["b"]["tx"]["packets"], rxs["rx_packets"])
        self.assertEqual(d["b"]["tx"]["bytes"], rxs["rx_bytes"])
        self.assertEqual(d["b"]["tx"]["packets"] + sum(d["b"]["drops"].values()), n)
        for q in range(QUEUES):
            got = self.pmd_queue(self.rx, "rx", q)
            self.assertGreater(got, 0, "the receiver got nothing on its queue %d" % q)
            self.assertEqual(queue(d["b"], q)["tx_packets"], got,
                             "port b queue %d tx vs testpmd rx_q%d" % (q, q))
            self.assertEqual(queue(d["b"], q)["tx_bytes"], self.pmd_queue(self.rx, "rx", q, "bytes"))
            self.assertLessEqual(got, queue(d["a"], q)["rx_packets"],
                                 "queue %d of b got more than queue %d of a sent" % (q, q))
        self.assertEqual(sum(queue(d["b"], q)["tx_packets"] for q in range(QUEUES)),
                         d["b"]["tx"]["packets"])

        # Port c has one queue pair: both of a's queues fold onto it.
        rxs1 = self.rx1.stats()[0]
        self.assertEqual(d["c"]["tx"]["packets"], rxs1["rx_packets"])
        self.assertEqual(queue(d["c"], 0)["tx_packets"], rxs1["rx_packets"])
        self.assertEqual(queue(d["c"], 1)["tx_packets"], 0)
        self.assertEqual(d["c"]["tx"]["packets"] + sum(d["c"]["drops"].values()), n)

        out = self.sw.switchctl("port", "show", "b").stdout
        self.assertRegex(out, r"(?m)^queue 1 tx\s+\d+\s+\d+$")


GUESTS = {  # name: (MAC, address)
    "g1": ("02:d5:00:00:03:01", "10.0.3.1"),
    "g2": ("02:d5:00:00:03:02", "10.0.3.2"),
}


class GuestMultiQueue(unittest.TestCase):
    """Two QEMU guests with two queue pairs each (queues=2, mq=on, -smp 2:
    Linux virtio_net uses one pair per CPU) ping each other from each of
    their CPUs: Linux sends on the queue of the CPU (XPS), the switch
    delivers on the same queue number."""

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        dvstest.guest_images()
        cls.tmp = dvstest.tempdir()
        cls.sock = {g: os.path.join(cls.tmp, g + ".sock") for g in GUESTS}
        cls.sw = dvstest.Switch(cls.tmp, ports=["%s=%s" % (g, cls.sock[g]) for g in GUESTS]).start()
        cls.guests = {}
        for g, (mac, ip) in GUESTS.items():
            cls.guests[g] = dvstest.Guest(cls.tmp, g, cls.sock[g], mac, ip + "/24",
                                          queues=QUEUES).start()
        for g in cls.guests.values():
            g.wait_ready(timeout=180)
        for g in GUESTS:
            cls.sw.wait_link(g, "up", timeout=30)

    @classmethod
    def tearDownClass(cls):
        for g in getattr(cls, "guests", {}).values():
            g.stop()
        if getattr(cls, "sw", None) is not None:
            rc = cls.sw.stop()
            if rc != 0:
                raise AssertionError("dvs-switchd did not exit 0 on SIGTERM: %r" % rc)

    def test_ping_from_each_cpu(self):
        for g in GUESTS:
            rc, out = self.guests[g].run("ls /sys/class/net/eth0/queues")
            self.assertEqual(rc, 0, out)
            self.assertEqual(sorted(out.split()), ["rx-0", "rx-1", "tx-0", "tx-1"],
                             "guest %s does not use 2 queue pairs" % g)
            wait_until(lambda: self.sw.port_show(g)["queues"] == QUEUES, 15,
                       "port %s to use %d queue pairs" % (g, QUEUES))
        self.guests["g1"].run("ping -c 1 -W 3 %s" % GUESTS["g2"][1], timeout=30)   # ARP
        before = {g: self.sw.port_show(g)["stats"] for g in GUESTS}
        for cpu in range(QUEUES):
            rc, out = self.guests["g1"].run("taskset %d ping -c 5 -i 0.2 -W 2 %s"
                                            % (1 << cpu, GUESTS["g2"][1]), timeout=60)
            self.assertEqual(rc, 0, "ping from g1's CPU %d failed:\n%s" % (cpu, out))
            self.assertRegex(out, r"(?<![0-9])0% packet loss", out)
        after = {g: self.sw.port_show(g)["stats"] for g in GUESTS}
        d = {g: delta(after[g], before[g]) for g in GUESTS}
        for g in GUESTS:
            for direction in ("rx", "tx"):
                self.assertEqual(sum(queue(d[g], q)[direction + "_packets"] for q in range(QUEUES)),
                                 d[g][direction]["packets"],
                                 "port %s: %s per queue does not add up: %r" % (g, direction, d[g]))
                self.assertEqual(sum(queue(d[g], q)[direction + "_bytes"] for q in range(QUEUES)),
                                 d[g][direction]["bytes"])
        self.assertGreaterEqual(d["g1"]["rx"]["packets"], 10)
        self.assertGreaterEqual(d["g2"]["tx"]["packets"], 10)
        # g1's echo requests left from the queue of the CPU ping ran on;
        # g2 got them on the same queue number.
        for q in range(QUEUES):
            self.assertGreaterEqual(queue(d["g1"], q)["rx_packets"], 5,
                                    "g1 sent nothing on queue %d: %r" % (q, d["g1"]))
            self.assertGreaterEqual(queue(d["g2"], q)["tx_packets"], 5,
                                    "g2 got nothing on queue %d: %r" % (q, d["g2"]))


class MultiQueueCrash(test_crash.SwitchCrash):
    """test_crash's kill -9 under traffic, clean restart, crash at every
    point of a burst and learned address, with two queue pairs per vNIC and
    traffic on both (a ping from each vCPU of p1): the journal's ring
    positions and hand-overs are per queue, the per-queue counters add up
    to the totals after every crash, and the totals still equal the
    guests' own counters."""
    QUEUES = 2

    def traffic(self, count):
        for cpu in range(self.QUEUES):
            rc, out = self.guests["p1"].run(
                "taskset %d ping -c %d -i 0.02 -W 1 %s > /tmp/ping%d.log 2>&1 &"
                % (1 << cpu, count, test_crash.GUESTS["p2"][1], cpu))
            self.assertEqual(rc, 0, out)

    def wait_traffic_done(self, timeout=60):
        logs = " ".join("/tmp/ping%d.log" % cpu for cpu in range(self.QUEUES))

        def done():
            rc, out = self.guests["p1"].run("cat %s | grep -c 'packet loss'" % logs, timeout=20)
            return out.strip().startswith(str(self.QUEUES))
        dvstest.wait_until(done, timeout, "the background pings to finish", interval=0.5)
        rc, out = self.guests["p1"].run("tail -q -n 3 %s" % logs)
        return out

    def assert_counters_match_guests(self):
        c = super().assert_counters_match_guests()
        for k, v in c.items():
            st = v[4]
            for direction in ("rx", "tx"):
                for what in ("packets", "bytes"):
                    self.assertEqual(
                        sum(q["%s_%s" % (direction, what)] for q in st["queues"].values()),
                        st[direction][what],
                        "%s: %s %s per queue do not add up: %r" % (k, direction, what, st))
        return c

    def test_e_both_queues_used(self):
        self.traffic(20)
        self.wait_traffic_done()
        c = self.assert_counters_match_guests()
        for q in range(self.QUEUES):
            self.assertGreater(queue(c["p1"][4], q)["rx_packets"], 0,
                               "p1 sent nothing on queue %d: %r" % (q, c["p1"][4]))
            self.assertGreater(queue(c["p2"][4], q)["tx_packets"], 0,
                               "p2 got nothing on queue %d: %r" % (q, c["p2"][4]))


if __name__ == "__main__":
    dvstest.main()
