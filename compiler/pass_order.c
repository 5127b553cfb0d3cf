/* pass_order.c -- put the nodes in topological order.
 *
 * ONNX requires topologically sorted nodes, but a kwcc pass must not depend on the file
 * being right: Kahn's algorithm, always taking the ready node that comes first in the file
 * (a min-heap), so a well-formed file keeps its order exactly; a cycle is a user error naming
 * one node on it. Node ids change; producers are renumbered. */
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

/* "'relu1' (Relu)", or for an unnamed node "the Relu writing 'b'". */
static const char *describe(KwGraph *g, const KwNode *n)
{
    if (n->name[0])
        return kw_fmt(g->arena, "'%.60s' (%.40s)", n->name, n->op_type);
    const KwValue *y = kw_out(g, n, 0);
    return kw_fmt(g->arena, "the %.40s writing '%.60s'", n->op_type, y ? y->name : "");
}

/* Kahn's algorithm stopped with nodes left (indeg > 0). Each of them reads a value of another
 * node left, so walking from one to such a producer again and again must come back to a node
 * already seen: that node is on a cycle. Report it, with the cycle spelled out. */
static int report_cycle(KwGraph *g, const int *indeg)
{
    int nn = g->nn;
    int *step = KW_NEWN(g->arena, int, nn + 1), *pred = KW_NEWN(g->arena, int, nn + 1);
    int start = -1;
    for (int i = 0; i < nn && start < 0; i++)
        if (!g->n[i].dead && indeg[i] > 0)
            start = i;
    KW_ASSERT(start >= 0);
    int i = start, k = 1;
    while (!step[i]) {
        step[i] = k++;
        const KwNode *n = &g->n[i];
        int p = -1;
        for (int j = 0; j < n->n_in && p < 0; j++) {
            int v = n->in[j];
            if (v >= 0 && g->v[v].producer >= 0 && indeg[g->v[v].producer] > 0)
                p = g->v[v].producer;
        }
        KW_ASSERT(p >= 0);
        pred[i] = p;
        i = p;
    }
    /* i is on the cycle; follow pred around it (backwards along the data flow) */
    int len = 0;
    for (int j = i;; j = pred[j]) {
        len++;
        if (pred[j] == i)
            break;
    }
    /* in data-flow order (cyc[t] feeds cyc[t + 1]), starting at the node first in the file */
    int *cyc = KW_NEWN(g->arena, int, len);
    for (int j = i, t = len - 1; t >= 0; j = pred[j], t--)
        cyc[t] = j;
    int first = 0;
    for (int t = 1; t < len; t++)
        if (cyc[t] < cyc[first])
            first = t;
    const char *text = "";
    for (int t = 0; t < len && t < 6; t++)
        text = kw_fmt(g->arena, "%s%s -> ", text, describe(g, &g->n[cyc[(first + t) % len]]));
    if (len > 6)
        text = kw_fmt(g->arena, "%s... (%d nodes in all) -> ", text, len);
    const KwNode *n0 = &g->n[cyc[first]];
    return kw_error(g->diag, n0, "the graph has a cycle: %s%s; expected an acyclic graph", text, describe(g, n0));
}

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
    if (cnt != live)
        return report_cycle(g, indeg);
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
