// C twin of b03_parser.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Meta {
    __u16 l3;
    __u8 l4;
    __u8 vlans;
    __u16 sport;
    __u16 dport;
    __u32 v4src;
    __u32 v4dst;
    __u64 v6lo;
    __u32 l4off;
    __u32 payload;
    __u8 tcpflags;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct Meta);
} last SEC(".maps");

SEC("xdp")
int parser(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    struct Meta m;
    __builtin_memset(&m, 0, sizeof(m));
    if (data + 14 > end)
        return XDP_DROP;
    struct ethhdr *eth = data;
    __u16 proto = eth->h_proto;
    __u32 off = 14;
    for (int i = 0; i < 2; i++) {
        if (proto != bpf_htons(0x8100) && proto != bpf_htons(0x88a8))
            break;
        void *tag = data + off;
        if (tag + 4 > end)
            return XDP_DROP;
        proto = *(__u16 *)(tag + 2);
        off += 4;
        m.vlans += 1;
    }
    m.l3 = bpf_ntohs(proto);
    void *l4;
    if (proto == bpf_htons(ETH_P_IP)) {
        void *ipp = data + off;
        if (ipp + sizeof(struct iphdr) > end)
            return XDP_DROP;
        struct iphdr *ip = ipp;
        if (ip->ihl < 5)
            return XDP_DROP;
        m.l4 = ip->protocol;
        m.v4src = ip->saddr;
        m.v4dst = ip->daddr;
        off += ip->ihl * 4;
    } else if (proto == bpf_htons(ETH_P_IPV6)) {
        void *ipp = data + off;
        if (ipp + sizeof(struct ipv6hdr) > end)
            return XDP_DROP;
        struct ipv6hdr *ip6 = ipp;
        m.l4 = ip6->nexthdr;
        m.v6lo = *(__u64 *)(ipp + 32);
        off += 40;
    } else {
        return XDP_PASS;
    }
    l4 = data + off;
    if (m.l4 == IPPROTO_TCP) {
        if (l4 + sizeof(struct tcphdr) > end)
            return XDP_DROP;
        struct tcphdr *tcp = l4;
        m.sport = bpf_ntohs(tcp->source);
        m.dport = bpf_ntohs(tcp->dest);
        m.tcpflags = *(__u8 *)(l4 + 13);
        off += tcp->doff * 4;
    } else if (m.l4 == IPPROTO_UDP) {
        if (l4 + sizeof(struct udphdr) > end)
            return XDP_DROP;
        struct udphdr *udp = l4;
        m.sport = bpf_ntohs(udp->source);
        m.dport = bpf_ntohs(udp->dest);
        off += 8;
    }
    m.l4off = (__u32)(l4 - data);
    __u32 total = (__u32)(end - data);
    m.payload = total > off ? total - off : 0;
    __u32 zero = 0;
    bpf_map_update_elem(&last, &zero, &m, BPF_ANY);
    if (m.dport == 22 && m.vlans == 0)
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
