/* The unit test runner: every registered suite, one PASS/FAIL line per
 * test, so tests/run-all.sh can count them with the rest. */
#include "tests/unit/unit.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "btf/ksbtf.h"
#include "frontend/internal.h"

typedef struct { const char *suite; const UnitTest *tests; } Reg;
static Reg regs[64];
static int nregs;

void unit_register(const char *suite, const UnitTest *tests)
{
    if (nregs < 64)
        regs[nregs++] = (Reg){ suite, tests };
}

void unit_reset(void) { compiler_reset(); }

/* src may be built in the arena (xfmt) that unit_reset() frees, and the
 * program keeps pointers into its text: it is copied first, and the copy
 * lives until the next call. */
Program *unit_check(const char *text, UnitDiag *d)
{
    static char *src;
    free(src);
    src = strdup(text);
    unit_reset();
    kbtf_set_path("none");
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    diag_set_output(mem);
    FrontOpts opts = { 0 };
    opts.btf_path = "none";
    Program *p = parse_buffer("test.ks", src, strlen(src), &opts);
    check_program(p, &opts);
    fclose(mem);
    diag_set_output(NULL);
    d->errors = diag_errors();
    d->warnings = diag_warnings();
    d->text = xstrdup(buf ? buf : "");
    free(buf);
    return p;
}

static void on_complete(const CU_pTest test, const CU_pSuite suite, const CU_pFailureRecord fail)
{
    printf("%s unit/%s/%s\n", fail ? "FAIL" : "PASS", suite->pName, test->pName);
    for (CU_pFailureRecord f = fail; f; f = f->pNext)
        printf("    %s:%u: %s\n", f->strFileName, f->uiLineNumber, f->strCondition);
}

int main(int argc, char **argv)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (int i = 0; i < nregs; i++) {
        if (argc > 1 && !strstr(regs[i].suite, argv[1]))
            continue;
        CU_pSuite s = CU_add_suite(regs[i].suite, NULL, NULL);
        for (const UnitTest *t = regs[i].tests; t->name; t++)
            CU_add_test(s, t->name, t->fn);
    }
    CU_set_test_complete_handler(on_complete);
    CU_run_all_tests();
    unsigned failed = CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    printf("unit: %u passed, %u failed\n", run - failed, failed);
    CU_cleanup_registry();
    unit_reset();
    return failed ? 1 : 0;
}
