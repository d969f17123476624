"""ResNet-50, -101 and -152 (He et al., CVPR 2016) as :class:`~ftm.models.split.SplitNetwork` s.

:class:`ResNet` and :class:`Bottleneck` are torchvision's written out (why:
see :mod:`ftm.models.torchvision_weights`): the same modules under the same
``state_dict`` keys (``conv1.weight``, ``bn1.running_mean``,
``layer1.0.downsample.0.weight`` ... ``fc.bias``), the stride of a
downsampling block on its 3x3 convolution ("ResNet v1.5", as torchvision
has it), the same forward pass.

Split points, as seed 002 (Chen et al., ACM MM 2019) names them in Table 3
and section 4.1.2; for a 224 x 224 input:

======  ===========================================  ==============
name    end of                                       C x H x W
======  ===========================================  ==============
conv1   stem conv 7x7/2 + BN + ReLU                  64 x 112 x 112
pool1   stem max-pool 3x3/2                          64 x 56 x 56
conv2   ``layer1`` (conv2_x of the paper)             256 x 56 x 56
conv3   ``layer2`` (conv3_x)                          512 x 28 x 28
conv4   ``layer3`` (conv4_x)                          1024 x 14 x 14
conv5   ``layer4`` (conv5_x), the last feature map    2048 x 7 x 7
======  ===========================================  ==============

The same for all three depths (they differ in blocks per stage: 3-4-6-3,
3-4-23-3, 3-8-36-3). The head after conv5: torchvision's ``avgpool`` and
``flatten`` give the descriptor for retrieval (2048-d), ``fc`` the logits.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

from ftm.models.split import NetworkOutputs, SplitNetwork, nn, torch
from ftm.models.torchvision_weights import build_torchvision_network

__all__ = ["BLOCKS", "SPLIT_POINTS", "Bottleneck", "ResNet", "resnet101", "resnet152", "resnet50"]

BLOCKS: Dict[str, Tuple[int, int, int, int]] = {"resnet50": (3, 4, 6, 3), "resnet101": (3, 4, 23, 3), "resnet152": (3, 8, 36, 3)}
SPLIT_POINTS = ("conv1", "pool1", "conv2", "conv3", "conv4", "conv5")
TASK_OUTPUTS = {"descriptor": "global average pool of conv5 (2048)", "logits": "ImageNet classifier fc (1000)"}


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> "nn.Conv2d":
    return nn.Conv2d(cin, cout, kernel_size=kernel, stride=stride, padding=kernel // 2, bias=False)


class Bottleneck(nn.Module):
    """torchvision's ``Bottleneck`` (groups 1, width 64, no dilation): 1x1, 3x3 (stride), 1x1 x4, plus the shortcut."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Optional["nn.Module"] = None) -> None:
        super().__init__()
        self.conv1 = _conv(inplanes, planes, 1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv(planes, planes, 3, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv(planes, planes * self.expansion, 1)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet(nn.Module):
    """torchvision's ``ResNet(Bottleneck, blocks)``: the same modules, keys, initialisation and forward pass."""

    def __init__(self, blocks: Sequence[int], num_classes: int = 1000) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, blocks[0])
        self.layer2 = self._make_layer(128, blocks[1], stride=2)
        self.layer3 = self._make_layer(256, blocks[2], stride=2)
        self.layer4 = self._make_layer(512, blocks[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * Bottleneck.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> "nn.Sequential":
        downsample = None
        if stride != 1 or self.inplanes != planes * Bottleneck.expansion:
            downsample = nn.Sequential(
                _conv(self.inplanes, planes * Bottleneck.expansion, 1, stride), nn.BatchNorm2d(planes * Bottleneck.expansion)
            )
        layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * Bottleneck.expansion
        layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class _Head(nn.Module):
    def __init__(self, avgpool: "nn.Module", fc: "nn.Module") -> None:
        super().__init__()
        self.avgpool, self.fc = avgpool, fc

    def forward(self, x: "torch.Tensor") -> NetworkOutputs:
        descriptor = torch.flatten(self.avgpool(x), 1)
        return NetworkOutputs(descriptor=descriptor, logits=self.fc(descriptor))


def _split(model: ResNet) -> Tuple[list, "nn.Module"]:
    # Each stage gets its own modules in forward order; the stem's ReLU is the model's
    # one ReLU module, used by the stem only (the blocks have their own).
    stages = [
        ("conv1", nn.Sequential(model.conv1, model.bn1, model.relu)),
        ("pool1", model.maxpool),
        ("conv2", model.layer1),
        ("conv3", model.layer2),
        ("conv4", model.layer3),
        ("conv5", model.layer4),
    ]
    return stages, _Head(model.avgpool, model.fc)


def _resnet(name: str, weights, random_init: Optional[int]) -> SplitNetwork:
    return build_torchvision_network(name, lambda: ResNet(BLOCKS[name]), _split, TASK_OUTPUTS, weights, random_init)


def resnet50(weights=None, *, random_init: Optional[int] = None) -> SplitNetwork:
    """ResNet-50 with torchvision's ImageNet weights (file or local cache), or ``random_init=seed``."""
    return _resnet("resnet50", weights, random_init)


def resnet101(weights=None, *, random_init: Optional[int] = None) -> SplitNetwork:
    """ResNet-101 with torchvision's ImageNet weights (file or local cache), or ``random_init=seed``."""
    return _resnet("resnet101", weights, random_init)


def resnet152(weights=None, *, random_init: Optional[int] = None) -> SplitNetwork:
    """ResNet-152 with torchvision's ImageNet weights (file or local cache), or ``random_init=seed``."""
    return _resnet("resnet152", weights, random_init)
