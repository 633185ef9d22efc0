#!/usr/bin/env bash
# Issue 4: a config value set from a command-line option (--max_len)
# changes the kernel side's verdict on real traffic: large pings pass with
# --max_len=2000 and are dropped with --max_len=500, small ones pass.
set -u
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/e2e/netns.sh"
t=e2e/config
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    netns_down
    rm -rf "$work"
}
trap cleanup EXIT

if ! "$KSC" build "$ROOT/tests/e2e/config_verdict.ks" -o "$work" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(head -n 5 "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"
if ! netns_up 79; then
    fail "$t/netns" "cannot create the namespaces and veth pair"
    exit 1
fi

# run NAME MAX_LEN EXPECT PING-ARGS...: the line the program prints
run() {
    local name=$1 max=$2 expect=$3
    shift 3
    ip netns exec "$NS_A" "$work/config_verdict" --iface=va --max_len="$max" --expect="$expect" \
        >"$work/out" 2>"$work/err" &
    pid=$!
    if ! wait_line "$work/out" ready; then
        fail "$t/$name" "no 'ready' line: $(cat "$work/err")"
        return 1
    fi
    while [ $# -gt 0 ]; do
        ip netns exec "$NS_B" ping -c 3 -i 0.2 -W 1 -s "$1" -q "$IP_A" >>"$work/ping" 2>&1
        shift
    done
    wait "$pid"
    pid=
    tail -n 1 "$work/out"
}

got=$(run large_passes 2000 3 1000)
[ "$got" = "max_len=2000 enabled=true dropped=0 passed=3" ] && pass "$t/large_passes" ||
    fail "$t/large_passes" "got '$got'"
: >"$work/ping"
got=$(run large_dropped 500 6 1000 56)
[ "$got" = "max_len=500 enabled=true dropped=3 passed=3" ] && pass "$t/large_dropped" ||
    fail "$t/large_dropped" "got '$got'"
# ping saw it too: the large ones lost, the small ones answered
[ "$(grep -c ' 0 received' "$work/ping")" = 1 ] && grep -q ' 3 received' "$work/ping" && pass "$t/ping_verdicts" ||
    fail "$t/ping_verdicts" "$(grep received "$work/ping" | tr '\n' ' ')"
