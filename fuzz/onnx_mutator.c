/* onnx_mutator.c -- a structure-aware libFuzzer mutator for ONNX models.
 *
 * Byte-level mutation of a protobuf mostly yields files the parser rejects, so few inputs
 * reach shape inference, the passes and codegen. Half of the time this mutator instead parses
 * the input as a ModelProto (kwcc's own schema, frontends/onnx/kw_onnx.proto; unknown fields
 * survive), changes one to three things a model writer controls -- an attribute value, a
 * dimension, an op type, an edge, an initializer element, the opset, the node list -- to
 * values chosen for their edge-case potential (0, -1, 2^31, INT64_MIN, NaN...), and packs it
 * again. Everything is allocated in one static bump arena reset per call. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kw_onnx.pb-c.h"
#include "kwcc_int.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static size_t pick(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* ---- a bump arena for protobuf-c (never frees; reset per mutation) */
static _Alignas(16) unsigned char arena[8 << 20];
static size_t arena_used;
static void *a_alloc(void *ud, size_t n)
{
    (void)ud;
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof arena - arena_used)
        return NULL;
    void *p = arena + arena_used;
    arena_used += n;
    return p;
}
static void a_free(void *ud, void *p) { (void)ud, (void)p; }
static ProtobufCAllocator alloc = {a_alloc, a_free, NULL};

static int64_t interesting_int(void)
{
    static const int64_t v[] = {0, 1, -1, 2, -2, 3, 4, 5, 7, 8, 16, 255, 1024, 65535, 65536,
                                INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN, (int64_t)1 << 40,
                                INT64_MAX, INT64_MIN, INT64_MAX / 2, -(INT64_MAX / 2)};
    return rnd() & 1 ? (int64_t)pick(9) - 2 : v[pick(KW_COUNTOF(v))];
}
static float interesting_float(void)
{
    static const float v[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 1e-8f, 1e30f, -1e30f, 3.4e38f};
    switch (pick(5)) {
    case 0: return NAN;
    case 1: return rnd() & 1 ? INFINITY : -INFINITY;
    default: return v[pick(KW_COUNTOF(v))];
    }
}

/* a value name used somewhere in the graph ("" for none) */
static char *value_name(Onnx__GraphProto *g);
static char *any_value_name(Onnx__GraphProto *g)
{
    char *s = value_name(g);
    return s ? s : (char *)"";
}

static char *value_name(Onnx__GraphProto *g)
{
    for (int tries = 0; tries < 8; tries++) {
        switch (pick(4)) {
        case 0:
            if (g->n_input)
                return g->input[pick(g->n_input)]->name;
            break;
        case 1:
            if (g->n_initializer)
                return g->initializer[pick(g->n_initializer)]->name;
            break;
        default:
            if (g->n_node) {
                Onnx__NodeProto *n = g->node[pick(g->n_node)];
                if (n->n_output)
                    return n->output[pick(n->n_output)];
            }
        }
    }
    return (char *)"";
}

static void *grow(void *old, size_t n, size_t elem)
{
    void *p = a_alloc(NULL, (n + 1) * elem);
    if (p && old)
        memcpy(p, old, n * elem);
    return p;
}

static Onnx__TensorShapeProto *shape_of(Onnx__ValueInfoProto *vi)
{
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type)
        return NULL;
    return vi->type->tensor_type->shape;
}

static int mutate_once(Onnx__ModelProto *m)
{
    Onnx__GraphProto *g = m->graph;
    Onnx__NodeProto *n = g->n_node ? g->node[pick(g->n_node)] : NULL;
    switch (pick(12)) {
    case 0: { /* an int or ints attribute */
        if (!n || !n->n_attribute)
            return 0;
        Onnx__AttributeProto *a = n->attribute[pick(n->n_attribute)];
        if (a->n_ints && pick(4)) {
            a->ints[pick(a->n_ints)] = interesting_int();
        } else if (a->n_ints && pick(2)) {
            a->n_ints = pick(a->n_ints + 1); /* drop the tail */
        } else if (a->n_ints) {
            int64_t *p = grow(a->ints, a->n_ints, sizeof *p);
            if (!p)
                return 0;
            p[a->n_ints++] = interesting_int();
            a->ints = p;
        } else if (a->has_i) {
            a->i = interesting_int();
        } else if (a->n_floats) {
            a->floats[pick(a->n_floats)] = interesting_float();
        } else if (a->has_f) {
            a->f = interesting_float();
        } else {
            return 0;
        }
        return 1;
    }
    case 1: { /* a new attribute of a name kwcc knows, or a wrong type for an existing one */
        if (!n)
            return 0;
        static const char *names[] = {"axis", "axes", "perm", "pads", "strides", "dilations", "kernel_shape",
                                      "group", "keepdims", "transA", "transB", "alpha", "beta", "epsilon",
                                      "split", "num_outputs", "to", "start", "end", "ceil_mode",
                                      "count_include_pad", "auto_pad", "allowzero", "value", "training_mode",
                                      "noop_with_empty_axes", "storage_order", "stash_type"};
        Onnx__AttributeProto *a = a_alloc(NULL, sizeof *a);
        Onnx__AttributeProto **arr = grow(n->attribute, n->n_attribute, sizeof *arr);
        if (!a || !arr)
            return 0;
        onnx__attribute_proto__init(a);
        a->name = (char *)names[pick(KW_COUNTOF(names))];
        a->has_type = 1;
        switch (pick(4)) {
        case 0:
            a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
            a->has_i = 1;
            a->i = interesting_int();
            break;
        case 1:
            a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
            a->has_f = 1;
            a->f = interesting_float();
            break;
        case 2:
            a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
            a->has_s = 1;
            a->s.data = (uint8_t *)(pick(2) ? "SAME_UPPER" : "VALID");
            a->s.len = strlen((const char *)a->s.data);
            break;
        default: {
            a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
            a->n_ints = 1 + pick(6);
            a->ints = a_alloc(NULL, a->n_ints * sizeof *a->ints);
            if (!a->ints)
                return 0;
            for (size_t i = 0; i < a->n_ints; i++)
                a->ints[i] = interesting_int();
        }
        }
        arr[n->n_attribute++] = a;
        n->attribute = arr;
        return 1;
    }
    case 2: { /* a dimension of a graph input or output */
        int out = pick(2);
        size_t cnt = out ? g->n_output : g->n_input;
        if (!cnt)
            return 0;
        Onnx__TensorShapeProto *s = shape_of((out ? g->output : g->input)[pick(cnt)]);
        if (!s || !s->n_dim)
            return 0;
        Onnx__TensorShapeProto__Dimension *d = s->dim[pick(s->n_dim)];
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = pick(3) ? (int64_t)pick(9) : interesting_int();
        return 1;
    }
    case 3: { /* the rank of a graph input: drop or repeat a dimension */
        if (!g->n_input)
            return 0;
        Onnx__TensorShapeProto *s = shape_of(g->input[pick(g->n_input)]);
        if (!s || !s->n_dim)
            return 0;
        if (pick(2)) {
            s->n_dim--;
        } else {
            Onnx__TensorShapeProto__Dimension **arr = grow(s->dim, s->n_dim, sizeof *arr);
            if (!arr)
                return 0;
            arr[s->n_dim] = arr[pick(s->n_dim)];
            s->n_dim++;
            s->dim = arr;
        }
        return 1;
    }
    case 4: { /* another op type */
        if (!n)
            return 0;
        const char *op = NULL;
        while (!op)
            op = kw_op_info[pick(KW_OP_COUNT)].onnx;
        n->op_type = (char *)op;
        return 1;
    }
    case 5: { /* rewire an input */
        if (!n || !n->n_input)
            return 0;
        n->input[pick(n->n_input)] = pick(8) ? any_value_name(g) : (char *)"";
        return 1;
    }
    case 6: { /* one more input or output, or one fewer */
        if (!n)
            return 0;
        int out = pick(2);
        size_t *cnt = out ? &n->n_output : &n->n_input;
        char ***arr = out ? &n->output : &n->input;
        if (*cnt && pick(2)) {
            (*cnt)--;
            return 1;
        }
        char **p = grow(*arr, *cnt, sizeof *p);
        if (!p)
            return 0;
        p[(*cnt)++] = out ? (char *)(pick(2) ? "fz_extra" : "") : any_value_name(g);
        *arr = p;
        return 1;
    }
    case 7: { /* an initializer element: shapes, axes, starts and indices live there */
        if (!g->n_initializer)
            return 0;
        Onnx__TensorProto *t = g->initializer[pick(g->n_initializer)];
        if (t->n_int64_data) {
            t->int64_data[pick(t->n_int64_data)] = interesting_int();
        } else if (t->n_float_data) {
            t->float_data[pick(t->n_float_data)] = interesting_float();
        } else if (t->has_raw_data && t->raw_data.len >= 8 && t->data_type == 7) {
            int64_t v = interesting_int();
            memcpy(t->raw_data.data + 8 * pick(t->raw_data.len / 8), &v, 8);
        } else if (t->has_raw_data && t->raw_data.len >= 4) {
            float v = interesting_float();
            memcpy(t->raw_data.data + 4 * pick(t->raw_data.len / 4), &v, 4);
        } else {
            return 0;
        }
        return 1;
    }
    case 8: { /* an initializer's dims */
        if (!g->n_initializer)
            return 0;
        Onnx__TensorProto *t = g->initializer[pick(g->n_initializer)];
        if (!t->n_dims)
            return 0;
        if (pick(2)) {
            t->dims[pick(t->n_dims)] = pick(4) ? (int64_t)pick(9) : interesting_int();
        } else if (t->n_dims >= 2) { /* same element count, another shape */
            size_t i = pick(t->n_dims - 1);
            int64_t a = t->dims[i];
            t->dims[i] = t->dims[i + 1];
            t->dims[i + 1] = a;
        } else {
            return 0;
        }
        return 1;
    }
    case 9: /* the opset */
        if (!m->n_opset_import)
            return 0;
        m->opset_import[0]->version = pick(8) ? 11 + (int64_t)pick(11) : 1 + (int64_t)pick(24);
        return 1;
    case 10: { /* drop, duplicate or move a node */
        if (g->n_node < 2)
            return 0;
        size_t i = pick(g->n_node), j = pick(g->n_node);
        switch (pick(3)) {
        case 0:
            memmove(&g->node[i], &g->node[i + 1], (g->n_node - i - 1) * sizeof *g->node);
            g->n_node--;
            break;
        case 1: {
            Onnx__NodeProto **arr = grow(g->node, g->n_node, sizeof *arr);
            Onnx__NodeProto *c = a_alloc(NULL, sizeof *c);
            if (!arr || !c)
                return 0;
            *c = *g->node[i];
            if (c->n_output) { /* fresh output names, inputs shared */
                char **outs = a_alloc(NULL, c->n_output * sizeof *outs);
                if (!outs)
                    return 0;
                for (size_t k = 0; k < c->n_output; k++) {
                    outs[k] = a_alloc(NULL, strlen(c->output[k]) + 4);
                    if (!outs[k])
                        return 0;
                    strcpy(outs[k], c->output[k]);
                    strcat(outs[k], "_fz");
                }
                c->output = outs;
            }
            arr[g->n_node++] = c;
            g->node = arr;
            break;
        }
        default: {
            Onnx__NodeProto *t = g->node[i];
            g->node[i] = g->node[j];
            g->node[j] = t;
        }
        }
        return 1;
    }
    default: { /* a graph output points at another value */
        if (!g->n_output)
            return 0;
        g->output[pick(g->n_output)]->name = any_value_name(g);
        return 1;
    }
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng_state = seed * 0x9E3779B97F4A7C15ull + 1;
    if (rnd() % 2 == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    arena_used = 0;
    Onnx__ModelProto *m = onnx__model_proto__unpack(&alloc, size, data);
    if (!m || !m->graph)
        return LLVMFuzzerMutate(data, size, max_size);
    int changed = 0, want = 1 + (int)pick(3);
    for (int tries = 0; tries < 16 && changed < want; tries++)
        changed += mutate_once(m);
    if (!changed)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t len = onnx__model_proto__get_packed_size(m);
    if (len > max_size || len > sizeof arena - arena_used)
        return LLVMFuzzerMutate(data, size, max_size);
    uint8_t *out = arena + arena_used;
    onnx__model_proto__pack(m, out);
    memcpy(data, out, len);
    return len;
}
