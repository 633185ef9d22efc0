#!/usr/bin/env bash
# Host side of kfunc_raw (run by tests/vm/run.sh; see its header for the variables).
set -eu
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
cp "$SRC/ksc_vm_kfunc.c" "$SRC/Kbuild" "$WORK/"
vm_build_module "$WORK"
cp "$WORK/ksc_vm_kfunc.ko" "$OUT/"
# shellcheck disable=SC2086  # VM_CFLAGS and VM_LIBS are word lists
$CC $VM_CFLAGS -o "$OUT/kfunc_raw_test" "$SRC/kfunc_raw_test.c" $VM_LIBS
