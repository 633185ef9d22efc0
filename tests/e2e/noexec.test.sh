#!/usr/bin/env bash
# `ksc -o` compiles without running any other program: no clang, no
# assembler, no linker. Checked with strace (no execve but ksc's own) and
# with an empty PATH.
set -u
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src="$SHARED/conformance/c04_packet.ks"
if strace -f -qq -e trace=execve,execveat,vfork,clone3 -o "$work/trace" "$KSC" -o "$work/a.o" "$src"; then
    execs=$(grep -c 'execve' "$work/trace")
    forks=$(grep -cE 'vfork|clone3|clone\(' "$work/trace")
    if [ "$execs" -eq 1 ] && [ "$forks" -eq 0 ]; then
        pass "noexec/strace"
    else
        fail "noexec/strace" "$execs execve and $forks forks: $(grep -v "$KSC" "$work/trace" | head -n 2 | tr '\n' ' ')"
    fi
else
    fail "noexec/strace" "ksc failed under strace"
fi
if env -i PATH= "$KSC" -o "$work/b.o" "$src" && cmp -s "$work/a.o" "$work/b.o"; then
    pass "noexec/empty-path"
else
    fail "noexec/empty-path" "ksc with an empty PATH failed or wrote a different object"
fi
