/* kwcc_int.h -- kwcc's internal header: one section per file of compiler/.
 *
 * Read it as the table of contents of the compiler. Data flows
 *     ONNX bytes --frontends/onnx--> KwGraph --passes (pipeline.c)--> KwGraph + lowered calls
 *     + memory plan --codegen--> C text
 * All compiler memory lives in one KwArena per compile, freed at once.
 */
#ifndef KWCC_INT_H
#define KWCC_INT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "kw_rt.h"
#include "kwcc.h"

#define KW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define KW_NORETURN __attribute__((noreturn))
#define KW_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#define KW_MAX_RANK 12           /* highest tensor rank kwcc accepts */
#define KW_MAX_ELEMS 0x7fffffffLL /* tensors must have fewer elements than this */

/* ---- arena.c ---- */
typedef struct KwArena KwArena;
KwArena *kw_arena_new(jmp_buf *oom);   /* on exhaustion kw_alloc longjmps to *oom */
void kw_arena_free(KwArena *a);
void *kw_alloc(KwArena *a, size_t n);  /* zeroed, 16-byte aligned */
void *kw_dup(KwArena *a, const void *p, size_t n);
char *kw_strdup(KwArena *a, const char *s);
char *kw_fmt(KwArena *a, const char *fmt, ...) KW_PRINTF(2, 3);
void kw_arena_fail_after(KwArena *a, long n); /* tests: the n-th next allocation fails */
size_t kw_arena_bytes(const KwArena *a);
#define KW_NEW(a, T) ((T *)kw_alloc((a), sizeof(T)))
#define KW_NEWN(a, T, n) ((T *)kw_alloc((a), sizeof(T) * (size_t)(n)))

/* ---- strbuf.c: growable text buffer (malloc-owned: it outlives the arena) ---- */
typedef struct KwBuf {
    char *p;
    size_t len, cap;
    int oom;
} KwBuf;
void kw_buf_put(KwBuf *b, const char *s, size_t n);
void kw_buf_puts(KwBuf *b, const char *s);
void kw_buf_printf(KwBuf *b, const char *fmt, ...) KW_PRINTF(2, 3);
void kw_buf_vprintf(KwBuf *b, const char *fmt, va_list ap);
char *kw_buf_take(KwBuf *b, size_t *len); /* NUL-terminated; caller frees */
void kw_buf_free(KwBuf *b);

/* ---- diag.c: bad input is reported, counted and returned as -1; bugs abort ---- */
struct KwNode;
typedef struct KwDiag {
    int n_errors;
    const char *path;  /* model file, for every message */
    void (*sink)(void *ud, const char *line);
    void *sink_ud;
    int verbose;
} KwDiag;
int kw_error(KwDiag *d, const struct KwNode *n, const char *fmt, ...) KW_PRINTF(3, 4);
void kw_note(KwDiag *d, const char *fmt, ...) KW_PRINTF(2, 3); /* -v only */
KW_NORETURN void kw_bug_(const char *file, int line, const char *fmt, ...) KW_PRINTF(3, 4);
#define KW_BUG(...) kw_bug_(__FILE__, __LINE__, __VA_ARGS__)
#define KW_ASSERT(c) ((c) ? (void)0 : KW_BUG("assertion failed: %s", #c))
#define KW_TRY(x) \
    do { \
        if ((x) < 0) \
            return -1; \
    } while (0)

/* ---- ir.c: the graph ---- */
typedef enum KwOp {
#define KW_OP(name, onnx, imin, imax, omin, omax, attrs, flags) KW_OP_##name,
#include "ops.def"
#undef KW_OP
    KW_OP_COUNT
} KwOp;

enum { KW_OPF_UNARY = 1, KW_OPF_BINARY = 2, KW_OPF_VIEW = 4, KW_OPF_REDUCE = 8 };

typedef struct KwOpInfo {
    const char *name, *onnx;
    int in_min, in_max, out_min, out_max;
    const char *attrs;
    int flags;
} KwOpInfo;
extern const KwOpInfo kw_op_info[KW_OP_COUNT];

typedef enum KwDType { KW_DT_NONE = 0, KW_F32, KW_I64 } KwDType;
const char *kw_dtype_name(KwDType t);
int kw_dtype_size(KwDType t);

typedef struct KwShape {
    int rank; /* -1: not inferred yet */
    int64_t d[KW_MAX_RANK];
} KwShape;
int64_t kw_numel(const KwShape *s);
int kw_shape_eq(const KwShape *a, const KwShape *b);
const char *kw_shape_str(KwArena *a, const KwShape *s); /* "[1,64,56,56]" */

typedef enum KwAttrType {
    KW_AT_NONE = 0, KW_AT_INT, KW_AT_FLOAT, KW_AT_STRING, KW_AT_INTS, KW_AT_FLOATS,
    KW_AT_TENSOR, KW_AT_OTHER
} KwAttrType;

typedef struct KwAttr {
    const char *name;
    KwAttrType type;
    int64_t i;
    float f;
    const char *s;
    int n;          /* INTS, FLOATS */
    int64_t *ints;
    float *floats;
    int tensor;     /* TENSOR: value id of the decoded constant */
} KwAttr;

/* Epilogue fused into Conv, KwConv and Gemm by pass_fuse.c:
 * y = act(acc * scale[o] + shift[o] + res). */
typedef struct KwEpi {
    int act;        /* KW_ACT_* */
    float lo, hi;
    int scale;      /* value id of a per-output-channel constant, or -1 */
    int res;        /* value id of a tensor of the output's shape, or -1 */
} KwEpi;

struct KwCall;
struct KwKwInfo;

typedef struct KwNode {
    KwOp op;
    const char *name;      /* ONNX node name ("" if none) */
    const char *op_type;   /* as written in the model */
    int n_in, n_out;
    int *in, *out;         /* value ids; -1 for an optional input left out */
    int n_attr;
    KwAttr *attr;
    int dead;
    KwEpi epi;             /* pass_fuse */
    struct KwKwInfo *kw;   /* KwConv only: pass_kw */
    struct KwCall *calls;  /* lower.c */
    int n_calls;
    int64_t scratch_bytes; /* lower.c: workspace the node needs while it runs */
    int64_t scratch_off;   /* mem_plan */
    int64_t scratch_cap;   /* pass_memplan (--max-ram): 0 no limit, else the scratch kw_lower
                            * should keep the node within (the fastest lowering that does, or
                            * the smallest there is) */
    int portable;          /* lower.c: lowered with the portable kernels on a vector target */
} KwNode;

/* Where a value's bytes live (filled by pass_memplan.c). */
typedef enum KwStorage { KW_ST_NONE = 0, KW_ST_CONST, KW_ST_INPUT, KW_ST_OUTPUT, KW_ST_WS } KwStorage;

typedef struct KwValue {
    const char *name;
    KwDType dt;
    KwShape shape;
    int producer;       /* node id; -1 for graph inputs and constants */
    void *data;         /* constants: dt elements, host order; NULL otherwise */
    int input_index;    /* >= 0: graph input */
    int n_use;          /* kw_ir_count_uses */
    int is_warehouse;   /* pass_kw: a KernelWarehouse tensor (stored once, shared) */
    /* pass_memplan.c */
    KwStorage st;
    int st_index;       /* input/output number for KW_ST_INPUT/OUTPUT */
    int64_t off;        /* byte offset in the storage (constants: in the weight blob) */
    int alias;          /* value this one is a view of, -1 if it owns its storage */
} KwValue;

typedef struct KwGraph {
    KwArena *arena;
    KwDiag *diag;
    const KwOptions *opt;
    KwValue *v;
    int nv, cap_v;
    KwNode *n;
    int nn, cap_n;
    int *inputs, n_inputs;
    int *outputs, n_outputs;
    int opset;
    const char *producer, *graph_name;
    int64_t ir_version;
    /* pass_memplan.c */
    int64_t ws_bytes, weight_bytes;
    int64_t ws_bound;          /* lower bound of the workspace for this node order (memplan) */
    int ws_bound_node;         /* the node where the bound is reached */
    int64_t ws_floor;          /* the same with each node's scratch added: what the lowering
                                * as it stands needs at least, whatever the placement */
    int64_t code_bytes;        /* driver: estimate of the generated code's size (kw_code_estimate) */
    /* pass_kw.c: the KernelWarehouse inventory, for inspect and the generated banner */
    int n_warehouses;
    /* lower.c */
    KwTargetKind target;       /* resolved: never KW_TARGET_HOST */
    KwTargetKind lower_target; /* what kw_lower emits for: target, or generic while folding */
    int *wh_memo;              /* warehouse layouts: pairs (exported E id * 4 + layout, laid-out id) */
    int n_wh_memo;
} KwGraph;

KwGraph *kw_graph_new(KwArena *a, KwDiag *d, const KwOptions *opt);
int kw_value_new(KwGraph *g, const char *name);
int kw_const_new(KwGraph *g, const char *name, KwDType dt, const KwShape *s, const void *data);
int kw_const_f32(KwGraph *g, const char *name, int rank, const int64_t *dims, const float *data);
int kw_node_new(KwGraph *g, KwOp op, const char *name, int n_in, int n_out);
KwValue *kw_in(KwGraph *g, const KwNode *n, int i);   /* NULL when absent */
KwValue *kw_out(KwGraph *g, const KwNode *n, int i);
int kw_is_const(const KwGraph *g, int v);
const KwAttr *kw_attr(const KwNode *n, const char *name);
void kw_set_attr_int(KwGraph *g, KwNode *n, const char *name, int64_t v);
void kw_set_attr_float(KwGraph *g, KwNode *n, const char *name, float v);
/* Rewrites n in place into another op with new inputs (its outputs and position stay). */
void kw_node_rewrite(KwGraph *g, KwNode *n, KwOp op, int n_in, const int *in);
/* The live node producing v if it is `op`, else NULL. */
KwNode *kw_def(KwGraph *g, int v, KwOp op);
/* v with views (Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout) looked through. */
int kw_strip_views(KwGraph *g, int v);
void kw_ir_count_uses(KwGraph *g);
int kw_ir_consumers(KwGraph *g, int v, int *nodes, int max); /* live consumer node ids */
int kw_ir_is_graph_output(const KwGraph *g, int v);
void kw_ir_replace_uses(KwGraph *g, int from, int to);
void kw_ir_print(KwGraph *g, FILE *f, const char *after);
int kw_ir_verify(KwGraph *g, const char *after);

/* Attribute getters: absent gives the default; a wrong type is a user error (-1). */
int kw_attr_int(KwGraph *g, const KwNode *n, const char *name, int64_t def, int64_t *out);
int kw_attr_float(KwGraph *g, const KwNode *n, const char *name, float def, float *out);
int kw_attr_ints(KwGraph *g, const KwNode *n, const char *name, int64_t *out, int max, int *count);
int kw_attr_string(KwGraph *g, const KwNode *n, const char *name, const char *def,
                   const char **out);
/* An int64 constant input as a list (axes, shape, starts...): -1 with an error if it is
 * not a constant. */
int kw_const_ints(KwGraph *g, const KwNode *n, int input, int64_t *out, int max, int *count);
float kw_const_scalar(KwGraph *g, int v); /* first element of a float constant */

/* ---- pipeline.c ---- */
int kw_run_pipeline(KwGraph *g);

/* ---- pass_order.c: topological order (ONNX allows any order); cycles are errors ---- */
int kw_pass_order(KwGraph *g);

/* ---- pass_infer.c: dtype/shape inference of every op; folds constant nodes ---- */
int kw_pass_infer(KwGraph *g);
int kw_infer_node(KwGraph *g, KwNode *n);

/* Geometry shared by shape inference and lowering, so the two never disagree. */
typedef struct KwWinGeom {
    int nsp;                       /* spatial dims (1..3) */
    int64_t N, C, O, group;        /* batch, channels in/out (Conv), groups */
    int64_t in[3], out[3], k[3], stride[3], pad_b[3], pad_e[3], dil[3];
} KwWinGeom;
/* Conv (w: weight shape) or a pooling op (w NULL: kernel_shape attribute). */
int kw_win_geom(KwGraph *g, const KwNode *n, const KwShape *x, const KwShape *w, KwWinGeom *wg);
/* Numpy broadcasting of a and b into out; -1 (with an error on n) if incompatible. */
int kw_bcast_shape(KwGraph *g, const KwNode *n, const KwShape *a, const KwShape *b, KwShape *out);
/* Reduction axes of a Reduce* node as a mask over the input's dims; *all_noop set when
 * the node reduces nothing (noop_with_empty_axes). */
int kw_reduce_axes(KwGraph *g, const KwNode *n, int rank, int *mask, int *noop);
/* Slice start and step per dim of the input (count = output dim). */
int kw_slice_geom(KwGraph *g, const KwNode *n, const KwShape *x, int64_t *start, int64_t *step,
                  KwShape *out);
/* Split sizes along the axis (one per output). */
int kw_split_sizes(KwGraph *g, const KwNode *n, const KwShape *x, int64_t *axis, int64_t *sizes);
/* Softmax as [outer][n][inner]. */
void kw_softmax_geom(const KwGraph *g, const KwNode *n, const KwShape *x, int64_t axis,
                     int64_t *outer, int64_t *len, int64_t *inner);

/* ---- pass_fold.c: evaluate a node whose inputs are all constant ---- */
int kw_fold_node(KwGraph *g, KwNode *n); /* 1 folded, 0 not foldable, -1 error */

/* ---- pass_canon.c: decomposed LayerNorm and GELU back to single nodes ---- */
int kw_pass_canon(KwGraph *g);

/* ---- pass_kw.c: lift exported KernelWarehouse layers into KwConv nodes ---- */
typedef struct KwKwInfo {
    int wh;                  /* warehouse constant value id, laid out by pass_kw */
    int wh_index;            /* warehouse number in the model (order of first use) */
    int w1, b1, ln_g, ln_b, w2, b2, w3, tb; /* attention constants (-1: none) */
    KwAttnP attn;
    int O, Cg, G, nsp, k[3]; /* dense kernel [O][Cg][k...] */
    int co, ci, ck[3];       /* cell shape (ck: 1s with spatial partition, else k) */
    int Go, Gi, Gs;
    int S;                   /* cell size co*ci*|ck| */
    int bias;                /* conv bias constant value id, or -1 */
} KwKwInfo;
int kw_pass_kw(KwGraph *g);

/* ---- pass_fuse.c: BN folding, activation and residual fusion ---- */
int kw_pass_fuse(KwGraph *g);

/* ---- pass_dce.c ---- */
int kw_pass_dce(KwGraph *g);

/* ---- lower.c: each node to runtime kernel calls (shared by folding and codegen) ---- */
typedef enum KwKernel {
    KW_K_UNARY, KW_K_BINARY, KW_K_AFFINE, KW_K_CONV, KW_K_GEMM, KW_K_POOL, KW_K_REDUCE,
    KW_K_COPY, KW_K_GATHER, KW_K_SOFTMAX, KW_K_LAYERNORM, KW_K_ATTENTION, KW_K_ASSEMBLE,
    KW_K_KWCONV, /* portable KernelWarehouse conv, assembled a block of channels at a time */
    /* vector targets (kw_rt_simd.c) */
    KW_K_CONV_SIMD, KW_K_DWCONV_SIMD, KW_K_KWCONV_SIMD, KW_K_MAXPOOL_SIMD,
    KW_K_COUNT
} KwKernel;
extern const char *const kw_kernel_name[KW_K_COUNT];

typedef enum KwArgKind { KW_ARG_NULL = 0, KW_ARG_VALUE, KW_ARG_SCRATCH } KwArgKind;
typedef struct KwArg {
    KwArgKind kind;
    int value;        /* KW_ARG_VALUE */
    int64_t off;      /* bytes: into the value, or into the node's scratch */
} KwArg;

#define KW_CALL_MAXARG 16
typedef struct KwCall {
    KwKernel k;
    union {
        KwUnaryP un;
        KwBinaryP bin;
        KwAffineP aff;
        KwConvP conv;
        KwGemmP gemm;
        KwPoolP pool;
        KwReduceP red;
        KwCopyP copy;
        KwGatherP gather;
        KwSoftmaxP sm;
        KwLayerNormP ln;
        KwAttnP attn;
        KwAsmP as;
        KwConvFP convf;
        KwKwConvP kwf;
        KwKwConvBP kwb;
    } p;
    int nargs;
    KwArg args[KW_CALL_MAXARG]; /* in the kernel's pointer-parameter order, output last */
    int *ints;                  /* GATHER idx / ASSEMBLE base, arena-owned */
    int n_ints;
    int exact;                  /* a vector kernel that reads nothing past its buffers */
} KwCall;
int kw_lower(KwGraph *g, KwNode *n);          /* fills n->calls, n->scratch_bytes (within
                                               * n->scratch_cap when it can) */
/* An inference BatchNormalization's per-channel scale and shift, as two new constants. */
int kw_bn_scale_shift(KwGraph *g, const KwNode *n, int *scale, int *shift);
int kw_pass_lower(KwGraph *g);
int kw_target_vector_floats(KwTargetKind t); /* lanes of the target's vectors (1: generic) */
const char *kw_target_name(KwTargetKind t);
KwTargetKind kw_target_host(void);
void kw_exec_call(const KwCall *c, void *const *ptrs); /* run with resolved pointers */

/* ---- pass_memplan.c: weight blob, workspace offsets, the workspace's lower bound; with
 * --max-ram (opt->max_ram) nodes lowered again within scratch caps until the plan fits ---- */
int kw_pass_memplan(KwGraph *g);

/* ---- inspect.c: `kwcc inspect` ---- */
char *kw_inspect_report(KwGraph *g, int json); /* malloc'd */

/* ---- driver.c ---- */
typedef struct KwCompile {
    KwArena *arena;
    KwDiag diag;
    KwGraph *g;
} KwCompile;

/* ---- util ---- */
int kw_norm_axis(int64_t axis, int rank, int64_t *out); /* -1 if out of range */

#endif /* KWCC_INT_H */
