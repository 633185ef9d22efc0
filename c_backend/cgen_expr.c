/* The userspace back end, expressions. Each comes back as a C expression
 * string with the language's semantics (LANGUAGE.md section 2): integer
 * arithmetic wraps at the width of its type (computed unsigned, so C has
 * no undefined overflow), division by zero gives 0, shift counts are taken
 * modulo the width, strings compare and concatenate by content. */
#include "c_backend/cgen_int.h"

#include <string.h>

const char *new_temp(void) { return xfmt("ks_t%d", G.ntemp++); }

/* "file.ks:12", for run-time messages. */
const char *where_str(Pos pos)
{
    const char *f = pos.file ? diag_file_name(pos.file) : "?";
    const char *slash = f ? strrchr(f, '/') : NULL;
    return xfmt("%s:%d", slash ? slash + 1 : f ? f : "?", pos.line);
}

/* A C string literal; '?' is escaped against trigraphs, other bytes that
 * are not plain ASCII as three-digit octal. */
const char *cquote(const char *s, int len)
{
    CBuf b = { 0 };
    cb_put(&b, "\"");
    for (int i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': cb_put(&b, "\\\""); break;
        case '\\': cb_put(&b, "\\\\"); break;
        case '\n': cb_put(&b, "\\n"); break;
        case '\t': cb_put(&b, "\\t"); break;
        case '\r': cb_put(&b, "\\r"); break;
        case '?': cb_put(&b, "\\?"); break;
        default:
            if (c >= 32 && c < 127)
                cb_fmt(&b, "%c", c);
            else
                cb_fmt(&b, "\\%03o", c);
        }
    }
    cb_put(&b, "\"");
    return cb_str(&b);
}

/* ---- constants ------------------------------------------------------------ */

static bool scalar_const(Node *n)
{
    return n->is_const_val && n->ty && (is_intlike(n->ty) || n->ty->kind == TY_BOOL);
}

const char *cconst(i128 v, Type *t)
{
    if (t->kind == TY_BOOL)
        return v ? "true" : "false";
    Type *it = int_of(t);
    int bits = it->size * 8;
    uint64_t u = (uint64_t)v;
    if (bits < 64)
        u &= (1ull << bits) - 1;
    if (t->kind == TY_CHAR)
        return xfmt("((char)%d)", (int)(int8_t)u);
    if (!it->is_signed)
        return xfmt("((%s)%lluULL)", ctype(it), (unsigned long long)u);
    int64_t s = bits < 64 && (u >> (bits - 1)) & 1 ? (int64_t)(u - (1ull << bits)) : (int64_t)u;
    if (s == INT64_MIN)
        return "INT64_MIN";
    return xfmt("((%s)%lldLL)", ctype(it), (long long)s);
}

/* ---- arithmetic ---------------------------------------------------------------- */

const char *arith(Op op, Type *t, const char *a, const char *b)
{
    Type *it = int_of(t);
    const char *T = ctype(it);
    int bits = it->size * 8;
    const char *U = it->size < 8 ? "uint32_t" : "uint64_t";
    static const char *sym[] = { [OP_ADD] = "+", [OP_SUB] = "-", [OP_MUL] = "*", [OP_AND] = "&",
                                 [OP_OR] = "|", [OP_XOR] = "^" };
    switch (op) {
    case OP_ADD: case OP_SUB: case OP_MUL:
        return xfmt("((%s)((%s)(%s) %s (%s)(%s)))", T, U, a, sym[op], U, b);
    case OP_DIV: case OP_MOD:
        if (it->is_signed)
            return xfmt("((%s)ks_s%s((int64_t)(%s), (int64_t)(%s)))", T, op == OP_DIV ? "div" : "mod", a, b);
        return xfmt("((%s)ks_u%s((uint64_t)(%s), (uint64_t)(%s)))", T, op == OP_DIV ? "div" : "mod", a, b);
    case OP_AND: case OP_OR: case OP_XOR:
        return xfmt("((%s)((%s) %s (%s)))", T, a, sym[op], b);
    case OP_SHL:
        return xfmt("((%s)((%s)(%s) << ((%s) & %d)))", T, U, a, b, bits - 1);
    case OP_SHR:
        return xfmt("((%s)((%s) >> ((%s) & %d)))", T, a, b, bits - 1);
    default:
        return "0";
    }
}

static const char *cmp_sym(Op op)
{
    switch (op) {
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_LT: return "<";
    case OP_LE: return "<=";
    case OP_GT: return ">";
    default: return ">=";
    }
}

static bool is_cmp(Op op) { return op >= OP_EQ && op <= OP_GE; }

/* ---- strings ----------------------------------------------------------------------- */

/* A literal as a str(cap) value, cut to cap-1 bytes. */
static const char *str_lit(Node *n, long cap)
{
    int len = n->slen < cap - 1 ? n->slen : (int)(cap - 1);
    return xfmt("((%s){ %s })", ctype(str_type(cap)), cquote(n->sval, len < 0 ? 0 : len));
}

static Node *strip_implicit(Node *n)
{
    while (n->kind == N_CAST && n->implicit && n->lhs->ty && n->lhs->ty->kind == TY_STR && n->ty->kind == TY_STR)
        n = n->lhs;
    return n;
}

const char *cstr_ptr(Node *n, long *cap)
{
    Node *s = strip_implicit(n);
    if (s->kind == N_STR) {
        *cap = s->slen + 1;
        if (n->ty->kind == TY_STR && n->ty->len < *cap)
            *cap = n->ty->len;
        return cquote(s->sval, s->slen);
    }
    Type *t = n->ty;
    if (t->kind == TY_STR) {
        *cap = t->len;
        return xfmt("(%s).s", cx(n));
    }
    if (t->kind == TY_ARRAY) {
        *cap = t->len;
        return xfmt("((const char *)(%s).a)", cx(n));
    }
    *cap = -1;
    return xfmt("((const char *)(%s))", cx(n));
}

static const char *cap_str(long cap) { return cap < 0 ? "SIZE_MAX" : xfmt("%ld", cap); }

static const char *string_op(Node *n)
{
    long ca, cb;
    const char *a = cstr_ptr(n->lhs, &ca), *b = cstr_ptr(n->rhs, &cb);
    if (n->op == OP_EQ || n->op == OP_NE)
        return xfmt("(%sks_str_eq(%s, %s, %s, %s))", n->op == OP_NE ? "!" : "", a, cap_str(ca), b, cap_str(cb));
    if (n->op != OP_ADD || n->ty->kind != TY_STR) {
        cg_error(n->pos, "this string operation has no userspace translation");
        return "0";
    }
    Sub s;
    sub_begin(&s);
    const char *t = new_temp();
    cg_out("%s;", cdecl(n->ty, t));
    cg_out("ks_str_cat(%s.s, %ld, %s, %s, %s, %s);", t, n->ty->len, a, cap_str(ca), b, cap_str(cb));
    return sub_end(&s, t);
}

/* ---- conversions ------------------------------------------------------------------------ */

static const char *str_to_array(Node *from, Type *to)
{
    long cap;
    const char *p = cstr_ptr(from, &cap);
    Sub s;
    sub_begin(&s);
    const char *t = new_temp(), *q = new_temp(), *n = new_temp();
    cg_out("%s;", cdecl(to, t));
    cg_out("memset(&%s, 0, sizeof %s);", t, t);
    cg_out("const char *%s = %s;", q, p);
    cg_out("size_t %s = strnlen(%s, %s);", n, q, cap_str(cap));
    cg_out("memcpy(%s.a, %s, %s < %ld ? %s : %ld);", t, q, n, to->len, n, to->len);
    return sub_end(&s, t);
}

const char *ccast(const char *x, Node *from_node, Type *to)
{
    Type *from = from_node->ty;
    if (to->kind == TY_ERROR || from->kind == TY_ERROR)
        return x;
    if (to->kind == TY_BOOL)
        return from->kind == TY_BOOL ? x : from->kind == TY_PTR ? xfmt("((%s) != NULL)", x) : xfmt("((%s) != 0)", x);
    if (is_intlike(to) && (is_intlike(from) || from->kind == TY_BOOL))
        return xfmt("((%s)(%s))", ctype(to), x);
    if (to->kind == TY_PTR && from->kind == TY_PTR)
        return xfmt("((%s)(%s))", ctype(to), x);
    if (to->kind == TY_PTR && from->kind == TY_NULL)
        return xfmt("((%s)0)", ctype(to));
    if (to->kind == TY_PTR)
        return xfmt("((%s)(uintptr_t)(%s))", ctype(to), x);
    if (from->kind == TY_PTR && is_intlike(to))
        return xfmt("((%s)(uintptr_t)(%s))", ctype(to), x);
    if (to->kind == TY_STR && from->kind == TY_STR) {
        Node *lit = strip_implicit(from_node);
        if (lit->kind == N_STR)
            return str_lit(lit, to->len);
        if (from->len == to->len)
            return x;
        long cap;
        const char *p = cstr_ptr(from_node, &cap);
        Sub s;
        sub_begin(&s);
        const char *t = new_temp();
        cg_out("%s;", cdecl(to, t));
        cg_out("ks_str_set(%s.s, %ld, %s, %s);", t, to->len, p, cap_str(cap));
        return sub_end(&s, t);
    }
    if (to->kind == TY_ARRAY && str_like(to) && from->kind == TY_STR)
        return str_to_array(from_node, to);
    return x;
}

/* ---- evaluation order ---------------------------------------------------------------------- */

/* Does evaluating n do more than read? (a call, or a statement inside a
 * block value) */
bool has_effects(Node *n)
{
    if (!n)
        return false;
    if (n->kind == N_CALL && !(n->builtin >= B_HTONS && n->builtin <= B_NTOHL))
        return true;
    if (n->kind == N_ASSIGN || n->kind == N_THROW || n->kind == N_DELETE)
        return true;
    Node *kids[] = { n->lhs, n->rhs, n->cond, n->then, n->els, n->body, n->init };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        if (has_effects(kids[i]))
            return true;
    for (int i = 0; i < n->args.n; i++)
        if (has_effects(n->args.v[i]))
            return true;
    return false;
}

/* C leaves the order of operands and arguments open, the language
 * evaluates left to right: when several of them have effects, each of
 * those goes into a temporary first, in order. Call for each operand in
 * turn with the same Sub (opened on first use: end it with sub_end). */
const char *in_order(Node *a, bool order, Sub *s, bool *opened)
{
    if (!order || !has_effects(a))
        return cx(a);
    if (!*opened) {
        sub_begin(s);
        *opened = true;
    }
    const char *t = new_temp();
    cg_out("%s = %s;", cdecl(a->ty, t), cx(a));
    return t;
}

int count_effects(Node **nodes, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += has_effects(nodes[i]);
    return k;
}

/* ---- operators --------------------------------------------------------------------------- */

static const char *cx_binary(Node *n)
{
    if (n->is_presence)
        return cx_presence(n);
    Type *lt = n->lhs->ty, *rt = n->rhs->ty;
    if (n->op == OP_LAND || n->op == OP_LOR)
        return xfmt("(%s %s %s)", ccond(n->lhs), n->op == OP_LAND ? "&&" : "||", ccond(n->rhs));
    if (str_like(lt) && str_like(rt) && (lt->kind == TY_STR || rt->kind == TY_STR))
        return string_op(n);
    bool lp = lt->kind == TY_PTR || lt->kind == TY_NULL || lt->kind == TY_HANDLE || lt->kind == TY_PERFATT;
    bool rp = rt->kind == TY_PTR || rt->kind == TY_NULL || rt->kind == TY_HANDLE || rt->kind == TY_PERFATT;
    if (lp || rp) {
        if (is_cmp(n->op))
            return xfmt("((const void *)(%s) %s (const void *)(%s))", cx(n->lhs), cmp_sym(n->op), cx(n->rhs));
        if (lp && rp)
            return xfmt("((int64_t)((%s) - (%s)))", cx(n->lhs), cx(n->rhs));
        return xfmt("((%s)((%s) %s (%s)))", ctype(n->ty), cx(n->lhs), n->op == OP_ADD ? "+" : "-", cx(n->rhs));
    }
    Sub s;
    bool opened = false, order = has_effects(n->lhs) && has_effects(n->rhs);
    const char *a = in_order(n->lhs, order, &s, &opened), *b = in_order(n->rhs, order, &s, &opened);
    const char *r;
    if (is_cmp(n->op))
        r = xfmt("((%s) %s (%s))", a, cmp_sym(n->op), b);
    else if (lt->kind == TY_BOOL && rt->kind == TY_BOOL)
        r = xfmt("((bool)((%s) %s (%s)))", a, n->op == OP_AND ? "&" : n->op == OP_OR ? "|" : "^", b);
    else
        r = arith(n->op, n->ty, a, b);
    return opened ? sub_end(&s, r) : r;
}

static const char *cx_unary(Node *n)
{
    if (n->op == OP_NOT)
        return xfmt("(!%s)", ccond(n->lhs));
    Type *it = int_of(n->ty);
    const char *U = it->size < 8 ? "uint32_t" : "uint64_t";
    if (n->op == OP_NEG)
        return xfmt("((%s)((%s)0 - (%s)(%s)))", ctype(it), U, U, cx(n->lhs));
    return xfmt("((%s)(~(%s)(%s)))", ctype(it), U, cx(n->lhs));
}

const char *ccond(Node *n)
{
    Type *t = n->ty;
    if (t->kind == TY_BOOL)
        return cx(n);
    if (t->kind == TY_PTR || t->kind == TY_HANDLE || t->kind == TY_PERFATT || t->kind == TY_FUNC)
        return xfmt("((%s) != NULL)", cx(n));
    return xfmt("((%s) != 0)", cx(n));
}

/* ---- names ------------------------------------------------------------------------------- */

static const char *cx_global(Node *n, Global *g)
{
    switch (g->kind) {
    case GV_VAR: case GV_CONFIG: return xfmt("(*%s)", cglobal(g));
    case GV_PIN: return cx_pinned(g);
    case GV_MAP: return xfmt("(&%s)", cmap(g));
    default:
        cg_error(n->pos, "'%s' is a local var: only eBPF code can use it", g->name);
        return "0";
    }
}

static const char *cx_sym(Node *n, Sym *s)
{
    switch (s->kind) {
    case SYM_LOCAL: {
        Var *v = s->var;
        return v->is_mapref ? xfmt("%s.v", cvar(v)) : cvar(v);
    }
    case SYM_GLOBAL: return cx_global(n, s->global);
    case SYM_FUNC:
        if (s->func->target != TGT_USER && s->func->target != TGT_TEST) {
            cg_error(n->pos, "'%s' is not a userspace function; it has no value here", s->func->name);
            return "0";
        }
        return cfunc(s->func);
    default:
        cg_error(n->pos, "'%s' has no value in userspace code", s->name);
        return "0";
    }
}

static const char *cx_field(Node *n)
{
    if (n->sym)                 /* ns.name */
        return cx_sym(n, n->sym);
    if (n->lhs->ty->kind == TY_PTR)
        return xfmt("(%s)->%s", cx(n->lhs), cmember(n->name));
    return xfmt("(%s).%s", cx(n->lhs), cmember(n->name));
}

static const char *index_expr(Node *n, long len)
{
    if (n->rhs->is_const_val || len <= 0)
        return cx(n->rhs);
    return xfmt("ks_ix(%s, %ld, \"%s\")", cx(n->rhs), len, where_str(n->pos));
}

static const char *cx_index(Node *n)
{
    Type *lt = n->lhs->ty;
    if (lt->kind == TY_MAP)
        return cx_map_read(n);
    if (lt->kind == TY_STR)
        return xfmt("(%s).s[%s]", cx(n->lhs), index_expr(n, lt->len));
    if (lt->kind == TY_ARRAY)
        return xfmt("(%s).a[%s]", cx(n->lhs), index_expr(n, lt->len));
    if (lt->kind == TY_PTR && lt->base->kind == TY_ARRAY)
        return xfmt("(%s)->a[%s]", cx(n->lhs), index_expr(n, lt->base->len));
    return xfmt("(%s)[%s]", cx(n->lhs), cx(n->rhs));
}

static const char *cx_addr(Node *n)
{
    Node *l = n->lhs;
    if (l->kind == N_IDENT && l->sym && l->sym->kind == SYM_FUNC)
        return cx(l);
    if ((l->kind == N_INDEX && l->lhs->ty->kind == TY_MAP) || (l->kind == N_IDENT && l->var && l->var->is_mapref)
        || l->ty->kind == TY_MAP) {
        cg_error(n->pos, "the address of a map or map entry is for eBPF code");
        help("in userspace, copy the value: var v: %s = m[k]", type_name(l->ty));
        return "NULL";
    }
    return xfmt("(&%s)", cx(l));
}

/* ---- literals ------------------------------------------------------------------------------ */

static const char *cx_struct_lit(Node *n)
{
    Type *t = n->ty;
    Sub s;
    sub_begin(&s);
    const char *v = new_temp();
    cg_out("%s;", cdecl(t, v));
    cg_out("memset(&%s, 0, sizeof %s);", v, v);
    for (int i = 0; i < n->args.n; i++) {
        Node *f = n->args.v[i];
        cg_out("%s.%s = %s;", v, cmember(f->name), cx(f->lhs));
    }
    /* perf_options: an omitted field takes its documented default */
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        bool given = false;
        for (int k = 0; k < n->args.n && !given; k++)
            given = !strcmp(n->args.v[k]->name, m->name ? m->name : "");
        if (m->name && m->init && !given)
            cg_out("%s.%s = %s;", v, cmember(m->name), cx(m->init));
    }
    return sub_end(&s, v);
}

static const char *cx_array_lit(Node *n)
{
    Type *t = n->ty;
    Sub s;
    sub_begin(&s);
    const char *v = new_temp();
    cg_out("%s;", cdecl(t, v));
    cg_out("memset(&%s, 0, sizeof %s);", v, v);
    if (n->kind == N_ARRAY_REPEAT) {
        const char *e = new_temp(), *i = new_temp();
        long count = (long)n->rhs->cval < t->len ? (long)n->rhs->cval : t->len;
        cg_out("%s = %s;", cdecl(t->base, e), cx(n->lhs));
        cg_out("for (size_t %s = 0; %s < %ld; %s++)", i, i, count, i);
        cg_out("    %s.a[%s] = %s;", v, i, e);
    } else {
        for (int i = 0; i < n->args.n && i < t->len; i++)
            cg_out("%s.a[%d] = %s;", v, i, cx(n->args.v[i]));
    }
    return sub_end(&s, v);
}

/* match, if and blocks used for their value */
static const char *cx_value_form(Node *n)
{
    Sub s;
    sub_begin(&s);
    const char *r = new_temp();
    cg_out("%s;", cdecl(n->ty, r));
    cg_out("memset(&%s, 0, sizeof %s);", r, r);
    if (n->kind == N_MATCH)
        cg_match(n, r);
    else if (n->kind == N_IF)
        cg_if(n, r);
    else
        value_into(n, r);
    return sub_end(&s, r);
}

/* ---- the dispatcher ---------------------------------------------------------------------------- */

const char *cx(Node *n)
{
    if (n == G.lv_root)
        return G.lv_text;
    if (scalar_const(n))
        return cconst(n->cval, n->ty);
    switch (n->kind) {
    case N_STR: return str_lit(n, n->slen + 1);
    case N_NULL: return n->ty->kind == TY_PTR ? xfmt("((%s)0)", ctype(n->ty)) : "NULL";
    case N_IDENT: return n->sym ? cx_sym(n, n->sym) : "0";
    case N_BINARY: return cx_binary(n);
    case N_UNARY: return cx_unary(n);
    case N_ADDR: return cx_addr(n);
    case N_DEREF: return xfmt("(*%s)", cx(n->lhs));
    case N_CAST: return ccast(cx(n->lhs), n->lhs, n->ty);
    case N_TERNARY: return xfmt("(%s ? %s : %s)", ccond(n->cond), cx(n->then), cx(n->els));
    case N_CALL: return cx_call(n);
    case N_INDEX: return cx_index(n);
    case N_FIELD: return cx_field(n);
    case N_STRUCT_LIT: return cx_struct_lit(n);
    case N_ARRAY_LIT: case N_ARRAY_REPEAT: return cx_array_lit(n);
    case N_MATCH: case N_IF: case N_BLOCK: return cx_value_form(n);
    default:
        cg_error(n->pos, "this expression has no userspace translation");
        return "0";
    }
}
