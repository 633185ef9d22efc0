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

#endif
