"""The one interface every codec of a record kind implements.

A tensor codec turns a float tensor into the payload boxes of a tensor
record of the .ftm stream, and a record back into a tensor. The stream layer
(:mod:`ftm.stream`) owns everything else of a record (its header, the
checksums, the stream around it) and picks the codec from the registry
(:data:`ftm.codecs.CODECS`) by the configuration's ``FeatureKind`` when
encoding and by the record's kind when decoding, so it never branches on
kinds or back-end names. The shape follows CompressAI's ``CompressionModel``
(``compress(x) -> payload``, ``decompress(payload)``).

    codec = MapCodec.for_encoding(cfg)        # from a codec configuration
    coded = codec.encode(x, record)           # fills record's payload boxes
    decoded = MapCodec.for_decoding(DecodeOptions()).decode(record)

``encode`` returns the integer codes and float features that every decoder
reconstructs from the record (the stream stores their checksums), so an
encoder decodes what it wrote once, with the decoder it was configured with.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Callable, ClassVar, List, Optional, Sequence, Tuple

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.options import DecodeOptions
from ftm.settings import Key

__all__ = ["CodedTensor", "DecodeCost", "DecodedTensor", "FLOAT_DTYPES", "TensorCodec"]

FLOAT_DTYPES = tuple(np.dtype(t) for t in (np.float16, np.float32, np.float64))  # the source dtypes of features


@dataclass(frozen=True)
class DecodedTensor:
    """What a decoder reconstructs from a record."""

    codes: np.ndarray  # the integer tensor (quantized codes or levels): the normative part of the stream
    features: np.ndarray  # the float32 tensor, in the source tensor's shape
    external_seconds: float = 0.0  # inside an external decoder, if one ran


@dataclass(frozen=True)
class DecodeCost:
    """What decoding a record will take, known from its header boxes before anything runs.

    ``elements``: the most elements of one decoded array (the tensor, or the
    frames a video decoder writes); ``output_bytes``: the decoded outputs
    (codes, features, frames); ``state_bytes``: working state beyond them.
    """

    elements: int
    output_bytes: int
    state_bytes: int = 0


@dataclass(frozen=True)
class CodedTensor:
    """One coded tensor: what its decoder will reconstruct, and the figures of coding it."""

    codes: np.ndarray
    features: np.ndarray
    encoder_seconds: float = 0.0  # inside an external encoder
    decoder_seconds: float = 0.0  # inside an external decoder, for the check decode
    decode_seconds: float = 0.0  # the whole check decode
    bit_depth: int = 0  # of the coded samples; 0 when nothing goes through a video codec
    frames_psnr: float = float("nan")  # PSNR (dB) of the decoded codes, peak 2^bit_depth - 1
    num_frames: int = 0
    frame_shape: Tuple[int, int] = (0, 0)


class TensorCodec(abc.ABC):
    """Codes one kind of tensor record.

    Class attributes: ``name`` (the ``FeatureKind`` config value), ``kind``
    (the record kind of the container), ``ndim`` and ``layout`` (the source
    tensor's dimensions and how an error names them), ``keys`` (configuration
    keys that apply to this codec only), ``carries_info`` (whether its
    records carry the encoder's settings as text), ``exact_features``
    (whether its float output is bit-exact on every platform).
    """

    name: ClassVar[str]
    kind: ClassVar["container.FeatureKind"]
    ndim: ClassVar[int]
    layout: ClassVar[str]
    keys: ClassVar[Tuple[Key, ...]] = ()
    carries_info: ClassVar[bool] = False
    # False where the float features depend on the platform's arithmetic (a network's
    # output): the codes are then the only normative part, and their MD5 the only one checked.
    exact_features: ClassVar[bool] = True
    progress_unit: ClassVar[str] = "tensor"  # what encode_batch's progress counts
    # The dtypes of the tensors it codes (uint8 for images; floats for features)
    source_dtypes: ClassVar[Tuple[np.dtype, ...]] = FLOAT_DTYPES

    @classmethod
    @abc.abstractmethod
    def check_config(cls, cfg, at: Callable[[str], str]) -> None:
        """ConfigError for settings of ``cfg`` this codec cannot use together; ``at(field)`` is the "file:line: " of one."""

    @classmethod
    @abc.abstractmethod
    def for_encoding(cls, cfg) -> "TensorCodec":
        """The codec set up from a codec configuration (:class:`ftm.stream.config.Config`)."""

    @classmethod
    @abc.abstractmethod
    def for_decoding(cls, options: DecodeOptions) -> "TensorCodec":
        """The codec set up for decoding records with the user's decoder choices."""

    @abc.abstractmethod
    def encode(
        self, x: np.ndarray, record: "container.TensorRecord", progress: Optional[Callable[[int, int], None]] = None
    ) -> CodedTensor:
        """Code ``x`` (checked: ``ndim`` dimensions, one of ``source_dtypes``) into ``record``'s payload boxes.

        ``progress(done, total)`` hears how far a long encode is (in frames
        for video codecs), when the codec can tell.
        """

    def encode_batch(
        self, xs: Sequence[np.ndarray], records: Sequence["container.TensorRecord"],
        progress: Optional[Callable[[int, int], None]] = None,
    ) -> List[CodedTensor]:  # fmt: skip
        """Code several tensors, each into its record: what :meth:`encode` gives for each.

        A codec may share work between them (one external process, say);
        by default they are coded one by one and ``progress`` counts tensors.
        """
        out = []
        for i, (x, record) in enumerate(zip(xs, records)):
            out.append(self.encode(x, record))
            if progress is not None:
                progress(i + 1, len(xs))
        return out

    @abc.abstractmethod
    def decode(self, record: "container.TensorRecord") -> DecodedTensor:
        """Reconstruct a record of this kind."""

    @abc.abstractmethod
    def decode_cost(self, record: "container.TensorRecord") -> DecodeCost:
        """What :meth:`decode` of ``record`` will hold, for the limits to check before it runs."""

    def decode_batch(self, records: Sequence["container.TensorRecord"]) -> List[DecodedTensor]:
        """:meth:`decode` of each record (a codec may share work between them)."""
        return [self.decode(record) for record in records]

    @abc.abstractmethod
    def describe(self) -> Tuple[str, str]:
        """(name, version) of what codes the payload, for summaries and provenance."""

    def describe_decoder(self) -> Tuple[str, str]:
        """(name, version) of what decodes the payload (by default the same as :meth:`describe`)."""
        return self.describe()
