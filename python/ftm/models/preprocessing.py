"""What a network expects of its input images, and the function that gives it that.

Preprocessing: crop a square box of a uint8 RGB image, resize it to
``size`` x ``size``, then ``(pixel - mean) / std`` per RGB channel with
pixels in [0, 255], as float32 in C x H x W order. Two resampling filters:

- ``skimage``: ``skimage.transform.resize`` (bilinear, Gaussian anti-aliasing
  when shrinking), what EfficientNet-Lite0's feature sets have always used;
- ``pil-bilinear``: Pillow's bilinear resize (a triangle filter widened when
  shrinking), the filter torchvision's ``Resize`` applies to the PIL images of
  its ImageNet evaluation, used for the torchvision weights of VGG and ResNet.

``resize_size`` is torchvision's name for the shorter side an image is
resized to before the ``size`` x ``size`` centre crop (256 for the classic
ImageNet recipe): the ``centre`` view of :mod:`ftm.extract.images` then takes
``size / resize_size`` of the shorter side. Without it the centre view is
the classic 0.875 (224 / 256).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ftm._optional import require
from ftm.errors import ModelError

__all__ = ["CLASSIC_CENTRE_FRACTION", "RESAMPLE_FILTERS", "Preprocessing", "preprocess"]

CLASSIC_CENTRE_FRACTION = 0.875  # 224 / 256: ImageNet's evaluation crop since AlexNet
RESAMPLE_FILTERS = ("skimage", "pil-bilinear")
_DESCRIPTIONS = {
    "skimage": "skimage.transform.resize(order=1, mode='edge', anti_aliasing=True) of a crop",
    "pil-bilinear": "PIL.Image.resize(BILINEAR) of a crop (torchvision's filter for PIL images)",
}


@dataclass(frozen=True)
class Preprocessing:
    """What a model expects: input size, per-channel mean/std in [0, 255] pixel units, resampling."""

    size: int
    mean: Tuple[float, float, float]
    std: Tuple[float, float, float]
    resize_size: Optional[int] = None  # shorter side before the centre crop (torchvision's resize_size)
    resample: str = "skimage"

    def __post_init__(self) -> None:
        if self.resample not in RESAMPLE_FILTERS:
            raise ModelError(f"preprocessing: resample must be one of {', '.join(RESAMPLE_FILTERS)}, got {self.resample!r}")
        if self.size < 1 or (self.resize_size is not None and self.resize_size < self.size):
            raise ModelError(f"preprocessing: need 1 <= size <= resize_size, got size {self.size}, resize_size {self.resize_size}")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ModelError(f"preprocessing: mean and std need 3 values each (std > 0), got {self.mean}, {self.std}")

    @property
    def centre_fraction(self) -> float:
        """Share of the shorter side the ``centre`` view keeps."""
        return self.size / self.resize_size if self.resize_size else CLASSIC_CENTRE_FRACTION

    def as_dict(self) -> dict:
        out = {
            "size": self.size,
            "mean": list(self.mean),
            "std": list(self.std),
            "pixel_range": [0, 255],
            "resize": _DESCRIPTIONS[self.resample],
            "layout": "N x 3 x H x W, RGB, float32",
        }
        # Only what differs from the defaults, so that EfficientNet-Lite0's manifests stay as they were.
        if self.resample != "skimage":
            out["resample"] = self.resample
        if self.resize_size is not None:
            out["resize_size"] = self.resize_size
        return out

    @classmethod
    def from_dict(cls, d: object, where: str = "preprocessing") -> "Preprocessing":
        """The inverse of :meth:`as_dict`; a ModelError naming the first missing or malformed field."""
        if not isinstance(d, dict):
            raise ModelError(f"{where} must be a dict with size, mean and std, got {type(d).__name__}")
        for key in ("size", "mean", "std"):
            if key not in d:
                raise ModelError(f"{where} is missing the field {key!r} (it needs size, mean and std)")
        try:
            size = int(d["size"])
            mean = tuple(float(v) for v in d["mean"])
            std = tuple(float(v) for v in d["std"])
            resize = d.get("resize_size")
            resize = None if resize is None else int(resize)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"{where}: size and resize_size must be integers, mean and std 3 numbers each ({exc})") from None
        try:
            return cls(size, mean, std, resize, str(d.get("resample", "skimage")))  # type: ignore[arg-type]
        except ModelError as exc:
            raise ModelError(f"{where}: {str(exc).removeprefix('preprocessing: ')}") from None


def _resize(crop: np.ndarray, prep: Preprocessing) -> np.ndarray:
    if prep.resample == "pil-bilinear":
        pil = require("PIL.Image", "Image preprocessing")
        bilinear = getattr(pil, "Resampling", pil).BILINEAR
        image = pil.fromarray(np.ascontiguousarray(crop)).resize((prep.size, prep.size), bilinear)
        return np.asarray(image, dtype=np.float64)
    transform = require("skimage.transform", "Image preprocessing")
    return transform.resize(
        crop.astype(np.float64), (prep.size, prep.size), order=1, mode="edge", anti_aliasing=True, preserve_range=True
    )


def preprocess(rgb: np.ndarray, box: Tuple[int, int, int, int], prep: Preprocessing) -> np.ndarray:
    """Crop ``box`` (top, left, height, width) from a uint8 RGB image, resize and normalize: float32 (3 x size x size)."""
    top, left, height, width = box
    resized = _resize(rgb[top : top + height, left : left + width], prep)
    normalized = (resized - np.asarray(prep.mean)) / np.asarray(prep.std)
    return np.ascontiguousarray(normalized.transpose(2, 0, 1), dtype=np.float32)
