#!/bin/sh
# Guest side of kmod_ksc (busybox sh, cwd /test/kmod_ksc); see kmod_ksc_test.c.
./kmod_ksc_test ./kmod_ksc.bpf.o ./kmod_ksc_kmod.ko
