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

#endif
