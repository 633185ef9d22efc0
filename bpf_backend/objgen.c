/* Assembles the object: programs and subprograms from the back end, and
 * from the program's declarations the BTF-defined maps (with the tail-call
 * prog_arrays and the pinned globals' map), globals in .data/.bss, string
 * constants in .rodata, kfunc externs, struct_ops maps and the license. */
#include <bpf/btf.h>
#include <linux/bpf.h>
#include <string.h>

#include "bpf_backend/mir.h"
#include "btf/ksbtf.h"
#include "ksc.h"

typedef struct Gen {
    Program *p;
    IrProgram *ip;
    BtfGen *bg;
    Obj *o;
    VEC(ObjMap) maps;
    VEC(ObjVar) vars;
    VEC(ObjExtern) externs;
    VEC(ObjStructOps) sops;
} Gen;

/* ---- constant initialisers into bytes ---------------------------------- */

static void put_int(uint8_t *buf, int size, uint64_t v)
{
    for (int i = 0; i < size; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
}

static void init_bytes(Node *n, Type *t, uint8_t *buf);

static void init_aggregate(Node *n, Type *t, uint8_t *buf)
{
    switch (n->kind) {
    case N_STR: {
        long cap = t->kind == TY_STR ? t->len - 1 : t->size;
        memcpy(buf, n->sval, (size_t)(n->slen < cap ? n->slen : cap));
        return;
    }
    case N_STRUCT_LIT:
        for (int i = 0; i < n->args.n; i++) {
            Node *f = n->args.v[i];
            if (f->member)
                init_bytes(f->lhs, f->member->ty, buf + f->member_off);
        }
        return;
    case N_ARRAY_LIT:
        for (int i = 0; i < n->args.n && i < t->len; i++)
            init_bytes(n->args.v[i], t->base, buf + (size_t)i * (size_t)t->base->size);
        return;
    case N_ARRAY_REPEAT:
        for (long i = 0; i < t->len && i < (long)n->rhs->cval; i++)
            init_bytes(n->lhs, t->base, buf + (size_t)i * (size_t)t->base->size);
        return;
    default:
        return;
    }
}

static void init_bytes(Node *n, Type *t, uint8_t *buf)
{
    while (n->kind == N_CAST && !n->is_const_val)
        n = n->lhs;
    if (n->is_const_val) {
        put_int(buf, t->kind == TY_BOOL ? 1 : t->size, (uint64_t)n->cval);
        return;
    }
    init_aggregate(n, t, buf);
}

static bool all_zero(const uint8_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* ---- maps -------------------------------------------------------------- */

static uint32_t map_type(MapKind k)
{
    switch (k) {
    case MAP_HASH: return BPF_MAP_TYPE_HASH;
    case MAP_ARRAY: return BPF_MAP_TYPE_ARRAY;
    case MAP_PERCPU_HASH: return BPF_MAP_TYPE_PERCPU_HASH;
    case MAP_PERCPU_ARRAY: return BPF_MAP_TYPE_PERCPU_ARRAY;
    case MAP_LRU_HASH: return BPF_MAP_TYPE_LRU_HASH;
    case MAP_LRU_PERCPU_HASH: return BPF_MAP_TYPE_LRU_PERCPU_HASH;
    case MAP_RINGBUF: return BPF_MAP_TYPE_RINGBUF;
    case MAP_PROG_ARRAY: return BPF_MAP_TYPE_PROG_ARRAY;
    default: return BPF_MAP_TYPE_PERF_EVENT_ARRAY;
    }
}

static void user_map(Gen *g, Global *gl)
{
    Type *t = gl->ty;
    ObjMap m = { .name = gl->name, .type = map_type(t->map), .max_entries = (uint32_t)t->len,
                 .flags = (uint32_t)t->map_flags, .numa_node = t->numa_node, .pin_by_name = gl->pinned };
    if (t->map == MAP_PROG_ARRAY || t->map == MAP_PERF_EVENT_ARRAY) {
        m.key_size = m.value_size = 4;
    } else if (t->map != MAP_RINGBUF) {
        m.key_btf = btfgen_type(g->bg, t->key);
        m.value_btf = btfgen_type(g->bg, t->base);
        m.key_size = (uint32_t)t->key->size;
        m.value_size = (uint32_t)t->base->size;
    }
    vpush(g->maps, m);
}

/* One prog_array per program kind that is tail-called into, each slot
 * filled through a .maps relocation so any loader wires it. */
static void tail_maps(Gen *g)
{
    for (int i = 0; i < g->ip->funcs.n; i++) {
        IrFunc *f = g->ip->funcs.v[i];
        for (int b = 0; b < f->blocks.n; b++)
            for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
                Ins *t = f->blocks.v[b]->ins.v[k];
                if (t->op != I_TAIL_CALL)
                    continue;
                ObjMap *m = NULL;
                for (int j = 0; j < g->maps.n; j++)
                    if (!strcmp(g->maps.v[j].name, t->sym))
                        m = &g->maps.v[j];
                if (!m) {
                    ObjMap nm = { .name = t->sym, .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4,
                                  .value_size = 4, .numa_node = -1 };
                    vpush(g->maps, nm);
                    m = &g->maps.v[g->maps.n - 1];
                }
                int slot = (int)t->imm;
                if (slot >= m->nprog_init) {
                    const char **pi = xalloc(sizeof(char *) * (size_t)(slot + 1));
                    if (m->nprog_init)
                        memcpy(pi, m->prog_init, sizeof(char *) * (size_t)m->nprog_init);
                    m->prog_init = pi;
                    m->nprog_init = slot + 1;
                    m->max_entries = (uint32_t)(slot + 1);
                }
                m->prog_init[slot] = t->target;
            }
    }
}

/* pin var values live together in one pinned single-entry array. */
static void pinned_globals(Gen *g)
{
    Type *st = g->p->pinned_type;
    if (!st)
        return;
    ObjMap m = { .name = "pinned_globals", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
                 .value_size = (uint32_t)st->size, .max_entries = 1, .numa_node = -1, .pin_by_name = true };
    m.key_btf = btfgen_type(g->bg, ty_u32);
    m.value_btf = btfgen_type(g->bg, st);
    vpush(g->maps, m);
}

/* ---- globals and strings ----------------------------------------------- */

static void globals(Gen *g)
{
    for (int i = 0; i < g->p->globals.n; i++) {
        Global *gl = g->p->globals.v[i];
        if (gl->kind == GV_MAP) {
            user_map(g, gl);
            continue;
        }
        if (gl->kind == GV_PIN)
            continue;
        Type *t = gl->ty;
        uint8_t *data = xalloc((size_t)t->size + 1);
        if (gl->kind == GV_CONFIG) {
            for (int k = 0; k < t->nmembers; k++)
                if (t->members[k].init)
                    init_bytes(t->members[k].init, t->members[k].ty, data + t->members[k].offset);
        } else if (gl->init) {
            init_bytes(gl->init, t, data);
        }
        bool zero = all_zero(data, t->size) && gl->kind != GV_CONFIG;
        ObjVar v = { .name = gl->name, .sec = zero ? SEC_BSS : SEC_DATA, .btf_type = btfgen_type(g->bg, t),
                     .size = t->size, .align = t->align, .init = zero ? NULL : data,
                     .is_static = gl->kind == GV_LOCAL };
        vpush(g->vars, v);
    }
    for (int i = 0; i < g->ip->strings.n; i++) {
        int len = g->ip->string_lens.v[i];
        uint8_t *data = xalloc((size_t)len + 1);
        memcpy(data, g->ip->strings.v[i], (size_t)len);
        ObjVar v = { .name = xfmt("__ksc_str%d", i), .sec = SEC_RODATA,
                     .btf_type = btfgen_type(g->bg, array_of(ty_char, len + 1)), .size = len + 1, .align = 1,
                     .init = data, .is_static = true };
        vpush(g->vars, v);
    }
}

/* ---- functions ----------------------------------------------------- */

static int func_proto(Gen *g, IrFunc *f)
{
    Func *fn = f->src;
    VEC(Type *) tys = { 0 };
    VEC(const char *) names = { 0 };
    bool ctx_array = !f->sub_copy && (fn->kind == FN_STRUCT_OPS || (fn->kind == FN_PROBE && !fn->kprobe));
    if (f->hidden_ret) {
        vpush(tys, pointer_to(fn->ret));
        vpush(names, "__ret");
    }
    if (ctx_array) {
        vpush(tys, pointer_to(ty_u64));
        vpush(names, "ctx");
    } else {
        for (int i = 0; i < fn->params.n; i++) {
            Type *t = fn->params.v[i]->ty;
            vpush(tys, is_aggregate(t) ? pointer_to(t) : t);
            vpush(names, fn->params.v[i]->name);
        }
    }
    if (f->hidden_err) {
        vpush(tys, pointer_to(ty_i32));
        vpush(names, "__err");
    }
    Type *ret = is_aggregate(fn->ret) ? ty_i64 : fn->ret->kind == TY_VOID && f->is_program ? ty_i32 : fn->ret;
    if (f->is_program && fn->ret->kind == TY_ENUM && !fn->ret->kernel)
        ret = ty_i32;
    return btfgen_proto(g->bg, ret, tys.v, names.v, tys.n);
}

/* What an aggregate kfunc argument is passed as: a pointer to the
 * caller's copy, for arrays and strings a pointer to its first element
 * (the kernel verifier accepts a pointer to a scalar or to a struct of
 * scalars as a kfunc argument, not a pointer to an array). */
static Type *kfunc_agg_ptr(Type *t)
{
    if (t->kind == TY_STR)
        return pointer_to(ty_char);
    return pointer_to(t->kind == TY_ARRAY ? t->base : t);
}

/* A scalar of a @kfunc's prototype: an enum travels as its integer type,
 * which is how the module's C declares it (libbpf refuses an enum where
 * the module's BTF has an int). An extern kernel kfunc keeps its types. */
static Type *kfunc_scalar(Func *fn, Type *t)
{
    if (fn->kind == FN_KFUNC && t->kind == TY_ENUM)
        return int_type(t->size, false);
    return t;
}

/* A kfunc's prototype as eBPF code calls it (ir/lower_call.c,
 * lower_bpf_call): aggregates by pointer, an aggregate result through a
 * leading __ret pointer (the function then returns s64 0), and a trailing
 * s32 *__err when the kfunc may throw. The module's C declares the same
 * (kmod_backend/internal.h), and libbpf checks the two agree. */
static int kfunc_proto(Gen *g, Func *fn)
{
    VEC(Type *) tys = { 0 };
    VEC(const char *) names = { 0 };
    bool agg_ret = is_aggregate(fn->ret);
    if (agg_ret) {
        vpush(tys, kfunc_agg_ptr(fn->ret));
        vpush(names, "__ret");
    }
    for (int k = 0; k < fn->params.n; k++) {
        Type *t = fn->params.v[k]->ty;
        vpush(tys, is_aggregate(t) ? kfunc_agg_ptr(t) : kfunc_scalar(fn, t));
        vpush(names, fn->params.v[k]->name);
    }
    if (fn->throws) {
        vpush(tys, pointer_to(ty_i32));
        vpush(names, "__err");
    }
    return btfgen_proto(g->bg, agg_ret ? ty_i64 : kfunc_scalar(fn, fn->ret), tys.v, names.v, tys.n);
}

/* kfunc calls: an extern FUNC in .ksyms per called function. */
static void externs(Gen *g)
{
    StrMap seen = { 0 };
    for (int i = 0; i < g->p->funcs.n; i++) {
        Func *fn = g->p->funcs.v[i];
        bool kfunc = fn->kind == FN_KFUNC || (fn->kind == FN_EXTERN && !fn->helper_id);
        if (!kfunc || strmap_get(&seen, fn->name))
            continue;
        bool called = false;
        for (int j = 0; j < g->p->funcs.n && !called; j++) {
            Func *c = g->p->funcs.v[j];
            if (c->target != TGT_EBPF)
                continue;
            for (int k = 0; k < c->calls.n && !called; k++)
                called = c->calls.v[k]->func == fn;
        }
        if (!called)
            continue;
        strmap_put(&seen, fn->name, fn);
        ObjExtern e = { .name = fn->name, .is_func = true, .btf_type = kfunc_proto(g, fn) };
        vpush(g->externs, e);
    }
}

/* ---- struct_ops -------------------------------------------------------- */

static void struct_ops(Gen *g)
{
    for (int i = 0; i < g->p->impls.n; i++) {
        Impl *im = g->p->impls.v[i];
        Type *k = im->kty;
        if (!k)
            continue;
        VEC(Member) ms = { 0 };
        VEC(ObjStructOpsFn) fns = { 0 };
        uint8_t *data = xalloc((size_t)k->size + 1);
        bool has_name = false;
        for (int j = 0; j < im->data.n; j++) {
            Member *d = &im->data.v[j];
            int off;
            Member *km = find_member(k, d->name, &off);
            if (!km)
                continue;
            init_bytes(d->init, km->ty, data + off);
            vpush(ms, ((Member){ .name = d->name, .ty = km->ty, .offset = off }));
            has_name |= !strcmp(d->name, "name");
        }
        int noff;
        Member *nm = find_member(k, "name", &noff);
        if (!has_name && nm) {
            size_t cap = (size_t)nm->ty->size;
            strncpy((char *)data + noff, im->name, cap - 1);
            vpush(ms, ((Member){ .name = "name", .ty = nm->ty, .offset = noff }));
        }
        for (int j = 0; j < im->funcs.n; j++) {
            Func *f = im->funcs.v[j];
            int off;
            Member *km = find_member(k, f->name, &off);
            if (!km)
                continue;
            vpush(ms, ((Member){ .name = f->name, .ty = km->ty, .offset = off }));
            vpush(fns, ((ObjStructOpsFn){ off, f->sym_name }));
        }
        Type *st = new_type(TY_STRUCT, k->size, k->align);
        st->name = im->ops;
        st->members = ms.v;
        st->nmembers = ms.n;
        /* .struct_ops, not .struct_ops.link: Debian's libbpf 1.1 skips
         * the .link section, and registration works the same way. */
        ObjStructOps so = { .name = im->name, .btf_type = btfgen_type(g->bg, st), .data = data, .size = k->size,
                            .fns = fns.v, .nfns = fns.n, .link = false };
        vpush(g->sops, so);
    }
}

/* ---- the whole object -------------------------------------------------- */

int objgen_write(Program *p, IrProgram *ip, ObjProg *progs, const char *path)
{
    struct btf *b = btf__new_empty();
    if (!b) {
        fprintf(stderr, "ksc: error: cannot create BTF\n");
        return 1;
    }
    Obj o = { .btf = b, .license = "GPL" };
    Gen g = { .p = p, .ip = ip, .bg = btfgen_new(b), .o = &o };
    for (int i = 0; i < ip->funcs.n; i++)
        progs[i].btf_proto = func_proto(&g, ip->funcs.v[i]);
    globals(&g);
    pinned_globals(&g);
    tail_maps(&g);
    externs(&g);
    struct_ops(&g);
    o.progs = progs;
    o.nprogs = ip->funcs.n;
    o.maps = g.maps.v;
    o.nmaps = g.maps.n;
    o.vars = g.vars.v;
    o.nvars = g.vars.n;
    o.externs = g.externs.v;
    o.nexterns = g.externs.n;
    o.sops = g.sops.v;
    o.nsops = g.sops.n;
    int rc = obj_write(&o, path);
    btfgen_free(g.bg);
    btf__free(b);
    return rc ? 1 : 0;
}
