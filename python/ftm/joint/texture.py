"""Texture coding for seed 003: images coded all intra as an image record of a .ftm stream, with rate and MSE.

Seed 003 codes each face image with HEVC intra at QP 22, 27, 32, 37, 42,
47, 51 and measures D_t, the MSE between the original and the
reconstructed 8-bit image. FTM codes a stack of N images of one size as one
image record (``FeatureKind : image``, :mod:`ftm.codecs.images`, SPEC.md
3.16): N pictures of one all-intra sequence (every picture an IDR picture,
so each image is coded on its own), 4:0:0 for grey images, 4:2:0 YCbCr for
colour ones, through an HEVC back end (x265 through the bundled ffmpeg by
default, or HM when given). The pictures are the images
padded to multiples of 8 by edge replication (Fashion-MNIST's 28 x 28
become 32 x 32); the MSE is over the original pixels (and, for colour, the
three RGB channels) only; the rate is every byte of the record.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Tuple

import numpy as np

from ftm.errors import InputError

__all__ = ["SEED003_QPS", "TextureResult", "as_planes", "code_texture"]

SEED003_QPS: Tuple[int, ...] = (22, 27, 32, 37, 42, 47, 51)


@dataclass(frozen=True)
class TextureResult:
    qp: int
    images: int
    bits: int  # the image record's size in bits
    mse: float  # D_t: mean over the images, their original pixels and channels, 8-bit samples
    seconds: float
    encoder_version: str
    reconstruction: np.ndarray = field(repr=False, compare=False)  # as the images were given, uint8
    stream: bytes = field(default=b"", repr=False, compare=False)  # the .ftm stream of the image record

    @property
    def bits_per_pixel(self) -> float:
        h, w = self.reconstruction.shape[1:3]
        return self.bits / (self.images * h * w)

    @property
    def psnr(self) -> float:
        return float("inf") if self.mse == 0 else 10.0 * np.log10(255.0**2 / self.mse)


def as_planes(images: np.ndarray) -> np.ndarray:
    """N x H x W grey or N x H x W x 3 RGB uint8 images as the N x C x H x W of an image record."""
    x = np.asarray(images)
    if x.dtype != np.uint8 or not (x.ndim == 3 or (x.ndim == 4 and x.shape[3] == 3)):
        raise InputError(f"texture coding takes N x H x W grey or N x H x W x 3 RGB uint8 images, got {x.dtype} {x.shape}")
    if x.shape[0] == 0 or min(x.shape[1:3]) == 0:
        raise InputError(f"no image to code: shape {x.shape}")
    return x[:, None] if x.ndim == 3 else np.ascontiguousarray(np.moveaxis(x, 3, 1))


def code_texture(images: np.ndarray, qp: int, encoder: str = "x265-ffmpeg", decoder: str = "ffmpeg", hm_dir: str = "") -> TextureResult:
    """Code N x H x W (grey) or N x H x W x 3 (RGB) uint8 ``images`` all intra at ``qp`` into an image record, and decode it."""
    from ftm.stream.coding import encode_tensors
    from ftm.stream.config import Config

    planes = as_planes(images)
    keys = {"FeatureKind": "image", "QP": str(qp), "Encoder": encoder, "Decoder": decoder}
    if hm_dir:
        keys["HmDir"] = hm_dir
    cfg = Config.from_values(keys, "the texture's settings")
    t0 = time.perf_counter()
    coded = encode_tensors({"image": planes}, cfg, progress=False)
    seconds = time.perf_counter() - t0
    decoded = coded.reconstruction["image"]
    reconstruction = decoded[:, 0] if images.ndim == 3 else np.moveaxis(decoded, 1, 3)
    report = coded.tensors[0]
    return TextureResult(qp, planes.shape[0], 8 * report.record_bytes, report.mse, seconds, coded.encoder[1],
                         np.ascontiguousarray(reconstruction), coded.data)  # fmt: skip
