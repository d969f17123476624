"""Reconstructed features from files: whatever a codec or a user produced, by file suffix.

:func:`load_reconstruction` picks a loader by suffix from
``RECONSTRUCTION_LOADERS`` (a feature-set folder is read as such). A loader
returns the features and, when it knows them, the compressed bytes; a new
input format is one function added to that table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional

import numpy as np

from ftm.errors import InputError

__all__ = ["RECONSTRUCTION_LOADERS", "Reconstruction", "load_reconstruction"]


@dataclass(frozen=True)
class Reconstruction:
    """Reconstructed features (N x C x H x W) and, when known, the compressed size that produced them."""

    features: np.ndarray
    compressed_bytes: Optional[int] = None


def _load_npy(path: Path, layer: str) -> Reconstruction:
    return Reconstruction(np.load(path, allow_pickle=False))


def _load_npz(path: Path, layer: str) -> Reconstruction:
    with np.load(path, allow_pickle=False) as z:
        names = list(z.files)
        if layer in names:
            return Reconstruction(z[layer])
        if len(names) == 1:
            return Reconstruction(z[names[0]])
    raise InputError(f"{path}: no array named {layer!r} (and not exactly one array); it holds {names}")


def _load_safetensors(path: Path, layer: str) -> Reconstruction:
    from ftm.extract.featureset import load_layer_file

    return Reconstruction(load_layer_file(path, layer, allow_single=True))


def _load_feature_set(path: Path, layer: str) -> Reconstruction:
    from ftm.extract.featureset import read_feature_set

    return Reconstruction(read_feature_set(path).features(layer))


def _load_ftm(path: Path, layer: str) -> Reconstruction:
    """Decode a .ftm stream. The compressed size is the whole file for a
    single-tensor stream, else the record of the tensor named ``layer``."""
    from ftm._core import bitstream as container
    from ftm.stream.coding import decode_all
    from ftm.stream.records import record_bytes

    data = path.read_bytes()
    tensors = decode_all(data)
    if len(tensors) == 1:
        return Reconstruction(next(iter(tensors.values())), compressed_bytes=len(data))
    if layer not in tensors:
        raise InputError(f"{path}: no tensor named {layer!r} (and not exactly one tensor); it holds {list(tensors)}")
    record = next(r for r in container.parse_stream(data).tensors if r.name == layer)
    return Reconstruction(tensors[layer], compressed_bytes=record_bytes(record))


# File suffix -> loader(path, layer). A folder is always read as a feature set.
RECONSTRUCTION_LOADERS: Dict[str, Callable[[Path, str], Reconstruction]] = {
    ".npy": _load_npy,
    ".npz": _load_npz,
    ".safetensors": _load_safetensors,
    ".ftm": _load_ftm,
}


def load_reconstruction(path, layer: str) -> Reconstruction:
    """Reconstructed features of ``layer`` from a file or a feature-set folder."""
    p = Path(path)
    if p.is_dir():
        return _load_feature_set(p, layer)
    if not p.is_file():
        raise FileNotFoundError(f"reconstruction {str(p)!r} does not exist")
    loader = RECONSTRUCTION_LOADERS.get(p.suffix.lower())
    if loader is None:
        raise InputError(
            f"{p}: cannot read reconstructed features from a {p.suffix or 'suffix-less'} file; "
            f"supported: {', '.join(sorted(RECONSTRUCTION_LOADERS))} or a feature-set folder"
        )
    return loader(p, layer)
