/* Memory, vectors and string maps shared by every stage. A compiler run
 * frees everything at once, so allocation is an arena of big chunks. */
#include "frontend/frontend.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct Chunk { struct Chunk *next; size_t used, cap; char mem[] __attribute__((aligned(16))); } Chunk;
static Chunk *chunks;
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

void *xalloc(size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n > 4096)
        return big_alloc(n);
    if (!chunks || chunks->used + n > chunks->cap) {
        size_t cap = 64 * 1024;
        Chunk *c = malloc(sizeof(Chunk) + cap);
        if (!c)
            fatal("out of memory");
        c->next = chunks;
        c->used = 0;
        c->cap = cap;
        chunks = c;
    }
    void *p = chunks->mem + chunks->used;
    chunks->used += n;
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
    while (chunks) {
        Chunk *c = chunks;
        chunks = c->next;
        free(c);
    }
    while (bigs) {
        Big *b = bigs;
        bigs = b->next;
        free(b);
    }
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
