#!/usr/bin/env bash
# pin var globals live in one pinned array map, `pinned_globals`: loading
# the same object twice shares it, so values survive a reload. Runs in a
# private mount namespace with its own bpffs, so no pin outlives the test.
set -u
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$KSC" -o "$work/p.o" "$ROOT/tests/ebpf/pinned.ks" || { fail pinned-obj/compile "ksc failed"; exit 0; }
head -c 64 /dev/zero >"$work/pkt"
out=$(unshare -m bash -c '
    mount -t bpf bpf /sys/fs/bpf || exit 1
    run() { bpftool prog run pinned /sys/fs/bpf/$1/pins data_in "'"$work"'/pkt" repeat 1 | sed -n "s/.*Return value: \([0-9]*\).*/\1/p"; }
    bpftool prog loadall "'"$work"'/p.o" /sys/fs/bpf/one >/dev/null 2>&1 || exit 2
    run one; run one
    bpftool prog loadall "'"$work"'/p.o" /sys/fs/bpf/two >/dev/null 2>&1 || exit 3
    run two
    bpftool -j map lookup pinned /sys/fs/bpf/pinned_globals key 0 0 0 0 | grep -o "\"boots\":[0-9]*"
' 2>&1)
# boots counts across both loads; calls (local var) and seen (var) restart
want=$'112\n224\n312\n"boots":3'
if [ "$out" = "$want" ]; then
    pass pinned-obj/survives-reload
else
    fail pinned-obj/survives-reload "got $(echo $out)"
fi
