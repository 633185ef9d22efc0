#!/usr/bin/env bash
# `ksc -O0` (no IR optimisation) must still give objects the verifier
# accepts and that behave as the source says: the conformance corpus and the
# eBPF and program-kind tests through ks-conform, with -O0 on every compile.
# At -O0 the IR keeps trivial phis; the bounds pass once took them for
# loops without a counter.
set -u
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mount_bpffs
printf '#!/bin/sh\nexec "%s" -O0 "$@"\n' "$KSC" >"$work/ksc-O0"
chmod +x "$work/ksc-O0"
python3 "$CONFORM" --ksc "$work/ksc-O0" "$SHARED/conformance" "$ROOT/tests/kinds" "$ROOT/tests/ebpf" |
    grep -E '^(PASS|FAIL) ' | sed -e "s#^\(PASS\|FAIL\) $SHARED/#\1 O0/#" -e "s#^\(PASS\|FAIL\) $ROOT/#\1 O0/#"
