/* The per-kernel cache of kernel types.
 *
 * Parsing all of vmlinux BTF costs 10-40 ms, many times a whole compile, so
 * the types a program used are kept in a small file per BTF file: a BTF blob
 * holding just those types (and what they refer to, with structs that are
 * only pointed to cut down to sized shells), a table from its ids back to
 * the kernel's, and an index of every name looked up, including names the
 * kernel does not have. The file is named after the BTF file's identity
 * (device, inode, size, mtime, hash of its first 4 KiB), carries that
 * identity and a checksum, and is replaced atomically (temporary file +
 * rename), so a reader never sees a torn or stale file; anything that does
 * not check out is ignored and rebuilt.
 *
 * Also here: the small hash maps the reader uses. */
#include "btf/kbtf_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

/* ---- hashing ----------------------------------------------------------- */

/* Word-at-a-time multiplicative hash: the checksum runs over the whole
 * cache file on every compile, so it must cost microseconds. */
uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * k;
        h ^= h >> 29;
    }
    for (; n; s++, n--)
        h = ((h ^ *s) * k) ^ (h >> 31);
    return h ^ (h >> 32);
}

static uint32_t hash_name(const char *s, int cls)
{
    uint32_t h = 2166136261u ^ (uint32_t)cls;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void *xmalloc0(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        fatal("out of memory");
    return p;
}

/* ---- IdMap --------------------------------------------------------------- */

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    return x;
}

uintptr_t idmap_get(const IdMap *m, uint32_t key)
{
    if (!m->cap || !key)
        return 0;
    for (uint32_t i = mix32(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key)
            return m->vals[i];
        if (!m->keys[i])
            return 0;
    }
}

static void idmap_grow(IdMap *m)
{
    IdMap n = { .cap = m->cap ? m->cap * 2 : 64 };
    n.keys = xmalloc0(sizeof *n.keys * n.cap);
    n.vals = xmalloc0(sizeof *n.vals * n.cap);
    for (uint32_t i = 0; i < m->cap; i++)
        if (m->keys[i])
            idmap_put(&n, m->keys[i], m->vals[i]);
    idmap_free(m);
    *m = n;
}

void idmap_put(IdMap *m, uint32_t key, uintptr_t val)
{
    if (!key)
        return;
    if ((m->n + 1) * 4 > m->cap * 3)
        idmap_grow(m);
    for (uint32_t i = mix32(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return;
        }
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->vals[i] = val;
            m->n++;
            return;
        }
    }
}

void idmap_free(IdMap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- NameMap ------------------------------------------------------------- */

NameEnt *namemap_get(const NameMap *m, const char *name, int cls)
{
    if (!m->cap)
        return NULL;
    uint32_t h = hash_name(name, cls);
    for (uint32_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        NameEnt *e = &m->ents[i];
        if (!e->name)
            return NULL;
        if (e->hash == h && e->cls == cls && !strcmp(e->name, name))
            return e;
    }
}

static void namemap_grow(NameMap *m)
{
    uint32_t cap = m->cap ? m->cap * 2 : 64;
    NameEnt *ents = xmalloc0(sizeof *ents * cap);
    for (uint32_t i = 0; i < m->cap; i++) {
        NameEnt *e = &m->ents[i];
        if (!e->name)
            continue;
        uint32_t j = e->hash & (cap - 1);
        while (ents[j].name)
            j = (j + 1) & (cap - 1);
        ents[j] = *e;
    }
    free(m->ents);
    m->ents = ents;
    m->cap = cap;
}

void namemap_reserve(NameMap *m, uint32_t n)
{
    while (n * 10 > m->cap * 7)
        namemap_grow(m);
}

NameEnt *namemap_put(NameMap *m, const char *name, int cls, uint32_t vid)
{
    NameEnt *e = namemap_get(m, name, cls);
    if (e) {
        e->vid = vid;
        return e;
    }
    if ((m->n + 1) * 10 > m->cap * 7)
        namemap_grow(m);
    uint32_t h = hash_name(name, cls);
    uint32_t i = h & (m->cap - 1);
    while (m->ents[i].name)
        i = (i + 1) & (m->cap - 1);
    e = &m->ents[i];
    e->name = m->owns ? strdup(name) : name;
    if (!e->name)
        fatal("out of memory");
    e->hash = h;
    e->cls = (uint8_t)cls;
    e->vid = vid;
    m->n++;
    return e;
}

void namemap_free(NameMap *m)
{
    if (m->owns)
        for (uint32_t i = 0; i < m->cap; i++)
            free((char *)m->ents[i].name);
    free(m->ents);
    bool owns = m->owns;
    memset(m, 0, sizeof *m);
    m->owns = owns;
}

void vid_push(VidVec *v, uint32_t x)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = realloc(v->v, sizeof *v->v * v->cap);
        if (!v->v)
            fatal("out of memory");
    }
    v->v[v->n++] = x;
}

void cache_free(Cache *c)
{
    btf__free(c->mini);
    free(c->side);
    idmap_free(&c->vmap);
    namemap_free(&c->index);
    free(c->roots.v);
    idmap_free(&c->root_set);
    free(c->strs);
    free(c->names);
    memset(c, 0, sizeof *c);
    c->index.owns = true;
}

bool cache_add_root(Cache *c, uint32_t vid)
{
    if (!vid || idmap_get(&c->root_set, vid))
        return false;
    idmap_put(&c->root_set, vid, 1);
    vid_push(&c->roots, vid);
    return true;
}

/* ---- the cache directory ------------------------------------------------ */

static char *dir_opt;
static bool dir_opt_set;

void cache_set_dir(const char *dir)
{
    free(dir_opt);
    dir_opt = dir ? strdup(dir) : NULL;
    dir_opt_set = dir != NULL;
}

/* A directory under /tmp is shared with other users: use it only if it is
 * ours and nobody else can write into it, or a planted file could make ksc
 * lay out kernel structs wrong. */
static bool dir_ok(const char *dir, bool private_tmp)
{
    struct stat st;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return false;
    if (private_tmp && (st.st_uid != geteuid() || (st.st_mode & 022)))
        return false;
    return access(dir, W_OK | X_OK) == 0;
}

static bool make_dir(const char *dir, bool private_tmp)
{
    if (dir_ok(dir, private_tmp))
        return true;
    char *tmp = strdup(dir);
    if (!tmp)
        return false;
    /* parents first (~/.cache may not exist yet) */
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        mkdir(tmp, 0700);
        *s = '/';
    }
    free(tmp);
    mkdir(dir, 0700);
    return dir_ok(dir, private_tmp);
}

static char *pick_dir(bool create)
{
    const char *forced = dir_opt_set ? dir_opt : getenv("KSC_CACHE_DIR");
    if (forced && *forced) {
        if (!strcmp(forced, "none"))
            return NULL;
        return (create ? make_dir(forced, false) : dir_ok(forced, false)) ? strdup(forced) : NULL;
    }
    char *cand[3] = { 0 };
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/' && asprintf(&cand[0], "%s/ksc", xdg) < 0)
        cand[0] = NULL;
    if (home && home[0] == '/' && asprintf(&cand[1], "%s/.cache/ksc", home) < 0)
        cand[1] = NULL;
    if (asprintf(&cand[2], "/tmp/ksc-cache-%u", (unsigned)geteuid()) < 0)
        cand[2] = NULL;
    char *found = NULL;
    for (int i = 0; i < 3; i++) {
        if (!found && cand[i] && (create ? make_dir(cand[i], i == 2) : dir_ok(cand[i], i == 2)))
            found = cand[i];
        else
            free(cand[i]);
    }
    return found;
}

char *cache_file_for(const char *btf_path, const Ident *id, bool create)
{
    char *dir = pick_dir(create);
    if (!dir)
        return NULL;
    char *file;
    uint32_t ph = hash_name(btf_path, 0);
    unsigned long long ih = (unsigned long long)hash_bytes(7, id, sizeof *id);
    if (asprintf(&file, "%s/btf-%08x-%016llx.cache", dir, ph, ih) < 0)
        file = NULL;
    free(dir);
    return file;
}

/* Caches for the same BTF path but another kernel: those of earlier
 * kernels are dead weight, but a home directory shared by machines with
 * different kernels holds live ones too. So the newest few stay. */
#define KEEP_OTHERS 3

typedef struct Old { char *path; time_t mtime; } Old;

static int newest_first(const void *a, const void *b)
{
    const Old *x = a, *y = b;
    return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

void cache_remove_stale(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *dir = slash ? strndup(file, (size_t)(slash - file)) : NULL;
    DIR *d = dir ? opendir(dir) : NULL;
    const char *base = slash ? slash + 1 : "";
    size_t plen = strlen("btf-00000000-"), blen = strlen(base);
    Old olds[64];
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && n < 64) {
        struct stat st;
        char *p;
        if (strlen(de->d_name) != blen || strncmp(de->d_name, base, plen) || !strcmp(de->d_name, base))
            continue;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            continue;
        if (stat(p, &st) == 0)
            olds[n++] = (Old){ p, st.st_mtime };
        else
            free(p);
    }
    qsort(olds, (size_t)n, sizeof *olds, newest_first);
    for (int i = 0; i < n; i++) {
        if (i >= KEEP_OTHERS) {
            char *lock;
            unlink(olds[i].path);
            if (asprintf(&lock, "%s.lock", olds[i].path) >= 0) {
                unlink(lock);
                free(lock);
            }
        }
        free(olds[i].path);
    }
    if (d)
        closedir(d);
    free(dir);
}

/* ---- the file format -------------------------------------------------- */

#define CACHE_MAGIC "ksc-btf\n"
#define CACHE_VERSION 2     /* 2: names sorted by (class, name) */
#define MAX_CACHE (64u << 20)

/* Native byte order and layout: a cache never leaves the machine. */
typedef struct FileHdr {
    char magic[8];
    uint32_t version, hdr_size;
    Ident id;
    uint64_t checksum;          /* of the whole file, this field zeroed */
    uint32_t total;             /* file size */
    uint32_t btf_len, nside, nnames, strs_len, nroots;
} FileHdr;

typedef struct FileName { uint32_t str, vid, cls; } FileName;

static int name_cmp(int ca, const char *a, int cb, const char *b)
{
    return ca != cb ? ca - cb : strcmp(a, b);
}

/* Section offsets follow from the lengths; each starts 8-aligned. */
typedef struct Layout { size_t btf, side, names, strs, roots, end; } Layout;

static size_t up8(size_t n) { return (n + 7) & ~(size_t)7; }

static Layout layout_of(const FileHdr *h)
{
    Layout l;
    l.btf = up8(sizeof(FileHdr));
    l.side = l.btf + up8(h->btf_len);
    l.names = l.side + up8((size_t)h->nside * sizeof(Side));
    l.strs = l.names + up8((size_t)h->nnames * sizeof(FileName));
    l.roots = l.strs + up8(h->strs_len);
    l.end = l.roots + up8((size_t)h->nroots * 4);
    return l;
}

static uint64_t file_checksum(const unsigned char *buf, size_t len)
{
    FileHdr h;
    memcpy(&h, buf, sizeof h);
    h.checksum = 0;
    uint64_t s = hash_bytes(0x6b7363, &h, sizeof h);
    return hash_bytes(s, buf + sizeof h, len - sizeof h);
}

static unsigned char *slurp(const char *file, size_t *len)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)sizeof(FileHdr)
        && st.st_size <= (off_t)MAX_CACHE)
        buf = malloc((size_t)st.st_size);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (buf && got != (size_t)st.st_size) {
        free(buf);
        return NULL;
    }
    *len = got;
    return buf;
}

static bool header_ok(const unsigned char *buf, size_t len, const Ident *id, FileHdr *h)
{
    memcpy(h, buf, sizeof *h);
    if (memcmp(h->magic, CACHE_MAGIC, 8) || h->version != CACHE_VERSION
        || h->hdr_size != sizeof(FileHdr) || h->total != len || memcmp(&h->id, id, sizeof *id))
        return false;
    if (h->nside > MAX_CACHE || h->nnames > MAX_CACHE || h->nroots > MAX_CACHE
        || h->btf_len > MAX_CACHE || h->strs_len > MAX_CACHE)
        return false;
    if (layout_of(h).end != len)
        return false;
    return file_checksum(buf, len) == h->checksum;
}

/* The names and roots of a checked file, into c. The names are written
 * sorted, so a lookup is a binary search over them as loaded: hashing
 * every name on every compile was the slowest part of a small compile. */
static bool read_names(Cache *c, const unsigned char *buf, const FileHdr *h)
{
    Layout l = layout_of(h);
    const char *strs = (const char *)buf + l.strs;
    if (h->strs_len && strs[h->strs_len - 1])
        return false;
    free(c->strs);
    free(c->names);
    c->strs = malloc(h->strs_len ? h->strs_len : 1);
    c->names = malloc(sizeof(FileName) * (h->nnames ? h->nnames : 1));
    if (!c->strs || !c->names)
        fatal("out of memory");
    memcpy(c->strs, strs, h->strs_len);
    memcpy(c->names, buf + l.names, sizeof(FileName) * h->nnames);
    c->nnames = h->nnames;
    c->strs_len = h->strs_len;
    for (uint32_t i = 0; i < h->nnames; i++) {
        FileName *fn = &c->names[i];
        if (fn->str >= h->strs_len || !c->strs[fn->str] || fn->cls < NC_TYPE || fn->cls > NC_ENUMVAL)
            return false;
        if (i && name_cmp((int)c->names[i - 1].cls, c->strs + c->names[i - 1].str, (int)fn->cls,
                          c->strs + fn->str) >= 0)
            return false;   /* not sorted, or a duplicate: not a file we wrote */
    }
    for (uint32_t i = 0; i < h->nroots; i++) {
        uint32_t v;
        memcpy(&v, buf + l.roots + i * 4, 4);
        cache_add_root(c, v);
    }
    return true;
}

bool cache_find(const Cache *c, const char *name, int cls, uint32_t *vid)
{
    NameEnt *e = namemap_get(&c->index, name, cls);
    if (e) {
        *vid = e->vid;
        return true;
    }
    uint32_t lo = 0, hi = c->nnames;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const FileName *fn = &c->names[mid];
        int d = name_cmp(cls, name, (int)fn->cls, c->strs + fn->str);
        if (!d) {
            *vid = fn->vid;
            return true;
        }
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* Every name of c, loaded or added since, sorted and without duplicates. */
typedef struct NameList { NameEnt *v; uint32_t n; } NameList;

static int ent_cmp(const void *a, const void *b)
{
    const NameEnt *x = a, *y = b;
    return name_cmp(x->cls, x->name, y->cls, y->name);
}

static NameList all_names(const Cache *c)
{
    NameList l = { xmalloc0(sizeof(NameEnt) * (c->nnames + c->index.n + 1)), 0 };
    for (uint32_t i = 0; i < c->index.cap; i++)
        if (c->index.ents[i].name)
            l.v[l.n++] = c->index.ents[i];
    for (uint32_t i = 0; i < c->nnames; i++) {
        const FileName *fn = &c->names[i];
        if (!namemap_get(&c->index, c->strs + fn->str, (int)fn->cls))
            l.v[l.n++] = (NameEnt){ .name = c->strs + fn->str, .vid = fn->vid, .cls = (uint8_t)fn->cls };
    }
    qsort(l.v, l.n, sizeof *l.v, ent_cmp);
    return l;
}

static bool read_mini(Cache *c, const unsigned char *buf, const FileHdr *h)
{
    Layout l = layout_of(h);
    libbpf_print_fn_t old = libbpf_set_print(NULL);     /* a bad blob is just a miss */
    c->mini = btf__new(buf + l.btf, h->btf_len);
    libbpf_set_print(old);
    if (!c->mini || btf__type_cnt(c->mini) != h->nside)
        return false;
    c->side = xmalloc0(sizeof(Side) * h->nside);
    memcpy(c->side, buf + l.side, sizeof(Side) * h->nside);
    c->nside = h->nside;
    for (uint32_t i = 1; i < c->nside; i++) {
        if (!c->side[i].vid)
            return false;
        idmap_put(&c->vmap, c->side[i].vid, i);
    }
    return true;
}

bool cache_load(Cache *c, const char *file, const Ident *id)
{
    size_t len;
    unsigned char *buf = slurp(file, &len);
    if (!buf)
        return false;
    FileHdr h;
    Cache n = { .index.owns = true };
    bool ok = header_ok(buf, len, id, &h) && read_mini(&n, buf, &h) && read_names(&n, buf, &h);
    free(buf);
    if (!ok) {
        cache_free(&n);
        return false;
    }
    cache_free(c);
    *c = n;
    return true;
}

void cache_merge_file(Cache *c, const char *file, const Ident *id)
{
    size_t len;
    unsigned char *buf = slurp(file, &len);
    FileHdr h;
    Cache n = { .index.owns = true };
    if (buf && header_ok(buf, len, id, &h) && read_names(&n, buf, &h)) {
        for (uint32_t i = 0; i < n.nnames; i++) {
            const FileName *fn = &n.names[i];
            uint32_t vid;
            if (!cache_find(c, n.strs + fn->str, (int)fn->cls, &vid))
                namemap_put(&c->index, n.strs + fn->str, (int)fn->cls, fn->vid);
        }
        for (uint32_t i = 0; i < n.roots.n; i++)
            cache_add_root(c, n.roots.v[i]);
    }
    cache_free(&n);
    free(buf);
}

/* ---- alignment -------------------------------------------------------- */

/* BTF does not record alignment: it is the largest natural alignment of
 * the members, or 1 for a packed struct (a member off its alignment, or a
 * size that is not a multiple of it). libbpf's btf__align_of would do, but
 * it recurses without a bound and trusts every id, and a --btf file may be
 * anything. memo: kernel id -> alignment, may be NULL. */
int btf_align(const struct btf *b, uint32_t id, IdMap *memo, int depth)
{
    const struct btf_type *t = id ? btf__type_by_id(b, id) : NULL;
    if (!t || depth > 64)
        return 1;
    switch (btf_kind(t)) {
    case BTF_KIND_INT: case BTF_KIND_ENUM: case BTF_KIND_ENUM64: case BTF_KIND_FLOAT:
        return t->size == 2 || t->size == 4 || t->size == 8 ? (int)t->size : t->size >= 16 ? 8 : 1;
    case BTF_KIND_PTR:
        return 8;
    case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG:
        return btf_align(b, t->type, memo, depth + 1);
    case BTF_KIND_ARRAY:
        return btf_align(b, btf_array(t)->type, memo, depth + 1);
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        break;
    default:
        return 1;
    }
    uintptr_t known = memo ? idmap_get(memo, id) : 0;
    if (known)
        return (int)known;
    int max = 1;
    for (int i = 0; i < btf_vlen(t); i++) {
        int a = btf_align(b, btf_members(t)[i].type, memo, depth + 1);
        if (!btf_member_bitfield_size(t, (uint32_t)i) && btf_member_bit_offset(t, (uint32_t)i) % (8u * (uint32_t)a))
            return 1;
        max = a > max ? a : max;
    }
    if (t->size % (uint32_t)max)
        max = 1;
    if (memo)
        idmap_put(memo, id, (uintptr_t)max);
    return max;
}

/* ---- building the small BTF -------------------------------------------- */

/* Context in which a type is reached: through a pointer (structs become
 * shells) or embedded (structs need their members). */
enum { CTX_POINTEE = 1, CTX_EMBED = 2 };

typedef struct Work { uint32_t vid; uint8_t ctx; } Work;

typedef struct Builder {
    const struct btf *vml;
    uint32_t cnt;               /* kernel type count */
    uint8_t *state;             /* highest context seen, per kernel id */
    uint32_t *order, norder;    /* kernel ids in the order they get mini ids */
    uint32_t *vmap;             /* kernel id -> mini id */
    Work *stack;
    uint32_t nstack, capstack;
    IdMap aligns;
} Builder;

static void push(Builder *b, uint32_t vid, int ctx)
{
    if (!vid || vid >= b->cnt)
        return;
    if (b->nstack == b->capstack) {
        b->capstack = b->capstack ? b->capstack * 2 : 256;
        b->stack = realloc(b->stack, sizeof *b->stack * b->capstack);
        if (!b->stack)
            fatal("out of memory");
    }
    b->stack[b->nstack++] = (Work){ vid, (uint8_t)ctx };
}

/* A FWD stands for the full definition of the same name, when there is
 * one. (Deduplicated kernel BTF keeps FWDs only for structs it never
 * defines, so this rare linear search costs nothing there.) */
static uint32_t resolve_fwd(const Builder *b, uint32_t vid)
{
    const struct btf_type *t = btf__type_by_id(b->vml, vid);
    if (!t || !btf_is_fwd(t))
        return vid;
    const char *name = btf__name_by_offset(b->vml, t->name_off);
    int id = name && *name ? btf__find_by_name_kind(b->vml, name, btf_kflag(t) ? BTF_KIND_UNION : BTF_KIND_STRUCT) : -1;
    return id > 0 ? (uint32_t)id : vid;
}

static bool copyable(const struct btf_type *t)
{
    switch (btf_kind(t)) {
    case BTF_KIND_INT: case BTF_KIND_PTR: case BTF_KIND_ARRAY: case BTF_KIND_STRUCT:
    case BTF_KIND_UNION: case BTF_KIND_ENUM: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF:
    case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT: case BTF_KIND_FUNC:
    case BTF_KIND_FUNC_PROTO: case BTF_KIND_FLOAT: case BTF_KIND_TYPE_TAG: case BTF_KIND_ENUM64:
        return true;
    default:
        return false;
    }
}

static void push_children(Builder *b, const struct btf_type *t, int ctx)
{
    switch (btf_kind(t)) {
    case BTF_KIND_PTR:
        push(b, t->type, CTX_POINTEE);
        break;
    case BTF_KIND_ARRAY:
        push(b, btf_array(t)->type, ctx);
        push(b, btf_array(t)->index_type, CTX_EMBED);
        break;
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        if (ctx == CTX_EMBED)
            for (int i = 0; i < btf_vlen(t); i++)
                push(b, btf_members(t)[i].type, CTX_EMBED);
        break;
    case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
    case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC:
        push(b, t->type, ctx);
        break;
    case BTF_KIND_FUNC_PROTO:
        push(b, t->type, CTX_POINTEE);
        for (int i = 0; i < btf_vlen(t); i++)
            push(b, btf_params(t)[i].type, CTX_POINTEE);
        break;
    default:
        break;
    }
}

/* Marks everything the roots need, in the context it is needed in. */
static void mark_all(Builder *b)
{
    while (b->nstack) {
        Work w = b->stack[--b->nstack];
        uint32_t vid = resolve_fwd(b, w.vid);
        const struct btf_type *t = btf__type_by_id(b->vml, vid);
        if (!t || !copyable(t) || b->state[vid] >= w.ctx)
            continue;
        if (!b->state[vid])
            b->order[b->norder++] = vid;
        b->state[vid] = w.ctx;
        push_children(b, t, w.ctx);
    }
}

static int remap(const Builder *b, uint32_t vid)
{
    if (!vid || vid >= b->cnt)
        return 0;
    vid = resolve_fwd(b, vid);
    return (int)b->vmap[vid];
}

/* btf__add_type copies strings but keeps the source's type ids: point them
 * at the copies. */
static void remap_ids(const Builder *b, struct btf_type *t)
{
    switch (btf_kind(t)) {
    case BTF_KIND_PTR: case BTF_KIND_TYPEDEF: case BTF_KIND_VOLATILE: case BTF_KIND_CONST:
    case BTF_KIND_RESTRICT: case BTF_KIND_TYPE_TAG: case BTF_KIND_FUNC:
        t->type = (uint32_t)remap(b, t->type);
        break;
    case BTF_KIND_ARRAY:
        btf_array(t)->type = (uint32_t)remap(b, btf_array(t)->type);
        btf_array(t)->index_type = (uint32_t)remap(b, btf_array(t)->index_type);
        break;
    case BTF_KIND_STRUCT: case BTF_KIND_UNION:
        for (int i = 0; i < btf_vlen(t); i++)
            btf_members(t)[i].type = (uint32_t)remap(b, btf_members(t)[i].type);
        break;
    case BTF_KIND_FUNC_PROTO:
        t->type = (uint32_t)remap(b, t->type);
        for (int i = 0; i < btf_vlen(t); i++)
            btf_params(t)[i].type = (uint32_t)remap(b, btf_params(t)[i].type);
        break;
    default:
        break;
    }
}

static int emit_one(const Builder *b, struct btf *mini, uint32_t vid)
{
    const struct btf_type *t = btf__type_by_id(b->vml, vid);
    if (btf_is_composite(t) && b->state[vid] == CTX_POINTEE) {
        const char *name = btf__name_by_offset(b->vml, t->name_off);
        name = name && *name ? name : NULL;
        return btf_is_struct(t) ? btf__add_struct(mini, name, t->size) : btf__add_union(mini, name, t->size);
    }
    int id = btf__add_type(mini, b->vml, t);
    if (id > 0)
        remap_ids(b, (struct btf_type *)btf__type_by_id(mini, (uint32_t)id));
    return id;
}

static struct btf *emit_all(Builder *b, Side *side)
{
    struct btf *mini = btf__new_empty();
    if (!mini)
        return NULL;
    for (uint32_t i = 0; i < b->norder; i++)
        b->vmap[b->order[i]] = i + 1;
    for (uint32_t i = 0; i < b->norder; i++) {
        uint32_t vid = b->order[i];
        if (emit_one(b, mini, vid) != (int)(i + 1)) {
            btf__free(mini);
            return NULL;
        }
        const struct btf_type *t = btf__type_by_id(b->vml, vid);
        int align = btf_is_composite(t) ? btf_align(b->vml, vid, &b->aligns, 0) : 0;
        side[i + 1].vid = vid;
        side[i + 1].flags = btf_is_composite(t) && b->state[vid] == CTX_POINTEE ? SIDE_SHELL : 0;
        side[i + 1].align = (uint16_t)(align > 0 && align < 65536 ? align : 1);
    }
    return mini;
}

static void seed_roots(Builder *b, const Cache *c)
{
    for (uint32_t i = 0; i < c->index.cap; i++)
        if (c->index.ents[i].name && c->index.ents[i].vid)
            push(b, c->index.ents[i].vid, CTX_EMBED);
    for (uint32_t i = 0; i < c->nnames; i++)
        if (c->names[i].vid)
            push(b, c->names[i].vid, CTX_EMBED);
    for (uint32_t i = 0; i < c->roots.n; i++)
        push(b, c->roots.v[i], CTX_EMBED);
}

/* ---- writing ------------------------------------------------------------ */

typedef struct Buf { unsigned char *p; size_t n; } Buf;

static void put(Buf *out, size_t at, const void *src, size_t n)
{
    if (n)
        memcpy(out->p + at, src, n);
}

/* Lays the sections out after the header (see layout_of). */
static Buf serialize(const Cache *c, const Ident *id, const void *blob, uint32_t blob_len,
                     const Side *side, uint32_t nside)
{
    FileHdr h = { .version = CACHE_VERSION, .hdr_size = sizeof(FileHdr), .id = *id };
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.btf_len = blob_len;
    h.nside = nside;
    h.nroots = c->roots.n;
    NameList names = all_names(c);
    h.nnames = names.n;
    for (uint32_t i = 0; i < names.n; i++)
        h.strs_len += (uint32_t)strlen(names.v[i].name) + 1;
    Layout l = layout_of(&h);
    h.total = (uint32_t)l.end;
    Buf out = { xmalloc0(l.end), l.end };
    put(&out, l.btf, blob, blob_len);
    put(&out, l.side, side, sizeof(Side) * nside);
    uint32_t s = 0, k = 0;
    for (uint32_t i = 0; i < names.n; i++) {
        const NameEnt *e = &names.v[i];
        FileName fn = { s, e->vid, e->cls };
        put(&out, l.names + k++ * sizeof fn, &fn, sizeof fn);
        put(&out, l.strs + s, e->name, strlen(e->name) + 1);
        s += (uint32_t)strlen(e->name) + 1;
    }
    free(names.v);
    put(&out, l.roots, c->roots.v, (size_t)c->roots.n * 4);
    put(&out, 0, &h, sizeof h);
    h.checksum = file_checksum(out.p, out.n);
    put(&out, 0, &h, sizeof h);
    return out;
}

static bool write_atomic(const char *file, const Buf *b)
{
    char *tmp;
    if (asprintf(&tmp, "%s.XXXXXX", file) < 0)
        return false;
    int fd = mkstemp(tmp);
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < b->n;) {
        ssize_t w = write(fd, b->p + done, b->n - done);
        if (w <= 0)
            ok = false;
        else
            done += (size_t)w;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, file) != 0)
        ok = false;
    if (!ok && fd >= 0)
        unlink(tmp);
    free(tmp);
    return ok;
}

bool cache_write(const Cache *c, const char *file, const Ident *id, const struct btf *vml)
{
    Builder b = { .vml = vml, .cnt = btf__type_cnt(vml) };
    b.state = xmalloc0(b.cnt);
    b.order = xmalloc0(sizeof *b.order * b.cnt);
    b.vmap = xmalloc0(sizeof *b.vmap * b.cnt);
    seed_roots(&b, c);
    mark_all(&b);
    Side *side = xmalloc0(sizeof *side * (b.norder + 1));
    struct btf *mini = emit_all(&b, side);
    bool ok = false;
    if (mini) {
        uint32_t len;
        const void *blob = btf__raw_data(mini, &len);
        if (blob) {
            Buf out = serialize(c, id, blob, len, side, b.norder + 1);
            ok = write_atomic(file, &out);
            free(out.p);
        }
    }
    btf__free(mini);
    free(side);
    free(b.state);
    free(b.order);
    free(b.vmap);
    free(b.stack);
    idmap_free(&b.aligns);
    return ok;
}
