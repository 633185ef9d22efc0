#!/usr/bin/env bash
# Issue 4: `ksc build` writes DIR/prog.bpf.o, DIR/prog.c and the
# executable DIR/prog (the shared c20_full_program.ks among them, with its
# kernel module sources); a file without main writes the object alone and
# says so; --emit=user-c prints the C; generated options and --help work.
set -u
. "$(dirname "$0")/../lib.sh"
t=e2e/build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

c20="$SHARED/conformance/c20_full_program.ks"
if "$KSC" build "$c20" -o "$work/c20" >"$work/c20.log" 2>&1 && [ -f "$work/c20/c20_full_program.bpf.o" ] &&
    [ -f "$work/c20/c20_full_program.c" ] && [ -x "$work/c20/c20_full_program" ]; then
    pass "$t/c20_full_program"
else
    fail "$t/c20_full_program" "$(tr '\n' ' ' <"$work/c20.log")"
fi
ls "$work/c20"/*_kmod.c >/dev/null 2>&1 && pass "$t/c20_kmod_sources" || fail "$t/c20_kmod_sources" "no module C"
help=$("$work/c20/c20_full_program" --help 2>&1)
echo "$help" | grep -q -- '--interface=TEXT' && echo "$help" | grep -q -- '--limit=N' &&
    pass "$t/c20_help" || fail "$t/c20_help" "$help"
"$work/c20/c20_full_program" --limit=nonsense >/dev/null 2>"$work/bad"
[ $? -eq 2 ] && grep -q 'not a number' "$work/bad" && pass "$t/bad_option" || fail "$t/bad_option" "$(cat "$work/bad")"

# c20 has a @kfunc: its loader loads the module first, and says so clearly
# where the kernel has no module support (tests/vm/checks/user_ksc runs such
# a program in a kernel that has it)
if [ ! -e /proc/modules ]; then
    "$work/c20/c20_full_program" --interface=ksc_none0 >/dev/null 2>"$work/nomod"
    [ $? -ne 0 ] && grep -q 'this kernel has no module support' "$work/nomod" && pass "$t/c20_no_module_support" ||
        fail "$t/c20_no_module_support" "$(tr '\n' ' ' <"$work/nomod")"
fi

# no main: the object alone, and a message
cat >"$work/nomain.ks" <<'KS'
@xdp fn pass_all(ctx: *xdp_md) -> xdp_action { return XDP_PASS }
KS
msg=$("$KSC" build "$work/nomain.ks" -o "$work/nm" 2>&1)
[ -f "$work/nm/nomain.bpf.o" ] && [ ! -e "$work/nm/nomain.c" ] && echo "$msg" | grep -q 'has no main' &&
    pass "$t/no_main_object_only" || fail "$t/no_main_object_only" "$msg"

# --emit=user-c: the C alone, on stdout
"$KSC" --emit=user-c "$ROOT/tests/e2e/traffic.ks" >"$work/t.c" 2>"$work/t.err"
grep -q '^int main(int argc, char \*\*argv)' "$work/t.c" && grep -q 'ks_object\[\]' "$work/t.c" &&
    pass "$t/emit_user_c" || fail "$t/emit_user_c" "$(head -c 300 "$work/t.err")"

# a userspace-only program (no eBPF code at all) builds and runs
cat >"$work/hello.ks" <<'KS'
fn main() -> i32 {
    print("hello", 42)
    return 3
}
KS
"$KSC" build "$work/hello.ks" -o "$work/h" >/dev/null 2>"$work/h.err"
out=$("$work/h/hello" 2>&1)
rc=$?
[ "$out" = "hello 42" ] && [ $rc -eq 3 ] && pass "$t/userspace_only" || fail "$t/userspace_only" "status $rc: $out $(cat "$work/h.err")"

# an uncaught throw prints its code and exits with it
cat >"$work/throw.ks" <<'KS'
fn f() -> u32 { throw 9 }
fn main() -> i32 {
    defer print("cleanup")
    f()
    return 0
}
KS
"$KSC" build "$work/throw.ks" -o "$work/th" >/dev/null 2>&1
out=$("$work/th/throw" 2>&1)
rc=$?
[ $rc -eq 9 ] && echo "$out" | grep -q 'uncaught throw 9' && echo "$out" | grep -q cleanup &&
    pass "$t/uncaught_throw" || fail "$t/uncaught_throw" "status $rc: $out"
