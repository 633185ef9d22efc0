#!/usr/bin/env bash
# `make check`: runs every suite, keeps the whole output in
# build/check.log, and ends with one line "N passed, N failed" that counts
# every test. Suites print "PASS name" / "FAIL name: why" / "SKIP ...".
set -u
. "$(dirname "$0")/lib.sh"
log="$ROOT/build/check.log"
mkdir -p "$ROOT/build"
: >"$log"
suites=(
    "unit:$ROOT/build/unit"
    "sanitizers:$ROOT/tests/run-san.sh"
    "conformance:$ROOT/tests/run-conformance.sh"
    "objects:$ROOT/tests/run-objects.sh"
)
for t in "$ROOT"/tests/e2e/*.test.sh "$ROOT"/tests/arith/run.sh "$ROOT"/tests/loops/run.sh "$ROOT"/tests/verifier/run.sh "$ROOT"/tests/diff/run.sh; do
    [ -x "$t" ] && suites+=("$(basename "$(dirname "$t")")/$(basename "$t" .sh):$t")
done
suites+=("vm:$ROOT/tests/vm/run.sh")
# what /sys/fs/bpf holds before: every test must leave it as it was
# (mounted first, since mounting adds the kernel's own *.debug files)
mount_bpffs
pins_before=$(ls -A /sys/fs/bpf 2>/dev/null | sort)
for s in "${suites[@]}"; do
    name=${s%%:*}
    cmd=${s#*:}
    start=$(date +%s)
    echo "== $name" | tee -a "$log"
    "$cmd" >"$ROOT/build/suite.out" 2>&1
    cat "$ROOT/build/suite.out" >>"$log"
    grep -E '^(FAIL|SKIP) ' "$ROOT/build/suite.out"
    p=$(grep -c '^PASS ' "$ROOT/build/suite.out")
    f=$(grep -c '^FAIL ' "$ROOT/build/suite.out")
    echo "   $name: $p passed, $f failed ($(( $(date +%s) - start ))s)"
done
left=$(comm -13 <(echo "$pins_before") <(ls -A /sys/fs/bpf 2>/dev/null | sort) | tr '\n' ' ')
if [ -z "$left" ]; then
    echo "PASS bpffs/clean" | tee -a "$log"
else
    echo "FAIL bpffs/clean: the tests left /sys/fs/bpf/{$left}" | tee -a "$log"
fi
passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
