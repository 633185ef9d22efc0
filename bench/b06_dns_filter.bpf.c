// C twin of b06_dns_filter.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u32);
    __type(value, __u8);
} blocked SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} dns_stats SEC(".maps");

static __always_inline void count(__u32 k)
{
    __u64 *p = bpf_map_lookup_elem(&dns_stats, &k);
    if (p)
        __sync_fetch_and_add(p, 1);
}

SEC("xdp")
int dns_filter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 54 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    if (ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    struct udphdr *udp = data + 34;
    if (udp->dest != bpf_htons(53))
        return XDP_PASS;
    __u16 qdcount = bpf_ntohs(*(__u16 *)(data + 46));
    if (qdcount != 1) {
        count(2);
        return XDP_PASS;
    }
    __u32 h = 2166136261u;
    for (__u32 i = 0; i < 64; i++) {
        __u8 *p = data + 54 + i;
        if ((void *)(p + 1) > end) {
            count(3);
            return XDP_PASS;
        }
        __u8 c = *p;
        if (c == 0)
            break;
        if (c >= 'A' && c <= 'Z')
            c += 32;
        h = (h ^ c) * 16777619u;
    }
    if (bpf_map_lookup_elem(&blocked, &h)) {
        count(1);
        return XDP_DROP;
    }
    count(0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
