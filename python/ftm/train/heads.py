"""Original features of lower and higher discriminability for seed 000's ablation (section III-D).

Seed 000 retrains its person-ReID network with cross-entropy only (SimFeat:
lower discriminability) and with triplet loss only (DisFeat: higher), then
compares SIM, DIS and COMBINED on each. FTM cannot retrain EfficientNet-Lite0
here, so it trains a projection head on top of the frozen descriptor, one
per loss, and takes the head's output as the original features:

- ``ce`` (SimFeat): FC D -> H, then a linear classifier H -> classes,
  trained with cross-entropy; the features are the H-d head output;
- ``triplet`` (DisFeat): FC D -> H trained with the batch-hard triplet loss
  of FastReID (Hermans et al. 2017: each anchor's farthest positive and
  nearest negative, Euclidean distance, margin 0.3), the loss seed 000's
  networks are trained with.

Both use the batches of DMOFC's training (8 classes x 16 samples), Adam at
1e-3 with cosine annealing, and a seed; the train and test splits are both
mapped by the trained head, so the sweep that follows sees a labelled set
like any other (its digest names it, and the models trained on it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ftm.errors import ConfigError
from ftm.extract.embeddings import LabelledSet
from ftm.train.dmofc import DmofcSettings, class_balanced_batches
from ftm.train.layers import nn, torch
from ftm.train.loop import seeded
from ftm.train.networks import glorot_linear

__all__ = ["HEADS", "HeadSettings", "head_features", "triplet_batch_hard"]

HEADS = ("ce", "triplet")


@dataclass(frozen=True)
class HeadSettings:
    kind: str = "ce"
    dims: int = 256
    epochs: int = 10
    iterations: int = 200
    learning_rate: float = 1e-3
    margin: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in HEADS:
            raise ConfigError(f"the feature head must be one of {', '.join(HEADS)}, got {self.kind!r}")
        if min(self.dims, self.epochs, self.iterations) < 1:
            raise ConfigError("the feature head needs dims, epochs and iterations >= 1")


def triplet_batch_hard(f: "torch.Tensor", labels: "torch.Tensor", margin: float) -> "torch.Tensor":
    """Mean over anchors of max(farthest positive - nearest negative + margin, 0), Euclidean distances."""
    sq = (f * f).sum(1)
    d = torch.sqrt(torch.clamp(sq[:, None] + sq[None, :] - 2.0 * (f @ f.T), min=1e-12))
    same = labels[:, None] == labels[None, :]
    positive = torch.where(same, d, torch.zeros_like(d)).max(1).values
    negative = torch.where(same, torch.full_like(d, float("inf")), d).min(1).values
    return torch.relu(positive - negative + margin).mean()


def head_features(data: LabelledSet, settings: HeadSettings, progress: bool = False) -> LabelledSet:
    """``data`` with every vector mapped by a head trained on its train split (``settings.kind``'s loss)."""
    x, y = data.part("train")
    classes = int(y.max()) + 1 if y.size else 0
    batch = DmofcSettings(epochs=settings.epochs, iterations=settings.iterations, seed=settings.seed, progress=False)
    if len(np.unique(y)) < batch.classes_per_batch:
        raise ConfigError(f"a feature head's batches draw {batch.classes_per_batch} classes; the training split has {len(np.unique(y))}")
    with seeded(settings.seed):
        head = glorot_linear(data.dims, settings.dims)
        classifier = glorot_linear(settings.dims, classes)
    params = list(head.parameters()) + (list(classifier.parameters()) if settings.kind == "ce" else [])
    optimizer = torch.optim.Adam(params, lr=settings.learning_rate)
    total = settings.epochs * settings.iterations
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    features, targets = torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(y.astype(np.int64))
    batches = class_balanced_batches(y, batch, np.random.default_rng(settings.seed))
    for _ in range(total):
        rows = torch.from_numpy(next(batches))
        out = head(features[rows])
        if settings.kind == "ce":
            loss = nn.functional.cross_entropy(classifier(out), targets[rows])
        else:
            loss = triplet_batch_hard(out, targets[rows], settings.margin)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    with torch.no_grad():
        mapped = head(torch.from_numpy(np.array(data.features, np.float32))).numpy()  # a writable copy: torch refuses read-only arrays
    manifest = dict(data.manifest or {})
    manifest["feature_head"] = {"kind": settings.kind, "dims": settings.dims, "epochs": settings.epochs,
                                "iterations": settings.iterations, "learning_rate": settings.learning_rate,
                                "margin": settings.margin if settings.kind == "triplet" else None, "seed": settings.seed,
                                "base_digest": data.digest}  # fmt: skip
    return LabelledSet(mapped.astype(np.float32), data.labels, data.split, data.classes, manifest=manifest)
