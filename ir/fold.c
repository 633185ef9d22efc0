/* Constant folding and algebraic simplification at each value's width,
 * with BPF's rules (division by zero gives 0, modulo by zero the dividend,
 * shift counts taken modulo the width); constant branches become jumps. */
#include "ir/ir.h"

static uint64_t mask_of(int w) { return w >= 8 ? UINT64_MAX : ((1ULL << (w * 8)) - 1); }

static int64_t sext(uint64_t v, int w)
{
    if (w >= 8)
        return (int64_t)v;
    int sh = 64 - w * 8;
    return (int64_t)(v << sh) >> sh;
}

static bool is_const(Ins *i) { return i && i->op == I_CONST; }

static bool eval_cond(Cond cc, uint64_t a, uint64_t b, int w)
{
    uint64_t m = mask_of(w);
    a &= m;
    b &= m;
    int64_t sa = sext(a, w), sb = sext(b, w);
    switch (cc) {
    case CC_EQ: return a == b;
    case CC_NE: return a != b;
    case CC_ULT: return a < b;
    case CC_ULE: return a <= b;
    case CC_UGT: return a > b;
    case CC_UGE: return a >= b;
    case CC_SLT: return sa < sb;
    case CC_SLE: return sa <= sb;
    case CC_SGT: return sa > sb;
    case CC_SGE: return sa >= sb;
    case CC_SET: return (a & b) != 0;
    }
    return false;
}

static bool eval(Ins *i, uint64_t *out)
{
    int w = i->w;
    uint64_t a = is_const(i->a[0]) ? (uint64_t)i->a[0]->imm : 0;
    uint64_t b = is_const(i->a[1]) ? (uint64_t)i->a[1]->imm : 0;
    unsigned bits = (unsigned)w * 8;
    uint64_t m = mask_of(w);
    switch (i->op) {
    case I_ADD: *out = a + b; break;
    case I_SUB: *out = a - b; break;
    case I_MUL: *out = a * b; break;
    case I_UDIV: *out = (b & m) ? (a & m) / (b & m) : 0; break;
    case I_UMOD: *out = (b & m) ? (a & m) % (b & m) : a; break;
    case I_SDIV: {
        int64_t x = sext(a, w), y = sext(b, w);
        *out = !y ? 0 : (y == -1 ? (uint64_t)-(uint64_t)x : (uint64_t)(x / y));
        break;
    }
    case I_SMOD: {
        int64_t x = sext(a, w), y = sext(b, w);
        *out = !y ? (uint64_t)x : (y == -1 ? 0 : (uint64_t)(x % y));
        break;
    }
    case I_AND: *out = a & b; break;
    case I_OR: *out = a | b; break;
    case I_XOR: *out = a ^ b; break;
    case I_SHL: *out = a << (b % bits); break;
    case I_SHR: *out = (a & m) >> (b % bits); break;
    case I_SAR: *out = (uint64_t)(sext(a, w) >> (b % bits)); break;
    case I_NEG: *out = -a; break;
    case I_NOT: *out = ~a; break;
    case I_ZEXT: *out = a & mask_of((int)i->imm); break;
    case I_SEXT: *out = (uint64_t)sext(a, (int)i->imm); break;
    case I_COPY: *out = a; break;
    case I_SETCC: *out = eval_cond(i->cc, a, b, i->cw); break;
    case I_BSWAP:
        *out = i->imm == 16 ? __builtin_bswap16((uint16_t)a) : i->imm == 32 ? __builtin_bswap32((uint32_t)a)
                                                                            : __builtin_bswap64(a);
        break;
    default: return false;
    }
    *out &= m;
    if (i->op == I_SEXT || (i->op == I_SAR))
        *out = (uint64_t)sext(*out, w);
    return true;
}

static bool foldable(Ins *i)
{
    switch (i->op) {
    case I_NEG: case I_NOT: case I_ZEXT: case I_SEXT: case I_BSWAP:
        return is_const(i->a[0]);
    case I_COPY:
        return is_const(i->a[0]) && !i->prov;
    case I_ADD: case I_SUB: case I_MUL: case I_UDIV: case I_SDIV: case I_UMOD: case I_SMOD:
    case I_AND: case I_OR: case I_XOR: case I_SHL: case I_SHR: case I_SAR: case I_SETCC:
        return is_const(i->a[0]) && is_const(i->a[1]);
    default:
        return false;
    }
}

static void make_const(Ins *i, int64_t v)
{
    i->op = I_CONST;
    i->imm = v;
    i->a[0] = i->a[1] = NULL;
    i->prov = P_NONE;
}

static void make_copy(Ins *i, Ins *src)
{
    uint8_t prov = i->prov ? i->prov : src->prov;
    i->op = I_COPY;
    i->a[0] = src;
    i->a[1] = NULL;
    i->prov = prov;
}

static IrFunc *cur_func;

/* A new constant right before i (operands must be defined earlier). */
static Ins *const_before(Ins *i, int64_t v)
{
    Ins *c = ir_new_ins(cur_func, I_CONST, i->w);
    c->imm = v;
    c->blk = i->blk;
    int k = ir_index(i);
    vpush(i->blk->ins, NULL);
    for (int j = i->blk->ins.n - 1; j > k; j--)
        i->blk->ins.v[j] = i->blk->ins.v[j - 1];
    i->blk->ins.v[k] = c;
    return c;
}

/* x+0, x-0, x|0, x^0, x<<0, x*1, x/1 -> x; x*0, x&0 -> 0. Pointer
 * arithmetic stays as it is only when it changes the pointer. */
static bool simplify(Ins *i)
{
    Ins *a = i->a[0], *b = i->a[1];
    if (!b || !is_const(b))
        return false;
    int64_t k = b->imm;
    switch (i->op) {
    case I_ADD: case I_SUB: case I_OR: case I_XOR: case I_SHL: case I_SHR: case I_SAR:
        if (k == 0 && a->w >= i->w) {
            make_copy(i, a);
            return true;
        }
        return false;
    case I_MUL:
        if (k == 1 && a->w >= i->w) {
            make_copy(i, a);
            return true;
        }
        if (k == 0) {
            make_const(i, 0);
            return true;
        }
        return false;
    case I_UDIV: case I_SDIV:
        if (k == 1 && a->w >= i->w) {
            make_copy(i, a);
            return true;
        }
        /* unsigned x / 2^n is x >> n: cheaper, and the verifier tracks
         * the range of a shift but not of a division */
        if (i->op == I_UDIV && k > 1 && ((uint64_t)k & mask_of(i->w)) == (uint64_t)k && !(k & (k - 1))) {
            i->op = I_SHR;
            i->a[1] = const_before(i, __builtin_ctzll((uint64_t)k));
            return true;
        }
        return false;
    case I_UMOD:
        if (k > 0 && ((uint64_t)k & mask_of(i->w)) == (uint64_t)k && !(k & (k - 1))) {
            i->op = I_AND;
            i->a[1] = const_before(i, k - 1);
            return true;
        }
        return false;
    case I_AND:
        if (k == 0) {
            make_const(i, 0);
            return true;
        }
        if ((uint64_t)k == mask_of(i->w) && a->w >= i->w) {
            make_copy(i, a);
            return true;
        }
        return false;
    default:
        return false;
    }
}

/* x + c, or c + x: x and c. */
static bool const_add(Ins *i, Ins **x, int64_t *c)
{
    if (i->op != I_ADD || !i->a[0] || !i->a[1] || is_const(i->a[0]) == is_const(i->a[1]))
        return false;
    int k = is_const(i->a[1]) ? 1 : 0;
    *x = i->a[!k];
    *c = i->a[k]->imm;
    return true;
}

/* (x + c1) + c2 -> x + (c1 + c2) at one width (addition wraps the same
 * either way): keeps pointer offsets constant, and `0x10000 + cls + 1`
 * is one add. */
static bool reassociate(Ins *i)
{
    Ins *a, *x;
    int64_t c1, c2;
    if (!const_add(i, &a, &c2) || !const_add(a, &x, &c1) || a->w != i->w)
        return false;
    Ins *c = const_before(i, (int64_t)((uint64_t)c1 + (uint64_t)c2));
    i->a[0] = x;
    i->a[1] = c;
    return true;
}

static bool fold_branch(Ins *t)
{
    if (t->op != I_BR || !is_const(t->a[0]) || !is_const(t->a[1]))
        return false;
    bool taken = eval_cond(t->cc, (uint64_t)t->a[0]->imm, (uint64_t)t->a[1]->imm, t->cw);
    Block *keep = t->succ[taken ? 0 : 1], *drop = t->succ[taken ? 1 : 0];
    ir_remove_pred(drop, t->blk);   /* if both edges went to one block, one stays */
    t->op = I_JMP;
    t->succ[0] = keep;
    t->succ[1] = NULL;
    t->a[0] = t->a[1] = NULL;
    return true;
}

/* Memory at (p + c) + k is memory at p + (c + k): the offset goes into
 * the instruction, as the verifier prefers for context fields, and it
 * saves the address arithmetic. */
static bool fold_offset(Ins *i)
{
    if (i->op != I_LOAD && i->op != I_STORE && i->op != I_ATOMIC_ADD)
        return false;
    Ins *b = i->a[0];
    if (!b || b->op != I_ADD || b->w != 8 || !is_const(b->a[1]) || !b->a[0] || b->a[0]->w != 8)
        return false;
    int64_t off = i->imm + b->a[1]->imm;
    if (off < INT16_MIN || off > INT16_MAX)
        return false;
    i->a[0] = b->a[0];
    i->imm = off;
    return true;
}

/* bswap(x) == C is x == bswap(C): ntohs(port) == 23 needs no swap. */
static void fold_swapped_compare(Ins *t)
{
    if (t->op != I_BR || (t->cc != CC_EQ && t->cc != CC_NE))
        return;
    for (int s = 0; s < 2; s++) {
        Ins *x = t->a[s], *c = t->a[!s];
        if (!x || x->op != I_BSWAP || !is_const(c) || x->imm != t->cw * 8 || (x->imm != 16 && x->imm != 32))
            continue;
        Ins *k = const_before(t, 0);
        k->w = t->cw;
        uint64_t v = (uint64_t)c->imm;
        k->imm = x->imm == 16 ? (int64_t)__builtin_bswap16((uint16_t)v) : (int64_t)__builtin_bswap32((uint32_t)v);
        t->a[s] = x->a[0];
        t->a[!s] = k;
        return;
    }
}

void ir_fold(IrFunc *f)
{
    cur_func = f;
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            uint64_t v;
            if (foldable(i) && eval(i, &v)) {
                make_const(i, (int64_t)v);
                continue;
            }
            if (simplify(i))
                continue;
            if (fold_offset(i))
                continue;
            if (reassociate(i))
                k++;
        }
        Ins *t = ir_term(bl);
        if (t) {
            fold_swapped_compare(t);
            fold_branch(t);
        }
    }
}
