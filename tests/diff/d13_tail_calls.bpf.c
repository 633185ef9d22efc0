// C twin of d13_tail_calls.ks: a prog_array filled by libbpf from the
// .maps initializer; a failed tail call returns XDP_ABORTED.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} stage_count SEC(".maps");

static __always_inline void bump(__u32 k)
{
    __u64 *p = bpf_map_lookup_elem(&stage_count, &k);
    if (p)
        __sync_fetch_and_add(p, 1);
}

int parse_ipv4(struct xdp_md *ctx);
int parse_ipv6(struct xdp_md *ctx);
int parse_tcp(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 3);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void *));
} jump SEC(".maps") = {
    .values = {
        [0] = (void *)&parse_ipv4,
        [1] = (void *)&parse_ipv6,
        [2] = (void *)&parse_tcp,
    },
};

SEC("xdp")
int parse_l2(struct xdp_md *ctx)
{
    bump(0);
    void *data = (void *)(long)ctx->data;
    if (data + 14 > (void *)(long)ctx->data_end)
        return XDP_DROP;
    struct ethhdr *eth = data;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        bpf_tail_call(ctx, &jump, 0);
        return XDP_ABORTED;
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        bpf_tail_call(ctx, &jump, 1);
        return XDP_ABORTED;
    }
    return XDP_PASS;
}

SEC("xdp")
int parse_ipv4(struct xdp_md *ctx)
{
    bump(1);
    void *data = (void *)(long)ctx->data;
    if (data + 34 > (void *)(long)ctx->data_end)
        return XDP_DROP;
    struct iphdr *ip = data + 14;
    if (ip->protocol == IPPROTO_TCP && ip->ihl == 5) {
        bpf_tail_call(ctx, &jump, 2);
        return XDP_ABORTED;
    }
    return XDP_PASS;
}

SEC("xdp")
int parse_ipv6(struct xdp_md *ctx)
{
    bump(2);
    long len = (long)ctx->data_end - (long)ctx->data;
    return len > 1000 ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int parse_tcp(struct xdp_md *ctx)
{
    bump(3);
    void *data = (void *)(long)ctx->data;
    if (data + 54 > (void *)(long)ctx->data_end)
        return XDP_DROP;
    struct tcphdr *tcp = data + 34;
    if (bpf_ntohs(tcp->dest) == 22)
        return XDP_DROP;
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
