#!/bin/sh
# Guest side of kmod_lang (busybox sh, cwd /test/kmod_lang); see kmod_lang_test.c.
./kmod_lang_test ./kmod_lang.bpf.o ./kmod_lang_kmod.ko
