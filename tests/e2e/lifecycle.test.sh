#!/usr/bin/env bash
# Issue 4: a `ksc build` program attaches a tracepoint program and a
# perf_event program (perf_options, read(att)), registers a struct_ops
# impl, detaches (twice: detach is idempotent) and exits; the struct_ops
# registration and every link go with it.
set -u
. "$(dirname "$0")/../lib.sh"
t=e2e/lifecycle
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

if ! bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "STRUCT 'bpf_struct_ops_tcp_congestion_ops'"; then
    skip "$t/all" "no BPF tcp_congestion_ops in this kernel"
    exit 0
fi
if ! "$KSC" build "$ROOT/tests/e2e/lifecycle.ks" -o "$work" >"$work/build.log" 2>&1; then
    fail "$t/build" "$(head -n 5 "$work/build.log" | tr '\n' ' ')"
    exit 1
fi
pass "$t/build"

"$work/lifecycle" --hold_ms=1500 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -qx ready "$work/out" 2>/dev/null && break; sleep 0.1; done
grep -qw ksc_life_cc /proc/sys/net/ipv4/tcp_available_congestion_control && pass "$t/registered" ||
    fail "$t/registered" "ksc_life_cc is not an available congestion control: $(cat "$work/err")"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] && pass "$t/exit" || fail "$t/exit" "status $rc: $(cat "$work/err")"
cat >"$work/want" <<'W'
attach tracepoint 0
attach perf_event 1
register 0
ready
hits: tracepoint 1 perf 1 count 1
read after detach -1
counting stopped 1
W
diff -u "$work/want" "$work/out" >"$work/diff" && pass "$t/output" ||
    fail "$t/output" "$(grep '^[-+][^-+]' "$work/diff" | tr '\n' ' ') $(head -c 300 "$work/err")"
! grep -qw ksc_life_cc /proc/sys/net/ipv4/tcp_available_congestion_control && pass "$t/unregistered_at_exit" ||
    fail "$t/unregistered_at_exit" "ksc_life_cc is still registered"
# the kernel frees struct_ops programs after an RCU grace period: wait
ours() { bpftool prog show 2>/dev/null | grep -E 'name (on_sleep|on_clock|ssthresh|undo_cwnd|cong_avoid) '; }
for _ in $(seq 100); do [ -z "$(ours)" ] && break; sleep 0.1; done
[ -z "$(ours)" ] && pass "$t/programs_gone" || fail "$t/programs_gone" "$(ours | tr '\n' ' ')"
