/* Calls of @helper subprograms the inliner left as calls. The verifier
 * checks such a subprogram with the registers of each call: a packet
 * pointer keeps the bytes its caller proved, a scalar its range. So the
 * pass analyses callers before callees, records at each call what every
 * argument is, and starts the callee's parameters from the join over its
 * calls. Pointers are rebased: the callee sees an object of the bytes
 * left past the pointer. */
#include "ir/bounds.h"

#include <string.h>

typedef struct Summary {
    const char *name;
    int nargs;
    AVal *args;             /* by parameter: the join over the calls */
    int64_t *left;          /* packet parameters: fewest bytes left */
    bool called;
} Summary;

static VEC(Summary) sums;

void calls_reset(void) { memset(&sums, 0, sizeof sums); }

static Summary *summary_of(const char *name, bool create)
{
    for (int i = 0; i < sums.n; i++)
        if (!strcmp(sums.v[i].name, name))
            return &sums.v[i];
    if (!create)
        return NULL;
    vpush(sums, ((Summary){ name, 0, NULL, NULL, false }));
    return &sums.v[sums.n - 1];
}

static bool sized(Prov p)
{
    return p == P_STACK || p == P_MAP_VALUE || p == P_GLOBAL || p == P_RODATA || p == P_RINGBUF;
}

/* An argument as the callee sees it, and for a packet pointer the bytes
 * proven past it. */
static AVal rebase(BFunc *bf, AVal a, int64_t *left)
{
    *left = 0;
    if (a.kind != AK_PTR)
        return a;
    AVal r = a;
    r.root = NULL;
    r.off = r.off_hi = 0;
    r.xbase = NULL;
    r.xdelta = 0;
    r.pkt0 = false;
    r.maybe_null = a.maybe_null && !nonnull_at(bf, a.root, bf->cur_blk, bf->cur_idx);
    r.v = r.l = rng_const(0, 8);
    if (a.prov == P_PKT) {
        *left = pkt_bytes_at(bf, &a, bf->cur_blk, bf->cur_idx) - a.off_hi;
        r.v = rng_binop(I_ADD, a.v, rng_unsigned((uint64_t)(a.off < 0 ? 0 : a.off), (uint64_t)a.off_hi, 8), 8, false);
        r.l = r.v;
        if (a.off < 0 || a.v.smin < 0)
            r.v.smin = -1;
    } else if (sized(a.prov)) {
        r.size = a.size < 0 || a.off < 0 || a.v.smin < 0 ? -1 : a.size - a.off_hi - (int64_t)a.v.umax;
    } else if (a.prov != P_CTX && a.prov != P_PKT_END) {
        r.prov = P_NONE;
    }
    return r;
}

static AVal join_arg(AVal a, AVal b, int64_t *left, int64_t bleft)
{
    if (a.kind != b.kind || (a.kind == AK_PTR && a.prov != b.prov)) {
        AVal u = { 0 };
        u.kind = AK_PTR;
        u.size = -1;
        u.maybe_null = (a.kind == AK_PTR && a.maybe_null) || (b.kind == AK_PTR && b.maybe_null);
        if (a.kind == AK_SCALAR || b.kind == AK_SCALAR)
            u.maybe_null = true;    /* null from one caller */
        return u;
    }
    a.v = rng_join(a.v, b.v);
    a.l = rng_join(a.l, b.l);
    a.exact &= b.exact;
    if (a.kind == AK_PTR) {
        a.maybe_null |= b.maybe_null;
        a.size = a.size < 0 || b.size < 0 ? -1 : a.size < b.size ? a.size : b.size;
        *left = bleft < *left ? bleft : *left;
    }
    return a;
}

/* At a call in the final pass: what each argument is, joined into the
 * callee's summary. */
void calls_record(BFunc *bf, Ins *call)
{
    if (call->op != I_CALL || !call->sym)
        return;
    Summary *s = summary_of(call->sym, true);
    if (!s->args) {
        s->nargs = call->nargs;
        s->args = xalloc(sizeof(AVal) * (size_t)(call->nargs + 1));
        s->left = xalloc(sizeof(int64_t) * (size_t)(call->nargs + 1));
    }
    for (int k = 0; k < call->nargs && k < s->nargs; k++) {
        int64_t left;
        AVal a = rebase(bf, aval_at(bf, call->args[k]), &left);
        if (a.kind == AK_NONE)
            continue;
        if (!s->called) {
            s->args[k] = a;
            s->left[k] = left;
        } else {
            s->args[k] = join_arg(s->args[k], a, &s->left[k], left);
        }
    }
    s->called = true;
}

/* Parameter k of a subprogram, from its callers; false when none was
 * seen (the parameter is then unknown). */
bool calls_param(BFunc *bf, Ins *arg, AVal *out)
{
    if (bf->f->is_program || !bf->f->name)
        return false;
    Summary *s = summary_of(bf->f->name, false);
    if (!s || !s->called || arg->imm < 0 || arg->imm >= s->nargs || s->args[arg->imm].kind == AK_NONE)
        return false;
    *out = s->args[arg->imm];
    if (out->kind == AK_PTR) {
        out->root = arg;
        if (out->prov == P_PKT && s->left[arg->imm] > 0)
            fact_add(bf, F_PKT, arg->id, 0, -1, rng_empty(), rng_empty(), s->left[arg->imm]);
    }
    return true;
}

/* Callers before callees: ksc rejects recursion, so this order exists. */
IrFunc **calls_order(IrProgram *p)
{
    int n = p->funcs.n;
    IrFunc **out = xalloc(sizeof(IrFunc *) * (size_t)(n + 1));
    int *callers = xalloc(sizeof(int) * (size_t)(n + 1));
    char *done = xalloc((size_t)n + 1);
    for (int i = 0; i < n; i++)
        for (int b = 0; b < p->funcs.v[i]->blocks.n; b++)
            for (int k = 0; k < p->funcs.v[i]->blocks.v[b]->ins.n; k++) {
                Ins *c = p->funcs.v[i]->blocks.v[b]->ins.v[k];
                for (int j = 0; c->op == I_CALL && c->sym && j < n; j++)
                    callers[j] += !strcmp(p->funcs.v[j]->name, c->sym);
            }
    int m = 0;
    for (int round = 0; round < n && m < n; round++)
        for (int i = 0; i < n; i++) {
            if (done[i] || callers[i])
                continue;
            done[i] = 1;
            out[m++] = p->funcs.v[i];
            IrFunc *f = p->funcs.v[i];
            for (int b = 0; b < f->blocks.n; b++)
                for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
                    Ins *c = f->blocks.v[b]->ins.v[k];
                    for (int j = 0; c->op == I_CALL && c->sym && j < n; j++)
                        callers[j] -= !strcmp(p->funcs.v[j]->name, c->sym);
                }
        }
    for (int i = 0; i < n; i++)     /* a cycle ksc should have refused */
        if (!done[i])
            out[m++] = p->funcs.v[i];
    return out;
}
