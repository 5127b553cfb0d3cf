#!/usr/bin/env python3
"""Writes the tiny KernelWarehouse seeds of the fuzz corpus (fuzz/corpus/kw_*.onnx).

The KW fixtures of tests/fixtures/kw are 74 to 200 KB each: too big for a fuzz seed (libFuzzer
mutates the whole input, and would spend its time in weight bytes). These are one- and two-layer
KW nets of a few channels (8 and 16 KB), exported like the fixtures (tools/kwgen, torch.onnx,
constant folding), so that pass_kw.c sees the real pattern; --ops writes three models of the ops
no op fixture uses. The other seeds are copies: corpus/op_<case>.onnx of every
tests/fixtures/ops/<case>/model.onnx, corpus/net_<case>.onnx of four small nets. Dev-time only;
the outputs are committed.

    /work/venv/bin/python fuzz/gen_seeds.py          # the KW seeds (torch)
    /work/venv/bin/python fuzz/gen_seeds.py --ops    # the op seeds (onnx)
"""
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools", "kwgen"))
from gen_kw_fixtures import export_bytes  # noqa: E402
from kw import WarehouseManager  # noqa: E402


class Tiny2d(nn.Module):
    def __init__(self):
        super().__init__()
        self.warehouse_manager = WarehouseManager(reduction=0.25, cell_num_ratio=1, sharing_range=['layer'],
                                                  spatial_partition=False)
        wm = self.warehouse_manager
        self.conv_a = wm.reserve(2, 4, 3, padding=1, bias=False, warehouse_name='stage0_layer0_conv')
        self.bn = nn.BatchNorm2d(4)
        self.conv_b = wm.reserve(4, 4, 3, stride=2, padding=1, bias=True, warehouse_name='stage0_layer1_conv')
        self.relu = nn.ReLU()
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.relu(self.bn(self.conv_a(x)))
        return self.relu(self.conv_b(x) + x[:, :, ::2, ::2])


class Tiny1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.warehouse_manager = WarehouseManager(reduction=0.25, cell_num_ratio=2, sharing_range=['layer'])
        wm = self.warehouse_manager
        self.conv = wm.reserve(4, 4, 3, padding=2, dilation=2, groups=2, bias=True, layer_type='conv1d',
                               warehouse_name='stage0_layer0_conv')
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        return self.conv(x)


def main():
    torch.manual_seed(0)
    for name, net, shape, opset in (("kw_tiny2d_op13", Tiny2d(), (1, 2, 4, 4), 13),
                                    ("kw_tiny1d_op17", Tiny1d(), (1, 4, 6), 17)):
        net.eval()
        data = export_bytes(net, torch.randn(*shape), opset)
        with open(os.path.join(HERE, "corpus", name + ".onnx"), "wb") as f:
            f.write(data)
        print(name, len(data), "bytes")


if __name__ == "__main__" and "--ops" not in sys.argv:
    main()


# ---- op seeds: the ops of compiler/ops.def that no tests/fixtures/ops model uses
def op_seeds():
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    F = TensorProto.FLOAT

    def save(name, nodes, inputs, outputs, inits=(), opset=13):
        g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="gen_seeds")
        m.ir_version = 7
        onnx.checker.check_model(m)
        data = m.SerializeToString()
        with open(os.path.join(HERE, "corpus", name + ".onnx"), "wb") as f:
            f.write(data)
        print(name, len(data), "bytes")

    vi = helper.make_tensor_value_info
    i64 = lambda n, v: numpy_helper.from_array(np.asarray(v, dtype=np.int64), n)
    f32 = lambda n, v: numpy_helper.from_array(np.asarray(v, dtype=np.float32), n)
    N = helper.make_node
    unary = ["LeakyRelu", "HardSigmoid", "HardSwish", "Abs", "Exp", "Log", "Tanh", "Reciprocal",
             "Floor", "Ceil", "Sigmoid", "Erf", "Neg", "Sqrt"]
    nodes, prev = [], "X"
    for k, op in enumerate(unary):
        nodes.append(N(op, [prev], ["u%d" % k]))
        prev = "u%d" % k
    nodes += [N("Max", ["X", prev, "u0"], ["mx"]), N("Min", ["mx", "u1"], ["mn"]),
              N("Pow", ["mn", "two"], ["pw"])]
    save("seed_unary_op14", nodes, [vi("X", F, [1, 2, 3])], [vi("pw", F, [1, 2, 3])], [f32("two", [2.0])], 14)

    nodes = [N("ReduceMax", ["X"], ["r0"], axes=[1], keepdims=1),
             N("ReduceMin", ["X"], ["r1"], axes=[2], keepdims=0),
             N("ReduceProd", ["X"], ["r2"], axes=[0, 2]),
             N("ReduceSumSquare", ["X"], ["r3"], keepdims=0),
             N("ReduceL1", ["X"], ["r4"], axes=[-1]),
             N("GlobalMaxPool", ["X"], ["r5"])]
    shapes = [[1, 1, 4], [1, 3], [1, 3, 1], [], [1, 3, 1], [1, 3, 1]]
    save("seed_reduce_op13", nodes, [vi("X", F, [1, 3, 4])],
         [vi("r%d" % i, F, shapes[i]) for i in range(6)], (), 13)

    nodes = [N("Shape", ["X"], ["s"]), N("ConstantOfShape", ["s"], ["c"],
                                        value=helper.make_tensor("v", F, [1], [0.5])),
             N("Add", ["X", "c"], ["a"]), N("Expand", ["a", "shp"], ["e"]),
             N("Range", ["st0", "lim0", "dl0"], ["rg"]), N("Cast", ["rg"], ["rgf"], to=F),
             N("Mul", ["e", "rgf"], ["y"])]
    save("seed_shape_op13", nodes, [vi("X", F, [1, 4])], [vi("y", F, [3, 4])],
         [i64("shp", [3, 4]), f32("st0", np.float32(0)), f32("lim0", np.float32(4)), f32("dl0", np.float32(1))], 13)


if __name__ == "__main__" and "--ops" in sys.argv:
    op_seeds()
