/* pass_kw.c -- KernelWarehouse lifting: every exported KW layer becomes one KwConv node.
 *
 * torch.onnx.export spells one KW conv as ~30 nodes (../shared/docs/KW_ONNX.md):
 *
 *   x -> Reshape -> GlobalAveragePool -> Squeeze -> fc1 (MatMul/Gemm) -> BatchNorm | LayerNorm
 *     -> Relu -> fc2 Gemm                     (or the non-local basis path: MatMul, Slices,
 *                                              fc3 MatMul, Concat, + basis_bias)
 *     -> Reshape[m,P] -> Abs, ReduceSum, Add eps, Div      (L1 normalisation over P planes)
 *     -> Mul (1-T), Add (T*temp_bias)                      (temperature blend)
 *     -> Slice [:, 0:n]                                    (drop the zero plane)   = A [m,n]
 *   A -> Gemm(A, E2 [n,S]) -> Reshape rank 6+D -> Transpose -> Reshape [O,C/g,k...] = W
 *   Conv(x, W [, bias])
 *
 * The matcher walks back from each Conv whose weight is computed at run time and checks every
 * step; the kernel's index map is not trusted from the Reshape constants but recomputed: the
 * permutation the Reshape/Transpose chain applies is simulated and compared, element by
 * element, with the map the KW geometry implies. Anything that does not match exactly stays
 * on the generic path, which is correct, and -v says why.
 *
 * The lifted node holds: the warehouse (laid out at lowering so that assembly writes the conv's
 * weight layout directly), fc1 with BatchNorm and the pool's 1/HW folded in, fc2 (or fc2 and fc3 of
 * the basis path), the normalisation epsilon, the temperature blend as a scale and a constant,
 * and the cell geometry. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

typedef struct Ctx {
    KwGraph *g;
    KwNode *conv;
    const char *why;
    int *wh_of;       /* E2 value id -> itself once numbered (-1: not yet) */
    int *wh_num;      /* E2 value id -> warehouse number */
} Ctx;

#define FAIL(...)                                                                                   \
    do {                                                                                            \
        cx->why = kw_fmt(cx->g->arena, __VA_ARGS__);                                                \
        return -1;                                                                                  \
    } while (0)

static const KwShape *shape_of(Ctx *cx, int v) { return &cx->g->v[v].shape; }

static int is_const_f32(Ctx *cx, int v)
{
    return v >= 0 && cx->g->v[v].data && cx->g->v[v].dt == KW_F32;
}

static int scalar_const(Ctx *cx, int v, float *out)
{
    if (!is_const_f32(cx, v) || kw_numel(shape_of(cx, v)) != 1)
        return 0;
    *out = kw_const_scalar(cx->g, v);
    return 1;
}

/* The producer of v (views looked through) if it is `op`. */
static KwNode *def_through(Ctx *cx, int v, KwOp op)
{
    return kw_def(cx->g, kw_strip_views(cx->g, v), op);
}

/* A constant broadcast to `count` elements in row-major order of `to`. */
static float *broadcast_to(Ctx *cx, int c, const KwShape *to)
{
    KwGraph *g = cx->g;
    const KwShape *cs = shape_of(cx, c);
    int64_t cnt = kw_numel(to);
    float *out = kw_alloc(g->arena, sizeof(float) * (size_t)(cnt ? cnt : 1));
    const float *src = g->v[c].data;
    for (int64_t i = 0; i < cnt; i++) {
        int64_t rem = i, idx = 0, mul = 1;
        for (int d = to->rank - 1; d >= 0; d--) {
            int64_t coord = rem % to->d[d];
            rem /= to->d[d];
            int k = d - (to->rank - cs->rank);
            if (k >= 0) {
                if (cs->d[k] != 1)
                    idx += coord * mul;
                mul *= cs->d[k];
            }
        }
        out[i] = src[idx];
    }
    return out;
}

static int new_const(Ctx *cx, const char *name, int rows, int cols, const float *data)
{
    int64_t d[2] = {rows, cols};
    return kw_const_f32(cx->g, kw_fmt(cx->g->arena, "%s.%s", cx->conv->name, name), cols ? 2 : 1,
                        cols ? d : &d[0], data);
}

/* Transposed copy of a [r][c] constant. */
static float *transposed(Ctx *cx, int v)
{
    const KwShape *s = shape_of(cx, v);
    int64_t r = s->d[0], c = s->d[1];
    const float *src = cx->g->v[v].data;
    float *t = kw_alloc(cx->g->arena, sizeof(float) * (size_t)(r * c));
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < c; j++)
            t[j * r + i] = src[i * c + j];
    return t;
}

/* ------------------------------------------------------------- assembly and kernel map */

/* W = Reshape(Transpose(Reshape(Gemm(A, E2)))): fills the geometry, returns A. */
static int match_assembly(Ctx *cx, KwKwInfo *k, int *A_out, int *E2_out)
{
    KwGraph *g = cx->g;
    KwNode *conv = cx->conv;
    const KwShape *ws = shape_of(cx, conv->in[1]);
    KwNode *tr = def_through(cx, conv->in[1], KW_OP_Transpose);
    if (!tr)
        FAIL("its weight is not a Transpose of the assembled cells");
    int r8 = tr->in[0];
    KwNode *gm = def_through(cx, r8, KW_OP_Gemm);
    if (!gm)
        FAIL("the transposed tensor does not come from a Gemm against a warehouse");
    int64_t ta, tb;
    float alpha;
    kw_attr_int(g, gm, "transA", 0, &ta);
    kw_attr_int(g, gm, "transB", 0, &tb);
    kw_attr_float(g, gm, "alpha", 1.0f, &alpha);
    if (ta || tb || alpha != 1.0f || (gm->n_in > 2 && gm->in[2] >= 0))
        FAIL("the assembly Gemm is not a plain A x E2 (transA/transB/alpha/C)");
    int E2 = gm->in[1];
    if (!is_const_f32(cx, E2) || shape_of(cx, E2)->rank != 2)
        FAIL("the assembly Gemm's B is not a constant warehouse [n, S]");
    const KwShape *rs = shape_of(cx, r8), *as = shape_of(cx, gm->in[0]);
    int D = ws->rank - 2;
    if (rs->rank != 6 + D || rs->d[0] != 1)
        FAIL("the cell tensor has shape %s, expected [1, G_s, G_o, G_i, cell_out, cell_in, cell_k...]",
             kw_shape_str(g->arena, rs));
    int64_t n = shape_of(cx, E2)->d[0], S = shape_of(cx, E2)->d[1];
    int64_t Gs = rs->d[1], Go = rs->d[2], Gi = rs->d[3], co = rs->d[4], ci = rs->d[5], cks = 1, ks = 1;
    for (int d = 0; d < D; d++) {
        cks *= rs->d[6 + d];
        ks *= ws->d[2 + d];
    }
    int64_t m = Gs * Go * Gi;
    if (as->rank != 2 || as->d[0] != m || as->d[1] != n || co * ci * cks != S || Go * co != ws->d[0] ||
        Gi * ci != ws->d[1] || Gs * cks != ks)
        FAIL("cell geometry %s does not tile the kernel %s with a warehouse [%" PRId64 ",%" PRId64 "]",
             kw_shape_str(g->arena, rs), kw_shape_str(g->arena, ws), n, S);
    int full = 1, ones = 1;
    for (int d = 0; d < D; d++) {
        full &= rs->d[6 + d] == ws->d[2 + d];
        ones &= rs->d[6 + d] == 1;
    }
    if (!full && !ones)
        FAIL("cells cover part of the kernel window (neither 1 nor the whole window)");
    /* the permutation the chain applies, simulated on an iota, against the KW map */
    int64_t perm[KW_MAX_RANK];
    int cnt;
    if (kw_attr_ints(g, tr, "perm", perm, KW_MAX_RANK, &cnt) < 0 || cnt != rs->rank)
        FAIL("the Transpose has no usable perm");
    int64_t total = kw_numel(ws), in_st[KW_MAX_RANK], idx[KW_MAX_RANK] = {0}, acc = 1;
    for (int i = rs->rank - 1; i >= 0; i--) {
        in_st[i] = acc;
        acc *= rs->d[i];
    }
    int ok = 1;
    int64_t src = 0;
    for (int64_t w = 0; w < total && ok; w++) {
        /* expected: W element w = (o, c, kflat) -> Agg[j][cell] */
        int64_t kflat = w % ks, c = (w / ks) % ws->d[1], o = w / (ks * ws->d[1]);
        int64_t go = o / co, a = o % co, gi = c / ci, b = c % ci, s = kflat / cks, kc = kflat % cks;
        int64_t j = (s * Go + go) * Gi + gi, cell = (a * ci + b) * cks + kc;
        ok = src == j * S + cell;
        /* advance the odometer over the transposed shape */
        for (int d = rs->rank - 1; d >= 0; d--) {
            src += in_st[perm[d]];
            if (++idx[d] < rs->d[perm[d]])
                break;
            src -= in_st[perm[d]] * rs->d[perm[d]];
            idx[d] = 0;
        }
    }
    if (!ok)
        FAIL("the Reshape/Transpose chain does not place cells where KernelWarehouse semantics do");
    k->O = (int)ws->d[0];
    k->Cg = (int)ws->d[1];
    k->nsp = D;
    for (int s2 = 0; s2 < 3; s2++) {
        int d = s2 - (3 - D);
        k->k[s2] = d >= 0 ? (int)ws->d[2 + d] : 1;
        k->ck[s2] = d >= 0 ? (int)rs->d[6 + d] : 1;
    }
    k->co = (int)co;
    k->ci = (int)ci;
    k->Go = (int)Go;
    k->Gi = (int)Gi;
    k->Gs = (int)Gs;
    k->S = (int)S;
    k->attn.m = (int)m;
    k->attn.n = (int)n;
    *A_out = gm->in[0];
    *E2_out = E2;
    return 0;
}

/* ------------------------------------------------------------- attention tail */

/* A = Slice(Reshape(Add(Mul(Reshape(Div(Z, Den)), tscale), tb)), [:, 0:n]): returns Z. */
static int match_normalisation(Ctx *cx, KwKwInfo *k, int A, int *Z_out)
{
    KwGraph *g = cx->g;
    int m = k->attn.m, n = k->attn.n, P = n + 1;
    KwNode *sl = kw_def(g, A, KW_OP_Slice);
    if (!sl)
        FAIL("the attention is not a Slice dropping the zero plane");
    const KwShape *zs = shape_of(cx, sl->in[0]);
    int64_t start[KW_MAX_RANK], step[KW_MAX_RANK];
    KwShape so;
    if (zs->rank != 2 || zs->d[0] != m || zs->d[1] != P || kw_slice_geom(g, sl, zs, start, step, &so) < 0 ||
        start[0] != 0 || start[1] != 0 || step[0] != 1 || step[1] != 1 || so.d[1] != n)
        FAIL("the zero-plane Slice does not keep planes 0..n-1 of [m, n+1]");
    KwNode *add = def_through(cx, sl->in[0], KW_OP_Add);
    if (!add)
        FAIL("no temperature Add before the zero-plane Slice");
    int K = m * P;
    for (int t = 0; t < 2; t++) {
        int c = add->in[t], mulv = add->in[1 - t];
        KwNode *mul = kw_def(g, mulv, KW_OP_Mul);
        if (!is_const_f32(cx, c) || !mul || kw_numel(shape_of(cx, mulv)) != K)
            continue;
        KwShape flat = *shape_of(cx, mulv);
        KwShape bs;
        if (kw_bcast_shape(g, add, shape_of(cx, c), &flat, &bs) < 0 || !kw_shape_eq(&bs, &flat))
            FAIL("temperature constant does not broadcast to the logits");
        for (int u = 0; u < 2; u++) {
            float ts;
            if (!scalar_const(cx, mul->in[u], &ts))
                continue;
            KwNode *div = def_through(cx, mul->in[1 - u], KW_OP_Div);
            if (!div)
                FAIL("no L1 normalisation (Div) before the temperature blend");
            /* Den = Add(Reshape(ReduceSum(Abs(Z), axes=[1], keepdims=0)), eps) */
            int Z = div->in[0];
            const KwShape *dz = shape_of(cx, Z);
            if (dz->rank != 2 || dz->d[0] != m || dz->d[1] != P)
                FAIL("the normalised logits are not [m, n+1]");
            KwNode *den = def_through(cx, div->in[1], KW_OP_Add);
            float eps = 0.0f;
            int sum = -1;
            if (!den)
                FAIL("no epsilon Add in the L1 denominator");
            for (int e = 0; e < 2; e++)
                if (scalar_const(cx, den->in[e], &eps))
                    sum = den->in[1 - e];
            KwNode *rsum = sum >= 0 ? def_through(cx, sum, KW_OP_ReduceSum) : NULL;
            KwNode *ab = rsum ? kw_def(g, rsum->in[0], KW_OP_Abs) : NULL;
            int mask[KW_MAX_RANK], noop;
            if (!ab || kw_strip_views(g, ab->in[0]) != kw_strip_views(g, Z) ||
                !kw_shape_eq(shape_of(cx, ab->in[0]), dz) || kw_reduce_axes(g, rsum, 2, mask, &noop) < 0 || noop ||
                mask[0] || !mask[1])
                FAIL("the L1 denominator is not sum(|z|) over the planes of each mixture");
            const KwShape *den_s = shape_of(cx, div->in[1]);
            if (kw_numel(den_s) != m || den_s->rank != 2 || den_s->d[1] != 1)
                FAIL("the L1 denominator is not [m, 1]");
            k->attn.eps = eps;
            k->attn.tscale = ts;
            /* T*temp_bias with the zero plane dropped */
            float *tbfull = broadcast_to(cx, c, &flat);
            float *tb = kw_alloc(g->arena, sizeof(float) * (size_t)(m * n));
            for (int j = 0; j < m; j++)
                for (int p = 0; p < n; p++)
                    tb[j * n + p] = tbfull[j * P + p];
            k->tb = new_const(cx, "kw_tb", m * n, 0, tb);
            *Z_out = Z;
            return 0;
        }
    }
    FAIL("the temperature blend is not Mul(scalar) then Add(constant)");
}

/* ------------------------------------------------------------- logits: fc2 or basis */

typedef struct Piece {
    int src, begin, end; /* columns [begin, end) of src ([rows, cols]) */
} Piece;

static int piece_of(Ctx *cx, int v, Piece *p)
{
    KwGraph *g = cx->g;
    KwNode *sl = kw_def(g, v, KW_OP_Slice);
    const KwShape *s = shape_of(cx, v);
    if (s->rank != 2)
        return -1;
    if (!sl) {
        p->src = v;
        p->begin = 0;
        p->end = (int)s->d[1];
        return 0;
    }
    const KwShape *xs = shape_of(cx, sl->in[0]);
    int64_t start[KW_MAX_RANK], step[KW_MAX_RANK];
    KwShape so;
    if (xs->rank != 2 || kw_slice_geom(g, sl, xs, start, step, &so) < 0 || start[0] != 0 || step[0] != 1 ||
        so.d[0] != xs->d[0] || (so.d[1] > 0 && step[1] != 1))
        return -1;
    p->src = sl->in[0];
    p->begin = (int)start[1];
    p->end = (int)(start[1] + so.d[1]);
    return 0;
}

static int same_tensor(Ctx *cx, int a, int b)
{
    return kw_strip_views(cx->g, a) == kw_strip_views(cx->g, b) && kw_shape_eq(shape_of(cx, a), shape_of(cx, b));
}

/* Z = logits [m, P] from h: fc2 Gemm (+bias), or the non-local basis path. Returns h. */
static int match_logits(Ctx *cx, KwKwInfo *k, int Z, int *h_out)
{
    KwGraph *g = cx->g;
    int m = k->attn.m, n = k->attn.n, P = n + 1, K = m * P;
    int root = kw_strip_views(g, Z);
    KwNode *fc2 = kw_def(g, root, KW_OP_Gemm);
    if (fc2) {
        int64_t ta, tb;
        float alpha, beta;
        kw_attr_int(g, fc2, "transA", 0, &ta);
        kw_attr_int(g, fc2, "transB", 0, &tb);
        kw_attr_float(g, fc2, "alpha", 1.0f, &alpha);
        kw_attr_float(g, fc2, "beta", 1.0f, &beta);
        int W2 = fc2->in[1];
        if (ta || !is_const_f32(cx, W2) || shape_of(cx, W2)->rank != 2)
            FAIL("fc2 is not h x W2 with a constant W2");
        const KwShape *w2s = shape_of(cx, W2);
        int64_t hidden = tb ? w2s->d[1] : w2s->d[0], rows = tb ? w2s->d[0] : w2s->d[1];
        if (rows != K)
            FAIL("fc2 has %" PRId64 " outputs, expected m*(n+1) = %d", rows, K);
        float *w2 = tb ? kw_dup(g->arena, g->v[W2].data, sizeof(float) * (size_t)(K * hidden)) : transposed(cx, W2);
        for (int64_t i = 0; i < K * hidden; i++)
            w2[i] *= alpha;
        float *b2 = kw_alloc(g->arena, sizeof(float) * (size_t)K);
        if (fc2->n_in > 2 && fc2->in[2] >= 0) {
            if (!is_const_f32(cx, fc2->in[2]))
                FAIL("fc2's bias is not a constant");
            KwShape ks = {2, {1, K}};
            float *bb = broadcast_to(cx, fc2->in[2], &ks);
            for (int i = 0; i < K; i++)
                b2[i] = beta * bb[i];
        }
        k->attn.hidden = (int)hidden;
        k->attn.basis = 0;
        k->w2 = new_const(cx, "kw_w2", K, (int)hidden, w2);
        k->b2 = new_const(cx, "kw_b2", K, 0, b2);
        *h_out = fc2->in[0];
        return 0;
    }
    /* the non-local basis path: Z = Reshape(Add(Reshape(Concat(pieces)), basis_bias)) */
    KwNode *add = kw_def(g, root, KW_OP_Add);
    if (!add)
        FAIL("the logits come neither from an fc2 Gemm nor from the non-local basis path");
    int bb = -1, cat_v = -1;
    for (int t = 0; t < 2; t++)
        if (is_const_f32(cx, add->in[t])) {
            bb = add->in[t];
            cat_v = add->in[1 - t];
        }
    KwNode *cat = cat_v >= 0 ? def_through(cx, cat_v, KW_OP_Concat) : NULL;
    if (!cat)
        FAIL("the basis path has no Concat of local and non-local logits");
    Piece pc[8];
    int np = 0;
    for (int i = 0; i < cat->n_in; i++) {
        Piece p;
        if (piece_of(cx, cat->in[i], &p) < 0)
            FAIL("a Concat input of the basis path is not a column slice");
        if (p.end > p.begin) {
            if (np == 8)
                FAIL("too many Concat inputs in the basis path");
            pc[np++] = p;
        }
    }
    /* expected order: [nl'[0:start]] loc [nl'[start:NL]] zero */
    int i = 0, start = 0, NL = -1, L, R;
    int nlp = -1, yr = -1;
    KwNode *fc3 = NULL;
    if (i < np && (fc3 = kw_def(g, pc[i].src, KW_OP_MatMul)) != NULL && pc[i].begin == 0) {
        nlp = pc[i].src;
        start = pc[i].end;
        i++;
    }
    if (i >= np || pc[i].begin != 0)
        FAIL("the basis path's local logits are not where expected");
    yr = pc[i].src;
    L = pc[i].end;
    i++;
    if (i < np && (nlp < 0 || same_tensor(cx, pc[i].src, nlp)) && kw_def(g, pc[i].src, KW_OP_MatMul)) {
        if (nlp < 0) {
            nlp = pc[i].src;
            fc3 = kw_def(g, nlp, KW_OP_MatMul);
        }
        if (pc[i].begin != start)
            FAIL("the non-local logits around the local ones do not join up");
        NL = pc[i].end;
        i++;
    } else if (nlp >= 0)
        NL = start;
    if (nlp < 0 || i != np - 1)
        FAIL("the basis path's Concat has an unexpected layout");
    R = (int)shape_of(cx, yr)->d[1];
    if (!same_tensor(cx, pc[i].src, yr) || pc[i].begin != R - 1 || pc[i].end != R)
        FAIL("the zero logit is not the last column of the local block");
    if (NL != (int)shape_of(cx, nlp)->d[1] || L + NL != n || shape_of(cx, yr)->d[0] != m)
        FAIL("basis sizes do not add up: L %d + NL %d vs n %d", L, NL, n);
    int B = R - L - 1;
    /* fc3: nl' = nl x W3T with nl = yr[:, L:L+B] */
    Piece nlpiece;
    if (!fc3 || !is_const_f32(cx, fc3->in[1]) || piece_of(cx, fc3->in[0], &nlpiece) < 0 ||
        !same_tensor(cx, nlpiece.src, yr) || nlpiece.begin != L || nlpiece.end != L + B)
        FAIL("fc3 does not read the non-local slice of the local block");
    const KwShape *w3s = shape_of(cx, fc3->in[1]);
    if (w3s->rank != 2 || w3s->d[0] != B || w3s->d[1] != NL)
        FAIL("fc3's weight is %s, expected [%d,%d]", kw_shape_str(g->arena, w3s), B, NL);
    /* yr = Reshape(MatMul(h, W2T [hidden, m*R])) */
    KwNode *fc2m = def_through(cx, yr, KW_OP_MatMul);
    if (!fc2m || !is_const_f32(cx, fc2m->in[1]) || shape_of(cx, fc2m->in[1])->rank != 2 ||
        shape_of(cx, fc2m->in[1])->d[1] != (int64_t)m * R)
        FAIL("the basis path's fc2 is not h x W2T [hidden, m*(L+B+1)]");
    int hidden = (int)shape_of(cx, fc2m->in[1])->d[0];
    KwShape ks = {2, {1, K}};
    if (!is_const_f32(cx, bb))
        FAIL("basis_bias is not a constant");
    KwShape bs;
    if (kw_bcast_shape(g, add, shape_of(cx, bb), &ks, &bs) < 0 || !kw_shape_eq(&bs, &ks))
        FAIL("basis_bias does not broadcast to [1, m*(n+1)]");
    k->attn.hidden = hidden;
    k->attn.basis = 1;
    k->attn.L = L;
    k->attn.B = B;
    k->attn.start = start;
    k->w2 = new_const(cx, "kw_w2", m * R, hidden, transposed(cx, fc2m->in[1]));
    k->w3 = new_const(cx, "kw_w3", NL, B, transposed(cx, fc3->in[1]));
    k->b2 = new_const(cx, "kw_b2", K, 0, broadcast_to(cx, bb, &ks));
    *h_out = fc2m->in[0];
    return 0;
}

/* ------------------------------------------------------------- attention head */

/* fc1 output u [1, hidden] = s W1^T (+ b1): the weight as [hidden][C] and the bias (or NULL). */
static int match_fc1(Ctx *cx, int u, int *s_out, float **w1, float **b1, int *hidden, int *C)
{
    KwGraph *g = cx->g;
    KwNode *f = kw_def(g, u, KW_OP_MatMul);
    int bias = -1;
    if (!f) {
        KwNode *ad = kw_def(g, u, KW_OP_Add);
        if (ad)
            for (int t = 0; t < 2; t++)
                if (is_const_f32(cx, ad->in[t]) && (f = kw_def(g, ad->in[1 - t], KW_OP_MatMul)) != NULL)
                    bias = ad->in[t];
    }
    if (f) {
        const KwShape *ws = shape_of(cx, f->in[1]);
        if (!is_const_f32(cx, f->in[1]) || ws->rank != 2)
            FAIL("fc1 is not s x W1T with a constant weight");
        *C = (int)ws->d[0];
        *hidden = (int)ws->d[1];
        *w1 = transposed(cx, f->in[1]);
    } else {
        f = kw_def(g, u, KW_OP_Gemm);
        if (!f)
            FAIL("fc1 is neither a MatMul nor a Gemm");
        int64_t ta, tb;
        float alpha, beta;
        kw_attr_int(g, f, "transA", 0, &ta);
        kw_attr_int(g, f, "transB", 0, &tb);
        kw_attr_float(g, f, "alpha", 1.0f, &alpha);
        kw_attr_float(g, f, "beta", 1.0f, &beta);
        const KwShape *ws = shape_of(cx, f->in[1]);
        if (ta || !is_const_f32(cx, f->in[1]) || ws->rank != 2)
            FAIL("fc1 Gemm is not s x W1 with a constant weight");
        *hidden = (int)(tb ? ws->d[0] : ws->d[1]);
        *C = (int)(tb ? ws->d[1] : ws->d[0]);
        *w1 = tb ? kw_dup(g->arena, g->v[f->in[1]].data, sizeof(float) * (size_t)(*hidden * *C))
                 : transposed(cx, f->in[1]);
        for (int i = 0; i < *hidden * *C; i++)
            (*w1)[i] *= alpha;
        if (f->n_in > 2 && f->in[2] >= 0) {
            if (!is_const_f32(cx, f->in[2]))
                FAIL("fc1's bias is not a constant");
            bias = f->in[2];
        }
        if (bias >= 0 && beta != 1.0f) {
            KwShape hs = {1, {*hidden}};
            float *bv = broadcast_to(cx, bias, &hs);
            for (int i = 0; i < *hidden; i++)
                bv[i] *= beta;
            *b1 = bv;
            *s_out = f->in[0];
            return 0;
        }
    }
    *b1 = NULL;
    if (bias >= 0) {
        KwShape hs = {1, {*hidden}};
        *b1 = broadcast_to(cx, bias, &hs);
    }
    *s_out = f->in[0];
    return 0;
}

/* h = Relu(norm(fc1(pool(x)))): folds BatchNorm and 1/HW into fc1; LayerNorm kept. */
static int match_head(Ctx *cx, KwKwInfo *k, int h, int x_conv)
{
    KwGraph *g = cx->g;
    KwNode *relu = kw_def(g, h, KW_OP_Relu);
    if (!relu)
        FAIL("the attention hidden layer has no Relu");
    int nv = relu->in[0], u = -1, ln = 0;
    float eps = 1e-5f;
    const float *gam = NULL, *bet = NULL, *mu = NULL, *var = NULL;
    KwNode *bn = kw_def(g, nv, KW_OP_BatchNormalization), *nrm = kw_def(g, nv, KW_OP_Norm),
           *lno = kw_def(g, nv, KW_OP_LayerNormalization);
    if (bn) {
        for (int i = 1; i < 5; i++)
            if (!is_const_f32(cx, bn->in[i]))
                FAIL("the attention BatchNorm has run-time parameters");
        kw_attr_float(g, bn, "epsilon", 1e-5f, &eps);
        gam = g->v[bn->in[1]].data;
        bet = g->v[bn->in[2]].data;
        mu = g->v[bn->in[3]].data;
        var = g->v[bn->in[4]].data;
        u = bn->in[0];
    } else if (nrm || lno) {
        KwNode *ln_n = nrm ? nrm : lno;
        const KwShape *us = shape_of(cx, ln_n->in[0]);
        int64_t a0 = 0, a1 = us->rank;
        if (nrm) {
            kw_attr_int(g, nrm, "axis", 0, &a0);
            kw_attr_int(g, nrm, "axis_end", 0, &a1);
        } else {
            int64_t ax;
            kw_attr_int(g, lno, "axis", -1, &ax);
            kw_norm_axis(ax, us->rank, &a0);
        }
        if (us->rank != 2 || a0 != 1 || a1 != 2)
            FAIL("the attention LayerNorm does not normalise the hidden vector");
        kw_attr_float(g, ln_n, "epsilon", 1e-5f, &eps);
        KwShape hs = {1, {us->d[1]}};
        for (int i = 1; i < 3; i++)
            if (ln_n->n_in > i && ln_n->in[i] >= 0 && !is_const_f32(cx, ln_n->in[i]))
                FAIL("the attention LayerNorm has run-time parameters");
        gam = broadcast_to(cx, ln_n->in[1], &hs);
        if (ln_n->n_in > 2 && ln_n->in[2] >= 0)
            bet = broadcast_to(cx, ln_n->in[2], &hs);
        else
            bet = kw_alloc(g->arena, sizeof(float) * (size_t)hs.d[0]);
        u = ln_n->in[0];
        ln = 1;
    } else
        FAIL("the attention hidden layer is neither BatchNorm nor LayerNorm");
    int s, hidden, C;
    float *w1, *b1;
    KW_TRY(match_fc1(cx, u, &s, &w1, &b1, &hidden, &C));
    /* s = Squeeze(GlobalAveragePool(Reshape(x, [1, C, -1]))) */
    KwNode *gap = def_through(cx, s, KW_OP_GlobalAveragePool);
    if (!gap)
        FAIL("the attention input is not a global average pool");
    if (kw_strip_views(g, gap->in[0]) != kw_strip_views(g, x_conv))
        FAIL("the attention pools another tensor than the conv's input");
    const KwShape *ps = shape_of(cx, gap->in[0]), *xs = shape_of(cx, x_conv);
    if (ps->d[0] != 1 || ps->d[1] != C || xs->d[0] != 1 || xs->d[1] != C || kw_numel(&g->v[s].shape) != C)
        FAIL("the pooled tensor %s does not match fc1's %d inputs or batch 1", kw_shape_str(g->arena, ps), C);
    int64_t HW = kw_numel(ps) / C;
    /* fold: BatchNorm (scale sc, shift) and the pool's 1/HW into fc1 */
    float *b1f = kw_alloc(g->arena, sizeof(float) * (size_t)hidden);
    for (int i = 0; i < hidden; i++) {
        double sc = 1.0, b = b1 ? b1[i] : 0.0;
        if (!ln) {
            sc = (double)gam[i] / sqrt((double)var[i] + (double)eps);
            b = (b - mu[i]) * sc + bet[i];
        }
        for (int c = 0; c < C; c++)
            w1[(int64_t)i * C + c] = (float)((double)w1[(int64_t)i * C + c] * sc / (double)HW);
        b1f[i] = (float)b;
    }
    k->attn.C = C;
    k->attn.HW = (int)HW;
    k->attn.hidden = hidden;
    k->attn.ln = ln;
    k->attn.ln_eps = ln ? eps : 0.0f;
    k->w1 = new_const(cx, "kw_w1", hidden, C, w1);
    k->b1 = new_const(cx, "kw_b1", hidden, 0, b1f);
    if (ln) {
        k->ln_g = new_const(cx, "kw_ln_g", hidden, 0, gam);
        k->ln_b = new_const(cx, "kw_ln_b", hidden, 0, bet);
    }
    return 0;
}

/* ------------------------------------------------------------- warehouses */

/* Numbers each warehouse (order of first use) and marks it; its physical layout is chosen
 * when the layer is lowered, for the target's conv (lower.c, warehouse_layout). */
static int warehouse(Ctx *cx, KwKwInfo *k, int E2)
{
    KwGraph *g = cx->g;
    if (cx->wh_of[E2] < 0) {
        cx->wh_of[E2] = E2;
        cx->wh_num[E2] = g->n_warehouses++;
        g->v[E2].is_warehouse = 1;
        kw_note(g->diag, "kw: warehouse %d '%s' [%" PRId64 ",%" PRId64 "]: cells %dx%dx%d", cx->wh_num[E2],
                g->v[E2].name, g->v[E2].shape.d[0], g->v[E2].shape.d[1], k->co, k->ci, k->ck[0] * k->ck[1] * k->ck[2]);
    }
    k->wh = E2;
    k->wh_index = cx->wh_num[E2];
    return 0;
}

/* ------------------------------------------------------------- driver */

static int lift(Ctx *cx, KwNode *conv)
{
    KwGraph *g = cx->g;
    KwKwInfo *k = KW_NEW(g->arena, KwKwInfo);
    k->w1 = k->b1 = k->ln_g = k->ln_b = k->w2 = k->b2 = k->w3 = k->tb = k->bias = -1;
    int A, E2, Z, h;
    KW_TRY(match_assembly(cx, k, &A, &E2));
    KW_TRY(match_normalisation(cx, k, A, &Z));
    KW_TRY(match_logits(cx, k, Z, &h));
    KW_TRY(match_head(cx, k, h, conv->in[0]));
    if (conv->n_in > 2 && conv->in[2] >= 0) {
        if (!is_const_f32(cx, conv->in[2]))
            FAIL("the conv bias is computed at run time");
        k->bias = conv->in[2];
    }
    int64_t group;
    kw_attr_int(g, conv, "group", 1, &group);
    k->G = (int)group;
    KW_TRY(warehouse(cx, k, E2));
    int x = conv->in[0];
    conv->op = KW_OP_KwConv;
    conv->op_type = "KwConv";
    conv->n_in = 1;
    conv->in[0] = x;
    conv->kw = k;
    kw_note(g->diag, "kw: lifted '%s': warehouse %d, m %d, n %d, cell %dx%d, kernel [%d,%d,%d,%d,%d]%s%s", conv->name,
            k->wh_index, k->attn.m, k->attn.n, k->co, k->ci, k->O, k->Cg, k->k[0], k->k[1], k->k[2],
            k->attn.basis ? ", non-local basis" : "", k->attn.ln ? ", LayerNorm attention" : "");
    return 0;
}

int kw_pass_kw(KwGraph *g)
{
    Ctx cx = {g, NULL, NULL, NULL, NULL};
    int nv0 = g->nv;
    cx.wh_of = KW_NEWN(g->arena, int, nv0);
    cx.wh_num = KW_NEWN(g->arena, int, nv0);
    for (int i = 0; i < nv0; i++)
        cx.wh_of[i] = -1;
    kw_ir_count_uses(g);
    int lifted = 0, generic = 0;
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead || n->op != KW_OP_Conv || kw_is_const(g, n->in[1]))
            continue;
        cx.conv = n;
        cx.why = NULL;
        if (lift(&cx, n) == 0)
            lifted++;
        else {
            generic++;
            kw_note(g->diag, "kw: conv '%s' has a run-time weight but stays on the generic path: %s", n->name,
                    cx.why ? cx.why : "?");
        }
    }
    if (lifted || generic)
        kw_note(g->diag, "kw: %d KernelWarehouse layers lifted, %d left generic, %d warehouses", lifted, generic,
                g->n_warehouses);
    return kw_pass_dce(g);
}
