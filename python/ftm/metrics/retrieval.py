"""Retrieval fidelity, seed 002 eq. 3, and mean average precision.

For query i, the reference set is ranked twice by cosine similarity: once to
the query's pristine final descriptor (S_p^i) and once to the descriptor
computed from its reconstructed intermediate feature (S_r^i). The reference
descriptors themselves are pristine in both rankings: as in the paper, only
the queries' features are compressed. Then::

    F_retrieval = 1/N * sum_i bubble_index(S_p^i, S_r^i)

with FTM's bubble index (``ftm.bubble_index``: 1 - swaps / (n(n-1)/2)) over
the whole ranked reference list.

Ranking rules, decided here because the paper does not say:
- Ties in similarity are broken by reference index, lower first (a stable
  sort), in both rankings alike, so equal descriptors give equal rankings.
- A descriptor of all zeros has no direction; its cosine similarity to every
  reference is defined as 0 (so its ranking is the reference order).
- ``exclude`` removes one reference per query from its ranking (the query's
  own image when queries are drawn from the reference set: leave-one-out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ftm.metrics._checks import as_matrix, same_shape
from ftm.kernels.bubble_index import bubble_index_batch

__all__ = [
    "RetrievalFidelity",
    "average_precision",
    "cosine_rankings",
    "cosine_similarity",
    "f_retrieval",
    "mean_average_precision",
]


def _unit_rows(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, norms, out=np.zeros_like(m), where=norms > 0)


def cosine_similarity(queries, references) -> np.ndarray:
    """(Q x M) cosine similarities, 0 where either descriptor is all zeros."""
    q, r = as_matrix("queries", queries), as_matrix("references", references)
    if q.shape[1] != r.shape[1]:
        raise ValueError(
            f"queries and references must have the same descriptor length, got {q.shape[1]} and {r.shape[1]}"
        )
    return _unit_rows(q) @ _unit_rows(r).T


def _exclusions(exclude, q: int, m: int) -> Optional[np.ndarray]:
    if exclude is None:
        return None
    e = np.asarray(exclude)
    if e.shape != (q,) or e.dtype.kind not in "iu":
        raise ValueError(f"exclude must hold one integer reference index per query, shape ({q},), got {e.shape} {e.dtype}")
    if np.any((e < 0) | (e >= m)):
        raise ValueError(f"exclude indices must be in [0, {m - 1}], got {e.min()}..{e.max()}")
    if m < 2:
        raise ValueError("excluding one reference per query needs at least 2 references")
    return e.astype(np.int64)


def cosine_rankings(queries, references, exclude=None) -> np.ndarray:
    """Reference indices ranked by cosine similarity to each query, best first.

    Returns (Q x M) int64, or (Q x M-1) when ``exclude`` drops one reference per query.
    """
    sims = cosine_similarity(queries, references)
    e = _exclusions(exclude, sims.shape[0], sims.shape[1])
    if e is None:
        return np.argsort(-sims, axis=1, kind="stable")
    # Similarities are finite in [-1, 1], so a reference set to -inf ranks strictly last and is cut off.
    sims[np.arange(sims.shape[0]), e] = -np.inf
    return np.argsort(-sims, axis=1, kind="stable")[:, :-1]


def average_precision(relevant) -> float:
    """AP of one ranked list given as booleans (best first); NaN when nothing is relevant."""
    rel = np.asarray(relevant, dtype=bool)
    if rel.ndim != 1:
        raise ValueError(f"relevant must be 1-D, got shape {rel.shape}")
    hits = np.flatnonzero(rel)
    if hits.size == 0:
        return float("nan")
    precision_at_hits = np.arange(1, hits.size + 1) / (hits + 1)
    return float(precision_at_hits.mean())


def mean_average_precision(rankings, query_labels, reference_labels) -> Tuple[float, int]:
    """mAP over the queries that have at least one relevant reference, and their count.

    A reference is relevant to a query when their labels are equal. Returns
    ``(nan, 0)`` when no query has a relevant reference.
    """
    rk = np.asarray(rankings)
    ql, rl = np.asarray(query_labels), np.asarray(reference_labels)
    if rk.ndim != 2:
        raise ValueError(f"rankings must be 2-D (queries x ranked references), got shape {rk.shape}")
    if ql.shape != (rk.shape[0],):
        raise ValueError(f"query_labels must have one label per query ({rk.shape[0]}), got shape {ql.shape}")
    if rl.ndim != 1:
        raise ValueError(f"reference_labels must be 1-D, got shape {rl.shape}")
    relevant = rl[rk] == ql[:, None]
    aps = [average_precision(row) for row in relevant if row.any()]
    if not aps:
        return float("nan"), 0
    return float(np.mean(aps)), len(aps)


@dataclass(frozen=True)
class RetrievalFidelity:
    """Eq. 3 and its parts. mAP fields are NaN (and ``map_queries`` 0) without labels."""

    f_retrieval: float
    per_query: np.ndarray
    queries: int
    ranked: int
    map_pristine: float = float("nan")
    map_reconstructed: float = float("nan")
    map_queries: int = 0


def f_retrieval(
    query_pristine,
    query_reconstructed,
    references,
    *,
    exclude=None,
    query_labels=None,
    reference_labels=None,
) -> RetrievalFidelity:
    """Eq. 3: mean bubble index between pristine and reconstructed rankings of ``references``.

    ``query_pristine`` and ``query_reconstructed`` are (Q x D) final
    descriptors; ``references`` is (M x D). Labels, when both are given, add
    the mAP of each ranking.
    """
    qp = as_matrix("query_pristine", query_pristine)
    qr = as_matrix("query_reconstructed", query_reconstructed)
    same_shape("query_pristine", qp, "query_reconstructed", qr)
    s_p = cosine_rankings(qp, references, exclude)
    s_r = cosine_rankings(qr, references, exclude)
    per_query = bubble_index_batch(s_p, s_r)
    result = dict(f_retrieval=float(np.mean(per_query)), per_query=per_query, queries=qp.shape[0], ranked=s_p.shape[1])
    if (query_labels is None) != (reference_labels is None):
        raise ValueError("give both query_labels and reference_labels for mAP, or neither")
    if query_labels is not None:
        map_p, used = mean_average_precision(s_p, query_labels, reference_labels)
        map_r, _ = mean_average_precision(s_r, query_labels, reference_labels)
        result.update(map_pristine=map_p, map_reconstructed=map_r, map_queries=used)
    return RetrievalFidelity(**result)
