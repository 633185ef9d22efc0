#!/usr/bin/env bash
# Issue 4: a `ksc build` program attaches an XDP program (generic mode)
# and TC egress and ingress programs to one end of a veth pair between two
# network namespaces; real ping traffic from the other end; the counts it reads
# from its maps (a hash, a per-CPU array, an array) must be exact. After
# it exits, and after SIGINT or SIGTERM mid-run, nothing may be left
# attached or pinned. The namespaces go in every case (EXIT trap).
set -u
. "$(dirname "$0")/../lib.sh"
. "$ROOT/tests/e2e/netns.sh"
t=e2e/xdp_tc
work=$(mktemp -d)
project=ksc_e2e_traffic_$$
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    netns_down
    rm -rf "$work" "/sys/fs/bpf/$project"
}
trap cleanup EXIT

check() {   # check NAME CONDITION-STATUS WHY
    if [ "$2" -eq 0 ]; then pass "$t/$1"; else fail "$t/$1" "$3"; fi
}

if ! "$KSC" build "$ROOT/tests/e2e/traffic.ks" -o "$work" --project "$project" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(head -n 5 "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"
mount_bpffs
if ! netns_up 77; then
    fail "$t/netns" "cannot create the namespaces and veth pair"
    exit 1
fi

start() {   # start EXPECT TIMEOUT_MS: runs the program in NS_A on va
    : >"$work/out"
    ip netns exec "$NS_A" "$work/traffic" --iface=va --expect="$1" --timeout_ms="$2" >"$work/out" 2>"$work/err" &
    pid=$!
    wait_line "$work/out" ready
}

gone_now() {
    [ -z "$(leftovers)" ] && ! bpftool prog show 2>/dev/null | grep -qE 'name (count_in|count_out|count_in_tc) ' \
        && [ ! -e "/sys/fs/bpf/$project" ]
}

# gone: nothing of ours attached to va, loaded or pinned. The kernel frees a
# program after its last reference goes, from a deferred work item, so a
# just-exited loader's programs may still be listed for a moment: poll 3 s.
gone() {
    local i
    for ((i = 0; i < 30; i++)); do
        gone_now && return 0
        sleep 0.1
    done
    return 1
}

# what gone found still there, for the failure message
residue() {
    leftovers | tr '\n' ' '
    bpftool prog show 2>/dev/null | grep -oE 'name (count_in|count_out|count_in_tc) ' | tr '\n' ' '
    [ -e "/sys/fs/bpf/$project" ] && echo "/sys/fs/bpf/$project"
}

# 1: five pings; the exact counts
if ! start 5 10000; then
    fail "$t/start" "no 'ready' line: $(cat "$work/err")"
    exit 1
fi
ip netns exec "$NS_B" ping -c 5 -i 0.2 -q "$IP_A" >"$work/ping" 2>&1
wait "$pid"
rc=$?
pid=
check exit $rc "exit status $rc: $(cat "$work/err")"
grep -q ' 5 received' "$work/ping"
check ping $? "$(tail -n 2 "$work/ping" | tr '\n' ' ')"
[ "$(grep '^xdp proto' "$work/out")" = "xdp proto 1: 5" ]
check xdp_counts $? "got: $(grep '^xdp' "$work/out" | tr '\n' ';')"
grep -qx 'tc icmp out: 5 packets, 490 bytes' "$work/out" && grep -qx 'tc icmp in: 5' "$work/out"
check tc_counts $? "got: $(grep '^tc' "$work/out" | tr '\n' ';')"
gone
check detached_at_exit $? "left behind: $(residue)"

# 2 and 3: a signal while attached detaches everything
for sig in INT TERM; do
    if ! start 1000000 60000; then
        fail "$t/sig$sig" "no 'ready' line: $(cat "$work/err")"
        continue
    fi
    [ -n "$(leftovers)" ]
    check "attached_before_sig$sig" $? "nothing attached while running"
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    pid=
    want=$((128 + $(kill -l "$sig")))
    [ "$rc" -eq "$want" ]
    check "sig${sig}_status" $? "exit status $rc, expected $want"
    gone
    check "detached_on_sig$sig" $? "left behind: $(residue)"
done
