/* pass_dce.c -- dead-node elimination: a node none of whose outputs is used (by a live
 * node or as a graph output) is removed, back to front so chains go in one sweep. */
#include "kwcc_int.h"

int kw_pass_dce(KwGraph *g)
{
    kw_ir_count_uses(g);
    for (int i = g->nn - 1; i >= 0; i--) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        int used = 0;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && g->v[n->out[k]].n_use > 0)
                used = 1;
        if (used)
            continue;
        n->dead = 1;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                g->v[n->in[k]].n_use--;
        if (n->epi.res >= 0)
            g->v[n->epi.res].n_use--;
        if (n->epi.scale >= 0)
            g->v[n->epi.scale].n_use--;
    }
    kw_ir_count_uses(g);
    return 0;
}
