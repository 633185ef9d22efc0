// C twin of b10_ringbuf_events.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct ConnEvent {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u32 len;
    __u8 flags;
    __u8 ttl;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 262144);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

SEC("xdp")
int conn_events(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 54 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    if (ip->protocol != IPPROTO_TCP || ip->ihl != 5)
        return XDP_PASS;
    struct tcphdr *tcp = data + 34;
    if (!tcp->syn && !tcp->rst)
        return XDP_PASS;
    struct ConnEvent *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
    if (e) {
        e->saddr = ip->saddr;
        e->daddr = ip->daddr;
        e->sport = bpf_ntohs(tcp->source);
        e->dport = bpf_ntohs(tcp->dest);
        e->len = (__u32)(end - data);
        e->flags = *(__u8 *)(data + 47);
        e->ttl = ip->ttl;
        bpf_ringbuf_submit(e, 0);
    } else {
        __u32 zero = 0;
        __u64 *l = bpf_map_lookup_elem(&lost, &zero);
        if (l)
            __sync_fetch_and_add(l, 1);
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
