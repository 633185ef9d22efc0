#!/usr/bin/env bash
# `ksc --emit=kmod-c` on this host (which has no kernel headers to build with;
# tests/vm/checks/kmod_* build and load the modules in Debian's 6.1 kernel):
# what the module registers, for which program types, and the errors for
# what kernel-module code cannot do, each at its line and column.
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# emit NAME: ksc --emit=kmod-c on $work/NAME.ks; output in NAME.c, NAME.err
emit() {
    "$KSC" --emit=kmod-c "$work/$1.ks" >"$work/$1.c" 2>"$work/$1.err"
}

# ---- a module: kfuncs, a private function, programs of several kinds ----------
cat >"$work/mod.ks" <<'KS'
@private
fn twice(x: u32) -> u32 { return x * 2 }
@kfunc
fn kf_one(x: u32) -> u32 { return twice(x) + 1 }
@kfunc
fn kf_two(s: str(8)) -> u64 { return s[0] as u64 }
@xdp fn px(ctx: *xdp_md) -> xdp_action { return kf_one(1) as xdp_action }
@probe("vfs_read+16") fn pk(ctx: *pt_regs) -> i32 { return 0 }
@tracepoint("syscalls/sys_enter_openat") fn pt(ctx: *trace_event_raw_sys_enter) -> i32 { return 0 }
KS
if ! emit mod; then
    fail kmod_c/emit "$(head -n 1 "$work/mod.err")"
    exit 0
fi
# has NAME TEXT...: each TEXT (fixed string) is in the output
has() {
    local name=$1 t
    shift
    for t in "$@"; do
        if ! grep -qF -- "$t" "$work/mod.c"; then
            fail "kmod_c/$name" "no '$t' in the generated module"
            return
        fi
    done
    pass "kmod_c/$name"
}
has kfunc-set 'BTF_ID_FLAGS(func, kf_one)' 'BTF_ID_FLAGS(func, kf_two)' '__bpf_kfunc u32 kf_one(u32 ks_x)' \
    '__bpf_kfunc u64 kf_two(char *ksc_in_s)' '#define __bpf_kfunc __used noinline'
has private 'static __maybe_unused u32 ksp_twice(u32 ks_x)' 'return (ksp_twice(ks_x) + 1U);'
has register 'register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &mod_kmod_kfunc_set)' \
    'register_btf_kfunc_id_set(BPF_PROG_TYPE_KPROBE, &mod_kmod_kfunc_set)' \
    'register_btf_kfunc_id_set(BPF_PROG_TYPE_TRACEPOINT, &mod_kmod_kfunc_set)' \
    'allows no kfunc calls from kprobe programs'
has module 'MODULE_LICENSE("GPL");' 'module_init(mod_kmod_init);' 'module_exit(mod_kmod_exit);' \
    '/* ---- Kbuild ---- */' 'obj-m := mod_kmod.o'
# Only the kinds 6.1 refuses may fail softly, and they come first (a refused
# set drops those registered before it); xdp's registration must succeed.
if awk '/register_btf_kfunc_id_set\(BPF_PROG_TYPE_XDP/ { x = 1 }
        /register_btf_kfunc_id_set\(BPF_PROG_TYPE_(KPROBE|TRACEPOINT)/ { if (x) late++ }
        /err == -EINVAL/ { if (x) bad++; else soft++ }
        END { exit !(soft == 2 && !bad && !late) }' "$work/mod.c"; then
    pass kmod_c/register-refusals
else
    fail kmod_c/register-refusals "expected -EINVAL tolerated for kprobe and tracepoint only"
fi
emit mod && cp "$work/mod.c" "$work/again.c" && emit mod
if cmp -s "$work/mod.c" "$work/again.c"; then
    pass kmod_c/repeatable
else
    fail kmod_c/repeatable "two runs wrote different C"
fi

# ---- what kernel-module code cannot do --------------------------------------------
# err NAME LINE:COL TEXT <<KS: ksc must fail with an error there containing TEXT
err() {
    local name=$1 at=$2 text=$3
    cat >"$work/$name.ks"
    if emit "$name"; then
        fail "kmod_c/error-$name" "ksc accepted it"
    elif grep -qF "$name.ks:$at: error: $text" "$work/$name.err"; then
        pass "kmod_c/error-$name"
    else
        fail "kmod_c/error-$name" "want '$at: error: $text', got: $(grep -m 1 error "$work/$name.err")"
    fi
}
err global 3:5 "kernel-module code cannot use 'g': globals and configs live in the BPF object" <<'KS'
var g: u32 = 0
@kfunc fn f(x: u32) -> u32 {
    g = x
    return 0
}
KS
err map 3:12 "kernel-module code cannot use map 'm'" <<'KS'
var m: hash<u32, u64>(16)
@kfunc fn f(x: u32) -> u64 {
    return m[x]
}
KS
err map_loop 3:5 "kernel-module code cannot iterate over a map" <<'KS'
var m: hash<u32, u64>(16)
@private fn f() -> u64 {
    for (k, v) in m { return v }
    return 0
}
KS
err helper 2:12 "'bpf_ktime_get_ns' is a BPF helper; only eBPF code can call it" <<'KS'
@kfunc fn f(x: u32) -> u64 {
    return bpf_ktime_get_ns() + x
}
KS
err clash 1:11 "the kernel has a function named 'vfs_read'" <<'KS'
@kfunc fn vfs_read(x: u32) -> u32 { return x }
KS
err args 2:11 "@kfunc 'f' needs 6 arguments: its 5 parameters and a pointer for its result" <<'KS'
struct S { a: u64, b: u64 }
@kfunc fn f(a: u32, b: u32, c: u32, d: u32, e: u32) -> S { return S { a: a as u64, b: e as u64 } }
KS
cat >"$work/none.ks" <<'KS'
@xdp fn p(ctx: *xdp_md) -> xdp_action { return XDP_PASS }
KS
if emit none; then
    fail kmod_c/no-module "ksc wrote a module for a file without kernel-module functions"
elif grep -q "no @kfunc or @private function" "$work/none.err"; then
    pass kmod_c/no-module
else
    fail kmod_c/no-module "unclear message: $(head -n 1 "$work/none.err")"
fi
