/* What the driver hands to the stages after the front end. */
#ifndef KSC_H
#define KSC_H

#include "frontend/frontend.h"

typedef struct KscOpts {
    FrontOpts front;
    const char *input;
    const char *out;        /* object path; for build, the output folder */
    const char *emit;       /* NULL, or ast, ir, asm, obj, user-c, kmod-c */
    const char *kdir;       /* kernel build folder for the module */
    bool check_only;
    bool no_bounds;
    bool unroll;
    int cpu;                /* BPF ISA: 3 or 4 */
    int opt;                /* 0: no IR optimisation (debugging), else 2 */
} KscOpts;

Program *ksc_front(KscOpts *o);
/* IR, bounds, back end and object for a checked program (bpf_backend/). */
int ksc_backend(Program *p, KscOpts *o);
/* `ksc build` and `ksc test` (c_backend/). */
int ksc_build(KscOpts *o);
int ksc_test(KscOpts *o);

#endif
