/* Instruction selection: SSA IR to BPF over virtual registers. Values of
 * 1, 2 and 4 bytes are computed with 32-bit instructions (which clear the
 * upper half for free), 8-byte values with 64-bit ones; compares of 4-byte
 * values use JMP32. Bits above a value's width are only cleared where an
 * operation reads them (compare, divide, shift right, widen), and not
 * even there when the defining instruction is known to leave them zero.
 * Phis become copies at the end of each predecessor (critical edges were
 * split); constants fold into immediates or are materialised at each use,
 * which keeps their live ranges short. */
#include "bpf_backend/mir.h"

#include <string.h>

typedef struct Sel {
    MFunc *m;
    IrFunc *f;
    MBlock *cur;
    MBlock **of;            /* IR block id -> first MBlock */
    uint8_t *zx;            /* IR value id -> bytes that may be non-zero */
    int next_vreg;
    Pos pos;
} Sel;

static Sel S;

/* ---- emitting ---------------------------------------------------------- */

static MIns *put(MIns i)
{
    i.pos = S.pos;
    if (i.slot == 0 && !i.slot_imm && i.kind != MK_PLAIN)
        i.slot = -1;
    vpush(S.cur->ins, i);
    return &S.cur->ins.v[S.cur->ins.n - 1];
}

static MIns mk(uint8_t code, int dst, int src, int16_t off, int64_t imm)
{
    return (MIns){ .kind = MK_PLAIN, .code = code, .dst = dst, .src = src, .off = off, .imm = imm, .slot = -1 };
}

static int new_vreg(void) { return S.next_vreg++; }
static int vreg(Ins *i) { return VREG0 + i->id; }

static uint8_t alu_class(int w) { return w == 8 ? BPF_ALU64 : BPF_ALU; }

static void mov_reg(int dst, int src, bool wide)
{
    put(mk((wide ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X, dst, src, 0, 0));
}

static void ldimm64(int dst, int64_t v)
{
    MIns i = mk(BPF_LD | BPF_DW | BPF_IMM, dst, 0, 0, v);
    i.kind = MK_LDIMM64;
    put(i);
}

static bool fits32(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

static uint64_t mask_of(int w) { return w >= 8 ? UINT64_MAX : ((1ULL << (w * 8)) - 1); }

/* A constant's value as a register of width w holds it (zero-extended). */
static int64_t const_for(Ins *c, int w)
{
    return w >= 8 ? c->imm : (int64_t)((uint64_t)c->imm & mask_of(w));
}

static void mov_imm(int dst, int64_t v, int w)
{
    if (w < 8) {
        put(mk(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)(uint32_t)v));
    } else if (fits32(v)) {
        put(mk(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, v));
    } else if (v >= 0 && v <= UINT32_MAX) {
        put(mk(BPF_ALU | BPF_MOV | BPF_K, dst, 0, 0, (int32_t)(uint32_t)v));
    } else {
        ldimm64(dst, v);
    }
}

/* The address of a stack slot: r = r10 + offset. */
static void slot_address(int dst, int slot, int64_t extra)
{
    mov_reg(dst, FP, true);
    MIns a = mk(BPF_ALU64 | BPF_ADD | BPF_K, dst, 0, 0, extra);
    a.slot = slot;
    a.slot_imm = true;
    put(a);
}

/* The register holding v at this point (constants and slots are
 * materialised here). */
static int R(Ins *v)
{
    if (v->op == I_CONST) {
        int r = new_vreg();
        mov_imm(r, const_for(v, v->w), v->w);
        return r;
    }
    if (v->op == I_SLOT) {
        int r = new_vreg();
        slot_address(r, (int)v->imm, 0);
        return r;
    }
    return vreg(v);
}

static bool is_imm(Ins *v, int w)
{
    return v && v->op == I_CONST && (w < 8 || fits32(v->imm));
}

/* ---- widths ------------------------------------------------------------ */

static int zx(Ins *v)
{
    if (v->op == I_CONST)
        return v->w < 8 ? v->w : ((uint64_t)v->imm <= 0xff ? 1 : (uint64_t)v->imm <= 0xffff ? 2
                                  : (uint64_t)v->imm <= 0xffffffff ? 4 : 8);
    return S.zx[v->id];
}

/* Known zero-extension of each result, to a fixed point over phis. */
static int zx_of(Ins *i)
{
    switch (i->op) {
    case I_CONST: return zx(i);
    case I_LOAD: return i->mw;
    case I_SETCC: return 1;
    case I_ZEXT: return zx(i->a[0]) < i->imm ? zx(i->a[0]) : (int)i->imm;
    case I_BSWAP: return (int)i->imm / 8;
    case I_AND: {
        int a = zx(i->a[0]), b = zx(i->a[1]);
        int m = a < b ? a : b;
        /* (m <= w would be exact; the explicit mask it saves turns out to
         * help the verifier prune loops over spilled values: an ALU op
         * gives the value a fresh id, so a compare does not narrow the
         * spilled copy) */
        return m < i->w ? m : (i->w < 4 ? 4 : i->w);
    }
    case I_SHR: case I_UDIV: case I_UMOD:
        return i->w <= 4 ? i->w : 8;
    case I_COPY:
        return zx(i->a[0]);
    case I_PHI: {
        int m = 1;
        for (int k = 0; k < i->nargs; k++)
            if (i->args[k] && i->args[k] != i && zx(i->args[k]) > m)
                m = zx(i->args[k]);
        return m;
    }
    case I_ADD: case I_SUB: case I_MUL: case I_OR: case I_XOR: case I_SHL: case I_NEG: case I_NOT:
    case I_SAR: case I_SDIV: case I_SMOD: case I_SEXT:
        return i->w == 4 ? 4 : 8;
    default:
        return 8;
    }
}

static void compute_zx(IrFunc *f)
{
    S.zx = xalloc((size_t)f->nvals + 1);
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            S.zx[i->id] = i->op == I_PHI ? 1 : 8;
        }
    for (int round = 0; round < 32; round++) {
        bool changed = false;
        for (int b = 0; b < f->blocks.n; b++)
            for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
                Ins *i = f->blocks.v[b]->ins.v[k];
                int z = zx_of(i);
                if (z != S.zx[i->id]) {
                    S.zx[i->id] = (uint8_t)z;
                    changed = true;
                }
            }
        if (!changed)
            break;
    }
}

/* A register with v zero-extended from w bytes (a fresh one if needed). */
static int zext_reg(Ins *v, int w)
{
    if (v->op == I_CONST) {
        int r = new_vreg();
        mov_imm(r, (int64_t)((uint64_t)v->imm & mask_of(w)), w);
        return r;
    }
    int src = R(v);
    if (w >= 8 || zx(v) <= w)
        return src;
    int r = new_vreg();
    if (w == 4) {
        mov_reg(r, src, false);
    } else {
        mov_reg(r, src, true);
        put(mk(BPF_ALU64 | BPF_AND | BPF_K, r, 0, 0, (int64_t)mask_of(w)));
    }
    return r;
}

/* v sign-extended from w bytes into `to` bytes (to is 4 or 8). */
static int sext_reg(Ins *v, int w, int to)
{
    int r = new_vreg();
    if (v->op == I_CONST) {
        int sh = 64 - 8 * w;
        int64_t x = w >= 8 ? v->imm : (int64_t)((uint64_t)v->imm << sh) >> sh;
        mov_imm(r, to == 8 ? x : (int64_t)(uint32_t)x, to);
        return r;
    }
    int src = R(v);
    if (w >= to) {      /* nothing to extend */
        mov_reg(r, src, true);
        return r;
    }
    if (S.m->cpu >= 4) {
        MIns mv = mk((to == 8 ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_X, r, src, (int16_t)(w * 8), 0);
        put(mv);
        return r;
    }
    int bits = to * 8, sh = bits - w * 8;
    uint8_t cls = to == 8 ? BPF_ALU64 : BPF_ALU;
    mov_reg(r, src, true);     /* the 32-bit shifts clear the upper half */
    if (sh) {
        put(mk(cls | BPF_LSH | BPF_K, r, 0, 0, sh));
        put(mk(cls | BPF_ARSH | BPF_K, r, 0, 0, sh));
    }
    return r;
}

/* ---- arithmetic -------------------------------------------------------- */

static uint8_t alu_op(IrOp op)
{
    switch (op) {
    case I_ADD: return BPF_ADD;
    case I_SUB: return BPF_SUB;
    case I_MUL: return BPF_MUL;
    case I_UDIV: return BPF_DIV;
    case I_UMOD: return BPF_MOD;
    case I_AND: return BPF_AND;
    case I_OR: return BPF_OR;
    case I_XOR: return BPF_XOR;
    case I_SHL: return BPF_LSH;
    case I_SHR: return BPF_RSH;
    case I_SAR: return BPF_ARSH;
    default: return BPF_ADD;
    }
}

static bool commutative(IrOp op) { return op == I_ADD || op == I_MUL || op == I_AND || op == I_OR || op == I_XOR; }

/* d = a OP b at width w, two-address style: mov d, a; op d, b. */
static void alu(int d, IrOp op, int w, int a, Ins *b)
{
    uint8_t cls = alu_class(w);
    /* a 64-bit copy coalesces away; a 32-bit op clears the upper half */
    mov_reg(d, a, true);
    if (b && is_imm(b, w))
        put(mk(cls | alu_op(op) | BPF_K, d, 0, 0, (int32_t)const_for(b, w)));
    else
        put(mk(cls | alu_op(op) | BPF_X, d, R(b), 0, 0));
}

static void shift(Ins *i)
{
    int w = i->w, d = vreg(i);
    int bits = w * 8;
    Ins *a = i->a[0], *b = i->a[1];
    int src;
    if (i->op == I_SHR)
        src = zext_reg(a, w);
    else if (i->op == I_SAR && w < 4)
        src = sext_reg(a, w, 4);
    else
        src = R(a);
    uint8_t cls = alu_class(w);
    mov_reg(d, src, true);
    if (b->op == I_CONST) {
        int64_t n = (int64_t)((uint64_t)b->imm % (uint64_t)bits);
        if (n)
            put(mk(cls | alu_op(i->op) | BPF_K, d, 0, 0, n));
        else if (w < 8)
            mov_reg(d, d, false);
        return;
    }
    int cnt = R(b);
    if (w < 4) {   /* the BPF rule masks by 31/63; narrower widths by their own */
        int c = new_vreg();
        mov_reg(c, cnt, true);
        put(mk(BPF_ALU | BPF_AND | BPF_K, c, 0, 0, bits - 1));
        cnt = c;
    }
    put(mk(cls | alu_op(i->op) | BPF_X, d, cnt, 0, 0));
}

/* Signed division and modulo truncate toward zero. cpu v4 has them;
 * for v3, divide the magnitudes and restore the sign, without branches:
 * s = x >> 63 (all ones when negative), |x| = (x ^ s) - s. */
static void signed_divmod(Ins *i)
{
    int w = i->w, d = vreg(i);
    bool mod = i->op == I_SMOD;
    if (S.m->cpu >= 4) {
        int a = w == 8 ? R(i->a[0]) : sext_reg(i->a[0], w, 4);
        uint8_t cls = alu_class(w < 4 ? 4 : w);
        mov_reg(d, a, true);
        Ins *bv = i->a[1];
        if (bv->op == I_CONST && (w == 8 ? fits32(bv->imm) : true)) {
            int sh = 64 - 8 * (w < 4 ? w : (w == 8 ? 8 : 4));
            int64_t k = sh ? (int64_t)((uint64_t)bv->imm << sh) >> sh : bv->imm;
            put(mk(cls | (mod ? BPF_MOD : BPF_DIV) | BPF_K, d, 0, 1, (int32_t)k));
            return;
        }
        int b = w == 8 ? R(bv) : sext_reg(bv, w, 4);
        put(mk(cls | (mod ? BPF_MOD : BPF_DIV) | BPF_X, d, b, 1, 0));
        return;
    }
    int a = w == 8 ? R(i->a[0]) : sext_reg(i->a[0], w, 8);
    int b = w == 8 ? R(i->a[1]) : sext_reg(i->a[1], w, 8);
    int sa = new_vreg(), sb = new_vreg(), ua = new_vreg(), ub = new_vreg();
    mov_reg(sa, a, true);
    put(mk(BPF_ALU64 | BPF_ARSH | BPF_K, sa, 0, 0, 63));
    mov_reg(ua, a, true);
    put(mk(BPF_ALU64 | BPF_XOR | BPF_X, ua, sa, 0, 0));
    put(mk(BPF_ALU64 | BPF_SUB | BPF_X, ua, sa, 0, 0));
    mov_reg(sb, b, true);
    put(mk(BPF_ALU64 | BPF_ARSH | BPF_K, sb, 0, 0, 63));
    mov_reg(ub, b, true);
    put(mk(BPF_ALU64 | BPF_XOR | BPF_X, ub, sb, 0, 0));
    put(mk(BPF_ALU64 | BPF_SUB | BPF_X, ub, sb, 0, 0));
    put(mk(BPF_ALU64 | (mod ? BPF_MOD : BPF_DIV) | BPF_X, ua, ub, 0, 0));
    int s = sa;
    if (!mod) {
        s = new_vreg();
        mov_reg(s, sa, true);
        put(mk(BPF_ALU64 | BPF_XOR | BPF_X, s, sb, 0, 0));
    }
    /* the last steps at the value's own width keep the upper half clear */
    uint8_t cls = alu_class(w < 8 ? 4 : 8);
    mov_reg(d, ua, true);
    put(mk(cls | BPF_XOR | BPF_X, d, s, 0, 0));
    put(mk(cls | BPF_SUB | BPF_X, d, s, 0, 0));
}

static void binary(Ins *i)
{
    Ins *a = i->a[0], *b = i->a[1];
    int w = i->w;
    switch (i->op) {
    case I_SHL: case I_SHR: case I_SAR: shift(i); return;
    case I_SDIV: case I_SMOD: signed_divmod(i); return;
    case I_UDIV: case I_UMOD:
        if (w < 4) {
            int ra = zext_reg(a, w);
            int rb = b->op == I_CONST ? -1 : zext_reg(b, w);
            mov_reg(vreg(i), ra, true);
            if (rb < 0)
                put(mk(BPF_ALU | alu_op(i->op) | BPF_K, vreg(i), 0, 0, (int32_t)const_for(b, w)));
            else
                put(mk(BPF_ALU | alu_op(i->op) | BPF_X, vreg(i), rb, 0, 0));
            return;
        }
        alu(vreg(i), i->op, w, R(a), b);
        return;
    default:
        if (commutative(i->op) && a->op == I_CONST && b->op != I_CONST) {
            Ins *t = a;
            a = b;
            b = t;
        }
        alu(vreg(i), i->op, w, R(a), b);
    }
}

/* ---- blocks and control flow ------------------------------------------- */

static MBlock *new_mblock(int depth)
{
    MBlock *b = xalloc(sizeof(MBlock));
    b->id = S.m->blocks.n;
    b->loop_depth = depth;
    vpush(S.m->blocks, b);
    return b;
}

static void link(MBlock *from, MBlock *to)
{
    from->succ[from->nsucc++] = to;
    vpush(to->preds, from);
}

static uint8_t jmp_op(Cond cc)
{
    switch (cc) {
    case CC_EQ: return BPF_JEQ;
    case CC_NE: return BPF_JNE;
    case CC_ULT: return BPF_JLT;
    case CC_ULE: return BPF_JLE;
    case CC_UGT: return BPF_JGT;
    case CC_UGE: return BPF_JGE;
    case CC_SLT: return BPF_JSLT;
    case CC_SLE: return BPF_JSLE;
    case CC_SGT: return BPF_JSGT;
    case CC_SGE: return BPF_JSGE;
    default: return BPF_JSET;
    }
}

/* A compare-and-jump: operands normalised to the compare width. */
static void cond_jump(Cond cc, int cw, Ins *a, Ins *b, MBlock *target)
{
    if (a->op == I_CONST && b->op != I_CONST) {
        Ins *t = a;
        a = b;
        b = t;
        cc = cond_swap(cc);
    }
    bool sign = cond_signed(cc);
    uint8_t cls = cw == 8 ? BPF_JMP : BPF_JMP32;
    int ra;
    if (cw < 4)
        ra = sign ? sext_reg(a, cw, 4) : zext_reg(a, cw);
    else
        ra = R(a);
    MIns j;
    if (b->op == I_CONST && (cw < 8 || fits32(b->imm))) {
        int64_t k = b->imm;
        if (cw < 8) {
            int sh = 64 - 8 * cw;
            k = sign ? (int64_t)((uint64_t)k << sh) >> sh : (int64_t)((uint64_t)k & mask_of(cw));
            k = (int32_t)k;
        }
        j = mk(cls | jmp_op(cc) | BPF_K, ra, 0, 0, k);
    } else {
        int rb = cw < 4 ? (sign ? sext_reg(b, cw, 4) : zext_reg(b, cw)) : R(b);
        j = mk(cls | jmp_op(cc) | BPF_X, ra, rb, 0, 0);
    }
    j.kind = MK_JUMP;
    j.target = target;
    put(j);
}

static void goto_block(MBlock *target)
{
    MIns j = mk(BPF_JMP | BPF_JA, 0, 0, 0, 0);
    j.kind = MK_JUMP;
    j.target = target;
    j.dst = j.src = NO_REG;
    put(j);
}

/* 0/1 from a compare: a small diamond, so spill code stays correct. */
static void setcc(Ins *i)
{
    MBlock *no = new_mblock(S.cur->loop_depth), *join = new_mblock(S.cur->loop_depth);
    vpush(S.m->layout, no);
    vpush(S.m->layout, join);
    int d = vreg(i);
    mov_imm(d, 1, 4);
    cond_jump(i->cc, i->cw, i->a[0], i->a[1], join);
    MBlock *from = S.cur;
    link(from, join);
    link(from, no);
    S.cur = no;
    mov_imm(d, 0, 4);
    link(no, join);
    S.cur = join;
}

/* Phi copies on the edge from this block to `to`, made parallel: a copy
 * whose destination another copy still reads goes through a temporary. */
static void phi_copies(Block *from, Block *to)
{
    int k = 0;
    while (k < to->preds.n && to->preds.v[k] != from)
        k++;
    if (k == to->preds.n)
        return;
    int n = 0;
    for (int j = 0; j < to->ins.n && to->ins.v[j]->op == I_PHI; j++)
        n++;
    if (!n)
        return;
    int *tmp = xalloc(sizeof(int) * (size_t)n);
    for (int j = 0; j < n; j++) {
        Ins *phi = to->ins.v[j], *arg = phi->args[k];
        tmp[j] = -1;
        if (!arg || arg == phi || arg->op == I_CONST || arg->op == I_SLOT)
            continue;
        tmp[j] = new_vreg();
        mov_reg(tmp[j], R(arg), true);
    }
    for (int j = 0; j < n; j++) {
        Ins *phi = to->ins.v[j], *arg = phi->args[k];
        if (!arg || arg == phi)
            continue;
        if (tmp[j] >= 0)
            mov_reg(vreg(phi), tmp[j], true);
        else if (arg->op == I_CONST)
            mov_imm(vreg(phi), const_for(arg, phi->w), phi->w);
        else
            slot_address(vreg(phi), (int)arg->imm, 0);
    }
}

/* A branch on (x & C) == 0 or != 0 whose AND nothing else uses. */
static bool jset_and(Ins *t)
{
    if (t->op != I_BR || (t->cc != CC_EQ && t->cc != CC_NE) || !t->a[1] || t->a[1]->op != I_CONST
        || t->a[1]->imm != 0)
        return false;
    Ins *a = t->a[0];
    return a->op == I_AND && a->uses == 1 && a->w == t->cw && a->a[1]->op == I_CONST
        && (a->w < 8 || fits32(a->a[1]->imm)) && a->a[0]->op != I_CONST;
}

static void terminator(Block *b, Ins *t)
{
    if (t->op == I_RET) {
        if (t->a[0])
            mov_reg(0, t->a[0]->w < 8 ? zext_reg(t->a[0], t->a[0]->w) : R(t->a[0]), true);
        else
            put(mk(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
        MIns e = mk(BPF_JMP | BPF_EXIT, NO_REG, NO_REG, 0, 0);
        e.kind = MK_EXIT;
        put(e);
        return;
    }
    if (t->op == I_JMP) {
        phi_copies(b, t->succ[0]);
        MBlock *to = S.of[t->succ[0]->id];
        goto_block(to);
        link(S.cur, to);
        return;
    }
    MBlock *tb = S.of[t->succ[0]->id], *fb = S.of[t->succ[1]->id];
    if (jset_and(t)) {
        /* (x & C) != 0 is `if x & C goto`: BPF's jset */
        Ins *and = t->a[0];
        if (t->cc == CC_EQ) {
            MBlock *x = tb;
            tb = fb;
            fb = x;
        }
        int w = and->w;
        MIns j = mk((w == 8 ? BPF_JMP : BPF_JMP32) | BPF_JSET | BPF_K, R(and->a[0]), 0, 0,
                    (int32_t)const_for(and->a[1], w));
        j.kind = MK_JUMP;
        j.target = tb;
        put(j);
        goto_block(fb);
        link(S.cur, tb);
        link(S.cur, fb);
        return;
    }
    cond_jump(t->cc, t->cw, t->a[0], t->a[1], tb);
    goto_block(fb);
    link(S.cur, tb);
    link(S.cur, fb);
}

/* ---- memory and calls ------------------------------------------------ */

static uint8_t size_code(int mw)
{
    return mw == 1 ? BPF_B : mw == 2 ? BPF_H : mw == 4 ? BPF_W : BPF_DW;
}

/* Base register and offset of an access; slots address through R10. */
static int mem_base(Ins *base, int64_t *off, int *slot)
{
    *slot = -1;
    if (base->op == I_SLOT) {
        *slot = (int)base->imm;
        return FP;
    }
    if (*off < INT16_MIN || *off > INT16_MAX) {
        int r = new_vreg();
        mov_reg(r, R(base), true);
        put(mk(BPF_ALU64 | BPF_ADD | BPF_K, r, 0, 0, *off));
        *off = 0;
        return r;
    }
    return R(base);
}

static void load(Ins *i)
{
    int64_t off = i->imm;
    int slot;
    int base = mem_base(i->a[0], &off, &slot);
    MIns l = mk(BPF_LDX | BPF_MEM | size_code(i->mw), vreg(i), base, (int16_t)off, 0);
    l.slot = slot;
    put(l);
}

static void store(Ins *i)
{
    int64_t off = i->imm;
    int slot;
    Ins *v = i->a[1];
    int val = -1;
    if (!(v->op == I_CONST && (i->mw < 8 || fits32(v->imm))))
        val = R(v);
    int base = mem_base(i->a[0], &off, &slot);
    MIns s;
    if (val < 0)
        s = mk(BPF_ST | BPF_MEM | size_code(i->mw), base, 0, (int16_t)off, (int32_t)const_for(v, i->mw));
    else
        s = mk(BPF_STX | BPF_MEM | size_code(i->mw), base, val, (int16_t)off, 0);
    s.slot = slot;
    put(s);
}

static void atomic_add(Ins *i)
{
    int64_t off = i->imm;
    int slot;
    int val = R(i->a[1]);
    int base = mem_base(i->a[0], &off, &slot);
    MIns s = mk(BPF_STX | BPF_ATOMIC | size_code(i->mw), base, val, (int16_t)off, BPF_ADD);
    s.slot = slot;
    put(s);
}

static void reloc_ldimm(int dst, uint8_t pseudo, ObjReloKind kind, const char *sym, int64_t imm)
{
    MIns l = mk(BPF_LD | BPF_DW | BPF_IMM, dst, pseudo, 0, imm);
    l.kind = MK_LDIMM64;
    l.has_reloc = true;
    l.reloc = kind;
    l.sym = sym;
    put(l);
}

/* Arguments into R1-R5 (scalars of 1-2 bytes zero-extended: helpers read
 * whole registers), the call, and R0 into the result. */
static void call(Ins *i)
{
    bool helper = i->op == I_CALL_HELPER;
    int regs[5];
    for (int k = 0; k < i->nargs && k < 5; k++) {
        Ins *a = i->args[k];
        regs[k] = helper && a->w < 4 && !a->prov ? zext_reg(a, a->w) : R(a);
    }
    for (int k = 0; k < i->nargs && k < 5; k++)
        mov_reg(1 + k, regs[k], true);
    MIns c = mk(BPF_JMP | BPF_CALL, NO_REG, 0, 0, helper ? i->imm : -1);
    c.kind = MK_CALL;
    c.nargs = i->nargs;
    if (i->op == I_CALL) {
        c.src = BPF_PSEUDO_CALL;
        c.has_reloc = true;
        c.reloc = RELO_CALL;
        c.sym = i->sym;
    } else if (i->op == I_CALL_KFUNC) {
        c.src = BPF_PSEUDO_KFUNC_CALL;
        c.imm = 0;
        c.has_reloc = true;
        c.reloc = RELO_KFUNC;
        c.sym = i->sym;
    }
    put(c);
    if (i->w)
        mov_reg(vreg(i), 0, true);
}

static void tail_call(Ins *i)
{
    int ctx = R(i->a[0]);
    int map = R(i->a[1]);
    mov_reg(1, ctx, true);
    mov_reg(2, map, true);
    put(mk(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, i->imm));
    MIns c = mk(BPF_JMP | BPF_CALL, NO_REG, 0, 0, BPF_FUNC_tail_call);
    c.kind = MK_CALL;
    c.nargs = 3;
    put(c);
}

static void ext(Ins *i)
{
    int from = (int)i->imm, d = vreg(i);
    if (i->op == I_ZEXT) {
        mov_reg(d, zext_reg(i->a[0], from), true);
        return;
    }
    if (from >= i->w) {
        mov_reg(d, R(i->a[0]), true);
        return;
    }
    mov_reg(d, sext_reg(i->a[0], from, i->w < 8 ? 4 : 8), true);
}

static void select_ins(Ins *i)
{
    S.pos = i->pos;
    switch (i->op) {
    case I_CONST: case I_SLOT: case I_PHI: case I_NOP:
        return;             /* materialised where used */
    case I_AND:
        if (i->aux)         /* folded into a jset */
            return;
        binary(i);
        return;
    case I_ARG:
        mov_reg(vreg(i), 1 + (int)i->imm, true);
        return;
    case I_COPY:
        mov_reg(vreg(i), R(i->a[0]), true);
        return;
    case I_NEG: case I_NOT: {
        int w = i->w;
        mov_reg(vreg(i), R(i->a[0]), true);
        if (i->op == I_NEG)
            put(mk(alu_class(w) | BPF_NEG, vreg(i), 0, 0, 0));
        else
            put(mk(alu_class(w) | BPF_XOR | BPF_K, vreg(i), 0, 0, -1));
        return;
    }
    case I_BSWAP:
        mov_reg(vreg(i), R(i->a[0]), true);
        put(mk(BPF_ALU | BPF_END | BPF_TO_BE, vreg(i), 0, 0, i->imm));
        return;
    case I_ZEXT: case I_SEXT: ext(i); return;
    case I_SETCC: setcc(i); return;
    case I_LOAD: load(i); return;
    case I_STORE: store(i); return;
    case I_ATOMIC_ADD: atomic_add(i); return;
    case I_MAP: reloc_ldimm(vreg(i), BPF_PSEUDO_MAP_FD, RELO_MAP, i->sym, 0); return;
    case I_GLOBAL: reloc_ldimm(vreg(i), BPF_PSEUDO_MAP_VALUE, RELO_DATA, i->sym, i->imm); return;
    case I_FUNC_ADDR: reloc_ldimm(vreg(i), BPF_PSEUDO_FUNC, RELO_CALL, i->sym, 0); return;
    case I_CALL_HELPER: case I_CALL: case I_CALL_KFUNC: call(i); return;
    case I_TAIL_CALL: tail_call(i); return;
    default:
        binary(i);
        return;
    }
}

MFunc *isel(IrFunc *f, int cpu)
{
    memset(&S, 0, sizeof S);
    MFunc *m = xalloc(sizeof(MFunc));
    m->ir = f;
    m->cpu = cpu;
    for (int i = 0; i < f->slots.n; i++)
        vpush(m->slots, f->slots.v[i]);
    S.m = m;
    S.f = f;
    S.next_vreg = VREG0 + f->nvals;
    compute_zx(f);
    ir_count_uses(f);
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++)
            f->blocks.v[b]->ins.v[k]->aux = NULL;
    for (int b = 0; b < f->blocks.n; b++) {
        Ins *t = ir_term(f->blocks.v[b]);
        if (t && jset_and(t))
            t->a[0]->aux = t;
    }
    S.of = xalloc(sizeof(MBlock *) * (size_t)f->blocks.n);
    for (int b = 0; b < f->blocks.n; b++)
        S.of[b] = new_mblock(f->blocks.v[b]->loop_depth);
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        S.cur = S.of[b];
        vpush(m->layout, S.cur);
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            if (ir_is_term(i)) {
                S.pos = i->pos;
                terminator(bl, i);
            } else {
                select_ins(i);
            }
        }
    }
    m->nregs = S.next_vreg;
    return m;
}
