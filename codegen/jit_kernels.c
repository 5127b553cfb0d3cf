/* jit_kernels.c -- the runtime kernels, precompiled into kwcc for `kwcc run` (jit.c binds them
 * into the JIT-compiled model with tcc_add_symbol).
 *
 * codegen/CMakeLists.txt compiles this file once per instruction set kwcc can run, through a
 * generated one-line wrapper that defines
 *   KW_JIT_TABLE   the name of the table below: kw_jit_kernels_{generic,avx2,avx512,neon}
 *   KW_SIMD_*      the vector ISA of kw_rt_simd.c (none for generic)
 * with -O3 -ffp-contract=off and the ISA's -m flags. The portable kernels of every copy thus
 * compute exactly what kw_rt_ref.c computes in a generated file (no contraction, no
 * reassociation), only with wider vectors. Every kernel is static here, so the copies never
 * clash with each other or with libkwcc's own kw_rt_ref.c. */
#define KW_RT_FN static
#define KW_RT_LOCAL static
#define KW_RT_NO_PROTOTYPES
#include "kw_rt_ref.c"
#if defined(KW_SIMD_AVX512) || defined(KW_SIMD_AVX2) || defined(KW_SIMD_NEON)
#define KW_JIT_HAS_SIMD 1
#include "kw_rt_simd.c"
#endif

#include "jit.h"

#define F(k, fn) [k] = (KwJitFn)fn

extern const KwJitFn KW_JIT_TABLE[KW_K_COUNT];
const KwJitFn KW_JIT_TABLE[KW_K_COUNT] = {
    F(KW_K_UNARY, kw_unary),
    F(KW_K_BINARY, kw_binary),
    F(KW_K_AFFINE, kw_affine),
    F(KW_K_CONV, kw_conv),
    F(KW_K_GEMM, kw_gemm),
    F(KW_K_POOL, kw_pool),
    F(KW_K_REDUCE, kw_reduce),
    F(KW_K_COPY, kw_copy),
    F(KW_K_GATHER, kw_gather),
    F(KW_K_SOFTMAX, kw_softmax),
    F(KW_K_LAYERNORM, kw_layernorm),
    F(KW_K_ATTENTION, kw_attention),
    F(KW_K_ASSEMBLE, kw_assemble),
    F(KW_K_KWCONV, kw_kwconv),
#ifdef KW_JIT_HAS_SIMD
    F(KW_K_CONV_SIMD, kw_conv_simd),
    F(KW_K_DWCONV_SIMD, kw_dwconv_simd),
    F(KW_K_KWCONV_SIMD, kw_kwconv_simd),
    F(KW_K_MAXPOOL_SIMD, kw_maxpool_simd),
#endif
};
