// C twin of d04_flows.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Flow {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
};

struct FlowStat {
    __u64 packets;
    __u64 bytes;
    __u32 first_len;
    __u8 flags;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 128);
    __type(key, struct Flow);
    __type(value, struct FlowStat);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, struct Flow);
    __type(value, __u8);
} blocked SEC(".maps");

static __noinline void reverse(const struct Flow *f, struct Flow *out)
{
    __builtin_memset(out, 0, sizeof(*out));
    out->saddr = f->daddr;
    out->daddr = f->saddr;
    out->sport = f->dport;
    out->dport = f->sport;
    out->proto = f->proto;
}

SEC("xdp")
int track(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 len = (__u32)(end - data);
    if (data + 54 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    if (ip->ihl != 5)
        return XDP_PASS;
    struct Flow key;
    __builtin_memset(&key, 0, sizeof(key));
    key.saddr = ip->saddr;
    key.daddr = ip->daddr;
    key.proto = ip->protocol;
    __u8 flags = 0;
    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *tcp = data + 34;
        key.sport = bpf_ntohs(tcp->source);
        key.dport = bpf_ntohs(tcp->dest);
        flags = *(__u8 *)(data + 47);
    } else if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *udp = data + 34;
        key.sport = bpf_ntohs(udp->source);
        key.dport = bpf_ntohs(udp->dest);
    } else {
        return XDP_PASS;
    }
    if (bpf_map_lookup_elem(&blocked, &key))
        return XDP_DROP;
    struct FlowStat *st = bpf_map_lookup_elem(&flows, &key);
    if (st) {
        st->packets += 1;
        st->bytes += len;
        st->flags = st->flags | flags;
    } else {
        struct FlowStat n;
        __builtin_memset(&n, 0, sizeof(n));
        n.packets = 1;
        n.bytes = len;
        n.first_len = len;
        n.flags = flags;
        bpf_map_update_elem(&flows, &key, &n, BPF_ANY);
    }
    if (flags & 0x04)
        bpf_map_delete_elem(&flows, &key);
    if (flags & 0x01) {
        struct Flow r;
        reverse(&key, &r);
        bpf_map_update_elem(&blocked, &r, &flags, BPF_ANY);
        return XDP_TX;
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
