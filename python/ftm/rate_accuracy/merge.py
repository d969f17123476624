"""Finished rate-accuracy sweeps of one labelled set and one pair protocol, as one report.

    result = merge_sweeps(["out-pro/results.json", "out-opq/results.json"])

Why: on 2 cores a 40-epoch PRO sweep takes hours and OPQ at 8 bits per
dimension an hour more, so seed 001's six columns are often measured by
separate runs, on separate days or machines. Merging is safe only when the
runs evaluate the same way and each method's points were made the same way,
so this checks, before anything is written:

- the labelled set (digest, test split, dimensions, SQ's scale, feature head)
  and the evaluation (pairs, folds, pair seed, query fraction) are the same
  in every run, and so is the uncompressed reference they measured;
- a method whose points come from several runs was made with the same
  settings in each (:data:`METHOD_KEYS`: Epochs for PRO, OpqIterations for
  OPQ, ...);
- a rate point two runs share (same method and setting) has the same stream
  size and accuracy in both: coding is deterministic, so a difference means
  the runs are not what their settings say.

The merged result's config keeps the shared evaluation keys and, under
``MergedFrom``, each run's results.json, its sha256, the methods it gave and
its whole config, so the provenance of every column stays on record.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from ftm.errors import InputError
from ftm.rate_accuracy.config import METHOD_ORDER
from ftm.rate_accuracy.runner import RatePoint, SweepResult

__all__ = ["METHOD_KEYS", "merge_sweeps"]

_TRAINING = ("Epochs", "BatchSize", "LearningRate", "Seed")
_DMOFC = ("DmofcEpochs", "DmofcIterations", "DmofcLearningRate", "Margin", "FeatureHead", "HeadDims", "HeadEpochs", "Seed")
# The sweep keys that shape a method's points, besides the labelled set and the evaluation.
METHOD_KEYS: Dict[str, Tuple[str, ...]] = {
    "pq": ("CodeBits", "KmeansIterations", "Seed"),
    "opq": ("CodeBits", "KmeansIterations", "OpqIterations", "Seed"),
    "sq": ("SqScale",),
    "sq-e": ("SqScale", "Hidden") + _TRAINING,
    "pro": ("Hidden", "LatentDims", "RClip") + _TRAINING,
    "pro-e": ("Hidden", "LatentDims", "RClip", "EnhancerHidden") + _TRAINING,
    "dmofc-sim": _DMOFC,
    "dmofc-dis": _DMOFC,
    "dmofc-combined": _DMOFC,
}
_SET_KEYS = ("digest", "test", "dims", "sq_scale", "feature_head")
_EVALUATION_KEYS = ("Pairs", "Folds", "PairSeed", "QueryFraction")
_FLOAT_FIELDS = {f.name for f in fields(RatePoint) if f.type in ("float", float)}


def _point(entry: dict, where: str) -> RatePoint:
    """A RatePoint from results.json (whose NaNs JSON wrote as null)."""
    values = {}
    for f in fields(RatePoint):
        if f.name in entry:
            value = entry[f.name]
            values[f.name] = math.nan if value is None and f.name in _FLOAT_FIELDS else value
        elif f.default is MISSING:
            raise InputError(f"{where}: a rate point lacks {f.name!r}; is this a results.json of ftm-rate-accuracy?")
    return RatePoint(**values)


def _read(path: str) -> Tuple[dict, str]:
    try:
        raw = Path(path).read_bytes()
        run = json.loads(raw)
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: cannot read a sweep's results.json ({e})") from None
    if not isinstance(run, dict) or not all(k in run for k in ("config", "labelled_set", "reference", "points")):
        raise InputError(f"{path}: not a results.json of ftm-rate-accuracy (config, labelled_set, reference, points)")
    return run, hashlib.sha256(raw).hexdigest()


def _same(first: dict, other: dict, keys: Sequence[str], what: str, path: str, first_path: str) -> None:
    for key in keys:
        if first.get(key) != other.get(key):
            raise InputError(f"{path}: {what} {key} is {other.get(key)!r}, {first_path} has {first.get(key)!r}; "
                             "these sweeps cannot be merged")  # fmt: skip


def merge_sweeps(paths: Sequence[str]) -> SweepResult:
    """One SweepResult of the points of every run, checked as the module says; the first run's reference."""
    if len(paths) < 2:
        raise InputError("merging needs two or more results.json files")
    runs = [(str(p), *_read(p)) for p in paths]
    first_path, first, _ = runs[0]
    reference = _point(first["reference"], first_path)
    points: Dict[Tuple[str, str], Tuple[RatePoint, str]] = {}
    method_run: Dict[str, Tuple[str, dict]] = {}  # the first run giving each method
    sources: List[dict] = []
    for path, run, sha256 in runs:
        _same(first["labelled_set"], run["labelled_set"], _SET_KEYS, "the labelled set's", path, first_path)
        _same(first["config"], run["config"], _EVALUATION_KEYS, "the evaluation's", path, first_path)
        theirs = _point(run["reference"], path)
        if (theirs.accuracy, theirs.auc) != (reference.accuracy, reference.auc):
            raise InputError(f"{path}: the uncompressed accuracy differs from {first_path}'s; these sweeps cannot be merged")
        given = []
        for entry in run["points"]:
            p = _point(entry, path)
            if p.method not in METHOD_KEYS:
                raise InputError(f"{path}: unknown method {p.method!r}")
            earlier_path, earlier = method_run.setdefault(p.method, (path, run))
            if earlier is not run:
                _same(earlier["config"], run["config"], METHOD_KEYS[p.method], f"{p.method}'s setting", path, earlier_path)
            known = points.get((p.method, p.setting))
            if known is None:
                points[(p.method, p.setting)] = (p, path)
                given.append(p.method)
            elif (known[0].stream_bytes, known[0].accuracy) != (p.stream_bytes, p.accuracy):
                raise InputError(f"{path}: {p.method} {p.setting} coded to {p.stream_bytes} bytes at accuracy {p.accuracy:.4f}, "
                                 f"{known[1]} to {known[0].stream_bytes} bytes at {known[0].accuracy:.4f}; "
                                 "these sweeps cannot be merged")  # fmt: skip
        sources.append({"results": path, "sha256": sha256, "methods": list(dict.fromkeys(given)), "config": run["config"]})
    methods = [m for m in METHOD_ORDER if m in method_run]
    config = {key: first["config"].get(key) for key in ("LabelledSet",) + _EVALUATION_KEYS + ("BdMethod",)}
    config.update(Methods=methods, MergedFrom=sources)
    ordered = sorted(points.values(), key=lambda item: METHOD_ORDER.index(item[0].method))
    return SweepResult(config, dict(first["labelled_set"]), reference, [p for p, _ in ordered])
