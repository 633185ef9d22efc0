/* The parser, part one: tokens, types and top-level declarations, with
 * include and import. Functions are named after the grammar rules they
 * parse. Errors resynchronise at the next declaration or statement. */
#include "frontend/internal.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Nesting limit of the syntax tree, counted by enter(): brackets, blocks,
 * unary operators, and each link of a left-deep chain (a + b + c ...,
 * f()()...). Every pass walks the tree recursively; 1000 levels stay an
 * order of magnitude below what 8 MB of stack holds even with ASan. */
#define MAX_DEPTH 1000

Node *new_node(NodeKind kind, Pos pos)
{
    Node *n = xalloc(sizeof(Node));
    n->kind = kind;
    n->pos = pos;
    return n;
}

bool tok_is(Parser *p, const char *s)
{
    Token *t = p->tok;
    if (t->kind != T_PUNCT && t->kind != T_KEYWORD && t->kind != T_IDENT)
        return false;
    return t->text[0] == s[0] && !strcmp(t->text, s);   /* the first byte rules out most */
}

bool consume(Parser *p, const char *s)
{
    if (!tok_is(p, s))
        return false;
    if (p->tok->kind != T_EOF)
        p->tok++;
    return true;
}

const char *tok_desc(Token *t)
{
    switch (t->kind) {
    case T_EOF: return "end of file";
    case T_STR: return "a string literal";
    case T_INT: return xfmt("'%.*s'", t->len, t->text);
    case T_CHAR: return "a character literal";
    default: return xfmt("'%s'", t->text);
    }
}

void parse_error(Parser *p, const char *fmt, ...)
{
    if (p->quiet)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_at(p->tok->pos, "%s", msg);
    p->quiet = true;
}

void expect(Parser *p, const char *s)
{
    if (consume(p, s))
        return;
    Token *t = p->tok;
    /* A missing closer is reported where the line ended, not on the next token. */
    if (t->nl && t > p->toks && strchr(");]}", s[0]) && !p->quiet) {
        Token *prev = t - 1;
        int len;
        diag_line_text(prev->pos.file, prev->pos.line, &len);
        Pos at = prev->pos;
        at.col = len + 1;
        error_at(at, "expected '%s' at the end of the line", s);
        p->quiet = true;
        return;
    }
    parse_error(p, "expected '%s' but found %s", s, tok_desc(t));
}

const char *expect_ident(Parser *p, const char *what)
{
    if (p->tok->kind == T_IDENT)
        return (p->tok++)->text;
    parse_error(p, "expected %s but found %s", what, tok_desc(p->tok));
    return intern("<error>", 7);
}

bool enter(Parser *p)
{
    if (++p->depth > MAX_DEPTH) {
        if (!p->quiet) {
            parse_error(p, "nesting is too deep (more than %d levels)", MAX_DEPTH);
            help("split the expression or the nested blocks into smaller pieces");
        }
        p->depth--;
        return false;
    }
    return true;
}

void leave(Parser *p) { p->depth--; }

bool at_stmt_end(Parser *p)
{
    return p->tok->nl || tok_is(p, ";") || tok_is(p, "}") || p->tok->kind == T_EOF;
}

void end_stmt(Parser *p)
{
    if (consume(p, ";"))
        return;
    if (p->tok->nl || tok_is(p, "}") || p->tok->kind == T_EOF)
        return;
    parse_error(p, "expected a newline or ';' after the statement, found %s", tok_desc(p->tok));
}

/* ---- types ------------------------------------------------------------ */

static const struct { const char *name; MapKind kind; } map_names[] = {
    { "hash", MAP_HASH }, { "array", MAP_ARRAY }, { "percpu_hash", MAP_PERCPU_HASH },
    { "percpu_array", MAP_PERCPU_ARRAY }, { "lru_hash", MAP_LRU_HASH },
    { "lru_percpu_hash", MAP_LRU_PERCPU_HASH }, { "ringbuf", MAP_RINGBUF },
    { "prog_array", MAP_PROG_ARRAY }, { "perf_event_array", MAP_PERF_EVENT_ARRAY },
};

static int map_kind_of(const char *name)
{
    for (size_t i = 0; i < sizeof map_names / sizeof *map_names; i++)
        if (!strcmp(map_names[i].name, name))
            return (int)map_names[i].kind;
    return -1;
}

static Type *named_type(const char *name, const char *ns, Pos pos)
{
    Type *t = new_type(TY_NAMED, 0, 1);
    t->name = name;
    t->ns = ns;
    t->pos = pos;
    return t;
}

/* map_type = NAME '<' type ',' type '>' '(' expr ')' | ringbuf '<' type '>' '(' expr ')'
 *          | prog_array '(' expr ')' | perf_event_array ['(' expr ')'] */
static Type *parse_map_type(Parser *p, MapKind kind, Pos pos)
{
    Type *t = new_type(TY_MAP, 0, 1);
    t->map = kind;
    t->pos = pos;
    t->numa_node = -1;
    if (consume(p, "<")) {
        Type *first = parse_type(p);
        if (consume(p, ",")) {
            t->key = first;
            t->base = parse_type(p);
        } else {
            t->base = first;
        }
        expect(p, ">");
    }
    if (consume(p, "(")) {
        p->nest++;
        t->len_expr = parse_expr(p);
        p->nest--;
        expect(p, ")");
    }
    return t;
}

/* fn_type = 'fn' '(' [type {',' type}] ')' ['->' type] */
static Type *parse_fn_type(Parser *p, Pos pos)
{
    expect(p, "(");
    VEC(Type *) params = { 0 };
    while (!tok_is(p, ")") && p->tok->kind != T_EOF && !p->quiet) {
        /* A parameter name is allowed and ignored: fn(x: u32) */
        if (p->tok->kind == T_IDENT && !strcmp(p->tok[1].text ? p->tok[1].text : "", ":")
            && p->tok[1].kind == T_PUNCT)
            p->tok += 2;
        vpush(params, parse_type(p));
        if (!consume(p, ","))
            break;
    }
    expect(p, ")");
    Type *ret = ty_void;
    if (consume(p, "->"))
        ret = parse_type(p);
    Type *t = func_type(ret, params.v, params.n);
    t->pos = pos;
    return t;
}

/* type = '*' type | '[' type ';' expr ']' | 'str' '(' expr ')' | fn_type
 *      | map_type | ['struct'|'enum'] NAME ['.' NAME] , then { '[' expr ']' } */
Type *parse_type(Parser *p)
{
    Pos pos = p->tok->pos;
    if (!enter(p))
        return ty_error;
    Type *t;
    if (consume(p, "*")) {
        t = pointer_to(parse_type(p));
        leave(p);
        return t;
    }
    if (consume(p, "[")) {
        p->nest++;
        Type *elem = parse_type(p);
        expect(p, ";");
        t = array_of(elem, 0);
        t->len_expr = parse_expr(p);
        p->nest--;
        expect(p, "]");
    } else if (consume(p, "fn")) {
        t = parse_fn_type(p, pos);
    } else if (p->tok->kind == T_IDENT && !strcmp(p->tok->text, "str") && tok_is(&(Parser){ .tok = p->tok + 1 }, "(")) {
        p->tok += 2;
        p->nest++;
        t = str_type(0);
        t->len_expr = parse_expr(p);
        p->nest--;
        expect(p, ")");
    } else {
        if (!consume(p, "struct"))
            consume(p, "enum");
        if (p->tok->kind != T_IDENT) {
            parse_error(p, "expected a type but found %s", tok_desc(p->tok));
            leave(p);
            return ty_error;
        }
        const char *name = (p->tok++)->text;
        int mk = map_kind_of(name);
        /* perf_event_array takes no arguments; the others always do */
        if (mk >= 0 && (tok_is(p, "<") || tok_is(p, "(") || mk == MAP_PERF_EVENT_ARRAY)) {
            t = parse_map_type(p, (MapKind)mk, pos);
        } else if (tok_is(p, ".") && p->tok[1].kind == T_IDENT) {
            p->tok++;
            t = named_type((p->tok++)->text, name, pos);
        } else {
            t = named_type(name, NULL, pos);
        }
    }
    while (tok_is(p, "[") && !p->tok->nl) {
        p->tok++;
        p->nest++;
        Type *a = array_of(t, 0);
        a->pos = pos;
        a->len_expr = parse_expr(p);
        p->nest--;
        expect(p, "]");
        t = a;
    }
    leave(p);
    return t;
}

/* ---- attributes -------------------------------------------------------- */

typedef struct Attr { const char *name; Pos pos; NodeVec args; } Attr;
typedef VEC(Attr) AttrVec;

/* attr = '@' NAME ['(' [expr {',' expr}] ')'] */
static void parse_attrs(Parser *p, AttrVec *out)
{
    while (tok_is(p, "@")) {
        Attr a = { 0 };
        a.pos = p->tok->pos;
        p->tok++;
        a.name = expect_ident(p, "an attribute name");
        if (consume(p, "(")) {
            p->nest++;
            while (!tok_is(p, ")") && p->tok->kind != T_EOF && !p->quiet) {
                vpush(a.args, parse_expr(p));
                if (!consume(p, ","))
                    break;
            }
            p->nest--;
            expect(p, ")");
        }
        vpush(*out, a);
    }
}

static const struct { const char *name; FuncKind kind; } fn_attrs[] = {
    { "xdp", FN_XDP }, { "tc", FN_TC }, { "probe", FN_PROBE }, { "kprobe", FN_PROBE },
    { "tracepoint", FN_TRACEPOINT }, { "perf_event", FN_PERF_EVENT },
    { "helper", FN_HELPER }, { "kfunc", FN_KFUNC }, { "private", FN_PRIVATE },
    { "test", FN_TEST },
};

static const char *attr_string(Parser *p, Attr *a)
{
    if (a->args.n != 1 || a->args.v[0]->kind != N_STR) {
        error_at(a->pos, "@%s takes one string argument", a->name);
        return NULL;
    }
    (void)p;
    return a->args.v[0]->sval;
}

/* Applies function attributes; reports unknown and conflicting ones. */
static void apply_fn_attrs(Parser *p, Func *f, AttrVec *attrs)
{
    bool seen = false;
    for (int i = 0; i < attrs->n; i++) {
        Attr *a = &attrs->v[i];
        int k = -1;
        for (size_t j = 0; j < sizeof fn_attrs / sizeof *fn_attrs; j++)
            if (!strcmp(fn_attrs[j].name, a->name))
                k = (int)j;
        if (k < 0) {
            error_at(a->pos, "unknown function attribute '@%s'", a->name);
            help("function attributes are @xdp @tc @probe @tracepoint @perf_event @helper @kfunc @private @test");
            continue;
        }
        if (seen) {
            error_at(a->pos, "a function takes one kind attribute; '@%s' is a second one", a->name);
            continue;
        }
        seen = true;
        f->kind = fn_attrs[k].kind;
        bool wants_arg = f->kind == FN_TC || f->kind == FN_PROBE || f->kind == FN_TRACEPOINT;
        if (f->kind == FN_TC && !a->args.n) {
            f->attr_arg = "ingress";    /* a bare @tc is ingress */
        } else if (wants_arg && !a->args.n) {
            f->attr_arg = NULL;         /* the checker says what is missing */
        } else if (wants_arg) {
            /* "" after a reported error: the checker says nothing more */
            f->attr_arg = attr_string(p, a);
            if (!f->attr_arg)
                f->attr_arg = "";
        } else if (a->args.n) {
            error_at(a->pos, "@%s takes no arguments", a->name);
        }
        if (f->kind == FN_TC && a->args.n == 1 && *f->attr_arg) {
            if (!strcmp(f->attr_arg, "egress"))
                f->tc_egress = true;
            else if (strcmp(f->attr_arg, "ingress"))
                error_at(a->args.v[0]->pos, "@tc direction must be \"ingress\" or \"egress\"");
        }
    }
}

/* ---- declarations ------------------------------------------------------ */

static void add_decl(Parser *p, Decl d)
{
    d.module = p->mod;
    d.in_header = p->header;
    vpush(p->prog->decls, d);
}

/* param = NAME ':' type */
static void parse_params(Parser *p, Func *f)
{
    expect(p, "(");
    p->nest++;
    while (!tok_is(p, ")") && p->tok->kind != T_EOF && !p->quiet) {
        Var *v = xalloc(sizeof(Var));
        v->pos = p->tok->pos;
        v->name = expect_ident(p, "a parameter name");
        v->is_param = true;
        expect(p, ":");
        v->ty = parse_type(p);
        vpush(f->params, v);
        if (!consume(p, ","))
            break;
    }
    p->nest--;
    expect(p, ")");
}

/* fn_decl = 'fn' NAME '(' params ')' ['->' [NAME ':'] type] block */
static Func *parse_fn(Parser *p, AttrVec *attrs, bool is_extern)
{
    Func *f = xalloc(sizeof(Func));
    f->pos = p->tok->pos;
    f->name = expect_ident(p, "a function name");
    f->module = p->mod;
    if (is_extern)
        f->kind = FN_EXTERN;
    else if (attrs)
        apply_fn_attrs(p, f, attrs);
    parse_params(p, f);
    f->ret = NULL;
    if (consume(p, "->")) {
        if (p->tok->kind == T_IDENT && p->tok[1].kind == T_PUNCT && !strcmp(p->tok[1].text, ":")) {
            Var *rv = xalloc(sizeof(Var));
            rv->pos = p->tok->pos;
            rv->name = p->tok->text;
            rv->is_ret = true;
            p->tok += 2;
            rv->ty = parse_type(p);
            f->ret_var = rv;
            f->ret = rv->ty;
        } else {
            f->ret = parse_type(p);
        }
    }
    if (is_extern) {
        if (tok_is(p, "{"))
            parse_error(p, "an extern declaration has no body");
        end_stmt(p);
        return f;
    }
    if (!tok_is(p, "{")) {
        parse_error(p, "expected '{' to start the body of '%s'", f->name);
        return f;
    }
    if (p->header) {
        error_at(p->tok->pos, "an included header holds declarations only; '%s' has a body", f->name);
        help("move the function into a .ks file and import it, or declare it with extern");
    }
    f->body = parse_block(p);
    return f;
}

/* Members of struct, enum, config and impl bodies and of struct literals
 * are separated by ',' or a newline. When the separator is missing but
 * the next token starts another member (`x: u32 y: u32`), the error is
 * reported and parsing goes on with that member: skipping it would only
 * cause follow-on errors about a member that is really there. `follow`
 * lists the punctuation that may come after a member's name. */
void member_sep(Parser *p, const char *what, const char *follow)
{
    if (consume(p, ",") || p->tok->nl || tok_is(p, "}") || p->tok->kind == T_EOF)
        return;
    Token *t = p->tok;
    bool next_member = (t->kind == T_IDENT || t->kind == T_KEYWORD) && t[1].kind == T_PUNCT
                       && strstr(follow, t[1].text);
    parse_error(p, "expected ',' or a newline between %s, found %s", what, tok_desc(t));
    if (next_member)
        p->quiet = false;
}

/* After an error inside a struct, enum or config body: skip to the next
 * member (past a ','), the next line or the closing brace. The member
 * that failed may not have consumed a single token (a stray '{' at the
 * start of a line); skip that one first, or the loop would try the same
 * token forever. */
void resync_member(Parser *p, Token *before)
{
    if (p->tok == before && !tok_is(p, "}") && p->tok->kind != T_EOF) {
        p->tok++;
        p->quiet = true;    /* no progress at all: skip the rest of the line too */
    }
    if (!p->quiet)
        return;
    /* to the next line, the closing brace, or past a ',' outside brackets */
    int depth = 0;
    while (!p->tok->nl && !(depth == 0 && tok_is(p, "}")) && p->tok->kind != T_EOF) {
        if (depth == 0 && consume(p, ","))
            break;
        if (tok_is(p, "(") || tok_is(p, "[") || tok_is(p, "{"))
            depth++;
        else if (tok_is(p, ")") || tok_is(p, "]") || tok_is(p, "}"))
            depth--;
        p->tok++;
    }
    p->quiet = false;
}

/* member_list = '{' { NAME ':' type ['=' expr] (',' | newline) } '}' */
typedef VEC(Member) MemberVec;

static MemberVec parse_members(Parser *p, bool with_init)
{
    MemberVec ms = { 0 };
    expect(p, "{");
    int saved = p->nest;
    p->nest = 0;
    while (!tok_is(p, "}") && p->tok->kind != T_EOF) {
        Token *before = p->tok;
        Member m = { 0 };
        m.pos = p->tok->pos;
        /* keywords are fine as field names (type: u16) */
        if (p->tok->kind != T_IDENT && p->tok->kind != T_KEYWORD) {
            /* no member without a name: the checker compares names */
            parse_error(p, "expected a field name but found %s", tok_desc(p->tok));
            resync_member(p, before);
            continue;
        }
        m.name = (p->tok++)->text;
        expect(p, ":");
        m.ty = parse_type(p);
        if (with_init && consume(p, "="))
            m.init = parse_expr(p);
        vpush(ms, m);
        member_sep(p, "fields", ":");
        resync_member(p, before);
    }
    p->nest = saved;
    expect(p, "}");
    return ms;
}

static void parse_struct(Parser *p, AttrVec *attrs)
{
    Pos pos = p->tok->pos;
    const char *name = expect_ident(p, "a struct name");
    Type *t = new_type(TY_STRUCT, 0, 1);
    t->name = name;
    t->pos = pos;
    for (int i = 0; i < attrs->n; i++) {
        if (!strcmp(attrs->v[i].name, "packed"))
            t->packed = true;
        else
            error_at(attrs->v[i].pos, "unknown struct attribute '@%s'", attrs->v[i].name);
    }
    MemberVec ms = parse_members(p, false);
    t->members = ms.v;
    t->nmembers = ms.n;
    add_decl(p, (Decl){ .kind = D_STRUCT, .pos = pos, .type = t });
}

/* enum_decl = 'enum' NAME '{' { NAME ['=' expr] (',' | newline) } '}' */
static void parse_enum(Parser *p)
{
    Pos pos = p->tok->pos;
    Type *t = new_type(TY_ENUM, 4, 4);
    t->name = expect_ident(p, "an enum name");
    t->pos = pos;
    expect(p, "{");
    VEC(EnumVal) vals = { 0 };
    VEC(Node *) inits = { 0 };
    while (!tok_is(p, "}") && p->tok->kind != T_EOF) {
        Token *before = p->tok;
        EnumVal v = { 0 };
        v.pos = p->tok->pos;
        if (p->tok->kind != T_IDENT) {  /* no nameless variant (<error> twice is a duplicate) */
            parse_error(p, "expected an enum variant but found %s", tok_desc(p->tok));
            resync_member(p, before);
            continue;
        }
        v.name = (p->tok++)->text;
        Node *init = consume(p, "=") ? parse_expr(p) : NULL;
        vpush(vals, v);
        vpush(inits, init);
        member_sep(p, "variants", "=,}");
        resync_member(p, before);
    }
    expect(p, "}");
    t->vals = vals.v;
    t->nvals = vals.n;
    /* The initialisers travel to the checker through a member array. */
    t->members = xalloc(sizeof(Member) * (size_t)(inits.n ? inits.n : 1));
    for (int i = 0; i < inits.n; i++)
        t->members[i].init = inits.v[i];
    add_decl(p, (Decl){ .kind = D_ENUM, .pos = pos, .type = t });
}

static void parse_config(Parser *p)
{
    Pos pos = p->tok->pos;
    Global *g = xalloc(sizeof(Global));
    g->kind = GV_CONFIG;
    g->pos = pos;
    g->name = expect_ident(p, "a config name");
    g->module = p->mod;
    Type *t = new_type(TY_STRUCT, 0, 1);
    t->name = g->name;
    t->pos = pos;
    MemberVec ms = parse_members(p, true);
    t->members = ms.v;
    t->nmembers = ms.n;
    g->ty = t;
    add_decl(p, (Decl){ .kind = D_GLOBAL, .pos = pos, .global = g });
}

/* const_decl = 'const' NAME [':' type] '=' expr */
static void parse_const(Parser *p)
{
    Sym *s = xalloc(sizeof(Sym));
    s->kind = SYM_CONST;
    s->pos = p->tok->pos;
    s->name = expect_ident(p, "a constant name");
    if (consume(p, ":"))
        s->type = parse_type(p);
    expect(p, "=");
    s->init = parse_expr(p);
    end_stmt(p);
    add_decl(p, (Decl){ .kind = D_CONST, .pos = s->pos, .sym = s });
}

/* global = ['pin'] ['local'] 'var' NAME [':' type] ['=' expr] */
static void parse_global(Parser *p, AttrVec *attrs, bool pin, bool local, Pos start)
{
    Global *g = xalloc(sizeof(Global));
    g->pos = p->tok->pos;
    g->name = expect_ident(p, "a variable name");
    if (p->quiet)
        return;     /* no name: nothing to declare, resync at the next declaration */
    g->module = p->mod;
    g->pinned = pin;
    g->kind = local ? GV_LOCAL : pin ? GV_PIN : GV_VAR;
    if (pin && local) {
        error_at(start, "'pin local var' is not allowed: a local variable is kernel-only and cannot be pinned");
        help("use 'pin var' to share and pin it, or 'local var' to keep it in the kernel");
    }
    if (consume(p, ":"))
        g->ty = parse_type(p);
    if (consume(p, "="))
        g->init = parse_expr(p);
    if (!g->ty && !g->init) {
        error_at(g->pos, "global '%s' needs a type or an initial value", g->name);
        g->ty = ty_error;   /* the checker expects a type or a value */
    }
    for (int i = 0; i < attrs->n; i++) {
        Attr *a = &attrs->v[i];
        if (!strcmp(a->name, "flags")) {
            for (int j = 0; j < a->args.n; j++)
                vpush(g->flags, a->args.v[j]);
            g->flags_pos = a->pos;
        } else {
            error_at(a->pos, "unknown variable attribute '@%s'", a->name);
            help("maps take @flags(...)");
        }
    }
    end_stmt(p);
    if (g->ty && g->ty->kind == TY_MAP && !local)
        g->kind = GV_MAP;   /* 'local var m: hash...' stays GV_LOCAL: the checker rejects it */
    add_decl(p, (Decl){ .kind = D_GLOBAL, .pos = g->pos, .global = g });
}

/* impl_decl = '@struct_ops' '(' STR ')' 'impl' NAME '{' { fn_decl | NAME ':' expr } '}' */
static void parse_impl(Parser *p, AttrVec *attrs)
{
    Impl *im = xalloc(sizeof(Impl));
    im->pos = p->tok->pos;
    im->name = expect_ident(p, "an impl name");
    im->module = p->mod;
    bool have = false;
    for (int i = 0; i < attrs->n; i++) {
        if (!strcmp(attrs->v[i].name, "struct_ops")) {
            im->ops = attr_string(p, &attrs->v[i]);
            have = true;
        } else {
            error_at(attrs->v[i].pos, "unknown impl attribute '@%s'", attrs->v[i].name);
        }
    }
    if (!have) {
        error_at(im->pos, "an impl block needs @struct_ops(\"KERNEL_STRUCT\")");
        help("write @struct_ops(\"tcp_congestion_ops\") before 'impl'");
    }
    expect(p, "{");
    while (!tok_is(p, "}") && p->tok->kind != T_EOF) {
        Token *before = p->tok;
        AttrVec fa = { 0 };
        parse_attrs(p, &fa);
        if (consume(p, "fn")) {
            Func *f = parse_fn(p, NULL, false);
            f->kind = FN_STRUCT_OPS;
            f->impl = im;
            for (int i = 0; i < fa.n; i++)
                error_at(fa.v[i].pos, "members of an impl take no attributes");
            vpush(im->funcs, f);
            add_decl(p, (Decl){ .kind = D_FUNC, .pos = f->pos, .func = f });
        } else if (p->tok->kind == T_IDENT || p->tok->kind == T_KEYWORD) {
            Member m = { 0 };
            m.pos = p->tok->pos;
            m.name = (p->tok++)->text;
            expect(p, ":");
            m.init = parse_expr(p);
            vpush(im->data, m);
            member_sep(p, "members", ":");
        } else {
            parse_error(p, "expected 'fn' or a data member in the impl, found %s", tok_desc(p->tok));
        }
        if (p->quiet || p->tok == before) {
            while (!(p->tok->nl && p->tok != before) && !tok_is(p, "}") && p->tok->kind != T_EOF)
                p->tok++;
            p->quiet = false;
        }
    }
    expect(p, "}");
    add_decl(p, (Decl){ .kind = D_IMPL, .pos = im->pos, .impl = im });
}

/* ---- files, include and import ---------------------------------------- */

static void parse_decls(Parser *p);

static const char *dir_of(const char *path)
{
    char *c = xstrdup(path);
    return xstrdup(dirname(c));
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Relative to the including file first, then each -I directory. */
static const char *find_include(Parser *p, const char *name)
{
    if (name[0] == '/')
        return file_exists(name) ? name : NULL;
    const char *cand = xfmt("%s/%s", dir_of(p->path), name);
    if (file_exists(cand))
        return cand;
    for (int i = 0; p->opts && i < p->opts->include_dirs.n; i++) {
        cand = xfmt("%s/%s", p->opts->include_dirs.v[i], name);
        if (file_exists(cand))
            return cand;
    }
    return NULL;
}

static StrMap files_open;   /* path -> Module* (imports) or (void*)1 (includes in progress) */

static void parse_file_into(Parser *outer, const char *path, Module *mod, bool header, Pos at)
{
    size_t len;
    char *src = read_file(path, &len);
    if (!src) {
        error_at(at, "cannot read '%s'", path);
        return;
    }
    int fid = diag_add_file(path, src, len);
    TokVec toks = { 0 };
    lex_file(fid, src, len, &toks);
    Parser p = { .tok = toks.v, .toks = toks.v, .prog = outer->prog, .mod = mod,
                 .opts = outer->opts, .path = path, .header = header };
    parse_decls(&p);
}

/* include = 'include' STR */
static void parse_include(Parser *p)
{
    Pos pos = p->tok->pos;
    if (p->tok->kind != T_STR) {
        parse_error(p, "include takes a file name in quotes");
        return;
    }
    const char *name = (p->tok++)->sval;
    end_stmt(p);
    const char *path = find_include(p, name);
    if (!path) {
        error_at(pos, "cannot find include file '%s'", name);
        help("include paths are the including file's folder and each -I DIR");
        return;
    }
    char *rp = realpath(path, NULL);
    char *key = xfmt("inc:%s:%p", rp ? rp : path, (void *)p->mod);
    free(rp);
    if (strmap_get(&files_open, key))
        return;     /* already included into this module: include once */
    strmap_put(&files_open, key, (void *)1);
    parse_file_into(p, path, p->mod, true, pos);
}

/* import = 'import' NAME 'from' STR */
static void parse_import(Parser *p)
{
    Pos pos = p->tok->pos;
    const char *ns = expect_ident(p, "a namespace name");
    expect(p, "from");
    if (p->tok->kind != T_STR) {
        parse_error(p, "import takes a file name in quotes: import NAME from \"file.ks\"");
        return;
    }
    Pos fpos = p->tok->pos;
    const char *name = (p->tok++)->sval;
    end_stmt(p);
    size_t n = strlen(name);
    if (n >= 3 && !strcmp(name + n - 3, ".py")) {
        error_at(fpos, "importing Python modules is not supported by ksc");
        help("ksc compiles KernelScript only; import a .ks file, or run the Python code separately");
        return;
    }
    if (n < 3 || strcmp(name + n - 3, ".ks")) {
        error_at(fpos, "an import names a .ks file, not '%s'", name);
        return;
    }
    const char *path = find_include(p, name);
    if (!path) {
        error_at(fpos, "cannot find imported file '%s'", name);
        return;
    }
    Module *m = xalloc(sizeof(Module));
    m->ns = ns;
    m->path = path;
    m->parent = p->mod;
    vpush(p->prog->modules, m);
    Sym *s = xalloc(sizeof(Sym));
    s->kind = SYM_MODULE;
    s->name = ns;
    s->pos = pos;
    s->module = m;
    add_decl(p, (Decl){ .kind = D_IMPORT, .pos = pos, .sym = s });
    char *rp = realpath(path, NULL);
    char *key = xfmt("imp:%s", rp ? rp : path);
    free(rp);
    /* An import cycle would recurse forever: refuse the inner edge. */
    for (Module *up = p->mod; up; up = up->parent) {
        char *urp = realpath(up->path, NULL);
        bool same = urp && !strcmp(xfmt("imp:%s", urp), key);
        free(urp);
        if (same) {
            error_at(fpos, "import cycle: '%s' imports itself", name);
            return;
        }
    }
    parse_file_into(p, path, m, false, fpos);
}

/* Skips to the start of the next plausible declaration. */
static void sync_decl(Parser *p)
{
    int depth = 0;
    while (p->tok->kind != T_EOF) {
        if (tok_is(p, "{"))
            depth++;
        else if (tok_is(p, "}")) {
            if (depth <= 1) {
                p->tok++;
                if (depth == 1)
                    break;
                continue;
            }
            depth--;
        } else if (depth == 0 && p->tok->nl) {
            static const char *starts[] = { "fn", "@", "var", "pin", "local", "const", "struct",
                "enum", "type", "config", "include", "import", "extern", "impl", "pub", "priv", NULL };
            for (int i = 0; starts[i]; i++)
                if (tok_is(p, starts[i]))
                    return;
        }
        p->tok++;
    }
}

/* decl = attrs (fn_decl | struct_decl | global | impl_decl) | enum_decl | config_decl
 *      | const_decl | type_alias | include | import | extern_decl */
static void parse_decl(Parser *p)
{
    AttrVec attrs = { 0 };
    Pos start = p->tok->pos;
    parse_attrs(p, &attrs);
    bool priv = consume(p, "priv");
    if (!priv)
        consume(p, "pub");
    bool pin = consume(p, "pin");
    parse_attrs(p, &attrs);     /* @flags may stand after pin */
    bool local = consume(p, "local");
    if (pin || local || tok_is(p, "var")) {
        expect(p, "var");
        if (!p->quiet)
            parse_global(p, &attrs, pin, local, start);
        return;
    }
    if (consume(p, "fn")) {
        Func *f = parse_fn(p, &attrs, false);
        f->is_priv = priv;
        add_decl(p, (Decl){ .kind = D_FUNC, .pos = f->pos, .func = f });
        return;
    }
    if (consume(p, "struct")) {
        parse_struct(p, &attrs);
        return;
    }
    if (consume(p, "impl")) {
        parse_impl(p, &attrs);
        return;
    }
    if (attrs.n) {
        parse_error(p, "expected fn, var, struct or impl after the attribute, found %s", tok_desc(p->tok));
        return;
    }
    if (consume(p, "enum"))
        parse_enum(p);
    else if (consume(p, "config")) {
        if (p->header)
            error_at(start, "an included header holds declarations only; config blocks go in a .ks file");
        parse_config(p);
    } else if (consume(p, "const"))
        parse_const(p);
    else if (consume(p, "type")) {
        Sym *s = xalloc(sizeof(Sym));
        s->kind = SYM_TYPE;
        s->pos = p->tok->pos;
        s->name = expect_ident(p, "a type name");
        expect(p, "=");
        s->type = parse_type(p);
        end_stmt(p);
        add_decl(p, (Decl){ .kind = D_ALIAS, .pos = s->pos, .sym = s });
    } else if (consume(p, "include"))
        parse_include(p);
    else if (consume(p, "import")) {
        if (p->header)
            error_at(start, "an included header holds declarations only; 'import' goes in a .ks file");
        parse_import(p);
    } else if (consume(p, "extern")) {
        consume(p, "fn");
        Func *f = parse_fn(p, NULL, true);
        add_decl(p, (Decl){ .kind = D_FUNC, .pos = f->pos, .func = f });
    } else if (tok_is(p, "new") || tok_is(p, "exec"))
        parse_error(p, "'%s' is not part of KernelScript as ksc implements it", p->tok->text);
    else
        parse_error(p, "expected a declaration but found %s", tok_desc(p->tok));
}

static void parse_decls(Parser *p)
{
    while (p->tok->kind != T_EOF) {
        Token *before = p->tok;
        if (consume(p, ";"))
            continue;
        parse_decl(p);
        if (p->quiet || p->tok == before) {
            if (p->tok == before)
                p->tok++;
            sync_decl(p);
            p->quiet = false;
        }
    }
}

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    return dot && dot != b ? xstrndup(b, (size_t)(dot - b)) : xstrdup(b);
}

Program *parse_buffer(const char *name, const char *src, size_t len, FrontOpts *opts)
{
    types_init();
    memset(&files_open, 0, sizeof files_open);
    Program *prog = xalloc(sizeof(Program));
    prog->path = name;
    prog->project = opts && opts->project ? opts->project : base_name(name);
    prog->main = xalloc(sizeof(Module));
    prog->main->path = name;
    vpush(prog->modules, prog->main);
    int fid = diag_add_file(name, src, len);
    TokVec toks = { 0 };
    lex_file(fid, src, len, &toks);
    Parser p = { .tok = toks.v, .toks = toks.v, .prog = prog, .mod = prog->main,
                 .opts = opts, .path = name };
    parse_decls(&p);
    return prog;
}

Program *parse_program(const char *path, FrontOpts *opts)
{
    size_t len;
    char *src = read_file(path, &len);
    if (!src)
        return NULL;
    return parse_buffer(path, src, len, opts);
}
