/* kw_rt.h -- the portable kernel library of kwcc's generated code.
 *
 * This header and the kw_rt_*.c files next to it have two lives:
 *   - kwcc pastes their text into every generated model file (with KW_RT_FN defined as
 *     "static"), so a generated file depends on nothing but a C99 compiler and libm;
 *   - kwcc itself links them as a library, to fold constant subgraphs at compile time with
 *     exactly the arithmetic the generated code will use, and to bind them into JIT previews.
 *
 * Every kernel takes a small parameter struct (printed by kwcc as a static const initialiser
 * in the generated file) and plain float pointers. Kernels never allocate and never fail:
 * kwcc checked every shape before it emitted the call. Sizes are int: kwcc refuses tensors
 * of 2^31 elements or more.
 *
 * Conventions: activations are dense, row-major (ONNX order). "Strides" are in elements.
 */
#ifndef KW_RT_H
#define KW_RT_H

#include <stddef.h>

#ifndef KW_RT_FN
#define KW_RT_FN /* external linkage when built as kwcc's own library */
#endif
#ifndef KW_RT_LOCAL
#define KW_RT_LOCAL static /* helpers of the kernels */
#endif

#define KW_RT_MAXR 8 /* highest rank a strided kernel iterates over (after dim merging) */

/* ---- activations fused into epilogues ---- */
enum { KW_ACT_NONE = 0, KW_ACT_RELU = 1, KW_ACT_CLIP = 2 };

/* ---- elementwise unary ops (kw_unary) ---- */
enum {
    KW_UN_COPY = 0, KW_UN_RELU, KW_UN_CLIP, KW_UN_ABS, KW_UN_NEG, KW_UN_SQRT, KW_UN_ERF,
    KW_UN_SIGMOID, KW_UN_EXP, KW_UN_LOG, KW_UN_TANH, KW_UN_RECIP, KW_UN_FLOOR, KW_UN_CEIL,
    KW_UN_POWC, /* x ** a, a a compile-time constant */
    KW_UN_LEAKY, /* x < 0 ? a*x : x */
    KW_UN_HSIGMOID, /* max(0, min(1, a*x + b)) */
    KW_UN_HSWISH, /* x * max(0, min(1, x/6 + 1/2)) */
    KW_UN_GELU, /* 0.5 x (1 + erf(x / sqrt 2)) */
    KW_UN_TRUNC, /* round toward zero (a float -> integer -> float cast) */
    KW_UN_MAXC,  /* max(x, a): a Clip with only a lower bound */
    KW_UN_MINC   /* min(x, b): a Clip with only an upper bound */
};

/* ---- elementwise binary ops (kw_binary) ---- */
enum { KW_BIN_ADD = 0, KW_BIN_SUB, KW_BIN_MUL, KW_BIN_DIV, KW_BIN_POW, KW_BIN_MAX, KW_BIN_MIN };

/* ---- reductions (kw_reduce) ---- */
enum { KW_RED_SUM = 0, KW_RED_MEAN, KW_RED_MAX, KW_RED_MIN, KW_RED_PROD, KW_RED_SUMSQ, KW_RED_L1 };

/* ---- pooling (kw_pool) ---- */
enum { KW_POOL_MAX = 0, KW_POOL_AVG = 1 };

/* y[i] = op(x[i]) for i < n; a and b are op parameters (Clip bounds, exponent, slope). */
typedef struct KwUnaryP {
    int op, n;
    float a, b;
} KwUnaryP;

/* y = op(a, b) with broadcasting. y is dense with shape dim[0..rank); sa/sb are the
 * element strides of a and b for each output dim (0 where that operand broadcasts). */
typedef struct KwBinaryP {
    int op, rank;
    int dim[KW_RT_MAXR];
    int sa[KW_RT_MAXR], sb[KW_RT_MAXR];
} KwBinaryP;

/* y[o][c][i] = act(x[o][c][i] * scale[c] + shift[c]): an inference BatchNormalization. */
typedef struct KwAffineP {
    int outer, C, inner;
    int act;
    float lo, hi;
} KwAffineP;

/* Direct convolution, N-d (nsp = 1..3 spatial dims; unused dims have size 1, stride 1).
 * x: [N][C][in...], y: [N][O][out...]. Weight element (o, ci, k0, k1, k2), ci within the
 * group, is at o*wso + ci*wsi + k0*wsk[0] + k1*wsk[1] + k2*wsk[2], so one kernel reads
 * ONNX's OIHW, an OHWI repacking, or an assembled KernelWarehouse kernel in place.
 * Epilogue, per output element: v = acc * scale[o] + bias[o] + res[same index], then the
 * activation; scale, bias and res may each be NULL. */
typedef struct KwConvP {
    int nsp, N, C, O, G;
    int in[3], out[3], k[3];
    int stride[3], pad[3], dil[3];
    int wso, wsi, wsk[3];
    int act;
    float lo, hi;
} KwConvP;

/* Batched GEMM: y[b] = act(alpha * A[b] B[b] + beta * C), A: MxK, B: KxN, y: MxN dense.
 * Element (i, k) of A[b] is at a[boff_a + i*a_rs + k*a_cs]; the same for B; the batch index
 * b runs over nb nested dims bdim[] with per-operand strides (0 broadcasts). C (may be NULL)
 * is read at c[i*c_rs + j*c_cs] and is the same for every batch. */
typedef struct KwGemmP {
    int M, N, K;
    int a_rs, a_cs, b_rs, b_cs, c_rs, c_cs;
    int nb;
    int bdim[4], a_bs[4], b_bs[4], y_bs[4];
    float alpha, beta;
    int act;
    float lo, hi;
} KwGemmP;

/* Pooling over nsp spatial dims of x: [NC][in...] -> y: [NC][out...]. The window of output
 * position p starts at p*stride - pad_b and has k taps dil apart; taps outside the input
 * are skipped. Average divides by the number of taps inside the input, or, with
 * count_include_pad, inside the input padded by pad_b before and pad_e after. */
typedef struct KwPoolP {
    int kind, nsp, NC;
    int in[3], out[3], k[3];
    int stride[3], pad_b[3], pad_e[3], dil[3];
    int count_include_pad;
} KwPoolP;

/* Reduction: y (dense, shape odim[0..orank)) gets op over the reduced index space
 * rdim[0..rrank) of x; x offset = sum o_i*os[i] + sum r_j*rs[j]. MEAN divides by the
 * reduced element count. */
typedef struct KwReduceP {
    int op, orank, rrank;
    int odim[KW_RT_MAXR], os[KW_RT_MAXR];
    int rdim[KW_RT_MAXR], rs[KW_RT_MAXR];
} KwReduceP;

/* Strided copy of esize-byte elements: dst[doff + sum i_k*ds[k]] = src[soff + sum i_k*ss[k]]
 * over the index space dim[0..rank). Transpose, Slice, Concat and Split are all this. */
typedef struct KwCopyP {
    int esize, rank;
    int dim[KW_RT_MAXR];
    int ss[KW_RT_MAXR], ds[KW_RT_MAXR];
    int soff, doff;
} KwCopyP;

/* Gather along one axis: x viewed as [outer][axis_n][inner], idx[nidx] already made
 * non-negative by kwcc; y: [outer][nidx][inner]. */
typedef struct KwGatherP {
    int esize, outer, axis_n, inner, nidx;
    const int *idx;
} KwGatherP;

/* Softmax over the middle dim of x viewed as [outer][n][inner]. */
typedef struct KwSoftmaxP {
    int outer, n, inner;
} KwSoftmaxP;

/* Layer normalisation of x viewed as [outer][n][inner] over the middle dim: mean and
 * variance of the n values, then * scale[j] + bias[j] (bias may be NULL). ONNX's
 * LayerNormalization has inner = 1; ConvNeXt's channels-first LayerNorm has n = C. */
typedef struct KwLayerNormP {
    int outer, n, inner;
    float eps;
} KwLayerNormP;

/* KernelWarehouse attention, batch 1 (KW_SEMANTICS.md section 2), with kwcc's folding:
 *   s   = sum over HW of x[c]            (the pool's 1/HW is folded into w1)
 *   u   = w1 s + b1                      (w1: [hidden][C]; BatchNorm1d folded in)
 *   u   = LayerNorm(u) * ln_g + ln_b     (only with ln = 1)
 *   h   = max(u, 0)
 *   z   = w2 h + b2                      (basis = 0: w2 [m*P][hidden], P = n + 1)
 *   or, basis = 1: y = w2 h (w2 [m*R][hidden], R = L + B + 1), and per mixture j the row
 *         [ (w3 nl)[0:start], loc, (w3 nl)[start:NL], zero ] + b2[j*P..]  (w3: [NL][B])
 *   a[j][p] = z[j][p] / (sum_q |z[j][q]| + eps)       over all P planes (eps = 1e-3)
 *   A[j][c] = tscale * a[j][c] + tb[j*n + c]          for c < n (zero plane dropped)
 * scratch needs hidden + m*P (+ m*R with basis) floats. A may be scratch + hidden (the z
 * above): each row of A is written after its row of z was read, and never past it. */
typedef struct KwAttnP {
    int C, HW, hidden, m, n;
    int ln;
    float ln_eps;
    int basis, L, B, start;
    float eps; /* the 1e-3 of the normalisation, as exported */
    float tscale;
} KwAttnP;

/* KernelWarehouse assembly: for every mixture j < m and every point i of the cell loop
 * nest (nl loops, outermost first, counts cnt[]),
 *   W[base[j] + sum i_l*ds[l]] = sum_{c<n} A[j*n + c] * E[c*S + sum i_l*ss[l]].
 * kwcc lays E (the warehouse, [n][S]) out so that the innermost loop is contiguous in E and,
 * as far as the conv's weight layout allows, in W. */
typedef struct KwAsmP {
    int m, n, S, nl;
    int cnt[5], ds[5], ss[5];
    const int *base;
} KwAsmP;

/* A KernelWarehouse conv on the portable path in little memory: the assembled kernel is never
 * whole, nor, unless full, the attention's m x n matrix. The attention's hidden vector is
 * computed once (with full = 1, every mixture's row of the attention too); then the output
 * channels are taken bo at a time: for each block, each mixture whose cells cover some of
 * those channels gets its row of the attention (unless full: the row is then recomputed for
 * every block it serves) and assembles its part of the block into W (bo * conv.wso floats,
 * laid out as kw_conv reads it), and the block is convolved. as is the assembly of the whole kernel (what kw_assemble would run) with the
 * cell's output-channel loop kept outermost and unmerged: cnt[0] = cell_out, ds[0] =
 * conv.wso; base[j] / conv.wso is mixture j's first output channel. conv is the whole layer
 * at batch 1. Every attention value, weight and output is the same sum in the same order as
 * kw_attention, kw_assemble and kw_conv compute it: the results are bit for bit those of the
 * unblocked path. With groups (conv.G > 1) bo divides O/G or is a multiple of it.
 * scratch: attn.hidden + (n + 1) (+ L + B + 1 with basis) floats, times m with full (the
 * scratch of kw_attention, A over z), then W at w_off floats. */
typedef struct KwKwConvBP {
    KwAttnP attn;
    KwConvP conv;
    KwAsmP as;
    int bo, full, w_off;
} KwKwConvBP;

/* The vector direct convolution (kw_rt_simd.c): geometry on phase planes, see there.
 * Spatial dims: 2-D (1-D convs have H = OH = 1). kwcc fills every field but g. */
typedef struct KwConvFP {
    int N, C, O, G, Cg, Og, g;
    int H, W, OH, OW;
    int kh, kw, sh, sw, dh, dw, pad_t, pad_l;
    int taps, Hq, Wq;
    int plane, Qpad;   /* floats per phase plane; pixels computed (a multiple of the tile) */
    int act;
    float lo, hi;
    float padval;      /* what padding reads as: 0 for convs, -FLT_MAX for max pooling */
    int direct;        /* the input is its own phase plane (1x1, stride 1, no padding); for a
                        * depthwise conv on x86: the kernel reads the input itself */
    int rb;            /* output channels per weight block: 8 (pixels in the vector lanes) or
                        * the target's KW_B_RB (channels in the lanes, for small images) */
    int ystore;        /* variant A: the tiles store to y themselves, epilogue in registers, no
                        * Y' buffer (kwcc sets it without padding columns, Wq == OW, and on x86
                        * when rows are at least a vector wide: stores masked at row ends) */
    int bcc;           /* variant B: input channels per chunk of weights that a group of tiles
                        * shares (kw__conv_rows_b); Cg: every tile runs through all of them.
                        * KW chunked path: bcc / Gi warehouse streams for each cell column */
} KwConvFP;

/* A KernelWarehouse conv on the vector path: conv geometry plus the cell geometry;
 * whole = 1 when cells hold the whole kernel window (no spatial partition). */
typedef struct KwKwConvP {
    KwConvFP conv;
    int n, m, S, co, ci, Go, Gi, whole;
    int grp; /* blocks of the Go cell rows assembled together (1: one at a time; chunked: their
              * chunks from each warehouse stream, G == 1) */
    int chunked; /* variant B, at most KW_B_KWTILES pixel tiles: the kernel assembled a chunk
                  * of KW_B_CHUNK_BYTES at a time into L1 and consumed at once (kwcc decides) */
} KwKwConvP;

#define KW_B_CHUNK_BYTES 20480 /* variant B: weights of one chunk of input channels, kept in L1 */
#define KW_B_GROUP 16          /* variant B: pixel tiles that share each chunk of weights */
#define KW_B_KWTILES 32        /* KW chunked path: most pixel tiles (of all its blocks) that share each
                                * chunk of the kernel, their partial sums in scratch */
#define KW_B_L2_BYTES 1310720  /* x86 L2 per core that kwcc plans variant B's chunks for (the
                                * smallest of the AVX-512 server cores, 1.25 MB; 2 MB here) */

#ifndef KW_RT_NO_PROTOTYPES /* generated files define the kernels they use, static */
KW_RT_FN void kw_unary(const KwUnaryP *p, const float *x, float *y);
KW_RT_FN void kw_binary(const KwBinaryP *p, const float *a, const float *b, float *y);
KW_RT_FN void kw_affine(const KwAffineP *p, const float *x, const float *scale,
                        const float *shift, float *y);
KW_RT_FN void kw_conv(const KwConvP *p, const float *x, const float *w, const float *scale,
                      const float *bias, const float *res, float *y);
KW_RT_FN void kw_gemm(const KwGemmP *p, const float *a, const float *b, const float *c, float *y);
KW_RT_FN void kw_pool(const KwPoolP *p, const float *x, float *y);
KW_RT_FN void kw_reduce(const KwReduceP *p, const float *x, float *y);
KW_RT_FN void kw_copy(const KwCopyP *p, const void *src, void *dst);
KW_RT_FN void kw_gather(const KwGatherP *p, const void *x, void *y);
KW_RT_FN void kw_softmax(const KwSoftmaxP *p, const float *x, float *y);
KW_RT_FN void kw_layernorm(const KwLayerNormP *p, const float *x, const float *scale,
                           const float *bias, float *y);
KW_RT_FN void kw_attention(const KwAttnP *p, const float *x, const float *w1, const float *b1,
                           const float *ln_g, const float *ln_b, const float *w2,
                           const float *b2, const float *w3, const float *tb,
                           float *scratch, float *A);
KW_RT_FN void kw_assemble(const KwAsmP *p, const float *A, const float *E, float *W);
KW_RT_FN void kw_kwconv(const KwKwConvBP *p, const float *x, const float *w1, const float *b1,
                        const float *ln_g, const float *ln_b, const float *w2, const float *b2,
                        const float *w3, const float *tb, const float *E, const float *scale,
                        const float *bias, const float *res, float *y, float *scratch);
#endif

#endif /* KW_RT_H */
