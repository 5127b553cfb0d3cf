/* onnx_load.c -- ONNX ModelProto -> KwGraph.
 *
 * protobuf-c unpacks into the compile arena (its allocator never frees). Then:
 *   opset_import    the default domain's version must be within 11..21, or 1..10 for a model
 *                   whose every op is unchanged from that opset to 11 (op_since_11);
 *   initializers    become constants (raw_data copied with memcpy, little-endian);
 *   graph inputs    that are not initializers become the model's inputs (float32, static);
 *   nodes           op_type looked up in ops.def; arity and attribute names checked;
 *                   Constant nodes become constants right away;
 *   outputs         must be produced by some node, input or initializer.
 * Value names resolve through a hash map; a name defined twice is an error. */
#include <inttypes.h>
#include <string.h>

#include "kw_onnx.h"
#include "kw_onnx.pb-c.h"

enum { ONNX_FLOAT = 1, ONNX_INT32 = 6, ONNX_INT64 = 7, ONNX_BOOL = 9, ONNX_DOUBLE = 11 };

/* ---- name -> value id map (open addressing, arena-allocated) ---- */
typedef struct NameMap {
    const char **key;
    int *val;
    size_t cap, n;
} NameMap;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void map_init(KwArena *a, NameMap *m, size_t expect)
{
    m->cap = 64;
    while (m->cap < expect * 2)
        m->cap *= 2;
    m->key = KW_NEWN(a, const char *, m->cap);
    m->val = KW_NEWN(a, int, m->cap);
    m->n = 0;
}

static int map_get(const NameMap *m, const char *k)
{
    for (size_t i = hash_str(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->key[i])
            return -1;
        if (strcmp(m->key[i], k) == 0)
            return m->val[i];
    }
}

static void map_put(KwArena *a, NameMap *m, const char *k, int v)
{
    if ((m->n + 1) * 2 > m->cap) {
        NameMap big;
        big.cap = m->cap * 2;
        big.key = KW_NEWN(a, const char *, big.cap);
        big.val = KW_NEWN(a, int, big.cap);
        big.n = 0;
        for (size_t i = 0; i < m->cap; i++)
            if (m->key[i])
                map_put(a, &big, m->key[i], m->val[i]);
        *m = big;
    }
    size_t i = hash_str(k) & (m->cap - 1);
    while (m->key[i] && strcmp(m->key[i], k) != 0)
        i = (i + 1) & (m->cap - 1);
    if (!m->key[i])
        m->n++;
    m->key[i] = k;
    m->val[i] = v;
}

/* ---- protobuf-c allocator over the arena ---- */
static void *pb_alloc(void *ud, size_t size) { return kw_alloc(ud, size); }
static void pb_free(void *ud, void *p) { (void)ud; (void)p; }

static const char *nz(const char *s) { return s ? s : ""; }

static int is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void from_le(void *p, size_t n, size_t esize)
{
    if (is_little_endian())
        return;
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++, b += esize)
        for (size_t k = 0; k < esize / 2; k++) {
            unsigned char t = b[k];
            b[k] = b[esize - 1 - k];
            b[esize - 1 - k] = t;
        }
}

/* Dims of a tensor or a value_info, checked: non-negative, rank and element count in range.
 * The count skips zero dims, so that a tensor with no elements cannot hide dims whose product
 * overflows (a later Flatten or Reshape multiplies them). */
static int check_dims(KwGraph *g, const char *what, const char *name, size_t n, const int64_t *d, KwShape *s)
{
    if (n > KW_MAX_RANK)
        return kw_error(g->diag, NULL, "%s '%s' has rank %zu; kwcc supports rank up to %d", what, name, n,
                        KW_MAX_RANK);
    s->rank = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < 0)
            return kw_error(g->diag, NULL, "%s '%s' has a negative dimension (%" PRId64 ")", what, name, d[i]);
        s->d[i] = d[i];
    }
    int64_t count = 1;
    int zero = 0;
    for (size_t i = 0; i < n; i++)
        zero |= d[i] == 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] == 0)
            continue;
        if (count > KW_MAX_ELEMS / d[i])
            return kw_error(g->diag, NULL,
                            "%s '%s' %s: the element count overflows the limit of 2^31 - 1 that kwcc supports%s",
                            what, name, kw_shape_str(g->arena, s),
                            zero ? " (counting the non-zero dimensions only)" : "");
        count *= d[i];
    }
    return 0;
}

/* TensorProto -> constant value. The data's size is checked against the dims before the
 * constant is allocated: a few bytes of file must not make kwcc allocate gigabytes. */
static int decode_tensor(KwGraph *g, const Onnx__TensorProto *t, const char *name)
{
    KwShape s;
    KW_TRY(check_dims(g, "tensor", name, t->n_dims, t->dims, &s));
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return kw_error(g->diag, NULL,
                        "tensor '%s' is stored as external data, which kwcc does not read yet; export the model "
                        "with the weights inside the .onnx file",
                        name);
    int64_t n = kw_numel(&s);
    int type = t->has_data_type ? t->data_type : 0;
    size_t raw = t->has_raw_data ? t->raw_data.len : 0;
    const unsigned char *rp = t->raw_data.data;
    size_t es = type == ONNX_FLOAT || type == ONNX_INT32 ? 4 : type == ONNX_INT64 ? 8 : type == ONNX_BOOL ? 1 : 0;
    if (!es)
        return kw_error(g->diag, NULL,
                        "tensor '%s' has ONNX data type %d; kwcc reads float32 (1), int32 (6), int64 (7) and bool (9) tensors",
                        name, type);
    if (t->has_raw_data) {
        if (raw != (size_t)n * es)
            return kw_error(g->diag, NULL, "tensor '%s' %s: raw_data has %zu bytes, expected %" PRId64, name,
                            kw_shape_str(g->arena, &s), raw, n * (int64_t)es);
    } else {
        /* int32 and bool values are stored in int32_data */
        size_t have = type == ONNX_FLOAT ? t->n_float_data : type == ONNX_INT64 ? t->n_int64_data : t->n_int32_data;
        const char *field = type == ONNX_FLOAT ? "float_data" : type == ONNX_INT64 ? "int64_data" : "int32_data";
        if (have != (size_t)n)
            return kw_error(g->diag, NULL, "tensor '%s' %s has %zu %s values, expected %" PRId64, name,
                            kw_shape_str(g->arena, &s), have, field, n);
    }
    if (type == ONNX_FLOAT) {
        int id = kw_const_new(g, name, KW_F32, &s, NULL);
        float *dst = g->v[id].data;
        if (t->has_raw_data) {
            if (raw)
                memcpy(dst, rp, raw);
            from_le(dst, (size_t)n, 4);
        } else if (n) {
            memcpy(dst, t->float_data, (size_t)n * 4);
        }
        return id;
    }
    /* integer tensors are int64 inside kwcc; bool is 0/1 */
    int id = kw_const_new(g, name, KW_I64, &s, NULL);
    int64_t *dst = g->v[id].data;
    if (t->has_raw_data) {
        for (int64_t i = 0; i < n; i++) {
            if (es == 8) {
                memcpy(&dst[i], rp + i * 8, 8);
                from_le(&dst[i], 1, 8);
            } else if (es == 1) {
                dst[i] = rp[i] != 0;
            } else {
                int32_t v;
                memcpy(&v, rp + i * 4, 4);
                from_le(&v, 1, 4);
                dst[i] = v;
            }
        }
    } else if (type == ONNX_INT64) {
        if (n)
            memcpy(dst, t->int64_data, (size_t)n * 8);
    } else {
        for (int64_t i = 0; i < n; i++)
            dst[i] = type == ONNX_BOOL ? t->int32_data[i] != 0 : t->int32_data[i];
    }
    return id;
}

static int opset_of(KwGraph *g, const Onnx__ModelProto *m)
{
    int found = 0;
    int64_t version = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        const char *dom = nz(o->domain);
        if (dom[0] && strcmp(dom, "ai.onnx") != 0)
            continue; /* another domain: an error only if a node uses it */
        if (!o->has_version)
            return kw_error(g->diag, NULL, "opset_import of the default domain has no version");
        if (found)
            return kw_error(g->diag, NULL,
                            "the default ONNX domain is imported twice (opsets %" PRId64 " and %" PRId64
                            "); expected one opset_import per domain",
                            version, o->version);
        version = o->version;
        found = 1;
    }
    if (!found)
        return kw_error(g->diag, NULL, "the model imports no opset of the default ONNX domain");
    if (version < 1 || version > 21) /* checked before the narrowing to int; 1..10: per op */
        return kw_error(g->diag, NULL, "the model uses opset %" PRId64 "; kwcc implements opsets 11 to 21",
                        version);
    g->opset = (int)version;
    return 0;
}

static int attr_allowed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        p += len;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static const char *attr_type_name(int type)
{
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: return "graph";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: return "sparse tensor";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: return "type proto";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: return "strings";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return "tensors";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return "graphs";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: return "sparse tensors";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: return "type protos";
    default: return "unknown";
    }
}

static int decode_attrs(KwGraph *g, KwNode *n, const Onnx__NodeProto *np)
{
    const KwOpInfo *info = &kw_op_info[n->op];
    n->n_attr = (int)np->n_attribute;
    n->attr = KW_NEWN(g->arena, KwAttr, np->n_attribute + 1);
    int bad = 0, n_seen = 0;
    const char *seen[32];
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *a = np->attribute[i];
        KwAttr *k = &n->attr[i];
        k->name = kw_strdup(g->arena, nz(a->name));
        k->tensor = -1;
        if (!attr_allowed(info->attrs, k->name)) {
            kw_error(g->diag, n, "unsupported attribute '%s'%s%s", k->name, info->attrs[0] ? "; kwcc knows: " : "",
                     info->attrs);
            bad = 1;
            continue;
        }
        /* accepted names are distinct names of info->attrs, so this scan stays short even
         * for a node with a million copies of one attribute */
        int twice = 0;
        for (int j = 0; j < n_seen && !twice; j++)
            twice = strcmp(seen[j], k->name) == 0;
        if (twice) {
            kw_error(g->diag, n, "attribute '%s' is given twice; expected each attribute at most once", k->name);
            bad = 1;
            continue;
        }
        KW_ASSERT(n_seen < (int)KW_COUNTOF(seen));
        seen[n_seen++] = k->name;
        if (a->ref_attr_name && a->ref_attr_name[0]) {
            kw_error(g->diag, n, "attribute '%s' refers to a function attribute, which kwcc does not support",
                     k->name);
            bad = 1;
            continue;
        }
        int type = a->has_type ? (int)a->type : 0;
        if (!type) /* IR version < 3: infer the type from the fields set */
            type = a->has_f ? 1 : a->has_i ? 2 : a->has_s ? 3 : a->t ? 4 : a->n_floats ? 6 : a->n_ints ? 7 : 0;
        switch (type) {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: k->type = KW_AT_FLOAT; k->f = a->f; break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: k->type = KW_AT_INT; k->i = a->i; break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
            char *s = kw_alloc(g->arena, a->s.len + 1);
            if (a->s.len)
                memcpy(s, a->s.data, a->s.len);
            k->type = KW_AT_STRING;
            k->s = s;
            break;
        }
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            k->type = KW_AT_INTS;
            k->n = (int)a->n_ints;
            k->ints = kw_dup(g->arena, a->ints, sizeof(int64_t) * a->n_ints);
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            k->type = KW_AT_FLOATS;
            k->n = (int)a->n_floats;
            k->floats = kw_dup(g->arena, a->floats, sizeof(float) * a->n_floats);
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
            if (!a->t) {
                kw_error(g->diag, n, "tensor attribute '%s' holds no tensor", k->name);
                bad = 1;
                continue;
            }
            k->type = KW_AT_TENSOR;
            k->tensor = decode_tensor(g, a->t, kw_fmt(g->arena, "%s.%s", n->name, k->name));
            if (k->tensor < 0)
                bad = 1;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
            kw_error(g->diag, n, "attribute '%s' has no value (its type is UNDEFINED and no value field is set)",
                     k->name);
            bad = 1;
            continue;
        default: /* no op kwcc implements takes a graph, sparse tensor, type or list of those */
            kw_error(g->diag, n,
                     "attribute '%s' is of type %s (%d); kwcc reads int, float, string, ints, floats and tensor "
                     "attributes",
                     k->name, attr_type_name(type), type);
            bad = 1;
            continue;
        }
    }
    return bad ? -1 : 0;
}

/* Constant node -> a constant value named after the node's output. */
static int lower_constant(KwGraph *g, KwNode *n, const char *out_name)
{
    if (n->n_attr != 1)
        return kw_error(g->diag, n, "needs exactly one value attribute, found %d attributes", n->n_attr);
    const KwAttr *a = &n->attr[0];
    KwShape s = {0, {0}};
    int id;
    if (strcmp(a->name, "value") == 0) {
        if (a->type != KW_AT_TENSOR)
            return kw_error(g->diag, n, "attribute 'value' is not a tensor");
        id = a->tensor;
        g->v[id].name = kw_strdup(g->arena, out_name);
        return id;
    }
    if (strcmp(a->name, "value_float") == 0 && a->type == KW_AT_FLOAT)
        return kw_const_new(g, out_name, KW_F32, &s, &a->f);
    if (strcmp(a->name, "value_int") == 0 && a->type == KW_AT_INT)
        return kw_const_new(g, out_name, KW_I64, &s, &a->i);
    if (strcmp(a->name, "value_floats") == 0 && a->type == KW_AT_FLOATS) {
        s.rank = 1;
        s.d[0] = a->n;
        return kw_const_new(g, out_name, KW_F32, &s, a->floats);
    }
    if (strcmp(a->name, "value_ints") == 0 && a->type == KW_AT_INTS) {
        s.rank = 1;
        s.d[0] = a->n;
        return kw_const_new(g, out_name, KW_I64, &s, a->ints);
    }
    (void)id;
    return kw_error(g->diag, n, "attribute '%s' has the wrong type for a Constant", a->name);
}

static KwOp find_op(const char *op_type)
{
    for (int i = 0; i < KW_OP_COUNT; i++)
        if (kw_op_info[i].onnx && strcmp(kw_op_info[i].onnx, op_type) == 0)
            return (KwOp)i;
    return KW_OP_COUNT;
}

/* The opset at which the version of an op that opset 11 uses was introduced: a model of an older
 * opset N is compiled as well when each of its ops has since <= N, i.e. is the very op kwcc
 * implements at opset 11 (the ONNX node tests of GlobalAveragePool and HardSigmoid import
 * opsets 1 and 6). Ops not listed changed at 11 or came later. */
static const struct {
    const char *op;
    int since;
} op_since_11[] = {
    {"BatchNormalization", 9}, {"Relu", 6}, {"LeakyRelu", 6}, {"HardSigmoid", 6}, {"Sqrt", 6},
    {"Erf", 9}, {"Abs", 6}, {"Neg", 6}, {"Sigmoid", 6}, {"Exp", 6}, {"Log", 6}, {"Tanh", 6},
    {"Reciprocal", 6}, {"Floor", 6}, {"Ceil", 6}, {"Add", 7}, {"Sub", 7}, {"Mul", 7}, {"Div", 7},
    {"Pow", 7}, {"Max", 8}, {"Min", 8}, {"GlobalAveragePool", 1}, {"GlobalMaxPool", 1},
    {"MatMul", 9}, {"Reshape", 5}, {"Identity", 1}, {"Dropout", 10}, {"Transpose", 1},
    {"Expand", 8}, {"ConstantOfShape", 9}, {"Shape", 1}, {"Cast", 9},
};

static int op_unchanged_since(const char *op_type, int opset)
{
    for (size_t i = 0; i < KW_COUNTOF(op_since_11); i++)
        if (strcmp(op_since_11[i].op, op_type) == 0)
            return opset >= op_since_11[i].since;
    return 0;
}

static int load_graph_inputs(KwGraph *g, const Onnx__GraphProto *gp, NameMap *names)
{
    g->inputs = KW_NEWN(g->arena, int, gp->n_input + 1);
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = nz(vi->name);
        if (map_get(names, name) >= 0)
            continue; /* an initializer listed as input (IR < 4): it stays a constant */
        const Onnx__TypeProto *tp = vi->type;
        if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
            return kw_error(g->diag, NULL, "graph input '%s' is not a tensor; kwcc models take float32 tensors", name);
        const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
        if (!tt->has_elem_type || tt->elem_type != ONNX_FLOAT)
            return kw_error(g->diag, NULL, "graph input '%s' has ONNX element type %d; kwcc models take float32 (1)",
                            name, tt->has_elem_type ? tt->elem_type : 0);
        if (!tt->shape)
            return kw_error(g->diag, NULL, "graph input '%s' has no shape; kwcc compiles static shapes only", name);
        int64_t dims[KW_MAX_RANK];
        size_t nd = tt->shape->n_dim;
        if (nd > KW_MAX_RANK)
            return kw_error(g->diag, NULL, "graph input '%s' has rank %zu; at most %d is supported", name, nd,
                            KW_MAX_RANK);
        for (size_t k = 0; k < nd; k++) {
            const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[k];
            if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
                return kw_error(g->diag, NULL,
                                "graph input '%s' dimension %zu is symbolic ('%s'); kwcc compiles static shapes "
                                "only: export with fixed input sizes",
                                name, k, nz(d->dim_param));
            if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                return kw_error(g->diag, NULL,
                                "graph input '%s' dimension %zu has no value (unknown size); kwcc compiles static "
                                "shapes only: export with fixed input sizes",
                                name, k);
            dims[k] = d->dim_value;
        }
        int id = kw_value_new(g, name);
        KW_TRY(check_dims(g, "graph input", name, nd, dims, &g->v[id].shape));
        g->v[id].dt = KW_F32;
        g->v[id].input_index = g->n_inputs;
        g->inputs[g->n_inputs++] = id;
        map_put(g->arena, names, g->v[id].name, id);
    }
    if (g->n_inputs == 0)
        return kw_error(g->diag, NULL, "the graph has no input; kwcc needs at least one float32 input");
    return 0;
}

/* A node that could not be loaded still defines its output names (as values without a
 * producer), so that its consumers do not report them as missing: one error per fault. */
static void define_outputs(KwGraph *g, const Onnx__NodeProto *np, NameMap *names)
{
    for (size_t k = 0; k < np->n_output; k++) {
        const char *on = np->output[k];
        if (on[0] && map_get(names, on) < 0) {
            int v = kw_value_new(g, on);
            map_put(g->arena, names, g->v[v].name, v);
        }
    }
}

static const char *plural_s(int n) { return n == 1 ? "" : "s"; }

static int load_nodes(KwGraph *g, const Onnx__GraphProto *gp, NameMap *names)
{
    /* First pass: create nodes and their output values, so that inputs may refer to values
     * defined later in the file (order is checked by pass_order). */
    int *node_of = KW_NEWN(g->arena, int, gp->n_node + 1);
    int bad = 0;
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        const char *op_type = nz(np->op_type);
        const char *dom = nz(np->domain);
        node_of[i] = -1;
        KwNode tmp = {0};
        tmp.name = np->name && np->name[0] ? np->name : "";
        tmp.op_type = op_type;
        if (dom[0] && strcmp(dom, "ai.onnx") != 0) {
            kw_error(g->diag, &tmp, "operator domain '%s' is not supported; kwcc implements the default ONNX domain",
                     dom);
            goto failed;
        }
        KwOp op = find_op(op_type);
        if (op == KW_OP_COUNT) {
            kw_error(g->diag, &tmp, "unsupported op '%s' (opset %d)", op_type, g->opset);
            goto failed;
        }
        if (g->opset < 11 && !op_unchanged_since(op_type, g->opset)) {
            kw_error(g->diag, &tmp,
                     "the model uses opset %d; kwcc implements opsets 11 to 21 (and older ones for ops unchanged "
                     "since), and %s differs at opset %d from its opset 11 version", g->opset, op_type, g->opset);
            goto failed;
        }
        const KwOpInfo *info = &kw_op_info[op];
        int nin = (int)np->n_input, nout = (int)np->n_output;
        /* trailing empty optional inputs/outputs do not count */
        while (nin > 0 && !np->input[nin - 1][0])
            nin--;
        while (nout > 0 && !np->output[nout - 1][0])
            nout--;
        if (nin < info->in_min || (info->in_max >= 0 && nin > info->in_max)) {
            if (info->in_max < 0)
                kw_error(g->diag, &tmp, "has %d input%s, expected at least %d", nin, plural_s(nin), info->in_min);
            else if (info->in_min == info->in_max)
                kw_error(g->diag, &tmp, "has %d input%s, expected %d", nin, plural_s(nin), info->in_min);
            else
                kw_error(g->diag, &tmp, "has %d input%s, expected %d to %d", nin, plural_s(nin), info->in_min,
                         info->in_max);
            goto failed;
        }
        if (nout < info->out_min || (info->out_max >= 0 && nout > info->out_max)) {
            if (info->out_max < 0)
                kw_error(g->diag, &tmp, "has %d output%s, expected at least %d", nout, plural_s(nout),
                         info->out_min);
            else if (info->out_min == info->out_max)
                kw_error(g->diag, &tmp, "has %d output%s, expected %d", nout, plural_s(nout), info->out_min);
            else
                kw_error(g->diag, &tmp, "has %d output%s, expected %d to %d", nout, plural_s(nout), info->out_min,
                         info->out_max);
            goto failed;
        }
        int empty = -1; /* an input left out ("") where the op requires one */
        for (int k = 0; k < info->in_min && empty < 0; k++)
            if (!np->input[k][0])
                empty = k;
        if (empty >= 0) {
            kw_error(g->diag, &tmp, "input %d is empty (\"\"); expected a value: %s needs its first %d input%s",
                     empty, op_type, info->in_min, plural_s(info->in_min));
            goto failed;
        }
        int id = kw_node_new(g, op, tmp.name, nin, nout);
        KwNode *n = &g->n[id];
        n->op_type = kw_strdup(g->arena, op_type);
        if (decode_attrs(g, n, np) < 0) {
            n->dead = 1;
            goto failed;
        }
        if (op == KW_OP_Constant) {
            int c = lower_constant(g, n, nz(np->output[0]));
            n->dead = 1;
            if (c < 0)
                goto failed;
            if (map_get(names, g->v[c].name) >= 0) {
                kw_error(g->diag, n, "output '%s' is already defined elsewhere in the graph", g->v[c].name);
                bad = 1;
                continue;
            }
            map_put(g->arena, names, g->v[c].name, c);
            continue;
        }
        node_of[i] = id;
        for (int k = 0; k < nout; k++) {
            const char *on = np->output[k];
            if (!on[0])
                continue;
            if (map_get(names, on) >= 0) {
                kw_error(g->diag, n, "output '%s' is already defined elsewhere in the graph", on);
                bad = 1;
                continue;
            }
            int v = kw_value_new(g, on);
            g->v[v].producer = id;
            n->out[k] = v;
            map_put(g->arena, names, g->v[v].name, v);
        }
        continue;
    failed:
        bad = 1;
        define_outputs(g, np, names);
    }
    /* Second pass: resolve inputs. */
    for (size_t i = 0; i < gp->n_node; i++) {
        if (node_of[i] < 0)
            continue;
        const Onnx__NodeProto *np = gp->node[i];
        KwNode *n = &g->n[node_of[i]];
        for (int k = 0; k < n->n_in; k++) {
            const char *in = np->input[k];
            if (!in[0])
                continue;
            int v = map_get(names, in);
            if (v < 0) {
                kw_error(g->diag, n,
                         "input %d '%s' is not produced by any node, initializer, Constant or graph input", k, in);
                bad = 1;
                continue;
            }
            n->in[k] = v;
        }
    }
    return bad ? -1 : 0;
}

int kw_onnx_load(KwGraph *g, const void *buf, size_t len)
{
    ProtobufCAllocator alloc = {pb_alloc, pb_free, g->arena};
    if (len == 0)
        return kw_error(g->diag, NULL, "the file is empty; expected an ONNX model (ModelProto)");
    Onnx__ModelProto *m = onnx__model_proto__unpack(&alloc, len, buf);
    if (!m)
        return kw_error(g->diag, NULL,
                        "not a valid ONNX model: the protobuf message could not be parsed (truncated or not an "
                        "ONNX file?)");
    if (!m->graph)
        return kw_error(g->diag, NULL, "the model has no graph; expected an ONNX ModelProto with a graph");
    KW_TRY(opset_of(g, m));
    g->producer = kw_fmt(g->arena, "%s %s", nz(m->producer_name), nz(m->producer_version));
    g->ir_version = m->has_ir_version ? m->ir_version : 0;
    const Onnx__GraphProto *gp = m->graph;
    g->graph_name = kw_strdup(g->arena, nz(gp->name));
    if (gp->n_node == 0)
        return kw_error(g->diag, NULL, "the graph is empty: it has no nodes");
    if (gp->n_sparse_initializer)
        return kw_error(g->diag, NULL, "the graph has sparse initializers, which kwcc does not support");

    NameMap names;
    map_init(g->arena, &names, gp->n_initializer + gp->n_node * 2 + gp->n_input + 16);
    int bad = 0;
    for (size_t i = 0; i < gp->n_initializer; i++) {
        const char *name = nz(gp->initializer[i]->name);
        if (map_get(&names, name) >= 0) {
            kw_error(g->diag, NULL, "initializer '%s' is defined twice", name);
            bad = 1;
            continue;
        }
        int id = decode_tensor(g, gp->initializer[i], name);
        if (id < 0) {
            bad = 1;
            continue;
        }
        map_put(g->arena, &names, g->v[id].name, id);
    }
    if (bad)
        return -1;
    KW_TRY(load_graph_inputs(g, gp, &names));
    KW_TRY(load_nodes(g, gp, &names));

    if (gp->n_output == 0)
        return kw_error(g->diag, NULL, "the graph has no output; expected at least one");
    g->outputs = KW_NEWN(g->arena, int, gp->n_output);
    for (size_t i = 0; i < gp->n_output; i++) {
        const char *name = nz(gp->output[i]->name);
        int v = map_get(&names, name);
        if (v < 0)
            return kw_error(g->diag, NULL, "graph output '%s' is not produced by any node", name);
        g->outputs[g->n_outputs++] = v;
    }
    return 0;
}
