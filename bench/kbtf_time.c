/* Times kernel-type lookups (btf/kbtf.c) in an optimised build: a cold
 * round with an empty cache (kernel BTF is parsed) and a warm round as a
 * new run would see it (all state dropped, the cache file from the cold
 * round), plus btf__parse alone for reference.
 *
 *   cc -O2 -std=gnu11 -D_GNU_SOURCE -DKSC_VERSION='"bench"' -I. bench/kbtf_time.c
 *      btf/kbtf[a-z_]*.c frontend/[a-z_]*.c -lbpf -lelf -lz -o build/kbtf_time
 *   build/kbtf_time [--btf FILE] [NAME...]    (default: xdp_md __sk_buff iphdr task_struct)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/btf.h>

#include "btf/ksbtf.h"
#include "frontend/internal.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void round_of(const char *label, const char *btf, const char *dir, char **names, int n)
{
    arena_free_all();
    kbtf_reset();
    types_init();
    kbtf_set_cache_dir(dir);
    kbtf_set_path(btf);
    int parses = kbtf_parse_count();
    double total = 0;
    printf("%-5s", label);
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        Type *t = kernel_type(names[i]);
        double dt = now_ms() - t0;
        total += dt;
        printf("  %s %.3f ms%s", names[i], dt, t ? "" : " (absent)");
    }
    double t0 = now_ms();
    kbtf_flush();
    double flush = now_ms() - t0;
    printf("  | total %.3f ms, cache write %.3f ms, %d parse(s)\n", total, flush, kbtf_parse_count() - parses);
}

int main(int argc, char **argv)
{
    const char *btf = NULL;
    if (argc > 2 && !strcmp(argv[1], "--btf")) {
        btf = argv[2];
        argc -= 2;
        argv += 2;
    }
    char *defaults[] = { "xdp_md", "__sk_buff", "iphdr", "task_struct" };
    char **names = argc > 1 ? argv + 1 : defaults;
    int n = argc > 1 ? argc - 1 : 4;
    char dir[] = "/tmp/ksc-kbtf-time-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    double t0 = now_ms();
    struct btf *b = btf__parse(btf ? btf : "/sys/kernel/btf/vmlinux", NULL);
    printf("btf__parse alone: %.3f ms\n", now_ms() - t0);
    btf__free(b);
    round_of("cold", btf, dir, names, n);
    round_of("warm", btf, dir, names, n);
    round_of("warm", btf, dir, names, n);
    kbtf_reset();
    arena_free_all();
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
