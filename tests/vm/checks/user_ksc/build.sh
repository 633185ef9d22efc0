#!/usr/bin/env bash
# Host side of user_ksc (run by tests/vm/run.sh; see its header for the variables).
set -eu
"$KSC" build "$SRC/user_ksc.ks" -o "$WORK/b" --kdir "$KDIR" >&2
ls "$WORK/b"/*.ko >/dev/null 2>&1 || { echo "ksc build made no kernel module"; exit 1; }
"$KSC" build "$SRC/user_kprobe.ks" -o "$WORK/b" >&2
cp "$WORK/b/user_ksc" "$WORK/b/user_kprobe" "$WORK/b"/*.ko "$OUT/"
