#!/usr/bin/env bash
# Installs what ksc needs to build and test, with apt-get, and only what is missing.
# Usage: scripts/deps.sh [--vm]   (--vm adds what tests/vm needs: qemu and Debian's kernel)
set -eu
pkgs="gcc make pkg-config libbpf-dev libelf-dev zlib1g-dev libcunit1-dev bpftool
      iproute2 iputils-ping llvm clang python3 strace"
vm_pkgs="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static dwarves
         linux-source-6.1 cpio xz-utils"
[ "${1:-}" = "--vm" ] && pkgs="$pkgs $vm_pkgs"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 || {
    $SUDO apt-get update >/dev/null 2>&1
    $SUDO apt-get install -y --no-install-recommends $missing
}
