/* Clean-up after register allocation: moves of a register to itself go,
 * so do masks of values already narrower than the mask; `mov rX, imm`
 * right before a compare of rX that nothing else reads is left to the
 * encoder's jump folding. */
#include "bpf_backend/mir.h"

static bool self_move(MIns *i)
{
    return i->kind == MK_PLAIN && i->code == (BPF_ALU64 | BPF_MOV | BPF_X) && i->dst == i->src && i->off == 0;
}

/* The bits prev can leave set in its destination: an AND with a
 * non-negative constant (ALU32 also clears the upper half) or a narrow
 * load. -1: unknown. */
static int64_t known_mask(MIns *prev)
{
    if (prev->kind != MK_PLAIN)
        return -1;
    if ((prev->code == (BPF_ALU | BPF_AND | BPF_K) || prev->code == (BPF_ALU64 | BPF_AND | BPF_K)) && prev->imm >= 0)
        return prev->imm;
    if (prev->code == (BPF_LDX | BPF_MEM | BPF_B))
        return 0xff;
    if (prev->code == (BPF_LDX | BPF_MEM | BPF_H))
        return 0xffff;
    return -1;
}

/* `r0 &= 255` right after `w0 &= 15` (or a byte load into r0) changes
 * nothing: the zero-extension of a narrow value that is narrow already. */
static bool redundant_mask(MIns *prev, MIns *i)
{
    if (i->kind != MK_PLAIN || i->code != (BPF_ALU64 | BPF_AND | BPF_K) || i->slot >= 0 || prev->dst != i->dst)
        return false;
    int64_t bits = known_mask(prev);
    return bits >= 0 && (bits & ~i->imm) == 0;
}

void peephole(MFunc *m)
{
    for (int b = 0; b < m->blocks.n; b++) {
        MBlock *bl = m->blocks.v[b];
        int out = 0;
        for (int k = 0; k < bl->ins.n; k++) {
            MIns *i = &bl->ins.v[k];
            if (self_move(i) || (out > 0 && redundant_mask(&bl->ins.v[out - 1], i)))
                continue;
            bl->ins.v[out++] = *i;
        }
        bl->ins.n = out;
    }
}
