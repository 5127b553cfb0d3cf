/* main.c -- the kwcc command line.
 *
 *   kwcc MODEL.onnx -o OUT.c [--name PREFIX] [--header OUT.h] [-v] [--no-kw-fusion]
 *
 * Output files are written to a temporary name next to the target and renamed into place
 * only when the whole compile succeeded, so a failed compile never leaves half a file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kwcc.h"

static const char usage[] =
    "usage: kwcc MODEL.onnx -o OUT.c [options]\n"
    "       kwcc inspect MODEL.onnx [--json] [--no-kw-fusion]\n"
    "\n"
    "Compiles an ONNX model into one standalone C99 file (OUT.c) and its header.\n"
    "`kwcc inspect` prints, per layer, the KernelWarehouse geometry, parameters stored versus\n"
    "dense, MACs (conv, kernel assembly, attention) and workspace, then model totals.\n"
    "\n"
    "options:\n"
    "  -o OUT.c            the C file to write (required)\n"
    "  --name PREFIX       prefix of the generated symbols (default: from the model file name)\n"
    "  --header OUT.h      where to write the header (default: OUT.c with .h)\n"
    "  --no-kw-fusion      keep exported KernelWarehouse subgraphs on the generic path\n"
    "  --target T          generic (portable C99, the reference), avx2, avx512 or neon;\n"
    "                      default: the best this machine supports\n"
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

/* Both files are written to temporary names first and renamed into place only when both are
 * complete: a failure (a missing directory, a full disk) leaves neither behind. */
static int write_outputs(const char *hpath, const KwResult *res, const char *out)
{
    char *tc = write_tmp(out, res->c_text, res->c_len);
    char *th = tc ? write_tmp(hpath, res->h_text, res->h_len) : NULL;
    int ok = th && tc;
    if (ok && rename(tc, out) != 0) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", out, strerror(errno));
        ok = 0;
    } else if (ok && rename(th, hpath) != 0) {
        fprintf(stderr, "kwcc: error: cannot write %s: %s\n", hpath, strerror(errno));
        remove(out);
        ok = 0;
    }
    if (!ok) {
        if (th)
            remove(th);
        if (tc)
            remove(tc);
    }
    free(th);
    free(tc);
    return ok ? 0 : -1;
}

static int arg_error(const char *msg, const char *arg)
{
    fprintf(stderr, "kwcc: error: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "",
            "try 'kwcc --help'\n");
    return 2;
}

int main(int argc, char **argv)
{
    KwOptions opt;
    kw_options_init(&opt);
    const char *model = NULL, *out = NULL, *header = NULL;
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
                   strcmp(a, "-d") == 0) {
            if (i + 1 >= argc)
                return arg_error("missing value after", a);
            const char *v = argv[++i];
            if (strcmp(a, "-o") == 0)
                out = v;
            else if (strcmp(a, "--name") == 0)
                opt.name = v;
            else if (strcmp(a, "--header") == 0)
                header = v;
            else
                opt.dump = v;
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
        KwResult res;
        int st = kw_compile_file(model, &opt, &res);
        if (st == 0)
            fputs(res.report, stdout);
        kw_result_free(&res);
        return st == 0 ? 0 : st == 2 ? 2 : 1;
    }
    if (!out)
        return arg_error("no output file given (-o OUT.c)", NULL);

    const char *hsrc = header ? header : out;
    size_t n = strlen(hsrc);
    char *hpath = malloc(n + 3);
    if (hpath) {
        memcpy(hpath, hsrc, n + 1);
        if (!header && n > 2 && strcmp(out + n - 2, ".c") == 0)
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
    if (st == 0) {
        if (write_outputs(hpath, &res, out) < 0)
            st = 2; /* an output path that cannot be written is a bad argument */
        else if (opt.verbose)
            fprintf(stderr, "kwcc: wrote %s and %s: weights %lld bytes, workspace %lld bytes\n", out, hpath,
                    (long long)res.weight_bytes, (long long)res.workspace_bytes);
    }
    kw_result_free(&res);
    free(hpath);
    return st == 0 ? 0 : st == 2 ? 2 : 1;
}
