/* Inlining of small @helper functions (and of those called once). A BPF
 * call costs the call and the argument moves, and the verifier checks a
 * static subprogram again at every call site, so small helpers are better
 * copied into their callers, as clang does with static functions. A
 * helper with no call left is dropped from the object. */
#include "ir/ir.h"

#include <string.h>

#define INLINE_LIMIT 40     /* instructions, constants not counted */
#define CALL_COST 3         /* a call and its argument moves, in IR instructions */
#define INLINE_GROWTH 12    /* what inlining everywhere may add */

/* What a copy costs: arguments, returns, copies, phis and constants
 * mostly vanish into the caller's registers once inlined. */
static int size_of(IrFunc *f)
{
    int n = 0;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            IrOp op = f->blocks.v[b]->ins.v[k]->op;
            n += op != I_CONST && op != I_ARG && op != I_RET && op != I_COPY && op != I_PHI && op != I_JMP;
        }
    return n;
}

/* Every function by name, with the number of calls of it (and address
 * takings) in the whole program, kept up to date as calls are inlined:
 * counting them again for each candidate made the pass quadratic in the
 * number of functions. */
typedef struct FnInfo { IrFunc *f; int sites; } FnInfo;
static StrMap fns;

static FnInfo *fn_info(const char *name) { return strmap_get(&fns, name); }

static IrFunc *find_func(const char *name)
{
    FnInfo *fi = fn_info(name);
    return fi ? fi->f : NULL;
}

/* Adds delta to the count of every function f calls or takes the address of. */
static void count_calls(IrFunc *f, int delta)
{
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *x = f->blocks.v[b]->ins.v[k];
            FnInfo *fi = (x->op == I_CALL || x->op == I_FUNC_ADDR) && x->sym ? fn_info(x->sym) : NULL;
            if (fi)
                fi->sites += delta;
        }
}

typedef struct Clone {
    IrFunc *to;
    Ins **map;              /* callee value id -> caller instruction */
    Block **bmap;           /* callee block id -> caller block */
    int slot_base;
    Ins *call;
    Block *cont;
    Ins *result;            /* phi in cont, or NULL */
} Clone;

static Ins *mapped(Clone *c, Ins *v) { return v ? c->map[v->id] : NULL; }

static void clone_ins(Clone *c, Ins *src, Block *into)
{
    Ins *i = ir_new_ins(c->to, src->op, src->w);
    int id = i->id;
    *i = *src;
    i->id = id;
    i->blk = into;
    i->uses = 0;
    i->aux = NULL;
    if (src->op == I_SLOT)
        i->imm += c->slot_base;
    c->map[src->id] = i;
    vpush(into->ins, i);
}

/* Operands are mapped once every instruction has its copy (phis may
 * refer forward). Arguments become the call's operands, returns jumps. */
static void fix_operands(Clone *c, Ins *src)
{
    Ins *i = c->map[src->id];
    for (int k = 0; k < 4; k++)
        i->a[k] = mapped(c, src->a[k]);
    if (src->nargs) {
        i->args = xalloc(sizeof(Ins *) * (size_t)src->nargs);
        for (int k = 0; k < src->nargs; k++)
            i->args[k] = mapped(c, src->args[k]);
    }
    for (int s = 0; s < 2; s++)
        i->succ[s] = src->succ[s] ? c->bmap[src->succ[s]->id] : NULL;
}

static void lower_args_and_returns(Clone *c, IrFunc *callee)
{
    for (int b = 0; b < callee->blocks.n; b++) {
        Block *cb = c->bmap[b];
        for (int k = 0; k < cb->ins.n; k++) {
            Ins *i = cb->ins.v[k];
            if (i->op == I_ARG) {
                Ins *arg = c->call->args[i->imm];
                i->op = I_COPY;
                i->a[0] = arg;
                i->prov = i->prov ? i->prov : arg->prov;
            } else if (i->op == I_RET) {
                if (c->result && i->a[0]) {
                    Ins **na = xalloc(sizeof(Ins *) * (size_t)(c->result->nargs + 1));
                    if (c->result->nargs)
                        memcpy(na, c->result->args, sizeof(Ins *) * (size_t)c->result->nargs);
                    na[c->result->nargs++] = i->a[0];
                    c->result->args = na;
                }
                i->op = I_JMP;
                i->a[0] = NULL;
                i->succ[0] = c->cont;
                ir_add_edge(cb, c->cont);
            }
        }
    }
}

/* Splits the call's block: what follows the call moves to `cont`. */
static Block *split_after(IrFunc *f, Ins *call)
{
    Block *b = call->blk, *cont = ir_new_block(f);
    int at = ir_index(call);
    for (int k = at + 1; k < b->ins.n; k++) {
        b->ins.v[k]->blk = cont;
        vpush(cont->ins, b->ins.v[k]);
    }
    b->ins.n = at;
    Ins *t = ir_term(cont);
    for (int s = 0; t && s < 2; s++) {
        Block *succ = t->succ[s];
        if (!succ || (s == 1 && t->succ[1] == t->succ[0]))
            continue;
        for (int k = 0; k < succ->preds.n; k++)
            if (succ->preds.v[k] == b)
                succ->preds.v[k] = cont;
    }
    return cont;
}

static void inline_call(IrFunc *f, Ins *call, IrFunc *callee)
{
    Clone c = { .to = f, .call = call };
    c.map = xalloc(sizeof(Ins *) * (size_t)(callee->nvals + 1));
    c.bmap = xalloc(sizeof(Block *) * (size_t)callee->blocks.n);
    c.slot_base = f->slots.n;
    for (int s = 0; s < callee->slots.n; s++)
        vpush(f->slots, callee->slots.v[s]);
    Block *from = call->blk;
    c.cont = split_after(f, call);
    for (int b = 0; b < callee->blocks.n; b++)
        c.bmap[b] = ir_new_block(f);
    for (int b = 0; b < callee->blocks.n; b++)
        for (int k = 0; k < callee->blocks.v[b]->ins.n; k++)
            clone_ins(&c, callee->blocks.v[b]->ins.v[k], c.bmap[b]);
    for (int b = 0; b < callee->blocks.n; b++) {
        Block *src = callee->blocks.v[b];
        for (int k = 0; k < src->preds.n; k++)
            vpush(c.bmap[b]->preds, c.bmap[src->preds.v[k]->id]);
        for (int k = 0; k < src->ins.n; k++)
            fix_operands(&c, src->ins.v[k]);
    }
    if (call->w) {
        c.result = ir_new_ins(f, I_PHI, call->w);
        c.result->blk = c.cont;
        c.result->prov = call->prov;
        c.result->ty = call->ty;
        vpush(c.cont->ins, NULL);
        memmove(c.cont->ins.v + 1, c.cont->ins.v, sizeof(Ins *) * (size_t)(c.cont->ins.n - 1));
        c.cont->ins.v[0] = c.result;
    }
    lower_args_and_returns(&c, callee);
    /* the call becomes a jump into the copy; its value the returns' phi */
    call->op = I_JMP;
    call->w = 0;
    call->nargs = 0;
    call->args = NULL;
    call->succ[0] = c.bmap[0];
    vpush(from->ins, call);
    ir_add_edge(from, c.bmap[0]);
    if (c.result)
        ir_replace_uses(f, call, c.result);
}

/* Called once: always (nothing grows). Otherwise only while the copies
 * grow the program little: each site trades a call and its argument moves
 * (about CALL_COST instructions) for a copy of the body. */
static bool worth_inlining(IrFunc *callee)
{
    if (!callee->is_static)
        return false;
    int size = size_of(callee), sites = fn_info(callee->name)->sites;
    if (sites == 1)
        return size <= INLINE_LIMIT * 8;
    return sites * (size - CALL_COST) - size <= INLINE_GROWTH && size <= INLINE_LIMIT;
}

static bool inline_into(IrFunc *f)
{
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            if (i->op != I_CALL)
                continue;
            IrFunc *callee = find_func(i->sym);
            if (!callee || callee == f || !worth_inlining(callee))
                continue;
            inline_call(f, i, callee);
            /* the call is gone; the copy calls what the callee calls */
            fn_info(callee->name)->sites--;
            count_calls(callee, 1);
            return true;
        }
    return false;
}

void ir_inline(IrProgram *p)
{
    fns = (StrMap){ 0 };
    for (int i = 0; i < p->funcs.n; i++) {
        FnInfo *fi = xalloc(sizeof *fi);
        fi->f = p->funcs.v[i];
        strmap_put(&fns, p->funcs.v[i]->name, fi);
    }
    for (int i = 0; i < p->funcs.n; i++)
        count_calls(p->funcs.v[i], 1);
    for (int i = 0; i < p->funcs.n; i++) {
        IrFunc *f = p->funcs.v[i];
        int budget = 64;
        bool changed = false;
        while (budget-- > 0 && inline_into(f))
            changed = true;
        if (changed) {
            /* the optimiser may drop calls on dead paths: count again */
            count_calls(f, -1);
            ir_order(f);
            ir_optimize(f);
            count_calls(f, 1);
        }
    }
    /* a helper nothing calls or takes the address of any more goes */
    int out = 0;
    for (int i = 0; i < p->funcs.n; i++) {
        IrFunc *g = p->funcs.v[i];
        if (g->is_static && fn_info(g->name)->sites == 0)
            continue;
        p->funcs.v[out++] = g;
    }
    p->funcs.n = out;
}
