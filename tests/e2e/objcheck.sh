#!/bin/sh
# objcheck.sh OBJ [SECTION...]: checks that a BPF object is accepted the
# way clang's objects are: BTF dump, skeleton (generated and compiled),
# static linking (and loading the linked result), disassembly, libbpf
# open+load, `bpftool prog loadall` into a private bpffs, and that each
# SECTION exists. One line per check:
#   PASS objcheck/<check> <obj>
#   FAIL objcheck/<check> <obj>: reason
# Exit status 1 if any check failed. Nothing is attached.
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] || { echo "usage: objcheck.sh OBJ [SECTION...]" >&2; exit 2; }
obj=$1
shift
fails=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/objcheck-XXXXXX") || exit 2
cleanup() {
    if [ -n "${mnt:-}" ]; then umount "$mnt" 2>/dev/null; fi
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS objcheck/$1 $obj"; }
fail() {
    echo "FAIL objcheck/$1 $obj: $2"
    fails=$((fails + 1))
}
# run CHECK CMD...: PASS if CMD succeeds, else FAIL with its first error line
run() {
    check=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    st=$?
    if [ "$st" -eq 0 ]; then
        pass "$check"
    else
        why=$(cat "$tmp/err" "$tmp/out" | grep -v '^[[:space:]]*$' | head -n 1)
        fail "$check" "${why:-exit status $st}"
    fi
}

if [ ! -r "$obj" ]; then
    fail exists "no such file"
    exit 1
fi

run btf bpftool btf dump file "$obj"

# A skeleton names the struct types of globals but, like clang's, does not
# define them: users include them from their own header. Take the
# definitions from the object's BTF, as such a header would hold them.
struct_defs() {
    bpftool btf dump file "$obj" format c >"$tmp/types.h" || return 1
    want=$(grep -o 'struct [A-Za-z_0-9]* [A-Za-z_0-9]*;' "$tmp/objcheck.skel.h" | awk '{print $2}' | sort -u)
    : >"$tmp/defs.h"
    for round in 1 2 3 4; do
        more=""
        for name in $want; do
            grep -q "^struct $name {" "$tmp/defs.h" && continue
            awk -v n="$name" '$0 ~ "^struct " n " \\{" {p=1} p {print} p && /^};/ {p=0}' \
                "$tmp/types.h" >"$tmp/one.h"
            more="$more $(grep -o 'struct [A-Za-z_0-9]* [A-Za-z_0-9]*;' "$tmp/one.h" | awk '{print $2}')"
            cat "$tmp/defs.h" >>"$tmp/one.h"
            mv "$tmp/one.h" "$tmp/defs.h"
        done
        want=$more
        [ -n "$want" ] || break
    done
}

skeleton() {
    bpftool gen skeleton "$obj" name objcheck >"$tmp/objcheck.skel.h" || return 1
    struct_defs || return 1
    printf '#include <stdbool.h>\n#include "defs.h"\n#include "objcheck.skel.h"\nint main(void)\n{\n    struct objcheck *s = objcheck__open();\n    objcheck__destroy(s);\n    return 0;\n}\n' >"$tmp/skel.c"
    ${CC:-cc} -Wall -Werror -c -o "$tmp/skel.o" -I"$tmp" "$tmp/skel.c"
}
run skeleton skeleton

loader="$tmp/loadobj"
build_loader() {
    ${CC:-cc} -O1 -Wall -Werror -o "$loader" "$here/loadobj.c" -lbpf -lelf -lz
}
run loader build_loader

# OBJCHECK_NOLOAD=1: program kinds this kernel cannot load (fentry,
# kprobe) are checked as objects only.
noload=${OBJCHECK_NOLOAD:-0}
run link bpftool gen object "$tmp/linked.o" "$obj"
if [ "$noload" = 0 ] && [ -x "$loader" ] && [ -f "$tmp/linked.o" ]; then
    run link-load "$loader" "$tmp/linked.o"
fi

run objdump llvm-objdump -dr "$obj"

if [ "$noload" = 0 ] && [ -x "$loader" ]; then
    run load "$loader" "$obj"
fi

# libbpf turns every '.' of a pin path into '_', hence no dots in $tmp
loadall() {
    mnt="$tmp/bpffs"
    mkdir -p "$mnt" && mount -t bpf bpf "$mnt" || { mnt=; return 1; }
    mkdir -p "$mnt/maps" && bpftool prog loadall "$obj" "$mnt/progs" pinmaps "$mnt/maps" || return 1
    n=$(ls "$mnt/progs" | wc -l)
    umount "$mnt"
    mnt=
    [ "$n" -gt 0 ] || { echo "no program pinned" >&2; return 1; }
}
[ "$noload" = 0 ] && run loadall loadall

for sec in "$@"; do
    if llvm-readelf -S --wide "$obj" | awk '{ for (i = 1; i <= NF; i++) print $i }' | grep -qxF -- "$sec"; then
        pass "section:$sec"
    else
        fail "section:$sec" "no section named $sec"
    fi
done

[ "$fails" -eq 0 ]
