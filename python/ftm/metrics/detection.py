"""Detection fidelity, seed 002 eq. 4, on plain arrays (no detector ships with FTM).

For image i with pristine detections j = 1..M (box B_p, confidence C_p) and
the reconstructed detection matched to each (box B_r, confidence C_r)::

    F_i = sum_j IoU(B_p, B_r) * relconf_j * C_p  /  sum_j C_p
    relconf = max(0, 1 - (C_p - C_r) / C_p)
    F_detection = mean of F_i over the images that have a pristine detection

(The paper prints "UoI"; it means IoU.)

Decisions where the paper is silent, all applied identically everywhere:
- Boxes are (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1, in continuous
  coordinates: area = (x2 - x1) * (y2 - y1), no "+1" pixel convention. Two
  boxes with zero union have IoU 0.
- Matching is one-to-one and per class: among the unmatched pristine and
  reconstructed detections of the same class, the pair with the highest IoU
  is matched first, then the next, until no remaining pair overlaps. Ties go
  to the lower pristine index, then the lower reconstructed index. No IoU
  threshold: a weak overlap is matched and contributes its small IoU.
- A pristine detection left unmatched contributes 0 (its confidence still
  counts in the denominator); unmatched reconstructed detections (false
  positives) do not enter eq. 4.
- relconf is the printed formula, which simplifies to max(0, C_r / C_p): a
  reconstructed detection more confident than the pristine one scores above
  1, so F_i and F_detection can exceed 1. FTM keeps the formula as printed.
- Pristine confidences must be > 0 (eq. 4 divides by them); reconstructed
  confidences must be >= 0.
- An image with no pristine detection has an empty denominator: it is left
  out of the mean and counted in ``DetectionFidelity.skipped``. With no image
  left, F_detection is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

__all__ = ["DetectionFidelity", "Detections", "box_iou", "f_detection", "match_detections"]


@dataclass(frozen=True)
class Detections:
    """Detections of one image: boxes (K x 4: x1, y1, x2, y2), classes (K,), confidences (K,)."""

    boxes: np.ndarray
    classes: np.ndarray
    confidences: np.ndarray

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float64)
        if boxes.size == 0:
            boxes = boxes.reshape(0, 4)
        classes = np.asarray(self.classes)
        conf = np.asarray(self.confidences, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"boxes must be K x 4 (x1, y1, x2, y2), got shape {boxes.shape}")
        k = boxes.shape[0]
        if classes.shape != (k,) or conf.shape != (k,):
            raise ValueError(
                f"classes and confidences must have one entry per box ({k}), got shapes {classes.shape} and {conf.shape}"
            )
        if classes.size and classes.dtype.kind not in "iu":
            raise ValueError(f"classes must be integers, got dtype {classes.dtype}")
        if not (np.all(np.isfinite(boxes)) and np.all(np.isfinite(conf))):
            raise ValueError("boxes and confidences must be finite")
        if np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1]):
            bad = int(np.flatnonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]))[0])
            raise ValueError(f"box {bad} = {boxes[bad].tolist()} has x2 < x1 or y2 < y1")
        if np.any(conf < 0):
            raise ValueError(f"confidences must be >= 0, got {conf.min()}")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "classes", classes.astype(np.int64))
        object.__setattr__(self, "confidences", conf)

    def __len__(self) -> int:
        return self.boxes.shape[0]


def box_iou(a, b) -> np.ndarray:
    """IoU matrix (len(a) x len(b)) of two sets of (x1, y1, x2, y2) boxes."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def match_detections(pristine: Detections, reconstructed: Detections) -> List[Tuple[int, int, float]]:
    """Greedy best-IoU one-to-one matches within each class: (pristine index, reconstructed index, IoU)."""
    matches: List[Tuple[int, int, float]] = []
    for cls in np.unique(pristine.classes):
        pi = np.flatnonzero(pristine.classes == cls)
        ri = np.flatnonzero(reconstructed.classes == cls)
        if ri.size == 0:
            continue
        iou = box_iou(pristine.boxes[pi], reconstructed.boxes[ri])
        while True:
            # Row-major argmax takes the lowest pristine, then reconstructed, index among equal IoUs.
            flat = int(np.argmax(iou))
            p, r = divmod(flat, iou.shape[1])
            best = iou[p, r]
            if not best > 0:
                break
            matches.append((int(pi[p]), int(ri[r]), float(best)))
            iou[p, :] = -1.0
            iou[:, r] = -1.0
    matches.sort()
    return matches


def image_fidelity(pristine: Detections, reconstructed: Detections) -> float:
    """F_i of eq. 4 for one image with at least one pristine detection."""
    cp = pristine.confidences
    if len(pristine) == 0:
        raise ValueError("an image with no pristine detection has no detection fidelity")
    if np.any(cp <= 0):
        raise ValueError(f"pristine confidences must be > 0 (eq. 4 divides by them), got {cp.min()}")
    total = 0.0
    for p, r, iou in match_detections(pristine, reconstructed):
        c_p, c_r = cp[p], reconstructed.confidences[r]
        relconf = max(0.0, 1.0 - (c_p - c_r) / c_p)
        total += iou * relconf * c_p
    return float(total / cp.sum())


@dataclass(frozen=True)
class DetectionFidelity:
    """Eq. 4: the mean, per-image values (images with a pristine detection), and the count left out."""

    f_detection: float
    per_image: np.ndarray
    images: int
    skipped: int


def f_detection(pristine: Sequence[Detections], reconstructed: Sequence[Detections]) -> DetectionFidelity:
    """Eq. 4 over a list of images, each given as pristine and reconstructed :class:`Detections`."""
    if len(pristine) != len(reconstructed):
        raise ValueError(
            f"pristine and reconstructed must list the same images, got {len(pristine)} and {len(reconstructed)}"
        )
    values = []
    skipped = 0
    for i, (p, r) in enumerate(zip(pristine, reconstructed)):
        if not isinstance(p, Detections) or not isinstance(r, Detections):
            raise TypeError(f"image {i}: expected Detections, got {type(p).__name__} and {type(r).__name__}")
        if len(p) == 0:
            skipped += 1
            continue
        values.append(image_fidelity(p, r))
    per_image = np.asarray(values, dtype=np.float64)
    mean = float(per_image.mean()) if per_image.size else float("nan")
    return DetectionFidelity(f_detection=mean, per_image=per_image, images=int(per_image.size), skipped=skipped)
