# shellcheck shell=bash
# Shared helpers for tests/vm/*.sh (sourced, not run).
# Everything the VM test bed caches lives under $VM_B (build/vm by default), which
# is git-ignored; deleting it returns the test bed to a clean state.

VM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034  # used by the scripts that source this file
VM_B=${KSC_VM_BUILD:-$VM_ROOT/build/vm}

vm_die() { echo "vm: error: $*" >&2; exit 1; }

# The guest kernel: the newest Debian 6.1 kernel whose image AND headers are both
# installed. They must match exactly, or modules built against the headers are
# rejected by the booted kernel (vermagic / symbol CRCs). linux-image-amd64 may
# leave older versions behind after an upgrade, hence the pairing, not a glob.
vm_kver() {
    local img v found=()
    for img in /boot/vmlinuz-6.1.*-amd64; do
        [ -f "$img" ] || continue
        v=${img#/boot/vmlinuz-}
        [ -d "/usr/src/linux-headers-$v" ] && found+=("$v")
    done
    [ ${#found[@]} -gt 0 ] || return 1
    printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

# vm_build_module DIR: builds the out-of-tree module(s) whose sources and Kbuild
# file are in DIR against the kbuild folder $KDIR (from kbuild.sh), and insists on
# module BTF: without it the module loads but registers no kfuncs, which would
# only show up later as a puzzling verifier error in the guest.
vm_build_module() {
    local dir=$1 ko
    [ -n "${KDIR:-}" ] || vm_die "vm_build_module: KDIR not set"
    timeout 300 make -C "$KDIR" M="$dir" modules >&2 || vm_die "module build in $dir failed"
    for ko in "$dir"/*.ko; do
        [ -f "$ko" ] || vm_die "module build in $dir made no .ko"
        readelf -S "$ko" | grep -q '\.BTF ' || vm_die "$ko has no .BTF section (no module BTF)"
    done
}

# vm_ksc_module FILE.ks DIR: builds, in DIR, the kernel module ksc generates for
# FILE.ks (`ksc --emit=kmod-c` writes its C file, then its Kbuild file after a
# "---- Kbuild ----" line), with module BTF and with warnings as errors (the
# generated C must compile cleanly); prints the module's name. Needs $KSC.
vm_ksc_module() {
    local ks=$1 dir=$2 name
    mkdir -p "$dir"
    "$KSC" --emit=kmod-c "$ks" >"$dir/emit.txt" || vm_die "ksc --emit=kmod-c $ks failed"
    name=$(sed -n 's/^obj-m := \(.*\)\.o$/\1/p' "$dir/emit.txt")
    [ -n "$name" ] || vm_die "ksc --emit=kmod-c $ks: no obj-m line in its Kbuild part"
    awk -v c="$dir/$name.c" -v k="$dir/Kbuild" \
        '/^\/\* ---- Kbuild ---- \*\/$/ { kb = 1; next } { print > (kb ? k : c) }' "$dir/emit.txt"
    rm "$dir/emit.txt"
    KCFLAGS="${KCFLAGS:+$KCFLAGS }-Werror" vm_build_module "$dir"
    echo "$name"
}
