#!/usr/bin/env bash
# Host side of kmod_ksc (run by tests/vm/run.sh; see its header for the variables).
set -eu
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
"$KSC" -o "$OUT/kmod_ksc.bpf.o" "$SRC/kmod_ksc.ks"
name=$(vm_ksc_module "$SRC/kmod_ksc.ks" "$WORK/mod")
cp "$WORK/mod/$name.ko" "$OUT/"
# shellcheck disable=SC2086  # VM_CFLAGS and VM_LIBS are word lists
$CC $VM_CFLAGS -o "$OUT/kmod_ksc_test" "$SRC/kmod_ksc_test.c" $VM_LIBS
