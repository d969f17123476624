"""What coding a layer's features costs the machine tasks: run the rest of the network from both.

Given pristine and reconstructed features of one split point, run the rest
of the network from both, compare the task outputs with
:func:`ftm.metrics.task_fidelity` (Chen et al., ACM MM 2019, eq. 1-3) and
return the figures; :func:`format_table` lays them out as ``ftm-eval``
prints them.

The pristine outputs are recomputed from the pristine features by the same
code path and batching as the reconstructed ones, so that uncompressed
features give fidelity exactly 1.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np

from ftm.errors import InputError
from ftm.metrics import original_bytes, task_fidelity

__all__ = ["evaluate_layer", "format_table"]


def evaluate_layer(
    network,
    layer: str,
    pristine: np.ndarray,
    reconstructed: np.ndarray,
    *,
    labels=None,
    compressed_bytes: Optional[int] = None,
    batch_size: int = 32,
    pristine_outputs: Optional[Mapping[str, Optional[np.ndarray]]] = None,
    matching: str = "authors",
    pixel_inclusive: bool = False,
) -> dict:
    """Run the rest of ``network`` from pristine and reconstructed features at ``layer``; the fidelity table.

    ``pristine_outputs`` is ``task_outputs(network, layer, pristine, batch_size)``
    when the caller already has it (several codings of one layer need it
    once); a ``(descriptor, logits)`` pair from ``outputs_from`` is taken too.
    ``matching``, ``pixel_inclusive``: F_detection's options (a detector only).
    """
    from ftm.models.split import task_outputs

    p = np.asarray(pristine)
    r = np.asarray(reconstructed)
    if p.shape != r.shape:
        raise InputError(f"reconstructed features must have the pristine shape {p.shape}, got {r.shape}")
    if not np.all(np.isfinite(r)):
        raise InputError("reconstructed features hold non-finite values")
    if pristine_outputs is None:
        pristine_outputs = task_outputs(network, layer, p, batch_size)
    elif isinstance(pristine_outputs, tuple):
        pristine_outputs = {"descriptor": pristine_outputs[0], "logits": pristine_outputs[1], "detections": None}
    op = pristine_outputs
    orr = task_outputs(network, layer, r.astype(np.float32, copy=False), batch_size)
    report = {"model": network.name, "layer": layer, "feature_shape": list(p.shape[1:])}
    report.update(
        task_fidelity(
            op["logits"], orr["logits"], op["descriptor"], orr["descriptor"], labels=labels,
            compressed_bytes=compressed_bytes, original_bytes=original_bytes(p.shape),
            detections_pristine=op.get("detections"), detections_reconstructed=orr["detections"] if op.get("detections") is not None else None,
            matching=matching, pixel_inclusive=pixel_inclusive,
        )  # fmt: skip
    )
    diff = r.astype(np.float64) - p.astype(np.float64)
    report["feature_mse"] = float(np.mean(diff**2))
    report["feature_max_abs_error"] = float(np.max(np.abs(diff)))
    return report


_COLUMNS = (
    ("Layer", "layer", "{:<10}", 10),
    ("Images", "images", "{:>6d}", 6),
    ("OrigBytes", "original_bytes", "{:>11d}", 11),
    ("CompBytes", "compressed_bytes", "{:>10d}", 10),
    ("CompRate", "compression_rate", "{:>9.6f}", 9),
    ("F_cls", "f_classification", "{:>7.4f}", 7),
    ("Top1", "top1_agreement", "{:>7.4f}", 7),
    ("Top5", "top5_overlap", "{:>7.4f}", 7),
    ("F_ret", "f_retrieval", "{:>7.4f}", 7),
    ("mAP_p", "map_pristine", "{:>7.4f}", 7),
    ("mAP_r", "map_reconstructed", "{:>7.4f}", 7),
    ("F_det", "f_detection", "{:>7.4f}", 7),
    ("detmAP", "det_map", "{:>7.4f}", 7),
    ("FeatMSE", "feature_mse", "{:>11.4e}", 11),
)
_CLASSIFIER_KEYS = ("f_classification", "top1_agreement", "top5_overlap", "f_retrieval", "map_pristine", "map_reconstructed")
_DETECTOR_KEYS = ("f_detection", "det_map")


def _columns(reports: Sequence[dict]) -> list:
    """Every column but the figures of a kind of network none of the reports has (a detector's, a classifier's)."""
    has = lambda keys: any(rep.get(k) is not None for rep in reports for k in keys)  # noqa: E731
    detector, classifier = has(_DETECTOR_KEYS), has(_CLASSIFIER_KEYS)
    drop = set(_DETECTOR_KEYS if not detector else ()) | set(_CLASSIFIER_KEYS if detector and not classifier else ())
    return [c for c in _COLUMNS if c[1] not in drop]


def format_table(reports: Sequence[dict]) -> str:
    """Fixed-width table, one row per report; a missing figure prints as '-'."""
    columns = _columns(reports)
    header = " ".join(f"{title:>{w}}" if i else f"{title:<{w}}" for i, (title, _, _, w) in enumerate(columns))
    rows = [header]
    for rep in reports:
        cells = []
        for i, (_, key, fmt, w) in enumerate(columns):
            value = rep.get(key)
            cells.append(fmt.format(value) if value is not None else (f"{'-':>{w}}" if i else f"{'-':<{w}}"))
        rows.append(" ".join(cells))
    return "\n".join(rows)
