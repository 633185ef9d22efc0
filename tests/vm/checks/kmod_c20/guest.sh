#!/bin/sh
# Guest side of kmod_c20 (busybox sh, cwd /test/kmod_c20): insmod, the module's BTF
# appears (so its kfunc set registered: init returns the registration's error),
# rmmod, and the BTF goes again.
name=$(cat name)
if insmod "./$name.ko" && [ -e "/sys/kernel/btf/$name" ]; then
    echo "VMTEST kmod_c20/load PASS"
    if rmmod "$name" && [ ! -e "/sys/kernel/btf/$name" ]; then
        echo "VMTEST kmod_c20/unload PASS"
    else
        echo "VMTEST kmod_c20/unload FAIL rmmod $name failed or left /sys/kernel/btf/$name"
    fi
else
    echo "VMTEST kmod_c20/load FAIL insmod $name.ko failed, or no /sys/kernel/btf/$name"
    echo "VMTEST kmod_c20/unload FAIL not run: load failed"
fi
