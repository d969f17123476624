"""Verification accuracy (LFW protocol), ROC AUC, EER and query/gallery retrieval, against hand-computed cases."""

import numpy as np
import pytest

from ftm.metrics import VerificationPairs, query_gallery_retrieval, roc_auc_eer, verification, verification_pairs
from ftm.metrics.verification import best_threshold, pair_scores, verification_accuracy

# Two folds of four pairs: (score, same)
FOLD0 = [(0.9, True), (0.8, False), (0.3, True), (0.1, False)]
FOLD1 = [(0.7, True), (0.6, False), (0.5, True), (0.15, False)]


def hand_pairs():
    rows = FOLD0 + FOLD1
    n = len(rows)
    return (np.array([s for s, _ in rows]),
            VerificationPairs(np.arange(n), np.arange(n), np.array([t for _, t in rows]), np.repeat([0, 1], 4)))  # fmt: skip


def test_best_threshold_by_hand():
    # fold 1 alone: candidates -0.85, 0.325, 0.55, 0.65, 1.7 are right 2, 3, 2, 3, 2 times: the first best is 0.325
    threshold, accuracy = best_threshold([s for s, _ in FOLD1], [t for _, t in FOLD1])
    assert threshold == pytest.approx(0.325) and accuracy == 0.75
    assert best_threshold([0.5, 0.5], [True, False]) == (pytest.approx(-0.5), 0.5)


def test_ten_fold_protocol_by_hand():
    scores, pairs = hand_pairs()
    accuracy, std, per_fold, thresholds = verification_accuracy(scores, pairs)
    # fold 0 is tested at fold 1's threshold 0.325: right on 0.9 (same) and 0.1 (different) -> 0.5
    # fold 1 at fold 0's threshold 0.2: wrong only on 0.6 (different) -> 0.75
    np.testing.assert_allclose(thresholds, [0.325, 0.2])
    np.testing.assert_allclose(per_fold, [0.5, 0.75])
    assert accuracy == pytest.approx(0.625) and std == pytest.approx(0.125)


def test_roc_auc_and_eer_by_hand():
    scores, pairs = hand_pairs()
    auc, eer = roc_auc_eer(scores, pairs.same)
    assert auc == pytest.approx(11 / 16)  # 11 of the 16 (same, different) pairs are ordered right
    assert eer == pytest.approx(0.5)  # at threshold 0.6: FPR = FNR = 1/2
    assert roc_auc_eer([0.9, 0.8, 0.2, 0.1], [True, True, False, False]) == (1.0, 0.0)
    # the crossing between two ROC points is interpolated: FNR - FPR goes from 1/2 to -1/2 at (1/2, 1/2)
    auc, eer = roc_auc_eer([0.9, 0.5, 0.6, 0.1], [True, True, False, False])
    assert auc == pytest.approx(0.75) and eer == pytest.approx(0.5)


def test_pairs_follow_the_lfw_protocol():
    labels = np.repeat(np.arange(10), 30)
    pairs = verification_pairs(labels, pairs=600, folds=10, seed=3)
    assert pairs.same.size == 600 and pairs.folds == 10
    for f in range(10):
        in_fold = pairs.fold == f
        assert in_fold.sum() == 60 and pairs.same[in_fold].sum() == 30
    assert np.array_equal(labels[pairs.first] == labels[pairs.second], pairs.same)
    assert np.all(pairs.first != pairs.second)
    unordered = {(min(a, b), max(a, b)) for a, b in zip(pairs.first.tolist(), pairs.second.tolist())}
    assert len(unordered) == 600
    again = verification_pairs(labels, pairs=600, folds=10, seed=3)
    assert np.array_equal(again.first, pairs.first) and np.array_equal(again.second, pairs.second)
    assert not np.array_equal(verification_pairs(labels, 600, 10, seed=4).first, pairs.first)


def test_impossible_pairs_are_refused():
    with pytest.raises(ValueError, match="same-label"):
        verification_pairs(np.arange(10), pairs=20, folds=10)
    with pytest.raises(ValueError, match="folds"):
        verification_pairs(np.zeros(100), pairs=30, folds=10)


def test_verification_of_separable_vectors():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 50)
    x = np.eye(4)[labels] + 0.01 * rng.normal(size=(200, 4))
    pairs = verification_pairs(labels, pairs=200, folds=10)
    result = verification(x, pairs)
    assert result.accuracy == 1.0 and result.auc == 1.0 and result.eer == 0.0
    np.testing.assert_allclose(pair_scores(x, pairs)[pairs.same], 1.0, atol=5e-3)
    assert np.abs(pair_scores(x, pairs)[~pairs.same]).max() < 0.05


def test_query_gallery_retrieval_by_hand():
    x = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1], [1, 0.2], [0.2, 1]])
    labels = np.array([0, 0, 1, 1, 0, 1])
    r = query_gallery_retrieval(x, labels, query_fraction=0.34, seed=0)
    assert (r.queries, r.gallery) == (2, 4)
    assert r.map == 1.0 and r.rank1 == 1.0
    # each vector opposite its class partner (cosine -1), at right angles to the other class (cosine 0): whichever
    # vector of each class is the query, the gallery ranks the other class first and the partner second
    crossed = np.array([[1, 0], [-1, 0], [0, 1], [0, -1]])
    r = query_gallery_retrieval(crossed, np.array([0, 0, 1, 1]), query_fraction=0.5, seed=0)
    assert r.rank1 == 0.0 and r.map == pytest.approx(0.5)
