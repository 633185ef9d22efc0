# Sourced by the e2e tests that need real traffic: two network namespaces
# joined by a veth pair, 10.77.<n>.1 on "va" in $NS_A and 10.77.<n>.2 on
# "vb" in $NS_B, IPv6 off so only the test's own packets flow. Nothing
# touches the machine's own interfaces. netns_down removes both (and with
# them the veth pair and anything attached to it); the tests call it from
# an EXIT trap, so it runs even when a test fails.
netns_up() {
    local n=${1:-77}
    NS_A=ksc_a_$$_$n
    NS_B=ksc_b_$$_$n
    IP_A=10.$n.0.1
    IP_B=10.$n.0.2
    ip netns add "$NS_A" && ip netns add "$NS_B" &&
        ip link add va netns "$NS_A" type veth peer name vb netns "$NS_B" &&
        ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
        ip netns exec "$NS_B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
        ip -n "$NS_A" addr add "$IP_A/24" dev va &&
        ip -n "$NS_B" addr add "$IP_B/24" dev vb &&
        ip -n "$NS_A" link set va up && ip -n "$NS_B" link set vb up &&
        ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up
}

netns_down() {
    [ -n "${NS_A:-}" ] && ip netns del "$NS_A" 2>/dev/null
    [ -n "${NS_B:-}" ] && ip netns del "$NS_B" 2>/dev/null
    return 0
}

# wait_line FILE TEXT [TENTHS]: waits until FILE has a line TEXT.
wait_line() {
    local i
    for ((i = 0; i < ${3:-100}; i++)); do
        grep -qx "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# What is left on va after a run: XDP, clsact qdisc, tc filters.
leftovers() {
    ip -n "$NS_A" -d link show va | grep -o 'prog/xdp[^ ]*\|xdpgeneric\|xdp id [0-9]*'
    tc -n "$NS_A" qdisc show dev va | grep clsact
    tc -n "$NS_A" filter show dev va ingress
    tc -n "$NS_A" filter show dev va egress
}
