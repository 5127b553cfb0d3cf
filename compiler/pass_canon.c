/* pass_canon.c -- canonicalisation: put decomposed patterns back together.
 *
 * torch.onnx.export at opset 13 spells LayerNorm as nine nodes
 *     ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul gamma, Add beta
 * and exact GELU as five (Div sqrt2, Erf, Add 1, Mul x, Mul 0.5). Both become one node
 * (Norm, Gelu): one pass over memory instead of nine, no intermediate buffers, and a single
 * shape for pass_kw to recognise in KernelWarehouse attention. The last node of the pattern
 * is rewritten in place; the rest dies in DCE unless something else reads it. */
#include <math.h>
#include <string.h>

#include "kwcc_int.h"

/* A constant with one element: its value. */
static int scalar(KwGraph *g, int v, float *out)
{
    if (v < 0 || !g->v[v].data || kw_numel(&g->v[v].shape) != 1)
        return 0;
    *out = kw_const_scalar(g, v);
    return 1;
}

/* For a commutative binary node: if one input is a scalar constant, its value, and the other
 * input. */
static int split_scalar(KwGraph *g, const KwNode *n, float *c, int *other)
{
    for (int k = 0; k < 2; k++)
        if (scalar(g, n->in[k], c)) {
            *other = n->in[1 - k];
            return 1;
        }
    return 0;
}

static int near(float a, float b) { return fabsf(a - b) <= 1e-6f * fabsf(b); }

/* Reduction mask of a ReduceMean as [a0, a1); -1 if not one contiguous block or not keepdims. */
static int reduce_block(KwGraph *g, KwNode *r, int rank, int *a0, int *a1)
{
    int mask[KW_MAX_RANK], noop;
    int64_t keep;
    if (kw_reduce_axes(g, r, rank, mask, &noop) < 0 || noop)
        return -1;
    if (kw_attr_int(g, r, "keepdims", 1, &keep) < 0 || !keep)
        return -1;
    *a0 = -1;
    *a1 = -1;
    for (int i = 0; i < rank; i++) {
        if (mask[i] && *a0 < 0)
            *a0 = i;
        if (mask[i])
            *a1 = i + 1;
    }
    if (*a0 < 0)
        return -1;
    for (int i = *a0; i < *a1; i++)
        if (!mask[i])
            return -1;
    return 0;
}

/* gamma/beta: a constant broadcasting over the block [a0, a1) of shape s only, as a vector
 * of the block's n elements; -1 if it varies elsewhere. */
static int block_vector(KwGraph *g, int v, const KwShape *s, int a0, int a1)
{
    const KwValue *c = &g->v[v];
    if (!c->data || c->dt != KW_F32 || c->shape.rank > s->rank)
        return -1;
    int off = s->rank - c->shape.rank;
    for (int i = 0; i < c->shape.rank; i++) {
        int d = i + off;
        int64_t cd = c->shape.d[i];
        if ((d < a0 || d >= a1) ? cd != 1 : (cd != 1 && cd != s->d[d]))
            return -1;
    }
    int64_t n = 1;
    for (int d = a0; d < a1; d++)
        n *= s->d[d];
    int out = kw_const_f32(g, kw_fmt(g->arena, "%s.vec", g->v[v].name), 1, &n, NULL);
    const float *src = g->v[v].data;
    float *dst = g->v[out].data;
    for (int64_t j = 0; j < n; j++) {
        /* coordinates of j inside the block, then c's flat index */
        int64_t rem = j, idx = 0, mul = 1;
        for (int d = a1 - 1; d >= a0; d--) {
            int64_t coord = rem % s->d[d];
            rem /= s->d[d];
            int ci = d - off;
            if (ci >= 0) {
                if (g->v[v].shape.d[ci] != 1)
                    idx += coord * mul;
                mul *= g->v[v].shape.d[ci];
            }
        }
        dst[j] = src[idx];
    }
    return out;
}

static int const_vector(KwGraph *g, int64_t n, float value)
{
    int v = kw_const_f32(g, "norm.default", 1, &n, NULL);
    float *p = g->v[v].data;
    for (int64_t i = 0; i < n; i++)
        p[i] = value;
    return v;
}

static int single_use_by(KwGraph *g, int v, KwOp op, KwNode **user)
{
    int c[2];
    if (g->v[v].n_use != 1 || kw_ir_consumers(g, v, c, 2) != 1 || kw_ir_is_graph_output(g, v))
        return 0;
    *user = &g->n[c[0]];
    return (*user)->op == op;
}

static void try_layernorm(KwGraph *g, KwNode *div)
{
    KwNode *sub = kw_def(g, div->in[0], KW_OP_Sub), *sq = kw_def(g, div->in[1], KW_OP_Sqrt);
    if (!sub || !sq)
        return;
    int x = sub->in[0];
    KwNode *rm1 = kw_def(g, sub->in[1], KW_OP_ReduceMean), *ad = kw_def(g, sq->in[0], KW_OP_Add);
    if (!rm1 || rm1->in[0] != x || !ad)
        return;
    float eps;
    int var;
    if (!split_scalar(g, ad, &eps, &var))
        return;
    KwNode *rm2 = kw_def(g, var, KW_OP_ReduceMean);
    if (!rm2)
        return;
    KwNode *pw = kw_def(g, rm2->in[0], KW_OP_Pow);
    float two;
    if (!pw || pw->in[0] != div->in[0] || !scalar(g, pw->in[1], &two) || two != 2.0f)
        return;
    KwShape shape = g->v[x].shape; /* a copy: new constants may move g->v */
    const KwShape *s = &shape;
    int a0, a1, b0, b1;
    if (reduce_block(g, rm1, s->rank, &a0, &a1) < 0 || reduce_block(g, rm2, s->rank, &b0, &b1) < 0 || a0 != b0 ||
        a1 != b1)
        return;
    int64_t n = 1;
    for (int d = a0; d < a1; d++)
        n *= s->d[d];
    /* the affine tail, when it is there */
    KwNode *last = div, *mul, *add;
    int gamma = -1, beta = -1;
    if (single_use_by(g, div->out[0], KW_OP_Mul, &mul)) {
        int c = mul->in[0] == div->out[0] ? mul->in[1] : mul->in[0];
        if ((gamma = block_vector(g, c, s, a0, a1)) >= 0) {
            last = mul;
            if (single_use_by(g, mul->out[0], KW_OP_Add, &add)) {
                int b = add->in[0] == mul->out[0] ? add->in[1] : add->in[0];
                if ((beta = block_vector(g, b, s, a0, a1)) >= 0)
                    last = add;
            }
        }
    }
    if (gamma < 0)
        gamma = const_vector(g, n, 1.0f);
    if (beta < 0)
        beta = const_vector(g, n, 0.0f);
    int in[3] = {x, gamma, beta};
    kw_note(g->diag, "canon: LayerNorm over dims [%d,%d) of %s ending at '%s' -> one Norm node", a0, a1,
            kw_shape_str(g->arena, s), last->name);
    kw_node_rewrite(g, last, KW_OP_Norm, 3, in);
    kw_set_attr_int(g, last, "axis", a0);
    kw_set_attr_int(g, last, "axis_end", a1);
    kw_set_attr_float(g, last, "epsilon", eps);
}

static void try_gelu(KwGraph *g, KwNode *m3)
{
    float half, one, rt2;
    int u;
    if (!split_scalar(g, m3, &half, &u) || !near(half, 0.5f))
        return;
    KwNode *m2 = kw_def(g, u, KW_OP_Mul);
    if (!m2)
        return;
    for (int k = 0; k < 2; k++) {
        int x = m2->in[k];
        KwNode *ad = kw_def(g, m2->in[1 - k], KW_OP_Add);
        int e;
        if (!ad || !split_scalar(g, ad, &one, &e) || one != 1.0f)
            continue;
        KwNode *erf = kw_def(g, e, KW_OP_Erf);
        KwNode *dv = erf ? kw_def(g, erf->in[0], KW_OP_Div) : NULL;
        if (!dv || dv->in[0] != x || !scalar(g, dv->in[1], &rt2) || !near(rt2, 1.41421356f))
            continue;
        kw_note(g->diag, "canon: exact GELU ending at '%s' -> one Gelu node", m3->name);
        kw_node_rewrite(g, m3, KW_OP_Gelu, 1, &x);
        return;
    }
}

int kw_pass_canon(KwGraph *g)
{
    kw_ir_count_uses(g);
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (!n->dead && n->op == KW_OP_Div)
            try_layernorm(g, n);
    }
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (!n->dead && n->op == KW_OP_Mul)
            try_gelu(g, n);
    }
    return kw_pass_dce(g);
}
