/* unit_onnx.h -- builds small ONNX models in memory (through the frontend's protobuf-c
 * schema), for tests that need graphs no fixture has. Everything is malloc'd into one pool
 * freed by mb_free. Usage:
 *     Mb *m = mb_new(13);
 *     mb_input(m, "x", 2, (int64_t[]){2, 3});
 *     mb_node(m, "Relu", "x", "y");             (inputs and outputs: space-separated names)
 *     mb_output(m, "y");
 *     size_t len; unsigned char *bytes = mb_pack(m, &len);
 */
#ifndef KW_UNIT_ONNX_H
#define KW_UNIT_ONNX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kw_onnx.pb-c.h"

typedef struct Mb {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__NodeProto *nodes[64];
    Onnx__ValueInfoProto *inputs[8], *outputs[8];
    Onnx__TensorProto *inits[16];
    void *pool[1024];
    int npool;
} Mb;

static inline void *mb_mem(Mb *m, size_t n)
{
    void *p = calloc(1, n ? n : 1);
    m->pool[m->npool++] = p;
    return p;
}

static inline char *mb_str(Mb *m, const char *s)
{
    char *p = mb_mem(m, strlen(s) + 1);
    strcpy(p, s);
    return p;
}

static inline Mb *mb_new(int opset)
{
    Mb *m = calloc(1, sizeof *m);
    onnx__model_proto__init(&m->model);
    onnx__graph_proto__init(&m->graph);
    onnx__operator_set_id_proto__init(&m->opset);
    m->opset.domain = mb_str(m, "");
    m->opset.has_version = 1;
    m->opset.version = opset;
    m->opsets[0] = &m->opset;
    m->model.has_ir_version = 1;
    m->model.ir_version = 8;
    m->model.n_opset_import = 1;
    m->model.opset_import = m->opsets;
    m->model.graph = &m->graph;
    m->graph.name = mb_str(m, "unit");
    m->graph.node = m->nodes;
    m->graph.input = m->inputs;
    m->graph.output = m->outputs;
    m->graph.initializer = m->inits;
    return m;
}

static inline Onnx__ValueInfoProto *mb_vi(Mb *m, const char *name, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *vi = mb_mem(m, sizeof *vi);
    onnx__value_info_proto__init(vi);
    vi->name = mb_str(m, name);
    if (rank < 0)
        return vi;
    Onnx__TypeProto *tp = mb_mem(m, sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = mb_mem(m, sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = 1;
    Onnx__TensorShapeProto *sp = mb_mem(m, sizeof *sp);
    onnx__tensor_shape_proto__init(sp);
    sp->n_dim = (size_t)rank;
    sp->dim = mb_mem(m, sizeof(void *) * (size_t)(rank + 1));
    for (int i = 0; i < rank; i++) {
        Onnx__TensorShapeProto__Dimension *d = mb_mem(m, sizeof *d);
        onnx__tensor_shape_proto__dimension__init(d);
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[i];
        sp->dim[i] = d;
    }
    tt->shape = sp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    vi->type = tp;
    return vi;
}

static inline void mb_input(Mb *m, const char *name, int rank, const int64_t *dims)
{
    m->inputs[m->graph.n_input++] = mb_vi(m, name, rank, dims);
}

static inline void mb_output(Mb *m, const char *name) { m->outputs[m->graph.n_output++] = mb_vi(m, name, -1, NULL); }

/* an initializer: dtype 1 (float, data f) or 7 (int64, data i) */
static inline void mb_init(Mb *m, const char *name, int dtype, int rank, const int64_t *dims, const float *f,
                           const int64_t *i)
{
    Onnx__TensorProto *t = mb_mem(m, sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = mb_str(m, name);
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = mb_mem(m, sizeof(int64_t) * (size_t)(rank + 1));
    int64_t n = 1;
    for (int k = 0; k < rank; k++) {
        t->dims[k] = dims[k];
        n *= dims[k];
    }
    size_t bytes = (size_t)n * (dtype == 7 ? 8 : 4);
    t->has_raw_data = 1;
    t->raw_data.len = bytes;
    t->raw_data.data = mb_mem(m, bytes);
    memcpy(t->raw_data.data, dtype == 7 ? (const void *)i : (const void *)f, bytes);
    m->inits[m->graph.n_initializer++] = t;
}

/* splits "a b c" into a NULL-terminated name array ("-" stands for an empty optional name) */
static inline char **mb_names(Mb *m, const char *list, size_t *count)
{
    char **v = mb_mem(m, sizeof(char *) * 16);
    size_t n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ' ')
            e++;
        char *s = mb_mem(m, (size_t)(e - p) + 1);
        memcpy(s, p, (size_t)(e - p));
        if (strcmp(s, "-") == 0)
            s[0] = 0;
        v[n++] = s;
        p = e;
    }
    *count = n;
    return v;
}

static inline Onnx__NodeProto *mb_node(Mb *m, const char *op, const char *ins, const char *outs)
{
    Onnx__NodeProto *n = mb_mem(m, sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = mb_str(m, op);
    char nm[64];
    snprintf(nm, sizeof nm, "%s_%zu", op, m->graph.n_node);
    n->name = mb_str(m, nm);
    n->input = mb_names(m, ins, &n->n_input);
    n->output = mb_names(m, outs, &n->n_output);
    n->attribute = mb_mem(m, sizeof(void *) * 8);
    m->nodes[m->graph.n_node++] = n;
    return n;
}

static inline void mb_attr_int(Mb *m, Onnx__NodeProto *n, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = mb_mem(m, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = mb_str(m, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
    n->attribute[n->n_attribute++] = a;
}

static inline void mb_attr_ints(Mb *m, Onnx__NodeProto *n, const char *name, int cnt, const int64_t *v)
{
    Onnx__AttributeProto *a = mb_mem(m, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = mb_str(m, name);
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = (size_t)cnt;
    a->ints = mb_mem(m, sizeof(int64_t) * (size_t)(cnt + 1));
    memcpy(a->ints, v, sizeof(int64_t) * (size_t)cnt);
    n->attribute[n->n_attribute++] = a;
}

static inline unsigned char *mb_pack(Mb *m, size_t *len)
{
    *len = onnx__model_proto__get_packed_size(&m->model);
    unsigned char *b = malloc(*len + 1);
    onnx__model_proto__pack(&m->model, b);
    return b;
}

static inline void mb_free(Mb *m)
{
    for (int i = 0; i < m->npool; i++)
        free(m->pool[i]);
    free(m);
}

#endif
