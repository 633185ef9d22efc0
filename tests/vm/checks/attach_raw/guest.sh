#!/bin/sh
# Guest side of attach_raw (busybox sh, cwd /test/attach_raw); see attach_raw_test.c.
./attach_raw_test
