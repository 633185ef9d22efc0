// C twin of b08_checksum.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} sums SEC(".maps");

static __always_inline __u16 fold32(__u64 x)
{
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    return (__u16)x;
}

static __always_inline void add(__u32 k, __u64 v)
{
    __u64 *p = bpf_map_lookup_elem(&sums, &k);
    if (p)
        __sync_fetch_and_add(p, v);
}

static __always_inline void set(__u32 k, __u64 v)
{
    bpf_map_update_elem(&sums, &k, &v, BPF_ANY);
}

SEC("xdp")
int checksum(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 34 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    if (ip->ihl != 5)
        return XDP_PASS;
    __u64 hs = 0;
    for (int i = 0; i < 10; i++)
        hs += *(__u16 *)(data + 14 + i * 2);
    if (fold32(hs) != 0xffff) {
        add(1, 1);
        return XDP_DROP;
    }
    __u64 ps = 0;
    __u32 words = 0;
    for (__u32 i = 0; i < 256; i++) {
        __u16 *p = data + 34 + i * 2;
        if ((void *)(p + 1) > end)
            break;
        ps += *p;
        words += 1;
    }
    add(0, 1);
    set(2, fold32(ps));
    set(3, words);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
