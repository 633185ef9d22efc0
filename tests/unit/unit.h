/* Unit tests: CUnit, one suite per source module. A test file registers
 * its suite with UNIT_SUITE(name, tests...) and needs no other wiring. */
#ifndef KSC_UNIT_H
#define KSC_UNIT_H

#include <CUnit/CUnit.h>

typedef struct UnitTest { const char *name; void (*fn)(void); } UnitTest;
void unit_register(const char *suite, const UnitTest *tests);

#define UNIT_SUITE(suite, ...)                                                   \
    static const UnitTest suite##_tests[] = { __VA_ARGS__, { NULL, NULL } };      \
    __attribute__((constructor)) static void suite##_register(void)              \
    {                                                                            \
        unit_register(#suite, suite##_tests);                                    \
    }
#define UT(fn) { #fn, fn }

/* Front-end helpers for tests: compile a source text, count diagnostics. */
#include "frontend/frontend.h"
typedef struct UnitDiag { int errors, warnings; char *text; } UnitDiag;
Program *unit_check(const char *src, UnitDiag *d);
void unit_reset(void);

#endif
