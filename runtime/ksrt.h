/* ksrt: the support code ksc compiles into every userspace program it
 * generates. ksc pastes this header and the runtime's .c files in front of
 * the generated code, so a generated program is one self-contained C file
 * that needs only libbpf (1.1 or newer), libelf and zlib.
 *
 * Everything here is named ks_*; the generated code prefixes every name
 * from the .ks file (v*_, f_, g_, m_, s_), so the two never clash. */
#ifndef KSRT_H
#define KSRT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* ---- exceptions: `throw` sets the pending error; callers test it ------- */

extern bool ks_exc;
extern int32_t ks_exc_code;

static inline __attribute__((unused)) void ks_throw(int32_t code)
{
    ks_exc = true;
    ks_exc_code = code;
}

/* ---- integer rules of LANGUAGE.md section 2 ---------------------------- */

/* Division by zero yields 0 and modulo by zero the dividend (the BPF rule);
 * INT64_MIN / -1 wraps instead of trapping. */
static inline __attribute__((unused)) uint64_t ks_udiv(uint64_t a, uint64_t b) { return b ? a / b : 0; }
static inline __attribute__((unused)) uint64_t ks_umod(uint64_t a, uint64_t b) { return b ? a % b : a; }
static inline __attribute__((unused)) int64_t ks_sdiv(int64_t a, int64_t b)
{
    if (!b)
        return 0;
    if (b == -1)
        return (int64_t)(0 - (uint64_t)a);
    return a / b;
}
static inline __attribute__((unused)) int64_t ks_smod(int64_t a, int64_t b)
{
    if (!b)
        return a;
    if (b == -1)
        return 0;
    return a % b;
}

/* An index into a fixed-size array, checked: userspace has no verifier.
 * A negative index converts to a huge one and fails too. */
size_t ks_index_fail(uint64_t i, size_t n, const char *where) __attribute__((noreturn));
static inline __attribute__((unused)) size_t ks_ix(uint64_t i, size_t n, const char *where)
{
    return i < n ? (size_t)i : ks_index_fail(i, n, where);
}

/* ---- strings: str(N) is a struct holding char s[N] ---------------------- */

/* Copies at most cap-1 bytes of src (stopping at a NUL within srccap) and
 * zero-fills the rest of dst. */
void ks_str_set(char *dst, size_t cap, const char *src, size_t srccap);
/* a + b, cut to the capacity cap of the result. */
void ks_str_cat(char *dst, size_t cap, const char *a, size_t acap, const char *b, size_t bcap);
bool ks_str_eq(const char *a, size_t acap, const char *b, size_t bcap);

/* ---- the program: configuration from the generated code ---------------- */

typedef struct ks_config {
    const char *project;            /* pin paths: /sys/fs/bpf/<project>/... */
    unsigned char *obj;             /* the embedded BPF object */
    size_t obj_len;
    const char *kmod_name;          /* kernel module to load first, or NULL */
    const char *kmod_path;          /* where ksc build wrote its .ko */
    void (*pins_init)(void);        /* writes new pinned globals' initial values */
} ks_config;

void ks_rt_init(const ks_config *cfg, int argc, char **argv);
/* Opens the embedded object (not loaded yet); after the options. */
void ks_rt_open(void);
extern const char *ks_progname;

/* main(args: S): each field of S is an option --field=value. */
typedef enum { KS_OPT_INT, KS_OPT_UINT, KS_OPT_BOOL, KS_OPT_STR } ks_opt_kind;
typedef struct ks_opt {
    const char *name;
    ks_opt_kind kind;
    size_t off, size;               /* where in S, how many bytes */
    const char *type;               /* the field's type as written, for --help */
} ks_opt;
void ks_parse_args(int argc, char **argv, const ks_opt *opts, int n, void *out);

/* Ends the program (detaching everything first); an uncaught throw too. */
void ks_exit(int32_t code) __attribute__((noreturn));
int ks_uncaught(void);
void ks_sleep_ms(uint64_t ms);
void ks_daemon(void);

/* ---- the BPF object: globals, pinned globals, load --------------------- */

/* Address of a global in the object's .data/.bss/.rodata, found through
 * the object's BTF DATASEC; valid before and after load. */
void *ks_global(const char *name, size_t size);
/* Loads the whole object once; 0 or a negative errno. */
int ks_obj_load(void);
/* Loads the object if that has not happened; ends the program if it fails. */
void ks_need_loaded(const char *why);
void ks_pins_read(void *dst, size_t size);
void ks_pins_write(const void *src, size_t size);

/* ---- maps --------------------------------------------------------------- */

typedef int32_t (*ks_rb_handler)(void *event);

typedef struct ks_map {
    const char *name;
    uint32_t key_size, value_size;
    bool percpu;
    void (*sum)(void *acc, const void *cpu_value);  /* per-CPU reads */
    int fd;                         /* 0 until first use */
    bool warned;                    /* a failed update was reported */
    ks_rb_handler on_event;         /* ring buffers */
    size_t event_size;
} ks_map;

/* Reads an entry into val (zero when absent, summed over CPUs for per-CPU
 * maps); true when present. */
bool ks_map_get(ks_map *m, const void *key, void *val);
bool ks_map_has(ks_map *m, const void *key);
/* Inserts or replaces (per-CPU maps: the value on CPU 0, zero elsewhere). */
void ks_map_put(ks_map *m, const void *key, const void *val);
/* Replaces an existing entry only; false if it is absent. */
bool ks_map_update(ks_map *m, const void *key, const void *val);
void ks_map_del(ks_map *m, const void *key);
/* Every key (a snapshot, malloc'd; *n gets the count). */
void *ks_map_keys(ks_map *m, size_t *n);
/* The value on each possible CPU, into *buf (grown as needed). */
void *ks_map_per_cpu(ks_map *m, const void *key, void **buf);
int ks_ncpus(void);
void ks_freep(void *p);

/* ---- programs ------------------------------------------------------------ */

typedef enum { KS_XDP, KS_TC, KS_PROBE, KS_TRACEPOINT, KS_PERF_EVENT } ks_kind;
typedef struct ks_prog ks_prog;
typedef struct ks_att ks_perf;

ks_prog *ks_load(const char *name, ks_kind kind, bool egress);
int32_t ks_attach(ks_prog *h, const char *target, uint32_t flags);
void ks_detach(ks_prog *h);
ks_perf *ks_attach_perf(ks_prog *h, uint32_t type, uint64_t config, int32_t pid, int32_t cpu, uint64_t period,
                        uint32_t wakeup, bool inherit, bool exclude_kernel, bool exclude_user);
int64_t ks_perf_read(ks_perf *a);
void ks_perf_detach(ks_perf *a);
int32_t ks_register(const char *impl);

/* ---- ring buffers --------------------------------------------------------- */

int32_t ks_rb_on_event(ks_map *rb, ks_rb_handler h, size_t event_size);
/* Polls every given ring buffer until a handler returns non-zero (that
 * value is returned) or an error (a negative errno). */
int32_t ks_dispatch(ks_map **rbs, int n);

/* ---- @test functions -------------------------------------------------------- */

uint32_t ks_test_run(const char *prog, const void *data, size_t size);
uint32_t ks_test_run_zeros(const char *prog, uint64_t size);

typedef struct ks_test {
    const char *name;
    int (*run)(int64_t *detail);    /* 0 passed, 1 returned *detail, 2 threw *detail */
} ks_test;
int ks_run_tests(const ks_test *tests, int n, int argc, char **argv);

/* ---- shared by the runtime's own files ------------------------------------ */

extern struct bpf_object *ks_obj;
extern const ks_config *ks_cfg;
void ks_obj_open(void);
int ks_kmod_load(void);
void ks_detach_all(void);
void ks_lock(void);
void ks_unlock(void);

#endif
