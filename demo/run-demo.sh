#!/bin/bash
# Two QEMU guests on one dvs-switchd: ping between them, show the switch.
#
#   demo/run-demo.sh [BUILDDIR]        (default: build; run as root)
#
# Builds the guest kernel/initramfs if needed (tests/guest/mkinitramfs.sh),
# starts dvs-switchd with ports vm1 and vm2, boots a TCG guest on each,
# shows `dvs-switchctl port list`, pings both ways, shows `port show` for
# both ports and `mac dump`, and ends everything it started on exit (also
# on Ctrl-C).  See docs/demo.md.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
[ -d "$build" ] || [ "${build#/}" != "$build" ] || build=$src/$build
[ -d "$build" ] || { echo "run-demo: no build directory $build (meson setup build && ninja -C build)" >&2; exit 1; }
build=$(cd "$build" && pwd)
switchd=$build/qemu-netdev-dvs/dvs-switchd
switchctl=$build/qemu-netdev-dvs/switchctl/dvs-switchctl
for exe in "$switchd" "$switchctl"; do
	[ -x "$exe" ] || { echo "run-demo: $exe not built (ninja -C $build)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run-demo: run as root (vhost-user sockets, DPDK)" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "run-demo: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 1; }

bold() { if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }

bold "guest kernel and initramfs"
guestdir=$build/tests/integration/guest
kernel=$("$src/tests/guest/mkinitramfs.sh" "$guestdir")
initrd=$guestdir/initramfs.cpio.gz
echo "kernel $kernel, initramfs $initrd"

work=$(mktemp -d /tmp/dvs-demo.XXXXXX)
name=demo$$
ctl_sock=$work/control.sock
switchd_pid=
declare -A qemu_pid=() console_fd=() ncmd=()

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	for g in "${!qemu_pid[@]}"; do
		kill -TERM "${qemu_pid[$g]}" 2>/dev/null || true
	done
	for g in "${!qemu_pid[@]}"; do
		wait "${qemu_pid[$g]}" 2>/dev/null || true
	done
	if [ -n "$switchd_pid" ] && kill -0 "$switchd_pid" 2>/dev/null; then
		kill -TERM "$switchd_pid"
		local s=0
		wait "$switchd_pid" || s=$?
		echo "dvs-switchd (pid $switchd_pid) stopped, exit status $s"
	fi
	if [ $rc -ne 0 ] && [ -f "$work/switchd.log" ]; then
		echo "---- dvs-switchd log (last lines) ----"; tail -n 30 "$work/switchd.log"
		for f in "$work"/*.console; do
			[ -f "$f" ] && { echo "---- ${f##*/} ----"; tr -d '\r' <"$f" | tail -n 20; }
		done
	fi
	rm -rf "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# all_alive: true while dvs-switchd and every guest's QEMU still run
all_alive() {
	local p
	for p in $switchd_pid "${qemu_pid[@]}"; do
		kill -0 "$p" 2>/dev/null || { echo "run-demo: process $p (dvs-switchd or QEMU) exited" >&2; return 1; }
	done
}

# wait_for SECONDS WHAT COMMAND...: poll COMMAND every 0.2 s
wait_for() {
	local secs=$1 what=$2 i=0
	shift 2
	until "$@"; do
		all_alive || return 1
		i=$((i + 1))
		[ $i -le $((secs * 5)) ] || { echo "run-demo: timed out waiting for $what" >&2; return 1; }
		sleep 0.2
	done
}

ctl() {
	echo "\$ dvs-switchctl $*"
	"$switchctl" -s "$ctl_sock" "$@"
}

bold "dvs-switchd with ports vm1 and vm2"
"$switchd" --name "$name" --control-socket "$ctl_sock" --state-dir "$work/state" \
	--port "vm1=$work/vm1.sock" --port "vm2=$work/vm2.sock" \
	</dev/null 2>"$work/switchd.log" &
switchd_pid=$!
wait_for 30 "dvs-switchd's control socket" "$switchctl" -s "$ctl_sock" show >/dev/null 2>&1
echo "dvs-switchd --name $name (pid $switchd_pid), log in $work/switchd.log"

# start_guest NAME MAC ADDR/LEN: QEMU is the vhost-user server on
# $work/NAME.sock (the switch connects to it); serial console on a fifo and
# a file.
start_guest() {
	local g=$1 mac=$2 ip=$3 fd
	mkfifo "$work/$g.in"
	qemu-system-x86_64 -accel tcg -nodefaults -no-user-config -display none -no-reboot \
		-smp 1 -m 256M \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=1 dvs.name=$g dvs.mac=$mac dvs.ip=$ip" \
		-chardev "socket,id=c0,path=$work/$g.sock,server=on,wait=off" \
		-netdev vhost-user,id=n0,chardev=c0 \
		-device "virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=$mac" \
		-chardev stdio,id=ser0,signal=off -serial chardev:ser0 \
		<"$work/$g.in" >"$work/$g.console" 2>&1 &
	qemu_pid[$g]=$!
	exec {fd}>"$work/$g.in"
	console_fd[$g]=$fd
	ncmd[$g]=0
}

guest_state() {	# guest_state NAME: true once the guest printed its ready or failed line
	grep -qa -e '^DVS-READY' -e '^DVS-FAILED' "$work/$1.console"
}

# guest_run NAME COMMAND: run COMMAND on the guest's console, print its
# output, return its exit status.
guest_run() {
	local g=$1 cmd=$2 n rc
	n=$((ncmd[$g] + 1))
	ncmd[$g]=$n
	echo "[$g]\$ $cmd"
	echo "$cmd" >&"${console_fd[$g]}"
	wait_for 60 "'$cmd' on $g" grep -qa "^DVS-END $n rc=" "$work/$g.console"
	tr -d '\r' <"$work/$g.console" | awk -v n="$n" '
		$0 == "DVS-BEGIN " n { p = 1; next }
		index($0, "DVS-END " n " rc=") == 1 { exit }
		p { print "    " $0 }'
	rc=$(tr -d '\r' <"$work/$g.console" | sed -n "s/^DVS-END $n rc=\([0-9]*\)$/\1/p")
	return "$rc"
}

bold "two guests (TCG, a few seconds to boot)"
start_guest vm1 02:d5:00:00:02:01 10.0.0.1/24
start_guest vm2 02:d5:00:00:02:02 10.0.0.2/24
t0=$SECONDS
for g in vm1 vm2; do
	wait_for 120 "guest $g to boot" guest_state "$g"
	tr -d '\r' <"$work/$g.console" | grep -a -e '^DVS-READY' -e '^DVS-FAILED'
	grep -qa '^DVS-READY' "$work/$g.console" || exit 1
done
echo "both guests up after $((SECONDS - t0)) s"

bold "ports"
ctl port list

bold "ping vm1 -> vm2 and vm2 -> vm1"
guest_run vm1 "ping -c 4 -i 0.5 10.0.0.2"
guest_run vm2 "ping -c 4 -i 0.5 10.0.0.1"

bold "counters and MAC table"
ctl port show vm1
echo
ctl port show vm2
echo
ctl mac dump

bold "done; stopping everything"
