#!/usr/bin/env python3
"""kill -9 of dvs-switchd under traffic between two QEMU guests on DVports:
a new dvs-switchd on the same state directory re-attaches the vNICs by
itself (QEMU keeps its server sockets), within a second of being up, and
once traffic stops the DVport counters agree exactly with the guests' own
virtio-net counters: every frame delivered is one a guest received, every
frame received is delivered or dropped, and every frame a guest sent was
received or is one QEMU dropped from the guest's ring while no switch ran
(dropped_while_down, counted by the next switch from the ring positions).
Then a clean restart (SIGTERM) continues the same counters from the
checkpoints; then the switch dies at each point of a burst (test hook);
then an address learned just before a kill -9 survives it.

Run as root: python3 tests/integration/test_crash.py
"""

import os
import re
import signal
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402

GUESTS = {  # DVport key: (MAC, address, connection ID)
    "p1": ("02:d5:00:00:02:01", "10.0.0.1", "conn-p1"),
    "p2": ("02:d5:00:00:02:02", "10.0.0.2", "conn-p2"),
}


class SwitchCrash(unittest.TestCase):
    QUEUES = 1          # queue pairs per vNIC (test_multiqueue: 2)

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        dvstest.guest_images()
        cls.tmp = dvstest.tempdir()
        cls.sock = {k: os.path.join(cls.tmp, k + ".sock") for k in GUESTS}
        cls.sw = dvstest.Switch(cls.tmp).start()
        doc = {"id": "dvs0", "name": "crash-test",
               "ports": [{"key": k, "connection": {"id": c, "mac": m}}
                         for k, (m, _, c) in GUESTS.items()]}
        cls.sw.call("switch.apply", {"switch": doc})
        for k, (_, _, c) in GUESTS.items():
            cls.sw.call("dvport.attach", {"switch": "dvs0", "port": k,
                                          "connection": c, "socket": cls.sock[k]})
        cls.guests = {}
        for k, (m, ip, _) in GUESTS.items():
            cls.guests[k] = dvstest.Guest(cls.tmp, k, cls.sock[k], m, ip + "/24",
                                          queues=cls.QUEUES).start()
        for g in cls.guests.values():
            g.wait_ready(timeout=120)
        for k in GUESTS:
            cls.sw.wait_link(k, "up", timeout=30)

    @classmethod
    def tearDownClass(cls):
        for g in getattr(cls, "guests", {}).values():
            g.stop()
        if getattr(cls, "sw", None) is not None and cls.sw.alive():
            cls.sw.stop()

    def guest_counters(self, key):
        rc, out = self.guests[key].run(
            "cat /sys/class/net/eth0/statistics/tx_packets "
            "/sys/class/net/eth0/statistics/rx_packets", timeout=30)
        self.assertEqual(rc, 0, out)
        tx, rx = [int(x) for x in out.split()[:2]]
        return tx, rx

    def switch_counters(self, key):
        st = self.sw.call("dvport.show", {"switch": "dvs0", "port": key})["stats"]
        return st["rx"]["packets"], st["tx"]["packets"], st

    def counters(self):
        """{key: (guest tx, guest rx, DVport rx, DVport tx, DVport stats)}."""
        out = {}
        for k in GUESTS:
            g_tx, g_rx = self.guest_counters(k)
            s_rx, s_tx, st = self.switch_counters(k)
            out[k] = (g_tx, g_rx, s_rx, s_tx, st)
        return out

    def assert_counters_match_guests(self):
        """Every frame the switch delivered is one the guest received
        (DVport tx == guest rx, exactly); every frame the switch received is
        accounted for (delivered or dropped, summed over the ports); and
        every frame the guest sent was received by the switch or dropped by
        QEMU from the guest's ring while no switch ran (DVport rx +
        dropped_while_down == guest tx, exactly).  Polled briefly: a frame
        may be on its way."""
        deadline = time.monotonic() + 10
        while True:
            c = self.counters()
            problems = []
            for k, (g_tx, g_rx, s_rx, s_tx, st) in c.items():
                if s_tx != g_rx:
                    problems.append("%s: DVport delivered %d, guest received %d" % (k, s_tx, g_rx))
                lost = st["dropped_while_down"]
                if g_tx != s_rx + lost:
                    problems.append("%s: guest sent %d, DVport received %d + %d dropped "
                                    "by QEMU while no switch ran" % (k, g_tx, s_rx, lost))
            rx = sum(v[2] for v in c.values())
            tx = sum(v[3] for v in c.values())
            drops = sum(sum(v[4]["drops"].values()) for v in c.values())
            if rx != tx + drops:
                problems.append("received %d != delivered %d + dropped %d" % (rx, tx, drops))
            if not problems or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertEqual(problems, [], "\n".join(problems) + "\n%r" % c)
        return c

    def traffic(self, count):
        """Pings from p1 to p2 in the background of guest p1."""
        rc, out = self.guests["p1"].run(
            "ping -c %d -i 0.02 -W 1 %s > /tmp/ping.log 2>&1 &" % (count, GUESTS["p2"][1]))
        self.assertEqual(rc, 0, out)

    def wait_traffic_done(self, timeout=60):
        def done():
            rc, out = self.guests["p1"].run("grep -c 'packet loss' /tmp/ping.log", timeout=20)
            return out.strip().startswith("1")
        dvstest.wait_until(done, timeout, "the background ping to finish", interval=0.5)
        rc, out = self.guests["p1"].run("tail -3 /tmp/ping.log")
        return out

    def restart_switch(self):
        """A new dvs-switchd on the same name and state directory; returns
        the seconds from its control socket answering to both links up."""
        self.sw = type(self).sw = dvstest.Switch(self.tmp, name=self.sw.name).start()
        ready = time.monotonic()
        for k in GUESTS:
            self.sw.wait_link(k, "up", timeout=15)
        return time.monotonic() - ready

    def test_a_kill_9_under_traffic_loses_no_count(self):
        # warm up (ARP) and let the MACs be checkpointed (within 1 s)
        self.guests["p1"].run("ping -c 2 -W 2 %s" % GUESTS["p2"][1], timeout=30)
        time.sleep(1.5)
        self.assert_counters_match_guests()
        self.traffic(400)
        time.sleep(2)                        # ping is running
        self.sw.proc.kill(signal.SIGKILL)
        down = time.monotonic()
        self.assertFalse(self.sw.alive())
        back = self.restart_switch()
        outage = time.monotonic() - down
        sys.stderr.write("vNICs re-attached %.2f s after the restarted switch was up\n" % back)
        log = self.sw.log()
        self.assertIn("adopted from the runtime area", log)
        self.assertLess(back, 1.0, "the vNICs took %.2f s to come back" % back)
        # MACs learned before the crash are there at once.
        learned = {(e["mac"], e["port"]) for e in self.sw.call("mac.dump")["entries"]}
        for k, (m, _, _) in GUESTS.items():
            self.assertIn((m, k), learned)
        out = self.wait_traffic_done()
        self.assertRegex(out, r"400 packets transmitted", out)
        c = self.assert_counters_match_guests()
        sys.stderr.write("outage %.2f s; frames QEMU dropped while no switch ran: %s\n"
                         % (outage, {k: v[4]["dropped_while_down"] for k, v in c.items()}))

    def test_b_clean_restart_continues_counters(self):
        before = {k: self.switch_counters(k)[:2] for k in GUESTS}
        self.assertEqual(self.sw.stop(), 0)
        self.restart_switch()
        self.assertIn("restored from its checkpoint", self.sw.log())
        after = {k: self.switch_counters(k)[:2] for k in GUESTS}
        for k in GUESTS:
            self.assertGreaterEqual(after[k][0], before[k][0], "p%s counters went back" % k)
        self.guests["p2"].run("ping -c 3 -i 0.2 -W 2 %s" % GUESTS["p1"][1], timeout=30)
        self.assert_counters_match_guests()

    def test_c_crash_points(self):
        """The switch kills itself (SIGKILL, test hook DVS_TEST_CRASH_AT) at
        each point of a burst where a crash could lose count: journal just
        opened, frames in a guest's ring but the hand-over not recorded,
        every hand-over done but counters not committed, counters half
        committed, all committed but the input not handed back.  Each time
        the next switch settles the burst from the journal and the rings,
        and the counters still agree with the guests exactly."""
        points = ["opened", "handed-over", "before-commit", "committing", "before-publish"]
        for point in points:
            with self.subTest(point=point):
                self.assertEqual(self.sw.stop(), 0)
                os.environ["DVS_TEST_CRASH_AT"] = point + ":20"
                try:
                    self.restart_switch()
                finally:
                    del os.environ["DVS_TEST_CRASH_AT"]
                self.traffic(150)
                dvstest.wait_until(lambda: not self.sw.alive(), 30,
                                   "the switch to kill itself at %s" % point, interval=0.05)
                mark = len(self.sw.log())
                self.restart_switch()
                log = self.sw.log()[mark:]
                self.assertRegex(log, r"the burst in flight at the crash .*(accounted for|was complete)")
                line = [l for l in log.splitlines() if "the burst in flight at the crash" in l][-1]
                sys.stderr.write("%s: %s\n" % (point, line.split("runtime area", 1)[-1].strip()))
                out = self.wait_traffic_done()
                self.assertRegex(out, r"150 packets transmitted", out)
                self.assert_counters_match_guests()

    def test_d_mac_learned_just_before_kill(self):
        """An address learned a moment before a kill -9 (well inside the
        1 s checkpoint period) is there when the next switch comes up: the
        datapath keeps what it learns in the runtime area before the frame
        that taught it reaches anyone."""
        new_mac = "02:d5:00:00:02:11"
        g = self.guests["p1"]
        g.run("ip link set dev eth0 address %s && (ping -c 1 -W 1 %s >/dev/null 2>&1 &)"
              % (new_mac, GUESTS["p2"][1]), timeout=30)
        try:
            # Kill as soon as the switch has learned it: the checkpoint timer
            # (every 1 s) has had no time to save it.
            def learned_now():
                entries = self.sw.call("mac.dump")["entries"]
                return (new_mac, "p1") in {(e["mac"], e["port"]) for e in entries}
            dvstest.wait_until(learned_now, 10, "the switch to learn %s" % new_mac, interval=0.01)
            self.sw.proc.kill(signal.SIGKILL)
            self.assertFalse(self.sw.alive())
            self.restart_switch()
            learned = {(e["mac"], e["port"]) for e in self.sw.call("mac.dump")["entries"]}
            self.assertIn((new_mac, "p1"), learned)
        finally:
            g.run("ip link set dev eth0 address %s" % GUESTS["p1"][0], timeout=30)


if __name__ == "__main__":
    dvstest.main()
