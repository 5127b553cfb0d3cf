/* pass_order.c -- put the nodes in topological order.
 *
 * ONNX requires topologically sorted nodes, but a kwcc pass must not depend on the file
 * being right: Kahn's algorithm, stable (file order among ready nodes), and a cycle is a
 * user error naming one node on it. Node ids change; producers are renumbered. */
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

int kw_pass_order(KwGraph *g)
{
    int nn = g->nn;
    int *indeg = KW_NEWN(g->arena, int, nn + 1), *order = KW_NEWN(g->arena, int, nn + 1);
    int *queue = KW_NEWN(g->arena, int, nn + 1);
    /* consumers lists: count then fill */
    int *ccount = KW_NEWN(g->arena, int, g->nv + 1), *cstart = KW_NEWN(g->arena, int, g->nv + 2);
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v >= 0 && g->v[v].producer >= 0) {
                indeg[i]++;
                ccount[v]++;
            }
        }
    }
    for (int v = 0; v < g->nv; v++)
        cstart[v + 1] = cstart[v] + ccount[v];
    int *cons = KW_NEWN(g->arena, int, cstart[g->nv] + 1), *fill = KW_NEWN(g->arena, int, g->nv + 1);
    for (int i = 0; i < nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v >= 0 && g->v[v].producer >= 0)
                cons[cstart[v] + fill[v]++] = i;
        }
    }
    /* A min-heap would keep file order exactly; a FIFO seeded in file order is close
     * enough and stable for already-sorted files, which is every well-formed model. */
    int head = 0, tail = 0, cnt = 0;
    for (int i = 0; i < nn; i++)
        if (!g->n[i].dead && indeg[i] == 0)
            queue[tail++] = i;
    while (head < tail) {
        int i = queue[head++];
        order[cnt++] = i;
        KwNode *n = &g->n[i];
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0)
                continue;
            for (int c = cstart[v]; c < cstart[v + 1]; c++) {
                int j = cons[c];
                /* a node may read the same value twice: decrement once per read */
                if (--indeg[j] == 0)
                    queue[tail++] = j;
            }
        }
    }
    int live = 0;
    for (int i = 0; i < nn; i++)
        live += !g->n[i].dead;
    if (cnt != live) {
        for (int i = 0; i < nn; i++)
            if (!g->n[i].dead && indeg[i] > 0)
                return kw_error(g->diag, &g->n[i],
                                "the graph has a cycle through this node (or reads a value that depends on it)");
    }
    KwNode *sorted = KW_NEWN(g->arena, KwNode, g->cap_n);
    for (int i = 0; i < cnt; i++)
        sorted[i] = g->n[order[i]];
    int k = cnt;
    for (int i = 0; i < nn; i++)
        if (g->n[i].dead)
            sorted[k++] = g->n[i];
    g->n = sorted;
    g->nn = k;
    for (int i = 0; i < g->nn; i++)
        for (int o = 0; o < g->n[i].n_out; o++)
            if (g->n[i].out[o] >= 0 && !g->n[i].dead)
                g->v[g->n[i].out[o]].producer = i;
    return 0;
}
