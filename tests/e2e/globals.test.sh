#!/usr/bin/env bash
# Issue 4: globals and config fields (arrays, strings, an imported struct
# type) from userspace before and after load, seen by the eBPF side (a
# @test runs the program on a packet before and after userspace writes),
# and functions of an imported module.
set -u
. "$(dirname "$0")/../lib.sh"
t=e2e/globals
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$KSC" build "$ROOT/tests/e2e/globals.ks" -o "$work" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(head -n 5 "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"
out=$("$work/globals" 2>&1)
want="2 1 42
ports 80 8080 label dflt shared 3
after load: 2222 changed pair 2/1 hits 0"
[ "$out" = "$want" ] && pass "$t/program" || fail "$t/program" "got: $(echo "$out" | tr '\n' '|')"
out=$("$KSC" test "$ROOT/tests/e2e/globals.ks" 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -qx 'verdicts 2 1, hits 2' && echo "$out" | grep -qx 'PASS kernel_sees_userspace_writes' &&
    pass "$t/kernel_sees_writes" || fail "$t/kernel_sees_writes" "status $rc: $(echo "$out" | tr '\n' '|')"
