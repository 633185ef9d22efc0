// C twin of b02_proto_counters.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Counter {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, struct Counter);
} l3 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, struct Counter);
} l4 SEC(".maps");

SEC("xdp")
int proto_count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u64 len = (__u64)(end - data);
    if (data + sizeof(struct ethhdr) > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    __u32 l3k;
    __u8 proto = 0;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        if (data + 34 > end)
            return XDP_PASS;
        l3k = 1;
        proto = ((struct iphdr *)(data + 14))->protocol;
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        if (data + 54 > end)
            return XDP_PASS;
        l3k = 2;
        proto = ((struct ipv6hdr *)(data + 14))->nexthdr;
    } else {
        l3k = 3;
    }
    struct Counter *c = bpf_map_lookup_elem(&l3, &l3k);
    if (c) {
        c->packets += 1;
        c->bytes += len;
    }
    if (l3k != 3) {
        __u32 k = proto;
        c = bpf_map_lookup_elem(&l4, &k);
        if (c) {
            c->packets += 1;
            c->bytes += len;
        }
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
