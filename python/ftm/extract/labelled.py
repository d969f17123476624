"""Images of known classes -> network -> a labelled embedding set.

One vector per image: the network's final descriptor (``layer="descriptor"``,
EfficientNet-Lite0's 1280-d global average pool) or any split point's
feature map, globally average-pooled to C values. The images are any folder
whose sub-folders are classes (:func:`folder_classes`) or Debian's
Fashion-MNIST (:mod:`ftm.extract.fashion_mnist`). ``ftm-extract
--embeddings`` is the command line.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ftm._optional import require
from ftm.errors import InputError
from ftm.extract.embeddings import LabelledSet, class_ids, stratified_split, write_labelled_set
from ftm.extract.images import CENTRE_VIEWS, Photo, View, balanced_subset, folder_photos, preprocessed_batches

__all__ = ["DESCRIPTOR", "embed_photos", "extract_labelled_set", "folder_classes"]

DESCRIPTOR = "descriptor"  # the network's own pooled final descriptor


def folder_classes(folder, test_fraction: float = 0.2, seed: int = 0, limit: Optional[int] = None) -> Tuple[List[Photo], np.ndarray]:
    """Photos of a folder whose sub-folders are classes, and each one's split (0 train, 1 test).

    ``FOLDER/train/<class>/...`` and ``FOLDER/test/<class>/...`` give the
    split; otherwise every ``FOLDER/<class>/...`` image counts and a seeded
    stratified split puts ``test_fraction`` of each class in the test split.
    ``limit`` keeps that many images, taken in turn from each class.
    """
    root = Path(folder)
    if (root / "train").is_dir() and (root / "test").is_dir():
        parts = [(p, 0) for p in folder_photos(root / "train")] + [(p, 1) for p in folder_photos(root / "test")]
        photos = [Photo(f"{'test' if s else 'train'}/{p.name}", p.label, p.load) for p, s in parts]
        split = np.array([s for _, s in parts], np.uint8)
    else:
        photos = folder_photos(root)
        split = None
    if any(p.label is None or "/" in p.label for p in photos):
        raise InputError(f"image folder {str(root)!r}: every image must sit in one class sub-folder (FOLDER/<class>/image)")
    if limit is not None:
        keep = {p.name for p in balanced_subset(photos, limit)}
        chosen = [i for i, p in enumerate(photos) if p.name in keep]
        photos = [photos[i] for i in chosen]
        split = split[chosen] if split is not None else None
    if split is None:
        split = stratified_split(class_ids([p.label for p in photos])[0], test_fraction, seed)
    return photos, split


def embed_photos(photos: Sequence[Photo], network, layer: str = DESCRIPTOR, views: Sequence[View] = CENTRE_VIEWS,
                 batch_size: int = 64, progress: bool = False) -> np.ndarray:  # fmt: skip
    """N x D float32: one vector per photo (its only view) at ``layer``, pooled."""
    from ftm.models.split import torch

    if len(views) != 1:
        raise ValueError("an embedding set takes one view per image")
    if layer != DESCRIPTOR:
        network.check_layers([layer])
    p = network.info["preprocessing"]
    from ftm.models import Preprocessing

    prep = Preprocessing(size=int(p["size"]), mean=tuple(p["mean"]), std=tuple(p["std"]))
    bar = None
    if progress:
        bar = require("tqdm", "The progress bar").tqdm(total=len(photos), unit="image", desc="ftm-extract", file=sys.stderr)
    out: List[np.ndarray] = []
    try:
        for _, batch in preprocessed_batches(photos, views, prep, batch_size):
            x = torch.from_numpy(batch)
            if layer == DESCRIPTOR:
                with torch.inference_mode():
                    vectors = network(x).descriptor
            else:
                _, captured = network.capture(x, [layer])
                vectors = captured[layer].mean(dim=(2, 3))  # global average pooling, as the network's own head
            out.append(vectors.numpy().astype(np.float32, copy=True))
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    if not out:
        raise InputError("no image to embed")
    return np.concatenate(out)


def extract_labelled_set(out, photos: Sequence[Photo], split: np.ndarray, *, network=None, layer: str = DESCRIPTOR,
                         views: Sequence[View] = CENTRE_VIEWS, source: dict, classes: Optional[Sequence[str]] = None,
                         batch_size: int = 64,
                         overwrite: bool = False, command: Optional[str] = None, progress: bool = False) -> LabelledSet:  # fmt: skip
    """Embed labelled photos and write them, with their split, as an embedding set at ``out``.

    ``classes`` names class ids 0, 1, ... in order (default: the sorted labels).
    """
    from ftm.models import load_network

    target = Path(out)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another output or overwrite it explicitly")
    network = network if network is not None else load_network()
    labels, classes = class_ids([p.label for p in photos], classes)
    features = embed_photos(photos, network, layer, views, batch_size, progress)
    data = LabelledSet(features, labels, np.asarray(split), tuple(classes))
    info = dict(network.info)
    info["views"] = [{"name": v.name, "fraction": v.fraction, "anchor": v.anchor} for v in views]
    pooling = "the network's descriptor" if layer == DESCRIPTOR else "global average pool over H x W"
    return write_labelled_set(target, data, source=source, network=info, layer={"name": layer, "pooling": pooling},
                              items=[p.name for p in photos], command=command, overwrite=overwrite)  # fmt: skip
