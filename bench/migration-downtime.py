#!/usr/bin/env python3
"""Live-migration downtime with and without our vhost-user port.

  bench/migration-downtime.py [-n N] [--memory MB] [--cases none,plain,dvport]

Two namespaced hosts on this machine, each with a dvs-switchd, and one TCG
test guest migrated back and forth N times per case through QEMU's own
migration (tests/integration/twohost.py drives QMP):

  none    the guest has no NIC: QEMU's downtime on its own
  plain   a vhost-user NIC on a plain dvs-switchd port on each host (the
          switch connects to QEMU's socket on both sides; no DVport state,
          no hooks): what vhost-user with our back-end adds (dirty logging,
          ring stop and start)
  dvport  the NIC on a DVport, the libvirt hook run on both hosts in
          libvirt's order, dvsmgr moving the port (the handover); skipped
          with the hook's message while the hook refuses migration

For each case it prints min/median/max of QEMU's reported downtime and
total time (query-migrate), of the whole sequence as the driver saw it
(hooks + destination start + migration + source stop), and the time from
the source switch's "link down" to the destination switch's "link up" for
the port, read from the two switches' logs (ms timestamps; see
link_gap_ms(), the one place to change when the switches report the
handover themselves).  Run as root from the source tree, after building
(build/ by default; DVS_SWITCHD, DVS_DVSMGR, DVS_LIBVIRT_HOOK,
DVS_GUEST_DIR as for the integration tests; --build DIR sets them all).
"""

import argparse
import os
import re
import statistics
import sys
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)


_TS = re.compile(r'^ts=(\S+) .*msg="port (\S+): link (up|down)')


def _link_events(path, port, since):
    """[(epoch seconds, "up"|"down")] for PORT in a dvs-switchd text log,
    at or after SINCE (epoch seconds)."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = _TS.match(line)
                if not m or m.group(2) != port:
                    continue
                t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
                ts = (t - datetime(1970, 1, 1)).total_seconds()
                if ts >= since - 0.002:
                    out.append((ts, m.group(3)))
    except OSError:
        pass
    return out


def link_gap_ms(world, guest, src, dst, since):
    """Source link down -> destination link up for GUEST's port, in ms, or
    None.

    HOOK for the handover: today this reads the switches' "port P: link
    down" / "link up" log records (millisecond timestamps, both switches on
    this machine's clock).  When the switches report the handover itself
    (e.g. dvport.show or a structured "handover" record with the time the
    state was shipped and applied), read that here instead."""
    port = world.port_name(guest)
    downs = [t for t, s in _link_events(world.switches[src].logpath, port, since) if s == "down"]
    ups = [t for t, s in _link_events(world.switches[dst].logpath, port, since) if s == "up"]
    if not downs or not ups:
        return None
    down = downs[0]
    after = [u for u in ups if u >= down - 0.002]
    return (after[0] - down) * 1000.0 if after else None


def stats(values):
    v = [x for x in values if x is not None]
    if not v:
        return "n/a"
    return "%.0f / %.0f / %.0f" % (min(v), statistics.median(v), max(v))


def run_case(twohost, case, n, memory):
    """N migrations of one guest; returns rows of measurements, or a reason
    string if the case cannot run."""
    w = twohost.World(with_manager=(case == "dvport"))
    nic = {"none": None, "plain": "plain", "dvport": "dvport"}[case]
    g = w.new_guest("bench-" + case, "02:d8:00:00:00:%02x" % (1 + len(case)),
                    ip="10.0.0.1/24" if nic else None, nic=nic, memory=memory)
    rows = []
    try:
        w.boot(g, "h1")
        for i in range(n):
            src = g.host.name
            dst = "h2" if src == "h1" else "h1"
            since = time.time()
            try:
                res = w.migrate(g, dst)
            except twohost.MigrationRefused as e:
                return "refused by the %s hook: %s" % (e.op, e.stderr.strip())
            if res.status != "completed":
                return "migration %d %s" % (i + 1, res.status)
            gap = None
            if nic:
                w.wait_link(dst, g, "up", timeout=20)
                gap = link_gap_ms(w, g, src, dst, since)
            rows.append((res.downtime_ms, res.total_ms, res.wall_s * 1000.0, gap))
            sys.stderr.write("  %s #%d %s->%s: downtime %s ms, total %s ms, link gap %s\n"
                             % (case, i + 1, src, dst, res.downtime_ms, res.total_ms,
                                "%.0f ms" % gap if gap is not None else "n/a"))
        return rows
    finally:
        if g.alive():
            w.shutdown(g)
        twohost.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=10, help="migrations per case (default 10)")
    ap.add_argument("--memory", type=int, default=128, help="guest RAM in MiB (default 128)")
    ap.add_argument("--cases", default="none,plain,dvport")
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (namespaces, vhost-user, DPDK)")
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    import buildenv  # noqa: E402
    buildenv.set_build_env(os.path.abspath(args.build))
    import twohost
    twohost.dvstest.guest_images()
    results = {}
    for case in args.cases.split(","):
        sys.stderr.write("%s: %d migrations, %d MiB guest\n" % (case, args.n, args.memory))
        results[case] = run_case(twohost, case, args.n, args.memory)
    print("\nlive migration, TCG guest %d MiB, %d migrations per case; min / median / max ms"
          % (args.memory, args.n))
    print("%-8s %-18s %-20s %-20s %-22s" % ("case", "QEMU downtime", "QEMU total-time",
                                            "driver wall time", "link down->up (logs)"))
    for case, rows in results.items():
        if isinstance(rows, str):
            print("%-8s not run: %s" % (case, rows))
            continue
        cols = list(zip(*rows))
        print("%-8s %-18s %-20s %-20s %-22s" % (case, stats(cols[0]), stats(cols[1]),
                                                stats(cols[2]), stats(cols[3])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
