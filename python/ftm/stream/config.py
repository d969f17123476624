"""The codec configuration of ``ftm-encode``: HM-style keys, resolved into a :class:`Config`.

    cfg = Config.load(["cfg/ctc_qp22.cfg"], overrides=["--QP=32"])
    cfg.qp  # 32

Several files may be given; a later value wins, and ``--Key=Value`` on the
command line wins over every file (:mod:`ftm.settings` reads them). The keys
come from where they apply: a few keys of every run (files, FeatureKind, QP)
are declared here; each codec of :data:`ftm.codecs.CODECS` declares its own,
and each video back end of :mod:`ftm.codecs.video` the keys only it reads.
A key set to something other than its default where it does not apply (a
vector's Normalization on a feature-map run, HM's HmPictureHash with x265)
is an error naming the key and where it was set (``Config(...)`` built in
code is checked the same way). ``ftm-encode --help-keys``
prints :data:`KEYS`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ftm.codecs import CODECS, codec_named
from ftm.codecs.video import DECODERS, ENCODERS
from ftm.errors import ConfigError
from ftm.settings import Key, choice_of, describe_keys, integer, parse_setting, plain_text, read_settings

__all__ = ["Config", "KEYS", "KEYS_BY_NAME", "describe_codec_keys"]

_COMMON_KEYS: Tuple[Key, ...] = (
    Key("InputFile", "input_file", plain_text, "features to code: .npy, .npz or .safetensors (empty: the bundled default input)"),
    Key("BitstreamFile", "bitstream_file", plain_text, "the .ftm stream to write"),
    Key("ReconFile", "recon_file", plain_text, "where to write the decoded features (empty: not written)"),
    Key("SummaryFile", "summary_file", plain_text, "JSON summary (empty: the bitstream path with .json)"),
    Key("FeatureKind", "feature_kind", choice_of(*CODECS), "N x C x H x W feature maps, N x D feature vectors, vectors through a learned model, or N x C x H x W uint8 images (HEVC intra)"),
    # The range depends on the codec (and for video on BitDepth): each codec's check_config says it, in one wording.
    Key("QP", "qp", integer, "quantization parameter (video codecs: -6*(BitDepth - 8)..51; vectors: -48..63)"),
)


_VIDEO_KINDS = ("map", "image")  # the kinds whose payload a video back end codes


def _scoped_keys() -> Tuple[Tuple[Key, ...], Dict[str, Callable[[Any], bool]], Dict[str, str]]:
    """Every codec's and back end's keys, when each applies, and how to say where it applies."""
    keys: List[Key] = []
    applies: Dict[str, List[Callable[[Any], bool]]] = {}
    scope: Dict[str, List[str]] = {}

    def add(key: Key, test: Callable[[Any], bool], text: str) -> None:
        if key.field not in applies:
            keys.append(key)
        applies.setdefault(key.field, []).append(test)
        scope.setdefault(key.field, []).append(text)

    for codec in CODECS.values():
        for key in codec.keys:
            add(key, lambda cfg, kind=codec.name: cfg.feature_kind == kind, f"FeatureKind : {codec.name}")
    for role, registry in (("encoder", ENCODERS), ("decoder", DECODERS)):
        for backend in registry.values():
            for key in backend.keys:
                add(key, lambda cfg, r=role, n=backend.name: cfg.feature_kind in _VIDEO_KINDS and getattr(cfg, r) == n,
                    f"{role.capitalize()} : {backend.name}")  # fmt: skip
    tests = {f: (lambda cfg, ts=tuple(t): any(test(cfg) for test in ts)) for f, t in applies.items()}
    return tuple(keys), tests, {f: " or ".join(dict.fromkeys(t)) for f, t in scope.items()}


_SCOPED_KEYS, _APPLIES, _SCOPE = _scoped_keys()
KEYS: Tuple[Key, ...] = _COMMON_KEYS + _SCOPED_KEYS
KEYS_BY_NAME: Dict[str, Key] = {k.name: k for k in KEYS}
_NAME_OF_FIELD = {k.field: k.name for k in KEYS}


@dataclass(frozen=True)
class Config:
    """Resolved settings of one FTM run. Build it with :meth:`load` or :meth:`from_values`.

    ``origins`` says where each setting came from ("file:line", "command line
    argument N"), for error messages.
    """

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
    channel_order: Union[None, str, Tuple[int, ...]] = None
    encoder: str = "x265-ffmpeg"
    decoder: str = "ffmpeg"
    qp: int = 22
    qp_offset: int = 0
    preset: str = ""
    intra_period: int = 1
    inter_coding: str = "randomaccess"
    hm_dir: str = ""
    vtm_dir: str = ""
    hm_picture_hash: bool = True
    threads: int = 0
    batched_coding: bool = True
    normalization: str = "none"
    scale: Optional[float] = None
    reconstruction: str = "floor"
    model_file: str = ""
    latent_coding: str = "fixed"
    sources: Tuple[str, ...] = ()  # the files and overrides it was built from, for provenance
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        codec = codec_named(self.feature_kind)
        self._check_scope()
        codec.check_config(self, self.at)

    def at(self, field_name: str) -> str:
        """Where a setting came from, as a message prefix ("file:line: "), or "" when not known."""
        origin = self.origins.get(field_name)
        return f"{origin}: " if isinstance(origin, str) and origin else ""

    def _check_scope(self) -> None:
        for name, test in _APPLIES.items():
            if test(self) or getattr(self, name) == _DEFAULT_VALUES[name]:
                continue
            here = (f"FeatureKind : {self.feature_kind} with Encoder : {self.encoder}, Decoder : {self.decoder}"
                    if self.feature_kind in _VIDEO_KINDS else f"a FeatureKind : {self.feature_kind}")  # fmt: skip
            raise ConfigError(
                f"{self.at(name)}{_NAME_OF_FIELD[name]} applies to {_SCOPE[name]}, not to {here} run; "
                "remove it or change what it depends on"
            )

    @classmethod
    def load(
        cls, files: Sequence[str] = (), overrides: Sequence[str] = (), overrides_from: str = "command line", **fields: Any
    ) -> "Config":
        """Read config files in order, then apply ``--Key=Value`` overrides, then ``fields``.

        ``overrides_from`` names where the overrides come from in error
        messages (empty: the caller names it).
        """
        origins: Dict[str, Any] = {}
        values = read_settings(files, overrides, KEYS_BY_NAME, origins, overrides_from)
        values.update(fields)
        origins.update({name: "the caller" for name in fields})
        return cls._make(values, tuple(files) + tuple(overrides), origins)

    @classmethod
    def from_values(cls, values: Mapping[str, Any], where: str = "values") -> "Config":
        """Build from ``{"QP": "22", ...}``, as if read from a file."""
        parsed: Dict[str, Any] = {}
        for name, text in values.items():
            parsed.update(parse_setting(name, str(text), where, KEYS_BY_NAME))
        return cls._make(parsed, (), {f: where for f in parsed})

    @classmethod
    def _make(cls, values: Dict[str, Any], sources: Tuple[str, ...], origins: Dict[str, Any]) -> "Config":
        settable = {f.name for f in dataclasses.fields(cls)} - {"origins", "sources"}
        unknown = sorted(set(values) - settable)
        if unknown:  # a bad field name passed programmatically
            raise ConfigError(f"Config has no setting {unknown[0]!r}")
        return cls(**values, sources=sources, origins=origins)

    def replace(self, **fields: Any) -> "Config":
        """A copy with ``fields`` changed."""
        return dataclasses.replace(self, **fields)

    def as_keys(self) -> Dict[str, Any]:
        """The settings under their key names, for summaries and provenance."""
        return {k.name: getattr(self, k.field) for k in KEYS}


_DEFAULT_VALUES = {f.name: f.default for f in dataclasses.fields(Config) if f.default is not dataclasses.MISSING}
_DEFAULTS = Config()


def describe_codec_keys() -> str:
    """A table of every codec key, for ftm-encode --help-keys."""
    return describe_keys(KEYS, _DEFAULTS)
