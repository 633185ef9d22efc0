/* The stack frame: every slot (locals, temporaries, spills) at an 8-byte
 * aligned offset below R10, within the 512 bytes BPF gives a frame. */
#include "bpf_backend/mir.h"

#include <stdlib.h>

#define BPF_STACK 512

static int by_size_desc(const void *a, const void *b)
{
    const Slot *x = *(const Slot *const *)a, *y = *(const Slot *const *)b;
    return y->size - x->size;
}

/* The error names the largest locals: they are what a user can move. */
static void report_frame(MFunc *m, int size)
{
    Func *src = m->ir->src;
    error_at(src ? src->pos : (Pos){ 0 }, "the stack frame of '%s' needs %d bytes, more than the %d-byte BPF stack",
             m->ir->name, size, BPF_STACK);
    Slot **sorted = xalloc(sizeof(Slot *) * (size_t)m->slots.n);
    for (int i = 0; i < m->slots.n; i++)
        sorted[i] = &m->slots.v[i];
    qsort(sorted, (size_t)m->slots.n, sizeof(Slot *), by_size_desc);
    for (int i = 0, shown = 0; i < m->slots.n && shown < 3; i++) {
        if (!sorted[i]->var)
            continue;
        note_at(sorted[i]->var->pos, "'%s' takes %d bytes", sorted[i]->var->name, sorted[i]->size);
        shown++;
    }
    help("move large locals into a per-CPU array map (percpu_array<u32, T>(1)) and use its entry");
}

bool frame_layout(MFunc *m)
{
    int off = 0;
    for (int i = 0; i < m->slots.n; i++) {
        Slot *s = &m->slots.v[i];
        off += (s->size + 7) & ~7;
        s->offset = -off;
    }
    m->frame_size = off;
    if (off > BPF_STACK) {
        report_frame(m, off);
        return false;
    }
    for (int b = 0; b < m->blocks.n; b++)
        for (int k = 0; k < m->blocks.v[b]->ins.n; k++) {
            MIns *i = &m->blocks.v[b]->ins.v[k];
            if (i->slot < 0)
                continue;
            if (i->slot_imm)
                i->imm += m->slots.v[i->slot].offset;
            else
                i->off = (int16_t)(i->off + m->slots.v[i->slot].offset);
            i->slot = -1;
        }
    return true;
}
