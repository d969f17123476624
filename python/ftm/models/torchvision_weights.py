"""torchvision's ImageNet weights for FTM's own VGG-16 and ResNet modules: files, local cache, preprocessing.

Why FTM's own modules and not torchvision's: torchvision is built against
one torch build, and the one PyPI serves for torch 2.13.0 fails to import
beside the CPU build (``operator torchvision::nms does not exist``) while
the one that imports pulls a 5.5 GB CUDA torch; CI has the same
constraint. So :mod:`ftm.models.vgg` and :mod:`ftm.models.resnet` are
torchvision's architectures written out, module for module, under
torchvision's ``state_dict`` key names: a torchvision state_dict (``.pth``
or ``.safetensors``) loads into them with ``strict=True``.

Weights never download. They come from ``--weights FILE`` or from torch's
local hub cache (``torch.hub.get_dir()/checkpoints/<torchvision's file
name>``) when the file is already there; otherwise a ModelError says where
to put it. A file under one of torchvision's names must have a sha256 that
starts with the digits in its name (torch.hub's own check on download), and
a file named for another architecture is refused before it is read.

Preprocessing is torchvision's ``ImageClassification`` preset for these
weights: resize the shorter side to ``resize_size`` (256; 232 for the V2
ResNet weights), centre-crop 224, ImageNet mean/std, with Pillow's bilinear
filter; FTM crops first and resizes the crop (docs/networks.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Tuple

from ftm._optional import require
from ftm.errors import ModelError
from ftm.models.preprocessing import Preprocessing
from ftm.models.weights import checked_weights, hash_prefix, load_state_dict, load_weights_into

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TORCHVISION_WEIGHTS",
    "TorchvisionWeights",
    "build_torchvision_network",
    "hub_checkpoints",
    "imagenet_preprocessing",
    "known_weights",
    "resolve_weights",
]

# torchvision's Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]), in [0, 255] pixel units
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@dataclass(frozen=True)
class TorchvisionWeights:
    """One of torchvision's weights files for an architecture FTM builds."""

    model: str
    file: str  # the name torchvision downloads it under (and torch.hub caches it as)
    enum: str  # torchvision's name for it
    resize_size: int  # its ImageClassification preset: resize to this, centre-crop 224

    @property
    def sha256_prefix(self) -> str:
        return hash_prefix(self.file) or ""

    @property
    def url(self) -> str:
        return f"https://download.pytorch.org/models/{self.file}"


# In the order the local cache is searched: the V1 weights first (the classic recipe of the
# papers seed 002 follows), then torchvision's V2 ones (its newer training recipe).
TORCHVISION_WEIGHTS: Tuple[TorchvisionWeights, ...] = (
    TorchvisionWeights("vgg16", "vgg16-397923af.pth", "VGG16_Weights.IMAGENET1K_V1", 256),
    TorchvisionWeights("resnet50", "resnet50-0676ba61.pth", "ResNet50_Weights.IMAGENET1K_V1", 256),
    TorchvisionWeights("resnet50", "resnet50-11ad3fa6.pth", "ResNet50_Weights.IMAGENET1K_V2", 232),
    TorchvisionWeights("resnet101", "resnet101-63fe2227.pth", "ResNet101_Weights.IMAGENET1K_V1", 256),
    TorchvisionWeights("resnet101", "resnet101-cd907fc2.pth", "ResNet101_Weights.IMAGENET1K_V2", 232),
    TorchvisionWeights("resnet152", "resnet152-394f9c45.pth", "ResNet152_Weights.IMAGENET1K_V1", 256),
    TorchvisionWeights("resnet152", "resnet152-f82ba261.pth", "ResNet152_Weights.IMAGENET1K_V2", 232),
)
_BY_FILE: Dict[str, TorchvisionWeights] = {w.file: w for w in TORCHVISION_WEIGHTS}


def imagenet_preprocessing(resize_size: int = 256) -> Preprocessing:
    return Preprocessing(224, IMAGENET_MEAN, IMAGENET_STD, resize_size=resize_size, resample="pil-bilinear")


def known_weights(model: str) -> Tuple[TorchvisionWeights, ...]:
    return tuple(w for w in TORCHVISION_WEIGHTS if w.model == model)


def hub_checkpoints() -> Path:
    """Where torch.hub keeps downloaded weights (``$TORCH_HOME/hub/checkpoints``, ``~/.cache/torch/...``)."""
    return Path(require("torch.hub", "Finding cached weights").get_dir()) / "checkpoints"


def resolve_weights(model: str, weights=None) -> Tuple[Path, Optional[TorchvisionWeights]]:
    """The weights file of ``model`` (the given one, else a torchvision file in the local cache) and what it is."""
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise ModelError(f"{model}: weights file {str(path)!r} does not exist")
        known = _BY_FILE.get(path.name)
        if known is not None and known.model != model:
            raise ModelError(f"{model}: {path.name} is torchvision's {known.enum} file for {known.model}, not for {model}")
        return path, known
    cache = hub_checkpoints()
    for known in known_weights(model):
        if (cache / known.file).is_file():
            return cache / known.file, known
    files = " or ".join(w.file for w in known_weights(model))
    raise ModelError(
        f"{model}: no weights file, and FTM never downloads one: give a torchvision state_dict with --weights FILE "
        f"(.pth or .safetensors), or put torchvision's {files} in {cache}/ "
        f"(from {known_weights(model)[0].url})"
    )


def build_torchvision_network(
    model: str,
    make: Callable[[], object],
    split: Callable[[object], Tuple[list, object]],
    task_outputs: Dict[str, str],
    weights=None,
    random_init: Optional[int] = None,
):
    """A SplitNetwork of ``make()`` cut by ``split(module) -> (stages, head)``, with torchvision weights or seeded random ones.

    ``random_init`` (a seed) builds untrained weights for tests and shape
    listings; no tool uses it unless asked, and it excludes ``weights``.
    """
    torch = require("torch", "Split inference")
    from ftm.models.split import SplitNetwork

    if random_init is not None and weights is not None:
        raise ValueError("give weights or random_init, not both")
    info = {"name": model, "architecture": f"FTM's {model}: torchvision.models.{model}'s modules and state_dict keys",
            "weights": None, "weights_path": None, "weights_sha256": None}  # fmt: skip
    if random_init is not None:
        with torch.random.fork_rng(devices=[]):  # the caller's random stream is left as it was
            torch.manual_seed(int(random_init))
            module = make()
        info["random_init"] = int(random_init)
        prep = imagenet_preprocessing()
    else:
        path, known = resolve_weights(model, weights)
        digest = checked_weights(path, None, model, known.sha256_prefix if known else None)
        state = load_state_dict(path, model)
        with torch.device("meta"):  # no time spent initialising weights that the file replaces
            module = make()
        load_weights_into(module, state, model, path, assign=True)
        info.update(weights=path.name, weights_path=str(path.resolve()), weights_sha256=digest)
        if known is not None:
            info["torchvision_weights"] = known.enum
        prep = imagenet_preprocessing(known.resize_size if known else 256)
    info["task_outputs"] = dict(task_outputs)
    stages, head = split(module.eval())
    return SplitNetwork(model, stages, head, (3, prep.size, prep.size), info, preprocessing=prep)
