/* pass_kw.c -- KernelWarehouse lifting (to be written). */
#include "kwcc_int.h"

int kw_pass_kw(KwGraph *g)
{
    (void)g;
    return 0;
}
