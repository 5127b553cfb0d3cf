/* pass_fuse.c -- fusion (to be written). */
#include "kwcc_int.h"

int kw_pass_fuse(KwGraph *g)
{
    (void)g;
    return 0;
}
