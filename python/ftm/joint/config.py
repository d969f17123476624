"""What ``ftm-joint`` runs: HM-style keys resolved into a :class:`JointConfig` (``--help-keys`` lists them)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Dict, Mapping, Sequence, Tuple

from ftm.errors import ConfigError
from ftm.joint.recognition import TASKS
from ftm.settings import Key, choice_of, describe_keys, int_in, int_list, plain_text, read_settings

__all__ = ["JointConfig", "describe_joint_keys", "load_joint_config"]


def _weights(text: str) -> Tuple[float, ...]:
    """comma-separated numbers in [0, 1]"""
    values = tuple(float(w) for w in text.split(",") if w.strip())
    if not values or any(not 0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"expected comma-separated weights in [0, 1], got {text!r}")
    return values


# Feature QPs whose rates on the default set (13 to 2,300 bits an image) spread evenly in log rate over the
# texture's (230 to 1,930 bits at QP 51 to 22): every budget has feature points below it on both sides of the optimum
FEATURE_QPS: Tuple[int, ...] = (28, 34, 40, 43, 46, 49, 52, 54, 56, 58)

KEYS: Tuple[Key, ...] = (
    Key("ImageFolder", "image_folder", plain_text, "images in class sub-folders (empty: Fashion-MNIST's test images, Debian's dataset-fashion-mnist)"),
    Key("Images", "images", int_in(8, 10**7), "images taken, balanced over the classes"),
    Key("OutputDir", "output_dir", plain_text, "reports and plots (ftm-joint -o wins)"),
    Key("TextureQPs", "texture_qps", int_list, "HEVC intra QPs of the texture (seed 003: 22, 27, 32, 37, 42, 47, 51)"),
    Key("FeatureQPs", "feature_qps", int_list, "QPs of the feature's scalar quantizer (seed 003 eq. 1)"),
    Key("Weights", "weights", _weights, "w1 of TFQI (eq. 3), one allocation and one rate-TFQI curve each"),
    Key("Encoder", "encoder", plain_text, "the texture's HEVC encoder back end: x265-ffmpeg or hm (grey and colour), x265 (grey)"),
    Key("HmDir", "hm_dir", plain_text, "folder of HM's TAppEncoder/TAppDecoder for Encoder : hm (empty: $FTM_HM_DIR)"),
    Key("Network", "network", plain_text, "the network whose descriptor is the feature: a name of ftm-extract --list-models, or module:function"),
    Key("NetworkWeights", "network_weights", plain_text, "its weights file (empty: where the network finds its own)"),
    Key("Task", "task", choice_of(*TASKS), "D_f's recognition task: verification on pairs, or classification by a linear "
        "classifier fitted on half of each class's lossless features"),
    Key("Pairs", "pairs", int_in(2, 10**7), "verification pairs (LFW: 6000)"),
    Key("Folds", "folds", int_in(1, 1000), "verification folds (LFW: 10)"),
    Key("PairSeed", "pair_seed", int_in(0, 2**31 - 1), "seed of the pairs (classification: of the halves)"),
)  # fmt: skip
KEYS_BY_NAME: Dict[str, Key] = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class JointConfig:
    image_folder: str = ""
    images: int = 500
    output_dir: str = "joint-out"
    texture_qps: Tuple[int, ...] = (22, 27, 32, 37, 42, 47, 51)
    feature_qps: Tuple[int, ...] = FEATURE_QPS
    weights: Tuple[float, ...] = (0.2, 0.5, 0.8)
    encoder: str = "x265-ffmpeg"
    hm_dir: str = ""
    network: str = "efficientnet-lite0"
    network_weights: str = ""
    task: str = "verification"
    pairs: int = 6000
    folds: int = 10
    pair_seed: int = 0
    origins: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.pairs % (2 * self.folds):
            raise ConfigError(f"Pairs ({self.pairs}) must split into {self.folds} folds of as many same as different pairs")
        if len(self.texture_qps) < 3 or len(self.feature_qps) < 5:
            raise ConfigError("the fits need at least 3 TextureQPs (one-term model) and 5 FeatureQPs (two-term model)")
        from ftm.codecs.video import ENCODERS, HEVC

        if ENCODERS.get(self.encoder) is None or ENCODERS[self.encoder].codec != HEVC:
            hevc = ", ".join(name for name, cls in ENCODERS.items() if cls.codec == HEVC)
            raise ConfigError(f"{self._at('encoder')}Encoder : {self.encoder} is not an HEVC encoder back end; choose one of {hevc}")
        for name, qps, lo, hi, what in (("texture_qps", self.texture_qps, 0, 51, "HEVC's range for 8-bit images"),
                                        ("feature_qps", self.feature_qps, -48, 63, "the vector quantizer's range")):  # fmt: skip
            bad = [q for q in qps if not lo <= q <= hi]
            if bad or len(set(qps)) != len(qps):
                key = "TextureQPs" if name == "texture_qps" else "FeatureQPs"
                problem = f"QP {bad[0]} is outside [{lo}, {hi}], {what}" if bad else "a QP is listed twice"
                raise ConfigError(f"{self._at(name)}{key}: {problem}")

    def _at(self, name: str) -> str:
        origin = self.origins.get(name)
        return f"{origin}: " if isinstance(origin, str) and origin else ""


def load_joint_config(files: Sequence[str] = (), overrides: Sequence[str] = (), **fields: Any) -> JointConfig:
    origins: Dict[str, Any] = {}
    values = read_settings(files, overrides, KEYS_BY_NAME, origins)
    values.update(fields)
    return JointConfig(**values, origins=origins)


def describe_joint_keys() -> str:
    defaults = {f.name: f.default for f in dataclasses.fields(JointConfig) if f.default is not dataclasses.MISSING}
    return describe_keys(KEYS, SimpleNamespace(**defaults))
