/* Value numbering over the dominator tree: an operation already computed
 * from the same operands in a dominating block is reused. Beyond saving
 * instructions this matters to the verifier: `data + off` checked against
 * data_end and `data + off` used afterwards must be one register, since
 * the verifier gives each variable-offset packet pointer its own identity.
 * Addresses of globals and maps are only reused within a block and not
 * across a call: reloading one (two instructions) is cheaper than keeping
 * it in R6-R9 or on the stack. Memory reads are merged only from the packet
 * and the context, and only in a function that never writes that memory
 * (no store through such a pointer, no helper that moves the packet or is
 * handed a packet or context pointer, no BPF-to-BPF or kfunc call):
 * `eth->h_proto` tested twice is then one load, which the verifier knows
 * from the first test on. A classifier that sets skb->mark still reads the
 * packet once. */
#include "ir/ir.h"

#include <string.h>

#include "ir/bounds.h"

static bool pure(Ins *i)
{
    switch (i->op) {
    case I_ADD: case I_SUB: case I_MUL: case I_AND: case I_OR: case I_XOR: case I_SHL: case I_SHR:
    case I_SAR: case I_NEG: case I_NOT: case I_BSWAP: case I_ZEXT: case I_SEXT: case I_COPY:
    case I_GLOBAL: case I_MAP: case I_SETCC:
        return true;
    default:
        return false;
    }
}

static bool packet_memory(Ins *ptr)
{
    MemRegion r = mem_region(ptr->prov);
    return r == MEM_PACKET || r == MEM_CTX;
}

/* Memory a store may write without touching the packet or the context. */
static bool elsewhere(Ins *ptr) { return mem_region(ptr->prov) > MEM_CTX; }

/* Whether i may change what a load through a pointer of provenance prov
 * (the packet or the context) reads. A store to the context (skb->mark)
 * leaves the packet as it was, and a packet store the context; a helper
 * given either may change the packet through it. */
static bool writes_memory(Ins *i, int prov)
{
    switch (i->op) {
    case I_STORE: case I_ATOMIC_ADD: {
        Ins *p = i->a[0];
        if (elsewhere(p))
            return false;
        bool ctx_store = p->prov == P_CTX, ctx_load = prov == P_CTX;
        return ctx_store == ctx_load || !packet_memory(p);
    }
    case I_CALL: case I_CALL_KFUNC:
        return true;
    case I_CALL_HELPER:
        if (helper_changes_pkt((int)i->imm))
            return true;
        for (int k = 0; k < i->nargs; k++)
            if (packet_memory(i->args[k]))
                return true;
        return false;
    default:
        return false;
    }
}

static bool read_only(IrFunc *f, int prov)
{
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++)
            if (writes_memory(f->blocks.v[b]->ins.v[k], prov))
                return false;
    return true;
}

static bool same(Ins *a, Ins *b)
{
    if (a->op != b->op || a->w != b->w || a->imm != b->imm || a->cc != b->cc || a->cw != b->cw || a->mw != b->mw)
        return false;
    if (a->sym != b->sym && (!a->sym || !b->sym || strcmp(a->sym, b->sym)))
        return false;
    for (int k = 0; k < 4; k++) {
        Ins *x = a->a[k], *y = b->a[k];
        if (x == y)
            continue;
        if (!x || !y || x->op != I_CONST || y->op != I_CONST || x->imm != y->imm)
            return false;
    }
    return true;
}

static bool is_call(Ins *i)
{
    return i->op == I_CALL_HELPER || i->op == I_CALL || i->op == I_CALL_KFUNC;
}

static bool dominates(Block *a, Block *b)
{
    while (b != a && b->idom && b->idom != b)
        b = b->idom;
    return a == b;
}

static unsigned hash_ins(Ins *i)
{
    unsigned h = (unsigned)i->op * 31u + i->w * 7u + (unsigned)i->imm * 13u + (unsigned)i->cc;
    for (int k = 0; k < 4; k++) {
        Ins *x = i->a[k];
        h = h * 17u + (x ? (x->op == I_CONST ? (unsigned)x->imm * 3u + 1u : (unsigned)x->id * 5u + 2u) : 0u);
    }
    return h;
}

typedef struct Table { InsVec *b; int n; } Table;

static Ins *find(Table *t, Ins *i, Block *at, int *calls_seen, int calls_now)
{
    InsVec *bucket = &t->b[hash_ins(i) & (unsigned)(t->n - 1)];
    for (int j = 0; j < bucket->n; j++) {
        Ins *c = bucket->v[j];
        if (!same(c, i) || !dominates(c->blk, at))
            continue;
        bool addr = c->op == I_GLOBAL || c->op == I_MAP;
        if (addr && (c->blk != at || calls_seen[c->id] != calls_now))
            continue;
        return c;
    }
    vpush(*bucket, i);
    return NULL;
}

void ir_cse(IrFunc *f)
{
    Table t = { NULL, 64 };
    while (t.n < f->nvals)
        t.n *= 2;
    t.b = xalloc(sizeof(InsVec) * (size_t)t.n);
    int *calls_seen = xalloc(sizeof(int) * (size_t)(f->nvals + 1));
    int calls = 0;
    bool pkt_fixed = read_only(f, P_PKT), ctx_fixed = read_only(f, P_CTX);
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            if (is_call(i))
                calls++;
            bool value_load = i->op == I_LOAD && !i->volatile_ && packet_memory(i->a[0])
                              && (i->a[0]->prov == P_CTX ? ctx_fixed : pkt_fixed);
            if (!pure(i) && !value_load)
                continue;
            calls_seen[i->id] = calls;
            Ins *prev = find(&t, i, bl, calls_seen, calls);
            if (!prev)
                continue;
            /* the copy keeps i's provenance; copy propagation removes it */
            i->op = I_COPY;
            i->a[0] = prev;
            i->a[1] = i->a[2] = i->a[3] = NULL;
            i->sym = NULL;
            i->imm = 0;
        }
    }
}
