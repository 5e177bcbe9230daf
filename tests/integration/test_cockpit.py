#!/usr/bin/env python3
"""The Cockpit page (cockpit/dvs, docs/cockpit.md) in headless Chromium
against a real dvsmgr.

A real dvsmgr on a private dbus-daemon (the page's "system bus") with the
polkitd mock, two real dvs-switchd hosts, a dpdk-testpmd vNIC on one
DVport; Debian's cockpit-ws serving the page as installed by `meson install`
(a local session: cockpit-bridge runs as this user, no login); Debian's
Chromium driven by playwright-core (tests/cockpit/browser.mjs).

The page shows the test's DVswitch, port group, hosts and DVports; the
selected port's live counters equal what testpmd sent; a port moved from
the page (Port1.Move) is on the other host in dvsmgr and the page; with
net.dvsqemu.connect no longer allowed, a disconnect from the page is refused
by polkit and the page says so; a host going away shows as disconnected
and its queue entry appears under "Out of sync".  Screenshots of each step
are kept in build/meson-logs/cockpit/.

Environment: DVS_BUILD_ROOT (set by meson test), DVS_COCKPIT_WS (default
/usr/lib/cockpit/cockpit-ws), DVS_CHROMIUM (default /usr/bin/chromium).
Run as root: meson test -C build --suite integration cockpit
"""

import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import mgrtest  # noqa: E402
from dvstest import HarnessError, Proc, register_log, wait_until  # noqa: E402

BUILD = os.environ.get("DVS_BUILD_ROOT") or os.path.join(dvstest.SRC_ROOT, "build")
COCKPIT_WS = os.environ.get("DVS_COCKPIT_WS", "/usr/lib/cockpit/cockpit-ws")
CHROMIUM = os.environ.get("DVS_CHROMIUM", "/usr/bin/chromium")
DRIVER_DIR = os.path.join(dvstest.SRC_ROOT, "tests", "cockpit")
SHOTS = os.path.join(BUILD, "meson-logs", "cockpit")

VM = "6f1c0000-0000-4000-8000-0000000c0c01"
MAC = "02:d6:00:00:0c:01"
PEER = "02:d6:00:00:0c:99"


class Browser:
    """tests/cockpit/browser.mjs: one JSON request and answer per line."""

    def __init__(self, workdir):
        self.logpath = os.path.join(workdir, "browser.log")
        log = open(self.logpath, "ab")
        register_log("browser (playwright)", self.logpath)
        self.proc = Proc("browser", ["node", os.path.join(DRIVER_DIR, "browser.mjs")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                         env=dict(os.environ, DVS_CHROMIUM=CHROMIUM,
                                  NODE_PATH=os.path.join(DRIVER_DIR, "node_modules")))
        log.close()

    def do(self, op, timeout=30, **args):
        import select
        req = dict(args, op=op, timeout=int(timeout * 1000))
        self.proc.popen.stdin.write((json.dumps(req) + "\n").encode())
        self.proc.popen.stdin.flush()
        ready, _, _ = select.select([self.proc.popen.stdout], [], [], timeout + 30)
        if not ready:
            raise HarnessError("the browser did not answer %s in %d s" % (op, timeout + 30))
        line = self.proc.popen.stdout.readline()
        if not line:
            raise HarnessError("the browser exited (see %s)" % self.logpath)
        answer = json.loads(line)
        if not answer.get("ok"):
            if op != "screenshot":
                self.shot("failed-%s" % op)      # what the page showed then
            raise AssertionError("browser %s %s: %s" % (op, args, answer.get("error")))
        return answer

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        path = os.path.join(SHOTS, name + ".png")
        self.do("screenshot", path=path)
        return path

    def quit(self):
        try:
            self.proc.popen.stdin.write(b'{"op":"quit"}\n')
            self.proc.popen.stdin.flush()
        except OSError:
            pass
        self.proc.wait(20) or self.proc.stop()


class CockpitPage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        mgrtest.require()
        for need in (COCKPIT_WS, CHROMIUM):
            if not os.access(need, os.X_OK):
                raise unittest.SkipTest("%s is not installed (cockpit-ws, chromium)" % need)
        if not shutil.which("node") or not os.path.isdir(os.path.join(DRIVER_DIR, "node_modules",
                                                                      "playwright-core")):
            raise unittest.SkipTest("node or tests/cockpit/node_modules is missing (./dev.sh deps)")
        cls.tmp = dvstest.tempdir()
        cls.bus, cls.polkit, _, cls.mgr, cls.hosts = mgrtest.setup_manager(
            cls.tmp, hosts=["h1", "h2"], also_registered=["h3"])
        cls.sw_path, cls.sw = cls.mgr.create_switch("cockpit-sw", {"transport_zone": "tz1"})
        cls.pg_path, cls.pg = cls.mgr.add_port_group(cls.sw_path, "web", {"vlan": 10}, 2)
        for h in cls.hosts:
            cls.mgr.join(cls.sw_path, h)
        cls.key, cls.free_key = cls.mgr.ports_of(cls.pg)
        cls.conn = cls.mgr.connect(cls.key, "h1", VM, MAC, "net0")
        cls.mgr.wait_in_sync(list(cls.hosts))

        # The page as `meson install` lays it out, found by cockpit-bridge
        # through XDG_DATA_DIRS.
        dest = os.path.join(cls.tmp, "dest")
        cp = subprocess.run(["meson", "install", "-C", BUILD, "--destdir", dest, "--no-rebuild"],
                            capture_output=True, text=True, timeout=300)
        if cp.returncode != 0:
            raise AssertionError("meson install: %s%s" % (cp.stdout, cp.stderr))
        share = [os.path.join(dirpath, "..") for dirpath, dirs, _ in os.walk(dest)
                 if dirpath.endswith("/share/cockpit") and "dvs" in dirs]
        if not share:
            raise AssertionError("meson install put no share/cockpit/dvs under %s" % dest)
        cls.port = mgrtest.free_tcp_port()
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=cls.bus.address,
                   XDG_DATA_DIRS=os.path.normpath(share[0]) + ":/usr/share",
                   XDG_CONFIG_DIRS=cls.tmp)
        cls.ws_log = os.path.join(cls.tmp, "cockpit-ws.log")
        log = open(cls.ws_log, "ab")
        register_log("cockpit-ws", cls.ws_log)
        cls.ws = Proc("cockpit-ws", [COCKPIT_WS, "--port", str(cls.port), "--address", "127.0.0.1",
                                     "--local-session=cockpit-bridge"],
                      stdout=log, stderr=log, env=env)
        log.close()
        wait_until(cls._ws_up, 20, "cockpit-ws listening on %d" % cls.port)
        cls.browser = Browser(cls.tmp)
        cls.url = "http://127.0.0.1:%d/cockpit/@localhost/dvs/index.html" % cls.port

    @classmethod
    def _ws_up(cls):
        import socket
        try:
            socket.create_connection(("127.0.0.1", cls.port), 1).close()
            return True
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "browser"):
            cls.browser.quit()

    def row(self, key):
        return 'tr.port[data-port="%s"]' % key

    def vnic_sends(self, seconds=0.5):
        """A testpmd vNIC on the port on h1 sends for a moment and stops;
        returns (testpmd, frames sent) with the link still up."""
        sock = os.path.join(self.tmp, "vnic.sock")
        pmd = dvstest.TestPmd(self.tmp, "vnic", [(sock, MAC)], fwd="txonly",
                              lcores="0@0,1@0").start(wait=False)
        self.hosts["h1"].call("dvport.attach", {"switch": self.sw, "port": self.key,
                                                "connection": self.conn, "socket": sock})
        pmd.wait_ready()
        pmd.cmd("set eth-peer 0 " + PEER)
        wait_until(lambda: self.mgr.port(self.key)["Link"] == "up", 20, "link up in dvsmgr")
        pmd.cmd("start")
        time.sleep(seconds)
        pmd.cmd("stop")
        return pmd, pmd.stats()[0]["tx_packets"]

    def test_page(self):
        b = self.browser
        b.do("open", url=self.url)
        # Topology: the switch, its group, both ports, the hosts.
        b.do("wait", selector='article[data-switch="cockpit-sw"] h3', text="cockpit-sw")
        b.do("wait", selector='div[data-portgroup="web"] h4', text="VLAN 10")
        b.do("wait", selector=self.row(self.key) + " td.host", text="h1")
        self.assertEqual(b.do("count", selector=self.row(self.free_key))["count"], 1)
        b.do("wait", selector='#hosts tr[data-host="h2"]', text="yes")
        b.do("wait", selector="#manager-state", text="dvsmgr ")
        b.do("wait", selector="#in-sync")
        b.shot("01-topology")

        # Live counters of the selected port: what testpmd sent, read from
        # the host through GetLiveStats.
        pmd, sent = self.vnic_sends()
        try:
            self.assertGreater(sent, 0)
            b.do("wait", selector=self.row(self.key) + " td.link", text="up")
            b.do("click", selector=self.row(self.key) + " a.port-key")
            b.do("wait", selector="#detail-source", text="live from h1")
            b.do("wait", selector='#detail-counters td[data-counter="rx.packets"]',
                 text=str(sent), timeout=10)
            self.assertEqual(b.do("text", selector='#detail-counters td[data-counter="rx.packets"]')
                             ["text"], str(sent))
            b.shot("02-port-live-counters")
            # Migrate (MigrateVM): refused by polkit unless net.dvsqemu.migrate
            # is allowed.
            b.do("click", selector=self.row(self.key) + ' button:text("Migrate")')
            b.do("wait", selector="#alert-text", text="not authorized for net.dvsqemu.migrate")
            self.polkit.allow(mgrtest.ACTIONS + ["net.dvsqemu.migrate"])
            b.do("click", selector=self.row(self.key) + ' button:text("Migrate")')
            # ... then dvsmgr's own checks answer: these hosts have no libvirt.
            b.do("wait", selector="#alert-text", text="the source host h1 has no libvirt URI")
            b.shot("03-migrate-checked")
            self.polkit.allow(mgrtest.ACTIONS)
        finally:
            pmd.interrupt()                  # the VM stops: link down, checkpoint
        b.do("wait", selector=self.row(self.key) + " td.link", text="down")
        b.do("wait", selector="#detail-source", text="as reported")
        self.assertEqual(b.do("text", selector='#detail-counters td[data-counter="rx.packets"]')
                         ["text"], str(sent), "the checkpoint dvsmgr holds")

        # Move the port to h2 from the page.
        b.do("select", selector=self.row(self.key) + " select.target", value="h2")
        b.do("click", selector=self.row(self.key) + ' button:text("Move")')
        b.do("wait", selector=self.row(self.key) + " td.host", text="h2")
        self.assertEqual(self.mgr.port(self.key)["Host"], "h2")
        self.assertEqual(self.mgr.port(self.key)["ConnectionId"], self.conn)
        self.mgr.wait_in_sync(["h1", "h2"])
        show = self.hosts["h2"].call("dvport.show", {"switch": self.sw, "port": self.key})
        self.assertEqual(show["stats"]["rx"]["packets"], sent, "the counters moved with the port")
        b.shot("04-port-moved")

        # Polkit: without net.dvsqemu.connect, Disconnect is refused.
        self.polkit.allow([a for a in mgrtest.ACTIONS if a != "net.dvsqemu.connect"])
        b.do("click", selector=self.row(self.key) + ' button:text("Disconnect")')
        b.do("wait", selector="#alert-text", text="net.dvsqemu.Error.NotAuthorized")
        self.assertEqual(self.mgr.port(self.key)["ConnectionId"], self.conn, "still connected")
        b.shot("05-disconnect-refused")
        self.polkit.allow(mgrtest.ACTIONS)
        b.do("click", selector="#alert-close")

        # Connect the free port from the page's form.
        b.do("click", selector=self.row(self.free_key) + ' button:text("Connect")')
        b.do("select", selector="#connect-form select[name=host]", value="h2")
        b.do("fill", selector="#connect-form input[name=vm]", value=VM[:-1] + "2")
        b.do("fill", selector="#connect-form input[name=mac]", value="02:d6:00:00:0c:02")
        b.shot("06-connect-dialog")
        b.do("click", selector='#connect-form button[type=submit]')
        b.do("wait", selector=self.row(self.free_key) + " td.host", text="h2")
        self.assertEqual(self.mgr.port(self.free_key)["ConnecteeMac"], "02:d6:00:00:0c:02")

        # A host that goes away: disconnected on the page, its push queued.
        self.hosts["h2"].proc.kill()
        self.mgr.disconnect(self.free_key)
        b.do("wait", selector='#hosts tr[data-host="h2"] td.bad', text="no")
        b.do("wait", selector="#out-of-sync tbody td", text="h2", timeout=20)
        b.shot("07-host-down-out-of-sync")
        self.assertEqual(b.do("errors")["errors"], [], "the page logged errors")


if __name__ == "__main__":
    dvstest.main()
