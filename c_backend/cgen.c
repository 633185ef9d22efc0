/* The userspace back end, program level: the maps, globals and pinned
 * globals the C side reaches, every userspace function, the entry point
 * (main with its command-line options, or the @test runner), the embedded
 * object and runtime, all put together in one C file. */
#include "c_backend/cgen_int.h"

#include <stdarg.h>
#include <string.h>

Cg G;

extern const struct { const char *name, *text; } ksc_embedded[];

void cg_error(Pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    error_at(pos, "%s", buf);
}

static bool is_user(Func *f) { return f->target == TGT_USER && f->body; }
static bool is_test(Func *f) { return f->target == TGT_TEST && f->body; }

static Func *find_main(Program *p)
{
    for (int i = 0; i < p->funcs.n; i++)
        if (p->funcs.v[i]->is_main)
            return p->funcs.v[i];
    return NULL;
}

static bool has_tests(Program *p)
{
    for (int i = 0; i < p->funcs.n; i++)
        if (is_test(p->funcs.v[i]))
            return true;
    return false;
}

bool cgen_needed(Program *p) { return find_main(p) || has_tests(p); }

/* ---- maps and globals -------------------------------------------------------- */

static void declare_map(Global *g)
{
    Type *t = g->ty;
    bool kv = t->map != MAP_RINGBUF && t->map != MAP_PROG_ARRAY && t->map != MAP_PERF_EVENT_ARRAY;
    const char *ks = kv ? xfmt("sizeof(%s)", ctype(t->key)) : t->map == MAP_RINGBUF ? "0" : "4";
    const char *vs = kv ? xfmt("sizeof(%s)", ctype(t->base)) : t->map == MAP_RINGBUF ? "0" : "4";
    bool percpu = map_is_percpu(t->map);
    cb_fmt(&G.globals, "static __attribute__((unused)) ks_map %s = { .name = %s, .key_size = %s, .value_size = %s", cmap(g),
         cquote(g->name, (int)strlen(g->name)), ks, vs);
    if (percpu)
        cb_fmt(&G.globals, ", .percpu = true, .sum = %s", sum_fn(t->base));
    cb_put(&G.globals, " };\n");
}

/* The pinned globals' map value: every pin var, in declaration order,
 * laid out as the BPF object lays it out. */
static Type *pins_type(Program *p)
{
    VEC(Member) ms = { 0 };
    for (int i = 0; i < p->globals.n; i++) {
        Global *g = p->globals.v[i];
        if (g->kind == GV_PIN)
            vpush(ms, ((Member){ .name = g->name, .ty = g->ty, .init = g->init, .pos = g->pos }));
    }
    if (!ms.n)
        return NULL;
    Type *st = new_type(TY_STRUCT, 0, 1);
    st->name = "pinned_globals_t";
    st->members = ms.v;
    st->nmembers = ms.n;
    struct_layout(st);
    return st;
}

/* Written into the pin when the program creates it, never over an
 * existing one: that is what makes the values survive a run. */
static void pins_init(Type *st)
{
    cb_fmt(&G.globals, "static %s;\n", cdecl(st, "ks_pinv"));
    CBuf b = { 0 };
    CBuf *saved = G.out;
    G.out = &b;
    G.ind = 4;
    G.fn = NULL;
    G.handler = "ks_exit";
    cg_out("memset(&ks_pinv, 0, sizeof ks_pinv);");
    for (int i = 0; i < st->nmembers; i++)
        if (st->members[i].init)
            cg_out("ks_pinv.%s = %s;", cmember(st->members[i].name), cx(st->members[i].init));
    cg_out("ks_pins_write(&ks_pinv, sizeof ks_pinv);");
    G.out = saved;
    cb_fmt(&G.funcs, "static void ks_pins_init(void)\n{\n%s}\n\n", cb_str(&b));
}

static void declare_globals(Program *p, CBuf *init)
{
    for (int i = 0; i < p->globals.n; i++) {
        Global *g = p->globals.v[i];
        if (g->kind == GV_MAP) {
            declare_map(g);
        } else if (g->kind == GV_VAR || g->kind == GV_CONFIG) {
            cb_fmt(&G.globals, "static __attribute__((unused)) %s;\n", cdecl(pointer_to(g->ty), cglobal(g)));
            cb_fmt(init, "    %s = ks_global(%s, sizeof *%s);\n", cglobal(g), cquote(g->name, (int)strlen(g->name)),
                 cglobal(g));
        }
    }
}

/* ---- main -------------------------------------------------------------------------- */

static const char *opt_kind(Member *m)
{
    Type *t = m->ty;
    if (t->kind == TY_BOOL)
        return "KS_OPT_BOOL";
    if (t->kind == TY_STR)
        return "KS_OPT_STR";
    if (is_intlike(t))
        return int_of(t)->is_signed ? "KS_OPT_INT" : "KS_OPT_UINT";
    cg_error(m->pos, "option '--%s' has type %s; main's options are integers, bool or str(N)", m->name,
             type_name(t));
    return NULL;
}

/* main(args: S): a table of S's fields for the runtime's getopt_long. */
static void options(CBuf *b, Func *f)
{
    if (!f->params.n) {
        cb_put(b, "    ks_parse_args(argc, argv, NULL, 0, NULL);\n");
        cb_put(b, "    ks_rt_open();\n    ks_init_globals();\n");
        cb_fmt(b, "    int32_t ks_rc = %s();\n", cfunc(f));
        return;
    }
    Type *st = f->params.v[0]->ty;
    const char *ct = ctype(st);
    cb_fmt(b, "    %s ks_args;\n    memset(&ks_args, 0, sizeof ks_args);\n", ct);
    cb_put(b, "    static const ks_opt ks_opts[] = {\n");
    int n = 0;
    for (int i = 0; i < st->nmembers; i++) {
        Member *m = &st->members[i];
        const char *k = m->name ? opt_kind(m) : NULL;
        if (!k)
            continue;
        cb_fmt(b, "        { %s, %s, offsetof(%s, %s), sizeof ks_args.%s, %s },\n", cquote(m->name, (int)strlen(m->name)),
             k, ct, cmember(m->name), cmember(m->name), cquote(type_name(m->ty), (int)strlen(type_name(m->ty))));
        n++;
    }
    cb_put(b, "    };\n");
    cb_fmt(b, "    ks_parse_args(argc, argv, %s, %d, &ks_args);\n", n ? "ks_opts" : "NULL", n);
    cb_put(b, "    ks_rt_open();\n    ks_init_globals();\n");
    cb_fmt(b, "    int32_t ks_rc = %s(ks_args);\n", cfunc(f));
}

static void write_main(CBuf *b, Func *f)
{
    cb_put(b, "int main(int argc, char **argv)\n{\n    ks_rt_init(&ks_program, argc, argv);\n");
    options(b, f);
    cb_put(b, "    if (ks_exc)\n        ks_rc = ks_uncaught();\n    ks_exit(ks_rc);\n}\n");
}

/* Each @test behind a wrapper that says how it ended: it fails when it
 * throws, returns a non-zero integer or returns false. */
static void write_test_main(CBuf *b, Program *p)
{
    CBuf table = { 0 };
    int n = 0;
    for (int i = 0; i < p->funcs.n; i++) {
        Func *f = p->funcs.v[i];
        if (!is_test(f))
            continue;
        if (f->params.n) {
            cg_error(f->pos, "a @test function takes no parameters");
            continue;
        }
        cb_fmt(b, "static int ks_test%d(int64_t *detail)\n{\n", n);
        Type *r = f->ret;
        if (is_intlike(r) || r->kind == TY_BOOL)
            cb_fmt(b, "    %s = %s();\n", cdecl(r, "r"), cfunc(f));
        else
            cb_fmt(b, "    %s();\n", cfunc(f));
        cb_put(b, "    if (ks_exc) {\n        *detail = ks_exc_code;\n        return 2;\n    }\n");
        if (r->kind == TY_BOOL)
            cb_put(b, "    *detail = r;\n    return r ? 0 : 1;\n}\n\n");
        else if (is_intlike(r))
            cb_put(b, "    *detail = (int64_t)r;\n    return r ? 1 : 0;\n}\n\n");
        else
            cb_put(b, "    return 0;\n}\n\n");
        cb_fmt(&table, "        { %s, ks_test%d },\n", cquote(f->name, (int)strlen(f->name)), n++);
    }
    cb_put(b, "int main(int argc, char **argv)\n{\n");
    cb_put(b, "    ks_rt_init(&ks_program, argc, argv);\n    ks_rt_open();\n    ks_init_globals();\n");
    if (n)
        cb_fmt(b, "    static const ks_test ks_tests[] = {\n%s    };\n", cb_str(&table));
    cb_fmt(b, "    return ks_run_tests(%s, %d, argc, argv);\n}\n", n ? "ks_tests" : "NULL", n);
}

/* ---- the file ------------------------------------------------------------------------ */

static void write_runtime(FILE *out)
{
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; ksc_embedded[i].name; i++) {
            const char *name = ksc_embedded[i].name;
            bool header = strlen(name) > 2 && !strcmp(name + strlen(name) - 2, ".h");
            if (header != (pass == 0))
                continue;
            fprintf(out, "/* ---- runtime/%s ---- */\n", name);
            for (const char *l = ksc_embedded[i].text; *l;) {
                const char *e = strchr(l, '\n');
                size_t len = e ? (size_t)(e - l + 1) : strlen(l);
                if (strncmp(l, "#include \"ksrt.h\"", 17))
                    fwrite(l, 1, len, out);
                l += len;
            }
        }
}

static void write_object(FILE *out, const unsigned char *obj, size_t len)
{
    if (!obj || !len)
        return;
    fprintf(out, "/* the BPF object, %zu bytes */\nstatic unsigned char ks_object[] __attribute__((aligned(8))) = {", len);
    for (size_t i = 0; i < len; i++)
        fprintf(out, "%s0x%02x,", i % 16 ? " " : "\n    ", obj[i]);
    fputs("\n};\n\n", out);
}

static void write_config(FILE *out, Program *p, bool has_obj, bool pins)
{
    const CgenOpts *o = G.opts;
    fprintf(out, "static ks_config ks_program = {\n    .project = %s,\n", cquote(p->project, (int)strlen(p->project)));
    if (has_obj)
        fputs("    .obj = ks_object,\n    .obj_len = sizeof ks_object,\n", out);
    if (o->kmod_name)
        fprintf(out, "    .kmod_name = %s,\n    .kmod_path = %s,\n", cquote(o->kmod_name, (int)strlen(o->kmod_name)),
                cquote(o->kmod_path, (int)strlen(o->kmod_path)));
    if (pins)
        fputs("    .pins_init = ks_pins_init,\n", out);
    fputs("};\n\n", out);
}

static void write_file(FILE *out, Program *p, const unsigned char *obj, size_t len, bool pins, const char *entry)
{
    fprintf(out, "/* Generated by ksc from %s: its userspace program. Do not edit. */\n", p->path);
    fputs("#define _GNU_SOURCE\n"
          "/* comparisons the .ks file makes that C can prove constant are the file's own business */\n"
          "#pragma GCC diagnostic ignored \"-Wtype-limits\"\n"
          "#pragma GCC diagnostic ignored \"-Wtautological-compare\"\n\n", out);
    write_runtime(out);
    fputs("\n/* ---- types ---- */\n", out);
    fputs(cb_str(&G.fwd), out);
    fputs(cb_str(&G.fntypes), out);
    fputs(cb_str(&G.defs), out);
    fputs("\n/* ---- maps and globals ---- */\n", out);
    fputs(cb_str(&G.support), out);
    fputs(cb_str(&G.globals), out);
    fputs("\n/* ---- functions ---- */\n", out);
    fputs(cb_str(&G.protos), out);
    fputs("\n", out);
    fputs(cb_str(&G.funcs), out);
    write_object(out, obj, len);
    write_config(out, p, obj && len, pins);
    fputs(entry, out);
}

int cgen_emit_opts(Program *p, const unsigned char *obj, size_t obj_len, FILE *out, const CgenOpts *o)
{
    memset(&G, 0, sizeof G);
    G.p = p;
    G.opts = o;
    int errors = diag_errors();
    Func *main_fn = find_main(p);
    if (!o->tests && !main_fn) {
        error_at(p->decls.n ? p->decls.v[0].pos : (Pos){ 0 }, "this file has no main function");
        return 1;
    }
    find_throwers(p);
    CBuf init = { 0 };
    declare_globals(p, &init);
    Type *pt = pins_type(p);
    if (pt)
        pins_init(pt);
    for (int i = 0; i < p->funcs.n; i++) {
        Func *f = p->funcs.v[i];
        if (is_user(f) || (o->tests && is_test(f)))
            cg_function(f);
    }
    cb_fmt(&G.funcs, "static void ks_init_globals(void)\n{\n%s}\n\n", cb_str(&init));
    CBuf entry = { 0 };
    if (o->tests)
        write_test_main(&entry, p);
    else
        write_main(&entry, main_fn);
    cg_types_flush();
    if (diag_errors() > errors)
        return 1;
    write_file(out, p, obj, obj_len, pt != NULL, cb_str(&entry));
    return ferror(out) ? 1 : 0;
}

int cgen_emit(Program *p, const unsigned char *obj, size_t obj_len, FILE *out)
{
    CgenOpts o = { .tests = !find_main(p) && has_tests(p) };
    return cgen_emit_opts(p, obj, obj_len, out, &o);
}
