"""HM-style configuration: ``Key : Value  # comment`` files and ``--Key=Value``.

Several files may be given; a later value wins, and ``--Key=Value`` on the
command line wins over every file. An unknown key, or a value that does not
parse, is an error naming the file and line (or the command line).

    cfg = Config.load(["cfg/ctc_qp22.cfg"], overrides=["--QP=32"])
    cfg.qp  # 32

Every key, its default and meaning is in :data:`KEYS` (``ftm-encode --help-keys``
prints them).

The reading machinery (:func:`read_settings`, :func:`parse_setting`) takes
any registry of :class:`Key`\ s, so that other HM-style files (the common
test conditions of :mod:`ftm.ctc`) share this parser and its error messages.
A key marked ``repeat`` may appear on several lines: its value is the tuple
of every line's value in the order read, files first, then overrides.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ftm.quantize import MAX_BITS, MAX_QP, MIN_BITS, MIN_QP

__all__ = ["Config", "ConfigError", "KEYS", "Key", "choice_of", "plain_text", "describe_keys", "parse_setting", "read_settings"]


class ConfigError(ValueError):
    """A configuration key or value that is wrong, with where it came from."""


def choice_of(*allowed: str) -> Callable[[str], str]:
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


def plain_text(text: str) -> str:
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
    repeat: bool = False  # several lines accumulate instead of the last one winning


KEYS: Tuple[Key, ...] = (
    # Files
    Key("InputFile", "input_file", plain_text, "features to code: .npy, .npz or .safetensors (empty: the bundled default input)"),
    Key("BitstreamFile", "bitstream_file", plain_text, "the .ftm stream to write"),
    Key("ReconFile", "recon_file", plain_text, "where to write the decoded features (empty: not written)"),
    Key("SummaryFile", "summary_file", plain_text, "JSON summary (empty: the bitstream path with .json)"),
    # What is coded
    Key("FeatureKind", "feature_kind", choice_of("map", "vector"), "N x C x H x W feature maps or N x D feature vectors"),
    # Pre-quantization (feature maps)
    Key("Quantizer", "quantizer", choice_of("log", "minmax"), "pre-quantizer: logarithmic (seed 002 eq. 5) or uniform min-max"),
    Key("BitDepth", "bit_depth", _int_in(MIN_BITS, MAX_BITS), "bits per quantized value"),
    Key("LogNonNegative", "log_nonnegative", _bool, "log quantizer with m fixed at 0 (log2(x + 1)); negative input is an error"),
    Key("MinMaxRange", "minmax_range", choice_of("tensor", "channel", "fixed"), "min-max range: the tensor's, per channel, or MinMaxLow..MinMaxHigh"),
    Key("MinMaxLow", "minmax_low", _optional_float, "fixed range low end (MinMaxRange : fixed)"),
    Key("MinMaxHigh", "minmax_high", _optional_float, "fixed range high end (MinMaxRange : fixed)"),
    # Packing
    Key("Packing", "packing", choice_of("channel", "tiled"), "one frame per channel, or each sample's channels tiled in one frame"),
    Key("TileGrid", "tile_grid", _grid, "tile grid ROWSxCOLS for Packing : tiled, or auto (near-square)"),
    Key("ChannelOrder", "channel_order", _permutation, "frame/tile k holds channel ChannelOrder[k] (empty: original order)"),
    # Video codec
    Key("Encoder", "encoder", choice_of("x265-ffmpeg", "x265", "hm"), "HEVC encoder back end"),
    Key("Decoder", "decoder", choice_of("ffmpeg", "hm"), "HEVC decoder back end"),
    Key("QP", "qp", _int_in(MIN_QP, MAX_QP), "quantization parameter (HEVC: -6*(bit depth - 8)..51; vectors: -48..63)"),
    Key("Preset", "preset", plain_text, "x265 preset (empty: the back end's default)"),
    Key("IntraPeriod", "intra_period", _int_in(1, 1 << 30), "frames per intra period; 1 is all-intra"),
    Key("HmDir", "hm_dir", plain_text, "folder holding HM's TAppEncoder/TAppDecoder (empty: $FTM_HM_DIR)"),
    Key("HmPictureHash", "hm_picture_hash", _bool, "HM writes MD5 picture-hash SEI (25 bytes a picture, counted in the rate)"),
    Key("Threads", "threads", _int_in(0, 1024), "x265 worker threads (0: x265's choice); the bitstream does not depend on it"),
    # Feature vectors
    Key("Normalization", "normalization", choice_of("none", "l2", "scale"), "vectors: none, divide by the L2 norm (norms sent), or multiply by Scale"),
    Key("Scale", "scale", _optional_float, "vectors: the factor for Normalization : scale"),
    Key("Reconstruction", "reconstruction", choice_of("floor", "midpoint"), "vectors: l*Qstep or (l+0.5)*Qstep"),
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
    threads: int = 0
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
        values = read_settings(files, overrides, _BY_NAME)
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
            parsed.update(parse_setting(name, str(text), where))
        return cls(**parsed)

    def replace(self, **fields: Any) -> "Config":
        return dataclasses.replace(self, **fields)

    def as_keys(self) -> Dict[str, Any]:
        """The settings under their key names, for summaries and provenance."""
        return {k.name: getattr(self, k.field) for k in KEYS}


def parse_setting(name: str, text: str, where: str, keys: Optional[Mapping[str, Key]] = None) -> Dict[str, Any]:
    """``{field: value}`` for one ``name : text`` pair of the registry ``keys`` (default: FTM's codec keys).

    An unknown name or a value that does not parse is a ConfigError starting with ``where``.
    """
    registry = _BY_NAME if keys is None else keys
    key = registry.get(name)
    if key is None:
        hint = difflib.get_close_matches(name, registry, n=1)
        raise ConfigError(f"{where}: unknown key {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
    try:
        return {key.field: key.parse(text)}
    except ValueError as e:
        raise ConfigError(f"{where}: {name}: {e}") from None


_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*:\s*(.*?)\s*$")


def _file_entries(path: str) -> List[Tuple[str, str, str]]:
    """``(name, text, "file:line")`` for every setting of a config file, in order."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path!r} does not exist")
    entries: List[Tuple[str, str, str]] = []
    with open(path, encoding="utf-8") as f:
        for number, raw in enumerate(f, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            m = _LINE.match(line)
            if not m:
                raise ConfigError(f"{path}:{number}: expected 'Key : Value', got {raw.strip()!r}")
            entries.append((m.group(1), m.group(2), f"{path}:{number}"))
    return entries


def _override_entry(arg: str, where: str) -> Tuple[str, str, str]:
    m = re.fullmatch(r"--([A-Za-z][A-Za-z0-9]*)=(.*)", arg)
    if not m:
        raise ConfigError(f"{where}: expected --Key=Value, got {arg!r}")
    return m.group(1), m.group(2).strip(), where


def read_settings(
    files: Sequence[str] = (),
    overrides: Sequence[str] = (),
    keys: Optional[Mapping[str, Key]] = None,
    origins: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """``{field: value}`` from config files read in order, then ``--Key=Value`` overrides.

    A later value wins; a ``repeat`` key collects the tuple of the values of
    every line that sets it. ``origins``, when given, receives ``{field:
    where}`` ("file:line" or "command line argument N"; a tuple of them for
    a ``repeat`` key), for messages about values that are only found wrong
    together with others.
    """
    registry = _BY_NAME if keys is None else keys
    entries: List[Tuple[str, str, str]] = []
    for path in files:
        entries.extend(_file_entries(path))
    entries.extend(_override_entry(arg, f"command line argument {i + 1}") for i, arg in enumerate(overrides))
    values: Dict[str, Any] = {}
    found: Dict[str, Any] = {}
    for name, text, where in entries:
        for field, value in parse_setting(name, text, where, registry).items():
            if registry[name].repeat:
                values[field] = values.get(field, ()) + (value,)
                found[field] = found.get(field, ()) + (where,)
            else:
                values[field] = value
                found[field] = where
    if origins is not None:
        origins.update(found)
    return values


def describe_keys(keys: Sequence[Key] = KEYS, defaults: Any = None) -> str:
    """A table of every key, for --help-keys (``defaults``: an object holding each key's field)."""
    rows: List[Tuple[str, str, str, str]] = []
    defaults = Config() if defaults is None else defaults
    for k in keys:
        default = getattr(defaults, k.field)
        shown = "" if default in (None, "", ()) else ",".join(map(str, default)) if isinstance(default, tuple) else str(default)
        rows.append((k.name, (k.parse.__doc__ or "").strip(), shown, k.help))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{'Key'.ljust(width[0])}  {'Values'.ljust(width[1])}  {'Default'.ljust(width[2])}  Meaning"]
    for r in rows:
        lines.append(f"{r[0].ljust(width[0])}  {r[1].ljust(width[1])}  {r[2].ljust(width[2])}  {r[3]}")
    return "\n".join(lines)

