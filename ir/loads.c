/* Load reuse along straight paths: a load reads what an identical load
 * read shortly before it (same pointer value, offset and size), or what a
 * store of the same bytes wrote, when nothing between them may have
 * written those bytes. On the stack that keeps a local struct's fields in
 * registers between their uses: `m.vlans += 1` reads no memory. Value
 * numbering (cse.c) merges packet loads only in functions that never write the
 * packet; this pass covers the functions that do, and map values:
 * `if (r == 1) ... if (r == 3)` on a map value is one load, and so is
 * ip->protocol tested before and after the addresses are rewritten.
 *
 * The walk goes backwards from each load through its block and on into
 * its immediate dominator, after checking the blocks between them (the
 * arms of an if) when there are several predecessors; it never crosses a
 * loop edge, and gives up after WALK instructions, which keeps the pass
 * linear. Memory of different kinds (stack, map value, packet, context,
 * global) never overlaps; within one pointer value, disjoint byte ranges
 * do not; anything else may. */
#include "ir/ir.h"

#include "ir/bounds.h"

enum { WALK = 64, REGION = 16 };

static int bytes(Ins *m)
{
    if (m->op == I_ATOMIC_ADD)
        return 8;
    return m->mw ? m->mw : m->w;
}

/* One address: one pointer value, or the same stack slot (each use of a
 * local takes its slot's address anew). */
static bool same_base(Ins *p, Ins *q)
{
    return p == q || (p->op == I_SLOT && q->op == I_SLOT && p->imm == q->imm);
}

static bool may_overlap(Ins *st, Ins *ld)
{
    Ins *p = st->a[0], *q = ld->a[0];
    MemRegion rp = mem_region(p->prov), rq = mem_region(q->prov);
    if (rp && rq && rp != rq)
        return false;
    if (p->op == I_SLOT && q->op == I_SLOT && p->imm != q->imm)
        return false;
    if (!same_base(p, q) || st->volatile_)
        return true;
    return st->imm < ld->imm + bytes(ld) && ld->imm < st->imm + bytes(st);
}

/* Arguments that are pointers (any: a function given a stack pointer
 * may find a packet pointer stored there), or with packet_only, pointers
 * to the packet or the context (what a helper may write through). */
static bool pointer_args(Ins *call, bool packet_only)
{
    for (int k = 0; k < call->nargs; k++)
        if (packet_only ? mem_region(call->args[k]->prov) == MEM_PACKET || call->args[k]->prov == P_CTX
                        : call->args[k]->prov != P_NONE)
            return true;
    return false;
}

/* Whether x may change what ld reads. A helper reaches the packet only
 * through a packet or context pointer it is given, or by moving the
 * packet, and a function through any pointer; map values change under
 * any call. */
static bool clobbers(Ins *x, Ins *ld)
{
    MemRegion r = mem_region(ld->a[0]->prov);
    switch (x->op) {
    case I_STORE: case I_ATOMIC_ADD:
        return may_overlap(x, ld);
    case I_CALL_HELPER:
        if (r == MEM_MAP_VALUE)
            return true;
        if (r == MEM_STACK)     /* a helper given a stack pointer may write there */
            return pointer_args(x, false);
        return helper_changes_pkt((int)x->imm) || pointer_args(x, true);
    case I_CALL: case I_CALL_KFUNC:
        return r == MEM_MAP_VALUE || pointer_args(x, false);
    case I_TAIL_CALL:
        return true;
    default:
        return false;
    }
}

static bool same_load(Ins *a, Ins *b)
{
    return a->op == I_LOAD && !a->volatile_ && same_base(a->a[0], b->a[0]) && a->imm == b->imm && a->w == b->w
           && a->mw == b->mw;
}

/* A store ld reads back whole: same address, offset and size. Not in
 * the context, where the kernel may keep other than what was written
 * (a queue_mapping out of range is dropped). */
static bool same_store(Ins *st, Ins *ld)
{
    return st->op == I_STORE && ld->a[0]->prov != P_CTX && !st->volatile_ && same_base(st->a[0], ld->a[0])
           && st->imm == ld->imm && bytes(st) == bytes(ld);
}

static bool scan_clean(Block *x, Ins *ld, int *budget)
{
    for (int k = 0; k < x->ins.n; k++)
        if (--*budget < 0 || clobbers(x->ins.v[k], ld))
            return false;
    return true;
}

/* Whether the blocks between b's immediate dominator and b (both
 * excluded) hold no loop and nothing that may write what ld reads: then
 * the walk may go on from the end of the dominator, as across an if. */
static bool region_clean(Block *b, Ins *ld, int *budget)
{
    Block *seen[REGION], *work[4 * REGION];
    int nseen = 0, nwork = 0;
    if (b->preds.n > 4 * REGION)
        return false;
    for (int p = 0; p < b->preds.n; p++)
        work[nwork++] = b->preds.v[p];
    while (nwork) {
        Block *x = work[--nwork];
        if (x == b->idom)
            continue;
        int j = 0;
        while (j < nseen && seen[j] != x)
            j++;
        if (j < nseen)
            continue;
        if (nseen == REGION || x->rpo >= b->rpo || !scan_clean(x, ld, budget))
            return false;
        seen[nseen++] = x;
        for (int p = 0; p < x->preds.n; p++) {
            if (nwork == 4 * REGION || x->preds.v[p]->rpo >= x->rpo)
                return false;
            work[nwork++] = x->preds.v[p];
        }
    }
    return true;
}

/* The earlier load or store that load ld (at index k of its block) can
 * take its value from, or NULL. */
static Ins *value_source(Ins *ld, int k)
{
    Block *b = ld->blk;
    int budget = WALK;
    for (;;) {
        while (--k >= 0) {
            Ins *x = b->ins.v[k];
            if (--budget < 0)
                return NULL;
            if (same_load(x, ld) || same_store(x, ld))
                return x;
            if ((x == ld->a[0] && x->op != I_SLOT) || clobbers(x, ld))
                return NULL;
        }
        if (!b->idom || b->idom == b)
            return NULL;    /* the entry */
        for (int p = 0; p < b->preds.n; p++)
            if (b->preds.v[p]->rpo >= b->rpo)
                return NULL;
        if (b->preds.n > 1 && !region_clean(b, ld, &budget))
            return NULL;
        b = b->idom;
        k = b->ins.n;
    }
}

static bool candidate(Ins *i)
{
    if (i->op != I_LOAD || i->volatile_)
        return false;
    MemRegion r = mem_region(i->a[0]->prov);
    return r == MEM_PACKET || r == MEM_CTX || r == MEM_MAP_VALUE || r == MEM_STACK;
}

static uint64_t low_bytes(int64_t v, int n) { return n >= 8 ? (uint64_t)v : (uint64_t)v & ((1ULL << (n * 8)) - 1); }

/* ld becomes a copy of v (keeping its width and provenance). */
static void make_copy(Ins *ld, Ins *v)
{
    ld->op = I_COPY;
    ld->a[0] = v;
    ld->imm = 0;
    ld->mw = 0;
}

/* ld becomes the value st wrote, when that is exactly what it reads: a
 * constant (cut to the bytes moved, as the load zero-extends them), or a
 * value of the load's width and kind. */
static void forward(Ins *ld, Ins *st)
{
    Ins *v = st->a[1];
    if (v->op == I_CONST) {
        ld->op = I_CONST;
        ld->imm = (int64_t)low_bytes(v->imm, bytes(ld));
        ld->a[0] = NULL;
        ld->prov = P_NONE;
        ld->mw = 0;
    } else if (v->w == ld->w && bytes(ld) == ld->w && v->prov == ld->prov) {
        make_copy(ld, v);
    }
}

void ir_reuse_loads(IrFunc *f)
{
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            Ins *src = candidate(i) ? value_source(i, k) : NULL;
            if (src && src->op == I_STORE)
                forward(i, src);
            else if (src)
                make_copy(i, src);
        }
    }
}
