#!/usr/bin/env bash
# -mcpu=v4: the conformance corpus and the integer semantics hold with
# the newer instructions (signed division and modulo, sign-extending moves).
set -u
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexec "%s" -mcpu=v4 "$@"\n' "$KSC" >"$work/ksc-v4"
chmod +x "$work/ksc-v4"
mount_bpffs
python3 "$CONFORM" --ksc "$work/ksc-v4" "$SHARED/conformance/c02_arith.ks" "$SHARED/conformance/c05_helpers_loops.ks" \
    "$SHARED/conformance/c12_arrays_strings.ks" | grep -E '^(PASS|FAIL) ' | sed "s#^\(PASS\|FAIL\) $SHARED/conformance/#\1 v4/#"
python3 "$ROOT/tests/arith/run.py" "$work/ksc-v4" 10 6 30 | sed 's#arith/#v4/arith/#'
# the v4 instructions are really used: a signed division is one sdiv
printf '@tc("ingress") fn d(ctx: *__sk_buff) -> i32 {\n    var x = ctx->len as i32 - 100\n    return x / 7\n}\n' >"$work/sdiv.ks"
if "$work/ksc-v4" --emit=asm "$work/sdiv.ks" | grep -q 's/='; then
    pass v4/sdiv-instruction
else
    fail v4/sdiv-instruction "no signed division instruction in the -mcpu=v4 code"
fi
