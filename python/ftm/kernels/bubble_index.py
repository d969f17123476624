"""Bubble index of seed 002 (eq. 3, Algorithm 1) between two rankings.

``bubble_index(S_p, S_r) = 1 - swaps / (n (n - 1) / 2)``, where swaps is the
number of swaps bubble sort makes to bring S_r into S_p's order, i.e. the
inversion count, computed in C++ in O(n log n). It equals
``(Kendall tau + 1) / 2`` and is 1.0 for n < 2.

Algorithm 1 as printed in the paper returns ``swaps / total``, a
dissimilarity. Eq. 3 and Table 3 treat the bubble index as a similarity near
1, and the authors' published code returns ``1 - swaps / total``: FTM returns
that similarity.

Rankings hold document ids: integers, or any values numpy can sort (strings,
say), which are mapped to integer codes first.
"""

from __future__ import annotations

from typing import Tuple, Union

import numpy as np

from ftm._core import bubble_index as native

__all__ = ["bubble_index", "bubble_index_batch", "inversion_count"]


def _ids(s_p: np.ndarray, s_r: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    p, r = np.asarray(s_p), np.asarray(s_r)
    if p.shape != r.shape:
        raise ValueError(f"s_p and s_r must have the same shape, got {p.shape} and {r.shape}")
    fits = lambda a: a.dtype.kind == "i" or (a.dtype.kind == "u" and a.dtype.itemsize < 8)  # noqa: E731
    if fits(p) and fits(r):
        return p.astype(np.int64, copy=False), r.astype(np.int64, copy=False)
    # Other ids (strings, uint64, ...) become their index among the sorted distinct values.
    _, codes = np.unique(np.concatenate([p.reshape(-1), r.reshape(-1)]), return_inverse=True)
    codes = codes.astype(np.int64).reshape(2, *p.shape)
    return codes[0], codes[1]


def bubble_index(s_p: np.ndarray, s_r: np.ndarray) -> float:
    """Similarity in [0, 1] of ranking ``s_r`` to the pristine ranking ``s_p``."""
    p, r = _ids(s_p, s_r)
    return float(native.bubble_index(p, r))


def bubble_index_batch(P: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Bubble index of each row pair of two (queries x n) arrays, on all cores."""
    p, r = _ids(P, R)
    return native.bubble_index_batch(p, r)


def inversion_count(s_p: np.ndarray, s_r: np.ndarray) -> Union[int, np.ndarray]:
    """Swaps bubble sort makes to bring ``s_r`` into ``s_p``'s order.

    1-D rankings give an int; (queries x n) arrays give one count per row.
    """
    p, r = _ids(s_p, s_r)
    if p.ndim == 2:
        return native.inversion_count_batch(p, r)
    return int(native.inversion_count(p, r))
