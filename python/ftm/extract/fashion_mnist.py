"""The default real labelled set: Debian's Fashion-MNIST through EfficientNet-Lite0, offline.

Debian's ``dataset-fashion-mnist`` package (``scripts/install-system-deps.sh``
installs it) puts the four IDX files of Xiao et al.'s Fashion-MNIST (60,000
train and 10,000 test images, 28 x 28 grey, 10 classes) in
:data:`DEBIAN_DIR`; ``$FTM_FASHION_MNIST`` points elsewhere. Each image is
seen whole (:data:`~ftm.extract.images.FULL_VIEWS`: resized to 224 x 224,
grey replicated to RGB, as the images are: light garments on black) by
EfficientNet-Lite0, whose 1280-d final descriptor is the vector.

The default subset keeps extraction to minutes on 2 cores:
:data:`DEFAULT_TRAIN` training and :data:`DEFAULT_TEST` test images,
balanced (the first 1,200 and 200 of each class in the files' order);
``train=None, test=None`` (``ftm-extract --full``) takes all 70,000.

Sets are cached by content digest (:func:`recipe_digest`: the sha256 of the
four source files, the network and its pinned weights digest, the layer, the
view and the subset) in ``$FTM_CACHE_DIR`` or ``~/.cache/ftm``, under
``embeddings/fashion-mnist-<digest>``; a cached set is checked against its
manifest on every read.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from ftm.errors import InputError
from ftm.extract.embeddings import LabelledSet, read_labelled_set
from ftm.extract.images import FULL_VIEWS, Photo
from ftm.extract.labelled import DESCRIPTOR, extract_labelled_set
from ftm.models import MODELS

__all__ = ["CLASSES", "DEBIAN_DIR", "DEFAULT_TEST", "DEFAULT_TRAIN", "cache_dir", "default_embedding_set",
           "fashion_mnist_dir", "fashion_mnist_photos", "read_idx", "recipe_digest"]  # fmt: skip

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEFAULT_TRAIN = 12_000
DEFAULT_TEST = 2_000
MODEL = "efficientnet-lite0"
RECIPE_VERSION = 1  # bump when the way a set is made changes


def fashion_mnist_dir() -> Path:
    """Where the IDX files are: ``$FTM_FASHION_MNIST``, else Debian's folder."""
    folder = Path(os.environ.get("FTM_FASHION_MNIST") or DEBIAN_DIR)
    missing = [f for pair in FILES.values() for f in pair if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Fashion-MNIST is not in {str(folder)!r} (missing {', '.join(missing)}): "
            "apt-get install dataset-fashion-mnist (scripts/install-system-deps.sh), or set FTM_FASHION_MNIST"
        )
    return folder


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (gzip-compressed) of unsigned bytes, as the array its header describes."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise InputError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise InputError(f"{path}: {body.size} bytes for shape {shape}")
    return body.reshape(shape)


def _balanced_rows(labels: np.ndarray, count: Optional[int]) -> np.ndarray:
    if count is None:
        return np.arange(labels.size)
    per_class, extra = divmod(count, len(CLASSES))
    if count < 1 or per_class + (extra > 0) > np.bincount(labels, minlength=len(CLASSES)).min():
        raise InputError(f"cannot take {count} balanced images from a split of {labels.size}")
    rows = [np.flatnonzero(labels == k)[: per_class + (k < extra)] for k in range(len(CLASSES))]
    return np.sort(np.concatenate(rows))


def fashion_mnist_photos(split: str, count: Optional[int] = None) -> List[Photo]:
    """The images of the "train" or "test" split as photos (label: class name); ``count`` balanced, or all."""
    folder = fashion_mnist_dir()
    images, labels = (read_idx(folder / f) for f in FILES[split])
    rows = _balanced_rows(labels, count)
    return [Photo(f"{split}/{i:05d}", CLASSES[labels[i]], lambda i=i: images[i]) for i in rows]


def _sources_sha256(folder: Path) -> dict:
    return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for pair in FILES.values() for f in pair}


def recipe_digest(train: Optional[int] = DEFAULT_TRAIN, test: Optional[int] = DEFAULT_TEST, layer: str = DESCRIPTOR,
                  network_info: Optional[dict] = None) -> Tuple[str, dict]:  # fmt: skip
    """The cache key of a set (sha256 of everything that decides its content), and that recipe.

    ``network_info``: the ``info`` of the network that embeds (default: EfficientNet-Lite0's registry entry).
    """
    entry = MODELS[MODEL]
    info = network_info or {"name": MODEL, "weights_sha256": entry.weights_sha256, "preprocessing": entry.preprocessing.as_dict()}
    recipe = {
        "recipe_version": RECIPE_VERSION,
        "sources_sha256": _sources_sha256(fashion_mnist_dir()),
        "model": info["name"],
        "weights_sha256": info["weights_sha256"],
        "preprocessing": info["preprocessing"],
        "views": [v.name for v in FULL_VIEWS],
        "layer": layer,
        "train": train,
        "test": test,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest(), recipe


def cache_dir() -> Path:
    """``$FTM_CACHE_DIR``, else ``$XDG_CACHE_HOME/ftm``, else ``~/.cache/ftm``."""
    if os.environ.get("FTM_CACHE_DIR"):
        return Path(os.environ["FTM_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ftm"


def default_embedding_set(train: Optional[int] = DEFAULT_TRAIN, test: Optional[int] = DEFAULT_TEST, *,
                          layer: str = DESCRIPTOR, out=None, network=None, batch_size: int = 64,
                          progress: bool = False, command: Optional[str] = None) -> LabelledSet:  # fmt: skip
    """The Fashion-MNIST embedding set: read from the cache, or extracted (torch) and cached.

    ``out`` writes it there instead of the cache (it is then always extracted).
    """
    digest, recipe = recipe_digest(train, test, layer, network.info if network is not None else None)
    target = Path(out) if out is not None else cache_dir() / "embeddings" / f"fashion-mnist-{digest[:32]}"
    if out is None and target.is_dir():
        return read_labelled_set(target)
    photos = fashion_mnist_photos("train", train) + fashion_mnist_photos("test", test)
    split = np.array([0 if p.name.startswith("train/") else 1 for p in photos], np.uint8)
    source = {"kind": "fashion-mnist", "path": str(fashion_mnist_dir()), "recipe": recipe, "recipe_sha256": digest}
    target.parent.mkdir(parents=True, exist_ok=True)
    return extract_labelled_set(target, photos, split, network=network, layer=layer, views=FULL_VIEWS, source=source,
                                classes=CLASSES, batch_size=batch_size, command=command, progress=progress)  # fmt: skip
