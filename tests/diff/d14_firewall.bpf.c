// C twin of d14_firewall.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct V4Key {
    __u32 addr;
    __u16 port;
    __u8 proto;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct V4Key);
    __type(value, __u32);
} rules SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u8);
} deny_src SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16);
    __type(key, struct V4Key);
    __type(value, __u64);
} conn SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} verdicts SEC(".maps");

static __noinline int account(int v)
{
    __u32 k = v;
    __u64 *p = bpf_map_lookup_elem(&verdicts, &k);
    if (p)
        __sync_fetch_and_add(p, 1);
    return v;
}

SEC("xdp")
int firewall(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    if (data + 38 > end)
        return account(XDP_PASS);
    struct ethhdr *eth = data;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return account(XDP_PASS);
    struct iphdr *ip = data + 14;
    __u32 last_octet = bpf_ntohl(ip->saddr) & 0xff;
    __u8 *d = bpf_map_lookup_elem(&deny_src, &last_octet);
    if (d && *d != 0)
        return account(XDP_DROP);
    __u16 dport = 0;
    if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP)
        dport = bpf_ntohs(*(__u16 *)(data + 36));
    struct V4Key k;
    __builtin_memset(&k, 0, sizeof(k));
    k.addr = ip->daddr;
    k.port = dport;
    k.proto = ip->protocol;
    __u32 *r = bpf_map_lookup_elem(&rules, &k);
    if (r) {
        if (*r == 1)
            return account(XDP_DROP);
        if (*r == 3)
            return account(XDP_TX);
    }
    struct V4Key ck;
    __builtin_memset(&ck, 0, sizeof(ck));
    ck.addr = ip->saddr;
    ck.port = dport;
    ck.proto = ip->protocol;
    __u64 len = (__u64)(end - data);
    __u64 *c = bpf_map_lookup_elem(&conn, &ck);
    if (c)
        *c += len;
    else
        bpf_map_update_elem(&conn, &ck, &len, BPF_ANY);
    return account(XDP_PASS);
}

char LICENSE[] SEC("license") = "GPL";
