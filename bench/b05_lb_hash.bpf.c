// C twin of b05_lb_hash.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Backend {
    __u32 addr;
    __u16 port;
    __u8 mac[6];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, struct Backend);
} backends SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} picks SEC(".maps");

static __always_inline __u32 rol(__u32 x, __u32 k)
{
    return (x << k) | (x >> (32 - k));
}

static __always_inline __u32 jhash3(__u32 a, __u32 b, __u32 c)
{
    a += 0xdeadbeef + 12;
    b += 0xdeadbeef + 12;
    c += 0xdeadbeef + 12;
    c ^= b; c -= rol(b, 14);
    a ^= c; a -= rol(c, 11);
    b ^= a; b -= rol(a, 25);
    c ^= b; c -= rol(b, 16);
    a ^= c; a -= rol(c, 4);
    b ^= a; b -= rol(a, 14);
    c ^= b; c -= rol(b, 24);
    return c;
}

static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
    __u32 sum = (__u16)~check;
    sum += (~(from >> 16)) & 0xffff;
    sum += (~from) & 0xffff;
    sum += to >> 16;
    sum += to & 0xffff;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (__u16)~sum;
}

SEC("xdp")
int balance(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 54 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    if (ip->ihl != 5 || (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP))
        return XDP_PASS;
    __u32 ports = *(__u32 *)(data + 34);
    __u32 h = jhash3(ip->saddr, ip->daddr, ports ^ ip->protocol);
    __u32 idx = h & 15;
    struct Backend *be = bpf_map_lookup_elem(&backends, &idx);
    if (!be || be->addr == 0)
        return XDP_PASS;
    __u64 *n = bpf_map_lookup_elem(&picks, &idx);
    if (n)
        __sync_fetch_and_add(n, 1);
    __u32 old = ip->daddr;
    ip->daddr = be->addr;
    ip->check = csum_replace4(ip->check, old, be->addr);
    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = data + 34;
        tcp->check = csum_replace4(tcp->check, old, be->addr);
    } else {
        struct udphdr *udp = data + 34;
        if (udp->check)
            udp->check = csum_replace4(udp->check, old, be->addr);
    }
    for (int i = 0; i < 6; i++) {
        eth->h_source[i] = eth->h_dest[i];
        eth->h_dest[i] = be->mac[i];
    }
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
