/* Clean-up after register allocation: moves of a register to itself go,
 * and `mov rX, imm` right before a compare of rX that nothing else reads
 * is left to the encoder's jump folding. */
#include "bpf_backend/mir.h"

static bool self_move(MIns *i)
{
    return i->kind == MK_PLAIN && i->code == (BPF_ALU64 | BPF_MOV | BPF_X) && i->dst == i->src && i->off == 0;
}

void peephole(MFunc *m)
{
    for (int b = 0; b < m->blocks.n; b++) {
        MBlock *bl = m->blocks.v[b];
        int out = 0;
        for (int k = 0; k < bl->ins.n; k++) {
            MIns *i = &bl->ins.v[k];
            if (self_move(i))
                continue;
            bl->ins.v[out++] = *i;
        }
        bl->ins.n = out;
    }
}
