/* --emit=ir: the SSA IR, one instruction per line, QBE-like. */
#include "ir/ir.h"

static const char *op_names[] = {
    "nop", "const", "arg", "copy", "add", "sub", "mul", "udiv", "sdiv", "umod", "smod", "and", "or",
    "xor", "shl", "shr", "sar", "neg", "not", "bswap", "funcaddr", "zext", "sext", "setcc", "select",
    "load", "store", "atomic_add", "slot", "map", "global", "call_helper", "call", "call_kfunc",
    "tail_call", "phi", "jmp", "br", "ret",
};

static const char *cc_names[] = { "eq", "ne", "ult", "ule", "ugt", "uge", "slt", "sle", "sgt", "sge", "set" };
static const char *prov_names[] = { "", "ctx", "pkt", "pkt_end", "pkt_meta", "map_value", "map", "stack",
                                    "global", "ringbuf", "kernel", "rodata" };

static void val(FILE *out, Ins *i)
{
    if (!i)
        fputs("_", out);
    else if (i->op == I_CONST)
        fprintf(out, "%lld", (long long)i->imm);
    else
        fprintf(out, "%%%d", i->id);
}

static void print_ins(FILE *out, Ins *i)
{
    fputs("    ", out);
    if (i->w && i->op != I_STORE) {
        fprintf(out, "%%%d:%d", i->id, i->w);
        if (i->prov)
            fprintf(out, "<%s>", prov_names[i->prov]);
        fputs(" = ", out);
    }
    fputs(op_names[i->op], out);
    switch (i->op) {
    case I_CONST: case I_ARG: case I_SLOT:
        fprintf(out, " %lld", (long long)i->imm);
        break;
    case I_BR: case I_SETCC:
        fprintf(out, ".%s%d ", cc_names[i->cc], i->cw * 8);
        val(out, i->a[0]);
        fputs(", ", out);
        val(out, i->a[1]);
        if (i->op == I_BR)
            fprintf(out, " ? @b%d : @b%d", i->succ[0]->id, i->succ[1]->id);
        break;
    case I_JMP:
        fprintf(out, " @b%d", i->succ[0]->id);
        break;
    case I_LOAD: case I_STORE: case I_ATOMIC_ADD:
        fprintf(out, "%d [", i->mw * 8);
        val(out, i->a[0]);
        fprintf(out, " + %lld]", (long long)i->imm);
        if (i->op != I_LOAD) {
            fputs(", ", out);
            val(out, i->a[1]);
        }
        break;
    case I_MAP: case I_GLOBAL: case I_FUNC_ADDR:
        fprintf(out, " %s", i->sym);
        if (i->imm)
            fprintf(out, "+%lld", (long long)i->imm);
        break;
    case I_CALL_HELPER: case I_CALL: case I_CALL_KFUNC: case I_PHI:
        if (i->op == I_CALL_HELPER)
            fprintf(out, " #%lld", (long long)i->imm);
        else if (i->sym)
            fprintf(out, " %s", i->sym);
        fputs("(", out);
        for (int k = 0; k < i->nargs; k++) {
            if (k)
                fputs(", ", out);
            if (i->op == I_PHI && i->blk && k < i->blk->preds.n)
                fprintf(out, "@b%d: ", i->blk->preds.v[k]->id);
            val(out, i->args[k]);
        }
        fputs(")", out);
        break;
    case I_TAIL_CALL:
        fprintf(out, " %s[%lld] ", i->sym, (long long)i->imm);
        val(out, i->a[0]);
        break;
    default:
        for (int k = 0; k < 4 && i->a[k]; k++) {
            fputs(k ? ", " : " ", out);
            val(out, i->a[k]);
        }
        if (i->op == I_ZEXT || i->op == I_SEXT || i->op == I_BSWAP)
            fprintf(out, " from %lld", (long long)i->imm);
        break;
    }
    if (i->pos.line)
        fprintf(out, "\t; line %d", i->pos.line);
    fputc('\n', out);
}

void ir_print_func(IrFunc *f, FILE *out)
{
    fprintf(out, "function %s  section %s  params %d  slots", f->name, f->section, f->nparams);
    for (int s = 0; s < f->slots.n; s++)
        fprintf(out, " %d:%d", s, f->slots.v[s].size);
    fputc('\n', out);
    for (int b = 0; b < f->blocks.n; b++) {
        Block *bl = f->blocks.v[b];
        fprintf(out, "@b%d:", bl->id);
        if (bl->preds.n) {
            fputs("  ; preds", out);
            for (int k = 0; k < bl->preds.n; k++)
                fprintf(out, " @b%d", bl->preds.v[k]->id);
        }
        if (bl->loop_depth)
            fprintf(out, "  ; loop depth %d", bl->loop_depth);
        fputc('\n', out);
        for (int k = 0; k < bl->ins.n; k++)
            print_ins(out, bl->ins.v[k]);
    }
    fputc('\n', out);
}

void ir_print(IrProgram *p, FILE *out)
{
    for (int i = 0; i < p->funcs.n; i++)
        ir_print_func(p->funcs.v[i], out);
}
