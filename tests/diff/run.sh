#!/usr/bin/env bash
# Differential tests (issue 3): every NAME.ks here has a hand-written C twin
# NAME.bpf.c with the same behaviour. ksc compiles the .ks, clang the twin
# (-O2 -g -target bpf -mcpu=v3); tests/diff/difftest.c loads both objects and
# runs them on the same random and edge-case packets (fixed seed), comparing
# return values, output packets, ring-buffer records and every map entry.
# NAME.maps, if present, preloads maps (lines "MAP KEYHEX VALUEHEX").
#
#   tests/diff/run.sh [NAME...]     DIFF_PACKETS (default 1500), DIFF_SEED (1)
#
# Prints "PASS diff/NAME" or "FAIL diff/NAME: reason"; writes the xlated
# instruction counts of both objects to build/diff-insns.txt.
set -eu
. "$(dirname "$0")/../lib.sh"

DIR=$ROOT/tests/diff
OUT=$ROOT/build/diff
PACKETS=${DIFF_PACKETS:-1500}
SEED=${DIFF_SEED:-1}
CLANG=${CLANG:-clang}
INSNS=$ROOT/build/diff-insns.txt
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "$(id -u)" -ne 0 ]; then
    skip diff "BPF_PROG_TEST_RUN needs root"
    exit 0
fi
if ! command -v "$CLANG" >/dev/null; then
    skip diff "no clang for the C twins"
    exit 0
fi
if [ ! -x "$KSC" ]; then
    fail diff "no ksc at $KSC (make build/ksc)"
    exit 1
fi

if ! ${CC:-cc} -O2 -g -std=gnu11 -Wall -Wextra -Werror -o "$OUT/difftest" "$DIR/difftest.c" \
        -lbpf -lelf -lz 2>"$tmp/cc.log"; then
    fail diff/difftest "the runner does not build: $(head -c 300 "$tmp/cc.log" | tr '\n' ' ')"
    exit 1
fi

# uapi headers such as <asm/types.h> live in the multiarch folder
MULTIARCH=$(${CC:-cc} -print-multiarch 2>/dev/null || true)
CINC=()
[ -n "$MULTIARCH" ] && [ -d "/usr/include/$MULTIARCH" ] && CINC=(-I"/usr/include/$MULTIARCH")

oneline() { tr '\n' ' ' | sed 's/  */ /g' | cut -c1-400; }

if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for ks in "$DIR"/*.ks; do
        names+=("$(basename "$ks" .ks)")
    done
fi

: >"$tmp/insns"
failed=0
for name in "${names[@]}"; do
    ks=$DIR/$name.ks
    twin=$DIR/$name.bpf.c
    if [ ! -f "$ks" ] || [ ! -f "$twin" ]; then
        fail "diff/$name" "needs $name.ks and its C twin $name.bpf.c"
        failed=1
        continue
    fi
    if ! "$KSC" -o "$OUT/$name.ksc.o" "$ks" 2>"$tmp/ksc.log"; then
        fail "diff/$name" "ksc: $(grep -m1 'error' "$tmp/ksc.log" | oneline)"
        failed=1
        continue
    fi
    if ! "$CLANG" -O2 -g -target bpf -mcpu=v3 "${CINC[@]}" -c "$twin" -o "$OUT/$name.clang.o" \
            2>"$tmp/clang.log"; then
        fail "diff/$name" "clang on the twin: $(grep -m1 'error' "$tmp/clang.log" | oneline)"
        failed=1
        continue
    fi
    args=(-n "$PACKETS" -s "$SEED" -N "$name" -i "$tmp/insns")
    [ -f "$DIR/$name.maps" ] && args+=(-m "$DIR/$name.maps")
    if "$OUT/difftest" "${args[@]}" "$OUT/$name.ksc.o" "$OUT/$name.clang.o" >"$tmp/out" 2>"$tmp/err"; then
        pass "diff/$name"
        sed -n 's/^[0-9]* packets run/   &/p' "$tmp/out"
    else
        fail "diff/$name" "$(tail -n 1 "$tmp/err" | oneline)"
        failed=1
    fi
done

# xlated instructions after load, summed over each object's programs
{
    printf '# xlated instructions after load (ksc vs clang -O2 -mcpu=v3 on the C twin)\n'
    printf '# and the verifier'"'"'s processed instructions; %s, %s\n' "$(date -u +%Y-%m-%d)" "$(uname -r)"
    printf '%-18s %7s %7s %6s %10s %10s %6s\n' test ksc clang ratio ksc_ver clang_ver ratio
    awk '{
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        r = v["clang"] ? v["ksc"] / v["clang"] : 0
        rv = v["clang_verified"] ? v["ksc_verified"] / v["clang_verified"] : 0
        printf "%-18s %7d %7d %6.2f %10d %10d %6.2f\n", $2, v["ksc"], v["clang"], r, v["ksc_verified"], v["clang_verified"], rv
        if (v["ksc"] && v["clang"]) { n++; s += log(r) }
    } END { if (n) printf "%-18s %7s %7s %6.2f   (geometric mean of the ratios, %d tests)\n", "geomean", "", "", exp(s / n), n }' \
        "$tmp/insns"
} >"$INSNS"
[ -s "$tmp/insns" ] && echo "   instruction counts: $INSNS"
exit "$failed"
