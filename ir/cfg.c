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

/* Both edges of a branch reach one block: a jump, unless phis there take
 * different values along the two edges. */
static bool same_targets(Block *b)
{
    Ins *t = ir_term(b);
    if (!t || t->op != I_BR || t->succ[0] != t->succ[1])
        return false;
    Block *c = t->succ[0];
    int first = -1, second = -1;
    for (int k = 0; k < c->preds.n; k++)
        if (c->preds.v[k] == b) {
            if (first < 0)
                first = k;
            else
                second = k;
        }
    for (int j = 0; j < c->ins.n && c->ins.v[j]->op == I_PHI && second >= 0; j++)
        if (c->ins.v[j]->args[first] != c->ins.v[j]->args[second])
            return false;
    ir_remove_pred(t->succ[0], b);
    t->op = I_JMP;
    t->a[0] = t->a[1] = NULL;
    return true;
}

/* ---- merging return blocks --------------------------------------------
 * Blocks that end in a return and differ only in constants are one block,
 * with a phi for each constant that differs: `return verdict(XDP_DROP)`
 * written in ten places becomes one call, which the verifier checks once. */

#define MERGE_MAX 12

static int index_in(Block *b, Ins *i)
{
    for (int k = 0; k < b->ins.n; k++)
        if (b->ins.v[k] == i)
            return k;
    return -1;
}

static bool same_operand(Block *a, Ins *x, Block *b, Ins *y)
{
    if (!x || !y)
        return x == y;
    if (x->blk == a && y->blk == b)
        return index_in(a, x) == index_in(b, y);
    return x == y;
}

/* Constants may differ only when there is code to share: a phi costs a
 * move on every incoming edge, no cheaper than `mov r0, C; exit` each. */
static bool similar(Block *a, Block *b)
{
    if (a->ins.n != b->ins.n || a->ins.n > MERGE_MAX)
        return false;
    int code = 0;
    for (int k = 0; k < a->ins.n; k++)
        code += a->ins.v[k]->op != I_CONST;
    for (int k = 0; k < a->ins.n; k++) {
        Ins *x = a->ins.v[k], *y = b->ins.v[k];
        if (x->op != y->op || x->w != y->w || x->mw != y->mw || x->cc != y->cc || x->cw != y->cw
            || x->nargs != y->nargs || x->prov != y->prov || x->op == I_PHI)
            return false;
        if (x->op == I_CONST && (code > 1 || x->imm == y->imm))
            continue;
        if (x->op == I_CONST)
            return false;
        if (x->imm != y->imm || (x->sym != y->sym && (!x->sym || !y->sym || strcmp(x->sym, y->sym))))
            return false;
        for (int j = 0; j < 4; j++)
            if (!same_operand(a, x->a[j], b, y->a[j]))
                return false;
        for (int j = 0; j < x->nargs; j++)
            if (!same_operand(a, x->args[j], b, y->args[j]))
                return false;
    }
    return true;
}

static bool is_return_block(Block *b)
{
    Ins *t = ir_term(b);
    return !b->dead && b->preds.n && t && t->op == I_RET;
}

static Ins *entry_const(IrFunc *f, Ins *like)
{
    Block *entry = f->blocks.v[0];
    Ins *c = ir_new_ins(f, I_CONST, like->w);
    c->imm = like->imm;
    c->blk = entry;
    vpush(entry->ins, NULL);
    memmove(entry->ins.v + 1, entry->ins.v, sizeof(Ins *) * (size_t)(entry->ins.n - 1));
    entry->ins.v[0] = c;
    return c;
}

/* The constants at position k of every member, as one phi in keep. */
static void phi_for(IrFunc *f, Block *keep, BlockVec *group, int k)
{
    Ins *c = keep->ins.v[k];
    Ins *phi = ir_new_ins(f, I_PHI, c->w);
    phi->blk = keep;
    VEC(Ins *) args = { 0 };
    for (int g = 0; g < group->n; g++) {
        Block *m = group->v[g];
        Ins *v = entry_const(f, m->ins.v[k]);
        for (int p = 0; p < m->preds.n; p++)
            vpush(args, v);
    }
    phi->args = args.v;
    phi->nargs = args.n;
    ir_replace_uses(f, c, phi);
    memmove(keep->ins.v + 1, keep->ins.v, sizeof(Ins *) * (size_t)k);
    keep->ins.v[0] = phi;
}

static void merge_group(IrFunc *f, BlockVec *group)
{
    Block *keep = group->v[0];
    int n = keep->ins.n;
    for (int k = 0; k < n; k++) {
        bool differs = false;
        for (int g = 1; g < group->n; g++)
            differs |= keep->ins.v[k]->op == I_CONST && group->v[g]->ins.v[k]->imm != keep->ins.v[k]->imm;
        if (differs)
            phi_for(f, keep, group, k);
    }
    for (int g = 1; g < group->n; g++) {
        Block *b = group->v[g];
        for (int k = 0; k < b->preds.n; k++) {
            Block *p = b->preds.v[k];
            Ins *t = ir_term(p);
            for (int s = 0; s < 2; s++)
                if ((t->op == I_JMP || t->op == I_BR) && t->succ[s] == b)
                    t->succ[s] = keep;
            vpush(keep->preds, p);
        }
        b->preds.n = 0;
        b->ins.n = 0;
        b->dead = true;
    }
}

/* Two edges from one block into the merged block could not carry
 * different phi values: such a block stays apart. */
static bool shares_pred(BlockVec *group, Block *b)
{
    for (int g = 0; g < group->n; g++)
        for (int k = 0; k < b->preds.n; k++)
            if (has_pred(group->v[g], b->preds.v[k]))
                return true;
    return false;
}

static bool merge_returns(IrFunc *f)
{
    bool changed = false;
    for (int i = 0; i < f->blocks.n; i++) {
        Block *keep = f->blocks.v[i];
        if (!is_return_block(keep) || (keep->ins.n && keep->ins.v[0]->op == I_PHI))
            continue;
        BlockVec group = { 0 };
        vpush(group, keep);
        for (int j = i + 1; j < f->blocks.n; j++)
            if (is_return_block(f->blocks.v[j]) && similar(keep, f->blocks.v[j])
                && !shares_pred(&group, f->blocks.v[j]))
                vpush(group, f->blocks.v[j]);
        if (group.n < 2)
            continue;
        merge_group(f, &group);
        changed = true;
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
        ir_nullcheck(f);
        ir_fold(f);
        ir_merge_ivs(f);
        ir_cse(f);
        ir_reuse_loads(f);
        ir_copyprop(f);
        ir_dce(f);
        ir_cfg_cleanup(f);
        if (size_of(f) == before)
            break;
    }
}
