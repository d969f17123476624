"""Optional dependencies, imported only where they are used.

torch, scikit-image, Dask and the like sit behind the package's extras so
that the core install stays light; :func:`require` imports one and, when it
is missing, raises an ImportError that says which extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRA_HINT", "install_hint", "require"]


def install_hint(extra: str = "extract") -> str:
    return f'pip install "ftm[{extra}]"'


EXTRA_HINT = install_hint("extract")


def require(module: str, purpose: str, extra: str = "extract") -> ModuleType:
    """Import ``module`` or raise an ImportError that names FTM's extra providing it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the Python package {module!r}, which is part of FTM's optional "
            f'"{extra}" extra: {install_hint(extra)}'
        ) from exc
