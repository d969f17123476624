"""The fidelity table of one coded layer, from network outputs (numpy only)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ftm.metrics.classification import f_classification, onehot_top1, top1_agreement, topk_overlap
from ftm.metrics.detection import detections_from_array, f_detection
from ftm.metrics.rate import compression_rate
from ftm.metrics.retrieval import f_retrieval

__all__ = ["MIN_RETRIEVAL_IMAGES", "task_fidelity"]

# Leave-one-out retrieval ranks N - 1 references: with fewer than 2 there is no order to compare.
MIN_RETRIEVAL_IMAGES = 3


def _pair(pristine, reconstructed, what: str):
    if (pristine is None) != (reconstructed is None):
        given = "pristine" if reconstructed is None else "reconstructed"
        raise ValueError(f"{what}: the {given} ones are given without the others; give both or neither")
    if pristine is None:
        return None, None
    p, r = np.asarray(pristine), np.asarray(reconstructed)
    if p.ndim != 2 or p.shape != r.shape:
        raise ValueError(f"{what}: pristine and reconstructed must both be N x K, got {p.shape} and {r.shape}")
    return p, r


def _pair_detections(pristine, reconstructed):
    if (pristine is None) != (reconstructed is None):
        given = "pristine" if reconstructed is None else "reconstructed"
        raise ValueError(f"detections: the {given} ones are given without the others; give both or neither")
    if pristine is None:
        return None, None
    p, r = np.asarray(pristine), np.asarray(reconstructed)
    if p.ndim != 3 or p.shape[2] != 6 or r.ndim != 3 or r.shape[0] != p.shape[0] or r.shape[2] != 6:
        raise ValueError(f"detections: pristine and reconstructed must be N x K x 6 for the same N, got {p.shape} and {r.shape}")
    return p, r


def _detection_figures(pristine: np.ndarray, reconstructed: np.ndarray, matching: str, pixel_inclusive: bool) -> dict:
    from ftm.metrics.detection_map import detection_map

    p, r = detections_from_array(pristine), detections_from_array(reconstructed)
    fid = f_detection(p, r, matching=matching, pixel_inclusive=pixel_inclusive)
    m = detection_map(p, r)
    return {
        "f_detection": fid.f_detection if fid.images else None,
        "det_map": m.map,
        "det_map50": m.map50,
        "detection": {"images": fid.images, "skipped": fid.skipped, "matching": matching,
                      "pixel_inclusive": bool(pixel_inclusive), "pristine_detections": m.ground_truth,
                      "reconstructed_detections": m.predictions},
    }  # fmt: skip


def task_fidelity(
    logits_pristine=None,
    logits_reconstructed=None,
    descriptor_pristine=None,
    descriptor_reconstructed=None,
    *,
    labels=None,
    compressed_bytes: Optional[int] = None,
    original_bytes: Optional[int] = None,
    top_k: int = 5,
    images: Optional[int] = None,
    detections_pristine=None,
    detections_reconstructed=None,
    matching: str = "authors",
    pixel_inclusive: bool = False,
) -> dict:
    """Compression rate, F_classification, top-1 agreement, top-k overlap, F_retrieval (and mAP), F_detection.

    Each task needs its pair of outputs, pristine and reconstructed (the
    network's outputs from the pristine and from the reconstructed
    features): logits (N x K) for classification, descriptors (N x D) for
    retrieval. A pair left out (None) leaves that task's figures None, so
    the table holds what the given outputs allow; ``images`` is N when
    neither pair is given.

    Retrieval is leave-one-out over the N images: each image's descriptor is
    a query against the pristine descriptors of the N - 1 others. It is
    reported as None with fewer than ``MIN_RETRIEVAL_IMAGES`` images. The
    compression rate is None unless both byte counts are given.

    Detection needs the detector's N x K x 6 outputs (x1, y1, x2, y2, score,
    class; score-0 rows are padding) from both: F_detection (eq. 4, with
    ``matching`` and ``pixel_inclusive``, :func:`ftm.metrics.f_detection`) and
    the detection mAP of the reconstructed detections against the pristine
    ones (:func:`ftm.metrics.detection_map.detection_map`, pycocotools).
    """
    lp, lr = _pair(logits_pristine, logits_reconstructed, "logits")
    dp, dr = _pair(descriptor_pristine, descriptor_reconstructed, "descriptors")
    xp, xr = _pair_detections(detections_pristine, detections_reconstructed)
    counts = {a.shape[0] for a in (lp, dp, xp) if a is not None} | ({int(images)} if images is not None else set())
    if len(counts) != 1:
        raise ValueError(f"logits, descriptors and images must agree on the number of images, got {sorted(counts)} "
                         "(or give images when there are no outputs)")  # fmt: skip
    (n,) = counts
    k = top_k if lp is None else min(top_k, lp.shape[1])
    report: dict = {
        "images": int(n),
        "compressed_bytes": None if compressed_bytes is None else int(compressed_bytes),
        "original_bytes": None if original_bytes is None else int(original_bytes),
        "compression_rate": None,
        "f_classification": None if lp is None else f_classification(onehot_top1(lp), onehot_top1(lr)),
        "top1_agreement": None if lp is None else top1_agreement(lp, lr),
        f"top{k}_overlap": None if lp is None else topk_overlap(lp, lr, k),
        "f_retrieval": None,
        "map_pristine": None,
        "map_reconstructed": None,
        "retrieval": None,
        "f_detection": None,
        "det_map": None,
        "det_map50": None,
        "detection": None,
    }
    if xp is not None:
        report.update(_detection_figures(xp, xr, matching, pixel_inclusive))
    if compressed_bytes is not None and original_bytes is not None:
        report["compression_rate"] = compression_rate(compressed_bytes, int(original_bytes))
    if dp is not None and n >= MIN_RETRIEVAL_IMAGES:
        kwargs = {}
        if labels is not None:
            kwargs = dict(query_labels=np.asarray(labels), reference_labels=np.asarray(labels))
        r = f_retrieval(dp, dr, dp, exclude=np.arange(n), **kwargs)
        report["f_retrieval"] = r.f_retrieval
        if labels is not None and r.map_queries:
            report["map_pristine"] = r.map_pristine
            report["map_reconstructed"] = r.map_reconstructed
        report["retrieval"] = {"protocol": "leave-one-out", "queries": r.queries, "ranked": r.ranked,
                               "map_queries": r.map_queries}  # fmt: skip
    return report
