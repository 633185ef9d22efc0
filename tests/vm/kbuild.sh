#!/usr/bin/env bash
# Prepares, once, a kernel build folder for Debian's 6.1 kernel that builds
# out-of-tree modules WITH module BTF, and prints its path on stdout.
#
#   KDIR=$(tests/vm/kbuild.sh) && make -C "$KDIR" M=$PWD modules
#
# Why this is needed: linux-headers-6.1.*-amd64 alone builds modules, but kbuild
# then prints "Skipping BTF generation ... unavailability of vmlinux", and a module
# without BTF cannot register kfuncs (register_btf_kfunc_id_set fails) and has no
# /sys/kernel/btf/<module> for loaders to resolve against. Module BTF needs, in the
# build folder: `vmlinux` (its .BTF is the base the module's split BTF refers to)
# and `tools/bpf/resolve_btfids/resolve_btfids` (fills in the BTF ids of the
# kfunc set). Debian ships neither, so:
#   1. vmlinux is decompressed from /boot/vmlinuz-$KVER (an xz stream inside the
#      bzImage; the result is stripped of symbols but keeps .BTF and .BTF_ids);
#   2. resolve_btfids is built from /usr/src/linux-source-6.1.tar.xz (only the
#      few folders its build needs are unpacked, then deleted again);
#   3. the small headers folder is copied, with its scripts/ and tools/ pointing
#      at /usr/lib/linux-kbuild-6.1 by absolute links (the package's relative
#      links break once copied).
# The result is cached in build/vm/kbuild-$KVER and reused while its inputs (the
# installed kernel image, headers and source packages) are unchanged: a second run
# only compares a fingerprint. A lock makes concurrent runs safe, and the folder is
# assembled aside and renamed into place, so an interrupted run leaves nothing
# half-made behind.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

# Bump when the recipe below changes, to invalidate existing caches.
RECIPE=1

KVER=$(vm_kver) || vm_die "no Debian 6.1 kernel with matching headers installed" \
    "(need /boot/vmlinuz-6.1.*-amd64 and /usr/src/linux-headers-<same>; run scripts/deps.sh --vm)"
IMG=/boot/vmlinuz-$KVER
HDR=/usr/src/linux-headers-$KVER
SRC_TAR=/usr/src/linux-source-6.1.tar.xz
KBUILD_PKG=$(readlink -f "$HDR/scripts")/..
KBUILD_PKG=$(cd "$KBUILD_PKG" && pwd)
[ -f "$SRC_TAR" ] || vm_die "$SRC_TAR missing (package linux-source-6.1; run scripts/deps.sh --vm)"
command -v pahole >/dev/null || vm_die "pahole missing (package dwarves; run scripts/deps.sh --vm)"

KDIR=$VM_B/kbuild-$KVER
STAMP=.ksc-kbuild-stamp
fingerprint() {
    echo "recipe $RECIPE"
    stat -c '%n %s %Y' "$IMG" "$HDR/Makefile" "$HDR/.config" "$HDR/Module.symvers" \
        "$SRC_TAR" "$KBUILD_PKG/scripts/Makefile.modfinal" "$(command -v pahole)"
}
up_to_date() { [ -f "$KDIR/$STAMP" ] && [ "$(fingerprint)" = "$(cat "$KDIR/$STAMP")" ]; }

if up_to_date; then echo "$KDIR"; exit 0; fi

mkdir -p "$VM_B"
exec 9>"$VM_B/.kbuild.lock"
flock -w 900 9 || vm_die "timed out waiting for another kbuild.sh ($VM_B/.kbuild.lock)"
if up_to_date; then echo "$KDIR"; exit 0; fi   # another run finished it meanwhile

TMP=$VM_B/.kbuild-$KVER.tmp
rm -rf "$TMP"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/kdir" "$TMP/src" "$TMP/rb"
log() { echo "kbuild: $*" >&2; }

# 1. vmlinux. The bzImage (here also PE-signed) carries the kernel as one xz
#    stream; decompress from its magic and ignore whatever follows the stream.
log "extracting vmlinux from $IMG"
timeout 120 python3 - "$IMG" "$TMP/kdir/vmlinux" <<'PY' >&2
import lzma, sys
data = open(sys.argv[1], 'rb').read()
off = data.find(b'\xfd7zXZ\x00')
if off < 0:
    sys.exit("no xz stream in " + sys.argv[1])
dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
out = dec.decompress(data[off:])
if not dec.eof or out[:4] != b'\x7fELF':
    sys.exit("xz stream in %s did not decompress to an ELF file" % sys.argv[1])
open(sys.argv[2], 'wb').write(out)
PY
readelf -S "$TMP/kdir/vmlinux" | grep -q '\.BTF ' || vm_die "extracted vmlinux has no .BTF section"

# 2. resolve_btfids, from the few source folders its Makefile uses.
log "building resolve_btfids from $SRC_TAR"
top=$(basename "$SRC_TAR" .tar.xz)   # the tarball's top folder: linux-source-6.1
# shellcheck disable=SC2016  # $1.. expand in the inner sh
timeout 300 sh -c 'xz -T0 -dc "$1" | tar -x -C "$2" --strip-components=1 \
    "$3/tools" "$3/include" "$3/scripts" "$3/Makefile" "$3/arch/x86/include"' \
    _ "$SRC_TAR" "$TMP/src" "$top" || vm_die "unpacking $SRC_TAR failed"
timeout 600 make -s -C "$TMP/src/tools/bpf/resolve_btfids" -j"$(nproc)" O="$TMP/rb" >&2 \
    || vm_die "building resolve_btfids failed"

# 3. The build folder: the arch headers folder, with absolute links into the
#    kbuild package (scripts, objtool) and the two additions at the paths kbuild
#    looks for them, so a plain `make -C KDIR M=... modules` generates BTF.
log "assembling $KDIR"
cp -a "$HDR/." "$TMP/kdir/"
rm -f "$TMP/kdir/scripts" "$TMP/kdir/tools"
ln -s "$KBUILD_PKG/scripts" "$TMP/kdir/scripts"
mkdir -p "$TMP/kdir/tools/bpf/resolve_btfids"
for t in "$KBUILD_PKG"/tools/*; do ln -s "$t" "$TMP/kdir/tools/"; done
cp "$TMP/rb/resolve_btfids" "$TMP/kdir/tools/bpf/resolve_btfids/"
fingerprint >"$TMP/kdir/$STAMP"

rm -rf "$KDIR"
mv "$TMP/kdir" "$KDIR"
log "ready"
echo "$KDIR"
