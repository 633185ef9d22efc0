/* The checker, statements: locals and their stack limit, assignments to
 * variables, fields, map entries and references, control flow, match
 * (exhaustiveness, unreachable arms), try/catch/throw, defer, and the
 * values of blocks, ifs and matches used as expressions. */
#include "frontend/internal.h"

#include <string.h>

#define BPF_STACK 512

/* ---- values of blocks, ifs and matches --------------------------------- */

typedef VEC(Node **) SlotVec;

static void check_if_var(Node *n);
static void check_arm_patterns(Node *m, Type *ct);

/* A single type for several branch values, then each converted to it. */
static Type *unify_slots(SlotVec *s, Type *want, Pos pos)
{
    if (want && want->kind != TY_VOID) {
        for (int i = 0; i < s->n; i++)
            coerce(s->v[i], want, "this branch");
        return want;
    }
    Type *t = NULL;
    for (int i = 0; i < s->n; i++) {
        Type *bt = (*s->v[i])->ty;
        if (bt->kind == TY_ERROR)
            return ty_error;
        if (bt == ty_untyped || bt->kind == TY_NULL)
            continue;
        if (!t)
            t = bt;
        else if (arith_type(t) && arith_type(bt))
            t = common_type(t, bt);
        else if (t->kind == TY_STR && bt->kind == TY_STR && bt->len > t->len)
            t = bt;
    }
    if (!t) {
        for (int i = 1; i < s->n; i++)
            unify_types(s->v[0], s->v[i], NULL, pos);
        if (s->n == 1)
            check_value(s->v[0], NULL);
        return (*s->v[0])->ty;
    }
    for (int i = 0; i < s->n; i++)
        coerce(s->v[i], t, "this branch");
    return t;
}

/* The value of a block is its last statement, which must be an expression. */
static Node **block_slot(Node *b, Type *want)
{
    if (b->kind != N_BLOCK) {
        check_expr(b, want);
        return NULL;
    }
    push_scope();
    int n = b->args.n;
    for (int i = 0; i + 1 < n; i++)
        check_stmt(b->args.v[i]);
    Node *last = n ? b->args.v[n - 1] : NULL;
    Node **slot = NULL;
    if (last && last->kind == N_EXPR) {
        check_expr(last->lhs, want);
        slot = &last->lhs;
    } else {
        if (last)
            check_stmt(last);
        error_at(last ? last->pos : b->pos, "this block must end in a value");
    }
    pop_scope();
    return slot;
}

static void add_slot(SlotVec *s, Node **body, Type *want)
{
    if ((*body)->kind == N_BLOCK) {
        Node **slot = block_slot(*body, want);
        if (slot)
            vpush(*s, slot);
        return;
    }
    check_expr(*body, want);
    vpush(*s, body);
}

static Type *match_value(Node *n, Type *want)
{
    bool tail = C.tail_ok;
    C.tail_ok = false;
    check_value(&n->cond, NULL);
    check_arm_patterns(n, n->cond->ty);
    SlotVec slots = { 0 };
    for (int i = 0; i < n->args.n; i++) {
        C.tail_ok = tail;
        add_slot(&slots, &n->args.v[i]->body, want);
    }
    C.tail_ok = false;
    if (!slots.n)
        return ty_error;
    return unify_slots(&slots, want, n->pos);
}

static Type *if_value(Node *n, Type *want)
{
    bool tail = C.tail_ok;
    C.tail_ok = false;
    push_scope();
    if (n->init)
        check_if_var(n);
    else
        check_cond(&n->cond);
    if (!n->els) {
        error_at(n->pos, "an if used as a value needs an else");
        check_block(n->then, true);
        pop_scope();
        return ty_error;
    }
    SlotVec slots = { 0 };
    C.tail_ok = tail;
    add_slot(&slots, &n->then, want);
    pop_scope();
    C.tail_ok = tail;
    add_slot(&slots, &n->els, want);
    C.tail_ok = false;
    if (slots.n < 2)
        return ty_error;
    return unify_slots(&slots, want, n->pos);
}

Type *block_value_type(Node *n, Type *want)
{
    if (n->kind == N_MATCH)
        return match_value(n, want);
    if (n->kind == N_IF)
        return if_value(n, want);
    Node **slot = block_slot(n, want);
    if (!slot)
        return ty_error;
    if (want)
        coerce(slot, want, "the block's value");
    else
        check_value(slot, NULL);
    return (*slot)->ty;
}

/* ---- match ------------------------------------------------------------- */

static bool same_pattern(Node *a, Node *b)
{
    if (a->kind == N_STR || b->kind == N_STR)
        return a->kind == b->kind && a->slen == b->slen && !memcmp(a->sval, b->sval, (size_t)a->slen);
    return a->is_const_val && b->is_const_val && a->cval == b->cval;
}

static void check_exhaustive(Node *m, Type *ct)
{
    if (m->args.n == 0)
        return;
    for (int i = 0; i < m->args.n; i++)
        if (!m->args.v[i]->args.n)
            return;     /* has default */
    m->no_default = true;
    if (ct->kind != TY_ENUM && ct->kind != TY_BOOL)
        return;
    int nvals = ct->kind == TY_BOOL ? 2 : ct->nvals;
    char *missing = NULL;
    for (int v = 0; v < nvals; v++) {
        i128 val = ct->kind == TY_BOOL ? v : ct->vals[v].val;
        bool found = false;
        for (int i = 0; i < m->args.n && !found; i++)
            for (int j = 0; j < m->args.v[i]->args.n && !found; j++)
                found = m->args.v[i]->args.v[j]->is_const_val && m->args.v[i]->args.v[j]->cval == val;
        if (!found) {
            const char *name = ct->kind == TY_BOOL ? (v ? "true" : "false") : ct->vals[v].name;
            missing = missing ? xfmt("%s, %s", missing, name) : xstrdup(name);
        }
    }
    if (missing) {
        error_at(m->pos, "match on %s does not cover %s", type_name(ct), missing);
        help("add an arm for each missing value, or a default arm");
    }
}

static void check_arm_patterns(Node *m, Type *ct)
{
    bool is_str = ct->kind == TY_STR;
    if (ct->kind != TY_ERROR && !arith_type(ct) && ct->kind != TY_BOOL && !is_str) {
        error_at(m->cond->pos, "match takes an integer, enum, char, bool or string, not %s", type_name(ct));
        ct = ty_error;
    }
    for (int i = 0; i < m->args.n; i++) {
        Node *arm = m->args.v[i];
        int dup = 0;
        for (int j = 0; j < arm->args.n; j++) {
            Node **pp = &arm->args.v[j];
            if (ct->kind == TY_ERROR) {
                check_expr(*pp, NULL);
                continue;
            }
            int errors = diag_errors();
            check_value(pp, is_str ? NULL : ct);
            Node *p = *pp;
            if (p->ty->kind == TY_ERROR || diag_errors() > errors)
                continue;   /* reported (wrong type): no second error */
            if (is_str ? p->kind != N_STR : !p->is_const_val) {
                error_at(p->pos, "a match pattern must be a constant");
                continue;
            }
            bool seen = false;
            for (int a = 0; a <= i && !seen; a++)
                for (int b = 0; b < (a == i ? j : m->args.v[a]->args.n) && !seen; b++)
                    seen = same_pattern(m->args.v[a]->args.v[b], p);
            dup += seen;
        }
        if (arm->args.n && dup == arm->args.n) {
            arm->unreachable_arm = true;
            warn_class_at(arm->pos, "unreachable", "this match arm is unreachable: earlier arms match its values");
        }
        if (!arm->args.n && i + 1 < m->args.n)
            warn_class_at(m->args.v[i + 1]->pos, "unreachable", "this match arm is unreachable: it follows default");
    }
    if (ct->kind != TY_ERROR)
        check_exhaustive(m, ct);
}

static void check_match_stmt(Node *n)
{
    check_value(&n->cond, NULL);
    check_arm_patterns(n, n->cond->ty);
    for (int i = 0; i < n->args.n; i++) {
        Node *b = n->args.v[i]->body;
        if (b->kind == N_BLOCK)
            check_block(b, true);
        else
            check_value(&n->args.v[i]->body, NULL);
    }
}

/* ---- locals ------------------------------------------------------------ */

static void check_stack_size(Var *v)
{
    if (!in_ebpf() || !v->ty || v->ty->size <= BPF_STACK)
        return;
    error_at(v->pos, "local '%s' needs %d bytes, more than the %d-byte BPF stack", v->name, v->ty->size, BPF_STACK);
    help("keep it in a per-CPU array map: var %s_buf : percpu_array<u32, %s>(1)", v->name, type_name(v->ty));
}

static Var *new_var(Node *n, Type *ty)
{
    Var *v = xalloc(sizeof(Var));
    v->name = n->name;
    v->pos = n->pos;
    v->ty = ty;
    v->decl = n;
    return v;
}

static void check_var(Node *n)
{
    Type *ty = n->decl_ty ? resolve_type(n->decl_ty) : NULL;
    bool mapref = false;
    if (n->init) {
        if (ty) {
            check_expr(n->init, ty);
            coerce(&n->init, ty, xfmt("the initial value of '%s'", n->name));
        } else {
            check_value(&n->init, NULL);
            ty = n->init->ty;
            mapref = is_map_read(n->init) && !n->is_const;
        }
    }
    if (!ty)
        ty = ty_error;
    if (ty->kind == TY_NULL || ty->kind == TY_VOID || ty->kind == TY_MAP || ty->kind == TY_MODULE
        || ty->kind == TY_PROGRAM) {
        error_at(n->pos, "'%s' cannot have type %s", n->name, type_name(ty));
        if (ty->kind == TY_NULL)
            help("give it a pointer type: var %s: *T = null", n->name);
        ty = ty_error;
    }
    Var *v = new_var(n, ty);
    v->is_mapref = mapref;
    n->var = v;
    bool never_assigned = !strmap_get(&C.assigned, n->name);
    if (n->init && n->init->is_const_val && (n->is_const || never_assigned) && arith_type(ty)) {
        v->is_const = true;
        v->cval = n->init->cval;
    }
    if (n->is_const && n->init && !n->init->is_const_val && n->init->ty->kind != TY_ERROR && n->init->kind != N_STR)
        error_at(n->init->pos, "the value of const '%s' must be known at compile time", n->name);
    if (n->is_const)
        v->is_const = true;
    check_stack_size(v);
    declare_local(v);
}

/* if (var p = e): e is a map entry or a pointer that may be null. */
static void check_if_var(Node *n)
{
    Node *d = n->init;
    check_var(d);
    Var *v = d->var;
    if (!v || !d->init || v->ty->kind == TY_ERROR)
        return;
    if (!v->is_mapref && v->ty->kind != TY_PTR) {
        error_at(d->init->pos, "'if (var %s = ...)' needs a map entry or a pointer that may be null, not %s",
                 v->name, type_name(v->ty));
    }
}

/* ---- assignments ------------------------------------------------------- */

static void check_const_target(Node *lhs)
{
    Node *base = lhs;
    while (base->kind == N_FIELD || base->kind == N_INDEX) {
        if (base->kind == N_FIELD && base->sym)
            break;
        if (base->kind == N_INDEX && base->lhs->ty->kind == TY_MAP)
            return;
        if (base->lhs->ty && base->lhs->ty->kind == TY_PTR)
            return;
        base = base->lhs;
    }
    if (base->sym && base->sym->kind == SYM_LOCAL && base->var->is_const && base->var->decl
        && base->var->decl->is_const) {
        error_at(lhs->pos, "cannot assign to constant '%s'", base->var->name);
        help("declare it with 'var' to change it");
    }
}

static void check_compound(Node *n, Type *lt)
{
    if (lt->kind == TY_PTR && (n->op == OP_ADD || n->op == OP_SUB)) {
        check_value(&n->rhs, ty_i64);
        n->decl_ty = lt;
        return;
    }
    Type *la = arith_type(lt);
    if (!la) {
        check_expr(n->rhs, NULL);
        error_at(n->pos, "'%s=' needs an integer on the left, not %s", op_spelling(n->op), type_name(lt));
        return;
    }
    check_expr(n->rhs, la);
    if (n->op == OP_SHL || n->op == OP_SHR) {
        check_value(&n->rhs, ty_u32);
        n->decl_ty = la;
        return;
    }
    check_value(&n->rhs, la);   /* an untyped constant takes the target's type */
    Type *rt = arith_type(n->rhs->ty);
    if (!rt) {
        if (n->rhs->ty->kind != TY_ERROR)
            error_at(n->rhs->pos, "'%s=' needs an integer on the right, not %s", op_spelling(n->op),
                     type_name(n->rhs->ty));
        return;
    }
    Type *ct = common_type(la, rt);
    n->rhs = cast_to(n->rhs, ct);
    n->decl_ty = ct;
    if ((n->op == OP_DIV || n->op == OP_MOD) && const_zero_divisor(n->rhs))
        error_at(n->rhs->pos, "%s by the constant zero", n->op == OP_DIV ? "division" : "modulo");
}

static void check_assign(Node *n)
{
    Type *lt = check_expr(n->lhs, NULL);
    if (lt->kind == TY_ERROR) {
        check_expr(n->rhs, NULL);
        return;
    }
    Sym *ls = n->lhs->kind == N_IDENT ? n->lhs->sym : NULL;
    if (ls && (ls->kind == SYM_CONST || ls->kind == SYM_ENUMVAL)) {
        error_at(n->lhs->pos, "cannot assign to constant '%s'", ls->name);
        check_expr(n->rhs, NULL);
        return;
    }
    if (!is_lvalue(n->lhs)) {
        error_at(n->lhs->pos, "cannot assign to this expression");
        if (n->lhs->kind == N_IDENT && n->lhs->sym && n->lhs->sym->kind == SYM_GLOBAL)
            help("a map is changed through its entries: %s[key] = value", n->lhs->name);
        check_expr(n->rhs, NULL);
        return;
    }
    check_const_target(n->lhs);
    mark_assigned(n->lhs);
    if (n->op != OP_NONE) {
        check_compound(n, lt);
        return;
    }
    Node *l = n->lhs;
    if (l->kind == N_IDENT && l->var && l->var->is_mapref) {
        check_expr(n->rhs, lt);
        if (is_map_read(n->rhs) && same_type(n->rhs->ty, lt)) {
            n->is_rebind = true;
            return;
        }
    } else {
        check_expr(n->rhs, lt);
    }
    coerce(&n->rhs, lt, "the assigned value");
}

/* ---- statements -------------------------------------------------------- */

static void check_loop_body(Node *body)
{
    C.loops++;
    check_block(body, true);
    C.loops--;
}

static void check_for_range(Node *n)
{
    check_expr(n->init, NULL);
    check_expr(n->rhs, NULL);
    Type *t = unify_types(&n->init, &n->rhs, NULL, n->pos);
    if (t->kind != TY_ERROR && !arith_type(t)) {
        error_at(n->pos, "a range loop needs integer bounds, not %s", type_name(t));
        t = ty_error;
    }
    push_scope();
    n->var->ty = t;
    declare_local(n->var);
    check_loop_body(n->body);
    pop_scope();
}

static void check_for_map(Node *n)
{
    Type *t = check_expr(n->lhs, NULL);
    if (in_ebpf()) {
        error_at(n->pos, "iterating over a map is for userspace code");
        help("in eBPF code, look entries up by key");
    }
    if (t->kind != TY_ERROR && (t->kind != TY_MAP || !t->key)) {
        error_at(n->lhs->pos, "for (k, v) in m needs a map with keys and values, not %s", type_name(t));
        t = ty_error;
    }
    push_scope();
    n->var->ty = t->kind == TY_MAP ? t->key : ty_error;
    n->var2->ty = t->kind == TY_MAP ? t->base : ty_error;
    declare_local(n->var);
    declare_local(n->var2);
    check_loop_body(n->body);
    pop_scope();
}

void add_throw_code(Func *f, int64_t code)
{
    for (int i = 0; i < f->throw_codes.n; i++)
        if (f->throw_codes.v[i] == code)
            return;
    vpush(f->throw_codes, code);
}

/* What the enclosing try statements catch, for a throw or a call. */
CatchSet *catch_snapshot(void)
{
    if (!C.try_stack.n)
        return NULL;
    CatchSet *cs = xalloc(sizeof(CatchSet));
    VEC(int64_t) codes = { 0 };
    for (int t = 0; t < C.try_stack.n; t++) {
        Node *try = C.try_stack.v[t];
        for (int i = 0; i < try->args.n; i++) {
            Node *c = try->args.v[i];
            if (!c->has_code)
                cs->all = true;
            else
                vpush(codes, (int64_t)c->ival);
        }
    }
    cs->codes = codes.v;
    cs->n = codes.n;
    return cs;
}

/* Is this code caught (known = false: any code, such as a variable's)? */
bool catches(CatchSet *cs, bool known, int64_t code)
{
    if (!cs)
        return false;
    if (cs->all)
        return true;
    for (int i = 0; known && i < cs->n; i++)
        if (cs->codes[i] == code)
            return true;
    return false;
}

static void check_try(Node *n)
{
    /* the codes first: the body's throws are judged against them */
    for (int i = 0; i < n->args.n; i++) {
        Node *c = n->args.v[i];
        if (!c->has_code)
            continue;
        check_value(&c->lhs, ty_i32);
        if (c->lhs->ty->kind != TY_ERROR && !c->lhs->is_const_val)
            error_at(c->lhs->pos, "a catch code must be a constant");
        c->ival = (uint64_t)c->lhs->cval;
    }
    C.trys++;
    vpush(C.try_stack, n);
    check_block(n->body, true);
    C.try_stack.n--;
    C.trys--;
    for (int i = 0; i < n->args.n; i++)
        check_block(n->args.v[i]->body, true);
}

static void check_return(Node *n)
{
    Func *f = C.fn;
    if (C.defers) {
        error_at(n->pos, "return inside a defer block");
        return;
    }
    if (!n->lhs) {
        if (f->ret->kind != TY_VOID && !f->ret_var && !f->is_main)
            error_at(n->pos, "'%s' returns %s; this return has no value", f->name, type_name(f->ret));
        return;
    }
    if (f->ret->kind == TY_VOID) {
        error_at(n->pos, "'%s' returns nothing, but this return has a value", f->name);
        check_expr(n->lhs, NULL);
        return;
    }
    C.tail_ok = true;
    check_expr(n->lhs, f->ret);
    C.tail_ok = false;
    if (n->lhs->kind == N_CALL && n->lhs->tail_call)
        return;
    coerce(&n->lhs, f->ret, "the returned value");
}

static void check_expr_stmt(Node *n)
{
    Node *e = n->lhs;
    if (e->kind == N_MATCH)
        check_match_stmt(e);
    else if (e->kind == N_IF)
        check_stmt(e);
    else if (e->kind == N_BLOCK)
        check_block(e, true);
    else
        check_value(&n->lhs, NULL);
}

static void check_if(Node *n)
{
    push_scope();
    if (n->init)
        check_if_var(n);
    else
        check_cond(&n->cond);
    check_block(n->then, true);
    pop_scope();
    if (n->els) {
        if (n->els->kind == N_IF)
            check_if(n->els);
        else
            check_block(n->els, true);
    }
}

void check_stmt(Node *n)
{
    switch (n->kind) {
    case N_VAR: check_var(n); break;
    case N_EXPR: check_expr_stmt(n); break;
    case N_ASSIGN: check_assign(n); break;
    case N_RETURN: check_return(n); break;
    case N_BREAK: case N_CONTINUE:
        if (!C.loops)
            error_at(n->pos, "'%s' outside a loop", n->kind == N_BREAK ? "break" : "continue");
        break;
    case N_IF: check_if(n); break;
    case N_FOR_RANGE: check_for_range(n); break;
    case N_FOR_MAP: check_for_map(n); break;
    case N_WHILE:
        check_cond(&n->cond);
        check_loop_body(n->body);
        break;
    case N_LOOP: check_loop_body(n->body); break;
    case N_TRY: check_try(n); break;
    case N_THROW:
        check_value(&n->lhs, ty_i32);
        n->catches = catch_snapshot();
        n->in_try = catches(n->catches, n->lhs->is_const_val, (int64_t)n->lhs->cval);
        if (!n->in_try) {
            C.fn->uses_throw = true;
            if (n->lhs->is_const_val)
                add_throw_code(C.fn, (int64_t)n->lhs->cval);
            else
                C.fn->throws_any = true;
        }
        if (!n->in_try && C.fn->target == TGT_EBPF && is_program(C.fn)) {
            error_at(n->pos, "program '%s' does not catch this throw", C.fn->name);
            help("every throw in an eBPF program must be caught inside the program: try { ... } catch _ { ... }");
        }
        break;
    case N_DEFER: {
        int loops = C.loops;
        C.loops = 0;
        C.defers++;
        if (n->body->kind == N_BLOCK)
            check_block(n->body, true);
        else
            check_stmt(n->body);
        C.defers--;
        C.loops = loops;
        break;
    }
    case N_DELETE:
        check_expr(n->lhs, NULL);
        if (n->lhs->ty->kind != TY_ERROR && !is_map_read(n->lhs)) {
            error_at(n->lhs->pos, "delete takes a map entry: delete m[key]");
            if (n->lhs->ty->kind == TY_PTR)
                help("KernelScript has no heap objects to delete");
        }
        break;
    case N_BLOCK: check_block(n, true); break;
    default:
        check_value(&n, NULL);
        break;
    }
}

void check_block(Node *b, bool new_scope)
{
    if (b->kind != N_BLOCK) {
        check_stmt(b);
        return;
    }
    if (new_scope)
        push_scope();
    for (int i = 0; i < b->args.n; i++)
        check_stmt(b->args.v[i]);
    if (new_scope)
        pop_scope();
}

/* ---- flow -------------------------------------------------------------- */

static bool has_break(Node *n)
{
    if (!n)
        return false;
    switch (n->kind) {
    case N_BREAK: return true;
    case N_WHILE: case N_LOOP: case N_FOR_RANGE: case N_FOR_MAP: return false;
    case N_BLOCK:
        for (int i = 0; i < n->args.n; i++)
            if (has_break(n->args.v[i]))
                return true;
        return false;
    case N_IF: return has_break(n->then) || has_break(n->els);
    case N_EXPR: return has_break(n->lhs);
    case N_MATCH:
        for (int i = 0; i < n->args.n; i++)
            if (has_break(n->args.v[i]->body))
                return true;
        return false;
    case N_TRY:
        if (has_break(n->body))
            return true;
        for (int i = 0; i < n->args.n; i++)
            if (has_break(n->args.v[i]->body))
                return true;
        return false;
    default: return false;
    }
}

/* Can control reach the end of this statement? */
bool falls_through(Node *n)
{
    if (!n)
        return true;
    switch (n->kind) {
    case N_RETURN: case N_THROW: return false;
    case N_BLOCK:
        for (int i = 0; i < n->args.n; i++)
            if (!falls_through(n->args.v[i]))
                return false;
        return true;
    case N_IF: return !n->els || falls_through(n->then) || falls_through(n->els);
    case N_LOOP: return has_break(n->body);
    case N_WHILE: return !(n->cond->is_const_val && n->cond->cval) || has_break(n->body);
    case N_EXPR:
        if (n->lhs->kind == N_CALL && n->lhs->builtin == B_EXIT)
            return false;
        if (n->lhs->kind == N_IF || n->lhs->kind == N_BLOCK)
            return falls_through(n->lhs);
        if (n->lhs->kind == N_MATCH) {
            Node *m = n->lhs;
            if (m->no_default && m->cond->ty->kind != TY_ENUM && m->cond->ty->kind != TY_BOOL)
                return true;
            for (int i = 0; i < m->args.n; i++)
                if (falls_through(m->args.v[i]->body))
                    return true;
            return m->args.n == 0;
        }
        return true;
    case N_TRY:
        if (falls_through(n->body))
            return true;
        for (int i = 0; i < n->args.n; i++)
            if (falls_through(n->args.v[i]->body))
                return true;
        return false;
    default: return true;
    }
}

/* Does this if/match look like it yields a value in every branch? */
static bool value_like(Node *n)
{
    if (n->kind == N_BLOCK)
        return n->args.n && n->args.v[n->args.n - 1]->kind == N_EXPR
            && (n->args.v[n->args.n - 1]->lhs->kind != N_IF && n->args.v[n->args.n - 1]->lhs->kind != N_MATCH
                ? true : value_like(n->args.v[n->args.n - 1]->lhs));
    if (n->kind == N_IF)
        return n->els && value_like(n->then) && value_like(n->els);
    if (n->kind == N_MATCH) {
        for (int i = 0; i < n->args.n; i++)
            if (n->args.v[i]->body->kind == N_BLOCK && !value_like(n->args.v[i]->body))
                return false;
        return n->args.n > 0;
    }
    return true;
}

/* A body ending in an expression returns it: rewritten to a return. */
static void implicit_return(Func *f)
{
    Node *b = f->body;
    if (f->ret->kind == TY_VOID || !b->args.n)
        return;
    Node *last = b->args.v[b->args.n - 1];
    if (last->kind != N_EXPR)
        return;
    NodeKind k = last->lhs->kind;
    if ((k == N_IF || k == N_MATCH || k == N_BLOCK) && !value_like(last->lhs))
        return;
    if (k == N_CALL || k == N_ASSIGN)
        return;     /* decided after checking: see below */
    last->kind = N_RETURN;
}

static void prescan_assigned(Node *n)
{
    if (!n)
        return;
    if (n->kind == N_ASSIGN || n->kind == N_ADDR) {
        Node *b = n->lhs;
        while (b && (b->kind == N_FIELD || b->kind == N_INDEX))
            b = b->lhs;
        if (b && b->kind == N_IDENT)
            strmap_put(&C.assigned, b->name, (void *)1);
    }
    Node *kids[] = { n->lhs, n->rhs, n->cond, n->then, n->els, n->body, n->init };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        prescan_assigned(kids[i]);
    for (int i = 0; i < n->args.n; i++)
        prescan_assigned(n->args.v[i]);
}

void check_function(Func *f)
{
    C.fn = f;
    C.mod = f->module;
    C.scope = NULL;
    C.loops = C.trys = C.defers = 0;
    C.try_stack.n = 0;
    memset(&C.assigned, 0, sizeof C.assigned);
    prescan_assigned(f->body);
    push_scope();
    for (int i = 0; i < f->params.n; i++)
        declare_local(f->params.v[i]);
    if (f->ret_var)
        declare_local(f->ret_var);
    implicit_return(f);
    check_block(f->body, true);
    Node *b = f->body;
    Node *last = b->args.n ? b->args.v[b->args.n - 1] : NULL;
    if (last && last->kind == N_EXPR && last->lhs->kind == N_CALL && f->ret->kind != TY_VOID
        && last->lhs->ty && last->lhs->ty->kind != TY_VOID && last->lhs->ty->kind != TY_ERROR) {
        last->kind = N_RETURN;
        if (!last->lhs->tail_call)
            coerce(&last->lhs, f->ret, "the returned value");
    }
    if (f->ret->kind != TY_VOID && f->ret->kind != TY_ERROR && !f->ret_var && !f->is_main && falls_through(b)) {
        error_at(f->pos, "'%s' can reach its end without returning a %s", f->name, type_name(f->ret));
        help("add a return at the end");
    }
    pop_scope();
    C.fn = NULL;
}
