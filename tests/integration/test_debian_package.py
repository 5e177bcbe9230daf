#!/usr/bin/env python3
"""The Debian packages (debian/, docs/packaging.md), built and installed
on a fresh Debian 12, their units started by systemd.

* `dpkg-buildpackage -b` of this source tree (tracked and new files, as a
  clean checkout has them) builds dvs-common, dvs-switchd, dvsmgr and
  cockpit-dvs; each holds what docs/packaging.md says, and dh_missing
  fails the build if meson installs a file no package takes.
* A minimal Debian 12 made by debootstrap (cached as a tarball in the build
  tree after the first run) gets them with `apt-get install ./*.deb`:
  their dependencies come from the Debian archive, so a missing Depends
  shows up here.
* That root boots under systemd-nspawn with its own systemd: dvs.target
  and dvsmgr.service, enabled by the packages' maintainer scripts, are up;
  dvs-switchd@h1 (enabled here with /etc/dvs/h1.conf pointing at the
  manager's socket) starts; `dvsctl host register h1` goes through the
  real polkitd of that system as root; the switch connects; a DVswitch
  joined by h1 reaches it; `systemctl stop dvs.target` stops both.

Environment: DVS_BUILD_ROOT (set by meson test), DVS_DEBIAN_MIRROR (default:
the host's first Debian mirror, else http://deb.debian.org/debian).
Needs root, debootstrap, dpkg-dev, debhelper, systemd-container and the
network to the Debian archive.  Run: meson test -C build debian-package
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
from dvstest import Proc, register_log, run, wait_until  # noqa: E402

BUILD = os.environ.get("DVS_BUILD_ROOT") or os.path.join(dvstest.SRC_ROOT, "build")
CACHE = os.path.join(BUILD, "tests", "debian")
SUITE = "bookworm"
PACKAGES = ("dvs-common", "dvs-switchd", "dvsmgr", "cockpit-dvs")
# What each package must hold (a subset: the files a host needs).
CONTENTS = {
    "dvs-common": ["lib/systemd/system/dvs.target"],
    "dvs-switchd": ["usr/sbin/dvs-switchd", "usr/bin/dvs-switchctl",
                    "lib/systemd/system/dvs-switchd@.service", "etc/libvirt/hooks/qemu.d/dvs",
                    "usr/share/man/man8/dvs-switchd.8.gz"],
    "dvsmgr": ["usr/sbin/dvsmgr", "usr/bin/dvsctl", "lib/systemd/system/dvsmgr.service",
               "usr/share/dbus-1/system.d/net.dvsqemu.Manager1.conf",
               "usr/share/dbus-1/system-services/net.dvsqemu.Manager1.service",
               "usr/share/polkit-1/actions/net.dvsqemu.policy", "usr/share/man/man1/dvsctl.1.gz"],
    "cockpit-dvs": ["usr/share/cockpit/dvs/manifest.json", "usr/share/cockpit/dvs/index.html",
                    "usr/share/cockpit/dvs/dvs.js"],
}
SWITCH_CONF = """[switch]
name = h1

[eal]
memory = 128

[manager]
address = unix:/run/dvs/dvsmgr-hosts.sock
host-name = h1
"""


def mirror():
    if os.environ.get("DVS_DEBIAN_MIRROR"):
        return os.environ["DVS_DEBIAN_MIRROR"]
    for path in glob.glob("/etc/apt/sources.list.d/*.sources") + ["/etc/apt/sources.list"]:
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^(?:URIs:|deb)\s+(\S+/debian)/?\s", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def copy_source(dest):
    """The files a clean checkout has: tracked plus new, not ignored."""
    cp = subprocess.run(["git", "-C", dvstest.SRC_ROOT, "ls-files", "-z", "-co", "--exclude-standard"],
                        capture_output=True, timeout=60)
    if cp.returncode != 0:
        shutil.copytree(dvstest.SRC_ROOT, dest, symlinks=True,
                        ignore=shutil.ignore_patterns("build*", "node_modules", ".git"))
        return
    for rel in cp.stdout.decode().split("\0"):
        if not rel or not os.path.lexists(os.path.join(dvstest.SRC_ROOT, rel)):
            continue
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(os.path.join(dvstest.SRC_ROOT, rel), os.path.join(dest, rel),
                     follow_symlinks=False)


class DebianPackage(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        dvstest.require_root()
        for tool in ("dpkg-buildpackage", "dh", "debootstrap", "systemd-nspawn", "nsenter"):
            if not shutil.which(tool):
                raise unittest.SkipTest("%s is not installed (./dev.sh deps)" % tool)
        cls.tmp = dvstest.tempdir()
        cls.log = os.path.join(cls.tmp, "debian-package.log")
        register_log("debian-package", cls.log)
        cls.root = os.path.join(cls.tmp, "root")
        cls.mounts = []
        cls.container = None
        cls.debs = cls.build_packages()
        cls.make_root()
        cls.install()

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "container", None):
            if getattr(cls, "pid", None):
                cls.poweroff()
            else:
                cls.container.stop()
        cls.unmount()
        # The root is ~500 MB: kept only when a test failed (dvstest keeps tmp).
        if getattr(cls, "_passed", False):
            shutil.rmtree(cls.root, ignore_errors=True)

    # -- building ------------------------------------------------------------
    @classmethod
    def build_packages(cls):
        work = os.path.join(cls.tmp, "pkg")
        src = os.path.join(work, "dvs-0.1.0")
        copy_source(src)
        env = dict(os.environ, DEB_BUILD_OPTIONS="nocheck parallel=%d" % (os.cpu_count() or 1))
        cp = run(["dpkg-buildpackage", "-b", "-uc", "-us"], 1200, log=cls.log, check=False,
                 cwd=src, env=env)
        if cp.returncode != 0:
            raise AssertionError("dpkg-buildpackage failed (exit %d):\n%s"
                                 % (cp.returncode, (cp.stdout + cp.stderr)[-4000:]))
        debs = {}
        for path in glob.glob(os.path.join(work, "*.deb")):
            name = os.path.basename(path).split("_")[0]
            if not name.endswith("-dbgsym"):
                debs[name] = path
        return debs

    @classmethod
    def make_root(cls):
        base = os.path.join(CACHE, "%s-minbase.tar" % SUITE)
        os.makedirs(cls.root)
        if not os.path.exists(base):
            run(["debootstrap", "--variant=minbase", SUITE, cls.root, mirror()], 900, log=cls.log)
            os.makedirs(CACHE, exist_ok=True)
            run(["tar", "-C", cls.root, "-cf", base + ".part", "."], 300)
            os.rename(base + ".part", base)
        else:
            run(["tar", "-C", cls.root, "-xf", base], 300)
        shutil.copy("/etc/resolv.conf", os.path.join(cls.root, "etc", "resolv.conf"))

    @classmethod
    def mount(cls, *args):
        target = args[-1]
        run(["mount"] + list(args), 30)
        cls.mounts.append(target)

    @classmethod
    def unmount(cls):
        while cls.mounts:
            subprocess.run(["umount", "-l", cls.mounts.pop()], capture_output=True, timeout=30)

    @classmethod
    def chroot(cls, *argv, timeout=600):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive",
               "LANG": "C.UTF-8"}
        return run(["chroot", cls.root] + list(argv), timeout, log=cls.log, env=env)

    @classmethod
    def install(cls):
        debdir = os.path.join(cls.root, "tmp", "debs")
        os.makedirs(debdir)
        for name in PACKAGES:
            shutil.copy(cls.debs[name], debdir)
        cls.mount("-t", "proc", "proc", os.path.join(cls.root, "proc"))
        cls.mount("--bind", "/dev", os.path.join(cls.root, "dev"))
        try:
            cls.chroot("apt-get", "update", "-q", timeout=300)
            cls.chroot("sh", "-c", "apt-get install -y -q --no-install-recommends /tmp/debs/*.deb",
                       timeout=900)
            # A switch instance for this host, enabled as an operator would.
            os.makedirs(os.path.join(cls.root, "etc", "dvs"), exist_ok=True)
            with open(os.path.join(cls.root, "etc", "dvs", "h1.conf"), "w") as f:
                f.write(SWITCH_CONF)
            cls.chroot("systemctl", "enable", "dvs-switchd@h1.service")
        finally:
            cls.unmount()

    # -- the booted system -----------------------------------------------
    @classmethod
    def boot(cls):
        log = os.path.join(cls.tmp, "nspawn-console.log")
        register_log("systemd-nspawn console", log)
        out = open(log, "ab")
        # --keep-unit/--register=no: the host's PID 1 is not systemd.  The
        # host network is shared: the units need only unix sockets.
        cls.container = Proc("systemd-nspawn", [
            "systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit",
            "--console=read-only", "--machine=dvs-pkg-test", "--directory", cls.root],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        out.close()
        wait_until(lambda: cls.init_pid() is not None, 60, "the container's systemd")
        cls.pid = cls.init_pid()
        wait_until(lambda: cls.inside("systemctl", "show", "--property=Version", check=False,
                                      timeout=20).returncode == 0,
                   60, "systemctl answered by the container's systemd")

    @classmethod
    def init_pid(cls):
        """PID 1 of the container: a descendant of systemd-nspawn that is
        PID 1 in its own PID namespace."""
        def status(pid):
            try:
                with open("/proc/%s/status" % pid) as f:
                    return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
            except OSError:
                return {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            st = status(d)
            if st.get("NSpid", "").split()[-1:] != ["1"] or len(st.get("NSpid", "").split()) < 2:
                continue
            parent, hops = st.get("PPid"), 0
            while parent and parent != "0" and hops < 4:
                if int(parent) == cls.container.pid:
                    return int(d)
                parent, hops = status(parent).get("PPid"), hops + 1
        return None

    @classmethod
    def inside(cls, *argv, timeout=60, check=True):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        return run(["nsenter", "--target", str(cls.pid), "--mount", "--uts", "--ipc", "--pid",
                    "--root", "--wd"] + list(argv), timeout, log=cls.log, check=check, env=env)

    @classmethod
    def poweroff(cls):
        cls.inside("systemctl", "poweroff", "--no-block", check=False, timeout=30)
        if cls.container.wait(60) is None:
            cls.container.stop()
        cls.container = None

    # -- tests -----------------------------------------------------------
    def test_1_contents(self):
        self.assertEqual(sorted(self.debs), sorted(PACKAGES))
        for name, want in CONTENTS.items():
            listing = run(["dpkg-deb", "-c", self.debs[name]], 60).stdout
            files = {line.split()[-1].lstrip(".").lstrip("/") for line in listing.splitlines()}
            for f in want:
                self.assertIn(f, files, "%s holds %s" % (name, f))
        fields = run(["dpkg-deb", "-f", self.debs["dvsmgr"], "Depends"], 60).stdout
        for dep in ("dbus", "polkitd", "dvs-common"):
            self.assertRegex(fields, r"\b%s\b" % dep)

    def test_2_units_run(self):
        self.boot()
        state = self.inside("systemctl", "is-system-running", "--wait", timeout=120,
                            check=False).stdout.strip()
        failed = self.inside("systemctl", "list-units", "--failed", "--plain", "--no-legend",
                             check=False).stdout
        self.assertIn(state, ("running", "degraded"), failed)
        for unit in ("dvs.target", "dvsmgr.service", "dvs-switchd@h1.service"):
            self.assertEqual(self.inside("systemctl", "is-active", unit, check=False).stdout.strip(),
                             "active", "%s\n%s" % (unit, self.inside(
                                 "journalctl", "-b", "-u", unit, "--no-pager", check=False).stdout))
        self.assertNotIn("dvs", failed)

        # Manage the host through the packaged bus policy and polkit action.
        self.inside("dvsctl", "host", "register", "h1")
        wait_until(lambda: self.host_h1().get("connected") is True, 30,
                   "h1 connected to the manager")
        self.inside("dvsctl", "switch", "create", "pkg-sw")
        self.inside("dvsctl", "switch", "join", "pkg-sw", "h1")
        self.inside("dvsctl", "sync", "--wait", "--timeout", "30", timeout=60)
        uuid = json.loads(self.inside("dvsctl", "--json", "switch", "show", "pkg-sw").stdout)["uuid"]
        listed = json.loads(self.inside("dvs-switchctl", "--json", "switch", "list").stdout)
        self.assertEqual([s["id"] for s in listed["switches"]], [uuid], "h1 holds the DVswitch")

        # PartOf=dvs.target: stopping the target stops both (their stop jobs
        # may still run when systemctl returns).
        self.inside("systemctl", "stop", "dvs.target", timeout=90)
        for unit in ("dvsmgr.service", "dvs-switchd@h1.service"):
            wait_until(lambda: self.inside("systemctl", "is-active", unit,
                                           check=False).stdout.strip() == "inactive",
                       30, "%s stopped" % unit)
        type(self)._passed = True

    def host_h1(self):
        cp = self.inside("dvsctl", "--json", "host", "show", "h1", check=False)
        return json.loads(cp.stdout) if cp.returncode == 0 else {}


if __name__ == "__main__":
    dvstest.main()
