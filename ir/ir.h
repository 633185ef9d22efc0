/* The SSA IR of eBPF functions: basic blocks of instructions, explicit
 * phis, values typed by width, pointers with their provenance, and the
 * source position of every instruction. Built from the typed AST
 * (lower*.c), cleaned by the passes (fold, copyprop, dce, cfg), checked
 * by the bounds pass, then handed to bpf_backend/. */
#ifndef KSC_IR_H
#define KSC_IR_H

#include "frontend/frontend.h"

typedef struct Ins Ins;
typedef struct Block Block;
typedef struct IrFunc IrFunc;

/* Integer operations act on the low `w` bytes of their operands, and
 * define the low `w` bytes of their result; the back end keeps what lies
 * above as it needs. Signedness lives in the operation. */
typedef enum {
    I_NOP,
    I_CONST,        /* imm */
    I_ARG,          /* parameter imm (0-based) */
    I_COPY,         /* a[0] */
    I_ADD, I_SUB, I_MUL, I_UDIV, I_SDIV, I_UMOD, I_SMOD,
    I_AND, I_OR, I_XOR, I_SHL, I_SHR, I_SAR,
    I_NEG, I_NOT,   /* NOT: bitwise complement */
    I_BSWAP,        /* byte swap of the low imm bits (16, 32, 64): htons ... */
    I_FUNC_ADDR,    /* address of function `sym` (callbacks) */
    I_ZEXT,         /* a[0] of width imm, zero-extended to w */
    I_SEXT,         /* a[0] of width imm, sign-extended to w */
    I_SETCC,        /* 0/1 from comparing a[0] and a[1] (cc, cw) */
    I_SELECT,       /* cc ? a[2] : a[3] ... see isel: lowered as a branch */
    I_LOAD,         /* w bytes at a[0] + imm */
    I_STORE,        /* w bytes of a[1] to a[0] + imm (no value) */
    I_ATOMIC_ADD,   /* *(a[0] + imm) += a[1], w = 4 or 8 (no value) */
    I_SLOT,         /* address of stack slot imm */
    I_MAP,          /* address of map `sym` (LD_IMM64) */
    I_GLOBAL,       /* address of global `sym` + imm (LD_IMM64 map value) */
    I_CALL_HELPER,  /* BPF helper imm(args) -> r0 */
    I_CALL,         /* BPF-to-BPF call of `sym`(args) */
    I_CALL_KFUNC,   /* kfunc `sym`(args) */
    I_TAIL_CALL,    /* bpf_tail_call(a[0] ctx, map `sym`, imm) */
    I_PHI,
    /* terminators */
    I_JMP,          /* to succ[0] */
    I_BR,           /* if a[0] cc a[1] (width cw) goto succ[0] else succ[1] */
    I_RET,          /* return a[0] (or nothing) */
} IrOp;

typedef enum {
    CC_EQ, CC_NE, CC_ULT, CC_ULE, CC_UGT, CC_UGE, CC_SLT, CC_SLE, CC_SGT, CC_SGE, CC_SET,
} Cond;

/* What a pointer points into: the verifier's view of it. */
typedef enum {
    P_NONE,         /* a scalar */
    P_CTX, P_PKT, P_PKT_END, P_PKT_META,
    P_MAP_VALUE,    /* map lookup result (may be null until tested) */
    P_MAP,          /* a map itself */
    P_STACK, P_GLOBAL, P_RINGBUF, P_KERNEL, P_RODATA,
} Prov;

struct Ins {
    IrOp op;
    uint8_t w;              /* result width in bytes; 0 = no value */
    uint8_t cw;             /* compare width (I_BR, I_SETCC) */
    uint8_t mw;             /* I_LOAD/I_STORE: bytes moved (may differ from w) */
    uint8_t prov;           /* Prov of a pointer result */
    bool volatile_;         /* I_LOAD/I_STORE the passes must keep */
    Cond cc;
    int id;                 /* value number, unique in the function */
    Ins *a[4];
    int64_t imm;
    const char *sym;
    const char *target;     /* I_TAIL_CALL: the program tail-called */
    Ins **args;             /* calls: arguments; phi: one per predecessor */
    int nargs;
    Block *blk;
    Pos pos;
    Type *ty;               /* source type (pointee of a pointer), if known */
    Var *var;               /* phi under construction: its variable */
    int uses;               /* set by ir_count_uses */
    Block *succ[2];         /* I_JMP, I_BR */
    int slot_size;          /* I_SLOT helper: bytes */
    void *aux;              /* per-pass scratch */
};

typedef VEC(Ins *) InsVec;
typedef VEC(Block *) BlockVec;

struct Block {
    int id;
    InsVec ins;             /* phis first, then the body, then one terminator */
    BlockVec preds;
    bool sealed;
    Ins **defs;             /* SSA construction: current value per variable */
    int ndefs;              /* capacity of defs */
    InsVec incomplete;      /* phis waiting for predecessors */
    int rpo;                /* reverse post-order number (ir_order) */
    Block *idom;
    int loop_depth;
    bool dead;
    void *aux;
};

typedef struct Slot {
    int size, align;
    Var *var;               /* NULL for temporaries */
    int offset;             /* frame offset, set by the back end */
} Slot;

struct IrFunc {
    Func *src;
    const char *name;       /* object symbol */
    const char *section;
    bool is_program;
    bool is_static;         /* .text subprogram */
    bool sub_copy;          /* a struct_ops member again, as a subprogram its
                               siblings call (arguments in registers) */
    BlockVec blocks;        /* blocks[0] is the entry */
    VEC(Slot) slots;
    int nvals;              /* next value id */
    int nparams;            /* incoming register arguments */
    bool hidden_ret;        /* first argument is a pointer for an aggregate return */
    bool hidden_err;        /* last argument points at the caller's error slot */
    int default_ret;        /* verdict on a failed inserted check or tail call */
    Prov ctx_prov;
    Ins *ctx;               /* programs: the context pointer (I_ARG 0) */
};

typedef struct IrMapRef { const char *name; Global *g; } IrMapRef;

/* Everything the back end needs besides the functions. */
typedef struct IrProgram {
    Program *prog;
    VEC(IrFunc *) funcs;
    VEC(char *) strings;        /* .rodata string constants, by index */
    VEC(int) string_lens;
    VEC(const char *) tail_maps; /* prog_array per program kind (name) */
    VEC(int) tail_kinds;
    bool uses_pinned_globals;
} IrProgram;

/* ir.c: construction helpers */
IrFunc *ir_new_func(Func *src);
Block *ir_new_block(IrFunc *f);
Ins *ir_new_ins(IrFunc *f, IrOp op, int w);
void ir_append(Block *b, Ins *i);
void ir_add_edge(Block *from, Block *to);
void ir_remove_pred(Block *b, Block *pred);
int ir_add_slot(IrFunc *f, int size, int align, Var *v);
bool ir_is_term(Ins *i);
bool ir_has_effect(Ins *i);
Ins *ir_term(Block *b);
int ir_index(Ins *i);               /* i's position in its block */
/* Memory a pointer of provenance p points into, for telling accesses that
 * cannot overlap: the packet (with its metadata), the context, map values,
 * the stack, globals, ring-buffer records; MEM_UNKNOWN for anything else. */
typedef enum { MEM_UNKNOWN, MEM_PACKET, MEM_CTX, MEM_MAP_VALUE, MEM_STACK, MEM_GLOBAL, MEM_RINGBUF } MemRegion;
MemRegion mem_region(int prov);
void ir_count_uses(IrFunc *f);
void ir_order(IrFunc *f);           /* RPO numbering, dominators, loop depth */
void ir_replace_uses(IrFunc *f, Ins *from, Ins *to);
Cond cond_negate(Cond c);
Cond cond_swap(Cond c);
bool cond_signed(Cond c);

/* lower*.c: the typed AST to SSA */
IrProgram *ir_lower(Program *p, bool unroll);

/* passes */
void ir_fold(IrFunc *f);
void ir_copyprop(IrFunc *f);
void ir_dce(IrFunc *f);
void ir_cfg_cleanup(IrFunc *f);
void ir_cse(IrFunc *f);
/* A load repeated along a straight path with no write between reuses the first (loads.c). */
void ir_reuse_loads(IrFunc *f);
void ir_nullcheck(IrFunc *f);
void ir_merge_ivs(IrFunc *f);       /* ivopt.c */
bool ir_reduce_ivs(IrFunc *f);      /* ivopt.c: after the bounds pass */
void ir_inline(IrProgram *p);        /* small @helpers into their callers */
void ir_optimize(IrFunc *f);        /* the passes, to a fixed point */
void ir_split_critical_edges(IrFunc *f);

/* bounds.c: the verifier simulation; returns the number of errors */
typedef struct BoundsOpts { bool disabled; } BoundsOpts;
int ir_bounds(IrProgram *p, BoundsOpts *o);

/* print.c */
void ir_print(IrProgram *p, FILE *out);
const char *ir_verify(IrFunc *f);   /* ir.c: NULL when consistent */
void ir_print_func(IrFunc *f, FILE *out);

#endif
