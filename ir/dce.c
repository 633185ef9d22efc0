/* Dead code elimination: values nobody uses and that have no effect. */
#include "ir/ir.h"

void ir_dce(IrFunc *f)
{
    for (bool changed = true; changed;) {
        changed = false;
        ir_count_uses(f);
        for (int b = 0; b < f->blocks.n; b++) {
            Block *bl = f->blocks.v[b];
            int out = 0;
            for (int k = 0; k < bl->ins.n; k++) {
                Ins *i = bl->ins.v[k];
                bool dead = i->uses == 0 && !ir_has_effect(i) && i->op != I_ARG;
                if (dead && i->op == I_PHI) {
                    dead = true;
                }
                if (dead) {
                    changed = true;
                    continue;
                }
                bl->ins.v[out++] = i;
            }
            bl->ins.n = out;
        }
    }
}
