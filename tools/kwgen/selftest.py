#!/usr/bin/env python3
"""Dev check of kw.py against docs/KW_SEMANTICS.md, independent of the exporter.

1. Bookkeeping: full-size ResNet-18 (KW 1x, 1/4x, 4x) and ResNet-50 (KW 1/2x, non-local basis) built from
   kw.py + models.py blocks must give the warehouse shapes, layer counts and cell cursors of
   KW_SEMANTICS.md sections 4 and 6.
2. Numerics: for every fixture model (same seeded state as gen_kw_fixtures.py), every KW layer is
   recomputed in float64 numpy from the formulas of sections 2 and 3 -- pooled features, norm, logits
   (with the basis concat), L1 normalisation over n+1 planes, temperature blend with a temp_bias rebuilt
   from the section 1.4 rules, and the dense kernel W_b from the explicit index formula of 3.6 -- at batch 2,
   and compared with the float64 module output.

    /work/venv/bin/python tools/kwgen/selftest.py
"""

import copy
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import gen_kw_fixtures as G  # noqa: E402
from check_pattern import ResNet18KW  # noqa: E402
from kw import KWConvNd, WarehouseManager  # noqa: E402
from models import Bottleneck, TinyResNet  # noqa: E402


def check(cond, msg):
    if not cond:
        raise SystemExit('FAIL: ' + msg)


# --------------------------------------------------------------------------------------------------
# 1. bookkeeping against KW_SEMANTICS.md
# --------------------------------------------------------------------------------------------------

def warehouses(net):
    wm = net.warehouse_manager
    return [(n, tuple(wm.weights[i].shape[:3]), len(wm.warehouse_list[n])) for i, n in enumerate(wm.warehouse_list)]


def bookkeeping():
    r18 = lambda r_n, r_c: ResNet18KW(dict(reduction=0.0625, cell_num_ratio=r_n, cell_inplane_ratio=r_c,
                                           cell_outplane_ratio=r_c, sharing_range='layer_conv'))
    names = ['stage0_l_c', 'stage1_l_c', 'stage2_l_c', 'stage3_l_c']
    cnt = [6, 5, 5, 3]
    exp = {
        (1, 1): [(56, 64, 64), (47, 128, 128), (47, 256, 256), (27, 512, 512)],
        (0.25, 0.5): [(56, 32, 32), (47, 64, 64), (47, 128, 128), (27, 256, 256)],
        (4, 1): [(224, 64, 64), (188, 128, 128), (188, 256, 256), (108, 512, 512)],
    }
    for (r_n, r_c), shapes in exp.items():
        net = r18(r_n, r_c)
        check(warehouses(net) == list(zip(names, shapes, cnt)), 'resnet18 r_n=%s: %s' % (r_n, warehouses(net)))
    # section 6 table (KW 1x): per layer, in registration order: warehouse, start, m
    net = r18(1, 1)
    table = [('layer1.0.conv1', 0, 0, 9), ('layer1.0.conv2', 0, 9, 9), ('layer1.1.conv1', 0, 18, 9),
             ('layer1.1.conv2', 0, 27, 9), ('layer2.0.conv1', 0, 36, 18), ('layer2.0.conv2', 1, 0, 9),
             ('layer2.0.downsample.0', 0, 54, 2), ('layer2.1.conv1', 1, 9, 9), ('layer2.1.conv2', 1, 18, 9),
             ('layer3.0.conv1', 1, 27, 18), ('layer3.0.conv2', 2, 0, 9), ('layer3.0.downsample.0', 1, 45, 2),
             ('layer3.1.conv1', 2, 9, 9), ('layer3.1.conv2', 2, 18, 9), ('layer4.0.conv1', 2, 27, 18),
             ('layer4.0.conv2', 3, 0, 9), ('layer4.0.downsample.0', 2, 45, 2), ('layer4.1.conv1', 3, 9, 9),
             ('layer4.1.conv2', 3, 18, 9)]
    got = [(n, m.warehouse_id, m.start_cell_idx, m.num_local_mixture)
           for n, m in net.named_modules() if isinstance(m, KWConvNd)]
    check(got == table, 'resnet18 kw1x layer table: %s' % got)
    c = net.layer1[0].conv1.attention
    check((c.hidden_planes, c.kw_planes_per_mixture, c.kw_planes) == (16, 57, 513), 'layer1.0.conv1 attention')
    c = net.layer4[0].conv2.attention
    check((c.hidden_planes, c.kw_planes) == (32, 252), 'layer4.0.conv2 attention')

    r50 = TinyResNet(Bottleneck, [64, 128, 256, 512], [3, 4, 6, 3],
                     dict(reduction=0.0625, cell_num_ratio=0.5, cell_inplane_ratio=0.5, cell_outplane_ratio=0.5,
                          sharing_range='layer_conv', nonlocal_basis_ratio=0.0625), stem=64)
    exp50 = [('stage0_l_c', (174, 32, 32), 10), ('stage1_l_c', (208, 64, 64), 13),
             ('stage2_l_c', (276, 128, 128), 19), ('stage3_l_c', (94, 256, 256), 8)]
    check(warehouses(r50) == exp50, 'resnet50 kw1d2x: %s' % warehouses(r50))
    plain = [n for n, m in r50.named_modules() if isinstance(m, nn.Conv2d) and not isinstance(m, KWConvNd)]
    check(plain == ['conv1', 'layers.0.0.conv1', 'layers.0.0.downsample.0'], 'resnet50 plain convs %s' % plain)
    basis = {m.attention.num_basis for m in r50.modules() if isinstance(m, KWConvNd)}
    check(basis == {16}, 'resnet50 basis sizes %s' % basis)
    # fuse_warehouse_name: the string quirk vs whole words
    wm = WarehouseManager(sharing_range='layer_conv')
    check(wm.fuse_warehouse_name('stage0_layer3_conv1') == 'stage0_l_c', 'string sharing_range')
    wm = WarehouseManager(sharing_range='layer_pwconv')
    check(wm.fuse_warehouse_name('stage2_layer1_dwconv0') == 'stage2_l_dwconv0', 'dwconv not fused')
    check(wm.fuse_warehouse_name('stagestem_conv0') == 'stagestem_c', 'stem')
    wm = WarehouseManager(sharing_range=['layer', 'pwconv'])
    check(wm.fuse_warehouse_name('stage1_layer2_pwconv1') == 'stage1_layer_pwconv', 'list sharing_range')
    print('bookkeeping: ResNet-18 (1x, 1/4x, 4x) and ResNet-50 (1/2x) match KW_SEMANTICS.md')


# --------------------------------------------------------------------------------------------------
# 2. numerics of every fixture layer
# --------------------------------------------------------------------------------------------------

def temp_bias_from_rules(m, n, start, r_n):
    P = n + 1
    tb = np.zeros(m * P)
    cur = start
    if r_n >= 1:
        for j in range(m):
            tb[j * P + start + j * int(r_n)] = 1
    else:
        q = int(1 / r_n)
        for j in range(m):
            if j % q == (j // q) % q:
                tb[j * P + cur] = 1
                cur += 1
            else:
                tb[j * P + n] = 1
    return tb


def reference_layer(mod, wm, x):
    """KW_SEMANTICS.md sections 2 and 3 in float64 numpy (conv itself through torch, with our weight)."""
    x = x.numpy()
    N, C = x.shape[:2]
    a = mod.attention
    W = lambda t: t.detach().double().numpy()
    E = W(wm.weights[mod.warehouse_id])
    n = E.shape[0]
    cell_out, cell_in, cell_k = E.shape[1], E.shape[2], E.shape[3:]
    m, P = a.num_local_mixture, n + 1
    s = x.reshape(N, C, -1).mean(-1)
    u = s @ W(a.fc1.weight).T + (W(a.fc1.bias) if a.fc1.bias is not None else 0)
    if isinstance(a.norm1, nn.BatchNorm1d):
        u = (u - W(a.norm1.running_mean)) / np.sqrt(W(a.norm1.running_var) + 1e-5) * W(a.norm1.weight) \
            + W(a.norm1.bias)
    else:
        u = (u - u.mean(1, keepdims=True)) / np.sqrt(u.var(1, keepdims=True) + 1e-5) * W(a.norm1.weight) \
            + W(a.norm1.bias)
    h = np.maximum(u, 0)
    if not a.use_basis:
        z = h @ W(a.fc2.weight).T + W(a.fc2.bias)
    else:
        L, B = a.num_local_cell, a.num_basis
        y = (h @ W(a.fc2.weight).T).reshape(N * m, L + B + 1)
        loc, nl, zero = y[:, :L], y[:, L:L + B] @ W(a.fc3.weight).T, y[:, L + B:]
        st = mod.start_cell_idx
        z = np.concatenate([nl[:, :st], loc, nl[:, st:], zero], 1).reshape(N, m * P) + W(a.basis_bias)
    z = z.reshape(N, m, P)
    z = z / (np.abs(z).sum(-1, keepdims=True) + 1e-3)
    T = a.temp_value
    # temp_bias is a float32 tensor in the module (and T*temp_bias a float32 Constant in the export)
    z = (1 - T) * z + np.float32(T) * temp_bias_from_rules(m, n, mod.start_cell_idx, float(
        wm.cell_num_ratio[mod.warehouse_id])).reshape(1, m, P)
    A = z[:, :, :n]                                                        # (N, m, n)
    k = mod.kernel_size
    g = mod.groups
    Go, Gi = mod.groups_out_channel, mod.groups_in_channel
    ys = []
    for b in range(N):
        Wb = np.zeros([mod.out_planes, C // g] + list(k))
        spatial = list(np.ndindex(*[k[d] // cell_k[d] for d in range(len(k))]))
        for si, sidx in enumerate(spatial):
            for o in range(Go):
                for i in range(Gi):
                    j = (si * Go + o) * Gi + i
                    cellw = np.tensordot(A[b, j], E, axes=(0, 0))         # (cell_out, cell_in, *cell_k)
                    sl = tuple(slice(sidx[d] * cell_k[d], (sidx[d] + 1) * cell_k[d]) for d in range(len(k)))
                    Wb[(slice(o * cell_out, (o + 1) * cell_out), slice(i * cell_in, (i + 1) * cell_in)) + sl] = cellw
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[len(k)]
        yb = conv(torch.from_numpy(x[b:b + 1]), torch.from_numpy(Wb), None, mod.stride, mod.padding,
                  mod.dilation, g).numpy()
        if mod.bias is not None:
            yb = yb + W(mod.bias).reshape([1, -1] + [1] * len(k))
        ys.append(yb)
    return np.concatenate(ys, 0)


def numerics():
    worst = 0.0
    for case in G.CASES:
        torch.manual_seed(case.seed)
        model = case.build().eval()
        G.draw_parameters(model, np.random.default_rng([case.seed, 1]))
        G.set_temperature(model, case.temperature)
        xs = torch.from_numpy(np.random.default_rng([case.seed, 5]).standard_normal(
            (G.CALIB_BATCH,) + tuple(case.input_shape[1:]), dtype=np.float32))
        G.calibrate(model, xs, np.random.default_rng([case.seed, 2]))
        m64 = copy.deepcopy(model).double()
        io = []
        hooks = [m.register_forward_hook(lambda mod, i, o: io.append((mod, i[0].detach().clone(), o.detach().clone())))
                 for m in m64.modules() if isinstance(m, KWConvNd)]
        with torch.no_grad():
            m64(xs[:2].double())
        for h in hooks:
            h.remove()
        errs = []
        for mod, x, y in io:
            ref = reference_layer(mod, m64.warehouse_manager, x)
            errs.append(float(np.abs(ref - y.numpy()).max() / np.abs(ref).max()))
        worst = max(worst, max(errs))
        print('%-24s %2d KW layers at batch 2, max rel diff vs formulas %.1e' % (case.name, len(errs), max(errs)))
        check(max(errs) < 1e-10, case.name)
    print('numerics: every fixture layer matches the formulas (worst %.1e)' % worst)


if __name__ == '__main__':
    torch.set_num_threads(1)
    bookkeeping()
    numerics()
    print('OK')
