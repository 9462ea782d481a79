#!/usr/bin/env bash
# Makes a WebGPU adapter available on a machine without a GPU: Mesa's lavapipe
# (Vulkan on the CPU) from Debian bookworm-backports, which Dawn (npm `webgpu`)
# then finds through the Vulkan loader. Mesa 22 (bookworm's default) is too old
# for Dawn. Idempotent: installs nothing when a new-enough lavapipe is present.
#
#   sudo bash scripts/setup.sh            # lavapipe only
#   sudo bash scripts/setup.sh --browser  # also Debian's chromium, for browser tests
#
# Environment: SETUP_OS_RELEASE (default /etc/os-release) and MESA_MIN_MAJOR (default 24).
set -euo pipefail

os_release=${SETUP_OS_RELEASE:-/etc/os-release}
mesa_min=${MESA_MIN_MAJOR:-24}

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

want_browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) want_browser=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option '$arg' (known: --browser)" ;;
  esac
done

[ "$(uname -s)" = Linux ] || die "this script supports Debian Linux only; elsewhere use a GPU driver with Vulkan/Metal/D3D12 (no setup needed)"
[ -r "$os_release" ] || die "cannot read $os_release: not a Debian system this script knows"
. "$os_release"
[ "${ID:-}" = debian ] || die "this script supports Debian 12 (bookworm); found ${PRETTY_NAME:-unknown}. Install Mesa >= $mesa_min lavapipe (mesa-vulkan-drivers) and libvulkan1 with your package manager."
command -v apt-get >/dev/null || die "apt-get not found: cannot install packages"
command -v dpkg-query >/dev/null || die "dpkg-query not found: cannot inspect packages"

mesa_major() {
  dpkg-query -W -f='${Status} ${Version}\n' mesa-vulkan-drivers 2>/dev/null |
    awk '/install ok installed/ { split($4, v, "."); sub(/^[0-9]+:/, "", v[1]); print v[1] }'
}
installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q 'install ok installed'; }

need_mesa=1
major=$(mesa_major || true)
if [ -n "$major" ] && [ "$major" -ge "$mesa_min" ] && installed libvulkan1; then need_mesa=0; fi
need_browser=0
if [ "$want_browser" = 1 ] && ! installed chromium; then need_browser=1; fi

if [ "$need_mesa" = 0 ] && [ "$need_browser" = 0 ]; then
  say "lavapipe (mesa-vulkan-drivers $major) and libvulkan1 already installed; nothing to do"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "installing packages needs root: run 'sudo bash scripts/setup.sh'"
export DEBIAN_FRONTEND=noninteractive

if [ "$need_mesa" = 1 ]; then
  codename=${VERSION_CODENAME:-}
  [ "$codename" = bookworm ] || die "Mesa >= 24 comes from bookworm-backports; this is '${codename:-unknown}'. Install Mesa >= 24 lavapipe and libvulkan1 yourself."
  list=/etc/apt/sources.list.d/bookworm-backports.list
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    say "adding Debian bookworm-backports to $list"
    echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$list"
  fi
  say "apt-get update"
  apt-get update -qq || die "apt-get update failed (no network to Debian's mirrors?)"
  say "installing mesa-vulkan-drivers libvulkan1 from bookworm-backports (lavapipe, Vulkan on the CPU)"
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null ||
    die "installing mesa-vulkan-drivers from bookworm-backports failed"
  say "installed mesa-vulkan-drivers $(mesa_major)"
fi
if [ "$need_browser" = 1 ]; then
  [ "$need_mesa" = 1 ] || { say "apt-get update"; apt-get update -qq || die "apt-get update failed"; }
  say "installing chromium (headless browser tests)"
  apt-get install -y -qq chromium >/dev/null || die "installing chromium failed"
fi
say "done"
