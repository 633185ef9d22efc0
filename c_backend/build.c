/* `ksc build` and `ksc test`. */
#include <stdio.h>

#include "ksc.h"

int ksc_build(KscOpts *o)
{
    (void)o;
    fprintf(stderr, "ksc: error: 'ksc build' is not built yet\n");
    return 1;
}

int ksc_test(KscOpts *o)
{
    (void)o;
    fprintf(stderr, "ksc: error: 'ksc test' is not built yet\n");
    return 1;
}
