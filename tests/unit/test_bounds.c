/* The bounds pass: its range domain (the verifier's arithmetic, compares,
 * joins and widening), then the pass on small programs: what it reports,
 * what it inserts, and the language rules the kernel does not check. */
#include "tests/unit/unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/bounds.h"

#define U(lo, hi, w) rng_unsigned((lo), (hi), (w))

static bool is(Rng r, uint64_t lo, uint64_t hi) { return !rng_is_empty(r) && r.umin == lo && r.umax == hi; }

/* ---- ranges ------------------------------------------------------------ */

static void test_const_and_full(void)
{
    Rng c = rng_const(0xff, 1);
    CU_ASSERT(is(c, 255, 255));
    CU_ASSERT_EQUAL(c.smin, -1);
    CU_ASSERT(rng_is_const(c, NULL));
    Rng f = rng_full(4);
    CU_ASSERT(is(f, 0, 0xffffffff));
    CU_ASSERT_EQUAL(f.smin, INT32_MIN);
    CU_ASSERT_EQUAL(f.smax, INT32_MAX);
    CU_ASSERT(rng_is_empty(rng_empty()));
    CU_ASSERT(rng_is_const(rng_const(300, 1), NULL) && rng_const(300, 1).umin == 44);
}

/* The two views narrow each other, as reg_bounds_sync does. */
static void test_sync(void)
{
    Rng r = rng_full(4);
    r.smin = 0;
    r.smax = 100;
    r = rng_sync(r, 4);
    CU_ASSERT(is(r, 0, 100));
    Rng n = rng_full(1);
    n.smin = -4;
    n.smax = -1;
    n = rng_sync(n, 1);
    CU_ASSERT(is(n, 252, 255));
    Rng u = U(5, 9, 8);
    CU_ASSERT_EQUAL(u.smin, 5);
    CU_ASSERT_EQUAL(u.smax, 9);
}

static void test_add_sub(void)
{
    CU_ASSERT(is(rng_binop(I_ADD, U(1, 10, 4), U(2, 3, 4), 4, false), 3, 13));
    /* an unsigned overflow loses the range, as in the verifier */
    Rng o = rng_binop(I_ADD, U(0, 0xffffffff, 4), rng_const(1, 4), 4, false);
    CU_ASSERT(is(o, 0, 0xffffffff));
    CU_ASSERT(is(rng_binop(I_SUB, U(10, 20, 8), U(1, 5, 8), 8, false), 5, 19));
    Rng neg = rng_binop(I_SUB, U(0, 5, 8), U(1, 5, 8), 8, false);
    CU_ASSERT_EQUAL(neg.smin, -5);
    CU_ASSERT_EQUAL(neg.smax, 4);
}

static void test_mul_shift_mask(void)
{
    CU_ASSERT(is(rng_binop(I_MUL, U(0, 15, 4), rng_const(4, 4), 4, false), 0, 60));
    CU_ASSERT(is(rng_binop(I_AND, rng_full(4), rng_const(0xf0, 4), 4, false), 0, 0xf0));
    CU_ASSERT(is(rng_binop(I_SHL, U(0, 7, 8), rng_const(2, 8), 8, false), 0, 28));
    CU_ASSERT(is(rng_binop(I_SHR, rng_full(4), rng_const(28, 4), 4, false), 0, 15));
    CU_ASSERT(is(rng_binop(I_OR, U(1, 5, 4), U(0, 8, 4), 4, false), 1, 15));
    /* a shift that may overflow its width knows nothing */
    CU_ASSERT(is(rng_binop(I_SHL, U(0, 0xff, 1), rng_const(1, 1), 1, false), 0, 0xff));
}

/* The verifier does not track a division or a modulo; the language's
 * exact view does, and the difference is what makes ksc insert checks. */
static void test_div_mod(void)
{
    Rng x = rng_full(4), ten = rng_const(10, 4);
    CU_ASSERT(is(rng_binop(I_UMOD, x, ten, 4, false), 0, 0xffffffff));
    CU_ASSERT(is(rng_binop(I_UMOD, x, ten, 4, true), 0, 9));
    CU_ASSERT(is(rng_binop(I_UDIV, U(0, 1000, 4), ten, 4, true), 0, 100));
    CU_ASSERT(is(rng_binop(I_UMOD, U(2, 5, 4), ten, 4, true), 2, 5));
    /* by zero: the dividend */
    CU_ASSERT(is(rng_binop(I_UMOD, U(0, 50, 4), rng_const(0, 4), 4, true), 0, 50));
}

static void test_unary(void)
{
    CU_ASSERT(is(rng_unop(I_ZEXT, rng_full(1), 1, 8), 0, 255));
    Rng s = rng_unop(I_SEXT, rng_const(0xff, 1), 1, 8);
    CU_ASSERT_EQUAL(s.smin, -1);
    CU_ASSERT(is(s, UINT64_MAX, UINT64_MAX));
    Rng n = rng_unop(I_NEG, U(0, 8, 8), 8, 8);
    CU_ASSERT_EQUAL(n.smin, -8);
    CU_ASSERT_EQUAL(n.smax, 0);
    CU_ASSERT(is(rng_view(U(0, 300, 4), 4, 1), 0, 255));
    CU_ASSERT(is(rng_view(U(3, 9, 4), 4, 1), 3, 9));
}

static void test_decide(void)
{
    CU_ASSERT_EQUAL(rng_decide(CC_ULT, U(0, 7, 4), rng_const(8, 4)), 1);
    CU_ASSERT_EQUAL(rng_decide(CC_ULT, U(8, 9, 4), rng_const(8, 4)), 0);
    CU_ASSERT_EQUAL(rng_decide(CC_ULT, U(0, 8, 4), rng_const(8, 4)), -1);
    CU_ASSERT_EQUAL(rng_decide(CC_EQ, rng_const(3, 4), rng_const(3, 4)), 1);
    CU_ASSERT_EQUAL(rng_decide(CC_NE, U(0, 2, 4), rng_const(3, 4)), 1);
    Rng neg = rng_full(4);
    neg.smin = -10;
    neg.smax = -1;
    neg = rng_sync(neg, 4);
    CU_ASSERT_EQUAL(rng_decide(CC_SLT, neg, rng_const(0, 4)), 1);
    CU_ASSERT_EQUAL(rng_decide(CC_ULT, neg, rng_const(0, 4)), 0);
}

/* What a branch teaches on each of its edges. */
static void test_refine(void)
{
    Rng a = rng_full(4), b = rng_const(10, 4);
    rng_refine(CC_ULT, true, &a, &b, 4);
    CU_ASSERT(is(a, 0, 9));
    a = rng_full(4);
    b = rng_const(10, 4);
    rng_refine(CC_ULT, false, &a, &b, 4);
    CU_ASSERT(is(a, 10, 0xffffffff));
    /* a signed compare leaves negative values in */
    a = rng_full(4);
    b = rng_const(8, 4);
    rng_refine(CC_SLT, true, &a, &b, 4);
    CU_ASSERT_EQUAL(a.smax, 7);
    CU_ASSERT_EQUAL(a.smin, INT32_MIN);
    CU_ASSERT(is(a, 0, 0xffffffff));
    Rng c = rng_full(4), d = rng_const(0, 4);
    rng_refine(CC_SGE, true, &c, &d, 4);
    rng_refine(CC_SLT, true, &c, &b, 4);
    CU_ASSERT(is(c, 0, 7));
    /* != a bound moves that bound */
    Rng e = U(0, 10, 4), z = rng_const(0, 4);
    rng_refine(CC_NE, true, &e, &z, 4);
    CU_ASSERT(is(e, 1, 10));
    Rng f = U(0, 10, 4), g = U(20, 30, 4);
    rng_refine(CC_EQ, true, &f, &g, 4);
    CU_ASSERT(rng_is_empty(f));
}

static void test_join_widen(void)
{
    CU_ASSERT(is(rng_join(U(0, 3, 4), U(10, 12, 4)), 0, 12));
    CU_ASSERT(is(rng_join(rng_empty(), U(1, 2, 4)), 1, 2));
    CU_ASSERT(is(rng_meet(U(0, 10, 4), U(5, 20, 4), 4), 5, 10));
    Rng w = rng_widen(U(0, 3, 4), U(0, 4, 4), 4);
    CU_ASSERT(is(w, 0, 0xffffffff));
    Rng same = rng_widen(U(0, 3, 4), U(1, 3, 4), 4);
    CU_ASSERT(is(same, 1, 3));
    CU_ASSERT_STRING_EQUAL(rng_str(U(0, 9, 4)), "0..9");
}

/* ---- the pass on programs ---------------------------------------------- */

typedef struct Run { int errors, warnings; char *diag, *ir; } Run;

/* Front end, IR, optimisation, bounds (as bpf_backend/compile.c runs
 * them), with the diagnostics and the IR after the pass as text. */
static Run run_bounds(const char *src, bool disabled, bool werror_bounds)
{
    UnitDiag d;
    Run r = { 0 };
    Program *p = unit_check(src, &d);
    CU_ASSERT_EQUAL_FATAL(d.errors, 0);
    if (werror_bounds)
        diag_class_option("bounds", 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_set_output(mem);
    int e0 = diag_errors(), w0 = diag_warnings();
    IrProgram *ip = ir_lower(p, false);
    for (int i = 0; i < ip->funcs.n; i++)
        ir_optimize(ip->funcs.v[i]);
    BoundsOpts o = { .disabled = disabled };
    ir_bounds(ip, &o);
    fclose(mem);
    diag_set_output(NULL);
    r.errors = diag_errors() - e0;
    r.warnings = diag_warnings() - w0;
    r.diag = xstrdup(buf ? buf : "");
    free(buf);
    buf = NULL;
    mem = open_memstream(&buf, &len);
    ir_print(ip, mem);
    fclose(mem);
    r.ir = xstrdup(buf ? buf : "");
    free(buf);
    return r;
}

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

static const char *peek_src =
    "@xdp fn peek(ctx: *xdp_md) -> xdp_action {\n"
    "    var p = ctx->data + 100\n"
    "    if (*p == 1) {\n"
    "        return XDP_DROP\n"
    "    }\n"
    "    return XDP_TX\n"
    "}\n";

/* An unproven packet read: a warning of class bounds, and a check that
 * loads data_end and returns XDP_PASS. */
static void test_packet_check_inserted(void)
{
    Run r = run_bounds(peek_src, false, false);
    CU_ASSERT_EQUAL(r.errors, 0);
    CU_ASSERT_EQUAL(r.warnings, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.diag, ":3:") ? strstr(r.diag, "packet bounds") : NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ir, "<pkt_end> = load32 [%0 + 4]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ir, "ret 2"));
    Run e = run_bounds(peek_src, false, true);
    CU_ASSERT_EQUAL(e.errors, 1);
    Run off = run_bounds(peek_src, true, false);
    CU_ASSERT_EQUAL(off.errors + off.warnings, 0);
    CU_ASSERT_PTR_NULL(strstr(off.ir, "pkt_end"));
}

/* tc's pass verdict is TC_ACT_OK, and data_end sits at offset 80. */
static void test_packet_check_tc(void)
{
    Run r = run_bounds("@tc(\"ingress\")\n"
                       "fn f(ctx: *__sk_buff) -> i32 {\n"
                       "    var p = ctx->data + 20\n"
                       "    return *p as i32 + 5\n"
                       "}\n", false, false);
    CU_ASSERT_EQUAL(r.warnings, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ir, "load32 [%0 + 80]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.ir, "ret 0"));
}

/* A check through one load of ctx->data proves the bytes for the other
 * pointers that exist then, not for a later load. */
static void test_packet_group(void)
{
    Run r = run_bounds("@xdp fn f(ctx: *xdp_md) -> xdp_action {\n"
                       "    var a = ctx->data\n"
                       "    var b = ctx->data\n"
                       "    if (b + 20 > ctx->data_end) {\n"
                       "        return XDP_PASS\n"
                       "    }\n"
                       "    if (*(a + 19) == 0) {\n"
                       "        return XDP_DROP\n"
                       "    }\n"
                       "    return XDP_TX\n"
                       "}\n", false, false);
    CU_ASSERT_EQUAL(r.errors + r.warnings, 0);
}

/* i % 10 is in range for the language: the verifier gets its compare,
 * with no warning. */
static void test_index_check_silent(void)
{
    Run r = run_bounds("@tc(\"ingress\")\n"
                       "fn f(ctx: *__sk_buff) -> i32 {\n"
                       "    var t: u32[10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                       "    return t[ctx->len % 10] as i32\n"
                       "}\n", false, false);
    CU_ASSERT_EQUAL(r.errors + r.warnings, 0);
    CU_ASSERT_EQUAL(count(r.ir, "br.ugt64"), 1);
    Run bad = run_bounds("@tc(\"ingress\")\n"
                         "fn f(ctx: *__sk_buff) -> i32 {\n"
                         "    var t: u32[10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
                         "    return t[ctx->len % 11] as i32\n"
                         "}\n", false, false);
    CU_ASSERT_EQUAL(bad.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(bad.diag, "has 10 elements"));
    CU_ASSERT_PTR_NOT_NULL(strstr(bad.diag, "help: check it first"));
}

/* LANGUAGE.md section 6: a map value may not be used after an update or a
 * delete of its map on the same path. The kernel would not object. */
static void test_stale_map_value(void)
{
    Run r = run_bounds("struct S { n: u64 }\n"
                       "var m : hash<u32, S>(8)\n"
                       "@xdp fn f(ctx: *xdp_md) -> xdp_action {\n"
                       "    if (var e = m[1]) {\n"
                       "        delete m[2]\n"
                       "        e.n = 5\n"
                       "    }\n"
                       "    return XDP_PASS\n"
                       "}\n", false, false);
    CU_ASSERT_EQUAL(r.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.diag, ":6:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.diag, "may have changed"));
    Run ok = run_bounds("struct S { n: u64 }\n"
                        "var m : hash<u32, S>(8)\n"
                        "var other : hash<u32, S>(8)\n"
                        "@xdp fn f(ctx: *xdp_md) -> xdp_action {\n"
                        "    if (var e = m[1]) {\n"
                        "        delete other[2]\n"
                        "        e.n = 5\n"
                        "    }\n"
                        "    m[3] = S { n: 1 }\n"
                        "    if (var g = m[3]) {\n"
                        "        g.n = 2\n"
                        "    }\n"
                        "    return XDP_PASS\n"
                        "}\n", false, false);
    CU_ASSERT_EQUAL(ok.errors, 0);
}

static void test_null_and_refs(void)
{
    Run r = run_bounds("struct E { n: u32 }\n"
                       "var rb : ringbuf<E>(4096)\n"
                       "@xdp fn f(ctx: *xdp_md) -> xdp_action {\n"
                       "    var e = rb.reserve()\n"
                       "    if (e == null) {\n"
                       "        return XDP_PASS\n"
                       "    }\n"
                       "    e->n = 1\n"
                       "    if (e->n == 2) {\n"
                       "        return XDP_DROP\n"
                       "    }\n"
                       "    rb.submit(e)\n"
                       "    return XDP_PASS\n"
                       "}\n", false, false);
    CU_ASSERT_EQUAL(r.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.diag, ":4:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.diag, "not submitted or discarded"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.diag, "line 9 (true)"));
    CU_ASSERT_PTR_NULL(strstr(r.diag, "null"));
}

static void test_loops(void)
{
    Run ok = run_bounds("var t : array<u32, u64>(1)\n"
                        "@tc(\"ingress\")\n"
                        "fn f(ctx: *__sk_buff) -> i32 {\n"
                        "    var n = ctx->len & 31\n"
                        "    var s: u64 = 0\n"
                        "    for (i in 0..n) {\n"
                        "        s += i as u64\n"
                        "    }\n"
                        "    t[0] = s\n"
                        "    return 0\n"
                        "}\n", false, false);
    CU_ASSERT_EQUAL(ok.errors, 0);
    Run bad = run_bounds("var t : array<u32, u64>(1)\n"
                         "@tc(\"ingress\")\n"
                         "fn f(ctx: *__sk_buff) -> i32 {\n"
                         "    var v = ctx->len\n"
                         "    while (v != 7) {\n"
                         "        v = v * 3 + 1\n"
                         "    }\n"
                         "    return 0\n"
                         "}\n", false, false);
    CU_ASSERT_EQUAL(bad.errors, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(bad.diag, ":5:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(bad.diag, "loop"));
}

UNIT_SUITE(bounds, UT(test_const_and_full), UT(test_sync), UT(test_add_sub), UT(test_mul_shift_mask),
           UT(test_div_mod), UT(test_unary), UT(test_decide), UT(test_refine), UT(test_join_widen),
           UT(test_packet_check_inserted), UT(test_packet_check_tc), UT(test_packet_group),
           UT(test_index_check_silent), UT(test_stale_map_value), UT(test_null_and_refs), UT(test_loops))
