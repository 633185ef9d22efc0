/* The checks the pass inserts, once the final pass has decided them:
 * the block is split before the instruction, and the new test returns
 * the program's pass verdict when it fails, after discarding the ring
 * buffer records held there.
 *
 *   packet:  %end = load ctx->data_end; %lim = %p + n
 *            if (%lim > %end) return verdict
 *   index:   if (%value > max) return verdict    (never true at run time:
 *            the language already bounds the value; the verifier needs
 *            to see the compare on the register it will add) */
#include "ir/bounds.h"

#include <linux/bpf.h>
#include <string.h>

BRequest *insert_request(BFunc *bf, CheckKind k, Ins *at, Ins *value, int64_t n)
{
    vpush(bf->requests, ((BRequest){ k, at, value, n, { 0 }, 0 }));
    return &bf->requests.v[bf->requests.n - 1];
}

static Ins *new_ins(BFunc *bf, Block *b, IrOp op, int w, Pos pos)
{
    Ins *i = ir_new_ins(bf->f, op, w);
    i->pos = pos;
    ir_append(b, i);
    return i;
}

static Ins *new_const(BFunc *bf, Block *b, int64_t v, int w, Pos pos)
{
    Ins *c = new_ins(bf, b, I_CONST, w, pos);
    c->imm = v;
    return c;
}

/* Moves the instructions of b from index k on into a new block, which
 * takes over b's successors. */
static Block *split_at(BFunc *bf, Block *b, int k)
{
    Block *cont = ir_new_block(bf->f);
    for (int j = k; j < b->ins.n; j++)
        ir_append(cont, b->ins.v[j]);
    b->ins.n = k;
    Ins *t = ir_term(cont);
    for (int s = 0; t && s < 2; s++) {
        Block *succ = (t->op == I_JMP && s == 0) || t->op == I_BR ? t->succ[s] : NULL;
        if (!succ || (s == 1 && t->succ[1] == t->succ[0]))
            continue;
        for (int p = 0; p < succ->preds.n; p++)
            if (succ->preds.v[p] == b)
                succ->preds.v[p] = cont;
    }
    cont->loop_depth = b->loop_depth;
    return cont;
}

static Block *fail_block(BFunc *bf, Block *from, Pos pos, BRequest *req)
{
    Block *fail = ir_new_block(bf->f);
    for (int k = 0; k < req->nrefs; k++) {
        Ins *flags = new_const(bf, fail, 0, 8, pos);
        Ins *d = new_ins(bf, fail, I_CALL_HELPER, 0, pos);
        d->imm = BPF_FUNC_ringbuf_discard;
        d->args = xalloc(sizeof(Ins *) * 2);
        d->args[0] = req->refs[k];
        d->args[1] = flags;
        d->nargs = 2;
    }
    Ins *r = ir_new_ins(bf->f, I_RET, 0);
    r->pos = pos;
    if (!bf->void_ret)
        r->a[0] = new_const(bf, fail, bf->pass_verdict, bf->ret_width, pos);
    ir_append(fail, r);
    fail->loop_depth = from->loop_depth;
    return fail;
}

/* Where ctx->data_end is in this program's context type. */
static int data_end_offset(BFunc *bf)
{
    Func *fn = bf->f->src;
    Type *ct = fn && fn->params.n && fn->params.v[0]->ty->kind == TY_PTR ? fn->params.v[0]->ty->base : NULL;
    int off = 0;
    if (ct && find_member(ct, "data_end", &off))
        return off;
    return fn && fn->kind == FN_TC ? 80 : 4;
}

static void apply(BFunc *bf, BRequest *r)
{
    Block *b = r->at->blk;
    int k = 0;
    while (k < b->ins.n && b->ins.v[k] != r->at)
        k++;
    if (k == b->ins.n)
        return;
    Pos pos = r->at->pos;
    Block *cont = split_at(bf, b, k);
    Block *fail = fail_block(bf, b, pos, r);
    Ins *lhs, *rhs;
    int cw;
    if (r->kind == CHK_PKT) {
        Ins *end = new_ins(bf, b, I_LOAD, 8, pos);
        end->a[0] = bf->f->ctx;
        end->imm = data_end_offset(bf);
        end->mw = 4;
        end->prov = P_PKT_END;
        end->ty = ty_u8;
        Ins *lim = new_ins(bf, b, I_ADD, 8, pos);
        lim->a[0] = r->value;
        lim->a[1] = new_const(bf, b, r->n, 8, pos);
        lim->prov = P_PKT;
        lim->ty = ty_u8;
        lhs = lim;
        rhs = end;
        cw = 8;
    } else {
        cw = r->value->w ? r->value->w : 8;
        lhs = r->value;
        rhs = new_const(bf, b, r->n, cw, pos);
    }
    Ins *br = new_ins(bf, b, I_BR, 0, pos);
    br->cc = CC_UGT;
    br->cw = (uint8_t)cw;
    br->a[0] = lhs;
    br->a[1] = rhs;
    br->succ[0] = fail;
    br->succ[1] = cont;
    ir_add_edge(b, fail);
    ir_add_edge(b, cont);
}

void insert_apply(BFunc *bf)
{
    if (!bf->requests.n)
        return;
    for (int i = 0; i < bf->requests.n; i++)
        apply(bf, &bf->requests.v[i]);
    bf->requests.n = 0;
    ir_order(bf->f);
}
