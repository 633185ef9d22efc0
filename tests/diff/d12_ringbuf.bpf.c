// C twin of d12_ringbuf.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Event {
    __u32 len;
    __u8 proto;
    __u16 sport;
    __u16 dport;
    __u32 saddr;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 65536);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} failed SEC(".maps");

static __always_inline void bump(__u32 k)
{
    __u64 *p = bpf_map_lookup_elem(&failed, &k);
    if (p)
        __sync_fetch_and_add(p, 1);
}

SEC("xdp")
int emit(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 len = (__u32)(end - data);
    if (data + 38 > end) {
        struct Event s;
        __builtin_memset(&s, 0, sizeof(s));
        s.len = len;
        s.proto = 255;
        if (bpf_ringbuf_output(&events, &s, sizeof(s), 0) != 0)
            bump(1);
        return XDP_PASS;
    }
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    struct Event *e = bpf_ringbuf_reserve(&events, sizeof(struct Event), 0);
    if (e) {
        e->len = len;
        e->proto = ip->protocol;
        e->sport = bpf_ntohs(*(__u16 *)(data + 34));
        e->dport = bpf_ntohs(*(__u16 *)(data + 36));
        e->saddr = ip->saddr;
        if (e->len > 1000 || e->dport == 0) {
            bpf_ringbuf_discard(e, 0);
            return XDP_DROP;
        }
        bpf_ringbuf_submit(e, 0);
        return XDP_PASS;
    }
    bump(0);
    return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
