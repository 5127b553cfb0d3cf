/* pass_order.c -- put the nodes in topological order.
 *
 * ONNX requires topologically sorted nodes, but a kwcc pass must not depend on the file
 * being right: Kahn's algorithm, always taking the ready node that comes first in the file
 * (a min-heap), so a well-formed file keeps its order exactly; a cycle is a user error naming
 * one node on it. Node ids change; producers are renumbered. */
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
    int cnt = 0, hn = 0; /* queue: a binary min-heap of node ids */
    for (int i = 0; i < nn; i++)
        if (!g->n[i].dead && indeg[i] == 0)
            queue[hn++] = i; /* ascending: already a heap */
    while (hn > 0) {
        int i = queue[0];
        queue[0] = queue[--hn];
        for (int p = 0;;) { /* sift down */
            int c = 2 * p + 1;
            if (c >= hn)
                break;
            if (c + 1 < hn && queue[c + 1] < queue[c])
                c++;
            if (queue[p] <= queue[c])
                break;
            int t = queue[p];
            queue[p] = queue[c];
            queue[c] = t;
            p = c;
        }
        order[cnt++] = i;
        KwNode *n = &g->n[i];
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0)
                continue;
            for (int c = cstart[v]; c < cstart[v + 1]; c++) {
                int j = cons[c];
                /* a node may read the same value twice: decrement once per read */
                if (--indeg[j] == 0) {
                    int q = hn++; /* sift up */
                    queue[q] = j;
                    while (q > 0 && queue[(q - 1) / 2] > queue[q]) {
                        int t = queue[q];
                        queue[q] = queue[(q - 1) / 2];
                        queue[(q - 1) / 2] = t;
                        q = (q - 1) / 2;
                    }
                }
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
