#!/usr/bin/env bash
# Host side of kmod_lang (run by tests/vm/run.sh; see its header for the variables).
set -eu
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
"$KSC" -o "$OUT/kmod_lang.bpf.o" "$SRC/kmod_lang.ks"
name=$(vm_ksc_module "$SRC/kmod_lang.ks" "$WORK/mod")
cp "$WORK/mod/$name.ko" "$OUT/"
# shellcheck disable=SC2086  # VM_CFLAGS and VM_LIBS are word lists
$CC $VM_CFLAGS -o "$OUT/kmod_lang_test" "$SRC/kmod_lang_test.c" $VM_LIBS
