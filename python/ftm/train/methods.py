"""Training of seed 001's networks: PRO (eq. 5), PRO-E (eq. 6) and SQ-E, each into a model (header, weights).

- PRO: loss ``||f_raw - f_rec||_2^2 + lambda * ||c||_1`` per vector (eq. 5),
  averaged over the batch; c clipped to +-r_clip, uniform noise in
  [-0.5, 0.5) in place of rounding while training.
- PRO-E: the enhancer maps a low-rate model's transmitted levels c_low to the
  high-rate model's latent c_high, both divided by their r_clip (eq. 6:
  ``||Enh(c_low / r_clip) - c_high / r_clip||_2^2``); its inputs and targets
  come from the two model files through the numpy codec, exactly as it will
  see them when decoding. The target is the clipped, unrounded c_high: the
  paper does not say, and the continuous latent is what the high-rate
  decoder was trained to decode (with noise), carrying more than its rounding.
- SQ-E: MSE between f_SQ-E and f_raw, f_SQ being what the SQ codec
  reconstructs at the model's QP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from ftm.codecs.learned.model_file import ModelFile
from ftm.codecs.learned.networks import latent_levels, pro_encode
from ftm.codecs.learned.sq_enhanced import check_quantizer, sq_reconstruction
from ftm.errors import ModelError
from ftm.extract.embeddings import LabelledSet
from ftm.train.layers import torch
from ftm.train.loop import FitResult, TrainSettings, fit, seeded
from ftm.train.networks import Enhancer, ProNetwork, SqEnhancer
from ftm.train.provenance import model_header

__all__ = ["TrainedModel", "latent_bits_per_dimension", "train_pro", "train_pro_e", "train_sq_e"]

R_CLIP = 20.0  # seed 001 section 3.3
REPORT_ROWS = 2000  # training vectors the per-epoch rate and error are measured on


@dataclass(frozen=True)
class TrainedModel:
    """What a training run gives: the model file's header and weights, and the figures of the run."""

    header: dict
    weights: Dict[str, np.ndarray]
    fit: FitResult


def latent_bits_per_dimension(levels: np.ndarray, r_clip: float, dims: int) -> float:
    """The empirical entropy of each latent dimension's levels, summed, per original dimension.

    What an ideal adaptive coder of independent dimensions would spend: the
    progress bar's rate; the real rate is measured from coded bytes.
    """
    bound = int(np.ceil(r_clip))
    n, k = levels.shape
    index = (levels.astype(np.int64) + bound) + np.arange(k)[None, :] * (2 * bound + 1)
    counts = np.bincount(index.reshape(-1), minlength=k * (2 * bound + 1)).reshape(k, -1).astype(np.float64)
    p = counts / n
    with np.errstate(divide="ignore", invalid="ignore"):
        bits = -np.nansum(np.where(p > 0, p * np.log2(p), 0.0))
    return float(bits / dims)


def _sample(x: np.ndarray) -> np.ndarray:
    return x[:: max(1, x.shape[0] // REPORT_ROWS)][:REPORT_ROWS]


def train_pro(data: LabelledSet, lam: float, settings: TrainSettings, hidden: Optional[int] = None,
              latent_dims: Optional[int] = None, r_clip: float = R_CLIP) -> TrainedModel:  # fmt: skip
    """A PRO model at Lagrangian multiplier ``lam`` (eq. 5); hidden and latent widths default to D."""
    x, _ = data.part("train")
    d = data.dims
    arch = {"hidden": int(hidden or d), "latent_dims": int(latent_dims or d), "r_clip": float(np.float32(r_clip))}
    with seeded(settings.seed):
        net = ProNetwork(d, arch["hidden"], arch["latent_dims"], arch["r_clip"])

    def loss(module, xb, yb, generator):
        f_rec, c = module(xb, generator)
        return ((yb - f_rec) ** 2).sum(1).mean() + lam * c.abs().sum(1).mean()

    probe = torch.from_numpy(_sample(x))

    def report(module) -> Dict[str, float]:
        f_rec, c = module(probe)
        levels = torch.round(c).numpy().astype(np.int32)
        return {"mse": float(((probe - f_rec) ** 2).sum(1).mean()), "rate": latent_bits_per_dimension(levels, arch["r_clip"], d)}

    result = fit(net, x, x, loss, settings, desc=f"PRO lambda={lam:g}", epoch_report=report)
    hyper = {**settings.as_dict(), "lambda": lam, "loss": "sum of squared errors + lambda * L1 norm of the latent (eq. 5)",
             "noise": "uniform [-0.5, 0.5) in training, rounding at test"}  # fmt: skip
    return TrainedModel(model_header("pro", d, arch, hyper, data, settings.seed, result), net.weights(), result)


def train_pro_e(data: LabelledSet, low: ModelFile, high: ModelFile, settings: TrainSettings,
                hidden: Optional[int] = None) -> TrainedModel:  # fmt: skip
    """PRO-E: the enhancer from ``low``'s transmitted levels to ``high``'s latent (eq. 3, 6)."""
    for m in (low, high):
        if m.method != "pro" or m.dims != data.dims:
            raise ModelError(f"PRO-E pairs two PRO models of {data.dims}-d vectors; {m.describe()} is not one")
    x, _ = data.part("train")
    lo, hi = low.architecture, high.architecture
    inputs = latent_levels(pro_encode(low.weights, x), lo["r_clip"]) / lo["r_clip"]
    targets = np.clip(pro_encode(high.weights, x), -hi["r_clip"], hi["r_clip"]) / hi["r_clip"]
    h = int(hidden or lo["latent_dims"])
    with seeded(settings.seed):
        net = Enhancer(lo["latent_dims"], h, hi["latent_dims"])

    def loss(module, xb, yb, generator):
        return ((module(xb) - yb) ** 2).sum(1).mean()

    probe_in, probe_out = torch.from_numpy(_sample(inputs).astype(np.float32)), torch.from_numpy(_sample(targets).astype(np.float32))

    def report(module) -> Dict[str, float]:
        return {"latent_mse": float(((module(probe_in) - probe_out) ** 2).sum(1).mean())}

    result = fit(net, inputs, targets, loss, settings, desc="PRO-E", epoch_report=report)
    arch = {"low": lo, "high": hi, "enhancer_hidden": h}
    hyper = {**settings.as_dict(), "loss": "||Enh(c_low / r_clip) - c_high / r_clip||^2 (eq. 6), c_high clipped, unrounded",
             "pair": {"low_sha256": low.sha256, "high_sha256": high.sha256,
                      "low_lambda": low.header["hyperparameters"].get("lambda"),
                      "high_lambda": high.header["hyperparameters"].get("lambda")}}  # fmt: skip
    weights = {k: np.asarray(v) for k, v in low.weights.items() if k.startswith("enc.")}
    weights.update(net.weights())
    weights.update({k: np.asarray(v) for k, v in high.weights.items() if k.startswith("dec.")})
    return TrainedModel(model_header("pro-e", data.dims, arch, hyper, data, settings.seed, result), weights, result)


def train_sq_e(data: LabelledSet, quantizer: dict, settings: TrainSettings, hidden: Optional[int] = None) -> TrainedModel:
    """SQ-E for the SQ codec at ``quantizer`` (qp, normalization, scale, reconstruction)."""
    check_quantizer(quantizer)
    x, _ = data.part("train")
    _, f_sq = sq_reconstruction(quantizer, x)
    arch = {**quantizer, "hidden": int(hidden or data.dims)}
    with seeded(settings.seed):
        net = SqEnhancer(data.dims, arch["hidden"])

    def loss(module, xb, yb, generator):
        return ((module(xb) - yb) ** 2).sum(1).mean()

    probe_in, probe_out = torch.from_numpy(_sample(f_sq)), torch.from_numpy(_sample(x))

    def report(module) -> Dict[str, float]:
        return {"mse": float(((module(probe_in) - probe_out) ** 2).sum(1).mean()),
                "sq_mse": float(((probe_in - probe_out) ** 2).sum(1).mean())}  # fmt: skip

    result = fit(net, f_sq, x, loss, settings, desc=f"SQ-E QP {quantizer['qp']}", epoch_report=report)
    hyper = {**settings.as_dict(), "loss": "sum of squared errors between f_SQ-E and f_raw"}
    return TrainedModel(model_header("sq-e", data.dims, arch, hyper, data, settings.seed, result), net.weights(), result)
