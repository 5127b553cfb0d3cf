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
 * Weights are packed per group as [O/8][tap][C/g][8] (O padded to a multiple of 8 with zero
 * rows): the micro-kernel computes 8 output channels x KW_NV vectors of pixels.
 *
 * KernelWarehouse: kw_kwconv assembles one block of 8 output channels of the kernel at a
 * time, straight into that packed layout, then convolves with it: only 8 x taps x C/g
 * floats of the kernel are ever live, and the warehouse is laid out (by kwcc) as
 * [n][cell_out/8][cell_k][cell_in][8] so that each block is a few contiguous runs of every
 * cell it needs. */
/*@@ simd_common */
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
#else
#error "kw_rt_simd.c needs KW_SIMD_AVX512, KW_SIMD_AVX2 or KW_SIMD_NEON"
#endif
#define KW_TILE (KW_VL * KW_NV) /* pixels per micro-tile */

/* Fills the phase planes of one group: Cg channels of x (H x W), padded with padval by
 * pad_t/pad_l, split by stride. planes: [sh*sw][Cg][plane]; the plane grid is Hq x Wq, the
 * rest of each plane (up to `plane` floats) is padding too. */
KW_RT_LOCAL void kw__phase_fill(const KwConvFP *p, const float *x, float *planes)
{
    int c, py, px, i, j;
    long plane = p->plane;
    for (py = 0; py < p->sh; py++)
        for (px = 0; px < p->sw; px++) {
            float *pl0 = planes + (long)(py * p->sw + px) * p->Cg * plane;
            for (c = 0; c < p->Cg; c++) {
                float *pl = pl0 + (long)c * plane;
                const float *xc = x + (long)c * p->H * p->W;
                for (i = 0; i < p->Hq; i++) {
                    int iy = i * p->sh + py - p->pad_t;
                    float *row = pl + (long)i * p->Wq;
                    if (iy < 0 || iy >= p->H) {
                        for (j = 0; j < p->Wq; j++)
                            row[j] = p->padval;
                        continue;
                    }
                    if (p->sw == 1) {
                        /* contiguous: zeros, a copy, zeros */
                        int lo = p->pad_l, n = p->W;
                        if (lo > p->Wq)
                            lo = p->Wq;
                        if (n > p->Wq - lo)
                            n = p->Wq - lo;
                        for (j = 0; j < lo; j++)
                            row[j] = p->padval;
                        memcpy(row + lo, xc + (long)iy * p->W, sizeof(float) * (size_t)n);
                        for (j = lo + n; j < p->Wq; j++)
                            row[j] = p->padval;
                    } else
                        for (j = 0; j < p->Wq; j++) {
                            int ix = j * p->sw + px - p->pad_l;
                            row[j] = ix >= 0 && ix < p->W ? xc[(long)iy * p->W + ix] : p->padval;
                        }
                }
                for (i = p->Hq * p->Wq; i < plane; i++)
                    pl[i] = p->padval;
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

/* One micro-tile: KW_ROWS output channels (w: [taps][Cg][8], rows r0..r0+KW_ROWS-1 of 8)
 * x KW_TILE pixels starting at q; accumulates into out ([8][Qpad]) rows r0... */
KW_RT_LOCAL void kw__conv_tile(const KwConvFP *p, const float *w, int r0, const float *planes,
                               const long *shift, long q, float *out)
{
    kw_vf acc[KW_ROWS][KW_NV];
    int r, v, t, c;
    for (r = 0; r < KW_ROWS; r++)
        for (v = 0; v < KW_NV; v++)
            acc[r][v] = KW_VZERO();
    for (t = 0; t < p->taps; t++) {
        const float *xs = planes + shift[t] + q;
        const float *ws = w + (long)t * p->Cg * 8 + r0;
        for (c = 0; c < p->Cg; c++) {
            kw_vf xv[KW_NV];
            for (v = 0; v < KW_NV; v++)
                xv[v] = KW_VLOAD(xs + v * KW_VL);
            for (r = 0; r < KW_ROWS; r++) {
                kw_vf b = KW_VSET1(ws[r]);
                for (v = 0; v < KW_NV; v++)
                    acc[r][v] = KW_VFMA(b, xv[v], acc[r][v]);
            }
            xs += p->plane;
            ws += 8;
        }
    }
    for (r = 0; r < KW_ROWS; r++)
        for (v = 0; v < KW_NV; v++)
            KW_VSTORE(out + (long)(r0 + r) * p->Qpad + q + v * KW_VL, acc[r][v]);
}

/* Y' rows of one block of 8 output channels -> y, with the epilogue. */
KW_RT_LOCAL void kw__conv_epilogue(const KwConvFP *p, const float *out, int o0, const float *scale,
                                   const float *bias, const float *res, float *y)
{
    int r, oh, ow;
    for (r = 0; r < 8 && o0 + r < p->Og; r++) {
        int o = p->g * p->Og + o0 + r;
        float s = scale ? scale[o] : 1.0f, b = bias ? bias[o] : 0.0f;
        const float *src = out + (long)r * p->Qpad;
        float *yo = y + (long)o * p->OH * p->OW;
        const float *ro = res ? res + (long)o * p->OH * p->OW : 0;
        for (oh = 0; oh < p->OH; oh++) {
            const float *sr = src + (long)oh * p->Wq;
            float *yr = yo + (long)oh * p->OW;
            const float *rr = ro ? ro + (long)oh * p->OW : 0;
            for (ow = 0; ow < p->OW; ow++) {
                float v = sr[ow] * s + b;
                if (rr)
                    v += rr[ow];
                if (p->act == KW_ACT_RELU)
                    v = v > 0.0f ? v : 0.0f;
                else if (p->act == KW_ACT_CLIP)
                    v = v < p->lo ? p->lo : (v > p->hi ? p->hi : v);
                yr[ow] = v;
            }
        }
    }
}

/* One block of 8 output channels of one group over the whole image. */
KW_RT_LOCAL void kw__conv_block(const KwConvFP *p, const float *wblk, const float *planes, const long *shift,
                                float *out)
{
    long q;
    int r0;
    for (q = 0; q < p->Qpad; q += KW_TILE)
        for (r0 = 0; r0 < 8; r0 += KW_ROWS)
            kw__conv_tile(p, wblk, r0, planes, shift, q, out);
}

/*@@ kw_conv_simd */
/* Conv with packed constant weights w: [G][O/g/8][taps][C/g][8]. scratch: kw_conv_simd_scratch
 * floats (phase planes, then Y' for 8 channels). Batch N (images one after another). */
KW_RT_FN void kw_conv_simd(const KwConvFP *pp, const float *x, const float *w, const float *scale,
                           const float *bias, const float *res, float *y, float *scratch)
{
    KwConvFP p = *pp;
    long shift[64];
    float *planes = scratch, *out = scratch + (long)p.sh * p.sw * p.Cg * p.plane;
    int nb, g, ob, nob = (p.Og + 7) / 8;
    long wg = (long)nob * p.taps * p.Cg * 8;
    kw__shifts(&p, shift);
    for (nb = 0; nb < p.N; nb++)
        for (g = 0; g < p.G; g++) {
            p.g = g;
            kw__phase_fill(&p, x + ((long)nb * p.C + (long)g * p.Cg) * p.H * p.W, planes);
            for (ob = 0; ob < nob; ob++) {
                kw__conv_block(&p, w + g * wg + (long)ob * p.taps * p.Cg * 8, planes, shift, out);
                kw__conv_epilogue(&p, out, ob * 8, scale, bias,
                                  res ? res + (long)nb * p.O * p.OH * p.OW : 0, y + (long)nb * p.O * p.OH * p.OW);
            }
        }
}

/*@@ kw_dwconv_simd */
/* Depthwise conv (C/g = O/g = 1) with weights [C][taps]: per channel, taps x pixel vectors. */
KW_RT_FN void kw_dwconv_simd(const KwConvFP *pp, const float *x, const float *w, const float *scale,
                             const float *bias, const float *res, float *y, float *scratch)
{
    KwConvFP p = *pp;
    long shift[64], q;
    float *planes = scratch, *out = scratch + (long)p.sh * p.sw * p.plane;
    int nb, c, t, v;
    p.Cg = 1;
    kw__shifts(&p, shift);
    for (nb = 0; nb < p.N; nb++)
        for (c = 0; c < p.C; c++) {
            p.g = c;
            kw__phase_fill(&p, x + ((long)nb * p.C + c) * p.H * p.W, planes);
            for (q = 0; q < p.Qpad; q += KW_TILE) {
                kw_vf acc[KW_NV];
                for (v = 0; v < KW_NV; v++)
                    acc[v] = KW_VZERO();
                for (t = 0; t < p.taps; t++) {
                    kw_vf b = KW_VSET1(w[(long)c * p.taps + t]);
                    const float *xs = planes + shift[t] + q;
                    for (v = 0; v < KW_NV; v++)
                        acc[v] = KW_VFMA(b, KW_VLOAD(xs + v * KW_VL), acc[v]);
                }
                for (v = 0; v < KW_NV; v++)
                    KW_VSTORE(out + q + v * KW_VL, acc[v]);
            }
            kw__conv_epilogue(&p, out, 0, scale, bias, res ? res + (long)nb * p.O * p.OH * p.OW : 0,
                              y + (long)nb * p.O * p.OH * p.OW);
        }
}

/*@@ kw_kwconv_simd */
/* Assembly rows: out_r[0..len) = sum_c A[arow_r*n + c] * E[c*S + eoff_r + 0..len), for up to
 * three rows at once (they share nothing but the loop), len a multiple of KW_VL. */
KW_RT_LOCAL void kw__asm_rows(int nr, const float *A, int n, const float *E, long S, const int *arow,
                              const long *eoff, float *const *out, int len)
{
    int i, c, r, v;
    for (i = 0; i + 4 * KW_VL <= len; i += 4 * KW_VL) {
        kw_vf acc[3][4];
        for (r = 0; r < 3; r++)
            for (v = 0; v < 4; v++)
                acc[r][v] = KW_VZERO();
        for (c = 0; c < n; c++) {
            const float *ec = E + (long)c * S + i;
            for (r = 0; r < 3; r++) {
                if (r < nr) {
                    kw_vf a = KW_VSET1(A[(long)arow[r] * n + c]);
                    for (v = 0; v < 4; v++)
                        acc[r][v] = KW_VFMA(a, KW_VLOAD(ec + eoff[r] + v * KW_VL), acc[r][v]);
                }
            }
        }
        for (r = 0; r < nr; r++)
            for (v = 0; v < 4; v++)
                KW_VSTORE(out[r] + i + v * KW_VL, acc[r][v]);
    }
    for (; i + KW_VL <= len; i += KW_VL) {
        kw_vf acc[3];
        for (r = 0; r < 3; r++)
            acc[r] = KW_VZERO();
        for (c = 0; c < n; c++)
            for (r = 0; r < nr; r++)
                acc[r] = KW_VFMA(KW_VSET1(A[(long)arow[r] * n + c]), KW_VLOAD(E + (long)c * S + eoff[r] + i), acc[r]);
        for (r = 0; r < nr; r++)
            KW_VSTORE(out[r] + i, acc[r]);
    }
    for (; i < len; i++)
        for (r = 0; r < nr; r++) {
            float acc = 0.0f;
            for (c = 0; c < n; c++)
                acc += A[(long)arow[r] * n + c] * E[(long)c * S + eoff[r] + i];
            out[r][i] = acc;
        }
}

/* One 8-channel block of a KernelWarehouse kernel, packed [taps][C/g][8]:
 * W[t][c][r] = sum_n A[j][n] E[n][a_hi][kc][b][r] with o = o0 + r, a_hi = (o % co) / 8,
 * go = o / co, gi = c / ci, b = c % ci, and (spatial partition) j = (t*Go + go)*Gi + gi,
 * kc = 0, or (whole-window cells) j = go*Gi + gi, kc = t. */
KW_RT_LOCAL void kw__kw_assemble_block(const KwKwConvP *k, const float *A, const float *E, int o0, float *wblk)
{
    int go = o0 / k->co, a_hi = (o0 % k->co) / 8, gi, t, nr = 0;
    int arow[3];
    long eoff[3];
    float *out[3];
    int ckn = k->whole ? k->conv.taps : 1;
    for (gi = 0; gi < k->Gi; gi++)
        for (t = 0; t < k->conv.taps; t++) {
            arow[nr] = k->whole ? go * k->Gi + gi : (t * k->Go + go) * k->Gi + gi;
            eoff[nr] = (((long)a_hi * ckn + (k->whole ? t : 0)) * k->ci) * 8;
            out[nr] = wblk + ((long)t * k->conv.Cg + (long)gi * k->ci) * 8;
            if (++nr == 3 || (gi == k->Gi - 1 && t == k->conv.taps - 1)) {
                kw__asm_rows(nr, A, k->n, E, k->S, arow, eoff, out, k->ci * 8);
                nr = 0;
            }
        }
}

/* A lifted KernelWarehouse conv: attention A [m][n] is given; per block of 8 output channels
 * assemble the block (kw__kw_assemble_block), then convolve with it. scratch: phase planes,
 * Y' for 8 channels, then the kernel block. */
KW_RT_FN void kw_kwconv_simd(const KwKwConvP *k, const float *x, const float *A, const float *E,
                             const float *scale, const float *bias, const float *res, float *y, float *scratch)
{
    KwConvFP p = k->conv;
    long shift[64];
    float *planes = scratch, *out = planes + (long)p.sh * p.sw * p.Cg * p.plane;
    float *wblk = out + 8L * p.Qpad;
    int g, ob, nob = (p.Og + 7) / 8;
    kw__shifts(&p, shift);
    for (g = 0; g < p.G; g++) {
        p.g = g;
        kw__phase_fill(&p, x + (long)g * p.Cg * p.H * p.W, planes);
        for (ob = 0; ob < nob; ob++) {
            int o0 = g * p.Og + ob * 8;
            kw__kw_assemble_block(k, A, E, o0, wblk);
            kw__conv_block(&p, wblk, planes, shift, out);
            kw__conv_epilogue(&p, out, ob * 8, scale, bias, res, y);
        }
    }
}

/*@@ kw_maxpool_simd */
/* 2-D max pooling through the same phase planes, padding read as -FLT_MAX (padval). */
KW_RT_FN void kw_maxpool_simd(const KwConvFP *pp, const float *x, float *y, float *scratch)
{
    KwConvFP p = *pp;
    long shift[64], q;
    int c, t, v, oh, ow;
    float *planes = scratch, *out = scratch + (long)p.sh * p.sw * p.plane;
    p.Cg = 1;
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
