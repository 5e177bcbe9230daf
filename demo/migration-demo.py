#!/usr/bin/env python3
"""The DVS story on one machine: a VM's port follows it through a live
migration.

  demo/migration-demo.py [--build DIR] [--migrations N]

It sets up dvsmgr and two "hosts", h1 and h2. Each host is a network and
mount namespace running its own dvs-switchd; a veth pair between them is
the physical network, and each switch's uplink is on it. A DVswitch
"prod" with port group "web" spans both hosts.

Guest A boots on h1 and guest B on h2, each on a DVport. A's port is shaped
at 50 Mbit/s. B pings A every 0.1 s, across the uplinks. A then
live-migrates to h2 and back (--migrations, default 2). Each move uses
QEMU's own migration, with the libvirt hook run on both hosts exactly as
libvirt runs it. Before and after each move the demo prints A's DVport as
the switches and the manager see it:

- where it runs;
- its counters, which continue;
- its learned MACs, which move with it;
- the shaper's state, which is kept;
- what the old host still holds (nothing);
- the pings lost.

Run as root after building (./dev.sh demo does both). Everything it starts
is stopped at the end, and on Ctrl-C.
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)

A = ("vm-a", "02:de:00:00:0a:01", "10.0.0.1")
B = ("vm-b", "02:de:00:00:0b:02", "10.0.0.2")


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def where(w, guest):
    """{host: dvport.show or None} for A's port on each host."""
    return {h: w.show(h, guest) if w.held(h, guest) is not None else None for h in w.hosts}


def show_port(w, guest, title):
    say("── %s " % title + "─" * max(0, 60 - len(title)))
    mgr = w.mgr.port(guest.port)
    say("  manager: DVport %s on host %s, link %s%s" % (
        guest.port, mgr["Host"], mgr["Link"],
        ", migrating to " + mgr["MigratingTo"] if mgr["MigratingTo"] else ""))
    for h, show in sorted(where(w, guest).items()):
        if show is None:
            say("  %s: holds nothing of the port" % h)
            continue
        st = show["stats"]
        drops = {k: v for k, v in st.get("drops", {}).items() if v}
        say("  %s: attached=%s link=%s connection=%s" % (
            h, show["attached"], show["link"], (show.get("connection") or {}).get("id", "-")))
        say("      rx %d packets %d bytes | tx %d packets %d bytes | held %d | drops %s" % (
            st["rx"]["packets"], st["rx"]["bytes"], st["tx"]["packets"], st["tx"]["bytes"],
            st.get("held", 0), json.dumps(drops) if drops else "none"))
        if show["attached"]:
            macs = [e["mac"] for e in w.switches[h].call("mac.dump", {"port": guest.port})["entries"]]
            say("      learned MACs: %s" % (", ".join(sorted(macs)) or "none"))
        if show.get("classes"):
            # The class states as dvs-switchctl decodes them: the learned
            # MACs saved with their ages, the shaper's bucket levels.
            out = w.switches[h].switchctl("dvport", "show", guest.port,
                                          "--switch", w.switch).stdout
            decoded = out[out.find("\nCLASS ") + 1:] if "\nCLASS " in out else ""
            for line in decoded.rstrip("\n").splitlines():
                say("      " + line if line else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"),
                    help="the meson build directory (default build/)")
    ap.add_argument("--migrations", type=int, default=2, help="moves of A (default 2)")
    args = ap.parse_args()
    sys.dont_write_bytecode = True
    sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
    import buildenv  # noqa: E402
    buildenv.set_build_env(os.path.abspath(args.build))
    import twohost  # noqa: E402

    if os.geteuid() != 0:
        sys.exit("migration-demo: run as root (namespaces, vhost-user, QEMU)")
    twohost.require()
    say("Setting up dvsmgr and hosts h1, h2 (namespaces, veth uplinks, dvs-switchd each)...")
    w = twohost.World()
    guests = []
    try:
        a = w.new_guest(A[0], A[1], ip=A[2] + "/24")
        b = w.new_guest(B[0], B[1], ip=B[2] + "/24")
        guests += [a, b]
        say("Booting guest A on h1 and guest B on h2 (TCG, ~5 s each)...")
        w.boot(a, "h1")
        w.boot(b, "h2")
        w.mgr.call(w.mgr.port_path(a.port), "net.dvsqemu.Port1", "SetConfig",
                   json.dumps({"policy": {"shaping": {"ingress": {"average_kbps": 50000,
                                                                  "burst_kbytes": 64}}}}))
        b.run("ping -c 3 -W 2 %s >/dev/null 2>&1; true" % A[2], timeout=30)
        say("B pings A every 0.1 s across the hosts' uplinks.")
        pinger = twohost.Pinger(b, A[2]).start()
        time.sleep(2.0)
        show_port(w, a, "A's DVport before the migration")
        for n in range(args.migrations):
            src = a.host.name
            dst = "h2" if src == "h1" else "h1"
            say()
            say(">>> live migration %d: A %s -> %s (hooks as libvirt runs them)" % (n + 1, src, dst))
            res = w.migrate(a, dst)
            w.wait_link(dst, a, "up", timeout=20)
            twohost.wait_until(lambda: w.held(src, a) is None, 15, "the old host to let go")
            twohost.wait_until(lambda: w.mgr.port(a.port)["Host"] == dst, 15, "the manager")
            time.sleep(1.0)
            say("    QEMU: %s, downtime %s ms, total %s ms" % (res.status, res.downtime_ms,
                                                              res.total_ms))
            show_port(w, a, "A's DVport after migration %d" % (n + 1))
        time.sleep(0.5)
        ps = pinger.stop()
        say()
        say("Pings B -> A: %d sent, %d answered, %d lost, largest gap %.0f ms" % (
            ps.sent, ps.received, ps.lost, ps.max_gap_s * 1000))
        say("The counters continued, the MACs and the shaper's state moved with the port,")
        say("and the old host holds nothing. Stopping everything.")
    finally:
        for g in guests:
            if g.alive():
                w.shutdown(g)
        twohost.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
