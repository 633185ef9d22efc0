/* What the kernel requires of each BPF helper's arguments (the arg_type
 * of its bpf_func_proto), and the checks of a call against that. */
#include "ir/bounds.h"

#include <linux/bpf.h>
#include <string.h>

typedef enum {
    A_ANY,          /* anything */
    A_MEM,          /* readable memory, sized by the next argument */
    A_MEM_NULL,     /* the same, or null */
    A_UMEM,         /* writable memory, sized by the next argument */
    A_SIZE,         /* size of the memory before it, at least 1 */
    A_SIZE0,        /* size, may be 0 */
    A_KEY,          /* pointer to a key of the map in argument 1 */
    A_VALUE,        /* pointer to a value of that map */
    A_CTX,          /* the program's context */
    A_RBMEM,        /* a ring-buffer record, released by the call */
    A_STR,          /* a constant string in .rodata */
    A_NOTNULL,      /* any pointer that is not null */
} ArgKind;

typedef struct HelperSpec { int id; const char *name; ArgKind args[5]; bool moves_pkt; } HelperSpec;

#define S(n, ...) { BPF_FUNC_##n, "bpf_" #n, { __VA_ARGS__ }, false }
#define SP(n, ...) { BPF_FUNC_##n, "bpf_" #n, { __VA_ARGS__ }, true }
static const HelperSpec specs[] = {
    S(map_lookup_elem, A_ANY, A_KEY),
    S(map_update_elem, A_ANY, A_KEY, A_VALUE, A_ANY),
    S(map_delete_elem, A_ANY, A_KEY),
    S(get_current_comm, A_UMEM, A_SIZE),
    S(trace_printk, A_MEM, A_SIZE, A_ANY, A_ANY, A_ANY),
    S(tail_call, A_CTX, A_ANY, A_ANY),
    SP(xdp_adjust_head, A_CTX, A_ANY),
    SP(xdp_adjust_tail, A_CTX, A_ANY),
    SP(xdp_adjust_meta, A_CTX, A_ANY),
    S(skb_load_bytes, A_CTX, A_ANY, A_UMEM, A_SIZE),
    SP(skb_store_bytes, A_CTX, A_ANY, A_MEM, A_SIZE, A_ANY),
    S(csum_diff, A_MEM_NULL, A_SIZE0, A_MEM_NULL, A_SIZE0, A_ANY),
    SP(l3_csum_replace, A_CTX, A_ANY, A_ANY, A_ANY, A_ANY),
    SP(l4_csum_replace, A_CTX, A_ANY, A_ANY, A_ANY, A_ANY),
    S(probe_read_kernel, A_UMEM, A_SIZE0, A_ANY),
    S(probe_read_user, A_UMEM, A_SIZE0, A_ANY),
    S(probe_read_kernel_str, A_UMEM, A_SIZE0, A_ANY),
    S(probe_read_user_str, A_UMEM, A_SIZE0, A_ANY),
    S(ringbuf_output, A_ANY, A_MEM, A_SIZE0, A_ANY),
    S(ringbuf_reserve, A_ANY, A_ANY, A_ANY),
    S(ringbuf_submit, A_RBMEM, A_ANY),
    S(ringbuf_discard, A_RBMEM, A_ANY),
    S(perf_event_output, A_CTX, A_ANY, A_ANY, A_MEM, A_SIZE0),
    S(spin_lock, A_NOTNULL),
    S(spin_unlock, A_NOTNULL),
    S(strncmp, A_MEM, A_SIZE, A_STR),
    SP(skb_change_head, A_CTX, A_ANY, A_ANY),
    SP(clone_redirect, A_CTX, A_ANY, A_ANY),
    S(get_cgroup_classid, A_CTX),
    S(get_hash_recalc, A_CTX),
    S(set_hash, A_CTX, A_ANY),
    SP(skb_pull_data, A_CTX, A_ANY),
    SP(skb_change_tail, A_CTX, A_ANY, A_ANY),
    SP(skb_change_proto, A_CTX, A_ANY, A_ANY),
    SP(skb_adjust_room, A_CTX, A_ANY, A_ANY, A_ANY),
    SP(skb_vlan_push, A_CTX, A_ANY, A_ANY),
    SP(skb_vlan_pop, A_CTX),
};

static const HelperSpec *spec_of(int id)
{
    for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
        if (specs[i].id == id)
            return &specs[i];
    return NULL;
}

bool helper_changes_pkt(int id)
{
    const HelperSpec *s = spec_of(id);
    return s && s->moves_pkt;
}

/* Kernel kfuncs registered with KF_RET_NULL: their result must be tested
 * before use. (The @kfunc functions ksc writes never return null.) */
bool kfunc_may_return_null(const char *name)
{
    static const char *const names[] = {
        "bpf_task_from_pid", "bpf_task_from_vpid", "bpf_task_acquire", "bpf_cgroup_acquire",
        "bpf_cgroup_from_id", "bpf_cgroup_ancestor", "bpf_task_get_cgroup1", "bpf_cpumask_create",
        "bpf_cpumask_acquire", "bpf_obj_new_impl", "bpf_percpu_obj_new_impl", "bpf_refcount_acquire_impl",
        "bpf_list_pop_front", "bpf_list_pop_back", "bpf_rbtree_remove", "bpf_rbtree_first",
        "bpf_get_task_exe_file", "bpf_dynptr_slice", "bpf_dynptr_slice_rdwr", "bpf_iter_num_next",
        "bpf_iter_task_next", "bpf_iter_css_next", "bpf_iter_task_vma_next", "bpf_skb_get_xfrm_info",
        "bpf_xdp_get_xfrm_state", "bpf_lookup_user_key", "bpf_lookup_system_key", "bpf_get_kmem_cache",
        "bpf_task_get_cgroup", "bpf_path_d_path",
    };
    for (size_t i = 0; name && i < sizeof names / sizeof *names; i++)
        if (!strcmp(names[i], name))
            return true;
    return false;
}

/* ---- checks ------------------------------------------------------------ */

static const char *ordinal(int k)
{
    static const char *const o[] = { "first", "second", "third", "fourth", "fifth" };
    return k < 5 ? o[k] : "an";
}

static const char *prov_name(AVal *a)
{
    switch (a->prov) {
    case P_STACK: return "stack memory";
    case P_MAP_VALUE: return "a map value";
    case P_RINGBUF: return "a ring buffer record";
    case P_GLOBAL: return "a global";
    case P_RODATA: return "a constant";
    case P_PKT: return "the packet";
    case P_CTX: return "the context";
    default: return "memory";
    }
}

/* Bytes the verifier lets a helper touch from pointer p (0 when it
 * points past what is proven), or -1 when the pass cannot tell (no check
 * then). */
static int64_t room(BFunc *bf, AVal *p)
{
    if (p->off < 0 || p->v.smin < 0)
        return -1;
    int64_t left;
    if (p->prov == P_PKT)
        left = pkt_bytes_at(bf, p, bf->cur_blk, bf->cur_idx) - p->off_hi - (int64_t)p->v.umax;
    else if (p->size < 0)
        return -1;
    else
        left = p->size - p->off_hi - (int64_t)p->v.umax;
    return left < 0 ? 0 : left;
}

static bool not_null(BFunc *bf, Ins *call, AVal *a, const char *fn, int k)
{
    uint64_t c;
    if (a->kind == AK_SCALAR) {
        if (rng_is_const(a->v, &c) && c == 0)
            bounds_error(bf, call->pos, "the %s argument of %s must point to memory, not be null", ordinal(k), fn);
        else
            bounds_error(bf, call->pos, "the %s argument of %s must be a pointer, not a number", ordinal(k), fn);
        help("pass the address of a variable, a map value or a string");
        return false;
    }
    if (a->maybe_null && !nonnull_at(bf, a->root, bf->cur_blk, bf->cur_idx)) {
        bounds_error(bf, call->pos, "the %s argument of %s may be null here", ordinal(k), fn);
        help("test it first: if (p != null) { ... }");
        return false;
    }
    return true;
}

/* Memory argument k with its size in argument k + 1. */
static void check_mem(BFunc *bf, Ins *call, int k, ArgKind kind, const char *fn)
{
    Ins *arg = call->args[k];
    AVal p = aval_at(bf, arg);
    uint64_t c;
    if (kind == A_MEM_NULL && p.kind == AK_SCALAR && rng_is_const(p.v, &c) && c == 0)
        return;
    if (!not_null(bf, call, &p, fn, k) || p.prov == P_NONE)
        return;
    if (kind == A_UMEM && (p.prov == P_RODATA || p.prov == P_CTX)) {
        bounds_error(bf, call->pos, "%s writes into its %s argument, which is %s", fn, ordinal(k), prov_name(&p));
        help("pass a local buffer: var buf: u8[N]");
        return;
    }
    if (k + 1 >= call->nargs)
        return;
    Ins *sz = call->args[k + 1];
    AVal s = aval_at(bf, sz);
    if (s.kind != AK_SCALAR)
        return;
    bool zero_ok = spec_of((int)call->imm)->args[k + 1] == A_SIZE0;
    int64_t left = room(bf, &p);
    if (s.v.umax > (1ULL << 29) || (left >= 0 && s.v.umax > (uint64_t)left)) {
        if (left < 0 || s.v.umax > (1ULL << 29))
            bounds_error(bf, call->pos, "the size passed to %s is not bounded: it may be %s", fn,
                         s.v.umax > (1ULL << 32) ? "any value" : rng_str(s.v));
        else
            bounds_error(bf, call->pos, "the size passed to %s may be %s, but %s has only %lld bytes there", fn,
                         rng_str(s.v), prov_name(&p), (long long)left);
        if (left > 0)
            help("bound it first: if (n > %lld) { n = %lld }", (long long)left, (long long)left);
        else if (p.prov == P_PKT)
            help("check that the packet holds them first: if (p + %llu > ctx->data_end) { ... }",
                 (unsigned long long)s.v.umax);
        else
            help("pass a size that fits the memory");
        return;
    }
    if (!zero_ok && s.v.umin == 0) {
        bounds_error(bf, call->pos, "the size passed to %s may be 0, which it does not accept", fn);
        help("test it first: if (n > 0) { ... }");
    }
}

static void check_value_ptr(BFunc *bf, Ins *call, int k, const char *fn, bool key)
{
    AVal p = aval_at(bf, call->args[k]);
    if (!not_null(bf, call, &p, fn, k) || p.prov == P_NONE)
        return;
    Global *g = NULL;
    Ins *m = call->args[0];
    Program *prog = bf->ip->prog;
    for (int i = 0; m->op == I_MAP && prog && i < prog->globals.n; i++)
        if (!strcmp(prog->globals.v[i]->name, m->sym))
            g = prog->globals.v[i];
    if (!g || g->ty->kind != TY_MAP)
        return;
    int64_t need = key ? (g->ty->key ? g->ty->key->size : 0) : (g->ty->base ? g->ty->base->size : 0);
    int64_t left = room(bf, &p);
    if (left >= 0 && need > left) {
        bounds_error(bf, call->pos, "%s reads %lld bytes of %s through its %s argument, but %s has only %lld there", fn,
                     (long long)need, key ? "key" : "value", ordinal(k), prov_name(&p), (long long)left);
        help("pass a variable of the map's %s type", key ? "key" : "value");
    }
}

static void check_rbmem(BFunc *bf, Ins *call, const char *fn)
{
    AVal p = aval_at(bf, call->args[0]);
    if (!not_null(bf, call, &p, fn, 0))
        return;
    if (p.prov != P_RINGBUF && p.prov != P_NONE) {
        bounds_error(bf, call->pos, "%s needs a record from reserve(), not %s", fn, prov_name(&p));
        help("submit or discard what reserve() returned");
        return;
    }
    if (flow_released(bf, call->args[0])) {
        bounds_error(bf, call->pos, "this ring buffer record is already submitted or discarded on some path to here");
        help("submit or discard each record once, on each path");
    }
}

void check_helper_call(BFunc *bf, Ins *call)
{
    const HelperSpec *s = spec_of((int)call->imm);
    if (!s)
        return;
    for (int k = 0; k < call->nargs && k < 5; k++) {
        Ins *arg = call->args[k];
        switch (s->args[k]) {
        case A_MEM: case A_MEM_NULL: case A_UMEM: check_mem(bf, call, k, s->args[k], s->name); break;
        case A_KEY: check_value_ptr(bf, call, k, s->name, true); break;
        case A_VALUE: check_value_ptr(bf, call, k, s->name, false); break;
        case A_RBMEM: check_rbmem(bf, call, s->name); break;
        case A_STR: {
            AVal p = aval_at(bf, arg);
            if (!not_null(bf, call, &p, s->name, k))
                break;
            if (p.prov != P_RODATA) {
                bounds_error(bf, call->pos, "the %s argument of %s must be a string literal", ordinal(k), s->name);
                help("write the string in the call: %s(buf, n, \"text\")", s->name);
            }
            break;
        }
        case A_NOTNULL: {
            AVal p = aval_at(bf, arg);
            not_null(bf, call, &p, s->name, k);
            break;
        }
        case A_CTX: {
            AVal p = aval_at(bf, arg);
            if (p.kind == AK_PTR && p.prov == P_NONE)
                break;      /* a @helper's parameter: the caller's context */
            if (p.kind != AK_PTR || p.prov != P_CTX || p.off || p.off_hi || !rng_is_const(p.v, NULL)) {
                bounds_error(bf, call->pos, "the %s argument of %s must be the program's context", ordinal(k),
                             s->name);
                help("pass ctx itself");
            }
            break;
        }
        default: break;
        }
    }
}
