"""Input images for split inference, entirely offline.

Sources:
- :func:`bundled_photos`: the real photographs that scikit-image,
  scikit-learn and matplotlib ship inside their wheels (no download).
- :func:`folder_photos`: every image file under a folder a user points at
  (ImageNet, VOC, ...). Files directly in the folder have no label; files in
  sub-folders are labelled with their sub-folder's path, so an ImageNet-style
  class-per-folder tree gives labels for mAP.

Views: each photo is seen through square crops (:class:`View`), the first of
which (``centre``, 0.875 of the shorter side) is the usual ImageNet
evaluation crop (resize the shorter side to 256, centre-crop 224). The
default views add four corner crops at 0.6 and a centre crop at 0.5 of the
shorter side: 21 bundled photos x 6 views = 126 distinct 224x224 inputs.
Crop boxes are whole pixels, ``(top, left, size)`` in the source image.

Each crop is preprocessed as its network asks (:mod:`ftm.models.preprocessing`).
Grey images are replicated to three channels; an alpha channel is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ftm._optional import require
from ftm.models.preprocessing import Preprocessing, preprocess

__all__ = [
    "CENTRE_VIEWS",
    "DEFAULT_VIEWS",
    "FULL_VIEWS",
    "IMAGE_SUFFIXES",
    "ImageInput",
    "Photo",
    "View",
    "bundled_photos",
    "detection_photos",
    "balanced_subset",
    "crop_box",
    "folder_photos",
    "preprocessed_batches",
    "to_rgb_uint8",
]


@dataclass(frozen=True)
class View:
    """A square crop: ``fraction`` of the shorter side, placed at ``anchor``; anchor "full": the whole image."""

    name: str
    fraction: float
    anchor: str = "centre"

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction <= 1.0:
            raise ValueError(f"view {self.name!r}: fraction must be in (0, 1], got {self.fraction}")
        if self.anchor not in _ANCHORS:
            raise ValueError(f"view {self.name!r}: anchor must be one of {sorted(_ANCHORS)}, got {self.anchor!r}")


_ANCHORS = {"centre", "top-left", "top-right", "bottom-left", "bottom-right", "full"}

CENTRE_VIEWS: Tuple[View, ...] = (View("centre", 0.875),)
DEFAULT_VIEWS: Tuple[View, ...] = CENTRE_VIEWS + (
    View("top-left-60", 0.6, "top-left"),
    View("top-right-60", 0.6, "top-right"),
    View("bottom-left-60", 0.6, "bottom-left"),
    View("bottom-right-60", 0.6, "bottom-right"),
    View("centre-50", 0.5, "centre"),
)
# The whole image resized to the network's input (its aspect ratio is not kept):
# for images already at the network's size, such as dataset crops.
FULL_VIEWS: Tuple[View, ...] = (View("full", 1.0, "full"),)


@dataclass(frozen=True)
class Photo:
    """A source image: a unique name, an optional label, and how to load it as uint8 RGB (H x W x 3)."""

    name: str
    label: Optional[str]
    load: Callable[[], np.ndarray] = field(compare=False, repr=False)


@dataclass(frozen=True)
class ImageInput:
    """One network input: a photo seen through a view."""

    name: str
    source: str
    label: Optional[str]
    view: str
    box: Tuple[int, int, int, int]  # top, left, height, width in source pixels
    source_shape: Tuple[int, int]

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "source": self.source,
            "label": self.label,
            "view": self.view,
            "box": {"top": self.box[0], "left": self.box[1], "height": self.box[2], "width": self.box[3]},
            "source_shape": list(self.source_shape),
        }


def to_rgb_uint8(image: np.ndarray, what: str = "image") -> np.ndarray:
    a = np.asarray(image)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"{what}: expected H x W, H x W x 3 or H x W x 4, got shape {a.shape}")
    a = a[:, :, :3]
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    if a.dtype.kind == "u":
        return np.ascontiguousarray((a.astype(np.float64) * (255.0 / np.iinfo(a.dtype).max)).round().astype(np.uint8))
    if a.dtype.kind == "b":
        return np.ascontiguousarray(a.astype(np.uint8) * 255)
    raise ValueError(f"{what}: expected an unsigned-integer or boolean image, got dtype {a.dtype}")


def _skimage_photo(func: str, label: Optional[str] = None) -> Photo:
    def load() -> np.ndarray:
        data = require("skimage.data", "The bundled scikit-image photos")
        image = getattr(data, func)()
        if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
            image = image[0]
        return to_rgb_uint8(image, f"skimage.data.{func}")

    return Photo(f"skimage/{func}", label or func, load)


def _sklearn_photo(file: str) -> Photo:
    def load() -> np.ndarray:
        datasets = require("sklearn.datasets", "The bundled scikit-learn photos")
        return to_rgb_uint8(datasets.load_sample_image(file), f"sklearn {file}")

    return Photo(f"sklearn/{Path(file).stem}", Path(file).stem, load)


def _matplotlib_photo(file: str) -> Photo:
    def load() -> np.ndarray:
        cbook = require("matplotlib.cbook", "The bundled matplotlib photos")
        return _read_image_file(Path(cbook.get_sample_data(file, asfileobj=False)))

    return Photo(f"matplotlib/{Path(file).stem}", Path(file).stem, load)


# Real photographs only (no synthetic test patterns); grey ones are kept,
# replicated to RGB, because they are photographs all the same.
_SKIMAGE_PHOTOS = (
    "astronaut", "brick", "camera", "cell", "chelsea", "clock", "coffee", "coins", "grass", "gravel",
    "hubble_deep_field", "immunohistochemistry", "moon", "page", "retina", "rocket", "text",
)  # fmt: skip


def bundled_photos() -> List[Photo]:
    """The 21 real photos that ship with scikit-image, scikit-learn and matplotlib."""
    photos = [_skimage_photo(name) for name in _SKIMAGE_PHOTOS]
    photos.append(_skimage_photo("stereo_motorcycle", "motorcycle"))
    photos += [_sklearn_photo("china.jpg"), _sklearn_photo("flower.jpg")]
    photos.append(_matplotlib_photo("grace_hopper.jpg"))
    return photos


# The bundled photos with objects a COCO detector finds (a person, a cat, cups, a motorcycle, a camera)
DETECTION_PHOTOS = ("skimage/astronaut", "skimage/chelsea", "skimage/coffee", "skimage/stereo_motorcycle", "skimage/camera")


def detection_photos() -> List[Photo]:
    """The bundled detection set: the bundled photos that contain objects (their crops are the views)."""
    by_name = {p.name: p for p in bundled_photos()}
    return [by_name[name] for name in DETECTION_PHOTOS]


IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".jpe"})


def _read_image_file(path: Path) -> np.ndarray:
    pil = require("PIL.Image", "Reading image files")
    with pil.open(path) as im:
        return np.asarray(im.convert("RGB"))


def folder_photos(folder) -> List[Photo]:
    """Every image file under ``folder`` (recursively, sorted by relative path)."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"image folder {str(root)!r} does not exist or is not a folder")
    files = sorted(
        (p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    if not files:
        raise ValueError(f"image folder {str(root)!r} holds no image file ({', '.join(sorted(IMAGE_SUFFIXES))})")
    photos = []
    for p in files:
        rel = p.relative_to(root)
        label = rel.parent.as_posix() if rel.parent != Path(".") else None
        photos.append(Photo(rel.as_posix(), label, lambda p=p: _read_image_file(p)))
    return photos


def balanced_subset(photos: Sequence[Photo], count: int) -> List[Photo]:
    """``count`` photos taken in turn from each label (sub-folder), in the photos' own order.

    With labels a, a, a, b, b and count 3: the first a, the first b, the
    second a. Unlabelled photos form one group of their own.
    """
    if count < 1:
        raise ValueError(f"the number of images must be >= 1, got {count}")
    groups: Dict[Optional[str], List[int]] = {}
    for i, photo in enumerate(photos):
        groups.setdefault(photo.label, []).append(i)
    chosen: List[int] = []
    queues = [list(g) for g in groups.values()]
    while len(chosen) < count and any(queues):
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
    return [photos[i] for i in sorted(chosen)]


def crop_box(height: int, width: int, view: View) -> Tuple[int, int, int, int]:
    """Whole-pixel crop ``(top, left, height, width)`` of a ``height`` x ``width`` image (square but for "full")."""
    if height < 1 or width < 1:
        raise ValueError(f"image must be at least 1x1, got {height}x{width}")
    if view.anchor == "full":
        return 0, 0, height, width
    size = max(1, int(round(view.fraction * min(height, width))))
    bottom, right = height - size, width - size
    top, left = {
        "centre": (bottom // 2, right // 2),
        "top-left": (0, 0),
        "top-right": (0, right),
        "bottom-left": (bottom, 0),
        "bottom-right": (bottom, right),
    }[view.anchor]
    return top, left, size, size


def preprocessed_batches(
    photos: Sequence[Photo], views: Sequence[View], prep: Preprocessing, batch_size: int
) -> Iterator[Tuple[List[ImageInput], np.ndarray]]:
    """Yield (inputs, N x 3 x size x size float32) batches, loading each photo once."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    view_by_name = {v.name: v for v in views}
    if not views or len(view_by_name) != len(views):
        raise ValueError(f"views must be a non-empty list of distinct names, got {[v.name for v in views]}")
    pending_meta: List[ImageInput] = []
    pending: List[np.ndarray] = []
    for photo in photos:
        rgb = to_rgb_uint8(photo.load(), photo.name)
        h, w = rgb.shape[:2]
        for view in view_by_name.values():
            box = crop_box(h, w, view)
            pending_meta.append(ImageInput(f"{photo.name}@{view.name}", photo.name, photo.label, view.name, box, (h, w)))
            pending.append(preprocess(rgb, box, prep))
            if len(pending) == batch_size:
                yield pending_meta, np.stack(pending)
                pending_meta, pending = [], []
    if pending:
        yield pending_meta, np.stack(pending)
