#!/bin/sh
# Guest side of probes_ksc (busybox sh, cwd /test/probes_ksc); see probes_ksc_test.c.
./probes_ksc_test ./probes_ksc.bpf.o
