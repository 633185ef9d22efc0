/* The built-in kernel types, for machines (or runs: --btf none) without
 * kernel BTF: the program contexts xdp_md and __sk_buff, xdp_action, the
 * common packet headers and x86_64 pt_regs.
 *
 * Each is a table with the exact offsets kernel BTF gives (the uapi
 * layouts of linux/bpf.h, if_ether.h, ip.h, ipv6.h, in6.h, tcp.h, udp.h,
 * icmp.h, and pt_regs as kernel 6.18 has it, with the FRED unions), so a
 * program compiles to the same code with and without BTF; the unit tests
 * compare every member with /sys/kernel/btf/vmlinux. Anonymous struct and
 * union types are the entries whose names start with '@'; structs that are
 * only pointed to are opaque (size only). */
#include "btf/kbtf_internal.h"

#include <stdlib.h>
#include <string.h>

/* A member: name (NULL for an anonymous member), type spelled as ksc does
 * ("u32[5]", "*bpf_sock", or the name of another entry), byte offset, and
 * for bitfields the bit offset in the storage unit and the width. */
typedef struct BMem { const char *name, *type; short off, bit_off, bit_size; } BMem;
/* kind: 's' struct, 'u' union, 'o' opaque struct, 'e' enum */
typedef struct BDef { const char *name; char kind; short size, align; const BMem *mems; } BDef;

#define END { NULL, NULL, 0, 0, 0 }

static const BMem xdp_md_m[] = {
    { "data", "u32", 0, 0, 0 }, { "data_end", "u32", 4, 0, 0 }, { "data_meta", "u32", 8, 0, 0 },
    { "ingress_ifindex", "u32", 12, 0, 0 }, { "rx_queue_index", "u32", 16, 0, 0 },
    { "egress_ifindex", "u32", 20, 0, 0 }, END,
};

static const BMem sk_buff_m[] = {
    { "len", "u32", 0, 0, 0 }, { "pkt_type", "u32", 4, 0, 0 }, { "mark", "u32", 8, 0, 0 },
    { "queue_mapping", "u32", 12, 0, 0 }, { "protocol", "u32", 16, 0, 0 },
    { "vlan_present", "u32", 20, 0, 0 }, { "vlan_tci", "u32", 24, 0, 0 },
    { "vlan_proto", "u32", 28, 0, 0 }, { "priority", "u32", 32, 0, 0 },
    { "ingress_ifindex", "u32", 36, 0, 0 }, { "ifindex", "u32", 40, 0, 0 },
    { "tc_index", "u32", 44, 0, 0 }, { "cb", "u32[5]", 48, 0, 0 }, { "hash", "u32", 68, 0, 0 },
    { "tc_classid", "u32", 72, 0, 0 }, { "data", "u32", 76, 0, 0 }, { "data_end", "u32", 80, 0, 0 },
    { "napi_id", "u32", 84, 0, 0 }, { "family", "u32", 88, 0, 0 }, { "remote_ip4", "u32", 92, 0, 0 },
    { "local_ip4", "u32", 96, 0, 0 }, { "remote_ip6", "u32[4]", 100, 0, 0 },
    { "local_ip6", "u32[4]", 116, 0, 0 }, { "remote_port", "u32", 132, 0, 0 },
    { "local_port", "u32", 136, 0, 0 }, { "data_meta", "u32", 140, 0, 0 },
    { NULL, "@__sk_buff.flow_keys", 144, 0, 0 }, { "tstamp", "u64", 152, 0, 0 },
    { "wire_len", "u32", 160, 0, 0 }, { "gso_segs", "u32", 164, 0, 0 },
    { NULL, "@__sk_buff.sk", 168, 0, 0 }, { "gso_size", "u32", 176, 0, 0 },
    { "tstamp_type", "u8", 180, 0, 0 }, { "hwtstamp", "u64", 184, 0, 0 }, END,
};
static const BMem skb_flow_keys_m[] = { { "flow_keys", "*bpf_flow_keys", 0, 0, 0 }, END };
static const BMem skb_sk_m[] = { { "sk", "*bpf_sock", 0, 0, 0 }, END };

static const BMem ethhdr_m[] = {
    { "h_dest", "u8[6]", 0, 0, 0 }, { "h_source", "u8[6]", 6, 0, 0 }, { "h_proto", "u16", 12, 0, 0 }, END,
};

static const BMem iphdr_m[] = {
    { "ihl", "u8", 0, 0, 4 }, { "version", "u8", 0, 4, 4 }, { "tos", "u8", 1, 0, 0 },
    { "tot_len", "u16", 2, 0, 0 }, { "id", "u16", 4, 0, 0 }, { "frag_off", "u16", 6, 0, 0 },
    { "ttl", "u8", 8, 0, 0 }, { "protocol", "u8", 9, 0, 0 }, { "check", "u16", 10, 0, 0 },
    { NULL, "@iphdr.addrs_u", 12, 0, 0 }, END,
};
static const BMem iphdr_u_m[] = { { NULL, "@iphdr.addrs", 0, 0, 0 }, { "addrs", "@iphdr.addrs", 0, 0, 0 }, END };
static const BMem iphdr_s_m[] = { { "saddr", "u32", 0, 0, 0 }, { "daddr", "u32", 4, 0, 0 }, END };

static const BMem ipv6hdr_m[] = {
    { "priority", "u8", 0, 0, 4 }, { "version", "u8", 0, 4, 4 }, { "flow_lbl", "u8[3]", 1, 0, 0 },
    { "payload_len", "u16", 4, 0, 0 }, { "nexthdr", "u8", 6, 0, 0 }, { "hop_limit", "u8", 7, 0, 0 },
    { NULL, "@ipv6hdr.addrs_u", 8, 0, 0 }, END,
};
static const BMem ipv6hdr_u_m[] = { { NULL, "@ipv6hdr.addrs", 0, 0, 0 }, { "addrs", "@ipv6hdr.addrs", 0, 0, 0 }, END };
static const BMem ipv6hdr_s_m[] = { { "saddr", "in6_addr", 0, 0, 0 }, { "daddr", "in6_addr", 16, 0, 0 }, END };
static const BMem in6_addr_m[] = { { "in6_u", "@in6_addr.in6_u", 0, 0, 0 }, END };
static const BMem in6_u_m[] = {
    { "u6_addr8", "u8[16]", 0, 0, 0 }, { "u6_addr16", "u16[8]", 0, 0, 0 }, { "u6_addr32", "u32[4]", 0, 0, 0 }, END,
};

static const BMem tcphdr_m[] = {
    { "source", "u16", 0, 0, 0 }, { "dest", "u16", 2, 0, 0 }, { "seq", "u32", 4, 0, 0 },
    { "ack_seq", "u32", 8, 0, 0 }, { "ae", "u16", 12, 0, 1 }, { "res1", "u16", 12, 1, 3 },
    { "doff", "u16", 12, 4, 4 }, { "fin", "u16", 12, 8, 1 }, { "syn", "u16", 12, 9, 1 },
    { "rst", "u16", 12, 10, 1 }, { "psh", "u16", 12, 11, 1 }, { "ack", "u16", 12, 12, 1 },
    { "urg", "u16", 12, 13, 1 }, { "ece", "u16", 12, 14, 1 }, { "cwr", "u16", 12, 15, 1 },
    { "window", "u16", 14, 0, 0 }, { "check", "u16", 16, 0, 0 }, { "urg_ptr", "u16", 18, 0, 0 }, END,
};

static const BMem udphdr_m[] = {
    { "source", "u16", 0, 0, 0 }, { "dest", "u16", 2, 0, 0 }, { "len", "u16", 4, 0, 0 },
    { "check", "u16", 6, 0, 0 }, END,
};

static const BMem icmphdr_m[] = {
    { "type", "u8", 0, 0, 0 }, { "code", "u8", 1, 0, 0 }, { "checksum", "u16", 2, 0, 0 },
    { "un", "@icmphdr.un", 4, 0, 0 }, END,
};
static const BMem icmphdr_un_m[] = {
    { "echo", "@icmphdr.echo", 0, 0, 0 }, { "gateway", "u32", 0, 0, 0 },
    { "frag", "@icmphdr.frag", 0, 0, 0 }, { "reserved", "u8[4]", 0, 0, 0 }, END,
};
static const BMem icmphdr_echo_m[] = { { "id", "u16", 0, 0, 0 }, { "sequence", "u16", 2, 0, 0 }, END };
static const BMem icmphdr_frag_m[] = { { "__unused", "u16", 0, 0, 0 }, { "mtu", "u16", 2, 0, 0 }, END };

static const BMem pt_regs_m[] = {
    { "r15", "u64", 0, 0, 0 }, { "r14", "u64", 8, 0, 0 }, { "r13", "u64", 16, 0, 0 },
    { "r12", "u64", 24, 0, 0 }, { "bp", "u64", 32, 0, 0 }, { "bx", "u64", 40, 0, 0 },
    { "r11", "u64", 48, 0, 0 }, { "r10", "u64", 56, 0, 0 }, { "r9", "u64", 64, 0, 0 },
    { "r8", "u64", 72, 0, 0 }, { "ax", "u64", 80, 0, 0 }, { "cx", "u64", 88, 0, 0 },
    { "dx", "u64", 96, 0, 0 }, { "si", "u64", 104, 0, 0 }, { "di", "u64", 112, 0, 0 },
    { "orig_ax", "u64", 120, 0, 0 }, { "ip", "u64", 128, 0, 0 }, { NULL, "@pt_regs.cs", 136, 0, 0 },
    { "flags", "u64", 144, 0, 0 }, { "sp", "u64", 152, 0, 0 }, { NULL, "@pt_regs.ss", 160, 0, 0 }, END,
};
static const BMem pt_regs_cs_m[] = {
    { "cs", "u16", 0, 0, 0 }, { "csx", "u64", 0, 0, 0 }, { "fred_cs", "fred_cs", 0, 0, 0 }, END,
};
static const BMem pt_regs_ss_m[] = {
    { "ss", "u16", 0, 0, 0 }, { "ssx", "u64", 0, 0, 0 }, { "fred_ss", "fred_ss", 0, 0, 0 }, END,
};
static const BMem fred_cs_m[] = {
    { "cs", "u64", 0, 0, 16 }, { "sl", "u64", 0, 16, 2 }, { "wfe", "u64", 0, 18, 1 }, END,
};
static const BMem fred_ss_m[] = {
    { "ss", "u64", 0, 0, 16 }, { "sti", "u64", 0, 16, 1 }, { "swevent", "u64", 0, 17, 1 },
    { "nmi", "u64", 0, 18, 1 }, { "vector", "u64", 0, 32, 8 }, { "type", "u64", 0, 48, 4 },
    { "enclave", "u64", 0, 56, 1 }, { "lm", "u64", 0, 57, 1 }, { "nested", "u64", 0, 58, 1 },
    { "insnlen", "u64", 0, 60, 4 }, END,
};

/* xdp_action's values, as enum members: name in `name`, value in `off`. */
static const BMem xdp_action_m[] = {
    { "XDP_ABORTED", NULL, 0, 0, 0 }, { "XDP_DROP", NULL, 1, 0, 0 }, { "XDP_PASS", NULL, 2, 0, 0 },
    { "XDP_TX", NULL, 3, 0, 0 }, { "XDP_REDIRECT", NULL, 4, 0, 0 }, { NULL, NULL, -1, 0, 0 },
};

static const BDef defs[] = {
    { "xdp_md", 's', 24, 4, xdp_md_m },
    { "__sk_buff", 's', 192, 8, sk_buff_m },
    { "@__sk_buff.flow_keys", 'u', 8, 8, skb_flow_keys_m },
    { "@__sk_buff.sk", 'u', 8, 8, skb_sk_m },
    { "bpf_flow_keys", 'o', 56, 4, NULL },
    { "bpf_sock", 'o', 80, 4, NULL },
    { "xdp_action", 'e', 4, 4, xdp_action_m },
    { "ethhdr", 's', 14, 2, ethhdr_m },
    { "iphdr", 's', 20, 4, iphdr_m },
    { "@iphdr.addrs_u", 'u', 8, 4, iphdr_u_m },
    { "@iphdr.addrs", 's', 8, 4, iphdr_s_m },
    { "ipv6hdr", 's', 40, 4, ipv6hdr_m },
    { "@ipv6hdr.addrs_u", 'u', 32, 4, ipv6hdr_u_m },
    { "@ipv6hdr.addrs", 's', 32, 4, ipv6hdr_s_m },
    { "in6_addr", 's', 16, 4, in6_addr_m },
    { "@in6_addr.in6_u", 'u', 16, 4, in6_u_m },
    { "tcphdr", 's', 20, 4, tcphdr_m },
    { "udphdr", 's', 8, 2, udphdr_m },
    { "icmphdr", 's', 8, 4, icmphdr_m },
    { "@icmphdr.un", 'u', 4, 4, icmphdr_un_m },
    { "@icmphdr.echo", 's', 4, 2, icmphdr_echo_m },
    { "@icmphdr.frag", 's', 4, 2, icmphdr_frag_m },
    { "pt_regs", 's', 168, 8, pt_regs_m },
    { "@pt_regs.cs", 'u', 8, 8, pt_regs_cs_m },
    { "@pt_regs.ss", 'u', 8, 8, pt_regs_ss_m },
    { "fred_cs", 's', 8, 8, fred_cs_m },
    { "fred_ss", 's', 8, 8, fred_ss_m },
};

const char *const builtin_kernel_names[] = {
    "xdp_md", "__sk_buff", "xdp_action", "ethhdr", "iphdr", "ipv6hdr", "in6_addr", "tcphdr",
    "udphdr", "icmphdr", "pt_regs", NULL,
};

/* Converted entries, by name; arena memory, so forgotten by builtin_reset. */
static StrMap memo;

void builtin_reset(void) { memset(&memo, 0, sizeof memo); }

static const BDef *find_def(const char *name)
{
    for (size_t i = 0; i < sizeof defs / sizeof *defs; i++)
        if (!strcmp(defs[i].name, name))
            return &defs[i];
    return NULL;
}

static Type *def_type(const BDef *d);

static Type *prim_named(const char *s, size_t n)
{
    static const char *names[] = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "char", "bool" };
    Type *types[] = { ty_u8, ty_u16, ty_u32, ty_u64, ty_i8, ty_i16, ty_i32, ty_i64, ty_char, ty_bool };
    for (int i = 0; i < 10; i++)
        if (strlen(names[i]) == n && !strncmp(names[i], s, n))
            return types[i];
    char *name = strndup(s, n);
    const BDef *d = name ? find_def(name) : NULL;
    free(name);
    return d ? def_type(d) : ty_void;
}

/* "*name", "name[4][2]": the same spelling as ksc's parser, element first. */
static Type *spec_type(const char *spec)
{
    int ptrs = 0;
    while (*spec == '*')
        spec++, ptrs++;
    size_t n = strcspn(spec, "[");
    Type *t = prim_named(spec, n);
    for (const char *p = spec + n; *p == '['; p = strchr(p, ']') + 1)
        t = array_of(t, strtol(p + 1, NULL, 10));
    while (ptrs--)
        t = pointer_to(t);
    return t;
}

static Type *enum_type(const BDef *d)
{
    Type *t = new_type(TY_ENUM, d->size, d->align);
    int n = 0;
    while (d->mems[n].name)
        n++;
    t->vals = xalloc(sizeof(EnumVal) * (size_t)n);
    for (int i = 0; i < n; i++)
        t->vals[i] = (EnumVal){ .name = d->mems[i].name, .val = d->mems[i].off };
    t->nvals = n;
    return t;
}

static Type *def_type(const BDef *d)
{
    Type *t = strmap_get(&memo, d->name);
    if (t)
        return t;
    if (d->kind == 'e') {
        t = enum_type(d);
    } else {
        t = new_type(d->kind == 'u' ? TY_UNION : TY_STRUCT, d->size, d->align);
    }
    t->name = d->name[0] == '@' ? NULL : d->name;
    t->kernel = true;
    t->rstate = 2;
    strmap_put(&memo, d->name, t);      /* before the members, which may point back */
    if (d->kind == 'e' || !d->mems)
        return t;
    int n = 0;
    while (d->mems[n].type)
        n++;
    Member *ms = xalloc(sizeof(Member) * (size_t)n);
    for (int i = 0; i < n; i++) {
        const BMem *m = &d->mems[i];
        ms[i] = (Member){ .name = m->name, .ty = spec_type(m->type), .offset = m->off,
                          .bit_off = m->bit_off, .bit_size = m->bit_size };
    }
    t->members = ms;
    t->nmembers = n;
    return t;
}

Type *builtin_kernel_type(const char *name)
{
    const BDef *d = name && name[0] != '@' ? find_def(name) : NULL;
    return d ? def_type(d) : NULL;
}

bool builtin_enum_value(const char *name, i128 *val, Type **enum_ty)
{
    for (size_t i = 0; name && i < sizeof defs / sizeof *defs; i++) {
        if (defs[i].kind != 'e')
            continue;
        for (const BMem *m = defs[i].mems; m->name; m++) {
            if (strcmp(m->name, name))
                continue;
            if (val)
                *val = m->off;
            if (enum_ty)
                *enum_ty = def_type(&defs[i]);
            return true;
        }
    }
    return false;
}
