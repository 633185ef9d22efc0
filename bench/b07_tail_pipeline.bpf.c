// C twin of b07_tail_pipeline.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Meta {
    __u8 proto;
    __u16 dport;
    __u32 len;
    __u32 verdict;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct Meta);
} scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} stage_hits SEC(".maps");

int pipe_parse(struct xdp_md *ctx);
int pipe_policy(struct xdp_md *ctx);
int pipe_account(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 3);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void *));
} stages SEC(".maps") = {
    .values = {
        [0] = (void *)&pipe_parse,
        [1] = (void *)&pipe_policy,
        [2] = (void *)&pipe_account,
    },
};

static __always_inline void hit(__u32 k)
{
    __u64 *p = bpf_map_lookup_elem(&stage_hits, &k);
    if (p)
        __sync_fetch_and_add(p, 1);
}

static __always_inline struct Meta *meta(void)
{
    __u32 zero = 0;
    return bpf_map_lookup_elem(&scratch, &zero);
}

SEC("xdp")
int pipe_entry(struct xdp_md *ctx)
{
    hit(0);
    struct Meta *m = meta();
    if (!m)
        return XDP_ABORTED;
    m->len = (__u32)(ctx->data_end - ctx->data);
    m->proto = 0;
    m->dport = 0;
    m->verdict = XDP_PASS;
    bpf_tail_call(ctx, &stages, 0);
    return XDP_ABORTED;
}

SEC("xdp")
int pipe_parse(struct xdp_md *ctx)
{
    hit(1);
    void *data = (void *)(long)ctx->data;
    if (data + 54 > (void *)(long)ctx->data_end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    if (ip->ihl != 5)
        return XDP_PASS;
    struct Meta *m = meta();
    if (!m)
        return XDP_ABORTED;
    m->proto = ip->protocol;
    if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP)
        m->dport = bpf_ntohs(*(__u16 *)(data + 36));
    bpf_tail_call(ctx, &stages, 1);
    return XDP_ABORTED;
}

SEC("xdp")
int pipe_policy(struct xdp_md *ctx)
{
    hit(2);
    struct Meta *m = meta();
    if (!m)
        return XDP_ABORTED;
    __u16 p = m->dport;
    if (m->proto == IPPROTO_TCP && (p == 22 || p == 23 || p == 3389))
        m->verdict = XDP_DROP;
    else if (m->len > 1400)
        m->verdict = XDP_DROP;
    bpf_tail_call(ctx, &stages, 2);
    return XDP_ABORTED;
}

SEC("xdp")
int pipe_account(struct xdp_md *ctx)
{
    hit(3);
    struct Meta *m = meta();
    if (!m)
        return XDP_ABORTED;
    hit(4 + (m->verdict & 3));
    return m->verdict;
}

char LICENSE[] SEC("license") = "GPL";
