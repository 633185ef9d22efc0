// C twin of d06_match.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum Class { WEB = 1, DNS = 2, MAIL = 3, SSH = 4, OTHER = 5 };

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} by_class SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} methods SEC(".maps");

static __noinline __u32 classify(__u16 port)
{
    switch (port) {
    case 80: case 443: case 8080: case 8443: return WEB;
    case 53: case 5353: return DNS;
    case 25: case 465: case 587: return MAIL;
    case 22: return SSH;
    default: return OTHER;
    }
}

static __always_inline void add(void *map, __u32 k, __u64 v)
{
    __u64 *p = bpf_map_lookup_elem(map, &k);
    if (p)
        __sync_fetch_and_add(p, v);
}

SEC("xdp")
int matcher(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 60 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    __u8 proto = ip->protocol;
    __u16 port;
    if (proto == 6)
        port = bpf_ntohs(((struct tcphdr *)(data + 34))->dest);
    else if (proto == 17)
        port = bpf_ntohs(((struct udphdr *)(data + 34))->dest);
    else
        port = (__u16)(proto * 3 + 1);
    __u32 cls = classify(port);
    add(&by_class, cls, 1);
    __u32 ttl_class;
    switch (ip->ttl) {
    case 0: ttl_class = 0; break;
    case 1: ttl_class = 1; break;
    case 64: ttl_class = 2; break;
    case 128: ttl_class = 3; break;
    case 255: ttl_class = 4; break;
    default: ttl_class = (__u32)ip->ttl / 64 + 5;
    }
    char first = *(char *)(data + 54);
    __u32 m;
    switch (first) {
    case 'G': m = 1; break;
    case 'P': m = 2; break;
    case 'H': m = 3; break;
    default: m = 0;
    }
    add(&methods, m, 1);
    int verdict;
    switch (cls) {
    case WEB: verdict = XDP_PASS; break;
    case DNS: verdict = port == 53 ? XDP_TX : XDP_PASS; break;
    case SSH: verdict = XDP_DROP; break;
    default: verdict = ttl_class > 4 ? XDP_PASS : XDP_DROP;
    }
    add(&by_class, 0, ttl_class);
    return verdict;
}

char LICENSE[] SEC("license") = "GPL";
