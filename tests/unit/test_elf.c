/* The object writer: objects described by hand with raw instructions,
 * written to /tmp, opened and loaded by libbpf into this kernel, run with
 * BPF_PROG_TEST_RUN, inspected with libelf and bpftool, and passed
 * through tests/e2e/objcheck.sh. Nothing is attached. */
#include "tests/unit/unit.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btf/ksbtf.h"
#include "elf/obj.h"

#define I(c, d, s, o, i) \
    ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOVI(d, i) I(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOVR(d, s) I(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADDI(d, i) I(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ADDR(d, s) I(BPF_ALU64 | BPF_ADD | BPF_X, d, s, 0, 0)
#define LD64(d) I(BPF_LD | BPF_DW | BPF_IMM, d, 0, 0, 0), I(0, 0, 0, 0, 0)
#define LDX(sz, d, s, o) I(BPF_LDX | BPF_MEM | (sz), d, s, o, 0)
#define STX(sz, d, s, o) I(BPF_STX | BPF_MEM | (sz), d, s, o, 0)
#define JEQI(d, i, o) I(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define CALL(i) I(BPF_JMP | BPF_CALL, 0, 0, 0, i)
#define EXIT I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)
#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
#define PROG(nm, sec, ins) \
    ((ObjProg){ .name = nm, .section = sec, .insns = ins, .ninsns = N(ins) })

typedef struct Fix { struct btf *btf; BtfGen *g; int ctx_proto, int_proto; } Fix;

static Fix fix_new(void)
{
    unit_reset();
    Fix f = { .btf = btf__new_empty() };
    f.g = btfgen_new(f.btf);
    Type *ctx = pointer_to(ty_void);
    const char *cn[] = { "ctx" }, *xn[] = { "x" };
    f.ctx_proto = btfgen_proto(f.g, ty_i32, &ctx, cn, 1);
    f.int_proto = btfgen_proto(f.g, ty_i32, &ty_i32, xn, 1);
    return f;
}

static void fix_free(Fix *f)
{
    btfgen_free(f->g);
    btf__free(f->btf);
}

static const char *tmp_path(const char *name)
{
    return xfmt("/tmp/ksc-unit-%d-%s.o", (int)getpid(), name);
}

static struct bpf_object *load(const char *path)
{
    struct bpf_object *obj = bpf_object__open_file(path, NULL);
    if (!obj)
        return NULL;
    if (bpf_object__load(obj)) {
        bpf_object__close(obj);
        return NULL;
    }
    return obj;
}

static int run_prog(struct bpf_object *obj, const char *name)
{
    struct bpf_program *p = bpf_object__find_program_by_name(obj, name);
    if (!p)
        return -1000;
    char pkt[64] = { 0 };
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof pkt, .repeat = 1);
    if (bpf_prog_test_run_opts(bpf_program__fd(p), &o))
        return -1001;
    return (int)o.retval;
}

static char *run_cmd(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    if (!p) {
        *status = -1;
        return xstrdup("");
    }
    char buf[4096];
    char *out = xstrdup("");
    size_t n;
    while ((n = fread(buf, 1, sizeof buf - 1, p)) > 0) {
        buf[n] = 0;
        out = xfmt("%s%s", out, buf);
    }
    *status = pclose(p);
    return out;
}

/* Every objcheck line for the object must be a PASS. */
static void objcheck(const char *path)
{
    int st;
    char *out = run_cmd(xfmt("tests/e2e/objcheck.sh %s 2>&1", path), &st);
    if (st != 0 || strstr(out, "FAIL") || !strstr(out, "PASS"))
        fprintf(stderr, "objcheck output:\n%s", out);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_PTR_NULL(strstr(out, "FAIL"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "PASS objcheck/load"));
}

static uint32_t prog_id(struct bpf_object *obj, const char *name)
{
    struct bpf_program *p = bpf_object__find_program_by_name(obj, name);
    struct bpf_prog_info info = { 0 };
    uint32_t len = sizeof info;
    if (!p || bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
        return 0;
    return info.id;
}

/* ---- an XDP program looking up an array map, with line info ------------- */

static void test_xdp_map(void)
{
    Fix f = fix_new();
    struct bpf_insn ins[] = {
        MOVI(1, 0),
        STX(BPF_W, 10, 1, -4),
        MOVR(2, 10),
        ADDI(2, -4),
        LD64(1),
        CALL(BPF_FUNC_map_lookup_elem),
        JEQI(0, 0, 3),
        LDX(BPF_DW, 1, 0, 0),
        ADDI(1, 1),
        STX(BPF_DW, 0, 1, 0),
        MOVI(0, XDP_PASS),
        EXIT,
    };
    ObjReloc rel[] = { { 4, RELO_MAP, "counts" } };
    ObjLine lines[] = {
        { 1, "test.ks", 3, 5, "    var k: u32 = 0" },
        { 4, "test.ks", 4, 9, "    if (var v = counts[k]) {" },
        { 8, "test.ks", 5, 9, "        v += 1" },
        { 11, "test.ks", 7, 5, "    return XDP_PASS" },
    };
    ObjProg prog = PROG("count_pkts", "xdp", ins);
    prog.relocs = rel;
    prog.nrelocs = N(rel);
    prog.lines = lines;
    prog.nlines = N(lines);
    prog.btf_proto = f.ctx_proto;
    ObjMap map = { .name = "counts", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8,
                   .max_entries = 4, .key_btf = btfgen_type(f.g, ty_u32),
                   .value_btf = btfgen_type(f.g, ty_u64), .numa_node = -1 };
    Obj o = { .btf = f.btf, .license = "GPL", .progs = &prog, .nprogs = 1, .maps = &map,
              .nmaps = 1 };
    const char *path = tmp_path("xdp"), *again = tmp_path("xdp2");
    unsigned ntypes = btf__type_cnt(f.btf);
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    /* the caller's BTF is left alone, and a second write is identical */
    CU_ASSERT_EQUAL(btf__type_cnt(f.btf), ntypes);
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, again), 0);
    size_t n1, n2;
    char *b1 = read_file(path, &n1), *b2 = read_file(again, &n2);
    CU_ASSERT_TRUE(b1 && b2 && n1 == n2 && !memcmp(b1, b2, n1));
    unlink(again);
    struct bpf_object *obj = load(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    CU_ASSERT_EQUAL(run_prog(obj, "count_pkts"), XDP_PASS);
    uint32_t key = 0;
    uint64_t val = 0;
    struct bpf_map *m = bpf_object__find_map_by_name(obj, "counts");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(bpf_map_lookup_elem(bpf_map__fd(m), &key, &val), 0);
    CU_ASSERT_EQUAL(val, 1);
    CU_ASSERT_EQUAL(bpf_map__key_size(m), 4);
    CU_ASSERT_EQUAL(bpf_map__value_size(m), 8);
    CU_ASSERT_NOT_EQUAL(bpf_map__btf_value_type_id(m), 0);
    int st;
    char *dump = run_cmd(xfmt("bpftool prog dump xlated id %u linum 2>&1",
                              prog_id(obj, "count_pkts")), &st);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(dump, "return XDP_PASS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dump, "file:test.ks line_num:7 line_col:5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(dump, "line_num:3"));
    bpf_object__close(obj);
    objcheck(path);
    unlink(path);
    fix_free(&f);
}

/* ---- .data, .rodata and static .bss globals ----------------------------- */

static void test_globals(void)
{
    Fix f = fix_new();
    struct bpf_insn ins[] = {
        LD64(1),                        /* gdata */
        LDX(BPF_W, 2, 1, 0),
        LD64(3),                        /* ro */
        LDX(BPF_W, 4, 3, 0),
        ADDR(2, 4),
        ADDI(2, 1),
        LD64(5),                        /* counter, static, second in .bss */
        STX(BPF_W, 5, 2, 0),
        LDX(BPF_W, 0, 5, 0),
        EXIT,
    };
    ObjReloc rel[] = { { 0, RELO_DATA, "gdata" }, { 3, RELO_DATA, "ro" },
                       { 8, RELO_DATA, "counter" } };
    ObjProg prog = PROG("globals", "xdp", ins);
    prog.relocs = rel;
    prog.nrelocs = N(rel);
    prog.btf_proto = f.ctx_proto;
    uint32_t five = 5, seven = 7;
    uint64_t big = 0x1122334455667788ull;
    int u32 = btfgen_type(f.g, ty_u32), u64 = btfgen_type(f.g, ty_u64);
    ObjVar vars[] = {
        { "gdata", SEC_DATA, u32, 4, 4, (uint8_t *)&five, false },
        { "wide", SEC_DATA, u64, 8, 8, (uint8_t *)&big, false },
        { "ro", SEC_RODATA, u32, 4, 4, (uint8_t *)&seven, false },
        { "first", SEC_BSS, u32, 4, 4, NULL, true },
        { "counter", SEC_BSS, u32, 4, 4, NULL, true },
        { "visible", SEC_BSS, u64, 8, 8, NULL, false },
    };
    Obj o = { .btf = f.btf, .license = "GPL", .progs = &prog, .nprogs = 1, .vars = vars,
              .nvars = N(vars) };
    const char *path = tmp_path("globals");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    struct bpf_object *obj = load(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    CU_ASSERT_EQUAL(run_prog(obj, "globals"), 13);
    struct bpf_map *bss = bpf_object__find_map_by_name(obj, ".bss");
    CU_ASSERT_PTR_NOT_NULL_FATAL(bss);
    uint32_t key = 0, val[4] = { 0 };
    CU_ASSERT_EQUAL(bpf_map__value_size(bss), 16);
    CU_ASSERT_EQUAL(bpf_map_lookup_elem(bpf_map__fd(bss), &key, val), 0);
    CU_ASSERT_EQUAL(val[0], 0);
    CU_ASSERT_EQUAL(val[1], 13);
    struct bpf_map *data = bpf_object__find_map_by_name(obj, ".data");
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    CU_ASSERT_EQUAL(bpf_map__value_size(data), 16);
    size_t sz = 0;
    const uint8_t *init = bpf_map__initial_value(data, &sz);
    CU_ASSERT_EQUAL_FATAL(sz, 16);
    CU_ASSERT_EQUAL(memcmp(init, &five, 4), 0);
    CU_ASSERT_EQUAL(memcmp(init + 8, &big, 8), 0);
    bpf_object__close(obj);

    /* static variables are local symbols and BTF_VAR_STATIC */
    struct btf *b = btf__parse(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    int id = btf__find_by_name_kind(b, "counter", BTF_KIND_VAR);
    CU_ASSERT_TRUE_FATAL(id > 0);
    CU_ASSERT_EQUAL(btf_var(btf__type_by_id(b, id))->linkage, BTF_VAR_STATIC);
    id = btf__find_by_name_kind(b, ".bss", BTF_KIND_DATASEC);
    CU_ASSERT_TRUE_FATAL(id > 0);
    const struct btf_type *ds = btf__type_by_id(b, id);
    CU_ASSERT_EQUAL(ds->size, 16);
    CU_ASSERT_EQUAL(btf_vlen(ds), 3);
    CU_ASSERT_EQUAL(btf_var_secinfos(ds)[1].offset, 4);
    CU_ASSERT_EQUAL(btf_var_secinfos(ds)[2].offset, 8);
    btf__free(b);
    objcheck(path);
    unlink(path);
    fix_free(&f);
}

/* The symbol table: binding and type of a few symbols by name. */
static int sym_info(const char *path, const char *name, int *shndx)
{
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY), info = -1;
    Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ, NULL) : NULL;
    for (Elf_Scn *s = NULL; e && (s = elf_nextscn(e, s));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_SYMTAB)
            continue;
        Elf_Data *d = elf_getdata(s, NULL);
        for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym sym;
            gelf_getsym(d, (int)i, &sym);
            const char *n = elf_strptr(e, sh.sh_link, sym.st_name);
            if (n && !strcmp(n, name)) {
                info = sym.st_info;
                *shndx = sym.st_shndx;
            }
        }
    }
    if (e)
        elf_end(e);
    if (fd >= 0)
        close(fd);
    return info;
}

/* ---- .text subprograms: a static one and a global one -------------------- */

static void test_subprogs(void)
{
    Fix f = fix_new();
    struct bpf_insn main_ins[] = {
        MOVI(1, 20), CALL(-1), MOVR(6, 0), MOVI(1, 1), CALL(-1), ADDR(0, 6), EXIT,
    };
    /* twice(x) = add1(x) + x - 1: a .text function calling another */
    struct bpf_insn twice_ins[] = { MOVR(6, 1), CALL(-1), ADDR(0, 6), ADDI(0, -1), EXIT };
    struct bpf_insn add1_ins[] = { MOVR(0, 1), ADDI(0, 1), EXIT };
    ObjReloc rel[] = { { 1, RELO_CALL, "twice" }, { 4, RELO_CALL, "add1" } };
    ObjReloc trel[] = { { 1, RELO_CALL, "add1" } };
    ObjLine ml[] = { { 0, "sub.ks", 10, 5, "    return twice(20) + add1(1)" } };
    ObjLine tl[] = { { 0, "sub.ks", 2, 5, "    return x + x" } };
    ObjProg progs[] = {
        PROG("entry", "xdp", main_ins), PROG("twice", ".text", twice_ins),
        PROG("add1", ".text", add1_ins),
    };
    progs[0].relocs = rel;
    progs[0].nrelocs = N(rel);
    progs[0].lines = ml;
    progs[0].nlines = 1;
    progs[1].lines = tl;
    progs[1].nlines = 1;
    progs[1].relocs = trel;
    progs[1].nrelocs = 1;
    progs[0].btf_proto = f.ctx_proto;
    progs[1].btf_proto = progs[2].btf_proto = f.int_proto;
    progs[2].is_static = true;
    Obj o = { .btf = f.btf, .license = "GPL", .progs = progs, .nprogs = N(progs) };
    const char *path = tmp_path("subprogs");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    int shndx = 0;
    CU_ASSERT_EQUAL(sym_info(path, "add1", &shndx), GELF_ST_INFO(STB_LOCAL, STT_FUNC));
    CU_ASSERT_EQUAL(sym_info(path, "twice", &shndx), GELF_ST_INFO(STB_GLOBAL, STT_FUNC));
    CU_ASSERT_EQUAL(sym_info(path, "entry", &shndx), GELF_ST_INFO(STB_GLOBAL, STT_FUNC));
    struct bpf_object *obj = load(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    CU_ASSERT_EQUAL(run_prog(obj, "entry"), 42);
    bpf_object__close(obj);
    objcheck(path);
    unlink(path);
    fix_free(&f);
}

/* ---- callbacks: bpf_loop with two static functions ---------------------- */

static void test_callbacks(void)
{
    Fix f = fix_new();
    /* n = 0; bpf_loop(4, add1, &n, 0); bpf_loop(2, add2, &n, 0); return n */
    struct bpf_insn main_ins[] = {
        MOVI(1, 0), STX(BPF_DW, 10, 1, -8),
        MOVI(1, 4), LD64(2), MOVR(3, 10), ADDI(3, -8), MOVI(4, 0), CALL(BPF_FUNC_loop),
        MOVI(1, 2), LD64(2), MOVR(3, 10), ADDI(3, -8), MOVI(4, 0), CALL(BPF_FUNC_loop),
        LDX(BPF_DW, 0, 10, -8), EXIT,
    };
    main_ins[3].src_reg = main_ins[10].src_reg = BPF_PSEUDO_FUNC;
    struct bpf_insn add1_ins[] = { LDX(BPF_DW, 1, 2, 0), ADDI(1, 1), STX(BPF_DW, 2, 1, 0),
                                   MOVI(0, 0), EXIT };
    struct bpf_insn add2_ins[] = { MOVI(0, 0), JEQI(2, 0, 3), LDX(BPF_DW, 1, 2, 0), ADDI(1, 2),
                                   STX(BPF_DW, 2, 1, 0), EXIT };
    ObjReloc rel[] = { { 3, RELO_CALL, "add1" }, { 10, RELO_CALL, "add2" } };
    ObjProg progs[] = { PROG("loops", "xdp", main_ins), PROG("add2", ".text", add2_ins),
                        PROG("add1", ".text", add1_ins) };
    progs[0].relocs = rel;
    progs[0].nrelocs = N(rel);
    progs[0].btf_proto = f.ctx_proto;
    Type *params[] = { ty_u32, pointer_to(ty_u64) };
    const char *names[] = { "index", "ctx" };
    progs[1].btf_proto = progs[2].btf_proto = btfgen_proto(f.g, ty_i64, params, names, 2);
    progs[1].is_static = progs[2].is_static = true;
    Obj o = { .btf = f.btf, .license = "GPL", .progs = progs, .nprogs = N(progs) };
    const char *path = tmp_path("callbacks");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    struct bpf_object *obj = load(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    CU_ASSERT_EQUAL(run_prog(obj, "loops"), 4 * 1 + 2 * 2);
    bpf_object__close(obj);
    objcheck(path);

    /* a global function's address goes through its own symbol (the kernel
     * wants static callbacks, so this one is only written) */
    progs[1].is_static = false;
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    int st;
    char *relocs = run_cmd(xfmt("llvm-readelf -r %s", path), &st);
    CU_ASSERT_PTR_NOT_NULL(strstr(relocs, "R_BPF_64_64            0000000000000000 add2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(relocs, "R_BPF_64_64            0000000000000000 .text"));
    unlink(path);
    fix_free(&f);
}

/* ---- a prog_array initialised in .maps, and a tail call ----------------- */

static void test_tail_calls(void)
{
    Fix f = fix_new();
    struct bpf_insn main_ins[] = { LD64(2), MOVI(3, 2), CALL(BPF_FUNC_tail_call),
                                   MOVI(0, XDP_PASS), EXIT };
    struct bpf_insn a_ins[] = { MOVI(0, XDP_DROP), EXIT };
    struct bpf_insn b_ins[] = { MOVI(0, XDP_TX), EXIT };
    ObjReloc rel[] = { { 0, RELO_MAP, "jumps" } };
    ObjProg progs[] = { PROG("dispatch", "xdp", main_ins), PROG("tail_a", "xdp", a_ins),
                        PROG("tail_b", "xdp", b_ins) };
    progs[0].relocs = rel;
    progs[0].nrelocs = 1;
    for (int i = 0; i < 3; i++)
        progs[i].btf_proto = f.ctx_proto;
    const char *init[] = { "tail_a", NULL, "tail_b" };
    ObjMap map = { .name = "jumps", .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4,
                   .value_size = 4, .max_entries = 4, .numa_node = -1, .prog_init = init,
                   .nprog_init = 3 };
    Obj o = { .btf = f.btf, .license = "GPL", .progs = progs, .nprogs = 3, .maps = &map,
              .nmaps = 1 };
    const char *path = tmp_path("tail");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    struct bpf_object *obj = load(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    CU_ASSERT_EQUAL(run_prog(obj, "dispatch"), XDP_TX);
    struct bpf_map *m = bpf_object__find_map_by_name(obj, "jumps");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    uint32_t key = 0, id = 0;
    CU_ASSERT_EQUAL(bpf_map_lookup_elem(bpf_map__fd(m), &key, &id), 0);
    CU_ASSERT_EQUAL(id, prog_id(obj, "tail_a"));
    key = 2;
    CU_ASSERT_EQUAL(bpf_map_lookup_elem(bpf_map__fd(m), &key, &id), 0);
    CU_ASSERT_EQUAL(id, prog_id(obj, "tail_b"));
    key = 1;
    CU_ASSERT_NOT_EQUAL(bpf_map_lookup_elem(bpf_map__fd(m), &key, &id), 0);
    bpf_object__close(obj);
    objcheck(path);
    unlink(path);
    fix_free(&f);
}

/* ---- a tracepoint, a tp_btf program with kfuncs and a ksym, hash map
 *      options, and a struct_ops map ------------------------------------- */

static void test_tracing(void)
{
    Fix f = fix_new();
    struct bpf_insn tp_ins[] = { MOVI(0, 0), EXIT };
    struct bpf_insn tb_ins[] = { CALL(-1), CALL(-1), LD64(1), MOVI(0, 0), EXIT };
    ObjReloc rel[] = { { 0, RELO_KFUNC, "bpf_rcu_read_lock" },
                       { 1, RELO_KFUNC, "bpf_rcu_read_unlock" },
                       { 2, RELO_KSYM, "bpf_prog_put" } };
    ObjProg progs[] = { PROG("on_openat", "tracepoint/syscalls/sys_enter_openat", tp_ins),
                        PROG("on_newtask", "tp_btf/task_newtask", tb_ins) };
    progs[1].relocs = rel;
    progs[1].nrelocs = N(rel);
    Type *u64p = pointer_to(ty_u64);
    const char *cn[] = { "ctx" };
    progs[0].btf_proto = f.ctx_proto;
    progs[1].btf_proto = btfgen_proto(f.g, ty_i32, &u64p, cn, 1);
    int void_proto = btfgen_proto(f.g, ty_void, NULL, NULL, 0);
    ObjExtern ext[] = { { "bpf_rcu_read_lock", true, void_proto, false },
                        { "bpf_rcu_read_unlock", true, void_proto, true },
                        { "bpf_prog_put", false, 0, false } };
    ObjMap map = { .name = "seen", .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8,
                   .max_entries = 64, .flags = BPF_F_NO_PREALLOC, .numa_node = 0,
                   .key_btf = btfgen_type(f.g, ty_u32) };
    Obj o = { .btf = f.btf, .license = "GPL", .progs = progs, .nprogs = 2, .externs = ext,
              .nexterns = N(ext), .maps = &map, .nmaps = 1 };
    const char *path = tmp_path("tracing");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    int shndx = -1;
    CU_ASSERT_EQUAL(sym_info(path, "bpf_rcu_read_unlock", &shndx),
                    GELF_ST_INFO(STB_WEAK, STT_NOTYPE));
    CU_ASSERT_EQUAL(shndx, SHN_UNDEF);
    struct bpf_object *obj = load(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    struct bpf_map *m = bpf_object__find_map_by_name(obj, "seen");
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m) {
        CU_ASSERT_EQUAL(bpf_map__map_flags(m), BPF_F_NO_PREALLOC);
        CU_ASSERT_EQUAL(bpf_map__max_entries(m), 64);
        CU_ASSERT_EQUAL(bpf_map__value_size(m), 8);
    }
    bpf_object__close(obj);
    objcheck(path);
    unlink(path);
    fix_free(&f);
}

static void test_struct_ops(void)
{
    Fix f = fix_new();
    struct bpf_insn a_ins[] = { MOVI(0, 2), EXIT };
    struct bpf_insn b_ins[] = { MOVI(0, 3), EXIT };
    ObjProg progs[] = { PROG("my_ssthresh", "struct_ops/ssthresh", a_ins),
                        PROG("my_undo", "struct_ops/undo_cwnd", b_ins) };
    Type *u64p = pointer_to(ty_u64);
    const char *cn[] = { "ctx" };
    progs[0].btf_proto = progs[1].btf_proto = btfgen_proto(f.g, ty_u32, &u64p, cn, 1);
    Type *fn = func_type(ty_u32, &u64p, 1);
    Type *st = new_type(TY_STRUCT, 0, 1);
    st->name = "tcp_congestion_ops";
    st->nmembers = 3;
    st->members = xalloc(sizeof(Member) * 3);
    st->members[0] = (Member){ .name = "ssthresh", .ty = pointer_to(fn) };
    st->members[1] = (Member){ .name = "undo_cwnd", .ty = pointer_to(fn) };
    st->members[2] = (Member){ .name = "name", .ty = str_type(16) };
    struct_layout(st);
    CU_ASSERT_EQUAL(st->size, 32);
    uint8_t data[32] = { 0 };
    strcpy((char *)data + 16, "ksc_test_ca");
    ObjStructOpsFn fns[] = { { 0, "my_ssthresh" }, { 8, "my_undo" } };
    ObjStructOps so = { "ksc_ca", btfgen_type(f.g, st), data, 32, fns, 2, false };
    Obj o = { .btf = f.btf, .license = "GPL", .progs = progs, .nprogs = 2, .sops = &so,
              .nsops = 1 };
    const char *path = tmp_path("sops");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    struct bpf_object *obj = load(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
    struct bpf_map *m = bpf_object__find_map_by_name(obj, "ksc_ca");
    CU_ASSERT_PTR_NOT_NULL(m);
    if (m)
        CU_ASSERT_EQUAL(bpf_map__type(m), BPF_MAP_TYPE_STRUCT_OPS);
    bpf_object__close(obj);
    objcheck(path);
    unlink(path);

    /* .struct_ops.link where libbpf knows it (1.2+), else .struct_ops */
    so.link = true;
    const char *sec = obj_struct_ops_link_supported() ? ".struct_ops.link" : ".struct_ops";
    path = tmp_path("sops_link");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    struct btf *b = btf__parse(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_TRUE(btf__find_by_name_kind(b, sec, BTF_KIND_DATASEC) > 0);
    btf__free(b);
    int st2;
    char *rel = run_cmd(xfmt("llvm-readelf -r %s 2>&1", path), &st2);
    CU_ASSERT_PTR_NOT_NULL(strstr(rel, xfmt("'.rel%s'", sec)));
    CU_ASSERT_PTR_NOT_NULL(strstr(rel, "my_undo"));
    objcheck(path);
    unlink(path);
    fix_free(&f);
}

/* ---- pinning by name, into a private bpffs ------------------------------ */

static void test_pinning(void)
{
    Fix f = fix_new();
    struct bpf_insn ins[] = { MOVI(0, XDP_PASS), EXIT };
    ObjProg prog = PROG("pass", "xdp", ins);
    prog.btf_proto = f.ctx_proto;
    ObjMap map = { .name = "kept", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8,
                   .max_entries = 2, .numa_node = -1, .pin_by_name = true,
                   .key_btf = btfgen_type(f.g, ty_u32), .value_btf = btfgen_type(f.g, ty_u64) };
    Obj o = { .btf = f.btf, .license = "GPL", .progs = &prog, .nprogs = 1, .maps = &map,
              .nmaps = 1 };
    const char *path = tmp_path("pin");
    CU_ASSERT_EQUAL_FATAL(obj_write(&o, path), 0);
    char dir[] = "/tmp/ksc-unit-bpffs-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    int st;
    run_cmd(xfmt("mount -t bpf bpf %s 2>&1", dir), &st);
    CU_ASSERT_EQUAL(st, 0);
    LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = dir);
    struct bpf_object *obj = st ? NULL : bpf_object__open_file(path, &opts);
    CU_ASSERT_PTR_NOT_NULL(obj);
    if (obj) {
        CU_ASSERT_EQUAL(bpf_object__load(obj), 0);
        CU_ASSERT_EQUAL(access(xfmt("%s/kept", dir), F_OK), 0);
        bpf_object__close(obj);
    }
    unlink(xfmt("%s/kept", dir));
    run_cmd(xfmt("umount %s 2>&1", dir), &st);
    rmdir(dir);
    unlink(path);
    fix_free(&f);
}

/* ---- errors: a message and -1, never a crash ---------------------------- */

static void test_errors(void)
{
    Fix f = fix_new();
    struct bpf_insn ins[] = { LD64(1), MOVI(0, 0), EXIT };
    ObjReloc rel[] = { { 0, RELO_MAP, "nosuch" } };
    ObjProg prog = PROG("bad", "xdp", ins);
    prog.relocs = rel;
    prog.nrelocs = 1;
    prog.btf_proto = f.ctx_proto;
    Obj o = { .btf = f.btf, .license = "GPL", .progs = &prog, .nprogs = 1 };
    const char *path = tmp_path("errors");
    fprintf(stderr, "(expected errors follow)\n");
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* unknown map */
    rel[0] = (ObjReloc){ 1, RELO_MAP, "m" };
    ObjMap map = { .name = "m", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4,
                   .max_entries = 1, .numa_node = -1 };
    o.maps = &map;
    o.nmaps = 1;
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* not on an ld_imm64 */
    rel[0].insn = 0;
    CU_ASSERT_EQUAL(obj_write(&o, path), 0);
    prog.btf_proto = 0;
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* no prototype */
    prog.btf_proto = f.ctx_proto;
    uint32_t one = 1;
    ObjVar v = { "m", SEC_BSS, btfgen_type(f.g, ty_u32), 4, 4, (uint8_t *)&one, false };
    o.vars = &v;
    o.nvars = 1;
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* initialised .bss */
    v.init = NULL;
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* name clash with the map */
    v.name = "v";
    v.size = 8;
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* size differs from BTF */
    v.size = 4;
    CU_ASSERT_EQUAL(obj_write(&o, path), 0);
    CU_ASSERT_EQUAL(obj_write(&o, "/nonexistent-dir/x.o"), -1);
    prog.section = ".data";
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* not a program section */
    prog.section = "xdp";
    prog.nlines = 2;
    CU_ASSERT_EQUAL(obj_write(&o, path), -1);           /* count without array */
    prog.nlines = 0;
    CU_ASSERT_EQUAL(obj_write(NULL, path), -1);
    unlink(path);
    fix_free(&f);
}

UNIT_SUITE(elf, UT(test_xdp_map), UT(test_globals), UT(test_subprogs), UT(test_callbacks),
           UT(test_tail_calls), UT(test_tracing), UT(test_struct_ops), UT(test_pinning),
           UT(test_errors))
