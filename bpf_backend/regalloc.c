/* Register allocation by iterated register coalescing (George and Appel):
 * build the interference graph from liveness, then simplify, coalesce
 * moves conservatively (Briggs for virtual pairs, George against
 * precoloured registers), freeze and spill until every virtual register
 * has one of R0-R9. Calls define R0-R5, so values live across a call
 * land in R6-R9 or on the stack. Spilled registers get an 8-byte stack
 * slot (the verifier tracks 8-byte spills of pointers exactly) with a
 * load before each use and a store after each definition, and the
 * allocation runs again. */
#include "bpf_backend/mir.h"

#include <stdlib.h>
#include <string.h>

#define K 10                /* R0-R9 */

/* ---- instruction operands ---------------------------------------------- */

bool mins_is_alu64(const MIns *i) { return BPF_CLASS(i->code) == BPF_ALU64; }

bool mins_is_move(const MIns *i)
{
    return i->kind == MK_PLAIN && i->code == (BPF_ALU64 | BPF_MOV | BPF_X) && i->off == 0 && i->dst != FP
        && i->src != FP;
}

static bool real(int r) { return r >= 0 && r != FP; }

void mins_uses(const MIns *i, int *u, int *n)
{
    *n = 0;
    uint8_t cls = BPF_CLASS(i->code);
    switch (i->kind) {
    case MK_CALL:
        for (int k = 0; k < i->nargs && k < 5; k++)
            u[(*n)++] = 1 + k;
        return;
    case MK_EXIT:
        u[(*n)++] = 0;
        return;
    case MK_LDIMM64:
        return;
    default:
        break;
    }
    if (cls == BPF_ALU || cls == BPF_ALU64) {
        uint8_t op = BPF_OP(i->code);
        if (op != BPF_MOV && real(i->dst))
            u[(*n)++] = i->dst;
        if (BPF_SRC(i->code) == BPF_X && op != BPF_NEG && op != BPF_END && real(i->src))
            u[(*n)++] = i->src;
        return;
    }
    if (cls == BPF_LDX) {
        if (real(i->src))
            u[(*n)++] = i->src;
        return;
    }
    if (cls == BPF_STX || cls == BPF_ST) {
        if (real(i->dst))
            u[(*n)++] = i->dst;
        if (cls == BPF_STX && real(i->src))
            u[(*n)++] = i->src;
        return;
    }
    if (cls == BPF_JMP || cls == BPF_JMP32) {
        if (BPF_OP(i->code) == BPF_JA)
            return;
        if (real(i->dst))
            u[(*n)++] = i->dst;
        if (BPF_SRC(i->code) == BPF_X && real(i->src))
            u[(*n)++] = i->src;
    }
}

void mins_defs(const MIns *i, int *d, int *n)
{
    *n = 0;
    uint8_t cls = BPF_CLASS(i->code);
    if (i->kind == MK_CALL) {
        for (int r = 0; r <= 5; r++)
            d[(*n)++] = r;
        return;
    }
    if (i->kind == MK_LDIMM64 || cls == BPF_LDX || cls == BPF_ALU || cls == BPF_ALU64)
        if (real(i->dst))
            d[(*n)++] = i->dst;
}

/* ---- sets -------------------------------------------------------------- */

typedef struct { uint64_t *w; int n; } Bits;

static Bits bits_new(int n) { return (Bits){ xalloc(sizeof(uint64_t) * (size_t)((n + 63) / 64 + 1)), n }; }
static bool bit(Bits b, int i) { return (b.w[i >> 6] >> (i & 63)) & 1; }
static void bset(Bits b, int i) { b.w[i >> 6] |= 1ULL << (i & 63); }
static void bclr(Bits b, int i) { b.w[i >> 6] &= ~(1ULL << (i & 63)); }

/* Interference edges as a hash set of pairs: scales to large functions. */
typedef struct { uint64_t *keys; int cap, n; } EdgeSet;

static uint64_t pair(int a, int b) { return a < b ? ((uint64_t)a << 32 | (uint32_t)b) : ((uint64_t)b << 32 | (uint32_t)a); }

static bool edge_has(EdgeSet *e, int a, int b)
{
    uint64_t k = pair(a, b) + 1;
    for (uint64_t h = (k * 0x9E3779B97F4A7C15ULL) & (uint64_t)(e->cap - 1);; h = (h + 1) & (uint64_t)(e->cap - 1)) {
        if (!e->keys[h])
            return false;
        if (e->keys[h] == k)
            return true;
    }
}

static void edge_add(EdgeSet *e, int a, int b)
{
    if ((e->n + 1) * 2 > e->cap) {
        EdgeSet ne = { xalloc(sizeof(uint64_t) * (size_t)e->cap * 2), e->cap * 2, 0 };
        for (int i = 0; i < e->cap; i++)
            if (e->keys[i]) {
                uint64_t k = e->keys[i];
                for (uint64_t h = (k * 0x9E3779B97F4A7C15ULL) & (uint64_t)(ne.cap - 1);; h = (h + 1) & (uint64_t)(ne.cap - 1))
                    if (!ne.keys[h]) {
                        ne.keys[h] = k;
                        ne.n++;
                        break;
                    }
            }
        *e = ne;
    }
    uint64_t k = pair(a, b) + 1;
    for (uint64_t h = (k * 0x9E3779B97F4A7C15ULL) & (uint64_t)(e->cap - 1);; h = (h + 1) & (uint64_t)(e->cap - 1)) {
        if (e->keys[h] == k)
            return;
        if (!e->keys[h]) {
            e->keys[h] = k;
            e->n++;
            return;
        }
    }
}

/* ---- the allocator's state --------------------------------------------- */

typedef VEC(int) IntVec;

enum { W_NONE, W_PRE, W_INITIAL, W_SIMPLIFY, W_FREEZE, W_SPILL, W_SPILLED, W_COALESCED, W_COLORED, W_STACK };
enum { M_NONE, M_COALESCED, M_CONSTRAINED, M_FROZEN, M_WORK, M_ACTIVE };

typedef struct Move { int dst, src; int state; } Move;

typedef struct RA {
    MFunc *m;
    int n;
    EdgeSet edges;
    IntVec *adj;
    int *degree, *alias, *color, *where;
    IntVec *move_list;          /* node -> indices into moves */
    VEC(Move) moves;
    IntVec simplify, freeze, spill, stack, spilled;
    Bits no_spill;
    double *cost;
} RA;

static RA A;

static void add_edge(int u, int v)
{
    if (u == v || u == FP || v == FP || edge_has(&A.edges, u, v))
        return;
    edge_add(&A.edges, u, v);
    if (u >= K) {
        vpush(A.adj[u], v);
        A.degree[u]++;
    }
    if (v >= K) {
        vpush(A.adj[v], u);
        A.degree[v]++;
    }
}

/* ---- liveness ---------------------------------------------------------- */

static void block_use_def(MBlock *b, Bits use, Bits def)
{
    int u[8], d[8], nu, nd;
    for (int k = 0; k < b->ins.n; k++) {
        mins_uses(&b->ins.v[k], u, &nu);
        for (int j = 0; j < nu; j++)
            if (!bit(def, u[j]))
                bset(use, u[j]);
        mins_defs(&b->ins.v[k], d, &nd);
        for (int j = 0; j < nd; j++)
            bset(def, d[j]);
    }
}

static void liveness(MFunc *m, Bits *in, Bits *out)
{
    int nb = m->blocks.n, words = (A.n + 63) / 64 + 1;
    Bits *use = xalloc(sizeof(Bits) * (size_t)nb), *def = xalloc(sizeof(Bits) * (size_t)nb);
    for (int b = 0; b < nb; b++) {
        use[b] = bits_new(A.n);
        def[b] = bits_new(A.n);
        in[b] = bits_new(A.n);
        out[b] = bits_new(A.n);
        block_use_def(m->blocks.v[b], use[b], def[b]);
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (int b = nb - 1; b >= 0; b--) {
            MBlock *bl = m->blocks.v[b];
            for (int w = 0; w < words; w++) {
                uint64_t o = 0;
                for (int s = 0; s < bl->nsucc; s++)
                    o |= in[bl->succ[s]->id].w[w];
                uint64_t i = use[b].w[w] | (o & ~def[b].w[w]);
                if (o != out[b].w[w] || i != in[b].w[w]) {
                    out[b].w[w] = o;
                    in[b].w[w] = i;
                    changed = true;
                }
            }
        }
    }
}

/* ---- build ------------------------------------------------------------- */

static void add_move(int dst, int src)
{
    vpush(A.moves, ((Move){ dst, src, M_WORK }));
    vpush(A.move_list[dst], A.moves.n - 1);
    vpush(A.move_list[src], A.moves.n - 1);
}

static void build(MFunc *m)
{
    Bits *in = xalloc(sizeof(Bits) * (size_t)m->blocks.n), *out = xalloc(sizeof(Bits) * (size_t)m->blocks.n);
    liveness(m, in, out);
    int u[8], d[8], nu, nd;
    for (int b = 0; b < m->blocks.n; b++) {
        MBlock *bl = m->blocks.v[b];
        Bits live = bits_new(A.n);
        memcpy(live.w, out[b].w, sizeof(uint64_t) * (size_t)((A.n + 63) / 64 + 1));
        double weight = 1;
        for (int l = 0; l < bl->loop_depth && l < 6; l++)
            weight *= 10;
        for (int k = bl->ins.n - 1; k >= 0; k--) {
            MIns *i = &bl->ins.v[k];
            mins_uses(i, u, &nu);
            mins_defs(i, d, &nd);
            if (mins_is_move(i)) {
                bclr(live, i->src);
                add_move(i->dst, i->src);
            }
            for (int j = 0; j < nd; j++) {
                bset(live, d[j]);
                A.cost[d[j]] += weight;
            }
            for (int j = 0; j < nd; j++)
                for (int w = 0; w < (A.n + 63) / 64 + 1; w++)
                    for (uint64_t x = live.w[w]; x; x &= x - 1) {
                        int l = w * 64 + __builtin_ctzll(x);
                        add_edge(l, d[j]);
                    }
            for (int j = 0; j < nd; j++)
                bclr(live, d[j]);
            for (int j = 0; j < nu; j++) {
                bset(live, u[j]);
                A.cost[u[j]] += weight;
            }
        }
    }
}

/* ---- the worklists ---------------------------------------------------- */

static bool move_related(int n)
{
    for (int k = 0; k < A.move_list[n].n; k++) {
        int s = A.moves.v[A.move_list[n].v[k]].state;
        if (s == M_WORK || s == M_ACTIVE)
            return true;
    }
    return false;
}

static void push_to(IntVec *l, int n, int where)
{
    vpush(*l, n);
    A.where[n] = where;
}

static void make_worklists(void)
{
    for (int n = VREG0; n < A.n; n++) {
        if (A.where[n] != W_INITIAL)
            continue;
        if (A.degree[n] >= K)
            push_to(&A.spill, n, W_SPILL);
        else if (move_related(n))
            push_to(&A.freeze, n, W_FREEZE);
        else
            push_to(&A.simplify, n, W_SIMPLIFY);
    }
}

static void enable_moves(int n)
{
    for (int k = 0; k < A.move_list[n].n; k++) {
        Move *mv = &A.moves.v[A.move_list[n].v[k]];
        if (mv->state == M_ACTIVE)
            mv->state = M_WORK;
    }
}

static bool gone(int n) { return A.where[n] == W_STACK || A.where[n] == W_COALESCED; }

static void decrement_degree(int m)
{
    if (m < K)
        return;
    int d = A.degree[m]--;
    if (d != K)
        return;
    enable_moves(m);
    for (int k = 0; k < A.adj[m].n; k++)
        if (!gone(A.adj[m].v[k]))
            enable_moves(A.adj[m].v[k]);
    if (A.where[m] != W_SPILL)
        return;
    if (move_related(m))
        push_to(&A.freeze, m, W_FREEZE);
    else
        push_to(&A.simplify, m, W_SIMPLIFY);
}

/* Pops the next node still on list `l` (nodes move between lists lazily). */
static int pop_live(IntVec *l, int where)
{
    while (l->n) {
        int n = l->v[--l->n];
        if (A.where[n] == where)
            return n;
    }
    return -1;
}

static bool simplify(void)
{
    int n = pop_live(&A.simplify, W_SIMPLIFY);
    if (n < 0)
        return false;
    A.where[n] = W_STACK;
    vpush(A.stack, n);
    for (int k = 0; k < A.adj[n].n; k++)
        if (!gone(A.adj[n].v[k]))
            decrement_degree(A.adj[n].v[k]);
    return true;
}

static int get_alias(int n)
{
    while (A.where[n] == W_COALESCED)
        n = A.alias[n];
    return n;
}

static void add_worklist(int u)
{
    if (u >= K && !move_related(u) && A.degree[u] < K && A.where[u] == W_FREEZE)
        push_to(&A.simplify, u, W_SIMPLIFY);
}

static bool ok_george(int t, int r) { return A.degree[t] < K || t < K || edge_has(&A.edges, t, r); }

static bool conservative(int u, int v)
{
    int k = 0;
    Bits seen = bits_new(A.n);
    int nodes[2] = { u, v };
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < A.adj[nodes[j]].n; i++) {
            int t = A.adj[nodes[j]].v[i];
            if (gone(t) || bit(seen, t))
                continue;
            bset(seen, t);
            if (A.degree[t] >= K || t < K)
                k++;
        }
    return k < K;
}

static void combine(int u, int v)
{
    A.where[v] = W_COALESCED;
    A.alias[v] = u;
    for (int k = 0; k < A.move_list[v].n; k++)
        vpush(A.move_list[u], A.move_list[v].v[k]);
    enable_moves(v);
    for (int k = 0; k < A.adj[v].n; k++) {
        int t = A.adj[v].v[k];
        if (gone(t))
            continue;
        add_edge(t, u);
        decrement_degree(t);
    }
    if (A.degree[u] >= K && A.where[u] == W_FREEZE)
        push_to(&A.spill, u, W_SPILL);
    if (bit(A.no_spill, v))
        bset(A.no_spill, u);
}

static bool coalesce(void)
{
    for (int idx = 0; idx < A.moves.n; idx++) {
        Move *mv = &A.moves.v[idx];
        if (mv->state != M_WORK)
            continue;
        int x = get_alias(mv->dst), y = get_alias(mv->src);
        int u = y < K ? y : x, v = y < K ? x : y;
        if (u == v) {
            mv->state = M_COALESCED;
            add_worklist(u);
        } else if (v < K || edge_has(&A.edges, u, v)) {
            mv->state = M_CONSTRAINED;
            add_worklist(u);
            add_worklist(v);
        } else {
            bool ok;
            if (u < K) {
                ok = true;
                for (int k = 0; k < A.adj[v].n && ok; k++)
                    if (!gone(A.adj[v].v[k]))
                        ok = ok_george(A.adj[v].v[k], u);
            } else {
                ok = conservative(u, v);
            }
            if (!ok) {
                mv->state = M_ACTIVE;
                continue;
            }
            mv->state = M_COALESCED;
            combine(u, v);
            add_worklist(u);
        }
        return true;
    }
    return false;
}

static void freeze_moves(int u)
{
    for (int k = 0; k < A.move_list[u].n; k++) {
        Move *mv = &A.moves.v[A.move_list[u].v[k]];
        if (mv->state != M_ACTIVE && mv->state != M_WORK)
            continue;
        int v = get_alias(mv->src) == get_alias(u) ? get_alias(mv->dst) : get_alias(mv->src);
        mv->state = M_FROZEN;
        if (v >= K && !move_related(v) && A.degree[v] < K && A.where[v] == W_FREEZE)
            push_to(&A.simplify, v, W_SIMPLIFY);
    }
}

static bool freeze(void)
{
    int u = pop_live(&A.freeze, W_FREEZE);
    if (u < 0)
        return false;
    push_to(&A.simplify, u, W_SIMPLIFY);
    freeze_moves(u);
    return true;
}

static bool select_spill(void)
{
    int best = -1;
    double best_cost = 0;
    for (int k = 0; k < A.spill.n; k++) {
        int n = A.spill.v[k];
        if (A.where[n] != W_SPILL)
            continue;
        double c = bit(A.no_spill, n) ? 1e30 : A.cost[n] / (A.degree[n] + 1);
        if (best < 0 || c < best_cost) {
            best = n;
            best_cost = c;
        }
    }
    if (best < 0)
        return false;
    push_to(&A.simplify, best, W_SIMPLIFY);
    freeze_moves(best);
    return true;
}

static void assign_colors(void)
{
    while (A.stack.n) {
        int n = A.stack.v[--A.stack.n];
        bool used[K + 1] = { 0 };
        for (int k = 0; k < A.adj[n].n; k++) {
            int w = get_alias(A.adj[n].v[k]);
            if (w < K)
                used[w] = true;
            else if (A.where[w] == W_COLORED)
                used[A.color[w]] = true;
        }
        /* Prefer R6-R9 only when needed: try the scratch registers first. */
        static const int order[K] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        int c = -1;
        for (int k = 0; k < K && c < 0; k++)
            if (!used[order[k]])
                c = order[k];
        if (c < 0) {
            A.where[n] = W_SPILLED;
            vpush(A.spilled, n);
        } else {
            A.where[n] = W_COLORED;
            A.color[n] = c;
        }
    }
    for (int n = VREG0; n < A.n; n++)
        if (A.where[n] == W_COALESCED)
            A.color[n] = A.color[get_alias(n)];
}

/* ---- spilling ---------------------------------------------------------- */

static int spill_slot(MFunc *m)
{
    Slot s = { 8, 8, NULL, 0 };
    vpush(m->slots, s);
    return m->slots.n - 1;
}

static MIns spill_mem(uint8_t code, int reg, int slot)
{
    MIns i = { .kind = MK_PLAIN, .code = code, .dst = FP, .src = reg, .slot = slot };
    if (BPF_CLASS(code) == BPF_LDX) {
        i.dst = reg;
        i.src = FP;
    }
    return i;
}

/* Every spilled register becomes a short-lived one per instruction: a
 * load before a use, a store after a definition. Registers coalesced
 * into a spilled one share its slot. */
static void rewrite(MFunc *m, Bits new_regs)
{
    int *slot = xalloc(sizeof(int) * (size_t)A.n);
    for (int k = 0; k < A.spilled.n; k++)
        slot[A.spilled.v[k]] = spill_slot(m);
    for (int n = VREG0; n < A.n; n++)
        if (A.where[n] == W_COALESCED && A.where[get_alias(n)] == W_SPILLED)
            slot[n] = slot[get_alias(n)];
    for (int b = 0; b < m->blocks.n; b++) {
        MBlock *bl = m->blocks.v[b];
        MInsVec out = { 0 };
        for (int k = 0; k < bl->ins.n; k++) {
            MIns i = bl->ins.v[k];
            int u[8], d[8], nu, nd;
            mins_uses(&i, u, &nu);
            mins_defs(&i, d, &nd);
            int regs[2] = { i.dst, i.src };
            MIns stores[2];
            int nstores = 0;
            for (int r = 0; r < 2; r++) {
                int v = regs[r];
                if (v < VREG0 || v >= A.n || (r == 1 && (i.kind == MK_CALL || i.kind == MK_LDIMM64)))
                    continue;
                if (A.where[get_alias(v)] != W_SPILLED || (r == 1 && regs[0] == v))
                    continue;
                bool is_use = false, is_def = false;
                for (int j = 0; j < nu; j++)
                    is_use |= u[j] == v;
                for (int j = 0; j < nd; j++)
                    is_def |= d[j] == v;
                int t = m->nregs++;
                bset(new_regs, t);
                if (is_use) {
                    MIns ld = spill_mem(BPF_LDX | BPF_MEM | BPF_DW, t, slot[v]);
                    ld.pos = i.pos;
                    vpush(out, ld);
                }
                if (i.dst == v)
                    i.dst = t;
                if (i.src == v)
                    i.src = t;
                if (is_def) {
                    stores[nstores] = spill_mem(BPF_STX | BPF_MEM | BPF_DW, t, slot[v]);
                    stores[nstores++].pos = i.pos;
                }
            }
            vpush(out, i);
            for (int s = 0; s < nstores; s++)
                vpush(out, stores[s]);
        }
        bl->ins = out;
    }
}

/* ---- driver ------------------------------------------------------------ */

static void init(MFunc *m, Bits no_spill)
{
    memset(&A, 0, sizeof A);
    A.m = m;
    A.n = m->nregs;
    int n = A.n;
    A.edges = (EdgeSet){ xalloc(sizeof(uint64_t) * 1024), 1024, 0 };
    A.adj = xalloc(sizeof(IntVec) * (size_t)n);
    A.degree = xalloc(sizeof(int) * (size_t)n);
    A.alias = xalloc(sizeof(int) * (size_t)n);
    A.color = xalloc(sizeof(int) * (size_t)n);
    A.where = xalloc(sizeof(int) * (size_t)n);
    A.move_list = xalloc(sizeof(IntVec) * (size_t)n);
    A.cost = xalloc(sizeof(double) * (size_t)n);
    A.no_spill = no_spill;
    for (int i = 0; i < n; i++) {
        A.color[i] = i < K ? i : -1;
        A.where[i] = i < K ? W_PRE : i < VREG0 ? W_NONE : W_INITIAL;
        A.degree[i] = i < K ? 1 << 29 : 0;
    }
}

/* Registers that no instruction mentions need no colour. */
static void drop_unused(MFunc *m)
{
    Bits seen = bits_new(A.n);
    for (int b = 0; b < m->blocks.n; b++)
        for (int k = 0; k < m->blocks.v[b]->ins.n; k++) {
            MIns *i = &m->blocks.v[b]->ins.v[k];
            if (i->dst >= 0 && i->dst < A.n)
                bset(seen, i->dst);
            if (i->src >= 0 && i->src < A.n && i->kind != MK_CALL && i->kind != MK_LDIMM64)
                bset(seen, i->src);
        }
    for (int n = VREG0; n < A.n; n++)
        if (!bit(seen, n))
            A.where[n] = W_NONE;
}

static void apply_colors(MFunc *m)
{
    for (int b = 0; b < m->blocks.n; b++)
        for (int k = 0; k < m->blocks.v[b]->ins.n; k++) {
            MIns *i = &m->blocks.v[b]->ins.v[k];
            if (i->dst >= VREG0)
                i->dst = A.color[i->dst];
            if (i->src >= VREG0 && i->kind != MK_CALL && i->kind != MK_LDIMM64)
                i->src = A.color[i->src];
        }
}

void regalloc(MFunc *m)
{
    Bits no_spill = bits_new(m->nregs + 4096);
    for (int round = 0; round < 32; round++) {
        if (no_spill.n < m->nregs) {
            Bits nb = bits_new(m->nregs * 2);
            memcpy(nb.w, no_spill.w, sizeof(uint64_t) * (size_t)((no_spill.n + 63) / 64));
            no_spill = nb;
        }
        init(m, no_spill);
        drop_unused(m);
        build(m);
        make_worklists();
        for (;;) {
            if (simplify() || coalesce() || freeze() || select_spill())
                continue;
            break;
        }
        assign_colors();
        if (!A.spilled.n) {
            apply_colors(m);
            return;
        }
        rewrite(m, no_spill);
    }
    fatal("register allocation did not converge for '%s'", m->ir->name);
}
