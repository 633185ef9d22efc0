/* libFuzzer target for the front end: lex, parse, check and dump one input
 * as a .ks file, then release everything with compiler_reset(), as the
 * unit tests do, so one process runs millions of inputs without growing. Kernel BTF is off ("none"): inputs see only the built-in set.
 * Built and run by tests/fuzz/run.sh (`make fuzz`). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btf/ksbtf.h"
#include "frontend/internal.h"

static FILE *sink;      /* diagnostics and the AST dump go nowhere */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink)
        sink = fopen("/dev/null", "w");
    compiler_reset();
    kbtf_set_path("none");
    diag_set_output(sink);
    FrontOpts opts = { 0 };
    opts.btf_path = "none";
    /* A folder that does not exist: relative include and import names
     * find nothing, so an input cannot pull in files from the disk. */
    Program *p = parse_buffer("/nonexistent-ksc-fuzz/fuzz.ks", (const char *)data, size, &opts);
    check_program(p, &opts);
    dump_ast(p, sink);
    diag_set_output(NULL);
    compiler_reset();
    return 0;
}
