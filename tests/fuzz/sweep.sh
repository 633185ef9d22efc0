#!/usr/bin/env bash
# The verifier sweep over a fuzzing corpus: every input that ksc compiles
# without an error is loaded into the kernel (bpftool prog loadall), and
# every object the verifier refuses is a broken promise of the bounds pass
# (LANGUAGE.md: what ksc accepts, the kernel accepts). Objects that need
# what this kernel lacks (fentry, kprobe, LSM, kfuncs of absent modules,
# struct_ops of unknown types) are counted apart, by libbpf's message.
#
#   tests/fuzz/sweep.sh [CORPUS_DIR]   (default build/fuzz-pipeline/corpus)
# Refused inputs are copied to build/fuzz-sweep/refused/ with the verifier
# log beside them. Exit status 1 when any object was refused.
set -u
# a private bpffs: what the objects pin by name goes away with it
if [ -z "${KSC_PRIVATE_BPFFS:-}" ]; then
    export KSC_PRIVATE_BPFFS=1
    exec unshare -m bash -c 'mount -t bpf bpf /sys/fs/bpf && exec bash "$0" "$@"' "$0" "$@"
fi
cd "$(dirname "$0")/../.."
CORPUS=${1:-build/fuzz-pipeline/corpus}
KSC=${KSC:-build/ksc}
OUT=build/fuzz-sweep
rm -rf "$OUT"
mkdir -p "$OUT/refused"
tmp=$(mktemp -d)
pin=/sys/fs/bpf/ksc-sweep-$$
cleanup() { rm -rf "$tmp" "$pin"; }
trap cleanup EXIT

inputs=0 compiled=0 loaded=0 unsupported=0 refused=0 slow=0
for f in "$CORPUS"/*; do
    [ -f "$f" ] || continue
    inputs=$((inputs + 1))
    cp "$f" "$tmp/in.ks"
    # -Werror: a program ksc only warns about may carry an inserted check;
    # it still must load, so warnings do not exclude it
    timeout 10 "$KSC" --btf /sys/kernel/btf/vmlinux -o "$tmp/in.o" "$tmp/in.ks" >/dev/null 2>&1 || continue
    compiled=$((compiled + 1))
    rm -rf "$pin"
    mkdir -p "$pin"
    # the verifier may take tens of seconds on a loop-heavy input: that
    # is neither an acceptance nor a refusal
    timeout 120 bpftool -d prog loadall "$tmp/in.o" "$pin/p" >"$tmp/log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        loaded=$((loaded + 1))
    elif [ "$rc" -eq 124 ]; then
        slow=$((slow + 1))
        echo "SLOW $f (the verifier took over 120 s)"
    elif grep -q "fentry\|fexit\|kprobe\|lsm\|struct_ops\|kfunc\|ksym\|Operation not supported\|Unknown program type\|unrecognized ELF section\|failed to find BTF for extern" "$tmp/log"; then
        unsupported=$((unsupported + 1))
    else
        refused=$((refused + 1))
        name=$(basename "$f")
        cp "$f" "$OUT/refused/$name.ks"
        cp "$tmp/log" "$OUT/refused/$name.log"
        echo "REFUSED $f"
    fi
    # what the object pinned by name (pinned_globals, pinned maps) goes too,
    # or the next input with another layout would fail to reuse it
    find /sys/fs/bpf -mindepth 1 -maxdepth 1 ! -name '*.debug' -exec rm -rf {} +
done
echo "sweep: $inputs inputs, $compiled compiled, $loaded loaded, $unsupported need what this kernel lacks, $slow not verified within 120 s, $refused refused by the verifier"
[ "$refused" -eq 0 ]
