"""What ``ftm-train`` trains: HM-style keys resolved into a :class:`TrainConfig`.

    cfg = TrainConfig.load(["train.cfg"], overrides=["--Method=pro", "--Lambda=1e-3"])

Keys are read as every FTM configuration is (:mod:`ftm.settings`: files in
order, then ``--Key=Value``). A key of one method set for another (``Lambda``
for PQ, say) is an error naming the key and where it was set.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Sequence, Tuple

from ftm.codecs.learned.model_file import METHODS
from ftm.codecs.sq_vectors import NORMALIZATIONS
from ftm.errors import ConfigError
from ftm.settings import Key, choice_of, describe_keys, finite_float, int_in, optional_float, plain_text, read_settings

__all__ = ["KEYS", "TrainConfig", "describe_train_keys"]

_NETWORKS = ("sq-e", "pro", "pro-e")
_GRADIENT = _NETWORKS + ("dmofc",)  # trained by gradient descent
_DMOFC = ("dmofc",)


def _positive_float(text: str) -> float:
    """number > 0"""
    v = finite_float(text)
    if v <= 0:
        raise ValueError(f"expected a number > 0, got {text!r}")
    return v


def _non_negative_float(text: str) -> float:
    """number >= 0"""
    v = finite_float(text)
    if v < 0:
        raise ValueError(f"expected a number >= 0, got {text!r}")
    return v


# (key, the methods it applies to; empty: all)
_KEYS: Tuple[Tuple[Key, Tuple[str, ...]], ...] = (
    (Key("Method", "method", choice_of(*METHODS), "what to train: sq-e, pro, pro-e, pq, opq (seed 001), dmofc (seed 000)"), ()),
    (Key("LabelledSet", "labelled_set", plain_text, "'default' (Fashion-MNIST through EfficientNet-Lite0), an embedding-set folder or a labelled .npz"), ()),
    (Key("ModelFile", "model_file", plain_text, "the model file to write (.safetensors)"), ()),
    (Key("Seed", "seed", int_in(0, 2**31 - 1), "seed of the initial weights, batch order, noise and k-means"), ()),
    (Key("Threads", "threads", int_in(0, 1024), "torch and faiss CPU threads (0: their choice)"), ()),
    (Key("Epochs", "epochs", int_in(1, 100000), "training epochs (unset: the method's, 40 as seed 001, DMOFC 30; seed 000: 300)"), _GRADIENT),
    (Key("BatchSize", "batch_size", int_in(1, 1 << 20), "vectors per batch (seed 001: 32)"), _NETWORKS),
    (Key("LearningRate", "learning_rate", _positive_float, "Adam's learning rate (unset: the method's, 1e-4 as seed 001, DMOFC 1e-3 cosine-annealed)"), _GRADIENT),
    (Key("Hidden", "hidden", int_in(0, 1 << 20), "width of the hidden layer (0: D)"), ("sq-e", "pro")),
    (Key("Lambda", "lam", _non_negative_float, "PRO: the rate weight of eq. 5"), ("pro",)),
    (Key("LatentDims", "latent_dims", int_in(0, 1 << 20), "PRO: latent dimensions (0: D)"), ("pro",)),
    (Key("RClip", "r_clip", _positive_float, "PRO: latent clipping threshold (seed 001: 20)"), ("pro",)),
    (Key("LowModel", "low_model", plain_text, "PRO-E: the low-rate PRO model whose levels are transmitted"), ("pro-e",)),
    (Key("HighModel", "high_model", plain_text, "PRO-E: the high-rate PRO model whose decoder decodes"), ("pro-e",)),
    (Key("EnhancerHidden", "enhancer_hidden", int_in(0, 1 << 20), "PRO-E: width of the enhancer (0: the low latent's)"), ("pro-e",)),
    (Key("QP", "qp", int_in(-48, 63), "SQ-E: the QP of the SQ codec it enhances"), ("sq-e",)),
    (Key("Normalization", "normalization", choice_of(*NORMALIZATIONS), "SQ-E: the SQ codec's normalization"), ("sq-e",)),
    (Key("Scale", "scale", optional_float, "SQ-E: the factor of Normalization : scale (empty: 1 / max |x| of the train split)"), ("sq-e",)),
    (Key("Reconstruction", "reconstruction", choice_of("floor", "midpoint"), "SQ-E: the SQ codec's reconstruction"), ("sq-e",)),
    (Key("Metric", "metric", choice_of("sim", "dis", "combined"), "DMOFC: what the codec is trained for (seed 000: SIM, DIS, COMBINED)"), _DMOFC),
    (Key("IC", "ic", int_in(1, 1 << 20), "DMOFC: information capacity in bytes, the latent's 8-bit elements (seed 000: 16-256)"), _DMOFC),
    (Key("Iterations", "iterations", int_in(1, 1 << 30), "DMOFC: batches per epoch (seed 000: 3125)"), _DMOFC),
    (Key("ClassesPerBatch", "classes_per_batch", int_in(2, 1 << 20), "DMOFC: classes drawn for a batch (seed 000: 8)"), _DMOFC),
    (Key("SamplesPerClass", "samples_per_class", int_in(1, 1 << 20), "DMOFC: samples of each class in a batch (seed 000: 16)"), _DMOFC),
    (Key("Margin", "margin", _non_negative_float, "DMOFC: DIS's margin alpha, in units of the features' MSE (seed 000: 0.3)"), _DMOFC),
    (Key("BitsPerDimension", "bits_per_dimension", _positive_float, "PQ/OPQ: code bits per vector dimension (seed 001: 1, 2, 4, 8)"), ("pq", "opq")),
    (Key("CodeBits", "code_bits", int_in(1, 16), "PQ/OPQ: bits per code (2^CodeBits centroids per sub-space)"), ("pq", "opq")),
    (Key("KmeansIterations", "kmeans_iterations", int_in(1, 100000), "PQ/OPQ: k-means iterations"), ("pq", "opq")),
    (Key("OpqIterations", "opq_iterations", int_in(1, 100000), "OPQ: rotation/codebook alternations"), ("opq",)),
)  # fmt: skip
KEYS: Tuple[Key, ...] = tuple(k for k, _ in _KEYS)
KEYS_BY_NAME: Dict[str, Key] = {k.name: k for k in KEYS}
_APPLIES = {k.field: methods for k, methods in _KEYS}


@dataclass(frozen=True)
class TrainConfig:
    """Resolved settings of one training run."""

    method: str = ""
    labelled_set: str = "default"
    model_file: str = ""
    seed: int = 0
    threads: int = 0
    epochs: Optional[int] = None  # None: the method's (TrainSettings, DmofcSettings)
    batch_size: int = 32
    learning_rate: Optional[float] = None
    hidden: int = 0
    lam: Optional[float] = None
    latent_dims: int = 0
    r_clip: float = 20.0
    low_model: str = ""
    high_model: str = ""
    enhancer_hidden: int = 0
    qp: Optional[int] = None
    normalization: str = "scale"
    scale: Optional[float] = None
    reconstruction: str = "floor"
    bits_per_dimension: Optional[float] = None
    code_bits: int = 8
    kmeans_iterations: int = 25
    opq_iterations: int = 50
    metric: str = "combined"
    ic: Optional[int] = None
    iterations: int = 200
    classes_per_batch: int = 8
    samples_per_class: int = 16
    margin: float = 0.3
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def training_settings(self) -> Dict[str, Any]:
        """The fields that shape the trained model: those applying to its method, without paths or threads.

        What a model cache is keyed on, so that a key of another method (PQ's
        OpqIterations for a PRO model) does not make it retrain.
        """
        skip = ("labelled_set", "model_file", "threads")
        return {name: getattr(self, name) for name, methods in sorted(_APPLIES.items())
                if name not in skip and (not methods or self.method in methods)}  # fmt: skip

    def at(self, name: str) -> str:
        origin = self.origins.get(name)
        return f"{origin}: " if origin else ""

    def __post_init__(self) -> None:
        if not self.method:
            raise ConfigError(f"say what to train: Method : one of {', '.join(METHODS)}")
        for name, methods in _APPLIES.items():
            if methods and self.method not in methods and name in self.origins:
                key = next(k.name for k in KEYS if k.field == name)
                raise ConfigError(f"{self.at(name)}{key} applies to Method : {' | '.join(methods)}, not to {self.method}")
        needs = {"pro": ("lam", "Lambda"), "sq-e": ("qp", "QP"), "pq": ("bits_per_dimension", "BitsPerDimension"),
                 "opq": ("bits_per_dimension", "BitsPerDimension"), "dmofc": ("ic", "IC")}  # fmt: skip
        if self.method in needs and getattr(self, needs[self.method][0]) is None:
            raise ConfigError(f"Method : {self.method} needs {needs[self.method][1]}")
        if self.method == "pro-e" and not (self.low_model and self.high_model):
            raise ConfigError("Method : pro-e needs LowModel and HighModel (two PRO model files)")
        if self.method == "sq-e" and (self.scale is not None) and self.normalization != "scale":
            raise ConfigError(f"{self.at('scale')}Scale applies to Normalization : scale only")

    @classmethod
    def load(cls, files: Sequence[str] = (), overrides: Sequence[str] = (), **fields: Any) -> "TrainConfig":
        origins: Dict[str, Any] = {}
        values = read_settings(files, overrides, KEYS_BY_NAME, origins)
        values.update(fields)
        origins.update({name: "the caller" for name in fields})
        return cls(**values, origins=origins)

    def replace(self, **fields: Any) -> "TrainConfig":
        return dataclasses.replace(self, **fields)


def describe_train_keys() -> str:
    """A table of every key of ftm-train, for --help-keys."""
    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig) if f.default is not dataclasses.MISSING}
    return describe_keys(KEYS, SimpleNamespace(**defaults))
