/* Lowering, part three: calls (BPF-to-BPF, helpers, kfuncs, tail calls),
 * maps and ring buffers, print, strings in .rodata, globals, and the
 * per-function set-up that turns a Func into an IrFunc. */
#include "ir/lower.h"

#include <linux/bpf.h>
#include <string.h>

/* The name a struct_ops member has as a subprogram of its siblings. */
static const char *sub_copy_name(Func *fn) { return xfmt("%s__sub", fn->sym_name); }

/* ---- globals, strings, maps -------------------------------------------- */

Ins *string_addr(const char *s, int len)
{
    IrProgram *ip = L.ip;
    int idx = -1;
    for (int i = 0; i < ip->strings.n && idx < 0; i++)
        if (ip->string_lens.v[i] == len && !memcmp(ip->strings.v[i], s, (size_t)len))
            idx = i;
    if (idx < 0) {
        idx = ip->strings.n;
        vpush(ip->strings, xstrndup(s, (size_t)len));
        vpush(ip->string_lens, len);
    }
    Ins *g = emit(I_GLOBAL, 8);
    g->sym = xfmt("__ksc_str%d", idx);
    g->prov = P_RODATA;
    return g;
}

Ins *global_addr(Global *g, int64_t off)
{
    Ins *i = emit(I_GLOBAL, 8);
    i->sym = g->name;
    i->imm = off;
    i->prov = P_GLOBAL;
    i->ty = g->ty;
    return i;
}

Ins *map_ref(Global *g)
{
    Ins *i = emit(I_MAP, 8);
    i->sym = g->name;
    i->prov = P_MAP;
    return i;
}

static Ins *map_named(const char *name)
{
    Ins *i = emit(I_MAP, 8);
    i->sym = name;
    i->prov = P_MAP;
    return i;
}

static Ins *call_helper(int id, Ins **args, int n, int w)
{
    Ins *c = emit(I_CALL_HELPER, w);
    c->imm = id;
    c->args = xalloc(sizeof(Ins *) * (size_t)(n ? n : 1));
    memcpy(c->args, args, sizeof(Ins *) * (size_t)n);
    c->nargs = n;
    return c;
}

Ins *pinned_base(void) { return L.pinned; }

static Global *map_global(Node *m)
{
    Node *n = m->kind == N_ADDR ? m->lhs : m;
    return n->sym && n->sym->kind == SYM_GLOBAL ? n->sym->global : NULL;
}

/* e of type t in memory, for a helper that reads it by pointer: a local
 * already in memory is passed as it is (helpers only read keys and values),
 * anything else is stored to a new stack slot. */
static Ins *by_pointer(Node *e, Type *t)
{
    if (e->kind == N_IDENT && e->var && !var_in_ssa(e->var) && !e->var->is_mapref && same_type(e->ty, t))
        return addr_value(addr_of(e));
    Addr a = new_slot(t, NULL);
    store_value(a, e, t);
    return addr_value(a);
}

/* The key of m[k] (helpers take keys by pointer). */
static Ins *key_ptr(Node *idx) { return by_pointer(idx->rhs, idx->lhs->ty->key); }

Ins *map_lookup(Node *idx)
{
    Global *g = map_global(idx->lhs);
    Ins *args[2] = { map_ref(g), key_ptr(idx) };
    L.pos = idx->pos;
    Ins *p = call_helper(BPF_FUNC_map_lookup_elem, args, 2, 8);
    p->prov = P_MAP_VALUE;
    p->ty = idx->lhs->ty->base;
    return p;
}

/* if (p) { then } else { els }: returns with the current block at the join. */
static void if_nonnull(Ins *p, Block **then, Block **els, Block **join)
{
    *then = new_block();
    *els = new_block();
    *join = new_block();
    branch(CC_NE, 8, p, iconst(0, 8), *then, *els);
    seal(*then);
    seal(*els);
    set_block(*then);
}

Ins *map_read(Node *idx, Type *t) { return read_through(map_lookup(idx), 0, t, NULL); }

void copy_map_value(Addr dst, Node *src, int size)
{
    Ins *p = src->kind == N_IDENT ? read_var(src->var, L.cur) : map_lookup(src);
    int n = src->ty->size < size ? src->ty->size : size;
    zero_mem(dst, size);
    Block *yes, *no, *join;
    if_nonnull(p, &yes, &no, &join);
    copy_mem(dst, (Addr){ p, 0 }, n);
    jump(join);
    set_block(no);
    jump(join);
    seal(join);
    set_block(join);
}

static Ins *update(Global *g, Ins *key, Ins *val, int64_t flags)
{
    Ins *args[4] = { map_ref(g), key, val, iconst(flags, 8) };
    return call_helper(BPF_FUNC_map_update_elem, args, 4, 8);
}

static IrOp op_of(Op op, bool sign)
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

/* The new value of an in-place compound update, from the current one. */
static Ins *apply(Node *n, Ins *cur, Type *lt)
{
    Type *ot = n->decl_ty ? n->decl_ty : lt;
    bool sign = (ot->kind == TY_INT || ot->kind == TY_ENUM) && ot->is_signed;
    Ins *rhs = rvalue(n->rhs);
    if (n->op == OP_SHL || n->op == OP_SHR)
        rhs = convert(rhs, n->rhs->ty, ot);
    Ins *r = emit2(op_of(n->op, sign), width_of(ot), convert(cur, lt, ot), rhs);
    return convert(r, ot, lt);
}

/* Counters shared between CPUs are updated atomically. */
static bool atomic_ok(Node *n, Type *lt, Global *g)
{
    return (n->op == OP_ADD || n->op == OP_SUB) && (lt->kind == TY_INT) && (lt->size == 4 || lt->size == 8)
        && !map_is_percpu(g->ty->map);
}

static void update_in_place(Node *n, Ins *p, int64_t off, Type *lt, Global *g, Member *m)
{
    Addr a = { p, off };
    if (n->op == OP_NONE) {
        store_value(a, n->rhs, lt);
        return;
    }
    if (!m || !m->bit_size) {
        if (atomic_ok(n, lt, g)) {
            Ins *v = convert(rvalue(n->rhs), n->rhs->ty, lt);
            if (n->op == OP_SUB)
                v = emit1(I_NEG, width_of(lt), v);
            Ins *at = emit2(I_ATOMIC_ADD, 0, p, v);
            at->imm = off;
            at->mw = (uint8_t)lt->size;
            return;
        }
        store(a, apply(n, load(a, lt), lt), lt);
        return;
    }
    int w = width_of(m->ty);
    Ins *unit = load(a, m->ty);
    Ins *cur = emit2(I_AND, w, m->bit_off ? emit2(I_SHR, w, unit, iconst(m->bit_off, w)) : unit,
                     iconst((1LL << m->bit_size) - 1, w));
    Ins *nv = emit2(I_AND, w, apply(n, cur, lt), iconst((1LL << m->bit_size) - 1, w));
    int64_t mask = ((1LL << m->bit_size) - 1) << m->bit_off;
    Ins *kept = emit2(I_AND, w, unit, iconst(~mask, w));
    store(a, emit2(I_OR, w, kept, m->bit_off ? emit2(I_SHL, w, nv, iconst(m->bit_off, w)) : nv), m->ty);
}

void map_assign(Node *n)
{
    Node *l = n->lhs;
    bool field = l->kind == N_FIELD;
    Node *idx = field ? l->lhs : l;
    Global *g = map_global(idx->lhs);
    Type *vt = idx->lhs->ty->base;
    if (!field && n->op == OP_NONE) {   /* m[k] = v */
        Ins *key = key_ptr(idx);
        update(g, key, by_pointer(n->rhs, vt), BPF_ANY);
        return;
    }
    Ins *p = map_lookup(idx);
    Block *yes, *no, *join;
    if_nonnull(p, &yes, &no, &join);
    update_in_place(n, p, field ? l->member_off : 0, l->ty, g, field ? l->member : NULL);
    jump(join);
    set_block(no);
    /* absent: the value is op(0, v), inserted; an array map has every
     * key in range already, and one out of range cannot be inserted */
    if (!field && !map_is_array(g->ty->map)) {
        Ins *nv = apply(n, iconst(0, width_of(vt)), vt);
        Addr v = new_slot(vt, NULL);
        store(v, nv, vt);
        update(g, key_ptr(idx), addr_value(v), BPF_ANY);
    }
    jump(join);
    seal(join);
    set_block(join);
}

void map_delete(Node *n)
{
    Node *idx = n->lhs;
    Ins *args[2] = { map_ref(map_global(idx->lhs)), key_ptr(idx) };
    call_helper(BPF_FUNC_map_delete_elem, args, 2, 8);
}

/* ---- print ------------------------------------------------------------- */

/* The format with ksc's length modifiers, extra values appended, and a
 * final newline; arguments widened to what trace_printk reads. */
static Ins *lower_print(Node *n)
{
    Node *fmt = n->args.n && n->args.v[0]->kind == N_STR ? n->args.v[0] : NULL;
    int first = fmt ? 1 : 0;
    VEC(char) out = { 0 };
    int arg = first;
    const char *s = fmt ? fmt->sval : "";
    int slen = fmt ? fmt->slen : 0;
    for (int i = 0; i < slen; i++) {
        if (s[i] != '%' || (i + 1 < slen && s[i + 1] == '%')) {
            vpush(out, s[i]);
            if (s[i] == '%')
                vpush(out, s[++i]);
            continue;
        }
        vpush(out, '%');
        int j = i + 1;
        while (j < slen && strchr("-+ #0123456789.", s[j]))
            vpush(out, s[j++]);
        while (j < slen && strchr("hlzjt", s[j]))
            j++;
        Type *t = arg < n->args.n ? n->args.v[arg]->ty : ty_u32;
        if (strchr("diuxX", s[j]) && (t->kind == TY_INT || t->kind == TY_ENUM) && t->size == 8) {
            vpush(out, 'l');
            vpush(out, 'l');
        }
        vpush(out, s[j]);
        arg++;
        i = j;
    }
    for (; arg < n->args.n; arg++) {
        Type *t = n->args.v[arg]->ty;
        const char *conv = t->kind == TY_STR || t->kind == TY_PTR ? "%s" : t->size == 8 ? (t->is_signed ? "%lld" : "%llu")
                                                                            : t->is_signed ? "%d" : "%u";
        if (out.n)
            vpush(out, ' ');
        for (const char *c = conv; *c; c++)
            vpush(out, *c);
    }
    if (!out.n || out.v[out.n - 1] != '\n')
        vpush(out, '\n');
    Ins *args[5];
    args[0] = string_addr(out.v, out.n);
    args[1] = iconst(out.n + 1, 4);
    int na = 2;
    for (int i = first; i < n->args.n && na < 5; i++) {
        Node *a = n->args.v[i];
        Ins *v = rvalue(a);
        if (is_aggregate(a->ty) || a->ty->kind == TY_PTR)
            args[na++] = v;
        else
            args[na++] = convert(v, a->ty, a->ty->size == 8 ? ty_u64 : (a->ty->is_signed ? ty_i64 : ty_u64));
    }
    return call_helper(BPF_FUNC_trace_printk, args, na, 8);
}

/* ---- calls ------------------------------------------------------------- */

static Ins *helper_arg(Node *a, char code)
{
    if (code == 'M')
        return map_ref(map_global(a));
    if (code == 'f') {
        Ins *fa = emit(I_FUNC_ADDR, 8);
        fa->sym = a->func->sym_name;
        return fa;
    }
    if (is_aggregate(a->ty))
        return addr_value(addr_of(a));
    Ins *v = rvalue(a);
    if (strchr("uUiI", code))
        return v;
    return v;
}

static Ins *lower_helper(Node *n)
{
    const Helper *h = helper_by_id((int)n->ival);
    const char *params = strchr(h->sig, ':') + 1;
    Ins *args[5];
    int na = 0;
    for (int i = 0; i < n->args.n && na < 5; i++)
        args[na++] = helper_arg(n->args.v[i], i < (int)strlen(params) && params[i] != '.' ? params[i] : 'U');
    Ins *c = call_helper(h->id, args, na, h->sig[0] == 'v' ? 0 : (h->sig[0] == 'u' || h->sig[0] == 'i') ? 4 : 8);
    if (h->sig[0] == 'p') {
        c->prov = h->id == BPF_FUNC_ringbuf_reserve ? P_RINGBUF : P_MAP_VALUE;
        c->ty = ty_void;
    }
    return c;
}

static Ins *lower_ringbuf(Node *n)
{
    Global *g = map_global(n->args.v[0]);
    Type *ev = g->ty->base;
    switch (n->builtin) {
    case B_RB_RESERVE: {
        Ins *args[3] = { map_ref(g), iconst(ev->size, 8), iconst(0, 8) };
        Ins *c = call_helper(BPF_FUNC_ringbuf_reserve, args, 3, 8);
        c->prov = P_RINGBUF;
        c->ty = ev;
        return c;
    }
    case B_RB_SUBMIT: case B_RB_DISCARD: {
        Ins *args[2] = { rvalue(n->args.v[1]), iconst(0, 8) };
        return call_helper(n->builtin == B_RB_SUBMIT ? BPF_FUNC_ringbuf_submit : BPF_FUNC_ringbuf_discard, args, 2, 0);
    }
    default: {  /* output */
        Node *v = n->args.v[1];
        Ins *data;
        if (v->ty->kind == TY_PTR) {
            data = rvalue(v);
        } else {
            Addr s = new_slot(ev, NULL);
            store_value(s, v, ev);
            data = addr_value(s);
        }
        Ins *args[4] = { map_ref(g), data, iconst(ev->size, 8), iconst(0, 8) };
        return call_helper(BPF_FUNC_ringbuf_output, args, 4, 8);
    }
    }
}

static Ins *byte_swap(Node *n, int bits)
{
    Ins *v = rvalue(n->args.v[0]);
    Ins *s = emit1(I_BSWAP, bits / 8, v);
    s->imm = bits;
    return s;
}

/* The prog_array of a program kind, with the callee's slot in it. */
static int tail_slot(Func *callee, const char **map)
{
    IrProgram *ip = L.ip;
    const char *kind = callee->kind == FN_XDP ? "xdp" : callee->kind == FN_TC ? (callee->tc_egress ? "tc_egress" : "tc")
                     : callee->kind == FN_TRACEPOINT ? "tp" : callee->kind == FN_PERF_EVENT ? "perf" : "probe";
    *map = xfmt("ksc_tail_%s", kind);
    int slot = 0;
    for (int i = 0; i < ip->prog->funcs.n; i++) {
        Func *f = ip->prog->funcs.v[i];
        if (f == callee)
            return slot;
        if (f->kind == callee->kind && f->tc_egress == callee->tc_egress && f->target == TGT_EBPF && !f->impl)
            slot++;
    }
    return slot;
}

static Ins *lower_tail_call(Node *n)
{
    const char *map;
    int slot = tail_slot(n->func, &map);
    Ins *m = map_named(map);
    Ins *t = emit(I_TAIL_CALL, 0);
    t->a[0] = L.ctx;
    t->a[1] = m;
    t->imm = slot;
    t->sym = map;
    t->target = n->func->sym_name;
    emit_return(iconst(L.f->default_ret, 4));
    return NULL;
}

/* A call of a @helper (or struct_ops sibling): aggregates by pointer to a
 * copy, an aggregate result through a hidden pointer, thrown codes
 * through a hidden error slot. */
static Ins *lower_bpf_call(Node *n, Addr *agg)
{
    Func *f = n->func;
    Ins *args[8];
    int na = 0;
    Addr ret = { 0 };
    if (is_aggregate(f->ret)) {
        ret = new_slot(f->ret, NULL);
        args[na++] = addr_value(ret);
    }
    for (int i = 0; i < n->args.n && na < 7; i++) {
        Node *a = n->args.v[i];
        if (is_aggregate(a->ty)) {
            Addr copy = new_slot(f->params.v[i]->ty, NULL);
            store_value(copy, a, f->params.v[i]->ty);
            args[na++] = addr_value(copy);
        } else {
            args[na++] = rvalue(a);
        }
    }
    Addr err = { 0 };
    if (f->throws) {
        err = new_slot(ty_u32, NULL);
        mem_store(err, iconst(0, 4), 4);
        args[na++] = addr_value(err);
    }
    Ins *c = emit(f->target == TGT_EBPF ? I_CALL : I_CALL_KFUNC, f->ret->kind == TY_VOID ? 0 : 8);
    if (!is_aggregate(f->ret) && f->ret->kind != TY_VOID)
        c->w = (uint8_t)width_of(f->ret);
    c->sym = f->target != TGT_EBPF ? f->name : f->impl ? sub_copy_name(f) : f->sym_name;
    c->args = xalloc(sizeof(Ins *) * (size_t)(na ? na : 1));
    memcpy(c->args, args, sizeof(Ins *) * (size_t)na);
    c->nargs = na;
    c->prov = (uint8_t)prov_of_type(f->ret);
    if (f->ret->kind == TY_PTR)
        c->ty = f->ret->base;
    if (f->throws)
        raise_if_error(mem_load(err, 4));
    if (ret.base) {
        *agg = ret;
        return NULL;
    }
    return c;
}

Ins *lower_call(Node *n, Addr *agg)
{
    L.pos = n->pos;
    if (n->tail_call)
        return lower_tail_call(n);
    if (n->func && !n->builtin) {
        Func *f = n->func;
        if (f->kind == FN_EXTERN && f->helper_id) {
            const Helper *h = helper_by_id(f->helper_id);
            if (h) {
                n->ival = (uint64_t)h->id;
                return lower_helper(n);
            }
        }
        return lower_bpf_call(n, agg);
    }
    switch (n->builtin) {
    case B_HELPER: return lower_helper(n);
    case B_PRINT: return lower_print(n);
    case B_HTONS: case B_NTOHS: return byte_swap(n, 16);
    case B_HTONL: case B_NTOHL: return byte_swap(n, 32);
    case B_RB_RESERVE: case B_RB_SUBMIT: case B_RB_DISCARD: case B_RB_OUTPUT: return lower_ringbuf(n);
    default:
        error_at(n->pos, "internal: this call has no BPF form");
        return iconst(0, 8);
    }
}

/* ---- functions --------------------------------------------------------- */

static const char *section_of(Func *f)
{
    switch (f->kind) {
    case FN_XDP: return "xdp";
    case FN_TC: return "tc";
    case FN_TRACEPOINT: return xfmt("tracepoint/%s", f->attr_arg);
    case FN_PERF_EVENT: return "perf_event";
    case FN_STRUCT_OPS: return xfmt("struct_ops/%s", f->name);
    case FN_PROBE:
        if (f->kprobe)
            return f->probe_offset ? xfmt("kprobe/%s+%ld", f->probe_func, f->probe_offset)
                                   : xfmt("kprobe/%s", f->probe_func);
        return xfmt("fentry/%s", f->probe_func);
    default: return ".text";
    }
}

static int default_verdict(Func *f)
{
    return f->kind == FN_XDP ? 0 : f->kind == FN_TC ? 2 : 0;
}

static bool uses_pinned(Node *n)
{
    if (!n)
        return false;
    if ((n->kind == N_IDENT || n->kind == N_FIELD) && n->sym && n->sym->kind == SYM_GLOBAL
        && n->sym->global->kind == GV_PIN)
        return true;
    Node *kids[] = { n->lhs, n->rhs, n->cond, n->then, n->els, n->body, n->init };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        if (uses_pinned(kids[i]))
            return true;
    for (int i = 0; i < n->args.n; i++)
        if (uses_pinned(n->args.v[i]))
            return true;
    return false;
}

/* The pinned globals' entry, looked up once; a failed lookup (never, for
 * an array map's key 0, but the verifier needs the test) returns. */
static void lookup_pinned(void)
{
    L.ip->uses_pinned_globals = true;
    Addr k = new_slot(ty_u32, NULL);
    mem_store(k, iconst(0, 4), 4);
    Ins *args[2] = { map_named("pinned_globals"), addr_value(k) };
    Ins *p = call_helper(BPF_FUNC_map_lookup_elem, args, 2, 8);
    p->prov = P_MAP_VALUE;
    Block *ok = new_block(), *fail = new_block();
    branch(CC_NE, 8, p, iconst(0, 8), ok, fail);
    seal(fail);
    set_block(fail);
    Ins *v = L.fn->ret->kind == TY_VOID ? NULL : iconst(L.f->default_ret, width_of(L.fn->ret));
    Ins *r = emit(I_RET, 0);
    r->a[0] = v;
    L.cur = NULL;
    seal(ok);
    set_block(ok);
    L.pinned = p;
}

/* x86-64 pt_regs offsets of the syscall argument registers. */
static const int syscall_reg_off[6] = { 112, 104, 96, 56, 72, 64 };

static void bind_params(Func *fn, IrFunc *f)
{
    int reg = 0;
    if (is_aggregate(fn->ret) && !fn->impl) {
        L.ret_ptr = emit(I_ARG, 8);
        L.ret_ptr->imm = reg++;
        L.ret_ptr->prov = P_STACK;
        f->hidden_ret = true;
    }
    bool ctx_array = !f->sub_copy && (fn->kind == FN_STRUCT_OPS || (fn->kind == FN_PROBE && !fn->kprobe));
    Ins *ctx = NULL;
    if (ctx_array) {
        ctx = emit(I_ARG, 8);
        ctx->imm = 0;
        ctx->prov = P_CTX;
        L.ctx = ctx;
        reg = 1;
    }
    Ins *regs = NULL;
    if (fn->probe_syscall) {
        regs = load((Addr){ ctx, 0 }, pointer_to(ty_void));
        regs->prov = P_KERNEL;
    }
    for (int i = 0; i < fn->params.n; i++) {
        Var *v = fn->params.v[i];
        Ins *val;
        if (fn->probe_syscall) {
            val = load((Addr){ regs, i < 6 ? syscall_reg_off[i] : 0 }, v->ty);
        } else if (ctx_array) {
            val = load((Addr){ ctx, 8 * i }, v->ty);
        } else {
            val = emit(I_ARG, is_aggregate(v->ty) ? 8 : width_of(v->ty));
            val->imm = reg++;
            val->prov = (uint8_t)(is_program(fn) && i == 0 ? P_CTX : prov_of_type(v->ty));
            if (val->prov == P_CTX)
                L.ctx = val;
            if (v->ty->kind == TY_PTR)
                val->ty = v->ty->base;
        }
        if (is_aggregate(v->ty)) {
            val->prov = P_STACK;
            L.param_base[v->id] = val;
        } else if (var_in_ssa(v)) {
            write_var(v, L.cur, val);
        } else {
            store(slot_addr(var_slot(v)), val, v->ty);
        }
    }
    if (fn->throws) {
        L.err_ptr = emit(I_ARG, 8);
        L.err_ptr->imm = reg++;
        L.err_ptr->prov = P_STACK;
        f->hidden_err = true;
    }
    f->nparams = reg;
}

static IrFunc *lower_func(IrProgram *ip, Func *fn, bool unroll, bool sub_copy)
{
    IrFunc *f = ir_new_func(fn);
    f->sub_copy = sub_copy;
    f->section = sub_copy ? ".text" : section_of(fn);
    f->is_program = is_program(fn) && !sub_copy;
    f->is_static = !f->is_program;
    if (sub_copy)
        f->name = sub_copy_name(fn);
    f->default_ret = default_verdict(fn);
    memset(&L, 0, sizeof L);
    L.ip = ip;
    L.f = f;
    L.fn = fn;
    L.unroll = unroll;
    L.nvars = fn->locals.n;
    L.param_base = xalloc(sizeof(Ins *) * (size_t)(fn->locals.n + 1));
    L.code_var = synth_var("thrown", ty_i32);
    Block *entry = new_block();
    entry->sealed = true;
    set_block(entry);
    L.pos = fn->pos;
    bind_params(fn, f);
    f->ctx = L.ctx;
    if (uses_pinned(fn->body))
        lookup_pinned();
    lower_body(fn->body);
    if (L.cur) {    /* falling off the end: void, main-like or named return */
        if (fn->ret_var)
            lower_stmt(&(Node){ .kind = N_RETURN, .pos = fn->pos });
        else
            emit_return(fn->ret->kind == TY_VOID ? NULL : iconst(0, width_of(fn->ret)));
    }
    lower_defer_chain();
    return f;
}

IrProgram *ir_lower(Program *p, bool unroll)
{
    IrProgram *ip = xalloc(sizeof(IrProgram));
    ip->prog = p;
    for (int i = 0; i < p->funcs.n; i++) {
        Func *fn = p->funcs.v[i];
        if (fn->target != TGT_EBPF || !fn->body)
            continue;
        IrFunc *f = lower_func(ip, fn, unroll, false);
        vpush(ip->funcs, f);
    }
    /* members of one impl may call each other: the callee is also a
     * subprogram, since a program cannot be called */
    for (int i = 0; i < p->funcs.n; i++) {
        Func *fn = p->funcs.v[i];
        bool called = false;
        for (int j = 0; j < p->funcs.n && fn->impl && !called; j++)
            for (int k = 0; k < p->funcs.v[j]->calls.n && !called; k++)
                called = p->funcs.v[j]->calls.v[k]->func == fn && p->funcs.v[j]->calls.v[k]->kind == N_CALL;
        if (called)
            vpush(ip->funcs, lower_func(ip, fn, unroll, true));
    }
    return ip;
}
