// C twin of b04_token_bucket.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define RATE 1000000
#define BURST 64000

struct Bucket {
    __u64 tokens;
    __u64 last;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, struct Bucket);
} buckets SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} verdicts SEC(".maps");

static __always_inline void count(__u32 k)
{
    __u64 *p = bpf_map_lookup_elem(&verdicts, &k);
    if (p)
        __sync_fetch_and_add(p, 1);
}

SEC("xdp")
int limiter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 34 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    __u64 len = (__u64)(end - data);
    __u64 now = bpf_ktime_get_ns();
    __u32 src = ip->saddr;
    struct Bucket *b = bpf_map_lookup_elem(&buckets, &src);
    if (b) {
        __u64 elapsed = now - b->last;
        __u64 tokens = BURST;
        if (elapsed < 1000000000) {
            tokens = b->tokens + elapsed * RATE / 1000000000;
            if (tokens > BURST)
                tokens = BURST;
        }
        b->last = now;
        if (tokens >= len) {
            b->tokens = tokens - len;
            count(0);
            return XDP_PASS;
        }
        b->tokens = tokens;
        count(1);
        return XDP_DROP;
    }
    struct Bucket n = {.tokens = BURST - len, .last = now};
    bpf_map_update_elem(&buckets, &src, &n, BPF_ANY);
    count(0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
