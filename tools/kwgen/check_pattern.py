#!/usr/bin/env python3
"""Dev check: do our KW exports have the node pattern of the official KernelWarehouse exports?

1. Per KW layer of every fixture in tests/fixtures/kw: the op sequence between the feature map and the
   computed Conv weight (attention + assembly, Constants left out) must occur among the KW layers of the
   official exports in ../shared/fixtures/official (and tiny/).  The non-local basis path has no official
   fixture here; its sequence is checked against docs/KW_ONNX.md instead.
2. ResNet-18 KW 1/4x rebuilt at full size from kw.py/models.py blocks (official 7x7 stem + max-pool)
   is exported at 64x64 and compared with official/resnet18_kw1d4x_64.onnx: node by node (op type, node
   name, attributes, Constant values) and initializer shapes.  Only the structure is compared; nothing of
   the official files is copied.

Skipped, with a message, when the official folder is absent.

    /work/venv/bin/python tools/kwgen/check_pattern.py [--official DIR] [--fixtures DIR]
"""

import argparse
import collections
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from gen_kw_fixtures import export_bytes, onnx_kw_chains  # noqa: E402
from kw import WarehouseManager  # noqa: E402
from models import BasicBlock  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))

# docs/KW_ONNX.md, "Non-local basis path", with the BatchNorm attention head in front of it and the
# common tail behind it; the Slice [:, start:] is absent when start = 0 (the exporter drops a full slice).
BASIS_HEAD = 'Reshape GlobalAveragePool Squeeze MatMul BatchNormalization Relu MatMul Reshape Slice Slice Slice MatMul'
BASIS_TAIL = ('Concat Reshape Add Reshape Abs ReduceSum Reshape Add Div Reshape Mul Add Reshape Slice '
              'Gemm Reshape Transpose Reshape')
BASIS_OK = {BASIS_HEAD + ' Slice Slice ' + BASIS_TAIL, BASIS_HEAD + ' Slice ' + BASIS_TAIL}


def signatures(path):
    return [' '.join(c['ops']) for c in onnx_kw_chains(onnx.load(path))]


def official_signatures(official):
    sigs = collections.Counter()
    for d in (official, os.path.join(official, 'tiny')):
        for f in sorted(os.listdir(d)):
            if f.endswith('.onnx'):
                for s in signatures(os.path.join(d, f)):
                    sigs[s] += 1
    return sigs


class ResNet18KW(nn.Module):
    """Official-shaped KW ResNet-18 (attribute names as torchvision's) for the structural comparison."""

    def __init__(self, wm_kwargs):
        super().__init__()
        self.warehouse_manager = WarehouseManager(**wm_kwargs)
        wm = self.warehouse_manager
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inplanes = 64
        for s, w in enumerate([64, 128, 256, 512]):
            blocks = []
            for b in range(2):
                blocks.append(BasicBlock(wm, inplanes, w, 2 if (b == 0 and s > 0) else 1, s, b))
                inplanes = w
            setattr(self, 'layer%d' % (s + 1), nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, 1000)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def node_key(node):
    attrs = []
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if isinstance(v, onnx.TensorProto):
            arr = numpy_helper.to_array(v)
            v = (str(arr.dtype), arr.shape, arr.tobytes() if arr.dtype != np.float32 or arr.size < 8
                 else ('nonzero', int(np.count_nonzero(arr))))
        elif isinstance(v, list):
            v = tuple(v)
        attrs.append((a.name, v))
    return node.op_type, node.name, tuple(sorted(attrs))


def compare_resnet18(official):
    ref = onnx.load(os.path.join(official, 'resnet18_kw1d4x_64.onnx'))
    torch.manual_seed(0)
    net = ResNet18KW(dict(reduction=0.0625, cell_num_ratio=0.25, cell_inplane_ratio=0.5, cell_outplane_ratio=0.5,
                          sharing_range='layer_conv')).eval()
    # non-default norm statistics, so that the exporter does not merge equal initializers
    g = torch.Generator().manual_seed(1)
    for mod in net.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            for t in (mod.weight, mod.bias, mod.running_mean, mod.running_var):
                t.data.uniform_(0.5, 1.5, generator=g)
    mine = onnx.load_from_string(export_bytes(net, torch.zeros(1, 3, 64, 64), 13))
    a = [node_key(n) for n in mine.graph.node]
    b = [node_key(n) for n in ref.graph.node]
    bad = 0
    if len(a) != len(b):
        print('  node count differs: ours %d, official %d' % (len(a), len(b)))
        bad += 1
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            print('  first node difference at %d:\n    ours     %s\n    official %s' % (i, x[:2], y[:2]))
            bad += 1
            break
    shp = lambda m: sorted(tuple(i.dims) for i in m.graph.initializer)
    if shp(mine) != shp(ref):
        print('  initializer shapes differ')
        bad += 1
    wh = lambda m: [tuple(i.dims) for i in m.graph.initializer if i.name.startswith('onnx::Gemm')]
    print('  resnet18_kw1d4x_64: %d nodes, %d initializers; warehouses %s: %s' % (
        len(a), len(mine.graph.initializer), sorted(set(wh(mine))), 'MATCH' if not bad else 'DIFFER'))
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--official', default=os.path.normpath(os.path.join(ROOT, '..', 'shared', 'fixtures', 'official')))
    ap.add_argument('--fixtures', default=os.path.join(ROOT, 'tests', 'fixtures', 'kw'))
    args = ap.parse_args()
    if not os.path.isdir(args.official):
        print('SKIP: official fixtures not found at %s' % args.official)
        return 0
    torch.set_num_threads(1)
    ref = official_signatures(args.official)
    print('official KW layer signatures: %d distinct over %d layers' % (len(ref), sum(ref.values())))
    bad = 0
    cases = sorted(d for d in os.listdir(args.fixtures) if os.path.isfile(os.path.join(args.fixtures, d, 'model.onnx')))
    for case in cases:
        sigs = signatures(os.path.join(args.fixtures, case, 'model.onnx'))
        kinds = collections.Counter()
        for s in sigs:
            if s in ref:
                kinds['official'] += 1
            elif s in BASIS_OK:
                kinds['basis(KW_ONNX.md)'] += 1
            else:
                kinds['UNMATCHED'] += 1
                print('  %s: unmatched layer pattern: %s' % (case, s))
                bad += 1
        print('%-24s %2d KW layers: %s' % (case, len(sigs), dict(kinds)))
    bad += compare_resnet18(args.official)
    print('OK' if not bad else 'FAILED (%d)' % bad)
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
