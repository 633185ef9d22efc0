// C twin of d09_ipv6_ext.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} final_nh SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 5);
    __type(key, __u32);
    __type(value, __u64);
} walked SEC(".maps");

SEC("xdp")
int ext6(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 54 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IPV6))
        return XDP_PASS;
    struct ipv6hdr *ip6 = data + 14;
    __u8 nh = ip6->nexthdr;
    __u32 off = 54, n = 0;
    for (int i = 0; i < 4; i++) {
        if (nh != 0 && nh != 43 && nh != 44 && nh != 60)
            break;
        __u8 *p = data + off;
        if ((void *)(p + 8) > end)
            return XDP_DROP;
        __u8 len = p[1];
        if (nh == 44)
            off += 8;
        else
            off += ((__u32)len + 1) * 8;
        nh = p[0];
        n += 1;
    }
    __u64 *v = bpf_map_lookup_elem(&walked, &n);
    if (v)
        __sync_fetch_and_add(v, 1);
    __u32 k = nh;
    v = bpf_map_lookup_elem(&final_nh, &k);
    if (v) {
        __sync_fetch_and_add(v, 1);
    } else {
        __u64 one = 1;
        bpf_map_update_elem(&final_nh, &k, &one, BPF_ANY);
    }
    if (nh == IPPROTO_TCP || nh == IPPROTO_UDP) {
        void *l4 = data + off;
        if (l4 + 4 > end)
            return XDP_DROP;
        __u16 dport = bpf_ntohs(*(__u16 *)(l4 + 2));
        if (dport == 443)
            return XDP_TX;
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
