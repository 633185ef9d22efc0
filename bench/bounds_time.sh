#!/usr/bin/env bash
# Time of the bounds pass alone (KSC_BOUNDS_TIME) on programs of growing
# size from bench/gen_program.py, and on one function of many packet
# checks, map updates and loops: the median of 5 runs for each. The one
# function is compiled with -O0: the optimiser's own time on it grows
# faster than the pass's, and this measures the pass.
# Usage: bench/bounds_time.sh [KSC]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
ksc=${1:-$root/build/ksc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median_ms() {
    for _ in 1 2 3 4 5; do
        KSC_BOUNDS_TIME=1 "$ksc" "$@" --emit=ir 2>&1 >/dev/null | sed -n 's/^bounds: \([0-9.]*\) ms.*/\1/p'
    done | sort -n | sed -n 3p
}

instructions() {
    KSC_BOUNDS_TIME=1 "$ksc" "$@" --emit=ir 2>&1 >/dev/null | sed -n 's/.*, \([0-9]*\) instructions/\1/p'
}

# One function: n packet checks and reads, n map updates, n/5 loops.
one_function() {
    echo "var m : hash<u32, u64>(1024)"
    echo "@xdp fn big(ctx: *xdp_md) -> xdp_action {"
    echo "    var data = ctx->data"
    echo "    var end = ctx->data_end"
    echo "    var acc: u64 = 0"
    for ((k = 0; k < $1; k++)); do
        off=$((14 + k % 1400))
        echo "    if (data + $((off + 1)) > end) { return XDP_PASS }"
        echo "    acc += *(data + $off) as u64"
        echo "    m[$k] += acc"
        [ $((k % 5)) -eq 0 ] && echo "    for (i in 0..4) { acc = acc * 3 + i as u64 }"
    done
    echo "    return XDP_PASS"
    echo "}"
}

printf "%-28s %10s %12s %12s\n" program lines instructions "bounds ms"
for n in 2500 5000 10000 20000; do
    python3 "$root/bench/gen_program.py" "$n" "$work/g$n.ks"
    printf "%-28s %10d %12d %12s\n" "gen_program.py $n" "$n" "$(instructions "$work/g$n.ks")" \
        "$(median_ms "$work/g$n.ks")"
done
for n in 250 500 1000 2000; do
    one_function "$n" >"$work/f$n.ks"
    printf "%-28s %10d %12d %12s\n" "one function, $n checks" "$(wc -l <"$work/f$n.ks")" \
        "$(instructions -O0 "$work/f$n.ks")" "$(median_ms -O0 "$work/f$n.ks")"
done
