/* onnx_pb -- the ONNX backend node tests' protobuf files for tests/onnx_node.sh, read with
 * kwcc's own protobuf-c schema (frontends/onnx/kw_onnx.proto).
 *
 *   onnx_pb ops MODEL.onnx             "<opset> <op> <op>...": the default-domain opset and the
 *                                      op types of the graph's nodes (first use order)
 *   onnx_pb tensor T.pb OUT.bin        a TensorProto to raw little-endian float32; prints its
 *                                      dims as "[d0,d1,...]"; exit 3 (and prints its data type)
 *                                      when it is not float32
 *   onnx_pb input-name MODEL.onnx K    the name of graph input K
 *   onnx_pb dims T.pb                  "<data type> [d0,d1,...]"
 *   onnx_pb freeze MODEL.onnx OUT.onnx NAME[,NAME...] DATA_SET_DIR
 *                                      the model with the named graph inputs turned into
 *                                      initializers holding DATA_SET_DIR/input_K.pb (K: the
 *                                      input's position); exit 4 if a name is no graph input.
 *                                      What exported models hold as constants (shapes, axes,
 *                                      indices, BatchNorm statistics, Clip bounds), the node
 *                                      tests feed as inputs; kwcc compiles static graphs.
 *   onnx_pb cmp OUT.bin REF.pb RTOL ATOL
 *                                      numpy.testing.assert_allclose(out, ref, rtol, atol), as
 *                                      onnx's backend test runner compares: |out - ref| <=
 *                                      atol + rtol |ref| everywhere, NaN only where ref has NaN,
 *                                      infinities equal; exit 1 and the worst element otherwise
 * Exit 2 for a file that cannot be read or parsed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kw_onnx.pb-c.h"

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "onnx_pb: cannot open %s\n", path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    if (!b) {
        fprintf(stderr, "onnx_pb: out of memory reading %s\n", path);
        exit(2);
    }
    *len = n;
    return b;
}

static Onnx__TensorProto *load_tensor(const char *path)
{
    size_t n;
    uint8_t *b = slurp(path, &n);
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, n, b);
    free(b);
    if (!t) {
        fprintf(stderr, "onnx_pb: %s is not a TensorProto\n", path);
        exit(2);
    }
    return t;
}

static const char *dtype_name(int t)
{
    static const char *names[] = {"undefined", "float32", "uint8", "int8", "uint16", "int16", "int32",
                                  "int64", "string", "bool", "float16", "float64", "uint32", "uint64",
                                  "complex64", "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz",
                                  "float8e5m2", "float8e5m2fnuz", "uint4", "int4"};
    return t >= 0 && t < (int)(sizeof names / sizeof names[0]) ? names[t] : "unknown";
}

static void print_dims(const Onnx__TensorProto *t)
{
    printf("[");
    for (size_t i = 0; i < t->n_dims; i++)
        printf("%s%lld", i ? "," : "", (long long)t->dims[i]);
    printf("]\n");
}

/* The float32 values of t (raw_data or float_data); NULL with *n = -1 on a size mismatch. */
static float *floats(const Onnx__TensorProto *t, long *n)
{
    long cnt = 1;
    for (size_t i = 0; i < t->n_dims; i++)
        cnt *= (long)t->dims[i];
    float *v = malloc((size_t)cnt * 4 + 4);
    if (!v)
        exit(2);
    if (t->has_raw_data) {
        if ((long)t->raw_data.len != cnt * 4) {
            *n = -1;
            return NULL;
        }
        memcpy(v, t->raw_data.data, (size_t)cnt * 4); /* little-endian hosts only */
    } else {
        if ((long)t->n_float_data != cnt) {
            *n = -1;
            return NULL;
        }
        memcpy(v, t->float_data, (size_t)cnt * 4);
    }
    *n = cnt;
    return v;
}

static int cmd_ops(const char *path)
{
    size_t n;
    uint8_t *b = slurp(path, &n);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, b);
    free(b);
    if (!m || !m->graph) {
        fprintf(stderr, "onnx_pb: %s is not a model\n", path);
        return 2;
    }
    long opset = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const char *d = m->opset_import[i]->domain;
        if (!d || !*d || !strcmp(d, "ai.onnx"))
            opset = (long)m->opset_import[i]->version;
    }
    printf("%ld", opset);
    const Onnx__GraphProto *g = m->graph;
    for (size_t i = 0; i < g->n_node; i++) {
        const char *op = g->node[i]->op_type ? g->node[i]->op_type : "?";
        size_t j = 0;
        while (j < i && strcmp(g->node[j]->op_type ? g->node[j]->op_type : "?", op))
            j++;
        if (j == i)
            printf(" %s", op);
    }
    printf("\n");
    onnx__model_proto__free_unpacked(m, NULL);
    return 0;
}

static int cmd_tensor(const char *in, const char *out)
{
    Onnx__TensorProto *t = load_tensor(in);
    if (t->data_type != 1 /* FLOAT */ || t->data_location == 1) {
        printf("%s\n", t->data_location == 1 ? "external" : dtype_name(t->data_type));
        return 3;
    }
    long n;
    float *v = floats(t, &n);
    if (!v) {
        fprintf(stderr, "onnx_pb: %s: the data does not match the dims\n", in);
        return 2;
    }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(v, 4, (size_t)n, f) != (size_t)n || fclose(f)) {
        fprintf(stderr, "onnx_pb: cannot write %s\n", out);
        return 2;
    }
    print_dims(t);
    free(v);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return 0;
}

static int cmd_dims(const char *in)
{
    Onnx__TensorProto *t = load_tensor(in);
    printf("%s ", dtype_name(t->data_type));
    print_dims(t);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return 0;
}

static int cmd_cmp(const char *out, const char *ref, double rtol, double atol)
{
    Onnx__TensorProto *t = load_tensor(ref);
    if (t->data_type != 1 /* FLOAT */) {
        printf("the reference is %s, not float32\n", dtype_name(t->data_type));
        return 1;
    }
    long n;
    float *r = floats(t, &n);
    if (!r) {
        fprintf(stderr, "onnx_pb: %s: the data does not match the dims\n", ref);
        return 2;
    }
    size_t len;
    uint8_t *yb = slurp(out, &len);
    if ((long)len != n * 4) {
        printf("%zu bytes of output, expected %ld floats\n", len, n);
        return 1;
    }
    const float *y = (const float *)(void *)yb;
    long bad = 0, worst = -1;
    double worst_excess = -1;
    for (long i = 0; i < n; i++) {
        double a = y[i], e = r[i], excess;
        if (isnan(e) || isnan(a))
            excess = isnan(e) && isnan(a) ? 0 : INFINITY;
        else if (isinf(e) || isinf(a))
            excess = a == e ? 0 : INFINITY;
        else
            excess = fabs(a - e) - (atol + rtol * fabs(e));
        if (excess > 0)
            bad++;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (bad)
        printf("%ld of %ld elements differ; worst at [%ld]: %.9g, expected %.9g (rtol %g, atol %g)\n", bad, n,
               worst, y[worst], r[worst], rtol, atol);
    free(yb);
    free(r);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return bad ? 1 : 0;
}

static int cmd_input_name(const char *path, int k)
{
    size_t n;
    uint8_t *b = slurp(path, &n);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, b);
    free(b);
    if (!m || !m->graph || k < 0 || (size_t)k >= m->graph->n_input)
        return 2;
    printf("%s\n", m->graph->input[k]->name ? m->graph->input[k]->name : "");
    onnx__model_proto__free_unpacked(m, NULL);
    return 0;
}

static int cmd_freeze(const char *in, const char *out, const char *names, const char *dsdir)
{
    size_t n;
    uint8_t *b = slurp(in, &n);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, b);
    free(b);
    if (!m || !m->graph) {
        fprintf(stderr, "onnx_pb: %s is not a model\n", in);
        return 2;
    }
    Onnx__GraphProto *g = m->graph;
    size_t cap = g->n_initializer + g->n_input;
    Onnx__TensorProto **inits = malloc((cap + 1) * sizeof *inits);
    Onnx__ValueInfoProto **keep = malloc((g->n_input + 1) * sizeof *keep);
    if (!inits || !keep)
        return 2;
    memcpy(inits, g->initializer, g->n_initializer * sizeof *inits);
    size_t ni = g->n_initializer, nk = 0, found = 0;
    for (size_t i = 0; i < g->n_input; i++) {
        const char *nm = g->input[i]->name ? g->input[i]->name : "";
        /* is nm one of the comma-separated names? */
        int hit = 0;
        for (const char *p = names; *p;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if (l == strlen(nm) && !strncmp(p, nm, l))
                hit = 1;
            p += l + (e != NULL);
        }
        if (!hit) {
            keep[nk++] = g->input[i];
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/input_%zu.pb", dsdir, i);
        Onnx__TensorProto *t = load_tensor(path);
        t->name = (char *)nm;
        inits[ni++] = t;
        found++;
    }
    size_t want = 1;
    for (const char *p = names; *p; p++)
        want += *p == ',';
    if (found != want) {
        fprintf(stderr, "onnx_pb: %s: not every one of %s is a graph input\n", in, names);
        return 4;
    }
    g->initializer = inits;
    g->n_initializer = ni;
    g->input = keep;
    g->n_input = nk;
    size_t len = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        return 2;
    onnx__model_proto__pack(m, buf);
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "onnx_pb: cannot write %s\n", out);
        return 2;
    }
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "input-name"))
        return cmd_input_name(argv[2], atoi(argv[3]));
    if (argc == 6 && !strcmp(argv[1], "freeze"))
        return cmd_freeze(argv[2], argv[3], argv[4], argv[5]);
    if (argc == 3 && !strcmp(argv[1], "ops"))
        return cmd_ops(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "tensor"))
        return cmd_tensor(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "dims"))
        return cmd_dims(argv[2]);
    if (argc == 6 && !strcmp(argv[1], "cmp"))
        return cmd_cmp(argv[2], argv[3], atof(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: onnx_pb ops MODEL | tensor T.pb OUT.bin | dims T.pb | cmp OUT.bin REF.pb RTOL ATOL |\n"
                    "       freeze MODEL OUT NAMES DATA_SET_DIR | input-name MODEL K\n");
    return 2;
}
