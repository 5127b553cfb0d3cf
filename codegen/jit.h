/* jit.h -- `kwcc run`: a model's C compiled in memory by libtcc and run inside kwcc.
 *
 * The C text comes from kw_compile_file/bytes with opt.jit = 1 (see KwEmitOpts.jit): no
 * headers, the kernels as prototypes only, the weights as the symbol kw_jit_weights. jit.c
 * (the only file that includes libtcc.h) compiles it and binds, with tcc_add_symbol, the
 * runtime kernels precompiled into kwcc for the target (jit_kernels.c: gcc -O3, vectorised,
 * one copy per instruction set) and the weight blob of KwResult.weights. Typical use:
 *
 *     KwTargetKind t;
 *     kw_jit_target(KW_TARGET_HOST, &t);
 *     opt.jit = 1, opt.target = t, opt.name = "net";
 *     kw_compile_file(path, &opt, &res);
 *     KwJit *j = kw_jit_compile(&res, "net", t, &msg);
 *     kw_jit_load(j, &msg);
 *     kw_jit_run(j, inputs, outputs, workspace);   // workspace: res.workspace_bytes
 *     kw_jit_free(j);                              // res must outlive j (the weights)
 *
 * libtcc 0.9.27 keeps global state: one KwJit compiles at a time (loaded ones may coexist). */
#ifndef KW_JIT_H
#define KW_JIT_H

#include "kwcc_int.h"

/* A kernel precompiled into kwcc, as jit_kernels.c lists them (indexed by KwKernel). */
typedef void (*KwJitFn)(void);

typedef struct KwJit KwJit;

/* 1 if this kwcc was built with libtcc (KWCC_WITH_LIBTCC and libtcc found), else 0. */
int kw_jit_available(void);

/* The target `kwcc run` compiles for when asked for `want`: `want` itself if kwcc holds its
 * kernels and this machine runs them; for KW_TARGET_HOST the best such target. -1 if none. */
int kw_jit_target(KwTargetKind want, KwTargetKind *out);
/* The targets kw_jit_target accepts here, as text ("generic, avx2, avx512"). */
const char *kw_jit_targets(void);

/* Compiles res->c_text (generated with opt.jit for `target`, symbol prefix `prefix`).
 * NULL on failure, with libtcc's messages in *msg (malloc'd; the caller frees it). */
KwJit *kw_jit_compile(const KwResult *res, const char *prefix, KwTargetKind target, char **msg);
/* Relocates the code into memory and finds the entry point: 0, or -1 with *msg. */
int kw_jit_load(KwJit *j, char **msg);
/* The entry point PREFIX_run_multi of the loaded model. */
int kw_jit_run(const KwJit *j, const float *const *in, float *const *out, void *workspace);
/* Shapes, read from the loaded code: n_inputs, n_outputs, then per input and per output
 * its rank and dims (kw_jit_io[] of the generated text). */
const long long *kw_jit_io(const KwJit *j);
void kw_jit_free(KwJit *j);

/* Monotonic clock in seconds, for the timings of kwcc run. */
double kw_jit_now(void);

#endif /* KW_JIT_H */
