#!/usr/bin/env bash
# ksc built with AddressSanitizer and UndefinedBehaviorSanitizer compiles
# every .ks file of the repository and the shared corpus (objects,
# IR and assembly dumps, and the error cases): no report is allowed.
set -u
. "$(dirname "$0")/lib.sh"
san="$ROOT/build/ksc-san"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
for f in "$SHARED"/conformance/*.ks $(find "$ROOT/tests" "$ROOT/bench" "$ROOT/examples" -name '*.ks' | sort); do
    name=${f#"$SHARED"/}
    name=${name#"$ROOT"/}
    bad=""
    for mode in "-o $work/o.bpf.o" "--emit=ir" "--emit=asm" "--emit=ast"; do
        "$san" $mode "$f" >/dev/null 2>"$work/err"
        st=$?
        if grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$work/err" || [ "$st" -gt 2 ]; then
            bad="$mode: $(grep -m1 'runtime error\|ERROR' "$work/err")"
            break
        fi
    done
    if [ -z "$bad" ]; then pass "san/$name"; else fail "san/$name" "$bad"; fi
done
