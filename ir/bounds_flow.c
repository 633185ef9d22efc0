/* Facts that depend on the path taken, not on what dominates: a forward
 * data flow over bit sets of tracked objects.
 *
 *   held      ring-buffer records reserved and not yet submitted or
 *             discarded on some path (union at joins); a return with one
 *             held leaks it, as the verifier's reference tracking says
 *   released  records submitted or discarded on some path: using one again
 *             is a use after release
 *   written   stack slots stored to on every path (intersection): ksc
 *             zero-initialises every local, so a read of a slot no path has
 *             written is a ksc bug, reported as an internal error
 *
 * Whether a map value is stale (looked up before an update or delete of
 * its map: LANGUAGE.md section 6) or a packet pointer is (read before a
 * helper that moves the packet: the verifier forgets it) is asked at each
 * use, by a search back from the use to the lookup or load: its cost is
 * the code between the two, usually a block or two. */
#include "ir/bounds.h"

#include <linux/bpf.h>
#include <string.h>

enum { S_HELD, S_RELEASED, S_NSETS };

typedef uint64_t Word;

struct BState {
    int nobj, nw;               /* tracked reservations, words per set */
    int *obj_of;                /* value id -> object, -1 */
    Ins **obj;                  /* object -> the reserve call */
    int *seen;                  /* by block id: stamp of the last search */
    int stamp;
    bool moves_pkt;             /* the function calls a helper that moves packets */
    VEC(const char *) changed_maps; /* maps it updates or deletes from */
    int nslots, nsw;            /* stack slots, words per slot set */
    Word *in, *out;             /* per block: S_NSETS sets, then the slot set */
    Word *cur;                  /* the final pass: sets at the current point */
    bool pkt_moves;             /* the function calls a helper that moves packets */
};

static int stride(BState *s) { return S_NSETS * s->nw + s->nsw; }
static Word *set_of(BState *s, Word *base, int k) { return base + k * s->nw; }
static Word *slots_of(BState *s, Word *base) { return base + S_NSETS * s->nw; }
static bool has(Word *set, int i) { return (set[i / 64] >> (i % 64)) & 1; }
static void add(Word *set, int i) { set[i / 64] |= 1ULL << (i % 64); }
static void del(Word *set, int i) { set[i / 64] &= ~(1ULL << (i % 64)); }

static bool is_helper(Ins *i, int id) { return i->op == I_CALL_HELPER && i->imm == id; }

static const char *map_sym(Ins *call)
{
    Ins *m = call->nargs ? call->args[0] : NULL;
    return m && m->op == I_MAP ? m->sym : NULL;
}

static bool pkt_load(Ins *i)
{
    return i->op == I_LOAD && (i->prov == P_PKT || i->prov == P_PKT_END || i->prov == P_PKT_META);
}

static bool modifies_map(Ins *i)
{
    return (is_helper(i, BPF_FUNC_map_update_elem) || is_helper(i, BPF_FUNC_map_delete_elem)) && map_sym(i);
}

static bool moves_packet(Ins *i)
{
    return i->op == I_CALL_HELPER && helper_changes_pkt((int)i->imm);
}

static bool map_changed(BState *s, const char *sym)
{
    for (int k = 0; sym && k < s->changed_maps.n; k++)
        if (s->changed_maps.v[k] == sym || !strcmp(s->changed_maps.v[k], sym))
            return true;
    return false;
}

/* The reservations, and what the stale searches need to know. */
static void collect_objects(BFunc *bf, BState *s)
{
    IrFunc *f = bf->f;
    VEC(Ins *) objs = { 0 };
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            s->moves_pkt |= moves_packet(i);
            if (modifies_map(i) && !map_changed(s, map_sym(i)))
                vpush(s->changed_maps, map_sym(i));
            if (!is_helper(i, BPF_FUNC_ringbuf_reserve))
                continue;
            s->obj_of[i->id] = objs.n;
            vpush(objs, i);
        }
    s->obj = objs.v;
    s->nobj = objs.n;
    s->nw = (objs.n + 63) / 64;
}

/* ---- transfer ---------------------------------------------------------- */

/* The reservations a pointer may be, through copies and phis. */
static void reserve_roots(BState *s, Ins *v, Word *out, int depth)
{
    v = ptr_root(v);
    if (!v || depth > 8)
        return;
    if (s->obj_of[v->id] >= 0 && is_helper(v, BPF_FUNC_ringbuf_reserve)) {
        add(out, s->obj_of[v->id]);
        return;
    }
    if (v->op == I_PHI)
        for (int k = 0; k < v->nargs; k++)
            if (v->args[k] != v)
                reserve_roots(s, v->args[k], out, depth + 1);
}

/* Every lookup of the map (or, without one, every packet load) goes
 * stale; the first change of each is kept for the message. */
static void slot_written(BState *s, Word *slots, Ins *ptr)
{
    Ins *r = ptr_root(ptr);
    while (r && r->op == I_ADD && r->a[0] && r->a[0]->prov == P_STACK)
        r = ptr_root(r->a[0]);
    if (r && r->op == I_SLOT && r->imm >= 0 && r->imm < s->nslots)
        add(slots, (int)r->imm);
}

static void transfer(BFunc *bf, BState *s, Word *sets, Ins *i)
{
    Word *held = set_of(s, sets, S_HELD), *rel = set_of(s, sets, S_RELEASED);
    int o = s->obj_of[i->id];
    if (o >= 0) {
        del(rel, o);
        add(held, o);
    }
    if ((is_helper(i, BPF_FUNC_ringbuf_submit) || is_helper(i, BPF_FUNC_ringbuf_discard)) && i->nargs && s->nobj) {
        Word *r = xalloc(sizeof(Word) * (size_t)(s->nw + 1));
        reserve_roots(s, i->args[0], r, 0);
        for (int w = 0; w < s->nw; w++) {
            held[w] &= ~r[w];
            rel[w] |= r[w];
        }
    }
    if (i->op == I_CALL && s->nobj) /* a @helper may submit what it is given */
        for (int k = 0; k < i->nargs; k++) {
            Word *r = xalloc(sizeof(Word) * (size_t)(s->nw + 1));
            reserve_roots(s, i->args[k], r, 0);
            for (int w = 0; w < s->nw; w++)
                held[w] &= ~r[w];
        }
    Word *slots = slots_of(s, sets);
    if (i->op == I_STORE || i->op == I_ATOMIC_ADD)
        slot_written(s, slots, i->a[0]);
    if (i->op == I_CALL_HELPER || i->op == I_CALL || i->op == I_CALL_KFUNC)
        for (int k = 0; k < i->nargs; k++)
            slot_written(s, slots, i->args[k]);
    (void)bf;
}

/* On the edge where a reservation tests null, the verifier drops it. */
static void edge_transfer(BState *s, Block *from, int succ, Word *sets)
{
    Ins *t = ir_term(from);
    if (!t || t->op != I_BR || t->succ[0] == t->succ[1] || (t->cc != CC_EQ && t->cc != CC_NE))
        return;
    bool null_edge = (t->cc == CC_EQ) == (succ == 0);
    if (!null_edge)
        return;
    for (int k = 0; k < 2; k++) {
        Ins *other = t->a[1 - k];
        if (!(other->op == I_CONST && other->imm == 0))
            continue;
        Ins *r = ptr_root(t->a[k]);
        if (r && s->obj_of[r->id] >= 0 && is_helper(r, BPF_FUNC_ringbuf_reserve))
            del(set_of(s, sets, S_HELD), s->obj_of[r->id]);
    }
}

/* ---- the fixed point ------------------------------------------------- */

static int succ_index(Block *from, Block *to)
{
    Ins *t = ir_term(from);
    if (t && t->op == I_BR && t->succ[1] == to && t->succ[0] != to)
        return 1;
    return 0;
}

static bool edge_ok(BFunc *bf, Block *from, Block *to)
{
    if (!bf->reach[from->id])
        return false;
    Ins *t = ir_term(from);
    if (!t || t->op != I_BR)
        return true;
    int mask = (t->succ[0] == to ? 1 : 0) | (t->succ[1] == to ? 2 : 0);
    return (bf->edges[from->id] & mask) != 0;
}

/* IN of b: the union of what its predecessors hold, the intersection of
 * the slots they wrote. */
static void block_in(BFunc *bf, BState *s, Block *b, Word *dst)
{
    int n = stride(s);
    memset(dst, 0, sizeof(Word) * (size_t)n);
    if (b->id == 0)
        return;
    Word *tmp = xalloc(sizeof(Word) * (size_t)(n + 1));
    bool first = true;
    for (int k = 0; k < b->preds.n; k++) {
        Block *p = b->preds.v[k];
        if (!edge_ok(bf, p, b))
            continue;
        memcpy(tmp, s->out + (size_t)p->id * n, sizeof(Word) * (size_t)n);
        edge_transfer(s, p, succ_index(p, b), tmp);
        for (int w = 0; w < S_NSETS * s->nw; w++)
            dst[w] |= tmp[w];
        Word *ds = slots_of(s, dst), *ts = slots_of(s, tmp);
        for (int w = 0; w < s->nsw; w++)
            ds[w] = first ? ts[w] : ds[w] & ts[w];
        first = false;
    }
}

void flow_analyze(BFunc *bf)
{
    BState *s = xalloc(sizeof(BState));
    IrFunc *f = bf->f;
    bf->flow = s;
    s->obj_of = xalloc(sizeof(int) * (size_t)(f->nvals + 1));
    memset(s->obj_of, 0xff, sizeof(int) * (size_t)(f->nvals + 1));
    s->seen = xalloc(sizeof(int) * (size_t)(f->blocks.n + 1));
    collect_objects(bf, s);
    s->nslots = f->slots.n;
    s->nsw = (s->nslots + 63) / 64;
    int n = stride(s);
    s->in = xalloc(sizeof(Word) * (size_t)(n * f->blocks.n + 1));
    s->out = xalloc(sizeof(Word) * (size_t)(n * f->blocks.n + 1));
    s->cur = xalloc(sizeof(Word) * (size_t)(n + 1));
    for (int b = 1; b < f->blocks.n; b++)   /* written slots start at "all" */
        memset(slots_of(s, s->out + (size_t)b * n), 0xff, sizeof(Word) * (size_t)s->nsw);
    for (int round = 0; round < 64; round++) {
        bool changed = false;
        for (int b = 0; b < f->blocks.n; b++) {
            Block *bl = f->blocks.v[b];
            if (!bf->reach[b])
                continue;
            Word *in = s->in + (size_t)b * n, *out = s->out + (size_t)b * n;
            block_in(bf, s, bl, in);
            memcpy(s->cur, in, sizeof(Word) * (size_t)n);
            for (int k = 0; k < bl->ins.n; k++)
                transfer(bf, s, s->cur, bl->ins.v[k]);
            if (memcmp(s->cur, out, sizeof(Word) * (size_t)n)) {
                memcpy(out, s->cur, sizeof(Word) * (size_t)n);
                changed = true;
            }
        }
        if (!changed)
            break;
    }
}

/* ---- the final pass ---------------------------------------------------- */

void flow_block_begin(BFunc *bf, Block *b)
{
    BState *s = bf->flow;
    int n = stride(s);
    memcpy(s->cur, s->in + (size_t)b->id * n, sizeof(Word) * (size_t)n);
}

void flow_step(BFunc *bf, Ins *i) { transfer(bf, bf->flow, bf->flow->cur, i); }

void flow_edge_done(BFunc *bf) { (void)bf; }

bool flow_tracks_ref(BFunc *bf, Ins *root)
{
    root = ptr_root(root);
    return root && bf->flow->obj_of[root->id] >= 0 && is_helper(root, BPF_FUNC_ringbuf_reserve);
}

int flow_held(BFunc *bf, Ins **out, int max, bool *released)
{
    BState *s = bf->flow;
    Word *held = set_of(s, s->cur, S_HELD), *rel = set_of(s, s->cur, S_RELEASED);
    int n = 0;
    *released = false;
    for (int o = 0; o < s->nobj; o++) {
        if (!has(held, o))
            continue;
        *released |= has(rel, o);
        if (n < max)
            out[n] = s->obj[o];
        n++;
    }
    return n;
}

bool flow_released(BFunc *bf, Ins *root)
{
    BState *s = bf->flow;
    Word *r = xalloc(sizeof(Word) * (size_t)(s->nw + 1));
    reserve_roots(s, root, r, 0);
    Word *rel = set_of(s, s->cur, S_RELEASED);
    for (int w = 0; w < s->nw; w++)
        if (r[w] & rel[w])
            return true;
    return false;
}

typedef bool (*Changes)(Ins *i, const char *sym);

static bool changes_map(Ins *i, const char *sym)
{
    return modifies_map(i) && (map_sym(i) == sym || !strcmp(map_sym(i), sym));
}

static bool changes_packet(Ins *i, const char *sym)
{
    (void)sym;
    return moves_packet(i);
}

/* Instructions k of b, in the range lo..hi, that change the object. */
static Ins *scan(Block *b, int lo, int hi, Changes hit, const char *sym)
{
    for (int k = hi; k >= lo; k--)
        if (hit(b->ins.v[k], sym))
            return b->ins.v[k];
    return NULL;
}

/* Is there a path from def to use through an instruction that changes
 * what def points to? A search back from the use that stops at def's
 * block: def dominates use, so every path to the use comes through it.
 * With a budget, the search gives up (answers no) after that many blocks. */
static Ins *changed_between(BFunc *bf, Ins *def, Ins *use, Changes hit, const char *sym, int budget)
{
    BState *s = bf->flow;
    Block *db = def->blk, *ub = use->blk;
    int dk = ir_index(def), uk = ir_index(use);
    if (db == ub && dk < uk)
        return scan(ub, dk + 1, uk - 1, hit, sym);
    Ins *why = scan(ub, 0, uk - 1, hit, sym);
    if (why)
        return why;
    s->stamp++;
    VEC(Block *) work = { 0 };
    for (int k = 0; k < ub->preds.n; k++)
        vpush(work, ub->preds.v[k]);
    while (work.n) {
        Block *b = work.v[--work.n];
        if (s->seen[b->id] == s->stamp || !bf->reach[b->id])
            continue;
        if (budget && --budget == 0)
            return NULL;
        s->seen[b->id] = s->stamp;
        if (b == db) {
            if ((why = scan(b, dk + 1, b->ins.n - 1, hit, sym)))
                return why;
            continue;
        }
        if ((why = scan(b, 0, b->ins.n - 1, hit, sym)))
            return why;
        for (int k = 0; k < b->preds.n; k++)
            vpush(work, b->preds.v[k]);
    }
    return NULL;
}

/* The packet load a packet pointer comes from, through its adds. */
static Ins *packet_source(Ins *root)
{
    for (int depth = 0; root && depth < 64; depth++) {
        root = ptr_root(root);
        if (!root || pkt_load(root))
            return root;
        if (root->op != I_ADD && root->op != I_SUB)
            return NULL;
        root = root->a[0] && root->a[0]->prov ? root->a[0] : root->a[1];
    }
    return NULL;
}

/* Is the map value or packet pointer with this root stale at `use`?
 * The packet search is exact (the kernel rejects a stale packet pointer);
 * the map search, a language rule, looks at most 1024 blocks back. */
bool flow_stale(BFunc *bf, Ins *root, Ins *use, Ins **why)
{
    BState *s = bf->flow;
    root = ptr_root(root);
    *why = NULL;
    if (root && is_helper(root, BPF_FUNC_map_lookup_elem)) {
        if (map_changed(s, map_sym(root)))
            *why = changed_between(bf, root, use, changes_map, map_sym(root), 1024);
    } else if (s->moves_pkt && (root = packet_source(root)) != NULL) {
        *why = changed_between(bf, root, use, changes_packet, NULL, 0);
    }
    return *why != NULL;
}

bool flow_slot_written(BFunc *bf, int slot)
{
    BState *s = bf->flow;
    return slot < 0 || slot >= s->nslots || has(slots_of(s, s->cur), slot);
}

/* ---- leaks ------------------------------------------------------------- */

static bool held_at_end(BFunc *bf, Block *b, int o)
{
    BState *s = bf->flow;
    return bf->reach[b->id] && has(set_of(s, s->out + (size_t)b->id * stride(s), S_HELD), o);
}

/* A path from the reservation to the leaking return, backwards over
 * blocks that end with the record still held; then its branches. */
static void describe_path(BFunc *bf, Ins *res, Block *ret_blk, int o)
{
    int n = bf->f->blocks.n;
    int *prev = xalloc(sizeof(int) * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        prev[i] = -2;
    int *queue = xalloc(sizeof(int) * (size_t)(n + 1)), qh = 0, qt = 0;
    queue[qt++] = ret_blk->id;
    prev[ret_blk->id] = -1;
    int found = -1;
    while (qh < qt && found < 0) {
        Block *b = bf->f->blocks.v[queue[qh++]];
        if (b == res->blk) {
            found = b->id;
            break;
        }
        for (int k = 0; k < b->preds.n; k++) {
            Block *p = b->preds.v[k];
            if (prev[p->id] != -2 || !held_at_end(bf, p, o) || !edge_ok(bf, p, b))
                continue;
            prev[p->id] = b->id;
            queue[qt++] = p->id;
        }
    }
    if (found < 0)
        return;
    char buf[512];
    int len = 0;
    for (int b = found; b >= 0 && prev[b] >= 0 && len < 400; b = prev[b]) {
        Block *bl = bf->f->blocks.v[b];
        Ins *t = ir_term(bl);
        if (!t || t->op != I_BR)
            continue;
        bool taken = t->succ[0] == bf->f->blocks.v[prev[b]];
        len += snprintf(buf + len, sizeof buf - (size_t)len, "%sline %d (%s)", len ? ", " : "", t->pos.line,
                        taken ? "true" : "false");
    }
    if (len)
        note_at(ir_term(ret_blk)->pos, "it leaks when the conditions go this way: %s", buf);
}

void flow_check_return(BFunc *bf, Ins *ret)
{
    BState *s = bf->flow;
    Word *held = set_of(s, s->cur, S_HELD);
    for (int o = 0; o < s->nobj; o++) {
        if (!has(held, o))
            continue;
        Ins *res = s->obj[o];
        const char *name = value_name(bf, res);
        bounds_error(bf, res->pos, "the ring buffer record reserved here%s%s%s is not submitted or discarded on every path",
                     name ? " ('" : "", name ? name : "", name ? "')" : "");
        note_at(ret->pos, "this %s leaves it held", ret->op == I_TAIL_CALL ? "tail call" : "return");
        describe_path(bf, res, ret->blk, o);
        const char *rb = res->nargs && res->args[0]->op == I_MAP ? res->args[0]->sym : "rb";
        help("call %s.submit(%s) or %s.discard(%s) on that path", rb, name ? name : "e", rb, name ? name : "e");
        del(held, o);
    }
}
