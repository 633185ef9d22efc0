/* The pipeline after the front end: IR, optimisation, bounds, instruction
 * selection, register allocation, object writing. */
#include <stdio.h>
#include <string.h>

#include "bpf_backend/backend.h"
#include "ir/ir.h"
#include "ksc.h"

int ksc_backend(Program *p, KscOpts *o)
{
    IrProgram *ip = ir_lower(p, o->unroll);
    if (diag_errors())
        return 1;
    for (int i = 0; i < ip->funcs.n; i++)
        ir_optimize(ip->funcs.v[i]);
    if (o->emit && !strcmp(o->emit, "ir")) {
        ir_print(ip, stdout);
        return 0;
    }
    fprintf(stderr, "ksc: error: the BPF back end is not built yet; use --check, --emit=ast or --emit=ir\n");
    return 1;
}
