"""Whole .ftm streams: the Python API behind ftm-encode and ftm-decode.

    data = ftm.encode(features, "cfg/ctc_qp22.cfg")   # bytes of a .ftm stream
    recon = ftm.decode(data)                          # float32 ndarray

A stream holds one tensor record per named tensor (an ``.npz`` file's keys,
say), coded one after the other in the given order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ftm import _core
from ftm.codecs import Decoder, Encoder, make_decoder, make_encoder
from ftm.config import Config, ConfigError
from ftm.io import DEFAULT_TENSOR_NAME
from ftm.maps import decode_map, encode_map
from ftm.records import md5

__all__ = [
    "EncodeResult",
    "TensorReport",
    "decode",
    "decode_all",
    "encode",
    "encode_tensors",
    "record_bytes",
    "resolve_config",
    "StreamVerificationError",
]

ConfigLike = Union[None, Config, str, Sequence[str], Mapping[str, str]]
FeaturesLike = Union[np.ndarray, Mapping[str, np.ndarray]]


class StreamVerificationError(ValueError):
    """Decoded tensors whose checksums differ from those the stream carries."""


@dataclass(frozen=True)
class TensorReport:
    """Figures of one coded tensor, as the summary table shows them."""

    name: str
    kind: str
    shape: Tuple[int, ...]
    qp: int
    bit_depth: int
    num_frames: int
    frame_shape: Tuple[int, int]
    record_bytes: int  # every byte of the tensor's record
    original_bytes: int  # the tensor as float32
    frames_psnr: float
    mse: float
    max_error: float
    encode_seconds: float  # FTM's encode of this tensor, its check decode excluded
    decode_seconds: float  # FTM's decode of this tensor (done once while encoding)
    external_seconds: float  # of which inside the external encoder and decoder

    @property
    def compression_rate(self) -> float:
        return self.record_bytes / self.original_bytes if self.original_bytes else 0.0


@dataclass(frozen=True)
class EncodeResult:
    data: bytes
    tensors: List[TensorReport]
    reconstruction: Dict[str, np.ndarray] = field(repr=False)

    @property
    def original_bytes(self) -> int:
        return sum(t.original_bytes for t in self.tensors)

    @property
    def compression_rate(self) -> float:
        """All bytes of the .ftm stream, header included, over the float32 bytes (seed 002 eq. 1)."""
        return len(self.data) / self.original_bytes if self.original_bytes else 0.0


def resolve_config(config: ConfigLike) -> Config:
    """A Config from None (defaults), a Config, config file path(s), or a {Key: value} mapping."""
    if config is None:
        return Config()
    if isinstance(config, Config):
        return config
    if isinstance(config, str):
        return Config.load([config])
    if isinstance(config, Mapping):
        return Config.from_values(dict(config))
    return Config.load(list(config))


def _named(features: FeaturesLike) -> Dict[str, np.ndarray]:
    if isinstance(features, Mapping):
        if not features:
            raise ValueError("no tensor to encode")
        return dict(features)
    return {DEFAULT_TENSOR_NAME: features}


def video_decoder(name: str, hm_dir: Optional[str] = None) -> Decoder:
    """An HEVC decoder back end; ``hm_dir`` applies to HM only."""
    return make_decoder(name, hm_dir=hm_dir or None) if name == "hm" else make_decoder(name)


def backends(cfg: Config) -> Tuple[Encoder, Decoder]:
    """The encoder and decoder a configuration names, with the options each takes."""
    if cfg.encoder == "hm":
        if cfg.intra_period != 1:
            raise ConfigError("Encoder : hm codes all-intra only; IntraPeriod must be 1")
        if cfg.preset:
            raise ConfigError("Preset applies to the x265 back ends, not to Encoder : hm")
        encoder = make_encoder("hm", hm_dir=cfg.hm_dir or None, picture_hash=cfg.hm_picture_hash)
    else:
        options = {"intra_period": cfg.intra_period}
        if cfg.preset:
            options["preset"] = cfg.preset
        if cfg.threads:
            options["threads"] = cfg.threads
        encoder = make_encoder(cfg.encoder, **options)
    return encoder, video_decoder(cfg.decoder, cfg.hm_dir)


def record_bytes(record: "_core.TensorRecord") -> int:
    """Every byte a tensor record takes in a stream."""
    one = _core.Stream()
    one.tensors = [record]
    return len(_core.write_stream(one)) - 16  # minus the stream header and the end box


def _info(cfg: Config, encoder: Encoder) -> str:
    from ftm import __version__

    # Left out: file names, and what changes how or where, never what, the
    # encoder codes (Threads, HmDir): the stream must not depend on them.
    local = ("InputFile", "BitstreamFile", "ReconFile", "SummaryFile", "Threads", "HmDir")
    settings = " ".join(f"{k}={v}" for k, v in cfg.as_keys().items() if k not in local)
    return f"ftm {__version__}; encoder {encoder.name} {encoder.version()}; {settings}"


def encode_tensors(features: FeaturesLike, config: ConfigLike = None, progress: Optional[bool] = None) -> EncodeResult:
    """Code named tensors into one stream, with a report per tensor.

    ``progress`` shows a progress bar (tqdm) over the tensors; by default when
    there are more than one.
    """
    cfg = resolve_config(config)
    tensors = _named(features)
    if cfg.feature_kind != "map":
        from ftm.vector_coding import encode_vector_record

        return _encode_with(tensors, cfg, progress, lambda x, name: encode_vector_record(x, name, cfg))
    encoder, decoder = backends(cfg)
    info = _info(cfg, encoder)
    return _encode_with(tensors, cfg, progress, lambda x, name: encode_map(x, name, cfg, encoder, decoder, info))


def _encode_with(tensors: Dict[str, np.ndarray], cfg: Config, progress: Optional[bool], code_one) -> EncodeResult:
    names = list(tensors)
    if progress is None:
        progress = len(names) > 1
    if progress:
        from tqdm import tqdm

        names = tqdm(names, desc="ftm-encode", unit="tensor")
    stream = _core.Stream()
    records, reports, recon = [], [], {}
    for name in names:
        x = np.asarray(tensors[name])
        t0 = time.perf_counter()
        result = code_one(x, name)
        seconds = time.perf_counter() - t0
        records.append(result.record)
        recon[name] = result.features
        reports.append(
            TensorReport(
                name=name,
                kind=cfg.feature_kind,
                shape=tuple(x.shape),
                qp=cfg.qp,
                bit_depth=cfg.bit_depth if cfg.feature_kind == "map" else 0,
                num_frames=result.num_frames,
                frame_shape=result.frame_shape,
                record_bytes=record_bytes(result.record),
                original_bytes=int(x.size) * 4,
                frames_psnr=result.frames_psnr,
                mse=result.mse,
                max_error=result.max_error,
                encode_seconds=seconds - result.decode_seconds,
                decode_seconds=result.decode_seconds,
                external_seconds=result.encoder_seconds + result.decoder_seconds,
            )
        )
    stream.tensors = records
    return EncodeResult(_core.write_stream(stream), reports, recon)


def encode(features: FeaturesLike, config: ConfigLike = None) -> bytes:
    """Code feature maps (or vectors) into the bytes of a .ftm stream."""
    return encode_tensors(features, config).data


def decode_record(record: "_core.TensorRecord", decoder: Optional[Decoder]) -> Tuple[np.ndarray, np.ndarray]:
    """Decoded codes (or levels) and float32 features of one tensor record."""
    if record.kind == _core.FeatureKind.VECTOR:
        from ftm.vector_coding import decode_vector_record

        return decode_vector_record(record)
    out = decode_map(record, decoder)
    return out.codes, out.features


def decode_all(data: bytes, *, decoder: str = "ffmpeg", hm_dir: Optional[str] = None, verify: bool = True) -> Dict[str, np.ndarray]:
    """Every tensor of a .ftm stream, by name, as float32.

    With ``verify`` (the default) the decoded tensors are checked against the
    checksums the stream carries, when it carries them.
    """
    stream = _core.parse_stream(bytes(data))
    needs_video = any(r.kind == _core.FeatureKind.MAP for r in stream.tensors)
    video = video_decoder(decoder, hm_dir) if needs_video else None
    out: Dict[str, np.ndarray] = {}
    for record in stream.tensors:
        codes, features = decode_record(record, video)
        if verify and record.hash is not None:
            check_hash(record, codes, features)
        out[record.name] = features
    return out


def check_hash(record: "_core.TensorRecord", codes: np.ndarray, features: np.ndarray) -> None:
    for what, got, want in (
        ("decoded codes", md5(codes), record.hash.codes_md5),
        ("decoded features", md5(features), record.hash.features_md5),
    ):
        if got != want:
            raise StreamVerificationError(
                f"tensor {record.name!r}: MD5 of the {what} is {got.hex()}, the stream says {bytes(want).hex()}"
            )


def decode(data: bytes, *, decoder: str = "ffmpeg", hm_dir: Optional[str] = None, verify: bool = True) -> np.ndarray:
    """The tensor of a single-tensor .ftm stream, as float32 (see decode_all for several)."""
    tensors = decode_all(data, decoder=decoder, hm_dir=hm_dir, verify=verify)
    if len(tensors) != 1:
        raise ValueError(f"the stream holds {len(tensors)} tensors ({', '.join(tensors)}); use ftm.decode_all")
    return next(iter(tensors.values()))
