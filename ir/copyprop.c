/* Copy propagation: uses of a copy, and of a phi whose operands are all
 * one value (or the phi itself), are replaced by that value. Operations
 * read only the low bytes their own width names, so a narrowing copy
 * propagates as well. */
#include "ir/ir.h"

/* Follows forwarding links left in aux by earlier replacements. */
static Ins *target(Ins *i)
{
    while (i && i->aux)
        i = i->aux;
    return i;
}

static Ins *trivial_phi_value(Ins *phi)
{
    Ins *same = NULL;
    for (int k = 0; k < phi->nargs; k++) {
        Ins *a = target(phi->args[k]);
        if (a == phi || a == same)
            continue;
        if (same)
            return NULL;
        same = a;
    }
    return same;
}

static bool forwardable_copy(Ins *i)
{
    /* A pointer cast changes what the verifier may assume only through
     * provenance, which a copy keeps; an integer view of a pointer keeps
     * the pointer (the value is the same register). */
    return i->op == I_COPY && i->a[0];
}

void ir_copyprop(IrFunc *f)
{
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++)
            f->blocks.v[b]->ins.v[k]->aux = NULL;
    for (bool changed = true; changed;) {
        changed = false;
        for (int b = 0; b < f->blocks.n; b++) {
            Block *bl = f->blocks.v[b];
            for (int k = 0; k < bl->ins.n; k++) {
                Ins *i = bl->ins.v[k];
                if (i->aux)
                    continue;
                Ins *to = NULL;
                if (i->op == I_PHI)
                    to = trivial_phi_value(i);
                else if (forwardable_copy(i) && i->a[0]->w >= i->w)
                    to = target(i->a[0]);
                if (to && to != i) {
                    if (i->op == I_PHI && i->prov && !to->prov)
                        continue;
                    i->aux = to;
                    changed = true;
                }
            }
        }
    }
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        int out = 0;
        for (int k = 0; k < bl->ins.n; k++) {
            Ins *i = bl->ins.v[k];
            for (int j = 0; j < 4; j++)
                i->a[j] = target(i->a[j]);
            for (int j = 0; j < i->nargs; j++)
                i->args[j] = target(i->args[j]);
            if (!i->aux)
                bl->ins.v[out++] = i;
        }
        bl->ins.n = out;
    }
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++)
            f->blocks.v[b]->ins.v[k]->aux = NULL;
}
