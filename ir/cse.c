/* Local value numbering: within a block, an operation already computed
 * from the same operands is reused (the same global's address, the same
 * pointer arithmetic). Addresses of globals and maps are not kept across
 * a call: reloading one (two instructions) is cheaper than keeping it in
 * R6-R9 or on the stack. Memory reads are never merged. */
#include "ir/ir.h"

#include <string.h>

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

static bool same(Ins *a, Ins *b)
{
    if (a->op != b->op || a->w != b->w || a->imm != b->imm || a->cc != b->cc || a->cw != b->cw)
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

void ir_cse(IrFunc *f)
{
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        InsVec seen = { 0 };
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            if (is_call(i)) {
                int out = 0;
                for (int j = 0; j < seen.n; j++)
                    if (seen.v[j]->op != I_GLOBAL && seen.v[j]->op != I_MAP)
                        seen.v[out++] = seen.v[j];
                seen.n = out;
                continue;
            }
            if (!pure(i))
                continue;
            Ins *prev = NULL;
            for (int j = 0; j < seen.n && !prev; j++)
                if (same(seen.v[j], i))
                    prev = seen.v[j];
            if (!prev) {
                vpush(seen, i);
                continue;
            }
            /* the copy keeps i's provenance; copy propagation removes it */
            i->op = I_COPY;
            i->a[0] = prev;
            i->a[1] = i->a[2] = i->a[3] = NULL;
            i->sym = NULL;
            i->imm = 0;
        }
    }
}
