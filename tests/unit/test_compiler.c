/* test_compiler.c -- the compiler's infrastructure and its public API:
 *   arena.c    alignment, zeroing, big blocks, kw_fmt/kw_dup/kw_strdup, failure injection
 *              (kw_arena_fail_after) with setjmp recovery;
 *   strbuf.c   KwBuf growth, take/free, the sticky oom flag;
 *   ir.c, pass_infer.c  kw_numel, kw_shape_str, kw_norm_axis, kw_bcast_shape, the attribute
 *              getters (a wrong type is a counted user error), kw_const_ints;
 *   driver.c   kw_compile_bytes / kw_compile_file on the fixture models: status, text,
 *              sizes, determinism, error reporting through opt.sink.
 *
 * Tests registered with KW_KNOWN_BUG document a bug found in kwcc (see the comment on each);
 * CTest expects them to fail until the bug is fixed (unit_util.h). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdint.h>
#include <unistd.h>

#include "kwcc_int.h"
#include "unit_fixture.h"
#include "unit_util.h"

/* ================================================================ arena */

START_TEST(arena_alignment_and_zeroing)
{
    jmp_buf oom;
    KwArena *a = kw_arena_new(&oom);
    ck_assert_ptr_nonnull(a);
    if (setjmp(oom))
        ck_abort_msg("unexpected out-of-memory");
    Rng r = rng_seed(1);
    enum { N = 3000 };
    static unsigned char *p[N];
    static size_t sz[N];
    for (int i = 0; i < N; i++) {
        sz[i] = (size_t)rng_int(&r, 1, i % 100 == 0 ? 5000 : 200);
        p[i] = kw_alloc(a, sz[i]);
        ck_assert_msg(((uintptr_t)p[i] & 15) == 0, "allocation %d of %zu bytes at %p is not 16-byte aligned", i,
                      sz[i], (void *)p[i]);
        for (size_t k = 0; k < sz[i]; k++)
            ck_assert_msg(p[i][k] == 0, "allocation %d byte %zu not zeroed", i, k);
        memset(p[i], (unsigned char)(i * 7 + 1), sz[i]);
    }
    /* nothing overlapped: every block still holds its own pattern */
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < sz[i]; k++)
            ck_assert_msg(p[i][k] == (unsigned char)(i * 7 + 1), "allocation %d was overwritten", i);
    ck_assert(kw_arena_bytes(a) >= 3000 * 16);
    kw_arena_free(a);
    kw_arena_free(NULL); /* allowed */
}
END_TEST

START_TEST(arena_big_blocks)
{
    /* blocks above a quarter chunk get their own chunk; the current chunk keeps filling */
    jmp_buf oom;
    KwArena *a = kw_arena_new(&oom);
    if (setjmp(oom))
        ck_abort_msg("unexpected out-of-memory");
    unsigned char *s1 = kw_alloc(a, 100);
    size_t before = kw_arena_bytes(a);
    unsigned char *big = kw_alloc(a, 3u << 20); /* 3 MiB */
    ck_assert(((uintptr_t)big & 15) == 0);
    ck_assert(kw_arena_bytes(a) >= before + (3u << 20));
    for (size_t k = 0; k < (3u << 20); k += 4093)
        ck_assert(big[k] == 0);
    memset(big, 0xEE, 3u << 20);
    unsigned char *s2 = kw_alloc(a, 100);
    ck_assert_msg(s2 == s1 + 112, "a small block after a big one should continue the current chunk");
    memset(s1, 1, 100);
    memset(s2, 2, 100);
    unsigned char *big2 = kw_alloc(a, (1u << 18) + 1);
    memset(big2, 3, (1u << 18) + 1);
    for (size_t k = 0; k < (3u << 20); k++)
        if (big[k] != 0xEE)
            ck_abort_msg("big block overwritten at %zu", k);
    ck_assert(s1[99] == 1 && s2[0] == 2 && s2[99] == 2);
    kw_arena_free(a);
}
END_TEST

START_TEST(arena_strings)
{
    jmp_buf oom;
    KwArena *a = kw_arena_new(&oom);
    if (setjmp(oom))
        ck_abort_msg("unexpected out-of-memory");
    ck_assert_str_eq(kw_fmt(a, "%s-%d-%.2f", "conv", 42, 1.5), "conv-42-1.50");
    ck_assert_str_eq(kw_fmt(a, "%s", ""), "");
    char *big = malloc(300001);
    memset(big, 'x', 300000);
    big[300000] = 0;
    char *f = kw_fmt(a, "<%s>", big);
    ck_assert_uint_eq(strlen(f), 300002);
    ck_assert(f[0] == '<' && f[300001] == '>' && f[150000] == 'x');
    free(big);
    ck_assert_str_eq(kw_strdup(a, "abc"), "abc");
    ck_assert_str_eq(kw_strdup(a, NULL), "");
    int v[3] = {1, 2, 3};
    int *d = kw_dup(a, v, sizeof v);
    ck_assert(d != v && d[0] == 1 && d[2] == 3);
    ck_assert_ptr_nonnull(kw_dup(a, NULL, 0));
    kw_arena_free(a);
}
END_TEST

START_TEST(arena_fail_after)
{
    /* kw_arena_fail_after(a, n): n more allocations succeed, the next one longjmps */
    for (long n = 0; n < 40; n += 3) {
        jmp_buf oom;
        KwArena *a = kw_arena_new(&oom);
        volatile long done = 0;
        if (setjmp(oom) == 0) {
            kw_arena_fail_after(a, n);
            for (int i = 0; i < 100; i++) {
                switch (i % 4) { /* every entry point goes through kw_alloc */
                case 0: kw_alloc(a, 24); break;
                case 1: kw_fmt(a, "%d", i); break;
                case 2: kw_strdup(a, "name"); break;
                case 3: kw_dup(a, &n, sizeof n); break;
                }
                done++;
            }
            ck_abort_msg("fail_after(%ld): no failure after 100 allocations", n);
        }
        ck_assert_msg(done == n, "fail_after(%ld): %ld allocations succeeded", n, (long)done);
        kw_arena_free(a); /* recovery: the arena is still valid and frees cleanly */
    }
    /* a negative count disables the injection again */
    jmp_buf oom;
    KwArena *a = kw_arena_new(&oom);
    if (setjmp(oom))
        ck_abort_msg("fail_after(-1) still failed");
    kw_arena_fail_after(a, 5);
    kw_arena_fail_after(a, -1);
    for (int i = 0; i < 50; i++)
        kw_alloc(a, 8);
    kw_arena_free(a);
}
END_TEST

START_TEST(arena_real_exhaustion)
{
    /* a request malloc cannot satisfy longjmps like an injected failure (not under
     * AddressSanitizer, which aborts on such a request instead of returning NULL) */
#if defined(__SANITIZE_ADDRESS__)
    return;
#endif
    jmp_buf oom;
    KwArena *a = kw_arena_new(&oom);
    if (setjmp(oom) == 0) {
        kw_alloc(a, SIZE_MAX / 2);
        ck_abort_msg("kw_alloc(SIZE_MAX / 2) returned");
    }
    kw_arena_free(a);
}
END_TEST

/* KNOWN BUG (compiler/arena.c, kw_alloc): the size is rounded up with
 * `n = (n + 15) & ~15` before any check, so a request within 15 bytes of SIZE_MAX wraps
 * to 0 and kw_alloc returns a zero-byte block instead of reporting out-of-memory; slightly
 * smaller requests make `sizeof(Chunk) + cap` wrap in the malloc call and memset far past
 * the block. A KW_NEWN with a negative count (sizeof(T) * (size_t)-1) lands there. */
START_TEST(bug_arena_size_overflow)
{
    jmp_buf oom;
    KwArena *a = kw_arena_new(&oom);
    if (setjmp(oom) == 0) {
        void *p = kw_alloc(a, SIZE_MAX - 8);
        ck_abort_msg("kw_alloc(SIZE_MAX - 8) returned %p instead of longjmp'ing to the recovery point", p);
    }
    kw_arena_free(a);
}
END_TEST

/* ================================================================ KwBuf */

START_TEST(buf_basics)
{
    KwBuf b = {0};
    kw_buf_puts(&b, "hello");
    kw_buf_put(&b, ", wor", 5);
    kw_buf_printf(&b, "ld %d%c", 42, '!');
    ck_assert_uint_eq(b.len, strlen("hello, world 42!"));
    ck_assert_str_eq(b.p, "hello, world 42!");
    /* embedded NULs count in len */
    kw_buf_put(&b, "a\0b", 3);
    ck_assert_uint_eq(b.len, 19);
    size_t len = 0;
    char *s = kw_buf_take(&b, &len);
    ck_assert_uint_eq(len, 19);
    ck_assert(memcmp(s, "hello, world 42!a\0b", 20) == 0); /* NUL-terminated */
    ck_assert_ptr_null(b.p);
    ck_assert_uint_eq(b.len, 0);
    free(s);
    kw_buf_free(&b);
    kw_buf_free(&b); /* idempotent */
}
END_TEST

/* KNOWN BUG (compiler/strbuf.c, kw_buf_take via reserve): on a buffer that never received
 * text (p == NULL), reserve() mallocs 4096 bytes and nothing writes the terminating NUL, so
 * kw_buf_take returns uninitialised memory although kwcc_int.h promises a NUL-terminated
 * string. Only put/printf terminate. Reachable through kw_compile_bytes only if a
 * buffer stays empty (not today), but the helper's contract is broken. */
START_TEST(bug_buf_take_empty_not_terminated)
{
    KwBuf b = {0};
    /* glibc: fresh malloc blocks filled with 0xAA (AddressSanitizer fills them with 0xbe),
     * so the missing terminator shows deterministically */
    mallopt(M_PERTURB, 0x55);
    size_t len = 99;
    char *s = kw_buf_take(&b, &len);
    mallopt(M_PERTURB, 0);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(len, 0);
    ck_assert_msg(s[0] == 0, "kw_buf_take of an empty buffer returned an unterminated string starting with 0x%02x",
                  (unsigned char)s[0]);
    free(s);
}
END_TEST

START_TEST(buf_growth)
{
    KwBuf b = {0};
    char ref[64];
    size_t total = 0;
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(ref, sizeof ref, "line %d of the buffer\n", i);
        kw_buf_printf(&b, "line %d of the buffer\n", i);
        total += (size_t)n;
        ck_assert_uint_eq(b.len, total);
    }
    ck_assert(b.cap > b.len);
    ck_assert(b.p[b.len] == 0);
    ck_assert(strncmp(b.p + total - strlen("line 19999 of the buffer\n"), "line 19999 of the buffer\n", 25) == 0);
    /* a single append far larger than the current capacity */
    char *big = malloc(1 << 20);
    memset(big, 'q', 1 << 20);
    kw_buf_put(&b, big, 1 << 20);
    ck_assert_uint_eq(b.len, total + (1 << 20));
    ck_assert(b.p[b.len - 1] == 'q' && b.p[b.len] == 0);
    free(big);
    kw_buf_free(&b);
}
END_TEST

START_TEST(buf_oom_sticky)
{
    KwBuf b = {0};
    kw_buf_puts(&b, "before");
    b.oom = 1; /* as if a realloc had failed */
    kw_buf_puts(&b, "after");
    kw_buf_printf(&b, "%d", 5);
    ck_assert_uint_eq(b.len, 6);
    size_t len = 99;
    ck_assert_ptr_null(kw_buf_take(&b, &len));
    ck_assert_ptr_null(b.p); /* the buffer was released */
    kw_buf_free(&b);
}
END_TEST

/* ================================================================ IR helpers */

typedef struct Ctx {
    jmp_buf oom;
    KwArena *a;
    KwDiag d;
    Sink sink;
    KwOptions opt;
    KwGraph *g;
} Ctx;

static Ctx *ctx_new(void)
{
    Ctx *c = calloc(1, sizeof *c);
    c->a = kw_arena_new(&c->oom);
    c->d.path = "unit.onnx";
    c->d.sink = sink_fn;
    c->d.sink_ud = &c->sink;
    kw_options_init(&c->opt);
    c->g = kw_graph_new(c->a, &c->d, &c->opt);
    return c;
}

static void ctx_free(Ctx *c)
{
    kw_arena_free(c->a);
    free(c);
}

static KwShape shape(int rank, ...)
{
    KwShape s;
    memset(&s, 0, sizeof s);
    s.rank = rank;
    va_list ap;
    va_start(ap, rank);
    for (int i = 0; i < rank; i++)
        s.d[i] = va_arg(ap, int64_t);
    va_end(ap);
    return s;
}
#define SH(r, ...) shape((r), __VA_ARGS__)

START_TEST(ir_numel_shape_str)
{
    Ctx *c = ctx_new();
    KwShape s0 = {0, {0}};
    ck_assert_int_eq(kw_numel(&s0), 1); /* a scalar has one element */
    ck_assert_str_eq(kw_shape_str(c->a, &s0), "[]");
    KwShape s = SH(4, (int64_t)1, (int64_t)64, (int64_t)56, (int64_t)56);
    ck_assert_int_eq(kw_numel(&s), 64 * 56 * 56);
    ck_assert_str_eq(kw_shape_str(c->a, &s), "[1,64,56,56]");
    KwShape z = SH(3, (int64_t)2, (int64_t)0, (int64_t)4);
    ck_assert_int_eq(kw_numel(&z), 0);
    ck_assert_str_eq(kw_shape_str(c->a, &z), "[2,0,4]");
    /* the widest shape string: rank 12 of the most negative int64 */
    KwShape w;
    w.rank = KW_MAX_RANK;
    for (int i = 0; i < KW_MAX_RANK; i++)
        w.d[i] = INT64_MIN;
    const char *ws = kw_shape_str(c->a, &w);
    ck_assert_uint_eq(strlen(ws), 2 + 12 * 20 + 11);
    ck_assert(strncmp(ws, "[-9223372036854775808,", 22) == 0);
    ck_assert(ws[strlen(ws) - 1] == ']');
    ck_assert(kw_shape_eq(&s, &s));
    ck_assert(!kw_shape_eq(&s, &z));
    KwShape s2 = s;
    s2.d[3] = 55;
    ck_assert(!kw_shape_eq(&s, &s2));
    ck_assert_str_eq(kw_dtype_name(KW_F32), "float32");
    ck_assert_str_eq(kw_dtype_name(KW_I64), "int64");
    ck_assert_int_eq(kw_dtype_size(KW_F32), 4);
    ck_assert_int_eq(kw_dtype_size(KW_I64), 8);
    ctx_free(c);
}
END_TEST

START_TEST(ir_norm_axis)
{
    int64_t a = -99;
    ck_assert_int_eq(kw_norm_axis(0, 4, &a), 0);
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(kw_norm_axis(3, 4, &a), 0);
    ck_assert_int_eq(a, 3);
    ck_assert_int_eq(kw_norm_axis(-1, 4, &a), 0);
    ck_assert_int_eq(a, 3);
    ck_assert_int_eq(kw_norm_axis(-4, 4, &a), 0);
    ck_assert_int_eq(a, 0);
    a = 77;
    ck_assert_int_eq(kw_norm_axis(4, 4, &a), -1);
    ck_assert_int_eq(kw_norm_axis(-5, 4, &a), -1);
    ck_assert_int_eq(kw_norm_axis(INT64_MAX, 4, &a), -1);
    ck_assert_int_eq(kw_norm_axis(INT64_MIN, 4, &a), -1);
    ck_assert_int_eq(kw_norm_axis(0, 0, &a), -1); /* a scalar has no axis */
    ck_assert_int_eq(a, 77);                       /* untouched on error */
}
END_TEST

START_TEST(ir_bcast_shape)
{
    Ctx *c = ctx_new();
    int ni = kw_node_new(c->g, KW_OP_Add, "add_7", 2, 1);
    KwNode *n = &c->g->n[ni];
    KwShape out;
    struct {
        KwShape a, b, want;
    } ok[] = {
        {SH(4, (int64_t)1, (int64_t)3, (int64_t)1, (int64_t)5), SH(2, (int64_t)4, (int64_t)1),
         SH(4, (int64_t)1, (int64_t)3, (int64_t)4, (int64_t)5)},
        {SH(0, 0), SH(3, (int64_t)2, (int64_t)3, (int64_t)4), SH(3, (int64_t)2, (int64_t)3, (int64_t)4)},
        {SH(2, (int64_t)2, (int64_t)3), SH(0, 0), SH(2, (int64_t)2, (int64_t)3)},
        {SH(2, (int64_t)0, (int64_t)3), SH(1, (int64_t)1), SH(2, (int64_t)0, (int64_t)3)},
        {SH(2, (int64_t)1, (int64_t)3), SH(2, (int64_t)0, (int64_t)1), SH(2, (int64_t)0, (int64_t)3)},
        {SH(1, (int64_t)7), SH(1, (int64_t)7), SH(1, (int64_t)7)},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_int_eq(kw_bcast_shape(c->g, n, &ok[i].a, &ok[i].b, &out), 0);
        ck_assert_msg(kw_shape_eq(&out, &ok[i].want), "case %zu: %s", i, kw_shape_str(c->a, &out));
        KwShape b2 = ok[i].b;
        ck_assert_int_eq(kw_bcast_shape(c->g, n, &ok[i].a, &b2, &b2), 0); /* out aliasing an operand */
        ck_assert(kw_shape_eq(&b2, &ok[i].want));
    }
    ck_assert_int_eq(c->d.n_errors, 0);
    KwShape a = SH(2, (int64_t)2, (int64_t)3), b = SH(2, (int64_t)4, (int64_t)3);
    out = SH(1, (int64_t)123);
    ck_assert_int_eq(kw_bcast_shape(c->g, n, &a, &b, &out), -1);
    ck_assert_int_eq(c->d.n_errors, 1);
    ck_assert_int_eq(c->sink.n, 1);
    ck_assert_msg(strstr(c->sink.last, "kwcc: error: unit.onnx: node 'add_7' (Add):") == c->sink.last, "%s",
                  c->sink.last);
    ck_assert_msg(strstr(c->sink.last, "[2,3]") && strstr(c->sink.last, "[4,3]"), "%s", c->sink.last);
    ck_assert(out.rank == 1 && out.d[0] == 123); /* untouched on error */
    KwShape z = SH(1, (int64_t)0), t = SH(1, (int64_t)3);
    ck_assert_int_eq(kw_bcast_shape(c->g, n, &z, &t, &out), -1); /* 0 does not broadcast with 3 */
    ck_assert_int_eq(c->d.n_errors, 2);
    ctx_free(c);
}
END_TEST

static KwAttr *add_raw_attr(Ctx *c, KwNode *n, const char *name, KwAttrType t)
{
    KwAttr *a = KW_NEWN(c->a, KwAttr, n->n_attr + 1);
    if (n->n_attr)
        memcpy(a, n->attr, sizeof *a * (size_t)n->n_attr);
    n->attr = a;
    a = &n->attr[n->n_attr++];
    memset(a, 0, sizeof *a);
    a->name = kw_strdup(c->a, name);
    a->type = t;
    a->tensor = -1;
    return a;
}

START_TEST(ir_attr_getters)
{
    Ctx *c = ctx_new();
    if (setjmp(c->oom))
        ck_abort_msg("out of memory");
    KwGraph *g = c->g;
    int ni = kw_node_new(g, KW_OP_Conv, "conv_1", 2, 1); /* before g->n is read: it may move */
    KwNode *n = &g->n[ni];
    kw_set_attr_int(g, n, "group", 4);
    kw_set_attr_float(g, n, "alpha", 0.5f);
    KwAttr *s = add_raw_attr(c, n, "auto_pad", KW_AT_STRING);
    s->s = "SAME_UPPER";
    KwAttr *is = add_raw_attr(c, n, "pads", KW_AT_INTS);
    int64_t pads[4] = {1, 2, 3, 4};
    is->n = 4;
    is->ints = pads;
    int64_t iv;
    float fv;
    const char *sv;
    int64_t list[8];
    int cnt;
    /* present, right type */
    ck_assert_int_eq(kw_attr_int(g, n, "group", 1, &iv), 0);
    ck_assert_int_eq(iv, 4);
    ck_assert_int_eq(kw_attr_float(g, n, "alpha", 1, &fv), 0);
    ck_assert(fv == 0.5f);
    ck_assert_int_eq(kw_attr_string(g, n, "auto_pad", "NOTSET", &sv), 0);
    ck_assert_str_eq(sv, "SAME_UPPER");
    ck_assert_int_eq(kw_attr_ints(g, n, "pads", list, 8, &cnt), 0);
    ck_assert_int_eq(cnt, 4);
    ck_assert(list[0] == 1 && list[3] == 4);
    /* absent: the default, no error */
    ck_assert_int_eq(kw_attr_int(g, n, "nope", 7, &iv), 0);
    ck_assert_int_eq(iv, 7);
    ck_assert_int_eq(kw_attr_float(g, n, "nope", 2.5f, &fv), 0);
    ck_assert(fv == 2.5f);
    ck_assert_int_eq(kw_attr_string(g, n, "nope", "dflt", &sv), 0);
    ck_assert_str_eq(sv, "dflt");
    ck_assert_int_eq(kw_attr_ints(g, n, "nope", list, 8, &cnt), 0);
    ck_assert_int_eq(cnt, -1);
    ck_assert_int_eq(c->d.n_errors, 0);
    /* wrong types: -1 and one counted error each, naming the attribute and the type */
    ck_assert_int_eq(kw_attr_int(g, n, "alpha", 0, &iv), -1);
    ck_assert_int_eq(c->d.n_errors, 1);
    ck_assert_msg(strstr(c->sink.last, "'alpha'") && strstr(c->sink.last, "float") &&
                      strstr(c->sink.last, "expected int"),
                  "%s", c->sink.last);
    ck_assert_int_eq(kw_attr_float(g, n, "group", 0, &fv), -1);
    ck_assert_int_eq(kw_attr_string(g, n, "pads", "", &sv), -1);
    ck_assert_int_eq(kw_attr_ints(g, n, "auto_pad", list, 8, &cnt), -1);
    ck_assert_int_eq(cnt, -1);
    ck_assert_int_eq(c->d.n_errors, 4);
    ck_assert_msg(strstr(c->sink.last, "node 'conv_1' (Conv)"), "%s", c->sink.last);
    /* too many values for the caller's array */
    ck_assert_int_eq(kw_attr_ints(g, n, "pads", list, 3, &cnt), -1);
    ck_assert_int_eq(c->d.n_errors, 5);
    /* kw_set_attr_* replaces an existing attribute instead of adding a second one */
    int before = n->n_attr;
    kw_set_attr_int(g, n, "group", 2);
    ck_assert_int_eq(n->n_attr, before);
    ck_assert_int_eq(kw_attr_int(g, n, "group", 1, &iv), 0);
    ck_assert_int_eq(iv, 2);
    ctx_free(c);
}
END_TEST

START_TEST(ir_const_ints)
{
    Ctx *c = ctx_new();
    if (setjmp(c->oom))
        ck_abort_msg("out of memory");
    KwGraph *g = c->g;
    int64_t vals[3] = {5, -1, 7}, one = 9;
    KwShape s3 = SH(1, (int64_t)3), s0 = {0, {0}}, s22 = SH(2, (int64_t)2, (int64_t)2);
    int ci = kw_const_new(g, "shape", KW_I64, &s3, vals);
    int cs = kw_const_new(g, "scalar", KW_I64, &s0, &one);
    int64_t two[4] = {1, 2, 3, 4};
    int c2 = kw_const_new(g, "mat", KW_I64, &s22, two);
    float fl[3] = {1, 2, 3};
    int cf = kw_const_f32(g, "f", 1, (int64_t[]){3}, fl);
    int x = kw_value_new(g, "x");
    ck_assert(kw_is_const(g, ci) && !kw_is_const(g, x) && !kw_is_const(g, -1));
    int ni = kw_node_new(g, KW_OP_Reshape, "r", 2, 1);
    KwNode *n = &g->n[ni];
    int64_t out[8];
    int cnt;
    n->in[0] = x;
    n->in[1] = ci;
    ck_assert_int_eq(kw_const_ints(g, n, 1, out, 8, &cnt), 0);
    ck_assert_int_eq(cnt, 3);
    ck_assert(out[0] == 5 && out[1] == -1 && out[2] == 7);
    n->in[1] = cs;
    ck_assert_int_eq(kw_const_ints(g, n, 1, out, 8, &cnt), 0);
    ck_assert(cnt == 1 && out[0] == 9);
    n->in[1] = -1; /* absent optional input */
    ck_assert_int_eq(kw_const_ints(g, n, 1, out, 8, &cnt), 0);
    ck_assert_int_eq(cnt, -1);
    ck_assert_int_eq(c->d.n_errors, 0);
    n->in[1] = x; /* not a constant */
    ck_assert_int_eq(kw_const_ints(g, n, 1, out, 8, &cnt), -1);
    n->in[1] = cf; /* float */
    ck_assert_int_eq(kw_const_ints(g, n, 1, out, 8, &cnt), -1);
    n->in[1] = c2; /* rank 2 */
    ck_assert_int_eq(kw_const_ints(g, n, 1, out, 8, &cnt), -1);
    n->in[1] = ci; /* more values than room */
    ck_assert_int_eq(kw_const_ints(g, n, 1, out, 2, &cnt), -1);
    ck_assert_int_eq(c->d.n_errors, 4);
    ck_assert(kw_const_scalar(g, cf) == 1.0f && kw_const_scalar(g, cs) == 9.0f);
    ctx_free(c);
}
END_TEST

START_TEST(ir_graph_building)
{
    Ctx *c = ctx_new();
    if (setjmp(c->oom))
        ck_abort_msg("out of memory");
    KwGraph *g = c->g;
    /* many values and nodes: the arrays grow and keep their contents */
    for (int i = 0; i < 1000; i++) {
        int v = kw_value_new(g, kw_fmt(c->a, "v%d", i));
        ck_assert_int_eq(v, i);
        ck_assert_int_eq(g->v[v].shape.rank, -1);
        ck_assert_int_eq(g->v[v].producer, -1);
        ck_assert_int_eq(g->v[v].input_index, -1);
    }
    for (int i = 0; i < 600; i++) {
        int k = kw_node_new(g, KW_OP_Relu, kw_fmt(c->a, "n%d", i), 1, 1);
        ck_assert_int_eq(k, i);
        g->n[k].in[0] = i;
        g->n[k].out[0] = i + 1;
    }
    for (int i = 0; i < 1000; i++)
        ck_assert_str_eq(g->v[i].name, kw_fmt(c->a, "v%d", i));
    for (int i = 0; i < 600; i++) {
        ck_assert_str_eq(g->n[i].name, kw_fmt(c->a, "n%d", i));
        ck_assert_str_eq(g->n[i].op_type, "Relu");
        ck_assert(g->n[i].in[0] == i && g->n[i].out[0] == i + 1);
        ck_assert(g->n[i].epi.scale == -1 && g->n[i].epi.res == -1);
    }
    ck_assert_ptr_null(kw_in(g, &g->n[0], 1));
    ck_assert_ptr_eq(kw_in(g, &g->n[0], 0), &g->v[0]);
    ck_assert_ptr_eq(kw_out(g, &g->n[0], 0), &g->v[1]);
    ctx_free(c);
}
END_TEST

START_TEST(diag_format)
{
    KwDiag d = {0};
    Sink s = {0};
    d.sink = sink_fn;
    d.sink_ud = &s;
    ck_assert_int_eq(kw_error(&d, NULL, "bad %s %d", "thing", 3), -1);
    ck_assert_str_eq(s.last, "kwcc: error: <model>: bad thing 3");
    d.path = "m.onnx";
    char longmsg[3000];
    memset(longmsg, 'z', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = 0;
    ck_assert_int_eq(kw_error(&d, NULL, "%s", longmsg), -1); /* truncated, not overflowing */
    ck_assert(strncmp(s.last, "kwcc: error: m.onnx: zzz", 24) == 0);
    ck_assert_int_eq(d.n_errors, 2);
    ck_assert_int_eq(s.n, 2);
}
END_TEST

/* ================================================================ public API */

static const char *const api_models[] = {
    "nets/resnet_tiny_op13",   "nets/mobilenetv2_tiny_op13", "nets/convnext_tiny_op13",
    "nets/convnext_tiny_op17", "nets/mlp_softmax_op11",      "nets/conv1d_net_op13",
    "nets/conv3d_net_op17",    "nets/misc_pool_concat_split_op13",
    "kw/resnet_basic",         "kw/ratios_t03_opset17",      "kw/resnet_bottleneck_basis",
    "kw/mbv2_tiny",            "kw/convnext_tiny",           "kw/kw1d_net",
    "kw/kw3d_net",             "kw/kwlinear_mlp_opset17",    "kw/mixed_grouped_nsp",
    "ops/conv_2d_basic",       "ops/concat_zero_len_input",  "ops/split_num_outputs_uneven_op18",
    "ops/identity_basic",      "ops/constant_value_tensor",
};

static char *model_file(const char *rel)
{
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s/model.onnx", fixtures_dir(), rel);
    return p;
}

START_TEST(api_compile_fixture)
{
    const char *rel = api_models[_i];
    const char *path = model_file(rel);
    size_t len;
    unsigned char *buf = read_all(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    Sink sink = {0};
    KwOptions opt;
    kw_options_init(&opt);
    opt.sink = sink_fn;
    opt.sink_ud = &sink;
    opt.name = "net";
    KwResult r1, r2, r3;
    int st = kw_compile_bytes(buf, len, path, &opt, &r1);
    ck_assert_msg(st == KW_OK && r1.status == KW_OK, "%s: status %d: %s", rel, st, sink.first);
    ck_assert_int_eq(sink.n, 0);
    ck_assert_ptr_nonnull(r1.c_text);
    ck_assert_ptr_nonnull(r1.h_text);
    ck_assert(r1.c_len > 1000 && strlen(r1.c_text) == r1.c_len);
    ck_assert(r1.h_len > 100 && strlen(r1.h_text) == r1.h_len);
    ck_assert_msg(strstr(r1.c_text, "int net_run(") && strstr(r1.h_text, "int net_run("), "%s: no net_run", rel);
    ck_assert_msg(strstr(r1.c_text, "#include \"net.h\""), "%s: the C file does not include net.h", rel);
    if (strncmp(rel, "ops/", 4)) /* single ops write straight into the output */
        ck_assert_msg(r1.workspace_bytes > 0, "%s: workspace_bytes %lld", rel, (long long)r1.workspace_bytes);
    ck_assert(r1.workspace_bytes >= 0 && r1.weight_bytes >= 0);
    if (strncmp(rel, "ops/", 4))
        ck_assert_msg(r1.weight_bytes > 0, "%s: weight_bytes %lld", rel, (long long)r1.weight_bytes);
    /* deterministic: the same bytes give the same text */
    ck_assert_int_eq(kw_compile_bytes(buf, len, path, &opt, &r2), KW_OK);
    ck_assert_msg(r1.c_len == r2.c_len && memcmp(r1.c_text, r2.c_text, r1.c_len) == 0, "%s: C text differs", rel);
    ck_assert_msg(r1.h_len == r2.h_len && memcmp(r1.h_text, r2.h_text, r1.h_len) == 0, "%s: header differs", rel);
    ck_assert(r1.workspace_bytes == r2.workspace_bytes && r1.weight_bytes == r2.weight_bytes);
    /* kw_compile_file reads the same bytes */
    ck_assert_int_eq(kw_compile_file(path, &opt, &r3), KW_OK);
    ck_assert_msg(r1.c_len == r3.c_len && memcmp(r1.c_text, r3.c_text, r1.c_len) == 0, "%s: file vs bytes", rel);
    kw_result_free(&r1);
    kw_result_free(&r2);
    kw_result_free(&r3);
    ck_assert_ptr_null(r1.c_text);
    kw_result_free(&r1); /* twice is harmless */
    free(buf);
}
END_TEST

START_TEST(api_kw_fusion_option)
{
    /* a KernelWarehouse model: fused into KwConv (kw_attention + assembly) by default; the
     * generic path with no_kw_fusion; both compile */
    const char *path = model_file("kw/resnet_basic");
    KwOptions opt;
    kw_options_init(&opt);
    KwResult a, b;
    ck_assert_int_eq(kw_compile_file(path, &opt, &a), KW_OK);
    opt.no_kw_fusion = 1;
    ck_assert_int_eq(kw_compile_file(path, &opt, &b), KW_OK);
    /* calls look like "kw_attention(&kw_p12_0, ..." (the pasted kw_rt.h has prototypes) */
    ck_assert_ptr_nonnull(strstr(a.c_text, "kw_attention(&kw_p"));
    ck_assert_ptr_null(strstr(b.c_text, "kw_attention(&kw_p"));
    /* the BatchNorms after the KW convs (behind the Reshape the export leaves) are in the
     * convs' epilogues: no standalone affine pass */
    ck_assert_ptr_null(strstr(a.c_text, "kw_affine(&kw_p"));
    ck_assert(a.c_len != b.c_len || memcmp(a.c_text, b.c_text, a.c_len) != 0);
    kw_result_free(&a);
    kw_result_free(&b);
}
END_TEST

START_TEST(api_targets)
{
    /* every target compiles every net and KW fixture; a vector target gives other code than
     * the portable one for a conv net */
    static const char *const models[] = {"nets/resnet_tiny_op13", "nets/conv1d_net_op13", "nets/conv3d_net_op17",
                                         "kw/resnet_basic", "kw/mixed_grouped_nsp", "kw/kw3d_net"};
    static const KwTargetKind targets[] = {KW_TARGET_GENERIC, KW_TARGET_AVX2, KW_TARGET_AVX512, KW_TARGET_NEON,
                                           KW_TARGET_HOST};
    for (size_t mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        KwResult base;
        memset(&base, 0, sizeof base);
        for (size_t ti = 0; ti < sizeof targets / sizeof targets[0]; ti++) {
            KwOptions opt;
            kw_options_init(&opt);
            Sink sink = {0};
            opt.sink = sink_fn;
            opt.sink_ud = &sink;
            opt.target = targets[ti];
            KwResult r;
            int st = kw_compile_file(model_file(models[mi]), &opt, &r);
            ck_assert_msg(st == KW_OK, "%s, target %d: status %d: %s", models[mi], (int)targets[ti], st, sink.first);
            ck_assert(r.c_text && r.c_len > 0);
            if (ti == 0)
                base = r;
            else {
                if (ti == 1 && mi == 0)
                    ck_assert_msg(r.c_len != base.c_len || memcmp(r.c_text, base.c_text, r.c_len) != 0,
                                  "%s: avx2 and generic give the same C", models[mi]);
                kw_result_free(&r);
            }
        }
        kw_result_free(&base);
    }
}
END_TEST

/* The line of c_text holding the first call of `fn`, up to its end; NULL when absent. */
static char *call_line(const char *c_text, const char *fn, char *buf, size_t cap)
{
    const char *p = strstr(c_text, fn), *e;
    if (!p)
        return NULL;
    e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    n = n < cap - 1 ? n : cap - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    return buf;
}

START_TEST(api_vector_lowering_choices)
{
    /* what lower.c decides for the x86 kernels, seen in the generated C: max pooling reads
     * its input in place (no scratch argument); the stem conv (variant A, padding columns,
     * rows of 16) stores straight to its output on both x86 targets (no Y' buffer); a KW conv
     * on 4x4 images takes the chunked path, whose scratch is one chunk and the tiles' partial
     * sums; variant B's chunk of input channels */
    static const KwTargetKind x86[] = {KW_TARGET_AVX512, KW_TARGET_AVX2};
    char line[1024];
    for (size_t ti = 0; ti < 2; ti++) {
        KwOptions opt;
        kw_options_init(&opt);
        opt.target = x86[ti];
        KwResult r;
        ck_assert_int_eq(kw_compile_file(model_file("nets/resnet_tiny_op13"), &opt, &r), KW_OK);
        ck_assert_ptr_nonnull(call_line(r.c_text, "    kw_maxpool_simd(&kw_p", line, sizeof line));
        ck_assert_msg(strstr(line, ", NULL);") != NULL, "target %d: %s", (int)x86[ti], line);
        ck_assert_ptr_nonnull(call_line(r.c_text, "static const KwConvFP kw_p0_0 =", line, sizeof line));
        ck_assert_msg(strstr(line, ".Wq = 19") && strstr(line, ".rb = 8, .ystore = 1, .bcc = 0}"), "target %d: %s",
                      (int)x86[ti], line);
        kw_result_free(&r);
    }
    KwOptions opt;
    kw_options_init(&opt);
    opt.target = KW_TARGET_NEON; /* no masked stores: the stem keeps its Y' buffer */
    KwResult r;
    ck_assert_int_eq(kw_compile_file(model_file("nets/resnet_tiny_op13"), &opt, &r), KW_OK);
    ck_assert_ptr_nonnull(call_line(r.c_text, "static const KwConvFP kw_p0_0 =", line, sizeof line));
    ck_assert_msg(strstr(line, ".rb = 8, .ystore = 0, .bcc = 0}"), "neon: %s", line);
    kw_result_free(&r);
    opt.target = KW_TARGET_AVX512;
    ck_assert_int_eq(kw_compile_file(model_file("kw/wide_cells_4x4"), &opt, &r), KW_OK);
    ck_assert_ptr_nonnull(strstr(r.c_text, ".chunked = 1}"));
    kw_result_free(&r);
    /* 24 tiles of 12x12 (more than variant B's groups of 16): still the chunked path */
    ck_assert_int_eq(kw_compile_file(model_file("kw/chunked_12x12"), &opt, &r), KW_OK);
    ck_assert_ptr_nonnull(call_line(r.c_text, "static const KwKwConvP kw_p", line, sizeof line));
    ck_assert_msg(strstr(line, ".OH = 12, .OW = 12") && strstr(line, ".chunked = 1}"), "%s", line);
    kw_result_free(&r);
    /* both KW convs of chunked_go_4x4 (Go 2, 4 tiles each) take the chunked path with their
     * two blocks together, each block's share of the chunk half of KW_B_CHUNK_BYTES: 4
     * streams (Gi 1: bcc 4), 2 for each of Gi 2 (bcc 4); scratch one chunk of both blocks */
    ck_assert_int_eq(kw_compile_file(model_file("kw/chunked_go_4x4"), &opt, &r), KW_OK);
    {
        const char *at = r.c_text;
        int found = 0;
        while ((at = strstr(at, "static const KwKwConvP kw_p")) != NULL) {
            call_line(at, "static const KwKwConvP kw_p", line, sizeof line);
            ck_assert_msg(strstr(line, ".bcc = 4}") && strstr(line, ".Go = 2") && strstr(line, ".grp = 2, .chunked = 1}"),
                          "%s", line);
            found++;
            at++;
        }
        ck_assert_int_eq(found, 2);
    }
    kw_result_free(&r);
    /* variant B's chunk of input channels (bcc): 8 for the 4x4 images of resnet_tiny (one
     * group of tiles, 32 input channels), all 32 for the 72 tiles of a 3x3 conv at 24x21 */
    ck_assert_int_eq(kw_compile_file(model_file("nets/resnet_tiny_op13"), &opt, &r), KW_OK);
    ck_assert_ptr_nonnull(strstr(r.c_text, ".Cg = 32, .Og = 32, .H = 4, .W = 4"));
    ck_assert_ptr_null(strstr(r.c_text, ".bcc = 32}"));
    ck_assert_ptr_nonnull(strstr(r.c_text, ".rb = 64, .ystore = 0, .bcc = 8}"));
    kw_result_free(&r);
    ck_assert_int_eq(kw_compile_file(model_file("ops/conv_2d_3x3_128ch_whole_chunk"), &opt, &r), KW_OK);
    ck_assert_ptr_nonnull(call_line(r.c_text, "static const KwConvFP kw_p0_0 =", line, sizeof line));
    ck_assert_msg(strstr(line, ".rb = 64, .ystore = 0, .bcc = 32}"), "%s", line);
    kw_result_free(&r);
}
END_TEST

START_TEST(api_names)
{
    size_t len;
    unsigned char *buf = read_all(model_file("ops/relu_rank4"), &len);
    ck_assert_ptr_nonnull(buf);
    KwOptions opt;
    kw_options_init(&opt);
    Sink sink = {0};
    opt.sink = sink_fn;
    opt.sink_ud = &sink;
    KwResult r;
    /* the default prefix comes from the file's base name, made a C identifier */
    ck_assert_int_eq(kw_compile_bytes(buf, len, "models/ResNet-18.v2.onnx", &opt, &r), KW_OK);
    ck_assert_msg(strstr(r.h_text, "int resnet_18_v2_run("), "%.300s", r.h_text);
    ck_assert_ptr_nonnull(strstr(r.c_text, "#include \"resnet_18_v2.h\""));
    kw_result_free(&r);
    ck_assert_int_eq(kw_compile_bytes(buf, len, "9lives.onnx", &opt, &r), KW_OK);
    ck_assert_ptr_nonnull(strstr(r.h_text, "int m9lives_run("));
    kw_result_free(&r);
    opt.header = "include/model_api.h";
    opt.name = "Net_2";
    ck_assert_int_eq(kw_compile_bytes(buf, len, "x.onnx", &opt, &r), KW_OK);
    ck_assert_ptr_nonnull(strstr(r.c_text, "#include \"include/model_api.h\""));
    ck_assert_ptr_nonnull(strstr(r.h_text, "int Net_2_run("));
    kw_result_free(&r);
    /* a --name that is not a C identifier is bad input, reported through the sink */
    opt.name = "1net";
    ck_assert_int_eq(kw_compile_bytes(buf, len, "x.onnx", &opt, &r), KW_ERR_INPUT);
    ck_assert_ptr_null(r.c_text);
    ck_assert_ptr_null(r.h_text);
    ck_assert_int_eq(sink.n, 1);
    ck_assert_msg(strstr(sink.last, "not a C identifier"), "%s", sink.last);
    opt.name = "";
    ck_assert_int_eq(kw_compile_bytes(buf, len, "x.onnx", &opt, &r), KW_ERR_INPUT);
    opt.name = "a-b";
    ck_assert_int_eq(kw_compile_bytes(buf, len, "x.onnx", &opt, &r), KW_ERR_INPUT);
    ck_assert_int_eq(sink.n, 3);
    kw_result_free(&r);
    free(buf);
}
END_TEST

START_TEST(api_bad_input)
{
    KwOptions opt;
    kw_options_init(&opt);
    Sink sink = {0};
    opt.sink = sink_fn;
    opt.sink_ud = &sink;
    KwResult r;
    /* garbage */
    unsigned char junk[512];
    Rng rg = rng_seed(3);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rng_u64(&rg);
    ck_assert_int_eq(kw_compile_bytes(junk, sizeof junk, "junk.onnx", &opt, &r), KW_ERR_INPUT);
    ck_assert_int_eq(r.status, KW_ERR_INPUT);
    ck_assert_ptr_null(r.c_text);
    ck_assert_ptr_null(r.h_text);
    ck_assert_int_ge(sink.n, 1);
    ck_assert_msg(strncmp(sink.first, "kwcc: error: junk.onnx: ", 24) == 0, "%s", sink.first);
    /* text that is not protobuf */
    const char *txt = "this is not an ONNX model\n";
    sink.n = 0;
    ck_assert_int_eq(kw_compile_bytes(txt, strlen(txt), "t.onnx", &opt, &r), KW_ERR_INPUT);
    ck_assert_int_ge(sink.n, 1);
    /* empty: decodes as an empty ModelProto, which has no graph and no opset */
    sink.n = 0;
    ck_assert_int_eq(kw_compile_bytes("", 0, "empty.onnx", &opt, &r), KW_ERR_INPUT);
    ck_assert_int_ge(sink.n, 1);
    /* every truncation of a real model is rejected or compiled, never a crash */
    size_t len;
    unsigned char *buf = read_all(model_file("ops/conv_2d_basic"), &len);
    ck_assert_ptr_nonnull(buf);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 16) {
        sink.n = 0;
        int st = kw_compile_bytes(buf, cut, "cut.onnx", &opt, &r);
        ck_assert_msg(st == KW_ERR_INPUT || st == KW_OK, "cut at %zu: status %d", cut, st);
        if (st == KW_ERR_INPUT)
            ck_assert_msg(sink.n >= 1 && r.c_text == NULL, "cut at %zu: no error reported", cut);
        kw_result_free(&r);
    }
    /* single flipped bytes */
    for (size_t i = 0; i < len; i += 7) {
        unsigned char save = buf[i];
        buf[i] ^= 0x5B;
        int st = kw_compile_bytes(buf, len, "flip.onnx", &opt, &r);
        ck_assert_msg(st == KW_ERR_INPUT || st == KW_OK, "flip at %zu: status %d", i, st);
        kw_result_free(&r);
        buf[i] = save;
    }
    free(buf);
}
END_TEST

START_TEST(api_file_errors)
{
    /* kw_compile_file's own errors (cannot open, a directory) are bad input, reported
     * through opt.sink like every model error */
    KwOptions opt;
    kw_options_init(&opt);
    Sink sink = {0};
    opt.sink = sink_fn;
    opt.sink_ud = &sink;
    KwResult r;
    Quiet q = quiet_begin();
    int st = kw_compile_file("/nonexistent/dir/model.onnx", &opt, &r);
    int st2 = kw_compile_file(fixtures_dir(), &opt, &r); /* a directory */
    quiet_end(q);
    ck_assert_int_eq(st, KW_ERR_INPUT);
    ck_assert_int_eq(st2, KW_ERR_INPUT);
    ck_assert_int_eq(r.status, KW_ERR_INPUT);
    ck_assert_ptr_null(r.c_text);
    ck_assert_int_eq(sink.n, 2);
    ck_assert_msg(strncmp(sink.first, "kwcc: error: /nonexistent/dir/model.onnx: ", 42) == 0, "%s", sink.first);
    /* without a sink: stderr, same status */
    opt.sink = NULL;
    q = quiet_begin();
    st = kw_compile_file("/nonexistent/dir/model.onnx", &opt, &r);
    quiet_end(q);
    ck_assert_int_eq(st, KW_ERR_INPUT);
}
END_TEST

START_TEST(api_inspect)
{
    /* opt.inspect: the `kwcc inspect` table (1) or JSON (2) in res.report, no C text */
    const char *path = model_file("kw/resnet_basic");
    KwOptions opt;
    kw_options_init(&opt);
    KwResult r;
    for (int mode = 1; mode <= 2; mode++) {
        opt.inspect = mode;
        ck_assert_int_eq(kw_compile_file(path, &opt, &r), KW_OK);
        ck_assert_ptr_nonnull(r.report);
        ck_assert_uint_gt(strlen(r.report), 50);
        ck_assert_ptr_null(r.c_text);
        ck_assert(r.workspace_bytes > 0 && r.weight_bytes > 0);
        if (mode == 2) {
            const char *p = r.report;
            while (*p == ' ' || *p == '\n')
                p++;
            ck_assert_msg(*p == '{' || *p == '[', "JSON report starts with '%c'", *p);
        }
        kw_result_free(&r);
    }
}
END_TEST

static Suite *compiler_suite(void)
{
    Suite *s = suite_create("compiler");
    TCase *tc = tcase_create("arena");
    tcase_add_test(tc, arena_alignment_and_zeroing);
    tcase_add_test(tc, arena_big_blocks);
    tcase_add_test(tc, arena_strings);
    tcase_add_test(tc, arena_fail_after);
    tcase_add_test(tc, arena_real_exhaustion);
    suite_add_tcase(s, tc);
    tc = tcase_create("strbuf");
    tcase_add_test(tc, buf_basics);
    tcase_add_test(tc, buf_growth);
    tcase_add_test(tc, buf_oom_sticky);
    suite_add_tcase(s, tc);
    tc = tcase_create("ir");
    tcase_add_test(tc, ir_numel_shape_str);
    tcase_add_test(tc, ir_norm_axis);
    tcase_add_test(tc, ir_bcast_shape);
    tcase_add_test(tc, ir_attr_getters);
    tcase_add_test(tc, ir_const_ints);
    tcase_add_test(tc, ir_graph_building);
    tcase_add_test(tc, diag_format);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, api_compile_fixture, 0, (int)(sizeof api_models / sizeof api_models[0]));
    tcase_add_test(tc, api_kw_fusion_option);
    tcase_add_test(tc, api_names);
    tcase_add_test(tc, api_targets);
    tcase_add_test(tc, api_vector_lowering_choices);
    tcase_add_test(tc, api_bad_input);
    tcase_add_test(tc, api_file_errors);
    tcase_add_test(tc, api_inspect);
    suite_add_tcase(s, tc);
    KW_REGRESSION(s, bug_arena_size_overflow);
    KW_REGRESSION(s, bug_buf_take_empty_not_terminated);
    return s;
}

int main(void) { return run_suite(compiler_suite()); }
