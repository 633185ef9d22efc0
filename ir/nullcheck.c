/* Null-check elimination: below the edge where `p != 0` was tested true
 * (a successor with that single predecessor), p is not null, and so is
 * every copy of it; a second test of p against 0 there is decided. Reads
 * through a map reference test it at every use; inside
 * `if (var s = m[k])` those tests go. */
#include "ir/ir.h"

static Ins *root(Ins *p)
{
    while (p && p->op == I_COPY && p->a[0])
        p = p->a[0];
    return p;
}

/* The pointer a branch tests against zero, and its non-null successor. */
static Ins *tested(Ins *t, Block **nonnull)
{
    if (!t || t->op != I_BR || (t->cc != CC_EQ && t->cc != CC_NE) || t->cw != 8)
        return NULL;
    Ins *p = t->a[0], *z = t->a[1];
    if (!z || z->op != I_CONST || z->imm != 0 || !p || !p->prov)
        return NULL;
    *nonnull = t->succ[t->cc == CC_NE ? 0 : 1];
    return root(p);
}

static bool dominates(Block *a, Block *b)
{
    while (b != a && b->idom && b->idom != b)
        b = b->idom;
    return a == b;
}

void ir_nullcheck(IrFunc *f)
{
    for (int i = 0; i < f->blocks.n; i++) {
        Block *nn;
        Ins *p = tested(ir_term(f->blocks.v[i]), &nn);
        if (!p || nn->preds.n != 1)
            continue;
        for (int j = 0; j < f->blocks.n; j++) {
            Block *b = f->blocks.v[j];
            Block *nn2;
            Ins *t = ir_term(b);
            if (b == f->blocks.v[i] || tested(t, &nn2) != p || !dominates(nn, b))
                continue;
            /* decided: the non-null way; the fold pass drops the other */
            Ins *zero = t->a[1];
            t->a[0] = zero;
            t->cc = nn2 == t->succ[0] ? CC_EQ : CC_NE;
        }
    }
}
