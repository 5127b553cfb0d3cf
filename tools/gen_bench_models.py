#!/usr/bin/python3
"""Baseline and KernelWarehouse models for bench/, exported the way the official fixtures are.

    gen_bench_models.py OUT_DIR

Writes OUT_DIR/<name>.onnx (torch.onnx.export, opset 13, do_constant_folding=True, batch 1,
eval mode) for
  resnet18_baseline_224     plain ResNet-18 (torchvision's layout, random weights)
  mobilenetv2_100_baseline_224  plain MobileNetV2 width 1.0
  resnet18_kw1x_224_twin    ResNet-18 KW1x built from tools/kwgen (KW_SEMANTICS.md), the same
                            architecture and cost as the official resnet18_kw1x_224
and the PyTorch modules themselves are rebuilt by bench.py through build() below, so PyTorch is
timed on exactly these models. Weights are seeded; BatchNorm statistics random (not identity),
so the exporter's folding does real work. Existing files are kept (delete OUT_DIR to redo).
Needs Debian's python3-torch (1.13) and python3-onnx.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "kwgen"))


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
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
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        idt = x if self.downsample is None else self.downsample(x)
        return self.relu(out + idt)


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, cin = [], 64
        for i, w in enumerate([64, 128, 256, 512]):
            layers.append(nn.Sequential(Basic(cin, w, 1 if i == 0 else 2), Basic(w, w, 1)))
            cin = w
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class InvRes(nn.Module):
    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hid = cin * t
        layers = []
        if t != 1:
            layers += [nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(inplace=True)]
        layers += [nn.Conv2d(hid, hid, 3, stride, 1, groups=hid, bias=False), nn.BatchNorm2d(hid),
                   nn.ReLU6(inplace=True), nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.res = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.conv(x) if self.res else self.conv(x)


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
               (6, 320, 1, 1)]
        layers = [nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(inplace=True)]
        cin = 32
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvRes(cin, c, s if i == 0 else 1, t))
                cin = c
        layers += [nn.Conv2d(cin, 1280, 1, bias=False), nn.BatchNorm2d(1280), nn.ReLU6(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(1280, 1000)

    def forward(self, x):
        x = self.features(x)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def randomise(net, seed):
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            m.weight.data.uniform_(0.5, 1.5, generator=g)
            m.bias.data.uniform_(-0.2, 0.2, generator=g)
            m.running_mean.uniform_(-0.2, 0.2, generator=g)
            m.running_var.uniform_(0.5, 1.5, generator=g)
    return net.eval()


def build(name):
    """The PyTorch module behind a bench model (None if unknown)."""
    torch.manual_seed(0)
    if name == "resnet18_baseline_224":
        return randomise(ResNet18(), 1)
    if name == "mobilenetv2_100_baseline_224":
        return randomise(MobileNetV2(), 2)
    if name.startswith("resnet18_kw1x_224"):
        from check_pattern import ResNet18KW
        return randomise(ResNet18KW(dict(reduction=0.0625, cell_num_ratio=1, sharing_range="layer_conv")), 3)
    return None


MODELS = ["resnet18_baseline_224", "mobilenetv2_100_baseline_224", "resnet18_kw1x_224_twin"]

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "bench/out/models"
    os.makedirs(out, exist_ok=True)
    for name in MODELS:
        path = os.path.join(out, name + ".onnx")
        if os.path.exists(path):
            continue
        net = build(name)
        with torch.no_grad():
            torch.onnx.export(net, torch.zeros(1, 3, 224, 224), path, opset_version=13, do_constant_folding=True,
                              input_names=["input"], output_names=["output"])
        print("wrote", path)
