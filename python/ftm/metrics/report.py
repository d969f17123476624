"""The fidelity table of one coded layer, from network outputs (numpy only)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ftm.metrics.classification import f_classification, onehot_top1, top1_agreement, topk_overlap
from ftm.metrics.rate import compression_rate
from ftm.metrics.retrieval import f_retrieval

__all__ = ["MIN_RETRIEVAL_IMAGES", "task_fidelity"]

# Leave-one-out retrieval ranks N - 1 references: with fewer than 2 there is no order to compare.
MIN_RETRIEVAL_IMAGES = 3


def task_fidelity(
    logits_pristine,
    logits_reconstructed,
    descriptor_pristine,
    descriptor_reconstructed,
    *,
    labels=None,
    compressed_bytes: Optional[int] = None,
    original_bytes: Optional[int] = None,
    top_k: int = 5,
) -> dict:
    """Compression rate, F_classification, top-1 agreement, top-k overlap, F_retrieval (and mAP).

    Retrieval is leave-one-out over the N images: each image's descriptor is
    a query against the pristine descriptors of the N - 1 others. It is
    reported as None with fewer than ``MIN_RETRIEVAL_IMAGES`` images. The
    compression rate is None unless both byte counts are given.
    """
    lp, lr = np.asarray(logits_pristine), np.asarray(logits_reconstructed)
    n = lp.shape[0]
    k = min(top_k, lp.shape[1])
    report: dict = {
        "images": int(n),
        "compressed_bytes": None if compressed_bytes is None else int(compressed_bytes),
        "original_bytes": None if original_bytes is None else int(original_bytes),
        "compression_rate": None,
        "f_classification": f_classification(onehot_top1(lp), onehot_top1(lr)),
        "top1_agreement": top1_agreement(lp, lr),
        f"top{k}_overlap": topk_overlap(lp, lr, k),
        "f_retrieval": None,
        "map_pristine": None,
        "map_reconstructed": None,
        "retrieval": None,
    }
    if compressed_bytes is not None and original_bytes is not None:
        report["compression_rate"] = compression_rate(compressed_bytes, int(original_bytes))
    if n >= MIN_RETRIEVAL_IMAGES:
        dp = np.asarray(descriptor_pristine)
        kwargs = {}
        if labels is not None:
            kwargs = dict(query_labels=np.asarray(labels), reference_labels=np.asarray(labels))
        r = f_retrieval(dp, descriptor_reconstructed, dp, exclude=np.arange(n), **kwargs)
        report["f_retrieval"] = r.f_retrieval
        if labels is not None and r.map_queries:
            report["map_pristine"] = r.map_pristine
            report["map_reconstructed"] = r.map_reconstructed
        report["retrieval"] = {"protocol": "leave-one-out", "queries": r.queries, "ranked": r.ranked,
                               "map_queries": r.map_queries}  # fmt: skip
    return report
