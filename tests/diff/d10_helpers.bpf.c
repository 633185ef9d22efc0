// C twin of d10_helpers.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} sums SEC(".maps");

static __always_inline void put(__u32 k, __u64 v)
{
    bpf_map_update_elem(&sums, &k, &v, BPF_ANY);
}

SEC("xdp")
int helpers(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 34 > end)
        return XDP_PASS;
    __u32 words[5];
    for (int i = 0; i < 5; i++)
        words[i] = *(__u32 *)(data + 14 + i * 4);
    __s64 cs = bpf_csum_diff(NULL, 0, words, 20, 0);
    put(0, (__u64)cs);
    put(1, (__u64)bpf_get_smp_processor_id() + 7);
    struct ethhdr *eth = data;
    if (eth->h_proto == bpf_htons(0x8100)) {
        for (int i = 0; i < 3; i++) {
            __u32 w = *(__u32 *)(data + 8 - i * 4);
            *(__u32 *)(data + 12 - i * 4) = w;
        }
        if (bpf_xdp_adjust_head(ctx, 4) != 0)
            return XDP_ABORTED;
        data = (void *)(long)ctx->data;
        end = (void *)(long)ctx->data_end;
        if (data + 14 > end)
            return XDP_ABORTED;
        __u32 k = 2;
        __u64 *p = bpf_map_lookup_elem(&sums, &k);
        if (p)
            __sync_fetch_and_add(p, 1);
        return XDP_TX;
    }
    __u32 len = (__u32)(end - data);
    if (len > 600) {
        if (bpf_xdp_adjust_tail(ctx, -100) != 0)
            return XDP_ABORTED;
        data = (void *)(long)ctx->data;
        end = (void *)(long)ctx->data_end;
        if (data + 500 > end)
            return XDP_ABORTED;
        __s64 c2 = bpf_csum_diff(NULL, 0, data + 400, 64, 0);
        put(3, (__u64)c2);
        return XDP_TX;
    }
    if (len < 100) {
        if (bpf_xdp_adjust_tail(ctx, 16) != 0)
            return XDP_ABORTED;
        data = (void *)(long)ctx->data;
        end = (void *)(long)ctx->data_end;
        if (data + 50 > end)
            return XDP_DROP;
        *(__u32 *)(data + 46) = 0xdeadbeef;
        return XDP_TX;
    }
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
