/* main.c -- the kwcc command line.
 *
 *   kwcc MODEL.onnx -o OUT.c [--name PREFIX] [--header OUT.h] [-v] [--no-kw-fusion]
 *   kwcc run MODEL.onnx ...   (the libtcc JIT preview: run_main below, codegen/jit.h)
 *
 * Output files are written to a temporary name next to the target and renamed into place
 * only when the whole compile succeeded, so a failed compile never leaves half a file. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jit.h"
#include "kwcc.h"
#include "llvm.h"

static const char usage[] =
    "usage: kwcc MODEL.onnx -o OUT.c [options]\n"
    "       kwcc inspect MODEL.onnx [--json] [--no-kw-fusion] [--target T] [--max-ram BYTES]\n"
    "       kwcc run MODEL.onnx [--input IN.bin | --random SEED] [--output OUT.bin] [--repeat N]\n"
    "                [--compare REF.bin] [--tol T] [--jit tcc|llvm]   (see kwcc run --help)\n"
    "\n"
    "Compiles an ONNX model into one standalone C99 file (OUT.c) and its header.\n"
    "`kwcc inspect` prints, per layer, the KernelWarehouse geometry, parameters stored versus\n"
    "dense, MACs (conv, kernel assembly, attention) and workspace, then model totals.\n"
    "`kwcc run` compiles the model in memory with libtcc and runs it (a JIT preview).\n"
    "\n"
    "options:\n"
    "  -o OUT.c            the C file to write (required)\n"
    "  --name PREFIX       prefix of the generated symbols (default: from the model file name)\n"
    "  --header OUT.h      where to write the header (default: OUT.c with .h)\n"
    "  --target-triple T   write an object file (-o OUT.o, and OUT.h) compiled by clang -O3 for the\n"
    "                      triple T: x86_64-linux-gnu, aarch64-linux-gnu, thumbv7em-none-eabihf, ...\n"
    "                      (needs kwcc built with LLVM; extra clang flags from $KWCC_CLANG_FLAGS)\n"
    "  --no-kw-fusion      keep exported KernelWarehouse subgraphs on the generic path\n"
    "  --target T          generic (portable C99, the reference), avx2, avx512 or neon;\n"
    "                      default: the best this machine supports\n"
    "  --max-ram BYTES     the workspace must fit in BYTES (suffix K or M: KiB, MiB): kwcc tiles\n"
    "                      KernelWarehouse assembly and convs (and on vector targets falls back to\n"
    "                      the portable kernels) until it does, or fails saying the smallest it\n"
    "                      reaches; 'min' asks for that smallest plan. Default: the fastest plan\n"
    "  --weights-file F    the weights apart from the model code: F.c (C defining PREFIX_weights) or\n"
    "                      F.bin (the raw blob; the application provides the symbol PREFIX_weights)\n"
    "  --weights-section S put the weight blob in linker section S (GNU C attribute)\n"
    "  -v                  report passes, fusion decisions and sizes on stderr\n"
    "  -d LETTERS          print the IR after the passes named by LETTERS (O I D K F E L M)\n"
    "  --help, --version\n"
    "\n"
    "exit status: 0 success, 2 bad input or arguments, 1 internal error\n";

/* Writes text to a temporary file next to path: its name (malloc'd), or NULL after a message. */
static char *write_tmp(const char *path, const char *text, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    if (!tmp) {
        fprintf(stderr, "kwcc: error: cannot write %s: out of memory\n", path);
        return NULL;
    }
    snprintf(tmp, n + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", path, strerror(errno));
        free(tmp);
        return NULL;
    }
    errno = 0;
    int bad = fwrite(text, 1, len, f) != len;
    bad |= fclose(f) != 0;
    if (bad) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", path, errno ? strerror(errno) : "write failed");
        remove(tmp);
        free(tmp);
        return NULL;
    }
    return tmp;
}

/* The files are written to temporary names first and renamed into place only when all are
 * complete: a failure (a missing directory, a full disk) leaves none behind. */
static int write_files(int n, const char *const *paths, const char *const *texts, const size_t *lens)
{
    char *tmp[3] = {NULL, NULL, NULL};
    int ok = 1, done = 0;
    for (int i = 0; i < n && ok; i++)
        ok = (tmp[i] = write_tmp(paths[i], texts[i], lens[i])) != NULL;
    for (; ok && done < n; done++)
        if (rename(tmp[done], paths[done]) != 0) {
            fprintf(stderr, "kwcc: error: cannot write %s: %s\n", paths[done], strerror(errno));
            ok = 0;
            break;
        }
    if (!ok) {
        for (int i = 0; i < done; i++)
            remove(paths[i]);
        for (int i = done; i < n; i++)
            if (tmp[i])
                remove(tmp[i]);
    }
    for (int i = 0; i < n; i++)
        free(tmp[i]);
    return ok ? 0 : -1;
}

/* The model's .c and .h, and with --weights-file (wpath) the weights file. */
static int write_outputs(const char *hpath, const KwResult *res, const char *out, const char *wpath)
{
    const char *paths[3] = {out, hpath, wpath};
    const char *texts[3] = {res->c_text, res->h_text, res->w_text};
    size_t lens[3] = {res->c_len, res->h_len, res->w_len};
    return write_files(wpath ? 3 : 2, paths, texts, lens);
}

static int arg_error(const char *msg, const char *arg)
{
    fprintf(stderr, "kwcc: error: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "",
            "try 'kwcc --help'\n");
    return 2;
}

/* --max-ram: "min" (-1: the smallest workspace kwcc can plan), or bytes, with K/KiB or M/MiB
 * for 1024 or 1048576; 0 after a positive number. */
static int parse_ram(const char *v, int64_t *out)
{
    if (strcmp(v, "min") == 0) {
        *out = -1;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (!(v[0] >= '0' && v[0] <= '9') || errno || n == 0)
        return -1;
    unsigned long long mul = 1;
    if (strcmp(end, "K") == 0 || strcmp(end, "k") == 0 || strcmp(end, "KiB") == 0)
        mul = 1024;
    else if (strcmp(end, "M") == 0 || strcmp(end, "MiB") == 0)
        mul = 1024 * 1024;
    else if (*end)
        return -1;
    if (n > (1ULL << 50) / mul)
        return -1;
    *out = (int64_t)(n * mul);
    return 0;
}

/* ---------------------------------------------------------------- kwcc run */

/* `kwcc run`: the model's C compiled in memory by libtcc and run in-process (codegen/jit.h).
 * The kernels are the ones precompiled into kwcc for the target and the weights are bound
 * from memory, so the preview runs at about the speed of the AOT file. */
static const char run_usage[] =
    "usage: kwcc run MODEL.onnx [--input IN.bin | --random SEED] [--output OUT.bin] [--repeat N]\n"
    "                [--compare REF.bin] [--tol T] [--target T] [--jit tcc|llvm] [--no-kw-fusion] [-v]\n"
    "\n"
    "Compiles the model's C in memory with libtcc, binding the kernels precompiled into kwcc and\n"
    "the weights from memory, runs it, and prints each output's shape and top-5 values (index\n"
    "and value) and the timings: compile (kwcc + tcc), load, median inference.\n"
    "\n"
    "options:\n"
    "  --input IN.bin      raw little-endian float32: one file with every input back to back, or\n"
    "                      one --input per model input, in order\n"
    "  --random SEED       deterministic standard-normal inputs (default: --random 0)\n"
    "  --output OUT.bin    write the outputs (one file back to back, or one --output per output)\n"
    "  --repeat N          run N inferences and report the median time (default 1)\n"
    "  --compare REF.bin   reference outputs (laid out as for --output): prints the max absolute\n"
    "                      error and the relative error max|y - ref| / max|ref| per output\n"
    "  --tol T             with --compare: fail (exit 3) when a relative error exceeds T\n"
    "                      (default 1e-4)\n"
    "  --target T          generic, avx2, avx512, neon or host (default: host, the best target\n"
    "                      this machine runs that kwcc holds kernels for)\n"
    "  --jit tcc|llvm      tcc (default): libtcc and the kernels precompiled into kwcc; llvm: the\n"
    "                      model and its kernels compiled by clang -O3 -march=native into bitcode,\n"
    "                      run by LLVM's ORC JIT (slower to compile, fully optimised)\n"
    "  --no-kw-fusion, --max-ram BYTES, -v, -d LETTERS   as for kwcc MODEL.onnx -o OUT.c\n"
    "\n"
    "exit status: 0 success, 2 bad input or arguments, 1 internal error,\n"
    "             3 an output differs from --compare by more than --tol\n";

#define KW_RUN_MAXF 64 /* --input, --output, --compare files */

static int run_arg_error(const char *msg, const char *arg)
{
    fprintf(stderr, "kwcc: error: %s%s%s\ntry 'kwcc run --help'\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

/* A whole file of floats (malloc'd, at least one float long), or NULL after a message. */
static float *run_read_floats(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "kwcc: error: %s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            fprintf(stderr, "kwcc: error: %s: out of memory\n", path);
            return NULL;
        }
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        if (cap >= ((size_t)1 << 34)) {
            fclose(f);
            free(buf);
            fprintf(stderr, "kwcc: error: %s: too large for an input\n", path);
            return NULL;
        }
        unsigned char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || len % 4) {
        fprintf(stderr, "kwcc: error: %s: %s\n", path,
                bad ? "read error" : "its size is not a whole number of float32 values");
        free(buf);
        return NULL;
    }
    *n = (long)(len / 4);
    return (float *)buf;
}

/* Fills dst (the tensors back to back, sizes[]) from nf files: one holding all tensors, or one
 * per tensor. what: "input" or "reference output". 0, or 2 after a message. */
static int run_load(const char *what, const char *opt, const char *const *files, int nf, int nt,
                    const long *sizes, float *dst)
{
    long total = 0;
    for (int i = 0; i < nt; i++)
        total += sizes[i];
    if (nf != 1 && nf != nt) {
        fprintf(stderr,
                "kwcc: error: %d %s files given; the model has %d %s%s: give one file with all of them back to "
                "back, or one %s per %s\n",
                nf, opt, nt, what, nt == 1 ? "" : "s", opt, what);
        return 2;
    }
    for (int k = 0; k < nf; k++) {
        long n = 0, want = nf == 1 ? total : sizes[k];
        float *p = run_read_floats(files[k], &n);
        if (!p)
            return 2;
        if (n != want) {
            if (nf == 1 && nt > 1)
                fprintf(stderr, "kwcc: error: %s: holds %ld floats; the model's %d %ss take %ld back to back\n",
                        files[k], n, nt, what, want);
            else
                fprintf(stderr, "kwcc: error: %s: holds %ld floats; the model's %s %d takes %ld\n", files[k], n, what,
                        k, want);
            free(p);
            return 2;
        }
        memcpy(dst, p, sizeof(float) * (size_t)n);
        dst += n;
        free(p);
    }
    return 0;
}

static int run_write(const char *const *files, int nf, int nt, const long *sizes, const float *src)
{
    if (nf != 1 && nf != nt) {
        fprintf(stderr, "kwcc: error: %d --output files given; the model has %d output%s: give one file with all of "
                "them back to back, or one --output per output\n", nf, nt, nt == 1 ? "" : "s");
        return 2;
    }
    for (int k = 0; k < nf; k++) {
        long n = 0;
        for (int i = 0; i < nt; i++)
            if (nf == 1 || i == k)
                n += sizes[i];
        FILE *f = fopen(files[k], "wb");
        int bad = !f || fwrite(src, sizeof(float), (size_t)n, f) != (size_t)n;
        if (f)
            bad |= fclose(f) != 0;
        if (bad) {
            fprintf(stderr, "kwcc: error: cannot write %s: %s\n", files[k], strerror(errno));
            return 2;
        }
        src += n;
    }
    return 0;
}

/* splitmix64, then Box-Muller: deterministic standard-normal values */
static uint64_t run_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void run_random(uint64_t seed, float *x, long n)
{
    uint64_t s = seed;
    for (long i = 0; i < n; i += 2) {
        double u1 = ((double)(run_rng(&s) >> 11) + 0.5) * 0x1p-53; /* (0, 1) */
        double u2 = (double)(run_rng(&s) >> 11) * 0x1p-53;
        double r = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
        x[i] = (float)(r * cos(a));
        if (i + 1 < n)
            x[i + 1] = (float)(r * sin(a));
    }
}

static void run_print_shape(const long long *d, int rank)
{
    putchar('[');
    for (int k = 0; k < rank; k++)
        printf("%s%lld", k ? "," : "", d[k]);
    putchar(']');
}

static void run_top5(const float *y, long n)
{
    long top[5];
    int nt = 0;
    long nan = 0;
    for (long i = 0; i < n; i++) {
        if (isnan(y[i])) {
            nan++;
            continue;
        }
        int at = nt;
        while (at > 0 && y[i] > y[top[at - 1]])
            at--;
        if (at >= 5)
            continue;
        if (nt < 5)
            nt++;
        memmove(top + at + 1, top + at, sizeof(long) * (size_t)(nt - 1 - at));
        top[at] = i;
    }
    printf("  top-%d:", nt);
    for (int k = 0; k < nt; k++)
        printf("%s [%ld] %.6g", k ? "," : "", top[k], (double)y[top[k]]);
    if (nan)
        printf(" (%ld NaN)", nan);
    putchar('\n');
}

/* Prints max |y - ref| and max |y - ref| / max |ref| for one output; 1 if within tol. */
static int run_compare(int k, const float *y, const float *r, long n, double tol)
{
    double maxerr = 0, maxref = 0;
    long at = -1, nan_bad = 0;
    for (long i = 0; i < n; i++) {
        if (isnan(y[i]) || isnan(r[i])) {
            nan_bad += !(isnan(y[i]) && isnan(r[i]));
            continue;
        }
        double e = fabs((double)y[i] - (double)r[i]);
        if (fabs((double)r[i]) > maxref)
            maxref = fabs((double)r[i]);
        if (e > maxerr) {
            maxerr = e;
            at = i;
        }
    }
    double rel = maxerr / (maxref > 1e-30 ? maxref : 1e-30);
    int ok = rel <= tol && !nan_bad;
    printf("compare output %d: max abs err %.3g", k, maxerr);
    if (at >= 0)
        printf(" at [%ld]", at);
    printf(", rel err %.3g (of max |ref| %.3g), tol %g%s: %s\n", rel, maxref, tol,
           nan_bad ? ", NaN mismatch" : "", ok ? "ok" : "FAIL");
    return ok;
}

static double run_median(double *t, int n)
{
    for (int i = 1; i < n; i++) /* insertion sort: n is small */
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double s = t[j];
            t[j] = t[j - 1];
            t[j - 1] = s;
        }
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static int run_main(int argc, char **argv)
{
    KwOptions opt;
    kw_options_init(&opt);
    const char *model = NULL, *ins[KW_RUN_MAXF], *outs[KW_RUN_MAXF], *refs[KW_RUN_MAXF];
    int nin = 0, nout = 0, nref = 0, have_seed = 0, have_tol = 0, llvm = 0; /* llvm: --jit llvm */
    unsigned long long seed = 0;
    long repeat = 1;
    double tol = 1e-4;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(run_usage, stdout);
            return 0;
        } else if (strcmp(a, "-v") == 0) {
            opt.verbose = 1;
        } else if (strcmp(a, "--no-kw-fusion") == 0) {
            opt.no_kw_fusion = 1;
        } else if (strcmp(a, "--max-ram") == 0) {
            if (i + 1 >= argc)
                return run_arg_error("missing value after", a);
            if (parse_ram(argv[++i], &opt.max_ram) < 0)
                return run_arg_error("--max-ram takes a number of bytes (suffix K or M for KiB or MiB) or 'min'",
                                     argv[i]);
        } else if (strcmp(a, "--input") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--compare") == 0 ||
                   strcmp(a, "--random") == 0 || strcmp(a, "--repeat") == 0 || strcmp(a, "--tol") == 0 ||
                   strcmp(a, "--target") == 0 || strcmp(a, "-d") == 0 || strcmp(a, "--jit") == 0) {
            if (i + 1 >= argc)
                return run_arg_error("missing value after", a);
            const char *v = argv[++i];
            char *end = NULL;
            errno = 0;
            if (strcmp(a, "--input") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--compare") == 0) {
                const char **list = a[2] == 'i' ? ins : a[2] == 'o' ? outs : refs;
                int *cnt = a[2] == 'i' ? &nin : a[2] == 'o' ? &nout : &nref;
                if (*cnt >= KW_RUN_MAXF)
                    return run_arg_error("too many files given with", a);
                list[(*cnt)++] = v;
            } else if (strcmp(a, "--random") == 0) {
                seed = strtoull(v, &end, 10);
                if (have_seed)
                    return run_arg_error("--random given twice", NULL);
                if (!(v[0] >= '0' && v[0] <= '9') || *end || errno)
                    return run_arg_error("--random takes a seed, a non-negative integer", v);
                have_seed = 1;
            } else if (strcmp(a, "--repeat") == 0) {
                repeat = strtol(v, &end, 10);
                if (!(v[0] >= '0' && v[0] <= '9') || *end || errno || repeat < 1 || repeat > 1000000)
                    return run_arg_error("--repeat takes a count from 1 to 1000000", v);
            } else if (strcmp(a, "--tol") == 0) {
                tol = strtod(v, &end);
                if (end == v || *end || errno || !(tol >= 0) || isinf(tol))
                    return run_arg_error("--tol takes a non-negative number", v);
                have_tol = 1;
            } else if (strcmp(a, "-d") == 0) {
                opt.dump = v;
            } else if (strcmp(a, "--jit") == 0) {
                if (strcmp(v, "tcc") != 0 && strcmp(v, "llvm") != 0)
                    return run_arg_error("unknown JIT (expected tcc or llvm)", v);
                llvm = strcmp(v, "llvm") == 0;
            } else if (strcmp(v, "generic") == 0) {
                opt.target = KW_TARGET_GENERIC;
            } else if (strcmp(v, "avx2") == 0) {
                opt.target = KW_TARGET_AVX2;
            } else if (strcmp(v, "avx512") == 0) {
                opt.target = KW_TARGET_AVX512;
            } else if (strcmp(v, "neon") == 0) {
                opt.target = KW_TARGET_NEON;
            } else if (strcmp(v, "host") == 0) {
                opt.target = KW_TARGET_HOST;
            } else {
                return run_arg_error("unknown target (expected generic, avx2, avx512, neon or host)", v);
            }
        } else if (a[0] == '-' && a[1]) {
            return run_arg_error(strcmp(a, "-o") == 0 || strcmp(a, "--name") == 0 || strcmp(a, "--header") == 0 ||
                                         strcmp(a, "--json") == 0
                                     ? "kwcc run writes no C file; this option does not apply"
                                     : "unknown option",
                                 a);
        } else if (!model) {
            model = a;
        } else {
            return run_arg_error("more than one model given", a);
        }
    }
    if (!model)
        return run_arg_error("no model given", NULL);
    if (nin && have_seed)
        return run_arg_error("--input and --random both given; use one", NULL);
    if (have_tol && !nref)
        return run_arg_error("--tol applies only with --compare", NULL);
    if (llvm && !kw_llvm_available()) {
        fprintf(stderr, "kwcc: error: kwcc run --jit llvm is unavailable: this kwcc was built without LLVM "
                        "(install llvm-14-dev and clang-14 and rebuild, with -DKWCC_WITH_LLVM=ON)\n");
        return 2;
    }
    if (!llvm && !kw_jit_available()) {
        fprintf(stderr, "kwcc: error: kwcc run is unavailable: this kwcc was built without libtcc "
                        "(install libtcc-dev and rebuild, with -DKWCC_WITH_LIBTCC=ON)\n");
        return 2;
    }
    KwTargetKind target;
    if ((llvm ? kw_llvm_jit_target(opt.target, &target) : kw_jit_target(opt.target, &target)) < 0) {
        fprintf(stderr, "kwcc: error: kwcc run cannot run --target %s here: this machine and this kwcc run %s\n",
                kw_target_name(opt.target), llvm ? kw_llvm_jit_targets() : kw_jit_targets());
        return 2;
    }
    opt.target = target;
    opt.jit = 1;
    opt.name = "kwcc_jit";

    /* compile: kwcc, then tcc; load: relocation */
    double t0 = kw_jit_now();
    KwResult res;
    int st = kw_compile_file(model, &opt, &res);
    if (st != 0) {
        kw_result_free(&res);
        return st == 2 ? 2 : 1;
    }
    double t1 = kw_jit_now();
    char *msg = NULL;
    KwJit *jit = NULL;
    KwLlvmJit *lj = NULL; /* --jit llvm: codegen/llvm.c */
    double tl[2] = {0, 0}; /* --jit llvm: clang, LLVM codegen */
    if (llvm)
        lj = kw_llvm_jit_compile(&res, opt.name, target, opt.verbose, tl, &msg);
    else
        jit = kw_jit_compile(&res, opt.name, target, &msg);
    double t2 = kw_jit_now();
    if (jit && kw_jit_load(jit, &msg) < 0) {
        kw_jit_free(jit);
        jit = NULL;
    }
    if (lj && kw_llvm_jit_load(lj, &msg) < 0) {
        kw_llvm_jit_free(lj);
        lj = NULL;
    }
    double t3 = kw_jit_now();
    if (llvm && !lj) {
        fprintf(stderr, "kwcc: internal error: the LLVM JIT cannot compile or load the C kwcc generated for %s:\n%s\n",
                model, msg ? msg : "(no message)");
        free(msg);
        kw_result_free(&res);
        return 1;
    }
    if (!llvm && !jit) {
        fprintf(stderr, "kwcc: internal error: libtcc cannot compile the C kwcc generated for %s (a kwcc bug):\n%s\n",
                model, msg ? msg : "(no message)");
        free(msg);
        kw_result_free(&res);
        return 1;
    }
    free(msg);

    /* tensors: kw_jit_io = n_in, n_out, then rank and dims of each */
    const long long *io = llvm ? kw_llvm_jit_io(lj) : kw_jit_io(jit);
    int n_in = (int)io[0], n_out = (int)io[1], rc = 0;
    long isz[KW_RUN_MAXF], osz[KW_RUN_MAXF], itot = 0, otot = 0;
    const long long *dims[2 * KW_RUN_MAXF];
    int ranks[2 * KW_RUN_MAXF];
    float *x = NULL, *y = NULL, *ref = NULL;
    void *ws = NULL;
    double *times = NULL;
    if (n_in > KW_RUN_MAXF || n_out > KW_RUN_MAXF) {
        fprintf(stderr, "kwcc: error: %s: kwcc run takes at most %d inputs and outputs\n", model, KW_RUN_MAXF);
        rc = 2;
        goto out;
    }
    {
        const long long *p = io + 2;
        for (int k = 0; k < n_in + n_out; k++) {
            long numel = 1;
            ranks[k] = (int)*p++;
            dims[k] = p;
            for (int d = 0; d < ranks[k]; d++)
                numel *= (long)*p++;
            if (k < n_in)
                itot += isz[k] = numel;
            else
                otot += osz[k - n_in] = numel;
        }
    }
    x = malloc(sizeof(float) * (size_t)(itot + 1));
    y = malloc(sizeof(float) * (size_t)(otot + 1));
    ref = nref ? malloc(sizeof(float) * (size_t)(otot + 1)) : NULL;
    ws = aligned_alloc(64, ((size_t)res.workspace_bytes + 64) & ~(size_t)63);
    times = malloc(sizeof(double) * (size_t)repeat);
    if (!x || !y || (nref && !ref) || !ws || !times) {
        fprintf(stderr, "kwcc: error: %s: out of memory\n", model);
        rc = 1;
        goto out;
    }
    if (nin) {
        if ((rc = run_load("input", "--input", ins, nin, n_in, isz, x)) != 0)
            goto out;
    } else {
        run_random(seed, x, itot);
    }
    if (nref && (rc = run_load("output", "--compare", refs, nref, n_out, osz, ref)) != 0)
        goto out;
    if (nout && nout != 1 && nout != n_out) {
        rc = run_write(outs, nout, n_out, osz, y); /* reports the count mismatch */
        goto out;
    }

    const float *inp[KW_RUN_MAXF];
    float *outp[KW_RUN_MAXF];
    for (long k = 0, off = 0; k < n_in; off += isz[k], k++)
        inp[k] = x + off;
    for (long k = 0, off = 0; k < n_out; off += osz[k], k++)
        outp[k] = y + off;
    for (long r = 0; r < repeat; r++) {
        double s = kw_jit_now();
        if ((llvm ? kw_llvm_jit_run(lj, inp, outp, ws) : kw_jit_run(jit, inp, outp, ws)) != 0) {
            fprintf(stderr, "kwcc: internal error: %s: the JIT-compiled model returned an error\n", model);
            rc = 1;
            goto out;
        }
        times[r] = kw_jit_now() - s;
    }
    double med = run_median(times, (int)repeat);

    printf("%s: target %s (%s), weights %.1f MB, workspace %.1f MB\n", model, kw_target_name(target),
           llvm ? "LLVM ORC JIT, kernels compiled with the model by clang -O3" : "kernels precompiled in kwcc",
           (double)res.weight_bytes / 1e6,
           (double)res.workspace_bytes / 1e6);
    for (int k = 0; k < n_in; k++) {
        printf("input %d: ", k);
        run_print_shape(dims[k], ranks[k]);
        if (nin)
            printf(" from %s\n", ins[nin == 1 ? 0 : k]);
        else
            printf(" standard normal, seed %llu\n", seed);
    }
    for (int k = 0; k < n_out; k++) {
        printf("output %d: ", k);
        run_print_shape(dims[n_in + k], ranks[n_in + k]);
        putchar('\n');
        run_top5(outp[k], osz[k]);
    }
    if (llvm)
        printf("time: compile %.1f ms (kwcc %.1f ms, clang %.1f ms, llvm codegen %.1f ms), load %.2f ms, inference "
               "%.2f ms (median of %ld)\n",
               (t2 - t0) * 1e3, (t1 - t0) * 1e3, tl[0] * 1e3, tl[1] * 1e3, (t3 - t2) * 1e3, med * 1e3, repeat);
    else
        printf("time: compile %.1f ms (kwcc %.1f ms, tcc %.1f ms), load %.2f ms, inference %.2f ms (median of %ld)\n",
               (t2 - t0) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, med * 1e3, repeat);
    if (nout && (rc = run_write(outs, nout, n_out, osz, y)) != 0)
        goto out;
    if (nref) {
        int ok = 1;
        for (int k = 0; k < n_out; k++)
            ok &= run_compare(k, outp[k], ref + (outp[k] - y), osz[k], tol);
        if (!ok)
            rc = 3;
    }
    fflush(stdout);
out:
    free(times);
    free(ws);
    free(ref);
    free(y);
    free(x);
    kw_jit_free(jit);
    kw_llvm_jit_free(lj);
    kw_result_free(&res);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run_main(argc, argv);
    KwOptions opt;
    kw_options_init(&opt);
    const char *model = NULL, *out = NULL, *header = NULL, *triple = NULL; /* triple: --target-triple */
    const char *wpath = NULL; /* --weights-file */
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "inspect") == 0) {
        opt.inspect = 1;
        first = 2;
    }
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("kwcc %s\n", KWCC_VERSION);
            return 0;
        } else if (strcmp(a, "--target") == 0) {
            if (i + 1 >= argc)
                return arg_error("missing value after", a);
            const char *t = argv[++i];
            if (strcmp(t, "generic") == 0)
                opt.target = KW_TARGET_GENERIC;
            else if (strcmp(t, "avx2") == 0)
                opt.target = KW_TARGET_AVX2;
            else if (strcmp(t, "avx512") == 0)
                opt.target = KW_TARGET_AVX512;
            else if (strcmp(t, "neon") == 0)
                opt.target = KW_TARGET_NEON;
            else if (strcmp(t, "host") == 0)
                opt.target = KW_TARGET_HOST;
            else
                return arg_error("unknown target (expected generic, avx2, avx512, neon or host)", t);
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--name") == 0 || strcmp(a, "--header") == 0 ||
                   strcmp(a, "-d") == 0 || strcmp(a, "--target-triple") == 0 || strcmp(a, "--weights-file") == 0 ||
                   strcmp(a, "--weights-section") == 0) {
            if (i + 1 >= argc)
                return arg_error("missing value after", a);
            const char *v = argv[++i];
            if (strcmp(a, "--weights-file") == 0) {
                size_t n = strlen(v);
                if (n > 2 && strcmp(v + n - 2, ".c") == 0)
                    opt.weights_file = KW_WEIGHTS_C;
                else if (n > 4 && strcmp(v + n - 4, ".bin") == 0)
                    opt.weights_file = KW_WEIGHTS_BIN;
                else
                    return arg_error("--weights-file takes a file name ending in .c or .bin", v);
                wpath = v;
            } else if (strcmp(a, "--weights-section") == 0)
                opt.weights_section = v;
            else if (strcmp(a, "--target-triple") == 0)
                triple = v;
            else if (strcmp(a, "-o") == 0)
                out = v;
            else if (strcmp(a, "--name") == 0)
                opt.name = v;
            else if (strcmp(a, "--header") == 0)
                header = v;
            else
                opt.dump = v;
        } else if (strcmp(a, "--max-ram") == 0) {
            if (i + 1 >= argc)
                return arg_error("missing value after", a);
            if (parse_ram(argv[++i], &opt.max_ram) < 0)
                return arg_error("--max-ram takes a number of bytes (suffix K or M for KiB or MiB) or 'min'",
                                 argv[i]);
        } else if (strcmp(a, "-v") == 0) {
            opt.verbose = 1;
        } else if (strcmp(a, "--no-kw-fusion") == 0) {
            opt.no_kw_fusion = 1;
        } else if (strcmp(a, "--json") == 0 && opt.inspect) {
            opt.inspect = 2;
        } else if (a[0] == '-' && a[1]) {
            return arg_error("unknown option", a);
        } else if (!model) {
            model = a;
        } else {
            return arg_error("more than one model given", a);
        }
    }
    if (!model)
        return arg_error("no model given", NULL);
    if (opt.inspect) {
        if (out)
            return arg_error("inspect prints to stdout; -o does not apply", NULL);
        if (triple)
            return arg_error("inspect prints to stdout; --target-triple does not apply", NULL);
        KwResult res;
        int st = kw_compile_file(model, &opt, &res);
        if (st == 0)
            fputs(res.report, stdout);
        kw_result_free(&res);
        return st == 0 ? 0 : st == 2 ? 2 : 1;
    }
    if (!out)
        return arg_error(triple ? "no output file given (-o OUT.o)" : "no output file given (-o OUT.c)", NULL);
    if (opt.weights_section && opt.weights_file == KW_WEIGHTS_BIN)
        return arg_error("--weights-section places weights compiled from C; a .bin weights file is placed by the "
                         "application", NULL);
    if (wpath && strcmp(wpath, out) == 0)
        return arg_error("--weights-file must differ from -o", wpath);
    if (triple) { /* an object through clang (codegen/llvm.c): the target follows the triple */
        char err[512];
        KwTargetKind t;
        if (!kw_llvm_available()) {
            fprintf(stderr, "kwcc: error: --target-triple is unavailable: this kwcc was built without LLVM "
                            "(install llvm-14-dev and clang-14 and rebuild, with -DKWCC_WITH_LLVM=ON)\n");
            return 2;
        }
        if (kw_llvm_triple_target(triple, opt.target, &t, err, sizeof err) < 0)
            return arg_error(err, NULL);
        opt.target = t;
    }

    const char *hsrc = header ? header : out;
    size_t n = strlen(hsrc);
    char *hpath = malloc(n + 3);
    if (hpath) {
        memcpy(hpath, hsrc, n + 1);
        if (!header && n > 2 && (strcmp(out + n - 2, ".c") == 0 || (triple && strcmp(out + n - 2, ".o") == 0)))
            strcpy(hpath + n - 2, ".h");
        else if (!header)
            strcat(hpath, ".h");
    }
    if (!hpath)
        return 1;
    /* the .c file includes the header by its base name */
    const char *hb = strrchr(hpath, '/');
    opt.header = hb ? hb + 1 : hpath;

    KwResult res;
    int st = kw_compile_file(model, &opt, &res);
    if (st == 0 && triple) {
        st = kw_llvm_write_object(&res, triple, opt.target, opt.header, out, hpath, opt.verbose);
        if (st == 0 && wpath && write_files(1, &wpath, (const char *const *)&res.w_text, &res.w_len) < 0)
            st = 2;
        if (st == 0 && opt.verbose)
            fprintf(stderr, "kwcc: wrote %s (%s, %s) and %s%s%s\n", out, triple, kw_target_name(opt.target), hpath,
                    wpath ? " and " : "", wpath ? wpath : "");
    } else if (st == 0) {
        if (write_outputs(hpath, &res, out, wpath) < 0)
            st = 2; /* an output path that cannot be written is a bad argument */
        else if (opt.verbose)
            fprintf(stderr, "kwcc: wrote %s and %s%s%s\n", out, hpath, wpath ? " and " : "", wpath ? wpath : "");
    }
    if (st == 0 && opt.verbose) /* what the firmware engineer budgets */
        fprintf(stderr,
                "kwcc: flash: weights %lld bytes + code and tables about %lld bytes = about %lld bytes\n"
                "kwcc: RAM: workspace %lld bytes (lower bound %lld bytes, %.2fx)%s\n",
                (long long)res.weight_bytes, (long long)res.code_bytes, (long long)(res.weight_bytes + res.code_bytes),
                (long long)res.workspace_bytes, (long long)res.workspace_bound,
                res.workspace_bound ? (double)res.workspace_bytes / (double)res.workspace_bound : 1.0,
                opt.max_ram > 0 ? ", within --max-ram" : opt.max_ram < 0 ? ", the smallest plan" : "");
    kw_result_free(&res);
    free(hpath);
    return st == 0 ? 0 : st == 2 ? 2 : 1;
}
