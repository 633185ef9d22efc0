#!/usr/bin/env bash
# Every object ksc makes from the corpus must look like clang's to
# libbpf and bpftool: BTF dump, skeleton, static link, disassembly, load.
set -u
. "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$SHARED"/conformance/*.ks "$ROOT"/examples/*.ks; do
    grep -q '^//! error' "$f" && continue
    name=$(basename "$f" .ks)
    if ! "$KSC" -o "$work/$name.o" "$f" >/dev/null 2>"$work/err"; then
        grep -q '^//! \(run\|load\|map\)' "$f" && fail "objects/$name" "$(head -n 1 "$work/err")"
        continue
    fi
    bash "$ROOT/tests/e2e/objcheck.sh" "$work/$name.o" | sed -e "s#objcheck/\([a-z-]*\) [^ :]*: #objects/$name/\1: #" -e "s#objcheck/\([a-z-]*\) [^ ]*\$#objects/$name/\1#"
done
