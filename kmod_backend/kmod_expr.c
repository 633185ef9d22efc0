/* Module expressions. C's own rules differ from the language's in a few
 * places, and each gets explicit code: integer promotion (arithmetic on
 * u8/u16 wraps at its width, so the result is cast back), division and
 * remainder by zero and shift counts (BPF rules, see kmod.c), string
 * values (arrays in C: copied, compared and joined through the string
 * functions), and control flow used as a value (a GNU statement
 * expression, which kernel C uses everywhere). */
#include <string.h>

#include "kmod_backend/internal.h"

#define OUT (K->out)

static bool small_int(Type *t)
{
    return (t->kind == TY_INT || t->kind == TY_ENUM || t->kind == TY_CHAR) && t->size < 4;
}

static bool is_struct(Type *t)
{
    return t->kind == TY_STRUCT || t->kind == TY_UNION;
}

const char *kx_to_string(Node *n)
{
    Buf b = { 0 }, *saved = OUT;
    OUT = &b;
    kx_expr(n);
    OUT = saved;
    return b.s ? b.s : "0";
}

/* ({ statements; value }) around what emit writes, on one line. */
static void stmt_expr_begin(void)
{
    bput(OUT, "({");
    K->inline_depth++;
}

static void stmt_expr_end(const char *value)
{
    if (value)
        bprintf(OUT, " %s;", value);
    bput(OUT, " })");
    K->inline_depth--;
}

/* ---- constants ----------------------------------------------------------- */

/* The value as the type holds it, with a suffix that gives the literal
 * that type's width and signedness in C. */
static void emit_const(i128 v, Type *t)
{
    if (t->kind == TY_BOOL) {
        bput(OUT, v ? "true" : "false");
        return;
    }
    int size = t->size >= 1 && t->size <= 8 ? t->size : 8;
    uint64_t u = (uint64_t)v;
    if (size < 8)
        u &= (1ULL << (size * 8)) - 1;
    bool sign = t->kind == TY_INT && t->is_signed;
    if (!sign) {
        bprintf(OUT, size == 8 ? "%lluULL" : "%lluU", (unsigned long long)u);
        return;
    }
    int64_t s = size == 8 ? (int64_t)u : (int64_t)(u << (64 - size * 8)) >> (64 - size * 8);
    if (size == 8 && s == INT64_MIN)
        bput(OUT, "(-9223372036854775807LL - 1)");
    else if (s == INT32_MIN && size <= 4)
        bput(OUT, "(-2147483647 - 1)");
    else
        bprintf(OUT, s < 0 ? "(%lld%s)" : "%lld%s", (long long)s, size == 8 ? "LL" : "");
}

static bool const_type(Type *t)
{
    return t->kind == TY_INT || t->kind == TY_ENUM || t->kind == TY_CHAR || t->kind == TY_BOOL
        || t->kind == TY_UNTYPED;
}

/* ---- names --------------------------------------------------------------- */

static void ident(Node *n)
{
    Sym *s = n->sym;
    switch (s ? s->kind : SYM_BUILTIN) {
    case SYM_LOCAL:
        if (s->var->is_mapref)
            error_at(n->pos, "'%s' refers to a map entry; kernel-module code cannot use maps", n->name);
        bput(OUT, K->var_name[s->var->id]);
        return;
    case SYM_CONST: case SYM_ENUMVAL:
        emit_const(s->val, n->ty);
        return;
    case SYM_GLOBAL:
        error_at(n->pos, "kernel-module code cannot use '%s': %s live in the BPF object", n->name,
                 s->global->kind == GV_MAP ? "maps" : "globals and configs");
        help("pass the value to the @kfunc as an argument");
        break;
    case SYM_FUNC:
        error_at(n->pos, "kernel-module code cannot use function '%s' as a value", n->name);
        break;
    default:
        error_at(n->pos, "kernel-module code cannot use '%s' here", n->name ? n->name : "this name");
        break;
    }
    bput(OUT, "0");
}

/* ---- operators ----------------------------------------------------------- */

static const char *div_helper(Node *n)
{
    Type *t = n->ty;
    return xfmt("ksc_%s_%c%d", n->op == OP_DIV ? "div" : "mod", t->kind == TY_INT && t->is_signed ? 's' : 'u',
                t->size == 8 ? 64 : 32);
}

/* A divisor C can divide by as it is: a constant other than 0 (and -1 for
 * signed types, where MIN / -1 traps). */
static bool plain_divisor(Node *n)
{
    Node *r = n->rhs;
    if (!r->is_const_val || !r->cval)
        return false;
    return !(n->ty->kind == TY_INT && n->ty->is_signed && r->cval == -1);
}

static void binary(Node *n)
{
    Type *lt = n->lhs->ty;
    if (lt->kind == TY_STR && (n->op == OP_EQ || n->op == OP_NE)) {
        bprintf(OUT, "(strcmp(%s, %s) %s 0)", kx_agg_ptr(n->lhs), kx_agg_ptr(n->rhs), n->op == OP_EQ ? "==" : "!=");
        return;
    }
    if (n->ty->kind == TY_STR) {    /* concatenation: a temporary */
        const char *t = kf_temp(n->ty, n->pos);
        bprintf(OUT, "({ scnprintf(%s, %ld, \"%%s%%s\", %s, %s); %s; })", t, n->ty->len, kx_agg_ptr(n->lhs),
                kx_agg_ptr(n->rhs), t);
        return;
    }
    if (n->op == OP_LAND || n->op == OP_LOR) {
        bput(OUT, "(");
        kx_cond(n->lhs);
        bput(OUT, n->op == OP_LAND ? " && " : " || ");
        kx_cond(n->rhs);
        bput(OUT, ")");
        return;
    }
    bool wrap = small_int(n->ty) && n->op <= OP_SHR;
    if (wrap)
        bprintf(OUT, "((%s)", kc_type(n->ty, n->pos));
    if ((n->op == OP_DIV || n->op == OP_MOD) && !plain_divisor(n)) {
        bprintf(OUT, "%s(", div_helper(n));
        kx_expr(n->lhs);
        bput(OUT, ", ");
        kx_expr(n->rhs);
        bput(OUT, ")");
    } else if (n->op == OP_SUB && lt->kind == TY_PTR && n->rhs->ty->kind == TY_PTR) {
        bput(OUT, "((s64)(");
        kx_expr(n->lhs);
        bput(OUT, " - ");
        kx_expr(n->rhs);
        bput(OUT, "))");
    } else if (n->op == OP_SHL || n->op == OP_SHR) {
        /* Counts are taken modulo the width, as BPF does. */
        int bits = n->ty->size * 8;
        bput(OUT, "(");
        kx_expr(n->lhs);
        bprintf(OUT, " %s ", op_spelling(n->op));
        if (n->rhs->is_const_val && n->rhs->cval >= 0 && n->rhs->cval < bits) {
            kx_expr(n->rhs);
        } else {
            bput(OUT, "(");
            kx_expr(n->rhs);
            bprintf(OUT, " & %d)", bits - 1);
        }
        bput(OUT, ")");
    } else {
        bput(OUT, "(");
        kx_expr(n->lhs);
        bprintf(OUT, " %s ", op_spelling(n->op));
        kx_expr(n->rhs);
        bput(OUT, ")");
    }
    if (wrap)
        bput(OUT, ")");
}

static void unary(Node *n)
{
    bool wrap = small_int(n->ty) && n->op != OP_NOT;
    if (wrap)
        bprintf(OUT, "((%s)", kc_type(n->ty, n->pos));
    bput(OUT, n->op == OP_NEG ? "(-" : n->op == OP_NOT ? "(!" : "(~");
    if (n->op == OP_NOT)
        kx_cond(n->lhs);
    else
        kx_expr(n->lhs);
    bput(OUT, ")");
    if (wrap)
        bput(OUT, ")");
}

static void cast(Node *n)
{
    Type *to = n->ty, *from = n->lhs->ty;
    if (is_aggregate(to) || same_type(to, from)) {
        kx_expr(n->lhs);    /* str(M) as str(N): the same characters */
        return;
    }
    if (to->kind == TY_PTR && from->kind != TY_PTR && !is_integer(from) && from->kind != TY_NULL) {
        error_at(n->pos, "kernel-module code cannot convert %s to %s", type_name(from), type_name(to));
        return;
    }
    bprintf(OUT, "((%s)(", kc_type(to, n->pos));
    kx_expr(n->lhs);
    bput(OUT, "))");
}

/* ---- places ---------------------------------------------------------------- */

static void field(Node *n)
{
    Type *lt = n->lhs->ty;
    Type *st = lt->kind == TY_PTR ? lt->base : lt;
    if (!is_struct(st)) {
        error_at(n->pos, "kernel-module code cannot use '.%s' here", n->name);
        return;
    }
    bput(OUT, "(");
    kx_expr(n->lhs);
    bprintf(OUT, ")%s%s", lt->kind == TY_PTR ? "->" : ".", kc_member_name(st, n->name));
}

static void index_expr(Node *n)
{
    if (n->lhs->ty->kind == TY_MAP) {
        error_at(n->lhs->pos, "kernel-module code cannot use map '%s': maps live in the BPF object",
                 n->lhs->kind == N_IDENT ? n->lhs->name : "?");
        help("maps belong to eBPF and userspace code; pass what the module needs as arguments");
        return;
    }
    bput(OUT, "(");
    kx_expr(n->lhs);
    bput(OUT, ")[");
    kx_expr(n->rhs);
    bput(OUT, "]");
}

static bool is_lvalue(Node *e)
{
    switch (e->kind) {
    case N_IDENT: return e->sym && e->sym->kind == SYM_LOCAL;
    case N_FIELD: return e->lhs->ty->kind == TY_PTR || is_lvalue(e->lhs);
    case N_INDEX: return e->lhs->ty->kind != TY_MAP;
    case N_DEREF: return true;
    default: return false;
    }
}

const char *kx_agg_ptr(Node *e)
{
    if (e->kind == N_CAST && is_aggregate(e->lhs->ty))
        return kx_agg_ptr(e->lhs);
    if (e->kind == N_STR) {
        Buf b = { 0 };
        bput_cstr(&b, e->sval, e->slen);
        return b.s;
    }
    bool st = is_struct(e->ty);
    if (is_lvalue(e))
        return xfmt(st ? "(&%s)" : "%s", kx_to_string(e));
    if (e->kind == N_TERNARY && !st) {
        Buf c = { 0 }, *saved = OUT;
        OUT = &c;
        kx_cond(e->cond);
        OUT = saved;
        return xfmt("(%s ? %s : %s)", c.s, kx_agg_ptr(e->then), kx_agg_ptr(e->els));
    }
    /* An array or string made by statements goes to a temporary; a call
     * or a concatenation already yields a pointer to one. kx_store never
     * asks for these kinds' pointer, so this does not recurse. */
    bool built = e->kind == N_ARRAY_LIT || e->kind == N_ARRAY_REPEAT || e->kind == N_MATCH || e->kind == N_IF
              || e->kind == N_BLOCK;
    if (!st && !built)
        return kx_to_string(e);
    const char *t = kf_temp(e->ty, e->pos);
    Buf b = { 0 }, *saved = OUT;
    OUT = &b;
    stmt_expr_begin();
    if (st) {
        kf_nl();
        bprintf(OUT, "%s = %s;", t, kx_to_string(e));
    } else {
        kx_store(t, e->ty, e);
    }
    stmt_expr_end(xfmt(st ? "&%s" : "%s", t));
    OUT = saved;
    return b.s;
}

/* ---- calls ------------------------------------------------------------------ */

static const char *err_tmp(void)
{
    if (!K->err_tmp)
        K->err_tmp = kf_temp_c("s32", "ksc_e");
    return K->err_tmp;
}

/* A module function under the module ABI. want_value false: a statement,
 * so no statement expression and no value. */
static void call_module(Node *n, bool want_value)
{
    Func *f = n->func;
    if (f->target != TGT_KMOD) {
        error_at(n->pos, "kernel-module code cannot call '%s'", f->name);
        return;
    }
    Buf args = { 0 };
    const char *ret = NULL;
    if (is_aggregate(f->ret)) {
        ret = kf_temp(f->ret, n->pos);
        bprintf(&args, is_struct(f->ret) ? "&%s" : "%s", ret);
    }
    for (int i = 0; i < n->args.n && i < f->params.n; i++) {
        Node *a = n->args.v[i];
        bprintf(&args, "%s%s", args.n ? ", " : "", is_aggregate(f->params.v[i]->ty) ? kx_agg_ptr(a) : kx_to_string(a));
    }
    const char *call = xfmt("%s(%s", kc_func_name(f), args.s ? args.s : "");
    if (!f->throws) {
        if (!want_value) {
            kf_nl();
            bprintf(OUT, "%s);", call);
        } else if (ret) {
            bprintf(OUT, "({ %s); %s; })", call, ret);
        } else {
            bprintf(OUT, "%s)", call);
        }
        return;
    }
    /* err = 0; [val =] f(..., &err); if (err) throw err; [val] */
    const char *e = err_tmp();
    const char *val = ret;
    bool scalar = !ret && f->ret->kind != TY_VOID;
    if (want_value && scalar)
        val = kf_temp(f->ret, n->pos);
    if (want_value)
        stmt_expr_begin();
    kf_nl();
    bprintf(OUT, "%s = 0;", e);
    kf_nl();
    bprintf(OUT, "%s%s%s&%s);", want_value && scalar ? xfmt("%s = ", val) : "", call, args.n ? ", " : "", e);
    kf_nl();
    bprintf(OUT, "if (%s)", e);
    kf_throw(e);
    if (want_value)
        stmt_expr_end(val);
}

static void kernel_call(Node *n)
{
    bprintf(OUT, "%s(", n->name);
    for (int i = 0; i < n->args.n; i++) {
        Node *a = n->args.v[i];
        if (i)
            bput(OUT, ", ");
        if (a->ty->kind == TY_STR || a->ty->kind == TY_ARRAY)
            bput(OUT, kx_agg_ptr(a));
        else
            kx_expr(a);
    }
    bput(OUT, ")");
}

/* ---- print -------------------------------------------------------------------- */

/* The C value printk reads for conversion c, and the length modifier the
 * argument's width needs; every argument is cast to exactly what its
 * conversion reads, so -Wformat holds whatever the type. */
static const char *print_arg(Node *a, char c, const char **mod)
{
    Type *t = a->ty;
    bool wide = (t->kind == TY_INT || t->kind == TY_ENUM) && t->size == 8;
    *mod = "";
    switch (c) {
    case 's':
        if (t->kind == TY_STR || (t->kind == TY_ARRAY && t->base->kind == TY_CHAR))
            return kx_agg_ptr(a);
        if (t->kind == TY_PTR)
            return xfmt("(const char *)(%s)", kx_to_string(a));
        error_at(a->pos, "'%%s' prints a string; this argument is %s", type_name(t));
        return "\"\"";
    case 'p':
        if (t->kind == TY_PTR)
            return xfmt("(const void *)(%s)", kx_to_string(a));
        return xfmt("(const void *)(unsigned long)(%s)", kx_to_string(a));
    case 'c': return xfmt("(int)(%s)", kx_to_string(a));
    case 'd': case 'i':
        *mod = wide ? "ll" : "";
        return xfmt("(%s)(%s)", wide ? "long long" : "int", kx_to_string(a));
    default:
        *mod = wide ? "ll" : "";
        return xfmt("(%s)(%s)", wide ? "unsigned long long" : "unsigned int", kx_to_string(a));
    }
}

/* The conversion for a value printed after the text. */
static char default_conv(Type *t)
{
    if (t->kind == TY_STR || (t->kind == TY_PTR && t->base->kind == TY_CHAR))
        return 's';
    if (t->kind == TY_PTR)
        return 'p';
    if (t->kind == TY_CHAR)
        return 'c';
    return t->kind == TY_INT && t->is_signed ? 'd' : 'u';
}

static void print_call(Node *n)
{
    Node *fmt = n->args.n && n->args.v[0]->kind == N_STR ? n->args.v[0] : NULL;
    Buf f = { 0 }, args = { 0 };
    int arg = fmt ? 1 : 0;
    const char *s = fmt ? fmt->sval : "";
    int slen = fmt ? fmt->slen : 0;
    for (int i = 0; i < slen; i++) {
        if (s[i] != '%' || (i + 1 < slen && s[i + 1] == '%')) {
            bprintf(&f, "%c", s[i]);
            if (s[i] == '%')
                bprintf(&f, "%c", s[++i]);
            continue;
        }
        int j = i + 1;
        bput(&f, "%");
        while (j < slen && strchr("-+ #0123456789.", s[j]))
            bprintf(&f, "%c", s[j++]);
        while (j < slen && strchr("hlzjt", s[j]))
            j++;            /* ksc supplies the length modifier */
        if (j >= slen || arg >= n->args.n)
            break;          /* the checker reported it */
        const char *mod;
        bprintf(&args, ", %s", print_arg(n->args.v[arg++], s[j], &mod));
        bprintf(&f, "%s%c", mod, s[j]);
        i = j;
    }
    for (; arg < n->args.n; arg++) {
        const char *mod;
        char c = default_conv(n->args.v[arg]->ty);
        bprintf(&args, ", %s", print_arg(n->args.v[arg], c, &mod));
        bprintf(&f, "%s%%%s%c", f.n ? " " : "", mod, c);
    }
    if (!f.n || f.s[f.n - 1] != '\n')
        bput(&f, "\n");
    bput(OUT, "printk(KERN_INFO ");
    bput_cstr(OUT, f.s, (int)f.n);
    bprintf(OUT, "%s)", args.s ? args.s : "");
}

static void builtin_call(Node *n)
{
    switch (n->builtin) {
    case B_PRINT: print_call(n); return;
    case B_KERNEL_CALL: kernel_call(n); return;
    case B_HTONS: case B_NTOHS: case B_HTONL: case B_NTOHL: {
        static const char *names[] = { "htons", "ntohs", "htonl", "ntohl" };
        bool s16 = n->builtin == B_HTONS || n->builtin == B_NTOHS;
        bprintf(OUT, "((%s)%s(", s16 ? "u16" : "u32", names[n->builtin - B_HTONS]);
        kx_expr(n->args.v[0]);
        bput(OUT, "))");
        return;
    }
    default:
        error_at(n->pos, "'%s' cannot be called from kernel-module code",
                 n->lhs && n->lhs->kind == N_IDENT ? n->lhs->name : "this built-in");
        bput(OUT, "0");
    }
}

static void call(Node *n, bool want_value)
{
    if (n->func)
        call_module(n, want_value);
    else if (n->builtin)
        builtin_call(n);
    else {
        error_at(n->pos, "kernel-module code cannot call this (function pointers are userspace only)");
        bput(OUT, "0");
    }
}

/* ---- assignment ------------------------------------------------------------------ */

static bool has_call(Node *n)
{
    if (!n)
        return false;
    if (n->kind == N_CALL)
        return true;
    Node *kids[] = { n->lhs, n->rhs, n->cond, n->then, n->els };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        if (has_call(kids[i]))
            return true;
    for (int i = 0; i < n->args.n; i++)
        if (has_call(n->args.v[i]))
            return true;
    return false;
}

/* The target of an assignment as text usable more than once: through a
 * pointer when computing it calls something. */
static const char *assign_target(Node *lhs)
{
    if (!has_call(lhs))
        return kx_to_string(lhs);
    const char *p = kf_temp(pointer_to(lhs->ty), lhs->pos);
    kf_nl();
    bprintf(OUT, "%s = &%s;", p, kx_to_string(lhs));
    return xfmt("(*%s)", p);
}

static void assign(Node *n)
{
    Node *lhs = n->lhs, *rhs = n->rhs;
    if (n->is_rebind) {
        error_at(n->pos, "kernel-module code cannot use maps");
        return;
    }
    const char *dst = assign_target(lhs);
    if (n->op == OP_NONE) {
        kx_store(dst, lhs->ty, rhs);
        return;
    }
    if (lhs->ty->kind == TY_STR) {  /* s += t */
        Node cat = { .kind = N_BINARY, .op = OP_ADD, .pos = n->pos, .ty = lhs->ty, .lhs = lhs, .rhs = rhs };
        kx_store(dst, lhs->ty, &cat);
        return;
    }
    kf_nl();
    Node bin = { .kind = N_BINARY, .op = n->op, .pos = n->pos, .ty = lhs->ty, .lhs = lhs, .rhs = rhs };
    if ((n->op == OP_DIV || n->op == OP_MOD) && !plain_divisor(&bin)) {
        bprintf(OUT, "%s = (%s)%s(%s, ", dst, kc_type(lhs->ty, n->pos), div_helper(&bin), dst);
        kx_expr(rhs);
        bput(OUT, ");");
    } else if (n->op == OP_SHL || n->op == OP_SHR) {
        bprintf(OUT, "%s %s= (", dst, op_spelling(n->op));
        kx_expr(rhs);
        bprintf(OUT, ") & %d;", lhs->ty->size * 8 - 1);
    } else {
        bprintf(OUT, "%s %s= ", dst, op_spelling(n->op));
        kx_expr(rhs);
        bput(OUT, ";");
    }
}

void kx_expr_stmt(Node *e)
{
    if (e->kind == N_ASSIGN) {
        assign(e);
        return;
    }
    if (e->kind == N_MATCH || e->kind == N_IF || e->kind == N_BLOCK) {
        kf_stmt(&(Node){ .kind = N_EXPR, .pos = e->pos, .lhs = e });
        return;
    }
    if (e->kind == N_CALL && e->func) {
        call_module(e, false);
        return;
    }
    kf_nl();
    if (e->kind != N_CALL)
        bput(OUT, "(void)");
    kx_expr(e);
    bput(OUT, ";");
}

/* ---- storing values ------------------------------------------------------------------ */

static void store_struct(const char *dst, Type *t, Node *src)
{
    if (src->kind != N_STRUCT_LIT) {
        kf_nl();
        bprintf(OUT, "%s = ", dst);
        kx_expr(src);
        bput(OUT, ";");
        return;
    }
    /* Every byte no field covers is zero (padding too: the value may be
     * hashed or compared as bytes). */
    kf_nl();
    bprintf(OUT, "memset(&%s, 0, %d);", dst, t->size);
    for (int i = 0; i < src->args.n; i++) {
        Node *fi = src->args.v[i];
        int off;
        Member *m = find_member(t, fi->name, &off);
        if (m)
            kx_store(xfmt("%s.%s", dst, kc_member_name(t, fi->name)), m->ty, fi->lhs);
    }
}

static void store_array(const char *dst, Type *t, Node *src)
{
    Type *el = t->base;
    if (src->kind == N_ARRAY_LIT) {
        kf_nl();
        bprintf(OUT, "memset(%s, 0, %d);", dst, t->size);
        for (int i = 0; i < src->args.n && i < t->len; i++)
            kx_store(xfmt("%s[%d]", dst, i), el, src->args.v[i]);
        return;
    }
    if (src->kind == N_ARRAY_REPEAT) {
        /* The first element, then copies of it. */
        kx_store(xfmt("%s[0]", dst), el, src->lhs);
        const char *i = kf_temp_c("u32", "ksc_i");
        kf_nl();
        bprintf(OUT, "for (%s = 1; %s < %ld; %s++)", i, i, t->len, i);
        kf_nl();
        bprintf(OUT, "\tmemcpy(&%s[%s], &%s[0], %d);", dst, i, dst, el->size);
        return;
    }
    kf_nl();
    bprintf(OUT, "memmove(%s, %s, %d);", dst, kx_agg_ptr(src), t->size);
}

static void store_str(const char *dst, Type *t, Node *src)
{
    while (src->kind == N_CAST && src->lhs->ty->kind == TY_STR)
        src = src->lhs;
    kf_nl();
    /* strscpy_pad: cut to the capacity, always terminated, the rest zero. */
    bprintf(OUT, "strscpy_pad(%s, %s, %ld);", dst, kx_agg_ptr(src), t->len);
}

void kx_store(const char *dst, Type *t, Node *src)
{
    if (src->kind == N_MATCH || (src->kind == N_IF && src->is_value) || src->kind == N_BLOCK) {
        kx_store_branches(dst, t, src);
        return;
    }
    if (src->kind == N_CAST && is_aggregate(t) && is_aggregate(src->lhs->ty) && t->kind != TY_STR) {
        kx_store(dst, t, src->lhs);
        return;
    }
    if (is_struct(t)) {
        store_struct(dst, t, src);
    } else if (t->kind == TY_ARRAY) {
        store_array(dst, t, src);
    } else if (t->kind == TY_STR) {
        store_str(dst, t, src);
    } else {
        kf_nl();
        bprintf(OUT, "%s = ", dst);
        kx_expr(src);
        bput(OUT, ";");
    }
}

typedef struct StoreCtx { const char *dst; Type *t; } StoreCtx;

static void store_branch(Node *body, void *ctx);

static void store_block(const char *dst, Type *t, Node *b)
{
    int n = b->args.n;
    for (int i = 0; i + 1 < n; i++)
        kf_stmt(b->args.v[i]);
    if (!n)
        return;
    Node *last = b->args.v[n - 1];
    if (last->kind == N_EXPR)
        store_branch(last->lhs, &(StoreCtx){ dst, t });
    else
        kf_stmt(last);      /* return, throw, break: no value */
}

static void store_branch(Node *body, void *ctx)
{
    StoreCtx *c = ctx;
    if (body->kind == N_BLOCK)
        store_block(c->dst, c->t, body);
    else
        kx_store(c->dst, c->t, body);
}

static void store_if(const char *dst, Type *t, Node *n)
{
    StoreCtx c = { dst, t };
    kf_nl();
    if (n->init) {
        kf_stmt(n->init);
        kf_nl();
        bprintf(OUT, "if (%s) {", K->var_name[n->init->var->id]);
    } else {
        bput(OUT, "if (");
        kx_cond(n->cond);
        bput(OUT, ") {");
    }
    K->indent++;
    store_branch(n->then, &c);
    K->indent--;
    kf_nl();
    bput(OUT, "} else {");
    K->indent++;
    if (n->els)
        store_branch(n->els, &c);
    K->indent--;
    kf_nl();
    bput(OUT, "}");
}

void kx_store_branches(const char *dst, Type *t, Node *src)
{
    if (src->kind == N_IF)
        store_if(dst, t, src);
    else if (src->kind == N_MATCH)
        kf_match(src, store_branch, &(StoreCtx){ dst, t });
    else
        store_block(dst, t, src);
}

/* ---- the expression switch ---------------------------------------------------------- */

/* A value made by statements: a temporary filled by kx_store. */
static void via_temp(Node *n)
{
    const char *t = kf_temp(n->ty, n->pos);
    stmt_expr_begin();
    kx_store(t, n->ty, n);
    stmt_expr_end(t);
}

void kx_cond(Node *n)
{
    kx_expr(n);
}

void kx_expr(Node *n)
{
    if (n->is_const_val && const_type(n->ty) && n->kind != N_CALL) {
        emit_const(n->cval, n->ty);
        return;
    }
    switch (n->kind) {
    case N_INT: case N_CHAR: case N_BOOL: emit_const((i128)n->ival, n->ty); return;
    case N_NULL: bput(OUT, "NULL"); return;
    case N_STR: bput_cstr(OUT, n->sval, n->slen); return;
    case N_IDENT: ident(n); return;
    case N_BINARY: binary(n); return;
    case N_UNARY: unary(n); return;
    case N_ADDR:
        bput(OUT, "(&");
        kx_expr(n->lhs);
        bput(OUT, ")");
        return;
    case N_DEREF:
        bput(OUT, "(*");
        kx_expr(n->lhs);
        bput(OUT, ")");
        return;
    case N_TERNARY:
        if (is_aggregate(n->ty) && !is_struct(n->ty)) {
            bput(OUT, kx_agg_ptr(n));
            return;
        }
        bput(OUT, "(");
        kx_cond(n->cond);
        bput(OUT, " ? ");
        kx_expr(n->then);
        bput(OUT, " : ");
        kx_expr(n->els);
        bput(OUT, ")");
        return;
    case N_CALL: call(n, true); return;
    case N_INDEX: index_expr(n); return;
    case N_FIELD: field(n); return;
    case N_CAST: cast(n); return;
    case N_ASSIGN:
        stmt_expr_begin();
        assign(n);
        stmt_expr_end(kx_to_string(n->lhs));
        return;
    case N_STRUCT_LIT: case N_ARRAY_LIT: case N_ARRAY_REPEAT: case N_MATCH: case N_IF: case N_BLOCK:
        via_temp(n);
        return;
    default:
        break;
    }
    error_at(n->pos, "this expression cannot be translated to kernel-module code");
    bput(OUT, "0");
}
