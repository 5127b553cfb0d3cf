/* unit_util.h -- helpers shared by kwcc's Check unit tests: a seeded RNG, float buffers and
 * the tolerance rule of the fixtures (max|y - ref| <= tol * max(max|ref|, tiny)). */
#ifndef KW_UNIT_UTIL_H
#define KW_UNIT_UTIL_H

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- splitmix64: small, seedable, identical on every platform ---- */
typedef struct Rng {
    uint64_t s;
} Rng;

static inline Rng rng_seed(uint64_t seed)
{
    Rng r = {seed * 0x9E3779B97F4A7C15ull + 0x1234567ull};
    return r;
}

static inline uint64_t rng_u64(Rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* integer in [lo, hi] */
static inline int rng_int(Rng *r, int lo, int hi) { return lo + (int)(rng_u64(r) % (uint64_t)(hi - lo + 1)); }

/* float in [lo, hi) */
static inline float rng_float(Rng *r, float lo, float hi)
{
    double u = (double)(rng_u64(r) >> 11) / 9007199254740992.0;
    return (float)(lo + (hi - lo) * u);
}

static inline float *rand_buf(Rng *r, long n, float lo, float hi)
{
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    ck_assert_ptr_nonnull(p);
    for (long i = 0; i < n; i++)
        p[i] = rng_float(r, lo, hi);
    return p;
}

static inline double *dbuf(long n)
{
    double *p = calloc((size_t)(n > 0 ? n : 1), sizeof(double));
    ck_assert_ptr_nonnull(p);
    return p;
}

static inline float *fbuf(long n, float fill)
{
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    ck_assert_ptr_nonnull(p);
    for (long i = 0; i < n; i++)
        p[i] = fill;
    return p;
}

/* The fixtures' rule: every element within tol of the reference, scaled by the largest
 * reference magnitude. Reports the first offending element. */
#define check_close(y, ref, n, tol, ...) check_close_((y), (ref), (n), (tol), __FILE__, __LINE__, __VA_ARGS__)
static inline void check_close_(const float *y, const double *ref, long n, double tol, const char *file, int line,
                                const char *fmt, ...) __attribute__((format(printf, 7, 8)));
static inline void check_close_(const float *y, const double *ref, long n, double tol, const char *file, int line,
                                const char *fmt, ...)
{
    double mx = 1e-30, worst = 0;
    long wi = -1;
    for (long i = 0; i < n; i++)
        if (fabs(ref[i]) > mx)
            mx = fabs(ref[i]);
    for (long i = 0; i < n; i++) {
        double e = fabs((double)y[i] - ref[i]);
        if (!(e <= worst) || isnan(y[i]) != isnan(ref[i])) { /* NaN-aware */
            if (!(isnan(y[i]) && isnan(ref[i]))) {
                worst = isnan(e) ? INFINITY : e;
                wi = i;
            }
        }
    }
    if (wi >= 0 && !(worst <= tol * mx)) {
        char what[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        ck_abort_msg("%s:%d: %s: element %ld is %.9g, reference %.9g (error %.3g > %.3g = tol %.1g * max|ref| %.3g)",
                     file, line, what, wi, (double)y[wi], ref[wi], worst, tol * mx, tol, mx);
    }
}

/* A test documenting a bug found in kwcc: its own test case "bug_<name>", tagged known_bug.
 * tests/CMakeLists.txt finds these lines in the source and registers each as a CTest entry
 * unit/known_bug/<file>/<name> that is expected to fail (WILL_FAIL) while the bug exists;
 * the regular entry unit/<file> excludes the tag. When the bug is fixed, that entry turns
 * red: move the test into a regular test case. */
/* A regression test of a bug that was found and fixed: an ordinary test case. */
#define KW_REGRESSION(suite, name) add_regression_((suite), #name, name)
static inline void add_regression_(Suite *s, const char *name, const TTest *t)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 60);
    _tcase_add_test(tc, t, 0, 0, 0, 1);
    suite_add_tcase(s, tc);
}
#define KW_KNOWN_BUG(suite, name) add_known_bug_((suite), #name, name)
static inline void add_known_bug_(Suite *s, const char *name, const TTest *t)
{
    TCase *tc = tcase_create(name);
    tcase_set_tags(tc, "known_bug");
    _tcase_add_test(tc, t, 0, 0, 0, 1);
    suite_add_tcase(s, tc);
}

/* A Check runner over one suite, the exit status ctest wants. */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
