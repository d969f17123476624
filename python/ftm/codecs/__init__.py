"""Codecs: what turns a tensor into the payload of a stream record, and back.

- :mod:`~ftm.codecs.tensor_codec`: the interface every codec of a record kind implements;
- :mod:`~ftm.codecs.video_maps`: feature maps through a video codec (``FeatureKind : map``);
- :mod:`~ftm.codecs.sq_vectors`: feature vectors, scalar-quantized and level-coded
  (``FeatureKind : vector``);
- :mod:`~ftm.codecs.learned`: feature vectors through a trained model of seed 001
  (SQ-E, PRO, PRO-E, PQ, OPQ; ``FeatureKind : learned``);
- :mod:`~ftm.codecs.video`: the video back ends (x265 through ffmpeg, x265, HM;
  ffmpeg, HM and libde265 decoders).

:data:`CODECS` is the registry the stream layer dispatches on: the single
source of the ``FeatureKind`` names. A new codec is one :class:`TensorCodec`
subclass in its own module, added here (and its record syntax to
conformance/SPEC.md).

The names of :mod:`ftm.codecs.video` (``make_encoder``, ``CodecError``, ...)
were reachable here before 0.2 and still are, as deprecated aliases, for one
release: import them from :mod:`ftm.codecs.video`.
"""

from __future__ import annotations

import warnings
from typing import Dict, Type

from ftm._core import bitstream as container
from ftm.codecs.images import ImageCodec
from ftm.codecs.learned import LearnedCodec
from ftm.codecs.options import DecodeOptions
from ftm.codecs.sq_vectors import VectorCodec
from ftm.codecs.tensor_codec import CodedTensor, DecodedTensor, TensorCodec
from ftm.codecs.video_maps import MapCodec
from ftm.errors import BitstreamError, ConfigError

__all__ = ["CODECS", "CodedTensor", "DecodeOptions", "DecodedTensor", "TensorCodec", "codec_for_kind", "codec_named"]

CODECS: Dict[str, Type[TensorCodec]] = {cls.name: cls for cls in (MapCodec, VectorCodec, LearnedCodec, ImageCodec)}


def codec_named(name: str) -> Type[TensorCodec]:
    """The codec class of a ``FeatureKind`` name."""
    try:
        return CODECS[name]
    except KeyError:
        raise ConfigError(f"unknown FeatureKind {name!r}; expected one of {', '.join(CODECS)}") from None


def codec_for_kind(kind: "container.FeatureKind") -> Type[TensorCodec]:
    """The codec class of a record kind read from a stream."""
    for cls in CODECS.values():
        if cls.kind == kind:
            return cls
    raise BitstreamError(f"no codec of this FTM decodes records of kind {kind!r}")


_VIDEO_NAMES = (
    "CodecError", "CodecNotFoundError", "DEFAULT_DECODER", "DEFAULT_ENCODER", "DECODERS", "Dec265Decoder",
    "DecodedVideo", "Decoder", "ENCODERS", "EncodedVideo", "Encoder", "FfmpegDecoder", "HMDecoder", "HMEncoder",
    "X265Encoder", "X265FfmpegEncoder", "make_decoder", "make_encoder", "qp_range",
)  # fmt: skip


def __getattr__(name: str):
    if name in _VIDEO_NAMES:
        from ftm.codecs import video

        warnings.warn(
            f"ftm.codecs.{name} is deprecated since FTM 0.2; use ftm.codecs.video.{name}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(video, name)
    raise AttributeError(f"module 'ftm.codecs' has no attribute {name!r}")
