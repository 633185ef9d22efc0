/* The ELF64 relocatable writer. Lays the Obj out the way clang does for
 * the BPF target: code sections first (.text, then one per program
 * section), data (.data, .rodata), .maps, .struct_ops, .bss, license,
 * .BTF, .BTF.ext, .symtab; each .rel<sec> right after its section, and one
 * .strtab (index 1) holding both section and symbol names. */
#include "elf/internal.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the object writer emits little-endian BPF and copies host structs as is"
#endif

#ifndef EM_BPF
#define EM_BPF 247
#endif
#define R_BPF_64_64 1
#define R_BPF_64_ABS64 2
#define R_BPF_64_32 10

int obj_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ksc: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return -1;
}

void buf_put(Buf *b, const void *data, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *p = xalloc(cap);
        if (b->n)
            memcpy(p, b->p, b->n);
        b->p = p;
        b->cap = cap;
    }
    if (data)
        memcpy(b->p + b->n, data, n);
    else if (n)
        memset(b->p + b->n, 0, n);
    b->n += n;
}

void buf_align(Buf *b, size_t align)
{
    if (align > 1 && b->n % align)
        buf_put(b, NULL, align - b->n % align);
}

int obj_find(StrMap *m, const char *name)
{
    return (int)(intptr_t)strmap_get(m, name) - 1;
}

static int index_names(StrMap *m, const char *what, const char *(*name)(Obj *, int), Obj *o, int n)
{
    for (int i = 0; i < n; i++) {
        const char *s = name(o, i);
        if (!s || !*s)
            return obj_error("%s #%d has no name", what, i);
        if (obj_find(m, s) >= 0)
            return obj_error("%s '%s' is defined twice", what, s);
        strmap_put(m, s, (void *)(intptr_t)(i + 1));
    }
    return 0;
}

static const char *prog_name(Obj *o, int i) { return o->progs[i].name; }
static const char *var_name(Obj *o, int i) { return o->vars[i].name; }
static const char *map_name(Obj *o, int i) { return o->maps[i].name; }
static const char *ext_name(Obj *o, int i) { return o->externs[i].name; }

/* ---- sections and symbols --------------------------------------------- */

static int find_sec(Writer *w, const char *name)
{
    for (int i = 0; i < w->secs.n; i++)
        if (!strcmp(w->secs.v[i]->name, name))
            return i;
    return -1;
}

static int add_sec(Writer *w, const char *name, uint32_t type, uint32_t flags, uint32_t align)
{
    int i = find_sec(w, name);
    if (i >= 0)
        return i;
    Sec *s = xalloc(sizeof *s);
    s->name = name;
    s->type = type;
    s->flags = flags;
    s->align = align;
    vpush(w->secs, s);
    return w->secs.n - 1;
}

static int add_sym(Writer *w, const char *name, int bind, int type, int sec, uint64_t value,
                   uint64_t size)
{
    ESym s = { name, (uint8_t)bind, (uint8_t)type, sec, value, size, 0 };
    vpush(w->syms, s);
    return w->syms.n - 1;
}

/* libbpf resolves static calls and static variables through the
 * section's own symbol, as clang emits them. */
static int sec_sym(Writer *w, int sec)
{
    Sec *s = w->secs.v[sec];
    if (!s->secsym)
        s->secsym = add_sym(w, "", STB_LOCAL, STT_SECTION, sec, 0, 0);
    return s->secsym;
}

static void add_rel(Writer *w, int sec, uint64_t off, int sym, uint32_t type)
{
    Rel r = { off, sym, type };
    vpush(w->secs.v[sec]->rels, r);
}

static uint64_t sec_size(Sec *s) { return s->type == SHT_NOBITS ? s->nobits : s->data.n; }

/* ---- layout ------------------------------------------------------------ */

static bool in_text(const ObjProg *p)
{
    return p->is_static || !p->section || !*p->section || !strcmp(p->section, ".text");
}

/* Program sections share the ELF namespace with the data sections and
 * libbpf's special ones; libbpf also finds a program type only for names
 * not starting with a dot. */
static int check_section(const ObjProg *p)
{
    static const char *reserved[] = { "license", "version", "maps" };
    if (p->section[0] == '.')
        return obj_error("program '%s': section '%s' is not a program section", p->name,
                         p->section);
    for (int i = 0; i < 3; i++)
        if (!strcmp(p->section, reserved[i]))
            return obj_error("program '%s': section '%s' is reserved", p->name, p->section);
    return 0;
}

static int layout_code(Writer *w)
{
    Obj *o = w->o;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < o->nprogs; i++) {
            ObjProg *p = &o->progs[i];
            if (in_text(p) != (pass == 0))
                continue;
            if (!p->insns || p->ninsns <= 0)
                return obj_error("program '%s' has no instructions", p->name);
            if (!in_text(p) && check_section(p))
                return -1;
            int s = add_sec(w, in_text(p) ? ".text" : p->section, SHT_PROGBITS,
                            SHF_ALLOC | SHF_EXECINSTR, 8);
            Sec *sec = w->secs.v[s];
            sec_sym(w, s);
            w->prog[i] = (Place){ s, (uint32_t)sec->data.n };
            buf_put(&sec->data, p->insns, (size_t)p->ninsns * sizeof(struct bpf_insn));
            bool local = in_text(p) && p->is_static;
            w->prog_sym[i] = add_sym(w, p->name, local ? STB_LOCAL : STB_GLOBAL, STT_FUNC, s,
                                     w->prog[i].off, (uint64_t)p->ninsns * 8);
        }
    }
    return 0;
}

static bool all_zero(const uint8_t *p, int n)
{
    for (int i = 0; p && i < n; i++)
        if (p[i])
            return false;
    return true;
}

/* One data section's variables, aligned and in declaration order. */
static int layout_vars(Writer *w, ObjSec which)
{
    static const char *names[] = { [SEC_DATA] = ".data", [SEC_BSS] = ".bss",
                                   [SEC_RODATA] = ".rodata" };
    Obj *o = w->o;
    for (int i = 0; i < o->nvars; i++) {
        ObjVar *v = &o->vars[i];
        if (v->sec != which)
            continue;
        int align = v->align > 0 ? v->align : 1;
        if (v->size <= 0 || (align & (align - 1)))
            return obj_error("global '%s' has size %d and alignment %d", v->name, v->size,
                             v->align);
        if (which == SEC_BSS && !all_zero(v->init, v->size))
            return obj_error("global '%s' is in .bss but has a non-zero initial value", v->name);
        int s = add_sec(w, names[which], which == SEC_BSS ? SHT_NOBITS : SHT_PROGBITS,
                        which == SEC_RODATA ? SHF_ALLOC : SHF_ALLOC | SHF_WRITE, 1);
        Sec *sec = w->secs.v[s];
        if ((uint32_t)align > sec->align)
            sec->align = align;
        if (which == SEC_BSS) {
            sec->nobits = (sec->nobits + align - 1) / align * align;
            w->var[i] = (Place){ s, (uint32_t)sec->nobits };
            sec->nobits += v->size;
        } else {
            buf_align(&sec->data, align);
            w->var[i] = (Place){ s, (uint32_t)sec->data.n };
            buf_put(&sec->data, v->init, v->size);
        }
        w->var_sym[i] = add_sym(w, v->name, v->is_static ? STB_LOCAL : STB_GLOBAL, STT_OBJECT,
                                s, w->var[i].off, v->size);
    }
    return 0;
}

static int layout_maps(Writer *w)
{
    Obj *o = w->o;
    for (int i = 0; i < o->nmaps; i++) {
        ObjMap *m = &o->maps[i];
        if (m->nprog_init > 0 && m->type != BPF_MAP_TYPE_PROG_ARRAY)
            return obj_error("map '%s': only a prog_array can be initialised with programs",
                             m->name);
        if (m->nprog_init > 0 && (uint32_t)m->nprog_init > m->max_entries)
            return obj_error("map '%s': %d initial programs but max_entries is %u", m->name,
                             m->nprog_init, m->max_entries);
        int s = add_sec(w, ".maps", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 8);
        Sec *sec = w->secs.v[s];
        int nf = objbtf_map_fields(m);
        w->map_size[i] = 8u * (uint32_t)(nf + (m->nprog_init > 0 ? m->nprog_init : 0));
        buf_align(&sec->data, 8);
        w->map[i] = (Place){ s, (uint32_t)sec->data.n };
        buf_put(&sec->data, NULL, w->map_size[i]);
        w->map_sym[i] = add_sym(w, m->name, STB_GLOBAL, STT_OBJECT, s, w->map[i].off,
                                w->map_size[i]);
    }
    return 0;
}

bool obj_struct_ops_link_supported(void)
{
    uint32_t major = libbpf_major_version(), minor = libbpf_minor_version();
    return major > 1 || (major == 1 && minor >= 2);
}

/* libbpf before 1.2 skips .struct_ops.link, and its programs then fail to
 * load; there the same map in .struct_ops registers the same way. */
static int layout_struct_ops(Writer *w)
{
    Obj *o = w->o;
    bool link_ok = obj_struct_ops_link_supported();
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < o->nsops; i++) {
            ObjStructOps *so = &o->sops[i];
            bool link = so->link && link_ok;
            if (link != (pass == 1))
                continue;
            if (!so->name || !*so->name || so->size <= 0)
                return obj_error("struct_ops #%d has no name or no size", i);
            int s = add_sec(w, link ? ".struct_ops.link" : ".struct_ops", SHT_PROGBITS,
                            SHF_ALLOC | SHF_WRITE, 8);
            Sec *sec = w->secs.v[s];
            buf_align(&sec->data, 8);
            w->sop[i] = (Place){ s, (uint32_t)sec->data.n };
            buf_put(&sec->data, so->data, so->size);
            w->sop_sym[i] = add_sym(w, so->name, STB_GLOBAL, STT_OBJECT, s, w->sop[i].off,
                                    so->size);
        }
    }
    return 0;
}

static void layout_rest(Writer *w)
{
    Obj *o = w->o;
    w->license_sec = -1;
    if (o->license) {
        int s = add_sec(w, "license", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, 1);
        buf_put(&w->secs.v[s]->data, o->license, strlen(o->license) + 1);
        w->license_sec = s;
        w->license_sym = add_sym(w, "_license", STB_GLOBAL, STT_OBJECT, s, 0,
                                 strlen(o->license) + 1);
    }
    for (int i = 0; i < o->nexterns; i++)
        w->ext_sym[i] = add_sym(w, o->externs[i].name, o->externs[i].weak ? STB_WEAK : STB_GLOBAL,
                                STT_NOTYPE, -1, 0, 0);
}

/* ---- relocations ------------------------------------------------------- */

static struct bpf_insn *insn_at(Writer *w, int prog, int idx)
{
    Place pl = w->prog[prog];
    return (struct bpf_insn *)(w->secs.v[pl.sec]->data.p + pl.off) + idx;
}

static int find_kind(StrMap *m, const ObjReloc *r, const char *prog, const char *what)
{
    int i = obj_find(m, r->sym);
    if (i < 0)
        return obj_error("program '%s': instruction %d refers to unknown %s '%s'", prog, r->insn,
                         what, r->sym);
    return i;
}

/* As clang writes them: an LD_IMM64 with src_reg 0 and zero immediates
 * except the offset inside a variable (libbpf fills in map fds, addresses
 * and BPF_PSEUDO_FUNC); a call with src_reg BPF_PSEUDO_CALL and imm -1,
 * kfunc calls too (libbpf makes those BPF_PSEUDO_KFUNC_CALL). */
void obj_reloc_insn(ObjReloKind kind, struct bpf_insn *in)
{
    if (in->code == (BPF_JMP | BPF_CALL)) {
        in->src_reg = BPF_PSEUDO_CALL;
        in->imm = -1;
        return;
    }
    in[0].src_reg = 0;
    in[1].imm = 0;
    if (kind != RELO_DATA)
        in[0].imm = 0;
}

/* An LD_IMM64 reference to a map, a global or a kernel variable. */
static int reloc_ld(Writer *w, int pi, const ObjReloc *r, struct bpf_insn *in, uint64_t off)
{
    const char *pn = w->o->progs[pi].name;
    int sec = w->prog[pi].sec, i;
    switch (r->kind) {
    case RELO_MAP:
        if ((i = find_kind(&w->maps, r, pn, "map")) < 0)
            return -1;
        add_rel(w, sec, off, w->map_sym[i], R_BPF_64_64);
        return 0;
    case RELO_DATA:
        if ((i = find_kind(&w->vars, r, pn, "global")) < 0)
            return -1;
        if (w->o->vars[i].is_static) {
            in[0].imm += (int32_t)w->var[i].off;
            add_rel(w, sec, off, sec_sym(w, w->var[i].sec), R_BPF_64_64);
        } else {
            add_rel(w, sec, off, w->var_sym[i], R_BPF_64_64);
        }
        return 0;
    default:
        if ((i = find_kind(&w->exts, r, pn, "extern")) < 0)
            return -1;
        if (w->o->externs[i].is_func)
            return obj_error("program '%s': instruction %d loads the address of kfunc '%s'", pn,
                             r->insn, r->sym);
        add_rel(w, sec, off, w->ext_sym[i], R_BPF_64_64);
        return 0;
    }
}

/* Calls: a static subprogram through the .text section symbol with imm =
 * its instruction index - 1, anything global through its own symbol. */
static int reloc_call(Writer *w, int pi, const ObjReloc *r, struct bpf_insn *in, uint64_t off)
{
    const char *pn = w->o->progs[pi].name;
    int sec = w->prog[pi].sec, i;
    if (r->kind == RELO_KFUNC) {
        if ((i = find_kind(&w->exts, r, pn, "kfunc")) < 0)
            return -1;
        if (!w->o->externs[i].is_func)
            return obj_error("program '%s': instruction %d calls kernel variable '%s'", pn,
                             r->insn, r->sym);
        add_rel(w, sec, off, w->ext_sym[i], R_BPF_64_32);
        return 0;
    }
    if ((i = find_kind(&w->progs, r, pn, "function")) < 0)
        return -1;
    if (!in_text(&w->o->progs[i]))
        return obj_error("program '%s' calls '%s', which is a program, not a .text function",
                         pn, r->sym);
    if (w->o->progs[i].is_static) {
        in->imm = (int32_t)(w->prog[i].off / 8) - 1;
        add_rel(w, sec, off, sec_sym(w, w->prog[i].sec), R_BPF_64_32);
    } else {
        add_rel(w, sec, off, w->prog_sym[i], R_BPF_64_32);
    }
    return 0;
}

/* The address of a .text function (a bpf_loop or for_each callback):
 * against the section symbol with imm = its byte offset when static,
 * else against its own symbol. */
static int reloc_func_addr(Writer *w, int pi, const ObjReloc *r, struct bpf_insn *in,
                           uint64_t off)
{
    const char *pn = w->o->progs[pi].name;
    int i = find_kind(&w->progs, r, pn, "function");
    if (i < 0)
        return -1;
    if (!in_text(&w->o->progs[i]))
        return obj_error("program '%s' takes the address of '%s', which is a program, not a "
                         ".text function", pn, r->sym);
    bool local = w->o->progs[i].is_static;
    if (local)
        in[0].imm = (int32_t)w->prog[i].off;
    add_rel(w, w->prog[pi].sec, off, local ? sec_sym(w, w->prog[i].sec) : w->prog_sym[i],
            R_BPF_64_64);
    return 0;
}

static int reloc_prog(Writer *w, int pi)
{
    ObjProg *p = &w->o->progs[pi];
    for (int k = 0; k < p->nrelocs; k++) {
        const ObjReloc *r = &p->relocs[k];
        if (r->insn < 0 || r->insn >= p->ninsns || !r->sym)
            return obj_error("program '%s': relocation #%d is out of range or unnamed", p->name,
                             k);
        struct bpf_insn *in = insn_at(w, pi, r->insn);
        uint64_t off = w->prog[pi].off + (uint64_t)r->insn * 8;
        bool ld = r->kind == RELO_MAP || r->kind == RELO_DATA || r->kind == RELO_KSYM;
        bool ldimm = in->code == (BPF_LD | BPF_IMM | BPF_DW) && r->insn + 1 < p->ninsns;
        int err;
        if (ldimm || in->code == (BPF_JMP | BPF_CALL))
            obj_reloc_insn(r->kind, in);
        if (r->kind == RELO_CALL && ldimm) {
            err = reloc_func_addr(w, pi, r, in, off);
        } else if (ld) {
            if (!ldimm)
                return obj_error("program '%s': relocation at instruction %d is not on a "
                                 "64-bit immediate load", p->name, r->insn);
            err = reloc_ld(w, pi, r, in, off);
        } else if (r->kind == RELO_CALL || r->kind == RELO_KFUNC) {
            if (in->code != (BPF_JMP | BPF_CALL))
                return obj_error("program '%s': call relocation at instruction %d is not on "
                                 "a call", p->name, r->insn);
            err = reloc_call(w, pi, r, in, off);
        } else {
            return obj_error("program '%s': unknown relocation kind %d", p->name, r->kind);
        }
        if (err)
            return -1;
    }
    return 0;
}

/* An entry-point program referenced from data (.maps values, struct_ops
 * function pointers): libbpf finds it by its symbol. */
static int data_prog_ref(Writer *w, const char *owner, const char *name)
{
    int t = obj_find(&w->progs, name);
    if (t < 0)
        return obj_error("'%s' refers to unknown program '%s'", owner, name);
    if (in_text(&w->o->progs[t]))
        return obj_error("'%s' refers to '%s', which is a .text function, not a program", owner,
                         name);
    return t;
}

static int reloc_data(Writer *w)
{
    Obj *o = w->o;
    for (int i = 0; i < o->nmaps; i++) {
        ObjMap *m = &o->maps[i];
        uint32_t base = w->map[i].off + 8u * (uint32_t)objbtf_map_fields(m);
        for (int j = 0; j < m->nprog_init; j++) {
            if (!m->prog_init[j])
                continue;
            int t = data_prog_ref(w, m->name, m->prog_init[j]);
            if (t < 0)
                return -1;
            add_rel(w, w->map[i].sec, base + 8u * j, w->prog_sym[t], R_BPF_64_ABS64);
        }
    }
    for (int i = 0; i < o->nsops; i++) {
        ObjStructOps *so = &o->sops[i];
        for (int j = 0; j < so->nfns; j++) {
            ObjStructOpsFn *f = &so->fns[j];
            if (f->offset < 0 || f->offset % 8 || f->offset + 8 > so->size || !f->prog)
                return obj_error("struct_ops '%s': bad function pointer at offset %d", so->name,
                                 f->offset);
            int t = data_prog_ref(w, so->name, f->prog);
            if (t < 0)
                return -1;
            Sec *sec = w->secs.v[w->sop[i].sec];
            memset(sec->data.p + w->sop[i].off + f->offset, 0, 8);
            add_rel(w, w->sop[i].sec, w->sop[i].off + f->offset, w->prog_sym[t], R_BPF_64_ABS64);
        }
    }
    return 0;
}

/* ---- writing ----------------------------------------------------------- */

typedef struct Out {
    const char *name;
    uint32_t name_off, type, flags, link, info, align, entsize;
    const void *data;
    uint64_t size, off;
} Out;

static uint32_t str_add(Buf *b, StrMap *seen, const char *s)
{
    if (!*s)
        return 0;
    int off = obj_find(seen, s);
    if (off >= 0)
        return (uint32_t)off;
    off = (int)b->n;
    buf_put(b, s, strlen(s) + 1);
    strmap_put(seen, s, (void *)(intptr_t)(off + 1));
    return (uint32_t)off;
}

/* Locals first, as ELF requires; returns the index of the first global. */
static int order_syms(Writer *w)
{
    int n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < w->syms.n; i++)
            if ((w->syms.v[i].bind == STB_LOCAL) == (pass == 0))
                w->syms.v[i].index = n++;
    int first = 0;
    for (int i = 0; i < w->syms.n; i++)
        if (w->syms.v[i].bind == STB_LOCAL)
            first++;
    return first;
}

static void build_symtab(Writer *w, Buf *symtab, Buf *strtab, StrMap *seen)
{
    Elf64_Sym *syms = xalloc(sizeof(Elf64_Sym) * (size_t)w->syms.n);
    for (int i = 1; i < w->syms.n; i++) {
        ESym *s = &w->syms.v[i];
        Elf64_Sym *e = &syms[s->index];
        e->st_name = s->type == STT_SECTION ? 0 : str_add(strtab, seen, s->name);
        e->st_info = ELF64_ST_INFO(s->bind, s->type);
        e->st_shndx = s->sec < 0 ? SHN_UNDEF : (Elf64_Half)w->secs.v[s->sec]->index;
        e->st_value = s->value;
        e->st_size = s->size;
    }
    buf_put(symtab, syms, sizeof(Elf64_Sym) * (size_t)w->syms.n);
}

static Buf build_rels(Writer *w, Sec *s)
{
    Buf b = { 0 };
    for (int i = 0; i < s->rels.n; i++) {
        Elf64_Rel r = { s->rels.v[i].off,
                        ELF64_R_INFO((uint64_t)w->syms.v[s->rels.v[i].sym].index,
                                     s->rels.v[i].type) };
        buf_put(&b, &r, sizeof r);
    }
    return b;
}

static int write_file(const char *path, Out *out, int n)
{
    uint64_t off = sizeof(Elf64_Ehdr);
    for (int i = 1; i < n; i++) {
        uint64_t a = out[i].align ? out[i].align : 1;
        off = (off + a - 1) / a * a;
        out[i].off = off;
        if (out[i].type != SHT_NOBITS)
            off += out[i].size;
    }
    uint64_t shoff = (off + 7) / 8 * 8;
    Buf f = { 0 };
    Elf64_Ehdr eh = { .e_type = ET_REL, .e_machine = EM_BPF, .e_version = EV_CURRENT,
                      .e_shoff = shoff, .e_ehsize = sizeof(Elf64_Ehdr),
                      .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = (Elf64_Half)n,
                      .e_shstrndx = 1 };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
    buf_put(&f, &eh, sizeof eh);
    for (int i = 1; i < n; i++) {
        if (out[i].type == SHT_NOBITS)
            continue;
        buf_put(&f, NULL, out[i].off - f.n);
        buf_put(&f, out[i].data, out[i].size);
    }
    buf_put(&f, NULL, shoff - f.n);
    for (int i = 0; i < n; i++) {
        Elf64_Shdr sh = { out[i].name_off, out[i].type, out[i].flags, 0, out[i].off,
                          out[i].size, out[i].link, out[i].info, out[i].align, out[i].entsize };
        buf_put(&f, &sh, sizeof sh);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return obj_error("cannot write '%s': %s", path, strerror(errno));
    size_t wrote = fwrite(f.p, 1, f.n, fp);
    if (fclose(fp) != 0 || wrote != f.n) {
        int e = errno ? errno : EIO;
        remove(path);       /* no half object for a later step to trip over */
        return obj_error("cannot write '%s': %s", path, strerror(e));
    }
    return 0;
}

static int emit(Writer *w, const void *btf, uint32_t btf_size, Buf *ext, const char *path)
{
    int first_global = order_syms(w);
    int nrel = 0;
    for (int i = 0; i < w->secs.n; i++)
        nrel += w->secs.v[i]->rels.n > 0;
    int symtab = 2 + w->secs.n + nrel + 1 + (ext->n > 0);
    Out *out = xalloc(sizeof(Out) * (size_t)(symtab + 1));
    int n = 1;
    out[n++] = (Out){ .name = ".strtab", .type = SHT_STRTAB, .align = 1 };
    for (int i = 0; i < w->secs.n; i++) {
        Sec *s = w->secs.v[i];
        s->index = n;
        out[n++] = (Out){ .name = s->name, .type = s->type, .flags = s->flags, .align = s->align,
                          .data = s->data.p, .size = sec_size(s) };
        if (!s->rels.n)
            continue;
        Buf r = build_rels(w, s);
        out[n++] = (Out){ .name = xfmt(".rel%s", s->name), .type = SHT_REL,
                          .flags = SHF_INFO_LINK, .link = (uint32_t)symtab,
                          .info = (uint32_t)s->index, .align = 8, .entsize = sizeof(Elf64_Rel),
                          .data = r.p, .size = r.n };
    }
    out[n++] = (Out){ .name = ".BTF", .type = SHT_PROGBITS, .align = 4, .data = btf,
                      .size = btf_size };
    if (ext->n)
        out[n++] = (Out){ .name = ".BTF.ext", .type = SHT_PROGBITS, .align = 4, .data = ext->p,
                          .size = ext->n };
    Buf strs = { 0 }, syms = { 0 };
    StrMap seen = { 0 };
    buf_put(&strs, "", 1);
    out[n] = (Out){ .name = ".symtab", .type = SHT_SYMTAB, .link = 1,
                    .info = (uint32_t)first_global, .align = 8, .entsize = sizeof(Elf64_Sym) };
    for (int i = 1; i <= n; i++)
        out[i].name_off = str_add(&strs, &seen, out[i].name);
    build_symtab(w, &syms, &strs, &seen);
    out[n].data = syms.p;
    out[n].size = syms.n;
    out[1].data = strs.p;
    out[1].size = strs.n;
    return write_file(path, out, n + 1);
}

/* Every global symbol name once: the static linker and libbpf resolve
 * programs, maps, variables and externs by name. */
static int check_globals(Writer *w)
{
    StrMap all = { 0 };
    for (int i = 0; i < w->syms.n; i++) {
        ESym *s = &w->syms.v[i];
        if (s->bind == STB_LOCAL)
            continue;
        if (strmap_get(&all, s->name))
            return obj_error("the name '%s' is defined twice in the object", s->name);
        strmap_put(&all, s->name, s);
    }
    return 0;
}

/* Counts and the arrays they describe agree, so nothing below reads
 * through a NULL pointer. */
static int need(const void *arr, int n, const char *what, const char *owner)
{
    if (n >= 0 && (n == 0 || arr))
        return 0;
    return obj_error("%s%s%s: %d %s but no array", owner ? "'" : "", owner ? owner : "the object",
                     owner ? "'" : "", n, what);
}

static int check_arrays(Obj *o)
{
    if (need(o->progs, o->nprogs, "programs", NULL) || need(o->maps, o->nmaps, "maps", NULL) ||
        need(o->vars, o->nvars, "globals", NULL) ||
        need(o->externs, o->nexterns, "externs", NULL) ||
        need(o->sops, o->nsops, "struct_ops", NULL))
        return -1;
    for (int i = 0; i < o->nprogs; i++) {
        ObjProg *p = &o->progs[i];
        if (need(p->relocs, p->nrelocs, "relocations", p->name) ||
            need(p->lines, p->nlines, "lines", p->name))
            return -1;
    }
    for (int i = 0; i < o->nvars; i++)
        if (o->vars[i].sec != SEC_DATA && o->vars[i].sec != SEC_BSS &&
            o->vars[i].sec != SEC_RODATA)
            return obj_error("global '%s': unknown section kind %d", o->vars[i].name,
                             (int)o->vars[i].sec);
    for (int i = 0; i < o->nmaps; i++)
        if (need(o->maps[i].prog_init, o->maps[i].nprog_init, "initial programs",
                 o->maps[i].name))
            return -1;
    for (int i = 0; i < o->nsops; i++)
        if (need(o->sops[i].fns, o->sops[i].nfns, "function pointers", o->sops[i].name))
            return -1;
    return 0;
}

#define ZALLOC(n, T) ((T *)xalloc(sizeof(T) * (size_t)((n) + 1)))

static int write_obj(Writer *w, const char *path)
{
    Obj *o = w->o;
    w->prog = ZALLOC(o->nprogs, Place);
    w->var = ZALLOC(o->nvars, Place);
    w->map = ZALLOC(o->nmaps, Place);
    w->sop = ZALLOC(o->nsops, Place);
    w->prog_sym = ZALLOC(o->nprogs, int);
    w->var_sym = ZALLOC(o->nvars, int);
    w->map_sym = ZALLOC(o->nmaps, int);
    w->ext_sym = ZALLOC(o->nexterns, int);
    w->sop_sym = ZALLOC(o->nsops, int);
    w->func_id = ZALLOC(o->nprogs, int);
    w->map_size = ZALLOC(o->nmaps, uint32_t);
    add_sym(w, "", STB_LOCAL, STT_NOTYPE, -1, 0, 0);
    if (index_names(&w->progs, "function", prog_name, o, o->nprogs) ||
        index_names(&w->vars, "global", var_name, o, o->nvars) ||
        index_names(&w->maps, "map", map_name, o, o->nmaps) ||
        index_names(&w->exts, "extern", ext_name, o, o->nexterns) || layout_code(w) ||
        layout_vars(w, SEC_DATA) || layout_vars(w, SEC_RODATA) || layout_maps(w) ||
        layout_struct_ops(w) || layout_vars(w, SEC_BSS))
        return -1;
    layout_rest(w);
    if (check_globals(w))
        return -1;
    for (int i = 0; i < o->nprogs; i++)
        if (reloc_prog(w, i))
            return -1;
    if (reloc_data(w) || objbtf_complete(w))
        return -1;
    Buf ext = { 0 };
    if (btfext_build(w, &ext))
        return -1;
    uint32_t size = 0;
    const void *raw = btf__raw_data(w->btf, &size);
    if (!raw)
        return obj_error("cannot encode the BTF of '%s'", path);
    return emit(w, raw, size, &ext, path);
}

int obj_write(Obj *o, const char *path)
{
    if (!o || !path)
        return obj_error("obj_write: no object or no output path");
    if (!o->btf)
        return obj_error("'%s': the object has no BTF", path);
    if (check_arrays(o))
        return -1;
    Writer w = { .o = o };
    /* Work on a copy: the caller's BTF stays as it was, and writing twice
     * gives the same object. Ids are unchanged since the copy starts empty. */
    w.btf = btf__new_empty();
    if (!w.btf)
        return obj_error("'%s': cannot create BTF: %s", path, strerror(errno));
    /* libbpf 1.1's btf__add_btf fails with ENOMEM on a source without types */
    int err = btf__type_cnt(o->btf) > 1 ? btf__add_btf(w.btf, o->btf) : 0;
    if (err < 0)
        obj_error("'%s': cannot copy the BTF: %s", path, strerror(-err));
    else
        err = write_obj(&w, path);
    btf__free(w.btf);
    return err < 0 ? -1 : 0;
}
