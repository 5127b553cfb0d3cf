/* test_runtime.c -- every runtime kernel of kw_rt_ref.c against a naive double-precision
 * reference written from the kernel's contract in kw_rt.h (and, for the KernelWarehouse
 * kernels, from KW_SEMANTICS.md sections 2 and 3).
 *
 * The randomised tests are Check loop tests: iteration i draws its parameters from a RNG
 * seeded with i, so a failure names a reproducible case. */
#include <check.h>

#include "kw_rt.h"
#include "unit_util.h"

#define TOL 1e-5

/* dense row-major strides of dims[0..r) */
static void dense_strides(int r, const int *dims, int *st)
{
    int acc = 1;
    for (int i = r - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= dims[i];
    }
}

/* strides of dims[0..r) stored in the dim order perm[0..r) (perm[0] outermost in memory) */
static void perm_strides(int r, const int *dims, const int *perm, int *st)
{
    int acc = 1;
    for (int i = r - 1; i >= 0; i--) {
        st[perm[i]] = acc;
        acc *= dims[perm[i]];
    }
}

static void rand_perm(Rng *r, int n, int *p)
{
    for (int i = 0; i < n; i++)
        p[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = rng_int(r, 0, i), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

static double ref_act(double v, int act, double lo, double hi)
{
    if (act == KW_ACT_RELU)
        return v > 0 ? v : 0;
    if (act == KW_ACT_CLIP)
        return v < lo ? lo : (v > hi ? hi : v);
    return v;
}

static void rand_act(Rng *r, int *act, float *lo, float *hi)
{
    *act = rng_int(r, 0, 2);
    *lo = *hi = 0;
    if (*act == KW_ACT_CLIP) {
        *lo = rng_float(r, -1.5f, 0.0f);
        *hi = rng_float(r, 0.1f, 1.5f);
    }
}

/* ================================================================ kw_unary */

static const char *const un_names[] = {"COPY", "RELU",  "CLIP",  "ABS",  "NEG",      "SQRT",    "ERF",
                                       "SIGMOID", "EXP", "LOG", "TANH", "RECIP",    "FLOOR",   "CEIL",
                                       "POWC", "LEAKY", "HSIGMOID", "HSWISH", "GELU", "TRUNC"};

static double ref_unary(int op, double x, double a, double b)
{
    switch (op) {
    case KW_UN_COPY: return x;
    case KW_UN_RELU: return x > 0 ? x : 0;
    case KW_UN_CLIP: return x < a ? a : (x > b ? b : x);
    case KW_UN_ABS: return fabs(x);
    case KW_UN_NEG: return -x;
    case KW_UN_SQRT: return sqrt(x);
    case KW_UN_ERF: return erf(x);
    case KW_UN_SIGMOID: return 1 / (1 + exp(-x));
    case KW_UN_EXP: return exp(x);
    case KW_UN_LOG: return log(x);
    case KW_UN_TANH: return tanh(x);
    case KW_UN_RECIP: return 1 / x;
    case KW_UN_FLOOR: return floor(x);
    case KW_UN_CEIL: return ceil(x);
    case KW_UN_POWC: return pow(x, a);
    case KW_UN_LEAKY: return x < 0 ? a * x : x;
    case KW_UN_HSIGMOID: { double v = a * x + b; return v < 0 ? 0 : (v > 1 ? 1 : v); }
    case KW_UN_HSWISH: { double v = x / 6 + 0.5; return x * (v < 0 ? 0 : (v > 1 ? 1 : v)); }
    case KW_UN_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case KW_UN_TRUNC: return trunc(x);
    }
    return NAN;
}

START_TEST(unary_random)
{
    Rng r = rng_seed(1000 + (uint64_t)_i);
    int op = _i % 20;
    KwUnaryP p = {op, rng_int(&r, 1, 300), 0, 0};
    float lo = -4, hi = 4;
    switch (op) {
    case KW_UN_SQRT: case KW_UN_LOG: lo = 0.01f; hi = 50; break;
    case KW_UN_EXP: lo = -8; hi = 8; break;
    case KW_UN_CLIP: p.a = rng_float(&r, -2, 0); p.b = rng_float(&r, 0, 2); break;
    case KW_UN_LEAKY: p.a = rng_float(&r, 0.001f, 0.5f); break;
    case KW_UN_HSIGMOID: p.a = rng_float(&r, 0.1f, 0.5f); p.b = rng_float(&r, 0.2f, 0.8f); break;
    case KW_UN_HSWISH: lo = -8; hi = 8; break;
    case KW_UN_POWC: {
        static const float ex[] = {2.0f, 3.0f, 0.5f, -1.5f, 1.7f, 2.0f};
        p.a = ex[(_i / 20) % 6];
        if (p.a != 2.0f && p.a != 3.0f)
            lo = 0.05f, hi = 4;
        break;
    }
    default: break;
    }
    float *x = rand_buf(&r, p.n, lo, hi);
    if (op == KW_UN_RECIP)
        for (int i = 0; i < p.n; i++)
            x[i] = (x[i] < 0 ? -1.0f : 1.0f) * (0.25f + fabsf(x[i]));
    if (op == KW_UN_FLOOR || op == KW_UN_CEIL || op == KW_UN_TRUNC)
        for (int i = 0; i < p.n; i += 3)
            x[i] = (float)rng_int(&r, -5, 5) * 0.5f; /* integers and halves exactly */
    float *y = fbuf(p.n, NAN);
    double *ref = dbuf(p.n);
    for (int i = 0; i < p.n; i++)
        ref[i] = ref_unary(op, x[i], p.a, p.b);
    kw_unary(&p, x, y);
    check_close(y, ref, p.n, TOL, "kw_unary %s n=%d a=%g b=%g", un_names[op], p.n, p.a, p.b);
    /* in place (the memory planner runs elementwise ops in place) */
    kw_unary(&p, x, x);
    check_close(x, ref, p.n, TOL, "kw_unary %s in place", un_names[op]);
    free(x);
    free(y);
    free(ref);
}
END_TEST

START_TEST(unary_exact_ops)
{
    /* ops that must be exact (no rounding at all) */
    float x[] = {-3.5f, -2.0f, -0.5f, -0.0f, 0.0f, 0.25f, 1.0f, 2.5f, 7.75f, -1e-30f, 1e30f};
    int n = (int)(sizeof x / sizeof x[0]);
    int ops[] = {KW_UN_COPY, KW_UN_RELU, KW_UN_ABS, KW_UN_NEG, KW_UN_FLOOR, KW_UN_CEIL, KW_UN_TRUNC};
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        KwUnaryP p = {ops[k], n, 0, 0};
        float y[16];
        kw_unary(&p, x, y);
        for (int i = 0; i < n; i++)
            ck_assert_msg(y[i] == (float)ref_unary(ops[k], x[i], 0, 0), "%s(%g) = %g", un_names[ops[k]], x[i], y[i]);
    }
    /* Clip with infinite bounds (a Clip without min or max) is the identity */
    KwUnaryP c = {KW_UN_CLIP, n, -INFINITY, INFINITY};
    float y[16];
    kw_unary(&c, x, y);
    for (int i = 0; i < n; i++)
        ck_assert(y[i] == x[i]);
    /* n = 0 touches nothing */
    KwUnaryP z = {KW_UN_EXP, 0, 0, 0};
    y[0] = 42;
    kw_unary(&z, x, y);
    ck_assert(y[0] == 42);
}
END_TEST

/* ================================================================ kw_binary */

static double ref_bin(int op, double a, double b)
{
    switch (op) {
    case KW_BIN_ADD: return a + b;
    case KW_BIN_SUB: return a - b;
    case KW_BIN_MUL: return a * b;
    case KW_BIN_DIV: return a / b;
    case KW_BIN_POW: return pow(a, b);
    case KW_BIN_MAX: return a > b ? a : b;
    case KW_BIN_MIN: return a < b ? a : b;
    }
    return NAN;
}

START_TEST(binary_random)
{
    Rng r = rng_seed(2000 + (uint64_t)_i);
    KwBinaryP p;
    memset(&p, 0, sizeof p);
    p.op = _i % 7;
    p.rank = rng_int(&r, 1, KW_RT_MAXR);
    int total = 1;
    for (int d = 0; d < p.rank; d++) {
        p.dim[d] = rng_int(&r, 1, p.rank > 5 ? 2 : 4);
        total *= p.dim[d];
    }
    /* each operand: its own shape (1 where it broadcasts), stored in a random dim order */
    int ad[KW_RT_MAXR], bd[KW_RT_MAXR], pa[KW_RT_MAXR], pb[KW_RT_MAXR], na = 1, nb = 1;
    for (int d = 0; d < p.rank; d++) {
        ad[d] = rng_int(&r, 0, 3) == 0 ? 1 : p.dim[d];
        bd[d] = rng_int(&r, 0, 2) == 0 ? 1 : p.dim[d];
        na *= ad[d];
        nb *= bd[d];
    }
    rand_perm(&r, p.rank, pa);
    rand_perm(&r, p.rank, pb);
    perm_strides(p.rank, ad, pa, p.sa);
    perm_strides(p.rank, bd, pb, p.sb);
    for (int d = 0; d < p.rank; d++) {
        if (ad[d] == 1)
            p.sa[d] = 0;
        if (bd[d] == 1)
            p.sb[d] = 0;
    }
    float alo = -3, ahi = 3, blo = -3, bhi = 3;
    if (p.op == KW_BIN_POW)
        alo = 0.1f, ahi = 3, blo = -2, bhi = 2.5f;
    float *a = rand_buf(&r, na, alo, ahi), *b = rand_buf(&r, nb, blo, bhi);
    if (p.op == KW_BIN_DIV)
        for (int i = 0; i < nb; i++)
            b[i] = (b[i] < 0 ? -1.0f : 1.0f) * (0.3f + fabsf(b[i]));
    float *y = fbuf(total, NAN);
    double *ref = dbuf(total);
    int idx[KW_RT_MAXR] = {0};
    for (int e = 0; e < total; e++) {
        long oa = 0, ob = 0;
        for (int d = 0; d < p.rank; d++) {
            oa += (long)idx[d] * p.sa[d];
            ob += (long)idx[d] * p.sb[d];
        }
        ref[e] = ref_bin(p.op, a[oa], b[ob]);
        for (int d = p.rank - 1; d >= 0; d--) {
            if (++idx[d] < p.dim[d])
                break;
            idx[d] = 0;
        }
    }
    kw_binary(&p, a, b, y);
    check_close(y, ref, total, TOL, "kw_binary op %d rank %d total %d", p.op, p.rank, total);
    free(a);
    free(b);
    free(y);
    free(ref);
}
END_TEST

START_TEST(binary_in_place)
{
    /* y over a (same shape) with b broadcast along the last dim, and y over b */
    Rng r = rng_seed(77);
    for (int op = 0; op < 7; op++) {
        KwBinaryP p = {op, 2, {5, 6}, {6, 1}, {1, 0}};
        float *a = rand_buf(&r, 30, 0.5f, 2), *b = rand_buf(&r, 5, 0.5f, 2);
        double ref[30];
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 6; j++)
                ref[i * 6 + j] = ref_bin(op, a[i * 6 + j], b[i]);
        kw_binary(&p, a, b, a);
        check_close(a, ref, 30, TOL, "kw_binary op %d in place over a", op);
        /* y over b: b full, a broadcast along dim 0 */
        KwBinaryP q = {op, 2, {5, 6}, {0, 1}, {6, 1}};
        float *a2 = rand_buf(&r, 6, 0.5f, 2), *b2 = rand_buf(&r, 30, 0.5f, 2);
        for (int i = 0; i < 30; i++)
            ref[i] = ref_bin(op, a2[i % 6], b2[i]);
        kw_binary(&q, a2, b2, b2);
        check_close(b2, ref, 30, TOL, "kw_binary op %d in place over b", op);
        free(a);
        free(b);
        free(a2);
        free(b2);
    }
}
END_TEST

START_TEST(binary_max_min_nan)
{
    /* ONNX Max/Min propagate NaN from either side */
    float a[4] = {NAN, 1.0f, NAN, 2.0f}, b[4] = {1.0f, NAN, NAN, 3.0f}, y[4];
    for (int op = KW_BIN_MAX; op <= KW_BIN_MIN; op++) {
        KwBinaryP p = {op, 1, {4}, {1}, {1}};
        kw_binary(&p, a, b, y);
        ck_assert_msg(isnan(y[0]) && isnan(y[1]) && isnan(y[2]), "op %d: %g %g %g", op, y[0], y[1], y[2]);
        ck_assert(y[3] == (op == KW_BIN_MAX ? 3.0f : 2.0f));
    }
}
END_TEST

/* ================================================================ kw_affine */

START_TEST(affine_random)
{
    Rng r = rng_seed(3000 + (uint64_t)_i);
    KwAffineP p;
    memset(&p, 0, sizeof p);
    p.outer = rng_int(&r, 1, 3);
    p.C = rng_int(&r, 1, 9);
    p.inner = rng_int(&r, 1, 30);
    rand_act(&r, &p.act, &p.lo, &p.hi);
    long n = (long)p.outer * p.C * p.inner;
    float *x = rand_buf(&r, n, -2, 2), *sc = rand_buf(&r, p.C, -2, 2), *sh = rand_buf(&r, p.C, -1, 1);
    float *y = fbuf(n, NAN);
    double *ref = dbuf(n);
    for (long e = 0; e < n; e++) {
        int c = (int)((e / p.inner) % p.C);
        ref[e] = ref_act((double)x[e] * sc[c] + sh[c], p.act, p.lo, p.hi);
    }
    kw_affine(&p, x, sc, sh, y);
    check_close(y, ref, n, TOL, "kw_affine outer %d C %d inner %d act %d", p.outer, p.C, p.inner, p.act);
    kw_affine(&p, x, sc, sh, x);
    check_close(x, ref, n, TOL, "kw_affine in place");
    free(x);
    free(sc);
    free(sh);
    free(y);
    free(ref);
}
END_TEST

/* ================================================================ kw_conv */

START_TEST(conv_random)
{
    Rng r = rng_seed(4000 + (uint64_t)_i);
    KwConvP p;
    memset(&p, 0, sizeof p);
    p.nsp = 1 + _i % 3;
    p.N = rng_int(&r, 1, 2);
    int kind = rng_int(&r, 0, 3), Cg, Og; /* 0 plain, 1 grouped, 2 depthwise, 3 depthwise x2 */
    if (kind == 0) {
        p.G = 1, Cg = rng_int(&r, 1, 5), Og = rng_int(&r, 1, 5);
    } else if (kind == 1) {
        p.G = rng_int(&r, 2, 3), Cg = rng_int(&r, 1, 3), Og = rng_int(&r, 1, 3);
    } else {
        p.G = rng_int(&r, 2, 6), Cg = 1, Og = kind == 2 ? 1 : 2;
    }
    p.C = p.G * Cg;
    p.O = p.G * Og;
    int pad_e[3];
    for (int s = 0; s < 3; s++) {
        p.in[s] = p.out[s] = p.k[s] = p.stride[s] = p.dil[s] = 1;
        p.pad[s] = pad_e[s] = 0;
        if (s < 3 - p.nsp)
            continue; /* unused leading dims, as kwcc lowers them */
        p.in[s] = rng_int(&r, 1, p.nsp == 3 ? 5 : 9);
        p.k[s] = rng_int(&r, 1, 3 + (p.nsp == 1));
        p.stride[s] = rng_int(&r, 1, 3);
        p.dil[s] = rng_int(&r, 1, 2);
        p.pad[s] = rng_int(&r, 0, 2);
        pad_e[s] = rng_int(&r, 0, 2);
        int ek = p.dil[s] * (p.k[s] - 1) + 1;
        if (ek > p.in[s] + p.pad[s] + pad_e[s]) {
            p.dil[s] = 1;
            p.k[s] = 1;
            ek = 1;
        }
        p.out[s] = (p.in[s] + p.pad[s] + pad_e[s] - ek) / p.stride[s] + 1;
    }
    int ksz = p.k[0] * p.k[1] * p.k[2];
    int layout = rng_int(&r, 0, 2); /* 0 OIHW, 1 [O][k...][C/g], 2 OIHW with a gap between filters */
    long wn;
    if (layout == 1) {
        p.wsi = 1;
        p.wsk[2] = Cg;
        p.wsk[1] = Cg * p.k[2];
        p.wsk[0] = Cg * p.k[2] * p.k[1];
        p.wso = ksz * Cg;
    } else {
        p.wsk[2] = 1;
        p.wsk[1] = p.k[2];
        p.wsk[0] = p.k[2] * p.k[1];
        p.wsi = ksz;
        p.wso = ksz * Cg + (layout == 2 ? rng_int(&r, 1, 5) : 0);
    }
    for (int s = 0; s < 3; s++)
        if (p.k[s] == 1)
            p.wsk[s] = rng_int(&r, 0, 1) ? 0 : p.wsk[s]; /* never read with a non-zero index */
    wn = (long)p.O * p.wso;
    rand_act(&r, &p.act, &p.lo, &p.hi);
    long xin = (long)p.N * p.C * p.in[0] * p.in[1] * p.in[2];
    long yn = (long)p.N * p.O * p.out[0] * p.out[1] * p.out[2];
    float *x = rand_buf(&r, xin, -1, 1), *w = rand_buf(&r, wn, -1, 1);
    float *scale = rng_int(&r, 0, 1) ? rand_buf(&r, p.O, 0.5f, 1.5f) : NULL;
    float *bias = rng_int(&r, 0, 1) ? rand_buf(&r, p.O, -0.5f, 0.5f) : NULL;
    float *res = rng_int(&r, 0, 1) ? rand_buf(&r, yn, -1, 1) : NULL;
    float *y = fbuf(yn, NAN);
    double *ref = dbuf(yn);
    long q = 0;
    for (int nb = 0; nb < p.N; nb++)
        for (int o = 0; o < p.O; o++) {
            int g = o / Og;
            for (int o0 = 0; o0 < p.out[0]; o0++)
                for (int o1 = 0; o1 < p.out[1]; o1++)
                    for (int o2 = 0; o2 < p.out[2]; o2++, q++) {
                        double acc = 0;
                        for (int ci = 0; ci < Cg; ci++)
                            for (int k0 = 0; k0 < p.k[0]; k0++)
                                for (int k1 = 0; k1 < p.k[1]; k1++)
                                    for (int k2 = 0; k2 < p.k[2]; k2++) {
                                        int i0 = o0 * p.stride[0] - p.pad[0] + k0 * p.dil[0];
                                        int i1 = o1 * p.stride[1] - p.pad[1] + k1 * p.dil[1];
                                        int i2 = o2 * p.stride[2] - p.pad[2] + k2 * p.dil[2];
                                        if (i0 < 0 || i0 >= p.in[0] || i1 < 0 || i1 >= p.in[1] || i2 < 0 ||
                                            i2 >= p.in[2])
                                            continue;
                                        double xv = x[(((long)nb * p.C + g * Cg + ci) * p.in[0] + i0) * p.in[1] * p.in[2] +
                                                      (long)i1 * p.in[2] + i2];
                                        double wv = w[(long)o * p.wso + (long)ci * p.wsi + (long)k0 * p.wsk[0] +
                                                      (long)k1 * p.wsk[1] + (long)k2 * p.wsk[2]];
                                        acc += xv * wv;
                                    }
                        double v = acc * (scale ? scale[o] : 1.0) + (bias ? bias[o] : 0.0) + (res ? res[q] : 0.0);
                        ref[q] = ref_act(v, p.act, p.lo, p.hi);
                    }
        }
    kw_conv(&p, x, w, scale, bias, res, y);
    check_close(y, ref, yn, TOL,
                "kw_conv nsp %d N %d C %d O %d G %d in %dx%dx%d k %dx%dx%d stride %d,%d,%d pad %d,%d,%d dil %d,%d,%d "
                "layout %d scale %d bias %d res %d act %d",
                p.nsp, p.N, p.C, p.O, p.G, p.in[0], p.in[1], p.in[2], p.k[0], p.k[1], p.k[2], p.stride[0],
                p.stride[1], p.stride[2], p.pad[0], p.pad[1], p.pad[2], p.dil[0], p.dil[1], p.dil[2], layout,
                scale != NULL, bias != NULL, res != NULL, p.act);
    free(x);
    free(w);
    free(scale);
    free(bias);
    free(res);
    free(y);
    free(ref);
}
END_TEST

/* ================================================================ kw_gemm */

START_TEST(gemm_random)
{
    Rng r = rng_seed(5000 + (uint64_t)_i);
    KwGemmP p;
    memset(&p, 0, sizeof p);
    p.M = rng_int(&r, 1, 9);
    p.N = rng_int(&r, 1, 9);
    p.K = rng_int(&r, 1, _i % 5 == 0 ? 70 : 9);
    p.nb = rng_int(&r, 0, 4);
    int ta = rng_int(&r, 0, 1), tb = rng_int(&r, 0, 1);
    if (_i % 4 == 1)
        ta = 0, tb = 1; /* the Linear fast path: a_cs == 1, b_rs == 1 */
    int lda = (ta ? p.M : p.K) + rng_int(&r, 0, 2), ldb = (tb ? p.K : p.N) + rng_int(&r, 0, 2);
    p.a_rs = ta ? 1 : lda;
    p.a_cs = ta ? lda : 1;
    p.b_rs = tb ? 1 : ldb;
    p.b_cs = tb ? ldb : 1;
    long amat = (long)(ta ? p.K : p.M) * lda, bmat = (long)(tb ? p.N : p.K) * ldb;
    /* batch dims: per operand dense over its own (broadcast) batch shape */
    int ab[4], bb[4], yb[4], na = 1, nbm = 1, ny = 1;
    for (int d = 0; d < p.nb; d++) {
        p.bdim[d] = rng_int(&r, 1, 3);
        ab[d] = rng_int(&r, 0, 2) == 0 ? 1 : p.bdim[d];
        bb[d] = rng_int(&r, 0, 2) == 0 ? 1 : p.bdim[d];
        yb[d] = p.bdim[d];
        na *= ab[d];
        nbm *= bb[d];
        ny *= yb[d];
    }
    int sa[4], sb[4], sy[4];
    dense_strides(p.nb, ab, sa);
    dense_strides(p.nb, bb, sb);
    dense_strides(p.nb, yb, sy);
    for (int d = 0; d < p.nb; d++) {
        p.a_bs[d] = ab[d] == 1 ? 0 : sa[d] * (int)amat;
        p.b_bs[d] = bb[d] == 1 ? 0 : sb[d] * (int)bmat;
        p.y_bs[d] = sy[d] * p.M * p.N;
    }
    p.alpha = rng_float(&r, -2, 2);
    p.beta = rng_float(&r, -2, 2);
    rand_act(&r, &p.act, &p.lo, &p.hi);
    float *a = rand_buf(&r, na * amat, -1, 1), *b = rand_buf(&r, nbm * bmat, -1, 1);
    int cshape = rng_int(&r, 0, 5); /* none, [1,1], [1,N], [M,1], [M,N], [N,M] transposed */
    float *c = NULL;
    if (cshape) {
        c = rand_buf(&r, (long)p.M * p.N, -1, 1);
        switch (cshape) {
        case 1: p.c_rs = 0, p.c_cs = 0; break;
        case 2: p.c_rs = 0, p.c_cs = 1; break;
        case 3: p.c_rs = 1, p.c_cs = 0; break;
        case 4: p.c_rs = p.N, p.c_cs = 1; break;
        case 5: p.c_rs = 1, p.c_cs = p.M; break;
        }
    }
    long yn = (long)ny * p.M * p.N;
    float *y = fbuf(yn, NAN);
    double *ref = dbuf(yn);
    int bi[4] = {0, 0, 0, 0};
    for (int bt = 0; bt < ny; bt++) {
        long ao = 0, bo = 0, yo = 0;
        for (int d = 0; d < p.nb; d++) {
            ao += (long)bi[d] * p.a_bs[d];
            bo += (long)bi[d] * p.b_bs[d];
            yo += (long)bi[d] * p.y_bs[d];
        }
        for (int i = 0; i < p.M; i++)
            for (int j = 0; j < p.N; j++) {
                double acc = 0;
                for (int k = 0; k < p.K; k++)
                    acc += (double)a[ao + (long)i * p.a_rs + (long)k * p.a_cs] * b[bo + (long)k * p.b_rs + (long)j * p.b_cs];
                double v = p.alpha * acc + (c ? p.beta * c[(long)i * p.c_rs + (long)j * p.c_cs] : 0.0);
                ref[yo + (long)i * p.N + j] = ref_act(v, p.act, p.lo, p.hi);
            }
        for (int d = p.nb - 1; d >= 0; d--) {
            if (++bi[d] < p.bdim[d])
                break;
            bi[d] = 0;
        }
    }
    kw_gemm(&p, a, b, c, y);
    check_close(y, ref, yn, TOL, "kw_gemm M %d N %d K %d ta %d tb %d nb %d C %d alpha %g beta %g act %d", p.M, p.N,
                p.K, ta, tb, p.nb, cshape, p.alpha, p.beta, p.act);
    free(a);
    free(b);
    free(c);
    free(y);
    free(ref);
}
END_TEST

/* ================================================================ kw_pool */

START_TEST(pool_random)
{
    Rng r = rng_seed(6000 + (uint64_t)_i);
    KwPoolP p;
    memset(&p, 0, sizeof p);
    p.kind = _i % 2 ? KW_POOL_AVG : KW_POOL_MAX;
    p.nsp = 1 + (_i / 2) % 3;
    p.NC = rng_int(&r, 1, 3);
    p.count_include_pad = rng_int(&r, 0, 1);
    int ceil_mode = rng_int(&r, 0, 1);
    for (int s = 0; s < 3; s++) {
        p.in[s] = p.out[s] = p.k[s] = p.stride[s] = p.dil[s] = 1;
        p.pad_b[s] = p.pad_e[s] = 0;
        if (s < 3 - p.nsp)
            continue;
        p.in[s] = rng_int(&r, 1, p.nsp == 3 ? 6 : 10);
        p.k[s] = rng_int(&r, 1, 3);
        p.stride[s] = rng_int(&r, 1, 3);
        p.dil[s] = rng_int(&r, 1, 2);
        p.pad_b[s] = rng_int(&r, 0, p.k[s] - 1);
        p.pad_e[s] = rng_int(&r, 0, p.k[s] - 1);
        int ek = p.dil[s] * (p.k[s] - 1) + 1, span = p.in[s] + p.pad_b[s] + p.pad_e[s];
        if (ek > span) {
            p.k[s] = 1, p.dil[s] = 1, ek = 1;
            p.pad_b[s] = p.pad_e[s] = 0;
            span = p.in[s];
        }
        int num = span - ek;
        p.out[s] = (ceil_mode ? (num + p.stride[s] - 1) / p.stride[s] : num / p.stride[s]) + 1;
        /* ONNX ceil mode: the last window must start inside the input or its left pad */
        if (ceil_mode && (p.out[s] - 1) * p.stride[s] >= p.in[s] + p.pad_b[s])
            p.out[s]--;
    }
    long xn = (long)p.NC * p.in[0] * p.in[1] * p.in[2], yn = (long)p.NC * p.out[0] * p.out[1] * p.out[2];
    float *x = rand_buf(&r, xn, -3, 1), *y = fbuf(yn, NAN);
    double *ref = dbuf(yn);
    long q = 0;
    for (int nc = 0; nc < p.NC; nc++)
        for (int o0 = 0; o0 < p.out[0]; o0++)
            for (int o1 = 0; o1 < p.out[1]; o1++)
                for (int o2 = 0; o2 < p.out[2]; o2++, q++) {
                    int o[3] = {o0, o1, o2};
                    double acc = 0, mx = -INFINITY;
                    int cnt = 0, cntp = 0;
                    for (int k0 = 0; k0 < p.k[0]; k0++)
                        for (int k1 = 0; k1 < p.k[1]; k1++)
                            for (int k2 = 0; k2 < p.k[2]; k2++) {
                                int kk[3] = {k0, k1, k2}, in_x = 1, in_p = 1, ii[3];
                                for (int s = 0; s < 3; s++) {
                                    ii[s] = o[s] * p.stride[s] - p.pad_b[s] + kk[s] * p.dil[s];
                                    in_x &= ii[s] >= 0 && ii[s] < p.in[s];
                                    in_p &= ii[s] >= -p.pad_b[s] && ii[s] < p.in[s] + p.pad_e[s];
                                }
                                cntp += in_p;
                                if (!in_x)
                                    continue;
                                cnt++;
                                double v = x[(((long)nc * p.in[0] + ii[0]) * p.in[1] + ii[1]) * p.in[2] + ii[2]];
                                acc += v;
                                mx = v > mx ? v : mx;
                            }
                    if (p.kind == KW_POOL_MAX)
                        ref[q] = cnt ? mx : 0.0; /* an empty window gives 0 (not specified by kw_rt.h) */
                    else {
                        int div = p.count_include_pad ? cntp : cnt;
                        ref[q] = div ? acc / div : 0.0;
                    }
                }
    kw_pool(&p, x, y);
    check_close(y, ref, yn, TOL,
                "kw_pool %s nsp %d NC %d in %dx%dx%d k %dx%dx%d s %d,%d,%d pad_b %d,%d,%d pad_e %d,%d,%d dil %d,%d,%d "
                "cip %d ceil %d",
                p.kind ? "avg" : "max", p.nsp, p.NC, p.in[0], p.in[1], p.in[2], p.k[0], p.k[1], p.k[2], p.stride[0],
                p.stride[1], p.stride[2], p.pad_b[0], p.pad_b[1], p.pad_b[2], p.pad_e[0], p.pad_e[1], p.pad_e[2],
                p.dil[0], p.dil[1], p.dil[2], p.count_include_pad, ceil_mode);
    free(x);
    free(y);
    free(ref);
}
END_TEST

START_TEST(pool_count_include_pad_exact)
{
    /* 1-D, in 4, k 3, stride 2, pad 1/1: windows [-1,1], [1,3]; with count_include_pad the
     * divisor is 3 for both, without it 2 and 3. A ceil-mode window past pad_e: in 5, k 2,
     * s 2, pad 0/0, out 3 -> the last window [4,5] has one tap in the input, divisor 1. */
    float x[5] = {1, 2, 3, 4, 5}, y[3];
    KwPoolP p = {KW_POOL_AVG, 1, 1, {1, 1, 4}, {1, 1, 2}, {1, 1, 3}, {1, 1, 2}, {0, 0, 1}, {0, 0, 1}, {1, 1, 1}, 1};
    kw_pool(&p, x, y);
    ck_assert_float_eq_tol(y[0], 3.0f / 3, 1e-6f);
    ck_assert_float_eq_tol(y[1], 9.0f / 3, 1e-6f);
    p.count_include_pad = 0;
    kw_pool(&p, x, y);
    ck_assert_float_eq_tol(y[0], 3.0f / 2, 1e-6f);
    ck_assert_float_eq_tol(y[1], 9.0f / 3, 1e-6f);
    KwPoolP c = {KW_POOL_AVG, 1, 1, {1, 1, 5}, {1, 1, 3}, {1, 1, 2}, {1, 1, 2}, {0, 0, 0}, {0, 0, 0}, {1, 1, 1}, 1};
    kw_pool(&c, x, y);
    ck_assert_float_eq_tol(y[0], 1.5f, 1e-6f);
    ck_assert_float_eq_tol(y[1], 3.5f, 1e-6f);
    ck_assert_float_eq_tol(y[2], 5.0f, 1e-6f);
    /* max pool of negative inputs under padding: the pad is not a zero */
    float xn[3] = {-5, -6, -7};
    KwPoolP m = {KW_POOL_MAX, 1, 1, {1, 1, 3}, {1, 1, 3}, {1, 1, 3}, {1, 1, 1}, {0, 0, 1}, {0, 0, 1}, {1, 1, 1}, 0};
    kw_pool(&m, xn, y);
    ck_assert(y[0] == -5 && y[1] == -5 && y[2] == -6);
}
END_TEST

/* ================================================================ kw_reduce */

/* merges adjacent index dims whose strides are contiguous (as lower.c does) */
static int merge(int r, int *dims, int *st)
{
    int out = 0;
    for (int i = 0; i < r; i++) {
        if (dims[i] == 1)
            continue;
        if (out > 0 && st[out - 1] == st[i] * dims[i]) {
            dims[out - 1] *= dims[i];
            st[out - 1] = st[i];
            continue;
        }
        dims[out] = dims[i];
        st[out++] = st[i];
    }
    if (out == 0) {
        dims[0] = 1;
        st[0] = 0;
        out = 1;
    }
    return out;
}

static const char *const red_names[] = {"SUM", "MEAN", "MAX", "MIN", "PROD", "SUMSQ", "L1"};

START_TEST(reduce_random)
{
    Rng r = rng_seed(7000 + (uint64_t)_i);
    int op = _i % 7, rank = rng_int(&r, 1, 6), dims[8], st[8], mask[8];
    long total = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = rng_int(&r, 1, 5);
        total *= dims[d];
        mask[d] = rng_int(&r, 0, 1);
    }
    dense_strides(rank, dims, st);
    KwReduceP p;
    memset(&p, 0, sizeof p);
    p.op = op;
    int od[8], os[8], rd[8], rs[8], no = 0, nr = 0;
    for (int d = 0; d < rank; d++)
        if (mask[d])
            rd[nr] = dims[d], rs[nr++] = st[d];
        else
            od[no] = dims[d], os[no++] = st[d];
    long ocount = 1, rcount = 1;
    for (int i = 0; i < no; i++)
        ocount *= od[i];
    for (int i = 0; i < nr; i++)
        rcount *= rd[i];
    int merged = rng_int(&r, 0, 1);
    if (merged || no == 0)
        no = merge(no, od, os);
    if (merged && nr > 0)
        nr = merge(nr, rd, rs);
    p.orank = no;
    p.rrank = nr;
    memcpy(p.odim, od, sizeof(int) * (size_t)no);
    memcpy(p.os, os, sizeof(int) * (size_t)no);
    memcpy(p.rdim, rd, sizeof(int) * (size_t)nr);
    memcpy(p.rs, rs, sizeof(int) * (size_t)nr);
    float *x = op == KW_RED_PROD ? rand_buf(&r, total, 0.8f, 1.25f) : rand_buf(&r, total, -2, 2);
    float *y = fbuf(ocount, NAN);
    double *ref = dbuf(ocount);
    /* reference straight from the contract: y (dense over odim) = op over rdim */
    int oi[8] = {0};
    for (long e = 0; e < ocount; e++) {
        long ob = 0;
        for (int i = 0; i < no; i++)
            ob += (long)oi[i] * p.os[i];
        double acc = op == KW_RED_PROD ? 1 : 0, mx = -INFINITY, mn = INFINITY;
        int ri[8] = {0};
        for (long t = 0; t < rcount; t++) {
            long off = ob;
            for (int i = 0; i < nr; i++)
                off += (long)ri[i] * p.rs[i];
            double v = x[off];
            switch (op) {
            case KW_RED_PROD: acc *= v; break;
            case KW_RED_SUMSQ: acc += v * v; break;
            case KW_RED_L1: acc += fabs(v); break;
            default: acc += v; break;
            }
            mx = v > mx ? v : mx;
            mn = v < mn ? v : mn;
            for (int i = nr - 1; i >= 0; i--) {
                if (++ri[i] < p.rdim[i])
                    break;
                ri[i] = 0;
            }
        }
        ref[e] = op == KW_RED_MAX ? mx : op == KW_RED_MIN ? mn : op == KW_RED_MEAN ? acc / (double)rcount : acc;
        for (int i = no - 1; i >= 0; i--) {
            if (++oi[i] < p.odim[i])
                break;
            oi[i] = 0;
        }
    }
    kw_reduce(&p, x, y);
    check_close(y, ref, ocount, TOL, "kw_reduce %s rank %d orank %d rrank %d merged %d", red_names[op], rank, no, nr,
                merged);
    free(x);
    free(y);
    free(ref);
}
END_TEST

START_TEST(reduce_edge)
{
    /* rrank 0: every op is the identity map of its element (SUMSQ/L1 still square/abs) */
    float x[6] = {1, -2, 3, -4, 5, -6}, y[6];
    KwReduceP p = {KW_RED_MEAN, 1, 0, {6}, {1}, {0}, {0}};
    kw_reduce(&p, x, y);
    for (int i = 0; i < 6; i++)
        ck_assert(y[i] == x[i]);
    p.op = KW_RED_L1;
    kw_reduce(&p, x, y);
    for (int i = 0; i < 6; i++)
        ck_assert(y[i] == fabsf(x[i]));
    /* an empty reduction (rdim 0): SUM 0, PROD 1 */
    KwReduceP e = {KW_RED_SUM, 1, 1, {2}, {0}, {0}, {1}};
    y[0] = y[1] = NAN;
    kw_reduce(&e, x, y);
    ck_assert(y[0] == 0 && y[1] == 0);
    e.op = KW_RED_PROD;
    kw_reduce(&e, x, y);
    ck_assert(y[0] == 1 && y[1] == 1);
    /* max/min propagate NaN wherever it sits */
    float xn[4] = {1, NAN, 3, 2};
    KwReduceP m = {KW_RED_MAX, 1, 1, {1}, {0}, {4}, {1}};
    kw_reduce(&m, xn, y);
    ck_assert(isnan(y[0]));
    m.op = KW_RED_MIN;
    kw_reduce(&m, xn, y);
    ck_assert(isnan(y[0]));
}
END_TEST

/* ================================================================ kw_copy */

START_TEST(copy_random)
{
    Rng r = rng_seed(8000 + (uint64_t)_i);
    static const int es_choice[] = {4, 4, 8, 2, 1};
    KwCopyP p;
    memset(&p, 0, sizeof p);
    p.esize = es_choice[_i % 5];
    p.rank = rng_int(&r, 1, 6);
    long cnt = 1;
    for (int d = 0; d < p.rank; d++) {
        p.dim[d] = rng_int(&r, 1, 4);
        cnt *= p.dim[d];
    }
    /* source: a bigger tensor viewed with a random permutation, steps (some negative) and an
     * offset; destination: a dense block at an offset inside a bigger buffer, in some dim order */
    int perm[8], sdims[8], sst[8], step[8];
    rand_perm(&r, p.rank, perm);
    for (int d = 0; d < p.rank; d++) {
        step[d] = rng_int(&r, 1, 2) * (rng_int(&r, 0, 2) == 0 ? -1 : 1);
        sdims[d] = p.dim[d] * abs(step[d]) + rng_int(&r, 0, 1);
    }
    perm_strides(p.rank, sdims, perm, sst);
    long sn = 1, soff = 0;
    for (int d = 0; d < p.rank; d++) {
        sn *= sdims[d];
        p.ss[d] = sst[d] * step[d];
        if (step[d] < 0)
            soff += (long)sst[d] * (sdims[d] - 1); /* start at the far end */
    }
    p.soff = (int)soff;
    int dperm[8];
    if (rng_int(&r, 0, 1))
        rand_perm(&r, p.rank, dperm);
    else
        for (int d = 0; d < p.rank; d++)
            dperm[d] = d;
    perm_strides(p.rank, p.dim, dperm, p.ds);
    p.doff = rng_int(&r, 0, 7);
    long dn = cnt + p.doff + rng_int(&r, 0, 5);
    unsigned char *src = malloc((size_t)(sn * p.esize)), *dst = malloc((size_t)(dn * p.esize)),
                  *exp = malloc((size_t)(dn * p.esize));
    for (long i = 0; i < sn * p.esize; i++)
        src[i] = (unsigned char)rng_u64(&r);
    memset(dst, 0xA5, (size_t)(dn * p.esize));
    memset(exp, 0xA5, (size_t)(dn * p.esize));
    int idx[8] = {0};
    for (long e = 0; e < cnt; e++) {
        long so = p.soff, dof = p.doff;
        for (int d = 0; d < p.rank; d++) {
            so += (long)idx[d] * p.ss[d];
            dof += (long)idx[d] * p.ds[d];
        }
        ck_assert(so >= 0 && so < sn && dof >= 0 && dof < dn);
        memcpy(exp + dof * p.esize, src + so * p.esize, (size_t)p.esize);
        for (int d = p.rank - 1; d >= 0; d--) {
            if (++idx[d] < p.dim[d])
                break;
            idx[d] = 0;
        }
    }
    kw_copy(&p, src, dst);
    for (long i = 0; i < dn * p.esize; i++)
        ck_assert_msg(dst[i] == exp[i], "kw_copy esize %d rank %d: byte %ld is %02x, expected %02x", p.esize, p.rank, i,
                      dst[i], exp[i]);
    free(src);
    free(dst);
    free(exp);
}
END_TEST

START_TEST(copy_reverse)
{
    /* a Slice with step -1 over a 2x5 tensor's last dim, then a Concat-style doff */
    float x[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, y[14];
    for (int i = 0; i < 14; i++)
        y[i] = -1;
    KwCopyP p = {4, 2, {2, 5}, {5, -1}, {7, 1}, 4, 2};
    kw_copy(&p, x, y);
    float want[14] = {-1, -1, 4, 3, 2, 1, 0, -1, -1, 9, 8, 7, 6, 5};
    for (int i = 0; i < 14; i++)
        ck_assert_msg(y[i] == want[i], "y[%d] = %g, expected %g", i, y[i], want[i]);
}
END_TEST

/* ================================================================ kw_gather */

START_TEST(gather_random)
{
    Rng r = rng_seed(9000 + (uint64_t)_i);
    KwGatherP p;
    p.esize = _i % 2 ? 8 : 4;
    p.outer = rng_int(&r, 1, 3);
    p.axis_n = rng_int(&r, 1, 6);
    p.inner = rng_int(&r, 1, 5);
    p.nidx = rng_int(&r, 1, 8);
    int idx[8];
    for (int i = 0; i < p.nidx; i++)
        idx[i] = rng_int(&r, 0, p.axis_n - 1);
    p.idx = idx;
    long xn = (long)p.outer * p.axis_n * p.inner * p.esize, yn = (long)p.outer * p.nidx * p.inner * p.esize;
    unsigned char *x = malloc((size_t)xn), *y = malloc((size_t)yn + 16);
    for (long i = 0; i < xn; i++)
        x[i] = (unsigned char)rng_u64(&r);
    memset(y, 0x5A, (size_t)yn + 16);
    kw_gather(&p, x, y);
    for (int o = 0; o < p.outer; o++)
        for (int t = 0; t < p.nidx; t++)
            for (long b = 0; b < (long)p.inner * p.esize; b++) {
                long yi = ((long)o * p.nidx + t) * p.inner * p.esize + b;
                long xi = ((long)o * p.axis_n + idx[t]) * p.inner * p.esize + b;
                ck_assert_msg(y[yi] == x[xi], "kw_gather o %d t %d byte %ld", o, t, b);
            }
    for (int i = 0; i < 16; i++)
        ck_assert_msg(y[yn + i] == 0x5A, "kw_gather wrote past the output");
    free(x);
    free(y);
}
END_TEST

/* ================================================================ kw_softmax */

START_TEST(softmax_random)
{
    Rng r = rng_seed(10000 + (uint64_t)_i);
    KwSoftmaxP p = {rng_int(&r, 1, 3), rng_int(&r, 1, 12), rng_int(&r, 1, 4)};
    long n = (long)p.outer * p.n * p.inner;
    float span = _i % 4 == 3 ? 2000.0f : 10.0f; /* large logits must not overflow */
    float *x = rand_buf(&r, n, -span, span), *y = fbuf(n, NAN);
    if (_i % 4 == 3)
        for (long i = 0; i < n; i++)
            x[i] += 1e4f;
    double *ref = dbuf(n);
    for (int o = 0; o < p.outer; o++)
        for (int i = 0; i < p.inner; i++) {
            double mx = -INFINITY, sum = 0;
            for (int j = 0; j < p.n; j++)
                mx = fmax(mx, x[((long)o * p.n + j) * p.inner + i]);
            for (int j = 0; j < p.n; j++)
                sum += exp(x[((long)o * p.n + j) * p.inner + i] - mx);
            for (int j = 0; j < p.n; j++)
                ref[((long)o * p.n + j) * p.inner + i] = exp(x[((long)o * p.n + j) * p.inner + i] - mx) / sum;
        }
    kw_softmax(&p, x, y);
    check_close(y, ref, n, TOL, "kw_softmax outer %d n %d inner %d", p.outer, p.n, p.inner);
    free(x);
    free(y);
    free(ref);
}
END_TEST

/* ================================================================ kw_layernorm */

START_TEST(layernorm_random)
{
    Rng r = rng_seed(11000 + (uint64_t)_i);
    KwLayerNormP p = {rng_int(&r, 1, 4), rng_int(&r, 1, 40), _i % 2 ? rng_int(&r, 2, 6) : 1,
                      _i % 3 ? 1e-5f : 0.1f};
    long n = (long)p.outer * p.n * p.inner;
    float shift = rng_float(&r, -5, 5);
    float *x = rand_buf(&r, n, -2, 2), *sc = rand_buf(&r, p.n, 0.5f, 2),
          *bi = rng_int(&r, 0, 1) ? rand_buf(&r, p.n, -1, 1) : NULL, *y = fbuf(n, NAN);
    for (long i = 0; i < n; i++)
        x[i] += shift;
    double *ref = dbuf(n);
    for (int o = 0; o < p.outer; o++)
        for (int i = 0; i < p.inner; i++) {
            double mean = 0, var = 0;
            for (int j = 0; j < p.n; j++)
                mean += x[((long)o * p.n + j) * p.inner + i];
            mean /= p.n;
            for (int j = 0; j < p.n; j++) {
                double d = x[((long)o * p.n + j) * p.inner + i] - mean;
                var += d * d;
            }
            var /= p.n;
            for (int j = 0; j < p.n; j++) {
                long e = ((long)o * p.n + j) * p.inner + i;
                ref[e] = (x[e] - mean) / sqrt(var + (double)p.eps) * sc[j] + (bi ? bi[j] : 0.0);
            }
        }
    kw_layernorm(&p, x, sc, bi, y);
    check_close(y, ref, n, TOL, "kw_layernorm outer %d n %d inner %d eps %g bias %d", p.outer, p.n, p.inner, p.eps,
                bi != NULL);
    free(x);
    free(sc);
    free(bi);
    free(y);
    free(ref);
}
END_TEST

/* ================================================================ kw_attention */

/* One KernelWarehouse attention as the official module computes it (KW_SEMANTICS.md §2,
 * steps 1-6), in double, from the unfolded parameters; then folded as kw_rt.h documents
 * (BatchNorm and the pool's 1/HW into w1/b1, the temperature blend as tscale and tb) and run
 * through kw_attention. */
typedef struct AttnCase {
    KwAttnP p;
    int has_b1;
    float T;
} AttnCase;

static void attention_case(Rng *r, const AttnCase *ac, const char *what)
{
    const KwAttnP *pp = &ac->p;
    KwAttnP p = *pp;
    int C = p.C, HW = p.HW, H = p.hidden, m = p.m, n = p.n, P = n + 1, L = p.L, B = p.B, NL = n - L;
    int R = L + B + 1;
    float *x = rand_buf(r, (long)C * HW, -1, 2);
    float *W1 = rand_buf(r, (long)H * C, -1, 1);
    float *b1o = rand_buf(r, H, -0.3f, 0.3f);
    float *gam = rand_buf(r, H, 0.5f, 1.5f), *bet = rand_buf(r, H, -0.5f, 0.5f), *mu = rand_buf(r, H, -0.5f, 0.5f),
          *var = rand_buf(r, H, 0.2f, 2.0f);
    long w2rows = p.basis ? (long)m * R : (long)m * P;
    float *W2 = rand_buf(r, w2rows * H, -1, 1), *b2 = rand_buf(r, (long)m * P, -0.5f, 0.5f);
    float *W3 = p.basis ? rand_buf(r, (long)NL * B, -1, 1) : NULL;
    float *temp_bias = fbuf((long)m * P, 0);
    for (int j = 0; j < m; j++)
        temp_bias[j * P + rng_int(r, 0, n)] = 1; /* one 1 per mixture, possibly on the zero plane */

    /* ---- reference, double, unfolded ---- */
    double *s = dbuf(C), *h = dbuf(H), *z = dbuf((long)m * P), *ref = dbuf((long)m * n);
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < HW; i++)
            s[c] += x[(long)c * HW + i];
        s[c] /= HW; /* step 1: mean pool */
    }
    for (int i = 0; i < H; i++) {
        double u = 0;
        for (int c = 0; c < C; c++)
            u += (double)W1[(long)i * C + c] * s[c];
        if (p.ln)
            u += ac->has_b1 ? b1o[i] : 0.0;
        else
            u = (u - mu[i]) / sqrt((double)var[i] + 1e-5) * gam[i] + bet[i]; /* BatchNorm1d, eval */
        h[i] = u;
    }
    if (p.ln) { /* LayerNorm over the hidden dim; gam/bet double as its affine */
        double mean = 0, v = 0;
        for (int i = 0; i < H; i++)
            mean += h[i];
        mean /= H;
        for (int i = 0; i < H; i++)
            v += (h[i] - mean) * (h[i] - mean);
        v /= H;
        for (int i = 0; i < H; i++)
            h[i] = (h[i] - mean) / sqrt(v + (double)p.ln_eps) * gam[i] + bet[i];
    }
    for (int i = 0; i < H; i++)
        h[i] = h[i] > 0 ? h[i] : 0;
    if (!p.basis) {
        for (int q = 0; q < m * P; q++) {
            double acc = b2[q];
            for (int i = 0; i < H; i++)
                acc += (double)W2[(long)q * H + i] * h[i];
            z[q] = acc;
        }
    } else {
        double *yrow = dbuf(R), *nl = dbuf(NL > 0 ? NL : 1);
        for (int j = 0; j < m; j++) {
            for (int t = 0; t < R; t++) {
                double acc = 0;
                for (int i = 0; i < H; i++)
                    acc += (double)W2[((long)j * R + t) * H + i] * h[i];
                yrow[t] = acc;
            }
            for (int c = 0; c < NL; c++) { /* nl' = nl W3^T */
                double acc = 0;
                for (int b = 0; b < B; b++)
                    acc += (double)W3[(long)c * B + b] * yrow[L + b];
                nl[c] = acc;
            }
            /* [ nl'[0:start], loc[0:L], nl'[start:NL], zero ] + basis_bias */
            int q = 0;
            for (int c = 0; c < p.start; c++)
                z[j * P + q++] = nl[c];
            for (int c = 0; c < L; c++)
                z[j * P + q++] = yrow[c];
            for (int c = p.start; c < NL; c++)
                z[j * P + q++] = nl[c];
            z[j * P + q++] = yrow[L + B];
            ck_assert_int_eq(q, P);
            for (int c = 0; c < P; c++)
                z[j * P + c] += b2[j * P + c];
        }
        free(yrow);
        free(nl);
    }
    for (int j = 0; j < m; j++) {
        double den = 1e-3;
        for (int c = 0; c < P; c++)
            den += fabs(z[j * P + c]);
        for (int c = 0; c < n; c++) { /* steps 4-6: L1 norm, temperature blend, drop the zero plane */
            double a = z[j * P + c] / den;
            ref[j * n + c] = (1 - (double)ac->T) * a + (double)ac->T * temp_bias[j * P + c];
        }
    }

    /* ---- folded, as kwcc hands them to kw_attention ---- */
    float *w1 = fbuf((long)H * C, 0), *b1 = fbuf(H, 0), *lg = NULL, *lb = NULL;
    for (int i = 0; i < H; i++) {
        double sc = p.ln ? 1.0 : (double)gam[i] / sqrt((double)var[i] + 1e-5);
        for (int c = 0; c < C; c++)
            w1[(long)i * C + c] = (float)((double)W1[(long)i * C + c] * sc / HW);
        b1[i] = p.ln ? b1o[i] : (float)((double)bet[i] - (double)mu[i] * sc);
    }
    if (p.ln)
        lg = gam, lb = bet;
    float *tb = fbuf((long)m * n, 0);
    for (int j = 0; j < m; j++)
        for (int c = 0; c < n; c++)
            tb[j * n + c] = ac->T * temp_bias[j * P + c];
    p.eps = 1e-3f;
    p.tscale = 1 - ac->T;
    long sfl = H + (long)m * P + (p.basis ? (long)m * R : 0);
    float *scratch = fbuf(sfl + 8, NAN), *A = fbuf((long)m * n + 4, NAN);
    for (int i = 0; i < 8; i++)
        scratch[sfl + i] = 12345.0f;
    A[m * n] = 777.0f;
    kw_attention(&p, x, w1, (p.ln && !ac->has_b1) ? NULL : b1, lg, lb, W2, b2, W3, tb, scratch, A);
    check_close(A, ref, (long)m * n, TOL,
                "%s: kw_attention C %d HW %d hidden %d m %d n %d ln %d basis %d L %d B %d start %d T %g", what, C, HW, H,
                m, n, p.ln, p.basis, L, B, p.start, ac->T);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(scratch[sfl + i] == 12345.0f, "%s: kw_attention wrote past its documented scratch", what);
    ck_assert_msg(A[m * n] == 777.0f, "%s: kw_attention wrote past A", what);
    free(x), free(W1), free(b1o), free(gam), free(bet), free(mu), free(var), free(W2), free(b2), free(W3);
    free(temp_bias), free(s), free(h), free(z), free(ref), free(w1), free(b1), free(tb), free(scratch), free(A);
}

START_TEST(attention_random)
{
    Rng r = rng_seed(12000 + (uint64_t)_i);
    AttnCase ac;
    memset(&ac, 0, sizeof ac);
    KwAttnP *p = &ac.p;
    p->C = rng_int(&r, 1, 12);
    p->HW = rng_int(&r, 1, 25);
    p->hidden = rng_int(&r, 2, 20);
    p->m = rng_int(&r, 1, 6);
    p->n = rng_int(&r, 1, 9);
    p->ln = _i % 2;
    p->ln_eps = 1e-5f;
    ac.has_b1 = p->ln ? rng_int(&r, 0, 1) : 1;
    p->basis = (_i / 2) % 2;
    if (p->basis) {
        p->L = rng_int(&r, 0, p->n - 1 > 0 ? p->n - 1 : 0);
        if (p->L > p->n)
            p->L = p->n;
        p->B = rng_int(&r, 1, 5);
        int NL = p->n - p->L, which = (_i / 4) % 3; /* basis split at the start, middle, end */
        p->start = which == 0 ? 0 : which == 2 ? NL : rng_int(&r, 0, NL);
    }
    ac.T = (_i / 12) % 2 ? rng_float(&r, 0.1f, 0.9f) : 0.0f;
    attention_case(&r, &ac, "random");
}
END_TEST

START_TEST(attention_basis_positions)
{
    /* the non-local basis concat with the layer's local cells first, in the middle and last,
     * and a layer owning every cell (NL = 0: no basis logits at all) */
    Rng r = rng_seed(99);
    int starts[] = {0, 2, 5};
    for (int k = 0; k < 3; k++) {
        AttnCase ac;
        memset(&ac, 0, sizeof ac);
        ac.p = (KwAttnP){.C = 8, .HW = 9, .hidden = 16, .m = 3, .n = 8, .basis = 1, .L = 3, .B = 4,
                         .start = starts[k]};
        ac.has_b1 = 1;
        ac.T = k == 1 ? 0.3f : 0.0f;
        attention_case(&r, &ac, starts[k] == 0 ? "start" : starts[k] == 5 ? "end" : "middle");
    }
    AttnCase all;
    memset(&all, 0, sizeof all);
    all.p = (KwAttnP){.C = 4, .HW = 4, .hidden = 16, .m = 2, .n = 3, .basis = 1, .L = 3, .B = 2, .start = 0};
    all.has_b1 = 1;
    attention_case(&r, &all, "NL = 0");
}
END_TEST

/* ================================================================ kw_assemble */

START_TEST(assemble_contract_random)
{
    /* kw_rt.h's formula with arbitrary (non-colliding) destination strides and a randomly
     * permuted cell layout in E */
    Rng r = rng_seed(13000 + (uint64_t)_i);
    KwAsmP p;
    memset(&p, 0, sizeof p);
    p.m = rng_int(&r, 1, 5);
    p.n = rng_int(&r, 1, 6);
    p.nl = rng_int(&r, 1, 5);
    int S = 1;
    for (int l = 0; l < p.nl; l++) {
        p.cnt[l] = rng_int(&r, 1, 4);
        S *= p.cnt[l];
    }
    p.S = S + rng_int(&r, 0, 3); /* E rows may be padded */
    int perm[6], sst[5];
    rand_perm(&r, p.nl, perm);
    perm_strides(p.nl, p.cnt, perm, sst);
    memcpy(p.ss, sst, sizeof sst);
    /* W: dense over (j, cell dims) in a random dim order, then an extra offset */
    int wd[6], wperm[6], wst[6];
    wd[0] = p.m;
    for (int l = 0; l < p.nl; l++)
        wd[1 + l] = p.cnt[l];
    rand_perm(&r, p.nl + 1, wperm);
    perm_strides(p.nl + 1, wd, wperm, wst);
    int woff = rng_int(&r, 0, 3), base[8];
    for (int j = 0; j < p.m; j++)
        base[j] = woff + j * wst[0];
    for (int l = 0; l < p.nl; l++)
        p.ds[l] = wst[1 + l];
    p.base = base;
    long wn = (long)p.m * S + woff + 4;
    float *A = rand_buf(&r, (long)p.m * p.n, -1, 1), *E = rand_buf(&r, (long)p.n * p.S, -1, 1), *W = fbuf(wn, 999.0f);
    double *ref = dbuf(wn);
    for (long i = 0; i < wn; i++)
        ref[i] = 999.0;
    int idx[5] = {0};
    for (int t = 0; t < S; t++) {
        long d = 0, s = 0;
        for (int l = 0; l < p.nl; l++)
            d += (long)idx[l] * p.ds[l], s += (long)idx[l] * p.ss[l];
        for (int j = 0; j < p.m; j++) {
            double acc = 0;
            for (int c = 0; c < p.n; c++)
                acc += (double)A[j * p.n + c] * E[(long)c * p.S + s];
            ref[base[j] + d] = acc;
        }
        for (int l = p.nl - 1; l >= 0; l--) {
            if (++idx[l] < p.cnt[l])
                break;
            idx[l] = 0;
        }
    }
    kw_assemble(&p, A, E, W);
    /* written elements against the formula (compacted, so the sentinel does not set the
     * scale), the rest untouched */
    float *wy = fbuf(wn, 0);
    double *wr = dbuf(wn);
    long nw = 0;
    for (long i = 0; i < wn; i++) {
        if (ref[i] == 999.0)
            ck_assert_msg(W[i] == 999.0f, "kw_assemble wrote W[%ld] outside the loop nest", i);
        else
            wy[nw] = W[i], wr[nw++] = ref[i];
    }
    ck_assert_int_eq(nw, (long)p.m * S);
    check_close(wy, wr, nw, TOL, "kw_assemble m %d n %d nl %d S %d", p.m, p.n, p.nl, p.S);
    free(wy);
    free(wr);
    free(A);
    free(E);
    free(W);
    free(ref);
}
END_TEST

/* A KernelWarehouse layer's dense kernel, KW_SEMANTICS.md §3 steps 3-6, against kw_assemble
 * driven the way kwcc lowers it: E laid out per cell as [co][ck...][ci], W as [O][k...][C/g]
 * (the layout kw_conv then reads with wso = |k| C/g, wsi = 1, wsk = C/g * inner k). */
static void assemble_kw_case(Rng *r, int nsp, const int *kd, int O, int Cg, int co, int ci, int spatial, int n)
{
    int k[3] = {1, 1, 1}, ck[3] = {1, 1, 1};
    for (int s = 0; s < nsp; s++) {
        k[3 - nsp + s] = kd[s];
        ck[3 - nsp + s] = spatial ? 1 : kd[s];
    }
    int ksz = k[0] * k[1] * k[2], cksz = ck[0] * ck[1] * ck[2];
    int Go = O / co, Gi = Cg / ci, Gs = ksz / cksz, m = Gs * Go * Gi, S = co * ci * cksz;
    float *A = rand_buf(r, (long)m * n, -1, 1);
    float *Eo = rand_buf(r, (long)n * S, -1, 1); /* official order [n][co][ci][ck...] */
    /* physical warehouse order, [n][co][ck...][ci] */
    float *E = fbuf((long)n * S, 0);
    for (int c = 0; c < n; c++)
        for (int a = 0; a < co; a++)
            for (int b = 0; b < ci; b++)
                for (int t = 0; t < cksz; t++)
                    E[(long)c * S + ((long)a * cksz + t) * ci + b] = Eo[(long)c * S + ((long)a * ci + b) * cksz + t];
    /* reference: Agg = A E2 -> [Gs,Go,Gi,co,ci,ck] -> permute (Go,co,Gi,ci,Gs,ck) -> [O, Cg, k] */
    long wn = (long)O * Cg * ksz;
    double *ref = dbuf(wn);
    for (int s = 0; s < Gs; s++)
        for (int o = 0; o < Go; o++)
            for (int i = 0; i < Gi; i++) {
                int j = (s * Go + o) * Gi + i;
                for (int a = 0; a < co; a++)
                    for (int b = 0; b < ci; b++)
                        for (int t = 0; t < cksz; t++) {
                            double acc = 0;
                            for (int c = 0; c < n; c++)
                                acc += (double)A[(long)j * n + c] * Eo[(long)c * S + ((long)a * ci + b) * cksz + t];
                            int oo = o * co + a, cc = i * ci + b, kf = s * cksz + t; /* kernel pos, row-major */
                            ref[((long)oo * ksz + kf) * Cg + cc] = acc; /* stored [O][k...][Cg] */
                        }
            }
    /* kw_assemble parameters, as lower.c's lower_kwconv builds them */
    int wso = ksz * Cg, wsk[3];
    wsk[2] = Cg;
    wsk[1] = Cg * k[2];
    wsk[0] = Cg * k[2] * k[1];
    KwAsmP p;
    memset(&p, 0, sizeof p);
    p.m = m;
    p.n = n;
    p.S = S;
    int nl = 0;
    p.cnt[nl] = co, p.ds[nl++] = wso;
    for (int s = 0; s < 3; s++)
        if (ck[s] > 1)
            p.cnt[nl] = ck[s], p.ds[nl++] = wsk[s];
    p.cnt[nl] = ci, p.ds[nl++] = 1;
    p.nl = nl;
    int acc = 1;
    for (int l = nl - 1; l >= 0; l--) {
        p.ss[l] = acc;
        acc *= p.cnt[l];
    }
    int *base = malloc(sizeof(int) * (size_t)m);
    for (int j = 0; j < m; j++) {
        int i = j % Gi, o = (j / Gi) % Go, s = j / (Gi * Go);
        long b = (long)o * co * wso + (long)i * ci;
        for (int d = 2; d >= 0; d--) {
            int per = k[d] / ck[d];
            b += (long)(s % per) * ck[d] * wsk[d];
            s /= per;
        }
        base[j] = (int)b;
    }
    p.base = base;
    float *W = fbuf(wn, NAN);
    kw_assemble(&p, A, E, W);
    check_close(W, ref, wn, TOL, "kw_assemble KW layer nsp %d k %dx%dx%d O %d Cg %d cell %dx%d spatial %d n %d m %d",
                nsp, k[0], k[1], k[2], O, Cg, co, ci, spatial, n, m);
    free(A);
    free(Eo);
    free(E);
    free(ref);
    free(base);
    free(W);
}

START_TEST(assemble_kw_layers)
{
    Rng r = rng_seed(14000 + (uint64_t)_i);
    int nsp = 1 + _i % 3, kd[3];
    for (int s = 0; s < nsp; s++)
        kd[s] = rng_int(&r, 1, 3);
    int co = rng_int(&r, 1, 3), ci = rng_int(&r, 1, 3);
    int O = co * rng_int(&r, 1, 3), Cg = ci * rng_int(&r, 1, 3);
    assemble_kw_case(&r, nsp, kd, O, Cg, co, ci, (_i / 3) % 2 == 0, rng_int(&r, 1, 6));
}
END_TEST

START_TEST(assemble_kw_doc_example)
{
    /* the shapes of KW_SEMANTICS.md §4 scaled down: 3x3 conv, one cell per kernel position,
     * and a 3x3 cell without spatial partition, and a 1x1 conv with a 2x2 cell grid */
    Rng r = rng_seed(5);
    int k33[2] = {3, 3}, k11[2] = {1, 1};
    assemble_kw_case(&r, 2, k33, 8, 8, 8, 8, 1, 7);
    assemble_kw_case(&r, 2, k33, 8, 4, 4, 2, 0, 5);
    assemble_kw_case(&r, 2, k11, 8, 6, 4, 3, 1, 4);
}
END_TEST

/* ================================================================ suite */

static Suite *runtime_suite(void)
{
    Suite *s = suite_create("runtime");
    struct {
        const char *name;
        const TTest *fn;
        int n;
    } loops[] = {
        {"unary", unary_random, 120},     {"binary", binary_random, 140},   {"affine", affine_random, 20},
        {"conv", conv_random, 300},       {"gemm", gemm_random, 200},       {"pool", pool_random, 240},
        {"reduce", reduce_random, 140},   {"copy", copy_random, 150},       {"gather", gather_random, 30},
        {"softmax", softmax_random, 40},  {"layernorm", layernorm_random, 40},
        {"attention", attention_random, 96}, {"assemble", assemble_contract_random, 80},
        {"assemble_kw", assemble_kw_layers, 60},
    };
    for (size_t i = 0; i < sizeof loops / sizeof loops[0]; i++) {
        TCase *tc = tcase_create(loops[i].name);
        tcase_add_loop_test(tc, loops[i].fn, 0, loops[i].n);
        suite_add_tcase(s, tc);
    }
    TCase *tc = tcase_create("fixed");
    tcase_add_test(tc, unary_exact_ops);
    tcase_add_test(tc, binary_in_place);
    tcase_add_test(tc, binary_max_min_nan);
    tcase_add_test(tc, pool_count_include_pad_exact);
    tcase_add_test(tc, reduce_edge);
    tcase_add_test(tc, copy_reverse);
    tcase_add_test(tc, attention_basis_positions);
    tcase_add_test(tc, assemble_kw_doc_example);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(runtime_suite()); }
