#!/usr/bin/env bash
# `make run`: compiles examples/port_filter.ks, loads it into the kernel
# (nothing is attached), runs it on test packets with BPF_PROG_TEST_RUN and
# prints each verdict and the counters it kept.
set -eu
. "$(dirname "$0")/lib.sh"
obj="$ROOT/build/port_filter.bpf.o"
pin=/sys/fs/bpf/ksc_example_$$
work=$(mktemp -d)
trap 'rm -rf "$pin" "$work"' EXIT INT TERM
"$KSC" -o "$obj" "$ROOT/examples/port_filter.ks"
echo "compiled examples/port_filter.ks -> build/port_filter.bpf.o ($(stat -c %s "$obj") bytes)"
mount_bpffs
mkdir -p "$pin"
bpftool prog loadall "$obj" "$pin/p" pinmaps "$pin/m" 2>/dev/null
echo "loaded: $(bpftool prog show pinned "$pin/p/port_filter" | head -n 1)"
verdict() { case $1 in 0) echo XDP_ABORTED;; 1) echo XDP_DROP;; 2) echo XDP_PASS;; 3) echo XDP_TX;; *) echo "$1";; esac; }
# Ethernet + IPv4 + TCP/UDP headers, as hex
eth=0200000000020200000000010800
ipv4() { echo "450000280000000040${1}00000a0000010a000002"; }
tcp() { printf '04d2%04x00000000000000005002020000000000' "$1"; }
udp() { printf '04d2%04x00080000' "$1"; }
run() {
    printf '%s' "$2" | sed 's/../\\x&/g' | xargs -0 printf >"$work/pkt"
    out=$(bpftool prog run pinned "$pin/p/port_filter" data_in "$work/pkt" repeat 1)
    rv=$(echo "$out" | sed -n 's/.*Return value: *\([0-9-]*\).*/\1/p')
    printf '  %-28s -> %s\n' "$1" "$(verdict "$rv")"
}
echo "verdicts:"
run "TCP to port 23 (telnet)" "$eth$(ipv4 06)$(tcp 23)"
run "TCP to port 80" "$eth$(ipv4 06)$(tcp 80)"
run "TCP to port 2323" "$eth$(ipv4 06)$(tcp 2323)"
run "UDP to port 53" "$eth$(ipv4 11)$(udp 53)"
run "14-byte runt frame" "000000000000000000000000ffff"
echo "counters:"
bpftool -j map dump pinned "$pin/m/per_proto" | grep -o '"key":[0-9]*,"value":[0-9]*' |
    sed 's/"key":\([0-9]*\),"value":\([0-9]*\)/  per_proto[\1] = \2/'
bpftool -j map lookup pinned "$pin/m/dropped" key 0 0 0 0 | sed -n 's/.*"value":\([0-9]*\).*/  dropped = \1/p'
