/* kw_rt_ref.c -- portable C99 kernels: the numeric reference of every other code path.
 *
 * Simple loops written so that a C compiler can vectorise the innermost one, nothing more.
 * See kw_rt.h for what each kernel computes.
 *
 * kwcc pastes the sections of this file that a model uses into its generated C: a comment
 * line "@@ name" opens a section, and "common" always goes in. Calls into libm sit inside
 * #ifndef KW_RT_NO_LIBM, which kwcc defines for models that need none (firmware links
 * without libm then); nothing else needs more than the freestanding-friendly headers. */
/*@@ common */
#include <string.h>
#include "kw_rt.h"
#ifndef KW_RT_GENERATED
#include <math.h>
#endif

KW_RT_LOCAL float kw__act(float v, int act, float lo, float hi)
{
    if (act == KW_ACT_RELU)
        return v > 0.0f ? v : 0.0f;
    if (act == KW_ACT_CLIP)
        return v < lo ? lo : (v > hi ? hi : v);
    return v;
}

/*@@ kw_unary */
KW_RT_FN void kw_unary(const KwUnaryP *p, const float *x, float *y)
{
    int i, n = p->n;
    float a = p->a, b = p->b;
    switch (p->op) {
    case KW_UN_COPY: for (i = 0; i < n; i++) y[i] = x[i]; break;
    case KW_UN_RELU: for (i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f; break;
    case KW_UN_CLIP:
        for (i = 0; i < n; i++) y[i] = x[i] < a ? a : (x[i] > b ? b : x[i]);
        break;
    case KW_UN_MAXC: for (i = 0; i < n; i++) y[i] = x[i] < a ? a : x[i]; break;
    case KW_UN_MINC: for (i = 0; i < n; i++) y[i] = x[i] > b ? b : x[i]; break;
    case KW_UN_ABS: for (i = 0; i < n; i++) y[i] = x[i] < 0.0f ? -x[i] : x[i]; break;
    case KW_UN_NEG: for (i = 0; i < n; i++) y[i] = -x[i]; break;
    case KW_UN_RECIP: for (i = 0; i < n; i++) y[i] = 1.0f / x[i]; break;
    case KW_UN_LEAKY: for (i = 0; i < n; i++) y[i] = x[i] < 0.0f ? a * x[i] : x[i]; break;
    case KW_UN_HSIGMOID:
        for (i = 0; i < n; i++) {
            float v = a * x[i] + b;
            y[i] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
        }
        break;
    case KW_UN_HSWISH:
        for (i = 0; i < n; i++) {
            float v = x[i] / 6.0f + 0.5f;
            y[i] = x[i] * (v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v));
        }
        break;
    case KW_UN_POWC:
        if (a == 2.0f) {
            for (i = 0; i < n; i++) y[i] = x[i] * x[i];
            break;
        }
#ifndef KW_RT_NO_LIBM
        for (i = 0; i < n; i++) y[i] = powf(x[i], a);
        break;
    case KW_UN_SQRT: for (i = 0; i < n; i++) y[i] = sqrtf(x[i]); break;
    case KW_UN_ERF: for (i = 0; i < n; i++) y[i] = erff(x[i]); break;
    case KW_UN_SIGMOID: for (i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i])); break;
    case KW_UN_EXP: for (i = 0; i < n; i++) y[i] = expf(x[i]); break;
    case KW_UN_LOG: for (i = 0; i < n; i++) y[i] = logf(x[i]); break;
    case KW_UN_TANH: for (i = 0; i < n; i++) y[i] = tanhf(x[i]); break;
    case KW_UN_FLOOR: for (i = 0; i < n; i++) y[i] = floorf(x[i]); break;
    case KW_UN_CEIL: for (i = 0; i < n; i++) y[i] = ceilf(x[i]); break;
    case KW_UN_TRUNC: for (i = 0; i < n; i++) y[i] = truncf(x[i]); break;
    case KW_UN_GELU:
        for (i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
        break;
#endif
    default: break;
    }
}

/*@@ kw_binary */
KW_RT_LOCAL float kw__bin(int op, float a, float b)
{
    switch (op) {
    case KW_BIN_ADD: return a + b;
    case KW_BIN_SUB: return a - b;
    case KW_BIN_MUL: return a * b;
    case KW_BIN_DIV: return a / b;
#ifndef KW_RT_NO_LIBM
    case KW_BIN_POW: return powf(a, b);
#endif
    case KW_BIN_MAX: return a > b ? a : (a != a ? a : b);
    case KW_BIN_MIN: return a < b ? a : (a != a ? a : b);
    default: return 0.0f;
    }
}

/* The innermost dim of a binary op, with the common stride patterns as separate loops so
 * the compiler vectorises them; the op switch is outside the loop. */
KW_RT_LOCAL void kw__bin_row(int op, int n, const float *a, int sa, const float *b, int sb, float *y)
{
    int i;
#define KW__ROW(EXPR)                                                   \
    if (sa == 1 && sb == 1)                                             \
        for (i = 0; i < n; i++) { float u = a[i], v = b[i]; y[i] = EXPR; } \
    else if (sa == 1 && sb == 0)                                        \
        for (i = 0; i < n; i++) { float u = a[i], v = b[0]; y[i] = EXPR; } \
    else if (sa == 0 && sb == 1)                                        \
        for (i = 0; i < n; i++) { float u = a[0], v = b[i]; y[i] = EXPR; } \
    else                                                                \
        for (i = 0; i < n; i++) { float u = a[i * sa], v = b[i * sb]; y[i] = EXPR; }
    switch (op) {
    case KW_BIN_ADD: KW__ROW(u + v) break;
    case KW_BIN_SUB: KW__ROW(u - v) break;
    case KW_BIN_MUL: KW__ROW(u * v) break;
    case KW_BIN_DIV: KW__ROW(u / v) break;
    default: KW__ROW(kw__bin(op, u, v)) break;
    }
#undef KW__ROW
}

KW_RT_FN void kw_binary(const KwBinaryP *p, const float *a, const float *b, float *y)
{
    int idx[KW_RT_MAXR] = {0};
    int r = p->rank, last = r - 1, n = p->dim[last], k;
    long oa = 0, ob = 0;
    for (;;) {
        kw__bin_row(p->op, n, a + oa, p->sa[last], b + ob, p->sb[last], y);
        y += n;
        for (k = last - 1; k >= 0; k--) {
            oa += p->sa[k];
            ob += p->sb[k];
            if (++idx[k] < p->dim[k])
                break;
            oa -= (long)p->sa[k] * p->dim[k];
            ob -= (long)p->sb[k] * p->dim[k];
            idx[k] = 0;
        }
        if (k < 0)
            return;
    }
}

/*@@ kw_affine */
KW_RT_FN void kw_affine(const KwAffineP *p, const float *x, const float *scale,
                        const float *shift, float *y)
{
    int o, c, i;
    for (o = 0; o < p->outer; o++)
        for (c = 0; c < p->C; c++) {
            float s = scale[c], t = shift[c];
            const float *xr = x + ((long)o * p->C + c) * p->inner;
            float *yr = y + ((long)o * p->C + c) * p->inner;
            for (i = 0; i < p->inner; i++)
                yr[i] = kw__act(xr[i] * s + t, p->act, p->lo, p->hi);
        }
}

/*@@ kw_conv */
/* First and one-past-last output index o in [0, nout) whose input position
 * o*stride - pad + koff lies in [0, nin). */
KW_RT_LOCAL void kw__valid(int nout, int nin, int stride, int pad, int koff, int *lo, int *hi)
{
    int off = koff - pad, a = 0, b;
    if (off < 0)
        a = (-off + stride - 1) / stride;
    if (nin - off <= 0)
        b = 0;
    else
        b = (nin - off - 1) / stride + 1;
    if (b > nout)
        b = nout;
    *lo = a;
    *hi = b > a ? b : a;
}

KW_RT_FN void kw_conv(const KwConvP *p, const float *x, const float *w, const float *scale,
                      const float *bias, const float *res, float *y)
{
    int Cg = p->C / p->G, Og = p->O / p->G;
    long in_plane = (long)p->in[0] * p->in[1] * p->in[2];
    long out_plane = (long)p->out[0] * p->out[1] * p->out[2];
    int nb, o, ci, k0, k1, k2, o0, o1, o2;
    for (nb = 0; nb < p->N; nb++) {
        for (o = 0; o < p->O; o++) {
            int g = o / Og;
            float *yo = y + ((long)nb * p->O + o) * out_plane;
            const float *ro = res ? res + ((long)nb * p->O + o) * out_plane : 0;
            float s = scale ? scale[o] : 1.0f, bb = bias ? bias[o] : 0.0f;
            long q;
            for (q = 0; q < out_plane; q++)
                yo[q] = 0.0f;
            for (ci = 0; ci < Cg; ci++) {
                const float *xc = x + ((long)nb * p->C + (long)g * Cg + ci) * in_plane;
                for (k0 = 0; k0 < p->k[0]; k0++) {
                    int lo0, hi0;
                    kw__valid(p->out[0], p->in[0], p->stride[0], p->pad[0], k0 * p->dil[0], &lo0, &hi0);
                    for (k1 = 0; k1 < p->k[1]; k1++) {
                        int lo1, hi1;
                        kw__valid(p->out[1], p->in[1], p->stride[1], p->pad[1], k1 * p->dil[1], &lo1, &hi1);
                        for (k2 = 0; k2 < p->k[2]; k2++) {
                            int lo2, hi2, st = p->stride[2];
                            float wv = w[(long)o * p->wso + (long)ci * p->wsi + (long)k0 * p->wsk[0] +
                                         (long)k1 * p->wsk[1] + (long)k2 * p->wsk[2]];
                            kw__valid(p->out[2], p->in[2], st, p->pad[2], k2 * p->dil[2], &lo2, &hi2);
                            for (o0 = lo0; o0 < hi0; o0++) {
                                int i0 = o0 * p->stride[0] - p->pad[0] + k0 * p->dil[0];
                                for (o1 = lo1; o1 < hi1; o1++) {
                                    int i1 = o1 * p->stride[1] - p->pad[1] + k1 * p->dil[1];
                                    const float *xr = xc + ((long)i0 * p->in[1] + i1) * p->in[2] +
                                                      (k2 * p->dil[2] - p->pad[2]);
                                    float *yr = yo + ((long)o0 * p->out[1] + o1) * p->out[2];
                                    if (st == 1)
                                        for (o2 = lo2; o2 < hi2; o2++) yr[o2] += wv * xr[o2];
                                    else
                                        for (o2 = lo2; o2 < hi2; o2++) yr[o2] += wv * xr[o2 * st];
                                }
                            }
                        }
                    }
                }
            }
            for (q = 0; q < out_plane; q++) {
                float v = yo[q] * s + bb;
                if (ro)
                    v += ro[q];
                yo[q] = kw__act(v, p->act, p->lo, p->hi);
            }
        }
    }
}

/*@@ kw_gemm */
KW_RT_FN void kw_gemm(const KwGemmP *p, const float *a, const float *b, const float *c, float *y)
{
    int bi[4] = {0, 0, 0, 0};
    long ao = 0, bo = 0, yo = 0;
    int i, j, k, d;
    for (;;) {
        if (p->a_cs == 1 && p->b_rs == 1 && p->b_cs != 1) {
            /* B transposed in memory (a Linear layer's weight): dot products along K */
            for (i = 0; i < p->M; i++) {
                const float *ar = a + ao + (long)i * p->a_rs;
                float *yr = y + yo + (long)i * p->N;
                for (j = 0; j < p->N; j++) {
                    const float *bc = b + bo + (long)j * p->b_cs;
                    float acc = 0.0f, v;
                    for (k = 0; k < p->K; k++)
                        acc += ar[k] * bc[k];
                    v = p->alpha * acc;
                    if (c)
                        v += p->beta * c[(long)i * p->c_rs + (long)j * p->c_cs];
                    yr[j] = kw__act(v, p->act, p->lo, p->hi);
                }
            }
        } else
        for (i = 0; i < p->M; i++) {
            float *yr = y + yo + (long)i * p->N;
            for (j = 0; j < p->N; j++)
                yr[j] = 0.0f;
            for (k = 0; k < p->K; k++) {
                float av = a[ao + (long)i * p->a_rs + (long)k * p->a_cs];
                const float *br = b + bo + (long)k * p->b_rs;
                if (p->b_cs == 1)
                    for (j = 0; j < p->N; j++) yr[j] += av * br[j];
                else
                    for (j = 0; j < p->N; j++) yr[j] += av * br[(long)j * p->b_cs];
            }
            for (j = 0; j < p->N; j++) {
                float v = p->alpha * yr[j];
                if (c)
                    v += p->beta * c[(long)i * p->c_rs + (long)j * p->c_cs];
                yr[j] = kw__act(v, p->act, p->lo, p->hi);
            }
        }
        for (d = p->nb - 1; d >= 0; d--) {
            ao += p->a_bs[d];
            bo += p->b_bs[d];
            yo += p->y_bs[d];
            if (++bi[d] < p->bdim[d])
                break;
            ao -= (long)p->a_bs[d] * p->bdim[d];
            bo -= (long)p->b_bs[d] * p->bdim[d];
            yo -= (long)p->y_bs[d] * p->bdim[d];
            bi[d] = 0;
        }
        if (d < 0)
            return;
    }
}

/*@@ kw_pool */
KW_RT_FN void kw_pool(const KwPoolP *p, const float *x, float *y)
{
    long in_plane = (long)p->in[0] * p->in[1] * p->in[2];
    int nc, o0, o1, o2, k0, k1, k2;
    for (nc = 0; nc < p->NC; nc++) {
        const float *xc = x + nc * in_plane;
        for (o0 = 0; o0 < p->out[0]; o0++)
            for (o1 = 0; o1 < p->out[1]; o1++)
                for (o2 = 0; o2 < p->out[2]; o2++) {
                    int s0 = o0 * p->stride[0] - p->pad_b[0];
                    int s1 = o1 * p->stride[1] - p->pad_b[1];
                    int s2 = o2 * p->stride[2] - p->pad_b[2];
                    float acc = 0.0f;
                    int cnt = 0, cntp = 0;
                    for (k0 = 0; k0 < p->k[0]; k0++) {
                        int i0 = s0 + k0 * p->dil[0];
                        if (i0 < -p->pad_b[0] || i0 >= p->in[0] + p->pad_e[0])
                            continue;
                        for (k1 = 0; k1 < p->k[1]; k1++) {
                            int i1 = s1 + k1 * p->dil[1];
                            if (i1 < -p->pad_b[1] || i1 >= p->in[1] + p->pad_e[1])
                                continue;
                            for (k2 = 0; k2 < p->k[2]; k2++) {
                                int i2 = s2 + k2 * p->dil[2];
                                float v;
                                if (i2 < -p->pad_b[2] || i2 >= p->in[2] + p->pad_e[2])
                                    continue;
                                cntp++;
                                if (i0 < 0 || i0 >= p->in[0] || i1 < 0 || i1 >= p->in[1] || i2 < 0 ||
                                    i2 >= p->in[2])
                                    continue;
                                cnt++;
                                v = xc[((long)i0 * p->in[1] + i1) * p->in[2] + i2];
                                if (p->kind == KW_POOL_MAX)
                                    acc = (cnt == 1 || v > acc || v != v) ? v : acc;
                                else
                                    acc += v;
                            }
                        }
                    }
                    if (p->kind == KW_POOL_AVG) {
                        int div = p->count_include_pad ? cntp : cnt;
                        acc = div > 0 ? acc / (float)div : 0.0f;
                    }
                    *y++ = acc;
                }
    }
}

/*@@ kw_reduce */
KW_RT_FN void kw_reduce(const KwReduceP *p, const float *x, float *y)
{
    int oi[KW_RT_MAXR] = {0}, ri[KW_RT_MAXR];
    long ooff = 0, count = 1;
    int k;
    for (k = 0; k < p->rrank; k++)
        count *= p->rdim[k];
    for (;;) {
        long roff = 0;
        float acc;
        int first = 1;
        switch (p->op) {
        case KW_RED_PROD: acc = 1.0f; break;
        default: acc = 0.0f; break;
        }
        for (k = 0; k < p->rrank; k++)
            ri[k] = 0;
        if (count > 0)
            for (;;) {
                float v = x[ooff + roff];
                switch (p->op) {
                case KW_RED_PROD: acc *= v; break;
                case KW_RED_MAX: acc = (first || v > acc || v != v) ? v : acc; break;
                case KW_RED_MIN: acc = (first || v < acc || v != v) ? v : acc; break;
                case KW_RED_SUMSQ: acc += v * v; break;
                case KW_RED_L1: acc += v < 0.0f ? -v : v; break;
                default: acc += v; break;
                }
                first = 0;
                for (k = p->rrank - 1; k >= 0; k--) {
                    roff += p->rs[k];
                    if (++ri[k] < p->rdim[k])
                        break;
                    roff -= (long)p->rs[k] * p->rdim[k];
                    ri[k] = 0;
                }
                if (k < 0)
                    break;
            }
        if (p->op == KW_RED_MEAN)
            acc = acc / (float)count;
        *y++ = acc;
        for (k = p->orank - 1; k >= 0; k--) {
            ooff += p->os[k];
            if (++oi[k] < p->odim[k])
                break;
            ooff -= (long)p->os[k] * p->odim[k];
            oi[k] = 0;
        }
        if (k < 0)
            return;
    }
}

/*@@ kw_copy */
KW_RT_FN void kw_copy(const KwCopyP *p, const void *src, void *dst)
{
    int idx[KW_RT_MAXR] = {0};
    int r = p->rank, last = r - 1, n = p->dim[last], es = p->esize, k, i;
    int ss = p->ss[last], ds = p->ds[last];
    long so = p->soff, dof = p->doff;
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *d = (unsigned char *)dst;
    for (;;) {
        if (ss == 1 && ds == 1)
            memcpy(d + dof * es, s + so * es, (size_t)n * es);
        else if (es == 4) {
            const float *sf = (const float *)src + so;
            float *df = (float *)dst + dof;
            for (i = 0; i < n; i++)
                df[(long)i * ds] = sf[(long)i * ss];
        } else
            for (i = 0; i < n; i++)
                memcpy(d + (dof + (long)i * ds) * es, s + (so + (long)i * ss) * es, (size_t)es);
        for (k = last - 1; k >= 0; k--) {
            so += p->ss[k];
            dof += p->ds[k];
            if (++idx[k] < p->dim[k])
                break;
            so -= (long)p->ss[k] * p->dim[k];
            dof -= (long)p->ds[k] * p->dim[k];
            idx[k] = 0;
        }
        if (k < 0)
            return;
    }
}

/*@@ kw_gather */
KW_RT_FN void kw_gather(const KwGatherP *p, const void *x, void *y)
{
    size_t row = (size_t)p->inner * p->esize;
    const unsigned char *xs = (const unsigned char *)x;
    unsigned char *ys = (unsigned char *)y;
    int o, t;
    for (o = 0; o < p->outer; o++)
        for (t = 0; t < p->nidx; t++)
            memcpy(ys + ((size_t)o * p->nidx + t) * row,
                   xs + ((size_t)o * p->axis_n + p->idx[t]) * row, row);
}

/*@@ kw_softmax */
KW_RT_FN void kw_softmax(const KwSoftmaxP *p, const float *x, float *y)
{
    int o, i, j;
    for (o = 0; o < p->outer; o++)
        for (i = 0; i < p->inner; i++) {
            const float *xr = x + (long)o * p->n * p->inner + i;
            float *yr = y + (long)o * p->n * p->inner + i;
            float mx = xr[0], sum = 0.0f;
            for (j = 1; j < p->n; j++)
                if (xr[(long)j * p->inner] > mx)
                    mx = xr[(long)j * p->inner];
            for (j = 0; j < p->n; j++) {
#ifndef KW_RT_NO_LIBM
                float e = expf(xr[(long)j * p->inner] - mx);
#else
                float e = 0.0f;
#endif
                yr[(long)j * p->inner] = e;
                sum += e;
            }
            for (j = 0; j < p->n; j++)
                yr[(long)j * p->inner] /= sum;
        }
}

/*@@ kw_layernorm */
KW_RT_FN void kw_layernorm(const KwLayerNormP *p, const float *x, const float *scale,
                           const float *bias, float *y)
{
    int o, i, j, n = p->n, in = p->inner;
    for (o = 0; o < p->outer; o++)
        for (i = 0; i < in; i++) {
            const float *xr = x + (long)o * n * in + i;
            float *yr = y + (long)o * n * in + i;
            float mean = 0.0f, var = 0.0f, inv;
            for (j = 0; j < n; j++)
                mean += xr[(long)j * in];
            mean /= (float)n;
            for (j = 0; j < n; j++)
                var += (xr[(long)j * in] - mean) * (xr[(long)j * in] - mean);
            var /= (float)n;
#ifndef KW_RT_NO_LIBM
            inv = 1.0f / sqrtf(var + p->eps);
#else
            inv = 0.0f * var; /* unreachable: kwcc defines KW_RT_NO_LIBM only without LayerNorm */
#endif
            for (j = 0; j < n; j++)
                yr[(long)j * in] = (xr[(long)j * in] - mean) * inv * scale[j] + (bias ? bias[j] : 0.0f);
        }
}

/*@@ kw__attn */
/* (the attention's two halves, shared by kw_attention and kw_kwconv) */
#define KW_SUM_LANES 16
/* x[0] + ... + x[n-1] in KW_SUM_LANES running sums (element i into sum i % 16), folded
 * pairwise at the end: a fixed order, so every target gets the same float, and sixteen
 * independent additions that a compiler keeps in vector registers instead of one chain of
 * n dependent ones (a 56x56x64 pool was a tenth of its KW conv). */
KW_RT_LOCAL float kw__sum(const float *x, long n)
{
    float s[KW_SUM_LANES] = {0};
    long i = 0;
    int j, w;
    for (; i + KW_SUM_LANES <= n; i += KW_SUM_LANES)
        for (j = 0; j < KW_SUM_LANES; j++)
            s[j] += x[i + j];
    for (j = 0; i + j < n; j++)
        s[j] += x[i + j];
    for (w = KW_SUM_LANES / 2; w > 0; w /= 2)
        for (j = 0; j < w; j++)
            s[j] += s[j + w];
    return s[0];
}

/* The attention's hidden vector h (p->hidden floats): the input pooled (a sum: 1/HW is in w1),
 * fc1, LayerNorm (ln = 1 only), ReLU. */
KW_RT_LOCAL void kw__attn_hidden(const KwAttnP *p, const float *x, const float *w1, const float *b1,
                                 const float *ln_g, const float *ln_b, float *h)
{
    int c, i;
    /* pool (sum; 1/HW is in w1) fused with fc1: h = w1 s + b1 */
    for (i = 0; i < p->hidden; i++)
        h[i] = b1 ? b1[i] : 0.0f;
    for (c = 0; c < p->C; c++) {
        float s = kw__sum(x + (long)c * p->HW, p->HW);
        for (i = 0; i < p->hidden; i++)
            h[i] += w1[(long)i * p->C + c] * s;
    }
    if (p->ln) {
        float mean = 0.0f, var = 0.0f, inv;
        for (i = 0; i < p->hidden; i++)
            mean += h[i];
        mean /= (float)p->hidden;
        for (i = 0; i < p->hidden; i++)
            var += (h[i] - mean) * (h[i] - mean);
        var /= (float)p->hidden;
#ifndef KW_RT_NO_LIBM
        inv = 1.0f / sqrtf(var + p->ln_eps);
#else
        inv = 0.0f * var; /* unreachable: kwcc defines KW_RT_NO_LIBM only without LayerNorm */
#endif
        for (i = 0; i < p->hidden; i++)
            h[i] = (h[i] - mean) * inv * ln_g[i] + ln_b[i];
    }
    for (i = 0; i < p->hidden; i++)
        h[i] = h[i] > 0.0f ? h[i] : 0.0f;
}

/* Mixture j's row of the attention from h: the P = n + 1 logits into z (with basis = 1, the
 * R values of fc2 into yb first), normalised, then A[c] for c < n. A may be z. */
KW_RT_LOCAL void kw__attn_row(const KwAttnP *p, int j, const float *h, const float *w2,
                              const float *b2, const float *w3, const float *tb, float *z,
                              float *yb, float *A)
{
    int P = p->n + 1, NL = p->n - p->L, R = p->L + p->B + 1;
    int c, i, q;
    float den = 0.0f;
    if (!p->basis) {
        for (q = 0; q < P; q++) {
            const float *wr = w2 + ((long)j * P + q) * p->hidden;
            float acc = b2[(long)j * P + q];
            for (i = 0; i < p->hidden; i++)
                acc += wr[i] * h[i];
            z[q] = acc;
        }
    } else {
        for (q = 0; q < R; q++) {
            const float *wr = w2 + ((long)j * R + q) * p->hidden;
            float acc = 0.0f;
            for (i = 0; i < p->hidden; i++)
                acc += wr[i] * h[i];
            yb[q] = acc;
        }
        /* yb is [loc L | nl B | zero] */
        for (c = 0; c < NL; c++) {
            const float *w3r = w3 + (long)c * p->B;
            float acc = 0.0f;
            for (i = 0; i < p->B; i++)
                acc += w3r[i] * yb[p->L + i];
            z[c < p->start ? c : c + p->L] = acc;
        }
        for (c = 0; c < p->L; c++)
            z[p->start + c] = yb[c];
        z[p->n] = yb[p->L + p->B];
        for (c = 0; c < P; c++)
            z[c] += b2[(long)j * P + c];
    }
    for (c = 0; c < P; c++)
        den += z[c] < 0.0f ? -z[c] : z[c];
    den += p->eps;
    for (c = 0; c < p->n; c++)
        A[c] = p->tscale * (z[c] / den) + tb[(long)j * p->n + c];
}

/*@@ kw_attention */
KW_RT_FN void kw_attention(const KwAttnP *p, const float *x, const float *w1, const float *b1,
                           const float *ln_g, const float *ln_b, const float *w2,
                           const float *b2, const float *w3, const float *tb,
                           float *scratch, float *A)
{
    int P = p->n + 1, R = p->L + p->B + 1, j;
    float *h = scratch, *z = scratch + p->hidden, *yb = z + (long)p->m * P;
    kw__attn_hidden(p, x, w1, b1, ln_g, ln_b, h);
    /* row by row; with A over z, row j of A only overwrites rows of z already used */
    for (j = 0; j < p->m; j++)
        kw__attn_row(p, j, h, w2, b2, w3, tb, z + (long)j * P, yb + (long)j * R, A + (long)j * p->n);
}

/*@@ kw_assemble */
KW_RT_FN void kw_assemble(const KwAsmP *p, const float *A, const float *E, float *W)
{
    int j, c, i0, i1, i2, i3, i4;
    int cnt[5], ds[5], ss[5], l, sh = 5 - p->nl;
    /* right-align the loop nest in five slots; unused outer slots run once */
    for (l = 0; l < 5; l++) {
        cnt[l] = l < sh ? 1 : p->cnt[l - sh];
        ds[l] = l < sh ? 0 : p->ds[l - sh];
        ss[l] = l < sh ? 0 : p->ss[l - sh];
    }
    for (j = 0; j < p->m; j++) {
        float *wj = W + p->base[j];
        const float *aj = A + (long)j * p->n;
        for (c = 0; c < p->n; c++) {
            const float *ec = E + (long)c * p->S;
            float a = aj[c];
            for (i0 = 0; i0 < cnt[0]; i0++)
                for (i1 = 0; i1 < cnt[1]; i1++)
                    for (i2 = 0; i2 < cnt[2]; i2++)
                        for (i3 = 0; i3 < cnt[3]; i3++) {
                            long d = (long)i0 * ds[0] + (long)i1 * ds[1] + (long)i2 * ds[2] + (long)i3 * ds[3];
                            long s = (long)i0 * ss[0] + (long)i1 * ss[1] + (long)i2 * ss[2] + (long)i3 * ss[3];
                            float *wr = wj + d;
                            const float *er = ec + s;
                            if (c == 0) {
                                if (ds[4] == 1 && ss[4] == 1)
                                    for (i4 = 0; i4 < cnt[4]; i4++) wr[i4] = a * er[i4];
                                else
                                    for (i4 = 0; i4 < cnt[4]; i4++)
                                        wr[(long)i4 * ds[4]] = a * er[(long)i4 * ss[4]];
                            } else {
                                if (ds[4] == 1 && ss[4] == 1)
                                    for (i4 = 0; i4 < cnt[4]; i4++) wr[i4] += a * er[i4];
                                else
                                    for (i4 = 0; i4 < cnt[4]; i4++)
                                        wr[(long)i4 * ds[4]] += a * er[(long)i4 * ss[4]];
                            }
                        }
        }
    }
}

/*@@ kw_kwconv */
/* kwcc pastes kw__attn, kw_assemble and kw_conv with this section (codegen/emit_c.c). */
KW_RT_FN void kw_kwconv(const KwKwConvBP *p, const float *x, const float *w1, const float *b1,
                        const float *ln_g, const float *ln_b, const float *w2, const float *b2,
                        const float *w3, const float *tb, const float *E, const float *scale,
                        const float *bias, const float *res, float *y, float *scratch)
{
    const KwConvP *cp = &p->conv;
    long wso = cp->wso;
    long in_plane = (long)cp->in[0] * cp->in[1] * cp->in[2];
    long out_plane = (long)cp->out[0] * cp->out[1] * cp->out[2];
    int Og = cp->O / cp->G, Cg = cp->C / cp->G, rows = p->as.cnt[0];
    int P = p->attn.n + 1, R = p->attn.L + p->attn.B + 1;
    float *h = scratch, *z = scratch + p->attn.hidden, *W = scratch + p->w_off;
    float *yb = z + (p->full ? (long)p->attn.m * P : P);
    int o0, j;
    kw__attn_hidden(&p->attn, x, w1, b1, ln_g, ln_b, h);
    if (p->full) /* the whole attention up front, A over z, as kw_attention computes it */
        for (j = 0; j < p->attn.m; j++)
            kw__attn_row(&p->attn, j, h, w2, b2, w3, tb, z + (long)j * P, yb + (long)j * R, z + (long)j * p->attn.n);
    for (o0 = 0; o0 < cp->O; o0 += p->bo) {
        int nb = cp->O - o0 < p->bo ? cp->O - o0 : p->bo;
        KwAsmP a = p->as;
        KwConvP c = *cp;
        int base;
        a.m = 1;
        a.base = &base;
        for (j = 0; j < p->as.m; j++) {
            int r0 = (int)(p->as.base[j] / wso), lo = r0 > o0 ? r0 : o0;
            int hi = r0 + rows < o0 + nb ? r0 + rows : o0 + nb;
            if (lo >= hi)
                continue;
            /* mixture j's row of the attention (computed now unless full), then its rows
             * lo..hi of the kernel */
            if (!p->full)
                kw__attn_row(&p->attn, j, h, w2, b2, w3, tb, z, yb, z);
            a.cnt[0] = hi - lo;
            base = (int)((long)(lo - o0) * wso + p->as.base[j] % wso);
            kw_assemble(&a, p->full ? z + (long)j * p->attn.n : z, E + (long)(lo - r0) * p->as.ss[0], W);
        }
        c.O = nb;
        c.G = nb >= Og ? nb / Og : 1;
        c.C = c.G * Cg;
        kw_conv(&c, x + (long)(o0 / Og) * Cg * in_plane, W, scale ? scale + o0 : 0, bias ? bias + o0 : 0,
                res ? res + (long)o0 * out_plane : 0, y + (long)o0 * out_plane);
    }
}
