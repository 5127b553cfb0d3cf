#!/usr/bin/env python3
"""Generate the tiny end-to-end network fixtures of kwcc (tests/fixtures/nets/).

Dev-time tool only: kwcc itself (C) never runs Python.  The committed
fixtures are what the C test runner reads; rerun this script only to change
or add nets.

Needs (any interpreter that has all of them; on the dev machines this is
/work/venv/bin/python, a venv made with --system-site-packages):
  * torch 1.13 (CPU)    Debian package python3-torch
  * onnx 1.12           Debian package python3-onnx
  * onnxruntime 1.32    from PyPI, installed into the venv (pip install onnxruntime)
  * numpy

Usage:
  /work/venv/bin/python tools/gen_net_fixtures.py

Every net is a small torch.nn.Module in eval mode with random but
non-degenerate weights (BatchNorm running stats and affines, LayerNorm
affines and ConvNeXt layer-scale are randomised so they matter), exported with
torch.onnx.export(do_constant_folding=True) at the opset in its name.  The
reference outputs come from PyTorch itself (float32, one thread); the script
aborts unless
  * onnxruntime (graph optimisations off) agrees with PyTorch within the
    case tolerance,
  * PyTorch float32 agrees with PyTorch float64 within tol/10 (so the
    reference's own rounding error is negligible against the tolerance),
  * the exported graph has only float32, static-shaped inputs/outputs and
    passes onnx.checker.
Layout written (the whole tests/fixtures/nets directory is recreated):

  tests/fixtures/nets/cases.txt            "<case> <tol>" per line, '#' comments
  tests/fixtures/nets/<case>/model.onnx
  tests/fixtures/nets/<case>/input_<i>.bin   graph inputs, in order
  tests/fixtures/nets/<case>/output_<i>.bin  graph outputs, in order
All .bin files are raw little-endian float32 in C order, without header.
Pass criterion per output: max|y - ref| <= tol * max(max|ref|, 1e-30).

Determinism: each net seeds torch with crc32(case name) before building its
weights and input, so rerunning gives identical files (on the same kind of
CPU and the same torch/onnx versions: the exporter's node and initializer
names and PyTorch's low-order rounding may change with either).
"""

import collections
import copy
import io
import os
import shutil
import warnings
import zlib

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as Fn

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "nets")

torch.set_num_threads(1)
warnings.filterwarnings("ignore")


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode("utf-8")))


def randomise(model):
    """Make every normalisation layer matter (the default init is an identity)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c) * 0.5)
                m.running_var.copy_(torch.rand(c) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(c) + 0.5)
                m.bias.copy_(torch.randn(c) * 0.3)
            elif isinstance(m, nn.LayerNorm) or isinstance(m, LayerNormCF):
                m.weight.copy_(torch.rand(m.weight.shape) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape) * 0.3)
            elif isinstance(m, ConvNeXtBlock):
                m.gamma.copy_(torch.rand(m.gamma.shape) * 0.9 + 0.1)
    return model.eval()


# ----------------------------------------------------------------------------
# networks

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + idt)


class ResNetTiny(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = BasicBlock(16, 16)
        self.layer2 = BasicBlock(16, 32, 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def conv_bn_relu6(cin, cout, k, s, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = []
        if expand != 1:
            layers.append(conv_bn_relu6(cin, hid, 1, 1))
        layers += [conv_bn_relu6(hid, hid, 3, stride, groups=hid),
                   nn.Conv2d(hid, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2Tiny(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn_relu6(3, 16, 3, 2),
            InvertedResidual(16, 16, 1, 1),
            InvertedResidual(16, 24, 2, 4),
            InvertedResidual(24, 24, 1, 4),
            InvertedResidual(24, 32, 2, 4),
            conv_bn_relu6(32, 64, 1, 1))
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(64, classes))

    def forward(self, x):
        x = self.features(x)
        return self.classifier(x.mean([2, 3]))


class LayerNormCF(nn.Module):
    """ConvNeXt's channels-first LayerNorm (exports as ReduceMean/Sub/Pow/Sqrt/Div...)."""

    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()  # exact (erf) form
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))  # layer scale, randomised later

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        y = (self.gamma * y).permute(0, 3, 1, 2)
        return x + y


class ConvNeXtTiny(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 4, 4), LayerNormCF(16))
        self.stage1 = ConvNeXtBlock(16)
        self.down = nn.Sequential(LayerNormCF(16), nn.Conv2d(16, 32, 2, 2))
        self.stage2 = ConvNeXtBlock(32)
        self.norm = nn.LayerNorm(32, eps=1e-6)
        self.head = nn.Linear(32, classes)

    def forward(self, x):
        x = self.stage2(self.down(self.stage1(self.stem(x))))
        return self.head(self.norm(x.mean([-2, -1])))


class MLPSoftmax(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(),
                                 nn.Linear(32, 32), nn.Sigmoid(), nn.Linear(32, 10))

    def forward(self, x):
        return torch.softmax(self.net(x) * 2.0, dim=-1)


class Conv1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 5, padding=2)
        self.bn1 = nn.BatchNorm1d(8)
        self.pool1 = nn.MaxPool1d(2)
        self.c2 = nn.Conv1d(8, 16, 3, stride=2, padding=1, groups=2)
        self.bn2 = nn.BatchNorm1d(16)  # after ReLU: not foldable into the conv
        self.c3 = nn.Conv1d(16, 16, 3, padding=2, dilation=2, groups=16)
        # count_include_pad=False: same numbers without padding, but torch 1.13
        # would otherwise export a Pad(0) node in front of the AveragePool
        self.pool3 = nn.AvgPool1d(2, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = self.pool1(Fn.relu(self.bn1(self.c1(x))))
        x = self.bn2(Fn.relu(self.c2(x)))
        x = self.pool3(Fn.relu(self.c3(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


class Conv3dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv3d(2, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm3d(8)
        self.pool1 = nn.MaxPool3d(2)
        self.c2 = nn.Conv3d(8, 8, 3, stride=2, padding=1, groups=2)
        self.bn2 = nn.BatchNorm3d(8)
        self.pool2 = nn.AvgPool3d((1, 2, 2), stride=1, count_include_pad=False)  # no Pad node
        self.gap = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = self.pool1(Fn.relu(self.bn1(self.c1(x))))
        x = Fn.relu(self.bn2(self.c2(x)))
        x = self.pool2(x)
        return self.fc(torch.flatten(self.gap(x), 1))


class MiscNet(nn.Module):
    """AveragePool, Split, Sigmoid gating, Concat, Slice, Transpose, MatMul; two outputs."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1)
        self.pool1 = nn.AvgPool2d(2, count_include_pad=False)  # no Pad node
        self.pool2 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.mix = nn.Linear(16, 8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        x = self.pool1(Fn.relu(self.c1(x)))                  # [1,16,16,16]
        # torch.split with static sizes exports a Split; torch.chunk at opset 13
        # would export a Shape/Gather/int64 Div/Slice subgraph instead
        a, b = torch.split(x, [8, 8], dim=1)                # Split
        h = torch.cat([torch.sigmoid(a) * b, a], dim=1)     # [1,16,16,16]
        h = self.pool2(h)                                   # [1,16,8,8]
        t = self.mix(h.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # [1,8,8,8]
        t = t + h[:, 4:12]                                  # Slice
        logits = self.fc(torch.flatten(Fn.adaptive_avg_pool2d(t, 1), 1))
        saliency = torch.sigmoid(t.sum(1))                  # ReduceSum, [1,8,8]
        return logits, saliency


# name, factory, input shape, opset, tol, output names
NETS = [
    ("resnet_tiny_op13", ResNetTiny, (1, 3, 32, 32), 13, "1e-4", ["logits"]),
    ("mobilenetv2_tiny_op13", MobileNetV2Tiny, (1, 3, 32, 32), 13, "1e-4", ["logits"]),
    ("convnext_tiny_op13", ConvNeXtTiny, (1, 3, 32, 32), 13, "1e-4", ["logits"]),
    ("convnext_tiny_op17", ConvNeXtTiny, (1, 3, 32, 32), 17, "1e-4", ["logits"]),
    ("mlp_softmax_op11", MLPSoftmax, (1, 4, 4, 4), 11, "1e-4", ["probs"]),
    ("conv1d_net_op13", Conv1dNet, (1, 4, 64), 13, "1e-4", ["logits"]),
    ("conv3d_net_op17", Conv3dNet, (1, 2, 8, 12, 12), 17, "1e-4", ["logits"]),
    ("misc_pool_concat_split_op13", MiscNet, (1, 3, 32, 32), 13, "1e-4", ["logits", "saliency"]),
]


def relerr(y, ref):
    ref = np.asarray(ref, np.float64)
    return float(np.max(np.abs(np.asarray(y, np.float64) - ref)) / max(np.max(np.abs(ref)), 1e-30))


def make_case(name, factory, ishape, opset, tol, onames):
    seed(name)
    model = randomise(factory())
    x = torch.randn(*ishape)
    with torch.no_grad():
        ref = model(x)
        ref64 = copy.deepcopy(model).double()(x.double())
    ref = [ref] if isinstance(ref, torch.Tensor) else list(ref)
    ref64 = [ref64] if isinstance(ref64, torch.Tensor) else list(ref64)
    ref = [r.numpy().astype(np.float32) for r in ref]
    ref64 = [r.numpy() for r in ref64]

    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, opset_version=opset, do_constant_folding=True,
                      input_names=["input"], output_names=onames,
                      training=torch.onnx.TrainingMode.EVAL)
    data = buf.getvalue()
    m = onnx.load_from_string(data)
    onnx.checker.check_model(m)
    assert [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")] == [opset], m.opset_import
    init_names = {t.name for t in m.graph.initializer}
    gin = [i for i in m.graph.input if i.name not in init_names]
    assert len(gin) == 1 and len(m.graph.output) == len(ref), name
    for vi in list(gin) + list(m.graph.output):
        tt = vi.type.tensor_type
        assert tt.elem_type == onnx.TensorProto.FLOAT, (name, vi.name)
        assert all(d.HasField("dim_value") for d in tt.shape.dim), (name, vi.name, "dynamic shape")
    for vi, r in zip(m.graph.output, ref):
        assert tuple(d.dim_value for d in vi.type.tensor_type.shape.dim) == r.shape, (name, vi.name)
    for r in ref:
        assert np.all(np.isfinite(r)) and np.ptp(r) > 0, (name, "degenerate output")

    e64 = max(relerr(r, r64) for r, r64 in zip(ref, ref64))
    assert e64 <= float(tol) / 10, (name, "torch float32 vs float64", e64, "tol", tol)

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
    res = sess.run(None, {gin[0].name: x.numpy()})
    eort = max(relerr(y, r) for y, r in zip(res, ref))
    if eort > float(tol):
        raise SystemExit("%s: onnxruntime and PyTorch disagree: rel err %.3g > tol %s" % (name, eort, tol))

    d = os.path.join(OUT, name)
    os.makedirs(d)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "input_0.bin"), "wb") as f:
        f.write(np.ascontiguousarray(x.numpy(), dtype="<f4").tobytes())
    for i, r in enumerate(ref):
        with open(os.path.join(d, "output_%d.bin" % i), "wb") as f:
            f.write(np.ascontiguousarray(r, dtype="<f4").tobytes())
    ops = collections.Counter(n.op_type for n in m.graph.node)
    print("%-30s opset %d  in %-16s out %-22s f32/f64 %.1e  ort/torch %.1e  %5.1f KiB  %s" % (
        name, opset, "x".join(map(str, ishape)), " ".join("x".join(map(str, r.shape)) for r in ref),
        e64, eort, len(data) / 1024.0, " ".join("%s:%d" % kv for kv in sorted(ops.items()))))
    return ops


HEADER = """\
# kwcc end-to-end net fixtures, generated by tools/gen_net_fixtures.py (do not edit by hand).
# <case> <tol>: pass iff for every output  max|y - ref| <= tol * max(max|ref|, 1e-30)
# ref = PyTorch %s float32 (eval mode), cross-checked against onnxruntime %s
# and PyTorch float64; see tests/fixtures/README.md
"""


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    allops = collections.Counter()
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write(HEADER % (torch.__version__, ort.__version__))
        for name, factory, ishape, opset, tol, onames in NETS:
            allops.update(make_case(name, factory, ishape, opset, tol, onames))
            f.write("%s %s\n" % (name, tol))
    total = 0
    for dp, _, fs in os.walk(OUT):
        total += sum(os.path.getsize(os.path.join(dp, x)) for x in fs)
    print("wrote %d nets to %s (%.1f KiB); ops used: %s" % (
        len(NETS), OUT, total / 1024.0, " ".join(sorted(allops))))


if __name__ == "__main__":
    main()
