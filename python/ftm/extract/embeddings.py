"""Labelled embedding sets: N x D float32 vectors, integer labels and a train/test split.

What the vector codecs of seed 001 (Wang et al., "End-to-end facial deep
learning feature compression with teacher-student enhancement") are trained
and evaluated on. Layout of a set (a folder, written under a temporary name
and renamed into place when complete, like a feature set)::

    manifest.json              format "ftm-embedding-set", format_version 1, what is below
                               and where it came from
    embeddings.safetensors     "features" N x D float32, "labels" N int64 (class ids),
                               "split" N uint8 (0 train, 1 test)

The manifest records ``ftm_version``, ``count``, ``dims``, ``classes`` (the
name of each class id), ``train``/``test`` counts, ``source`` (what the
vectors were made from: a folder of class sub-folders, Debian's Fashion-MNIST,
a user's .npz), ``network`` and ``layer`` (null for a user's vectors),
``items`` (the name of each row's source image, when there is one), the sha256
of each tensor's bytes and of the file, and ``digest``: the content digest of
the set (:func:`content_digest`), which model files record as their
training-set digest.

A user's ``.npz`` with ``features`` (N x D float), ``labels`` (N integers or
strings) and optionally ``split`` (N values, 0/False train, 1/True test) is
read as a set too (:func:`read_labelled_set`), so FaceNet/LFW or ReID features
run the papers' exact setting; without ``split``, a deterministic stratified
split puts :data:`DEFAULT_TEST_FRACTION` of each class in the test split.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ftm._atomic import folder_atomic
from ftm._optional import require
from ftm._version import __version__
from ftm.errors import FeatureSetError, InputError

__all__ = [
    "DEFAULT_TEST_FRACTION",
    "EMBEDDINGS_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "LabelledSet",
    "class_ids",
    "content_digest",
    "read_labelled_set",
    "stratified_split",
    "write_labelled_set",
]

FORMAT = "ftm-embedding-set"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EMBEDDINGS_FILE = "embeddings.safetensors"
DEFAULT_TEST_FRACTION = 0.2
TRAIN, TEST = 0, 1


def content_digest(features: np.ndarray, labels: np.ndarray, split: np.ndarray) -> str:
    """sha256 over the shapes and little-endian bytes of the three arrays: equal sets, equal digests."""
    h = hashlib.sha256()
    for name, a, dtype in (("features", features, "<f4"), ("labels", labels, "<i8"), ("split", split, "u1")):
        b = np.ascontiguousarray(a, dtype=dtype)
        h.update(f"{name}:{'x'.join(map(str, b.shape))};".encode())
        h.update(b.tobytes())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class LabelledSet:
    """Vectors with class ids and a train/test split; ``classes[k]`` names class id k."""

    features: np.ndarray
    labels: np.ndarray
    split: np.ndarray
    classes: Tuple[str, ...]
    manifest: dict = field(default_factory=dict, repr=False)
    path: Optional[Path] = None

    def __post_init__(self) -> None:
        x = np.asarray(self.features)
        if x.ndim != 2 or x.dtype.kind != "f":
            raise InputError(f"embedding features must be an N x D float array, got {x.dtype} {x.shape}")
        if x.shape[1] == 0:
            raise InputError("embedding features need at least one dimension")
        if not np.all(np.isfinite(x)):
            raise InputError("embedding features must be finite")
        y, s = np.asarray(self.labels), np.asarray(self.split)
        if y.shape != (x.shape[0],) or y.dtype.kind not in "iu":
            raise InputError(f"labels must be {x.shape[0]} integers, got {y.dtype} {y.shape}")
        if s.shape != (x.shape[0],) or not np.isin(s, (TRAIN, TEST)).all():
            raise InputError(f"split must be {x.shape[0]} values of 0 (train) or 1 (test)")
        if y.size and (y.min() < 0 or y.max() >= len(self.classes)):
            raise InputError(f"labels must be class ids in [0, {len(self.classes) - 1}]")
        for name, a, dtype in (("features", x, np.float32), ("labels", y, np.int64), ("split", s, np.uint8)):
            a = np.ascontiguousarray(a, dtype=dtype)
            a.flags.writeable = False
            object.__setattr__(self, name, a)
        object.__setattr__(self, "classes", tuple(str(c) for c in self.classes))

    @property
    def count(self) -> int:
        return int(self.features.shape[0])

    @property
    def dims(self) -> int:
        return int(self.features.shape[1])

    @property
    def digest(self) -> str:
        """The content digest (:func:`content_digest`)."""
        return content_digest(self.features, self.labels, self.split)

    def part(self, which: str) -> Tuple[np.ndarray, np.ndarray]:
        """(features, labels) of the "train" or "test" split."""
        if which not in ("train", "test"):
            raise ValueError(f"which must be 'train' or 'test', got {which!r}")
        keep = self.split == (TRAIN if which == "train" else TEST)
        return self.features[keep], self.labels[keep]


def stratified_split(labels: np.ndarray, test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0) -> np.ndarray:
    """0/1 per row: round(test_fraction * n_k) rows of each class k, chosen by a seeded permutation, are test."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    labels = np.asarray(labels)
    split = np.zeros(labels.shape[0], np.uint8)
    rng = np.random.default_rng(seed)
    for k in np.unique(labels):
        rows = np.flatnonzero(labels == k)
        take = int(round(test_fraction * rows.size))
        split[rng.permutation(rows)[:take]] = TEST
    return split


def _array_sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def write_labelled_set(path, data: LabelledSet, *, source: dict, network: Optional[dict] = None,
                       layer: Optional[dict] = None, items: Optional[Sequence[str]] = None,
                       command: Optional[str] = None, overwrite: bool = False) -> LabelledSet:  # fmt: skip
    """Write ``data`` as an embedding-set folder atomically and return it, read back."""
    st = require("safetensors.numpy", "Embedding-set files")
    target = Path(path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another output or overwrite it explicitly")
    if items is not None and len(items) != data.count:
        raise ValueError(f"{len(items)} item names for {data.count} vectors")
    tensors = {"features": data.features, "labels": data.labels, "split": data.split}
    blob = st.save({k: np.ascontiguousarray(v) for k, v in tensors.items()})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ftm_version": __version__,
        "count": data.count,
        "dims": data.dims,
        "classes": list(data.classes),
        "train": int(np.sum(data.split == TRAIN)),
        "test": int(np.sum(data.split == TEST)),
        "digest": data.digest,
        "source": source,
        "network": network,
        "layer": layer,
        "file": {"name": EMBEDDINGS_FILE, "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob)},
        "tensors": {k: {"shape": list(v.shape), "dtype": str(v.dtype), "sha256": _array_sha256(v)} for k, v in tensors.items()},
        "items": list(items) if items is not None else None,
        "command": command,
    }
    with folder_atomic(target) as tmp:
        (tmp / EMBEDDINGS_FILE).write_bytes(blob)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return read_labelled_set(target)


def _read_folder(root: Path) -> LabelledSet:
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise FeatureSetError(f"{root} is not an embedding set: {MANIFEST} is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeatureSetError(f"{manifest_path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise FeatureSetError(f"{manifest_path}: 'format' must be {FORMAT!r}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise FeatureSetError(f"{manifest_path}: format_version {manifest.get('format_version')!r} is not supported")
    file = root / EMBEDDINGS_FILE
    if not file.is_file():
        raise FeatureSetError(f"{file} is listed in the manifest but missing")
    blob = file.read_bytes()
    if hashlib.sha256(blob).hexdigest() != manifest["file"]["sha256"]:
        raise FeatureSetError(f"{file} does not match its sha256 in the manifest")
    tensors = require("safetensors.numpy", "Embedding-set files").load(blob)
    if set(tensors) != {"features", "labels", "split"}:
        raise FeatureSetError(f"{file} must hold features, labels and split; it holds {sorted(tensors)}")
    data = LabelledSet(tensors["features"], tensors["labels"], tensors["split"], tuple(manifest["classes"]), manifest, root)
    if data.digest != manifest["digest"]:
        raise FeatureSetError(f"{root}: the vectors do not match the manifest's digest")
    return data


def _read_npz(path: Path, test_fraction: float, seed: int) -> LabelledSet:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    except (ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable .npz of numeric arrays ({exc})") from None
    missing = [k for k in ("features", "labels") if k not in arrays]
    if missing:
        raise InputError(f"{path}: a labelled .npz needs arrays 'features' and 'labels' (missing {', '.join(missing)})")
    raw = arrays["labels"]
    if raw.ndim != 1:
        raise InputError(f"{path}: 'labels' must be 1-D, got shape {raw.shape}")
    if raw.dtype.kind in "iu":
        classes = [str(v) for v in np.unique(raw)]
        labels = np.searchsorted(np.unique(raw), raw)
    elif raw.dtype.kind == "U":
        names, labels = np.unique(raw, return_inverse=True)
        classes = [str(v) for v in names]
    else:
        raise InputError(f"{path}: 'labels' must hold integers or strings, got {raw.dtype}")
    if "split" in arrays:
        s = arrays["split"]
        if s.shape != raw.shape or not np.isin(s.astype(np.int64), (TRAIN, TEST)).all():
            raise InputError(f"{path}: 'split' must hold one 0 (train) or 1 (test) per vector")
        split = s.astype(np.uint8)
    else:
        split = stratified_split(labels, test_fraction, seed)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    source = {"kind": "npz", "path": str(path), "sha256": digest, "split": "given" if "split" in arrays else
              {"stratified": test_fraction, "seed": seed}}  # fmt: skip
    return LabelledSet(arrays["features"], labels, split, tuple(classes), {"source": source}, path)


def read_labelled_set(path, *, test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0) -> LabelledSet:
    """An embedding-set folder (checked against its manifest) or a user's labelled ``.npz``."""
    p = Path(path)
    if p.is_dir():
        return _read_folder(p)
    if p.suffix.lower() == ".npz" and p.is_file():
        return _read_npz(p, test_fraction, seed)
    if not p.exists():
        raise FileNotFoundError(f"labelled set {str(p)!r} does not exist")
    raise InputError(f"labelled set {str(p)!r}: give an embedding-set folder (ftm-extract --embeddings) or an .npz")


def class_ids(names: Sequence[Optional[str]], classes: Optional[Sequence[str]] = None) -> Tuple[np.ndarray, List[str]]:
    """Class ids for class names, and the name of each id: ``classes`` in order, by default the sorted names."""
    if any(n is None for n in names):
        raise InputError("every image of a labelled set needs a class (a sub-folder)")
    classes = list(classes) if classes is not None else sorted(set(names))  # type: ignore[arg-type]
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted(set(names) - set(index))  # type: ignore[arg-type]
    if unknown:
        raise InputError(f"images of classes {unknown} that the class list {classes} lacks")
    return np.array([index[n] for n in names], np.int64), classes
