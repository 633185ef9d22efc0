/* The pipeline after the front end: IR, bounds, instruction selection,
 * register allocation, object writing. */
#include "ksc.h"

int ksc_backend(Program *p, KscOpts *o)
{
    (void)p;
    (void)o;
    fprintf(stderr, "ksc: error: the BPF back end is not built yet; use --check or --emit=ast\n");
    return 1;
}
