/* The BPF back end: instruction selection over the SSA IR, SSA
 * destruction, register allocation over R0-R9, the R10 stack frame,
 * peephole, encoding, and the assembly printer (--emit=asm). */
#ifndef KSC_BPF_BACKEND_H
#define KSC_BPF_BACKEND_H

#include <stdio.h>

#include "elf/obj.h"

/* Prints a program the way `llvm-objdump -d` prints a BPF object: a
 * "<name>:" label, then per instruction its index, its 8 bytes in hex and
 * the mnemonic form, with relocation lines under the instructions that
 * carry one. */
void asm_print(FILE *out, const ObjProg *p);

#endif
