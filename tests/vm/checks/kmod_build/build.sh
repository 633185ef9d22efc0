#!/usr/bin/env bash
# Host side of kmod_build (run by tests/vm/run.sh; see its header for the variables).
set -eu
rc=0
KCFLAGS=-Werror "$KSC" build "$SRC/kmod_build.ks" -o "$WORK/b" --kdir "$KDIR" >"$WORK/ksc.log" 2>&1 || rc=$?
cat "$WORK/ksc.log"
if grep -q "'ksc build' is not built yet" "$WORK/ksc.log"; then
    echo "ksc build is not written yet"
    exit 77
fi
[ "$rc" = 0 ] || { echo "ksc build failed (exit $rc)"; exit 1; }
for f in kmod_build kmod_build_kmod.ko; do
    [ -f "$WORK/b/$f" ] || { echo "ksc build wrote no $f"; exit 1; }
    cp "$WORK/b/$f" "$OUT/"
done
