/* `ksc headers KIND`: a KernelScript header (.kh) for a program kind,
 * written from the kernel types ksc reads (kbtf.c), so from BTF when there
 * is BTF and from the built-in set otherwise (xdp and tc only).
 *
 * KernelScript has no unions and no bitfields, and a header struct whose
 * name is a kernel type must name only fields the kernel type has (the
 * checker compares them with BTF). So the writer flattens: members of
 * anonymous structs come up one level, an anonymous union is written as
 * its largest alternative (the others are named in a comment), a run of
 * bitfields is one integer field named after the first bitfield, and a
 * named union or a type with no KernelScript spelling is a byte array of
 * the right size. Offsets are kept exactly: a gap that natural alignment
 * does not produce widens the field before it into bytes, and a struct
 * that needs it is @packed (only tail padding beyond the natural size is
 * left to a comment). Structs are written after the structs and
 * enums they contain; pointers to structs the header does not declare are
 * `*u8` (with the kernel type in a comment), so the header stands alone. */
#include "btf/kbtf_internal.h"
#include "frontend/internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct Field {
    const char *name;
    int off, size, align;
    const char *ty;             /* KernelScript spelling */
    const char *note;           /* comment, or NULL */
    bool comment_only;          /* a flexible array: no storage */
} Field;
typedef VEC(Field) FieldVec;

typedef struct Gen {
    FILE *out;
    bool collecting;            /* first pass: find what to declare */
    VEC(Type *) order;          /* declarations, dependencies first */
    Type *owner;                /* the struct whose fields are being listed */
    StrMap state;               /* "s:name"/"e:name" -> 1 busy, 2 done */
} Gen;

static const char *spell(Gen *g, Type *t, const char **note);
static void visit(Gen *g, Type *t);

/* Names ksc reads as something else: these kernel types are not declared. */
static bool reserved_name(const char *s)
{
    static const char *const names[] = {
        "fn", "var", "const", "config", "local", "pin", "type", "struct", "enum", "impl", "if",
        "else", "for", "in", "while", "loop", "break", "continue", "return", "match", "default",
        "try", "catch", "throw", "defer", "delete", "import", "from", "include", "extern", "pub",
        "priv", "true", "false", "null", "as", "sizeof", "u8", "u16", "u32", "u64", "i8", "i16",
        "i32", "i64", "bool", "char", "void", "str", "ProgramHandle", "PerfAttachment", NULL,
    };
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], s))
            return true;
    return builtin_type(s) != NULL;
}

static const char *key_of(Type *t)
{
    return xfmt("%c:%s", t->kind == TY_ENUM ? 'e' : 's', t->name);
}

/* A kernel struct or enum this header can declare and refer to by name. */
static bool declarable(Type *t)
{
    if (!t->name || reserved_name(t->name))
        return false;
    if (t->kind == TY_STRUCT)
        return true;
    return t->kind == TY_ENUM && (t->size == 4 || t->size == 8) && t->nvals > 0;
}

static bool declared(Gen *g, Type *t)
{
    return declarable(t) && (intptr_t)strmap_get(&g->state, key_of(t)) == 2;
}

static const char *int_spelling(Type *t)
{
    switch (t->kind) {
    case TY_BOOL: return "bool";
    case TY_CHAR: return "char";
    case TY_INT: case TY_ENUM:
        return xfmt("%c%d", t->is_signed ? 'i' : 'u', t->size * 8);
    default: return NULL;
    }
}

static const char *fn_spelling(Gen *g, Type *f, const char **names)
{
    char *s = "fn(";
    for (int i = 0; i < f->nparams; i++) {
        const char *p = spell(g, f->params[i], NULL);
        bool named = names && names[i] && strncmp(names[i], "arg", 3);
        s = xfmt("%s%s%s%s%s", s, i ? ", " : "", named ? names[i] : "", named ? ": " : "", p ? p : "*u8");
    }
    const char *r = f->ret->kind == TY_VOID ? NULL : spell(g, f->ret, NULL);
    return r ? xfmt("%s) -> %s", s, r) : xfmt("%s)", s);
}

static const char *ptr_spelling(Gen *g, Type *t, const char **note)
{
    Type *b = t->base;
    if (b->kind == TY_FUNC)
        return fn_spelling(g, b, NULL);
    if (b->kind == TY_STRUCT || b->kind == TY_UNION) {
        if (!g->collecting && declared(g, b))
            return xfmt("*%s", b->name);
        if (note)
            *note = xfmt("*%s%s", b->kind == TY_UNION ? "union " : "", b->name ? b->name : "<anonymous>");
        return "*u8";
    }
    const char *s = b->kind == TY_VOID ? NULL : spell(g, b, NULL);
    return s ? xfmt("*%s", s) : "*u8";
}

/* The KernelScript spelling of a field type; NULL when there is none. */
static const char *spell(Gen *g, Type *t, const char **note)
{
    switch (t->kind) {
    case TY_BOOL: case TY_CHAR: case TY_INT:
        return int_spelling(t);
    case TY_ENUM:
        if (declarable(t)) {
            visit(g, t);
            return t->name;
        }
        if (note)
            *note = xfmt("enum %s", t->name ? t->name : "<anonymous>");
        return int_spelling(t);
    case TY_PTR:
        return ptr_spelling(g, t, note);
    case TY_FUNC:
        return fn_spelling(g, t, NULL);
    case TY_ARRAY: {
        const char *e = t->len > 0 ? spell(g, t->base, note) : NULL;
        return e ? xfmt("%s[%ld]", e, t->len) : NULL;
    }
    case TY_STRUCT:
        if (declarable(t)) {
            visit(g, t);
            return t->name;
        }
        /* fall through */
    default:
        return NULL;
    }
}

static const char *describe(Type *t)
{
    if (t->kind == TY_UNION || t->kind == TY_STRUCT) {
        const char *s = t->kind == TY_UNION ? "union" : "struct";
        if (t->name)
            return xfmt("%s %s", s, t->name);
        char *m = "";
        for (int i = 0; i < t->nmembers && i < 6; i++)
            m = xfmt("%s%s%s", m, i ? ", " : "", t->members[i].name ? t->members[i].name : "...");
        return xfmt("%s { %s%s }", s, m, t->nmembers > 6 ? ", ..." : "");
    }
    return type_name(t);
}

static void add_field(Gen *g, FieldVec *fs, const char *name, int off, Type *t, const char *note)
{
    if (t->incomplete)
        kernel_complete(t);
    Field f = { .name = name, .off = off, .size = t->size, .align = t->align ? t->align : 1, .note = note };
    const char *n2 = NULL;
    const char **names = NULL;
    /* struct_ops members: the parameter names BTF has */
    if (t->kind == TY_PTR && t->base->kind == TY_FUNC && g->owner && !g->collecting
        && kernel_member_func(g->owner, name, &names))
        f.ty = fn_spelling(g, t->base, names);
    else
        f.ty = spell(g, t, &n2);
    if (n2)
        f.note = note ? xfmt("%s; %s", n2, note) : n2;
    if (!f.ty && t->kind == TY_ARRAY && t->len == 0) {
        f.comment_only = true;
        f.note = xfmt("%s: %s[] (flexible array, not declared)", name, describe(t->base));
    } else if (!f.ty) {
        f.ty = xfmt("u8[%d]", t->size > 0 ? t->size : 1);
        f.align = 1;
        f.note = note ? xfmt("%s; %s", describe(t), note) : describe(t);
    }
    vpush(*fs, f);
}

static void flatten(Gen *g, Type *t, int base, FieldVec *fs);

/* A run of bitfields sharing storage becomes one integer field. */
static int bitfield_group(Gen *g, Type *t, int i, int base, FieldVec *fs)
{
    Member *m = &t->members[i];
    int lo = m->offset, hi = m->offset + m->ty->size;
    const char *first = NULL;
    char *bits = "";
    int j = i;
    for (; j < t->nmembers && t->members[j].bit_size; j++) {
        Member *b = &t->members[j];
        if (j > i && (b->offset >= hi || b->offset + b->ty->size <= lo))
            break;
        lo = b->offset < lo ? b->offset : lo;
        hi = b->offset + b->ty->size > hi ? b->offset + b->ty->size : hi;
        first = first ? first : b->name;
        bits = xfmt("%s%s%s:%d", bits, *bits ? " " : "", b->name ? b->name : "_", b->bit_size);
    }
    int len = hi - lo;
    Type *ty = (len == 1 || len == 2 || len == 4 || len == 8) && lo % len == 0 ? int_type(len, false)
                                                                              : array_of(ty_u8, len);
    if (first)
        add_field(g, fs, first, base + lo, ty, xfmt("bitfields: %s", bits));
    return j - 1;
}

/* An anonymous union: its largest alternative (the first of equals). */
static void flatten_union(Gen *g, Type *u, int base, FieldVec *fs)
{
    if (u->incomplete)
        kernel_complete(u);
    int k = -1;
    char *others = "";
    for (int i = 0; i < u->nmembers; i++) {
        Member *m = &u->members[i];
        bool anon_struct = !m->name && m->ty->kind == TY_STRUCT;
        /* the largest; of equals, an anonymous struct (it names the most fields) */
        if (k < 0 || m->ty->size > u->members[k].ty->size
            || (m->ty->size == u->members[k].ty->size && anon_struct && u->members[k].name))
            k = i;
    }
    for (int i = 0; i < u->nmembers; i++)
        if (i != k)
            others = xfmt("%s%s%s", others, *others ? ", " : "",
                          u->members[i].name ? u->members[i].name : describe(u->members[i].ty));
    if (k < 0)
        return;
    Member *m = &u->members[k];
    const char *note = *others ? xfmt("union, also: %s", others) : NULL;
    if (!m->name && m->ty->kind == TY_STRUCT)
        flatten(g, m->ty, base + m->offset, fs);
    else if (!m->name && m->ty->kind == TY_UNION)
        flatten_union(g, m->ty, base + m->offset, fs);
    else if (m->name)
        add_field(g, fs, m->name, base + m->offset, m->ty, note);
}

static void flatten(Gen *g, Type *t, int base, FieldVec *fs)
{
    if (t->incomplete)
        kernel_complete(t);
    for (int i = 0; i < t->nmembers; i++) {
        Member *m = &t->members[i];
        if (!m->name && m->ty->kind == TY_STRUCT)
            flatten(g, m->ty, base + m->offset, fs);
        else if (!m->name && m->ty->kind == TY_UNION)
            flatten_union(g, m->ty, base + m->offset, fs);
        else if (m->bit_size)
            i = bitfield_group(g, t, i, base, fs);
        else if (m->name)
            add_field(g, fs, m->name, base + m->offset, m->ty, NULL);
    }
}

/* ---- layout ------------------------------------------------------------ */

static int align_up(int n, int a) { return a > 1 ? (n + a - 1) / a * a : n; }

static bool needs_packed(Type *t, FieldVec *fs)
{
    int maxal = 1;
    for (int i = 0; i < fs->n; i++) {
        Field *f = &fs->v[i];
        if (f->comment_only)
            continue;
        if (f->off % f->align)
            return true;
        maxal = f->align > maxal ? f->align : maxal;
    }
    return t->size % maxal != 0;
}

/* Turns f into bytes reaching up to `end`. */
static void widen(Field *f, int end)
{
    f->note = f->note ? xfmt("%s, then padding; %s", f->ty, f->note) : xfmt("%s, then padding", f->ty);
    f->size = end - f->off;
    f->ty = xfmt("u8[%d]", f->size);
    f->align = 1;
}

/* Makes the natural (or packed) layout of the fields match the kernel's. */
static void fix_gaps(FieldVec *fs, bool packed)
{
    int cur = 0;
    Field *prev = NULL;
    for (int i = 0; i < fs->n; i++) {
        Field *f = &fs->v[i];
        if (f->comment_only)
            continue;
        if (f->off < cur) {     /* overlaps what is already there */
            f->comment_only = true;
            f->note = xfmt("%s: %s at offset %d (overlaps)", f->name, f->ty, f->off);
            continue;
        }
        int a = packed ? 1 : f->align;
        if (f->off > align_up(cur, a) && prev)
            widen(prev, f->off);
        cur = f->off + f->size;
        prev = f;
    }
    /* Tail padding (a cache-line aligned ops struct) is left out rather
     * than turning a function pointer into bytes; a container holding the
     * struct by value widens that member instead. */
}

/* ---- output ------------------------------------------------------------ */

static void print_struct(Gen *g, Type *t)
{
    FieldVec fs = { 0 };
    g->owner = t;
    flatten(g, t, 0, &fs);
    g->owner = NULL;
    bool packed = needs_packed(t, &fs);
    fix_gaps(&fs, packed);
    fprintf(g->out, "\n// struct %s: %d bytes\n%sstruct %s {\n", t->name, t->size, packed ? "@packed " : "", t->name);
    for (int i = 0; i < fs.n; i++) {
        Field *f = &fs.v[i];
        if (f->comment_only)
            fprintf(g->out, "    // %s\n", f->note);
        else if (f->note)
            fprintf(g->out, "    %s: %s,    // %s\n", f->name, f->ty, f->note);
        else
            fprintf(g->out, "    %s: %s,\n", f->name, f->ty);
    }
    int end = 0, maxal = 1;
    for (int i = 0; i < fs.n; i++)
        if (!fs.v[i].comment_only) {
            end = fs.v[i].off + fs.v[i].size;
            maxal = fs.v[i].align > maxal ? fs.v[i].align : maxal;
        }
    end = packed ? end : align_up(end, maxal);
    if (end < t->size)
        fprintf(g->out, "    // and %d bytes of padding in the kernel's layout\n", t->size - end);
    fprintf(g->out, "}\n");
}

static void print_enum(Gen *g, Type *t)
{
    fprintf(g->out, "\nenum %s {\n", t->name);
    for (int i = 0; i < t->nvals; i++) {
        i128 v = t->vals[i].val;
        if (v < 0)
            fprintf(g->out, "    %s = -%llu,\n", t->vals[i].name, (unsigned long long)-v);
        else
            fprintf(g->out, "    %s = %llu,\n", t->vals[i].name, (unsigned long long)v);
    }
    fprintf(g->out, "}\n");
}

/* Depth first: what t contains by value is declared before t. */
static void visit(Gen *g, Type *t)
{
    if (!g->collecting || !declarable(t))
        return;
    const char *key = key_of(t);
    if (strmap_get(&g->state, key))
        return;
    strmap_put(&g->state, key, (void *)1);
    if (t->kind == TY_STRUCT) {
        FieldVec fs = { 0 };
        flatten(g, t, 0, &fs);
    }
    strmap_put(&g->state, key, (void *)2);
    vpush(g->order, t);
}

static void emit_all(Gen *g)
{
    g->collecting = false;
    for (int i = 0; i < g->order.n; i++) {
        if (g->order.v[i]->kind == TY_ENUM)
            print_enum(g, g->order.v[i]);
        else
            print_struct(g, g->order.v[i]);
    }
}

/* ---- program kinds ----------------------------------------------------- */

static int header_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ksc: error: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 1;
}

static bool add_root(Gen *g, const char *name)
{
    Type *t = kernel_type(name);
    if (!t || !declarable(t))
        return false;
    visit(g, t);
    return true;
}

/* trace_event_raw_EVENT, or the template's struct for the syscalls. */
static const char *tracepoint_struct(const char *ev)
{
    const char *slash = strchr(ev, '/');
    const char *event = slash ? slash + 1 : ev;
    if (!slash || !*event)
        return NULL;
    if (!strncmp(ev, "syscalls/", 9) && !strncmp(event, "sys_enter_", 10))
        return "trace_event_raw_sys_enter";
    if (!strncmp(ev, "syscalls/", 9) && !strncmp(event, "sys_exit_", 9))
        return "trace_event_raw_sys_exit";
    return xfmt("trace_event_raw_%s", event);
}

/* Does the class name (without "_template") begin the event's name? */
static bool class_prefix(const char *cls, const char *event)
{
    size_t n = strlen(cls);
    if (n > 9 && !strcmp(cls + n - 9, "_template"))
        n -= 9;
    return !strncmp(cls, event, n) && (event[n] == 0 || event[n] == '_');
}

/* A DEFINE_EVENT tracepoint has its class's struct. Classes with the
 * event's prototype are candidates; one whose name begins the event's
 * (block_rq for block_rq_issue) is taken, else the candidates are named
 * and the user picks: `ksc headers tracepoint/CAT/CLASS`. */
static int tracepoint_roots(Gen *g, const char *ev)
{
    const char *s = tracepoint_struct(ev);
    if (!s)
        return header_error("write the tracepoint as tracepoint/CATEGORY/EVENT, not '%s'", ev);
    if (add_root(g, s))
        return 0;
    const char *event = strchr(ev, '/') + 1, *cands[16], *pick = NULL;
    int n = kbtf_trace_templates(event, cands, 16), npick = 0;
    for (int i = 0; i < n; i++)
        if (class_prefix(cands[i], event))
            pick = cands[i], npick++;
    if (npick == 1 && add_root(g, xfmt("trace_event_raw_%s", pick)))
        return 0;
    header_error("kernel BTF has no struct %s for this tracepoint", s);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "  note: its event class may be %s (struct trace_event_raw_%s)\n", cands[i], cands[i]);
    if (n)
        fprintf(stderr, "  help: name the class instead: ksc headers tracepoint/%.*s/CLASS\n",
                (int)(event - ev - 1), ev);
    return 1;
}

/* The structs a probed function's parameters point to or hold. */
static int probe_roots(Gen *g, const char *fn)
{
    const char **names = NULL;
    Type *ft = kernel_func(fn, &names);
    if (!ft)
        return header_error("kernel BTF has no function '%s'", fn);
    for (int i = 0; i < ft->nparams; i++) {
        Type *p = ft->params[i];
        Type *s = p->kind == TY_PTR ? p->base : p;
        if (s->incomplete)
            kernel_complete(s);
        visit(g, s);
    }
    g->collecting = false;      /* spell pointers to what the header declares */
    const char *sig = fn_spelling(g, ft, names) + 2;   /* "(sk: *sock) -> i32" */
    fprintf(g->out, "\n// @probe(\"%s\") fn %s%s\n", fn, fn, sig);
    g->collecting = true;
    return 0;
}

/* struct_ops: the ops struct, its function pointers as fn types with the
 * parameter names BTF has. */
static int struct_ops_roots(Gen *g, const char *name)
{
    if (!add_root(g, name))
        return header_error("kernel BTF has no struct '%s'", name);
    return 0;
}

static int collect(Gen *g, const char *kind)
{
    if (!strcmp(kind, "xdp"))
        return add_root(g, "xdp_md") && add_root(g, "xdp_action") ? 0 : header_error("%s: no kernel type xdp_md", kind);
    if (!strcmp(kind, "tc"))
        return add_root(g, "__sk_buff") ? 0 : header_error("%s: no kernel type __sk_buff", kind);
    if (!strncmp(kind, "tracepoint/", 11))
        return tracepoint_roots(g, kind + 11);
    if (!strncmp(kind, "probe/", 6))
        return probe_roots(g, kind + 6);
    if (!strncmp(kind, "struct_ops/", 11))
        return struct_ops_roots(g, kind + 11);
    fprintf(stderr, "ksc: error: unknown header kind '%s'\n"
                    "  help: ksc headers xdp | tc | tracepoint/CAT/EVENT | probe/FUNC | struct_ops/NAME\n", kind);
    return 2;
}

int kbtf_write_header(const char *kind, FILE *out)
{
    if (!kind || !out)
        return 2;
    if (!ty_u8)                 /* `ksc headers` runs without the front end */
        types_init();
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return 1;
    Gen g = { .out = mem, .collecting = true };
    bool btf = kbtf_available();
    if (!btf && strcmp(kind, "xdp") && strcmp(kind, "tc")) {
        fclose(mem);
        free(buf);
        return header_error("'ksc headers %s' needs kernel BTF (/sys/kernel/btf/vmlinux)", kind);
    }
    int rc = collect(&g, kind);
    if (!rc)
        emit_all(&g);
    fclose(mem);
    if (!rc) {
        fprintf(out, "// Generated by `ksc headers %s` from %s.\n", kind,
                btf ? "kernel BTF" : "ksc's built-in kernel types (no kernel BTF here)");
        fwrite(buf, 1, len, out);
    }
    free(buf);
    return rc;
}
