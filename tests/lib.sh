# Shared by the test scripts: paths and the PASS/FAIL line protocol.
# Every suite prints "PASS name" or "FAIL name: reason" (or "SKIP name:
# reason"), one line per test; tests/run-all.sh counts them.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KSC=${KSC:-$ROOT/build/ksc}
SHARED=${KSC_SHARED:-$(cd "$ROOT/.." && pwd)/shared}
CONFORM="$SHARED/tools/ks-conform"
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }
mount_bpffs() {
    mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}
