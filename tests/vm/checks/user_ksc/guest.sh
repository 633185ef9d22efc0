#!/bin/sh
# Guest side of user_ksc (busybox sh, cwd /test/user_ksc).
name=$(basename ./*.ko .ko)
./user_ksc >out.txt 2>err.txt
rc=$?
./user_kprobe >>out.txt 2>>err.txt
cat out.txt err.txt
if [ "$rc" = 0 ]; then
    echo "VMTEST user_ksc/run PASS"
else
    echo "VMTEST user_ksc/run FAIL exit status $rc: $(tail -n 1 err.txt)"
fi
for what in fentry kfunc kprobe kprobe_detached; do
    if grep -qx "$what 1" out.txt; then
        echo "VMTEST user_ksc/$what PASS"
    else
        echo "VMTEST user_ksc/$what FAIL got '$(grep "^$what " out.txt)'"
    fi
done
if grep -q "^$name " /proc/modules || [ -e "/sys/kernel/btf/$name" ]; then
    echo "VMTEST user_ksc/module_unloaded FAIL $name is still loaded"
else
    echo "VMTEST user_ksc/module_unloaded PASS"
fi
