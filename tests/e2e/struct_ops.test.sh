#!/usr/bin/env bash
# struct_ops on this host's kernel: a tcp_congestion_ops impl compiled by ksc
# registers (`bpftool struct_ops register`) and shows in
# tcp_available_congestion_control; a TCP transfer inside a network namespace
# this test creates selects it with setsockopt(TCP_CONGESTION); the impl's
# counters (globals in .bss) prove the kernel called its members; and it
# unregisters again. Then the same through `ksc build`: the generated program's
# register() while the transfer runs, its own reading of the counters, and the
# unregistration when it exits. Everything it creates is removed, whatever
# happens.
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
CA=ksc_e2e_cc                   # the impl, its struct_ops map and the algorithm
work=$(mktemp -d)
ns=ksc_so_$$
# The object's name gives its .bss map's name: unique per run, because the
# kernel keeps an unregistered impl (and its maps) while sockets that used it
# linger, and at most 8 characters, because libbpf keeps no more of it.
obj=k$(($$ % 10000000))
registered=0 prog_pid=''
cleanup() {
    [ "$registered" = 1 ] && bpftool struct_ops unregister name "$CA" >/dev/null 2>&1
    if [ -n "$prog_pid" ]; then kill "$prog_pid" 2>/dev/null; wait "$prog_pid" 2>/dev/null; fi
    ip netns del "$ns" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Without BPF struct_ops for TCP there is nothing to test; that is no failure.
if [ ! -r /sys/kernel/btf/vmlinux ] || ! command -v bpftool >/dev/null || ! command -v python3 >/dev/null ||
    ! bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "STRUCT 'bpf_struct_ops_tcp_congestion_ops'"; then
    skip struct_ops/register "no kernel BTF, bpftool, python3 or BPF tcp_congestion_ops here"
    exit 0
fi
# A leftover from an interrupted run would make the name taken.
bpftool struct_ops unregister name "$CA" >/dev/null 2>&1

cat >"$work/kscso.ks" <<'KS'
var inits: u64 = 0
var acks: u64 = 0
var acked: u64 = 0
var ssthreshes: u64 = 0

@struct_ops("tcp_congestion_ops")
impl ksc_e2e_cc {
    fn init(sk: *sock) -> void {
        inits += 1
    }
    fn ssthresh(sk: *sock) -> u32 {
        ssthreshes += 1
        return 16
    }
    fn undo_cwnd(sk: *sock) -> u32 {
        return 10
    }
    fn cong_avoid(sk: *sock, ack: u32, n: u32) -> void {
        acks += 1
        acked += n as u64
    }
    name: "ksc_e2e_cc",
}
KS
if ! "$KSC" -o "$work/$obj.bpf.o" "$work/kscso.ks" 2>"$work/ksc.err"; then
    fail struct_ops/compile "$(head -n 1 "$work/ksc.err")"
    exit 0
fi
pass struct_ops/compile

if ! bpftool struct_ops register "$work/$obj.bpf.o" >"$work/reg.out" 2>&1; then
    fail struct_ops/register "$(grep -v '^[[:space:]]*$' "$work/reg.out" | tail -n 1)"
    exit 0
fi
registered=1
if grep -qw "$CA" /proc/sys/net/ipv4/tcp_available_congestion_control; then
    pass struct_ops/register
else
    fail struct_ops/register "registered, but $CA is not in tcp_available_congestion_control"
fi

# The .bss counters, by name: "inits=N acks=N acked=N ssthreshes=N".
counters() {
    bpftool -j map dump name "$obj.bss" 2>/dev/null | python3 -c '
import json, sys
vals = {}
for entry in json.load(sys.stdin):
    for var in entry["formatted"]["value"][".bss"]:
        vals.update(var)
print(" ".join("%s=%s" % kv for kv in sorted(vals.items())))'
}

# 4 MB from a client that selects the algorithm to a server on lo, in the netns.
cat >"$work/flow.py" <<'PY'
import socket, sys, threading
ca = sys.argv[1].encode()
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
def serve():
    c, _ = srv.accept()
    while c.recv(1 << 16):
        pass
    c.close()
t = threading.Thread(target=serve)
t.start()
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, ca)
s.connect(srv.getsockname())
used = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0")
s.sendall(b"x" * (4 << 20))
s.close()
t.join(10)
print(used.decode())
PY
if ! ip netns add "$ns" || ! ip -n "$ns" link set lo up; then
    fail struct_ops/traffic "cannot create network namespace $ns"
    exit 0
fi
before=$(counters)
used=$(timeout 30 ip netns exec "$ns" python3 "$work/flow.py" "$CA" 2>"$work/flow.err")
after=$(counters)
echo "struct_ops: counters before: $before; after: $after" >&2
get() { sed -n "s/.*\<$2=\([0-9]*\).*/\1/p" <<<"$1"; }
if [ "$used" != "$CA" ]; then
    fail struct_ops/traffic "the socket used '${used:-nothing}', not $CA ($(head -n 1 "$work/flow.err"))"
elif [ "$(get "$after" inits)" -le "$(get "$before" inits)" ] 2>/dev/null; then
    fail struct_ops/traffic "init was not called ($after)"
elif [ "$(get "$after" acks)" -le "$(get "$before" acks)" ] 2>/dev/null ||
     [ "$(get "$after" acked)" -le "$(get "$before" acked)" ] 2>/dev/null; then
    fail struct_ops/traffic "cong_avoid was not called ($after)"
elif [ -z "$(get "$after" acks)" ]; then
    fail struct_ops/traffic "cannot read the counters of $obj.bss"
else
    pass struct_ops/traffic
fi

if bpftool struct_ops unregister name "$CA" >"$work/unreg.out" 2>&1; then
    registered=0
    if grep -qw "$CA" /proc/sys/net/ipv4/tcp_available_congestion_control; then
        fail struct_ops/unregister "$CA is still in tcp_available_congestion_control"
    else
        pass struct_ops/unregister
    fi
else
    fail struct_ops/unregister "$(tail -n 1 "$work/unreg.out")"
fi

# ---- the same through ksc build and the generated register() --------------------------
CA2=ksc_e2e_cc2
sed "s/ksc_e2e_cc/$CA2/g" "$work/kscso.ks" >"$work/gen.ks"
cat >>"$work/gen.ks" <<'KS'

// Registers, waits until the kernel has called cong_avoid (the test's transfer
// runs meanwhile), prints the counters; the registration ends with the program.
fn main() -> i32 {
    if (register(ksc_e2e_cc2) != 0) {
        return 2
    }
    var waited: u32 = 0
    while (acks == 0 && waited < 200) {
        sleep(50)
        waited += 1
    }
    print("inits %u acks %u", inits, acks)
    return acks > 0 ? 0 : 1
}
KS
if ! "$KSC" build "$work/gen.ks" -o "$work/gen" >"$work/build.log" 2>&1; then
    if grep -q "'ksc build' is not built yet" "$work/build.log"; then
        skip struct_ops/generated "ksc build is not written yet"
    else
        fail struct_ops/generated "ksc build: $(grep -m 1 error "$work/build.log")"
    fi
    exit 0
fi
"$work/gen/gen" >"$work/gen.out" 2>&1 &
prog_pid=$!
for _ in $(seq 50); do
    grep -qw "$CA2" /proc/sys/net/ipv4/tcp_available_congestion_control && break
    sleep 0.1
done
used=$(timeout 30 ip netns exec "$ns" python3 "$work/flow.py" "$CA2" 2>"$work/flow.err")
st=0
wait "$prog_pid" || st=$?
prog_pid=''
if [ "$used" != "$CA2" ]; then
    fail struct_ops/generated "the socket used '${used:-nothing}', not $CA2 ($(tail -n 1 "$work/gen.out"))"
elif [ "$st" != 0 ] || ! grep -q "acks [1-9]" "$work/gen.out"; then
    fail struct_ops/generated "the program exited $st: $(tail -n 1 "$work/gen.out")"
elif grep -qw "$CA2" /proc/sys/net/ipv4/tcp_available_congestion_control; then
    fail struct_ops/generated "$CA2 is still registered after the program exited"
else
    pass struct_ops/generated
fi
