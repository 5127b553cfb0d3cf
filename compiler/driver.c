/* driver.c -- kw_compile_*: arena, frontend, pass pipeline, codegen.
 *
 * The one setjmp of kwcc lives here: running out of memory anywhere in a compile longjmps
 * back, the arena is freed and KW_ERR_NOMEM returned. */
#define _POSIX_C_SOURCE 200809L /* fstat, fileno */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kw_codegen.h"
#include "kw_onnx.h"
#include "kwcc_int.h"

void kw_options_init(KwOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->target = KW_TARGET_HOST;
}

void kw_result_free(KwResult *res)
{
    free(res->c_text);
    free(res->h_text);
    free(res->w_text);
    free(res->report);
    free(res->weights);
    memset(res, 0, sizeof *res);
}

/* "models/ResNet-18.onnx" -> "resnet_18": a C identifier from the file's base name. */
static char *default_prefix(KwArena *a, const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot != b)
        n = (size_t)(dot - b);
    char *s = kw_alloc(a, n + 2);
    size_t k = 0;
    if (n == 0 || (b[0] >= '0' && b[0] <= '9'))
        s[k++] = 'm';
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        s[k++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
    }
    s[k] = 0;
    return s;
}

static int valid_ident(const char *s)
{
    if (!s[0] || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* A section name for __attribute__((section(...))): ELF names and Mach-O "segment,section". */
static int valid_section(const char *s)
{
    if (!s[0] || strlen(s) > 200)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
              *s == '_' || *s == '$' || *s == ',' || *s == '-'))
            return 0;
    return 1;
}

int kw_compile_bytes(const void *buf, size_t len, const char *path, const KwOptions *opt, KwResult *res)
{
    jmp_buf oom;
    KwArena *volatile arena = NULL;
    KwBuf c = {0}, h = {0};
    memset(res, 0, sizeof *res);
    if (setjmp(oom)) {
        kw_arena_free(arena);
        kw_buf_free(&c);
        kw_buf_free(&h);
        char line[512];
        snprintf(line, sizeof line, "kwcc: error: %s: out of memory", path);
        if (opt->sink)
            opt->sink(opt->sink_ud, line);
        else
            fprintf(stderr, "%s\n", line);
        return res->status = KW_ERR_NOMEM;
    }
    arena = kw_arena_new(&oom);
    if (!arena)
        return res->status = KW_ERR_NOMEM;
    KwDiag diag = {0};
    diag.path = path;
    diag.sink = opt->sink;
    diag.sink_ud = opt->sink_ud;
    diag.verbose = opt->verbose;
    KwGraph *g = kw_graph_new(arena, &diag, opt);
    g->target = opt->target == KW_TARGET_HOST ? kw_target_host() : opt->target;
    int status = KW_ERR_INPUT;
    const char *prefix = opt->name ? opt->name : default_prefix(arena, path);
    if (!valid_ident(prefix)) {
        kw_error(&diag, NULL, "--name '%s' is not a C identifier", prefix);
        goto done;
    }
    if (opt->weights_section && !valid_section(opt->weights_section)) {
        kw_error(&diag, NULL, "--weights-section '%s': expected a section name of letters, digits and . _ $ , -",
                 opt->weights_section);
        goto done;
    }
    if (kw_onnx_load(g, buf, len) < 0 || kw_run_pipeline(g) < 0)
        goto done;
    g->code_bytes = kw_code_estimate(g);
    res->workspace_bytes = g->ws_bytes;
    res->weight_bytes = g->weight_bytes;
    res->workspace_bound = g->ws_bound;
    res->code_bytes = g->code_bytes;
    if (opt->inspect) {
        res->report = kw_inspect_report(g, opt->inspect == 2);
        status = res->report ? KW_OK : KW_ERR_NOMEM;
        goto done;
    }
    KwEmitOpts eo = {prefix, opt->header ? opt->header : kw_fmt(arena, "%s.h", prefix), path, opt->jit, opt->jit,
                     opt->jit ? NULL : opt->weights_section, opt->jit ? KW_WEIGHTS_INLINE : opt->weights_file};
    if (kw_emit_c(g, &eo, &c, &h) < 0)
        goto done;
    res->c_text = kw_buf_take(&c, &res->c_len);
    res->h_text = kw_buf_take(&h, &res->h_len);
    if (eo.weights_file == KW_WEIGHTS_C) {
        KwBuf w = {0};
        kw_emit_weights_c(g, &eo, &w);
        res->w_text = kw_buf_take(&w, &res->w_len);
        if (!res->w_text) {
            status = KW_ERR_NOMEM;
            goto done;
        }
    } else if (eo.weights_file == KW_WEIGHTS_BIN) {
        res->w_len = (size_t)g->weight_bytes;
        res->w_text = malloc(res->w_len + 1);
        if (!res->w_text) {
            status = KW_ERR_NOMEM;
            goto done;
        }
        kw_weight_blob(g, res->w_text);
    }
    if (opt->jit && res->c_text && res->h_text) { /* kwcc run: the blob the C text reads by symbol */
        res->weights = aligned_alloc(64, ((size_t)g->weight_bytes + 64) & ~(size_t)63);
        if (!res->weights) {
            status = KW_ERR_NOMEM;
            goto done;
        }
        kw_weight_blob(g, res->weights);
    }
    if (!res->c_text || !res->h_text) {
        status = KW_ERR_NOMEM;
        goto done;
    }
    status = KW_OK;
done:
    if (status != KW_OK) {
        free(res->c_text);
        free(res->h_text);
        free(res->w_text);
        res->c_text = res->h_text = res->w_text = NULL;
        res->w_len = 0;
    }
    kw_buf_free(&c);
    kw_buf_free(&h);
    kw_arena_free(arena);
    return res->status = status;
}

/* A problem with the model file itself, reported like kw_error does (through the sink). */
static int file_error(const KwOptions *opt, KwResult *res, int status, const char *path, const char *fmt, ...)
    KW_PRINTF(5, 6);
static int file_error(const KwOptions *opt, KwResult *res, int status, const char *path, const char *fmt, ...)
{
    char msg[512], line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(line, sizeof line, "kwcc: error: %.400s: %s", path, msg);
    if (opt->sink)
        opt->sink(opt->sink_ud, line);
    else
        fprintf(stderr, "%s\n", line);
    return res->status = status;
}

/* protobuf cannot encode a message of 2 GiB or more, so no model file is larger */
#define KW_MAX_FILE ((size_t)1 << 31)

int kw_compile_file(const char *path, const KwOptions *opt, KwResult *res)
{
    memset(res, 0, sizeof *res);
    FILE *f = fopen(path, "rb");
    if (!f)
        return file_error(opt, res, KW_ERR_INPUT, path, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        int e = errno;
        fclose(f);
        return file_error(opt, res, KW_ERR_INPUT, path, "cannot read: %s", strerror(e));
    }
    /* a directory, or a device that may never end (/dev/zero); pipes are read up to 2 GiB */
    if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode)) {
        fclose(f);
        return file_error(opt, res, KW_ERR_INPUT, path, "%s; expected an ONNX model file",
                          S_ISDIR(sb.st_mode) ? "is a directory" : "is not a regular file");
    }
    if ((uint64_t)sb.st_size >= KW_MAX_FILE) {
        fclose(f);
        return file_error(opt, res, KW_ERR_INPUT, path,
                          "the file has %lld bytes; an ONNX model (one protobuf message) is smaller than 2 GiB",
                          (long long)sb.st_size);
    }
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return file_error(opt, res, KW_ERR_NOMEM, path, "out of memory reading the file");
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap) {
            if (ferror(f)) {
                int e = errno;
                fclose(f);
                free(buf);
                return file_error(opt, res, KW_ERR_INPUT, path, "read error: %s", strerror(e));
            }
            break;
        }
        if (cap >= KW_MAX_FILE) { /* the file grew while being read */
            fclose(f);
            free(buf);
            return file_error(opt, res, KW_ERR_INPUT, path, "the file is 2 GiB or larger; expected an ONNX model");
        }
        unsigned char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    fclose(f);
    int st = kw_compile_bytes(buf, len, path, opt, res);
    free(buf);
    return st;
}
