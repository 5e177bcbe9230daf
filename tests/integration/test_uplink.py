#!/usr/bin/env python3
"""Two hosts joined by uplinks: two dvs-switchd, each in its own network
namespace, a veth pair between the namespaces as the physical network, the
same DVswitch applied to both with --uplink DVSWITCH=IFACE on its end of the
veth, and dpdk-testpmd virtio-user peers on DVports of each host.

- frames sent by the testpmd on host 1 arrive at the testpmd on host 2
  through the uplinks (exact counts from testpmd's own counters);
- VLAN isolation holds across the uplink (the DVport of another VLAN on
  host 2 receives nothing);
- the uplink is shown by switch.show and switch.get (name, iface, link,
  counters);
- port.announce on host 1 makes host 2 learn the MAC on its uplink
  (mac.dump), in the right VLAN;
- known unicast comes back exactly the other way;
- a restarted switch attaches the uplink again with its restored DVswitch,
  and switch.remove detaches it.

Namespaces, veths and processes are removed however the test ends.

Run as root: python3 tests/integration/test_uplink.py
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402

SWITCH_ID = "dvs-uplink"
MACS = {"a1": "02:00:00:01:00:0a",      # host 1, VLAN 10
        "a2": "02:00:00:02:00:0a",      # host 2, VLAN 10
        "b2": "02:00:00:02:00:0b"}      # host 2, VLAN 20
VLANS = {"a1": 10, "a2": 10, "b2": 20}
UNKNOWN = "02:00:00:ff:ff:01"           # nobody's: flooded
ANNOUNCED = "52:54:00:aa:bb:cc"
BURST = 16
BURSTS = 4                              # frames per send: BURST * BURSTS

TAG = "%d" % (os.getpid() % 100000)
NETNS = ["dvsup1-" + TAG, "dvsup2-" + TAG]
IFACES = ["dvu1-" + TAG, "dvu2-" + TAG]  # <= 15 characters


def run(*argv, check=True):
    return subprocess.run(list(argv), stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=20, check=check)


def remove_network():
    """Idempotent: the namespaces (and the veth ends in them) go."""
    for ns in NETNS:
        run("ip", "netns", "delete", ns, check=False)
    run("ip", "link", "delete", IFACES[0], check=False)


def _on_signal(signum, frame):
    # dvstest's handler kills the processes and leaves with os._exit (no
    # atexit): remove the namespaces first.
    sys.stderr.write("test_uplink: signal %d: removing namespaces\n" % signum)
    remove_network()
    dvstest._on_signal(signum, frame)


def make_network():
    remove_network()
    atexit.register(remove_network)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    for ns in NETNS:
        run("ip", "netns", "add", ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
    run("ip", "link", "add", IFACES[0], "type", "veth", "peer", "name", IFACES[1])
    for ns, ifc in zip(NETNS, IFACES):
        run("ip", "link", "set", ifc, "netns", ns)
        # no IPv6 chatter of the host's own on the "physical network"
        run("ip", "netns", "exec", ns, "sysctl", "-qw",
            "net.ipv6.conf.%s.disable_ipv6=1" % ifc, check=False)
        run("ip", "-n", ns, "link", "set", ifc, "up")


def tearDownModule():
    # dvstest.main() leaves with os._exit (no atexit handlers): unittest
    # calls this however the class set-up and the tests ended.
    remove_network()


class NsSwitch(dvstest.Switch):
    """A dvs-switchd run under `ip netns exec NS` (which execs it: the
    pid is the switch's)."""

    def __init__(self, workdir, netns, extra_args):
        super().__init__(workdir, extra_args=extra_args)
        self.netns = netns

    def start(self, timeout=30):
        real = dvstest.SWITCHD
        wrapper = os.path.join(self.workdir, self.name + ".sh")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (self.netns, real))
        os.chmod(wrapper, 0o755)
        dvstest.SWITCHD = wrapper
        try:
            return super().start(timeout)
        finally:
            dvstest.SWITCHD = real


def document():
    return {"id": SWITCH_ID, "name": SWITCH_ID,
            "ports": [{"key": k, "connection": {"id": "c-" + k},
                       "config": {"vlan": VLANS[k]}} for k in sorted(MACS)]}


class Uplinks(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        if shutil.which("ip") is None:
            raise unittest.SkipTest("ip (iproute2) not found")
        if shutil.which(dvstest.TESTPMD) is None:
            raise unittest.SkipTest("%s not found (Debian package dpdk-dev)" % dvstest.TESTPMD)
        cls.tmp = dvstest.tempdir()
        cls.hosts = []
        cls.tx = cls.rx = None
        make_network()
        cls.sock = {k: os.path.join(cls.tmp, k + ".sock") for k in MACS}
        for ns, ifc in zip(NETNS, IFACES):
            sw = NsSwitch(cls.tmp, ns, ["--uplink", "%s=%s" % (SWITCH_ID, ifc)])
            cls.hosts.append(sw.start())
            sw.call("switch.apply", {"switch": document()})
        placement = {"a1": cls.hosts[0], "a2": cls.hosts[1], "b2": cls.hosts[1]}
        for k, sw in placement.items():
            sw.call("dvport.attach", {"switch": SWITCH_ID, "port": k,
                                      "connection": "c-" + k, "socket": cls.sock[k]})
        # host 1's testpmd sends from a1; host 2's receives on a2 and b2
        cls.tx = dvstest.TestPmd(cls.tmp, "h1", [(cls.sock["a1"], MACS["a1"])],
                                 fwd="rxonly", lcores="0@0,1@0").start(wait=False)
        cls.rx = dvstest.TestPmd(cls.tmp, "h2", [(cls.sock["a2"], MACS["a2"]),
                                                 (cls.sock["b2"], MACS["b2"])],
                                 fwd="rxonly", lcores="0@1,1@1").start(wait=False)
        cls.tx.wait_ready()
        cls.rx.wait_ready()
        for k, sw in placement.items():
            sw.wait_link(k)
        for pmd in (cls.tx, cls.rx):
            pmd.cmd("set burst %d" % BURST)

    @classmethod
    def tearDownClass(cls):
        try:
            for pmd in (getattr(cls, "tx", None), getattr(cls, "rx", None)):
                if pmd is not None:
                    pmd.stop()
            for sw in getattr(cls, "hosts", []):
                if sw.alive():
                    rc = sw.stop()
                    if rc != 0:
                        raise AssertionError("dvs-switchd did not exit 0 on SIGTERM: %r" % rc)
        finally:
            remove_network()

    def uplink(self, host):
        ups = self.hosts[host].call("switch.show")["uplinks"]
        self.assertEqual(len(ups), 1, ups)
        return ups[0]

    def send(self, pmd, port, dst, receivers):
        """BURST * BURSTS frames from PMD's PORT to DST; waits until the
        RECEIVERS testpmd counts stop changing; returns its per-port rx."""
        receivers.cmd("clear port stats all")
        pmd.cmd("clear port stats all")
        receivers.cmd("start")
        pmd.cmd("set eth-peer %d %s" % (port, dst))
        pmd.cmd("start tx_first %d" % BURSTS)
        sent = BURST * BURSTS
        prev = [None]

        def settled():
            rx = receivers.stats()
            cur = tuple(rx[p]["rx_packets"] for p in sorted(rx))
            done = cur == prev[0] and sum(cur) >= sent
            prev[0] = cur
            return done
        try:
            dvstest.wait_until(settled, 15, "frames to arrive", interval=0.5)
        except dvstest.HarnessError:
            pass            # the assertions below say what arrived
        pmd.cmd("stop")
        receivers.cmd("stop")
        self.assertEqual(pmd.stats()[port]["tx_packets"], sent)
        return receivers.stats()

    def test_1_uplinks_shown(self):
        for host, ifc in enumerate(IFACES):
            up = self.uplink(host)
            self.assertEqual((up["name"], up["dvswitch"], up["iface"], up["attached"]),
                             ("uplink:" + ifc, SWITCH_ID, ifc, True))
            self.assertEqual(up["link"], "up")
            self.assertIn("rx", up["stats"])
            doc = self.hosts[host].call("switch.get", {"id": SWITCH_ID})
            self.assertEqual([u["name"] for u in doc["uplinks"]], ["uplink:" + ifc])

    def test_2_flood_crosses_uplink_vlan_isolated(self):
        before = self.uplink(0)["stats"]["tx"]["packets"]
        rx = self.send(self.tx, 0, UNKNOWN, self.rx)
        sent = BURST * BURSTS
        self.assertEqual(rx[0]["rx_packets"], sent, "a2 (VLAN 10, host 2): %r" % rx)
        self.assertEqual(rx[1]["rx_packets"], 0, "b2 (VLAN 20) got VLAN 10 frames: %r" % rx)
        self.assertGreaterEqual(self.uplink(0)["stats"]["tx"]["packets"] - before, sent)
        self.assertGreaterEqual(self.uplink(1)["stats"]["rx"]["packets"], sent)
        # host 2 learned a1 behind its uplink, in VLAN 10
        entries = self.hosts[1].call("mac.dump")["entries"]
        self.assertIn((MACS["a1"], 10, "uplink:" + IFACES[1]),
                      [(e["mac"], e["vlan"], e["port"]) for e in entries])

    def test_3_known_unicast_back(self):
        # a1 is known on host 2 (behind the uplink), a2 on host 1 after
        # this: frames from a2 to a1 arrive at a1 exactly.
        self.send(self.tx, 0, UNKNOWN, self.rx)           # host 2 learns a1
        rx = self.send(self.rx, 0, MACS["a1"], self.tx)
        self.assertEqual(rx[0]["rx_packets"], BURST * BURSTS, rx)
        entries = self.hosts[0].call("mac.dump")["entries"]
        self.assertIn((MACS["a2"], 10, "uplink:" + IFACES[0]),
                      [(e["mac"], e["vlan"], e["port"]) for e in entries])

    def test_4_announce_learned_across(self):
        self.rx.cmd("clear port stats all")
        self.rx.cmd("start")
        self.hosts[0].call("port.announce", {"port": "a1", "mac": ANNOUNCED})

        def learned():
            return [(e["vlan"], e["port"]) for e in self.hosts[1].call("mac.dump")["entries"]
                    if e["mac"] == ANNOUNCED]
        got = dvstest.wait_until(learned, 10, "host 2 to learn the announced MAC")
        self.assertEqual(got, [(10, "uplink:" + IFACES[1])])
        # learned on a1 on host 1 too
        self.assertIn((ANNOUNCED, "a1"), [(e["mac"], e["port"])
                                          for e in self.hosts[0].call("mac.dump")["entries"]])
        self.rx.wait_rx({0: 1})
        self.rx.cmd("stop")
        rx = self.rx.stats()
        self.assertEqual((rx[0]["rx_packets"], rx[1]["rx_packets"]), (1, 0),
                         "the RARP reaches VLAN 10 only: %r" % rx)
        # errors are named
        err = self.hosts[0].rpc().request("port.announce", {"port": "a1", "mac": "nope"})
        self.assertEqual(err["error"]["code"], -32602, err)

    def test_5_restored_at_start(self):
        # A restarted switch restores its DVswitch from the local store and
        # attaches the uplink again; frames cross as before.
        sw = self.hosts[1]
        self.assertEqual(sw.stop(), 0)
        sw.start()
        for k in ("a2", "b2"):
            sw.wait_link(k)
        up = self.uplink(1)
        self.assertEqual((up["attached"], up["link"]), (True, "up"), up)
        rx = self.send(self.tx, 0, UNKNOWN, self.rx)
        self.assertEqual((rx[0]["rx_packets"], rx[1]["rx_packets"]), (BURST * BURSTS, 0), rx)
        # removing the DVswitch removes its uplink
        sw.call("switch.remove", {"id": SWITCH_ID})
        self.assertEqual(self.uplink(1)["attached"], False)


if __name__ == "__main__":
    dvstest.main()
