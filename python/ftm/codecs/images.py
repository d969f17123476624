"""Images through HEVC intra: the codec of ``FeatureKind : image`` records (seed 003's texture).

Seed 003 (Li et al.) codes each image's texture with HEVC intra next to its
deep feature. An image record (SPEC.md 3.16) holds N images of one size,
N x C x H x W uint8 with C = 1 (grey) or 3 (RGB): each image is one picture
of an all-intra sequence (every picture an IDR picture, so each image is
coded on its own; one encoder process for the stack). Grey images are
4:0:0 pictures; colour ones are full-range BT.601 YCbCr 4:2:0 pictures
(:mod:`ftm.codecs.video.colour`), decoded back to RGB by an exact integer
process. Pictures are the images padded to multiples of 8 by edge
replication (FTM's packing kernel, as feature frames are), and the decoder
keeps the top-left H x W. The decoded samples are exact on every decoder,
so both checksums of the record cover them.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np

from ftm._core import bitstream as container
from ftm.codecs.options import DecodeOptions
from ftm.codecs.tensor_codec import CodedTensor, DecodeCost, DecodedTensor
from ftm.codecs.video import DECODERS, ENCODERS, HEVC, Decoder, Encoder
from ftm.codecs.video.colour import rgb_to_ycbcr420, ycbcr420_to_rgb
from ftm.codecs.video_maps import MapCodec, VideoPayloadCodec, psnr
from ftm.errors import BitstreamError, ConfigError, InputError
from ftm.kernels.pack import pack

__all__ = ["ImageCodec", "padded_side"]

_GREY, _RGB = 0, 1  # the TXTR box's colour_transform
_HEVC_ID = 0  # the TXTR box's codec_id


def padded_side(side: int) -> int:
    """A picture side: the image's, up to a multiple of 8 (SPEC.md 3.16)."""
    return -(-side // 8) * 8


def _padded(images: np.ndarray) -> np.ndarray:
    """N x C x H x W images edge-padded to multiples of 8, as N x C x Hp x Wp (one packing frame per plane)."""
    n, c = images.shape[:2]
    frames, _ = pack(images)
    return frames.reshape(n, c, *frames.shape[1:])


class ImageCodec(VideoPayloadCodec):
    """N x C x H x W uint8 images (C = 1 or 3) coded all intra by an HEVC encoder back end."""

    name = "image"
    kind = container.FeatureKind.IMAGE
    ndim = 4
    layout = "images must be N x C x H x W uint8 with C = 1 (grey) or 3 (RGB)"
    source_dtypes = (np.dtype(np.uint8),)
    carries_info = True
    progress_unit = "image"
    keys = tuple(k for k in MapCodec.keys if k.name in ("Encoder", "Decoder", "Threads"))

    def __init__(self, encoder: Optional[Encoder], decoder: Decoder, qp: int = 0) -> None:
        self.encoder, self.decoder, self.qp = encoder, decoder, qp

    @classmethod
    def check_config(cls, cfg, at) -> None:
        encoder = ENCODERS[cfg.encoder]
        if encoder.codec != HEVC:
            raise ConfigError(f"{at('encoder')}FeatureKind : image codes HEVC (SPEC.md 3.16); Encoder : {cfg.encoder} "
                              f"writes another codec: use x265-ffmpeg, x265 or hm")  # fmt: skip
        if HEVC not in DECODERS[cfg.decoder].codecs:
            raise ConfigError(f"{at('decoder')}Decoder : {cfg.decoder} does not decode HEVC")
        if not 0 <= cfg.qp <= 51:
            raise ConfigError(f"{at('qp')}QP {cfg.qp} is outside [0, 51], HEVC's range for 8-bit images")

    @classmethod
    def for_encoding(cls, cfg) -> "ImageCodec":
        options = DecodeOptions(decoder=cfg.decoder, hm_dir=cfg.hm_dir)
        return cls(ENCODERS[cfg.encoder].from_config(cfg), DECODERS[cfg.decoder].from_options(options), cfg.qp)

    def encode(self, x: np.ndarray, record: "container.TensorRecord", progress: Optional[Callable[[int, int], None]] = None) -> CodedTensor:
        if self.encoder is None:
            raise RuntimeError("this ImageCodec was set up for decoding only")
        n, c, h, w = x.shape
        if c not in (1, 3) or n == 0 or h == 0 or w == 0:
            raise InputError(f"tensor {record.name!r}: {self.layout}, at least one image of one pixel; got shape {x.shape}")
        pictures = _padded(x)
        step = None if progress is None else (lambda done: progress(done, n))
        if c == 1:
            video = self.encoder.encode(pictures[:, 0], 8, self.qp, step)
        else:
            video = self.encoder.encode_colour(*rgb_to_ycbcr420(pictures), self.qp, step)
        box = container.TextureBox()
        box.colour_transform = _GREY if c == 1 else _RGB
        box.codec_id, box.qp, box.encoder_id, box.payload = _HEVC_ID, self.qp, self.encoder.stream_id, video.bitstream
        record.texture = box
        t0 = time.perf_counter()
        decoded = self.decode(record)
        return CodedTensor(
            codes=decoded.codes, features=decoded.features, encoder_seconds=video.seconds,
            decoder_seconds=decoded.external_seconds, decode_seconds=time.perf_counter() - t0, bit_depth=8,
            frames_psnr=psnr(x, decoded.codes, 8), num_frames=n, frame_shape=pictures.shape[2:],
        )  # fmt: skip

    def decode(self, record: "container.TensorRecord") -> DecodedTensor:
        box = record.texture
        if box is None:
            raise BitstreamError(f"tensor {record.name!r}: an image record without its TXTR box")  # the parser rejects it
        n, c, h, w = record.dims
        hp, wp = padded_side(h), padded_side(w)
        if box.colour_transform == _GREY:
            video = self.decoder.decode(box.payload, n, hp, wp, 8)
            images, seconds = video.frames[:, None, :h, :w], video.seconds
        else:
            luma, chroma, seconds = self.decoder.decode_colour(box.payload, n, hp, wp)
            images = ycbcr420_to_rgb(luma[:, :h, :w], chroma)
        images = np.ascontiguousarray(images, dtype=np.uint8)
        return DecodedTensor(images, images, seconds)

    def decode_cost(self, record: "container.TensorRecord") -> DecodeCost:
        """The pictures a decoder writes (4:2:0 with their chroma), the images, and the colour process's integers."""
        n, c, h, w = (int(d) for d in record.dims)
        samples = n * padded_side(h) * padded_side(w)
        elements = n * c * h * w
        state = 0 if c == 1 else elements * 8 * 2  # int64 planes of the inverse transform
        return DecodeCost(max(elements, samples), int(samples * (1.5 if c == 3 else 1)) + elements, state)
