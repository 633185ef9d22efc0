/* Induction variables: two rewrites that make a counted loop cost what
 * clang's does, in instructions and in what the verifier walks per trip.
 *
 * ir_merge_ivs: two header phis that start equal and step by the same
 * constant on every back edge hold the same value (`words += 1` beside the
 * loop counter), so one replaces the other. Runs with the other passes.
 *
 * ir_reduce_ivs (strength reduction): `base + zext(i * k)`, with i a
 * counter whose range the loop's exit test gives and base a value fixed
 * before the loop plus a constant, becomes a pointer phi that starts at
 * base + i0*k and steps by step*k on the back edge: the body loses the
 * multiply, a move and an add. Only loops with one path per trip.
 * It runs after the bounds pass, on the code the pass accepted, and only
 * on packet and stack pointers, whose constant offsets the verifier tracks
 * exactly (a map value may still be null where the loop is entered). */
#include "ir/ir.h"

#include <string.h>

static bool is_const(Ins *i, int64_t *v)
{
    if (!i || i->op != I_CONST)
        return false;
    *v = i->imm;
    return true;
}

/* x is phi op c (ADD or SUB of a constant, at the phi's width). */
static bool steps(Ins *x, Ins *phi, IrOp *op, int64_t *c)
{
    if (!x || (x->op != I_ADD && x->op != I_SUB) || x->a[0] != phi || x->w != phi->w || !is_const(x->a[1], c))
        return false;
    *op = x->op;
    return true;
}

/* By induction over the entries into the block: if p and q are equal after
 * one entry, then p op c and q op c are equal until the next. */
static bool same_iv(Ins *p, Ins *q)
{
    if (p->w != q->w || p->prov != P_NONE || q->prov != P_NONE || p->nargs != q->nargs)
        return false;
    bool moves = false;
    for (int k = 0; k < p->nargs; k++) {
        Ins *x = p->args[k], *y = q->args[k];
        int64_t cx, cy;
        IrOp ox, oy;
        if (x == y || (is_const(x, &cx) && is_const(y, &cy) && cx == cy))
            continue;
        if (!steps(x, p, &ox, &cx) || !steps(y, q, &oy, &cy) || ox != oy || cx != cy)
            return false;
        moves = true;
    }
    return moves;
}

void ir_merge_ivs(IrFunc *f)
{
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        for (int i = 0; i < bl->ins.n && bl->ins.v[i]->op == I_PHI; i++) {
            Ins *p = bl->ins.v[i];
            for (int j = i + 1; j < bl->ins.n && bl->ins.v[j]->op == I_PHI; j++) {
                Ins *q = bl->ins.v[j];
                if (q->op == I_PHI && same_iv(p, q)) {
                    ir_replace_uses(f, q, p);
                    q->op = I_COPY;     /* q's old step is p's now; dce drops what is unused */
                    q->a[0] = p;
                    q->args = NULL;
                    q->nargs = 0;
                }
            }
        }
    }
}

/* ---- strength reduction ------------------------------------------------- */

typedef struct Counter {
    Ins *phi;
    int64_t step;       /* added on every back edge */
    uint64_t max;       /* the largest value the phi takes (unsigned) */
} Counter;

static bool dominates(Block *a, Block *b)
{
    for (; b; b = b->idom == b ? NULL : b->idom)
        if (a == b)
            return true;
    return false;
}

/* The back edge from pred to h keeps the loop going only while x < n
 * (unsigned): the largest x that reaches h is n - 1. */
static bool guarded(Block *pred, Block *h, Ins *x, uint64_t *lim)
{
    Ins *t = ir_term(pred);
    int64_t n;
    if (!t || t->op != I_BR || t->a[0] != x || t->cw != x->w || !is_const(t->a[1], &n) || t->succ[0] == t->succ[1])
        return false;
    Cond cc = t->succ[0] == h ? t->cc : t->succ[1] == h ? cond_negate(t->cc) : CC_EQ;
    uint64_t un = (uint64_t)n;
    if (cc == CC_ULT && un > 0)
        *lim = un - 1;
    else if (cc == CC_ULE)
        *lim = un;
    else
        return false;
    return true;
}

/* A header phi that starts at constants and, on every back edge, is
 * phi + step (step > 0) under a test that bounds it. */
static bool counter(Ins *phi, Counter *c)
{
    Block *h = phi->blk;
    if (phi->w != 4 && phi->w != 8)
        return false;
    memset(c, 0, sizeof *c);
    c->phi = phi;
    bool back = false;
    for (int k = 0; k < phi->nargs; k++) {
        Ins *a = phi->args[k];
        int64_t v;
        IrOp op;
        uint64_t lim;
        for (int j = 0; j < k; j++)
            if (h->preds.v[j] == h->preds.v[k])
                return false;
        if (is_const(a, &v)) {
            uint64_t u = phi->w == 4 ? (uint32_t)v : (uint64_t)v;
            c->max = u > c->max ? u : c->max;
            continue;
        }
        if (!steps(a, phi, &op, &v) || op != I_ADD || v <= 0 || (c->step && v != c->step)
            || !guarded(h->preds.v[k], h, a, &lim))
            return false;
        c->step = v;
        c->max = lim > c->max ? lim : c->max;
        back = true;
    }
    return back;
}

/* x is the counter as 8 bytes: phi itself when 8 bytes wide, or widened. */
static bool is_counter64(Ins *x, Ins *phi)
{
    return (x == phi && phi->w == 8) || (x->op == I_ZEXT && x->imm == phi->w && x->a[0] == phi);
}

/* t (8 bytes) is the counter times k: counter * k or counter << s,
 * multiplied before or after widening (the counter's range keeps the
 * product from wrapping). Its k, or 0. */
static int64_t scale_of(Ins *t, Ins *phi)
{
    if (is_counter64(t, phi))
        return 1;
    Ins *m = t->op == I_ZEXT && t->imm == phi->w ? t->a[0] : t;
    if (m->op != I_MUL && m->op != I_SHL)
        return 0;
    if (m == t ? !is_counter64(m->a[0], phi) : m->a[0] != phi || m->w != phi->w)
        return 0;
    int64_t k;
    if (m->op == I_MUL && is_const(m->a[1], &k) && k > 0 && k < (1 << 16))
        return k;
    if (m->op == I_SHL && is_const(m->a[1], &k) && k >= 0 && k < 16)
        return (int64_t)1 << k;
    return 0;
}

/* u = base + scaled counter: its scale, or 0. */
static int64_t scaled_use(Ins *u, Ins *phi, Ins **base)
{
    if (u->op != I_ADD || u->w != 8)
        return 0;
    for (int side = 0; side < 2; side++) {
        Ins *t = u->a[1 - side];
        int64_t k = t->w == 8 ? scale_of(t, phi) : 0;
        if (k) {
            *base = u->a[side];
            return k;
        }
    }
    return 0;
}

static void insert_before_term(Block *b, Ins *i)
{
    i->blk = b;
    vpush(b->ins, i);
    int n = b->ins.n;
    b->ins.v[n - 1] = b->ins.v[n - 2];
    b->ins.v[n - 2] = i;
}

static Ins *emit_before_term(IrFunc *f, Block *b, IrOp op, Ins *x, int64_t c, Pos pos)
{
    Ins *k = ir_new_ins(f, I_CONST, 8);
    k->imm = c;
    k->pos = pos;
    insert_before_term(b, k);
    Ins *i = ir_new_ins(f, op, 8);
    i->a[0] = x;
    i->a[1] = k;
    i->prov = x->prov;
    i->ty = x->ty;
    i->pos = pos;
    insert_before_term(b, i);
    return i;
}

/* A stack slot's address is the same wherever it is taken: one more in b. */
static Ins *slot_before_term(IrFunc *f, Block *b, Ins *slot)
{
    Ins *i = ir_new_ins(f, I_SLOT, 8);
    i->imm = slot->imm;
    i->prov = slot->prov;
    i->ty = slot->ty;
    i->slot_size = slot->slot_size;
    i->pos = slot->pos;
    insert_before_term(b, i);
    return i;
}

/* The pointer phi that replaces u = base + i*k. */
static void reduce(IrFunc *f, Counter *c, Ins *u, Ins *base, int64_t base_off, int64_t k)
{
    Block *h = c->phi->blk;
    Ins *a = ir_new_ins(f, I_PHI, 8);
    a->prov = base->prov;
    a->ty = u->ty;
    a->pos = u->pos;
    a->nargs = c->phi->nargs;
    a->args = xalloc(sizeof(Ins *) * (size_t)a->nargs);
    for (int j = 0; j < a->nargs; j++) {
        Ins *x = c->phi->args[j];
        Block *p = h->preds.v[j];
        int64_t v;
        if (is_const(x, &v)) {
            int64_t off = (int64_t)(c->phi->w == 4 ? (uint32_t)v : (uint64_t)v) * k + base_off;
            Ins *b = base->blk && !dominates(base->blk, p) ? slot_before_term(f, p, base) : base;
            a->args[j] = off ? emit_before_term(f, p, I_ADD, b, off, u->pos) : b;
        } else {
            a->args[j] = emit_before_term(f, p, I_ADD, a, c->step * k, u->pos);
        }
    }
    a->blk = h;
    vpush(h->ins, NULL);
    memmove(h->ins.v + 1, h->ins.v, sizeof(Ins *) * (size_t)(h->ins.n - 1));
    h->ins.v[0] = a;
    u->op = I_COPY;     /* u keeps its provenance; copy propagation removes it */
    u->a[0] = a;
    u->a[1] = NULL;
}

/* The blocks of h's loop, marked in body[]: those that reach a back edge
 * into h without passing h. */
static void loop_body(IrFunc *f, Block *h, char *body)
{
    memset(body, 0, (size_t)f->blocks.n);
    VEC(Block *) work = { 0 };
    body[h->id] = 1;
    for (int k = 0; k < h->preds.n; k++)
        if (dominates(h, h->preds.v[k]))
            vpush(work, h->preds.v[k]);
    while (work.n) {
        Block *b = work.v[--work.n];
        if (body[b->id])
            continue;
        body[b->id] = 1;
        for (int k = 0; k < b->preds.n; k++)
            vpush(work, b->preds.v[k]);
    }
}

/* One path through each trip: no branch inside the loop joins again before
 * the back edge, and no inner loop. Where paths join, the verifier prunes
 * the later one when what is live matches; with the address in a stepped
 * pointer, b06's letter-case diamond was walked half again as often
 * (measured), so such loops keep the index form. */
static bool straight_body(IrFunc *f, Block *h)
{
    char *body = xalloc((size_t)f->blocks.n + 1);
    loop_body(f, h, body);
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        if (!body[b])
            continue;
        if (bl->loop_depth != h->loop_depth)
            return false;
        Ins *t = ir_term(bl);
        if (t && t->op == I_BR && t->succ[0] != h && t->succ[1] != h && body[t->succ[0]->id] && body[t->succ[1]->id])
            return false;
    }
    return true;
}

/* Offsets the verifier takes as constants: the reduced pointer must stay
 * within what it allows for the kind (packet offsets below 64 KiB). */
static bool invariant(Ins *x, Block *h)
{
    return x->op == I_SLOT || !x->blk || (x->blk != h && dominates(x->blk, h));
}

/* base as a value fixed before the loop plus a constant (`data + 14`
 * computed in the loop is data, fixed, and 14); false if it is not. */
static bool split_base(Ins *base, Block *h, Ins **root, int64_t *off)
{
    int64_t c;
    *off = 0;
    for (int depth = 0; depth < 4 && !invariant(base, h); depth++) {
        if (base->op != I_ADD || base->w != 8 || !is_const(base->a[1], &c) || c < 0 || c > 0xffff)
            return false;
        *off += c;
        base = base->a[0];
    }
    *root = base;
    return invariant(base, h);
}

static bool reducible(Counter *c, Ins *root, int64_t off, int64_t k)
{
    if (root->prov != P_PKT && root->prov != P_STACK)
        return false;
    uint64_t last = c->max + (uint64_t)c->step;     /* what the counter may reach, and 32-bit wrap */
    return last >= c->max && last <= 0x7fff && last * (uint64_t)k + (uint64_t)off <= 0x7fff;
}

bool ir_reduce_ivs(IrFunc *f)
{
    ir_order(f);
    VEC(Counter) cs = { 0 };
    for (int b = 0; b < f->blocks.n; b++) {
        Block *h = f->blocks.v[b];
        Counter c;
        for (int i = 0; i < h->ins.n && h->ins.v[i]->op == I_PHI; i++)
            if (counter(h->ins.v[i], &c) && straight_body(f, h))
                vpush(cs, c);
    }
    bool changed = false;
    for (int n = 0; n < cs.n; n++) {
        for (int b = 0; b < f->blocks.n; b++) {
            Block *bl = f->blocks.v[b];
            for (int j = 0; j < bl->ins.n; j++) {
                Ins *u = bl->ins.v[j], *base, *root;
                int64_t k = scaled_use(u, cs.v[n].phi, &base), off;
                if (k && split_base(base, cs.v[n].phi->blk, &root, &off) && reducible(&cs.v[n], root, off, k)) {
                    reduce(f, &cs.v[n], u, root, off, k);
                    changed = true;
                }
            }
        }
    }
    return changed;
}
