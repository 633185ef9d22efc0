#!/usr/bin/env bash
# Host side of kmod_c20 (run by tests/vm/run.sh; see its header for the variables).
set -eu
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
ks=$ROOT/../shared/conformance/c20_full_program.ks
if [ ! -f "$ks" ]; then
    echo "no $ks (the shared conformance programs are not checked out here)"
    exit 77
fi
name=$(vm_ksc_module "$ks" "$WORK/mod")
cp "$WORK/mod/$name.ko" "$OUT/"
echo "$name" >"$OUT/name"
