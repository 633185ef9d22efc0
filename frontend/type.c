/* Types: the built-in singletons, constructors, C layout and names. */
#include "frontend/internal.h"
#include "btf/ksbtf.h"

#include <string.h>

static Type prim[16];
Type *ty_void, *ty_bool, *ty_char, *ty_u8, *ty_u16, *ty_u32, *ty_u64, *ty_i8, *ty_i16,
    *ty_i32, *ty_i64, *ty_untyped, *ty_null, *ty_error, *ty_handle, *ty_perfatt;

static Type *prim_type(int i, TypeKind k, int size, bool sign, const char *name)
{
    Type *t = &prim[i];
    memset(t, 0, sizeof *t);
    t->kind = k;
    t->size = size;
    t->align = size ? size : 1;
    t->is_signed = sign;
    t->name = name;
    return t;
}

void types_init(void)
{
    ty_void = prim_type(0, TY_VOID, 0, false, "void");
    ty_bool = prim_type(1, TY_BOOL, 1, false, "bool");
    ty_char = prim_type(2, TY_CHAR, 1, false, "char");
    ty_u8 = prim_type(3, TY_INT, 1, false, "u8");
    ty_u16 = prim_type(4, TY_INT, 2, false, "u16");
    ty_u32 = prim_type(5, TY_INT, 4, false, "u32");
    ty_u64 = prim_type(6, TY_INT, 8, false, "u64");
    ty_i8 = prim_type(7, TY_INT, 1, true, "i8");
    ty_i16 = prim_type(8, TY_INT, 2, true, "i16");
    ty_i32 = prim_type(9, TY_INT, 4, true, "i32");
    ty_i64 = prim_type(10, TY_INT, 8, true, "i64");
    ty_untyped = prim_type(11, TY_UNTYPED, 8, false, "integer constant");
    ty_null = prim_type(12, TY_NULL, 8, false, "null");
    ty_error = prim_type(13, TY_ERROR, 8, false, "<error>");
    ty_handle = prim_type(14, TY_HANDLE, 8, false, "ProgramHandle");
    ty_perfatt = prim_type(15, TY_PERFATT, 8, false, "PerfAttachment");
}

Type *new_type(TypeKind kind, int size, int align)
{
    Type *t = xalloc(sizeof(Type));
    t->kind = kind;
    t->size = size;
    t->align = align;
    return t;
}

Type *int_type(int size, bool is_signed)
{
    switch (size) {
    case 1: return is_signed ? ty_i8 : ty_u8;
    case 2: return is_signed ? ty_i16 : ty_u16;
    case 4: return is_signed ? ty_i32 : ty_u32;
    default: return is_signed ? ty_i64 : ty_u64;
    }
}

Type *pointer_to(Type *base)
{
    Type *t = new_type(TY_PTR, 8, 8);
    t->base = base;
    return t;
}

Type *array_of(Type *elem, long len)
{
    Type *t = new_type(TY_ARRAY, 0, 1);
    t->base = elem;
    t->len = len;
    if (elem) {
        t->align = elem->align ? elem->align : 1;
        long sz = (long)elem->size * len;
        t->size = sz > 0x7fffffff ? 0x7fffffff : (int)sz;
    }
    return t;
}

Type *str_type(long cap)
{
    Type *t = new_type(TY_STR, (int)cap, 1);
    t->len = cap;
    t->base = ty_char;
    return t;
}

Type *func_type(Type *ret, Type **params, int nparams)
{
    Type *t = new_type(TY_FUNC, 8, 8);
    t->ret = ret;
    t->params = params;
    t->nparams = nparams;
    return t;
}

static int align_to(int n, int a) { return a > 1 ? (n + a - 1) / a * a : n; }

/* Natural alignment, padding, size rounded to the largest alignment, as C
 * and BTF lay out a struct; @packed drops the padding. Bitfields only
 * come from kernel BTF, which carries their offsets, so none here. */
void struct_layout(Type *t)
{
    int off = 0, align = 1;
    bool uni = t->kind == TY_UNION;
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        int a = t->packed ? 1 : (m->ty->align ? m->ty->align : 1);
        if (uni) {
            m->offset = 0;
            if (m->ty->size > off)
                off = m->ty->size;
        } else {
            off = align_to(off, a);
            m->offset = off;
            off += m->ty->size;
        }
        if (a > align)
            align = a;
    }
    t->align = align;
    t->size = align_to(off, align);
}

bool is_integer(Type *t)
{
    return t->kind == TY_INT || t->kind == TY_CHAR || t->kind == TY_ENUM || t->kind == TY_UNTYPED;
}

bool is_scalar(Type *t) { return is_integer(t) || t->kind == TY_BOOL || t->kind == TY_PTR; }

bool is_aggregate(Type *t)
{
    return t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_ARRAY || t->kind == TY_STR;
}

bool same_type(Type *a, Type *b)
{
    if (a == b)
        return true;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case TY_INT:
        return a->size == b->size && a->is_signed == b->is_signed;
    case TY_PTR:
        return same_type(a->base, b->base);
    case TY_ARRAY:
        return a->len == b->len && same_type(a->base, b->base);
    case TY_STR:
        return a->len == b->len;
    case TY_FUNC:
        if (a->nparams != b->nparams || !same_type(a->ret, b->ret))
            return false;
        for (int i = 0; i < a->nparams; i++)
            if (!same_type(a->params[i], b->params[i]))
                return false;
        return true;
    case TY_STRUCT: case TY_UNION: case TY_ENUM:
        /* Kernel types may be converted twice (BTF and a header) */
        return a->kernel && b->kernel && a->name && b->name && !strcmp(a->name, b->name);
    default:
        return true;
    }
}

/* Looks a member up by name, through anonymous members; *offset gets the
 * byte offset from the start of t. */
Member *find_member(Type *t, const char *name, int *offset)
{
    if (t->kind != TY_STRUCT && t->kind != TY_UNION)
        return NULL;
    if (t->incomplete)
        kernel_complete(t);
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        if (m->name && !strcmp(m->name, name)) {
            *offset = m->offset;
            return m;
        }
    }
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        int inner;
        if (!m->name) {
            Member *r = find_member(m->ty, name, &inner);
            if (r) {
                *offset = m->offset + inner;
                return r;
            }
        }
    }
    return NULL;
}

static const char *map_names[] = {
    "hash", "array", "percpu_hash", "percpu_array", "lru_hash", "lru_percpu_hash",
    "ringbuf", "prog_array", "perf_event_array",
};

const char *map_kind_name(MapKind k) { return map_names[k]; }

bool map_is_percpu(MapKind k)
{
    return k == MAP_PERCPU_HASH || k == MAP_PERCPU_ARRAY || k == MAP_LRU_PERCPU_HASH;
}

bool map_is_array(MapKind k) { return k == MAP_ARRAY || k == MAP_PERCPU_ARRAY; }

const char *type_name(Type *t)
{
    if (!t)
        return "?";
    switch (t->kind) {
    case TY_PTR:
        return xfmt("*%s", type_name(t->base));
    case TY_ARRAY:
        return xfmt("%s[%ld]", type_name(t->base), t->len);
    case TY_STR:
        return xfmt("str(%ld)", t->len);
    case TY_FUNC: {
        char *s = "fn(";
        for (int i = 0; i < t->nparams; i++)
            s = xfmt("%s%s%s", s, i ? ", " : "", type_name(t->params[i]));
        return xfmt("%s) -> %s", s, type_name(t->ret));
    }
    case TY_MAP:
        if (t->map == MAP_RINGBUF)
            return xfmt("ringbuf<%s>", type_name(t->base));
        if (!t->key)
            return map_kind_name(t->map);
        return xfmt("%s<%s, %s>", map_kind_name(t->map), type_name(t->key), type_name(t->base));
    case TY_STRUCT:
        return t->name ? t->name : "struct";
    case TY_UNION:
        return t->name ? t->name : "union";
    case TY_ENUM:
        return t->name ? t->name : "enum";
    case TY_PROGRAM:
        return xfmt("program %s", t->prog ? t->prog->name : "?");
    case TY_IMPL:
        return "struct_ops impl";
    case TY_MODULE:
        return "namespace";
    default:
        return t->name ? t->name : "?";
    }
}

const char *op_spelling(Op op)
{
    static const char *s[] = { "", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "==",
                               "!=", "<", "<=", ">", ">=", "&&", "||", "-", "!", "~" };
    return s[op];
}
