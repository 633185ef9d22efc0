/* The checker, program level: scopes, type resolution, constants, enums,
 * globals, function signatures and targets, struct_ops impls, and the
 * call graph (recursion, cross-target calls, uncaught throws). */
#include "frontend/internal.h"

#include <stdlib.h>
#include <string.h>

#include "btf/ksbtf.h"

Checker C;

/* ---- scopes ------------------------------------------------------------ */

void push_scope(void)
{
    Scope *s = xalloc(sizeof(Scope));
    s->up = C.scope;
    C.scope = s;
}

void pop_scope(void) { C.scope = C.scope->up; }

static Sym *new_sym(SymKind k, const char *name, Pos pos)
{
    Sym *s = xalloc(sizeof(Sym));
    s->kind = k;
    s->name = name;
    s->pos = pos;
    s->module = C.mod;
    return s;
}

void declare_local(Var *v)
{
    Sym *old = strmap_get(&C.scope->syms, v->name);
    if (old && old->kind == SYM_LOCAL) {
        error_at(v->pos, "'%s' is already declared in this scope", v->name);
        note_at(old->pos, "the earlier declaration");
        return;
    }
    Sym *s = new_sym(SYM_LOCAL, v->name, v->pos);
    s->var = v;
    v->id = C.fn ? C.fn->locals.n : 0;
    if (C.fn)
        vpush(C.fn->locals, v);
    strmap_put(&C.scope->syms, v->name, s);
}

Sym *lookup_in(Module *m, const char *name) { return strmap_get(&m->scope.syms, name); }

/* Locals, then the impl's members, then the module. */
Sym *lookup(const char *name)
{
    for (Scope *s = C.scope; s; s = s->up) {
        Sym *sym = strmap_get(&s->syms, name);
        if (sym)
            return sym;
    }
    if (C.fn && C.fn->impl) {
        Impl *im = C.fn->impl;
        for (int i = 0; i < im->funcs.n; i++)
            if (!strcmp(im->funcs.v[i]->name, name)) {
                Sym *s = new_sym(SYM_FUNC, name, im->funcs.v[i]->pos);
                s->func = im->funcs.v[i];
                return s;
            }
    }
    return lookup_in(C.mod, name);
}

static void declare_global(Module *m, Sym *s)
{
    /* A duplicate is still checked (a const is evaluated) in its module. */
    if (s->kind != SYM_MODULE)
        s->module = m;
    Sym *old = lookup_in(m, s->name);
    if (old) {
        error_at(s->pos, "'%s' is already declared", s->name);
        note_at(old->pos, "the earlier declaration");
        return;
    }
    strmap_put(&m->scope.syms, s->name, s);
}

static void declare_decl(Decl *d)
{
    C.mod = d->module;
    Sym *s;
    switch (d->kind) {
    case D_FUNC:
        if (d->func->impl)
            return;
        s = new_sym(SYM_FUNC, d->func->name, d->pos);
        s->func = d->func;
        break;
    case D_GLOBAL:
        s = new_sym(SYM_GLOBAL, d->global->name, d->pos);
        s->global = d->global;
        break;
    case D_STRUCT: case D_ENUM:
        s = new_sym(SYM_TYPE, d->type->name, d->pos);
        s->type = d->type;
        break;
    case D_IMPL:
        s = new_sym(SYM_IMPL, d->impl->name, d->pos);
        s->type = new_type(TY_IMPL, 8, 8);
        s->type->impl = d->impl;
        break;
    default:
        s = d->sym;
        break;
    }
    declare_global(d->module, s);
    if (d->kind == D_ENUM)
        for (int i = 0; i < d->type->nvals; i++) {
            Sym *v = new_sym(SYM_ENUMVAL, d->type->vals[i].name, d->type->vals[i].pos);
            v->type = d->type;
            v->init = d->type->members[i].init;
            v->state = 0;
            declare_global(d->module, v);
        }
}

/* ---- definition depth -------------------------------------------------- */

/* Definitions resolve on demand and recursively: a const using a const,
 * an alias of an alias, a struct holding a struct, an enum value using
 * another enum's. A chain longer than this is reported once instead of
 * overflowing the stack. (Outside Checker C: eval_const saves and restores C.) */
#define MAX_DEF_DEPTH 1000
static int def_depth;
static bool def_reported;

static bool def_enter(Pos pos)
{
    if (def_depth >= MAX_DEF_DEPTH) {
        if (!def_reported)
            error_at(pos, "definitions refer to each other too deeply (more than %d levels)", MAX_DEF_DEPTH);
        def_reported = true;
        return false;
    }
    def_depth++;
    return true;
}

static void def_leave(void)
{
    if (--def_depth == 0)
        def_reported = false;
}

/* ---- types ------------------------------------------------------------- */

static Type *prim_by_name(const char *n)
{
    static const char *names[] = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
                                   "bool", "char", "void", NULL };
    Type *tys[] = { ty_u8, ty_u16, ty_u32, ty_u64, ty_i8, ty_i16, ty_i32, ty_i64,
                    ty_bool, ty_char, ty_void };
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], n))
            return tys[i];
    return NULL;
}

/* A constant length: array size, string capacity, map entries. */
static long eval_length(Node *e, const char *what, long min)
{
    if (!e)
        return min;
    Node *n = e;
    check_value(&n, ty_u64);
    if (n->ty->kind == TY_ERROR)
        return min;
    if (!n->is_const_val) {
        error_at(e->pos, "%s must be a constant", what);
        return min;
    }
    if (n->cval < min || n->cval > 0x7fffffff) {
        error_at(e->pos, "%s must be between %ld and 2147483647, not %lld", what, min, (long long)n->cval);
        return min;
    }
    return (long)n->cval;
}

static void layout_struct(Type *t);

static Type *resolve_named(Type *t)
{
    Module *m = C.mod;
    if (t->ns) {
        Sym *ms = lookup_in(C.mod, t->ns);
        if (!ms || ms->kind != SYM_MODULE) {
            error_at(t->pos, "unknown namespace '%s'", t->ns);
            return ty_error;
        }
        m = ms->module;
    }
    Type *p = t->ns ? NULL : prim_by_name(t->name);
    if (p)
        return p;
    Sym *s = lookup_in(m, t->name);
    if (s && s->kind == SYM_TYPE) {
        if (s->type->kind == TY_NAMED || (s->type->kind != TY_STRUCT && s->type->kind != TY_ENUM)) {
            if (s->state == 1) {
                error_at(t->pos, "type alias '%s' refers to itself", t->name);
                return ty_error;
            }
            if (s->state == 0) {
                if (!def_enter(t->pos))
                    return ty_error;
                s->state = 1;
                Module *saved = C.mod;
                C.mod = s->module;
                s->type = resolve_type(s->type);
                C.mod = saved;
                s->state = 2;
                def_leave();
            }
        }
        return s->type;
    }
    if (s) {
        error_at(t->pos, "'%s' is not a type", t->name);
        return ty_error;
    }
    if (!t->ns) {
        Type *b = builtin_type(t->name);
        if (b)
            return b;
        Type *k = kernel_type(t->name);
        if (k)
            return k;
    }
    error_at(t->pos, "unknown type '%s'", t->name);
    if (!t->ns && !kbtf_available())
        help("kernel types come from BTF (--btf FILE); without BTF only a built-in set is known");
    return ty_error;
}

static Type *resolve_map(Type *t)
{
    Type *r = new_type(TY_MAP, 0, 1);
    *r = *t;
    r->key = t->key ? resolve_type(t->key) : NULL;
    r->base = t->base ? resolve_type(t->base) : NULL;
    long min = 1;
    r->len = t->len_expr ? eval_length(t->len_expr, "the map size", min) : 0;
    r->rstate = 2;
    return r;
}

Type *resolve_type(Type *t)
{
    if (!t)
        return ty_error;
    switch (t->kind) {
    case TY_NAMED:
        return resolve_named(t);
    case TY_PTR:
        if (t->rstate == 2)
            return t;
        t->base = resolve_type(t->base);
        t->rstate = 2;
        return t;
    case TY_ARRAY: {
        if (t->rstate == 2)
            return t;
        Type *elem = resolve_type(t->base);
        if (elem->kind == TY_VOID) {
            error_at(t->pos, "an array of void has no size");
            elem = ty_error;
        }
        if (elem->kind == TY_STRUCT && elem->rstate != 2)
            layout_struct(elem);
        Type *a = array_of(elem, eval_length(t->len_expr, "an array length", 1));
        a->pos = t->pos;
        a->rstate = 2;
        return a;
    }
    case TY_STR: {
        if (t->rstate == 2)
            return t;
        Type *s = str_type(eval_length(t->len_expr, "a string capacity", 1));
        s->rstate = 2;
        return s;
    }
    case TY_FUNC:
        if (t->rstate == 2)
            return t;
        t->rstate = 2;
        t->ret = resolve_type(t->ret);
        for (int i = 0; i < t->nparams; i++)
            t->params[i] = resolve_type(t->params[i]);
        return t;
    case TY_MAP:
        return t->rstate == 2 ? t : resolve_map(t);
    case TY_STRUCT:
        if (t->rstate != 2)
            layout_struct(t);
        return t;
    default:
        return t;
    }
}

/* A struct whose name is a kernel type: in a header it stands for the
 * kernel type (layout from BTF); in a .ks file it shadows it. */
static Type *kernel_stand_in(Decl *d)
{
    Type *t = d->type;
    Type *k = kernel_type(t->name);
    if (!k || k->kind != TY_STRUCT)
        return NULL;
    if (!d->in_header) {
        warn_class_at(d->pos, "shadow", "struct '%s' shadows the kernel type of the same name", t->name);
        help("this struct is laid out as written here, not as the kernel lays it out");
        return NULL;
    }
    for (int i = 0; i < t->nmembers; i++) {
        int off;
        if (!find_member(k, t->members[i].name, &off))
            error_at(t->members[i].pos, "kernel struct '%s' has no field '%s'", t->name, t->members[i].name);
    }
    return k;
}

static void layout_struct(Type *t)
{
    if (t->rstate == 2)
        return;
    if (t->rstate == 1) {
        error_at(t->pos, "struct '%s' contains itself", t->name ? t->name : "?");
        t->rstate = 2;
        return;
    }
    if (!def_enter(t->pos)) {
        t->rstate = 2;      /* reported; laid out as far as it got */
        return;
    }
    t->rstate = 1;
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        m->ty = resolve_type(m->ty);
        if (m->ty->kind == TY_STRUCT && m->ty->rstate != 2)
            layout_struct(m->ty);
        if (m->ty->kind == TY_VOID || m->ty->kind == TY_MAP) {
            error_at(m->pos, "field '%s' cannot have type %s", m->name, type_name(m->ty));
            m->ty = ty_error;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(t->members[j].name, m->name))
                error_at(m->pos, "duplicate field '%s'", m->name);
    }
    struct_layout(t);
    t->rstate = 2;
    def_leave();
}

/* ---- constants and enums ---------------------------------------------- */

bool eval_const(Sym *s)
{
    if (s->state == 2)
        return true;
    if (s->state == 1) {
        error_at(s->pos, "constant '%s' is defined in terms of itself", s->name);
        s->state = 2;
        s->type = ty_error;
        return false;
    }
    if (!def_enter(s->pos)) {
        s->state = 2;
        s->type = ty_error;
        return false;
    }
    s->state = 1;
    Checker saved = C;
    C.mod = s->module;
    C.fn = NULL;
    C.scope = NULL;
    if (s->type)
        s->type = resolve_type(s->type);
    Node *n = s->init;
    if (s->type)
        check_value(&n, s->type);
    else
        check_expr(n, NULL);
    s->init = n;
    C = saved;
    if (n->ty->kind != TY_ERROR && !n->is_const_val && n->kind != N_STR) {
        error_at(n->pos, "the value of constant '%s' must be known at compile time", s->name);
        n->ty = ty_error;
    }
    s->val = n->cval;
    if (!s->type)
        s->type = n->ty;
    s->state = 2;
    def_leave();
    return n->ty->kind != TY_ERROR;
}

/* The value of variant i of a user enum, and its symbol's. */
static void set_variant(Type *t, int i, i128 val, Module *m)
{
    t->vals[i].val = val;
    Sym *s = lookup_in(m, t->vals[i].name);
    if (s && s->kind == SYM_ENUMVAL && s->type == t) {
        s->val = val;
        s->state = 2;
    }
}

/* Computes a user enum's values, in order, the first time anything needs
 * them (declarations come in any order, and `D = B + 10` or `X = Y::Q`
 * reads other variants). A variant used before its value is known, by a
 * later one or in a cycle, is reported by the user (enum_variant_ready). */
void enum_values(Type *t, Module *m)
{
    if (t->kind != TY_ENUM || t->kernel || t->rstate != 0)
        return;
    if (!def_enter(t->pos)) {
        t->rstate = 2;      /* reported; the values stay 0 */
        return;
    }
    t->rstate = 1;
    Checker saved = C;
    C.mod = m;
    C.fn = NULL;
    C.scope = NULL;
    i128 next = 0, lo = 0, hi = 0;
    for (int i = 0; i < t->nvals; i++) {
        Node *init = t->members[i].init;
        if (init) {
            check_expr(init, NULL);
            if (!init->is_const_val && init->ty->kind != TY_ERROR)
                error_at(init->pos, "an enum value must be a constant");
            next = init->cval;
        }
        set_variant(t, i, next, m);
        lo = next < lo ? next : lo;
        hi = next > hi ? next : hi;
        for (int j = 0; j < i; j++)
            if (!strcmp(t->vals[j].name, t->vals[i].name))
                error_at(t->vals[i].pos, "duplicate variant '%s'", t->vals[i].name);
        next++;
    }
    C = saved;
    bool sign = lo < 0;
    bool wide = sign ? (lo < INT32_MIN || hi > INT32_MAX) : hi > UINT32_MAX;
    t->size = t->align = wide ? 8 : 4;
    t->is_signed = sign;
    t->rstate = 2;
    def_leave();
}

/* Is variant i of t's value known? Reports a use that comes too early. */
bool enum_variant_ready(Type *t, int i, Module *m, Pos use)
{
    if (t->kernel)
        return true;
    enum_values(t, m);
    Sym *s = lookup_in(m, t->vals[i].name);
    if (t->rstate == 2 || (s && s->kind == SYM_ENUMVAL && s->type == t && s->state == 2))
        return true;
    error_at(use, "enum value '%s' is used before its value is known", t->vals[i].name);
    help("a variant may use the variants declared before it");
    return false;
}

/* ---- globals ----------------------------------------------------------- */

static bool constant_init(Node *n)
{
    if (!n || n->is_const_val || n->kind == N_STR || n->ty == ty_error)
        return true;
    if (n->kind == N_CAST)
        return constant_init(n->lhs);
    if (n->kind == N_ARRAY_LIT || n->kind == N_STRUCT_LIT) {
        for (int i = 0; i < n->args.n; i++)
            if (!constant_init(n->args.v[i]))
                return false;
        return true;
    }
    if (n->kind == N_FIELD_INIT)
        return constant_init(n->lhs);
    if (n->kind == N_ARRAY_REPEAT)
        return constant_init(n->lhs);
    return false;
}

static uint64_t map_flag_arg(Global *g, Node *a, Type *mt)
{
    static const struct { const char *name; uint64_t flag; } shorts[] = {
        { "no_prealloc", 1 }, { "no_common_lru", 2 }, { "rdonly", 8 }, { "wronly", 16 },
        { "clone", 512 }, { "mmapable", 1024 }, { "rdonly_prog", 128 }, { "wronly_prog", 256 },
        { "zero_seed", 64 },
    };
    if (a->kind == N_IDENT)
        for (size_t i = 0; i < sizeof shorts / sizeof *shorts; i++)
            if (!strcmp(a->name, shorts[i].name))
                return shorts[i].flag;
    /* no_prealloc | rdonly: short names combine like the BPF_F_ constants */
    if (a->kind == N_BINARY && a->op == OP_OR)
        return map_flag_arg(g, a->lhs, mt) | map_flag_arg(g, a->rhs, mt);
    if (a->kind == N_CALL && a->lhs->kind == N_IDENT && !strcmp(a->lhs->name, "numa_node")) {
        if (a->args.n != 1) {
            error_at(a->pos, "numa_node takes one argument: numa_node(N)");
            return 0;
        }
        check_value(&a->args.v[0], ty_u32);
        mt->numa_node = (int)a->args.v[0]->cval;
        return 4;
    }
    Node *n = a;
    check_value(&n, ty_u32);
    if (!n->is_const_val) {
        if (n->ty->kind != TY_ERROR)
            error_at(a->pos, "map flags must be constants");
        return 0;
    }
    (void)g;
    return (uint64_t)n->cval;
}

static void check_map_global(Global *g)
{
    Type *t = g->ty;
    for (int i = 0; i < g->flags.n; i++)
        t->map_flags |= map_flag_arg(g, g->flags.v[i], t);
    if (g->init)
        error_at(g->init->pos, "a map has no initial value");
    bool needs_kv = t->map != MAP_RINGBUF && t->map != MAP_PROG_ARRAY && t->map != MAP_PERF_EVENT_ARRAY;
    if (needs_kv && (!t->key || !t->base)) {
        error_at(t->pos, "%s needs key and value types: %s<K, V>(entries)", map_kind_name(t->map),
                 map_kind_name(t->map));
        return;
    }
    if (needs_kv && !t->len_expr)
        error_at(t->pos, "%s needs its number of entries: %s<K, V>(entries)", map_kind_name(t->map),
                 map_kind_name(t->map));
    if (t->map == MAP_RINGBUF) {
        if (!t->base)
            error_at(t->pos, "a ring buffer needs its event type: ringbuf<T>(bytes)");
        long n = t->len;
        if (n < 4096 || (n & (n - 1)))
            error_at(t->len_expr ? t->len_expr->pos : t->pos,
                     "a ring buffer's size must be a power of two and at least 4096 bytes, not %ld", n);
    }
    if (t->map == MAP_PROG_ARRAY && t->len < 1)
        error_at(t->pos, "prog_array needs its number of slots: prog_array(N)");
    Type *kv[2] = { t->key, t->base };
    for (int i = 0; i < 2; i++) {
        if (!kv[i] || kv[i]->kind == TY_ERROR)
            continue;
        if (kv[i]->kind == TY_PTR) {
            error_at(t->pos, "maps with pointer %s are not supported", i ? "values" : "keys");
            help("store the data itself, or an id that indexes another map");
        } else if (kv[i]->kind == TY_VOID || kv[i]->size == 0) {
            error_at(t->pos, "a map %s cannot have type %s", i ? "value" : "key", type_name(kv[i]));
        }
    }
    if (map_is_array(t->map) && t->key && is_integer(t->key) && t->key->size != 4)
        error_at(t->pos, "an array map's key is u32, not %s", type_name(t->key));
    if (g->pinned)
        g->kind = GV_MAP;
}

static void check_config(Global *g)
{
    Type *t = g->ty;
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        m->ty = resolve_type(m->ty);
        if (m->init) {
            check_value(&m->init, m->ty);
            if (!constant_init(m->init))
                error_at(m->init->pos, "a config default must be a constant");
        }
    }
    struct_layout(t);
    t->rstate = 2;
}

static void check_global_decl(Global *g);

static void check_global(Global *g)
{
    check_global_decl(g);
    g->checked = true;
}

static void check_global_decl(Global *g)
{
    C.mod = g->module;
    if (g->kind == GV_CONFIG) {
        check_config(g);
        return;
    }
    if (g->ty)
        g->ty = resolve_type(g->ty);
    if (g->ty && g->ty->kind == TY_MAP) {
        if (g->kind == GV_LOCAL)
            error_at(g->pos, "'local var' is for global variables; a map is declared with 'var'");
        g->kind = GV_MAP;
        check_map_global(g);
        return;
    }
    if (g->flags.n)
        error_at(g->flags_pos, "@flags applies to maps only");
    if (g->init) {
        g->checking = true;
        check_value(&g->init, g->ty);
        g->checking = false;
        if (!g->ty)
            g->ty = g->init->ty;
        if (!constant_init(g->init))
            error_at(g->init->pos, "a global's initial value must be a constant");
    }
    if (g->ty->kind == TY_VOID || g->ty->kind == TY_NULL)
        error_at(g->pos, "global '%s' cannot have type %s", g->name, type_name(g->ty));
}

/* pin var values live together in one struct, the value of the
 * single-entry pinned_globals map; every target agrees on its layout. */
static void layout_pinned(Program *p)
{
    VEC(Member) ms = { 0 };
    for (int i = 0; i < p->globals.n; i++)
        if (p->globals.v[i]->kind == GV_PIN && p->globals.v[i]->ty)
            vpush(ms, ((Member){ .name = p->globals.v[i]->name, .ty = p->globals.v[i]->ty }));
    if (!ms.n)
        return;
    Type *st = new_type(TY_STRUCT, 0, 1);
    st->name = "pinned_globals_t";
    st->members = ms.v;
    st->nmembers = ms.n;
    struct_layout(st);
    st->rstate = 2;
    for (int i = 0, k = 0; i < p->globals.n; i++)
        if (p->globals.v[i]->kind == GV_PIN && p->globals.v[i]->ty)
            p->globals.v[i]->pin_offset = st->members[k++].offset;
    p->pinned_type = st;
}

/* ---- functions --------------------------------------------------------- */

bool is_program(Func *f)
{
    return f->kind == FN_XDP || f->kind == FN_TC || f->kind == FN_PROBE || f->kind == FN_TRACEPOINT
        || f->kind == FN_PERF_EVENT || f->kind == FN_STRUCT_OPS;
}

static Target target_of(Func *f)
{
    switch (f->kind) {
    case FN_USER: return TGT_USER;
    case FN_TEST: return TGT_TEST;
    case FN_KFUNC: case FN_PRIVATE: return TGT_KMOD;
    case FN_EXTERN: return TGT_EXTERN;
    default: return TGT_EBPF;
    }
}

int target_bit(Func *f)
{
    if (!f)
        return IN_ALL;
    switch (f->target) {
    case TGT_EBPF: return IN_EBPF;
    case TGT_KMOD: return IN_KMOD;
    case TGT_TEST: return IN_TEST;
    default: return IN_USER;
    }
}

bool in_ebpf(void) { return C.fn && C.fn->target == TGT_EBPF; }

static bool is_ptr_to(Type *t, const char *name)
{
    return t->kind == TY_PTR && (t->base->kind == TY_STRUCT || t->base->kind == TY_UNION)
        && t->base->name && !strcmp(t->base->name, name);
}

static void want_ctx(Func *f, const char *ctx)
{
    if (f->params.n == 1 && is_ptr_to(f->params.v[0]->ty, ctx))
        return;
    error_at(f->pos, "a @%s program takes one parameter of type *%s",
             f->kind == FN_XDP ? "xdp" : f->kind == FN_TC ? "tc" : "perf_event", ctx);
    help("write: fn %s(ctx: *%s) -> ...", f->name, ctx);
}

static void want_int_ret(Func *f, const char *kind, const char *ty)
{
    Type *r = f->ret;
    if (r->kind == TY_ERROR || (is_integer(r) && r->size <= 4))
        return;
    error_at(f->pos, "a %s program returns %s, not %s", kind, ty, type_name(r));
}

/* fentry (BTF has the function), kprobe (+offset), or a syscall entry. */
static void check_probe(Func *f)
{
    if (!f->attr_arg || !*f->attr_arg) {   /* "": a malformed argument, reported */
        if (!f->attr_arg)
            error_at(f->pos, "@probe needs the traced function: @probe(\"do_sys_openat2\")");
        return;
    }
    const char *plus = strchr(f->attr_arg, '+');
    if (plus) {
        f->kprobe = true;
        f->probe_func = xstrndup(f->attr_arg, (size_t)(plus - f->attr_arg));
        char *end;
        f->probe_offset = strtol(plus + 1, &end, 0);
        if (*end || plus[1] == 0)
            error_at(f->pos, "bad probe offset in \"%s\": write \"function+offset\"", f->attr_arg);
        if (f->params.n > 1 || (f->params.n == 1 && !is_ptr_to(f->params.v[0]->ty, "pt_regs")))
            error_at(f->pos, "a @probe(\"function+offset\") program takes 'ctx: *pt_regs' or nothing");
        want_int_ret(f, "@probe", "i32");
        return;
    }
    f->probe_func = f->attr_arg;
    const char **names = NULL;
    Type *ft = kernel_func(f->attr_arg, &names);
    if (!ft && kbtf_available() && !strncmp(f->attr_arg, "sys_", 4)) {
        ft = kernel_func(xfmt("__x64_%s", f->attr_arg), &names);
        if (ft) {
            f->probe_syscall = true;
            f->probe_func = xfmt("__x64_%s", f->attr_arg);
        }
    }
    if (ft && !f->probe_syscall) {
        if (f->params.n > ft->nparams)
            error_at(f->pos, "'%s' has %d parameters in kernel BTF; this probe declares %d",
                     f->attr_arg, ft->nparams, f->params.n);
        for (int i = 0; i < f->params.n && i < ft->nparams; i++) {
            Type *k = ft->params[i], *u = f->params.v[i]->ty;
            if ((k->kind == TY_PTR) != (u->kind == TY_PTR) || (k->kind != TY_PTR && k->size != u->size))
                error_at(f->params.v[i]->pos, "parameter %d of '%s' is %s in kernel BTF, not %s", i + 1,
                         f->attr_arg, type_name(k), type_name(u));
        }
    } else if (!ft && kbtf_available()) {
        error_at(f->pos, "kernel BTF has no function '%s' to trace", f->attr_arg);
        help("use a function listed in /sys/kernel/btf/vmlinux, or \"function+offset\" for a kprobe");
    }
    if (f->params.n > 5 && f->probe_syscall)
        error_at(f->pos, "a syscall has at most 6 arguments; this probe declares %d", f->params.n);
    want_int_ret(f, "@probe", "i32");
}

static void check_program_sig(Func *f)
{
    switch (f->kind) {
    case FN_XDP:
        want_ctx(f, "xdp_md");
        if (f->ret->kind != TY_ENUM && f->ret->kind != TY_ERROR)
            want_int_ret(f, "@xdp", "xdp_action");
        break;
    case FN_TC:
        want_ctx(f, "__sk_buff");
        want_int_ret(f, "@tc", "i32");
        break;
    case FN_PERF_EVENT:
        want_ctx(f, "bpf_perf_event_data");
        want_int_ret(f, "@perf_event", "i32");
        break;
    case FN_TRACEPOINT:
        if (!f->attr_arg || (*f->attr_arg && !strchr(f->attr_arg, '/')))
            error_at(f->pos, "@tracepoint needs \"category/event\", such as \"syscalls/sys_enter_openat\"");
        if (f->params.n != 1 || f->params.v[0]->ty->kind != TY_PTR)
            error_at(f->pos, "a @tracepoint program takes one pointer parameter (ctx: *trace_event_raw_...)");
        want_int_ret(f, "@tracepoint", "i32");
        break;
    case FN_PROBE:
        check_probe(f);
        break;
    default:
        break;
    }
}

static void check_signature(Func *f)
{
    C.mod = f->module;
    C.fn = NULL;    /* lengths in parameter types are constants, outside any body */
    f->target = target_of(f);
    for (int i = 0; i < f->params.n; i++) {
        Var *v = f->params.v[i];
        v->ty = resolve_type(v->ty);
        if (v->ty->kind == TY_VOID)
            error_at(v->pos, "a parameter cannot be void");
        if (v->ty->kind == TY_MAP)
            error_at(v->pos, "maps are globals; a function uses them by name, not as a parameter");
    }
    if (f->ret)
        f->ret = resolve_type(f->ret);
    else
        f->ret = (f->kind == FN_USER && !strcmp(f->name, "main") && !f->module->ns) ? ty_i32 : ty_void;
    if (f->ret_var)
        f->ret_var->ty = f->ret;
    if (f->ret->kind == TY_ARRAY)
        error_at(f->pos, "a function cannot return an array; wrap it in a struct");
    VEC(Type *) pt = { 0 };
    for (int i = 0; i < f->params.n; i++)
        vpush(pt, f->params.v[i]->ty);
    f->fty = func_type(f->ret, pt.v, pt.n);
    f->is_main = f->kind == FN_USER && !strcmp(f->name, "main") && !f->module->ns;
    if (f->kind == FN_EXTERN) {
        const Helper *h = helper_by_name(f->name);
        f->helper_id = h ? h->id : 0;
    }
    if (f->kind == FN_HELPER && f->params.n > 5) {
        error_at(f->params.v[5]->pos, "a @helper takes at most 5 parameters (the BPF calling convention)");
        help("pass a pointer to a struct that holds the rest");
    }
    if (f->kind == FN_KFUNC && f->params.n > 5)
        error_at(f->pos, "a @kfunc takes at most 5 parameters (the BPF calling convention)");
    if (f->target == TGT_EBPF && is_program(f))
        check_program_sig(f);
    if (f->is_main && f->params.n > 1)
        error_at(f->pos, "main takes no parameter or one struct of options: fn main(args: Args)");
    if (f->is_main && f->params.n == 1 && f->params.v[0]->ty->kind != TY_STRUCT)
        error_at(f->params.v[0]->pos, "main's parameter is a struct whose fields become --options");
    C.fn = NULL;
}

/* ---- struct_ops -------------------------------------------------------- */

static void check_impl(Impl *im)
{
    C.mod = im->module;
    if (!im->ops)
        return;
    Type *k = kernel_type(im->ops);
    if (k && k->kind == TY_STRUCT) {
        im->kty = k;
    } else if (kbtf_available()) {
        error_at(im->pos, "kernel BTF has no struct '%s' for @struct_ops", im->ops);
        return;
    }
    for (int i = 0; i < im->funcs.n; i++) {
        Func *f = im->funcs.v[i];
        if (!im->kty)
            continue;
        const char **names;
        Type *kf = kernel_member_func(im->kty, f->name, &names);
        if (!kf) {
            error_at(f->pos, "'%s' is not a function member of struct %s", f->name, im->ops);
            continue;
        }
        if (kf->nparams != f->params.n) {
            error_at(f->pos, "'%s' takes %d parameters in struct %s, not %d", f->name, kf->nparams,
                     im->ops, f->params.n);
            continue;
        }
        for (int j = 0; j < f->params.n; j++) {
            bool kp = kf->params[j]->kind == TY_PTR, up = f->params.v[j]->ty->kind == TY_PTR;
            if (kp != up)
                error_at(f->params.v[j]->pos, "parameter %d of '%s' is %s a pointer in struct %s", j + 1,
                         f->name, kp ? "" : "not", im->ops);
        }
        if ((kf->ret->kind == TY_VOID) != (f->ret->kind == TY_VOID))
            error_at(f->pos, "'%s' returns %s in struct %s", f->name, type_name(kf->ret), im->ops);
    }
    for (int i = 0; i < im->data.n; i++) {
        Member *m = &im->data.v[i];
        int off;
        Member *km = im->kty ? find_member(im->kty, m->name, &off) : NULL;
        if (im->kty && !km) {
            error_at(m->pos, "struct %s has no member '%s'", im->ops, m->name);
            continue;
        }
        Type *want = km ? km->ty : NULL;
        if (want && want->kind == TY_ARRAY && want->base->kind == TY_CHAR)
            want = str_type(want->len);
        check_value(&m->init, want);
        if (!constant_init(m->init))
            error_at(m->init->pos, "an impl data member must be a constant");
    }
}

/* ---- call graph -------------------------------------------------------- */

/* Recursion among eBPF functions: the call closing a cycle is reported.
 * Depth-first with an explicit stack (state 1: on the current path, 2:
 * done): a long chain of helpers must not overflow the C stack. */
typedef struct CallFrame { Func *f; int next; } CallFrame;

static void find_cycles(Func *root, char *state, CallFrame *stack)
{
    int top = 0;
    stack[0] = (CallFrame){ root, 0 };
    state[root->index] = 1;
    while (top >= 0) {
        CallFrame *fr = &stack[top];
        if (fr->next == fr->f->calls.n) {
            state[fr->f->index] = 2;
            top--;
            continue;
        }
        Node *call = fr->f->calls.v[fr->next++];
        Func *g = call->func;
        if (!g || g->target != TGT_EBPF || call->tail_call)
            continue;
        if (state[g->index] == 1) {
            if (g == fr->f)
                error_at(call->pos, "recursive call: '%s' calls itself", g->name);
            else
                error_at(call->pos, "recursive call: '%s' calls '%s', which is already on the call path",
                         fr->f->name, g->name);
            help("BPF has no recursion; rewrite it as a bounded loop");
        } else if (state[g->index] == 0) {
            state[g->index] = 1;
            stack[++top] = (CallFrame){ g, 0 };
        }
    }
}

static void check_recursion(Program *p)
{
    char *state = xalloc((size_t)p->funcs.n + 1);
    CallFrame *stack = xalloc(sizeof(CallFrame) * (size_t)(p->funcs.n + 1));  /* one path: no function twice */
    /* From the programs first, so that "the call closing the cycle" is the
     * one reached last on a path from a program entry. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < p->funcs.n; i++)
            if (p->funcs.v[i]->target == TGT_EBPF && !state[i] && is_program(p->funcs.v[i]) == !pass)
                find_cycles(p->funcs.v[i], state, stack);
}

/* What each function may throw: its own uncaught throws, and what its
 * callees throw that the try around the call does not catch (by code, or
 * a catch-all). Helpers may pass codes up; programs must catch them. The
 * callers of a function whose set grew are revisited (a worklist). */
typedef struct CallSite { Func *caller; Node *call; } CallSite;
typedef VEC(CallSite) SiteVec;

static bool pass_up(Func *callee, Node *call, Func *to)
{
    bool grew = false;
    for (int i = 0; i < callee->throw_codes.n; i++) {
        int64_t code = callee->throw_codes.v[i];
        int before = to->throw_codes.n;
        if (!catches(call->catches, true, code))
            add_throw_code(to, code);
        grew |= to->throw_codes.n != before;
    }
    if (callee->throws_any && !catches(call->catches, false, 0) && !to->throws_any) {
        to->throws_any = true;
        grew = true;
    }
    return grew;
}

static void mark_throwers(Program *p)
{
    SiteVec *callers = xalloc(sizeof(SiteVec) * (size_t)(p->funcs.n + 1));
    VEC(Func *) work = { 0 };
    for (int i = 0; i < p->funcs.n; i++) {
        Func *f = p->funcs.v[i];
        if (f->throw_codes.n || f->throws_any)
            vpush(work, f);
        for (int j = 0; j < f->calls.n; j++) {
            Node *c = f->calls.v[j];
            if (c->func && !c->tail_call && c->kind == N_CALL)
                vpush(callers[c->func->index], ((CallSite){ f, c }));
        }
    }
    while (work.n) {
        Func *g = work.v[--work.n];
        for (int i = 0; i < callers[g->index].n; i++) {
            CallSite s = callers[g->index].v[i];
            if (pass_up(g, s.call, s.caller))
                vpush(work, s.caller);
        }
    }
    for (int i = 0; i < p->funcs.n; i++) {
        Func *f = p->funcs.v[i];
        f->throws = f->throws_any || f->throw_codes.n;
    }
}

/* Does the callee throw anything the call site does not catch? */
static bool escapes(Node *c)
{
    Func *g = c->func;
    if (g->throws_any && !catches(c->catches, false, 0))
        return true;
    for (int i = 0; i < g->throw_codes.n; i++)
        if (!catches(c->catches, true, g->throw_codes.v[i]))
            return true;
    return false;
}

/* Programs must catch what their callees throw. */
static void propagate_throws(Program *p)
{
    mark_throwers(p);
    for (int i = 0; i < p->funcs.n; i++) {
        Func *f = p->funcs.v[i];
        for (int j = 0; j < f->calls.n; j++) {
            Node *c = f->calls.v[j];
            if (!c->func || c->tail_call || c->kind != N_CALL)
                continue;
            c->in_try = !escapes(c);
            if (f->target == TGT_EBPF && is_program(f) && !c->in_try) {
                error_at(c->pos, "'%s' may throw, and program '%s' does not catch it", c->func->name, f->name);
                help("wrap the call in try { ... } catch _ { ... }");
            }
        }
    }
}

/* Object symbols: as written; an imported name that clashes gets its
 * namespace as a prefix. */
static void assign_symbol_names(Program *p)
{
    StrMap used = { 0 };
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < p->funcs.n; i++) {
            Func *f = p->funcs.v[i];
            if ((pass == 0) != !f->module->ns)
                continue;
            const char *name = f->name;
            if (strmap_get(&used, name))
                name = f->impl ? xfmt("%s_%s", f->impl->name, f->name)
                               : xfmt("%s__%s", f->module->ns ? f->module->ns : "main", f->name);
            f->sym_name = name;
            strmap_put(&used, name, f);
        }
        for (int i = 0; i < p->globals.n; i++) {
            Global *g = p->globals.v[i];
            if ((pass == 0) != !g->module->ns)
                continue;
            if (strmap_get(&used, g->name) && g->module->ns)
                g->name = xfmt("%s__%s", g->module->ns, g->name);
            strmap_put(&used, g->name, g);
        }
    }
}

/* ---- the whole program ------------------------------------------------- */

static void collect(Program *p)
{
    for (int i = 0; i < p->decls.n; i++) {
        Decl *d = &p->decls.v[i];
        if (d->kind == D_FUNC) {
            d->func->index = p->funcs.n;
            vpush(p->funcs, d->func);
        }
        else if (d->kind == D_GLOBAL)
            vpush(p->globals, d->global);
        else if (d->kind == D_IMPL)
            vpush(p->impls, d->impl);
        else if (d->kind == D_STRUCT || d->kind == D_ENUM)
            vpush(p->types, d->type);
    }
}

static void check_types(Program *p)
{
    for (int i = 0; i < p->decls.n; i++) {
        Decl *d = &p->decls.v[i];
        C.mod = d->module;
        if (d->kind == D_STRUCT) {
            Type *k = kernel_stand_in(d);
            if (k) {
                Sym *s = lookup_in(d->module, d->type->name);
                if (s && s->type == d->type)
                    s->type = k;
                d->type = k;
                continue;
            }
            layout_struct(d->type);
        } else if (d->kind == D_ENUM) {
            enum_values(d->type, d->module);
        } else if (d->kind == D_ALIAS) {
            resolve_named(&(Type){ .kind = TY_NAMED, .name = d->sym->name, .pos = d->pos });
        }
    }
}

void check_program(Program *p, FrontOpts *opts)
{
    memset(&C, 0, sizeof C);
    def_depth = 0;
    def_reported = false;
    C.prog = p;
    C.opts = opts;
    kbtf_set_path(opts ? opts->btf_path : NULL);
    for (int i = 0; i < p->decls.n; i++)
        declare_decl(&p->decls.v[i]);
    collect(p);
    check_types(p);
    for (int i = 0; i < p->decls.n; i++) {
        Decl *d = &p->decls.v[i];
        if (d->kind == D_CONST)
            eval_const(d->sym);
    }
    for (int i = 0; i < p->globals.n; i++)
        check_global(p->globals.v[i]);
    layout_pinned(p);
    for (int i = 0; i < p->funcs.n; i++)
        check_signature(p->funcs.v[i]);
    for (int i = 0; i < p->impls.n; i++)
        check_impl(p->impls.v[i]);
    assign_symbol_names(p);
    for (int i = 0; i < p->funcs.n; i++)
        if (p->funcs.v[i]->body)
            check_function(p->funcs.v[i]);
    check_recursion(p);
    propagate_throws(p);
    C.mod = p->main;
}
