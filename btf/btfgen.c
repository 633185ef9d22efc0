/* ksc types into BTF through libbpf's btf__add_* API. Each Type converts
 * once (memoized by pointer); kernel types also by name, since the front
 * end may hold several Type copies of one kernel struct. Integers are
 * named as C names them so that skeletons generated from the object
 * compile as plain C. The memo lives in the arena: a BtfGen serves one
 * compilation. */
#include "btf/ksbtf.h"

#include <bpf/btf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct Fixup { int ptr; Type *target; } Fixup;

struct BtfGen {
    struct btf *b;
    StrMap memo;            /* "%p" of a Type, or a name key -> id + 1 */
    StrMap busy;            /* aggregates whose members are being converted */
    VEC(Fixup) fixups;      /* pointers to a busy aggregate */
};

static int gen_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int gen_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ksc: error: BTF: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

static const char *nm(const char *s) { return s ? s : "(anonymous)"; }

static int memo_get(BtfGen *g, const char *key)
{
    return (int)(intptr_t)strmap_get(&g->memo, key) - 1;
}

static int memo_put(BtfGen *g, const char *key, int id)
{
    if (id >= 0)
        strmap_put(&g->memo, key, (void *)(intptr_t)(id + 1));
    return id;
}

static const char *ptr_key(const void *p) { return xfmt("%p", p); }

BtfGen *btfgen_new(struct btf *b)
{
    if (!b)
        return NULL;
    BtfGen *g = calloc(1, sizeof *g);
    if (g)
        g->b = b;
    return g;
}

void btfgen_free(BtfGen *g) { free(g); }

/* ---- scalars ----------------------------------------------------------- */

static int add_int(BtfGen *g, const char *name, int size, int enc)
{
    const char *key = xfmt("int:%s", name);
    int id = memo_get(g, key);
    if (id >= 0)
        return id;
    id = btf__add_int(g->b, name, size, enc);
    return id < 0 ? gen_error("cannot add integer type '%s'", nm(name)) : memo_put(g, key, id);
}

static int gen_int(BtfGen *g, int size, bool sign)
{
    static const char *names[2][5] = {
        { "unsigned char", "unsigned short", "unsigned int", "unsigned long long",
          "unsigned __int128" },
        { "signed char", "short", "int", "long long", "__int128" },
    };
    int k = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : size == 8 ? 3 : size == 16 ? 4 : -1;
    if (k < 0)
        return gen_error("integer of size %d has no BTF form", size);
    return add_int(g, names[sign][k], size, sign ? BTF_INT_SIGNED : 0);
}

static int index_type(BtfGen *g) { return add_int(g, "__ARRAY_SIZE_TYPE__", 4, 0); }

static int gen_array(BtfGen *g, Type *elem, long n)
{
    int e = btfgen_type(g, elem), ix = index_type(g);
    if (e < 0 || ix < 0)
        return -1;
    if (n < 0 || n > 0xffffffffL)
        return gen_error("array length %ld out of range", n);
    int id = btf__add_array(g->b, ix, e, (uint32_t)n);
    return id < 0 ? gen_error("cannot add an array type") : id;
}

static bool fits(i128 v, i128 lo, i128 hi) { return v >= lo && v <= hi; }

/* ENUM when every value fits 32 bits of one signedness, else ENUM64. */
static int gen_enum(BtfGen *g, Type *t)
{
    if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
        return gen_error("enum '%s' has an unsupported size", nm(t->name));
    bool neg = false, s32 = true, u32 = true;
    for (int i = 0; i < t->nvals; i++) {
        i128 v = t->vals[i].val;
        neg |= v < 0;
        s32 &= fits(v, INT32_MIN, INT32_MAX);
        u32 &= fits(v, 0, UINT32_MAX);
        if (!fits(v, INT64_MIN, (i128)UINT64_MAX))
            return gen_error("enum '%s' has a value wider than 64 bits", nm(t->name));
    }
    bool small = s32 || u32;
    int id = small ? btf__add_enum(g->b, t->name, t->size)
                   : btf__add_enum64(g->b, t->name, t->size, neg);
    if (id < 0)
        return gen_error("cannot add enum '%s'", nm(t->name));
    for (int i = 0; i < t->nvals; i++) {
        i128 v = t->vals[i].val;
        int err = small ? btf__add_enum_value(g->b, t->vals[i].name, (int64_t)v)
                        : btf__add_enum64_value(g->b, t->vals[i].name, (uint64_t)v);
        if (err < 0)
            return gen_error("cannot add enum value '%s'", nm(t->vals[i].name));
    }
    return id;
}

/* ---- functions --------------------------------------------------------- */

int btfgen_proto(BtfGen *g, Type *ret, Type **params, const char **names, int n)
{
    int r = ret ? btfgen_type(g, ret) : 0;
    int *ids = xalloc(sizeof(int) * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        if ((ids[i] = btfgen_type(g, params[i])) < 0)
            return -1;
    if (r < 0)
        return -1;
    /* parameters must directly follow their FUNC_PROTO */
    int id = btf__add_func_proto(g->b, r);
    if (id < 0)
        return gen_error("cannot add a function prototype");
    for (int i = 0; i < n; i++)
        if (btf__add_func_param(g->b, names ? names[i] : NULL, ids[i]) < 0)
            return gen_error("cannot add parameter '%s'", nm(names ? names[i] : NULL));
    return id;
}

static int gen_func_ptr(BtfGen *g, Type *fn)
{
    int proto = btfgen_type(g, fn);
    if (proto < 0)
        return -1;
    int id = btf__add_ptr(g->b, proto);
    return id < 0 ? gen_error("cannot add a function pointer") : id;
}

/* ---- structs and unions ------------------------------------------------ */

static bool is_aggr(Type *t) { return t->kind == TY_STRUCT || t->kind == TY_UNION; }

static const char *kernel_key(Type *t, const char *what)
{
    return t->kernel && t->name ? xfmt("%s:%d:%s", what, t->kind, t->name) : NULL;
}

static int gen_fwd(BtfGen *g, Type *t)
{
    const char *key = kernel_key(t, "fwd");
    int id = key ? memo_get(g, key) : -1;
    if (id >= 0)
        return id;
    id = btf__add_fwd(g->b, t->name, t->kind == TY_UNION ? BTF_FWD_UNION : BTF_FWD_STRUCT);
    return id < 0 ? gen_error("cannot add declaration of '%s'", nm(t->name))
                  : key ? memo_put(g, key, id) : id;
}

/* libbpf has no call to retarget a PTR, and a self-referential struct
 * only gets its id after its members exist; the pointer is created
 * pointing at void and patched here, in the BTF's own modifiable copy. */
static void patch_fixups(BtfGen *g, Type *t, int id)
{
    for (int i = 0; i < g->fixups.n; i++) {
        if (g->fixups.v[i].target != t)
            continue;
        struct btf_type *p = (struct btf_type *)btf__type_by_id(g->b, g->fixups.v[i].ptr);
        p->type = (uint32_t)id;
        g->fixups.v[i] = g->fixups.v[--g->fixups.n];
        i--;
    }
}

static int member_type(BtfGen *g, Member *m)
{
    /* a TY_FUNC member is laid out as a function pointer */
    return m->ty->kind == TY_FUNC ? gen_func_ptr(g, m->ty) : btfgen_type(g, m->ty);
}

static uint32_t bit_offset(Member *m) { return (uint32_t)m->offset * 8 + (uint32_t)m->bit_off; }

/* The kernel wants members by non-decreasing offset; a struct assembled
 * from parts (a struct_ops value) may list them otherwise. Stable. */
static int *member_order(Type *t)
{
    int *o = xalloc(sizeof(int) * (size_t)(t->nmembers + 1));
    for (int i = 0; i < t->nmembers; i++) {
        int k = i;
        for (; k > 0 && bit_offset(&t->members[o[k - 1]]) > bit_offset(&t->members[i]); k--)
            o[k] = o[k - 1];
        o[k] = i;
    }
    return o;
}

static int gen_aggr(BtfGen *g, Type *t)
{
    const char *key = kernel_key(t, "full"), *self = ptr_key(t);
    int id = key ? memo_get(g, key) : -1;
    if (id >= 0)
        return id;
    if (t->incomplete)
        kernel_complete(t);
    if (t->incomplete)
        return gen_fwd(g, t);
    if (strmap_get(&g->busy, self))
        return gen_error("'%s' contains itself", nm(t->name));
    strmap_put(&g->busy, self, t);
    int *ids = xalloc(sizeof(int) * (size_t)(t->nmembers + 1));
    for (int i = 0; i < t->nmembers; i++)
        if ((ids[i] = member_type(g, &t->members[i])) < 0)
            break;
    strmap_put(&g->busy, self, NULL);
    for (int i = 0; i < t->nmembers; i++)
        if (ids[i] < 0)
            return -1;
    id = t->kind == TY_UNION ? btf__add_union(g->b, t->name, t->size)
                             : btf__add_struct(g->b, t->name, t->size);
    if (id < 0)
        return gen_error("cannot add '%s'", nm(t->name));
    int *order = member_order(t);
    for (int k = 0; k < t->nmembers; k++) {
        Member *m = &t->members[order[k]];
        if (btf__add_field(g->b, m->name, ids[order[k]], bit_offset(m), (uint32_t)m->bit_size) < 0)
            return gen_error("cannot add member '%s'", nm(m->name));
    }
    patch_fixups(g, t, id);
    return key ? memo_put(g, key, id) : id;
}

/* A pointer to a kernel struct nobody has completed stays a forward
 * declaration, as clang leaves a struct it only saw declared: following
 * every pointer of a kernel struct would copy half of vmlinux. */
static int gen_ptr(BtfGen *g, Type *t)
{
    Type *base = t->base;
    int target = 0, id;
    if (base && is_aggr(base) && strmap_get(&g->busy, ptr_key(base))) {
        if ((id = btf__add_ptr(g->b, 0)) < 0)
            return gen_error("cannot add a pointer to '%s'", nm(base->name));
        Fixup f = { id, base };
        vpush(g->fixups, f);
        return id;
    }
    if (base && is_aggr(base) && base->kernel && base->incomplete)
        target = gen_fwd(g, base);
    else if (base)
        target = btfgen_type(g, base);
    if (target < 0)
        return -1;
    const char *key = xfmt("ptr:%d", target);
    if ((id = memo_get(g, key)) >= 0)
        return id;
    id = btf__add_ptr(g->b, target);
    return id < 0 ? gen_error("cannot add a pointer") : memo_put(g, key, id);
}

/* ---- dispatch ---------------------------------------------------------- */

static int convert(BtfGen *g, Type *t)
{
    switch (t->kind) {
    case TY_VOID:
        return 0;
    case TY_BOOL:
        return add_int(g, "_Bool", 1, BTF_INT_BOOL);
    case TY_CHAR:
        return add_int(g, "char", 1, t->is_signed ? BTF_INT_SIGNED : BTF_INT_CHAR);
    case TY_INT:
        return gen_int(g, t->size, t->is_signed);
    case TY_UNTYPED:
        return gen_int(g, 8, true);
    case TY_ENUM:
        return gen_enum(g, t);
    case TY_STR:
        return gen_array(g, ty_char, t->len);
    case TY_ARRAY:
        return gen_array(g, t->base, t->len);
    case TY_NULL:
    case TY_PTR:
        return gen_ptr(g, t);
    case TY_FUNC:
        return btfgen_proto(g, t->ret, t->params, NULL, t->nparams);
    case TY_STRUCT:
    case TY_UNION:
        return gen_aggr(g, t);
    default:
        return gen_error("type '%s' has no BTF form", type_name(t));
    }
}

int btfgen_type(BtfGen *g, Type *t)
{
    if (!g || !t)
        return gen_error("no type to convert");
    const char *key = ptr_key(t);
    int id = memo_get(g, key);
    if (id >= 0)
        return id;
    return memo_put(g, key, convert(g, t));
}
