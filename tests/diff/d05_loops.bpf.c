// C twin of d05_loops.ks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} out SEC(".maps");

static __noinline __u32 mix(__u32 a, __u32 b)
{
    __u32 acc = 0;
    for (__u32 i = 0; i < 16; i++) {
        if (i == 3)
            continue;
        if (acc > 0xf0000000)
            break;
        acc = acc * 31 + (a ^ i) + b;
    }
    return acc;
}

static __noinline __u32 popcount(__u64 x)
{
    __u32 c = 0;
    __u64 v = x;
    while (v != 0 && c < 64) {
        v = v & (v - 1);
        c += 1;
    }
    return c;
}

static __always_inline void put(__u32 k, __u64 v)
{
    bpf_map_update_elem(&out, &k, &v, BPF_ANY);
}

SEC("tc")
int loops(struct __sk_buff *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 22 > end)
        return 0;
    __u8 n = *(__u8 *)(data + 14) & 15;
    __u32 sum = 0, cnt = 0;
    for (__u32 i = 0; i < 16; i++) {
        if (i >= n)
            break;
        __u8 *p = data + 15 + i;
        if ((void *)(p + 1) > end)
            break;
        __u8 byte = *p;
        if (byte == 0)
            continue;
        sum += byte;
        cnt += 1;
    }
    __u64 word = *(__u64 *)(data + 14);
    __u32 pc = popcount(word);
    __u32 m = mix(sum, ctx->len);
    __u32 grid[16];
    for (__u32 r = 0; r < 4; r++)
        for (__u32 c = 0; c < 4; c++)
            grid[r * 4 + c] = (r + 1) * (c + 3) ^ (m >> ((r * 4 + c) & 31));
    __u32 acc = 0;
    for (__u32 k = 0; k < 16; k++)
        acc += grid[(k * 7) % 16] * (k + 1);
    __u32 w = 0, t = sum;
    while (t > 0) {
        w += 1;
        t = t >> 1;
        if (w > 40)
            break;
    }
    put(0, sum);
    put(1, cnt);
    put(2, pc);
    put(3, m);
    put(4, acc);
    put(5, w);
    put(6, grid[n % 16]);
    __u32 k7 = 7;
    __u64 *p7 = bpf_map_lookup_elem(&out, &k7);
    if (p7)
        __sync_fetch_and_add(p7, 1);
    return (int)(acc ^ m ^ sum);
}

char LICENSE[] SEC("license") = "GPL";
