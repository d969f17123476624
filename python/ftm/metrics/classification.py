"""Classification fidelity, seed 002 eq. 2, and two plainer agreement figures.

Eq. 2 as printed::

    F = 1 - 1/(2N) * sum_i Hamming(Y_p^i, Y_r^i) / length(Y_p^i)

with Y one-hot top-1 outputs of length K (the number of classes). Two one-hot
vectors differ in 0 positions when their top-1 classes agree and in exactly 2
when they do not, so ``Hamming / 2`` is the 0/1 disagreement indicator and
``1 - 1/(2N) * sum_i Hamming_i`` is the top-1 agreement rate.

The printed division by ``length`` would shrink every disagreement by K and
confine F to [1 - 1/K, 1] (at least 0.999 for ImageNet), which contradicts
the paper's own Table 3 (0.087 for ResNet pool1 at QP 42). FTM therefore
computes F without that division, i.e. F_classification equals the top-1
agreement, as Table 3 does; ``divide_by_length=True`` gives the formula as
printed, ``1 - (1 - agreement) / K``, for anyone who needs it.

Top-1 ties (several classes with the same highest score) go to the lowest
class index, the rule of ``numpy.argmax``; top-k sets break ties the same way.
"""

from __future__ import annotations

import numpy as np

from ftm.metrics._checks import as_matrix, same_shape

__all__ = ["f_classification", "onehot_top1", "top1_agreement", "topk_overlap", "topk_classes"]


def onehot_top1(scores) -> np.ndarray:
    """One-hot (N x K, uint8) top-1 outputs from scores or logits (N x K)."""
    s = as_matrix("scores", scores)
    out = np.zeros(s.shape, dtype=np.uint8)
    out[np.arange(s.shape[0]), np.argmax(s, axis=1)] = 1
    return out


def _onehot(name: str, y) -> np.ndarray:
    a = np.asarray(y)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D one-hot array (samples x classes), got shape {a.shape}")
    if not np.all((a == 0) | (a == 1)):
        raise ValueError(f"{name} must hold only 0 and 1 (one-hot top-1 outputs); use onehot_top1(scores) first")
    hot = np.count_nonzero(a, axis=1)
    if np.any(hot != 1):
        row = int(np.flatnonzero(hot != 1)[0])
        raise ValueError(f"{name} row {row} has {int(hot[row])} ones; a one-hot row has exactly one")
    return a.astype(np.uint8, copy=False)


def f_classification(y_p, y_r, *, divide_by_length: bool = False) -> float:
    """Eq. 2 from one-hot top-1 outputs (N x K) of the pristine and reconstructed runs.

    Returns the top-1 agreement rate (see the module notes); with
    ``divide_by_length=True`` the formula exactly as printed in the paper.
    """
    p, r = _onehot("y_p", y_p), _onehot("y_r", y_r)
    same_shape("y_p", p, "y_r", r)
    n, k = p.shape
    hamming = int(np.count_nonzero(p != r))
    if divide_by_length:
        return float(1.0 - hamming / k / (2.0 * n))
    # (2N - sum of Hamming) / 2N: a ratio of exact integers, so it rounds exactly like the agreement rate.
    return float((2 * n - hamming) / (2 * n))


def top1_agreement(scores_p, scores_r) -> float:
    """Share of samples whose top-1 class is the same in both runs (scores or logits, N x K)."""
    p, r = as_matrix("scores_p", scores_p), as_matrix("scores_r", scores_r)
    same_shape("scores_p", p, "scores_r", r)
    return float(np.mean(np.argmax(p, axis=1) == np.argmax(r, axis=1)))


def topk_classes(scores, k: int) -> np.ndarray:
    """Indices (N x k) of the k highest scores of each row, best first, ties to the lower index."""
    s = as_matrix("scores", scores)
    if not 1 <= k <= s.shape[1]:
        raise ValueError(f"k must be in [1, {s.shape[1]}] (the number of classes), got {k}")
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def topk_overlap(scores_p, scores_r, k: int = 5) -> float:
    """Mean share of the pristine top-k classes that are also in the reconstructed top-k."""
    p, r = as_matrix("scores_p", scores_p), as_matrix("scores_r", scores_r)
    same_shape("scores_p", p, "scores_r", r)
    tp, tr = topk_classes(p, k), topk_classes(r, k)
    shared = (tp[:, :, None] == tr[:, None, :]).any(axis=2).sum(axis=1)
    return float(np.mean(shared / k))
