"""Argument checks shared by the metrics: clear errors that name the argument."""

from __future__ import annotations

import numpy as np


def as_matrix(name: str, a, *, finite: bool = True) -> np.ndarray:
    """``a`` as a 2-D float64 array with at least one row and one column."""
    m = np.asarray(a, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x values), got shape {m.shape}")
    if m.shape[0] == 0 or m.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {m.shape}")
    if finite and not np.all(np.isfinite(m)):
        bad = np.argwhere(~np.isfinite(m))[0]
        raise ValueError(f"{name} must be finite, got {m[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
    return m


def same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")
