#!/usr/bin/env python3
"""Generate kwcc's KernelWarehouse test fixtures (dev-time only; the outputs are committed).

For each case: build a small KW model (models.py, modules in kw.py), give it a seeded, non-degenerate
inference state, export it with torch.onnx.export (torch 1.13, do_constant_folding=True), and write

    tests/fixtures/kw/<case>/model.onnx      graph input 'input', output 'output', float32, batch 1
    tests/fixtures/kw/<case>/input_0.bin     raw little-endian float32, C order, no header
    tests/fixtures/kw/<case>/output_0.bin    PyTorch float32 eval-mode output for that input
    tests/fixtures/kw/cases.txt              '<case> <tol>': pass if max|y-ref| <= tol*max(max|ref|,1e-30)
    tests/fixtures/kw/manifest.json          per case: coverage, warehouses, KW layers, measured errors

Checks that abort the run: float32 vs float64 PyTorch output (must agree to < 1e-5 relative), onnx
checker, onnxruntime vs PyTorch (must agree within the case tolerance), and the exported structure
(one Conv with a computed weight per KW layer, fed by Reshape <- Transpose <- Reshape <- Gemm against
the warehouse initializer, one initializer per warehouse shared by all its layers).

Deterministic: all values come from numpy PCG64 generators seeded per case, torch runs on one thread;
rerunning writes byte-identical files.

    /work/venv/bin/python tools/kwgen/gen_kw_fixtures.py [--out DIR] [--only CASE ...]
"""

import argparse
import copy
import io
import json
import math
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import models  # noqa: E402
from kw import Attention, KWConvNd, KWLinear, WarehouseManager, set_temperature  # noqa: E402
from models import LayerNorm2d  # noqa: E402

DEFAULT_OUT = os.path.normpath(os.path.join(HERE, '..', '..', 'tests', 'fixtures', 'kw'))
F64_LIMIT = 1e-5          # float32 vs float64 relative output difference must stay below this
CALIB_BATCH = 16          # random inputs used to set BN statistics and attention scales
ATT_KAPPA = 0.3           # see calibrate()
ATT_L1 = 0.25             # see calibrate()


class Case:
    def __init__(self, name, seed, build, input_shape, opset, temperature, covers):
        self.name, self.seed, self.build = name, seed, build
        self.input_shape, self.opset, self.temperature, self.covers = input_shape, opset, temperature, covers


CASES = [
    Case('resnet_basic', 3001, models.resnet_basic, (1, 3, 16, 16), 13, 0.0,
         'tiny ResNet (BasicBlock, stride-2 KW 1x1 downsample registered after conv2); sharing_range string '
         '"layer_conv" (character quirk: stage0_l_c); warehouse stage0_l_c shared by stage 0 and the next '
         "stage's first conv and downsample; r_n 1; BatchNorm attention (fc1 MatMul, no bias); no conv bias; "
         'static stem conv (BN folded) and static fc; opset 13; T 0'),
    Case('ratios_t03_opset17', 3002, models.ratios_t03, (1, 3, 16, 16), 17, 0.3,
         'temperature T=0.3 with r_n 0.5 and 0.25 (temp_bias one-hots on the zero plane); per-warehouse tuples: '
         'r_in 0.5/0.25, r_out 0.5/0.5 (cells 4x4 and 8x2); sharing_range list ["layer","conv"]; '
         'KW 3x3 and 1x1 (one with stride 2); BatchNorm attention; no conv bias; opset 17'),
    Case('resnet_bottleneck_basis', 3003, models.resnet_bottleneck_basis, (1, 3, 16, 16), 13, 0.0,
         'tiny ResNet Bottleneck with the non-local basis path (nonlocal_basis_ratio 0.0625: fc2 MatMul, fc3, '
         'basis_bias, Concat with an empty first slice in the first layer and an empty last slice in the last '
         'layer of the warehouse); r_n 0.5, r_out 0.5; plain (enabled=False) first conv1 and stride-1 '
         'downsample; sharing string "layer_conv"; opset 13; T 0'),
    Case('mbv2_tiny', 3004, models.mbv2_tiny, (1, 3, 32, 32), 13, 0.0,
         'tiny MobileNetV2 (inverted residuals): depthwise KW convs (group = C, one with stride 2), ReLU6 '
         '(Clip), KWLinear classifier on a 2-D (N, C) input with conv bias; sharing_range list '
         '["layer","pwconv"]; per-warehouse tuples: r_n 4 (one pw warehouse), r_out 0.5 (depthwise cells of '
         '4 channels), r_in 0.5 (classifier); static stem; opset 13; T 0'),
    Case('convnext_tiny', 3005, models.convnext_tiny, (1, 3, 32, 32), 13, 0.0,
         'tiny ConvNeXt: LayerNorm attention (fc1 Gemm with bias, LN decomposed at opset 13), conv bias on '
         'every KW conv, 4x4/4 KW stem, 5x5 and 3x3 depthwise KW convs, 1x1 pw KW convs, 2x2/2 KW downsample, '
         'GELU (Erf), channels-first LayerNorm, layer scale; sharing_range string "layer_pwconv" (dwconv and '
         'stem not fused); opset 13; T 0'),
    Case('kw1d_net', 3006, models.kw1d_net, (1, 8, 64), 13, 0.2,
         'KWConv1d: k5 stride 2 pad 2 with bias, k3 dilation 2 groups 2, k3 stride 2, k1 groups 4 with bias; '
         'BatchNorm1d; r_n 2 (temp_bias one-hots every 2nd cell); T=0.2; sharing list ["layer"]; opset 13'),
    Case('kw3d_net', 3007, models.kw3d_net, (1, 4, 4, 8, 8), 17, 0.0,
         'KWConv3d: 3x3x3 pad 1, 1x3x3 stride (1,2,2), 3x1x1 with bias, 1x1x1; rank-9 Transpose; '
         'BatchNorm3d; sharing list ["layer"]; opset 17; T 0'),
    Case('kwlinear_mlp_opset17', 3008, models.kwlinear_mlp, (1, 6, 16), 17, 0.0,
         'KWLinear on a (N, T, C) input (attention pools over T) and on a 2-D (N, C) input (head); LayerNorm '
         'attention (LayerNormalization op at opset 17, fc1 Gemm with bias); conv bias; per-warehouse tuples: '
         'r_out 0.25, r_in 0.5, r_n 4 (head); opset 17; T 0'),
    Case('mixed_grouped_nsp', 3009, models.mixed_net, (1, 3, 16, 16), 13, 0.0,
         'KW convs mixed with static convs: groups 2 with dilation 2 / pad 2, groups 4 with stride 2, KW 1x1 with '
         'bias; spatial_partition False on the second warehouse (cells carry whole 3x3 kernels, G_s = 1; one '
         'grouped conv with bias) with r_n 2; sharing list ["layer"]; BatchNorm attention; opset 13; T 0'),
    Case('wide_cells_4x4', 3010, models.wide_cells_net, (1, 3, 8, 8), 13, 0.0,
         'KW 1x1 convs 64->128 and 128->64 and a 3x3 64->128 with whole-window cells of 64 output channels on 4x4 images: '
         'output channels spanning several cells (Go > 1) with tiles of few rows, so kwcc assembles the '
         'blocks of one warehouse slice together (variant A for 1x1 and 8-channel blocks, B for 64/16); '
         'residual with conv bias; sharing list ["layer"]; opset 13; T 0'),
    Case('chunked_7x7', 3011, models.chunked_net, (1, 3, 14, 14), 13, 0.0,
         'KW 3x3 convs 64->64 (one with bias and a residual) on 7x7 images: 8 L1 chunks of input channels '
         'and pixel tiles that fit one group, so AVX-512 (variant B) assembles each chunk and convolves with it '
         'at once (variant B, kw__kwconv_block_b_chunked); sharing list ["layer"]; opset 13; T 0'),
    Case('chunked_12x12', 3013, models.chunked_net, (1, 3, 24, 24), 13, 0.0,
         'the KW 3x3 convs of chunked_7x7 on 12x12 images: 24 pixel tiles (2 per row on every vector '
         'target), more than the 16 that a group of variant B takes, still one group on the chunked path '
         '(up to KW_B_KWTILES = 32, the partial sums in scratch); sharing list ["layer"]; opset 13; T 0'),
    Case('chunked_go_4x4', 3012, models.chunked_go_net, (1, 3, 28, 28), 13, 0.0,
         'stem and max pooling to 7x7, then KW 3x3 convs 64->128 stride 2 (cells 64x64 per tap: Go 2) and 128->128 with bias and a residual '
         '(Go 2, Gi 2) on 4x4 images: the tiles of both blocks of a warehouse slice fit one group, so the '
         'vector targets assemble their chunks from each stream together and convolve with them at once '
         '(kw__kwconv_block_b_chunked with grp 2); sharing list ["layer"]; opset 13; T 0'),
]


# --------------------------------------------------------------------------------------------------
# Seeded inference state
# --------------------------------------------------------------------------------------------------

def _set(p, arr):
    with torch.no_grad():
        p.copy_(torch.from_numpy(np.asarray(arr, dtype=np.float32).reshape(tuple(p.shape))))


def draw_parameters(model, rng):
    """Redraw every parameter and buffer (BN statistics are refined by calibrate())."""
    seen = set()

    def mark(*ps):
        for p in ps:
            if p is not None:
                seen.add(id(p))

    skip = set()
    for name, mod in model.named_modules():
        if id(mod) in skip:
            continue
        if isinstance(mod, WarehouseManager):
            for wid, w in enumerate(mod.weights):
                shapes = mod.warehouse_list[list(mod.warehouse_list.keys())[wid]]
                fan_in = np.mean([np.prod(s[1:]) for s in shapes])
                n = w.shape[0]
                # the assembled kernel mixes ~n cells with weights of size ~1/(n+1): scale so that it
                # lands near a Kaiming-sized kernel
                _set(w, rng.standard_normal(w.shape) * math.sqrt(2.0 * (n + 1) / fan_in))
                mark(w)
        elif isinstance(mod, Attention):
            for sub in mod.modules():
                skip.add(id(sub))
            fc1 = mod.fc1
            _set(fc1.weight, rng.standard_normal(fc1.weight.shape))
            if fc1.bias is not None:
                _set(fc1.bias, np.zeros(fc1.bias.shape))
            mark(fc1.weight, fc1.bias, mod.norm1.weight, mod.norm1.bias)
            hid = mod.hidden_planes
            _set(mod.fc2.weight, rng.standard_normal(mod.fc2.weight.shape) / math.sqrt(hid))
            mark(mod.fc2.weight)
            if mod.fc2.bias is not None:
                _set(mod.fc2.bias, rng.standard_normal(mod.fc2.bias.shape))
                mark(mod.fc2.bias)
            if mod.use_basis:
                _set(mod.fc3.weight, rng.standard_normal(mod.fc3.weight.shape) / math.sqrt(mod.num_basis))
                _set(mod.basis_bias, rng.standard_normal(mod.basis_bias.shape))
                mark(mod.fc3.weight, mod.basis_bias)
        elif isinstance(mod, KWConvNd):
            if mod.bias is not None:
                _set(mod.bias, rng.standard_normal(mod.bias.shape) * 0.2)
                mark(mod.bias)
        elif isinstance(mod, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            fan_in = np.prod(mod.weight.shape[1:])
            _set(mod.weight, rng.standard_normal(mod.weight.shape) * math.sqrt(2.0 / fan_in))
            mark(mod.weight)
            if mod.bias is not None:
                _set(mod.bias, rng.standard_normal(mod.bias.shape) * 0.1)
                mark(mod.bias)
        elif isinstance(mod, nn.Linear):
            _set(mod.weight, rng.standard_normal(mod.weight.shape) / math.sqrt(mod.weight.shape[1]))
            mark(mod.weight)
            if mod.bias is not None:
                _set(mod.bias, rng.standard_normal(mod.bias.shape) * 0.1)
                mark(mod.bias)
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, LayerNorm2d)):
            _set(mod.weight, rng.uniform(0.5, 1.5, mod.weight.shape))
            _set(mod.bias, rng.standard_normal(mod.bias.shape) * 0.2)
            mark(mod.weight, mod.bias)
        elif isinstance(mod, models.ConvNeXtBlock):
            _set(mod.gamma, rng.uniform(0.3, 1.0, mod.gamma.shape))
            mark(mod.gamma)
    missed = [n for n, p in model.named_parameters() if id(p) not in seen]
    assert not missed, 'parameters left at their defaults: %s' % missed


def _module_input(model, mod, xs):
    box = []
    h = mod.register_forward_hook(lambda m, inp, out: box.append(inp[0].detach().double()))
    with torch.no_grad():
        model(xs)
    h.remove()
    return box[0]


def _forward_order(model, xs, types):
    order, hooks = [], []
    for mod in model.modules():
        if isinstance(mod, types):
            hooks.append(mod.register_forward_hook(lambda m, i, o: order.append(m) if m not in order else None))
    with torch.no_grad():
        model(xs)
    for h in hooks:
        h.remove()
    return order


def calibrate(model, xs, rng):
    """In forward order, fit each attention and each network BatchNorm to the statistics of its actual
    input over a random batch, so that the attention depends on the input and activations stay O(1)."""
    network_bn = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
    attn_norms = {id(m.norm1) for m in model.modules() if isinstance(m, Attention)}
    order = _forward_order(model, xs, (Attention,) + network_bn)
    for mod in order:
        if not isinstance(mod, Attention) and id(mod) in attn_norms:
            continue
        x = _module_input(model, mod, xs)
        if isinstance(mod, Attention):
            s = x.reshape(x.shape[0], x.shape[1], -1).mean(-1)               # (N, C)
            w1 = mod.fc1.weight.detach().double()
            u = s @ w1.t()                                                   # (N, hidden)
            mu = u.mean(0).numpy()
            sd = u.std(0).numpy()
            hid = mu.shape[0]
            # Normalise by the spread across inputs, but never by less than ATT_KAPPA * |mean|: the
            # centring then amplifies float32 rounding of the pooled features at most 1/ATT_KAPPA-fold.
            scale = np.sqrt(sd ** 2 + (ATT_KAPPA * mu) ** 2) + 1e-12
            if isinstance(mod.norm1, nn.BatchNorm1d):
                _set(mod.norm1.running_mean, mu + 0.1 * sd * rng.standard_normal(hid))
                _set(mod.norm1.running_var, (scale * rng.uniform(0.8, 1.25, hid)) ** 2)
            else:
                _set(mod.fc1.weight, w1.numpy() / scale[:, None])
                _set(mod.fc1.bias, -mu / scale + 0.3 * rng.standard_normal(hid))
            _set(mod.norm1.weight, rng.uniform(0.7, 1.3, hid))
            _set(mod.norm1.bias, 0.3 * rng.standard_normal(hid))
            # Scale the logits so that a row's L1 sum over the n+1 planes is ~ATT_L1: the 1e-3 of the
            # normalisation then moves the attention by ~0.4%, enough for a test to notice it missing.
            # (Everything else in the normalised attention is invariant to this scale.)
            with torch.no_grad():
                h = mod.act1(mod.norm1(mod.fc1(s.float())))
                z = mod.fc2(h)
                if mod.use_basis:
                    z = mod._basis_logits(z)
                l1 = z.double().reshape(-1, mod.kw_planes_per_mixture).abs().sum(1).mean().item()
            f = ATT_L1 / l1
            _set(mod.fc2.weight, mod.fc2.weight.detach().double().numpy() * f)
            if mod.fc2.bias is not None:
                _set(mod.fc2.bias, mod.fc2.bias.detach().double().numpy() * f)
            if mod.use_basis:
                _set(mod.basis_bias, mod.basis_bias.detach().double().numpy() * f)
        else:
            dims = [0] + list(range(2, x.dim()))
            mean = x.mean(dims).numpy()
            var = x.var(dims).numpy()
            c = mean.shape[0]
            _set(mod.running_mean, mean + 0.1 * np.sqrt(var) * rng.standard_normal(c))
            _set(mod.running_var, var * rng.uniform(0.8, 1.25, c))


# --------------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------------

def attention_outputs(model, x):
    outs, hooks = [], []
    for mod in model.modules():
        if isinstance(mod, Attention):
            hooks.append(mod.register_forward_hook(lambda m, i, o: outs.append(o.detach().double())))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return outs


def _mutated_attention(variant):
    """Attention.forward with one deliberate mistake, to measure how much each detail shows in the output."""
    def forward(self, x):
        x = self.avgpool(x.reshape(*x.shape[:2], -1)).squeeze(dim=-1)
        x = self.fc2(self.act1(self.norm1(self.fc1(x))))
        if self.use_basis:
            x = self._basis_logits(x)
        x = x.reshape(-1, self.kw_planes_per_mixture)
        if variant == 'no_eps':
            den = torch.sum(torch.abs(x), dim=1).view(-1, 1)
        elif variant == 'zero_plane_not_in_l1':
            den = torch.sum(torch.abs(x[:, :-1]), dim=1).view(-1, 1) + 1e-3
        else:
            den = torch.sum(torch.abs(x), dim=1).view(-1, 1) + 1e-3
        x = x / den
        t = 0.0 if variant == 'temperature_ignored' else self.temp_value
        x = (1.0 - t) * x.reshape(-1, self.kw_planes) + t * self.temp_bias.view(1, -1)
        return x.reshape(-1, self.kw_planes_per_mixture)[:, :-1]
    return forward


def sensitivity(model, x, x2, y, temperature):
    """Relative output change caused by typical attention mistakes (compare with the tolerance)."""
    out = {}
    variants = ['no_eps', 'zero_plane_not_in_l1'] + (['temperature_ignored'] if temperature else [])
    saved = Attention.forward
    try:
        for v in variants:
            Attention.forward = _mutated_attention(v)
            with torch.no_grad():
                out[v] = rel(model(x).numpy(), y)
    finally:
        Attention.forward = saved
    other = iter(attention_outputs(model, x2))
    hooks = [m.register_forward_hook(lambda mod, i, o: next(other).to(o.dtype))
             for m in model.modules() if isinstance(m, Attention)]
    with torch.no_grad():
        out['attention_from_other_input'] = rel(model(x).numpy(), y)
    for h in hooks:
        h.remove()
    return out


def rel(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def tolerance_for(d):
    """max(1e-4, 10*d), rounded up to two significant digits."""
    t = 10.0 * d
    if t <= 1e-4:
        return 1e-4
    e = math.floor(math.log10(t)) - 1
    return math.ceil(t / 10 ** e) * 10 ** e


# --------------------------------------------------------------------------------------------------
# Export and structural checks
# --------------------------------------------------------------------------------------------------

def export_bytes(model, x, opset):
    f = io.BytesIO()
    torch.onnx.export(model, x, f, opset_version=opset, do_constant_folding=True,
                      input_names=['input'], output_names=['output'])
    return f.getvalue()


def kw_layers_in_forward_order(model, x):
    order, hooks = [], []
    for mod in model.modules():
        if isinstance(mod, KWConvNd):
            hooks.append(mod.register_forward_hook(lambda m, i, o: order.append(m)))
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    return order


def onnx_kw_chains(onnx_model):
    """For every Conv whose weight is computed: (conv node, gemm node, warehouse initializer, ops of the
    attention + assembly subgraph between the feature map and the weight)."""
    g = onnx_model.graph
    inits = {i.name: i for i in g.initializer}
    producer = {}
    for idx, node in enumerate(g.node):
        for o in node.output:
            producer[o] = (idx, node)

    def prod(name, op):
        idx, node = producer[name]
        assert node.op_type == op, 'expected %s producing %s, found %s' % (op, name, node.op_type)
        return node

    chains = []
    for conv in g.node:
        if conv.op_type != 'Conv' or conv.input[1] in inits:
            continue
        r2 = prod(conv.input[1], 'Reshape')
        tr = prod(r2.input[0], 'Transpose')
        r1 = prod(tr.input[0], 'Reshape')
        gemm = prod(r1.input[0], 'Gemm')
        assert len(gemm.input) == 2 and gemm.input[1] in inits, 'assembly Gemm must be A @ initializer'
        attrs = {a.name: a for a in gemm.attribute}
        assert attrs['beta'].f == 0.0 and attrs.get('transB') is None
        xr = prod(conv.input[0], 'Reshape')
        fmap = xr.input[0]
        # nodes strictly between the feature map and the weight
        sub, stack = set(), [conv.input[1]]
        while stack:
            t = stack.pop()
            if t == fmap or t in inits or t not in producer:
                continue
            idx, node = producer[t]
            if idx in sub:
                continue
            sub.add(idx)
            stack.extend(node.input)
        ops = [g.node[i].op_type for i in sorted(sub) if g.node[i].op_type != 'Constant']
        perm = [a for a in tr.attribute if a.name == 'perm'][0].ints
        chains.append(dict(conv=conv, gemm=gemm, warehouse=gemm.input[1], ops=ops, perm=list(perm),
                           wshape=list(inits[gemm.input[1]].dims)))
    return chains


def describe(model, x, onnx_model):
    wm = model.warehouse_manager
    names = list(wm.warehouse_list.keys())
    fwd = kw_layers_in_forward_order(model, x)
    assert len(set(map(id, fwd))) == len(fwd), 'a KW layer runs twice'
    regs = [m for m in model.modules() if isinstance(m, KWConvNd)]
    modname = {id(m): n for n, m in model.named_modules()}
    in_kwlinear = {id(m.conv) for m in model.modules() if isinstance(m, KWLinear)}
    chains = onnx_kw_chains(onnx_model)
    assert len(chains) == len(fwd), 'ONNX has %d KW convs, model %d' % (len(chains), len(fwd))

    wh_init = {}
    layers = []
    patterns = {}
    for mod, ch in zip(fwd, chains):
        wid = mod.warehouse_id
        n = mod.cell_shape[0]
        S = int(np.prod(mod.cell_shape[1:]))
        assert ch['wshape'] == [n, S], (ch['wshape'], n, S)
        assert wh_init.setdefault(wid, ch['warehouse']) == ch['warehouse'], 'warehouse split in ONNX'
        assert ch['perm'] == list(mod.permute)
        cattr = {a.name: onnx.helper.get_attribute_value(a) for a in ch['conv'].attribute}
        assert cattr['group'] == mod.groups and list(cattr['kernel_shape']) == list(mod.kernel_size)
        assert list(cattr['strides']) == list(mod.stride) and list(cattr['dilations']) == list(mod.dilation)
        assert list(cattr['pads']) == list(mod.padding) * 2
        a = mod.attention
        layers.append(dict(
            module=modname[id(mod)],
            type='KWLinear' if id(mod) in in_kwlinear else type(mod).__name__,
            registration_index=regs.index(mod),
            warehouse_id=wid, warehouse_name=names[wid],
            m=mod.num_local_mixture, start=mod.start_cell_idx, end=mod.end_cell_idx,
            kernel=list(mod.kernel_size), weight_shape=[mod.out_planes, mod.in_planes // mod.groups,
                                                        *mod.kernel_size],
            in_planes=mod.in_planes, out_planes=mod.out_planes, groups=mod.groups,
            stride=list(mod.stride), padding=list(mod.padding), dilation=list(mod.dilation),
            bias=mod.bias is not None,
            G_o=mod.groups_out_channel, G_i=mod.groups_in_channel, G_s=mod.groups_spatial,
            hidden=a.hidden_planes, P=a.kw_planes_per_mixture, K=a.kw_planes,
            L=a.num_local_cell, NL=a.num_nonlocal_cell, basis=a.num_basis if a.use_basis else None,
            norm='BatchNorm1d' if a.norm_is_batchnorm else 'LayerNorm',
            temperature=a.temp_value,
            onnx_conv=ch['conv'].name, onnx_gemm=ch['gemm'].name))
        patterns[' '.join(ch['ops'])] = patterns.get(' '.join(ch['ops']), 0) + 1
    assert len(set(wh_init.values())) == len(wh_init), 'two warehouses share an ONNX initializer'
    first_use = []
    for lay in layers:
        if lay['warehouse_id'] not in first_use:
            first_use.append(lay['warehouse_id'])
    warehouses = []
    for wid, name in enumerate(names):
        w = wm.weights[wid]
        users = [l for l in layers if l['warehouse_id'] == wid]
        assert sum(1 for c in chains if c['warehouse'] == wh_init[wid]) == len(users)
        warehouses.append(dict(
            id=wid, name=name, shape=list(w.shape), layers=len(users), graph_order=first_use.index(wid),
            layer_weight_shapes=wm.warehouse_list[name], mixtures=wm.mixtures[wid],
            cell_num_ratio=wm.cell_num_ratio[wid], cell_inplane_ratio=wm.cell_inplane_ratio[wid],
            cell_outplane_ratio=wm.cell_outplane_ratio[wid], spatial_partition=wm.spatial_partition[wid],
            reduction=wm.reduction[wid], onnx_initializer=wh_init[wid]))
    assert any(w['layers'] >= 2 for w in warehouses), 'no shared warehouse'
    return warehouses, layers, patterns


# --------------------------------------------------------------------------------------------------
# One case
# --------------------------------------------------------------------------------------------------

def run_case(case, out_dir):
    import onnxruntime as ort

    torch.manual_seed(case.seed)          # only store()'s placeholder randn; every value is redrawn
    rng_w = np.random.default_rng([case.seed, 1])
    rng_cal = np.random.default_rng([case.seed, 2])
    x_np = np.random.default_rng([case.seed, 3]).standard_normal(case.input_shape, dtype=np.float32)
    x2_np = np.random.default_rng([case.seed, 4]).standard_normal(case.input_shape, dtype=np.float32)
    xs_np = np.random.default_rng([case.seed, 5]).standard_normal((CALIB_BATCH,) + tuple(case.input_shape[1:]),
                                                                  dtype=np.float32)
    x, x2, xs = torch.from_numpy(x_np), torch.from_numpy(x2_np), torch.from_numpy(xs_np)

    model = case.build().eval()
    draw_parameters(model, rng_w)
    set_temperature(model, case.temperature)
    calibrate(model, xs, rng_cal)

    with torch.no_grad():
        y = model(x).numpy().astype(np.float32)
        m64 = copy.deepcopy(model).double()
        y64 = m64(x.double()).numpy()
        y2 = model(x2).numpy()
    d64 = rel(y, y64)
    if not d64 < F64_LIMIT:
        raise SystemExit('%s: float32 vs float64 differ by %.3g (limit %g)' % (case.name, d64, F64_LIMIT))
    tol = tolerance_for(d64)

    a1, a2 = attention_outputs(model, x), attention_outputs(model, x2)
    att_dep = [float((p - q).norm() / p.norm()) for p, q in zip(a1, a2)]
    sens = sensitivity(model, x, x2, y, case.temperature)

    blob = export_bytes(model, x, case.opset)
    om = onnx.load_from_string(blob)
    onnx.checker.check_model(om)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(blob, so, providers=['CPUExecutionProvider'])
    y_ort = sess.run(None, {'input': x_np})[0]
    d_ort = rel(y_ort, y)
    if not d_ort <= tol:
        raise SystemExit('%s: onnxruntime vs PyTorch differ by %.3g (tol %g)' % (case.name, d_ort, tol))
    # the same check without ORT's graph rewrites
    so0 = ort.SessionOptions()
    so0.intra_op_num_threads = 1
    so0.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    y_ort0 = ort.InferenceSession(blob, so0, providers=['CPUExecutionProvider']).run(None, {'input': x_np})[0]
    d_ort0 = rel(y_ort0, y)
    if not d_ort0 <= tol:
        raise SystemExit('%s: onnxruntime (no opt) vs PyTorch differ by %.3g' % (case.name, d_ort0))

    warehouses, layers, patterns = describe(model, x, om)
    g = om.graph
    concat_empty = 0
    shapes = {}
    for vi in list(onnx.shape_inference.infer_shapes(om).graph.value_info):
        shapes[vi.name] = [d.dim_value for d in vi.type.tensor_type.shape.dim]
    for node in g.node:
        if node.op_type == 'Concat':
            concat_empty += sum(1 for i in node.input if 0 in shapes.get(i, [1]))
    ops = {}
    for node in g.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1

    cdir = os.path.join(out_dir, case.name)
    os.makedirs(cdir, exist_ok=True)
    with open(os.path.join(cdir, 'model.onnx'), 'wb') as f:
        f.write(blob)
    with open(os.path.join(cdir, 'input_0.bin'), 'wb') as f:
        f.write(x_np.astype('<f4').tobytes(order='C'))
    with open(os.path.join(cdir, 'output_0.bin'), 'wb') as f:
        f.write(y.astype('<f4').tobytes(order='C'))

    size = sum(os.path.getsize(os.path.join(cdir, n)) for n in ('model.onnx', 'input_0.bin', 'output_0.bin'))
    info = dict(
        case=case.name, covers=case.covers, opset=case.opset, temperature=case.temperature, seed=case.seed,
        input_name='input', output_name='output',
        input_shape=list(case.input_shape), output_shape=list(y.shape),
        tolerance=tol, f32_vs_f64_rel=d64, ort_vs_torch_rel=d_ort, ort_noopt_vs_torch_rel=d_ort0,
        out_absmax=float(np.max(np.abs(y))), out_diff_other_input_rel=rel(y2, y),
        attention_input_dependence=dict(median=float(np.median(att_dep)), min=float(np.min(att_dep)),
                                        max=float(np.max(att_dep))),
        output_change_if=sens,
        bytes=size, onnx_nodes=len(g.node), onnx_op_histogram=dict(sorted(ops.items())),
        concat_empty_inputs=concat_empty,
        kw_layer_onnx_patterns=patterns,
        sharing_range=repr(model.warehouse_manager.sharing_range),
        nonlocal_basis_ratio=model.warehouse_manager.nonlocal_basis_ratio,
        attention_norm=layers[0]['norm'],
        static_convs=sum(1 for n in g.node if n.op_type == 'Conv') - len(layers),
        num_kw_layers=len(layers), num_warehouses=len(warehouses), warehouses=warehouses, kw_layers=layers)
    print('%-24s %7d B  f32/f64 %.2e  ort %.2e  tol %.1e  att-dep med %.3f min %.3f  min-sens %.1e  kw %d  wh %s' % (
        case.name, size, d64, d_ort, tol, info['attention_input_dependence']['median'],
        info['attention_input_dependence']['min'], min(sens.values()), len(layers),
        ','.join('%s%s' % (w['shape'], 'x%d' % w['layers']) for w in warehouses)))
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=DEFAULT_OUT, help='output folder (default: tests/fixtures/kw)')
    ap.add_argument('--only', nargs='*', help='generate only these cases (cases.txt/manifest not rewritten)')
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    chosen = [c for c in CASES if not args.only or c.name in args.only]
    infos = [run_case(c, args.out) for c in chosen]
    if args.only:
        return

    with open(os.path.join(args.out, 'cases.txt'), 'w') as f:
        f.write('# KernelWarehouse fixtures, generated by tools/kwgen/gen_kw_fixtures.py (do not edit).\n')
        f.write('# <case> <tol>: <case>/model.onnx on <case>/input_0.bin must give <case>/output_0.bin with\n')
        f.write('# max|y - ref| <= tol * max(max|ref|, 1e-30). Raw little-endian float32, C order, batch 1.\n')
        for i in infos:
            f.write('%s %.2g\n' % (i['case'], i['tolerance']))
    manifest = dict(
        generator='tools/kwgen/gen_kw_fixtures.py',
        format='raw little-endian float32, C order, no header; graph input "input", output "output"',
        pass_rule='max|y - ref| <= tol * max(max|ref|, 1e-30)',
        notes=['warehouse id = order of first reservation (official warehouse_id); kw_layers are listed in '
               'forward (= ONNX graph) order; start/end is the cell range [start, end) the layer owns '
               '(temp_bias and the basis concat); at inference every layer mixes all n cells.',
               'warehouse shape = [n, cell_out, cell_in, *cell_k]; the ONNX initializer (onnx_initializer) is '
               'that tensor reshaped to [n, S], shared by the assembly Gemm of every layer of the warehouse; '
               'graph_order ranks warehouses by first use in the graph.',
               'L = int(r_n*m), NL = n - L, basis = B (non-local basis path only); P = n+1, K = m*P.'],
        total_bytes=sum(i['bytes'] for i in infos),
        cases=infos)
    with open(os.path.join(args.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write('\n')
    print('total %d bytes in %d cases' % (manifest['total_bytes'], len(infos)))


if __name__ == '__main__':
    main()
