"""Video back ends: external encoders and decoders behind one interface.

>>> import numpy as np
>>> from ftm.codecs import video
>>> frames = np.zeros((3, 16, 24), np.uint16)            # 3 frames of 10-bit samples
>>> enc = video.make_encoder("x265-ffmpeg", preset="medium")
>>> coded = enc.encode(frames, bits=10, qp=22)
>>> dec = video.make_decoder("ffmpeg")
>>> decoded = dec.decode(coded.bitstream, 3, 16, 24, bits=10)
>>> bool((decoded.frames == frames).all()), coded.coded_bits
(True, 10)

Encoders (``make_encoder(name, **options)``; options in each class's doc):

* ``x265-ffmpeg`` (default): libx265 through imageio-ffmpeg's ffmpeg;
  HEVC at 8, 10 or 12 bits.
* ``x265``: the x265 command-line encoder on PATH; same settings.
* ``hm``: HM's TAppEncoder, from ``hm_dir`` or $FTM_HM_DIR; HEVC at the
  samples' own bit depth (8..16; above 12 needs an HM built for it).
* ``vvenc``: VVC through libvvenc in imageio-ffmpeg's ffmpeg; 8 or 10 bits.
* ``xavs2``: AVS2 through libxavs2 in imageio-ffmpeg's ffmpeg; 8 bits, as the
  luma plane of 4:2:0 pictures.
* ``vtm``: VTM's EncoderApp (VVC reference software), from ``vtm_dir`` or
  $FTM_VTM_DIR; VVC at the samples' own bit depth.

Decoders: ``ffmpeg`` (default: HEVC, VVC, AVS2 through libdavs2), ``hm``
(HEVC), ``vtm`` (VVC), and ``libde265`` (dec265, an HEVC cross-check
decoder that shares no code with the encoders).

Every back end codes the frames unchanged at the smallest bit depth it
supports that holds them, at a fixed QP, all intra by default; with an
intra period above 1, as random access or low delay. Each class's
``qp_limits`` gives its QP range (HEVC: [-6 * (coded_bits - 8), 51]).
"""

from __future__ import annotations

from typing import Callable, Dict, Type

from ftm.codecs.video.base import (
    AVS2,
    CODECS,
    HEVC,
    INTER_CODINGS,
    VVC,
    DecodedVideo,
    Decoder,
    EncodedVideo,
    Encoder,
    qp_range,
)
from ftm.codecs.video.ffmpeg import FfmpegDecoder, X265FfmpegEncoder
from ftm.codecs.video.hm import HMDecoder, HMEncoder
from ftm.codecs.video.libde265 import Dec265Decoder
from ftm.codecs.video.vtm import VTMDecoder, VTMEncoder
from ftm.codecs.video.vvenc import VvencEncoder
from ftm.codecs.video.x265_cli import X265Encoder
from ftm.codecs.video.xavs2 import Xavs2Encoder
from ftm.errors import CodecError, CodecNotFoundError

__all__ = [
    "AVS2",
    "CODECS",
    "CodecError",
    "CodecNotFoundError",
    "DEFAULT_DECODER",
    "DEFAULT_ENCODER",
    "DECODERS",
    "Dec265Decoder",
    "DecodedVideo",
    "Decoder",
    "ENCODERS",
    "EncodedVideo",
    "Encoder",
    "FfmpegDecoder",
    "HMDecoder",
    "HEVC",
    "HMEncoder",
    "INTER_CODINGS",
    "VTMDecoder",
    "VTMEncoder",
    "VVC",
    "VvencEncoder",
    "X265Encoder",
    "X265FfmpegEncoder",
    "Xavs2Encoder",
    "make_decoder",
    "make_encoder",
    "qp_range",
]

# The registries: the single source of back-end names for configs (Encoder,
# Decoder), command lines and --help-keys. A new back end is one class in its
# own module, added here.
ENCODERS: Dict[str, Type[Encoder]] = {
    cls.name: cls for cls in (X265FfmpegEncoder, X265Encoder, HMEncoder, VvencEncoder, Xavs2Encoder, VTMEncoder)
}
DECODERS: Dict[str, Type[Decoder]] = {cls.name: cls for cls in (FfmpegDecoder, HMDecoder, VTMDecoder, Dec265Decoder)}
DEFAULT_ENCODER = X265FfmpegEncoder.name
DEFAULT_DECODER = FfmpegDecoder.name


def _make(kind: str, registry: Dict[str, Callable], name: str, options: dict):
    if name not in registry:
        raise ValueError(f"unknown {kind} {name!r}; expected one of {', '.join(registry)}")
    try:
        return registry[name](**options)
    except TypeError as exc:
        if "unexpected keyword argument" in str(exc):
            raise ValueError(
                f"{kind} {name!r}: {exc}; see help(ftm.codecs.video.{registry[name].__name__})"
            ) from exc
        raise


def make_encoder(name: str = DEFAULT_ENCODER, **options) -> Encoder:
    """The encoder back end ``name`` with its options; unknown names or options are errors."""
    return _make("encoder", ENCODERS, name, options)


def make_decoder(name: str = DEFAULT_DECODER, **options) -> Decoder:
    """The decoder back end ``name`` with its options; unknown names or options are errors."""
    return _make("decoder", DECODERS, name, options)
