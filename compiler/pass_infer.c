/* pass_infer.c -- dtype and shape inference for every op, in topological order, with
 * constant folding as soon as a node's inputs are known constants.
 *
 * Each infer_* function checks its node against the ONNX specification at the model's opset
 * and either sets its outputs' dtype and shape or reports what is wrong. Every case kwcc does
 * not handle is rejected here, by name, so later passes can assume well-formed nodes. */
#include <inttypes.h>
#include <string.h>

#include "kwcc_int.h"

#define ERR(...) kw_error(g->diag, n, __VA_ARGS__)

static const char *shp(KwGraph *g, const KwShape *s) { return kw_shape_str(g->arena, s); }

static int set_out(KwGraph *g, const KwNode *n, int i, KwDType dt, const KwShape *s)
{
    if (i >= n->n_out || n->out[i] < 0)
        return 0;
    if (s->rank > KW_MAX_RANK)
        return ERR("output %d would have rank %d; kwcc supports rank up to %d", i, s->rank, KW_MAX_RANK);
    int64_t cnt = 1; /* over the non-zero dims, so that no product of dims can overflow later */
    for (int k = 0; k < s->rank; k++) {
        if (s->d[k] < 0)
            return ERR("output %d would have a negative dimension", i);
        if (s->d[k] && cnt > KW_MAX_ELEMS / s->d[k])
            return ERR("output %d %s has more elements than the 2^31 - 1 kwcc supports", i, shp(g, s));
        if (s->d[k])
            cnt *= s->d[k];
    }
    KwValue *v = &g->v[n->out[i]];
    v->dt = dt;
    v->shape = *s;
    return 0;
}

/* Outputs beyond the first must not be used (training-mode outputs, MaxPool indices...). */
static int only_first_output(KwGraph *g, const KwNode *n, const char *what)
{
    for (int i = 1; i < n->n_out; i++)
        if (n->out[i] >= 0 && (g->v[n->out[i]].n_use > 0 || kw_ir_is_graph_output(g, n->out[i])))
            return ERR("output %d (%s) is used; kwcc computes only the first output", i, what);
    return 0;
}

static int need_f32(KwGraph *g, const KwNode *n, int i)
{
    const KwValue *x = kw_in(g, n, i);
    if (x && x->dt != KW_F32)
        return ERR("input %d ('%s') is %s, expected float32", i, x->name, kw_dtype_name(x->dt));
    return 0;
}

/* The input must be a constant (folding then runs the op at compile time). */
static int need_const(KwGraph *g, const KwNode *n, int i, const char *what)
{
    const KwValue *x = kw_in(g, n, i);
    if (x && !x->data)
        return ERR("input %d (%s, '%s') must be a constant; kwcc compiles static graphs", i, what, x->name);
    return 0;
}

/* ---------------------------------------------------------------- shared geometry */

int kw_bcast_shape(KwGraph *g, const KwNode *n, const KwShape *a, const KwShape *b, KwShape *out)
{
    int r = a->rank > b->rank ? a->rank : b->rank;
    KwShape s = {r, {0}}; /* out may alias a or b */
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return ERR("shapes %s and %s do not broadcast (dimension %d: %" PRId64 " vs %" PRId64 ")", shp(g, a),
                       shp(g, b), i, da, db);
        s.d[i] = da == 1 ? db : da;
    }
    *out = s;
    return 0;
}

/* v holds want values; the attribute may hold more (an error), read into buf first */
static int ints_attr_n(KwGraph *g, const KwNode *n, const char *name, int64_t *v, int want, int64_t def)
{
    int cnt;
    int64_t buf[KW_MAX_RANK * 2];
    KW_TRY(kw_attr_ints(g, n, name, buf, KW_MAX_RANK * 2, &cnt));
    if (cnt < 0) {
        for (int i = 0; i < want; i++)
            v[i] = def;
        return 0;
    }
    if (cnt != want)
        return ERR("attribute '%s' has %d values, expected %d", name, cnt, want);
    memcpy(v, buf, (size_t)want * sizeof *v);
    return 0;
}

/* Window attributes are bounded so that no extent computed from them overflows (the runtime
 * kernels index with int). */
static int attr_in_range(KwGraph *g, const KwNode *n, const char *name, const int64_t *v, int cnt)
{
    for (int i = 0; i < cnt; i++)
        if (v[i] > KW_MAX_ELEMS)
            return ERR("attribute '%s' has the value %" PRId64 "; kwcc supports values up to 2^31 - 1", name, v[i]);
    return 0;
}

int kw_win_geom(KwGraph *g, const KwNode *n, const KwShape *x, const KwShape *w, KwWinGeom *wg)
{
    memset(wg, 0, sizeof *wg);
    if (x->rank < 3)
        return ERR("input has rank %d (%s), expected N x C x spatial... (rank 3 to 5)", x->rank, shp(g, x));
    int nsp = x->rank - 2;
    if (nsp > 3)
        return ERR("%d spatial dimensions; kwcc supports 1 to 3", nsp);
    wg->nsp = nsp;
    wg->N = x->d[0];
    wg->C = x->d[1];
    int64_t ks[3], st[3], dl[3], pads[6];
    if (w) {
        if (w->rank != x->rank)
            return ERR("weight has rank %d (%s), expected %d like the input", w->rank, shp(g, w), x->rank);
        for (int i = 0; i < nsp; i++)
            ks[i] = w->d[2 + i];
        int cnt;
        int64_t kattr[KW_MAX_RANK];
        KW_TRY(kw_attr_ints(g, n, "kernel_shape", kattr, KW_MAX_RANK, &cnt));
        if (cnt >= 0) {
            if (cnt != nsp)
                return ERR("attribute 'kernel_shape' has %d values, expected %d", cnt, nsp);
            for (int i = 0; i < nsp; i++)
                if (kattr[i] != ks[i])
                    return ERR("attribute 'kernel_shape' disagrees with the weight shape %s", shp(g, w));
        }
    } else {
        int cnt;
        KW_TRY(kw_attr_ints(g, n, "kernel_shape", ks, 3, &cnt));
        if (cnt < 0)
            return ERR("attribute 'kernel_shape' is required");
        if (cnt != nsp)
            return ERR("attribute 'kernel_shape' has %d values, expected %d", cnt, nsp);
        KW_TRY(attr_in_range(g, n, "kernel_shape", ks, nsp));
    }
    KW_TRY(ints_attr_n(g, n, "strides", st, nsp, 1));
    KW_TRY(ints_attr_n(g, n, "dilations", dl, nsp, 1));
    KW_TRY(ints_attr_n(g, n, "pads", pads, 2 * nsp, 0));
    KW_TRY(attr_in_range(g, n, "strides", st, nsp));
    KW_TRY(attr_in_range(g, n, "dilations", dl, nsp));
    KW_TRY(attr_in_range(g, n, "pads", pads, 2 * nsp));
    const char *auto_pad;
    KW_TRY(kw_attr_string(g, n, "auto_pad", "NOTSET", &auto_pad));
    int64_t ceil_mode = 0;
    if (!w)
        KW_TRY(kw_attr_int(g, n, "ceil_mode", 0, &ceil_mode));
    int mode = strcmp(auto_pad, "NOTSET") == 0       ? 0
               : strcmp(auto_pad, "SAME_UPPER") == 0 ? 1
               : strcmp(auto_pad, "SAME_LOWER") == 0 ? 2
               : strcmp(auto_pad, "VALID") == 0      ? 3
                                                     : -1;
    if (mode < 0)
        return ERR("attribute 'auto_pad' is '%s', expected NOTSET, SAME_UPPER, SAME_LOWER or VALID", auto_pad);
    for (int i = 0; i < nsp; i++) {
        int64_t in = x->d[2 + i];
        if (ks[i] < 1 || st[i] < 1 || dl[i] < 1)
            return ERR("kernel, stride and dilation must be positive (dim %d: %" PRId64 ", %" PRId64 ", %" PRId64 ")",
                       i, ks[i], st[i], dl[i]);
        if (pads[i] < 0 || pads[i + nsp] < 0)
            return ERR("attribute 'pads' has a negative value");
        int64_t span = (ks[i] - 1) * dl[i] + 1, pb = pads[i], pe = pads[i + nsp], out;
        if (span > KW_MAX_ELEMS)
            return ERR("the kernel extent (%" PRId64 " taps, dilation %" PRId64 ") in spatial dim %d exceeds 2^31 - 1",
                       ks[i], dl[i], i);
        if (mode == 1 || mode == 2) {
            out = (in + st[i] - 1) / st[i];
            int64_t total = (out - 1) * st[i] + span - in;
            if (total < 0)
                total = 0;
            pb = mode == 1 ? total / 2 : total - total / 2;
            pe = total - pb;
        } else {
            if (mode == 3)
                pb = pe = 0;
            int64_t avail = in + pb + pe - span;
            if (avail < 0)
                return ERR("the kernel (extent %" PRId64 ") is larger than the padded input (%" PRId64
                           ") in spatial dim %d",
                           span, in + pb + pe, i);
            out = ceil_mode ? (avail + st[i] - 1) / st[i] + 1 : avail / st[i] + 1;
            if (ceil_mode && (out - 1) * st[i] >= in + pb)
                out--; /* the last window must start inside the input or the left padding */
        }
        if (in + pb + pe > KW_MAX_ELEMS)
            return ERR("the padded input (%" PRId64 ") in spatial dim %d exceeds 2^31 - 1", in + pb + pe, i);
        wg->in[i] = in;
        wg->out[i] = out;
        wg->k[i] = ks[i];
        wg->stride[i] = st[i];
        wg->dil[i] = dl[i];
        wg->pad_b[i] = pb;
        wg->pad_e[i] = pe;
    }
    if (w) {
        int64_t group;
        KW_TRY(kw_attr_int(g, n, "group", 1, &group));
        if (group < 1 || group > KW_MAX_ELEMS)
            return ERR("group = %" PRId64 " is out of range; expected 1 to 2^31 - 1", group);
        if (wg->C % group != 0)
            return ERR("group = %" PRId64 " does not divide the %" PRId64 " input channels", group, wg->C);
        if (w->d[1] * group != wg->C)
            return ERR("weight %s has %" PRId64 " input channels per group; the input %s with group %" PRId64
                       " needs %" PRId64,
                       shp(g, w), w->d[1], shp(g, x), group, wg->C / group);
        if (w->d[0] % group != 0)
            return ERR("weight %s: %" PRId64 " output channels are not divisible by group %" PRId64, shp(g, w),
                       w->d[0], group);
        wg->group = group;
        wg->O = w->d[0];
    }
    return 0;
}

int kw_reduce_axes(KwGraph *g, const KwNode *n, int rank, int *mask, int *noop)
{
    int64_t axes[KW_MAX_RANK];
    int cnt = -1;
    int axes_input = n->op == KW_OP_ReduceSum ? g->opset >= 13 : g->opset >= 18;
    if (axes_input) {
        if (kw_attr(n, "axes"))
            return ERR("attribute 'axes' does not exist at opset %d: axes are the second input", g->opset);
        KW_TRY(kw_const_ints(g, n, 1, axes, KW_MAX_RANK, &cnt));
    } else {
        if (n->n_in > 1)
            return ERR("has 2 inputs; at opset %d the axes are an attribute", g->opset);
        KW_TRY(kw_attr_ints(g, n, "axes", axes, KW_MAX_RANK, &cnt));
    }
    int64_t noop_empty = 0;
    if (axes_input)
        KW_TRY(kw_attr_int(g, n, "noop_with_empty_axes", 0, &noop_empty));
    else if (kw_attr(n, "noop_with_empty_axes"))
        return ERR("attribute 'noop_with_empty_axes' does not exist at opset %d", g->opset);
    *noop = 0;
    for (int i = 0; i < rank; i++)
        mask[i] = cnt <= 0;
    if (cnt <= 0) {
        if (noop_empty) {
            *noop = 1;
            for (int i = 0; i < rank; i++)
                mask[i] = 0;
        }
        return 0;
    }
    for (int i = 0; i < cnt; i++) {
        int64_t a;
        if (kw_norm_axis(axes[i], rank, &a) < 0)
            return ERR("axis %" PRId64 " is out of range for rank %d", axes[i], rank);
        if (mask[a])
            return ERR("axis %" PRId64 " is listed twice", axes[i]);
        mask[a] = 1;
    }
    return 0;
}

int kw_slice_geom(KwGraph *g, const KwNode *n, const KwShape *x, int64_t *start, int64_t *step, KwShape *out)
{
    int64_t starts[KW_MAX_RANK], ends[KW_MAX_RANK], axes[KW_MAX_RANK], steps[KW_MAX_RANK];
    int ns, ne, na, nst;
    KW_TRY(kw_const_ints(g, n, 1, starts, KW_MAX_RANK, &ns));
    KW_TRY(kw_const_ints(g, n, 2, ends, KW_MAX_RANK, &ne));
    KW_TRY(kw_const_ints(g, n, 3, axes, KW_MAX_RANK, &na));
    KW_TRY(kw_const_ints(g, n, 4, steps, KW_MAX_RANK, &nst));
    if (ns != ne)
        return ERR("starts has %d values but ends has %d", ns, ne);
    if (na >= 0 && na != ns)
        return ERR("axes has %d values, expected %d like starts", na, ns);
    if (nst >= 0 && nst != ns)
        return ERR("steps has %d values, expected %d like starts", nst, ns);
    *out = *x;
    int seen[KW_MAX_RANK] = {0};
    for (int i = 0; i < x->rank; i++) {
        start[i] = 0;
        step[i] = 1;
    }
    for (int i = 0; i < ns; i++) {
        int64_t ax = na >= 0 ? axes[i] : i, a;
        if (kw_norm_axis(ax, x->rank, &a) < 0)
            return ERR("axis %" PRId64 " is out of range for rank %d", ax, x->rank);
        if (seen[a]++)
            return ERR("axis %" PRId64 " is sliced twice", ax);
        int64_t d = x->d[a], s = starts[i], e = ends[i], st = nst >= 0 ? steps[i] : 1;
        if (st == 0)
            return ERR("step of axis %" PRId64 " is 0", ax);
        /* a step longer than the axis takes at most one element either way: clamp it, so that
         * the arithmetic below cannot overflow (steps of +-2^63) */
        if (st > d)
            st = d > 0 ? d : 1;
        else if (st < -d - 1)
            st = -d - 1;
        if (s < 0)
            s += d;
        if (e < 0 && e > INT64_MIN + d)
            e += d;
        else if (e < 0)
            e = -1;
        if (st > 0) {
            s = s < 0 ? 0 : (s > d ? d : s);
            e = e < 0 ? 0 : (e > d ? d : e);
        } else {
            s = s < 0 ? -1 : (s > d - 1 ? d - 1 : s);
            e = e < -1 ? -1 : (e > d - 1 ? d - 1 : e);
        }
        int64_t cnt = st > 0 ? (e > s ? (e - s + st - 1) / st : 0) : (s > e ? (s - e + (-st) - 1) / (-st) : 0);
        start[a] = cnt ? s : 0;
        step[a] = st;
        out->d[a] = cnt;
    }
    return 0;
}

int kw_split_sizes(KwGraph *g, const KwNode *n, const KwShape *x, int64_t *axis, int64_t *sizes)
{
    int64_t ax;
    KW_TRY(kw_attr_int(g, n, "axis", 0, &ax));
    if (kw_norm_axis(ax, x->rank, axis) < 0)
        return ERR("axis %" PRId64 " is out of range for rank %d", ax, x->rank);
    int64_t d = x->d[*axis], split[256];
    int cnt = -1;
    if (g->opset >= 13) {
        if (kw_attr(n, "split"))
            return ERR("attribute 'split' does not exist at opset %d: split sizes are the second input", g->opset);
        KW_TRY(kw_const_ints(g, n, 1, split, 256, &cnt));
    } else {
        if (n->n_in > 1)
            return ERR("has 2 inputs; at opset %d split sizes are an attribute", g->opset);
        KW_TRY(kw_attr_ints(g, n, "split", split, 256, &cnt));
    }
    int64_t num_outputs = 0;
    if (g->opset >= 18)
        KW_TRY(kw_attr_int(g, n, "num_outputs", 0, &num_outputs));
    else if (kw_attr(n, "num_outputs"))
        return ERR("attribute 'num_outputs' does not exist before opset 18");
    if (cnt >= 0) {
        if (num_outputs)
            return ERR("both split sizes and 'num_outputs' are given");
        if (cnt != n->n_out)
            return ERR("%d split sizes for %d outputs", cnt, n->n_out);
        int64_t sum = 0;
        for (int i = 0; i < cnt; i++) {
            if (split[i] < 0)
                return ERR("split size %d is negative", i);
            if (split[i] > d) /* also keeps the sum from overflowing */
                return ERR("split size %d (%" PRId64 ") is larger than axis %" PRId64 " (%" PRId64 ")", i, split[i],
                           *axis, d);
            sizes[i] = split[i];
            sum += split[i];
        }
        if (sum != d)
            return ERR("split sizes add up to %" PRId64 " but axis %" PRId64 " has %" PRId64, sum, *axis, d);
        return 0;
    }
    if (num_outputs) {
        if (num_outputs != n->n_out)
            return ERR("num_outputs = %" PRId64 " but the node has %d outputs", num_outputs, n->n_out);
        int64_t chunk = (d + num_outputs - 1) / num_outputs;
        for (int i = 0; i < n->n_out; i++) {
            int64_t left = d - chunk * i;
            sizes[i] = left < 0 ? 0 : (left < chunk ? left : chunk);
        }
        return 0;
    }
    if (d % n->n_out != 0)
        return ERR("axis %" PRId64 " (%" PRId64 ") does not split evenly into %d outputs", *axis, d, n->n_out);
    for (int i = 0; i < n->n_out; i++)
        sizes[i] = d / n->n_out;
    return 0;
}

void kw_softmax_geom(const KwGraph *g, const KwNode *n, const KwShape *x, int64_t axis, int64_t *outer,
                     int64_t *len, int64_t *inner)
{
    (void)n;
    *outer = *len = *inner = 1;
    for (int i = 0; i < x->rank; i++) {
        if (i < axis)
            *outer *= x->d[i];
        else if (i == axis || g->opset < 13)
            *len *= x->d[i]; /* before opset 13 the input is coerced to 2-D at axis */
        else
            *inner *= x->d[i];
    }
}

/* ---------------------------------------------------------------- per-op inference */

static int infer_conv(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0), *w = kw_in(g, n, 1), *b = kw_in(g, n, 2);
    KW_TRY(need_f32(g, n, 0));
    KW_TRY(need_f32(g, n, 1));
    KW_TRY(need_f32(g, n, 2));
    KwWinGeom wg;
    KW_TRY(kw_win_geom(g, n, &x->shape, &w->shape, &wg));
    if (b && (b->shape.rank != 1 || b->shape.d[0] != wg.O))
        return ERR("bias %s does not match the %" PRId64 " output channels", shp(g, &b->shape), wg.O);
    KwShape s = x->shape;
    s.d[1] = wg.O;
    for (int i = 0; i < wg.nsp; i++)
        s.d[2 + i] = wg.out[i];
    return set_out(g, n, 0, KW_F32, &s);
}

static int infer_kwconv(KwGraph *g, KwNode *n)
{
    /* shape fixed by pass_kw when it made the node */
    (void)g;
    (void)n;
    return 0;
}

static int infer_batchnorm(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    for (int i = 0; i < 5; i++)
        KW_TRY(need_f32(g, n, i));
    if (x->shape.rank < 2)
        return ERR("input has rank %d, expected at least 2 (N x C x ...)", x->shape.rank);
    int64_t training = 0;
    KW_TRY(kw_attr_int(g, n, "training_mode", 0, &training));
    if (training)
        return ERR("training_mode = 1 is not supported; kwcc compiles inference graphs");
    if (g->opset < 14 && kw_attr(n, "training_mode"))
        return ERR("attribute 'training_mode' does not exist before opset 14");
    for (int i = 1; i < 5; i++) {
        const KwValue *p = kw_in(g, n, i);
        if (p->shape.rank != 1 || p->shape.d[0] != x->shape.d[1])
            return ERR("input %d ('%s') has shape %s, expected [%" PRId64 "] (one per channel)", i, p->name,
                       shp(g, &p->shape), x->shape.d[1]);
    }
    KW_TRY(only_first_output(g, n, "training statistics"));
    return set_out(g, n, 0, KW_F32, &x->shape);
}

static int infer_unary(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    if (x->dt != KW_F32 && !(x->data && (n->op == KW_OP_Neg || n->op == KW_OP_Abs)))
        return ERR("input is %s, expected float32", kw_dtype_name(x->dt));
    if (n->op == KW_OP_Clip) {
        if (g->opset < 11)
            return ERR("Clip before opset 11 is not supported");
        for (int i = 1; i < n->n_in; i++) {
            const KwValue *b = kw_in(g, n, i);
            if (!b)
                continue;
            KW_TRY(need_const(g, n, i, i == 1 ? "min" : "max"));
            if (kw_numel(&b->shape) != 1 || b->shape.rank > 1)
                return ERR("input %d (%s) has shape %s, expected a scalar", i, i == 1 ? "min" : "max",
                           shp(g, &b->shape));
        }
    }
    return set_out(g, n, 0, x->dt, &x->shape);
}

static int infer_binary(KwGraph *g, KwNode *n)
{
    const KwValue *a = kw_in(g, n, 0);
    KwShape s = a->shape;
    KwDType dt = a->dt;
    for (int i = 1; i < n->n_in; i++) {
        const KwValue *b = kw_in(g, n, i);
        if (!b)
            return ERR("input %d is missing", i);
        if (b->dt != dt && n->op == KW_OP_Pow && dt == KW_F32 && b->data) {
            /* Pow allows an integer exponent: make it a float constant */
            int64_t cnt = kw_numel(&b->shape);
            int f = kw_const_new(g, kw_fmt(g->arena, "%s.f32", b->name), KW_F32, &b->shape, NULL);
            for (int64_t k = 0; k < cnt; k++)
                ((float *)g->v[f].data)[k] = (float)((const int64_t *)g->v[n->in[i]].data)[k];
            n->in[i] = f;
            a = kw_in(g, n, 0);
            b = kw_in(g, n, i);
        }
        if (b->dt != dt)
            return ERR("inputs have different types (%s and %s)", kw_dtype_name(dt), kw_dtype_name(b->dt));
        KW_TRY(kw_bcast_shape(g, n, &s, &b->shape, &s));
    }
    if (dt == KW_I64) {
        for (int i = 0; i < n->n_in; i++)
            if (!kw_in(g, n, i)->data)
                return ERR("int64 arithmetic on run-time tensors is not supported (input %d '%s')", i,
                           kw_in(g, n, i)->name);
    }
    return set_out(g, n, 0, dt, &s);
}

static int infer_pool(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    KW_TRY(need_f32(g, n, 0));
    KwWinGeom wg;
    KW_TRY(kw_win_geom(g, n, &x->shape, NULL, &wg));
    if (n->op == KW_OP_MaxPool) {
        int64_t so;
        KW_TRY(kw_attr_int(g, n, "storage_order", 0, &so));
        KW_TRY(only_first_output(g, n, "Indices"));
    }
    if (n->op == KW_OP_AveragePool && g->opset < 19 && kw_attr(n, "dilations"))
        return ERR("attribute 'dilations' does not exist for AveragePool before opset 19");
    KwShape s = x->shape;
    for (int i = 0; i < wg.nsp; i++)
        s.d[2 + i] = wg.out[i];
    return set_out(g, n, 0, KW_F32, &s);
}

static int infer_global_pool(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    KW_TRY(need_f32(g, n, 0));
    if (x->shape.rank < 3)
        return ERR("input has rank %d, expected N x C x spatial... (rank >= 3)", x->shape.rank);
    KwShape s = x->shape;
    for (int i = 2; i < s.rank; i++)
        s.d[i] = 1;
    return set_out(g, n, 0, KW_F32, &s);
}

static int infer_reduce(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    if (x->dt != KW_F32 && !x->data)
        return ERR("input is %s, expected float32", kw_dtype_name(x->dt));
    int mask[KW_MAX_RANK], noop;
    KW_TRY(kw_reduce_axes(g, n, x->shape.rank, mask, &noop));
    int64_t keep;
    KW_TRY(kw_attr_int(g, n, "keepdims", 1, &keep));
    KwShape s = {0, {0}};
    for (int i = 0; i < x->shape.rank; i++) {
        if (mask[i] && x->shape.d[i] == 0 && (n->op == KW_OP_ReduceMax || n->op == KW_OP_ReduceMin) &&
            (g->opset < 18 || x->dt != KW_F32))
            return ERR("reducing an empty axis has no defined result%s",
                       x->dt != KW_F32 ? " for int64" : " before opset 18 (from 18 on: -inf for ReduceMax, +inf for ReduceMin)");
        if (!mask[i])
            s.d[s.rank++] = x->shape.d[i];
        else if (keep)
            s.d[s.rank++] = 1;
    }
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_gemm(KwGraph *g, KwNode *n)
{
    const KwValue *a = kw_in(g, n, 0), *b = kw_in(g, n, 1), *c = kw_in(g, n, 2);
    for (int i = 0; i < 3; i++)
        KW_TRY(need_f32(g, n, i));
    int64_t ta, tb;
    float alpha, beta;
    KW_TRY(kw_attr_int(g, n, "transA", 0, &ta));
    KW_TRY(kw_attr_int(g, n, "transB", 0, &tb));
    KW_TRY(kw_attr_float(g, n, "alpha", 1.0f, &alpha));
    KW_TRY(kw_attr_float(g, n, "beta", 1.0f, &beta));
    if (a->shape.rank != 2 || b->shape.rank != 2)
        return ERR("A %s and B %s must be matrices", shp(g, &a->shape), shp(g, &b->shape));
    int64_t M = ta ? a->shape.d[1] : a->shape.d[0], K = ta ? a->shape.d[0] : a->shape.d[1];
    int64_t K2 = tb ? b->shape.d[1] : b->shape.d[0], N = tb ? b->shape.d[0] : b->shape.d[1];
    if (K != K2)
        return ERR("inner dimensions differ: A %s%s x B %s%s", shp(g, &a->shape), ta ? "^T" : "", shp(g, &b->shape),
                   tb ? "^T" : "");
    KwShape s = {2, {M, N}};
    if (c) {
        KwShape t;
        KW_TRY(kw_bcast_shape(g, n, &c->shape, &s, &t));
        if (!kw_shape_eq(&t, &s))
            return ERR("C %s does not broadcast to [%" PRId64 ",%" PRId64 "]", shp(g, &c->shape), M, N);
    }
    return set_out(g, n, 0, KW_F32, &s);
}

static int infer_matmul(KwGraph *g, KwNode *n)
{
    const KwValue *a = kw_in(g, n, 0), *b = kw_in(g, n, 1);
    KW_TRY(need_f32(g, n, 0));
    KW_TRY(need_f32(g, n, 1));
    KwShape sa = a->shape, sb = b->shape;
    if (sa.rank == 0 || sb.rank == 0)
        return ERR("MatMul of a scalar is not defined");
    int a1 = sa.rank == 1, b1 = sb.rank == 1;
    if (a1) {
        sa.rank = 2;
        sa.d[1] = sa.d[0];
        sa.d[0] = 1;
    }
    if (b1) {
        sb.rank = 2;
        sb.d[1] = 1;
    }
    if (sa.d[sa.rank - 1] != sb.d[sb.rank - 2])
        return ERR("inner dimensions differ: %s x %s", shp(g, &a->shape), shp(g, &b->shape));
    KwShape ba = sa, bb = sb, bo;
    ba.rank -= 2;
    bb.rank -= 2;
    KW_TRY(kw_bcast_shape(g, n, &ba, &bb, &bo));
    KwShape s = bo;
    if (!a1)
        s.d[s.rank++] = sa.d[sa.rank - 2];
    if (!b1)
        s.d[s.rank++] = sb.d[sb.rank - 1];
    return set_out(g, n, 0, KW_F32, &s);
}

static int infer_flatten(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axis, a;
    KW_TRY(kw_attr_int(g, n, "axis", 1, &axis));
    if (axis < -x->shape.rank || axis > x->shape.rank)
        return ERR("axis %" PRId64 " is out of range for rank %d", axis, x->shape.rank);
    a = axis < 0 ? axis + x->shape.rank : axis;
    KwShape s = {2, {1, 1}};
    for (int i = 0; i < x->shape.rank; i++)
        s.d[i < a ? 0 : 1] *= x->shape.d[i];
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_reshape(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t t[KW_MAX_RANK], allowzero;
    int cnt;
    KW_TRY(kw_const_ints(g, n, 1, t, KW_MAX_RANK, &cnt));
    KW_TRY(kw_attr_int(g, n, "allowzero", 0, &allowzero));
    if (g->opset < 14 && kw_attr(n, "allowzero"))
        return ERR("attribute 'allowzero' does not exist before opset 14");
    KwShape s = {cnt, {0}};
    int infer = -1;
    int64_t known = 1;
    for (int i = 0; i < cnt; i++) {
        int64_t d = t[i];
        if (d == 0 && !allowzero) {
            if (i >= x->shape.rank)
                return ERR("target shape entry %d is 0 (copy) but the input has rank %d", i, x->shape.rank);
            d = x->shape.d[i];
        }
        if (d == -1) {
            if (infer >= 0)
                return ERR("target shape has more than one -1");
            infer = i;
            continue;
        }
        if (d < 0)
            return ERR("target shape entry %d is %" PRId64, i, d);
        s.d[i] = d;
        if (d && known > KW_MAX_ELEMS / d)
            return ERR("target shape has too many elements");
        known *= d;
    }
    int64_t total = kw_numel(&x->shape);
    if (infer >= 0) {
        if (known == 0 || total % known != 0)
            return ERR("cannot reshape %s (%" PRId64 " elements) to a shape with -1 and %" PRId64 " known elements",
                       shp(g, &x->shape), total, known);
        s.d[infer] = total / known;
    } else if (known != total)
        return ERR("cannot reshape %s (%" PRId64 " elements) to %s (%" PRId64 ")", shp(g, &x->shape), total,
                   shp(g, &s), known);
    return set_out(g, n, 0, x->dt, &s);
}

static int squeeze_axes(KwGraph *g, KwNode *n, int rank, int64_t *axes, int *cnt)
{
    if (g->opset >= 13) {
        if (kw_attr(n, "axes"))
            return ERR("attribute 'axes' does not exist at opset %d: axes are the second input", g->opset);
        return kw_const_ints(g, n, 1, axes, KW_MAX_RANK, cnt);
    }
    if (n->n_in > 1)
        return ERR("has 2 inputs; at opset %d the axes are an attribute", g->opset);
    (void)rank;
    return kw_attr_ints(g, n, "axes", axes, KW_MAX_RANK, cnt);
}

static int infer_squeeze(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axes[KW_MAX_RANK];
    int cnt, mask[KW_MAX_RANK] = {0};
    KW_TRY(squeeze_axes(g, n, x->shape.rank, axes, &cnt));
    for (int i = 0; i < cnt; i++) {
        int64_t a;
        if (kw_norm_axis(axes[i], x->shape.rank, &a) < 0)
            return ERR("axis %" PRId64 " is out of range for rank %d", axes[i], x->shape.rank);
        if (x->shape.d[a] != 1)
            return ERR("cannot squeeze axis %" PRId64 " of %s: its size is not 1", axes[i], shp(g, &x->shape));
        mask[a] = 1;
    }
    KwShape s = {0, {0}};
    for (int i = 0; i < x->shape.rank; i++)
        if (cnt > 0 ? !mask[i] : x->shape.d[i] != 1)
            s.d[s.rank++] = x->shape.d[i];
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_unsqueeze(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axes[KW_MAX_RANK];
    int cnt, mask[KW_MAX_RANK] = {0};
    KW_TRY(squeeze_axes(g, n, x->shape.rank, axes, &cnt));
    if (cnt <= 0)
        return ERR("axes are required");
    int r = x->shape.rank + cnt;
    if (r > KW_MAX_RANK)
        return ERR("output rank %d exceeds %d", r, KW_MAX_RANK);
    for (int i = 0; i < cnt; i++) {
        int64_t a;
        if (kw_norm_axis(axes[i], r, &a) < 0)
            return ERR("axis %" PRId64 " is out of range for output rank %d", axes[i], r);
        if (mask[a])
            return ERR("axis %" PRId64 " is listed twice", axes[i]);
        mask[a] = 1;
    }
    KwShape s = {r, {0}};
    for (int i = 0, k = 0; i < r; i++)
        s.d[i] = mask[i] ? 1 : x->shape.d[k++];
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_identity(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    if (n->op == KW_OP_Dropout) {
        if (g->opset < 12 && n->n_in > 1)
            return ERR("ratio as an input needs opset 12");
        const KwValue *tm = kw_in(g, n, 2);
        if (tm) {
            KW_TRY(need_const(g, n, 2, "training_mode"));
            if (kw_numel(&tm->shape) != 1)
                return ERR("input 2 (training_mode) has shape %s, expected a scalar", shp(g, &tm->shape));
            if (kw_const_scalar(g, n->in[2]) != 0.0f)
                return ERR("training_mode is true; kwcc compiles inference graphs");
        }
        KW_TRY(only_first_output(g, n, "mask"));
    }
    return set_out(g, n, 0, x->dt, &x->shape);
}

static int infer_transpose(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t perm[KW_MAX_RANK];
    int cnt, seen[KW_MAX_RANK] = {0};
    KW_TRY(kw_attr_ints(g, n, "perm", perm, KW_MAX_RANK, &cnt));
    int r = x->shape.rank;
    if (cnt < 0)
        for (int i = 0; i < r; i++)
            perm[i] = r - 1 - i;
    else if (cnt != r)
        return ERR("attribute 'perm' has %d values for an input of rank %d", cnt, r);
    KwShape s = {r, {0}};
    for (int i = 0; i < r; i++) {
        if (perm[i] < 0 || perm[i] >= r || seen[perm[i]]++)
            return ERR("attribute 'perm' is not a permutation of 0..%d", r - 1);
        s.d[i] = x->shape.d[perm[i]];
    }
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_concat(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axis, a;
    KW_TRY(kw_attr_int(g, n, "axis", INT64_MIN, &axis));
    if (axis == INT64_MIN)
        return ERR("attribute 'axis' is required");
    if (kw_norm_axis(axis, x->shape.rank, &a) < 0)
        return ERR("axis %" PRId64 " is out of range for rank %d", axis, x->shape.rank);
    KwShape s = x->shape;
    s.d[a] = 0;
    for (int i = 0; i < n->n_in; i++) {
        const KwValue *v = kw_in(g, n, i);
        if (!v)
            return ERR("input %d is missing", i);
        if (v->dt != x->dt)
            return ERR("input %d is %s, expected %s like input 0", i, kw_dtype_name(v->dt), kw_dtype_name(x->dt));
        if (v->shape.rank != s.rank)
            return ERR("input %d has rank %d, expected %d", i, v->shape.rank, s.rank);
        for (int k = 0; k < s.rank; k++)
            if (k != a && v->shape.d[k] != s.d[k])
                return ERR("input %d %s differs from input 0 %s outside axis %" PRId64, i, shp(g, &v->shape),
                           shp(g, &x->shape), a);
        s.d[a] += v->shape.d[a];
    }
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_slice(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t start[KW_MAX_RANK], step[KW_MAX_RANK];
    KwShape s;
    KW_TRY(kw_slice_geom(g, n, &x->shape, start, step, &s));
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_split(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t axis, sizes[256];
    if (n->n_out > 256)
        return ERR("has %d outputs; at most 256 are supported", n->n_out);
    KW_TRY(kw_split_sizes(g, n, &x->shape, &axis, sizes));
    for (int i = 0; i < n->n_out; i++) {
        KwShape s = x->shape;
        s.d[axis] = sizes[i];
        KW_TRY(set_out(g, n, i, x->dt, &s));
    }
    return 0;
}

static int infer_expand(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t t[KW_MAX_RANK];
    int cnt;
    KW_TRY(kw_const_ints(g, n, 1, t, KW_MAX_RANK, &cnt));
    KwShape ts = {cnt, {0}}, s;
    for (int i = 0; i < cnt; i++)
        ts.d[i] = t[i];
    KW_TRY(kw_bcast_shape(g, n, &x->shape, &ts, &s));
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_gather(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0), *idx = kw_in(g, n, 1);
    int64_t axis, a;
    KW_TRY(kw_attr_int(g, n, "axis", 0, &axis));
    if (kw_norm_axis(axis, x->shape.rank, &a) < 0)
        return ERR("axis %" PRId64 " is out of range for rank %d", axis, x->shape.rank);
    KW_TRY(need_const(g, n, 1, "indices"));
    if (idx->dt != KW_I64)
        return ERR("indices are %s, expected int64 or int32", kw_dtype_name(idx->dt));
    const int64_t *iv = idx->data;
    for (int64_t i = 0; i < kw_numel(&idx->shape); i++)
        if (iv[i] < -x->shape.d[a] || iv[i] >= x->shape.d[a])
            return ERR("index %" PRId64 " is out of range for axis %" PRId64 " of size %" PRId64, iv[i], a,
                       x->shape.d[a]);
    KwShape s = {0, {0}};
    if (x->shape.rank - 1 + idx->shape.rank > KW_MAX_RANK)
        return ERR("output rank exceeds %d", KW_MAX_RANK);
    for (int i = 0; i < a; i++)
        s.d[s.rank++] = x->shape.d[i];
    for (int i = 0; i < idx->shape.rank; i++)
        s.d[s.rank++] = idx->shape.d[i];
    for (int i = (int)a + 1; i < x->shape.rank; i++)
        s.d[s.rank++] = x->shape.d[i];
    return set_out(g, n, 0, x->dt, &s);
}

static int infer_softmax(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    KW_TRY(need_f32(g, n, 0));
    int64_t axis, a;
    KW_TRY(kw_attr_int(g, n, "axis", g->opset >= 13 ? -1 : 1, &axis));
    if (kw_norm_axis(axis, x->shape.rank, &a) < 0)
        return ERR("axis %" PRId64 " is out of range for rank %d", axis, x->shape.rank);
    return set_out(g, n, 0, KW_F32, &x->shape);
}

static int infer_layernorm(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    for (int i = 0; i < 3; i++)
        KW_TRY(need_f32(g, n, i));
    if (g->opset < 17)
        return ERR("LayerNormalization is not defined before opset 17 (the model imports opset %d)", g->opset);
    int64_t axis, a;
    KW_TRY(kw_attr_int(g, n, "axis", -1, &axis));
    if (kw_norm_axis(axis, x->shape.rank, &a) < 0)
        return ERR("axis %" PRId64 " is out of range for rank %d", axis, x->shape.rank);
    KwShape ns = {0, {0}};
    for (int i = (int)a; i < x->shape.rank; i++)
        ns.d[ns.rank++] = x->shape.d[i];
    for (int i = 1; i < 3; i++) {
        const KwValue *p = kw_in(g, n, i);
        if (!p)
            continue;
        KwShape t;
        KW_TRY(kw_bcast_shape(g, n, &p->shape, &ns, &t));
        if (!kw_shape_eq(&t, &ns))
            return ERR("%s %s does not broadcast to the normalised shape %s", i == 1 ? "scale" : "bias",
                       shp(g, &p->shape), shp(g, &ns));
        if (!p->data && !kw_shape_eq(&p->shape, &ns))
            return ERR("a run-time %s must have the normalised shape %s", i == 1 ? "scale" : "bias", shp(g, &ns));
    }
    /* Mean and InvStdDev (lower.c, layernorm_stats): x's shape with the normalised dims 1 */
    int64_t stash;
    KW_TRY(kw_attr_int(g, n, "stash_type", 1, &stash));
    KwShape ms = x->shape;
    for (int i = (int)a; i < ms.rank; i++)
        ms.d[i] = 1;
    for (int i = 1; i < n->n_out; i++) {
        if (n->out[i] < 0 || !(g->v[n->out[i]].n_use > 0 || kw_ir_is_graph_output(g, n->out[i])))
            continue;
        if (stash != 1)
            return ERR("output %d (Mean/InvStdDev) with stash_type %" PRId64 ": kwcc computes them in float32 "
                       "(stash_type 1) only", i, stash);
        if (kw_numel(&ns) == 0)
            return ERR("output %d (Mean/InvStdDev) of an empty normalised shape %s has no defined value", i,
                       shp(g, &ns));
    }
    for (int i = 1; i < n->n_out; i++)
        KW_TRY(set_out(g, n, i, KW_F32, &ms));
    return set_out(g, n, 0, KW_F32, &x->shape);
}

static int infer_shape_op(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t start, end, r = x->shape.rank;
    KW_TRY(kw_attr_int(g, n, "start", 0, &start));
    KW_TRY(kw_attr_int(g, n, "end", r, &end));
    if (g->opset < 15 && (kw_attr(n, "start") || kw_attr(n, "end")))
        return ERR("attributes 'start' and 'end' do not exist before opset 15");
    if (start < 0)
        start += r;
    if (end < 0)
        end += r;
    start = start < 0 ? 0 : (start > r ? r : start);
    end = end < 0 ? 0 : (end > r ? r : end);
    KwShape s = {1, {end > start ? end - start : 0}};
    return set_out(g, n, 0, KW_I64, &s);
}

static int infer_constant_of_shape(KwGraph *g, KwNode *n)
{
    int64_t t[KW_MAX_RANK];
    int cnt;
    KW_TRY(kw_const_ints(g, n, 0, t, KW_MAX_RANK, &cnt));
    KwShape s = {cnt < 0 ? 0 : cnt, {0}};
    for (int i = 0; i < s.rank; i++)
        s.d[i] = t[i];
    const KwAttr *v = kw_attr(n, "value");
    KwDType dt = KW_F32;
    if (v) {
        if (v->type != KW_AT_TENSOR || kw_numel(&g->v[v->tensor].shape) != 1)
            return ERR("attribute 'value' must be a one-element tensor");
        dt = g->v[v->tensor].dt;
    }
    return set_out(g, n, 0, dt, &s);
}

static int infer_range(KwGraph *g, KwNode *n)
{
    const KwValue *a = kw_in(g, n, 0);
    for (int i = 0; i < 3; i++) {
        const char *what = i == 0 ? "start" : i == 1 ? "limit" : "delta";
        const KwValue *v = kw_in(g, n, i);
        KW_TRY(need_const(g, n, i, what));
        if (v->shape.rank > 1 || kw_numel(&v->shape) != 1)
            return ERR("input %d (%s) has shape %s, expected a scalar", i, what, shp(g, &v->shape));
        if (v->dt != a->dt)
            return ERR("input %d (%s) is %s, expected %s like start", i, what, kw_dtype_name(v->dt),
                       kw_dtype_name(a->dt));
    }
    int64_t c;
    if (a->dt == KW_I64) {
        int64_t s0 = ((int64_t *)a->data)[0], l0 = ((int64_t *)g->v[n->in[1]].data)[0],
                d0 = ((int64_t *)g->v[n->in[2]].data)[0];
        if (d0 == 0)
            return ERR("delta is 0");
        /* in uint64, where the distance between any two int64 values fits */
        uint64_t span = d0 > 0 ? (l0 > s0 ? (uint64_t)l0 - (uint64_t)s0 : 0) : (s0 > l0 ? (uint64_t)s0 - (uint64_t)l0 : 0);
        uint64_t step = d0 > 0 ? (uint64_t)d0 : 0 - (uint64_t)d0;
        uint64_t cu = span / step + (span % step != 0);
        if (cu > (uint64_t)KW_MAX_ELEMS)
            return ERR("the range from %" PRId64 " to %" PRId64 " by %" PRId64
                       " has more than 2^31 - 1 values, the most kwcc supports",
                       s0, l0, d0);
        /* folding computes start + i * delta in int64 */
        if (cu > 1 && step > (uint64_t)INT64_MAX / (cu - 1))
            return ERR("the range from %" PRId64 " by %" PRId64 " has %" PRIu64
                       " values, whose offsets from start overflow int64; expected a smaller delta",
                       s0, d0, cu);
        c = (int64_t)cu;
    } else {
        double st = kw_const_scalar(g, n->in[0]), lim = kw_const_scalar(g, n->in[1]),
               d = kw_const_scalar(g, n->in[2]);
        if (d == 0)
            return ERR("delta is 0");
        double cnt = (lim - st) / d;
        if (!(cnt <= (double)KW_MAX_ELEMS)) /* also NaN */
            return ERR("the range from %g to %g by %g has %g values; kwcc supports up to 2^31 - 1", st, lim, d, cnt);
        c = cnt > 0 ? (int64_t)(cnt + 0.999999999) : 0;
    }
    KwShape s = {1, {c}};
    return set_out(g, n, 0, a->dt, &s);
}

static int infer_cast(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    int64_t to;
    KW_TRY(kw_attr_int(g, n, "to", -1, &to));
    KwDType dt;
    if (to == 1)
        dt = KW_F32;
    else if (to == 7 || to == 6)
        dt = KW_I64;
    else
        return ERR("cast to ONNX type %" PRId64 " is not supported; kwcc casts to float32 (1), int32 (6) and int64 (7)",
                   to);
    if (dt == KW_I64 && !x->data) {
        /* float -> int -> float round trips are truncation; any other run-time integer
         * tensor is out of scope (kwcc runs float32 tensors) */
        int cons[64], nc = kw_ir_consumers(g, n->out[0], cons, 64);
        int ok = nc > 0 && nc <= 64 && !kw_ir_is_graph_output(g, n->out[0]);
        for (int i = 0; i < nc && i < 64; i++) {
            int64_t t2 = -1;
            const KwNode *c = &g->n[cons[i]];
            if (c->op != KW_OP_Cast || kw_attr_int(g, c, "to", -1, &t2) < 0 || t2 != 1)
                ok = 0;
        }
        if (!ok)
            return ERR("cast of a run-time tensor to an integer type is only supported when the result is cast "
                       "straight back to float; kwcc runs float32 tensors");
        dt = KW_F32; /* the integer values, held exactly as floats; lowered to trunc */
    }
    return set_out(g, n, 0, dt, &x->shape);
}

static int infer_affine(KwGraph *g, KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0);
    return set_out(g, n, 0, KW_F32, &x->shape);
}

int kw_infer_node(KwGraph *g, KwNode *n)
{
    for (int i = 0; i < n->n_in; i++) {
        const KwValue *v = kw_in(g, n, i);
        if (v && v->shape.rank < 0)
            return ERR("input %d ('%s') has no known shape", i, v->name);
    }
    switch (n->op) {
    case KW_OP_Conv: return infer_conv(g, n);
    case KW_OP_KwConv: return infer_kwconv(g, n);
    case KW_OP_BatchNormalization: return infer_batchnorm(g, n);
    case KW_OP_Affine:
    case KW_OP_Norm: return infer_affine(g, n);
    case KW_OP_MaxPool:
    case KW_OP_AveragePool: return infer_pool(g, n);
    case KW_OP_GlobalAveragePool:
    case KW_OP_GlobalMaxPool: return infer_global_pool(g, n);
    case KW_OP_Gemm: return infer_gemm(g, n);
    case KW_OP_MatMul: return infer_matmul(g, n);
    case KW_OP_Flatten: return infer_flatten(g, n);
    case KW_OP_Reshape: return infer_reshape(g, n);
    case KW_OP_Squeeze: return infer_squeeze(g, n);
    case KW_OP_Unsqueeze: return infer_unsqueeze(g, n);
    case KW_OP_Identity:
    case KW_OP_Dropout: return infer_identity(g, n);
    case KW_OP_Transpose: return infer_transpose(g, n);
    case KW_OP_Concat: return infer_concat(g, n);
    case KW_OP_Slice: return infer_slice(g, n);
    case KW_OP_Split: return infer_split(g, n);
    case KW_OP_Expand: return infer_expand(g, n);
    case KW_OP_Gather: return infer_gather(g, n);
    case KW_OP_Softmax: return infer_softmax(g, n);
    case KW_OP_LayerNormalization: return infer_layernorm(g, n);
    case KW_OP_Shape: return infer_shape_op(g, n);
    case KW_OP_ConstantOfShape: return infer_constant_of_shape(g, n);
    case KW_OP_Range: return infer_range(g, n);
    case KW_OP_Cast: return infer_cast(g, n);
    case KW_OP_Constant: return 0;
    default:
        if (kw_op_info[n->op].flags & KW_OPF_REDUCE)
            return infer_reduce(g, n);
        if (kw_op_info[n->op].flags & KW_OPF_UNARY)
            return infer_unary(g, n);
        if (kw_op_info[n->op].flags & KW_OPF_BINARY)
            return infer_binary(g, n);
        KW_BUG("no shape inference for op %s", kw_op_info[n->op].name);
    }
}

/* Folding evaluates a node whose inputs are all constant now and stores its outputs in the
 * weight blob. A few bytes of model (ConstantOfShape, Expand, Range) must not make kwcc
 * allocate gigabytes: a fold that makes more than 1 GiB out of much less is refused, and so is
 * one that would take all folds of the model past 64 MiB or twice the memory the model itself
 * took to load. (A 344-byte model folding an 800 MB Range, or a chain of 800 MB Casts of it,
 * made kwcc write a 2.3 GB C file; exported graphs fold shape arithmetic and their own
 * weights, never much more than the model.) */
#define KW_MAX_FOLD_BYTES ((int64_t)1 << 30)
#define KW_FOLD_BUDGET_MIN ((int64_t)64 << 20)

/* Compute is bounded too: a 342-byte model can ask for a Conv of two ConstantOfShape tensors
 * that takes 9 G multiply-adds (6 s), and huge pads make the work per output byte unbounded.
 * Multiply-adds of the ops whose work is not linear in their bytes; at most 2^31 per fold and
 * 2^33 per model (the portable kernels do about 1.5 G a second). */
#define KW_MAX_FOLD_WORK 2147483648.0

static double fold_work(KwGraph *g, const KwNode *n)
{
    const KwValue *x = kw_in(g, n, 0), *w = n->n_in > 1 ? kw_in(g, n, 1) : NULL, *y = kw_out(g, n, 0);
    if (!x || !y || y->shape.rank < 0)
        return 0;
    double out = (double)kw_numel(&y->shape), k = 1;
    switch (n->op) {
    case KW_OP_Conv:
        for (int i = 1; w && i < w->shape.rank; i++)
            k *= (double)w->shape.d[i];
        return out * k;
    case KW_OP_Gemm: {
        int64_t ta = 0;
        kw_attr_int(g, n, "transA", 0, &ta);
        return x->shape.rank == 2 ? out * (double)x->shape.d[ta ? 0 : 1] : 0;
    }
    case KW_OP_MatMul: return x->shape.rank ? out * (double)x->shape.d[x->shape.rank - 1] : 0;
    case KW_OP_MaxPool:
    case KW_OP_AveragePool: {
        KwWinGeom wg;
        if (kw_win_geom(g, n, &x->shape, NULL, &wg) < 0)
            return 0;
        for (int i = 0; i < wg.nsp; i++)
            k *= (double)wg.k[i];
        return out * k;
    }
    default: return 0;
    }
}

static int check_fold_size(KwGraph *g, const KwNode *n, int64_t base, double *work_done)
{
    int64_t in_bytes = 0, out_bytes = 0;
    for (int k = 0; k < n->n_in; k++) {
        const KwValue *x = kw_in(g, n, k);
        if (x && !x->data)
            return 0; /* not folded */
        if (x)
            in_bytes += kw_numel(&x->shape) * kw_dtype_size(x->dt);
    }
    for (int k = 0; k < n->n_out; k++) {
        const KwValue *y = kw_out(g, n, k);
        if (y && y->shape.rank >= 0)
            out_bytes += kw_numel(&y->shape) * kw_dtype_size(y->dt);
    }
    if (out_bytes > KW_MAX_FOLD_BYTES && out_bytes > 4 * in_bytes)
        return ERR("its inputs are constant, so kwcc would compute its output at compile time: %" PRId64
                   " bytes of constants from %" PRId64 "; kwcc folds at most 1 GiB",
                   out_bytes, in_bytes);
    int64_t folded = (int64_t)kw_arena_bytes(g->arena) - base;
    int64_t budget = base > KW_FOLD_BUDGET_MIN / 2 ? 2 * base : KW_FOLD_BUDGET_MIN;
    if (out_bytes > 0 && folded + out_bytes > budget)
        return ERR("its inputs are constant, so kwcc would compute its output at compile time: %" PRId64
                   " bytes, after %" PRId64 " bytes of constants already computed; kwcc folds at most %" PRId64
                   " bytes per model (64 MiB, or twice what the model takes loaded)",
                   out_bytes, folded, budget);
    double work = fold_work(g, n);
    if (work > KW_MAX_FOLD_WORK || *work_done + work > 4 * KW_MAX_FOLD_WORK)
        return ERR("its inputs are constant, so kwcc would compute it at compile time: %.3g multiply-adds%s; kwcc "
                   "folds at most 2^31 per node and 2^33 per model",
                   work, *work_done > 0 ? " after what it folded already" : "");
    *work_done += work;
    return 0;
}

int kw_pass_infer(KwGraph *g)
{
    int64_t base = (int64_t)kw_arena_bytes(g->arena); /* the loaded model: the fold budget */
    double work = 0;
    kw_ir_count_uses(g);
    for (int i = 0; i < g->nn; i++) {
        KwNode *n = &g->n[i];
        if (n->dead)
            continue;
        int bad_in = 0;
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && g->v[n->in[k]].shape.rank < 0)
                bad_in = 1; /* its producer failed: already reported */
        if (bad_in) {
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0)
                    g->v[n->out[k]].shape.rank = -1;
            continue;
        }
        if (kw_infer_node(g, n) < 0)
            continue; /* report every bad node in one run */
        if (check_fold_size(g, n, base, &work) < 0 || kw_fold_node(g, n) < 0)
            continue;
    }
    /* the generated API hands out float32 only: an int64 output (Shape, an index) would be
     * its bytes misread as floats */
    for (int i = 0; i < g->n_outputs; i++) {
        const KwValue *y = &g->v[g->outputs[i]];
        if (y->shape.rank >= 0 && y->dt != KW_F32)
            kw_error(g->diag, NULL, "graph output '%s' is %s; kwcc models produce float32 outputs only (a Cast to "
                     "float32 before the output would do)", y->name, kw_dtype_name(y->dt));
    }
    return g->diag->n_errors ? -1 : 0;
}
