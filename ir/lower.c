/* Lowering the typed AST to SSA, part one: the on-the-fly SSA
 * construction of Braun et al. (variables are read and written per block;
 * phis are placed as predecessors become known), functions, statements,
 * loops, match, try/catch/throw and defer. */
#include "ir/lower.h"

#include <string.h>

Lower L;

#define MAX_DEFS_GROW 64

/* ---- emitting ---------------------------------------------------------- */

Block *new_block(void) { return ir_new_block(L.f); }

static Ins *add(Ins *i)
{
    i->pos = L.pos;
    if (!L.cur)             /* unreachable code: keep it out of the CFG */
        set_block(new_block());
    ir_append(L.cur, i);
    return i;
}

Ins *emit(IrOp op, int w) { return add(ir_new_ins(L.f, op, w)); }

Ins *emit1(IrOp op, int w, Ins *a)
{
    Ins *i = ir_new_ins(L.f, op, w);
    i->a[0] = a;
    i->prov = op == I_COPY && a ? a->prov : P_NONE;
    return add(i);
}

Ins *emit2(IrOp op, int w, Ins *a, Ins *b)
{
    Ins *i = ir_new_ins(L.f, op, w);
    i->a[0] = a;
    i->a[1] = b;
    return add(i);
}

Ins *iconst(int64_t v, int w)
{
    Ins *i = emit(I_CONST, w ? w : 8);
    i->imm = v;
    return i;
}

void set_block(Block *b) { L.cur = b; }

void jump(Block *to)
{
    if (!L.cur)
        return;
    Ins *j = emit(I_JMP, 0);
    j->succ[0] = to;
    ir_add_edge(L.cur, to);
    L.cur = NULL;
}

void branch(Cond cc, int cw, Ins *a, Ins *b, Block *t, Block *f)
{
    if (!L.cur)
        return;
    Ins *br = emit2(I_BR, 0, a, b);
    br->cc = cc;
    br->cw = (uint8_t)cw;
    br->succ[0] = t;
    br->succ[1] = f;
    ir_add_edge(L.cur, t);
    ir_add_edge(L.cur, f);
    L.cur = NULL;
}

/* ---- SSA variables ----------------------------------------------------- */

bool var_in_ssa(Var *v)
{
    if (v->is_mapref)
        return true;
    return is_scalar(v->ty) && !v->addr_taken;
}

Var *synth_var(const char *name, Type *ty)
{
    Var *v = xalloc(sizeof(Var));
    v->name = name;
    v->ty = ty;
    v->id = L.nvars++;
    vpush(L.extra_vars, v);
    return v;
}

/* The per-block table of current definitions, grown as variables appear. */
static Ins **defs_of(Block *b, bool create)
{
    if (!b->defs || b->ndefs < L.nvars) {
        if (!create && !b->defs)
            return NULL;
        int ncap = L.nvars + MAX_DEFS_GROW;
        Ins **d = xalloc(sizeof(Ins *) * (size_t)ncap);
        if (b->defs)
            memcpy(d, b->defs, sizeof(Ins *) * (size_t)b->ndefs);
        b->defs = d;
        b->ndefs = ncap;
    }
    return b->defs;
}

void write_var(Var *v, Block *b, Ins *val) { defs_of(b, true)[v->id] = val; }

static int var_width(Var *v) { return v->is_mapref ? 8 : width_of(v->ty); }

static Ins *new_phi(Block *b, Var *v)
{
    Ins *phi = ir_new_ins(L.f, I_PHI, var_width(v));
    phi->var = v;
    phi->pos = L.pos;
    phi->blk = b;
    phi->ty = v->ty;
    /* phis go first in their block */
    vpush(b->ins, NULL);
    int k = 0;
    while (k < b->ins.n - 1 && b->ins.v[k]->op == I_PHI)
        k++;
    memmove(b->ins.v + k + 1, b->ins.v + k, sizeof(Ins *) * (size_t)(b->ins.n - 1 - k));
    b->ins.v[k] = phi;
    return phi;
}

static void add_phi_operands(Ins *phi)
{
    Block *b = phi->blk;
    phi->args = xalloc(sizeof(Ins *) * (size_t)(b->preds.n ? b->preds.n : 1));
    phi->nargs = b->preds.n;
    for (int i = 0; i < b->preds.n; i++)
        phi->args[i] = read_var(phi->var, b->preds.v[i]);
    Prov pv = P_NONE;
    for (int i = 0; i < phi->nargs; i++)
        if (phi->args[i] && phi->args[i] != phi && phi->args[i]->prov)
            pv = phi->args[i]->prov;
    phi->prov = (uint8_t)pv;
}

/* A variable read where it was never written: zero, defined at entry. */
static Ins *undef_value(Var *v)
{
    Block *entry = L.f->blocks.v[0];
    Ins *z = ir_new_ins(L.f, I_CONST, var_width(v));
    z->blk = entry;
    vpush(entry->ins, NULL);
    memmove(entry->ins.v + 1, entry->ins.v, sizeof(Ins *) * (size_t)(entry->ins.n - 1));
    entry->ins.v[0] = z;
    return z;
}

Ins *read_var(Var *v, Block *b)
{
    Ins **d = defs_of(b, false);
    if (d && v->id < b->ndefs && d[v->id])
        return d[v->id];
    Ins *val;
    if (!b->sealed) {
        val = new_phi(b, v);
        vpush(b->incomplete, val);
    } else if (b->preds.n == 1) {
        val = read_var(v, b->preds.v[0]);
    } else if (b->preds.n == 0) {
        val = undef_value(v);
    } else {
        val = new_phi(b, v);
        write_var(v, b, val);
        add_phi_operands(val);
    }
    write_var(v, b, val);
    return val;
}

void seal(Block *b)
{
    if (b->sealed)
        return;
    b->sealed = true;
    for (int i = 0; i < b->incomplete.n; i++)
        add_phi_operands(b->incomplete.v[i]);
    b->incomplete.n = 0;
}

int var_slot(Var *v)
{
    if (v->id >= L.nslot_of) {
        int n = v->id + 64;
        int *s = xalloc(sizeof(int) * (size_t)n);
        for (int i = 0; i < n; i++)
            s[i] = i < L.nslot_of ? L.slot_of[i] : -1;
        L.slot_of = s;
        L.nslot_of = n;
    }
    if (L.slot_of[v->id] < 0)
        L.slot_of[v->id] = ir_add_slot(L.f, v->ty->size, v->ty->align, v);
    return L.slot_of[v->id];
}

/* ---- defer and exits ------------------------------------------------- */

/* Defers run at every exit, innermost first. Each defer body is lowered
 * once, in a chain of blocks like C's goto-cleanup: chain block k runs
 * defer k and falls to block k-1; block 0 returns. A return with k defers
 * reached jumps to block k with its value in a variable. */
static Block *chain_block(int k)
{
    if (k >= L.nchain) {
        int n = k + 8;
        Block **c = xalloc(sizeof(Block *) * (size_t)n);
        for (int i = 0; i < L.nchain; i++)
            c[i] = L.chain[i];
        L.chain = c;
        L.nchain = n;
    }
    if (!L.chain[k])
        L.chain[k] = new_block();
    return L.chain[k];
}

static Var *ret_var(void)
{
    if (!L.ret_value)
        L.ret_value = synth_var("ret", L.fn->ret->kind == TY_VOID || is_aggregate(L.fn->ret) ? ty_i64 : L.fn->ret);
    return L.ret_value;
}

void emit_return(Ins *v)
{
    if (!L.cur)
        return;
    if (L.defers.n) {
        if (v)
            write_var(ret_var(), L.cur, v);
        jump(chain_block(L.defers.n));
        return;
    }
    Ins *r = emit(I_RET, 0);
    r->a[0] = v;
    L.cur = NULL;
}

static void run_defer(DeferCtx d)
{
    if (!d.flag) {
        lower_block(d.body);
        return;
    }
    Block *run = new_block(), *next = new_block();
    branch(CC_NE, 1, read_var(d.flag, L.cur), iconst(0, 1), run, next);
    seal(run);
    set_block(run);
    lower_block(d.body);
    jump(next);
    seal(next);
    set_block(next);
}

/* Lowers the chain once the body is done: every return is known then. */
void lower_defer_chain(void)
{
    if (!L.nchain)
        return;
    DeferVec all = L.defers;
    for (int k = L.nchain - 1; k >= 1; k--) {
        Block *b = L.chain[k];
        if (!b)
            continue;
        seal(b);
        set_block(b->preds.n ? b : NULL);
        if (!L.cur)
            continue;
        L.defers.n = k - 1;     /* a throw inside a defer runs the outer ones */
        run_defer(all.v[k - 1]);
        if (L.cur)
            jump(chain_block(k - 1));
    }
    Block *exit = L.chain[0];
    L.defers.n = 0;
    if (!exit)
        return;
    seal(exit);
    set_block(exit->preds.n ? exit : NULL);
    if (!L.cur)
        return;
    bool has_value = L.fn->ret->kind != TY_VOID;
    emit_return(has_value ? read_var(ret_var(), L.cur) : NULL);
}

/* A throw: to the innermost try of this function, or out of a helper
 * through the caller's error slot, or (userspace only) never here. */
void emit_throw(Ins *code)
{
    if (!L.cur)
        return;
    write_var(L.code_var, L.cur, code);
    if (L.trys.n) {
        jump(L.trys.v[L.trys.n - 1].dispatch);
        return;
    }
    if (L.err_ptr) {
        mem_store((Addr){ L.err_ptr, 0 }, code, 4);
        emit_return(iconst(0, 8));
        return;
    }
    /* A program with an uncaught throw is rejected by the checker; keep
     * the IR well formed anyway. */
    emit_return(iconst(L.f->default_ret, 4));
}

/* After a call to a helper that may throw: rethrow its code, if any. */
void raise_if_error(Ins *err)
{
    Block *thrown = new_block(), *ok = new_block();
    branch(CC_NE, 4, err, iconst(0, 4), thrown, ok);
    seal(thrown);
    set_block(thrown);
    emit_throw(err);
    seal(ok);
    set_block(ok);
}

/* ---- statements -------------------------------------------------------- */

static void lower_var(Node *n)
{
    Var *v = n->var;
    if (!v)
        return;
    if (v->is_mapref) {
        write_var(v, L.cur, map_lookup(n->init));
        return;
    }
    if (var_in_ssa(v)) {
        Ins *val = n->init ? rvalue(n->init) : iconst(0, width_of(v->ty));
        if (!L.cur)
            return;
        write_var(v, L.cur, val);
        return;
    }
    Addr a = slot_addr(var_slot(v));
    if (n->init)
        store_value(a, n->init, v->ty);
    else
        zero_mem(a, v->ty->size);
}

static void lower_if(Node *n)
{
    Block *then = new_block(), *els = new_block(), *join = new_block();
    Var *bound = NULL;
    if (n->init) {
        lower_var(n->init);
        bound = n->init->var;
        Ins *p = var_in_ssa(bound) ? read_var(bound, L.cur) : load(slot_addr(var_slot(bound)), bound->ty);
        branch(CC_NE, 8, p, iconst(0, 8), then, els);
    } else {
        cond_branch(n->cond, then, els);
    }
    seal(then);
    seal(els);
    set_block(then);
    bool entry = bound && bound->is_mapref;
    if (entry)
        vpush(L.entries, bound);
    lower_block(n->then);
    if (entry)
        L.entries.n--;
    jump(join);
    set_block(els);
    if (n->els)
        lower_stmt(n->els);
    jump(join);
    seal(join);
    set_block(join->preds.n ? join : NULL);
}

static void loop_body(Node *body, Block *brk, Block *cont)
{
    vpush(L.loops, ((LoopCtx){ brk, cont }));
    lower_block(body);
    L.loops.n--;
}

#define UNROLL_MAX 64

/* -funroll: a range with constant bounds becomes one copy of the body per
 * value, each with the loop variable a constant; continue goes to the
 * next copy, break past the last. */
static bool unroll_range(Node *n)
{
    if (!L.unroll || !n->init->is_const_val || !n->rhs->is_const_val || n->rhs->cval - n->init->cval > UNROLL_MAX)
        return false;
    Var *v = n->var;
    int w = width_of(v->ty);
    Block *exit = new_block();
    for (i128 i = n->init->cval; i < n->rhs->cval && L.cur; i++) {
        Block *next = new_block();
        write_var(v, L.cur, iconst((int64_t)i, w));
        loop_body(n->body, exit, next);
        jump(next);
        seal(next);
        set_block(next->preds.n ? next : NULL);
    }
    jump(exit);
    seal(exit);
    set_block(exit->preds.n ? exit : NULL);
    return true;
}

/* for (i in a..b): a real loop, rotated as clang rotates it: one test
 * before the first iteration (it folds away for constant bounds), then
 * the body, and the latch increments and tests again, so each iteration
 * runs one jump less and the verifier walks fewer instructions. */
static void lower_for_range(Node *n)
{
    if (unroll_range(n))
        return;
    Var *v = n->var;
    Type *t = v->ty;
    int w = width_of(t);
    Ins *lo = rvalue(n->init);
    Ins *hi = rvalue(n->rhs);
    if (!L.cur)
        return;
    write_var(v, L.cur, lo);
    Block *body = new_block(), *latch = new_block(), *exit = new_block();
    Cond lt = t->is_signed ? CC_SLT : CC_ULT;
    branch(lt, w, lo, hi, body, exit);
    set_block(body);
    loop_body(n->body, exit, latch);
    jump(latch);
    seal(latch);
    set_block(latch->preds.n ? latch : NULL);
    if (L.cur) {
        Ins *next = emit2(I_ADD, w, read_var(v, latch), iconst(1, w));
        write_var(v, latch, next);
        branch(lt, w, next, hi, body, exit);
    }
    seal(body);
    seal(exit);
    set_block(exit->preds.n ? exit : NULL);
}

/* while (c): rotated too, the condition tested before the first
 * iteration and again at the end of each. */
static void lower_while(Node *n)
{
    Block *body = new_block(), *test = new_block(), *exit = new_block();
    cond_branch(n->cond, body, exit);
    set_block(body);
    loop_body(n->body, exit, test);
    jump(test);
    seal(test);
    set_block(test->preds.n ? test : NULL);
    if (L.cur)
        cond_branch(n->cond, body, exit);
    seal(body);
    seal(exit);
    set_block(exit->preds.n ? exit : NULL);
}

static void lower_loop(Node *n)
{
    Block *head = new_block(), *exit = new_block();
    jump(head);
    set_block(head);
    loop_body(n->body, exit, head);
    jump(head);
    seal(head);
    seal(exit);
    set_block(exit->preds.n ? exit : NULL);
}

/* try: the body throws to a dispatch block that tests the code against
 * each catch in order; an unmatched code goes on to the outer handler. */
static void lower_try(Node *n)
{
    Block *dispatch = new_block(), *join = new_block();
    vpush(L.trys, ((TryCtx){ dispatch }));
    lower_block(n->body);
    L.trys.n--;
    jump(join);
    seal(dispatch);
    set_block(dispatch->preds.n ? dispatch : NULL);
    if (!L.cur) {
        seal(join);
        set_block(join->preds.n ? join : NULL);
        return;
    }
    Ins *code = read_var(L.code_var, L.cur);
    bool caught_all = false;
    for (int i = 0; i < n->args.n && !caught_all; i++) {
        Node *c = n->args.v[i];
        Block *body = new_block(), *next = new_block();
        if (c->has_code) {
            branch(CC_EQ, 4, code, iconst((int64_t)c->ival, 4), body, next);
        } else {
            jump(body);
            caught_all = true;
        }
        seal(body);
        set_block(body);
        lower_block(c->body);
        jump(join);
        seal(next);
        set_block(next->preds.n ? next : NULL);
    }
    if (!caught_all && L.cur)
        emit_throw(code);
    seal(join);
    set_block(join->preds.n ? join : NULL);
}

static void lower_defer(Node *n)
{
    DeferCtx d = { n->body, NULL };
    /* A defer directly in the function body is reached by every exit
     * lowered after it; a nested one records that it was reached in a
     * flag, which reads as false (zero) on paths that never set it. */
    if (!L.top_level) {
        d.flag = synth_var("defer_flag", ty_bool);
        if (L.cur)
            write_var(d.flag, L.cur, iconst(1, 1));
    }
    vpush(L.defers, d);
}

static void lower_stmt_kind(Node *n);

void lower_stmt(Node *n)
{
    if (!L.cur && n->kind != N_BLOCK)
        return;             /* after return/break: unreachable */
    int mark = temps_mark();
    lower_stmt_kind(n);
    temps_release(mark);
}

static void lower_stmt_kind(Node *n)
{
    L.pos = n->pos;
    switch (n->kind) {
    case N_VAR: lower_var(n); break;
    case N_EXPR:
        if (n->lhs->kind == N_MATCH)
            lower_match_stmt(n->lhs);
        else if (n->lhs->kind == N_IF)
            lower_if(n->lhs);
        else if (n->lhs->kind == N_BLOCK)
            lower_block(n->lhs);
        else
            rvalue(n->lhs);
        break;
    case N_ASSIGN: assign(n); break;
    case N_RETURN: {
        Func *fn = L.fn;
        if (n->lhs && n->lhs->kind == N_CALL && n->lhs->tail_call) {
            rvalue(n->lhs);
            return;
        }
        if (n->lhs && is_aggregate(n->lhs->ty) && L.ret_ptr) {
            store_value((Addr){ L.ret_ptr, 0 }, n->lhs, fn->ret);
            emit_return(iconst(0, 8));
        } else if (n->lhs) {
            emit_return(rvalue(n->lhs));
        } else if (fn->ret_var) {
            Var *rv = fn->ret_var;
            if (is_aggregate(rv->ty) && L.ret_ptr) {
                copy_mem((Addr){ L.ret_ptr, 0 }, slot_addr(var_slot(rv)), rv->ty->size);
                emit_return(iconst(0, 8));
            } else {
                emit_return(var_in_ssa(rv) ? read_var(rv, L.cur) : load(slot_addr(var_slot(rv)), rv->ty));
            }
        } else {
            emit_return(fn->ret->kind == TY_VOID ? NULL : iconst(0, width_of(fn->ret)));
        }
        break;
    }
    case N_BREAK:
        if (L.loops.n)
            jump(L.loops.v[L.loops.n - 1].brk);
        break;
    case N_CONTINUE:
        if (L.loops.n)
            jump(L.loops.v[L.loops.n - 1].cont);
        break;
    case N_IF: lower_if(n); break;
    case N_FOR_RANGE: lower_for_range(n); break;
    case N_WHILE: lower_while(n); break;
    case N_LOOP: lower_loop(n); break;
    case N_TRY: lower_try(n); break;
    case N_THROW: emit_throw(rvalue(n->lhs)); break;
    case N_DEFER: lower_defer(n); break;
    case N_DELETE: map_delete(n); break;
    case N_BLOCK: lower_block(n); break;
    default:
        rvalue(n);
        break;
    }
}

void lower_block(Node *b)
{
    bool top = L.top_level;
    L.top_level = false;
    if (b->kind != N_BLOCK) {
        lower_stmt(b);
    } else {
        for (int i = 0; i < b->args.n; i++)
            lower_stmt(b->args.v[i]);
    }
    L.top_level = top;
}

/* The function body: its own statements are the top level. */
void lower_body(Node *b)
{
    for (int i = 0; i < b->args.n; i++) {
        L.top_level = true;
        lower_stmt(b->args.v[i]);
    }
    L.top_level = false;
}
