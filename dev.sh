#!/usr/bin/env bash
# Set up, build, test and demo the DVS on a Debian 12 machine.
#
#   ./dev.sh demo    install dependencies (apt), build, run the demo:
#                    dvsmgr and two hosts (namespaces, veth uplinks, a
#                    dvs-switchd each), two guests, a ping, live migrations,
#                    and the migrating VM's DVport state before and after
#   ./dev.sh demo-restart
#                    the single-host demo: a guest powered off and on keeps
#                    its DVport's state
#   ./dev.sh test    install dependencies, build with warnings as errors, run
#                    every test (unit, fuzz, integration with dpdk-testpmd,
#                    the Cockpit page in headless Chromium, the .deb packages
#                    installed in a debootstrap chroot,
#                    QEMU guests and dvsmgr; unit and fuzz again under
#                    ASan+UBSan)
#   ./dev.sh build   install dependencies and build only
#   ./dev.sh deps    install dependencies only
#
# Run as root (apt, vhost-user sockets, QEMU).  Build trees: build/ and
# build-asan/.  Environment: DVS_SKIP_APT=1 skips the package step.
set -euo pipefail
cd "$(dirname "$0")"

packages=(
  gcc libc6-dev pkg-config meson ninja-build python3
  libglib2.0-dev libjson-glib-dev libdpdk-dev dpdk dpdk-dev
  qemu-system-x86 linux-image-amd64 busybox-static cpio kmod
  iproute2 procps bc groff-base man-db
  libsqlite3-dev glib-networking libgnutls28-dev dbus python3-dbus python3-dbusmock openssl
  libxml2-dev libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  prometheus
  cockpit-ws cockpit-bridge chromium debootstrap debhelper dpkg-dev fakeroot systemd-container
)

log() { printf '\n== %s\n' "$*"; }

deps() {
  [ "${DVS_SKIP_APT:-0}" = 1 ] && return 0
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "dev.sh: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The Cockpit page's browser test drives Chromium with playwright-core
# (npm, pinned in tests/cockpit/package-lock.json), which needs Node.js 20:
# the machine's own, or Debian's nodejs and npm when there is none.
node_deps() {
  [ "${DVS_SKIP_APT:-0}" = 1 ] && return 0
  if ! command -v npm >/dev/null; then
    log "installing nodejs npm"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$major" -lt 20 ]; then
    echo "dev.sh: Node.js $(node --version) is too old for playwright-core; install Node.js 20 or later" >&2
    exit 1
  fi
  [ -d tests/cockpit/node_modules/playwright-core ] && return 0
  log "installing playwright-core (npm) for the Cockpit page test"
  npm ci --prefix tests/cockpit --no-audit --no-fund --loglevel=error
}

setup() { # DIR ARGS...
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

build() {
  log "building (warnings are errors)"
  setup build -Dwerror=true
  ninja -C build
}

run_tests() {
  log "unit and integration tests"
  DVS_REQUIRE_INTEGRATION=1 meson test -C build --print-errorlogs --num-processes 1
  log "unit tests and fuzz targets under AddressSanitizer and UndefinedBehaviorSanitizer"
  setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dintegration_tests=false
  ninja -C build-asan
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
    meson test -C build-asan --suite unit --suite fuzz --print-errorlogs
  log "all tests passed"
}

case ${1:-} in
  deps) deps; node_deps ;;
  build) deps; build ;;
  test) deps; node_deps; build; run_tests ;;
  demo) deps; build; exec /usr/bin/python3 demo/migration-demo.py --build build ;;
  demo-restart) deps; build; exec demo/run-demo.sh build ;;
  *) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; [ -z "${1:-}" ] || [ "$1" = -h ] || [ "$1" = --help ] || exit 2 ;;
esac
