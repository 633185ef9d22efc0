/* Checker unit tests: the integer rules of LANGUAGE.md section 2 on
 * constant expressions, type inference, implicit conversions, struct and
 * enum layout, map references, and the checker's own errors. */
#include "tests/unit/unit.h"

#include <string.h>

#include "frontend/internal.h"

static UnitDiag d;

static Program *check(const char *src)
{
    return unit_check(src, &d);
}

/* The constant `const C = src`: its value, and its type through *ty. */
static long long const_of(const char *src, Type **ty)
{
    Program *p = check(xfmt("const C = %s\n", src));
    CU_ASSERT_EQUAL(d.errors, 0);
    for (int i = 0; i < p->decls.n; i++)
        if (p->decls.v[i].kind == D_CONST) {
            if (ty)
                *ty = p->decls.v[i].sym->type;
            return (long long)p->decls.v[i].sym->val;
        }
    CU_FAIL("no const");
    return 0;
}

/* The type of `var g = src` at the top level (the inference rule). */
static Type *global_type(const char *src)
{
    Program *p = check(xfmt("var g = %s\n", src));
    CU_ASSERT_EQUAL(d.errors, 0);
    return p->globals.n ? p->globals.v[0]->ty : ty_error;
}

/* Statement i of the body of function t (from in_fn). */
static Node *local(Program *p, int i)
{
    static Node none;
    for (int k = 0; k < p->funcs.n; k++) {
        Func *f = p->funcs.v[k];
        if (!strcmp(f->name, "t") && i < f->body->args.n)
            return f->body->args.v[i];
    }
    CU_FAIL("no such statement");
    none.ty = ty_error;
    return &none;
}

/* stmts as the body of `fn t(params) -> i32`. Parameters are variables
 * for sure: a local initialised with a constant and never assigned counts
 * as a constant, and its conversions fold away. */
static Program *in_fn(const char *params, const char *stmts)
{
    return check(xfmt("fn t(%s) -> i32 {\n%s\nreturn 0\n}\n", params, stmts));
}

static Program *in_main(const char *stmts) { return in_fn("", stmts); }

/* ---- casts and folding ------------------------------------------------- */

static void test_as_truncates(void)
{
    Type *t;
    CU_ASSERT_EQUAL(const_of("200 as i8", &t), -56);
    CU_ASSERT_PTR_EQUAL(t, ty_i8);
    CU_ASSERT_EQUAL(const_of("300 as u8", &t), 44);
    CU_ASSERT_PTR_EQUAL(t, ty_u8);
    CU_ASSERT_EQUAL(const_of("-1 as u16", NULL), 65535);
    CU_ASSERT_EQUAL(const_of("0x1_0000_0001 as u32", NULL), 1);
    CU_ASSERT_EQUAL(const_of("(-1 as i8) as u16", NULL), 65535);     /* sign-extends */
    CU_ASSERT_EQUAL(const_of("(255 as u8) as i16", NULL), 255);      /* zero-extends */
    CU_ASSERT_EQUAL(const_of("7 as bool", NULL), 1);
    CU_ASSERT_EQUAL(const_of("true as u32", NULL), 1);
}

static void test_untyped_exact(void)
{
    Type *t;
    /* untyped constants fold exactly; the type comes from the value */
    CU_ASSERT_EQUAL(const_of("0xffffffff * 2", &t), 0x1fffffffeLL);
    CU_ASSERT_PTR_EQUAL(t, ty_untyped);
    CU_ASSERT_PTR_EQUAL(global_type("0xffffffff * 2"), ty_u64);
    CU_ASSERT_PTR_EQUAL(global_type("0xffffffff + 1 - 1"), ty_u32);
    CU_ASSERT_EQUAL(const_of("(1 << 40) >> 38", NULL), 4);
    CU_ASSERT_EQUAL(const_of("-7 / 2", NULL), -3);
    CU_ASSERT_EQUAL(const_of("-7 % 2", NULL), -1);
    CU_ASSERT_EQUAL(const_of("10 - 20 + 15", NULL), 5);
    CU_ASSERT_EQUAL(const_of("3 > 2 && 1 != 0", NULL), 1);
    CU_ASSERT_EQUAL(const_of("1 ? 4 : 5", NULL), 4);
    CU_ASSERT_EQUAL(const_of("~0 as u8", NULL), 255);
}

static void test_typed_wraps(void)
{
    CU_ASSERT_EQUAL(const_of("(250 as u8) + (10 as u8)", NULL), 4);
    CU_ASSERT_EQUAL(const_of("(0 as u32) - 1", NULL), 4294967295LL);
    CU_ASSERT_EQUAL(const_of("(127 as i8) + 1", NULL), -128);
    CU_ASSERT_EQUAL(const_of("-(5 as u8)", NULL), 251);        /* unary - wraps */
    CU_ASSERT_EQUAL(const_of("(1 as u8) << 9", NULL), 2);      /* count modulo width */
    CU_ASSERT_EQUAL(const_of("(-16 as i32) >> 2", NULL), -4);  /* arithmetic */
    CU_ASSERT_EQUAL(const_of("(0xf0000000 as u32) >> 28", NULL), 15);  /* logical */
}

static void test_signed_division(void)
{
    CU_ASSERT_EQUAL(const_of("(-7 as i32) / (2 as i32)", NULL), -3);
    CU_ASSERT_EQUAL(const_of("(-7 as i32) % (2 as i32)", NULL), -1);
    CU_ASSERT_EQUAL(const_of("(7 as i32) / (-2 as i32)", NULL), -3);
    CU_ASSERT_EQUAL(const_of("(7 as i32) % (-2 as i32)", NULL), 1);
    /* no trap on the one overflowing case */
    CU_ASSERT_EQUAL(const_of("(-9223372036854775808 as i64) / (-1 as i64)", NULL), INT64_MIN);
    CU_ASSERT_EQUAL(const_of("(-9223372036854775808 as i64) % (-1 as i64)", NULL), 0);
}

static void test_byte_order_and_sizeof(void)
{
    CU_ASSERT_EQUAL(const_of("htons(ETH_P_IP)", NULL), 0x0008);
    CU_ASSERT_EQUAL(const_of("htonl(0x01020304)", NULL), 0x04030201);
    check("struct S { a: u8, b: u64 }\nconst C = sizeof(S)\nconst D = sizeof(u16[3])\n");
    CU_ASSERT_EQUAL(d.errors, 0);
}

static void test_wrap_and_fits(void)
{
    CU_ASSERT_EQUAL((long long)wrap_to(200, ty_i8), -56);
    CU_ASSERT_EQUAL((long long)wrap_to(-1, ty_u32), 4294967295LL);
    CU_ASSERT_EQUAL((long long)wrap_to((i128)1 << 64, ty_u64), 0);
    CU_ASSERT_TRUE(fits(-128, ty_i8));
    CU_ASSERT_FALSE(fits(-129, ty_i8));
    CU_ASSERT_TRUE(fits(255, ty_u8));
    CU_ASSERT_FALSE(fits(256, ty_u8));
    CU_ASSERT_FALSE(fits(-1, ty_u64));
    CU_ASSERT_TRUE(fits(UINT64_MAX, ty_u64));
    CU_ASSERT_TRUE(fits(INT64_MIN, ty_i64));
}

/* ---- inference and the literal rules ------------------------------------ */

static void test_inference(void)
{
    CU_ASSERT_PTR_EQUAL(global_type("5"), ty_u32);
    CU_ASSERT_PTR_EQUAL(global_type("5000000000"), ty_u64);
    CU_ASSERT_PTR_EQUAL(global_type("-5"), ty_i32);
    CU_ASSERT_PTR_EQUAL(global_type("-5000000000"), ty_i64);
    CU_ASSERT_PTR_EQUAL(global_type("true"), ty_bool);
    CU_ASSERT_PTR_EQUAL(global_type("'a'"), ty_char);
    Type *s = global_type("\"abc\"");
    CU_ASSERT_EQUAL(s->kind, TY_STR);
    CU_ASSERT_EQUAL(s->len, 4);
    Program *p = in_main("var x = 5\nvar y = x + 2\nvar z: i8 = -128");
    CU_ASSERT_EQUAL(d.errors, 0);
    CU_ASSERT_PTR_EQUAL(local(p, 0)->var->ty, ty_u32);
    CU_ASSERT_PTR_EQUAL(local(p, 1)->var->ty, ty_u32);
    CU_ASSERT_PTR_EQUAL(local(p, 2)->var->ty, ty_i8);
}

static void test_untyped_takes_other_side(void)
{
    Program *p = in_main("var a: u8 = 1\nvar b = a + 200\nvar c = 200 + a\nvar s: i16 = 1\nvar e = s * -3");
    CU_ASSERT_EQUAL(d.errors, 0);
    CU_ASSERT_PTR_EQUAL(local(p, 1)->var->ty, ty_u8);
    CU_ASSERT_PTR_EQUAL(local(p, 2)->var->ty, ty_u8);
    CU_ASSERT_PTR_EQUAL(local(p, 4)->var->ty, ty_i16);
    in_main("var a: u8 = 1\nvar b = a + 300");
    CU_ASSERT_EQUAL(d.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.text, "constant 300 does not fit in u8"));
    in_main("var y: u8 = 300");
    CU_ASSERT_EQUAL(d.errors, 1);
    check("const K: u16 = 70000\n");
    CU_ASSERT_EQUAL(d.errors, 1);
}

static void test_binary_types(void)
{
    Program *p = in_main("var a: u32 = 1\nvar b: i32 = 1\nvar c: u8 = 1\nvar e: i16 = 1\nvar f: i64 = 1\n"
                         "var r1 = a + b\nvar r2 = c + e\nvar r3 = f + a\nvar r4 = a << f\nvar r5 = c >> a");
    CU_ASSERT_EQUAL(d.errors, 0);
    CU_ASSERT_PTR_EQUAL(local(p, 5)->var->ty, ty_u32);   /* equal widths: unsigned */
    CU_ASSERT_PTR_EQUAL(local(p, 6)->var->ty, ty_i16);   /* the wider one */
    CU_ASSERT_PTR_EQUAL(local(p, 7)->var->ty, ty_i64);
    CU_ASSERT_PTR_EQUAL(local(p, 8)->var->ty, ty_u32);   /* shifts: the left type */
    CU_ASSERT_PTR_EQUAL(local(p, 9)->var->ty, ty_u8);
}

static void test_comparisons(void)
{
    /* signed only when both sides are signed; an i8 -1 against a u16
     * converts as 'as' does (sign-extended, then unsigned) */
    Program *p = in_fn("a: i8, b: u16, s: i32", "var c1 = a < b\nvar c2 = a < s");
    CU_ASSERT_EQUAL(d.errors, 0);
    Node *c1 = local(p, 0)->init, *c2 = local(p, 1)->init;
    CU_ASSERT_PTR_EQUAL(c1->ty, ty_bool);
    CU_ASSERT_PTR_EQUAL(c1->lhs->ty, ty_u16);
    CU_ASSERT_TRUE(c1->lhs->kind == N_CAST && c1->lhs->implicit);
    CU_ASSERT_PTR_EQUAL(c2->lhs->ty, ty_i32);
    CU_ASSERT_EQUAL(const_of("(-1 as i8) < (1 as u16)", NULL), 0);   /* 65535 < 1 */
    CU_ASSERT_EQUAL(const_of("(-1 as i8) < (1 as i8)", NULL), 1);
}

static void test_implicit_conversions(void)
{
    Program *p = in_fn("a: u8, c: u64", "var b: u32 = a\nvar e: u16 = c\nvar f: u8 = c & 0xff\n"
                       "var g: u8 = c >> 56\nvar h: u16 = c % 1000");
    CU_ASSERT_EQUAL(d.errors, 0);
    Node *b = local(p, 0)->init;
    CU_ASSERT_EQUAL(b->kind, N_CAST);                    /* widening made explicit */
    CU_ASSERT_TRUE(b->implicit);
    CU_ASSERT_PTR_EQUAL(b->ty, ty_u32);
    CU_ASSERT_EQUAL(local(p, 1)->init->kind, N_CAST);    /* narrowing too... */
    CU_ASSERT_EQUAL(d.warnings, 1);                      /* ...with one warning */
    CU_ASSERT_PTR_NOT_NULL(strstr(d.text, "implicit conversion from u64 to u16 may change the value"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d.text, "help: write 'as u16'"));
    /* enums and integers convert both ways */
    check("enum E { A, B }\nfn f(e: E) -> u32 { return e }\nfn g() -> E { return 1 }\n");
    CU_ASSERT_EQUAL(d.errors, 0);
    /* bool only through 'as' */
    in_main("var b: bool = 1\nvar n: u32 = true");
    CU_ASSERT_EQUAL(d.errors, 2);
}

static void test_division_by_zero(void)
{
    in_main("var x: u32 = 5\nx = 6\nvar a = x / 0\nvar b = x % (2 - 2)");
    CU_ASSERT_EQUAL(d.errors, 2);
    check("const Z = 0\nfn main() -> i32 { var x: u32 = 9\n x = 1\n return (x / Z) as i32 }\n");
    CU_ASSERT_EQUAL(d.errors, 1);
    /* a var that is never reassigned is not a `const` expression */
    in_main("var x: u32 = 5\nx = 6\nvar z: u32 = 0\nvar a = x / z\nvar w: u8 = 0\nvar b = x % (w + 0)");
    CU_ASSERT_EQUAL(d.errors, 0);
    check("const C = 10 / 0\nconst D = 10 % (3 - 3)");
    CU_ASSERT_EQUAL(d.errors, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.text, "1:14: error: division by the constant zero"));
}

/* ---- layout ------------------------------------------------------------ */

static Type *struct_named(Program *p, const char *name)
{
    for (int i = 0; i < p->types.n; i++)
        if (p->types.v[i]->name && !strcmp(p->types.v[i]->name, name))
            return p->types.v[i];
    return ty_error;
}

static void test_struct_layout(void)
{
    Program *p = check("struct S { a: u8, b: u32, c: u16 }\n"
                       "@packed struct P { a: u8, b: u32, c: u16 }\n"
                       "struct T { a: u8, arr: u16[3], s: S, x: u64 }\n"
                       "struct U { a: u8, b: u8 }\n"
                       "struct V { p: *u8, n: u8 }\n"
                       "struct W { s: str(5), b: bool, c: char }\n");
    CU_ASSERT_EQUAL(d.errors, 0);
    Type *s = struct_named(p, "S");
    CU_ASSERT_EQUAL(s->members[0].offset, 0);
    CU_ASSERT_EQUAL(s->members[1].offset, 4);
    CU_ASSERT_EQUAL(s->members[2].offset, 8);
    CU_ASSERT_EQUAL(s->size, 12);                   /* rounded to the alignment */
    CU_ASSERT_EQUAL(s->align, 4);
    Type *pk = struct_named(p, "P");
    CU_ASSERT_EQUAL(pk->members[1].offset, 1);
    CU_ASSERT_EQUAL(pk->members[2].offset, 5);
    CU_ASSERT_EQUAL(pk->size, 7);
    CU_ASSERT_EQUAL(pk->align, 1);
    Type *t = struct_named(p, "T");
    CU_ASSERT_EQUAL(t->members[1].offset, 2);       /* u16[3]: 2-aligned */
    CU_ASSERT_EQUAL(t->members[2].offset, 8);       /* S: 4-aligned after 2+6 */
    CU_ASSERT_EQUAL(t->members[3].offset, 24);      /* u64 after 8+12 */
    CU_ASSERT_EQUAL(t->size, 32);
    CU_ASSERT_EQUAL(t->align, 8);
    CU_ASSERT_EQUAL(struct_named(p, "U")->size, 2);
    CU_ASSERT_EQUAL(struct_named(p, "V")->size, 16);
    Type *w = struct_named(p, "W");
    CU_ASSERT_EQUAL(w->members[1].offset, 5);
    CU_ASSERT_EQUAL(w->size, 7);
}

static void test_struct_order_and_alias(void)
{
    /* declarations in any order; an alias is the same type */
    Program *p = check("struct Outer { i: Inner, k: Key }\ntype Key = u64\nstruct Inner { a: u16 }\n"
                       "fn f(k: Key) -> u64 { return k }\n");
    CU_ASSERT_EQUAL(d.errors, 0);
    Type *o = struct_named(p, "Outer");
    CU_ASSERT_EQUAL(o->members[1].offset, 8);
    CU_ASSERT_EQUAL(o->size, 16);
    CU_ASSERT_PTR_EQUAL(o->members[1].ty, ty_u64);
}

static void test_enums(void)
{
    Program *p = check("enum E { A, B = 5, C, D = B + 10 }\nenum Big { X = 0x100000000 }\n"
                       "enum Neg { M = -1, N }\nconst V = E::C\nconst W = D\n");
    CU_ASSERT_EQUAL(d.errors, 0);
    Type *e = struct_named(p, "E");
    CU_ASSERT_EQUAL(e->kind, TY_ENUM);
    CU_ASSERT_EQUAL((long long)e->vals[0].val, 0);
    CU_ASSERT_EQUAL((long long)e->vals[1].val, 5);
    CU_ASSERT_EQUAL((long long)e->vals[2].val, 6);
    CU_ASSERT_EQUAL((long long)e->vals[3].val, 15);
    CU_ASSERT_EQUAL(e->size, 4);
    CU_ASSERT_FALSE(e->is_signed);
    CU_ASSERT_EQUAL(struct_named(p, "Big")->size, 8);
    CU_ASSERT_TRUE(struct_named(p, "Neg")->is_signed);
    CU_ASSERT_EQUAL((long long)struct_named(p, "Neg")->vals[1].val, 0);
}

/* ---- maps and references ----------------------------------------------- */

static void test_map_references(void)
{
    Program *p = check("struct S { n: u64 }\nvar m : hash<u32, S>(8)\n"
                       "@xdp fn x(ctx: *xdp_md) -> xdp_action {\n"
                       "    var r = m[1]\n    var c: S = m[2]\n    var present = m[3] != null\n"
                       "    if (var e = m[4]) { e.n += 1 }\n    return XDP_PASS\n}\n");
    CU_ASSERT_EQUAL(d.errors, 0);
    Func *f = p->funcs.v[0];
    NodeVec *b = &f->body->args;
    CU_ASSERT_TRUE(b->v[0]->var->is_mapref);
    CU_ASSERT_FALSE(b->v[1]->var->is_mapref);
    CU_ASSERT_TRUE(b->v[2]->init->is_presence);
    CU_ASSERT_TRUE(b->v[3]->lhs->init->var->is_mapref);
    Type *mt = p->globals.v[0]->ty;
    CU_ASSERT_EQUAL(mt->kind, TY_MAP);
    CU_ASSERT_EQUAL(mt->len, 8);
    CU_ASSERT_PTR_EQUAL(mt->key, ty_u32);
}

static void test_map_flags(void)
{
    Program *p = check("@flags(BPF_F_NO_PREALLOC | rdonly) var a : hash<u32, u32>(8)\n"
                       "pin @flags(no_prealloc) var b : hash<u32, u32>(8)\n"
                       "@flags(numa_node(1)) var c : hash<u32, u32>(8)\n");
    CU_ASSERT_EQUAL(d.errors, 0);
    CU_ASSERT_EQUAL(p->globals.v[0]->ty->map_flags, 1 | 8);
    CU_ASSERT_EQUAL(p->globals.v[1]->ty->map_flags, 1);
    CU_ASSERT_TRUE(p->globals.v[1]->pinned);
    CU_ASSERT_EQUAL(p->globals.v[2]->ty->numa_node, 1);
}

/* ---- targets and errors ------------------------------------------------- */

static void test_targets(void)
{
    Program *p = check("@xdp fn a(ctx: *xdp_md) -> xdp_action { return XDP_PASS }\n"
                       "@helper fn b() -> u32 { return 1 }\n@kfunc fn c() -> u32 { return 1 }\n"
                       "@private fn d() -> u32 { return 1 }\n@test fn e() { }\nfn main() -> i32 { return 0 }\n"
                       "extern bpf_ktime_get_ns() -> u64\n");
    CU_ASSERT_EQUAL(d.errors, 0);
    Target want[] = { TGT_EBPF, TGT_EBPF, TGT_KMOD, TGT_KMOD, TGT_TEST, TGT_USER, TGT_EXTERN };
    for (int i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(p->funcs.v[i]->target, want[i]);
    CU_ASSERT_TRUE(p->funcs.v[5]->is_main);
    CU_ASSERT_TRUE(p->funcs.v[6]->helper_id > 0);
}

static void test_checker_errors(void)
{
    /* one error each, no follow-on errors */
    static const char *cases[] = {
        "fn main() -> i32 { return nope }",
        "fn main() -> i32 { var x: Nope = 1\n return 0 }",
        "struct S { a: u32 }\nfn main() -> i32 { var s = S { a: 1 }\n return s.b as i32 }",
        "fn main() -> i32 { return missing() }",
        "fn main() -> i32 { exec(\"ls\")\n return 0 }",
        "@helper fn h(n: u32) -> u32 { return h(n) }",
        "fn f(x: u32) -> u32 { if (x > 1) { return 1 } }",
        "fn main() -> i32 { break\n return 0 }",
        "fn main() -> i32 { defer { return 1 }\n return 0 }",
        "enum E { A, B }\nfn f(e: E) -> u32 { return match (e) { A: 1 } }",
        "fn f(b: bool) -> u32 { return match (b) { true: 1 } }",
        "pin local var x: u32 = 0",
        "@xdp fn p(ctx: *xdp_md) -> xdp_action { var b: u8[513]\n return XDP_PASS }",
        "@xdp fn p(ctx: *xdp_md) -> xdp_action { throw 1 }",
        "@xdp fn p(x: u32) -> xdp_action { return XDP_PASS }",
        "var rb : ringbuf<u32>(5000)",
        "var m : hash<u32, *u8>(4)",
        "struct S { a: u32 }\nfn f() { var c = S { a: 1, a: 2 } }",
        "enum E { A = B, B }",
        "enum X { P = Y::Q }\nenum Y { Q = X::P }",
        "fn main() -> i32 { const k = 1\n k = 2\n return 0 }",
        "@xdp fn p(ctx: *xdp_md) -> xdp_action { return p(ctx) + 1 }",
        "@xdp fn p(ctx: *xdp_md) -> xdp_action { return XDP_PASS }\nfn main() -> i32 { attach(p, \"lo\", 0)\n return 0 }",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        check(cases[i]);
        if (d.errors != 1)
            printf("    case %zu: %d errors:\n%s", i, d.errors, d.text);
        CU_ASSERT_EQUAL(d.errors, 1);
    }
}

static void test_unreachable_arm(void)
{
    check("fn f(x: u32) -> u32 { return match (x) { 1: 1, 1: 2, default: 0 } }");
    CU_ASSERT_EQUAL(d.errors, 0);
    CU_ASSERT_EQUAL(d.warnings, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.text, "this match arm is unreachable"));
}

/* Long chains of definitions resolve on demand and recursively; past the
 * limit they are one error, never a stack overflow. */
static void test_definition_chains(void)
{
    static const char *fmt[][2] = {
        { "const C%d = C%d + 1\n", "const C%d = 1\n" },
        { "type T%d = T%d\n", "type T%d = u32\n" },
        { "struct S%d { a: S%d }\n", "struct S%d { x: u32 }\n" },
    };
    for (int k = 0; k < 3; k++) {
        for (int n = 900; n <= 1500; n += 600) {
            char *src = xstrdup("");
            for (int i = 0; i < n; i++)
                src = xfmt("%s" "%s", src, xfmt(fmt[k][0], i, i + 1));
            src = xfmt("%s" "%s", src, xfmt(fmt[k][1], n));
            check(src);
            CU_ASSERT_EQUAL(d.errors, n < 1000 ? 0 : 1);
        }
    }
}

/* A throw deep down a chain of helpers reaches the program (the worklist
 * that replaced a quadratic fixpoint), and a try there catches it. */
static void test_throw_through_chain(void)
{
    for (int caught = 0; caught < 2; caught++) {
        char *src = xstrdup("");
        for (int i = 0; i < 300; i++)
            src = xfmt("%s@helper fn h%d(x: u32) -> u32 { return h%d(x) + 1 }\n", src, i, i + 1);
        src = xfmt("%s@helper fn h300(x: u32) -> u32 { throw 1 }\n"
                   "@xdp fn p(ctx: *xdp_md) -> xdp_action {\n%s\n return XDP_PASS }\n", src,
                   caught ? "try { var v = h0(1) } catch _ { }" : "var v = h0(1)");
        check(src);
        CU_ASSERT_EQUAL(d.errors, caught ? 0 : 1);
    }
}

UNIT_SUITE(check,
    UT(test_as_truncates), UT(test_untyped_exact), UT(test_typed_wraps), UT(test_signed_division),
    UT(test_byte_order_and_sizeof), UT(test_wrap_and_fits), UT(test_inference),
    UT(test_untyped_takes_other_side), UT(test_binary_types), UT(test_comparisons),
    UT(test_implicit_conversions), UT(test_division_by_zero), UT(test_struct_layout),
    UT(test_struct_order_and_alias), UT(test_enums), UT(test_map_references), UT(test_map_flags),
    UT(test_targets), UT(test_checker_errors), UT(test_unreachable_arm), UT(test_definition_chains),
    UT(test_throw_through_chain))
