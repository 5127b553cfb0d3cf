#!/usr/bin/python3
"""Generate kwcc's bad-input suite: small malformed ONNX models (tests/bad/).

Dev-time tool only: kwcc itself never runs Python, and neither does the test
(tests/run_bad.sh reads the committed files).  Rerun this script only to change
or add cases.

Needs: onnx 1.12 (Debian package python3-onnx) and numpy, i.e. /usr/bin/python3.

Usage:
  /usr/bin/python3 tools/gen_bad_models.py [--list]

Writes (the whole tests/bad directory is recreated):

  tests/bad/<case>.onnx        one malformed model per case (32 KB at most; the
                               20000-node chains are written by tests/run_bad.sh)
  tests/bad/expect.txt         "<file> <exit-code> <fragment>" per line: what kwcc
                               must answer (the fragment must appear in stderr;
                               "-" for none).  Exit 0 means the model is odd but
                               legal and must compile.

Every case is built deterministically (fixed data, fixed seeds),
so rerunning rewrites identical bytes.
"""

import os
import random
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "tests", "bad")

F32 = TensorProto.FLOAT
I64 = TensorProto.INT64
INT64_MAX = 9223372036854775807
INT64_MIN = -9223372036854775808

CASES = []  # (file, bytes, exit code, fragment, what it checks)


def case(name, data, code, fragment, what):
    if isinstance(data, onnx.ModelProto):
        data = data.SerializeToString()
    assert isinstance(data, bytes)
    assert " " not in name
    fname = name + ".onnx"
    assert fname not in [c[0] for c in CASES], name
    assert len(data) <= 32 * 1024, (name, len(data))
    CASES.append((fname, data, code, fragment, what))


# ---------------------------------------------------------------- builders

def node(op, inputs, outputs, name=None, domain=None, **attrs):
    n = helper.make_node(op, inputs, outputs, domain=domain, **attrs)
    if name is not None:
        n.name = name
    return n


def vi(name, shape, elem=F32):
    return helper.make_tensor_value_info(name, elem, shape)


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def model(nodes, inputs, outputs, inits=(), opset=13, ir=7, domains=()):
    g = helper.make_graph(nodes, "bad", inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    m = helper.make_model(g, opset_imports=ops, producer_name="gen_bad_models")
    m.ir_version = ir
    return m


def arange(*shape):
    """Deterministic float32 data of the given shape."""
    n = int(np.prod(shape)) if shape else 1
    return ((np.arange(n, dtype=np.float32) % 17) / 8.0 - 1.0).reshape(shape)


def base_model():
    """A valid small ConvNet: Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm."""
    nodes = [
        node("Conv", ["X", "conv0.w", "conv0.b"], ["c0"], name="conv0", pads=[1, 1, 1, 1]),
        node("Relu", ["c0"], ["r0"], name="relu0"),
        node("GlobalAveragePool", ["r0"], ["p0"], name="pool0"),
        node("Flatten", ["p0"], ["f0"], name="flat0"),
        node("Gemm", ["f0", "fc.w", "fc.b"], ["Y"], name="fc", transB=1),
    ]
    inits = [init("conv0.w", arange(8, 3, 3, 3)), init("conv0.b", arange(8)),
             init("fc.w", arange(10, 8)), init("fc.b", arange(10))]
    return model(nodes, [vi("X", [1, 3, 8, 8])], [vi("Y", [1, 10])], inits)


def relu_model(**kw):
    return model([node("Relu", ["X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [vi("Y", [1, 4])], **kw)


def conv_model(conv_attrs=None, x=(1, 3, 8, 8), w=(8, 3, 3, 3), name="conv0", extra_nodes=(), out_shape=None):
    attrs = conv_attrs or {}
    nodes = [node("Conv", ["X", "W"], ["Y"], name=name, **attrs)] + list(extra_nodes)
    return model(nodes, [vi("X", list(x))], [vi("Y", out_shape)], [init("W", arange(*w))])


# ---------------------------------------------------------------- the file itself

def gen_file_level():
    good = base_model().SerializeToString()
    n = len(good)
    case("empty", b"", 2, "the file is empty", "a 0-byte file")
    case("text", b"this is not an ONNX model, just some text\n", 2, "could not be parsed",
         "ASCII text instead of protobuf")
    rnd = random.Random(12345)
    case("random", bytes(rnd.randrange(256) for _ in range(4096)), 2, "could not be parsed",
         "4 KB of random bytes")
    case("zeros", bytes(1024), 2, "could not be parsed", "1 KB of zero bytes (field number 0)")
    case("trunc_half", good[: n // 2], 2, "could not be parsed", "a valid model cut in the middle")
    # cut inside the length prefix of the graph, in the first initializer, just before the
    # end and one byte short; each ends inside a length-delimited field
    for off in (1, 3, 40, n // 3, (2 * n) // 3, n - 20, n - 1):
        case("trunc_at_%d" % off, good[:off], 2, "could not be parsed",
             "the valid %d-byte model cut after %d byte%s" % (n, off, "" if off == 1 else "s"))
    case("varint_overlong", b"\x08" + b"\xff" * 11, 2, "could not be parsed",
         "ir_version as a varint longer than 10 bytes")
    case("length_huge", b"\x3a\xff\xff\xff\xff\x0f" + b"\x00" * 16, 2, "could not be parsed",
         "the graph field claims 4 GB of data in a 22-byte file")

    t = numpy_helper.from_array(arange(4, 4), "t")
    case("tensor_proto", t.SerializeToString(), 2, "could not be parsed",
         "a valid protobuf of another message kind (TensorProto)")
    g = base_model().graph
    case("graph_proto", g.SerializeToString(), 2, "could not be parsed",
         "a GraphProto on its own, not wrapped in a ModelProto")
    # a message whose fields all happen to fit ModelProto: an OperatorSetIdProto has a
    # string in field 1 where ModelProto has the varint ir_version, so it must not parse;
    # a TypeProto.Tensor (elem_type, shape) parses and has no graph
    tt = helper.make_tensor_type_proto(F32, [2, 3]).tensor_type
    case("other_message_no_graph", tt.SerializeToString(), 2, "the model has no graph",
         "a TypeProto.Tensor, which parses as a ModelProto without a graph")

    m = onnx.ModelProto()
    m.ir_version = 7
    m.opset_import.add().version = 13
    case("no_graph", m, 2, "the model has no graph", "a ModelProto with opset_import but no graph")

    m = base_model()
    del m.opset_import[:]
    case("no_opset", m, 2, "imports no opset", "no opset_import at all")
    m = base_model()
    m.opset_import[0].domain = "com.example"
    case("no_default_opset", m, 2, "imports no opset of the default ONNX domain",
         "only another domain is imported")
    for v in (9, 25):
        m = base_model()
        m.opset_import[0].version = v
        case("opset_%d" % v, m, 2, "opset %d; kwcc implements opsets 11 to 21" % v,
             "unsupported default-domain opset %d" % v)
    m = base_model()
    m.opset_import[0].version = (1 << 32) + 13
    case("opset_wrap", m, 2, "opset 4294967309", "opset 2^32 + 13 must not wrap to 13")
    m = base_model()
    m.opset_import[0].version = -13
    case("opset_negative", m, 2, "opset -13", "a negative opset version")
    m = base_model()
    m.opset_import[0].ClearField("version")
    case("opset_no_version", m, 2, "has no version", "opset_import without a version")
    m = base_model()
    m.opset_import.add().version = 9
    case("opset_twice", m, 2, "imported twice", "the default domain imported at opsets 13 and 9")


# ---------------------------------------------------------------- graph structure

def gen_graph_level():
    m = model([], [vi("X", [1, 4])], [vi("X", [1, 4])])
    case("empty_graph", m, 2, "the graph is empty", "a graph with an input and an output but no nodes")
    m = model([node("Relu", ["X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [])
    case("no_output", m, 2, "the graph has no output", "a graph without outputs")
    m = model([node("Relu", ["C"], ["Y"], name="relu0")], [], [vi("Y", [2])], [init("C", arange(2))])
    case("no_input", m, 2, "the graph has no input", "a graph without a run-time input")
    m = model([node("Relu", ["X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [vi("Z", [1, 4])])
    case("output_not_produced", m, 2, "graph output 'Z' is not produced",
         "a graph output that no node produces")

    # missing value: a node reads a name nothing defines
    m = model([node("Add", ["X", "nowhere"], ["Y"], name="add0")], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("missing_input", m, 2, "node 'add0' (Add): input 1 'nowhere' is not produced",
         "a node input that no node, initializer or graph input defines")
    m = base_model()
    del m.graph.initializer[0]  # conv0.w
    case("missing_initializer", m, 2, "node 'conv0' (Conv): input 1 'conv0.w' is not produced",
         "the Conv weight initializer was dropped")
    m = model([node("Add", ["X", "nowhere"], ["Y"])], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("missing_input_unnamed", m, 2, "node '' (Add): input 1 'nowhere' is not produced",
         "the same with an unnamed node")
    # a node whose op is unknown does not make its consumers report missing inputs
    m = model([node("FooBar", ["X"], ["a"], name="mystery0"), node("Relu", ["a"], ["Y"], name="relu0")],
              [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("unknown_op_consumer", m, 2, "node 'mystery0' (FooBar): unsupported op 'FooBar'",
         "an unknown op feeding a known one (one error, no cascade)")

    # the same output defined twice
    m = model([node("Relu", ["X"], ["Y"], name="relu0"), node("Sigmoid", ["X"], ["Y"], name="sig0")],
              [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("dup_output", m, 2, "node 'sig0' (Sigmoid): output 'Y' is already defined",
         "two nodes write the same value")
    m = model([node("Relu", ["X"], ["X"], name="relu0")], [vi("X", [1, 4])], [vi("X", [1, 4])])
    case("output_is_input_name", m, 2, "node 'relu0' (Relu): output 'X' is already defined",
         "a node overwrites the graph input")
    m = model([node("Add", ["X", "C"], ["Y"], name="add0")], [vi("X", [2])], [vi("Y", [2])],
              [init("C", arange(2)), init("C", arange(2))])
    case("dup_initializer", m, 2, "initializer 'C' is defined twice", "two initializers with one name")

    # cycles
    m = model([node("Add", ["X", "c"], ["a"], name="add0"), node("Relu", ["a"], ["b"], name="relu1"),
               node("Relu", ["b"], ["c"], name="relu2")], [vi("X", [1, 4])], [vi("b", [1, 4])])
    case("cycle", m, 2, "cycle", "add0 -> relu1 -> relu2 -> add0")
    m = model([node("Add", ["X", "Y"], ["Y"], name="self0")], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("cycle_self", m, 2, "node 'self0' (Add): the graph has a cycle", "a node that reads its own output")
    # the cycle downstream of a good chain; nodes listed in reverse order (legal to sort)
    m = model([node("Relu", ["b"], ["Y"], name="last"), node("Mul", ["a", "b"], ["b"], name="loop"),
               node("Relu", ["X"], ["a"], name="first")], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("cycle_late", m, 2, "node 'loop' (Mul): the graph has a cycle",
         "a cycle after a valid node; only the cycle is blamed")
    m = model([node("Relu", ["a"], ["Y"], name="second"), node("Relu", ["X"], ["a"], name="first")],
              [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("reverse_order", m, 0, "-", "nodes out of topological order (legal: kwcc sorts them)")

    # graph outputs that are not node outputs
    m = model([node("Relu", ["X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [vi("Y", [1, 4]), vi("X", [1, 4])])
    case("output_is_graph_input", m, 0, "-", "a graph input that is also a graph output")
    m = model([node("Relu", ["X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [vi("Y", [1, 4]), vi("C", [3])],
              [init("C", arange(3))])
    case("output_is_initializer", m, 0, "-", "an initializer that is also a graph output")
    m = model([node("Relu", ["X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [vi("Y", [1, 4]), vi("Y", [1, 4])])
    case("output_twice", m, 0, "-", "the same value listed twice as graph output")
    # the generated API is float32 only: an int64 graph output used to be copied out as floats
    m = model([node("Shape", ["X"], ["S"], name="shape0")], [vi("X", [1, 4])], [vi("S", [2], I64)])
    case("output_int64", m, 2, "graph output 'S' is int64; kwcc models produce float32 outputs only",
         "a Shape (int64) as graph output")
    i64_init = init("K", np.array([3, 5], dtype=np.int64))
    m = model([node("Relu", ["X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [vi("Y", [1, 4]), vi("K", [2], I64)],
              [i64_init])
    case("output_int64_initializer", m, 2, "graph output 'K' is int64", "an int64 initializer as graph output")
    # ReduceMax/ReduceMin over an empty axis: undefined before opset 18, -inf/+inf from 18 on
    m = model([node("ReduceMax", ["X"], ["Y"], name="rmax0", axes=[1])], [vi("X", [2, 0])], [vi("Y", [2, 1])])
    case("reducemax_empty_axis_op13", m, 2, "node 'rmax0' (ReduceMax): reducing an empty axis has no defined "
         "result before opset 18", "ReduceMax over an empty axis at opset 13")
    m = model([node("ReduceMin", ["X", "ax"], ["Y"], name="rmin0")], [vi("X", [2, 0])], [vi("Y", [2, 1])],
              [init("ax", np.array([1], dtype=np.int64))], opset=18)
    case("reducemin_empty_axis_op18", m, 0, "-", "ReduceMin over an empty axis at opset 18 (+inf): compiles")
    # found by the CI fuzz smoke: a MaxPool over zero channels divided by zero choosing the vector
    # kernel's geometry (simd_geom, compiler/lower.c); empty tensors take the portable loops
    m = model([node("MaxPool", ["X"], ["Y"], name="pool0", kernel_shape=[2, 2])], [vi("X", [1, 0, 4, 4])],
              [vi("Y", [1, 0, 3, 3])], [])
    case("maxpool_zero_channels", m, 0, "-", "MaxPool over zero channels (UBSan: division by zero): compiles")
    # constant folding's compute is bounded: a Conv of two ConstantOfShape tensors (9 G multiply-adds)
    cos = lambda o, shp_name, v: node("ConstantOfShape", [shp_name], [o], value=helper.make_tensor("v", F32, [1], [v]))
    m = model([cos("C", "xs", 1.0), cos("W", "ws", 0.5), node("Conv", ["C", "W"], ["K"], name="conv0"),
               node("ReduceSum", ["K"], ["S"], name="sum0", keepdims=1), node("Add", ["X", "S"], ["Y"], name="add0")],
              [vi("X", [1, 1, 1, 1])], [vi("Y", [1, 1, 1, 1])],
              [init("xs", np.array([1, 512, 64, 64], dtype=np.int64)), init("ws", np.array([512, 512, 3, 3], dtype=np.int64))])
    case("fold_conv_9g_macs", m, 2, "node 'conv0' (Conv): its inputs are constant, so kwcc would compute it at compile "
         "time: 9.07e+09 multiply-adds", "a 400-byte model folding a 9 G multiply-add Conv (took 6 s)")
    # opsets below 11: accepted when every op is the very op of opset 11, else one error per op
    m = relu_model(opset=6)
    case("opset_6_relu", m, 0, "-", "Relu at opset 6 (unchanged up to opset 13): compiles")
    m = model([node("Relu", ["X"], ["R"], name="relu0"), node("Softmax", ["R"], ["Y"], name="sm0")],
              [vi("X", [1, 4])], [vi("Y", [1, 4])], opset=10)
    case("opset_10_softmax", m, 2, "node 'sm0' (Softmax): the model uses opset 10; kwcc implements opsets 11 to 21",
         "Softmax at opset 10 (changed at 11 and 13)")


# ---------------------------------------------------------------- nodes and attributes

def gen_node_level():
    m = model([node("FooBar", ["X"], ["Y"], name="mystery0")], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("unknown_op", m, 2, "node 'mystery0' (FooBar): unsupported op 'FooBar'", "an op kwcc does not know")
    m = model([node("FooBar", ["X"], ["Y"])], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("unknown_op_unnamed", m, 2, "node '' (FooBar): unsupported op 'FooBar'", "the same, unnamed")
    m = model([node("Relu", ["X"], ["Y"], name="relu0", domain="com.example")], [vi("X", [1, 4])],
              [vi("Y", [1, 4])], domains=["com.example"])
    case("unknown_domain", m, 2, "node 'relu0' (Relu): operator domain 'com.example' is not supported",
         "a known op name in a custom domain")
    m = model([node("Relu", ["X"], ["Y"], name="evil\nname\x1b[31m")], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    m.graph.node[0].op_type = "Bad\x07Op"
    case("control_chars", m, 2, "node 'evil?name?[31m' (Bad?Op)",
         "newline and escape bytes in names are not printed raw")
    m = model([node("FooBar", ["X"], ["Y"], name="n" * 3000)], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("long_name", m, 2, "node 'nnnnnnnnnn", "a 3000-character node name (the line is cut, not overflowed)")

    # arity
    m = model([node("Relu", ["X", "X"], ["Y"], name="relu0")], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("too_many_inputs", m, 2, "node 'relu0' (Relu): has 2 inputs, expected 1", "Relu with 2 inputs")
    m = model([node("Conv", ["X"], ["Y"], name="conv0")], [vi("X", [1, 3, 8, 8])], [vi("Y", None)])
    case("too_few_inputs", m, 2, "node 'conv0' (Conv): has 1 input, expected 2 to 3", "Conv without a weight")
    m = model([node("Relu", ["X"], ["Y", "Z"], name="relu0")], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("too_many_outputs", m, 2, "node 'relu0' (Relu): has 2 outputs, expected 1", "Relu with 2 outputs")
    m = model([node("Relu", ["X"], [], name="relu0"), node("Sigmoid", ["X"], ["Y"], name="sig0")],
              [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("no_outputs", m, 2, "node 'relu0' (Relu): has 0 outputs, expected 1", "a node without outputs")
    m = model([node("Conv", ["X", "", "B"], ["Y"], name="conv0")], [vi("X", [1, 3, 8, 8])], [vi("Y", None)],
              [init("B", arange(8))])
    case("empty_required_input", m, 2, "node 'conv0' (Conv): input 1 is empty",
         "Conv whose weight input is left out (\"\") while its bias is given")
    m = model([node("Concat", [], ["Y"], name="cat0", axis=0)], [vi("X", [1, 4])], [vi("Y", [1, 4])])
    case("concat_no_inputs", m, 2, "node 'cat0' (Concat): has 0 inputs, expected at least 1",
         "a variadic op without inputs")
    m = model([node("Split", ["X"], ["y%d" % i for i in range(300)], name="split0", axis=1)],
              [vi("X", [1, 300])], [vi("y0", [1, 1])])
    case("split_300_outputs", m, 2, "node 'split0' (Split): has 300 outputs; at most 256",
         "a Split with 300 outputs")

    # attributes
    m = conv_model({"strides": 1.0}, out_shape=None)
    m.graph.node[0].attribute[0].CopyFrom(helper.make_attribute("strides", 2.0))
    case("attr_conv_strides_float", m, 2, "node 'conv0' (Conv): attribute 'strides' is of type float, expected ints",
         "Conv strides given as a float")
    m = base_model()
    m.graph.node[4].attribute[0].CopyFrom(helper.make_attribute("transB", "yes"))
    case("attr_gemm_transb_string", m, 2, "node 'fc' (Gemm): attribute 'transB' is of type string, expected int",
         "Gemm transB given as a string")
    m = base_model()
    m.graph.node[0].attribute.append(helper.make_attribute("padding", [1, 1]))
    case("attr_unknown", m, 2, "node 'conv0' (Conv): unsupported attribute 'padding'",
         "an attribute Conv does not have")
    m = base_model()
    m.graph.node[0].attribute.append(helper.make_attribute("pads", [0, 0, 0, 0]))
    case("attr_twice", m, 2, "node 'conv0' (Conv): attribute 'pads' is given twice", "the same attribute twice")
    m = base_model()
    a = m.graph.node[0].attribute[0]
    a.ref_attr_name = "outer_pads"
    case("attr_ref", m, 2, "node 'conv0' (Conv): attribute 'pads' refers to a function attribute",
         "an attribute reference (only legal inside functions)")
    m = base_model()
    a = onnx.AttributeProto()
    a.name = "group"
    a.type = onnx.AttributeProto.UNDEFINED
    m.graph.node[0].attribute.append(a)
    case("attr_undefined", m, 2, "node 'conv0' (Conv): attribute 'group' has no value",
         "an attribute without a type or a value")
    m = base_model()
    a = onnx.AttributeProto()
    a.name = "group"
    a.type = onnx.AttributeProto.GRAPH
    a.g.CopyFrom(helper.make_graph([], "sub", [], []))
    m.graph.node[0].attribute.append(a)
    case("attr_graph", m, 2, "node 'conv0' (Conv): attribute 'group' is of type graph (5)",
         "an attribute holding a subgraph")
    m = base_model()
    m.graph.node[0].attribute.append(helper.make_attribute("strides", list(range(1, 2001))))
    case("attr_huge_list", m, 2, "node 'conv0' (Conv): attribute 'strides' has 2000 values",
         "a 2000-element ints attribute")
    m = base_model()
    for i in range(300):
        m.graph.node[1].attribute.append(helper.make_attribute("a%d" % i, i))
    case("attr_many", m, 2, "further errors", "a Relu with 300 unknown attributes (the error flood is capped)")
    m = model([node("Transpose", ["X"], ["Y"], name="tr0", perm=list(range(40)))], [vi("X", [1, 4])],
              [vi("Y", [4, 1])])
    case("attr_perm_rank40", m, 2, "node 'tr0' (Transpose): attribute 'perm' has 40 values, at most 12",
         "a 40-element permutation")
    m = model([node("Constant", [], ["Y"], name="const0")], [vi("X", [1])], [vi("Y", [1])])
    case("constant_no_value", m, 2, "node 'const0' (Constant): needs exactly one value attribute",
         "a Constant without a value")
    m = model([node("Constant", [], ["C"], name="const0", value_float=1.0),
               node("Add", ["X", "C"], ["Y"], name="add0")], [vi("X", [1])], [vi("Y", [1])])
    m.graph.node[0].attribute[0].CopyFrom(helper.make_attribute("value_float", "one"))
    case("constant_wrong_type", m, 2, "node 'const0' (Constant): attribute 'value_float' has the wrong type",
         "Constant value_float given as a string")

    # attribute values that overflow arithmetic
    case("conv_huge_pads", conv_model({"pads": [1 << 62] * 4}), 2, "node 'conv0' (Conv): attribute 'pads'",
         "pads of 2^62 (the padded size overflows int64)")
    case("conv_huge_dilation", conv_model({"dilations": [1 << 62, 1]}), 2,
         "node 'conv0' (Conv): attribute 'dilations'", "dilation 2^62 (the kernel extent overflows)")
    case("conv_huge_stride", conv_model({"strides": [INT64_MAX, INT64_MAX]}), 2,
         "node 'conv0' (Conv): attribute 'strides'", "stride INT64_MAX")
    case("conv_negative_stride", conv_model({"strides": [-1, 1]}), 2,
         "node 'conv0' (Conv): kernel, stride and dilation must be positive", "a negative stride")
    case("conv_group_zero", conv_model({"group": 0}), 2, "node 'conv0' (Conv): group = 0",
         "group 0 (division by zero)")
    case("conv_kernel_too_big", conv_model(x=(1, 3, 2, 2)), 2,
         "node 'conv0' (Conv): the kernel (extent 3) is larger than the padded input",
         "a 3x3 kernel on a 2x2 input")
    m = model([node("MaxPool", ["X"], ["Y"], name="pool0", kernel_shape=[1 << 40, 1 << 40])],
              [vi("X", [1, 3, 8, 8])], [vi("Y", None)])
    case("pool_huge_kernel", m, 2, "node 'pool0' (MaxPool): attribute 'kernel_shape'", "a 2^40 pooling window")
    m = model([node("MaxPool", ["X"], ["Y"], name="pool0")], [vi("X", [1, 3, 8, 8])], [vi("Y", None)])
    case("pool_no_kernel", m, 2, "node 'pool0' (MaxPool): attribute 'kernel_shape' is required",
         "MaxPool without kernel_shape")


# ---------------------------------------------------------------- shapes

def gen_shape_level():
    case("shape_conv_channels", conv_model(w=(8, 4, 3, 3)), 2,
         "node 'conv0' (Conv): weight [8,4,3,3] has 4 input channels per group",
         "Conv weight made for 4 input channels on a 3-channel input")
    case("shape_conv_channels_unnamed", conv_model(w=(8, 4, 3, 3), name=None), 2,
         "node '' (Conv): weight [8,4,3,3] has 4 input channels per group", "the same, unnamed")
    m = model([node("MatMul", ["X", "W"], ["Y"], name="mm0")], [vi("X", [2, 3])], [vi("Y", [2, 5])],
              [init("W", arange(4, 5))])
    case("shape_matmul", m, 2, "node 'mm0' (MatMul): inner dimensions differ: [2,3] x [4,5]",
         "MatMul with inner dimensions 3 and 4")
    m = base_model()
    m.graph.initializer[2].CopyFrom(init("fc.w", arange(10, 7)))
    case("shape_gemm", m, 2, "node 'fc' (Gemm): inner dimensions differ", "Gemm weight with the wrong width")
    m = model([node("Add", ["X", "B"], ["Y"], name="add0")], [vi("X", [2, 3])], [vi("Y", [2, 3])],
              [init("B", arange(4))])
    case("shape_add", m, 2, "node 'add0' (Add): shapes [2,3] and [4] do not broadcast",
         "Add of [2,3] and [4]")
    m = model([node("Reshape", ["X", "S"], ["Y"], name="rs0")], [vi("X", [2, 3])], [vi("Y", [4, 2])],
              [init("S", np.array([4, 2], dtype=np.int64))])
    case("shape_reshape", m, 2, "node 'rs0' (Reshape): cannot reshape [2,3] (6 elements) to [4,2] (8)",
         "Reshape of 6 elements to 8")
    m = model([node("Reshape", ["X", "S"], ["Y"], name="rs0")], [vi("X", [2, 3])], [vi("Y", None)],
              [init("S", np.array([-1, -1], dtype=np.int64))])
    case("shape_reshape_two_minus1", m, 2, "node 'rs0' (Reshape): target shape has more than one -1",
         "Reshape with two -1 entries")
    m = model([node("Reshape", ["X", "S"], ["Y"], name="rs0")], [vi("X", [2, 3])], [vi("Y", None)],
              [init("S", np.array([1 << 40, 1 << 40, -1], dtype=np.int64))])
    case("shape_reshape_overflow", m, 2, "node 'rs0' (Reshape): target shape has too many elements",
         "Reshape to [2^40, 2^40, -1]")
    m = model([node("Concat", ["X", "B"], ["Y"], name="cat0", axis=1)], [vi("X", [2, 3])], [vi("Y", None)],
              [init("B", arange(3, 3))])
    case("shape_concat", m, 2, "node 'cat0' (Concat): input 1 [3,3] differs from input 0 [2,3] outside axis 1",
         "Concat of [2,3] and [3,3] on axis 1")
    m = model([node("BatchNormalization", ["X", "s", "b", "m", "v"], ["Y"], name="bn0")],
              [vi("X", [1, 3, 4, 4])], [vi("Y", None)],
              [init("s", arange(4)), init("b", arange(3)), init("m", arange(3)), init("v", arange(3) + 2)])
    case("shape_batchnorm", m, 2, "node 'bn0' (BatchNormalization): input 1 ('s') has shape [4], expected [3]",
         "BatchNorm scale with 4 channels on a 3-channel input")
    m = model([node("Gather", ["X", "I"], ["Y"], name="g0", axis=1)], [vi("X", [2, 3])], [vi("Y", None)],
              [init("I", np.array([0, 7], dtype=np.int64))])
    case("gather_out_of_range", m, 2, "node 'g0' (Gather): index 7 is out of range", "Gather index 7 of 3")
    m = model([node("Softmax", ["X"], ["Y"], name="sm0", axis=5)], [vi("X", [2, 3])], [vi("Y", None)])
    case("axis_out_of_range", m, 2, "node 'sm0' (Softmax): axis 5 is out of range for rank 2",
         "Softmax axis 5 on a matrix")
    m = model([node("Unsqueeze", ["X", "A"], ["Y"], name="unsq0")], [vi("X", [1] * 12)], [vi("Y", None)],
              [init("A", np.array([0], dtype=np.int64))])
    case("unsqueeze_rank13", m, 2, "node 'unsq0' (Unsqueeze): output rank 13 exceeds 12",
         "Unsqueeze of a rank-12 tensor")

    # non-constant shape inputs
    m = model([node("Reshape", ["X", "S"], ["Y"], name="rs0")], [vi("X", [2, 3]), vi("S", [2])],
              [vi("Y", None)])
    case("reshape_nonconst_shape", m, 2, "node 'rs0' (Reshape): input 1 ('S') must be a constant",
         "Reshape whose shape is a run-time input")
    m = model([node("Slice", ["X", "st", "en"], ["Y"], name="sl0")], [vi("X", [4, 6]), vi("st", [1])],
              [vi("Y", None)], [init("en", np.array([3], dtype=np.int64))])
    case("slice_nonconst_starts", m, 2, "node 'sl0' (Slice): input 1 ('st') must be a constant",
         "Slice whose starts are a run-time input")
    m = model([node("Slice", ["X", "st", "en", "ax", "sp"], ["Y"], name="sl0")], [vi("X", [4, 6])],
              [vi("Y", None)],
              [init("st", np.array([0], dtype=np.int64)), init("en", np.array([INT64_MAX], dtype=np.int64)),
               init("ax", np.array([1], dtype=np.int64)), init("sp", np.array([INT64_MAX], dtype=np.int64))])
    case("slice_step_max", m, 0, "-", "Slice with step INT64_MAX (takes one element; no overflow)")
    m = model([node("Slice", ["X", "st", "en", "ax", "sp"], ["Y"], name="sl0")], [vi("X", [4, 6])],
              [vi("Y", None)],
              [init("st", np.array([INT64_MAX], dtype=np.int64)), init("en", np.array([INT64_MIN], dtype=np.int64)),
               init("ax", np.array([1], dtype=np.int64)), init("sp", np.array([INT64_MIN], dtype=np.int64))])
    case("slice_step_min", m, 0, "-", "Slice with step INT64_MIN (takes one element; no overflow)")
    m = model([node("Split", ["X", "S"], ["a", "b"], name="split0", axis=1), node("Add", ["a", "b"], ["Y"])],
              [vi("X", [2, 6])], [vi("Y", None)],
              [init("S", np.array([INT64_MAX, INT64_MAX], dtype=np.int64))])
    case("split_overflow", m, 2, "node 'split0' (Split): split size", "split sizes INT64_MAX + INT64_MAX")
    m = model([node("Range", ["s", "l", "d"], ["r"], name="range0"), node("Add", ["X", "r"], ["Y"], name="add0")],
              [vi("X", [1])], [vi("Y", None)],
              [init("s", np.array(0.0, dtype=np.float32)), init("l", np.array(1e30, dtype=np.float32)),
               init("d", np.array(1e-30, dtype=np.float32))])
    case("range_huge_float", m, 2, "node 'range0' (Range): ", "a float Range of 10^60 elements")
    m = model([node("Range", ["s", "l", "d"], ["r"], name="range0"), node("Cast", ["r"], ["rf"], to=1),
               node("Add", ["X", "rf"], ["Y"], name="add0")],
              [vi("X", [1])], [vi("Y", None)],
              [init("s", np.array(INT64_MIN, dtype=np.int64)), init("l", np.array(INT64_MAX, dtype=np.int64)),
               init("d", np.array(INT64_MAX, dtype=np.int64))])
    case("range_i64_overflow", m, 2, "node 'range0' (Range): the range from -9223372036854775808 by "
         "9223372036854775807 has 3 values, whose offsets from start overflow int64",
         "an int64 Range from INT64_MIN to INT64_MAX by INT64_MAX (3 values; 2 x delta overflows)")
    m = model([node("Range", ["s", "l", "d"], ["r"], name="range0"), node("Cast", ["r"], ["rf"], to=1),
               node("Add", ["X", "rf"], ["Y"], name="add0")],
              [vi("X", [1])], [vi("Y", None)],
              [init("s", np.array(INT64_MIN, dtype=np.int64)), init("l", np.array(INT64_MAX, dtype=np.int64)),
               init("d", np.array(1, dtype=np.int64))])
    case("range_i64_huge", m, 2, "node 'range0' (Range): ", "an int64 Range of 2^64 values")
    m = model([node("ConstantOfShape", ["S"], ["c"], name="cos0"), node("Add", ["X", "c"], ["Y"], name="add0")],
              [vi("X", [1])], [vi("Y", None)], [init("S", np.array([1 << 20, 1 << 20, 1 << 20], dtype=np.int64))])
    case("constantofshape_overflow", m, 2, "node 'cos0' (ConstantOfShape): output 0",
         "ConstantOfShape of [2^20, 2^20, 2^20]")
    m = model([node("ConstantOfShape", ["S"], ["c"], name="cos0"), node("Add", ["X", "c"], ["Y"], name="add0")],
              [vi("X", [1])], [vi("Y", None)], [init("S", np.array([1 << 15, 1 << 15], dtype=np.int64))])
    case("constantofshape_4gb", m, 2, "node 'cos0' (ConstantOfShape): its inputs are constant",
         "ConstantOfShape [2^15, 2^15]: legal, but folding it would allocate 4 GB for a 150-byte model")
    m = model([node("Expand", ["C", "S"], ["e"], name="exp0"), node("Add", ["X", "e"], ["Y"], name="add0")],
              [vi("X", [1])], [vi("Y", None)],
              [init("C", arange(1, 1)), init("S", np.array([1 << 15, 1 << 15], dtype=np.int64))])
    case("expand_const_4gb", m, 2, "node 'exp0' (Expand): its inputs are constant",
         "Expand of a constant to [2^15, 2^15]: folding would allocate 4 GB")
    m = model([node("Expand", ["X", "S"], ["Y"], name="exp0")], [vi("X", [1, 1])], [vi("Y", None)],
              [init("S", np.array([1 << 40, 1 << 40], dtype=np.int64))])
    case("expand_overflow", m, 2, "node 'exp0' (Expand): output 0", "Expand to [2^40, 2^40]")


# ---------------------------------------------------------------- tensors and inputs

def raw_tensor(name, dims, data_type=F32, raw=b""):
    t = onnx.TensorProto()
    t.name = name
    t.dims.extend(dims)
    t.data_type = data_type
    t.raw_data = raw
    return t


def add_model(other):
    """X [2] + an initializer or input `other` (TensorProto)."""
    return model([node("Add", ["X", other.name], ["Y"], name="add0")], [vi("X", [2])], [vi("Y", None)], [other])


def gen_tensor_level():
    big = 1 << 20
    case("overflow_initializer", add_model(raw_tensor("W", [big, big, big])), 2,
         "tensor 'W' [1048576,1048576,1048576]: the element count overflows",
         "an initializer of [2^20, 2^20, 2^20] elements")
    m = relu_model()
    m.graph.input[0].CopyFrom(vi("X", [big, big, big]))
    case("overflow_input", m, 2, "graph input 'X' [1048576,1048576,1048576]: the element count overflows",
         "a graph input of [2^20, 2^20, 2^20] elements")
    m = relu_model()
    m.graph.input[0].CopyFrom(vi("X", [INT64_MAX, 2]))
    case("overflow_input_int64max", m, 2, "graph input 'X'", "a graph input dimension of INT64_MAX")
    m = relu_model()
    m.graph.input[0].CopyFrom(vi("X", [0, 1 << 40, 1 << 40]))
    m.graph.node[0].op_type = "Flatten"
    case("overflow_zero_dim", m, 2, "graph input 'X'",
         "[0, 2^40, 2^40]: no elements, but the product of the other dims overflows")
    case("big_initializer_no_data", add_model(raw_tensor("W", [46000, 46000], raw=b"\0" * 4)), 2,
         "tensor 'W' [46000,46000]: raw_data has 4 bytes, expected 8464000000",
         "a 2^31-ish element initializer with 4 bytes of data (must not allocate 8 GB)")
    t = raw_tensor("W", [40000, 40000])
    t.ClearField("raw_data")
    t.float_data.append(1.0)
    case("big_initializer_float_data", add_model(t), 2,
         "tensor 'W' [40000,40000] has 1 float_data values, expected 1600000000",
         "a big initializer with one float_data value (must not allocate 6 GB)")
    case("raw_data_length", add_model(raw_tensor("W", [8, 3, 3, 3], raw=b"\1" * 100)), 2,
         "tensor 'W' [8,3,3,3]: raw_data has 100 bytes, expected 864",
         "an initializer whose raw_data disagrees with its dims")
    t = raw_tensor("W", [3], I64)
    t.ClearField("raw_data")
    t.int64_data.extend([1, 2])
    case("int64_data_count", add_model(t), 2,
         "tensor 'W' [3] has 2 int64_data values, expected 3", "int64_data with one value missing")
    case("negative_dim_initializer", add_model(raw_tensor("W", [2, -3])), 2,
         "tensor 'W' has a negative dimension (-3)", "an initializer with dims [2, -3]")
    m = relu_model()
    m.graph.input[0].CopyFrom(vi("X", [1, -4]))
    case("negative_dim_input", m, 2, "graph input 'X' has a negative dimension (-4)", "a graph input [1, -4]")
    case("rank40_initializer", add_model(raw_tensor("W", [1] * 40, raw=b"\0" * 4)), 2,
         "tensor 'W' has rank 40; kwcc supports rank up to 12", "an initializer of rank 40")
    m = relu_model()
    m.graph.input[0].CopyFrom(vi("X", [1] * 40))
    case("rank40_input", m, 2, "graph input 'X' has rank 40", "a graph input of rank 40")
    m = model([node("Reshape", ["X", "S"], ["Y"], name="rs0")], [vi("X", [2])], [vi("Y", None)],
              [init("S", np.array([1] * 39 + [2], dtype=np.int64))])
    case("rank40_reshape", m, 2, "node 'rs0' (Reshape): input 1 ('S') has 40 values, at most 12",
         "a Reshape to rank 40")
    t = raw_tensor("W", [2], raw=b"\0" * 8)
    t.data_type = TensorProto.DOUBLE
    t.raw_data = b"\0" * 16
    case("initializer_double", add_model(t), 2, "tensor 'W' has ONNX data type 11", "a float64 initializer")
    t = raw_tensor("W", [2], raw=b"\0" * 8)
    t.data_location = TensorProto.EXTERNAL
    t.ClearField("raw_data")
    e = t.external_data.add()
    e.key, e.value = "location", "weights.bin"
    case("external_data", add_model(t), 2, "tensor 'W' is stored as external data", "an initializer in an external file")
    m = add_model(raw_tensor("W", [2], raw=b"\0" * 8))
    sp = m.graph.sparse_initializer.add()
    sp.values.CopyFrom(helper.make_tensor("S", F32, [1], [1.0]))
    sp.indices.CopyFrom(helper.make_tensor("Si", I64, [1], [0]))
    sp.dims.extend([4])
    case("sparse_initializer", m, 2, "sparse initializers", "a sparse initializer")

    m = relu_model()
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    case("symbolic_dim", m, 2, "graph input 'X' dimension 0 is symbolic ('batch')", "a dynamic batch dimension")
    m = relu_model()
    m.graph.input[0].type.tensor_type.shape.dim[1].Clear()
    case("unknown_dim", m, 2, "graph input 'X' dimension 1 has no value", "a dimension with neither value nor name")
    m = relu_model()
    m.graph.input[0].type.tensor_type.ClearField("shape")
    case("no_shape", m, 2, "graph input 'X' has no shape", "a graph input without a shape")
    m = relu_model()
    m.graph.input[0].type.tensor_type.elem_type = I64
    case("int64_input", m, 2, "graph input 'X' has ONNX element type 7; kwcc models take float32",
         "an int64 graph input")
    m = relu_model()
    m.graph.input[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    case("float16_input", m, 2, "graph input 'X' has ONNX element type 10", "a float16 graph input")
    m = relu_model()
    m.graph.input[0].type.CopyFrom(helper.make_sequence_type_proto(helper.make_tensor_type_proto(F32, [4])))
    case("sequence_input", m, 2, "graph input 'X' is not a tensor", "a sequence graph input")
    m = relu_model()
    m.graph.input[0].ClearField("type")
    case("untyped_input", m, 2, "graph input 'X' is not a tensor", "a graph input without a type")
    m = relu_model()
    m.graph.input[0].type.tensor_type.shape.ClearField("dim")
    m.graph.node[0].op_type = "Relu"
    case("scalar_input", m, 0, "-", "a rank-0 (scalar) graph input")
    m = relu_model()
    m.graph.input[0].CopyFrom(vi("X", [0, 4]))
    case("zero_size_input", m, 0, "-", "a graph input with no elements ([0, 4])")
    m = model([node("Conv", ["X", "W"], ["Y"], name="conv0", group=1 << 40)], [vi("X", [1, 0, 4, 4])],
              [vi("Y", None)], [init("W", np.zeros((4, 0, 1, 1), dtype=np.float32))])
    case("zero_channels_group", m, 2, "node 'conv0' (Conv): group", "group 2^40 on a 0-channel input")


# ---------------------------------------------------------------- big graphs

def gen_big():
    # the deep chains (20000 nodes) would be 400 KB each: tests/run_bad.sh writes them itself
    m = model([node("Concat", ["X"] * 1000, ["Y"], name="cat0", axis=0)], [vi("X", [1, 4])], [vi("Y", [1000, 4])])
    case("wide_concat_1000", m, 0, "-", "a Concat of 1000 inputs (compiles)")
    m = model([node("Concat", ["X"] * 5000, ["Y"], name="cat0", axis=0)], [vi("X", [1, 4])], [vi("Y", [5000, 4])])
    case("wide_concat", m, 2, "node 'cat0' (Concat): has 5000 inputs; at most 1000 are supported",
         "a Concat of 5000 inputs (more than kwcc's kernels take: a clean error)")
    m = model([node("Concat", ["X"] * 5000 + ["B"], ["Y"], name="cat0", axis=0)], [vi("X", [1, 4])],
              [vi("Y", None)], [init("B", arange(1, 5))])
    case("wide_concat_bad", m, 2, "node 'cat0' (Concat): input 5000 [1,5] differs from input 0 [1,4]",
         "a Concat of 5001 inputs whose last one has the wrong shape")
    nodes = [node("Relu", ["X"], ["y%d" % i]) for i in range(600)]
    m = model(nodes, [vi("X", [1, 4])], [vi("y%d" % i, [1, 4]) for i in range(600)])
    case("wide_outputs", m, 0, "-", "600 graph outputs (compiles)")
    nodes = [node("FooBar", ["X"], ["y%d" % i], name="bad%d" % i) for i in range(500)]
    m = model(nodes, [vi("X", [1, 4])], [vi("y0", [1, 4])])
    case("many_errors", m, 2, "further errors", "500 unknown ops: the error flood is capped")


# ---------------------------------------------------------------- fuzz regressions

def gen_fuzz_regressions():
    """fuzz/regress: inputs the fuzzer found (each fixed), with fuzz/regress/expect.txt."""
    d = os.path.join(ROOT, "fuzz", "regress")
    what = []  # the comment lines above an entry ("#" alone ends the header)
    with open(os.path.join(d, "expect.txt")) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line == "#" or not line:
                what = []
            elif line.startswith("#"):
                what.append(line[1:].strip())
            else:
                f, code, frag = line.split(" ", 2)
                with open(os.path.join(d, f), "rb") as mf:
                    case("fuzz_" + f[:-len(".onnx")], mf.read(), int(code), frag,
                         "fuzz/regress/%s: %s" % (f, " ".join(what)))
                what = []


def main():
    gen_file_level()
    gen_graph_level()
    gen_node_level()
    gen_shape_level()
    gen_tensor_level()
    gen_big()
    gen_fuzz_regressions()
    if "--list" in sys.argv:
        for f, data, code, frag, what in CASES:
            print("%-32s %6d  %d  %s" % (f, len(data), code, what))
        return
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    lines = [
        "# kwcc bad-input suite, generated by tools/gen_bad_models.py (do not edit by hand).",
        "# <file> <exit-code> <fragment>: kwcc FILE -o OUT.c must exit with <exit-code>; for 2 its",
        "# stderr must begin with 'kwcc: error:' and contain <fragment> (the rest of the line), no",
        "# output file may be left behind; 0 means an odd but legal model that must compile.",
        "# Run by tests/run_bad.sh (CTest label 'bad'), which also checks bad command lines and",
        "# 20000-node chains it writes itself.",
    ]
    for f, data, code, frag, what in CASES:
        with open(os.path.join(OUT, f), "wb") as fh:
            fh.write(data)
        lines.append("# %s" % what)
        lines.append("%s %d %s" % (f, code, frag))
    with open(os.path.join(OUT, "expect.txt"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("wrote %d cases to %s" % (len(CASES), OUT))


if __name__ == "__main__":
    main()
