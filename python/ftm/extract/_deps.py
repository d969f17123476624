"""Optional dependencies of ftm.extract, imported only when used."""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA_HINT = 'pip install "ftm[extract]"'


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise an ImportError that names FTM's "extract" extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the Python package {module!r}, which is part of FTM's optional "
            f'"extract" extra: {EXTRA_HINT}'
        ) from exc
