"""The matrix of a common test condition: one job per feature set x layer x QP x configuration.

A job's id is stable: it names what the job codes and ends with a digest of
everything its result depends on (the layer tensor's sha256 from the
feature-set manifest, the model, the QP, every codec setting, the
evaluation batch size), so a rerun finds the records of finished jobs and a
changed setting gives new jobs instead of reusing stale results. Settings
that change only how fast a job runs (Threads) or where a tool lives (HmDir)
are left out of the digest; each record carries the encoder's version.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Tuple

from ftm.errors import ConfigError
from ftm.stream.config import Config
from ftm.ctc.config import CtcConfig

__all__ = ["Job", "expand_jobs", "job_cost", "codec_settings"]

JOB_FORMAT = 1  # bump when the meaning of a job's result changes, so old records are not reused
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")
# Keys that never change a job's result, or are set per job by the runner.
_NOT_IN_DIGEST = ("InputFile", "BitstreamFile", "ReconFile", "SummaryFile", "Threads", "HmDir", "VtmDir", "BatchedCoding")


@dataclass(frozen=True)
class Job:
    """One cell of the matrix: code one layer of one feature set at one QP with one configuration."""

    job_id: str
    feature_set: str  # its label in reports
    feature_set_path: str
    model: str
    layer: str
    qp: int
    configuration: str
    codec: Config  # the resolved codec settings at this QP
    batch_size: int
    coding_unit: str  # "image": one sequence per image; "set": one tensor for the whole set
    cost: float  # relative estimate of the work, to start the longest jobs first
    detection_matching: str = "authors"  # F_detection's matching (a detector's feature sets only)
    pixel_inclusive: bool = False  # F_detection's +1-pixel IoU (VOC); off for normalised boxes

    def describe(self) -> Dict[str, Any]:
        """The job as plain JSON values."""
        return {
            "job_id": self.job_id,
            "feature_set": self.feature_set,
            "feature_set_path": self.feature_set_path,
            "model": self.model,
            "layer": self.layer,
            "qp": self.qp,
            "configuration": self.configuration,
            "codec": codec_settings(self.codec, digest_only=False),
            "batch_size": self.batch_size,
            "coding_unit": self.coding_unit,
            "detection_matching": self.detection_matching,
            "pixel_inclusive": self.pixel_inclusive,
        }


def codec_settings(cfg: Config, digest_only: bool = True) -> Dict[str, Any]:
    """A codec Config's settings under their key names, as JSON values."""
    out = {}
    for key, value in cfg.as_keys().items():
        if key in _NOT_IN_DIGEST[:4] or (digest_only and key in _NOT_IN_DIGEST):
            continue
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def job_cost(shape: Tuple[int, ...], qp: int) -> float:
    """Pixels the encoder codes (frames padded to multiples of 8, at least 16: x265's smallest CTU), more at low QP.

    On EfficientNet-Lite0 features the x265 encode time follows this count
    within about 30%, and the encode dominates a job.
    """
    n, c, h, w = shape
    side = lambda s: max(16, math.ceil(s / 8) * 8)  # noqa: E731
    return float(n * c * side(h) * side(w)) * (1.0 + (51 - qp) / 100.0)


def _digest(payload: Mapping[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def expand_jobs(cfg: CtcConfig, feature_sets: Mapping[str, Any]) -> List[Job]:
    """Every job of the matrix, in report order (feature set, layer, configuration, QP).

    ``feature_sets`` maps each label of ``cfg.feature_sets`` to its opened
    :class:`~ftm.extract.featureset.FeatureSet`.
    """
    jobs: List[Job] = []
    for label, fs in feature_sets.items():
        layers = list(cfg.layers) if cfg.layers is not None else fs.layers
        missing = [name for name in layers if name not in fs.manifest["layers"]]
        if missing:
            raise ConfigError(
                f"{cfg.where('layers')}: Layers: feature set {label} ({fs.path}) has no layer "
                f"{', '.join(missing)}; it has {', '.join(fs.layers)}"
            )
        detector = fs.manifest["model"].get("task") == "detection"
        for layer in layers:
            entry = fs.manifest["layers"][layer]
            if len(entry["shape"]) != 4:
                raise ConfigError(f"feature set {label}: layer {layer} is {entry['shape']}, not N x C x H x W feature maps")
            for variant in cfg.variants():
                for qp in cfg.qps:
                    codec = cfg.codec(variant, qp)
                    if codec.feature_kind != "map":
                        raise ConfigError(f"{variant.where}: configuration {variant.name}: the runner codes feature maps (FeatureKind : map)")
                    payload = {
                        "format": JOB_FORMAT,
                        "layer_sha256": entry["sha256"],
                        "model": fs.model_name,
                        "layer": layer,
                        "codec": codec_settings(codec),
                        "batch_size": cfg.batch_size,
                        "coding_unit": cfg.coding_unit,
                    }
                    if detector:  # the ids of other jobs stay what they were before detection existed
                        payload.update(detection_matching=cfg.detection_matching, pixel_inclusive=cfg.pixel_inclusive)
                    digest = _digest(payload)
                    job_id = ".".join(_UNSAFE.sub("_", part) for part in (label, layer, f"qp{qp}", variant.name, digest))
                    jobs.append(
                        Job(
                            job_id=job_id,
                            feature_set=label,
                            feature_set_path=str(fs.path.resolve()),
                            model=fs.model_name,
                            layer=layer,
                            qp=qp,
                            configuration=variant.name,
                            codec=codec,
                            batch_size=cfg.batch_size,
                            coding_unit=cfg.coding_unit,
                            cost=job_cost(tuple(entry["shape"]), qp),
                            detection_matching=cfg.detection_matching,
                            pixel_inclusive=cfg.pixel_inclusive,
                        )
                    )
    ids = [j.job_id for j in jobs]
    if len(set(ids)) != len(ids):  # two labels that sanitize alike, say
        raise ConfigError("two jobs of the matrix got the same id; give feature sets and configurations distinct names")
    return jobs
