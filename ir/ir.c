/* IR construction helpers, use counts, block order and dominators. */
#include "ir/ir.h"

#include <string.h>

IrFunc *ir_new_func(Func *src)
{
    IrFunc *f = xalloc(sizeof(IrFunc));
    f->src = src;
    f->name = src ? src->sym_name : "?";
    return f;
}

Block *ir_new_block(IrFunc *f)
{
    Block *b = xalloc(sizeof(Block));
    b->id = f->blocks.n;
    vpush(f->blocks, b);
    return b;
}

Ins *ir_new_ins(IrFunc *f, IrOp op, int w)
{
    Ins *i = xalloc(sizeof(Ins));
    i->op = op;
    i->w = (uint8_t)w;
    i->id = f->nvals++;
    return i;
}

void ir_append(Block *b, Ins *i)
{
    i->blk = b;
    vpush(b->ins, i);
}

void ir_add_edge(Block *from, Block *to) { vpush(to->preds, from); }

/* Drops one edge from pred, and the matching phi operands. */
void ir_remove_pred(Block *b, Block *pred)
{
    for (int k = 0; k < b->preds.n; k++) {
        if (b->preds.v[k] != pred)
            continue;
        memmove(b->preds.v + k, b->preds.v + k + 1, sizeof(Block *) * (size_t)(b->preds.n - k - 1));
        b->preds.n--;
        for (int j = 0; j < b->ins.n && b->ins.v[j]->op == I_PHI; j++) {
            Ins *phi = b->ins.v[j];
            memmove(phi->args + k, phi->args + k + 1, sizeof(Ins *) * (size_t)(phi->nargs - k - 1));
            phi->nargs--;
        }
        return;
    }
}

int ir_add_slot(IrFunc *f, int size, int align, Var *v)
{
    Slot s = { size > 0 ? size : 1, align > 0 ? align : 1, v, 0 };
    if (s.align > 8)
        s.align = 8;
    vpush(f->slots, s);
    return f->slots.n - 1;
}

bool ir_is_term(Ins *i) { return i->op == I_JMP || i->op == I_BR || i->op == I_RET; }

bool ir_has_effect(Ins *i)
{
    switch (i->op) {
    case I_STORE: case I_ATOMIC_ADD: case I_CALL_HELPER: case I_CALL: case I_CALL_KFUNC:
    case I_TAIL_CALL: case I_JMP: case I_BR: case I_RET:
        return true;
    case I_LOAD:
        return i->volatile_;
    case I_UDIV: case I_SDIV: case I_UMOD: case I_SMOD:
        return false;
    default:
        return false;
    }
}

Ins *ir_term(Block *b) { return b->ins.n ? b->ins.v[b->ins.n - 1] : NULL; }

int ir_index(Ins *i)
{
    int k = 0;
    while (i->blk->ins.v[k] != i)
        k++;
    return k;
}

MemRegion mem_region(int prov)
{
    switch (prov) {
    case P_PKT: case P_PKT_META: return MEM_PACKET;
    case P_CTX: return MEM_CTX;
    case P_MAP_VALUE: return MEM_MAP_VALUE;
    case P_STACK: return MEM_STACK;
    case P_GLOBAL: return MEM_GLOBAL;
    case P_RINGBUF: return MEM_RINGBUF;
    default: return MEM_UNKNOWN;
    }
}

static void use(Ins *i)
{
    if (i)
        i->uses++;
}

void ir_count_uses(IrFunc *f)
{
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++)
            f->blocks.v[b]->ins.v[k]->uses = 0;
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            for (int j = 0; j < 4; j++)
                use(i->a[j]);
            for (int j = 0; j < i->nargs; j++)
                use(i->args[j]);
        }
    }
}

void ir_replace_uses(IrFunc *f, Ins *from, Ins *to)
{
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            for (int j = 0; j < 4; j++)
                if (i->a[j] == from)
                    i->a[j] = to;
            for (int j = 0; j < i->nargs; j++)
                if (i->args[j] == from)
                    i->args[j] = to;
        }
    }
}

/* ---- order and dominators ---------------------------------------------- */

static void succs(Block *b, Block **out, int *n)
{
    Ins *t = ir_term(b);
    *n = 0;
    if (!t)
        return;
    if (t->op == I_JMP)
        out[(*n)++] = t->succ[0];
    if (t->op == I_BR) {
        out[(*n)++] = t->succ[0];
        if (t->succ[1] != t->succ[0])
            out[(*n)++] = t->succ[1];
    }
}

/* Iterative post-order, so that deep CFGs cannot overflow the C stack. */
static void postorder(IrFunc *f, BlockVec *out)
{
    char *seen = xalloc((size_t)f->blocks.n);
    typedef struct { Block *b; int next; } Frame;
    VEC(Frame) stack = { 0 };
    vpush(stack, ((Frame){ f->blocks.v[0], 0 }));
    seen[0] = 1;
    while (stack.n) {
        Frame *fr = &stack.v[stack.n - 1];
        Block *s[2];
        int ns;
        succs(fr->b, s, &ns);
        if (fr->next < ns) {
            Block *nb = s[fr->next++];
            if (!seen[nb->id]) {
                seen[nb->id] = 1;
                vpush(stack, ((Frame){ nb, 0 }));
            }
            continue;
        }
        vpush(*out, fr->b);
        stack.n--;
    }
}

static Block *intersect(Block *a, Block *b)
{
    while (a != b) {
        while (a->rpo > b->rpo)
            a = a->idom;
        while (b->rpo > a->rpo)
            b = b->idom;
    }
    return a;
}

/* Cooper, Harvey and Kennedy's iterative dominators over RPO. */
static void dominators(IrFunc *f, BlockVec *rpo)
{
    for (int i = 0; i < rpo->n; i++)
        rpo->v[i]->idom = NULL;
    Block *entry = rpo->v[0];
    entry->idom = entry;
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 1; i < rpo->n; i++) {
            Block *b = rpo->v[i], *nd = NULL;
            for (int k = 0; k < b->preds.n; k++) {
                Block *p = b->preds.v[k];
                if (p->idom && !p->dead)
                    nd = nd ? intersect(p, nd) : p;
            }
            if (nd && b->idom != nd) {
                b->idom = nd;
                changed = true;
            }
        }
    }
    (void)f;
}

static bool dominates(Block *a, Block *b)
{
    while (b && b != a && b->idom != b)
        b = b->idom;
    return b == a;
}

/* Renumbers the blocks in reverse post-order (unreachable ones dropped),
 * then computes dominators and loop depths. */
void ir_order(IrFunc *f)
{
    BlockVec po = { 0 };
    postorder(f, &po);
    for (int i = 0; i < f->blocks.n; i++)
        f->blocks.v[i]->dead = true;
    BlockVec rpo = { 0 };
    for (int i = po.n - 1; i >= 0; i--) {
        po.v[i]->dead = false;
        po.v[i]->rpo = rpo.n;
        vpush(rpo, po.v[i]);
    }
    /* unreachable predecessors no longer count */
    for (int i = 0; i < f->blocks.n; i++) {
        Block *b = f->blocks.v[i];
        if (!b->dead)
            continue;
        Block *s[2];
        int ns;
        succs(b, s, &ns);
        for (int k = 0; k < ns; k++)
            if (!s[k]->dead)
                ir_remove_pred(s[k], b);
    }
    f->blocks = rpo;
    for (int i = 0; i < f->blocks.n; i++)
        f->blocks.v[i]->id = i;
    dominators(f, &f->blocks);
    for (int i = 0; i < f->blocks.n; i++)
        f->blocks.v[i]->loop_depth = 0;
    /* A back edge b -> h (h dominates b): every block that reaches b without
     * passing h is in the loop. */
    for (int i = 0; i < f->blocks.n; i++) {
        Block *b = f->blocks.v[i];
        Block *s[2];
        int ns;
        succs(b, s, &ns);
        for (int k = 0; k < ns; k++) {
            Block *h = s[k];
            if (!dominates(h, b))
                continue;
            char *in = xalloc((size_t)f->blocks.n);
            BlockVec work = { 0 };
            in[h->id] = 1;
            h->loop_depth++;
            if (!in[b->id]) {
                in[b->id] = 1;
                b->loop_depth++;
                vpush(work, b);
            }
            while (work.n) {
                Block *x = work.v[--work.n];
                for (int p = 0; p < x->preds.n; p++) {
                    Block *y = x->preds.v[p];
                    if (!in[y->id] && !y->dead) {
                        in[y->id] = 1;
                        y->loop_depth++;
                        vpush(work, y);
                    }
                }
            }
        }
    }
}

Cond cond_negate(Cond c)
{
    static const Cond neg[] = { CC_NE, CC_EQ, CC_UGE, CC_UGT, CC_ULE, CC_ULT, CC_SGE, CC_SGT, CC_SLE, CC_SLT,
                                CC_SET };
    return neg[c];
}

Cond cond_swap(Cond c)
{
    static const Cond sw[] = { CC_EQ, CC_NE, CC_UGT, CC_UGE, CC_ULT, CC_ULE, CC_SGT, CC_SGE, CC_SLT, CC_SLE,
                               CC_SET };
    return sw[c];
}

bool cond_signed(Cond c) { return c >= CC_SLT && c <= CC_SGE; }

/* Consistency of the CFG and SSA form: every edge is recorded on both
 * ends, phis have one operand per predecessor, blocks end in a
 * terminator. Returns a description of the first problem, or NULL. */
const char *ir_verify(IrFunc *f)
{
    for (int i = 0; i < f->blocks.n; i++) {
        Block *b = f->blocks.v[i];
        if (b->dead)
            continue;
        Ins *t = ir_term(b);
        if (!t || !ir_is_term(t))
            return xfmt("@b%d has no terminator", b->id);
        Block *s[2];
        int ns;
        succs(b, s, &ns);
        if (t->op == I_BR && t->succ[0] == t->succ[1])
            ns = 2, s[1] = s[0];
        for (int k = 0; k < ns; k++) {
            int want = 0, have = 0;
            for (int j = 0; j < ns; j++)
                want += s[j] == s[k];
            for (int j = 0; j < s[k]->preds.n; j++)
                have += s[k]->preds.v[j] == b;
            if (want != have)
                return xfmt("edge @b%d -> @b%d: %d in the terminator, %d in preds", b->id, s[k]->id, want, have);
        }
        for (int j = 0; j < b->ins.n; j++) {
            Ins *in = b->ins.v[j];
            if (in->op == I_PHI && in->nargs != b->preds.n)
                return xfmt("@b%d: phi %%%d has %d operands for %d predecessors", b->id, in->id, in->nargs,
                            b->preds.n);
            if (ir_is_term(in) && j != b->ins.n - 1)
                return xfmt("@b%d: terminator before the end", b->id);
        }
        for (int j = 0; j < b->preds.n; j++) {
            Block *p = b->preds.v[j];
            Ins *pt = ir_term(p);
            if (p->dead || !pt || (pt->succ[0] != b && pt->succ[1] != b))
                return xfmt("@b%d lists @b%d as a predecessor, which does not branch to it", b->id, p->id);
        }
    }
    return NULL;
}
