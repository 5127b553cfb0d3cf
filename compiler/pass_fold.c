/* pass_fold.c -- constant folding: a node whose inputs are all constants is evaluated now
 * and its outputs become constants.
 *
 * Float ops run through lower.c and the runtime kernels, exactly as the generated code would
 * run them. int64 tensors only ever exist at compile time (shape arithmetic of exported
 * graphs), so their few arithmetic ops are evaluated here directly. Shape folds always:
 * shapes are static. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "kwcc_int.h"

#define ERR(...) kw_error(g->diag, n, __VA_ARGS__)

static int64_t i64_bin(KwOp op, int64_t a, int64_t b)
{
    switch (op) {
    case KW_OP_Add: return (int64_t)((uint64_t)a + (uint64_t)b);
    case KW_OP_Sub: return (int64_t)((uint64_t)a - (uint64_t)b);
    case KW_OP_Mul: return (int64_t)((uint64_t)a * (uint64_t)b);
    case KW_OP_Div: return b == 0 ? 0 : (a == INT64_MIN && b == -1) ? a : a / b;
    case KW_OP_Max: return a > b ? a : b;
    case KW_OP_Min: return a < b ? a : b;
    case KW_OP_Pow: {
        int64_t r = 1;
        for (int64_t i = 0; i < b && i < 64; i++)
            r = (int64_t)((uint64_t)r * (uint64_t)a); /* wraps like Mul, never UB */
        return r;
    }
    default: return 0;
    }
}

/* Index of out's flat element i in a broadcast input of shape s. */
static int64_t bcast_index(const KwShape *out, const KwShape *s, int64_t i)
{
    int64_t idx = 0, mul = 1;
    for (int k = out->rank - 1; k >= 0; k--) {
        int64_t c = i % out->d[k];
        i /= out->d[k];
        int j = k - (out->rank - s->rank);
        if (j >= 0) {
            if (s->d[j] != 1)
                idx += c * mul;
            mul *= s->d[j];
        }
    }
    return idx;
}

static int fold_i64(KwGraph *g, KwNode *n, KwValue *y)
{
    int64_t cnt = kw_numel(&y->shape);
    int64_t *out = y->data;
    KwOpInfo info = kw_op_info[n->op];
    if (info.flags & KW_OPF_BINARY) {
        const KwValue *a = kw_in(g, n, 0);
        for (int64_t i = 0; i < cnt; i++)
            out[i] = ((const int64_t *)a->data)[bcast_index(&y->shape, &a->shape, i)];
        for (int k = 1; k < n->n_in; k++) {
            const KwValue *b = kw_in(g, n, k);
            for (int64_t i = 0; i < cnt; i++) {
                int64_t bv = ((const int64_t *)b->data)[bcast_index(&y->shape, &b->shape, i)];
                if (n->op == KW_OP_Div && bv == 0)
                    return ERR("integer division by zero while folding constants");
                out[i] = i64_bin(n->op, out[i], bv);
            }
        }
        return 1;
    }
    const int64_t *x = kw_in(g, n, 0) ? kw_in(g, n, 0)->data : NULL;
    switch (n->op) {
    case KW_OP_Neg:
        for (int64_t i = 0; i < cnt; i++)
            out[i] = (int64_t)(0 - (uint64_t)x[i]); /* INT64_MIN stays, as in two's complement */
        return 1;
    case KW_OP_Abs:
        for (int64_t i = 0; i < cnt; i++)
            out[i] = x[i] < 0 ? (int64_t)(0 - (uint64_t)x[i]) : x[i];
        return 1;
    default: return 0;
    }
}

static int fold_reduce_i64(KwGraph *g, KwNode *n, KwValue *y)
{
    const KwValue *x = kw_in(g, n, 0);
    int mask[KW_MAX_RANK], noop;
    KW_TRY(kw_reduce_axes(g, n, x->shape.rank, mask, &noop));
    int64_t cnt = kw_numel(&y->shape), *out = y->data;
    for (int64_t i = 0; i < cnt; i++)
        out[i] = n->op == KW_OP_ReduceProd ? 1 : n->op == KW_OP_ReduceMax ? INT64_MIN
                                                : n->op == KW_OP_ReduceMin ? INT64_MAX
                                                                           : 0;
    const int64_t *xv = x->data;
    int64_t total = kw_numel(&x->shape);
    for (int64_t i = 0; i < total; i++) {
        /* output index: the kept coordinates of i, row-major */
        int64_t rem = i, o = 0, mul = 1;
        for (int k = x->shape.rank - 1; k >= 0; k--) {
            int64_t c = rem % x->shape.d[k];
            rem /= x->shape.d[k];
            if (!mask[k]) {
                o += c * mul;
                mul *= x->shape.d[k];
            }
        }
        switch (n->op) {
        case KW_OP_ReduceProd: out[o] = (int64_t)((uint64_t)out[o] * (uint64_t)xv[i]); break;
        case KW_OP_ReduceMax: out[o] = xv[i] > out[o] ? xv[i] : out[o]; break;
        case KW_OP_ReduceMin: out[o] = xv[i] < out[o] ? xv[i] : out[o]; break;
        case KW_OP_ReduceMean:
        case KW_OP_ReduceSum: out[o] = (int64_t)((uint64_t)out[o] + (uint64_t)xv[i]); break;
        default: return ERR("int64 %s is not supported", n->op_type);
        }
    }
    if (n->op == KW_OP_ReduceMean && cnt && !total)
        return ERR("the int64 mean over an empty axis has no defined result");
    if (n->op == KW_OP_ReduceMean && cnt)
        for (int64_t i = 0; i < cnt; i++)
            out[i] /= total / cnt;
    return 1;
}

static void *alloc_data(KwGraph *g, KwValue *v)
{
    size_t bytes = (size_t)kw_numel(&v->shape) * (size_t)kw_dtype_size(v->dt);
    return kw_alloc(g->arena, bytes ? bytes : 1);
}

static int fold_special(KwGraph *g, KwNode *n, KwValue *y)
{
    switch (n->op) {
    case KW_OP_Shape: {
        const KwValue *x = kw_in(g, n, 0);
        int64_t start, r = x->shape.rank, *out = y->data;
        kw_attr_int(g, n, "start", 0, &start);
        if (start < 0)
            start += r;
        start = start < 0 ? 0 : (start > r ? r : start);
        for (int64_t i = 0; i < y->shape.d[0]; i++)
            out[i] = x->shape.d[start + i];
        return 1;
    }
    case KW_OP_ConstantOfShape: {
        const KwAttr *a = kw_attr(n, "value");
        int64_t cnt = kw_numel(&y->shape);
        for (int64_t i = 0; i < cnt; i++) {
            if (y->dt == KW_I64)
                ((int64_t *)y->data)[i] = a ? ((const int64_t *)g->v[a->tensor].data)[0] : 0;
            else
                ((float *)y->data)[i] = a ? ((const float *)g->v[a->tensor].data)[0] : 0.0f;
        }
        return 1;
    }
    case KW_OP_Range: {
        int64_t cnt = y->shape.d[0];
        if (y->dt == KW_I64) {
            int64_t s0 = ((int64_t *)kw_in(g, n, 0)->data)[0], d0 = ((int64_t *)kw_in(g, n, 2)->data)[0];
            for (int64_t i = 0; i < cnt; i++)
                ((int64_t *)y->data)[i] = (int64_t)((uint64_t)s0 + (uint64_t)i * (uint64_t)d0); /* wraps, no UB */
        } else {
            float s0 = kw_const_scalar(g, n->in[0]), d0 = kw_const_scalar(g, n->in[2]);
            for (int64_t i = 0; i < cnt; i++)
                ((float *)y->data)[i] = s0 + (float)i * d0;
        }
        return 1;
    }
    case KW_OP_Cast: {
        const KwValue *x = kw_in(g, n, 0);
        int64_t cnt = kw_numel(&y->shape), to = 1;
        kw_attr_int(g, n, "to", 1, &to);
        for (int64_t i = 0; i < cnt; i++) {
            if (x->dt == KW_F32 && y->dt == KW_I64) {
                float f = ((const float *)x->data)[i];
                if (!(f > -9.2e18f && f < 9.2e18f))
                    return ERR("cannot cast %g to an integer", (double)f);
                int64_t v = (int64_t)f;
                if (to == 6)
                    v = (int32_t)(uint32_t)(uint64_t)v;
                ((int64_t *)y->data)[i] = v;
            } else if (x->dt == KW_I64 && y->dt == KW_F32)
                ((float *)y->data)[i] = (float)((const int64_t *)x->data)[i];
            else if (y->dt == KW_I64 && to == 6)
                ((int64_t *)y->data)[i] = (int32_t)(uint32_t)(uint64_t)((const int64_t *)x->data)[i];
            else
                memcpy((char *)y->data + i * kw_dtype_size(y->dt), (const char *)x->data + i * kw_dtype_size(x->dt),
                       (size_t)kw_dtype_size(y->dt));
        }
        return 1;
    }
    default: return 0;
    }
}

int kw_fold_node(KwGraph *g, KwNode *n)
{
    if (n->op == KW_OP_KwConv || n->op == KW_OP_Constant)
        return 0;
    int all_const = 1;
    for (int i = 0; i < n->n_in; i++)
        if (n->in[i] >= 0 && !g->v[n->in[i]].data)
            all_const = 0;
    if (!all_const && n->op != KW_OP_Shape)
        return 0;
    for (int i = 0; i < n->n_out; i++) {
        KwValue *y = kw_out(g, n, i);
        if (y)
            y->data = alloc_data(g, y);
    }
    KwValue *y0 = kw_out(g, n, 0);
    int done = fold_special(g, n, y0);
    if (done == 0 && y0->dt == KW_I64 && !(kw_op_info[n->op].flags & KW_OPF_VIEW)) {
        if (kw_op_info[n->op].flags & KW_OPF_REDUCE)
            done = fold_reduce_i64(g, n, y0);
        else
            done = fold_i64(g, n, y0);
        if (done == 0) {
            switch (n->op) { /* dtype-generic data movement lowers fine for int64 */
            case KW_OP_Transpose:
            case KW_OP_Concat:
            case KW_OP_Slice:
            case KW_OP_Split:
            case KW_OP_Expand:
            case KW_OP_Gather: break;
            default: return ERR("int64 %s is not supported", n->op_type);
            }
        }
    }
    if (done < 0)
        return -1;
    if (done == 0 && (kw_op_info[n->op].flags & KW_OPF_VIEW)) {
        const KwValue *x = kw_in(g, n, 0);
        memcpy(y0->data, x->data, (size_t)kw_numel(&x->shape) * (size_t)kw_dtype_size(x->dt));
        done = 1;
    }
    if (done == 0) {
        KwTargetKind saved = g->lower_target;
        g->lower_target = KW_TARGET_GENERIC; /* folding runs the portable kernels */
        int st = kw_lower(g, n);
        g->lower_target = saved;
        KW_TRY(st);
        void *scratch = n->scratch_bytes ? kw_alloc(g->arena, (size_t)n->scratch_bytes) : NULL;
        for (int c = 0; c < n->n_calls; c++) {
            const KwCall *call = &n->calls[c];
            void *ptrs[KW_CALL_MAXARG];
            for (int a = 0; a < call->nargs; a++) {
                const KwArg *arg = &call->args[a];
                ptrs[a] = arg->kind == KW_ARG_VALUE     ? (char *)g->v[arg->value].data + arg->off
                          : arg->kind == KW_ARG_SCRATCH ? (char *)scratch + arg->off
                                                        : NULL;
            }
            kw_exec_call(call, ptrs);
        }
        n->calls = NULL;
        n->n_calls = 0;
    }
    for (int i = 0; i < n->n_out; i++) {
        KwValue *y = kw_out(g, n, i);
        if (y)
            y->producer = -1;
    }
    n->dead = 1;
    return 1;
}
