#!/usr/bin/env bash
# The shared conformance corpus, the project's own front-end error cases
# and the examples, through ks-conform (compile, load, run, check).
set -u
. "$(dirname "$0")/lib.sh"
mount_bpffs
python3 "$CONFORM" --ksc "$KSC" "$SHARED/conformance" "$ROOT/tests/frontend" "$ROOT/tests/kinds" "$ROOT/tests/ebpf" "$ROOT/examples" |
    grep -E '^(PASS|FAIL) ' | sed -e "s#^\(PASS\|FAIL\) $SHARED/#\1 #" -e "s#^\(PASS\|FAIL\) $ROOT/#\1 #"
