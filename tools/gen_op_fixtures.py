#!/usr/bin/env python3
"""Generate the single-op ONNX test fixtures of kwcc (tests/fixtures/ops/).

Dev-time tool only: kwcc itself (C) never runs Python.  The committed
fixtures are what the C test runner reads; rerun this script only to change
or add cases.

Needs (any interpreter that has all three; on the dev machines this is
/work/venv/bin/python, a venv made with --system-site-packages):
  * numpy
  * onnx 1.12           Debian package python3-onnx
  * onnxruntime 1.32    from PyPI, installed into the venv (pip install onnxruntime)
No torch here (the net fixtures in gen_net_fixtures.py need it).

Usage:
  /work/venv/bin/python tools/gen_op_fixtures.py [--list]

Every case is one small ONNX model built with onnx.helper (one op in
isolation, sometimes with a Constant/Shape/Cast helper node around it),
run by onnxruntime (graph optimisations off, one thread) to get the
reference outputs.  Layout written (the whole tests/fixtures/ops directory
is recreated):

  tests/fixtures/ops/cases.txt            "<case> <tol>" per line, '#' comments
  tests/fixtures/ops/<case>/model.onnx
  tests/fixtures/ops/<case>/input_<i>.bin   graph inputs (not initializers), in order
  tests/fixtures/ops/<case>/output_<i>.bin  graph outputs, in order

All .bin files are raw little-endian float32 in C order, without header.
Pass criterion per output: max|y - ref| <= tol * max(max|ref|, 1e-30).

Determinism: every case draws its data from its own numpy Generator seeded
with crc32(case name), so adding/removing a case never changes the others,
and rerunning the script rewrites identical bytes (on the same kind of CPU:
onnxruntime's kernels may round differently on another ISA, far below tol).

Besides the fixtures, the script self-checks every case:
  * every graph input/output is float32 with a static shape;
  * outputs are finite and not degenerate (not all zero, not constant);
  * for opset <= 17 (what onnx 1.12 knows): onnx.checker and strict shape
    inference, whose output shapes must match onnxruntime's;
  * where onnxruntime has float64 kernels for the whole graph, the model is
    re-run in float64 and the float32 reference must be within tol/10 of it
    (so the reference error is negligible against the tolerance).
"""

import os
import shutil
import sys
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "ops")

F32 = TensorProto.FLOAT
F64 = TensorProto.DOUBLE
I64 = TensorProto.INT64
INT64_MAX = 9223372036854775807
INT64_MIN = -9223372036854775808

# tolerances (relative to max|ref|), see cases.txt header
EXACT = "1e-5"   # copies, max, relu, +,-,*,/, casts, single-rounding ops
RED = "1e-4"     # reductions, conv, gemm, matmul, pooling averages, erf, pow, softmax, norms

MAX_OPSET_ONNX_LIB = onnx.defs.onnx_opset_version()  # 17 for onnx 1.12

CASES = []      # (name, tol, comment or None)
COMMENTS = []   # free-form notes appended at the end of cases.txt
F64_UNCHECKED = []
CHECKED_ERR = {}
NAMES = set()


def ir_version_for(opset):
    # ONNX release table: opset <= 18 -> IR 8, 19/20 -> IR 9, 21 -> IR 10
    if opset <= 18:
        return 8
    if opset <= 20:
        return 9
    return 10


def R(name):
    return np.random.default_rng(zlib.crc32(name.encode("utf-8")))


def randn(r, *shape):
    return r.standard_normal(shape).astype(np.float32)


def randpos(r, *shape, lo=0.25, hi=2.5):
    return r.uniform(lo, hi, shape).astype(np.float32)


def away0(r, *shape):
    """Standard-normal-ish values with |v| >= 0.5 (safe denominators)."""
    n = r.standard_normal(shape)
    return (np.sign(n) * (0.5 + np.abs(n))).astype(np.float32)


def i64(*v):
    return np.array(v, dtype=np.int64)


def f32(*v):
    return np.array(v, dtype=np.float32)


def node(op, inputs, outputs, name=None, **attrs):
    n = helper.make_node(op, inputs, outputs, **attrs)
    if name:
        n.name = name
    return n


def const_node(out, arr, name=None):
    return node("Constant", [], [out], name=name, value=numpy_helper.from_array(np.asarray(arr)))


# ----------------------------------------------------------------------------
# Independent float64 NumPy references (straight from the ONNX spec text) for
# the ops that onnxruntime cannot run in float64 (Conv, AveragePool, ...).
# They only cross-check the onnxruntime float32 reference; they are not written.

def _spatial_geometry(in_sp, k, attrs, ceil_mode=False):
    """pads (begin list, end list) and output spatial shape, per the ONNX spec."""
    nd = len(k)
    s = attrs.get("strides", [1] * nd)
    d = attrs.get("dilations", [1] * nd)
    ap = attrs.get("auto_pad", "NOTSET")
    if ap in ("SAME_UPPER", "SAME_LOWER"):
        out = [-(-in_sp[i] // s[i]) for i in range(nd)]
        tot = [max((out[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in_sp[i], 0) for i in range(nd)]
        if ap == "SAME_UPPER":
            pb = [t // 2 for t in tot]
        else:
            pb = [t - t // 2 for t in tot]
        pe = [t - b for t, b in zip(tot, pb)]
        return pb, pe, out, s, d
    if ap == "VALID":
        pb, pe = [0] * nd, [0] * nd
    else:
        p = attrs.get("pads", [0] * (2 * nd))
        pb, pe = list(p[:nd]), list(p[nd:])
    out = []
    for i in range(nd):
        span = in_sp[i] + pb[i] + pe[i] - d[i] * (k[i] - 1) - 1
        if ceil_mode:
            o = -(-span // s[i]) + 1
            if (o - 1) * s[i] >= in_sp[i] + pb[i]:  # last window would start in the end padding
                o -= 1
        else:
            o = span // s[i] + 1
        out.append(o)
    return pb, pe, out, s, d


def ref_conv(x, w, b, attrs):
    n, c = x.shape[:2]
    m, k = w.shape[0], list(w.shape[2:])
    nd = len(k)
    grp = attrs.get("group", 1)
    pb, pe, out, s, d = _spatial_geometry(list(x.shape[2:]), k, attrs)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pb[i], pe[i]) for i in range(nd)])
    y = np.zeros([n, m] + out)
    cg, mg = c // grp, m // grp
    for g in range(grp):
        wg = w[g * mg:(g + 1) * mg]
        xg = xp[:, g * cg:(g + 1) * cg]
        for pos in np.ndindex(*out):
            sl = tuple(slice(pos[i] * s[i], pos[i] * s[i] + d[i] * (k[i] - 1) + 1, d[i]) for i in range(nd))
            patch = xg[(slice(None), slice(None)) + sl]
            y[(slice(None), slice(g * mg, (g + 1) * mg)) + pos] = np.tensordot(
                patch, wg, axes=(list(range(1, nd + 2)), list(range(1, nd + 2))))
    if b is not None:
        y += b.reshape([1, m] + [1] * nd)
    return y


def ref_pool(x, kind, attrs):
    k = list(attrs["kernel_shape"])
    nd = len(k)
    in_sp = list(x.shape[2:])
    pb, pe, out, s, d = _spatial_geometry(in_sp, k, attrs, bool(attrs.get("ceil_mode", 0)))
    include = bool(attrs.get("count_include_pad", 0))
    y = np.zeros(list(x.shape[:2]) + out)
    for pos in np.ndindex(*out):
        idx, cnt_pad = [], 1
        for i in range(nd):
            j = pos[i] * s[i] - pb[i] + np.arange(k[i]) * d[i]
            cnt_pad *= int(np.sum((j >= -pb[i]) & (j < in_sp[i] + pe[i])))
            idx.append(j[(j >= 0) & (j < in_sp[i])])
        win = x[(slice(None), slice(None)) + np.ix_(*idx)].reshape(x.shape[0], x.shape[1], -1)
        if kind == "max":
            v = win.max(axis=2)
        else:
            v = win.sum(axis=2) / (cnt_pad if include else win.shape[2])
        y[(slice(None), slice(None)) + pos] = v
    return y


_erf = np.vectorize(__import__("math").erf)

# ----------------------------------------------------------------------------
# model building, reference computation, checks, writing

def _build(name, nodes, inputs, outputs, inits, opset, out_shapes=None):
    counts = {}
    for n in nodes:
        if not n.name:
            k = n.op_type.lower()
            n.name = "%s%d" % (k, counts.get(k, 0))
            counts[k] = counts.get(k, 0) + 1
    g_in = [helper.make_tensor_value_info(n, F32, list(a.shape)) for n, a in inputs]
    if out_shapes is None:
        g_out = [helper.make_tensor_value_info(o, F32, None) for o in outputs]
    else:
        g_out = [helper.make_tensor_value_info(o, F32, list(s)) for o, s in zip(outputs, out_shapes)]
    g_init = [numpy_helper.from_array(np.asarray(a), n) for n, a in inits]
    graph = helper.make_graph(nodes, name, g_in, g_out, initializer=g_init)
    model = helper.make_model(graph, producer_name="kwcc-gen_op_fixtures",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version_for(opset)
    return model


def _session(model_bytes):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def _to_f64(model):
    """Copy of model with every float32 tensor made float64 (None if impossible)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        if vi.type.tensor_type.elem_type == F32:
            vi.type.tensor_type.elem_type = F64
    for i, t in enumerate(g.initializer):
        if t.data_type == F32:
            a = numpy_helper.to_array(t).astype(np.float64)
            g.initializer[i].CopyFrom(numpy_helper.from_array(a, t.name))
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR and a.t.data_type == F32:
                a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float64)))
            if a.name == "to" and n.op_type == "Cast" and a.i == F32:
                a.i = F64
            if n.op_type == "Constant" and a.name in ("value_float", "value_floats"):
                return None
    return m


def emit(name, tol, nodes, inputs, outputs, inits=(), opset=13, comment=None, f64=True, ref=None):
    """One fixture case.

    inputs:  [(graph input name, float32 ndarray)] in graph-input order
    outputs: [graph output names]
    inits:   [(initializer name, ndarray of any dtype)]
    ref:     optional independent float64 NumPy reference, called with
             {name: float64 array} of inputs and initializers, returning the
             list of outputs; used where onnxruntime has no float64 kernels
    """
    assert name == name.lower() and " " not in name, name
    assert name not in NAMES, "duplicate case " + name
    NAMES.add(name)
    for n, a in inputs:
        assert a.dtype == np.float32, (name, n)
    inits = list(inits)

    model = _build(name, nodes, inputs, outputs, inits, opset)
    feeds = {n: a for n, a in inputs}
    res = _session(model.SerializeToString()).run(outputs, feeds)
    for o, y in zip(outputs, res):
        assert y.dtype == np.float32, (name, o, y.dtype)
        assert np.all(np.isfinite(y)), (name, o, "non-finite output")
        assert y.size > 0, (name, o, "empty output")
        assert np.max(np.abs(y)) > 0, (name, o, "all-zero output")
        if y.size > 1:
            assert np.ptp(y) > 0, (name, o, "constant output")
    # rebuild with the static output shapes
    model = _build(name, nodes, inputs, outputs, inits, opset, [y.shape for y in res])

    if opset <= MAX_OPSET_ONNX_LIB:
        onnx.checker.check_model(model)
        inf = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        for vi, y in zip(inf.graph.output, res):
            dims = vi.type.tensor_type.shape.dim
            shp = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
            assert shp == tuple(y.shape), (name, vi.name, shp, y.shape)

    # sanity of the float32 reference against a float64 run, when ORT can
    if f64:
        m64 = _to_f64(model)
        err = None
        if m64 is not None:
            try:
                r64 = _session(m64.SerializeToString()).run(
                    outputs, {n: a.astype(np.float64) for n, a in inputs})
                err = max(float(np.max(np.abs(y.astype(np.float64) - z)) / max(np.max(np.abs(z)), 1e-30))
                          for y, z in zip(res, r64))
            except Exception:  # no float64 kernel for some op: fine
                err = None
        if ref is not None:  # always checked when given (catches semantic bugs shared by ORT's kernels)
            env = {n: np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
                   for n, a in list(inputs) + inits}
            r64 = ref(env)
            for y, z in zip(res, r64):
                assert tuple(y.shape) == tuple(np.shape(z)), (name, "numpy ref shape", y.shape, np.shape(z))
            err_ref = max(float(np.max(np.abs(y.astype(np.float64) - z)) / max(np.max(np.abs(z)), 1e-30))
                          for y, z in zip(res, r64))
            assert err_ref <= float(tol) / 10, (name, "numpy reference disagrees", err_ref, "vs tol", tol)
            err = err_ref if err is None else max(err, err_ref)
        if err is None:
            F64_UNCHECKED.append(name)
        else:
            assert err <= float(tol) / 10, (name, "float32 reference off by", err, "vs tol", tol)
            CHECKED_ERR[name] = err

    d = os.path.join(OUT, name)
    os.makedirs(d)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for i, (n, a) in enumerate(inputs):
        with open(os.path.join(d, "input_%d.bin" % i), "wb") as f:
            f.write(np.ascontiguousarray(a, dtype="<f4").tobytes())
    for i, y in enumerate(res):
        with open(os.path.join(d, "output_%d.bin" % i), "wb") as f:
            f.write(np.ascontiguousarray(y, dtype="<f4").tobytes())
    CASES.append((name, tol, comment))


def skip(name, why):
    COMMENTS.append("skipped %s: %s" % (name, why))


# ----------------------------------------------------------------------------
# Conv

def gen_conv():
    # (name, x shape, w shape, attrs, bias?, opset)
    specs = [
        ("conv_1d_basic", (1, 3, 16), (4, 3, 3), dict(pads=[1, 1]), True, 13),
        ("conv_1d_s2_dil2_nobias", (1, 3, 17), (4, 3, 3), dict(strides=[2], dilations=[2]), False, 13),
        ("conv_1d_groups", (1, 4, 12), (6, 2, 3), dict(group=2, pads=[2, 0]), True, 13),
        ("conv_2d_basic", (1, 3, 8, 8), (4, 3, 3, 3), dict(pads=[1, 1, 1, 1]), True, 13),
        ("conv_2d_nobias", (1, 3, 7, 6), (5, 3, 3, 3), dict(), False, 13),
        ("conv_2d_s2", (1, 3, 9, 9), (4, 3, 3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1]), True, 13),
        ("conv_2d_asym_pads", (1, 2, 7, 8), (3, 2, 3, 3), dict(pads=[0, 1, 2, 1], strides=[1, 2]), True, 13),
        ("conv_2d_dilations", (1, 2, 9, 9), (3, 2, 3, 3), dict(dilations=[2, 2], pads=[2, 2, 2, 2]), True, 13),
        ("conv_2d_dil_asym", (1, 2, 10, 9), (3, 2, 2, 3), dict(dilations=[3, 1], strides=[1, 2]), False, 13),
        ("conv_2d_rect_kernel", (1, 2, 8, 10), (3, 2, 3, 5), dict(kernel_shape=[3, 5], pads=[1, 2, 1, 2]), True, 13),
        ("conv_2d_1x1", (1, 8, 5, 5), (6, 8, 1, 1), dict(), True, 13),
        ("conv_2d_1x1_s2", (1, 4, 7, 7), (6, 4, 1, 1), dict(strides=[2, 2]), False, 13),
        ("conv_2d_groups2", (1, 4, 6, 6), (6, 2, 3, 3), dict(group=2, pads=[1, 1, 1, 1]), True, 13),
        ("conv_2d_groups4_s2", (1, 8, 7, 7), (8, 2, 3, 3), dict(group=4, strides=[2, 2]), True, 13),
        ("conv_depthwise", (1, 4, 6, 6), (4, 1, 3, 3), dict(group=4, pads=[1, 1, 1, 1]), True, 13),
        ("conv_depthwise_s2", (1, 4, 9, 9), (4, 1, 3, 3), dict(group=4, strides=[2, 2], pads=[1, 1, 1, 1]), True, 13),
        ("conv_depthwise_7x7", (1, 3, 9, 9), (3, 1, 7, 7), dict(group=3, pads=[3, 3, 3, 3]), True, 13),
        ("conv_depthwise_mult2", (1, 3, 6, 6), (6, 1, 3, 3), dict(group=3, pads=[1, 1, 1, 1]), True, 13),
        ("conv_depthwise_nobias_asym", (1, 4, 8, 7), (4, 1, 3, 3), dict(group=4, strides=[2, 1], pads=[1, 0, 0, 2]), False, 13),
        # wide rows: several vectors per row on the direct (plane-free) depthwise paths, batch 2
        ("conv_depthwise_s2_wide_batch2", (2, 5, 37, 41), (5, 1, 3, 3), dict(group=5, strides=[2, 2], pads=[1, 1, 1, 1]), True, 13),
        ("conv_depthwise_s2_k5_asym", (1, 4, 20, 35), (4, 1, 5, 5), dict(group=4, strides=[2, 2], pads=[2, 0, 1, 3]), True, 13),
        ("conv_depthwise_5x5_dil2_wide", (1, 3, 23, 38), (3, 1, 5, 5), dict(group=3, dilations=[2, 2], pads=[4, 3, 2, 5]), False, 13),
        # 3x3 stride 1 over tall rows: groups of output rows whose input rows are all inside
        # the image take the x86 path without a per-row mask select
        ("conv_depthwise_3x3_tall_wide", (1, 3, 19, 37), (3, 1, 3, 3), dict(group=3, pads=[1, 1, 1, 1]), True, 13),
        ("conv_2d_batch2", (2, 3, 6, 6), (4, 3, 3, 3), dict(pads=[1, 1, 1, 1]), True, 13),
        # two 64-channel blocks over 72 tiles of 7 pixels: on AVX-512 variant B runs every tile
        # through all 32 input channels (KwConvFP.bcc = Cg) instead of chunks of 8
        ("conv_2d_3x3_128ch_whole_chunk", (1, 32, 24, 21), (128, 32, 3, 3), dict(pads=[1, 1, 1, 1]), True, 13),
        ("conv_2d_kernel_gt_input_padded", (1, 2, 3, 3), (3, 2, 5, 5), dict(pads=[2, 2, 2, 2]), True, 13),
        ("conv_same_upper", (1, 3, 8, 8), (4, 3, 3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2]), True, 13),
        ("conv_same_lower", (1, 3, 8, 8), (4, 3, 3, 3), dict(auto_pad="SAME_LOWER", strides=[2, 2]), True, 13),
        ("conv_same_upper_k4", (1, 2, 7, 7), (3, 2, 4, 4), dict(auto_pad="SAME_UPPER"), True, 13),
        ("conv_same_lower_k4", (1, 2, 7, 7), (3, 2, 4, 4), dict(auto_pad="SAME_LOWER"), True, 13),
        ("conv_valid", (1, 3, 8, 7), (4, 3, 3, 3), dict(auto_pad="VALID", strides=[2, 2]), True, 13),
        ("conv_1d_same_upper", (1, 2, 10), (3, 2, 4), dict(auto_pad="SAME_UPPER", strides=[3]), True, 13),
        ("conv_3d_basic", (1, 2, 5, 6, 6), (3, 2, 3, 3, 3), dict(pads=[1, 1, 1, 1, 1, 1]), True, 13),
        ("conv_3d_s2_groups2", (1, 4, 5, 6, 7), (4, 2, 3, 3, 3), dict(group=2, strides=[2, 2, 2], pads=[1, 1, 1, 1, 1, 1]), False, 13),
        ("conv_3d_depthwise_dil", (1, 3, 6, 7, 7), (3, 1, 2, 3, 3), dict(group=3, dilations=[2, 1, 2], pads=[0, 1, 2, 1, 0, 2]), True, 13),
        ("conv_3d_same_upper", (1, 2, 5, 5, 5), (2, 2, 3, 3, 3), dict(auto_pad="SAME_UPPER", strides=[2, 2, 2]), True, 13),
        ("conv_op11", (1, 3, 7, 7), (4, 3, 3, 3), dict(pads=[1, 1, 1, 1], strides=[2, 2]), True, 11),
        ("conv_op21", (1, 3, 6, 6), (4, 3, 3, 3), dict(pads=[0, 1, 1, 0]), True, 21),
    ]
    for name, xs, ws, attrs, bias, opset in specs:
        r = R(name)
        x = randn(r, *xs)
        w = randn(r, *ws)
        ins = ["x", "w"]
        inits = [("w", w)]
        if bias:
            inits.append(("b", randn(r, ws[0])))
            ins.append("b")
        emit(name, RED, [node("Conv", ins, ["y"], name="conv0", **attrs)],
             [("x", x)], ["y"], inits, opset=opset,
             ref=lambda e, a=attrs: [ref_conv(e["x"], e["w"], e.get("b"), a)])

    # run-time weight (second graph input), run-time bias
    name = "conv_weight_input"
    r = R(name)
    emit(name, RED, [node("Conv", ["x", "w", "b"], ["y"], name="conv0", pads=[1, 1, 1, 1])],
         [("x", randn(r, 1, 3, 6, 6)), ("w", randn(r, 4, 3, 3, 3))], ["y"], [("b", randn(r, 4))],
         ref=lambda e: [ref_conv(e["x"], e["w"], e.get("b"), dict(pads=[1, 1, 1, 1]))])
    name = "conv_weight_input_nobias"
    r = R(name)
    emit(name, RED, [node("Conv", ["x", "w"], ["y"], name="conv0", group=2, strides=[2, 2])],
         [("x", randn(r, 1, 4, 7, 7)), ("w", randn(r, 4, 2, 3, 3))], ["y"],
         ref=lambda e: [ref_conv(e["x"], e["w"], e.get("b"), dict(group=2, strides=[2, 2]))])
    name = "conv_bias_input"
    r = R(name)
    emit(name, RED, [node("Conv", ["x", "w", "b"], ["y"], name="conv0", pads=[1, 1, 1, 1])],
         [("x", randn(r, 1, 3, 6, 6)), ("b", randn(r, 4))], ["y"], [("w", randn(r, 4, 3, 3, 3))],
         ref=lambda e: [ref_conv(e["x"], e["w"], e.get("b"), dict(pads=[1, 1, 1, 1]))])
    name = "conv_weight_bias_inputs"
    r = R(name)
    emit(name, RED, [node("Conv", ["x", "w", "b"], ["y"], name="conv0", group=3, pads=[1, 1, 1, 1])],
         [("x", randn(r, 1, 3, 5, 5)), ("w", randn(r, 3, 1, 3, 3)), ("b", randn(r, 3))], ["y"],
         ref=lambda e: [ref_conv(e["x"], e["w"], e.get("b"), dict(group=3, pads=[1, 1, 1, 1]))])


# ----------------------------------------------------------------------------
# BatchNormalization

def gen_batchnorm():
    specs = [
        ("batchnorm_rank2", (3, 5), 13, {}),
        ("batchnorm_rank3", (2, 4, 6), 13, {}),
        ("batchnorm_rank4", (1, 4, 5, 5), 13, {}),
        ("batchnorm_rank5", (1, 3, 2, 3, 4), 13, {}),
        ("batchnorm_eps_op11", (1, 4, 5, 5), 11, dict(epsilon=1e-2, momentum=0.8)),
        ("batchnorm_op14_training0", (1, 4, 5, 5), 14, dict(training_mode=0)),
        ("batchnorm_op15_training0", (1, 3, 4, 4), 15, dict(training_mode=0, epsilon=1e-3)),
        ("batchnorm_op15_rank2", (4, 6), 15, dict(momentum=0.5)),
        ("batchnorm_op15_rank3", (2, 3, 7), 15, {}),
    ]
    for name, xs, opset, attrs in specs:
        r = R(name)
        c = xs[1]
        x = randn(r, *xs)
        scale = r.uniform(0.5, 1.5, c).astype(np.float32) * np.where(r.random(c) < 0.2, -1, 1).astype(np.float32)
        bias = randn(r, c)
        mean = randn(r, c)
        var = r.uniform(0.2, 3.0, c).astype(np.float32)
        emit(name, EXACT, [node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"],
                                name="bn0", **attrs)],
             [("x", x)], ["y"], [("scale", scale), ("bias", bias), ("mean", mean), ("var", var)],
             opset=opset)


# ----------------------------------------------------------------------------
# elementwise unary

def gen_unary():
    specs = [
        ("relu_rank4", "Relu", lambda r: randn(r, 1, 3, 4, 5), 13, EXACT),
        ("relu_rank1", "Relu", lambda r: randn(r, 17), 13, EXACT),
        ("relu_op11", "Relu", lambda r: randn(r, 2, 3, 4), 11, EXACT),
        ("relu_op14", "Relu", lambda r: randn(r, 2, 3, 4), 14, EXACT),
        ("sqrt_basic", "Sqrt", lambda r: randpos(r, 2, 3, 4, lo=0.0, hi=5.0), 13, EXACT),
        ("sqrt_small_large", "Sqrt", lambda r: np.exp(r.uniform(-8, 8, (3, 7))).astype(np.float32), 13, EXACT),
        ("erf_basic", "Erf", lambda r: randn(r, 2, 3, 4), 13, RED),
        ("erf_wide", "Erf", lambda r: (4 * randn(r, 5, 8)), 13, RED),
        ("abs_basic", "Abs", lambda r: randn(r, 2, 3, 4), 13, EXACT),
        ("abs_rank1", "Abs", lambda r: randn(r, 9), 13, EXACT),
        ("neg_basic", "Neg", lambda r: randn(r, 2, 3, 4), 13, EXACT),
        ("neg_rank5", "Neg", lambda r: randn(r, 1, 2, 2, 3, 2), 13, EXACT),
        ("sigmoid_basic", "Sigmoid", lambda r: randn(r, 2, 3, 4), 13, EXACT),
        ("sigmoid_wide", "Sigmoid", lambda r: (8 * randn(r, 4, 9)), 13, EXACT),
        ("sigmoid_op11", "Sigmoid", lambda r: randn(r, 1, 4, 3, 3), 11, EXACT),
    ]
    for name, op, mk, opset, tol in specs:
        r = R(name)
        fn = {"Relu": lambda v: np.maximum(v, 0), "Sqrt": np.sqrt, "Erf": _erf, "Abs": np.abs, "Neg": np.negative,
              "Sigmoid": lambda v: 1 / (1 + np.exp(-v))}[op]
        emit(name, tol, [node(op, ["x"], ["y"], name=op.lower() + "0")], [("x", mk(r))], ["y"], opset=opset,
             ref=lambda e, fn=fn: [fn(e["x"])])


# ----------------------------------------------------------------------------
# Clip

def gen_clip():
    for opset in (11, 13):
        sfx = "_op%d" % opset
        name = "clip_minmax" + sfx
        r = R(name)
        emit(name, EXACT, [node("Clip", ["x", "lo", "hi"], ["y"], name="clip0")],
             [("x", randn(r, 2, 3, 4))], ["y"], [("lo", f32(-0.5).reshape(())), ("hi", f32(0.7).reshape(()))],
             opset=opset, ref=lambda e: [np.clip(e["x"], -0.5, 0.7)])
        name = "clip_max_only" + sfx
        r = R(name)
        emit(name, EXACT, [node("Clip", ["x", "", "hi"], ["y"], name="clip0")],
             [("x", randn(r, 2, 3, 4))], ["y"], [("hi", f32(0.3).reshape(()))], opset=opset,
             ref=lambda e: [np.minimum(e["x"], 0.3)],
             comment="min given as the empty input name \"\"")
        name = "clip_min_only" + sfx
        r = R(name)
        emit(name, EXACT, [node("Clip", ["x", "lo"], ["y"], name="clip0")],
             [("x", randn(r, 2, 3, 4))], ["y"], [("lo", f32(-0.2).reshape(()))], opset=opset,
             ref=lambda e: [np.maximum(e["x"], -0.2)])
        name = "clip_none" + sfx
        r = R(name)
        emit(name, EXACT, [node("Clip", ["x"], ["y"], name="clip0")],
             [("x", randn(r, 2, 3, 4))], ["y"], opset=opset, ref=lambda e: [e["x"]])
    name = "clip_relu6_const_nodes_op11"  # what torch exports for ReLU6
    r = R(name)
    emit(name, EXACT, [const_node("lo", f32(0.0).reshape(()), name="const_min"),
                       const_node("hi", f32(6.0).reshape(()), name="const_max"),
                       node("Clip", ["x", "lo", "hi"], ["y"], name="clip0")],
         [("x", 5 * randn(r, 1, 4, 3, 3))], ["y"], opset=11, ref=lambda e: [np.clip(e["x"], 0, 6)])
    name = "clip_relu6_op13"
    r = R(name)
    emit(name, EXACT, [node("Clip", ["x", "lo", "hi"], ["y"], name="clip0")],
         [("x", 5 * randn(r, 1, 4, 3, 3))], ["y"], [("lo", f32(0.0).reshape(())), ("hi", f32(6.0).reshape(()))])


# ----------------------------------------------------------------------------
# binary elementwise with broadcasting

def gen_binary():
    # variant -> (a shape, b shape, a is graph input?, b is graph input?)
    variants = [
        ("same", (2, 3, 4), (2, 3, 4), True, True),
        ("scalar", (2, 3, 4), (), True, False),
        ("scalar_lhs", (), (2, 3, 4), False, True),
        ("trailing", (2, 3, 4), (4,), True, False),
        ("middle1", (2, 3, 4), (2, 1, 4), True, False),
        ("channel", (1, 4, 3, 3), (4, 1, 1), True, False),
        ("both_bcast", (2, 1, 4), (1, 3, 1), True, True),
        ("rankdiff", (3, 1, 5), (2, 3, 4, 5), True, True),
        ("size1_vs_n", (1,), (6,), True, True),
    ]
    for op in ("Add", "Sub", "Mul", "Div"):
        for v, sa, sb, ia, ib in variants:
            name = "%s_%s" % (op.lower(), v)
            r = R(name)
            a = randn(r, *sa)
            b = away0(r, *sb) if op == "Div" else randn(r, *sb)
            ins, inits = [], []
            (ins if ia else inits).append(("a", a))
            (ins if ib else inits).append(("b", b))
            emit(name, EXACT, [node(op, ["a", "b"], ["y"], name=op.lower() + "0")], ins, ["y"], inits)
    for op, opset in (("Add", 11), ("Add", 14), ("Add", 21), ("Mul", 21), ("Div", 11), ("Sub", 21)):
        name = "%s_op%d" % (op.lower(), opset)
        r = R(name)
        a = randn(r, 1, 3, 4)
        b = away0(r, 3, 1)
        emit(name, EXACT, [node(op, ["a", "b"], ["y"], name=op.lower() + "0")],
             [("a", a), ("b", b)], ["y"], opset=opset)
    # x + x: the same tensor on both sides
    name = "add_same_input_twice"
    r = R(name)
    emit(name, EXACT, [node("Add", ["a", "a"], ["y"], name="add0")], [("a", randn(r, 2, 5))], ["y"])

    # Pow
    pspecs = [
        # name, base, exponent, base input?, exponent input?
        ("pow_exp2", lambda r: randn(r, 2, 3, 4), lambda r: f32(2.0).reshape(()), True, False),
        ("pow_exp05", lambda r: randpos(r, 2, 3, 4, lo=0.0, hi=4.0), lambda r: f32(0.5).reshape(()), True, False),
        ("pow_exp3", lambda r: randn(r, 2, 3, 4), lambda r: f32(3.0).reshape(()), True, False),
        ("pow_exp2_1elem", lambda r: randn(r, 1, 4, 3), lambda r: f32(2.0), True, False),
        ("pow_tensor_inputs", lambda r: randpos(r, 2, 3, 4), lambda r: r.uniform(-2, 2, (2, 3, 4)).astype(np.float32), True, True),
        ("pow_trailing", lambda r: randpos(r, 2, 3, 4), lambda r: f32(2.0, 0.5, 3.0, 1.5), True, False),
        ("pow_middle1", lambda r: randpos(r, 2, 3, 4), lambda r: r.uniform(-1.5, 2.5, (2, 1, 4)).astype(np.float32), True, False),
        ("pow_both_bcast", lambda r: randpos(r, 2, 1, 4), lambda r: r.uniform(-1.5, 2.5, (1, 3, 1)).astype(np.float32), True, True),
        ("pow_rankdiff", lambda r: randpos(r, 2, 3, 4, 5), lambda r: r.uniform(-1, 3, (3, 1, 5)).astype(np.float32), True, False),
        ("pow_scalar_base", lambda r: f32(2.0).reshape(()), lambda r: randn(r, 3, 4), False, True),
        ("pow_int_exp_neg_base", lambda r: randn(r, 4, 5), lambda r: f32(2.0, 3.0, 1.0, 2.0, 3.0), True, False),
    ]
    for name, mb, me, ib, ie in pspecs:
        r = R(name)
        b, e = mb(r), me(r)
        ins, inits = [], []
        (ins if ib else inits).append(("x", b))
        (ins if ie else inits).append(("e", e))
        emit(name, RED, [node("Pow", ["x", "e"], ["y"], name="pow0")], ins, ["y"], inits)
    for opset in (11, 15):
        name = "pow_exp2_op%d" % opset
        r = R(name)
        emit(name, RED, [node("Pow", ["x", "e"], ["y"], name="pow0")],
             [("x", randn(r, 3, 4))], ["y"], [("e", f32(2.0).reshape(()))], opset=opset)


# ----------------------------------------------------------------------------
# pooling

def gen_pool():
    mp = [
        ("maxpool_1d_k3s2", (1, 3, 15), dict(kernel_shape=[3], strides=[2]), 13),
        ("maxpool_1d_pads_ceil", (1, 2, 10), dict(kernel_shape=[3], strides=[2], pads=[1, 0], ceil_mode=1), 13),
        ("maxpool_2d_k2s2", (1, 3, 8, 8), dict(kernel_shape=[2, 2], strides=[2, 2]), 13),
        ("maxpool_2d_k3s2p1", (1, 3, 9, 9), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), 13),
        ("maxpool_2d_k3s1_default_strides", (1, 2, 6, 7), dict(kernel_shape=[3, 3]), 13),
        ("maxpool_2d_ceil", (1, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1), 13),
        ("maxpool_2d_ceil_pads", (1, 2, 8, 8), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1), 13),
        ("maxpool_2d_asym_pads", (1, 2, 6, 7), dict(kernel_shape=[3, 2], strides=[1, 2], pads=[0, 1, 2, 0]), 13),
        ("maxpool_2d_dilations", (1, 2, 9, 9), dict(kernel_shape=[2, 2], dilations=[2, 2], strides=[1, 1]), 13),
        ("maxpool_2d_dil_pads_ceil", (1, 2, 10, 9), dict(kernel_shape=[3, 2], dilations=[2, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1), 13),
        ("maxpool_2d_rect", (1, 2, 8, 9), dict(kernel_shape=[2, 3], strides=[1, 2]), 13),
        ("maxpool_2d_same_upper", (1, 2, 8, 8), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"), 13),
        ("maxpool_2d_same_upper_k2", (1, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_UPPER"), 13),
        ("maxpool_2d_same_lower", (1, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_LOWER"), 13),
        ("maxpool_2d_valid", (1, 2, 7, 7), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID"), 13),
        ("maxpool_2d_batch2", (2, 3, 6, 6), dict(kernel_shape=[2, 2], strides=[2, 2]), 13),
        ("maxpool_3d_k2s2", (1, 2, 4, 6, 6), dict(kernel_shape=[2, 2, 2], strides=[2, 2, 2]), 13),
        ("maxpool_3d_k3p1", (1, 2, 5, 5, 6), dict(kernel_shape=[3, 3, 3], strides=[2, 2, 2], pads=[1, 1, 1, 1, 1, 1]), 13),
        ("maxpool_3d_ceil_dil", (1, 1, 7, 6, 7), dict(kernel_shape=[2, 2, 2], strides=[2, 2, 2], dilations=[1, 2, 1], ceil_mode=1), 13),
        ("maxpool_op11", (1, 3, 9, 9), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), 11),
        ("maxpool_op21", (1, 2, 6, 6), dict(kernel_shape=[2, 2], strides=[2, 2]), 21),
        # wide rows: several vectors and a partial one per row on the plane-free x86 paths
        ("maxpool_2d_k3s1_wide_pads", (1, 2, 13, 37), dict(kernel_shape=[3, 5], pads=[1, 2, 1, 2]), 13),
        ("maxpool_2d_k2s2_dil_ceil_wide", (1, 2, 12, 50), dict(kernel_shape=[2, 2], strides=[2, 2], dilations=[2, 2], ceil_mode=1), 13),
    ]
    for name, xs, attrs, opset in mp:
        r = R(name)
        emit(name, EXACT, [node("MaxPool", ["x"], ["y"], name="maxpool0", **attrs)],
             [("x", randn(r, *xs))], ["y"], opset=opset, ref=lambda e, a=attrs: [ref_pool(e["x"], "max", a)])
    # all-negative input: padding must behave as -inf, not 0. The second is the ResNet stem's
    # pooling on rows of 45 (23 outputs: a vector and a partial one on AVX-512, three on AVX2),
    # where every border window holds padding
    neg = [
        ("maxpool_2d_pads_negative_input", (1, 2, 6, 6), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
        ("maxpool_2d_k3s2p1_wide_negative_input", (1, 3, 41, 45),
         dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
        ("maxpool_2d_same_upper_negative_input", (1, 2, 6, 6),
         dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")),
    ]
    for name, xs, attrs in neg:
        r = R(name)
        x = -np.abs(randn(r, *xs)) - 0.1
        emit(name, EXACT, [node("MaxPool", ["x"], ["y"], name="maxpool0", **attrs)], [("x", x.astype(np.float32))],
             ["y"], ref=lambda e, a=attrs: [ref_pool(e["x"], "max", a)])

    ap = [
        ("avgpool_1d_k3s2", (1, 3, 15), dict(kernel_shape=[3], strides=[2]), 13),
        ("avgpool_1d_pads_exclude", (1, 2, 10), dict(kernel_shape=[3], strides=[2], pads=[1, 1]), 13),
        ("avgpool_2d_k2s2", (1, 3, 8, 8), dict(kernel_shape=[2, 2], strides=[2, 2]), 13),
        ("avgpool_2d_pads_exclude", (1, 2, 7, 7), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0), 13),
        ("avgpool_2d_pads_include", (1, 2, 7, 7), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1), 13),
        ("avgpool_2d_asym_pads_exclude", (1, 2, 6, 7), dict(kernel_shape=[3, 2], strides=[1, 2], pads=[0, 1, 2, 0]), 13),
        ("avgpool_2d_asym_pads_include", (1, 2, 6, 7), dict(kernel_shape=[3, 2], strides=[1, 2], pads=[0, 1, 2, 0], count_include_pad=1), 13),
        ("avgpool_2d_ceil", (1, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1), 13),
        ("avgpool_2d_ceil_pads_exclude", (1, 2, 8, 8), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1), 13),
        ("avgpool_2d_same_upper_exclude", (1, 2, 8, 8), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"), 13),
        ("avgpool_2d_same_upper_include", (1, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_UPPER", count_include_pad=1), 13),
        ("avgpool_2d_same_lower_exclude", (1, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[1, 1], auto_pad="SAME_LOWER"), 13),
        ("avgpool_2d_valid", (1, 2, 7, 7), dict(kernel_shape=[3, 3], strides=[2, 2], auto_pad="VALID"), 13),
        ("avgpool_3d_k2s2", (1, 2, 4, 6, 6), dict(kernel_shape=[2, 2, 2], strides=[2, 2, 2]), 13),
        ("avgpool_3d_pads_include", (1, 2, 5, 5, 4), dict(kernel_shape=[3, 3, 3], strides=[2, 2, 2], pads=[1, 1, 1, 1, 1, 1], count_include_pad=1), 13),
        ("avgpool_op11", (1, 3, 9, 9), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), 11),
        ("avgpool_op19_dilations", (1, 2, 9, 9), dict(kernel_shape=[2, 2], strides=[1, 1], dilations=[2, 2]), 19),
    ]
    for name, xs, attrs, opset in ap:
        r = R(name)
        emit(name, RED, [node("AveragePool", ["x"], ["y"], name="avgpool0", **attrs)],
             [("x", randn(r, *xs))], ["y"], opset=opset, ref=lambda e, a=attrs: [ref_pool(e["x"], "avg", a)])

    for name, xs in (("globalavgpool_rank3", (1, 4, 10)), ("globalavgpool_rank4", (1, 4, 5, 6)),
                     ("globalavgpool_rank5", (1, 3, 3, 4, 5)), ("globalavgpool_batch2", (2, 3, 4, 4))):
        r = R(name)
        emit(name, RED, [node("GlobalAveragePool", ["x"], ["y"], name="gap0")],
             [("x", randn(r, *xs))], ["y"],
             ref=lambda e: [e["x"].mean(axis=tuple(range(2, e["x"].ndim)), keepdims=True)])


# ----------------------------------------------------------------------------
# ReduceMean / ReduceSum

def gen_reduce():
    x4 = (2, 3, 4, 5)
    # name, op, opset, attrs, axes-as-input (None = no input), x shape
    specs = [
        ("reducemean_axes_op11", "ReduceMean", 11, dict(axes=[2, 3]), None, x4),
        ("reducemean_axes_keep0_op11", "ReduceMean", 11, dict(axes=[1], keepdims=0), None, x4),
        ("reducemean_negaxes_op11", "ReduceMean", 11, dict(axes=[-1, -3]), None, x4),
        ("reducemean_all_op11", "ReduceMean", 11, dict(), None, (3, 4, 5)),
        ("reducemean_axes_op13", "ReduceMean", 13, dict(axes=[2, 3]), None, x4),
        ("reducemean_axes_keep0_op13", "ReduceMean", 13, dict(axes=[-2, -1], keepdims=0), None, x4),
        ("reducemean_all_keep0_op13", "ReduceMean", 13, dict(keepdims=0), None, (3, 4, 5)),
        ("reducemean_axes_input_op18", "ReduceMean", 18, dict(), i64(1), x4),
        ("reducemean_negaxes_input_keep0_op18", "ReduceMean", 18, dict(keepdims=0), i64(-1, 0), x4),
        ("reducemean_noaxes_op18", "ReduceMean", 18, dict(), None, (3, 4, 5)),
        ("reducemean_noop_empty_axes_op18", "ReduceMean", 18, dict(noop_with_empty_axes=1), None, (3, 4, 5)),
        ("reducesum_axes_op11", "ReduceSum", 11, dict(axes=[1]), None, x4),
        ("reducesum_negaxes_keep0_op11", "ReduceSum", 11, dict(axes=[-1], keepdims=0), None, x4),
        ("reducesum_all_op11", "ReduceSum", 11, dict(keepdims=0), None, (3, 4, 5)),
        ("reducesum_axes_input_op13", "ReduceSum", 13, dict(), i64(2, 3), x4),
        ("reducesum_negaxes_input_keep0_op13", "ReduceSum", 13, dict(keepdims=0), i64(-3), x4),
        ("reducesum_middle_axis_op13", "ReduceSum", 13, dict(), i64(1), (3, 7, 4)),
        ("reducesum_noaxes_op13", "ReduceSum", 13, dict(), None, (3, 4, 5)),
        ("reducesum_noaxes_keep0_op13", "ReduceSum", 13, dict(keepdims=0), None, (3, 4, 5)),
        ("reducesum_noop_empty_axes_op13", "ReduceSum", 13, dict(noop_with_empty_axes=1), None, (3, 4, 5)),
        ("reducesum_all_axes_listed_op13", "ReduceSum", 13, dict(), i64(0, 1, 2), (3, 4, 5)),
        ("reducesum_axes_input_op21", "ReduceSum", 21, dict(), i64(0, 2), (3, 4, 5)),
    ]
    for name, op, opset, attrs, axes, xs in specs:
        r = R(name)
        ins = ["x"]
        inits = []
        if axes is not None:
            ins.append("axes")
            inits.append(("axes", axes))
        emit(name, RED, [node(op, ins, ["y"], name=op.lower() + "0", **attrs)],
             [("x", randn(r, *xs))], ["y"], inits, opset=opset)
    # reduce-all with axes given as an empty input tensor (noop_with_empty_axes=0)
    name = "reducesum_empty_axes_input_op13"
    r = R(name)
    emit(name, RED, [node("ReduceSum", ["x", "axes"], ["y"], name="reducesum0")],
         [("x", randn(r, 3, 4))], ["y"], [("axes", np.zeros((0,), np.int64))])


# ----------------------------------------------------------------------------
# Gemm / MatMul

def gen_gemm():
    M, K, N = 3, 5, 4
    specs = [
        # name, transA, transB, alpha, beta, C shape or None, opset
        ("gemm_basic", 0, 0, None, None, (N,), 13),
        ("gemm_transa", 1, 0, None, None, (N,), 13),
        ("gemm_transb", 0, 1, None, None, (N,), 13),
        ("gemm_transab", 1, 1, None, None, (M, N), 13),
        ("gemm_alpha_beta", 0, 1, 0.5, 2.0, (N,), 13),
        ("gemm_beta0", 0, 0, 1.5, 0.0, (M, N), 13),
        ("gemm_c_1n", 0, 0, None, None, (1, N), 13),
        ("gemm_c_m1", 0, 0, None, None, (M, 1), 13),
        ("gemm_c_mn", 1, 0, 2.0, 0.5, (M, N), 13),
        ("gemm_c_scalar", 0, 0, None, 3.0, (), 13),
        ("gemm_c_1elem", 0, 1, None, None, (1,), 13),
        ("gemm_noc_op13", 0, 1, 0.7, None, None, 13),
        ("gemm_noc_op11", 1, 0, None, None, None, 11),
        ("gemm_op11", 0, 1, None, None, (N,), 11),
        ("gemm_op21", 0, 1, None, None, (N,), 21),
    ]
    for name, ta, tb, alpha, beta, cs, opset in specs:
        r = R(name)
        a = randn(r, *((K, M) if ta else (M, K)))
        b = randn(r, *((N, K) if tb else (K, N)))
        attrs = {}
        if ta:
            attrs["transA"] = 1
        if tb:
            attrs["transB"] = 1
        if alpha is not None:
            attrs["alpha"] = alpha
        if beta is not None:
            attrs["beta"] = beta
        inits = [("b", b)]
        ins = ["a", "b"]
        if cs is not None:
            inits.append(("c", randn(r, *cs)))
            ins.append("c")
        emit(name, RED, [node("Gemm", ins, ["y"], name="gemm0", **attrs)], [("a", a)], ["y"], inits, opset=opset)
    # classifier-like: [1,K] x W^T + b, K=32
    name = "gemm_linear_1x32"
    r = R(name)
    emit(name, RED, [node("Gemm", ["a", "w", "c"], ["y"], name="fc0", transB=1)],
         [("a", randn(r, 1, 32))], ["y"], [("w", randn(r, 10, 32)), ("c", randn(r, 10))])
    # B and C as graph inputs
    name = "gemm_all_inputs"
    r = R(name)
    emit(name, RED, [node("Gemm", ["a", "b", "c"], ["y"], name="gemm0", transB=1, alpha=0.5)],
         [("a", randn(r, M, K)), ("b", randn(r, N, K)), ("c", randn(r, 1, N))], ["y"])


def gen_matmul():
    specs = [
        ("matmul_2d", (3, 5), (5, 4), True),
        ("matmul_2d_weight_init", (3, 16), (16, 6), False),
        ("matmul_3d", (2, 3, 5), (2, 5, 4), True),
        ("matmul_4d", (2, 3, 2, 4), (2, 3, 4, 3), True),
        ("matmul_bcast_batch", (2, 1, 3, 5), (3, 5, 4), True),
        ("matmul_bcast_rhs_2d", (2, 3, 5), (5, 4), False),
        ("matmul_bcast_lhs_2d", (3, 5), (2, 5, 4), True),
        ("matmul_bcast_4d_rhs_2d", (1, 4, 4, 8), (8, 6), False),
        ("matmul_bcast_both", (2, 1, 3, 4), (1, 3, 4, 2), True),
        ("matmul_1d_2d", (5,), (5, 4), True),
        ("matmul_2d_1d", (3, 5), (5,), True),
        ("matmul_1d_1d", (5,), (5,), True),
        ("matmul_1d_3d", (5,), (2, 5, 4), True),
        ("matmul_3d_1d", (2, 3, 5), (5,), True),
    ]
    for name, sa, sb, b_input in specs:
        r = R(name)
        a, b = randn(r, *sa), randn(r, *sb)
        ins = [("a", a)] + ([("b", b)] if b_input else [])
        inits = [] if b_input else [("b", b)]
        emit(name, RED, [node("MatMul", ["a", "b"], ["y"], name="matmul0")], ins, ["y"], inits)
    name = "matmul_op11"
    r = R(name)
    emit(name, RED, [node("MatMul", ["a", "b"], ["y"], name="matmul0")],
         [("a", randn(r, 2, 3, 4)), ("b", randn(r, 4, 2))], ["y"], opset=11)


# ----------------------------------------------------------------------------
# shape manipulation

def gen_flatten_reshape():
    for name, xs, axis, opset in [
        ("flatten_axis0", (2, 3, 4), 0, 13),
        ("flatten_axis1_default", (2, 3, 2, 2), None, 13),
        ("flatten_axis2", (2, 3, 2, 2), 2, 13),
        ("flatten_axis_rank", (2, 3, 2, 2), 4, 13),
        ("flatten_axis_neg1", (2, 3, 2, 2), -1, 13),
        ("flatten_axis_neg3", (2, 3, 2, 2), -3, 13),
        ("flatten_op11", (1, 4, 3, 3), 1, 11),
        ("flatten_op21", (1, 4, 3, 3), 1, 21),
    ]:
        r = R(name)
        attrs = {} if axis is None else dict(axis=axis)
        emit(name, EXACT, [node("Flatten", ["x"], ["y"], name="flatten0", **attrs)],
             [("x", randn(r, *xs))], ["y"], opset=opset)

    for name, xs, shape, attrs, opset in [
        ("reshape_basic", (2, 3, 4), (6, 4), {}, 13),
        ("reshape_zero_copy", (2, 3, 4), (0, -1), {}, 13),
        ("reshape_neg1_infer", (2, 3, 4), (-1, 2), {}, 13),
        ("reshape_zero_middle", (2, 3, 4), (0, 0, 2, 2), {}, 13),
        ("reshape_to_1d", (2, 3, 4), (-1,), {}, 13),
        ("reshape_add_unit_dims", (3, 4), (1, 3, 1, 4, 1), {}, 13),
        ("reshape_allowzero0_op14", (2, 3, 4), (0, -1, 2), dict(allowzero=0), 14),
        ("reshape_op11", (2, 3, 4), (0, 4, -1), {}, 11),
        ("reshape_op21", (2, 3, 4), (4, 0, -1), {}, 21),
    ]:
        r = R(name)
        emit(name, EXACT, [node("Reshape", ["x", "shape"], ["y"], name="reshape0", **attrs)],
             [("x", randn(r, *xs))], ["y"], [("shape", np.array(shape, np.int64))], opset=opset)
    name = "reshape_shape_from_constant"
    r = R(name)
    emit(name, EXACT, [const_node("shape", i64(4, -1), name="shape_const"),
                       node("Reshape", ["x", "shape"], ["y"], name="reshape0")],
         [("x", randn(r, 1, 2, 3, 4))], ["y"])


def gen_transpose():
    # default perm (reverse) for ranks 2..8, small element counts
    dflt = {2: (3, 5), 3: (2, 3, 4), 4: (2, 3, 2, 4), 5: (2, 1, 3, 2, 3), 6: (2, 3, 1, 2, 2, 3),
            7: (2, 1, 2, 3, 2, 1, 3), 8: (2, 3, 1, 2, 2, 1, 3, 2)}
    for rank, xs in sorted(dflt.items()):
        name = "transpose_default_r%d" % rank
        r = R(name)
        emit(name, EXACT, [node("Transpose", ["x"], ["y"], name="transpose0")], [("x", randn(r, *xs))], ["y"])
    for name, xs, perm, opset in [
        ("transpose_r2_perm10", (4, 6), [1, 0], 13),
        ("transpose_r3_perm102", (2, 3, 4), [1, 0, 2], 13),
        ("transpose_r3_identity", (2, 3, 4), [0, 1, 2], 13),
        ("transpose_r4_nchw_to_nhwc", (1, 3, 4, 5), [0, 2, 3, 1], 13),
        ("transpose_r4_nhwc_to_nchw", (1, 4, 5, 3), [0, 3, 1, 2], 13),
        ("transpose_r4_perm2031", (2, 3, 4, 5), [2, 0, 3, 1], 13),
        ("transpose_r5_perm", (2, 3, 2, 3, 2), [4, 2, 0, 3, 1], 13),
        ("transpose_r6_perm", (2, 3, 2, 1, 3, 2), [0, 5, 1, 4, 2, 3], 13),
        ("transpose_r8_perm02435167", (2, 3, 2, 2, 3, 2, 1, 2), [0, 2, 4, 3, 5, 1, 6, 7], 13),
        ("transpose_op11", (2, 3, 4), [2, 0, 1], 11),
        ("transpose_op21", (2, 3, 4), [1, 2, 0], 21),
    ]:
        r = R(name)
        emit(name, EXACT, [node("Transpose", ["x"], ["y"], name="transpose0", perm=perm)],
             [("x", randn(r, *xs))], ["y"], opset=opset)


def gen_concat():
    for name, shapes, axis, opset in [
        ("concat_axis0", [(2, 3), (4, 3)], 0, 13),
        ("concat_axis1_three", [(1, 2, 3, 3), (1, 3, 3, 3), (1, 1, 3, 3)], 1, 13),
        ("concat_axis_neg1", [(2, 3, 2), (2, 3, 5)], -1, 13),
        ("concat_axis_last_r4", [(1, 2, 3, 2), (1, 2, 3, 3)], 3, 13),
        ("concat_neg_axis_op11", [(2, 3, 2), (2, 1, 2), (2, 2, 2)], -2, 11),
        ("concat_rank1", [(3,), (5,)], 0, 13),
        ("concat_single_input", [(2, 3)], 1, 13),
        ("concat_op21", [(1, 2, 2), (1, 2, 3)], 2, 21),
    ]:
        r = R(name)
        ins = [("x%d" % i, randn(r, *s)) for i, s in enumerate(shapes)]
        emit(name, EXACT, [node("Concat", [n for n, _ in ins], ["y"], name="concat0", axis=axis)],
             ins, ["y"], opset=opset)
    name = "concat_zero_len_input"
    r = R(name)
    ins = [("x0", randn(r, 2, 3, 4)), ("x1", np.zeros((2, 0, 4), np.float32)), ("x2", randn(r, 2, 1, 4))]
    emit(name, EXACT, [node("Concat", ["x0", "x1", "x2"], ["y"], name="concat0", axis=1)], ins, ["y"],
         comment="input_1.bin is empty (shape [2,0,4])")
    name = "concat_zero_len_init"
    r = R(name)
    emit(name, EXACT, [node("Concat", ["x0", "z", "x1"], ["y"], name="concat0", axis=1)],
         [("x0", randn(r, 2, 3, 4)), ("x1", randn(r, 2, 2, 4))], ["y"], [("z", np.zeros((2, 0, 4), np.float32))])
    name = "concat_with_initializer"
    r = R(name)
    emit(name, EXACT, [node("Concat", ["x", "c"], ["y"], name="concat0", axis=1)],
         [("x", randn(r, 1, 2, 3))], ["y"], [("c", randn(r, 1, 3, 3))])


def gen_slice():
    x2 = (5, 6)
    specs = [
        # name, x shape, starts, ends, axes (None: omitted), steps (None: omitted), opset
        ("slice_basic", x2, [1, 0], [3, 2], [0, 1], None, 13),
        ("slice_neg_starts_ends", x2, [-3], [-1], [1], None, 13),
        ("slice_neg_int64max", x2, [-2], [INT64_MAX], [1], None, 13),
        ("slice_ends_beyond", x2, [2], [100], [0], None, 13),
        ("slice_starts_below", x2, [-100], [3], [1], None, 13),
        ("slice_steps2", x2, [0, 1], [INT64_MAX, 6], [0, 1], [2, 2], 13),
        ("slice_steps3_ends_beyond", (11, 3), [1], [1000], [0], [3], 13),
        ("slice_neg_step_reverse", x2, [-1], [-INT64_MAX], [1], [-1], 13),
        ("slice_neg_step_int64min", x2, [INT64_MAX], [INT64_MIN], [0], [-1], 13),
        ("slice_neg_step2", x2, [4], [0], [1], [-2], 13),
        ("slice_neg_step3_clamped", (9, 4), [100], [-100], [0], [-3], 13),
        ("slice_axes_omitted", (4, 5, 6), [1, 0, 2], [3, 4, 5], None, None, 13),
        ("slice_neg_axes", (4, 5, 6), [1, 2], [-1, 4], [-1, -2], None, 13),
        ("slice_unsorted_axes", (4, 5, 6), [1, 1, 0], [5, 3, 3], [2, 0, 1], None, 13),
        ("slice_channels_r4", (1, 8, 3, 3), [2], [6], [1], None, 13),
        ("slice_op11", (4, 5, 6), [0, -3], [2, INT64_MAX], [0, 2], [1, 1], 11),
        ("slice_op21", (4, 5, 6), [3], [0], [0], [-1], 21),
    ]
    for name, xs, starts, ends, axes, steps, opset in specs:
        r = R(name)
        ins = ["x", "starts", "ends"]
        inits = [("starts", np.array(starts, np.int64)), ("ends", np.array(ends, np.int64))]
        if axes is not None:
            ins.append("axes")
            inits.append(("axes", np.array(axes, np.int64)))
        if steps is not None:
            ins.append("steps")
            inits.append(("steps", np.array(steps, np.int64)))
        emit(name, EXACT, [node("Slice", ins, ["y"], name="slice0")], [("x", randn(r, *xs))], ["y"], inits,
             opset=opset)
    # axes omitted via the empty name "", steps given
    name = "slice_axes_empty_steps"
    r = R(name)
    emit(name, EXACT, [node("Slice", ["x", "starts", "ends", "", "steps"], ["y"], name="slice0")],
         [("x", randn(r, 5, 6))], ["y"],
         [("starts", i64(0, -1)), ("ends", i64(5, -7)), ("steps", i64(2, -2))])
    # int32 starts/ends (allowed by the spec: Tind = int32|int64)
    name = "slice_int32_indices"
    r = R(name)
    emit(name, EXACT, [node("Slice", ["x", "starts", "ends", "axes"], ["y"], name="slice0")],
         [("x", randn(r, 4, 6))], ["y"],
         [("starts", np.array([1], np.int32)), ("ends", np.array([-1], np.int32)), ("axes", np.array([1], np.int32))])


def gen_split():
    def outs(k):
        return ["y%d" % i for i in range(k)]
    # split sizes as input (opset 13 / 18)
    for name, xs, split, axis, opset in [
        ("split_sizes_input_op13", (2, 6, 3), [2, 3, 1], 1, 13),
        ("split_sizes_input_negaxis_op13", (2, 3, 7), [4, 3], -1, 13),
        ("split_sizes_input_op18", (5, 4), [1, 4], 0, 18),
    ]:
        r = R(name)
        emit(name, EXACT, [node("Split", ["x", "split"], outs(len(split)), name="split0", axis=axis)],
             [("x", randn(r, *xs))], outs(len(split)), [("split", np.array(split, np.int64))], opset=opset)
    # split sizes as attribute (opset 11)
    for name, xs, split, axis in [("split_attr_op11", (6, 3), [2, 4], 0),
                                  ("split_attr_three_op11", (1, 7, 2, 2), [1, 4, 2], 1)]:
        r = R(name)
        emit(name, EXACT, [node("Split", ["x"], outs(len(split)), name="split0", axis=axis, split=split)],
             [("x", randn(r, *xs))], outs(len(split)), opset=11)
    # equal split, no split given
    for name, xs, k, axis, opset in [
        ("split_equal_op11", (2, 6, 2), 3, 1, 11),
        ("split_equal_default_axis_op13", (4, 3), 2, None, 13),
        ("split_equal_negaxis_op13", (2, 3, 8), 4, -1, 13),
    ]:
        r = R(name)
        attrs = {} if axis is None else dict(axis=axis)
        emit(name, EXACT, [node("Split", ["x"], outs(k), name="split0", **attrs)],
             [("x", randn(r, *xs))], outs(k), opset=opset)
    # num_outputs (opset 18), including an uneven last chunk
    for name, xs, k, axis in [("split_num_outputs_even_op18", (2, 6, 2), 3, 1),
                              ("split_num_outputs_uneven_op18", (2, 8, 2), 3, 1),
                              ("split_num_outputs_uneven2_op18", (3, 7), 2, -1)]:
        r = R(name)
        emit(name, EXACT, [node("Split", ["x"], outs(k), name="split0", axis=axis, num_outputs=k)],
             [("x", randn(r, *xs))], outs(k), opset=18,
             comment="ceil(dim/num_outputs) per chunk, last one smaller" if "uneven" in name else None)


def gen_squeeze():
    for name, op, xs, axes, opset, as_input in [
        ("squeeze_axes_attr_op11", "Squeeze", (1, 3, 1, 4), [0, 2], 11, False),
        ("squeeze_neg_axes_attr_op11", "Squeeze", (3, 1, 4, 1), [-1], 11, False),
        ("squeeze_noaxes_op11", "Squeeze", (1, 3, 1, 4, 1), None, 11, False),
        ("squeeze_axes_input_op13", "Squeeze", (1, 3, 1, 4), [0, 2], 13, True),
        ("squeeze_neg_axes_input_op13", "Squeeze", (3, 1, 4, 1), [-3, -1], 13, True),
        ("squeeze_noaxes_op13", "Squeeze", (1, 3, 1, 4, 1), None, 13, True),
        ("squeeze_to_scalar_op13", "Squeeze", (1, 1), None, 13, True),
        ("squeeze_axes_input_op21", "Squeeze", (2, 1, 3), [1], 21, True),
        ("unsqueeze_axes_attr_op11", "Unsqueeze", (3, 4), [0, 3], 11, False),
        ("unsqueeze_neg_axes_attr_op11", "Unsqueeze", (3, 4), [-1], 11, False),
        ("unsqueeze_axes_input_op13", "Unsqueeze", (3, 4), [0, 3], 13, True),
        ("unsqueeze_neg_axes_input_op13", "Unsqueeze", (3, 4), [-1, 1], 13, True),
        ("unsqueeze_unsorted_axes_op13", "Unsqueeze", (3, 4), [3, 0], 13, True),
        ("unsqueeze_axes_input_op21", "Unsqueeze", (3, 4), [1], 21, True),
    ]:
        r = R(name)
        ins, inits, attrs = ["x"], [], {}
        if axes is not None:
            if as_input:
                ins.append("axes")
                inits.append(("axes", np.array(axes, np.int64)))
            else:
                attrs["axes"] = axes
        emit(name, EXACT, [node(op, ins, ["y"], name=op.lower() + "0", **attrs)],
             [("x", randn(r, *xs))], ["y"], inits, opset=opset)
    name = "unsqueeze_scalar_op13"
    r = R(name)
    emit(name, EXACT, [node("Unsqueeze", ["x", "axes"], ["y"], name="unsqueeze0")],
         [("x", randn(r, 4, 5))], ["y"], [("axes", i64(0, 1, 4))])


def gen_identity_dropout():
    for name, opset in (("identity_basic", 13), ("identity_op14", 14), ("identity_op21", 21)):
        r = R(name)
        emit(name, EXACT, [node("Identity", ["x"], ["y"], name="identity0")], [("x", randn(r, 2, 3, 4))], ["y"],
             opset=opset)
    name = "identity_chain_relu"
    r = R(name)
    emit(name, EXACT, [node("Identity", ["x"], ["t"], name="identity0"), node("Relu", ["t"], ["u"], name="relu0"),
                       node("Identity", ["u"], ["y"], name="identity1")], [("x", randn(r, 3, 5))], ["y"])

    name = "dropout_op11_ratio_attr"
    r = R(name)
    emit(name, EXACT, [node("Dropout", ["x"], ["y"], name="dropout0", ratio=0.3)], [("x", randn(r, 2, 3, 4))],
         ["y"], opset=11)
    name = "dropout_op12_ratio_input"
    r = R(name)
    emit(name, EXACT, [node("Dropout", ["x", "ratio"], ["y"], name="dropout0")], [("x", randn(r, 2, 3, 4))],
         ["y"], [("ratio", f32(0.5).reshape(()))], opset=12)
    name = "dropout_op13_ratio_input"
    r = R(name)
    emit(name, EXACT, [node("Dropout", ["x", "ratio"], ["y"], name="dropout0", seed=7)],
         [("x", randn(r, 1, 4, 3, 3))], ["y"], [("ratio", f32(0.1).reshape(()))],
         comment="training_mode input absent -> inference -> identity")
    name = "dropout_op13_no_ratio"
    r = R(name)
    emit(name, EXACT, [node("Dropout", ["x"], ["y"], name="dropout0")], [("x", randn(r, 2, 5))], ["y"])
    name = "dropout_op13_training_false"
    r = R(name)
    emit(name, EXACT, [node("Dropout", ["x", "ratio", "training"], ["y"], name="dropout0")],
         [("x", randn(r, 2, 5))], ["y"],
         [("ratio", f32(0.5).reshape(())), ("training", np.array(False).reshape(()))],
         comment="training_mode given as a bool initializer = false")


def gen_softmax():
    specs = [
        ("softmax_default_op13", (3, 7), {}, 13),
        ("softmax_axis_neg1_r3_op13", (2, 3, 5), dict(axis=-1), 13),
        ("softmax_axis_neg1_r4_op13", (1, 2, 3, 6), dict(axis=-1), 13),
        ("softmax_axis1_r4_op13", (1, 4, 3, 3), dict(axis=1), 13),
        ("softmax_axis0_op13", (5, 3), dict(axis=0), 13),
        ("softmax_large_values_op13", (2, 9), {}, 13),
        ("softmax_default_r3_op11", (2, 3, 4), {}, 11),       # default axis=1: coerced to [2, 12]
        ("softmax_axis1_op11", (1, 3, 4, 5), dict(axis=1), 11),  # coerced to [1, 60]
        ("softmax_axis2_op11", (2, 3, 2, 3), dict(axis=2), 11),  # coerced to [6, 6]
        ("softmax_axis_neg1_op11", (2, 3, 4), dict(axis=-1), 11),
        ("softmax_axis1_r2_op11", (3, 7), dict(axis=1), 11),
        ("softmax_axis_neg1_op21", (2, 3, 4), dict(axis=-1), 21),
    ]
    for name, xs, attrs, opset in specs:
        r = R(name)
        x = randn(r, *xs)
        if "large" in name:
            x = x * 40 + 60
        comment = None
        if opset < 13 and attrs.get("axis", 1) >= 0 and len(xs) > 2:
            comment = "opset<13 semantics: input coerced to 2-D at axis %d" % attrs.get("axis", 1)
        emit(name, RED, [node("Softmax", ["x"], ["y"], name="softmax0", **attrs)], [("x", x)], ["y"],
             opset=opset, comment=comment)


def gen_layernorm():
    specs = [
        # name, x shape, axis, bias?, epsilon
        ("layernorm_axis_neg1_r3", (2, 3, 8), -1, True, None),
        ("layernorm_axis_neg1_r3_nobias", (2, 3, 8), -1, False, None),
        ("layernorm_axis_neg1_r4", (1, 3, 3, 16), -1, True, None),
        ("layernorm_axis_neg1_r4_nobias", (1, 3, 3, 16), -1, False, 1e-6),
        ("layernorm_axis1_r3", (2, 4, 5), 1, True, None),
        ("layernorm_axis1_r4", (1, 4, 3, 3), 1, True, None),
        ("layernorm_axis1_r4_nobias", (2, 3, 2, 4), 1, False, None),
        ("layernorm_axis_neg2_r4", (1, 2, 4, 5), -2, True, None),
        ("layernorm_eps_large", (2, 3, 8), -1, True, 0.5),
        ("layernorm_rank2_default_axis", (4, 10), None, True, None),
    ]
    for name, xs, axis, bias, eps in specs:
        r = R(name)
        ax = -1 if axis is None else axis
        nshape = xs[ax:] if ax >= 0 else xs[len(xs) + ax:]
        scale = r.uniform(0.5, 1.5, nshape).astype(np.float32)
        inits = [("scale", scale)]
        ins = ["x", "scale"]
        if bias:
            inits.append(("bias", randn(r, *nshape)))
            ins.append("bias")
        attrs = {}
        if axis is not None:
            attrs["axis"] = axis
        if eps is not None:
            attrs["epsilon"] = eps
        x = randn(r, *xs) * 2 + 0.5
        emit(name, RED, [node("LayerNormalization", ins, ["y"], name="layernorm0", **attrs)],
             [("x", x)], ["y"], inits, opset=17)
    name = "layernorm_op21"
    r = R(name)
    emit(name, RED, [node("LayerNormalization", ["x", "scale", "bias"], ["y"], name="layernorm0")],
         [("x", randn(r, 2, 6))], ["y"], [("scale", randpos(r, 6)), ("bias", randn(r, 6))], opset=21)


def gen_constant():
    name = "constant_value_tensor"
    r = R(name)
    emit(name, EXACT, [const_node("c", randn(r, 3, 4), name="const0"), node("Add", ["x", "c"], ["y"], name="add0")],
         [("x", randn(r, 2, 3, 4))], ["y"])
    name = "constant_value_float"
    r = R(name)
    emit(name, EXACT, [node("Constant", [], ["c"], name="const0", value_float=2.5),
                       node("Mul", ["x", "c"], ["y"], name="mul0")], [("x", randn(r, 2, 3))], ["y"],
         ref=lambda e: [e["x"] * 2.5])
    name = "constant_value_floats"
    r = R(name)
    emit(name, EXACT, [node("Constant", [], ["c"], name="const0", value_floats=[1.0, -2.0, 0.5, 3.0]),
                       node("Add", ["x", "c"], ["y"], name="add0")], [("x", randn(r, 3, 4))], ["y"],
         ref=lambda e: [e["x"] + np.array([1.0, -2.0, 0.5, 3.0])])
    name = "constant_value_ints_reshape"
    r = R(name)
    emit(name, EXACT, [node("Constant", [], ["shape"], name="const_shape", value_ints=[3, -1]),
                       node("Reshape", ["x", "shape"], ["y"], name="reshape0")],
         [("x", randn(r, 1, 3, 2, 2))], ["y"])
    name = "constant_value_int_concat_reshape"
    r = R(name)
    emit(name, EXACT, [node("Constant", [], ["d0"], name="const_d0", value_int=-1),
                       node("Constant", [], ["ax"], name="const_axes", value_ints=[0]),
                       node("Unsqueeze", ["d0", "ax"], ["d0v"], name="unsqueeze0"),
                       node("Constant", [], ["d1"], name="const_d1", value_ints=[2]),
                       node("Concat", ["d0v", "d1"], ["shape"], name="concat0", axis=0),
                       node("Reshape", ["x", "shape"], ["y"], name="reshape0")],
         [("x", randn(r, 2, 3, 2))], ["y"])
    name = "constant_value_tensor_op11"
    r = R(name)
    emit(name, EXACT, [const_node("c", randn(r, 4), name="const0"), node("Mul", ["x", "c"], ["y"], name="mul0")],
         [("x", randn(r, 2, 4))], ["y"], opset=11)
    name = "constant_scalar_tensor_op21"
    r = R(name)
    emit(name, EXACT, [const_node("c", f32(-1.5).reshape(()), name="const0"),
                       node("Sub", ["x", "c"], ["y"], name="sub0")],
         [("x", randn(r, 2, 4))], ["y"], opset=21)


def gen_shape():
    # the classic torch flatten pattern: x -> Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape(x)
    for opset in (11, 13):
        name = "shape_gather_concat_reshape_op%d" % opset
        r = R(name)
        if opset >= 13:
            uns = [const_node("ax0", i64(0), name="const_axes"),
                   node("Unsqueeze", ["d0", "ax0"], ["d0v"], name="unsqueeze0")]
        else:
            uns = [node("Unsqueeze", ["d0"], ["d0v"], name="unsqueeze0", axes=[0])]
        emit(name, EXACT, [node("Shape", ["x"], ["s"], name="shape0"),
                           const_node("i0", np.array(0, np.int64), name="const_idx"),
                           node("Gather", ["s", "i0"], ["d0"], name="gather0", axis=0)] + uns +
             [const_node("m1", i64(-1), name="const_m1"),
              node("Concat", ["d0v", "m1"], ["shape"], name="concat0", axis=0),
              node("Reshape", ["x", "shape"], ["y"], name="reshape0")],
             [("x", randn(r, 2, 3, 2, 2))], ["y"], opset=opset)
    name = "shape_start_op15"
    r = R(name)
    emit(name, EXACT, [node("Shape", ["x"], ["s"], name="shape0", start=-2),
                       const_node("m1", i64(-1), name="const_m1"),
                       node("Concat", ["m1", "s"], ["shape"], name="concat0", axis=0),
                       node("Reshape", ["x", "shape"], ["y"], name="reshape0")],
         [("x", randn(r, 1, 3, 4, 5))], ["y"], opset=15)
    name = "shape_start_end_op15"
    r = R(name)
    emit(name, EXACT, [node("Shape", ["x"], ["s"], name="shape0", start=0, end=1),
                       const_node("m1", i64(-1), name="const_m1"),
                       node("Concat", ["s", "m1"], ["shape"], name="concat0", axis=0),
                       node("Reshape", ["x", "shape"], ["y"], name="reshape0")],
         [("x", randn(r, 2, 3, 4))], ["y"], opset=15)
    name = "shape_end_neg_op15"
    r = R(name)
    emit(name, EXACT, [node("Shape", ["x"], ["s"], name="shape0", start=1, end=-1),
                       node("Cast", ["s"], ["sf"], name="cast0", to=F32),
                       node("Mul", ["v", "sf"], ["y"], name="mul0")],
         [("x", randn(r, 2, 3, 4, 5)), ("v", randn(r, 2, 2))], ["y"], opset=15)
    name = "shape_cast_mul"
    r = R(name)
    emit(name, EXACT, [node("Shape", ["x"], ["s"], name="shape0"),
                       node("Cast", ["s"], ["sf"], name="cast0", to=F32),
                       node("Mul", ["v", "sf"], ["y"], name="mul0")],
         [("x", randn(r, 2, 3, 4)), ("v", randn(r, 3))], ["y"])
    name = "shape_op21"
    r = R(name)
    emit(name, EXACT, [node("Shape", ["x"], ["s"], name="shape0", start=1),
                       node("Reshape", ["v", "s"], ["y"], name="reshape0")],
         [("x", randn(r, 5, 3, 4)), ("v", randn(r, 2, 6))], ["y"], opset=21)


def gen_gather():
    specs = [
        ("gather_axis0_1d_idx", (5, 4), i64(0, 4, 2), 0),
        ("gather_axis1_2d_idx", (3, 5, 2), np.array([[0, 1], [4, 3]], np.int64), 1),
        ("gather_axis_neg1", (3, 4, 6), i64(5, 0, 2, 2), -1),
        ("gather_scalar_idx", (3, 5, 2), np.array(2, np.int64), 1),
        ("gather_scalar_idx_axis0", (4, 6), np.array(3, np.int64), 0),
        ("gather_neg_indices", (5, 4), i64(-1, 0, -2), 0),
        ("gather_2d_idx_axis0", (6, 3), np.array([[5, 0, 1], [-1, 2, 3]], np.int64), 0),
        ("gather_int32_idx", (4, 5), np.array([3, -4, 1], np.int32), 1),
    ]
    for name, xs, idx, axis in specs:
        r = R(name)
        emit(name, EXACT, [node("Gather", ["x", "idx"], ["y"], name="gather0", axis=axis)],
             [("x", randn(r, *xs))], ["y"], [("idx", idx)])
    name = "gather_idx_from_constant_op11"
    r = R(name)
    emit(name, EXACT, [const_node("idx", i64(1, 1, 0), name="const_idx"),
                       node("Gather", ["x", "idx"], ["y"], name="gather0", axis=1)],
         [("x", randn(r, 2, 3))], ["y"], opset=11)


def gen_cast():
    name = "cast_float_to_float"
    r = R(name)
    emit(name, EXACT, [node("Cast", ["x"], ["y"], name="cast0", to=F32)], [("x", randn(r, 2, 3, 4))], ["y"])
    name = "cast_int64_const_add"
    r = R(name)
    emit(name, EXACT, [const_node("c", i64(3, -2, 7, 0), name="const0"),
                       node("Cast", ["c"], ["cf"], name="cast0", to=F32),
                       node("Add", ["x", "cf"], ["y"], name="add0")], [("x", randn(r, 3, 4))], ["y"])
    name = "cast_int64_init_mul"
    r = R(name)
    emit(name, EXACT, [node("Cast", ["c"], ["cf"], name="cast0", to=F32),
                       node("Mul", ["x", "cf"], ["y"], name="mul0")], [("x", randn(r, 2, 3))], ["y"],
         [("c", i64(1, -5, 2))])
    name = "cast_float_int64_float"
    r = R(name)
    x = (randn(r, 3, 8) * 5).astype(np.float32)
    emit(name, EXACT, [node("Cast", ["x"], ["xi"], name="cast_to_int64", to=I64),
                       node("Cast", ["xi"], ["y"], name="cast_to_float", to=F32)], [("x", x)], ["y"],
         comment="float->int64 truncates toward zero")
    name = "cast_op11"
    r = R(name)
    emit(name, EXACT, [node("Cast", ["x"], ["y"], name="cast0", to=F32)], [("x", randn(r, 4, 3))], ["y"], opset=11)
    name = "cast_float_int64_float_op21"
    r = R(name)
    emit(name, EXACT, [node("Cast", ["x"], ["xi"], name="cast_to_int64", to=I64),
                       node("Cast", ["xi"], ["y"], name="cast_to_float", to=F32)],
         [("x", (randn(r, 4, 5) * 4).astype(np.float32))], ["y"], opset=21)


# ----------------------------------------------------------------------------

GENERATORS = [gen_conv, gen_batchnorm, gen_unary, gen_clip, gen_binary, gen_pool, gen_reduce, gen_gemm,
              gen_matmul, gen_flatten_reshape, gen_transpose, gen_concat, gen_slice, gen_split, gen_squeeze,
              gen_identity_dropout, gen_softmax, gen_layernorm, gen_constant, gen_shape, gen_gather, gen_cast]

HEADER = """\
# kwcc single-op fixtures, generated by tools/gen_op_fixtures.py (do not edit by hand).
# <case> <tol>: pass iff for every output  max|y - ref| <= tol * max(max|ref|, 1e-30)
# ref = onnxruntime %s (CPU, graph optimisations off); see tests/fixtures/README.md
# tol 1e-5: copies, max, relu, + - * /, casts, batchnorm, sigmoid, single-rounding ops
# tol 1e-4: reductions, conv, gemm, matmul, average pools, erf, pow, softmax, layernorm
"""


def main():
    if "--list" in sys.argv:
        print("\n".join(g.__name__ for g in GENERATORS))
        return
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    for g in GENERATORS:
        g()
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write(HEADER % ort.__version__)
        for name, tol, comment in CASES:
            if comment:
                f.write("# %s: %s\n" % (name, comment))
            f.write("%s %s\n" % (name, tol))
        for c in COMMENTS:
            f.write("# %s\n" % c)
    total = 0
    for dp, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dp, x)) for x in fs)
    print("wrote %d cases to %s (%.1f KiB)" % (len(CASES), OUT, total / 1024.0))
    worst = sorted(CHECKED_ERR.items(), key=lambda kv: -kv[1] / float(dict((n, t) for n, t, _ in CASES)[kv[0]]))[:5]
    print("float32 reference vs float64, worst err/tol: " +
          ", ".join("%s %.2g/%s" % (n, e, dict((c, t) for c, t, _ in CASES)[n]) for n, e in worst))
    print("float64 cross-check not possible (no ORT float64 kernel) for %d cases: %s"
          % (len(F64_UNCHECKED), " ".join(F64_UNCHECKED)))


if __name__ == "__main__":
    main()
