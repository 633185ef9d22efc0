/* Ranges of integers in the verifier's terms: an unsigned and a signed
 * interval for each w-byte value, kept consistent with each other as the
 * kernel's reg_bounds_sync does. The arithmetic follows the verifier's
 * (which gives up after an overflow, a division or a modulo) unless the
 * caller asks for the exact answer the language defines. */
#include "ir/bounds.h"

#include <stdio.h>

typedef unsigned __int128 u128;
typedef __int128 s128;

uint64_t rng_mask(int w) { return w >= 8 ? UINT64_MAX : (1ULL << (w * 8)) - 1; }

static int64_t smax_of(int w) { return (int64_t)(rng_mask(w) >> 1); }
static int64_t smin_of(int w) { return -smax_of(w) - 1; }

int64_t rng_sext(uint64_t v, int w)
{
    if (w >= 8)
        return (int64_t)v;
    int sh = 64 - w * 8;
    return (int64_t)(v << sh) >> sh;
}

Rng rng_full(int w) { return (Rng){ 0, rng_mask(w), smin_of(w), smax_of(w) }; }

Rng rng_const(uint64_t v, int w)
{
    v &= rng_mask(w);
    return (Rng){ v, v, rng_sext(v, w), rng_sext(v, w) };
}

Rng rng_unsigned(uint64_t lo, uint64_t hi, int w)
{
    Rng r = rng_full(w);
    r.umin = lo;
    r.umax = hi;
    return rng_sync(r, w);
}

Rng rng_empty(void) { return (Rng){ 1, 0, 1, 0 }; }

bool rng_is_empty(Rng r) { return r.umin > r.umax || r.smin > r.smax; }

bool rng_is_const(Rng r, uint64_t *v)
{
    if (rng_is_empty(r) || r.umin != r.umax)
        return false;
    if (v)
        *v = r.umin;
    return true;
}

bool rng_eq(Rng a, Rng b)
{
    if (rng_is_empty(a) || rng_is_empty(b))
        return rng_is_empty(a) == rng_is_empty(b);
    return a.umin == b.umin && a.umax == b.umax && a.smin == b.smin && a.smax == b.smax;
}

static uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Each interval narrows the other where their sign views agree, twice,
 * since one step can enable the next. */
Rng rng_sync(Rng r, int w)
{
    uint64_t half = (uint64_t)smax_of(w), span = rng_mask(w);
    for (int round = 0; round < 2 && !rng_is_empty(r); round++) {
        if (r.smin >= 0) {
            r.umin = umax64(r.umin, (uint64_t)r.smin);
            r.umax = umin64(r.umax, (uint64_t)r.smax);
        } else if (r.smax < 0) {
            r.umin = umax64(r.umin, (uint64_t)r.smin & span);
            r.umax = umin64(r.umax, (uint64_t)r.smax & span);
        }
        if (r.umax <= half) {
            r.smin = smax64(r.smin, (int64_t)r.umin);
            r.smax = smin64(r.smax, (int64_t)r.umax);
        } else if (r.umin > half) {
            r.smin = smax64(r.smin, rng_sext(r.umin, w));
            r.smax = smin64(r.smax, rng_sext(r.umax, w));
        }
    }
    return rng_is_empty(r) ? rng_empty() : r;
}

Rng rng_join(Rng a, Rng b)
{
    if (rng_is_empty(a))
        return b;
    if (rng_is_empty(b))
        return a;
    return (Rng){ umin64(a.umin, b.umin), umax64(a.umax, b.umax), smin64(a.smin, b.smin), smax64(a.smax, b.smax) };
}

Rng rng_meet(Rng a, Rng b, int w)
{
    Rng r = { umax64(a.umin, b.umin), umin64(a.umax, b.umax), smax64(a.smin, b.smin), smin64(a.smax, b.smax) };
    return rng_sync(r, w);
}

/* A bound that keeps moving goes to the end of its type at once, so
 * loops reach a fixed point; a later pass may narrow it again. */
Rng rng_widen(Rng old, Rng nw, int w)
{
    if (rng_is_empty(old))
        return nw;
    /* the moving view goes to its ends, and the other view starts over
     * from it: widened bounds may cross the sign boundary */
    Rng f = rng_full(w), r = f;
    bool umoved = nw.umin < old.umin || nw.umax > old.umax;
    if (umoved) {
        r.umin = nw.umin < old.umin ? f.umin : nw.umin;
        r.umax = nw.umax > old.umax ? f.umax : nw.umax;
    } else {
        r.smin = nw.smin < old.smin ? f.smin : nw.smin;
        r.smax = nw.smax > old.smax ? f.smax : nw.smax;
    }
    return rng_sync(r, w);
}

Rng rng_view(Rng r, int from, int to)
{
    if (rng_is_empty(r) || from == to)
        return r;
    if (to > from) {            /* the value zero-extended */
        Rng z = rng_unsigned(r.umin, r.umax, to);
        return z;
    }
    if (r.umax <= rng_mask(to))
        return rng_unsigned(r.umin, r.umax, to);
    if (r.smin >= smin_of(to) && r.smax <= smax_of(to)) {
        Rng s = rng_full(to);
        s.smin = r.smin;
        s.smax = r.smax;
        return rng_sync(s, to);
    }
    return rng_full(to);
}

/* ---- arithmetic -------------------------------------------------------- */

static Rng signed_only(s128 lo, s128 hi, int w)
{
    Rng r = rng_full(w);
    if (lo >= smin_of(w) && hi <= smax_of(w)) {
        r.smin = (int64_t)lo;
        r.smax = (int64_t)hi;
    }
    return r;
}

static Rng add(Rng a, Rng b, int w)
{
    Rng r = signed_only((s128)a.smin + b.smin, (s128)a.smax + b.smax, w);
    if ((u128)a.umax + b.umax <= rng_mask(w)) {
        r.umin = a.umin + b.umin;
        r.umax = a.umax + b.umax;
    }
    return rng_sync(r, w);
}

static Rng sub(Rng a, Rng b, int w)
{
    Rng r = signed_only((s128)a.smin - b.smax, (s128)a.smax - b.smin, w);
    if (a.umin >= b.umax) {
        r.umin = a.umin - b.umax;
        r.umax = a.umax - b.umin;
    }
    return rng_sync(r, w);
}

/* As the verifier: only products of non-negative values that cannot
 * overflow keep a range. */
static Rng mul(Rng a, Rng b, int w)
{
    Rng r = rng_full(w);
    if ((u128)a.umax * b.umax <= rng_mask(w)) {
        r.umin = a.umin * b.umin;
        r.umax = a.umax * b.umax;
    }
    return rng_sync(r, w);
}

/* The smallest 2^n - 1 at or above v: a bound for v | x and v ^ x. */
static uint64_t all_ones_to(uint64_t v)
{
    uint64_t m = v;
    m |= m >> 1;
    m |= m >> 2;
    m |= m >> 4;
    m |= m >> 8;
    m |= m >> 16;
    m |= m >> 32;
    return m;
}

static Rng bitwise(IrOp op, Rng a, Rng b, int w)
{
    Rng r = rng_full(w);
    uint64_t ca, cb;
    if (rng_is_const(a, &ca) && rng_is_const(b, &cb))
        return rng_const(op == I_AND ? ca & cb : op == I_OR ? ca | cb : ca ^ cb, w);
    if (op == I_AND) {
        r.umax = umin64(a.umax, b.umax);
    } else {
        r.umax = all_ones_to(umax64(a.umax, b.umax)) & rng_mask(w);
        if (op == I_OR)
            r.umin = umax64(a.umin, b.umin);
    }
    return rng_sync(r, w);
}

static Rng shift(IrOp op, Rng a, Rng b, int w)
{
    uint64_t k;
    int bits = w * 8;
    if (!rng_is_const(b, &k)) {
        if (op == I_SHR && b.umax < (uint64_t)bits)
            return rng_unsigned(a.umin >> b.umax, a.umax >> b.umin, w);
        return rng_full(w);
    }
    k %= (uint64_t)bits;
    Rng r = rng_full(w);
    switch (op) {
    case I_SHL:
        if (k < 64 && (a.umax >> (bits - 1 - (int)k) >> 1) == 0) {
            r.umin = a.umin << k;
            r.umax = a.umax << k;
        }
        return rng_sync(r, w);
    case I_SHR:
        return rng_unsigned(a.umin >> k, a.umax >> k, w);
    default:    /* I_SAR */
        r.smin = a.smin >> k;
        r.smax = a.smax >> k;
        return rng_sync(r, w);
    }
}

/* Division and modulo as the language defines them (by zero: 0, and
 * the dividend), unsigned only. */
static Rng udiv(Rng a, Rng b, int w)
{
    if (b.umin == 0)
        return rng_unsigned(0, a.umax, w);
    return rng_unsigned(a.umin / b.umax, a.umax / b.umin, w);
}

static Rng umod(Rng a, Rng b, int w)
{
    if (b.umin == 0)
        return rng_unsigned(0, umax64(a.umax, b.umax ? b.umax - 1 : 0), w);
    if (a.umax < b.umin)
        return a;
    return rng_unsigned(0, umin64(a.umax, b.umax - 1), w);
}

static Rng smod(Rng a, Rng b, int w)
{
    uint64_t k;
    Rng r = rng_full(w);
    if (rng_is_const(b, &k) && b.smin > 0) {
        r.smin = a.smin >= 0 ? 0 : -(b.smin - 1);
        r.smax = a.smax <= 0 ? 0 : b.smin - 1;
    }
    return rng_sync(r, w);
}

Rng rng_binop(IrOp op, Rng a, Rng b, int w, bool exact)
{
    if (rng_is_empty(a) || rng_is_empty(b))
        return rng_empty();
    switch (op) {
    case I_ADD: return add(a, b, w);
    case I_SUB: return sub(a, b, w);
    case I_MUL: return mul(a, b, w);
    case I_AND: case I_OR: case I_XOR: return bitwise(op, a, b, w);
    case I_SHL: case I_SHR: case I_SAR: return shift(op, a, b, w);
    case I_UDIV: return exact ? udiv(a, b, w) : rng_full(w);
    case I_UMOD: return exact ? umod(a, b, w) : rng_full(w);
    case I_SMOD: return exact ? smod(a, b, w) : rng_full(w);
    default: return rng_full(w);
    }
}

Rng rng_unop(IrOp op, Rng a, int from, int w)
{
    if (rng_is_empty(a))
        return a;
    switch (op) {
    case I_ZEXT: return rng_unsigned(a.umin, a.umax, w);
    case I_SEXT: {
        Rng r = rng_full(w);
        r.smin = a.smin;
        r.smax = a.smax;
        return rng_sync(r, w);
    }
    case I_COPY: return rng_view(a, from, w);
    case I_NEG: case I_NOT: {
        /* -x and ~x = -x - 1, in the signed view */
        Rng r = rng_full(w);
        int64_t k = op == I_NOT ? 1 : 0;
        if (a.smin > smin_of(w)) {
            r.smin = -a.smax - k;
            r.smax = -a.smin - k;
        }
        return rng_sync(r, w);
    }
    default: return rng_full(w);
    }
}

/* ---- compares ---------------------------------------------------------- */

int rng_decide(Cond cc, Rng a, Rng b)
{
    if (rng_is_empty(a) || rng_is_empty(b))
        return -1;
    switch (cc) {
    case CC_EQ:
        if (a.umin == a.umax && b.umin == b.umax && a.umin == b.umin)
            return 1;
        if (a.umax < b.umin || b.umax < a.umin || a.smax < b.smin || b.smax < a.smin)
            return 0;
        return -1;
    case CC_NE: {
        int eq = rng_decide(CC_EQ, a, b);
        return eq < 0 ? -1 : !eq;
    }
    case CC_ULT: return a.umax < b.umin ? 1 : a.umin >= b.umax ? 0 : -1;
    case CC_ULE: return a.umax <= b.umin ? 1 : a.umin > b.umax ? 0 : -1;
    case CC_UGT: return rng_decide(CC_ULT, b, a);
    case CC_UGE: return rng_decide(CC_ULE, b, a);
    case CC_SLT: return a.smax < b.smin ? 1 : a.smin >= b.smax ? 0 : -1;
    case CC_SLE: return a.smax <= b.smin ? 1 : a.smin > b.smax ? 0 : -1;
    case CC_SGT: return rng_decide(CC_SLT, b, a);
    case CC_SGE: return rng_decide(CC_SLE, b, a);
    case CC_SET: {
        uint64_t ca, cb;
        if (rng_is_const(a, &ca) && rng_is_const(b, &cb))
            return (ca & cb) != 0;
        return a.umax == 0 || b.umax == 0 ? 0 : -1;
    }
    }
    return -1;
}

static void below(Rng *a, Rng *b, bool strict, bool sign)
{
    if (sign) {
        int64_t hi = strict ? (b->smax == INT64_MIN ? INT64_MIN : b->smax - 1) : b->smax;
        int64_t lo = strict ? (a->smin == INT64_MAX ? INT64_MAX : a->smin + 1) : a->smin;
        if (strict && b->smax == INT64_MIN)
            *a = rng_empty();
        else
            a->smax = smin64(a->smax, hi);
        b->smin = smax64(b->smin, lo);
        return;
    }
    if (strict && b->umax == 0) {
        *a = rng_empty();
        return;
    }
    a->umax = umin64(a->umax, strict ? b->umax - 1 : b->umax);
    if (!(strict && a->umin == UINT64_MAX))
        b->umin = umax64(b->umin, strict ? a->umin + 1 : a->umin);
}

static void not_equal(Rng *a, Rng b)
{
    uint64_t c;
    if (!rng_is_const(b, &c))
        return;
    if (a->umin == c)
        a->umin++;
    else if (a->umax == c)
        a->umax--;
    int64_t s = b.smin;
    if (a->smin == s)
        a->smin++;
    else if (a->smax == s)
        a->smax--;
}

/* Narrows a and b to the values for which `a cc b` is `taken`. */
void rng_refine(Cond cc, bool taken, Rng *a, Rng *b, int w)
{
    if (rng_is_empty(*a) || rng_is_empty(*b))
        return;
    if (!taken)
        cc = cond_negate(cc);
    switch (cc) {
    case CC_EQ: {
        Rng m = rng_meet(*a, *b, w);
        *a = m;
        *b = m;
        break;
    }
    case CC_NE:
        not_equal(a, *b);
        not_equal(b, *a);
        break;
    case CC_ULT: below(a, b, true, false); break;
    case CC_ULE: below(a, b, false, false); break;
    case CC_UGT: below(b, a, true, false); break;
    case CC_UGE: below(b, a, false, false); break;
    case CC_SLT: below(a, b, true, true); break;
    case CC_SLE: below(a, b, false, true); break;
    case CC_SGT: below(b, a, true, true); break;
    case CC_SGE: below(b, a, false, true); break;
    case CC_SET: break;
    }
    *a = rng_sync(*a, w);
    *b = rng_sync(*b, w);
}

const char *rng_str(Rng r)
{
    if (rng_is_empty(r))
        return "nothing";
    if (r.smin < 0 && r.umax > (uint64_t)INT64_MAX / 2)
        return r.smin == r.smax ? xfmt("%lld", (long long)r.smin)
                                : xfmt("%lld..%lld", (long long)r.smin, (long long)r.smax);
    return r.umin == r.umax ? xfmt("%llu", (unsigned long long)r.umin)
                            : xfmt("%llu..%llu", (unsigned long long)r.umin, (unsigned long long)r.umax);
}
