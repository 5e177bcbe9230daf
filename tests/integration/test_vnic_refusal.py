#!/usr/bin/env python3
"""A vNIC that refuses the switch on every connection (QEMU with queues=16,
beyond the 8 queue pairs the switch serves) does not make the switch spin:
after three such connections in a row the switch stops connecting for a
while (1 s, doubling), says so, and tries again; once a front-end it can
serve listens on the socket, the port links up.  Removing the port while it
cools down removes it cleanly.

Run as root: python3 tests/integration/test_vnic_refusal.py
"""

import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import wait_until  # noqa: E402

QEMU = "qemu-system-x86_64"
COOL = "closed %d connections in a row before its device started"
# Over the observation window rte_vhost alone reconnected thousands of
# times; with the cool-downs (1, 2, 4, 8 s) it is a handful.
WINDOW_S = 8
MAX_CONNECTIONS = 20


class RefusingVnic(unittest.TestCase):

    def setUp(self):
        dvstest.require_root()
        if shutil.which(QEMU) is None:
            self.skipTest("%s not found (Debian package qemu-system-x86)" % QEMU)
        self.tmp = dvstest.tempdir()
        self.sock = os.path.join(self.tmp, "vm.sock")
        self.sw = dvstest.Switch(self.tmp).start()
        self.qemu = None

    def tearDown(self):
        if self.qemu is not None:
            self.qemu.stop()
        rc = self.sw.stop()
        if rc != 0:
            raise AssertionError("dvs-switchd did not exit 0 on SIGTERM: %r" % rc)

    def start_refusing_qemu(self):
        """A QEMU whose vNIC wants 16 queue pairs: it refuses the back-end
        on each connection and waits for the next.  No guest is needed."""
        log = os.path.join(self.tmp, "qemu.log")
        dvstest.register_log("qemu (queues=16)", log)
        out = open(log, "wb")
        self.qemu = dvstest.Proc("qemu queues=16", [
            QEMU, "-accel", "tcg", "-m", "128", "-nodefaults", "-display", "none",
            "-object", "memory-backend-memfd,id=mem,size=128M,share=on",
            "-numa", "node,memdev=mem",
            "-chardev", "socket,id=c0,path=%s,server=on,wait=off" % self.sock,
            "-netdev", "vhost-user,id=n0,chardev=c0,queues=16",
            "-device", "virtio-net-pci,netdev=n0,mq=on"],
            stdout=out, stderr=subprocess.STDOUT)
        out.close()
        wait_until(lambda: os.path.exists(self.sock), 30, "QEMU's vhost-user socket")
        return log

    def connections(self):
        return len(re.findall(r"connection established on " + re.escape(self.sock),
                              self.sw.log()))

    def test_a_cools_down_then_links_up_with_a_good_peer(self):
        qlog = self.start_refusing_qemu()
        self.sw.call("port.add", {"name": "vm", "socket": self.sock})
        wait_until(lambda: COOL % 3 in self.sw.log(), 30, "the switch's cool-down warning")
        with open(qlog, errors="replace") as f:
            self.assertIn("more queues than supported", f.read(), "QEMU's own reason")
        start = self.connections()
        time.sleep(WINDOW_S)
        made = self.connections() - start
        sys.stderr.write("[%d connections in %d s of cool-downs]\n" % (made, WINDOW_S))
        self.assertLessEqual(made, MAX_CONNECTIONS,
                             "the switch kept reconnecting to a refusing vNIC")
        self.assertEqual(self.sw.link("vm"), "down")
        self.assertTrue(self.sw.alive())

        # The domain is fixed: a front-end with one queue pair on the socket.
        self.qemu.stop()
        self.qemu = None
        pmd = dvstest.TestPmd(self.tmp, "good", [(self.sock, "02:d5:00:00:00:51")],
                              fwd="rxonly").start(wait=False)
        try:
            # The longest cool-down so far is at most 16 s (1+2+4+8 s passed).
            pmd.wait_ready(timeout=60)
            self.sw.wait_link("vm", "up", timeout=60)
        finally:
            pmd.stop()

    def test_b_removed_while_cooling_down(self):
        self.start_refusing_qemu()
        self.sw.call("port.add", {"name": "vm", "socket": self.sock})
        wait_until(lambda: COOL % 3 in self.sw.log(), 30, "the switch's cool-down warning")
        self.sw.call("port.remove", {"name": "vm"})
        self.assertNotIn("vm", [p["name"] for p in self.sw.call("port.list")["ports"]])
        # Past the cool-down: nothing connects to the removed port's socket.
        start = self.connections()
        time.sleep(2.5)
        self.assertEqual(self.connections(), start, "a removed port reconnected")
        self.assertNotIn("could not unregister", self.sw.log())
        # The same socket can be added again, and cools down again.
        self.sw.call("port.add", {"name": "vm", "socket": self.sock})
        wait_until(lambda: self.sw.log().count(COOL % 3) >= 2, 30,
                   "the cool-down warning for the port added again")


if __name__ == "__main__":
    dvstest.main()
