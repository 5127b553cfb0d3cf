/* onnx_load.c -- ONNX ModelProto -> KwGraph.
 *
 * protobuf-c unpacks into the compile arena (its allocator never frees). Then:
 *   opset_import    the default domain's version must be within 11..21;
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

/* Dims of a tensor or a value_info, checked: non-negative, rank and element count in range. */
static int check_dims(KwGraph *g, const char *what, const char *name, size_t n, const int64_t *d, KwShape *s)
{
    if (n > KW_MAX_RANK)
        return kw_error(g->diag, NULL, "%s '%s' has rank %zu; kwcc supports rank up to %d", what, name, n,
                        KW_MAX_RANK);
    s->rank = (int)n;
    int64_t count = 1;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < 0)
            return kw_error(g->diag, NULL, "%s '%s' has a negative dimension (%" PRId64 ")", what, name, d[i]);
        s->d[i] = d[i];
        if (d[i] != 0 && count > KW_MAX_ELEMS / d[i])
            return kw_error(g->diag, NULL,
                            "%s '%s' has %" PRId64 " x ... elements: the element count overflows the limit of "
                            "2^31 - 1 that kwcc supports",
                            what, name, d[i]);
        count *= d[i];
    }
    return 0;
}

/* TensorProto -> constant value. */
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
    switch (type) {
    case ONNX_FLOAT: {
        int id = kw_const_new(g, name, KW_F32, &s, NULL);
        float *dst = g->v[id].data;
        if (t->has_raw_data) {
            if (raw != (size_t)n * 4)
                return kw_error(g->diag, NULL, "tensor '%s' %s: raw_data has %zu bytes, expected %" PRId64, name,
                                kw_shape_str(g->arena, &s), raw, n * 4);
            memcpy(dst, rp, raw);
            from_le(dst, (size_t)n, 4);
        } else {
            if (t->n_float_data != (size_t)n)
                return kw_error(g->diag, NULL, "tensor '%s' %s has %zu float_data values, expected %" PRId64, name,
                                kw_shape_str(g->arena, &s), t->n_float_data, n);
            if (n)
                memcpy(dst, t->float_data, (size_t)n * 4);
        }
        return id;
    }
    case ONNX_INT64:
    case ONNX_INT32:
    case ONNX_BOOL: { /* integer tensors are int64 inside kwcc; bool is 0/1 */
        int id = kw_const_new(g, name, KW_I64, &s, NULL);
        int64_t *dst = g->v[id].data;
        size_t es = type == ONNX_INT64 ? 8 : type == ONNX_INT32 ? 4 : 1;
        if (t->has_raw_data) {
            if (raw != (size_t)n * es)
                return kw_error(g->diag, NULL, "tensor '%s' %s: raw_data has %zu bytes, expected %" PRId64, name,
                                kw_shape_str(g->arena, &s), raw, n * (int64_t)es);
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
            if (t->n_int64_data != (size_t)n)
                return kw_error(g->diag, NULL, "tensor '%s' has %zu int64_data values, expected %" PRId64, name,
                                t->n_int64_data, n);
            if (n)
                memcpy(dst, t->int64_data, (size_t)n * 8);
        } else { /* int32 and bool values are stored in int32_data */
            if (t->n_int32_data != (size_t)n)
                return kw_error(g->diag, NULL, "tensor '%s' has %zu int32_data values, expected %" PRId64, name,
                                t->n_int32_data, n);
            for (int64_t i = 0; i < n; i++)
                dst[i] = t->int32_data[i];
        }
        return id;
    }
    default:
        return kw_error(g->diag, NULL,
                        "tensor '%s' has ONNX data type %d; kwcc reads float32 (1), int32 (6), int64 (7) and bool (9) tensors",
                        name, type);
    }
}

static int opset_of(KwGraph *g, const Onnx__ModelProto *m)
{
    int found = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        const char *dom = nz(o->domain);
        if (dom[0] && strcmp(dom, "ai.onnx") != 0)
            continue; /* another domain: an error only if a node uses it */
        if (!o->has_version)
            return kw_error(g->diag, NULL, "opset_import of the default domain has no version");
        g->opset = (int)o->version;
        found = 1;
    }
    if (!found)
        return kw_error(g->diag, NULL, "the model imports no opset of the default ONNX domain");
    if (g->opset < 11 || g->opset > 21)
        return kw_error(g->diag, NULL, "the model uses opset %d; kwcc implements opsets 11 to 21", g->opset);
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

static int decode_attrs(KwGraph *g, KwNode *n, const Onnx__NodeProto *np)
{
    const KwOpInfo *info = &kw_op_info[n->op];
    n->n_attr = (int)np->n_attribute;
    n->attr = KW_NEWN(g->arena, KwAttr, np->n_attribute + 1);
    int bad = 0;
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
        default: k->type = KW_AT_OTHER; break;
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
            return kw_error(g->diag, NULL, "graph input '%s' is not a tensor", name);
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
            if (d->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                return kw_error(g->diag, NULL,
                                "graph input '%s' dimension %zu is symbolic ('%s'); kwcc compiles static shapes "
                                "only: export with fixed input sizes",
                                name, k, d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                                             ? nz(d->dim_param)
                                             : "");
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
            bad = 1;
            continue;
        }
        KwOp op = find_op(op_type);
        if (op == KW_OP_COUNT) {
            kw_error(g->diag, &tmp, "unsupported op '%s' (opset %d)", op_type, g->opset);
            bad = 1;
            continue;
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
                kw_error(g->diag, &tmp, "has %d inputs, expected at least %d", nin, info->in_min);
            else if (info->in_min == info->in_max)
                kw_error(g->diag, &tmp, "has %d inputs, expected %d", nin, info->in_min);
            else
                kw_error(g->diag, &tmp, "has %d inputs, expected %d to %d", nin, info->in_min, info->in_max);
            bad = 1;
            continue;
        }
        if (nout < info->out_min || (info->out_max >= 0 && nout > info->out_max)) {
            kw_error(g->diag, &tmp, "has %d outputs, expected %d to %d", nout, info->out_min,
                     info->out_max < 0 ? 1 << 20 : info->out_max);
            bad = 1;
            continue;
        }
        int id = kw_node_new(g, op, tmp.name, nin, nout);
        KwNode *n = &g->n[id];
        n->op_type = kw_strdup(g->arena, op_type);
        if (decode_attrs(g, n, np) < 0) {
            bad = 1;
            n->dead = 1;
            continue;
        }
        if (op == KW_OP_Constant) {
            int c = lower_constant(g, n, nz(np->output[0]));
            n->dead = 1;
            if (c < 0) {
                bad = 1;
                continue;
            }
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
        return kw_error(g->diag, NULL, "the model has no graph");
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
        return kw_error(g->diag, NULL, "the graph has no output");
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
