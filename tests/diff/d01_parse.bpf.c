// C twin of d01_parse.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct icmphdr {
    __u8 type;
    __u8 code;
    __u16 checksum;
    __u32 rest;
};

struct PortKey {
    __u8 proto;
    __u16 port;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} l4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct PortKey);
    __type(value, __u64);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} verdicts SEC(".maps");

static __always_inline void bump(void *map, const void *key)
{
    __u64 *v = bpf_map_lookup_elem(map, key);
    if (v) {
        __sync_fetch_and_add(v, 1);
    } else {
        __u64 one = 1;
        bpf_map_update_elem(map, key, &one, BPF_ANY);
    }
}

static __noinline __u32 verdict(__u32 v)
{
    bump(&verdicts, &v);
    return v;
}

SEC("xdp")
int parse(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + sizeof(struct ethhdr) > end)
        return verdict(XDP_ABORTED);
    struct ethhdr *eth = data;
    __u16 proto = eth->h_proto;
    __u32 off = 14;
    if (proto == bpf_htons(0x8100)) {
        if (data + 18 > end)
            return verdict(XDP_DROP);
        proto = *(__u16 *)(data + 16);
        off = 18;
    }
    __u8 l4proto = 0;
    __u32 k32;
    if (proto == bpf_htons(ETH_P_IP)) {
        if (data + off + sizeof(struct iphdr) > end)
            return verdict(XDP_DROP);
        struct iphdr *ip = data + off;
        if (ip->version != 4 || ip->ihl < 5)
            return verdict(XDP_DROP);
        if ((ip->frag_off & bpf_htons(0x1fff)) != 0) {
            k32 = 255;
            bump(&l4, &k32);
            return verdict(XDP_PASS);
        }
        l4proto = ip->protocol;
        off = off + (__u32)ip->ihl * 4;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        if (data + off + sizeof(struct ipv6hdr) > end)
            return verdict(XDP_DROP);
        struct ipv6hdr *ip6 = data + off;
        l4proto = ip6->nexthdr;
        off = off + 40;
    } else {
        return verdict(XDP_PASS);
    }
    k32 = l4proto;
    bump(&l4, &k32);
    if (l4proto == IPPROTO_TCP) {
        if (data + off + sizeof(struct tcphdr) > end)
            return verdict(XDP_DROP);
        struct tcphdr *tcp = data + off;
        struct PortKey k;
        __builtin_memset(&k, 0, sizeof(k));
        k.proto = 6;
        k.port = bpf_ntohs(tcp->dest);
        bump(&ports, &k);
        if (k.port == 22)
            return verdict(XDP_DROP);
        if (tcp->syn == 1 && tcp->ack == 0)
            return verdict(XDP_TX);
        return verdict(XDP_PASS);
    }
    if (l4proto == IPPROTO_UDP) {
        if (data + off + sizeof(struct udphdr) > end)
            return verdict(XDP_DROP);
        struct udphdr *udp = data + off;
        if (bpf_ntohs(udp->len) < 8)
            return verdict(XDP_DROP);
        struct PortKey k;
        __builtin_memset(&k, 0, sizeof(k));
        k.proto = 17;
        k.port = bpf_ntohs(udp->dest);
        bump(&ports, &k);
        if (k.port == 53 || bpf_ntohs(udp->source) == 53)
            return verdict(XDP_TX);
        return verdict(XDP_PASS);
    }
    if (l4proto == IPPROTO_ICMP) {
        if (data + off + 8 > end)
            return verdict(XDP_DROP);
        struct icmphdr *icmp = data + off;
        if (icmp->type == 8)
            return verdict(XDP_TX);
    }
    return verdict(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
