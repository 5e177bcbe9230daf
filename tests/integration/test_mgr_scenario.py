#!/usr/bin/env python3
"""dvsmgr end to end: a real dbus-daemon, polkit (dbusmock's polkitd
template), SQLite, and three real dvs-switchd hosts (h1 and h2 over the unix
host socket, h3 over TCP with mutual TLS), a dpdk-testpmd vNIC on h1.

The tests run in order (test_01_..., test_02_...) on one set-up, as one
operator's session would:
  1  three hosts join a DVswitch; each holds its final state
  2  connect a vNIC, link up with testpmd, change the port group's VLAN:
     every host holds the new state; a second connect is refused
  3  live counters through the manager while up; counters reach the
     manager at link down
  4  revoke: the old connection ID fails on the host
  5  leave with a delegated port is refused; a free host leaves and its
     store drops the switch
  6  malformed D-Bus arguments: clear errors, nothing changed
  7  malformed host-channel messages: clear errors, nothing changed
  8  TLS: a host with a certificate from another CA is refused
  9  polkit: a caller without the actions is refused, nothing changed
 10  dvsctl against this manager: tables, --json, exit codes
 11  dvsctl topology: the tree, --json and the SVG drawing of this manager
Run as root: python3 tests/integration/test_mgr_scenario.py
"""

import json
import os
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import RpcError, wait_until  # noqa: E402
from mgrtest import DBusError, group_vlan, held_switch  # noqa: E402

VM = "6f1c0000-0000-4000-8000-0000000000a1"
MAC = "02:d6:00:00:01:0a"
HOSTS = ("h1", "h2", "h3")


class ManagerScenario(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        cls.tmp = dvstest.tempdir()
        cls.bus, cls.polkit, cls.pki, cls.mgr, cls.hosts = mgrtest.setup_manager(
            cls.tmp, hosts=["h1", "h2"], tls_hosts=["h3"], also_registered=["h4", "h9"])
        cls.sw_path, cls.sw = cls.mgr.create_switch("prod", {"transport_zone": "tz1", "mtu": 1500})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "web", {"vlan": 10}, 4)
        cls.keys = cls.mgr.ports_of(cls.pg)
        cls.sock = os.path.join(cls.tmp, "vnic0.sock")
        cls.pmd = None

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "pmd", None):
            cls.pmd.stop()

    def hold(self, host):
        return held_switch(self.hosts[host], self.sw)

    def test_01_hosts_join_and_hold_final_state(self):
        self.assertEqual(len(self.keys), 4)
        for h in HOSTS:
            self.assertEqual(self.mgr.host(h)["Transport"], "tls" if h == "h3" else "unix")
            self.mgr.join(self.sw_path, h)
        self.mgr.wait_in_sync(HOSTS)
        for h in HOSTS:
            doc = self.hold(h)
            self.assertIsNotNone(doc, "host %s does not hold the DVswitch" % h)
            self.assertEqual(doc["name"], "prod")
            self.assertEqual(group_vlan(doc, self.pg), 10)
            self.assertEqual(doc["ports"], [], "free ports are delegated to nobody")
        self.assertEqual(self.mgr.out_of_sync(), [])
        # A host that does not report the switch's transport zone can't join.
        with self.assertRaises(DBusError) as cm:
            self.mgr.join(self.sw_path, "h9")
        self.assertEqual(cm.exception.name, "net.dvsqemu.Error.Busy")

    def test_02_connect_link_up_and_vlan_change(self):
        key = self.keys[0]
        conn = self.mgr.connect(key, "h1", VM, MAC, "net0")
        self.assertTrue(conn)
        self.mgr.wait_in_sync(["h1"])
        doc = self.hold("h1")
        self.assertEqual([p["key"] for p in doc["ports"]], [key])
        self.assertEqual(doc["ports"][0]["connection"]["id"], conn)
        self.assertEqual(self.hold("h2")["ports"], [], "the port goes only to its owner")
        # The vNIC: a testpmd virtio-user server attached with its ID.
        type(self).pmd = dvstest.TestPmd(self.tmp, "vnic", [(self.sock, MAC)], fwd="txonly")
        self.pmd.start(wait=False)
        self.hosts["h1"].call("dvport.attach", {"switch": self.sw, "port": key,
                                                "connection": conn, "socket": self.sock})
        self.pmd.wait_ready()
        wait_until(lambda: self.hosts["h1"].call("dvport.show", {"switch": self.sw, "port": key})
                   ["link"] == "up", 20, "link up")
        wait_until(lambda: self.mgr.port(key)["Link"] == "up", 10, "the manager sees link up")
        # A second vNIC for the same port is refused while connected.
        with self.assertRaises(DBusError) as cm:
            self.mgr.connect(key, "h2", VM, "02:d6:00:00:01:0b")
        self.assertEqual(cm.exception.name, "net.dvsqemu.Error.Busy")
        self.assertIn("disconnect it first", cm.exception.message)
        # Change the port group's VLAN: every host holds the new final state.
        self.mgr.pg_set_config(self.pg_path, {"vlan": 20})
        self.mgr.wait_in_sync(HOSTS)
        for h in HOSTS:
            self.assertEqual(group_vlan(self.hold(h), self.pg), 20, "host %s" % h)
        show = self.hosts["h1"].call("dvport.show", {"switch": self.sw, "port": key})
        self.assertEqual(show["vlan"], {"mode": "access", "tag": 20})
        self.assertTrue(show["attached"], "a config change keeps the vNIC attached")

    def test_03_counters_live_and_at_link_down(self):
        key = self.keys[0]
        self.pmd.cmd("start")

        def rx_above(n):
            live = self.mgr.live_stats(key)
            return live if live["stats"]["rx"]["packets"] > n else None
        live = wait_until(lambda: rx_above(0), 10, "live counters from the host")
        self.assertEqual(live["link"], "up")
        # live means live: counting on (however the 2 cores are shared)
        wait_until(lambda: rx_above(live["stats"]["rx"]["packets"]), 10,
                   "the live counters to count on")
        self.pmd.cmd("stop")
        sent = self.pmd.stats()[0]["tx_packets"]
        # testpmd counts a frame as sent when it is in the ring; the switch
        # takes the last ring's worth a moment later (on a loaded machine,
        # possibly after testpmd would have quit).
        wait_until(lambda: self.hosts["h1"].call("dvport.show", {"switch": self.sw, "port": key})
                   ["stats"]["rx"]["packets"] == sent, 10,
                   "the switch to take every frame testpmd sent")
        self.pmd.stop()
        type(self).pmd = None
        wait_until(lambda: self.mgr.port(key)["Link"] == "down", 20, "the manager sees link down")
        final = self.hosts["h1"].call("dvport.show", {"switch": self.sw, "port": key})["stats"]
        reported = json.loads(self.mgr.port(key)["StatsJson"])
        self.assertEqual(reported, final, "the counters the host pushed at link down")
        self.assertEqual(reported["rx"]["packets"], sent, "every frame testpmd sent was counted")
        self.assertGreater(self.mgr.port(key)["StatsTime"], 0)

    def test_04_revoke_fails_old_connection_id(self):
        key = self.keys[0]
        old = self.mgr.port(key)["ConnectionId"]
        new = self.mgr.revoke(key)
        self.assertNotEqual(old, new)
        self.mgr.wait_in_sync(["h1"])
        with self.assertRaises(RpcError) as cm:
            self.hosts["h1"].call("dvport.attach", {"switch": self.sw, "port": key,
                                                    "connection": old, "socket": self.sock})
        self.assertEqual(cm.exception.code, -32003)
        self.assertEqual(self.hold("h1")["ports"][0]["connection"]["id"], new)

    def test_05_leave(self):
        with self.assertRaises(DBusError) as cm:
            self.mgr.leave(self.sw_path, "h1")
        self.assertEqual(cm.exception.name, "net.dvsqemu.Error.Busy")
        self.assertIn(self.keys[0], cm.exception.message)
        self.assertIn("h1", self.mgr.props(self.sw_path, "Switch1")["Hosts"])
        self.mgr.leave(self.sw_path, "h2")
        wait_until(lambda: self.hold("h2") is None, 20, "h2 drops the DVswitch")
        self.assertNotIn("h2", self.mgr.props(self.sw_path, "Switch1")["Hosts"])
        wait_until(lambda: self.mgr.out_of_sync() == [], 10, "no queue entries")

    # What the hosts' heartbeats refresh (every second) and no call changes.
    HEARTBEAT_PROPS = {"LastSeen", "Status", "Health", "HealthReasons", "FreePorts"}

    def _snapshot(self):
        objs = self.mgr.objects()
        for ifaces in objs.values():
            props = ifaces.get("net.dvsqemu.Host1")
            for k in self.HEARTBEAT_PROPS & set(props or ()):
                del props[k]
        return json.dumps(objs, sort_keys=True, default=str)

    def test_06_malformed_dbus_arguments(self):
        before = self._snapshot()
        cases = [
            (lambda: self.mgr.call(mgrtest.ROOT, "Manager1", "CreateSwitch", "bad", "{not json"),
             "net.dvsqemu.Error.InvalidArgs", "not valid JSON"),
            (lambda: self.mgr.call(mgrtest.ROOT, "Manager1", "CreateSwitch", "bad", '{"mtu": 1}'),
             "net.dvsqemu.Error.InvalidArgs", "mtu"),
            (lambda: self.mgr.call(mgrtest.ROOT, "Manager1", "CreateSwitch", "bad", '{"colour": 1}'),
             "net.dvsqemu.Error.InvalidArgs", "colour"),
            (lambda: self.mgr.pg_set_config(self.pg_path, {"vlan": 5000}),
             "net.dvsqemu.Error.InvalidArgs", "vlan"),
            (lambda: self.mgr.connect(self.keys[1], "h1", "not-a-uuid", MAC),
             "net.dvsqemu.Error.InvalidArgs", "UUID"),
            (lambda: self.mgr.connect(self.keys[1], "h1", VM, "ff:ff:ff:ff:ff:ff"),
             "net.dvsqemu.Error.InvalidArgs", "unicast"),
            (lambda: self.mgr.connect(self.keys[1], "nohost", VM, MAC),
             "net.dvsqemu.Error.NotFound", "nohost"),
            (lambda: self.mgr.call(mgrtest.ROOT, "Manager1", "CreateSwitch", "only-one-arg"),
             "org.freedesktop.DBus.Error.InvalidArgs", ""),
            (lambda: self.mgr.call(mgrtest.ROOT + "/port/nope", "Port1", "Disconnect"),
             "org.freedesktop.DBus.Error.UnknownMethod", ""),
        ]
        for fn, name, text in cases:
            with self.subTest(expect=name, text=text):
                with self.assertRaises(DBusError) as cm:
                    fn()
                self.assertEqual(cm.exception.name, name)
                self.assertIn(text, cm.exception.message)
        self.assertEqual(self._snapshot(), before, "a refused call changed nothing")
        self.assertTrue(self.mgr.proc.alive())

    def test_07_malformed_host_channel_messages(self):
        path = self.mgr.host_socket
        before = self.mgr.port(self.keys[0])
        s = mgrtest.raw_channel(path)
        try:
            r = mgrtest.raw_exchange(s, b"{this is not json\n")
            self.assertEqual(r["error"]["code"], -32700)
            r = mgrtest.raw_exchange(s, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "port.state",
                                                    "params": {}}) + "\n")
            self.assertEqual(r["error"]["code"], -32004, "nothing before hello")
            r = mgrtest.raw_exchange(s, json.dumps({"jsonrpc": "2.0", "id": 2, "method": "host.hello",
                                                    "params": {"host": 7}}) + "\n")
            self.assertEqual(r["error"]["code"], -32602)
            # h9 is registered but owns nothing: it may not report h1's port.
            r = mgrtest.raw_exchange(s, json.dumps({"jsonrpc": "2.0", "id": 3, "method": "host.hello",
                                                    "params": {"host": "h9"}}) + "\n")
            self.assertIn("result", r)
            r = mgrtest.raw_exchange(s, json.dumps({
                "jsonrpc": "2.0", "id": 4, "method": "port.state",
                "params": {"switch": self.sw, "port": self.keys[0], "connection": before["ConnectionId"],
                           "link": "up", "stats": {}, "time": int(time.time() * 1e6) + 10**9}}) + "\n")
            self.assertEqual(r["error"]["code"], -32003)
            self.assertIn("not delegated to host h9", r["error"]["message"])
        finally:
            s.close()
        after = self.mgr.port(self.keys[0])
        self.assertEqual(after, before, "a refused report changed nothing")
        # An unregistered host is refused and disconnected.
        s = mgrtest.raw_channel(path)
        try:
            r = mgrtest.raw_exchange(s, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "host.hello",
                                                    "params": {"host": "intruder"}}) + "\n")
            self.assertEqual(r["error"]["code"], -32004)
            self.assertIn("not registered", r["error"]["message"])
            s.settimeout(5)
            self.assertEqual(s.recv(100), b"", "the manager closes the connection")
        finally:
            s.close()
        self.assertTrue(self.mgr.proc.alive())
        self.mgr.wait_in_sync(["h1", "h3"])

    def _tls_hello(self, cert=None, name="h1"):
        """A raw TLS client saying hello as NAME; returns the reply or None
        when the manager ends the connection first."""
        import socket
        import ssl
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        if cert:
            ctx.load_cert_chain(*cert)
        raw = socket.create_connection(("127.0.0.1", self.mgr.tls_port), timeout=5)
        try:
            s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
            return mgrtest.raw_exchange(s, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "host.hello",
                                                       "params": {"host": name}}) + "\n")
        except (ssl.SSLError, ConnectionError, OSError):
            return None
        finally:
            raw.close()

    def test_08_wrong_certificate_refused(self):
        # No client certificate: the handshake fails, nothing is read.
        self.assertIsNone(self._tls_hello(cert=None))
        # Plain text on the TLS port: no answer.
        import socket
        raw = socket.create_connection(("127.0.0.1", self.mgr.tls_port), timeout=5)
        raw.sendall(b'{"jsonrpc":"2.0","id":1,"method":"host.hello","params":{"host":"h1"}}\n')
        try:
            self.assertNotIn(b"result", raw.recv(4096))
        except OSError:
            pass
        raw.close()
        # A good certificate for h4 may not speak for h1.
        r = self._tls_hello(cert=self.pki.issue("h4"), name="h1")
        self.assertEqual(r["error"]["code"], -32004)
        self.assertIn("does not match the certificate", r["error"]["message"])
        self.assertEqual(self.mgr.host("h1")["Transport"], "unix", "h1 keeps its own connection")
        # A host whose certificate another CA signed.
        rogue = mgrtest.Pki(self.tmp, "rogue")
        sw = mgrtest.host_switch(self.tmp, "h4", self.mgr, transport="tls", pki=self.pki,
                                 cert_from=rogue).start()
        try:
            wait_until(lambda: "TLS refused" in self.mgr.log(), 20, "the manager refusing h4")
            time.sleep(1)
            self.assertFalse(self.mgr.host("h4")["Connected"])
        finally:
            sw.stop()

    def test_09_polkit_refuses_unauthorized_caller(self):
        before = self._snapshot()
        self.polkit.allow(["net.dvsqemu.connect"])
        try:
            with self.assertRaises(DBusError) as cm:
                self.mgr.pg_set_config(self.pg_path, {"vlan": 30})
            self.assertEqual(cm.exception.name, "net.dvsqemu.Error.NotAuthorized")
            self.assertIn("net.dvsqemu.configure", cm.exception.message)
            with self.assertRaises(DBusError) as cm:
                self.mgr.call(mgrtest.ROOT, "Manager1", "CreateSwitch", "other", "")
            self.assertEqual(cm.exception.name, "net.dvsqemu.Error.NotAuthorized")
            self.polkit.allow([])
            with self.assertRaises(DBusError) as cm:
                self.mgr.disconnect(self.keys[0])
            self.assertEqual(cm.exception.name, "net.dvsqemu.Error.NotAuthorized")
            # Reads stay open.
            self.assertEqual(self.mgr.props(self.pg_path, "PortGroup1")["Name"], "web")
            self.assertEqual(self.mgr.out_of_sync(), [])
        finally:
            self.polkit.allow(mgrtest.ACTIONS)
        self.assertEqual(self._snapshot(), before)

    def test_10_dvsctl(self):
        rc, out, err = self.mgr.dvsctl("--json", "switch", "list")
        self.assertEqual(rc, 0, err)
        switches = json.loads(out)
        self.assertEqual([s["name"] for s in switches], ["prod"])
        self.assertEqual(sorted(switches[0]["hosts"]), ["h1", "h3"])
        rc, out, err = self.mgr.dvsctl("--json", "port", "show", self.keys[0])
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["host"], "h1")
        rc, out, err = self.mgr.dvsctl("host", "list")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"h1\s+yes\s+unix\s+yes")
        rc, out, err = self.mgr.dvsctl("sync")
        self.assertEqual((rc, out.strip()), (0, "all hosts in sync"))
        # The manager's refusal: exit 1 and its message.
        rc, out, err = self.mgr.dvsctl("port", "connect", self.keys[0], "--host", "h1", "--vm", VM,
                                       "--mac", MAC)
        self.assertEqual(rc, 1)
        self.assertIn("disconnect it first", err)
        # polkit's refusal: exit 4; with --json the error's name.
        self.polkit.allow([])
        try:
            rc, out, err = self.mgr.dvsctl("--json", "portgroup", "set", "web", "--vlan", "30")
        finally:
            self.polkit.allow(mgrtest.ACTIONS)
        self.assertEqual(rc, 4)
        self.assertEqual(json.loads(err)["error"], "net.dvsqemu.Error.NotAuthorized")
        # And a change through dvsctl reaches the hosts.
        rc, out, err = self.mgr.dvsctl("portgroup", "set", "web", "--vlan", "30")
        self.assertEqual(rc, 0, err)
        # sync --wait follows the push until every host holds it.
        rc, out, err = self.mgr.dvsctl("--json", "sync", "--wait")
        self.assertEqual((rc, json.loads(out)), (0, []), err)
        self.assertEqual(err, "", "no progress on stderr with --json")
        for h in ("h1", "h3"):
            self.assertTrue(self.mgr.host(h)["InSync"], h)
        self.mgr.wait_in_sync(["h1", "h3"])
        self.assertEqual(group_vlan(self.hold("h3"), self.pg), 30)

    def test_11_topology(self):
        key = self.keys[0]
        rc, out, err = self.mgr.dvsctl("--json", "topology")
        self.assertEqual(rc, 0, err)
        topo = json.loads(out)
        self.assertEqual([s["name"] for s in topo["switches"]], ["prod"])
        sw = topo["switches"][0]
        self.assertEqual(sw["uuid"], self.sw)
        self.assertEqual(sorted(sw["hosts"]), ["h1", "h3"])
        self.assertEqual([g["name"] for g in sw["port_groups"]], ["web"])
        web = sw["port_groups"][0]
        self.assertEqual(web["vlan"], "30")
        self.assertEqual(sorted(p["key"] for p in web["ports"]), sorted(self.keys))
        ports = {p["key"]: p for p in web["ports"]}
        self.assertEqual((ports[key]["connected"], ports[key]["vm"], ports[key]["mac"],
                          ports[key]["host"]), (True, VM, MAC, "h1"))
        for k in self.keys[1:]:
            self.assertEqual((ports[k]["connected"], ports[k]["vm"], ports[k]["host"]),
                             (False, None, None), k)
        hosts = {h["name"]: h for h in topo["hosts"]}
        self.assertTrue({"h1", "h2", "h3", "h4", "h9"} <= set(hosts), hosts)
        self.assertEqual(hosts["h1"]["switches"], [self.sw])
        self.assertTrue(hosts["h1"]["connected"] and hosts["h1"]["in_sync"])
        self.assertEqual(hosts["h2"]["switches"], [])

        # The tree: one line per object, grep-able.
        rc, out, err = self.mgr.dvsctl("topology", "prod")
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?m)^switch prod  %s  mtu 1500  hosts " % self.sw)
        self.assertRegex(out, r"(?m)^  portgroup web  vlan 30  ports 4  connected 1$")
        self.assertRegex(out, r"(?m)^    port %s  vm %s  mac %s  host h1  link " % (key, VM, MAC))
        self.assertRegex(out, r"(?m)^    port %s  free$" % self.keys[1])
        self.assertRegex(out, r"(?m)^host h1  connected  in-sync  switches prod$")
        rc, out, err = self.mgr.dvsctl("topology", "nosuchswitch")
        self.assertEqual(rc, 1)
        self.assertIn("nosuchswitch", err)

        # The drawing: well-formed SVG with a box per object and a line per
        # relation (switch-group, group-port, connected port-host).
        import xml.etree.ElementTree as ET
        path = os.path.join(self.tmp, "topology.svg")
        rc, out, err = self.mgr.dvsctl("topology", "--svg", "-o", path)
        self.assertEqual((rc, out), (0, ""), err)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        root = ET.parse(path).getroot()
        ns = "{http://www.w3.org/2000/svg}"
        self.assertEqual(root.tag, ns + "svg")
        texts = [t.text for t in root.iter(ns + "text")]
        for label in ["prod", "web", "port " + key, "h1", "h3"]:
            self.assertIn(label, texts)
        self.assertIn("VM %s, link " % VM.split("-")[0], " ".join(texts))
        self.assertEqual(len(list(root.iter(ns + "line"))), 1 + 4 + 1)
        rc, out, err = self.mgr.dvsctl("topology", "--svg", "-o", path)
        self.assertEqual(rc, 1)
        self.assertIn("give --force", err)
        rc, out, err = self.mgr.dvsctl("topology", "--svg")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("<?xml"), out[:40])


if __name__ == "__main__":
    dvstest.main()
