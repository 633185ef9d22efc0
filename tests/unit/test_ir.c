/* IR unit tests: lowering shapes, and each pass (fold, copy propagation,
 * value numbering, null tests, CFG clean-up, inlining) on small programs,
 * checked on the IR they leave. */
#include "tests/unit/unit.h"

#include <string.h>

#include "ir/ir.h"

static UnitDiag d;

/* Lowers and optimises src; the IR of function `name`. */
static IrFunc *ir_of(const char *src, const char *name, bool optimise)
{
    Program *p = unit_check(src, &d);
    CU_ASSERT_EQUAL_FATAL(d.errors, 0);
    IrProgram *ip = ir_lower(p, false);
    for (int i = 0; i < ip->funcs.n; i++) {
        if (optimise)
            ir_optimize(ip->funcs.v[i]);
        CU_ASSERT_PTR_NULL(ir_verify(ip->funcs.v[i]));
    }
    if (optimise)
        ir_inline(ip);
    for (int i = 0; i < ip->funcs.n; i++)
        if (!strcmp(ip->funcs.v[i]->name, name))
            return ip->funcs.v[i];
    return NULL;
}

static int count_op(IrFunc *f, IrOp op)
{
    int n = 0;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++)
            n += f->blocks.v[b]->ins.v[k]->op == op;
    return n;
}

/* The constant every return of f returns, or -1 if they differ / vary. */
static long long returned_const(IrFunc *f)
{
    long long v = -1;
    for (int b = 0; b < f->blocks.n; b++) {
        Ins *t = ir_term(f->blocks.v[b]);
        if (!t || t->op != I_RET)
            continue;
        if (!t->a[0] || t->a[0]->op != I_CONST)
            return -1;
        v = t->a[0]->imm;
    }
    return v;
}

#define XDP(body) "@xdp fn p(ctx: *xdp_md) -> xdp_action {\n" body "\n}\n"

static void test_fold_constants(void)
{
    IrFunc *f = ir_of(XDP("var a: u8 = 250\n var b: u8 = a + 10\n return (b as u32) % 3 + 1"), "p", true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(returned_const(f), 4 % 3 + 1);     /* 250 + 10 wraps to 4 */
    CU_ASSERT_EQUAL(f->blocks.n, 1);
}

static void test_fold_division_rules(void)
{
    /* BPF: x / 0 is 0, x % 0 is x; signed division truncates */
    IrFunc *f = ir_of(XDP("var z: u32 = 0\n var x: u32 = 7\n return x / z + x % z * 10"), "p", true);
    CU_ASSERT_EQUAL(returned_const(f), 70);
    f = ir_of(XDP("var x: i32 = -7\n var y: i32 = 2\n return (x / y + 10) as u32"), "p", true);
    CU_ASSERT_EQUAL(returned_const(f), 7);
    f = ir_of(XDP("var x: i32 = -7\n var y: i32 = 2\n return (x % y + 10) as u32"), "p", true);
    CU_ASSERT_EQUAL(returned_const(f), 9);
}

static void test_fold_branches(void)
{
    IrFunc *f = ir_of(XDP("var k: u32 = 3\n if (k > 2) { return XDP_DROP }\n return XDP_PASS"), "p", true);
    CU_ASSERT_EQUAL(returned_const(f), 1);
    CU_ASSERT_EQUAL(count_op(f, I_BR), 0);
}

static void test_strength_reduction(void)
{
    /* unsigned % 2^n is a mask and / 2^n a shift: the verifier tracks those */
    IrFunc *f = ir_of(XDP("var n = ctx->data_end - ctx->data\n return ((n as u32) % 8 + (n as u32) / 4) as u32"), "p",
                      true);
    CU_ASSERT_EQUAL(count_op(f, I_UMOD), 0);
    CU_ASSERT_EQUAL(count_op(f, I_UDIV), 0);
    CU_ASSERT(count_op(f, I_AND) >= 1);
    CU_ASSERT(count_op(f, I_SHR) >= 1);
}

static void test_offsets_fold_into_loads(void)
{
    IrFunc *f = ir_of(XDP("var d = ctx->data\n if (d + 34 > ctx->data_end) { return XDP_PASS }\n"
                          " var ip = (d + 14) as *iphdr\n return ip->protocol as u32"),
                      "p", true);
    bool found = false;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            if (i->op == I_LOAD && i->mw == 1)
                found |= i->imm == 23 && i->a[0]->prov == P_PKT;
        }
    CU_ASSERT(found);
}

static void test_copyprop_removes_trivial_phis(void)
{
    IrFunc *f = ir_of(XDP("var x: u32 = 5\n var y: u32 = 0\n if (ctx->data == ctx->data_end) { y = 1 }\n"
                          " return x + y"),
                      "p", true);
    /* x is 5 on both paths: only y needs a phi */
    CU_ASSERT(count_op(f, I_PHI) <= 1);
}

static void test_value_numbering(void)
{
    /* data + off computed twice is one value: the verifier needs that */
    IrFunc *f = ir_of(XDP("var d = ctx->data\n var off: u32 = (ctx->data_end - d) as u32 & 7\n"
                          " if (d + off + 4 > ctx->data_end) { return XDP_PASS }\n"
                          " return *((d + off) as *u32) as u32"),
                      "p", true);
    int adds = 0;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            adds += i->op == I_ADD && i->w == 8 && i->prov == P_PKT && i->a[1]->op != I_CONST;
        }
    CU_ASSERT_EQUAL(adds, 1);
}

static void test_nullcheck_elimination(void)
{
    IrFunc *f = ir_of("struct S { a: u64, b: u64 }\nvar m : hash<u32, S>(8)\n"
                      XDP("if (var s = m[1]) { s.a += 1\n s.b += s.a }\n return XDP_PASS"),
                      "p", true);
    /* one test of the lookup result; the reads inside reuse it */
    int tests = 0;
    for (int b = 0; b < f->blocks.n; b++) {
        Ins *t = ir_term(f->blocks.v[b]);
        tests += t && t->op == I_BR && t->a[0] && t->a[0]->prov == P_MAP_VALUE;
    }
    CU_ASSERT_EQUAL(tests, 1);
}

static void test_return_merging(void)
{
    IrFunc *f = ir_of(XDP("var n = ctx->data_end - ctx->data\n if (n > 100) { return XDP_DROP }\n"
                          " if (n > 50) { return XDP_PASS }\n if (n > 20) { return XDP_DROP }\n return XDP_PASS"),
                      "p", true);
    CU_ASSERT_EQUAL(count_op(f, I_RET), 2);
}

static void test_inlining(void)
{
    const char *src = "@helper fn twice(x: u32) -> u32 { return x * 2 }\n"
                      XDP("return twice((ctx->data_end - ctx->data) as u32) % 4");
    IrFunc *f = ir_of(src, "p", true);
    CU_ASSERT_EQUAL(count_op(f, I_CALL), 0);
    CU_ASSERT_PTR_NULL(ir_of(src, "twice", true));    /* no caller left: dropped */
}

static void test_rotated_loop(void)
{
    IrFunc *f = ir_of(XDP("var s: u32 = 0\n for (i in 0..8) { s += i * (ctx->data_end - ctx->data) as u32 }\n"
                          " return s"),
                      "p", true);
    /* constant bounds: the test before the first iteration folds away,
     * leaving one conditional branch, at the latch */
    CU_ASSERT_EQUAL(count_op(f, I_BR), 1);
}

static void test_defers_lowered_once(void)
{
    const char *src = "var c : array<u32, u64>(2)\n"
                      XDP("defer { c[0] += 1 }\n var n = ctx->data_end - ctx->data\n if (n > 9) { return XDP_DROP }\n"
                          " if (n > 5) { return XDP_TX }\n return XDP_PASS");
    IrFunc *f = ir_of(src, "p", false);
    CU_ASSERT_EQUAL(count_op(f, I_ATOMIC_ADD), 1);
}

static void test_try_dispatch(void)
{
    IrFunc *f = ir_of(XDP("try {\n if (ctx->data == ctx->data_end) { throw 3 }\n return XDP_PASS\n"
                          "} catch 3 { return XDP_DROP }"),
                      "p", true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT(count_op(f, I_RET) >= 1);
    CU_ASSERT_PTR_NULL(ir_verify(f));
}

static int count_phis(IrFunc *f, Prov prov)
{
    int n = 0;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++)
            n += f->blocks.v[b]->ins.v[k]->op == I_PHI && f->blocks.v[b]->ins.v[k]->prov == prov;
    return n;
}

static void test_equal_counters_merge(void)
{
    /* n starts like i and steps like it: one phi for both, one for s */
    IrFunc *f = ir_of(XDP("var s: u32 = 0\n var n: u32 = 0\n"
                          " for (i in 0..8) { s += i * (ctx->data_end - ctx->data) as u32\n n += 1 }\n"
                          " return s + n"),
                      "p", true);
    CU_ASSERT_EQUAL(count_phis(f, P_NONE), 2);
    /* a counter stepping by another amount stays apart */
    f = ir_of(XDP("var s: u32 = 0\n var n: u32 = 0\n"
                  " for (i in 0..8) { s += i * (ctx->data_end - ctx->data) as u32\n n += 2 }\n"
                  " return s + n"),
              "p", true);
    CU_ASSERT_EQUAL(count_phis(f, P_NONE), 3);
}

#define WALK(step, lim) \
    XDP("var d = ctx->data\n var e = ctx->data_end\n var s: u32 = 0\n" \
        " for (i in 0.." lim ") { var p = d + 14 + i * " step "\n if (p + 2 > e) { break }\n" \
        " s += *(p as *u16) }\n return s")

static void test_counter_strength_reduction(void)
{
    /* the packet address becomes a pointer stepped on the back edge */
    IrFunc *f = ir_of(WALK("2", "64"), "p", true);
    CU_ASSERT_TRUE(ir_reduce_ivs(f));
    ir_copyprop(f);
    ir_dce(f);
    CU_ASSERT_EQUAL(count_phis(f, P_PKT), 1);
    CU_ASSERT_EQUAL(count_op(f, I_MUL) + count_op(f, I_SHL), 0);
    CU_ASSERT_PTR_NULL(ir_verify(f));
    /* 20000 * 2 bytes would pass the 32 KiB the rewrite allows */
    f = ir_of(WALK("2", "20000"), "p", true);
    CU_ASSERT_FALSE(ir_reduce_ivs(f));
    /* a branch that joins again inside the loop keeps the index form */
    f = ir_of(XDP("var d = ctx->data\n var e = ctx->data_end\n var s: u32 = 0\n"
                  " for (i in 0..64) { var p = d + 14 + i * 2\n if (p + 2 > e) { break }\n"
                  " var v = *(p as *u16)\n if (v > 9) { v = 9 }\n s += v }\n return s"),
              "p", true);
    CU_ASSERT_FALSE(ir_reduce_ivs(f));
}

static int count_loads(IrFunc *f, int off)
{
    int n = 0;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            n += i->op == I_LOAD && i->imm == off;
        }
    return n;
}

#define PROTO_TWICE(between) \
    XDP("var d = ctx->data\n if (d + 14 > ctx->data_end) { return XDP_PASS }\n var eth = d as *ethhdr\n" \
        " if (eth->h_proto == 8) { return XDP_DROP }\n" between \
        " if (eth->h_proto == 0xdd86) { return XDP_TX }\n return XDP_PASS")

static void test_packet_loads_merge(void)
{
    /* nothing writes the packet: h_proto is loaded once */
    CU_ASSERT_EQUAL(count_loads(ir_of(PROTO_TWICE(""), "p", true), 12), 1);
    /* a store into the packet, or a helper that moves it, keeps both loads */
    CU_ASSERT_EQUAL(count_loads(ir_of(PROTO_TWICE(" *((d + 12) as *u8) = 1\n"), "p", true), 12), 2);
    CU_ASSERT_EQUAL(count_loads(ir_of(PROTO_TWICE(" bpf_xdp_adjust_tail(ctx, 0)\n"), "p", true), 12), 2);
}

static void test_ctx_store_keeps_packet_loads_merged(void)
{
    /* skb->mark is written between the tests: the packet is not */
    const char *src = "@tc(\"ingress\") fn t(ctx: *__sk_buff) -> i32 {\n var d = ctx->data\n"
                      " if (d + 14 > ctx->data_end) { return TC_ACT_OK }\n var eth = d as *ethhdr\n"
                      " if (eth->h_proto == 8) { return TC_ACT_SHOT }\n ctx->mark = 1\n"
                      " if (eth->h_proto == 0xdd86) { return 3 }\n var m0 = ctx->mark\n ctx->mark = 2\n"
                      " return m0 as i32 + ctx->mark as i32\n}\n";
    IrFunc *f = ir_of(src, "t", true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(count_loads(f, 12), 1);
    /* but the context is: mark (offset 8) is read before and after the store */
    CU_ASSERT_EQUAL(count_loads(f, 8), 2);
}

static void test_constant_adds_reassociate(void)
{
    /* (0x10000 + x) + 1 at 32 bits, constant first: one add of 0x10001 */
    IrFunc *f = ir_of(XDP("var x: u32 = ctx->ingress_ifindex\n var y: u32 = 0x10000 + x + 1\n"
                          " if (y == 0x10003) { return XDP_DROP }\n return XDP_PASS"),
                      "p", true);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(count_op(f, I_ADD), 1);
    bool found = false;
    for (int b = 0; b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            found |= i->op == I_ADD && i->a[1] && i->a[1]->op == I_CONST && i->a[1]->imm == 0x10001;
        }
    CU_ASSERT(found);
}

#define MAP_VALUE_TWICE(between) \
    "struct S { a: u32, b: u32 }\nvar m : hash<u32, S>(4)\n" \
    XDP("var r = m[1]\n if (r == null) { return XDP_PASS }\n if (r.a == 1) { return XDP_DROP }\n" between \
        " if (r.a == 3) { return XDP_TX }\n return XDP_PASS")

/* Loads through pointers of provenance prov. */
static int loads_from(IrFunc *f, Prov prov)
{
    int n = 0;
    for (int b = 0; f && b < f->blocks.n; b++)
        for (int k = 0; k < f->blocks.v[b]->ins.n; k++) {
            Ins *i = f->blocks.v[b]->ins.v[k];
            n += i->op == I_LOAD && i->a[0]->prov == prov;
        }
    return n;
}

static int map_value_loads(const char *src) { return loads_from(ir_of(src, "p", true), P_MAP_VALUE); }

static void test_loads_reused_on_straight_paths(void)
{
    /* r.a is read once for both tests */
    CU_ASSERT_EQUAL(map_value_loads(MAP_VALUE_TWICE("")), 1);
    /* so it is past a store to another field, or to the stack */
    CU_ASSERT_EQUAL(map_value_loads(MAP_VALUE_TWICE(" r.b = 7\n")), 1);
    CU_ASSERT_EQUAL(map_value_loads(MAP_VALUE_TWICE(" var arr: u32[2] = [1, 2]\n arr[ctx->ingress_ifindex & 1] = 5\n"
                                                    " if (arr[0] == 9) { return XDP_ABORTED }\n")),
                    1);
    /* after a store to it, the value stored is the value read */
    CU_ASSERT_EQUAL(map_value_loads(MAP_VALUE_TWICE(" r.a = ctx->ingress_ifindex\n")), 1);
    /* not past a store through another entry, or a call */
    CU_ASSERT_EQUAL(map_value_loads(MAP_VALUE_TWICE(" var q = m[2]\n if (q != null) { q.a = 3 }\n")), 2);
    CU_ASSERT_EQUAL(map_value_loads(MAP_VALUE_TWICE(" m[5] = S { a: 5, b: 5 }\n")), 2);
}

#define PROTOCOL_TWICE(between) \
    "var m : hash<u32, u32>(4)\n" \
    XDP("var d = ctx->data\n if (d + 34 > ctx->data_end) { return XDP_PASS }\n var ip = (d + 14) as *iphdr\n" \
        " if (ip->protocol == 6) { ip->ttl = 1 } else { ip->daddr = 2 }\n" between \
        " if (ip->protocol == 17) { return XDP_DROP }\n return XDP_PASS")

static void test_packet_loads_reused_past_other_bytes(void)
{
    /* protocol (byte 23) across an if whose arms write ttl and daddr, and
     * across a map update, is read once */
    CU_ASSERT_EQUAL(count_loads(ir_of(PROTOCOL_TWICE(""), "p", true), 23), 1);
    CU_ASSERT_EQUAL(count_loads(ir_of(PROTOCOL_TWICE(" m[1] = 2\n"), "p", true), 23), 1);
    /* a store that covers more stops that; one of exactly its bytes
     * gives the value */
    CU_ASSERT_EQUAL(count_loads(ir_of(PROTOCOL_TWICE(" *((d + 20) as *u32) = 0\n"), "p", true), 23), 2);
    CU_ASSERT_EQUAL(count_loads(ir_of(PROTOCOL_TWICE(" ip->protocol = 17\n"), "p", true), 23), 1);
}

static int stack_loads(IrFunc *f) { return loads_from(f, P_STACK); }

#define LOCAL_STRUCT(between) \
    "struct M { a: u32, b: u16 }\nvar m2 : hash<u32, M>(4)\n" \
    XDP("var m = M { a: 0, b: 0 }\n m.a += ctx->ingress_ifindex\n m.b = 3\n" between \
        " if (m.a + m.b as u32 == 9) { return XDP_DROP }\n m2[1] = m\n return XDP_PASS")

static void test_stack_stores_forwarded(void)
{
    /* the fields of a local struct are read from the values stored */
    CU_ASSERT_EQUAL(stack_loads(ir_of(LOCAL_STRUCT(""), "p", true)), 0);
    /* not after a helper was given its address, or a write by a variable index */
    CU_ASSERT_EQUAL(stack_loads(ir_of(LOCAL_STRUCT(" bpf_probe_read_kernel(&m, 4, &m)\n"), "p", true)), 2);
    CU_ASSERT(stack_loads(ir_of(LOCAL_STRUCT(" var bytes = (&m) as *u8\n bytes[ctx->ingress_ifindex & 3] = 1\n"),
                                "p", true))
              >= 1);
}

static void test_load_reuse_many_predecessors(void)
{
    /* concatenating a long literal joins one exit per byte in one block:
     * the walk back from long[1] must give up there, not overrun (a
     * fuzzer find) */
    IrFunc *f = ir_of(XDP("var a: str(8) = \"ksc\"\n"
                          " var long: str(6) = a + \"0123456789012345678901234567890123456789012345678901234567890123456789\"\n"
                          " return (long[1] as u32) as xdp_action"),
                      "p", true);
    CU_ASSERT_PTR_NOT_NULL(f);
}

UNIT_SUITE(ir, UT(test_fold_constants), UT(test_fold_division_rules), UT(test_fold_branches),
           UT(test_strength_reduction), UT(test_offsets_fold_into_loads), UT(test_copyprop_removes_trivial_phis),
           UT(test_value_numbering), UT(test_nullcheck_elimination), UT(test_return_merging), UT(test_inlining),
           UT(test_rotated_loop), UT(test_defers_lowered_once), UT(test_try_dispatch),
           UT(test_equal_counters_merge), UT(test_counter_strength_reduction),
           UT(test_packet_loads_merge), UT(test_ctx_store_keeps_packet_loads_merged),
           UT(test_constant_adds_reassociate), UT(test_loads_reused_on_straight_paths),
           UT(test_packet_loads_reused_past_other_bytes), UT(test_stack_stores_forwarded),
           UT(test_load_reuse_many_predecessors))
