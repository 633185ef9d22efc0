#!/usr/bin/env bash
# Issue 4: maps from userspace: absent reads zero, presence, compound
# updates, map references and if (var p = m[k]), delete, iteration, per-CPU
# sums and per_cpu(), struct keys and values, string values.
set -u
. "$(dirname "$0")/../lib.sh"
t=e2e/maps
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$KSC" build "$ROOT/tests/e2e/maps.ks" -o "$work" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(head -n 5 "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"
"$work/maps" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] && pass "$t/exit" || fail "$t/exit" "status $rc: $(head -c 300 "$work/err")"
cat >"$work/want" <<'W'
absent reads 0, present 0
counts[1]=7 counts[2]=10 present=1 absent=1
after writes: 2 entries, total 17
after delete: 1 entries, total 7
flow 6/443: 5 packets 100 bytes; 17/53 present 0
ref: null=0 packets=5 bytes=150 last=9
written through the reference: 77
missing ref: null=1 packets=0
copy changed, entry still 77
per-CPU sum 42, cpu0 42
per-CPU struct: 3 30 2
cpu_counts[7] = 42
array slots sum 66 (absent slots read 0: 0)
names: alpha beta []
string value compares
W
diff -u "$work/want" "$work/out" >"$work/diff" && pass "$t/output" ||
    fail "$t/output" "$(grep '^[-+][^-+]' "$work/diff" | tr '\n' ' ')"
