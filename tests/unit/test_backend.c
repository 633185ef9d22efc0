/* Back-end unit tests: instruction selection, register allocation, the
 * frame and encoding, on small programs; the ones without maps are also
 * loaded into the kernel and run (BPF_PROG_TEST_RUN). */
#include "tests/unit/unit.h"

#include <bpf/bpf.h>
#include <string.h>
#include <unistd.h>

#include "bpf_backend/mir.h"

static UnitDiag d;
static FILE *sink;      /* where back-end diagnostics go while a test expects them */

/* Source to the encoded program `name`; NULL when the back end refused. */
static ObjProg *compile(const char *src, const char *name)
{
    Program *p = unit_check(src, &d);
    CU_ASSERT_EQUAL_FATAL(d.errors, 0);
    diag_set_output(sink);
    IrProgram *ip = ir_lower(p, false);
    for (int i = 0; i < ip->funcs.n; i++)
        ir_optimize(ip->funcs.v[i]);
    ir_inline(ip);
    for (int i = 0; i < ip->funcs.n; i++) {
        IrFunc *f = ip->funcs.v[i];
        if (strcmp(f->name, name))
            continue;
        ir_split_critical_edges(f);
        MFunc *m = isel(f, 3);
        regalloc(m);
        if (!frame_layout(m))
            return NULL;
        peephole(m);
        ObjProg *o = xalloc(sizeof(ObjProg));
        emit_prog(m, o);
        return o;
    }
    return NULL;
}

/* Runs an XDP program on a zeroed packet of len bytes; its return value. */
static long long run_xdp(ObjProg *o, int len)
{
    char log[4096] = "";
    LIBBPF_OPTS(bpf_prog_load_opts, lo, .log_buf = log, .log_size = sizeof log, .log_level = 1);
    int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "unit", "GPL", o->insns, (size_t)o->ninsns, &lo);
    if (fd < 0) {
        printf("    kernel refused: %.300s\n", log);
        return -1;
    }
    char pkt[2048] = { 0 };
    LIBBPF_OPTS(bpf_test_run_opts, ro, .data_in = pkt, .data_size_in = (uint32_t)len, .repeat = 1);
    int rc = bpf_prog_test_run_opts(fd, &ro);
    close(fd);
    return rc ? -1 : (long long)ro.retval;
}

#define XDP(body) "@xdp fn p(ctx: *xdp_md) -> xdp_action {\n" body "\n}\n"

static void test_registers_in_range(void)
{
    ObjProg *o = compile(XDP("var n = (ctx->data_end - ctx->data) as u64\n"
                             " var a = n * 3\n var b = n ^ 0x55\n var c = a + b * n\n"
                             " return (c % 7) as u32"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    for (int i = 0; i < o->ninsns; i++) {
        CU_ASSERT(o->insns[i].dst_reg <= 10);
        CU_ASSERT(o->insns[i].src_reg <= 10);
    }
    long long n = 100, a = n * 3, b = n ^ 0x55, c = a + b * n;
    CU_ASSERT_EQUAL(run_xdp(o, 100), c % 7);
}

static void test_pressure_spills(void)
{
    /* more values live at once than R0-R9 can hold */
    ObjProg *o = compile(XDP("var n = (ctx->data_end - ctx->data) as u64\n"
                             " var a = n + 1\n var b = n + 2\n var c = n * 3\n var e = n * 5\n var f = n ^ 6\n"
                             " var g = n | 7\n var h = n + 8\n var i = n * 9\n var j = n - 10\n var k = n + 11\n"
                             " var l = n * 12\n return ((a + b + c + e + f + g + h + i + j + k + l) & 0xffff) as u32"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    unsigned long long n = 64;
    unsigned long long s = (n + 1) + (n + 2) + n * 3 + n * 5 + (n ^ 6) + (n | 7) + (n + 8) + n * 9 + (n - 10) + (n + 11)
                         + n * 12;
    CU_ASSERT_EQUAL(run_xdp(o, 64), (long long)(s & 0xffff));
}

static void test_signed_division_v3(void)
{
    /* cpu v3 has no signed division: magnitude, then the sign */
    ObjProg *o = compile(XDP("var n = (ctx->data_end - ctx->data) as i32\n var x = 7 - n\n"
                             " return ((x / 3) * 100 + x % 3 + 5000) as u32"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    for (int i = 0; i < o->ninsns; i++)
        CU_ASSERT(BPF_OP(o->insns[i].code) != BPF_DIV || o->insns[i].off == 0);
    int x = 7 - 20;
    CU_ASSERT_EQUAL(run_xdp(o, 20), (x / 3) * 100 + x % 3 + 5000);
}

static void test_narrow_arithmetic(void)
{
    /* u8 wraps, i8 compares signed, shifts take the count modulo 8 */
    ObjProg *o = compile(XDP("var n = (ctx->data_end - ctx->data) as u8\n var a: u8 = n + 250\n"
                             " var s = (n as i8) - 100\n var r: u32 = 0\n if (s < 0) { r = 1000 }\n"
                             " var sh: u8 = 1 << (n as u8)\n return r + a as u32 + (sh as u32) * 10000"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    unsigned char n = 20, a = (unsigned char)(n + 250);
    unsigned char sh = (unsigned char)(1u << (n % 8));
    CU_ASSERT_EQUAL(run_xdp(o, 20), 1000 + a + sh * 10000);
}

static void test_large_constant_ldimm64(void)
{
    ObjProg *o = compile(XDP("var n = (ctx->data_end - ctx->data) as u64\n"
                             " return ((n ^ 0x1234567890abcdef) >> 40) as u32"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    bool ld = false;
    for (int i = 0; i < o->ninsns; i++)
        ld |= o->insns[i].code == (BPF_LD | BPF_DW | BPF_IMM);
    CU_ASSERT(ld);
    CU_ASSERT_EQUAL(run_xdp(o, 30), (long long)((30ULL ^ 0x1234567890abcdefULL) >> 40));
}

static void test_no_jump_to_next(void)
{
    ObjProg *o = compile(XDP("var n = ctx->data_end - ctx->data\n if (n > 100) { return XDP_DROP }\n"
                             " if (n > 60) { return XDP_TX }\n return XDP_PASS"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    for (int i = 0; i < o->ninsns; i++)
        CU_ASSERT(!(BPF_CLASS(o->insns[i].code) == BPF_JMP && BPF_OP(o->insns[i].code) == BPF_JA
                    && o->insns[i].off == 0));
    CU_ASSERT_EQUAL(run_xdp(o, 50), 2);
    CU_ASSERT_EQUAL(run_xdp(o, 70), 3);
    CU_ASSERT_EQUAL(run_xdp(o, 200), 1);
}

static void test_jset(void)
{
    ObjProg *o = compile(XDP("var n = (ctx->data_end - ctx->data) as u32\n if ((n & 4) != 0) { return XDP_DROP }\n"
                             " return XDP_PASS"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    bool jset = false;
    for (int i = 0; i < o->ninsns; i++)
        jset |= BPF_OP(o->insns[i].code) == BPF_JSET;
    CU_ASSERT(jset);
    CU_ASSERT_EQUAL(run_xdp(o, 20), 1);
    CU_ASSERT_EQUAL(run_xdp(o, 24), 2);
}

static void test_narrow_masks_dropped(void)
{
    /* ihl is `b & 15` of a byte: the widening `& 255` after it changes nothing */
    ObjProg *o = compile(XDP("var d = ctx->data\n if (d + 34 > ctx->data_end) { return XDP_PASS }\n"
                             " var ip = (d + 14) as *iphdr\n if (ip->ihl == 5) { return XDP_DROP }\n"
                             " return XDP_PASS"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    for (int i = 1; i < o->ninsns; i++) {
        struct bpf_insn *a = &o->insns[i - 1], *b = &o->insns[i];
        CU_ASSERT(!(a->code == (BPF_ALU | BPF_AND | BPF_K) && b->code == (BPF_ALU64 | BPF_AND | BPF_K)
                    && a->dst_reg == b->dst_reg && (a->imm & ~b->imm) == 0));
    }
    CU_ASSERT_EQUAL(run_xdp(o, 40), 2);     /* a zeroed header: ihl 0 */
}

static void test_frame_limit(void)
{
    /* each local fits, together they do not */
    sink = fopen("/dev/null", "w");
    ObjProg *o = compile(XDP("var a: u8[300]\n var b: u8[300]\n a[1] = 1\n b[2] = 2\n"
                             " return (a[(ctx->data_end - ctx->data) as u32 & 7] + b[2]) as u32"),
                         "p");
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT(diag_errors() > 0);
    diag_set_output(NULL);
    fclose(sink);
    sink = NULL;
}

static void test_line_info(void)
{
    ObjProg *o = compile(XDP("var n = ctx->data_end - ctx->data\n\n if (n > 9) {\n return XDP_DROP\n }\n"
                             " return XDP_PASS"),
                         "p");
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT(o->nlines >= 2);
    bool line4 = false;
    for (int i = 0; i < o->nlines; i++) {
        CU_ASSERT(o->lines[i].insn >= 0 && o->lines[i].insn < o->ninsns);
        line4 |= o->lines[i].line == 4;
    }
    CU_ASSERT(line4);
}

UNIT_SUITE(backend, UT(test_registers_in_range), UT(test_pressure_spills), UT(test_signed_division_v3),
           UT(test_narrow_arithmetic), UT(test_large_constant_ldimm64), UT(test_no_jump_to_next), UT(test_jset),
           UT(test_frame_limit), UT(test_line_info), UT(test_narrow_masks_dropped))
