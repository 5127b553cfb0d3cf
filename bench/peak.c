/* peak.c -- this machine's single-core FMA peak, the yardstick bench/ prints beside results.
 * Many independent FMA chains (no memory traffic); prints GFLOP/s for AVX-512 (if the CPU has
 * it) and AVX2/FMA. Built by bench/bench.py with -O2 -march=native. */
#define _POSIX_C_SOURCE 200809L
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#define REPS 5
int main(void)
{
    long it = 40000000;
    float sink = 0;
#ifdef __AVX512F__
    double best = 0;
    for (int r = 0; r < REPS; r++) {
        __m512 a[24], b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-4f);
        for (int i = 0; i < 24; i++)
            a[i] = _mm512_set1_ps((float)i * 1e-3f);
        double t0 = now();
        for (long k = 0; k < it / 24; k++)
#pragma GCC unroll 24
            for (int i = 0; i < 24; i++)
                a[i] = _mm512_fmadd_ps(a[i], b, c);
        double t = now() - t0, g = (double)(it / 24) * 24 * 32 / t / 1e9;
        for (int i = 0; i < 24; i++)
            sink += _mm512_reduce_add_ps(a[i]);
        if (g > best)
            best = g;
    }
    printf("avx512 %.1f\n", best);
#endif
    double best2 = 0;
    for (int r = 0; r < REPS; r++) {
        __m256 a[12], b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-4f);
        for (int i = 0; i < 12; i++)
            a[i] = _mm256_set1_ps((float)i * 1e-3f);
        double t0 = now();
        for (long k = 0; k < it / 12; k++)
#pragma GCC unroll 12
            for (int i = 0; i < 12; i++)
                a[i] = _mm256_fmadd_ps(a[i], b, c);
        double t = now() - t0, g = (double)(it / 12) * 12 * 16 / t / 1e9;
        float tmp[8];
        for (int i = 0; i < 12; i++) {
            _mm256_storeu_ps(tmp, a[i]);
            sink += tmp[0];
        }
        if (g > best2)
            best2 = g;
    }
    printf("avx2 %.1f\n", best2);
    fprintf(stderr, "(%g)\n", sink);
    return 0;
}
