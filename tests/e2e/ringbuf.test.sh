#!/usr/bin/env bash
# Issue 4: ring-buffer events from the kernel side (an XDP program that
# sees real pings) reach the userspace handler one by one, in order, with
# the right field values; one dispatch() polls two ring buffers, and a
# handler's non-zero result ends it.
set -u
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/e2e/netns.sh"
t=e2e/ringbuf
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    netns_down
    rm -rf "$work"
}
trap cleanup EXIT

if ! "$KSC" build "$ROOT/tests/e2e/ringbuf.ks" -o "$work" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(head -n 5 "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"
if ! netns_up 78; then
    fail "$t/netns" "cannot create the namespaces and veth pair"
    exit 1
fi
ip netns exec "$NS_A" "$work/ringbuf" --iface=va --count=5 >"$work/out" 2>"$work/err" &
pid=$!
if ! wait_line "$work/out" ready; then
    fail "$t/start" "no 'ready' line: $(cat "$work/err")"
    exit 1
fi
# three small echo requests, then two larger ones, with a known identifier
ip netns exec "$NS_B" ping -c 3 -i 0.2 -s 56 -e 4242 -q "$IP_A" >"$work/ping1" 2>&1
ip netns exec "$NS_B" ping -c 2 -i 0.2 -s 200 -e 4243 -q "$IP_A" >"$work/ping2" 2>&1
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] && pass "$t/exit" || fail "$t/exit" "status $rc: $(cat "$work/err")"
# 10.78.0.2 is 0a4e0002
cat >"$work/want" <<'W'
ready
event 0: seq=1 id=4242 len=84 ttl=64 from=a4e0002
event 1: seq=2 id=4242 len=84 ttl=64 from=a4e0002
event 2: seq=3 id=4242 len=84 ttl=64 from=a4e0002
event 3: seq=1 id=4243 len=228 ttl=64 from=a4e0002
event 4: seq=2 id=4243 len=228 ttl=64 from=a4e0002
dispatch stopped (1) after 5 events; the kernel sent 5
lengths: 5, 778 bytes
W
if diff -u "$work/want" "$work/out" >"$work/diff"; then
    pass "$t/events"
else
    fail "$t/events" "$(grep '^[-+][^-+]' "$work/diff" | tr '\n' ' ')"
fi
