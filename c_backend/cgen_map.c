/* The userspace back end, maps and assignments (LANGUAGE.md section 6).
 *
 * Userspace has no pointer into a map: a read copies the entry out (zero
 * when absent), a write copies it back. `var x = m[k]` keeps a copy with
 * its map and key (a struct { m, k, v, present, tied }), so `x == null`
 * tests presence and a write to a field of x updates the entry. A pinned
 * global is a member of the one-entry map pinned_globals, read into
 * ks_pinv and written back around each use. */
#include "c_backend/cgen_int.h"

#include <string.h>

static Global *map_global(Node *m)
{
    Sym *s = m->sym;
    if (s && s->kind == SYM_GLOBAL && s->global->kind == GV_MAP)
        return s->global;
    cg_error(m->pos, "a map here must be named directly");
    return NULL;
}

/* Declares temporaries for m[k]'s key and value; the key is set. */
static Global *entry_temps(Node *idx, const char **k, const char **v)
{
    Global *g = map_global(idx->lhs);
    Type *mt = idx->lhs->ty;
    *k = new_temp();
    *v = new_temp();
    cg_out("%s = %s;", cdecl(mt->key, *k), cx(idx->rhs));
    cg_out("%s;", cdecl(mt->base, *v));
    cg_out("memset(&%s, 0, sizeof %s);", *v, *v);
    return g;
}

const char *cx_map_read(Node *n)
{
    Sub s;
    sub_begin(&s);
    const char *k, *v;
    Global *g = entry_temps(n, &k, &v);
    if (g)
        cg_out("ks_map_get(&%s, &%s, &%s);", cmap(g), k, v);
    return sub_end(&s, v);
}

const char *cx_presence(Node *n)
{
    Node *e = n->lhs->kind == N_NULL ? n->rhs : n->lhs;
    const char *neg = n->op == OP_EQ ? "!" : "";
    if (e->kind == N_IDENT && e->var && e->var->is_mapref)
        return xfmt("(%s%s.present)", neg, cvar(e->var));
    Global *g = map_global(e->lhs);
    if (!g)
        return "false";
    Sub s;
    sub_begin(&s);
    const char *k = new_temp();
    cg_out("%s = %s;", cdecl(e->lhs->ty->key, k), cx(e->rhs));
    return sub_end(&s, xfmt("%sks_map_has(&%s, &%s)", neg, cmap(g), k));
}

const char *cx_pinned(Global *g)
{
    return xfmt("({ ks_pins_read(&ks_pinv, sizeof ks_pinv); ks_pinv.%s; })", cmember(g->name));
}

/* ---- map references ------------------------------------------------------------------- */

const char *mapref_type(Var *v)
{
    Node *init = v->decl ? v->decl->init : NULL;
    Type *key = init && init->kind == N_INDEX ? init->lhs->ty->key : ty_u32;
    return xfmt("struct { ks_map *m; %s; %s; bool present, tied; }", cdecl(key, "k"), cdecl(v->ty, "v"));
}

/* x = m[k]: look the entry up into x. */
void cg_var_mapref(Var *v, Node *init)
{
    const char *x = cvar(v);
    Global *g = map_global(init->lhs);
    if (!g)
        return;
    cg_out("%s.m = &%s;", x, cmap(g));
    cg_out("%s.k = %s;", x, cx(init->rhs));
    cg_out("%s.present = ks_map_get(%s.m, &%s.k, &%s.v);", x, x, x, x);
    cg_out("%s.tied = true;", x);
}

/* ---- assignments --------------------------------------------------------------------------- */

/* Where an lvalue's storage is: its map entry, map reference or pinned
 * global (the node returned), or plain memory (NULL). */
static Node *lv_root(Node *x)
{
    for (;;) {
        if (x->kind == N_INDEX) {
            if (x->lhs->ty->kind == TY_MAP)
                return x;
            if (x->lhs->ty->kind == TY_PTR)
                return NULL;
            x = x->lhs;
        } else if (x->kind == N_FIELD && !x->sym) {
            if (x->lhs->ty->kind == TY_PTR)
                return NULL;
            x = x->lhs;
        } else if (x->kind == N_IDENT || x->kind == N_FIELD) {
            Sym *s = x->sym;
            if (s && s->kind == SYM_LOCAL && s->var->is_mapref)
                return x;
            if (s && s->kind == SYM_GLOBAL && s->global->kind == GV_PIN)
                return x;
            return NULL;
        } else {
            return NULL;
        }
    }
}

static bool is_bitfield(Node *l)
{
    return l->kind == N_FIELD && l->member && l->member->bit_size;
}

/* L = rhs, or L op= rhs computed at the compound's type and converted
 * back. L is evaluated once (through a pointer) unless it is a bitfield. */
static void store(Node *n, const char *L)
{
    if (n->op == OP_NONE) {
        cg_out("%s = %s;", L, cx(n->rhs));
        return;
    }
    Type *lt = n->lhs->ty, *ct = n->decl_ty ? n->decl_ty : lt;
    const char *cur = L;
    if (!is_bitfield(n->lhs)) {
        const char *p = new_temp();
        cg_out("%s = &(%s);", cdecl(pointer_to(lt), p), L);
        cur = xfmt("(*%s)", p);
    }
    if (lt->kind == TY_PTR) {
        cg_out("%s = %s %s %s;", cur, cur, n->op == OP_ADD ? "+" : "-", cx(n->rhs));
        return;
    }
    const char *val = arith(n->op, ct, xfmt("(%s)(%s)", ctype(int_of(ct)), cur), cx(n->rhs));
    cg_out("%s = (%s)(%s);", cur, ctype(lt), val);
}

/* The lvalue's C text with its root read from `text`. */
static const char *lv_text(Node *lhs, Node *root, const char *text)
{
    Node *saved_root = G.lv_root;
    const char *saved_text = G.lv_text;
    G.lv_root = root;
    G.lv_text = text;
    const char *L = cx(lhs);
    G.lv_root = saved_root;
    G.lv_text = saved_text;
    return L;
}

/* m[k] = v, m[k] op= v (absent reads as zero), and m[k].f op= v (only
 * when the entry is there). */
static void assign_map(Node *n, Node *root)
{
    cg_out("{");
    G.ind += 4;
    const char *k, *v;
    Global *g = entry_temps(root, &k, &v);
    if (g && root == n->lhs) {
        if (n->op != OP_NONE)
            cg_out("ks_map_get(&%s, &%s, &%s);", cmap(g), k, v);
        store(n, v);
        cg_out("ks_map_put(&%s, &%s, &%s);", cmap(g), k, v);
    } else if (g) {
        cg_out("if (ks_map_get(&%s, &%s, &%s)) {", cmap(g), k, v);
        G.ind += 4;
        store(n, lv_text(n->lhs, root, v));
        cg_out("ks_map_update(&%s, &%s, &%s);", cmap(g), k, v);
        G.ind -= 4;
        cg_out("}");
    }
    G.ind -= 4;
    cg_out("}");
}

/* Inside if (var x = m[k]) the binding is the entry (LANGUAGE.md 6):
 * its index in G.entries, or -1. */
static int active_entry(Var *v)
{
    for (int i = G.entries.n - 1; i >= 0; i--)
        if (G.entries.v[i] == v)
            return i;
    return -1;
}

/* x = m[k] re-binds; x.f = v, and x = v inside if (var x = m[k]), update
 * the entry when x has one; any other x = v (or x op= v) makes x a local
 * holding the value. */
static void assign_mapref(Node *n, Node *root)
{
    Var *v = root->var;
    const char *x = cvar(v);
    int e = active_entry(v);
    if (root == n->lhs && n->is_rebind) {
        if (e >= 0)             /* it may be absent now: later writes make it a local */
            G.entries.v[e] = NULL;
        cg_var_mapref(v, n->rhs);
        return;
    }
    cg_out("{");
    G.ind += 4;
    store(n, cx(n->lhs));
    if (root == n->lhs && e < 0) {
        cg_out("%s.present = true;", x);
        cg_out("%s.tied = false;", x);
    } else {
        cg_out("if (%s.tied && %s.present)", x, x);
        cg_out("    ks_map_update(%s.m, &%s.k, &%s.v);", x, x, x);
    }
    G.ind -= 4;
    cg_out("}");
}

static void assign_pinned(Node *n, Node *root)
{
    cg_out("{");
    G.ind += 4;
    cg_out("ks_pins_read(&ks_pinv, sizeof ks_pinv);");
    store(n, lv_text(n->lhs, root, xfmt("ks_pinv.%s", cmember(root->sym->global->name))));
    cg_out("ks_pins_write(&ks_pinv, sizeof ks_pinv);");
    G.ind -= 4;
    cg_out("}");
}

void cg_assign(Node *n)
{
    if (!n->lhs->ty || n->lhs->ty->kind == TY_ERROR)
        return;
    Node *root = lv_root(n->lhs);
    if (!root) {
        cg_out("{");
        G.ind += 4;
        store(n, cx(n->lhs));
        G.ind -= 4;
        cg_out("}");
    } else if (root->kind == N_INDEX) {
        assign_map(n, root);
    } else if (root->sym->kind == SYM_LOCAL) {
        assign_mapref(n, root);
    } else {
        assign_pinned(n, root);
    }
}

/* ---- delete and iteration ------------------------------------------------------------------- */

void cg_delete(Node *n)
{
    Node *e = n->lhs;
    Global *g = map_global(e->lhs);
    if (!g)
        return;
    const char *k = new_temp();
    cg_out("{");
    cg_out("    %s = %s;", cdecl(e->lhs->ty->key, k), cx(e->rhs));
    cg_out("    ks_map_del(&%s, &%s);", cmap(g), k);
    cg_out("}");
}

/* for (k, v) in m: over a snapshot of the keys, so the body may delete;
 * an entry deleted before its turn is skipped. */
void cg_for_map(Node *n)
{
    Global *g = map_global(n->lhs);
    if (!g)
        return;
    Type *mt = n->lhs->ty;
    const char *keys = new_temp(), *cnt = new_temp(), *i = new_temp();
    const char *k = cvar(n->var), *v = cvar(n->var2);
    cg_out("{");
    G.ind += 4;
    cg_out("size_t %s = 0;", cnt);
    cg_out("__attribute__((cleanup(ks_freep))) %s = ks_map_keys(&%s, &%s);",
         cdecl(pointer_to(mt->key), keys), cmap(g), cnt);
    cg_out("for (size_t %s = 0; %s < %s; %s++) {", i, i, cnt, i);
    G.ind += 4;
    cg_out("%s = %s[%s];", k, keys, i);
    cg_out("if (!ks_map_get(&%s, &%s, &%s))", cmap(g), k, v);
    cg_out("    continue;");
    cg_block(n->body);
    G.ind -= 4;
    cg_out("}");
    G.ind -= 4;
    cg_out("}");
}
