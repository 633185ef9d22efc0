/* libFuzzer target for the whole eBPF pipeline: an input that the front end
 * accepts goes on through lowering, the IR passes, the bounds pass,
 * instruction selection, register allocation and the ELF writer, alternately
 * with -O0, -funroll, --no-bounds and cpu v4 so each path is reached. An
 * internal error (fatal() exits) or a sanitizer report is a finding, as is
 * an object the writer refuses. State is released between inputs with
 * compiler_reset(). Kernel BTF is off ("none"). Built and run by
 * tests/fuzz/run.sh with FUZZ_TARGET=pipeline (`make fuzz-pipeline`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btf/ksbtf.h"
#include "frontend/internal.h"
#include "ksc.h"

static FILE *sink;

/* The last input byte picks the options, so a mutation of it alone
 * compiles the same program another way. */
static void pick_options(KscOpts *o, uint8_t sel)
{
    o->opt = (sel & 1) ? 0 : 2;
    o->unroll = sel & 2;
    o->no_bounds = sel & 4;
    o->cpu = (sel & 8) ? 4 : 3;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");
    compiler_reset();
    kbtf_set_path("none");
    diag_set_output(sink);
    KscOpts o = { 0 };
    o.front.btf_path = "none";
    o.out = "/dev/null";
    pick_options(&o, size ? data[size - 1] : 0);
    Program *p = parse_buffer("/nonexistent-ksc-fuzz/fuzz.ks", (const char *)data, size, &o.front);
    check_program(p, &o.front);
    /* a failure the diagnostics did not report is the writer refusing
     * what the passes produced */
    if (!diag_errors() && ksc_backend(p, &o) && !diag_errors())
        abort();
    diag_set_output(NULL);
    compiler_reset();
    return 0;
}
