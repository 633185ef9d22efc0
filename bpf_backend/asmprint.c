/* --emit=asm: a program printed the way llvm-objdump 14 prints a BPF
 * object (`llvm-objdump -dr`), so that the two can be compared line by
 * line: index, raw bytes, the mnemonic in LLVM's syntax, branch targets
 * as <function+offset>, relocation lines under the instructions that
 * carry one. Offsets are from the program's start, and a relocation names
 * what ObjReloc names (the object may use a section symbol instead).
 * Where LLVM 14 prints <unknown> (mod, jset, st with an immediate, most
 * 32-bit atomics) or misreads (a 32-bit fetch-add shown as a plain add),
 * this prints the instruction in the same syntax as its relatives. */
#include "bpf_backend/backend.h"

#include <string.h>

static const char *size_name(int sz)
{
    switch (sz) {
    case BPF_B: return "u8";
    case BPF_H: return "u16";
    case BPF_W: return "u32";
    default: return "u64";
    }
}

static void mem(FILE *out, const struct bpf_insn *in, int reg)
{
    fprintf(out, "r%d %c %d", reg, in->off < 0 ? '-' : '+', in->off < 0 ? -in->off : in->off);
}

static void branch_target(FILE *out, const ObjProg *p, int i, int off)
{
    long target = (long)(i + 1 + off) * 8;
    fprintf(out, "goto %s%d <%s", off >= 0 ? "+" : "", off, p->name ? p->name : "");
    if (target)
        fprintf(out, "+0x%lx", target);
    fputc('>', out);
}

static const char *alu_op(int op)
{
    switch (op) {
    case BPF_ADD: return "+=";
    case BPF_SUB: return "-=";
    case BPF_MUL: return "*=";
    case BPF_DIV: return "/=";
    case BPF_OR: return "|=";
    case BPF_AND: return "&=";
    case BPF_LSH: return "<<=";
    case BPF_RSH: return ">>=";
    case BPF_MOD: return "%=";
    case BPF_XOR: return "^=";
    case BPF_ARSH: return "s>>=";
    case BPF_MOV: return "=";
    default: return NULL;
    }
}

static const char *jmp_op(int op)
{
    switch (op) {
    case BPF_JEQ: return "==";
    case BPF_JGT: return ">";
    case BPF_JGE: return ">=";
    case BPF_JSET: return "&";
    case BPF_JNE: return "!=";
    case BPF_JSGT: return "s>";
    case BPF_JSGE: return "s>=";
    case BPF_JLT: return "<";
    case BPF_JLE: return "<=";
    case BPF_JSLT: return "s<";
    case BPF_JSLE: return "s<=";
    default: return NULL;
    }
}

static bool print_alu(FILE *out, const struct bpf_insn *in)
{
    char r = BPF_CLASS(in->code) == BPF_ALU64 ? 'r' : 'w';
    int op = BPF_OP(in->code);
    if (op == BPF_NEG) {
        fprintf(out, "%c%d = -%c%d", r, in->dst_reg, r, in->dst_reg);
        return true;
    }
    if (op == BPF_END) {
        if (r != 'w' || (in->imm != 16 && in->imm != 32 && in->imm != 64))
            return false;
        fprintf(out, "r%d = %s%d r%d", in->dst_reg, BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le",
                in->imm, in->dst_reg);
        return true;
    }
    const char *s = alu_op(op);
    if (!s)
        return false;
    /* cpu v4: signed division and modulo (off 1), sign-extending moves */
    if ((op == BPF_DIV || op == BPF_MOD) && in->off == 1)
        s = op == BPF_DIV ? "s/=" : "s%=";
    if (op == BPF_MOV && BPF_SRC(in->code) == BPF_X && in->off) {
        fprintf(out, "%c%d = (s%d)%c%d", r, in->dst_reg, in->off, r, in->src_reg);
        return true;
    }
    if (BPF_SRC(in->code) == BPF_X)
        fprintf(out, "%c%d %s %c%d", r, in->dst_reg, s, r, in->src_reg);
    else
        fprintf(out, "%c%d %s %d", r, in->dst_reg, s, in->imm);
    return true;
}

static bool print_jmp(FILE *out, const ObjProg *p, int i, const struct bpf_insn *in)
{
    int op = BPF_OP(in->code);
    bool j32 = BPF_CLASS(in->code) == BPF_JMP32;
    char r = j32 ? 'w' : 'r';
    if (!j32 && op == BPF_CALL) {
        fprintf(out, "call %d", in->imm);
        return true;
    }
    if (!j32 && op == BPF_EXIT) {
        fputs("exit", out);
        return true;
    }
    if (!j32 && op == BPF_JA) {
        branch_target(out, p, i, in->off);
        return true;
    }
    const char *s = jmp_op(op);
    if (!s)
        return false;
    if (BPF_SRC(in->code) == BPF_X)
        fprintf(out, "if %c%d %s %c%d", r, in->dst_reg, s, r, in->src_reg);
    else
        fprintf(out, "if %c%d %s %d", r, in->dst_reg, s, in->imm);
    fputc(' ', out);
    branch_target(out, p, i, in->off);
    return true;
}

/* Atomic read-modify-write in LLVM 14's spelling. */
static bool print_atomic(FILE *out, const struct bpf_insn *in)
{
    bool dw = BPF_SIZE(in->code) == BPF_DW;
    char r = dw ? 'r' : 'w';
    const char *sz = dw ? "u64" : "u32";
    int op = in->imm & ~BPF_FETCH, s = in->src_reg, d = in->dst_reg;
    static const char *names[] = { [BPF_ADD] = "add", [BPF_OR] = "or", [BPF_AND] = "and",
                                   [BPF_XOR] = "xor" };
    if (in->imm == BPF_XCHG) {
        fprintf(out, "%c%d = xchg%s_%s(r%d", r, s, dw ? "" : "32", dw ? "64" : "32", d);
        fprintf(out, " %c %d, %c%d)", in->off < 0 ? '-' : '+', in->off < 0 ? -in->off : in->off,
                r, s);
        return true;
    }
    if (in->imm == BPF_CMPXCHG) {
        fprintf(out, "%c0 = cmpxchg%s_%s(r%d %c %d, %c0, %c%d)", r, dw ? "" : "32",
                dw ? "64" : "32", d, in->off < 0 ? '-' : '+', in->off < 0 ? -in->off : in->off, r,
                r, s);
        return true;
    }
    if (op != BPF_ADD && op != BPF_OR && op != BPF_AND && op != BPF_XOR)
        return false;
    if (in->imm & BPF_FETCH) {
        fprintf(out, "%c%d = atomic_fetch_%s((%s *)(", r, s, names[op], sz);
        mem(out, in, d);
        fprintf(out, "), %c%d)", r, s);
    } else {
        fprintf(out, "lock *(%s *)(", sz);
        mem(out, in, d);
        fprintf(out, ") %s %c%d", alu_op(op), op == BPF_ADD && !dw ? 'r' : r, s);
    }
    return true;
}

static bool print_mem(FILE *out, const struct bpf_insn *in)
{
    int cls = BPF_CLASS(in->code), mode = BPF_MODE(in->code);
    const char *sz = size_name(BPF_SIZE(in->code));
    if (cls == BPF_LDX && mode == BPF_MEM) {
        fprintf(out, "r%d = *(%s *)(", in->dst_reg, sz);
        mem(out, in, in->src_reg);
        fputc(')', out);
    } else if (cls == BPF_STX && mode == BPF_MEM) {
        fprintf(out, "*(%s *)(", sz);
        mem(out, in, in->dst_reg);
        fprintf(out, ") = r%d", in->src_reg);
    } else if (cls == BPF_ST && mode == BPF_MEM) {
        fprintf(out, "*(%s *)(", sz);
        mem(out, in, in->dst_reg);
        fprintf(out, ") = %d", in->imm);
    } else if (cls == BPF_STX && mode == BPF_ATOMIC) {
        return (BPF_SIZE(in->code) == BPF_W || BPF_SIZE(in->code) == BPF_DW) &&
               print_atomic(out, in);
    } else if (cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND)) {
        if (mode == BPF_ABS)
            fprintf(out, "r0 = *(%s *)skb[%d]", sz, in->imm);
        else
            fprintf(out, "r0 = *(%s *)skb[r%d]", sz, in->src_reg);
    } else {
        return false;
    }
    return true;
}

static void print_bytes(FILE *out, const struct bpf_insn *in, int n)
{
    const unsigned char *b = (const unsigned char *)in;
    for (int k = 0; k < 8 * n; k++)
        fprintf(out, "%s%02x", k ? " " : "", b[k]);
}

static void print_relocs(FILE *out, const ObjProg *p, int i)
{
    for (int k = 0; p->relocs && k < p->nrelocs; k++) {
        const ObjReloc *r = &p->relocs[k];
        if (r->insn != i)
            continue;
        bool call = (r->kind == RELO_CALL || r->kind == RELO_KFUNC) &&
                    p->insns[i].code == (BPF_JMP | BPF_CALL);
        fprintf(out, "\t\t%016lx:  %s\t%s\n", (unsigned long)i * 8,
                call ? "R_BPF_64_32" : "R_BPF_64_64", r->sym ? r->sym : "");
    }
}

/* One instruction; returns how many slots it took (2 for LD_IMM64). */
static int print_insn(FILE *out, const ObjProg *p, int i)
{
    bool wide = p->insns[i].code == (BPF_LD | BPF_IMM | BPF_DW) && i + 1 < p->ninsns;
    /* what the object will hold, as llvm-objdump would show it */
    struct bpf_insn in[2] = { p->insns[i], wide ? p->insns[i + 1] : p->insns[i] };
    for (int k = 0; p->relocs && k < p->nrelocs; k++)
        if (p->relocs[k].insn == i && (wide || in->code == (BPF_JMP | BPF_CALL)))
            obj_reloc_insn(p->relocs[k].kind, in);
    int cls = BPF_CLASS(in->code);
    fprintf(out, "%8d:\t", i);
    print_bytes(out, in, wide ? 2 : 1);
    fputc('\t', out);
    bool ok = true;
    if (wide) {
        uint64_t v = (uint64_t)(uint32_t)in[1].imm << 32 | (uint32_t)in[0].imm;
        if (in->src_reg)
            fprintf(out, "r%d = ld_pseudo %d %lld", in->dst_reg, in->src_reg, (long long)v);
        else
            fprintf(out, "r%d = %lld ll", in->dst_reg, (long long)v);
    } else if (cls == BPF_ALU || cls == BPF_ALU64) {
        ok = print_alu(out, in);
    } else if (cls == BPF_JMP || cls == BPF_JMP32) {
        ok = print_jmp(out, p, i, in);
    } else {
        ok = print_mem(out, in);
    }
    if (!ok)
        fputs("<unknown>", out);
    fputc('\n', out);
    print_relocs(out, p, i);
    return wide ? 2 : 1;
}

void asm_print(FILE *out, const ObjProg *p)
{
    if (!out || !p || (p->ninsns > 0 && !p->insns))
        return;
    fprintf(out, "%016x <%s>:\n", 0, p->name ? p->name : "");
    for (int i = 0; i < p->ninsns;)
        i += print_insn(out, p, i);
}
