#!/usr/bin/env bash
# Host side of kmod_diff (run by tests/vm/run.sh; see its header for the variables).
set -eu
# shellcheck source=tests/vm/lib.sh
. "$VM_LIB"
# shellcheck source=tests/vm/checks/kmod_diff/check.conf
. "$SRC/check.conf"
diff=$ROOT/tests/diff
# One name per twin and a module per name, built side by side.
for n in $NAMES; do
    "$KSC" -o "$OUT/$n.helper.o" "$diff/$n.ks"
    sed 's/^@helper\b/@kfunc/' "$diff/$n.ks" >"$WORK/${n}_k.ks"
    grep -q '^@kfunc' "$WORK/${n}_k.ks" || vm_die "$n.ks has no @helper at the start of a line"
    "$KSC" -o "$OUT/$n.kfunc.o" "$WORK/${n}_k.ks"
    (vm_ksc_module "$WORK/${n}_k.ks" "$WORK/$n" >/dev/null) &
done
fails=0
for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
[ "$fails" = 0 ] || vm_die "$fails module build(s) failed"
for n in $NAMES; do cp "$WORK/$n/${n}_k_kmod.ko" "$OUT/"; done
echo "$NAMES" >"$OUT/names"
# shellcheck disable=SC2086  # VM_CFLAGS and VM_LIBS are word lists
$CC $VM_CFLAGS -I "$diff" -o "$OUT/difftest" "$diff/difftest.c" $VM_LIBS
