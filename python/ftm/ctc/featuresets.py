"""The feature sets a matrix codes: folders from ftm-extract, or the bundled set, made once.

``FeatureSets : bundled`` names the set :func:`ftm.extract.pipeline.extract_feature_set`
makes from the photos bundled with scikit-image, scikit-learn and matplotlib
(every split point, the first ``Images`` inputs). The runner creates it in
``FeatureSetDir`` on the first run and reuses it afterwards; extraction is
deterministic, so a set made on another day or machine with the same
software holds the same tensors (the job ids, which hash each layer's
sha256, say whether it does).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Callable, Dict, Iterator

from ftm.errors import ConfigError, FolderBusyError
from ftm.ctc.config import BUNDLED, CtcConfig, feature_set_label

__all__ = ["FolderBusyError", "bundled_set_path", "file_lock", "open_feature_sets"]


@contextlib.contextmanager
def file_lock(path: Path, what: str, wait: bool = True) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (released when the process ends, even when killed)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise FolderBusyError(f"{what} is in use by another process (lock {path})") from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _model_label(cfg: CtcConfig) -> str:
    """A folder name for the model: FTM's name, or a factory's function and a digest of its reference and weights."""
    from ftm.models.factory import is_factory_reference, parse_reference

    if not is_factory_reference(cfg.model) and not cfg.weights:
        return cfg.model
    function = parse_reference(cfg.model)[1] if is_factory_reference(cfg.model) else cfg.model
    digest = hashlib.sha256(f"{cfg.model}\n{os.path.abspath(cfg.weights) if cfg.weights else ''}".encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9_.+-]', '_', function)}-{digest}"


def bundled_set_path(cfg: CtcConfig) -> Path:
    suffix = f"-first{cfg.images}" if cfg.images else ""
    return cfg.feature_set_root / f"{_model_label(cfg)}-{BUNDLED}{suffix}"


def _ensure_bundled(cfg: CtcConfig, log: Callable[[str], None]):
    from ftm.extract.featureset import read_feature_set

    path = bundled_set_path(cfg)
    with file_lock(path.parent / f".{path.name}.lock", f"the bundled feature set {path}"):
        if path.exists():
            fs = read_feature_set(path)
            if fs.model_name != cfg.model or (cfg.images and fs.count != cfg.images):
                raise ConfigError(
                    f"{path} holds {fs.count} images of {fs.model_name}, not what Model / Images ask for; "
                    "remove it or choose another FeatureSetDir"
                )
            return fs
        # a killed extraction leaves its temporary folder; nobody else can be writing it while we hold the lock
        for stale in path.parent.glob(f".{path.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        from ftm.extract.pipeline import extract_feature_set
        from ftm.models import load_network

        log(f"ftm-ctc: creating the bundled feature set {path} ({cfg.model}, "
            f"{cfg.images or 'all'} inputs, every split point)")  # fmt: skip
        weights = f", Weights : {cfg.weights}" if cfg.weights else ""
        return extract_feature_set(
            path, network=load_network(cfg.model, cfg.weights or None), limit=cfg.images or None,
            command=f"ftm-ctc (FeatureSets : {BUNDLED}, Model : {cfg.model}{weights}, Images : {cfg.images})",
        )  # fmt: skip


def open_feature_sets(cfg: CtcConfig, log: Callable[[str], None] = print, create: bool = True) -> Dict[str, object]:
    """``{label: FeatureSet}`` for every entry of FeatureSets, creating the bundled set when missing.

    With ``create=False`` a bundled set that does not exist yet is left out
    (``ftm-ctc --list`` runs nothing).
    """
    from ftm.extract.featureset import FeatureSetError, read_feature_set

    out: Dict[str, object] = {}
    for source in cfg.feature_sets:
        label = feature_set_label(source)
        if source == BUNDLED:
            if create or bundled_set_path(cfg).exists():
                out[label] = _ensure_bundled(cfg, log)
            continue
        if not os.path.isdir(source):
            raise ConfigError(f"{cfg.where('feature_sets')}: FeatureSets: {source} is not a folder (a feature set from ftm-extract)")
        try:
            out[label] = read_feature_set(source)
        except FeatureSetError as e:
            raise ConfigError(f"{cfg.where('feature_sets')}: FeatureSets: {e}") from None
    return out
