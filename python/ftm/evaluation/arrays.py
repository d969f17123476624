"""Own features without a network: the fidelity table from plain arrays and the user's own task outputs.

A user who runs their network elsewhere (another framework, another
machine) gives FTM the pristine and reconstructed features and, for each
task they care about, the outputs of their network from both: logits for
classification, descriptors for retrieval. :func:`evaluate_arrays` computes
what those allow (compression rate and feature error always; each task's
figures when its pair of outputs is given) with the formulas of
:func:`ftm.metrics.task_fidelity`. Nothing here needs torch.

Outputs files (:func:`load_outputs`): ``.npz`` or ``.safetensors`` holding
arrays named ``logits`` (N x K) and/or ``descriptor`` (N x D). Labels
(:func:`load_labels`): ``.npy`` (one per image) or a text file, one label
per line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import numpy as np

from ftm.errors import InputError
from ftm.metrics import original_bytes, task_fidelity

__all__ = ["OUTPUT_NAMES", "evaluate_arrays", "load_labels", "load_outputs"]

OUTPUT_NAMES = ("descriptor", "logits")


def load_outputs(path) -> Dict[str, np.ndarray]:
    """``{"logits": ..., "descriptor": ...}`` (either or both) from a .npz or .safetensors file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"outputs file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        with np.load(p, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
    elif suffix == ".safetensors":
        from ftm._optional import require

        arrays = require("safetensors.numpy", "Reading .safetensors outputs").load_file(str(p))
    else:
        raise InputError(f"{p}: outputs are read from .npz or .safetensors files holding 'logits' and/or 'descriptor'")
    found = {name: arrays[name] for name in OUTPUT_NAMES if name in arrays}
    if not found:
        raise InputError(f"{p}: no array named 'logits' or 'descriptor'; it holds {sorted(arrays)}")
    return found


def load_labels(path) -> np.ndarray:
    """One label per image, from a .npy file or a text file (one per line)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"labels file {str(p)!r} does not exist")
    if p.suffix.lower() == ".npy":
        labels = np.load(p, allow_pickle=False)
    else:
        labels = np.asarray([line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()])
    if labels.ndim != 1:
        raise InputError(f"{p}: labels must be one per image (a 1-D array), got shape {labels.shape}")
    return labels


def evaluate_arrays(
    pristine: np.ndarray,
    reconstructed: np.ndarray,
    *,
    outputs_pristine: Optional[Dict[str, np.ndarray]] = None,
    outputs_reconstructed: Optional[Dict[str, np.ndarray]] = None,
    labels=None,
    compressed_bytes: Optional[int] = None,
    layer: str = "features",
) -> dict:
    """The fidelity table of reconstructed features, from the outputs the user's network gave for both."""
    p, r = np.asarray(pristine), np.asarray(reconstructed)
    if p.shape != r.shape:
        raise InputError(f"reconstructed features must have the pristine shape {p.shape}, got {r.shape}")
    if p.ndim < 1 or p.shape[0] < 1:
        raise InputError(f"features must hold at least one image (N x ...), got shape {p.shape}")
    if not np.all(np.isfinite(r)):
        raise InputError("reconstructed features hold non-finite values")
    op, orr = dict(outputs_pristine or {}), dict(outputs_reconstructed or {})
    if sorted(op) != sorted(orr):
        raise InputError(f"the pristine outputs hold {sorted(op) or 'nothing'} and the reconstructed ones "
                         f"{sorted(orr) or 'nothing'}: each task needs both")  # fmt: skip
    for name in op:
        if op[name].shape[0] != p.shape[0] or orr[name].shape[0] != p.shape[0]:
            raise InputError(f"{name}: {op[name].shape[0]} pristine and {orr[name].shape[0]} reconstructed rows "
                             f"for {p.shape[0]} images")  # fmt: skip
    if labels is not None and len(labels) != p.shape[0]:
        raise InputError(f"{len(labels)} labels for {p.shape[0]} images")
    report = {"model": None, "layer": layer, "feature_shape": list(p.shape[1:])}
    try:
        report.update(
            task_fidelity(
                op.get("logits"), orr.get("logits"), op.get("descriptor"), orr.get("descriptor"),
                labels=labels, compressed_bytes=compressed_bytes, original_bytes=original_bytes(p.shape),
                images=p.shape[0],
            )  # fmt: skip
        )
    except ValueError as exc:  # outputs of the wrong shape: the user's data, not a programming error
        raise InputError(str(exc)) from None
    diff = r.astype(np.float64) - p.astype(np.float64)
    report["feature_mse"] = float(np.mean(diff**2))
    report["feature_max_abs_error"] = float(np.max(np.abs(diff)))
    report["outputs"] = sorted(op)
    return report
