#!/usr/bin/env python3
"""Live migration of a VM on a DVport between two hosts, driven through
QEMU's own migration (QMP) with the libvirt hook run exactly as libvirt runs
it (tests/integration/twohost.py): issue 5, first "done when" item.

World: dvsmgr, hosts h1 and h2 (network + mount namespaces, a veth pair as
the physical network, one dvs-switchd each), DVswitch "prod" with port group
"web"; guest A (10.0.0.1) on h1, guest B (10.0.0.2) on h2, each on a DVport.

  01  a migration whose domain XML carries a stale connection ID is refused
      by the destination's `migrate` hook (the manager's check); A keeps
      running on h1 with its port attached, up and its counters continuing
  02  A (its port shaped) migrates h1 -> h2 -> h1 ... 10 times while B pings
      it every 0.1 s over the hosts' uplinks; after each move: A's DVport
      attached and up on the destination with its connection ID, every
      counter continuing from the source's values (none reset), A's MAC
      learned on its port, the shaper's state there, the source's state
      loaded (the destination's log says so), nothing of the port on the
      source, the manager naming the destination as the port's host and no
      migration in progress, at most 1 ping lost
  03  the destination QEMU killed during the RAM copy: the migration fails,
      the destination's stopped/release hooks run, A keeps running on its
      source with its port up and all its state; the destination holds
      nothing and the manager ends the migration

Run as root: python3 tests/integration/test_migration.py
"""

import json
import os
import statistics
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import twohost  # noqa: E402
from dvstest import wait_until  # noqa: E402
from twohost import MigrationRefused  # noqa: E402

A = ("ga", "02:d7:00:00:0a:01", "10.0.0.1")
B = ("gb", "02:d7:00:00:0b:01", "10.0.0.2")
ROUNDS = int(os.environ.get("DVS_MIGRATION_ROUNDS", "10"))


def counters(show):
    """Every counter of a dvport.show, flattened: "rx.packets", "drops.shaped"..."""
    out = {}

    def walk(prefix, v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(prefix + "." + k if prefix else k, x)
        elif isinstance(v, int) and not isinstance(v, bool):
            out[prefix] = v
    walk("", show["stats"])
    out["rx"], out["tx"] = out["rx.packets"], out["tx.packets"]
    return out


def shaper_state(show):
    """The shaper class's state in a dvport.show, or None."""
    for c in show.get("classes") or []:
        if "shap" in c.get("class", ""):
            return c
    return None


class Migration(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        twohost.require()
        cls.t0 = time.monotonic()
        cls.w = twohost.World()
        cls.a = cls.w.new_guest(A[0], A[1], ip=A[2] + "/24")
        cls.b = cls.w.new_guest(B[0], B[1], ip=B[2] + "/24")
        cls.w.boot(cls.a, "h1")
        cls.w.boot(cls.b, "h2")

    @classmethod
    def tearDownClass(cls):
        w = getattr(cls, "w", None)
        if w is not None:
            for g in (getattr(cls, "a", None), getattr(cls, "b", None)):
                if g is not None and g.alive():
                    w.shutdown(g)
        if hasattr(cls, "t0"):
            sys.stderr.write("\n[test_migration: %.1f s]\n" % (time.monotonic() - cls.t0))

    # -- helpers -------------------------------------------------------------
    def make_traffic(self):
        """Frames from A (ARP for an absent address) so its rx counter moves
        even without an uplink."""
        self.a.run("ping -c 2 -i 0.2 -W 1 10.0.0.99 >/dev/null 2>&1; true", timeout=30)

    def assert_running_on(self, host_name, before=None):
        """A runs on HOST_NAME with its DVport attached and up there, its
        connection ID, and counters at least BEFORE's."""
        a, w = self.a, self.w
        self.assertEqual(a.host.name, host_name)
        self.assertEqual(a.status(), "running")
        rc, out = a.run("echo alive", timeout=30)
        self.assertEqual((rc, out.strip()), (0, "alive"))
        show = w.show(host_name, a)
        self.assertTrue(show["attached"], show)
        self.assertEqual(show["link"], "up", show)
        self.assertEqual(show["connection"]["id"], a.conn)
        now = counters(show)
        if before is not None:
            for k in now:
                self.assertGreaterEqual(now[k], before[k], "counter %s went back: %r -> %r"
                                        % (k, before, now))
        return now

    def assert_holds_nothing(self, host_name):
        """HOST_NAME holds nothing of A's DVport (the manager's push after
        the source's release may take a moment)."""
        try:
            wait_until(lambda: self.w.held(host_name, self.a) is None, 15,
                       "%s to hold nothing of A's DVport" % host_name)
        except dvstest.HarnessError:
            self.fail("%s still holds A's DVport: %r" % (host_name, self.w.held(host_name, self.a)))

    def wait_manager_host(self, host_name):
        wait_until(lambda: self.w.mgr.port(self.a.port)["Host"] == host_name, 15,
                   "the manager to name %s as the host of A's port" % host_name)

    def check_refused(self, err, host_name, before):
        """The refusal path: nothing moved, A untouched and counting."""
        self.assertEqual(err.op, "migrate", "refused at the first destination hook")
        self.assertIn(self.a.mac, err.stderr, "the refusal names the vNIC")
        self.assertIn(self.a.port, err.stderr, "the refusal names the DVport")
        dest = "h2" if host_name == "h1" else "h1"
        self.assertEqual([h for h in self.w.hook_log[-1:]], [(dest, "migrate", "begin", 1)])
        after = self.assert_running_on(host_name, before)
        self.make_traffic()
        later = self.assert_running_on(host_name, after)
        self.assertGreater(later["rx"], after["rx"], "counters continue after the refusal")
        held = self.w.held(dest, self.a)
        self.assertFalse(held and held.get("attached"), "attached on %s: %r" % (dest, held))
        self.assertEqual(self.w.mgr.port(self.a.port)["Host"], host_name)

    def migrate(self, dest, **kw):
        before = counters(self.w.show(self.a.host.name, self.a))
        return self.w.migrate(self.a, dest, **kw), before

    # -- tests -----------------------------------------------------------------
    def test_00_driver_on_a_plain_port(self):
        """The driver itself, runnable today: a guest on a plain vhost-user
        switch port (no DVport, no hooks) migrates h1 -> h2, then a second
        migration back is killed halfway and the guest stays on h2."""
        w = self.w
        c = w.new_guest("gc", "02:d7:00:00:0c:01", ip="10.0.0.3/24", nic="plain")
        try:
            w.boot(c, "h1")
            # The pinger's parsing, on the guest's own address (no uplink
            # needed), across the migration: the guest pauses, nothing is lost.
            pinger = twohost.Pinger(c, "10.0.0.3").start()
            time.sleep(1.0)
            res = w.migrate(c, "h2")
            time.sleep(0.5)
            ps = pinger.stop()
            self.assertGreaterEqual(ps.received, 8, ps)
            self.assertEqual(ps.lost, 0, ps)
            self.assertEqual(res.status, "completed", res)
            self.assertIsNotNone(res.downtime_ms)
            self.assertEqual(res.hooks, [])
            self.assertEqual(c.host.name, "h2")
            self.assertEqual(c.status(), "running")
            self.assertEqual(c.run("echo moved", timeout=30), (0, "moved\n"))
            w.wait_link("h2", c, "up")
            self.assertIsNone(w.link("h1", c), "the source's port is removed")
            res = w.migrate(c, "h1", kill_dest=True)
            self.assertTrue(res.killed)
            self.assertEqual(res.status, "failed", res)
            self.assertEqual(c.host.name, "h2")
            self.assertEqual(c.status(), "running")
            self.assertEqual(c.run("echo stayed", timeout=30), (0, "stayed\n"))
            self.assertEqual(w.link("h2", c), "up")
            self.assertIsNone(w.link("h1", c), "the destination's port is removed")
        finally:
            if c.alive():
                w.shutdown(c)

    def test_01_stale_connection_refused(self):
        self.make_traffic()
        before = counters(self.w.show("h1", self.a))
        conn = self.a.conn
        self.a.conn = "00000000-0000-4000-8000-0000000057a1"
        try:
            with self.assertRaises(MigrationRefused) as cm:
                self.w.migrate(self.a, "h2")
        finally:
            self.a.conn = conn
        self.check_refused(cm.exception, "h1", before)

    def test_02_ten_migrations_with_ping(self):
        w, a, b = self.w, self.a, self.b
        # A's port shaped (well above the ping's rate): the shaper's state
        # is part of what moves.
        w.mgr.call(w.mgr.port_path(a.port), "net.dvsqemu.Port1", "SetConfig",
                   json.dumps({"policy": {"shaping": {"ingress": {"average_kbps": 50000,
                                                                  "burst_kbytes": 64}}}}))
        wait_until(lambda: shaper_state(w.show(a.host.name, a)) is not None, 20,
                   "A's port shaped on %s" % a.host.name)
        b.run("ping -c 3 -W 2 %s >/dev/null 2>&1; true" % A[2], timeout=30)   # ARP
        results, pings = [], []
        for n in range(ROUNDS):
            src = a.host.name
            dest = "h2" if src == "h1" else "h1"
            pinger = twohost.Pinger(b, A[2]).start()
            time.sleep(0.5)
            try:
                res, before = self.migrate(dest)
            except MigrationRefused:
                pinger.stop()
                raise
            results.append(res)
            with self.subTest(round=n + 1, move="%s->%s" % (src, dest)):
                self.assertEqual(res.status, "completed", res)
                self.assertEqual([(h, op) for h, op, _, _, _ in res.hooks],
                                 [(dest, "migrate"), (dest, "prepare"), (dest, "start"),
                                  (dest, "started"), (src, "stopped"), (src, "release")])
                w.wait_link(dest, a, "up", timeout=20)
                after = self.assert_running_on(dest, before)
                macs = {e["mac"].lower() for e in
                        w.switches[dest].call("mac.dump", {"port": a.port})["entries"]}
                self.assertIn(a.mac, macs, "A's MAC learned on its port on %s" % dest)
                self.assertIsNotNone(shaper_state(w.show(dest, a)), "the shaper's state")
                self.assertIn("state from host %s loaded into the port" % src,
                              w.switches[dest].log(), "the source's state was loaded")
                self.assert_holds_nothing(src)
                self.wait_manager_host(dest)
                self.assertEqual(w.mgr.port(a.port)["MigratingTo"], "")
                self.assertEqual(w.link("h2", b), "up", "B's port")
                time.sleep(0.5)
                ps = pinger.stop()
                pings.append(ps)
                self.assertGreater(ps.received, 0, ps)
                self.assertLessEqual(ps.lost, 1, "%s (round %d)" % (ps, n + 1))
                self.assertGreater(after["rx"], before["rx"], "A answered pings")
        down = [r.downtime_ms for r in results]
        sys.stderr.write("\n[%d migrations: QEMU downtime %s ms (median %s); total %s ms]\n"
                         % (len(results), down, statistics.median(down),
                            [r.total_ms for r in results]))
        sys.stderr.write("[pings: lost %s, largest gaps %s ms]\n"
                         % ([p.lost for p in pings],
                            [round(p.max_gap_s * 1000) for p in pings]))

    def test_03_destination_killed_halfway(self):
        w, a = self.w, self.a
        src = a.host.name
        dest = "h2" if src == "h1" else "h1"
        pinger = twohost.Pinger(self.b, A[2]).start()
        try:
            res, before = self.migrate(dest, kill_dest=True)
        except MigrationRefused:
            pinger.stop()
            raise
        self.assertTrue(res.killed, "the destination QEMU was killed during RAM copy")
        self.assertEqual(res.status, "failed", res)
        self.assertEqual([(h, op) for h, op, _, _, _ in res.hooks],
                         [(dest, "migrate"), (dest, "prepare"), (dest, "start"),
                          (dest, "started"), (dest, "stopped"), (dest, "release")])
        after = self.assert_running_on(src, before)
        self.make_traffic()
        self.assert_running_on(src, after)
        self.wait_manager_host(src)
        wait_until(lambda: w.mgr.port(a.port)["MigratingTo"] == "", 15,
                   "the manager to end the migration")
        self.assert_holds_nothing(dest)
        ps = pinger.stop()
        self.assertLessEqual(ps.lost, 1, ps)


if __name__ == "__main__":
    twohost.main()
