/* Shared by the kernel-BTF reader's files (kbtf.c, kbtf_cache.c,
 * kbtf_builtin.c, kbtf_header.c); not part of the btf/ API.
 *
 * Everything here lives in malloc'ed memory for the whole process (or until
 * kbtf_reset), never in the compiler's arena: the cache is written at exit,
 * after the arena is gone. Only the converted Types live in the arena. */
#ifndef KSC_BTF_KBTF_INTERNAL_H
#define KSC_BTF_KBTF_INTERNAL_H

#include "btf/ksbtf.h"

#include <bpf/btf.h>
#include <stdint.h>

/* ---- small hash maps (kbtf_cache.c) ------------------------------------ */

/* uint32 -> uintptr_t, open addressing; key 0 is reserved (BTF id 0 is
 * void and never needs an entry). */
typedef struct IdMap { uint32_t *keys; uintptr_t *vals; uint32_t cap, n; } IdMap;
uintptr_t idmap_get(const IdMap *m, uint32_t key);
void idmap_put(IdMap *m, uint32_t key, uintptr_t val);
void idmap_free(IdMap *m);

/* Name classes: a name is looked up as a type (struct, union, enum,
 * typedef), as a function, or as an enumerator. */
enum { NC_TYPE = 1, NC_FUNC = 2, NC_ENUMVAL = 3 };

/* (name, class) -> kernel BTF id; vid 0 records "not in kernel BTF".
 * An owning map copies its names; a borrowing one (the index over all of
 * vmlinux) points into the BTF's own string section. */
typedef struct NameEnt { const char *name; uint32_t hash, vid; uint8_t cls, rank; } NameEnt;
typedef struct NameMap { NameEnt *ents; uint32_t cap, n; bool owns; } NameMap;
NameEnt *namemap_get(const NameMap *m, const char *name, int cls);
NameEnt *namemap_put(NameMap *m, const char *name, int cls, uint32_t vid);
void namemap_free(NameMap *m);
/* Room for n names without growing (a rehash of a big map is slow). */
void namemap_reserve(NameMap *m, uint32_t n);

/* ---- the per-kernel cache (kbtf_cache.c) ------------------------------- */

/* Identity of a BTF file: a cache built from another file, or from this
 * path before the kernel changed, never matches. */
typedef struct Ident {
    uint64_t dev, ino, size;
    int64_t mtime_s, mtime_ns;
    uint64_t head_hash;         /* hash of the file's first 4 KiB */
} Ident;

/* Per type of the small cached BTF ("mini"): the kernel id it copies, and
 * whether it is a shell (a struct with its size but no members, standing
 * for a struct that was only pointed to). */
typedef struct Side { uint32_t vid; uint16_t flags, align; } Side;
#define SIDE_SHELL 1

typedef struct VidVec { uint32_t *v; uint32_t n, cap; } VidVec;
void vid_push(VidVec *v, uint32_t x);

typedef struct Cache {
    struct btf *mini;           /* NULL when nothing was loaded */
    Side *side;                 /* indexed by mini id */
    uint32_t nside;
    IdMap vmap;                 /* kernel id -> mini id */
    NameMap index;              /* names asked for (owning) */
    VidVec roots;               /* structs completed on demand */
    IdMap root_set;             /* ... as a set */
    char *strs;                 /* the loaded file's name strings */
    struct FileName *names;     /* ... its names, sorted: searched, not hashed */
    uint32_t nnames, strs_len;
} Cache;
/* The kernel id cached for (name, class): true when the name was asked for
 * before (vid 0: the kernel has no such name). */
bool cache_find(const Cache *c, const char *name, int cls, uint32_t *vid);

/* Reads and checks a cache file; false (and c untouched) if it is absent,
 * stale, truncated or corrupt. */
bool cache_load(Cache *c, const char *file, const Ident *id);
/* Adds the names and roots of the cache file on disk (another ksc may
 * have extended it meanwhile) to c. */
void cache_merge_file(Cache *c, const char *file, const Ident *id);
/* Builds the mini BTF for c's names and roots from kernel BTF and writes
 * the file atomically (temporary file + rename). */
bool cache_write(const Cache *c, const char *file, const Ident *id, const struct btf *vml);
void cache_free(Cache *c);
/* Records a struct completed on demand; false if it already was. */
bool cache_add_root(Cache *c, uint32_t vid);
/* The cache file for a BTF file, or NULL when no cache directory is usable;
 * malloc'ed. `create` makes the directory. */
char *cache_file_for(const char *btf_path, const Ident *id, bool create);
/* Cache directory: NULL = default, "none" = no cache. */
void cache_set_dir(const char *dir);
uint64_t hash_bytes(uint64_t h, const void *p, size_t n);
/* The alignment of a BTF type (bounded, safe on any BTF); memo optional. */
int btf_align(const struct btf *b, uint32_t id, IdMap *memo, int depth);
void cache_remove_stale(const char *file);

/* ---- kbtf.c, for headers ---------------------------------------------- */

/* The event classes (templates) whose struct trace_event_raw_TEMPLATE a
 * DEFINE_EVENT tracepoint uses: those whose __bpf_trace_TEMPLATE has the
 * prototype of the event's btf_trace_EVENT. Up to max names (arena). */
int kbtf_trace_templates(const char *event, const char **out, int max);

/* ---- the built-in fallback set (kbtf_builtin.c) ------------------------ */

Type *builtin_kernel_type(const char *name);
void builtin_reset(void);
bool builtin_enum_value(const char *name, i128 *val, Type **enum_ty);
/* The names of the built-in set, NULL-terminated (tests, headers). */
extern const char *const builtin_kernel_names[];

#endif
