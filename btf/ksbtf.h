/* BTF, both directions.
 *  - Writing: ksc types into the object's BTF (libbpf's btf__add_* API).
 *  - Reading: kernel types, enums and function prototypes from kernel BTF
 *    (/sys/kernel/btf/vmlinux or --btf FILE), on demand and through a
 *    per-kernel cache, with a built-in fallback set when there is no BTF.
 * kernel_type() and kernel_enum_value() are declared in frontend.h. */
#ifndef KSC_BTF_KSBTF_H
#define KSC_BTF_KSBTF_H

#include "frontend/frontend.h"

struct btf;

/* ---- writing (btfgen.c) ------------------------------------------------ */

typedef struct BtfGen BtfGen;
BtfGen *btfgen_new(struct btf *b);
/* The BTF id of t in b, adding it (and what it refers to) once. */
int btfgen_type(BtfGen *g, Type *t);
/* A FUNC_PROTO for a function with these parameter names and types. */
int btfgen_proto(BtfGen *g, Type *ret, Type **params, const char **names, int n);
void btfgen_free(BtfGen *g);

/* ---- reading (kbtf.c) -------------------------------------------------- */

/* NULL or unset: /sys/kernel/btf/vmlinux; "none": built-in fallback only. */
void kbtf_set_path(const char *path);
/* Fills in the members of a kernel struct created as a shell
 * (t->kernel && t->incomplete); called by find_member and sizeof. */
void kernel_complete(Type *t);
/* A kernel function's prototype (fentry parameters, struct_ops members):
 * a TY_FUNC, with parameter names in *names; NULL when unknown. */
Type *kernel_func(const char *name, const char ***names);
/* A function-pointer member's prototype inside a kernel struct
 * (struct_ops: tcp_congestion_ops.ssthresh). */
Type *kernel_member_func(Type *st, const char *member, const char ***names);
/* true when kernel BTF (not only the fallback set) is available. */
bool kbtf_available(void);
/* `ksc headers KIND`: writes a .kh header for a program kind from BTF. */
int kbtf_write_header(const char *kind, FILE *out);
/* Forgets every converted type and frees what libbpf allocated (writing
 * the cache first); unit tests call it with the arena. */
void kbtf_reset(void);
/* Where kernel types are cached: NULL = $KSC_CACHE_DIR, else
 * $XDG_CACHE_HOME/ksc, ~/.cache/ksc or /tmp/ksc-cache-$UID, whichever is
 * usable first; "none" = no cache. kbtf_reset restores the default. */
void kbtf_set_cache_dir(const char *dir);
/* Writes the cache now if this run added to it (also done at exit). */
void kbtf_flush(void);
/* How often this process parsed a whole BTF file (tests: a cached lookup
 * must not). */
int kbtf_parse_count(void);

#endif
