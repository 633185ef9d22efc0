// C twin of d11_globals_try.ks: throw/catch become error returns.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct limits_t {
    __u32 max_len;
    _Bool strict;
    __u16 ports[4];
};

struct limits_t limits = {.max_len = 1200, .strict = 1, .ports = {22, 23, 80, 443}};
__u64 seen = 0;
__u64 dropped = 0;
static volatile __u32 bias = 5;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} counters SEC(".maps");

static __always_inline void bump(__u32 k, __u64 v)
{
    __u64 *p = bpf_map_lookup_elem(&counters, &k);
    if (p)
        __sync_fetch_and_add(p, v);
}

/* returns 0 or the thrown code; the value goes to *out */
static __noinline int check(__u32 len, __u16 proto, __u32 *out)
{
    if (len > limits.max_len)
        return 7;
    if (proto == 0)
        return 3;
    if (len < 60)
        return 100;
    *out = len;
    return 0;
}

static __noinline _Bool port_listed(__u16 port)
{
    for (int i = 0; i < 4; i++)
        if (limits.ports[i] == port)
            return 1;
    return 0;
}

static __always_inline int body(struct __sk_buff *ctx)
{
    void *data = (void *)(long)ctx->data;
    __u16 port = 0;
    if (data + 38 <= (void *)(long)ctx->data_end)
        port = bpf_ntohs(*(__u16 *)(data + 36));
    __u32 v = 0;
    int err = check(ctx->len, ctx->protocol, &v);
    if (err == 7) {
        dropped += 1;
        return -7;
    }
    if (err == 3) {
        bump(4, 1);
        return -3;
    }
    if (err) {
        bump(2, 1);
        return -100;
    }
    if (limits.strict && port_listed(port)) {
        bump(3, 1);
        return -22;
    }
    if (seen % 500 == 0) {
        limits.strict = !limits.strict;
        limits.max_len = limits.max_len - 100;
    }
    return (int)v + (int)bias;
}

SEC("tc")
int guard(struct __sk_buff *ctx)
{
    seen += 1;
    int ret = body(ctx);
    /* defers, in reverse order */
    bump(1, 2);
    bump(0, 1);
    return ret;
}

char LICENSE[] SEC("license") = "GPL";
