#!/usr/bin/env python3
"""The host agent of dvs-switchd (docs/host-channel.md) against a stand-in
manager written here with the standard library: a unix socket server, and a
TLS server (ssl, certificates made by the openssl CLI) that requires a client
certificate.  The stand-in checks what real dvs-switchd processes send
(host.hello, host.heartbeat, port.state) and pushes switch.apply through the
channel; the control socket and dvs-switchctl confirm what the host holds.
A dpdk-testpmd virtio-user peer brings a DVport's link up and down.
Run as root: python3 tests/integration/test_host_agent.py
"""

import hashlib
import json
import os
import queue
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import HarnessError, wait_until  # noqa: E402

SW = "dvs-agent-it"
HEARTBEAT_MS = 300
MAC_A = "02:d6:00:00:01:0a"
METHOD_NOT_FOUND = -32601


def document(conn_p1="c-p1-1"):
    return {"id": SW, "name": "agent-it", "forwarding_class": "l2-learning", "mtu": 1500,
            "port_groups": [{"key": "pg-a", "name": "a", "config": {"vlan": 10}}],
            "ports": [{"key": "p1", "port_group": "pg-a",
                       "connection": {"id": conn_p1,
                                      "vm": "6f1c0000-0000-4000-8000-0000000001a1",
                                      "mac": MAC_A}},
                      {"key": "p2", "port_group": "pg-a", "connection": None}]}


def canonical_digest(held):
    """SHA-256 of the document as the host renders it: switch.get without
    the runtime members (per port, and the host's uplinks), serialized
    without whitespace."""
    doc = json.loads(json.dumps(held))
    doc.pop("uplinks", None)
    for p in doc["ports"]:
        p.pop("attached", None)
        p.pop("link", None)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Session:
    """One host connection seen by the stand-in manager."""

    def __init__(self, manager, sock, peer_cn=None):
        self.manager = manager
        self.sock = sock
        self.peer_cn = peer_cn
        self.hello = None
        self.heartbeats = 0
        self.closed = False
        self._id = 0
        self._replies = {}
        self._cond = threading.Condition()
        self._wlock = threading.Lock()

    def send(self, obj):
        data = json.dumps(obj).encode() + b"\n"
        with self._wlock:
            self.sock.sendall(data)

    def serve(self):
        buf = b""
        try:
            while True:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        self._handle(json.loads(line))
        except (OSError, ValueError, ssl.SSLError):
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()
            self.close()

    def _handle(self, msg):
        m = self.manager
        if "method" not in msg:
            with self._cond:
                self._replies[msg.get("id")] = msg
                self._cond.notify_all()
            return
        method = msg["method"]
        if method == "host.hello":
            self.hello = msg.get("params")
            m.hellos.put((self, self.hello))
            self.send({"jsonrpc": "2.0", "id": msg["id"],
                       "result": {"manager": "mgr-it", "heartbeat_ms": m.heartbeat_ms}})
        elif method == "host.heartbeat":
            self.heartbeats += 1
            if m.answer_heartbeats:
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": {}})
        elif method == "port.state":
            m.port_states.put(msg.get("params"))
        elif "id" in msg:
            self.send({"jsonrpc": "2.0", "id": msg["id"],
                       "error": {"code": METHOD_NOT_FOUND, "message": "not here"}})

    def call(self, method, params, timeout=10):
        """The whole response to a call made to the host."""
        with self._cond:
            self._id += 1
            id_ = self._id
        self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        with self._cond:
            while id_ not in self._replies:
                left = deadline - time.monotonic()
                if self.closed:
                    raise HarnessError("%s: the host closed the connection" % method)
                if left <= 0:
                    raise HarnessError("%s: no answer from the host within %ss" % (method, timeout))
                self._cond.wait(left)
            return self._replies.pop(id_)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


class StandInManager:
    """Accepts hosts on a listening socket (unix, or TCP with TLS)."""

    def __init__(self, listener, ssl_context=None):
        self.listener = listener
        self.ssl_context = ssl_context
        self.heartbeat_ms = HEARTBEAT_MS
        self.answer_heartbeats = True
        self.hellos = queue.Queue()
        self.port_states = queue.Queue()
        self.sessions = []
        self.tls_failures = []
        self._stop = False
        self.listener.settimeout(0.2)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def _accept_loop(self):
        while not self._stop:
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            threading.Thread(target=self._start_session, args=(sock,), daemon=True).start()

    def _start_session(self, sock):
        sock.settimeout(10)
        peer_cn = None
        if self.ssl_context is not None:
            try:
                sock = self.ssl_context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.tls_failures.append(str(e))
                sock.close()
                return
            subject = dict(x[0] for x in sock.getpeercert()["subject"])
            peer_cn = subject.get("commonName")
        sock.settimeout(0.5)
        s = Session(self, sock, peer_cn)
        self.sessions.append(s)
        s.serve()

    def next_hello(self, timeout=15):
        try:
            return self.hellos.get(timeout=timeout)
        except queue.Empty:
            raise HarnessError("no host.hello within %ss" % timeout)

    def next_port_state(self, pred, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError("no matching port.state within %ss" % timeout)
            try:
                st = self.port_states.get(timeout=left)
            except queue.Empty:
                continue
            if pred(st):
                return st

    def drop_all(self):
        for s in list(self.sessions):
            s.close()

    def stop(self):
        self._stop = True
        self.listener.close()
        self.drop_all()
        self._thread.join(5)


def openssl(workdir, *args):
    cp = subprocess.run(["openssl"] + list(args), cwd=workdir, capture_output=True,
                        text=True, timeout=60, stdin=subprocess.DEVNULL)
    if cp.returncode != 0:
        raise HarnessError("openssl %s: %s" % (args[0], cp.stderr))


def make_ca(workdir, name):
    openssl(workdir, "req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
            "-out", name + ".pem", "-days", "2", "-subj", "/CN=DVS it " + name)


def make_cert(workdir, name, subj, ca, ext):
    with open(os.path.join(workdir, name + ".ext"), "w") as f:
        f.write(ext)
    openssl(workdir, "req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", name + ".key",
            "-out", name + ".csr", "-subj", subj)
    openssl(workdir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
            "-CAkey", ca + ".key", "-CAcreateserial", "-out", name + ".pem",
            "-days", "2", "-extfile", name + ".ext")


def stop_switch(sw):
    pid = sw.pid
    rc = sw.stop()
    if rc != 0:
        raise AssertionError("dvs-switchd (pid %d) did not exit 0 on SIGTERM: %r" % (pid, rc))


class UnixManager(unittest.TestCase):
    """A host connected to the stand-in over a unix socket."""

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        cls.tmp = dvstest.tempdir()
        cls.mgr_path = os.path.join(cls.tmp, "dvsmgr-hosts.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(cls.mgr_path)
        listener.listen(16)
        cls.mgr = StandInManager(listener)
        cls.p1_sock = os.path.join(cls.tmp, "p1.sock")
        cls.sw = dvstest.Switch(cls.tmp, extra_args=[
            "--manager", "unix:" + cls.mgr_path, "--host-name", "h-it",
            "--uplink", "eth0", "--uplink", "eth1,eth2", "--transport-zone", "tz-a"]).start()
        cls.session, cls.hello = cls.mgr.next_hello()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "sw", None) is not None:
            stop_switch(cls.sw)
        if getattr(cls, "mgr", None) is not None:
            cls.mgr.stop()

    def setUp(self):
        self.assertTrue(self.sw.alive(), "dvs-switchd is not running")

    def reconnect(self):
        """Drops the host's connection; returns its next (session, hello)."""
        self.mgr.drop_all()
        s, hello = self.mgr.next_hello(timeout=10)
        self.__class__.session = s
        return s, hello

    def apply_via_channel(self, doc):
        resp = self.session.call("switch.apply", {"switch": doc})
        self.assertIn("result", resp, resp)
        return resp["result"]

    def test_1_hello(self):
        h = self.hello
        self.assertEqual(h["host"], "h-it")
        self.assertIsInstance(h["version"], str)
        self.assertTrue(h["version"])
        self.assertEqual(h["uplinks"], ["eth0", "eth1", "eth2"])
        self.assertEqual(h["transport_zones"], ["tz-a"])
        self.assertEqual(h["switches"], {})
        self.assertEqual(h["ports"], [])
        # The switch logs it once the hello's answer is back: after the
        # test saw the hello, so wait for it (a loaded machine lags).
        wait_until(lambda: "connected to manager mgr-it" in self.sw.log(), 10,
                   "the switch's log saying it is connected")

    def test_2_heartbeats(self):
        s = self.session
        start = s.heartbeats
        wait_until(lambda: s.heartbeats >= start + 3, 5, "three heartbeats")

    def test_3_apply_through_channel(self):
        res = self.apply_via_channel(document())
        self.assertEqual(res["id"], SW)
        self.assertEqual(sorted(res["added"]), ["p1", "p2"])
        held = self.sw.call("switch.get", {"id": SW})
        self.assertEqual([p["key"] for p in held["ports"]], ["p1", "p2"])
        self.assertEqual(held["ports"][0]["connection"]["id"], "c-p1-1")
        listed = self.sw.switchctl_json("switch", "list")
        self.assertIn(SW, json.dumps(listed))
        # Final state: the same document again changes nothing.
        res = self.apply_via_channel(document())
        for k in ("added", "updated", "removed", "revoked"):
            self.assertEqual(res[k], [], k)
        # dvport.show is served too.
        resp = self.session.call("dvport.show", {"switch": SW, "port": "p1"})
        self.assertEqual(resp["result"]["key"], "p1")
        # Handlers' errors reach the manager as they are.
        resp = self.session.call("switch.apply", {"switch": {"id": SW}})
        self.assertEqual(resp["error"]["code"], -32602)

    def test_4_other_methods_refused(self):
        for method in ("port.add", "switch.list", "dvport.attach", "switch.get"):
            resp = self.session.call(method, {})
            self.assertIn("error", resp, method)
            self.assertEqual(resp["error"]["code"], METHOD_NOT_FOUND, method)
        self.assertFalse(self.session.closed)

    def test_5_digest_in_second_hello(self):
        self.apply_via_channel(document())
        _, hello = self.reconnect()
        held = self.sw.call("switch.get", {"id": SW})
        self.assertEqual(hello["switches"], {SW: canonical_digest(held)})
        self.assertEqual(sorted(p["port"] for p in hello["ports"]), ["p1", "p2"])
        for p in hello["ports"]:
            self.assertEqual(p["switch"], SW)
            self.assertEqual(p["link"], "down")
            self.assertIsInstance(p["time"], int)
        conns = {p["port"]: p["connection"] for p in hello["ports"]}
        self.assertEqual(conns, {"p1": "c-p1-1", "p2": None})

    def test_6_unanswered_heartbeat_reconnects(self):
        old = self.session
        self.mgr.answer_heartbeats = False
        try:
            s, hello = self.mgr.next_hello(timeout=10)
        finally:
            self.mgr.answer_heartbeats = True
        self.__class__.session = s
        wait_until(lambda: old.closed, 5, "the old connection to be closed")
        self.assertEqual(hello["host"], "h-it")
        self.assertIn("did not answer a heartbeat", self.sw.log())

    def test_7_port_state_on_link_changes(self):
        if shutil.which(dvstest.TESTPMD) is None:
            self.skipTest("%s not found (Debian package dpdk-dev)" % dvstest.TESTPMD)
        self.apply_via_channel(document())
        self.sw.call("dvport.attach", {"switch": SW, "port": "p1", "socket": self.p1_sock,
                                       "connection": "c-p1-1"})
        pmd = dvstest.TestPmd(self.tmp, "tx", [(self.p1_sock, MAC_A)], fwd="txonly",
                              lcores="0@0,1@0").start()
        try:
            up = self.mgr.next_port_state(lambda st: st["port"] == "p1" and st["link"] == "up")
            self.assertEqual(up["switch"], SW)
            self.assertEqual(up["connection"], "c-p1-1")
            pmd.cmd("start")
            wait_until(lambda: self.sw.call("dvport.show", {"switch": SW, "port": "p1"})
                       ["stats"]["rx"]["packets"] > 0, 15, "frames from testpmd")
            pmd.interrupt()
        finally:
            pmd.stop()
        down = self.mgr.next_port_state(lambda st: st["port"] == "p1" and st["link"] == "down")
        self.assertEqual(down["connection"], "c-p1-1")
        self.assertGreater(down["stats"]["rx"]["packets"], 0)
        # Counters sent when they stopped changing: what dvport.show says now.
        shown = self.sw.call("dvport.show", {"switch": SW, "port": "p1"})
        self.assertEqual(down["stats"], shown["stats"])
        self.assertGreater(down["time"], up["time"])
        self.sw.call("dvport.detach", {"switch": SW, "port": "p1"})


class TlsManager(unittest.TestCase):
    """Hosts connecting to a TLS stand-in that requires client certificates."""

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        if shutil.which("openssl") is None:
            raise unittest.SkipTest("openssl not found")
        cls.tmp = dvstest.tempdir()
        cls.certs = os.path.join(cls.tmp, "certs")
        os.mkdir(cls.certs)
        client_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
        make_ca(cls.certs, "ca")
        make_ca(cls.certs, "other-ca")
        make_cert(cls.certs, "mgr", "/CN=localhost", "ca",
                  "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                  "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        make_cert(cls.certs, "h-tls", "/CN=h-tls", "ca", client_ext)
        make_cert(cls.certs, "rogue", "/CN=h-tls", "other-ca", client_ext)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_cert_chain(cls.cert("mgr"), cls.key("mgr"))
        ctx.load_verify_locations(cls.cert("ca"))
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        cls.port = listener.getsockname()[1]
        cls.mgr = StandInManager(listener, ctx)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "mgr", None) is not None:
            cls.mgr.stop()

    @classmethod
    def cert(cls, name):
        return os.path.join(cls.certs, name + ".pem")

    @classmethod
    def key(cls, name):
        return os.path.join(cls.certs, name + ".key")

    def switch(self, identity):
        return dvstest.Switch(self.tmp, extra_args=[
            "--manager", "tls:127.0.0.1:%d" % self.port, "--host-name", "h-tls",
            "--tls-cert", self.cert(identity), "--tls-key", self.key(identity),
            "--tls-ca", self.cert("ca")]).start()

    def test_good_certificate_connects(self):
        sw = self.switch("h-tls")
        try:
            session, hello = self.mgr.next_hello()
            self.assertEqual(session.peer_cn, "h-tls")
            self.assertEqual(hello["host"], "h-tls")
            start = session.heartbeats
            wait_until(lambda: session.heartbeats > start, 5, "a heartbeat over TLS")
            resp = session.call("switch.apply", {"switch": document()})
            self.assertEqual(sorted(resp["result"]["added"]), ["p1", "p2"])
            self.assertEqual(len(sw.call("switch.get", {"id": SW})["ports"]), 2)
        finally:
            stop_switch(sw)
            self.mgr.drop_all()

    def test_wrong_certificate_refused(self):
        failures = len(self.mgr.tls_failures)
        sw = self.switch("rogue")
        try:
            # It keeps trying (back-off) and is refused every time.
            wait_until(lambda: len(self.mgr.tls_failures) >= failures + 2, 15,
                       "the manager to refuse two TLS handshakes")
            with self.assertRaises(HarnessError):
                self.mgr.next_hello(timeout=2)
            self.assertTrue(sw.alive())
            wait_until(lambda: "refused" in sw.log() or "connection ended" in sw.log(),
                       5, "the host to log the refusal")
        finally:
            stop_switch(sw)


if __name__ == "__main__":
    dvstest.main()
