"""libvirt2: a real libvirtd on each of twohost's two hosts, for
`virsh migrate --live` between them (docs/design.md, "Testing on these
machines").

Each host's mount namespace (twohost.Host) gets private bind mounts of
/etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and
/var/log/libvirt from WORKDIR/HOST/..., plus /etc/passwd and /etc/group
with Debian's libvirt-qemu account when the machine lacks it (libvirtd
resolves it before reading qemu.conf).  libvirtd.conf has its own host_uuid
(same UUID or host name: "migrate guest to the same host"), auth none;
qemu.conf runs QEMU as root without a security driver, namespaces or
cgroups, stdio_handler "file".  The hook is installed in each host's
/etc/libvirt/hooks/qemu.d/dvs before libvirtd starts (it reads hooks at
start), and libvirtd runs inside the host (nsenter), beside its dvs-switchd;
the hook finds the switch at the host's /run/dvs/dvs0/control.sock.

virsh runs in the root namespace against each libvirtd's socket
(qemu+unix:///system?socket=WORKDIR/HOST/run-libvirt/libvirt-sock).
Nothing of the machine's own libvirt is touched (only missing mount points
are created, and removed again).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dvstest  # noqa: E402
import twohost  # noqa: E402
from dvstest import HarnessError, Proc, register_log, tail, wait_until  # noqa: E402

LIBVIRT_DIRS = ("/etc/libvirt", "/run/libvirt", "/var/lib/libvirt", "/var/cache/libvirt",
                "/var/log/libvirt")


def uri_of(host):
    """The libvirt URI of HOST's libvirtd, from outside the host."""
    return "qemu+unix:///system?socket=" + os.path.join(
        host.root, "run-libvirt", "libvirt-sock")


def host_binds(workdir):
    """The bind list for twohost.World(host_binds=...)."""
    binds = [(d, d.strip("/").replace("/", "-")) for d in LIBVIRT_DIRS]
    for name, line in (("passwd", "libvirt-qemu:x:64055:64055::/var/lib/libvirt:/usr/sbin/nologin\n"),
                       ("group", "libvirt-qemu:x:64055:\nkvm:x:64056:\n")):
        with open("/etc/" + name) as f:
            text = f.read()
        if line.split(":")[0] + ":" not in text:
            path = os.path.join(workdir, name)
            with open(path, "w") as f:
                f.write(text + ("" if text.endswith("\n") else "\n") + line)
            binds.append(("/etc/" + name, path))
    return binds


class Libvirtd:
    """libvirtd inside twohost HOST (already started with host_binds)."""

    def __init__(self, host):
        self.host = host
        self.tree = {d: os.path.join(host.root, d.strip("/").replace("/", "-"))
                     for d in LIBVIRT_DIRS}
        etc = self.tree["/etc/libvirt"]
        with open(os.path.join(etc, "libvirtd.conf"), "w") as f:
            f.write('auth_unix_rw = "none"\nauth_unix_ro = "none"\nhost_uuid = "%s"\n'
                    'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"\n' % uuid.uuid4())
        with open(os.path.join(etc, "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\nsecurity_driver = "none"\n'
                    'stdio_handler = "file"\nnamespaces = [ ]\ncgroup_controllers = [ ]\n')
        hooks = os.path.join(etc, "hooks", "qemu.d")
        os.makedirs(hooks, exist_ok=True)
        shutil.copy(twohost.HOOK, os.path.join(hooks, "dvs"))
        os.chmod(os.path.join(hooks, "dvs"), 0o755)
        self.sock = os.path.join(self.tree["/run/libvirt"], "libvirt-sock")
        self.uri = uri_of(host)
        assert self.uri.endswith(self.sock), (self.uri, self.sock)
        self.logpath = os.path.join(host.root, "libvirtd.stderr.log")
        self.proc = None
        twohost.on_cleanup(self.kill_guests)

    def kill_guests(self):
        """SIGKILL every QEMU this libvirtd started (they are in sessions
        of their own, out of reach of the harness's process groups)."""
        for pid in self.qemu_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def start(self, timeout=60):
        log = open(self.logpath, "ab")
        register_log("libvirtd %s" % self.host.name, self.logpath)
        register_log("libvirtd %s log" % self.host.name,
                     os.path.join(self.tree["/var/log/libvirt"], "libvirtd.log"))
        self.proc = Proc("libvirtd " + self.host.name,
                         self.host.enter(["libvirtd", "-f", "/etc/libvirt/libvirtd.conf",
                                          "-p", "/run/libvirt/libvirtd.pid"]),
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()

        def ready():
            if not self.proc.alive():
                raise HarnessError("libvirtd on %s exited:\n%s" % (self.host.name,
                                                                   tail(self.logpath)))
            return os.path.exists(self.sock) and self.virsh("version", check=False).returncode == 0
        wait_until(ready, timeout, "libvirtd on %s" % self.host.name, interval=0.2)
        return self

    def virsh(self, *args, check=True, timeout=120):
        cp = subprocess.run(["virsh", "-c", self.uri] + list(args), stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=timeout)
        if check and cp.returncode != 0:
            raise HarnessError("virsh (%s) %s: exit %d\n%s%s" % (
                self.host.name, " ".join(args), cp.returncode, cp.stdout, cp.stderr))
        return cp

    def domstate(self, dom):
        cp = self.virsh("domstate", dom, check=False, timeout=30)
        return cp.stdout.strip() if cp.returncode == 0 else None

    def qemu_pids(self):
        d = os.path.join(self.tree["/run/libvirt"], "qemu")
        pids = []
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.endswith(".pid"):
                try:
                    with open(os.path.join(d, name)) as f:
                        pids.append(int(f.read().strip()))
                except (OSError, ValueError):
                    pass
        return pids

    def stop(self):
        if self.proc is None:
            return
        if self.proc.alive():
            cp = self.virsh("list", "--name", check=False, timeout=20)
            for name in cp.stdout.split():
                self.virsh("destroy", name, check=False, timeout=30)
        self.kill_guests()                  # whatever libvirtd could not end
        self.proc.stop(15)
        self.proc = None


def domain_xml(guest, console):
    """GUEST (a twohost.MigGuest with port and connection) as a libvirt
    domain: the TCG test guest booted from its kernel and initramfs, the
    vNIC on its DVport (metadata as docs/libvirt.md), memfd shared memory,
    vectors=0 through qemu:override, the serial console appended to
    CONSOLE (the same file on both hosts)."""
    kernel, initrd = dvstest.guest_images()
    base = guest.domain_xml()
    extra_os = """  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%s</kernel>
    <initrd>%s</initrd>
    <cmdline>console=ttyS0 quiet loglevel=1 panic=-1 dvs.name=%s dvs.mac=%s dvs.ip=%s</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>%s</emulator>
    <serial type='file'><source path='%s' append='on'/><target port='0'/></serial>
    <memballoon model='none'/>
""" % (kernel, initrd, guest.name, guest.mac, guest.ip, shutil.which(dvstest.QEMU), console)
    xml = base.replace("  <devices>\n", extra_os, 1)
    override = """  <qemu:override>
    <qemu:device alias='ua-dvs0'>
      <qemu:frontend>
        <qemu:property name='vectors' type='unsigned' value='0'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>"""
    return re.sub(r"</domain>\s*$", override, xml) + "\n"
