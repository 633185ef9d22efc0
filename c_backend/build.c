/* `ksc build` and `ksc test`: the object, the kernel module when the file
 * has @kfunc functions, the generated C, and the C compiler ($CC, default
 * cc) run on it with -Wall -Wextra -Werror. `ksc test` then runs the test
 * binary and passes its exit status on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "c_backend/cgen.h"
#include "kmod_backend/kmod.h"
#include "ksc.h"

/* The file's base name without .ks: prog.ks -> prog. */
static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    if (n > 3 && !strcmp(b + n - 3, ".ks"))
        n -= 3;
    return xstrndup(b, n);
}

static int make_dirs(const char *dir)
{
    char *p = xstrdup(dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(p, 0755) && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 65536, n = 0;
    unsigned char *buf = xalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *nb = xalloc(cap * 2);
            memcpy(nb, buf, n);
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Runs argv; its exit status, or -1 if it could not start. */
static int run(char **argv)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        fprintf(stderr, "ksc: error: cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* $CC (words split at blanks) -O2 -Wall -Wextra -Werror src -o exe. */
static int compile_c(const char *src, const char *exe)
{
    const char *cc = getenv("CC");
    if (!cc || !*cc)
        cc = "cc";
    StrVec av = { 0 };
    char *words = xstrdup(cc);
    for (char *w = strtok(words, " \t"); w; w = strtok(NULL, " \t"))
        vpush(av, w);
    const char *flags[] = { "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", exe, src,
                            "-lbpf", "-lelf", "-lz", NULL };
    for (int i = 0; flags[i]; i++)
        vpush(av, (char *)flags[i]);
    vpush(av, NULL);
    int rc = run(av.v);
    if (rc) {
        fprintf(stderr, "ksc: error: the C compiler failed on %s (status %d)\n", src, rc);
        return 1;
    }
    return 0;
}

/* The kernel module for @kfunc functions: written and built next to the
 * object; the program loads it (finit_module) before the object. */
static int build_module(Program *p, KscOpts *o, const char *dir, CgenOpts *co)
{
    if (!kmod_needed(p))
        return 0;
    if (kmod_write(p, dir))
        return 1;
    int rc = kmod_build(p, dir, o->kdir);
    if (rc == 1)
        return 1;
    char *abs = realpath(dir, NULL);
    co->kmod_name = kmod_name(p);
    co->kmod_path = xfmt("%s/%s.ko", abs ? abs : dir, kmod_name(p));
    free(abs);
    if (rc == 2)
        fprintf(stderr, "ksc: note: %s is not built (no kernel headers); the program needs it to load\n",
                co->kmod_path);
    return 0;
}

/* Object, module, C source and executable in dir; *exe gets the binary. */
static int build_all(Program *p, KscOpts *o, const char *dir, const char *name, CgenOpts *co, const char **exe)
{
    const char *obj_path = xfmt("%s/%s.bpf.o", dir, base_name(o->input));
    KscOpts bo = *o;
    bo.out = obj_path;
    if (ksc_backend(p, &bo))
        return 1;
    if (build_module(p, o, dir, co))
        return 1;
    size_t len = 0;
    unsigned char *obj = slurp(obj_path, &len);
    if (!obj) {
        fprintf(stderr, "ksc: error: cannot read %s: %s\n", obj_path, strerror(errno));
        return 1;
    }
    const char *c_path = xfmt("%s/%s.c", dir, name);
    FILE *f = fopen(c_path, "w");
    if (!f) {
        fprintf(stderr, "ksc: error: cannot write %s: %s\n", c_path, strerror(errno));
        return 1;
    }
    int rc = cgen_emit_opts(p, obj, len, f, co);
    if (fclose(f) || rc) {
        if (!rc)
            fprintf(stderr, "ksc: error: cannot write %s\n", c_path);
        return 1;
    }
    *exe = xfmt("%s/%s", dir, name);
    return compile_c(c_path, *exe);
}

/* The front end, as the driver's ksc_front runs it (that one lives in
 * ksc.c, which the unit tests do not link). */
static Program *front(KscOpts *o)
{
    Program *p = access(o->input, R_OK) == 0 ? parse_program(o->input, &o->front) : NULL;
    if (!p) {
        fprintf(stderr, "ksc: error: cannot read '%s'\n", o->input);
        return NULL;
    }
    check_program(p, &o->front);
    return p;
}

static bool has_main(Program *p)
{
    for (int i = 0; i < p->funcs.n; i++)
        if (p->funcs.v[i]->is_main)
            return true;
    return false;
}

int ksc_build(KscOpts *o)
{
    Program *p = front(o);
    if (!p || diag_errors())
        return 1;
    const char *dir = o->out ? o->out : ".";
    if (make_dirs(dir)) {
        fprintf(stderr, "ksc: error: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    const char *name = base_name(o->input);
    if (!has_main(p)) {
        KscOpts bo = *o;
        bo.out = xfmt("%s/%s.bpf.o", dir, name);
        if (ksc_backend(p, &bo))
            return 1;
        printf("ksc: %s has no main: wrote only %s%s\n", o->input, bo.out,
               cgen_needed(p) ? " (run its @test functions with 'ksc test')" : "");
        return 0;
    }
    CgenOpts co = { 0 };
    const char *exe;
    if (build_all(p, o, dir, name, &co, &exe))
        return 1;
    printf("ksc: wrote %s/%s.bpf.o, %s/%s.c and %s\n", dir, name, dir, name, exe);
    return 0;
}

/* Builds the @test runner (in -o DIR, or a temporary folder that goes
 * afterwards) and runs it: each test's PASS/FAIL line, then "N passed,
 * N failed"; the exit status is non-zero when a test failed. */
int ksc_test(KscOpts *o)
{
    Program *p = front(o);
    if (!p || diag_errors())
        return 1;
    bool any = false;
    for (int i = 0; i < p->funcs.n; i++)
        any |= p->funcs.v[i]->target == TGT_TEST;
    if (!any) {
        fprintf(stderr, "ksc: error: %s has no @test functions\n", o->input);
        return 1;
    }
    char tmp[] = "/tmp/ksc-test-XXXXXX";
    const char *dir = o->out;
    if (!dir && !(dir = mkdtemp(tmp))) {
        fprintf(stderr, "ksc: error: cannot create a temporary folder: %s\n", strerror(errno));
        return 1;
    }
    if (o->out && make_dirs(dir)) {
        fprintf(stderr, "ksc: error: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    CgenOpts co = { .tests = true };
    const char *exe;
    int rc = build_all(p, o, dir, xfmt("%s_test", base_name(o->input)), &co, &exe);
    if (!rc) {
        char *argv[] = { (char *)exe, NULL };
        rc = run(argv);
        if (rc < 0) {
            fprintf(stderr, "ksc: error: cannot run %s\n", exe);
            rc = 1;
        }
    }
    if (!o->out)
        run((char *[]){ "rm", "-rf", tmp, NULL });
    return rc;
}

int cgen_emit_user_c(Program *p, struct KscOpts *o)
{
    char path[] = "/tmp/ksc-obj-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "ksc: error: cannot create a temporary file: %s\n", strerror(errno));
        return 1;
    }
    close(fd);
    KscOpts bo = *o;
    bo.out = path;
    bo.emit = NULL;
    int rc = ksc_backend(p, &bo);
    size_t len = 0;
    unsigned char *obj = rc ? NULL : slurp(path, &len);
    unlink(path);
    if (rc)
        return 1;
    return cgen_emit(p, obj, len, stdout);
}
