"""Bubble index against Algorithm 1 of seed 002 and against Kendall's tau."""

import numpy as np
import pytest
from scipy.stats import kendalltau

import ftm


def algorithm1(s_p, s_r):
    """Algorithm 1 transcribed, returning the similarity 1 - swaps / total that eq. 3 uses."""
    s_p = list(s_p)
    ordered = [s_p.index(e) for e in s_r]
    swaps = total = 0
    for i in range(len(ordered) - 1):
        for j in range(len(ordered) - i - 1):
            total += 1
            if ordered[j] > ordered[j + 1]:
                swaps += 1
                ordered[j], ordered[j + 1] = ordered[j + 1], ordered[j]
    return (1.0 - swaps / total if total else 1.0), swaps


@pytest.mark.parametrize("n", [2, 3, 10, 17, 64, 150])
def test_matches_algorithm1(n):
    rng = np.random.default_rng(n)
    for _ in range(5):
        s_p = rng.choice(10 * n, size=n, replace=False)
        s_r = s_p.copy()
        rng.shuffle(s_r[: rng.integers(1, n + 1)])
        want, swaps = algorithm1(s_p, s_r)
        assert ftm.bubble_index(s_p, s_r) == pytest.approx(want, abs=1e-15)
        assert ftm.inversion_count(s_p, s_r) == swaps


def test_equals_kendall_tau_on_random_permutations():
    rng = np.random.default_rng(0)
    for n in (5, 100, 5000):
        s_p, s_r = rng.permutation(n), rng.permutation(n)
        # Kendall's tau between the two rank vectors of each document.
        rank_p, rank_r = np.argsort(s_p), np.argsort(s_r)
        tau = kendalltau(rank_p, rank_r).statistic
        assert ftm.bubble_index(s_p, s_r) == pytest.approx((tau + 1) / 2, abs=1e-12)


def test_identity_is_one_and_reversal_is_zero():
    s_p = np.random.default_rng(1).permutation(1000)
    assert ftm.bubble_index(s_p, s_p) == 1.0
    assert ftm.bubble_index(s_p, s_p[::-1]) == 0.0
    assert ftm.inversion_count(s_p, s_p[::-1]) == 1000 * 999 // 2


@pytest.mark.parametrize("n", [0, 1])
def test_short_rankings_are_identical(n):
    assert ftm.bubble_index(np.arange(n), np.arange(n)) == 1.0


def test_non_integer_ids():
    assert ftm.bubble_index(["a", "b", "c"], ["a", "b", "c"]) == 1.0
    assert ftm.bubble_index(["a", "b", "c"], ["c", "b", "a"]) == 0.0
    assert ftm.inversion_count(np.array([2**63 + 5, 1], dtype=np.uint64), np.array([1, 2**63 + 5], dtype=np.uint64)) == 1


def test_batch_matches_single_calls():
    rng = np.random.default_rng(2)
    P = np.stack([rng.permutation(300) for _ in range(40)])
    R = np.stack([rng.permutation(300) for _ in range(40)])
    R[::3] = P[::3]
    want = [ftm.bubble_index(p, r) for p, r in zip(P, R)]
    np.testing.assert_array_equal(ftm.bubble_index_batch(P, R), want)
    np.testing.assert_array_equal(ftm.inversion_count(P, R), [ftm.inversion_count(p, r) for p, r in zip(P, R)])


@pytest.mark.parametrize(
    "s_p, s_r, match",
    [
        ([1, 2, 3], [1, 2, 2], "element 2 occurs twice in s_r"),
        ([1, 2, 3], [1, 2, 4], "element 4 at position 2 of s_r does not occur in s_p"),
        ([1, 1, 3], [1, 3, 1], "s_p is not a ranking: element 1"),
        ([1, 2, 3], [1, 2], "same shape"),
        (["x", "y"], ["x", "z"], "not a permutation"),
    ],
)
def test_non_permutations_are_named(s_p, s_r, match):
    with pytest.raises(ValueError, match=match):
        ftm.bubble_index(s_p, s_r)


def test_batch_names_the_bad_query():
    P = np.tile(np.arange(5), (3, 1))
    R = P.copy()
    R[2, 0] = 1
    with pytest.raises(ValueError, match="query 2: .*element 1 occurs twice"):
        ftm.bubble_index_batch(P, R)
    with pytest.raises(ValueError, match="2 dimensions"):
        ftm.bubble_index_batch(P[0], R[0])


def test_thread_count_setting():
    ftm.set_num_threads(1)
    try:
        assert ftm.num_threads() == 1
    finally:
        ftm.set_num_threads(0)
    with pytest.raises(ValueError, match=">= 0"):
        ftm.set_num_threads(-1)
