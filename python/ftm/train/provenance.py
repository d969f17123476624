"""The header of a trained model file: architecture, hyper-parameters, training set, seed, versions."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Dict, Optional

from ftm._version import __version__
from ftm.codecs.learned.model_file import FORMAT, FORMAT_VERSION

__all__ = ["model_header", "software_versions"]


def software_versions() -> Dict[str, str]:
    out = {}
    for dist in ("ftm", "numpy", "torch", "faiss-cpu", "safetensors"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return out


def model_header(method: str, dims: int, architecture: dict, hyperparameters: dict, data, seed: int, result,
                 command: Optional[str] = None) -> dict:  # fmt: skip
    """A model file's header (:mod:`ftm.codecs.learned.model_file`) for a model trained on ``data``'s train split."""
    source = (data.manifest or {}).get("source") or {}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "ftm_version": __version__,
        "method": method,
        "dims": int(dims),
        "architecture": architecture,
        "hyperparameters": hyperparameters,
        "training_set": {
            "digest": data.digest,
            "train_vectors": int((data.split == 0).sum()),
            "source": source.get("kind", "unknown"),
            "path": str(data.path) if data.path is not None else None,
        },
        "seed": int(seed),
        "software": software_versions(),
        "training": {
            "seconds": round(float(result.seconds), 3),
            "epoch_losses": [float(v) for v in result.losses],
            "last_epoch": dict(result.report),
        },
        "command": command,
    }
