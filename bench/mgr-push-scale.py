#!/usr/bin/python3
"""dvsmgr push benchmark: one port-group change pushed to many hosts.

For each host count (default 10, 100, 1000) with the same DVports in total
(default 100,000, spread evenly over the hosts), this starts a private
dbus-daemon, a dvsmgr whose store was written beforehand (the DVswitch, its
port group, the hosts registered and joined, every DVport connected to a VM
with a unique MAC), and bench/host-sim simulating the hosts on the host
channel.  Once every host holds its first document, it calls
PortGroup1.SetConfig {"vlan": 123} and prints the time until the last host
received a document with that VLAN, the manager's peak and resident memory,
its CPU time, and how the time grows with the number of hosts.  It prints
figures; it asserts nothing.

Usage: bench/mgr-push-scale.py [--hosts 10,100,1000] [--ports 100000]
         [--switches 1] [-b BUILDDIR] [--keep] [--quick]
  --quick   10 and 100 hosts, 640 DVports (a smoke check, ~10 s)
  --switches S  every host joins S DVswitches, the DVports spread over them
            (one port group each); the change is on the first one's group.
Needs dbus-daemon and python3-dbus; builds nothing (meson/ninja first:
ninja -C BUILDDIR dvsmgr/core/dvsmgr bench/host-sim).
"""
import argparse
import json
import math
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid

try:
    import dbus
except ImportError:
    sys.exit("mgr-push-scale: needs the python3 dbus module (apt-get install python3-dbus); "
             "run it with /usr/bin/python3")

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUS_NAME = "net.dvsqemu.Manager1"
ROOT = "/net/dvsqemu/Manager1"
# One host holds at most this many DVports of a DVswitch: the host's
# document validator (DVS_MAX_PORTS, qemu-netdev-dvs/datapath/dp-types.h),
# which dvsmgr runs before every push.
HOST_PORT_LIMIT = 1024
NEW_VLAN = 123


class Failed(Exception):
    pass


def object_path(kind, ident):
    return "%s/%s/%s" % (ROOT, kind, ident.replace("-", "_"))


def write_store(path, n_hosts, n_ports, n_switches):
    """The store dvsmgr loads at start, row for row what its operations write
    (dvsmgr/core/mgr-model.c *_to_store, store/store-sqlite.c schema v2).
    Returns the port group UUID of the first DVswitch."""
    now = int(time.time() * 1e6)
    hosts = ["sim-%d" % i for i in range(n_hosts)]
    switches = []
    while len(switches) < n_switches:
        u = str(uuid.uuid4())
        if all(u[:8] != s[:8] for s in switches):   # port key prefixes differ
            switches.append(u)
    groups = [str(uuid.uuid4()) for _ in switches]
    rows = []
    counters = [0] * n_switches
    for i in range(n_ports):
        host = hosts[i % n_hosts]
        s = (i // n_hosts) % n_switches
        counters[s] += 1
        key = "%s-%d" % (switches[s][:8], counters[s])
        rows.append(("port", key, json.dumps({
            "switch": switches[s], "port_group": groups[s], "config": None,
            "host": host, "connection": str(uuid.uuid4()), "vm": str(uuid.uuid4()),
            "mac": "52:54:%02x:%02x:%02x:%02x" % (i >> 24 & 0xff, i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff),
            "interface": None}, separators=(",", ":")), now))
    for s, u in enumerate(switches):
        rows.append(("switch", u, json.dumps({
            "name": "bench%d" % s, "forwarding_class": "l2-learning", "mtu": 1500,
            "transport_zone": "", "hosts": hosts, "generation": 1 + counters[s],
            "next_port": counters[s] + 1}, separators=(",", ":")), now))
        rows.append(("portgroup", groups[s], json.dumps({
            "switch": u, "name": "pg", "config": {"vlan": 10}}, separators=(",", ":")), now))
    for h in hosts:
        rows.append(("host", h, json.dumps({
            "libvirt_uri": None, "uplinks": [], "transport_zones": ["tz1"], "last_seen": 0},
            separators=(",", ":")), now))
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE objects (kind TEXT, key TEXT, value TEXT NOT NULL, "
               "updated_us INTEGER NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID")
    db.executemany("INSERT INTO objects VALUES (?, ?, ?, ?)", rows)
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    return groups[0]


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                out[k] = int(v.split()[0]) / 1024.0     # MiB
    return out


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid):
    """Resets VmHWM to the current RSS (clear_refs 5); False if not allowed."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Lines:
    """A child's stdout, line by line, with timeouts."""

    def __init__(self, stream):
        self.q = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def wait_for(self, word, timeout, poll=None):
        """The fields of the next line starting with @word; @poll() runs about
        every second and may raise Failed."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise Failed("no '%s' within %.0f s" % (word, timeout))
            try:
                line = self.q.get(timeout=min(left, 1.0))
            except queue.Empty:
                if poll:
                    poll()
                continue
            if line is None:
                raise Failed("host-sim exited before '%s'" % word)
            if line.split()[0] == word:
                return line.split()[1:]


class Run:
    """One manager + simulator run; every process it starts is ended by close()."""

    def __init__(self, args, n_hosts):
        self.args = args
        self.n_hosts = n_hosts
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="dvs-push-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.bus = None

    def spawn(self, argv, **kw):
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def close(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                if p.stdin:
                    try:
                        p.stdin.write("quit\n")
                        p.stdin.flush()
                    except OSError:
                        pass
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
        if self.args.keep:
            print("  kept %s" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def mgr_call(self, path, iface, method, *a, timeout=120):
        obj = self.bus.get_object(BUS_NAME, path, introspect=False)
        return obj.get_dbus_method(method, iface)(*a, timeout=timeout)

    def out_of_sync_reasons(self):
        entries = json.loads(self.mgr_call(ROOT, BUS_NAME, "GetOutOfSync"))
        return [e.get("reason", "") for e in entries]

    def check_refused(self):
        refused = [r for r in self.out_of_sync_reasons() if "refuse" in r]
        if refused:
            raise Failed("the manager refuses to push to %d host(s): %s" % (len(refused), refused[0]))

    def measure(self):
        a, d, res = self.args, self.dir, {}
        per_host = math.ceil(a.ports / (self.n_hosts * a.switches))
        res["ports_per_host"] = a.ports / self.n_hosts
        if per_host > HOST_PORT_LIMIT:
            print("  note: %d DVports per host and DVswitch exceeds what a host holds (%d): "
                  "expect the manager to refuse the push" % (per_host, HOST_PORT_LIMIT))
        t = time.monotonic()
        pg = write_store(os.path.join(d, "mgr.db"), self.n_hosts, a.ports, a.switches)
        res["store_write_s"] = time.monotonic() - t

        daemon = self.spawn(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, text=True,
                            stderr=open(os.path.join(d, "dbus-daemon.log"), "w"))
        address = daemon.stdout.readline().strip()
        if not address:
            raise Failed("dbus-daemon did not print its address")
        self.bus = dbus.bus.BusConnection(address)

        log = open(os.path.join(d, "dvsmgr.log"), "w")
        t_start = time.monotonic()
        mgr = self.spawn([a.dvsmgr, "--bus", address, "--authorization", "none",
                          "--store", os.path.join(d, "mgr.db"),
                          "--host-socket", os.path.join(d, "hosts.sock")] + (["-v"] if a.verbose else []),
                         stdout=log, stderr=subprocess.STDOUT)
        self.mgr = mgr
        while not self.bus.name_has_owner(BUS_NAME):
            if mgr.poll() is not None:
                raise Failed("dvsmgr exited (%d); see %s" % (mgr.returncode, log.name))
            if time.monotonic() - t_start > a.timeout:
                raise Failed("dvsmgr not on the bus within %d s" % a.timeout)
            time.sleep(0.02)
        res["mgr_start_s"] = time.monotonic() - t_start
        res["rss_loaded"] = proc_status(mgr.pid)["VmRSS"]

        init_cpu0 = cpu_seconds(mgr.pid)
        t_sim = time.monotonic()
        sim = self.spawn([a.host_sim, "--socket", os.path.join(d, "hosts.sock"),
                          "--hosts", str(self.n_hosts), "--switches", str(a.switches)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=open(os.path.join(d, "host-sim.log"), "w"), text=True)
        self.sim = sim
        lines = Lines(sim.stdout)
        hello = float(lines.wait_for("hello-done", a.timeout)[1])
        res["hello_s"] = hello - t_sim
        sync = float(lines.wait_for("initial-sync", a.timeout, poll=self.check_refused)[1])
        res["initial_sync_s"] = sync - t_sim
        res["init_cpu_s"] = cpu_seconds(mgr.pid) - init_cpu0
        time.sleep(0.5)      # let the last replies of the initial sync land
        st = proc_status(mgr.pid)
        res["hwm_setup"] = st["VmHWM"]
        res["rss_before"] = st["VmRSS"]
        res["peak_reset"] = reset_peak(mgr.pid)

        sim.stdin.write("expect %d\n" % NEW_VLAN)
        sim.stdin.flush()
        cpu0, sim_cpu0 = cpu_seconds(mgr.pid), cpu_seconds(sim.pid)
        t0 = time.monotonic()
        self.mgr_call(object_path("portgroup", pg), "net.dvsqemu.PortGroup1", "SetConfig",
                      json.dumps({"vlan": NEW_VLAN}))
        res["set_config_s"] = time.monotonic() - t0
        try:
            conv = lines.wait_for("converged", a.timeout, poll=self.check_refused)
        except Failed as e:
            sim.stdin.write("status\n")
            sim.stdin.flush()
            status = " ".join(lines.wait_for("status", 10))
            reasons = self.out_of_sync_reasons()
            raise Failed("%s; host-sim: %s; dvsmgr out of sync: %d %s"
                         % (e, status, len(reasons), reasons[:3]))
        res["converge_s"] = float(conv[1]) - t0
        res["first_s"] = float(conv[2]) - t0
        res["median_s"] = float(conv[3]) - t0
        res["mgr_cpu_s"] = cpu_seconds(mgr.pid) - cpu0
        res["sim_cpu_s"] = cpu_seconds(sim.pid) - sim_cpu0
        # The manager's own view: every host acknowledged (nothing queued).
        deadline = time.monotonic() + 30
        while True:
            oos = int(self.mgr_call(ROOT, "org.freedesktop.DBus.Properties", "Get",
                                    BUS_NAME, "OutOfSyncCount"))
            if oos == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        res["out_of_sync_after"] = oos
        sim.stdin.write("status\n")
        sim.stdin.flush()
        status = dict(f.split("=", 1) for f in lines.wait_for("status", 10) if "=" in f)
        res["drops"] = int(status["drops"])
        res["heartbeat_failures"] = int(status["heartbeat_failures"])
        st = proc_status(mgr.pid)
        res["hwm_push"] = st["VmHWM"]
        res["rss_after"] = st["VmRSS"]
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hosts", default="10,100,1000", help="host counts, comma separated")
    ap.add_argument("--ports", type=int, default=100000, help="DVports in total (all connected)")
    ap.add_argument("--switches", type=int, default=1, help="DVswitches every host joins")
    ap.add_argument("-b", "--build", default=os.path.join(TOP, "build"), help="the meson build directory")
    ap.add_argument("--timeout", type=int, default=300, help="seconds any one phase may take")
    ap.add_argument("--quick", action="store_true", help="10 and 100 hosts, 640 DVports")
    ap.add_argument("--keep", action="store_true", help="keep each run's directory (logs, store)")
    ap.add_argument("-v", "--verbose", action="store_true", help="dvsmgr -v (debug logs in dvsmgr.log)")
    a = ap.parse_args()
    if a.quick:
        a.hosts, a.ports = "10,100", 640
    a.dvsmgr = os.path.join(a.build, "dvsmgr", "core", "dvsmgr")
    a.host_sim = os.path.join(a.build, "bench", "host-sim")
    for exe in (a.dvsmgr, a.host_sim):
        if not os.access(exe, os.X_OK):
            sys.exit("mgr-push-scale: %s not built (ninja -C %s dvsmgr/core/dvsmgr bench/host-sim)"
                     % (exe, a.build))
    if shutil.which("dbus-daemon") is None:
        sys.exit("mgr-push-scale: needs dbus-daemon (apt-get install dbus)")
    counts = [int(x) for x in a.hosts.split(",")]

    print("dvsmgr push benchmark: %d DVports in total, %d DVswitch(es), host counts %s"
          % (a.ports, a.switches, counts))
    results = {}
    for n in counts:
        print("-- %d hosts" % n, flush=True)
        run = Run(a, n)
        try:
            results[n] = run.measure()
            r = results[n]
            print("  store %.1f s, dvsmgr up %.2f s, hellos %.2f s, initial sync %.2f s (dvsmgr CPU %.2f s), "
                  "SetConfig returned in %.3f s; new VLAN at the first host %.3f s, "
                  "half of them %.3f s, all %.3f s"
                  % (r["store_write_s"], r["mgr_start_s"], r["hello_s"], r["initial_sync_s"],
                     r["init_cpu_s"], r["set_config_s"], r["first_s"], r["median_s"], r["converge_s"]), flush=True)
        except (Failed, dbus.exceptions.DBusException) as e:
            results[n] = {"error": str(e)}
            try:
                st = proc_status(run.mgr.pid)
                results[n]["rss_after"] = st["VmRSS"]
                results[n]["hwm_setup"] = st["VmHWM"]
            except (AttributeError, OSError):
                pass
            print("  failed: %s" % e, flush=True)
        finally:
            run.close()

    base = results.get(100, {}).get("converge_s")
    print()
    print("%7s %10s %10s %10s %9s %9s %10s %10s %9s %9s" % (
        "hosts", "ports/host", "init sync", "converge", "mgr cpu", "sim cpu",
        "peak MiB", "push peak", "RSS MiB", "vs 100"))
    for n in counts:
        r = results[n]
        if "error" in r:
            print("%7d %10s  failed: %s" % (n, "%g" % (a.ports / n), r["error"]))
            if "hwm_setup" in r:
                print("%7s %10s  (dvsmgr peak %.0f MiB, RSS %.0f MiB when it failed)"
                      % ("", "", r["hwm_setup"], r["rss_after"]))
            continue
        print("%7d %10g %9.2fs %9.3fs %8.2fs %8.2fs %10.0f %10s %9.0f %9s" % (
            n, r["ports_per_host"], r["initial_sync_s"], r["converge_s"], r["mgr_cpu_s"],
            r["sim_cpu_s"], max(r["hwm_setup"], r["hwm_push"]),
            "%.0f" % r["hwm_push"] if r["peak_reset"] else "-", r["rss_after"],
            "%.2fx" % (r["converge_s"] / base) if base else "-"))
        if r["drops"] or r["heartbeat_failures"]:
            print("%7s  warning: %d host connection(s) dropped, %d heartbeat(s) unanswered in time "
                  "(see host-sim.log with --keep)" % ("", r["drops"], r["heartbeat_failures"]))
        if r["out_of_sync_after"]:
            print("%7s  warning: the manager still counts %d out-of-sync target(s)"
                  % ("", r["out_of_sync_after"]))
    print()
    print("converge: SetConfig called -> the last host received the new VLAN; "
          "peak: dvsmgr's VmHWM over the run; push peak: its VmHWM during the push alone; "
          "mgr/sim cpu: CPU time during the push.")


if __name__ == "__main__":
    main()
