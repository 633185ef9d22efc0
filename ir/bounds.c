/* The bounds pass: abstract interpretation over the IR in the verifier's
 * terms. This first version checks nothing yet and inserts nothing; the
 * verifier simulation is issue 5's work. */
#include "ir/ir.h"

int ir_bounds(IrProgram *p, BoundsOpts *o)
{
    (void)p;
    (void)o;
    return 0;
}
