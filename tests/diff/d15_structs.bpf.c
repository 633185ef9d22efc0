// C twin of d15_structs.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Point {
    __s32 x;
    __s32 y;
};

struct Box {
    struct Point lo;
    struct Point hi;
    __u8 tag;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} out SEC(".maps");

static __always_inline __s32 area(struct Box b)
{
    __u32 w = (__u32)b.hi.x - (__u32)b.lo.x;
    __u32 h = (__u32)b.hi.y - (__u32)b.lo.y;
    b.tag = 99;
    return (__s32)(w * h);
}

static __always_inline struct Box grow(struct Box b, __s32 by)
{
    struct Box r = b;
    r.hi.x = (__s32)((__u32)r.hi.x + (__u32)by);
    r.hi.y = (__s32)((__u32)r.hi.y - (__u32)by);
    r.tag = r.tag + 1;
    return r;
}

static __noinline _Bool split(__u64 v, struct Point *p)
{
    if (v == 0 || v == 0xffffffffffffffffULL)
        return 0;
    p->x = (__s32)(v & 0xffffffff);
    p->y = (__s32)(v >> 32);
    return 1;
}

static __always_inline void put(__u32 k, __u64 v)
{
    bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("xdp")
int structs(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 42 > end)
        return XDP_PASS;
    __u64 v = *(__u64 *)(data + 14);
    __s32 x0 = *(__s32 *)(data + 22);
    __s32 y0 = *(__s32 *)(data + 26);
    __s8 dx = *(__s8 *)(data + 30);
    __s8 dy = *(__s8 *)(data + 31);
    struct Box b;
    __builtin_memset(&b, 0, sizeof(b));
    b.lo.x = x0;
    b.lo.y = y0;
    b.hi.x = (__s32)((__u32)x0 + (__u32)(__s32)dx);
    b.hi.y = (__s32)((__u32)y0 + (__u32)(__s32)dy);
    b.tag = 7;
    __s32 a1 = area(b);
    struct Box g = grow(b, dx);
    struct Point p = {0, 0};
    _Bool ok = split(v, &p);
    struct Point pts[4] = {{1, 2}, {3, 4}, {-5, 6}, {0, 0}};
    __u8 idx = *(__u8 *)(data + 32) & 3;
    pts[idx].x = (__s32)((__u32)pts[idx].x + (__u32)p.x);
    pts[idx].y ^= p.y;
    __u32 s = 0;
    for (int i = 0; i < 4; i++)
        s += (__u32)pts[i].x - (__u32)pts[i].y;
    put(0, (__u64)(__s64)a1);
    put(1, (__u64)(__s64)area(g));
    put(2, (__u64)b.tag * 1000 + g.tag);
    put(3, (__u64)(__s64)(__s32)s);
    put(4, ok);
    put(5, sizeof(struct Box) + sizeof(struct Point) * 100);
    put(6, (__u64)((__s64)g.hi.x * 3 + g.hi.y));
    struct ethhdr *eth = data;
    if (ok && eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = data + 14;
        ip->ihl = idx + 5;
        ip->tos = (__u8)(s & 0xff);
        return XDP_TX;
    }
    return ok ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
