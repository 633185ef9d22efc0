#!/usr/bin/env bash
# Host side of attach_raw (run by tests/vm/run.sh; see its header for the variables).
set -eu
# shellcheck disable=SC2086  # VM_CFLAGS and VM_LIBS are word lists
$CC $VM_CFLAGS -o "$OUT/attach_raw_test" "$SRC/attach_raw_test.c" $VM_LIBS
