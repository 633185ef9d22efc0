/* Userspace back end unit tests: the generated C of every conformance
 * file (and every example and e2e program) with a main compiles and links
 * with -Wall -Wextra -Werror; names that clash with C and libc are
 * mangled; and small userspace-only programs, compiled and run, print
 * what LANGUAGE.md says (integer rules, strings, match, defer, throw). */
#include "tests/unit/unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "btf/ksbtf.h"
#include "c_backend/cgen.h"

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, mem);
    fclose(mem);
    fclose(f);
    return buf;
}

static void fail_msg(const char *what, const char *detail)
{
    char msg[1200];
    snprintf(msg, sizeof msg, "%s: %.1000s", what, detail);
    CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "", CU_FALSE);
}

/* Writes the C for p to a temporary file and builds it (-c, or linked to
 * exe); the compiler's messages go to *log. */
static int build_c(Program *p, const char *exe, char **log)
{
    char src[] = "/tmp/ksc-unit-XXXXXX.c";
    int fd = mkstemps(src, 2);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    int rc = cgen_emit(p, NULL, 0, f);
    fclose(f);
    if (rc) {
        unlink(src);
        *log = strdup("cgen_emit failed");
        return rc;
    }
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread %s%s %s -lbpf -lelf -lz 2>%s.log",
             exe ? "-o " : "-c -o /dev/null", exe ? exe : "", src, src);
    rc = system(cmd);
    char lp[64];
    snprintf(lp, sizeof lp, "%s.log", src);
    *log = read_all(lp);
    unlink(lp);
    unlink(src);
    return rc;
}

/* Front end on a file, with the built-in kernel types only. */
static Program *load_file(const char *path, int *errors)
{
    unit_reset();
    kbtf_set_path("none");
    FrontOpts opts = { 0 };
    opts.btf_path = "none";
    FILE *quiet = fopen("/dev/null", "w");
    diag_set_output(quiet);
    Program *p = parse_program(path, &opts);
    if (p)
        check_program(p, &opts);
    diag_set_output(NULL);
    fclose(quiet);
    *errors = p ? diag_errors() : 1;
    return p;
}

/* Every .ks file in dir that checks cleanly and has a main: its C must
 * compile and link. Returns how many were built. */
static int build_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int built = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 4 || strcmp(e->d_name + n - 3, ".ks"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int errors;
        Program *p = load_file(path, &errors);
        if (errors || !cgen_needed(p))
            continue;
        char *log = NULL;
        char exe[] = "/tmp/ksc-unit-exe-XXXXXX";
        int fd = mkstemp(exe);
        if (fd >= 0)
            close(fd);
        if (build_c(p, exe, &log))
            fail_msg(path, log);
        unlink(exe);
        free(log);
        built++;
    }
    closedir(d);
    return built;
}

static const char *shared_dir(void)
{
    const char *s = getenv("KSC_SHARED");
    return s ? s : "../shared";
}

static void test_conformance_mains_compile(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/conformance", shared_dir());
    int n = build_dir(dir);
    CU_ASSERT(n >= 2);      /* c01 and c20 at least */
}

/* The front-end cases that check cleanly (warnings only) exercise odd
 * corners of the language. */
static void test_other_programs_compile(void)
{
    const char *dirs[] = { "examples", "tests/e2e", "tests/frontend", "tests/kinds", "tests/ebpf",
                           "tests/vm/checks/user_ksc" };
    int n = 0;
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        n += build_dir(dirs[i]);
    CU_ASSERT(n >= 10);
}

/* ---- generated text ------------------------------------------------------ */

static char *c_of(const char *src)
{
    UnitDiag d;
    Program *p = unit_check(src, &d);
    CU_ASSERT_EQUAL(d.errors, 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(cgen_emit(p, NULL, 0, mem), 0);
    fclose(mem);
    return buf;
}

static void test_names_are_mangled(void)
{
    const char *src = "var log : hash<u32, u32>(4)\n"
                      "struct int { char: u32 }\n"
                      "fn printf(int: u32) -> u32 { return int }\n"
                      "fn main() -> i32 {\n"
                      "    var exit: u32 = printf(1)\n"
                      "    var malloc = int { char: exit }\n"
                      "    log[malloc.char] = 2\n"
                      "    return 0\n"
                      "}\n";
    char *c = c_of(src);
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "ks_map m_log = { .name = \"log\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "struct s_int {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "f_printf("));
    CU_ASSERT_PTR_NULL(strstr(c, " printf(1)"));
    free(c);
}

static void test_print_supplies_length_modifiers(void)
{
    char *c = c_of("fn show(a: u64, b: i8) {\n print(\"%u %d %x\", a, b, b)\n print(\"n:\", a)\n}\n"
                   "fn main() -> i32 {\n show(1, -1)\n return 0\n}\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "printf(\"%llu %lld %llx\\n\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "(uint8_t)(v1_b)"));    /* %x of an i8 prints two digits */
    CU_ASSERT_PTR_NOT_NULL(strstr(c, "printf(\"n: %llu\\n\""));
    free(c);
}

/* ---- compiled and run ------------------------------------------------------ */

/* Builds src, runs it, and compares its stdout and exit status. */
static void run_expect(const char *src, const char *want, int want_rc)
{
    UnitDiag d;
    Program *p = unit_check(src, &d);
    if (d.errors) {
        fail_msg("front end", d.text);
        return;
    }
    char exe[] = "/tmp/ksc-unit-run-XXXXXX";
    int fd = mkstemp(exe);
    if (fd >= 0)
        close(fd);
    char *log = NULL;
    if (build_c(p, exe, &log)) {
        fail_msg("compile", log);
        free(log);
        unlink(exe);
        return;
    }
    free(log);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "%s >%s.out 2>/dev/null", exe, exe);
    int st = system(cmd);
    char outp[64];
    snprintf(outp, sizeof outp, "%s.out", exe);
    char *out = read_all(outp);
    if (strcmp(out, want))
        fail_msg("output", out);
    CU_ASSERT_EQUAL(WEXITSTATUS(st), want_rc);
    free(out);
    unlink(outp);
    unlink(exe);
}

static void test_integer_rules(void)
{
    run_expect("fn main() -> i32 {\n"
               "    var a: u8 = 250\n    a += 10\n"
               "    var b: i8 = -128\n    b = b / -1\n"
               "    var z: u32 = 0\n    var q: u32 = 7\n"
               "    var s: i32 = -7\n"
               "    var sh: u32 = 1\n"
               "    print(\"%u %d %u %u %d %d %u\", a, b, q / z, q % z, s / 2, s % 3, sh << 33)\n"
               "    var m: u16 = 0xffff\n"
               "    print(\"%u %d\", m + 1 > 0, (200 as i8))\n"
               "    return 0\n}\n",
               "4 -128 0 7 -3 -1 2\n0 -56\n", 0);
}

static void test_strings(void)
{
    run_expect("fn greet(who: str(8)) -> str(32) {\n    return \"hi \" + who\n}\n"
               "fn main() -> i32 {\n"
               "    var s = greet(\"bob\")\n"
               "    var t: str(4) = \"abc\"\n"
               "    var u = t\n    u[0] = 'x'\n"
               "    print(\"%s|%s|%s|%c\", s, t, u, s[1])\n"
               "    if (t == \"abc\" && u != t) { print(\"cmp ok\") }\n"
               "    return 0\n}\n",
               "hi bob|abc|xbc|i\ncmp ok\n", 0);
}

static void test_match_and_loops(void)
{
    run_expect("enum Color { Red, Green = 5, Blue }\n"
               "fn name(c: Color) -> str(8) {\n"
               "    return match (c) { Red: \"red\", Green: \"green\", Blue: \"blue\" }\n}\n"
               "fn main() -> i32 {\n"
               "    var total: u32 = 0\n"
               "    for (i in 0..10) {\n        if (i == 3) { continue }\n        if (i == 6) { break }\n"
               "        total += i\n    }\n"
               "    var n: u32 = 0\n    loop { n += 1\n if (n > 4) { break } }\n"
               "    var k = match (n) { 1, 2: 10, 5: { var x: u32 = 20\n x + 1 }, default: 0 }\n"
               "    print(\"%u %u %u %s %s\", total, n, k, name(Color::Blue), name(Green))\n"
               "    return 0\n}\n",
               "12 5 21 blue green\n", 0);
}

static void test_defer_throw_catch(void)
{
    run_expect("fn inner(x: u32) -> u32 {\n"
               "    defer print(\"inner defer\")\n"
               "    if (x > 2) { throw 7 }\n"
               "    return x\n}\n"
               "fn main() -> i32 {\n"
               "    defer print(\"first\")\n"
               "    defer { print(\"second\") }\n"
               "    try {\n        print(\"got %u\", inner(1))\n        inner(5)\n        print(\"not here\")\n"
               "    } catch 7 {\n        print(\"caught 7\")\n    }\n"
               "    try { throw 3 } catch 1 { print(\"no\") } catch _ { print(\"any\") }\n"
               "    inner(9)\n"
               "    return 0\n}\n",
               "inner defer\ngot 1\ninner defer\ncaught 7\nany\ninner defer\nsecond\nfirst\n", 7);
}

static void test_named_return_and_fn_pointers(void)
{
    run_expect("struct Op { f: fn(i32, i32) -> i32 }\n"
               "fn add(a: i32, b: i32) -> sum: i32 {\n    sum = a + b\n}\n"
               "fn mul(a: i32, b: i32) -> i32 { return a * b }\n"
               "fn main() -> i32 {\n"
               "    var op = Op { f: add }\n"
               "    var g: fn(i32, i32) -> i32 = mul\n"
               "    print(\"%d %d\", op.f(2, 3), g(4, 5))\n"
               "    return add(1, 2)\n}\n",
               "5 20\n", 3);
}

static void test_structs_arrays_pointers(void)
{
    run_expect("enum Color { Red, Green }\n"
               "struct Inner { a: u8, b: u32 }\n"
               "struct Outer { i: Inner, arr: u16[3], name: str(8), e: Color }\n"
               "fn bump(p: *Outer) {\n    p->i.b += 1\n    p->arr[1] = 7\n}\n"
               "fn main() -> i32 {\n"
               "    var o = Outer { i: Inner { a: 1, b: 2 }, arr: [1, 2, 3], name: \"x\", e: Green }\n"
               "    bump(&o)\n"
               "    var q = &o\n    q.i.a = 5\n"
               "    var grid: u8[4] = [9; 4]\n    var idx: u32 = 3\n    grid[idx] = 1\n"
               "    var total: u32 = 0\n    for (i in 0..4) { total += grid[i] }\n"
               "    var word = o.name + \"yz\"\n"
               "    var fmt: str(8) = \"plain\"\n    print(fmt)\n"
               "    print(\"%u %u %u %u %s %u %d\", o.i.a, o.i.b, o.arr[1], total, word, sizeof(Outer), o.e == Green)\n"
               "    var c: char = 'a'\n    var c2 = (c as u8 + 1) as char\n    print(\"%c%c\", c, c2)\n"
               "    var big: u64 = 0xdeadbeefcafe\n    print(\"%x %X\", big, big as u32)\n"
               "    print(\"%5d|%-5u|%05u\", 42 as i32, 7 as u32, 3 as u32)\n"
               "    var s = idx > 2 ? \"big\" : \"small\"\n    print(s, idx)\n"
               "    exit(5)\n"
               "    return 0\n}\n",
               "plain\n5 3 7 28 xyz 28 1\nab\ndeadbeefcafe BEEFCAFE\n   42|7    |00003\nbig 3\n", 5);
}

static void test_match_forms(void)
{
    run_expect("fn kind(s: str(8)) -> u32 {\n    return match (s) { \"tcp\": 6, \"udp\": 17, default: 0 }\n}\n"
               "fn main() -> i32 {\n"
               "    var flag = kind(\"udp\") == 17\n"
               "    var b = match (flag) { true: \"yes\", false: \"no\" }\n"
               "    var c: char = 'x'\n"
               "    var n: u32 = 0\n"
               "    for (i in 0..10) {\n"
               "        match (i % 3) {\n            0: { n += 1 },\n            1: { if (i > 6) { break } },\n"
               "            default: { continue },\n        }\n        n += 100\n    }\n"
               "    var v = if (n > 300) { n - 300 } else { n }\n"
               "    match (c) { 'x': print(\"x!\"), default: print(\"other\") }\n"
               "    print(\"%u %s %u %u %u\", kind(\"tcp\"), b, n, v, kind(\"icmp\"))\n"
               "    return 0\n}\n",
               "x!\n6 yes 503 203 0\n", 0);
}

/* Calls run left to right, once each, whatever C's argument order. */
static void test_evaluation_order(void)
{
    run_expect("fn next(c: *u32) -> u32 {\n    *c += 1\n    return *c\n}\n"
               "fn pair(a: u32, b: u32) -> u32 { return a * 10 + b }\n"
               "fn name(c: *u32) -> str(8) {\n    *c += 1\n    return \"n\"\n}\n"
               "fn main() -> i32 {\n    var c: u32 = 0\n"
               "    print(\"%u %u\", next(&c), next(&c))\n"
               "    print(\"%u\", pair(next(&c), next(&c)))\n"
               "    print(\"%u\", next(&c) * 10 + next(&c))\n"
               "    print(\"%s %u\", name(&c), c)\n"
               "    return 0\n}\n",
               "1 2\n34\n56\nn 7\n", 0);
}

/* An index out of range stops the program with a message (exit 1). */
static void test_index_checked(void)
{
    run_expect("fn main() -> i32 {\n    var a: u32[4] = [0]\n    var i: u32 = 3\n    i = i + 1\n"
               "    a[i] = 1\n    print(\"not reached\")\n    return 0\n}\n",
               "", 1);
}

UNIT_SUITE(cgen,
           UT(test_conformance_mains_compile),
           UT(test_other_programs_compile),
           UT(test_names_are_mangled),
           UT(test_print_supplies_length_modifiers),
           UT(test_integer_rules),
           UT(test_strings),
           UT(test_match_and_loops),
           UT(test_defer_throw_catch),
           UT(test_named_return_and_fn_pointers),
           UT(test_structs_arrays_pointers),
           UT(test_index_checked),
           UT(test_match_forms),
           UT(test_evaluation_order))
