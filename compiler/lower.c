/* lower.c -- every node to the runtime kernel calls that compute it.
 *
 * The result (KwCall: a kernel, its parameter struct and its operands) is what codegen prints
 * and what constant folding executes, so folded constants and generated code share one
 * implementation. View ops (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout, a Cast
 * to the same type) lower to nothing: the memory planner gives their output the input's
 * bytes. Strided kernels get their index spaces with size-1 dims dropped and contiguous dims
 * merged, which is what makes rank-8 Transposes of KernelWarehouse exports cheap. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

#define ERR(...) kw_error(g->diag, n, __VA_ARGS__)

const char *const kw_kernel_name[KW_K_COUNT] = {
    "kw_unary", "kw_binary", "kw_affine",  "kw_conv",      "kw_gemm",      "kw_pool",     "kw_reduce",
    "kw_copy",  "kw_gather", "kw_softmax", "kw_layernorm", "kw_attention", "kw_assemble", "kw_kwconv",
    "kw_conv_simd", "kw_dwconv_simd", "kw_kwconv_simd", "kw_maxpool_simd",
};

int kw_target_vector_floats(KwTargetKind t)
{
    return t == KW_TARGET_AVX512 ? 16 : t == KW_TARGET_AVX2 ? 8 : t == KW_TARGET_NEON ? 4 : 1;
}

const char *kw_target_name(KwTargetKind t)
{
    static const char *const names[] = {"generic", "avx2", "avx512", "neon", "host"};
    return names[t];
}

KwTargetKind kw_target_host(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return KW_TARGET_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return KW_TARGET_AVX2;
    return KW_TARGET_GENERIC;
#elif defined(__aarch64__)
    return KW_TARGET_NEON;
#else
    return KW_TARGET_GENERIC;
#endif
}

static KwCall *add_call(KwGraph *g, KwNode *n, KwKernel k)
{
    /* capacity doubles at powers of two (the arena never frees: keep copies geometric) */
    if (n->n_calls == 0 || (n->n_calls & (n->n_calls - 1)) == 0) {
        KwCall *c = kw_alloc(g->arena, sizeof(KwCall) * (size_t)(n->n_calls ? 2 * n->n_calls : 1));
        if (n->n_calls)
            memcpy(c, n->calls, sizeof(KwCall) * (size_t)n->n_calls);
        n->calls = c;
    }
    KwCall *c = &n->calls[n->n_calls++];
    memset(c, 0, sizeof *c);
    c->k = k;
    return c;
}

static void arg_value(KwCall *c, int v, int64_t off)
{
    KwArg *a = &c->args[c->nargs++];
    a->kind = v >= 0 ? KW_ARG_VALUE : KW_ARG_NULL;
    a->value = v;
    a->off = off;
}

static void arg_scratch(KwCall *c, int64_t off)
{
    KwArg *a = &c->args[c->nargs++];
    a->kind = KW_ARG_SCRATCH;
    a->value = -1;
    a->off = off;
}

/* The node's scratch from its start, or NULL for a kernel that needs none (scratch_bytes 0). */
static void arg_scratch_or_null(KwCall *c, const KwNode *n)
{
    if (n->scratch_bytes)
        arg_scratch(c, 0);
    else
        arg_value(c, -1, 0);
}

static void strides_of(const KwShape *s, int64_t *st)
{
    int64_t acc = 1;
    for (int i = s->rank - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= s->d[i];
    }
}

/* Drops size-1 dims and merges dim i into i+1 when every stride array is contiguous
 * across them. dims and the k stride arrays are edited in place; returns the new rank
 * (at least 1). */
static int merge_dims(int r, int64_t *dims, int k, int64_t st[][KW_MAX_RANK])
{
    int out = 0;
    for (int i = 0; i < r; i++) {
        if (dims[i] == 1)
            continue;
        if (out > 0) {
            int ok = 1;
            for (int a = 0; a < k; a++)
                if (st[a][out - 1] != st[a][i] * dims[i])
                    ok = 0;
            if (ok) {
                dims[out - 1] *= dims[i];
                for (int a = 0; a < k; a++)
                    st[a][out - 1] = st[a][i];
                continue;
            }
        }
        dims[out] = dims[i];
        for (int a = 0; a < k; a++)
            st[a][out] = st[a][i];
        out++;
    }
    if (out == 0) {
        dims[0] = 1;
        for (int a = 0; a < k; a++)
            st[a][0] = 0;
        out = 1;
    }
    return out;
}

static int too_high(KwGraph *g, KwNode *n, int r)
{
    return r > KW_RT_MAXR ? ERR("needs a rank-%d index space after merging dims; kwcc supports %d", r, KW_RT_MAXR)
                          : 0;
}

/* A strided copy of `dims` (rank r) from src (strides ss, offset soff) to dst (ds, doff). */
static int lower_copy(KwGraph *g, KwNode *n, int src, int dst, int esize, int r, const int64_t *dims,
                      const int64_t *ss, int64_t soff, const int64_t *ds, int64_t doff)
{
    int64_t d[KW_MAX_RANK], st[2][KW_MAX_RANK];
    int64_t cnt = 1;
    for (int i = 0; i < r; i++) {
        d[i] = dims[i];
        st[0][i] = ss[i];
        st[1][i] = ds[i];
        cnt *= dims[i];
    }
    if (cnt == 0)
        return 0;
    int m = merge_dims(r, d, 2, st);
    KW_TRY(too_high(g, n, m));
    KwCall *c = add_call(g, n, KW_K_COPY);
    KwCopyP *p = &c->p.copy;
    p->esize = esize;
    p->rank = m;
    for (int i = 0; i < m; i++) {
        p->dim[i] = (int)d[i];
        p->ss[i] = (int)st[0][i];
        p->ds[i] = (int)st[1][i];
    }
    p->soff = (int)soff;
    p->doff = (int)doff;
    arg_value(c, src, 0);
    arg_value(c, dst, 0);
    return 0;
}

static void set_act(const KwEpi *e, int *act, float *lo, float *hi)
{
    *act = e->act;
    *lo = e->lo;
    *hi = e->hi;
}

/* ---------------------------------------------------------------- ops */

static int simd_geom(KwGraph *g, const KwWinGeom *wg, int O, int G, KwConvFP *p);
static void simd_direct(KwGraph *g, int x, KwConvFP *p);
static void simd_choose(KwGraph *g, KwConvFP *p, int co);
static int64_t simd_scratch_floats(const KwConvFP *p, int dw);
static int simd_dw_reads_x(KwTargetKind t, const KwConvFP *p);
static int pack_weights(KwGraph *g, int w, const KwConvFP *p);

static void conv_params(KwConvP *p, const KwWinGeom *wg, int O, int G)
{
    memset(p, 0, sizeof *p);
    p->nsp = wg->nsp;
    p->N = (int)wg->N;
    p->C = (int)wg->C;
    p->O = O;
    p->G = G;
    for (int s = 0; s < 3; s++) {
        int i = s - (3 - wg->nsp);
        p->in[s] = i >= 0 ? (int)wg->in[i] : 1;
        p->out[s] = i >= 0 ? (int)wg->out[i] : 1;
        p->k[s] = i >= 0 ? (int)wg->k[i] : 1;
        p->stride[s] = i >= 0 ? (int)wg->stride[i] : 1;
        p->pad[s] = i >= 0 ? (int)wg->pad_b[i] : 0;
        p->dil[s] = i >= 0 ? (int)wg->dil[i] : 1;
    }
}

static int lower_conv(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0), *w = kw_in(g, n, 1);
    KwWinGeom wg;
    KW_TRY(kw_win_geom(g, n, &x->shape, &w->shape, &wg));
    KwConvFP fp;
    if (g->lower_target != KW_TARGET_GENERIC && kw_is_const(g, n->in[1]) &&
        simd_geom(g, &wg, (int)wg.O, (int)wg.group, &fp) == 0) {
        int dw = fp.Cg == 1 && fp.Og == 1;
        if (!dw) {
            simd_direct(g, n->in[0], &fp);
            simd_choose(g, &fp, -1);
        } else {
            fp.direct = simd_dw_reads_x(g->lower_target, &fp);
        }
        KwCall *c = add_call(g, n, dw ? KW_K_DWCONV_SIMD : KW_K_CONV_SIMD);
        set_act(&n->epi, &fp.act, &fp.lo, &fp.hi);
        c->p.convf = fp;
        c->exact = dw && fp.direct; /* masked loads inside the rows: nothing read past a buffer */
        n->scratch_bytes = c->exact ? 0 : simd_scratch_floats(&fp, dw) * 4;
        arg_value(c, n->in[0], 0);
        arg_value(c, dw ? n->in[1] : pack_weights(g, n->in[1], &fp), 0);
        arg_value(c, n->epi.scale, 0);
        arg_value(c, n->n_in > 2 ? n->in[2] : -1, 0);
        arg_value(c, n->epi.res, 0);
        arg_value(c, n->out[0], 0);
        arg_scratch_or_null(c, n); /* a direct variant-B conv or a plane-free depthwise one needs none */
        return 0;
    }
    KwCall *c = add_call(g, n, KW_K_CONV);
    KwConvP *p = &c->p.conv;
    conv_params(p, &wg, (int)wg.O, (int)wg.group);
    /* ONNX weight layout: [O][C/g][k...] */
    int64_t ksz = 1;
    for (int s = 2; s >= 0; s--) {
        p->wsk[s] = (int)ksz;
        ksz *= p->k[s];
    }
    p->wsi = (int)ksz;
    p->wso = (int)(ksz * w->shape.d[1]);
    set_act(&n->epi, &p->act, &p->lo, &p->hi);
    arg_value(c, n->in[0], 0);
    arg_value(c, n->in[1], 0);
    arg_value(c, n->epi.scale, 0);
    arg_value(c, n->n_in > 2 ? n->in[2] : -1, 0);
    arg_value(c, n->epi.res, 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

/* ---------------------------------------------------------------- vector targets */

enum { WH_GENERIC = 0, WH_SIMD = 1, WH_SIMD_B = 2 };

/* Channels per assembly micro-tile of the vector kernels (KW_ASM_C in kw_rt_simd.c). */
static int simd_asm_channels(KwTargetKind t) { return t == KW_TARGET_AVX512 ? 4 : 1; }

/* Variant B's block of output channels (KW_B_RB) and pixels per tile (KW_B_P). */
static int simd_rb(KwTargetKind t) { return t == KW_TARGET_AVX512 ? 64 : 16; }
static int simd_bp(KwTargetKind t) { return t == KW_TARGET_AVX512 ? 7 : 6; }

/* Pixels per variant-B tile for rows of OW pixels (kw__b_pixels): KW_B_P, or 2 or 4 for rows
 * that short. */
static int simd_b_pixels(KwTargetKind t, int OW)
{
    int P = simd_bp(t);
    return OW <= 2 && P > 2 ? 2 : OW <= 4 && P > 4 ? 4 : P;
}

/* Variant B's pixel tiles over the whole image (kw__conv_rows_b, kw__kwconv_block_b_chunked). */
static int64_t simd_b_tiles(KwTargetKind t, const KwConvFP *p)
{
    int P = simd_b_pixels(t, p->OW);
    return (int64_t)p->OH * ((p->OW + P - 1) / P);
}

/* Floats per vector on the x86 targets (KW_VL), 0 elsewhere (no masked loads and stores). */
static int simd_x86_vl(KwTargetKind t) { return t == KW_TARGET_AVX512 ? 16 : t == KW_TARGET_AVX2 ? 8 : 0; }

/* The warehouse E ([n][co][ci][ck], as exported) in the layout a lowering reads, created
 * once per warehouse and layout:
 *   WH_GENERIC  cells as (co, ck, ci): the portable assembly into [O][k...][C/g];
 *   WH_SIMD     [co/8][ck][ci/CB][n][CB][8] (zero-padded to whole CB blocks) and
 *   WH_SIMD_B   [co/RB][ck][ci][n][RB]: the vector assembly reads each block of output
 *               channels of each input channel as one sequential stream.
 * With spatial partition (ck = 1) WH_GENERIC is the exported layout itself. */
static int warehouse_layout(KwGraph *g, const KwKwInfo *k, int kind)
{
    int E = k->wh, cks = k->ck[0] * k->ck[1] * k->ck[2];
    if (kind == WH_GENERIC && cks == 1)
        return E;
    for (int i = 0; i < g->n_wh_memo; i++)
        if (g->wh_memo[2 * i] == E * 4 + kind)
            return g->wh_memo[2 * i + 1];
    int64_t n = g->v[E].shape.d[0], S = g->v[E].shape.d[1];
    int64_t RB = kind == WH_SIMD_B ? simd_rb(g->lower_target) : 8;
    int64_t CB = kind == WH_SIMD ? simd_asm_channels(g->lower_target) : 1, nb = (k->ci + CB - 1) / CB;
    int64_t total = kind == WH_GENERIC ? n * S : (k->co / RB) * cks * nb * n * CB * RB;
    const float *src = g->v[E].data;
    float *dst = kw_alloc(g->arena, sizeof(float) * (size_t)total);
    for (int64_t c = 0; c < n; c++)
        for (int64_t a = 0; a < k->co; a++)
            for (int64_t b = 0; b < k->ci; b++)
                for (int64_t kc = 0; kc < cks; kc++) {
                    int64_t to = kind == WH_GENERIC
                                     ? c * S + (a * cks + kc) * k->ci + b
                                     : (((((a / RB) * cks + kc) * nb + b / CB) * n + c) * CB + b % CB) * RB + a % RB;
                    dst[to] = src[c * S + (a * k->ci + b) * cks + kc];
                }
    static const char *const names[] = {"generic", "simd", "simd_b"};
    int id = kw_const_f32(g, kw_fmt(g->arena, "%s.%s", g->v[E].name, names[kind]), 1, &total, dst);
    g->v[id].is_warehouse = 1;
    int *memo = KW_NEWN(g->arena, int, 2 * (g->n_wh_memo + 1));
    if (g->n_wh_memo)
        memcpy(memo, g->wh_memo, sizeof(int) * 2 * (size_t)g->n_wh_memo);
    memo[2 * g->n_wh_memo] = E * 4 + kind;
    memo[2 * g->n_wh_memo + 1] = id;
    g->wh_memo = memo;
    g->n_wh_memo++;
    return id;
}

/* Variant B's input channels per chunk of weights (KwConvFP.bcc, kw__conv_rows_b). Parking
 * the partial sums of a group of tiles between chunks costs a load and a store of every
 * accumulator per chunk. Where a chunk of KW_B_CHUNK_BYTES gives each accumulator fewer than
 * 128 multiply-adds (AVX-512's 64-channel blocks of 3x3 or 1x1 weights: 72 or 80), the
 * block's weights fit in a quarter of L2 and at least four groups of tiles share them, every
 * tile runs through all Cg channels instead, its weights streamed from L2 (on AVX-512:
 * ResNet-18's 3x3 convs at 56x56 and 28x28 3% to 8% faster, the KW1x twin 4%). Otherwise
 * (AVX2's 16-channel blocks, 1.4% slower without chunks; layer3's 590 KB blocks over 28
 * tiles and layer4's 1.2 MB over 7, which come from L3; NEON's smaller caches) chunks of
 * KW_B_CHUNK_BYTES that stay in L1. */
static int simd_b_chunk(KwTargetKind t, const KwConvFP *p)
{
    int64_t per_c = (int64_t)p->taps * simd_rb(t) * 4, cc = KW_B_CHUNK_BYTES / per_c;
    if (simd_x86_vl(t) && cc * p->taps < 128 && p->Cg * per_c <= KW_B_L2_BYTES / 4 &&
        simd_b_tiles(t, p) >= 4 * KW_B_GROUP)
        return p->Cg;
    return (int)(cc < 1 ? 1 : cc > p->Cg ? p->Cg : cc);
}

/* Picks the conv micro-kernel: variant A (8 channels x pixel vectors) wastes pixels on padding
 * columns and the last tile; variant B (channel vectors x a few pixels of a row) wastes
 * channels when O/g is not a multiple of its block and pixels at row ends. The estimate
 * below (A's weaker measured efficiency counted as 1.25) picks the cheaper; `kw_ok` adds
 * the block-alignment a KernelWarehouse layer needs (cell_out and O/g multiples). */
static void simd_choose(KwGraph *g, KwConvFP *p, int co)
{
    int RB = simd_rb(g->lower_target), P = simd_b_pixels(g->lower_target, p->OW);
    double pix = (double)p->OH * p->OW;
    double k = (double)p->Cg * p->taps; /* multiply-adds per output: the epilogue's weight */
    double cost_a = 1.25 * (double)p->Qpad / pix * (double)((p->Og + 7) / 8 * 8) / p->Og * (1.0 + 4.0 / k);
    double cost_b = (double)((p->OW + P - 1) / P * P) / p->OW * (double)((p->Og + RB - 1) / RB * RB) / p->Og *
                    (1.0 + 100.0 / k); /* B's epilogue is scalar: it matters for small C*taps */
    int b_ok = co < 0 || (co % RB == 0 && p->Og % RB == 0);
    int a_ok = co < 0 || (co % 8 == 0 && p->Og % 8 == 0);
    p->rb = (b_ok && (cost_b <= cost_a || !a_ok)) ? RB : a_ok ? 8 : 0;
    const char *force = getenv("KWCC_DEV_FORCE_RB"); /* development: measure one variant */
    if (force && ((atoi(force) == 8 && a_ok) || (atoi(force) == RB && b_ok)))
        p->rb = atoi(force);
    /* variant A's tiles store to y themselves (no Y' buffer, no epilogue pass) without padding
     * columns, and on x86 across them when rows are at least a vector wide (masked stores) */
    int vl = simd_x86_vl(g->lower_target);
    p->ystore = p->rb == 8 && (p->Wq == p->OW || (vl && p->Wq >= vl && p->OW >= vl));
    p->bcc = p->rb > 8 ? simd_b_chunk(g->lower_target, p) : 0;
}

/* Geometry of the vector direct conv (kw_rt_simd.c) from a conv/pool geometry; -1 when the
 * case is not one the vector kernels handle (3-D, more than 64 taps). */
static int simd_geom(KwGraph *g, const KwWinGeom *wg, int O, int G, KwConvFP *p)
{
    if (wg->nsp > 2 || G < 1 || O < 1 || wg->N < 1 || wg->C < 1)
        return -1; /* 3-D, or an empty tensor: the portable loops handle it */
    for (int d = 0; d < wg->nsp; d++)
        if (wg->out[d] < 1 || wg->in[d] < 1)
            return -1;
    memset(p, 0, sizeof *p);
    int two = wg->nsp == 2, i = two ? 0 : -1; /* 1-D: H = OH = 1 */
    p->N = (int)wg->N;
    p->C = (int)wg->C;
    p->O = O;
    p->G = G;
    p->Cg = (int)(wg->C / G);
    p->Og = O / G;
    p->H = two ? (int)wg->in[0] : 1;
    p->OH = two ? (int)wg->out[0] : 1;
    p->kh = two ? (int)wg->k[0] : 1;
    p->sh = two ? (int)wg->stride[0] : 1;
    p->dh = two ? (int)wg->dil[0] : 1;
    p->pad_t = two ? (int)wg->pad_b[0] : 0;
    i = two ? 1 : 0;
    p->W = (int)wg->in[i];
    p->OW = (int)wg->out[i];
    p->kw = (int)wg->k[i];
    p->sw = (int)wg->stride[i];
    p->dw = (int)wg->dil[i];
    p->pad_l = (int)wg->pad_b[i];
    p->taps = p->kh * p->kw;
    if (p->taps > 64)
        return -1;
    p->Hq = p->OH + ((p->kh - 1) * p->dh) / p->sh;
    p->Wq = p->OW + ((p->kw - 1) * p->dw) / p->sw;
    int tile = 3 * kw_target_vector_floats(g->lower_target);
    int64_t q = (int64_t)p->OH * p->Wq;
    p->Qpad = (int)((q + tile - 1) / tile * tile);
    int64_t maxshift = (int64_t)(((p->kh - 1) * p->dh) / p->sh) * p->Wq + ((p->kw - 1) * p->dw) / p->sw;
    int64_t plane = p->Qpad + maxshift + simd_bp(g->lower_target); /* + variant B's row overrun */
    if (plane < (int64_t)p->Hq * p->Wq)
        plane = (int64_t)p->Hq * p->Wq;
    p->plane = (int)((plane + 15) / 16 * 16);
    return 0;
}

/* A 1x1, stride-1, unpadded conv reads its input in place as the phase planes, when the
 * input lives in the workspace: kernels may read up to a tile past a buffer's end, and
 * pass_memplan leaves that much slack after every workspace buffer (not after the caller's
 * buffers). */
static void simd_direct(KwGraph *g, int x, KwConvFP *p)
{
    int r = kw_strip_views(g, x);
    if (p->taps != 1 || p->sh != 1 || p->sw != 1 || p->pad_t || p->pad_l || p->Hq != p->H || p->Wq != p->W ||
        g->v[r].data || g->v[r].input_index >= 0 || kw_ir_is_graph_output(g, r) || kw_ir_is_graph_output(g, x))
        return;
    p->direct = 1;
    p->plane = p->H * p->W;
}

/* On x86, kw_dwconv_simd and kw_maxpool_simd can read x itself through masked loads, without
 * phase planes, for stride 1 or 2, zero padding (max pooling: asked before its padval is set)
 * and at most 32 kernel columns (they do when direct is set). */
static int simd_dw_reads_x(KwTargetKind t, const KwConvFP *p)
{
    return simd_x86_vl(t) && p->sh == p->sw && p->sh <= 2 && !(p->padval < 0.0f) &&
           !(p->padval > 0.0f) && p->kw <= 32;
}

static int64_t simd_scratch_floats(const KwConvFP *p, int dw)
{
    if (dw) /* two sets of planes, each with a vector's slack (kw_dwconv_simd) */
        return 2 * ((int64_t)p->sh * p->sw * p->plane + 16);
    int64_t ybuf = p->rb == 8 && !p->ystore ? 8 * (int64_t)p->Qpad : 0; /* variant A's Y' */
    return (p->direct ? 0 : (int64_t)p->sh * p->sw * p->Cg * p->plane) + ybuf;
}

/* ONNX weight [O][Cg][taps] -> [G][O/g/rb][Cg][taps][rb], zero rows past O/g. */
static int pack_weights(KwGraph *g, int w, const KwConvFP *p)
{
    int rb = p->rb, nob = (p->Og + rb - 1) / rb;
    int64_t cnt = (int64_t)p->G * nob * p->taps * p->Cg * rb;
    const float *src = g->v[w].data;
    int id = kw_const_f32(g, kw_fmt(g->arena, "%s.packed", g->v[w].name), 1, &cnt, NULL);
    float *dst = g->v[id].data;
    for (int gr = 0; gr < p->G; gr++)
        for (int ob = 0; ob < nob; ob++)
            for (int t = 0; t < p->taps; t++)
                for (int c = 0; c < p->Cg; c++)
                    for (int r = 0; r < rb; r++) {
                        int o = ob * rb + r;
                        int64_t at = ((((int64_t)gr * nob + ob) * p->Cg + c) * p->taps + t) * rb + r;
                        dst[at] = o < p->Og ? src[(((int64_t)gr * p->Og + o) * p->Cg + c) * p->taps + t] : 0.0f;
                    }
    return id;
}

/* How a KernelWarehouse conv on the portable path uses its scratch: the whole kernel at once
 * (bo = O: the fastest, `whole` bytes), unless the node's scratch cap (n->scratch_cap, set by
 * pass_memplan for --max-ram) is smaller; then kw_kwconv, a block of bo output channels at a
 * time after the whole attention (*full = 1, `full_off` bytes of it), or, when even one
 * channel does not fit that way, after one mixture's row at a time (`lazy_off` bytes). bo is
 * the most channels that fit, at least one; a multiple of the cell's output channels when
 * there are that many; with groups a divisor or a multiple of O/G (no block straddles one). */
static int kwconv_block(const KwNode *n, const KwKwInfo *k, int64_t whole, int64_t full_off, int64_t lazy_off,
                        int64_t wso, int *full)
{
    int64_t cap = n->scratch_cap;
    *full = 0;
    if (cap <= 0 || whole <= cap || k->O <= 1)
        return k->O;
    *full = cap - full_off >= wso * 4;
    int64_t bo = (cap - (*full ? full_off : lazy_off)) / (wso * 4), Og = k->O / k->G;
    if (bo >= k->O)
        bo = k->O - 1;
    if (bo >= k->co && k->G == 1)
        bo = bo / k->co * k->co;
    if (bo < 1)
        bo = 1;
    if (k->G > 1 && bo >= Og)
        bo = bo / Og * Og;
    else if (k->G > 1)
        while (Og % bo)
            bo--;
    return (int)bo;
}

/* kw_attention of a KW node: its scratch from 0, the attention A at a_off. */
static void add_attention(KwGraph *g, KwNode *n, int64_t a_off)
{
    const KwKwInfo *k = n->kw;
    KwCall *c = add_call(g, n, KW_K_ATTENTION);
    c->p.attn = k->attn;
    arg_value(c, n->in[0], 0);
    const int ids[] = {k->w1, k->b1, k->ln_g, k->ln_b, k->w2, k->b2, k->w3, k->tb};
    for (size_t i = 0; i < KW_COUNTOF(ids); i++)
        arg_value(c, ids[i], 0);
    arg_scratch(c, 0);
    arg_scratch(c, a_off);
}

static int lower_kwconv(KwGraph *g, KwNode *n)
{
    const KwKwInfo *k = n->kw;
    const KwValue *x = kw_in(g, n, 0);
    KwAttnP at = k->attn;
    int P = at.n + 1, R = at.L + at.B + 1;
    int64_t attn_floats = at.hidden + (int64_t)at.m * P + (at.basis ? (int64_t)at.m * R : 0);
    int64_t a_off = ((attn_floats * 4 + 63) / 64) * 64;
    int64_t w_off = a_off + (((int64_t)at.m * at.n * 4 + 63) / 64) * 64;
    int64_t ksz = (int64_t)k->k[0] * k->k[1] * k->k[2];
    int64_t wfloats = (int64_t)k->O * k->Cg * ksz;
    n->scratch_bytes = w_off + wfloats * 4;

    KwWinGeom wg;
    KwShape wshape = {x->shape.rank, {k->O, k->Cg}};
    for (int i = 0; i < k->nsp; i++)
        wshape.d[2 + i] = k->k[3 - k->nsp + i];
    KW_TRY(kw_win_geom(g, n, &x->shape, &wshape, &wg));
    KwConvFP fp;
    int cks = k->ck[0] * k->ck[1] * k->ck[2];
    int simd = g->lower_target != KW_TARGET_GENERIC && simd_geom(g, &wg, k->O, k->G, &fp) == 0;
    int depthwise = simd && fp.Cg == 1 && fp.Og == 1;
    if (simd && !depthwise)
        simd_choose(g, &fp, k->co);
    int blocks = simd && !depthwise && fp.rb > 0 && (cks == 1 || cks == fp.taps);
    if (blocks) {
        /* attention into scratch, then assembly tiled with the conv, 8 channels at a time */
        add_attention(g, n, a_off);
        set_act(&n->epi, &fp.act, &fp.lo, &fp.hi);
        simd_direct(g, n->in[0], &fp);
        KwCall *kc = add_call(g, n, KW_K_KWCONV_SIMD);
        KwKwConvP *kp = &kc->p.kwf;
        kp->conv = fp;
        kp->n = at.n;
        kp->m = at.m;
        kp->S = k->S;
        kp->co = k->co;
        kp->ci = k->ci;
        kp->Go = k->Go;
        kp->Gi = k->Gi;
        kp->whole = cks > 1;
        int64_t conv_off = w_off; /* the conv's scratch replaces the dense kernel */
        int64_t blk = (int64_t)fp.taps * fp.Cg * fp.rb, base = conv_off + simd_scratch_floats(&fp, 0) * 4;
        /* when an assembly tile would get fewer rows than it holds (9 in variant A, 6 in B:
         * cells of a 1x1 conv, or whole-window cells), the Go blocks of output channels that
         * read the same warehouse slice are assembled together, so that each warehouse load
         * feeds up to 9 or 6 rows instead of 1 or 2 (their kernel blocks, at most 256 or
         * 512 KB, live together; not under a scratch cap that this would exceed) */
        kp->grp = 1;
        int tile_rows = fp.rb == 8 ? 9 : 6; /* KW_ASM_R, KW_ASMB_R (variant B: instead of the double buffer) */
        if (k->G == 1 && k->Go > 1 && (cks > 1 ? k->Gi : fp.taps * k->Gi) < tile_rows &&
            k->Go * blk * 4 <= (fp.rb == 8 ? 256 : 512) * 1024 &&
            (n->scratch_cap <= 0 || base + k->Go * blk * 4 <= n->scratch_cap))
            kp->grp = k->Go;
        /* variant B with at most KW_B_KWTILES pixel tiles: the kernel is assembled a chunk at
         * a time (kw__kwconv_block_b_chunked), bcc / Gi warehouse streams for each of the Gi cell
         * columns (at least one), and the scratch holds that chunk and the tiles' partial sums
         * instead of two blocks (ResNet-18 KW1x's layer3 at 14x14, 28 tiles: 0.86-0.90x the time
         * of the double-buffered blocks, which read the 590 KB blocks back from L2 for each
         * group of 16 tiles and kept two of them there). The Go blocks that read one warehouse
         * slice go together when all their tiles are still at most KW_B_KWTILES (grp = Go):
         * the warehouse streams through once instead of Go times, each block's share of the
         * chunk (KW_B_CHUNK_BYTES in all) 1/Go of it (ResNet-18 KW1x's layer4.0.conv1, Go = 2,
         * 7x7: 12 MB instead of 25) */
        int64_t tiles = simd_b_tiles(g->lower_target, &fp), part = 0;
        if (fp.rb != 8 && kp->grp <= 1 && tiles <= KW_B_KWTILES) {
            int ngo = k->G == 1 && k->Go > 1 && k->Go * tiles <= KW_B_KWTILES ? k->Go : 1;
            int bc = fp.bcc / (k->Gi * ngo); /* fp.bcc: KW_B_CHUNK_BYTES of channels, at most Cg */
            kp->chunked = 1;
            kp->grp = ngo;
            kp->conv.bcc = (bc < 1 ? 1 : bc) * k->Gi;
            part = ngo * tiles * simd_bp(g->lower_target) * fp.rb; /* the tiles' partial sums */
        }
        int64_t chunk = (int64_t)kp->grp * kp->conv.bcc * fp.taps * fp.rb + part;
        n->scratch_bytes =
            base + (kp->chunked ? chunk : kp->grp > 1 ? kp->grp * blk : fp.rb == 8 ? blk : 2 * blk) * 4;
        arg_value(kc, n->in[0], 0);
        arg_scratch(kc, a_off);
        arg_value(kc, warehouse_layout(g, k, fp.rb == 8 ? WH_SIMD : WH_SIMD_B), 0);
        arg_value(kc, n->epi.scale, 0);
        arg_value(kc, k->bias, 0);
        arg_value(kc, n->epi.res, 0);
        arg_value(kc, n->out[0], 0);
        arg_scratch(kc, conv_off);
        return 0;
    }

    /* the portable path (and the depthwise vector one): A is written over z, which kw_attention
     * allows, and the assembled kernel (or a block of it) follows the attention's scratch */
    a_off = (int64_t)at.hidden * 4;
    w_off = ((attn_floats * 4 + 63) / 64) * 64;
    n->scratch_bytes = w_off + wfloats * 4;
    /* the assembled kernel's layout, read by the conv: [O][k...][C/g] */
    int64_t wso = ksz * k->Cg, wsi = 1, wsk[3];
    {
        int64_t acc = k->Cg;
        for (int s = 2; s >= 0; s--) {
            wsk[s] = acc;
            acc *= k->k[s];
        }
    }
    /* --max-ram: when the whole kernel does not fit the node's scratch cap, one kw_kwconv
     * call computes the attention (whole: w_off bytes of scratch as here, or a mixture's row
     * at a time: lazy_off bytes, h and one row of z and of fc2) and assembles and convolves
     * a block of output channels at a time after it */
    int64_t lazy_off = ((at.hidden + P + (at.basis ? R : 0)) * 4 + 63) / 64 * 64;
    int full = 0;
    int bo = depthwise ? k->O : kwconv_block(n, k, w_off + wfloats * 4, w_off, lazy_off, wso, &full);
    int blocked = bo < k->O;
    if (!blocked)
        add_attention(g, n, a_off);
    /* cell dims in the warehouse's physical order (pass_kw laid E out in this order):
     * co, then kernel-cell dims, then ci -- decreasing destination stride */
    KwCall *as = add_call(g, n, blocked ? KW_K_KWCONV : KW_K_ASSEMBLE);
    KwAsmP *ap = blocked ? &as->p.kwb.as : &as->p.as;
    ap->m = at.m;
    ap->n = at.n;
    ap->S = k->S;
    int64_t cnt[5], ds[5], ss[5];
    int nl = 0;
    cnt[nl] = k->co;
    ds[nl++] = wso;
    for (int s = 0; s < 3; s++)
        if (k->ck[s] > 1) {
            cnt[nl] = k->ck[s];
            ds[nl++] = wsk[s];
        }
    cnt[nl] = k->ci;
    ds[nl++] = wsi;
    int64_t acc = 1;
    for (int l = nl - 1; l >= 0; l--) {
        ss[l] = acc;
        acc *= cnt[l];
    }
    {
        /* dims merged where contiguous; kw_kwconv needs the co loop first and on its own */
        int keep = blocked;
        int64_t d[5], st[2][KW_MAX_RANK];
        for (int l = keep; l < nl; l++) {
            d[l - keep] = cnt[l];
            st[0][l - keep] = ds[l];
            st[1][l - keep] = ss[l];
        }
        int r = merge_dims(nl - keep, d, 2, st);
        if (keep) {
            ap->cnt[0] = k->co;
            ap->ds[0] = (int)wso;
            ap->ss[0] = (int)ss[0];
        }
        for (int l = 0; l < r; l++) {
            ap->cnt[keep + l] = (int)d[l];
            ap->ds[keep + l] = (int)st[0][l];
            ap->ss[keep + l] = (int)st[1][l];
        }
        ap->nl = keep + r;
    }
    as->n_ints = at.m;
    as->ints = KW_NEWN(g->arena, int, at.m);
    for (int j = 0; j < at.m; j++) {
        int i = j % k->Gi, o = (j / k->Gi) % k->Go, s = j / (k->Gi * k->Go);
        int64_t base = (int64_t)o * k->co * wso + (int64_t)i * k->ci * wsi;
        /* s runs row-major over the kernel positions in units of the cell's kernel extent */
        for (int d = 2; d >= 0; d--) {
            int per = k->k[d] / k->ck[d];
            base += (int64_t)(s % per) * k->ck[d] * wsk[d];
            s /= per;
        }
        as->ints[j] = (int)base;
    }
    ap->base = as->ints;
    if (blocked) {
        KwKwConvBP *bp = &as->p.kwb;
        bp->attn = at;
        bp->bo = bo;
        bp->full = full;
        bp->w_off = (int)((full ? w_off : lazy_off) / 4);
        conv_params(&bp->conv, &wg, k->O, k->G);
        bp->conv.wso = (int)wso;
        bp->conv.wsi = (int)wsi;
        for (int s = 0; s < 3; s++)
            bp->conv.wsk[s] = k->k[s] > 1 ? (int)wsk[s] : 0;
        set_act(&n->epi, &bp->conv.act, &bp->conv.lo, &bp->conv.hi);
        n->scratch_bytes = (full ? w_off : lazy_off) + (int64_t)bo * wso * 4;
        arg_value(as, n->in[0], 0);
        const int ids[] = {k->w1, k->b1, k->ln_g, k->ln_b, k->w2, k->b2, k->w3, k->tb};
        for (size_t i = 0; i < KW_COUNTOF(ids); i++)
            arg_value(as, ids[i], 0);
        arg_value(as, warehouse_layout(g, k, WH_GENERIC), 0);
        arg_value(as, n->epi.scale, 0);
        arg_value(as, k->bias, 0);
        arg_value(as, n->epi.res, 0);
        arg_value(as, n->out[0], 0);
        arg_scratch(as, 0);
        return 0;
    }
    arg_scratch(as, a_off);
    arg_value(as, warehouse_layout(g, k, WH_GENERIC), 0);
    arg_scratch(as, w_off);

    if (depthwise) {
        /* the assembled [C][taps] kernel is exactly the depthwise kernel's weight layout */
        set_act(&n->epi, &fp.act, &fp.lo, &fp.hi);
        KwCall *dc = add_call(g, n, KW_K_DWCONV_SIMD);
        int64_t conv_off = w_off + ((wfloats * 4 + 63) / 64) * 64;
        n->scratch_bytes = conv_off + simd_scratch_floats(&fp, 1) * 4;
        fp.direct = simd_dw_reads_x(g->lower_target, &fp); /* the planes stay in the plan, unread */
        dc->p.convf = fp;
        arg_value(dc, n->in[0], 0);
        arg_scratch(dc, w_off);
        arg_value(dc, n->epi.scale, 0);
        arg_value(dc, k->bias, 0);
        arg_value(dc, n->epi.res, 0);
        arg_value(dc, n->out[0], 0);
        arg_scratch(dc, conv_off);
        return 0;
    }
    KwCall *cv = add_call(g, n, KW_K_CONV);
    KwConvP *p = &cv->p.conv;
    conv_params(p, &wg, k->O, k->G);
    p->wso = (int)wso;
    p->wsi = (int)wsi;
    for (int s = 0; s < 3; s++)
        p->wsk[s] = k->k[s] > 1 ? (int)wsk[s] : 0;
    set_act(&n->epi, &p->act, &p->lo, &p->hi);
    arg_value(cv, n->in[0], 0);
    arg_scratch(cv, w_off);
    arg_value(cv, n->epi.scale, 0);
    arg_value(cv, k->bias, 0);
    arg_value(cv, n->epi.res, 0);
    arg_value(cv, n->out[0], 0);
    return 0;
}

static int unary_op(KwGraph *g, KwNode *n, KwUnaryP *p)
{
    p->a = p->b = 0;
    switch (n->op) {
    case KW_OP_Relu: p->op = KW_UN_RELU; break;
    case KW_OP_Clip: {
        /* a missing bound is no bound (never an infinite constant in the C: tcc cannot fold
         * arithmetic on one) */
        int lo = n->n_in > 1 && n->in[1] >= 0, hi = n->n_in > 2 && n->in[2] >= 0;
        p->a = lo ? kw_const_scalar(g, n->in[1]) : 0.0f;
        p->b = hi ? kw_const_scalar(g, n->in[2]) : 0.0f;
        p->op = lo && hi ? KW_UN_CLIP : lo ? KW_UN_MAXC : hi ? KW_UN_MINC : KW_UN_COPY;
        break;
    }
    case KW_OP_LeakyRelu:
        p->op = KW_UN_LEAKY;
        KW_TRY(kw_attr_float(g, n, "alpha", 0.01f, &p->a));
        break;
    case KW_OP_HardSigmoid:
        p->op = KW_UN_HSIGMOID;
        KW_TRY(kw_attr_float(g, n, "alpha", 0.2f, &p->a));
        KW_TRY(kw_attr_float(g, n, "beta", 0.5f, &p->b));
        break;
    case KW_OP_HardSwish: p->op = KW_UN_HSWISH; break;
    case KW_OP_Sqrt: p->op = KW_UN_SQRT; break;
    case KW_OP_Erf: p->op = KW_UN_ERF; break;
    case KW_OP_Abs: p->op = KW_UN_ABS; break;
    case KW_OP_Neg: p->op = KW_UN_NEG; break;
    case KW_OP_Sigmoid: p->op = KW_UN_SIGMOID; break;
    case KW_OP_Exp: p->op = KW_UN_EXP; break;
    case KW_OP_Log: p->op = KW_UN_LOG; break;
    case KW_OP_Tanh: p->op = KW_UN_TANH; break;
    case KW_OP_Reciprocal: p->op = KW_UN_RECIP; break;
    case KW_OP_Floor: p->op = KW_UN_FLOOR; break;
    case KW_OP_Ceil: p->op = KW_UN_CEIL; break;
    case KW_OP_Gelu: p->op = KW_UN_GELU; break;
    default: KW_BUG("not a unary op: %s", kw_op_info[n->op].name);
    }
    return 0;
}

static int lower_unary(KwGraph *g, KwNode *n)
{
    KwCall *c = add_call(g, n, KW_K_UNARY);
    KW_TRY(unary_op(g, n, &c->p.un));
    c->p.un.n = (int)kw_numel(&kw_out(g, n, 0)->shape);
    arg_value(c, n->in[0], 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

/* Strides of `in` broadcast against out (right-aligned; 0 where in has size 1). */
static void bcast_strides(const KwShape *in, const KwShape *out, int64_t *st)
{
    int64_t ist[KW_MAX_RANK];
    strides_of(in, ist);
    for (int i = 0; i < out->rank; i++) {
        int k = i - (out->rank - in->rank);
        st[i] = k >= 0 && in->d[k] != 1 ? ist[k] : 0;
    }
}

static int emit_binary(KwGraph *g, KwNode *n, int op, int a, int b, int y)
{
    const KwShape *so = &g->v[y].shape;
    int64_t dims[KW_MAX_RANK], st[2][KW_MAX_RANK];
    for (int i = 0; i < so->rank; i++)
        dims[i] = so->d[i];
    bcast_strides(&g->v[a].shape, so, st[0]);
    bcast_strides(&g->v[b].shape, so, st[1]);
    if (kw_numel(so) == 0)
        return 0;
    int r = merge_dims(so->rank, dims, 2, st);
    KW_TRY(too_high(g, n, r));
    KwCall *c = add_call(g, n, KW_K_BINARY);
    KwBinaryP *p = &c->p.bin;
    p->op = op;
    p->rank = r;
    for (int i = 0; i < r; i++) {
        p->dim[i] = (int)dims[i];
        p->sa[i] = (int)st[0][i];
        p->sb[i] = (int)st[1][i];
    }
    arg_value(c, a, 0);
    arg_value(c, b, 0);
    arg_value(c, y, 0);
    return 0;
}

static int lower_binary(KwGraph *g, KwNode *n)
{
    int op;
    switch (n->op) {
    case KW_OP_Add: op = KW_BIN_ADD; break;
    case KW_OP_Sub: op = KW_BIN_SUB; break;
    case KW_OP_Mul: op = KW_BIN_MUL; break;
    case KW_OP_Div: op = KW_BIN_DIV; break;
    case KW_OP_Pow: op = KW_BIN_POW; break;
    case KW_OP_Max: op = KW_BIN_MAX; break;
    case KW_OP_Min: op = KW_BIN_MIN; break;
    default: KW_BUG("not a binary op");
    }
    const KwValue *b = kw_in(g, n, 1);
    if (n->op == KW_OP_Pow && b->data && kw_numel(&b->shape) == 1 &&
        kw_shape_eq(&kw_in(g, n, 0)->shape, &kw_out(g, n, 0)->shape)) {
        KwCall *c = add_call(g, n, KW_K_UNARY);
        c->p.un.op = KW_UN_POWC;
        c->p.un.n = (int)kw_numel(&kw_out(g, n, 0)->shape);
        c->p.un.a = kw_const_scalar(g, n->in[1]);
        arg_value(c, n->in[0], 0);
        arg_value(c, n->out[0], 0);
        return 0;
    }
    if (n->n_in == 1) {
        KwCall *c = add_call(g, n, KW_K_UNARY);
        c->p.un.op = KW_UN_COPY;
        c->p.un.n = (int)kw_numel(&kw_out(g, n, 0)->shape);
        arg_value(c, n->in[0], 0);
        arg_value(c, n->out[0], 0);
        return 0;
    }
    KW_TRY(emit_binary(g, n, op, n->in[0], n->in[1], n->out[0]));
    for (int i = 2; i < n->n_in; i++) /* variadic Max/Min: fold the rest in, in place */
        KW_TRY(emit_binary(g, n, op, n->out[0], n->in[i], n->out[0]));
    return 0;
}

static int lower_affine(KwGraph *g, KwNode *n, int scale, int shift)
{
    const KwShape *s = &kw_in(g, n, 0)->shape;
    KwCall *c = add_call(g, n, KW_K_AFFINE);
    KwAffineP *p = &c->p.aff;
    p->outer = (int)s->d[0];
    p->C = (int)s->d[1];
    p->inner = 1;
    for (int i = 2; i < s->rank; i++)
        p->inner *= (int)s->d[i];
    set_act(&n->epi, &p->act, &p->lo, &p->hi);
    arg_value(c, n->in[0], 0);
    arg_value(c, scale, 0);
    arg_value(c, shift, 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

/* Inference BatchNormalization as y = x*scale + shift, both folded now. */
int kw_bn_scale_shift(KwGraph *g, const KwNode *n, int *scale, int *shift)
{
    float eps;
    KW_TRY(kw_attr_float(g, n, "epsilon", 1e-5f, &eps));
    for (int i = 1; i < 5; i++)
        if (!kw_in(g, n, i)->data)
            return ERR("input %d ('%s') is computed at run time; kwcc needs BatchNormalization parameters to be "
                       "constants",
                       i, kw_in(g, n, i)->name);
    const float *gm = kw_in(g, n, 1)->data, *bt = kw_in(g, n, 2)->data, *mu = kw_in(g, n, 3)->data,
                *var = kw_in(g, n, 4)->data;
    int64_t C = kw_in(g, n, 1)->shape.d[0];
    *scale = kw_const_f32(g, kw_fmt(g->arena, "%s.scale", n->name), 1, &C, NULL);
    *shift = kw_const_f32(g, kw_fmt(g->arena, "%s.shift", n->name), 1, &C, NULL);
    float *sc = g->v[*scale].data, *sh = g->v[*shift].data;
    for (int64_t c = 0; c < C; c++) {
        /* in double, then rounded once: as close to the exact value as float allows */
        double s = (double)gm[c] / sqrt((double)var[c] + (double)eps);
        sc[c] = (float)s;
        sh[c] = (float)((double)bt[c] - (double)mu[c] * s);
    }
    return 0;
}

static int lower_pool(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    KwWinGeom wg;
    KW_TRY(kw_win_geom(g, n, &x->shape, NULL, &wg));
    KwConvFP fp;
    if (n->op == KW_OP_MaxPool && g->lower_target != KW_TARGET_GENERIC &&
        simd_geom(g, &wg, (int)wg.C, (int)wg.C, &fp) == 0) {
        KwCall *c = add_call(g, n, KW_K_MAXPOOL_SIMD);
        fp.direct = simd_dw_reads_x(g->lower_target, &fp); /* before padval: masked loads fill -FLT_MAX */
        fp.padval = -3.40282347e+38f; /* -FLT_MAX: padding never wins */
        c->p.convf = fp;
        c->exact = fp.direct;
        n->scratch_bytes = fp.direct ? 0 : simd_scratch_floats(&fp, 1) * 4;
        arg_value(c, n->in[0], 0);
        arg_value(c, n->out[0], 0);
        arg_scratch_or_null(c, n);
        return 0;
    }
    KwCall *c = add_call(g, n, KW_K_POOL);
    KwPoolP *p = &c->p.pool;
    p->kind = n->op == KW_OP_MaxPool ? KW_POOL_MAX : KW_POOL_AVG;
    p->nsp = wg.nsp;
    p->NC = (int)(wg.N * wg.C);
    for (int s = 0; s < 3; s++) {
        int i = s - (3 - wg.nsp);
        p->in[s] = i >= 0 ? (int)wg.in[i] : 1;
        p->out[s] = i >= 0 ? (int)wg.out[i] : 1;
        p->k[s] = i >= 0 ? (int)wg.k[i] : 1;
        p->stride[s] = i >= 0 ? (int)wg.stride[i] : 1;
        p->pad_b[s] = i >= 0 ? (int)wg.pad_b[i] : 0;
        p->pad_e[s] = i >= 0 ? (int)wg.pad_e[i] : 0;
        p->dil[s] = i >= 0 ? (int)wg.dil[i] : 1;
    }
    int64_t cip = 0;
    if (n->op == KW_OP_AveragePool)
        KW_TRY(kw_attr_int(g, n, "count_include_pad", 0, &cip));
    p->count_include_pad = (int)cip;
    arg_value(c, n->in[0], 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

/* Reduce over the dims set in mask; output dense in the order of the kept dims. */
static int emit_reduce(KwGraph *g, KwNode *n, int op, int x, int y, const int *mask)
{
    const KwShape *s = &g->v[x].shape;
    int64_t st[KW_MAX_RANK], od[KW_MAX_RANK], rd[KW_MAX_RANK], os[1][KW_MAX_RANK], rs[1][KW_MAX_RANK];
    int no = 0, nr = 0;
    strides_of(s, st);
    for (int i = 0; i < s->rank; i++) {
        if (mask[i]) {
            rd[nr] = s->d[i];
            rs[0][nr++] = st[i];
        } else {
            od[no] = s->d[i];
            os[0][no++] = st[i];
        }
    }
    if (kw_numel(&g->v[y].shape) == 0)
        return 0;
    no = merge_dims(no, od, 1, os);
    int64_t rcount = 1;
    for (int i = 0; i < nr; i++)
        rcount *= rd[i];
    nr = nr ? merge_dims(nr, rd, 1, rs) : 0;
    if (rcount == 0)
        nr = 1, rd[0] = 0, rs[0][0] = 0;
    KW_TRY(too_high(g, n, no));
    KW_TRY(too_high(g, n, nr));
    KwCall *c = add_call(g, n, KW_K_REDUCE);
    KwReduceP *p = &c->p.red;
    p->op = op;
    p->orank = no;
    p->rrank = nr;
    for (int i = 0; i < no; i++) {
        p->odim[i] = (int)od[i];
        p->os[i] = (int)os[0][i];
    }
    for (int i = 0; i < nr; i++) {
        p->rdim[i] = (int)rd[i];
        p->rs[i] = (int)rs[0][i];
    }
    arg_value(c, x, 0);
    arg_value(c, y, 0);
    return 0;
}

static int lower_reduce(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int mask[KW_MAX_RANK], noop, op;
    switch (n->op) {
    case KW_OP_ReduceMean: op = KW_RED_MEAN; break;
    case KW_OP_ReduceSum: op = KW_RED_SUM; break;
    case KW_OP_ReduceMax: op = KW_RED_MAX; break;
    case KW_OP_ReduceMin: op = KW_RED_MIN; break;
    case KW_OP_ReduceProd: op = KW_RED_PROD; break;
    case KW_OP_ReduceSumSquare: op = KW_RED_SUMSQ; break;
    case KW_OP_ReduceL1: op = KW_RED_L1; break;
    case KW_OP_GlobalAveragePool:
    case KW_OP_GlobalMaxPool:
        for (int i = 0; i < x->shape.rank; i++)
            mask[i] = i >= 2;
        return emit_reduce(g, n, n->op == KW_OP_GlobalMaxPool ? KW_RED_MAX : KW_RED_MEAN, n->in[0], n->out[0], mask);
    default: KW_BUG("not a reduction");
    }
    KW_TRY(kw_reduce_axes(g, n, x->shape.rank, mask, &noop));
    if (noop) {
        /* nothing reduced: the SUMSQ/L1 element maps still apply */
        KwCall *c = add_call(g, n, KW_K_UNARY);
        c->p.un.op = op == KW_RED_SUMSQ ? KW_UN_POWC : op == KW_RED_L1 ? KW_UN_ABS : KW_UN_COPY;
        c->p.un.a = 2.0f;
        c->p.un.n = (int)kw_numel(&x->shape);
        arg_value(c, n->in[0], 0);
        arg_value(c, n->out[0], 0);
        return 0;
    }
    int64_t rcount = 1;
    for (int i = 0; i < x->shape.rank; i++)
        rcount *= mask[i] ? x->shape.d[i] : 1;
    if (rcount == 0 && (op == KW_RED_MAX || op == KW_RED_MIN)) {
        /* opset 18 on (pass_infer): the maximum of the empty set is -inf, its minimum +inf */
        KwShape ys = kw_out(g, n, 0)->shape;
        int64_t cnt = kw_numel(&ys);
        if (cnt == 0)
            return 0;
        float *fill = KW_NEWN(g->arena, float, cnt);
        for (int64_t i = 0; i < cnt; i++)
            fill[i] = op == KW_RED_MAX ? -INFINITY : INFINITY;
        int cv = kw_const_new(g, "empty_set", KW_F32, &ys, fill);
        KwCall *c = add_call(g, n, KW_K_UNARY);
        c->p.un.op = KW_UN_COPY;
        c->p.un.n = (int)cnt;
        arg_value(c, cv, 0);
        arg_value(c, n->out[0], 0);
        return 0;
    }
    return emit_reduce(g, n, op, n->in[0], n->out[0], mask);
}

static int lower_gemm(KwGraph *g, KwNode *n)
{
    const KwValue *a = kw_in(g, n, 0), *b = kw_in(g, n, 1), *cv = kw_in(g, n, 2);
    int64_t ta, tb;
    KwCall *c = add_call(g, n, KW_K_GEMM);
    KwGemmP *p = &c->p.gemm;
    KW_TRY(kw_attr_int(g, n, "transA", 0, &ta));
    KW_TRY(kw_attr_int(g, n, "transB", 0, &tb));
    KW_TRY(kw_attr_float(g, n, "alpha", 1.0f, &p->alpha));
    KW_TRY(kw_attr_float(g, n, "beta", 1.0f, &p->beta));
    const KwShape out_shape = kw_out(g, n, 0)->shape, *so = &out_shape;
    p->M = (int)so->d[0];
    p->N = (int)so->d[1];
    p->K = (int)(ta ? a->shape.d[0] : a->shape.d[1]);
    p->a_rs = ta ? 1 : (int)a->shape.d[1];
    p->a_cs = ta ? (int)a->shape.d[1] : 1;
    p->b_rs = tb ? 1 : (int)b->shape.d[1];
    p->b_cs = tb ? (int)b->shape.d[1] : 1;
    int bv = n->in[1];
    if (tb && b->data && g->lower_target != KW_TARGET_GENERIC) {
        /* a Linear layer's [N][K] weight, stored [K][N] instead: the product then runs along
         * contiguous rows of B (vectorised over N), summing over K in the same order */
        int64_t K = b->shape.d[1], N = b->shape.d[0];
        const float *src = b->data;
        int64_t d[2] = {K, N};
        bv = kw_const_f32(g, kw_fmt(g->arena, "%s.kn", b->name), 2, d, NULL);
        float *dst = g->v[bv].data;
        for (int64_t i = 0; i < N; i++)
            for (int64_t k = 0; k < K; k++)
                dst[k * N + i] = src[i * K + k];
        p->b_rs = (int)N;
        p->b_cs = 1;
        cv = kw_in(g, n, 2); /* g->v may have moved */
    }
    if (cv) {
        int64_t st[KW_MAX_RANK];
        bcast_strides(&cv->shape, so, st);
        p->c_rs = (int)st[0];
        p->c_cs = (int)st[1];
    }
    set_act(&n->epi, &p->act, &p->lo, &p->hi);
    arg_value(c, n->in[0], 0);
    arg_value(c, bv, 0);
    arg_value(c, cv ? n->in[2] : -1, 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

static int lower_matmul(KwGraph *g, KwNode *n)
{
    const KwValue *a = kw_in(g, n, 0), *b = kw_in(g, n, 1);
    const KwShape *so = &kw_out(g, n, 0)->shape;
    KwShape sa = a->shape, sb = b->shape;
    if (sa.rank == 1) {
        sa.rank = 2;
        sa.d[1] = sa.d[0];
        sa.d[0] = 1;
    }
    if (sb.rank == 1) {
        sb.rank = 2;
        sb.d[1] = 1;
    }
    int64_t M = sa.d[sa.rank - 2], K = sa.d[sa.rank - 1], N = sb.d[sb.rank - 1];
    /* batch dims: broadcast strides of A, B and Y in units of whole matrices */
    KwShape ba = sa, bb = sb, bo;
    ba.rank -= 2;
    bb.rank -= 2;
    kw_bcast_shape(g, n, &ba, &bb, &bo);
    int64_t dims[KW_MAX_RANK], st[3][KW_MAX_RANK];
    bcast_strides(&ba, &bo, st[0]);
    bcast_strides(&bb, &bo, st[1]);
    strides_of(&bo, st[2]);
    for (int i = 0; i < bo.rank; i++) {
        dims[i] = bo.d[i];
        st[0][i] *= M * K;
        st[1][i] *= K * N;
        st[2][i] *= M * N;
    }
    if (kw_numel(so) == 0)
        return 0;
    int r = bo.rank ? merge_dims(bo.rank, dims, 3, st) : 0;
    if (r == 1 && dims[0] == 1)
        r = 0;
    if (r > 4)
        return ERR("needs %d broadcast batch dims after merging; kwcc supports 4", r);
    KwCall *c = add_call(g, n, KW_K_GEMM);
    KwGemmP *p = &c->p.gemm;
    p->M = (int)M;
    p->N = (int)N;
    p->K = (int)K;
    p->a_rs = (int)K;
    p->a_cs = 1;
    p->b_rs = (int)N;
    p->b_cs = 1;
    p->alpha = 1.0f;
    p->nb = r;
    for (int i = 0; i < r; i++) {
        p->bdim[i] = (int)dims[i];
        p->a_bs[i] = (int)st[0][i];
        p->b_bs[i] = (int)st[1][i];
        p->y_bs[i] = (int)st[2][i];
    }
    set_act(&n->epi, &p->act, &p->lo, &p->hi);
    arg_value(c, n->in[0], 0);
    arg_value(c, n->in[1], 0);
    arg_value(c, -1, 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

static int lower_transpose(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    const KwShape *so = &kw_out(g, n, 0)->shape;
    int64_t perm[KW_MAX_RANK], xs[KW_MAX_RANK], ss[KW_MAX_RANK], ds[KW_MAX_RANK];
    int cnt;
    KW_TRY(kw_attr_ints(g, n, "perm", perm, KW_MAX_RANK, &cnt));
    if (cnt < 0)
        for (int i = 0; i < x->shape.rank; i++)
            perm[i] = x->shape.rank - 1 - i;
    strides_of(&x->shape, xs);
    strides_of(so, ds);
    for (int i = 0; i < so->rank; i++)
        ss[i] = xs[perm[i]];
    return lower_copy(g, n, n->in[0], n->out[0], kw_dtype_size(x->dt), so->rank, so->d, ss, 0, ds, 0);
}

static int lower_concat(KwGraph *g, KwNode *n)
{
    const KwShape *so = &kw_out(g, n, 0)->shape;
    int64_t axis, a, ds[KW_MAX_RANK], off = 0;
    KW_TRY(kw_attr_int(g, n, "axis", 0, &axis));
    kw_norm_axis(axis, so->rank, &a);
    strides_of(so, ds);
    for (int i = 0; i < n->n_in; i++) {
        const KwValue *v = kw_in(g, n, i);
        int64_t ss[KW_MAX_RANK];
        strides_of(&v->shape, ss);
        KW_TRY(lower_copy(g, n, n->in[i], n->out[0], kw_dtype_size(v->dt), so->rank, v->shape.d, ss, 0, ds,
                          off * ds[a]));
        off += v->shape.d[a];
    }
    return 0;
}

static int lower_slice(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t start[KW_MAX_RANK], step[KW_MAX_RANK], xs[KW_MAX_RANK], ss[KW_MAX_RANK], ds[KW_MAX_RANK], soff = 0;
    KwShape so;
    KW_TRY(kw_slice_geom(g, n, &x->shape, start, step, &so));
    strides_of(&x->shape, xs);
    strides_of(&so, ds);
    for (int i = 0; i < so.rank; i++) {
        ss[i] = xs[i] * step[i];
        soff += start[i] * xs[i];
    }
    return lower_copy(g, n, n->in[0], n->out[0], kw_dtype_size(x->dt), so.rank, so.d, ss, soff, ds, 0);
}

static int lower_split(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axis, sizes[256], xs[KW_MAX_RANK], off = 0;
    KW_TRY(kw_split_sizes(g, n, &x->shape, &axis, sizes));
    strides_of(&x->shape, xs);
    for (int i = 0; i < n->n_out; i++) {
        KwShape s = x->shape;
        s.d[axis] = sizes[i];
        if (n->out[i] >= 0) {
            int64_t ds[KW_MAX_RANK];
            strides_of(&s, ds);
            KW_TRY(lower_copy(g, n, n->in[0], n->out[i], kw_dtype_size(x->dt), s.rank, s.d, xs, off * xs[axis], ds,
                              0));
        }
        off += sizes[i];
    }
    return 0;
}

static int lower_expand(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    const KwShape *so = &kw_out(g, n, 0)->shape;
    int64_t ss[KW_MAX_RANK], ds[KW_MAX_RANK];
    bcast_strides(&x->shape, so, ss);
    strides_of(so, ds);
    return lower_copy(g, n, n->in[0], n->out[0], kw_dtype_size(x->dt), so->rank, so->d, ss, 0, ds, 0);
}

static int lower_gather(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0), *idx = kw_in(g, n, 1);
    int64_t axis, a;
    KW_TRY(kw_attr_int(g, n, "axis", 0, &axis));
    kw_norm_axis(axis, x->shape.rank, &a);
    KwCall *c = add_call(g, n, KW_K_GATHER);
    KwGatherP *p = &c->p.gather;
    p->esize = kw_dtype_size(x->dt);
    p->outer = p->inner = 1;
    for (int i = 0; i < x->shape.rank; i++) {
        if (i < a)
            p->outer *= (int)x->shape.d[i];
        else if (i > a)
            p->inner *= (int)x->shape.d[i];
    }
    p->axis_n = (int)x->shape.d[a];
    p->nidx = (int)kw_numel(&idx->shape);
    c->n_ints = p->nidx;
    c->ints = KW_NEWN(g->arena, int, p->nidx + 1);
    for (int i = 0; i < p->nidx; i++) {
        int64_t v = ((const int64_t *)idx->data)[i];
        c->ints[i] = (int)(v < 0 ? v + p->axis_n : v);
    }
    p->idx = c->ints;
    if (kw_numel(&kw_out(g, n, 0)->shape) == 0) {
        n->n_calls = 0;
        return 0;
    }
    arg_value(c, n->in[0], 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

static int lower_softmax(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axis, a, outer, len, inner;
    KW_TRY(kw_attr_int(g, n, "axis", g->opset >= 13 ? -1 : 1, &axis));
    kw_norm_axis(axis, x->shape.rank, &a);
    kw_softmax_geom(g, n, &x->shape, a, &outer, &len, &inner);
    if (outer * len * inner == 0)
        return 0;
    KwCall *c = add_call(g, n, KW_K_SOFTMAX);
    c->p.sm.outer = (int)outer;
    c->p.sm.n = (int)len;
    c->p.sm.inner = (int)inner;
    arg_value(c, n->in[0], 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

/* A constant broadcast to `to` (a new constant), or the value itself if it already has it. */
static int expand_const(KwGraph *g, int v, const KwShape *to)
{
    if (v < 0 || kw_shape_eq(&g->v[v].shape, to))
        return v;
    int out = kw_const_new(g, kw_fmt(g->arena, "%s.expanded", g->v[v].name), KW_F32, to, NULL);
    int64_t st[KW_MAX_RANK], ds[KW_MAX_RANK];
    bcast_strides(&g->v[v].shape, to, st);
    strides_of(to, ds);
    const float *src = g->v[v].data;
    float *dst = g->v[out].data;
    for (int64_t i = 0; i < kw_numel(to); i++) {
        int64_t rem = i, so = 0;
        for (int k = 0; k < to->rank; k++) {
            so += (rem / ds[k]) * st[k];
            rem %= ds[k];
        }
        dst[i] = src[so];
    }
    return out;
}

/* LayerNormalization's optional outputs Mean and InvStdDev (x's shape with the normalised dims
 * 1), the way ONNX's function body computes them in float32: Mean = ReduceMean(x), D = x - Mean,
 * InvStdDev = 1 / sqrt(ReduceMean(D * D) + epsilon). Y holds D meanwhile (the LayerNorm call
 * after these overwrites it); Mean goes to InvStdDev's buffer when only InvStdDev is wanted. */
static int layernorm_stats(KwGraph *g, KwNode *n, int a)
{
    int mean = n->n_out > 1 ? n->out[1] : -1, inv = n->n_out > 2 ? n->out[2] : -1;
    if (mean < 0 && inv < 0)
        return 0;
    int mask[KW_MAX_RANK];
    for (int i = 0; i < kw_in(g, n, 0)->shape.rank; i++)
        mask[i] = i >= a;
    int m = mean >= 0 ? mean : inv;
    KW_TRY(emit_reduce(g, n, KW_RED_MEAN, n->in[0], m, mask));
    if (inv < 0)
        return 0;
    float eps;
    KW_TRY(kw_attr_float(g, n, "epsilon", 1e-5f, &eps));
    KW_TRY(emit_binary(g, n, KW_BIN_SUB, n->in[0], m, n->out[0]));
    KW_TRY(emit_binary(g, n, KW_BIN_MUL, n->out[0], n->out[0], n->out[0]));
    KW_TRY(emit_reduce(g, n, KW_RED_MEAN, n->out[0], inv, mask));
    KW_TRY(emit_binary(g, n, KW_BIN_ADD, inv, kw_const_f32(g, "epsilon", 0, NULL, &eps), inv));
    for (int op = KW_UN_SQRT; op >= 0; op = op == KW_UN_SQRT ? KW_UN_RECIP : -1) {
        KwCall *c = add_call(g, n, KW_K_UNARY);
        c->p.un.op = op;
        c->p.un.n = (int)kw_numel(&g->v[inv].shape);
        arg_value(c, inv, 0);
        arg_value(c, inv, 0);
    }
    return 0;
}

static int lower_layernorm(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axis, a;
    KW_TRY(kw_attr_int(g, n, "axis", -1, &axis));
    kw_norm_axis(axis, x->shape.rank, &a);
    KwShape ns = {0, {0}};
    for (int i = (int)a; i < x->shape.rank; i++)
        ns.d[ns.rank++] = x->shape.d[i];
    if (kw_numel(&x->shape) > 0)
        KW_TRY(layernorm_stats(g, n, (int)a));
    x = kw_in(g, n, 0); /* a new constant may have moved the values */
    KwCall *c = add_call(g, n, KW_K_LAYERNORM);
    KW_TRY(kw_attr_float(g, n, "epsilon", 1e-5f, &c->p.ln.eps));
    c->p.ln.n = (int)kw_numel(&ns);
    c->p.ln.inner = 1;
    c->p.ln.outer = c->p.ln.n ? (int)(kw_numel(&x->shape) / c->p.ln.n) : 0;
    if (kw_numel(&x->shape) == 0) {
        n->n_calls = 0;
        return 0;
    }
    arg_value(c, n->in[0], 0);
    arg_value(c, expand_const(g, n->in[1], &ns), 0);
    arg_value(c, n->n_in > 2 ? expand_const(g, n->in[2], &ns) : -1, 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

/* Norm: layer normalisation over the dims [axis, axis_end) (made by pass_canon). */
static int lower_norm(KwGraph *g, KwNode *n)
{
    const KwShape *s = &kw_in(g, n, 0)->shape;
    int64_t a0, a1;
    KwCall *c = add_call(g, n, KW_K_LAYERNORM);
    KW_TRY(kw_attr_int(g, n, "axis", 0, &a0));
    KW_TRY(kw_attr_int(g, n, "axis_end", 0, &a1));
    KW_TRY(kw_attr_float(g, n, "epsilon", 1e-5f, &c->p.ln.eps));
    int64_t o = 1, m = 1, in = 1;
    for (int i = 0; i < s->rank; i++)
        *(i < a0 ? &o : i < a1 ? &m : &in) *= s->d[i];
    c->p.ln.outer = (int)o;
    c->p.ln.n = (int)m;
    c->p.ln.inner = (int)in;
    if (o * m * in == 0) {
        n->n_calls = 0;
        return 0;
    }
    arg_value(c, n->in[0], 0);
    arg_value(c, n->in[1], 0);
    arg_value(c, n->in[2], 0);
    arg_value(c, n->out[0], 0);
    return 0;
}

static int lower_node(KwGraph *g, KwNode *n)
{
    n->calls = NULL;
    n->n_calls = 0;
    n->scratch_bytes = 0;
    if (kw_op_info[n->op].flags & KW_OPF_VIEW)
        return 0;
    switch (n->op) {
    case KW_OP_Conv: return lower_conv(g, n);
    case KW_OP_KwConv: return lower_kwconv(g, n);
    case KW_OP_BatchNormalization: {
        int sc, sh;
        KW_TRY(kw_bn_scale_shift(g, n, &sc, &sh));
        return lower_affine(g, n, sc, sh);
    }
    case KW_OP_Affine: return lower_affine(g, n, n->in[1], n->in[2]);
    case KW_OP_MaxPool:
    case KW_OP_AveragePool: return lower_pool(g, n);
    case KW_OP_GlobalAveragePool:
    case KW_OP_GlobalMaxPool: return lower_reduce(g, n);
    case KW_OP_Gemm: return lower_gemm(g, n);
    case KW_OP_MatMul: return lower_matmul(g, n);
    case KW_OP_Transpose: return lower_transpose(g, n);
    case KW_OP_Concat: return lower_concat(g, n);
    case KW_OP_Slice: return lower_slice(g, n);
    case KW_OP_Split: return lower_split(g, n);
    case KW_OP_Expand: return lower_expand(g, n);
    case KW_OP_Gather: return lower_gather(g, n);
    case KW_OP_Softmax: return lower_softmax(g, n);
    case KW_OP_LayerNormalization: return lower_layernorm(g, n);
    case KW_OP_Norm: return lower_norm(g, n);
    case KW_OP_Cast: {
        int64_t to;
        KW_TRY(kw_attr_int(g, n, "to", 1, &to));
        if (to == 1)
            return 0; /* float to float: a view; memplan aliases it */
        KwCall *c = add_call(g, n, KW_K_UNARY); /* float to integer (and back): truncation */
        c->p.un.op = KW_UN_TRUNC;
        c->p.un.n = (int)kw_numel(&kw_out(g, n, 0)->shape);
        arg_value(c, n->in[0], 0);
        arg_value(c, n->out[0], 0);
        return 0;
    }
    case KW_OP_Shape:
    case KW_OP_ConstantOfShape:
    case KW_OP_Range:
    case KW_OP_Constant: return ERR("must be computable at compile time, but its inputs are not constant");
    default:
        if (kw_op_info[n->op].flags & KW_OPF_REDUCE)
            return lower_reduce(g, n);
        if (kw_op_info[n->op].flags & KW_OPF_UNARY)
            return lower_unary(g, n);
        if (kw_op_info[n->op].flags & KW_OPF_BINARY)
            return lower_binary(g, n);
        KW_BUG("no lowering for op %s", kw_op_info[n->op].name);
    }
}

/* A node over its scratch cap (--max-ram, pass_memplan) on a vector target is lowered again
 * with the portable kernels, which need less (none for a conv or a pool, one block of the
 * assembled kernel for a KernelWarehouse conv), and kept so when it does need less. */
int kw_lower(KwGraph *g, KwNode *n)
{
    n->portable = 0;
    KW_TRY(lower_node(g, n));
    KwTargetKind t = g->lower_target;
    if (n->scratch_cap <= 0 || n->scratch_bytes <= n->scratch_cap || t == KW_TARGET_GENERIC)
        return 0;
    int64_t vec = n->scratch_bytes;
    g->lower_target = KW_TARGET_GENERIC;
    int st = lower_node(g, n);
    g->lower_target = t;
    KW_TRY(st);
    if (n->scratch_bytes < vec) {
        n->portable = 1;
        return 0;
    }
    return lower_node(g, n);
}

int kw_pass_lower(KwGraph *g)
{
    g->lower_target = g->target;
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (!n->dead)
            kw_lower(g, n);
    }
    return g->diag->n_errors ? -1 : 0;
}

void kw_exec_call(const KwCall *c, void *const *a)
{
    switch (c->k) {
    case KW_K_UNARY: kw_unary(&c->p.un, a[0], a[1]); break;
    case KW_K_BINARY: kw_binary(&c->p.bin, a[0], a[1], a[2]); break;
    case KW_K_AFFINE: kw_affine(&c->p.aff, a[0], a[1], a[2], a[3]); break;
    case KW_K_CONV: kw_conv(&c->p.conv, a[0], a[1], a[2], a[3], a[4], a[5]); break;
    case KW_K_GEMM: kw_gemm(&c->p.gemm, a[0], a[1], a[2], a[3]); break;
    case KW_K_POOL: kw_pool(&c->p.pool, a[0], a[1]); break;
    case KW_K_REDUCE: kw_reduce(&c->p.red, a[0], a[1]); break;
    case KW_K_COPY: kw_copy(&c->p.copy, a[0], a[1]); break;
    case KW_K_GATHER: kw_gather(&c->p.gather, a[0], a[1]); break;
    case KW_K_SOFTMAX: kw_softmax(&c->p.sm, a[0], a[1]); break;
    case KW_K_LAYERNORM: kw_layernorm(&c->p.ln, a[0], a[1], a[2], a[3]); break;
    case KW_K_ATTENTION:
        kw_attention(&c->p.attn, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]);
        break;
    case KW_K_ASSEMBLE: kw_assemble(&c->p.as, a[0], a[1], a[2]); break;
    case KW_K_KWCONV:
        kw_kwconv(&c->p.kwb, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12],
                  a[13], a[14]);
        break;
    default: KW_BUG("kernel %s cannot run inside kwcc", kw_kernel_name[c->k]);
    }
}
