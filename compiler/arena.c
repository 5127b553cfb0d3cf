/* arena.c -- the compile arena: bump allocation in large chunks, freed all at once.
 *
 * Every IR object, name and decoded constant of one compile lives here. Running out of
 * memory longjmps to the driver's single recovery point (driver.c), which frees the arena
 * and reports KW_ERR_NOMEM; nothing else in kwcc needs to check for NULL. */
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

#define CHUNK (1u << 20)

typedef struct Chunk {
    struct Chunk *next;
    size_t used, cap;
    max_align_t data[];
} Chunk;

struct KwArena {
    Chunk *head;
    jmp_buf *oom;
    long fail_after; /* < 0: never fail on purpose */
    size_t total;
};

KwArena *kw_arena_new(jmp_buf *oom)
{
    KwArena *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->oom = oom;
    a->fail_after = -1;
    return a;
}

void kw_arena_free(KwArena *a)
{
    if (!a)
        return;
    for (Chunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

static KW_NORETURN void out_of_memory(KwArena *a)
{
    if (a->oom)
        longjmp(*a->oom, 1);
    KW_BUG("out of memory and no recovery point");
}

void kw_arena_fail_after(KwArena *a, long n) { a->fail_after = n; }

size_t kw_arena_bytes(const KwArena *a) { return a->total; }

void *kw_alloc(KwArena *a, size_t n)
{
    if (n > ((size_t)-1) / 4)
        out_of_memory(a); /* a size this large is a wrapped negative count */
    n = (n + 15) & ~(size_t)15;
    if (a->fail_after == 0)
        out_of_memory(a);
    if (a->fail_after > 0)
        a->fail_after--;
    Chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > CHUNK / 4 ? n : CHUNK;
        Chunk *nc = malloc(sizeof(Chunk) + cap);
        if (!nc)
            out_of_memory(a);
        nc->used = 0;
        nc->cap = cap;
        a->total += cap;
        if (c && cap != CHUNK) {
            /* a big block: keep filling the current chunk afterwards */
            nc->next = c->next;
            c->next = nc;
            nc->used = cap;
            memset(nc->data, 0, n);
            return nc->data;
        }
        nc->next = c;
        a->head = c = nc;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *kw_dup(KwArena *a, const void *p, size_t n)
{
    void *q = kw_alloc(a, n ? n : 1);
    if (n)
        memcpy(q, p, n);
    return q;
}

char *kw_strdup(KwArena *a, const char *s)
{
    return kw_dup(a, s ? s : "", strlen(s ? s : "") + 1);
}

char *kw_fmt(KwArena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = kw_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
