/* Load reuse along straight paths: a load reads what an identical load
 * read shortly before it (same pointer value, offset and size), when
 * nothing between them may have written those bytes. Value numbering
 * (cse.c) merges packet loads only in functions that never write the
 * packet; this pass covers the functions that do, and map values:
 * `if (r == 1) ... if (r == 3)` on a map value is one load, and so is
 * ip->protocol tested before and after the addresses are rewritten.
 *
 * The walk goes backwards from each load through its block and on into
 * the single predecessor, so the earlier load dominates and no loop edge
 * is crossed; it gives up after WALK instructions, which keeps the pass
 * linear. Memory of different kinds (stack, map value, packet, context,
 * global) never overlaps; within one pointer value, disjoint byte ranges
 * do not; anything else may. */
#include "ir/ir.h"

#include "ir/bounds.h"

enum { WALK = 64 };

/* What memory a pointer of provenance p reads; 0 when unknown. */
static int region(int p)
{
    switch (p) {
    case P_PKT: case P_PKT_META: return 1;  /* one buffer */
    case P_CTX: return 2;
    case P_MAP_VALUE: return 3;
    case P_STACK: return 4;
    case P_GLOBAL: return 5;
    case P_RINGBUF: return 6;
    default: return 0;
    }
}

static int bytes(Ins *m)
{
    if (m->op == I_ATOMIC_ADD)
        return 8;
    return m->mw ? m->mw : m->w;
}

static bool may_overlap(Ins *st, Ins *ld)
{
    Ins *p = st->a[0], *q = ld->a[0];
    int rp = region(p->prov), rq = region(q->prov);
    if (rp && rq && rp != rq)
        return false;
    if (p != q || st->volatile_)
        return true;
    return st->imm < ld->imm + bytes(ld) && ld->imm < st->imm + bytes(st);
}

static bool pointer_args(Ins *call)
{
    for (int k = 0; k < call->nargs; k++)
        if (call->args[k]->prov != P_NONE)
            return true;
    return false;
}

/* Whether x may change what ld reads. A helper or function reaches the
 * packet or the context only through a pointer it is given (or by moving
 * the packet); map values change under any call. */
static bool clobbers(Ins *x, Ins *ld)
{
    int r = region(ld->a[0]->prov);
    switch (x->op) {
    case I_STORE: case I_ATOMIC_ADD:
        return may_overlap(x, ld);
    case I_CALL_HELPER:
        if (r == 3)
            return true;
        return helper_changes_pkt((int)x->imm) || pointer_args(x);
    case I_CALL: case I_CALL_KFUNC:
        return r == 3 || pointer_args(x);
    case I_TAIL_CALL:
        return true;
    default:
        return false;
    }
}

static bool same_load(Ins *a, Ins *b)
{
    return a->op == I_LOAD && !a->volatile_ && a->a[0] == b->a[0] && a->imm == b->imm && a->w == b->w
           && a->mw == b->mw;
}

/* The load ld (at index k of its block) can reuse, or NULL. */
static Ins *earlier_load(Ins *ld, int k)
{
    Block *b = ld->blk;
    int budget = WALK;
    for (;;) {
        while (--k >= 0) {
            Ins *x = b->ins.v[k];
            if (--budget < 0)
                return NULL;
            if (same_load(x, ld))
                return x;
            if (x == ld->a[0] || clobbers(x, ld))
                return NULL;
        }
        if (b->preds.n != 1 || b->preds.v[0] == ld->blk)
            return NULL;
        b = b->preds.v[0];
        k = b->ins.n;
    }
}

static bool candidate(Ins *i)
{
    if (i->op != I_LOAD || i->volatile_)
        return false;
    int r = region(i->a[0]->prov);
    return r >= 1 && r <= 3;
}

void ir_reuse_loads(IrFunc *f)
{
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            Ins *prev = candidate(i) ? earlier_load(i, k) : NULL;
            if (!prev)
                continue;
            i->op = I_COPY;     /* keeps i's width and provenance */
            i->a[0] = prev;
            i->a[1] = i->a[2] = i->a[3] = NULL;
            i->imm = 0;
            i->mw = 0;
        }
    }
}
