/* The userspace back end, types: C names for ksc types and their
 * definitions in dependency order, mangled identifiers, and the per-CPU
 * summing functions.
 *
 * str(N) and T[N] become one-member structs (char s[N], T a[N]) so that
 * they have the value semantics of the language: they assign, pass and
 * return by value. Structs are written member by member at the offsets
 * the front end computed, with explicit padding, so the C layout is the
 * BPF object's layout byte for byte (static asserts check it), and a
 * value zeroed once keeps zero padding through every copy. */
#include "c_backend/cgen_int.h"

#include <stdarg.h>
#include <string.h>

#include "btf/ksbtf.h"

/* ---- text buffers (arena memory, freed with the program) ---------------- */

void cb_put(CBuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *ns = xalloc(cap);
        if (b->n)
            memcpy(ns, b->s, b->n);
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n + 1);
    b->n += n;
}

void cb_fmt(CBuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cb_put(b, s);
}

const char *cb_str(CBuf *b) { return b->s ? b->s : ""; }

/* ---- identifiers: every name from the .ks file gets a prefix ------------- */

const char *cmember(const char *name) { return xfmt("m_%s", name); }
const char *cfunc(Func *f) { return xfmt("f_%s", f->sym_name ? f->sym_name : f->name); }
const char *cvar(Var *v) { return xfmt("v%d_%s", v->id, v->name); }
const char *cglobal(Global *g) { return xfmt("g_%s", g->name); }
const char *cmap(Global *g) { return xfmt("m_%s", g->name); }

/* ---- type names ---------------------------------------------------------------- */

typedef struct TyInfo {
    const char *name;
    Type *t;
    int state;                  /* 1 named (forward declared), 2 being defined, 3 defined */
} TyInfo;

Type *int_of(Type *t)
{
    switch (t->kind) {
    case TY_INT: return t;
    case TY_CHAR: return ty_u8;
    case TY_BOOL: return ty_u8;
    case TY_ENUM: return int_type(t->size ? t->size : 4, t->is_signed);
    default: return ty_u64;
    }
}

bool is_intlike(Type *t) { return t->kind == TY_INT || t->kind == TY_CHAR || t->kind == TY_ENUM; }

bool str_like(Type *t)
{
    if (t->kind == TY_STR)
        return true;
    return t->kind == TY_ARRAY && (t->base->kind == TY_CHAR || (t->base->kind == TY_INT && t->base->size == 1));
}

static const char *int_name(Type *t)
{
    return xfmt("%sint%d_t", t->is_signed ? "" : "u", t->size * 8);
}

/* A key that is the same for types the front end considers the same. */
static const char *tkey(Type *t)
{
    switch (t->kind) {
    case TY_INT: return xfmt("%c%d", t->is_signed ? 'i' : 'u', t->size);
    case TY_ENUM: return xfmt("%c%d", t->is_signed ? 'i' : 'u', t->size);
    case TY_BOOL: return "b";
    case TY_CHAR: return "c";
    case TY_VOID: return "v";
    case TY_PTR: return xfmt("P%s", tkey(t->base));
    case TY_ARRAY: return xfmt("A%ld[%s]", t->len, tkey(t->base));
    case TY_STR: return xfmt("S%ld", t->len);
    case TY_FUNC: {
        CBuf b = { 0 };
        cb_fmt(&b, "F%d(", t->nparams);
        for (int i = 0; i < t->nparams; i++)
            cb_fmt(&b, "%s,", tkey(t->params[i]));
        cb_fmt(&b, ")%s", tkey(t->ret));
        return cb_str(&b);
    }
    case TY_STRUCT: case TY_UNION:
        if (t->kernel && t->name)
            return xfmt("K%s", t->name);
        return xfmt("U%p", (void *)t);
    default: return xfmt("?%d", t->kind);
    }
}

/* A C tag or typedef name, unique in the file. */
static const char *fresh_name(const char *base)
{
    const char *name = base;
    for (int i = 2; strmap_get(&G.names, name); i++)
        name = xfmt("%s_%d", base, i);
    strmap_put(&G.names, name, (void *)1);
    return name;
}

static void define_type(TyInfo *ti);

/* Names a struct-like type and forward-declares it; no definition yet. */
static TyInfo *named(Type *t)
{
    const char *key = tkey(t);
    TyInfo *ti = strmap_get(&G.types, key);
    if (ti)
        return ti;
    ti = xalloc(sizeof *ti);
    ti->t = t;
    ti->state = 1;
    switch (t->kind) {
    case TY_STR: ti->name = xfmt("struct %s", fresh_name(xfmt("ks_s%ld", t->len))); break;
    case TY_ARRAY: ti->name = xfmt("struct %s", fresh_name(xfmt("ks_a%d", G.ntypes++))); break;
    case TY_UNION: ti->name = xfmt("union %s", fresh_name(xfmt("u_%s", t->name ? t->name : "anon"))); break;
    default: ti->name = xfmt("struct %s", fresh_name(xfmt("s_%s", t->name ? t->name : "anon"))); break;
    }
    strmap_put(&G.types, key, ti);
    cb_fmt(&G.fwd, "%s;\n", ti->name);
    return ti;
}

static const char *fn_typedef(Type *t)
{
    const char *key = tkey(t);
    TyInfo *ti = strmap_get(&G.types, key);
    if (ti)
        return ti->name;
    CBuf ps = { 0 };
    for (int i = 0; i < t->nparams; i++)
        cb_fmt(&ps, "%s%s", i ? ", " : "", ctype(t->params[i]));
    ti = xalloc(sizeof *ti);
    ti->name = fresh_name(xfmt("ks_fn%d", G.ntypes++));
    ti->state = 3;
    strmap_put(&G.types, key, ti);
    cb_fmt(&G.fntypes, "typedef %s (*%s)(%s);\n", ctype(t->ret), ti->name, t->nparams ? cb_str(&ps) : "void");
    return ti->name;
}

/* The name for use behind a pointer: no definition needed. */
static const char *ctype_ref(Type *t)
{
    switch (t->kind) {
    case TY_STRUCT: case TY_UNION: case TY_STR: case TY_ARRAY:
        return named(t)->name;
    default:
        return ctype(t);
    }
}

const char *ctype(Type *t)
{
    switch (t->kind) {
    case TY_VOID: return "void";
    case TY_BOOL: return "bool";
    case TY_CHAR: return "char";
    case TY_INT: return int_name(t);
    case TY_ENUM: return int_name(int_of(t));
    case TY_UNTYPED: return "int64_t";
    case TY_NULL: return "void *";
    case TY_PTR:
        if (t->base->kind == TY_FUNC)
            return fn_typedef(t->base);
        return xfmt("%s *", ctype_ref(t->base));
    case TY_FUNC: return fn_typedef(t);
    case TY_HANDLE: return "ks_prog *";
    case TY_PERFATT: return "ks_perf *";
    case TY_MAP: return "ks_map";
    case TY_STRUCT: case TY_UNION: case TY_STR: case TY_ARRAY: {
        TyInfo *ti = named(t);
        if (ti->state == 1)
            define_type(ti);
        return ti->name;
    }
    default: return "int";
    }
}

const char *cdecl(Type *t, const char *name)
{
    const char *ty = ctype(t);
    size_t n = strlen(ty);
    return xfmt("%s%s%s", ty, n && ty[n - 1] == '*' ? "" : " ", name);
}

/* ---- definitions ------------------------------------------------------------------ */

typedef struct Layout {
    CBuf *b;
    int ind;
    long bits;                  /* the C cursor, in bits from the aggregate's start */
    int npad;
} Layout;

static void pad_to(Layout *l, long bit)
{
    if (l->bits >= bit)
        return;
    if (l->bits % 8) {          /* finish a partly used byte of bitfields */
        long n = 8 - l->bits % 8 < bit - l->bits ? 8 - l->bits % 8 : bit - l->bits;
        cb_fmt(l->b, "%*suint8_t : %ld;\n", l->ind, "", n);
        l->bits += n;
    }
    if (bit / 8 > l->bits / 8) {
        cb_fmt(l->b, "%*suint8_t ks_pad%d[%ld];\n", l->ind, "", l->npad++, bit / 8 - l->bits / 8);
        l->bits = bit / 8 * 8;
    }
    if (bit > l->bits) {
        cb_fmt(l->b, "%*suint8_t : %ld;\n", l->ind, "", bit - l->bits);
        l->bits = bit;
    }
}

static void write_members(Layout *l, Type *t);

static void write_member(Layout *l, Member *m, bool is_union)
{
    long at = (long)m->offset * 8 + m->bit_off;
    if (!is_union)
        pad_to(l, at);
    if (!m->name) {             /* anonymous struct or union: written inline */
        cb_fmt(l->b, "%*s%s {\n", l->ind, "", m->ty->kind == TY_UNION ? "union" : "struct");
        Layout in = { l->b, l->ind + 4, 0, l->npad };
        write_members(&in, m->ty);
        l->npad = in.npad;
        cb_fmt(l->b, "%*s};\n", l->ind, "");
        l->bits = is_union ? l->bits : at + (long)m->ty->size * 8;
        return;
    }
    if (m->bit_size) {
        cb_fmt(l->b, "%*s%s %s : %d;\n", l->ind, "", ctype(int_of(m->ty)), cmember(m->name), m->bit_size);
        if (!is_union)
            l->bits = at + m->bit_size;
        return;
    }
    cb_fmt(l->b, "%*s%s;\n", l->ind, "", cdecl(m->ty, cmember(m->name)));
    if (!is_union)
        l->bits = at + (long)m->ty->size * 8;
}

static void write_members(Layout *l, Type *t)
{
    bool is_union = t->kind == TY_UNION;
    for (int i = 0; i < t->nmembers; i++)
        write_member(l, &t->members[i], is_union);
    if (!is_union)
        pad_to(l, (long)t->size * 8);
}

/* The C alignment the members give, to compare with the layout's. */
static int natural_align(Type *t)
{
    int a = 1;
    for (int i = 0; i < t->nmembers; i++) {
        Type *mt = t->members[i].ty;
        int ma = t->members[i].bit_size ? 1 : mt->align;
        if (ma > a)
            a = ma;
    }
    return a;
}

static void define_struct(TyInfo *ti)
{
    Type *t = ti->t;
    if (t->incomplete)
        kernel_complete(t);
    for (int i = 0; i < t->nmembers; i++)   /* members by value come first */
        if (!t->members[i].bit_size)
            ctype(t->members[i].ty);
    CBuf b = { 0 };
    cb_fmt(&b, "%s {\n", ti->name);
    Layout l = { &b, 4, 0, 0 };
    write_members(&l, t);
    int nat = natural_align(t);
    const char *attr = t->packed || nat > t->align ? xfmt(" __attribute__((packed, aligned(%d)))", t->align)
                       : t->align > nat ? xfmt(" __attribute__((aligned(%d)))", t->align) : "";
    cb_fmt(&b, "}%s;\n", attr);
    cb_fmt(&b, "_Static_assert(sizeof(%s) == %d, \"layout of %s\");\n", ti->name, t->size,
         t->name ? t->name : "a struct");
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        if (m->name && !m->bit_size && t->kind == TY_STRUCT)
            cb_fmt(&b, "_Static_assert(offsetof(%s, %s) == %d, \"layout of %s\");\n", ti->name, cmember(m->name),
                 m->offset, t->name ? t->name : "a struct");
    }
    cb_put(&G.defs, cb_str(&b));
}

static void define_type(TyInfo *ti)
{
    Type *t = ti->t;
    ti->state = 2;
    switch (t->kind) {
    case TY_STR:
        cb_fmt(&G.defs, "%s { char s[%ld]; };\n", ti->name, t->len);
        break;
    case TY_ARRAY: {
        const char *elem = ctype(t->base);
        cb_fmt(&G.defs, "%s { %s a[%ld]; };\n", ti->name, elem, t->len);
        break;
    }
    default:
        define_struct(ti);
        break;
    }
    ti->state = 3;
}

/* Types named behind pointers are defined at the end, when every type
 * they contain by value can be defined first. */
void cg_types_flush(void)
{
    for (bool again = true; again;) {
        again = false;
        for (int i = 0; i < G.types.cap && !again; i++) {
            TyInfo *ti = G.types.ents && G.types.ents[i].key ? G.types.ents[i].val : NULL;
            if (ti && ti->state == 1 && ti->t) {
                define_type(ti);
                again = true;       /* the map may have grown: start over */
            }
        }
    }
}

/* ---- per-CPU sums ------------------------------------------------------------------ */

/* acc += x, member by member: integers add (wrapping), bools or; other
 * members keep the first CPU's value. */
static void write_sum(CBuf *b, Type *t, const char *acc, const char *x, int depth)
{
    switch (t->kind) {
    case TY_INT: case TY_CHAR: case TY_ENUM:
        cb_fmt(b, "    %s = (%s)((uint64_t)%s + (uint64_t)%s);\n", acc, ctype(t), acc, x);
        return;
    case TY_BOOL:
        cb_fmt(b, "    %s = %s || %s;\n", acc, acc, x);
        return;
    case TY_ARRAY: {
        const char *i = xfmt("i%d", depth);
        cb_fmt(b, "    for (size_t %s = 0; %s < %ld; %s++) {\n", i, i, t->len, i);
        write_sum(b, t->base, xfmt("%s.a[%s]", acc, i), xfmt("%s.a[%s]", x, i), depth + 1);
        cb_put(b, "    }\n");
        return;
    }
    case TY_STRUCT:
        for (int k = 0; k < t->nmembers; k++) {
            Member *m = &t->members[k];
            if (m->name)
                write_sum(b, m->ty, xfmt("%s.%s", acc, cmember(m->name)), xfmt("%s.%s", x, cmember(m->name)),
                          depth + 1);
        }
        return;
    default:
        return;
    }
}

const char *sum_fn(Type *t)
{
    const char *key = xfmt("sum:%s", tkey(t));
    TyInfo *ti = strmap_get(&G.types, key);
    if (ti)
        return ti->name;
    ti = xalloc(sizeof *ti);
    ti->name = fresh_name(xfmt("ks_sum%d", G.ntypes++));
    strmap_put(&G.types, key, ti);
    const char *ct = ctype(t);
    CBuf b = { 0 };
    write_sum(&b, t, "(*a)", "(*b)", 0);
    cb_fmt(&G.support, "static void %s(void *acc, const void *x)\n{\n    __attribute__((unused)) %s *a = acc;\n    __attribute__((unused)) const %s *b = x;\n%s}\n\n",
         ti->name, ct, ct, cb_str(&b));
    return ti->name;
}
