"""What ``ftm-joint`` runs: HM-style keys resolved into a :class:`JointConfig` (``--help-keys`` lists them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Dict, Mapping, Sequence, Tuple

from ftm.errors import ConfigError
from ftm.settings import Key, describe_keys, int_in, int_list, plain_text, read_settings

__all__ = ["JointConfig", "describe_joint_keys", "load_joint_config"]


def _weights(text: str) -> Tuple[float, ...]:
    """comma-separated numbers in [0, 1]"""
    values = tuple(float(w) for w in text.split(",") if w.strip())
    if not values or any(not 0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"expected comma-separated weights in [0, 1], got {text!r}")
    return values


KEYS: Tuple[Key, ...] = (
    Key("ImageFolder", "image_folder", plain_text, "images in class sub-folders (empty: Fashion-MNIST's test images, Debian's dataset-fashion-mnist)"),
    Key("Images", "images", int_in(8, 10**7), "images taken, balanced over the classes"),
    Key("OutputDir", "output_dir", plain_text, "reports and plots (ftm-joint -o wins)"),
    Key("TextureQPs", "texture_qps", int_list, "HEVC intra QPs of the texture (seed 003: 22, 27, 32, 37, 42, 47, 51)"),
    Key("FeatureQPs", "feature_qps", int_list, "QPs of the feature's scalar quantizer (seed 003 eq. 1)"),
    Key("Weights", "weights", _weights, "w1 of TFQI (eq. 3), one allocation and one rate-TFQI curve each"),
    Key("Encoder", "encoder", plain_text, "the texture's video encoder back end (x265-ffmpeg, x265, hm)"),
    Key("Pairs", "pairs", int_in(2, 10**7), "verification pairs (LFW: 6000)"),
    Key("Folds", "folds", int_in(1, 1000), "verification folds (LFW: 10)"),
    Key("PairSeed", "pair_seed", int_in(0, 2**31 - 1), "seed of the pairs"),
)  # fmt: skip
KEYS_BY_NAME: Dict[str, Key] = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class JointConfig:
    image_folder: str = ""
    images: int = 500
    output_dir: str = "joint-out"
    texture_qps: Tuple[int, ...] = (22, 27, 32, 37, 42, 47, 51)
    feature_qps: Tuple[int, ...] = (34, 40, 46, 52, 58)
    weights: Tuple[float, ...] = (0.2, 0.5, 0.8)
    encoder: str = "x265-ffmpeg"
    pairs: int = 6000
    folds: int = 10
    pair_seed: int = 0
    origins: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.pairs % (2 * self.folds):
            raise ConfigError(f"Pairs ({self.pairs}) must split into {self.folds} folds of as many same as different pairs")
        if len(self.texture_qps) < 3 or len(self.feature_qps) < 5:
            raise ConfigError("the fits need at least 3 TextureQPs (one-term model) and 5 FeatureQPs (two-term model)")


def load_joint_config(files: Sequence[str] = (), overrides: Sequence[str] = (), **fields: Any) -> JointConfig:
    origins: Dict[str, Any] = {}
    values = read_settings(files, overrides, KEYS_BY_NAME, origins)
    values.update(fields)
    return JointConfig(**values, origins=origins)


def describe_joint_keys() -> str:
    defaults = {f.name: f.default for f in dataclasses.fields(JointConfig) if f.default is not dataclasses.MISSING}
    return describe_keys(KEYS, SimpleNamespace(**defaults))
