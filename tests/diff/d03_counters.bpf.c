// C twin of d03_counters.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct Stat {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} by_len SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u16);
    __type(value, struct Stat);
} by_type SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} cpu_bytes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 256);
    __type(key, __u8);
    __type(value, __u64);
} per_proto SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 32);
    __type(key, __u32);
    __type(value, __u32);
} last SEC(".maps");

__u64 total = 0;

/* m[k] += v: read (0 if absent), add, write back */
static __always_inline void add(void *map, const void *key, __u64 v)
{
    __u64 *p = bpf_map_lookup_elem(map, key);
    if (p) {
        __sync_fetch_and_add(p, v);
    } else {
        bpf_map_update_elem(map, key, &v, BPF_ANY);
    }
}

SEC("xdp")
int count(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 len = (__u32)(end - data);
    __u32 b = len / 100;
    if (b > 15)
        b = 15;
    __u64 *p = bpf_map_lookup_elem(&by_len, &b);
    if (p)
        __sync_fetch_and_add(p, 1);
    __u32 k = len & 3;
    p = bpf_map_lookup_elem(&cpu_bytes, &k);
    if (p)
        __sync_fetch_and_add(p, (__u64)len);
    total += len;
    if (data + sizeof(struct ethhdr) > end)
        return XDP_ABORTED;
    struct ethhdr *eth = data;
    __u16 et = bpf_ntohs(eth->h_proto);
    struct Stat *s = bpf_map_lookup_elem(&by_type, &et);
    if (s) {
        s->packets += 1;
        s->bytes += len;
    } else {
        struct Stat n = {.packets = 1, .bytes = len};
        bpf_map_update_elem(&by_type, &et, &n, BPF_ANY);
    }
    if (et != ETH_P_IP || data + 34 > end)
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    __u8 proto = ip->protocol;
    add(&per_proto, &proto, 1);
    __u32 saddr = ip->saddr;
    bpf_map_update_elem(&last, &saddr, &len, BPF_ANY);
    if (ip->ttl == 0) {
        bpf_map_delete_elem(&last, &saddr);
        bpf_map_delete_elem(&by_type, &et);
        return XDP_DROP;
    }
    if (len > 1400)
        return XDP_DROP;
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
