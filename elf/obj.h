/* The object writer: takes what the BPF back end produced (instructions,
 * relocations, maps, globals, externs, struct_ops, BTF types, line info)
 * and writes an ELF64 relocatable BPF object that libbpf, bpftool, ip and
 * tc accept exactly as they accept clang's output. */
#ifndef KSC_ELF_OBJ_H
#define KSC_ELF_OBJ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/bpf.h>

struct btf;

typedef enum {
    RELO_MAP,       /* LD_IMM64 of a map: sym = map name */
    RELO_DATA,      /* LD_IMM64 of a global variable: sym = variable name;
                       insn imm holds the offset inside the variable */
    RELO_CALL,      /* BPF-to-BPF call (src_reg = BPF_PSEUDO_CALL): sym = a
                       function in .text; on an LD_IMM64 (src_reg =
                       BPF_PSEUDO_FUNC) its address, for a callback */
    RELO_KFUNC,     /* kfunc call (src_reg = BPF_PSEUDO_KFUNC_CALL): sym = an
                       extern function */
    RELO_KSYM,      /* LD_IMM64 of an extern kernel variable: sym = extern */
} ObjReloKind;

typedef struct ObjReloc {
    int insn;               /* index in the program's instructions */
    ObjReloKind kind;
    const char *sym;
} ObjReloc;

typedef struct ObjLine {
    int insn;               /* first instruction of this source position */
    const char *file;       /* source path as given */
    int line, col;
    const char *text;       /* the source line, for bpftool ... linum */
} ObjLine;

typedef struct ObjProg {
    const char *name;       /* function symbol */
    const char *section;    /* "xdp", "tc", "tracepoint/a/b", ".text", ... */
    struct bpf_insn *insns;
    int ninsns;
    ObjReloc *relocs;
    int nrelocs;
    ObjLine *lines;
    int nlines;
    int btf_proto;          /* FUNC_PROTO id in Obj.btf; the writer adds the FUNC */
    bool is_static;         /* .text subprogram verified in its caller's context */
} ObjProg;

typedef struct ObjMap {
    const char *name;
    uint32_t type;          /* BPF_MAP_TYPE_* */
    uint32_t key_size, value_size, max_entries, flags;
    int key_btf, value_btf; /* BTF ids in Obj.btf; 0 = describe by size */
    int numa_node;          /* -1: none */
    bool pin_by_name;       /* LIBBPF_PIN_BY_NAME */
    const char **prog_init; /* PROG_ARRAY: program symbol per slot (NULL = empty) */
    int nprog_init;
} ObjMap;

typedef enum { SEC_DATA, SEC_BSS, SEC_RODATA } ObjSec;

typedef struct ObjVar {
    const char *name;
    ObjSec sec;
    int btf_type;           /* BTF id of the variable's type */
    int size, align;
    const uint8_t *init;    /* size bytes, NULL for zero */
    bool is_static;         /* local linkage: hidden from skeletons */
} ObjVar;

typedef struct ObjExtern {
    const char *name;
    bool is_func;           /* kfunc (else a kernel variable) */
    int btf_type;           /* FUNC_PROTO for a kfunc, the type for a variable;
                               0 for a typeless variable (`const void`, its
                               address resolved through /proc/kallsyms) */
    bool weak;
} ObjExtern;

typedef struct ObjStructOpsFn { int offset; const char *prog; } ObjStructOpsFn;

typedef struct ObjStructOps {
    const char *name;       /* the map/variable name */
    int btf_type;           /* a STRUCT named like the kernel type
                               ("tcp_congestion_ops") whose members are the
                               ones the data sets */
    const uint8_t *data;    /* the struct's bytes (data members set) */
    int size;
    ObjStructOpsFn *fns;    /* function pointer members */
    int nfns;
    bool link;              /* .struct_ops.link (else .struct_ops); written as
                               .struct_ops when the libbpf at hand predates
                               1.2, which skips .struct_ops.link */
} ObjStructOps;

typedef struct Obj {
    struct btf *btf;        /* from btf__new_empty(); types already added */
    const char *license;
    ObjProg *progs;
    int nprogs;
    ObjMap *maps;
    int nmaps;
    ObjVar *vars;
    int nvars;
    ObjExtern *externs;
    int nexterns;
    ObjStructOps *sops;
    int nsops;
} Obj;

/* Writes the object; returns 0, or -1 after printing why to stderr. */
int obj_write(Obj *o, const char *path);
/* A relocated instruction (both halves of an LD_IMM64) turned into the
 * form the object holds, as clang writes it: src_reg and immediates that
 * libbpf fills in cleared or set to -1. The writer then adds the offsets of
 * static targets, which depend on the layout. */
void obj_reloc_insn(ObjReloKind kind, struct bpf_insn *in);
/* Whether the libbpf ksc runs with (the one the programs it builds load
 * with) understands .struct_ops.link: libbpf 1.2 or later. */
bool obj_struct_ops_link_supported(void);

#endif
