#!/usr/bin/env python3
"""Two QEMU guests on one dvs-switchd ping each other; one guest's QEMU is
killed and started again on the same socket, and the switch (not restarted)
reconnects.  Run as root: python3 tests/integration/test_guest_ping.py
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

GUESTS = {  # name: (MAC, address)
    "g1": ("02:d5:00:00:01:01", "10.0.0.1"),
    "g2": ("02:d5:00:00:01:02", "10.0.0.2"),
}
NO_LOSS = re.compile(r"(?<![0-9])0% packet loss")


class GuestPing(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        dvstest.guest_images()          # builds the initramfs once, or skips
        cls.t0 = time.monotonic()
        cls.tmp = dvstest.tempdir()
        cls.sock = {g: os.path.join(cls.tmp, g + ".sock") for g in GUESTS}
        # Ports given on the command line this time (the testpmd test uses port.add).
        cls.sw = dvstest.Switch(cls.tmp, ports=["g1=" + cls.sock["g1"],
                                                "g2=%s,vlan=0" % cls.sock["g2"]]).start()
        cls.guests = {g: cls.new_guest(g) for g in GUESTS}
        for g in cls.guests.values():
            g.wait_ready(timeout=120)
        for g in GUESTS:
            cls.sw.wait_link(g, "up", timeout=30)

    @classmethod
    def new_guest(cls, name):
        mac, ip = GUESTS[name]
        return dvstest.Guest(cls.tmp, name, cls.sock[name], mac, ip + "/24").start()

    @classmethod
    def tearDownClass(cls):
        for g in getattr(cls, "guests", {}).values():
            g.stop()
        if getattr(cls, "sw", None) is not None:
            rc = cls.sw.stop()
            if rc != 0:
                raise AssertionError("dvs-switchd did not exit 0 on SIGTERM: %r" % rc)
        if os.environ.get("DVS_TEST_TIMING") and hasattr(cls, "t0"):
            sys.stderr.write("guest ping: %.1f s\n" % (time.monotonic() - cls.t0))

    def ping(self, src, dst, count=5):
        ip = GUESTS[dst][1]
        rc, out = self.guests[src].run("ping -c %d -i 0.2 -W 2 %s" % (count, ip), timeout=60)
        self.assertEqual(rc, 0, "%s -> %s: ping failed:\n%s" % (src, dst, out))
        self.assertRegex(out, NO_LOSS, "%s -> %s: packets lost:\n%s" % (src, dst, out))
        self.assertEqual(len(re.findall(r"bytes from %s" % re.escape(ip), out)), count, out)

    def warm_up(self, src, dst):
        """One ping to resolve ARP; its loss is tolerated."""
        self.guests[src].run("ping -c 1 -W 3 %s" % GUESTS[dst][1], timeout=30)

    def check_learned(self):
        entries = {(e["mac"].lower(), e["vlan"], e["port"])
                   for e in self.sw.call("mac.dump")["entries"]}
        for g, (mac, _) in GUESTS.items():
            self.assertIn((mac, 0, g), entries)

    def test_a_ping_both_directions(self):
        before = {g: self.sw.port_show(g)["stats"] for g in GUESTS}
        self.warm_up("g1", "g2")
        self.ping("g1", "g2")
        self.ping("g2", "g1")
        self.check_learned()
        for g in GUESTS:
            st = self.sw.port_show(g)["stats"]
            # 5 echo requests + 5 replies each way, at least.
            self.assertGreaterEqual(st["rx"]["packets"] - before[g]["rx"]["packets"], 10, st)
            self.assertGreaterEqual(st["tx"]["packets"] - before[g]["tx"]["packets"], 10, st)
            self.assertEqual(st["drops"]["vlan_filtered"], 0, st)

    def test_b_guest_killed_and_restarted(self):
        pid = self.sw.call("switch.show")["pid"]
        self.assertEqual(pid, self.sw.pid)
        self.guests["g2"].kill(signal.SIGKILL)
        self.sw.wait_link("g2", "down", timeout=15)
        self.assertTrue(self.sw.alive(), "dvs-switchd died with its guest")
        self.assertEqual(self.sw.link("g1"), "up")
        rc, out = self.guests["g1"].run("ping -c 1 -W 1 %s" % GUESTS["g2"][1])
        self.assertNotEqual(rc, 0, "g2 answered while its QEMU was dead:\n" + out)

        self.guests["g2"] = self.new_guest("g2")        # same socket path
        self.guests["g2"].wait_ready(timeout=120)
        self.sw.wait_link("g2", "up", timeout=30)
        self.assertTrue(self.sw.alive())
        self.assertEqual(self.sw.call("switch.show")["pid"], pid, "the switch was restarted")
        self.warm_up("g2", "g1")
        self.ping("g2", "g1")
        self.ping("g1", "g2")
        self.check_learned()
        self.assertEqual(self.sw.call("switch.show")["pid"], pid)


if __name__ == "__main__":
    dvstest.main()
