/* ksrt: the embedded BPF object (open, pins, load), its globals through
 * the mmapped .data/.bss/.rodata maps, the pinned globals, maps and ring
 * buffers. */
#include "ksrt.h"

#include <bpf/btf.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

struct bpf_object *ks_obj;
static int ks_load_state;      /* 0 not yet, 1 loaded, a negative errno after a failure */
static char ks_pin_root[256], ks_pins_path[256];

static void ks_fatal(const char *fmt, const char *a, const char *b) __attribute__((noreturn));
static void ks_fatal(const char *fmt, const char *a, const char *b)
{
    fflush(stdout);
    fprintf(stderr, "%s: ", ks_progname);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(1);
}

/* ---- open and load ------------------------------------------------------ */

void ks_obj_open(void)
{
    snprintf(ks_pin_root, sizeof ks_pin_root, "/sys/fs/bpf/%s/maps", ks_cfg->project);
    snprintf(ks_pins_path, sizeof ks_pins_path, "/sys/fs/bpf/%s/globals/pinned_globals", ks_cfg->project);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = ks_cfg->project, .pin_root_path = ks_pin_root);
    ks_obj = bpf_object__open_mem(ks_cfg->obj, ks_cfg->obj_len, &opts);
    if (!ks_obj)
        ks_fatal("cannot open the embedded BPF object: %s%s", strerror(errno), "");
    struct bpf_map *pins = bpf_object__find_map_by_name(ks_obj, "pinned_globals");
    if (pins && bpf_map__set_pin_path(pins, ks_pins_path))
        ks_fatal("cannot set the pin path %s: %s", ks_pins_path, strerror(errno));
}

static int ks_mkdirs(const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(buf, 0700) && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(buf, 0700) && errno != EEXIST)
        return -errno;
    return 0;
}

/* Pinned maps need bpffs at /sys/fs/bpf and their folders. */
static int ks_prepare_pins(void)
{
    struct bpf_map *m;
    bool any = false;
    bpf_object__for_each_map(m, ks_obj) any |= bpf_map__pin_path(m) != NULL;
    if (!any)
        return 0;
    struct statfs st;
    if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC) {
        if (mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
            int e = errno;
            fprintf(stderr, "%s: /sys/fs/bpf is not a BPF file system and cannot be mounted: %s\n", ks_progname,
                    strerror(e));
            return -e;
        }
    }
    bpf_object__for_each_map(m, ks_obj) {
        const char *p = bpf_map__pin_path(m);
        if (!p)
            continue;
        char dir[256];
        snprintf(dir, sizeof dir, "%s", p);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        int err = ks_mkdirs(dir);
        if (err) {
            fprintf(stderr, "%s: cannot create %s: %s\n", ks_progname, dir, strerror(-err));
            return err;
        }
    }
    return 0;
}

/* libbpf 1.1 maps .data/.bss/.rodata onto the kernel's maps only in its
 * skeleton loader; do what it does, at the same address, so pointers taken
 * before the load stay valid and now reach the kernel's memory. */
static int ks_remap_globals(void)
{
    struct bpf_map *m;
    long page = sysconf(_SC_PAGESIZE);
    bpf_object__for_each_map(m, ks_obj) {
        if (!bpf_map__is_internal(m) || !(bpf_map__map_flags(m) & BPF_F_MMAPABLE))
            continue;
        size_t sz;
        void *addr = (void *)(uintptr_t)bpf_map__initial_value(m, &sz);
        if (!addr)
            continue;
        size_t len = ((size_t)(bpf_map__value_size(m) + 7) / 8 * 8 * bpf_map__max_entries(m) + (size_t)page - 1)
                     / (size_t)page * (size_t)page;
        int prot = bpf_map__map_flags(m) & BPF_F_RDONLY_PROG ? PROT_READ : PROT_READ | PROT_WRITE;
        if (mmap(addr, len, prot, MAP_SHARED | MAP_FIXED, bpf_map__fd(m), 0) == MAP_FAILED) {
            int e = errno;
            fprintf(stderr, "%s: cannot map %s: %s\n", ks_progname, bpf_map__name(m), strerror(e));
            return -e;
        }
    }
    return 0;
}

static int ks_do_load(void)
{
    int err = ks_prepare_pins();
    if (err)
        return err;
    /* pinned globals get their initial values only when the pin is new */
    bool pins_new = bpf_object__find_map_by_name(ks_obj, "pinned_globals") && access(ks_pins_path, F_OK) != 0;
    err = ks_kmod_load();
    if (err)
        return err;
    err = bpf_object__load(ks_obj);
    if (err) {
        fprintf(stderr, "%s: cannot load the BPF object: %s\n", ks_progname, strerror(-err));
        return err;
    }
    err = ks_remap_globals();
    if (err)
        return err;
    ks_load_state = 1;          /* the initial values are written through the loaded map */
    if (pins_new && ks_cfg->pins_init)
        ks_cfg->pins_init();
    return 0;
}

int ks_obj_load(void)
{
    if (ks_load_state == 1)
        return 0;
    if (ks_load_state < 0)
        return ks_load_state;
    if (!ks_obj) {
        fprintf(stderr, "%s: this program has no BPF object\n", ks_progname);
        ks_load_state = -ENOENT;
        return ks_load_state;
    }
    int err = ks_do_load();
    ks_load_state = err ? (err < 0 ? err : -err) : 1;
    return err;
}

void ks_need_loaded(const char *why)
{
    if (ks_obj_load())
        ks_fatal("%s needs the BPF object, which did not load%s", why, "");
}

/* ---- globals --------------------------------------------------------------- */

static struct bpf_map *ks_section_map(const char *sec)
{
    struct bpf_map *m = bpf_object__find_map_by_name(ks_obj, sec);
    if (m)
        return m;
    size_t ls = strlen(sec);
    bpf_object__for_each_map(m, ks_obj) {
        const char *n = bpf_map__name(m);
        size_t ln = strlen(n);
        if (bpf_map__is_internal(m) && ln >= ls && !strcmp(n + ln - ls, sec))
            return m;
    }
    return NULL;
}

void *ks_global(const char *name, size_t size)
{
    if (!ks_obj)
        ks_fatal("global '%s' needs the BPF object, which this program lacks%s", name, "");
    const struct btf *btf = bpf_object__btf(ks_obj);
    for (unsigned id = 1; btf && id < btf__type_cnt(btf); id++) {
        const struct btf_type *t = btf__type_by_id(btf, id);
        if (!btf_is_datasec(t))
            continue;
        const struct btf_var_secinfo *vs = btf_var_secinfos(t);
        for (int i = 0; i < btf_vlen(t); i++, vs++) {
            const struct btf_type *v = btf__type_by_id(btf, vs->type);
            if (strcmp(btf__name_by_offset(btf, v->name_off), name))
                continue;
            const char *sec = btf__name_by_offset(btf, t->name_off);
            struct bpf_map *m = ks_section_map(sec);
            size_t sz = 0;
            char *base = m ? (char *)(uintptr_t)bpf_map__initial_value(m, &sz) : NULL;
            if (!base || vs->offset + size > sz || vs->size != size)
                ks_fatal("global '%s' in %s does not match this program", name, sec);
            return base + vs->offset;
        }
    }
    ks_fatal("global '%s' is not in the BPF object%s", name, "");
}

static struct bpf_map *ks_pins_map(size_t size)
{
    ks_need_loaded("a pinned global");
    struct bpf_map *m = bpf_object__find_map_by_name(ks_obj, "pinned_globals");
    if (!m || bpf_map__value_size(m) != size)
        ks_fatal("the pinned globals in %s do not match this program%s", ks_pins_path, "");
    return m;
}

void ks_pins_read(void *dst, size_t size)
{
    uint32_t key = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(ks_pins_map(size)), &key, dst))
        memset(dst, 0, size);
}

void ks_pins_write(const void *src, size_t size)
{
    uint32_t key = 0;
    if (bpf_map_update_elem(bpf_map__fd(ks_pins_map(size)), &key, src, BPF_ANY))
        fprintf(stderr, "%s: cannot write the pinned globals: %s\n", ks_progname, strerror(errno));
}

/* ---- maps ----------------------------------------------------------------------- */

int ks_ncpus(void)
{
    static int n;
    if (!n) {
        n = libbpf_num_possible_cpus();
        if (n <= 0)
            ks_fatal("cannot count the possible CPUs%s%s", "", "");
    }
    return n;
}

void ks_freep(void *p) { free(*(void **)p); }

static int ks_map_fd(ks_map *m)
{
    if (m->fd > 0)
        return m->fd;
    ks_need_loaded(m->name);
    struct bpf_map *bm = bpf_object__find_map_by_name(ks_obj, m->name);
    if (!bm)
        ks_fatal("map '%s' is not in the BPF object%s", m->name, "");
    if (bpf_map__key_size(bm) != m->key_size || bpf_map__value_size(bm) != m->value_size)
        ks_fatal("map '%s' in the BPF object does not match this program%s", m->name, "");
    m->fd = bpf_map__fd(bm);
    return m->fd;
}

static size_t ks_stride(ks_map *m) { return ((size_t)m->value_size + 7) / 8 * 8; }

/* A per-CPU value: one slot per possible CPU, each 8-byte aligned. */
static void *ks_percpu_buf(ks_map *m)
{
    static void *buf;
    static size_t cap;
    size_t need = ks_stride(m) * (size_t)ks_ncpus();
    if (need > cap) {
        free(buf);
        buf = calloc(1, need);
        if (!buf)
            ks_fatal("out of memory%s%s", "", "");
        cap = need;
    }
    memset(buf, 0, need);
    return buf;
}

bool ks_map_get(ks_map *m, const void *key, void *val)
{
    int fd = ks_map_fd(m);
    if (!m->percpu) {
        if (!bpf_map_lookup_elem(fd, key, val))
            return true;
        memset(val, 0, m->value_size);
        return false;
    }
    char *buf = ks_percpu_buf(m);
    memset(val, 0, m->value_size);
    if (bpf_map_lookup_elem(fd, key, buf))
        return false;
    memcpy(val, buf, m->value_size);
    for (int c = 1; c < ks_ncpus(); c++)
        m->sum(val, buf + (size_t)c * ks_stride(m));
    return true;
}

bool ks_map_has(ks_map *m, const void *key)
{
    void *scratch = m->percpu ? ks_percpu_buf(m) : calloc(1, m->value_size);
    bool found = !bpf_map_lookup_elem(ks_map_fd(m), key, scratch);
    if (!m->percpu)
        free(scratch);
    return found;
}

static bool ks_map_write(ks_map *m, const void *key, const void *val, uint64_t flags)
{
    int fd = ks_map_fd(m);
    int err;
    if (m->percpu) {
        char *buf = ks_percpu_buf(m);
        memcpy(buf, val, m->value_size);
        err = bpf_map_update_elem(fd, key, buf, flags);
    } else {
        err = bpf_map_update_elem(fd, key, val, flags);
    }
    if (err && errno != ENOENT && !m->warned) {
        m->warned = true;
        fprintf(stderr, "%s: update of map '%s' failed: %s\n", ks_progname, m->name, strerror(errno));
    }
    return !err;
}

void ks_map_put(ks_map *m, const void *key, const void *val) { ks_map_write(m, key, val, BPF_ANY); }

bool ks_map_update(ks_map *m, const void *key, const void *val) { return ks_map_write(m, key, val, BPF_EXIST); }

void ks_map_del(ks_map *m, const void *key) { bpf_map_delete_elem(ks_map_fd(m), key); }

void *ks_map_keys(ks_map *m, size_t *n)
{
    int fd = ks_map_fd(m);
    size_t cap = 16, count = 0, ks = m->key_size;
    char *keys = malloc(cap * ks);
    char *prev = NULL;
    while (keys) {
        if (count == cap) {
            char *grown = realloc(keys, 2 * cap * ks);
            if (!grown)
                break;
            keys = grown;
            cap *= 2;
            prev = count ? keys + (count - 1) * ks : NULL;
        }
        if (bpf_map_get_next_key(fd, prev, keys + count * ks))
            break;
        prev = keys + count * ks;
        count++;
    }
    if (!keys)
        ks_fatal("out of memory reading map '%s'%s", m->name, "");
    *n = count;
    return keys;
}

void *ks_map_per_cpu(ks_map *m, const void *key, void **buf)
{
    int n = ks_ncpus();
    char *out = realloc(*buf, (size_t)n * m->value_size);
    if (!out)
        ks_fatal("out of memory%s%s", "", "");
    *buf = out;
    memset(out, 0, (size_t)n * m->value_size);
    char *raw = ks_percpu_buf(m);
    if (!bpf_map_lookup_elem(ks_map_fd(m), key, raw))
        for (int c = 0; c < n; c++)
            memcpy(out + (size_t)c * m->value_size, raw + (size_t)c * ks_stride(m), m->value_size);
    return out;
}

/* ---- ring buffers ---------------------------------------------------------------------- */

static bool ks_rb_stop;
static int32_t ks_rb_value;

int32_t ks_rb_on_event(ks_map *rb, ks_rb_handler h, size_t event_size)
{
    rb->on_event = h;
    rb->event_size = event_size;
    return 0;
}

/* The handler gets its own aligned, writable copy of the event (the ring
 * is mapped read-only); a non-zero result or a throw stops the dispatch. */
static int ks_rb_sample(void *ctx, void *data, size_t size)
{
    ks_map *rb = ctx;
    if (!rb->on_event)
        return 0;
    static void *copy;
    static size_t cap;
    size_t need = size > rb->event_size ? size : rb->event_size;
    if (need > cap) {
        free(copy);
        copy = aligned_alloc(16, (need + 15) / 16 * 16);
        cap = copy ? (need + 15) / 16 * 16 : 0;
        if (!copy)
            return -ENOMEM;
    }
    memset(copy, 0, need);
    memcpy(copy, data, size);
    int32_t r = rb->on_event(copy);
    if (r || ks_exc) {
        ks_rb_stop = true;
        ks_rb_value = ks_exc ? 0 : r;
        return -1;
    }
    return 0;
}

int32_t ks_dispatch(ks_map **rbs, int n)
{
    struct ring_buffer *r = NULL;
    for (int i = 0; i < n; i++) {
        int fd = ks_map_fd(rbs[i]);
        if (!rbs[i]->on_event)
            fprintf(stderr, "%s: dispatch: ring buffer '%s' has no on_event handler\n", ks_progname, rbs[i]->name);
        int err = 0;
        if (!r)
            r = ring_buffer__new(fd, ks_rb_sample, rbs[i], NULL);
        else
            err = ring_buffer__add(r, fd, ks_rb_sample, rbs[i]);
        if (!r || err) {
            int e = r ? -err : errno;
            fprintf(stderr, "%s: dispatch: ring buffer '%s': %s\n", ks_progname, rbs[i]->name, strerror(e));
            ring_buffer__free(r);
            return -e;
        }
    }
    ks_rb_stop = false;
    int32_t result = 0;
    for (;;) {
        int err = ring_buffer__poll(r, 100);
        if (ks_rb_stop) {
            result = ks_rb_value;
            break;
        }
        if (err < 0 && err != -EINTR) {
            fprintf(stderr, "%s: dispatch: %s\n", ks_progname, strerror(-err));
            result = err;
            break;
        }
    }
    ring_buffer__free(r);
    return result;
}
