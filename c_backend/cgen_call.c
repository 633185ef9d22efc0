/* The userspace back end, calls: user functions and function pointers
 * (with the throw test after a call that may throw), print with the
 * length modifiers ksc supplies, and the built-ins of LANGUAGE.md section
 * 8 as calls into the runtime (runtime/ksrt.h). */
#include "c_backend/cgen_int.h"

#include <string.h>

/* ---- user functions ----------------------------------------------------- */

/* The arguments, in the language's left-to-right order (see in_order). */
static const char *args_list(Node *n, Sub *s, bool *opened)
{
    bool order = count_effects(n->args.v, n->args.n) >= 2;
    CBuf b = { 0 };
    for (int i = 0; i < n->args.n; i++)
        cb_fmt(&b, "%s%s", i ? ", " : "", in_order(n->args.v[i], order, s, opened));
    return cb_str(&b);
}

/* A call, then the throw test when the callee may throw. */
static const char *checked(const char *call, Type *ret, bool throws)
{
    if (!throws)
        return call;
    Sub s;
    sub_begin(&s);
    if (ret->kind == TY_VOID) {
        cg_out("%s;", call);
        cg_out("%s", throw_check());
        return sub_end(&s, NULL);
    }
    const char *t = new_temp();
    cg_out("%s = %s;", cdecl(ret, t), call);
    cg_out("%s", throw_check());
    return sub_end(&s, t);
}

static const char *call_user(Node *n)
{
    Func *f = n->func;
    if (f && f->target != TGT_USER && f->target != TGT_TEST) {
        cg_error(n->pos, "'%s' cannot be called from userspace code", f->name);
        return "0";
    }
    const char *callee = f ? cfunc(f) : xfmt("(%s)", cx(n->lhs));
    Sub s;
    bool opened = false;
    const char *call = xfmt("%s(%s)", callee, args_list(n, &s, &opened));
    const char *r = checked(call, n->ty, !f || may_throw(f));
    return opened ? sub_end(&s, r) : r;
}

/* ---- print ------------------------------------------------------------------ */

typedef struct Fmt {
    CBuf text, args;
    Sub s;                      /* temporaries for arguments with effects */
    bool opened;
} Fmt;

static void fmt_arg(Fmt *f, const char *e) { cb_fmt(&f->args, ", %s", e); }

/* An argument's C text: one with effects goes into a temporary first, so
 * it is evaluated once and in order (a %s argument is used twice). */
static const char *arg_text(Fmt *f, Node *a)
{
    return in_order(a, true, &f->s, &f->opened);
}

/* A string-like value for %s: bounded by its capacity, as not every char
 * array ends in a NUL. */
static void fmt_string(Fmt *f, Node *a, const char *flags)
{
    long cap;
    Type *t = a->ty;
    const char *p, *v = has_effects(a) ? arg_text(f, a) : NULL;
    if (!v)
        p = cstr_ptr(a, &cap);
    else if (t->kind == TY_STR)
        cap = t->len, p = xfmt("%s.s", v);
    else if (t->kind == TY_ARRAY)
        cap = t->len, p = xfmt("((const char *)%s.a)", v);
    else
        cap = -1, p = xfmt("((const char *)%s)", v);
    if (cap < 0) {
        cb_fmt(&f->text, "%%%ss", flags);
        fmt_arg(f, p);
        return;
    }
    cb_fmt(&f->text, "%%%s.*s", flags);
    fmt_arg(f, xfmt("(int)strnlen(%s, %ld)", p, cap));
    fmt_arg(f, p);
}

static const char *int_as(const char *v, Type *t, bool sign)
{
    Type *it = int_of(t);
    const char *w = xfmt("%sint%d_t", sign ? "" : "u", it->size * 8);
    return xfmt("(%slong long)(%s)(%s)", sign ? "" : "unsigned ", w, v);
}

static bool char_pointer(Type *t)
{
    return t->kind == TY_PTR && (t->base->kind == TY_CHAR || (t->base->kind == TY_INT && t->base->size == 1));
}

/* One conversion: the letter the format asked for when it fits the
 * argument, else the one that prints it (the checker has warned). */
static void fmt_conv(Fmt *f, Node *a, char c, const char *flags)
{
    Type *t = a->ty;
    if (str_like(t) || (char_pointer(t) && c == 's')) {
        fmt_string(f, a, flags);
        return;
    }
    const char *v = arg_text(f, a);
    if (t->kind == TY_BOOL && c == 's') {
        cb_fmt(&f->text, "%%%ss", flags);
        fmt_arg(f, xfmt("(%s) ? \"true\" : \"false\"", v));
    } else if (is_intlike(t) || t->kind == TY_BOOL) {
        if (c == 'c') {
            cb_fmt(&f->text, "%%%sc", flags);
            fmt_arg(f, xfmt("(int)(unsigned char)(%s)", v));
        } else if (c == 'p') {
            cb_fmt(&f->text, "%%%sp", flags);
            fmt_arg(f, xfmt("(void *)(uintptr_t)(%s)", v));
        } else {
            bool sign = c == 'd' || c == 'i' || (strchr("uxXo", c) == NULL && int_of(t)->is_signed);
            char letter = strchr("diuxXo", c) ? c : sign ? 'd' : 'u';
            cb_fmt(&f->text, "%%%sll%c", flags, letter);
            fmt_arg(f, int_as(v, t, sign));
        }
    } else if (t->kind == TY_PTR || t->kind == TY_HANDLE || t->kind == TY_PERFATT || t->kind == TY_NULL
               || t->kind == TY_FUNC) {
        if (strchr("uxXo", c)) {
            cb_fmt(&f->text, "%%%sll%c", flags, c);
            fmt_arg(f, xfmt("(unsigned long long)(uintptr_t)(%s)", v));
        } else {
            cb_fmt(&f->text, "%%%sp", flags);
            fmt_arg(f, xfmt("(const void *)(%s)", v));
        }
    } else {
        cg_error(a->pos, "print cannot show a value of type %s", type_name(t));
    }
}

/* Values after the format's conversions: each by its type. */
static void fmt_default(Fmt *f, Node *a)
{
    Type *t = a->ty;
    char c = t->kind == TY_CHAR ? 'c' : t->kind == TY_BOOL || str_like(t) ? 's'
           : t->kind == TY_PTR ? 'p' : is_intlike(t) ? (int_of(t)->is_signed ? 'd' : 'u') : 'p';
    fmt_conv(f, a, c, "");
}

/* Copies the format's text and rewrites each conversion; returns the
 * index of the first argument the format did not use. */
static int fmt_rewrite(Fmt *f, Node *n)
{
    Node *fmt = n->args.v[0];
    const char *s = fmt->sval;
    int arg = 1;
    for (int i = 0; i < fmt->slen; i++) {
        if (s[i] != '%') {
            cb_put(&f->text, xstrndup(&s[i], 1));
            continue;
        }
        if (i + 1 < fmt->slen && s[i + 1] == '%') {
            cb_put(&f->text, "%%");
            i++;
            continue;
        }
        int j = i + 1;
        while (j < fmt->slen && strchr("-+ #0123456789.", s[j]))
            j++;
        const char *flags = xstrndup(&s[i + 1], (size_t)(j - i - 1));
        while (j < fmt->slen && strchr("hlzjt", s[j]))
            j++;
        if (j >= fmt->slen || arg >= n->args.n)
            break;              /* the checker reported it */
        fmt_conv(f, n->args.v[arg++], s[j], flags);
        i = j;
    }
    return arg;
}

static const char *call_print(Node *n)
{
    Fmt f;
    memset(&f, 0, sizeof f);
    int next = 0;
    if (n->args.n && n->args.v[0]->kind == N_STR)
        next = fmt_rewrite(&f, n);
    for (int i = next; i < n->args.n; i++) {
        if (f.text.n)
            cb_put(&f.text, " ");
        fmt_default(&f, n->args.v[i]);
    }
    const char *text = cb_str(&f.text);
    size_t len = strlen(text);
    if (!len || text[len - 1] != '\n')
        cb_put(&f.text, "\n");
    text = cb_str(&f.text);
    const char *call = xfmt("((int32_t)printf(%s%s))", cquote(text, (int)strlen(text)), cb_str(&f.args));
    return f.opened ? sub_end(&f.s, call) : call;
}

/* ---- programs ------------------------------------------------------------------ */

static const char *prog_kind(Func *f)
{
    switch (f->kind) {
    case FN_XDP: return "KS_XDP";
    case FN_TC: return "KS_TC";
    case FN_PROBE: return "KS_PROBE";
    case FN_TRACEPOINT: return "KS_TRACEPOINT";
    default: return "KS_PERF_EVENT";
    }
}

static Func *prog_of(Node *a)
{
    return a->ty && a->ty->kind == TY_PROGRAM ? a->ty->prog : NULL;
}

static const char *call_load(Node *n)
{
    Func *f = prog_of(n->args.v[0]);
    if (!f)
        return "NULL";
    return xfmt("ks_load(\"%s\", %s, %s)", f->sym_name, prog_kind(f), f->tc_egress ? "true" : "false");
}

static bool is_perf_options(Type *t)
{
    return t->kind == TY_STRUCT && t->name && !strcmp(t->name, "perf_options");
}

static const char *call_attach(Node *n)
{
    Node *h = n->args.v[0], *target = n->args.v[1];
    if (!is_perf_options(target->ty)) {
        long cap;
        const char *p = cstr_ptr(target, &cap);
        return xfmt("ks_attach(%s, %s, (uint32_t)(%s))", cx(h), p, cx(n->args.v[2]));
    }
    Sub s;
    sub_begin(&s);
    const char *o = new_temp();
    cg_out("%s = %s;", cdecl(target->ty, o), cx(target));
    const char *call = xfmt("ks_attach_perf(%s, %s.m_perf_type, %s.m_perf_config, %s.m_pid, %s.m_cpu, %s.m_period, "
                            "%s.m_wakeup, %s.m_inherit, %s.m_exclude_kernel, %s.m_exclude_user)",
                            cx(h), o, o, o, o, o, o, o, o, o);
    return sub_end(&s, call);
}

/* test(prog, input): the input's bytes, a string's text, or packet_size
 * zero bytes. */
static const char *call_test(Node *n)
{
    Func *f = prog_of(n->args.v[0]);
    Node *in = n->args.v[1];
    if (!f)
        return "0";
    Sub s;
    sub_begin(&s);
    const char *v = new_temp(), *r = new_temp();
    cg_out("%s = %s;", cdecl(in->ty, v), cx(in));
    if (in->ty->kind == TY_STR)
        cg_out("uint32_t %s = ks_test_run(\"%s\", %s.s, strnlen(%s.s, %ld));", r, f->sym_name, v, v, in->ty->len);
    else if (in->ty->kind == TY_ARRAY)
        cg_out("uint32_t %s = ks_test_run(\"%s\", %s.a, sizeof %s.a);", r, f->sym_name, v, v);
    else
        cg_out("uint32_t %s = ks_test_run_zeros(\"%s\", (uint64_t)%s.m_packet_size);", r, f->sym_name, v);
    cg_out("%s", throw_check());
    return sub_end(&s, r);
}

static const char *call_register(Node *n)
{
    Node *a = n->args.v[0];
    if (!a->ty || a->ty->kind != TY_IMPL)
        return "0";
    return xfmt("ks_register(\"%s\")", a->ty->impl->name);
}

/* ---- ring buffers and per-CPU values -------------------------------------------- */

static Global *map_of(Node *m)
{
    Sym *s = m->sym;
    if (s && s->kind == SYM_GLOBAL && s->global->kind == GV_MAP)
        return s->global;
    cg_error(m->pos, "a map here must be named directly");
    return NULL;
}

static const char *call_on_event(Node *n)
{
    Global *g = map_of(n->args.v[0]);
    if (!g)
        return "0";
    /* the handler takes *T; the runtime calls it with a void pointer */
    return xfmt("ks_rb_on_event(&%s, (ks_rb_handler)(void (*)(void))(%s), sizeof(%s))", cmap(g), cx(n->args.v[1]),
                ctype(g->ty->base));
}

static const char *call_dispatch(Node *n)
{
    CBuf list = { 0 };
    for (int i = 0; i < n->args.n; i++) {
        Global *g = map_of(n->args.v[i]);
        cb_fmt(&list, "%s&%s", i ? ", " : "", g ? cmap(g) : "NULL");
    }
    Sub s;
    sub_begin(&s);
    const char *a = new_temp(), *r = new_temp();
    cg_out("ks_map *%s[] = { %s };", a, cb_str(&list));
    cg_out("int32_t %s = ks_dispatch(%s, %d);", r, a, n->args.n);
    cg_out("%s", throw_check());
    return sub_end(&s, r);
}

static const char *call_per_cpu(Node *n)
{
    Global *g = map_of(n->args.v[0]);
    if (!g)
        return "NULL";
    Sub s;
    sub_begin(&s);
    const char *buf = new_temp(), *k = new_temp();
    cg_out("static void *%s;", buf);
    cg_out("%s = %s;", cdecl(g->ty->key, k), cx(n->args.v[1]));
    return sub_end(&s, xfmt("((%s)ks_map_per_cpu(&%s, &%s, &%s))", ctype(n->ty), cmap(g), k, buf));
}

/* ---- the dispatcher ------------------------------------------------------------------- */

const char *cx_call(Node *n)
{
    Node **a = n->args.v;
    switch (n->builtin) {
    case B_NONE: return call_user(n);
    case B_PRINT: return call_print(n);
    case B_LOAD: return call_load(n);
    case B_ATTACH: return call_attach(n);
    case B_DETACH:
        return xfmt("%s(%s)", a[0]->ty->kind == TY_PERFATT ? "ks_perf_detach" : "ks_detach", cx(a[0]));
    case B_READ: return xfmt("ks_perf_read(%s)", cx(a[0]));
    case B_REGISTER: return call_register(n);
    case B_TEST: return call_test(n);
    case B_DISPATCH: return call_dispatch(n);
    case B_SLEEP: return xfmt("ks_sleep_ms((uint64_t)(%s))", cx(a[0]));
    case B_DAEMON: return "ks_daemon()";
    case B_EXIT: return xfmt("ks_exit(%s)", cx(a[0]));
    case B_HTONS: return xfmt("htons(%s)", cx(a[0]));
    case B_NTOHS: return xfmt("ntohs(%s)", cx(a[0]));
    case B_HTONL: return xfmt("htonl(%s)", cx(a[0]));
    case B_NTOHL: return xfmt("ntohl(%s)", cx(a[0]));
    case B_RB_ON_EVENT: return call_on_event(n);
    case B_PER_CPU: return call_per_cpu(n);
    default:
        cg_error(n->pos, "this call is for eBPF or kernel-module code, not userspace");
        return "0";
    }
}
