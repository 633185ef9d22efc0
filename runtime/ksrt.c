/* ksrt: start-up, signals and clean-up, command-line options, strings,
 * sleep/daemon/exit, the kernel module, and the @test runner. */
#include "ksrt.h"

#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

bool ks_exc;
int32_t ks_exc_code;
const char *ks_progname = "ks";
const ks_config *ks_cfg;

static pthread_mutex_t ks_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool ks_kmod_ours;       /* this process loaded the module */

void ks_lock(void) { pthread_mutex_lock(&ks_mutex); }
void ks_unlock(void) { pthread_mutex_unlock(&ks_mutex); }

/* ---- clean-up ------------------------------------------------------------- */

static void ks_kmod_unload(void)
{
    if (!ks_kmod_ours)
        return;
    ks_kmod_ours = false;
    /* the programs hold references to the module's kfuncs */
    if (ks_obj) {
        bpf_object__close(ks_obj);
        ks_obj = NULL;
    }
    /* the kernel frees the programs, and with them their references to the
     * module, after an RCU grace period: try for a few seconds */
    for (int i = 0; syscall(SYS_delete_module, ks_cfg->kmod_name, O_NONBLOCK) != 0; i++) {
        if ((errno != EAGAIN && errno != EBUSY) || i == 250) {
            fprintf(stderr, "%s: cannot unload kernel module %s: %s\n", ks_progname, ks_cfg->kmod_name,
                    strerror(errno));
            return;
        }
        ks_sleep_ms(20);
    }
}

/* Runs at exit (atexit) and on SIGINT/SIGTERM: detach everything this
 * program attached, then unload the module it loaded. Idempotent. */
static void ks_cleanup(void)
{
    ks_lock();
    ks_detach_all();
    ks_kmod_unload();
    ks_unlock();
}

void ks_exit(int32_t code)
{
    fflush(stdout);
    exit(code);
}

int ks_uncaught(void)
{
    fflush(stdout);
    fprintf(stderr, "%s: uncaught throw %d\n", ks_progname, (int)ks_exc_code);
    return ks_exc_code;
}

size_t ks_index_fail(uint64_t i, size_t n, const char *where)
{
    fflush(stdout);
    fprintf(stderr, "%s: %s: index %llu is out of range for %zu elements\n", ks_progname, where,
            (unsigned long long)i, n);
    exit(1);
}

/* SIGINT and SIGTERM are blocked in every thread and taken by this one, so
 * the clean-up runs in a normal thread context whatever the main thread is
 * doing (sleeping, polling or computing). */
static void *ks_signal_thread(void *arg)
{
    sigset_t *set = arg;
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    ks_cleanup();
    fflush(stdout);
    fflush(stderr);
    _exit(128 + sig);
}

static void ks_start_signal_thread(void)
{
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, ks_signal_thread, &set) != 0) {
        fprintf(stderr, "%s: cannot start the signal thread\n", ks_progname);
        exit(1);
    }
    pthread_detach(t);
}

/* libbpf's warnings (a verifier log among them) go to stderr; its
 * informational chatter only with KSC_DEBUG set. */
static int ks_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level != LIBBPF_WARN && !getenv("KSC_DEBUG"))
        return 0;
    return vfprintf(stderr, fmt, ap);
}

void ks_rt_init(const ks_config *cfg, int argc, char **argv)
{
    ks_cfg = cfg;
    if (argc > 0 && argv[0]) {
        const char *slash = strrchr(argv[0], '/');
        ks_progname = slash ? slash + 1 : argv[0];
    }
    /* printed counts must reach a pipe or file even when a signal ends us */
    setvbuf(stdout, NULL, _IOLBF, 0);
    libbpf_set_print(ks_libbpf_print);
    ks_start_signal_thread();
    atexit(ks_cleanup);
}

/* After the options (so --help works whatever the object needs). */
void ks_rt_open(void)
{
    if (ks_cfg->obj_len)
        ks_obj_open();
}

void ks_sleep_ms(uint64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void ks_daemon(void)
{
    fflush(stdout);
    fflush(stderr);
    if (daemon(0, 0) != 0) {
        fprintf(stderr, "%s: daemon: %s\n", ks_progname, strerror(errno));
        return;
    }
    /* threads do not survive fork */
    ks_start_signal_thread();
}

/* ---- the kernel module ---------------------------------------------------- */

static int ks_open_module(void)
{
    int fd = open(ks_cfg->kmod_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    /* next to the executable, if the build folder moved */
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    char path[4200];
    snprintf(path, sizeof path, "%.*s/%s.ko", (int)(slash - exe), exe, ks_cfg->kmod_name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* The module with the file's @kfunc functions goes in before the object
 * that calls them. 0 or a negative errno. */
int ks_kmod_load(void)
{
    if (!ks_cfg->kmod_name)
        return 0;
    /* without CONFIG_MODULES there is no /proc/modules (and finit_module is ENOSYS) */
    if (access("/proc/modules", F_OK) != 0) {
        fprintf(stderr, "%s: this kernel has no module support: cannot load %s, which the @kfunc functions need\n",
                ks_progname, ks_cfg->kmod_name);
        return -ENOSYS;
    }
    int fd = ks_open_module();
    if (fd < 0) {
        int e = errno;
        fprintf(stderr, "%s: cannot open kernel module %s: %s\n", ks_progname, ks_cfg->kmod_path, strerror(e));
        return -e;
    }
    long r = syscall(SYS_finit_module, fd, "", 0);
    int e = errno;
    close(fd);
    if (r == 0) {
        ks_kmod_ours = true;
        return 0;
    }
    if (e == EEXIST)
        return 0;
    if (e == ENOSYS)
        fprintf(stderr, "%s: this kernel has no module support: cannot load %s, which the @kfunc functions need\n",
                ks_progname, ks_cfg->kmod_name);
    else
        fprintf(stderr, "%s: cannot load kernel module %s: %s\n", ks_progname, ks_cfg->kmod_name, strerror(e));
    return -e;
}

/* ---- strings ------------------------------------------------------------- */

void ks_str_set(char *dst, size_t cap, const char *src, size_t srccap)
{
    if (!cap)
        return;
    size_t n = src ? strnlen(src, srccap) : 0;
    if (n > cap - 1)
        n = cap - 1;
    memmove(dst, src, n);
    memset(dst + n, 0, cap - n);
}

void ks_str_cat(char *dst, size_t cap, const char *a, size_t acap, const char *b, size_t bcap)
{
    if (!cap)
        return;
    size_t la = strnlen(a, acap), lb = strnlen(b, bcap);
    if (la > cap - 1)
        la = cap - 1;
    if (lb > cap - 1 - la)
        lb = cap - 1 - la;
    memmove(dst, a, la);
    memmove(dst + la, b, lb);
    memset(dst + la + lb, 0, cap - la - lb);
}

bool ks_str_eq(const char *a, size_t acap, const char *b, size_t bcap)
{
    size_t la = strnlen(a, acap), lb = strnlen(b, bcap);
    return la == lb && !memcmp(a, b, la);
}

/* ---- command-line options --------------------------------------------------- */

static void ks_usage(FILE *f, const ks_opt *opts, int n)
{
    fprintf(f, "usage: %s [options]\noptions:\n", ks_progname);
    for (int i = 0; i < n; i++) {
        char left[128];
        const char *val = opts[i].kind == KS_OPT_BOOL ? "" : opts[i].kind == KS_OPT_STR ? "=TEXT" : "=N";
        snprintf(left, sizeof left, "--%s%s", opts[i].name, val);
        if (opts[i].kind == KS_OPT_STR)
            fprintf(f, "  %-28s %s, at most %zu bytes\n", left, opts[i].type, opts[i].size - 1);
        else if (opts[i].kind == KS_OPT_BOOL)
            fprintf(f, "  %-28s bool (or --%s=true/false)\n", left, opts[i].name);
        else
            fprintf(f, "  %-28s %s\n", left, opts[i].type);
    }
    fprintf(f, "  %-28s this help\n", "-h, --help");
}

static void ks_bad_option(const ks_opt *o, const char *arg, const char *why)
{
    fprintf(stderr, "%s: --%s=%s: %s\nTry '%s --help'.\n", ks_progname, o->name, arg, why, ks_progname);
    exit(2);
}

static void ks_store_int(void *p, size_t size, uint64_t v)
{
    uint8_t b1 = (uint8_t)v;
    uint16_t b2 = (uint16_t)v;
    uint32_t b4 = (uint32_t)v;
    switch (size) {
    case 1: memcpy(p, &b1, 1); break;
    case 2: memcpy(p, &b2, 2); break;
    case 4: memcpy(p, &b4, 4); break;
    default: memcpy(p, &v, 8); break;
    }
}

static void ks_parse_int(const ks_opt *o, const char *arg, void *p)
{
    char *end;
    int bits = (int)o->size * 8;
    errno = 0;
    if (o->kind == KS_OPT_UINT) {
        if (strchr(arg, '-'))
            ks_bad_option(o, arg, "a non-negative number is expected");
        unsigned long long v = strtoull(arg, &end, 0);
        if (errno || end == arg || *end)
            ks_bad_option(o, arg, "not a number");
        if (bits < 64 && v >> bits)
            ks_bad_option(o, arg, "out of range");
        ks_store_int(p, o->size, v);
        return;
    }
    long long v = strtoll(arg, &end, 0);
    if (errno || end == arg || *end)
        ks_bad_option(o, arg, "not a number");
    if (bits < 64 && (v < -(1LL << (bits - 1)) || v > (1LL << (bits - 1)) - 1))
        ks_bad_option(o, arg, "out of range");
    ks_store_int(p, o->size, (uint64_t)v);
}

static void ks_parse_value(const ks_opt *o, const char *arg, void *out)
{
    char *p = (char *)out + o->off;
    switch (o->kind) {
    case KS_OPT_BOOL:
        if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1") || !strcmp(arg, "yes") || !strcmp(arg, "on"))
            *p = 1;
        else if (!strcmp(arg, "false") || !strcmp(arg, "0") || !strcmp(arg, "no") || !strcmp(arg, "off"))
            *p = 0;
        else
            ks_bad_option(o, arg, "true or false is expected");
        return;
    case KS_OPT_STR:
        if (strlen(arg) > o->size - 1)
            ks_bad_option(o, arg, "too long");
        ks_str_set(p, o->size, arg, o->size);
        return;
    default:
        ks_parse_int(o, arg, p);
    }
}

void ks_parse_args(int argc, char **argv, const ks_opt *opts, int n, void *out)
{
    /* each field as --field, and as --fi-eld when it has underscores */
    struct option *lo = calloc((size_t)(2 * n + 2), sizeof *lo);
    char **alias = calloc((size_t)n + 1, sizeof *alias);
    int k = 0;
    for (int i = 0; i < n; i++) {
        int has = opts[i].kind == KS_OPT_BOOL ? optional_argument : required_argument;
        lo[k++] = (struct option){ opts[i].name, has, NULL, 256 + i };
        if (strchr(opts[i].name, '_')) {
            alias[i] = strdup(opts[i].name);
            for (char *c = alias[i]; *c; c++)
                if (*c == '_')
                    *c = '-';
            lo[k++] = (struct option){ alias[i], has, NULL, 256 + i };
        }
    }
    lo[k++] = (struct option){ "help", no_argument, NULL, 'h' };
    int c;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (c == 'h') {
            ks_usage(stdout, opts, n);
            exit(0);
        }
        if (c < 256 || c >= 256 + n) {
            fprintf(stderr, "Try '%s --help'.\n", ks_progname);
            exit(2);
        }
        ks_parse_value(&opts[c - 256], optarg, out);
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help'.\n", ks_progname, argv[optind], ks_progname);
        exit(2);
    }
    for (int i = 0; i < n; i++)
        free(alias[i]);
    free(alias);
    free(lo);
}

/* ---- the @test runner ----------------------------------------------------------- */

static bool ks_test_selected(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return true;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

int ks_run_tests(const ks_test *tests, int n, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (!ks_test_selected(tests[i].name, argc, argv))
            continue;
        int64_t detail = 0;
        ks_exc = false;
        int r = tests[i].run(&detail);
        ks_exc = false;
        fflush(stdout);
        if (r == 0) {
            printf("PASS %s\n", tests[i].name);
            passed++;
        } else {
            printf("FAIL %s: %s %lld\n", tests[i].name, r == 2 ? "threw" : "returned", (long long)detail);
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
