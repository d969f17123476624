"""The rate-accuracy sweep of seed 001: which codecs, at which rate points, trained and evaluated how.

    cfg = load_sweep_config(["cfg/seed001.cfg"], ["--Epochs=10"])

HM-style keys (:mod:`ftm.settings`); ``ftm-rate-accuracy --help-keys``
lists them. Lists are comma-separated; paths are relative to the working folder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ftm.errors import ConfigError
from ftm.settings import Key, choice_of, describe_keys, finite_float, int_in, int_list, optional_float, plain_text, read_settings

__all__ = ["METHOD_ORDER", "SweepConfig", "describe_sweep_keys", "load_sweep_config"]

# Table 1's columns, in its order (DBH and DHN are not implemented), then seed 000's DMOFC, one per metric.
SEED001_METHODS = ("pq", "opq", "sq", "sq-e", "pro", "pro-e")
METHOD_ORDER = SEED001_METHODS + ("dmofc-sim", "dmofc-dis", "dmofc-combined")


def _methods(text: str) -> Tuple[str, ...]:
    """comma-separated: pq, opq, sq, sq-e, pro, pro-e, dmofc-sim, dmofc-dis, dmofc-combined"""
    names = tuple(w.strip().lower() for w in text.split(",") if w.strip())
    bad = [n for n in names if n not in METHOD_ORDER]
    if bad or not names or len(set(names)) != len(names):
        raise ValueError(f"expected distinct names of {', '.join(METHOD_ORDER)}; got {text!r}")
    return tuple(m for m in METHOD_ORDER if m in names)


def _ints_or_none(text: str) -> Tuple[int, ...]:
    """comma-separated integers, or nothing"""
    return int_list(text) if text.strip() else ()


def _floats(text: str) -> Tuple[float, ...]:
    """comma-separated numbers > 0"""
    values = tuple(finite_float(w.strip()) for w in text.split(",") if w.strip())
    if not values or any(v <= 0 for v in values):
        raise ValueError(f"expected comma-separated numbers > 0, got {text!r}")
    return values


KEYS: Tuple[Key, ...] = (
    Key("LabelledSet", "labelled_set", plain_text, "'default' (Fashion-MNIST through EfficientNet-Lite0, cached), an embedding-set folder or a labelled .npz"),
    Key("OutputDir", "output_dir", plain_text, "reports, plots, model files and streams (ftm-rate-accuracy -o wins)"),
    Key("Methods", "methods", _methods, "codecs to compare (Table 1's columns)"),
    Key("SqQPs", "sq_qps", int_list, "SQ and SQ-E: the QPs (seed 001 eq. 7)"),
    Key("SqScale", "sq_scale", optional_float, "SQ and SQ-E: Normalization : scale factor (empty: 1 / max |x| of the train split)"),
    Key("ProLambdas", "pro_lambdas", _floats, "PRO: the lambdas of eq. 5; PRO-E pairs each with the next lower one (higher rate)"),
    Key("PqBitsPerDimension", "pq_bits", _floats, "PQ and OPQ: code bits per dimension (seed 001: 1, 2, 4, 8)"),
    Key("CodeBits", "code_bits", int_in(1, 16), "PQ and OPQ: bits per code"),
    Key("Epochs", "epochs", int_in(1, 100000), "training epochs of every network (seed 001: 40)"),
    Key("BatchSize", "batch_size", int_in(1, 1 << 20), "training batch size (seed 001: 32)"),
    Key("LearningRate", "learning_rate", finite_float, "Adam's learning rate (seed 001: 1e-4)"),
    Key("Hidden", "hidden", int_in(0, 1 << 20), "PRO and SQ-E: hidden width (0: D)"),
    Key("LatentDims", "latent_dims", int_in(0, 1 << 20), "PRO: latent dimensions (0: D)"),
    Key("RClip", "r_clip", finite_float, "PRO: latent clipping threshold (seed 001: 20)"),
    Key("EnhancerHidden", "enhancer_hidden", int_in(0, 1 << 20), "PRO-E: enhancer width (0: the latent's)"),
    Key("DmofcICs", "dmofc_ics", int_list, "DMOFC: information capacities in bytes (seed 000: 16, 32, 64, 128, 256)"),
    Key("DmofcEpochs", "dmofc_epochs", int_in(1, 100000), "DMOFC: training epochs (seed 000: 300)"),
    Key("DmofcIterations", "dmofc_iterations", int_in(1, 1 << 30), "DMOFC: batches of 8 classes x 16 samples per epoch (seed 000: 3125)"),
    Key("DmofcLearningRate", "dmofc_learning_rate", finite_float, "DMOFC: Adam's initial learning rate, cosine-annealed (seed 000: 1e-3)"),
    Key("Margin", "margin", finite_float, "DMOFC: DIS's margin alpha (seed 000: 0.3)"),
    Key("FeatureHead", "feature_head", choice_of("none", "ce", "triplet"), "seed 000 III-D: the features through a head trained with cross-entropy (SimFeat) or triplet loss (DisFeat) first"),
    Key("HeadDims", "head_dims", int_in(1, 1 << 20), "FeatureHead: the head's output dimensions"),
    Key("HeadEpochs", "head_epochs", int_in(1, 100000), "FeatureHead: training epochs of 200 batches of 8 classes x 16 samples"),
    Key("TsneICs", "tsne_ics", _ints_or_none, "DMOFC: ICs whose reconstructions are drawn by t-SNE, one panel per metric (seed 000 Fig. 3; empty: none)"),
    Key("KmeansIterations", "kmeans_iterations", int_in(1, 100000), "PQ and OPQ: k-means iterations"),
    Key("OpqIterations", "opq_iterations", int_in(1, 100000), "OPQ: rotation/codebook alternations"),
    Key("Seed", "seed", int_in(0, 2**31 - 1), "training seed"),
    Key("Threads", "threads", int_in(0, 1024), "torch and faiss threads (0: their choice)"),
    Key("Pairs", "pairs", int_in(2, 10**7), "verification pairs (LFW: 6000)"),
    Key("Folds", "folds", int_in(1, 1000), "verification folds (LFW: 10)"),
    Key("PairSeed", "pair_seed", int_in(0, 2**31 - 1), "seed of the pairs and the query/gallery split"),
    Key("QueryFraction", "query_fraction", finite_float, "retrieval: share of each class's test vectors used as queries"),
    Key("BdMethod", "bd_method", choice_of("pchip", "akima", "cubic"), "BD-rate interpolation"),
    Key("Retrain", "retrain", choice_of("0", "1"), "1: train every model again; 0: reuse model files of the same settings"),
)  # fmt: skip
KEYS_BY_NAME: Dict[str, Key] = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class SweepConfig:
    """Resolved settings of one rate-accuracy run (defaults: seed 001's setting on the default set)."""

    labelled_set: str = "default"
    output_dir: str = "rate-accuracy-out"
    methods: Tuple[str, ...] = SEED001_METHODS  # DMOFC when named (cfg/dmofc.cfg)
    sq_qps: Tuple[int, ...] = (40, 46, 52, 58)
    sq_scale: Optional[float] = None
    pro_lambdas: Tuple[float, ...] = (3.0, 1.0, 0.3, 0.1, 0.03)
    pq_bits: Tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    code_bits: int = 8
    epochs: int = 40
    batch_size: int = 32
    learning_rate: float = 1e-4
    hidden: int = 0
    latent_dims: int = 0
    r_clip: float = 20.0
    enhancer_hidden: int = 0
    dmofc_ics: Tuple[int, ...] = (16, 32, 64, 128, 256)
    dmofc_epochs: int = 30
    dmofc_iterations: int = 200
    dmofc_learning_rate: float = 1e-3
    margin: float = 0.3
    feature_head: str = "none"
    head_dims: int = 256
    head_epochs: int = 10
    tsne_ics: Tuple[int, ...] = ()
    kmeans_iterations: int = 25
    opq_iterations: int = 50
    seed: int = 0
    threads: int = 0
    pairs: int = 6000
    folds: int = 10
    pair_seed: int = 0
    query_fraction: float = 0.1
    bd_method: str = "pchip"
    retrain: str = "0"
    sources: Tuple[str, ...] = ()
    origins: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if "pro-e" in self.methods and len(self.pro_lambdas) < 2:
            raise ConfigError(f"{self.at('pro_lambdas')}PRO-E pairs PRO models: ProLambdas needs at least two values")
        if not 0 < self.query_fraction < 1:
            raise ConfigError(f"{self.at('query_fraction')}QueryFraction must be in (0, 1), got {self.query_fraction}")
        if self.r_clip <= 0 or self.learning_rate <= 0:
            raise ConfigError("RClip and LearningRate must be > 0")

    def at(self, name: str) -> str:
        origin = self.origins.get(name)
        return f"{origin}: " if isinstance(origin, str) and origin else ""

    def replace(self, **fields: Any) -> "SweepConfig":
        return dataclasses.replace(self, **fields)

    def as_keys(self) -> Dict[str, Any]:
        return {k.name: getattr(self, k.field) for k in KEYS}


def load_sweep_config(files: Sequence[str] = (), overrides: Sequence[str] = (), **fields: Any) -> SweepConfig:
    origins: Dict[str, Any] = {}
    values = read_settings(files, overrides, KEYS_BY_NAME, origins)
    values.update(fields)
    return SweepConfig(**values, sources=tuple(files) + tuple(overrides), origins=origins)


def describe_sweep_keys() -> str:
    defaults = {f.name: f.default for f in dataclasses.fields(SweepConfig) if f.default is not dataclasses.MISSING}
    return describe_keys(KEYS, SimpleNamespace(**defaults))
