// C twin of d07_rewrite.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} bad_csum SEC(".maps");

static __noinline __u16 fold(__u32 sum)
{
    __u32 s = sum;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (__u16)s;
}

SEC("xdp")
int reflect(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 42 > end)
        return XDP_PASS;
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    struct iphdr *ip = data + 14;
    if (ip->ihl != 5 || ip->version != 4)
        return XDP_PASS;
    __u32 sum = 0;
    for (__u32 i = 0; i < 10; i++)
        sum += bpf_ntohs(*(__u16 *)(data + 14 + i * 2));
    if (fold(sum) != 0xffff) {
        __u32 k = 0;
        __u64 *p = bpf_map_lookup_elem(&bad_csum, &k);
        if (p)
            __sync_fetch_and_add(p, 1);
        return XDP_PASS;
    }
    if (ip->ttl <= 1)
        return XDP_DROP;
    for (int i = 0; i < 6; i++) {
        __u8 t = eth->h_dest[i];
        eth->h_dest[i] = eth->h_source[i];
        eth->h_source[i] = t;
    }
    __u32 a = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = a;
    __u16 old = bpf_ntohs(*(__u16 *)(data + 22));
    ip->ttl -= 1;
    __u16 new = bpf_ntohs(*(__u16 *)(data + 22));
    __u16 c = bpf_ntohs(ip->check) ^ 0xffff;
    __u32 s2 = (__u32)c + (__u32)(__u16)(old ^ 0xffff) + (__u32)new;
    ip->check = bpf_htons(fold(s2) ^ 0xffff);
    if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
        __u16 *ports = data + 34;
        __u16 p0 = *ports;
        *ports = *(__u16 *)(data + 36);
        *(__u16 *)(data + 36) = p0;
    }
    if (data + 50 <= end) {
        for (__u32 i = 0; i < 8; i++) {
            __u8 *b = data + 42 + i;
            *b = *b ^ (__u8)(0x5a + i);
        }
    }
    return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
