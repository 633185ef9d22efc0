#!/usr/bin/env bash
# Counted loops against gen.py's model: random packet walks, counters and
# local arrays, compiled by ksc and run in the kernel on packets of random
# length (covers the induction-variable rewrites of ir/ivopt.c).
. "$(dirname "$0")/../lib.sh"
mount_bpffs
exec python3 "$ROOT/tests/loops/run.py" "$KSC" "${LOOPS_PROGRAMS:-30}" "${LOOPS_PACKETS:-6}"
