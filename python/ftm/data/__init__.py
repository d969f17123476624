"""Data files shipped with FTM, found from any working folder.

``default_features.npy`` is a real feature tensor, 1 x 40 x 28 x 28 float32:
EfficientNet-Lite0 (ImageNet weights) at split point ``block4`` on the centre
crop of scikit-image's ``chelsea`` photo. ``default_features.json`` beside it
records how it was made (``scripts/make_default_input.py`` regenerates both).
Reading them needs numpy only.

The configuration files of ``cfg/`` and the conformance streams of
``conformance/`` are installed with the package (``ftm/cfg``,
``ftm/conformance``); :func:`shipped` finds them there, or in the source
tree of a checkout the package runs from.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

__all__ = ["default_features", "default_features_info", "default_features_path", "find_config", "shipped", "shipped_configs"]

DEFAULT_FEATURES = "default_features.npy"
DEFAULT_FEATURES_INFO = "default_features.json"


# The package is installed as files (a wheel, never a zip), so plain paths do;
# importlib.resources would add tens of milliseconds to every tool's start-up.
_HERE = Path(__file__).resolve().parent
_PACKAGE = _HERE.parent
_SOURCE_TREE = _PACKAGE.parents[1]  # python/ftm -> the checkout, for a package run from its sources


def shipped(*parts: str) -> Path:
    """A file or folder shipped with FTM (``shipped("cfg", "ctc_qp22.cfg")``), installed or in the checkout.

    The installed copy wins; the returned path may not exist when neither does.
    """
    installed = _PACKAGE.joinpath(*parts)
    if installed.exists():
        return installed
    source = _SOURCE_TREE.joinpath(*parts)
    return source if source.exists() else installed


def find_config(name: str) -> Path:
    """``name`` itself when it exists, else the shipped config it names ("ctc_qp22.cfg" or "cfg/ctc_qp22.cfg").

    Returns ``Path(name)`` when neither exists, for the caller's error message.
    """
    path = Path(name)
    if path.exists() or path.is_absolute():
        return path
    parts = path.parts[1:] if path.parts[:1] == ("cfg",) else path.parts
    candidate = shipped("cfg", *parts)
    return candidate if candidate.is_file() else path


def shipped_configs() -> list:
    """Names of the configuration files FTM ships."""
    folder = shipped("cfg")
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.cfg")) if folder.is_dir() else []


def default_features_path() -> Path:
    """Path of the bundled default feature tensor (.npy)."""
    return _HERE / DEFAULT_FEATURES


def default_features() -> np.ndarray:
    """The bundled default feature tensor (1 x 40 x 28 x 28 float32)."""
    return np.load(default_features_path(), allow_pickle=False)


def default_features_info() -> dict:
    """Provenance of the default tensor: model, layer, image, preprocessing, shape, dtype, sha256, command."""
    return json.loads((_HERE / DEFAULT_FEATURES_INFO).read_text(encoding="utf-8"))
