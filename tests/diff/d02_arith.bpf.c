// C twin of d02_arith.ks. clang rejects signed division on cpu v3, so the
// signed operations are written with unsigned ones, as ksc emits them:
// x / 0 == 0, x % 0 == x, MIN / -1 == MIN, shift counts modulo the width.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 32);
    __type(key, u32);
    __type(value, u64);
} ures SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 32);
    __type(key, u32);
    __type(value, u64);
} sres SEC(".maps");

static __always_inline u64 udiv(u64 a, u64 b) { return b ? a / b : 0; }
static __always_inline u64 umod(u64 a, u64 b) { return b ? a % b : a; }
static __always_inline u32 udiv32(u32 a, u32 b) { return b ? a / b : 0; }
static __always_inline u32 umod32(u32 a, u32 b) { return b ? a % b : a; }

static __always_inline s64 sdiv64(s64 a, s64 b)
{
    if (b == 0)
        return 0;
    u64 ua = a < 0 ? -(u64)a : (u64)a;
    u64 ub = b < 0 ? -(u64)b : (u64)b;
    u64 q = ua / ub;
    return (s64)((a < 0) != (b < 0) ? -q : q);
}

static __always_inline s64 smod64(s64 a, s64 b)
{
    if (b == 0)
        return a;
    u64 ua = a < 0 ? -(u64)a : (u64)a;
    u64 ub = b < 0 ? -(u64)b : (u64)b;
    u64 r = ua % ub;
    return (s64)(a < 0 ? -r : r);
}

static __noinline u64 edge64(u8 sel, u64 raw)
{
    switch (sel & 7) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 0xffffffffffffffffULL;
    case 3: return 0x8000000000000000ULL;
    case 4: return 0x7fffffffffffffffULL;
    case 5: return 0x80000000ULL;
    default: return raw;
    }
}

SEC("tc")
int arith_unsigned(struct __sk_buff *ctx)
{
    void *data = (void *)(long)ctx->data;
    if (data + 48 > (void *)(long)ctx->data_end)
        return (s32)(ctx->len * 3);
    u8 sel = *(u8 *)(data + 46);
    u64 a64 = edge64(sel, *(u64 *)(data + 14));
    u64 b64 = edge64(sel >> 3, *(u64 *)(data + 22));
    u32 a32 = *(u32 *)(data + 30);
    u32 b32 = (u32)edge64(sel >> 5, *(u32 *)(data + 34));
    u16 a16 = *(u16 *)(data + 38);
    u16 b16 = *(u16 *)(data + 40);
    u8 a8 = *(u8 *)(data + 42);
    u8 b8 = *(u8 *)(data + 43);
    u8 c = *(u8 *)(data + 44);
    u32 c32 = *(u32 *)(data + 44);

    u64 r[32];
    r[0] = a64 + b64;
    r[1] = a64 - b64;
    r[2] = a64 * b64;
    r[3] = udiv(a64, b64);
    r[4] = umod(a64, b64);
    r[5] = a64 << (c & 63);
    r[6] = a64 >> (c & 63);
    r[7] = (u32)(a32 + b32);
    r[8] = (u32)(a32 * b32);
    r[9] = udiv32(a32, b32);
    r[10] = umod32(a32, b32);
    r[11] = (u32)(a32 << (c32 & 31));
    r[12] = a32 >> (c & 31);
    r[13] = (u16)(a16 + b16);
    r[14] = (u16)((u32)a16 * b16);
    r[15] = (u16)udiv32(a16, b16);
    r[16] = (u16)umod32(a16, b16);
    r[17] = (u16)((u32)a16 << (c & 15));
    r[18] = (u16)(a16 >> (c & 15));
    r[19] = (u8)(a8 + b8);
    r[20] = (u8)(a8 - b8);
    r[21] = (u8)((u32)a8 * b8);
    r[22] = (u8)udiv32(a8, b8);
    r[23] = (u8)umod32(a8, b8);
    r[24] = (u8)((u32)a8 << (c & 7));
    r[25] = (u8)(a8 >> (c & 7));
    r[26] = (a64 & b64) | (u64)(a32 ^ b32);
    r[27] = (u64)(u8)~a8 + (u64)(u16)-a16;
    r[28] = (u64)(u32)((u16)(a8 + a16) + a32) + a64;
    r[29] = (u32)((u16)((u8)a64 + (u16)a64) + (u32)a64);
    r[30] = (a32 > b32 ? 1 : 0) + (a16 <= b16 ? 2 : 0) + (a8 == b8 ? 4 : 0) + (a64 >= b64 ? 8 : 0);
    r[31] = (u64)(a32 / 7 + a32 % 10) + a64 / 1000 + (u16)(a16 / 3) + (u8)(a8 % 5);
    u64 sum = 0;
    for (u32 i = 0; i < 32; i++) {
        u32 k = i;
        u64 v = r[i];
        bpf_map_update_elem(&ures, &k, &v, BPF_ANY);
        sum = sum ^ (v + i);
    }
    return (s32)(sum ^ (sum >> 32));
}

SEC("tc")
int arith_signed(struct __sk_buff *ctx)
{
    void *data = (void *)(long)ctx->data;
    if (data + 48 > (void *)(long)ctx->data_end)
        return -(s32)ctx->len;
    u8 sel = *(u8 *)(data + 47);
    s64 a64 = *(s64 *)(data + 14);
    s64 b64 = (s64)edge64(sel, *(u64 *)(data + 22));
    s32 a32 = *(s32 *)(data + 30);
    s32 b32 = (s32)edge64(sel >> 3, *(u32 *)(data + 34));
    s16 a16 = *(s16 *)(data + 38);
    s16 b16 = (s16)edge64(sel >> 5, *(u16 *)(data + 40));
    s8 a8 = *(s8 *)(data + 42);
    s8 b8 = *(s8 *)(data + 43);
    u8 c = *(u8 *)(data + 44);

    s64 r[32];
    r[0] = sdiv64(a64, b64);
    r[1] = smod64(a64, b64);
    r[2] = (s32)sdiv64(a32, b32);
    r[3] = (s32)smod64(a32, b32);
    r[4] = (s16)sdiv64(a16, b16);
    r[5] = (s16)smod64(a16, b16);
    r[6] = (s8)sdiv64(a8, b8);
    r[7] = (s8)smod64(a8, b8);
    r[8] = a64 >> (c & 63);
    r[9] = a32 >> (c & 31);
    r[10] = (s16)(a16 >> (c & 15));
    r[11] = (s8)(a8 >> (c & 7));
    r[12] = (s8)(a8 * b8);
    r[13] = (s16)((s16)(a16 * b16) - a8);
    r[14] = (s32)((u32)a32 * (u32)b32 + (u32)(s32)a16);
    r[15] = (s64)((u64)a64 * (u64)b64);
    r[16] = (s32)-(u32)a32;
    r[17] = (s8)-a8;
    r[18] = (a8 < b8 ? 1 : 0) + (a16 < b16 ? 2 : 0) + (a32 < b32 ? 4 : 0) + (a64 < b64 ? 8 : 0);
    r[19] = ((u16)a8 < (u16)b16 ? 1 : 0) + ((u32)a32 <= (u32)b32 ? 2 : 0);
    r[20] = (s64)a8 + (s64)a16 + (s64)a32;
    r[21] = (u32)((u16)((u8)a8 + (u16)a16) + (u32)a32);
    r[22] = sdiv64(a64, -7);
    r[23] = smod64(a64, -7);
    r[24] = (s32)sdiv64(a32, 3);
    r[25] = (s32)smod64(a32, 3);
    r[26] = (s16)sdiv64(a16, -2);
    r[27] = (s8)smod64(a8, 4);
    r[28] = sdiv64((s64)((u64)(s64)a32 * (u64)(s64)b32), 1000);
    r[29] = (s32)sdiv64((s32)a64, (s32)b64);
    r[30] = (s16)smod64((s16)a64, (s16)b64);
    r[31] = (s8)sdiv64((s8)(a8 + b8), (s8)(a8 - b8));
    s64 sum = 0;
    for (u32 i = 0; i < 32; i++) {
        u32 k = i;
        u64 v = (u64)r[i];
        bpf_map_update_elem(&sres, &k, &v, BPF_ANY);
        sum = (s64)((u64)sum + (u64)r[i] * ((u64)i + 1));
    }
    return (s32)(sum ^ (sum >> 29));
}

char LICENSE[] SEC("license") = "GPL";
