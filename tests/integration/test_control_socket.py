#!/usr/bin/env python3
"""dvs-switchd's control socket against a crowd and a hostile peer (issue
16): 200 clients connecting at once are all queued and answered; replies to
requests with control characters, switch.get after a refused switch.apply
and dvs-switchctl's output are valid JSON (Python's strict json.loads) or
free of terminal escapes; a NUL in a member name is refused.

Run as root: python3 tests/integration/test_control_socket.py
"""

import json
import os
import select
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402

BURST = 200


def strict_json(line):
    """json.loads refuses raw control characters inside strings."""
    return json.loads(line.decode("utf-8"))


class ControlSocket(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        cls.tmp = dvstest.tempdir()
        cls.sw = dvstest.Switch(cls.tmp).start()

    @classmethod
    def tearDownClass(cls):
        dvstest.cleanup()

    def raw(self, data):
        """Sends bytes on a fresh connection, returns the answer line."""
        with dvstest.RpcClient(self.sw.control) as rpc:
            self.assertTrue(rpc.send_raw(data))
            line = rpc.read_line()
        self.assertIsNotNone(line)
        return line

    def test_1_connect_burst_all_answered(self):
        # Non-blocking connects: with a backlog of 10 most got EAGAIN.
        socks = []
        try:
            for i in range(BURST):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.setblocking(False)
                socks.append(s)
            for i, s in enumerate(socks):
                try:
                    s.connect(self.sw.control)
                except BlockingIOError:
                    self.fail("connect %d of %d refused with EAGAIN" % (i + 1, BURST))
            for i, s in enumerate(socks):
                s.setblocking(True)
                s.sendall(json.dumps({"jsonrpc": "2.0", "id": i,
                                      "method": "switch.show"}).encode() + b"\n")
                s.setblocking(False)
            bufs = {s.fileno(): b"" for s in socks}
            pending = {s.fileno(): (i, s) for i, s in enumerate(socks)}
            deadline = time.monotonic() + 30
            while pending:
                self.assertLess(time.monotonic(), deadline,
                                "%d of %d clients unanswered" % (len(pending), BURST))
                ready, _, _ = select.select([s for _, s in pending.values()], [], [], 1)
                for s in ready:
                    data = s.recv(65536)
                    self.assertTrue(data, "connection closed without an answer")
                    bufs[s.fileno()] += data
                    if b"\n" in bufs[s.fileno()]:
                        i, _ = pending.pop(s.fileno())
                        resp = strict_json(bufs[s.fileno()].split(b"\n", 1)[0])
                        self.assertEqual(resp["id"], i)
                        self.assertIn("result", resp)
        finally:
            for s in socks:
                s.close()

    def test_2_error_replies_are_json(self):
        # U+001F in a member name: the error echoes it, escaped.
        line = self.raw(b'{"jsonrpc":"2.0","id":1,"method":"switch.show","x\\u001fy":1}\n')
        resp = strict_json(line)
        self.assertEqual(resp["error"]["code"], -32600)
        self.assertIn("x\x1fy", resp["error"]["message"])
        self.assertTrue(all(b >= 0x20 for b in line))
        line = self.raw(b'{"jsonrpc":"2.0","id":2,"method":"sw\\u001f\\u009b"}\n')
        self.assertEqual(strict_json(line)["error"]["code"], -32601)

    def test_3_nul_in_a_member_name_refused(self):
        resp = strict_json(self.raw(
            b'{"jsonrpc":"2.0","id":1,"method":"switch.list","params":{"x":1,"x\\u0000":2}}\n'))
        self.assertEqual(resp["error"]["code"], -32600)
        self.assertIn("NUL", resp["error"]["message"])

    def test_4_control_characters_in_names_refused(self):
        rpc = self.sw.rpc()
        rpc.call("switch.apply", {"switch": {"id": "good", "name": "prod",
                                             "port_groups": [{"key": "g1", "name": "web"}],
                                             "ports": [{"key": "p1", "port_group": "g1",
                                                        "connection": {"id": "c1"}}]}})
        bad = [
            {"id": "bad", "name": "x\x1fy"},
            {"id": "bad", "name": "\x1b]0;owned\x07"},
            {"id": "bad", "name": "ok", "port_groups": [{"key": "g", "name": "a\x1b[2J"}]},
            {"id": "bad", "name": "ok", "ports": [{"key": "p", "connection": {"id": "c\x1f"}}]},
        ]
        for doc in bad:
            resp = rpc.request("switch.apply", {"switch": doc})
            self.assertEqual(resp["error"]["code"], -32602, resp)
            self.assertIn("control characters", resp["error"]["message"])
        # What is stored stays valid JSON, and the CLI prints no escape.
        with dvstest.RpcClient(self.sw.control) as c:
            c.send_raw(b'{"jsonrpc":"2.0","id":9,"method":"switch.get","params":{"id":"good"}}\n')
            got = strict_json(c.read_line())
        self.assertEqual(got["result"]["name"], "prod")
        self.assertNotIn("bad", [s["id"] for s in rpc.call("switch.list")["switches"]])
        out = self.sw.switchctl("switch", "list").stdout
        self.assertIn("prod", out)
        self.assertNotIn("\x1b", out)


if __name__ == "__main__":
    dvstest.main()
