/* inspect.c -- `kwcc inspect`: what KernelWarehouse buys and costs, layer by layer.
 *
 * One row per weighted layer (KwConv, Conv, Gemm, MatMul with a constant operand): its
 * warehouse, n and m, cell shape, parameters stored versus those of the same layer as a
 * static conv, MACs split into conv, assembly and attention, and the workspace the layer's
 * own scratch needs. Then one row per warehouse and the model totals. Figures count batch 1
 * as compiled. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

typedef struct Row {
    const char *name, *kind;
    int wh, n, m, co, ci, ck;
    int64_t dense, stored, conv, assembly, attention, pool, scratch;
    int64_t attn_params; /* KW: stored parameters other than the conv bias */
} Row;

static int64_t nel(KwGraph *g, int v) { return v >= 0 ? kw_numel(&g->v[v].shape) : 0; }

static int row_of(KwGraph *g, const KwNode *n, Row *r)
{
    memset(r, 0, sizeof *r);
    r->name = n->name[0] ? n->name : "(unnamed)";
    r->wh = -1;
    r->scratch = n->scratch_bytes;
    const KwValue *y = kw_out(g, n, 0);
    if (n->op == KW_OP_KwConv) {
        const KwKwInfo *k = n->kw;
        int64_t ksz = (int64_t)k->k[0] * k->k[1] * k->k[2];
        int64_t outsp = kw_numel(&y->shape) / y->shape.d[1];
        const KwAttnP *a = &k->attn;
        int P = a->n + 1, R = a->L + a->B + 1;
        r->kind = "KW conv";
        r->wh = k->wh_index;
        r->n = a->n;
        r->m = a->m;
        r->co = k->co;
        r->ci = k->ci;
        r->ck = k->ck[0] * k->ck[1] * k->ck[2];
        r->dense = (int64_t)k->O * k->Cg * ksz;
        r->attn_params = nel(g, k->w1) + nel(g, k->b1) + nel(g, k->ln_g) + nel(g, k->ln_b) + nel(g, k->w2) +
                         nel(g, k->b2) + nel(g, k->w3) + nel(g, k->tb);
        r->stored = r->attn_params + nel(g, k->bias);
        r->conv = r->dense * outsp;
        r->assembly = (int64_t)a->m * a->n * k->S;
        r->attention = (int64_t)a->hidden * a->C +
                       (a->basis ? (int64_t)a->m * R * a->hidden + (int64_t)a->m * (a->n - a->L) * a->B
                                 : (int64_t)a->m * P * a->hidden);
        r->pool = (int64_t)a->C * a->HW;
        return 1;
    }
    if (n->op == KW_OP_Conv) {
        const KwValue *w = kw_in(g, n, 1);
        int64_t outsp = kw_numel(&y->shape) / y->shape.d[1];
        r->kind = kw_is_const(g, n->in[1]) ? "conv" : "conv (run-time W)";
        r->dense = kw_numel(&w->shape);
        r->stored = kw_is_const(g, n->in[1]) ? r->dense + nel(g, n->n_in > 2 ? n->in[2] : -1) : 0;
        r->conv = r->dense * outsp;
        return 1;
    }
    if (n->op == KW_OP_Gemm || n->op == KW_OP_MatMul) {
        const KwValue *b = kw_in(g, n, 1);
        int wconst = kw_is_const(g, n->in[1]);
        if (!wconst && !kw_is_const(g, n->in[0]))
            return 0; /* activation x activation: the assembly product of a generic KW layer */
        r->kind = n->op == KW_OP_Gemm ? "gemm" : "matmul";
        r->dense = kw_numel(&b->shape);
        r->stored = r->dense + (n->op == KW_OP_Gemm ? nel(g, n->n_in > 2 ? n->in[2] : -1) : 0);
        int64_t K = b->shape.rank >= 2 ? b->shape.d[b->shape.rank - 2] : b->shape.d[0];
        int64_t tb = 0;
        if (n->op == KW_OP_Gemm)
            kw_attr_int(g, n, "transB", 0, &tb);
        if (tb)
            K = b->shape.d[1];
        r->conv = kw_numel(&y->shape) * K;
        return 1;
    }
    return 0;
}

static void fmt_count(char *buf, size_t cap, int64_t v)
{
    if (v >= 10000000)
        snprintf(buf, cap, "%.1fM", (double)v / 1e6);
    else if (v >= 10000)
        snprintf(buf, cap, "%.1fk", (double)v / 1e3);
    else
        snprintf(buf, cap, "%" PRId64, v);
}

char *kw_inspect_report(KwGraph *g, int json)
{
    KwBuf b = {0};
    int nrows = 0;
    Row *rows = KW_NEWN(g->arena, Row, g->nn + 1);
    for (int i = 0; i < g->nn; i++)
        if (!g->n[i].dead && row_of(g, &g->n[i], &rows[nrows]))
            nrows++;
    /* warehouses: size and the dense weights of the layers sharing each */
    int nw = g->n_warehouses;
    int64_t *wsize = KW_NEWN(g->arena, int64_t, nw + 1), *wdense = KW_NEWN(g->arena, int64_t, nw + 1);
    int *wlayers = KW_NEWN(g->arena, int, nw + 1);
    for (int i = 0; i < g->nn; i++) {
        const KwNode *n = &g->n[i];
        if (n->dead || n->op != KW_OP_KwConv)
            continue;
        int w = n->kw->wh_index;
        wsize[w] = nel(g, n->kw->wh);
        wdense[w] += (int64_t)n->kw->O * n->kw->Cg * n->kw->k[0] * n->kw->k[1] * n->kw->k[2];
        wlayers[w]++;
    }
    Row t = {0};
    int64_t kw_dense = 0, kw_layers = 0, kw_conv = 0, kw_attn = 0;
    for (int i = 0; i < nrows; i++) {
        t.dense += rows[i].dense;
        t.stored += rows[i].stored;
        t.conv += rows[i].conv;
        t.assembly += rows[i].assembly;
        t.attention += rows[i].attention;
        t.pool += rows[i].pool;
        if (rows[i].wh >= 0) {
            kw_dense += rows[i].dense;
            kw_conv += rows[i].conv;
            kw_attn += rows[i].attn_params;
            kw_layers++;
        }
    }
    int64_t wh_total = 0;
    for (int w = 0; w < nw; w++)
        wh_total += wsize[w];
    int64_t params = g->weight_bytes / 4; /* everything stored, warehouses once */
    int64_t dense_model = params - wh_total - kw_attn + kw_dense; /* KW layers as static convs */
    if (json) {
        kw_buf_printf(&b, "{\n  \"layers\": [\n");
        for (int i = 0; i < nrows; i++) {
            const Row *r = &rows[i];
            kw_buf_printf(&b,
                          "    {\"name\": \"%s\", \"kind\": \"%s\", \"warehouse\": %d, \"n\": %d, \"m\": %d, "
                          "\"cell\": [%d, %d, %d], \"params_stored\": %" PRId64 ", \"params_dense\": %" PRId64
                          ", \"macs_conv\": %" PRId64 ", \"macs_assembly\": %" PRId64 ", \"macs_attention\": %" PRId64
                          ", \"pool_adds\": %" PRId64 ", \"workspace_bytes\": %" PRId64 "}%s\n",
                          r->name, r->kind, r->wh, r->n, r->m, r->co, r->ci, r->ck, r->stored, r->dense, r->conv,
                          r->assembly, r->attention, r->pool, r->scratch, i + 1 < nrows ? "," : "");
        }
        kw_buf_printf(&b, "  ],\n  \"warehouses\": [\n");
        for (int w = 0; w < nw; w++)
            kw_buf_printf(&b, "    {\"id\": %d, \"params\": %" PRId64 ", \"layers\": %d, \"params_dense\": %" PRId64 "}%s\n",
                          w, wsize[w], wlayers[w], wdense[w], w + 1 < nw ? "," : "");
        kw_buf_printf(&b,
                      "  ],\n  \"totals\": {\"kw_layers\": %" PRId64 ", \"warehouses\": %d, \"params_stored\": %" PRId64
                      ", \"params_warehouses\": %" PRId64 ", \"params_dense_equivalent\": %" PRId64
                      ", \"macs_conv\": %" PRId64 ", \"macs_assembly\": %" PRId64 ", \"macs_attention\": %" PRId64
                      ", \"pool_adds\": %" PRId64 ", \"weight_bytes\": %" PRId64 ", \"workspace_bytes\": %" PRId64
                      ", \"workspace_lower_bound\": %" PRId64 ", \"workspace_floor\": %" PRId64
                      ", \"code_bytes_estimate\": %" PRId64 ", \"flash_bytes_estimate\": %" PRId64 "}\n}\n",
                      kw_layers, nw, params, wh_total, dense_model, t.conv, t.assembly, t.attention, t.pool,
                      g->weight_bytes, g->ws_bytes, g->ws_bound, g->ws_floor, g->code_bytes,
                      g->weight_bytes + g->code_bytes);
        return kw_buf_take(&b, NULL);
    }
    char c1[32], c2[32], c3[32], c4[32], c5[32];
    kw_buf_printf(&b, "%-34s %-9s %3s %4s %4s %-11s %9s %9s %9s %9s %9s %10s\n", "layer", "kind", "wh", "n", "m", "cell",
                  "stored", "dense", "conv MAC", "asm MAC", "attn MAC", "scratch B");
    for (int i = 0; i < nrows; i++) {
        const Row *r = &rows[i];
        char cell[32] = "-", wh[8] = "-", nn[8] = "-", mm[8] = "-";
        if (r->wh >= 0) {
            snprintf(cell, sizeof cell, r->ck > 1 ? "%dx%dx%d" : "%dx%d", r->co, r->ci, r->ck);
            snprintf(wh, sizeof wh, "%d", r->wh);
            snprintf(nn, sizeof nn, "%d", r->n);
            snprintf(mm, sizeof mm, "%d", r->m);
        }
        fmt_count(c1, sizeof c1, r->stored);
        fmt_count(c2, sizeof c2, r->dense);
        fmt_count(c3, sizeof c3, r->conv);
        fmt_count(c4, sizeof c4, r->assembly);
        fmt_count(c5, sizeof c5, r->attention);
        char name[35];
        snprintf(name, sizeof name, "%s", r->name);
        kw_buf_printf(&b, "%-34s %-9.9s %3s %4s %4s %-11s %9s %9s %9s %9s %9s %10" PRId64 "\n", name, r->kind, wh, nn,
                      mm, cell, c1, c2, c3, c4, c5, r->scratch);
    }
    if (nw) {
        kw_buf_printf(&b, "\n%-10s %12s %7s %16s %8s\n", "warehouse", "params", "layers", "dense of layers", "ratio");
        for (int w = 0; w < nw; w++)
            kw_buf_printf(&b, "%-10d %12" PRId64 " %7d %16" PRId64 " %7.2fx\n", w, wsize[w], wlayers[w], wdense[w],
                          wsize[w] ? (double)wdense[w] / (double)wsize[w] : 0.0);
    }
    kw_buf_printf(&b, "\ntotals: %" PRId64 " KW layers, %d warehouses\n", kw_layers, nw);
    kw_buf_printf(&b, "  parameters stored      %12" PRId64 "  (warehouses %" PRId64 ", attention %" PRId64
                      ", everything else %" PRId64 ")\n",
                  params, wh_total, kw_attn, params - wh_total - kw_attn);
    kw_buf_printf(&b, "  same model, static     %12" PRId64 "  (every KW layer as a dense conv)\n", dense_model);
    kw_buf_printf(&b, "  MACs: conv/fc %" PRId64 " (KW convs %" PRId64 "), assembly %" PRId64 ", attention %" PRId64
                      ", pool adds %" PRId64 "\n",
                  t.conv, kw_conv, t.assembly, t.attention, t.pool);
    kw_buf_printf(&b, "  weights %" PRId64 " bytes, workspace %" PRId64 " bytes\n", g->weight_bytes, g->ws_bytes);
    kw_buf_printf(&b, "  flash: weights %" PRId64 " + code and tables about %" PRId64 " = about %" PRId64 " bytes\n",
                  g->weight_bytes, g->code_bytes, g->weight_bytes + g->code_bytes);
    kw_buf_printf(&b, "  RAM: workspace %" PRId64 " bytes; lower bound %" PRId64 " (%.2fx), at '%s'%s\n", g->ws_bytes,
                  g->ws_bound, g->ws_bound ? (double)g->ws_bytes / (double)g->ws_bound : 1.0,
                  g->ws_bound_node >= 0 ? g->n[g->ws_bound_node].name : "-",
                  g->opt->max_ram ? "" : " (kwcc --max-ram trades speed for less)");
    return kw_buf_take(&b, NULL);
}
