#!/usr/bin/env bash
# The ceiling: dpdk-testpmd as the "switch", forwarding io between two
# vhost-user client ports (net_vhost) with no lookup, no learning, no
# counters of its own beyond ethdev's.  Pinned to SW_CPU (default 1); 1 GiB
# of 2 MiB hugepages.  Runs until SIGTERM, then testpmd prints its forward
# statistics (frames forwarded, frames the generator's full receive ring
# refused as TX-dropped, and CPU cycles/packet) into its log.
# Usage: peer-testpmd-io.sh DIR   (connects to DIR/a.sock and DIR/b.sock)
set -eu
dir=$1; cpu=${SW_CPU:-1}
exec dpdk-testpmd -m 1024 --no-pci --lcores "0@$cpu,1@$cpu" \
  --file-prefix "dvs-peer-io$$" \
  --vdev "net_vhost0,iface=$dir/a.sock,client=1,queues=1" \
  --vdev "net_vhost1,iface=$dir/b.sock,client=1,queues=1" \
  -- --total-num-mbufs=16384 --nb-cores=1 --forward-mode=io \
  --stats-period 3600 --record-core-cycles --auto-start </dev/null
