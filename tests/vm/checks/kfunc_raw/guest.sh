#!/bin/sh
# Guest side of kfunc_raw (busybox sh, cwd /test/kfunc_raw); see kfunc_raw_test.c.
./kfunc_raw_test ./ksc_vm_kfunc.ko
