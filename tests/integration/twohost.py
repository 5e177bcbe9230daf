"""twohost: two "hosts" on this machine and a QMP-driven live migration
between them, for the live-migration tests and the downtime benchmark.

A host (Host) is a network namespace plus a mount and UTS namespace held
open by an anchor process (`sleep`), entered with `nsenter -t ANCHOR -m -u
-n`.  In its mount namespace /run/dvs is a private bind mount of
WORKDIR/NAME/run-dvs, so the paths a real host uses are per host while the
domain XML stays the same on both:

  /run/dvs/dvs0/control.sock   the host's dvs-switchd (the hook's default)
  /run/dvs/vhost/VM.sock       the vNIC's vhost-user socket (QEMU serves it)

From the root namespace the same files are WORKDIR/NAME/run-dvs/...  The
two hosts are joined by a veth pair, `phys0` in each, addressed 192.0.2.1
and 192.0.2.2/24 (TEST-NET-1: nothing outside the pair): QEMU's migration
stream goes over it and, once dvs-switchd has uplinks, the switches' uplinks
sit on it (`--uplink DVSWITCH=phys0`, see UPLINKS).

World puts the rest together: a private dbus-daemon and dvsmgr in the root
namespace, one dvs-switchd per host (its own CPU, state dir, DPDK file
prefix, control socket) connected to the manager over its unix host socket,
a DVswitch with a port group both hosts joined, and TCG guests (MigGuest)
whose vNIC is a DVport (hooks run as libvirt runs them) or a plain switch
port (port.add, no hooks; what the benchmark and the driver's own test use),
or no NIC at all.

World.migrate() is the driver: the destination hooks in libvirt's order
(migrate, prepare, start), the destination QEMU with -incoming, `started`,
`migrate` on the source's QMP, query-migrate until done (QEMU's downtime and
total time), the source QEMU quit, then the source's `stopped` and
`release` hooks.  kill_dest=True kills the destination QEMU during the RAM
copy and cleans up as libvirt does (destination `stopped`, `release`).

Everything started is ended (dvstest's bookkeeping for processes; the
namespaces, veth and directories by cleanup() here); every wait is bounded.

Environment (besides dvstest's and mgrtest's):
  DVS_LIBVIRT_HOOK  the hook binary (default build/libvirt-hooks/dvs)
  DVS_TEST_UPLINK   1/0: force whether dvs-switchd is given an uplink
                    (default: when its --help shows DVSWITCH=IFACE)
"""

import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import HarnessError, Proc, register_log, tail, unique, wait_until  # noqa: E402

HOOK = os.environ.get("DVS_LIBVIRT_HOOK") or os.path.join(dvstest.SRC_ROOT,
                                                          "build/libvirt-hooks/dvs")
NET_PREFIX = "192.0.2."
IN_HOST_RUN_DVS = "/run/dvs"
IN_HOST_CONTROL = "/run/dvs/dvs0/control.sock"


class MigrationRefused(Exception):
    """A hook refused the migration (libvirt would cancel it here)."""

    def __init__(self, host, op, rc, stderr):
        super().__init__("%s hook %s exited %d: %s" % (host, op, rc, stderr.strip()))
        self.host, self.op, self.rc, self.stderr = host, op, rc, stderr


# --------------------------------------------------------------------------
# Namespaces and the veth "physical network"

_netns = []      # names to delete
_links = []      # root-namespace veth names to delete if still there
_dirs = []       # mount points this harness created (rmdir'd if empty)


def _ip(*args, check=True):
    cp = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=20,
                        stdin=subprocess.DEVNULL)
    if check and cp.returncode != 0:
        raise HarnessError("ip %s: %s" % (" ".join(args), cp.stderr.strip()))
    return cp


def cleanup_namespaces():
    for name in list(_links):
        _ip("link", "del", name, check=False)
        _links.remove(name)
    for ns in list(_netns):
        _ip("netns", "del", ns, check=False)
        _netns.remove(ns)
    for d in list(_dirs):
        try:
            os.rmdir(d)
        except OSError:
            pass
        _dirs.remove(d)


_cleanups = []   # callables run before the processes are ended (libvirt2)


def on_cleanup(fn):
    """FN() runs at cleanup, before dvstest ends the processes it started:
    for processes the harness did not start itself (QEMU under libvirtd)."""
    _cleanups.append(fn)


def cleanup(graceful=True):
    """Processes first (their namespaces go with them), then the names."""
    for fn in list(_cleanups):
        try:
            fn()
        except Exception as e:  # cleanup goes on whatever one step says
            sys.stderr.write("twohost: cleanup step failed: %s\n" % e)
    dvstest.cleanup(graceful)
    cleanup_namespaces()


atexit.register(cleanup_namespaces)   # runs before dvstest's (LIFO): names only


def _on_signal(signum, frame):
    cleanup(graceful=False)
    os._exit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def ensure_dir(path):
    """mkdir -p PATH, remembering the directories made (mount points)."""
    missing = []
    p = path
    while not os.path.isdir(p):
        missing.append(p)
        p = os.path.dirname(p)
    for d in reversed(missing):
        os.mkdir(d)
        _dirs.insert(0, d)


class Host:
    """A simulated host: netns + mount/UTS namespace (see the module doc).

    BINDS: extra (host-view path, tree-relative dir or file) private bind
    mounts (libvirt2 adds libvirt's directories)."""

    def __init__(self, workdir, name, index, binds=()):
        self.name = name
        self.index = index
        self.ip = NET_PREFIX + str(index)
        self.netns = unique("dvs%s-" % name)
        self.root = os.path.join(workdir, name)
        self.run_dvs = os.path.join(self.root, "run-dvs")
        os.makedirs(os.path.join(self.run_dvs, "vhost"), exist_ok=True)
        os.makedirs(os.path.join(self.run_dvs, "dvs0"), exist_ok=True)
        self.binds = [(IN_HOST_RUN_DVS, self.run_dvs)] + [
            (d, os.path.join(self.root, rel)) for d, rel in binds]
        self.control = os.path.join(self.run_dvs, "dvs0", "control.sock")
        self.anchor = None
        self.pid = None

    def outside(self, in_host_path):
        """The root-namespace path of a path under /run/dvs in the host."""
        assert in_host_path.startswith(IN_HOST_RUN_DVS + "/"), in_host_path
        return self.run_dvs + in_host_path[len(IN_HOST_RUN_DVS):]

    def start(self, timeout=20):
        _ip("netns", "add", self.netns)
        _netns.append(self.netns)
        for target, src in self.binds:
            if not os.path.isfile(src):
                os.makedirs(src, exist_ok=True)
            if not os.path.exists(target):
                ensure_dir(target)
        script = "set -e\n" + "".join("mount --bind '%s' '%s'\n" % (src, target)
                                      for target, src in self.binds) + \
            "hostname '%s'\nip link set lo up\necho ANCHOR $$\nexec sleep 2147483647\n" % self.name
        self.anchor = Proc("host %s anchor" % self.name,
                           ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--uts",
                            "--propagation", "private", "sh", "-c", script],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        import select
        ready, _, _ = select.select([self.anchor.popen.stdout], [], [], timeout)
        line = self.anchor.popen.stdout.readline().decode(errors="replace") if ready else ""
        m = re.match(r"ANCHOR (\d+)", line)
        if not m:
            rest = line
            if self.anchor._exited():
                rest += self.anchor.popen.stdout.read().decode(errors="replace")
            raise HarnessError("host %s: namespace set-up failed: %s" % (self.name, rest.strip()))
        self.pid = int(m.group(1))
        return self

    def enter(self, argv):
        """ARGV run inside this host's namespaces."""
        return ["nsenter", "-t", str(self.pid), "-m", "-u", "-n", "--"] + list(argv)

    def run(self, argv, check=True, timeout=30, **kw):
        cp = subprocess.run(self.enter(argv), capture_output=True, text=True, timeout=timeout,
                            stdin=kw.pop("stdin", subprocess.DEVNULL), **kw)
        if check and cp.returncode != 0:
            raise HarnessError("%s: %s: exit %d: %s" % (self.name, " ".join(argv),
                                                        cp.returncode, cp.stderr.strip()))
        return cp


def _veth(h1, h2, name, addressed):
    a = unique("dvv")[:11] + "a"
    b = a[:-1] + "b"
    _ip("link", "add", a, "type", "veth", "peer", "name", b)
    _links.extend([a, b])
    for dev, h in ((a, h1), (b, h2)):
        _ip("link", "set", dev, "netns", h.netns)
        _links.remove(dev)
        _ip("-n", h.netns, "link", "set", dev, "name", name)
        if addressed:
            _ip("-n", h.netns, "addr", "add", h.ip + "/24", "dev", name)
        _ip("-n", h.netns, "link", "set", name, "up")


def join_hosts(h1, h2):
    """Two veth pairs between two started hosts: phys0 (the VM network: the
    switches' uplinks, no addresses) and mig0 (the hosts' own network,
    addressed: QEMU's migration stream).  Kept apart so that the migration
    stream never reaches a switch's uplink, where frames for the other
    host's kernel would be unknown unicast flooded to the guests."""
    _veth(h1, h2, "phys0", False)
    _veth(h1, h2, "mig0", True)


# --------------------------------------------------------------------------
# dvs-switchd inside a host

class HostSwitch(dvstest.Switch):
    """dvs-switchd run inside HOST, its control socket at the host's
    /run/dvs/dvs0/control.sock (HOST.control from outside)."""

    def __init__(self, host, workdir, cpu, extra_args=()):
        super().__init__(workdir, extra_args=extra_args, name="%s-%d" % (host.name, os.getpid()))
        self.host = host
        self.cpu = cpu
        self.control = host.control

    def start(self, timeout=30):
        if not os.access(dvstest.SWITCHD, os.X_OK):
            raise HarnessError("dvs-switchd not found at %s (set DVS_SWITCHD)" % dvstest.SWITCHD)
        argv = self.host.enter([dvstest.SWITCHD, "--name", self.name, "--control-socket",
                                self.control, "--state-dir", self.state_dir,
                                "--cpu", str(self.cpu)] + self.extra_args)
        log = open(self.logpath, "ab")
        register_log("dvs-switchd %s" % self.host.name, self.logpath)
        self.proc = Proc("dvs-switchd " + self.host.name, argv, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log)
        log.close()
        dvstest._dpdk_prefixes.append("dvs-%s-%d" % (self.name, self.proc.pid))

        def ready():
            if not self.proc.alive():
                raise HarnessError("dvs-switchd on %s exited during start-up:\n%s"
                                   % (self.host.name, tail(self.logpath)))
            try:
                rpc = dvstest.RpcClient(self.control)
                rpc.call("switch.show")
            except (OSError, HarnessError):
                return False
            self._rpc = rpc
            return True
        wait_until(ready, timeout, "dvs-switchd on %s" % self.host.name)
        return self


# --------------------------------------------------------------------------
# QMP

class Qmp:
    """A QMP client on a unix socket: one command at a time, events kept."""

    def __init__(self, path, timeout=10):
        self.path = path
        self.events = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self._buf = b""
        # QEMU answers once its main loop runs (after a vhost-user NIC's
        # back-end has connected).
        greeting = self._read(timeout)
        if "QMP" not in greeting:
            raise HarnessError("QMP %s: no greeting: %r" % (path, greeting))
        self.cmd("qmp_capabilities")

    def _read(self, timeout=10):
        self.sock.settimeout(timeout)
        while b"\n" not in self._buf:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise HarnessError("QMP %s: no answer within %ss" % (self.path, timeout))
            if not data:
                raise HarnessError("QMP %s: connection closed" % self.path)
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, args=None, timeout=10):
        req = {"execute": name}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        deadline = time.monotonic() + timeout
        while True:
            msg = self._read(max(0.1, deadline - time.monotonic()))
            if "event" in msg:
                self.events.append(msg)
                continue
            if "error" in msg:
                raise HarnessError("QMP %s: %s" % (name, msg["error"]))
            return msg.get("return")

    def close(self):
        self.sock.close()


def connect_qmp(path, proc, timeout):
    def ok():
        if not proc.alive():
            raise HarnessError("QEMU exited before its QMP socket %s was ready" % path)
        try:
            return Qmp(path, timeout=max(1.0, deadline - time.monotonic()))
        except OSError:
            return None
    deadline = time.monotonic() + timeout
    return wait_until(ok, timeout, "QMP socket %s" % path, interval=0.05)


# --------------------------------------------------------------------------
# Guests

class MigGuest(dvstest.Guest):
    """A TCG test guest that can move between hosts.  NIC is "dvport" (a
    vhost-user vNIC on a DVport, hooks run), "plain" (a vhost-user vNIC on a
    plain switch port added with port.add, no hooks) or None (no NIC: the
    guest's /init reports DVS-FAILED after 10 s and idles; enough to
    migrate)."""

    def __init__(self, world, name, mac, ip=None, nic="dvport", memory=128):
        self.world = world
        self.vm_uuid = str(uuid.uuid4())
        self.nic = nic
        self.in_host_sock = "%s/vhost/%s.sock" % (IN_HOST_RUN_DVS, name)
        super().__init__(world.tmp, name, self.in_host_sock, mac, ip=ip, memory=memory)
        self.host = None
        self.qmp = None
        self.incoming = None
        self.port = None        # DVport key (nic == "dvport")
        self.conn = None        # its connection ID

    def argv(self):
        kernel, initrd = dvstest.guest_images()
        append = "console=ttyS0 quiet loglevel=1 panic=-1 dvs.name=%s dvs.mac=%s" % (
            self.name, self.mac)
        if self.ip:
            append += " dvs.ip=" + self.ip
        argv = [dvstest.QEMU, "-accel", "tcg", "-nodefaults", "-no-user-config",
                "-display", "none", "-no-reboot", "-smp", "1", "-m", "%dM" % self.memory,
                "-object", "memory-backend-memfd,id=mem,size=%dM,share=on" % self.memory,
                "-numa", "node,memdev=mem",
                "-kernel", kernel, "-initrd", initrd, "-append", append,
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-chardev", "stdio,id=ser0,signal=off", "-serial", "chardev:ser0"]
        if self.nic:
            argv += ["-chardev", "socket,id=c0,path=%s,server=on,wait=off" % self.sock,
                     "-netdev", "vhost-user,id=n0,chardev=c0",
                     "-device", "virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=" + self.mac]
        if self.incoming:
            argv += ["-incoming", self.incoming]
        return self.host.enter(argv)

    def launch(self, host, incoming=None, timeout=60):
        """Start QEMU on HOST (blocks in QEMU until the switch connects to a
        vhost-user NIC); returns once QMP answers."""
        self.host = host
        self.incoming = incoming
        self.qmp_path = os.path.join(self.world.tmp, unique("qmp-%s-" % self.name) + ".sock")
        self.logpath = os.path.join(self.world.tmp, "%s.console.log" % unique(self.name + "-"))
        self.start()
        self.qmp = connect_qmp(self.qmp_path, self.proc, timeout)
        return self

    def status(self):
        return self.qmp.cmd("query-status")["status"]

    def quit(self, timeout=15):
        """QMP quit (as libvirt ends a migrated-away source), then reaped."""
        try:
            self.qmp.cmd("quit")
        except (HarnessError, OSError):
            pass
        self.qmp.close()
        if self.proc.wait(timeout) is None:
            self.proc.kill()

    def wait_up(self, timeout=180):
        """Boot done: the ready line (or, without a NIC, the failure line)."""
        if self.nic:
            return self.wait_ready(timeout)
        self.out.wait_for(r"^DVS-(READY|FAILED)[^\n]*\n", 0, timeout, "guest %s to boot" % self.name)
        return self

    def domain_xml(self):
        """The libvirt domain XML the hooks read (the same on every host)."""
        w = self.world
        return """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>%(name)s</name>
  <uuid>%(uuid)s</uuid>
  <metadata>
    <dvs:ports xmlns:dvs="https://dvsqemu.net/xmlns/libvirt/1">
      <dvs:port mac="%(mac)s" switch="%(switch)s" port="%(port)s" connection="%(conn)s" portgroup="web"/>
    </dvs:ports>
  </metadata>
  <memory unit='MiB'>%(mem)d</memory>
  <memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>
  <devices>
    <interface type='vhostuser'>
      <mac address='%(mac)s'/>
      <source type='unix' path='%(sock)s' mode='server'/>
      <model type='virtio'/>
      <alias name='ua-dvs0'/>
    </interface>
  </devices>
</domain>
""" % {"name": self.name, "uuid": self.vm_uuid, "mac": self.mac, "switch": w.switch,
       "port": self.port, "conn": self.conn, "mem": self.memory, "sock": self.in_host_sock}


# --------------------------------------------------------------------------
# Ping from a guest, read from its console

class PingStats:
    def __init__(self, seqs, sent, interval):
        self.seqs = sorted(set(seqs))
        self.sent = sent
        self.interval = interval
        last = self.seqs[-1] if self.seqs else -1
        # Lost: requests with no reply among those sent up to the last
        # answered one (the ones still in flight at the stop do not count).
        self.lost = len([s for s in range(0, last + 1) if s not in set(self.seqs)])
        gaps = [b - a for a, b in zip(self.seqs, self.seqs[1:])]
        self.max_gap_s = (max(gaps) if gaps else 0) * interval
        self.received = len(self.seqs)

    def __repr__(self):
        return "ping: %d sent, %d answered, %d lost, largest gap %.0f ms" % (
            self.sent, self.received, self.lost, self.max_gap_s * 1000)


class Pinger:
    """GUEST pings TARGET_IP in the background (busybox ping -i INTERVAL);
    stop() ends it and returns PingStats from the sequence numbers."""

    def __init__(self, guest, target_ip, interval=0.1):
        self.guest, self.target, self.interval = guest, target_ip, interval
        self.log = "/tmp/%s.log" % unique("ping")

    def start(self):
        rc, out = self.guest.run("ping -i %s %s >%s 2>&1 & echo $! >/tmp/ping.pid"
                                 % (self.interval, self.target, self.log), timeout=30)
        if rc != 0:
            raise HarnessError("cannot start ping in %s: %s" % (self.guest.name, out))
        return self

    def stop(self):
        self.guest.run("kill -INT $(cat /tmp/ping.pid); sleep 0.3", timeout=30)
        rc, out = self.guest.run(
            "sed -n 's/.*seq=\\([0-9]*\\).*/\\1/p' %s | tr '\\n' ' '; echo; "
            "grep 'packets transmitted' %s; rm -f %s" % (self.log, self.log, self.log),
            timeout=60)
        # first line: the sequence numbers answered (empty when none was)
        lines = out.lstrip("\r\n").splitlines()
        first = lines[0] if lines and "packets transmitted" not in lines[0] else ""
        seqs = [int(s) for s in first.split() if s.isdigit()]
        m = re.search(r"(\d+) packets transmitted", out)
        return PingStats(seqs, int(m.group(1)) if m else 0, self.interval)


# --------------------------------------------------------------------------
# The world: manager, two hosts, their switches

class MigrationResult:
    def __init__(self):
        self.status = None
        self.downtime_ms = None
        self.total_ms = None
        self.setup_ms = None
        self.wall_s = None
        self.hooks = []         # (host, op, sub, rc, ms)
        self.killed = False

    def __repr__(self):
        return "migration %s: downtime %s ms, total %s ms" % (
            self.status, self.downtime_ms, self.total_ms)


class World:
    """dvsmgr + hosts h1/h2 (namespaces, veth, dvs-switchd each) + a
    DVswitch "prod" with port group "web" of PORTS ports, both hosts
    joined.  with_manager=False: switches standalone (plain ports only)."""

    def __init__(self, with_manager=True, ports=4, host_binds=(), host_config=None):
        """HOST_CONFIG(host): the config each host is registered with in
        dvsmgr (e.g. {"libvirt_uri": ...}); None: none."""
        self.tmp = dvstest.tempdir()
        self.with_manager = with_manager
        self.hosts = {}
        self.switches = {}
        self.hook_log = []          # every hook run: (host, op, sub, rc)
        self._port_n = 0
        self._mig_port = 4444
        self.mgr = None
        self.switch = None
        h1 = Host(self.tmp, "h1", 1, host_binds).start()
        h2 = Host(self.tmp, "h2", 2, host_binds).start()
        join_hosts(h1, h2)
        self.hosts = {"h1": h1, "h2": h2}
        extra = {}
        if with_manager:
            self.bus = mgrtest.Bus(self.tmp)
            self.mgr = mgrtest.Manager(self.tmp, self.bus, authorization="none").start()
            for name, h in self.hosts.items():
                if host_config:
                    self.mgr.register_host(name, host_config(h))
                else:
                    self.mgr.register_host(name)
            self.sw_path, self.switch = self.mgr.create_switch("prod", {"transport_zone": "tz1"})
            self.pg_path, self.pg = self.mgr.add_port_group(self.sw_path, "web", {"vlan": 0}, ports)
            for h in self.hosts:
                extra[h] = ["--manager", "unix:" + self.mgr.host_socket, "--host-name", h,
                            "--transport-zone", "tz1"]
                extra[h] += ["--uplink", "%s=phys0" % self.switch]
        for i, (name, h) in enumerate(self.hosts.items()):
            self.switches[name] = HostSwitch(h, self.tmp, cpu=i % max(1, os.cpu_count() or 1),
                                             extra_args=extra.get(name, ())).start()
        if with_manager:
            for h in self.hosts:
                self.mgr.wait_connected(h)
                self.mgr.join(self.sw_path, h)
            self.mgr.wait_in_sync(list(self.hosts))
            self.free_ports = self.mgr.ports_of(self.pg)

    # -- hooks ---------------------------------------------------------------
    def hook(self, host, guest, op, sub, check=True):
        """Run the hook on HOST as libvirt does: `dvs VM OP SUB -`, the
        domain XML on stdin, a minimal environment.  Returns (rc, stderr, ms)."""
        env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
               "HOME": os.environ.get("HOME", "/root")}   # what libvirtd passes
        t0 = time.monotonic()
        cp = subprocess.run(host.enter([HOOK, guest.name, op, sub, "-"]),
                            input=guest.domain_xml(), capture_output=True, text=True,
                            timeout=30, env=env)
        ms = (time.monotonic() - t0) * 1000.0
        self.hook_log.append((host.name, op, sub, cp.returncode))
        if check and cp.returncode != 0:
            raise MigrationRefused(host.name, op, cp.returncode, cp.stderr)
        return cp.returncode, cp.stderr, ms

    # -- guests ----------------------------------------------------------------
    def new_guest(self, name, mac, ip=None, nic="dvport", memory=128):
        g = MigGuest(self, name, mac, ip=ip, nic=nic, memory=memory)
        return g

    def connect_port(self, guest, host):
        """Allocate a DVport of the group for GUEST and connect it on HOST."""
        guest.port = self.free_ports.pop(0)
        guest.conn = self.mgr.connect(guest.port, host.name, guest.vm_uuid, guest.mac, "ua-dvs0")
        self.mgr.wait_in_sync(list(self.hosts))

    def port_name(self, guest):
        return guest.port if guest.nic == "dvport" else guest.name

    def add_plain_port(self, host, guest):
        sw = self.switches[host.name]
        try:
            sw.call("port.add", {"name": guest.name,
                                 "socket": host.outside(guest.in_host_sock)})
        except dvstest.RpcError as e:
            if "exists" not in str(e) and e.code != -32001:
                raise

    def boot(self, guest, host_name, timeout=180):
        """Start GUEST on HOST_NAME as libvirt would (prepare, start, QEMU,
        started) and wait until it is up (and its link, with a NIC)."""
        host = self.hosts[host_name]
        if guest.nic == "dvport":
            if guest.port is None:
                self.connect_port(guest, host)
            for op in ("prepare", "start"):
                self.hook(host, guest, op, "begin")
        elif guest.nic == "plain":
            self.add_plain_port(host, guest)
        guest.launch(host)
        if guest.nic == "dvport":
            self.hook(host, guest, "started", "begin")
        guest.wait_up(timeout)
        if guest.nic:
            self.wait_link(host_name, guest, "up")
        return guest

    def shutdown(self, guest):
        """QEMU ended, then stopped/release as libvirt runs them."""
        guest.quit()
        if guest.nic == "dvport":
            for op in ("stopped", "release"):
                self.hook(guest.host, guest, op, "end", check=False)

    def show(self, host_name, guest):
        """dvport.show (or port.show of a plain port) on HOST_NAME."""
        sw = self.switches[host_name]
        if guest.nic == "dvport":
            return sw.call("dvport.show", {"switch": self.switch, "port": guest.port})
        return sw.port_show(guest.name)

    def link(self, host_name, guest):
        try:
            return self.show(host_name, guest)["link"]
        except dvstest.RpcError:
            return None

    def wait_link(self, host_name, guest, state, timeout=30):
        wait_until(lambda: self.link(host_name, guest) == state, timeout,
                   "%s's link %s on %s" % (guest.name, state, host_name), interval=0.05)

    def held(self, host_name, guest):
        """What HOST_NAME holds of GUEST's DVport: None when nothing."""
        doc = mgrtest.held_switch(self.switches[host_name], self.switch)
        if doc is None:
            return None
        for p in doc.get("ports", []):
            if p.get("key") == guest.port:
                return p
        return None

    # -- migration -------------------------------------------------------------
    def migrate(self, guest, dest_name, kill_dest=False, timeout=120, bandwidth=None,
                on_phase=None):
        """Live-migrate GUEST to DEST_NAME (see the module doc).  Raises
        MigrationRefused if a destination hook refuses (nothing started).
        KILL_DEST: SIGKILL the destination QEMU once RAM copy has started
        (a bandwidth cap, 16 MiB/s unless BANDWIDTH, keeps it copying long
        enough), then the destination's stopped/release hooks; the guest
        stays on the source.  ON_PHASE(name) is called at "dest-started",
        "switch-over" (completed) and "source-stopped" for tests that look
        in between."""
        res = MigrationResult()
        src, dst = guest.host, self.hosts[dest_name]
        if src is dst:
            raise ValueError("%s is already on %s" % (guest.name, dest_name))
        t0 = time.monotonic()
        dvport = guest.nic == "dvport"

        def hook(host, op, sub, check=True):
            rc, err, ms = self.hook(host, guest, op, sub, check)
            res.hooks.append((host.name, op, sub, rc, ms))
        if dvport:
            hook(dst, "migrate", "begin")
            hook(dst, "prepare", "begin")
            hook(dst, "start", "begin")
        elif guest.nic == "plain":
            self.add_plain_port(dst, guest)
        self._mig_port += 1
        uri = "tcp:%s:%d" % (dst.ip, self._mig_port)
        incoming = MigGuest(self, guest.name, guest.mac, ip=guest.ip, nic=guest.nic,
                            memory=guest.memory)
        incoming.vm_uuid, incoming.port, incoming.conn = guest.vm_uuid, guest.port, guest.conn
        try:
            incoming.launch(dst, incoming="tcp:0.0.0.0:%d" % self._mig_port)
        except HarnessError:
            if dvport:
                for op in ("stopped", "release"):
                    hook(dst, op, "end", check=False)
            raise
        if dvport:
            hook(dst, "started", "begin")
        if on_phase:
            on_phase("dest-started")
        q = guest.qmp
        caps = [{"capability": "events", "state": True}]
        q.cmd("migrate-set-capabilities", {"capabilities": caps})
        if kill_dest or bandwidth:
            q.cmd("migrate-set-parameters", {"max-bandwidth": bandwidth or 16 << 20})
        # A QEMU that came in by migration reports that incoming migration
        # ("completed") until the new one starts: only a status seen after
        # this migration's own MIGRATION event counts.  The incoming
        # migration's events may still be unread: a round trip first reads
        # them (QMP sends events in order, before the answer).
        q.cmd("query-status")
        q.events = []
        q.cmd("migrate", {"uri": uri})
        deadline = time.monotonic() + timeout
        info = {}
        while True:
            info = q.cmd("query-migrate")
            st = info.get("status")
            if not any(e.get("event") == "MIGRATION" and e["data"]["status"] != "none"
                       for e in q.events):
                st = None
            if kill_dest and not res.killed and st == "active" and \
                    info.get("ram", {}).get("transferred", 0) > 0:
                incoming.proc.kill()
                res.killed = True
            if st in ("completed", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                q.cmd("migrate_cancel")
                raise HarnessError("migration of %s not done after %ss: %r"
                                   % (guest.name, timeout, info))
            time.sleep(0.02)
        res.status = info.get("status")
        res.downtime_ms = info.get("downtime")
        res.total_ms = info.get("total-time")
        res.setup_ms = info.get("setup-time")
        if kill_dest or bandwidth:
            q.cmd("migrate-set-parameters", {"max-bandwidth": 128 << 20})
        if res.status != "completed":
            # libvirt: the destination domain is gone; its hooks run.
            if incoming.proc.alive():
                incoming.proc.kill()
            try:
                incoming.qmp.close()
            except OSError:
                pass
            if dvport:
                hook(dst, "stopped", "end", check=False)
                hook(dst, "release", "end", check=False)
            elif guest.nic == "plain":
                self.switches[dst.name].call("port.remove", {"name": guest.name})
            res.wall_s = time.monotonic() - t0
            return res
        if on_phase:
            on_phase("switch-over")
        # The destination runs the guest now (it was not started with -S).
        wait_until(lambda: incoming.status() == "running", 20,
                   "%s running on %s" % (guest.name, dst.name), interval=0.02)
        old = guest.proc, guest.qmp
        guest.quit()
        if dvport:
            hook(src, "stopped", "end", check=False)
            hook(src, "release", "end", check=False)
        elif guest.nic == "plain":
            self.switches[src.name].call("port.remove", {"name": guest.name})
        if on_phase:
            on_phase("source-stopped")
        # GUEST now stands for the QEMU on the destination.
        guest.host, guest.proc, guest.qmp, guest.out = dst, incoming.proc, incoming.qmp, incoming.out
        guest.qmp_path, guest.logpath, guest._pos = incoming.qmp_path, incoming.logpath, 0
        del old
        res.wall_s = time.monotonic() - t0
        return res


# --------------------------------------------------------------------------
# Requirements and main

def require(manager=True, hook=True):
    dvstest.require_root()
    for tool in ("ip", "nsenter", "unshare", "mount"):
        if shutil.which(tool) is None:
            raise unittest.SkipTest("%s is not installed (Debian iproute2, util-linux)" % tool)
    if manager:
        mgrtest.require()
    if hook and not os.access(HOOK, os.X_OK):
        raise HarnessError("the hook is not at %s (build it, or set DVS_LIBVIRT_HOOK)" % HOOK)
    dvstest.guest_images()


def main():
    """dvstest.main(), except that the namespaces are removed after the
    processes."""
    verbosity = int(os.environ.get("DVS_TEST_VERBOSE", "1"))
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=verbosity,
                                     resultclass=dvstest._Result)
    prog = unittest.main(module="__main__", testRunner=runner, exit=False)
    res = prog.result
    gaps = [r for _, r in res.skipped]
    if not res.wasSuccessful():
        rc = 1
    elif gaps and os.environ.get("DVS_REQUIRE_INTEGRATION") == "1":
        sys.stderr.write("DVS_REQUIRE_INTEGRATION=1 and %d test(s) skipped: %s\n"
                         % (len(gaps), "; ".join(gaps)))
        rc = 1
    elif res.skipped and (res.testsRun == 0 or len(res.skipped) >= res.testsRun):
        rc = 77
    else:
        rc = 0
    cleanup()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
