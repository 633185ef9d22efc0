/* difftest: differential test of two BPF objects that should behave the
 * same (ksc's object and its hand-written C twin built by clang).
 *
 *   difftest [-n PACKETS] [-s SEED] [-m MAPSFILE] [-i INSNSFILE] [-N NAME] KSC.o CLANG.o
 *
 * Both objects are opened and loaded as separate instances. Every XDP and
 * TC program of the ksc object (and the program of the same name in the
 * clang object) runs under BPF_PROG_TEST_RUN on the same stream of random
 * and edge-case packets (tests/diff/pktgen.h, fixed seed). After every
 * packet the runner compares the return values, the output packets, the
 * output __sk_buff (tc), the records each ring buffer received, and the
 * full contents of every map (every key; per CPU for per-CPU maps; global
 * variables by name) — all must be exactly equal. Objects whose maps hold
 * more than 4096 entries in all have their maps compared every few packets
 * (about 4096 entries per packet) and after the last one. MAPSFILE holds lines
 * "MAP KEYHEX VALUEHEX" written into both objects' maps before the run.
 * The process is pinned to one CPU, so per-CPU and LRU maps behave the
 * same in both instances.
 *
 * Prints one line "insns NAME ksc=X clang=Y ksc_verified=A clang_verified=B"
 * (xlated instructions and verifier-processed instructions summed over the
 * programs run) and, with -i, appends it to INSNSFILE. Exit 0 when equal,
 * 1 on a difference (the first one is described on stderr), 2 on errors. */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pktgen.h"

#define MAX_PROGS 16
#define MAX_MAPS 32
#define MAX_RB_BYTES (1 << 20)
#define OUT_MAX 8192

static char logbuf[1 << 16];
static size_t loglen;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    char tmp[8192];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    if (n <= 0)
        return 0;
    size_t len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
    /* keep the end: the verifier's complaint is at the end of its log */
    if (loglen + len >= sizeof(logbuf)) {
        size_t drop = loglen + len - sizeof(logbuf) + 1;
        if (drop > loglen)
            drop = loglen;
        memmove(logbuf, logbuf + drop, loglen - drop);
        loglen -= drop;
    }
    memcpy(logbuf + loglen, tmp, len);
    loglen += len;
    logbuf[loglen] = 0;
    return 0;
}

/* Records received by one ring buffer since the last comparison. */
struct rbrec {
    unsigned char *buf;
    size_t len, cap;
    unsigned count;
};

static int rb_sample(void *ctx, void *data, size_t size)
{
    struct rbrec *r = ctx;
    if (r->len + size + sizeof(size_t) > r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        while (cap < r->len + size + sizeof(size_t))
            cap *= 2;
        unsigned char *nb = realloc(r->buf, cap);
        if (!nb)
            return -ENOMEM;
        r->buf = nb;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, &size, sizeof(size));
    memcpy(r->buf + r->len + sizeof(size), data, size);
    r->len += size + sizeof(size);
    r->count++;
    return 0;
}

struct side {
    const char *label, *path;
    struct bpf_object *obj;
    int nprogs;
    struct bpf_program *progs[MAX_PROGS];
    struct ring_buffer *rb[MAX_MAPS];
    struct rbrec rec[MAX_MAPS];
};

static struct side S[2] = {{.label = "ksc"}, {.label = "clang"}};
static char why[4096];
static int ncpus;

static void hexdump(char *out, size_t cap, const unsigned char *p, size_t n, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; i < n && i < max && o + 3 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x", p[i]);
    if (n > max && o + 4 < cap)
        snprintf(out + o, cap - o, "...");
}

static int open_side(struct side *s)
{
    loglen = 0;
    logbuf[0] = 0;
    s->obj = bpf_object__open_file(s->path, NULL);
    if (!s->obj) {
        fprintf(stderr, "%s: cannot open %s: %s\n%s", s->label, s->path, strerror(errno), logbuf);
        return -1;
    }
    int err = bpf_object__load(s->obj);
    if (err) {
        /* the verifier's complaint is at the end of a long log, on the
         * line before "processed N insns" */
        const char *tail = loglen > 3000 ? logbuf + loglen - 3000 : logbuf;
        char msg[256] = "";
        const char *proc = strstr(logbuf, "\nprocessed ");
        if (proc) {
            const char *b = proc;
            while (b > logbuf && b[-1] != '\n')
                b--;
            if (b > logbuf) {
                const char *a = b - 1;
                while (a > logbuf && a[-1] != '\n')
                    a--;
                snprintf(msg, sizeof(msg), "%.*s", (int)(b - 1 - a), a);
            }
        }
        fprintf(stderr, "%s\n%s: kernel rejected %s: %s%s%s\n", tail, s->label, s->path, strerror(-err),
                msg[0] ? ": " : "", msg);
        return -1;
    }
    return 0;
}

static int is_run_type(struct bpf_program *p)
{
    enum bpf_prog_type t = bpf_program__type(p);
    return t == BPF_PROG_TYPE_XDP || t == BPF_PROG_TYPE_SCHED_CLS;
}

static int compare_defs(void)
{
    struct bpf_map *m;
    for (int i = 0; i < 2; i++) {
        bpf_object__for_each_map(m, S[i].obj) {
            if (bpf_map__is_internal(m))
                continue;
            struct bpf_map *o = bpf_object__find_map_by_name(S[1 - i].obj, bpf_map__name(m));
            if (!o) {
                /* ksc's tail-call maps have names of its own */
                if (bpf_map__type(m) == BPF_MAP_TYPE_PROG_ARRAY)
                    continue;
                snprintf(why, sizeof(why), "map %s exists only in the %s object", bpf_map__name(m),
                         S[i].label);
                return -1;
            }
            if (bpf_map__type(m) != bpf_map__type(o) || bpf_map__key_size(m) != bpf_map__key_size(o) ||
                bpf_map__value_size(m) != bpf_map__value_size(o) ||
                bpf_map__max_entries(m) != bpf_map__max_entries(o) ||
                bpf_map__map_flags(m) != bpf_map__map_flags(o)) {
                snprintf(why, sizeof(why),
                         "map %s differs: ksc type %d key %u value %u max %u flags %#x, "
                         "clang type %d key %u value %u max %u flags %#x",
                         bpf_map__name(m), bpf_map__type(i ? o : m), bpf_map__key_size(i ? o : m),
                         bpf_map__value_size(i ? o : m), bpf_map__max_entries(i ? o : m),
                         bpf_map__map_flags(i ? o : m), bpf_map__type(i ? m : o),
                         bpf_map__key_size(i ? m : o), bpf_map__value_size(i ? m : o),
                         bpf_map__max_entries(i ? m : o), bpf_map__map_flags(i ? m : o));
                return -1;
            }
        }
    }
    return 0;
}

static int is_percpu(enum bpf_map_type t)
{
    return t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
           t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static int is_data_map(enum bpf_map_type t)
{
    return t == BPF_MAP_TYPE_HASH || t == BPF_MAP_TYPE_ARRAY || t == BPF_MAP_TYPE_LRU_HASH ||
           is_percpu(t);
}

static size_t lookup_size(struct bpf_map *m)
{
    size_t vs = bpf_map__value_size(m);
    return is_percpu(bpf_map__type(m)) ? ((vs + 7) & ~(size_t)7) * (size_t)ncpus : vs;
}

/* Every key of a must be in b with an equal value. */
static int map_subset(struct bpf_map *a, struct bpf_map *b, int ai, int check_values)
{
    size_t ks = bpf_map__key_size(a), vs = lookup_size(a);
    unsigned char key[512], next[512];
    unsigned char *va = malloc(vs), *vb = malloc(vs);
    int fa = bpf_map__fd(a), fb = bpf_map__fd(b), rc = 0;
    unsigned long n = 0, limit = (unsigned long)bpf_map__max_entries(a) + 16;
    if (!va || !vb || ks > sizeof(key)) {
        snprintf(why, sizeof(why), "map %s: key or value too large", bpf_map__name(a));
        rc = -1;
        goto out;
    }
    void *prev = NULL;
    while (bpf_map_get_next_key(fa, prev, next) == 0) {
        memcpy(key, next, ks);
        prev = key;
        if (++n > limit)
            break;
        char kh[1100], ah[400], bh[400];
        if (bpf_map_lookup_elem(fa, key, va))
            continue; /* deleted meanwhile: cannot happen here */
        if (bpf_map_lookup_elem(fb, key, vb)) {
            hexdump(kh, sizeof(kh), key, ks, 64);
            hexdump(ah, sizeof(ah), va, vs, 64);
            snprintf(why, sizeof(why), "map %s: key %s is in the %s object (value %s) but not in the %s object",
                     bpf_map__name(a), kh, S[ai].label, ah, S[1 - ai].label);
            rc = -1;
            goto out;
        }
        if (!check_values)
            continue;
        size_t one = bpf_map__value_size(a), stride = is_percpu(bpf_map__type(a)) ? (one + 7) & ~(size_t)7 : one;
        int cpus = is_percpu(bpf_map__type(a)) ? ncpus : 1;
        for (int c = 0; c < cpus; c++) {
            if (memcmp(va + c * stride, vb + c * stride, one)) {
                hexdump(kh, sizeof(kh), key, ks, 64);
                hexdump(ah, sizeof(ah), va + c * stride, one, 96);
                hexdump(bh, sizeof(bh), vb + c * stride, one, 96);
                char cpu[32] = "";
                if (cpus > 1)
                    snprintf(cpu, sizeof(cpu), " cpu %d", c);
                snprintf(why, sizeof(why), "map %s key %s%s: ksc %s, clang %s", bpf_map__name(a), kh, cpu,
                         ai ? bh : ah, ai ? ah : bh);
                rc = -1;
                goto out;
            }
        }
    }
out:
    free(va);
    free(vb);
    return rc;
}

/* All entries of a map, key and value side by side, sorted by key: read
 * with BPF_MAP_LOOKUP_BATCH, a few syscalls for a whole map. Returns the
 * number of entries, or -1 when the map cannot be read in batches. */
static size_t sort_ks;

static int cmp_rec(const void *x, const void *y)
{
    return memcmp(x, y, sort_ks);
}

static long dump_map(struct bpf_map *m, unsigned char **out)
{
    size_t ks = bpf_map__key_size(m), vs = lookup_size(m), max = bpf_map__max_entries(m);
    unsigned char *keys = malloc(ks * max + 1), *vals = malloc(vs * max + 1), *recs = NULL;
    unsigned char tok_in[64], tok_out[64];
    void *in = NULL;
    size_t n = 0;
    long rc = -1;
    if (!keys || !vals || ks > sizeof(tok_in))
        goto out;
    for (;;) {
        __u32 count = (__u32)(max - n);
        if (!count)
            break;
        int err = bpf_map_lookup_batch(bpf_map__fd(m), in, tok_out, keys + n * ks, vals + n * vs, &count, NULL);
        n += count;
        if (err) {
            if (errno == ENOENT)
                break;
            goto out;
        }
        memcpy(tok_in, tok_out, sizeof(tok_in));
        in = tok_in;
    }
    recs = malloc((ks + vs) * n + 1);
    if (!recs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        memcpy(recs + i * (ks + vs), keys + i * ks, ks);
        memcpy(recs + i * (ks + vs) + ks, vals + i * vs, vs);
    }
    enum bpf_map_type t = bpf_map__type(m);
    if (t != BPF_MAP_TYPE_ARRAY && t != BPF_MAP_TYPE_PERCPU_ARRAY) {
        /* hash maps list their keys in bucket order, and every map has
         * its own hash seed; arrays come in index order */
        sort_ks = ks;
        qsort(recs, n, ks + vs, cmp_rec);
    }
    *out = recs;
    recs = NULL;
    rc = (long)n;
out:
    free(recs);
    free(keys);
    free(vals);
    return rc;
}

/* 0: equal; otherwise the slow comparison, key by key, decides and says why. */
static int map_equal(struct bpf_map *a, struct bpf_map *b)
{
    unsigned char *da = NULL, *db = NULL;
    long na = dump_map(a, &da), nb = na < 0 ? -1 : dump_map(b, &db);
    int same = na >= 0 && na == nb &&
               !memcmp(da, db, (size_t)na * (bpf_map__key_size(a) + lookup_size(a)));
    free(da);
    free(db);
    if (same)
        return 0;
    return map_subset(a, b, 0, 1) || map_subset(b, a, 1, 0) ? -1 : 0;
}

/* Global variables: compared by name through each object's DATASEC BTF. */
static int read_vars(struct side *s, struct bpf_map *m, const char *name, unsigned char *out, size_t *size)
{
    struct btf *btf = bpf_object__btf(s->obj);
    __u32 tid = bpf_map__btf_value_type_id(m);
    if (!btf || !tid)
        return -1;
    const struct btf_type *t = btf__type_by_id(btf, tid);
    if (!t || !btf_is_datasec(t))
        return -1;
    const struct btf_var_secinfo *v = btf_var_secinfos(t);
    for (int i = 0; i < btf_vlen(t); i++, v++) {
        const struct btf_type *var = btf__type_by_id(btf, v->type);
        if (strcmp(btf__name_by_offset(btf, var->name_off), name))
            continue;
        size_t vs = bpf_map__value_size(m);
        unsigned char *all = calloc(1, vs);
        int zero = 0;
        if (!all || bpf_map_lookup_elem(bpf_map__fd(m), &zero, all) || v->offset + v->size > vs) {
            free(all);
            return -1;
        }
        memcpy(out, all + v->offset, v->size);
        *size = v->size;
        free(all);
        return 0;
    }
    return 1;
}

static int compare_globals(void)
{
    for (int i = 0; i < 2; i++) {
        struct bpf_map *m;
        bpf_object__for_each_map(m, S[i].obj) {
            if (!bpf_map__is_internal(m))
                continue;
            const char *dot = strchr(bpf_map__name(m), '.');
            if (!dot || (strncmp(dot, ".data", 5) && strncmp(dot, ".bss", 4)))
                continue;
            struct btf *btf = bpf_object__btf(S[i].obj);
            const struct btf_type *t = btf ? btf__type_by_id(btf, bpf_map__btf_value_type_id(m)) : NULL;
            if (!t || !btf_is_datasec(t))
                continue;
            const struct btf_var_secinfo *v = btf_var_secinfos(t);
            for (int k = 0; k < btf_vlen(t); k++, v++) {
                const char *name = btf__name_by_offset(btf, btf__type_by_id(btf, v->type)->name_off);
                unsigned char a[4096], b[4096];
                size_t as = 0, bs = 0;
                if (read_vars(&S[i], m, name, a, &as)) {
                    snprintf(why, sizeof(why), "global %s: cannot read it in the %s object", name, S[i].label);
                    return -1;
                }
                int found = 1;
                struct bpf_map *o;
                bpf_object__for_each_map(o, S[1 - i].obj) {
                    if (!bpf_map__is_internal(o))
                        continue;
                    int r = read_vars(&S[1 - i], o, name, b, &bs);
                    if (r == 0) {
                        found = 0;
                        break;
                    }
                }
                if (found) {
                    snprintf(why, sizeof(why), "global %s exists only in the %s object", name, S[i].label);
                    return -1;
                }
                if (as != bs || memcmp(a, b, as)) {
                    char ah[600], bh[600];
                    hexdump(ah, sizeof(ah), i ? b : a, i ? bs : as, 128);
                    hexdump(bh, sizeof(bh), i ? a : b, i ? as : bs, 128);
                    snprintf(why, sizeof(why), "global %s: ksc %s, clang %s", name, ah, bh);
                    return -1;
                }
            }
        }
    }
    return 0;
}

static int compare_maps(void)
{
    struct bpf_map *m;
    bpf_object__for_each_map(m, S[0].obj) {
        if (bpf_map__is_internal(m) || !is_data_map(bpf_map__type(m)))
            continue;
        struct bpf_map *o = bpf_object__find_map_by_name(S[1].obj, bpf_map__name(m));
        if (!o)
            continue;
        if (map_equal(m, o))
            return -1;
    }
    return compare_globals();
}

static int setup_rings(struct side *s)
{
    struct bpf_map *m;
    int i = 0;
    bpf_object__for_each_map(m, s->obj) {
        if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF || i >= MAX_MAPS)
            continue;
        s->rb[i] = ring_buffer__new(bpf_map__fd(m), rb_sample, &s->rec[i], NULL);
        if (!s->rb[i]) {
            fprintf(stderr, "%s: ring_buffer__new(%s): %s\n", s->label, bpf_map__name(m), strerror(errno));
            return -1;
        }
        i++;
    }
    return 0;
}

static int compare_rings(void)
{
    int i = 0;
    struct bpf_map *m;
    bpf_object__for_each_map(m, S[0].obj) {
        if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF || i >= MAX_MAPS)
            continue;
        /* ring buffers of the same name are in the same order in both objects
         * only if they are declared in the same order: find by name */
        int j = 0;
        struct bpf_map *o;
        bpf_object__for_each_map(o, S[1].obj) {
            if (bpf_map__type(o) != BPF_MAP_TYPE_RINGBUF)
                continue;
            if (!strcmp(bpf_map__name(o), bpf_map__name(m)))
                break;
            j++;
        }
        if (!o || j >= MAX_MAPS) {
            i++;
            continue;
        }
        ring_buffer__consume(S[0].rb[i]);
        ring_buffer__consume(S[1].rb[j]);
        struct rbrec *a = &S[0].rec[i], *b = &S[1].rec[j];
        if (a->count != b->count || a->len != b->len || memcmp(a->buf, b->buf, a->len)) {
            char ah[400], bh[400];
            hexdump(ah, sizeof(ah), a->buf, a->len, 120);
            hexdump(bh, sizeof(bh), b->buf, b->len, 120);
            snprintf(why, sizeof(why), "ring buffer %s: ksc got %u records (%s), clang %u (%s)",
                     bpf_map__name(m), a->count, ah, b->count, bh);
            return -1;
        }
        a->len = b->len = 0;
        a->count = b->count = 0;
        i++;
    }
    return 0;
}

static int load_maps_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char name[256], kh[1100], vh[2100];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%255s %1099s %2099s", name, kh, vh) != 3) {
            fprintf(stderr, "%s:%d: expected MAP KEYHEX VALUEHEX\n", path, lineno);
            fclose(f);
            return -1;
        }
        unsigned char key[550], val[1050];
        size_t kn = strlen(kh) / 2, vn = strlen(vh) / 2;
        for (size_t i = 0; i < kn; i++)
            sscanf(kh + 2 * i, "%2hhx", &key[i]);
        for (size_t i = 0; i < vn; i++)
            sscanf(vh + 2 * i, "%2hhx", &val[i]);
        for (int s = 0; s < 2; s++) {
            struct bpf_map *m = bpf_object__find_map_by_name(S[s].obj, name);
            if (!m || bpf_map__key_size(m) != kn || bpf_map__value_size(m) != vn) {
                fprintf(stderr, "%s:%d: no map %s with key size %zu and value size %zu in the %s object\n",
                        path, lineno, name, kn, vn, S[s].label);
                fclose(f);
                return -1;
            }
            size_t ls = lookup_size(m);
            unsigned char *v = calloc(1, ls);
            size_t stride = is_percpu(bpf_map__type(m)) ? (vn + 7) & ~(size_t)7 : vn;
            for (size_t c = 0; c * stride < ls; c++)
                memcpy(v + c * stride, val, vn);
            int err = bpf_map_update_elem(bpf_map__fd(m), key, v, BPF_ANY);
            free(v);
            if (err) {
                fprintf(stderr, "%s:%d: update of %s: %s\n", path, lineno, name, strerror(errno));
                fclose(f);
                return -1;
            }
        }
    }
    fclose(f);
    return 0;
}

static void prog_counts(struct bpf_program *p, unsigned long *xl, unsigned long *ver)
{
    struct bpf_prog_info info;
    __u32 len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len) == 0) {
        *xl += info.xlated_prog_len / 8;
        *ver += info.verified_insns;
    }
}

int main(int argc, char **argv)
{
    unsigned long npkts = 1000, seed = 1;
    const char *mapsfile = NULL, *insnsfile = NULL, *name = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "n:s:m:i:N:")) != -1) {
        switch (opt) {
        case 'n': npkts = strtoul(optarg, NULL, 0); break;
        case 's': seed = strtoul(optarg, NULL, 0); break;
        case 'm': mapsfile = optarg; break;
        case 'i': insnsfile = optarg; break;
        case 'N': name = optarg; break;
        default:
            fprintf(stderr, "usage: difftest [-n N] [-s SEED] [-m MAPS] [-i INSNS] [-N NAME] KSC.o CLANG.o\n");
            return 2;
        }
    }
    if (argc - optind != 2) {
        fprintf(stderr, "usage: difftest [-n N] [-s SEED] [-m MAPS] [-i INSNS] [-N NAME] KSC.o CLANG.o\n");
        return 2;
    }
    S[0].path = argv[optind];
    S[1].path = argv[optind + 1];
    if (!name)
        name = S[0].path;

    /* one CPU: per-CPU values and LRU lists behave the same in both runs */
    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    if (sched_setaffinity(0, sizeof(cs), &cs))
        fprintf(stderr, "warning: cannot pin to CPU 0: %s\n", strerror(errno));
    ncpus = libbpf_num_possible_cpus();
    libbpf_set_print(print_fn);
    setvbuf(stdout, NULL, _IOLBF, 0);

    for (int i = 0; i < 2; i++)
        if (open_side(&S[i]))
            return 2;

    struct bpf_program *p;
    bpf_object__for_each_program(p, S[0].obj) {
        if (!is_run_type(p) || S[0].nprogs >= MAX_PROGS)
            continue;
        struct bpf_program *q = bpf_object__find_program_by_name(S[1].obj, bpf_program__name(p));
        if (!q) {
            fprintf(stderr, "program %s is not in %s\n", bpf_program__name(p), S[1].path);
            return 2;
        }
        if (bpf_program__type(q) != bpf_program__type(p)) {
            fprintf(stderr, "program %s has a different type in the two objects\n", bpf_program__name(p));
            return 2;
        }
        S[0].progs[S[0].nprogs++] = p;
        S[1].progs[S[1].nprogs++] = q;
    }
    if (!S[0].nprogs) {
        fprintf(stderr, "no xdp or tc program in %s\n", S[0].path);
        return 2;
    }

    unsigned long xl[2] = {0, 0}, ver[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        /* every program of the object counts: tail-call targets run too */
        bpf_object__for_each_program(p, S[i].obj)
            prog_counts(p, &xl[i], &ver[i]);
    }
    char line[512];
    snprintf(line, sizeof(line), "insns %s ksc=%lu clang=%lu ksc_verified=%lu clang_verified=%lu\n", name,
             xl[0], xl[1], ver[0], ver[1]);
    fputs(line, stdout);
    if (insnsfile) {
        FILE *f = fopen(insnsfile, "a");
        if (f) {
            fputs(line, f);
            fclose(f);
        }
    }

    if (compare_defs()) {
        fprintf(stderr, "%s\n", why);
        return 1;
    }
    if (mapsfile && load_maps_file(mapsfile))
        return 2;
    for (int i = 0; i < 2; i++)
        if (setup_rings(&S[i]))
            return 2;

    /* Maps are compared after every packet unless they are large (an
     * array is always full): then about 4096 entries per packet. */
    unsigned long entries = 0, every = 1;
    struct bpf_map *m;
    bpf_object__for_each_map(m, S[0].obj)
        if (!bpf_map__is_internal(m) && is_data_map(bpf_map__type(m)))
            entries += bpf_map__max_entries(m);
    if (entries > 4096)
        every = (entries + 4095) / 4096;
    struct rng rng = {seed};
    static unsigned char pkt[PKT_MAX], out[2][OUT_MAX];
    struct __sk_buff ctx_in, ctx_out[2];
    unsigned long ran = 0, skipped = 0, n;
    for (n = 0; ran < npkts && n < 4 * npkts; n++) {
        size_t len = pkt_gen(&rng, pkt);
        int runnable = 1;
        memset(&ctx_in, 0, sizeof(ctx_in));
        ctx_in.mark = rng_pct(&rng, 50) ? 0 : (__u32)PICK(&rng, ((const __u32[]){1, 42, 0xffffffff, 7}));
        ctx_in.priority = rng_below(&rng, 8);
        for (int k = 0; k < S[0].nprogs; k++) {
            __u32 ret[2], outlen[2], ctxlen[2];
            int err[2];
            for (int i = 0; i < 2; i++) {
                int tc = bpf_program__type(S[i].progs[k]) == BPF_PROG_TYPE_SCHED_CLS;
                memset(out[i], 0, OUT_MAX);
                memset(&ctx_out[i], 0, sizeof(ctx_out[i]));
                LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
                            .data_out = out[i], .data_size_out = OUT_MAX, .repeat = 1);
                if (tc) {
                    o.ctx_in = &ctx_in;
                    o.ctx_size_in = sizeof(ctx_in);
                    o.ctx_out = &ctx_out[i];
                    o.ctx_size_out = sizeof(ctx_out[i]);
                }
                err[i] = bpf_prog_test_run_opts(bpf_program__fd(S[i].progs[k]), &o) ? -errno : 0;
                ret[i] = o.retval;
                outlen[i] = o.data_size_out;
                ctxlen[i] = o.ctx_size_out;
            }
            char ph[200];
            hexdump(ph, sizeof(ph), pkt, len, 80);
            const char *pn = bpf_program__name(S[0].progs[k]);
            if (err[0] != err[1]) {
                fprintf(stderr, "packet %lu (len %zu, %s): program %s: test run ksc %s, clang %s\n", n, len, ph,
                        pn, strerror(-err[0]), strerror(-err[1]));
                return 1;
            }
            if (err[0] == -EINVAL && bpf_program__type(S[0].progs[k]) == BPF_PROG_TYPE_SCHED_CLS) {
                /* the kernel refuses skbs too short for the L3 header the
                 * Ethernet type announces; both sides saw the same */
                runnable = 0;
                continue;
            }
            if (err[0]) {
                fprintf(stderr, "packet %lu (len %zu): program %s: test run failed: %s\n", n, len, pn,
                        strerror(-err[0]));
                return 2;
            }
            if (ret[0] != ret[1]) {
                fprintf(stderr, "packet %lu (len %zu, %s): program %s returned %u (%#x) with ksc, %u (%#x) with clang\n",
                        n, len, ph, pn, ret[0], ret[0], ret[1], ret[1]);
                if (compare_rings() || compare_maps())
                    fprintf(stderr, "  and %s\n", why);
                return 1;
            }
            if (outlen[0] != outlen[1] || memcmp(out[0], out[1], outlen[0])) {
                size_t at = 0;
                while (at < outlen[0] && at < outlen[1] && out[0][at] == out[1][at])
                    at++;
                char ah[200], bh[200];
                hexdump(ah, sizeof(ah), out[0] + at, outlen[0] > at ? outlen[0] - at : 0, 48);
                hexdump(bh, sizeof(bh), out[1] + at, outlen[1] > at ? outlen[1] - at : 0, 48);
                fprintf(stderr, "packet %lu (len %zu, %s): program %s: output packets differ: length ksc %u, clang %u; "
                        "from byte %zu ksc %s, clang %s\n", n, len, ph, pn, outlen[0], outlen[1], at, ah, bh);
                return 1;
            }
            if (ctxlen[0] != ctxlen[1] || memcmp(&ctx_out[0], &ctx_out[1], sizeof(ctx_out[0]))) {
                size_t at = 0;
                const unsigned char *a = (const void *)&ctx_out[0], *b = (const void *)&ctx_out[1];
                while (at < sizeof(ctx_out[0]) && a[at] == b[at])
                    at++;
                fprintf(stderr, "packet %lu (len %zu, %s): program %s: output __sk_buff differs at offset %zu\n",
                        n, len, ph, pn, at);
                return 1;
            }
            if (compare_rings() || ((n % every == 0 || ran + 1 == npkts) && compare_maps())) {
                fprintf(stderr, "packet %lu (len %zu, %s): after program %s%s: %s\n", n, len, ph, pn,
                        every > 1 ? " (maps compared every few packets)" : "", why);
                return 1;
            }
        }
        if (runnable)
            ran++;
        else
            skipped++;
    }
    if (ran < npkts) {
        fprintf(stderr, "only %lu of %lu packets could run (%lu refused by the kernel)\n", ran, n, skipped);
        return 2;
    }
    printf("%lu packets run, %lu refused by the kernel for both, %d program(s): return values, packets, maps equal\n",
           ran, skipped, S[0].nprogs);
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < MAX_MAPS; k++) {
            ring_buffer__free(S[i].rb[k]);
            free(S[i].rec[k].buf);
        }
        bpf_object__close(S[i].obj);
    }
    return 0;
}
