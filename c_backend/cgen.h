/* The userspace back end: the file's undecorated functions (and @test
 * functions) as C against libbpf, with the BPF object embedded, plus
 * `ksc build` and `ksc test`. */
#ifndef KSC_CGEN_H
#define KSC_CGEN_H

#include <stdio.h>

#include "frontend/frontend.h"

/* Does the program have a userspace part (a main or @test functions)? */
bool cgen_needed(Program *p);
/* --emit=user-c: the generated C (object embedded from obj, may be NULL). */
int cgen_emit(Program *p, const unsigned char *obj, size_t obj_len, FILE *out);

/* What else the generated program needs to know. */
typedef struct CgenOpts {
    bool tests;                 /* a @test runner instead of main */
    const char *kmod_name;      /* kernel module to load before the object */
    const char *kmod_path;      /* ... from this .ko */
} CgenOpts;
int cgen_emit_opts(Program *p, const unsigned char *obj, size_t obj_len, FILE *out, const CgenOpts *o);

/* --emit=user-c from the driver: compiles the object to embed, then the C
 * to stdout. */
struct KscOpts;
int cgen_emit_user_c(Program *p, struct KscOpts *o);

#endif
