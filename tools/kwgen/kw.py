"""KernelWarehouse (KW) modules for kwcc's fixture generator (dev-time only).

Written from docs/KW_SEMANTICS.md (the contract): build-time warehouse bookkeeping (section 1), the
attention forward (section 2) and the KW convolution forward (section 3).  The forward code is written so
that torch 1.13's `torch.onnx.export(do_constant_folding=True)` emits the node pattern documented in
docs/KW_ONNX.md (Reshape, GlobalAveragePool on rank 3, Squeeze, fc1, norm, Relu, fc2, Reshape[-1,P], Abs,
ReduceSum, ..., Slice, Gemm against the shared warehouse, Reshape, rank-8 Transpose, Reshape, Conv).
Keep the expressions as they are: small rewrites (e.g. `x.mean` instead of the reshape + pool, or a
registered buffer for temp_bias) change the exported graph.

Usage, as in the official models:

    wm = WarehouseManager(reduction=1/16, cell_num_ratio=1, sharing_range="layer_conv")
    conv = wm.reserve(64, 64, 3, padding=1, bias=False, warehouse_name="stage0_layer0_conv0")
    ...                                     # every reserve() before store()
    wm.store()                              # cell shapes and warehouse sizes
    wm.allocate(net)                        # attentions + cell ranges, in net.modules() order
"""

import math
from collections.abc import Iterable

import torch
import torch.nn as nn
import torch.nn.functional as F


def per_item(value, count):
    """Broadcast a scalar to `count` entries; a sequence must have length 1 or `count`."""
    if isinstance(value, Iterable) and not isinstance(value, str):
        value = list(value)
        if len(value) == 1:
            return value * count
        if len(value) == count:
            return value
        raise ValueError("expected 1 or %d values, got %d" % (count, len(value)))
    return [value] * count


# --------------------------------------------------------------------------------------------------
# Attention (KW_SEMANTICS.md 1.5 and 2)
# --------------------------------------------------------------------------------------------------

class Attention(nn.Module):
    """Per-layer attention: x (N, C, *sp) -> A (N*m, n), the weights of the n warehouse cells for each of
    the m kernel cells ("mixtures") of the layer."""

    def __init__(self, in_planes, reduction, num_static_cell, num_local_mixture, norm_layer=nn.BatchNorm1d,
                 cell_num_ratio=1.0, nonlocal_basis_ratio=1.0, start_cell_idx=0):
        super().__init__()
        n, m = num_static_cell, num_local_mixture
        hidden = max(int(in_planes * reduction), 16)
        self.hidden_planes = hidden
        self.kw_planes_per_mixture = n + 1                 # P: n cells + the "zero" plane
        self.num_local_mixture = m
        self.kw_planes = m * (n + 1)                       # K
        self.num_local_cell = int(cell_num_ratio * m)      # L
        self.num_nonlocal_cell = n - self.num_local_cell   # NL
        self.start_cell_idx = start_cell_idx
        self.norm_is_batchnorm = norm_layer is nn.BatchNorm1d

        self.avgpool = nn.AdaptiveAvgPool1d(1)
        self.fc1 = nn.Linear(in_planes, hidden, bias=not self.norm_is_batchnorm)
        self.norm1 = norm_layer(hidden)
        self.act1 = nn.ReLU(inplace=True)

        self.use_basis = nonlocal_basis_ratio < 1.0
        if not self.use_basis:
            self.num_basis = 0
            self.fc2 = nn.Linear(hidden, self.kw_planes, bias=True)
        else:
            self.num_basis = max(int(self.num_nonlocal_cell * nonlocal_basis_ratio), 16)   # B
            self.fc2 = nn.Linear(hidden, (self.num_local_cell + self.num_basis + 1) * m, bias=False)
            self.fc3 = nn.Linear(self.num_basis, self.num_nonlocal_cell, bias=False)
            self.basis_bias = nn.Parameter(torch.zeros([self.kw_planes]))

        # Not a parameter or buffer: rebuilt by init_temperature, absent from the state dict, and traced
        # as a Constant node (T * temp_bias) by the exporter.
        self.temp_bias = torch.zeros([self.kw_planes])
        self.temp_value = 0.0

    def update_temperature(self, temp_value):
        self.temp_value = temp_value

    def init_temperature(self, start_cell_idx, cell_num_ratio):
        """Set the one-hot temp_bias rows and return the end of this layer's cell range."""
        P = self.kw_planes_per_mixture
        cur = start_cell_idx
        if cell_num_ratio >= 1.0:
            c = int(cell_num_ratio)
            for j in range(self.num_local_mixture):
                self.temp_bias[j * P + cur] = 1.0
                cur += c
        else:
            q = int(1.0 / cell_num_ratio)
            for j in range(self.num_local_mixture):
                if j % q == (j // q) % q:
                    self.temp_bias[j * P + cur] = 1.0
                    cur += 1
                else:
                    self.temp_bias[j * P + P - 1] = 1.0     # the zero plane
        return cur

    def _basis_logits(self, y):
        """Non-local basis path (KW_SEMANTICS.md 2.3, r_b < 1): rows of length L+B+1 -> rows of P."""
        L = self.num_local_cell
        y = y.reshape(-1, L + self.num_basis + 1)
        loc, nl, zero = y[:, :L], y[:, L:-1], y[:, -1:]
        nl = self.fc3(nl)
        s = self.start_cell_idx
        y = torch.cat([nl[:, :s], loc, nl[:, s:], zero], dim=1)
        return y.reshape(-1, self.kw_planes) + self.basis_bias.reshape(1, -1)

    def forward(self, x):
        x = self.avgpool(x.reshape(*x.shape[:2], -1)).squeeze(dim=-1)
        x = self.act1(self.norm1(self.fc1(x)))
        x = self.fc2(x)
        if self.use_basis:
            x = self._basis_logits(x)
        x = x.reshape(-1, self.kw_planes_per_mixture)
        x = x / (torch.sum(torch.abs(x), dim=1).view(-1, 1) + 1e-3)
        x = (1.0 - self.temp_value) * x.reshape(-1, self.kw_planes) \
            + self.temp_value * self.temp_bias.to(x.device).view(1, -1)
        return x.reshape(-1, self.kw_planes_per_mixture)[:, :-1]


# --------------------------------------------------------------------------------------------------
# KW convolutions (KW_SEMANTICS.md 1.4 and 3)
# --------------------------------------------------------------------------------------------------

class KWConvNd(nn.Module):
    dimension = None
    permute = None
    conv_fn = None

    def __init__(self, in_planes, out_planes, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=False, warehouse_id=None, warehouse_manager=None, warehouse_name=None):
        super().__init__()
        d = self.dimension
        self.in_planes = in_planes
        self.out_planes = out_planes
        self.kernel_size = per_item(kernel_size, d)
        self.stride = per_item(stride, d)
        self.padding = per_item(padding, d)
        self.dilation = per_item(dilation, d)
        self.groups = groups
        self.bias = nn.Parameter(torch.zeros([out_planes])) if bias else None
        self.warehouse_id = warehouse_id
        self.warehouse_name = warehouse_name
        # kept in a list so the manager is not registered as a child of every layer
        self.warehouse_manager = [warehouse_manager]

    def init_attention(self, cell, start_cell_idx, reduction, cell_num_ratio, norm_layer,
                       nonlocal_basis_ratio=1.0):
        self.cell_shape = tuple(cell.shape)                 # [n, cell_out, cell_in, *cell_k]
        self.groups_out_channel = self.out_planes // self.cell_shape[1]
        self.groups_in_channel = self.in_planes // self.cell_shape[2] // self.groups
        gs = 1
        for i, k in enumerate(self.kernel_size):
            gs = gs * k // self.cell_shape[3 + i]
        self.groups_spatial = gs
        m = self.groups_out_channel * self.groups_in_channel * self.groups_spatial
        self.num_local_mixture = m
        self.start_cell_idx = start_cell_idx
        self.attention = Attention(self.in_planes, reduction, self.cell_shape[0], m, norm_layer=norm_layer,
                                   cell_num_ratio=cell_num_ratio, nonlocal_basis_ratio=nonlocal_basis_ratio,
                                   start_cell_idx=start_cell_idx)
        self.end_cell_idx = self.attention.init_temperature(start_cell_idx, cell_num_ratio)
        return self.end_cell_idx

    def forward(self, x):
        # No .type(x.dtype) here: it would leave a Cast node in the export.  In float64 runs the
        # attention is float64 anyway (its only float32 constant, temp_bias, is promoted).
        kw_attention = self.attention(x)
        batch_size = x.shape[0]
        x = x.reshape(1, -1, *x.shape[2:])
        weight = self.warehouse_manager[0].take_cell(self.warehouse_id)
        weight = weight.reshape(self.cell_shape[0], -1).type(x.dtype)
        aggregate_weight = torch.mm(kw_attention, weight)
        aggregate_weight = aggregate_weight.reshape(
            [batch_size, self.groups_spatial, self.groups_out_channel, self.groups_in_channel,
             *self.cell_shape[1:]])
        aggregate_weight = aggregate_weight.permute(*self.permute)
        aggregate_weight = aggregate_weight.reshape(-1, self.in_planes // self.groups, *self.kernel_size)
        output = self.conv_fn(x, weight=aggregate_weight, bias=None, stride=self.stride, padding=self.padding,
                              dilation=self.dilation, groups=self.groups * batch_size)
        output = output.view(batch_size, self.out_planes, *output.shape[2:])
        if self.bias is not None:
            output = output + self.bias.reshape(1, -1, *([1] * self.dimension))
        return output


class KWConv1d(KWConvNd):
    dimension = 1
    permute = (0, 2, 4, 3, 5, 1, 6)
    conv_fn = staticmethod(F.conv1d)


class KWConv2d(KWConvNd):
    dimension = 2
    permute = (0, 2, 4, 3, 5, 1, 6, 7)
    conv_fn = staticmethod(F.conv2d)


class KWConv3d(KWConvNd):
    dimension = 3
    permute = (0, 2, 4, 3, 5, 1, 6, 7, 8)
    conv_fn = staticmethod(F.conv3d)


class KWLinear(nn.Module):
    """(N, ..., C) -> (N, ..., O) through a kernel-1 KWConv1d over (N, C, T)."""
    dimension = 1

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.conv = KWConv1d(*args, **kwargs)

    def forward(self, x):
        shape = x.shape
        x = self.conv(x.reshape(shape[0], -1, shape[-1]).transpose(1, 2))
        return x.transpose(1, 2).reshape(*shape[:-1], -1)


# --------------------------------------------------------------------------------------------------
# Warehouse manager (KW_SEMANTICS.md 1.1 - 1.4)
# --------------------------------------------------------------------------------------------------

_KW_TYPES = {'conv1d': KWConv1d, 'conv2d': KWConv2d, 'conv3d': KWConv3d, 'linear': KWLinear}
_PLAIN_TYPES = {'conv1d': nn.Conv1d, 'conv2d': nn.Conv2d, 'conv3d': nn.Conv3d, 'linear': nn.Linear}


class WarehouseManager(nn.Module):
    """Hyper-parameters (reduction, cell_num_ratio, cell_inplane_ratio, cell_outplane_ratio,
    spatial_partition) are a scalar or a per-warehouse sequence (in order of first reservation);
    nonlocal_basis_ratio is one value for all layers.  `sharing_range` is iterated as a sequence: a
    string gives its characters (the official quirk), a list gives whole words."""

    def __init__(self, reduction=0.0625, cell_num_ratio=1, cell_inplane_ratio=1, cell_outplane_ratio=1,
                 sharing_range=(), nonlocal_basis_ratio=1, norm_layer=nn.BatchNorm1d, spatial_partition=True):
        super().__init__()
        self.sharing_range = sharing_range
        self.warehouse_list = {}              # fused name -> [weight shapes], insertion ordered
        self.reduction = reduction
        self.spatial_partition = spatial_partition
        self.cell_num_ratio = cell_num_ratio
        self.cell_inplane_ratio = cell_inplane_ratio
        self.cell_outplane_ratio = cell_outplane_ratio
        self.nonlocal_basis_ratio = nonlocal_basis_ratio
        self.norm_layer = norm_layer
        self.weights = nn.ParameterList()

    def fuse_warehouse_name(self, warehouse_name):
        pieces = []
        for piece in warehouse_name.split('_'):
            t = piece
            for s in self.sharing_range:       # characters when sharing_range is a string
                if t.startswith(s):
                    t = s
            pieces.append(t)
        return '_'.join(pieces)

    def reserve(self, in_planes, out_planes, kernel_size=1, stride=1, padding=0, dilation=1, groups=1,
                bias=True, warehouse_name='default', enabled=True, layer_type='conv2d'):
        if not enabled:
            plain = _PLAIN_TYPES[layer_type]
            if plain is nn.Linear:
                return plain(in_planes, out_planes, bias=bias)
            return plain(in_planes, out_planes, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias)
        kw_type = _KW_TYPES[layer_type]
        name = self.fuse_warehouse_name(warehouse_name)
        shape = [out_planes, in_planes // groups, *per_item(kernel_size, kw_type.dimension)]
        self.warehouse_list.setdefault(name, []).append(shape)
        wid = list(self.warehouse_list.keys()).index(name)
        return kw_type(in_planes, out_planes, kernel_size, stride=stride, padding=padding, dilation=dilation,
                       groups=groups, bias=bias, warehouse_id=wid, warehouse_manager=self,
                       warehouse_name=name)

    def store(self):
        names = list(self.warehouse_list.keys())
        cnt = len(names)
        self.reduction = per_item(self.reduction, cnt)
        self.spatial_partition = per_item(self.spatial_partition, cnt)
        self.cell_num_ratio = per_item(self.cell_num_ratio, cnt)
        self.cell_inplane_ratio = per_item(self.cell_inplane_ratio, cnt)
        self.cell_outplane_ratio = per_item(self.cell_outplane_ratio, cnt)
        self.mixtures = []
        for idx, name in enumerate(names):
            shapes = self.warehouse_list[name]
            dim = len(shapes[0]) - 2
            gcd_out, gcd_in, ksize = shapes[0][0], shapes[0][1], shapes[0][2:]
            for s in shapes:
                assert len(s) - 2 == dim, "warehouse %s mixes conv dimensions" % name
                gcd_out = math.gcd(gcd_out, s[0])
                gcd_in = math.gcd(gcd_in, s[1])
                if not self.spatial_partition[idx]:
                    assert s[2:] == ksize, "spatial_partition=False needs equal kernels in %s" % name
            cell_in = max(int(gcd_in * self.cell_inplane_ratio[idx]), 1)
            cell_out = max(int(gcd_out * self.cell_outplane_ratio[idx]), 1)
            cell_k = [1] * dim if self.spatial_partition[idx] else list(ksize)
            total = 0
            for s in shapes:
                # Only configurations where the cells tile every layer exactly are supported.
                assert s[0] % cell_out == 0 and s[1] % cell_in == 0, "cells do not tile %s" % name
                channel = s[0] // cell_out * s[1] // cell_in
                spatial = 1
                for d in range(dim):
                    spatial = spatial * s[2 + d] // cell_k[d]
                total += channel * spatial
            self.mixtures.append(total)
            n = max(int(total * self.cell_num_ratio[idx]), 1)
            self.weights.append(nn.Parameter(torch.randn(n, cell_out, cell_in, *cell_k)))

    def allocate(self, network):
        """Build every KW layer's attention, in network.modules() (registration) order, with a cell
        cursor per warehouse; every warehouse must be consumed exactly."""
        end = [0] * len(self.weights)
        for layer in network.modules():
            if isinstance(layer, KWConvNd):
                wid = layer.warehouse_id
                end[wid] = layer.init_attention(self.weights[wid], end[wid], self.reduction[wid],
                                                self.cell_num_ratio[wid], norm_layer=self.norm_layer,
                                                nonlocal_basis_ratio=self.nonlocal_basis_ratio)
        for wid, e in enumerate(end):
            assert e == self.weights[wid].shape[0], \
                "warehouse %d: cells used %d != n %d" % (wid, e, self.weights[wid].shape[0])

    def take_cell(self, warehouse_id):
        return self.weights[warehouse_id]


def set_temperature(network, temp_value):
    """The official net_update_temperature: set T on every attention."""
    for mod in network.modules():
        if isinstance(mod, Attention):
            mod.update_temperature(temp_value)
