/* Memory, vectors and string maps shared by every stage. A compiler run
 * frees everything at once, so allocation is an arena of big chunks. */
#include "frontend/frontend.h"

#include "btf/ksbtf.h"
#include "frontend/internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

typedef struct Chunk {
    struct Chunk *next;
    size_t used, cap;
    bool mapped;            /* fresh pages from mmap: already zero */
    char mem[] __attribute__((aligned(16)));
} Chunk;
static Chunk *chunks;
static size_t arena_bytes;
/* Blocks too large for a chunk, and vector storage, are malloc'ed and
 * remembered here so that arena_free_all releases them too. */
typedef struct Big { struct Big *next; char mem[] __attribute__((aligned(16))); } Big;
static Big *bigs;

static void *big_alloc(size_t n)
{
    Big *b = calloc(1, sizeof(Big) + n);
    if (!b)
        fatal("out of memory");
    b->next = bigs;
    bigs = b;
    return b->mem;
}

#define HUGE_CHUNK ((size_t)2 << 20)

/* Past the first megabytes (a large program), chunks are 2 MiB huge pages:
 * first touches of 4 KiB pages were a quarter of a 10k-line compile. */
static Chunk *huge_chunk(void)
{
    char *p = mmap(NULL, 2 * HUGE_CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)p + HUGE_CHUNK - 1) & ~(uintptr_t)(HUGE_CHUNK - 1));
    if (start > p)
        munmap(p, (size_t)(start - p));
    munmap(start + HUGE_CHUNK, (size_t)(p + 2 * HUGE_CHUNK - (start + HUGE_CHUNK)));
    madvise(start, HUGE_CHUNK, MADV_HUGEPAGE);
    Chunk *c = (Chunk *)start;
    c->cap = HUGE_CHUNK - sizeof(Chunk);
    c->mapped = true;
    return c;
}

static Chunk *new_chunk(void)
{
    Chunk *c = arena_bytes >= 2 * HUGE_CHUNK ? huge_chunk() : NULL;
    if (!c) {
        size_t cap = 64 * 1024;
        c = malloc(sizeof(Chunk) + cap);
        if (!c)
            fatal("out of memory");
        c->cap = cap;
        c->mapped = false;
    }
    c->next = chunks;
    c->used = 0;
    arena_bytes += c->cap;
    return c;
}

void *xalloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > 4096)
        return big_alloc(n);
    if (!chunks || chunks->used + n > chunks->cap)
        chunks = new_chunk();
    void *p = chunks->mem + chunks->used;
    chunks->used += n;
    if (!chunks->mapped)
        memset(p, 0, n);
    return p;
}

/* Vectors grow by doubling into fresh arena blocks; the old block is
 * simply abandoned to the arena. */
void *xrealloc_vec(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return p;
    int ncap = *cap ? *cap * 2 : 4;
    while (ncap < need)
        ncap *= 2;
    void *q = xalloc((size_t)ncap * elem);
    if (p)
        memcpy(q, p, (size_t)*cap * elem);
    *cap = ncap;
    return q;
}

void arena_free_all(void)
{
    arena_bytes = 0;
    while (chunks) {
        Chunk *c = chunks;
        chunks = c->next;
        if (c->mapped)
            munmap(c, HUGE_CHUNK);
        else
            free(c);
    }
    while (bigs) {
        Big *b = bigs;
        bigs = b->next;
        free(b);
    }
}

void compiler_reset(void)
{
    arena_free_all();
    diag_reset();
    lex_reset();
    builtins_reset();
    kbtf_reset();
    types_init();
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xalloc(n + 1);
    memcpy(p, s, n);
    return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xfmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = xalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        if (got == 0)
            break;
        n += got;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    char *out = xstrndup(buf, n);
    free(buf);
    *len = n;
    return out;
}

/* FNV-1a; keys are compared by content. */
static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

void *strmap_get(StrMap *m, const char *key)
{
    if (!m->cap)
        return NULL;
    for (uint32_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->ents[i].key)
            return NULL;
        if (!strcmp(m->ents[i].key, key))
            return m->ents[i].val;
    }
}

static void strmap_grow(StrMap *m)
{
    StrMap n = { .cap = m->cap ? m->cap * 2 : 16 };
    n.ents = xalloc(sizeof(MapEnt) * n.cap);
    for (int i = 0; i < m->cap; i++)
        if (m->ents[i].key)
            strmap_put(&n, m->ents[i].key, m->ents[i].val);
    *m = n;
}

void strmap_put(StrMap *m, const char *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap)
        strmap_grow(m);
    for (uint32_t i = hash_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->ents[i].key) {
            m->ents[i].key = key;
            m->ents[i].val = val;
            m->n++;
            return;
        }
        if (!strcmp(m->ents[i].key, key)) {
            m->ents[i].val = val;
            return;
        }
    }
}
