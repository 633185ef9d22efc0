#!/bin/sh
# `make fuzz`: libFuzzer over the front end (tests/fuzz/fuzz_front.c);
# `make fuzz-pipeline` (FUZZ_TARGET=pipeline): over the whole eBPF pipeline
# down to the object (tests/fuzz/fuzz_pipeline.c).
# Builds build/fuzz[-pipeline]/fuzz_TARGET with clang and ASan+UBSan, seeds
# the corpus with every conformance file and every tests/frontend case (the
# pipeline target also with the tests' eBPF programs), and runs for
# FUZZ_SECONDS (default 60). Exits non-zero when the fuzzer finds a crash,
# a leak, a timeout or a sanitizer report; the input is kept in
# OUT/artifacts/. Reproduce one with: OUT/fuzz_TARGET FILE
set -eu
cd "$(dirname "$0")/../.."
SECONDS_=${FUZZ_SECONDS:-60}
SHARED=${KS_SHARED:-../shared}
TARGET=${FUZZ_TARGET:-front}
case $TARGET in
front) OUT=build/fuzz; DIRS="frontend btf" ;;
pipeline) OUT=build/fuzz-pipeline; DIRS="frontend btf ir bpf_backend elf c_backend kmod_backend" ;;
*) echo "fuzz: unknown FUZZ_TARGET '$TARGET' (front, pipeline)" >&2; exit 2 ;;
esac
CC_FUZZ=${FUZZ_CC:-clang}
# The front end and the kernel-BTF reader it calls (btf/), and for the
# pipeline every pass after them; FUZZ_SRCS overrides.
# No -Werror here: `make` enforces it with the project's compiler, and a
# clang-only warning elsewhere should not stop the fuzzer.
SRCS=${FUZZ_SRCS:-"$(for d in $DIRS; do ls "$d"/*.c; done)"}
# the pipeline links the runtime blob that `make` generates
[ "$TARGET" = pipeline ] && SRCS="$SRCS build/obj/runtime_blob.c"

mkdir -p "$OUT/corpus" "$OUT/artifacts"
# shellcheck disable=SC2086
$CC_FUZZ -std=gnu11 -g -O1 -I. -D_GNU_SOURCE -DKSC_VERSION='"fuzz"' \
    -Wall -Wextra -Wno-unused-command-line-argument \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -fno-omit-frame-pointer \
    tests/fuzz/fuzz_$TARGET.c $SRCS -o "$OUT/fuzz_$TARGET" -lbpf -lelf -lz

for f in "$SHARED"/conformance/*.ks "$SHARED"/conformance/lib/* tests/frontend/*.ks; do
    [ -f "$f" ] && cp "$f" "$OUT/corpus/" 2>/dev/null || true
done
if [ "$TARGET" = pipeline ]; then
    for f in tests/diff/*.ks tests/verifier/*.ks tests/ebpf/*.ks bench/*.ks; do
        [ -f "$f" ] && cp "$f" "$OUT/corpus/$(basename "$(dirname "$f")")_$(basename "$f")"
    done
fi

# -timeout: an input that takes 5 s is a hang; -max_len: inputs up to 4 KiB.
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
"$OUT/fuzz_$TARGET" "$OUT/corpus" \
    -dict=tests/fuzz/ks.dict -max_len=4096 -timeout=5 -rss_limit_mb=2048 \
    -max_total_time="$SECONDS_" -print_final_stats=1 \
    -artifact_prefix="$OUT/artifacts/" 2>&1 | tee "$OUT/last.log" | grep -v '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)' || true
# The pipeline hides libFuzzer's exit status: decide from its log.
if grep -q 'ERROR: \|runtime error\|Test unit written\|SUMMARY: ' "$OUT/last.log"; then
    echo "fuzz: FAILED (see $OUT/last.log and $OUT/artifacts/)"
    exit 1
fi
grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$OUT/last.log" || true
echo "fuzz: no crash, leak or sanitizer report"
