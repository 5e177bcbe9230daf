#!/usr/bin/env bash
# The V2V traffic generator: one dpdk-testpmd with two virtio-user ports,
# each a vhost-user *server* socket the switch under test connects to as a
# client (port 0 <-> DIR/a.sock, port 1 <-> DIR/b.sock).  testpmd's flowgen
# engine sends open-loop UDP traffic of many IP flows on both ports as fast
# as its core allows (CPU GEN_CPU, default 0) and counts what comes back.
#
# Usage: v2v-generator.sh DIR SECONDS FRAME_SIZE
#   FRAME_SIZE counts the 4-byte FCS, as on a wire: 64 sends 60-byte
#   buffers (flowgen takes the FCS off `set txpkts`).  The switch must attach
#   within ATTACH_WAIT seconds (default 6); WARMUP seconds (default 2) of
#   traffic pass before the measured window opens.
#
# Writes testpmd's log to DIR/generator.log and prints one line of
# key=value pairs, for the measured window only (see window_report()).
set -euo pipefail
dir=$1; secs=$2; size=$3
cpu=${GEN_CPU:-0}
log=$dir/generator.log
rm -f "$dir/a.sock" "$dir/b.sock"

# The window is opened and closed by testpmd itself: counters cleared, then
# a "show port stats" that starts its TSC-timed throughput interval; at the
# end another one (its Rx-pps is over exactly that interval) and the
# forwarding engine's own counts, which include the frames a full ring
# refused (TX-dropped).
commands() {
  sleep "${ATTACH_WAIT:-6}"
  echo "set txpkts $size"
  echo "set burst 32"
  echo "set fwd flowgen"
  echo "start"
  sleep "${WARMUP:-2}"
  echo "clear port stats all"
  echo "clear fwd stats all"
  echo "show port stats all"
  sleep "$secs"
  echo "show port stats all"
  echo "show fwd stats all"
  echo "stop"
  echo "quit"
}
commands | timeout $((secs + 60)) dpdk-testpmd --no-huge -m 1024 --no-pci \
    --lcores "0@$cpu,1@$cpu" --file-prefix "dvs-gen$$" \
    --vdev "net_virtio_user0,path=$dir/a.sock,server=1,queues=1" \
    --vdev "net_virtio_user1,path=$dir/b.sock,server=1,queues=1" \
    -- -i --total-num-mbufs=16384 --nb-cores=1 >"$log" 2>&1 || true

exec awk -f "$(dirname "$0")/v2v-window.awk" "$log"
