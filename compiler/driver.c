/* driver.c -- kw_compile_*: arena, frontend, pass pipeline, codegen.
 *
 * The one setjmp of kwcc lives here: running out of memory anywhere in a compile longjmps
 * back, the arena is freed and KW_ERR_NOMEM returned. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kw_codegen.h"
#include "kw_onnx.h"
#include "kwcc_int.h"

void kw_options_init(KwOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->target = KW_TARGET_GENERIC;
}

void kw_result_free(KwResult *res)
{
    free(res->c_text);
    free(res->h_text);
    free(res->report);
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
        fprintf(stderr, "kwcc: error: %s: out of memory\n", path);
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
    int status = KW_ERR_INPUT;
    const char *prefix = opt->name ? opt->name : default_prefix(arena, path);
    if (!valid_ident(prefix)) {
        kw_error(&diag, NULL, "--name '%s' is not a C identifier", prefix);
        goto done;
    }
    if (kw_onnx_load(g, buf, len) < 0 || kw_run_pipeline(g) < 0)
        goto done;
    res->workspace_bytes = g->ws_bytes;
    res->weight_bytes = g->weight_bytes;
    if (opt->inspect) {
        res->report = kw_inspect_report(g, opt->inspect == 2);
        status = res->report ? KW_OK : KW_ERR_NOMEM;
        goto done;
    }
    KwEmitOpts eo = {prefix, opt->header ? opt->header : kw_fmt(arena, "%s.h", prefix), path, 0};
    if (kw_emit_c(g, &eo, &c, &h) < 0)
        goto done;
    res->c_text = kw_buf_take(&c, &res->c_len);
    res->h_text = kw_buf_take(&h, &res->h_len);
    if (!res->c_text || !res->h_text) {
        status = KW_ERR_NOMEM;
        goto done;
    }
    status = KW_OK;
done:
    if (status != KW_OK) {
        free(res->c_text);
        free(res->h_text);
        res->c_text = res->h_text = NULL;
    }
    kw_buf_free(&c);
    kw_buf_free(&h);
    kw_arena_free(arena);
    return res->status = status;
}

int kw_compile_file(const char *path, const KwOptions *opt, KwResult *res)
{
    memset(res, 0, sizeof *res);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "kwcc: error: %s: cannot open: %s\n", path, strerror(errno));
        return res->status = KW_ERR_INPUT;
    }
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            fprintf(stderr, "kwcc: error: %s: out of memory reading the file\n", path);
            return res->status = KW_ERR_NOMEM;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap) {
            if (ferror(f)) {
                fclose(f);
                free(buf);
                fprintf(stderr, "kwcc: error: %s: read error\n", path);
                return res->status = KW_ERR_INPUT;
            }
            break;
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
