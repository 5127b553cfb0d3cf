/* ir.c -- the graph: values and nodes addressed by index, attribute access, use counts,
 * a text dump and a verifier run between passes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kwcc_int.h"

const KwOpInfo kw_op_info[KW_OP_COUNT] = {
#define KW_OP(name, onnx, imin, imax, omin, omax, attrs, flags) \
    {#name, onnx, imin, imax, omin, omax, attrs, flags},
#include "ops.def"
#undef KW_OP
};

const char *kw_dtype_name(KwDType t)
{
    switch (t) {
    case KW_F32: return "float32";
    case KW_I64: return "int64";
    default: return "undefined";
    }
}

int kw_dtype_size(KwDType t) { return t == KW_I64 ? 8 : 4; }

int64_t kw_numel(const KwShape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->d[i];
    return n;
}

int kw_shape_eq(const KwShape *a, const KwShape *b)
{
    if (a->rank != b->rank)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i])
            return 0;
    return 1;
}

const char *kw_shape_str(KwArena *a, const KwShape *s)
{
    char buf[KW_MAX_RANK * 22 + 4];
    size_t k = 0;
    buf[k++] = '[';
    for (int i = 0; i < s->rank; i++)
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%" PRId64, i ? "," : "", s->d[i]);
    buf[k++] = ']';
    buf[k] = 0;
    return kw_strdup(a, buf);
}

int kw_norm_axis(int64_t axis, int rank, int64_t *out)
{
    if (axis < -rank || axis >= rank)
        return -1;
    *out = axis < 0 ? axis + rank : axis;
    return 0;
}

KwGraph *kw_graph_new(KwArena *a, KwDiag *d, const KwOptions *opt)
{
    KwGraph *g = KW_NEW(a, KwGraph);
    g->arena = a;
    g->diag = d;
    g->opt = opt;
    return g;
}

int kw_value_new(KwGraph *g, const char *name)
{
    if (g->nv == g->cap_v) {
        int cap = g->cap_v ? g->cap_v * 2 : 256;
        KwValue *v = KW_NEWN(g->arena, KwValue, cap);
        if (g->nv)
            memcpy(v, g->v, sizeof *v * (size_t)g->nv);
        g->v = v;
        g->cap_v = cap;
    }
    KwValue *v = &g->v[g->nv];
    memset(v, 0, sizeof *v);
    v->name = kw_strdup(g->arena, name);
    v->shape.rank = -1;
    v->producer = -1;
    v->input_index = -1;
    v->alias = -1;
    return g->nv++;
}

int kw_const_new(KwGraph *g, const char *name, KwDType dt, const KwShape *s, const void *data)
{
    int id = kw_value_new(g, name);
    KwValue *v = &g->v[id];
    v->dt = dt;
    v->shape = *s;
    size_t bytes = (size_t)kw_numel(s) * (size_t)kw_dtype_size(dt);
    v->data = data ? kw_dup(g->arena, data, bytes) : kw_alloc(g->arena, bytes ? bytes : 1);
    return id;
}

int kw_const_f32(KwGraph *g, const char *name, int rank, const int64_t *dims, const float *data)
{
    KwShape s;
    s.rank = rank;
    for (int i = 0; i < rank; i++)
        s.d[i] = dims[i];
    return kw_const_new(g, name, KW_F32, &s, data);
}

int kw_node_new(KwGraph *g, KwOp op, const char *name, int n_in, int n_out)
{
    if (g->nn == g->cap_n) {
        int cap = g->cap_n ? g->cap_n * 2 : 256;
        KwNode *n = KW_NEWN(g->arena, KwNode, cap);
        if (g->nn)
            memcpy(n, g->n, sizeof *n * (size_t)g->nn);
        g->n = n;
        g->cap_n = cap;
    }
    KwNode *n = &g->n[g->nn];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->name = kw_strdup(g->arena, name);
    n->op_type = kw_op_info[op].onnx ? kw_op_info[op].onnx : kw_op_info[op].name;
    n->n_in = n_in;
    n->n_out = n_out;
    n->in = KW_NEWN(g->arena, int, n_in ? n_in : 1);
    n->out = KW_NEWN(g->arena, int, n_out ? n_out : 1);
    for (int i = 0; i < n_in; i++)
        n->in[i] = -1;
    for (int i = 0; i < n_out; i++)
        n->out[i] = -1;
    n->epi.scale = n->epi.res = -1;
    return g->nn++;
}

KwValue *kw_in(KwGraph *g, const KwNode *n, int i)
{
    return i < n->n_in && n->in[i] >= 0 ? &g->v[n->in[i]] : NULL;
}

KwValue *kw_out(KwGraph *g, const KwNode *n, int i)
{
    return i < n->n_out && n->out[i] >= 0 ? &g->v[n->out[i]] : NULL;
}

int kw_is_const(const KwGraph *g, int v) { return v >= 0 && g->v[v].data != NULL; }

const KwAttr *kw_attr(const KwNode *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attr[i].name, name) == 0)
            return &n->attr[i];
    return NULL;
}

static KwAttr *add_attr(KwGraph *g, KwNode *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attr[i].name, name) == 0)
            return &n->attr[i];
    KwAttr *a = KW_NEWN(g->arena, KwAttr, n->n_attr + 1);
    if (n->n_attr)
        memcpy(a, n->attr, sizeof *a * (size_t)n->n_attr);
    n->attr = a;
    a = &n->attr[n->n_attr++];
    memset(a, 0, sizeof *a);
    a->name = kw_strdup(g->arena, name);
    a->tensor = -1;
    return a;
}

void kw_set_attr_int(KwGraph *g, KwNode *n, const char *name, int64_t v)
{
    KwAttr *a = add_attr(g, n, name);
    a->type = KW_AT_INT;
    a->i = v;
}

void kw_set_attr_float(KwGraph *g, KwNode *n, const char *name, float v)
{
    KwAttr *a = add_attr(g, n, name);
    a->type = KW_AT_FLOAT;
    a->f = v;
}

void kw_node_rewrite(KwGraph *g, KwNode *n, KwOp op, int n_in, const int *in)
{
    n->op = op;
    n->op_type = kw_op_info[op].onnx ? kw_op_info[op].onnx : kw_op_info[op].name;
    n->n_in = n_in;
    n->in = KW_NEWN(g->arena, int, n_in ? n_in : 1);
    for (int i = 0; i < n_in; i++)
        n->in[i] = in[i];
    n->n_attr = 0;
    n->attr = NULL;
}

KwNode *kw_def(KwGraph *g, int v, KwOp op)
{
    if (v < 0 || g->v[v].producer < 0)
        return NULL;
    KwNode *n = &g->n[g->v[v].producer];
    return !n->dead && n->op == op ? n : NULL;
}

int kw_strip_views(KwGraph *g, int v)
{
    while (v >= 0 && g->v[v].producer >= 0) {
        KwNode *n = &g->n[g->v[v].producer];
        if (n->dead || !(kw_op_info[n->op].flags & KW_OPF_VIEW))
            break;
        v = n->in[0];
    }
    return v;
}

static const char *at_name(KwAttrType t)
{
    static const char *const names[] = {"none", "int", "float", "string", "ints", "floats", "tensor", "other"};
    return names[t];
}

int kw_attr_int(KwGraph *g, const KwNode *n, const char *name, int64_t def, int64_t *out)
{
    const KwAttr *a = kw_attr(n, name);
    *out = def;
    if (!a)
        return 0;
    if (a->type != KW_AT_INT)
        return kw_error(g->diag, n, "attribute '%s' is of type %s, expected int", name, at_name(a->type));
    *out = a->i;
    return 0;
}

int kw_attr_float(KwGraph *g, const KwNode *n, const char *name, float def, float *out)
{
    const KwAttr *a = kw_attr(n, name);
    *out = def;
    if (!a)
        return 0;
    if (a->type != KW_AT_FLOAT)
        return kw_error(g->diag, n, "attribute '%s' is of type %s, expected float", name, at_name(a->type));
    *out = a->f;
    return 0;
}

int kw_attr_ints(KwGraph *g, const KwNode *n, const char *name, int64_t *out, int max, int *count)
{
    const KwAttr *a = kw_attr(n, name);
    *count = -1;
    if (!a)
        return 0;
    if (a->type != KW_AT_INTS)
        return kw_error(g->diag, n, "attribute '%s' is of type %s, expected ints", name, at_name(a->type));
    if (a->n > max)
        return kw_error(g->diag, n, "attribute '%s' has %d values, at most %d are supported", name, a->n, max);
    for (int i = 0; i < a->n; i++)
        out[i] = a->ints[i];
    *count = a->n;
    return 0;
}

int kw_attr_string(KwGraph *g, const KwNode *n, const char *name, const char *def, const char **out)
{
    const KwAttr *a = kw_attr(n, name);
    *out = def;
    if (!a)
        return 0;
    if (a->type != KW_AT_STRING)
        return kw_error(g->diag, n, "attribute '%s' is of type %s, expected string", name, at_name(a->type));
    *out = a->s;
    return 0;
}

int kw_const_ints(KwGraph *g, const KwNode *n, int input, int64_t *out, int max, int *count)
{
    KwValue *v = kw_in(g, n, input);
    *count = -1;
    if (!v)
        return 0;
    if (!v->data)
        return kw_error(g->diag, n, "input %d ('%s') must be a constant: kwcc compiles static shapes only",
                        input, v->name);
    if (v->dt != KW_I64)
        return kw_error(g->diag, n, "input %d ('%s') is %s, expected int64", input, v->name, kw_dtype_name(v->dt));
    if (v->shape.rank > 1)
        return kw_error(g->diag, n, "input %d ('%s') has rank %d, expected a 1-D tensor or a scalar", input,
                        v->name, v->shape.rank);
    int64_t cnt = kw_numel(&v->shape);
    if (cnt > max)
        return kw_error(g->diag, n, "input %d ('%s') has %" PRId64 " values, at most %d are supported", input,
                        v->name, cnt, max);
    memcpy(out, v->data, sizeof(int64_t) * (size_t)cnt);
    *count = (int)cnt;
    return 0;
}

float kw_const_scalar(KwGraph *g, int v)
{
    const KwValue *x = &g->v[v];
    if (kw_numel(&x->shape) < 1)
        return 0.0f; /* an empty tensor: callers check shapes, this only keeps reads in bounds */
    if (x->dt == KW_I64)
        return (float)((const int64_t *)x->data)[0];
    return ((const float *)x->data)[0];
}

int kw_ir_is_graph_output(const KwGraph *g, int v)
{
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v)
            return 1;
    return 0;
}

void kw_ir_count_uses(KwGraph *g)
{
    for (int i = 0; i < g->nv; i++)
        g->v[i].n_use = 0;
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                g->v[n->in[k]].n_use++;
        if (n->epi.scale >= 0)
            g->v[n->epi.scale].n_use++;
        if (n->epi.res >= 0)
            g->v[n->epi.res].n_use++;
        if (n->kw) {
            const KwKwInfo *k = n->kw;
            const int ids[] = {k->wh, k->w1, k->b1, k->ln_g, k->ln_b, k->w2, k->b2, k->w3, k->tb, k->bias};
            for (size_t j = 0; j < KW_COUNTOF(ids); j++)
                if (ids[j] >= 0)
                    g->v[ids[j]].n_use++;
        }
    }
    for (int i = 0; i < g->n_outputs; i++)
        g->v[g->outputs[i]].n_use++;
}

int kw_ir_consumers(KwGraph *g, int v, int *nodes, int max)
{
    int cnt = 0;
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        int uses = n->epi.res == v || n->epi.scale == v;
        for (int k = 0; k < n->n_in; k++)
            uses |= n->in[k] == v;
        if (uses) {
            if (cnt < max)
                nodes[cnt] = i;
            cnt++;
        }
    }
    return cnt;
}

void kw_ir_replace_uses(KwGraph *g, int from, int to)
{
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == from)
                n->in[k] = to;
        if (n->epi.res == from)
            n->epi.res = to;
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == from)
            g->outputs[i] = to;
}

static void print_value(KwGraph *g, FILE *f, int id)
{
    if (id < 0) {
        fputs("_", f);
        return;
    }
    KwValue *v = &g->v[id];
    fprintf(f, "%%%d:%s%s%s", id, v->dt == KW_I64 ? "i64" : "f32", kw_shape_str(g->arena, &v->shape),
            v->data ? "=const" : "");
}

void kw_ir_print(KwGraph *g, FILE *f, const char *after)
{
    fprintf(f, "# IR after %s (opset %d)\n", after, g->opset);
    for (int i = 0; i < g->n_inputs; i++) {
        fprintf(f, "input ");
        print_value(g, f, g->inputs[i]);
        fprintf(f, " '%s'\n", g->v[g->inputs[i]].name);
    }
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        fprintf(f, "n%d ", i);
        for (int k = 0; k < n->n_out; k++) {
            fputs(k ? ", " : "", f);
            print_value(g, f, n->out[k]);
        }
        fprintf(f, " = %s(", kw_op_info[n->op].name);
        for (int k = 0; k < n->n_in; k++) {
            fputs(k ? ", " : "", f);
            print_value(g, f, n->in[k]);
        }
        fputs(")", f);
        if (n->epi.act)
            fprintf(f, " act=%d[%g,%g]", n->epi.act, n->epi.lo, n->epi.hi);
        if (n->epi.scale >= 0)
            fprintf(f, " scale=%%%d", n->epi.scale);
        if (n->epi.res >= 0)
            fprintf(f, " res=%%%d", n->epi.res);
        if (n->kw)
            fprintf(f, " kw{wh=%d m=%d n=%d cell=%dx%d}", n->kw->wh_index, n->kw->attn.m, n->kw->attn.n,
                    n->kw->co, n->kw->ci);
        fprintf(f, "  # '%s'\n", n->name);
    }
    for (int i = 0; i < g->n_outputs; i++) {
        fprintf(f, "output ");
        print_value(g, f, g->outputs[i]);
        fputc('\n', f);
    }
}

int kw_ir_verify(KwGraph *g, const char *after)
{
    /* every live input is defined earlier (or is a graph input / constant) */
    char *defined = calloc((size_t)g->nv + 1, 1);
    if (!defined)
        return 0;
    for (int i = 0; i < g->nv; i++)
        if (g->v[i].data || g->v[i].input_index >= 0)
            defined[i] = 1;
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && !defined[n->in[k]])
                KW_BUG("after %s: node %d '%s' reads %%%d before it is defined", after, i, n->name, n->in[k]);
        if (n->epi.res >= 0 && !defined[n->epi.res])
            KW_BUG("after %s: node %d residual read before definition", after, i);
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0) {
                if (g->v[n->out[k]].producer != i)
                    KW_BUG("after %s: %%%d has producer %d, expected %d", after, n->out[k],
                           g->v[n->out[k]].producer, i);
                defined[n->out[k]] = 1;
            }
    }
    for (int i = 0; i < g->n_outputs; i++)
        if (!defined[g->outputs[i]])
            KW_BUG("after %s: graph output %%%d is never defined", after, g->outputs[i]);
    free(defined);
    return 0;
}
