"""The interface every video back end implements, its errors, and input checks.

An encoder takes 4:0:0 frames as :func:`ftm.pack` returns them (F x H x W,
sides multiples of 8, uint8 for 8-bit samples, little-endian uint16 above)
and codes them unchanged (no shift) at the smallest bit depth it supports
that is at least the samples' bit depth. A decoder returns the frames in the
same layout.

The payload is HEVC, VVC or AVS2 (:data:`CODECS`), as 4:0:0 pictures or, for
codecs or tools without 4:0:0, as the luma plane of 4:2:0 pictures whose
chroma planes are flat (``chroma_format`` 420; SPEC.md 3.6).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Callable, ClassVar, List, Optional, Sequence, Tuple

import numpy as np

from ftm.codecs.options import DecodeOptions
from ftm.errors import CodecError, CodecNotFoundError
from ftm.settings import Key

__all__ = [
    "AVS2",
    "CODECS",
    "CodecError",
    "CodecNotFoundError",
    "DecodedVideo",
    "Decoder",
    "EncodedVideo",
    "Encoder",
    "HEVC",
    "INTER_CODINGS",
    "MAX_SAMPLE_BITS",
    "TIMEOUT_HINT",
    "VVC",
    "check_frames",
    "check_qp",
    "check_timeout",
    "coded_bit_depth",
    "frame_dtype",
    "qp_range",
]

MAX_SAMPLE_BITS = 16  # HEVC's range extensions stop at 16-bit samples
# Ends a decoder's timeout message: the limit, and how to lift it.
TIMEOUT_HINT = " (the decode timeout: ftm.decode(..., timeout=None) or ftm-decode --timeout 0 lifts it)"

HEVC, VVC, AVS2 = "hevc", "vvc", "avs2"
#: The payload codecs, by name: their full names, for messages.
CODECS = {HEVC: "HEVC (H.265)", VVC: "VVC (H.266)", AVS2: "AVS2 (IEEE 1857.4)"}
#: Chroma formats of a payload: 4:0:0, or 4:2:0 whose luma plane carries the frames.
CHROMA_FORMATS = (400, 420)
#: Prediction structures when IntraPeriod > 1: random access (pictures reordered,
#: hierarchical B) and low delay (pictures coded in input order, each referring
#: to earlier ones only).
INTER_CODINGS = ("randomaccess", "lowdelay")
# The back ends that code and decode colour (4:2:0) pictures, for the messages of the others
COLOUR_ENCODERS, COLOUR_DECODERS = ("x265-ffmpeg", "hm"), ("ffmpeg", "hm")


@dataclass(frozen=True)
class EncodedVideo:
    """What an encoder produced.

    ``bitstream`` is the elementary stream (HEVC and VVC: Annex B byte
    streams; AVS2: a start-code byte stream) exactly as it is to be stored:
    its length is the rate. ``codec`` and ``chroma_format`` say what it is
    (a 420 payload carries the frames in its luma plane). ``reconstruction``
    is the encoder's own reconstructed frames, present only when the back
    end was asked for it.
    """

    bitstream: bytes
    encoder: str
    encoder_version: str
    coded_bits: int
    seconds: float
    reconstruction: Optional[np.ndarray] = field(default=None, repr=False, compare=False)
    codec: str = HEVC
    chroma_format: int = 400


@dataclass(frozen=True)
class DecodedVideo:
    """Decoded frames, (F, H, W) uint8 for 8-bit samples else little-endian uint16."""

    frames: np.ndarray
    seconds: float


class Encoder(abc.ABC):
    """One external video encoder: raw 4:0:0 frames at ``bits`` and a QP in, bitstream out.

    ``name`` is the back end's name in the registry (``Encoder : name`` in a
    config); ``keys`` are the configuration keys that only this back end
    reads, which :meth:`from_config` turns into constructor options;
    ``codec`` is what it writes; ``inter_codings`` the prediction structures
    it offers when the intra period is above 1 (empty: all-intra only).
    """

    name: ClassVar[str]
    keys: ClassVar[Tuple[Key, ...]] = ()
    codec: ClassVar[str] = HEVC
    inter_codings: ClassVar[Tuple[str, ...]] = INTER_CODINGS
    #: The payload box's informative encoder_id (SPEC.md 3.5, 3.6); 255: another encoder.
    stream_id: ClassVar[int] = 255
    #: What :meth:`qp_limits` is, for messages.
    qp_range_name: ClassVar[str] = "HEVC's range"
    #: Bit depths the back end can code at, ascending; samples of ``bits`` are
    #: coded at the first entry >= bits.
    coded_depths: Tuple[int, ...]

    @classmethod
    @abc.abstractmethod
    def from_config(cls, cfg) -> "Encoder":
        """The back end set up from a codec configuration (:class:`ftm.stream.config.Config`)."""

    @abc.abstractmethod
    def encode(
        self, frames: np.ndarray, bits: int, qp: int, progress: Optional[Callable[[int], None]] = None
    ) -> EncodedVideo:
        """Code ``frames`` (F x H x W, values < 2**bits) with a fixed ``qp``.

        ``progress`` is called with the number of frames coded so far, as
        often as the tool reports it (at least once, at the end).
        """

    def encode_sequences(
        self, sequences: Sequence[np.ndarray], bits: int, qp: int, progress: Optional[Callable[[int], None]] = None
    ) -> List[EncodedVideo]:
        """Code several sequences of frames of one shape, each into a standalone stream.

        Every result is what :meth:`encode` gives for that sequence alone;
        back ends that can (:mod:`.batching`) run one process for all of
        them. ``progress`` counts frames over all sequences.
        """
        results, done = [], 0
        for frames in sequences:
            step = None if progress is None else (lambda n, base=done: progress(base + n))
            results.append(self.encode(frames, bits, qp, step))
            done += len(frames)
        return results

    def encode_colour(
        self, luma: np.ndarray, chroma: np.ndarray, qp: int, progress: Optional[Callable[[int], None]] = None
    ) -> EncodedVideo:
        """Code 8-bit 4:2:0 pictures (luma F x H x W, chroma F x 2 x H/2 x W/2, even sides) all intra at ``qp``.

        The image records of colour images (SPEC.md 3.16); back ends that
        code 4:0:0 frames only say so.
        """
        raise CodecError(f"Encoder : {self.name} codes 4:0:0 frames only; colour images (4:2:0) need "
                         f"Encoder : {', '.join(COLOUR_ENCODERS)}")  # fmt: skip

    @abc.abstractmethod
    def version(self) -> str:
        """The encoder's version as the tool reports it."""

    def coded_bits(self, bits: int) -> int:
        """The bit depth samples of ``bits`` bits are coded at; CodecError if none fits."""
        return coded_bit_depth(self.name, bits, self.coded_depths)

    @classmethod
    def qp_limits(cls, coded_bits: int) -> Tuple[int, int]:
        """The QPs the back end takes at a coded bit depth (HEVC's range unless the class says otherwise)."""
        return qp_range(coded_bits)

    @classmethod
    def nominal_depth(cls, bits: int) -> int:
        """The coded bit depth of ``bits``-bit samples as far as a configuration can tell (no tool run)."""
        return bits


class Decoder(abc.ABC):
    """One video decoder: bitstream in, raw 4:0:0 frames out.

    ``codecs`` are the payload codecs it decodes; :meth:`decode` of another
    is a CodecError naming the decoders that do.
    """

    name: ClassVar[str]
    keys: ClassVar[Tuple[Key, ...]] = ()
    codecs: ClassVar[Tuple[str, ...]] = (HEVC,)

    @classmethod
    def from_options(cls, options: DecodeOptions) -> "Decoder":
        """The back end set up from what the user chose for decoding, its timeout the limits'."""
        return cls(timeout=options.limits.timeout)

    @abc.abstractmethod
    def decode(
        self, bitstream: bytes, num_frames: int, height: int, width: int, bits: int,
        codec: str = HEVC, chroma_format: int = 400,
    ) -> DecodedVideo:  # fmt: skip
        """Decode exactly ``num_frames`` frames of ``height`` x ``width`` samples of ``bits`` bits.

        ``codec`` and ``chroma_format`` say what the payload is (from the
        record); a 420 payload's frames are the luma planes of its pictures.
        """

    def decode_sequences(
        self, bitstreams: Sequence[bytes], counts: Sequence[int], height: int, width: int, bits: int,
        codec: str = HEVC, chroma_format: int = 400,
    ) -> List[DecodedVideo]:  # fmt: skip
        """Decode several standalone streams of one picture format (``counts[i]`` frames each).

        The same frames as :meth:`decode` of each; back ends that can run one
        process for all of them.
        """
        return [self.decode(b, n, height, width, bits, codec, chroma_format) for b, n in zip(bitstreams, counts)]

    def check_codec(self, codec: str) -> None:
        """CodecError unless this decoder decodes ``codec`` payloads."""
        if codec not in CODECS:
            raise ValueError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
        if codec not in self.codecs:
            raise CodecError(
                f"the {self.name} decoder decodes {', '.join(CODECS[c] for c in self.codecs)} payloads; "
                f"this one is {CODECS[codec]}: choose a decoder that decodes it (Decoder, --Decoder)"
            )

    def decode_colour(self, bitstream: bytes, num_pictures: int, height: int, width: int) -> Tuple[np.ndarray, np.ndarray, float]:
        """Exactly ``num_pictures`` 8-bit 4:2:0 HEVC pictures of ``height`` x ``width`` (even sides): luma
        (F x H x W), chroma (F x 2 x H/2 x W/2) and the seconds the tool ran. Back ends that output luma only say so."""
        raise CodecError(f"Decoder : {self.name} outputs luma only; colour images (4:2:0) need "
                         f"Decoder : {', '.join(COLOUR_DECODERS)}")  # fmt: skip

    @abc.abstractmethod
    def version(self) -> str:
        """The decoder's version as the tool reports it."""


def frame_dtype(bits: int) -> np.dtype:
    """uint8 for 8-bit samples, little-endian uint16 for 9..16 bits."""
    return np.dtype(np.uint8) if bits <= 8 else np.dtype("<u2")


def _check_bits(bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"bits must be an integer, got {type(bits).__name__}")
    if not 8 <= bits <= MAX_SAMPLE_BITS:
        raise ValueError(f"bits must be in [8, {MAX_SAMPLE_BITS}], got {bits}")
    return int(bits)


def coded_bit_depth(backend: str, bits: int, supported: Sequence[int]) -> int:
    """Smallest depth in ``supported`` that holds ``bits``-bit samples unchanged."""
    bits = _check_bits(bits)
    for depth in sorted(supported):
        if depth >= bits:
            return depth
    depths = ", ".join(str(d) for d in sorted(supported))
    raise CodecError(f"the {backend} back end cannot code {bits}-bit samples: it codes at {depths} bits")


def check_timeout(timeout: Optional[float]) -> Optional[float]:
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise ValueError(f"timeout must be None (no limit) or a positive number of seconds, got {timeout!r}")
    return timeout


def qp_range(coded_bits: int) -> Tuple[int, int]:
    """HEVC's QP range at a coded bit depth: [-6 * (bitDepth - 8), 51]."""
    return -6 * (coded_bits - 8), 51


def check_qp(qp: int, coded_bits: int, limits: Optional[Tuple[int, int]] = None) -> int:
    """``qp`` checked against ``limits`` (default: HEVC's range at ``coded_bits``)."""
    if isinstance(qp, bool) or not isinstance(qp, (int, np.integer)):
        raise TypeError(f"qp must be an integer, got {type(qp).__name__}")
    lo, hi = limits if limits is not None else qp_range(coded_bits)
    if not lo <= qp <= hi:
        raise ValueError(f"qp must be in [{lo}, {hi}] at a coded bit depth of {coded_bits}, got {qp}")
    return int(qp)


def check_frames(frames: np.ndarray, bits: int) -> np.ndarray:
    """Validate encoder input; return it C-contiguous and little-endian."""
    bits = _check_bits(bits)
    if not isinstance(frames, np.ndarray):
        raise TypeError(f"frames must be a numpy array, got {type(frames).__name__}")
    if frames.ndim != 3:
        raise ValueError(f"frames must be F x H x W, got a {frames.ndim}-D array of shape {frames.shape}")
    want = frame_dtype(bits)
    if frames.dtype.kind != "u" or frames.dtype.itemsize != want.itemsize:
        raise TypeError(f"{bits}-bit frames must be {'uint8' if bits == 8 else 'uint16'}, got {frames.dtype}")
    count, height, width = frames.shape
    if count == 0:
        raise ValueError("frames must hold at least one frame")
    if height == 0 or width == 0 or height % 8 or width % 8:
        raise ValueError(f"frame sides must be positive multiples of 8, got {height} x {width}")
    data = np.ascontiguousarray(frames, dtype=want)
    if bits not in (8, 16):
        peak = int(data.max())
        if peak >= 1 << bits:
            raise ValueError(f"frames hold a sample of {peak}, which does not fit in {bits} bits")
    return data
