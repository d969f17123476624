"""Texture coding for seed 003: grey images coded all intra by an HEVC back end, with rate and MSE.

Seed 003 codes each face image with HEVC intra at QP 22, 27, 32, 37, 42,
47, 51 and measures D_t, the MSE between the original and the
reconstructed 8-bit image. FTM codes a stack of N grey images as N frames
of one all-intra sequence (every frame an IDR picture, so each image is
coded on its own; one process for the stack) through any 4:0:0 video back
end (x265 through the bundled ffmpeg by default, HM when given). FTM's packing
kernel makes the frames (one per image, as one-channel feature maps: padded
to a multiple of 8 by edge replication, so Fashion-MNIST's 28 x 28 images
become 32 x 32) and crops them back after decoding; the MSE is over the original pixels only, the rate is the whole
stream. Colour images (4:2:0) are not coded yet.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Tuple

import numpy as np

from ftm.codecs import video
from ftm.errors import InputError
from ftm.kernels.pack import pack, unpack

__all__ = ["SEED003_QPS", "TextureResult", "code_texture"]

SEED003_QPS: Tuple[int, ...] = (22, 27, 32, 37, 42, 47, 51)


@dataclass(frozen=True)
class TextureResult:
    qp: int
    images: int
    bits: int  # the coded stream's size in bits
    mse: float  # D_t: mean over the images and their original pixels, 8-bit samples
    seconds: float
    encoder_version: str
    reconstruction: np.ndarray = field(repr=False, compare=False)  # N x H x W uint8, cropped

    @property
    def bits_per_pixel(self) -> float:
        h, w = self.reconstruction.shape[1:]
        return self.bits / (self.images * h * w)

    @property
    def psnr(self) -> float:
        return float("inf") if self.mse == 0 else 10.0 * np.log10(255.0**2 / self.mse)


def code_texture(images: np.ndarray, qp: int, encoder: str = "x265-ffmpeg", decoder: str = "ffmpeg", **options) -> TextureResult:
    """Code N x H x W uint8 grey ``images`` all intra at ``qp`` and decode them (``options``: the encoder's)."""
    x = np.asarray(images)
    if x.ndim != 3 or x.dtype != np.uint8:
        raise InputError(f"texture coding takes N x H x W uint8 grey images (colour is not supported yet), got {x.dtype} {x.shape}")
    if x.shape[0] == 0 or min(x.shape[1:]) == 0:
        raise InputError(f"no image to code: shape {x.shape}")
    frames, layout = pack(x[:, None])  # a frame per image, edge-padded to multiples of 8 as feature frames are
    t0 = time.perf_counter()
    coded = video.make_encoder(encoder, **options).encode(frames, bits=8, qp=qp)
    decoded = video.make_decoder(decoder).decode(coded.bitstream, len(frames), frames.shape[1], frames.shape[2], bits=8,
                                                 codec=coded.codec, chroma_format=coded.chroma_format)  # fmt: skip
    seconds = time.perf_counter() - t0
    reconstruction = unpack(decoded.frames, layout)[:, 0]
    mse = float(np.mean((reconstruction.astype(np.float64) - x) ** 2))
    return TextureResult(qp, x.shape[0], 8 * len(coded.bitstream), mse, seconds, coded.encoder_version, reconstruction)
