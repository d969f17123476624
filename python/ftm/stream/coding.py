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

from ftm._core import bitstream as container
from ftm._version import __version__
from ftm.codecs import DecodedTensor, TensorCodec, codec_for_kind, codec_named
from ftm.codecs.options import DecodeLimits, DecodeOptions
from ftm.errors import InputError, StreamVerificationError
from ftm.io import DEFAULT_TENSOR_NAME
from ftm.stream.config import Config
from ftm.stream.records import hash_box, md5, new_record, reconstruction_error, record_bytes, source_tensor
from ftm.stream.tolerance import features_deviation

__all__ = [
    "EncodeResult",
    "RecordDecoder",
    "TensorReport",
    "check_hash",
    "decode",
    "decode_all",
    "encode",
    "encode_tensors",
    "join_streams",
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
    original_bytes: int  # the tensor as float32 (an image: as 8-bit samples)
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
    local = ("InputFile", "BitstreamFile", "ReconFile", "SummaryFile", "Threads", "HmDir", "VtmDir", "BatchedCoding", "Model")
    settings = " ".join(f"{k}={v}" for k, v in cfg.as_keys().items() if k not in local)
    name, version = codec.describe()
    return f"ftm {__version__}; encoder {name} {version}; {settings}"


@contextlib.contextmanager
def _progress_bar(unit: str, progress: Optional[bool]) -> Iterator[Optional[Callable[[int, int], None]]]:
    """A callback drawing a bar of the codec's units: always with progress=True, with None on a
    terminal once the work passes a second, never with False."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        yield None
        return
    from tqdm import tqdm

    bar = None

    def report(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="ftm-encode", unit=unit, delay=0.0 if progress else 1.0, file=sys.stderr)
        bar.update(done - bar.n)

    try:
        yield report
    finally:
        if bar is not None:
            bar.close()


def encode_tensors(features: FeaturesLike, config: ConfigLike = None, progress: Optional[bool] = None) -> EncodeResult:
    """Code named tensors into one stream, with a report per tensor.

    The codec is the one the configuration's ``FeatureKind`` names
    (:data:`ftm.codecs.CODECS`); it codes the tensors together
    (``encode_batch``: one encoder process for feature maps of one frame
    size). Every tensor is checked before any is coded. ``progress``: a bar
    of the codec's units (frames, for feature maps) on standard error;
    None (the default) shows it on a terminal once coding passes a second.
    """
    cfg = resolve_config(config)
    tensors = _named(features)
    codec = codec_named(cfg.feature_kind).for_encoding(cfg)
    info = _info(cfg, codec) if codec.carries_info else None
    arrays = {name: source_tensor(x, name, codec.ndim, codec.layout, codec.source_dtypes) for name, x in tensors.items()}
    records = {name: new_record(a, name, codec.kind) for name, a in arrays.items()}
    t0 = time.perf_counter()
    with _progress_bar(codec.progress_unit, progress) as report:
        coded = codec.encode_batch(list(arrays.values()), list(records.values()), report)
    seconds = time.perf_counter() - t0
    elements = sum(a.size for a in arrays.values()) or 1
    reports = []
    for (name, a), record, result in zip(arrays.items(), records.values(), coded):
        record.hash = hash_box(result.codes, result.features)
        if info:
            record.info = info
        mse, max_error = reconstruction_error(result.features, a)
        share = seconds * a.size / elements  # the batch's wall time, shared out by size
        reports.append(
            TensorReport(
                name=name,
                kind=cfg.feature_kind,
                shape=tuple(a.shape),
                qp=cfg.qp,
                bit_depth=result.bit_depth,
                num_frames=result.num_frames,
                frame_shape=result.frame_shape,
                record_bytes=record_bytes(record),
                original_bytes=int(a.size) * (1 if a.dtype == np.uint8 else 4),  # images as 8-bit samples, features as float32
                frames_psnr=result.frames_psnr,
                mse=mse,
                max_error=max_error,
                encode_seconds=max(0.0, share - result.decode_seconds),
                decode_seconds=result.decode_seconds,
                external_seconds=result.encoder_seconds + result.decoder_seconds,
            )
        )
    stream = container.Stream()
    stream.tensors = list(records.values())
    reconstruction = {name: result.features for name, result in zip(arrays, coded)}
    return EncodeResult(container.write_stream(stream), reports, reconstruction, codec.describe(), codec.describe_decoder())


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

    def _codec(self, kind) -> TensorCodec:
        codec = self._codecs.get(kind)
        if codec is None:
            codec = self._codecs[kind] = codec_for_kind(kind).for_decoding(self.options)
        return codec

    def decode(self, record: "container.TensorRecord", verify: bool = True) -> DecodedTensor:
        """The record's codes and features; with ``verify``, checked against its hash box when it has one."""
        return self.decode_many([record], verify)[0]

    def check_limits(self, records: Sequence["container.TensorRecord"]) -> None:
        """DecodeLimitError, before anything runs or is allocated, when the records ask for more
        than ``options.limits``: elements per record, memory for all of them together."""
        limits, held = self.options.limits, 0
        for i, record in enumerate(records):
            cost = self._codec(record.kind).decode_cost(record)
            what = f"tensor {record.name!r} (record {i})"
            limits.check_elements(what, cost.elements)
            limits.check_memory(what, cost.output_bytes + cost.state_bytes, held, cost.state_bytes)
            held += cost.output_bytes

    def decode_many(self, records: Sequence["container.TensorRecord"], verify: bool = True) -> List[DecodedTensor]:
        """:meth:`decode` of each record; records of one kind are decoded together (``decode_batch``).

        The limits are checked for all of them first (:meth:`check_limits`).
        """
        self.check_limits(records)
        out: List[Optional[DecodedTensor]] = [None] * len(records)
        kinds: Dict[object, List[int]] = {}
        for i, record in enumerate(records):
            kinds.setdefault(record.kind, []).append(i)
        for kind, members in kinds.items():
            codec = self._codec(kind)
            for i, decoded in zip(members, codec.decode_batch([records[i] for i in members])):
                if verify and records[i].hash is not None:
                    check_hash(records[i], decoded.codes, decoded.features, codec.exact_features)
                out[i] = decoded
        return out


def join_streams(streams: Sequence[bytes]) -> bytes:
    """One stream of the records of ``streams``, in order: an image and its feature (seed 003) travel together.

    Records keep their bytes; their names must differ (the container checks it).
    """
    if not streams:
        raise InputError("no stream to join")
    joined = container.Stream()
    joined.tensors = [record for data in streams for record in container.parse_stream(bytes(data)).tensors]
    return bytes(container.write_stream(joined))


def tensor_names(data: bytes) -> List[str]:
    """The names of a stream's tensors, in order (the whole container is parsed and checked)."""
    return [record.name for record in container.parse_stream(bytes(data)).tensors]


_DEFAULT = DecodeLimits()


def decode_all(
    data: bytes,
    *,
    decoder: str = "ffmpeg",
    hm_dir: Optional[str] = None,
    verify: bool = True,
    max_elements: Optional[int] = _DEFAULT.max_elements,
    max_memory: Optional[int] = _DEFAULT.max_memory,
    timeout: Optional[float] = _DEFAULT.timeout,
    vtm_dir: Optional[str] = None,
    model: Optional[str] = None,
) -> Dict[str, np.ndarray]:
    """Every tensor of a .ftm stream, by name: features as float32, images (image records) as uint8.

    ``decoder``, ``hm_dir`` and ``vtm_dir`` choose the video decoder of
    feature-map records; ``model`` is the model file of learned records. With
    ``verify`` (the default) the decoded tensors are checked against the
    checksums the stream carries, when it carries them.
    ``max_elements``, ``max_memory`` and ``timeout`` are the decode limits
    (:class:`ftm.codecs.options.DecodeLimits`: 2^28 elements per record,
    2 GiB per stream, 600 s per external decoder run); ``None`` lifts one.
    A stream past a limit raises :class:`ftm.errors.DecodeLimitError` before
    anything is decoded.
    """
    limits = DecodeLimits(max_elements, max_memory, timeout)
    stream = container.parse_stream(bytes(data))
    options = DecodeOptions(decoder=decoder, hm_dir=hm_dir or "", limits=limits, vtm_dir=vtm_dir or "", model=model or "")
    decoded = RecordDecoder(options).decode_many(stream.tensors, verify)
    return {record.name: d.features for record, d in zip(stream.tensors, decoded)}


def check_hash(record: "container.TensorRecord", codes: np.ndarray, features: np.ndarray, features_exact: bool = True) -> None:
    """StreamVerificationError unless the codes match the record's codes MD5 and the features its
    features MD5, or conform to the codes within SPEC.md 4.1's tolerance (the MD5 of the features
    is exact only on platforms that compute like the reference decoder).

    ``features_exact=False`` (a network's float output, SPEC.md 3.10) checks the codes only.
    """
    got, want = md5(codes), bytes(record.hash.codes_md5)
    if got != want:
        raise StreamVerificationError(
            f"tensor {record.name!r}: MD5 of the decoded codes is {got.hex()}, the stream says {want.hex()}"
        )
    if not features_exact:
        return
    got, want = md5(features), bytes(record.hash.features_md5)
    if got != want:
        deviation = features_deviation(record, codes, features)
        if deviation is not None:
            raise StreamVerificationError(
                f"tensor {record.name!r}: MD5 of the decoded features is {got.hex()}, the stream says "
                f"{want.hex()}, and they are not within the tolerance of the codes: {deviation}"
            )


def decode(
    data: bytes,
    *,
    decoder: str = "ffmpeg",
    hm_dir: Optional[str] = None,
    verify: bool = True,
    max_elements: Optional[int] = _DEFAULT.max_elements,
    max_memory: Optional[int] = _DEFAULT.max_memory,
    timeout: Optional[float] = _DEFAULT.timeout,
    vtm_dir: Optional[str] = None,
    model: Optional[str] = None,
) -> np.ndarray:
    """The tensor of a single-tensor .ftm stream, as float32 (see decode_all for several and the limits)."""
    tensors = decode_all(
        data, decoder=decoder, hm_dir=hm_dir, verify=verify, max_elements=max_elements, max_memory=max_memory,
        timeout=timeout, vtm_dir=vtm_dir, model=model,
    )  # fmt: skip
    if len(tensors) != 1:
        raise ValueError(f"the stream holds {len(tensors)} tensors ({', '.join(tensors)}); use ftm.decode_all")
    return next(iter(tensors.values()))
