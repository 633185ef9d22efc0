/* .BTF.ext: func_info (every program and subprogram, so the kernel can
 * check each function against its BTF FUNC) and line_info (file name and
 * source text as BTF strings, for `bpftool prog dump ... linum` and
 * verifier messages). Records are per code section with byte offsets
 * from the section start, as libbpf and the static linker expect. */
#include "elf/internal.h"

#include <bpf/btf.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#define BTF_EXT_MAGIC 0xeB9F

typedef struct ExtHdr {
    uint16_t magic;
    uint8_t version, flags;
    uint32_t hdr_len;
    uint32_t func_info_off, func_info_len;
    uint32_t line_info_off, line_info_len;
    uint32_t core_relo_off, core_relo_len;
} ExtHdr;

typedef struct LineRec { uint32_t insn_off, file_name_off, line_off, line_col; } LineRec;
typedef struct Line { int insn, order; const ObjLine *l; } Line;

static int str_off(Writer *w, const char *s)
{
    int off = btf__add_str(w->btf, s ? s : "");
    return off < 0 ? obj_error("BTF: cannot add a string") : off;
}

static void put32(Buf *b, uint32_t v) { buf_put(b, &v, 4); }

static int cmp_line(const void *a, const void *b)
{
    const Line *x = a, *y = b;
    return x->insn != y->insn ? x->insn - y->insn : x->order - y->order;
}

/* A program's lines sorted by instruction, one per instruction (the last
 * position recorded for it: earlier ones produced no code), the first at
 * instruction 0 since the kernel requires it. A position recorded on the
 * second half of a 64-bit load belongs to the load. */
static int prog_lines(const ObjProg *p, Line *out)
{
    bool *second = xalloc((size_t)p->ninsns + 1);
    for (int i = 0; i + 1 < p->ninsns; i++)
        if (p->insns[i].code == (BPF_LD | BPF_IMM | BPF_DW))
            second[++i] = true;
    int n = 0;
    for (int i = 0; i < p->nlines; i++) {
        int k = p->lines[i].insn;
        if (k < 0 || k >= p->ninsns)
            return obj_error("function '%s': line info at instruction %d of %d", p->name, k,
                             p->ninsns);
        out[n++] = (Line){ second[k] ? k - 1 : k, i, &p->lines[i] };
    }
    qsort(out, (size_t)n, sizeof *out, cmp_line);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m && out[m - 1].insn == out[i].insn)
            m--;
        out[m++] = out[i];
    }
    if (m)
        out[0].insn = 0;
    return m;
}

static int add_line(Writer *w, Buf *b, uint32_t off, const ObjLine *l, const char *file)
{
    int fo = str_off(w, l ? l->file : file), lo = str_off(w, l ? l->text : "");
    if (fo < 0 || lo < 0)
        return -1;
    int line = l && l->line > 0 ? l->line : 0, col = l && l->col > 0 ? l->col : 0;
    LineRec r = { off, (uint32_t)fo, (uint32_t)lo,
                  (uint32_t)line << 10 | (uint32_t)(col > 1023 ? 1023 : col) };
    buf_put(b, &r, sizeof r);
    return 0;
}

static const char *first_file(Obj *o)
{
    for (int i = 0; i < o->nprogs; i++)
        for (int k = 0; k < o->progs[i].nlines; k++)
            if (o->progs[i].lines[k].file)
                return o->progs[i].lines[k].file;
    return NULL;
}

/* One section's line records. A function without lines gets one at its
 * start: after libbpf appends subprograms the kernel wants a line at every
 * function start, and libbpf warns about a program with none. */
static int sec_lines(Writer *w, int sec, Buf *b, const char *file, uint32_t *count)
{
    Obj *o = w->o;
    for (int i = 0; i < o->nprogs; i++) {
        if (w->prog[i].sec != sec)
            continue;
        ObjProg *p = &o->progs[i];
        Line *ls = xalloc(sizeof(Line) * (size_t)(p->nlines + 1));
        int n = prog_lines(p, ls);
        if (n < 0)
            return -1;
        if (!n && add_line(w, b, w->prog[i].off, NULL, file))
            return -1;
        for (int k = 0; k < n; k++)
            if (add_line(w, b, w->prog[i].off + (uint32_t)ls[k].insn * 8, ls[k].l, file))
                return -1;
        *count += n ? (uint32_t)n : 1;
    }
    return 0;
}

static int sec_funcs(Writer *w, int sec, Buf *b, uint32_t *count)
{
    for (int i = 0; i < w->o->nprogs; i++) {
        if (w->prog[i].sec != sec)
            continue;
        put32(b, w->prog[i].off);
        put32(b, (uint32_t)w->func_id[i]);
        (*count)++;
    }
    return 0;
}

/* A func_info or line_info block: record size, then per code section its
 * name, record count and records. */
static int info_block(Writer *w, Buf *out, bool lines)
{
    const char *file = first_file(w->o);
    put32(out, lines ? sizeof(LineRec) : 8);
    for (int s = 0; s < w->secs.n; s++) {
        Sec *sec = w->secs.v[s];
        if (!(sec->flags & SHF_EXECINSTR))
            continue;
        int name = str_off(w, sec->name);
        if (name < 0)
            return -1;
        Buf recs = { 0 };
        uint32_t count = 0;
        if (lines ? sec_lines(w, s, &recs, file, &count) : sec_funcs(w, s, &recs, &count))
            return -1;
        if (!count)
            continue;
        put32(out, (uint32_t)name);
        put32(out, count);
        buf_put(out, recs.p, recs.n);
    }
    return 0;
}

int btfext_build(Writer *w, Buf *out)
{
    if (!w->o->nprogs)
        return 0;
    Buf fi = { 0 }, li = { 0 };
    if (info_block(w, &fi, false) || info_block(w, &li, true))
        return -1;
    ExtHdr h = { BTF_EXT_MAGIC, 1, 0, sizeof(ExtHdr), 0, (uint32_t)fi.n, (uint32_t)fi.n,
                 (uint32_t)li.n, (uint32_t)(fi.n + li.n), 0 };
    buf_put(out, &h, sizeof h);
    buf_put(out, fi.p, fi.n);
    buf_put(out, li.p, li.n);
    return 0;
}
