"""Detection fidelity, seed 002 eq. 4, on plain arrays.

Chen et al., "Lossy Intermediate Deep Learning Feature Compression and
Evaluation", ACM MM 2019, eq. 4. For image i with pristine detections
j = 1..M (box B_p, confidence C_p) and the reconstructed detection matched
to each (box B_r, confidence C_r)::

    F_i = sum_j IoU(B_p, B_r) * relconf_j * C_p  /  sum_j C_p
    relconf = max(0, 1 - (C_p - C_r) / C_p)
    F_detection = mean of F_i over the images that have a pristine detection

(The paper prints "UoI"; it means IoU.)

Decisions where the paper is silent, all applied identically everywhere:
- Boxes are (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1. By default in
  continuous coordinates: area = (x2 - x1) * (y2 - y1), right for the
  normalised boxes of a detector such as ``ssd-mobilenet-v2-coco``.
  ``pixel_inclusive=True`` is the VOC convention of the authors' code for
  pixel boxes: a box covers x2 - x1 + 1 by y2 - y1 + 1 pixels. Two boxes with
  zero union have IoU 0.
- Matching is one-to-one and per class. ``matching="authors"`` (the default)
  is the authors' code: the pristine detections in descending confidence
  (ties: lower index first), each taking the unmatched reconstructed
  detection of its class with the highest IoU (ties: lower index), if that
  IoU is above 0. ``matching="highest-iou"`` is FTM 0.2's rule: among all
  unmatched pairs of a class, the pair with the highest IoU first (ties:
  lower pristine, then reconstructed index). The two differ where a
  confident pristine detection takes the reconstructed box that fits a
  less confident one better (docs/detection.md). No IoU threshold either
  way: a weak overlap is matched and contributes its small IoU.
- A pristine detection left unmatched contributes 0 (its confidence still
  counts in the denominator); unmatched reconstructed detections (false
  positives) do not enter eq. 4.
- relconf is the printed formula, which simplifies to max(0, C_r / C_p): a
  reconstructed detection more confident than the pristine one scores above
  1, so F_i and F_detection can exceed 1. FTM keeps the formula as printed.
- Pristine confidences must be > 0 (eq. 4 divides by them); reconstructed
  confidences must be >= 0.
- An image with no pristine detection has an empty denominator: it is left
  out of the mean and counted in ``DetectionFidelity.skipped`` (the authors'
  code divides by zero there, and its mean over the set becomes NaN). With
  no image left, F_detection is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

__all__ = ["MATCHING", "DetectionFidelity", "Detections", "box_iou", "detections_from_array", "f_detection", "match_detections"]

MATCHING = ("authors", "highest-iou")


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


def box_iou(a, b, pixel_inclusive: bool = False) -> np.ndarray:
    """IoU matrix (len(a) x len(b)) of two sets of (x1, y1, x2, y2) boxes.

    ``pixel_inclusive``: VOC's pixel boxes, x2 - x1 + 1 pixels wide.
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    one = 1.0 if pixel_inclusive else 0.0
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]) + one, 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]) + one, 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0] + one) * (a[:, 3] - a[:, 1] + one)
    area_b = (b[:, 2] - b[:, 0] + one) * (b[:, 3] - b[:, 1] + one)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def _check_matching(matching: str) -> None:
    if matching not in MATCHING:
        raise ValueError(f"matching must be one of {', '.join(MATCHING)}, got {matching!r}")


def _match_highest_iou(iou: np.ndarray, pi: np.ndarray, ri: np.ndarray, matches: list) -> None:
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


def _match_authors(iou: np.ndarray, pi: np.ndarray, ri: np.ndarray, confidences: np.ndarray, matches: list) -> None:
    for p in np.argsort(-confidences[pi], kind="stable"):
        r = int(np.argmax(iou[p]))  # the lowest index among equal IoUs
        best = iou[p, r]
        if best > 0:
            matches.append((int(pi[p]), int(ri[r]), float(best)))
            iou[:, r] = -1.0


def match_detections(
    pristine: Detections, reconstructed: Detections, *, matching: str = "authors", pixel_inclusive: bool = False
) -> List[Tuple[int, int, float]]:
    """One-to-one matches within each class, sorted: (pristine index, reconstructed index, IoU).

    ``matching``: "authors" (pristine in descending confidence, each its best
    remaining match) or "highest-iou" (the best pair of the class first).
    """
    _check_matching(matching)
    matches: List[Tuple[int, int, float]] = []
    for cls in np.unique(pristine.classes):
        pi = np.flatnonzero(pristine.classes == cls)
        ri = np.flatnonzero(reconstructed.classes == cls)
        if ri.size == 0:
            continue
        iou = box_iou(pristine.boxes[pi], reconstructed.boxes[ri], pixel_inclusive)
        if matching == "authors":
            _match_authors(iou, pi, ri, pristine.confidences, matches)
        else:
            _match_highest_iou(iou, pi, ri, matches)
    matches.sort()
    return matches


def image_fidelity(
    pristine: Detections, reconstructed: Detections, *, matching: str = "authors", pixel_inclusive: bool = False
) -> float:
    """F_i of eq. 4 for one image with at least one pristine detection."""
    cp = pristine.confidences
    if len(pristine) == 0:
        raise ValueError("an image with no pristine detection has no detection fidelity")
    if np.any(cp <= 0):
        raise ValueError(f"pristine confidences must be > 0 (eq. 4 divides by them), got {cp.min()}")
    total = 0.0
    for p, r, iou in match_detections(pristine, reconstructed, matching=matching, pixel_inclusive=pixel_inclusive):
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


def f_detection(
    pristine: Sequence[Detections],
    reconstructed: Sequence[Detections],
    *,
    matching: str = "authors",
    pixel_inclusive: bool = False,
) -> DetectionFidelity:
    """Eq. 4 over a list of images, each given as pristine and reconstructed :class:`Detections`.

    ``matching`` and ``pixel_inclusive``: see the module's notes.
    """
    _check_matching(matching)
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
        values.append(image_fidelity(p, r, matching=matching, pixel_inclusive=pixel_inclusive))
    per_image = np.asarray(values, dtype=np.float64)
    mean = float(per_image.mean()) if per_image.size else float("nan")
    return DetectionFidelity(f_detection=mean, per_image=per_image, images=int(per_image.size), skipped=skipped)


def detections_from_array(a, min_score: float = 0.0) -> List[Detections]:
    """Per-image :class:`Detections` from an N x K x 6 array of (x1, y1, x2, y2, score, class) rows.

    A detector's fixed-size output (``ssd-mobilenet-v2-coco``'s ``detections``):
    rows with score <= ``min_score`` (the padding has score 0) are left out.
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 3 or a.shape[2] != 6:
        raise ValueError(f"detections must be N x K x 6 (x1, y1, x2, y2, score, class), got shape {a.shape}")
    out = []
    for rows in a:
        keep = rows[rows[:, 4] > min_score]
        out.append(Detections(keep[:, :4], np.rint(keep[:, 5]).astype(np.int64), keep[:, 4]))
    return out
