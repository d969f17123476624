"""Data files shipped with FTM.

``default_features.npy`` is a real feature tensor, 1 x 40 x 28 x 28 float32:
EfficientNet-Lite0 (ImageNet weights) at split point ``block4`` on the centre
crop of scikit-image's ``chelsea`` photo. ``default_features.json`` beside it
records how it was made (``scripts/make_default_input.py`` regenerates both).
Reading them needs numpy only.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["default_features", "default_features_info", "default_features_path"]

DEFAULT_FEATURES = "default_features.npy"
DEFAULT_FEATURES_INFO = "default_features.json"


# The package is installed as files (a wheel, never a zip), so plain paths do;
# importlib.resources would add tens of milliseconds to every tool's start-up.
_HERE = Path(__file__).resolve().parent


def default_features_path() -> Path:
    """Path of the bundled default feature tensor (.npy)."""
    return _HERE / DEFAULT_FEATURES


def default_features() -> np.ndarray:
    """The bundled default feature tensor (1 x 40 x 28 x 28 float32)."""
    return np.load(default_features_path(), allow_pickle=False)


def default_features_info() -> dict:
    """Provenance of the default tensor: model, layer, image, preprocessing, shape, dtype, sha256, command."""
    return json.loads((_HERE / DEFAULT_FEATURES_INFO).read_text(encoding="utf-8"))
