/* asm_print: llvm-objdump 14's text for a program. A few instructions are
 * checked literally; then a program using every instruction class is
 * written to an object and asm_print's lines are compared with what
 * `llvm-objdump -dr` prints for that object. */
#include "tests/unit/unit.h"

#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpf_backend/backend.h"
#include "btf/ksbtf.h"

#define I(c, d, s, o, i) \
    ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char *print_prog(const ObjProg *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    asm_print(f, p);
    fclose(f);
    char *s = xstrdup(buf);
    free(buf);
    return s;
}

static void test_literal(void)
{
    unit_reset();
    struct bpf_insn ins[] = {
        I(BPF_LDX | BPF_MEM | BPF_W, 1, 1, 4, 0),
        I(BPF_JMP | BPF_JGT | BPF_K, 1, 0, 2, 1500),
        I(BPF_LD | BPF_IMM | BPF_DW, 1, BPF_PSEUDO_MAP_FD, 0, 0), I(0, 0, 0, 0, 0),
        I(BPF_JMP | BPF_CALL, 0, 0, 0, 1),
        I(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0),
        I(BPF_STX | BPF_ATOMIC | BPF_W, 1, 2, 16, BPF_ADD | BPF_FETCH),
        I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    ObjReloc rel[] = { { 2, RELO_MAP, "events" } };
    /* the map load prints as the object holds it: src_reg 0 */
    ObjProg p = { .name = "f", .section = "xdp", .insns = ins, .ninsns = N(ins),
                  .relocs = rel, .nrelocs = 1 };
    char *s = print_prog(&p);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "0000000000000000 <f>:\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(s, "       0:\t61 11 04 00 00 00 00 00\tr1 = *(u32 *)(r1 + 4)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\tif r1 > 1500 goto +2 <f+0x20>\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "       2:\t18 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                                     "\tr1 = 0 ll\n\t\t0000000000000010:  R_BPF_64_64\tevents\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "       4:\t85 00 00 00 01 00 00 00\tcall 1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\t*(u64 *)(r10 - 8) = r1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\tw2 = atomic_fetch_add((u32 *)(r1 + 16), w2)\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "       7:\t95 00 00 00 00 00 00 00\texit\n"));
}

/* Every ALU, jump, load, store and atomic form, for comparison with
 * llvm-objdump. Not meant to pass the verifier. */
static int all_insns(struct bpf_insn *v)
{
    static const int alu[] = { BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH,
                               BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH };
    static const int jmp[] = { BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT,
                               BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE };
    static const int sizes[] = { BPF_B, BPF_H, BPF_W, BPF_DW };
    static const int atomics[] = { BPF_ADD, BPF_OR, BPF_AND, BPF_XOR, BPF_ADD | BPF_FETCH,
                                   BPF_OR | BPF_FETCH, BPF_AND | BPF_FETCH,
                                   BPF_XOR | BPF_FETCH, BPF_XCHG, BPF_CMPXCHG };
    int n = 0;
    for (int c = 0; c < 2; c++) {
        int cls = c ? BPF_ALU : BPF_ALU64;
        for (int i = 0; i < N(alu); i++) {
            v[n++] = I(cls | alu[i] | BPF_X, 1, 2, 0, 0);
            v[n++] = I(cls | alu[i] | BPF_K, 3, 0, 0, i * 37 - 100);
        }
        v[n++] = I(cls | BPF_NEG, 4, 0, 0, 0);
    }
    for (int i = 16; i <= 64; i *= 2) {
        v[n++] = I(BPF_ALU | BPF_END | BPF_TO_BE, 5, 0, 0, i);
        v[n++] = I(BPF_ALU | BPF_END | BPF_TO_LE, 5, 0, 0, i);
    }
    v[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 6, 0, 0, -1), v[n++] = I(0, 0, 0, 0, -1);
    v[n++] = I(BPF_LD | BPF_IMM | BPF_DW, 6, 0, 0, 0x5678), v[n++] = I(0, 0, 0, 0, 0x1234);
    for (int i = 0; i < 4; i++) {
        v[n++] = I(BPF_LDX | BPF_MEM | sizes[i], 7, 8, (int16_t)(i * 4 - 6), 0);
        v[n++] = I(BPF_STX | BPF_MEM | sizes[i], 10, 9, (int16_t)(-8 * i), 0);
        v[n++] = I(BPF_ST | BPF_MEM | sizes[i], 10, 0, -16, 42);
        v[n++] = I(BPF_LD | BPF_ABS | sizes[i], 0, 0, 0, 14);
        v[n++] = I(BPF_LD | BPF_IND | sizes[i], 0, 3, 0, 0);
    }
    /* llvm-objdump 14 decodes a 32-bit fetch-add as a plain `lock +=`,
     * dropping the fetch; test_literal checks ksc's form of it instead */
    for (int s = 2; s < 4; s++)
        for (int i = 0; i < N(atomics); i++)
            if (s == 3 || atomics[i] != (BPF_ADD | BPF_FETCH))
                v[n++] = I(BPF_STX | BPF_ATOMIC | sizes[s], 1, 2, (int16_t)(8 * i - 16),
                           atomics[i]);
    int start = n;
    for (int c = 0; c < 2; c++) {
        int cls = c ? BPF_JMP32 : BPF_JMP;
        for (int i = 0; i < N(jmp); i++) {
            v[n++] = I(cls | jmp[i] | BPF_X, 1, 2, 3, 0);
            v[n++] = I(cls | jmp[i] | BPF_K, 3, 0, (int16_t)(start - n - 1), -7 * i);
        }
    }
    v[n++] = I(BPF_JMP | BPF_JA, 0, 0, 1, 0);
    v[n++] = I(BPF_JMP | BPF_CALL, 0, 0, 0, 12);
    v[n++] = I(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, -1);
    v[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
    return n;
}

/* The instruction lines of one function in llvm-objdump's output. */
static char *objdump_lines(const char *path, const char *name)
{
    char *cmd = xfmt("llvm-objdump -dr %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    char line[512], *out = xstrdup("");
    bool in = false;
    while (fgets(line, sizeof line, p)) {
        if (strstr(line, xfmt(" <%s>:", name)))
            in = true;
        else if (in && (line[0] == '\n' || strstr(line, "Disassembly of")))
            in = false;
        if (in)
            out = xfmt("%s%s", out, line);
    }
    return pclose(p) == 0 ? out : NULL;
}

static void test_vs_objdump(void)
{
    if (system("llvm-objdump --version >/dev/null 2>&1") != 0)
        return;
    unit_reset();
    struct btf *b = btf__new_empty();
    BtfGen *g = btfgen_new(b);
    struct bpf_insn ins[400];
    int n = all_insns(ins);
    struct bpf_insn sub[] = { I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0) };
    ObjReloc rel[] = { { n - 2, RELO_CALL, "sub" } };
    ObjProg progs[] = {
        { .name = "every", .section = "xdp", .insns = ins, .ninsns = n, .relocs = rel,
          .nrelocs = 1, .btf_proto = btfgen_proto(g, ty_i32, NULL, NULL, 0) },
        { .name = "sub", .section = ".text", .insns = sub, .ninsns = 1,
          .btf_proto = btfgen_proto(g, ty_i32, NULL, NULL, 0) },
    };
    Obj o = { .btf = b, .license = "GPL", .progs = progs, .nprogs = 2 };
    const char *path = xfmt("/tmp/ksc-unit-%d-asm.o", (int)getpid());
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    char *want = objdump_lines(path, "every");
    char *got = print_prog(&progs[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    /* compare line by line, reporting the first difference; where
     * llvm-objdump 14 has no mnemonic (it predates BPF_MOD, for example),
     * only index and bytes must agree */
    char *w = want, *h = got;
    int line = 0;
    while (*w || *h) {
        char *we = strchrnul(w, '\n'), *he = strchrnul(h, '\n');
        line++;
        char *unk = strstr(w, "<unknown>");
        bool skip = unk && unk < we && !memcmp(w, h, (size_t)(unk - w));
        if (!skip && (we - w != he - h || memcmp(w, h, (size_t)(we - w)))) {
            fprintf(stderr, "line %d differs:\n  objdump: %.*s\n  ksc:     %.*s\n", line,
                    (int)(we - w), w, (int)(he - h), h);
            CU_FAIL("asm_print differs from llvm-objdump");
            break;
        }
        w = *we ? we + 1 : we;
        h = *he ? he + 1 : he;
    }
    unlink(path);
    btfgen_free(g);
    btf__free(b);
}

UNIT_SUITE(asmprint, UT(test_literal), UT(test_vs_objdump))
