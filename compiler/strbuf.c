/* strbuf.c -- growable text buffer for the emitter and the reports.
 *
 * Malloc-owned, because the generated text outlives the compile arena. An allocation
 * failure sets the sticky oom flag (checked once by the driver) instead of failing each
 * append. */
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

static int reserve(KwBuf *b, size_t more)
{
    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void kw_buf_put(KwBuf *b, const char *s, size_t n)
{
    if (reserve(b, n) < 0)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void kw_buf_puts(KwBuf *b, const char *s) { kw_buf_put(b, s, strlen(s)); }

void kw_buf_vprintf(KwBuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || reserve(b, (size_t)n) < 0)
        return;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void kw_buf_printf(KwBuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kw_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *kw_buf_take(KwBuf *b, size_t *len)
{
    if (b->oom) {
        kw_buf_free(b);
        return NULL;
    }
    if (reserve(b, 0) < 0)
        return NULL;
    b->p[b->len] = 0;
    char *p = b->p;
    if (len)
        *len = b->len;
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void kw_buf_free(KwBuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
