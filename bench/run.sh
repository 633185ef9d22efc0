#!/usr/bin/env bash
# `make bench`: ksc against clang -O2 -g -target bpf on the pairs in bench/
# (NAME.ks and its hand-written C twin NAME.bpf.c), then front-to-back
# compile scaling on generated programs of 1k, 10k and 50k lines.
#
# Per pair, all measured in this run:
#   compile   median wall time of RUNS compiles of each (fork/exec, no shell;
#             bench/timeit.c), and clang's time over ksc's, also for the
#             median CPU time (user + system), steadier on a busy machine;
#   insns     xlated instructions after load (bpf_prog_info.xlated_prog_len/8),
#             summed over the object's programs, and ksc's over clang's;
#   verified  instructions the verifier processed (bpf_prog_info.verified_insns);
#   ns/run    BPF_PROG_TEST_RUN with REPEAT repetitions on the pair's packet,
#             the median of ROUNDS runs, ksc and clang alternating;
#   rss       ksc's peak RSS while compiling;
#   same      the pair's behaviour is checked with tests/diff's runner on 500
#             random packets ("=" equal, "n/a" for time-dependent pairs).
# Then the geometric means and the targets of issue 6.
#
# Each NAME.ks starts with "// bench: prog=P packet=K [maps=F] [nondeterministic]".
#
#   bench/run.sh [NAME...]   env: KSC CLANG RUNS (11) REPEAT (1000000) ROUNDS (5)
#                                 SIZES ("1000 10000 50000") SCALE_RUNS (5)
#                                 BENCH_SHARED_CACHE (unset: a private kernel-type cache)
# Writes the report to build/bench/results.md as well.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
KSC=${KSC:-$ROOT/build/ksc}
CLANG=${CLANG:-clang}
RUNS=${RUNS:-11}
REPEAT=${REPEAT:-1000000}
ROUNDS=${ROUNDS:-5}
SIZES=${SIZES:-1000 10000 50000}
SCALE_RUNS=${SCALE_RUNS:-5}
OUT=$ROOT/build/bench
REPORT=$OUT/results.md
mkdir -p "$OUT"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$KSC" ] || die "no ksc at $KSC (make build/ksc)"
command -v "$CLANG" >/dev/null || die "no $CLANG: the C twins need clang"
[ "$(id -u)" -eq 0 ] || die "loading programs and BPF_PROG_TEST_RUN need root"

CC=${CC:-cc}
for tool in timeit benchrun; do
    "$CC" -O2 -g -std=gnu11 -Wall -Wextra -Werror -o "$OUT/$tool" "bench/$tool.c" -lbpf -lelf -lz \
        || die "bench/$tool.c does not build"
done
"$CC" -O2 -g -std=gnu11 -Wall -Wextra -Werror -o "$OUT/difftest" tests/diff/difftest.c -lbpf -lelf -lz \
    || die "tests/diff/difftest.c does not build"

MULTIARCH=$("$CC" -print-multiarch 2>/dev/null || true)
CINC=()
[ -n "$MULTIARCH" ] && [ -d "/usr/include/$MULTIARCH" ] && CINC=(-I"/usr/include/$MULTIARCH")
CLANG_CMD=("$CLANG" -O2 -g -target bpf -mcpu=v3 "${CINC[@]}" -c)

field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for f in bench/*.ks; do
        names+=("$(basename "$f" .ks)")
    done
fi

# ksc keeps the kernel types it has read in a per-kernel cache, which grows
# with every program compiled on the machine and is read in full on each
# run. The benchmark uses a cache of its own, filled by compiling every pair
# once before any timing, so the figures do not depend on what else was
# compiled here before. BENCH_SHARED_CACHE=1 uses the user's cache instead.
if [ -z "${BENCH_SHARED_CACHE:-}" ]; then
    export KSC_CACHE_DIR=$OUT/kbtf-cache
    rm -rf "$KSC_CACHE_DIR"
    mkdir -p "$KSC_CACHE_DIR"
fi
for name in "${names[@]}"; do
    "$KSC" -o "$tmp/warm.o" "bench/$name.ks" 2>/dev/null || true
done

{
    echo "## Pairs"
    echo
    echo "| pair | ksc ms | clang ms | speedup | cpu speedup | ksc insns | clang insns | ratio | ksc verified | clang verified | ratio | ksc ns | clang ns | ratio | ksc RSS MB | same |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:-:|"
} >"$tmp/table"
: >"$tmp/rows"

for name in "${names[@]}"; do
    ks=bench/$name.ks
    twin=bench/$name.bpf.c
    [ -f "$ks" ] && [ -f "$twin" ] || die "$name needs bench/$name.ks and bench/$name.bpf.c"
    hdr=$(sed -n 's|^// bench: ||p' "$ks" | head -n 1)
    prog=$(field prog "$hdr")
    packet=$(field packet "$hdr")
    maps=$(field maps "$hdr")
    [ -n "$prog" ] && [ -n "$packet" ] || die "$ks: no '// bench: prog=P packet=K' line"
    mapargs=()
    [ -n "$maps" ] && mapargs=(-m "bench/$maps")
    echo "== $name ($prog, $packet packet)" >&2

    kobj=$OUT/$name.ksc.o
    cobj=$OUT/$name.clang.o
    "$KSC" -o "$kobj" "$ks" 2>"$tmp/err" || die "ksc failed on $ks: $(head -n 3 "$tmp/err")"
    "${CLANG_CMD[@]}" "$twin" -o "$cobj" 2>"$tmp/err" || die "clang failed on $twin: $(head -n 3 "$tmp/err")"

    kt=$("$OUT/timeit" -n "$RUNS" -- "$KSC" -o "$tmp/k.o" "$ks")
    ct=$("$OUT/timeit" -n "$RUNS" -- "${CLANG_CMD[@]}" "$twin" -o "$tmp/c.o")

    kns=() cns=()
    for ((r = 0; r < ROUNDS; r++)); do
        kr=$("$OUT/benchrun" -k 1 -r "$REPEAT" "${mapargs[@]}" -p "$packet" "$kobj" "$prog") \
            || die "benchrun failed on the ksc object of $name"
        cr=$("$OUT/benchrun" -k 1 -r "$REPEAT" "${mapargs[@]}" -p "$packet" "$cobj" "$prog") \
            || die "benchrun failed on the clang object of $name"
        kns+=("$(field ns "$kr")")
        cns+=("$(field ns "$cr")")
    done
    if [ "$(field retval "$kr")" != "$(field retval "$cr")" ]; then
        die "$name: the programs return $(field retval "$kr") (ksc) and $(field retval "$cr") (clang) on the $packet packet"
    fi

    same="n/a"
    if ! grep -q nondeterministic <<<"$hdr"; then
        if "$OUT/difftest" -n 500 "${mapargs[@]}" "$kobj" "$cobj" >"$tmp/dt" 2>&1; then
            same="="
        else
            same="DIFF"
            echo "bench: $name: ksc and clang objects behave differently: $(tail -n 1 "$tmp/dt")" >&2
        fi
    fi

    echo "$name $(field median_ms "$kt") $(field median_ms "$ct") $(field rss_kb "$kt")" \
        "$(field cpu_ms "$kt") $(field cpu_ms "$ct")" \
        "$(field xlated "$kr") $(field xlated "$cr") $(field verified "$kr") $(field verified "$cr")" \
        "$(printf '%s ' "${kns[@]}" | median) $(printf '%s ' "${cns[@]}" | median) $same" >>"$tmp/rows"
done

# name kms cms krss kcpu ccpu kx cx kv cv kns cns same
awk '
function lg(x) { return log(x) }
{
    sp = $3 / $2; cs = $6 / $5; ir = $7 / $8; vr = $9 / $10; nr = ($12 > 0) ? $11 / $12 : 1
    printf "| %s | %.2f | %.1f | %.1fx | %.1fx | %d | %d | %.2f | %d | %d | %.2f | %d | %d | %.2f | %.1f | %s |\n",
        $1, $2, $3, sp, cs, $7, $8, ir, $9, $10, vr, $11, $12, nr, $4 / 1024, $13
    n++; s1 += lg(sp); s5 += lg(cs); s2 += lg(ir); s3 += lg(vr); s4 += lg(nr)
}
END {
    if (!n) exit
    g1 = exp(s1 / n); g5 = exp(s5 / n); g2 = exp(s2 / n); g3 = exp(s3 / n); g4 = exp(s4 / n)
    printf "| **geometric mean** | | | **%.1fx** | **%.1fx** | | | **%.2f** | | | **%.2f** | | | **%.2f** | | |\n", g1, g5, g2, g3, g4
    printf "\n## Targets (issue 6, geometric means over %d pairs)\n\n", n
    printf "| target | now | goal | measured | now met |\n|---|---|---|---|:-:|\n"
    printf "| compile speed vs clang, wall clock | >= 20x | >= 100x | %.1fx | %s |\n", g1, (g1 >= 20 ? "yes" : "no")
    printf "| compile speed vs clang, CPU time | >= 20x | >= 100x | %.1fx | %s |\n", g5, (g5 >= 20 ? "yes" : "no")
    printf "| xlated instructions vs clang | <= 1.10 | <= 1.00 | %.2f | %s |\n", g2, (g2 <= 1.10 ? "yes" : "no")
    printf "| verifier processed vs clang | <= 1.10 | <= 1.10 | %.2f | %s |\n", g3, (g3 <= 1.10 ? "yes" : "no")
    printf "| ns per run vs clang | <= 1.05 | <= 1.05 | %.2f | %s |\n", g4, (g4 <= 1.05 ? "yes" : "no")
}' "$tmp/rows" >>"$tmp/table"

# scaling: a full compile (ksc -o) of generated programs
{
    echo
    echo "## Scaling: \`ksc -o\` on programs from bench/gen_program.py"
    echo
    echo "| lines | bytes | median ms | cpu ms | cpu ms per 1k lines | peak RSS MB | object bytes |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
} >>"$tmp/table"
[ -f bench/gen_program.py ] || { SIZES=""; echo "| (bench/gen_program.py is missing: no scaling figures) | | | | | | |" >>"$tmp/table"; }
for n in $SIZES; do
    f=$tmp/gen_$n.ks
    python3 bench/gen_program.py "$n" "$f"
    "$KSC" -o "$tmp/gen.o" "$f" 2>"$tmp/err" || die "ksc -o failed on a generated $n-line program: $(head -n 3 "$tmp/err")"
    st=$("$OUT/timeit" -n "$SCALE_RUNS" -- "$KSC" -o "$tmp/gen.o" "$f")
    ms=$(field median_ms "$st")
    awk -v l="$(wc -l <"$f")" -v b="$(wc -c <"$f")" -v ms="$ms" -v cpu="$(field cpu_ms "$st")" \
        -v kb="$(field rss_kb "$st")" -v ob="$(wc -c <"$tmp/gen.o")" \
        'BEGIN { printf "| %d | %d | %.1f | %.1f | %.2f | %.1f | %d |\n", l, b, ms, cpu, cpu * 1000 / l, kb / 1024, ob }' \
        >>"$tmp/table"
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
if [ -z "${BENCH_SHARED_CACHE:-}" ]; then
    cache_note="the benchmark's own ($(cat "$KSC_CACHE_DIR"/*.cache 2>/dev/null | wc -c) bytes)"
else
    cache_note="the user's, shared with everything compiled here before"
fi
{
    echo "# ksc benchmark results"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), ksc $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "($("$KSC" --version 2>/dev/null | head -n 1)), $("$CLANG" --version | head -n 1)"
    echo
    echo "Machine: \`$(uname -a)\`, $(nproc) CPUs, ${cpu:-unknown CPU}."
    echo
    echo "Settings: RUNS=$RUNS compiles per median, REPEAT=$REPEAT test runs x ROUNDS=$ROUNDS," \
        "clang command: \`${CLANG_CMD[*]} NAME.bpf.c\`, ksc command: \`ksc -o NAME.o NAME.ks\`," \
        "kernel-type cache: $cache_note."
    echo
    cat "$tmp/table"
} >"$REPORT"
cat "$REPORT"
