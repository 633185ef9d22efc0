/* Shared by the userspace back end's own files; not part of its API.
 *
 * The generated C is built from sections (forward declarations, function
 * pointer typedefs, type definitions, support functions, maps and globals,
 * prototypes, functions, main) that are concatenated at the end, so each
 * piece can be produced when it is first needed. Expressions come back as
 * strings; statements go to G.out. GNU statement expressions ({ ... })
 * let any statement-like construct (match, map access, a call that may
 * throw) sit inside an expression. */
#ifndef KSC_CGEN_INT_H
#define KSC_CGEN_INT_H

#include "c_backend/cgen.h"

typedef struct CBuf { char *s; size_t n, cap; } CBuf;
void cb_put(CBuf *b, const char *s);
void cb_fmt(CBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *cb_str(CBuf *b);

typedef struct Cg {
    Program *p;
    const CgenOpts *opts;
    CBuf fwd, fntypes, defs, support, globals, protos, funcs;
    StrMap types;               /* type key -> TyInfo */
    StrMap names;               /* C names handed out for types */
    int ntypes;
    StrMap throws;              /* function sym_name -> may throw */
    /* the function being written */
    Func *fn;
    CBuf *out;
    int ind;
    int ntemp, nlabel;
    const char *handler;        /* where a throw jumps: a catch, or the exit */
    VEC(Node *) defers;         /* this function's defer statements */
    VEC(Var *) entries;         /* if (var p = m[k]) bindings whose block is being
                                 * written: a write to p goes to the entry */
    Node *lv_root;              /* while writing an lvalue: this node ... */
    const char *lv_text;        /* ... reads as this C lvalue */
} Cg;
extern Cg G;

void cg_error(Pos pos, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* cgen_type.c: C names and definitions of types, mangled identifiers */
const char *ctype(Type *t);             /* complete type, defined if needed */
void cg_types_flush(void);              /* defines the types only named so far */
const char *cdecl(Type *t, const char *name);
const char *cmember(const char *name);
const char *cfunc(Func *f);
const char *cvar(Var *v);
const char *cglobal(Global *g);
const char *cmap(Global *g);
const char *sum_fn(Type *t);            /* adds one CPU's value to an accumulator */
Type *int_of(Type *t);                  /* the integer type of an int, char, enum or bool */
bool str_like(Type *t);                 /* str(N), or an array of char/u8/i8 */
bool is_intlike(Type *t);               /* an integer, char or enum */

/* cgen_expr.c */
const char *cx(Node *n);
const char *ccond(Node *n);
const char *cconst(i128 v, Type *t);
const char *ccast(const char *x, Node *from, Type *to);
const char *cquote(const char *s, int len);
const char *new_temp(void);
const char *where_str(Pos pos);
/* A string-like value as a char pointer, and how many bytes it may hold. */
const char *cstr_ptr(Node *n, long *cap);   /* *cap -1: unbounded */
const char *arith(Op op, Type *t, const char *a, const char *b);
bool has_effects(Node *n);
int count_effects(Node **nodes, int n);

/* cgen_stmt.c */
void cg_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cg_stmt(Node *n);
void cg_block(Node *n);
void value_into(Node *body, const char *dst);
void cg_match(Node *n, const char *dst);   /* dst: where the value goes, or NULL */
void cg_if(Node *n, const char *dst);
const char *new_label(const char *what);
void cg_function(Func *f);
bool may_throw(Func *f);
void find_throwers(Program *p);

/* A statement expression: statements written between sub_begin and
 * sub_end become ({ ...; value; }) (value may be NULL). */
typedef struct Sub { CBuf *saved; int ind; CBuf b; } Sub;
void sub_begin(Sub *s);
const char *sub_end(Sub *s, const char *value);
/* a as C text, first into a temporary (in *s, opened on first use) when
 * order is set and a has effects: operands in the language's order */
const char *in_order(Node *a, bool order, Sub *s, bool *opened);

/* cgen_call.c: calls and built-ins */
const char *cx_call(Node *n);
const char *throw_check(void);

/* cgen_map.c: maps, map references, pinned globals, assignments */
const char *cx_map_read(Node *n);
const char *cx_presence(Node *n);
const char *cx_pinned(Global *g);
void cg_assign(Node *n);
void cg_var_mapref(Var *v, Node *init);
void cg_delete(Node *n);
void cg_for_map(Node *n);
const char *mapref_type(Var *v);

#endif
