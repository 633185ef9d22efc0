/* Kernel types from kernel BTF (btf/kbtf*.c): layouts and bitfields read
 * from this machine's /sys/kernel/btf/vmlinux, the built-in fallback set
 * against it, the per-kernel cache (no second parse, absent names, corrupt
 * files), functions and struct_ops members, `ksc headers`, broken BTF
 * files, and the cold/warm lookup times. Tests that need kernel BTF pass
 * with a note when the machine has none. */
#include "tests/unit/unit.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "btf/kbtf_internal.h"
#include "frontend/internal.h"

#define VMLINUX "/sys/kernel/btf/vmlinux"

static char cache_dir[256];

/* A fresh, empty cache directory for this process. */
static const char *fresh_cache(void)
{
    if (cache_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
        if (system(cmd) != 0)
            return NULL;
    }
    snprintf(cache_dir, sizeof cache_dir, "/tmp/ksc-unit-kbtf-XXXXXX");
    return mkdtemp(cache_dir);
}

/* Everything forgotten, this BTF file, and a cache in dir (NULL: none). */
static void start(const char *btf, const char *dir)
{
    unit_reset();
    kbtf_set_cache_dir(dir ? dir : "none");
    kbtf_set_path(btf);
}

static bool have_btf(void)
{
    if (access(VMLINUX, R_OK) == 0)
        return true;
    printf("    (no %s: skipped)\n", VMLINUX);
    return false;
}

static Member *member(Type *t, const char *name, int *off)
{
    int o = -1;
    Member *m = t ? find_member(t, name, &o) : NULL;
    if (off)
        *off = o;
    return m;
}

/* ---- layouts from vmlinux ------------------------------------------------ */

static void test_iphdr(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    Type *t = kernel_type("iphdr");
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT(t->kind == TY_STRUCT && t->kernel && t->kbtf_id > 0 && t->size == 20 && t->align == 4);
    int off;
    Member *m = member(t, "ihl", &off);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT(off == 0 && m->ty == ty_u8 && m->bit_off == 0 && m->bit_size == 4);
    m = member(t, "version", &off);
    CU_ASSERT(m && off == 0 && m->ty == ty_u8 && m->bit_off == 4 && m->bit_size == 4);
    m = member(t, "tot_len", &off);
    CU_ASSERT(m && off == 2 && m->ty == ty_u16 && m->bit_size == 0);
    m = member(t, "saddr", &off);       /* inside an anonymous union and struct */
    CU_ASSERT(m && off == 12 && m->ty == ty_u32);
    m = member(t, "daddr", &off);
    CU_ASSERT(m && off == 16);
    m = member(t, "addrs", &off);
    CU_ASSERT(m && off == 12 && m->ty->kind == TY_STRUCT && m->ty->size == 8);
    CU_ASSERT(kernel_type("iphdr") == t);       /* memoised */
}

static void test_tcphdr(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    Type *t = kernel_type("tcphdr");
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT(t->size == 20);
    int off;
    Member *m = member(t, "doff", &off);
    CU_ASSERT(m && off == 12 && m->ty == ty_u16 && m->bit_off == 4 && m->bit_size == 4);
    m = member(t, "syn", &off);
    CU_ASSERT(m && off == 12 && m->bit_off == 9 && m->bit_size == 1);
    m = member(t, "fin", &off);
    CU_ASSERT(m && off == 12 && m->bit_off == 8 && m->bit_size == 1);
    m = member(t, "window", &off);
    CU_ASSERT(m && off == 14 && m->bit_size == 0);
    m = member(t, "seq", &off);
    CU_ASSERT(m && off == 4 && m->ty == ty_u32);
}

static void test_sk_buff(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    Type *t = kernel_type("__sk_buff");
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT(t->size == 192 && t->align == 8);
    int off;
    Member *m = member(t, "cb", &off);
    CU_ASSERT(m && off == 48 && m->ty->kind == TY_ARRAY && m->ty->len == 5 && m->ty->base == ty_u32);
    m = member(t, "data", &off);
    CU_ASSERT(m && off == 76 && m->ty == ty_u32);
    m = member(t, "data_end", &off);
    CU_ASSERT(m && off == 80);
    m = member(t, "flow_keys", &off);
    CU_ASSERT(m && off == 144 && m->ty->kind == TY_PTR && m->ty->base->kind == TY_STRUCT);
    CU_ASSERT(m && m->ty->base->incomplete && m->ty->base->size == 56);   /* a shell */
    m = member(t, "sk", &off);
    CU_ASSERT(m && off == 168 && m->ty->kind == TY_PTR);
    m = member(t, "tstamp_type", &off);
    CU_ASSERT(m && off == 180 && m->ty == ty_u8);
    m = member(t, "hwtstamp", &off);
    CU_ASSERT(m && off == 184 && m->ty == ty_u64);
    int anon = 0;
    for (int i = 0; i < t->nmembers; i++)
        anon += t->members[i].name == NULL;
    CU_ASSERT(anon == 2);
}

static void test_xdp_md(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    Type *t = kernel_type("xdp_md");
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT(t->size == 24 && t->nmembers == 6 && !t->incomplete);
    const char *names[] = { "data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex" };
    for (int i = 0; i < 6; i++) {
        CU_ASSERT(!strcmp(t->members[i].name, names[i]));
        CU_ASSERT(t->members[i].offset == 4 * i && t->members[i].ty == ty_u32);
    }
}

static void test_ipv6hdr(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    Type *t = kernel_type("ipv6hdr");
    CU_ASSERT_FATAL(t != NULL);
    CU_ASSERT(t->size == 40);
    int off;
    Member *m = member(t, "priority", &off);
    CU_ASSERT(m && off == 0 && m->bit_off == 0 && m->bit_size == 4);
    m = member(t, "version", &off);
    CU_ASSERT(m && off == 0 && m->bit_off == 4 && m->bit_size == 4);
    m = member(t, "flow_lbl", &off);
    CU_ASSERT(m && off == 1 && m->ty->kind == TY_ARRAY && m->ty->len == 3);
    m = member(t, "nexthdr", &off);
    CU_ASSERT(m && off == 6);
    m = member(t, "saddr", &off);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT(off == 8 && m->ty->kind == TY_STRUCT && !strcmp(m->ty->name, "in6_addr") && m->ty->size == 16);
    Member *u = member(m->ty, "in6_u", &off);
    CU_ASSERT_FATAL(u && off == 0 && u->ty->kind == TY_UNION && u->ty->size == 16);
    Member *w = member(u->ty, "u6_addr32", &off);
    CU_ASSERT(w && off == 0 && w->ty->len == 4 && w->ty->base == ty_u32);
    m = member(t, "daddr", &off);
    CU_ASSERT(m && off == 24);
}

static void test_typedefs_and_shells(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    CU_ASSERT(kernel_type("__be32") == ty_u32);
    CU_ASSERT(kernel_type("__u32") == ty_u32);
    CU_ASSERT(kernel_type("size_t") == ty_u64);
    CU_ASSERT(kernel_type("__s16") == ty_i16);
    CU_ASSERT(kernel_type("bool") == ty_bool);
    CU_ASSERT(kernel_type("no_such_kernel_type_at_all") == NULL);
    Type *ts = kernel_type("task_struct");
    CU_ASSERT_FATAL(ts != NULL && ts->nmembers > 50);
    int off;
    Member *m = member(ts, "parent", &off);
    CU_ASSERT(m && m->ty->kind == TY_PTR && m->ty->base == ts);   /* one Type per kernel id */
    m = member(ts, "mm", &off);
    CU_ASSERT_FATAL(m && m->ty->kind == TY_PTR);
    Type *mm = m->ty->base;
    CU_ASSERT(mm->kind == TY_STRUCT && mm->incomplete && mm->size > 0 && mm->nmembers == 0);
    CU_ASSERT(member(mm, "pgd", &off) != NULL);     /* completed on demand */
    CU_ASSERT(!mm->incomplete && mm->nmembers > 0);
    m = member(ts, "comm", &off);
    CU_ASSERT(m && m->ty->kind == TY_ARRAY && m->ty->base == ty_char && m->ty->len == 16);
}

/* A shell read from one BTF file is not completed from another. */
static void test_stale_shell(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    Type *ts = kernel_type("task_struct");
    CU_ASSERT_FATAL(ts != NULL);
    int off;
    Member *m = member(ts, "files", &off);
    CU_ASSERT_FATAL(m && m->ty->kind == TY_PTR && m->ty->base->incomplete);
    Type *files = m->ty->base;
    kbtf_set_path("none");
    CU_ASSERT(member(files, "fdt", &off) == NULL);
    CU_ASSERT(!files->incomplete && files->nmembers == 0);
    CU_ASSERT(kernel_type(NULL) == NULL && kernel_type("") == NULL);
    CU_ASSERT(diag_errors() == 0);
}

static void test_enum_values(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    i128 v = -1;
    Type *et = NULL;
    CU_ASSERT(kernel_enum_value("XDP_PASS", &v, &et) && v == 2);
    CU_ASSERT(et && et->kind == TY_ENUM && !strcmp(et->name, "xdp_action") && et->size == 4);
    CU_ASSERT(kernel_enum_value("BPF_F_NO_PREALLOC", &v, &et) && v == 1);
    CU_ASSERT(kernel_enum_value("BPF_ANY", &v, &et) && v == 0);
    CU_ASSERT(kernel_enum_value("TCP_CA_Open", &v, &et) && v == 0);
    CU_ASSERT(kernel_enum_value("BPF_MAP_TYPE_RINGBUF", &v, &et) && v == 27);
    CU_ASSERT(!kernel_enum_value("NO_SUCH_ENUMERATOR_X", &v, &et));
    Type *xa = kernel_type("xdp_action");
    CU_ASSERT(xa && xa->kind == TY_ENUM && xa->nvals == 5 && !xa->is_signed);
}

static void test_kernel_func(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    const char **names = NULL;
    Type *f = kernel_func("tcp_v4_connect", &names);
    CU_ASSERT_FATAL(f != NULL && names != NULL);
    CU_ASSERT(f->kind == TY_FUNC && f->nparams == 3 && f->ret == ty_i32);
    CU_ASSERT(!strcmp(names[0], "sk") && !strcmp(names[1], "uaddr") && !strcmp(names[2], "addr_len"));
    CU_ASSERT(f->params[0]->kind == TY_PTR && !strcmp(f->params[0]->base->name, "sock"));
    CU_ASSERT(f->params[2] == ty_i32);
    CU_ASSERT(kernel_func("no_such_function_xyz", &names) == NULL);
    CU_ASSERT(kernel_func("iphdr", &names) == NULL);    /* a struct, not a function */
}

static void test_member_func(void)
{
    if (!have_btf())
        return;
    start(NULL, NULL);
    Type *ops = kernel_type("tcp_congestion_ops");
    CU_ASSERT_FATAL(ops != NULL);
    const char **names = NULL;
    Type *f = kernel_member_func(ops, "ssthresh", &names);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(f->nparams == 1 && f->params[0]->kind == TY_PTR && f->ret == ty_u32 && names[0]);
    f = kernel_member_func(ops, "cong_avoid", &names);
    CU_ASSERT(f && f->nparams == 3 && f->ret == ty_void && f->params[1] == ty_u32);
    CU_ASSERT(kernel_member_func(ops, "name", &names) == NULL);
    CU_ASSERT(kernel_member_func(ops, "no_such_member", &names) == NULL);
}

/* ---- the fallback set equals vmlinux ------------------------------------ */

static void same_layout(Type *a, Type *b, const char *path, int depth)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s: kind %d/%d size %d/%d", path, a->kind, b->kind, a->size, b->size);
    if (a->kind != b->kind || a->size != b->size) {
        CU_FAIL(msg);
        printf("    differs: %s\n", msg);
        return;
    }
    if (a->kind == TY_ARRAY && (a->len != b->len || depth > 8))
        CU_FAIL(path);
    if (a->kind == TY_ARRAY && depth <= 8)
        same_layout(a->base, b->base, xfmt("%s[]", path), depth + 1);
    if (a->kind == TY_PTR && a->base->kind != b->base->kind)
        CU_FAIL(path);
    if (a->kind == TY_PTR && a->base->name && (!b->base->name || strcmp(a->base->name, b->base->name)))
        CU_FAIL(path);
    if (a->kind == TY_INT || a->kind == TY_ENUM)
        CU_ASSERT(a->is_signed == b->is_signed);
    if (a->kind == TY_ENUM) {
        CU_ASSERT_FATAL(a->nvals == b->nvals);
        for (int i = 0; i < a->nvals; i++)
            CU_ASSERT(!strcmp(a->vals[i].name, b->vals[i].name) && a->vals[i].val == b->vals[i].val);
    }
    if (a->kind != TY_STRUCT && a->kind != TY_UNION)
        return;
    CU_ASSERT(a->align == b->align);
    if (a->nmembers != b->nmembers) {
        printf("    differs: %s: %d/%d members\n", path, a->nmembers, b->nmembers);
        CU_FAIL(path);
        return;
    }
    for (int i = 0; i < a->nmembers; i++) {
        Member *x = &a->members[i], *y = &b->members[i];
        const char *p = xfmt("%s.%s", path, x->name ? x->name : "<anon>");
        bool ok = (x->name ? y->name && !strcmp(x->name, y->name) : !y->name) && x->offset == y->offset
                  && x->bit_off == y->bit_off && x->bit_size == y->bit_size;
        if (!ok)
            printf("    differs: %s: offset %d/%d bits %d:%d/%d:%d\n", p, x->offset, y->offset, x->bit_off,
                   x->bit_size, y->bit_off, y->bit_size);
        CU_ASSERT(ok);
        if (depth < 8)
            same_layout(x->ty, y->ty, p, depth + 1);
    }
}

static void test_fallback_equals_vmlinux(void)
{
    if (!have_btf())
        return;
    start("none", NULL);
    CU_ASSERT(!kbtf_available());
    Type *fb[32];
    int n = 0;
    for (; builtin_kernel_names[n]; n++) {
        fb[n] = kernel_type(builtin_kernel_names[n]);
        CU_ASSERT(fb[n] && fb[n]->kernel && fb[n]->kbtf_id == 0);
    }
    i128 v;
    Type *et;
    CU_ASSERT(kernel_enum_value("XDP_TX", &v, &et) && v == 3 && et == kernel_type("xdp_action"));
    /* the arena keeps the fallback Types while BTF is read */
    kbtf_set_path(NULL);
    CU_ASSERT_FATAL(kbtf_available());
    for (int i = 0; i < n; i++) {
        Type *k = kernel_type(builtin_kernel_names[i]);
        CU_ASSERT_FATAL(k != NULL);
        same_layout(fb[i], k, builtin_kernel_names[i], 0);
    }
}

static void test_fallback_without_btf(void)
{
    start("none", NULL);
    int before = kbtf_parse_count();
    Type *t = kernel_type("iphdr");
    CU_ASSERT_FATAL(t != NULL);
    int off;
    Member *m = member(t, "version", &off);
    CU_ASSERT(m && off == 0 && m->bit_off == 4 && m->bit_size == 4);
    CU_ASSERT(member(t, "daddr", &off) && off == 16);
    CU_ASSERT(kernel_type("task_struct") == NULL);
    const char **names;
    CU_ASSERT(kernel_func("tcp_v4_connect", &names) == NULL);
    CU_ASSERT(kernel_type("@iphdr.addrs") == NULL);
    CU_ASSERT(kbtf_parse_count() == before);
    CU_ASSERT(diag_errors() == 0);
}

/* ---- the cache ------------------------------------------------------------ */

static char *cache_file(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s/btf-*.cache 2>/dev/null | head -1", cache_dir);
    FILE *p = popen(cmd, "r");
    static char line[400];
    line[0] = 0;
    if (p) {
        if (!fgets(line, sizeof line, p))
            line[0] = 0;
        pclose(p);
    }
    line[strcspn(line, "\n")] = 0;
    return line[0] ? line : NULL;
}

static void test_cache_second_lookup(void)
{
    if (!have_btf())
        return;
    const char *dir = fresh_cache();
    CU_ASSERT_FATAL(dir != NULL);
    start(NULL, dir);
    int p0 = kbtf_parse_count();
    Type *ts = kernel_type("task_struct");
    CU_ASSERT_FATAL(ts != NULL);
    int off;
    Member *mm = member(ts, "mm", &off);
    CU_ASSERT_FATAL(mm != NULL);
    CU_ASSERT(member(mm->ty->base, "pgd", &off) != NULL);      /* completion is cached too */
    CU_ASSERT(kernel_type("iphdr") != NULL);
    CU_ASSERT(kbtf_parse_count() == p0 + 1);
    int tsize = ts->size, nm = ts->nmembers;
    start(NULL, dir);           /* kbtf_reset wrote the cache */
    CU_ASSERT(cache_file() != NULL);
    ts = kernel_type("task_struct");
    CU_ASSERT(ts && ts->size == tsize && ts->nmembers == nm);
    mm = member(ts, "mm", &off);
    CU_ASSERT(mm && member(mm->ty->base, "pgd", &off) != NULL);
    Type *ip = kernel_type("iphdr");
    CU_ASSERT(ip && member(ip, "version", &off) && member(ip, "version", &off)->bit_off == 4);
    CU_ASSERT(kbtf_parse_count() == p0 + 1);       /* no second parse */
}

static void test_cache_absent_names(void)
{
    if (!have_btf())
        return;
    const char *dir = fresh_cache();
    CU_ASSERT_FATAL(dir != NULL);
    start(NULL, dir);
    int p0 = kbtf_parse_count();
    i128 v;
    CU_ASSERT(kernel_type("my_undefined_type") == NULL);
    CU_ASSERT(!kernel_enum_value("MY_UNDEFINED_CONST", &v, NULL));
    CU_ASSERT(kernel_func("my_undefined_func", NULL) == NULL);
    CU_ASSERT(kbtf_parse_count() == p0 + 1);
    start(NULL, dir);
    CU_ASSERT(kernel_type("my_undefined_type") == NULL);
    CU_ASSERT(!kernel_enum_value("MY_UNDEFINED_CONST", &v, NULL));
    CU_ASSERT(kernel_func("my_undefined_func", NULL) == NULL);
    CU_ASSERT(kbtf_parse_count() == p0 + 1);
    CU_ASSERT(kbtf_available());
}

/* Damages the cache file: mode 0 flips a byte in the middle, 1 cuts it
 * in half, 2 replaces it with a few bytes. */
static void damage(const char *file, int mode)
{
    struct stat st;
    CU_ASSERT_FATAL(stat(file, &st) == 0 && st.st_size > 64);
    if (mode == 1) {
        CU_ASSERT(truncate(file, st.st_size / 2) == 0);
        return;
    }
    FILE *f = fopen(file, mode == 2 ? "w" : "r+");
    CU_ASSERT_FATAL(f != NULL);
    if (mode == 2) {
        fputs("ksc", f);
    } else {
        fseek(f, st.st_size / 2, SEEK_SET);
        int c = fgetc(f);
        fseek(f, st.st_size / 2, SEEK_SET);
        fputc(c ^ 0x55, f);
    }
    fclose(f);
}

static void test_cache_corrupt(void)
{
    if (!have_btf())
        return;
    for (int mode = 0; mode < 3; mode++) {
        const char *dir = fresh_cache();
        CU_ASSERT_FATAL(dir != NULL);
        start(NULL, dir);
        int p0 = kbtf_parse_count();
        CU_ASSERT(kernel_type("__sk_buff") != NULL);
        start(NULL, dir);
        char *file = cache_file();
        CU_ASSERT_FATAL(file != NULL);
        damage(file, mode);
        Type *t = kernel_type("__sk_buff");     /* ignored: parsed again, same answer */
        int off;
        CU_ASSERT(t && t->size == 192 && member(t, "hwtstamp", &off) && off == 184);
        CU_ASSERT(kbtf_parse_count() == p0 + 2);
        start(NULL, dir);                       /* ... and rebuilt */
        t = kernel_type("__sk_buff");
        CU_ASSERT(t && t->size == 192);
        CU_ASSERT(kbtf_parse_count() == p0 + 2);
        CU_ASSERT(diag_errors() == 0);
    }
}

/* Caches of other kernels for the same path: the newest three stay. */
static void test_cache_stale(void)
{
    if (!have_btf())
        return;
    const char *dir = fresh_cache();
    CU_ASSERT_FATAL(dir != NULL);
    start(NULL, dir);
    CU_ASSERT(kernel_type("udphdr") != NULL);
    start(NULL, dir);
    char own[400];
    snprintf(own, sizeof own, "%s", cache_file());
    const char *base = strrchr(own, '/') + 1;
    for (int i = 0; i < 5; i++) {       /* btf-PATHHASH-IDHASH.cache, older and older */
        char p[400];
        snprintf(p, sizeof p, "%s/%.13s%016d.cache", dir, base, i);
        FILE *f = fopen(p, "w");
        CU_ASSERT_FATAL(f != NULL);
        fclose(f);
        struct timespec ts[2] = { { 1000000 - i * 1000, 0 }, { 1000000 - i * 1000, 0 } };
        CU_ASSERT(utimensat(AT_FDCWD, p, ts, 0) == 0);
    }
    CU_ASSERT(kernel_type("icmphdr") != NULL);      /* a miss: the cache is rewritten */
    start(NULL, dir);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c 'cache$'", dir);
    FILE *ls = popen(cmd, "r");
    int count = 0;
    CU_ASSERT(ls && fscanf(ls, "%d", &count) == 1);
    if (ls)
        pclose(ls);
    CU_ASSERT(count == 4);
    char newest[400];
    snprintf(newest, sizeof newest, "%s/%.13s%016d.cache", dir, base, 0);
    CU_ASSERT(access(newest, F_OK) == 0);
    CU_ASSERT(access(own, F_OK) == 0);
}

static void test_cache_unusable_dir(void)
{
    if (!have_btf())
        return;
    start(NULL, "/proc/no-such-dir/ksc");
    CU_ASSERT(kernel_type("iphdr") != NULL);
    start(NULL, "/dev/null");
    CU_ASSERT(kernel_type("iphdr") != NULL);
    CU_ASSERT(diag_errors() == 0);
}

/* ---- broken BTF files ----------------------------------------------------- */

/* Paths outlive unit_reset (the arena), so they live here. */
static char paths[8][320];
static int npaths;

static const char *path_in_cache(const char *name)
{
    char *p = paths[npaths++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", cache_dir, name);
    return p;
}

static const char *write_file(const char *name, const void *data, size_t len)
{
    const char *p = path_in_cache(name);
    FILE *f = fopen(p, "w");
    if (!f)
        return NULL;
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

static void quiet_check(const char *path, int want_errors)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_set_output(mem);
    Type *t = kernel_type("xdp_md");            /* the built-in set answers */
    CU_ASSERT(t && t->size == 24 && t->kbtf_id == 0);
    CU_ASSERT(!kbtf_available());
    CU_ASSERT(kernel_type("task_struct") == NULL);
    fclose(mem);
    diag_set_output(NULL);
    CU_ASSERT(diag_errors() == want_errors);
    if (want_errors)
        CU_ASSERT(buf && strstr(buf, "ksc: error:") && strstr(buf, path));
    free(buf);
}

static void test_bad_btf_files(void)
{
    CU_ASSERT_FATAL(fresh_cache() != NULL);
    const char *garbage = write_file("garbage", "hello, world\n", 13);
    start(garbage, cache_dir);
    quiet_check(garbage, 1);
    /* BTF magic, then nonsense */
    unsigned char hdr[64] = { 0x9f, 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0, 255, 255, 0, 0 };
    const char *trunc = write_file("truncated", hdr, sizeof hdr);
    start(trunc, cache_dir);
    quiet_check(trunc, 1);
    const char *missing = path_in_cache("missing");
    start(missing, cache_dir);
    quiet_check(missing, 1);
    start(NULL, cache_dir);
    kbtf_set_path("none");
    quiet_check("none", 0);
}

/* A BTF file with what only a hostile or broken file has: a typedef that
 * names itself, a struct that embeds itself, ids past the end, and a
 * bitfield straddling its natural unit in a packed struct. */
static void test_crafted_btf(void)
{
    CU_ASSERT_FATAL(fresh_cache() != NULL);
    struct btf *b = btf__new_empty();
    int u8 = btf__add_int(b, "unsigned char", 1, 0);            /* 1 */
    int u16 = btf__add_int(b, "unsigned short", 2, 0);          /* 2 */
    int self = btf__add_typedef(b, "loop_t", 3);                /* 3: itself */
    int s = btf__add_struct(b, "selfish", 4);                   /* 4 */
    btf__add_field(b, "me", 4, 0, 0);
    btf__add_field(b, "lp", self, 0, 0);
    int p = btf__add_struct(b, "packed_bits", 3);               /* 5 */
    btf__add_field(b, "a", u8, 0, 0);
    btf__add_field(b, "b", u16, 12, 8);                         /* bits 12..19 */
    btf__add_field(b, "c", u8, 16, 0);
    btf__add_struct(b, "far", 8);                               /* 6 */
    btf__add_field(b, "x", 9999, 0, 0);
    CU_ASSERT_FATAL(u8 == 1 && u16 == 2 && self == 3 && s == 4 && p == 5);
    uint32_t len;
    const void *raw = btf__raw_data(b, &len);
    const char *path = write_file("crafted.btf", raw, len);
    btf__free(b);
    start(path, cache_dir);
    char *buf = NULL;
    size_t blen = 0;
    FILE *mem = open_memstream(&buf, &blen);
    diag_set_output(mem);
    Type *t = kernel_type("packed_bits");       /* a bad id: the file is refused */
    fclose(mem);
    diag_set_output(NULL);
    free(buf);
    CU_ASSERT(t == NULL && diag_errors() == 1);
    /* the same without the bad id must convert, loops and all */
    b = btf__new_empty();
    btf__add_int(b, "unsigned char", 1, 0);
    btf__add_int(b, "unsigned short", 2, 0);
    btf__add_typedef(b, "loop_t", 3);
    btf__add_struct(b, "selfish", 4);
    btf__add_field(b, "me", 4, 0, 0);
    btf__add_field(b, "lp", 3, 0, 0);
    btf__add_struct(b, "packed_bits", 3);
    btf__add_field(b, "a", 1, 0, 0);
    btf__add_field(b, "b", 2, 12, 8);
    btf__add_field(b, "c", 1, 16, 0);
    raw = btf__raw_data(b, &len);
    path = write_file("crafted2.btf", raw, len);
    btf__free(b);
    for (int round = 0; round < 2; round++) {   /* from BTF, then from the cache */
        start(path, cache_dir);
        Type *pb = kernel_type("packed_bits");
        CU_ASSERT_FATAL(pb != NULL);
        CU_ASSERT(pb->align == 1 && pb->nmembers == 3);
        int off;
        Member *m = member(pb, "b", &off);
        CU_ASSERT(m && off == 1 && m->bit_off == 4 && m->bit_size == 8 && m->ty->size == 2);
        Type *sf = kernel_type("selfish");
        CU_ASSERT(sf && sf->nmembers == 2);
        CU_ASSERT(kernel_type("loop_t") != NULL);
        CU_ASSERT(diag_errors() == 0);
    }
}

/* ---- headers ------------------------------------------------------------- */

/* The header parses as it is, and a program including it checks, with
 * BTF (header structs stand for the kernel's) and without. */
static void header_checks(const char *kind, const char *btf)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int rc = kbtf_write_header(kind, mem);
    fclose(mem);
    CU_ASSERT_FATAL(rc == 0 && buf);
    const char *kh = write_file("h.kh", buf, len);
    char *out = NULL;
    size_t olen = 0;
    FILE *diag = open_memstream(&out, &olen);
    diag_set_output(diag);
    FrontOpts opts = { .btf_path = btf };
    parse_buffer("h.kh", buf, len, &opts);
    int parse_errors = diag_errors();
    const char *src = xfmt("include \"%s\"\n@xdp fn p(ctx: *xdp_md) -> xdp_action { return XDP_PASS }\n", kh);
    Program *prog = parse_buffer("main.ks", src, strlen(src), &opts);
    check_program(prog, &opts);
    fclose(diag);
    diag_set_output(NULL);
    if (diag_errors())
        printf("    %s (btf %s):\n%s\n", kind, btf ? btf : "default", out);
    CU_ASSERT(parse_errors == 0);
    CU_ASSERT(diag_errors() == 0);
    if (!strcmp(kind, "xdp") && !diag_errors()) {
        Type *ctx = prog->funcs.v[0]->params.v[0]->ty->base;
        CU_ASSERT(ctx->size == 24 && ctx->nmembers == 6);
        if (!btf)                           /* the kernel's type stands in */
            CU_ASSERT(ctx->kernel && ctx->kbtf_id > 0);
    }
    free(out);
    free(buf);
}

static void test_headers(void)
{
    CU_ASSERT_FATAL(fresh_cache() != NULL);
    start("none", NULL);
    header_checks("xdp", "none");               /* from the built-in set */
    start("none", NULL);
    header_checks("tc", "none");
    if (!have_btf())
        return;
    const char *kinds[] = { "xdp", "tc", "tracepoint/syscalls/sys_enter_openat",
                            "tracepoint/sched/sched_switch", "tracepoint/sched/sched_wakeup",
                            "probe/tcp_v4_connect",
                            "struct_ops/tcp_congestion_ops", NULL };
    for (int i = 0; kinds[i]; i++) {
        start(NULL, NULL);
        header_checks(kinds[i], NULL);
        start(NULL, NULL);
        header_checks(kinds[i], "none");        /* the header alone, no BTF */
    }
    start(NULL, NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    CU_ASSERT(kbtf_write_header("xdp", mem) == 0);
    fclose(mem);
    CU_ASSERT(buf && strstr(buf, "struct xdp_md {") && strstr(buf, "XDP_PASS = 2,"));
    free(buf);
    FILE *null = fopen("/dev/null", "w");
    CU_ASSERT(kbtf_write_header("nonsense", null) == 2);
    CU_ASSERT(kbtf_write_header("probe/no_such_function_q", null) == 1);
    fclose(null);
}

/* ---- speed ------------------------------------------------------------- */

static double ms_since(struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Cold: empty cache, so kernel BTF is parsed. Warm: a new "process" (all
 * state dropped) with the cache from the cold round. Figures are under
 * the sanitizers here; bench/kbtf_time.c measures an optimised build. */
static void test_timing(void)
{
    if (!have_btf())
        return;
    const char *names[] = { "xdp_md", "__sk_buff", "iphdr", "task_struct" };
    const char *dir = fresh_cache();
    for (int round = 0; round < 2; round++) {
        start(NULL, dir);
        printf("    %s:", round ? "warm" : "cold");
        for (int i = 0; i < 4; i++) {
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            CU_ASSERT(kernel_type(names[i]) != NULL);
            printf(" %s %.3f ms", names[i], ms_since(&t0));
        }
        printf("\n");
    }
}

static void test_cleanup(void)
{
    if (cache_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
        CU_ASSERT(system(cmd) == 0);
        cache_dir[0] = 0;
    }
    unit_reset();
}

UNIT_SUITE(kbtf, UT(test_iphdr), UT(test_tcphdr), UT(test_sk_buff), UT(test_xdp_md), UT(test_ipv6hdr),
           UT(test_typedefs_and_shells), UT(test_stale_shell), UT(test_enum_values), UT(test_kernel_func), UT(test_member_func),
           UT(test_fallback_equals_vmlinux), UT(test_fallback_without_btf), UT(test_cache_second_lookup),
           UT(test_cache_absent_names), UT(test_cache_corrupt), UT(test_cache_stale), UT(test_cache_unusable_dir),
           UT(test_bad_btf_files), UT(test_crafted_btf), UT(test_headers), UT(test_timing), UT(test_cleanup))
