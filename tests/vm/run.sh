#!/usr/bin/env bash
# VM test bed: runs checks this host's kernel cannot (kernel modules, fentry,
# kprobes, ...) inside Debian's 6.1 kernel under qemu. `make check-vm` runs it.
#
#   tests/vm/run.sh [CHECK...]      (default: every folder in tests/vm/checks/)
#
# Output follows the project's test-runner protocol: one line per result,
# "PASS vm/<name>", "FAIL vm/<name>: <reason>" or "SKIP vm/<name>: <reason>";
# diagnostics go to stderr. Exit status 1 if anything failed, else 0. When the VM
# packages cannot be installed (scripts/deps.sh --vm fails) every result is a
# SKIP and the exit status 0: a missing VM is not a failure of ksc, but nothing
# is ever reported as passing without having run.
#
# ADDING A CHECK. A check is a folder tests/vm/checks/<check>/ with:
#   check.conf  (required) bash, sourced on the host; sets
#                 EXPECT         the result names the check reports, each <check>
#                                or <check>/<step>; a name the guest never reports
#                                is a FAIL, so a crash cannot pass silently
#                 KMODS          optional: modules of Debian's 6.1 kernel the guest
#                                needs (e.g. "veth sch_ingress"); they are put in the
#                                initramfs and `modprobe NAME` works in the guest
#                 GUEST_TIMEOUT  optional: seconds for guest.sh (default 60)
#   build.sh    (optional) bash, run on the host from the check's folder with:
#                 CHECK SRC      the check's name and absolute source folder
#                 OUT            empty folder that becomes /test/<check>/ in the guest
#                 WORK           empty scratch folder that stays on the host
#                 KDIR KVER      kernel build folder (tests/vm/kbuild.sh) and release;
#                                `. "$VM_LIB"; vm_build_module DIR` builds a module
#                                with BTF from DIR (sources + Kbuild)
#                 KSC ROOT       build/ksc (absolute; $KSC if set) and the repository root
#                 CC VM_CFLAGS VM_LIBS  for host-built guest programs (-Werror)
#               Exit 0 when built; 77 to skip the check (its last output line is
#               the reason, e.g. a ksc feature not written yet); anything else
#               fails every name in EXPECT with the last output line as reason.
#               Executables put in OUT bring their shared libraries along.
#   guest.sh    (required) busybox sh, run in the guest as root in /test/<check>
#               with CHECK and KVER set, under `timeout GUEST_TIMEOUT`. It prints
#               "VMTEST <name> PASS" or "VMTEST <name> FAIL <reason>" for each
#               name in EXPECT; other output is kept as the check's log (shown
#               when the check fails), followed by the kernel messages logged
#               while it ran, as "kernel: ..." lines.
# The guest has proc, sysfs, devtmpfs, bpffs (/sys/fs/bpf), tracefs
# (/sys/kernel/tracing), debugfs, securityfs, cgroup2 and lo up; see
# mkinitramfs.sh. Out-of-tree modules are loaded by the check itself (insmod, or
# finit_module from its program), so it can test what happens before and after.
#
# HOW IT RUNS. All checks share one boot: host builds, one initramfs, one qemu
# run. The guest writes results to a second serial port (ttyS1, a file on the
# host) so that kernel messages on the console (ttyS0) can never break a result
# line; the console is kept in build/vm/run/console.log and its tail is shown
# when something fails. The kernel booted is Debian's 6.1 image: by default the
# uncompressed vmlinux that kbuild.sh extracts from /boot/vmlinuz-$KVER, entered
# through its PVH note, because decompressing the bzImage under TCG (no KVM here)
# costs about 6 s per boot; KSC_VM_KERNEL=bzimage boots /boot/vmlinuz-$KVER
# itself. KSC_VM_TIMEOUT (default 120) bounds the qemu run.
set -eu
# shellcheck source=tests/vm/lib.sh
. "$(dirname "$0")/lib.sh"

T0=$(date +%s%N)
ROOT=$VM_ROOT
CHECKS_DIR=$ROOT/tests/vm/checks
RUN=$VM_B/run
VM_TIMEOUT=${KSC_VM_TIMEOUT:-120}

# --- the checks and the names each must report ------------------------------------
if [ $# -gt 0 ]; then checks=("$@"); else
    checks=()
    for d in "$CHECKS_DIR"/*/; do [ -f "$d/check.conf" ] && checks+=("$(basename "$d")"); done
fi
[ ${#checks[@]} -gt 0 ] || vm_die "no checks in $CHECKS_DIR"
declare -A expect timeout_of kmods_of
for c in "${checks[@]}"; do
    [[ $c =~ ^[A-Za-z0-9_-]+$ ]] || vm_die "bad check name '$c'"
    d=$CHECKS_DIR/$c
    if [ ! -f "$d/check.conf" ] || [ ! -f "$d/guest.sh" ]; then
        vm_die "$d needs check.conf and guest.sh"
    fi
    # Sourced in a subshell so that one check's settings cannot leak into
    # another's; echo without quotes joins the lists onto one line each.
    # shellcheck disable=SC1090,SC1091,SC2086
    conf=$(EXPECT='' KMODS='' GUEST_TIMEOUT=60; . "$d/check.conf"
           echo "$GUEST_TIMEOUT"; echo $KMODS; echo $EXPECT)
    timeout_of[$c]=$(sed -n 1p <<<"$conf")
    kmods_of[$c]=$(sed -n 2p <<<"$conf")
    expect[$c]=$(sed -n 3p <<<"$conf")
    [ -n "${expect[$c]}" ] || vm_die "$d/check.conf sets no EXPECT"
    for n in ${expect[$c]}; do
        [[ $n == "$c" || $n == "$c"/* ]] || vm_die "$c: result name '$n' must be $c or $c/<step>"
    done
done

npass=0 nfail=0 nskip=0
pass() { echo "PASS vm/$1"; npass=$((npass + 1)); }
fail() { echo "FAIL vm/$1: $2"; nfail=$((nfail + 1)); }
skip() { echo "SKIP vm/$1: $2"; nskip=$((nskip + 1)); }
summary() {
    local ms=$(( ($(date +%s%N) - T0) / 1000000 ))
    echo "vm: $npass passed, $nfail failed, $nskip skipped in $((ms / 1000)).$((ms % 1000 / 100)) s" >&2
}
skip_all() {
    local c n
    for c in "${checks[@]}"; do for n in ${expect[$c]}; do skip "$n" "$1"; done; done
    summary; exit 0
}
fail_check() {
    local n
    for n in ${expect[$1]}; do fail "$n" "$2"; done
}

# --- packages: without them nothing can run, which is a SKIP, not a FAIL ----------
# (stdout is for result lines only, so everything else goes to stderr)
mkdir -p "$VM_B"
drc=0; timeout 900 "$ROOT/scripts/deps.sh" --vm >&2 || drc=$?
[ $drc = 0 ] || skip_all "VM packages could not be installed (scripts/deps.sh --vm: exit $drc)"
KVER=$(vm_kver) || skip_all "no Debian 6.1 kernel image with matching headers installed"

# One run at a time: runs share build/vm/run and the payload folders.
exec 8>"$VM_B/.run.lock"
flock -w 600 8 || vm_die "another tests/vm/run.sh holds $VM_B/.run.lock"

# --- host side: kernel build folder, then each check's build.sh -------------------
if ! KDIR=$("$ROOT/tests/vm/kbuild.sh"); then
    for c in "${checks[@]}"; do fail_check "$c" "tests/vm/kbuild.sh failed"; done
    summary; exit 1
fi

export KDIR KVER ROOT KSC=${KSC:-$ROOT/build/ksc} VM_LIB=$ROOT/tests/vm/lib.sh CC=${CC:-cc}
export VM_CFLAGS="-std=gnu11 -Wall -Wextra -Werror -O2 -g" VM_LIBS="-lbpf -lelf -lz"
rm -rf "$RUN" "$VM_B/payload" "$VM_B/work"
mkdir -p "$RUN" "$VM_B/logs"
initramfs_args=() run_checks=() build_pids=()
# The builds run side by side (a module build alone takes seconds); each leaves
# its exit status in work/<check>.rc, read in order below.
for c in "${checks[@]}"; do
    d=$CHECKS_DIR/$c
    out=$VM_B/payload/$c work=$VM_B/work/$c log=$VM_B/logs/$c.build.log
    mkdir -p "$out" "$work"
    (
        rc=0
        if [ -f "$d/build.sh" ]; then
            (cd "$d" && CHECK=$c SRC=$d OUT=$out WORK=$work timeout 900 bash ./build.sh) \
                >"$log" 2>&1 || rc=$?
        else
            : >"$log"
        fi
        echo "$rc" >"$VM_B/work/$c.rc"
    ) &
    build_pids+=($!)
done
wait "${build_pids[@]}" || true
for c in "${checks[@]}"; do
    d=$CHECKS_DIR/$c
    out=$VM_B/payload/$c log=$VM_B/logs/$c.build.log
    rc=$(cat "$VM_B/work/$c.rc" 2>/dev/null || echo 1)
    reason=$(grep -v '^[[:space:]]*$' "$log" 2>/dev/null | tail -n 1 || true)
    case $rc in
    0)  cp "$d/guest.sh" "$out/guest.sh"
        initramfs_args+=(--tree "$out:/test/$c")
        for k in ${kmods_of[$c]}; do initramfs_args+=(--kmod "$k"); done
        run_checks+=("$c") ;;
    77) for n in ${expect[$c]}; do skip "$n" "${reason:-build.sh skipped it}"; done ;;
    *)  echo "vm: $c: build.sh failed (exit $rc), last lines of $log:" >&2
        tail -n 15 "$log" | sed 's/^/    /' >&2
        [ "$rc" = 124 ] && reason="build.sh timed out"
        fail_check "$c" "host build failed: ${reason:-exit $rc}" ;;
    esac
done
[ ${#run_checks[@]} -gt 0 ] || { summary; [ $nfail = 0 ]; exit; }

# --- guest side: /test/run.sh runs each check's guest.sh --------------------------
{
    echo '# Generated by tests/vm/run.sh: run each check, copy its output to ttyS1.'
    echo 'stty -F /dev/ttyS1 raw -echo 2>/dev/null'
    for c in "${run_checks[@]}"; do
        # VMCHECK lines tell the host how guest.sh ended, for clearer reasons
        # when a name is missing (timed out, crashed, ...). The kernel messages
        # logged meanwhile join the check's output ("kernel: ..."): module load
        # errors and WARN splats are below the console's "quiet" level.
        cat <<EOF
echo "VMCHECK $c start" >>/dev/ttyS1
dmesg -c >/dev/null
cd /test/$c
{ CHECK=$c KVER=$KVER timeout ${timeout_of[$c]} sh ./guest.sh; rc=\$?
  dmesg -c | sed 's/^/kernel: /'; echo "VMCHECK $c rc=\$rc"; } 2>&1 | tee -a /dev/ttyS1
EOF
    done
    echo 'echo VMCHECK-END >>/dev/ttyS1'
} >"$RUN/guest-run.sh"

"$ROOT/tests/vm/mkinitramfs.sh" -o "$RUN/initramfs.cpio" --kver "$KVER" \
    --file "$RUN/guest-run.sh:/test/run.sh" "${initramfs_args[@]}" 2>"$RUN/mkinitramfs.log" || {
    cat "$RUN/mkinitramfs.log" >&2
    for c in "${run_checks[@]}"; do fail_check "$c" "tests/vm/mkinitramfs.sh failed"; done
    summary; exit 1
}

# --- boot ---------------------------------------------------------------------------
KERNEL=/boot/vmlinuz-$KVER
if [ "${KSC_VM_KERNEL:-pvh}" = pvh ] &&
   readelf -n "$KDIR/vmlinux" 2>/dev/null | grep -q 'note type: (0x00000012)'; then
    KERNEL=$KDIR/vmlinux   # has XEN_ELFNOTE_PHYS32_ENTRY (0x12): qemu boots it via PVH
fi
timeout_pid=''
stop_qemu() {
    # Only the processes this script started: the timeout wrapper, which passes
    # TERM on to qemu and reaps it, and then, should qemu still be alive, the qemu
    # whose pid file it wrote (checked against our own run folder).
    local qp _
    if [ -n "$timeout_pid" ] && kill -TERM "$timeout_pid" 2>/dev/null; then
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$timeout_pid" 2>/dev/null || break
            sleep 0.2
        done
    fi
    if [ -f "$RUN/qemu.pid" ]; then
        qp=$(cat "$RUN/qemu.pid" 2>/dev/null || true)
        if [ -n "$qp" ] && grep -qF "$RUN/" "/proc/$qp/cmdline" 2>/dev/null; then
            kill -KILL "$qp" 2>/dev/null || true
        fi
    fi
    if [ -n "$timeout_pid" ]; then
        kill -KILL "$timeout_pid" 2>/dev/null || true
        wait "$timeout_pid" 2>/dev/null || true
    fi
    timeout_pid=
}
trap 'stop_qemu' EXIT
trap 'stop_qemu; echo "vm: interrupted" >&2; exit 130' INT TERM HUP

: >"$RUN/console.log"; : >"$RUN/results.log"
# timeout runs qemu in its own process group, so it survives a Ctrl-C on our
# terminal unless the trap above stops it. -nographic with both serial ports
# given: no display, the monitor on stdio (disabled), ttyS0 and ttyS1 to files.
timeout -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 1 \
    -nographic -monitor none -no-reboot -nic none -pidfile "$RUN/qemu.pid" \
    -kernel "$KERNEL" -initrd "$RUN/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 quiet" \
    -serial "file:$RUN/console.log" -serial "file:$RUN/results.log" \
    </dev/null >"$RUN/qemu.log" 2>&1 &
timeout_pid=$!
qrc=0; wait "$timeout_pid" || qrc=$?
timeout_pid=
case $qrc in
0)   vm_end="" ;;
124|137) vm_end="VM timed out after ${VM_TIMEOUT}s" ;;
*)   vm_end="qemu exited with status $qrc ($(head -c 300 "$RUN/qemu.log" | tr '\n' ' '))" ;;
esac
tr -d '\r' <"$RUN/results.log" >"$RUN/results.txt"
tr -d '\r' <"$RUN/console.log" >"$RUN/console.txt"
if [ -z "$vm_end" ] && ! grep -q '^VMCHECK-END' "$RUN/results.txt"; then
    if grep -q 'Kernel panic' "$RUN/console.txt"; then vm_end="guest kernel panicked"
    else vm_end="guest stopped before finishing"; fi
fi

# --- results --------------------------------------------------------------------------
declare -A got why
while read -r tag name verdict rest; do
    [ "$tag" = VMTEST ] || continue
    case $verdict in PASS|FAIL) ;; *) continue ;; esac
    if [ -n "${got[$name]:-}" ]; then
        got[$name]=FAIL; why[$name]="reported more than once"
    else
        got[$name]=$verdict; why[$name]=${rest:-no reason given}
    fi
done <"$RUN/results.txt"

bad=0
for c in "${run_checks[@]}"; do
    crc=$(sed -n "s/^VMCHECK $c rc=\([0-9]*\).*/\1/p" "$RUN/results.txt" | tail -n 1)
    if ! grep -qx "VMCHECK $c start" "$RUN/results.txt"; then
        missing="guest never ran guest.sh${vm_end:+ ($vm_end)}"
    elif [ -z "$crc" ]; then missing="guest.sh never finished${vm_end:+ ($vm_end)}"
    elif [ "$crc" = 143 ] || [ "$crc" = 124 ]; then missing="guest.sh timed out after ${timeout_of[$c]}s"
    else missing="not reported (guest.sh exited $crc)"; fi
    cbad=0
    for n in ${expect[$c]}; do
        # A check that hung is broken even if it reported PASS before hanging.
        [[ $missing == *"timed out"* && ${got[$n]:-} == PASS ]] &&
            { got[$n]=FAIL; why[$n]="reported PASS, then $missing"; }
        case ${got[$n]:-} in
        PASS) pass "$n" ;;
        FAIL) fail "$n" "${why[$n]}"; cbad=1 ;;
        *)    fail "$n" "$missing"; cbad=1 ;;
        esac
        unset "got[$n]"
    done
    if [ $cbad = 1 ]; then
        bad=1
        # This check's output: the lines between its VMCHECK start and end.
        awk -v c="$c" '$1 == "VMCHECK" { on = ($2 == c && $3 == "start"); next }
                       on { print "    " $0 }' "$RUN/results.txt" | tail -n 40 >"$RUN/$c.out"
        [ -s "$RUN/$c.out" ] && { echo "vm: $c: guest output:"; cat "$RUN/$c.out"; } >&2
    fi
done
# Names outside every EXPECT: a check reporting more than it declares is a bug in
# the check, and must not go unnoticed either way.
for n in "${!got[@]}"; do fail "$n" "reported ${got[$n]} but not in its check's EXPECT"; bad=1; done
if [ $bad = 1 ] || [ -n "$vm_end" ]; then
    # The kernel's side of the story (oopses, warnings, VMINIT lines), without
    # the check output already shown above.
    echo "vm: ${vm_end:+$vm_end; }guest console without check output (all of it: build/vm/run/console.txt):" >&2
    grep -vxF -f "$RUN/results.txt" "$RUN/console.txt" >"$RUN/console-kernel.txt" || true
    # From the first sign of a kernel problem if there is one, else the end.
    first=$(grep -n -m 1 -E 'BUG:|Oops|Kernel panic|WARNING:|general protection|Call Trace' \
            "$RUN/console-kernel.txt" | cut -d: -f1 || true)
    if [ -n "$first" ]; then sed -n "$((first > 3 ? first - 3 : 1)),+35p" "$RUN/console-kernel.txt"
    else tail -n 30 "$RUN/console-kernel.txt"; fi | sed 's/^/    /' >&2
fi
summary
[ $nfail = 0 ]
