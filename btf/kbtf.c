/* Kernel types for the front end, read from kernel BTF on demand.
 *
 * A lookup asks, in order: the memo of Types converted in this run (by
 * kernel BTF id), the per-kernel cache file (kbtf_cache.c: a small BTF blob
 * of the types earlier runs used, with an index of names asked for, absent
 * names included), and only then the kernel's BTF file itself, which is
 * parsed at most once per process and only on such a miss. New names and
 * types are written back to the cache at exit (or kbtf_flush/kbtf_reset).
 *
 * Conversion is lazy in breadth: a struct reached through a pointer becomes
 * a shell (size known, members not read, t->incomplete) that
 * kernel_complete() fills in when the front end first looks inside, so
 * converting task_struct does not convert the kernel.
 *
 * Without a BTF file ("none", or no /sys/kernel/btf/vmlinux) the built-in
 * set of kbtf_builtin.c answers. A --btf file that cannot be opened or read
 * is an error ("ksc: error: ..."), and the built-in set answers from then
 * on so that checking can go on and report everything else. */
#include "btf/kbtf_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#define DEFAULT_BTF "/sys/kernel/btf/vmlinux"
/* Nesting of embedded types and typedef chains; only corrupt BTF gets near. */
#define MAX_DEPTH 64
/* Undefined names of user programs are remembered as absent, but a flood of
 * them (fuzzing) must not grow the cache file without bound. */
#define MAX_ABSENT 4096
/* Misses answered by a linear scan before the name index pays off. */
#define SCAN_LIMIT 6

enum { CTX_POINTEE = 1, CTX_EMBED = 2 };
enum { M_UNOPENED, M_BTF, M_FALLBACK };

static struct {
    bool configured;
    char *path;                 /* the BTF file; NULL: built-in set only */
    bool explicit_path;         /* from --btf: problems with it are errors */
    int mode;
    Ident id;
    Cache cache;                /* loaded from the cache file, then extended */
    struct btf *vml;            /* all of kernel BTF, after the first miss */
    NameMap vnames;             /* its names (borrowed strings) */
    bool vml_failed;
    bool dirty;                 /* the cache file needs rewriting */
    int absent;                 /* absent names added this run */
    int scans;                  /* names found by scanning kernel BTF */
    IdMap memo;                 /* kernel id -> Type (arena) */
    IdMap aligns;               /* kernel id -> alignment */
} K;

static int parse_count;
static bool atexit_set;

/* Where a BTF type came from: the cache's small BTF (local ids, translated
 * back through side) or kernel BTF itself (local id = kernel id). */
typedef struct Src { const struct btf *btf; const Side *side; uint32_t nside, local; } Src;

static uint32_t src_vid(const Src *s, uint32_t local)
{
    if (!s->side)
        return local;
    return local < s->nside ? s->side[local].vid : 0;
}

static const char *src_name(const Src *s, uint32_t off)
{
    const char *n = btf__name_by_offset(s->btf, off);
    return n && *n ? n : NULL;
}

/* ---- opening the BTF file --------------------------------------------- */

static void btf_error(const char *fmt, const char *a, const char *b)
{
    error_at((Pos){ 0 }, fmt, a, b);
    help("ksc goes on with its built-in kernel types (xdp_md, __sk_buff, iphdr, ...)");
}

static bool looks_like_btf(const unsigned char *h, ssize_t n)
{
    if (n >= 24 && ((h[0] == 0x9f && h[1] == 0xeb) || (h[0] == 0xeb && h[1] == 0x9f)))
        return true;
    return n >= 4 && !memcmp(h, "\177ELF", 4);     /* btf__parse reads .BTF of an ELF file */
}

/* sysfs gives /sys/kernel/btf/vmlinux a new inode and mtime at every boot,
 * which would throw the cache away with each reboot. The running kernel's
 * GNU build id (in /sys/kernel/notes) names its build exactly: with the
 * BTF's size and head hash it replaces inode and mtime in the identity. */
static void use_build_id(void)
{
    unsigned char notes[4096];
    int fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, notes, sizeof notes) : -1;
    if (fd >= 0)
        close(fd);
    if (n < 16 || !memmem(notes, (size_t)n, "GNU", 4))
        return;
    K.id.dev = K.id.ino = 0;
    K.id.mtime_s = 0;
    K.id.mtime_ns = (int64_t)hash_bytes(2, notes, (size_t)n);
}

/* Identifies the file (for the cache) without reading more than 4 KiB. */
static bool identify(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (K.explicit_path)
            btf_error("cannot open the BTF file '%s': %s", path, strerror(errno));
        return false;
    }
    unsigned char head[4096];
    ssize_t n = read(fd, head, sizeof head);
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && looks_like_btf(head, n);
    close(fd);
    if (!ok) {
        btf_error("'%s' is not a BTF file%s", path, "");
        return false;
    }
    K.id = (Ident){ (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                    st.st_mtim.tv_sec, st.st_mtim.tv_nsec, hash_bytes(1, head, (size_t)n) };
    if (!strcmp(path, DEFAULT_BTF))
        use_build_id();
    return true;
}

static void open_source(void)
{
    if (K.mode != M_UNOPENED)
        return;
    if (!K.configured)
        kbtf_set_path(NULL);
    K.mode = M_FALLBACK;
    if (!K.path || !identify(K.path))
        return;
    K.mode = M_BTF;
    char *file = cache_file_for(K.path, &K.id, false);
    if (file)
        cache_load(&K.cache, file, &K.id);
    free(file);
}

static int type_rank(const struct btf_type *t)
{
    switch (btf_kind(t)) {
    case BTF_KIND_STRUCT: return 4;
    case BTF_KIND_UNION: return 3;
    case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return 2;
    case BTF_KIND_TYPEDEF: return 1;
    default: return 0;
    }
}

static void index_enumerators(const struct btf_type *t, uint32_t id)
{
    for (int i = 0; i < btf_vlen(t); i++) {
        uint32_t off = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
        const char *n = btf__name_by_offset(K.vml, off);
        if (n && *n && !namemap_get(&K.vnames, n, NC_ENUMVAL))
            namemap_put(&K.vnames, n, NC_ENUMVAL, id);
    }
}

/* One name, by a linear pass over kernel BTF (about 1 ms): cheaper than
 * the whole index while a run has only a few misses. */
static uint32_t scan_name(const char *name, int cls)
{
    uint32_t cnt = btf__type_cnt(K.vml), best = 0;
    int best_rank = 0;
    for (uint32_t id = 1; id < cnt; id++) {
        const struct btf_type *t = btf__type_by_id(K.vml, id);
        if (cls == NC_ENUMVAL) {
            for (int i = 0; btf_is_any_enum(t) && i < btf_vlen(t); i++) {
                uint32_t off = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
                const char *n = btf__name_by_offset(K.vml, off);
                if (n && !strcmp(n, name))
                    return id;
            }
            continue;
        }
        int rank = cls == NC_FUNC ? btf_is_func(t) : type_rank(t);
        const char *n = rank > best_rank && t->name_off ? btf__name_by_offset(K.vml, t->name_off) : NULL;
        if (!n || strcmp(n, name))
            continue;
        if (cls == NC_FUNC)
            return id;
        best = id;
        best_rank = rank;
        if (rank == 4)          /* a struct: nothing ranks higher */
            break;
    }
    return best;
}

/* One pass over kernel BTF: every type, function and enumerator name. A
 * name that is both a struct and a typedef means the struct (C's `struct
 * x` wins over `typedef ... x` as ksc has one namespace); else the first. */
static void index_vmlinux(void)
{
    uint32_t cnt = btf__type_cnt(K.vml);
    K.vnames = (NameMap){ 0 };
    namemap_reserve(&K.vnames, cnt);
    for (uint32_t id = 1; id < cnt; id++) {
        const struct btf_type *t = btf__type_by_id(K.vml, id);
        const char *n = btf__name_by_offset(K.vml, t->name_off);
        int rank = type_rank(t);
        if (rank && n && *n) {
            NameEnt *e = namemap_get(&K.vnames, n, NC_TYPE);
            if (!e || rank > e->rank) {
                e = e ? e : namemap_put(&K.vnames, n, NC_TYPE, id);
                e->vid = id;
                e->rank = (uint8_t)rank;
            }
        } else if (btf_is_func(t) && n && *n && !namemap_get(&K.vnames, n, NC_FUNC)) {
            namemap_put(&K.vnames, n, NC_FUNC, id);
        }
        if (btf_is_any_enum(t))
            index_enumerators(t, id);
    }
}

static bool name_ok(const struct btf *b, uint32_t off)
{
    return btf__name_by_offset(b, off) != NULL;
}

static bool ids_ok(const struct btf_type *t, uint32_t cnt)
{
    switch (btf_kind(t)) {
    case BTF_KIND_ARRAY:
        return btf_array(t)->type < cnt && btf_array(t)->index_type < cnt;
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        for (int i = 0; i < btf_vlen(t); i++)
            if (btf_members(t)[i].type >= cnt)
                return false;
        return true;
    case BTF_KIND_FUNC_PROTO:
        for (int i = 0; i < btf_vlen(t); i++)
            if (btf_params(t)[i].type >= cnt)
                return false;
        return t->type < cnt;
    case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC: case BTF_KIND_VAR:
    case BTF_KIND_DECL_TAG:
        return t->type < cnt;
    default:
        return true;
    }
}

static bool names_ok(const struct btf *b, const struct btf_type *t)
{
    if (!name_ok(b, t->name_off))
        return false;
    for (int i = 0; btf_is_composite(t) && i < btf_vlen(t); i++)
        if (!name_ok(b, btf_members(t)[i].name_off))
            return false;
    for (int i = 0; btf_is_func_proto(t) && i < btf_vlen(t); i++)
        if (!name_ok(b, btf_params(t)[i].name_off))
            return false;
    for (int i = 0; btf_is_any_enum(t) && i < btf_vlen(t); i++)
        if (!name_ok(b, btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off))
            return false;
    return true;
}

/* libbpf 1.1 parses a BTF file without checking that its type ids and
 * name offsets point anywhere; the kernel's own BTF is checked by the
 * kernel, but a --btf file is checked here, once, before use. */
static bool btf_valid(const struct btf *b)
{
    uint32_t cnt = btf__type_cnt(b);
    for (uint32_t id = 1; id < cnt; id++) {
        const struct btf_type *t = btf__type_by_id(b, id);
        if (!t || !ids_ok(t, cnt) || !names_ok(b, t))
            return false;
    }
    return true;
}

/* The whole kernel BTF, parsed once per process and only on a miss. */
static bool ensure_vml(void)
{
    if (K.vml)
        return true;
    if (K.vml_failed || K.mode != M_BTF)
        return false;
    parse_count++;
    libbpf_print_fn_t old = libbpf_set_print(NULL);
    K.vml = btf__parse(K.path, NULL);
    int err = errno;
    libbpf_set_print(old);
    if (K.vml && K.explicit_path && !btf_valid(K.vml)) {
        btf__free(K.vml);
        K.vml = NULL;
        err = EINVAL;
    }
    if (!K.vml) {
        K.vml_failed = true;
        K.mode = M_FALLBACK;
        btf_error("cannot read kernel BTF from '%s': %s", K.path, strerror(err));
        return false;
    }
    return true;
}

/* A name in kernel BTF: the first few by scanning, then by an index. */
static uint32_t vml_find(const char *name, int cls)
{
    if (!K.vnames.cap && K.scans < SCAN_LIMIT) {
        K.scans++;
        return scan_name(name, cls);
    }
    if (!K.vnames.cap)
        index_vmlinux();
    NameEnt *e = namemap_get(&K.vnames, name, cls);
    return e ? e->vid : 0;
}

static void mark_dirty(void)
{
    K.dirty = true;
    if (!atexit_set) {
        atexit(kbtf_flush);
        atexit_set = true;
    }
}

/* The kernel id of (name, class), 0 when the kernel has no such name;
 * false when there is no kernel BTF to ask (the built-in set answers). */
static bool lookup(const char *name, int cls, uint32_t *vid)
{
    open_source();
    if (K.mode != M_BTF)
        return false;
    if (cache_find(&K.cache, name, cls, vid))
        return true;
    if (!ensure_vml())
        return false;
    *vid = vml_find(name, cls);
    if (*vid || K.absent++ < MAX_ABSENT) {
        namemap_put(&K.cache.index, name, cls, *vid);
        mark_dirty();
    }
    return true;
}

/* Is kernel id vid in the cache with its members? */
static bool cached_full(uint32_t vid)
{
    uint32_t local = (uint32_t)idmap_get(&K.cache.vmap, vid);
    return local && local < K.cache.nside && !(K.cache.side[local].flags & SIDE_SHELL);
}

/* The BTF type with kernel id vid: from the cache while kernel BTF is not
 * parsed and the cache has it (with members, if `full`), else from kernel
 * BTF, parsing it now if need be. NULL if neither has it. */
static const struct btf_type *fetch(uint32_t vid, bool full, Src *src)
{
    if (!K.vml && K.cache.mini) {
        uint32_t local = (uint32_t)idmap_get(&K.cache.vmap, vid);
        if (local && local < K.cache.nside && !(full && (K.cache.side[local].flags & SIDE_SHELL))) {
            *src = (Src){ K.cache.mini, K.cache.side, K.cache.nside, local };
            return btf__type_by_id(K.cache.mini, local);
        }
    }
    if (!ensure_vml())
        return NULL;
    *src = (Src){ K.vml, NULL, 0, vid };
    return btf__type_by_id(K.vml, vid);
}

/* ---- conversion to ksc Types ----------------------------------------- */

static Type *conv(uint32_t vid, int ctx, int depth);
static void fill_members(Type *t, int depth);

/* Bytes standing for a type ksc cannot spell (__int128, float). */
static Type *opaque_bytes(uint32_t size)
{
    Type *t = array_of(ty_u8, size);
    t->align = size == 2 || size == 4 || size == 8 || size == 16 ? (int)size : 1;
    return t;
}

static Type *conv_int(const struct btf_type *bt, const Src *s)
{
    int enc = btf_int_encoding(bt);
    const char *name = src_name(s, bt->name_off);
    if (enc & BTF_INT_BOOL)
        return ty_bool;
    if (bt->size == 1 && name && !strcmp(name, "char"))
        return ty_char;
    if (bt->size == 1 || bt->size == 2 || bt->size == 4 || bt->size == 8)
        return int_type((int)bt->size, enc & BTF_INT_SIGNED);
    return opaque_bytes(bt->size);
}

static Type *conv_enum(uint32_t vid, const struct btf_type *bt, const Src *s)
{
    int size = bt->size == 1 || bt->size == 2 || bt->size == 8 ? (int)bt->size : 4;
    Type *t = new_type(TY_ENUM, size, size);
    t->name = src_name(s, bt->name_off) ? xstrdup(src_name(s, bt->name_off)) : NULL;
    t->kernel = true;
    t->kbtf_id = (int)vid;
    t->rstate = 2;
    t->is_signed = btf_kflag(bt);
    int n = btf_vlen(bt);
    t->vals = xalloc(sizeof(EnumVal) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        EnumVal *v = &t->vals[i];
        if (btf_is_enum(bt)) {
            const struct btf_enum *e = &btf_enum(bt)[i];
            v->name = xstrdup(src_name(s, e->name_off) ? src_name(s, e->name_off) : "");
            v->val = t->is_signed ? (i128)e->val : (i128)(uint32_t)e->val;
        } else {
            const struct btf_enum64 *e = &btf_enum64(bt)[i];
            v->name = xstrdup(src_name(s, e->name_off) ? src_name(s, e->name_off) : "");
            uint64_t u = btf_enum64_value(e);
            v->val = t->is_signed ? (i128)(int64_t)u : (i128)u;
        }
    }
    t->nvals = n;
    return t;
}

static Type *conv_struct(uint32_t vid, const struct btf_type *bt, const Src *s, int ctx, int depth)
{
    int align = s->side ? s->side[s->local].align : btf_align(s->btf, s->local, &K.aligns, 0);
    Type *t = new_type(btf_is_union(bt) ? TY_UNION : TY_STRUCT,
                       bt->size > 0x7fffffff ? 0x7fffffff : (int)bt->size, align > 0 ? align : 1);
    t->name = src_name(s, bt->name_off) ? xstrdup(src_name(s, bt->name_off)) : NULL;
    t->kernel = true;
    t->kbtf_id = (int)vid;
    t->rstate = 2;              /* laid out already: the checker must not redo it */
    t->incomplete = true;
    idmap_put(&K.memo, vid, (uintptr_t)t);    /* before the members: they may point back */
    if (ctx == CTX_EMBED)
        fill_members(t, depth);
    return t;
}

/* A forward declaration means the definition of that name, if any (the
 * cache resolved its own FWDs when it was built). */
static Type *conv_fwd(const struct btf_type *bt, const Src *s, int ctx, int depth)
{
    const char *name = src_name(s, bt->name_off);
    int kind = btf_kflag(bt) ? BTF_KIND_UNION : BTF_KIND_STRUCT;
    int id = name && !s->side ? btf__find_by_name_kind(s->btf, name, kind) : -1;
    if (id > 0)
        return conv((uint32_t)id, ctx, depth + 1);
    Type *t = new_type(btf_kflag(bt) ? TY_UNION : TY_STRUCT, 0, 1);
    t->name = name ? xstrdup(name) : NULL;
    t->kernel = true;
    t->rstate = 2;
    return t;
}

/* A FUNC_PROTO as a TY_FUNC; parameter names into *names when asked
 * ("argN" where BTF has none, as for function pointers). A C variadic
 * prototype keeps its fixed parameters. */
static Type *conv_proto(const struct btf_type *bt, const Src *s, const char ***names, int depth)
{
    int n = btf_vlen(bt);
    const struct btf_param *p = btf_params(bt);
    if (n && !p[n - 1].type)
        n--;
    Type **ps = xalloc(sizeof(Type *) * (size_t)(n ? n : 1));
    const char **nm = xalloc(sizeof(char *) * (size_t)(n + 1));
    for (int i = 0; i < n; i++) {
        const char *pn = src_name(s, p[i].name_off);
        nm[i] = pn ? xstrdup(pn) : xfmt("arg%d", i);
        ps[i] = conv(src_vid(s, p[i].type), CTX_POINTEE, depth + 1);
    }
    Type *ret = conv(src_vid(s, bt->type), CTX_POINTEE, depth + 1);
    if (names)
        *names = nm;
    return func_type(ret, ps, n);
}

static Type *conv_typedef(const struct btf_type *bt, const Src *s, int ctx, int depth)
{
    Type *t = conv(src_vid(s, bt->type), ctx, depth + 1);
    const char *name = src_name(s, bt->name_off);
    bool named_kind = t->kind == TY_STRUCT || t->kind == TY_UNION || t->kind == TY_ENUM;
    if (named_kind && !t->name && name && t->kernel)   /* typedef struct { ... } atomic_t */
        t->name = xstrdup(name);
    return t;
}

static Type *conv_kind(uint32_t vid, const struct btf_type *bt, const Src *s, int ctx, int depth)
{
    switch (btf_kind(bt)) {
    case BTF_KIND_INT:
        return conv_int(bt, s);
    case BTF_KIND_PTR:
        return pointer_to(conv(src_vid(s, bt->type), CTX_POINTEE, depth + 1));
    case BTF_KIND_ARRAY: {
        const struct btf_array *a = btf_array(bt);
        return array_of(conv(src_vid(s, a->type), ctx, depth + 1), (long)a->nelems);
    }
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        return conv_struct(vid, bt, s, ctx, depth);
    case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
        return conv_enum(vid, bt, s);
    case BTF_KIND_FWD:
        return conv_fwd(bt, s, ctx, depth);
    case BTF_KIND_TYPEDEF:
        return conv_typedef(bt, s, ctx, depth);
    case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC:
        return conv(src_vid(s, bt->type), ctx, depth + 1);
    case BTF_KIND_FUNC_PROTO:
        return conv_proto(bt, s, NULL, depth);
    case BTF_KIND_FLOAT:
        return opaque_bytes(bt->size);
    default:
        return ty_void;
    }
}

/* A type that is embedded by value needs its members, also when it was
 * first met behind a pointer. */
static void ensure_embedded(Type *t, int depth)
{
    while (t->kind == TY_ARRAY && t->base)
        t = t->base;
    if ((t->kind == TY_STRUCT || t->kind == TY_UNION) && t->incomplete)
        fill_members(t, depth);
}

static Type *conv(uint32_t vid, int ctx, int depth)
{
    if (!vid)
        return ty_void;
    Type *t = (Type *)idmap_get(&K.memo, vid);
    if (t) {
        if (ctx == CTX_EMBED && depth < MAX_DEPTH)
            ensure_embedded(t, depth);
        return t;
    }
    Src s;
    const struct btf_type *bt = depth < MAX_DEPTH ? fetch(vid, false, &s) : NULL;
    if (!bt)
        return ty_void;
    t = conv_kind(vid, bt, &s, ctx, depth);
    idmap_put(&K.memo, vid, (uintptr_t)t);
    return t;
}

/* Bitfields: the naturally aligned storage unit of the declared type that
 * holds the field, and the field's bits inside it (little-endian), so that
 * `ip->ihl` is a u8 load at offset 0 and a mask. A field that straddles
 * its natural unit (packed structs) gets the smallest integer from its
 * first byte instead. */
static void place_member(Member *d, uint32_t bitoff, uint32_t bitsz)
{
    if (!bitsz) {
        d->offset = (int)(bitoff / 8);
        return;
    }
    uint32_t unit = d->ty->size >= 1 && d->ty->size <= 8 ? (uint32_t)d->ty->size * 8 : 8;
    uint32_t start = bitoff / unit * unit;
    if (bitoff - start + bitsz > unit) {
        start = bitoff / 8 * 8;
        uint32_t need = bitoff - start + bitsz;
        int bytes = need <= 8 ? 1 : need <= 16 ? 2 : need <= 32 ? 4 : 8;
        d->ty = int_type(bytes, d->ty->is_signed);
        if (bitsz > 64 - (bitoff - start))
            bitsz = 64 - (bitoff - start);
    }
    d->offset = (int)(start / 8);
    d->bit_off = (int)(bitoff - start);
    d->bit_size = (int)bitsz;
}

static void fill_members(Type *t, int depth)
{
    t->incomplete = false;          /* first: a corrupt BTF may nest t in itself */
    Src s;
    const struct btf_type *bt = t->kbtf_id ? fetch((uint32_t)t->kbtf_id, true, &s) : NULL;
    if (!bt || !btf_is_composite(bt))
        return;
    int n = btf_vlen(bt);
    Member *ms = xalloc(sizeof(Member) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        const struct btf_member *m = &btf_members(bt)[i];
        const char *name = src_name(&s, m->name_off);
        ms[i].name = name ? xstrdup(name) : NULL;
        ms[i].ty = conv(src_vid(&s, m->type), CTX_EMBED, depth + 1);
        place_member(&ms[i], btf_member_bit_offset(bt, (uint32_t)i), btf_member_bitfield_size(bt, (uint32_t)i));
    }
    t->members = ms;
    t->nmembers = n;
}

/* ---- the interface ---------------------------------------------------- */

static void drop_source(void)
{
    kbtf_flush();
    cache_free(&K.cache);
    btf__free(K.vml);
    namemap_free(&K.vnames);
    idmap_free(&K.memo);
    idmap_free(&K.aligns);
    free(K.path);
    memset(&K, 0, sizeof K);
    K.cache.index.owns = true;
}

void kbtf_set_path(const char *path)
{
    bool expl = path != NULL;
    const char *p = !path ? DEFAULT_BTF : !strcmp(path, "none") ? NULL : path;
    bool same = p && K.path ? !strcmp(p, K.path) : p == K.path;
    if (K.configured && same && K.explicit_path == expl)
        return;
    drop_source();
    K.path = p ? strdup(p) : NULL;
    K.explicit_path = expl;
    K.configured = true;
}

void kbtf_set_cache_dir(const char *dir)
{
    kbtf_flush();
    cache_set_dir(dir);
}

Type *kernel_type(const char *name)
{
    uint32_t vid;
    if (!name || !*name)
        return NULL;
    if (lookup(name, NC_TYPE, &vid))
        return vid ? conv(vid, CTX_EMBED, 0) : NULL;
    return builtin_kernel_type(name);
}

bool kernel_enum_value(const char *name, i128 *val, Type **enum_ty)
{
    uint32_t vid;
    if (!name || !*name)
        return false;
    if (!lookup(name, NC_ENUMVAL, &vid))
        return builtin_enum_value(name, val, enum_ty);
    Type *t = vid ? conv(vid, CTX_EMBED, 0) : NULL;
    for (int i = 0; t && t->kind == TY_ENUM && i < t->nvals; i++) {
        if (!strcmp(t->vals[i].name, name)) {
            if (val)
                *val = t->vals[i].val;
            if (enum_ty)
                *enum_ty = t;
            return true;
        }
    }
    return false;
}

void kernel_complete(Type *t)
{
    if (!t || !t->incomplete)
        return;
    uint32_t vid = (uint32_t)t->kbtf_id;
    /* A shell from a BTF file read before kbtf_set_path changed it has an
     * id that means something else now (a copy of a shell is fine). */
    Type *known = (Type *)idmap_get(&K.memo, vid);
    bool same = known == t || (known && known->kind == t->kind && known->size == t->size
                               && (known->name ? t->name && !strcmp(known->name, t->name) : !t->name));
    if (!same) {
        t->incomplete = false;
        return;
    }
    /* Remember it, so that the next run finds it in the cache complete. */
    if (vid && K.mode == M_BTF && !cached_full(vid) && cache_add_root(&K.cache, vid))
        mark_dirty();
    fill_members(t, 0);
}

/* Skips typedefs and qualifiers. */
static const struct btf_type *strip(uint32_t *vid, Src *s)
{
    for (int i = 0; i < MAX_DEPTH; i++) {
        const struct btf_type *t = fetch(*vid, false, s);
        if (!t || !(btf_is_typedef(t) || btf_is_mod(t) || btf_is_type_tag(t)))
            return t;
        *vid = src_vid(s, t->type);
    }
    return NULL;
}

Type *kernel_func(const char *name, const char ***names)
{
    uint32_t vid;
    if (!name || !*name || !lookup(name, NC_FUNC, &vid) || !vid)
        return NULL;
    Src s;
    const struct btf_type *f = fetch(vid, false, &s);
    if (!f || !btf_is_func(f))
        return NULL;
    uint32_t pv = src_vid(&s, f->type);
    const struct btf_type *p = fetch(pv, false, &s);
    return p && btf_is_func_proto(p) ? conv_proto(p, &s, names, 0) : NULL;
}

/* The kernel id of member `name` of the struct with kernel id sid,
 * looking through anonymous members; 0 if there is none. */
static uint32_t member_vid(uint32_t sid, const char *name, int depth)
{
    Src s;
    const struct btf_type *t = depth < MAX_DEPTH ? strip(&sid, &s) : NULL;
    if (t && btf_is_composite(t) && s.side && (s.side[s.local].flags & SIDE_SHELL))
        t = fetch(sid, true, &s);
    if (!t || !btf_is_composite(t))
        return 0;
    for (int i = 0; i < btf_vlen(t); i++) {
        const struct btf_member *m = &btf_members(t)[i];
        const char *mn = src_name(&s, m->name_off);
        if (mn && !strcmp(mn, name))
            return src_vid(&s, m->type);
    }
    for (int i = 0; i < btf_vlen(t); i++) {
        const struct btf_member *m = &btf_members(t)[i];
        uint32_t r = src_name(&s, m->name_off) ? 0 : member_vid(src_vid(&s, m->type), name, depth + 1);
        if (r)
            return r;
    }
    return 0;
}

Type *kernel_member_func(Type *st, const char *member, const char ***names)
{
    if (!st || !member || !st->kernel || !st->kbtf_id)
        return NULL;
    open_source();
    if (K.mode != M_BTF)
        return NULL;
    uint32_t vid = member_vid((uint32_t)st->kbtf_id, member, 0);
    Src s;
    const struct btf_type *t = vid ? strip(&vid, &s) : NULL;
    if (!t || !btf_is_ptr(t))
        return NULL;
    vid = src_vid(&s, t->type);
    t = strip(&vid, &s);
    return t && btf_is_func_proto(t) ? conv_proto(t, &s, names, 0) : NULL;
}

/* Are two FUNC_PROTOs of kernel BTF the same (deduplicated BTF gives
 * equal types equal ids)? */
static bool same_proto(const struct btf_type *a, const struct btf_type *b)
{
    if (!a || !b || !btf_is_func_proto(a) || !btf_is_func_proto(b) || btf_vlen(a) != btf_vlen(b)
        || a->type != b->type)
        return false;
    for (int i = 0; i < btf_vlen(a); i++)
        if (btf_params(a)[i].type != btf_params(b)[i].type)
            return false;
    return true;
}

int kbtf_trace_templates(const char *event, const char **out, int max)
{
    uint32_t vid;
    if (!lookup(xfmt("btf_trace_%s", event), NC_TYPE, &vid) || !vid || !ensure_vml())
        return 0;
    Src s;
    const struct btf_type *t = strip(&vid, &s);         /* typedef -> pointer */
    vid = t && btf_is_ptr(t) ? t->type : 0;
    const struct btf_type *want = vid ? strip(&vid, &s) : NULL;
    int n = 0;
    uint32_t cnt = btf__type_cnt(K.vml);
    for (uint32_t id = 1; want && id < cnt && n < max; id++) {
        const struct btf_type *f = btf__type_by_id(K.vml, id);
        const char *name = btf_is_func(f) ? btf__name_by_offset(K.vml, f->name_off) : NULL;
        if (!name || strncmp(name, "__bpf_trace_", 12)
            || !same_proto(want, btf__type_by_id(K.vml, f->type)))
            continue;
        if (btf__find_by_name_kind(K.vml, xfmt("trace_event_raw_%s", name + 12), BTF_KIND_STRUCT) > 0)
            out[n++] = xstrdup(name + 12);
    }
    return n;
}

bool kbtf_available(void)
{
    open_source();
    return K.mode == M_BTF;
}

int kbtf_parse_count(void) { return parse_count; }

/* Also registered with atexit: by then the arena may be gone, so this
 * touches only malloc'ed state. */
void kbtf_flush(void)
{
    if (!K.dirty || !K.vml || !K.path)
        return;
    K.dirty = false;
    char *file = cache_file_for(K.path, &K.id, true);
    if (!file)
        return;
    /* Writers take turns, so that one ksc's new names are merged into the
     * next one's file rather than lost; readers need no lock (rename). */
    char *lock = NULL;
    int fd = asprintf(&lock, "%s.lock", file) < 0 ? -1 : open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        flock(fd, LOCK_EX);
    cache_merge_file(&K.cache, file, &K.id);
    if (cache_write(&K.cache, file, &K.id, K.vml))
        cache_remove_stale(file);
    if (fd >= 0)
        close(fd);
    free(lock);
    free(file);
}

void kbtf_reset(void)
{
    drop_source();
    builtin_reset();
    cache_set_dir(NULL);
}
