#!/usr/bin/env bash
# Open vSwitch with DPDK (Debian's openvswitch-switch-dpdk) as the switch:
# a private ovsdb-server and ovs-vswitchd under DIR/ovs, bridge br0 on the
# netdev (userspace) datapath with the NORMAL action (L2 learning), two
# dpdkvhostuserclient ports connecting to DIR/a.sock and DIR/b.sock, one PMD
# thread on SW_CPU (default 1), 1 GiB of 2 MiB hugepages.
# Runs until SIGTERM; then writes the PMD's pmd-stats-show (processing
# cycles per packet) to DIR/switch-stats.txt and the ports' statistics
# (drops included) to DIR/switch-ports.txt, and stops both daemons.
# Usage: peer-ovs-dpdk.sh DIR
set -eu
dir=$1; cpu=${SW_CPU:-1}
run=$dir/ovs; rm -rf "$run"; mkdir -p "$run"
export OVS_RUNDIR=$run OVS_LOGDIR=$run OVS_DBDIR=$run OVS_SYSCONFDIR=$run
vswitchd=/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk
vsctl() { ovs-vsctl --db="unix:$run/db.sock" --timeout=30 "$@"; }
appctl() { ovs-appctl -t "$run/ovs-vswitchd-dpdk.$(cat "$run/vswitchd.pid").ctl" "$@"; }

stop() {
  if [ -s "$run/vswitchd.pid" ]; then
    appctl dpif-netdev/pmd-stats-show > "$dir/switch-stats.txt" 2>&1 || true
    for p in vhu0 vhu1; do
      echo "$p $(vsctl get Interface $p statistics 2>/dev/null)"
    done > "$dir/switch-ports.txt"
  fi
  for f in vswitchd ovsdb; do
    [ -s "$run/$f.pid" ] && kill "$(cat "$run/$f.pid")" 2>/dev/null || true
  done
}
trap stop EXIT
trap 'exit 0' TERM INT

ovsdb-tool create "$run/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$run/conf.db" --remote="punix:$run/db.sock" \
  --pidfile="$run/ovsdb.pid" --detach --log-file="$run/ovsdb.log"
vsctl --no-wait init
vsctl --no-wait set Open_vSwitch . other_config:dpdk-init=true \
  "other_config:dpdk-extra=--no-pci --file-prefix dvs-peer-ovs$$" \
  other_config:dpdk-socket-mem=1024 \
  other_config:dpdk-lcore-mask=0x1 \
  "other_config:pmd-cpu-mask=$(printf '0x%x' $((1 << cpu)))"
"$vswitchd" "unix:$run/db.sock" --pidfile="$run/vswitchd.pid" \
  --log-file="$run/vswitchd.log" &
# Without --no-wait, ovs-vsctl returns once ovs-vswitchd has applied the
# change: the ports exist (and try to connect) when this returns.
vsctl add-br br0 -- set bridge br0 datapath_type=netdev
vsctl add-port br0 vhu0 -- set Interface vhu0 type=dpdkvhostuserclient \
  "options:vhost-server-path=$dir/a.sock"
vsctl add-port br0 vhu1 -- set Interface vhu1 type=dpdkvhostuserclient \
  "options:vhost-server-path=$dir/b.sock"
wait %1 || true
