#!/usr/bin/env bash
# The switch under test for ../shared/bench/run-peer.sh: dvs-switchd with two
# client ports on DIR/a.sock and DIR/b.sock, datapath pinned to SW_CPU.
# Usage: dvs-switchd-v2v.sh DIR   (env DVS_SWITCHD, SW_CPU, DVS_BENCH_HUGEPAGES=1)
set -eu
dir=$1
bin=${DVS_SWITCHD:-$(dirname "$0")/../build/qemu-netdev-dvs/dvs-switchd}
huge=()
[ "${DVS_BENCH_HUGEPAGES:-1}" = 1 ] && huge=(--hugepages --memory 1024)
exec "$bin" --name "bench$$" --control-socket "$dir/control.sock" \
  --cpu "${SW_CPU:-1}" "${huge[@]}" ${DVS_BENCH_ARGS:-} \
  --port "a=$dir/a.sock" --port "b=$dir/b.sock"
