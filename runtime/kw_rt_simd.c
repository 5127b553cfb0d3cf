/* kw_rt_simd.c -- vector kernels for AVX-512, AVX2/FMA and NEON, written once over a small
 * macro layer (KW_V*), with the portable kernels of kw_rt_ref.c as their reference.
 *
 * Direct convolution as a sum of shifted GEMMs. The input (one group) is copied once into
 * zero-padded "phase planes": for stride s, plane (py, px) holds rows py, py+s, ... and
 * columns px, px+s, ... of the padded input. On the flattened plane grid (width Wq), output
 * pixel q = oh*Wq + ow of tap (kh, kw) reads plane ((kh*d)%s, (kw*d)%s) at q + shift, with
 * shift = ((kh*d)/s)*Wq + (kw*d)/s the same for every pixel. So every conv (any kernel,
 * stride, dilation, padding) becomes, per tap, Y'[o][q] += W[o][c][tap] * X[c][q + shift]:
 * a GEMM with contiguous, unit-stride pixel vectors and broadcast weights. Pixels past the
 * row end (ow >= OW) are computed on the padded grid and dropped by the epilogue, which also
 * applies scale, bias, residual and activation.
 *
 * Weights are packed per group as [O/8][C/g][tap][8] (O padded to a multiple of 8 with zero
 * rows): the micro-kernel computes 8 output channels x KW_NV vectors of pixels, channel by
 * channel, all taps of a channel in a row, so the pixels of one channel's plane are reused
 * from L1 by every tap.
 *
 * KernelWarehouse: kw_kwconv assembles one block of 8 output channels of the kernel at a
 * time, straight into that packed layout, then convolves with it: only 8 x C/g x taps floats
 * of the kernel are ever live. kwcc lays the warehouse out as
 * [cell_out/8][cell_k][cell_in/CB][n][CB][8] (CB = KW_ASM_C channels, zero-padded), so that
 * the assembly micro-kernel reads one sequential stream: every cell's CB x 8 floats for one
 * block of channels, one cell after the other. */
/*@@ simd_common */
#if defined(__GNUC__) && !defined(__clang__) && !defined(KW_RT_NO_O3)
/* The micro-kernels keep their accumulator arrays in registers only when gcc unrolls their
 * small constant loops completely, which -O2 does not do: without this a file built with
 * -O2 runs its convolutions about 3x slower. (clang unrolls them at -O2.) */
#pragma GCC optimize("O3")
#endif
#if defined(KW_SIMD_AVX512)
#include <immintrin.h>
#define KW_VL 16
#define KW_NV 3     /* pixel vectors per micro-tile */
#define KW_ROWS 8   /* output channels per micro-tile */
typedef __m512 kw_vf;
#define KW_VLOAD(p) _mm512_loadu_ps(p)
#define KW_VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define KW_VSET1(x) _mm512_set1_ps(x)
#define KW_VZERO() _mm512_setzero_ps()
#define KW_VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define KW_VMAX(a, b) _mm512_max_ps((a), (b))
#define KW_VADD(a, b) _mm512_add_ps((a), (b))
#define KW_VMIN(a, b) _mm512_min_ps((a), (b))
#define KW_VSTORE_N(p, v, n) _mm512_mask_storeu_ps((p), (__mmask16)((1u << (n)) - 1u), (v))
#elif defined(KW_SIMD_AVX2)
#include <immintrin.h>
#define KW_VL 8
#define KW_NV 3
#define KW_ROWS 4   /* 16 ymm registers: 4 x 3 accumulators + 3 pixel vectors + 1 broadcast */
typedef __m256 kw_vf;
#define KW_VLOAD(p) _mm256_loadu_ps(p)
#define KW_VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define KW_VSET1(x) _mm256_set1_ps(x)
#define KW_VZERO() _mm256_setzero_ps()
#define KW_VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define KW_VMAX(a, b) _mm256_max_ps((a), (b))
#define KW_VADD(a, b) _mm256_add_ps((a), (b))
#define KW_VMIN(a, b) _mm256_min_ps((a), (b))
#elif defined(KW_SIMD_NEON)
#include <arm_neon.h>
#define KW_VL 4
#define KW_NV 3
#define KW_ROWS 8
typedef float32x4_t kw_vf;
#define KW_VLOAD(p) vld1q_f32(p)
#define KW_VSTORE(p, v) vst1q_f32((p), (v))
#define KW_VSET1(x) vdupq_n_f32(x)
#define KW_VZERO() vdupq_n_f32(0.0f)
#define KW_VFMA(a, b, c) vfmaq_f32((c), (a), (b))
#define KW_VMAX(a, b) vmaxq_f32((a), (b))
#define KW_VADD(a, b) vaddq_f32((a), (b))
#define KW_VMIN(a, b) vminq_f32((a), (b))
#else
#error "kw_rt_simd.c needs KW_SIMD_AVX512, KW_SIMD_AVX2 or KW_SIMD_NEON"
#endif
#ifndef KW_VSTORE_N /* the first n < KW_VL lanes of v */
#define KW_VSTORE_N(p, v, n) kw__vstore_n((p), (v), (n))
KW_RT_LOCAL void kw__vstore_n(float *p, kw_vf v, int n)
{
    float tmp[KW_VL];
    KW_VSTORE(tmp, v);
    memcpy(p, tmp, sizeof(float) * (size_t)n);
}
#endif
#define KW_TILE (KW_VL * KW_NV) /* pixels per micro-tile */
#define KW_L2_BLOCK (700 * 1024) /* largest kernel block kw_kwconv_simd double-buffers */
#define KW_PF_AHEAD 2048          /* floats: how far ahead warehouse streams are prefetched */

/* Variant B (small images): output channels in the vector lanes, KW_B_P pixels of one output
 * row broadcast, weights packed [O/KW_B_RB][C/g][taps][KW_B_RB]. */
#if defined(KW_SIMD_AVX512)
#define KW_B_NV 4 /* 64 channels x 7 pixels: 28 accumulators (+ 4 weight vectors) */
#define KW_B_P 7
#elif defined(KW_SIMD_AVX2)
#define KW_B_NV 2 /* 16 channels x 6 pixels: 12 accumulators in 16 registers */
#define KW_B_P 6
#else
#define KW_B_NV 4 /* NEON: 16 channels x 6 pixels */
#define KW_B_P 6
#endif
#define KW_B_RB (KW_B_NV * KW_VL)

#if defined(KW_SIMD_AVX512) || defined(KW_SIMD_AVX2)
/* Masks of lanes (x86): masked loads and stores touch no memory in the lanes left out. */
#if defined(KW_SIMD_AVX512)
typedef __mmask16 kw_mask;
#define KW_MLOAD(m, ptr) _mm512_maskz_loadu_ps((m), (ptr))
#define KW_MSTORE(m, ptr, v) _mm512_mask_storeu_ps((ptr), (m), (v))
#define KW_MAND(m, ok) ((ok) ? (m) : (__mmask16)0)
#define KW_MLOAD_OR(m, ptr, fill) _mm512_mask_loadu_ps((fill), (m), (ptr)) /* fill in the lanes left out */
#else
typedef __m256i kw_mask;
#define KW_MLOAD(m, ptr) _mm256_maskload_ps((ptr), (m))
#define KW_MSTORE(m, ptr, v) _mm256_maskstore_ps((ptr), (m), (v))
#define KW_MAND(m, ok) ((ok) ? (m) : _mm256_setzero_si256())
#define KW_MLOAD_OR(m, ptr, fill) _mm256_blendv_ps((fill), _mm256_maskload_ps((ptr), (m)), _mm256_castsi256_ps(m))
#endif

/* The lanes j of a vector with lo <= j < hi. */
KW_RT_LOCAL inline kw_mask kw__lanes(int lo, int hi)
{
    lo = lo < 0 ? 0 : lo > KW_VL ? KW_VL : lo;
    hi = hi < lo ? lo : hi > KW_VL ? KW_VL : hi;
#if defined(KW_SIMD_AVX512)
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
#else
    {
        __m256i j = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        return _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(hi), j),
                                _mm256_cmpgt_epi32(j, _mm256_set1_epi32(lo - 1)));
    }
#endif
}

/* The column masks of the plane-free paths for the output vector at column ow (cnt valid
 * lanes), stride S: cm[S*k + h] holds the lanes of the h-th vector kernel column k reads
 * (lane j of vector h reads column c0 + h*VL + j) that fall inside the row and among the
 * (cnt - 1) * S + 1 columns read. */
KW_RT_LOCAL inline void kw__col_masks(const KwConvFP *p, int S, int ow, int cnt, kw_mask *cm)
{
    int k, h;
    for (k = 0; k < p->kw; k++) {
        int c0 = ow * S + k * p->dw - p->pad_l, n = (cnt - 1) * S + 1;
        for (h = 0; h < S; h++)
            cm[S * k + h] = kw__lanes(-c0 - h * KW_VL, (n < p->W - c0 ? n : p->W - c0) - h * KW_VL);
    }
}
#endif

/* The even lanes of the 2 * KW_VL floats a, b. */
KW_RT_LOCAL inline kw_vf kw__even2(kw_vf a, kw_vf b)
{
#if defined(KW_SIMD_AVX512)
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
#elif defined(KW_SIMD_AVX2) /* [a0 a2 b0 b2 | a4 a6 b4 b6] -> [a0 a2 a4 a6 b0 b2 b4 b6] */
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, 0x88)), 0xd8));
#else
    return vuzp1q_f32(a, b);
#endif
}

/* dst[0 .. n) = src[0 .. n): rows of a plane are short (7 to 230 floats), too short for a
 * call to memcpy to pay. */
KW_RT_LOCAL inline void kw__copy(float *dst, const float *src, int n)
{
    int j = 0;
    for (; j + KW_VL <= n; j += KW_VL)
        KW_VSTORE(dst + j, KW_VLOAD(src + j));
#if defined(KW_SIMD_AVX512)
    if (j < n) {
        __mmask16 m = (__mmask16)((1u << (n - j)) - 1u);
        _mm512_mask_storeu_ps(dst + j, m, _mm512_maskz_loadu_ps(m, src + j));
    }
#else
    for (; j < n; j++)
        dst[j] = src[j];
#endif
}

/* dst[0 .. n) = v. */
KW_RT_LOCAL inline void kw__fill(float *dst, float v, int n)
{
    kw_vf vv = KW_VSET1(v);
    int j = 0;
    for (; j + KW_VL <= n; j += KW_VL)
        KW_VSTORE(dst + j, vv);
    if (j < n)
        KW_VSTORE_N(dst + j, vv, n - j);
}

/* row[j] = src[2j] for j in [j0, j1), reading nothing past src[2(j1 - 1)]. */
KW_RT_LOCAL void kw__even(float *row, const float *src, int j0, int j1)
{
    int j = j0;
    for (; j + KW_VL < j1; j += KW_VL) /* reads src[2j .. 2j + 2VL - 1], before src[2(j1 - 1)] */
        KW_VSTORE(row + j, kw__even2(KW_VLOAD(src + 2 * j), KW_VLOAD(src + 2 * j + KW_VL)));
    for (; j < j1; j++)
        row[j] = src[2 * j];
}

/* Fills the phase planes of one group: Cg channels of x (H x W), padded with padval by
 * pad_t/pad_l, split by stride. planes: [sh*sw][Cg][plane]; the plane grid is Hq x Wq, the
 * rest of each plane (up to `plane` floats) is padding too. */
KW_RT_LOCAL void kw__phase_fill(const KwConvFP *p, const float *x, float *planes)
{
    int c, py, px, i, j, used = 0;
    long plane = p->plane, pstride = (long)p->Cg * plane;
    /* only the phases some tap reads (a 1x1 conv with stride 2 reads one of four); no
     * divisions for stride 1: the depthwise conv calls this once per channel */
    if (p->sh == 1 && p->sw == 1)
        used = 1;
    else
        for (i = 0; i < p->kh; i++)
            for (j = 0; j < p->kw; j++)
                used |= 1 << ((i * p->dh) % p->sh * p->sw + (j * p->dw) % p->sw);
    for (py = 0; py < p->sh; py++)
        for (px = 0; px < p->sw; px++) {
            /* row j of this phase takes input column ix = j*sw + off, for j in [j0, j1) */
            int off = px - p->pad_l, sw = p->sw;
            int j0 = off >= 0 ? 0 : sw == 1 ? -off : (-off + sw - 1) / sw;
            int j1 = p->W - off <= 0 ? 0 : sw == 1 ? p->W - off : (p->W - off + sw - 1) / sw;
            if (j0 > p->Wq)
                j0 = p->Wq;
            if (j1 > p->Wq)
                j1 = p->Wq;
            if (j1 < j0)
                j1 = j0;
            if (!(used >> (py * p->sw + px) & 1))
                continue;
            for (c = 0; c < p->Cg; c++) {
                float *pl = planes + (long)(py * p->sw + px) * pstride + (long)c * plane;
                const float *xc = x + (long)c * p->H * p->W;
                for (i = 0; i < p->Hq; i++) {
                    int iy = i * p->sh + py - p->pad_t;
                    float *row = pl + (long)i * p->Wq;
                    const float *src = xc + (long)iy * p->W + off;
                    if (iy < 0 || iy >= p->H) {
                        kw__fill(row, p->padval, p->Wq);
                        continue;
                    }
                    kw__fill(row, p->padval, j0);
                    if (sw == 1)
                        kw__copy(row + j0, src + j0, j1 - j0);
                    else if (sw == 2)
                        kw__even(row, src, j0, j1);
                    else
                        for (j = j0; j < j1; j++)
                            row[j] = src[j * sw];
                    kw__fill(row + j1, p->padval, p->Wq - j1);
                }
                kw__fill(pl + (long)p->Hq * p->Wq, p->padval, (int)(plane - (long)p->Hq * p->Wq));
            }
        }
}

/* Per tap: offset of its first pixel in the phase planes. */
KW_RT_LOCAL void kw__shifts(const KwConvFP *p, long *shift)
{
    int kh, kw;
    for (kh = 0; kh < p->kh; kh++)
        for (kw = 0; kw < p->kw; kw++) {
            int ty = kh * p->dh, tx = kw * p->dw;
            int ph = (ty % p->sh) * p->sw + tx % p->sw;
            shift[kh * p->kw + kw] = (long)ph * p->Cg * p->plane + (long)(ty / p->sh) * p->Wq + tx / p->sw;
        }
}

/* The activation on a vector. */
KW_RT_LOCAL kw_vf kw__act_vec(const KwConvFP *p, kw_vf v)
{
    if (p->act == KW_ACT_RELU)
        v = KW_VMAX(v, KW_VZERO());
    else if (p->act == KW_ACT_CLIP)
        v = KW_VMIN(KW_VMAX(v, KW_VSET1(p->lo)), KW_VSET1(p->hi));
    return v;
}

/* Epilogue on a vector of pixels in registers: act(v * s + b + res). */
KW_RT_LOCAL kw_vf kw__epi_vec(const KwConvFP *p, kw_vf v, kw_vf s, kw_vf b, const float *res, int n)
{
    v = KW_VFMA(v, s, b);
    if (res) {
        if (n == KW_VL)
            v = KW_VADD(v, KW_VLOAD(res));
        else {
            float t[KW_VL] = {0};
            memcpy(t, res, sizeof(float) * (size_t)n);
            v = KW_VADD(v, KW_VLOAD(t));
        }
    }
    return kw__act_vec(p, v);
}

#define KW_DW_U 4 /* output rows in flight: depthwise conv, max pooling (independent chains) */

/* Rows oh0 .. oh0+nr-1 of one channel at column ow (cnt valid lanes), from the accumulators
 * in registers: with epi, scale and bias, residual and activation (kw__epi_vec). */
KW_RT_LOCAL inline void kw__dw_store(const KwConvFP *p, const kw_vf *acc, int epi, int oh0, int nr, int ow, int cnt,
                                     kw_vf s, kw_vf b, const float *rc, float *yc)
{
    int u;
    for (u = 0; u < KW_DW_U && u < nr; u++) {
        long at = (long)(oh0 + u) * p->OW + ow;
        kw_vf e = epi ? kw__epi_vec(p, acc[u], s, b, rc ? rc + at : 0, cnt) : acc[u];
        if (cnt == KW_VL)
            KW_VSTORE(yc + at, e);
        else
            KW_VSTORE_N(yc + at, e, cnt);
    }
}

#if defined(KW_SIMD_AVX512) || defined(KW_SIMD_AVX2)
/* The plane-free paths (x86; kwcc sets KwConvFP.direct): rows oh0 .. oh0+nr-1 (nr <= KW_DW_U)
 * of one channel, the output vector at column ow (cnt valid lanes), read from the channel xc
 * itself for stride S = 1 or 2 (S, KH, KW and mx constants at each call site), through
 * masked loads that leave out the padding lanes and the rows outside the image (cm:
 * kw__col_masks; inside, a constant at each call site: every row the KW_DW_U output rows read
 * is in the image, so the column masks go to the loads as they are, without a per-row select
 * on every load). Depthwise conv (mx = 0, weights wc): the lanes left out read 0, with
 * stride 2 the even lanes of a kernel column's two vectors are taken before its FMA, then the
 * epilogue; the same sums in the same order as through phase planes. Max pooling (mx = 1):
 * they read -FLT_MAX, the two vectors are maxed raw and their even lanes taken once at the
 * end (max is exact in any order). Rows past nr are computed and dropped. */
KW_RT_LOCAL inline void kw__rows_x(const KwConvFP *p, int mx, int S, int KH, int KW, int inside, const float *xc,
                                   const kw_mask *cm, const float *wc, int oh0, int nr, int ow, int cnt, kw_vf s,
                                   kw_vf b, const float *rc, float *yc)
{
    const kw_vf fill = mx ? KW_VSET1(-3.40282347e+38f) : KW_VZERO();
    kw_vf acc[KW_DW_U], odd[KW_DW_U];
    int kh, k, u;
    for (u = 0; u < KW_DW_U; u++)
        acc[u] = odd[u] = fill;
    for (kh = 0; kh < KH; kh++) {
        const float *xr[KW_DW_U];
        int ok[KW_DW_U];
        for (u = 0; u < KW_DW_U; u++) { /* rows outside the image: no lanes, a row inside */
            int iy = (oh0 + u) * S + kh * p->dh - p->pad_t;
            ok[u] = inside || (iy >= 0 && iy < p->H);
            xr[u] = xc + (long)(ok[u] ? iy : 0) * p->W + (long)ow * S - p->pad_l;
        }
        for (k = 0; k < KW; k++) {
            kw_vf wt = mx ? fill : KW_VSET1(wc[kh * KW + k]);
            for (u = 0; u < KW_DW_U; u++) {
                const float *xs = xr[u] + (long)k * p->dw;
                kw_mask m0 = KW_MAND(cm[S * k], ok[u]), m1 = KW_MAND(cm[S * k + S - 1], ok[u]);
                kw_vf v = mx ? KW_MLOAD_OR(m0, xs, fill) : KW_MLOAD(m0, xs);
                if (mx) {
                    acc[u] = KW_VMAX(acc[u], v);
                    if (S == 2)
                        odd[u] = KW_VMAX(odd[u], KW_MLOAD_OR(m1, xs + KW_VL, fill));
                } else {
                    if (S == 2)
                        v = kw__even2(v, KW_MLOAD(m1, xs + KW_VL));
                    acc[u] = KW_VFMA(wt, v, acc[u]);
                }
            }
        }
    }
    if (mx && S == 2)
        for (u = 0; u < KW_DW_U; u++)
            acc[u] = kw__even2(acc[u], odd[u]);
    kw__dw_store(p, acc, !mx, oh0, nr, ow, cnt, s, b, rc, yc);
}

/* One channel of a plane-free depthwise conv (mx = 0) or max pooling (mx = 1): KW_DW_U rows
 * at a time, a vector of columns at a time, 3x3 kernels with their taps unrolled. */
KW_RT_LOCAL inline void kw__channel_x(const KwConvFP *p, int mx, const float *xc, const float *wc, kw_vf s, kw_vf b,
                                      const float *rc, float *yc)
{
    kw_mask cm[64];
    int S = p->sh, k3 = p->kh == 3 && p->kw == 3, oh, ow;
    for (oh = 0; oh < p->OH; oh += KW_DW_U) {
        int nr = p->OH - oh < KW_DW_U ? p->OH - oh : KW_DW_U;
        /* every input row of the KW_DW_U rows (computed even past nr) inside the image */
        int in = oh * S - p->pad_t >= 0 && (oh + KW_DW_U - 1) * S + (p->kh - 1) * p->dh - p->pad_t < p->H;
        for (ow = 0; ow < p->OW; ow += KW_VL) {
            int cnt = p->OW - ow < KW_VL ? p->OW - ow : KW_VL;
            kw__col_masks(p, S, ow, cnt, cm);
            if (k3 && S == 1)
                in ? kw__rows_x(p, mx, 1, 3, 3, 1, xc, cm, wc, oh, nr, ow, cnt, s, b, rc, yc)
                   : kw__rows_x(p, mx, 1, 3, 3, 0, xc, cm, wc, oh, nr, ow, cnt, s, b, rc, yc);
            else if (k3)
                in ? kw__rows_x(p, mx, 2, 3, 3, 1, xc, cm, wc, oh, nr, ow, cnt, s, b, rc, yc)
                   : kw__rows_x(p, mx, 2, 3, 3, 0, xc, cm, wc, oh, nr, ow, cnt, s, b, rc, yc);
            else if (S == 1)
                kw__rows_x(p, mx, 1, p->kh, p->kw, 0, xc, cm, wc, oh, nr, ow, cnt, s, b, rc, yc);
            else
                kw__rows_x(p, mx, 2, p->kh, p->kw, 0, xc, cm, wc, oh, nr, ow, cnt, s, b, rc, yc);
        }
    }
}
#define KW_DW_X 1
#endif

#if defined(KW_SIMD_AVX512) || defined(KW_SIMD_AVX2)
/* The pixel vector at plane index qi of a grid with padding columns (Wq > OW, Wq >= KW_VL,
 * OW >= KW_VL), scaled and biased in e, to channel plane yo (residual ro or NULL): its lanes
 * span at most two grid rows; each part goes to its row through masked loads and stores,
 * the lanes on padding columns or past the last row left out. */
KW_RT_LOCAL inline void kw__store_split(const KwConvFP *p, kw_vf e, long qi, const float *ro, float *yo)
{
    long row = qi / p->Wq;
    int col = (int)(qi % p->Wq), k1 = p->Wq - col < KW_VL ? p->Wq - col : KW_VL, h;
    for (h = 0; h < 2; h++, row++) { /* h = 0: lanes [0, k1) at col; h = 1: lanes [k1, VL) at 0 */
        long at = row * p->OW + (h ? -k1 : col);
        kw_mask m = h ? kw__lanes(k1, KW_VL) : kw__lanes(0, p->OW - col);
        kw_vf v = e;
        if (row >= p->OH || (h && k1 == KW_VL))
            break;
        if (ro)
            v = KW_VADD(v, KW_MLOAD(m, ro + at));
        KW_MSTORE(m, yo + at, kw__act_vec(p, v));
    }
}
#endif

/* One micro-tile: KW_ROWS output channels (w: [Cg][taps][8], rows r0..r0+KW_ROWS-1 of 8)
 * x KW_TILE pixels starting at q. With ystore the epilogue runs in registers and the tile
 * goes straight to y (channel o0 + r of this group): one run without padding columns,
 * otherwise row by row (kw__store_split, x86); without, the raw sums go to rows r0... of
 * out ([8][Qpad]) for kw__conv_epilogue. */
KW_RT_LOCAL void kw__conv_tile(const KwConvFP *p, const float *w, int r0, const float *planes,
                               const long *shift, long q, float *out, int o0, const float *scale,
                               const float *bias, const float *res, float *y)
{
    kw_vf acc[KW_ROWS][KW_NV];
    int r, v, t, c;
    for (r = 0; r < KW_ROWS; r++)
        for (v = 0; v < KW_NV; v++)
            acc[r][v] = KW_VZERO();
    for (c = 0; c < p->Cg; c++) {
        const float *xc = planes + (long)c * p->plane + q;
        const float *wc = w + (long)c * p->taps * 8 + r0;
        for (t = 0; t < p->taps; t++) {
            const float *xs = xc + shift[t];
            kw_vf xv[KW_NV];
            for (v = 0; v < KW_NV; v++)
                xv[v] = KW_VLOAD(xs + v * KW_VL);
            for (r = 0; r < KW_ROWS; r++) {
                kw_vf b = KW_VSET1(wc[t * 8 + r]);
                for (v = 0; v < KW_NV; v++)
                    acc[r][v] = KW_VFMA(b, xv[v], acc[r][v]);
            }
        }
    }
    if (!p->ystore || !y) {
        for (r = 0; r < KW_ROWS; r++)
            for (v = 0; v < KW_NV; v++)
                KW_VSTORE(out + (long)(r0 + r) * p->Qpad + q + v * KW_VL, acc[r][v]);
        return;
    }
#if defined(KW_SIMD_AVX512) || defined(KW_SIMD_AVX2)
    if (p->Wq != p->OW) {
        long npix = (long)p->OH * p->OW;
        for (r = 0; r < KW_ROWS && o0 + r0 + r < p->Og; r++) {
            int o = p->g * p->Og + o0 + r0 + r;
            kw_vf s = KW_VSET1(scale ? scale[o] : 1.0f), b = KW_VSET1(bias ? bias[o] : 0.0f);
            for (v = 0; v < KW_NV; v++)
                kw__store_split(p, KW_VFMA(acc[r][v], s, b), q + v * KW_VL, res ? res + (long)o * npix : 0,
                                y + (long)o * npix);
        }
        return;
    }
#endif
    {
        long npix = (long)p->OH * p->OW;
        for (r = 0; r < KW_ROWS && o0 + r0 + r < p->Og; r++) {
            int o = p->g * p->Og + o0 + r0 + r;
            kw_vf s = KW_VSET1(scale ? scale[o] : 1.0f), b = KW_VSET1(bias ? bias[o] : 0.0f);
            float *yo = y + (long)o * npix;
            const float *ro = res ? res + (long)o * npix : 0;
            for (v = 0; v < KW_NV; v++) {
                long at = q + v * KW_VL;
                int cnt = npix - at >= KW_VL ? KW_VL : (int)(npix - at);
                kw_vf e;
                if (cnt <= 0)
                    break;
                e = kw__epi_vec(p, acc[r][v], s, b, ro ? ro + at : 0, cnt);
                if (cnt == KW_VL)
                    KW_VSTORE(yo + at, e);
                else {
                    float tmp[KW_VL];
                    KW_VSTORE(tmp, e);
                    memcpy(yo + at, tmp, sizeof(float) * (size_t)cnt);
                }
            }
        }
    }
}

/* Epilogue of one row of n pixels: y = act(src * s + b + res), res may be NULL. */
KW_RT_LOCAL void kw__epi_row(const KwConvFP *p, const float *src, float s, float b, const float *res, float *y,
                             int n)
{
    kw_vf vs = KW_VSET1(s), vb = KW_VSET1(b), lo = KW_VSET1(p->lo), hi = KW_VSET1(p->hi), zero = KW_VZERO();
    int i = 0;
    for (; i + KW_VL <= n; i += KW_VL) {
        kw_vf v = KW_VFMA(KW_VLOAD(src + i), vs, vb);
        if (res)
            v = KW_VADD(v, KW_VLOAD(res + i));
        if (p->act == KW_ACT_RELU)
            v = KW_VMAX(v, zero);
        else if (p->act == KW_ACT_CLIP)
            v = KW_VMIN(KW_VMAX(v, lo), hi);
        KW_VSTORE(y + i, v);
    }
    for (; i < n; i++) {
        float v = src[i] * s + b;
        if (res)
            v += res[i];
        if (p->act == KW_ACT_RELU)
            v = v > 0.0f ? v : 0.0f;
        else if (p->act == KW_ACT_CLIP)
            v = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
        y[i] = v;
    }
}

/* Y' rows of one block of 8 output channels -> y, with the epilogue. */
KW_RT_LOCAL void kw__conv_epilogue(const KwConvFP *p, const float *out, int o0, const float *scale,
                                   const float *bias, const float *res, float *y)
{
    int r, oh;
    for (r = 0; r < 8 && o0 + r < p->Og; r++) {
        int o = p->g * p->Og + o0 + r;
        float s = scale ? scale[o] : 1.0f, b = bias ? bias[o] : 0.0f;
        const float *src = out + (long)r * p->Qpad;
        float *yo = y + (long)o * p->OH * p->OW;
        const float *ro = res ? res + (long)o * p->OH * p->OW : 0;
        if (p->Wq == p->OW) /* no padding columns: one run */
            kw__epi_row(p, src, s, b, ro, yo, p->OH * p->OW);
        else
            for (oh = 0; oh < p->OH; oh++)
                kw__epi_row(p, src + (long)oh * p->Wq, s, b, ro ? ro + (long)oh * p->OW : 0, yo + (long)oh * p->OW,
                            p->OW);
    }
}

/* One block of 8 output channels (o0..o0+7 of group p->g) over the whole image; the
 * epilogue is fused into the tiles when there are no padding columns. */
KW_RT_LOCAL void kw__conv_block(const KwConvFP *p, const float *wblk, const float *planes, const long *shift,
                                float *out, int o0, const float *scale, const float *bias, const float *res,
                                float *y)
{
    long q;
    int r0;
    for (q = 0; q < p->Qpad; q += KW_TILE)
        for (r0 = 0; r0 < 8; r0 += KW_ROWS)
            kw__conv_tile(p, wblk, r0, planes, shift, q, out, o0, scale, bias, res, y);
    if (!p->ystore)
        kw__conv_epilogue(p, out, o0, scale, bias, res, y);
}

/* KW_B_CHUNK_BYTES, KW_B_GROUP: kw_rt.h (kwcc sizes scratch with them) */
#define KW_B_PF_CHUNKS 4         /* how far ahead a conv's own weights are prefetched */

/* A stream of cache lines prefetched a few at a time, spread over other work. */
typedef struct KwPfStream {
    const char *p; /* the next line */
    long lines;    /* lines left */
} KwPfStream;

/* One variant-B tile: P <= KW_B_P pixels of output row oh from column ow0, input channels
 * [c0, c1) (their weights from w + (c - cb) * taps * KW_B_RB), accumulated onto the partial
 * sums at pt (zeros when c0 == 0) and stored back there; per_c lines of stream pf prefetched
 * per channel while they last. P is a constant at each call site, so the accumulators stay in
 * registers. */
KW_RT_LOCAL inline void kw__b_tile(const KwConvFP *p, int P, const float *w, int cb, const float *planes,
                                   const long *shift, int oh, int ow0, int c0, int c1, float *pt, KwPfStream *pf,
                                   long per_c)
{
    kw_vf acc[KW_B_P][KW_B_NV];
    int c, t, q, v;
    for (q = 0; q < P; q++)
        for (v = 0; v < KW_B_NV; v++)
            acc[q][v] = c0 ? KW_VLOAD(pt + q * KW_B_RB + v * KW_VL) : KW_VZERO();
    for (c = c0; c < c1; c++) {
        const float *xc = planes + (long)c * p->plane + (long)oh * p->Wq + ow0;
        const float *wc = w + (long)(c - cb) * p->taps * KW_B_RB;
        long l;
        for (l = 0; l < per_c && pf->lines > 0; l++, pf->lines--, pf->p += 64)
            __builtin_prefetch(pf->p, 0, 2);
        for (t = 0; t < p->taps; t++) {
            const float *xs = xc + shift[t];
            kw_vf wv[KW_B_NV];
            for (v = 0; v < KW_B_NV; v++)
                wv[v] = KW_VLOAD(wc + t * KW_B_RB + v * KW_VL);
            for (q = 0; q < P; q++) {
                kw_vf b = KW_VSET1(xs[q]);
                for (v = 0; v < KW_B_NV; v++)
                    acc[q][v] = KW_VFMA(b, wv[v], acc[q][v]);
            }
        }
    }
    for (q = 0; q < P; q++)
        for (v = 0; v < KW_B_NV; v++)
            KW_VSTORE(pt + q * KW_B_RB + v * KW_VL, acc[q][v]);
}

/* Pixels per variant-B tile: KW_B_P, or 2 or 4 for rows that short (so that small images do
 * not compute mostly dropped pixels). */
KW_RT_LOCAL inline int kw__b_pixels(const KwConvFP *p)
{
    return p->OW <= 2 && KW_B_P > 2 ? 2 : p->OW <= 4 && KW_B_P > 4 ? 4 : KW_B_P;
}

/* kw__b_tile with P pixels, P a constant in each call so that the accumulators stay in
 * registers. */
KW_RT_LOCAL inline void kw__b_tile_p(const KwConvFP *p, int P, const float *w, int cb, const float *planes,
                                     const long *shift, int oh, int ow0, int c0, int c1, float *pt, KwPfStream *pf,
                                     long per_c)
{
    if (P == KW_B_P)
        kw__b_tile(p, KW_B_P, w, cb, planes, shift, oh, ow0, c0, c1, pt, pf, per_c);
    else if (P == 4)
        kw__b_tile(p, 4, w, cb, planes, shift, oh, ow0, c0, c1, pt, pf, per_c);
    else
        kw__b_tile(p, 2, w, cb, planes, shift, oh, ow0, c0, c1, pt, pf, per_c);
}

/* Epilogue of one variant-B tile: pt holds np <= 8 pixels x KW_B_RB channels (pixel-major,
 * channels in the lanes); output channel o0 + r of group p->g gets its np pixels at pixel
 * offset `at` of its plane. With AVX-512 or AVX2 the tile is transposed in registers, 8
 * pixels x one vector of channels at a time, so that each channel's pixels leave in one
 * masked store instead of np scalar stores to np places (that scalar loop was about a tenth
 * of a 64-channel 3x3 conv). The arithmetic is the same: scale and bias in one FMA, then the
 * residual, then the activation. */
#if defined(KW_SIMD_AVX512) || defined(KW_SIMD_AVX2)
#if defined(KW_SIMD_AVX512)
#define KW_VUNPACKLO(a, b) _mm512_unpacklo_ps((a), (b))
#define KW_VUNPACKHI(a, b) _mm512_unpackhi_ps((a), (b))
#define KW_VSHUFPS(a, b, i) _mm512_shuffle_ps((a), (b), (i))
#else
#define KW_VUNPACKLO(a, b) _mm256_unpacklo_ps((a), (b))
#define KW_VUNPACKHI(a, b) _mm256_unpackhi_ps((a), (b))
#define KW_VSHUFPS(a, b, i) _mm256_shuffle_ps((a), (b), (i))
#endif

/* r: 8 pixels, each a vector of KW_VL channels -> ch[c]: the 8 pixels of channel c in the low
 * 8 lanes. */
KW_RT_LOCAL inline void kw__b_transpose(const kw_vf *r, kw_vf *ch)
{
    kw_vf t[8], u[8];
    int q, j;
    /* per 128-bit lane k, u[j] / u[4 + j]: pixels 0-3 / 4-7 of channel 4k + j */
    for (q = 0; q < 8; q += 2) {
        t[q] = KW_VUNPACKLO(r[q], r[q + 1]);
        t[q + 1] = KW_VUNPACKHI(r[q], r[q + 1]);
    }
    for (q = 0; q < 8; q += 4) {
        u[q] = KW_VSHUFPS(t[q], t[q + 2], 0x44);
        u[q + 1] = KW_VSHUFPS(t[q], t[q + 2], 0xee);
        u[q + 2] = KW_VSHUFPS(t[q + 1], t[q + 3], 0x44);
        u[q + 3] = KW_VSHUFPS(t[q + 1], t[q + 3], 0xee);
    }
    for (j = 0; j < 4; j++) {
#if defined(KW_SIMD_AVX512)
        /* a: [u_j lane 0, u_j lane 1, u_4+j lane 0, u_4+j lane 1]; c: lanes 2 and 3 likewise */
        __m512 a = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x44), c = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xee);
        ch[j] = _mm512_shuffle_f32x4(a, a, 0x08);      /* lanes 0, 2 of a: channel j */
        ch[4 + j] = _mm512_shuffle_f32x4(a, a, 0x0d);  /* lanes 1, 3 */
        ch[8 + j] = _mm512_shuffle_f32x4(c, c, 0x08);
        ch[12 + j] = _mm512_shuffle_f32x4(c, c, 0x0d);
#else
        ch[j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x20);     /* the low halves: channel j */
        ch[4 + j] = _mm256_permute2f128_ps(u[j], u[4 + j], 0x31); /* the high halves */
#endif
    }
}

KW_RT_LOCAL void kw__b_epi(const KwConvFP *p, const float *pt, int np, int o0, const float *scale,
                           const float *bias, const float *res, float *y, long at)
{
    long npix = (long)p->OH * p->OW;
    kw_mask pm = kw__lanes(0, np);
    int v, q, c;
    for (v = 0; v < KW_B_NV; v++) {
        int ob = o0 + v * KW_VL, nc = p->Og - ob, o = p->g * p->Og + ob;
        kw_mask cm;
        kw_vf s, b, r[8], ch[KW_VL];
        if (nc <= 0)
            break;
        cm = kw__lanes(0, nc);
        s = scale ? KW_MLOAD(cm, scale + o) : KW_VSET1(1.0f);
        b = bias ? KW_MLOAD(cm, bias + o) : KW_VZERO();
        for (q = 0; q < 8; q++) {
            r[q] = q < np ? KW_VFMA(KW_VLOAD(pt + q * KW_B_RB + v * KW_VL), s, b) : KW_VZERO();
            if (!res)
                r[q] = kw__act_vec(p, r[q]);
        }
        kw__b_transpose(r, ch);
        for (c = 0; c < KW_VL && c < nc; c++) {
            long off = (long)(o + c) * npix + at;
            kw_vf e = ch[c];
            if (res)
                e = kw__act_vec(p, KW_VADD(e, KW_MLOAD(pm, res + off)));
            KW_MSTORE(pm, y + off, e);
        }
    }
}
#else
KW_RT_LOCAL void kw__b_epi(const KwConvFP *p, const float *pt, int np, int o0, const float *scale,
                           const float *bias, const float *res, float *y, long at)
{
    long npix = (long)p->OH * p->OW;
    int r, q;
    for (r = 0; r < KW_B_RB && o0 + r < p->Og; r++) {
        int o = p->g * p->Og + o0 + r;
        float sc = scale ? scale[o] : 1.0f, bb = bias ? bias[o] : 0.0f;
        long off = (long)o * npix + at;
        for (q = 0; q < np; q++) {
            float val = pt[q * KW_B_RB + r] * sc + bb;
            if (res)
                val += res[off + q];
            if (p->act == KW_ACT_RELU)
                val = val > 0.0f ? val : 0.0f;
            else if (p->act == KW_ACT_CLIP)
                val = val < p->lo ? p->lo : (val > p->hi ? p->hi : val);
            y[off + q] = val;
        }
    }
}
#endif

/* Variant B: one block of KW_B_RB output channels (o0.. of group p->g, weights w: [Cg][taps]
 * [KW_B_RB]) over output rows oh0..oh1-1, a few pixels of a row per tile (KW_B_P, or 2 or 4
 * for rows that short, so that small images do not compute mostly dropped pixels), epilogue
 * fused. Tiles are taken KW_B_GROUP at a time, and each group runs through the input
 * channels in chunks of p->bcc channels, the partial sums of the group's tiles parked in
 * `part` between chunks: with chunks whose weights fit in L1, each chunk is read from L2
 * (or memory) once per group instead of once per tile. kwcc picks the chunk: all Cg
 * channels (no sums parked) where the block's weights stay in L2 and enough tiles share
 * them, else KW_B_CHUNK_BYTES of weights. The sums are the same, in the same order, either
 * way. The last tile of a row computes (and drops) up to P - 1 pixels past its end: planes
 * and workspace buffers have that much slack. */
KW_RT_LOCAL void kw__conv_rows_b(const KwConvFP *p, const float *w, const float *planes, const long *shift,
                                 int o0, const float *scale, const float *bias, const float *res, float *y,
                                 int oh0, int oh1, const char *pf, long pf_lines, int stream)
{
    int P = kw__b_pixels(p), ntw = (p->OW + P - 1) / P, cc = p->bcc;
    long ntiles = (long)(oh1 - oh0) * ntw, g0, ti, c0;
    float part[KW_B_GROUP * KW_B_P * KW_B_RB];
    KwPfStream in = {pf, pf_lines};
    /* pf: pf_lines cache lines the caller will read next (the warehouse for the next kernel
     * block), fetched a few per input channel so the transfer overlaps the FMAs */
    long per_c = pf_lines > 0 ? (pf_lines + (long)p->Cg * ntiles - 1) / ((long)p->Cg * ntiles) : 0;
    if (cc < 1)
        cc = 1;
    for (g0 = 0; g0 < ntiles; g0 += KW_B_GROUP) {
        long g1 = g0 + KW_B_GROUP < ntiles ? g0 + KW_B_GROUP : ntiles;
        for (c0 = 0; c0 < p->Cg; c0 += cc) {
            int c1 = c0 + cc < p->Cg ? (int)c0 + cc : p->Cg;
            /* stream: the weights are constants, which the first group of tiles reads from
             * memory, once, in order (not a KW block just assembled into L2): without a stream
             * from the caller, fetch KW_B_PF_CHUNKS chunks ahead */
            KwPfStream own = {0, 0}, *s = &in;
            long sper = per_c, na = c0 + KW_B_PF_CHUNKS * cc;
            if (stream && !pf && g0 == 0 && na < p->Cg) {
                long nb = (long)((na + cc < p->Cg ? na + cc : p->Cg) - na) * p->taps * KW_B_RB * 4;
                own.p = (const char *)(w + na * p->taps * KW_B_RB);
                own.lines = (nb + 63) / 64;
                sper = (own.lines + (long)(c1 - c0) * (g1 - g0) - 1) / ((long)(c1 - c0) * (g1 - g0));
                s = &own;
            }
            for (ti = g0; ti < g1; ti++) {
                int oh = oh0 + (int)(ti / ntw), ow0 = (int)(ti % ntw) * P;
                int np = p->OW - ow0 < P ? p->OW - ow0 : P;
                float *pt = part + (ti - g0) * KW_B_P * KW_B_RB;
                kw__b_tile_p(p, P, w, 0, planes, shift, oh, ow0, (int)c0, c1, pt, s, sper);
                if (c1 == p->Cg)
                    kw__b_epi(p, pt, np, o0, scale, bias, res, y, (long)oh * p->OW + ow0);
            }
        }
    }
}

KW_RT_LOCAL void kw__conv_block_b(const KwConvFP *p, const float *w, const float *planes, const long *shift,
                                  int o0, const float *scale, const float *bias, const float *res, float *y)
{
    kw__conv_rows_b(p, w, planes, shift, o0, scale, bias, res, y, 0, p->OH, 0, 0, 1);
}

/* The phase planes of one group, or the input itself when it is already in their layout
 * (1x1 kernel, stride 1, no padding: kwcc sets plane = H*W and direct = 1). */
KW_RT_LOCAL const float *kw__planes(const KwConvFP *p, const float *x, float *planes)
{
    if (p->direct)
        return x;
    kw__phase_fill(p, x, planes);
    return planes;
}

/*@@ kw_conv_simd */
/* Conv with packed constant weights w: [G][O/g/rb][C/g][taps][rb] (rb = 8: variant A, pixels
 * in the lanes; rb = KW_B_RB: variant B, channels in the lanes). scratch: phase planes, then
 * Y' for 8 channels (variant A; kwcc sizes it). Batch N (images one after another). */
KW_RT_FN void kw_conv_simd(const KwConvFP *pp, const float *x, const float *w, const float *scale,
                           const float *bias, const float *res, float *y, float *scratch)
{
    KwConvFP p = *pp;
    long shift[64];
    /* no arithmetic on scratch when it is NULL (a direct conv without Y' needs none): UB in C */
    float *planes = scratch, *out = p.direct ? scratch : scratch + (long)p.sh * p.sw * p.Cg * p.plane;
    int nb, g, ob, nob = (p.Og + p.rb - 1) / p.rb;
    long wg = (long)nob * p.taps * p.Cg * p.rb, img = (long)p.O * p.OH * p.OW;
    kw__shifts(&p, shift);
    for (nb = 0; nb < p.N; nb++)
        for (g = 0; g < p.G; g++) {
            const float *pl;
            p.g = g;
            pl = kw__planes(&p, x + ((long)nb * p.C + (long)g * p.Cg) * p.H * p.W, planes);
            for (ob = 0; ob < nob; ob++) {
                const float *wb = w + g * wg + (long)ob * p.Cg * p.taps * p.rb;
                if (p.rb == 8)
                    kw__conv_block(&p, wb, pl, shift, out, ob * 8, scale, bias, res ? res + nb * img : 0, y + nb * img);
                else
                    kw__conv_block_b(&p, wb, pl, shift, ob * p.rb, scale, bias, res ? res + nb * img : 0, y + nb * img);
            }
        }
}

/*@@ kw_dwconv_simd */
/* Rows oh0 .. oh0+nr-1 (nr <= KW_DW_U) of one channel, the pixel vector at column ow (cnt
 * valid lanes): all taps, then the epilogue in registers. taps is a constant at the 3x3 call
 * site, so the tap loop unrolls. */
KW_RT_LOCAL inline void kw__dw_rows(const KwConvFP *p, const float *pl, const long *shift, const float *wc, int taps,
                                    int oh0, int nr, int ow, int cnt, kw_vf s, kw_vf b, const float *rc, float *yc)
{
    kw_vf acc[KW_DW_U];
    int t, u;
    for (u = 0; u < KW_DW_U; u++)
        acc[u] = KW_VZERO();
    for (t = 0; t < taps; t++) {
        kw_vf wt = KW_VSET1(wc[t]);
        const float *xs = pl + shift[t] + (long)oh0 * p->Wq + ow;
        for (u = 0; u < KW_DW_U; u++)
            if (u < nr)
                acc[u] = KW_VFMA(wt, KW_VLOAD(xs + (long)u * p->Wq), acc[u]);
    }
    kw__dw_store(p, acc, 1, oh0, nr, ow, cnt, s, b, rc, yc);
}

/* Depthwise conv (C/g = O/g = 1) with weights [C][taps]. Per channel: the phase planes, then
 * the output in vectors of pixels of KW_DW_U rows at a time, all taps, the epilogue in
 * registers: no Y' pass and no pixels computed on padding columns. The planes of channel c+1
 * are filled before channel c is computed (two buffers, `half` floats apart), so that vector
 * loads do not follow the narrow stores that wrote them too closely (store forwarding). Loads
 * of a row's partial vector run up to KW_VL - 1 floats past the row, into the next row or the
 * 16 floats kwcc allocates past the last plane; those lanes are dropped. */
KW_RT_FN void kw_dwconv_simd(const KwConvFP *pp, const float *x, const float *w, const float *scale,
                             const float *bias, const float *res, float *y, float *scratch)
{
    KwConvFP p = *pp;
    long shift[64], npix = (long)p.OH * p.OW, half = (long)p.sh * p.sw * p.plane + 16;
    int nb, c, oh, ow;
    p.Cg = 1;
    kw__shifts(&p, shift);
#ifdef KW_DW_X
    /* kwcc sets direct for stride 1 or 2, zero padding and at most 32 kernel columns: straight
     * from x, no planes */
    if (p.direct) {
        for (c = 0; c < p.N * p.C; c++)
            kw__channel_x(&p, 0, x + (long)c * p.H * p.W, w + (long)(c % p.C) * p.taps,
                          KW_VSET1(scale ? scale[c % p.C] : 1.0f), KW_VSET1(bias ? bias[c % p.C] : 0.0f),
                          res ? res + (long)c * npix : 0, y + (long)c * npix);
        return;
    }
#endif
    for (nb = 0; nb < p.N; nb++) {
        const float *xn = x + (long)nb * p.C * p.H * p.W;
        kw__phase_fill(&p, xn, scratch);
        for (c = 0; c < p.C; c++) {
            const float *wc = w + (long)c * p.taps, *pl = scratch + (c & 1) * half;
            kw_vf s = KW_VSET1(scale ? scale[c] : 1.0f), b = KW_VSET1(bias ? bias[c] : 0.0f);
            float *yc = y + ((long)nb * p.O + c) * npix;
            const float *rc = res ? res + ((long)nb * p.O + c) * npix : 0;
            if (c + 1 < p.C)
                kw__phase_fill(&p, xn + (long)(c + 1) * p.H * p.W, scratch + ((c + 1) & 1) * half);
            for (ow = 0; ow < p.OW; ow += KW_VL) {
                int cnt = p.OW - ow < KW_VL ? p.OW - ow : KW_VL;
                for (oh = 0; oh < p.OH; oh += KW_DW_U) {
                    int nr = p.OH - oh < KW_DW_U ? p.OH - oh : KW_DW_U;
                    if (p.taps == 9)
                        kw__dw_rows(&p, pl, shift, wc, 9, oh, nr, ow, cnt, s, b, rc, yc);
                    else
                        kw__dw_rows(&p, pl, shift, wc, p.taps, oh, nr, ow, cnt, s, b, rc, yc);
                }
            }
        }
    }
}

/*@@ kw_kwconv_simd */
#define KW_ASM_R 9 /* taps per assembly micro-tile (a 3x3 kernel in one go) */
#if KW_VL >= 8
#define KW_ASM_V (KW_VL == 16 ? 2 : 1) /* vectors per tap: 2 x 16 or 1 x 8 floats */
#else
#define KW_ASM_V 2                     /* NEON: 2 x 4 floats, one channel */
#endif
#define KW_ASM_C (KW_ASM_V * KW_VL / 8) /* channels per micro-tile */

/* Stores VL floats that are KW_VL/8 channels x 8 (or half of one channel's 8 for VL = 4)
 * into the packed kernel, channel stride dcs. */
#if KW_VL == 16
#define KW_VSTORE_C(dst, dcs, v) /* AVX-512F only: the upper half through a double view */ \
    (_mm256_storeu_ps((dst), _mm512_castps512_ps256(v)), \
     _mm256_storeu_ps((dst) + (dcs), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))))
#define KW_VCH(dcs, k) ((long)(k) * 2 * (dcs)) /* dst offset of vector k of a tile */
#elif KW_VL == 8
#define KW_VSTORE_C(dst, dcs, v) KW_VSTORE(dst, v)
#define KW_VCH(dcs, k) ((long)(k) * (dcs))
#else
#define KW_VSTORE_C(dst, dcs, v) KW_VSTORE(dst, v)
#define KW_VCH(dcs, k) ((long)(k) * 4)
#endif

/* Assembly micro-tile: for nr <= KW_ASM_R rows r (cells) and nc channels,
 *   out_r[c][0..8) = sum_k A[arow_r][k] * E[c/CB][k][c%CB][0..8)
 * (blocks of n*CB*8 floats), out_r of channel c at dst_r + c*dcs: the rows share every E load. */
KW_RT_LOCAL void kw__asm_tile(int nr, const float *A, int n, const float *E, const int *arow, float *const *dst,
                              long dcs, int nc)
{
    int c0, k, r, v;
    long blk = (long)n * KW_ASM_C * 8;
    for (c0 = 0; c0 < nc; c0 += KW_ASM_C) {
        kw_vf acc[KW_ASM_R][KW_ASM_V];
        const float *e = E + (c0 / KW_ASM_C) * blk;
        for (r = 0; r < KW_ASM_R; r++)
            for (v = 0; v < KW_ASM_V; v++)
                acc[r][v] = KW_VZERO();
        for (k = 0; k < n; k++, e += KW_ASM_C * 8) {
            kw_vf ev[KW_ASM_V];
            for (v = 0; v < KW_ASM_C * 8 / 16; v++)
                __builtin_prefetch(e + KW_PF_AHEAD + v * 16, 0, 3);
            for (v = 0; v < KW_ASM_V; v++)
                ev[v] = KW_VLOAD(e + v * KW_VL);
            for (r = 0; r < KW_ASM_R; r++)
                if (r < nr) {
                    kw_vf a = KW_VSET1(A[(long)arow[r] * n + k]);
                    for (v = 0; v < KW_ASM_V; v++)
                        acc[r][v] = KW_VFMA(a, ev[v], acc[r][v]);
                }
        }
        if (c0 + KW_ASM_C <= nc) {
            for (r = 0; r < nr; r++)
                for (v = 0; v < KW_ASM_V; v++)
                    KW_VSTORE_C(dst[r] + (long)c0 * dcs + KW_VCH(dcs, v), dcs, acc[r][v]);
        } else { /* a partial block of channels: through memory */
            float tmp[KW_ASM_V * KW_VL];
            int cc;
            for (r = 0; r < nr; r++) {
                for (v = 0; v < KW_ASM_V; v++)
                    KW_VSTORE(tmp + v * KW_VL, acc[r][v]);
                for (cc = 0; c0 + cc < nc; cc++)
                    for (v = 0; v < 8; v++)
                        dst[r][(long)(c0 + cc) * dcs + v] = tmp[cc * 8 + v];
            }
        }
    }
}

/* Blocks go0 .. go0+ngo-1 of 8 output channels of a KernelWarehouse kernel that read warehouse
 * slice a_hi, block go packed [C/g][taps][8] at wblk + (go - go0) * blk:
 * W[c][t][r] = sum_k A[j][k] E[a_hi][kc][b/CB][k][b%CB][r] for o = go*co + a_hi*8 + r,
 * gi = c / ci, b = c % ci, and (spatial partition) j = (t*Go + go)*Gi + gi, kc = 0, or
 * (whole-window cells) j = go*Gi + gi, kc = t. The cell rows (go, gi, tap) that read the same
 * warehouse offset go through one assembly tile together, KW_ASM_R at a time; kwcc asks for
 * all Go blocks at once (k->grp) when one block alone would give a tile only 1 or 2 rows. */
KW_RT_LOCAL void kw__kw_assemble_blocks(const KwKwConvP *k, const float *A, const float *E, int a_hi, int go0,
                                        int ngo, float *wblk, long blk)
{
    int taps = k->conv.taps, ckn = k->whole ? taps : 1, per = k->whole ? 1 : taps;
    int rows = ngo * k->Gi * per, te, r0, r;
    long kcs = (long)((k->ci + KW_ASM_C - 1) / KW_ASM_C) * k->n * KW_ASM_C * 8; /* one kc's slice */
    const float *Eb = E + (long)a_hi * ckn * kcs;
    int arow[KW_ASM_R];
    float *dst[KW_ASM_R];
    for (te = 0; te < ckn; te++) /* whole-window cells: one warehouse offset per tap */
        for (r0 = 0; r0 < rows; r0 += KW_ASM_R) {
            int nr = rows - r0 < KW_ASM_R ? rows - r0 : KW_ASM_R;
            for (r = 0; r < nr; r++) {
                int idx = r0 + r, t = k->whole ? te : idx % taps, rest = k->whole ? idx : idx / taps;
                int gi = rest % k->Gi, go = go0 + rest / k->Gi;
                arow[r] = k->whole ? go * k->Gi + gi : (t * k->Go + go) * k->Gi + gi;
                dst[r] = wblk + (go - go0) * blk + ((long)gi * k->ci * taps + t) * 8;
            }
            kw__asm_tile(nr, A, k->n, Eb + (long)te * kcs, arow, dst, (long)taps * 8, k->ci);
        }
}

#define KW_ASMB_R 6 /* cell rows per variant-B assembly tile (6 x 4 accumulators) */

/* Variant B assembly micro-tile: nr <= KW_ASMB_R rows (cells) sharing one warehouse stream
 * eb ([n][KW_B_RB]): dst_r[0..KW_B_RB) = sum_k ar_r[k] * eb[k][..]; pf: prefetch the stream ahead
 * (the first tile that reads it; measured: +20..40% from L3); nx: another stream that the
 * tile prefetches a line of per cell k while nx->lines last. nx is a constant at each call
 * site (kw__asmb_tile without it, kw__asmb_tile_nx with it): with a run-time test in every
 * tile, AVX2's chunked convs ran 7-10% slower (ResNet-18 KW1/4x at 64x64), and one function
 * testing nx before either copy made AVX-512's layer4 2-5% slower. */
KW_RT_LOCAL inline void kw__asmb_tile_x(int nr, const float *const *ar, int n, const float *eb, float *const *dst,
                                        int pf, KwPfStream *nx)
{
    kw_vf acc[KW_ASMB_R][KW_B_NV];
    int r, v, kk;
    for (r = 0; r < KW_ASMB_R; r++)
        for (v = 0; v < KW_B_NV; v++)
            acc[r][v] = KW_VZERO();
    for (kk = 0; kk < n; kk++) {
        kw_vf ev[KW_B_NV];
        if (pf)
            for (v = 0; v < KW_B_RB / 16; v++)
                __builtin_prefetch(eb + (long)kk * KW_B_RB + KW_PF_AHEAD + v * 16, 0, 3);
        if (nx && nx->lines > 0) {
            __builtin_prefetch(nx->p, 0, 2);
            nx->p += 64;
            nx->lines--;
        }
        for (v = 0; v < KW_B_NV; v++)
            ev[v] = KW_VLOAD(eb + (long)kk * KW_B_RB + v * KW_VL);
        for (r = 0; r < KW_ASMB_R; r++)
            if (r < nr) {
                kw_vf a = KW_VSET1(ar[r][kk]);
                for (v = 0; v < KW_B_NV; v++)
                    acc[r][v] = KW_VFMA(a, ev[v], acc[r][v]);
            }
    }
    for (r = 0; r < nr; r++)
        for (v = 0; v < KW_B_NV; v++)
            KW_VSTORE(dst[r] + v * KW_VL, acc[r][v]);
}

KW_RT_LOCAL void kw__asmb_tile(int nr, const float *const *ar, int n, const float *eb, float *const *dst, int pf)
{
    kw__asmb_tile_x(nr, ar, n, eb, dst, pf, 0);
}

KW_RT_LOCAL void kw__asmb_tile_nx(int nr, const float *const *ar, int n, const float *eb, float *const *dst, int pf,
                                  KwPfStream *nx)
{
    kw__asmb_tile_x(nr, ar, n, eb, dst, pf, nx);
}

/* Variant B assembly: blocks go0 .. go0+ngo-1 of KW_B_RB output channels that read warehouse
 * slice a_hi, channels [c0, c1) of each, block go packed [C/g][taps][KW_B_RB] at
 * wblk + (go - go0) * blk: W[c][t][r] = sum_k A[j][k] E[a_hi][kc][b][k][r], the warehouse laid
 * out [co/KW_B_RB][ck][ci][n][KW_B_RB] (kwcc); j and kc as in kw__kw_assemble_blocks. Per input
 * channel b, the cell rows (go, gi, tap) that share its stream go through one tile together,
 * KW_ASMB_R at a time (the stream is read from memory once and from L1 after). With bw > 0,
 * [c0, c0 + bw) are streams instead, taken for every cell column gi: channel gi*ci + b goes
 * to channel slot gi*bw + b - c0 (kw__kwconv_block_b_chunked), which also passes the next
 * chunk's stream in nx (kw__asmb_tile). */
KW_RT_LOCAL void kw__kw_assemble_blocks_b(const KwKwConvP *k, const float *A, const float *E, int a_hi, int go0,
                                          int ngo, float *wblk, long blk, int c0, int c1, int cb, int bw,
                                          KwPfStream *nx)
{
    int taps = k->conv.taps, ckn = k->whole ? taps : 1, per = k->whole ? 1 : taps, n = k->n;
    int rows = ngo * k->Gi * per, te, b, idx, nr;
    int b0 = bw ? c0 : k->Gi == 1 && c0 > 0 ? c0 : 0, b1 = bw ? c0 + bw : k->Gi == 1 && c1 < k->ci ? c1 : k->ci;
    long cs = (long)n * KW_B_RB, kcs = (long)k->ci * cs; /* one channel's stream, one kc's slice */
    const float *Eb = E + (long)a_hi * ckn * kcs, *ar[KW_ASMB_R];
    float *dst[KW_ASMB_R];
    for (b = b0; b < b1; b++)
        for (te = 0; te < ckn; te++) { /* whole-window cells: one stream per tap */
            const float *eb = Eb + (long)te * kcs + (long)b * cs;
            int first = 1;
            for (idx = 0, nr = 0; idx < rows; idx++) {
                int t = k->whole ? te : idx % taps, rest = k->whole ? idx : idx / taps;
                int gi = rest % k->Gi, go = go0 + rest / k->Gi, cc = gi * k->ci + b;
                if (bw)
                    cc = gi * bw + b - c0 + cb;
                else if (cc < c0 || cc >= c1)
                    continue;
                ar[nr] = A + (long)(k->whole ? go * k->Gi + gi : (t * k->Go + go) * k->Gi + gi) * n;
                dst[nr++] = wblk + (go - go0) * blk + ((long)(cc - cb) * taps + t) * KW_B_RB;
                if (nr == KW_ASMB_R) {
                    if (nx)
                        kw__asmb_tile_nx(nr, ar, n, eb, dst, first, nx);
                    else
                        kw__asmb_tile(nr, ar, n, eb, dst, first);
                    nr = first = 0;
                }
            }
            if (nr && nx)
                kw__asmb_tile_nx(nr, ar, n, eb, dst, first, nx);
            else if (nr)
                kw__asmb_tile(nr, ar, n, eb, dst, first);
        }
}

/* The one block of KW_B_RB output channels from o0 (channels [c0, c1) of it) into wblk. */
KW_RT_LOCAL void kw__kw_assemble_block_b(const KwKwConvP *k, const float *A, const float *E, int o0, float *wblk,
                                         int c0, int c1)
{
    kw__kw_assemble_blocks_b(k, A, E, (o0 % k->co) / KW_B_RB, o0 / k->co, 1, wblk, 0, c0, c1, 0, 0, 0);
}

/* Variant B with the assembly inside the conv's chunk loop, for images of at most KW_B_KWTILES
 * pixel tiles (layers 3 and 4 of ResNet-18 KW1x: 28 tiles at 14x14, 7 at 7x7; the late layers of
 * any KW model at 64x64), the tiles' partial sums in part (scratch): each chunk of warehouse
 * streams of slice a_hi, for every cell column gi (input channels gi*ci + b), is assembled into
 * wc (a chunk, in L1) and at once consumed by every tile, so the warehouse streams through once
 * and the block never exists whole, and the chunk's FMAs overlap the stream of the next. The
 * ngo blocks that read slice a_hi (output channels go*co + a_hi*KW_B_RB of group 0, go < ngo;
 * kwcc asks for all Go of them when their tiles, ngo * ntiles, are still at most KW_B_KWTILES:
 * a stride-2 layer4.0.conv1 of Go = 2 then reads its warehouse once instead of twice) are
 * assembled from each stream together, chunk after chunk. With one cell column (Gi = 1) the
 * sums are the same, in the same order, as assembling the whole block first; with more, the
 * input channels are summed chunk by chunk. */
KW_RT_LOCAL void kw__kwconv_block_b_chunked(const KwKwConvP *k, const KwConvFP *p, const float *A, const float *E,
                                            int a_hi, int go0, int ngo, float *wc, float *part,
                                            const float *planes, const long *shift, const float *scale,
                                            const float *bias, const float *res, float *y)
{
    int P = kw__b_pixels(p), ntw = (p->OW + P - 1) / P, gi, go, b0;
    int bc = p->bcc / k->Gi; /* streams per chunk, for each cell column (kwcc) */
    long ntiles = (long)p->OH * ntw, ti, cs = (long)k->n * KW_B_RB, wgi;
    KwPfStream nx = {0, 0};
    if (bc < 1)
        bc = 1;
    for (b0 = 0; b0 < k->ci; b0 += bc) {
        int b1 = b0 + bc < k->ci ? b0 + bc : k->ci, b2 = b1 + bc < k->ci ? b1 + bc : k->ci;
        long per_c, steps = ngo * ntiles * k->Gi * (b1 - b0);
        wgi = (long)(b1 - b0) * p->taps * KW_B_RB; /* one cell column's weights in wc */
        /* the next chunk's warehouse streams, fetched during this chunk's tiles (per_c lines
         * per channel), when the tiles are at least as much work as the assembly (pixels >=
         * cells n); otherwise a burst of prefetches in a short conv only stalls, and the
         * assembly's own prefetch runs ahead in the streams instead (ResNet-18 KW1/4x at
         * 64x64: 4.5% of the model). When that would take the tiles more than a line per tap
         * (AVX-512's 7 x 7 tiles of 64 channels: ResNet-18 KW1x's layer4 3x3 convs, 864 lines
         * in 504 taps, of 14 cycles each), the assembly before them takes a line per cell
         * first, so that the memory does not idle through it: those convs 7-10% faster (with
         * at most a line per tap in the tiles and the rest in the assembly, 5% slower than
         * this; with all lines in the assembly, 15% slower; with any in AVX2's, whose 14 tiles
         * of 6 pixels need 0.2 lines per tap, 3-7% slower) */
        nx.lines = 0;
        if (!k->whole && b2 > b1 && ntiles * P >= k->n) {
            nx.p = (const char *)(E + (long)a_hi * k->ci * cs + (long)b1 * cs);
            nx.lines = (long)(b2 - b1) * cs * 4 / 64;
        }
        kw__kw_assemble_blocks_b(k, A, E, a_hi, go0, ngo, wc, k->Gi * wgi, b0, b1, 0, b1 - b0,
                                 nx.lines > steps * p->taps ? &nx : 0);
        per_c = (nx.lines + steps - 1) / steps;
        for (go = 0; go < ngo; go++) {
            int o0 = (go0 + go) * k->co + a_hi * KW_B_RB - p->g * p->Og; /* in the group */
            for (ti = 0; ti < ntiles; ti++) {
                int oh = (int)(ti / ntw), ow0 = (int)(ti % ntw) * P;
                int np = p->OW - ow0 < P ? p->OW - ow0 : P;
                float *pt = part + (go * ntiles + ti) * KW_B_P * KW_B_RB;
                for (gi = 0; gi < k->Gi; gi++) {
                    int c0 = gi * k->ci + b0;
                    kw__b_tile_p(p, P, wc + (go * k->Gi + gi) * wgi, c0, planes, shift, oh, ow0, c0, c0 + b1 - b0,
                                 pt, &nx, per_c);
                }
                if (b1 == k->ci)
                    kw__b_epi(p, pt, np, o0, scale, bias, res, y, (long)oh * p->OW + ow0);
            }
        }
    }
}

/* A lifted KernelWarehouse conv: attention A [m][n] is given; per block of 8 output channels
 * assemble the block (kw__kw_assemble_blocks), then convolve with it. scratch: phase planes,
 * Y' for 8 channels, then the kernel block (or blocks; chunked: one chunk of the grp blocks,
 * then the tiles' partial sums). */
KW_RT_FN void kw_kwconv_simd(const KwKwConvP *k, const float *x, const float *A, const float *E,
                             const float *scale, const float *bias, const float *res, float *y, float *scratch)
{
    KwConvFP p = k->conv;
    long shift[64];
    float *planes = scratch, *out = planes + (p.direct ? 0 : (long)p.sh * p.sw * p.Cg * p.plane);
    float *wblk = out + (p.rb == 8 && !p.ystore ? 8L * p.Qpad : 0); /* variant B: two blocks (double buffer) */
    int g, ob, nob = (p.Og + p.rb - 1) / p.rb;
    kw__shifts(&p, shift);
    for (g = 0; g < p.G; g++) {
        const float *pl;
        p.g = g;
        pl = kw__planes(&p, x + (long)g * p.Cg * p.H * p.W, planes);
        if (k->chunked) { /* block ob: slice a_hi = (o0 % co) / rb of cell row go = o0 / co */
            int ngo = k->grp > 1 ? k->grp : 1; /* grp > 1: G == 1, the Go blocks of a slice together */
            float *part = wblk + (long)ngo * p.bcc * p.taps * p.rb; /* after the chunk (kwcc) */
            for (ob = 0; ob < nob / ngo; ob++) {
                int og = g * p.Og + ob * p.rb;
                kw__kwconv_block_b_chunked(k, &p, A, E, (og % k->co) / p.rb, og / k->co, ngo, wblk, part, pl, shift,
                                           scale, bias, res, y);
            }
            continue;
        }
        if (k->grp > 1) { /* G == 1: block ob = go * (co / rb) + a_hi */
            int nah = k->co / p.rb, ah, j;
            long blk = (long)p.taps * p.Cg * p.rb;
            for (ah = 0; ah < nah; ah++) {
                if (p.rb == 8)
                    kw__kw_assemble_blocks(k, A, E, ah, 0, k->grp, wblk, blk);
                else
                    kw__kw_assemble_blocks_b(k, A, E, ah, 0, k->grp, wblk, blk, 0, p.Cg, 0, 0, 0);
                for (j = 0; j < k->grp; j++)
                    if (p.rb == 8)
                        kw__conv_block(&p, wblk + j * blk, pl, shift, out, (j * nah + ah) * 8, scale, bias, res, y);
                    else
                        kw__conv_block_b(&p, wblk + j * blk, pl, shift, (j * nah + ah) * p.rb, scale, bias, res, y);
            }
            continue;
        }
        for (ob = 0; ob < nob; ob++) {
            if (p.rb == 8) {
                int o0 = g * p.Og + ob * 8;
                kw__kw_assemble_blocks(k, A, E, (o0 % k->co) / 8, o0 / k->co, 1, wblk, 0);
                kw__conv_block(&p, wblk, pl, shift, out, ob * 8, scale, bias, res, y);
            } else {
                /* double-buffered: while block ob convolves row by row, block ob + 1 is
                 * assembled a slice of channels per row, its warehouse stream prefetched
                 * during the row before */
                int nb = ob + 1 < nob ? ob + 1 : -1, oh;
                long blk = (long)p.taps * p.Cg * p.rb;
                float *cur = wblk + (ob & 1) * blk, *nxt = wblk + ((ob + 1) & 1) * blk;
                long cs = (long)k->n * KW_B_RB;
                if (blk * 4 > KW_L2_BLOCK) { /* two blocks would not stay in L2: one at a time */
                    kw__kw_assemble_block_b(k, A, E, g * p.Og + ob * p.rb, wblk, 0, p.Cg);
                    kw__conv_block_b(&p, wblk, pl, shift, ob * p.rb, scale, bias, res, y);
                    continue;
                }
                if (ob == 0)
                    kw__kw_assemble_block_b(k, A, E, g * p.Og, cur, 0, p.Cg);
                for (oh = 0; oh < p.OH; oh++) {
                    int c0 = (int)((long)p.Cg * oh / p.OH), c1 = (int)((long)p.Cg * (oh + 1) / p.OH);
                    const char *pf = 0;
                    long lines = 0;
                    if (nb >= 0 && !k->whole) {
                        int o1 = g * p.Og + nb * p.rb, b0 = c0 % k->ci, cnt = c1 - c0;
                        if (cnt > k->ci - b0)
                            cnt = k->ci - b0;
                        pf = (const char *)(E + (long)((o1 % k->co) / KW_B_RB) * k->ci * cs + (long)b0 * cs);
                        lines = (long)cnt * cs * 4 / 64;
                    }
                    kw__conv_rows_b(&p, cur, pl, shift, ob * p.rb, scale, bias, res, y, oh, oh + 1, pf, lines, 0);
                    if (nb >= 0)
                        kw__kw_assemble_block_b(k, A, E, g * p.Og + nb * p.rb, nxt, c0, c1);
                }
            }
        }
    }
}

/*@@ kw_maxpool_simd */
/* 2-D max pooling. On x86 with stride 1 or 2 (kwcc sets direct) straight from x; otherwise
 * through the same phase planes as the convs, padding read as -FLT_MAX (padval). */
KW_RT_FN void kw_maxpool_simd(const KwConvFP *pp, const float *x, float *y, float *scratch)
{
    KwConvFP p = *pp;
    long shift[64], q;
    int c, t, v, oh, ow;
    float *planes = scratch, *out;
    p.Cg = 1;
#if defined(KW_DW_X)
    if (p.direct) {
        for (c = 0; c < p.C * p.N; c++)
            kw__channel_x(&p, 1, x + (long)c * p.H * p.W, 0, KW_VZERO(), KW_VZERO(), 0, y + (long)c * p.OH * p.OW);
        return;
    }
#endif
    out = scratch + (long)p.sh * p.sw * p.plane; /* not before: scratch is NULL on the path above */
    kw__shifts(&p, shift);
    for (c = 0; c < p.C * p.N; c++) {
        kw__phase_fill(&p, x + (long)c * p.H * p.W, planes);
        for (q = 0; q < p.Qpad; q += KW_TILE) {
            kw_vf acc[KW_NV];
            for (v = 0; v < KW_NV; v++)
                acc[v] = KW_VLOAD(planes + shift[0] + q + v * KW_VL);
            for (t = 1; t < p.taps; t++)
                for (v = 0; v < KW_NV; v++)
                    acc[v] = KW_VMAX(acc[v], KW_VLOAD(planes + shift[t] + q + v * KW_VL));
            for (v = 0; v < KW_NV; v++)
                KW_VSTORE(out + q + v * KW_VL, acc[v]);
        }
        for (oh = 0; oh < p.OH; oh++)
            for (ow = 0; ow < p.OW; ow++)
                y[((long)c * p.OH + oh) * p.OW + ow] = out[(long)oh * p.Wq + ow];
    }
}
