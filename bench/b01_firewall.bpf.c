// C twin of b01_firewall.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Tuple {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
};

struct Conn {
    __u64 packets;
    __u64 bytes;
    __u8 state;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, __u8);
} blocked_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct Tuple);
    __type(value, __u8);
} deny SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct Tuple);
    __type(value, struct Conn);
} conns SEC(".maps");

SEC("xdp")
int firewall(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + sizeof(struct ethhdr) + sizeof(struct iphdr) > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + sizeof(struct ethhdr);
    if (ip->ihl < 5)
        return XDP_DROP;
    __u8 proto = ip->protocol;
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
        return XDP_PASS;
    void *l4 = data + sizeof(struct ethhdr) + ip->ihl * 4;
    if (l4 + sizeof(struct tcphdr) > end)
        return XDP_DROP;
    struct udphdr *ports = l4;
    struct Tuple t;
    __builtin_memset(&t, 0, sizeof(t));
    t.saddr = ip->saddr;
    t.daddr = ip->daddr;
    t.sport = bpf_ntohs(ports->source);
    t.dport = bpf_ntohs(ports->dest);
    t.proto = proto;
    __u32 dport = t.dport;
    __u8 *b = bpf_map_lookup_elem(&blocked_ports, &dport);
    if (b && *b != 0)
        return XDP_DROP;
    if (bpf_map_lookup_elem(&deny, &t))
        return XDP_DROP;
    __u64 len = (__u64)(end - data);
    struct tcphdr *tcp = l4;
    struct Conn *c = bpf_map_lookup_elem(&conns, &t);
    if (c) {
        c->packets += 1;
        c->bytes += len;
        if (proto == IPPROTO_TCP && (tcp->fin || tcp->rst))
            c->state = 2;
        return XDP_PASS;
    }
    if (proto == IPPROTO_TCP && !tcp->syn)
        return XDP_DROP;
    struct Conn n;
    __builtin_memset(&n, 0, sizeof(n));
    n.packets = 1;
    n.bytes = len;
    n.state = 1;
    bpf_map_update_elem(&conns, &t, &n, BPF_ANY);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
