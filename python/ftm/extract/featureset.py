"""On-disk feature sets: safetensors tensors plus a JSON manifest.

Layout of a feature set (a folder)::

    manifest.json            what is below, and where it came from
    <layer>.safetensors      one tensor named <layer>: N x C x H x W float32,
                             the features at that split point, one row per image
    outputs.safetensors      "descriptor" (N x D) and "logits" (N x K), float32:
                             the task outputs of the unsplit network

Rows follow ``manifest["images"]`` order. The manifest (``format`` =
"ftm-feature-set", ``format_version`` = 1) records: ``ftm_version``;
``model`` (name, weights file and its sha256, preprocessing, task outputs);
``count`` (N); ``layers`` and ``outputs`` (for each tensor: file, tensor name,
shape, dtype, sha256 of the tensor's bytes in C order little-endian, and the
sha256 and size of its file); ``images`` (index, name, source photo, label,
view, crop box in source pixels, source shape, sha256 of the preprocessed
input tensor); ``software`` (versions that produced it) and ``command``.

Reconstructed features for :mod:`ftm.evaluation` use the same per-layer file:
``<anything>.safetensors`` holding one tensor named after the layer (see
:func:`save_layer_file`).

The folder is written under a temporary name beside the target and renamed
into place once complete, so a feature set either exists whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from ftm._atomic import folder_atomic, write_bytes_atomic
from ftm._optional import require
from ftm._version import __version__
from ftm.errors import FeatureSetError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "OUTPUTS_FILE",
    "FeatureSet",
    "FeatureSetError",
    "array_sha256",
    "load_layer_file",
    "read_feature_set",
    "save_layer_file",
    "write_feature_set",
]

FORMAT = "ftm-feature-set"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
OUTPUTS_FILE = "outputs.safetensors"


def array_sha256(a: np.ndarray) -> str:
    """sha256 of an array's bytes in C order, little-endian (shape and dtype are recorded beside it)."""
    b = np.ascontiguousarray(a)
    if b.dtype.byteorder == ">":
        b = b.astype(b.dtype.newbyteorder("<"))
    return hashlib.sha256(b.tobytes()).hexdigest()


def _st_numpy():
    return require("safetensors.numpy", "Feature-set files")


def _tensor_entry(name: str, a: np.ndarray, file: str) -> dict:
    return {"file": file, "tensor": name, "shape": list(a.shape), "dtype": str(a.dtype), "sha256": array_sha256(a)}


def _serialize(tensors: Mapping[str, np.ndarray]) -> bytes:
    return _st_numpy().save({k: np.ascontiguousarray(v) for k, v in tensors.items()})


def _check_layer_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\\" in name or name == Path(OUTPUTS_FILE).stem:
        raise ValueError(f"layer name {name!r} cannot name a file of a feature set")


def save_layer_file(path, layer: str, features: np.ndarray) -> None:
    """Write ``features`` as ``path`` (a .safetensors file holding one tensor named ``layer``), atomically."""
    a = np.ascontiguousarray(features, dtype=np.float32)
    write_bytes_atomic(path, _serialize({layer: a}))


def load_layer_file(path, layer: Optional[str] = None, *, allow_single: bool = False) -> np.ndarray:
    """The tensor named ``layer`` in a .safetensors file.

    With ``layer=None``, or ``allow_single=True`` and no tensor of that name,
    the file's only tensor.
    """
    tensors = _st_numpy().load_file(str(path))
    if layer is not None and layer in tensors:
        return tensors[layer]
    if len(tensors) == 1 and (layer is None or allow_single):
        return next(iter(tensors.values()))
    raise FeatureSetError(f"{path}: no tensor named {layer!r}; it holds {sorted(tensors)}")


def write_feature_set(
    path,
    *,
    model: dict,
    layers: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
    images: Sequence[dict],
    software: Optional[dict] = None,
    command: Optional[str] = None,
    overwrite: bool = False,
) -> "FeatureSet":
    """Write a feature set folder atomically and return it, read back."""
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another output or overwrite it explicitly")
    n = len(images)
    for name, a in list(layers.items()) + list(outputs.items()):
        if a.shape[0] != n:
            raise ValueError(f"tensor {name!r} has {a.shape[0]} rows, expected one per image ({n})")
    for name in layers:
        _check_layer_name(name)
    with folder_atomic(target) as tmp:
        manifest: dict = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "ftm_version": __version__,
            "model": model,
            "count": n,
            "layers": {},
            "outputs": {},
            "images": list(images),
            "software": dict(software or {}),
            "command": command,
        }
        files: Dict[str, Dict[str, np.ndarray]] = {f"{name}.safetensors": {name: a} for name, a in layers.items()}
        files[OUTPUTS_FILE] = dict(outputs)
        for file, tensors in files.items():
            data = _serialize({k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()})
            (tmp / file).write_bytes(data)
            digest = hashlib.sha256(data).hexdigest()
            for name, a in tensors.items():
                entry = _tensor_entry(name, np.asarray(a, dtype=np.float32), file)
                entry.update(file_sha256=digest, file_bytes=len(data))
                manifest["outputs" if file == OUTPUTS_FILE else "layers"][name] = entry
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return read_feature_set(target)


@dataclass(frozen=True)
class FeatureSet:
    """A feature set folder and its manifest."""

    path: Path
    manifest: dict

    @property
    def layers(self) -> List[str]:
        return list(self.manifest["layers"])

    @property
    def count(self) -> int:
        return int(self.manifest["count"])

    @property
    def model_name(self) -> str:
        return str(self.manifest["model"]["name"])

    @property
    def images(self) -> List[dict]:
        return list(self.manifest["images"])

    def labels(self) -> Optional[np.ndarray]:
        """Image labels as an array, or None when any image has no label."""
        labels = [img.get("label") for img in self.manifest["images"]]
        if any(label is None for label in labels):
            return None
        return np.asarray(labels)

    def _load(self, entry: dict, verify: bool) -> np.ndarray:
        file = self.path / entry["file"]
        if not file.is_file():
            raise FeatureSetError(f"{file} is listed in the manifest but missing")
        a = load_layer_file(file, entry["tensor"])
        if list(a.shape) != entry["shape"] or str(a.dtype) != entry["dtype"]:
            raise FeatureSetError(
                f"{file}: tensor {entry['tensor']!r} is {a.dtype} {list(a.shape)}, the manifest says "
                f"{entry['dtype']} {entry['shape']}"
            )
        if verify and array_sha256(a) != entry["sha256"]:
            raise FeatureSetError(f"{file}: tensor {entry['tensor']!r} does not match its sha256 in the manifest")
        return a

    def features(self, layer: str, verify: bool = True) -> np.ndarray:
        """N x C x H x W float32 features at ``layer`` (checked against the manifest's sha256)."""
        if layer not in self.manifest["layers"]:
            raise FeatureSetError(f"{self.path} has no layer {layer!r}; it has {self.layers}")
        return self._load(self.manifest["layers"][layer], verify)

    def outputs(self, verify: bool = True) -> Dict[str, np.ndarray]:
        """The unsplit network's task outputs: {"descriptor": N x D, "logits": N x K}."""
        return {name: self._load(entry, verify) for name, entry in self.manifest["outputs"].items()}


def read_feature_set(path) -> FeatureSet:
    """Open a feature set folder (tensors are read on demand)."""
    root = Path(path)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise FeatureSetError(f"{root} is not a feature set: {MANIFEST} is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeatureSetError(f"{manifest_path}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FeatureSetError(f"{manifest_path}: 'format' must be {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise FeatureSetError(
            f"{manifest_path}: format_version {manifest.get('format_version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    for key in ("model", "count", "layers", "outputs", "images"):
        if key not in manifest:
            raise FeatureSetError(f"{manifest_path}: missing key {key!r}")
    if len(manifest["images"]) != manifest["count"]:
        raise FeatureSetError(f"{manifest_path}: count is {manifest['count']} but {len(manifest['images'])} images are listed")
    return FeatureSet(root, manifest)
