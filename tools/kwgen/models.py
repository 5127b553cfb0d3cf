"""Small KW models for kwcc's fixtures (dev-time only).

Every model follows the official construction pattern: the WarehouseManager is the first attribute,
every dynamic layer comes from `reserve()`, and `__init__` ends with `store()` and `allocate(self)`.
Warehouse names are written as the official models write them ('stage{s}_layer{l}_conv{c}', ...) and
fused by the manager's sharing_range.  Each builder returns the model; the case table in
gen_kw_fixtures.py gives the input shape, opset, temperature and what the case covers.
"""

import torch
import torch.nn as nn

from kw import WarehouseManager


# --------------------------------------------------------------------------------------------------
# ResNet-like (BasicBlock / Bottleneck, official warehouse hand-over between stages)
# --------------------------------------------------------------------------------------------------

def _wname(stage, layer, conv):
    return 'stage{}_layer{}_conv{}'.format(stage, layer, conv)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, wm, inplanes, planes, stride, stage, layer):
        super().__init__()
        # the first conv of a stage > 0 lives in the previous stage's warehouse
        first_stage = stage - 1 if (layer == 0 and stage > 0) else stage
        self.conv1 = wm.reserve(inplanes, planes, 3, stride=stride, padding=1, bias=False,
                                warehouse_name=_wname(first_stage, layer, 0))
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = wm.reserve(planes, planes, 3, padding=1, bias=False, warehouse_name=_wname(stage, layer, 1))
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            # registered after conv2: modules() order != forward order
            self.downsample = nn.Sequential(
                wm.reserve(inplanes, planes, 1, stride=stride, bias=False,
                           warehouse_name=_wname(max(stage - 1, 0), layer, 2), enabled=stride != 1),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(identity + out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, wm, inplanes, planes, stride, stage, layer):
        super().__init__()
        first_stage = stage - 1 if (layer == 0 and stage > 0) else stage
        out = planes * self.expansion
        # as in the official ResNet-50: the very first conv1 is a plain conv
        self.conv1 = wm.reserve(inplanes, planes, 1, bias=False, warehouse_name=_wname(first_stage, layer, 0),
                                enabled=not (stage == 0 and layer == 0))
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = wm.reserve(planes, planes, 3, stride=stride, padding=1, bias=False,
                                warehouse_name=_wname(stage, layer, 1))
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = wm.reserve(planes, out, 1, bias=False, warehouse_name=_wname(stage, layer, 2))
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inplanes != out:
            # stride-1 downsamples are plain convs (enabled=False), as in the official code
            self.downsample = nn.Sequential(
                wm.reserve(inplanes, out, 1, stride=stride, bias=False,
                           warehouse_name=_wname(max(stage - 1, 0), layer, 3), enabled=stride != 1),
                nn.BatchNorm2d(out))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(identity + out)


class TinyResNet(nn.Module):
    """Plain 3x3 stem (static conv + BN, folded by the exporter), KW stages, GAP, plain fc."""

    def __init__(self, block, widths, blocks, wm_kwargs, stem=8, num_classes=10):
        super().__init__()
        self.warehouse_manager = WarehouseManager(**wm_kwargs)
        wm = self.warehouse_manager
        self.conv1 = nn.Conv2d(3, stem, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        inplanes = stem
        stages = []
        for s, (w, nb) in enumerate(zip(widths, blocks)):
            layers = []
            for b in range(nb):
                stride = 2 if (b == 0 and s > 0) else 1
                layers.append(block(wm, inplanes, w, stride, s, b))
                inplanes = w * block.expansion
            stages.append(nn.Sequential(*layers))
        self.layers = nn.ModuleList(stages)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for stage in self.layers:
            x = stage(x)
        x = self.avgpool(x)
        return self.fc(x.reshape(x.shape[0], -1))


def resnet_basic():
    return TinyResNet(BasicBlock, [8, 16], [1, 1],
                      dict(reduction=0.0625, cell_num_ratio=1, sharing_range="layer_conv"))


def resnet_bottleneck_basis():
    return TinyResNet(Bottleneck, [4], [2],
                      dict(reduction=0.0625, cell_num_ratio=0.5, cell_inplane_ratio=1, cell_outplane_ratio=0.5,
                           sharing_range="layer_conv", nonlocal_basis_ratio=0.0625))


# --------------------------------------------------------------------------------------------------
# Ratio / temperature net: r_n 0.5 and 0.25, cell in/out ratios below 1
# --------------------------------------------------------------------------------------------------

class RatioNet(nn.Module):
    def __init__(self):
        super().__init__()
        # warehouses: 0 stage0_layer_conv (r_n .5, r_in .5, r_out .5), 1 stage1_layer_conv (.25, .25, .5)
        self.warehouse_manager = WarehouseManager(
            reduction=0.0625, sharing_range=["layer", "conv"], cell_num_ratio=(0.5, 0.25),
            cell_inplane_ratio=(0.5, 0.25), cell_outplane_ratio=(0.5, 0.5))
        wm = self.warehouse_manager
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(8)
        self.conv_a = wm.reserve(8, 8, 3, padding=1, bias=False, warehouse_name='stage0_layer0_conv0')
        self.bn_a = nn.BatchNorm2d(8)
        self.conv_b = wm.reserve(8, 8, 1, bias=False, warehouse_name='stage0_layer0_conv1')
        self.bn_b = nn.BatchNorm2d(8)
        self.conv_c = wm.reserve(8, 16, 1, stride=2, bias=False, warehouse_name='stage1_layer0_conv0')
        self.bn_c = nn.BatchNorm2d(16)
        self.conv_d = wm.reserve(16, 16, 1, bias=False, warehouse_name='stage1_layer0_conv1')
        self.bn_d = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 10)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.relu(self.stem_bn(self.stem(x)))
        y = self.relu(self.bn_a(self.conv_a(x)))
        x = self.relu(self.bn_b(self.conv_b(y)) + x)
        x = self.relu(self.bn_c(self.conv_c(x)))
        x = self.relu(self.bn_d(self.conv_d(x)) + x)
        x = self.avgpool(x)
        return self.fc(x.reshape(x.shape[0], -1))


def ratios_t03():
    return RatioNet()


# --------------------------------------------------------------------------------------------------
# MobileNetV2-like: depthwise KW convs, ReLU6 (Clip), KWLinear classifier on a 2-D input
# --------------------------------------------------------------------------------------------------

class InvertedResidual(nn.Module):
    def __init__(self, wm, inp, oup, stride, t, stage, layer):
        super().__init__()
        hidden = inp * t
        self.use_res_connect = stride == 1 and inp == oup
        layers = []
        if t != 1:
            layers += [wm.reserve(inp, hidden, 1, bias=False,
                                  warehouse_name='stage{}_layer{}_pwconv0'.format(stage, layer)),
                       nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [wm.reserve(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False,
                              warehouse_name='stage{}_layer{}_dwconv0'.format(stage, layer)),
                   nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True),
                   wm.reserve(hidden, oup, 1, bias=False,
                              warehouse_name='stage{}_layer{}_pwconv1'.format(stage, layer)),
                   nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


class TinyMobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        # warehouses in order of first reservation:
        # 0 stage1_layer_dwconv0, 1 stage1_layer_pwconv, 2 stage2_layer_pwconv, 3 stage2_layer_dwconv0, 4 classifier
        self.warehouse_manager = WarehouseManager(
            reduction=0.0625, sharing_range=['layer', 'pwconv'],
            cell_num_ratio=(1, 4, 1, 1, 1), cell_outplane_ratio=(0.5, 1, 1, 1, 1),
            cell_inplane_ratio=(1, 1, 1, 1, 0.5))
        wm = self.warehouse_manager
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU6(inplace=True))
        self.blocks = nn.Sequential(
            InvertedResidual(wm, 8, 8, 1, 1, 1, 0),
            InvertedResidual(wm, 8, 16, 2, 2, 2, 0),
            InvertedResidual(wm, 16, 16, 1, 1, 2, 1))
        self.last = nn.Sequential(
            wm.reserve(16, 32, 1, bias=False, warehouse_name='stage2_layer2_pwconv0'),
            nn.BatchNorm2d(32), nn.ReLU6(inplace=True))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.classifier = nn.Sequential(
            nn.Dropout(0.2),
            wm.reserve(32, 10, bias=True, warehouse_name='classifier', layer_type='linear'))
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.last(self.blocks(self.stem(x)))
        x = self.avgpool(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


def mbv2_tiny():
    return TinyMobileNetV2()


# --------------------------------------------------------------------------------------------------
# ConvNeXt-like: LayerNorm attention (fc1 with bias), conv bias, GELU, layer scale
# --------------------------------------------------------------------------------------------------

class LayerNorm2d(nn.Module):
    """ConvNeXt's channels_first LayerNorm (written out, so it exports as ReduceMean/Sub/Pow/...)."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class ConvNeXtBlock(nn.Module):
    def __init__(self, wm, dim, k, stage, layer):
        super().__init__()
        self.dwconv = wm.reserve(dim, dim, k, padding=k // 2, groups=dim,
                                 warehouse_name='stage{}_layer{}_dwconv0'.format(stage, layer))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = wm.reserve(dim, 4 * dim, 1, warehouse_name='stage{}_layer{}_pwconv1'.format(stage, layer))
        self.act = nn.GELU()
        self.pwconv2 = wm.reserve(4 * dim, dim, 1, warehouse_name='stage{}_layer{}_pwconv2'.format(stage, layer))
        self.gamma = nn.Parameter(1e-6 * torch.ones((dim, 1, 1)))

    def forward(self, x):
        inp = x
        x = self.dwconv(x)
        x = x.permute(0, 2, 3, 1)
        x = self.norm(x)
        x = x.permute(0, 3, 1, 2)
        x = self.pwconv2(self.act(self.pwconv1(x)))
        return inp + self.gamma * x


class TinyConvNeXt(nn.Module):
    def __init__(self, dims=(8, 16), kernels=(5, 3), num_classes=10):
        super().__init__()
        self.warehouse_manager = WarehouseManager(reduction=0.0625, sharing_range="layer_pwconv",
                                                  norm_layer=nn.LayerNorm)
        wm = self.warehouse_manager
        self.stem = nn.Sequential(
            wm.reserve(3, dims[0], 4, stride=4, warehouse_name='stagestem_conv0'),
            LayerNorm2d(dims[0]))
        self.stage0 = ConvNeXtBlock(wm, dims[0], kernels[0], 0, 0)
        self.downsample = nn.Sequential(
            LayerNorm2d(dims[0]),
            wm.reserve(dims[0], dims[1], 2, stride=2, warehouse_name='stage0_layer_conv0'))
        self.stage1 = ConvNeXtBlock(wm, dims[1], kernels[1], 1, 0)
        self.norm = nn.LayerNorm(dims[1], eps=1e-6)
        self.head = nn.Linear(dims[1], num_classes)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.stage0(self.stem(x))
        x = self.stage1(self.downsample(x))
        return self.head(self.norm(x.mean([-2, -1])))


def convnext_tiny():
    return TinyConvNeXt()


# --------------------------------------------------------------------------------------------------
# Custom nets: KWConv1d, KWConv3d, KWLinear, grouped / no-spatial-partition mixed with static convs
# --------------------------------------------------------------------------------------------------

class KW1dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.warehouse_manager = WarehouseManager(reduction=0.0625, cell_num_ratio=2, sharing_range=['layer'])
        wm = self.warehouse_manager
        r = lambda *a, **k: wm.reserve(*a, layer_type='conv1d', **k)
        self.conv_a = r(8, 16, 5, stride=2, padding=2, bias=True, warehouse_name='stage0_layer0_conv')
        self.bn_a = nn.BatchNorm1d(16)
        self.conv_b = r(16, 16, 3, padding=2, dilation=2, groups=2, bias=False, warehouse_name='stage0_layer1_conv')
        self.bn_b = nn.BatchNorm1d(16)
        self.conv_c = r(16, 32, 3, stride=2, padding=1, bias=False, warehouse_name='stage1_layer0_conv')
        self.bn_c = nn.BatchNorm1d(32)
        self.conv_d = r(32, 32, 1, groups=4, bias=True, warehouse_name='stage1_layer1_conv')
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(32, 10)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.relu(self.bn_a(self.conv_a(x)))
        x = self.relu(self.bn_b(self.conv_b(x)) + x)
        x = self.relu(self.bn_c(self.conv_c(x)))
        x = self.relu(self.conv_d(x) + x)
        return self.fc(x.mean(-1))


def kw1d_net():
    return KW1dNet()


class KW3dNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.warehouse_manager = WarehouseManager(reduction=0.0625, sharing_range=['layer'])
        wm = self.warehouse_manager
        r = lambda *a, **k: wm.reserve(*a, layer_type='conv3d', **k)
        self.conv_a = r(4, 8, 3, padding=1, bias=False, warehouse_name='stage0_layer0_conv')
        self.bn_a = nn.BatchNorm3d(8)
        self.conv_b = r(8, 8, (1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1), bias=False,
                        warehouse_name='stage1_layer0_conv')
        self.bn_b = nn.BatchNorm3d(8)
        self.conv_c = r(8, 16, (3, 1, 1), padding=(1, 0, 0), bias=True, warehouse_name='stage1_layer1_conv')
        self.conv_d = r(16, 16, 1, bias=False, warehouse_name='stage1_layer2_conv')
        self.bn_d = nn.BatchNorm3d(16)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(16, 10)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.relu(self.bn_a(self.conv_a(x)))
        x = self.relu(self.bn_b(self.conv_b(x)))
        x = self.relu(self.conv_c(x))
        x = self.relu(self.bn_d(self.conv_d(x)) + x)
        return self.fc(x.mean([-3, -2, -1]))


def kw3d_net():
    return KW3dNet()


class KWLinearMLP(nn.Module):
    """Token MLP on a (N, T, C) input, then a KWLinear head on the pooled (N, C) vector."""

    def __init__(self, dim=16, hidden=32, num_classes=10):
        super().__init__()
        # warehouses: 0 mlp_layer_fc (r_in .5, r_out .25), 1 head_fc (r_n 4, r_in .5)
        self.warehouse_manager = WarehouseManager(
            reduction=0.0625, sharing_range=['layer'], norm_layer=nn.LayerNorm,
            cell_num_ratio=(1, 4), cell_inplane_ratio=(0.5, 0.5), cell_outplane_ratio=(0.25, 1))
        wm = self.warehouse_manager
        self.fc1 = wm.reserve(dim, hidden, bias=True, warehouse_name='mlp_layer0_fc', layer_type='linear')
        self.norm1 = nn.LayerNorm(hidden)
        self.act = nn.GELU()
        self.fc2 = wm.reserve(hidden, dim, bias=True, warehouse_name='mlp_layer1_fc', layer_type='linear')
        self.norm2 = nn.LayerNorm(dim)
        self.head = wm.reserve(dim, num_classes, bias=True, warehouse_name='head_fc', layer_type='linear')
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        y = self.act(self.norm1(self.fc1(x)))
        x = x + self.fc2(y)
        x = self.norm2(x.mean(1))
        return self.head(x)


def kwlinear_mlp():
    return KWLinearMLP()


class MixedNet(nn.Module):
    """KW convs (grouped, dilated, strided, 1x1, no spatial partition) between static convs."""

    def __init__(self):
        super().__init__()
        # warehouses: 0 stage0_layer_conv (spatial partition), 1 stage1_layer_conv (cells = whole 3x3, r_n 2)
        self.warehouse_manager = WarehouseManager(reduction=0.0625, sharing_range=['layer'],
                                                  spatial_partition=(True, False), cell_num_ratio=(1, 2))
        wm = self.warehouse_manager
        self.stem = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(16)
        self.kw_g2 = wm.reserve(16, 16, 3, padding=2, dilation=2, groups=2, bias=False,
                                warehouse_name='stage0_layer0_conv')
        self.bn_g2 = nn.BatchNorm2d(16)
        self.static_pw = nn.Conv2d(16, 16, 1, bias=True)
        self.kw_g4 = wm.reserve(16, 16, 3, stride=2, padding=1, groups=4, bias=False,
                                warehouse_name='stage0_layer1_conv')
        self.bn_g4 = nn.BatchNorm2d(16)
        self.kw_pw = wm.reserve(16, 16, 1, bias=True, warehouse_name='stage0_layer2_conv')
        self.kw_nsp1 = wm.reserve(16, 16, 3, padding=1, bias=False, warehouse_name='stage1_layer0_conv')
        self.bn_nsp1 = nn.BatchNorm2d(16)
        self.kw_nsp2 = wm.reserve(16, 16, 3, padding=1, groups=2, bias=True, warehouse_name='stage1_layer1_conv')
        self.static_3x3 = nn.Conv2d(16, 16, 3, stride=2, padding=1, bias=False)
        self.static_bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 10)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.relu(self.stem_bn(self.stem(x)))
        x = self.relu(self.bn_g2(self.kw_g2(x)))
        x = self.relu(self.static_pw(x))
        x = self.relu(self.bn_g4(self.kw_g4(x)))
        x = self.relu(self.kw_pw(x) + x)
        x = self.relu(self.bn_nsp1(self.kw_nsp1(x)))
        x = self.relu(self.kw_nsp2(x))
        x = self.relu(self.static_bn(self.static_3x3(x)))
        x = self.avgpool(x)
        return self.fc(x.reshape(x.shape[0], -1))


def mixed_net():
    return MixedNet()


class WideCellsNet(nn.Module):
    """KW convs whose cells leave an assembly tile few rows (1x1 cells and whole-window cells) and
    whose output channels span several cells (Go > 1), on 4x4 images: kwcc assembles the Go kernel
    blocks that read one warehouse slice together (variants A and B of the vector targets)."""

    def __init__(self):
        super().__init__()
        # warehouses: 0 stage0_layer_conv (1x1, spatial partition), 1 stage1_layer_conv (cells = whole 3x3,
        # half the output channels: Go = 2)
        self.warehouse_manager = WarehouseManager(reduction=0.0625, sharing_range=['layer'],
                                                  spatial_partition=(True, False), cell_outplane_ratio=(1, 0.5))
        wm = self.warehouse_manager
        self.stem = nn.Conv2d(3, 64, 3, stride=2, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(64)
        self.pw_up = wm.reserve(64, 128, 1, bias=False, warehouse_name='stage0_layer0_conv')
        self.bn_up = nn.BatchNorm2d(128)
        self.pw_down = wm.reserve(128, 64, 1, bias=True, warehouse_name='stage0_layer1_conv')
        self.k3 = wm.reserve(64, 128, 3, padding=1, bias=False, warehouse_name='stage1_layer0_conv')
        self.bn_k3 = nn.BatchNorm2d(128)
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(128, 10)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.relu(self.stem_bn(self.stem(x)))
        y = self.relu(self.bn_up(self.pw_up(x)))
        x = self.relu(self.pw_down(y) + x)
        x = self.relu(self.bn_k3(self.k3(x)))
        return self.fc(x.mean([-2, -1]))


def wide_cells_net():
    return WideCellsNet()


class ChunkedNet(nn.Module):
    """KW 3x3 convs with many input channels (several L1 chunks of the packed kernel) on small
    images, whose pixel tiles all share each chunk: the vector targets assemble each chunk of input
    channels and convolve with it at once (variant B), so a chunk placed at the wrong channels
    shows. wide: output channels spanning two cells (cells of half the outputs: Go 2, the second
    conv also Gi 2) on 4x4 images, so that the chunks of both blocks that read one warehouse slice
    are assembled together; its stem runs at 14x14 and a max pooling brings 7x7, so that the
    largest tensors are there, not at the KW convs, as in a real network (the memory plan's test
    expects its smallest plan near its lower bound)."""

    def __init__(self, wide=False):
        super().__init__()
        c = 128 if wide else 64
        self.warehouse_manager = WarehouseManager(reduction=0.0625, sharing_range=['layer'],
                                                  cell_outplane_ratio=0.5 if wide else 1)
        wm = self.warehouse_manager
        self.stem = nn.Conv2d(3, 64, 3, stride=2, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(64)
        self.pool = nn.MaxPool2d(2) if wide else nn.Identity()
        self.k1 = wm.reserve(64, c, 3, stride=2 if wide else 1, padding=1, bias=False,
                             warehouse_name='stage0_layer0_conv')
        self.bn1 = nn.BatchNorm2d(c)
        self.k2 = wm.reserve(c, c, 3, padding=1, bias=True, warehouse_name='stage0_layer1_conv')
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(c, 10)
        wm.store()
        wm.allocate(self)

    def forward(self, x):
        x = self.pool(self.relu(self.stem_bn(self.stem(x))))
        y = self.relu(self.bn1(self.k1(x)))
        y = self.relu(self.k2(y) + y)
        return self.fc(y.mean([-2, -1]))


def chunked_net():
    return ChunkedNet()


def chunked_go_net():
    return ChunkedNet(wide=True)
