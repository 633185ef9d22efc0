#!/bin/sh
# Front-end scaling: generates programs of 1k, 10k and 50k lines with
# bench/gen_program.py and times `ksc --check` on each (the median of RUNS
# runs, wall clock). The last column, ms per 1000 lines, stays flat when the
# time grows linearly with the size. Target: 10,000 lines under 50 ms with
# the release build (make build/ksc, -O2).
#   bench/front_scale.sh [SIZES...]       env: KSC (build/ksc), RUNS (11), KSC_FLAGS
set -eu
cd "$(dirname "$0")/.."
KSC=${KSC:-build/ksc}
RUNS=${RUNS:-11}
SIZES=${*:-1000 10000 50000}
OUT=bench/out
mkdir -p "$OUT"
[ -x "$KSC" ] || { echo "front_scale: $KSC is missing; run make build/ksc" >&2; exit 2; }

# "WALL CPU": median wall-clock and median CPU (user + system) milliseconds
# of RUNS runs of $KSC --check FILE, timed from one Python process (a
# `date` per run would cost more than a small file takes). CPU time is
# the steadier figure on a busy machine.
measure() {
    # shellcheck disable=SC2086
    python3 - "$RUNS" "$1" "$KSC" --check ${KSC_FLAGS:-} <<'PY'
import resource, subprocess, sys, time
runs, path, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
wall, cpu = [], []
for _ in range(runs):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd + [path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall.append((time.perf_counter() - t0) * 1000)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000)
    if r.returncode != 0:
        sys.stderr.write('front_scale: ksc --check failed on %s:\n%s' % (path, r.stderr.decode()[:500]))
        sys.exit(1)
print('%.1f %.1f' % (sorted(wall)[runs // 2], sorted(cpu)[runs // 2]))
PY
}

printf '%-8s %8s %9s %9s %14s\n' lines bytes "wall ms" "cpu ms" "wall ms/1k ln"
for n in $SIZES; do
    f="$OUT/gen_$n.ks"
    python3 bench/gen_program.py "$n" "$f"
    lines=$(wc -l < "$f")
    bytes=$(wc -c < "$f")
    # shellcheck disable=SC2086
    "$KSC" --check ${KSC_FLAGS:-} "$f" >/dev/null 2>&1 || true    # warm the page cache
    set -- $(measure "$f")
    per=$(awk -v ms="$1" -v l="$lines" 'BEGIN { printf "%.2f", ms * 1000 / l }')
    printf '%-8s %8s %9s %9s %14s\n' "$lines" "$bytes" "$1" "$2" "$per"
done
