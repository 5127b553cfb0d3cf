/* llvm.h -- the optional LLVM/Clang target of kwcc (codegen/llvm.c; CMake option KWCC_WITH_LLVM).
 *
 *   kwcc MODEL.onnx -o model.o --target-triple TRIPLE
 *       the standalone C file kwcc generates, compiled by clang -O3 for TRIPLE into an object
 *       (x86_64-*-linux-gnu, aarch64-*-linux-gnu, thumbv6m/v7m/v7em/v8m-none-eabi[hf]);
 *   kwcc run MODEL.onnx --jit llvm
 *       the model's call sequence and the runtime kernels in one C unit, compiled by clang
 *       -O3 -march=native into bitcode, turned into machine code by libLLVM and linked and
 *       run in-process by LLVM's ORC LLJIT (LLVM-C API), the weights bound by symbol.
 *
 * clang runs as a subprocess (the exact clang of the libLLVM kwcc was configured with, so its
 * bitcode is readable). kwcc does not link libLLVM: llvm.c dlopen()s it on the first
 * kw_llvm_jit_compile. Built without the option, kw_llvm_available() says 0 and every other
 * entry fails with a message. */
#ifndef KW_LLVM_H
#define KW_LLVM_H

#include "kwcc_int.h"

/* 1 if this kwcc was built with KWCC_WITH_LLVM (LLVM and clang found), else 0. */
int kw_llvm_available(void);
/* "clang 14.0.6 (/usr/lib/llvm-14/bin/clang)", or "" without the option. */
const char *kw_llvm_describe(void);

/* ---- kwcc MODEL.onnx -o model.o --target-triple TRIPLE ------------------------------------ */

/* The kwcc target an object for `triple` is generated for when the user asked for `want`
 * (KW_TARGET_HOST: the triple's default: this machine's best vectors for x86_64 on an x86_64
 * host, neon for aarch64, generic for Cortex-M). 0, or -1 with a message in err (an
 * unsupported triple, or a target the triple does not run). */
int kw_llvm_triple_target(const char *triple, KwTargetKind want, KwTargetKind *out, char *err, size_t cap);

/* Compiles res->c_text (a standalone file generated for `target`, which #includes
 * header_name) with clang for `triple` into obj_path and writes res->h_text to hpath, both
 * through temporaries renamed into place only when both are complete. Messages on stderr.
 * Returns 0; 2 when an output cannot be written; 1 when clang fails (the message is clang's). */
int kw_llvm_write_object(const KwResult *res, const char *triple, KwTargetKind target, const char *header_name,
                         const char *obj_path, const char *hpath, int verbose);

/* ---- kwcc run --jit llvm ------------------------------------------------------------------- */

typedef struct KwLlvmJit KwLlvmJit;

/* As kw_jit_target / kw_jit_targets, for the targets this machine runs (clang compiles the
 * kernels with the model, so every target the CPU supports is available). */
int kw_llvm_jit_target(KwTargetKind want, KwTargetKind *out);
const char *kw_llvm_jit_targets(void);

/* res: kw_compile_* with opt.jit for `target`, symbol prefix `prefix` (res must outlive the
 * JIT: the weights are bound in place). clang -O3 turns the unit into bitcode, libLLVM the
 * bitcode into an in-memory object; t[0] and t[1] get the seconds of the two steps.
 * NULL on failure with *msg (malloc'd; the caller frees it). */
KwLlvmJit *kw_llvm_jit_compile(const KwResult *res, const char *prefix, KwTargetKind target, int verbose,
                               double t[2], char **msg);
/* ORC links the object into this process (weights, libc and libm symbols): 0, or -1 with *msg. */
int kw_llvm_jit_load(KwLlvmJit *j, char **msg);
int kw_llvm_jit_run(const KwLlvmJit *j, const float *const *in, float *const *out, void *workspace);
/* n_inputs, n_outputs, then rank and dims of each input and output (kw_jit_io[]). */
const long long *kw_llvm_jit_io(const KwLlvmJit *j);
void kw_llvm_jit_free(KwLlvmJit *j);

#endif /* KW_LLVM_H */
