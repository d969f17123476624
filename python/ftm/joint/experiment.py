"""Seed 003's experiment: texture and feature grids, R-D fits, TFQI allocation against compress-then-analyze.

For a labelled stack of grey images and a function that embeds images
(the network of the run):

1. **Texture grid**: the images coded all intra at each texture QP
   (:func:`ftm.joint.texture.code_texture`): R_t (bits per image), D_t (MSE),
   and for compress-then-analyze (CTA) the verification accuracy of the
   features extracted from the decoded images.
2. **Feature grid**: the features of the lossless images coded by FTM's
   vector codec (HEVC-style SQ and CABAC, seed 003 eq. 1-2, features scaled
   to [-1, 1] by one factor of the lossless features) at each feature QP,
   through a real stream: R_f (bits per image of the stream), D_f (the
   verification error rate of the decoded features).
3. **Fits** (eq. 9) of D_t(R_t) and D_f(R_f), with R^2.
4. For each weight w1 and each budget R_c (the rates of the CTA points, so
   both schemes are compared at the same total bits): the proposed scheme
   solves eq. 7-8 on the fits, maps (R_t, R_f) to the nearest measured QPs
   (the nearest rates, the texture's not above the budget) and scores the
   measured pair; the oracle searches every measured pair within R_c; CTA
   spends R_c on texture alone. TFQI per :func:`ftm.metrics.tfqi.tfqi`.

Rates are bits per image (seed 003 counts the bits of a face); the reports
also give bits per pixel. Verification follows the learned-codec evaluation
(LFW protocol on pairs drawn from the labels).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from ftm.joint.texture import SEED003_QPS, code_texture
from ftm.metrics.tfqi import ExponentialModel, allocate, fit_model, oracle, tfqi
from ftm.metrics.verification import verification, verification_pairs

__all__ = ["JointResult", "JointSettings", "run_joint"]

Embed = Callable[[np.ndarray], np.ndarray]  # N x H x W uint8 images -> N x D float32 features


@dataclass(frozen=True)
class JointSettings:
    texture_qps: Tuple[int, ...] = SEED003_QPS
    feature_qps: Tuple[int, ...] = (34, 40, 46, 52, 58)
    weights: Tuple[float, ...] = (0.2, 0.5, 0.8)
    encoder: str = "x265-ffmpeg"
    pairs: int = 6000
    folds: int = 10
    pair_seed: int = 0


@dataclass
class JointResult:
    settings: dict
    images: int
    pixels: int  # per image
    lossless_accuracy: float
    texture: List[dict] = field(default_factory=list)  # qp, bits_per_image, mse, psnr, cta_accuracy
    feature: List[dict] = field(default_factory=list)  # qp, bits_per_image, error_rate, accuracy
    fits: Dict[str, dict] = field(default_factory=dict)
    allocations: List[dict] = field(default_factory=list)  # w1, budget, proposed/oracle/cta figures

    def as_dict(self) -> dict:
        return asdict(self)


def _vector_keys(scale: float, qp: int) -> Dict[str, str]:
    return {"FeatureKind": "vector", "QP": str(qp), "Normalization": "scale", "Scale": repr(scale), "Reconstruction": "floor"}


def _nearest(rates: Sequence[float], target: float, at_most: float = math.inf) -> int:
    """The index of the rate nearest ``target`` among those <= ``at_most`` (-1 when none is)."""
    allowed = [i for i, r in enumerate(rates) if r <= at_most]
    return min(allowed, key=lambda i: abs(rates[i] - target)) if allowed else -1


def run_joint(images: np.ndarray, labels: np.ndarray, embed: Embed, settings: JointSettings = JointSettings(),
              log: Callable[[str], None] = lambda m: None) -> JointResult:  # fmt: skip
    """Seed 003's measurements, fits and allocations on ``images`` (N x H x W uint8) of ``labels``."""
    from ftm.stream.coding import decode_all, encode_tensors

    n = images.shape[0]
    pairs = verification_pairs(labels, settings.pairs, settings.folds, settings.pair_seed)
    lossless = embed(images)
    result = JointResult(asdict(settings), n, int(images.shape[1] * images.shape[2]), verification(lossless, pairs).accuracy)
    log(f"lossless images: verification accuracy {100 * result.lossless_accuracy:.2f}%")
    for qp in settings.texture_qps:
        t = code_texture(images, qp, settings.encoder)
        acc = verification(embed(t.reconstruction), pairs).accuracy
        result.texture.append({"qp": qp, "bits_per_image": t.bits / n, "mse": t.mse, "psnr": t.psnr, "cta_accuracy": acc,
                               "seconds": t.seconds})  # fmt: skip
        log(f"texture QP {qp}: {t.bits / n:.1f} bits an image, MSE {t.mse:.2f}, CTA accuracy {100 * acc:.2f}%")
    scale = float(np.float32(1.0 / max(float(np.abs(lossless).max()), 1e-30)))
    for qp in settings.feature_qps:
        coded = encode_tensors({"features": lossless}, _vector_keys(scale, qp), progress=False)
        acc = verification(decode_all(coded.data)["features"], pairs).accuracy
        result.feature.append({"qp": qp, "bits_per_image": 8 * len(coded.data) / n, "error_rate": 1.0 - acc, "accuracy": acc})
        log(f"feature QP {qp}: {8 * len(coded.data) / n:.1f} bits an image, verification accuracy {100 * acc:.2f}%")
    rt = [p["bits_per_image"] for p in result.texture]
    rf = [p["bits_per_image"] for p in result.feature]
    texture_model = fit_model(rt, [p["mse"] for p in result.texture], terms=1)
    feature_model = fit_model(rf, [p["error_rate"] for p in result.feature], terms=2)
    result.fits = {"texture": asdict(texture_model), "feature": asdict(feature_model)}
    for w1 in settings.weights:
        for cta in result.texture:
            result.allocations.append(_allocation(result, texture_model, feature_model, w1, cta))
    return result


def _allocation(result: JointResult, texture_model: ExponentialModel, feature_model: ExponentialModel, w1: float,
                cta: dict) -> dict:  # fmt: skip
    budget = cta["bits_per_image"]
    rt = [p["bits_per_image"] for p in result.texture]
    rf = [p["bits_per_image"] for p in result.feature]
    split = allocate(texture_model, feature_model, w1, budget)
    i = _nearest(rt, split.texture_rate, budget)
    j = _nearest(rf, split.feature_rate, budget - rt[i]) if i >= 0 else -1
    row = {"w1": w1, "budget": budget, "model_texture_rate": split.texture_rate, "model_feature_rate": split.feature_rate,
           "model_tfqi": split.tfqi, "interior": split.interior,
           "cta_tfqi": tfqi(cta["mse"], 1.0 - cta["cta_accuracy"], w1), "cta_accuracy": cta["cta_accuracy"]}  # fmt: skip
    if i >= 0 and j >= 0:
        t, f = result.texture[i], result.feature[j]
        row.update(texture_qp=t["qp"], feature_qp=f["qp"], rate=t["bits_per_image"] + f["bits_per_image"],
                   tfqi=tfqi(t["mse"], f["error_rate"], w1), accuracy=f["accuracy"])  # fmt: skip
    else:  # no measured pair fits the budget
        row.update(texture_qp=None, feature_qp=None, rate=None, tfqi=None, accuracy=None)
    oi, oj, best = oracle([(p["bits_per_image"], p["mse"]) for p in result.texture],
                          [(p["bits_per_image"], p["error_rate"]) for p in result.feature], w1, budget)  # fmt: skip
    row.update(oracle_texture_qp=result.texture[oi]["qp"] if oi >= 0 else None,
               oracle_feature_qp=result.feature[oj]["qp"] if oj >= 0 else None,
               oracle_tfqi=best if oi >= 0 else None)  # fmt: skip
    return row
