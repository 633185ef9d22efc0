/* The checker, calls: user functions (with the cross-target rules and tail
 * calls), BPF helpers by prototype, built-ins, method forms (normalised to
 * built-in calls with the receiver as the first argument), and print
 * formats. */
#include "frontend/internal.h"

#include <string.h>

#include "btf/ksbtf.h"

static const char *target_desc(Func *f)
{
    switch (f->kind) {
    case FN_USER: return "a userspace function";
    case FN_TEST: return "a @test function";
    case FN_KFUNC: return "a @kfunc";
    case FN_PRIVATE: return "a @private kernel-module function";
    case FN_HELPER: return "a @helper (eBPF) function";
    case FN_EXTERN: return "an extern kernel function";
    default: return "an eBPF program";
    }
}

/* Who is calling, for messages: "eBPF code", "userspace code", ... */
static const char *code_desc(Func *f)
{
    switch (f ? f->target : TGT_USER) {
    case TGT_EBPF: return "eBPF code";
    case TGT_KMOD: return "kernel-module code";
    case TGT_TEST: return "a @test function";
    default: return f ? "userspace code" : "a constant";
    }
}

static Node *int_arg(Pos pos, long v)
{
    Node *n = new_node(N_INT, pos);
    n->ival = (uint64_t)v;
    n->cval = v;
    n->is_const_val = true;
    n->ty = ty_u32;
    return n;
}

static void check_args_loose(Node *n, int from)
{
    for (int i = from; i < n->args.n; i++)
        check_value(&n->args.v[i], NULL);
}

static bool want_args(Node *n, int lo, int hi, const char *what)
{
    if (n->args.n >= lo && n->args.n <= hi)
        return true;
    if (lo == hi)
        error_at(n->pos, "%s takes %d argument%s, not %d", what, lo, lo == 1 ? "" : "s", n->args.n);
    else
        error_at(n->pos, "%s takes %d to %d arguments, not %d", what, lo, hi, n->args.n);
    check_args_loose(n, 0);
    return false;
}

/* ---- user functions ---------------------------------------------------- */

/* Tail call: `return other(ctx)` into a program of the same kind. */
static bool check_tail_call(Node *n, Func *f, bool tail)
{
    Func *me = C.fn;
    if (!tail || !is_program(me) || me->impl || me->kind != f->kind || me->tc_egress != f->tc_egress) {
        error_at(n->pos, "'%s' is an eBPF program; it cannot be called like a function", f->name);
        help("a program can only be tail-called, as 'return %s(ctx)' from a program of the same kind", f->name);
        return false;
    }
    if (n->args.n != 1 || n->args.v[0]->kind != N_IDENT || !me->params.n
        || strcmp(n->args.v[0]->name, me->params.v[0]->name)) {
        error_at(n->pos, "a tail call passes the context on: 'return %s(%s)'", f->name,
                 me->params.n ? me->params.v[0]->name : "ctx");
        check_args_loose(n, 0);
        return false;
    }
    check_expr(n->args.v[0], NULL);
    n->tail_call = f->kind;
    return true;
}

static bool cross_target_ok(Node *n, Func *f)
{
    Func *me = C.fn;
    if (!me) {
        error_at(n->pos, "a function call is not a constant");
        return false;
    }
    Target from = me->target, to = f->target;
    if (from == TGT_EBPF) {
        if (to == TGT_EBPF || to == TGT_EXTERN || f->kind == FN_KFUNC)
            return true;
        if (f->kind == FN_PRIVATE) {
            error_at(n->pos, "'%s' is a @private kernel-module function; eBPF code cannot call it", f->name);
            help("make it a @kfunc, or call it from a @kfunc");
            return false;
        }
        error_at(n->pos, "'%s' is %s; eBPF code cannot call it", f->name, target_desc(f));
        return false;
    }
    if (from == TGT_KMOD) {
        if (to == TGT_KMOD)
            return true;
        error_at(n->pos, "'%s' is %s; kernel-module code cannot call it", f->name, target_desc(f));
        return false;
    }
    if (to == TGT_USER || (to == TGT_TEST && from == TGT_TEST))
        return true;
    error_at(n->pos, "'%s' is %s; userspace code cannot call it", f->name, target_desc(f));
    if (f->kind == FN_HELPER)
        help("@helper functions run in the kernel; move the call into an eBPF program");
    else if (is_program(f))
        help("load it with load(%s) and attach the handle", f->name);
    return false;
}

static Type *call_user_func(Node *n, Func *f, bool tail)
{
    n->func = f;
    n->catches = catch_snapshot();
    if (C.fn)
        vpush(C.fn->calls, n);
    if (C.fn && C.fn->target == TGT_EBPF && f->target == TGT_EBPF && is_program(f)) {
        bool same_impl = f->impl && f->impl == C.fn->impl;
        if (!same_impl) {
            if (!check_tail_call(n, f, tail)) {
                n->func = NULL;     /* reported: not an edge of the call graph */
                return ty_error;
            }
            return f->ret;
        }
    }
    if (!cross_target_ok(n, f)) {
        n->func = NULL;
        check_args_loose(n, 0);
        return ty_error;
    }
    if (!f->fty)
        return ty_error;
    if (n->args.n != f->params.n) {
        error_at(n->pos, "'%s' takes %d argument%s, not %d", f->name, f->params.n, f->params.n == 1 ? "" : "s",
                 n->args.n);
        check_args_loose(n, 0);
        return f->ret;
    }
    for (int i = 0; i < n->args.n; i++) {
        check_expr(n->args.v[i], f->params.v[i]->ty);
        coerce(&n->args.v[i], f->params.v[i]->ty, xfmt("argument %d of '%s'", i + 1, f->name));
    }
    return f->ret;
}

/* A call through a function pointer. eBPF has no indirect calls: there,
 * the pointer must be a function name known at compile time. */
static Type *call_indirect(Node *n, Type *ft)
{
    if (ft->kind == TY_PTR)
        ft = ft->base;
    if (ft->kind != TY_FUNC) {
        error_at(n->pos, "%s is not a function", type_name(ft));
        check_args_loose(n, 0);
        return ty_error;
    }
    if (in_ebpf()) {
        Node *c = n->lhs;
        /* a local set once, from a function name, and never assigned again */
        Var *v = c->sym && c->sym->kind == SYM_LOCAL ? c->var : NULL;
        Func *f = v && v->decl && v->decl->init && v->decl->init->func && !strmap_get(&C.assigned, v->name)
                      ? v->decl->init->func : NULL;
        if (!f) {
            error_at(n->pos, "in eBPF code a function pointer must resolve at compile time to one @helper");
            help("call the @helper by name, or assign the pointer once from a @helper name");
            check_args_loose(n, 0);
            return ty_error;
        }
        n->func = f;
        return call_user_func(n, f, false);
    }
    if (n->args.n != ft->nparams) {
        error_at(n->pos, "the function takes %d arguments, not %d", ft->nparams, n->args.n);
        check_args_loose(n, 0);
        return ft->ret;
    }
    for (int i = 0; i < n->args.n; i++) {
        check_expr(n->args.v[i], ft->params[i]);
        coerce(&n->args.v[i], ft->params[i], xfmt("argument %d", i + 1));
    }
    return ft->ret;
}

/* ---- BPF helpers ------------------------------------------------------- */

static Type *sig_type(char c)
{
    switch (c) {
    case 'u': return ty_u32;
    case 'U': return ty_u64;
    case 'i': return ty_i32;
    case 'I': return ty_i64;
    case 'v': return ty_void;
    default: return pointer_to(ty_void);
    }
}

static bool is_map_arg(Node *a)
{
    Type *t = a->ty;
    return t->kind == TY_MAP || (t->kind == TY_PTR && t->base->kind == TY_MAP);
}

/* Strings, arrays and pointers all pass as a pointer to their bytes. */
static bool pointer_like(Node *a)
{
    Type *t = a->ty;
    return t->kind == TY_PTR || t->kind == TY_STR || t->kind == TY_ARRAY || t->kind == TY_NULL;
}

static void check_helper_arg(Node *n, int i, char code, const char *name)
{
    Node **ap = &n->args.v[i];
    Type *t = check_expr(*ap, strchr("uUiI", code) ? sig_type(code) : NULL);
    if (t->kind == TY_ERROR)
        return;
    switch (code) {
    case 'M':
        if (!is_map_arg(*ap))
            error_at((*ap)->pos, "argument %d of %s must be a map", i + 1, name);
        return;
    case 'f':
        if (!(*ap)->func || (*ap)->func->kind != FN_HELPER)
            error_at((*ap)->pos, "argument %d of %s must name a @helper function", i + 1, name);
        else if (C.fn)
            vpush(C.fn->calls, *ap);
        return;
    case 'p': case 'c':
        if (!pointer_like(*ap))
            error_at((*ap)->pos, "argument %d of %s must be a pointer, not %s", i + 1, name, type_name(t));
        else if (t->kind == TY_NULL && code == 'c')
            error_at((*ap)->pos, "argument %d of %s cannot be null", i + 1, name);
        return;
    default:
        coerce(ap, sig_type(code), xfmt("argument %d of %s", i + 1, name));
    }
}

static Type *call_helper(Node *n, const Helper *h)
{
    n->builtin = B_HELPER;
    n->ival = (uint64_t)h->id;
    if (!in_ebpf()) {
        /* name the helper as written (random_u32), and what it stands for */
        const char *as = n->lhs->kind == N_IDENT ? n->lhs->name : h->name;
        if (strcmp(as, h->name))
            error_at(n->pos, "'%s' (%s) is a BPF helper; only eBPF code can call it", as, h->name);
        else
            error_at(n->pos, "'%s' is a BPF helper; only eBPF code can call it", h->name);
        check_args_loose(n, 0);
        return ty_error;
    }
    const char *params = strchr(h->sig, ':') + 1;
    bool variadic = strstr(params, "...") != NULL;
    int fixed = variadic ? (int)(strstr(params, "...") - params) : (int)strlen(params);
    int max = variadic ? fixed + 3 : fixed;
    if (n->args.n < fixed || n->args.n > max) {
        error_at(n->pos, "%s takes %d argument%s, not %d", h->name, fixed, fixed == 1 ? "" : "s", n->args.n);
        check_args_loose(n, 0);
        return sig_type(h->sig[0]);
    }
    for (int i = 0; i < n->args.n; i++) {
        if (i < fixed)
            check_helper_arg(n, i, params[i], h->name);
        else
            check_value(&n->args.v[i], ty_u64);
    }
    return sig_type(h->sig[0]);
}

/* ---- print ------------------------------------------------------------- */

static bool conv_fits(char c, Type *t)
{
    switch (c) {
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
        return arith_type(t) || t->kind == TY_BOOL;
    case 'c':
        return arith_type(t) && t->size == 1;
    case 's':
        return t->kind == TY_STR || (t->kind == TY_PTR && (t->base->kind == TY_CHAR || t->base == ty_u8))
            || (t->kind == TY_ARRAY && t->base->kind == TY_CHAR);
    case 'p':
        return t->kind == TY_PTR;
    default:
        return false;
    }
}

/* Counts the conversions of a format and checks each against its argument. */
static int check_format(Node *fmt, Node *n, int first)
{
    int arg = first, count = 0;
    const char *s = fmt->sval;
    for (int i = 0; i < fmt->slen; i++) {
        if (s[i] != '%')
            continue;
        if (i + 1 < fmt->slen && s[i + 1] == '%') {
            i++;
            continue;
        }
        int j = i + 1;
        while (j < fmt->slen && strchr("-+ #0123456789.", s[j]))
            j++;
        while (j < fmt->slen && strchr("hlzjt", s[j]))
            j++;
        if (j >= fmt->slen || !strchr("diuxXocsp", s[j])) {
            error_at(fmt->pos, "unknown conversion in the print format");
            help("print takes %%d %%i %%u %%x %%s %%c %%p; ksc supplies the length modifier");
            return count;
        }
        count++;
        if (arg < n->args.n && n->args.v[arg]->ty->kind != TY_ERROR && !conv_fits(s[j], n->args.v[arg]->ty))
            warn_class_at(n->args.v[arg]->pos, "format", "'%%%c' does not fit an argument of type %s", s[j],
                          type_name(n->args.v[arg]->ty));
        arg++;
        i = j;
    }
    if (count > n->args.n - first)
        error_at(n->pos, "the format has %d conversions but %d argument%s", count, n->args.n - first,
                 n->args.n - first == 1 ? " follows" : "s follow");
    return count;
}

static Type *call_print(Node *n)
{
    if (!n->args.n)
        return ty_i32;
    for (int i = 0; i < n->args.n; i++) {
        check_expr(n->args.v[i], NULL);
        if (n->args.v[i]->ty == ty_untyped)
            check_value(&n->args.v[i], NULL);
    }
    Node *fmt = n->args.v[0];
    if (fmt->kind == N_STR)
        check_format(fmt, n, 1);
    int values = fmt->kind == N_STR ? n->args.n - 1 : n->args.n;
    if (in_ebpf() && values > 3) {
        error_at(n->pos, "print in eBPF code takes at most 3 values after the format (bpf_trace_printk)");
        help("split it into several print calls");
    }
    return ty_i32;
}

/* ---- built-ins --------------------------------------------------------- */

static Func *program_arg(Node *a, const char *what)
{
    Type *t = check_expr(a, NULL);
    if (t->kind == TY_PROGRAM)
        return t->prog;
    if (t->kind != TY_ERROR)
        error_at(a->pos, "%s takes an eBPF program function, not %s", what, type_name(t));
    return NULL;
}

static Type *call_attach(Node *n)
{
    if (!want_args(n, 2, 3, "attach"))
        return ty_error;
    Type *h = check_expr(n->args.v[0], NULL);
    if (h->kind != TY_HANDLE && h->kind != TY_ERROR) {
        error_at(n->args.v[0]->pos, "attach takes a ProgramHandle (from load()), not %s", type_name(h));
        help("load the program first: var h = load(prog)");
    }
    if (n->args.n == 2)
        vpush(n->args, int_arg(n->pos, 0));
    Type *tt = check_expr(n->args.v[1], NULL);
    check_value(&n->args.v[2], ty_u32);
    if (tt->kind == TY_STRUCT && tt->name && !strcmp(tt->name, "perf_options"))
        return ty_perfatt;
    if (tt->kind != TY_STR && tt->kind != TY_ERROR && !(tt->kind == TY_PTR && tt->base->kind == TY_CHAR)) {
        error_at(n->args.v[1]->pos, "attach's target is an interface or function name (a string), or perf_options");
        return ty_error;
    }
    return ty_i32;
}

static Type *call_test(Node *n)
{
    if (!want_args(n, 2, 2, "test"))
        return ty_error;
    program_arg(n->args.v[0], "test");
    check_value(&n->args.v[1], NULL);
    Type *t = n->args.v[1]->ty;
    bool ok = t->kind == TY_ERROR || t->kind == TY_STR || t->kind == TY_ARRAY
           || (t->kind == TY_STRUCT && find_member(t, "packet_size", &(int){ 0 }));
    if (!ok)
        error_at(n->args.v[1]->pos, "test's input is a byte array, a string, or a struct with a packet_size field");
    return ty_u32;
}

static Type *byte_order(Node *n, Type *t)
{
    if (!want_args(n, 1, 1, "a byte-order function"))
        return t;
    check_value(&n->args.v[0], t);
    Node *a = n->args.v[0];
    if (a->is_const_val) {
        uint64_t v = (uint64_t)a->cval;
        n->is_const_val = true;
        n->cval = t->size == 2 ? (i128)(uint16_t)__builtin_bswap16((uint16_t)v)
                               : (i128)(uint32_t)__builtin_bswap32((uint32_t)v);
    }
    return t;
}

static Type *call_builtin(Node *n, const BuiltinFn *b)
{
    n->builtin = b->id;
    if (!(b->where & target_bit(C.fn))) {
        error_at(n->pos, "'%s' is %s built-in; %s cannot call it", b->name,
                 b->where == IN_TEST ? "a @test-only" : (b->where & IN_EBPF) ? "an eBPF" : "a userspace",
                 code_desc(C.fn));
        check_args_loose(n, 0);
        return ty_error;
    }
    switch (b->id) {
    case B_PRINT: return call_print(n);
    case B_LOAD:
        if (want_args(n, 1, 1, "load"))
            program_arg(n->args.v[0], "load");
        return ty_handle;
    case B_ATTACH: return call_attach(n);
    case B_DETACH:
        if (want_args(n, 1, 1, "detach")) {
            Type *t = check_expr(n->args.v[0], NULL);
            if (t->kind != TY_HANDLE && t->kind != TY_PERFATT && t->kind != TY_ERROR)
                error_at(n->args.v[0]->pos, "detach takes a ProgramHandle or a PerfAttachment");
        }
        return ty_void;
    case B_REGISTER:
        if (want_args(n, 1, 1, "register")) {
            Type *t = check_expr(n->args.v[0], NULL);
            if (t->kind != TY_IMPL && t->kind != TY_ERROR)
                error_at(n->args.v[0]->pos, "register takes a @struct_ops impl");
        }
        return ty_i32;
    case B_TEST: return call_test(n);
    case B_DISPATCH:
        for (int i = 0; i < n->args.n; i++) {
            Type *t = check_expr(n->args.v[i], NULL);
            if (t->kind != TY_ERROR && (t->kind != TY_MAP || t->map != MAP_RINGBUF))
                error_at(n->args.v[i]->pos, "dispatch takes ring buffers");
        }
        if (!n->args.n)
            error_at(n->pos, "dispatch needs at least one ring buffer");
        return ty_i32;
    case B_SLEEP:
        if (want_args(n, 1, 1, "sleep"))
            check_value(&n->args.v[0], ty_u32);
        return ty_void;
    case B_DAEMON:
        want_args(n, 0, 0, "daemon");
        return ty_void;
    case B_EXIT:
        if (want_args(n, 1, 1, "exit"))
            check_value(&n->args.v[0], ty_i32);
        return ty_void;
    case B_READ:
        if (want_args(n, 1, 1, "read") && check_expr(n->args.v[0], NULL)->kind != TY_PERFATT
            && n->args.v[0]->ty->kind != TY_ERROR)
            error_at(n->args.v[0]->pos, "read takes a PerfAttachment");
        return ty_i64;
    case B_HTONS: case B_NTOHS: return byte_order(n, ty_u16);
    case B_HTONL: case B_NTOHL: return byte_order(n, ty_u32);
    default:
        return ty_error;
    }
}

/* A kernel-module call to a name the file does not define: the kernel's
 * own API, typed from BTF when it is there. */
static Type *call_kernel(Node *n, const char *name)
{
    n->builtin = B_KERNEL_CALL;
    n->name = name;
    const char **names;
    Type *ft = kernel_func(name, &names);
    check_args_loose(n, 0);
    if (ft && ft->nparams == n->args.n)
        return ft->ret;
    return ty_i64;
}

static Type *call_named(Node *n, bool tail)
{
    Node *c = n->lhs;
    Sym *s = lookup(c->name);
    if (s) {
        if (s->kind == SYM_FUNC) {
            c->sym = s;
            return call_user_func(n, s->func, tail);
        }
        Type *t = check_expr(c, NULL);
        if (t->kind == TY_ERROR)
            return t;
        return call_indirect(n, t);
    }
    const BuiltinFn *b = builtin_fn(c->name);
    if (b)
        return call_builtin(n, b);
    const Helper *h = helper_by_name(c->name);
    if (h)
        return call_helper(n, h);
    if (C.fn && C.fn->target == TGT_KMOD)
        return call_kernel(n, c->name);
    if (!strcmp(c->name, "exec")) {     /* the public spec's exec(): not here */
        error_at(c->pos, "'exec' is not part of KernelScript as ksc implements it");
        help("ksc compiles KernelScript only; run other programs outside it");
    } else {
        error_at(c->pos, "undefined function '%s'", c->name);
    }
    check_args_loose(n, 0);
    return ty_error;
}

/* ---- methods ----------------------------------------------------------- */

static void prepend_receiver(Node *n)
{
    Node *recv = n->lhs->lhs;
    vpush(n->args, NULL);
    memmove(n->args.v + 1, n->args.v, sizeof(Node *) * (size_t)(n->args.n - 1));
    n->args.v[0] = recv;
}

static Type *ringbuf_method(Node *n, Type *rb, const char *m)
{
    Type *ev = rb->base ? rb->base : ty_error;
    bool ebpf = in_ebpf();
    if (!strcmp(m, "on_event") || (!ebpf && strcmp(m, "reserve") && strcmp(m, "submit") && strcmp(m, "discard")
                                   && strcmp(m, "output"))) {
        if (strcmp(m, "on_event"))
            goto unknown;
        n->builtin = B_RB_ON_EVENT;
        if (ebpf) {
            error_at(n->pos, "on_event is a userspace method");
            return ty_error;
        }
        if (!want_args(n, 2, 2, "on_event"))
            return ty_i32;
        Type *ht = check_expr(n->args.v[1], NULL);
        if (ht->kind != TY_ERROR && (ht->kind != TY_FUNC || ht->nparams != 1 || ht->params[0]->kind != TY_PTR
                                     || !same_type(ht->params[0]->base, ev))) {
            error_at(n->args.v[1]->pos, "on_event takes a handler fn(e: *%s) -> i32", type_name(ev));
        }
        return ty_i32;
    }
    if (!ebpf) {
        error_at(n->pos, "'%s' is an eBPF-side ring buffer method", m);
        return ty_error;
    }
    if (!strcmp(m, "reserve")) {
        n->builtin = B_RB_RESERVE;
        want_args(n, 1, 1, "reserve");
        return pointer_to(ev);
    }
    if (!strcmp(m, "submit") || !strcmp(m, "discard")) {
        n->builtin = m[0] == 's' ? B_RB_SUBMIT : B_RB_DISCARD;
        if (want_args(n, 2, 2, m)) {
            Type *t = check_expr(n->args.v[1], NULL);
            if (t->kind != TY_ERROR && (t->kind != TY_PTR || !same_type(t->base, ev)))
                error_at(n->args.v[1]->pos, "%s takes the *%s that reserve() returned", m, type_name(ev));
        }
        return ty_void;
    }
    if (!strcmp(m, "output")) {
        n->builtin = B_RB_OUTPUT;
        if (want_args(n, 2, 2, "output")) {
            Type *t = check_expr(n->args.v[1], ev);
            if (t->kind == TY_PTR && same_type(t->base, ev))
                return ty_i64;
            coerce(&n->args.v[1], ev, "the event");
        }
        return ty_i64;
    }
unknown:
    error_at(n->lhs->pos, "ring buffers have no method '%s'", m);
    help("the methods are reserve, submit, discard, output (eBPF) and on_event (userspace)");
    return ty_error;
}

static Type *call_method(Node *n, bool tail)
{
    Node *f = n->lhs;
    Type *rt = check_expr(f->lhs, NULL);
    const char *m = f->name;
    if (rt->kind == TY_ERROR) {
        check_args_loose(n, 0);
        return ty_error;
    }
    if (rt->kind == TY_MODULE) {
        Module *mod = f->lhs->sym->module;
        Sym *s = lookup_in(mod, m);
        if (!s || s->kind != SYM_FUNC) {
            error_at(f->pos, "namespace '%s' has no function '%s'", mod->ns, m);
            check_args_loose(n, 0);
            return ty_error;
        }
        if (s->func->is_priv) {
            error_at(f->pos, "'%s' is private to '%s'", m, mod->ns);
            return ty_error;
        }
        f->sym = s;
        return call_user_func(n, s->func, tail);
    }
    if (rt->kind == TY_STRUCT || (rt->kind == TY_PTR && rt->base->kind == TY_STRUCT)) {
        Type *ft = check_expr(f, NULL);
        return ft->kind == TY_ERROR ? ft : call_indirect(n, ft);
    }
    prepend_receiver(n);
    const BuiltinFn *b = NULL;
    if (rt->kind == TY_MAP && rt->map == MAP_RINGBUF)
        return ringbuf_method(n, rt, m);
    if (rt->kind == TY_MAP && !strcmp(m, "per_cpu")) {
        n->builtin = B_PER_CPU;
        if (in_ebpf() || !map_is_percpu(rt->map)) {
            error_at(f->pos, "per_cpu is a userspace method of per-CPU maps");
            return ty_error;
        }
        if (want_args(n, 2, 2, "per_cpu"))
            check_value(&n->args.v[1], rt->key);
        return pointer_to(rt->base);
    }
    if (rt->kind == TY_PROGRAM && !strcmp(m, "load"))
        b = builtin_fn("load");
    else if (rt->kind == TY_HANDLE && (!strcmp(m, "attach") || !strcmp(m, "detach")))
        b = builtin_fn(m);
    else if (rt->kind == TY_PERFATT && (!strcmp(m, "detach") || !strcmp(m, "read")))
        b = builtin_fn(m);
    if (b)
        return call_builtin(n, b);
    error_at(f->pos, "%s has no method '%s'", type_name(rt), m);
    if (!strcmp(m, "attach"))
        help("attach works on a ProgramHandle: var h = %s.load(); h.attach(...)",
             f->lhs->kind == N_IDENT ? f->lhs->name : "prog");
    check_args_loose(n, 1);
    return ty_error;
}

Type *check_call(Node *n, Type *want)
{
    bool tail = C.tail_ok;
    C.tail_ok = false;
    (void)want;
    if (n->lhs->kind == N_IDENT)
        return call_named(n, tail);
    if (n->lhs->kind == N_FIELD)
        return call_method(n, tail);
    Type *t = check_expr(n->lhs, NULL);
    return t->kind == TY_ERROR ? t : call_indirect(n, t);
}
