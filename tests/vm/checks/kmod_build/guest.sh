#!/bin/sh
# Guest side of kmod_build (busybox sh, cwd /test/kmod_build). The program finds
# its module beside itself (ksc build's path for it is a host path).
out=$(./kmod_build 2>&1)
rc=$?
echo "$out"
if [ $rc = 0 ] && echo "$out" | grep -q "seen 42 after"; then
    echo "VMTEST kmod_build/run PASS"
else
    echo "VMTEST kmod_build/run FAIL exit $rc: $(echo "$out" | tail -n 1)"
fi
if [ -e /sys/kernel/btf/kmod_build_kmod ] || grep -q '^kmod_build_kmod ' /proc/modules; then
    echo "VMTEST kmod_build/unloaded FAIL the module is still loaded after the program exited"
else
    echo "VMTEST kmod_build/unloaded PASS"
fi
