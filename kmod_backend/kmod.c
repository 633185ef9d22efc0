/* The kernel module: @kfunc and @private functions as kernel C, the user
 * types they need as C structs with the language's layout (checked by
 * static_assert), the BTF kfunc id set and its registration for the
 * program types of the file's eBPF programs, module init/exit, the Kbuild
 * file, and building it with the kernel's own make. */
#include "kmod_backend/kmod.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "btf/ksbtf.h"
#include "kmod_backend/internal.h"

/* ---- text ------------------------------------------------------------- */

void bput(Buf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = xalloc(cap);
        if (b->s)
            memcpy(p, b->s, b->n);
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n + 1);
    b->n += n;
}

void bprintf(Buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        fatal("out of memory");
    va_end(ap);
    bput(b, s);
    free(s);
}

void bput_cstr(Buf *b, const char *s, int n)
{
    bput(b, "\"");
    for (int i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\n': bput(b, "\\n"); break;
        case '\t': bput(b, "\\t"); break;
        case '\r': bput(b, "\\r"); break;
        case '"': bput(b, "\\\""); break;
        case '\\': bput(b, "\\\\"); break;
        default:
            /* Octal, always three digits: a hex escape would swallow a
             * following hex digit. */
            if (c < 32 || c >= 127)
                bprintf(b, "\\%03o", c);
            else
                bprintf(b, "%c", c);
        }
    }
    bput(b, "\"");
}

/* ---- names -------------------------------------------------------------- */

/* C (and GNU C) keywords: a user struct member so named is renamed. */
static bool c_keyword(const char *s)
{
    static const char *kw[] = {
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
        "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
        "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
        "volatile", "while", "asm", "typeof", "bool", "true", "false", "NULL", NULL,
    };
    for (int i = 0; kw[i]; i++)
        if (!strcmp(kw[i], s))
            return true;
    return !strncmp(s, "_", 1);
}

/* Letters, digits and '_' only (imported names carry a namespace). */
static const char *c_ident(const char *s)
{
    char *r = xstrdup(s);
    for (char *p = r; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            *p = '_';
    return r;
}

/* The source file's name as generated comments and strings quote it:
 * its base name, with anything that could end a comment or a string, or
 * a line, replaced. */
static const char *src_name(Program *p)
{
    const char *base = strrchr(p->path, '/');
    char *r = xstrdup(base ? base + 1 : p->path);
    for (char *c = r; *c; c++)
        if (*c < 32 || *c > 126 || *c == '"' || *c == '\\' || *c == '*' || *c == '?')
            *c = '_';
    return r;
}

const char *kc_member_name(Type *st, const char *name)
{
    if (st->kernel || !c_keyword(name))
        return name;
    return xfmt("ks_%s", name);
}

const char *kc_member(Type *st, Member *m)
{
    return kc_member_name(st, m->name);
}

const char *kc_func_name(Func *f)
{
    if (f->kind == FN_KFUNC)
        return f->name;
    return xfmt("ksp_%s", c_ident(f->sym_name ? f->sym_name : f->name));
}

static const char *struct_tag(Type *t)
{
    const char *kw = t->kind == TY_UNION ? "union" : "struct";
    if (t->kernel)
        return xfmt("%s %s", kw, t->name);
    return xfmt("%s ks_%s", kw, c_ident(t->name));
}

/* ---- types ------------------------------------------------------------- */

static const char *int_name(Type *t)
{
    static const char *u[] = { NULL, "u8", "u16", NULL, "u32", NULL, NULL, NULL, "u64" };
    static const char *s[] = { NULL, "s8", "s16", NULL, "s32", NULL, NULL, NULL, "s64" };
    int sz = t->size >= 1 && t->size <= 8 ? t->size : 8;
    const char *r = t->is_signed && t->kind == TY_INT ? s[sz] : u[sz];
    return r ? r : "u64";
}

/* The base type name and whether t is one kernel C can hold. */
static const char *base_name(Type *t, Pos pos)
{
    switch (t->kind) {
    case TY_VOID: return "void";
    case TY_BOOL: return "bool";
    case TY_CHAR: return "char";
    case TY_INT: case TY_ENUM: case TY_UNTYPED: return int_name(t);
    case TY_STRUCT: case TY_UNION:
        if (!t->name) {
            error_at(pos, "kernel-module code cannot name this anonymous %s type",
                     t->kind == TY_UNION ? "union" : "struct");
            return NULL;
        }
        return struct_tag(t);
    default:
        error_at(pos, "kernel-module code cannot use a value of type %s", type_name(t));
        if (t->kind == TY_MAP || t->kind == TY_HANDLE || t->kind == TY_PERFATT || t->kind == TY_PROGRAM)
            help("maps, program handles and attachments belong to eBPF and userspace code");
        return NULL;
    }
}

const char *kc_decl(Type *t, const char *name, Pos pos)
{
    switch (t->kind) {
    case TY_PTR: {
        Type *b = t->base;
        bool wrap = b->kind == TY_ARRAY || b->kind == TY_STR;
        return kc_decl(b, xfmt(wrap ? "(*%s)" : "*%s", name), pos);
    }
    case TY_ARRAY: return kc_decl(t->base, xfmt("%s[%ld]", name, t->len), pos);
    case TY_STR: return xfmt("char %s[%ld]", name, t->len);
    default: {
        const char *b = base_name(t, pos);
        if (!b)
            return NULL;
        return *name ? xfmt("%s %s", b, name) : b;
    }
    }
}

const char *kc_type(Type *t, Pos pos)
{
    const char *d = kc_decl(t, "", pos);
    return d ? d : "int";
}

/* ---- the module ABI ---------------------------------------------------- */

/* Arrays and strings travel as a pointer to their first element: the
 * kernel verifier accepts a pointer to a scalar as a kfunc argument, not
 * a pointer to an array. */
static const char *agg_param(Type *t, const char *name, Pos pos)
{
    if (t->kind == TY_STR)
        return xfmt("char *%s", name);
    if (t->kind == TY_ARRAY)
        return kc_decl(pointer_to(t->base), name, pos);
    return kc_decl(pointer_to(t), name, pos);
}

static const char *ret_ctype(Func *f)
{
    if (f->ret->kind == TY_VOID)
        return "void";
    if (is_aggregate(f->ret))
        return "s64";
    return kc_type(f->ret, f->pos);
}

const char *kc_prototype(Func *f)
{
    Buf b = { 0 };
    bprintf(&b, "%s %s(", ret_ctype(f), kc_func_name(f));
    int n = 0;
    if (is_aggregate(f->ret)) {
        bput(&b, agg_param(f->ret, "ksc_ret", f->pos));
        n++;
    }
    for (int i = 0; i < f->params.n; i++) {
        Var *v = f->params.v[i];
        const char *name = xfmt(is_aggregate(v->ty) ? "ksc_in_%s" : "ks_%s", v->name);
        const char *d = is_aggregate(v->ty) ? agg_param(v->ty, name, v->pos) : kc_decl(v->ty, name, v->pos);
        bprintf(&b, "%s%s", n++ ? ", " : "", d ? d : "int");
    }
    if (f->throws) {
        bprintf(&b, "%ss32 *ksc_err", n ? ", " : "");
        n++;
    }
    bput(&b, n ? ")" : "void)");
    return b.s;
}

/* ---- which types the module needs -------------------------------------- */

typedef struct Mod {
    Program *p;
    const char *name;
    VEC(Func *) kfuncs;
    VEC(Func *) privs;
    VEC(Type *) structs;    /* user structs, dependencies first */
    StrMap kernel_structs;  /* kernel struct names used */
    StrMap seen;
} Mod;

static void need_type(Mod *m, Type *t);

/* Definitions in an order C accepts: what a struct holds by value before
 * it, what it only points to after it (it may hold this one by value). */
static void need_struct(Mod *m, Type *t)
{
    if (t->kernel) {
        if (t->name)
            strmap_put(&m->kernel_structs, t->name, t);
        return;
    }
    const char *key = xfmt("%p", (void *)t);
    if (strmap_get(&m->seen, key))
        return;
    strmap_put(&m->seen, key, t);
    for (int i = 0; i < t->nmembers; i++) {
        Type *mt = t->members[i].ty;
        while (mt->kind == TY_ARRAY)
            mt = mt->base;
        if (mt->kind == TY_STRUCT || mt->kind == TY_UNION)
            need_struct(m, mt);
    }
    vpush(m->structs, t);
    for (int i = 0; i < t->nmembers; i++)
        need_type(m, t->members[i].ty);
}

static void need_type(Mod *m, Type *t)
{
    /* A struct behind a pointer gets its definition too: field accesses
     * through the pointer need it. */
    while (t && (t->kind == TY_PTR || t->kind == TY_ARRAY))
        t = t->base;
    if (t && (t->kind == TY_STRUCT || t->kind == TY_UNION))
        need_struct(m, t);
}

static void need_node(Mod *m, Node *n)
{
    if (!n)
        return;
    need_type(m, n->ty);
    if (n->decl_ty)
        need_type(m, n->decl_ty);
    Node *kids[] = { n->lhs, n->rhs, n->cond, n->then, n->els, n->body, n->init };
    for (size_t i = 0; i < sizeof kids / sizeof *kids; i++)
        need_node(m, kids[i]);
    for (int i = 0; i < n->args.n; i++)
        need_node(m, n->args.v[i]);
}

/* What the kfunc call ABI and the kernel require of a @kfunc. */
static void check_kfunc(Mod *m, Func *f, StrMap *seen)
{
    Func *other = strmap_get(seen, f->name);
    if (other) {
        error_at(f->pos, "a second @kfunc named '%s': kfuncs are found by name", f->name);
        note_at(other->pos, "the first one is here");
    }
    strmap_put(seen, f->name, f);
    int hidden = is_aggregate(f->ret) + f->throws;
    if (f->params.n + hidden > 5)
        error_at(f->pos, "@kfunc '%s' needs %d arguments: its %d parameters and %s; a BPF call passes at most 5",
                 f->name, f->params.n + hidden, f->params.n,
                 hidden == 2 ? "pointers for its result and its thrown code"
                 : is_aggregate(f->ret) ? "a pointer for its result" : "a pointer for its thrown code");
    /* libbpf resolves a kfunc by name, vmlinux first, and the C would
     * clash with the kernel's declaration too. */
    const char **names;
    if (kernel_func(f->name, &names)) {
        error_at(f->pos, "the kernel has a function named '%s'; a @kfunc needs a name of its own", f->name);
        help("rename it, for example %s_%s", m->name, f->name);
    }
}

static void collect(Mod *m)
{
    StrMap seen = { 0 };
    for (int i = 0; i < m->p->funcs.n; i++) {
        Func *f = m->p->funcs.v[i];
        if (f->target != TGT_KMOD || !f->body)
            continue;
        if (f->kind == FN_KFUNC) {
            check_kfunc(m, f, &seen);
            vpush(m->kfuncs, f);
        } else {
            vpush(m->privs, f);
        }
        need_type(m, f->ret);
        for (int j = 0; j < f->locals.n; j++)
            need_type(m, f->locals.v[j]->ty);
        need_node(m, f->body);
    }
}

/* ---- the parts of the file --------------------------------------------- */

/* Headers for kernel structs a module may use; any other kernel struct is
 * declared, which serves pointers (a by-value use then fails in the C
 * compiler, naming the struct). */
static const struct { const char *type, *header; } kernel_headers[] = {
    { "task_struct", "linux/sched.h" }, { "sk_buff", "linux/skbuff.h" }, { "sock", "net/sock.h" },
    { "xdp_buff", "net/xdp.h" }, { "ethhdr", "linux/if_ether.h" }, { "iphdr", "linux/ip.h" },
    { "ipv6hdr", "linux/ipv6.h" }, { "tcphdr", "linux/tcp.h" }, { "udphdr", "linux/udp.h" },
    { "icmphdr", "linux/icmp.h" }, { "tcp_sock", "linux/tcp.h" }, { "pt_regs", "linux/ptrace.h" },
    { "file", "linux/fs.h" }, { "inode", "linux/fs.h" }, { "dentry", "linux/dcache.h" },
    { "net_device", "linux/netdevice.h" }, { "cred", "linux/cred.h" }, { "mm_struct", "linux/mm_types.h" },
    { NULL, NULL },
};

/* linux/bpf.h brings the uapi structs (xdp_md, __sk_buff, bpf_*). */
static bool in_bpf_h(const char *name)
{
    return !strncmp(name, "bpf_", 4) || !strcmp(name, "xdp_md") || !strcmp(name, "__sk_buff");
}

static void emit_includes(Mod *m, Buf *b)
{
    static const char *always[] = {
        "linux/bpf.h", "linux/btf.h", "linux/btf_ids.h", "linux/init.h", "linux/jiffies.h",
        "linux/kernel.h", "linux/ktime.h", "linux/module.h", "linux/printk.h", "linux/random.h",
        "linux/sched.h", "linux/slab.h", "linux/smp.h", "linux/string.h", "linux/timekeeping.h",
        "linux/types.h", NULL,
    };
    for (int i = 0; always[i]; i++)
        bprintf(b, "#include <%s>\n", always[i]);
    StrMap done = { 0 };
    Buf fwd = { 0 };
    for (int i = 0; i < m->kernel_structs.cap; i++) {
        const char *name = m->kernel_structs.ents[i].key;
        if (!name || in_bpf_h(name))
            continue;
        const char *h = NULL;
        for (int j = 0; kernel_headers[j].type && !h; j++)
            if (!strcmp(kernel_headers[j].type, name))
                h = kernel_headers[j].header;
        if (!h) {
            Type *t = m->kernel_structs.ents[i].val;
            bprintf(&fwd, "%s;\n", struct_tag(t));
        } else if (!strmap_get(&done, h)) {
            strmap_put(&done, h, (void *)h);
            bprintf(b, "#include <%s>\n", h);
        }
    }
    if (fwd.n)
        bprintf(b, "\n/* Kernel types without a header known to ksc. */\n%s", fwd.s);
}

static void emit_struct(Buf *b, Type *t)
{
    bprintf(b, "\n%s {\n", struct_tag(t));
    for (int i = 0; i < t->nmembers; i++) {
        Member *mb = &t->members[i];
        const char *d = kc_decl(mb->ty, kc_member(t, mb), mb->pos);
        bprintf(b, "\t%s;\n", d ? d : "int ksc_bad");
    }
    bprintf(b, "}%s;\n", t->packed ? " __packed" : "");
    /* The language fixes the layout; the C compiler must agree with it. */
    bprintf(b, "static_assert(sizeof(%s) == %d);\n", struct_tag(t), t->size);
    for (int i = 0; i < t->nmembers; i++)
        if (t->kind == TY_STRUCT)
            bprintf(b, "static_assert(offsetof(%s, %s) == %d);\n", struct_tag(t), kc_member(t, &t->members[i]),
                    t->members[i].offset);
}

/* Division and remainder with the language's rules (BPF's): by zero gives
 * 0 and the dividend, and the one overflowing signed case wraps instead
 * of trapping the CPU. */
static void emit_arith_helpers(Buf *b)
{
    bput(b, "\n/* Division with KernelScript's (BPF's) rules: x / 0 == 0, x % 0 == x,\n"
            " * and MIN / -1 wraps (x86 would trap). */\n");
    static const char *ts[] = { "u32", "u64", "s32", "s64" };
    for (int i = 0; i < 4; i++) {
        bool s = ts[i][0] == 's';
        bprintf(b, "static inline %s ksc_div_%s(%s a, %s b)\n{\n\treturn !b ? 0 : %s;\n}\n", ts[i], ts[i], ts[i], ts[i],
                s ? "b == -1 ? -a : a / b" : "a / b");
        bprintf(b, "static inline %s ksc_mod_%s(%s a, %s b)\n{\n\treturn !b ? a : %s;\n}\n", ts[i], ts[i], ts[i], ts[i],
                s ? "b == -1 ? 0 : a % b" : "a % b");
    }
}

/* Program types whose programs may call the kfuncs: those of the file's
 * eBPF programs. 6.1 accepts kfunc sets for xdp, tc, tracing (fentry),
 * struct_ops, lsm and syscall programs and answers -EINVAL for kprobe,
 * tracepoint and perf_event ones; later kernels accept more, so those are
 * tried and a refusal is reported, not fatal. */
typedef struct ProgType { const char *name, *kind; bool optional; } ProgType;

static ProgType prog_type_of(Func *f)
{
    switch (f->kind) {
    case FN_XDP: return (ProgType){ "BPF_PROG_TYPE_XDP", "xdp", false };
    case FN_TC: return (ProgType){ "BPF_PROG_TYPE_SCHED_CLS", "tc", false };
    case FN_PROBE:
        if (f->kprobe)
            return (ProgType){ "BPF_PROG_TYPE_KPROBE", "kprobe", true };
        return (ProgType){ "BPF_PROG_TYPE_TRACING", "fentry", false };
    case FN_TRACEPOINT: return (ProgType){ "BPF_PROG_TYPE_TRACEPOINT", "tracepoint", true };
    case FN_PERF_EVENT: return (ProgType){ "BPF_PROG_TYPE_PERF_EVENT", "perf_event", true };
    case FN_STRUCT_OPS: return (ProgType){ "BPF_PROG_TYPE_STRUCT_OPS", "struct_ops", false };
    default: return (ProgType){ NULL, NULL, false };
    }
}

/* One registration per program type of the file, the optional ones
 * (which the kernel may refuse: logged, not fatal) or the others. */
static void register_types(Mod *m, Buf *b, StrMap *done, bool optional)
{
    const char *n = m->name;
    for (int i = 0; i < m->p->funcs.n; i++) {
        Func *f = m->p->funcs.v[i];
        ProgType t = f->target == TGT_EBPF && is_program(f) ? prog_type_of(f) : (ProgType){ 0 };
        if (!t.name || strmap_get(done, t.name) || t.optional != optional)
            continue;
        strmap_put(done, t.name, (void *)t.name);
        bprintf(b, "\n\terr = register_btf_kfunc_id_set(%s, &%s_kfunc_set);\n", t.name, n);
        if (t.optional)
            bprintf(b, "\tif (err == -EINVAL) {\n\t\tpr_info(\"%s: this kernel allows no kfunc calls from %s programs\\n\");\n"
                       "\t\terr = 0;\n\t}\n", n, t.kind);
        bprintf(b, "\tif (err) {\n\t\tpr_err(\"%s: cannot register the kfuncs for %s programs: %%d\\n\", err);\n"
                   "\t\treturn err;\n\t}\n", n, t.kind);
    }
}

static void emit_registration(Mod *m, Buf *b)
{
    const char *n = m->name;
    bput(b, "\n/* The kfunc id set; resolve_btfids fills in the ids when kbuild makes\n"
            " * the module's BTF. 6.9+ wants the set marked as kfuncs. */\n");
    bprintf(b, "#ifdef BTF_KFUNCS_START\nBTF_KFUNCS_START(%s_kfunc_ids)\n#else\nBTF_SET8_START(%s_kfunc_ids)\n#endif\n", n, n);
    for (int i = 0; i < m->kfuncs.n; i++)
        bprintf(b, "BTF_ID_FLAGS(func, %s)\n", m->kfuncs.v[i]->name);
    bprintf(b, "#ifdef BTF_KFUNCS_END\nBTF_KFUNCS_END(%s_kfunc_ids)\n#else\nBTF_SET8_END(%s_kfunc_ids)\n#endif\n", n, n);
    bprintf(b, "\nstatic const struct btf_kfunc_id_set %s_kfunc_set = {\n\t.owner = THIS_MODULE,\n"
               "\t.set = &%s_kfunc_ids,\n};\n", n, n);
    bprintf(b, "\n/* Registers the kfuncs for each program type a program of %s has. */\n"
               "static int __init %s_init(void)\n{\n\tint err = 0;\n", src_name(m->p), n);
    /* Types the kernel may refuse go first: on 6.1 a refused set frees
     * every set the module registered before it (btf_populate_kfunc_set
     * drops the whole table on error). */
    StrMap done = { 0 };
    register_types(m, b, &done, true);
    register_types(m, b, &done, false);
    bput(b, "\treturn err;\n}\n");
}

static void emit_init_exit(Mod *m, Buf *b)
{
    const char *n = m->name;
    if (m->kfuncs.n)
        emit_registration(m, b);
    else
        bprintf(b, "\nstatic int __init %s_init(void)\n{\n\treturn 0;\n}\n", n);
    bprintf(b, "\n/* Kfunc sets cannot be unregistered; they go with the module's BTF, and\n"
               " * a loaded program that calls a kfunc holds a module reference. */\n"
               "static void __exit %s_exit(void)\n{\n}\n\nmodule_init(%s_init);\nmodule_exit(%s_exit);\n"
               "MODULE_LICENSE(\"GPL\");\nMODULE_DESCRIPTION(\"kernel-module functions of %s, generated by ksc\");\n",
               n, n, n, src_name(m->p));
}

/* Functions: prototypes first (they may call each other in any order),
 * then @private ones, then the kfuncs between the __diag lines that in-tree
 * kfuncs use (they have no caller in C to need a prototype). */

static void emit_functions(Mod *m, Buf *b)
{
    bput(b, "\n");
    for (int i = 0; i < m->privs.n; i++)
        bprintf(b, "static __maybe_unused %s;\n", kc_prototype(m->privs.v[i]));
    for (int i = 0; i < m->kfuncs.n; i++)
        bprintf(b, "%s;\n", kc_prototype(m->kfuncs.v[i]));
    for (int i = 0; i < m->privs.n; i++) {
        bprintf(b, "\nstatic __maybe_unused %s\n", kc_prototype(m->privs.v[i]));
        kmod_func_emit(m->privs.v[i], b);
    }
    if (!m->kfuncs.n)
        return;
    bput(b, "\n/* __bpf_kfunc (6.3+) keeps a kfunc and its signature for BTF; before\n"
            " * it, noinline and __used did. */\n#ifndef __bpf_kfunc\n#define __bpf_kfunc __used noinline\n#endif\n"
            "\n__diag_push();\n__diag_ignore_all(\"-Wmissing-prototypes\",\n"
            "\t\t  \"kfuncs are called from BPF programs, not from C\");\n");
    for (int i = 0; i < m->kfuncs.n; i++) {
        bprintf(b, "\n__bpf_kfunc %s\n", kc_prototype(m->kfuncs.v[i]));
        kmod_func_emit(m->kfuncs.v[i], b);
    }
    bput(b, "\n__diag_pop();\n");
}

/* ---- entry points ------------------------------------------------------- */

bool kmod_needed(Program *p)
{
    for (int i = 0; i < p->funcs.n; i++)
        if (p->funcs.v[i]->target == TGT_KMOD && p->funcs.v[i]->body)
            return true;
    return false;
}

/* <project>_kmod: a suffix keeps it apart from the kernel's own modules
 * (a project called "ipv6" must not become ipv6.ko); module names are at
 * most 55 bytes. */
const char *kmod_name(Program *p)
{
    const char *base = c_ident(p->project ? p->project : "ksc");
    if (*base >= '0' && *base <= '9')
        base = xfmt("ks_%s", base);
    return xfmt("%.50s_kmod", base);
}

static char *module_c(Program *p)
{
    Mod m = { .p = p, .name = kmod_name(p) };
    int errs = diag_errors();
    collect(&m);
    Buf b = { 0 };
    bprintf(&b, "// SPDX-License-Identifier: GPL-2.0\n/*\n * %s: the kernel module of %s, generated by ksc %s.\n"
                " * Regenerate it (ksc build, or ksc --emit=kmod-c) rather than edit it.\n */\n",
            m.name, src_name(p), KSC_VERSION);
    Buf fns = { 0 };
    emit_functions(&m, &fns);   /* first: it finds the kernel types used */
    emit_includes(&m, &b);
    for (int i = 0; i < m.structs.n; i++)
        emit_struct(&b, m.structs.v[i]);
    emit_arith_helpers(&b);
    bput(&b, fns.s);
    emit_init_exit(&m, &b);
    return diag_errors() > errs ? NULL : b.s;
}

static char *kbuild_text(Program *p)
{
    return xfmt("# Generated by ksc from %s: the kernel module %s.\n"
                "# make -C /lib/modules/$(uname -r)/build M=$PWD modules\nobj-m := %s.o\n",
                src_name(p), kmod_name(p), kmod_name(p));
}

int kmod_emit(Program *p, FILE *out)
{
    if (!kmod_needed(p)) {
        fprintf(stderr, "ksc: error: %s has no @kfunc or @private function, so no kernel module\n", p->path);
        return 1;
    }
    char *c = module_c(p);
    if (!c)
        return 1;
    fprintf(out, "%s\n/* ---- Kbuild ---- */\n%s", c, kbuild_text(p));
    return 0;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "ksc: error: cannot write '%s': %s\n", path, strerror(errno));
        return 1;
    }
    fputs(text, f);
    if (fclose(f)) {
        fprintf(stderr, "ksc: error: cannot write '%s': %s\n", path, strerror(errno));
        return 1;
    }
    return 0;
}

int kmod_write(Program *p, const char *dir)
{
    char *c = module_c(p);
    if (!c)
        return 1;
    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "ksc: error: cannot create '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    if (write_text(xfmt("%s/%s.c", dir, kmod_name(p)), c))
        return 1;
    return write_text(xfmt("%s/Kbuild", dir), kbuild_text(p));
}

/* Does the .ko have a .BTF section? Without one the kernel refuses to
 * register its kfuncs (-ENOENT at module load). */
static bool has_btf(const char *ko)
{
    int fd = open(ko, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    size_t shstrndx;
    bool found = false;
    if (e && !elf_getshdrstrndx(e, &shstrndx)) {
        for (Elf_Scn *s = elf_nextscn(e, NULL); s && !found; s = elf_nextscn(e, s)) {
            GElf_Shdr sh;
            const char *name = gelf_getshdr(s, &sh) ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;
            found = name && !strcmp(name, ".BTF");
        }
    }
    elf_end(e);
    close(fd);
    return found;
}

/* make -C KDIR M=DIR modules, its output on our stderr. */
static int run_make(const char *kdir, const char *dir)
{
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "ksc: error: fork: %s\n", strerror(errno));
        return 1;
    }
    if (!pid) {
        dup2(2, 1);
        char *argv[] = { "make", "-C", (char *)kdir, xfmt("M=%s", dir), "modules", NULL };
        execvp("make", argv);
        fprintf(stderr, "ksc: error: cannot run make: %s\n", strerror(errno));
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return 1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int kmod_build(Program *p, const char *dir, const char *kdir)
{
    struct utsname u;
    if (!kdir) {
        if (uname(&u)) {
            fprintf(stderr, "ksc: error: uname: %s\n", strerror(errno));
            return 1;
        }
        kdir = xfmt("/lib/modules/%s/build", u.release);
    }
    char adir[PATH_MAX];
    if (!realpath(dir, adir)) {
        fprintf(stderr, "ksc: error: module folder '%s': %s\n", dir, strerror(errno));
        return 1;
    }
    if (access(xfmt("%s/Makefile", kdir), R_OK)) {
        fprintf(stderr, "ksc: no kernel headers at %s, so the kernel module was not built; its sources are in %s\n"
                        "ksc: install the headers of the target kernel (linux-headers-...) or pass --kdir DIR\n",
                kdir, adir);
        return 2;
    }
    if (run_make(kdir, adir)) {
        fprintf(stderr, "ksc: error: building the kernel module in %s failed (make -C %s M=%s modules)\n", adir,
                kdir, adir);
        return 1;
    }
    const char *ko = xfmt("%s/%s.ko", adir, kmod_name(p));
    if (access(ko, R_OK)) {
        fprintf(stderr, "ksc: error: make did not produce %s\n", ko);
        return 1;
    }
    if (!has_btf(ko))
        fprintf(stderr, "ksc: warning: %s has no BTF (the kernel folder has no vmlinux, or pahole is missing); "
                        "the kernel will refuse to register its kfuncs\n", ko);
    return 0;
}
