#!/bin/bash
# DVports: a port's runtime state belongs to the port, not to the VM process.
#
#   demo/run-demo.sh [BUILDDIR]        (default: build; run as root)
#
# Builds the guest kernel/initramfs if needed (tests/guest/mkinitramfs.sh),
# starts dvs-switchd with a local store, installs a DVswitch (port group
# "web": VLAN 10, ingress shaped; DVports p1 and p2) with `switch apply`,
# attaches the two vNIC sockets with their connection IDs, shows a stale
# connection ID refused, boots a TCG guest on each DVport and pings.  Then it
# powers guest 2 off (p2's state is checkpointed at link down), powers it on
# again with a new QEMU on the same socket and shows p2's counters going on
# from where they were and its MAC known right at link up.  Ends everything
# it started on exit (also on Ctrl-C).  See docs/demo.md and docs/dvport.md.
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
command -v python3 >/dev/null || { echo "run-demo: python3 missing (apt-get install python3)" >&2; exit 1; }

if [ -t 1 ]; then
	bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
	say() { printf '\033[2m%s\033[0m\n' "$*"; }
else
	bold() { printf '\n== %s\n' "$*"; }
	say() { printf '%s\n' "$*"; }
fi

t_start=$SECONDS
bold "guest kernel and initramfs"
guestdir=$build/tests/integration/guest
kernel=$("$src/tests/guest/mkinitramfs.sh" "$guestdir")
initrd=$guestdir/initramfs.cpio.gz
echo "kernel $kernel, initramfs $initrd"

work=$(mktemp -d /tmp/dvs-demo.XXXXXX)
cd "$work"	# the commands shown use paths relative to it
name=demo$$
ctl_sock=$work/control.sock
switchd_pid=
old_pid=	# a QEMU that is expected to exit (guest 2 powering off)
declare -A qemu_pid=() console_fd=() ncmd=()

cleanup() {
	local rc=$? p
	trap - EXIT INT TERM HUP
	for p in "${qemu_pid[@]}" $old_pid; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${qemu_pid[@]}" $old_pid; do
		wait "$p" 2>/dev/null || true
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
	cd /
	rm -rf "$work"
	[ $rc -ne 0 ] || echo "demo finished in $((SECONDS - t_start)) s"
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

# ctl ARGS...: show and run a dvs-switchctl command
ctl() {
	echo "\$ dvs-switchctl $*"
	"$switchctl" -s "$ctl_sock" "$@"
}

# json EXPR: evaluate the Python expression EXPR with `d` the JSON document
# on stdin; prints the value (strings bare, others as JSON)
json() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# dvport_json KEY: the DVport's dvport.show object (for the script's checks)
dvport_json() {
	"$switchctl" -s "$ctl_sock" --json dvport show "$1"
}
dvport_link() {	# dvport_link KEY STATE: true if the DVport's link is STATE
	[ "$(dvport_json "$1" 2>/dev/null | json 'd["link"]' 2>/dev/null)" = "$2" ]
}

# dvport_show KEY [--state]: `dvport show KEY`, without the unicast/
# multicast/broadcast lines and with the drop counters summed up; with
# --state, only from "attached:" on (no config)
dvport_show() {
	local from=switch:
	[ "${2:-}" != --state ] || from=attached:
	if [ "$from" = switch: ]; then
		echo "\$ dvs-switchctl dvport show $1      # trimmed: no per-cast lines, drops summed"
	else
		echo "\$ dvs-switchctl dvport show $1      # trimmed: no config, no per-cast lines, drops summed"
	fi
	"$switchctl" -s "$ctl_sock" dvport show "$1" | awk -v from="$from" '
		$1 == from { on = 1 }
		!on { next }
		/^ +packets +bytes$/ { w = length($0) - length("  bytes") }
		/^  (unicast|multicast|broadcast) +[0-9]+ +[0-9]+$/ { next }
		/^drops$/ { indrops = 1; sum = 0; next }
		indrops && /^  / { sum += $NF; next }
		indrops { printf("%-15s%" (w - 15) "d\n", "drops (all)", sum); indrops = 0 }
		{ print }'
}

bold "dvs-switchd, its local store in $work/state"
say "No ports on the command line: the DVswitch comes over the control socket."
"$switchd" --name "$name" --control-socket "$ctl_sock" --state-dir "$work/state" \
	</dev/null 2>"$work/switchd.log" &
switchd_pid=$!
wait_for 30 "dvs-switchd's control socket" "$switchctl" -s "$ctl_sock" show >/dev/null 2>&1
echo "dvs-switchd --name $name (pid $switchd_pid) in $work, log in switchd.log"

# The two VMs: vNIC MAC, IPv4 address, VM UUID, connection ID, DVport
declare -A mac=([vm1]=02:d5:00:00:02:01 [vm2]=02:d5:00:00:02:02)
declare -A ip=([vm1]=10.0.0.1/24 [vm2]=10.0.0.2/24)
declare -A vm=([vm1]=6f1c0000-0000-4000-8000-0000000000a1 [vm2]=6f1c0000-0000-4000-8000-0000000000a2)
declare -A conn=([vm1]=c-vm1-2 [vm2]=c-vm2-2)
declare -A port=([vm1]=p1 [vm2]=p2)
stale_conn=c-vm2-1

bold "switch apply: DVswitch dvs0, port group \"web\" (VLAN 10, ingress 100 Mbit/s), DVports p1 and p2"
say "What the manager sends: the whole DVswitch, each DVport with the connection (ID, VM, MAC) it is issued to."
cat >dvs0.json <<EOF
{"id": "dvs0", "name": "demo", "forwarding_class": "l2-learning", "mtu": 1500,
 "port_groups": [{"key": "pg-web", "name": "web",
                  "config": {"vlan": 10, "policy": {"shaping": {"ingress": {"average_kbps": 100000}}}}}],
 "ports": [{"key": "p1", "port_group": "pg-web",
            "connection": {"id": "${conn[vm1]}", "vm": "${vm[vm1]}", "mac": "${mac[vm1]}"}},
           {"key": "p2", "port_group": "pg-web",
            "connection": {"id": "${conn[vm2]}", "vm": "${vm[vm2]}", "mac": "${mac[vm2]}"}}]}
EOF
echo "\$ cat dvs0.json"
cat dvs0.json
ctl switch apply dvs0.json

bold "dvport attach: each vNIC socket to its DVport, with its connection ID"
say "QEMU will be the vhost-user server on the socket; the switch connects once it is there (link down until then)."
for g in vm1 vm2; do
	ctl dvport attach "${port[$g]}" "${conn[$g]}" "$g.sock"
done
ctl dvport list

bold "a stale connection ID is refused"
say "A vNIC attaches only to the DVport its current connection ID names: not with the ID of an old connection."
s=0
ctl dvport attach p2 "$stale_conn" vm2-old.sock 2>&1 || s=$?
echo "(exit status $s)"
echo "switch log: $(grep -a 'refused attach' switchd.log | tail -n 1 | sed 's/^.*msg="\([^"]*\)".*$/\1/')"
[ "$s" = 1 ] || { echo "run-demo: the stale connection ID was not refused" >&2; exit 1; }

# start_guest NAME: a guest on $work/NAME.sock.  QEMU is the vhost-user
# server (the switch connects to it); serial console on a fifo and a file.
start_guest() {
	local g=$1 fd
	rm -f "$work/$g.in"
	mkfifo "$work/$g.in"
	qemu-system-x86_64 -accel tcg -nodefaults -no-user-config -display none -no-reboot \
		-smp 1 -m 256M \
		-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1 dvs.name=$g dvs.mac=${mac[$g]} dvs.ip=${ip[$g]}" \
		-chardev "socket,id=c0,path=$work/$g.sock,server=on,wait=off" \
		-netdev vhost-user,id=n0,chardev=c0 \
		-device "virtio-net-pci,netdev=n0,vectors=0,romfile=,mac=${mac[$g]}" \
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

# wait_guest NAME: wait until the guest is up, show its ready line
wait_guest() {
	wait_for 120 "guest $1 to boot" guest_state "$1"
	tr -d '\r' <"$work/$1.console" | grep -a -e '^DVS-READY' -e '^DVS-FAILED'
	grep -qa '^DVS-READY' "$work/$1.console"
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

stopped() { ! kill -0 "$1" 2>/dev/null; }	# stopped PID: true once PID is gone

bold "boot both guests (TCG, a few seconds)"
t0=$SECONDS
start_guest vm1
start_guest vm2
for g in vm1 vm2; do
	wait_guest "$g"
done
wait_for 15 "the links of p1 and p2" eval 'dvport_link p1 up && dvport_link p2 up'
echo "both guests up, both DVport links up after $((SECONDS - t0)) s"

bold "ping through the DVswitch, then DVport p1"
say "The DVport's switch port (named p1) has VLAN 10 and the shaper from the port group; counters, MACs, class states."
guest_run vm1 "ping -c 3 -i 0.3 10.0.0.2"
dvport_show p1

bold "power guest 2 off"
say "Link down: the switch quiesces p2 and checkpoints its state to the local store; p2 stays attached."
echo "[vm2]\$ poweroff -f"
echo "poweroff -f" >&"${console_fd[vm2]}"
old_pid=${qemu_pid[vm2]}
unset 'qemu_pid[vm2]'	# its exit is expected now
if ! wait_for 15 "guest vm2 to power off" stopped "$old_pid" 2>/dev/null; then
	echo "(vm2 did not power off within 15 s; killing its QEMU)"
	kill -KILL "$old_pid" 2>/dev/null || true
fi
s=0
wait "$old_pid" 2>/dev/null || s=$?
echo "(QEMU of vm2, pid $old_pid, exited with status $s)"
old_pid=
fd=${console_fd[vm2]}
exec {fd}>&-
mv vm2.console vm2-boot1.console
wait_for 15 "p2's link to go down" dvport_link p2 down
before=$(dvport_json p2)
dvport_show p2 --state
say "state source is live while attached: the quiesced port keeps the state in the datapath until link up."
ckpt=state/switches/dvs0/checkpoints/p2.dvs
# checkpoint_current: true once p2's checkpoint holds the counters p2 had at link down
checkpoint_current() {
	[ -f "$ckpt" ] &&
		[ "$(tail -n +2 "$ckpt" | json 'd["counters"]')" = "$(json 'd["stats"]' <<<"$before")" ]
}
wait_for 10 "p2's checkpoint in the local store" checkpoint_current
# line 1 of a store file is its envelope, then the JSON payload (docs/local-store.md)
tail -n +2 "$ckpt" | python3 -c '
import base64, json, sys
c = json.load(sys.stdin)
n = c["counters"]
print("the checkpoint in the local store, %s (saved %s):" % (sys.argv[1], c["saved"]))
print("  rx %d packets / %d bytes, tx %d packets / %d bytes; class states: %s"
      % (n["rx"]["packets"], n["rx"]["bytes"], n["tx"]["packets"], n["tx"]["bytes"],
         ", ".join("%s %d bytes" % (k["class"], len(base64.b64decode(k["data"]))) for k in c["classes"])))' "$ckpt"

bold "power guest 2 on again: a new QEMU on the same socket"
say "Link up: p2 goes on with the state it had; its MAC is known at once (AGE counts from before the power-off)."
t0=$SECONDS
start_guest vm2
wait_for 60 "p2's link to come up" dvport_link p2 up
echo "p2's link is up after $((SECONDS - t0)) s; right away, before vm2 has sent anything:"
macs=$("$switchctl" -s "$ctl_sock" --json mac dump --port p2 | json '" ".join(e["mac"].lower() for e in d["entries"])')
[[ " $macs " == *" ${mac[vm2]} "* ]] || { echo "run-demo: ${mac[vm2]} not in the MAC table at p2's link up" >&2; exit 1; }
dvport_show p2 --state
wait_guest vm2
guest_run vm2 "ping -c 3 -i 0.3 10.0.0.1"
after=$(dvport_json p2)

bold "p2's counters across the power-off"
for dir in rx tx; do
	b=$(json "d[\"stats\"][\"$dir\"][\"packets\"]" <<<"$before")
	a=$(json "d[\"stats\"][\"$dir\"][\"packets\"]" <<<"$after")
	if [ "$a" -gt "$b" ]; then verdict="> $b: not reset"; else verdict="NOT > $b"; fi
	printf '%s packets before power-off: %d, now: %d  (%s)\n' "$dir" "$b" "$a" "$verdict"
	[ "$a" -gt "$b" ] || { echo "run-demo: p2's $dir counter did not go on" >&2; exit 1; }
done

bold "done; stopping everything"
