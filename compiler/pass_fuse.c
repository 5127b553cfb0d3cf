/* pass_fuse.c -- epilogue fusion.
 *
 *   Conv(const W) -> BatchNormalization      W and bias rescaled at compile time
 *   Gemm(const B, C) -> BatchNormalization   B's columns and C rescaled, alpha/beta folded
 *   KwConv -> BatchNormalization             per-channel scale and shift in the conv epilogue
 *                                            (the shared warehouse cannot absorb it)
 *   Conv | KwConv -> Add(other)              the other operand added in the epilogue
 *   Conv | KwConv | Gemm | MatMul | Affine -> Relu | Clip(const)   activation in the epilogue
 *   any other BatchNormalization             an Affine node (scale, shift folded)
 *
 * A producer is fused only into its single consumer, never when its output is a graph output,
 * and a residual only when the other operand is ready before the producer runs. */
#include <math.h>
#include <string.h>

#include "kwcc_int.h"

/* Whether v has exactly one reader and is not a graph output. */
static int read_once(KwGraph *g, int v)
{
    return v >= 0 && g->v[v].n_use == 1 && !kw_ir_is_graph_output(g, v);
}

/* The node producing v if v has exactly one reader, is not a graph output, and the node is
 * one of the given kinds with an empty epilogue so far. Views that keep the shape (the
 * Reshape the KernelWarehouse export leaves after its conv, at batch 1), each read once, are
 * looked through: the producer then takes over the consumer's output and the views die in
 * the next dce. */
static KwNode *sole_producer(KwGraph *g, int v, int kinds)
{
    while (read_once(g, v) && g->v[v].producer >= 0) {
        const KwNode *n = &g->n[g->v[v].producer];
        if (n->dead || !(kw_op_info[n->op].flags & KW_OPF_VIEW) || n->n_in < 1 || !read_once(g, n->in[0]) ||
            !kw_shape_eq(&g->v[n->in[0]].shape, &g->v[v].shape) || g->v[n->in[0]].dt != g->v[v].dt)
            break;
        v = n->in[0];
    }
    if (!read_once(g, v) || g->v[v].producer < 0)
        return NULL;
    KwNode *p = &g->n[g->v[v].producer];
    if (p->dead || p->n_out != 1)
        return NULL;
    int k = p->op == KW_OP_Conv ? 1 : p->op == KW_OP_KwConv ? 2 : p->op == KW_OP_Gemm ? 4
            : p->op == KW_OP_MatMul ? 8 : p->op == KW_OP_Affine ? 16 : 0;
    return (k & kinds) ? p : NULL;
}

/* p takes over n's output; n dies, and so do the views sole_producer looked through from
 * n's input a back to p's output. */
static void absorb(KwGraph *g, KwNode *p, KwNode *n, int a)
{
    int y = n->out[0];
    while (a != p->out[0]) {
        KwNode *view = &g->n[g->v[a].producer];
        view->dead = 1;
        a = view->in[0];
    }
    p->out[0] = y;
    g->v[y].producer = (int)(p - g->n);
    n->dead = 1;
}

/* Gemm(A, const B, const C) -> BatchNormalization over its N columns: B's columns and C
 * rescaled, alpha and beta folded to 1. Returns 1 when folded. */
static int fold_bn_gemm(KwGraph *g, KwNode *bn, int sc, int sh)
{
    KwNode *p = sole_producer(g, bn->in[0], 4);
    if (!p || p->epi.act || !kw_is_const(g, p->in[1]) || (p->n_in > 2 && p->in[2] >= 0 && !kw_is_const(g, p->in[2])))
        return 0;
    int64_t tb;
    float alpha, beta;
    kw_attr_int(g, p, "transB", 0, &tb);
    kw_attr_float(g, p, "alpha", 1.0f, &alpha);
    kw_attr_float(g, p, "beta", 1.0f, &beta);
    KwShape ys = g->v[p->out[0]].shape, bs = g->v[p->in[1]].shape;
    int64_t M = ys.d[0], N = ys.d[1];
    const float *s = g->v[sc].data, *t = g->v[sh].data, *b = g->v[p->in[1]].data;
    int nbv = kw_const_new(g, kw_fmt(g->arena, "%s.w_bn", p->name), KW_F32, &bs, NULL);
    float *nb = g->v[nbv].data;
    for (int64_t i = 0; i < kw_numel(&bs); i++) {
        int64_t col = tb ? i / bs.d[1] : i % bs.d[1]; /* the output column this weight feeds */
        nb[i] = b[i] * alpha * s[col];
    }
    int ncv = kw_const_new(g, kw_fmt(g->arena, "%s.bias_bn", p->name), KW_F32, &ys, NULL);
    float *nc = g->v[ncv].data;
    int cv = p->n_in > 2 ? p->in[2] : -1;
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            float c = 0.0f;
            if (cv >= 0) { /* C broadcast (unidirectionally) to [M, N] */
                const KwShape *cs = &g->v[cv].shape;
                int64_t cm = cs->rank == 2 && cs->d[0] != 1 ? m : 0;
                int64_t cn = cs->rank >= 1 && cs->d[cs->rank - 1] != 1 ? n : 0;
                c = ((const float *)g->v[cv].data)[cs->rank == 2 ? cm * cs->d[1] + cn : cn];
            }
            nc[m * N + n] = beta * c * s[n] + t[n];
        }
    int in[3] = {p->in[0], nbv, ncv};
    int *arr = KW_NEWN(g->arena, int, 3);
    memcpy(arr, in, sizeof in);
    p->in = arr;
    p->n_in = 3;
    kw_set_attr_float(g, p, "alpha", 1.0f);
    kw_set_attr_float(g, p, "beta", 1.0f);
    kw_note(g->diag, "fuse: BatchNormalization '%s' folded into Gemm '%s'", bn->name, p->name);
    absorb(g, p, bn, bn->in[0]);
    return 1;
}

static int fold_bn(KwGraph *g, KwNode *bn)
{
    int sc, sh;
    KW_TRY(kw_bn_scale_shift(g, bn, &sc, &sh));
    KwNode *p = sole_producer(g, bn->in[0], 1 | 2);
    const float *s = g->v[sc].data, *t = g->v[sh].data;
    if (p && p->epi.act == 0 && p->epi.res < 0 && p->epi.scale < 0 &&
        (p->op == KW_OP_KwConv || (kw_is_const(g, p->in[1]) && (p->n_in < 3 || p->in[2] < 0 || kw_is_const(g, p->in[2]))))) {
        int64_t O = g->v[sc].shape.d[0];
        int bias = p->op == KW_OP_KwConv ? p->kw->bias : (p->n_in > 2 ? p->in[2] : -1);
        int nb = kw_const_f32(g, kw_fmt(g->arena, "%s.bias_bn", p->name), 1, &O, NULL);
        float *b = g->v[nb].data;
        for (int64_t o = 0; o < O; o++)
            b[o] = (bias >= 0 ? ((const float *)g->v[bias].data)[o] * s[o] : 0.0f) + t[o];
        if (p->op == KW_OP_KwConv) {
            p->epi.scale = sc;
            p->kw->bias = nb;
        } else {
            KwShape wshape = g->v[p->in[1]].shape; /* copies: kw_const_new may move g->v */
            const void *wdata = g->v[p->in[1]].data;
            int nw = kw_const_new(g, kw_fmt(g->arena, "%s.w_bn", p->name), KW_F32, &wshape, wdata);
            int64_t per = kw_numel(&g->v[nw].shape) / O;
            float *wd = g->v[nw].data;
            for (int64_t o = 0; o < O; o++)
                for (int64_t i = 0; i < per; i++)
                    wd[o * per + i] *= s[o];
            int in[3] = {p->in[0], nw, nb};
            p->n_in = 3;
            int *arr = KW_NEWN(g->arena, int, 3);
            memcpy(arr, in, sizeof in);
            p->in = arr;
        }
        kw_note(g->diag, "fuse: BatchNormalization '%s' folded into %s '%s'", bn->name, p->op_type, p->name);
        absorb(g, p, bn, bn->in[0]);
        return 0;
    }
    if (fold_bn_gemm(g, bn, sc, sh) == 1)
        return 0;
    int in[3] = {bn->in[0], sc, sh};
    kw_node_rewrite(g, bn, KW_OP_Affine, 3, in);
    return 0;
}

static void fuse_residual(KwGraph *g, int id)
{
    KwNode *add = &g->n[id];
    const KwShape *ys = &g->v[add->out[0]].shape;
    KwNode *best = NULL;
    int other = -1;
    for (int t = 0; t < 2; t++) {
        int a = add->in[t], b = add->in[1 - t];
        if (a == b || !kw_shape_eq(&g->v[a].shape, ys) || !kw_shape_eq(&g->v[b].shape, ys) || g->v[b].dt != KW_F32)
            continue;
        KwNode *p = sole_producer(g, a, 1 | 2);
        if (!p || p->epi.act || p->epi.res >= 0)
            continue;
        int pid = (int)(p - g->n), bp = g->v[b].producer;
        if (bp >= pid)
            continue; /* the residual must exist when p runs */
        if (!best || pid > (int)(best - g->n)) {
            best = p;
            other = b;
        }
    }
    if (!best)
        return;
    best->epi.res = other;
    kw_note(g->diag, "fuse: residual Add '%s' into %s '%s'", add->name, best->op_type, best->name);
    absorb(g, best, add, add->in[0] == other ? add->in[1] : add->in[0]);
}

static void fuse_activation(KwGraph *g, KwNode *n)
{
    KwNode *p = sole_producer(g, n->in[0], 1 | 2 | 4 | 8 | 16);
    if (!p || p->epi.act)
        return;
    if (n->op == KW_OP_Relu) {
        p->epi.act = KW_ACT_RELU;
    } else {
        float lo = -INFINITY, hi = INFINITY;
        for (int i = 1; i < n->n_in; i++)
            if (n->in[i] >= 0) {
                if (!kw_is_const(g, n->in[i]))
                    return;
                *(i == 1 ? &lo : &hi) = kw_const_scalar(g, n->in[i]);
            }
        if (!isfinite(lo) || !isfinite(hi))
            return; /* one-sided Clips stay standalone (no infinite constants in the C) */
        p->epi.act = KW_ACT_CLIP;
        p->epi.lo = lo;
        p->epi.hi = hi;
    }
    absorb(g, p, n, n->in[0]);
}

int kw_pass_fuse(KwGraph *g)
{
    kw_ir_count_uses(g);
    for (int i = 0; i < g->nn; i++)
        if (!g->n[i].dead && g->n[i].op == KW_OP_BatchNormalization)
            KW_TRY(fold_bn(g, &g->n[i]));
    kw_ir_count_uses(g);
    for (int i = 0; i < g->nn; i++)
        if (!g->n[i].dead && g->n[i].op == KW_OP_Add)
            fuse_residual(g, i);
    kw_ir_count_uses(g);
    for (int i = 0; i < g->nn; i++)
        if (!g->n[i].dead && (g->n[i].op == KW_OP_Relu || g->n[i].op == KW_OP_Clip))
            fuse_activation(g, &g->n[i]);
    return 0;
}
