/* Loops, as the verifier runs them: it walks every iteration until an
 * exit test is decided, and gives up after a million instructions. A loop
 * ends for it when an exit test compares an induction variable (a header
 * phi that moves by a constant each time round, or shifts towards zero)
 * with a limit whose range it knows. The pass finds that test, bounds the
 * iterations, and estimates the instructions the verifier will process:
 * each block's size times the iterations of the loops around it. */
#include "ir/bounds.h"

#include <string.h>

#define VERIFIER_LIMIT 1000000

typedef VEC(int) IntVec;

typedef struct Loop {
    Block *head;
    IntVec body;            /* block ids, the header first */
    int id;                 /* 1-based: its mark in LoopSet.mark */
    uint64_t trips;         /* 0: unknown */
    Ins *test;              /* the exit test that bounds it */
    Ins *split;             /* a carried value that splits the paths */
} Loop;

/* The loops of a function. Membership is a mark per block, set for one
 * loop at a time (enter), so that no loop needs a map of every block. */
typedef struct LoopSet {
    VEC(Loop *) v;
    int *mark;              /* by block id */
    Loop *cur;              /* the loop the marks describe */
} LoopSet;

static void enter(LoopSet *ls, Loop *l)
{
    if (ls->cur == l)
        return;
    for (int k = 0; k < l->body.n; k++)
        ls->mark[l->body.v[k]] = l->id;
    ls->cur = l;
}

static LoopSet *LS;         /* the set being worked on, for in() */

static bool in(Loop *l, int b) { return LS->cur == l && LS->mark[b] == l->id; }

static bool reached(BFunc *bf, Block *b, bool all) { return all || bf->reach[b->id]; }

/* Blocks that reach the back edges' sources without passing h. */
static void fill_body(BFunc *bf, Loop *l, IntVec *latches, bool all, int *work)
{
    LS->cur = l;
    LS->mark[l->head->id] = l->id;
    vpush(l->body, l->head->id);
    int sp = 0;
    for (int k = 0; k < latches->n; k++)
        if (LS->mark[latches->v[k]] != l->id) {
            LS->mark[latches->v[k]] = l->id;
            vpush(l->body, latches->v[k]);
            work[sp++] = latches->v[k];
        }
    while (sp) {
        Block *x = bf->f->blocks.v[work[--sp]];
        for (int k = 0; k < x->preds.n; k++) {
            Block *y = x->preds.v[k];
            if (LS->mark[y->id] != l->id && reached(bf, y, all)) {
                LS->mark[y->id] = l->id;
                vpush(l->body, y->id);
                work[sp++] = y->id;
            }
        }
    }
}

/* Natural loops: for each back edge b -> h (h dominates b), the blocks
 * that reach b without passing h. Back edges to one header make one loop. */
static LoopSet *collect_loops(BFunc *bf, bool all)
{
    IrFunc *f = bf->f;
    int n = f->blocks.n;
    LoopSet *ls = xalloc(sizeof(LoopSet));
    ls->mark = xalloc(sizeof(int) * (size_t)(n + 1));
    LS = ls;
    IntVec *latches = xalloc(sizeof(IntVec) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        Block *b = f->blocks.v[i];
        Ins *t = ir_term(b);
        for (int s = 0; t && s < 2 && reached(bf, b, all); s++) {
            Block *h = (t->op == I_JMP && s == 0) || t->op == I_BR ? t->succ[s] : NULL;
            if (h && (h == b || bstate_dominates(bf, h->id, 0, i, 0)))
                vpush(latches[h->id], i);
        }
    }
    int *work = xalloc(sizeof(int) * (size_t)(n + 1));
    for (int h = 0; h < n; h++) {
        if (!latches[h].n)
            continue;
        Loop *l = xalloc(sizeof(Loop));
        l->head = f->blocks.v[h];
        l->id = ls->v.n + 1;
        fill_body(bf, l, &latches[h], all, work);
        vpush(ls->v, l);
    }
    return ls;
}

/* ---- induction variables ----------------------------------------------- */

static Ins *strip_to(Ins *v, int depth);

/* The one value a phi merges, when all its inputs but itself come to that
 * value (-O0 keeps such phis; they must not hide a counter), else NULL. */
static Ins *trivial_phi(Ins *phi, int depth)
{
    Ins *only = NULL;
    for (int k = 0; k < phi->nargs; k++) {
        Ins *a = phi->args[k] == phi ? phi : strip_to(phi->args[k], depth - 1);
        if (a == phi || a == only)
            continue;
        if (only)
            return NULL;
        only = a;
    }
    return only;
}

/* v through copies, conversions and trivial phis; depth bounds the search
 * (a cycle of trivial phis has no value to find). */
static Ins *strip_to(Ins *v, int depth)
{
    while (v && depth-- > 0) {
        Ins *next = NULL;
        if ((v->op == I_COPY || v->op == I_ZEXT || v->op == I_SEXT) && v->a[0])
            next = v->a[0];
        else if (v->op == I_PHI)
            next = trivial_phi(v, depth);
        if (!next)
            break;
        v = next;
    }
    return v;
}

static Ins *strip(Ins *v) { return strip_to(v, 8); }

/* The constant step of `next` from phi (phi + c, phi - c, c + phi), or 0. */
static int64_t step_of(Ins *next, Ins *phi)
{
    next = strip(next);
    if (!next || (next->op != I_ADD && next->op != I_SUB))
        return 0;
    Ins *a = strip(next->a[0]), *b = next->a[1];
    if (next->op == I_ADD && a != phi) {
        a = strip(next->a[1]);
        b = next->a[0];
    }
    if (a != phi || b->op != I_CONST)
        return 0;
    return next->op == I_SUB ? -b->imm : b->imm;
}

static bool shifts_down(Ins *next, Ins *phi)
{
    next = strip(next);
    return next && (next->op == I_SHR || next->op == I_SAR) && strip(next->a[0]) == phi && next->a[1]->op == I_CONST
        && (next->a[1]->imm & 63) > 0;
}

typedef struct Induction { Ins *phi; int64_t step; bool shift; Rng init; int64_t bias; } Induction;

/* Is x (through conversions, maybe plus a constant) a header phi that
 * moves the same way on every trip round the loop? */
static bool induction(BFunc *bf, Loop *l, Ins *x, Induction *out, bool consts)
{
    Ins *phi = strip(x);
    int64_t bias = 0;
    if (phi && (phi->op == I_ADD || phi->op == I_SUB) && phi->a[1]->op == I_CONST) {
        bias = phi->op == I_ADD ? phi->a[1]->imm : -phi->a[1]->imm;
        phi = strip(phi->a[0]);
    } else if (phi && (phi->op == I_SHR || phi->op == I_SAR) && phi->a[1]->op == I_CONST) {
        phi = strip(phi->a[0]);     /* a rotated loop tests the next value */
    }
    if (!phi || phi->op != I_PHI || phi->blk != l->head)
        return false;
    memset(out, 0, sizeof *out);
    out->bias = bias;
    out->phi = phi;
    out->init = rng_empty();
    int w = phi->w ? phi->w : 8;
    for (int k = 0; k < phi->nargs; k++) {
        Block *p = phi->blk->preds.v[k];
        Ins *a = phi->args[k];
        if (!reached(bf, p, consts) || a == phi)
            continue;
        if (!in(l, p->id)) {
            if (consts) {
                Ins *c = strip(a);
                if (!c || c->op != I_CONST)
                    return false;
                out->init = rng_join(out->init, rng_const((uint64_t)c->imm, w));
                continue;
            }
            AVal v = aval_at_pos(bf, a, p->id, p->ins.n);
            out->init = rng_join(out->init, v.kind == AK_SCALAR ? rng_view(v.v, a->w ? a->w : 8, w) : rng_full(w));
            continue;
        }
        int64_t s = step_of(a, phi);
        bool sh = shifts_down(a, phi);
        if ((!s && !sh) || (out->step && s != out->step) || (out->shift && !sh) || (s && out->shift))
            return false;
        out->step = s;
        out->shift = sh;
    }
    return (out->step || out->shift) && !rng_is_empty(out->init);
}

static bool invariant(Loop *l, Ins *y) { return y->op == I_CONST || !y->blk || !in(l, y->blk->id); }

static uint64_t div_up(uint64_t a, uint64_t b) { return a / b + (a % b != 0); }

/* Visits of the loop header (iterations + 1) before the test `x cc lim`,
 * which keeps the loop going while it holds `stay`, must fail; 0 when it
 * need not. x is the induction variable plus its bias. */
static uint64_t trips_of(Induction *ind, Cond cc, bool stay, Rng lim, bool x_left)
{
    if (!stay)
        cc = cond_negate(cc);
    if (!x_left)
        cc = cond_swap(cc);
    if (ind->shift)         /* x >> k reaches 0 within the width */
        return cc == CC_NE || cc == CC_UGT ? 66 : 0;
    if (rng_is_empty(lim) || lim.umax >= UINT64_MAX / 4 || lim.smin <= INT64_MIN / 4 || lim.smax >= INT64_MAX / 4)
        return 0;
    bool up = ind->step > 0;
    uint64_t step = (uint64_t)(up ? ind->step : -ind->step);
    int64_t from_lo = ind->init.smin + ind->bias, from_hi = ind->init.smax + ind->bias;
    uint64_t ufrom_lo = ind->init.umin + (uint64_t)ind->bias, ufrom_hi = ind->init.umax + (uint64_t)ind->bias;
    switch (cc) {
    case CC_ULT: case CC_NE:
        return up ? (lim.umax > ufrom_lo ? div_up(lim.umax - ufrom_lo, step) : 0) + 1 : 0;
    case CC_ULE:
        return up ? (lim.umax >= ufrom_lo ? (lim.umax - ufrom_lo) / step + 1 : 0) + 1 : 0;
    case CC_SLT:
        return up ? (lim.smax > from_lo ? div_up((uint64_t)(lim.smax - from_lo), step) : 0) + 1 : 0;
    case CC_SLE:
        return up ? (lim.smax >= from_lo ? (uint64_t)(lim.smax - from_lo) / step + 1 : 0) + 1 : 0;
    case CC_UGT:
        return !up ? (ufrom_hi > lim.umin ? div_up(ufrom_hi - lim.umin, step) : 0) + 1 : 0;
    case CC_UGE:
        return !up ? (ufrom_hi >= lim.umin ? (ufrom_hi - lim.umin) / step + 1 : 0) + 1 : 0;
    case CC_SGT:
        return !up ? (from_hi > lim.smin ? div_up((uint64_t)(from_hi - lim.smin), step) : 0) + 1 : 0;
    case CC_SGE:
        return !up ? (from_hi >= lim.smin ? (uint64_t)(from_hi - lim.smin) / step + 1 : 0) + 1 : 0;
    default: return 0;
    }
}

/* The fewest iterations any exit test guarantees. */
static void bound_loop(BFunc *bf, Loop *l, Ins **unbounded_test, Rng *unbounded_lim, bool consts)
{
    enter(LS, l);
    for (int j = 0; j < l->body.n; j++) {
        Block *b = bf->f->blocks.v[l->body.v[j]];
        Ins *t = ir_term(b);
        if (!t || t->op != I_BR || !reached(bf, b, consts))
            continue;
        int inside = in(l, t->succ[0]->id) + in(l, t->succ[1]->id);
        if (inside != 1)
            continue;
        bool stay = in(l, t->succ[0]->id);
        for (int k = 0; k < 2; k++) {
            Induction ind;
            Ins *y = t->a[1 - k];
            if (!invariant(l, y) || !induction(bf, l, t->a[k], &ind, consts) || (consts && y->op != I_CONST))
                continue;
            AVal lim = aval_at_pos(bf, y, b->id, b->ins.n);
            Rng r = lim.kind == AK_SCALAR ? rng_view(lim.v, y->w ? y->w : 8, t->cw ? t->cw : 8) : rng_full(8);
            uint64_t n = trips_of(&ind, t->cc, stay, r, k == 0);
            if (n && n <= (1ULL << 31) && (!l->trips || n < l->trips)) {
                l->trips = n;
                l->test = t;
            } else if (!n || n > (1ULL << 31)) {
                *unbounded_test = t;
                *unbounded_lim = r;
            }
        }
    }
}

/* ---- paths that multiply ----------------------------------------------- */

/* The verifier keeps a state for every different value a precise register
 * holds, and inside loops it records states only now and then, so it can
 * rarely prune. A counter it knows exactly on each path, bumped on one side
 * of a branch it cannot decide, and later compared or used as an offset,
 * makes the paths multiply: measured on 6.18, about 1.5 times more work per
 * iteration. Such a loop costs body * 4 * 1.55^trips. */

typedef VEC(Ins *) UseVec;

static UseVec *build_uses(IrFunc *f)
{
    UseVec *uses = xalloc(sizeof(UseVec) * (size_t)(f->nvals + 1));
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            for (int j = 0; j < 4; j++)
                if (i->a[j])
                    vpush(uses[i->a[j]->id], i);
            for (int j = 0; j < i->nargs; j++)
                if (i->args[j])
                    vpush(uses[i->args[j]->id], i);
        }
    return uses;
}

static bool arithmetic(Ins *i)
{
    switch (i->op) {
    case I_ADD: case I_SUB: case I_MUL: case I_AND: case I_OR: case I_XOR: case I_SHL: case I_SHR: case I_SAR:
    case I_COPY: case I_ZEXT: case I_SEXT: case I_NEG: case I_NOT: case I_PHI:
        return true;
    default: return false;
    }
}

/* Does v reach a use that makes the verifier track it precisely? */
static bool precise_use(BFunc *bf, UseVec *uses, Ins *v, char *seen)
{
    if (seen[v->id])
        return false;
    seen[v->id] = 1;
    for (int k = 0; k < uses[v->id].n; k++) {
        Ins *u = uses[v->id].v[k];
        if (u->op == I_BR || u->op == I_SETCC || u->op == I_CALL_HELPER || u->op == I_CALL || u->op == I_CALL_KFUNC)
            return true;
        if ((u->op == I_ADD || u->op == I_SUB) && bf->val[u->id].kind == AK_PTR)
            return true;
        if (arithmetic(u) && precise_use(bf, uses, u, seen))
            return true;
    }
    return false;
}

/* A phi inside the loop that joins different values after a branch the
 * verifier cannot decide. */
static Ins *undecided_join(BFunc *bf, Loop *l, Ins *v, int depth)
{
    if (!v || depth > 16 || !v->blk || !in(l, v->blk->id))
        return NULL;
    if (v->op == I_PHI && v->blk != l->head) {
        bool differ = false;
        for (int k = 1; k < v->nargs; k++)
            differ |= v->args[k] != v->args[0];
        Block *d = v->blk->idom;
        Ins *t = d ? ir_term(d) : NULL;
        if (differ && t && t->op == I_BR) {
            AVal a = bf->val[t->a[0]->id], b = bf->val[t->a[1]->id];
            bool decided = (t->a[0]->op == I_CONST || a.exact) && (t->a[1]->op == I_CONST || b.exact);
            if (!decided)
                return v;
        }
    }
    if (!arithmetic(v) || v->op == I_PHI)
        return NULL;
    for (int j = 0; j < 2; j++) {
        Ins *r = undecided_join(bf, l, v->a[j], depth + 1);
        if (r)
            return r;
    }
    return NULL;
}

static void find_split(BFunc *bf, Loop *l, UseVec *uses)
{
    enter(LS, l);
    for (int k = 0; k < l->head->ins.n && l->head->ins.v[k]->op == I_PHI; k++) {
        Ins *phi = l->head->ins.v[k];
        AVal *a = &bf->val[phi->id];
        if (a->kind != AK_SCALAR || !a->exact || rng_is_const(a->v, NULL))
            continue;
        for (int j = 0; j < phi->nargs; j++) {
            Block *p = l->head->preds.v[j];
            if (!in(l, p->id) || !undecided_join(bf, l, phi->args[j], 0))
                continue;
            char *seen = xalloc((size_t)bf->f->nvals + 1);
            if (precise_use(bf, uses, phi, seen)) {
                l->split = phi;
                return;
            }
        }
    }
}

static uint64_t multiplier(Loop *l)
{
    if (!l->trips)
        return 1;
    if (!l->split)
        return l->trips;
    double m = 4;
    for (uint64_t t = 0; t < l->trips && m < 1e12; t++)
        m *= 1.55;
    return m >= 1e12 ? (uint64_t)1e12 : (uint64_t)m;
}

/* ---- reports ---------------------------------------------------------- */

/* Where the loop is written: the jump or test that enters it (lower.c
 * rotates loops, so the test inside carries the body's last line). */
static Pos loop_pos(Loop *l)
{
    enter(LS, l);
    Block *entry = NULL;
    int outside = 0;
    for (int k = 0; k < l->head->preds.n; k++)
        if (!in(l, l->head->preds.v[k]->id)) {
            entry = l->head->preds.v[k];
            outside++;
        }
    Ins *g = outside == 1 ? ir_term(entry) : NULL;
    if (g && g->pos.line)
        return g->pos;
    Ins *t = ir_term(l->head);
    for (int k = 0; k < l->head->ins.n; k++)
        if (l->head->ins.v[k]->op != I_PHI && l->head->ins.v[k]->pos.line)
            return l->head->ins.v[k]->pos;
    return t ? t->pos : (Pos){ 0 };
}

static void report_unbounded(BFunc *bf, Loop *l, Ins *test, Rng lim)
{
    if (test) {
        bounds_error(bf, loop_pos(l), "the verifier cannot see this loop end: its limit may be as large as %s",
                     rng_str(lim));
        help("cap the limit before the loop: if (n > 1024) { n = 1024 }");
        return;
    }
    bounds_error(bf, loop_pos(l), "the verifier cannot see this loop end: no exit test compares a counter with a "
                 "bounded limit");
    help("count the iterations: for (i in 0..64) { ... }, or add a counter to the condition: while (... && n < 64)");
}

static uint64_t block_cost(Block *b)
{
    uint64_t n = 0;
    for (int k = 0; k < b->ins.n; k++) {
        Ins *i = b->ins.v[k];
        if (i->op == I_PHI || i->op == I_CONST || i->op == I_NOP || i->op == I_SLOT)
            continue;
        n += 1 + (uint64_t)(i->op == I_CALL_HELPER || i->op == I_CALL || i->op == I_CALL_KFUNC ? i->nargs : 0);
    }
    return n;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) { return b && a > UINT64_MAX / b ? UINT64_MAX : a * b; }

/* Instructions the verifier processes: each block once per iteration of
 * every loop around it. Reported at the outermost loop that carries the
 * most. */
static void estimate(BFunc *bf, Loop **loops, int n)
{
    IrFunc *f = bf->f;
    uint64_t total = 0;
    uint64_t *by_loop = xalloc(sizeof(uint64_t) * (size_t)(n + 1));
    uint64_t *mult = xalloc(sizeof(uint64_t) * (size_t)(f->blocks.n + 1));
    int *outer = xalloc(sizeof(int) * (size_t)(f->blocks.n + 1));
    for (int i = 0; i < f->blocks.n; i++) {
        mult[i] = 1;
        outer[i] = -1;
    }
    for (int k = 0; k < n; k++)
        for (int j = 0; j < loops[k]->body.n; j++) {
            int b = loops[k]->body.v[j];
            mult[b] = sat_mul(mult[b], multiplier(loops[k]));
            if (outer[b] < 0 || loops[k]->body.n > loops[outer[b]]->body.n)
                outer[b] = k;
        }
    for (int i = 0; i < f->blocks.n; i++) {
        if (!bf->reach[i])
            continue;
        uint64_t c = sat_mul(block_cost(f->blocks.v[i]), mult[i]);
        total = total + c < total ? UINT64_MAX : total + c;
        int oi = outer[i];
        if (oi >= 0)
            by_loop[oi] = by_loop[oi] + c < by_loop[oi] ? UINT64_MAX : by_loop[oi] + c;
    }
    if (total <= VERIFIER_LIMIT)
        return;
    int worst = -1;
    for (int k = 0; k < n; k++)
        if (worst < 0 || by_loop[k] > by_loop[worst])
            worst = k;
    Pos p = worst >= 0 ? loop_pos(loops[worst]) : (bf->f->src ? bf->f->src->pos : (Pos){ 0 });
    bounds_error(bf, p, "the verifier would process about %llu instructions for '%s', more than its limit of %d",
                 (unsigned long long)total, f->name, VERIFIER_LIMIT);
    Loop *w = worst >= 0 ? loops[worst] : NULL;
    if (w && w->split) {
        const char *name = w->split->var ? w->split->var->name : NULL;
        note_at(w->split->pos, "%s%s%s changes on only one side of a branch the verifier cannot decide, and is "
                "compared later: the paths it walks grow by half each iteration, over about %llu iterations",
                name ? "'" : "this value", name ? name : "", name ? "'" : "", (unsigned long long)w->trips);
        help("run fewer iterations, or keep the count in a map value, which the verifier does not track");
        return;
    }
    if (w)
        note_at(p, "this loop runs about %llu times, and the verifier walks every iteration",
                (unsigned long long)w->trips);
    help("run fewer iterations, or split the work across programs with tail calls");
}

void loops_check(BFunc *bf)
{
    LoopSet *ls = collect_loops(bf, false);
    typeof(ls->v) loops = ls->v;
    bool bad = false;
    for (int i = 0; i < loops.n; i++) {
        Ins *test = NULL;
        Rng lim = rng_empty();
        bound_loop(bf, loops.v[i], &test, &lim, false);
        if (!loops.v[i]->trips) {
            report_unbounded(bf, loops.v[i], test, lim);
            bad = true;
        }
    }
    if (bad)
        return;
    UseVec *uses = build_uses(bf->f);
    for (int i = 0; i < loops.n; i++)
        find_split(bf, loops.v[i], uses);
    estimate(bf, loops.v, loops.n);
}

/* Before the passes: the iterations of loops counted from a constant to a
 * constant, so that their phis may grow once per iteration, as the
 * verifier's walk does, before any widening. */
void loops_const_trips(BFunc *bf)
{
    LoopSet *ls = collect_loops(bf, true);
    typeof(ls->v) loops = ls->v;
    int n = bf->f->blocks.n;
    bf->trips = xalloc(sizeof(int) * (size_t)(n + 1));
    for (int b = 0; b < n; b++)
        bf->trips[b] = 1;
    for (int i = 0; i < loops.n; i++) {
        Ins *test = NULL;
        Rng lim = rng_empty();
        Loop *l = loops.v[i];
        bound_loop(bf, l, &test, &lim, true);
        /* every phi in the loop grows once per iteration of the loops
         * around it */
        for (int j = 0; j < l->body.n; j++) {
            int b = l->body.v[j];
            bf->trips[b] = l->trips && bf->trips[b] && l->trips * (uint64_t)bf->trips[b] <= 32
                         ? bf->trips[b] * (int)l->trips : 0;
        }
    }
    for (int b = 0; b < n; b++)
        if (bf->trips[b] == 1)
            bf->trips[b] = 0;   /* outside loops: nothing grows by iterations */
}
