/* The pipeline after the front end: IR, optimisation, bounds, instruction
 * selection, register allocation, frame, encoding, object. */
#include <stdio.h>
#include <string.h>

#include "bpf_backend/backend.h"
#include "bpf_backend/mir.h"
#include "ksc.h"

static bool emit_is(KscOpts *o, const char *stage) { return o->emit && !strcmp(o->emit, stage); }

/* Back end for one function; false after a reported error. */
static bool compile_func(IrFunc *f, int cpu, ObjProg *out)
{
    ir_split_critical_edges(f);
    MFunc *m = isel(f, cpu);
    regalloc(m);
    if (!frame_layout(m))
        return false;
    peephole(m);
    emit_prog(m, out);
    return true;
}

int ksc_backend(Program *p, KscOpts *o)
{
    IrProgram *ip = ir_lower(p, o->unroll);
    if (diag_errors())
        return 1;
    for (int i = 0; i < ip->funcs.n; i++) {
        if (o->opt)
            ir_optimize(ip->funcs.v[i]);
        else
            ir_cfg_cleanup(ip->funcs.v[i]);
    }
    if (o->opt)
        ir_inline(ip);
    for (int i = 0; i < ip->funcs.n; i++) {
        /* a broken invariant is a ksc bug: never write an object from it */
        const char *bad = ir_verify(ip->funcs.v[i]);
        if (bad)
            fatal("internal error: the IR of '%s' is inconsistent: %s", ip->funcs.v[i]->name, bad);
    }
    BoundsOpts bo = { .disabled = o->no_bounds };
    if (ir_bounds(ip, &bo))
        return 1;
    for (int i = 0; i < ip->funcs.n && o->opt; i++) {
        IrFunc *f = ip->funcs.v[i];
        if (ir_reduce_ivs(f)) {
            ir_copyprop(f);
            ir_dce(f);
        }
    }
    if (emit_is(o, "ir")) {
        ir_print(ip, stdout);
        return 0;
    }
    ObjProg *progs = xalloc(sizeof(ObjProg) * (size_t)(ip->funcs.n + 1));
    for (int i = 0; i < ip->funcs.n; i++)
        if (!compile_func(ip->funcs.v[i], o->cpu, &progs[i]))
            return 1;
    if (diag_errors())
        return 1;
    if (emit_is(o, "asm")) {
        for (int i = 0; i < ip->funcs.n; i++)
            asm_print(stdout, &progs[i]);
        return 0;
    }
    return objgen_write(p, ip, progs, o->out);
}
