// C twin of b09_tc_classifier.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} class_bytes SEC(".maps");

static __always_inline __u32 port_class(__u16 port)
{
    switch (port) {
    case 22: case 23: return 1;
    case 53: return 2;
    case 80: case 443: case 8080: return 3;
    case 5060: case 5061: return 4;
    default: return 5;
    }
}

SEC("tc")
int tc_classify(struct __sk_buff *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 14 > end)
        return TC_ACT_OK;
    struct ethhdr *eth = data;
    __u8 dscp, proto;
    __u32 off;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        if (data + 34 > end)
            return TC_ACT_OK;
        struct iphdr *ip = data + 14;
        dscp = ip->tos >> 2;
        proto = ip->protocol;
        off = 14 + ip->ihl * 4;
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        if (data + 54 > end)
            return TC_ACT_OK;
        __u16 first = bpf_ntohs(*(__u16 *)(data + 14));
        dscp = (first >> 6) & 0x3f;
        proto = ((struct ipv6hdr *)(data + 14))->nexthdr;
        off = 54;
    } else {
        ctx->mark = 0x10000;
        return TC_ACT_OK;
    }
    __u32 cls = 6;
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
        void *l4 = data + off;
        if (l4 + 4 > end)
            return TC_ACT_OK;
        cls = port_class(bpf_ntohs(*(__u16 *)(l4 + 2)));
    }
    if (dscp == 46)
        cls = 0;
    __u64 *b = bpf_map_lookup_elem(&class_bytes, &cls);
    if (b)
        __sync_fetch_and_add(b, (__u64)ctx->len);
    ctx->mark = 0x10000 | (cls << 8) | dscp;
    ctx->priority = cls;
    ctx->tc_classid = 0x10000 + cls + 1;
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
