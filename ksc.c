/* ksc, the command line driver.
 *   ksc [options] FILE.ks            compile the eBPF part to FILE.bpf.o (or -o)
 *   ksc build FILE.ks [-o DIR]       object, userspace C and its binary
 *   ksc test FILE.ks                 build and run the @test functions
 *   ksc headers KIND                 write a .kh header for a program kind */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btf/ksbtf.h"
#include "c_backend/cgen.h"
#include "frontend/frontend.h"
#include "kmod_backend/kmod.h"
#include "ksc.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: ksc [options] FILE.ks          compile the eBPF programs to a BPF object\n"
            "       ksc build FILE.ks [-o DIR]     also the userspace program (and kernel module)\n"
            "       ksc test FILE.ks               build and run the @test functions\n"
            "       ksc headers KIND               write a .kh header from kernel BTF\n"
            "                                      (xdp, tc, tracepoint/CAT/EVENT, probe/FUNC,\n"
            "                                       struct_ops/NAME)\n"
            "options:\n"
            "  -o OUT             output file (default: FILE.bpf.o); for build, a folder\n"
            "  --check            stop after analysis: report errors and warnings only\n"
            "  --emit=STAGE       print a stage instead of writing the object:\n"
            "                     ast, ir, asm, obj (the object, to -o), user-c, kmod-c\n"
            "  -I DIR             search DIR for included and imported files\n"
            "  --btf FILE         kernel BTF (default /sys/kernel/btf/vmlinux; 'none')\n"
            "  --project NAME     project name for pin paths (default: file base name)\n"
            "  --kdir DIR         kernel build folder for the module (ksc build)\n"
            "  -mcpu=v3|v4        BPF ISA version (default v3)\n"
            "  -funroll           unroll constant loops\n"
            "  -O0                no IR optimisation (for debugging ksc)\n"
            "  --no-bounds        debug: no verifier simulation and no inserted checks\n"
            "  -Werror            warnings are errors; -Werror=CLASS for one class\n"
            "  -Wno-CLASS         silence a class (bounds, narrowing, truncation, shift,\n"
            "                     unreachable, format, shadow)\n"
            "  --color            colour diagnostics\n"
            "  -h, --help         this help\n"
            "  --version          ksc's version\n");
}

enum { OPT_CHECK = 256, OPT_EMIT, OPT_BTF, OPT_PROJECT, OPT_KDIR, OPT_NO_BOUNDS, OPT_VERSION, OPT_COLOR,
       OPT_MCPU, OPT_UNROLL };

static const struct option long_opts[] = {
    { "check", no_argument, 0, OPT_CHECK },
    { "emit", required_argument, 0, OPT_EMIT },
    { "btf", required_argument, 0, OPT_BTF },
    { "project", required_argument, 0, OPT_PROJECT },
    { "kdir", required_argument, 0, OPT_KDIR },
    { "no-bounds", no_argument, 0, OPT_NO_BOUNDS },
    { "color", no_argument, 0, OPT_COLOR },
    { "help", no_argument, 0, 'h' },
    { "version", no_argument, 0, OPT_VERSION },
    { 0, 0, 0, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ksc: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'ksc --help'.\n");
    return 2;
}

/* -Werror, -Werror=CLASS, -Wno-CLASS, -WCLASS */
static int warning_option(const char *w)
{
    if (!strcmp(w, "error"))
        diag_werror(true);
    else if (!strncmp(w, "error=", 6))
        diag_class_option(w + 6, 2);
    else if (!strncmp(w, "no-", 3))
        diag_class_option(w + 3, 0);
    else if (*w)
        diag_class_option(w, 1);
    else
        return usage_error("bad warning option '-W%s'", w);
    return 0;
}

static int parse_args(int argc, char **argv, KscOpts *o)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:I:W:m:f:O:", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); exit(0);
        case OPT_VERSION: printf("ksc %s\n", KSC_VERSION); exit(0);
        case 'o': o->out = optarg; break;
        case 'I': vpush(o->front.include_dirs, optarg); break;
        case OPT_CHECK: o->check_only = true; break;
        case OPT_EMIT: o->emit = optarg; break;
        case OPT_BTF: o->front.btf_path = optarg; break;
        case OPT_PROJECT: o->front.project = optarg; break;
        case OPT_KDIR: o->kdir = optarg; break;
        case OPT_NO_BOUNDS: o->no_bounds = true; break;
        case OPT_COLOR: diag_set_color(true); break;
        case 'W':
            if (warning_option(optarg))
                return 2;
            break;
        case 'm':
            if (!strcmp(optarg, "cpu=v3"))
                o->cpu = 3;
            else if (!strcmp(optarg, "cpu=v4"))
                o->cpu = 4;
            else
                return usage_error("unknown option '-m%s' (use -mcpu=v3 or -mcpu=v4)", optarg);
            break;
        case 'O':
            if (strcmp(optarg, "0") && strcmp(optarg, "2"))
                return usage_error("unknown option '-O%s' (use -O0 or -O2)", optarg);
            o->opt = optarg[0] - '0';
            break;
        case 'f':
            if (strcmp(optarg, "unroll"))
                return usage_error("unknown option '-f%s'", optarg);
            o->unroll = true;
            break;
        default:
            return usage_error("%s", "bad option");
        }
    }
    if (optind != argc - 1)
        return usage_error("%s", optind >= argc ? "no input file" : "one input file at a time");
    o->input = argv[optind];
    static const char *stages[] = { "ast", "ir", "asm", "obj", "user-c", "kmod-c", NULL };
    if (o->emit) {
        bool ok = false;
        for (int i = 0; stages[i]; i++)
            ok |= !strcmp(stages[i], o->emit);
        if (!ok)
            return usage_error("unknown stage '--emit=%s' (ast, ir, asm, obj, user-c, kmod-c)", o->emit);
    }
    return 0;
}

static const char *default_output(const char *in, const char *suffix)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    size_t n = strlen(base);
    if (n > 3 && !strcmp(base + n - 3, ".ks"))
        n -= 3;
    return xfmt("%.*s%s", (int)n, base, suffix);
}

/* Front end: parse and check; NULL after errors. */
Program *ksc_front(KscOpts *o)
{
    if (access(o->input, R_OK) != 0) {
        fprintf(stderr, "ksc: error: cannot read '%s'\n", o->input);
        return NULL;
    }
    Program *p = parse_program(o->input, &o->front);
    if (!p) {
        fprintf(stderr, "ksc: error: cannot read '%s'\n", o->input);
        return NULL;
    }
    check_program(p, &o->front);
    return p;
}

static int compile(KscOpts *o)
{
    Program *p = ksc_front(o);
    if (!p)
        return 1;
    if (o->emit && !strcmp(o->emit, "ast")) {
        dump_ast(p, stdout);
        return diag_errors() ? 1 : 0;
    }
    if (diag_errors())
        return 1;
    if (o->check_only)
        return 0;
    if (o->emit && !strcmp(o->emit, "kmod-c"))
        return kmod_emit(p, stdout);
    if (o->emit && !strcmp(o->emit, "user-c"))
        return cgen_emit_user_c(p, o);

    if (!o->out)
        o->out = default_output(o->input, ".bpf.o");
    return ksc_backend(p, o);
}

int main(int argc, char **argv)
{
    KscOpts o = { .cpu = 3, .opt = 2 };
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int rc;
    if (cmd && !strcmp(cmd, "headers")) {
        if (argc != 3)
            return usage_error("%s", "usage: ksc headers KIND");
        rc = kbtf_write_header(argv[2], stdout);
    } else if (cmd && (!strcmp(cmd, "build") || !strcmp(cmd, "test"))) {
        rc = parse_args(argc - 1, argv + 1, &o);
        if (!rc)
            rc = !strcmp(cmd, "build") ? ksc_build(&o) : ksc_test(&o);
    } else {
        rc = parse_args(argc, argv, &o);
        if (!rc)
            rc = compile(&o);
    }
    arena_free_all();
    return rc;
}
