"""Whole .ftm streams: the Python API behind ftm-encode and ftm-decode.

    data = ftm.encode(features, "cfg/ctc_qp22.cfg")   # bytes of a .ftm stream
    recon = ftm.decode(data)                          # float32 ndarray

A stream holds one tensor record per named tensor (an ``.npz`` file's keys,
say), coded one after the other in the given order.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ftm import _core
from ftm._version import __version__
from ftm.codecs import DecodedTensor, TensorCodec, codec_for_kind, codec_named
from ftm.codecs.options import DecodeOptions
from ftm.errors import InputError, StreamVerificationError
from ftm.io import DEFAULT_TENSOR_NAME
from ftm.stream.config import Config
from ftm.stream.records import hash_box, md5, new_record, reconstruction_error, record_bytes, source_tensor

__all__ = [
    "EncodeResult",
    "RecordDecoder",
    "TensorReport",
    "check_hash",
    "decode",
    "decode_all",
    "encode",
    "encode_tensors",
    "record_bytes",
    "resolve_config",
    "tensor_names",
]

ConfigLike = Union[None, Config, str, Sequence[str], Mapping[str, str]]
FeaturesLike = Union[np.ndarray, Mapping[str, np.ndarray]]


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
    """A coded stream, a report per tensor, the reconstruction, and what coded it.

    ``encoder`` and ``decoder`` are (name, version) of what coded the
    payloads and decoded them for the reconstruction (the video back ends, or
    FTM's level coder).
    """

    data: bytes
    tensors: List[TensorReport]
    reconstruction: Dict[str, np.ndarray] = field(repr=False)
    encoder: Tuple[str, str] = ("", "")
    decoder: Tuple[str, str] = ("", "")

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
            raise InputError("no tensor to encode")
        return dict(features)
    return {DEFAULT_TENSOR_NAME: features}


def _info(cfg: Config, codec: TensorCodec) -> str:
    # Left out: file names, and what changes how or where, never what, the
    # encoder codes (Threads, HmDir): the stream must not depend on them.
    local = ("InputFile", "BitstreamFile", "ReconFile", "SummaryFile", "Threads", "HmDir")
    settings = " ".join(f"{k}={v}" for k, v in cfg.as_keys().items() if k not in local)
    name, version = codec.describe()
    return f"ftm {__version__}; encoder {name} {version}; {settings}"


@contextlib.contextmanager
def _frame_bar(name: str, enabled: bool) -> Iterator[Optional[Callable[[int, int], None]]]:
    """A progress callback drawing a bar on the terminal once a tensor's encode passes a second."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    bar = None

    def report(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=f"  {name}", unit="frame", delay=1.0, leave=False, file=sys.stderr)
        bar.update(done - bar.n)

    try:
        yield report
    finally:
        if bar is not None:
            bar.close()


def encode_tensors(features: FeaturesLike, config: ConfigLike = None, progress: Optional[bool] = None) -> EncodeResult:
    """Code named tensors into one stream, with a report per tensor.

    The codec is the one the configuration's ``FeatureKind`` names
    (:data:`ftm.codecs.CODECS`). ``progress`` shows a progress bar (tqdm)
    over the tensors, by default when there are more than one; and, when
    standard error is a terminal and progress is not False, a bar over the
    frames of a tensor whose encode lasts more than a second.
    """
    cfg = resolve_config(config)
    tensors = _named(features)
    codec = codec_named(cfg.feature_kind).for_encoding(cfg)
    info = _info(cfg, codec) if codec.carries_info else None
    names = list(tensors)
    within = progress is not False and sys.stderr.isatty()
    if progress is None:
        progress = len(names) > 1
    if progress:
        from tqdm import tqdm

        names = tqdm(names, desc="ftm-encode", unit="tensor")
    records, reports, recon = [], [], {}
    for name in names:
        a = source_tensor(tensors[name], name, codec.ndim, codec.layout)
        t0 = time.perf_counter()
        record = new_record(a, name, codec.kind)
        with _frame_bar(name, within) as report:
            coded = codec.encode(a, record, report)
        record.hash = hash_box(coded.codes, coded.features)
        if info:
            record.info = info
        seconds = time.perf_counter() - t0
        records.append(record)
        recon[name] = coded.features
        mse, max_error = reconstruction_error(coded.features, a)
        reports.append(
            TensorReport(
                name=name,
                kind=cfg.feature_kind,
                shape=tuple(a.shape),
                qp=cfg.qp,
                bit_depth=coded.bit_depth,
                num_frames=coded.num_frames,
                frame_shape=coded.frame_shape,
                record_bytes=record_bytes(record),
                original_bytes=int(a.size) * 4,
                frames_psnr=coded.frames_psnr,
                mse=mse,
                max_error=max_error,
                encode_seconds=seconds - coded.decode_seconds,
                decode_seconds=coded.decode_seconds,
                external_seconds=coded.encoder_seconds + coded.decoder_seconds,
            )
        )
    stream = _core.Stream()
    stream.tensors = records
    return EncodeResult(_core.write_stream(stream), reports, recon, codec.describe(), codec.describe_decoder())


def encode(features: FeaturesLike, config: ConfigLike = None) -> bytes:
    """Code feature maps (or vectors) into the bytes of a .ftm stream."""
    return encode_tensors(features, config).data


class RecordDecoder:
    """Decodes tensor records of any kind with the user's decoder choices.

    One codec per record kind, set up when a record of that kind first
    comes (a stream of vectors never needs a video decoder).
    """

    def __init__(self, options: DecodeOptions = DecodeOptions()) -> None:
        self.options = options
        self._codecs: Dict[object, TensorCodec] = {}

    def decode(self, record: "_core.TensorRecord", verify: bool = True) -> DecodedTensor:
        """The record's codes and features; with ``verify``, checked against its hash box when it has one."""
        codec = self._codecs.get(record.kind)
        if codec is None:
            codec = self._codecs[record.kind] = codec_for_kind(record.kind).for_decoding(self.options)
        decoded = codec.decode(record)
        if verify and record.hash is not None:
            check_hash(record, decoded.codes, decoded.features)
        return decoded


def tensor_names(data: bytes) -> List[str]:
    """The names of a stream's tensors, in order (the whole container is parsed and checked)."""
    return [record.name for record in _core.parse_stream(bytes(data)).tensors]


def decode_all(
    data: bytes, *, decoder: str = "ffmpeg", hm_dir: Optional[str] = None, verify: bool = True
) -> Dict[str, np.ndarray]:
    """Every tensor of a .ftm stream, by name, as float32.

    ``decoder`` and ``hm_dir`` choose the video decoder of feature-map
    records. With ``verify`` (the default) the decoded tensors are checked
    against the checksums the stream carries, when it carries them.
    """
    stream = _core.parse_stream(bytes(data))
    records = RecordDecoder(DecodeOptions(decoder=decoder, hm_dir=hm_dir or ""))
    return {record.name: records.decode(record, verify).features for record in stream.tensors}


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
