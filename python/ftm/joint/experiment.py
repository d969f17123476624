"""Seed 003's experiment: texture and feature grids, R-D fits, TFQI allocation against compress-then-analyze.

For a labelled stack of images (grey or colour) and a function that embeds
images (the network of the run):

1. **Texture grid**: the images coded all intra at each texture QP
   (:func:`ftm.joint.texture.code_texture`): R_t (bits per image), D_t (MSE),
   and for compress-then-analyze (CTA) the verification accuracy of the
   features extracted from the decoded images.
2. **Feature grid**: the features of the lossless images coded by FTM's
   vector codec (HEVC-style SQ and CABAC, seed 003 eq. 1-2, features scaled
   to [-1, 1] by one factor of the lossless features) at each feature QP,
   through a real stream: R_f (bits per image of the vector record), D_f
   (the verification error rate of the decoded features).
3. **Fits** (eq. 9) of D_t(R_t) and D_f(R_f), with R^2.
4. For each weight w1 and each budget R_c (the rates of the CTA points, so
   both schemes are compared at the same total bits): the proposed scheme
   solves eq. 7-8 on the fits, maps (R_t, R_f) to the nearest measured QP
   pair within the budget (the least sum of rate distances) and scores the
   measured pair; the oracle searches every measured pair within R_c; CTA
   spends R_c on texture alone. TFQI per :func:`ftm.metrics.tfqi.tfqi`.

D_f is the error of ``task`` (:mod:`ftm.joint.recognition`: verification
on pairs by default, or classification by a linear classifier fitted on
lossless features). Rates are bits per image of each record (seed 003 counts the bits of a
face); a pair's stream (:func:`ftm.stream.coding.join_streams`) adds its
16 bytes of header and end box once. The reports also give bits per pixel.
Each grid point is a function (:func:`texture_point`, :func:`feature_point`)
that ``ftm-joint`` runs as a resumable job; :func:`analyse` does 3 and 4. Verification follows the learned-codec evaluation
(LFW protocol on pairs drawn from the labels).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from ftm.joint.texture import SEED003_QPS, code_texture
from ftm.metrics.tfqi import ExponentialModel, allocate, fit_model, oracle, tfqi
from ftm.joint.recognition import Score, recognition

__all__ = ["JointResult", "JointSettings", "analyse", "feature_point", "feature_scale", "run_joint", "texture_point"]

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
    task: str = "verification"  # D_f's recognition task (ftm.joint.recognition)


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
    run: Dict[str, object] = field(default_factory=dict)  # provenance of ftm-joint's run: digests, executor, wall time

    def as_dict(self) -> dict:
        return asdict(self)


def _vector_keys(scale: float, qp: int) -> Dict[str, str]:
    return {"FeatureKind": "vector", "QP": str(qp), "Normalization": "scale", "Scale": repr(scale), "Reconstruction": "floor"}


def _nearest_pair(rt: Sequence[float], rf: Sequence[float], target: Tuple[float, float], budget: float) -> Tuple[int, int]:
    """The measured (texture, feature) pair within ``budget`` nearest the model's rates ``target`` (-1, -1 when none fits)."""
    fits = [(i, j) for i in range(len(rt)) for j in range(len(rf)) if rt[i] + rf[j] <= budget]
    if not fits:
        return -1, -1
    return min(fits, key=lambda ij: abs(rt[ij[0]] - target[0]) + abs(rf[ij[1]] - target[1]))


def texture_point(images: np.ndarray, score: Score, embed: Embed, qp: int, encoder: str = "x265-ffmpeg", hm_dir: str = "") -> Tuple[dict, bytes]:
    """One texture QP: R_t, D_t and the accuracy of compress-then-analyze (features of the decoded images); and the stream."""
    t = code_texture(images, qp, encoder, hm_dir=hm_dir)
    acc = score(embed(t.reconstruction))
    point = {"qp": qp, "bits_per_image": t.bits / t.images, "mse": t.mse, "psnr": t.psnr, "cta_accuracy": acc,
             "seconds": t.seconds, "encoder_version": t.encoder_version}  # fmt: skip
    return point, t.stream


def feature_scale(lossless: np.ndarray) -> float:
    """The vector codec's one scale factor: the lossless features into [-1, 1] (float32, as the stream stores it)."""
    return float(np.float32(1.0 / max(float(np.abs(lossless).max()), 1e-30)))


def feature_point(lossless: np.ndarray, score: Score, qp: int, scale: float) -> Tuple[dict, bytes]:
    """One feature QP: R_f (every byte of the vector record) and D_f (the recognition error of the decoded features)."""
    from ftm.stream.coding import decode_all, encode_tensors

    coded = encode_tensors({"feature": lossless}, _vector_keys(scale, qp), progress=False)
    acc = score(decode_all(coded.data)["feature"])
    bits = 8 * coded.tensors[0].record_bytes / len(lossless)
    return {"qp": qp, "bits_per_image": bits, "error_rate": 1.0 - acc, "accuracy": acc}, coded.data


def analyse(settings: JointSettings, images: int, pixels: int, lossless_accuracy: float, texture: List[dict],
            feature: List[dict]) -> JointResult:  # fmt: skip
    """Fits (eq. 9) on the measured points and, per weight and CTA budget, the allocations against CTA."""
    result = JointResult(asdict(settings), images, pixels, lossless_accuracy, sorted(texture, key=lambda p: p["qp"]),
                         sorted(feature, key=lambda p: p["qp"]))  # fmt: skip
    rt = [p["bits_per_image"] for p in result.texture]
    rf = [p["bits_per_image"] for p in result.feature]
    texture_model = fit_model(rt, [p["mse"] for p in result.texture], terms=1)
    feature_model = fit_model(rf, [p["error_rate"] for p in result.feature], terms=2)
    result.fits = {"texture": asdict(texture_model), "feature": asdict(feature_model)}
    for w1 in settings.weights:
        for cta in result.texture:
            result.allocations.append(_allocation(result, texture_model, feature_model, w1, cta))
    return result


def run_joint(images: np.ndarray, labels: np.ndarray, embed: Embed, settings: JointSettings = JointSettings(),
              log: Callable[[str], None] = lambda m: None) -> JointResult:  # fmt: skip
    """Seed 003's measurements, fits and allocations on ``images`` of ``labels``, one point after the other in
    this process (``ftm-joint`` runs the same points as resumable jobs, :mod:`ftm.joint.run`)."""
    lossless = embed(images)
    score = recognition(settings.task, labels, lossless, settings.pairs, settings.folds, settings.pair_seed)
    accuracy = score(lossless)
    log(f"lossless images: {settings.task} accuracy {100 * accuracy:.2f}%")
    texture = [texture_point(images, score, embed, qp, settings.encoder)[0] for qp in settings.texture_qps]
    scale = feature_scale(lossless)
    feature = [feature_point(lossless, score, qp, scale)[0] for qp in settings.feature_qps]
    return analyse(settings, images.shape[0], int(images.shape[1] * images.shape[2]), accuracy, texture, feature)


def _allocation(result: JointResult, texture_model: ExponentialModel, feature_model: ExponentialModel, w1: float,
                cta: dict) -> dict:  # fmt: skip
    budget = cta["bits_per_image"]
    rt = [p["bits_per_image"] for p in result.texture]
    rf = [p["bits_per_image"] for p in result.feature]
    split = allocate(texture_model, feature_model, w1, budget)
    i, j = _nearest_pair(rt, rf, (split.texture_rate, split.feature_rate), budget)
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
