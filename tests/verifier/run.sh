#!/usr/bin/env bash
# The bounds pass against the kernel verifier (issue 5).
#
#   verifier/NAME                 ks-conform on each program here: the error
#                                 at its line, or clean and accepted and run
#   verifier/NAME/kernel-rejects  each program with an //! error, compiled
#                                 with --no-bounds: the kernel's verifier must
#                                 reject it, so every diagnosis is real
#   verifier/no-rejections        every .ks file of the repository and of the
#                                 shared conformance corpus without //! error
#                                 that ksc compiles without errors: the kernel
#                                 must accept each object
#
# Needs root and a kernel that loads BPF programs. Runs in a mount
# namespace of its own with a private bpffs: objects with pinned maps
# (tests/e2e/pins.ks) pin by name under its root, and those pins go away
# with the namespace instead of staying in the machine's /sys/fs/bpf.
set -u
if [ -z "${KSC_PRIVATE_BPFFS:-}" ]; then
    export KSC_PRIVATE_BPFFS=1
    exec unshare -m bash -c 'mount -t bpf bpf /sys/fs/bpf && exec bash "$0" "$@"' "$0" "$@"
fi
. "$(dirname "$0")/../lib.sh"
here="$ROOT/tests/verifier"
work=$(mktemp -d)
pin=/sys/fs/bpf/ksc_verifier_$$
cleanup() { rm -rf "$work" "$pin"; }
trap cleanup EXIT
mount_bpffs

# Loads an object into a fresh pin folder. Prints "accepted N" (N
# programs), "rejected" (the verifier refused a program) or "unloadable"
# (refused before verification: a program kind or kfunc this kernel lacks).
load() {
    rm -rf "$pin"
    mkdir -p "$pin"
    if bpftool prog loadall "$1" "$pin/p" >"$work/load.log" 2>&1; then
        echo "accepted $(ls "$pin/p" 2>/dev/null | wc -l)"
    elif awk '/BEGIN PROG LOAD LOG/ { inlog = 1; next } /END PROG LOAD LOG/ { inlog = 0 } inlog && NF { seen = 1 }
              END { exit !seen }' "$work/load.log"; then
        echo rejected
    else
        echo unloadable
    fi
    rm -rf "$pin"
}

# Why the verifier refused: its last message before the log ends.
reason() {
    sed -n '/BEGIN PROG LOAD LOG/,/END PROG LOAD LOG/p' "$work/load.log" |
        grep -v -e 'LOAD LOG' -e '^verification time' -e '^stack depth' -e '^processed' -e '^mark_precise' |
        tail -n 1 | cut -c1-160
}

# 1. the directives of every program here
python3 "$CONFORM" --ksc "$KSC" "$here"/*.ks |
    sed -n -e "s#^PASS $here/\(.*\)\.ks\$#PASS verifier/\1#p" -e "s#^FAIL $here/\([^:]*\)\.ks: #FAIL verifier/\1: #p"

# 2. every diagnosed rejection is one the kernel makes
for f in "$here"/*.ks; do
    grep -q '^//! error' "$f" || continue
    name=verifier/$(basename "$f" .ks)/kernel-rejects
    if ! "$KSC" --no-bounds -o "$work/nb.o" "$f" >"$work/nb.err" 2>&1; then
        fail "$name" "ksc --no-bounds failed: $(head -n 1 "$work/nb.err")"
        continue
    fi
    case $(load "$work/nb.o") in
    rejected) pass "$name" ;;
    accepted*) fail "$name" "the kernel accepts what ksc reports" ;;
    *) fail "$name" "the object did not reach the verifier: $(grep -m1 -i error "$work/load.log")" ;;
    esac
done

# 3. no object ksc writes without errors is rejected by the kernel
objects=0 rejected=0 unloadable=0 list=""
files=$( (git -C "$ROOT" ls-files --cached --others --exclude-standard '*.ks' | sed "s#^#$ROOT/#"
          find "$SHARED/conformance" -name '*.ks') | sort -u)
for f in $files; do
    [ -f "$f" ] || continue
    grep -q '^//! error' "$f" && continue
    "$KSC" -o "$work/all.o" "$f" >/dev/null 2>&1 || continue
    r=$(load "$work/all.o")
    case $r in
    "accepted 0") ;;
    accepted*) objects=$((objects + 1)) ;;
    rejected)
        objects=$((objects + 1))
        rejected=$((rejected + 1))
        list="$list ${f#"$ROOT/"} ($(reason))"
        ;;
    *) unloadable=$((unloadable + 1)) ;;
    esac
done
summary="$objects objects, $rejected rejected ($unloadable more need program kinds or kfuncs this kernel lacks)"
if [ "$rejected" -eq 0 ] && [ "$objects" -gt 0 ]; then
    pass "verifier/no-rejections: $summary"
else
    fail "verifier/no-rejections" "$summary:$list"
fi
