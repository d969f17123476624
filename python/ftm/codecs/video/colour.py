"""RGB images as 8-bit 4:2:0 YCbCr pictures and back: the colour process of image records (SPEC.md 3.16).

The transform is JFIF's full-range BT.601 YCbCr, the one of JPEG and of
most still-image work, so that 8-bit RGB maps onto all 256 levels of each
plane. The forward transform and the chroma downsampling (the mean of each
2 x 2 block) are the encoder's choice and informative. The inverse is
normative and exact: integers with 16-bit fixed-point coefficients, the
nearest chroma sample for each luma position, so every decoder outputs the
same bytes.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from ftm.errors import InputError

__all__ = ["rgb_to_ycbcr420", "ycbcr420_to_rgb"]

# JFIF's forward matrix (rows Y, Cb, Cr; Cb and Cr about 128)
_FORWARD = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
# The inverse's coefficients times 2^16, rounded (SPEC.md 3.16): 1.402, 0.344136, 0.714136, 1.772
_CR_TO_R, _CB_TO_G, _CR_TO_G, _CB_TO_B = 91881, 22554, 46802, 116130


def rgb_to_ycbcr420(rgb: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """N x 3 x H x W uint8 RGB (H, W even) as luma N x H x W and chroma N x 2 x H/2 x W/2 (Cb, Cr), uint8."""
    if rgb.ndim != 4 or rgb.shape[1] != 3 or rgb.dtype != np.uint8:
        raise InputError(f"expected N x 3 x H x W uint8 RGB images, got {rgb.dtype} {rgb.shape}")
    n, _, h, w = rgb.shape
    if h % 2 or w % 2:
        raise InputError(f"4:2:0 pictures need even sides, got {w} x {h}")
    ycc = np.einsum("kc,nchw->nkhw", _FORWARD, rgb.astype(np.float64))
    ycc[:, 1:] += 128.0
    luma = np.clip(np.rint(ycc[:, 0]), 0, 255).astype(np.uint8)
    blocks = ycc[:, 1:].reshape(n, 2, h // 2, 2, w // 2, 2).mean(axis=(3, 5))
    chroma = np.clip(np.rint(blocks), 0, 255).astype(np.uint8)
    return luma, chroma


def ycbcr420_to_rgb(luma: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """The normative inverse: luma N x H x W and chroma N x 2 x ceil(H/2) x ceil(W/2) uint8 to N x 3 x H x W uint8."""
    n, h, w = luma.shape
    if chroma.shape[:2] != (n, 2) or chroma.shape[2] * 2 < h or chroma.shape[3] * 2 < w:
        raise InputError(f"chroma planes {chroma.shape} do not cover luma {luma.shape} at 4:2:0")
    # the chroma sample of each luma position (y >> 1, x >> 1): no filter, so nothing is left to a decoder's choice
    near = chroma.repeat(2, axis=2).repeat(2, axis=3)[:, :, :h, :w].astype(np.int64) - 128
    y = luma.astype(np.int64) << 16
    db, dr = near[:, 0], near[:, 1]
    half = 1 << 15
    r = (y + _CR_TO_R * dr + half) >> 16  # >> on int64 is the floor division of the spec
    g = (y - _CB_TO_G * db - _CR_TO_G * dr + half) >> 16
    b = (y + _CB_TO_B * db + half) >> 16
    return np.clip(np.stack([r, g, b], axis=1), 0, 255).astype(np.uint8)
