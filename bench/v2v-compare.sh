#!/usr/bin/env bash
# V2V benchmark: dvs-switchd against its peers in the same run.
#
# Each round runs, one after the other, dvs-switchd with plain ports, with
# DVports (counters in the runtime area, bursts journaled), testpmd-io (the
# one-core ceiling: no lookup at all) and OVS-DPDK (NORMAL action) as the
# switch between the two virtio-user ports of bench/harness/v2v-generator.sh
# (one testpmd sending open-loop flowgen traffic on CPU 0; the switch under
# test pinned to CPU 1).  For every run it prints what the generator
# offered, what came back, the fraction delivered and the fraction the
# switch's full rings refused, and flags a run the generator rather than
# the switch limited (docs/performance.md, "Method").  Then, per frame
# size, medians, our ratio to each peer over the rounds that can give one,
# and the switch's CPU use when idle with two connected ports.
#
# Usage: bench/v2v-compare.sh [-r ROUNDS] [-t SECONDS] [-s SIZE | --sizes LIST]
#                             [--switches LIST] [-b BUILDDIR] [--no-ovs] [--no-idle] [--keep]
#   SIZE: a frame length with FCS (64 to 1518) or imix; LIST: comma-separated,
#   e.g. --sizes 64,1518,imix.  --switches: a subset of
#   dvs,dvs-dvport,testpmd-io,ovs-dpdk.  --keep keeps every run's logs.
# Needs root, 2 MiB hugepages for the switches (reserved here if missing)
# and the packages dpdk, openvswitch-switch-dpdk (installed here if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
harness=$here/harness
rounds=3 secs=10 sizes=64 build=$top/build ovs=1 idle=1 keep=0
switches=dvs,dvs-dvport,testpmd-io,ovs-dpdk
while [ $# -gt 0 ]; do
  case $1 in
    -r) rounds=$2; shift 2 ;;
    -t) secs=$2; shift 2 ;;
    -s|--sizes) sizes=$2; shift 2 ;;
    --switches) switches=$2; shift 2 ;;
    -b) build=$(cd "$2" && pwd); shift 2 ;;
    --no-ovs) ovs=0; shift ;;
    --no-idle) idle=0; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "v2v-compare: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ $ovs = 1 ] || switches=$(echo "$switches" | tr , '\n' | grep -vx ovs-dpdk | paste -sd, -)
for z in ${sizes//,/ }; do
  case $z in
    imix) ;;
    *[!0-9]*|'') echo "v2v-compare: frame size $z is neither a number nor imix" >&2; exit 2 ;;
    *) [ "$z" -ge 64 ] && [ "$z" -le 1518 ] || { echo "v2v-compare: frame size $z outside 64..1518" >&2; exit 2; } ;;
  esac
done
for p in ${switches//,/ }; do
  case $p in dvs|dvs-dvport|testpmd-io|ovs-dpdk) ;; *) echo "v2v-compare: unknown switch $p" >&2; exit 2 ;; esac
done
switchd=$build/qemu-netdev-dvs/dvs-switchd
switchctl=$build/qemu-netdev-dvs/switchctl/dvs-switchctl
[ -x "$switchd" ] || { echo "v2v-compare: $switchd not built (run meson/ninja first)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "v2v-compare: needs root (vhost-user, hugepages, CPU pinning)" >&2; exit 1; }

need=()
command -v dpdk-testpmd >/dev/null || need+=(dpdk)
[[ ,$switches, != *,ovs-dpdk,* ]] || [ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || need+=(openvswitch-switch-dpdk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
"$harness/hugepages.sh" 1536 >/dev/null

work=$(mktemp -d /tmp/dvs-bench.XXXXXX)
# DPDK leaves a runtime dir (/run/dpdk/PREFIX) and, for hugepage users,
# its page files (/dev/hugepages/PREFIXmap_N) behind.  Remove those this run
# created, by the prefixes the generator (dvs-gen), the peers (dvs-peer-)
# and dvs-switchd (dvs-dvs-bench-) use, once every process has stopped.
dpdk_leftovers() {
  ls -d /run/dpdk/dvs-* /dev/hugepages/dvs-* 2>/dev/null | grep -E '/(dvs-gen|dvs-peer-|dvs-dvs-bench-)' | sort || true
}
dpdk_leftovers > "$work/dpdk-before"
cleanup() {
  dpdk_leftovers | comm -13 "$work/dpdk-before" - | xargs -r rm -rf
  if [ $keep = 1 ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The switch's own account of its processing cycles per packet.
cycles_per_packet() {
  local name=$1 dir=$2
  case $name in
    dvs|dvs-dvport) sed -n 's/.*"cycles_per_packet" *: *\([0-9.]*\).*/\1/p' "$dir/switch-stats.txt" 2>/dev/null | head -1 ;;
    testpmd-io) sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$dir/switch.log" | tail -1 ;;
    ovs-dpdk) sed -n 's/.*avg processing cycles per packet: \([0-9.]*\).*/\1/p;s/.*processing cycles:.*(\([0-9.]*\) cycles\/pkt).*/\1/p' "$dir/switch-stats.txt" 2>/dev/null | tail -1 ;;
  esac
}

# The command that runs switch NAME; it gets the socket directory as its
# last argument and must stop, having saved its statistics, on SIGTERM.
switch_command() {
  case $1 in
    dvs) cmd=(bash -c 'dvs_switch "$0"') ;;
    dvs-dvport) cmd=(bash -c 'dvs_dvport_switch "$0"') ;;
    testpmd-io) cmd=("$harness/peer-testpmd-io.sh") ;;
    ovs-dpdk) cmd=("$harness/peer-ovs-dpdk.sh") ;;
  esac
}

# One measurement: NAME FRAME_SIZE.  Prints the generator's window
# (v2v-window.awk) and, on the next line, the cycles per packet.
# The switch runs in a session of its own: after its leader has stopped
# (and saved its statistics), whatever it left behind in that session is
# stopped too, so that no busy-polling process outlives the run.
measure() {
  local name=$1 size=$2
  local dir; dir=$(mktemp -d "$work/$name-$size.XXXX")
  local cmd; switch_command "$name"
  setsid "${cmd[@]}" "$dir" >"$dir/switch.log" 2>&1 &
  local sw=$!
  local window
  window=$("$harness/v2v-generator.sh" "$dir" "$secs" "$size" | tail -1) || true
  kill -TERM "$sw" 2>/dev/null; wait "$sw" 2>/dev/null || true
  stop_session "$sw"
  echo "${window:-error=generator-failed}"
  local cpp; cpp=$(cycles_per_packet "$name" "$dir")
  [[ $cpp =~ ^[0-9]+(\.[0-9]+)?$ ]] || cpp=-
  echo "$cpp"
}

# Stop every process left in session SID: TERM, then KILL after 5 s.
stop_session() {
  local sid=$1 i
  for i in $(seq 50); do
    pgrep -s "$sid" >/dev/null || return 0
    [ "$i" = 1 ] && pkill -TERM -s "$sid"
    [ "$i" = 50 ] && pkill -KILL -s "$sid"
    sleep 0.1
  done
}

# dvs-switchd as the switch under test: on SIGTERM, save its datapath stats
# (cycles per packet, like OVS's pmd-stats-show) before stopping it.
dvs_switch() {
  local dir=$1
  "$switchd" --name "dvs-bench-$$" --control-socket "$dir/control.sock" \
    --cpu "${SW_CPU:-1}" --hugepages --memory 1024 \
    --port "a=$dir/a.sock" --port "b=$dir/b.sock" &
  local pid=$!
  trap '"$switchctl" --socket "$dir/control.sock" --json show > "$dir/switch-stats.txt" 2>&1; kill $pid; wait $pid; exit 0' TERM
  wait $pid
}
export -f dvs_switch

# dvs-switchd with the two ports as DVports of a DVswitch: their counters in
# the runtime area, every burst through the burst journal (docs/datapath.md).
dvs_dvport_switch() {
  local dir=$1
  "$switchd" --name "dvs-bench-dv$$" --control-socket "$dir/control.sock" \
    --cpu "${SW_CPU:-1}" --hugepages --memory 1024 --state-dir "$dir/state" &
  local pid=$!
  local ctl=("$switchctl" --socket "$dir/control.sock")
  for _ in $(seq 50); do "${ctl[@]}" switch list >/dev/null 2>&1 && break; sleep 0.1; done
  "${ctl[@]}" switch apply - >/dev/null <<JSON
{"id": "bench", "name": "bench", "ports": [
  {"key": "a", "connection": {"id": "conn-a"}},
  {"key": "b", "connection": {"id": "conn-b"}}]}
JSON
  "${ctl[@]}" dvport attach a conn-a "$dir/a.sock" >/dev/null
  "${ctl[@]}" dvport attach b conn-b "$dir/b.sock" >/dev/null
  trap '"${ctl[@]}" --json show > "$dir/switch-stats.txt" 2>&1; kill $pid; wait $pid; exit 0' TERM
  wait $pid
}
export -f dvs_dvport_switch
export switchd switchctl harness


# IMIX is composed from fixed sizes (v2v-summary.awk): run those it needs.
run_sizes=$(for z in ${sizes//,/ }; do
  if [ "$z" = imix ]; then echo 64; echo 594; echo 1518; else echo "$z"; fi
done | awk '!seen[$0]++' | paste -sd' ' -)

rows=$work/rows
: > "$rows"
printf '%-5s %-6s %-11s %8s %9s %7s %8s %6s %7s %8s  %s\n' size round switch offered delivered deliv% refused% lost% Gbit/s cyc/pkt notes
printf '%-5s %-6s %-11s %8s %9s %7s %8s %6s %7s %8s\n' '' '' '' Mpps Mpps
for r in $(seq 1 "$rounds"); do
  for z in $run_sizes; do
    for p in ${switches//,/ }; do
      out=$(measure "$p" "$z")
      # A run whose generator produced no window (it could not start, say:
      # EAL init fails when another program empties /run/dpdk) is tried
      # once more; the second failure is reported as NO-WINDOW.
      if [[ $(sed -n 1p <<<"$out") == error=* ]]; then
        echo "  ($p, $z bytes: $(sed -n 1p <<<"$out"); trying once more)" >&2
        out=$(measure "$p" "$z")
      fi
      window=$(sed -n 1p <<<"$out"); cpp=$(sed -n 2p <<<"$out")
      [ "$cpp" = - ] || cpp=$(printf '%.0f' "$cpp")
      row=$(awk -v size="$z" -v round="$r" -v name="$p" -v secs="$secs" -v cpp="$cpp" \
              -f "$harness/v2v-judge.awk" <<<"$window")
      echo "$row" >> "$rows"
      read -r _ _ _ o d dp rp lp g c _ gl notes <<<"$row"
      if [ "$p" = testpmd-io ] && [ "$gl" = 1 ]; then
        notes="GENERATOR-LIMITED: the ceiling is the generator, ratios to it say nothing ($notes)"
      fi
      printf '%-5s %-6s %-11s %8s %9s %7s %8s %6s %7s %8s  %s\n' "$z" "$r" "$p" "$o" "$d" "$dp" "$rp" "$lp" "$g" "$c" "$notes"
    done
  done
done

awk -v sizes="$sizes" -v switches="$switches" -v ours=dvs -v ceiling=testpmd-io \
    -v rounds="$rounds" -v secs="$secs" -f "$harness/v2v-summary.awk" "$rows"

[ $idle = 1 ] || exit 0
# Idle CPU: two connected ports, no traffic, 10 s.
dir=$(mktemp -d "$work/idle.XXXX")
dpdk-testpmd --no-huge -m 512 --no-pci --no-shconf --file-prefix "dvs-bench-idle$$" -l 0,1 \
  --vdev "net_virtio_user0,path=$dir/a.sock,server=1,queues=1" \
  --vdev "net_virtio_user1,path=$dir/b.sock,server=1,queues=1" \
  -- --total-num-mbufs=16384 --forward-mode=rxonly --stats-period 3600 </dev/null >"$dir/testpmd.log" 2>&1 &
tp=$!
sleep 2
"$switchd" --name "dvs-bench-idle$$" --control-socket "$dir/control.sock" \
  --port "a=$dir/a.sock" --port "b=$dir/b.sock" >"$dir/switch.log" 2>&1 &
sw=$!
for _ in $(seq 50); do
  [ "$("$switchctl" --socket "$dir/control.sock" port list 2>/dev/null | grep -c ' up ')" = 2 ] && break
  sleep 0.2
done
hz=$(getconf CLK_TCK)
t0=$(awk '{print $14+$15}' /proc/$sw/stat); sleep 10; t1=$(awk '{print $14+$15}' /proc/$sw/stat)
kill $sw $tp; wait $sw $tp 2>/dev/null || true
printf '\nidle (2 connected ports, adaptive polling): %.2f %% of one core over 10 s\n' \
  "$(echo "($t1 - $t0) * 100 / $hz / 10" | bc -l)"
