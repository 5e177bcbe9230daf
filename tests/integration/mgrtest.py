"""mgrtest: the management plane's pieces for integration tests, on top of
dvstest's process bookkeeping (every process ended, every wait bounded).

* Bus: a private dbus-daemon (the tests' "system bus").
* Polkit: python3-dbusmock's polkitd template on that bus, whose allowed
  actions a test sets (SetAllowed), so authorization goes through a real
  CheckAuthorization call.
* Pki: a CA, the manager's certificate and per-host certificates, made with
  the openssl CLI; plus a rogue CA for wrong-certificate tests.
* Manager: dvsmgr on the private bus with a SQLite store in the test dir,
  a host socket and a TLS listener; a small D-Bus client (dbus-python) with
  helpers for each object kind.
* Host: a dvs-switchd (dvstest.Switch) started with --manager.

Environment: DVS_DVSMGR (default build/dvsmgr/core/dvsmgr).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import HarnessError, Proc, register_log, tail, wait_until  # noqa: E402

try:
    import dbus  # python3-dbus
except ImportError:  # pragma: no cover - dev.sh installs it
    dbus = None

DVSMGR = os.environ.get("DVS_DVSMGR") or os.path.join(dvstest.SRC_ROOT, "build/dvsmgr/core/dvsmgr")
DVSCTL = os.environ.get("DVS_DVSCTL") or os.path.join(dvstest.SRC_ROOT, "build/dvsmgr/dvsctl/dvsctl")
BUS_NAME = "net.dvsqemu.Manager1"
ROOT = "/net/dvsqemu/Manager1"
IFACE = "net.dvsqemu."
ACTIONS = ["net.dvsqemu.configure", "net.dvsqemu.connect", "net.dvsqemu.hosts"]


def require():
    """Skip (unittest) when something the tests need is missing."""
    import unittest
    dvstest.require_root()
    if dbus is None:
        raise unittest.SkipTest("python3-dbus is not installed")
    for tool in ("dbus-daemon", "openssl"):
        if not _which(tool):
            raise unittest.SkipTest("%s is not installed" % tool)
    if not os.access(DVSMGR, os.X_OK):
        raise HarnessError("dvsmgr not found at %s (build it, or set DVS_DVSMGR)" % DVSMGR)


def _which(tool):
    import shutil
    return shutil.which(tool)


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Bus:
    """A private dbus-daemon with the session configuration."""

    def __init__(self, workdir):
        import select
        self.logpath = os.path.join(workdir, "dbus-daemon.log")
        log = open(self.logpath, "ab")
        self.proc = Proc("dbus-daemon", ["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                         "--print-address"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        log.close()
        ready, _, _ = select.select([self.proc.popen.stdout], [], [], 10)
        line = self.proc.popen.stdout.readline().decode().strip() if ready else ""
        if not line:
            raise HarnessError("dbus-daemon printed no address")
        self.address = line
        self._conn = None

    def conn(self):
        if self._conn is None:
            self._conn = dbus.bus.BusConnection(self.address)
        return self._conn


class Polkit:
    """dbusmock's polkitd on BUS; nothing allowed until allow()."""

    def __init__(self, bus, workdir):
        self.bus = bus
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        self.logpath = os.path.join(workdir, "polkitd-mock.log")
        log = open(self.logpath, "ab")
        register_log("polkitd mock", self.logpath)
        self.proc = Proc("polkitd mock", [sys.executable, "-m", "dbusmock", "--system",
                                          "--template", "polkitd"],
                         stdout=log, stderr=log, env=env)
        log.close()
        wait_until(lambda: bus.conn().name_has_owner("org.freedesktop.PolicyKit1"), 20,
                   "the polkitd mock on the bus")
        self.mock = dbus.Interface(bus.conn().get_object("org.freedesktop.PolicyKit1",
                                                         "/org/freedesktop/PolicyKit1/Authority"),
                                   "org.freedesktop.DBus.Mock")

    def allow(self, actions):
        self.mock.SetAllowed(dbus.Array(actions, signature="s"))


class Pki:
    """A CA plus certificates (EC P-256, openssl CLI)."""

    def __init__(self, workdir, name="ca"):
        self.dir = os.path.join(workdir, "pki-" + name)
        os.makedirs(self.dir, exist_ok=True)
        self.ca_key = os.path.join(self.dir, "ca.key")
        self.ca = os.path.join(self.dir, "ca.pem")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                      "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                      "-subj", "/CN=dvs test %s" % name)

    def _openssl(self, *args):
        r = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        if r.returncode != 0:
            raise HarnessError("openssl %s failed:\n%s" % (args[0], r.stdout.decode()))

    def issue(self, cn, ip=None):
        """Returns (cert, key) for CN (with an IP subjectAltName if IP)."""
        key = os.path.join(self.dir, cn + ".key")
        csr = os.path.join(self.dir, cn + ".csr")
        cert = os.path.join(self.dir, cn + ".pem")
        ext = os.path.join(self.dir, cn + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n" % ("IP:%s" % ip if ip else "DNS:%s" % cn))
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                      "-keyout", key, "-out", csr, "-subj", "/CN=%s" % cn)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                      "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        return cert, key


class DBusError(Exception):
    def __init__(self, name, message):
        Exception.__init__(self, "%s: %s" % (name, message))
        self.name = name
        self.message = message


class Manager:
    """dvsmgr on BUS.  Calls go through dbus-python; errors come back as
    DBusError(name, message)."""

    def __init__(self, workdir, bus, pki=None, authorization="polkit", heartbeat_ms=500,
                 retry_ms=500, push_timeout_ms=2000, store=None, extra_args=()):
        self.workdir = workdir
        self.bus = bus
        self.pki = pki
        self.authorization = authorization
        self.store = store or os.path.join(workdir, "mgr", "dvsmgr.db")
        self.host_socket = os.path.join(workdir, "mgr", "hosts.sock")
        self.tls_port = free_tcp_port() if pki else None
        self.heartbeat_ms, self.retry_ms, self.push_timeout_ms = heartbeat_ms, retry_ms, push_timeout_ms
        self.logpath = os.path.join(workdir, "dvsmgr.log")
        self.extra_args = list(extra_args)
        self.proc = None

    def start(self, timeout=20):
        argv = [DVSMGR, "--bus", self.bus.address, "--store", self.store,
                "--host-socket", self.host_socket, "--authorization", self.authorization,
                "--heartbeat-ms", str(self.heartbeat_ms), "--retry-interval-ms", str(self.retry_ms),
                "--push-timeout-ms", str(self.push_timeout_ms), "-v"] + self.extra_args
        if self.pki:
            cert, key = self.pki.issue("manager", ip="127.0.0.1")
            argv += ["--host-listen", "127.0.0.1:%d" % self.tls_port, "--tls-cert", cert,
                     "--tls-key", key, "--tls-ca", self.pki.ca]
        log = open(self.logpath, "ab")
        register_log("dvsmgr", self.logpath)
        self.proc = Proc("dvsmgr", argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()

        def ready():
            if not self.proc.alive():
                raise HarnessError("dvsmgr exited with status %s:\n%s"
                                   % (self.proc.popen.returncode, tail(self.logpath)))
            return self.bus.conn().name_has_owner(BUS_NAME)
        wait_until(ready, timeout, "dvsmgr on the bus")
        return self

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    # -- D-Bus plumbing ----------------------------------------------------
    def _iface(self, path, iface):
        obj = self.bus.conn().get_object(BUS_NAME, path, introspect=False)
        return dbus.Interface(obj, IFACE + iface if "." not in iface else iface)

    def call(self, path, iface, method, *args, timeout=30):
        try:
            return getattr(self._iface(path, iface), method)(*args, timeout=timeout)
        except dbus.exceptions.DBusException as e:
            raise DBusError(e.get_dbus_name(), e.get_dbus_message()) from None

    def props(self, path, iface):
        p = self._iface(path, "org.freedesktop.DBus.Properties")
        return {str(k): _plain(v) for k, v in p.GetAll(IFACE + iface, timeout=30).items()}

    def objects(self):
        om = self._iface(ROOT, "org.freedesktop.DBus.ObjectManager")
        return {str(path): {str(i): {str(k): _plain(v) for k, v in props.items()}
                            for i, props in ifaces.items()}
                for path, ifaces in om.GetManagedObjects(timeout=60).items()}

    def dvsctl(self, *args, timeout=30):
        """Runs dvsctl on this manager's bus: (exit status, stdout, stderr)."""
        cp = subprocess.run([DVSCTL, "--bus", self.bus.address] + list(args),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout)
        return cp.returncode, cp.stdout, cp.stderr

    # -- objects -------------------------------------------------------------
    def create_switch(self, name, config=None):
        path, uuid = self.call(ROOT, "Manager1", "CreateSwitch", name, json.dumps(config or {}))
        return str(path), str(uuid)

    def register_host(self, name, config=None):
        return str(self.call(ROOT, "Manager1", "RegisterHost", name, json.dumps(config or {})))

    def out_of_sync(self):
        return json.loads(str(self.call(ROOT, "Manager1", "GetOutOfSync")))

    def add_port_group(self, switch_path, name, config, ports):
        path, uuid = self.call(switch_path, "Switch1", "AddPortGroup", name, json.dumps(config),
                               dbus.UInt32(ports))
        return str(path), str(uuid)

    def join(self, switch_path, host):
        self.call(switch_path, "Switch1", "JoinHost", host)

    def leave(self, switch_path, host):
        self.call(switch_path, "Switch1", "LeaveHost", host)

    def pg_set_config(self, pg_path, config):
        self.call(pg_path, "PortGroup1", "SetConfig", json.dumps(config))

    def ports_of(self, pg_uuid):
        """Port keys of a port group, sorted by number."""
        keys = [p[IFACE + "Port1"]["Key"] for p in self.objects().values()
                if IFACE + "Port1" in p and p[IFACE + "Port1"]["PortGroup"].endswith(pg_uuid.replace("-", "_"))]
        return sorted(keys, key=lambda k: (len(k), k))

    def port_path(self, key):
        return ROOT + "/port/" + key.replace("-", "_")

    def host_path(self, name):
        return ROOT + "/host/" + name

    def host(self, name):
        return self.props(self.host_path(name), "Host1")

    def port(self, key):
        return self.props(self.port_path(key), "Port1")

    def connect(self, key, host, vm, mac, iface=""):
        return str(self.call(self.port_path(key), "Port1", "Connect", host, vm, mac, iface))

    def revoke(self, key):
        return str(self.call(self.port_path(key), "Port1", "Revoke"))

    def disconnect(self, key):
        self.call(self.port_path(key), "Port1", "Disconnect")

    def live_stats(self, key):
        return json.loads(str(self.call(self.port_path(key), "Port1", "GetLiveStats")))

    def wait_connected(self, name, timeout=30):
        wait_until(lambda: self.host(name)["Connected"], timeout, "host %s connected" % name)

    def wait_in_sync(self, names, timeout=30):
        def ok():
            return all(self.host(n)["InSync"] for n in names)
        wait_until(ok, timeout, "hosts %s in sync (queue: %s)" % (", ".join(names), "see log"))


def _plain(v):
    """dbus-python values to plain Python."""
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32, dbus.UInt64,
                      dbus.Byte)):
        return int(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath)):
        return str(v)
    if isinstance(v, dbus.Array):
        return [_plain(x) for x in v]
    if isinstance(v, dbus.Dictionary):
        return {_plain(k): _plain(x) for k, x in v.items()}
    return v


def host_switch(workdir, name, manager, transport="unix", pki=None, tz="tz1", cert_from=None):
    """A dvs-switchd host NAME connected to MANAGER (not started)."""
    args = ["--host-name", name, "--transport-zone", tz]
    if transport == "unix":
        args += ["--manager", "unix:" + manager.host_socket]
    else:
        issuer = cert_from or pki
        cert, key = issuer.issue(name)
        args += ["--manager", "tls:127.0.0.1:%d" % manager.tls_port, "--tls-cert", cert,
                 "--tls-key", key, "--tls-ca", pki.ca]
    return dvstest.Switch(workdir, extra_args=args, name=name + "-" + str(os.getpid()))


def setup_manager(workdir, hosts=(), tls_hosts=(), also_registered=(), **manager_kwargs):
    """The set-up the manager tests share: a private bus, the polkitd mock
    allowing ACTIONS, a Pki when there are TLS_HOSTS, dvsmgr (MANAGER_KWARGS
    go to Manager) with HOSTS, TLS_HOSTS and ALSO_REGISTERED registered, and
    HOSTS (over the unix socket) and TLS_HOSTS (over TLS) started as
    dvs-switchd hosts and connected.
    Returns (bus, polkit, pki, mgr, hosts), hosts a dict by name."""
    bus = Bus(workdir)
    polkit = Polkit(bus, workdir)
    polkit.allow(ACTIONS)
    pki = Pki(workdir) if tls_hosts else None
    mgr = Manager(workdir, bus, pki=pki, **manager_kwargs).start()
    for h in list(hosts) + list(tls_hosts) + list(also_registered):
        mgr.register_host(h)
    started = {h: host_switch(workdir, h, mgr).start() for h in hosts}
    for h in tls_hosts:
        started[h] = host_switch(workdir, h, mgr, transport="tls", pki=pki).start()
    for h in started:
        mgr.wait_connected(h)
    return bus, polkit, pki, mgr, started


def held_switch(sw, uuid):
    """What host SW holds of DVswitch UUID (switch.get), or None."""
    listed = sw.call("switch.list")["switches"]
    if not any(s["id"] == uuid for s in listed):
        return None
    try:
        return sw.call("switch.get", {"id": uuid})
    except dvstest.RpcError as e:
        # removed between the two calls
        if "is not on this host" in str(e):
            return None
        raise


def group_vlan(doc, pg_uuid):
    for g in doc["port_groups"]:
        if g["key"] == pg_uuid:
            return g.get("config", {}).get("vlan")
    return None


def raw_channel(path, timeout=5):
    """A raw unix connection to the host socket, for malformed-input tests."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def raw_exchange(s, line):
    s.sendall(line if isinstance(line, bytes) else line.encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return json.loads(buf) if buf.strip() else None


_ = re  # (kept for tests that grep logs)
