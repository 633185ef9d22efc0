/* The checks at each instruction of the final pass: memory accesses
 * (packet, map values, ring-buffer records, stack, globals, context),
 * pointer arithmetic (array indexes), helper calls and returns. Each
 * either passes, asks bounds_insert.c for the check the verifier needs,
 * or reports what the kernel would reject and how to fix it. */
#include "ir/bounds.h"

#include <linux/bpf.h>
#include <string.h>

#define MAX_PACKET_OFF 0xffff

static const char *verdict_name(BFunc *bf)
{
    const char *sec = bf->f->section ? bf->f->section : "";
    if (!strcmp(sec, "xdp"))
        return "XDP_PASS";
    if (!strcmp(sec, "tc"))
        return "TC_ACT_OK";
    return "0";
}

/* The text inside the brackets around column col of a line, or NULL. */
static const char *index_text(Pos p)
{
    int len;
    const char *s = diag_line_text(p.file, p.line, &len);
    int i = p.col - 1 < len ? p.col - 1 : len - 1, depth = 0;
    for (; i >= 0; i--) {
        if (s[i] == ']')
            depth++;
        else if (s[i] == '[' && depth-- == 0)
            break;
    }
    if (i < 0)
        return NULL;
    int j = i + 1;
    for (depth = 0; j < len; j++) {
        if (s[j] == '[')
            depth++;
        else if (s[j] == ']' && depth-- == 0)
            break;
    }
    return j < len && j > i + 1 ? xstrndup(s + i + 1, (size_t)(j - i - 1)) : NULL;
}

static const char *what_is(BFunc *bf, Ins *root)
{
    const char *name = value_name(bf, root);
    if (name)
        return xfmt("'%s'", name);
    if (root && root->op == I_CALL_HELPER && root->imm == BPF_FUNC_ringbuf_reserve)
        return "the record from reserve()";
    if (root && root->op == I_CALL_HELPER && root->imm == BPF_FUNC_map_lookup_elem)
        return "the map lookup result";
    if (root && root->op == I_CALL_KFUNC)
        return xfmt("the result of %s()", root->sym);
    return "this pointer";
}

/* ---- null, released, stale -------------------------------------------- */

static bool check_null(BFunc *bf, Ins *i, AVal *p, const char *verb)
{
    if (!p->maybe_null || nonnull_at(bf, p->root, bf->cur_blk, bf->cur_idx))
        return true;
    const char *what = what_is(bf, p->root);
    bounds_error(bf, i->pos, "%s through %s, which may be null here", verb, what);
    /* reported once: below here, treat it as tested */
    fact_add(bf, F_NONNULL, p->root->id, bf->cur_blk, bf->cur_idx, rng_empty(), rng_empty(), 0);
    if (p->root && p->root->blk && p->root->pos.line != i->pos.line)
        note_at(p->root->pos, "it comes from here, and it is null when %s",
                p->root->op == I_CALL_HELPER && p->root->imm == BPF_FUNC_map_lookup_elem ? "the key is absent"
                : p->root->op == I_CALL_HELPER ? "the buffer is full" : "the call fails");
    const char *name = value_name(bf, p->root);
    if (name)
        help("test it first: if (%s != null) { ... }, or bind it with if (var %s = ...) { ... }", name, name);
    else
        help("test it first: if (var p = ...) { ... }");
    return false;
}

static void check_ref_alive(BFunc *bf, Ins *i, AVal *p)
{
    if (p->prov == P_RINGBUF && flow_released(bf, p->root)) {
        bounds_error(bf, i->pos, "%s is used after it was submitted or discarded", what_is(bf, p->root));
        help("finish with the record before submit() or discard()");
    }
}

static void check_stale(BFunc *bf, Ins *i, AVal *p)
{
    Ins *why = NULL;
    if (!p->root || !flow_stale(bf, p->root, i, &why))
        return;
    if (p->prov == P_MAP_VALUE) {
        const char *map = p->root->nargs && p->root->args[0]->op == I_MAP ? p->root->args[0]->sym : "the map";
        bounds_error(bf, i->pos, "%s refers to an entry of '%s', which may have changed: '%s' is updated or deleted "
                     "from before this use", what_is(bf, p->root), map, map);
        if (why)
            note_at(why->pos, "'%s' changes here", map);
        help("look the entry up again after the change");
        return;
    }
    const Helper *h = why && why->op == I_CALL_HELPER ? helper_by_id((int)why->imm) : NULL;
    bounds_error(bf, i->pos, "this packet pointer is used after %s moved the packet", h ? h->name : "a helper");
    if (why)
        note_at(why->pos, "the packet changes here");
    help("read ctx->data and ctx->data_end again after the call, and check the bounds again");
}

/* ---- packet ------------------------------------------------------------ */

/* The records held at the check, for its failure path to discard: each
 * must be reserved on every path here (its reserve dominates), tested
 * non-null, and released on none. Their number, or -1 when that is not
 * so. */
static int held_for_check(BFunc *bf, Ins **refs)
{
    bool released;
    int n = flow_held(bf, refs, MAX_HELD, &released);
    if (n > MAX_HELD || released)
        return -1;
    for (int k = 0; k < n; k++) {
        Ins *res = refs[k];
        if (!bstate_dominates(bf, res->blk->id, ir_index(res), bf->cur_blk, bf->cur_idx)
            || !nonnull_at(bf, res, bf->cur_blk, bf->cur_idx))
            return -1;
    }
    return n;
}

static void pkt_insert(BFunc *bf, Ins *i, AVal *p, int64_t need, bool write)
{
    const char *v = verdict_name(bf);
    Ins *refs[MAX_HELD];
    int nrefs = held_for_check(bf, refs);
    if (nrefs < 0) {
        bounds_error(bf, i->pos, "this packet %s is not proven within the packet bounds, and ksc cannot check it "
                     "here: a ring buffer record may be held, and returning would leak it", write ? "write" : "read");
        help("check the length before the reserve: if (ctx->data + %lld > ctx->data_end) { return %s }",
             (long long)need, v);
        return;
    }
    BRequest *r = insert_request(bf, CHK_PKT, i, i->a[0], i->imm + i->mw);
    memcpy(r->refs, refs, sizeof(Ins *) * (size_t)nrefs);
    r->nrefs = nrefs;
    pkt_fact(bf, p, bf->cur_blk, bf->cur_idx - 1, i->imm + i->mw);
    warn_class_at(i->pos, "bounds", "this packet %s is not proven within the packet bounds: ksc checks it and "
                  "returns %s when the packet is shorter", write ? "write" : "read", v);
    if (p->pkt0)
        help("check the length first: if (ctx->data + %lld > ctx->data_end) { return %s }", (long long)need, v);
    else
        help("check the length first: if (p + %lld > ctx->data_end) { return %s }", (long long)(i->imm + i->mw), v);
}

static void check_pkt(BFunc *bf, Ins *i, AVal *p, bool write)
{
    int64_t first = p->off + i->imm, need = p->off_hi + i->imm + i->mw;
    if (first < 0 || p->v.smin < 0) {
        bounds_error(bf, i->pos, "this packet access may be before the start of the packet");
        help("use offsets from ctx->data that are never negative");
        return;
    }
    if (pkt_proven(bf, p, i->imm + i->mw, bf->cur_blk, bf->cur_idx))
        return;
    if (p->v.umax > MAX_PACKET_OFF || p->v.umax + (uint64_t)need > MAX_PACKET_OFF) {
        bounds_error(bf, i->pos, "the offset of this packet access is not bounded (it may be %s), so no length "
                     "check can prove it", rng_str(rng_binop(I_ADD, p->v, rng_const((uint64_t)first, 8), 8, false)));
        note_at(p->root->pos, "the variable offset is added here");
        help("bound the offset before adding it: if (off > 1500) { return %s }, or mask it: off & 0xfff",
             verdict_name(bf));
        return;
    }
    if (!bf->f->is_program) {
        /* a check here could only return from the helper, not the program */
        bounds_error(bf, i->pos, "this packet %s is not proven within the packet bounds for every caller",
                     write ? "write" : "read");
        help("check the length in the helper: if (p + %lld > end) { return 0 }", (long long)(need - p->off));
        return;
    }
    pkt_insert(bf, i, p, need, write);
}

/* ---- sized objects ------------------------------------------------------ */

static void check_object(BFunc *bf, Ins *i, AVal *p, bool write)
{
    if (write && p->prov == P_RODATA) {
        bounds_error(bf, i->pos, "this writes into a constant in .rodata");
        help("copy it into a local variable first");
        return;
    }
    if (p->size < 0)
        return;
    int64_t lo = p->off + i->imm + (p->v.smin < 0 ? p->v.smin : 0);
    uint64_t hi = (uint64_t)(p->off_hi + i->imm + i->mw) + p->v.umax;
    if (lo >= 0 && p->v.umax <= (1ULL << 32) && hi <= (uint64_t)p->size)
        return;
    Rng at = rng_binop(I_ADD, p->v, rng_unsigned((uint64_t)(p->off + i->imm), (uint64_t)(p->off_hi + i->imm), 8), 8,
                       false);
    bounds_error(bf, i->pos, "this %s of %d bytes at offset %s is outside %s, which has %lld bytes",
                 write ? "write" : "read", i->mw, lo < 0 ? "below 0" : rng_str(at), what_is(bf, p->root),
                 (long long)p->size);
    help("keep indexes below the array length: if (i < N) { ... }");
}

/* The verifier lets a program write only some context fields. */
static void check_ctx(BFunc *bf, Ins *i, AVal *p, bool write)
{
    if (p->off || p->off_hi || !rng_is_const(p->v, NULL)) {
        bounds_error(bf, i->pos, "the context is read through a moved pointer; the verifier needs ctx itself");
        help("read ctx->field directly");
        return;
    }
    if (!write)
        return;
    static const char *const tc_writable[] = { "mark", "tc_index", "priority", "tc_classid", "cb", "tstamp",
                                               "queue_mapping" };
    Func *fn = bf->f->src;
    Type *ct = fn && fn->params.n && fn->params.v[0]->ty->kind == TY_PTR ? fn->params.v[0]->ty->base : NULL;
    const char *field = NULL;
    for (int k = 0; ct && k < ct->nmembers; k++) {
        Member *m = &ct->members[k];
        if (m->name && i->imm >= m->offset && i->imm < m->offset + (m->ty->size > 0 ? m->ty->size : 1))
            field = m->name;
    }
    bool ok = false;
    for (size_t k = 0; fn && fn->kind == FN_TC && field && k < sizeof tc_writable / sizeof *tc_writable; k++)
        ok |= !strcmp(field, tc_writable[k]);
    if (ok)
        return;
    bounds_error(bf, i->pos, "the verifier does not let this program write %s%s%s", field ? "ctx->" : "the context",
                 field ? field : "", fn && fn->kind == FN_TC ? "" : " (its context is read-only)");
    help(fn && fn->kind == FN_TC ? "a tc program may write mark, priority, tc_index, tc_classid, queue_mapping, "
                                   "tstamp and cb[]"
                                 : "keep the value in a local variable or a map instead");
}

static void check_access(BFunc *bf, Ins *i, bool write)
{
    AVal p = aval_at(bf, i->a[0]);
    if (p.kind == AK_SCALAR) {
        uint64_t c;
        if (rng_is_const(p.v, &c) && c == 0)
            bounds_error(bf, i->pos, "this %s goes through a null pointer", write ? "write" : "read");
        return;
    }
    if (p.kind != AK_PTR)
        return;
    const char *verb = write ? "write" : "read";
    if (!check_null(bf, i, &p, verb))
        return;
    switch (p.prov) {
    case P_PKT:
        check_stale(bf, i, &p);
        check_pkt(bf, i, &p, write);
        return;
    case P_PKT_END: case P_PKT_META:
        bounds_error(bf, i->pos, "this %s goes through ctx->data_end or ctx->data_meta", verb);
        help("read the packet through ctx->data");
        return;
    case P_CTX: check_ctx(bf, i, &p, write); return;
    case P_MAP_VALUE: case P_RINGBUF:
        check_stale(bf, i, &p);
        check_ref_alive(bf, i, &p);
        check_object(bf, i, &p, write);
        return;
    case P_STACK:
        if (!write && p.root && !flow_slot_written(bf, (int)p.root->imm))
            bounds_error(bf, i->pos, "internal: stack slot %lld is read before any path writes it",
                         (long long)p.root->imm);
        check_object(bf, i, &p, write);
        return;
    case P_GLOBAL: case P_RODATA: check_object(bf, i, &p, write); return;
    default: return;
    }
}

/* ---- pointer arithmetic: array indexes ------------------------------ */

/* The element size of an index scaled by `idx * es` or `idx << k`. */
static int64_t elem_size(Ins *s, Ins **index)
{
    *index = s;
    if ((s->op == I_SHL || s->op == I_MUL) && s->a[1]->op == I_CONST) {
        *index = s->a[0];
        return s->op == I_SHL ? (int64_t)1 << (s->a[1]->imm & 63) : s->a[1]->imm;
    }
    return 1;
}

static void index_error(BFunc *bf, Ins *add, AVal *p, Ins *s, AVal *sv)
{
    Ins *idx;
    int64_t es = elem_size(s, &idx);
    if (es <= 0)
        es = 1;
    int64_t n = (p->size - p->off) / es;
    const char *text = index_text(add->pos), *obj = what_is(bf, p->root);
    Rng r = rng_binop(I_SHR, sv->v, rng_const((uint64_t)__builtin_ctzll((uint64_t)es), 8), 8, false);
    if (es & (es - 1))
        r = rng_binop(I_UDIV, sv->v, rng_const((uint64_t)es, 8), 8, true);
    bounds_error(bf, add->pos, "the index%s%s%s may be out of range: it may be %s, and %s has %lld element%s",
                 text ? " '" : "", text ? text : "", text ? "'" : "", sv->v.smin < 0 ? "negative" : rng_str(r), obj,
                 (long long)n, n == 1 ? "" : "s");
    help("check it first: if (%s < %lld) { ... }%s", text ? text : "i", (long long)n,
         sv->v.smin < 0 ? ", with an unsigned index" : "");
}

/* After an index error, the index as if checked: one report, not one
 * more at every access through the pointer. */
static void clamp(BFunc *bf, AVal *p, Ins *si)
{
    Ins *idx;
    int64_t es = elem_size(si, &idx);
    int64_t n = (p->size - p->off_hi - (int64_t)p->v.umax) / (es > 0 ? es : 1);
    Rng k = rng_unsigned(0, n > 0 ? (uint64_t)((n - 1) * es) : 0, si->w ? si->w : 8);
    fact_add(bf, F_RANGE, si->id, bf->cur_blk, bf->cur_idx - 1, k, k, 0);
}

/* An index the verifier knows exactly on each path (a loop counter):
 * every value it takes must be inside the object. */
static void check_exact_index(BFunc *bf, Ins *add, AVal *p, Ins *si, AVal *s)
{
    bool sized = p->size >= 0 && (p->prov == P_STACK || p->prov == P_MAP_VALUE || p->prov == P_GLOBAL ||
                                  p->prov == P_RODATA || p->prov == P_RINGBUF);
    if (!sized || (p->maybe_null && !nonnull_at(bf, p->root, bf->cur_blk, bf->cur_idx)))
        return;
    int64_t lo = p->off + s->v.smin, hi = p->off_hi + s->v.smax;
    if (s->v.smin > -(1LL << 40) && s->v.smax < (1LL << 40) && lo >= 0 && hi < p->size && rng_is_const(p->v, NULL))
        return;
    index_error(bf, add, p, si, s);
    clamp(bf, p, si);
}

static bool var_ok(AVal *p, Rng var, int64_t size)
{
    if (var.smin < -(1LL << 29) || var.umax > (1ULL << 29) || rng_is_empty(var))
        return rng_is_empty(var) && size >= 0;
    int64_t lo = p->off + var.smin, hi = p->off_hi + (int64_t)var.umax;
    return lo >= 0 && hi < size;
}

/* ptr + s with s not constant: the verifier must see s bounded, so that
 * the pointer stays inside its object (or, for packets, so that a length
 * check can prove it). Where the language bounds s and the verifier does
 * not (a modulo, a compare on a masked copy), insert the compare. */
static void check_ptr_arith(BFunc *bf, Ins *add)
{
    Ins *pi = add->a[0], *si = add->a[1];
    AVal p = aval_at(bf, pi), s = aval_at(bf, si);
    if (p.kind == AK_SCALAR && s.kind == AK_PTR) {
        AVal t = p;
        p = s;
        s = t;
        Ins *x = pi;
        pi = si;
        si = x;
    }
    if (p.kind != AK_PTR || s.kind != AK_SCALAR)
        return;
    if (p.maybe_null && !nonnull_at(bf, p.root, bf->cur_blk, bf->cur_idx)) {
        check_null(bf, add, &p, "pointer arithmetic");
        return;
    }
    if (rng_is_const(s.v, NULL))
        return;
    if (s.exact && add->op == I_ADD) {
        check_exact_index(bf, add, &p, si, &s);
        return;
    }
    if (add->op == I_SUB)
        return;
    bool pkt = p.prov == P_PKT, sized = p.size >= 0 && (p.prov == P_STACK || p.prov == P_MAP_VALUE ||
                                                       p.prov == P_GLOBAL || p.prov == P_RODATA || p.prov == P_RINGBUF);
    if (!pkt && !sized)
        return;
    Rng nv = rng_binop(I_ADD, p.v, s.v, 8, false), nl = rng_binop(I_ADD, p.l, s.l, 8, true);
    bool v_ok = pkt ? nv.smin >= 0 && nv.umax <= MAX_PACKET_OFF / 2 : var_ok(&p, nv, p.size);
    if (v_ok)
        return;
    bool l_ok = pkt ? rng_is_empty(nl) || (nl.smin >= 0 && nl.umax <= MAX_PACKET_OFF / 2) : var_ok(&p, nl, p.size);
    if (!l_ok) {
        if (pkt)
            return;     /* reported at the access, if one comes */
        index_error(bf, add, &p, si, &s);
        clamp(bf, &p, si);
        return;
    }
    uint64_t max = rng_is_empty(s.l) ? 0 : s.l.umax;
    if (sized && !rng_is_empty(s.l)) {
        int64_t room = p.size - 1 - p.off_hi - (int64_t)p.v.umax;
        max = room >= 0 && (uint64_t)room < max ? (uint64_t)room : max;
    }
    insert_request(bf, CHK_MAX, add, si, (int64_t)max);
    Rng k = rng_unsigned(0, max, si->w ? si->w : 8);
    fact_add(bf, F_RANGE, si->id, bf->cur_blk, bf->cur_idx - 1, k, k, 0);
}

/* ---- dispatch ---------------------------------------------------------- */

void check_ins(BFunc *bf, Ins *i)
{
    switch (i->op) {
    case I_LOAD: check_access(bf, i, false); return;
    case I_STORE: case I_ATOMIC_ADD: check_access(bf, i, true); return;
    case I_ADD: case I_SUB:
        if (i->w == 8)
            check_ptr_arith(bf, i);
        return;
    case I_CALL_HELPER: check_helper_call(bf, i); return;
    case I_CALL: calls_record(bf, i); return;
    case I_TAIL_CALL: case I_RET: flow_check_return(bf, i); return;
    default: return;
    }
}
