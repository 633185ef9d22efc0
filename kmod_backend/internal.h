/* Inside the kernel-module back end: the text buffer, the per-function
 * translation state, and what the three files offer each other.
 *   kmod.c       the module: types, prototypes, kfunc set, init/exit,
 *                Kbuild, writing and building
 *   kmod_func.c  functions and statements (frame, defer, try/throw)
 *   kmod_expr.c  expressions, aggregates, calls and print
 *
 * The ABI of every module function is the one eBPF code uses to call a
 * @kfunc (ir/lower_call.c lower_bpf_call, bpf_backend/objgen.c externs):
 * aggregate parameters (struct, array, str) arrive as a pointer to a copy
 * the caller made, an aggregate result goes through a hidden first
 * parameter `__ret` (the C function then returns s64 0), and a function
 * that may throw takes a hidden last parameter `s32 *__err`, set to the
 * code when it throws. @private functions use the same ABI so that one
 * call path serves both. */
#ifndef KSC_KMOD_INTERNAL_H
#define KSC_KMOD_INTERNAL_H

#include "frontend/frontend.h"

/* ---- text ------------------------------------------------------------- */

typedef struct Buf { char *s; size_t n, cap; } Buf;

void bput(Buf *b, const char *s);
void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A C string literal for n bytes of s (escaped). */
void bput_cstr(Buf *b, const char *s, int n);

/* ---- types (kmod.c) ----------------------------------------------------- */

/* A C declaration of `name` (may be "") with type t: "u32 x", "char s[16]",
 * "struct ks_P *p", "u8 (*p)[4]". NULL (after an error at pos) for a type
 * kernel C cannot hold. */
const char *kc_decl(Type *t, const char *name, Pos pos);
/* The type alone, for casts: "u32", "struct ks_P *". */
const char *kc_type(Type *t, Pos pos);
/* A user struct member's C name (user names may be C keywords). */
const char *kc_member(Type *st, Member *m);
const char *kc_member_name(Type *st, const char *name);
/* The C name of a module function (kfuncs keep theirs: BTF finds them). */
const char *kc_func_name(Func *f);
/* The prototype of a module function under the module ABI. */
const char *kc_prototype(Func *f);

/* ---- per function (kmod_func.c) -------------------------------------- */

typedef struct KTry { int id; bool used; } KTry;

typedef struct KFn {
    Func *f;
    Buf *out;               /* where statements go */
    Buf decls;              /* locals and temporaries, declared first */
    const char **var_name;  /* C name per Var id */
    StrMap used;            /* C names taken in this function */
    int ntemp;
    int indent;
    int inline_depth;       /* > 0 inside a statement expression: no newlines */
    VEC(KTry) trys;         /* enclosing try blocks, innermost last */
    int ntry;
    VEC(Node *) defers;     /* defer statements, in source order */
    bool has_exit;          /* returns go through the exit label (defers) */
    bool in_defer;
    const char *rv;         /* the return value temporary (exit label) */
    const char *err_tmp;    /* s32 for codes of called functions that throw */
} KFn;

extern KFn *K;

/* A fresh temporary of type t declared at the top of the function. */
const char *kf_temp(Type *t, Pos pos);
/* A temporary declared with the C type text ctype ("s32"). */
const char *kf_temp_c(const char *ctype, const char *prefix);
/* Statement layout: a new line at the current indentation, or a space
 * inside a statement expression. */
void kf_nl(void);
/* Throw code (a C expression) from here: to the innermost try, or out of
 * the function. */
void kf_throw(const char *code);
void kf_stmt(Node *n);
void kf_block(Node *n);
/* match as an if chain; arm_body emits each arm's body (statement or
 * value form). */
void kf_match(Node *m, void (*arm_body)(Node *body, void *ctx), void *ctx);
/* The body of one function under the module ABI, after its prototype. */
int kmod_func_emit(Func *f, Buf *out);

/* ---- expressions (kmod_expr.c) ---------------------------------------- */

/* An rvalue of scalar (or struct) type as a C expression. */
void kx_expr(Node *n);
/* A condition: any scalar, pointers included. */
void kx_cond(Node *n);
/* Statements that store the value of src into the C lvalue dst of type
 * t: scalars, structs, arrays and strings (with the language's rules for
 * literals, concatenation and capacity). */
void kx_store(const char *dst, Type *t, Node *src);
/* The value of a match, if or block used as a value, into dst. */
void kx_store_branches(const char *dst, Type *t, Node *src);
/* A C expression that points to memory holding the aggregate value of e
 * (for calls under the module ABI, string functions and print). */
const char *kx_agg_ptr(Node *e);
/* An expression statement. */
void kx_expr_stmt(Node *e);
/* The text of kx_expr(n). */
const char *kx_to_string(Node *n);

#endif
