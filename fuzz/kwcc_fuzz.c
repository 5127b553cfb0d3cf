/* kwcc_fuzz.c -- the libFuzzer harness: any bytes through kw_compile_bytes, in memory.
 *
 * Each input is compiled for the portable target, then for one vector target (AVX2, AVX-512
 * or NEON: lowering and weight packing differ per target) picked from a hash of the input,
 * with or without KW fusion, sometimes with the smallest memory plan (--max-ram min), and
 * sometimes as `kwcc inspect` (JSON) or as JIT text; codegen is part of every compile. Diagnostics go to a sink that checks them instead of stderr. What
 * counts as a bug here, besides what ASan and UBSan catch:
 *   - KW_ERR_INTERNAL or an abort (KW_BUG);
 *   - a failed compile that printed no "kwcc: error: " line, or a line without that prefix
 *     or with a control character or a newline in it;
 *   - success without the C text or the header;
 *   - the same input compiled twice giving different C (determinism; every 16th input).
 * Memory stays bounded: libFuzzer's -malloc_limit_mb / -rss_limit_mb (fuzz/run.sh) report
 * any attempt to allocate more as a crash.
 *
 * Built with -DKWCC_FUZZ=ON (clang): fuzz/run.sh. Without libFuzzer (KWCC_FUZZ_REPLAY) the
 * same file has a main that runs the harness over files and directories (the seed corpus and
 * the regression inputs in CTest, label fuzz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kwcc.h"

typedef struct Sink {
    int lines, bad;
    char first_bad[160];
} Sink;

static void sink(void *ud, const char *line)
{
    Sink *s = ud;
    s->lines++;
    int ok = strncmp(line, "kwcc: error: ", 13) == 0;
    for (const char *p = line; ok && *p; p++)
        if ((unsigned char)*p < 32 || *p == 127)
            ok = 0;
    if (!ok && !s->bad++)
        snprintf(s->first_bad, sizeof s->first_bad, "%s", line);
}

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "kwcc_fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static uint32_t hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* One compile; returns the status, the result left in *res for the caller to free. */
static int compile(const uint8_t *data, size_t size, KwTargetKind t, int nofuse, int inspect, int jit,
                   int64_t max_ram, KwResult *res)
{
    KwOptions opt;
    Sink s = {0};
    kw_options_init(&opt);
    opt.name = "fz";
    opt.target = t;
    opt.no_kw_fusion = nofuse;
    opt.inspect = inspect;
    opt.jit = jit;
    opt.max_ram = max_ram;
    opt.sink = sink;
    opt.sink_ud = &s;
    int st = kw_compile_bytes(data, size, "fuzz.onnx", &opt, res);
    if (st != res->status)
        fail("the returned status differs from res->status", NULL);
    if (s.bad)
        fail("a malformed diagnostic line", s.first_bad);
    switch (st) {
    case KW_OK:
        if (s.lines)
            fail("success with an error line", NULL);
        if (inspect ? !res->report : !res->c_text || !res->h_text || strlen(res->c_text) != res->c_len)
            fail("success without its output", NULL);
        if (jit && res->weight_bytes > 0 && !res->weights)
            fail("a JIT compile without its weights", NULL);
        break;
    case KW_ERR_INPUT: /* also a workspace that does not fit max_ram */
    case KW_ERR_NOMEM:
        if (!s.lines)
            fail("an error without a message", NULL);
        if (res->c_text || res->h_text)
            fail("an error that left output behind", NULL);
        break;
    default:
        fail("internal error (status 1)", NULL);
    }
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    KwResult r1, r2;
    uint32_t h = hash(data, size);
    int st = compile(data, size, KW_TARGET_GENERIC, 0, 0, 0, 0, &r1);
    if (st == KW_OK && (h & 15) == 0) { /* determinism */
        compile(data, size, KW_TARGET_GENERIC, 0, 0, 0, 0, &r2);
        if (r2.status != KW_OK || r1.c_len != r2.c_len || memcmp(r1.c_text, r2.c_text, r1.c_len) ||
            r1.h_len != r2.h_len || memcmp(r1.h_text, r2.h_text, r1.h_len))
            fail("two compiles of the same input differ", NULL);
        kw_result_free(&r2);
    }
    kw_result_free(&r1);
    if (st != KW_OK) /* a rejected model is rejected on every target: one compile is enough */
        return 0;
    static const KwTargetKind vec[3] = {KW_TARGET_AVX2, KW_TARGET_AVX512, KW_TARGET_NEON};
    int mode = (h >> 4) & 7; /* 0..5 plain, 6 inspect JSON, 7 JIT text */
    int64_t max_ram = (h >> 13) & 3 ? 0 : -1; /* a quarter: the smallest memory plan (tiling) */
    compile(data, size, vec[(h >> 8) % 3], (h >> 12) & 1, mode == 6 ? 2 : 0, mode == 7, max_ram, &r1);
    kw_result_free(&r1);
    return 0;
}

#ifdef KWCC_FUZZ_REPLAY
#include <dirent.h>
#include <sys/stat.h>

static int n_files;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "kwcc_fuzz: cannot open %s\n", path);
        return 1;
    }
    size_t cap = 1 << 16, len = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb)
                free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "kwcc_fuzz: out of memory reading %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    n_files++;
    return 0;
}

static int run_path(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "kwcc_fuzz: cannot stat %s\n", path);
        return 1;
    }
    if (!S_ISDIR(sb.st_mode))
        return run_file(path);
    DIR *d = opendir(path);
    if (!d)
        return 1;
    int st = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        size_t n = strlen(path) + strlen(e->d_name) + 2;
        char *p = malloc(n);
        if (!p)
            return 1;
        snprintf(p, n, "%s/%s", path, e->d_name);
        st |= run_path(p);
        free(p);
    }
    closedir(d);
    return st;
}

/* kwcc_fuzz_replay FILE|DIR...: every file through the harness (an abort is a failure) */
int main(int argc, char **argv)
{
    int st = 0;
    for (int i = 1; i < argc; i++)
        st |= run_path(argv[i]);
    printf("kwcc_fuzz_replay: %d inputs, %s\n", n_files, st ? "errors" : "no failure");
    return st;
}
#endif
