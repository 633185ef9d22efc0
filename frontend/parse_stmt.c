/* The parser, part two: statements and expressions. A newline ends a
 * statement unless a ( or [ is open or the line ends in a binary operator;
 * `nest` counts the open brackets. */
#include "frontend/internal.h"

#include <string.h>

static Node *parse_unary(Parser *p);
static Node *parse_postfix(Parser *p, Node *n);

static Node *error_node(Parser *p)
{
    Node *n = new_node(N_INT, p->tok->pos);
    n->ty = ty_error;
    return n;
}

/* A binary operator on a new line starts a new statement, unless inside
 * brackets. */
static bool continues(Parser *p) { return !p->tok->nl || p->nest > 0; }

/* ---- expressions ------------------------------------------------------- */

typedef struct { const char *s; Op op; int prec; } BinOp;

static const BinOp binops[] = {
    { "||", OP_LOR, 1 }, { "&&", OP_LAND, 2 }, { "|", OP_OR, 3 }, { "^", OP_XOR, 4 },
    { "&", OP_AND, 5 }, { "==", OP_EQ, 6 }, { "!=", OP_NE, 6 }, { "<", OP_LT, 7 },
    { "<=", OP_LE, 7 }, { ">", OP_GT, 7 }, { ">=", OP_GE, 7 }, { "<<", OP_SHL, 8 },
    { ">>", OP_SHR, 8 }, { "+", OP_ADD, 9 }, { "-", OP_SUB, 9 }, { "*", OP_MUL, 10 },
    { "/", OP_DIV, 10 }, { "%", OP_MOD, 10 },
};

static const BinOp *binop_at(Parser *p)
{
    if (p->tok->kind != T_PUNCT || !continues(p))
        return NULL;
    for (size_t i = 0; i < sizeof binops / sizeof *binops; i++)
        if (p->tok->text[0] == binops[i].s[0] && !strcmp(p->tok->text, binops[i].s))
            return &binops[i];
    return NULL;
}

/* cast = unary { 'as' type } */
/* Loops that build left-deep trees (a + b + c, x as A as B, f()()[0].g)
 * count each level against the nesting limit like recursion does: the
 * checker and every later pass walk those trees recursively. */
static bool deeper(Parser *p, int *levels)
{
    /* After an error the statement is abandoned: growing the chain further
     * (each unwound level would take up to the limit again) only builds
     * a tree whose depth is the square of the limit. */
    if (p->quiet || !enter(p))
        return false;
    ++*levels;
    return true;
}

static Node *parse_cast(Parser *p)
{
    Node *n = parse_unary(p);
    int levels = 0;
    while (tok_is(p, "as") && continues(p) && deeper(p, &levels)) {
        Node *c = new_node(N_CAST, p->tok->pos);
        p->tok++;
        c->lhs = n;
        c->decl_ty = parse_type(p);
        n = c;
    }
    p->depth -= levels;
    return n;
}

/* Precedence climbing over the binary operators. */
static Node *parse_binary(Parser *p, int min_prec)
{
    if (!enter(p))
        return error_node(p);
    Node *lhs = parse_cast(p);
    int levels = 0;
    for (;;) {
        const BinOp *b = binop_at(p);
        if (!b || b->prec < min_prec || !deeper(p, &levels))
            break;
        Node *n = new_node(N_BINARY, p->tok->pos);
        p->tok++;
        n->op = b->op;
        n->lhs = lhs;
        n->rhs = parse_binary(p, b->prec + 1);
        lhs = n;
    }
    p->depth -= levels;
    leave(p);
    return lhs;
}

/* ternary = binary ['?' ternary ':' ternary] */
Node *parse_ternary(Parser *p)
{
    Node *c = parse_binary(p, 1);
    if (!tok_is(p, "?") || !continues(p))
        return c;
    Node *n = new_node(N_TERNARY, p->tok->pos);
    p->tok++;
    n->cond = c;
    if (!enter(p))
        return error_node(p);   /* reported; a ternary without branches would reach the checker */
    n->then = parse_ternary(p);
    expect(p, ":");
    n->els = parse_ternary(p);
    leave(p);
    return n;
}

Node *parse_expr(Parser *p) { return parse_ternary(p); }

static Node *parse_if(Parser *p, Pos pos);

/* match = 'match' '(' expr ')' '{' { arm } '}'
 * arm = (pattern {',' pattern} | 'default') ':' (block | expr) */
static Node *parse_match(Parser *p, Pos pos)
{
    Node *m = new_node(N_MATCH, pos);
    expect(p, "(");
    p->nest++;
    m->cond = parse_expr(p);
    p->nest--;
    expect(p, ")");
    expect(p, "{");
    if (p->quiet)
        return m;   /* no body to read: the statement resync skips the rest */
    int saved = p->nest;
    p->nest = 0;
    while (!tok_is(p, "}") && p->tok->kind != T_EOF) {
        Token *before = p->tok;
        Node *arm = new_node(N_ARM, p->tok->pos);
        if (!consume(p, "default")) {
            do {
                if (tok_is(p, "_")) {
                    p->tok++;
                    arm->args.n = 0;
                    break;
                }
                vpush(arm->args, parse_binary(p, 1));
            } while (consume(p, ","));
        }
        expect(p, ":");
        arm->body = tok_is(p, "{") ? parse_block(p) : parse_expr(p);
        vpush(m->args, arm);
        member_sep(p, "match arms", "");
        resync_member(p, before);   /* a broken arm: go on with the next one */
    }
    p->nest = saved;
    expect(p, "}");
    return m;
}

/* struct_lit = NAME '{' { NAME ':' expr (',' | newline) } '}' */
static Node *parse_struct_lit(Parser *p, Token *name)
{
    Node *n = new_node(N_STRUCT_LIT, name->pos);
    n->name = name->text;
    expect(p, "{");
    int saved = p->nest;
    p->nest = 0;
    while (!tok_is(p, "}") && p->tok->kind != T_EOF) {
        Token *before = p->tok;
        Node *f = new_node(N_FIELD_INIT, p->tok->pos);
        if (p->tok->kind != T_IDENT && p->tok->kind != T_KEYWORD) {
            /* no nameless field: the checker compares names */
            parse_error(p, "expected a field name in the struct literal, found %s", tok_desc(p->tok));
            resync_member(p, before);
            continue;
        }
        f->name = (p->tok++)->text;
        expect(p, ":");
        f->lhs = parse_expr(p);
        vpush(n->args, f);
        member_sep(p, "fields of the struct literal", ":");
        resync_member(p, before);   /* the literal's own '}' must end it */
    }
    p->nest = saved;
    expect(p, "}");
    return n;
}

/* NAME '{' starts a struct literal when the brace opens `}` or `field:`. */
static bool struct_lit_ahead(Parser *p)
{
    if (p->no_struct_lit || p->tok->kind != T_IDENT)
        return false;
    Token *t = p->tok + 1;
    if (t->kind != T_PUNCT || strcmp(t->text, "{"))
        return false;
    t++;
    if (t->kind == T_PUNCT && !strcmp(t->text, "}"))
        return true;
    return (t->kind == T_IDENT || t->kind == T_KEYWORD) && t[1].kind == T_PUNCT && !strcmp(t[1].text, ":");
}

/* array_lit = '[' [expr {',' expr}] ']' | '[' expr ';' expr ']' */
static Node *parse_array_lit(Parser *p, Pos pos)
{
    Node *n = new_node(N_ARRAY_LIT, pos);
    p->nest++;
    if (!tok_is(p, "]")) {
        Node *first = parse_expr(p);
        if (consume(p, ";")) {
            n->kind = N_ARRAY_REPEAT;
            n->lhs = first;
            n->rhs = parse_expr(p);
        } else {
            vpush(n->args, first);
            while (consume(p, ",") && !tok_is(p, "]"))
                vpush(n->args, parse_expr(p));
        }
    }
    p->nest--;
    expect(p, "]");
    return n;
}

static bool type_start(Parser *p)
{
    static const char *prims[] = { "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
                                   "bool", "char", "void", NULL };
    if (tok_is(p, "*") || tok_is(p, "[") || tok_is(p, "struct") || tok_is(p, "enum") || tok_is(p, "fn"))
        return true;
    if (p->tok->kind != T_IDENT)
        return false;
    for (int i = 0; prims[i]; i++)
        if (!strcmp(p->tok->text, prims[i]))
            return true;
    return !strcmp(p->tok->text, "str") && p->tok[1].kind == T_PUNCT && !strcmp(p->tok[1].text, "(");
}

/* sizeof = 'sizeof' '(' (type | expr) ')' : a bare name is decided later */
static Node *parse_sizeof(Parser *p, Pos pos)
{
    Node *n = new_node(N_SIZEOF, pos);
    expect(p, "(");
    p->nest++;
    bool bare = p->tok->kind == T_IDENT && p->tok[1].kind == T_PUNCT && !strcmp(p->tok[1].text, ")");
    if (type_start(p) || (p->tok->kind == T_IDENT && !bare && p->tok[1].kind == T_PUNCT
                          && !strcmp(p->tok[1].text, "[")))
        n->decl_ty = parse_type(p);
    else
        n->lhs = parse_expr(p);
    p->nest--;
    expect(p, ")");
    return n;
}

static Node *parse_primary(Parser *p)
{
    Token *t = p->tok;
    Pos pos = t->pos;
    switch (t->kind) {
    case T_INT: {
        Node *n = new_node(N_INT, pos);
        n->ival = t->ival;
        p->tok++;
        return n;
    }
    case T_CHAR: {
        Node *n = new_node(N_CHAR, pos);
        n->ival = t->ival;
        p->tok++;
        return n;
    }
    case T_STR: {
        Node *n = new_node(N_STR, pos);
        n->sval = t->sval;
        n->slen = t->slen;
        p->tok++;
        return n;
    }
    default:
        break;
    }
    if (consume(p, "true") || consume(p, "false")) {
        Node *n = new_node(N_BOOL, pos);
        n->ival = !strcmp(t->text, "true");
        return n;
    }
    if (consume(p, "null"))
        return new_node(N_NULL, pos);
    if (consume(p, "(")) {
        p->nest++;
        bool saved = p->no_struct_lit;
        p->no_struct_lit = false;
        Node *n = parse_expr(p);
        p->no_struct_lit = saved;
        p->nest--;
        expect(p, ")");
        return n;
    }
    if (consume(p, "["))
        return parse_array_lit(p, pos);
    if (consume(p, "sizeof"))
        return parse_sizeof(p, pos);
    if (consume(p, "match"))
        return parse_match(p, pos);
    if (consume(p, "if"))
        return parse_if(p, pos);
    if (tok_is(p, "{"))
        return parse_block(p);
    /* `new T(...)` allocates on a heap KernelScript does not have */
    if (t->kind == T_IDENT && !strcmp(t->text, "new") && t[1].kind == T_IDENT) {
        parse_error(p, "'new' is not part of KernelScript as ksc implements it");
        help("declare a variable (var s = S { ... }) or keep the data in a map");
        return error_node(p);
    }
    if (t->kind == T_IDENT) {
        if (struct_lit_ahead(p)) {
            p->tok++;
            return parse_struct_lit(p, t);
        }
        p->tok++;
        if (tok_is(p, "::")) {
            p->tok++;
            /* positioned at the variant: that is what an error names */
            Node *n = new_node(N_SCOPED, p->tok->pos);
            n->lhs = new_node(N_IDENT, pos);
            n->lhs->name = t->text;
            n->name = expect_ident(p, "a name after '::'");
            return n;
        }
        Node *n = new_node(N_IDENT, pos);
        n->name = t->text;
        return n;
    }
    parse_error(p, "expected an expression but found %s", tok_desc(t));
    return error_node(p);
}

/* postfix = primary { '(' args ')' | '[' expr ']' | '.' NAME | '->' NAME } */
static bool postfix_ahead(Parser *p)
{
    return ((tok_is(p, "(") || tok_is(p, "[")) && continues(p)) || tok_is(p, ".") || tok_is(p, "->");
}

static Node *parse_postfix(Parser *p, Node *n)
{
    int levels = 0;
    while (postfix_ahead(p) && deeper(p, &levels)) {
        Pos pos = p->tok->pos;
        if (tok_is(p, "(") && continues(p)) {
            p->tok++;
            Node *c = new_node(N_CALL, n->pos);
            c->lhs = n;
            p->nest++;
            while (!tok_is(p, ")") && p->tok->kind != T_EOF && !p->quiet) {
                vpush(c->args, parse_expr(p));
                if (!consume(p, ","))
                    break;
            }
            p->nest--;
            expect(p, ")");
            n = c;
        } else if (tok_is(p, "[") && continues(p)) {
            p->tok++;
            Node *c = new_node(N_INDEX, pos);
            c->lhs = n;
            p->nest++;
            c->rhs = parse_expr(p);
            p->nest--;
            expect(p, "]");
            n = c;
        } else if (tok_is(p, ".") || tok_is(p, "->")) {
            Node *c = new_node(N_FIELD, pos);
            c->arrow = tok_is(p, "->");
            p->tok++;
            /* A keyword is a field name (sk->type), but not one that starts
             * the next line: `p.` then `var q = ...` is a missing name. */
            bool named = p->tok->kind == T_IDENT || (p->tok->kind == T_KEYWORD && !p->tok->nl);
            if (named)
                c->pos = p->tok->pos;   /* errors are about the field name */
            c->lhs = n;
            if (named) {
                c->name = (p->tok++)->text;
            } else {
                if (!p->quiet)  /* at the '.', where the name is missing */
                    error_at(pos, "expected a field name after '%s'", c->arrow ? "->" : ".");
                p->quiet = true;
                c->name = "<error>";
                c->ty = ty_error;   /* reported: the checker leaves it alone */
            }
            n = c;
            /* ns.Type { ... } : a struct literal of an imported type */
            if (struct_lit_ahead(&(Parser){ .tok = p->tok - 1, .no_struct_lit = p->no_struct_lit }) && n->lhs->kind == N_IDENT) {
                Node *lit = parse_struct_lit(p, p->tok - 1);
                lit->lhs = n->lhs;
                n = lit;
            }
        }
    }
    p->depth -= levels;
    return n;
}

/* unary = ('-' | '!' | '~' | '*' | '&') unary | postfix */
static Node *parse_unary(Parser *p)
{
    Pos pos = p->tok->pos;
    if (!enter(p))
        return error_node(p);
    Node *n = NULL;
    if (consume(p, "-")) {
        n = new_node(N_UNARY, pos);
        n->op = OP_NEG;
        n->lhs = parse_unary(p);
    } else if (consume(p, "!")) {
        n = new_node(N_UNARY, pos);
        n->op = OP_NOT;
        n->lhs = parse_unary(p);
    } else if (consume(p, "~")) {
        n = new_node(N_UNARY, pos);
        n->op = OP_BITNOT;
        n->lhs = parse_unary(p);
    } else if (consume(p, "*")) {
        n = new_node(N_DEREF, pos);
        n->lhs = parse_unary(p);
    } else if (consume(p, "&")) {
        n = new_node(N_ADDR, pos);
        n->lhs = parse_unary(p);
    } else {
        n = parse_postfix(p, parse_primary(p));
    }
    leave(p);
    return n;
}

/* ---- statements -------------------------------------------------------- */

/* Skips the rest of a broken statement: to the next line at this depth. */
static void sync_stmt(Parser *p)
{
    int depth = 0;
    while (p->tok->kind != T_EOF) {
        if (depth == 0 && (tok_is(p, "}") || p->tok->nl))
            break;
        if (tok_is(p, ";") && depth == 0) {
            p->tok++;
            break;
        }
        if (tok_is(p, "{") || tok_is(p, "(") || tok_is(p, "["))
            depth++;
        else if ((tok_is(p, "}") || tok_is(p, ")") || tok_is(p, "]")) && depth > 0)
            depth--;
        p->tok++;
    }
    p->quiet = false;
    p->nest = 0;
}

/* block = '{' { stmt } '}' */
Node *parse_block(Parser *p)
{
    Node *b = new_node(N_BLOCK, p->tok->pos);
    expect(p, "{");
    if (!enter(p)) {
        /* too deep: skip this block whole, so the braces around it still pair */
        for (int depth = 1; depth > 0 && p->tok->kind != T_EOF; p->tok++)
            depth += tok_is(p, "{") - tok_is(p, "}");
        b->ty = ty_error;
        return b;
    }
    int saved = p->nest;
    bool saved_nsl = p->no_struct_lit;
    p->nest = 0;
    p->no_struct_lit = false;
    while (!tok_is(p, "}") && p->tok->kind != T_EOF) {
        Token *before = p->tok;
        if (consume(p, ";"))
            continue;
        Node *s = parse_stmt(p);
        if (s)
            vpush(b->args, s);
        if (p->quiet || p->tok == before) {
            if (p->tok == before && !tok_is(p, "}"))
                p->tok++;
            sync_stmt(p);
        }
    }
    p->nest = saved;
    p->no_struct_lit = saved_nsl;
    leave(p);
    expect(p, "}");
    return b;
}

/* var_decl = ('var' | 'const') NAME [':' type] ['=' expr] */
static Node *parse_var(Parser *p, bool is_const, Pos pos)
{
    Node *n = new_node(N_VAR, pos);
    n->is_const = is_const;
    n->pos = p->tok->pos;
    n->name = expect_ident(p, "a variable name");
    if (consume(p, ":"))
        n->decl_ty = parse_type(p);
    if (consume(p, "="))
        n->init = parse_expr(p);
    else if (is_const)
        parse_error(p, "a const needs a value");
    return n;
}

/* if = 'if' '(' (expr | var_decl) ')' block ['else' (if | block)] */
static Node *parse_if(Parser *p, Pos pos)
{
    Node *n = new_node(N_IF, pos);
    expect(p, "(");
    p->nest++;
    if (tok_is(p, "var")) {
        Pos vp = p->tok->pos;
        p->tok++;
        n->init = parse_var(p, false, vp);
        if (!n->init->init)
            parse_error(p, "'if (var x = e)' needs a value");
    } else {
        n->cond = parse_expr(p);
    }
    p->nest--;
    expect(p, ")");
    n->then = parse_block(p);
    if (consume(p, "else")) {
        Pos ep = p->tok->pos;
        if (consume(p, "if")) {
            if (!enter(p))      /* a long else-if chain nests as deep as braces */
                return n;
            n->els = parse_if(p, ep);
            leave(p);
        } else {
            n->els = parse_block(p);
        }
    }
    return n;
}

/* for = 'for' '(' NAME 'in' expr '..' expr ')' block
 *     | 'for' '(' NAME ',' NAME ')' 'in' expr block */
static Node *parse_for(Parser *p, Pos pos)
{
    expect(p, "(");
    p->nest++;
    Pos vpos = p->tok->pos;
    const char *a = expect_ident(p, "a loop variable");
    if (consume(p, ",")) {
        Node *n = new_node(N_FOR_MAP, pos);
        n->var = xalloc(sizeof(Var));
        n->var->name = a;
        n->var->pos = vpos;
        n->var2 = xalloc(sizeof(Var));
        n->var2->pos = p->tok->pos;
        n->var2->name = expect_ident(p, "a value variable");
        p->nest--;
        expect(p, ")");
        expect(p, "in");
        bool saved = p->no_struct_lit;
        p->no_struct_lit = true;
        n->lhs = parse_expr(p);
        p->no_struct_lit = saved;
        n->body = parse_block(p);
        return n;
    }
    Node *n = new_node(N_FOR_RANGE, pos);
    n->var = xalloc(sizeof(Var));
    n->var->name = a;
    n->var->pos = vpos;
    expect(p, "in");
    n->init = parse_binary(p, 1);
    expect(p, "..");
    n->rhs = parse_binary(p, 1);
    p->nest--;
    expect(p, ")");
    n->body = parse_block(p);
    return n;
}

/* try = 'try' block { 'catch' (INT | NAME | '_') block } */
static Node *parse_try(Parser *p, Pos pos)
{
    Node *n = new_node(N_TRY, pos);
    n->body = parse_block(p);
    while (tok_is(p, "catch")) {
        Node *c = new_node(N_CATCH, p->tok->pos);
        p->tok++;
        if (tok_is(p, "_")) {
            p->tok++;
        } else if (tok_is(p, "{")) {
            /* catch { } : catches everything */
        } else {
            c->has_code = true;
            c->lhs = parse_binary(p, 1);
        }
        c->body = parse_block(p);
        vpush(n->args, c);
    }
    if (!n->args.n)
        parse_error(p, "a try block needs at least one catch");
    return n;
}

static Node *parse_simple(Parser *p, NodeKind kind, Pos pos)
{
    Node *n = new_node(kind, pos);
    if (kind == N_RETURN || kind == N_THROW) {
        if (!at_stmt_end(p))
            n->lhs = parse_expr(p);
        else if (kind == N_THROW) {
            parse_error(p, "throw needs an error code");
            n->lhs = error_node(p);     /* the checker reads the code */
        }
    } else if (kind == N_DELETE) {
        n->lhs = parse_expr(p);
    }
    end_stmt(p);
    return n;
}

static const struct { const char *s; Op op; } assign_ops[] = {
    { "=", OP_NONE }, { "+=", OP_ADD }, { "-=", OP_SUB }, { "*=", OP_MUL }, { "/=", OP_DIV },
    { "%=", OP_MOD }, { "&=", OP_AND }, { "|=", OP_OR }, { "^=", OP_XOR }, { "<<=", OP_SHL },
    { ">>=", OP_SHR },
};

/* expr_stmt = expr [assign_op expr] */
static Node *parse_expr_stmt(Parser *p)
{
    Node *e = parse_expr(p);
    for (size_t i = 0; i < sizeof assign_ops / sizeof *assign_ops; i++) {
        if (tok_is(p, assign_ops[i].s)) {
            Node *a = new_node(N_ASSIGN, p->tok->pos);
            p->tok++;
            a->op = assign_ops[i].op;
            a->lhs = e;
            a->rhs = parse_expr(p);
            end_stmt(p);
            return a;
        }
    }
    Node *s = new_node(N_EXPR, e->pos);
    s->lhs = e;
    /* if/match/block used as statements need no terminator */
    if (e->kind != N_IF && e->kind != N_MATCH && e->kind != N_BLOCK)
        end_stmt(p);
    return s;
}

Node *parse_stmt(Parser *p)
{
    Pos pos = p->tok->pos;
    if (!enter(p))
        return NULL;
    Node *n;
    if (consume(p, "var") || consume(p, "const")) {
        bool is_const = !strcmp(p->tok[-1].text, "const");
        n = parse_var(p, is_const, pos);
        end_stmt(p);
    } else if (consume(p, "for"))
        n = parse_for(p, pos);
    else if (consume(p, "while")) {
        n = new_node(N_WHILE, pos);
        expect(p, "(");
        p->nest++;
        n->cond = parse_expr(p);
        p->nest--;
        expect(p, ")");
        n->body = parse_block(p);
    } else if (consume(p, "loop")) {
        n = new_node(N_LOOP, pos);
        n->body = parse_block(p);
    } else if (consume(p, "return"))
        n = parse_simple(p, N_RETURN, pos);
    else if (consume(p, "break"))
        n = parse_simple(p, N_BREAK, pos);
    else if (consume(p, "continue"))
        n = parse_simple(p, N_CONTINUE, pos);
    else if (consume(p, "throw"))
        n = parse_simple(p, N_THROW, pos);
    else if (consume(p, "delete"))
        n = parse_simple(p, N_DELETE, pos);
    else if (consume(p, "try"))
        n = parse_try(p, pos);
    else if (consume(p, "defer")) {
        n = new_node(N_DEFER, pos);
        n->body = tok_is(p, "{") ? parse_block(p) : parse_stmt(p);
        if (!n->body)
            n = NULL;   /* `defer fn ...`: reported, nothing to defer */
    } else if (tok_is(p, "fn") || tok_is(p, "struct") || tok_is(p, "@")) {
        parse_error(p, "'%s' declarations belong at the top level, not inside a function", p->tok->text);
        n = NULL;
    } else
        n = parse_expr_stmt(p);
    leave(p);
    return n;
}
