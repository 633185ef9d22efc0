/* Parser unit tests: every declaration and statement form of LANGUAGE.md,
 * both array spellings, newline versus ';', trailing commas, operator
 * precedence (as an S-expression of the tree), and error recovery counts. */
#include "tests/unit/unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/internal.h"

static int nerrors;
static char *diag_text;

/* Parses src (no checking); diagnostics are captured. src may live in
 * the arena that unit_reset() frees, and the program points into its
 * text: it is copied, and the copy kept until the next parse. */
static Program *parse(const char *text)
{
    static char *src;
    free(src);
    src = strdup(text);
    unit_reset();
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_set_output(mem);
    FrontOpts opts = { 0 };
    opts.btf_path = "none";
    Program *p = parse_buffer("/nonexistent/t.ks", src, strlen(src), &opts);
    fclose(mem);
    diag_set_output(NULL);
    nerrors = diag_errors();
    diag_text = xstrdup(buf ? buf : "");
    free(buf);
    return p;
}

/* ---- an S-expression of an expression tree ---------------------------- */

static const char *sx(Node *n);

static const char *sx_type(Type *t)
{
    if (!t)
        return "?";
    if (t->kind == TY_NAMED)
        return t->name;
    if (t->kind == TY_PTR)
        return xfmt("*%s", sx_type(t->base));
    if (t->kind == TY_ARRAY)
        return xfmt("[%s; %s]", sx_type(t->base), sx(t->len_expr));
    return type_name(t);
}

static const char *sx_list(NodeVec *v)
{
    const char *s = "";
    for (int i = 0; i < v->n; i++)
        s = xfmt("%s %s", s, sx(v->v[i]));
    return s;
}

static const char *sx(Node *n)
{
    if (!n)
        return "_";
    switch (n->kind) {
    case N_INT: return xfmt("%llu", (unsigned long long)n->ival);
    case N_CHAR: return xfmt("'%c'", (char)n->ival);
    case N_BOOL: return n->ival ? "true" : "false";
    case N_STR: return xfmt("\"%s\"", n->sval);
    case N_NULL: return "null";
    case N_IDENT: return n->name;
    case N_SCOPED: return xfmt("%s::%s", n->lhs->name, n->name);
    case N_BINARY: case N_UNARY:
        return n->rhs ? xfmt("(%s %s %s)", op_spelling(n->op), sx(n->lhs), sx(n->rhs))
                      : xfmt("(%s %s)", op_spelling(n->op), sx(n->lhs));
    case N_ADDR: return xfmt("(& %s)", sx(n->lhs));
    case N_DEREF: return xfmt("(* %s)", sx(n->lhs));
    case N_CAST: return xfmt("(as %s %s)", sx(n->lhs), sx_type(n->decl_ty));
    case N_TERNARY: return xfmt("(? %s %s %s)", sx(n->cond), sx(n->then), sx(n->els));
    case N_CALL: return xfmt("(call %s%s)", sx(n->lhs), sx_list(&n->args));
    case N_INDEX: return xfmt("([] %s %s)", sx(n->lhs), sx(n->rhs));
    case N_FIELD: return xfmt("(%s %s %s)", n->arrow ? "->" : ".", sx(n->lhs), n->name);
    case N_SIZEOF: return xfmt("(sizeof %s)", n->decl_ty ? sx_type(n->decl_ty) : sx(n->lhs));
    case N_STRUCT_LIT: {
        const char *s = xfmt("(%s{}", n->name);
        for (int i = 0; i < n->args.n; i++)
            s = xfmt("%s %s:%s", s, n->args.v[i]->name, sx(n->args.v[i]->lhs));
        return xfmt("%s)", s);
    }
    case N_ARRAY_LIT: return xfmt("[%s ]", sx_list(&n->args));
    case N_ARRAY_REPEAT: return xfmt("[%s; %s]", sx(n->lhs), sx(n->rhs));
    case N_MATCH: return xfmt("(match %s%s)", sx(n->cond), sx_list(&n->args));
    case N_ARM: return xfmt("(arm%s => %s)", sx_list(&n->args), sx(n->body));
    case N_IF: return xfmt("(if %s)", sx(n->cond));
    case N_BLOCK: return xfmt("{%s }", sx_list(&n->args));
    case N_EXPR: return sx(n->lhs);
    default: return xfmt("<%d>", n->kind);
    }
}

/* The expression of `const C = src`, as an S-expression. */
static const char *expr(const char *src)
{
    Program *p = parse(xfmt("const C = %s\n", src));
    CU_ASSERT_EQUAL(nerrors, 0);
    if (p->decls.n != 1 || p->decls.v[0].kind != D_CONST)
        return "<no const>";
    return sx(p->decls.v[0].sym->init);
}

#define EXPR_IS(src, want) CU_ASSERT_STRING_EQUAL(expr(src), want)

/* The statements of the only function in src. */
static NodeVec *body(Program *p)
{
    for (int i = 0; i < p->decls.n; i++)
        if (p->decls.v[i].kind == D_FUNC && p->decls.v[i].func->body)
            return &p->decls.v[i].func->body->args;
    static NodeVec none;
    return &none;
}

/* ---- precedence -------------------------------------------------------- */

static void test_precedence_arith(void)
{
    EXPR_IS("a + b * c", "(+ a (* b c))");
    EXPR_IS("a * b + c", "(+ (* a b) c)");
    EXPR_IS("a - b - c", "(- (- a b) c)");
    EXPR_IS("a / b % c", "(% (/ a b) c)");
    EXPR_IS("(a + b) * c", "(* (+ a b) c)");
    EXPR_IS("a << b + c", "(<< a (+ b c))");
    EXPR_IS("a < b == c < d", "(== (< a b) (< c d))");
    EXPR_IS("a & b == c", "(& a (== b c))");
    EXPR_IS("a | b ^ c & d", "(| a (^ b (& c d)))");
}

static void test_precedence_logic(void)
{
    EXPR_IS("a || b && c", "(|| a (&& b c))");
    EXPR_IS("a && b || c", "(|| (&& a b) c)");
    EXPR_IS("!a && b", "(&& (! a) b)");
    EXPR_IS("a ? b : c ? d : e", "(? a b (? c d e))");
    EXPR_IS("a || b ? c + 1 : d", "(? (|| a b) (+ c 1) d)");
}

static void test_precedence_unary_cast(void)
{
    EXPR_IS("a * b as u16", "(* a (as b u16))");
    EXPR_IS("-x as u8", "(as (- x) u8)");
    EXPR_IS("x as u8 as u32", "(as (as x u8) u32)");
    EXPR_IS("~a & b", "(& (~ a) b)");
    EXPR_IS("*p + 1", "(+ (* p) 1)");
    EXPR_IS("&s.f", "(& (. s f))");
    EXPR_IS("-a.b[1](2)", "(- (call ([] (. a b) 1) 2))");
    EXPR_IS("p->q.r", "(. (-> p q) r)");
    EXPR_IS("e as *u8", "(as e *u8)");
}

static void test_primary_forms(void)
{
    EXPR_IS("S { a: 1, b: x + 1, }", "(S{} a:1 b:(+ x 1))");
    EXPR_IS("S {}", "(S{})");
    EXPR_IS("[1, 2, 3,]", "[ 1 2 3 ]");
    EXPR_IS("[0; 16]", "[0; 16]");
    EXPR_IS("[]", "[ ]");
    EXPR_IS("sizeof(u32)", "(sizeof u32)");
    EXPR_IS("sizeof(x + 1)", "(sizeof (+ x 1))");
    EXPR_IS("sizeof(*u8)", "(sizeof *u8)");
    EXPR_IS("sizeof(u8[4])", "(sizeof [u8; 4])");
    EXPR_IS("E::V", "E::V");
    EXPR_IS("'a'", "'a'");
    EXPR_IS("\"s\"", "\"s\"");
    EXPR_IS("true && null == x", "(&& true (== null x))");
    EXPR_IS("f(1, 2,)", "(call f 1 2)");
    EXPR_IS("prog.load()", "(call (. prog load))");
    EXPR_IS("h.attach(\"eth0\", 0)", "(call (. h attach) \"eth0\" 0)");
    EXPR_IS("rb.reserve()", "(call (. rb reserve))");
    EXPR_IS("sk->type", "(-> sk type)");      /* a keyword as a field name */
    EXPR_IS("util.Pair { a: 1 }", "(Pair{} a:1)");
    EXPR_IS("match (x) { 1, 2: a, default: b, }", "(match x (arm 1 2 => a) (arm => b))");
}

/* ---- declarations ------------------------------------------------------ */

static const char *all_decls =
    "import util from \"./missing.ks\"\n"
    "extern bpf_ktime_get_ns() -> u64\n"
    "extern fn my_kfunc(a: u32) -> u32\n"
    "const MAX = 8\n"
    "const TYPED: u16 = 4;\n"
    "type IpAddr = u32\n"
    "struct Flow { src: IpAddr, dst: IpAddr\n sport: u16, dport: u16, }\n"
    "@packed struct P { a: u8, b: u32 }\n"
    "enum Verdict { ALLOW = 0, DENY = 1, }\n"
    "enum Nl {\n A\n B\n}\n"
    "config net { max_size: u32 = 1500, log: bool = false, ports: u16[2] = [1, 2] }\n"
    "var packets: u64 = 0\n"
    "local var secret: u64 = 7\n"
    "pin var boots: u64 = 0\n"
    "var counts : hash<u32, u64>(1024)\n"
    "pin var flows : lru_hash<Flow, u64>(4096)\n"
    "@flags(BPF_F_NO_PREALLOC) var sparse : hash<u32, u32>(65536)\n"
    "pin @flags(no_prealloc | rdonly) var pf : hash<u32, u32>(16)\n"
    "var events : ringbuf<Flow>(4096)\n"
    "var jumps : prog_array(8)\n"
    "var perf : perf_event_array\n"
    "@xdp fn filter(ctx: *xdp_md) -> xdp_action { return XDP_PASS }\n"
    "@tc(\"egress\") fn shape(ctx: *__sk_buff) -> i32 { return 0 }\n"
    "@helper fn add(a: u32, b: u32,) -> sum: u32 { sum = a + b; return }\n"
    "@struct_ops(\"tcp_congestion_ops\")\n"
    "impl my_cc {\n"
    "    fn ssthresh(sk: *u8) -> u32 { return 16 }\n"
    "    name: \"my_cc\",\n"
    "    flags: 0\n"
    "}\n"
    "fn cb(f: fn(u32, x: u64) -> i32, g: *fn() -> void) { }\n"
    "fn main() -> i32 { return 0 }\n";

static void test_declarations(void)
{
    Program *p = parse(all_decls);
    /* the only error: the imported file does not exist */
    CU_ASSERT_EQUAL(nerrors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(diag_text, "cannot find imported file './missing.ks'"));
    int count[8] = { 0 };
    for (int i = 0; i < p->decls.n; i++)
        count[p->decls.v[i].kind]++;
    CU_ASSERT_EQUAL(count[D_FUNC], 8);       /* 2 externs, 5 fns with main, 1 impl member */
    CU_ASSERT_EQUAL(count[D_GLOBAL], 11);    /* config, 3 vars, 7 maps */
    CU_ASSERT_EQUAL(count[D_STRUCT], 2);
    CU_ASSERT_EQUAL(count[D_ENUM], 2);
    CU_ASSERT_EQUAL(count[D_ALIAS], 1);
    CU_ASSERT_EQUAL(count[D_CONST], 2);
    CU_ASSERT_EQUAL(count[D_IMPL], 1);
}

static Decl *find_decl(Program *p, const char *name)
{
    for (int i = 0; i < p->decls.n; i++) {
        Decl *d = &p->decls.v[i];
        const char *n = d->kind == D_FUNC ? d->func->name : d->kind == D_GLOBAL ? d->global->name
                      : d->kind == D_STRUCT || d->kind == D_ENUM ? d->type->name
                      : d->kind == D_IMPL ? d->impl->name : d->sym->name;
        if (!strcmp(n, name))
            return d;
    }
    return NULL;
}

static void test_declaration_details(void)
{
    Program *p = parse(all_decls);
    Decl *d = find_decl(p, "Flow");
    CU_ASSERT_EQUAL(d->type->nmembers, 4);     /* commas and newlines */
    CU_ASSERT_TRUE(find_decl(p, "P")->type->packed);
    CU_ASSERT_EQUAL(find_decl(p, "Nl")->type->nvals, 2);
    CU_ASSERT_EQUAL(find_decl(p, "net")->global->kind, GV_CONFIG);
    CU_ASSERT_EQUAL(find_decl(p, "secret")->global->kind, GV_LOCAL);
    CU_ASSERT_EQUAL(find_decl(p, "boots")->global->kind, GV_PIN);
    Global *g = find_decl(p, "flows")->global;
    CU_ASSERT_TRUE(g->pinned);
    CU_ASSERT_EQUAL(g->ty->map, MAP_LRU_HASH);
    CU_ASSERT_EQUAL(find_decl(p, "sparse")->global->flags.n, 1);
    g = find_decl(p, "pf")->global;
    CU_ASSERT_TRUE(g->pinned);
    CU_ASSERT_EQUAL(g->flags.n, 1);             /* @flags after pin */
    CU_ASSERT_EQUAL(find_decl(p, "events")->global->ty->map, MAP_RINGBUF);
    CU_ASSERT_EQUAL(find_decl(p, "perf")->global->ty->map, MAP_PERF_EVENT_ARRAY);
    Func *f = find_decl(p, "shape")->func;
    CU_ASSERT_EQUAL(f->kind, FN_TC);
    CU_ASSERT_TRUE(f->tc_egress);
    f = find_decl(p, "add")->func;
    CU_ASSERT_EQUAL(f->kind, FN_HELPER);
    CU_ASSERT_EQUAL(f->params.n, 2);            /* trailing comma */
    CU_ASSERT_PTR_NOT_NULL(f->ret_var);
    CU_ASSERT_STRING_EQUAL(f->ret_var->name, "sum");
    CU_ASSERT_EQUAL(find_decl(p, "bpf_ktime_get_ns")->func->kind, FN_EXTERN);
    Impl *im = find_decl(p, "my_cc")->impl;
    CU_ASSERT_STRING_EQUAL(im->ops, "tcp_congestion_ops");
    CU_ASSERT_EQUAL(im->funcs.n, 1);
    CU_ASSERT_EQUAL(im->data.n, 2);
    f = find_decl(p, "cb")->func;
    CU_ASSERT_EQUAL(f->params.v[0]->ty->kind, TY_FUNC);
    CU_ASSERT_EQUAL(f->params.v[0]->ty->nparams, 2);
    CU_ASSERT_EQUAL(f->params.v[1]->ty->kind, TY_PTR);
}

static void test_array_spellings(void)
{
    UnitDiag d;
    Program *p = unit_check("var a: u8[4]\nvar b: [u8; 4]\nvar c: u32[2][3]\nvar e: [[u32; 2]; 3]\n"
                            "struct S { x: [u16; 5], y: u16[5] }\n", &d);
    CU_ASSERT_EQUAL(d.errors, 0);
    Type *a = p->globals.v[0]->ty, *b = p->globals.v[1]->ty;
    CU_ASSERT_TRUE(same_type(a, b));
    CU_ASSERT_EQUAL(a->size, 4);
    Type *c = p->globals.v[2]->ty, *e = p->globals.v[3]->ty;
    CU_ASSERT_TRUE(same_type(c, e));
    CU_ASSERT_EQUAL(c->len, 3);                 /* three arrays of u32[2] */
    CU_ASSERT_EQUAL(c->base->len, 2);
    CU_ASSERT_EQUAL(c->size, 24);
    Type *s = p->types.v[0];
    CU_ASSERT_TRUE(same_type(s->members[0].ty, s->members[1].ty));
}

/* ---- statements -------------------------------------------------------- */

static void test_statements(void)
{
    Program *p = parse(
        "fn f() {\n"
        "    var x: u32 = 1\n"
        "    const K = 4\n"
        "    x = 5\n"
        "    if (x) { } else if (x == 2) { } else { }\n"
        "    if (var v = m[k]) { v.count += 1 } else { m[k] = S { count: 1 } }\n"
        "    for (i in 0..N) { continue }\n"
        "    for (k, v) in m { break }\n"
        "    while (x < 10) { x += 1 }\n"
        "    loop { break }\n"
        "    return\n"
        "    var r = match (x) { 1: a, 2, 3: b, E::C: c, default: d }\n"
        "    try { throw 2 } catch 1 { } catch _ { }\n"
        "    defer call(1)\n"
        "    defer { x = 0 }\n"
        "    delete m[k]\n"
        "    match (x) { 1: { }, default: { } }\n"
        "    { var inner = 1 }\n"
        "}\n");
    CU_ASSERT_EQUAL(nerrors, 0);
    NodeKind want[] = { N_VAR, N_VAR, N_ASSIGN, N_EXPR, N_EXPR, N_FOR_RANGE, N_FOR_MAP, N_WHILE,
                        N_LOOP, N_RETURN, N_VAR, N_TRY, N_DEFER, N_DEFER, N_DELETE, N_EXPR, N_EXPR };
    NodeVec *b = body(p);
    CU_ASSERT_EQUAL(b->n, 17);
    for (int i = 0; i < 17 && i < b->n; i++)
        CU_ASSERT_EQUAL(b->v[i]->kind, want[i]);
    CU_ASSERT_TRUE(b->v[1]->is_const);
    CU_ASSERT_EQUAL(b->v[3]->lhs->els->kind, N_IF);    /* else if */
    CU_ASSERT_PTR_NOT_NULL(b->v[4]->lhs->init);        /* if (var v = ...) */
    CU_ASSERT_EQUAL(b->v[11]->args.n, 2);              /* two catches */
    CU_ASSERT_TRUE(b->v[11]->args.v[0]->has_code);
    CU_ASSERT_FALSE(b->v[11]->args.v[1]->has_code);
    CU_ASSERT_EQUAL(b->v[12]->body->kind, N_EXPR);
    CU_ASSERT_EQUAL(b->v[13]->body->kind, N_BLOCK);
}

static void test_compound_assignments(void)
{
    static const char *ops[] = { "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=" };
    static const Op want[] = { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_AND, OP_OR, OP_XOR, OP_SHL, OP_SHR };
    for (int i = 0; i < 10; i++) {
        Program *p = parse(xfmt("fn f() { x %s 2 }", ops[i]));
        CU_ASSERT_EQUAL(nerrors, 0);
        NodeVec *b = body(p);
        CU_ASSERT_EQUAL(b->n, 1);
        if (b->n == 1) {
            CU_ASSERT_EQUAL(b->v[0]->kind, N_ASSIGN);
            CU_ASSERT_EQUAL(b->v[0]->op, want[i]);
        }
    }
}

static void test_newlines_and_semicolons(void)
{
    Program *p = parse("fn f() { var a = 1; var b = 2; a = b;\n b = 3 }");
    CU_ASSERT_EQUAL(nerrors, 0);
    CU_ASSERT_EQUAL(body(p)->n, 4);
    /* a trailing binary operator or an open bracket continues the line */
    p = parse("fn f() {\n var x = 1 +\n 2\n var y = f(1,\n 2)\n var z = [1,\n 2]\n}");
    CU_ASSERT_EQUAL(nerrors, 0);
    CU_ASSERT_EQUAL(body(p)->n, 3);
    CU_ASSERT_STRING_EQUAL(sx(body(p)->v[0]->init), "(+ 1 2)");
    /* an operator at the start of a line starts a new statement */
    p = parse("fn f() {\n var x = 1\n -2\n}");
    CU_ASSERT_EQUAL(nerrors, 0);
    CU_ASSERT_EQUAL(body(p)->n, 2);
    /* but not inside brackets */
    p = parse("fn f() {\n var x = (1\n - 2)\n}");
    CU_ASSERT_EQUAL(body(p)->n, 1);
    CU_ASSERT_STRING_EQUAL(sx(body(p)->v[0]->init), "(- 1 2)");
    /* two statements on one line need a ';' */
    p = parse("fn f() { var a = 1 var b = 2 }");
    CU_ASSERT_EQUAL(nerrors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(diag_text, "expected a newline or ';' after the statement"));
}

static void test_trailing_commas(void)
{
    parse("struct S { a: u32, b: u32, }\nenum E { A, B, }\nconfig c { x: u32 = 1, }\n"
                       "fn f(a: u32, b: u32,) -> u32 { return g(a, b,) + [1, 2,][0] }\n"
                       "fn h() { var s = S { a: 1, b: 2, }\n var m = match (1) { 1: 2, default: 3, } }\n");
    CU_ASSERT_EQUAL(nerrors, 0);
}

/* ---- recovery ---------------------------------------------------------- */

static void test_recovery_statements(void)
{
    parse("fn f() {\n var a = (1 + 2\n var b = 3 + + 4\n var c = 5 6\n var ok = 1\n var d = ]\n}\n"
          "fn g() { return 0 }\n");
    CU_ASSERT_EQUAL(nerrors, 4);        /* one per broken statement, nothing more */
    parse("fn f() {\n x = \n y = 1\n}");
    CU_ASSERT_EQUAL(nerrors, 1);
}

static void test_recovery_declarations(void)
{
    Program *p = parse("struct A { x: u32 }\nfn broken( -> u32 { return 1 }\n42 garbage\n"
                       "struct B { y: u32 }\nvar 7 = 3\nfn ok() { }\n");
    CU_ASSERT_EQUAL(nerrors, 3);
    CU_ASSERT_PTR_NOT_NULL(find_decl(p, "B"));
    CU_ASSERT_PTR_NOT_NULL(find_decl(p, "ok"));
}

static void test_recovery_members(void)
{
    /* a missing comma keeps the next member; a stray brace is skipped */
    Program *p = parse("struct A {\n x: u32 y: u32\n {\n z: u32\n}\nenum E { fn, B, C }\n");
    CU_ASSERT_EQUAL(nerrors, 3);
    CU_ASSERT_EQUAL(find_decl(p, "A")->type->nmembers, 3);
    CU_ASSERT_EQUAL(find_decl(p, "E")->type->nvals, 2);
    /* a broken match arm does not end the function */
    p = parse("fn f() {\n var a = match (x) {\n 1 2: 3,\n 4: 5,\n }\n var b = 1\n}\n");
    CU_ASSERT_EQUAL(nerrors, 1);
    CU_ASSERT_EQUAL(body(p)->n, 2);
}

static void test_recovery_nesting(void)
{
    /* deep nesting is an error, not a stack overflow */
    const char *open = "const C = ", *close = "\n";
    char *src = xfmt("%s%s", open, "");
    for (int i = 0; i < 2000; i++)
        src = xfmt("%s(", src);
    src = xfmt("%s1", src);
    for (int i = 0; i < 2000; i++)
        src = xfmt("%s)", src);
    parse(xfmt("%s%s", src, close));
    CU_ASSERT_EQUAL(nerrors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(diag_text, "nesting is too deep"));
}

/* Left-deep chains count against the nesting limit too, and an error at
 * the limit stops the chain: no tree deeper than the limit is built. */
static void test_long_chains(void)
{
    static const char *piece[] = { "+x", " as u32", "(1)", ".f", "[0]" };
    for (int k = 0; k < 5; k++) {
        for (int n = 500; n <= 50000; n *= 100) {
            char *src = xstrdup("x");
            for (int i = 0; i < n; i++)
                src = xfmt("%s%s", src, piece[k]);
            parse(xfmt("fn f() { var y = %s\n var z = 1 }\n", src));
            CU_ASSERT_EQUAL(nerrors, n > 1000 ? 1 : 0);
        }
    }
    /* a long else-if chain, and blocks nested past the limit */
    char *src = xstrdup("if (x == 0) { }");
    for (int i = 0; i < 3000; i++)
        src = xfmt("%s else if (x == %d) { }", src, i);
    parse(xfmt("fn f() {\n%s\n}\n", src));
    CU_ASSERT_TRUE(nerrors >= 1);
    src = xstrdup("");
    for (int i = 0; i < 3000; i++)
        src = xfmt("%s{", src);
    for (int i = 0; i < 3000; i++)
        src = xfmt("%s}", src);
    parse(xfmt("fn f() {\n%s\n}\nfn g() { }\n", src));
    CU_ASSERT_EQUAL(nerrors, 1);
}

static void test_not_in_language(void)
{
    parse("fn f() { var p = new S() }\nexec(\"x\")\n");
    CU_ASSERT_EQUAL(nerrors, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(diag_text, "'new' is not part of KernelScript"));
    CU_ASSERT_PTR_NOT_NULL(strstr(diag_text, "'exec' is not part of KernelScript"));
    parse("import helpers from \"./helpers.py\"\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(diag_text, "importing Python modules is not supported"));
}

static void test_include_header(void)
{
    char dir[] = "/tmp/ksc-unit-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    unit_reset();
    char *hdr = xfmt("%s/h.kh", dir), *src = xfmt("%s/m.ks", dir);
    FILE *f = fopen(hdr, "w");
    fputs("const H = 1\nstruct HS { a: u32 }\nfn body_here() { }\n", f);
    fclose(f);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_set_output(mem);
    FrontOpts opts = { 0 };
    const char *text = "include \"h.kh\"\ninclude \"h.kh\"\nfn main() -> i32 { return H }\n";
    Program *p = parse_buffer(src, text, strlen(text), &opts);
    fclose(mem);
    diag_set_output(NULL);
    CU_ASSERT_EQUAL(diag_errors(), 1);     /* the body; included once only */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "h.kh:3:16: error: an included header holds declarations only"));
    CU_ASSERT_TRUE(find_decl(p, "HS")->in_header);
    free(buf);
    unlink(hdr);
    rmdir(dir);
}

UNIT_SUITE(parse,
    UT(test_precedence_arith), UT(test_precedence_logic), UT(test_precedence_unary_cast),
    UT(test_primary_forms), UT(test_declarations), UT(test_declaration_details),
    UT(test_array_spellings), UT(test_statements), UT(test_compound_assignments),
    UT(test_newlines_and_semicolons), UT(test_trailing_commas), UT(test_recovery_statements),
    UT(test_recovery_declarations), UT(test_recovery_members), UT(test_recovery_nesting), UT(test_long_chains),
    UT(test_not_in_language), UT(test_include_header))
