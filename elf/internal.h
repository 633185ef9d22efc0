/* Declarations shared by the object writer's files; not part of its API.
 * elfwrite.c lays out sections, symbols and relocations and writes the
 * ELF; objbtf.c adds the BTF the layout implies (FUNCs, map definitions,
 * VARs, DATASECs); btfext.c builds .BTF.ext. */
#ifndef KSC_ELF_INTERNAL_H
#define KSC_ELF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "elf/obj.h"
#include "frontend/frontend.h"

/* Growable byte buffer in the arena. */
typedef struct Buf { uint8_t *p; size_t n, cap; } Buf;
void buf_put(Buf *b, const void *data, size_t n);
void buf_align(Buf *b, size_t align);

typedef struct Rel { uint64_t off; int sym; uint32_t type; } Rel;

/* A content section (never .rel, .symtab or .strtab: those follow). */
typedef struct Sec {
    const char *name;
    uint32_t type, flags, align;
    Buf data;
    uint64_t nobits;            /* SHT_NOBITS: the size */
    VEC(Rel) rels;
    int secsym;                 /* its STT_SECTION symbol, 0 = none */
    int index;                  /* ELF index, set when writing */
} Sec;

typedef struct ESym {
    const char *name;
    uint8_t bind, type;
    int sec;                    /* index in Writer.secs, -1 = SHN_UNDEF */
    uint64_t value, size;
    int index;                  /* final .symtab index */
} ESym;

/* Where each Obj entity landed. */
typedef struct Place { int sec; uint32_t off; } Place;

typedef struct Writer {
    Obj *o;
    struct btf *btf;            /* a copy of o->btf, completed here */
    VEC(Sec *) secs;
    VEC(ESym) syms;
    Place *prog, *var, *map, *sop;
    int *prog_sym, *var_sym, *map_sym, *ext_sym, *sop_sym;
    int *func_id;               /* BTF FUNC per program */
    uint32_t *map_size;         /* bytes of each map's definition */
    int license_sec, license_sym;
    StrMap progs, vars, maps, exts;    /* name -> index + 1 */
} Writer;

int obj_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int obj_find(StrMap *m, const char *name);

/* objbtf.c: returns 0 or -1 after an error message. */
int objbtf_complete(Writer *w);
/* Map definition layout (the fields libbpf reads), so elfwrite.c can size
 * .maps before the BTF is built. */
int objbtf_map_fields(const ObjMap *m);

/* btfext.c: the .BTF.ext bytes; adds its strings to w->btf. */
int btfext_build(Writer *w, Buf *out);

#endif
