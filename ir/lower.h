/* State shared by the lowering files (lower.c, lower_expr.c, lower_call.c). */
#ifndef KSC_IR_LOWER_H
#define KSC_IR_LOWER_H

#include "ir/ir.h"

typedef struct Addr { Ins *base; int64_t off; } Addr;

typedef struct LoopCtx { Block *brk, *cont; } LoopCtx;
typedef struct TryCtx { Block *dispatch; } TryCtx;
typedef struct DeferCtx { Node *body; Var *flag; } DeferCtx;
typedef VEC(DeferCtx) DeferVec;

typedef struct Lower {
    IrProgram *ip;
    IrFunc *f;
    Func *fn;
    Block *cur;             /* NULL: the code here is unreachable */
    Pos pos;
    VEC(LoopCtx) loops;
    VEC(TryCtx) trys;
    DeferVec defers;
    bool top_level;         /* lowering a statement of the function body itself */
    Ins *ctx;               /* the program's context */
    Ins *ret_ptr;           /* hidden pointer for an aggregate return */
    Ins *err_ptr;           /* hidden pointer for a thrown code (helpers) */
    Var *code_var;          /* the code being thrown */
    int *slot_of;           /* Var id -> stack slot, -1 when in SSA */
    int nslot_of;
    Ins **param_base;       /* Var id -> pointer to an aggregate parameter */
    Ins *pinned;            /* the pinned_globals entry, looked up at entry */
    VEC(Var *) extra_vars;  /* synthetic variables */
    int nvars;
    bool unroll;
    Block **chain;          /* defer chain blocks, by number of defers */
    int nchain;
    Var *ret_value;         /* the value a return carries into the chain */
    VEC(int) free_temps;    /* temporary slots free for reuse */
    VEC(int) used_temps;    /* temporary slots of the statements being lowered */
    VEC(Var *) entries;     /* if (var p = m[k]) bindings whose block is being
                             * lowered: writes to p go to the map entry */
} Lower;

extern Lower L;

/* lower.c */
Ins *emit(IrOp op, int w);
Ins *emit1(IrOp op, int w, Ins *a);
Ins *emit2(IrOp op, int w, Ins *a, Ins *b);
Ins *iconst(int64_t v, int w);
void jump(Block *to);
void branch(Cond cc, int cw, Ins *a, Ins *b, Block *t, Block *f);
void set_block(Block *b);
Block *new_block(void);
void write_var(Var *v, Block *b, Ins *val);
Ins *read_var(Var *v, Block *b);
Var *synth_var(const char *name, Type *ty);
bool var_in_ssa(Var *v);
int var_slot(Var *v);
void seal(Block *b);
void lower_stmt(Node *n);
void lower_block(Node *b);
void lower_body(Node *b);
void emit_return(Ins *v);
void lower_defer_chain(void);
void emit_throw(Ins *code);
void raise_if_error(Ins *err);

/* lower_expr.c */
int width_of(Type *t);
Ins *rvalue(Node *n);
Addr addr_of(Node *n);              /* lvalues and aggregates */
Ins *addr_value(Addr a);            /* base + off as one pointer value */
Ins *load(Addr a, Type *t);
void store(Addr a, Ins *v, Type *t);
void copy_mem(Addr dst, Addr src, int size);
void zero_mem(Addr dst, int size);
void store_value(Addr dst, Node *n, Type *t);   /* n into memory of type t */
Addr new_slot(Type *t, Var *v);    /* v NULL: a temporary of the statement */
int temps_mark(void);
void temps_release(int mark);
Addr slot_addr(int slot);
Ins *convert(Ins *v, Type *from, Type *to);
void cond_branch(Node *c, Block *t, Block *f);
Ins *to_bool(Ins *v, Type *t);
void assign(Node *n);
void lower_match_stmt(Node *m);
/* *(p + off) when p is not null, else zero (a map reference's read) */
Ins *read_through(Ins *p, int64_t off, Type *t, Member *m);
Prov prov_of_type(Type *t);

/* lower_call.c */
Ins *lower_call(Node *n, Addr *agg);
Ins *map_read(Node *idx, Type *want);       /* m[k]: value (0 when absent) */
Ins *map_lookup(Node *idx);                 /* m[k]: pointer (may be null) */
void map_assign(Node *n);                   /* m[k] = v, m[k] op= v, m[k].f op= v */
void map_delete(Node *n);
Ins *string_addr(const char *s, int len);   /* a .rodata string */
Ins *global_addr(Global *g, int64_t off);
Ins *map_ref(Global *g);
Ins *pinned_base(void);
void copy_map_value(Addr dst, Node *src, int size);  /* zero when absent */
Ins *mem_load(Addr a, int mw);
void mem_store(Addr a, Ins *v, int mw);

#endif
