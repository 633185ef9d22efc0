#!/usr/bin/env bash
# Issue 4: a pinned map (/sys/fs/bpf/<project>/maps/runs) and pinned
# globals (/sys/fs/bpf/<project>/globals/pinned_globals) keep their values
# across two runs of a `ksc build` program; initial values are written
# only when the pin is created. The pins are removed at the end.
set -u
. "$(dirname "$0")/../lib.sh"
t=e2e/pins
work=$(mktemp -d)
project=ksc_e2e_pins_$$
pins=/sys/fs/bpf/$project
trap 'rm -rf "$work" "$pins"' EXIT
mount_bpffs

if ! "$KSC" build "$ROOT/tests/e2e/pins.ks" --project "$project" -o "$work" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(head -n 5 "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"

expect() {  # expect NAME OUTPUT WANT
    [ "$2" = "$3" ] && pass "$t/$1" || fail "$t/$1" "got '$2', expected '$3'"
}
out1=$("$work/pins" 2>&1)
expect first_run "$out1" "before: boots=100 runs=0 note=fresh
after: boots=101 runs=10 unpinned=1 note=run"
[ -e "$pins/maps/runs" ] && [ -e "$pins/globals/pinned_globals" ] && pass "$t/pinned_paths" ||
    fail "$t/pinned_paths" "$(find "$pins" 2>&1 | tr '\n' ' ')"
out2=$("$work/pins" 2>&1)
expect second_run "$out2" "before: boots=101 runs=10 note=run
after: boots=102 runs=20 unpinned=1 note=run"
# what bpftool reads from the pinned map agrees
v=$(bpftool -j map lookup pinned "$pins/maps/runs" key 7 0 0 0 2>/dev/null | grep -o '"value":[0-9]*' | cut -d: -f2 | tr -d '\n')
expect bpftool_value "$v" 20
rm -rf "$pins"
[ ! -e "$pins" ] && pass "$t/cleaned" || fail "$t/cleaned" "$pins is still there"
