"""Verification and retrieval accuracy of coded feature vectors (seed 001, Table 1 and Fig. 4/5).

Wang et al. (seed 001) report face-verification accuracy on LFW, and AUC and
EER, against the rate. FTM measures the same on any labelled vectors:

- **Pairs** (:func:`verification_pairs`): the LFW protocol (Huang et al.,
  "Labeled Faces in the Wild", 2007, View 2): 6,000 pairs in 10 folds of 600,
  each fold half same-label, half different-label pairs. FTM draws them
  deterministically from a seeded generator: a same pair is a vector drawn
  uniformly among those whose class has another member and a second one of
  its class; a different pair, two vectors of different classes; no pair
  twice (unordered), no vector with itself.
- **Accuracy** (:func:`verification_accuracy`): the score of a pair is the
  cosine similarity of its two (decoded) vectors. For each fold, the
  threshold with the best accuracy on the other 9 folds (a pair is "same"
  when its score is at least the threshold; among equally good thresholds,
  the lowest, halfway between two observed scores) is tested on the fold;
  the accuracy is the mean over the 10 folds.
- **ROC AUC and EER** (:func:`roc_auc_eer`) over all pairs, from
  scikit-learn's ``roc_curve``; the EER is where the false-negative rate
  equals the false-positive rate, linearly interpolated between the two ROC
  points around the crossing.
- **Retrieval** (:func:`query_gallery_retrieval`): a seeded per-class split
  of the vectors into queries and a gallery; each query ranks the gallery by
  cosine similarity; mAP and rank-1 (the nearest gallery vector has the
  query's label).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

from ftm._optional import require
from ftm.metrics._checks import as_matrix
from ftm.metrics.retrieval import cosine_rankings, mean_average_precision

__all__ = [
    "RetrievalAccuracy",
    "VerificationPairs",
    "VerificationResult",
    "best_threshold",
    "pair_scores",
    "query_gallery_retrieval",
    "roc_auc_eer",
    "verification",
    "verification_accuracy",
    "verification_pairs",
]


@dataclass(frozen=True)
class VerificationPairs:
    """Pairs of row indices, whether each is a same-label pair, and its fold."""

    first: np.ndarray
    second: np.ndarray
    same: np.ndarray
    fold: np.ndarray

    @property
    def folds(self) -> int:
        return int(self.fold.max()) + 1 if self.fold.size else 0


def verification_pairs(labels, pairs: int = 6000, folds: int = 10, seed: int = 0) -> VerificationPairs:
    """``pairs`` pairs in ``folds`` folds, each fold half same-label and half different-label pairs."""
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    if folds < 1 or pairs % (2 * folds):
        raise ValueError(f"pairs ({pairs}) must split into {folds} folds of as many same as different pairs")
    half = pairs // 2
    classes, counts = np.unique(y, return_counts=True)
    same_possible = int(np.sum(counts * (counts - 1) // 2))
    diff_possible = int((y.size * (y.size - 1) - np.sum(counts * (counts - 1))) // 2)
    if same_possible < half or diff_possible < half:
        raise ValueError(f"{y.size} vectors in {classes.size} classes allow {same_possible} same-label and "
                         f"{diff_possible} different-label pairs; {half} of each are needed")  # fmt: skip
    rng = np.random.default_rng(seed)
    members = {c: np.flatnonzero(y == c) for c in classes}
    anchors = np.flatnonzero(np.isin(y, classes[counts > 1]))

    def draw(same: bool) -> List[Tuple[int, int]]:
        seen, out = set(), []
        while len(out) < half:
            if same:
                i = int(anchors[rng.integers(anchors.size)])
                j = int(members[y[i]][rng.integers(members[y[i]].size)])
            else:
                i, j = (int(v) for v in rng.integers(y.size, size=2))
            if i == j or (y[i] == y[j]) != same or (min(i, j), max(i, j)) in seen:
                continue
            seen.add((min(i, j), max(i, j)))
            out.append((i, j))
        return out

    same_pairs, diff_pairs = draw(True), draw(False)
    per = half // folds
    rows = []
    for f in range(folds):
        rows += [(i, j, True, f) for i, j in same_pairs[f * per : (f + 1) * per]]
        rows += [(i, j, False, f) for i, j in diff_pairs[f * per : (f + 1) * per]]
    a = np.array(rows, dtype=np.int64)
    return VerificationPairs(a[:, 0], a[:, 1], a[:, 2].astype(bool), a[:, 3])


def pair_scores(features, pairs: VerificationPairs) -> np.ndarray:
    """Cosine similarity of each pair's two vectors (0 when either is all zeros)."""
    x = as_matrix("features", features)
    norms = np.linalg.norm(x, axis=1)
    unit = np.divide(x, norms[:, None], out=np.zeros_like(x), where=norms[:, None] > 0)
    return np.einsum("ij,ij->i", unit[pairs.first], unit[pairs.second])


def best_threshold(scores, same) -> Tuple[float, float]:
    """(threshold, accuracy): the lowest threshold with the best accuracy of "same when score >= threshold"."""
    s, t = np.asarray(scores, dtype=np.float64), np.asarray(same, dtype=bool)
    if s.size == 0:
        raise ValueError("no pair to choose a threshold on")
    values = np.unique(s)
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1] + 1.0]])
    order = np.argsort(s, kind="stable")
    sorted_scores, sorted_same = s[order], t[order]
    # pairs below a candidate are called different: right ones are the different pairs below plus the same above
    below = np.searchsorted(sorted_scores, candidates, side="left")
    diff_below = np.concatenate([[0], np.cumsum(~sorted_same)])[below]
    same_above = t.sum() - np.concatenate([[0], np.cumsum(sorted_same)])[below]
    correct = diff_below + same_above
    k = int(np.argmax(correct))  # the first maximum: the lowest threshold
    return float(candidates[k]), float(correct[k] / s.size)


def verification_accuracy(scores, pairs: VerificationPairs) -> Tuple[float, float, np.ndarray, np.ndarray]:
    """(mean accuracy, its standard deviation over the folds, per-fold accuracies, per-fold thresholds)."""
    s = np.asarray(scores, dtype=np.float64)
    accuracies, thresholds = [], []
    for f in range(pairs.folds):
        test = pairs.fold == f
        threshold, _ = best_threshold(s[~test], pairs.same[~test])
        accuracies.append(float(np.mean((s[test] >= threshold) == pairs.same[test])))
        thresholds.append(threshold)
    acc = np.array(accuracies)
    return float(acc.mean()), float(acc.std()), acc, np.array(thresholds)


def roc_auc_eer(scores, same) -> Tuple[float, float]:
    """(ROC AUC, EER) of scores where higher means "same", with scikit-learn's ROC."""
    skm = require("sklearn.metrics", "ROC AUC and EER", extra="learned")
    t = np.asarray(same, dtype=bool)
    if t.all() or not t.any():
        raise ValueError("ROC needs both same and different pairs")
    fpr, tpr, _ = skm.roc_curve(t, np.asarray(scores, dtype=np.float64))
    fnr = 1.0 - tpr
    gap = fnr - fpr  # decreases from 1 to -1 along the curve
    k = int(np.flatnonzero(gap <= 0)[0])
    if k == 0 or gap[k] == 0:
        eer = float(fpr[k])
    else:
        w = gap[k - 1] / (gap[k - 1] - gap[k])
        eer = float(fpr[k - 1] + w * (fpr[k] - fpr[k - 1]))
    return float(skm.auc(fpr, tpr)), eer


@dataclass(frozen=True)
class VerificationResult:
    """Accuracy (mean over folds, and its std), ROC AUC and EER of one set of vectors."""

    accuracy: float
    accuracy_std: float
    auc: float
    eer: float
    pairs: int
    folds: int


def verification(features, pairs: VerificationPairs) -> VerificationResult:
    """The LFW-protocol accuracy, AUC and EER of ``features`` on ``pairs``."""
    scores = pair_scores(features, pairs)
    acc, std, _, _ = verification_accuracy(scores, pairs)
    auc, eer = roc_auc_eer(scores, pairs.same)
    return VerificationResult(acc, std, auc, eer, int(pairs.same.size), pairs.folds)


@dataclass(frozen=True)
class RetrievalAccuracy:
    """mAP and rank-1 accuracy of queries against a gallery."""

    map: float
    rank1: float
    queries: int
    gallery: int


def query_gallery_retrieval(features, labels, query_fraction: float = 0.1, seed: int = 0) -> RetrievalAccuracy:
    """Queries (``query_fraction`` of each class, seeded) ranked against the other vectors by cosine similarity."""
    y = np.asarray(labels)
    x = as_matrix("features", features)
    if y.shape != (x.shape[0],):
        raise ValueError(f"need one label per vector ({x.shape[0]}), got shape {y.shape}")
    rng = np.random.default_rng(seed)
    query = np.zeros(y.size, bool)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        query[rng.permutation(rows)[: max(1, int(round(query_fraction * rows.size)))]] = True
    if query.all():
        raise ValueError("no vector is left for the gallery")
    ranks = cosine_rankings(x[query], x[~query])
    m, _ = mean_average_precision(ranks, y[query], y[~query])
    rank1 = float(np.mean(y[~query][ranks[:, 0]] == y[query]))
    return RetrievalAccuracy(m, rank1, int(query.sum()), int((~query).sum()))
