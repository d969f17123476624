"""The rate-accuracy sweep: train each codec's models, code the test split through .ftm streams, evaluate.

For every rate point of every method of a :class:`~ftm.rate_accuracy.config.SweepConfig`:

1. the model is trained on the labelled set's train split (SQ needs none),
   or reused from ``OutputDir/models`` when a file of exactly the same
   training settings and set is there (its name carries their digest);
2. the test split is coded into a .ftm stream with ``ftm.encode_tensors`` and
   decoded with ``ftm.decode_all``, as a user would, and both are timed;
3. the rate is the stream's real size (bits per dimension, bytes per vector)
   and the decoded vectors are evaluated with :mod:`ftm.metrics.verification`
   (LFW-protocol accuracy, AUC, EER; retrieval mAP and rank-1).

PRO-E pairs each PRO lambda with the next one of ``ProLambdas`` (the next
higher rate, since lambdas are taken from large to small), as Table 1 shows
PRO-E at PRO's rates. DMOFC (seed 000) has a point per information capacity
of ``DmofcICs`` and metric: its stream carries the fixed-length 8-bit latent
(IC bytes a vector), and the same codes level-coded give the entropy-coded
rate reported beside it (``cabac_bits_per_dimension``).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from ftm.codecs.learned.model_file import ModelFile, read_model_file
from ftm.metrics.rate import bits_per_dimension, bytes_per_vector
from ftm.metrics.verification import VerificationPairs, query_gallery_retrieval, verification, verification_pairs
from ftm.rate_accuracy.config import SweepConfig
from ftm.stream.coding import decode_all, encode_tensors
from ftm.train.config import TrainConfig
from ftm.train.run import default_scale, load_labelled_set, train_to_file

__all__ = ["RatePoint", "SweepResult", "evaluate_vectors", "run_sweep"]

TENSOR = "test"


@dataclass
class RatePoint:
    """One coded test split: the codec, its rate and its accuracy."""

    method: str
    setting: str  # "QP 40", "lambda 0.1", "1 bpd", "uncompressed"
    bits_per_dimension: float
    bytes_per_vector: float
    stream_bytes: int
    accuracy: float
    accuracy_std: float
    auc: float
    eer: float
    map: float
    rank1: float
    mse: float
    train_seconds: float = 0.0
    encode_seconds: float = 0.0
    decode_seconds: float = 0.0
    vectors: int = 0
    model: str = ""
    model_sha256: str = ""
    ic_bytes: int = 0  # DMOFC: the information capacity (latent bytes a vector)
    cabac_bits_per_dimension: float = 0.0  # DMOFC: the rate of the same codes, level-coded


@dataclass
class SweepResult:
    config: dict
    labelled_set: dict
    reference: RatePoint
    points: List[RatePoint] = field(default_factory=list)
    tsne: Dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # DMOFC: decoded test vectors to draw
    test_labels: Optional[np.ndarray] = field(default=None, repr=False)

    def by_method(self) -> Dict[str, List[RatePoint]]:
        out: Dict[str, List[RatePoint]] = {}
        for p in self.points:
            out.setdefault(p.method, []).append(p)
        for rows in out.values():
            rows.sort(key=lambda p: p.bits_per_dimension)
        return out

    def as_dict(self) -> dict:
        return {"config": self.config, "labelled_set": self.labelled_set, "reference": asdict(self.reference),
                "points": [asdict(p) for p in self.points]}  # fmt: skip


def evaluate_vectors(decoded: np.ndarray, original: np.ndarray, labels: np.ndarray, pairs: VerificationPairs,
                     query_fraction: float, seed: int) -> dict:  # fmt: skip
    """Verification and retrieval figures of decoded test vectors, and their MSE to the originals."""
    v = verification(decoded, pairs)
    r = query_gallery_retrieval(decoded, labels, query_fraction, seed)
    mse = float(np.mean(np.sum((decoded.astype(np.float64) - original) ** 2, axis=1)))
    return {"accuracy": v.accuracy, "accuracy_std": v.accuracy_std, "auc": v.auc, "eer": v.eer, "map": r.map,
            "rank1": r.rank1, "mse": mse}  # fmt: skip


def _say(progress: bool, text: str) -> None:
    if progress:
        print(text, file=sys.stderr, flush=True)


class _Sweep:
    def __init__(self, cfg: SweepConfig, out: Path, progress: bool) -> None:
        self.cfg, self.out, self.progress = cfg, out, progress
        self.data = load_labelled_set(cfg.labelled_set, progress=progress)
        if cfg.feature_head != "none":  # seed 000 III-D: SimFeat / DisFeat
            from ftm.train.heads import HeadSettings, head_features

            _say(progress, f"training the {cfg.feature_head} feature head ({cfg.head_dims} dimensions)")
            self.data = head_features(self.data, HeadSettings(cfg.feature_head, cfg.head_dims, cfg.head_epochs, seed=cfg.seed))
        self.x, self.y = self.data.part("test")
        self.pairs = verification_pairs(self.y, cfg.pairs, cfg.folds, cfg.pair_seed)
        self.models = out / "models"
        self.models.mkdir(parents=True, exist_ok=True)
        self.scale = cfg.sq_scale if cfg.sq_scale is not None else default_scale(self.data)
        if cfg.threads:
            from ftm.train.layers import torch

            torch.set_num_threads(cfg.threads)

    def train_config(self, **fields) -> TrainConfig:
        c = self.cfg
        base = dict(labelled_set=c.labelled_set, seed=c.seed, threads=c.threads, epochs=c.epochs, batch_size=c.batch_size,
                    learning_rate=c.learning_rate, code_bits=c.code_bits, kmeans_iterations=c.kmeans_iterations,
                    opq_iterations=c.opq_iterations)  # fmt: skip
        base.update(fields)
        return TrainConfig(**base)

    def model_path(self, name: str, tc: TrainConfig) -> Path:
        """Where ``tc``'s model is kept: its name carries the digest of its training settings and set."""
        spec = {**tc.training_settings(), "training_set": self.data.digest}
        digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return self.models / f"{name}-{digest}.safetensors"

    def model(self, name: str, tc: TrainConfig) -> Tuple[ModelFile, float]:
        """The model file of ``tc``: reused when one of the same settings and set exists, else trained."""
        path = self.model_path(name, tc)
        if path.is_file() and self.cfg.retrain == "0":
            model = read_model_file(path)
            _say(self.progress, f"{name}: reusing {path}")
            return model, float(model.header.get("training", {}).get("seconds", 0.0))
        model, trained = train_to_file(tc, self.data, str(path), progress=self.progress, command="ftm-rate-accuracy")
        return model, trained.fit.seconds

    def code(self, method: str, setting: str, keys: Dict[str, str], model_path: Optional[str] = None,
             model: Optional[ModelFile] = None, train_seconds: float = 0.0) -> RatePoint:  # fmt: skip
        t0 = time.perf_counter()
        result = encode_tensors({TENSOR: self.x}, keys, progress=False)
        encode_seconds = time.perf_counter() - t0 - result.tensors[0].decode_seconds
        t0 = time.perf_counter()
        decoded = decode_all(result.data, model=model_path)[TENSOR]
        decode_seconds = time.perf_counter() - t0
        self.decoded = decoded
        n, d = self.x.shape
        figures = evaluate_vectors(decoded, self.x, self.y, self.pairs, self.cfg.query_fraction, self.cfg.pair_seed)
        point = RatePoint(method, setting, bits_per_dimension(len(result.data), n, d), bytes_per_vector(len(result.data), n),
                          len(result.data), **figures, train_seconds=train_seconds, encode_seconds=encode_seconds,
                          decode_seconds=decode_seconds, vectors=n, model=Path(model_path).name if model_path else "",
                          model_sha256=model.sha256 if model else "")  # fmt: skip
        _say(self.progress, f"{method:>6} {setting:<14} {point.bits_per_dimension:7.3f} bpd  accuracy {100 * point.accuracy:6.2f}%  "
                            f"AUC {point.auc:.4f}  EER {100 * point.eer:5.2f}%")  # fmt: skip
        return point

    def learned(self, method: str, setting: str, name: str, tc: TrainConfig) -> Tuple[RatePoint, ModelFile]:
        model, seconds = self.model(name, tc)
        keys = {"FeatureKind": "learned", "Model": model.path}
        return self.code(method, setting, keys, model.path, model, seconds), model

    def sq_keys(self, qp: int) -> Dict[str, str]:
        return {"FeatureKind": "vector", "QP": str(qp), "Normalization": "scale", "Scale": repr(self.scale), "Reconstruction": "floor"}


def run_sweep(cfg: SweepConfig, out_dir: Optional[str] = None, progress: bool = True,
              on_point: Optional[Callable[[RatePoint], None]] = None) -> SweepResult:  # fmt: skip
    """Every method at every rate point of ``cfg``; ``on_point`` hears each point as it is done."""
    out = Path(out_dir or cfg.output_dir)
    s = _Sweep(cfg, out, progress)
    c = cfg
    reference = RatePoint("uncompressed", "float32", 32.0, 4.0 * s.x.shape[1], int(s.x.nbytes),
                          **evaluate_vectors(s.x, s.x, s.y, s.pairs, c.query_fraction, c.pair_seed), vectors=s.x.shape[0])  # fmt: skip
    info = {"digest": s.data.digest, "path": str(s.data.path) if s.data.path else None, "train": int((s.data.split == 0).sum()),
            "test": int(s.x.shape[0]), "dims": s.data.dims, "classes": list(s.data.classes),
            "source": (s.data.manifest or {}).get("source", {}).get("kind"), "sq_scale": s.scale,
            "feature_head": (s.data.manifest or {}).get("feature_head")}  # fmt: skip
    result = SweepResult({k: (list(v) if isinstance(v, tuple) else v) for k, v in c.as_keys().items()}, info, reference,
                         test_labels=s.y)  # fmt: skip

    def add(point: RatePoint) -> None:
        result.points.append(point)
        if on_point is not None:
            on_point(point)

    for method in c.methods:
        if method in ("pq", "opq"):
            for bits in c.pq_bits:
                tc = s.train_config(method=method, bits_per_dimension=bits)
                add(s.learned(method, f"{bits:g} bpd", f"{method}-{bits:g}bpd", tc)[0])
        elif method == "sq":
            for qp in c.sq_qps:
                add(s.code("sq", f"QP {qp}", s.sq_keys(qp)))
        elif method == "sq-e":
            for qp in c.sq_qps:
                tc = s.train_config(method="sq-e", qp=qp, normalization="scale", scale=s.scale, hidden=c.hidden)
                add(s.learned("sq-e", f"QP {qp}", f"sq-e-qp{qp}", tc)[0])
    pro: Dict[float, ModelFile] = {}
    lambdas = sorted(c.pro_lambdas, reverse=True)  # low rate first
    if "pro" in c.methods or "pro-e" in c.methods:
        for lam in lambdas:
            tc = s.train_config(method="pro", lam=lam, hidden=c.hidden, latent_dims=c.latent_dims, r_clip=c.r_clip)
            point, pro[lam] = s.learned("pro", f"lambda {lam:g}", f"pro-lambda{lam:g}", tc)
            if "pro" in c.methods:
                add(point)
    for method in (m for m in c.methods if m.startswith("dmofc-")):
        metric = method.split("-", 1)[1]
        for ic in c.dmofc_ics:
            tc = s.train_config(method="dmofc", metric=metric, ic=ic, epochs=c.dmofc_epochs, iterations=c.dmofc_iterations,
                                learning_rate=c.dmofc_learning_rate, margin=c.margin)  # fmt: skip
            point, model = s.learned(method, f"IC {ic}", f"dmofc-{metric}-ic{ic}", tc)
            if ic in c.tsne_ics:
                result.tsne[f"{method} IC {ic}"] = s.decoded
            cabac = encode_tensors({TENSOR: s.x}, {"FeatureKind": "learned", "Model": model.path, "LatentCoding": "cabac"}, progress=False)
            point.ic_bytes, point.cabac_bits_per_dimension = ic, bits_per_dimension(len(cabac.data), *s.x.shape)
            add(point)
    if "pro-e" in c.methods:
        for low, high in zip(lambdas, lambdas[1:]):
            tc = s.train_config(method="pro-e", low_model=pro[low].path, high_model=pro[high].path,
                                enhancer_hidden=c.enhancer_hidden)  # fmt: skip
            add(s.learned("pro-e", f"lambda {low:g}>{high:g}", f"pro-e-lambda{low:g}-{high:g}", tc)[0])
    return result
