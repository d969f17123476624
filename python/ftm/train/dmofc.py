"""Training of seed 000's DMOFC codec: SIM, DIS or COMBINED on class-balanced batches.

Gao et al., "DMOFC: Discrimination Metric-Optimized Feature Compression"
(seed 000):

- the codec (section II-C): one FC layer D -> K as encoder, one K -> D as
  decoder; the latent clipped to [-1, 1] and quantized to 8 bits
  (:mod:`ftm.codecs.learned.dmofc`), replaced in training by uniform noise
  of one quantization step (as seed 001's PRO; rounding when evaluating);
- the metrics (sections II-B, III-B), on reconstructed features: SIM, the
  MSE between reconstructed and original features; DIS (eq. 1),
  max(d(A, P) - d(A, N) + alpha, 0) with d the MSE between two
  reconstructed features and alpha 0.3; COMBINED = SIM + DIS;
- the batches (sections II-D, III-A): 8 classes drawn at random, 16 samples
  of each; Adam, learning rate 1e-3, cosine annealing over all iterations.

Section II-D computes each sample's discrimination distance "with other
categories" for all samples and back-propagates, in each category, the
sample with the largest. FTM reads this as: each anchor A's DIS is eq. 1
averaged over every positive P (its class in the batch, A excluded) and
every negative N (the other classes) of the batch; each class contributes
its anchor with the largest DIS, and DIS is the mean of these 8 values.
Batch-hard mining (each anchor's farthest positive and nearest negative,
as FastReID's triplet loss) was tried first and rejected: on the default
set, where classes overlap (the nearest negative is usually nearer than the
farthest positive), its optimum is to shrink every reconstruction to one
point, DIS = alpha, and it did so within the first epoch. SIM is the MSE
over the whole batch (every sample carries signal fidelity).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from ftm.codecs.learned.dmofc import CLIP, LEVELS
from ftm.errors import ConfigError
from ftm.extract.embeddings import LabelledSet
from ftm.train.layers import nn, torch
from ftm.train.loop import FitResult, epoch_bar, seeded
from ftm.train.methods import TrainedModel
from ftm.train.networks import linear_weights, glorot_linear
from ftm.train.provenance import model_header

__all__ = ["DMOFC_METRICS", "DmofcNetwork", "DmofcSettings", "discrimination_loss", "train_dmofc"]

DMOFC_METRICS = ("sim", "dis", "combined")
_STEP = 2 * CLIP / (LEVELS - 1)


@dataclass(frozen=True)
class DmofcSettings:
    """How a DMOFC codec is trained (seed 000 section III-A; epochs and iterations scaled to this machine)."""

    metric: str = "combined"
    epochs: int = 30
    iterations: int = 200
    classes_per_batch: int = 8
    samples_per_class: int = 16
    learning_rate: float = 1e-3
    margin: float = 0.3
    seed: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.metric not in DMOFC_METRICS:
            raise ConfigError(f"the DMOFC metric must be one of {', '.join(DMOFC_METRICS)}, got {self.metric!r}")
        if min(self.epochs, self.iterations, self.samples_per_class) < 1 or self.classes_per_batch < 2:
            raise ConfigError("DMOFC training needs epochs, iterations and samples per class >= 1 and at least 2 classes a batch")

    def as_dict(self) -> dict:
        return {"metric": self.metric, "epochs": self.epochs, "iterations_per_epoch": self.iterations,
                "classes_per_batch": self.classes_per_batch, "samples_per_class": self.samples_per_class,
                "learning_rate": self.learning_rate, "margin": self.margin,
                "optimizer": "Adam (betas 0.9, 0.999), cosine annealing to 0 over every iteration",
                "initialization": "Glorot uniform weights, zero biases",
                "mining": "each anchor's DIS averaged over its positives and negatives in the batch; per class the anchor of largest DIS"}  # fmt: skip


class DmofcNetwork(nn.Module):
    """Encoder FC D -> K, the 8-bit quantizer (noise while training), decoder FC K -> D."""

    def __init__(self, dims: int, latent_dims: int) -> None:
        super().__init__()
        self.enc, self.dec = glorot_linear(dims, latent_dims), glorot_linear(latent_dims, dims)

    def forward(self, x: "torch.Tensor", generator=None) -> "torch.Tensor":
        y = torch.clamp(self.enc(x), -CLIP, CLIP)
        if self.training:
            y = y + (torch.rand(y.shape, generator=generator) - 0.5) * _STEP
        else:
            y = torch.round((y + CLIP) / _STEP) * _STEP - CLIP
        return self.dec(y)

    def weights(self) -> Dict[str, np.ndarray]:
        out: Dict[str, np.ndarray] = {}
        linear_weights(out, "enc", self.enc)
        linear_weights(out, "dec", self.dec)
        return out


def pairwise_mse(f: "torch.Tensor") -> "torch.Tensor":
    """d(i, j): the mean squared difference of features i and j (seed 000's d), B x B, from the Gram matrix."""
    sq = (f * f).sum(1)
    return torch.clamp(sq[:, None] + sq[None, :] - 2.0 * (f @ f.T), min=0.0) / f.shape[1]


def discrimination_loss(rec: "torch.Tensor", labels: "torch.Tensor", margin: float) -> Tuple["torch.Tensor", "torch.Tensor"]:
    """DIS (eq. 1): (the mean over classes of the largest anchor DIS, each anchor's DIS).

    An anchor's DIS is the mean of max(d(A, P) - d(A, N) + margin, 0) over
    its positives P (A excluded) and negatives N in the batch. The triplets
    are formed class by class (S x S x O for a class of S samples and O
    others), not as one B x B x B tensor: a tenth of the work for 8 x 16.
    """
    d = pairwise_mse(rec)
    per_anchor = torch.zeros(len(labels), dtype=rec.dtype)
    hardest = []
    for c in torch.unique(labels):
        mine = labels == c
        rows, others = torch.nonzero(mine).flatten(), torch.nonzero(~mine).flatten()
        d_pos, d_neg = d[rows][:, rows], d[rows][:, others]  # S x S, S x O
        hinge = torch.relu(d_pos[:, :, None] - d_neg[:, None, :] + margin)  # [a, p, n]
        not_self = ~torch.eye(len(rows), dtype=torch.bool)[:, :, None]
        count = max((len(rows) - 1) * len(others), 1)
        dis = torch.where(not_self, hinge, torch.zeros_like(hinge)).sum((1, 2)) / count
        per_anchor = per_anchor.index_put((rows,), dis)
        hardest.append(dis.max())
    return torch.stack(hardest).mean(), per_anchor


def class_balanced_batches(labels: np.ndarray, settings: DmofcSettings, rng: np.random.Generator):
    """Row indices of one batch: ``classes_per_batch`` classes, ``samples_per_class`` rows of each."""
    classes = np.unique(labels)
    by_class = {c: np.flatnonzero(labels == c) for c in classes}
    while True:
        chosen = rng.choice(classes, settings.classes_per_batch, replace=False)
        rows = [rng.choice(by_class[c], settings.samples_per_class, replace=len(by_class[c]) < settings.samples_per_class)
                for c in chosen]  # fmt: skip
        yield np.concatenate(rows)


def train_dmofc(data: LabelledSet, ic: int, settings: DmofcSettings) -> TrainedModel:
    """A DMOFC codec of information capacity ``ic`` bytes (K = ic latent elements of 8 bits)."""
    x, y = data.part("train")
    if ic < 1:
        raise ConfigError(f"the information capacity must be >= 1 byte, got {ic}")
    if len(np.unique(y)) < settings.classes_per_batch:
        raise ConfigError(f"DMOFC batches draw {settings.classes_per_batch} classes; the training split has {len(np.unique(y))}")
    with seeded(settings.seed):
        net = DmofcNetwork(data.dims, ic)
    features, targets = torch.from_numpy(np.ascontiguousarray(x, np.float32)), torch.from_numpy(y.astype(np.int64))
    generator = torch.Generator().manual_seed(settings.seed)
    batches = class_balanced_batches(y, settings, np.random.default_rng(settings.seed))
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=settings.epochs * settings.iterations)
    probe = next(class_balanced_batches(y, settings, np.random.default_rng(settings.seed + 1)))
    result, bar, t0 = FitResult(), epoch_bar(settings.epochs, f"DMOFC {settings.metric} IC={ic}", settings.progress), time.perf_counter()
    try:
        for _ in range(settings.epochs):
            net.train()
            total = 0.0
            for _ in range(settings.iterations):
                rows = torch.from_numpy(next(batches))
                loss = _loss(net, features[rows], targets[rows], settings, generator)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                total += float(loss.detach())
            result.losses.append(total / settings.iterations)
            net.eval()
            with torch.no_grad():
                rec = net(features[probe])
                sim = float(((rec - features[probe]) ** 2).mean())
                dis = float(discrimination_loss(rec, targets[probe], settings.margin)[0])
            result.report = {"sim": sim, "dis": dis}
            if bar is not None:
                bar.set_postfix(loss=f"{result.losses[-1]:.4g}", sim=f"{sim:.4g}", dis=f"{dis:.4g}")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        net.eval()
    result.seconds = time.perf_counter() - t0
    arch = {"latent_dims": int(ic), "latent_bits": 8, "latent_clip": CLIP}
    hyper = {**settings.as_dict(), "ic_bytes": int(ic),
             "loss": {"sim": "SIM: MSE(f_rec, f)", "dis": "DIS (eq. 1), batch-hard", "combined": "SIM + DIS"}[settings.metric]}  # fmt: skip
    header = model_header("dmofc", data.dims, arch, hyper, data, settings.seed, result)
    return TrainedModel(header, net.weights(), result)


def _loss(net, xb, yb, settings: DmofcSettings, generator) -> "torch.Tensor":
    rec = net(xb, generator)
    sim = ((rec - xb) ** 2).mean()
    if settings.metric == "sim":
        return sim
    dis, _ = discrimination_loss(rec, yb, settings.margin)
    return dis if settings.metric == "dis" else sim + dis
