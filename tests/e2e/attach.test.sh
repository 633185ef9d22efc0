#!/usr/bin/env bash
# ksc's objects attach with the standard tools: `ip link ... xdp obj` and
# `tc filter ... bpf da obj`, on a veth inside network namespaces this test
# creates (and removes, whatever happens). Real ping traffic then goes
# through both programs, and their counters must show it.
set -u
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d)
ns1=ksc_att_a_$$
ns2=ksc_att_b_$$
cleanup() {
    ip netns del "$ns1" 2>/dev/null
    ip netns del "$ns2" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM
cat >"$work/xdp.ks" <<'KS'
var seen : array<u32, u64>(1)
@xdp fn count_xdp(ctx: *xdp_md) -> xdp_action {
    seen[0] += 1
    return XDP_PASS
}
KS
cat >"$work/tc.ks" <<'KS'
var seen : array<u32, u64>(1)
@tc("ingress") fn count_tc(ctx: *__sk_buff) -> i32 {
    if (ctx->protocol == htons(ETH_P_IP)) {
        seen[0] += 1
    }
    return TC_ACT_OK
}
KS
"$KSC" -o "$work/xdp.o" "$work/xdp.ks" && "$KSC" -o "$work/tc.o" "$work/tc.ks" || {
    fail attach/compile "ksc failed"
    exit 0
}
ip netns add "$ns1" && ip netns add "$ns2" &&
    ip link add veth_a netns "$ns1" type veth peer name veth_b netns "$ns2" &&
    ip -n "$ns1" addr add 10.77.0.1/24 dev veth_a && ip -n "$ns2" addr add 10.77.0.2/24 dev veth_b &&
    ip -n "$ns1" link set veth_a up && ip -n "$ns2" link set veth_b up || {
    fail attach/netns "cannot create the namespaces and veth pair"
    exit 0
}
if ip -n "$ns2" link set dev veth_b xdp obj "$work/xdp.o" sec xdp; then
    pass attach/ip-link-xdp
else
    fail attach/ip-link-xdp "ip link set ... xdp obj failed"
fi
if ip netns exec "$ns2" tc qdisc add dev veth_b clsact &&
    ip netns exec "$ns2" tc filter add dev veth_b ingress bpf da obj "$work/tc.o" sec tc; then
    pass attach/tc-filter
else
    fail attach/tc-filter "tc filter add ... bpf da obj failed"
fi
ip netns exec "$ns1" ping -c 5 -i 0.2 -W 1 -q 10.77.0.2 >/dev/null 2>&1
for prog in count_xdp count_tc; do
    id=$(ip netns exec "$ns2" bpftool -j prog show name "$prog" | grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2)
    map=$(ip netns exec "$ns2" bpftool -j prog show id "$id" 2>/dev/null | grep -o '"map_ids":\[[0-9]*' | grep -o '[0-9]*$')
    n=$(bpftool -j map lookup id "$map" key 0 0 0 0 2>/dev/null | grep -o '"value":[0-9]*' | cut -d: -f2)
    # 5 echo requests: exactly 5 IPv4 packets for tc; XDP also sees ARP
    # and IPv6 neighbour discovery
    want_ok=0
    if [ "$prog" = count_tc ]; then [ "${n:-0}" -eq 5 ] && want_ok=1; else [ "${n:-0}" -ge 5 ] && want_ok=1; fi
    if [ "$want_ok" = 1 ]; then
        pass "attach/traffic-$prog"
    else
        fail "attach/traffic-$prog" "counter is '${n:-none}' after 5 pings"
    fi
done
ip -n "$ns2" link set dev veth_b xdp off
ip netns exec "$ns2" tc qdisc del dev veth_b clsact
