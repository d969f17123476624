"""Detection mAP of reconstructed detections, with the pristine ones as ground truth (pycocotools).

Seed 002 reports eq. 4 only; the mAP says the same thing in the terms
detection papers use: how well the detector on reconstructed features finds
what it found on pristine ones. The pristine detections of each image are
the ground truth (every one, whatever its confidence), the reconstructed
ones the predictions with their scores; COCO's evaluation
(``pycocotools.cocoeval.COCOeval``, the "detect" extra) gives AP averaged
over IoU 0.50:0.95 and AP at IoU 0.50, over every class present in the
pristine detections, at most 100 detections per image. Boxes in any unit
(normalised ones too: COCO's area ranges are not used, only "all").
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Optional, Sequence

from ftm._optional import require
from ftm.metrics.detection import Detections

__all__ = ["DetectionMap", "detection_map"]


@dataclass(frozen=True)
class DetectionMap:
    """AP over IoU 0.50:0.95 (``map``) and at IoU 0.50 (``map50``); None without any pristine detection."""

    map: Optional[float]
    map50: Optional[float]
    ground_truth: int
    predictions: int


def _xywh(box) -> list:
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def detection_map(pristine: Sequence[Detections], reconstructed: Sequence[Detections]) -> DetectionMap:
    """COCO-style mAP of ``reconstructed`` against ``pristine`` as ground truth, image by image."""
    if len(pristine) != len(reconstructed):
        raise ValueError(f"pristine and reconstructed must list the same images, got {len(pristine)} and {len(reconstructed)}")
    coco_mod = require("pycocotools.coco", "Detection mAP", extra="detect")
    cocoeval = require("pycocotools.cocoeval", "Detection mAP", extra="detect")
    images = [{"id": i + 1} for i in range(len(pristine))]
    annotations = []
    for i, dets in enumerate(pristine):
        for box, cls in zip(dets.boxes, dets.classes):
            xywh = _xywh(box)
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(cls), "bbox": xywh,
                                "area": xywh[2] * xywh[3], "iscrowd": 0})  # fmt: skip
    predictions = [
        {"image_id": i + 1, "category_id": int(cls), "bbox": _xywh(box), "score": float(score)}
        for i, dets in enumerate(reconstructed)
        for box, cls, score in zip(dets.boxes, dets.classes, dets.confidences)
    ]
    if not annotations:
        return DetectionMap(None, None, 0, len(predictions))
    if not predictions:
        return DetectionMap(0.0, 0.0, len(annotations), 0)
    classes = sorted({a["category_id"] for a in annotations} | {p["category_id"] for p in predictions})
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        gt = coco_mod.COCO()
        gt.dataset = {"images": images, "annotations": annotations, "categories": [{"id": c} for c in classes]}
        gt.createIndex()
        dt = gt.loadRes(predictions)
        ev = cocoeval.COCOeval(gt, dt, "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return DetectionMap(float(ev.stats[0]), float(ev.stats[1]), len(annotations), len(predictions))
