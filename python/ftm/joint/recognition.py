"""D_f's recognition task (seed 003): verification on pairs by default, or classification by a linear classifier.

Seed 003 scores the feature by face verification on LFW. ``verification``
(the default) follows the learned-codec evaluation: the LFW protocol on
pairs drawn deterministically from the labels (``Pairs`` pairs, ``Folds``
folds, ``PairSeed``). ``classification`` is for sets whose classes are the
task: a linear classifier (scikit-learn's logistic regression on
standardized features) is fitted on the lossless features of half of each
class (chosen with ``PairSeed``) and D_f is its top-1 error on the other
half of the decoded features. The classifier sees only lossless features,
as a deployed recognizer would; fitting it is deterministic, so every job
of a run rebuilds the same one.
"""

from __future__ import annotations

from typing import Callable, Tuple

import numpy as np

from ftm.errors import InputError

__all__ = ["TASKS", "recognition", "split_halves"]

TASKS = ("verification", "classification")
Score = Callable[[np.ndarray], float]  # N x D features -> accuracy in [0, 1]


def split_halves(labels: np.ndarray, seed: int) -> Tuple[np.ndarray, np.ndarray]:
    """(train, test) indices: each class shuffled with ``seed`` and cut in two, the extra one to the test half."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        if len(members) < 2:
            raise InputError(f"classification needs two images of each class to fit and test; class {label} has {len(members)}")
        train.append(members[: len(members) // 2])
        test.append(members[len(members) // 2 :])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def recognition(task: str, labels: np.ndarray, lossless: np.ndarray, pairs: int, folds: int, seed: int) -> Score:
    """The accuracy function of ``task`` for features of the images of ``labels`` (``lossless``: their lossless features)."""
    if task == "verification":
        from ftm.metrics.verification import verification, verification_pairs

        chosen = verification_pairs(labels, pairs, folds, seed)
        return lambda features: float(verification(features, chosen).accuracy)
    if task != "classification":
        raise InputError(f"unknown recognition task {task!r}; expected one of {', '.join(TASKS)}")
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, test = split_halves(labels, seed)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    classifier.fit(lossless[train], labels[train])
    return lambda features: float(classifier.score(np.asarray(features)[test], labels[test]))
