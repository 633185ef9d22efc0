/* Abstract values and the facts branches establish. A value's range is
 * computed once, where it is defined (SSA values never change); what a
 * later branch proves about it is a fact that holds in every block the
 * branch's edge dominates. The verifier itself is path-sensitive, so it
 * knows at least as much as these facts say: the pass may ask for a check
 * the verifier would not need, but never lets through one it would. */
#include "ir/bounds.h"

#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

/* ---- set-up ------------------------------------------------------------ */

/* Which low bytes of each value's register may be non-zero, exactly as
 * bpf_backend/isel.c works it out: a compare of a narrow value whose upper
 * bytes may be dirty goes through a masked copy, and then the verifier
 * learns nothing about the value itself. */
static int const_zx(Ins *v)
{
    if (v->w < 8)
        return v->w;
    uint64_t x = (uint64_t)v->imm;
    return x <= 0xff ? 1 : x <= 0xffff ? 2 : x <= 0xffffffff ? 4 : 8;
}

static int zx_of(BFunc *bf, Ins *i)
{
    uint8_t *zx = bf->zx;
#define ZX(v) ((v)->op == I_CONST ? const_zx(v) : zx[(v)->id])
    switch (i->op) {
    case I_CONST: return const_zx(i);
    case I_LOAD: return i->mw;
    case I_SETCC: return 1;
    case I_ZEXT: return ZX(i->a[0]) < i->imm ? ZX(i->a[0]) : (int)i->imm;
    case I_BSWAP: return (int)i->imm / 8;
    case I_AND: {
        int a = ZX(i->a[0]), b = ZX(i->a[1]);
        int m = a < b ? a : b;
        return m < i->w ? m : (i->w < 4 ? 4 : i->w);
    }
    case I_SHR: case I_UDIV: case I_UMOD: return i->w <= 4 ? i->w : 8;
    case I_COPY: return ZX(i->a[0]);
    case I_PHI: {
        int m = 1;
        for (int k = 0; k < i->nargs; k++)
            if (i->args[k] && i->args[k] != i && ZX(i->args[k]) > m)
                m = ZX(i->args[k]);
        return m;
    }
    case I_ADD: case I_SUB: case I_MUL: case I_OR: case I_XOR: case I_SHL: case I_NEG: case I_NOT:
    case I_SAR: case I_SDIV: case I_SMOD: case I_SEXT:
        return i->w == 4 ? 4 : 8;
    default: return 8;
    }
#undef ZX
}

static void compute_zx(BFunc *bf)
{
    IrFunc *f = bf->f;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            bf->zx[i->id] = i->op == I_PHI ? 1 : 8;
        }
    for (int round = 0; round < 32; round++) {
        bool changed = false;
        for (int b = 0; b < f->blocks.n; b++)
            for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
                Ins *i = f->blocks.v[b]->ins.v[k];
                int z = zx_of(bf, i);
                if (z != bf->zx[i->id]) {
                    bf->zx[i->id] = (uint8_t)z;
                    changed = true;
                }
            }
        if (!changed)
            break;
    }
}

/* Pre/post numbers of the dominator tree, so that dominance is two
 * compares. Blocks are in RPO with idom set (ir_order). */
static void number_dominators(BFunc *bf)
{
    IrFunc *f = bf->f;
    int n = f->blocks.n;
    int *nkids = xalloc(sizeof(int) * (size_t)(n + 1)), *first = xalloc(sizeof(int) * (size_t)(n + 1));
    int *kids = xalloc(sizeof(int) * (size_t)(n + 1));
    for (int i = 1; i < n; i++)
        if (f->blocks.v[i]->idom)
            nkids[f->blocks.v[i]->idom->id]++;
    for (int i = 1; i <= n; i++)
        first[i] = first[i - 1] + nkids[i - 1];
    int *fill = xalloc(sizeof(int) * (size_t)(n + 1));
    for (int i = 1; i < n; i++) {
        Block *d = f->blocks.v[i]->idom;
        if (d)
            kids[first[d->id] + fill[d->id]++] = i;
    }
    int *stack = xalloc(sizeof(int) * (size_t)(n + 1)), *next = xalloc(sizeof(int) * (size_t)(n + 1));
    int sp = 0, clock = 0;
    stack[sp++] = 0;
    bf->dpre[0] = clock++;
    while (sp) {
        int b = stack[sp - 1];
        if (next[b] < nkids[b]) {
            int c = kids[first[b] + next[b]++];
            bf->dpre[c] = clock++;
            stack[sp++] = c;
        } else {
            bf->dpost[b] = clock++;
            sp--;
        }
    }
}

void bstate_init(BFunc *bf, IrProgram *ip, IrFunc *f)
{
    bf->ip = ip;
    bf->f = f;
    size_t nv = (size_t)f->nvals + 1, nb = (size_t)f->blocks.n + 1;
    bf->val = xalloc(sizeof(AVal) * nv);
    bf->zx = xalloc(nv);
    bf->widen = xalloc(sizeof(int) * nv);
    bf->nkeys = f->nvals + 1;
    for (int k = 0; k < 3; k++)
        bf->head[k] = xalloc(sizeof(int) * (size_t)bf->nkeys);
    bf->dpre = xalloc(sizeof(int) * nb);
    bf->dpost = xalloc(sizeof(int) * nb);
    bf->reach = xalloc(nb);
    bf->edges = xalloc(nb);
    compute_zx(bf);
    number_dominators(bf);
    bstate_clear_facts(bf);
}

void bstate_clear_facts(BFunc *bf)
{
    for (int k = 0; k < 3; k++)
        memset(bf->head[k], 0xff, sizeof(int) * (size_t)bf->nkeys);
    bf->facts.n = 0;
    bf->undo.n = 0;
}

/* Does position a (after instruction aidx of block ablk) come before
 * position b on every path to b? */
bool bstate_dominates(BFunc *bf, int ablk, int aidx, int bblk, int bidx)
{
    if (ablk == bblk)
        return aidx < bidx;
    return bf->dpre[ablk] < bf->dpre[bblk] && bf->dpost[bblk] < bf->dpost[ablk];
}

void fact_add(BFunc *bf, FactKind k, int key, int blk, int idx, Rng v, Rng l, int64_t bytes)
{
    Fact ft = { bf->head[k][key], blk, idx, v, l, bytes, NULL, 0 };
    vpush(bf->facts, ft);
    vpush(bf->undo, (int)k);
    vpush(bf->undo, key);
    bf->head[k][key] = bf->facts.n - 1;
}

int fact_mark(BFunc *bf) { return bf->facts.n; }

void fact_undo(BFunc *bf, int mark)
{
    while (bf->facts.n > mark) {
        int key = bf->undo.v[--bf->undo.n], k = bf->undo.v[--bf->undo.n];
        bf->head[k][key] = bf->facts.v[--bf->facts.n].next;
    }
}

/* The verifier has proven the bytes up to rel_need past p: on each path,
 * past p's own fixed offset there. Kept both as bytes from the group's
 * base (the fewest over the paths) and relative to p's exact base. */
void pkt_fact(BFunc *bf, const AVal *p, int blk, int idx, int64_t rel_need)
{
    fact_add(bf, F_PKT, p->pkt0 ? PKT0_KEY(bf) : p->root->id, blk, idx, rng_empty(), rng_empty(),
             p->off + rel_need);
    Fact *ft = &bf->facts.v[bf->facts.n - 1];
    ft->rel = p->xbase;
    ft->rel_bytes = p->xdelta + rel_need;
}

/* ---- values at a position ---------------------------------------------- */

static AVal scalar_of(Rng v, Rng l, int w)
{
    AVal a = { 0 };
    a.kind = AK_SCALAR;
    a.v = v;
    a.l = rng_is_empty(l) || rng_eq(l, v) ? l : rng_meet(l, v, w);
    a.size = -1;
    return a;
}

static AVal exact_of(Rng v, Rng l, int w, bool exact)
{
    AVal a = scalar_of(v, l, w);
    a.exact = exact;
    return a;
}

static AVal const_val(Ins *c)
{
    AVal a = { 0 };
    a.kind = AK_SCALAR;
    a.v = a.l = rng_const((uint64_t)c->imm, c->w ? c->w : 8);
    a.exact = true;
    a.size = -1;
    return a;
}

AVal aval_at_pos(BFunc *bf, Ins *v, int blk, int idx)
{
    if (v->op == I_CONST)
        return const_val(v);
    AVal a = bf->val[v->id];
    if (a.kind != AK_SCALAR)
        return a;
    for (int k = bf->head[F_RANGE][v->id]; k >= 0; k = bf->facts.v[k].next) {
        Fact *ft = &bf->facts.v[k];
        if (!bstate_dominates(bf, ft->blk, ft->idx, blk, idx))
            continue;
        a.v = rng_meet(a.v, ft->v, v->w);
        a.l = rng_is_empty(a.l) ? a.l : rng_meet(a.l, ft->l, v->w);
    }
    return a;
}

AVal aval_at(BFunc *bf, Ins *v) { return aval_at_pos(bf, v, bf->cur_blk, bf->cur_idx); }

bool nonnull_at(BFunc *bf, Ins *root, int blk, int idx)
{
    if (!root)
        return true;
    for (int k = bf->head[F_NONNULL][root->id]; k >= 0; k = bf->facts.v[k].next) {
        Fact *ft = &bf->facts.v[k];
        if (bstate_dominates(bf, ft->blk, ft->idx, blk, idx))
            return true;
    }
    return false;
}

static int index_in_block(Ins *i)
{
    Block *b = i->blk;
    for (int k = 0; k < b->ins.n; k++)
        if (b->ins.v[k] == i)
            return k;
    return -1;
}

/* Does fact ft apply to packet pointer p at a position? Every pointer
 * from ctx->data shares one verifier id: a compare through any of them
 * proves the bytes for all that exist at that point. */
static bool pkt_fact_applies(BFunc *bf, const AVal *p, Fact *ft, int blk, int idx)
{
    if (!bstate_dominates(bf, ft->blk, ft->idx, blk, idx))
        return false;
    if (!p->pkt0)
        return true;
    int rblk = p->root->blk ? p->root->blk->id : 0;
    return bstate_dominates(bf, rblk, index_in_block(p->root) - 1, ft->blk, ft->idx + 1);
}

static int pkt_key(BFunc *bf, const AVal *p) { return p->pkt0 ? PKT0_KEY(bf) : p->root->id; }

/* Bytes of packet the verifier knows are there, from the base of p's
 * group, on every path. */
int64_t pkt_bytes_at(BFunc *bf, const AVal *p, int blk, int idx)
{
    int64_t best = 0;
    for (int k = bf->head[F_PKT][pkt_key(bf, p)]; k >= 0; k = bf->facts.v[k].next) {
        Fact *ft = &bf->facts.v[k];
        if (ft->bytes > best && pkt_fact_applies(bf, p, ft, blk, idx))
            best = ft->bytes;
    }
    return best;
}

/* Are the bytes up to rel_need past p proven? */
bool pkt_proven(BFunc *bf, const AVal *p, int64_t rel_need, int blk, int idx)
{
    int64_t need = p->off_hi + rel_need;
    for (int k = bf->head[F_PKT][pkt_key(bf, p)]; k >= 0; k = bf->facts.v[k].next) {
        Fact *ft = &bf->facts.v[k];
        bool enough = ft->bytes >= need || (p->xbase && ft->rel == p->xbase && ft->rel_bytes >= p->xdelta + rel_need);
        if (enough && pkt_fact_applies(bf, p, ft, blk, idx))
            return true;
    }
    return false;
}

/* ---- transfer functions -------------------------------------------- */

Ins *ptr_root(Ins *v)
{
    while (v && v->op == I_COPY && v->a[0])
        v = v->a[0];
    return v;
}

static AVal pointer(Prov prov, Ins *root, int64_t size)
{
    AVal a = { 0 };
    a.kind = AK_PTR;
    a.prov = (uint8_t)prov;
    a.root = root;
    a.size = size;
    a.v = a.l = rng_const(0, 8);
    return a;
}

static AVal unchecked(void) { return pointer(P_NONE, NULL, -1); }

static Global *global_named(BFunc *bf, const char *name)
{
    Program *p = bf->ip->prog;
    for (int i = 0; p && i < p->globals.n; i++)
        if (!strcmp(p->globals.v[i]->name, name))
            return p->globals.v[i];
    return NULL;
}

/* Sizes by value id, looked up by name once per function. */
static int64_t cached_size(BFunc *bf, Ins *i, int64_t (*find)(BFunc *, Ins *))
{
    if (!bf->sizes) {
        bf->sizes = xalloc(sizeof(int64_t) * (size_t)(bf->f->nvals + 1));
        for (int k = 0; k <= bf->f->nvals; k++)
            bf->sizes[k] = -2;
    }
    if (i->id > bf->f->nvals)
        return find(bf, i);
    if (bf->sizes[i->id] == -2)
        bf->sizes[i->id] = find(bf, i);
    return bf->sizes[i->id];
}

static int64_t find_map_value_size(BFunc *bf, Ins *map)
{
    Global *g = global_named(bf, map->sym);
    if (!g || g->ty->kind != TY_MAP || !g->ty->base)
        return -1;
    return g->ty->base->size;
}

int64_t map_value_size(BFunc *bf, Ins *map)
{
    if (!map || map->op != I_MAP || !map->sym)
        return -1;
    return cached_size(bf, map, find_map_value_size);
}

static int64_t find_global_size(BFunc *bf, Ins *g)
{
    if (g->prov == P_RODATA && g->sym && !strncmp(g->sym, "__ksc_str", 9)) {
        int idx = atoi(g->sym + 9);
        return idx < bf->ip->string_lens.n ? bf->ip->string_lens.v[idx] + 1 : -1;
    }
    Global *gl = g->sym ? global_named(bf, g->sym) : NULL;
    if (gl && gl->ty && gl->ty->kind != TY_MAP)
        return gl->ty->size;
    return -1;
}

static AVal call_result(BFunc *bf, Ins *i)
{
    if (i->op == I_CALL_HELPER && i->imm == BPF_FUNC_map_lookup_elem) {
        AVal a = pointer(P_MAP_VALUE, i, i->nargs ? map_value_size(bf, i->args[0]) : -1);
        a.maybe_null = true;
        return a;
    }
    if (i->op == I_CALL_HELPER && i->imm == BPF_FUNC_ringbuf_reserve) {
        AVal a = pointer(P_RINGBUF, i, i->nargs > 1 && i->args[1]->op == I_CONST ? i->args[1]->imm : -1);
        a.maybe_null = true;
        return a;
    }
    if (i->op == I_CALL_KFUNC && i->prov) {
        AVal a = pointer(P_NONE, i, -1);
        a.maybe_null = kfunc_may_return_null(i->sym);
        return a;
    }
    if (i->prov)
        return unchecked();
    return scalar_of(rng_full(i->w ? i->w : 8), rng_full(i->w ? i->w : 8), i->w ? i->w : 8);
}

static AVal load_result(BFunc *bf, Ins *i)
{
    AVal base = aval_at(bf, i->a[0]);
    if (base.kind == AK_PTR && base.prov == P_CTX && (i->prov == P_PKT || i->prov == P_PKT_END)) {
        AVal a = pointer((Prov)i->prov, i, -1);
        a.pkt0 = i->prov == P_PKT;
        return a;
    }
    if (i->prov)
        return unchecked();
    int w = i->w ? i->w : 8;
    int mw = i->mw && i->mw < w ? i->mw : w;
    Rng r = rng_unsigned(0, rng_mask(mw), w);
    return scalar_of(r, r, w);
}

/* p + s: a value the verifier knows exactly on each path (a constant, a
 * loop counter) moves the fixed offset; anything else is a variable
 * offset, and for a packet a new group (a new verifier id). */
static AVal ptr_add(Ins *i, AVal p, AVal s, bool negate)
{
    Rng sv = rng_view(s.v, 8, 8), sl = rng_view(s.l, 8, 8);
    if (s.exact && !rng_is_empty(sv) && sv.smin > -(1LL << 40) && sv.smax < (1LL << 40)) {
        p.off += negate ? -sv.smax : sv.smin;
        p.off_hi += negate ? -sv.smin : sv.smax;
        if (sv.smin == sv.smax) {
            p.xdelta += negate ? -sv.smin : sv.smin;
        } else {
            p.xbase = i;
            p.xdelta = 0;
        }
        return p;
    }
    if (negate) {
        sv = rng_binop(I_SUB, rng_const(0, 8), sv, 8, false);
        sl = rng_binop(I_SUB, rng_const(0, 8), sl, 8, true);
    }
    p.v = rng_binop(I_ADD, p.v, sv, 8, false);
    p.l = rng_binop(I_ADD, p.l, sl, 8, true);
    if (p.prov == P_PKT) {
        p.root = i;
        p.pkt0 = false;
    }
    return p;
}

static AVal widen_scalar(AVal a, Ins *op, int w)
{
    if (op->w == w || a.kind != AK_SCALAR)
        return a;
    a.v = rng_view(a.v, op->w ? op->w : 8, w);
    a.l = rng_view(a.l, op->w ? op->w : 8, w);
    return a;
}

static AVal arith(BFunc *bf, Ins *i)
{
    int w = i->w ? i->w : 8;
    AVal a = aval_at(bf, i->a[0]), b = aval_at(bf, i->a[1]);
    if (a.kind == AK_NONE || b.kind == AK_NONE)
        return (AVal){ 0 };
    if (i->op == I_ADD && a.kind == AK_PTR && b.kind == AK_SCALAR && w == 8)
        return ptr_add(i, a, widen_scalar(b, i->a[1], 8), false);
    if (i->op == I_ADD && b.kind == AK_PTR && a.kind == AK_SCALAR && w == 8)
        return ptr_add(i, b, widen_scalar(a, i->a[0], 8), false);
    if (i->op == I_SUB && a.kind == AK_PTR && b.kind == AK_SCALAR && w == 8)
        return ptr_add(i, a, widen_scalar(b, i->a[1], 8), true);
    if (a.kind != AK_SCALAR || b.kind != AK_SCALAR)
        return scalar_of(rng_full(w), rng_full(w), w);
    a = widen_scalar(a, i->a[0], w);
    b = widen_scalar(b, i->a[1], w);
    bool divides = i->op == I_UDIV || i->op == I_SDIV || i->op == I_UMOD || i->op == I_SMOD;
    return exact_of(rng_binop(i->op, a.v, b.v, w, false), rng_binop(i->op, a.l, b.l, w, true), w,
                    a.exact && b.exact && !divides);
}

static AVal unary(BFunc *bf, Ins *i)
{
    int w = i->w ? i->w : 8;
    AVal a = aval_at(bf, i->a[0]);
    if (a.kind == AK_NONE)
        return a;
    if (a.kind == AK_PTR)
        return i->op == I_COPY && w == 8 ? a : scalar_of(rng_full(w), rng_full(w), w);
    if (i->op == I_NEG || i->op == I_NOT) {
        a = widen_scalar(a, i->a[0], w);
        return exact_of(rng_unop(i->op, a.v, w, w), rng_unop(i->op, a.l, w, w), w, a.exact);
    }
    int from = i->op == I_COPY ? (i->a[0]->w ? i->a[0]->w : 8) : (int)i->imm;
    if (i->op != I_COPY && i->op != I_ZEXT && i->op != I_SEXT)
        return scalar_of(rng_full(w), rng_full(w), w);
    if (i->op != I_COPY && from != i->a[0]->w)
        a = widen_scalar(a, i->a[0], from);
    return exact_of(rng_unop(i->op, a.v, from, w), rng_unop(i->op, a.l, from, w), w, a.exact);
}

AVal aval_eval(BFunc *bf, Ins *i)
{
    int w = i->w ? i->w : 8;
    switch (i->op) {
    case I_CONST: return const_val(i);
    case I_ARG: {
        AVal a;
        if (i == bf->f->ctx)
            return pointer(P_CTX, i, -1);
        if (calls_param(bf, i, &a))
            return a;
        return i->prov ? unchecked() : scalar_of(rng_full(w), rng_full(w), w);
    }
    case I_COPY: case I_ZEXT: case I_SEXT: case I_NEG: case I_NOT: case I_BSWAP: return unary(bf, i);
    case I_ADD: case I_SUB: case I_MUL: case I_UDIV: case I_SDIV: case I_UMOD: case I_SMOD:
    case I_AND: case I_OR: case I_XOR: case I_SHL: case I_SHR: case I_SAR:
        return arith(bf, i);
    case I_SETCC: {
        Rng r = rng_unsigned(0, 1, w);
        return exact_of(r, r, w, true);
    }
    case I_SELECT: {
        AVal a = aval_at(bf, i->a[2]), b = aval_at(bf, i->a[3]);
        if (a.kind == AK_SCALAR && b.kind == AK_SCALAR)
            return exact_of(rng_join(a.v, b.v), rng_join(a.l, b.l), w, a.exact && b.exact);
        return unchecked();
    }
    case I_LOAD: return load_result(bf, i);
    case I_SLOT: {
        /* temporaries share slots in 8-byte units (lower_expr.c) */
        int s = (int)i->imm;
        Slot *sl = s >= 0 && s < bf->f->slots.n ? &bf->f->slots.v[s] : NULL;
        return pointer(P_STACK, i, !sl ? -1 : sl->var ? sl->size : (sl->size + 7) & ~7);
    }
    case I_MAP: return pointer(P_MAP, i, -1);
    case I_GLOBAL: {
        AVal a = pointer((Prov)(i->prov ? i->prov : P_GLOBAL), i, cached_size(bf, i, find_global_size));
        a.off = a.off_hi = i->imm;
        return a;
    }
    case I_FUNC_ADDR: return unchecked();
    case I_CALL_HELPER: case I_CALL: case I_CALL_KFUNC:
        return i->w ? call_result(bf, i) : (AVal){ 0 };
    case I_PHI: return aval_phi(bf, i);
    default: return (AVal){ 0 };
    }
}

/* ---- phis ---------------------------------------------------------- */

static int pred_index(Block *b, int k, Block **pred)
{
    *pred = b->preds.v[k];
    Ins *t = ir_term(*pred);
    if (t && t->op == I_BR && t->succ[0] == b && t->succ[1] == b)
        return -1;      /* both edges: no fact either way */
    return t && t->op == I_BR && t->succ[1] == b ? 1 : 0;
}

static bool edge_feasible(BFunc *bf, Block *pred, int s)
{
    if (!bf->reach[pred->id])
        return false;
    return s < 0 ? (bf->edges[pred->id] & 3) != 0 : (bf->edges[pred->id] >> s) & 1;
}

/* The incoming value of a phi on one edge: as seen at the end of the
 * predecessor, plus what that edge's own compare proves. */
static AVal incoming(BFunc *bf, Ins *phi, int k, bool *feasible)
{
    Block *pred;
    int s = pred_index(phi->blk, k, &pred);
    *feasible = edge_feasible(bf, pred, s);
    if (!*feasible || !phi->args[k] || phi->args[k] == phi)
        return (AVal){ 0 };
    Ins *arg = phi->args[k];
    AVal a = aval_at_pos(bf, arg, pred->id, pred->ins.n);
    if (a.kind == AK_PTR && a.maybe_null && nonnull_at(bf, a.root, pred->id, pred->ins.n))
        a.maybe_null = false;
    if (s >= 0)
        edge_refine(bf, pred, s, arg, &a);
    return a;
}

/* Joins pointers. Into the same object (the same packet group), the
 * fixed offsets span the paths. Into different objects, the phi is an
 * object of its own: a packet group whose proven bytes are what every
 * incoming pointer has left, or a pointer checked only for null. */
static AVal join_pointers(BFunc *bf, Ins *phi, AVal *in, Block **preds, int n)
{
    AVal r = in[0];
    bool same = true;
    for (int k = 1; k < n; k++)
        same &= in[k].root == r.root && in[k].prov == r.prov && in[k].pkt0 == r.pkt0;
    if (same) {
        bool one_base = true;
        for (int k = 1; k < n; k++) {
            one_base &= in[k].xbase == r.xbase && in[k].xdelta == r.xdelta && in[k].off == r.off;
            r.off = in[k].off < r.off ? in[k].off : r.off;
            r.off_hi = in[k].off_hi > r.off_hi ? in[k].off_hi : r.off_hi;
            r.v = rng_join(r.v, in[k].v);
            r.l = rng_join(r.l, in[k].l);
            r.maybe_null |= in[k].maybe_null;
        }
        if (!one_base) {    /* each path brings its own fixed offset */
            r.xbase = r.off == r.off_hi ? NULL : phi;
            r.xdelta = 0;
        }
        return r;
    }
    AVal p = pointer((Prov)r.prov, phi, -1);
    int64_t bytes = INT64_MAX, size = INT64_MAX;
    Rng span = rng_empty(), lspan = rng_empty();
    for (int k = 0; k < n; k++) {
        if (in[k].prov != r.prov)
            p.prov = P_NONE;
        p.maybe_null |= in[k].maybe_null;
        Rng fixed = rng_unsigned((uint64_t)in[k].off, (uint64_t)in[k].off_hi, 8);
        if (in[k].off < 0)
            fixed = rng_full(8);
        Rng o = rng_binop(I_ADD, in[k].v, fixed, 8, false);
        span = rng_join(span, o);
        lspan = rng_join(lspan, rng_binop(I_ADD, in[k].l, fixed, 8, true));
        if (in[k].prov == P_PKT && in[k].root) {
            int64_t left = pkt_bytes_at(bf, &in[k], preds[k]->id, preds[k]->ins.n) - in[k].off_hi;
            bytes = left < bytes ? left : bytes;
        }
        int64_t room = in[k].size < 0 || o.smin < 0 ? -1 : in[k].size - (int64_t)o.umax;
        size = room < 0 || size < 0 ? -1 : room < size ? room : size;
    }
    if (p.prov == P_PKT) {
        p.v = span;
        p.l = lspan;
        fact_add(bf, F_PKT, phi->id, phi->blk->id, -1, rng_empty(), rng_empty(), bytes > 0 ? bytes : 0);
        return p;
    }
    p.size = size == INT64_MAX ? -1 : size;
    if (p.prov == P_STACK || p.prov == P_MAP_VALUE || p.prov == P_GLOBAL || p.prov == P_RINGBUF)
        p.prov = P_NONE;    /* the object differs by path: only nullness is checked */
    return p;
}

/* A phi of null and a pointer is a pointer that may be null. */
static AVal join_mixed(Ins *phi, AVal *in, int n)
{
    AVal p = unchecked();
    p.root = phi;
    for (int k = 0; k < n; k++) {
        uint64_t c;
        if (in[k].kind == AK_PTR && in[k].prov != P_NONE && p.prov == P_NONE)
            p.prov = in[k].prov == P_PKT ? P_NONE : in[k].prov;
        if (in[k].kind == AK_PTR)
            p.maybe_null |= in[k].maybe_null;
        else if (!rng_is_const(in[k].v, &c) || c == 0)
            p.maybe_null = true;
    }
    if (p.prov == P_STACK || p.prov == P_MAP_VALUE || p.prov == P_GLOBAL || p.prov == P_RINGBUF)
        p.prov = P_NONE;
    return p;
}

/* A phi that keeps growing is widened, so loops reach a fixed point.
 * The verifier, though, walks a loop iteration by iteration: where the
 * iterations are few and known, each pass adds one, and the phi may grow
 * that many times before widening is needed. */
typedef enum { GROW, WIDEN, FREEZE } Growth;

static Growth growth(BFunc *bf, Ins *phi)
{
    int trips = bf->trips ? bf->trips[phi->blk->id] : 0;
    if (bf->force_widen)
        return WIDEN;
    if (++bf->widen[phi->id] <= (trips ? trips + 1 : 2))
        return GROW;
    return trips ? FREEZE : WIDEN;
}

/* A phi whose loop has run all its iterations keeps what it has, plus
 * what still comes in from outside the loop. */
static AVal frozen(BFunc *bf, Ins *phi, AVal old)
{
    for (int k = 0; k < phi->nargs; k++) {
        Block *p = phi->blk->preds.v[k];
        bool ok;
        if (bstate_dominates(bf, phi->blk->id, -1, p->id, 0))
            continue;   /* a back edge */
        AVal a = incoming(bf, phi, k, &ok);
        if (a.kind == AK_SCALAR && old.kind == AK_SCALAR) {
            old.v = rng_join(old.v, a.v);
            old.l = rng_join(old.l, a.l);
            old.exact &= a.exact;
        }
    }
    return old;
}

AVal aval_phi(BFunc *bf, Ins *phi)
{
    int n = phi->nargs;
    if (n > bf->nscratch) {     /* reused by every phi: no allocation per visit */
        bf->nscratch = n * 2;
        bf->scratch_in = xalloc(sizeof(AVal) * (size_t)bf->nscratch);
        bf->scratch_preds = xalloc(sizeof(Block *) * (size_t)bf->nscratch);
    }
    AVal *in = bf->scratch_in;
    Block **preds = bf->scratch_preds;
    int m = 0, nptr = 0;
    for (int k = 0; k < n; k++) {
        bool ok;
        AVal a = incoming(bf, phi, k, &ok);
        if (a.kind == AK_NONE)
            continue;
        preds[m] = phi->blk->preds.v[k];
        in[m++] = a;
        nptr += a.kind == AK_PTR;
    }
    if (!m)
        return (AVal){ 0 };
    int w = phi->w ? phi->w : 8;
    AVal old = bf->val[phi->id];
    if (nptr == m) {
        AVal r = join_pointers(bf, phi, in, preds, m);
        bool moved = !rng_eq(old.v, r.v) || old.off != r.off || old.off_hi != r.off_hi;
        Growth g = old.kind == AK_PTR && old.root == r.root && moved ? growth(bf, phi) : GROW;
        if (g == FREEZE)
            return old;
        if (g == WIDEN) {
            r.v = rng_widen(old.v, r.v, 8);
            r.l = rng_widen(old.l, r.l, 8);
            if (r.off < old.off)
                r.off = -(1LL << 32);
            if (r.off_hi > old.off_hi)
                r.off_hi = 1LL << 32;
        }
        return r;
    }
    if (nptr)
        return join_mixed(phi, in, m);
    AVal r = in[0];
    for (int k = 1; k < m; k++) {
        r.v = rng_join(r.v, in[k].v);
        r.l = rng_join(r.l, in[k].l);
        r.exact &= in[k].exact;
    }
    Growth g = old.kind == AK_SCALAR && (!rng_eq(old.v, r.v) || !rng_eq(old.l, r.l)) ? growth(bf, phi) : GROW;
    if (g == FREEZE)
        return frozen(bf, phi, old);
    if (g == WIDEN) {
        r.v = rng_widen(old.v, r.v, w);
        r.l = rng_widen(old.l, r.l, w);
    }
    return exact_of(r.v, r.l, w, r.exact);
}

/* ---- what a branch proves ------------------------------------------ */

/* Is the compare done on v's own register (so the verifier learns about
 * v), or on a masked copy? See compute_zx. */
static bool compares_own_register(BFunc *bf, Ins *v, int cw)
{
    return cw >= 4 || v->op == I_CONST || bf->zx[v->id] <= cw;
}

static bool is_null_const(Ins *v) { return v->op == I_CONST && v->imm == 0; }

/* The refined ranges of a and b on the edge where `a cc b` is `taken`. */
static void refine_pair(BFunc *bf, Ins *t, bool taken, AVal *a, AVal *b)
{
    int cw = t->cw ? t->cw : 8;
    Rng av = rng_view(a->v, t->a[0]->w ? t->a[0]->w : 8, cw), bv = rng_view(b->v, t->a[1]->w ? t->a[1]->w : 8, cw);
    Rng al = rng_view(a->l, t->a[0]->w ? t->a[0]->w : 8, cw), bl = rng_view(b->l, t->a[1]->w ? t->a[1]->w : 8, cw);
    rng_refine(t->cc, taken, &av, &bv, cw);
    rng_refine(t->cc, taken, &al, &bl, cw);
    Ins *ops[2] = { t->a[0], t->a[1] };
    AVal *vals[2] = { a, b };
    Rng nv[2] = { av, bv }, nl[2] = { al, bl };
    for (int k = 0; k < 2; k++) {
        int w = ops[k]->w ? ops[k]->w : 8;
        if (w < cw || (w > cw && vals[k]->v.umax > rng_mask(cw)))
            continue;   /* only part of the value was compared */
        if (compares_own_register(bf, ops[k], cw))
            vals[k]->v = rng_meet(vals[k]->v, rng_view(nv[k], cw, w), w);
        if (!rng_is_empty(vals[k]->l))
            vals[k]->l = rng_meet(vals[k]->l, rng_view(nl[k], cw, w), w);
    }
}

/* A packet pointer compared with ctx->data_end: on the edge where the
 * pointer is at most the end, its offset is proven (find_good_pkt_pointers). */
static bool pkt_edge(Ins *t, AVal a, AVal b, bool taken, AVal *p, int64_t *bytes)
{
    Cond cc = t->cc;
    if (a.kind != AK_PTR || b.kind != AK_PTR || (t->cw && t->cw != 8))
        return false;
    if (a.prov == P_PKT_END && b.prov == P_PKT) {
        AVal x = a;
        a = b;
        b = x;
        cc = cond_swap(cc);
    }
    if (a.prov != P_PKT || b.prov != P_PKT_END)
        return false;
    if (!taken)
        cc = cond_negate(cc);
    /* now: on this edge, `p cc end` holds */
    bool at_most = cc == CC_ULE || cc == CC_ULT || cc == CC_SLE || cc == CC_SLT || cc == CC_EQ;
    if (!at_most || a.off <= 0)
        return false;
    if (a.v.smin < 0 || a.v.umax > 0xffff || a.v.umax + (uint64_t)a.off_hi > 0xffff)
        return false;
    *p = a;
    *bytes = a.off;
    return true;
}

/* Facts of the edge from `from` to its successor `succ`, recorded at the
 * entry of block at_blk (the successor, which has no other predecessor). */
void edge_facts(BFunc *bf, Block *from, int succ, int at_blk)
{
    Ins *t = ir_term(from);
    if (!t || t->op != I_BR || t->succ[0] == t->succ[1])
        return;
    bool taken = succ == 0;
    int end = from->ins.n;
    AVal a = aval_at_pos(bf, t->a[0], from->id, end), b = aval_at_pos(bf, t->a[1], from->id, end);
    if (a.kind == AK_NONE || b.kind == AK_NONE)
        return;
    Ins *ptr = NULL;
    if (a.kind == AK_PTR && is_null_const(t->a[1]))
        ptr = a.root;
    else if (b.kind == AK_PTR && is_null_const(t->a[0]))
        ptr = b.root;
    if (ptr && (t->cc == CC_EQ || t->cc == CC_NE) && (t->cc == CC_NE) == taken) {
        fact_add(bf, F_NONNULL, ptr->id, at_blk, -1, rng_empty(), rng_empty(), 0);
        return;
    }
    AVal p;
    int64_t bytes;
    if (pkt_edge(t, a, b, taken, &p, &bytes)) {
        pkt_fact(bf, &p, at_blk, -1, 0);
        return;
    }
    if (a.kind != AK_SCALAR || b.kind != AK_SCALAR)
        return;
    AVal na = a, nb = b;
    refine_pair(bf, t, taken, &na, &nb);
    if (t->a[0]->op != I_CONST && (!rng_eq(na.v, a.v) || !rng_eq(na.l, a.l)))
        fact_add(bf, F_RANGE, t->a[0]->id, at_blk, -1, na.v, na.l, 0);
    if (t->a[1]->op != I_CONST && (!rng_eq(nb.v, b.v) || !rng_eq(nb.l, b.l)))
        fact_add(bf, F_RANGE, t->a[1]->id, at_blk, -1, nb.v, nb.l, 0);
}

/* What the edge's compare says about v alone (phi operands on edges into
 * blocks with other predecessors). */
bool edge_refine(BFunc *bf, Block *from, int succ, Ins *v, AVal *out)
{
    Ins *t = ir_term(from);
    if (!t || t->op != I_BR || t->succ[0] == t->succ[1] || (t->a[0] != v && t->a[1] != v))
        return false;
    bool taken = succ == 0;
    int end = from->ins.n;
    AVal a = aval_at_pos(bf, t->a[0], from->id, end), b = aval_at_pos(bf, t->a[1], from->id, end);
    if (out->kind == AK_PTR) {
        bool nullcmp = (t->a[0] == v && is_null_const(t->a[1])) || (t->a[1] == v && is_null_const(t->a[0]));
        if (nullcmp && (t->cc == CC_EQ || t->cc == CC_NE) && (t->cc == CC_NE) == taken)
            out->maybe_null = false;
        return true;
    }
    if (a.kind != AK_SCALAR || b.kind != AK_SCALAR)
        return false;
    refine_pair(bf, t, taken, &a, &b);
    AVal *r = t->a[0] == v ? &a : &b;
    out->v = rng_meet(out->v, r->v, v->w ? v->w : 8);
    if (!rng_is_empty(out->l))
        out->l = rng_meet(out->l, r->l, v->w ? v->w : 8);
    return true;
}

/* Which successors of b the verifier may take, from what it knows. */
void branch_edges(BFunc *bf, Block *b)
{
    Ins *t = ir_term(b);
    bf->edges[b->id] = 3;
    if (!t || t->op != I_BR)
        return;
    int end = b->ins.n;
    AVal a = aval_at_pos(bf, t->a[0], b->id, end), c = aval_at_pos(bf, t->a[1], b->id, end);
    int d = -1;
    if (a.kind == AK_SCALAR && c.kind == AK_SCALAR) {
        int cw = t->cw ? t->cw : 8;
        d = rng_decide(t->cc, rng_view(a.v, t->a[0]->w ? t->a[0]->w : 8, cw),
                       rng_view(c.v, t->a[1]->w ? t->a[1]->w : 8, cw));
    } else if ((t->cc == CC_EQ || t->cc == CC_NE) && (a.kind == AK_PTR || c.kind == AK_PTR)) {
        AVal *p = a.kind == AK_PTR ? &a : &c;
        Ins *other = a.kind == AK_PTR ? t->a[1] : t->a[0];
        bool known = !p->maybe_null || nonnull_at(bf, p->root, b->id, end);
        if (is_null_const(other) && known && p->prov != P_NONE)
            d = t->cc == CC_NE;
    }
    if (d >= 0)
        bf->edges[b->id] = d ? 1 : 2;
}

/* ---- names for messages ---------------------------------------------- */

static bool same_pos(Pos a, Pos b) { return a.file == b.file && a.line == b.line && a.col == b.col; }

/* The source name of what root points to, when there is one. */
const char *value_name(BFunc *bf, Ins *root)
{
    if (!root)
        return NULL;
    if (root->op == I_SLOT && root->imm >= 0 && root->imm < bf->f->slots.n) {
        Var *v = bf->f->slots.v[root->imm].var;
        return v ? v->name : NULL;
    }
    Func *fn = bf->f->src;
    for (int i = 0; fn && i < fn->locals.n; i++) {
        Var *v = fn->locals.v[i];
        Node *d = v->decl;
        if (d && d->init && same_pos(d->init->pos, root->pos))
            return v->name;
    }
    if (root->op == I_GLOBAL && root->sym && strncmp(root->sym, "__ksc_str", 9))
        return root->sym;
    return NULL;
}
