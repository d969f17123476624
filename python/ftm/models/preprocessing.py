"""What a network expects of its input images, and the function that gives it that.

Preprocessing: crop a square box of a uint8 RGB image, resize it to
``size`` x ``size`` (bilinear, with Gaussian anti-aliasing when shrinking:
``skimage.transform.resize``), then ``(pixel - mean) / std`` per RGB channel
with pixels in [0, 255], as float32 in C x H x W order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np

from ftm._optional import require

__all__ = ["Preprocessing", "preprocess"]


@dataclass(frozen=True)
class Preprocessing:
    """What a model expects: input size and per-channel mean/std in [0, 255] pixel units."""

    size: int
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]

    def as_dict(self) -> dict:
        return {
            "size": self.size,
            "mean": list(self.mean),
            "std": list(self.std),
            "pixel_range": [0, 255],
            "resize": "skimage.transform.resize(order=1, mode='edge', anti_aliasing=True) of a crop",
            "layout": "N x 3 x H x W, RGB, float32",
        }

def preprocess(rgb: np.ndarray, box: Tuple[int, int, int, int], prep: Preprocessing) -> np.ndarray:
    """Crop ``box`` (top, left, height, width) from a uint8 RGB image, resize and normalize: float32 (3 x size x size)."""
    transform = require("skimage.transform", "Image preprocessing")
    top, left, height, width = box
    crop = rgb[top : top + height, left : left + width].astype(np.float64)
    resized = transform.resize(
        crop, (prep.size, prep.size), order=1, mode="edge", anti_aliasing=True, preserve_range=True
    )
    normalized = (resized - np.asarray(prep.mean)) / np.asarray(prep.std)
    return np.ascontiguousarray(normalized.transpose(2, 0, 1), dtype=np.float32)

