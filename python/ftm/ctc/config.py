"""The common-test-condition file: which feature sets, layers, QPs and codec configurations to run.

The same HM-style ``Key : Value  # comment`` syntax as FTM's codec configs,
read by the same parser (:func:`ftm.settings.read_settings`) with its own key
registry :data:`CTC_KEYS`: several ``-c`` files, the last value winning,
``--Key=Value`` overrides, unknown keys and bad values reported as
``file:line``.

    FeatureSets    : bundled
    Layers         : all
    QPs            : 12, 22, 32, 42
    CodecConfig    : ctc_qp22.cfg                    # relative to this file
    Configuration  : x265   Encoder=x265-ffmpeg
    Configuration  : hm     Encoder=hm               # one line per configuration

``Configuration`` may appear on several lines: each defines one configuration
of the matrix by a name and codec ``Key=Value`` settings applied on top of the
``CodecConfig`` files (a later line with the same name replaces the earlier
one). Paths named in a file (``CodecConfig``, feature-set folders) are
relative to that file's folder; on the command line, to the working folder.
``OutputDir`` and ``FeatureSetDir`` are relative to the working folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ftm.errors import ConfigError, ModelError
from ftm.models import MODELS, check_model_name
from ftm.models.factory import is_factory_reference, parse_reference
from ftm.settings import Key, boolean, choice_of, describe_keys, parse_setting, plain_text, read_settings
from ftm.stream.config import KEYS_BY_NAME, Config

__all__ = ["BUNDLED", "CTC_KEYS", "CodecVariant", "CtcConfig", "describe_ctc_keys", "load_ctc_config"]

BUNDLED = "bundled"  # the feature set ftm.extract creates from the photos bundled with scikit-image & co.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]*")


@dataclass(frozen=True)
class CodecVariant:
    """One configuration of the matrix: a name and codec settings ``((Key, text), ...)`` over CodecConfig."""

    name: str
    settings: Tuple[Tuple[str, str], ...] = ()
    where: str = ""  # the line that defined it, for error messages

    def overrides(self) -> List[str]:
        return [f"--{k}={v}" for k, v in self.settings]


def _words(text: str) -> Tuple[str, ...]:
    """comma-separated list"""
    items = tuple(w.strip() for w in text.split(",") if w.strip())
    if not items:
        raise ValueError("expected a comma-separated list, got nothing")
    return items


def _qps(text: str) -> Tuple[int, ...]:
    """comma-separated QPs"""
    qps = []
    for word in _words(text):
        if not re.fullmatch(r"[+-]?\d+", word):
            raise ValueError(f"expected integers, got {word!r}")
        qp = int(word)
        qps.append(qp)
    if len(set(qps)) != len(qps):
        raise ValueError(f"a QP is listed twice in {text!r}")
    return tuple(qps)


def _layers(text: str) -> Optional[Tuple[str, ...]]:
    """all | comma-separated split points"""
    words = _words(text)
    if words == ("all",):
        return None
    if len(set(words)) != len(words):
        raise ValueError(f"a layer is listed twice in {text!r}")
    return words


def _files(text: str) -> Tuple[str, ...]:
    """comma-separated files, or empty"""
    return tuple(w.strip() for w in text.split(",") if w.strip())


def _count(text: str) -> int:
    """integer >= 0"""
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"expected an integer >= 0, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    """integer >= 1"""
    if not re.fullmatch(r"\d+", text) or int(text) < 1:
        raise ValueError(f"expected an integer >= 1, got {text!r}")
    return int(text)


def _variant(text: str) -> CodecVariant:
    """NAME [Key=Value ...]"""
    words = text.split()
    if not words:
        raise ValueError("expected a name and codec settings such as 'x265 Encoder=x265-ffmpeg'")
    name = words[0]
    if not _NAME.fullmatch(name) or "=" in name:
        raise ValueError(f"expected a configuration name (letters, digits, '_.+-') first, got {name!r}")
    settings = []
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if not sep:
            raise ValueError(f"configuration {name}: expected Key=Value, got {word!r}")
        if key in ("QP", "InputFile", "BitstreamFile", "ReconFile", "SummaryFile"):
            raise ValueError(f"configuration {name}: {key} is set by the runner, not per configuration")
        parse_setting(key, value, f"configuration {name}", KEYS_BY_NAME)  # a bad codec key or value fails here, with this line
        settings.append((key, value))
    return CodecVariant(name, tuple(settings))


def _model(text: str) -> str:
    try:
        return check_model_name(text)
    except ModelError as exc:
        raise ValueError(str(exc)) from None


_model.__doc__ = " | ".join(MODELS) + " | package.module:function | path/to/file.py:function"

CTC_KEYS: Tuple[Key, ...] = (
    Key("OutputDir", "output_dir", plain_text, "results, reports, plots and provenance (ftm-ctc -o wins)"),
    Key("FeatureSets", "feature_sets", _words, "comma-separated: 'bundled' (created once with ftm.extract) or feature-set folders"),
    Key("FeatureSetDir", "feature_set_dir", plain_text, "where the bundled set is created and reused (empty: OutputDir/featuresets)"),
    Key("Model", "model", _model, "network of the bundled feature set: FTM's, or your own network's factory (docs/networks.md)"),
    Key("Weights", "weights", plain_text, "weights file of Model for the bundled feature set (empty: where the model finds its own)"),
    Key("Images", "images", _count, "bundled feature set only: the first N of its inputs (126; a detector's 30) (0: all)"),
    Key("Layers", "layers", _layers, "split points to code, comma-separated, or 'all' (every layer of each feature set)"),
    Key("QPs", "qps", _qps, "QPs of the matrix, comma-separated"),
    Key("CodecConfig", "codec_config", _files, "codec config files every configuration starts from (comma-separated; empty: FTM's defaults)"),
    Key("Configuration", "configurations", _variant, "NAME Key=Value ...: one configuration of the matrix (repeat the key for more)", repeat=True),
    Key("Anchor", "anchor", plain_text,
        "configuration every other one is compared with in bd_rates.md, with encode times (empty: every pair)"),
    Key("BatchSize", "batch_size", _positive, "images per batch when running the rest of the network"),
    Key("CodingUnit", "coding_unit", choice_of("image", "set"),
        "image: each image's feature is one coded sequence with its own quantizer (seed 002 3.1); "
        "set: the whole feature set is one N x C x H x W tensor"),
    Key("DetMatching", "detection_matching", choice_of("authors", "highest-iou"),
        "F_detection's matching: authors (pristine in descending confidence, seed 002's code) or highest-iou (FTM 0.2)"),
    Key("PixelInclusive", "pixel_inclusive", boolean,
        "F_detection's IoU with VOC's +1-pixel boxes (1) or continuous boxes (0; right for normalised boxes)"),
)
_CTC_BY_NAME: Dict[str, Key] = {k.name: k for k in CTC_KEYS}


@dataclass(frozen=True)
class CtcConfig:
    """A resolved common test condition. Build it with :func:`load_ctc_config` or directly."""

    output_dir: str = "ctc-out"
    feature_sets: Tuple[str, ...] = (BUNDLED,)
    feature_set_dir: str = ""
    model: str = "efficientnet-lite0"
    weights: str = ""
    images: int = 0
    layers: Optional[Tuple[str, ...]] = None
    qps: Tuple[int, ...] = (12, 22, 32, 42)
    codec_config: Tuple[str, ...] = ()
    configurations: Tuple[CodecVariant, ...] = ()
    anchor: str = ""
    batch_size: int = 32
    coding_unit: str = "image"
    detection_matching: str = "authors"
    pixel_inclusive: bool = False
    sources: Tuple[str, ...] = ()
    origins: Dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def where(self, key_field: str) -> str:
        """The file:line (or command-line argument) that set a field, else 'the defaults'."""
        origin = self.origins.get(key_field)
        return origin if isinstance(origin, str) else "the defaults"

    @property
    def feature_set_root(self) -> Path:
        return Path(self.feature_set_dir) if self.feature_set_dir else Path(self.output_dir) / "featuresets"

    def variants(self) -> Tuple[CodecVariant, ...]:
        """The configurations, or one named after the CodecConfig's encoder when none is given."""
        if self.configurations:
            return self.configurations
        return (CodecVariant(self.codec(CodecVariant("default")).encoder),)

    def codec(self, variant: CodecVariant, qp: Optional[int] = None) -> Config:
        """The codec Config of ``variant`` (at ``qp``), errors naming the line that defined it."""
        fields = {} if qp is None else {"qp": qp}
        try:
            return Config.load(list(self.codec_config), variant.overrides(), overrides_from="", **fields)
        except ConfigError as e:
            where = variant.where or self.where("qps" if qp is not None else "codec_config")
            at = "" if qp is None else f" at QP {qp} (QPs: {self.where('qps')})"
            raise ConfigError(f"{where}: configuration {variant.name}{at}: {e}") from None

    def check(self) -> None:
        """Consistency of the whole matrix (each configuration at each QP is a valid codec Config)."""
        names = [v.name for v in self.variants()]
        if len(set(names)) != len(names):
            raise ConfigError(f"configuration names must be distinct, got {names}")
        if self.anchor and self.anchor not in names:
            raise ConfigError(f"{self.where('anchor')}: Anchor {self.anchor!r} is not a configuration; "
                              f"they are {', '.join(names)}")  # fmt: skip
        for variant in self.variants():
            for qp in self.qps:
                self.codec(variant, qp)
        labels = [feature_set_label(s) for s in self.feature_sets]
        if len(set(labels)) != len(labels):
            raise ConfigError(f"{self.where('feature_sets')}: FeatureSets: two feature sets share the name in {labels}")
        if BUNDLED not in self.feature_sets:
            if self.images:
                raise ConfigError(f"{self.where('images')}: Images applies to the bundled feature set only "
                                  "(FeatureSets : bundled); a folder's set holds what ftm-extract put in it")  # fmt: skip
            return
        # the bundled set's layers are known before it exists: a wrong one fails now, not after extraction
        if self.model not in MODELS:
            return  # a factory's split points are known once it runs; a wrong layer fails before any job
        split_points = MODELS[self.model].split_points
        unknown = [name for name in self.layers or () if name not in split_points]
        if unknown:
            raise ConfigError(
                f"{self.where('layers')}: Layers: {self.model} (the bundled feature set) has no layer "
                f"{', '.join(unknown)}; it has {', '.join(split_points)}"
            )

    def as_keys(self) -> Dict[str, Any]:
        """Settings under their key names, for provenance."""
        out: Dict[str, Any] = {}
        for k in CTC_KEYS:
            v = getattr(self, k.field)
            if k.field == "layers" and v is None:
                v = "all"
            elif k.field == "configurations":
                v = [" ".join([c.name] + [f"{a}={b}" for a, b in c.settings]) for c in self.variants()]
            elif isinstance(v, tuple):
                v = list(v)
            out[k.name] = v
        return out


def feature_set_label(source: str) -> str:
    """The name a feature set goes by in job ids and reports."""
    return BUNDLED if source == BUNDLED else Path(source).name or str(source)


def _resolve_path(path: str, where: str) -> str:
    """A path from a file is relative to the file's folder; from the command line, to the working folder."""
    if os.path.isabs(path) or where.startswith("command line"):
        return path
    file = where.rsplit(":", 1)[0]
    return os.path.normpath(os.path.join(os.path.dirname(file), path))


def load_ctc_config(files: Sequence[str] = (), overrides: Sequence[str] = (), **fields: Any) -> CtcConfig:
    """Read CTC files in order, then ``--Key=Value`` overrides, then ``fields``; check the matrix."""
    origins: Dict[str, Any] = {}
    values = read_settings(files, overrides, _CTC_BY_NAME, origins=origins)
    if "codec_config" in values:
        values["codec_config"] = tuple(_resolve_path(p, origins["codec_config"]) for p in values["codec_config"])
    if "feature_sets" in values:
        values["feature_sets"] = tuple(
            s if s == BUNDLED else _resolve_path(s, origins["feature_sets"]) for s in values["feature_sets"]
        )
    if "weights" in values and values["weights"]:
        values["weights"] = _resolve_path(values["weights"], origins["weights"])
    if "model" in values and is_factory_reference(values["model"]):
        # a factory file named in a config file is relative to that file, as every path there is
        target, function, is_file = parse_reference(values["model"])
        if is_file:
            values["model"] = f"{os.path.abspath(_resolve_path(target, origins['model']))}:{function}"
    if "configurations" in values:
        by_name: Dict[str, CodecVariant] = {}
        for variant, where in zip(values["configurations"], origins["configurations"]):
            by_name[variant.name] = CodecVariant(variant.name, variant.settings, where)  # a later line wins
        values["configurations"] = tuple(by_name.values())
    values.update(fields)
    try:
        cfg = CtcConfig(**values, sources=tuple(files) + tuple(overrides), origins=origins)
    except TypeError as e:  # a bad field name passed programmatically
        raise ConfigError(str(e)) from None
    cfg.check()
    return cfg


def describe_ctc_keys() -> str:
    """A table of every CTC key, for ftm-ctc --help-keys."""
    return describe_keys(CTC_KEYS, CtcConfig())
