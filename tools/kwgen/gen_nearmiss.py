#!/work/venv/bin/python
"""Near-miss KernelWarehouse models: tests/fixtures/kw_nearmiss/<case>/.

Each is tests/fixtures/kw/resnet_basic/model.onnx with ONE exported KW layer changed so that it
still looks like KernelWarehouse but no longer computes it; kwcc must keep that layer on the
generic path (say so with -v) and still be exactly right. References from onnxruntime.
Needs onnx (Debian's python3-onnx) and onnxruntime (PyPI, in a venv); deterministic.
"""
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "tests", "fixtures", "kw", "resnet_basic")
out_root = os.path.join(here, "..", "..", "tests", "fixtures", "kw_nearmiss")


def first_kw_nodes(g):
    """The rank-8 Transpose and zero-plane Slice of the first KW layer."""
    tr = next(n for n in g.node if n.op_type == "Transpose" and len(helper.get_attribute_value(n.attribute[0])) == 8)
    sl = next(n for n in g.node if n.op_type == "Slice")
    return tr, sl


def perm_swap(m):
    """Cells transposed: cell_out and cell_in exchanged in the Transpose (8x8 cells)."""
    tr, _ = first_kw_nodes(m.graph)
    del tr.attribute[:]
    tr.attribute.append(helper.make_attribute("perm", [0, 2, 5, 3, 4, 1, 6, 7]))
    return tr.name


def slice_first_plane(m):
    """Drops plane 0 instead of the zero plane: starts [1], ends [INT64_MAX]."""
    g = m.graph
    _, sl = first_kw_nodes(g)
    starts = numpy_helper.from_array(np.array([1], dtype=np.int64), sl.name + "_nm_starts")
    ends = numpy_helper.from_array(np.array([np.iinfo(np.int64).max], dtype=np.int64), sl.name + "_nm_ends")
    g.initializer.extend([starts, ends])
    sl.input[1] = starts.name
    sl.input[2] = ends.name
    return sl.name


CASES = {"perm_swap": perm_swap, "slice_first_plane": slice_first_plane}

if __name__ == "__main__":
    x = np.fromfile(os.path.join(src, "input_0.bin"), dtype="<f4")
    lines = ["# near-miss KW models (tools/kwgen/gen_nearmiss.py): <case> <tol> <node that must stay generic>"]
    for name, edit in CASES.items():
        m = onnx.load(os.path.join(src, "model.onnx"))
        changed = edit(m)
        onnx.checker.check_model(m)
        d = os.path.join(out_root, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(m, os.path.join(d, "model.onnx"))
        shutil.copy(os.path.join(src, "input_0.bin"), os.path.join(d, "input_0.bin"))
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        s = ort.InferenceSession(os.path.join(d, "model.onnx"), so, providers=["CPUExecutionProvider"])
        inp = s.get_inputs()[0]
        y = s.run(None, {inp.name: x.reshape(inp.shape)})[0]
        y.astype("<f4").tofile(os.path.join(d, "output_0.bin"))
        ref = np.fromfile(os.path.join(src, "output_0.bin"), dtype="<f4")
        print(name, "changed", changed, "output moved by", float(np.abs(y.ravel() - ref).max()))
        lines.append("%s 0.0001" % name)
    open(os.path.join(out_root, "cases.txt"), "w").write("\n".join(lines) + "\n")
