/* The checker, expressions: typing, the integer rules of LANGUAGE.md
 * section 2 (untyped constants, widening, narrowing, signedness), constant
 * folding, and implicit conversions made explicit as N_CAST nodes. */
#include "frontend/internal.h"

#include <string.h>

#include "btf/ksbtf.h"

static const i128 LIMIT = ((i128)1 << 64);   /* untyped constants stay within ±2^64 */

/* ---- integers ---------------------------------------------------------- */

Type *arith_type(Type *t)
{
    switch (t->kind) {
    case TY_INT: return t;
    case TY_CHAR: return ty_u8;
    case TY_ENUM: return int_type(t->size, t->is_signed);
    default: return NULL;
    }
}

i128 wrap_to(i128 v, Type *t)
{
    Type *a = arith_type(t);
    if (!a)
        return t->kind == TY_BOOL ? v != 0 : v;
    int bits = a->size * 8;
    unsigned __int128 mask = bits >= 64 ? (unsigned __int128)UINT64_MAX : (((unsigned __int128)1 << bits) - 1);
    unsigned __int128 u = (unsigned __int128)v & mask;
    if (a->is_signed && (u >> (bits - 1)) & 1)
        return (i128)u - ((i128)1 << bits);
    return (i128)u;
}

bool fits(i128 v, Type *t)
{
    if (t->kind == TY_CHAR)
        return v >= -128 && v <= 255;
    Type *a = arith_type(t);
    if (!a)
        return false;
    int bits = a->size * 8;
    if (a->is_signed)
        return v >= -((i128)1 << (bits - 1)) && v < ((i128)1 << (bits - 1));
    return v >= 0 && v < ((i128)1 << bits);
}

static const char *i128_str(i128 v)
{
    if (v < 0)
        return xfmt("-%llu", (unsigned long long)(-v));
    return xfmt("%llu", (unsigned long long)v);
}

/* The type an untyped constant takes with no context. */
static Type *default_int_type(i128 v)
{
    if (v >= 0)
        return v <= UINT32_MAX ? ty_u32 : ty_u64;
    return v >= INT32_MIN ? ty_i32 : ty_i64;
}

Type *common_type(Type *a, Type *b)
{
    a = arith_type(a);
    b = arith_type(b);
    if (a->size != b->size)
        return a->size > b->size ? a : b;
    if (a->is_signed != b->is_signed)
        return int_type(a->size, false);
    return a;
}

static Node *const_node(Node *like, Type *ty, i128 v)
{
    Node *n = xalloc(sizeof(Node));
    n->kind = like->kind == N_BOOL ? N_BOOL : N_INT;
    n->pos = like->pos;
    n->ty = ty;
    n->is_const_val = true;
    n->cval = v;
    n->ival = (uint64_t)v;
    n->from_var = like->from_var;
    return n;
}

/* Does this constant's value come from a `var` that is only constant
 * because it is never assigned again? Such a value serves loop bounds and
 * array sizes, but it is not a `const` expression: dividing by it is the
 * BPF rule at run time, not an error. Implicit casts wrap the node. */
bool var_const(Node *n)
{
    while (n && !n->from_var && n->kind == N_CAST && n->implicit)
        n = n->lhs;
    return n && n->from_var;
}

/* The divisor is the constant zero, written as such (LANGUAGE.md 2). */
bool const_zero_divisor(Node *rhs)
{
    return rhs->is_const_val && rhs->cval == 0 && !var_const(rhs);
}

/* ---- conversions ------------------------------------------------------- */

Node *cast_to(Node *n, Type *to)
{
    if (same_type(n->ty, to) || n->ty->kind == TY_ERROR || to->kind == TY_ERROR)
        return n;
    if (n->is_const_val && arith_type(to) && (arith_type(n->ty) || n->ty->kind == TY_UNTYPED))
        return const_node(n, to, wrap_to(n->cval, to));
    Node *c = xalloc(sizeof(Node));
    c->kind = N_CAST;
    c->pos = n->pos;
    c->lhs = n;
    c->ty = to;
    c->implicit = true;
    if (n->is_const_val && to->kind == TY_BOOL) {
        c->is_const_val = true;
        c->cval = n->cval != 0;
    }
    return c;
}

static void report_nofit(Node *n, Type *to)
{
    error_at(n->pos, "constant %s does not fit in %s", i128_str(n->cval), type_name(to));
    if (arith_type(to))
        help("write '%s as %s' to keep only the low bits", i128_str(n->cval), type_name(to));
}

/* Gives an untyped constant its type: `want` if that is an integer type,
 * otherwise u32, u64 or i32 by value. */
static void concretize(Node **np, Type *want)
{
    Node *n = *np;
    if (n->ty != ty_untyped)
        return;
    Type *t = want && arith_type(want) ? want : default_int_type(n->cval);
    if (!fits(n->cval, t)) {
        report_nofit(n, t);
        t = ty_error;
    }
    *np = const_node(n, t, n->cval);
}

void check_value(Node **np, Type *want)
{
    check_expr(*np, want);
    if (want && want->kind != TY_ERROR)
        coerce(np, want, "this value");
    else
        concretize(np, NULL);
}

/* Every value of `from` is a value of `to`. */
static bool type_within(Type *from, Type *to)
{
    if (from->is_signed && !to->is_signed)
        return false;
    if (!from->is_signed && to->is_signed)
        return from->size < to->size;
    return from->size <= to->size;
}

/* Is the value's range known to fit t? (narrowing without a warning) */
static bool range_fits(Node *n, Type *t)
{
    if (n->is_const_val)
        return fits(n->cval, t);
    Type *a = arith_type(t);
    Type *nt = n->ty ? arith_type(n->ty) : NULL;
    if (!a)
        return false;
    if (nt && type_within(nt, a))
        return true;
    int bits = a->is_signed ? a->size * 8 - 1 : a->size * 8;
    bool lhs_unsigned = n->lhs && n->lhs->ty && arith_type(n->lhs->ty) && !arith_type(n->lhs->ty)->is_signed;
    switch (n->kind) {
    case N_CAST:
        return range_fits(n->lhs, t);
    case N_BINARY:
        if (n->op == OP_AND)
            return (lhs_unsigned && range_fits(n->rhs, t)) || range_fits(n->lhs, t);
        if (n->op == OP_MOD && n->rhs->is_const_val && lhs_unsigned)
            return n->rhs->cval > 0 && n->rhs->cval - 1 < ((i128)1 << bits);
        if (n->op == OP_SHR && n->rhs->is_const_val && lhs_unsigned)
            return n->lhs->ty->size * 8 - n->rhs->cval <= bits;
        if (n->op == OP_DIV && n->rhs->is_const_val && lhs_unsigned && n->rhs->cval > 0)
            return range_fits(n->lhs, t);
        return false;
    case N_TERNARY:
        return range_fits(n->then, t) && range_fits(n->els, t);
    default:
        return false;
    }
}

static bool is_void_ptr(Type *t) { return t->kind == TY_PTR && t->base->kind == TY_VOID; }

static bool ptr_compatible(Type *from, Type *to)
{
    if (same_type(from, to) || is_void_ptr(from) || is_void_ptr(to))
        return true;
    /* a pointer to an array converts to a pointer to its element */
    return from->base->kind == TY_ARRAY && same_type(from->base->base, to->base);
}

static bool str_like(Type *t)
{
    return t->kind == TY_STR || (t->kind == TY_ARRAY && (t->base->kind == TY_CHAR || t->base == ty_u8 || t->base == ty_i8));
}

/* Implicit conversion for assignments, initialisers, returns, arguments
 * and struct-literal fields. */
void coerce(Node **np, Type *to, const char *what)
{
    Node *n = *np;
    Type *from = n->ty;
    if (!from || from->kind == TY_ERROR || to->kind == TY_ERROR)
        return;
    if (from == ty_untyped) {
        if (arith_type(to)) {
            concretize(np, to);
            return;
        }
        if (to->kind == TY_BOOL) {
            error_at(n->pos, "an integer is not a bool");
            help("write a comparison such as 'x != 0', or 'x as bool'");
            return;
        }
        goto mismatch;
    }
    if (arith_type(from) && arith_type(to)) {
        Type *fa = arith_type(from), *ta = arith_type(to);
        bool narrowing = fa->size > ta->size;
        if (narrowing && !range_fits(n, to)) {
            warn_class_at(n->pos, "narrowing", "implicit conversion from %s to %s may change the value",
                          type_name(from), type_name(to));
            help("write 'as %s' to convert explicitly", type_name(to));
        }
        *np = cast_to(n, to);
        return;
    }
    if (from->kind == TY_BOOL && to->kind == TY_BOOL)
        return;
    if (from->kind == TY_NULL && to->kind == TY_PTR) {
        n->ty = to;
        return;
    }
    if (from->kind == TY_PTR && to->kind == TY_PTR && ptr_compatible(from, to)) {
        *np = cast_to(n, to);
        return;
    }
    if (from->kind == TY_STR && str_like(to)) {
        long cap = to->kind == TY_STR ? to->len : to->len;
        if (n->kind == N_STR && n->slen + 1 > cap && to->kind == TY_STR) {
            warn_class_at(n->pos, "truncation", "string literal of %d bytes is cut to fit %s", n->slen,
                          type_name(to));
        } else if (n->kind == N_STR && n->slen > cap) {
            warn_class_at(n->pos, "truncation", "string literal of %d bytes is cut to fit %s", n->slen,
                          type_name(to));
        } else if (n->kind != N_STR && from->len > cap && !(n->kind == N_BINARY && n->op == OP_ADD)) {
            /* (a concatenation is cut to the capacity it is stored into) */
            error_at(n->pos, "%s does not fit in %s", type_name(from), type_name(to));
            help("a str(M) fits into a str(N) when N >= M");
            return;
        }
        *np = cast_to(n, to);
        return;
    }
    if (same_type(from, to))
        return;
    if ((from->kind == TY_STRUCT || from->kind == TY_UNION) && from == to)
        return;
    if (from->kind == TY_FUNC && to->kind == TY_FUNC && same_type(from, to))
        return;
    if (from->kind == TY_FUNC && to->kind == TY_PTR && to->base->kind == TY_FUNC && same_type(from, to->base))
        return;
mismatch:
    error_at(n->pos, "%s has type %s, but %s is expected", what, type_name(from), type_name(to));
    if (from->kind == TY_BOOL && arith_type(to))
        help("convert it explicitly: '... as %s'", type_name(to));
}

/* Conditions accept bool, integers and pointers (non-zero is true). */
void check_cond(Node **np)
{
    Type *t = check_expr(*np, NULL);
    concretize(np, NULL);
    t = (*np)->ty;
    if (t->kind == TY_ERROR || t->kind == TY_BOOL || arith_type(t) || t->kind == TY_PTR)
        return;
    if (t->kind == TY_HANDLE || t->kind == TY_PERFATT)
        return;
    error_at((*np)->pos, "a condition must be a bool, an integer or a pointer, not %s", type_name(t));
}

/* ---- constant folding -------------------------------------------------- */

static bool fold_untyped(Op op, i128 a, i128 b, i128 *out, Pos pos)
{
    i128 r = 0;
    switch (op) {
    case OP_ADD: r = a + b; break;
    case OP_SUB: r = a - b; break;
    case OP_MUL:
        if (__builtin_mul_overflow(a, b, &r)) {
            error_at(pos, "constant expression overflows 64 bits");
            return false;
        }
        break;
    case OP_DIV: case OP_MOD:
        if (b == 0) {
            error_at(pos, "%s by the constant zero", op == OP_DIV ? "division" : "modulo");
            return false;
        }
        r = op == OP_DIV ? a / b : a % b;
        break;
    case OP_AND: r = a & b; break;
    case OP_OR: r = a | b; break;
    case OP_XOR: r = a ^ b; break;
    case OP_SHL:
        /* A multiplication, not `a << b`: shifting a negative value, or
         * past the top of an i128, is undefined in C. */
        if (b < 0 || b > 64) {
            error_at(pos, "shift count %s is out of range for a constant", i128_str(b));
            return false;
        }
        if (__builtin_mul_overflow(a, (i128)1 << b, &r)) {
            error_at(pos, "constant expression overflows 64 bits");
            return false;
        }
        break;
    case OP_SHR:
        if (b < 0) {
            error_at(pos, "shift count %s is out of range for a constant", i128_str(b));
            return false;
        }
        r = b >= 127 ? (a < 0 ? -1 : 0) : a >> b;
        break;
    case OP_EQ: r = a == b; break;
    case OP_NE: r = a != b; break;
    case OP_LT: r = a < b; break;
    case OP_LE: r = a <= b; break;
    case OP_GT: r = a > b; break;
    case OP_GE: r = a >= b; break;
    case OP_LAND: r = a && b; break;
    case OP_LOR: r = a || b; break;
    default: return false;
    }
    if (r >= LIMIT || r <= -LIMIT) {
        error_at(pos, "constant expression overflows 64 bits");
        return false;
    }
    *out = r;
    return true;
}

/* Typed folding: the operation at the operands' width, with BPF's rules
 * for division by zero and shift counts. */
static i128 fold_typed(Op op, i128 a, i128 b, Type *t)
{
    Type *ar = arith_type(t);
    bool sign = ar && ar->is_signed;
    int bits = ar ? ar->size * 8 : 64;
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    int64_t sa = (int64_t)a, sb = (int64_t)b;
    switch (op) {
    case OP_ADD: return wrap_to((i128)(ua + ub), t);
    case OP_SUB: return wrap_to((i128)(ua - ub), t);
    case OP_MUL: return wrap_to((i128)(ua * ub), t);
    case OP_DIV:
        if (!b)
            return 0;
        if (sign)
            return wrap_to(sa == INT64_MIN && sb == -1 ? sa : sa / sb, t);   /* no trap */
        return wrap_to((i128)(ua / ub), t);
    case OP_MOD:
        if (!b)
            return a;
        if (sign)
            return wrap_to(sb == -1 ? 0 : sa % sb, t);
        return wrap_to((i128)(ua % ub), t);
    case OP_AND: return wrap_to((i128)(ua & ub), t);
    case OP_OR: return wrap_to((i128)(ua | ub), t);
    case OP_XOR: return wrap_to((i128)(ua ^ ub), t);
    case OP_SHL: return wrap_to((i128)(ua << (ub % (unsigned)bits)), t);
    case OP_SHR:
        if (sign)
            return wrap_to(sa >> (ub % (unsigned)bits), t);
        return wrap_to((i128)(((uint64_t)wrap_to(a, t) & (bits == 64 ? UINT64_MAX : ((1ull << bits) - 1))) >> (ub % (unsigned)bits)), t);
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    case OP_LT: return sign ? sa < sb : ua < ub;
    case OP_LE: return sign ? sa <= sb : ua <= ub;
    case OP_GT: return sign ? sa > sb : ua > ub;
    case OP_GE: return sign ? sa >= sb : ua >= ub;
    default: return 0;
    }
}

/* ---- lvalues ----------------------------------------------------------- */

bool is_map_read(Node *n)
{
    return n->kind == N_INDEX && n->lhs->ty && n->lhs->ty->kind == TY_MAP;
}

bool is_lvalue(Node *n)
{
    switch (n->kind) {
    case N_IDENT:
        return n->sym && (n->sym->kind == SYM_LOCAL || (n->sym->kind == SYM_GLOBAL && n->sym->global->kind != GV_MAP));
    case N_FIELD:
        if (n->sym)
            return n->sym->kind == SYM_GLOBAL && n->sym->global->kind != GV_MAP;
        return n->lhs->ty->kind == TY_PTR || is_lvalue(n->lhs) || is_map_read(n->lhs) || n->lhs->kind == N_CALL;
    case N_INDEX:
        return is_map_read(n) || n->lhs->ty->kind == TY_PTR || is_lvalue(n->lhs);
    case N_DEREF:
        return true;
    case N_CAST:
        return false;
    default:
        return false;
    }
}

/* Records that a variable, global or config changes (const rules, and
 * which side writes which global). */
void mark_assigned(Node *n)
{
    while (n->kind == N_FIELD || n->kind == N_INDEX) {
        if (n->kind == N_FIELD && n->sym)
            break;
        n = n->lhs;
    }
    Sym *s = n->sym;
    if (!s)
        return;
    if (s->kind == SYM_LOCAL)
        s->var->assigned = true;
    if (s->kind == SYM_GLOBAL) {
        if (in_ebpf())
            s->global->written_by_ebpf = true;
        else
            s->global->written_by_user = true;
    }
}

/* ---- identifiers ------------------------------------------------------- */

static Type *use_sym(Node *n, Sym *s)
{
    n->sym = s;
    switch (s->kind) {
    case SYM_LOCAL:
        n->var = s->var;
        if (s->var->is_const && s->var->ty && arith_type(s->var->ty)) {
            n->is_const_val = true;
            n->cval = s->var->cval;
            n->from_var = !s->var->decl || !s->var->decl->is_const;
        }
        return s->var->ty ? s->var->ty : ty_error;
    case SYM_GLOBAL:
        if (in_ebpf())
            s->global->ebpf_used = true;
        else
            s->global->user_used = true;
        if (s->global->kind == GV_LOCAL && C.fn && (C.fn->target == TGT_USER || C.fn->target == TGT_TEST)) {
            error_at(n->pos, "'%s' is a local var: only eBPF code can use it", s->name);
            help("declare it with 'var' to share it with userspace");
        }
        if (s->global->checking) {
            error_at(n->pos, "global '%s' is used in its own initial value", s->name);
            return ty_error;
        }
        if (!s->global->ty && !s->global->checked) {
            error_at(n->pos, "global '%s' is used before its type is known", s->name);
            help("declare '%s' first, or with its type: var %s: u32 = ...", s->name, s->name);
            return ty_error;
        }
        return s->global->ty ? s->global->ty : ty_error;
    case SYM_CONST:
        if (!eval_const(s))
            return ty_error;
        if (s->init->kind == N_STR) {
            n->kind = N_STR;
            n->sval = s->init->sval;
            n->slen = s->init->slen;
            return s->init->ty;
        }
        n->is_const_val = true;
        n->cval = s->val;
        return s->type;
    case SYM_ENUMVAL: {
        int i = 0;
        while (i < s->type->nvals && strcmp(s->type->vals[i].name, s->name))
            i++;
        if (i == s->type->nvals || !enum_variant_ready(s->type, i, s->module, n->pos))
            return ty_error;
        n->is_const_val = true;
        n->cval = s->type->vals[i].val;
        return s->type;
    }
    case SYM_FUNC: {
        Func *f = s->func;
        n->func = f;
        if (f->target == TGT_EBPF && is_program(f) && !f->impl) {
            Type *t = new_type(TY_PROGRAM, 8, 8);
            t->prog = f;
            return t;
        }
        return f->fty ? f->fty : ty_error;
    }
    case SYM_IMPL:
        return s->type;
    case SYM_MODULE: {
        Type *t = new_type(TY_MODULE, 0, 1);
        return t;
    }
    case SYM_TYPE:
        error_at(n->pos, "'%s' is a type, not a value", s->name);
        return ty_error;
    default:
        return ty_error;
    }
}

static Type *check_ident(Node *n)
{
    Sym *s = lookup(n->name);
    if (s)
        return use_sym(n, s);
    i128 v;
    if (builtin_const(n->name, &v)) {
        n->is_const_val = true;
        n->cval = v;
        return ty_untyped;
    }
    Type *et;
    if (kernel_enum_value(n->name, &v, &et)) {
        n->is_const_val = true;
        n->cval = v;
        return ty_untyped;
    }
    error_at(n->pos, "undefined name '%s'", n->name);
    return ty_error;
}

/* E::V, for user and kernel enums. */
static Type *check_scoped(Node *n)
{
    Sym *s = lookup(n->lhs->name);
    Type *t = s && s->kind == SYM_TYPE ? s->type : !s ? kernel_type(n->lhs->name) : NULL;
    if (!t || t->kind != TY_ENUM) {
        error_at(n->lhs->pos, "'%s' is not an enum", n->lhs->name);
        return ty_error;
    }
    for (int i = 0; i < t->nvals; i++)
        if (!strcmp(t->vals[i].name, n->name)) {
            if (!enum_variant_ready(t, i, s ? s->module : C.mod, n->pos))
                return ty_error;
            n->is_const_val = true;
            n->cval = t->vals[i].val;
            return t;
        }
    error_at(n->pos, "enum %s has no variant '%s'", type_name(t), n->name);
    return ty_error;
}

/* ---- operators --------------------------------------------------------- */

static bool is_null_test(Node *n)
{
    return n->kind == N_NULL;
}

static bool is_mapref_expr(Node *n)
{
    return (n->kind == N_IDENT && n->var && n->var->is_mapref) || is_map_read(n);
}

static Type *check_ptr_arith(Node *n, Type *lt, Type *rt)
{
    if (n->op == OP_SUB && lt->kind == TY_PTR && rt->kind == TY_PTR) {
        if (!same_type(lt->base, rt->base) && !is_void_ptr(lt) && !is_void_ptr(rt))
            error_at(n->pos, "subtracting pointers to different types (%s and %s)", type_name(lt), type_name(rt));
        return ty_i64;
    }
    if (rt->kind == TY_PTR) {   /* n + p */
        Node *t = n->lhs;
        n->lhs = n->rhs;
        n->rhs = t;
        Type *tt = lt;
        lt = rt;
        rt = tt;
    }
    if (!arith_type(rt) && rt != ty_untyped) {
        error_at(n->pos, "cannot apply '%s' to %s and %s", op_spelling(n->op), type_name(lt), type_name(rt));
        return ty_error;
    }
    if (lt->base->kind == TY_VOID)
        error_at(n->pos, "arithmetic on a *void pointer; convert it with 'as *u8' first");
    concretize(&n->rhs, ty_i64);
    n->rhs = cast_to(n->rhs, n->rhs->ty->is_signed ? ty_i64 : ty_u64);
    return lt;
}

static Type *check_string_op(Node *n, Type *lt, Type *rt)
{
    if (n->op == OP_EQ || n->op == OP_NE)
        return ty_bool;
    if (n->op == OP_ADD)
        return str_type(lt->len + rt->len - 1);
    error_at(n->pos, "cannot apply '%s' to strings", op_spelling(n->op));
    return ty_error;
}

static Type *check_shift(Node *n, Type *want)
{
    Node *l = n->lhs, *r = n->rhs;
    if (l->ty == ty_untyped && r->ty == ty_untyped) {
        i128 v;
        if (!fold_untyped(n->op, l->cval, r->cval, &v, n->pos))
            return ty_error;
        n->is_const_val = true;
        n->cval = v;
        return ty_untyped;
    }
    concretize(&n->lhs, want);
    concretize(&n->rhs, ty_u32);
    Type *lt = arith_type(n->lhs->ty);
    if (!lt || !arith_type(n->rhs->ty)) {
        error_at(n->pos, "'%s' needs integer operands, not %s and %s", op_spelling(n->op),
                 type_name(n->lhs->ty), type_name(n->rhs->ty));
        return ty_error;
    }
    n->lhs = cast_to(n->lhs, lt);
    if (n->rhs->is_const_val && (n->rhs->cval >= lt->size * 8 || n->rhs->cval < 0))
        warn_class_at(n->rhs->pos, "shift", "shift by %s is at or above the width of %s", i128_str(n->rhs->cval),
                      type_name(lt));
    if (n->lhs->is_const_val && n->rhs->is_const_val) {
        n->is_const_val = true;
        n->cval = fold_typed(n->op, n->lhs->cval, n->rhs->cval, lt);
    }
    return lt;
}

static bool is_compare(Op op) { return op >= OP_EQ && op <= OP_GE; }

static Type *check_int_binary(Node *n, Type *want)
{
    Node *l = n->lhs, *r = n->rhs;
    if (l->ty == ty_untyped && r->ty == ty_untyped) {
        i128 v;
        if (!fold_untyped(n->op, l->cval, r->cval, &v, n->pos))
            return ty_error;
        n->is_const_val = true;
        n->cval = v;
        return is_compare(n->op) ? ty_bool : ty_untyped;
    }
    if (l->ty == ty_untyped)
        concretize(&n->lhs, arith_type(r->ty));
    else if (r->ty == ty_untyped)
        concretize(&n->rhs, arith_type(l->ty));
    (void)want;
    if (n->lhs->ty->kind == TY_ERROR || n->rhs->ty->kind == TY_ERROR)
        return ty_error;
    Type *lt = n->lhs->ty, *rt = n->rhs->ty;
    Type *ct = common_type(lt, rt);
    if (is_compare(n->op) && !(arith_type(lt)->is_signed && arith_type(rt)->is_signed))
        ct = int_type(ct->size, false);
    n->lhs = cast_to(n->lhs, ct);
    n->rhs = cast_to(n->rhs, ct);
    if ((n->op == OP_DIV || n->op == OP_MOD) && const_zero_divisor(n->rhs)) {
        error_at(n->rhs->pos, "%s by the constant zero", n->op == OP_DIV ? "division" : "modulo");
        return ty_error;
    }
    if (n->lhs->is_const_val && n->rhs->is_const_val) {
        n->is_const_val = true;
        n->cval = fold_typed(n->op, n->lhs->cval, n->rhs->cval, ct);
    }
    return is_compare(n->op) ? ty_bool : ct;
}

static Type *check_logical(Node *n)
{
    check_cond(&n->lhs);
    check_cond(&n->rhs);
    if (n->lhs->is_const_val && n->rhs->is_const_val) {
        n->is_const_val = true;
        n->cval = n->op == OP_LAND ? (n->lhs->cval && n->rhs->cval) : (n->lhs->cval || n->rhs->cval);
    }
    return ty_bool;
}

static Type *check_binary(Node *n, Type *want)
{
    if (n->op == OP_LAND || n->op == OP_LOR)
        return check_logical(n);
    bool arith_ctx = !is_compare(n->op);
    Type *lt = check_expr(n->lhs, arith_ctx ? want : NULL);
    Type *rt = check_expr(n->rhs, arith_ctx ? want : NULL);
    if (lt->kind == TY_ERROR || rt->kind == TY_ERROR)
        return ty_error;
    if ((n->op == OP_EQ || n->op == OP_NE) && (is_null_test(n->lhs) || is_null_test(n->rhs))) {
        Node *other = is_null_test(n->lhs) ? n->rhs : n->lhs;
        if (is_mapref_expr(other))
            n->is_presence = true;
        else if (other->ty->kind != TY_PTR && other->ty->kind != TY_NULL && other->ty->kind != TY_HANDLE
                 && other->ty->kind != TY_PERFATT) {
            error_at(n->pos, "only pointers, handles and map entries compare with null, not %s", type_name(other->ty));
            return ty_error;
        }
        if (other->ty->kind == TY_PTR)
            (is_null_test(n->lhs) ? n->lhs : n->rhs)->ty = other->ty;
        return ty_bool;
    }
    if (n->op == OP_SHL || n->op == OP_SHR)
        return check_shift(n, want);
    if ((n->op == OP_ADD || n->op == OP_SUB) && (lt->kind == TY_PTR || (rt->kind == TY_PTR && n->op == OP_ADD)))
        return check_ptr_arith(n, lt, rt);
    if (lt->kind == TY_PTR && rt->kind == TY_PTR && is_compare(n->op))
        return ty_bool;
    if (str_like(lt) && str_like(rt) && (lt->kind == TY_STR || rt->kind == TY_STR))
        return check_string_op(n, lt, rt);
    if (lt->kind == TY_BOOL && rt->kind == TY_BOOL && (n->op == OP_EQ || n->op == OP_NE || n->op == OP_AND
                                                      || n->op == OP_OR || n->op == OP_XOR))
        return ty_bool;
    if ((arith_type(lt) || lt == ty_untyped) && (arith_type(rt) || rt == ty_untyped))
        return check_int_binary(n, want);
    error_at(n->pos, "cannot apply '%s' to %s and %s", op_spelling(n->op), type_name(lt), type_name(rt));
    return ty_error;
}

static Type *check_unary(Node *n, Type *want)
{
    if (n->op == OP_NOT) {
        check_cond(&n->lhs);
        if (n->lhs->is_const_val) {
            n->is_const_val = true;
            n->cval = !n->lhs->cval;
        }
        return ty_bool;
    }
    Type *t = check_expr(n->lhs, want);
    if (t->kind == TY_ERROR)
        return t;
    if (t == ty_untyped && n->op == OP_NEG) {
        n->is_const_val = true;
        n->cval = -n->lhs->cval;
        return ty_untyped;
    }
    concretize(&n->lhs, want);
    t = arith_type(n->lhs->ty);
    if (!t) {
        error_at(n->pos, "'%s' needs an integer, not %s", op_spelling(n->op), type_name(n->lhs->ty));
        return ty_error;
    }
    n->lhs = cast_to(n->lhs, t);
    if (n->lhs->is_const_val) {
        n->is_const_val = true;
        n->cval = wrap_to(n->op == OP_NEG ? -n->lhs->cval : ~n->lhs->cval, t);
    }
    return t;
}

static Type *check_cast(Node *n)
{
    Type *to = resolve_type(n->decl_ty);
    Type *from = check_expr(n->lhs, arith_type(to) ? to : NULL);
    if (from->kind == TY_ERROR || to->kind == TY_ERROR)
        return ty_error;
    if (from == ty_untyped) {
        if (to->kind == TY_BOOL) {
            n->is_const_val = true;
            n->cval = n->lhs->cval != 0;
            return to;
        }
        if (arith_type(to)) {
            n->is_const_val = true;
            n->cval = wrap_to(n->lhs->cval, to);
            return to;
        }
        if (to->kind == TY_PTR && !in_ebpf())
            return to;
    }
    bool ok = false;
    if ((arith_type(from) || from->kind == TY_BOOL) && (arith_type(to) || to->kind == TY_BOOL))
        ok = true;
    else if (from->kind == TY_PTR && to->kind == TY_PTR)
        ok = true;
    else if ((from->kind == TY_PTR && arith_type(to) && to->size == 8) || (arith_type(from) && to->kind == TY_PTR)) {
        ok = !in_ebpf() || (from->kind == TY_PTR && to->size == 8);
        if (!ok)
            error_at(n->pos, "an integer cannot become a pointer in eBPF code");
        if (!ok)
            return ty_error;
    } else if (from->kind == TY_STR && to->kind == TY_STR)
        ok = true;
    else if (same_type(from, to))
        ok = true;
    if (!ok) {
        error_at(n->pos, "cannot convert %s to %s", type_name(from), type_name(to));
        return ty_error;
    }
    if (n->lhs->is_const_val && (arith_type(to) || to->kind == TY_BOOL)) {
        n->is_const_val = true;
        n->cval = to->kind == TY_BOOL ? n->lhs->cval != 0 : wrap_to(n->lhs->cval, to);
    }
    return to;
}

static Type *check_addr(Node *n)
{
    Type *t = check_expr(n->lhs, NULL);
    if (t->kind == TY_ERROR)
        return t;
    Node *l = n->lhs;
    if (t->kind == TY_MAP)
        return pointer_to(t);
    if (l->kind == N_IDENT && l->sym && l->sym->kind == SYM_FUNC)
        return pointer_to(t);
    if (!is_lvalue(l) && !is_mapref_expr(l)) {
        error_at(n->pos, "'&' needs a variable, a field, an element or a map entry");
        return ty_error;
    }
    if (l->kind == N_IDENT && l->var)
        l->var->addr_taken = true;
    if (l->kind == N_IDENT && l->sym && l->sym->kind == SYM_GLOBAL && l->sym->global->kind == GV_PIN)
        error_at(n->pos, "a pinned global lives in a map entry; its address cannot be taken");
    return pointer_to(t);
}

static Type *check_deref(Node *n)
{
    Type *t = check_expr(n->lhs, NULL);
    if (t->kind == TY_ERROR)
        return t;
    if (t->kind != TY_PTR) {
        error_at(n->pos, "'*' needs a pointer, not %s", type_name(t));
        return ty_error;
    }
    if (t->base->kind == TY_VOID || t->base->kind == TY_FUNC) {
        error_at(n->pos, "cannot read through %s; convert it to a typed pointer with 'as'", type_name(t));
        return ty_error;
    }
    return t->base;
}

/* ---- fields, indexes, literals ----------------------------------------- */

/* ctx->data, ctx->data_end and ctx->data_meta are packet pointers. */
static bool is_packet_field(Type *st, const char *name)
{
    if (!st->name || (strcmp(st->name, "xdp_md") && strcmp(st->name, "__sk_buff")))
        return false;
    return !strcmp(name, "data") || !strcmp(name, "data_end") || !strcmp(name, "data_meta");
}

static Type *check_module_member(Node *n, Module *m)
{
    Sym *s = lookup_in(m, n->name);
    if (!s) {
        error_at(n->pos, "namespace '%s' has no member '%s'", m->ns, n->name);
        return ty_error;
    }
    if ((s->kind == SYM_FUNC && s->func->is_priv)) {
        error_at(n->pos, "'%s' is private to '%s'", n->name, m->ns);
        return ty_error;
    }
    Module *saved = C.mod;
    C.mod = m;
    Type *t = use_sym(n, s);
    C.mod = saved;
    return t;
}

static Type *check_field(Node *n)
{
    Type *t = check_expr(n->lhs, NULL);
    if (t->kind == TY_ERROR)
        return t;
    if (t->kind == TY_MODULE)
        return check_module_member(n, n->lhs->sym->module);
    Type *st = t->kind == TY_PTR ? t->base : t;
    if (st->kind != TY_STRUCT && st->kind != TY_UNION) {
        error_at(n->pos, "%s has no fields", type_name(t));
        return ty_error;
    }
    int off = 0;
    Member *m = find_member(st, n->name, &off);
    if (!m) {
        error_at(n->pos, "%s has no field '%s'", type_name(st), n->name);
        return ty_error;
    }
    n->member = m;
    n->member_off = off;
    if (t->kind == TY_PTR)
        n->arrow = true;
    if (is_packet_field(st, n->name))
        return pointer_to(ty_u8);
    if (m->ty->kind == TY_ARRAY && m->ty->len == 0 && st->kernel)
        return m->ty;   /* flexible array member: indexable */
    return m->ty;
}

static Type *check_index(Node *n)
{
    Type *t = check_expr(n->lhs, NULL);
    if (t->kind == TY_ERROR) {
        check_expr(n->rhs, NULL);
        return t;
    }
    if (t->kind == TY_MAP) {
        if (t->map == MAP_RINGBUF || t->map == MAP_PROG_ARRAY || t->map == MAP_PERF_EVENT_ARRAY) {
            error_at(n->pos, "a %s map cannot be indexed", map_kind_name(t->map));
            return ty_error;
        }
        check_value(&n->rhs, t->key);
        return t->base;
    }
    check_expr(n->rhs, ty_u32);
    concretize(&n->rhs, ty_u32);
    if (n->rhs->ty->kind != TY_ERROR && !arith_type(n->rhs->ty)) {
        error_at(n->rhs->pos, "an index must be an integer, not %s", type_name(n->rhs->ty));
        return ty_error;
    }
    if (t->kind == TY_ARRAY || t->kind == TY_STR) {
        long len = t->len;
        if (n->rhs->is_const_val && (n->rhs->cval < 0 || (len > 0 && n->rhs->cval >= len))) {
            error_at(n->rhs->pos, "index %s is out of range for %s", i128_str(n->rhs->cval), type_name(t));
            return ty_error;
        }
        return t->kind == TY_STR ? ty_char : t->base;
    }
    if (t->kind == TY_PTR) {
        if (t->base->kind == TY_VOID) {
            error_at(n->pos, "cannot index a *void pointer");
            return ty_error;
        }
        return t->base->kind == TY_ARRAY ? t->base->base : t->base;
    }
    error_at(n->pos, "%s cannot be indexed", type_name(t));
    return ty_error;
}

static Type *struct_lit_type(Node *n)
{
    Module *m = C.mod;
    if (n->lhs) {
        Sym *ms = lookup(n->lhs->name);
        if (!ms || ms->kind != SYM_MODULE) {
            error_at(n->lhs->pos, "unknown namespace '%s'", n->lhs->name);
            return ty_error;
        }
        m = ms->module;
    }
    Sym *s = n->lhs ? lookup_in(m, n->name) : lookup(n->name);
    Type *t = s && s->kind == SYM_TYPE ? s->type : NULL;
    if (!s && !n->lhs)
        t = builtin_type(n->name);
    if (!s && !t && !n->lhs)
        t = kernel_type(n->name);
    if (!t) {
        error_at(n->pos, "unknown struct '%s'", n->name);
        return ty_error;
    }
    if (t->kind != TY_STRUCT) {
        error_at(n->pos, "'%s' is not a struct", n->name);
        return ty_error;
    }
    return t;
}

static Type *check_struct_lit(Node *n)
{
    Type *t = struct_lit_type(n);
    for (int i = 0; i < n->args.n; i++) {
        Node *f = n->args.v[i];
        if (t->kind == TY_ERROR) {
            check_expr(f->lhs, NULL);
            continue;
        }
        int off;
        Member *m = find_member(t, f->name, &off);
        if (!m) {
            error_at(f->pos, "struct %s has no field '%s'", type_name(t), f->name);
            check_expr(f->lhs, NULL);
            continue;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(n->args.v[j]->name, f->name))
                error_at(f->pos, "field '%s' is set twice", f->name);
        f->member = m;
        f->member_off = off;
        check_value(&f->lhs, m->ty);
        f->ty = m->ty;
    }
    return t;
}

static Type *check_array_lit(Node *n, Type *want)
{
    Type *elem = want && want->kind == TY_ARRAY ? want->base : NULL;
    long len = want && want->kind == TY_ARRAY ? want->len : n->args.n;
    if (n->kind == N_ARRAY_REPEAT) {
        check_value(&n->rhs, ty_u32);
        if (!n->rhs->is_const_val) {
            error_at(n->rhs->pos, "the repeat count of [value; N] must be a constant");
            return ty_error;
        }
        check_value(&n->lhs, elem);
        if (!elem)
            elem = n->lhs->ty;
        if (!want || want->kind != TY_ARRAY)
            len = (long)n->rhs->cval;
        else if (n->rhs->cval > len)
            error_at(n->pos, "[value; %s] has more elements than %s", i128_str(n->rhs->cval), type_name(want));
        return array_of(elem, len);
    }
    if (!n->args.n && !elem) {
        error_at(n->pos, "the element type of an empty array literal is unknown");
        return ty_error;
    }
    for (int i = 0; i < n->args.n; i++) {
        check_value(&n->args.v[i], elem);
        if (!elem)
            elem = n->args.v[i]->ty;
    }
    if (n->args.n > len) {
        error_at(n->pos, "the array literal has %d elements, more than %s holds", n->args.n, type_name(want));
        return ty_error;
    }
    return array_of(elem, len);
}

/* One type for several values (ternary branches, match arms). */
Type *unify_types(Node **a, Node **b, Type *want, Pos pos)
{
    Type *ta = (*a)->ty, *tb = b ? (*b)->ty : (*a)->ty;
    if (ta->kind == TY_ERROR || tb->kind == TY_ERROR)
        return ty_error;
    Type *t = want;
    if (!t) {
        if (ta == ty_untyped && tb == ty_untyped) {
            i128 lo = (*a)->cval < (*b)->cval ? (*a)->cval : (*b)->cval;
            i128 hi = (*a)->cval < (*b)->cval ? (*b)->cval : (*a)->cval;
            t = lo < 0 ? default_int_type(lo < -hi ? lo : -hi - 1) : default_int_type(hi);
        } else if (ta == ty_untyped) {
            t = arith_type(tb) ? tb : tb;
        } else if (tb == ty_untyped) {
            t = ta;
        } else if (arith_type(ta) && arith_type(tb)) {
            t = common_type(ta, tb);
        } else if (ta->kind == TY_NULL) {
            t = tb;
        } else if (ta->kind == TY_STR && tb->kind == TY_STR) {
            t = ta->len >= tb->len ? ta : tb;
        } else {
            t = ta;
        }
    }
    (void)pos;
    coerce(a, t, "this branch");
    if (b)
        coerce(b, t, "this branch");
    return t;
}

static Type *check_ternary(Node *n, Type *want)
{
    bool tail = C.tail_ok;
    C.tail_ok = false;
    check_cond(&n->cond);
    C.tail_ok = tail;
    check_expr(n->then, want);
    C.tail_ok = tail;
    check_expr(n->els, want);
    C.tail_ok = false;
    /* typed branches decide the type; the context only types constants */
    bool untyped = n->then->ty == ty_untyped && n->els->ty == ty_untyped;
    Type *t = unify_types(&n->then, &n->els, untyped ? want : NULL, n->pos);
    if (n->cond->is_const_val && n->then->is_const_val && n->els->is_const_val) {
        n->is_const_val = true;
        n->cval = n->cond->cval ? n->then->cval : n->els->cval;
    }
    return t;
}

/* ---- the dispatcher ---------------------------------------------------- */

Type *check_expr(Node *n, Type *want)
{
    if (n->ty)                  /* checked already (shared constant nodes) */
        return n->ty;
    bool tail = C.tail_ok;
    if (n->kind != N_CALL && n->kind != N_MATCH && n->kind != N_TERNARY && n->kind != N_BLOCK && n->kind != N_IF)
        C.tail_ok = false;
    Type *t;
    switch (n->kind) {
    case N_INT:
        n->is_const_val = true;
        n->cval = (i128)n->ival;
        t = ty_untyped;
        break;
    case N_CHAR:
        n->is_const_val = true;
        n->cval = (i128)n->ival;
        t = ty_char;
        break;
    case N_BOOL:
        n->is_const_val = true;
        n->cval = n->ival != 0;
        t = ty_bool;
        break;
    case N_STR: t = str_type(n->slen + 1); break;
    case N_NULL: t = ty_null; break;
    case N_IDENT: t = check_ident(n); break;
    case N_SCOPED: t = check_scoped(n); break;
    case N_BINARY: t = check_binary(n, want); break;
    case N_UNARY: t = check_unary(n, want); break;
    case N_ADDR: t = check_addr(n); break;
    case N_DEREF: t = check_deref(n); break;
    case N_CAST: t = check_cast(n); break;
    case N_FIELD: t = check_field(n); break;
    case N_INDEX: t = check_index(n); break;
    case N_STRUCT_LIT: t = check_struct_lit(n); break;
    case N_ARRAY_LIT: case N_ARRAY_REPEAT: t = check_array_lit(n, want); break;
    case N_TERNARY: t = check_ternary(n, want); break;
    case N_CALL: t = check_call(n, want); break;
    case N_SIZEOF: {
        Type *st = NULL;
        if (n->decl_ty)
            st = resolve_type(n->decl_ty);
        else if (n->lhs->kind == N_IDENT) {
            Sym *s = lookup(n->lhs->name);
            if ((s && s->kind == SYM_TYPE) || (!s && (builtin_type(n->lhs->name) || kernel_type(n->lhs->name))))
                st = resolve_type(&(Type){ .kind = TY_NAMED, .name = n->lhs->name, .pos = n->lhs->pos });
        }
        if (!st)
            st = check_expr(n->lhs, NULL);
        if (st->incomplete)
            kernel_complete(st);
        n->is_const_val = true;
        n->cval = st->kind == TY_ERROR ? 0 : st->size;
        t = st->kind == TY_ERROR ? ty_error : ty_untyped;
        break;
    }
    case N_MATCH: case N_IF: case N_BLOCK:
        if (!C.fn) {    /* their statements (return, throw, var) need a function */
            error_at(n->pos, "%s is not a constant expression; it belongs inside a function",
                     n->kind == N_MATCH ? "a match" : n->kind == N_IF ? "an if" : "a block");
            t = ty_error;
            break;
        }
        C.tail_ok = tail;
        n->is_value = true;
        t = block_value_type(n, want);
        break;
    default:
        error_at(n->pos, "this is a statement, not an expression");
        t = ty_error;
        break;
    }
    /* A constant folded from a var-constant is one too; sizeof is not. */
    if (n->is_const_val && !n->from_var && n->kind != N_SIZEOF)
        n->from_var = var_const(n->lhs) || var_const(n->rhs) || var_const(n->cond) || var_const(n->then)
                      || var_const(n->els);
    C.tail_ok = false;
    /* no type: a part of it was wrong (a map type cut short has no value
     * type) and was reported; callers see the error type, never null */
    n->ty = t ? t : ty_error;
    return n->ty;
}
