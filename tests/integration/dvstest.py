"""dvstest: a small harness for dvs-switchd integration tests (stdlib only).

It starts real processes -- dvs-switchd, dpdk-testpmd virtio-user front-ends,
QEMU guests booted from tests/guest/mkinitramfs.sh -- in a private temporary
directory, talks to them (JSON-RPC over the control socket, testpmd's
interactive prompt over stdin, the guest's serial console), and ends every
one of them however the test ends:

* each child runs in its own session (process group) and gets SIGKILL from
  the kernel if the harness dies (setpriv --pdeathsig);
* an atexit handler stops them gracefully (SIGTERM, then SIGKILL);
* SIGTERM/SIGINT/SIGHUP (meson's timeout sends SIGTERM and SIGKILLs 0.5 s
  later) kill them at once and exit.

Every wait has a timeout.  When a test fails, the tail of every log (switch
stderr, testpmd output, guest console) is printed; passing runs are quiet.

Environment:
  DVS_SWITCHD     dvs-switchd binary (default build/qemu-netdev-dvs/dvs-switchd)
  DVS_SWITCHCTL   dvs-switchctl binary
                  (default build/qemu-netdev-dvs/switchctl/dvs-switchctl)
  DVS_GUEST_DIR   where the guest kernel/initramfs are built
                  (default build/tests/integration/guest)
  DVS_KEEP_TMP    keep the temporary directory (it is also kept on failure)
  DVS_TEST_VERBOSE  unittest verbosity (default 1)
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
import tempfile
import threading
import time
import unittest

SRC_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SWITCHD = os.environ.get("DVS_SWITCHD") or os.path.join(
    SRC_ROOT, "build/qemu-netdev-dvs/dvs-switchd")
SWITCHCTL = os.environ.get("DVS_SWITCHCTL") or os.path.join(
    SRC_ROOT, "build/qemu-netdev-dvs/switchctl/dvs-switchctl")
GUEST_DIR = os.environ.get("DVS_GUEST_DIR") or os.path.join(
    SRC_ROOT, "build/tests/integration/guest")
MKINITRAMFS = os.path.join(SRC_ROOT, "tests/guest/mkinitramfs.sh")
TESTPMD = os.environ.get("DVS_TESTPMD", "dpdk-testpmd")
QEMU = os.environ.get("DVS_QEMU", "qemu-system-x86_64")


class HarnessError(Exception):
    """Something the harness drives did not behave (start-up, timeout...)."""


# --------------------------------------------------------------------------
# Process bookkeeping and cleanup

_procs = []          # Proc objects not yet reaped
_logs = []           # (label, path) of every log written, for failure dumps
_tmpdirs = []
_dpdk_prefixes = []  # DPDK --file-prefix of every child, for runtime dir removal
_failed = False
_lock = threading.Lock()
_unique = [0]


def unique(prefix):
    """A name unique on this machine for this run: PREFIX-PID-N."""
    with _lock:
        _unique[0] += 1
        return "%s%d-%d" % (prefix, os.getpid(), _unique[0])


def _pdeathsig_prefix():
    path = shutil.which("setpriv")
    return [path, "--pdeathsig", "KILL", "--"] if path else []


def _dpdk_runtime_dirs(prefix):
    roots = ["/var/run/dpdk", "/run/dpdk"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        roots.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk"))
    roots.append("/tmp/dpdk")
    return [os.path.join(r, prefix) for r in roots]


class Proc:
    """A child process in its own session, always ended by the harness."""

    def __init__(self, label, argv, stdin=None, stdout=None, stderr=None, env=None):
        self.label = label
        self.argv = list(argv)
        self.popen = subprocess.Popen(
            _pdeathsig_prefix() + self.argv, stdin=stdin, stdout=stdout,
            stderr=stderr, env=env, start_new_session=True, close_fds=True)
        self.pid = self.popen.pid
        with _lock:
            _procs.append(self)

    def _exited(self):
        """True once the child has exited.  Does not reap it: its pid, and so
        its process group id, stay reserved until _reap()."""
        if self.popen.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None and info.si_pid == self.pid

    def alive(self):
        return not self._exited()

    def send_signal(self, sig):
        """Send SIG to the child's whole process group (while not reaped)."""
        if self.popen.returncode is not None:
            return
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout):
        """Wait up to TIMEOUT s; returns the exit status or None."""
        deadline = time.monotonic() + timeout
        while not self._exited():
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        return self._reap()

    def _reap(self):
        # Whatever is left of the group (children of the child) goes too;
        # the zombie leader still holds the group id, so this is safe.
        self.send_signal(signal.SIGKILL)
        rc = self.popen.wait()
        with _lock:
            if self in _procs:
                _procs.remove(self)
        for f in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        return rc

    def kill(self, sig=signal.SIGKILL, timeout=10):
        self.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            raise HarnessError("%s (pid %d) did not exit within %ss of signal %d"
                               % (self.label, self.pid, timeout, sig))
        return rc

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after TIMEOUT s.  Returns the exit status
        (None if it had to be killed)."""
        if self._exited():
            return self._reap()
        self.send_signal(signal.SIGTERM)
        rc = self.wait(timeout)
        if rc is None:
            self.send_signal(signal.SIGKILL)
            self.wait(5)
        return rc


def cleanup(graceful=True):
    """End every process the harness started; remove temporary dirs."""
    with _lock:
        procs = list(_procs)
    if graceful:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in procs:
            p.wait(max(0.1, deadline - time.monotonic()))
    for p in procs:
        p.send_signal(signal.SIGKILL)
    for p in procs:
        p.wait(5)
    for prefix in _dpdk_prefixes:
        for d in _dpdk_runtime_dirs(prefix):
            shutil.rmtree(d, ignore_errors=True)
    for d in list(_tmpdirs):
        if _failed or os.environ.get("DVS_KEEP_TMP"):
            if graceful:
                sys.stderr.write("dvstest: kept %s\n" % d)
        else:
            shutil.rmtree(d, ignore_errors=True)
        _tmpdirs.remove(d)


def _on_signal(signum, frame):
    # Meson SIGKILLs 0.5 s after its SIGTERM: no graceful stop here.
    cleanup(graceful=False)
    os._exit(128 + signum)


atexit.register(cleanup)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def tempdir():
    """A fresh private directory, removed at exit unless a test failed."""
    d = tempfile.mkdtemp(prefix="dvs-it-")
    _tmpdirs.append(d)
    return d


def register_log(label, path):
    _logs.append((label, path))


def tail(path, lines=60):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    out = text.splitlines()
    prefix = ["... (%d lines before)" % (len(out) - lines)] if len(out) > lines else []
    return "\n".join(prefix + out[-lines:])


def dump_logs(stream=sys.stderr, lines=60):
    for label, path in _logs:
        stream.write("----- %s (%s) -----\n%s\n" % (label, path, tail(path, lines)))
    stream.write("----- end of logs -----\n")
    stream.flush()


def run(argv, timeout=120, check=True, log=None, **kw):
    """Runs a command to its end (no stdin, output captured) within TIMEOUT
    s; appends the command and its output to LOG when given; with CHECK an
    exit other than 0 is an AssertionError with the output."""
    cp = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                        timeout=timeout, **kw)
    if log:
        with open(log, "a") as f:
            f.write("$ %s\n%s%s\n" % (" ".join(argv), cp.stdout, cp.stderr))
    if check and cp.returncode != 0:
        raise AssertionError("%s: exit %d\n%s%s" % (" ".join(argv), cp.returncode,
                                                     cp.stdout, cp.stderr))
    return cp


def wait_until(pred, timeout, what, interval=0.1):
    """Poll PRED until it returns a true value (returned); raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise HarnessError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


# --------------------------------------------------------------------------
# Output collection (testpmd stdout, guest console)

class Collector:
    """Reads a pipe in a thread into a text buffer and a log file."""

    def __init__(self, stream, logpath):
        self.buf = ""
        self.cond = threading.Condition()
        self.eof = False
        self._stream = stream
        self._log = open(logpath, "wb")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        fd = self._stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            self._log.write(data)
            self._log.flush()
            text = data.decode("utf-8", "replace").replace("\r", "")
            with self.cond:
                self.buf += text
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()
        self._log.close()

    def pos(self):
        with self.cond:
            return len(self.buf)

    def wait_for(self, regex, start, timeout, what):
        """First match of REGEX in the buffer at or after START."""
        rx = re.compile(regex, re.M)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, start)
                if m:
                    return m
                left = deadline - time.monotonic()
                if self.eof:
                    raise HarnessError("%s: output ended (process exited?)" % what)
                if left <= 0:
                    raise HarnessError("timed out after %ss waiting for %s" % (timeout, what))
                self.cond.wait(min(left, 0.5))


# --------------------------------------------------------------------------
# JSON-RPC client (docs/control-protocol.md: one JSON object per line)

class RpcError(Exception):
    def __init__(self, method, error):
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data")
        self.error = error
        super().__init__("%s: error %s: %s" % (method, self.code, self.message))


class RpcClient:
    def __init__(self, path, timeout=10):
        self.path = path
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
        except OSError:
            self.sock.close()
            raise
        self._buf = b""
        self._id = 0

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        """Send bytes as they are.  False if the peer closed the connection."""
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False
        except socket.timeout:
            raise HarnessError("the daemon stopped reading from %s (send timed out after %ss)"
                               % (self.path, self.timeout))

    def read_line(self, timeout=None):
        """One line from the daemon as bytes, or None at EOF."""
        self.sock.settimeout(timeout if timeout is not None else self.timeout)
        while b"\n" not in self._buf:
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            except socket.timeout:
                raise HarnessError("no answer from %s within %ss" % (self.path, self.sock.gettimeout()))
            if not data:
                if self._buf:
                    raise HarnessError("connection closed after a partial line: %r"
                                       % self._buf[:200])
                return None
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def read_response(self, timeout=None):
        """The next response object, or None at EOF."""
        line = self.read_line(timeout)
        if line is None:
            return None
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise HarnessError("daemon sent a line that is not JSON (%s): %r" % (e, line[:200]))
        return obj

    def request(self, method, params=None, id_=None):
        """Send one request and return the whole response object."""
        if id_ is None:
            self._id += 1
            id_ = self._id
        req = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            req["params"] = params
        if not self.send_raw(json.dumps(req).encode() + b"\n"):
            raise HarnessError("%s: control connection closed by the daemon" % method)
        resp = self.read_response()
        if resp is None:
            raise HarnessError("%s: control connection closed without an answer" % method)
        if resp.get("id") != id_:
            raise HarnessError("%s: answer for id %r, expected %r: %r"
                               % (method, resp.get("id"), id_, resp))
        return resp

    def call(self, method, params=None):
        """The result of METHOD, or RpcError."""
        resp = self.request(method, params)
        if "error" in resp:
            raise RpcError(method, resp["error"])
        if "result" not in resp:
            raise HarnessError("%s: response without result or error: %r" % (method, resp))
        return resp["result"]


# --------------------------------------------------------------------------
# dvs-switchd

class Switch:
    """One dvs-switchd with a unique --name and its control socket in DIR."""

    def __init__(self, workdir, ports=(), extra_args=(), name=None):
        self.workdir = workdir
        self.name = name or unique("it")
        self.control = os.path.join(workdir, self.name + ".ctl")
        # The local store (DVswitch data, checkpoints); kept across a
        # restart of the same Switch object.
        self.state_dir = os.path.join(workdir, self.name + ".state")
        self.logpath = os.path.join(workdir, self.name + ".switchd.log")
        self.ports = list(ports)        # SPEC strings for --port
        self.extra_args = list(extra_args)
        self.proc = None
        self._rpc = None

    def start(self, timeout=30):
        if not os.access(SWITCHD, os.X_OK):
            raise HarnessError("dvs-switchd not found at %s (build it, or set DVS_SWITCHD)"
                               % SWITCHD)
        argv = [SWITCHD, "--name", self.name, "--control-socket", self.control,
                "--state-dir", self.state_dir]
        for spec in self.ports:
            argv += ["--port", spec]
        argv += self.extra_args
        log = open(self.logpath, "ab")
        register_log("dvs-switchd %s" % self.name, self.logpath)
        self.proc = Proc("dvs-switchd", argv, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log)
        log.close()
        _dpdk_prefixes.append("dvs-%s-%d" % (self.name, self.proc.pid))

        def ready():
            if not self.proc.alive():
                raise HarnessError("dvs-switchd exited with status %s during start-up:\n%s"
                                   % (self.proc.popen.returncode, tail(self.logpath)))
            try:
                rpc = RpcClient(self.control)
            except OSError:
                return False
            try:
                rpc.call("switch.show")
            except (OSError, HarnessError):
                rpc.close()
                return False
            self._rpc = rpc
            return True
        wait_until(ready, timeout, "dvs-switchd control socket %s" % self.control)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def rpc(self):
        if self._rpc is None:
            self._rpc = RpcClient(self.control)
        return self._rpc

    def call(self, method, params=None):
        return self.rpc().call(method, params)

    def port_show(self, name):
        return self.call("port.show", {"name": name})

    def link(self, name):
        return self.port_show(name)["link"]

    def wait_link(self, name, state="up", timeout=20):
        return wait_until(lambda: self.link(name) == state, timeout,
                          "link of port %s to be %s" % (name, state), interval=0.1)

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def switchctl(self, *args, check=True, timeout=20):
        """Run dvs-switchctl -s CONTROL ARGS; returns CompletedProcess (text)."""
        if not os.access(SWITCHCTL, os.X_OK):
            raise HarnessError("dvs-switchctl not found at %s (set DVS_SWITCHCTL)" % SWITCHCTL)
        cp = subprocess.run([SWITCHCTL, "-s", self.control] + list(args),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True,
                            timeout=timeout)
        if check and cp.returncode != 0:
            raise HarnessError("dvs-switchctl %s: exit %d\nstdout: %s\nstderr: %s"
                               % (" ".join(args), cp.returncode, cp.stdout, cp.stderr))
        return cp

    def switchctl_json(self, *args):
        cp = self.switchctl("--json", *args)
        try:
            return json.loads(cp.stdout)
        except ValueError as e:
            raise HarnessError("dvs-switchctl --json %s printed no JSON (%s): %r"
                               % (" ".join(args), e, cp.stdout[:500]))

    def stop(self, timeout=15):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self._rpc is not None:
            self._rpc.close()
            self._rpc = None
        if self.proc is None:
            return None
        rc = self.proc.stop(timeout)
        for d in _dpdk_runtime_dirs("dvs-%s-%d" % (self.name, self.proc.pid)):
            shutil.rmtree(d, ignore_errors=True)
        return rc


# --------------------------------------------------------------------------
# dpdk-testpmd with virtio-user ports (vhost-user front-ends)

_PORT_STATS_RE = re.compile(
    r"NIC statistics for port (\d+)\s+#+\s*"
    r"RX-packets:\s*(\d+)\s+RX-missed:\s*(\d+)\s+RX-bytes:\s*(\d+)\s+"
    r"RX-errors:\s*(\d+)\s+RX-nombuf:\s*(\d+)\s+"
    r"TX-packets:\s*(\d+)\s+TX-errors:\s*(\d+)\s+TX-bytes:\s*(\d+)")


class TestPmd:
    """dpdk-testpmd -i, one virtio-user port per (socket, mac), each a
    vhost-user *server* (the switch connects as client).  Driven over stdin.

    Note: testpmd blocks at start-up until the switch has connected to each
    of its sockets, so add the switch's ports first (or wait_ready later).
    """

    PROMPT = r"testpmd> "

    def __init__(self, workdir, label, ports, fwd="rxonly", lcores=None, queues=1):
        self.workdir = workdir
        self.label = label
        self.queues = queues            # queue pairs per virtio-user port
        self.ports = list(ports)
        self.fwd = fwd
        self.lcores = lcores
        self.prefix = unique("dvsit-" + label + "-")
        self.logpath = os.path.join(workdir, "%s.testpmd.log" % self.prefix)
        self.proc = None
        self.out = None

    def start(self, wait=True, timeout=60):
        if shutil.which(TESTPMD) is None:
            raise unittest.SkipTest("%s not found (Debian package dpdk-dev)" % TESTPMD)
        argv = []
        if shutil.which("stdbuf"):
            argv += ["stdbuf", "-oL", "-eL"]    # testpmd printf()s to a pipe
        argv += [TESTPMD, "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                 "--no-telemetry", "--file-prefix=" + self.prefix, "--log-level=*:notice"]
        if self.lcores:
            argv += ["--lcores", self.lcores]
        for i, (sock, mac) in enumerate(self.ports):
            try:
                os.unlink(sock)         # a stale socket from a killed run
            except FileNotFoundError:
                pass
            argv += ["--vdev", "net_virtio_user%d,path=%s,server=1,queues=%d,mac=%s"
                     % (i, sock, self.queues, mac)]
        argv += ["--", "-i", "--total-num-mbufs=16384", "--nb-cores=1",
                 "--forward-mode=" + self.fwd]
        if self.queues > 1:
            argv += ["--rxq=%d" % self.queues, "--txq=%d" % self.queues]
        register_log("testpmd %s" % self.label, self.logpath)
        _dpdk_prefixes.append(self.prefix)
        self.proc = Proc("testpmd " + self.label, argv, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = Collector(self.proc.popen.stdout, self.logpath)
        self._pos = 0
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=60):
        m = self.out.wait_for(self.PROMPT, 0, timeout,
                              "testpmd %s prompt (did the switch connect to %s?)"
                              % (self.label, ", ".join(s for s, _ in self.ports)))
        self._pos = m.end()

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def cmd(self, line, timeout=20):
        """Run one interactive command; returns its output (echo removed)."""
        if not self.alive():
            raise HarnessError("testpmd %s is not running" % self.label)
        start = self.out.pos()
        self.proc.popen.stdin.write(line.encode() + b"\n")
        self.proc.popen.stdin.flush()
        m = self.out.wait_for(self.PROMPT, max(start, self._pos), timeout,
                              "testpmd %s to finish %r" % (self.label, line))
        text = self.out.buf[start:m.start()]
        self._pos = m.end()
        lines = text.split("\n")
        if lines and lines[0].strip() == line.strip():
            lines = lines[1:]
        return "\n".join(lines)

    def stats(self):
        """{port: {rx_packets, rx_missed, rx_bytes, rx_errors, rx_nombuf,
        tx_packets, tx_errors, tx_bytes}} from `show port stats all`."""
        text = self.cmd("show port stats all")
        keys = ("rx_packets", "rx_missed", "rx_bytes", "rx_errors", "rx_nombuf",
                "tx_packets", "tx_errors", "tx_bytes")
        res = {}
        for m in _PORT_STATS_RE.finditer(text):
            res[int(m.group(1))] = dict(zip(keys, (int(g) for g in m.groups()[1:])))
        if len(res) != len(self.ports):
            raise HarnessError("cannot parse testpmd %s port stats:\n%s" % (self.label, text))
        return res

    def wait_rx(self, want, timeout=10):
        """Wait (while forwarding) until each port i's RX-packets reaches
        WANT[i]: the frames the switch counted as put in that port's ring.
        The receiver is a busy poller on a loaded 2-core machine and may be
        descheduled for a while; how long it takes is no test's business,
        so this is a readiness check, not a sleep.  Returns the last stats
        whether or not they got there (the caller's assertions then say
        exactly what differs)."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.stats()
            if all(st[i]["rx_packets"] >= n for i, n in want.items()) \
                    or time.monotonic() >= deadline:
                return st
            time.sleep(0.05)

    def xstats(self, port):
        """{name: value} from `show port xstats PORT` (the virtio PMD's
        per-queue counters: rx_q0_good_packets, tx_q1_good_bytes, ...)."""
        text = self.cmd("show port xstats %d" % port)
        return {m.group(1): int(m.group(2))
                for m in re.finditer(r"^\s*(\w+):\s+(\d+)\s*$", text, re.M)}

    def kill(self, sig=signal.SIGKILL):
        rc = self.proc.kill(sig)
        self._clean_runtime()
        return rc

    def stop(self, timeout=15):
        if self.proc is None:
            return None
        if self.alive():
            try:
                self.proc.popen.stdin.write(b"stop\nquit\n")
                self.proc.popen.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
            rc = self.proc.wait(timeout)
            if rc is None:
                rc = self.proc.stop(5)
        else:
            rc = self.proc.stop(1)
        self._clean_runtime()
        return rc

    def interrupt(self, timeout=15):
        """SIGINT, as a person at the terminal: testpmd stops forwarding,
        stops and closes its ports (the vhost-user peer sees the rings stop
        and the socket close) and exits.  Returns the exit status; raises
        HarnessError if it did not exit within TIMEOUT s."""
        if self.proc is None:
            return None
        # testpmd's handler asks its command line to quit, and the command
        # line notices once its read() of stdin returns.  On a loaded
        # machine the handler was sometimes not run at all (no "Signal 2
        # received" line, blank lines answered with a prompt): after 3 s the
        # harness types `stop` and `quit`, testpmd's own orderly exit, which
        # stops and closes the ports the same way.
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(min(3.0, timeout))
        if rc is None:
            try:
                self.proc.popen.stdin.write(b"\nstop\nquit\n")
                self.proc.popen.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass
            rc = self.proc.wait(max(timeout - 3.0, 1.0))
        if rc is None:
            raise HarnessError("%s (pid %d) did not exit within %ss of SIGINT"
                               % (self.proc.label, self.proc.pid, timeout))
        self._clean_runtime()
        return rc

    def _clean_runtime(self):
        for d in _dpdk_runtime_dirs(self.prefix):
            shutil.rmtree(d, ignore_errors=True)


# --------------------------------------------------------------------------
# QEMU guests (tests/guest/mkinitramfs.sh)

_guest_images = None


def guest_images():
    """(kernel, initrd), built once into GUEST_DIR by mkinitramfs.sh."""
    global _guest_images
    if _guest_images is None:
        if shutil.which(QEMU) is None:
            raise unittest.SkipTest("%s not found (Debian package qemu-system-x86)" % QEMU)
        cp = subprocess.run([MKINITRAMFS, GUEST_DIR], capture_output=True, text=True,
                            timeout=300, stdin=subprocess.DEVNULL)
        if cp.returncode != 0:
            raise unittest.SkipTest("cannot build the guest initramfs: %s" % cp.stderr.strip())
        kernel = cp.stdout.strip().splitlines()[-1]
        _guest_images = (kernel, os.path.join(GUEST_DIR, "initramfs.cpio.gz"))
    return _guest_images


class Guest:
    """A TCG QEMU guest with one vhost-user NIC (QEMU is the vhost-user
    server on SOCK) and its serial console on stdin/stdout.

    QEMU waits at start-up until the switch has connected to SOCK.
    """

    def __init__(self, workdir, name, sock, mac, ip=None, memory=256, extra_append="",
                 queues=1):
        self.workdir = workdir
        # Queue pairs of the NIC: Linux virtio_net uses as many as the guest
        # has CPUs, so a multi-queue guest gets one vCPU per pair.
        self.queues = queues
        self.name = name
        self.sock = sock
        self.mac = mac
        self.ip = ip
        self.memory = memory
        self.extra_append = extra_append
        self.logpath = os.path.join(workdir, "%s.console.log" % unique(name + "-"))
        self.proc = None
        self.out = None
        self.boot_seconds = None

    def argv(self):
        kernel, initrd = guest_images()
        append = "console=ttyS0 quiet loglevel=1 panic=-1 dvs.name=%s dvs.mac=%s" % (
            self.name, self.mac)
        if self.ip:
            append += " dvs.ip=" + self.ip
        if self.extra_append:
            append += " " + self.extra_append
        return [QEMU, "-accel", "tcg", "-nodefaults", "-no-user-config",
                "-display", "none", "-no-reboot", "-smp", str(self.queues),
                "-m", "%dM" % self.memory,
                "-object", "memory-backend-memfd,id=mem,size=%dM,share=on" % self.memory,
                "-numa", "node,memdev=mem",
                "-kernel", kernel, "-initrd", initrd, "-append", append,
                "-chardev", "socket,id=c0,path=%s,server=on,wait=off" % self.sock,
                "-netdev", "vhost-user,id=n0,chardev=c0,queues=%d" % self.queues,
                "-device", "virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=%s%s"
                % (self.mac, ",mq=on" if self.queues > 1 else ""),
                "-chardev", "stdio,id=ser0,signal=off", "-serial", "chardev:ser0"]

    def start(self):
        self._t0 = time.monotonic()
        register_log("guest %s console" % self.name, self.logpath)
        self.proc = Proc("qemu " + self.name, self.argv(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = Collector(self.proc.popen.stdout, self.logpath)
        self._pos = 0
        return self

    def wait_ready(self, timeout=120):
        m = self.out.wait_for(r"^DVS-(READY|FAILED)[^\n]*\n", 0, timeout,
                              "guest %s to boot (ready marker)" % self.name)
        if m.group(1) == "FAILED":
            raise HarnessError("guest %s: %s" % (self.name, m.group(0)))
        self._pos = m.end()
        self.boot_seconds = time.monotonic() - self._t0
        return self

    def alive(self):
        return self.proc is not None and self.proc.alive()

    def run(self, command, timeout=60):
        """Run COMMAND in the guest; returns (exit status, output)."""
        if not self.alive():
            raise HarnessError("guest %s is not running" % self.name)
        if "\n" in command:
            raise ValueError("one line only")
        start = max(self.out.pos(), self._pos)
        self.proc.popen.stdin.write(command.encode() + b"\n")
        self.proc.popen.stdin.flush()
        b = self.out.wait_for(r"^DVS-BEGIN (\d+)\n", start, timeout,
                              "guest %s to start %r" % (self.name, command))
        e = self.out.wait_for(r"^DVS-END %s rc=(\d+)$" % b.group(1), b.end(), timeout,
                              "guest %s to finish %r" % (self.name, command))
        self._pos = e.end()
        return int(e.group(1)), self.out.buf[b.end():e.start()]

    def kill(self, sig=signal.SIGKILL):
        return self.proc.kill(sig)

    def stop(self, timeout=10):
        if self.proc is None:
            return None
        return self.proc.stop(timeout)


# --------------------------------------------------------------------------
# unittest glue

class _Result(unittest.TextTestResult):
    def _dump(self):
        global _failed
        _failed = True
        self.stream.write("\n")
        self.stream.flush()
        dump_logs(self.stream)

    def addError(self, test, err):
        super().addError(test, err)
        self._dump()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._dump()

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._dump()


def require_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (vhost-user, DPDK runtime dirs)")


def main():
    """Run the calling module's tests; exit 0, 1, or 77 (all skipped)."""
    verbosity = int(os.environ.get("DVS_TEST_VERBOSE", "1"))
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=verbosity,
                                     resultclass=_Result)
    prog = unittest.main(module="__main__", testRunner=runner, exit=False)
    res = prog.result
    if not res.wasSuccessful():
        rc = 1
    elif res.skipped and os.environ.get("DVS_REQUIRE_INTEGRATION") == "1":
        # ./dev.sh test (and CI) installs everything: a skip there hides a gap.
        sys.stderr.write("DVS_REQUIRE_INTEGRATION=1 and %d test(s) skipped: %s\n"
                         % (len(res.skipped), "; ".join(r for _, r in res.skipped)))
        rc = 1
    elif res.skipped and (res.testsRun == 0 or len(res.skipped) >= res.testsRun):
        rc = 77
    else:
        rc = 0
    cleanup()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
