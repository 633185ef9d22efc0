/* --emit=ast: the typed AST as an indented tree, one node per line with
 * its type and what its names resolved to. */
#include "frontend/internal.h"

#include <string.h>

static FILE *out;

static const char *kind_names[] = {
    "int", "bool", "char", "str", "null", "ident", "binary", "unary", "addr", "deref", "assign",
    "ternary", "call", "index", "field", "cast", "sizeof", "struct-lit", "field-init", "array-lit",
    "array-repeat", "match", "arm", "if", "block", "scoped", "var", "expr", "return", "break",
    "continue", "for-range", "for-map", "while", "loop", "try", "catch", "throw", "defer", "delete",
};

static const char *fn_kinds[] = {
    "userspace", "xdp", "tc", "probe", "tracepoint", "perf_event", "struct_ops", "helper",
    "kfunc", "private", "test", "extern",
};

static void indent(int d)
{
    for (int i = 0; i < d; i++)
        fputs("  ", out);
}

static void dump_str(const char *s, int n)
{
    fputc('"', out);
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c >= 32 && c < 127)
            fputc(c, out);
        else
            fprintf(out, "\\x%02x", c);
    }
    fputc('"', out);
}

static void dump_node(Node *n, int d);

static void dump_kids(Node *n, int d)
{
    if (n->kind == N_ARM) {     /* patterns before the value */
        for (int i = 0; i < n->args.n; i++)
            dump_node(n->args.v[i], d);
        dump_node(n->body, d);
        return;
    }
    Node *kids[] = { n->init, n->cond, n->lhs, n->rhs, n->then, n->els, n->body };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        if (kids[i])
            dump_node(kids[i], d);
    for (int i = 0; i < n->args.n; i++)
        dump_node(n->args.v[i], d);
}

static void dump_detail(Node *n)
{
    switch (n->kind) {
    case N_INT: case N_CHAR: case N_BOOL:
        fprintf(out, " %lld", (long long)(n->is_const_val ? n->cval : (i128)n->ival));
        break;
    case N_STR:
        fputc(' ', out);
        dump_str(n->sval, n->slen);
        break;
    case N_BINARY: case N_UNARY:
        fprintf(out, " %s", op_spelling(n->op));
        if (n->is_presence)
            fputs(" (presence)", out);
        break;
    case N_ASSIGN:
        fprintf(out, " %s=%s", op_spelling(n->op), n->is_rebind ? " (re-bind)" : "");
        break;
    case N_IDENT: case N_FIELD: case N_SCOPED: case N_FIELD_INIT: case N_STRUCT_LIT:
        fprintf(out, " %s", n->name ? n->name : "?");
        if (n->kind == N_FIELD && n->member)
            fprintf(out, " @%d%s", n->member_off, n->arrow ? " ->" : "");
        if (n->sym)
            fprintf(out, " [%s]", n->sym->kind == SYM_LOCAL ? "local" : n->sym->kind == SYM_GLOBAL ? "global"
                                  : n->sym->kind == SYM_FUNC ? "func" : n->sym->kind == SYM_CONST ? "const"
                                  : n->sym->kind == SYM_ENUMVAL ? "enum" : "sym");
        break;
    case N_VAR:
        fprintf(out, " %s", n->name);
        if (n->var && n->var->is_mapref)
            fputs(" (map reference)", out);
        if (n->var && n->var->is_const)
            fputs(" (const)", out);
        break;
    case N_CALL:
        if (n->func)
            fprintf(out, " -> %s", n->func->name);
        if (n->builtin)
            fprintf(out, " builtin#%d", n->builtin);
        if (n->tail_call)
            fputs(" (tail call)", out);
        break;
    case N_CATCH:
        if (n->has_code)
            fprintf(out, " %llu", (unsigned long long)n->ival);
        else
            fputs(" _", out);
        break;
    case N_CAST:
        if (n->implicit)
            fputs(" (implicit)", out);
        break;
    case N_FOR_RANGE: case N_FOR_MAP:
        fprintf(out, " %s", n->var ? n->var->name : "?");
        if (n->var2)
            fprintf(out, ", %s", n->var2->name);
        break;
    default:
        break;
    }
}

static void dump_node(Node *n, int d)
{
    indent(d);
    fputs(kind_names[n->kind], out);
    dump_detail(n);
    if (n->ty && n->ty != ty_void)
        fprintf(out, " : %s", type_name(n->ty));
    else if (n->kind == N_VAR && n->var)
        fprintf(out, " : %s", type_name(n->var->ty));
    if (n->is_const_val && n->kind != N_INT && n->kind != N_BOOL && n->kind != N_CHAR)
        fprintf(out, " = %lld", (long long)n->cval);
    fprintf(out, "  <%d:%d>\n", n->pos.line, n->pos.col);
    dump_kids(n, d + 1);
}

static void dump_func(Func *f)
{
    fprintf(out, "fn %s [%s%s%s]", f->sym_name ? f->sym_name : f->name, fn_kinds[f->kind],
            f->attr_arg ? " " : "", f->attr_arg ? f->attr_arg : "");
    fputs(" (", out);
    for (int i = 0; i < f->params.n; i++)
        fprintf(out, "%s%s: %s", i ? ", " : "", f->params.v[i]->name, type_name(f->params.v[i]->ty));
    fprintf(out, ") -> %s", type_name(f->ret));
    if (f->throws)
        fputs(" throws", out);
    fputc('\n', out);
    if (f->body)
        dump_node(f->body, 1);
}

static void dump_struct(Type *t)
{
    fprintf(out, "%s %s (size %d, align %d)\n", t->kind == TY_ENUM ? "enum" : "struct", type_name(t), t->size,
            t->align);
    for (int i = 0; i < t->nmembers && t->kind != TY_ENUM; i++)
        fprintf(out, "  %s: %s @%d\n", t->members[i].name, type_name(t->members[i].ty), t->members[i].offset);
    for (int i = 0; i < t->nvals; i++)
        fprintf(out, "  %s = %lld\n", t->vals[i].name, (long long)t->vals[i].val);
}

static void dump_global(Global *g)
{
    static const char *kinds[] = { "var", "local var", "pin var", "map", "config" };
    fprintf(out, "%s %s%s: %s", kinds[g->kind], g->pinned ? "(pinned) " : "", g->name, type_name(g->ty));
    if (g->kind == GV_MAP)
        fprintf(out, " (%ld entries, flags 0x%llx)", g->ty->len, (unsigned long long)g->ty->map_flags);
    fputc('\n', out);
    if (g->init)
        dump_node(g->init, 1);
    if (g->kind == GV_CONFIG)
        for (int i = 0; i < g->ty->nmembers; i++) {
            Member *m = &g->ty->members[i];
            fprintf(out, "  %s: %s @%d\n", m->name, type_name(m->ty), m->offset);
            if (m->init)
                dump_node(m->init, 2);
        }
}

void dump_ast(Program *p, FILE *f)
{
    out = f;
    for (int i = 0; i < p->decls.n; i++) {
        Decl *d = &p->decls.v[i];
        switch (d->kind) {
        case D_FUNC:
            if (!d->func->impl)
                dump_func(d->func);
            break;
        case D_GLOBAL: dump_global(d->global); break;
        case D_STRUCT: case D_ENUM: dump_struct(d->type); break;
        case D_CONST:
            fprintf(out, "const %s: %s = %lld\n", d->sym->name, type_name(d->sym->type), (long long)d->sym->val);
            break;
        case D_ALIAS: fprintf(out, "type %s = %s\n", d->sym->name, type_name(d->sym->type)); break;
        case D_IMPORT: fprintf(out, "import %s from \"%s\"\n", d->sym->name, d->sym->module->path); break;
        case D_IMPL:
            fprintf(out, "impl %s [struct_ops %s]\n", d->impl->name, d->impl->ops ? d->impl->ops : "?");
            for (int j = 0; j < d->impl->funcs.n; j++)
                dump_func(d->impl->funcs.v[j]);
            for (int j = 0; j < d->impl->data.n; j++) {
                fprintf(out, "  %s:\n", d->impl->data.v[j].name);
                dump_node(d->impl->data.v[j].init, 2);
            }
            break;
        }
    }
}
