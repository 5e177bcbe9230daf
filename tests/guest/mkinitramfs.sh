#!/bin/bash
# Build the initramfs of the DVS test guest.
#
#   tests/guest/mkinitramfs.sh OUTDIR
#
# Writes OUTDIR/initramfs.cpio.gz (busybox-static, the virtio-net modules
# with their dependencies from an installed Debian kernel, and an /init that
# configures eth0 from the kernel command line and then runs commands typed
# on the serial console).  If the kernel supports PVH boot, its ELF image is
# extracted to OUTDIR/vmlinux-VERSION (QEMU boots it ~4 s faster under TCG
# than the bzImage).  Prints the path of the kernel to boot on stdout (and
# writes it to OUTDIR/kernel); nothing else goes to stdout.
#
# Idempotent: the archive is reproducible, and OUTDIR/initramfs.cpio.gz is
# only replaced (and its mtime only changes) when its content changes.
#
# Environment:
#   DVS_GUEST_KERNEL   kernel image to use (default: the newest
#                      /boot/vmlinuz-VERSION with /usr/lib/modules/VERSION)
#   DVS_GUEST_MODULES  modules to load (default: "virtio_pci virtio_net")
#   DVS_GUEST_NO_PVH   if set, boot the bzImage instead of an extracted vmlinux
#
# Needs (Debian packages): linux-image-amd64, busybox-static, python3.
# The console protocol of the guest is described at the top of /init below.
set -euo pipefail

prog=${0##*/}
die() { echo "$prog: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $prog OUTDIR" >&2; exit 2; }
outdir=$1

# --- what we need from the host -------------------------------------------
busybox=
for b in /bin/busybox /usr/bin/busybox; do
	[ -x "$b" ] && { busybox=$b; break; }
done
[ -n "$busybox" ] || die "no busybox found; install the Debian package busybox-static (apt-get install busybox-static)"
if ldd "$busybox" >/dev/null 2>&1; then
	die "$busybox is dynamically linked; install the Debian package busybox-static (apt-get install busybox-static)"
fi
command -v python3 >/dev/null || die "python3 not found; install the Debian package python3"

if [ -n "${DVS_GUEST_KERNEL:-}" ]; then
	kernel=$DVS_GUEST_KERNEL
	[ -r "$kernel" ] || die "DVS_GUEST_KERNEL=$kernel is not a readable file"
	kver=${kernel##*/vmlinuz-}
	[ "$kver" != "$kernel" ] || die "cannot tell the kernel version from DVS_GUEST_KERNEL=$kernel (expected .../vmlinuz-VERSION)"
else
	kernel='' kver=''
	for k in $(printf '%s\n' /boot/vmlinuz-* | sort -V -r); do
		v=${k##*/vmlinuz-}
		if [ -r "$k" ] && [ -f "/usr/lib/modules/$v/modules.dep" ]; then
			kernel=$k kver=$v
			break
		fi
	done
	[ -n "$kernel" ] || die "no kernel with modules in /boot and /usr/lib/modules; install the Debian package linux-image-amd64 (apt-get install linux-image-amd64)"
fi
moddir=/usr/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep missing; reinstall the kernel package (linux-image-$kver) or run depmod $kver"

# --- modules in load order ------------------------------------------------
# modules.dep: "kernel/drivers/net/virtio_net.ko: dep1.ko dep2.ko ..."
declare -A dep_of=() path_of=() done_mod=()
while IFS= read -r line; do
	m=${line%%:*}
	n=${m##*/}; n=${n%%.ko*}; n=${n//-/_}
	path_of[$n]=$m
	dep_of[$n]=${line#*:}
done <"$moddir/modules.dep"
declare -A builtin=()
if [ -f "$moddir/modules.builtin" ]; then
	while IFS= read -r m; do
		n=${m##*/}; n=${n%%.ko*}; builtin[${n//-/_}]=1
	done <"$moddir/modules.builtin"
fi

order=()
add_module() {	# add_module NAME: its dependencies first, then itself
	local n=${1//-/_} d dn
	[ -n "${done_mod[$n]:-}" ] && return 0
	done_mod[$n]=1
	[ -n "${builtin[$n]:-}" ] && return 0
	[ -n "${path_of[$n]:-}" ] || die "kernel module $n not found for $kver (not in $moddir/modules.dep)"
	for d in ${dep_of[$n]}; do
		dn=${d##*/}; dn=${dn%%.ko*}
		add_module "$dn"
	done
	order+=("$n")
}
for m in ${DVS_GUEST_MODULES:-virtio_pci virtio_net}; do
	add_module "$m"
done

# --- staging tree ---------------------------------------------------------
mkdir -p "$outdir" || die "cannot create $outdir"
stage=$(mktemp -d "${TMPDIR:-/tmp}/dvs-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,root,etc,lib/modules}
cp "$busybox" "$stage/bin/busybox"
"$busybox" --list | grep -vx busybox >"$stage/.applets"	# bin/APPLET -> busybox, made by the archiver
: >"$stage/lib/modules/load-order"
for n in "${order[@]}"; do
	src=$moddir/${path_of[$n]}
	case "$src" in
	*.ko) cp "$src" "$stage/lib/modules/$n.ko" ;;
	*.ko.xz) xz -dc "$src" >"$stage/lib/modules/$n.ko" ;;
	*.ko.zst) zstd -qdc "$src" >"$stage/lib/modules/$n.ko" ;;
	*.ko.gz) gzip -dc "$src" >"$stage/lib/modules/$n.ko" ;;
	*) die "unknown module file type: $src" ;;
	esac
	echo "$n.ko" >>"$stage/lib/modules/load-order"
done
echo "$kver" >"$stage/etc/kernel-version"

cat >"$stage/init" <<'INIT_EOF'
#!/bin/sh
# /init of the DVS test guest (busybox), written by tests/guest/mkinitramfs.sh.
#
# Kernel command line parameters (all optional):
#   dvs.ip=ADDR/LEN     IPv4 address of eth0 (none: link up only)
#   dvs.mac=MAC         MAC address of eth0 (default: the one QEMU gave it)
#   dvs.mtu=N           MTU of eth0
#   dvs.gw=ADDR         default route
#   dvs.name=NAME       host name, also shown in the ready line
#   dvs.ipv6=1          keep IPv6 (default off: no RS/DAD/MLD frames)
#
# Serial console protocol (tests/integration/dvstest.py relies on it):
#   once eth0 is configured, one line:   DVS-READY name=NAME ip=ADDR/LEN mac=MAC
#   on failure instead:                  DVS-FAILED REASON
#   then every line read from the console is run by `sh -c LINE` (stdin
#   /dev/null, stderr to stdout), its output framed by
#                                        DVS-BEGIN N
#                                        DVS-END N rc=STATUS
#   N counts commands from 1.  The console does not echo what is typed.
export PATH=/bin
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
# Only emergencies reach the console from now on.
echo "1 4 1 1" >/proc/sys/kernel/printk

name=guest ip='' mac='' mtu='' gw='' ipv6=0
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	dvs.ip=*) ip=${arg#dvs.ip=} ;;
	dvs.mac=*) mac=${arg#dvs.mac=} ;;
	dvs.mtu=*) mtu=${arg#dvs.mtu=} ;;
	dvs.gw=*) gw=${arg#dvs.gw=} ;;
	dvs.name=*) name=${arg#dvs.name=} ;;
	dvs.ipv6=*) ipv6=${arg#dvs.ipv6=} ;;
	esac
done
hostname "$name"

fail() {
	echo "DVS-FAILED $*"
	# PID 1 must stay alive (its exit panics the kernel).
	exec sleep 2147483647
}

if [ "$ipv6" != 1 ] && [ -d /proc/sys/net/ipv6 ]; then
	echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
	echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
fi

while read -r mod; do
	[ -n "$mod" ] && { insmod "/lib/modules/$mod" || fail "insmod $mod"; }
done </lib/modules/load-order

i=0
while [ ! -e /sys/class/net/eth0 ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && fail "no eth0 after 10 s (is there a virtio-net-pci device?)"
	usleep 50000
done

ip link set lo up
[ -n "$mac" ] && { ip link set eth0 address "$mac" || fail "bad dvs.mac=$mac"; }
[ -n "$mtu" ] && { ip link set eth0 mtu "$mtu" || fail "bad dvs.mtu=$mtu"; }
ip link set eth0 up || fail "cannot set eth0 up"
[ -n "$ip" ] && { ip addr add "$ip" dev eth0 || fail "bad dvs.ip=$ip"; }
[ -n "$gw" ] && { ip route add default via "$gw" || fail "bad dvs.gw=$gw"; }

stty -echo 2>/dev/null
echo "DVS-READY name=$name ip=${ip:-none} mac=$(cat /sys/class/net/eth0/address)"

n=0
while :; do
	while IFS= read -r line; do
		n=$((n + 1))
		echo "DVS-BEGIN $n"
		sh -c "$line" </dev/null 2>&1
		echo "DVS-END $n rc=$?"
	done
	sleep 1	# EOF on the console: keep PID 1 alive
done
INIT_EOF
chmod 755 "$stage/init"

# --- archive: reproducible newc cpio, gzip with mtime 0 -------------------
# Written by python3 so that device nodes need no root and nothing depends
# on file times or the host's cpio.
tmp_out=$outdir/.initramfs.cpio.gz.tmp.$$
python3 - "$stage" "$tmp_out" <<'PY_EOF'
import gzip, os, stat, sys
root, out = sys.argv[1], sys.argv[2]
entries = []   # (name, mode, rdev_major, rdev_minor, data)
with open(os.path.join(root, ".applets")) as fh:
    applets = sorted(set(fh.read().split()))
os.unlink(os.path.join(root, ".applets"))
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    rel = os.path.relpath(dirpath, root)
    if rel != ".":
        entries.append((rel, stat.S_IFDIR | 0o755, 0, 0, b""))
    if rel == "bin":
        entries.extend(("bin/" + a, stat.S_IFLNK | 0o777, 0, 0, b"busybox")
                       for a in applets if a not in filenames)
    for f in sorted(filenames):
        p = os.path.join(dirpath, f)
        name = os.path.normpath(os.path.join(rel, f))
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            entries.append((name, stat.S_IFLNK | 0o777, 0, 0, os.readlink(p).encode()))
        else:
            with open(p, "rb") as fh:
                data = fh.read()
            entries.append((name, stat.S_IFREG | (st.st_mode & 0o777), 0, 0, data))
for name, major, minor in (("dev/console", 5, 1), ("dev/null", 1, 3), ("dev/ttyS0", 4, 64)):
    entries.append((name, stat.S_IFCHR | 0o600, major, minor, b""))
entries.append(("TRAILER!!!", 0, 0, 0, b""))

def pad4(n):
    return (4 - n % 4) % 4

buf = bytearray()
for ino, (name, mode, maj, mnr, data) in enumerate(entries, 1):
    nb = name.encode() + b"\0"
    fields = (ino if name != "TRAILER!!!" else 0, mode, 0, 0,
              2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0, maj, mnr, len(nb), 0)
    hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
    buf += hdr + nb + b"\0" * pad4(len(hdr) + len(nb))
    buf += data + b"\0" * pad4(len(data))
with open(out, "wb") as fh:
    with gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0, compresslevel=6) as gz:
        gz.write(bytes(buf))
PY_EOF

final=$outdir/initramfs.cpio.gz
if [ -f "$final" ] && cmp -s "$tmp_out" "$final"; then
	rm -f "$tmp_out"
else
	mv -f "$tmp_out" "$final"
	echo "$prog: wrote $final (kernel $kver, modules: ${order[*]})" >&2
fi
# --- kernel: the uncompressed ELF vmlinux when the kernel can boot PVH ----
# QEMU boots an ELF vmlinux through its PVH entry point directly; under TCG
# that skips ~4 s of real-mode set-up and xz decompression of the bzImage.
boot_kernel=$kernel
if [ -z "${DVS_GUEST_NO_PVH:-}" ] && grep -qs '^CONFIG_PVH=y' "/boot/config-$kver"; then
	vmlinux=$outdir/vmlinux-$kver
	stamp="$kernel $(stat -c '%s %Y' "$kernel")"
	if [ ! -s "$vmlinux" ] || [ "$(cat "$vmlinux.stamp" 2>/dev/null)" != "$stamp" ]; then
		if python3 - "$kernel" "$vmlinux.tmp.$$" <<'PY_EOF'
import gzip, lzma, sys, zlib
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
out = None
for magic, make in ((b"\xfd7zXZ\x00", lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ)),
                    (b"\x1f\x8b\x08", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS))):
    pos = data.find(magic)
    while pos >= 0 and out is None:
        try:
            cand = make().decompress(data[pos:])
            if cand[:4] == b"\x7fELF":
                out = cand
        except (lzma.LZMAError, zlib.error, EOFError):
            pass
        pos = data.find(magic, pos + 1)
    if out is not None:
        break
if out is None:
    sys.exit(1)
open(dst, "wb").write(out)
PY_EOF
		then
			mv -f "$vmlinux.tmp.$$" "$vmlinux"
			echo "$stamp" >"$vmlinux.stamp"
			boot_kernel=$vmlinux
		else
			rm -f "$vmlinux.tmp.$$"
			echo "$prog: note: cannot extract vmlinux from $kernel; booting the bzImage (slower)" >&2
		fi
	else
		boot_kernel=$vmlinux
	fi
fi

if [ "$(cat "$outdir/kernel" 2>/dev/null)" != "$boot_kernel" ]; then
	echo "$boot_kernel" >"$outdir/kernel"
fi
echo "$boot_kernel"
