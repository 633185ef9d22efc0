#!/usr/bin/env bash
# Issue 4: `ksc test` runs every @test function (BPF_PROG_TEST_RUN on
# byte arrays, strings and packet_size inputs), reports the passing and
# the failing ones, ends with "N passed, N failed" and exits non-zero.
set -u
. "$(dirname "$0")/../lib.sh"
t=e2e/ksc_test
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$KSC" test "$ROOT/tests/e2e/unit_tests.ks" >"$work/out" 2>"$work/err"
rc=$?
[ "$rc" -ne 0 ] && pass "$t/exit_nonzero" || fail "$t/exit_nonzero" "exit status 0 with failing tests"
for want in "PASS small_packet_passes" "PASS large_packet_dropped" "PASS byte_array_input" \
    "PASS string_input" "PASS counts_read_back" "FAIL wrong_expectation: returned 7" \
    "FAIL throws_out: threw 3" "5 passed, 2 failed"; do
    name=$(echo "${want%%:*}" | tr 'A-Z ,' 'a-z__')
    grep -qx "$want" "$work/out" && pass "$t/$name" ||
        fail "$t/$name" "no line '$want' in: $(tr '\n' '|' <"$work/out") $(head -c 300 "$work/err")"
done
# only the two meant to fail fail
[ "$(grep -c '^FAIL' "$work/out")" = 2 ] && pass "$t/only_two_fail" || fail "$t/only_two_fail" "$(grep '^FAIL' "$work/out" | tr '\n' ' ')"

# a file whose tests all pass exits 0
sed -e '/These two fail/,$d' "$ROOT/tests/e2e/unit_tests.ks" >"$work/passing.ks"
"$KSC" test "$work/passing.ks" >"$work/out2" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -qx "5 passed, 0 failed" "$work/out2" && pass "$t/all_pass_exit_zero" ||
    fail "$t/all_pass_exit_zero" "status $rc: $(tail -n 3 "$work/out2" | tr '\n' ' ')"
