#!/usr/bin/env bash
# Integer semantics against the model of LANGUAGE.md section 2: random
# expressions over every width, compiled by ksc and run in the kernel.
. "$(dirname "$0")/../lib.sh"
mount_bpffs
exec python3 "$ROOT/tests/arith/run.py" "$KSC" "${ARITH_PROGRAMS:-40}" "${ARITH_PACKETS:-8}" 30
