#!/usr/bin/env bash
# Every object ksc makes from the corpus must look like clang's to
# libbpf and bpftool: BTF dump, skeleton, static link, disassembly, load.
# Files marked `//! compile` only (kinds this kernel cannot load) are
# checked as objects, with their `//! section NAME` and `//! func NAME`.
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$SHARED"/conformance/*.ks "$ROOT"/examples/*.ks "$ROOT"/tests/kinds/*.ks "$ROOT"/tests/ebpf/*.ks; do
    grep -q '^//! error' "$f" && continue
    name=$(basename "$f" .ks)
    if ! "$KSC" -o "$work/$name.o" "$f" >/dev/null 2>"$work/err"; then
        fail "objects/$name" "$(head -n 1 "$work/err")"
        continue
    fi
    noload=0
    grep -q '^//! \(run\|load\|map\)' "$f" || noload=1
    sections=$(sed -n 's#^//! section ##p' "$f")
    # a private bpffs: objects with pinned maps pin under its root, and
    # whatever they pin goes away with the mount namespace
    OBJCHECK_NOLOAD=$noload unshare -m bash -c 'mount -t bpf bpf /sys/fs/bpf && exec bash "$0" "$@"' \
        "$ROOT/tests/e2e/objcheck.sh" "$work/$name.o" $sections |
        sed -e "s#objcheck/\([a-z:/+_0-9-]*\) [^ :]*: #objects/$name/\1: #" -e "s#objcheck/\([a-z:/+_0-9-]*\) [^ ]*\$#objects/$name/\1#"
    for fn in $(sed -n 's#^//! func ##p' "$f"); do
        if bpftool btf dump file "$work/$name.o" | grep -q "FUNC '$fn' "; then
            pass "objects/$name/btf-func:$fn"
        else
            fail "objects/$name/btf-func:$fn" "no BTF FUNC $fn"
        fi
    done
done
