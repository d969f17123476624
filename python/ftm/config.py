"""HM-style configuration: ``Key : Value  # comment`` files and ``--Key=Value``.

Several files may be given; a later value wins, and ``--Key=Value`` on the
command line wins over every file. An unknown key, or a value that does not
parse, is an error naming the file and line (or the command line).

    cfg = Config.load(["cfg/ctc_qp22.cfg"], overrides=["--QP=32"])
    cfg.qp  # 32

Every key, its default and meaning is in :data:`KEYS` (``ftm-encode --help-keys``
prints them).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ftm.quantize import MAX_BITS, MAX_QP, MIN_BITS, MIN_QP

__all__ = ["Config", "ConfigError", "KEYS", "Key"]


class ConfigError(ValueError):
    """A configuration key or value that is wrong, with where it came from."""


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}; got {text!r}")
        return text

    parse.__doc__ = " | ".join(allowed)
    return parse


def _int_in(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"expected an integer, got {text!r}")
        v = int(text)
        if not lo <= v <= hi:
            raise ValueError(f"expected an integer in [{lo}, {hi}], got {v}")
        return v

    parse.__doc__ = f"integer {lo}..{hi}"
    return parse


def _bool(text: str) -> bool:
    """0 | 1"""
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected 0 or 1, got {text!r}")


def _float(text: str) -> float:
    """number"""
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {text!r}")
    return v


def _optional_float(text: str) -> Optional[float]:
    """number, or empty"""
    return None if text == "" else _float(text)


def _text(text: str) -> str:
    """text"""
    return text


def _grid(text: str) -> Optional[Tuple[int, int]]:
    """auto | RxC"""
    if text in ("", "auto"):
        return None
    m = re.fullmatch(r"(\d+)\s*[xX]\s*(\d+)", text)
    if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
        raise ValueError(f"expected 'auto' or ROWSxCOLS such as 4x8, got {text!r}")
    return int(m.group(1)), int(m.group(2))


def _permutation(text: str) -> Optional[Tuple[int, ...]]:
    """comma-separated channel indices, or empty for the original order"""
    if text in ("", "keep"):
        return None
    try:
        perm = tuple(int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"expected comma-separated channel indices, got {text!r}") from None
    if sorted(perm) != list(range(len(perm))):
        raise ValueError(f"expected each channel index 0..{len(perm) - 1} once, got {text!r}")
    return perm


@dataclass(frozen=True)
class Key:
    """One configuration key: its name, the Config field it sets, its parser."""

    name: str
    field: str
    parse: Callable[[str], Any]
    help: str


KEYS: Tuple[Key, ...] = (
    # Files
    Key("InputFile", "input_file", _text, "features to code: .npy, .npz or .safetensors (empty: the bundled default input)"),
    Key("BitstreamFile", "bitstream_file", _text, "the .ftm stream to write"),
    Key("ReconFile", "recon_file", _text, "where to write the decoded features (empty: not written)"),
    Key("SummaryFile", "summary_file", _text, "JSON summary (empty: the bitstream path with .json)"),
    # What is coded
    Key("FeatureKind", "feature_kind", _choice("map", "vector"), "N x C x H x W feature maps or N x D feature vectors"),
    # Pre-quantization (feature maps)
    Key("Quantizer", "quantizer", _choice("log", "minmax"), "pre-quantizer: logarithmic (seed 002 eq. 5) or uniform min-max"),
    Key("BitDepth", "bit_depth", _int_in(MIN_BITS, MAX_BITS), "bits per quantized value"),
    Key("LogNonNegative", "log_nonnegative", _bool, "log quantizer with m fixed at 0 (log2(x + 1)); negative input is an error"),
    Key("MinMaxRange", "minmax_range", _choice("tensor", "channel", "fixed"), "min-max range: the tensor's, per channel, or MinMaxLow..MinMaxHigh"),
    Key("MinMaxLow", "minmax_low", _optional_float, "fixed range low end (MinMaxRange : fixed)"),
    Key("MinMaxHigh", "minmax_high", _optional_float, "fixed range high end (MinMaxRange : fixed)"),
    # Packing
    Key("Packing", "packing", _choice("channel", "tiled"), "one frame per channel, or each sample's channels tiled in one frame"),
    Key("TileGrid", "tile_grid", _grid, "tile grid ROWSxCOLS for Packing : tiled, or auto (near-square)"),
    Key("ChannelOrder", "channel_order", _permutation, "frame/tile k holds channel ChannelOrder[k] (empty: original order)"),
    # Video codec
    Key("Encoder", "encoder", _choice("x265-ffmpeg", "x265", "hm"), "HEVC encoder back end"),
    Key("Decoder", "decoder", _choice("ffmpeg", "hm"), "HEVC decoder back end"),
    Key("QP", "qp", _int_in(MIN_QP, MAX_QP), "quantization parameter (HEVC: -6*(bit depth - 8)..51; vectors: -48..63)"),
    Key("Preset", "preset", _text, "x265 preset (empty: the back end's default)"),
    Key("IntraPeriod", "intra_period", _int_in(1, 1 << 30), "frames per intra period; 1 is all-intra"),
    Key("HmDir", "hm_dir", _text, "folder holding HM's TAppEncoder/TAppDecoder (empty: $FTM_HM_DIR)"),
    Key("HmPictureHash", "hm_picture_hash", _bool, "HM writes MD5 picture-hash SEI (25 bytes a picture, counted in the rate)"),
    # Feature vectors
    Key("Normalization", "normalization", _choice("none", "l2", "scale"), "vectors: none, divide by the L2 norm (norms sent), or multiply by Scale"),
    Key("Scale", "scale", _optional_float, "vectors: the factor for Normalization : scale"),
    Key("Reconstruction", "reconstruction", _choice("floor", "midpoint"), "vectors: l*Qstep or (l+0.5)*Qstep"),
)

_BY_NAME: Dict[str, Key] = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class Config:
    """Resolved settings of one FTM run. Build it with :meth:`load` or :meth:`from_values`."""

    input_file: str = ""
    bitstream_file: str = "features.ftm"
    recon_file: str = ""
    summary_file: str = ""
    feature_kind: str = "map"
    quantizer: str = "log"
    bit_depth: int = 8
    log_nonnegative: bool = False
    minmax_range: str = "tensor"
    minmax_low: Optional[float] = None
    minmax_high: Optional[float] = None
    packing: str = "channel"
    tile_grid: Optional[Tuple[int, int]] = None
    channel_order: Optional[Tuple[int, ...]] = None
    encoder: str = "x265-ffmpeg"
    decoder: str = "ffmpeg"
    qp: int = 22
    preset: str = ""
    intra_period: int = 1
    hm_dir: str = ""
    hm_picture_hash: bool = True
    normalization: str = "none"
    scale: Optional[float] = None
    reconstruction: str = "floor"
    sources: Tuple[str, ...] = ()  # the files and overrides it was built from, for provenance

    def __post_init__(self) -> None:
        self._check_consistency()

    def _check_consistency(self) -> None:
        if self.minmax_range == "fixed" and self.quantizer == "minmax":
            if self.minmax_low is None or self.minmax_high is None:
                raise ConfigError("MinMaxRange : fixed needs MinMaxLow and MinMaxHigh")
            if not self.minmax_low < self.minmax_high:
                raise ConfigError(f"MinMaxLow ({self.minmax_low}) must be below MinMaxHigh ({self.minmax_high})")
        if self.tile_grid is not None and self.packing != "tiled":
            raise ConfigError("TileGrid applies to Packing : tiled only")
        if self.normalization == "scale" and (self.scale is None or self.scale <= 0):
            raise ConfigError("Normalization : scale needs a positive Scale")
        lowest_hevc_qp = -6 * (self.bit_depth - 8)
        if self.feature_kind == "map" and not lowest_hevc_qp <= self.qp <= 51:
            raise ConfigError(
                f"QP {self.qp} is outside HEVC's range [{lowest_hevc_qp}, 51] at BitDepth {self.bit_depth}"
            )

    @classmethod
    def load(cls, files: Sequence[str] = (), overrides: Sequence[str] = (), **fields: Any) -> "Config":
        """Read config files in order, then apply ``--Key=Value`` overrides, then ``fields``."""
        values: Dict[str, Any] = {}
        for path in files:
            values.update(_read_file(path))
        for i, arg in enumerate(overrides):
            values.update(_parse_override(arg, f"command line argument {i + 1}"))
        values.update(fields)
        sources = tuple(files) + tuple(overrides)
        try:
            return cls(**values, sources=sources)
        except ConfigError:
            raise
        except TypeError as e:  # a bad field name passed programmatically
            raise ConfigError(str(e)) from None

    @classmethod
    def from_values(cls, values: Dict[str, str], where: str = "values") -> "Config":
        """Build from ``{"QP": "22", ...}``, as if read from a file."""
        parsed: Dict[str, Any] = {}
        for name, text in values.items():
            parsed.update(_parse_pair(name, str(text), where))
        return cls(**parsed)

    def replace(self, **fields: Any) -> "Config":
        return dataclasses.replace(self, **fields)

    def as_keys(self) -> Dict[str, Any]:
        """The settings under their key names, for summaries and provenance."""
        return {k.name: getattr(self, k.field) for k in KEYS}


def _parse_pair(name: str, text: str, where: str) -> Dict[str, Any]:
    key = _BY_NAME.get(name)
    if key is None:
        hint = difflib.get_close_matches(name, _BY_NAME, n=1)
        raise ConfigError(f"{where}: unknown key {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    try:
        return {key.field: key.parse(text)}
    except ValueError as e:
        raise ConfigError(f"{where}: {name}: {e}") from None


_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*:\s*(.*?)\s*$")


def _read_file(path: str) -> Dict[str, Any]:
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path!r} does not exist")
    values: Dict[str, Any] = {}
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            m = _LINE.match(line)
            if not m:
                raise ConfigError(f"{path}:{number}: expected 'Key : Value', got {raw.strip()!r}")
            values.update(_parse_pair(m.group(1), m.group(2), f"{path}:{number}"))
    return values


def _parse_override(arg: str, where: str) -> Dict[str, Any]:
    m = re.fullmatch(r"--([A-Za-z][A-Za-z0-9]*)=(.*)", arg)
    if not m:
        raise ConfigError(f"{where}: expected --Key=Value, got {arg!r}")
    return _parse_pair(m.group(1), m.group(2).strip(), where)


def describe_keys() -> str:
    """A table of every key, for --help-keys."""
    rows: List[Tuple[str, str, str, str]] = []
    defaults = Config()
    for k in KEYS:
        default = getattr(defaults, k.field)
        rows.append((k.name, (k.parse.__doc__ or "").strip(), "" if default in (None, "") else str(default), k.help))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{'Key'.ljust(width[0])}  {'Values'.ljust(width[1])}  {'Default'.ljust(width[2])}  Meaning"]
    for r in rows:
        lines.append(f"{r[0].ljust(width[0])}  {r[1].ljust(width[1])}  {r[2].ljust(width[2])}  {r[3]}")
    return "\n".join(lines)

