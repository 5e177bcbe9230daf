#!/usr/bin/env bash
# Make sure at least PAGES (default 1536, 3 GiB) 2 MiB hugepages are
# reserved and hugetlbfs is mounted on /dev/hugepages: the benchmark's
# switches each take 1 GiB (the generator runs without hugepages).  Never
# lowers a reservation someone else made.  Needs root.
# Usage: hugepages.sh [PAGES]
set -eu
want=${1:-1536}
sysfs=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
have=$(cat "$sysfs")
if [ "$have" -lt "$want" ]; then
  echo "$want" > "$sysfs"
  have=$(cat "$sysfs")
  # The kernel grants what it can find contiguous; fewer is not an error
  # here, the switches say so if they cannot get their memory.
  [ "$have" -ge "$want" ] || echo "hugepages: asked for $want 2 MiB pages, got $have" >&2
fi
mkdir -p /dev/hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages
echo "hugepages: $have reserved, $(awk '/HugePages_Free/ {print $2}' /proc/meminfo) free (2 MiB)"
