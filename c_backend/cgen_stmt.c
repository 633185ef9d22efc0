/* The userspace back end, statements and functions.
 *
 * Every local of a function is declared (and zeroed) at its top, so the
 * gotos that throw, return and run defers never jump over a declaration,
 * and a defer body can use any local. A throw sets the pending error
 * (ks_exc) and jumps to the innermost catch, or to the function's exit,
 * where the reached defers run in reverse order before it returns; a
 * caller of a function that may throw tests ks_exc after the call. */
#include "c_backend/cgen_int.h"

#include <stdarg.h>
#include <string.h>

void cg_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = xalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cb_fmt(G.out, "%*s%s\n", G.ind, "", s);
}

void sub_begin(Sub *s)
{
    memset(s, 0, sizeof *s);
    s->saved = G.out;
    s->ind = G.ind;
    G.out = &s->b;
    G.ind = G.ind + 4;
}

const char *sub_end(Sub *s, const char *value)
{
    G.out = s->saved;
    G.ind = s->ind;
    return xfmt("({\n%s%*s%s%s })", cb_str(&s->b), G.ind + 4, "", value ? value : "", value ? ";" : "");
}

const char *new_label(const char *what) { return xfmt("ks_%s%d", what, G.nlabel++); }

const char *throw_check(void) { return xfmt("if (ks_exc) goto %s;", G.handler); }

/* ---- blocks and values ---------------------------------------------------------------- */

static void block_inner(Node *b)
{
    if (b->kind != N_BLOCK) {
        cg_stmt(b);
        return;
    }
    for (int i = 0; i < b->args.n; i++)
        cg_stmt(b->args.v[i]);
}

void cg_block(Node *b)
{
    cg_out("{");
    G.ind += 4;
    block_inner(b);
    G.ind -= 4;
    cg_out("}");
}

/* A branch's value into dst: a block's statements, then its last
 * expression. */
void value_into(Node *body, const char *dst)
{
    if (body->kind != N_BLOCK) {
        cg_out("%s = %s;", dst, cx(body));
        return;
    }
    cg_out("{");
    G.ind += 4;
    int n = body->args.n;
    for (int i = 0; i + 1 < n; i++)
        cg_stmt(body->args.v[i]);
    Node *last = n ? body->args.v[n - 1] : NULL;
    if (last && last->kind == N_EXPR)
        cg_out("%s = %s;", dst, cx(last->lhs));
    else if (last)
        cg_stmt(last);
    G.ind -= 4;
    cg_out("}");
}

static void arm_body(Node *body, const char *dst)
{
    if (dst) {
        value_into(body, dst);
        return;
    }
    if (body->kind == N_BLOCK)
        cg_block(body);
    else
        cg_out("(void)(%s);", cx(body));
}

/* ---- match and if --------------------------------------------------------------------- */

static const char *pattern_test(Node *p, const char *c, Type *ct)
{
    if (ct->kind == TY_STR)
        return xfmt("ks_str_eq(%s.s, %ld, %s, %d)", c, ct->len, cquote(p->sval, p->slen), p->slen + 1);
    return xfmt("%s == %s", c, cconst(p->cval, ct));
}

void cg_match(Node *n, const char *dst)
{
    Type *ct = n->cond->ty;
    const char *c = new_temp();
    cg_out("{");
    G.ind += 4;
    cg_out("%s = %s;", cdecl(ct, c), cx(n->cond));
    bool first = true;
    for (int i = 0; i < n->args.n; i++) {
        Node *arm = n->args.v[i];
        if (arm->unreachable_arm)
            continue;
        if (!arm->args.n) {
            cg_out("%s{", first ? "" : "else ");
        } else {
            CBuf b = { 0 };
            for (int k = 0; k < arm->args.n; k++)
                cb_fmt(&b, "%s%s", k ? " || " : "", pattern_test(arm->args.v[k], c, ct));
            cg_out("%sif (%s) {", first ? "" : "else ", cb_str(&b));
        }
        G.ind += 4;
        arm_body(arm->body, dst);
        G.ind -= 4;
        cg_out("}");
        first = false;
        if (!arm->args.n)
            break;
    }
    G.ind -= 4;
    cg_out("}");
}

/* if (var p = e): bind p, and the condition is that p is there. */
static const char *if_binding(Node *d)
{
    Var *v = d->var;
    if (!v)
        return "0";
    if (v->is_mapref) {
        cg_var_mapref(v, d->init);
        return xfmt("%s.present", cvar(v));
    }
    cg_out("%s = %s;", cvar(v), cx(d->init));
    return v->ty->kind == TY_PTR ? xfmt("(%s != NULL)", cvar(v)) : xfmt("(%s != 0)", cvar(v));
}

void cg_if(Node *n, const char *dst)
{
    const char *cond = n->init ? if_binding(n->init) : ccond(n->cond);
    Var *entry = n->init && n->init->var && n->init->var->is_mapref ? n->init->var : NULL;
    cg_out("if (%s) {", cond);
    G.ind += 4;
    if (entry)
        vpush(G.entries, entry);
    if (dst)
        value_into(n->then, dst);
    else
        block_inner(n->then);
    if (entry)
        G.entries.n--;
    G.ind -= 4;
    if (!n->els) {
        cg_out("}");
        return;
    }
    cg_out("} else {");
    G.ind += 4;
    if (n->els->kind == N_IF && !dst)
        cg_if(n->els, NULL);
    else if (dst)
        value_into(n->els, dst);
    else
        block_inner(n->els);
    G.ind -= 4;
    cg_out("}");
}

/* ---- loops --------------------------------------------------------------------------- */

static void cg_for_range(Node *n)
{
    const char *v = cvar(n->var), *end = new_temp();
    cg_out("{");
    G.ind += 4;
    cg_out("%s = %s;", cdecl(n->var->ty, end), cx(n->rhs));
    cg_out("for (%s = %s; %s < %s; %s++)", v, cx(n->init), v, end, v);
    cg_block(n->body);
    G.ind -= 4;
    cg_out("}");
}

/* ---- try, throw, defer ------------------------------------------------------------------- */

static void cg_try(Node *n)
{
    const char *catch_l = new_label("catch"), *end_l = new_label("tried"), *outer = G.handler;
    G.handler = catch_l;
    cg_block(n->body);
    G.handler = outer;
    cg_out("goto %s;", end_l);
    cg_out("%s: __attribute__((unused));", catch_l);
    cg_out("{");
    G.ind += 4;
    const char *code = new_temp();
    cg_out("__attribute__((unused)) int32_t %s = ks_exc_code;", code);
    cg_out("ks_exc = false;");
    bool all = false;
    for (int i = 0; i < n->args.n && !all; i++) {
        Node *c = n->args.v[i];
        all = !c->has_code;
        if (all)
            cg_out("%s{", i ? "else " : "");
        else
            cg_out("%sif (%s == %d) {", i ? "else " : "", code, (int)(int32_t)c->ival);
        G.ind += 4;
        block_inner(c->body);
        G.ind -= 4;
        cg_out("}");
    }
    if (!all) {                 /* not ours: on to the next handler */
        cg_out("%s{", n->args.n ? "else " : "");
        cg_out("    ks_throw(%s);", code);
        cg_out("    goto %s;", outer);
        cg_out("}");
    }
    G.ind -= 4;
    cg_out("}");
    cg_out("%s: ;", end_l);
}

static int defer_index(Node *n)
{
    for (int i = 0; i < G.defers.n; i++)
        if (G.defers.v[i] == n)
            return i;
    return -1;
}

static void collect_defers(Node *n)
{
    if (!n)
        return;
    if (n->kind == N_DEFER)
        vpush(G.defers, n);
    Node *kids[] = { n->lhs, n->rhs, n->cond, n->then, n->els, n->body, n->init };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        if (n->kind != N_DEFER || kids[i] != n->body)
            collect_defers(kids[i]);
    for (int i = 0; i < n->args.n; i++)
        collect_defers(n->args.v[i]);
}

/* At the exit: the reached defers, last first. A pending error waits
 * while they run (so their own calls work), and a throw inside one ends
 * that defer only. */
static void run_defers(void)
{
    if (!G.defers.n)
        return;
    cg_out("{");
    G.ind += 4;
    cg_out("bool ks_pe = ks_exc;");
    cg_out("int32_t ks_pc = ks_exc_code;");
    cg_out("ks_exc = false;");
    const char *outer = G.handler;
    for (int i = G.defers.n - 1; i >= 0; i--) {
        const char *end = new_label("deferred");
        G.handler = end;
        cg_out("if (ks_d%d) {", i);
        G.ind += 4;
        block_inner(G.defers.v[i]->body);
        G.ind -= 4;
        cg_out("}");
        cg_out("%s: __attribute__((unused));", end);
        cg_out("if (ks_exc && !ks_pe) {");
        cg_out("    ks_pe = true;");
        cg_out("    ks_pc = ks_exc_code;");
        cg_out("}");
        cg_out("ks_exc = false;");
    }
    G.handler = outer;
    cg_out("if (ks_pe)");
    cg_out("    ks_throw(ks_pc);");
    G.ind -= 4;
    cg_out("}");
}

/* ---- statements ---------------------------------------------------------------------- */

static void cg_var(Node *n)
{
    Var *v = n->var;
    if (!v || v->ty->kind == TY_ERROR)
        return;
    if (v->is_mapref) {
        cg_var_mapref(v, n->init);
        return;
    }
    if (n->init)
        cg_out("%s = %s;", cvar(v), cx(n->init));
    else
        cg_out("memset(&%s, 0, sizeof %s);", cvar(v), cvar(v));
}

static void cg_return(Node *n)
{
    if (n->lhs)
        cg_out("ks_ret = %s;", cx(n->lhs));
    else if (G.fn->ret_var)
        cg_out("ks_ret = %s;", cvar(G.fn->ret_var));
    cg_out("goto ks_exit;");
}

static void cg_expr_stmt(Node *e)
{
    if (e->kind == N_MATCH && !e->is_value)
        cg_match(e, NULL);
    else if (e->kind == N_IF && !e->is_value)
        cg_if(e, NULL);
    else if (e->kind == N_BLOCK && !e->is_value)
        cg_block(e);
    else
        cg_out("(void)(%s);", cx(e));
}

void cg_stmt(Node *n)
{
    switch (n->kind) {
    case N_VAR: cg_var(n); break;
    case N_EXPR: cg_expr_stmt(n->lhs); break;
    case N_ASSIGN: cg_assign(n); break;
    case N_RETURN: cg_return(n); break;
    case N_BREAK: cg_out("break;"); break;
    case N_CONTINUE: cg_out("continue;"); break;
    case N_IF: cg_if(n, NULL); break;
    case N_FOR_RANGE: cg_for_range(n); break;
    case N_FOR_MAP: cg_for_map(n); break;
    case N_WHILE:
        cg_out("while (%s)", ccond(n->cond));
        cg_block(n->body);
        break;
    case N_LOOP:
        cg_out("for (;;)");
        cg_block(n->body);
        break;
    case N_TRY: cg_try(n); break;
    case N_THROW:
        cg_out("ks_throw(%s);", cx(n->lhs));
        cg_out("goto %s;", G.handler);
        break;
    case N_DEFER: cg_out("ks_d%d = true;", defer_index(n)); break;
    case N_DELETE: cg_delete(n); break;
    case N_BLOCK: cg_block(n); break;
    default: cg_expr_stmt(n); break;
    }
}

/* ---- which functions may throw ------------------------------------------------------------ */

static bool node_throws(Node *n)
{
    if (!n)
        return false;
    if (n->kind == N_THROW)
        return true;
    if (n->kind == N_CALL) {
        if (n->builtin == B_DISPATCH || n->builtin == B_TEST)
            return true;
        if (n->builtin == B_NONE && (!n->func || may_throw(n->func)))
            return true;
    }
    Node *kids[] = { n->lhs, n->rhs, n->cond, n->then, n->els, n->body, n->init };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        if (node_throws(kids[i]))
            return true;
    for (int i = 0; i < n->args.n; i++)
        if (node_throws(n->args.v[i]))
            return true;
    return false;
}

bool may_throw(Func *f) { return strmap_get(&G.throws, cfunc(f)) != NULL; }

/* A fixed point over the userspace functions: a throw, or a call that may
 * throw, anywhere in the body (a catch may stop it; callers test anyway). */
void find_throwers(Program *p)
{
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < p->funcs.n; i++) {
            Func *f = p->funcs.v[i];
            if ((f->target != TGT_USER && f->target != TGT_TEST) || !f->body || may_throw(f))
                continue;
            if (node_throws(f->body)) {
                strmap_put(&G.throws, cfunc(f), (void *)1);
                changed = true;
            }
        }
    }
}

/* ---- functions --------------------------------------------------------------------------- */

static const char *signature(Func *f)
{
    CBuf b = { 0 };
    cb_fmt(&b, "static __attribute__((unused)) %s(", cdecl(f->ret, cfunc(f)));
    for (int i = 0; i < f->params.n; i++)
        cb_fmt(&b, "%s__attribute__((unused)) %s", i ? ", " : "", cdecl(f->params.v[i]->ty, cvar(f->params.v[i])));
    cb_put(&b, f->params.n ? ")" : "void)");
    return cb_str(&b);
}

static void declare_locals(Func *f)
{
    for (int i = 0; i < f->locals.n; i++) {
        Var *v = f->locals.v[i];
        if (v->is_param || !v->ty || v->ty->kind == TY_ERROR || v->ty->kind == TY_VOID)
            continue;
        const char *decl = v->is_mapref ? xfmt("%s %s", mapref_type(v), cvar(v)) : cdecl(v->ty, cvar(v));
        cg_out("__attribute__((unused)) %s;", decl);
        cg_out("memset(&%s, 0, sizeof %s);", cvar(v), cvar(v));
    }
    for (int i = 0; i < G.defers.n; i++)
        cg_out("bool ks_d%d = false;", i);
    if (f->ret->kind != TY_VOID) {
        cg_out("%s;", cdecl(f->ret, "ks_ret"));
        cg_out("memset(&ks_ret, 0, sizeof ks_ret);");
    }
}

void cg_function(Func *f)
{
    G.fn = f;
    G.ntemp = G.nlabel = 0;
    G.handler = "ks_exit";
    G.defers.n = 0;
    G.entries.n = 0;
    collect_defers(f->body);
    CBuf body = { 0 };
    G.out = &body;
    G.ind = 4;
    declare_locals(f);
    block_inner(f->body);
    if (f->ret_var)
        cg_out("ks_ret = %s;", cvar(f->ret_var));
    G.ind = 0;
    cg_out("ks_exit: __attribute__((unused));");
    G.ind = 4;
    run_defers();
    cg_out(f->ret->kind == TY_VOID ? "return;" : "return ks_ret;");
    const char *sig = signature(f);
    cb_fmt(&G.protos, "%s;\n", sig);
    cb_fmt(&G.funcs, "%s\n{\n%s}\n\n", sig, cb_str(&body));
    G.fn = NULL;
}
