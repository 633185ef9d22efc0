#!/usr/bin/env bash
# -funroll: range loops with constant bounds become straight-line code
# (no backward jump left) and programs behave exactly as without it.
set -u
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '#!/bin/sh\nexec "%s" -funroll "$@"\n' "$KSC" >"$work/ksc-unroll"
chmod +x "$work/ksc-unroll"
files="$SHARED/conformance/c05_helpers_loops.ks $SHARED/conformance/c12_arrays_strings.ks $SHARED/conformance/c19_rewrite.ks"
mount_bpffs
python3 "$CONFORM" --ksc "$work/ksc-unroll" $files | grep -E '^(PASS|FAIL) ' |
    sed -e "s#^\(PASS\|FAIL\) $SHARED/conformance/#\1 unroll/#"
for f in $SHARED/conformance/c12_arrays_strings.ks $SHARED/conformance/c19_rewrite.ks; do
    name=$(basename "$f" .ks)
    back=$("$work/ksc-unroll" --emit=asm "$f" | grep -c 'goto -')
    if [ "$back" -eq 0 ]; then
        pass "unroll/$name/straight-line"
    else
        fail "unroll/$name/straight-line" "$back backward jumps left"
    fi
done
