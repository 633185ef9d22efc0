/* The bounds pass: abstract interpretation over the IR in the verifier's
 * terms (see ir/bounds.h for the files and their parts). For each
 * function:
 *
 *   1. the blocks in reverse post-order, each loop evaluated until its phis
 *      settle (ranges, pointers, facts from branches, which edges can be
 *      taken), inner loops inside each round of the outer one;
 *   2. the path facts (bounds_flow.c) over what the verifier can reach;
 *   3. a final pass that judges every instruction: it reports what the
 *      kernel would reject and records the checks to insert;
 *   4. loop bounds and the estimate of the verifier's work;
 *   5. the inserted checks go into the IR.
 *
 * A loop costs its size times the rounds it needs (its iterations when
 * they are few and known, a few more than that when its phis widen), and
 * each instruction a constant plus the facts it looks up (a few per
 * value), so the whole is near-linear in the program. */
#include "ir/bounds.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PASSES 40

void bounds_error(BFunc *bf, Pos p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_at(p, "%s", msg);
    bf->errors++;
}

static bool aval_same(const AVal *a, const AVal *b)
{
    return a->kind == b->kind && a->prov == b->prov && a->maybe_null == b->maybe_null && a->pkt0 == b->pkt0
        && a->exact == b->exact && a->off == b->off && a->off_hi == b->off_hi && a->size == b->size && a->root == b->root && rng_eq(a->v, b->v) && rng_eq(a->l, b->l);
}

static int succ_of(Block *pred, Block *b)
{
    Ins *t = ir_term(pred);
    return t && t->op == I_BR && t->succ[1] == b && t->succ[0] != b ? 1 : 0;
}

/* The verifier reaches b when a predecessor it reaches may take the edge. */
static bool reachable(BFunc *bf, Block *b)
{
    if (b->id == 0)
        return true;
    for (int k = 0; k < b->preds.n; k++) {
        Block *p = b->preds.v[k];
        Ins *t = ir_term(p);
        if (!bf->reach[p->id])
            continue;
        if (!t || t->op != I_BR)
            return true;
        int mask = (t->succ[0] == b ? 1 : 0) | (t->succ[1] == b ? 2 : 0);
        if (bf->edges[p->id] & mask)
            return true;
    }
    return false;
}

/* One block: its edge's facts, then every instruction (judged first in
 * the final pass). True when a phi or an outgoing edge changed. */
static bool eval_block(BFunc *bf, int bi)
{
    Block *b = bf->f->blocks.v[bi];
    bool changed = false, r = reachable(bf, b);
    changed |= r != bf->reach[bi];
    bf->reach[bi] = r;
    if (!r)
        return changed;
    if (b->preds.n == 1 && b->preds.v[0] != b)
        edge_facts(bf, b->preds.v[0], succ_of(b->preds.v[0], b), bi);
    if (bf->final)
        flow_block_begin(bf, b);
    for (int k = 0; k < b->ins.n; k++) {
        Ins *i = b->ins.v[k];
        bf->cur_blk = bi;
        bf->cur_idx = k;
        if (bf->final)
            check_ins(bf, i);
        AVal nv = aval_eval(bf, i);
        if (i->op == I_PHI && !aval_same(&nv, &bf->val[i->id]))
            changed = true;
        bf->val[i->id] = nv;
        if (bf->final)
            flow_step(bf, i);
    }
    uint8_t old = bf->edges[bi];
    branch_edges(bf, b);
    return changed | (old != bf->edges[bi]);
}

static bool eval_range(BFunc *bf, int from, int to);

/* A loop (the blocks from its header to its last block in reverse
 * post-order) evaluated until its phis settle; the facts of one round are
 * dropped before the next. Past the pass budget, growing phis widen. In
 * the final pass, once: the values have settled. */
static bool iterate_loop(BFunc *bf, int head, int end)
{
    if (bf->final) {
        bool changed = eval_block(bf, head);
        return changed | eval_range(bf, head + 1, end);
    }
    int mark = fact_mark(bf);
    bool any = false, saved = bf->force_widen;
    for (int round = 0; round < 2 * MAX_PASSES; round++) {
        fact_undo(bf, mark);
        bf->force_widen = saved || round >= MAX_PASSES;
        bool changed = eval_block(bf, head);
        changed |= eval_range(bf, head + 1, end);
        any |= changed;
        if (!changed)
            break;
    }
    bf->force_widen = saved;
    return any;
}

/* Blocks from..to in reverse post-order, each loop inside iterated. */
static bool eval_range(BFunc *bf, int from, int to)
{
    bool changed = false;
    for (int bi = from; bi <= to;) {
        int end = bf->loop_end[bi];
        if (end >= 0 && end <= to) {
            changed |= iterate_loop(bf, bi, end);
            bi = end + 1;
        } else {
            changed |= eval_block(bf, bi++);
        }
    }
    return changed;
}

/* The last block of each loop in reverse post-order, by header; -1 for
 * a block that heads no loop. */
static void find_loop_ends(BFunc *bf)
{
    IrFunc *f = bf->f;
    bf->loop_end = xalloc(sizeof(int) * (size_t)(f->blocks.n + 1));
    for (int i = 0; i < f->blocks.n; i++)
        bf->loop_end[i] = -1;
    for (int i = 0; i < f->blocks.n; i++) {
        Ins *t = ir_term(f->blocks.v[i]);
        for (int s = 0; t && s < 2; s++) {
            Block *h = (t->op == I_JMP && s == 0) || t->op == I_BR ? t->succ[s] : NULL;
            if (h && h->id <= i && bstate_dominates(bf, h->id, -1, i, 0) && bf->loop_end[h->id] < i)
                bf->loop_end[h->id] = i;
        }
    }
    /* an outer loop ends no earlier than the loops it holds */
    for (int i = f->blocks.n - 1; i >= 0; i--)
        for (int j = i + 1; j <= bf->loop_end[i]; j++)
            if (bf->loop_end[j] > bf->loop_end[i])
                bf->loop_end[i] = bf->loop_end[j];
}

static int width_of_type(Type *t)
{
    if (!t)
        return 4;
    switch (t->kind) {
    case TY_BOOL: case TY_CHAR: return 1;
    case TY_INT: case TY_ENUM: return t->size;
    default: return 8;
    }
}

/* What an inserted check returns when it fails: the pass verdict of
 * packet programs, 0 otherwise. */
static void set_verdict(BFunc *bf)
{
    IrFunc *f = bf->f;
    Func *fn = f->src;
    const char *sec = f->section ? f->section : "";
    bf->pass_verdict = !strcmp(sec, "xdp") ? 2 : 0;
    bf->void_ret = fn && fn->ret && fn->ret->kind == TY_VOID && !f->hidden_ret;
    bf->ret_width = f->hidden_ret ? 8 : width_of_type(fn ? fn->ret : NULL);
}

/* KSC_BOUNDS_DEBUG=1 in the environment: each value as the final pass
 * saw it, for working on the pass. */
static void debug_dump(BFunc *bf)
{
    IrFunc *f = bf->f;
    fprintf(stderr, "bounds: %s\n", f->name);
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        fprintf(stderr, "  @b%d%s trips %d\n", b, bf->reach[b] ? "" : " (unreached)", bf->trips ? bf->trips[b] : 0);
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            AVal *a = &bf->val[i->id];
            if (a->kind == AK_SCALAR)
                fprintf(stderr, "    %%%d v %s l %s%s\n", i->id, rng_str(a->v), rng_str(a->l), a->exact ? " exact" : "");
            else if (a->kind == AK_PTR)
                fprintf(stderr, "    %%%d ptr prov %d root %%%d off %lld..%lld var %s size %lld%s%s\n", i->id, a->prov,
                        a->root ? a->root->id : -1, (long long)a->off, (long long)a->off_hi, rng_str(a->v),
                        (long long)a->size, a->maybe_null ? " maybe-null" : "", a->pkt0 ? " pkt0" : "");
        }
    }
}

static void analyze(IrProgram *ip, IrFunc *f)
{
    if (!f->blocks.n)
        return;
    BFunc *bf = xalloc(sizeof(BFunc));
    bstate_init(bf, ip, f);
    set_verdict(bf);
    loops_const_trips(bf);
    find_loop_ends(bf);
    eval_range(bf, 0, f->blocks.n - 1);
    flow_analyze(bf);
    bf->final = true;
    bstate_clear_facts(bf);
    eval_range(bf, 0, f->blocks.n - 1);
    if (getenv("KSC_BOUNDS_DEBUG"))
        debug_dump(bf);
    loops_check(bf);
    insert_apply(bf);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* KSC_BOUNDS_TIME=1 in the environment: the time the pass takes, on
 * stderr (bench/bounds_time.sh). */
static void report_time(IrProgram *p, double ms)
{
    long n = 0;
    for (int i = 0; i < p->funcs.n; i++)
        for (int b = 0; b < p->funcs.v[i]->blocks.n; b++)
            n += p->funcs.v[i]->blocks.v[b]->ins.n;
    fprintf(stderr, "bounds: %.2f ms, %d functions, %ld instructions\n", ms, p->funcs.n, n);
}

int ir_bounds(IrProgram *p, BoundsOpts *o)
{
    if (o && o->disabled)
        return 0;
    int before = diag_errors();
    double start = now_ms();
    calls_reset();
    IrFunc **order = calls_order(p);
    for (int i = 0; i < p->funcs.n; i++)
        analyze(p, order[i]);
    if (getenv("KSC_BOUNDS_TIME"))
        report_time(p, now_ms() - start);
    return diag_errors() - before;
}
