#!/usr/bin/env bash
# V2V benchmark: dvs-switchd against its peers in the same run.
#
# Each round runs, one after the other, dvs-switchd with plain ports, with
# DVports (counters in the runtime area, bursts journaled), testpmd-io (the
# one-core ceiling: no lookup at all) and OVS-DPDK (NORMAL action) as the
# switch between the two virtio-user ports of ../shared/bench/v2v-loop.sh
# (one testpmd generating open-loop flowgen traffic of many IP flows on
# CPU 0; the switch under test pinned to CPU 1).  Prints each run's Mpps and
# processing cycles per packet, then medians and our ratio to each peer, and
# the switch's CPU use when idle with two connected ports.
#
# Usage: bench/v2v-compare.sh [-r ROUNDS] [-t SECONDS] [-s FRAME_SIZE] [-b BUILDDIR] [--no-ovs]
# Needs root, 2 MiB hugepages for the peers (reserved here if missing) and
# the packages dpdk, openvswitch-switch-dpdk (installed here if missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
shared=${DVS_SHARED_BENCH:-$top/../shared/bench}
rounds=3 secs=10 size=64 build=$top/build ovs=1
while [ $# -gt 0 ]; do
  case $1 in
    -r) rounds=$2; shift 2 ;;
    -t) secs=$2; shift 2 ;;
    -s) size=$2; shift 2 ;;
    -b) build=$(cd "$2" && pwd); shift 2 ;;
    --no-ovs) ovs=0; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "v2v-compare: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
switchd=$build/qemu-netdev-dvs/dvs-switchd
switchctl=$build/qemu-netdev-dvs/switchctl/dvs-switchctl
[ -x "$switchd" ] || { echo "v2v-compare: $switchd not built (run meson/ninja first)" >&2; exit 1; }
[ -d "$shared" ] || { echo "v2v-compare: harness not found at $shared (set DVS_SHARED_BENCH)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "v2v-compare: needs root (vhost-user, hugepages, CPU pinning)" >&2; exit 1; }

need=()
command -v dpdk-testpmd >/dev/null || need+=(dpdk-dev)
[ $ovs = 0 ] || [ -x /usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk ] || need+=(openvswitch-switch-dpdk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
if [ "$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)" -lt 1024 ]; then
  "$shared/hugepages.sh" >/dev/null
fi

work=$(mktemp -d /tmp/dvs-bench.XXXXXX)
ls /run/dpdk 2>/dev/null | sort > "$work/dpdk-before"
# The harness's testpmd and OVS leave their DPDK runtime dirs: remove the
# ones this run created.
cleanup() {
  ls /run/dpdk 2>/dev/null | sort | comm -13 "$work/dpdk-before" - | sed 's|^|/run/dpdk/|' | xargs -r rm -rf
  rm -rf "$work"
}
trap cleanup EXIT

# One measurement: NAME CMD... ; prints "pps cycles_per_packet".
measure() {
  local name=$1; shift
  local dir; dir=$(mktemp -d "$work/$name.XXXX")
  "$@" "$dir" >"$dir/switch.log" 2>&1 &
  local sw=$!
  local res; res=$(ATTACH_WAIT=${ATTACH_WAIT:-6} "$shared/v2v-loop.sh" "$dir" "$secs" "$size")
  kill "$sw" 2>/dev/null; wait "$sw" 2>/dev/null || true
  local cpp=""
  case $name in
    dvs|dvs-dvport) cpp=$(sed -n 's/.*"cycles_per_packet" *: *\([0-9.]*\).*/\1/p' "$dir/switch-stats.txt" 2>/dev/null | head -1) ;;
    testpmd-io) cpp=$(sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$dir/switch.log" | tail -1) ;;
    ovs-dpdk) cpp=$(sed -n 's/.*processing cycles:.*(\([0-9.]*\) cycles\/pkt).*/\1/p;s/.*avg processing cycles per packet: \([0-9.]*\).*/\1/p' "$dir/switch-stats.txt" 2>/dev/null | tail -1) ;;
  esac
  echo "${res#pps=} ${cpp:--}"
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
export switchd switchctl

declare -A all
peers=(dvs dvs-dvport testpmd-io)
[ $ovs = 1 ] && peers+=(ovs-dpdk)
printf '%-6s %-11s %10s %12s\n' round switch Mpps cycles/pkt
for r in $(seq 1 "$rounds"); do
  for p in "${peers[@]}"; do
    case $p in
      dvs) out=$(measure dvs bash -c 'dvs_switch "$0"') ;;
      dvs-dvport) out=$(measure dvs-dvport bash -c 'dvs_dvport_switch "$0"') ;;
      testpmd-io) out=$(measure testpmd-io "$shared/peer-testpmd-io.sh") ;;
      ovs-dpdk) out=$(measure ovs-dpdk "$shared/peer-ovs-dpdk.sh") ;;
    esac
    read -r pps cpp <<<"$out"
    all[$p]+="$pps "
    [ "$cpp" = - ] || cpp=$(printf '%.0f' "$cpp")
    printf '%-6s %-11s %10.2f %12s\n' "$r" "$p" "$(echo "$pps / 1000000" | bc -l)" "$cpp"
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
echo
echo "medians over $rounds rounds, ${size}-byte frames, ${secs} s each:"
dvs_med=$(echo "${all[dvs]}" | median)
for p in "${peers[@]}"; do
  m=$(echo "${all[$p]}" | median)
  if [ "$p" = dvs ]; then
    printf '  %-11s %6.2f Mpps\n' "$p" "$(echo "$m / 1000000" | bc -l)"
  else
    printf '  %-11s %6.2f Mpps   dvs/%s = %.2f\n' "$p" "$(echo "$m / 1000000" | bc -l)" "$p" "$(echo "$dvs_med / $m" | bc -l)"
  fi
done

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
