/* Module functions and statements. Every local is declared at the top of
 * its function (6.1 builds with -Wdeclaration-after-statement, and the
 * language zeroes a variable where its declaration is reached, which an
 * assignment there does), under a C name unique in the function. Control
 * flow maps onto C: match becomes an if chain (so break and continue keep
 * their loop), try/throw become gotos to a catch dispatch, defers run at
 * one exit label, and a throw that leaves the function sets *ksc_err. */
#include <string.h>

#include "kmod_backend/internal.h"

KFn *K;

/* ---- layout and names ------------------------------------------------- */

void kf_nl(void)
{
    if (K->inline_depth) {
        bput(K->out, " ");
        return;
    }
    bput(K->out, "\n");
    for (int i = 0; i < K->indent; i++)
        bput(K->out, "\t");
}

static const char *unique(const char *base)
{
    const char *name = base;
    for (int i = 2; strmap_get(&K->used, name); i++)
        name = xfmt("%s_%d", base, i);
    strmap_put(&K->used, name, (void *)name);
    return name;
}

static void declare(const char *decl, bool scalar)
{
    bprintf(&K->decls, "\t%s __maybe_unused = %s;\n", decl, scalar ? "0" : "{}");
}

const char *kf_temp(Type *t, Pos pos)
{
    const char *name = unique(xfmt("ksc_t%d", ++K->ntemp));
    const char *d = kc_decl(t, name, pos);
    if (d)
        declare(d, !is_aggregate(t));
    return name;
}

const char *kf_temp_c(const char *ctype, const char *prefix)
{
    const char *name = unique(prefix);
    declare(xfmt("%s %s", ctype, name), true);
    return name;
}

/* Names for every variable of f: ks_<name>, numbered when a name repeats
 * in nested scopes. Aggregate parameters arrive as ksc_in_<name> and are
 * copied into their local at entry, which gives them value semantics. */
static void name_vars(Func *f, Buf *entry)
{
    K->var_name = xalloc(sizeof(char *) * (size_t)(f->locals.n + 1));
    for (int i = 0; i < f->locals.n; i++) {
        Var *v = f->locals.v[i];
        const char *name = unique(xfmt("ks_%s", v->name));
        K->var_name[v->id] = name;
        if (v->is_param && !is_aggregate(v->ty))
            continue;
        const char *d = kc_decl(v->ty, name, v->pos);
        if (d)
            declare(d, !is_aggregate(v->ty));
        if (!v->is_param)
            continue;
        if (v->ty->kind == TY_STR)
            bprintf(entry, "\tstrscpy_pad(%s, ksc_in_%s, %ld);\n", name, v->name, v->ty->len);
        else if (v->ty->kind == TY_ARRAY)
            bprintf(entry, "\tmemcpy(%s, ksc_in_%s, %d);\n", name, v->name, v->ty->size);
        else
            bprintf(entry, "\t%s = *ksc_in_%s;\n", name, v->name);
    }
}

/* ---- returns and throws ------------------------------------------------ */

/* "return 0;" or "return;" for the C return type of f. */
static void plain_return(const char *val)
{
    kf_nl();
    if (val)
        bprintf(K->out, "return %s;", val);
    else if (K->f->ret->kind == TY_VOID)
        bput(K->out, "return;");
    else
        bput(K->out, "return 0;");
}

void kf_throw(const char *code)
{
    kf_nl();
    if (K->trys.n) {
        KTry *t = &K->trys.v[K->trys.n - 1];
        t->used = true;
        if (strcmp(code, "ksc_code"))
            bprintf(K->out, "{ ksc_code = %s; goto ksc_catch%d; }", code, t->id);
        else    /* a rethrow from a catch dispatch */
            bprintf(K->out, "goto ksc_catch%d;", t->id);
        return;
    }
    if (!K->f->throws) {
        /* A code no catch matched, in a function the checker counts as
         * not throwing (it takes a throw inside a try as caught), so
         * there is no ksc_err to pass it on: as the eBPF back end does,
         * the function returns zero. */
        bput(K->out, "{ /* uncaught code */");
        K->inline_depth++;
        if (K->has_exit && !K->in_defer) {
            if (K->rv)
                bprintf(K->out, " %s = 0;", K->rv);
            bput(K->out, " goto ksc_exit;");
        } else {
            plain_return(NULL);
        }
        K->inline_depth--;
        bput(K->out, " }");
        return;
    }
    if (K->has_exit && !K->in_defer) {
        bprintf(K->out, "{ ksc_thrown = %s; goto ksc_exit; }", code);
        return;
    }
    bprintf(K->out, "{ *ksc_err = %s;", code);
    K->inline_depth++;
    plain_return(NULL);
    K->inline_depth--;
    bput(K->out, " }");
}

/* The aggregate result's destination: the struct itself, or the first
 * element of an array or string (see kx_store). */
static const char *ret_dst(void)
{
    return K->f->ret->kind == TY_STRUCT || K->f->ret->kind == TY_UNION ? "(*ksc_ret)" : "ksc_ret";
}

static void emit_return(Node *val, Pos pos)
{
    Func *f = K->f;
    if (K->in_defer) {
        error_at(pos, "a return inside a defer cannot be translated to kernel-module code");
        return;
    }
    Sym rs = { .kind = SYM_LOCAL, .var = f->ret_var };
    Node rv = { .kind = N_IDENT, .pos = pos, .sym = &rs };
    if (!val && f->ret_var) {   /* named return: its value now */
        rv.ty = f->ret_var->ty;
        rv.var = f->ret_var;
        val = &rv;
    }
    if (val && is_aggregate(f->ret)) {
        kx_store(ret_dst(), f->ret, val);
        val = NULL;
    } else if (val && f->ret->kind != TY_VOID) {
        if (K->has_exit) {
            kf_nl();
            bprintf(K->out, "%s = ", K->rv);
            kx_expr(val);
            bput(K->out, ";");
            val = NULL;
        } else {
            kf_nl();
            bput(K->out, "return ");
            kx_expr(val);
            bput(K->out, ";");
            return;
        }
    } else if (val) {
        kx_expr_stmt(val);
    }
    if (K->has_exit) {
        kf_nl();
        bput(K->out, "goto ksc_exit;");
    } else {
        plain_return(NULL);
    }
}

/* ---- statements -------------------------------------------------------- */

static void open_block(void)
{
    bput(K->out, " {");
    K->indent++;
}

static void close_block(void)
{
    K->indent--;
    kf_nl();
    bput(K->out, "}");
}

/* A statement as the body of if/for/while: always braced. */
static void body_of(Node *n)
{
    open_block();
    if (n->kind == N_BLOCK)
        for (int i = 0; i < n->args.n; i++)
            kf_stmt(n->args.v[i]);
    else
        kf_stmt(n);
    close_block();
}

void kf_block(Node *n)
{
    kf_nl();
    bput(K->out, "{");
    K->indent++;
    for (int i = 0; i < n->args.n; i++)
        kf_stmt(n->args.v[i]);
    close_block();
}

static void var_stmt(Node *n)
{
    Var *v = n->var;
    if (!v)
        return;
    if (v->is_mapref) {
        error_at(n->pos, "'%s' refers to a map entry; kernel-module code cannot use maps", v->name);
        return;
    }
    const char *name = K->var_name[v->id];
    if (n->init) {
        kx_store(name, v->ty, n->init);
        return;
    }
    kf_nl();
    if (is_aggregate(v->ty))
        bprintf(K->out, "memset(%s%s, 0, %d);", v->ty->kind == TY_STRUCT || v->ty->kind == TY_UNION ? "&" : "",
                name, v->ty->size);
    else
        bprintf(K->out, "%s = 0;", name);
}

static void if_stmt(Node *n)
{
    if (n->init) {
        var_stmt(n->init);
        kf_nl();
        bprintf(K->out, "if (%s)", K->var_name[n->init->var->id]);
    } else {
        kf_nl();
        bput(K->out, "if (");
        kx_cond(n->cond);
        bput(K->out, ")");
    }
    body_of(n->then);
    if (!n->els)
        return;
    bput(K->out, " else");
    if (n->els->kind == N_IF) {
        open_block();
        if_stmt(n->els);
        close_block();
    } else {
        body_of(n->els);
    }
}

/* The scrutinee once, in a temporary unless it is a plain variable. */
static const char *match_subject(Node *m)
{
    Node *c = m->cond;
    if (c->kind == N_IDENT && c->sym && c->sym->kind == SYM_LOCAL)
        return K->var_name[c->sym->var->id];
    if (c->ty->kind == TY_STR)
        return kx_agg_ptr(c);
    const char *t = kf_temp(c->ty, c->pos);
    kf_nl();
    bprintf(K->out, "%s = ", t);
    kx_expr(c);
    bput(K->out, ";");
    return t;
}

static void arm_test(const char *subj, Node *m, Node *arm)
{
    for (int j = 0; j < arm->args.n; j++) {
        Node *pat = arm->args.v[j];
        if (j)
            bput(K->out, " || ");
        if (m->cond->ty->kind == TY_STR) {
            bprintf(K->out, "!strcmp(%s, ", subj);
            kx_expr(pat);
            bput(K->out, ")");
        } else {
            bprintf(K->out, "%s == ", subj);
            kx_expr(pat);
        }
    }
}

/* match as an if chain; arm(arm) emits one arm's body. Shared by the
 * statement and the value forms. */
void kf_match(Node *m, void (*arm_body)(Node *body, void *ctx), void *ctx)
{
    const char *subj = match_subject(m);
    Node *deflt = NULL;
    int n = 0;
    for (int i = 0; i < m->args.n; i++) {
        Node *arm = m->args.v[i];
        if (!arm->args.n) {
            deflt = arm;
            continue;
        }
        if (n++) {
            bput(K->out, " else if (");
        } else {
            kf_nl();
            bput(K->out, "if (");
        }
        arm_test(subj, m, arm);
        bput(K->out, ")");
        open_block();
        arm_body(arm->body, ctx);
        close_block();
    }
    if (!deflt)
        return;
    if (n) {
        bput(K->out, " else");
        open_block();
    }
    arm_body(deflt->body, ctx);
    if (n)
        close_block();
}

static void stmt_arm(Node *body, void *ctx)
{
    (void)ctx;
    if (body->kind == N_BLOCK)
        for (int i = 0; i < body->args.n; i++)
            kf_stmt(body->args.v[i]);
    else
        kx_expr_stmt(body);
}

static void for_range(Node *n)
{
    Var *v = n->var;
    const char *i = K->var_name[v->id];
    const char *end = kf_temp(v->ty, n->pos);
    kf_nl();
    bprintf(K->out, "%s = ", end);
    kx_expr(n->rhs);
    bput(K->out, ";");
    kf_nl();
    bprintf(K->out, "for (%s = ", i);
    kx_expr(n->init);
    bprintf(K->out, "; %s < %s; %s++)", i, end, i);
    body_of(n->body);
}

/* try { body } catch C { } ...: a throw in the body sets ksc_code and
 * jumps to the dispatch, which runs the first matching catch or throws
 * the code on outwards. Labels only when something throws (an unused
 * label is a warning). */
static void try_stmt(Node *n)
{
    int id = ++K->ntry;
    kf_nl();
    bput(K->out, "{");
    K->indent++;
    vpush(K->trys, ((KTry){ id, false }));
    for (int i = 0; i < n->body->args.n; i++)
        kf_stmt(n->body->args.v[i]);
    bool used = K->trys.v[K->trys.n - 1].used;
    K->trys.n--;
    if (used) {
        kf_nl();
        bprintf(K->out, "goto ksc_tryend%d;", id);
        K->indent--;
        kf_nl();
        bprintf(K->out, "ksc_catch%d:", id);
        K->indent++;
        bool all = false;
        for (int i = 0; i < n->args.n && !all; i++) {
            Node *c = n->args.v[i];
            all = !c->has_code;
            if (i)
                bput(K->out, " else");
            else
                kf_nl();
            if (!all)
                bprintf(K->out, "%sif (ksc_code == %d)", i ? " " : "", (int32_t)c->ival);
            body_of(c->body);
        }
        if (!all) {
            bput(K->out, " else");
            open_block();
            kf_throw("ksc_code");
            close_block();
        }
        K->indent--;
        kf_nl();
        bprintf(K->out, "ksc_tryend%d: ;", id);
        K->indent++;
    }
    close_block();
}

static void defer_stmt(Node *n)
{
    int id = 0;
    while (id < K->defers.n && K->defers.v[id] != n)
        id++;
    kf_nl();
    bprintf(K->out, "ksc_defer%d = true;", id);
}

static void expr_stmt(Node *e)
{
    if (e->kind == N_MATCH)
        kf_match(e, stmt_arm, NULL);
    else if (e->kind == N_IF)
        if_stmt(e);
    else if (e->kind == N_BLOCK)
        kf_block(e);
    else
        kx_expr_stmt(e);
}

void kf_stmt(Node *n)
{
    switch (n->kind) {
    case N_VAR: var_stmt(n); break;
    case N_EXPR: expr_stmt(n->lhs); break;
    case N_RETURN: emit_return(n->lhs, n->pos); break;
    case N_BREAK: kf_nl(); bput(K->out, "break;"); break;
    case N_CONTINUE: kf_nl(); bput(K->out, "continue;"); break;
    case N_IF: if_stmt(n); break;
    case N_FOR_RANGE: for_range(n); break;
    case N_WHILE:
        kf_nl();
        bput(K->out, "while (");
        kx_cond(n->cond);
        bput(K->out, ")");
        body_of(n->body);
        break;
    case N_LOOP:
        kf_nl();
        bput(K->out, "for (;;)");
        body_of(n->body);
        break;
    case N_TRY: try_stmt(n); break;
    case N_THROW: kf_throw(kx_to_string(n->lhs)); break;
    case N_DEFER: defer_stmt(n); break;
    case N_BLOCK: kf_block(n); break;
    case N_FOR_MAP:
        error_at(n->pos, "kernel-module code cannot iterate over a map");
        help("maps belong to eBPF and userspace code; pass what the module needs as arguments");
        break;
    case N_DELETE:
        error_at(n->pos, "kernel-module code cannot delete from a map");
        break;
    default: kx_expr_stmt(n); break;
    }
}

/* ---- the function -------------------------------------------------------- */

/* The defers of the function, and whether it has a try. */
static void find_defers(Node *n, bool *has_try)
{
    if (!n)
        return;
    if (n->kind == N_DEFER)
        vpush(K->defers, n);
    *has_try |= n->kind == N_TRY;
    Node *kids[] = { n->init, n->cond, n->lhs, n->rhs, n->then, n->els, n->body };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        find_defers(kids[i], has_try);
    for (int i = 0; i < n->args.n; i++)
        find_defers(n->args.v[i], has_try);
}

/* The exit label: reached defers in reverse order, then the thrown code
 * or the return value. */
static void emit_exit(Buf *body)
{
    Func *f = K->f;
    bput(body, "\nksc_exit:");
    K->in_defer = true;
    for (int i = K->defers.n - 1; i >= 0; i--) {
        kf_nl();
        bprintf(body, "if (ksc_defer%d)", i);
        Node *d = K->defers.v[i]->body;
        body_of(d);
    }
    K->in_defer = false;
    if (f->throws) {
        kf_nl();
        bput(body, "if (ksc_thrown) {");
        K->indent++;
        kf_nl();
        bput(body, "*ksc_err = ksc_thrown;");
        plain_return(NULL);
        close_block();
    }
    plain_return(f->ret->kind == TY_VOID || is_aggregate(f->ret) ? NULL : K->rv);
}

int kmod_func_emit(Func *f, Buf *out)
{
    KFn st = { .f = f };
    K = &st;
    Buf entry = { 0 }, body = { 0 };
    K->out = &body;
    K->indent = 1;
    bool has_try = false;
    find_defers(f->body, &has_try);
    K->has_exit = K->defers.n > 0;
    name_vars(f, &entry);
    for (int i = 0; i < K->defers.n; i++)
        declare(xfmt("bool ksc_defer%d", i), true);
    if (K->has_exit && f->ret->kind != TY_VOID && !is_aggregate(f->ret))
        K->rv = kf_temp(f->ret, f->pos);
    if (K->has_exit && f->throws)
        declare("s32 ksc_thrown", true);
    if (has_try)
        declare("s32 ksc_code", true);
    int n = f->body->args.n;
    for (int i = 0; i < n; i++)
        kf_stmt(f->body->args.v[i]);
    NodeKind last = n ? f->body->args.v[n - 1]->kind : N_BLOCK;
    if (last != N_RETURN && last != N_THROW)
        emit_return(NULL, f->pos);      /* falling off the end */
    if (K->has_exit)
        emit_exit(&body);
    const char *text = body.s ? body.s : "";
    if (!K->decls.n && !entry.n && *text == '\n')
        text++;     /* no blank line after the brace when nothing is declared */
    bprintf(out, "{\n%s%s%s\n}\n", K->decls.s ? K->decls.s : "", entry.s ? entry.s : "", text);
    K = NULL;
    return 0;
}
