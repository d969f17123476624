"""VGG-16 (Simonyan and Zisserman, ICLR 2015, configuration D) as a :class:`~ftm.models.split.SplitNetwork`.

:class:`VGG16` is torchvision's ``vgg16`` written out (why: see
:mod:`ftm.models.torchvision_weights`): the same modules, in the same order,
under the same ``state_dict`` keys (``features.0.weight`` ...
``classifier.6.bias``), and the same forward pass.

Split points, as seed 002 (Chen et al., ACM MM 2019) names them in Table 3
and section 4.1.2; for a 224 x 224 input:

======  =====================================================  ==============
name    end of                                                 C x H x W
======  =====================================================  ==============
conv1   last ReLU of block 1 (``features[3]``)                  64 x 224 x 224
pool1   max-pool of block 1 (``features[4]``)                   64 x 112 x 112
conv2   last ReLU of block 2 (``features[8]``)                 128 x 112 x 112
pool2   ``features[9]``                                        128 x 56 x 56
conv3   last ReLU of block 3 (``features[15]``)                256 x 56 x 56
pool3   ``features[16]``                                       256 x 28 x 28
conv4   last ReLU of block 4 (``features[22]``)                512 x 28 x 28
pool4   ``features[23]``                                       512 x 14 x 14
conv5   last ReLU of block 5 (``features[29]``)                512 x 14 x 14
pool5   ``features[30]``, the last feature map                 512 x 7 x 7
======  =====================================================  ==============

The head after pool5: the descriptor for retrieval is pool5's global average
(512-d); the logits are torchvision's ``avgpool`` (7 x 7, the identity at
224 x 224), ``flatten`` and ``classifier`` (fc6, fc7, fc8; dropout inactive).
"""

from __future__ import annotations

from typing import List, Optional, Tuple

from ftm.models.split import NetworkOutputs, SplitNetwork, nn, torch
from ftm.models.torchvision_weights import build_torchvision_network

__all__ = ["SPLIT_POINTS", "VGG16", "vgg16"]

# configuration D of the paper's Table 1: channels of each 3x3 convolution, "M" a 2x2 max-pool
_CFG_D = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")
SPLIT_POINTS = tuple(f"{kind}{k}" for k in range(1, 6) for kind in ("conv", "pool"))
TASK_OUTPUTS = {"descriptor": "global average pool of pool5 (512)", "logits": "ImageNet classifier fc6-fc8 (1000)"}


class VGG16(nn.Module):
    """torchvision's ``vgg16()``: the same modules, keys, initialisation and forward pass."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
        layers: List[nn.Module] = []
        channels = 3
        for v in _CFG_D:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(channels, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                channels = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes),
        )  # fmt: skip
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: "torch.Tensor") -> "torch.Tensor":
        x = self.features(x)
        x = self.avgpool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


class _Head(nn.Module):
    def __init__(self, avgpool: "nn.Module", classifier: "nn.Module") -> None:
        super().__init__()
        self.avgpool, self.classifier = avgpool, classifier

    def forward(self, x: "torch.Tensor") -> NetworkOutputs:
        descriptor = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return NetworkOutputs(descriptor=descriptor, logits=self.classifier(torch.flatten(self.avgpool(x), 1)))


def _split(model: VGG16) -> Tuple[list, nn.Module]:
    layers = list(model.features)
    stages, start, block = [], 0, 1
    for i, layer in enumerate(layers):
        if isinstance(layer, nn.MaxPool2d):
            stages.append((f"conv{block}", nn.Sequential(*layers[start:i])))
            stages.append((f"pool{block}", layer))
            start, block = i + 1, block + 1
    return stages, _Head(model.avgpool, model.classifier)


def vgg16(weights=None, *, random_init: Optional[int] = None) -> SplitNetwork:
    """VGG-16 with torchvision's ImageNet weights (``weights`` file or the local torch.hub cache), cut at seed 002's points.

    ``random_init=seed`` gives untrained weights instead (tests, listings).
    """
    return build_torchvision_network("vgg16", VGG16, _split, TASK_OUTPUTS, weights, random_init)
