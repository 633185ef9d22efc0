/* CFG cleanup: drops unreachable blocks, merges a block into its only
 * predecessor, forwards empty jump-only blocks, turns branches whose two
 * edges meet into jumps, and splits critical edges for SSA destruction. */
#include "ir/ir.h"

#include <string.h>

static void succs(Block *b, Block **s, int *n)
{
    Ins *t = ir_term(b);
    *n = 0;
    if (t && t->op == I_JMP)
        s[(*n)++] = t->succ[0];
    if (t && t->op == I_BR) {
        s[(*n)++] = t->succ[0];
        s[(*n)++] = t->succ[1];
    }
}

static void replace_pred(Block *b, Block *from, Block *to)
{
    for (int k = 0; k < b->preds.n; k++)
        if (b->preds.v[k] == from)
            b->preds.v[k] = to;
}

static bool has_pred(Block *b, Block *p)
{
    for (int k = 0; k < b->preds.n; k++)
        if (b->preds.v[k] == p)
            return true;
    return false;
}

static bool has_phis(Block *b) { return b->ins.n && b->ins.v[0]->op == I_PHI; }

/* A jmp to a block whose only predecessor is this one: one block. */
static bool merge(IrFunc *f, Block *a)
{
    Ins *t = ir_term(a);
    if (!t || t->op != I_JMP)
        return false;
    Block *b = t->succ[0];
    if (b == a || b->preds.n != 1 || b == f->blocks.v[0])
        return false;
    a->ins.n--;
    for (int k = 0; k < b->ins.n; k++) {
        Ins *i = b->ins.v[k];
        if (i->op == I_PHI) {
            i->op = I_COPY;
            i->a[0] = i->args[0];
            i->nargs = 0;
        }
        i->blk = a;
        vpush(a->ins, i);
    }
    Block *s[2];
    int n;
    succs(b, s, &n);
    for (int k = 0; k < n; k++)
        replace_pred(s[k], b, a);
    b->ins.n = 0;
    b->preds.n = 0;
    b->dead = true;
    return true;
}

/* Retargets the edges into an empty `jmp C` block straight to C. */
static bool forward(IrFunc *f, Block *b)
{
    if (b == f->blocks.v[0] || b->ins.n != 1 || b->ins.v[0]->op != I_JMP)
        return false;
    Block *c = b->ins.v[0]->succ[0];
    if (c == b)
        return false;
    int bi = -1;
    for (int k = 0; k < c->preds.n; k++)
        if (c->preds.v[k] == b)
            bi = k;
    bool changed = false;
    for (int k = 0; k < b->preds.n;) {
        Block *p = b->preds.v[k];
        if (has_pred(c, p) && has_phis(c)) {
            k++;
            continue;
        }
        /* every edge p -> b moves at once (a branch may have two) */
        int m = 0;
        for (int j = 0; j < b->preds.n; j++)
            m += b->preds.v[j] == p;
        Ins *t = ir_term(p);
        for (int s = 0; s < 2; s++)
            if ((t->op == I_JMP || t->op == I_BR) && t->succ[s] == b)
                t->succ[s] = c;
        for (int e = 0; e < m; e++) {
            vpush(c->preds, p);
            for (int j = 0; j < c->ins.n && c->ins.v[j]->op == I_PHI; j++) {
                Ins *phi = c->ins.v[j];
                Ins **na = xalloc(sizeof(Ins *) * (size_t)(phi->nargs + 1));
                memcpy(na, phi->args, sizeof(Ins *) * (size_t)phi->nargs);
                na[phi->nargs++] = phi->args[bi];
                phi->args = na;
            }
        }
        int out = 0;
        for (int j = 0; j < b->preds.n; j++)
            if (b->preds.v[j] != p)
                b->preds.v[out++] = b->preds.v[j];
        b->preds.n = out;
        changed = true;
    }
    if (!b->preds.n) {
        ir_remove_pred(c, b);
        b->ins.n = 0;
        b->dead = true;
    }
    return changed;
}

static bool same_targets(Block *b)
{
    Ins *t = ir_term(b);
    if (!t || t->op != I_BR || t->succ[0] != t->succ[1])
        return false;
    ir_remove_pred(t->succ[0], b);
    t->op = I_JMP;
    t->a[0] = t->a[1] = NULL;
    return true;
}

/* Blocks that only return the same constant are one block. */
static bool ret_const(Block *b, int64_t *v)
{
    if (b->dead || !b->ins.n)
        return false;
    for (int k = 0; k + 1 < b->ins.n; k++)
        if (b->ins.v[k]->op != I_CONST)    /* constants die with the block */
            return false;
    Ins *r = b->ins.v[b->ins.n - 1];
    if (r->op != I_RET || !r->a[0] || r->a[0]->op != I_CONST)
        return false;
    *v = r->a[0]->imm;
    return true;
}

static bool merge_returns(IrFunc *f)
{
    bool changed = false;
    for (int i = 0; i < f->blocks.n; i++) {
        int64_t v, w;
        Block *keep = f->blocks.v[i];
        if (!ret_const(keep, &v))
            continue;
        for (int j = i + 1; j < f->blocks.n; j++) {
            Block *b = f->blocks.v[j];
            if (!ret_const(b, &w) || w != v || ir_term(b)->a[0]->w != ir_term(keep)->a[0]->w)
                continue;
            for (int k = 0; k < b->preds.n; k++) {
                Block *p = b->preds.v[k];
                Ins *t = ir_term(p);
                for (int s = 0; s < 2; s++)
                    if ((t->op == I_JMP || t->op == I_BR) && t->succ[s] == b)
                        t->succ[s] = keep;
                vpush(keep->preds, p);
            }
            /* a branch now reaching `keep` twice is folded by same_targets */
            b->preds.n = 0;
            b->ins.n = 0;
            b->dead = true;
            changed = true;
        }
    }
    return changed;
}

void ir_cfg_cleanup(IrFunc *f)
{
    ir_order(f);
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < f->blocks.n; i++) {
            Block *b = f->blocks.v[i];
            if (b->dead)
                continue;
            changed |= same_targets(b);
            changed |= merge(f, b);
            changed |= forward(f, b);
        }
        changed |= merge_returns(f);
        if (changed)
            ir_order(f);
    }
}

/* An edge from a block with several successors to one with several
 * predecessors gets a block of its own, where phi copies can go. */
void ir_split_critical_edges(IrFunc *f)
{
    int n = f->blocks.n;
    for (int i = 0; i < n; i++) {
        Block *b = f->blocks.v[i];
        Ins *t = ir_term(b);
        if (!t || t->op != I_BR)
            continue;
        for (int s = 0; s < 2; s++) {
            Block *c = t->succ[s];
            if (c->preds.n < 2 || !has_phis(c))
                continue;
            Block *mid = ir_new_block(f);
            Ins *j = ir_new_ins(f, I_JMP, 0);
            j->succ[0] = c;
            j->pos = t->pos;
            ir_append(mid, j);
            vpush(mid->preds, b);
            /* only one of possibly two parallel edges moves */
            for (int k = 0; k < c->preds.n; k++)
                if (c->preds.v[k] == b) {
                    c->preds.v[k] = mid;
                    break;
                }
            t->succ[s] = mid;
        }
    }
    ir_order(f);
}

static int size_of(IrFunc *f)
{
    int n = f->blocks.n;
    for (int i = 0; i < f->blocks.n; i++)
        n += f->blocks.v[i]->ins.n;
    return n;
}

void ir_optimize(IrFunc *f)
{
    ir_cfg_cleanup(f);
    for (int round = 0; round < 16; round++) {
        int before = size_of(f);
        ir_copyprop(f);
        ir_fold(f);
        ir_cse(f);
        ir_copyprop(f);
        ir_dce(f);
        ir_cfg_cleanup(f);
        if (size_of(f) == before)
            break;
    }
}
