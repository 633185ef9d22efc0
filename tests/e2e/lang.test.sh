#!/usr/bin/env bash
# Issue 4: userspace language corners through a `ksc build` program, checked
# against the exact output (see tests/e2e/lang.ks).
set -u
. "$(dirname "$0")/../lib.sh"
t=e2e/lang
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$KSC" build "$ROOT/tests/e2e/lang.ks" -o "$work" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(grep -m 3 error "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"
"$work/lang" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -eq 0 ] && pass "$t/exit" || fail "$t/exit" "status $rc: $(head -c 300 "$work/err")"
cat >"$work/want" <<'W'
dist 2, mode auto/10, ab abcde
cells z q -5 1
pick q level 3 fact 3628800
shift -16 2 char c 100% sizeof 28
total -3 count 3 nested 50 60
vec 13 4 absent 0
enum ok
loop defer
W
diff -u "$work/want" "$work/out" >"$work/diff" && pass "$t/output" ||
    fail "$t/output" "$(grep '^[-+][^-+]' "$work/diff" | tr '\n' ' ')"
