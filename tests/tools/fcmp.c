/* fcmp -- compare two raw little-endian float32 files.
 *
 *   fcmp OUT.bin REF.bin TOL
 *
 * Passes (exit 0) iff both hold the same number of floats and
 * max|out - ref| <= TOL * max(max|ref|, 1e-30); prints the figures either way. NaN in either
 * file fails unless both hold NaN at the same place. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float *load(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fcmp: cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (bytes < 0 || bytes % 4) {
        fprintf(stderr, "fcmp: %s: size %ld is not a whole number of floats\n", path, bytes);
        fclose(f);
        return NULL;
    }
    float *p = malloc((size_t)bytes + 4);
    if (!p || fread(p, 1, (size_t)bytes, f) != (size_t)bytes) {
        fprintf(stderr, "fcmp: cannot read %s\n", path);
        fclose(f);
        free(p);
        return NULL;
    }
    fclose(f);
    *n = bytes / 4;
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fcmp OUT.bin REF.bin TOL\n");
        return 2;
    }
    long n, m;
    float *y = load(argv[1], &n), *r = load(argv[2], &m);
    if (!y || !r)
        return 2;
    if (n != m) {
        printf("FAIL %s: %ld floats, reference has %ld\n", argv[1], n, m);
        return 1;
    }
    double tol = atof(argv[3]), maxref = 0, maxerr = 0;
    long at = -1, nan_bad = 0;
    for (long i = 0; i < n; i++) {
        if (isnan(r[i]) || isnan(y[i])) {
            nan_bad += !(isnan(r[i]) && isnan(y[i]));
            continue;
        }
        double e = fabs((double)y[i] - (double)r[i]);
        if (fabs(r[i]) > maxref)
            maxref = fabs(r[i]);
        if (e > maxerr) {
            maxerr = e;
            at = i;
        }
    }
    double bound = tol * (maxref > 1e-30 ? maxref : 1e-30);
    int ok = maxerr <= bound && !nan_bad;
    printf("%s %s: %ld floats, max|err| %.3g at %ld (rel %.3g), max|ref| %.3g, tol %.3g%s\n", ok ? "ok" : "FAIL",
           argv[1], n, maxerr, at, maxref > 0 ? maxerr / maxref : maxerr, maxref, tol,
           nan_bad ? ", NaN mismatch" : "");
    free(y);
    free(r);
    return ok ? 0 : 1;
}
