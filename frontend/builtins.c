/* Built-in functions, BPF helpers with their prototypes, and the
 * constants every program may use without a declaration. */
#include "frontend/internal.h"

#include <linux/bpf.h>
#include <string.h>

static const BuiltinFn fns[] = {
    { "print", B_PRINT, IN_ALL },
    { "load", B_LOAD, IN_USER | IN_TEST },
    { "attach", B_ATTACH, IN_USER | IN_TEST },
    { "detach", B_DETACH, IN_USER | IN_TEST },
    { "register", B_REGISTER, IN_USER | IN_TEST },
    { "test", B_TEST, IN_TEST },
    { "dispatch", B_DISPATCH, IN_USER | IN_TEST },
    { "sleep", B_SLEEP, IN_USER | IN_TEST },
    { "daemon", B_DAEMON, IN_USER },
    { "exit", B_EXIT, IN_USER | IN_TEST },
    { "read", B_READ, IN_USER | IN_TEST },
    { "htons", B_HTONS, IN_ALL },
    { "ntohs", B_NTOHS, IN_ALL },
    { "htonl", B_HTONL, IN_ALL },
    { "ntohl", B_NTOHL, IN_ALL },
};

const BuiltinFn *builtin_fn(const char *name)
{
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++)
        if (!strcmp(fns[i].name, name))
            return &fns[i];
    return NULL;
}

#define H(n, sig) { "bpf_" #n, BPF_FUNC_##n, sig }
static const Helper helpers[] = {
    H(map_lookup_elem, "p:Mp"),
    H(map_update_elem, "I:MppU"),
    H(map_delete_elem, "I:Mp"),
    H(ktime_get_ns, "U:"),
    H(ktime_get_boot_ns, "U:"),
    H(get_prandom_u32, "u:"),
    H(get_smp_processor_id, "u:"),
    H(get_current_pid_tgid, "U:"),
    H(get_current_uid_gid, "U:"),
    H(get_current_comm, "I:pu"),
    H(trace_printk, "I:pu..."),
    H(tail_call, "I:cMu"),
    H(redirect, "I:uU"),
    H(redirect_map, "I:MUU"),
    H(xdp_adjust_head, "I:ci"),
    H(xdp_adjust_tail, "I:ci"),
    H(xdp_adjust_meta, "I:ci"),
    H(skb_load_bytes, "I:cupu"),
    H(skb_store_bytes, "I:cupuU"),
    H(csum_diff, "I:pupuu"),
    H(l3_csum_replace, "I:cuUUU"),
    H(l4_csum_replace, "I:cuUUU"),
    H(probe_read_kernel, "I:pup"),
    H(probe_read_user, "I:pup"),
    H(probe_read_kernel_str, "I:pup"),
    H(probe_read_user_str, "I:pup"),
    H(get_current_task, "U:"),
    H(ringbuf_output, "I:MpUU"),
    H(ringbuf_reserve, "p:MUU"),
    H(ringbuf_submit, "v:pU"),
    H(ringbuf_discard, "v:pU"),
    H(perf_event_output, "I:cMUpU"),
    H(loop, "I:ufpU"),
    H(spin_lock, "I:p"),
    H(spin_unlock, "I:p"),
    H(strncmp, "I:pup"),
    H(jiffies64, "U:"),
    H(get_numa_node_id, "I:"),
    H(skb_change_head, "I:cuU"),
    H(clone_redirect, "I:cuU"),
    H(get_cgroup_classid, "u:c"),
    H(get_hash_recalc, "u:c"),
    H(set_hash, "I:cu"),
};

/* Short names for the most common helpers. */
static const struct { const char *alias, *name; } aliases[] = {
    { "ktime_ns", "bpf_ktime_get_ns" }, { "pid_tgid", "bpf_get_current_pid_tgid" },
    { "cpu_id", "bpf_get_smp_processor_id" }, { "random_u32", "bpf_get_prandom_u32" },
    { "bpf_printk", "bpf_trace_printk" },
};

const Helper *helper_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (!strcmp(aliases[i].alias, name))
            name = aliases[i].name;
    for (size_t i = 0; i < sizeof helpers / sizeof *helpers; i++)
        if (!strcmp(helpers[i].name, name))
            return &helpers[i];
    return NULL;
}

const Helper *helper_by_id(int id)
{
    for (size_t i = 0; i < sizeof helpers / sizeof *helpers; i++)
        if (helpers[i].id == id)
            return &helpers[i];
    return NULL;
}

typedef struct { const char *name; long long val; } Const;

/* C macros that kernel BTF does not carry, and the language's own names. */
static const Const consts[] = {
    { "XDP_ABORTED", 0 }, { "XDP_DROP", 1 }, { "XDP_PASS", 2 }, { "XDP_TX", 3 },
    { "XDP_REDIRECT", 4 },
    { "TC_ACT_UNSPEC", -1 }, { "TC_ACT_OK", 0 }, { "TC_ACT_RECLASSIFY", 1 },
    { "TC_ACT_SHOT", 2 }, { "TC_ACT_PIPE", 3 }, { "TC_ACT_STOLEN", 4 }, { "TC_ACT_QUEUED", 5 },
    { "TC_ACT_REPEAT", 6 }, { "TC_ACT_REDIRECT", 7 }, { "TC_ACT_TRAP", 8 },
    { "ETH_P_ALL", 0x0003 }, { "ETH_P_LOOP", 0x0060 }, { "ETH_P_IP", 0x0800 },
    { "ETH_P_ARP", 0x0806 }, { "ETH_P_8021Q", 0x8100 }, { "ETH_P_IPV6", 0x86DD },
    { "ETH_P_MPLS_UC", 0x8847 }, { "ETH_P_MPLS_MC", 0x8848 }, { "ETH_P_8021AD", 0x88A8 },
    { "ETH_P_LLDP", 0x88CC }, { "ETH_P_PPP_SES", 0x8864 }, { "ETH_ALEN", 6 }, { "ETH_HLEN", 14 },
    { "IPPROTO_IP", 0 }, { "IPPROTO_ICMP", 1 }, { "IPPROTO_IGMP", 2 }, { "IPPROTO_IPIP", 4 },
    { "IPPROTO_TCP", 6 }, { "IPPROTO_EGP", 8 }, { "IPPROTO_PUP", 12 }, { "IPPROTO_UDP", 17 },
    { "IPPROTO_IDP", 22 }, { "IPPROTO_TP", 29 }, { "IPPROTO_DCCP", 33 }, { "IPPROTO_IPV6", 41 },
    { "IPPROTO_RSVP", 46 }, { "IPPROTO_GRE", 47 }, { "IPPROTO_ESP", 50 }, { "IPPROTO_AH", 51 },
    { "IPPROTO_ICMPV6", 58 }, { "IPPROTO_MTP", 92 }, { "IPPROTO_ENCAP", 98 },
    { "IPPROTO_PIM", 103 }, { "IPPROTO_COMP", 108 }, { "IPPROTO_SCTP", 132 },
    { "IPPROTO_UDPLITE", 136 }, { "IPPROTO_MPLS", 137 }, { "IPPROTO_RAW", 255 },
    { "IPPROTO_MPTCP", 262 },
    { "BPF_ANY", 0 }, { "BPF_NOEXIST", 1 }, { "BPF_EXIST", 2 }, { "BPF_F_LOCK", 4 },
    { "BPF_F_NO_PREALLOC", 1 }, { "BPF_F_NO_COMMON_LRU", 2 }, { "BPF_F_NUMA_NODE", 4 },
    { "BPF_F_RDONLY", 8 }, { "BPF_F_WRONLY", 16 }, { "BPF_F_STACK_BUILD_ID", 32 },
    { "BPF_F_ZERO_SEED", 64 }, { "BPF_F_RDONLY_PROG", 128 }, { "BPF_F_WRONLY_PROG", 256 },
    { "BPF_F_CLONE", 512 }, { "BPF_F_MMAPABLE", 1024 }, { "BPF_F_INNER_MAP", 4096 },
    { "BPF_F_INGRESS", 1 }, { "BPF_F_CURRENT_CPU", 0xffffffffLL },
    { "BPF_RB_NO_WAKEUP", 1 }, { "BPF_RB_FORCE_WAKEUP", 2 },
    { "XDP_FLAGS_UPDATE_IF_NOEXIST", 1 }, { "XDP_FLAGS_SKB_MODE", 2 },
    { "XDP_FLAGS_DRV_MODE", 4 }, { "XDP_FLAGS_HW_MODE", 8 }, { "XDP_FLAGS_REPLACE", 16 },
    { "perf_type_hardware", 0 }, { "perf_type_software", 1 }, { "perf_type_tracepoint", 2 },
    { "perf_type_hw_cache", 3 }, { "perf_type_raw", 4 }, { "perf_type_breakpoint", 5 },
    { "cpu_cycles", 0 }, { "instructions", 1 }, { "cache_references", 2 },
    { "cache_misses", 3 }, { "branch_instructions", 4 }, { "branch_misses", 5 },
    { "bus_cycles", 6 }, { "cpu_clock", 0 }, { "task_clock", 1 }, { "page_faults", 2 },
    { "context_switches", 3 }, { "cpu_migrations", 4 },
};

bool builtin_const(const char *name, i128 *val)
{
    for (size_t i = 0; i < sizeof consts / sizeof *consts; i++)
        if (!strcmp(consts[i].name, name)) {
            *val = consts[i].val;
            return true;
        }
    return false;
}

/* perf_options: the fields and defaults of the public BUILTINS.md. */
static Type *perf_options_type(void)
{
    static const struct { const char *name; int size; bool sign; long long def; } f[] = {
        { "perf_type", 4, false, 0 }, { "perf_config", 8, false, 0 }, { "pid", 4, true, -1 },
        { "cpu", 4, true, 0 }, { "period", 8, false, 1000000 }, { "wakeup", 4, false, 1 },
        { "inherit", 1, false, 0 }, { "exclude_kernel", 1, false, 0 },
        { "exclude_user", 1, false, 0 },
    };
    int n = (int)(sizeof f / sizeof *f);
    Type *t = new_type(TY_STRUCT, 0, 1);
    t->name = "perf_options";
    t->members = xalloc(sizeof(Member) * (size_t)n);
    t->nmembers = n;
    for (int i = 0; i < n; i++) {
        Member *m = &t->members[i];
        m->name = f[i].name;
        m->ty = i >= 6 ? ty_bool : int_type(f[i].size, f[i].sign);
        if (f[i].def) {
            m->init = xalloc(sizeof(Node));
            m->init->kind = N_INT;
            m->init->ival = (uint64_t)(f[i].def < 0 ? -f[i].def : f[i].def);
            m->init->is_const_val = true;
            m->init->cval = f[i].def;
            m->init->ty = m->ty;
        }
    }
    struct_layout(t);
    return t;
}

static Type *perf_opts;

Type *builtin_type(const char *name)
{
    if (!strcmp(name, "perf_options")) {
        if (!perf_opts)
            perf_opts = perf_options_type();
        return perf_opts;
    }
    if (!strcmp(name, "perf_type"))
        return ty_u32;
    if (!strcmp(name, "ProgramHandle"))
        return ty_handle;
    if (!strcmp(name, "PerfAttachment"))
        return ty_perfatt;
    return NULL;
}

void builtins_reset(void) { perf_opts = NULL; }
