/* Encoding: blocks in layout order, jumps to the next block removed (a
 * conditional jump is inverted when its target is the next block), then
 * instruction indices, jump offsets, relocations and line info. */
#include "bpf_backend/mir.h"

#include <string.h>

static bool invert(uint8_t *code)
{
    static const uint8_t pairs[][2] = {
        { BPF_JEQ, BPF_JNE }, { BPF_JGT, BPF_JLE }, { BPF_JGE, BPF_JLT },
        { BPF_JSGT, BPF_JSLE }, { BPF_JSGE, BPF_JSLT },
    };
    uint8_t op = BPF_OP(*code);
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++)
        for (int s = 0; s < 2; s++)
            if (pairs[i][s] == op) {
                *code = (uint8_t)((*code & ~0xf0) | pairs[i][!s]);
                return true;
            }
    return false;
}

static bool is_ja(MIns *i) { return i->kind == MK_JUMP && BPF_OP(i->code) == BPF_JA; }

/* A block that is only `ja X` (a split edge whose copies coalesced away)
 * is a trampoline: jumps to it go straight to X. */
static MBlock *through(MBlock *b)
{
    for (int hops = 0; hops < 8 && b->ins.n == 1 && is_ja(&b->ins.v[0]) && b->ins.v[0].target != b; hops++)
        b = b->ins.v[0].target;
    return b;
}

static bool ends_flow(MBlock *b)
{
    if (!b->ins.n)
        return false;
    MIns *last = &b->ins.v[b->ins.n - 1];
    return last->kind == MK_EXIT || is_ja(last);
}

/* Retargets jumps past trampolines, then drops blocks nothing reaches. */
static void thread_jumps(MFunc *m)
{
    for (int p = 0; p < m->layout.n; p++) {
        MBlock *b = m->layout.v[p];
        for (int k = 0; k < b->ins.n; k++)
            if (b->ins.v[k].kind == MK_JUMP)
                b->ins.v[k].target = through(b->ins.v[k].target);
    }
    char *live = xalloc((size_t)m->blocks.n + 1);
    VEC(MBlock *) work = { 0 };
    live[m->layout.v[0]->id] = 1;
    vpush(work, m->layout.v[0]);
    int *pos = xalloc(sizeof(int) * (size_t)(m->blocks.n + 1));
    for (int p = 0; p < m->layout.n; p++)
        pos[m->layout.v[p]->id] = p;
    while (work.n) {
        MBlock *b = work.v[--work.n];
        for (int k = 0; k < b->ins.n; k++) {
            MBlock *t = b->ins.v[k].kind == MK_JUMP ? b->ins.v[k].target : NULL;
            if (t && !live[t->id]) {
                live[t->id] = 1;
                vpush(work, t);
            }
        }
        int p = pos[b->id];
        if (!ends_flow(b) && p + 1 < m->layout.n && !live[m->layout.v[p + 1]->id]) {
            live[m->layout.v[p + 1]->id] = 1;
            vpush(work, m->layout.v[p + 1]);
        }
    }
    int out = 0;
    for (int p = 0; p < m->layout.n; p++)
        if (live[m->layout.v[p]->id])
            m->layout.v[out++] = m->layout.v[p];
    m->layout.n = out;
}

/* Drops jumps that fall through to the next block anyway. */
static void fold_jumps(MFunc *m)
{
    thread_jumps(m);
    for (int p = 0; p < m->layout.n; p++) {
        MBlock *b = m->layout.v[p];
        MBlock *next = p + 1 < m->layout.n ? m->layout.v[p + 1] : NULL;
        int n = b->ins.n;
        if (n && is_ja(&b->ins.v[n - 1]) && b->ins.v[n - 1].target == next) {
            b->ins.n--;
            n--;
            continue;
        }
        if (n >= 2 && is_ja(&b->ins.v[n - 1]) && b->ins.v[n - 2].kind == MK_JUMP && !is_ja(&b->ins.v[n - 2])) {
            MIns *cj = &b->ins.v[n - 2], *ja = &b->ins.v[n - 1];
            if (cj->target == next && invert(&cj->code)) {
                cj->target = ja->target;
                b->ins.n--;
            }
        }
    }
}

static struct bpf_insn encode(MIns *i)
{
    struct bpf_insn x = { 0 };
    x.code = i->code;
    x.dst_reg = (uint8_t)(i->dst >= 0 ? i->dst : 0);
    x.src_reg = (uint8_t)(i->src >= 0 ? i->src : 0);
    x.off = i->off;
    x.imm = (int32_t)i->imm;
    return x;
}

typedef VEC(ObjLine) LineVec;

static void add_line(LineVec *lines, int idx, Pos pos)
{
    if (pos.line <= 0)
        return;
    if (lines->n && lines->v[lines->n - 1].line == pos.line && lines->v[lines->n - 1].col == pos.col)
        return;
    int len;
    const char *text = diag_line_text(pos.file, pos.line, &len);
    ObjLine l = { idx, diag_file_name(pos.file), pos.line, pos.col, xstrndup(text, (size_t)len) };
    vpush(*lines, l);
}

void emit_prog(MFunc *m, ObjProg *out)
{
    fold_jumps(m);
    int *start = xalloc(sizeof(int) * (size_t)(m->blocks.n + 1));
    int idx = 0;
    for (int p = 0; p < m->layout.n; p++) {
        MBlock *b = m->layout.v[p];
        start[b->id] = idx;
        for (int k = 0; k < b->ins.n; k++)
            idx += b->ins.v[k].kind == MK_LDIMM64 ? 2 : 1;
    }
    struct bpf_insn *insns = xalloc(sizeof(struct bpf_insn) * (size_t)(idx ? idx : 1));
    VEC(ObjReloc) relocs = { 0 };
    LineVec lines = { 0 };
    int at = 0;
    for (int p = 0; p < m->layout.n; p++) {
        MBlock *b = m->layout.v[p];
        for (int k = 0; k < b->ins.n; k++) {
            MIns *i = &b->ins.v[k];
            add_line(&lines, at, i->pos);
            insns[at] = encode(i);
            if (i->kind == MK_JUMP) {
                int off = start[i->target->id] - (at + 1);
                if (off < INT16_MIN || off > INT16_MAX)
                    fatal("a jump in '%s' spans more than 32767 instructions", m->ir->name);
                insns[at].off = (int16_t)off;
            }
            if (i->has_reloc)
                vpush(relocs, ((ObjReloc){ at, i->reloc, i->sym }));
            if (i->kind == MK_LDIMM64) {
                insns[at + 1] = (struct bpf_insn){ 0 };
                insns[at + 1].imm = (int32_t)((uint64_t)i->imm >> 32);
                at++;
            }
            at++;
        }
    }
    out->name = m->ir->name;
    out->section = m->ir->section;
    out->insns = insns;
    out->ninsns = idx;
    out->relocs = relocs.v;
    out->nrelocs = relocs.n;
    out->lines = lines.v;
    out->nlines = lines.n;
    out->is_static = m->ir->is_static;
}
