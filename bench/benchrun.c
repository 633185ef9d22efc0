/* benchrun: loads one BPF object and measures one of its XDP or TC programs.
 *
 *   benchrun [-r REPEAT] [-k ROUNDS] [-m MAPSFILE] -p PACKET OBJ PROG
 *
 * Prints "xlated=X verified=V ns=N retval=R":
 *   X  xlated instructions after load (bpf_prog_info.xlated_prog_len / 8),
 *      summed over every program of the object (tail-call targets run too);
 *   V  instructions the verifier processed (bpf_prog_info.verified_insns),
 *      summed the same way;
 *   N  ns per run of PROG under BPF_PROG_TEST_RUN with REPEAT repetitions
 *      (default 1000000), the median of ROUNDS (default 5) such runs;
 *   R  PROG's return value on PACKET.
 * PACKET: tcp, tcpsyn, udp, dns, ipv6tcp, big (see build_packet). MAPSFILE
 * lines "MAP KEYHEX VALUEHEX" are written into the maps before the runs.
 * The process is pinned to CPU 0. */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tests/diff/pktgen.h"

static char logbuf[1 << 16];
static size_t loglen;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_DEBUG)
        return 0;
    char tmp[4096];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    if (n <= 0)
        return 0;
    size_t len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
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

static size_t ipv4(uint8_t *p, uint8_t proto, size_t l4len)
{
    p[0] = 0x45;
    p[1] = 0;
    pg_put16(p + 2, (uint16_t)(20 + l4len));
    pg_put16(p + 4, 0x1234);
    pg_put16(p + 6, 0x4000);
    p[8] = 64;
    p[9] = proto;
    pg_put16(p + 10, 0);
    pg_put32(p + 12, 0x0a000001);
    pg_put32(p + 16, 0x0a000002);
    pg_put16(p + 10, pg_csum(p, 20, 0));
    return 20;
}

static size_t tcp(uint8_t *p, uint16_t dport, uint8_t flags)
{
    memset(p, 0, 20);
    pg_put16(p, 43210);
    pg_put16(p + 2, dport);
    pg_put32(p + 4, 1000);
    pg_put32(p + 8, 2000);
    p[12] = 5 << 4;
    p[13] = flags;
    pg_put16(p + 14, 65535);
    return 20;
}

static size_t udp(uint8_t *p, uint16_t dport, size_t payload)
{
    pg_put16(p, 43210);
    pg_put16(p + 2, dport);
    pg_put16(p + 4, (uint16_t)(8 + payload));
    pg_put16(p + 6, 0);
    return 8;
}

static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + 3);
}

/* A representative packet of each kind; returns its length (0: unknown). */
static size_t build_packet(const char *kind, uint8_t *b)
{
    static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 2}, src[6] = {0x02, 0, 0, 0, 0, 1};
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    pg_put16(b + 12, 0x0800);
    size_t h = 14;
    if (!strcmp(kind, "tcp") || !strcmp(kind, "tcpsyn")) {
        int syn = !strcmp(kind, "tcpsyn");
        size_t pay = syn ? 0 : 64;
        h += ipv4(b + h, 6, 20 + pay);
        h += tcp(b + h, 80, syn ? 0x02 : 0x18);
        fill(b + h, pay);
        h += pay;
        return h < 60 ? 60 : h;
    }
    if (!strcmp(kind, "udp") || !strcmp(kind, "big")) {
        size_t pay = !strcmp(kind, "big") ? 512 : 64;
        h += ipv4(b + h, 17, 8 + pay);
        h += udp(b + h, 4789, pay);
        fill(b + h, pay);
        return h + pay;
    }
    if (!strcmp(kind, "dns")) {
        /* a query for www.example.com, type A, class IN */
        static const uint8_t q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                    3, 'c', 'o', 'm', 0, 0, 1, 0, 1};
        h += ipv4(b + h, 17, 8 + sizeof(q));
        h += udp(b + h, 53, sizeof(q));
        memcpy(b + h, q, sizeof(q));
        return h + sizeof(q);
    }
    if (!strcmp(kind, "ipv6tcp")) {
        pg_put16(b + 12, 0x86dd);
        uint8_t *ip6 = b + h;
        memset(ip6, 0, 40);
        ip6[0] = 0x60;
        pg_put16(ip6 + 4, 20 + 64);
        ip6[6] = 6;
        ip6[7] = 64;
        ip6[8] = 0x20, ip6[9] = 0x01, ip6[10] = 0x0d, ip6[11] = 0xb8, ip6[23] = 1;
        ip6[24] = 0x20, ip6[25] = 0x01, ip6[26] = 0x0d, ip6[27] = 0xb8, ip6[39] = 2;
        h += 40;
        h += tcp(b + h, 443, 0x18);
        fill(b + h, 64);
        return h + 64;
    }
    return 0;
}

static int load_maps_file(struct bpf_object *obj, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int ncpus = libbpf_num_possible_cpus(), rc = 0;
    while (fgets(line, sizeof(line), f)) {
        char name[256], kh[1100], vh[2100];
        if (line[0] == '#' || line[0] == '\n')
            continue;
        if (sscanf(line, "%255s %1099s %2099s", name, kh, vh) != 3) {
            rc = -1;
            break;
        }
        unsigned char key[550], val[1050];
        size_t kn = strlen(kh) / 2, vn = strlen(vh) / 2;
        for (size_t i = 0; i < kn; i++)
            sscanf(kh + 2 * i, "%2hhx", &key[i]);
        for (size_t i = 0; i < vn; i++)
            sscanf(vh + 2 * i, "%2hhx", &val[i]);
        struct bpf_map *m = bpf_object__find_map_by_name(obj, name);
        if (!m || bpf_map__key_size(m) != kn || bpf_map__value_size(m) != vn) {
            fprintf(stderr, "%s: no map %s with key size %zu and value size %zu\n", path, name, kn, vn);
            rc = -1;
            break;
        }
        enum bpf_map_type t = bpf_map__type(m);
        int percpu = t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH ||
                     t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
        size_t stride = percpu ? (vn + 7) & ~(size_t)7 : vn, n = percpu ? (size_t)ncpus : 1;
        unsigned char *v = calloc(n, stride);
        for (size_t c = 0; v && c < n; c++)
            memcpy(v + c * stride, val, vn);
        int err = v ? bpf_map_update_elem(bpf_map__fd(m), key, v, BPF_ANY) : -1;
        free(v);
        if (err) {
            fprintf(stderr, "%s: update of %s: %s\n", path, name, strerror(errno));
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    __u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int repeat = 1000000, rounds = 5, opt;
    const char *kind = "tcp", *mapsfile = NULL;
    while ((opt = getopt(argc, argv, "r:k:m:p:")) != -1) {
        switch (opt) {
        case 'r': repeat = atoi(optarg); break;
        case 'k': rounds = atoi(optarg); break;
        case 'm': mapsfile = optarg; break;
        case 'p': kind = optarg; break;
        default: goto usage;
        }
    }
    if (argc - optind != 2 || rounds < 1 || rounds > 99 || repeat < 1)
        goto usage;
    const char *path = argv[optind], *pname = argv[optind + 1];

    cpu_set_t cs;
    CPU_ZERO(&cs);
    CPU_SET(0, &cs);
    sched_setaffinity(0, sizeof(cs), &cs);
    libbpf_set_print(print_fn);

    uint8_t pkt[PKT_MAX];
    size_t len = build_packet(kind, pkt);
    if (!len) {
        fprintf(stderr, "unknown packet kind %s\n", kind);
        return 2;
    }
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    if (!obj) {
        fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }
    int err = bpf_object__load(obj);
    if (err) {
        const char *tail = loglen > 2000 ? logbuf + loglen - 2000 : logbuf;
        fprintf(stderr, "%s\nkernel rejected %s: %s\n", tail, path, strerror(-err));
        return 1;
    }
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, pname);
    if (!prog) {
        fprintf(stderr, "no program %s in %s\n", pname, path);
        return 1;
    }
    if (mapsfile && load_maps_file(obj, mapsfile))
        return 1;

    unsigned long xl = 0, ver = 0;
    struct bpf_program *p;
    bpf_object__for_each_program(p, obj) {
        struct bpf_prog_info info;
        __u32 ilen = sizeof(info);
        memset(&info, 0, sizeof(info));
        if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &ilen) == 0) {
            xl += info.xlated_prog_len / 8;
            ver += info.verified_insns;
        }
    }

    __u32 ns[99], retval = 0;
    static uint8_t out[8192];
    for (int r = 0; r < rounds; r++) {
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len, .data_out = out,
                    .data_size_out = sizeof(out), .repeat = repeat);
        if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o)) {
            fprintf(stderr, "test run of %s failed: %s\n", pname, strerror(errno));
            return 1;
        }
        ns[r] = o.duration;
        retval = o.retval;
    }
    qsort(ns, (size_t)rounds, sizeof(ns[0]), cmp_u32);
    printf("xlated=%lu verified=%lu ns=%u retval=%u\n", xl, ver, ns[rounds / 2], retval);
    bpf_object__close(obj);
    return 0;
usage:
    fprintf(stderr, "usage: benchrun [-r REPEAT] [-k ROUNDS] [-m MAPSFILE] -p PACKET OBJ PROG\n");
    return 2;
}
