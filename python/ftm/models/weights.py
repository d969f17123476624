"""Weights files: their digest, checked against the one a registry entry pins.

A network's weights come from a package, a local file or the user, never
from the network. Where FTM knows the file (a package it names), the entry
pins its sha256 and loading refuses any other file, so that two feature sets
made with "the same model" are made with the same numbers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

from ftm.errors import ModelError

__all__ = ["file_sha256", "checked_weights"]


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checked_weights(path, expected_sha256: Optional[str], model: str) -> str:
    """The sha256 of the weights file ``path``; a ModelError when it is missing or differs from the pinned one."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{model}: weights file {str(p)!r} does not exist")
    digest = file_sha256(p)
    if expected_sha256 is not None and digest != expected_sha256:
        raise ModelError(
            f"{model}: weights file {str(p)!r} has sha256 {digest}, expected {expected_sha256}: "
            "it is not the file this model is pinned to (reinstall the package that ships it, or give the right file)"
        )
    return digest
