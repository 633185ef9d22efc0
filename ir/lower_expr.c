/* Lowering, part two: expressions. Scalars become SSA values; aggregates
 * (structs, arrays, strings) live in memory and are handled by address.
 * Addresses keep a base pointer and a constant offset, so field offsets
 * fold into loads and stores (the verifier wants ctx fields read at their
 * exact offset from the unmodified context pointer). */
#include "ir/lower.h"

#include <string.h>

/* Where a value computed along several paths goes: a variable (scalars)
 * or memory (aggregates); NULL when it is not used (statements). */
typedef struct Sink { Var *var; Addr mem; Type *ty; } Sink;
static Ins *branches_into(Node *n, Sink *s);
static bool is_branching(Node *n);

int width_of(Type *t)
{
    switch (t->kind) {
    case TY_BOOL: case TY_CHAR: return 1;
    case TY_INT: case TY_ENUM: return t->size;
    case TY_UNTYPED: return 8;
    default: return 8;
    }
}

Prov prov_of_type(Type *t)
{
    if (t->kind != TY_PTR)
        return P_NONE;
    return P_KERNEL;
}

static bool is_signed_type(Type *t)
{
    return (t->kind == TY_INT || t->kind == TY_ENUM) && t->is_signed;
}

/* ---- memory ------------------------------------------------------------ */

Addr slot_addr(int slot)
{
    Ins *s = emit(I_SLOT, 8);
    s->imm = slot;
    s->prov = P_STACK;
    return (Addr){ s, 0 };
}

/* Temporaries live for one statement: at its end they return to a pool
 * the next statements draw from, so the frame holds the largest
 * statement's temporaries, not the sum of all of them. */
Addr new_slot(Type *t, Var *v)
{
    if (v)
        return slot_addr(ir_add_slot(L.f, t->size, t->align, v));
    int need = (t->size + 7) & ~7;
    int best = -1;
    for (int i = 0; i < L.free_temps.n; i++) {
        int s = L.free_temps.v[i];
        int have = (L.f->slots.v[s].size + 7) & ~7;
        if (have >= need && (best < 0 || have < ((L.f->slots.v[L.free_temps.v[best]].size + 7) & ~7)))
            best = i;
    }
    int slot;
    if (best >= 0) {
        slot = L.free_temps.v[best];
        L.free_temps.v[best] = L.free_temps.v[--L.free_temps.n];
    } else {
        slot = ir_add_slot(L.f, t->size, t->align, NULL);
    }
    vpush(L.used_temps, slot);
    return slot_addr(slot);
}

int temps_mark(void) { return L.used_temps.n; }

void temps_release(int mark)
{
    while (L.used_temps.n > mark)
        vpush(L.free_temps, L.used_temps.v[--L.used_temps.n]);
}

Ins *addr_value(Addr a)
{
    if (!a.off)
        return a.base;
    Ins *p = emit2(I_ADD, 8, a.base, iconst(a.off, 8));
    p->prov = a.base->prov;
    p->ty = a.base->ty;
    return p;
}

static Ins *mem_op(IrOp op, Addr a, int mw)
{
    Ins *i = emit(op, op == I_LOAD ? mw : 0);
    i->a[0] = a.base;
    i->imm = a.off;
    i->mw = (uint8_t)mw;
    return i;
}

Ins *mem_load(Addr a, int mw) { return mem_op(I_LOAD, a, mw); }

void mem_store(Addr a, Ins *v, int mw)
{
    Ins *s = mem_op(I_STORE, a, mw);
    s->a[1] = v;
}

Ins *load(Addr a, Type *t)
{
    if (t->kind == TY_ERROR)
        return iconst(0, 8);
    Ins *i = mem_op(I_LOAD, a, width_of(t) > t->size && t->size ? t->size : width_of(t));
    i->w = (uint8_t)width_of(t);
    i->ty = t->kind == TY_PTR ? t->base : t;
    i->prov = (uint8_t)prov_of_type(t);
    return i;
}

void store(Addr a, Ins *v, Type *t)
{
    Ins *i = mem_op(I_STORE, a, width_of(t));
    i->a[1] = v;
}

static void store_imm(Addr a, int64_t v, int mw)
{
    Ins *c = iconst(v, mw);
    Ins *i = mem_op(I_STORE, a, mw);
    i->a[1] = c;
}

static int chunk_for(int64_t off, int left, int align)
{
    for (int c = 8; c > 1; c /= 2)
        if (left >= c && align >= c && off % c == 0)
            return c;
    return 1;
}

void copy_mem(Addr dst, Addr src, int size)
{
    int align = 8;
    for (int i = 0; i < size;) {
        int c = chunk_for(dst.off + i, size - i, align);
        while (c > 1 && (src.off + i) % c)
            c /= 2;
        Ins *v = mem_op(I_LOAD, (Addr){ src.base, src.off + i }, c);
        Ins *s = mem_op(I_STORE, (Addr){ dst.base, dst.off + i }, c);
        s->a[1] = v;
        i += c;
    }
}

void zero_mem(Addr dst, int size)
{
    for (int i = 0; i < size;) {
        int c = chunk_for(dst.off + i, size - i, 8);
        store_imm((Addr){ dst.base, dst.off + i }, 0, c);
        i += c;
    }
}

/* Zeroes the bytes of [0, size) not in any covered range. */
static void zero_gaps(Addr dst, int size, const char *covered)
{
    for (int i = 0; i < size;) {
        if (covered[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < size && !covered[j])
            j++;
        zero_mem((Addr){ dst.base, dst.off + i }, j - i);
        i = j;
    }
}

static void store_string(Addr dst, Node *s, long cap)
{
    int n = s->slen < cap ? s->slen : (int)cap - 1;
    if (n < 0)
        n = 0;
    char *bytes = xalloc((size_t)cap + 8);
    memcpy(bytes, s->sval, (size_t)n);
    for (int i = 0; i < cap;) {
        int c = chunk_for(dst.off + i, (int)cap - i, 4);
        if (c > 4)
            c = 4;
        int64_t v = 0;
        for (int k = c - 1; k >= 0; k--)
            v = (v << 8) | (unsigned char)bytes[i + k];
        if (c == 4)
            v = (int32_t)v;
        store_imm((Addr){ dst.base, dst.off + i }, v, c);
        i += c;
    }
}

static void store_struct_lit(Addr dst, Node *n, Type *t)
{
    char *covered = xalloc((size_t)t->size + 1);
    for (int i = 0; i < n->args.n; i++) {
        Node *f = n->args.v[i];
        if (!f->member || f->member->bit_size)
            continue;
        for (int b = 0; b < f->member->ty->size && f->member_off + b < t->size; b++)
            covered[f->member_off + b] = 1;
    }
    zero_gaps(dst, t->size, covered);
    for (int i = 0; i < n->args.n; i++) {
        Node *f = n->args.v[i];
        if (!f->member)
            continue;
        store_value((Addr){ dst.base, dst.off + f->member_off }, f->lhs, f->member->ty);
    }
}

static void store_array_lit(Addr dst, Node *n, Type *t)
{
    Type *elem = t->base;
    int es = elem->size;
    if (n->kind == N_ARRAY_REPEAT) {
        long cnt = (long)n->rhs->cval;
        if (n->lhs->is_const_val && n->lhs->cval == 0) {
            zero_mem(dst, t->size);
            return;
        }
        for (long i = 0; i < t->len; i++) {
            if (i < cnt)
                store_value((Addr){ dst.base, dst.off + i * es }, n->lhs, elem);
            else
                zero_mem((Addr){ dst.base, dst.off + i * es }, es);
        }
        return;
    }
    for (int i = 0; i < n->args.n; i++)
        store_value((Addr){ dst.base, dst.off + (int64_t)i * es }, n->args.v[i], elem);
    if ((long)n->args.n < t->len)
        zero_mem((Addr){ dst.base, dst.off + (int64_t)n->args.n * es }, (int)((t->len - n->args.n) * es));
}

/* Evaluates n and stores its value into memory of type t at dst. */
void store_value(Addr dst, Node *n, Type *t)
{
    while (n->kind == N_CAST && n->implicit && is_aggregate(t) && n->lhs->kind != N_STR)
        n = n->lhs;
    if (!is_aggregate(t)) {
        store(dst, rvalue(n), t);
        return;
    }
    if (n->kind == N_CAST && n->lhs->kind == N_STR)
        n = n->lhs;
    switch (n->kind) {
    case N_STRUCT_LIT: store_struct_lit(dst, n, t); return;
    case N_ARRAY_LIT: case N_ARRAY_REPEAT: store_array_lit(dst, n, t); return;
    case N_STR: store_string(dst, n, t->kind == TY_STR ? t->len : t->size); return;
    default: break;
    }
    if (is_branching(n)) {     /* each branch stores its own value */
        Sink sk = { NULL, dst, t };
        branches_into(n, &sk);
        return;
    }
    if ((n->kind == N_INDEX && n->lhs->ty->kind == TY_MAP) || (n->kind == N_IDENT && n->var && n->var->is_mapref)) {
        copy_map_value(dst, n, t->size);
        return;
    }
    Addr src = addr_of(n);
    int n_size = n->ty->size < t->size ? n->ty->size : t->size;
    bool cut = t->kind == TY_STR && n->ty->kind == TY_STR && n->ty->len > t->len;
    if (cut)    /* a longer string keeps its first N-1 bytes and a NUL */
        n_size = (int)t->len - 1;
    copy_mem(dst, src, n_size);
    if (n_size < t->size)
        zero_mem((Addr){ dst.base, dst.off + n_size }, t->size - n_size);
}

/* ---- conversions ------------------------------------------------------- */

Ins *to_bool(Ins *v, Type *t)
{
    Ins *s = emit2(I_SETCC, 1, v, iconst(0, width_of(t)));
    s->cc = CC_NE;
    s->cw = (uint8_t)width_of(t);
    return s;
}

Ins *convert(Ins *v, Type *from, Type *to)
{
    if (to->kind == TY_BOOL && from->kind != TY_BOOL)
        return to_bool(v, from);
    int fw = width_of(from), tw = width_of(to);
    if (from->kind == TY_PTR || to->kind == TY_PTR) {
        Ins *c = emit1(I_COPY, 8, v);
        c->prov = to->kind == TY_PTR ? v->prov : P_NONE;
        c->ty = to->kind == TY_PTR ? to->base : NULL;
        return c;
    }
    if (tw == fw)
        return v;
    if (tw < fw)
        return emit1(I_COPY, tw, v);
    Ins *e = emit1(is_signed_type(from) ? I_SEXT : I_ZEXT, tw, v);
    e->imm = fw;
    return e;
}

/* ---- conditions -------------------------------------------------------- */

static Cond cond_of(Op op, bool sign)
{
    switch (op) {
    case OP_EQ: return CC_EQ;
    case OP_NE: return CC_NE;
    case OP_LT: return sign ? CC_SLT : CC_ULT;
    case OP_LE: return sign ? CC_SLE : CC_ULE;
    case OP_GT: return sign ? CC_SGT : CC_UGT;
    default: return sign ? CC_SGE : CC_UGE;
    }
}

static bool is_compare_op(Op op) { return op >= OP_EQ && op <= OP_GE; }

/* A presence test's operand is the entry pointer, not the value. */
static Ins *presence_operand(Node *n)
{
    if (n->kind == N_NULL)
        return iconst(0, 8);
    if (n->kind == N_IDENT && n->var && n->var->is_mapref)
        return read_var(n->var, L.cur);
    return map_lookup(n);
}

static Ins *str_equal(Node *a, Node *b);

void cond_branch(Node *c, Block *t, Block *f)
{
    L.pos = c->pos;
    if (c->is_const_val) {
        jump(c->cval ? t : f);
        return;
    }
    if (c->kind == N_UNARY && c->op == OP_NOT) {
        cond_branch(c->lhs, f, t);
        return;
    }
    if (c->kind == N_BINARY && (c->op == OP_LAND || c->op == OP_LOR)) {
        Block *mid = new_block();
        if (c->op == OP_LAND)
            cond_branch(c->lhs, mid, f);
        else
            cond_branch(c->lhs, t, mid);
        seal(mid);
        set_block(mid);
        cond_branch(c->rhs, t, f);
        return;
    }
    if (c->kind == N_BINARY && is_compare_op(c->op)) {
        if (c->is_presence) {
            Ins *a = presence_operand(c->lhs), *b = presence_operand(c->rhs);
            branch(c->op == OP_EQ ? CC_EQ : CC_NE, 8, a, b, t, f);
            return;
        }
        Type *ot = c->lhs->ty;
        if (ot->kind == TY_STR || c->rhs->ty->kind == TY_STR) {
            Ins *eq = str_equal(c->lhs, c->rhs);
            branch(c->op == OP_EQ ? CC_NE : CC_EQ, 1, eq, iconst(0, 1), t, f);
            return;
        }
        Ins *a = rvalue(c->lhs), *b = rvalue(c->rhs);
        bool sign = is_signed_type(ot);
        branch(cond_of(c->op, sign), width_of(ot), a, b, t, f);
        return;
    }
    Ins *v = rvalue(c);
    branch(CC_NE, width_of(c->ty), v, iconst(0, width_of(c->ty)), t, f);
}

/* A value computed along several paths joins through a synthetic variable. */
static Ins *join_value(Block *join, Var *v)
{
    seal(join);
    set_block(join->preds.n ? join : NULL);
    return L.cur ? read_var(v, L.cur) : iconst(0, width_of(v->ty));
}

static Ins *bool_value(Node *c)
{
    Var *v = synth_var("cond", ty_bool);
    Block *t = new_block(), *f = new_block(), *join = new_block();
    cond_branch(c, t, f);
    seal(t);
    set_block(t);
    write_var(v, t, iconst(1, 1));
    jump(join);
    seal(f);
    set_block(f);
    write_var(v, f, iconst(0, 1));
    jump(join);
    return join_value(join, v);
}

/* ---- strings ----------------------------------------------------------- */

/* Byte-wise comparison up to the first NUL, unrolled over the capacity. */
static Ins *str_equal(Node *a, Node *b)
{
    Addr pa = addr_of(a), pb = addr_of(b);
    long na = a->ty->kind == TY_STR ? a->ty->len : a->ty->size;
    long nb = b->ty->kind == TY_STR ? b->ty->len : b->ty->size;
    long n = na < nb ? na : nb;
    Var *res = synth_var("streq", ty_bool);
    Block *yes = new_block(), *no = new_block(), *join = new_block();
    for (long i = 0; i < n; i++) {
        Ins *ca = mem_op(I_LOAD, (Addr){ pa.base, pa.off + i }, 1);
        Ins *cb = mem_op(I_LOAD, (Addr){ pb.base, pb.off + i }, 1);
        Block *same = new_block(), *more = new_block();
        branch(CC_EQ, 1, ca, cb, same, no);
        seal(same);
        set_block(same);
        branch(CC_EQ, 1, ca, iconst(0, 1), yes, more);
        seal(more);
        set_block(more);
    }
    /* All n bytes equal and no NUL yet: equal only if the longer one ends here. */
    if (na != nb) {
        Addr pl = na > nb ? pa : pb;
        Ins *c = mem_op(I_LOAD, (Addr){ pl.base, pl.off + n }, 1);
        branch(CC_EQ, 1, c, iconst(0, 1), yes, no);
    } else {
        jump(yes);
    }
    seal(yes);
    set_block(yes);
    write_var(res, yes, iconst(1, 1));
    jump(join);
    seal(no);
    set_block(no);
    write_var(res, no, iconst(0, 1));
    jump(join);
    return join_value(join, res);
}

/* a + b for strings: copy a up to its NUL, then b, cut to the capacity. */
static Addr str_concat(Node *n)
{
    Type *t = n->ty;
    Addr out = new_slot(t, NULL);
    zero_mem(out, t->size);
    Node *parts[2] = { n->lhs, n->rhs };
    Addr srcs[2] = { addr_of(n->lhs), addr_of(n->rhs) };
    Ins *outp = addr_value(out);
    Var *len = synth_var("len", ty_u64);
    write_var(len, L.cur, iconst(0, 8));
    Block *done = new_block();
    for (int p = 0; p < 2; p++) {
        long cap = parts[p]->ty->kind == TY_STR ? parts[p]->ty->len : parts[p]->ty->size;
        Block *next = new_block();
        for (long i = 0; i < cap; i++) {
            Ins *c = mem_op(I_LOAD, (Addr){ srcs[p].base, srcs[p].off + i }, 1);
            Block *copy = new_block(), *room = new_block();
            branch(CC_EQ, 1, c, iconst(0, 1), next, copy);
            seal(copy);
            set_block(copy);
            Ins *k = read_var(len, L.cur);
            branch(CC_UGE, 8, k, iconst(t->len - 1, 8), done, room);
            seal(room);
            set_block(room);
            Ins *dst = emit2(I_ADD, 8, outp, k);
            dst->prov = P_STACK;
            Ins *st = mem_op(I_STORE, (Addr){ dst, 0 }, 1);
            st->a[1] = c;
            write_var(len, L.cur, emit2(I_ADD, 8, k, iconst(1, 8)));
        }
        jump(next);
        seal(next);
        set_block(next);
    }
    jump(done);
    seal(done);
    set_block(done);
    return out;
}

/* ---- lvalues and addresses ------------------------------------------- */

static Ins *scale(Ins *idx, Type *idx_ty, int size)
{
    Ins *i = convert(idx, idx_ty, idx_ty->is_signed ? ty_i64 : ty_u64);
    if (size == 1)
        return i;
    if ((size & (size - 1)) == 0)
        return emit2(I_SHL, 8, i, iconst(__builtin_ctz((unsigned)size), 8));
    return emit2(I_MUL, 8, i, iconst(size, 8));
}

static Addr index_addr(Addr base, Node *idx, int es)
{
    if (idx->is_const_val)
        return (Addr){ base.base, base.off + (int64_t)idx->cval * es };
    Ins *p = emit2(I_ADD, 8, base.base, scale(rvalue(idx), idx->ty, es));
    p->prov = base.base->prov;
    return (Addr){ p, base.off };
}

static Addr global_lvalue(Global *g)
{
    if (g->kind == GV_PIN)
        return (Addr){ pinned_base(), g->pin_offset };
    return (Addr){ global_addr(g, 0), 0 };
}

static Addr field_addr(Node *n)
{
    Node *l = n->lhs;
    if (n->sym && n->sym->kind == SYM_GLOBAL)   /* ns.global */
        return global_lvalue(n->sym->global);
    if (l->ty->kind == TY_PTR) {
        Ins *p = rvalue(l);
        return (Addr){ p, n->member_off };
    }
    if (l->kind == N_IDENT && l->var && l->var->is_mapref)
        return (Addr){ read_var(l->var, L.cur), n->member_off };
    if (l->kind == N_INDEX && l->lhs->ty->kind == TY_MAP)
        return (Addr){ map_lookup(l), n->member_off };
    Addr a = addr_of(l);
    return (Addr){ a.base, a.off + n->member_off };
}

Addr addr_of(Node *n)
{
    L.pos = n->pos;
    switch (n->kind) {
    case N_IDENT: {
        Sym *s = n->sym;
        if (s && s->kind == SYM_LOCAL) {
            Var *v = s->var;
            if (v->is_mapref)
                return (Addr){ read_var(v, L.cur), 0 };
            if (v->is_param && L.param_base && L.param_base[v->id])
                return (Addr){ L.param_base[v->id], 0 };
            if (var_in_ssa(v)) {    /* a scalar in a register: spill it */
                Addr a = new_slot(v->ty, NULL);
                store(a, read_var(v, L.cur), v->ty);
                return a;
            }
            return slot_addr(var_slot(v));
        }
        if (s && s->kind == SYM_GLOBAL)
            return global_lvalue(s->global);
        break;
    }
    case N_FIELD: return field_addr(n);
    case N_INDEX: {
        Type *lt = n->lhs->ty;
        if (lt->kind == TY_MAP)
            return (Addr){ map_lookup(n), 0 };
        int es = lt->kind == TY_STR ? 1 : lt->kind == TY_PTR
                 ? (lt->base->kind == TY_ARRAY ? lt->base->base->size : lt->base->size) : lt->base->size;
        Addr base = lt->kind == TY_PTR ? (Addr){ rvalue(n->lhs), 0 } : addr_of(n->lhs);
        return index_addr(base, n->rhs, es);
    }
    case N_DEREF: return (Addr){ rvalue(n->lhs), 0 };
    case N_BINARY:
        if (n->op == OP_ADD && n->ty->kind == TY_STR)
            return str_concat(n);
        break;
    case N_CALL: {
        Addr agg = { 0 };
        lower_call(n, &agg);
        if (agg.base)
            return agg;
        break;
    }
    default:
        break;
    }
    /* Anything else: evaluate into a temporary. */
    Addr tmp = new_slot(n->ty, NULL);
    store_value(tmp, n, n->ty);
    return tmp;
}

/* ---- rvalues ----------------------------------------------------------- */

/* Reads through a map reference: the value, or zero when absent. */
Ins *read_through(Ins *p, int64_t off, Type *t, Member *m)
{
    Var *v = synth_var("mapval", t);
    Block *yes = new_block(), *no = new_block(), *join = new_block();
    branch(CC_NE, 8, p, iconst(0, 8), yes, no);
    seal(yes);
    set_block(yes);
    Ins *val = load((Addr){ p, off }, t);
    if (m && m->bit_size) {
        val = emit2(I_SHR, width_of(t), val, iconst(m->bit_off, width_of(t)));
        val = emit2(I_AND, width_of(t), val, iconst((1LL << m->bit_size) - 1, width_of(t)));
    }
    write_var(v, L.cur, val);
    jump(join);
    seal(no);
    set_block(no);
    write_var(v, no, iconst(0, width_of(t)));
    jump(join);
    return join_value(join, v);
}

static bool through_mapref(Node *n)
{
    if (n->kind == N_IDENT)
        return n->var && n->var->is_mapref;
    if (n->kind == N_FIELD && !n->arrow && !n->sym)
        return through_mapref(n->lhs) || (n->lhs->kind == N_INDEX && n->lhs->lhs->ty->kind == TY_MAP);
    return false;
}

static Ins *load_member(Addr a, Member *m, Type *t)
{
    if (!m || !m->bit_size)
        return load(a, t);
    Ins *unit = load(a, m->ty);
    int w = width_of(m->ty);
    Ins *v = m->bit_off ? emit2(I_SHR, w, unit, iconst(m->bit_off, w)) : unit;
    return emit2(I_AND, w, v, iconst((1LL << m->bit_size) - 1, w));
}

static Ins *field_rvalue(Node *n)
{
    if (through_mapref(n)) {
        Addr a = field_addr(n);
        return read_through(a.base, a.off, n->ty, n->member);
    }
    Addr a = field_addr(n);
    Ins *v = load_member(a, n->member, n->ty);
    /* ctx->data and friends: the verifier turns these u32 loads into packet pointers */
    if (n->ty->kind == TY_PTR && n->member && n->member->ty->kind == TY_INT) {
        v->mw = (uint8_t)n->member->ty->size;
        v->w = 8;
        v->prov = !strcmp(n->name, "data") ? P_PKT : !strcmp(n->name, "data_end") ? P_PKT_END : P_PKT_META;
        v->ty = ty_u8;
    }
    return v;
}

static Ins *ptr_arith(Node *n)
{
    Ins *p = rvalue(n->lhs);
    Type *pt = n->lhs->ty;
    if (n->rhs->ty->kind == TY_PTR) {   /* p - q: elements between */
        Ins *q = rvalue(n->rhs);
        Ins *d = emit2(I_SUB, 8, p, q);
        int es = pt->base->size > 0 ? pt->base->size : 1;
        if (es > 1)
            d = emit2(I_SDIV, 8, d, iconst(es, 8));
        return d;
    }
    int es = pt->base->kind == TY_VOID ? 1 : pt->base->size;
    Ins *off;
    if (n->rhs->is_const_val) {
        int64_t k = (int64_t)n->rhs->cval * es;
        off = iconst(n->op == OP_SUB ? -k : k, 8);
    } else {
        off = scale(rvalue(n->rhs), n->rhs->ty, es);
        if (n->op == OP_SUB)
            off = emit1(I_NEG, 8, off);
    }
    Ins *r = emit2(I_ADD, 8, p, off);
    r->prov = p->prov;
    r->ty = pt->base;
    return r;
}

static IrOp arith_op(Op op, bool sign)
{
    switch (op) {
    case OP_ADD: return I_ADD;
    case OP_SUB: return I_SUB;
    case OP_MUL: return I_MUL;
    case OP_DIV: return sign ? I_SDIV : I_UDIV;
    case OP_MOD: return sign ? I_SMOD : I_UMOD;
    case OP_AND: return I_AND;
    case OP_OR: return I_OR;
    case OP_XOR: return I_XOR;
    case OP_SHL: return I_SHL;
    default: return sign ? I_SAR : I_SHR;
    }
}

static Ins *binary_rvalue(Node *n)
{
    if (n->op == OP_LAND || n->op == OP_LOR || is_compare_op(n->op))
        return bool_value(n);
    if (n->ty->kind == TY_PTR || (n->op == OP_SUB && n->lhs->ty->kind == TY_PTR))
        return ptr_arith(n);
    if (n->ty->kind == TY_BOOL) {   /* bool & | ^ */
        Ins *a = rvalue(n->lhs), *b = rvalue(n->rhs);
        return emit2(arith_op(n->op, false), 1, a, b);
    }
    Ins *a = rvalue(n->lhs), *b = rvalue(n->rhs);
    int w = width_of(n->ty);
    if (n->op == OP_SHL || n->op == OP_SHR)
        b = convert(b, n->rhs->ty, n->ty);
    return emit2(arith_op(n->op, is_signed_type(n->ty)), w, a, b);
}

/* if/match/block/ternary branches: the branch's value into the sink. */
static void sink_value(Node *body, Sink *s)
{
    if (body->kind == N_BLOCK) {
        int n = body->args.n;
        for (int i = 0; i + 1 < n; i++)
            lower_stmt(body->args.v[i]);
        if (n && L.cur)
            body = body->args.v[n - 1]->lhs;
        else
            return;
    }
    if (!L.cur)
        return;
    if (!s->var) {
        store_value(s->mem, body, s->ty);
        return;
    }
    Ins *val = rvalue(body);
    if (L.cur)
        write_var(s->var, L.cur, val);
}

/* The join after the branches: the variable's value there, or nothing. */
static Ins *sink_join(Block *join, Sink *s)
{
    if (s && s->var)
        return join_value(join, s->var);
    seal(join);
    set_block(join->preds.n ? join : NULL);
    return NULL;
}

/* After a two-way branch to t and f: each arm's value into the sink, then
 * the join. */
static Ins *arms_into(Block *t, Block *f, Node *then, Node *els, Sink *s)
{
    Block *join = new_block();
    seal(t);
    set_block(t);
    sink_value(then, s);
    jump(join);
    seal(f);
    set_block(f);
    sink_value(els, s);
    jump(join);
    return sink_join(join, s);
}

static Ins *ternary_into(Node *n, Sink *s)
{
    Block *t = new_block(), *f = new_block();
    cond_branch(n->cond, t, f);
    return arms_into(t, f, n->then, n->els, s);
}

/* An arm's body: its value into the sink, or (no sink) as statements. */
static void arm_body(Node *body, Sink *s)
{
    if (s)
        sink_value(body, s);
    else if (body->kind == N_BLOCK)
        lower_block(body);
    else
        rvalue(body);
}

/* match: a chain of equality tests, then the arms. */
static Ins *match_into(Node *m, Sink *s)
{
    Ins *x = rvalue(m->cond);
    int w = width_of(m->cond->ty);
    Block *join = new_block();
    Node *deflt = NULL;
    for (int i = 0; i < m->args.n; i++) {
        Node *arm = m->args.v[i];
        if (!arm->args.n) {
            /* lowered last, once its only predecessor (the end of the
             * test chain) exists: sealed earlier, its body would read
             * every variable as undefined */
            deflt = arm;
            continue;
        }
        Block *body = new_block();
        for (int j = 0; j < arm->args.n; j++) {
            Block *next = new_block();
            branch(CC_EQ, w, x, rvalue(arm->args.v[j]), body, next);
            seal(next);
            set_block(next);
        }
        Block *resume = L.cur;
        seal(body);
        set_block(body);
        arm_body(arm->body, s);
        jump(join);
        set_block(resume);
    }
    if (deflt) {
        Block *body = new_block();
        jump(body);
        seal(body);
        set_block(body);
        arm_body(deflt->body, s);
    }
    /* without a default the match is exhaustive, or a statement that
     * does nothing when no arm matches */
    jump(join);
    return sink_join(join, s);
}

void lower_match_stmt(Node *m) { match_into(m, NULL); }

static Ins *if_into(Node *n, Sink *s)
{
    Block *t = new_block(), *f = new_block();
    if (n->init) {
        lower_stmt(n->init);
        Var *b = n->init->var;
        branch(CC_NE, 8, read_var(b, L.cur), iconst(0, 8), t, f);
    } else {
        cond_branch(n->cond, t, f);
    }
    return arms_into(t, f, n->then, n->els, s);
}

/* A value-producing if, match, ternary or block, into its sink. */
static Ins *branches_into(Node *n, Sink *s)
{
    switch (n->kind) {
    case N_TERNARY: return ternary_into(n, s);
    case N_MATCH: return match_into(n, s);
    case N_IF: return if_into(n, s);
    default:
        sink_value(n, s);
        return s->var && L.cur ? read_var(s->var, L.cur) : NULL;
    }
}

static bool is_branching(Node *n)
{
    return n->kind == N_TERNARY || n->kind == N_MATCH || n->kind == N_IF || n->kind == N_BLOCK;
}

static Ins *branches_rvalue(Node *n)
{
    Sink s = { synth_var("val", n->ty), { 0 }, n->ty };
    Ins *v = branches_into(n, &s);
    return v ? v : iconst(0, width_of(n->ty));
}

static Ins *ident_rvalue(Node *n)
{
    Sym *s = n->sym;
    if (s && s->kind == SYM_LOCAL) {
        Var *v = s->var;
        if (v->is_mapref)
            return read_through(read_var(v, L.cur), 0, v->ty, NULL);
        if (var_in_ssa(v))
            return read_var(v, L.cur);
        return load(slot_addr(var_slot(v)), v->ty);
    }
    if (s && s->kind == SYM_GLOBAL) {
        Global *g = s->global;
        if (g->kind == GV_MAP)
            return map_ref(g);
        return load(global_lvalue(g), g->ty);
    }
    return iconst(0, width_of(n->ty));
}

Ins *rvalue(Node *n)
{
    L.pos = n->pos;
    Type *t = n->ty;
    if (n->is_const_val && (t->kind == TY_INT || t->kind == TY_BOOL || t->kind == TY_CHAR || t->kind == TY_ENUM))
        return iconst((int64_t)n->cval, width_of(t));
    if (is_aggregate(t) && n->kind != N_CALL)
        return addr_value(addr_of(n));
    switch (n->kind) {
    case N_INT: case N_CHAR: case N_BOOL: return iconst((int64_t)n->ival, width_of(t));
    case N_NULL: return iconst(0, 8);
    case N_STR: return string_addr(n->sval, n->slen);
    case N_IDENT: return ident_rvalue(n);
    case N_BINARY: return binary_rvalue(n);
    case N_UNARY:
        if (n->op == OP_NOT && n->lhs->ty->kind == TY_BOOL)   /* a bool is 0 or 1 */
            return emit2(I_XOR, 1, rvalue(n->lhs), iconst(1, 1));
        if (n->op == OP_NOT)
            return bool_value(n);
        return emit1(n->op == OP_NEG ? I_NEG : I_NOT, width_of(t), rvalue(n->lhs));
    case N_ADDR:
        if (n->lhs->ty->kind == TY_MAP)
            return rvalue(n->lhs);
        return addr_value(addr_of(n->lhs));
    case N_DEREF: return load(addr_of(n), t);
    case N_FIELD:
        if (n->sym)
            return ident_rvalue(n);
        return field_rvalue(n);
    case N_INDEX:
        if (n->lhs->ty->kind == TY_MAP)
            return map_read(n, t);
        return load(addr_of(n), t);
    case N_CAST: return convert(rvalue(n->lhs), n->lhs->ty, t);
    case N_SIZEOF: return iconst((int64_t)n->cval, width_of(t));
    case N_TERNARY: return branches_rvalue(n);
    case N_CALL: {
        Addr agg = { 0 };
        Ins *r = lower_call(n, &agg);
        return agg.base ? addr_value(agg) : r;
    }
    case N_MATCH: case N_IF: case N_BLOCK: return branches_rvalue(n);
    case N_SCOPED: return iconst((int64_t)n->cval, width_of(t));
    default:
        error_at(n->pos, "internal: cannot lower this expression to BPF yet");
        return iconst(0, 8);
    }
}

/* ---- assignment -------------------------------------------------------- */

static void assign_bitfield(Addr a, Member *m, Ins *v)
{
    int w = width_of(m->ty);
    int64_t mask = ((1LL << m->bit_size) - 1) << m->bit_off;
    Ins *unit = load(a, m->ty);
    Ins *kept = emit2(I_AND, w, unit, iconst(~mask, w));
    Ins *vv = emit2(I_AND, w, convert(v, ty_u64, m->ty), iconst((1LL << m->bit_size) - 1, w));
    if (m->bit_off)
        vv = emit2(I_SHL, w, vv, iconst(m->bit_off, w));
    store(a, emit2(I_OR, w, kept, vv), m->ty);
}

static void compound(Node *n, Addr a)
{
    Type *lt = n->lhs->ty, *ot = n->decl_ty ? n->decl_ty : lt;
    Ins *cur = load_member(a, n->lhs->member, lt);
    Ins *rhs = rvalue(n->rhs);
    Ins *res;
    if (lt->kind == TY_PTR) {
        int es = lt->base->size > 0 ? lt->base->size : 1;
        Ins *off = scale(rhs, n->rhs->ty, es);
        if (n->op == OP_SUB)
            off = emit1(I_NEG, 8, off);
        res = emit2(I_ADD, 8, cur, off);
        res->prov = cur->prov;
    } else {
        Ins *x = convert(cur, lt, ot);
        if (n->op == OP_SHL || n->op == OP_SHR)
            rhs = convert(rhs, n->rhs->ty, ot);
        res = convert(emit2(arith_op(n->op, is_signed_type(ot)), width_of(ot), x, rhs), ot, lt);
    }
    if (n->lhs->member && n->lhs->member->bit_size)
        assign_bitfield(a, n->lhs->member, res);
    else
        store(a, res, lt);
}

void assign(Node *n)
{
    Node *l = n->lhs;
    if ((l->kind == N_INDEX && l->lhs->ty->kind == TY_MAP)
        || (l->kind == N_FIELD && l->lhs->kind == N_INDEX && l->lhs->lhs->ty->kind == TY_MAP && !l->arrow)) {
        map_assign(n);
        return;
    }
    if (l->kind == N_IDENT && l->var && l->var->is_mapref) {
        Var *v = l->var;
        int e = L.entries.n;
        while (e > 0 && L.entries.v[e - 1] != v)
            e--;
        if (n->is_rebind) {
            if (e)      /* it may be null again: later writes make it a local */
                L.entries.v[e - 1] = NULL;
            write_var(v, L.cur, map_lookup(n->rhs));
            return;
        }
        if (e) {
            /* inside if (var x = m[k]): x is the entry, proven non-null */
            Addr a = { read_var(v, L.cur), 0 };
            if (n->op != OP_NONE)
                compound(n, a);
            else
                store_value(a, n->rhs, v->ty);
            return;
        }
        /* x = value: x becomes a local holding it */
        Addr own = slot_addr(var_slot(v));
        if (n->op == OP_NONE) {
            store_value(own, n->rhs, v->ty);
        } else {
            Ins *p = read_var(v, L.cur);
            Ins *cur = read_through(p, 0, v->ty, NULL);
            Ins *res = emit2(arith_op(n->op, is_signed_type(v->ty)), width_of(v->ty), cur, rvalue(n->rhs));
            store(own, res, v->ty);
        }
        write_var(v, L.cur, addr_value(own));
        return;
    }
    if (l->kind == N_IDENT && l->var && var_in_ssa(l->var)) {
        Var *v = l->var;
        Ins *val;
        if (n->op == OP_NONE) {
            val = rvalue(n->rhs);
        } else {
            Type *ot = n->decl_ty ? n->decl_ty : v->ty;
            Ins *cur = read_var(v, L.cur);
            Ins *rhs = rvalue(n->rhs);
            if (v->ty->kind == TY_PTR) {
                int es = v->ty->base->size > 0 ? v->ty->base->size : 1;
                Ins *off = scale(rhs, n->rhs->ty, es);
                if (n->op == OP_SUB)
                    off = emit1(I_NEG, 8, off);
                val = emit2(I_ADD, 8, cur, off);
                val->prov = cur->prov;
            } else {
                if (n->op == OP_SHL || n->op == OP_SHR)
                    rhs = convert(rhs, n->rhs->ty, ot);
                Ins *r = emit2(arith_op(n->op, is_signed_type(ot)), width_of(ot), convert(cur, v->ty, ot), rhs);
                val = convert(r, ot, v->ty);
            }
        }
        if (L.cur)
            write_var(v, L.cur, val);
        return;
    }
    Addr a = addr_of(l);
    if (n->op != OP_NONE) {
        compound(n, a);
        return;
    }
    if (l->kind == N_FIELD && l->member && l->member->bit_size) {
        assign_bitfield(a, l->member, rvalue(n->rhs));
        return;
    }
    store_value(a, n->rhs, l->ty);
}
