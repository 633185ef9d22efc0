// C twin of d16_iv_loops.ks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} out SEC(".maps");

static __always_inline void put(__u32 k, __u64 v)
{
    bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("xdp")
int walk(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 14 > end)
        return XDP_ABORTED;
    __u64 s16 = 0;
    __u32 words = 0;
    for (__u32 i = 0; i < 32; i++) {
        void *p = data + 14 + i * 2;
        if (p + 2 > end)
            break;
        s16 += *(__u16 *)p;
        words += 1;
    }
    __u32 x32 = 0, seen = 0;
    for (__u32 j = 3; j < 20; j++) {
        void *q = data + j * 4;
        if (q + 4 > end)
            break;
        __u32 v = *(__u32 *)q;
        seen += 1;
        if ((v & 1) == 0)
            continue;
        x32 ^= v + j;
    }
    __u32 arr[16] = {};
    for (__u32 k = 0; k < 16; k++)
        arr[k] = (words + k) * 2654435761u;
    __u32 mixed = 0;
    for (__u32 k = 0; k < 16; k++)
        mixed = (mixed << 3) ^ arr[k] ^ (mixed >> 29);
    __u32 bytes = 0;
    for (__u32 m = 1; m < 16; m++) {
        void *r = data + (m << 3);
        if (r + 1 > end)
            break;
        bytes += *(__u8 *)r;
    }
    put(0, s16);
    put(1, words);
    put(2, x32);
    put(3, seen);
    put(4, mixed);
    put(5, bytes);
    if (words > 20)
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
