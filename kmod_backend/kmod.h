/* The kernel-module back end: @kfunc functions become kfuncs of a
 * generated module (BTF kfunc id sets registered for the program types
 * that call them), @private functions its internal helpers. */
#ifndef KSC_KMOD_H
#define KSC_KMOD_H

#include <stdio.h>

#include "frontend/frontend.h"

/* Does the program have kernel-module functions? */
bool kmod_needed(Program *p);
/* The module's name (the .ko is DIR/<name>.ko). */
const char *kmod_name(Program *p);
/* --emit=kmod-c: the module C, then the Kbuild file. */
int kmod_emit(Program *p, FILE *out);
/* Writes DIR/<name>.c and DIR/Kbuild. */
int kmod_write(Program *p, const char *dir);
/* Builds DIR/<name>.ko against KDIR (NULL: /lib/modules/$(uname -r)/build).
 * Returns 0 when built, 1 after an error, 2 when there are no kernel
 * headers (sources stay written; a message says so). */
int kmod_build(Program *p, const char *dir, const char *kdir);

#endif
