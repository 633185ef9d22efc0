/* Declarations shared by the front end's own files; not part of its API. */
#ifndef KSC_FRONTEND_INTERNAL_H
#define KSC_FRONTEND_INTERNAL_H

#include "frontend/frontend.h"

typedef struct Parser {
    Token *tok;             /* current token */
    Token *toks;
    int nest;               /* open ( and [ : newlines do not end expressions */
    int depth;              /* recursion depth, bounded against stack overflow */
    bool no_struct_lit;     /* `for (k, v) in m {`: no struct literal after m */
    bool quiet;             /* an error was reported: silent until resync */
    bool header;            /* parsing an include file: declarations only */
    Program *prog;
    Module *mod;
    FrontOpts *opts;
    const char *path;
} Parser;

/* parse.c */
bool tok_is(Parser *p, const char *s);
bool consume(Parser *p, const char *s);
void expect(Parser *p, const char *s);
void parse_error(Parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *expect_ident(Parser *p, const char *what);
Type *parse_type(Parser *p);
bool at_stmt_end(Parser *p);
void end_stmt(Parser *p);
void member_sep(Parser *p, const char *what, const char *follow);
void resync_member(Parser *p, Token *before);
const char *tok_desc(Token *t);       /* "'x'", "end of file", ... for messages */
Node *new_node(NodeKind kind, Pos pos);
bool enter(Parser *p);
void leave(Parser *p);

/* parse_stmt.c */
Node *parse_block(Parser *p);
Node *parse_stmt(Parser *p);
Node *parse_expr(Parser *p);
Node *parse_ternary(Parser *p);

/* type.c */
void types_init(void);

/* lex.c */
void lex_reset(void);

/* builtins.c: forgets the perf_options type, which lives in the arena
 * (call after arena_free_all, as unit tests and the fuzzer do). */
void builtins_reset(void);

/* util.c: releases everything one compile leaves (arena, diagnostics,
 * lexer, built-ins, kernel types) and sets up the types again, so that
 * one process compiles many inputs: unit tests and the fuzzers. */
void compiler_reset(void);

#endif

/* ---- the checker's shared state and entry points --------------------- */

typedef struct Checker {
    Program *prog;
    FrontOpts *opts;
    Module *mod;            /* module whose names are in scope */
    Func *fn;               /* function being checked, NULL at top level */
    Scope *scope;           /* innermost local scope */
    int loops, trys, defers;
    NodeVec try_stack;      /* enclosing try statements, innermost last */
    bool tail_ok;           /* a call here may be a tail call */
    StrMap assigned;        /* names assigned anywhere in fn (for const vars) */
} Checker;
extern Checker C;

/* check.c */
Sym *lookup(const char *name);
Sym *lookup_in(Module *m, const char *name);
Type *resolve_type(Type *t);
bool eval_const(Sym *s);
void enum_values(Type *t, Module *m);
bool enum_variant_ready(Type *t, int i, Module *m, Pos use);
int target_bit(Func *f);
bool in_ebpf(void);
void declare_local(Var *v);
void push_scope(void);
void pop_scope(void);

/* check_expr.c */
Type *check_expr(Node *n, Type *want);
void check_value(Node **np, Type *want);         /* check and make concrete */
void coerce(Node **np, Type *to, const char *what);
void check_cond(Node **np);
Node *cast_to(Node *n, Type *to);
bool fits(i128 v, Type *t);
Type *arith_type(Type *t);
Type *common_type(Type *a, Type *b);
bool is_lvalue(Node *n);
bool is_map_read(Node *n);
void mark_assigned(Node *lhs);
i128 wrap_to(i128 v, Type *t);
Type *unify_types(Node **a, Node **b, Type *want, Pos pos);
bool var_const(Node *n);
bool const_zero_divisor(Node *rhs);

/* check_call.c */
Type *check_call(Node *n, Type *want);

/* check_stmt.c */
CatchSet *catch_snapshot(void);
bool catches(CatchSet *cs, bool known, int64_t code);
void add_throw_code(Func *f, int64_t code);
void check_stmt(Node *n);
void check_block(Node *b, bool new_scope);
void check_function(Func *f);
Type *block_value_type(Node *b, Type *want);
bool falls_through(Node *n);
