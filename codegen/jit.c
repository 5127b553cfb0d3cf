/* jit.c -- `kwcc run`: compile a model's C in memory with libtcc, bind the kernels, run it.
 *
 * The only file of kwcc that includes libtcc.h. Built without libtcc (KWCC_HAVE_LIBTCC
 * undefined), it keeps its API and kw_jit_available() says 0.
 *
 * Why the generated text is bound rather than compiled whole: tcc has no SIMD intrinsics, no
 * vectoriser and is slow on the 130 MB of literals a 47 MB weight blob becomes. So the text
 * kwcc hands to tcc (KwEmitOpts.jit) holds only the parameter structs and the calls; the
 * kernels come precompiled by gcc -O3 for the target (jit_kernels.c) and the weights are the
 * blob kwcc already has in memory, both given to tcc by symbol (tcc_add_symbol). tcc compiles
 * a few hundred lines in milliseconds and the inference runs the same kernels as the AOT file.
 *
 * libtcc API: 0.9.27 (Debian 12) relocates with tcc_relocate(s, TCC_RELOCATE_AUTO); newer
 * releases with tcc_relocate(s). CMake tests which one compiles (KWCC_TCC_RELOCATE_AUTO). */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jit.h"

#ifdef KWCC_HAVE_LIBTCC
#include <libtcc.h>
#endif

double kw_jit_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------- kernel tables */

/* jit_kernels.c, compiled per instruction set (KWCC_JIT_<ISA> says which copies exist) */
#ifdef KWCC_HAVE_LIBTCC
extern const KwJitFn kw_jit_kernels_generic[KW_K_COUNT];
#ifdef KWCC_JIT_AVX2
extern const KwJitFn kw_jit_kernels_avx2[KW_K_COUNT];
#endif
#ifdef KWCC_JIT_AVX512
extern const KwJitFn kw_jit_kernels_avx512[KW_K_COUNT];
#endif
#ifdef KWCC_JIT_NEON
extern const KwJitFn kw_jit_kernels_neon[KW_K_COUNT];
#endif
#endif

/* The kernels kwcc holds for target t that this machine runs, or NULL. */
static const KwJitFn *kernels_for(KwTargetKind t)
{
#ifdef KWCC_HAVE_LIBTCC
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
#endif
    switch (t) {
    case KW_TARGET_GENERIC: {
        /* the portable kernels of the widest copy this machine runs: the same arithmetic */
        const KwJitFn *k = kernels_for(KW_TARGET_AVX512);
        if (!k)
            k = kernels_for(KW_TARGET_AVX2);
        if (!k)
            k = kernels_for(KW_TARGET_NEON);
        return k ? k : kw_jit_kernels_generic;
    }
#ifdef KWCC_JIT_AVX512
    case KW_TARGET_AVX512: /* jit_kernels.c is built with -mavx512f -mavx512dq -mfma */
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                       __builtin_cpu_supports("fma")
                   ? kw_jit_kernels_avx512
                   : NULL;
#endif
#ifdef KWCC_JIT_AVX2
    case KW_TARGET_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? kw_jit_kernels_avx2 : NULL;
#endif
#ifdef KWCC_JIT_NEON
    case KW_TARGET_NEON: return kw_jit_kernels_neon;
#endif
    default: return NULL;
    }
#else
    (void)t;
    return NULL;
#endif
}

int kw_jit_available(void)
{
#ifdef KWCC_HAVE_LIBTCC
    return 1;
#else
    return 0;
#endif
}

int kw_jit_target(KwTargetKind want, KwTargetKind *out)
{
    if (want == KW_TARGET_HOST) {
        static const KwTargetKind order[] = {KW_TARGET_AVX512, KW_TARGET_AVX2, KW_TARGET_NEON, KW_TARGET_GENERIC};
        for (size_t i = 0; i < KW_COUNTOF(order); i++)
            if (kernels_for(order[i])) {
                *out = order[i];
                return 0;
            }
        return -1;
    }
    if (!kernels_for(want))
        return -1;
    *out = want;
    return 0;
}

const char *kw_jit_targets(void)
{
    static char buf[64];
    static const KwTargetKind all[] = {KW_TARGET_GENERIC, KW_TARGET_AVX2, KW_TARGET_AVX512, KW_TARGET_NEON};
    buf[0] = 0;
    for (size_t i = 0; i < KW_COUNTOF(all); i++)
        if (kernels_for(all[i])) {
            if (buf[0])
                strcat(buf, ", ");
            strcat(buf, kw_target_name(all[i]));
        }
    return buf[0] ? buf : "none";
}

/* ---------------------------------------------------------------- libtcc */

#ifdef KWCC_HAVE_LIBTCC

struct KwJit {
    TCCState *s;
    int (*run)(const float *const *, float *const *, void *);
    const long long *io;
    char *run_name;
    KwBuf msg; /* libtcc's messages */
};

static void on_tcc_message(void *ud, const char *m)
{
    KwJit *j = ud;
    kw_buf_printf(&j->msg, "%s%s", j->msg.len ? "\n" : "", m);
}

static char *take_msg(KwJit *j, const char *fallback)
{
    if (!j->msg.len)
        kw_buf_puts(&j->msg, fallback);
    size_t len;
    char *m = kw_buf_take(&j->msg, &len);
    return m;
}

/* memcpy is the one libc function the generated entry calls (outputs not written in place) */
static void *jit_memcpy(void *d, const void *s, size_t n) { return memcpy(d, s, n); }

KwJit *kw_jit_compile(const KwResult *res, const char *prefix, KwTargetKind target, char **msg)
{
    *msg = NULL;
    const KwJitFn *k = kernels_for(target);
    KwJit *j = calloc(1, sizeof *j);
    if (!j) {
        *msg = strdup("out of memory");
        return NULL;
    }
    if (!k || !res->c_text) {
        *msg = strdup(!k ? "no kernels for this target" : "no C text to compile");
        free(j);
        return NULL;
    }
    size_t pn = strlen(prefix);
    j->run_name = malloc(pn + 16);
    j->s = tcc_new();
    if (!j->run_name || !j->s) {
        *msg = strdup("libtcc: out of memory");
        kw_jit_free(j);
        return NULL;
    }
    memcpy(j->run_name, prefix, pn);
    strcpy(j->run_name + pn, "_run_multi");
    tcc_set_error_func(j->s, j, on_tcc_message);
    /* no headers, no libc, no libtcc1: everything the text calls is bound below */
    tcc_set_options(j->s, "-nostdinc -nostdlib");
    tcc_set_output_type(j->s, TCC_OUTPUT_MEMORY);
    tcc_define_symbol(j->s, "KWCC_NO_STATIC_WORKSPACE", "1"); /* kwcc run passes its own */
    for (int i = 0; i < KW_K_COUNT; i++)
        if (k[i])
            tcc_add_symbol(j->s, kw_kernel_name[i], (const void *)k[i]);
    tcc_add_symbol(j->s, "memcpy", (const void *)jit_memcpy);
    static const float no_weights[16];
    tcc_add_symbol(j->s, "kw_jit_weights", res->weights ? res->weights : (const void *)no_weights);
    if (tcc_compile_string(j->s, res->c_text) < 0) {
        *msg = take_msg(j, "tcc_compile_string failed");
        kw_jit_free(j);
        return NULL;
    }
    return j;
}

int kw_jit_load(KwJit *j, char **msg)
{
    *msg = NULL;
#ifdef KWCC_TCC_RELOCATE_AUTO
    int r = tcc_relocate(j->s, TCC_RELOCATE_AUTO);
#else
    int r = tcc_relocate(j->s);
#endif
    if (r < 0) {
        *msg = take_msg(j, "tcc_relocate failed");
        return -1;
    }
    void *run = tcc_get_symbol(j->s, j->run_name);
    j->io = tcc_get_symbol(j->s, "kw_jit_io");
    if (!run || !j->io) {
        *msg = take_msg(j, run ? "the code has no kw_jit_io[]" : "the code has no PREFIX_run_multi");
        return -1;
    }
    /* object to function pointer: what dlsym users do; POSIX guarantees it works */
    memcpy(&j->run, &run, sizeof run);
    return 0;
}

int kw_jit_run(const KwJit *j, const float *const *in, float *const *out, void *workspace)
{
    return j->run(in, out, workspace);
}

const long long *kw_jit_io(const KwJit *j) { return j->io; }

void kw_jit_free(KwJit *j)
{
    if (!j)
        return;
    if (j->s)
        tcc_delete(j->s);
    kw_buf_free(&j->msg);
    free(j->run_name);
    free(j);
}

#else /* !KWCC_HAVE_LIBTCC */

struct KwJit {
    int unused;
};

KwJit *kw_jit_compile(const KwResult *res, const char *prefix, KwTargetKind target, char **msg)
{
    (void)res, (void)prefix, (void)target;
    *msg = NULL;
    {
        const char *m = "kwcc was built without libtcc";
        *msg = malloc(strlen(m) + 1);
        if (*msg)
            strcpy(*msg, m);
    }
    return NULL;
}

int kw_jit_load(KwJit *j, char **msg)
{
    (void)j;
    *msg = NULL;
    return -1;
}

int kw_jit_run(const KwJit *j, const float *const *in, float *const *out, void *workspace)
{
    (void)j, (void)in, (void)out, (void)workspace;
    return -1;
}

const long long *kw_jit_io(const KwJit *j)
{
    (void)j;
    return NULL;
}

void kw_jit_free(KwJit *j) { free(j); }

#endif /* KWCC_HAVE_LIBTCC */
