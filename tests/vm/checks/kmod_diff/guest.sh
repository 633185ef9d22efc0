#!/bin/sh
# Guest side of kmod_diff (busybox sh, cwd /test/kmod_diff): for each program, load
# the twin's module, compare the two objects with difftest, unload the module.
for n in $(cat names); do
    if ! insmod "./${n}_k_kmod.ko"; then
        echo "VMTEST kmod_diff/$n FAIL insmod ${n}_k_kmod.ko failed"
        continue
    fi
    if ./difftest -n 400 -N "$n" "$n.kfunc.o" "$n.helper.o" >"/tmp/$n.out" 2>"/tmp/$n.err"; then
        echo "VMTEST kmod_diff/$n PASS"
    else
        cat "/tmp/$n.err"
        echo "VMTEST kmod_diff/$n FAIL $(grep -v '^[[:space:]]*$' "/tmp/$n.err" | tail -n 1)"
    fi
    # a loaded program held the module; the kernel frees it shortly after
    i=0
    while ! rmmod "${n}_k_kmod" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
done
