#!/usr/bin/env bash
# Host side of probes_ksc (run by tests/vm/run.sh; see its header for the variables).
set -eu
"$KSC" -o "$OUT/probes_ksc.bpf.o" "$SRC/probes_ksc.ks"
# shellcheck disable=SC2086  # VM_CFLAGS and VM_LIBS are word lists
$CC $VM_CFLAGS -o "$OUT/probes_ksc_test" "$SRC/probes_ksc_test.c" $VM_LIBS
