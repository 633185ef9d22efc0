/* Machine IR: BPF instructions over virtual registers, between
 * instruction selection and encoding. Registers 0-10 are R0-R10; virtual
 * registers start at VREG0. */
#ifndef KSC_BPF_MIR_H
#define KSC_BPF_MIR_H

#include <linux/bpf.h>

#include "elf/obj.h"
#include "ir/ir.h"

#define VREG0 16
#define NO_REG (-1)
#define FP 10

typedef struct MBlock MBlock;

typedef enum {
    MK_PLAIN,       /* one BPF instruction */
    MK_JUMP,        /* jump (conditional or not) to `target` */
    MK_LDIMM64,     /* two slots: imm64, or a relocated address */
    MK_CALL,        /* helper, BPF-to-BPF or kfunc call, nargs arguments */
    MK_EXIT,
} MKind;

typedef struct MIns {
    MKind kind;
    uint8_t code;           /* BPF opcode */
    int dst, src;           /* registers, NO_REG when absent */
    int16_t off;
    int64_t imm;
    int slot;               /* >= 0: off is relative to stack slot `slot` */
    bool slot_imm;          /* the slot's frame offset goes into imm (address) */
    MBlock *target;
    bool has_reloc;
    ObjReloKind reloc;
    const char *sym;
    int nargs;              /* MK_CALL: arguments in R1.. */
    bool ret_used;          /* MK_CALL: R0 is read afterwards */
    Pos pos;
} MIns;

typedef VEC(MIns) MInsVec;

struct MBlock {
    int id;
    MInsVec ins;
    MBlock *succ[2];
    int nsucc;
    VEC(MBlock *) preds;
    int loop_depth;
    uint64_t *live_in, *live_out;   /* bitsets over registers */
    int order;              /* position in the final layout */
};

typedef struct MFunc {
    IrFunc *ir;
    VEC(MBlock *) blocks;
    VEC(MBlock *) layout;   /* emission order */
    int nregs;              /* registers in use: 0 .. nregs-1 */
    VEC(Slot) slots;        /* IR slots, then spill slots */
    int frame_size;
    int cpu;
} MFunc;

/* isel.c */
MFunc *isel(IrFunc *f, int cpu);
/* regalloc.c: maps every virtual register to R0-R9, spilling as needed */
void regalloc(MFunc *m);
/* frame.c: stack offsets; false (after an error) when over 512 bytes */
bool frame_layout(MFunc *m);
/* peephole.c */
void peephole(MFunc *m);
/* emit.c: encodes into an ObjProg */
void emit_prog(MFunc *m, ObjProg *out);

/* objgen.c: the object from the programs and the declarations */
int objgen_write(Program *p, IrProgram *ip, ObjProg *progs, const char *path);

bool mins_is_alu64(const MIns *i);
void mins_uses(const MIns *i, int *uses, int *n);
void mins_defs(const MIns *i, int *defs, int *n);
bool mins_is_move(const MIns *i);

#endif
