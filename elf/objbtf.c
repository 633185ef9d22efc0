/* The BTF that the object's layout implies: a FUNC per program, the
 * anonymous map-definition structs of .maps in libbpf's __uint/__type/
 * __array encoding, VARs for globals, externs, struct_ops and the license,
 * and a DATASEC per data section with final sizes and offsets (clang leaves
 * those zero for libbpf to fix up; the static linker and ksc fill them). */
#include "elf/internal.h"

#include <bpf/btf.h>
#include <elf.h>
#include <string.h>

typedef struct DsVar { int id; uint32_t off, size; } DsVar;
typedef VEC(DsVar) DsVec;

typedef struct Ctx {
    Writer *w;
    struct btf *b;
    int int_id, idx_id, char_id, values_id;
    StrMap uints;               /* "N" -> id + 1 of PTR to int[N] */
    DsVec *ds;                  /* per Writer section */
    DsVec ksyms;
} Ctx;

enum { MF_INT, MF_TYPE, MF_VALUES };
enum { PIN_BY_NAME = 1 };       /* LIBBPF_PIN_BY_NAME, from the BPF-side bpf_helpers.h */
typedef struct MapField { const char *name; int kind; uint32_t val; } MapField;

static uint32_t type_size(struct btf *b, int id)
{
    long long sz = b && id > 0 ? btf__resolve_size(b, id) : 0;
    return sz > 0 ? (uint32_t)sz : 0;
}

/* The fields libbpf reads, in clang's usual order; `values` must be last.
 * Key and value go by BTF type only when both have one: the kernel
 * rejects a map with a key type but no value type, and libbpf then
 * retries without BTF after a warning. b is NULL when only counting. */
static int map_fields(const ObjMap *m, struct btf *b, MapField *f)
{
    int n = 0;
    bool values = m->nprog_init > 0, typed = m->key_btf && m->value_btf && !values;
    f[n++] = (MapField){ "type", MF_INT, m->type };
    if (typed) {
        f[n++] = (MapField){ "key", MF_TYPE, (uint32_t)m->key_btf };
        f[n++] = (MapField){ "value", MF_TYPE, (uint32_t)m->value_btf };
    } else {
        if (m->key_size || m->key_btf)
            f[n++] = (MapField){ "key_size", MF_INT,
                                 m->key_size ? m->key_size : type_size(b, m->key_btf) };
        if (!values && (m->value_size || m->value_btf))
            f[n++] = (MapField){ "value_size", MF_INT,
                                 m->value_size ? m->value_size : type_size(b, m->value_btf) };
    }
    f[n++] = (MapField){ "max_entries", MF_INT, m->max_entries };
    if (m->flags)
        f[n++] = (MapField){ "map_flags", MF_INT, m->flags };
    if (m->numa_node >= 0)
        f[n++] = (MapField){ "numa_node", MF_INT, (uint32_t)m->numa_node };
    if (m->pin_by_name)
        f[n++] = (MapField){ "pinning", MF_INT, PIN_BY_NAME };
    if (values)
        f[n++] = (MapField){ "values", MF_VALUES, 0 };
    return n;
}

int objbtf_map_fields(const ObjMap *m)
{
    MapField f[16];
    return map_fields(m, NULL, f) - (m->nprog_init > 0);
}

/* ---- shared basic types ------------------------------------------------ */

static int find_or_add_int(Ctx *c, const char *name, int size, int enc)
{
    int id = btf__find_by_name_kind(c->b, name, BTF_KIND_INT);
    if (id > 0) {
        const struct btf_type *t = btf__type_by_id(c->b, id);
        if (t->size == (uint32_t)size)
            return id;
    }
    id = btf__add_int(c->b, name, size, enc);
    return id < 0 ? obj_error("BTF: cannot add type '%s'", name) : id;
}

static int int_id(Ctx *c)
{
    if (!c->int_id)
        c->int_id = find_or_add_int(c, "int", 4, BTF_INT_SIGNED);
    return c->int_id;
}

static int idx_id(Ctx *c)
{
    if (!c->idx_id)
        c->idx_id = find_or_add_int(c, "__ARRAY_SIZE_TYPE__", 4, 0);
    return c->idx_id;
}

static int char_id(Ctx *c)
{
    if (!c->char_id)
        c->char_id = find_or_add_int(c, "char", 1, BTF_INT_SIGNED);
    return c->char_id;
}

static int add_array(Ctx *c, int elem, uint32_t n)
{
    int ix = idx_id(c);
    if (elem < 0 || ix < 0)
        return -1;
    int id = btf__add_array(c->b, ix, elem, n);
    return id < 0 ? obj_error("BTF: cannot add an array type") : id;
}

/* __uint(name, N) is `int (*name)[N]`. */
static int uint_field(Ctx *c, uint32_t n)
{
    const char *key = xfmt("%u", n);
    int id = obj_find(&c->uints, key);
    if (id > 0)
        return id;
    int arr = add_array(c, int_id(c), n);
    if (arr < 0)
        return -1;
    id = btf__add_ptr(c->b, arr);
    if (id < 0)
        return obj_error("BTF: cannot add a pointer type");
    strmap_put(&c->uints, key, (void *)(intptr_t)(id + 1));
    return id;
}

/* __array(values, int (void *)): a zero-length array of pointers to a
 * FUNC_PROTO, which libbpf requires for prog_array initialisers. */
static int values_field(Ctx *c)
{
    if (c->values_id)
        return c->values_id;
    int ret = int_id(c);
    int vp = btf__add_ptr(c->b, 0);
    if (ret < 0 || vp < 0)
        return obj_error("BTF: cannot add a pointer type");
    int proto = btf__add_func_proto(c->b, ret);
    if (proto < 0 || btf__add_func_param(c->b, NULL, vp) < 0)
        return obj_error("BTF: cannot add a function prototype");
    int fp = btf__add_ptr(c->b, proto);
    if (fp < 0)
        return obj_error("BTF: cannot add a pointer type");
    c->values_id = add_array(c, fp, 0);
    return c->values_id;
}

static void ds_add(DsVec *v, int id, uint32_t off, uint32_t size)
{
    DsVar d = { id, off, size };
    vpush(*v, d);
}

static bool valid_id(Ctx *c, int id) { return id > 0 && (uint32_t)id < btf__type_cnt(c->b); }

/* ---- programs, maps, variables ----------------------------------------- */

static int add_funcs(Ctx *c)
{
    Obj *o = c->w->o;
    for (int i = 0; i < o->nprogs; i++) {
        ObjProg *p = &o->progs[i];
        const struct btf_type *t = valid_id(c, p->btf_proto) ?
            btf__type_by_id(c->b, p->btf_proto) : NULL;
        if (!t || !btf_is_func_proto(t))
            return obj_error("function '%s': BTF id %d is not a function prototype", p->name,
                             p->btf_proto);
        bool local = c->w->syms.v[c->w->prog_sym[i]].bind == STB_LOCAL;
        int id = btf__add_func(c->b, p->name, local ? BTF_FUNC_STATIC : BTF_FUNC_GLOBAL,
                               p->btf_proto);
        if (id < 0)
            return obj_error("function '%s': cannot add its BTF", p->name);
        c->w->func_id[i] = id;
    }
    return 0;
}

static int add_map(Ctx *c, int i)
{
    ObjMap *m = &c->w->o->maps[i];
    MapField f[16];
    int n = map_fields(m, c->b, f), ids[16];
    for (int k = 0; k < n; k++) {
        if (f[k].kind == MF_INT) {
            ids[k] = uint_field(c, f[k].val);
        } else if (f[k].kind == MF_VALUES) {
            ids[k] = values_field(c);
        } else {
            if (!valid_id(c, (int)f[k].val) || btf__resolve_size(c->b, f[k].val) <= 0)
                return obj_error("map '%s': %s BTF id %u has no size", m->name, f[k].name,
                                 f[k].val);
            ids[k] = btf__add_ptr(c->b, (int)f[k].val);
        }
        if (ids[k] < 0)
            return obj_error("map '%s': cannot add BTF for field '%s'", m->name, f[k].name);
    }
    int nfixed = n - (f[n - 1].kind == MF_VALUES);
    int st = btf__add_struct(c->b, NULL, 8 * nfixed);
    if (st < 0)
        return obj_error("map '%s': cannot add its BTF definition", m->name);
    for (int k = 0; k < n; k++)
        if (btf__add_field(c->b, f[k].name, ids[k], 64 * k, 0) < 0)
            return obj_error("map '%s': cannot add BTF field '%s'", m->name, f[k].name);
    int var = btf__add_var(c->b, m->name, BTF_VAR_GLOBAL_ALLOCATED, st);
    if (var < 0)
        return obj_error("map '%s': cannot add its BTF variable", m->name);
    ds_add(&c->ds[c->w->map[i].sec], var, c->w->map[i].off, c->w->map_size[i]);
    return 0;
}

static int add_var(Ctx *c, const char *name, int linkage, int type, int size, Place pl)
{
    long long sz = valid_id(c, type) ? btf__resolve_size(c->b, type) : -1;
    if (sz != size)
        return obj_error("global '%s': BTF type %d has size %lld, the variable %d", name, type,
                         sz, size);
    int var = btf__add_var(c->b, name, linkage, type);
    if (var < 0)
        return obj_error("global '%s': cannot add its BTF variable", name);
    ds_add(&c->ds[pl.sec], var, pl.off, (uint32_t)size);
    return 0;
}

static int add_vars(Ctx *c)
{
    Obj *o = c->w->o;
    for (int i = 0; i < o->nvars; i++) {
        ObjVar *v = &o->vars[i];
        int linkage = v->is_static ? BTF_VAR_STATIC : BTF_VAR_GLOBAL_ALLOCATED;
        if (add_var(c, v->name, linkage, v->btf_type, v->size, c->w->var[i]))
            return -1;
    }
    for (int i = 0; i < o->nsops; i++) {
        ObjStructOps *so = &o->sops[i];
        const struct btf_type *t = valid_id(c, so->btf_type) ?
            btf__type_by_id(c->b, so->btf_type) : NULL;
        if (!t || !btf_is_struct(t) || !t->name_off)
            return obj_error("struct_ops '%s': BTF id %d is not a named struct", so->name,
                             so->btf_type);
        if (add_var(c, so->name, BTF_VAR_GLOBAL_ALLOCATED, so->btf_type, so->size,
                    c->w->sop[i]))
            return -1;
    }
    if (c->w->license_sec >= 0) {
        int len = (int)strlen(o->license) + 1;
        int arr = add_array(c, char_id(c), (uint32_t)len);
        if (arr < 0 || add_var(c, "_license", BTF_VAR_GLOBAL_ALLOCATED, arr, len,
                               (Place){ c->w->license_sec, 0 }))
            return -1;
    }
    return 0;
}

/* Externs go to .ksyms as clang puts them: FUNCs with extern linkage and
 * VARs with extern linkage, offsets left for libbpf to assign. */
static int add_externs(Ctx *c)
{
    Obj *o = c->w->o;
    if (o->nexterns && int_id(c) < 0)   /* libbpf backs ksyms with an int */
        return -1;
    for (int i = 0; i < o->nexterns; i++) {
        ObjExtern *e = &o->externs[i];
        const struct btf_type *t = valid_id(c, e->btf_type) ? btf__type_by_id(c->b, e->btf_type)
                                                            : NULL;
        int id;
        if (e->is_func) {
            if (!t || !btf_is_func_proto(t))
                return obj_error("kfunc '%s': BTF id %d is not a function prototype", e->name,
                                 e->btf_type);
            id = btf__add_func(c->b, e->name, BTF_FUNC_EXTERN, e->btf_type);
            ds_add(&c->ksyms, id, 0, 0);
        } else if (!e->btf_type) {
            /* typeless ksym, resolved through kallsyms: `const void` */
            int cv = btf__add_const(c->b, 0);
            id = cv < 0 ? cv : btf__add_var(c->b, e->name, BTF_VAR_GLOBAL_EXTERN, cv);
            ds_add(&c->ksyms, id, 0, 1);
        } else {
            long long sz = t ? btf__resolve_size(c->b, e->btf_type) : -1;
            if (sz <= 0)
                return obj_error("extern '%s': BTF id %d has no size", e->name, e->btf_type);
            id = btf__add_var(c->b, e->name, BTF_VAR_GLOBAL_EXTERN, e->btf_type);
            ds_add(&c->ksyms, id, 0, (uint32_t)sz);
        }
        if (id < 0)
            return obj_error("extern '%s': cannot add its BTF", e->name);
    }
    return 0;
}

static int add_datasec(Ctx *c, const char *name, uint32_t size, DsVec *v)
{
    if (!v->n)
        return 0;
    if (btf__add_datasec(c->b, name, size) < 0)
        return obj_error("BTF: cannot add DATASEC '%s'", name);
    for (int i = 0; i < v->n; i++)
        if (btf__add_datasec_var_info(c->b, v->v[i].id, v->v[i].off, v->v[i].size) < 0)
            return obj_error("BTF: cannot add a variable to DATASEC '%s'", name);
    return 0;
}

int objbtf_complete(Writer *w)
{
    Ctx c = { .w = w, .b = w->btf };
    c.ds = xalloc(sizeof(DsVec) * (size_t)(w->secs.n + 1));
    if (add_funcs(&c) || add_externs(&c))
        return -1;
    for (int i = 0; i < w->o->nmaps; i++)
        if (add_map(&c, i))
            return -1;
    if (add_vars(&c))
        return -1;
    for (int i = 0; i < w->secs.n; i++) {
        Sec *s = w->secs.v[i];
        uint32_t size = (uint32_t)(s->type == SHT_NOBITS ? s->nobits : s->data.n);
        if (add_datasec(&c, s->name, size, &c.ds[i]))
            return -1;
    }
    return add_datasec(&c, ".ksyms", 0, &c.ksyms);
}
