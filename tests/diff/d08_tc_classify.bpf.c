// C twin of d08_tc_classify.ks.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} classes SEC(".maps");

SEC("tc")
int classify(struct __sk_buff *ctx)
{
    __u8 hdr[40];
    __builtin_memset(hdr, 0, sizeof(hdr));
    if (ctx->protocol != bpf_htons(ETH_P_IP)) {
        ctx->mark = ctx->mark | 0x100;
        return TC_ACT_OK;
    }
    if (bpf_skb_load_bytes(ctx, 14, hdr, 40) != 0)
        return TC_ACT_SHOT;
    __u8 tos = hdr[1];
    __u8 proto = hdr[9];
    __u16 dport = (__u16)(hdr[22] << 8) | hdr[23];
    __u32 cls;
    if (proto == IPPROTO_TCP && (dport == 22 || dport == 23))
        cls = 1;
    else if (proto == IPPROTO_UDP && dport == 53)
        cls = 2;
    else if ((tos >> 2) == 46)
        cls = 3;
    else if (ctx->len > 1000)
        cls = 4;
    else
        cls = 5 + (ctx->priority & 1);
    __u64 *p = bpf_map_lookup_elem(&classes, &cls);
    if (p)
        __sync_fetch_and_add(p, 1);
    ctx->mark = (ctx->mark & 0xffff0000) | (cls << 8) | tos;
    ctx->priority = cls;
    ctx->cb[0] = dport;
    ctx->cb[1] = ctx->len;
    ctx->cb[4] = (__u32)proto * 1000 + cls;
    if (cls == 1) {
        __u8 newtos = (8 << 2) | (tos & 3);
        __u16 oldw = bpf_htons((__u16)(hdr[0] << 8) | tos);
        __u16 neww = bpf_htons((__u16)(hdr[0] << 8) | newtos);
        bpf_l3_csum_replace(ctx, 24, oldw, neww, 2);
        bpf_skb_store_bytes(ctx, 15, &newtos, 1, 0);
        return TC_ACT_PIPE;
    }
    if (cls == 2)
        return TC_ACT_SHOT;
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
